/*
 * DESIGN.  The engine interprets struct cfg_workflow with a closed set of
 * actions (assign-owner, task, mail, close-tasks) and guards (auto-approve,
 * needs-approval).  wf_fire finds the first transition of the current state
 * for the event whose guard holds, records the move in the history, runs
 * the transition's actions, sets the new state and runs its entry actions.
 * Entry actions may fire further events (assign-owner fires "assigned");
 * a depth limit stops a workflow file that loops.
 */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "calcdb.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "doc.h"
#include "log.h"
#include "outbox.h"
#include "reply.h"
#include "store.h"
#include "task.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

#define MAX_DEPTH 8

static int fire(struct app *app, int64_t project, const char *event, struct wf_ctx *ctx,
    int depth);

int
wf_required_level(const struct app *app, int64_t net, const char *currency)
{
	const struct cfg_approval *a = &app->cfg->approval;
	int64_t pln = net;
	if (currency && strcmp(currency, "EUR") == 0)
		pln = (net * a->eur_rate + 5000) / 10000;
	if (pln <= a->auto_approve)
		return 0;
	for (size_t i = 0; i < a->nbands; i++)
		if (a->bands[i].up_to < 0 || pln <= a->bands[i].up_to)
			return (int)a->bands[i].level;
	return ROLE_BOARD;
}

static int checks_confirmed(struct app *app, int64_t project);

static int
guard_holds(struct app *app, int64_t project, const char *guard)
{
	if (!guard)
		return 1;
	if (strcmp(guard, "checks-confirmed") == 0)
		return checks_confirmed(app, project);
	int64_t calc = calcdb_current(app, project);
	struct calc_head h;
	if (calc <= 0 || calcdb_head(app, calc, &h) < 0)
		return 0;
	int level = wf_required_level(app, h.net, h.currency);
	if (strcmp(guard, "auto-approve") == 0)
		return level == 0;
	if (strcmp(guard, "needs-approval") == 0)
		return level != 0;
	return 0;
}

/* Every check-* task of the project is done with CONFIRM. */
static int
checks_confirmed(struct app *app, int64_t project)
{
	int64_t all = 0, ok = 0;
	db_1i(app->db, &all, "SELECT count(*) FROM tasks WHERE project_id=?1 AND kind LIKE 'check-%'",
	    "i", project);
	db_1i(app->db, &ok,
	    "SELECT count(*) FROM tasks WHERE project_id=?1 AND kind LIKE 'check-%'"
	    " AND status='done' AND result='CONFIRM'", "i", project);
	return all > 0 && all == ok;
}

/* The user a target names, 0 when there is none. */
static int64_t
resolve(struct app *app, int64_t project, const char *target)
{
	int64_t id = 0;
	if (strcmp(target, "owner") == 0) {
		db_1i(app->db, &id, "SELECT coalesce(owner_id,0) FROM projects WHERE id=?1", "i",
		    project);
	} else if (strcmp(target, "approver") == 0 || strcmp(target, "author") == 0) {
		int64_t calc = calcdb_current(app, project);
		struct calc_head h;
		if (calc > 0 && calcdb_head(app, calc, &h) == 0)
			id = strcmp(target, "approver") == 0 ? h.approver : h.author;
		if (!id && strcmp(target, "author") == 0)
			return resolve(app, project, "owner");
	} else if (strcmp(target, "supervisor") == 0) {
		/* The owner's direct supervisor. */
		int64_t owner = resolve(app, project, "owner");
		const struct cfg_user *o = owner ? store_user_cfg(app, owner) : NULL;
		const struct cfg_user *s = o && o->supervisor ? config_user(app->cfg, o->supervisor) : NULL;
		id = s ? store_user_id(app->db, s->login) : 0;
	} else if (strncmp(target, "role:", 5) == 0) {
		enum role r;
		const struct cfg_user *u = role_parse(target + 5, &r) == 0
		                               ? config_user_by_role(app->cfg, r)
		                               : NULL;
		id = u ? store_user_id(app->db, u->login) : 0;
	} else if (strncmp(target, "user:", 5) == 0) {
		id = store_user_id(app->db, target + 5);
	}
	return id < 0 ? 0 : id;
}

/* Mail to the client from a template, threaded under ctx->thread_id, within
 * the per-sender limit on automatic mail. */
static int
mail_client(struct app *app, int64_t project, const struct wf_action *a, struct wf_ctx *ctx)
{
	const char *tmpl = a->tmpl;
	char *cnum = NULL, *ctext = NULL, *enc_text = NULL, *enc_html = NULL;
	const struct config *cfg = app->cfg;
	char *title = NULL, *client = NULL, *cname = NULL, *cmail = NULL, *lang = NULL;
	int64_t owner = 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT p.title, c.name, ct.name, ct.email, p.lang, coalesce(p.owner_id,0)"
	    " FROM projects p JOIN clients c ON c.id=p.client_id"
	    " LEFT JOIN contacts ct ON ct.id=p.contact_id WHERE p.id=?1",
	    "i", project);
	if (!q || db_step(q) != 1) {
		if (q)
			db_done(q);
		return -1;
	}
	title = xstrdup(db_text(q, 0));
	client = xstrdup(db_text(q, 1));
	cname = xstrdup(db_text(q, 2));
	cmail = xstrdup(db_text(q, 3));
	lang = xstrdup(db_text(q, 4));
	owner = db_int(q, 5);
	db_done(q);
	int r = 0;
	if (!cmail)
		goto out;
	int sent = outbox_auto_count(app, cmail);
	if (sent < 0) {
		r = -1;
		goto out;
	}
	if (sent >= cfg->limits.auto_replies_per_hour) {
		r = hist_add(app->db, project, ctx->message, "system", "mail-suppressed",
		        "%s not sent: %d automatic mails to %s in the last hour", tmpl, sent,
		        cmail) < 0 ? -1 : 0;
		goto out;
	}
	/* The latest complaint case, for the complaint mails. */
	db_1s(app->db, &cnum, "SELECT number FROM complaints WHERE project_id=?1 ORDER BY id DESC"
	                      " LIMIT 1", "i", project);
	db_1s(app->db, &ctext, "SELECT decision_text FROM complaints WHERE project_id=?1"
	                       " ORDER BY id DESC LIMIT 1", "i", project);
	/* An inquiry that came encrypted: the client learns at once that it
	 * could not be read (ack.txt's {{encrypted_note}}). */
	char kind[64];
	int enc = hist_encrypted(app->db, project, ctx->message, kind, sizeof(kind));
	if (enc < 0) {
		r = -1;
		goto out;
	}
	int de = strcmp(lang, "de") == 0;
	const char *enc1 = de ? "Ihre Nachricht kam verschlüsselt bei uns an, und wir können sie"
	                        " nicht lesen."
	                      : "Wiadomość dotarła do nas zaszyfrowana i nie możemy jej odczytać.";
	const char *enc2 = de ? "Bitte senden Sie sie uns noch einmal unverschlüsselt."
	                      : "Prosimy o przesłanie jej ponownie bez szyfrowania.";
	enc_text = enc ? xasprintf("%s\n%s\n\n", enc1, enc2) : xstrdup("");
	enc_html = enc ? xasprintf("<p><strong>%s %s</strong></p>", enc1, enc2) : xstrdup("");
	/* Without an owner yet, the client is told who to write to: BOK. */
	const struct cfg_user *o = owner ? store_user_cfg(app, owner) : NULL;
	char pb[32];
	snprintf(pb, sizeof(pb), "%lld", (long long)project);
	struct tmpl_var v[] = {
	    {"project", pb}, {"subject", title}, {"client_name", client},
	    {"contact_name", cname}, {"contact_email", cmail},
	    {"owner_name", o ? o->name : cfg->company.name},
	    {"owner_email", o ? o->email : cfg->system_address},
	    {"owner_phone", o && o->phone ? o->phone : cfg->company.phone},
	    {"company_name", cfg->company.name}, {"company_address", cfg->company.address},
	    {"company_city", cfg->company.city}, {"company_phone", cfg->company.phone},
	    {"company_email", cfg->company.email}, {"company_www", cfg->company.www},
	    {"system_address", cfg->system_address},
	    {"complaint_number", cnum ? cnum : ""}, {"reply_text", ctext ? ctext : ""},
	    {"encrypted_note", enc_text}, {"encrypted_note_html", enc_html},
	};
	struct tmpl_mail t;
	char err[512];
	if (tmpl_mail_render(cfg->templates_dir, lang, tmpl, v, ARRAY_LEN(v), &t, err,
	        sizeof(err)) < 0) {
		log_error("event=template_failed template=%s error=%s", tmpl, log_q(err));
		r = -1;
		goto out;
	}
	const char *refs[1] = {ctx->thread_id};
	struct mail_out mo = {
	    .from_name = cfg->system_name, .from_addr = cfg->system_address,
	    .to_name = cname, .to_addr = cmail, .subject = t.subject, .text = t.text,
	    .html = t.html, .auto_generated = 1, .loop_id = cfg->system_address,
	    .project = project, .in_reply_to = ctx->thread_id, .refs = refs,
	    .nrefs = ctx->thread_id ? 1 : 0,
	};
	if (a->cc && o) {
		mo.cc_name = o->name;
		mo.cc_addr = o->email;
	}
	/* An open task that waits for the client's acceptance gives the mail
	 * a signed reply address and an accept link for the client. */
	int64_t wait_task = 0, contact = 0;
	db_1i(app->db, &wait_task,
	    "SELECT id FROM tasks WHERE project_id=?1 AND status='open'"
	    " AND (' ' || actions || ' ') LIKE '% accepted %' ORDER BY id DESC LIMIT 1", "i", project);
	db_1i(app->db, &contact, "SELECT coalesce(contact_id,0) FROM projects WHERE id=?1", "i",
	    project);
	char *reply_to = NULL, *text = NULL;
	if (wait_task && contact && app->have_key) {
		struct token_claims cl = {.task = wait_task, .user = contact,
		    .actions = TOKEN_CLIENT | (1u << CMD_ACCEPTED),
		    .expires = now_epoch() + 30 * 86400};
		char token[TOKEN_MAX + 1];
		token_make(app->key, &cl, token);
		const char *at = strchr(cfg->system_address, '@');
		reply_to = xasprintf("%.*s+%s%s", (int)(at - cfg->system_address), cfg->system_address,
		    token, at);
		const char *word = de ? "ANGENOMMEN" : "AKCEPTUJĘ OFERTĘ";
		text = xasprintf("%s\n%s\n  mailto:%s?subject=%%5BINK-%lld%%5D%%20%s&body=%s%%0D%%0A%%0D%%0A"
		                 "inkflow-token%%3A%%20%s\n",
		    t.text, de ? "Annahme mit einem Klick:" : "Akceptacja jednym kliknięciem:", reply_to,
		    (long long)project, de ? "ANGENOMMEN" : "AKCEPTUJ%C4%98%20OFERT%C4%98",
		    de ? "ANGENOMMEN" : "AKCEPTUJ%C4%98%20OFERT%C4%98", token);
		(void)word;
		mo.reply_to = reply_to;
		mo.text = text;
	}
	/* A document travels attached; the rep is answered the same thread. */
	struct mail_att_out att = {0};
	char *pdf = NULL, *fname = NULL, *number = NULL;
	if (a->attach) {
		int64_t doc = doc_latest(app, project, a->attach);
		if (doc <= 0 || doc_load(app, doc, &pdf, &att.len, &fname, &number) < 0) {
			log_error("event=attach_failed project=%lld kind=%s", (long long)project,
			    a->attach);
			tmpl_mail_free(&t);
			r = -1;
			goto out;
		}
		att.filename = fname;
		att.content_type = "application/pdf";
		att.data = pdf;
		mo.atts = &att;
		mo.natts = 1;
		/* Reply-To: the rep, so the client's answer reaches a person too. */
	}
	if (outbox_queue(app, project, tmpl, &mo, NULL) < 0)
		r = -1;
	else
		ctx->replies++;
	free(pdf);
	free(fname);
	free(number);
	free(reply_to);
	free(text);
	tmpl_mail_free(&t);
out:
	free(cnum);
	free(ctext);
	free(enc_text);
	free(enc_html);
	free(title);
	free(client);
	free(cname);
	free(cmail);
	free(lang);
	return r;
}


/* BOK is asked to name the owner when nobody looks after the client. */
static int
ask_bok_to_assign(struct app *app, int64_t project, struct wf_ctx *ctx)
{
	const struct cfg_user *bok = config_user_by_role(app->cfg, ROLE_BOK);
	if (!bok)
		bok = config_user_by_role(app->cfg, ROLE_ADMIN);
	if (!bok)
		return 0;
	char *client = NULL;
	db_1s(app->db, &client,
	    "SELECT c.name || coalesce(' <' || ct.email || '>','') FROM projects p"
	    " JOIN clients c ON c.id=p.client_id LEFT JOIN contacts ct ON ct.id=p.contact_id"
	    " WHERE p.id=?1", "i", project);
	int de = strcmp(bok->lang, "de") == 0;
	struct sbuf d = {0};
	sb_printf(&d, de ? "Neuer Kunde %s ohne Betreuer. Antworten Sie mit ASSIGN und dem Login:"
	                 : "Nowy klient %s bez opiekuna. Odpowiedz ASSIGN i login opiekuna:",
	    client ? client : "?");
	for (size_t i = 0; i < app->cfg->nusers; i++)
		if (app->cfg->users[i].role == ROLE_REP)
			sb_printf(&d, "\n  ASSIGN %s  (%s)", app->cfg->users[i].login,
			    app->cfg->users[i].name);
	free(client);
	char *desc = sb_steal(&d);
	int64_t uid = store_user_id(app->db, bok->login);
	int64_t t = task_open(app, project, ctx->message, "assign-rep", uid,
	    de ? "Kundenbetreuer zuweisen" : "Przydziel opiekuna klienta", desc,
	    (1u << CMD_ASSIGN) | (1u << CMD_NOTE), now_epoch() + 86400, NULL, &ctx->replies);
	free(desc);
	return t < 0 ? -1 : 0;
}

static int
run_actions(struct app *app, int64_t project, const struct wf_action *v, size_t n,
    struct wf_ctx *ctx, int depth)
{
	for (size_t i = 0; i < n; i++) {
		const struct wf_action *a = &v[i];
		switch (a->kind) {
		case WA_ASSIGN_OWNER: {
			int64_t owner = resolve(app, project, "owner");
			if (owner) {
				if (fire(app, project, "assigned", ctx, depth + 1) < 0)
					return -1;
			} else if (ask_bok_to_assign(app, project, ctx) < 0)
				return -1;
			break;
		}
		case WA_TASK: {
			int64_t who = resolve(app, project, a->target);
			if (!who) {
				/* Nobody fills the role: tell the admin in the history. */
				if (hist_add(app->db, project, ctx->message, "system", "task-unassigned",
				        "no user for \"%s\"; task %s not created", a->target,
				        a->task_kind) < 0)
					return -1;
				log_warn("event=task_unassigned project=%lld target=%s kind=%s",
				    (long long)project, a->target, a->task_kind);
				break;
			}
			const struct cfg_user *u = store_user_cfg(app, who);
			const char *title = u && strcmp(u->lang, "de") == 0 ? a->title_de : a->title_pl;
			if (task_open(app, project, ctx->message, a->task_kind, who, title, ctx->reason,
			        a->actions, a->due ? now_epoch() + a->due : 0, a->attach,
			        &ctx->replies) < 0)
				return -1;
			break;
		}
		case WA_MAIL:
			if (strcmp(a->target, "client") == 0 && ctx->quiet_client) {
				if (hist_add(app->db, project, ctx->message, "system", "mail-skipped",
				        "\"%s\" not sent to the client: the inquiry came forwarded by "
				        "a staff member", a->tmpl) < 0)
					return -1;
			} else if (strcmp(a->target, "client") == 0) {
				if (mail_client(app, project, a, ctx) < 0)
					return -1;
			} else {
				log_warn("event=mail_action_skipped target=%s", a->target);
			}
			break;
		case WA_DOCUMENT: {
			char err[512];
			if (doc_render(app, project, a->doc_kind, err, sizeof(err)) < 0) {
				log_error("event=document_failed project=%lld kind=%s error=%s",
				    (long long)project, a->doc_kind, log_q(err));
				return -1;
			}
			break;
		}
		case WA_OPINIONS: {
			/* Everyone who had a task on the project, once each. */
			struct db_stmt *q = db_q(app->db,
			    "SELECT DISTINCT assignee_id FROM tasks WHERE project_id=?1"
			    " AND kind NOT IN ('complaint-review','complaint-opinion','complaint-decision')"
			    " ORDER BY assignee_id", "i", project);
			int64_t who[64];
			size_t nwho = 0;
			while (q && nwho < 64 && db_step(q) == 1)
				who[nwho++] = db_int(q, 0);
			if (q)
				db_done(q);
			for (size_t k = 0; k < nwho; k++) {
				const struct cfg_user *u = store_user_cfg(app, who[k]);
				if (!u)
					continue;
				const char *title = strcmp(u->lang, "de") == 0 ? a->title_de : a->title_pl;
				if (task_open(app, project, ctx->message, a->task_kind, who[k], title,
				        ctx->reason, a->actions, a->due ? now_epoch() + a->due : 0, "message",
				        &ctx->replies) < 0)
					return -1;
			}
			break;
		}
		case WA_CLOSE_TASKS: {
			struct db_stmt *q = db_q(app->db, "SELECT id FROM tasks WHERE project_id=?1"
			                                  " AND kind=?2 AND status='open'", "it", project,
			    a->task_kind);
			int64_t ids[64];
			size_t nids = 0;
			while (q && nids < 64 && db_step(q) == 1)
				ids[nids++] = db_int(q, 0);
			if (q)
				db_done(q);
			for (size_t k = 0; k < nids; k++)
				if (task_close(app, ids[k], 0, "superseded") < 0)
					return -1;
			break;
		}
		}
	}
	return 0;
}

static int
enter_state(struct app *app, int64_t project, const struct wf_state *st, struct wf_ctx *ctx,
    int depth)
{
	if (db_x(app->db, "UPDATE projects SET state=?2, updated=?3 WHERE id=?1", "iti", project,
	        st->name, now_epoch()) < 0)
		return -1;
	return run_actions(app, project, st->enter, st->nenter, ctx, depth);
}

int
wf_start(struct app *app, int64_t project, struct wf_ctx *ctx)
{
	const struct wf_state *st = config_state(app->cfg, app->cfg->workflow->initial);
	if (!st)
		return -1;
	return enter_state(app, project, st, ctx, 0);
}

static int
fire(struct app *app, int64_t project, const char *event, struct wf_ctx *ctx, int depth)
{
	if (depth > MAX_DEPTH) {
		log_error("event=workflow_loop project=%lld event=%s", (long long)project, event);
		return -1;
	}
	char *state = NULL;
	if (db_1s(app->db, &state, "SELECT state FROM projects WHERE id=?1", "i", project) != 1)
		return -1;
	const struct wf_state *st = config_state(app->cfg, state);
	const struct wf_transition *t = NULL;
	for (size_t i = 0; st && i < st->non && !t; i++)
		if (strcmp(st->on[i].event, event) == 0 && guard_holds(app, project, st->on[i].guard))
			t = &st->on[i];
	if (!t) {
		log_info("event=workflow_ignored project=%lld state=%s wf_event=%s",
		    (long long)project, state, event);
		free(state);
		return 0;
	}
	const struct wf_state *to = config_state(app->cfg, t->to);
	int r = hist_add(app->db, project, ctx->message, ctx->actor_name ? ctx->actor_name : "system",
	    "transition", "%s → %s (%s)", state, t->to, event) < 0 ? -1 : 0;
	log_info("event=transition project=%lld from=%s to=%s wf_event=%s", (long long)project,
	    state, t->to, event);
	free(state);
	if (r < 0 || !to)
		return -1;
	if (run_actions(app, project, t->actions, t->nactions, ctx, depth) < 0)
		return -1;
	if (!t->run_enter)
		return db_x(app->db, "UPDATE projects SET state=?2, updated=?3 WHERE id=?1", "iti",
		           project, to->name, now_epoch()) < 0 ? -1 : 1;
	return enter_state(app, project, to, ctx, depth) < 0 ? -1 : 1;
}

int
wf_fire(struct app *app, int64_t project, const char *event, struct wf_ctx *ctx)
{
	return fire(app, project, event, ctx, 0);
}
