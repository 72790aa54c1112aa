#include "task.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "caldav.h"
#include "calcdb.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "ical.h"
#include "log.h"
#include "outbox.h"
#include "reply.h"
#include "store.h"
#include "tmpl.h"
#include "token.h"
#include "util.h"

/* Characters of the client's mail quoted in a task mail. */
#define QUOTE_MAX 4000

/* %-encoding for mailto: URIs (RFC 6068): everything but unreserved. */
static void
uri_enc(struct sbuf *sb, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			sb_addc(sb, (char)*p);
		else
			sb_printf(sb, "%%%c%c", hexd[*p >> 4], hexd[*p & 15]);
	}
}

/* What the body of an action link holds beyond the command word. */
static const char *
link_hint(enum reply_cmd c, int de)
{
	switch (c) {
	case CMD_REJECT:
		return de ? "(Begründung hier)" : "(uzasadnienie tutaj)";
	case CMD_REFUSE:
		return de ? "(Grund hier)" : "(powód tutaj)";
	case CMD_NOTE:
		return de ? "(Notiz hier)" : "(notatka tutaj)";
	case CMD_CORRECT:
		return "BAN-440 3 300x100cm @ 35,00"; /* the same in both languages */
	case CMD_ASSIGN:
		return "login";
	default:
		return "";
	}
}

/* Localised label shown beside each command. */
static const char *
cmd_label(enum reply_cmd c, int de)
{
	switch (c) {
	case CMD_APPROVE: return de ? "genehmigen" : "zatwierdź";
	case CMD_CORRECT: return de ? "Preise korrigieren und genehmigen" : "popraw ceny i zatwierdź";
	case CMD_REJECT: return de ? "ablehnen (mit Begründung)" : "odrzuć (z uzasadnieniem)";
	case CMD_SUBMIT: return de ? "Kalkulation einreichen" : "wyślij kalkulację do zatwierdzenia";
	case CMD_ASSIGN: return de ? "Betreuer zuweisen" : "przydziel opiekuna";
	case CMD_NOTE: return de ? "Notiz zum Projekt" : "notatka do projektu";
	case CMD_ACCEPTED: return de ? "Kunde hat angenommen" : "klient zaakceptował";
	case CMD_CONFIRM: return de ? "bestätigen" : "potwierdź";
	case CMD_REFUSE: return de ? "verweigern (mit Grund)" : "odmów (z powodem)";
	case CMD_DONE: return de ? "erledigt" : "wykonane";
	default: return "";
	}
}

/* The action links of a task mail, as text and as HTML. */
static void
action_links(struct app *app, int64_t project, const char *reply_to, const char *token,
    uint32_t actions, int de, char **text, char **html)
{
	struct sbuf t = {0}, h = {0};
	sb_adds(&h, "<p>");
	for (int c = 1; c < CMD__COUNT; c++) {
		if (!(actions & (1u << c)))
			continue;
		const char *name = reply_cmd_name((enum reply_cmd)c);
		struct sbuf subj = {0}, body = {0}, uri = {0};
		sb_printf(&subj, "[INK-%lld] %s", (long long)project, name);
		const char *hint = link_hint((enum reply_cmd)c, de);
		sb_printf(&body, "%s%s%s\r\n\r\ninkflow-token: %s\r\n", name, *hint ? " " : "", hint,
		    token);
		sb_printf(&uri, "mailto:%s?subject=", reply_to);
		uri_enc(&uri, sb_str(&subj));
		sb_adds(&uri, "&body=");
		uri_enc(&uri, sb_str(&body));
		sb_printf(&t, "  %-8s %s\n           <%s>\n", name, cmd_label((enum reply_cmd)c, de),
		    sb_str(&uri));
		sb_printf(&h, "<a href=\"%s\" style=\"display:inline-block;margin:4px;padding:6px 12px;"
		              "border:1px solid #357;border-radius:4px;text-decoration:none\">%s</a> ",
		    sb_str(&uri), name);
		sb_free(&subj);
		sb_free(&body);
		sb_free(&uri);
	}
	(void)app;
	sb_adds(&h, "</p>");
	*text = sb_steal(&t);
	*html = sb_steal(&h);
}

/* "approve correct reject" for a bit set. */
static char *
actions_words(uint32_t actions)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	for (int c = 1; c < CMD__COUNT; c++)
		if (actions & (1u << c)) {
			char *w = str_lower(xstrdup(reply_cmd_name((enum reply_cmd)c)));
			sb_printf(&sb, "%s%s", sb.len ? " " : "", w);
			free(w);
		}
	return sb_steal(&sb);
}

struct facts {
	char *title, *client, *contact, *contact_email, *owner_name, *state;
};

static void
facts_free(struct facts *f)
{
	free(f->title);
	free(f->client);
	free(f->contact);
	free(f->contact_email);
	free(f->owner_name);
	free(f->state);
}

static int
load_facts(struct app *app, int64_t project, struct facts *f)
{
	memset(f, 0, sizeof(*f));
	if (!project)
		return 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT p.title, c.name, ct.name, ct.email, u.name, p.state FROM projects p"
	    " JOIN clients c ON c.id=p.client_id LEFT JOIN contacts ct ON ct.id=p.contact_id"
	    " LEFT JOIN users u ON u.id=p.owner_id WHERE p.id=?1",
	    "i", project);
	if (!q)
		return -1;
	int rc = db_step(q);
	if (rc == 1) {
		f->title = xstrdup(db_text(q, 0));
		f->client = xstrdup(db_text(q, 1));
		f->contact = xstrdup(db_text(q, 2));
		f->contact_email = xstrdup(db_text(q, 3));
		f->owner_name = xstrdup(db_text(q, 4));
		f->state = xstrdup(db_text(q, 5));
	}
	db_done(q);
	return rc == 1 ? 0 : -1;
}

/* Files that travel with a task mail. */
struct attset {
	struct mail_att_out v[32];
	char *owned[96];
	size_t n, nowned;
	struct sbuf listed; /* too large to attach: path lines */
};

static const char *
own(struct attset *a, char *s)
{
	if (a->nowned < ARRAY_LEN(a->owned))
		a->owned[a->nowned++] = s;
	return s;
}

static void
attset_free(struct attset *a)
{
	for (size_t i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	sb_free(&a->listed);
}

static void
add_file(struct app *app, struct attset *a, const char *rel, const char *name, const char *type)
{
	char *path = path_join(app->cfg->data_dir, rel);
	char *data = NULL;
	size_t len = 0;
	if (a->n < ARRAY_LEN(a->v) && file_read(path, TASK_ATTACH_MAX, &data, &len) == 0) {
		a->v[a->n++] = (struct mail_att_out){own(a, xstrdup(name)), own(a, xstrdup(type)),
		    own(a, data), len};
		free(path);
		return;
	}
	sb_printf(&a->listed, "  %s: %s\n", name, path);
	free(path);
}

static void
collect(struct app *app, int64_t project, int64_t message, const char *spec, struct attset *a)
{
	char *copy = xstrdup(spec);
	for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		struct db_stmt *q = NULL;
		if (strncmp(w, "document:", 9) == 0)
			q = db_q(app->db,
			    "SELECT path, replace(number,'/','-') || '.pdf', 'application/pdf' FROM documents"
			    " WHERE project_id=?1 AND kind=?2 ORDER BY id DESC LIMIT 1", "it", project, w + 9);
		else if (strcmp(w, "artwork") == 0)
			q = db_q(app->db,
			    "SELECT a.path, a.filename, a.content_type FROM attachments a"
			    " JOIN messages m ON m.id=a.message_id WHERE m.project_id=?1 AND m.class='normal'"
			    " AND a.embedded=0"
			    " AND (a.content_type='application/pdf' OR a.content_type LIKE 'image/%')"
			    " ORDER BY a.id", "i", project);
		else if (strcmp(w, "message") == 0)
			q = db_q(app->db,
			    "SELECT path, filename, content_type FROM attachments WHERE message_id=?1 AND embedded=0"
			    " ORDER BY id", "i", message);
		if (!q)
			continue;
		/* Collect rows first: reading files must not hold the statement. */
		char *rows[64][3];
		size_t n = 0;
		while (n < 64 && db_step(q) == 1) {
			rows[n][0] = xstrdup(db_text(q, 0));
			rows[n][1] = xstrdup(db_text(q, 1));
			rows[n][2] = xstrdup(db_text(q, 2));
			n++;
		}
		db_done(q);
		for (size_t i = 0; i < n; i++) {
			add_file(app, a, rows[i][0], rows[i][1], rows[i][2]);
			free(rows[i][0]);
			free(rows[i][1]);
			free(rows[i][2]);
		}
	}
	free(copy);
}

/* The task as a calendar entry for its assignee (method REQUEST; CANCEL
 * when cancelled; PUBLISH for the assignee's CalDAV calendar): the due
 * time, or the next working hour after creation when the task has none.
 * Caller frees. */
static char *
task_ics(struct app *app, int64_t task, const struct cfg_user *u, const char *title,
    const char *description, int64_t due, int seq, const char *method)
{
	int cancelled = strcmp(method, "CANCEL") == 0;
	int64_t start = due ? due : now_epoch() + 3600;
	struct ical_event ev = {
	    .task = task, .sequence = seq, .summary = title, .description = description,
	    .start = start, .duration = 1800, .organizer_name = app->cfg->system_name,
	    .organizer_addr = app->cfg->system_address, .attendee_name = u->name,
	    .attendee_addr = u->email, .cancelled = cancelled,
	};
	return ical_calendar(method, "Europe/Warsaw", app->cfg->domain, &ev, 1, now_epoch());
}

/* When message m of project came encrypted, the line that says so above
 * its quote, in the reader's language; else NULL. */
static char *
encrypted_notice(struct db *db, int64_t project, int64_t m, int de)
{
	char kind[64];
	if (hist_encrypted(db, project, m, kind, sizeof(kind)) != 1)
		return NULL;
	return de ? xasprintf("[Die Nachricht ist verschlüsselt (%s) und ohne den Schlüssel des"
	                      " Empfängers nicht lesbar. Bitten Sie den Absender um eine"
	                      " unverschlüsselte Fassung.]", kind)
	          : xasprintf("[Wiadomość jest zaszyfrowana (%s) i bez klucza odbiorcy nie da"
	                      " się jej odczytać. Poproś nadawcę o wersję bez szyfrowania.]", kind);
}

/* Compose and queue the mail of an open task (its first, or a reminder:
 * the same token, so the same links and Reply-To act). */
static int64_t
task_mail(struct app *app, int64_t task, int64_t project, int64_t message,
    const struct cfg_user *u, int64_t user, const char *title, const char *description,
    uint32_t actions, int64_t due, const char *attach, int64_t calc, int64_t expires,
    int *mails)
{
	struct db *db = app->db;
	/* The mail: token, links, facts, calculation, the client's words. */
	int de = strcmp(u->lang, "de") == 0;
	struct token_claims cl = {.task = task, .user = user, .actions = actions,
	    .expires = expires};
	char token[TOKEN_MAX + 1];
	token_make(app->key, &cl, token);
	const char *at = strchr(app->cfg->system_address, '@');
	char *reply_to = xasprintf("%.*s+%s%s", (int)(at - app->cfg->system_address),
	    app->cfg->system_address, token, at);
	char *links_t = NULL, *links_h = NULL;
	action_links(app, project, reply_to, token, actions, de, &links_t, &links_h);
	char *calc_t = xstrdup(""), *calc_h = xstrdup("");
	if (calc > 0) {
		free(calc_t);
		free(calc_h);
		if (calcdb_render(app, calc, u->lang, &calc_t, &calc_h) < 0) {
			calc_t = xstrdup("");
			calc_h = xstrdup("");
		}
	}
	char *quote = NULL, *from = NULL, *msubj = NULL;
	/* Quote the client's latest words (not a colleague's reply). */
	int64_t qm = 0;
	if (project)
		db_1i(db, &qm, "SELECT coalesce(max(id),0) FROM messages WHERE project_id=?1"
		               " AND class='normal'", "i", project);
	else
		qm = message;
	if (qm) {
		struct db_stmt *q = db_q(db, "SELECT body, from_addr, subject FROM messages WHERE id=?1",
		    "i", qm);
		if (q && db_step(q) == 1) {
			const char *b = db_text(q, 0) ? db_text(q, 0) : "";
			size_t n = strlen(b) > QUOTE_MAX ? QUOTE_MAX : strlen(b);
			while (n && ((unsigned char)b[n] & 0xc0) == 0x80)
				n--;
			quote = xstrndup(b, n);
			from = xstrdup(db_text(q, 1));
			msubj = xstrdup(db_text(q, 2));
		}
		if (q)
			db_done(q);
		char *warn = encrypted_notice(db, project, qm, de);
		if (warn) {
			char *t = xasprintf("%s%s%s", warn, quote && *quote ? "\n\n" : "",
			    quote ? quote : "");
			free(quote);
			free(warn);
			quote = t;
		}
	}
	struct facts f;
	if (load_facts(app, project, &f) < 0) {
		memset(&f, 0, sizeof(f));
	}
	/* What the checks need to know about the client. */
	char *flags = NULL;
	if (project) {
		struct db_stmt *q = db_q(db,
		    "SELECT c.docs_on_file, coalesce(c.payment_terms,''), coalesce(c.vat_id,'')"
		    " FROM projects p JOIN clients c ON c.id=p.client_id WHERE p.id=?1", "i", project);
		if (q && db_step(q) == 1)
			flags = xasprintf(de ? "Unterlagen: %s; Zahlungsbedingungen: %s; USt-IdNr.: %s"
			                     : "Dokumenty rejestrowe: %s; warunki płatności: %s; NIP/VAT: %s",
			    db_int(q, 0) ? (de ? "vorhanden" : "są") : (de ? "fehlen" : "brak"),
			    *db_text(q, 1) ? db_text(q, 1) : "—", *db_text(q, 2) ? db_text(q, 2) : "—");
		if (q)
			db_done(q);
	}
	char pb[32], due_s[32] = "";
	snprintf(pb, sizeof(pb), "%lld", (long long)project);
	if (due) {
		time_t t = (time_t)due;
		struct tm tm;
		if (!localtime_r(&t, &tm) || !strftime(due_s, sizeof(due_s), "%d.%m.%Y %H:%M", &tm))
			snprintf(due_s, sizeof(due_s), "?");
	}
	const struct config *cfg = app->cfg;
	struct tmpl_var v[] = {
	    {"project", pb}, {"subject", f.title}, {"client_name", f.client},
	    {"contact_name", f.contact}, {"contact_email", f.contact_email},
	    {"owner_name", f.owner_name ? f.owner_name : "—"}, {"project_state", f.state},
	    {"task_title", title}, {"task_description", description ? description : ""},
	    {"assignee_name", u->name}, {"inquiry_text", quote ? quote : ""},
	    {"message_from", from ? from : ""}, {"message_subject", msubj ? msubj : ""},
	    {"calc_table", calc_t}, {"calc_table_html", calc_h}, {"actions_text", links_t},
	    {"actions_html", links_h}, {"company_name", cfg->company.name},
	    {"system_address", cfg->system_address}, {"date", due_s},
	    {"client_flags", flags ? flags : ""},
	};
	struct tmpl_mail t;
	char err[512];
	int64_t id = -1;
	if (tmpl_mail_render(cfg->templates_dir, u->lang, "task", v, ARRAY_LEN(v), &t, err,
	        sizeof(err)) < 0) {
		log_error("event=template_failed template=task error=%s", log_q(err));
	} else {
		struct attset as = {0};
		if (attach)
			collect(app, project, message, attach, &as);
		/* The entry in the assignee's calendar; a reminder updates it. */
		int64_t seq = 0;
		db_1i(db, &seq, "SELECT ical_seq FROM tasks WHERE id=?1", "i", task);
		char *ics = task_ics(app, task, u, t.subject, description ? description : "", due,
		    (int)seq, "REQUEST");
		if (ics && as.n < ARRAY_LEN(as.v))
			as.v[as.n++] = (struct mail_att_out){"zadanie.ics",
			    "text/calendar; method=REQUEST; charset=UTF-8", own(&as, ics), strlen(ics)};
		else
			free(ics);
		db_x(db, "UPDATE tasks SET ical_seq=ical_seq+1 WHERE id=?1", "i", task);
		char *text = as.listed.len
		    ? xasprintf("%s\n%s\n%s", t.text,
		          de ? "Zu große Dateien für die E-Mail (im Datenverzeichnis):"
		             : "Pliki zbyt duże na pocztę (w katalogu danych):",
		          sb_str(&as.listed))
		    : xstrdup(t.text);
		struct mail_out mo = {
		    .from_name = cfg->system_name, .from_addr = cfg->system_address,
		    .to_name = u->name, .to_addr = u->email, .reply_to = reply_to,
		    .subject = t.subject, .text = text, .html = t.html, .auto_generated = 1,
		    .loop_id = cfg->system_address, .project = project, .atts = as.v, .natts = as.n,
		};
		id = outbox_queue(app, project, "task", &mo, NULL);
		/* The same entry for the assignee's CalDAV calendar, written by
		 * caldav_flush once this transaction has committed. */
		if (id > 0 && u->caldav_url) {
			char *obj = task_ics(app, task, u, t.subject, description ? description : "",
			    due, (int)seq, "PUBLISH");
			if (!obj || caldav_queue_put(app, task, u, obj) < 0)
				id = -1;
			free(obj);
		}
		free(text);
		attset_free(&as);
		tmpl_mail_free(&t);
		if (id > 0 && mails)
			(*mails)++;
	}
	facts_free(&f);
	free(flags);
	free(quote);
	free(from);
	free(msubj);
	free(calc_t);
	free(calc_h);
	free(links_t);
	free(links_h);
	free(reply_to);
	return id < 0 ? -1 : task;
}

int64_t
task_open(struct app *app, int64_t project, int64_t message, const char *kind, int64_t user,
    const char *title, const char *description, uint32_t actions, int64_t due,
    const char *attach, int *mails)
{
	struct db *db = app->db;
	const struct cfg_user *u = store_user_cfg(app, user);
	if (!u) {
		log_error("event=task_failed reason=\"unknown user\" user=%lld", (long long)user);
		return -1;
	}
	int64_t now = now_epoch();
	int64_t expires = now + TASK_TOKEN_DAYS * 86400;
	int64_t calc = project ? calcdb_current(app, project) : 0;
	if (calc < 0)
		return -1;
	char *words = actions_words(actions);
	int r = db_x(db,
	    "INSERT INTO tasks(project_id,message_id,kind,assignee_id,title,description,"
	    "actions,status,created,due,token_expires,calculation_id) VALUES(NULLIF(?1,0),"
	    "NULLIF(?2,0),?3,?4,?5,?6,?7,'open',?8,NULLIF(?9,0),?10,NULLIF(?11,0))",
	    "iititttiiii", project, message, kind, user, title, description, words, now, due,
	    expires, calc);
	free(words);
	if (r < 0)
		return -1;
	int64_t task = db_last_id(db);
	if (hist_add(db, project, message, "system", "task-created", "task %lld for %s: %s",
	        (long long)task, u->login, title) < 0)
		return -1;

	return task_mail(app, task, project, message, u, user, title, description, actions, due,
	    attach, calc, expires, mails);
}

int
task_remind(struct app *app, int64_t task, int *mails)
{
	struct db_stmt *q = db_q(app->db,
	    "SELECT coalesce(project_id,0), coalesce(message_id,0), assignee_id, title,"
	    " coalesce(description,''), actions, coalesce(due,0), coalesce(calculation_id,0),"
	    " token_expires FROM tasks WHERE id=?1 AND status='open'", "i", task);
	if (!q)
		return -1;
	if (db_step(q) != 1) {
		db_done(q);
		return 0;
	}
	int64_t project = db_int(q, 0), message = db_int(q, 1), user = db_int(q, 2);
	char *title = xstrdup(db_text(q, 3)), *desc = xstrdup(db_text(q, 4));
	char *words = xstrdup(db_text(q, 5));
	int64_t due = db_int(q, 6), calc = db_int(q, 7), expires = db_int(q, 8);
	db_done(q);
	/* A task older than its links (or from before schema 3, without an
	 * expiry) gets fresh ones: a reminder must not carry dead links, and
	 * token_make refuses an expiry of 0. */
	int64_t now = now_epoch();
	if (expires <= now) {
		expires = now + TASK_TOKEN_DAYS * 86400;
		if (db_x(app->db, "UPDATE tasks SET token_expires=?2 WHERE id=?1", "ii", task,
		        expires) < 0) {
			free(title);
			free(desc);
			free(words);
			return -1;
		}
	}
	uint32_t actions = 0;
	for (char *save = NULL, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		enum reply_cmd c = reply_cmd_parse(w);
		if (c != CMD_NONE)
			actions |= 1u << c;
	}
	const struct cfg_user *u = store_user_cfg(app, user);
	int64_t r = -1;
	if (u) {
		int de = strcmp(u->lang, "de") == 0;
		char *t = xasprintf("%s: %s", de ? "Erinnerung" : "Przypomnienie", title);
		r = task_mail(app, task, project, message, u, user, t, desc, actions, due, NULL, calc,
		    expires, mails);
		free(t);
	}
	free(title);
	free(desc);
	free(words);
	return r < 0 ? -1 : 1;
}

int
task_close(struct app *app, int64_t task, int64_t by, const char *result)
{
	if (db_x(app->db,
	        "UPDATE tasks SET status=?2, closed=?3, closed_by=NULLIF(?4,0), result=?5"
	        " WHERE id=?1 AND status='open'",
	        "itiit", task, by ? "done" : "cancelled", now_epoch(), by, result) < 0)
		return -1;
	if (db_changes(app->db) != 1)
		return 0;
	return task_uncalendar(app, task);
}

int
task_uncalendar(struct app *app, int64_t task)
{
	/* Take the entry out of the assignee's calendar. */
	struct db_stmt *q = db_q(app->db,
	    "SELECT assignee_id, coalesce(project_id,0), title, coalesce(due,0), ical_seq FROM tasks"
	    " WHERE id=?1", "i", task);
	if (!q || db_step(q) != 1) {
		if (q)
			db_done(q);
		return q ? 0 : -1;
	}
	int64_t user = db_int(q, 0), project = db_int(q, 1), due = db_int(q, 3), seq = db_int(q, 4);
	char *title = xstrdup(db_text(q, 2));
	db_done(q);
	const struct cfg_user *u = store_user_cfg(app, user);
	int r = 0;
	if (u && seq > 0) {
		int de = strcmp(u->lang, "de") == 0;
		char *subject = project ? xasprintf("[INK-%lld] %s: %s", (long long)project,
		                              de ? "Erledigt" : "Zakończone", title)
		                        : xasprintf("%s: %s", de ? "Erledigt" : "Zakończone", title);
		char *ics = task_ics(app, task, u, subject, "", due, (int)seq, "CANCEL");
		char *text = xasprintf(de ? "Die Aufgabe „%s“ ist abgeschlossen und aus Ihrem Kalender "
		                            "entfernt.\n"
		                          : "Zadanie „%s” jest zakończone i usunięte z Twojego "
		                            "kalendarza.\n", title);
		struct mail_att_out att = {"zadanie.ics", "text/calendar; method=CANCEL; charset=UTF-8",
		    ics, ics ? strlen(ics) : 0};
		struct mail_out mo = {
		    .from_name = app->cfg->system_name, .from_addr = app->cfg->system_address,
		    .to_name = u->name, .to_addr = u->email, .subject = subject, .text = text,
		    .auto_generated = 1, .loop_id = app->cfg->system_address, .project = project,
		    .atts = ics ? &att : NULL, .natts = ics ? 1 : 0,
		};
		r = outbox_queue(app, project, "calendar-cancel", &mo, NULL) < 0 ||
		        db_x(app->db, "UPDATE tasks SET ical_seq=ical_seq+1 WHERE id=?1", "i", task) < 0 ||
		        caldav_queue_delete(app, task, u) < 0
		    ? -1 : 0;
		free(ics);
		free(text);
		free(subject);
	}
	free(title);
	return r;
}

int
task_list(struct app *app, const char *login, int json)
{
	int64_t uid = 0;
	if (login && (uid = store_user_id(app->db, login)) < 0) {
		fprintf(stderr, "inkflow: no user \"%s\"\n", login);
		return 1;
	}
	/* One statement per filter: "?1=0 OR t.assignee_id=?1" would keep
	 * SQLite off the (assignee_id, status) index and read every open task. */
#define TASK_COLS "SELECT t.id, t.project_id, t.kind, t.title, u.login, t.status, t.due, t.created," \
	" t.actions, t.description FROM tasks t JOIN users u ON u.id=t.assignee_id"
#define TASK_ORDER " ORDER BY t.due IS NULL, t.due, t.id"
	struct db_stmt *q = uid
	    ? db_q(app->db, TASK_COLS " WHERE t.assignee_id=?1 AND t.status='open'" TASK_ORDER, "i", uid)
	    : db_q(app->db, TASK_COLS " WHERE t.status='open'" TASK_ORDER, "");
#undef TASK_COLS
#undef TASK_ORDER
	if (!q)
		return 1;
	json_t *arr = json_array();
	if (!json)
		printf("%-6s %-8s %-13s %-17s %-22s %s\n", "TASK", "PROJECT", "ASSIGNEE", "DUE", "KIND",
		    "TITLE");
	while (db_step(q) == 1) {
		char due[32] = "", created[32];
		iso_time(db_int(q, 7), created, sizeof(created));
		if (!db_isnull(q, 6))
			iso_time(db_int(q, 6), due, sizeof(due));
		if (json) {
			json_array_append_new(arr, json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s}",
			    "id", (json_int_t)db_int(q, 0), "project",
			    db_isnull(q, 1) ? json_null() : json_integer(db_int(q, 1)), "kind",
			    db_text(q, 2), "title", db_text(q, 3), "assignee", db_text(q, 4), "status",
			    db_text(q, 5), "due", *due ? json_string(due) : json_null(), "created",
			    created, "actions", db_text(q, 8), "description",
			    db_text(q, 9) ? db_text(q, 9) : ""));
		} else {
			char proj[32] = "—";
			if (!db_isnull(q, 1))
				snprintf(proj, sizeof(proj), "INK-%lld", (long long)db_int(q, 1));
			printf("#%-5lld %-8s %-13s %-17.16s %-22s %s\n", (long long)db_int(q, 0), proj,
			    db_text(q, 4), *due ? due : "—", db_text(q, 2), db_text(q, 3));
		}
	}
	db_done(q);
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		puts(s);
		free(s);
	}
	json_decref(arr);
	return 0;
}
