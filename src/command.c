#include "command.h"

#include "complaint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "calc.h"
#include "calcdb.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "task.h"
#include "tmpl.h"
#include "util.h"
#include "workflow.h"

struct tk {
	int64_t id, project, assignee, closed_by, closed;
	char *kind, *title, *status, *actions, *result;
};

static void
tk_free(struct tk *t)
{
	free(t->kind);
	free(t->title);
	free(t->status);
	free(t->actions);
	free(t->result);
}

static int
tk_load(struct app *app, int64_t id, struct tk *t)
{
	memset(t, 0, sizeof(*t));
	struct db_stmt *q = db_q(app->db,
	    "SELECT id, coalesce(project_id,0), assignee_id, coalesce(closed_by,0),"
	    " coalesce(closed,0), kind, title, status, actions, result FROM tasks WHERE id=?1",
	    "i", id);
	if (!q)
		return -1;
	int rc = db_step(q);
	if (rc == 1) {
		t->id = db_int(q, 0);
		t->project = db_int(q, 1);
		t->assignee = db_int(q, 2);
		t->closed_by = db_int(q, 3);
		t->closed = db_int(q, 4);
		t->kind = xstrdup(db_text(q, 5));
		t->title = xstrdup(db_text(q, 6));
		t->status = xstrdup(db_text(q, 7));
		t->actions = xstrdup(db_text(q, 8));
		t->result = xstrdup(db_text(q, 9));
	}
	db_done(q);
	return rc == 1 ? 0 : rc < 0 ? -1 : 1;
}

/* 1 when the task's action words include cmd. */
static int
allows(const struct tk *t, enum reply_cmd cmd)
{
	char *w = str_lower(xstrdup(reply_cmd_name(cmd)));
	int found = 0;
	char *copy = xstrdup(t->actions ? t->actions : "");
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (strcmp(tok, w) == 0)
			found = 1;
	free(copy);
	free(w);
	return found;
}

static void
say(struct cmd_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
say(struct cmd_outcome *o, const char *fmt, ...)
{
	struct sbuf sb = {0};
	if (o->text)
		sb_adds(&sb, o->text);
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(o->text);
	o->text = sb_steal(&sb);
}

static const char *
login_of(struct app *app, int64_t user)
{
	const struct cfg_user *u = store_user_cfg(app, user);
	return u ? u->login : "?";
}

static int
de_user(struct app *app, int64_t user)
{
	const struct cfg_user *u = store_user_cfg(app, user);
	return u && strcmp(u->lang, "de") == 0;
}

static int
level_of(enum role r)
{
	return r == ROLE_SUPERVISOR ? 1 : r == ROLE_SALES_DIRECTOR ? 2 : r == ROLE_BOARD ? 3 : 0;
}

/* The approver the rules suggest for author at level: up the supervisor
 * chain to the first person of that level or higher. */
static const struct cfg_user *
suggest_approver(struct app *app, int64_t author, int level)
{
	const struct cfg_user *u = store_user_cfg(app, author);
	for (int hops = 0; u && hops < 16; hops++) {
		const struct cfg_user *s = u->supervisor ? config_user(app->cfg, u->supervisor) : NULL;
		if (!s)
			break;
		if (level_of(s->role) >= level)
			return s;
		u = s;
	}
	/* No chain reaches it: the first person of that level. */
	for (int l = level; l <= 3; l++)
		for (size_t i = 0; i < app->cfg->nusers; i++)
			if (level_of(app->cfg->users[i].role) == l)
				return &app->cfg->users[i];
	return NULL;
}

/* Project language and currency. */
static void
project_lc(struct app *app, int64_t project, char lang[3], char cur[4], int *reverse)
{
	memcpy(lang, "pl", sizeof("pl"));
	memcpy(cur, "PLN", sizeof("PLN"));
	*reverse = 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT p.lang, p.currency, coalesce(c.vat_id,'') FROM projects p"
	    " JOIN clients c ON c.id=p.client_id WHERE p.id=?1", "i", project);
	if (q && db_step(q) == 1) {
		snprintf(lang, 3, "%s", db_text(q, 0));
		snprintf(cur, 4, "%s", db_text(q, 1));
		const char *vat = db_text(q, 2);
		/* EU business client outside Poland with a VAT id: reverse charge. */
		*reverse = vat && strlen(vat) > 2 && !str_istarts(vat, "PL");
	}
	if (q)
		db_done(q);
}

/* Parse and store calculation lines.  Returns the new calculation id, 0
 * when the text had errors (reported in o) or no lines, -1 on error. */
static int64_t
store_lines(struct app *app, const struct tk *t, int64_t user, const char *text,
    const char *status, struct cmd_outcome *o, int *submit, char **submit_to)
{
	char lang[3], cur[4];
	int reverse;
	project_lc(app, t->project, lang, cur, &reverse);
	struct calc_parse p;
	calc_parse_text(app->cfg, cur, text, &p);
	int de = de_user(app, user);
	if (p.nerrors) {
		say(o, de ? "Die Kalkulation wurde NICHT geändert – Fehler:\n"
		          : "Kalkulacja NIE została zmieniona – błędy:\n");
		for (size_t i = 0; i < p.nerrors; i++)
			say(o, "  %s\n", p.errors[i].message);
		calc_parse_free(&p);
		return 0;
	}
	if (submit)
		*submit = p.submit;
	if (submit_to && p.submit_to)
		*submit_to = xstrdup(p.submit_to);
	if (!p.nitems) {
		calc_parse_free(&p);
		return 0;
	}
	struct calc_result r;
	calc_price(app->cfg, &p, cur, lang, reverse, &r);
	if (r.error) {
		say(o, "%s\n", r.error);
		calc_result_free(&r);
		calc_parse_free(&p);
		return 0;
	}
	int64_t id = calcdb_save(app, t->project, user, cur, text, &r, status);
	calc_parse_free(&p);
	if (id > 0) {
		char net[48];
		calc_money(r.net, cur, "pl", net, sizeof(net));
		struct calc_head h;
		calcdb_head(app, id, &h);
		if (hist_add(app->db, t->project, 0, login_of(app, user), "calculation",
		        "calculation v%lld: %zu lines, net %s", (long long)h.version, r.nlines, net) < 0)
			id = -1;
	}
	calc_result_free(&r);
	return id;
}

static int
do_submit(struct app *app, const struct tk *t, const struct cmd_input *in, const char *to,
    struct cmd_outcome *o, struct wf_ctx *ctx)
{
	int de = de_user(app, in->user);
	int64_t calc = calcdb_current(app, t->project);
	struct calc_head h;
	if (calc <= 0 || calcdb_head(app, calc, &h) < 0) {
		say(o, de ? "Es gibt noch keine Kalkulation zum Einreichen.\n"
		          : "Nie ma jeszcze kalkulacji do wysłania.\n");
		return 0;
	}
	int level = wf_required_level(app, h.net, h.currency);
	const struct cfg_user *approver = NULL;
	if (level) {
		approver = to ? config_user(app->cfg, to) : suggest_approver(app, h.author, level);
		static const char *names[] = {"", "supervisor", "sales-director", "board"};
		if (to && !approver) {
			say(o, de ? "SUBMIT: Benutzer „%s“ unbekannt; nichts eingereicht.\n"
			          : "SUBMIT: nie ma użytkownika „%s”; nic nie wysłano.\n", to);
			return 0;
		}
		if (!approver || level_of(approver->role) < level) {
			say(o, de ? "SUBMIT: %s kann diesen Betrag nicht genehmigen – nötig ist mindestens "
			            "%s. Nichts eingereicht.\n"
			          : "SUBMIT: %s nie może zatwierdzić tej kwoty – wymagany poziom to co "
			            "najmniej %s. Nic nie wysłano.\n",
			    approver ? approver->login : "?", names[level]);
			return 0;
		}
		if (approver && strcmp(approver->login, login_of(app, in->user)) == 0) {
			say(o, de ? "SUBMIT: Eigene Kalkulationen genehmigt eine andere Person.\n"
			          : "SUBMIT: własnej kalkulacji nie można zatwierdzić samemu.\n");
			return 0;
		}
	}
	int64_t aid = approver ? store_user_id(app->db, approver->login) : 0;
	if (calcdb_set_status(app, calc, level ? "submitted" : "approved", aid) < 0 ||
	    task_close(app, t->id, in->user, "SUBMIT") < 0)
		return -1;
	char net[48];
	calc_money(h.net, h.currency, de ? "de" : "pl", net, sizeof(net));
	if (hist_add(app->db, t->project, in->message, login_of(app, in->user), "submitted",
	        "calculation v%lld (net %s) submitted%s%s", (long long)h.version, net,
	        approver ? " to " : ", approved automatically (under the limit)",
	        approver ? approver->login : "") < 0)
		return -1;
	if (wf_fire(app, t->project, "submit", ctx) < 0)
		return -1;
	o->calc = calc;
	o->done = 1;
	if (approver)
		say(o, de ? "Kalkulation v%lld (netto %s) an %s zur Genehmigung eingereicht.\n"
		          : "Kalkulacja v%lld (netto %s) wysłana do zatwierdzenia: %s.\n",
		    (long long)h.version, net, approver->name);
	else
		say(o, de ? "Kalkulation v%lld (netto %s) liegt unter dem Limit und ist genehmigt.\n"
		          : "Kalkulacja v%lld (netto %s) mieści się w limicie i jest zatwierdzona.\n",
		    (long long)h.version, net);
	return 0;
}

/* The candidate file of a confirm-signed-order task becomes the signed
 * order document.  1 stored, 0 nothing to store (said in o), -1 error. */
static int
store_signed(struct app *app, const struct tk *t, const struct cmd_input *in,
    struct cmd_outcome *o)
{
	int64_t msg = 0;
	db_1i(app->db, &msg, "SELECT coalesce(message_id,0) FROM tasks WHERE id=?1", "i", t->id);
	char *path = NULL, *sha = NULL;
	int64_t size = 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT path, sha256, size FROM attachments WHERE message_id=?1 AND embedded=0 AND"
	    " (content_type='application/pdf' OR content_type LIKE 'image/%') ORDER BY"
	    " content_type='application/pdf' DESC, id LIMIT 1", "i", msg);
	if (q && db_step(q) == 1) {
		path = xstrdup(db_text(q, 0));
		sha = xstrdup(db_text(q, 1));
		size = db_int(q, 2);
	}
	if (q)
		db_done(q);
	if (!path) {
		say(o, de_user(app, in->user) ? "Keine Datei zum Speichern gefunden.\n"
		                              : "Nie znaleziono pliku do zapisania.\n");
		return 0;
	}
	char *order = NULL;
	db_1s(app->db, &order,
	    "SELECT number FROM documents WHERE project_id=?1 AND kind='order' ORDER BY id DESC"
	    " LIMIT 1", "i", t->project);
	char *number = xasprintf("%s-P", order ? order : "ZA");
	int r = db_x(app->db,
	    "INSERT INTO documents(project_id,kind,number,lang,path,sha256,size,created)"
	    " SELECT ?1,'signed-order',?2,lang,?3,?4,?5,?6 FROM projects WHERE id=?1",
	    "ittti" "i", t->project, number, path, sha, size, now_epoch()) < 0 ||
	    hist_add(app->db, t->project, in->message, login_of(app, in->user), "document",
	        "signed order %s stored (%lld bytes, sha256 %.16s…)", number, (long long)size, sha) < 0;
	free(order);
	free(number);
	free(path);
	free(sha);
	return r ? -1 : 1;
}

int
cmd_execute(struct app *app, const struct cmd_input *in, struct cmd_outcome *o)
{
	memset(o, 0, sizeof(*o));
	struct tk t;
	int rc = tk_load(app, in->task, &t);
	if (rc < 0)
		return -1;
	int de = de_user(app, in->user);
	if (rc == 1) {
		o->title = xstrdup(de ? "Aufgabe unbekannt" : "Nieznane zadanie");
		say(o, de ? "Aufgabe %lld gibt es nicht.\n" : "Nie ma zadania %lld.\n",
		    (long long)in->task);
		return 0;
	}
	o->project = t.project;
	o->title = xasprintf("%s: %s", reply_cmd_name(in->cmd == CMD_NONE ? CMD_SUBMIT : in->cmd),
	    t.title);
	if (in->cmd == CMD_NONE && !in->text) {
		say(o, "?\n");
		goto out;
	}
	if (strcmp(t.status, "open") != 0) {
		/* A spent link: say who did what and when. */
		char when[32] = "?";
		time_t tt = (time_t)t.closed;
		struct tm tm;
		if (!localtime_r(&tt, &tm) || !strftime(when, sizeof(when), "%d.%m.%Y %H:%M", &tm))
			snprintf(when, sizeof(when), "?");
		free(o->title);
		o->title = xstrdup(de ? "Bereits erledigt" : "Już wykonane");
		say(o, de ? "Diese Aufgabe („%s“) wurde bereits erledigt: %s von %s am %s.\n"
		            "Es wurde nichts geändert.\n"
		          : "To zadanie („%s”) zostało już wykonane: %s, %s, %s.\n"
		            "Niczego nie zmieniono.\n",
		    t.title, t.result ? t.result : t.status,
		    t.closed_by ? login_of(app, t.closed_by) : "system", when);
		goto out;
	}
	if (in->user != t.assignee) {
		say(o, de ? "Diese Aufgabe ist einer anderen Person zugewiesen; nichts geändert.\n"
		          : "To zadanie jest przypisane innej osobie; niczego nie zmieniono.\n");
		goto out;
	}
	enum reply_cmd cmd = in->cmd;
	int calc_task = allows(&t, CMD_SUBMIT);
	if (cmd == CMD_NONE && !calc_task) {
		say(o, de ? "In der ersten Zeile steht kein Befehl. Möglich: %s\n"
		          : "W pierwszej linii nie ma polecenia. Możliwe: %s\n", t.actions);
		goto out;
	}
	if (cmd != CMD_NONE && !allows(&t, cmd)) {
		say(o, de ? "%s ist für diese Aufgabe nicht vorgesehen. Möglich: %s\n"
		          : "%s nie dotyczy tego zadania. Możliwe: %s\n", reply_cmd_name(cmd), t.actions);
		goto out;
	}
	struct wf_ctx ctx = {.actor = in->user, .actor_name = login_of(app, in->user),
	    .message = in->message};
	const char *who = login_of(app, in->user);
	switch (cmd) {
	case CMD_NOTE: {
		const char *text = *in->arg ? in->arg : in->rest;
		if (!*text) {
			say(o, de ? "NOTE ohne Text; nichts gespeichert.\n" : "NOTE bez treści; nic nie zapisano.\n");
			break;
		}
		if (hist_add(app->db, t.project, in->message, who, "note", "%s%s%s", in->arg,
		        *in->arg && *in->rest ? "\n" : "", *in->arg ? in->rest : "") < 0)
			goto fail;
		o->done = 1;
		say(o, de ? "Notiz gespeichert.\n" : "Notatka zapisana.\n");
		break;
	}
	case CMD_NONE:
	case CMD_SUBMIT: {
		const char *lines = cmd == CMD_NONE ? in->text : in->rest;
		int submit = cmd == CMD_SUBMIT;
		char *to = cmd == CMD_SUBMIT && *in->arg ? xstrdup(in->arg) : NULL;
		int64_t calc = 0;
		if (lines && *lines) {
			calc = store_lines(app, &t, in->user, lines, "draft", o, cmd == CMD_NONE ? &submit : NULL,
			    cmd == CMD_NONE ? &to : NULL);
			if (calc < 0) {
				free(to);
				goto fail;
			}
			if (calc == 0 && o->text) {
				/* Errors: keep what was there, show it. */
				o->calc = calcdb_current(app, t.project);
				free(to);
				break;
			}
		}
		if (submit) {
			rc = do_submit(app, &t, in, to, o, &ctx);
			free(to);
			if (rc < 0)
				goto fail;
			break;
		}
		free(to);
		o->calc = calc ? calc : calcdb_current(app, t.project);
		o->done = calc > 0;
		say(o, de ? "Kalkulation gespeichert (noch nicht eingereicht). Antworten Sie mit SUBMIT,\n"
		            "um sie zur Genehmigung zu senden, oder mit neuen Zeilen.\n"
		          : "Kalkulacja zapisana (jeszcze nie wysłana). Odpowiedz SUBMIT, aby wysłać ją\n"
		            "do zatwierdzenia, albo nowymi liniami, aby ją zmienić.\n");
		break;
	}
	case CMD_APPROVE: {
		int64_t calc = calcdb_current(app, t.project);
		if (calc <= 0 || calcdb_set_status(app, calc, "approved", in->user) < 0 ||
		    task_close(app, t.id, in->user, "APPROVE") < 0 ||
		    hist_add(app->db, t.project, in->message, who, "approved",
		        "calculation approved by %s", who) < 0 ||
		    wf_fire(app, t.project, "approve", &ctx) < 0)
			goto fail;
		o->done = 1;
		o->calc = calc;
		say(o, de ? "Genehmigt.\n" : "Zatwierdzono.\n");
		break;
	}
	case CMD_CORRECT: {
		int64_t old = calcdb_current(app, t.project);
		struct sbuf lines = {0};
		sb_adds(&lines, in->arg);
		if (*in->arg && *in->rest)
			sb_addc(&lines, '\n');
		sb_adds(&lines, in->rest);
		int64_t calc = store_lines(app, &t, in->user, sb_str(&lines), "approved", o, NULL, NULL);
		sb_free(&lines);
		if (calc < 0)
			goto fail;
		if (calc == 0) {
			if (!o->text)
				say(o, de ? "CORRECT ohne Kalkulationszeilen; nichts geändert.\n"
				          : "CORRECT bez linii kalkulacji; niczego nie zmieniono.\n");
			o->calc = old;
			break;
		}
		char *diff = calcdb_diff(app, old, calc, "pl");
		int r = calcdb_set_status(app, calc, "approved", in->user) < 0 ||
		        (old > 0 && calcdb_set_status(app, old, "corrected", 0) < 0) ||
		        task_close(app, t.id, in->user, "CORRECT") < 0 ||
		        hist_add(app->db, t.project, in->message, who, "corrected",
		            "calculation corrected and approved by %s:\n%s", who, diff) < 0 ||
		        wf_fire(app, t.project, "correct", &ctx) < 0;
		free(diff);
		if (r)
			goto fail;
		o->done = 1;
		o->calc = calc;
		say(o, de ? "Korrigiert und genehmigt.\n" : "Poprawiono i zatwierdzono.\n");
		break;
	}
	case CMD_REJECT: {
		struct sbuf reason = {0};
		sb_adds(&reason, in->arg);
		if (*in->arg && *in->rest)
			sb_addc(&reason, '\n');
		sb_adds(&reason, in->rest);
		if (!reason.len) {
			say(o, de ? "REJECT braucht eine Begründung (in derselben oder den nächsten Zeilen);\n"
			            "nichts geändert.\n"
			          : "REJECT wymaga uzasadnienia (w tej samej lub kolejnych liniach);\n"
			            "niczego nie zmieniono.\n");
			sb_free(&reason);
			break;
		}
		int64_t calc = calcdb_current(app, t.project);
		ctx.reason = sb_str(&reason);
		int r = (calc > 0 && calcdb_set_status(app, calc, "rejected", 0) < 0) ||
		        task_close(app, t.id, in->user, "REJECT") < 0 ||
		        hist_add(app->db, t.project, in->message, who, "rejected",
		            "calculation rejected by %s: %s", who, sb_str(&reason)) < 0 ||
		        wf_fire(app, t.project, "reject", &ctx) < 0;
		sb_free(&reason);
		if (r)
			goto fail;
		o->done = 1;
		say(o, de ? "Abgelehnt; die Begründung geht an die Autorin / den Autor.\n"
		          : "Odrzucono; uzasadnienie trafi do autora kalkulacji.\n");
		break;
	}
	case CMD_ASSIGN: {
		char *login = xstrdup(in->arg);
		char *sp = strchr(login, ' ');
		if (sp)
			*sp = '\0';
		const struct cfg_user *u = config_user(app->cfg, login);
		if (!u || level_of(u->role) > 3 || (u->role != ROLE_REP && !level_of(u->role))) {
			say(o, de ? "ASSIGN: „%s“ ist keine Vertriebsperson; nichts geändert.\n"
			          : "ASSIGN: „%s” nie jest handlowcem; niczego nie zmieniono.\n", login);
			free(login);
			break;
		}
		int64_t uid = store_user_id(app->db, u->login);
		int r = db_x(app->db, "UPDATE projects SET owner_id=?2 WHERE id=?1", "ii", t.project, uid) < 0 ||
		        db_x(app->db,
		            "UPDATE clients SET owner_id=?2 WHERE id=(SELECT client_id FROM projects"
		            " WHERE id=?1) AND owner_id IS NULL", "ii", t.project, uid) < 0 ||
		        task_close(app, t.id, in->user, "ASSIGN") < 0 ||
		        hist_add(app->db, t.project, in->message, who, "owner-assigned",
		            "owner %s (assigned by %s)", u->login, who) < 0 ||
		        wf_fire(app, t.project, "assigned", &ctx) < 0;
		if (r) {
			free(login);
			goto fail;
		}
		o->done = 1;
		say(o, de ? "%s betreut jetzt das Projekt.\n" : "Opiekunem projektu jest teraz %s.\n", u->name);
		free(login);
		break;
	}
	case CMD_COMPLAINT:
		if (complaint_open(app, t.project, in->message, in->user, o, &ctx) < 0)
			goto fail;
		break;
	case CMD_OPINION: {
		struct sbuf txt = {0};
		sb_adds(&txt, in->arg);
		if (*in->arg && *in->rest)
			sb_addc(&txt, '\n');
		sb_adds(&txt, in->rest);
		rc = complaint_opinion(app, t.project, t.id, in->user, sb_str(&txt), in->message, o, &ctx);
		sb_free(&txt);
		if (rc < 0)
			goto fail;
		break;
	}
	case CMD_DECIDE:
		if (complaint_decide(app, t.project, t.id, in->user, in->arg, in->rest, in->message, o,
		        &ctx) < 0)
			goto fail;
		break;
	case CMD_CONFIRM:
		if (strcmp(t.kind, "confirm-signed-order") == 0) {
			rc = store_signed(app, &t, in, o);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break;
			if (task_close(app, t.id, in->user, "CONFIRM") < 0 ||
			    wf_fire(app, t.project, "signed", &ctx) < 0)
				goto fail;
			o->done = 1;
			say(o, de ? "Unterschriebener Auftrag gespeichert; die Produktion ist beauftragt.\n"
			          : "Podpisane zamówienie zapisane; produkcja otrzymała zlecenie.\n");
			break;
		}
		if (task_close(app, t.id, in->user, "CONFIRM") < 0 ||
		    hist_add(app->db, t.project, in->message, who, "confirmed", "%s confirmed: %s", who,
		        t.title) < 0 ||
		    wf_fire(app, t.project, "confirm", &ctx) < 0)
			goto fail;
		o->done = 1;
		say(o, de ? "Bestätigt.\n" : "Potwierdzono.\n");
		break;
	case CMD_REFUSE: {
		struct sbuf reason = {0};
		sb_adds(&reason, in->arg);
		if (*in->arg && *in->rest)
			sb_addc(&reason, '\n');
		sb_adds(&reason, in->rest);
		if (!reason.len) {
			say(o, de ? "REFUSE braucht einen Grund; nichts geändert.\n"
			          : "REFUSE wymaga podania powodu; niczego nie zmieniono.\n");
			sb_free(&reason);
			break;
		}
		ctx.reason = sb_str(&reason);
		char *res = xasprintf("REFUSE: %s", sb_str(&reason));
		/* A refused check stays open: its later CONFIRM resumes the order. */
		int keep_open = strncmp(t.kind, "check-", 6) == 0;
		int r = (keep_open ? db_x(app->db, "UPDATE tasks SET result=?2 WHERE id=?1", "it", t.id, res)
		                   : task_close(app, t.id, in->user, res)) < 0 ||
		        hist_add(app->db, t.project, in->message, who, "refused", "%s refused %s: %s",
		            who, t.title, sb_str(&reason)) < 0 ||
		        wf_fire(app, t.project, "refuse", &ctx) < 0;
		free(res);
		sb_free(&reason);
		if (r)
			goto fail;
		o->done = 1;
		say(o, keep_open ? (de ? "Verweigert; der Auftrag ist angehalten. Ein späteres CONFIRM auf "
		                         "diese Aufgabe setzt ihn fort.\n"
		                       : "Odmowa zapisana; zamówienie wstrzymane. Późniejsze CONFIRM w tym "
		                         "zadaniu je wznowi.\n")
		                 : (de ? "Verweigert.\n" : "Odmowa zapisana.\n"));
		break;
	}
	case CMD_DELIVERED: {
		if (!*in->arg) {
			say(o, de ? "DELIVERED braucht die Rechnungsnummer (DELIVERED FV/2026/123); nichts "
			            "geändert.\n"
			          : "DELIVERED wymaga numeru faktury (DELIVERED FV/2026/123); niczego nie "
			            "zmieniono.\n");
			break;
		}
		if (db_x(app->db, "UPDATE projects SET invoice=?2 WHERE id=?1", "it", t.project,
		        in->arg) < 0 ||
		    task_close(app, t.id, in->user, "DELIVERED") < 0 ||
		    hist_add(app->db, t.project, in->message, who, "delivered",
		        "goods and invoice %s sent (confirmed by %s)", in->arg, who) < 0 ||
		    wf_fire(app, t.project, "delivered", &ctx) < 0)
			goto fail;
		o->done = 1;
		say(o, de ? "Lieferung bestätigt, Projekt abgeschlossen.\n"
		          : "Wydanie potwierdzone, projekt zamknięty.\n");
		break;
	}
	default: {
		/* Tasks that only inform (a client wrote, a held message, an order
		 * on hold) are closed by DONE and move nothing. */
		if (cmd == CMD_DONE && (strcmp(t.kind, "client-replied") == 0 ||
		                           strcmp(t.kind, "review-held") == 0 ||
		                           strcmp(t.kind, "complaint-review") == 0 ||
		                           strcmp(t.kind, "order-on-hold") == 0)) {
			if (task_close(app, t.id, in->user, "DONE") < 0)
				goto fail;
			o->done = 1;
			say(o, de ? "Erledigt.\n" : "Zamknięte.\n");
			break;
		}
		/* Steps of later stages: close the task and tell the workflow. */
		char *ev = str_lower(xstrdup(reply_cmd_name(cmd)));
		int r = task_close(app, t.id, in->user, reply_cmd_name(cmd)) < 0 ||
		        hist_add(app->db, t.project, in->message, who, ev, "%s %s%s%s", who,
		            reply_cmd_name(cmd), *in->arg ? ": " : "", in->arg) < 0 ||
		        wf_fire(app, t.project, ev, &ctx) < 0;
		free(ev);
		if (r)
			goto fail;
		o->done = 1;
		say(o, "OK: %s\n", reply_cmd_name(cmd));
		break;
	}
	}
	o->mails += ctx.replies;
out:
	tk_free(&t);
	return 0;
fail:
	tk_free(&t);
	cmd_outcome_free(o); /* what was said so far: the caller gets nothing */
	return -1;
}

void
cmd_outcome_free(struct cmd_outcome *o)
{
	free(o->title);
	free(o->text);
	memset(o, 0, sizeof(*o));
}

int
cmd_answer(struct app *app, int64_t user, const struct cmd_outcome *o)
{
	const struct cfg_user *u = store_user_cfg(app, user);
	if (!u)
		return 0;
	char *calc_t = xstrdup(""), *calc_h = NULL;
	if (o->calc > 0) {
		free(calc_t);
		if (calcdb_render(app, o->calc, u->lang, &calc_t, &calc_h) < 0)
			calc_t = xstrdup("");
	}
	char pb[32];
	snprintf(pb, sizeof(pb), "%lld", (long long)o->project);
	struct tmpl_var v[] = {
	    {"project", pb}, {"task_title", o->title}, {"assignee_name", u->name},
	    {"reply_text", o->text ? o->text : ""}, {"calc_table", calc_t},
	    {"company_name", app->cfg->company.name},
	};
	struct tmpl_mail t;
	char err[512];
	int r = -1;
	if (tmpl_mail_render(app->cfg->templates_dir, u->lang, "command-reply", v, ARRAY_LEN(v), &t,
	        err, sizeof(err)) < 0) {
		log_error("event=template_failed template=command-reply error=%s", log_q(err));
	} else {
		struct mail_out mo = {
		    .from_name = app->cfg->system_name, .from_addr = app->cfg->system_address,
		    .to_name = u->name, .to_addr = u->email, .subject = t.subject, .text = t.text,
		    .html = t.html, .auto_generated = 1, .loop_id = app->cfg->system_address,
		    .project = o->project,
		};
		r = outbox_queue(app, o->project, "command-reply", &mo, NULL) < 0 ? -1 : 0;
		tmpl_mail_free(&t);
	}
	free(calc_t);
	free(calc_h);
	return r;
}
