#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "classify.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "doc.h"
#include "ical.h"
#include "lazyetpan.h"
#include "log.h"
#include "mime.h"
#include "outbox.h"
#include "route.h"
#include "store.h"
#include "task.h"
#include "command.h"
#include "token.h"
#include "reply.h"
#include "workflow.h"
#include "util.h"

const char *
ingest_status_name(enum ingest_status s)
{
	switch (s) {
	case ING_PROCESSED: return "processed";
	case ING_IGNORED: return "ignored";
	case ING_QUARANTINED: return "quarantined";
	case ING_HELD: return "held";
	case ING_DUPLICATE: return "duplicate";
	case ING_REFUSED: return "refused";
	}
	return "?";
}

/* Per-message working state. */
struct ing {
	struct app *app;
	const char *source;
	const char *source_key;
	const char *raw;
	size_t len;
	char raw_sha[65];
	char dedupe[65];
	struct mime_msg *m;       /* NULL when unparsable */
	char parse_reason[512];
	int64_t msg;              /* messages.id */
	struct ingest_result *res;
	char (*att_sha)[65];      /* SHA-256 of each attachment, when staged */
	int mapped;               /* raw is a file_map mapping: pages may be dropped */
	char **spills;            /* files of attachments decoded to disk */
	size_t nspills;
	char lib_error[256];      /* set when the MIME parser could not be loaded */
	const char *src_path;     /* the source's own file (a Maildir message), or NULL */
	const struct cfg_user *forwarded_by; /* staff member who forwarded this inquiry,
	                                      * or a client's file to a project */
};

/* Hash raw[off..off+n) into c; a mapped message hands back each window's
 * pages once hashed, so a large one is never resident whole. */
#define WINDOW ((size_t)1 << 20)
static void
hash_range(const struct ing *g, struct sha256 *c, size_t off, size_t n)
{
	for (size_t done = 0; done < n;) {
		size_t k = n - done < WINDOW ? n - done : WINDOW;
		sha256_update(c, g->raw + off + done, k);
		if (g->mapped)
			file_drop(g->raw, off + done, off + done + k);
		done += k;
	}
}

static const char *
domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	return at ? at + 1 : "";
}

/* Offset of the body: after the first empty line (CRLF or LF). */
static size_t
body_offset(const char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 2;
		if (raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

static void
compute_keys(struct ing *g)
{
	struct sha256 rc;
	sha256_init(&rc);
	hash_range(g, &rc, 0, g->len);
	sha256_final(&rc, g->raw_sha);
	if (g->m && g->m->message_id && *g->m->message_id) {
		/* Same Message-ID and same body: the same message, whatever
		 * trace headers the transports added on the way. */
		size_t off = body_offset(g->raw, g->len);
		char body[65];
		struct sha256 bc;
		sha256_init(&bc);
		hash_range(g, &bc, off, g->len - off);
		sha256_final(&bc, body);
		struct sha256 c;
		sha256_init(&c);
		sha256_update(&c, "mid:", 4);
		sha256_update(&c, g->m->message_id, strlen(g->m->message_id) + 1);
		sha256_update(&c, body, 64);
		sha256_final(&c, g->dedupe);
	} else {
		struct sha256 c;
		sha256_init(&c);
		sha256_update(&c, "raw:", 4);
		sha256_update(&c, g->raw_sha, 64);
		sha256_final(&c, g->dedupe);
	}
}

/* 1 when path is there with len bytes: content-addressed paths need no
 * second write. */
static int
present(const char *path, size_t len)
{
	struct stat st;
	return stat(path, &st) == 0 && (size_t)st.st_size == len;
}

/* Write data under the data directory at rel (creating directories), unless
 * a file of that size is there already (content-addressed paths). */
static int
store_file(struct app *app, const char *rel, const void *data, size_t len)
{
	char *path = path_join(app->cfg->data_dir, rel);
	int r = 0;
	if (present(path, len))
		goto out;
	char *dir = path_dirname(path);
	r = mkdir_p(dir, 0750);
	free(dir);
	if (r == 0)
		r = file_write_durable(path, data, len, 0640);
	if (r < 0)
		log_error("event=store_failed path=%s error=%s", log_q(path), log_q(strerror(errno)));
out:
	free(path);
	return r;
}

static int
insert_message(struct ing *g, const char *raw_rel, const char *cls, const char *status,
    const char *reason)
{
	const struct mime_msg *m = g->m;
	if (db_x(g->app->db,
	        "INSERT INTO messages(source,source_key,dedupe_key,message_id,raw_sha256,"
	        "raw_path,size,from_name,from_addr,subject,date,received,class,status,"
	        "reason,body) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,NULLIF(?11,0),?12,"
	        "?13,?14,?15,?16)",
	        "tttttti" "tttiittt" "t",
	        g->source, g->source_key, g->dedupe, m ? m->message_id : NULL, g->raw_sha,
	        raw_rel, (int64_t)g->len, m ? m->from_name : NULL, m ? m->from_addr : NULL,
	        m ? m->subject : NULL, m ? (int64_t)m->date : (int64_t)0, now_epoch(), cls,
	        status, reason, m ? m->text : NULL) < 0)
		return -1;
	g->msg = db_last_id(g->app->db);
	return 0;
}

static int
set_status(struct ing *g, enum ingest_status s, const char *cls, const char *reason)
{
	g->res->status = s;
	str_copy(g->res->reason, sizeof(g->res->reason), reason ? reason : "");
	return db_x(g->app->db,
	    "UPDATE messages SET status=?2, class=?3, reason=?4, project_id=NULLIF(?5,0)"
	    " WHERE id=?1",
	    "ittti", g->msg, ingest_status_name(s), cls, reason, g->res->project);
}

/* An image the HTML body shows by its Content-ID and small enough to be
 * a logo or an icon of a signature, not a photo or a scan someone sent:
 * kept with the message, never taken for a document. */
#define EMBEDDED_MAX ((size_t)64 << 10)

static int
att_embedded(const struct mime_att *a)
{
	return a->shown && str_istarts(a->content_type, "image/") && a->len <= EMBEDDED_MAX;
}

static int
store_attachments(struct ing *g)
{
	for (size_t i = 0; i < g->m->natts; i++) {
		const struct mime_att *a = &g->m->atts[i];
		char sha[65];
		if (g->att_sha && g->att_sha[i][0])
			memcpy(sha, g->att_sha[i], sizeof(sha));
		else
			sha256_hex(a->data, a->len, sha);
		char *name = sanitize_filename(a->filename ? a->filename
		                                           : (a->is_message ? "message.eml"
		                                                            : "attachment"));
		char *rel = xasprintf("att/%.2s/%s/%s", sha, sha, name);
		int r;
		if (a->spill) {
			/* Decoded to disk: the batch's barrier put it in place. */
			char *path = path_join(g->app->cfg->data_dir, rel);
			r = present(path, a->len) ? 0 : -1;
			if (r < 0) {
				errno = EIO;
				log_error("event=store_failed path=%s error=%s", log_q(path),
				    "decoded attachment not in place");
			}
			free(path);
		} else {
			r = store_file(g->app, rel, a->data, a->len);
		}
		if (r == 0)
			r = db_x(g->app->db,
			    "INSERT INTO attachments(message_id,filename,orig_filename,"
			    "content_type,size,sha256,path,embedded) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
			    "itttittd", g->msg, name, a->filename, a->content_type,
			    (int64_t)a->len, sha, rel, att_embedded(a));
		free(name);
		free(rel);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- routing ----------------------------------------------------------- */

static const struct cfg_user *
bok_user(const struct config *cfg)
{
	const struct cfg_user *u = config_user_by_role(cfg, ROLE_BOK);
	return u ? u : config_user_by_role(cfg, ROLE_ADMIN);
}

/* Recorded and left alone: automatic mail, spam.  The reason is
 * "<class> (<why>)". */
static int
ignore(struct ing *g, enum msg_class c, const char *why)
{
	char reason[320];
	snprintf(reason, sizeof(reason), "%s (%s)", class_name(c), why);
	if (hist_add(g->app->db, 0, g->msg, "system", "ignored", "message from %s ignored: %s",
	        g->m->from_addr ? g->m->from_addr : "?", reason) < 0)
		return -1;
	return set_status(g, ING_IGNORED, class_name(c), reason);
}

/* Hold the message for BOK with a reason and a task. */
static int
hold(struct ing *g, const char *reason)
{
	const struct cfg_user *bok = bok_user(g->app->cfg);
	if (hist_add(g->app->db, 0, g->msg, "system", "held", "message from %s held: %s",
	        g->m->from_addr, reason) < 0)
		return -1;
	if (bok) {
		int de = strcmp(bok->lang, "de") == 0;
		char *desc = xasprintf("%s\nFrom: %s\nSubject: %s", reason, g->m->from_addr,
		    g->m->subject);
		int64_t t = task_open(g->app, 0, g->msg, "review-held",
		    store_user_id(g->app->db, bok->login),
		    de ? "Zurückgehaltene Nachricht prüfen" : "Sprawdź wstrzymaną wiadomość", desc,
		    (1u << CMD_NOTE) | (1u << CMD_DONE), 0, NULL, &g->res->replies);
		free(desc);
		if (t < 0)
			return -1;
	}
	return set_status(g, ING_HELD, "normal", reason);
}

/* A PDF or image the client attached (not a signature logo). */
static int
has_document(const struct mime_msg *m)
{
	for (size_t i = 0; i < m->natts; i++) {
		const struct mime_att *a = &m->atts[i];
		if (att_embedded(a))
			continue;
		if (strcmp(a->content_type, "application/pdf") == 0 ||
		    str_istarts(a->content_type, "image/"))
			return 1;
	}
	return 0;
}

/* What a client's message means in the project's state: an acceptance of
 * the offer, a signed-order candidate, or words for the owner to read. */
static int
client_message(struct ing *g, int64_t project)
{
	struct app *app = g->app;
	char *state = NULL;
	int64_t owner = 0;
	if (db_1s(app->db, &state, "SELECT state FROM projects WHERE id=?1", "i", project) != 1 ||
	    db_1i(app->db, &owner, "SELECT coalesce(owner_id,0) FROM projects WHERE id=?1", "i",
	        project) < 0) {
		free(state);
		return -1;
	}
	if (!owner) {
		const struct cfg_user *bok = bok_user(app->cfg);
		owner = bok ? store_user_id(app->db, bok->login) : 0;
	}
	const struct cfg_user *u = owner ? store_user_cfg(app, owner) : NULL;
	int de = u && strcmp(u->lang, "de") == 0;
	char *text = reply_new_text(g->m->text);
	struct reply rp;
	reply_parse(text, &rp);
	struct wf_ctx ctx = {.actor_name = g->m->from_addr, .message = g->msg,
	    .thread_id = g->m->message_id};
	int r = 0;
	/* An acceptance with words after it on its line ("akceptuję ofertę
	 * pod warunkiem …", "…, ale …") is for the owner to read, not to act
	 * on by itself. */
	if (strcmp(state, "offer") == 0 && rp.cmd == CMD_ACCEPTED && !*rp.arg) {
		r = hist_add(app->db, project, g->msg, g->m->from_addr, "accepted",
		        "the client accepted the offer") < 0 || wf_fire(app, project, "accepted", &ctx) < 0
		    ? -1 : 0;
	} else if (strcmp(state, "awaiting-signature") == 0 && has_document(g->m) && owner) {
		/* Who sent it: the client, or a colleague passing on what the
		 * client sent them. */
		const struct cfg_user *fw = g->forwarded_by;
		char *who = fw ? xasprintf(de ? "%s hat eine Datei weitergeleitet"
		                              : "%s przekazał(a) plik", fw->name)
		               : xstrdup(de ? "Der Kunde hat eine Datei geschickt"
		                            : "Klient przysłał plik");
		char *desc = xasprintf(de ? "%s – ist das der unterschriebene Auftrag? CONFIRM "
		                            "speichert sie als solchen.\n\n%s"
		                          : "%s – czy to podpisane zamówienie? CONFIRM zapisze go jako "
		                            "podpisane zamówienie.\n\n%s", who, text);
		free(who);
		r = task_open(app, project, g->msg, "confirm-signed-order", owner,
		        de ? "Unterschriebenen Auftrag prüfen" : "Sprawdź podpisane zamówienie", desc,
		        (1u << CMD_CONFIRM) | (1u << CMD_REFUSE) | (1u << CMD_NOTE), now_epoch() + 86400,
		        "message", &ctx.replies) < 0 ? -1 : 0;
		free(desc);
	} else if (strcmp(state, "closed") == 0) {
		/* After-sales: BOK and the owner look at it; COMPLAINT opens a case. */
		static const char *words[] = {"reklamacj", "reklamuj", "reklamation", "beanstand",
		    "complaint", "wadliw", "uszkodz", "mangelhaft"};
		char *low = str_lower(xstrdup(g->m->text));
		char *subj = str_lower(xstrdup(g->m->subject ? g->m->subject : ""));
		int likely = 0;
		for (size_t i = 0; i < ARRAY_LEN(words); i++)
			likely |= strstr(low, words[i]) || strstr(subj, words[i]);
		free(low);
		free(subj);
		const struct cfg_user *bok = bok_user(app->cfg);
		int64_t ids[2] = {bok ? store_user_id(app->db, bok->login) : 0, owner};
		for (int k = 0; k < 2 && r == 0; k++) {
			if (!ids[k] || (k == 1 && ids[1] == ids[0]))
				continue;
			const struct cfg_user *who = store_user_cfg(app, ids[k]);
			int wde = who && strcmp(who->lang, "de") == 0;
			const char *title = likely ? (wde ? "Wahrscheinlich eine Reklamation"
			                                  : "Prawdopodobnie reklamacja")
			                           : (wde ? "Kunde schreibt zu abgeschlossenem Projekt"
			                                  : "Klient pisze w zamkniętym projekcie");
			r = task_open(app, project, g->msg, "complaint-review", ids[k], title, text,
			        (1u << CMD_COMPLAINT) | (1u << CMD_NOTE) | (1u << CMD_DONE),
			        now_epoch() + 86400, "message", &ctx.replies) < 0 ? -1 : 0;
		}
	} else if (owner) {
		r = task_open(app, project, g->msg, "client-replied", owner,
		        de ? "Der Kunde hat geschrieben" : "Klient odpowiedział", text,
		        1u << CMD_NOTE, now_epoch() + 86400, "message", &ctx.replies) < 0 ? -1 : 0;
	}
	g->res->replies += ctx.replies;
	reply_free(&rp);
	free(text);
	free(state);
	return r;
}

/* An encrypted message in the project's history: whoever handles it sees
 * why its text is missing, and the task mail quoting it says so. */
static int
note_encrypted(struct ing *g, int64_t project)
{
	unsigned e = g->m->encrypted;
	if (!e)
		return 0;
	const char *kind = (e & MIME_ENC_SMIME) && (e & MIME_ENC_PGP) ? "S/MIME and OpenPGP"
	                   : e & MIME_ENC_SMIME                     ? "S/MIME"
	                   : e & MIME_ENC_PGP                       ? "OpenPGP"
	                                                            : "multipart/encrypted";
	return hist_add_encrypted(g->app->db, project, g->msg, kind, g->m->from_addr) < 0 ? -1 : 0;
}

/* Attach the message to an existing project. */
/* The message joins project: its history ("mail from X (how): subject",
 * by actor) and its status, processed with reason. */
static int
mail_in(struct ing *g, int64_t project, const char *actor, const char *how,
    const char *reason)
{
	g->res->project = project;
	if (db_x(g->app->db, "UPDATE projects SET updated=?2 WHERE id=?1", "ii", project,
	        now_epoch()) < 0 ||
	    hist_add(g->app->db, project, g->msg, actor, "mail-in", "mail from %s (%s): %s",
	        g->m->from_addr, how, g->m->subject) < 0 ||
	    note_encrypted(g, project) < 0)
		return -1;
	return set_status(g, ING_PROCESSED, "normal", reason);
}

static int
attach(struct ing *g, int64_t project, const char *how)
{
	if (mail_in(g, project, g->m->from_addr, how, how) < 0)
		return -1;
	return client_message(g, project);
}

/* Project of a message-id we sent or stored, 0 if none. */
static int64_t
project_of_msgid(struct db *db, const char *id)
{
	int64_t p = 0;
	if (db_1i(db, &p, "SELECT project_id FROM outbox WHERE message_id=?1", "t", id) == 1 && p)
		return p;
	if (db_1i(db, &p,
	        "SELECT project_id FROM messages WHERE message_id=?1 AND project_id IS NOT NULL"
	        " ORDER BY id DESC LIMIT 1",
	        "t", id) == 1)
		return p;
	return 0;
}

static int64_t
project_by_thread(struct ing *g)
{
	const struct mime_msg *m = g->m;
	if (m->in_reply_to) {
		int64_t p = project_of_msgid(g->app->db, m->in_reply_to);
		if (p)
			return p;
	}
	for (size_t i = m->nrefs; i-- > 0;) {
		int64_t p = project_of_msgid(g->app->db, m->refs[i]);
		if (p)
			return p;
	}
	return 0;
}

static int thread_sender_ok(struct ing *g, int64_t p);

/* How much of a text is searched for document numbers. */
#define DOC_SCAN ((size_t)64 << 10)
#define DOC_NUMBERS 8

/* The project of a document number the message names: in its subject,
 * then its files' names, then its text ("Zamówienie ZA/2026/0042
 * podpisane", "ZA-2026-0042 skan.pdf").  A client who writes a new mail
 * about an order instead of answering ours names it so.  For a client's
 * mail (client set) only a project whose client the sender belongs to
 * counts, as for a project number in the subject; others are just text.
 * The number goes to num.  0 when none, -1 on a database error. */
static int64_t
project_by_doc_number(struct ing *g, int client, char num[DOC_NUMBER_MAX])
{
	const struct mime_msg *m = g->m;
	char found[DOC_NUMBERS][DOC_NUMBER_MAX];
	size_t n = doc_numbers_find(m->subject, DOC_SCAN, found, DOC_NUMBERS);
	for (size_t i = 0; i < m->natts && n < DOC_NUMBERS; i++)
		n += doc_numbers_find(m->atts[i].filename, DOC_SCAN, found + n, DOC_NUMBERS - n);
	if (n < DOC_NUMBERS)
		n += doc_numbers_find(m->text, DOC_SCAN, found + n, DOC_NUMBERS - n);
	for (size_t i = 0; i < n; i++) {
		int64_t p = 0;
		int rc = db_1i(g->app->db, &p,
		    "SELECT project_id FROM documents WHERE number=?1 AND project_id IS NOT NULL"
		    " UNION ALL SELECT project_id FROM complaints WHERE number=?1 LIMIT 1",
		    "t", found[i]);
		if (rc < 0)
			return -1;
		if (rc == 0 || !p)
			continue;
		int ok = client ? thread_sender_ok(g, p) : 1;
		if (ok < 0)
			return -1;
		if (ok) {
			memcpy(num, found[i], DOC_NUMBER_MAX);
			return p;
		}
	}
	return 0;
}

/* A client who resends an inquiry (no answer yet, or to a second address
 * of the shop, or as a forward of their own mail) writes no tag and no
 * reply.  It is that project's when all three hold for a recent inquiry
 * of theirs: its text is inside the new one (whitespace and quote marks
 * ignored; its first RESEND_NEEDLE bytes), its title is in the new
 * subject, and every file of the new mail was in it.  A client whose
 * every mail has the same words and subject but another file opens a new
 * project each time. */
#define RESEND_DAYS 30
#define RESEND_NEEDLE 400
#define RESEND_MIN 40
#define RESEND_PROJECTS 20

/* The contact with address addr and its client: 1 with both set, 0 when
 * there is none, -1 on a database error. */
static int
contact_of(struct db *db, const char *addr, int64_t *contact, int64_t *client)
{
	struct db_stmt *q = db_q(db, "SELECT id, client_id FROM contacts WHERE email=?1", "t", addr);
	if (!q)
		return -1;
	int rc = db_step(q);
	if (rc == 1) {
		*contact = db_int(q, 0);
		*client = db_int(q, 1);
	}
	db_done(q);
	return rc;
}

/* text without blanks and '>' quote marks, at most max bytes of it read. */
static char *
squeeze(const char *text, size_t max)
{
	size_t n = strnlen(text, max);
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '>')
			*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

static int64_t
project_by_resend(struct ing *g)
{
	struct db *db = g->app->db;
	int64_t contact = 0, client = 0;
	int rc = contact_of(db, g->m->from_addr, &contact, &client);
	if (rc != 1)
		return rc < 0 ? -1 : 0;
	struct db_stmt *q = db_q(db,
	    "SELECT p.id, p.title, m.id, m.body FROM projects p JOIN messages m ON m.id ="
	    " (SELECT min(id) FROM messages WHERE project_id=p.id)"
	    " WHERE p.client_id=?1 AND p.contact_id=?2 AND p.created>=?3"
	    " ORDER BY p.id DESC LIMIT ?4",
	    "iiii", client, contact, now_epoch() - RESEND_DAYS * 86400, (int64_t)RESEND_PROJECTS);
	if (!q)
		return -1;
	char *hay = NULL, *subject = route_clean_subject(g->m->subject);
	int64_t found = 0, orig = 0;
	while (!found && (rc = db_step(q)) == 1) {
		const char *title = db_text(q, 1), *body = db_text(q, 3);
		if (!body || !title || !*subject || !strcasestr(subject, title))
			continue;
		char *needle = squeeze(body, 16 * RESEND_NEEDLE);
		if (strlen(needle) >= RESEND_MIN) {
			needle[strnlen(needle, RESEND_NEEDLE)] = '\0';
			if (!hay)
				hay = squeeze(g->m->text, (size_t)64 << 10);
			if (strstr(hay, needle)) {
				found = db_int(q, 0);
				orig = db_int(q, 2);
			}
		}
		free(needle);
	}
	db_done(q);
	free(hay);
	free(subject);
	if (rc < 0)
		return -1;
	int64_t other = 0;
	if (found && db_1i(db, &other,
	                 "SELECT count(*) FROM attachments WHERE message_id=?1 AND embedded=0 AND"
	                 " sha256 NOT IN (SELECT sha256 FROM attachments WHERE message_id=?2)",
	                 "ii", g->msg, orig) < 0)
		return -1;
	return other ? 0 : found;
}

/* Find or create the client and contact of the sender. */
static int
find_client(struct ing *g, int64_t *client, int64_t *contact, int *created)
{
	struct app *app = g->app;
	struct db *db = app->db;
	const char *addr = g->m->from_addr;
	const char *dom = domain_of(addr);
	int rc = contact_of(db, addr, contact, client);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;

	int freemail = config_is_freemail(app->cfg, dom);
	*client = 0;
	if (!freemail && db_1i(db, client, "SELECT id FROM clients WHERE domain=?1 ORDER BY id"
	                                   " LIMIT 1", "t", dom) < 0)
		return -1;
	if (!*client) {
		/* The language: an assignment rule's, else the one the client
		 * wrote in (a German writing from gmail.com or a .com domain
		 * gets German), else the shop's default. */
		const struct cfg_rule *rule = config_rule_for(app->cfg, dom);
		const char *lang = rule && rule->lang ? rule->lang : NULL;
		if (!lang)
			lang = classify_lang(g->m->subject, g->m->text);
		if (!lang)
			lang = app->cfg->default_lang;
		const char *cur = rule && rule->currency ? rule->currency
		                  : strcmp(lang, "de") == 0 ? "EUR" : app->cfg->default_currency;
		int64_t owner = rule && rule->owner ? store_user_id(db, rule->owner) : 0;
		const char *name = freemail ? (g->m->from_name && *g->m->from_name ? g->m->from_name
		                                                                   : addr)
		                            : dom;
		if (db_x(db,
		        "INSERT INTO clients(name,domain,owner_id,lang,currency,created)"
		        " VALUES(?1,?2,NULLIF(?3,0),?4,?5,?6)",
		        "ttitti", name, freemail ? NULL : dom, owner > 0 ? owner : 0, lang, cur,
		        now_epoch()) < 0)
			return -1;
		*client = db_last_id(db);
		*created = 1;
	}
	if (db_x(db, "INSERT INTO contacts(client_id,email,name,created) VALUES(?1,?2,?3,?4)",
	        "itti", *client, addr, g->m->from_name, now_epoch()) < 0)
		return -1;
	*contact = db_last_id(db);
	return 0;
}

static int
new_inquiry(struct ing *g)
{
	struct app *app = g->app;
	struct db *db = app->db;
	int64_t client = 0, contact = 0;
	int client_created = 0;
	if (find_client(g, &client, &contact, &client_created) < 0)
		return -1;

	char *cname = NULL, *lang = NULL, *cur = NULL;
	int64_t owner_id = 0;
	struct db_stmt *q = db_q(db, "SELECT name, lang, currency, owner_id FROM clients WHERE id=?1",
	    "i", client);
	if (!q || db_step(q) != 1) {
		if (q)
			db_done(q);
		return -1;
	}
	cname = xstrdup(db_text(q, 0));
	lang = xstrdup(db_text(q, 1));
	cur = xstrdup(db_text(q, 2));
	owner_id = db_isnull(q, 3) ? 0 : db_int(q, 3);
	db_done(q);

	/* An existing client without an account manager may be matched by a
	 * rule added since. */
	const char *owner_how = "client's account manager";
	const struct cfg_rule *rule = config_rule_for(app->cfg, domain_of(g->m->from_addr));
	/* Else a rep who forwarded the inquiry of a client nobody looks
	 * after yet: that rep's client from now on. */
	const char *claim = NULL;
	if (!owner_id && rule && rule->owner) {
		claim = rule->owner;
		owner_how = "assignment rule";
	} else if (!owner_id && g->forwarded_by && g->forwarded_by->role == ROLE_REP) {
		claim = g->forwarded_by->login;
		owner_how = "forwarded the inquiry";
	}
	if (claim) {
		owner_id = store_user_id(db, claim);
		if (owner_id < 0)
			owner_id = 0;
		if (owner_id && db_x(db, "UPDATE clients SET owner_id=?2 WHERE id=?1", "ii", client,
		                    owner_id) < 0)
			goto fail;
	}
	const struct cfg_user *owner = owner_id ? store_user_cfg(app, owner_id) : NULL;
	if (!owner)
		owner_id = 0;

	char *title = route_clean_subject(g->m->subject);
	if (!*title) {
		free(title);
		title = xstrdup(strcmp(lang, "de") == 0 ? "(ohne Betreff)" : "(bez tematu)");
	}
	int64_t now = now_epoch();
	const char *initial = app->cfg->workflow->initial;
	int r = db_x(db,
	    "INSERT INTO projects(client_id,contact_id,owner_id,state,title,lang,currency,"
	    "created,updated) VALUES(?1,?2,NULLIF(?3,0),?4,?5,?6,?7,?8,?8)",
	    "iiitttti", client, contact, owner_id, initial, title, lang, cur, now);
	if (r < 0) {
		free(title);
		goto fail;
	}
	int64_t project = db_last_id(db);
	g->res->project = project;
	g->res->new_project = 1;
	if (db_x(db, "UPDATE messages SET project_id=?2 WHERE id=?1", "ii", g->msg, project) < 0 ||
	    hist_add(db, project, g->msg, g->m->from_addr, "mail-in", "inquiry from %s: %s",
	        g->m->from_addr, g->m->subject) < 0 ||
	    note_encrypted(g, project) < 0 ||
	    hist_add(db, project, g->msg, "system", "project-created",
	        "project INK-%lld created for client %s%s (%s, %s)", (long long)project, cname,
	        client_created ? " (new client)" : "", lang, cur) < 0)
		goto fail_title;
	if (owner && hist_add(db, project, g->msg, "system", "owner-assigned", "owner %s (%s)",
	                 owner->login, owner_how) < 0)
		goto fail_title;
	if (g->forwarded_by &&
	    hist_add(db, project, g->msg, g->forwarded_by->login, "forwarded",
	        "inquiry forwarded by %s (%s)", g->forwarded_by->name, g->forwarded_by->login) < 0)
		goto fail_title;
	if (!owner && hist_add(db, project, g->msg, "system", "owner-missing",
	                  "no account manager and no assignment rule for %s; BOK assigns one",
	                  domain_of(g->m->from_addr)) < 0)
		goto fail_title;

	/* The rest is the process: acknowledgement, tasks (workflow.xml). */
	struct wf_ctx ctx = {.actor_name = "system", .message = g->msg,
	    .thread_id = g->m->message_id, .quiet_client = g->forwarded_by != NULL};
	if (wf_start(app, project, &ctx) < 0)
		goto fail_title;
	g->res->replies += ctx.replies;
	free(title);
	free(cname);
	free(lang);
	free(cur);
	return set_status(g, ING_PROCESSED, "normal",
	    g->forwarded_by ? "new inquiry, forwarded by staff" : "new inquiry");
fail_title:
	free(title);
fail:
	free(cname);
	free(lang);
	free(cur);
	return -1;
}

/* A bounce: find which of our mails it reports and attach it there. */
static int
handle_bounce(struct ing *g, const char *why)
{
	char **ids = NULL;
	size_t n = 0;
	route_find_our_ids(g->m->text, g->app->cfg->domain, &ids, &n);
	for (size_t i = 0; i < g->m->natts; i++) {
		const struct mime_att *a = &g->m->atts[i];
		if (a->is_message || str_istarts(a->content_type, "message/") ||
		    str_istarts(a->content_type, "text/")) {
			char *t = xstrndup(a->data, a->len);
			route_find_our_ids(t, g->app->cfg->domain, &ids, &n);
			free(t);
		}
	}
	int64_t project = 0;
	const char *which = NULL;
	for (size_t i = 0; i < n && !project; i++) {
		int64_t p = 0;
		if (db_1i(g->app->db, &p, "SELECT coalesce(project_id,0) FROM outbox WHERE message_id=?1",
		        "t", ids[i]) == 1) {
			project = p;
			which = ids[i];
		}
	}
	int r = 0;
	if (which) {
		r = db_x(g->app->db,
		    "UPDATE outbox SET last_error=?2 WHERE message_id=?1", "tt", which,
		    "bounced (see the project history)");
		if (r == 0 && project)
			r = hist_add(g->app->db, project, g->msg, g->m->from_addr ? g->m->from_addr : "",
			        "bounce", "our mail <%s> bounced: %s", which, g->m->subject) < 0 ? -1 : 0;
	}
	int found = which != NULL;
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (r < 0)
		return -1;
	g->res->project = project;
	char reason[400];
	snprintf(reason, sizeof(reason), "bounce (%s)%s", why,
	    found ? "; attached to the project of our mail" : "");
	return set_status(g, ING_IGNORED, "bounce", reason);
}

/* Refuse a command: logged as a security event, answered (to staff only,
 * within the automatic-mail limit) without details that help forging. */
static int
refuse(struct ing *g, const struct cfg_user *staff, const char *why_log, const char *why_user)
{
	struct app *app = g->app;
	log_warn("event=security msg=%lld from=%s reason=%s", (long long)g->msg,
	    log_q(g->m->from_addr), log_q(why_log));
	if (hist_add(app->db, 0, g->msg, "system", "security", "command from %s refused: %s",
	        g->m->from_addr, why_log) < 0)
		return -1;
	if (staff && outbox_auto_count(app, staff->email) < app->cfg->limits.auto_replies_per_hour) {
		int de = strcmp(staff->lang, "de") == 0;
		struct cmd_outcome o = {
		    .title = xstrdup(de ? "Befehl nicht ausgeführt" : "Polecenie nie zostało wykonane"),
		    .text = xasprintf("%s\n\n%s\n", why_user,
		        de ? "Es wurde nichts geändert. Benutzen Sie die Links oder die Antwort-"
		             "Funktion der letzten Aufgaben-E-Mail; Befehle ohne gültigen Link\n"
		             "werden aus Sicherheitsgründen nicht ausgeführt."
		           : "Niczego nie zmieniono. Użyj linków lub funkcji „Odpowiedz” z ostatniej\n"
		             "wiadomości z zadaniem; polecenia bez ważnego linku nie są wykonywane\n"
		             "ze względów bezpieczeństwa."),
		};
		int r = cmd_answer(app, store_user_id(app->db, staff->login), &o);
		cmd_outcome_free(&o);
		if (r < 0)
			return -1;
		g->res->replies++;
	}
	return set_status(g, ING_REFUSED, "command", why_log);
}

static int route_client(struct ing *g);
static int attach(struct ing *g, int64_t project, const char *how);

/* A client's reply through the signed address of a mail we sent them:
 * from that contact it routes to the task's project like a tagged reply;
 * from anyone else it is routed by the usual rules (and logged). */
static int
client_link(struct ing *g, const struct token_claims *cl)
{
	struct app *app = g->app;
	int64_t project = 0;
	char *email = NULL;
	db_1i(app->db, &project, "SELECT coalesce(project_id,0) FROM tasks WHERE id=?1", "i",
	    cl->task);
	db_1s(app->db, &email, "SELECT email FROM contacts WHERE id=?1", "i", cl->user);
	int ok = project && email && str_ieq(email, g->m->from_addr);
	free(email);
	if (ok)
		return attach(g, project, "client link");
	log_warn("event=security msg=%lld from=%s reason=\"client link of contact %lld used by "
	         "another sender\"", (long long)g->msg, log_q(g->m->from_addr), (long long)cl->user);
	return route_client(g);
}

/* 1 when m reads as a command: the subject ("[INK-12] APPROVE", as an
 * action link writes it) or a line of the new text above the quote is
 * one.  Only the first lines are looked at. */
#define COMMAND_SCAN_LINES 100

static int
command_like(const struct mime_msg *m)
{
	struct reply rp;
	reply_parse(m->subject ? m->subject : "", &rp);
	int found = rp.cmd != CMD_NONE;
	reply_free(&rp);
	char *text = reply_new_text(m->text);
	char *p = text;
	for (int n = 0; !found && *p && n < COMMAND_SCAN_LINES; n++) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		reply_parse(p, &rp);
		found = rp.cmd != CMD_NONE;
		reply_free(&rp);
		p = nl ? nl + 1 : p + strlen(p);
	}
	free(text);
	return found;
}

/* A client's mail a staff member forwarded to the office, outside any
 * project: a new inquiry from the client named in the forwarded part
 * (the rep who forwarded it becomes the owner of a client nobody looks
 * after yet; the client gets no acknowledgement, the rep is in touch).
 * When the forwarded part names nobody outside the shop, BOK looks at it. */
static int
forwarded_inquiry(struct ing *g, const struct cfg_user *staff)
{
	struct app *app = g->app;
	struct mime_msg *m = g->m;
	char *addr = NULL, *name = NULL;
	int ok = reply_forwarded_from(m->text, &addr, &name);
	const char *why = "the forwarded part names no sender";
	if (ok && ((app->cfg->domain && str_ieq(domain_of(addr), app->cfg->domain)) ||
	              config_user_by_email(app->cfg, addr) ||
	              (app->cfg->system_address && str_ieq(addr, app->cfg->system_address)))) {
		ok = 0;
		why = "the forwarded mail is from the shop itself";
	}
	if (!ok) {
		free(addr);
		free(name);
		char reason[200];
		snprintf(reason, sizeof(reason), "forward from staff member %s: %s", staff->login,
		    why);
		return hold(g, reason);
	}
	log_info("event=forwarded_inquiry msg=%lld by=%s from=%s", (long long)g->msg,
	    log_q(staff->login), log_q(addr));
	free(m->from_addr);
	m->from_addr = addr;
	free(m->from_name);
	m->from_name = name;
	g->forwarded_by = staff;
	return new_inquiry(g);
}

/* Staff mail without a task token that commands nothing: a copy of the
 * staff member's correspondence with a client (biuro@ in Cc), a client's
 * mail forwarded to the office, a signed order a rep got directly.  With
 * the project named by its subject tag or found by its thread, it goes
 * into that project's history (a file in the awaiting-signature state
 * asks the owner whether it is the signed order, as from the client);
 * otherwise BOK looks at it.  Nothing is carried out and no "refused"
 * answer goes back: there was no command to refuse. */
static int
staff_mail(struct ing *g, const struct cfg_user *staff)
{
	struct app *app = g->app;
	const struct mime_msg *m = g->m;
	int64_t p = 0, n = 0;
	if (route_subject_tag(m->subject, &p) &&
	    db_1i(app->db, &n, "SELECT count(*) FROM projects WHERE id=?1", "i", p) < 0)
		return -1;
	if (!n)
		p = project_by_thread(g);
	char num[DOC_NUMBER_MAX] = "";
	if (!p && (p = project_by_doc_number(g, 0, num)) < 0)
		return -1;
	if (!p && route_subject_forward(m->subject))
		return forwarded_inquiry(g, staff);
	if (!p) {
		char reason[200];
		snprintf(reason, sizeof(reason),
		    "mail from staff member %s without a task link or a project", staff->login);
		return hold(g, reason);
	}
	char *state = NULL;
	char how[64] = "staff";
	if (*num)
		snprintf(how, sizeof(how), "staff, document %s", num);
	if (mail_in(g, p, staff->login, how,
	        "staff mail to the project (no command)") < 0 ||
	    db_1s(app->db, &state, "SELECT state FROM projects WHERE id=?1", "i", p) < 0) {
		free(state);
		return -1;
	}
	int r = 0;
	if (state && strcmp(state, "awaiting-signature") == 0 && has_document(m)) {
		g->forwarded_by = staff;
		r = client_message(g, p);
	}
	free(state);
	return r;
}

/* Mail from staff or carrying a task token: carry out the command it holds
 * when, and only when, the token verifies, is current, names this task and
 * this user, and the From is that user's address. */
static int
staff_command(struct ing *g, const char *token, const struct cfg_user *staff)
{
	struct app *app = g->app;
	int de = staff && strcmp(staff->lang, "de") == 0;
	if (!token && !command_like(g->m))
		return staff_mail(g, staff);
	if (!token)
		return refuse(g, staff, "command without a task token",
		    de ? "Ihre Nachricht enthält keinen gültigen Aufgaben-Link."
		       : "Wiadomość nie zawiera ważnego linku do zadania.");
	struct token_claims cl;
	enum token_check tc = token_verify(app->key, token, now_epoch(), &cl);
	if (tc == TOKEN_OK && (cl.actions & TOKEN_CLIENT))
		return client_link(g, &cl);
	if (tc == TOKEN_MALFORMED || tc == TOKEN_BAD_MAC)
		return refuse(g, staff, tc == TOKEN_BAD_MAC ? "token does not verify (forged or altered)"
		                                            : "malformed token",
		    de ? "Der Link in Ihrer Nachricht ist ungültig."
		       : "Link w wiadomości jest nieprawidłowy.");
	if (tc == TOKEN_EXPIRED)
		return refuse(g, staff, "token expired",
		    de ? "Der Link ist abgelaufen." : "Link wygasł.");
	int64_t from_user = staff ? store_user_id(app->db, staff->login) : -1;
	if (!staff || from_user != cl.user) {
		char why[160];
		snprintf(why, sizeof(why), "token of user %lld for task %lld used by %s",
		    (long long)cl.user, (long long)cl.task, g->m->from_addr);
		return refuse(g, staff, why,
		    de ? "Dieser Link gehört einer anderen Person."
		       : "Ten link należy do innej osoby.");
	}
	char *text = reply_new_text(g->m->text);
	struct reply rp;
	reply_parse(text, &rp);
	if (rp.cmd != CMD_NONE && !(cl.actions & (1u << rp.cmd))) {
		/* The token was issued without this action. */
		reply_free(&rp);
		free(text);
		return refuse(g, staff, "command outside the token's actions",
		    de ? "Dieser Befehl ist für die Aufgabe nicht vorgesehen."
		       : "To polecenie nie dotyczy tego zadania.");
	}
	struct cmd_input in = {.task = cl.task, .user = cl.user, .cmd = rp.cmd, .arg = rp.arg,
	    .rest = rp.rest, .text = text, .message = g->msg, .via = "mail"};
	struct cmd_outcome o;
	int r = cmd_execute(app, &in, &o);
	reply_free(&rp);
	free(text);
	if (r < 0)
		return -1;
	g->res->project = o.project;
	g->res->replies += o.mails;
	if (db_x(app->db, "UPDATE messages SET project_id=NULLIF(?2,0) WHERE id=?1", "ii", g->msg,
	        o.project) < 0 ||
	    hist_add(app->db, o.project, g->msg, staff->login, "mail-in", "reply from %s to task %lld%s",
	        staff->login, (long long)cl.task, o.done ? "" : " (nothing done)") < 0 ||
	    cmd_answer(app, cl.user, &o) < 0) {
		cmd_outcome_free(&o);
		return -1;
	}
	g->res->replies++;
	char reason[200];
	snprintf(reason, sizeof(reason), "command on task %lld: %s", (long long)cl.task,
	    o.done ? "done" : "nothing done");
	cmd_outcome_free(&o);
	return set_status(g, ING_PROCESSED, "command", reason);
}

/* A calendar answer to one of our task entries (UID task-N@our domain)
 * from the task's assignee: the answer goes into the task's project
 * history ("accepted the calendar entry").  The answer authorises
 * nothing, so the From matching the assignee is enough for a note.
 * 0 (with g->res->project set when it belonged to a task), -1 on a
 * database error. */
static int
calendar_answer_note(struct ing *g)
{
	struct app *app = g->app;
	const struct mime_msg *m = g->m;
	struct ical_answer a;
	if (!m->from_addr || !classify_calendar_answer(m, &a))
		return 0;
	/* Our UIDs: "task-<id>@<domain>" (ical.c). */
	if (strncmp(a.uid, "task-", 5) != 0 || a.uid[5] < '1' || a.uid[5] > '9')
		return 0;
	char *at = NULL;
	errno = 0;
	long long task = strtoll(a.uid + 5, &at, 10);
	if (errno || *at != '@' || !app->cfg->domain || !str_ieq(at + 1, app->cfg->domain))
		return 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT coalesce(t.project_id,0), t.title, u.login, u.name FROM tasks t"
	    " JOIN users u ON u.id=t.assignee_id WHERE t.id=?1 AND u.email=?2",
	    "it", (int64_t)task, m->from_addr);
	if (!q)
		return -1;
	int rc = db_step(q);
	if (rc <= 0) {
		db_done(q);
		return rc;
	}
	int64_t project = db_int(q, 0);
	char *title = xstrdup(db_text(q, 1)), *login = xstrdup(db_text(q, 2));
	char *name = xstrdup(db_text(q, 3));
	db_done(q);
	const char *ps = a.partstat;
	const char *what = str_ieq(ps, "ACCEPTED")    ? "accepted"
	                   : str_ieq(ps, "DECLINED")  ? "declined"
	                   : str_ieq(ps, "TENTATIVE") ? "tentatively accepted"
	                   : str_ieq(ps, "DELEGATED") ? "delegated"
	                   : str_ieq(a.method, "COUNTER") ? "proposed another time for"
	                                                  : "answered";
	int r = 0;
	if (project) {
		r = hist_add(app->db, project, g->msg, login, "calendar-answer",
		        "%s %s the calendar entry of task %lld \"%s\"", name, what, task, title) < 0
		        ? -1
		        : 0;
		g->res->project = project;
	}
	free(title);
	free(login);
	free(name);
	return r;
}

static int
route(struct ing *g)
{
	struct app *app = g->app;
	const struct mime_msg *m = g->m;
	char why[256];
	enum msg_class c = classify(m, app->cfg->system_address, why, sizeof(why));
	if (c == CLASS_BOUNCE)
		return handle_bounce(g, why);
	if (c != CLASS_NORMAL) {
		if (c == CLASS_AUTOREPLY && calendar_answer_note(g) < 0)
			return -1;
		return ignore(g, c, why);
	}
	if (!m->from_addr || !strchr(m->from_addr, '@')) {
		if (hist_add(app->db, 0, g->msg, "system", "quarantined",
		        "message without a usable From address") < 0)
			return -1;
		return set_status(g, ING_QUARANTINED, "normal", "no usable From address");
	}
	/* A reply to a task mail: the token decides, never the From alone. */
	char *token = NULL;
	for (size_t i = 0; i < m->nrcpt && !token; i++)
		token = token_from_address(m->rcpt_addrs[i], app->cfg->system_address);
	if (!token)
		token = token_from_text(m->text);
	const struct cfg_user *staff = config_user_by_email(app->cfg, m->from_addr);
	if (token || staff) {
		int r = staff_command(g, token, staff);
		free(token);
		return r;
	}
	return route_client(g);
}

/* 1 when the sender of a reply in project p's thread may join it: a
 * contact of the project's client, or a colleague writing from the
 * client's own (not free-mail) domain, who becomes a contact. */
static int
thread_sender_ok(struct ing *g, int64_t p)
{
	struct db *db = g->app->db;
	const char *addr = g->m->from_addr;
	int64_t client = 0, n = 0;
	if (db_1i(db, &client, "SELECT client_id FROM projects WHERE id=?1", "i", p) < 0)
		return -1;
	if (!client)
		return 0;
	if (db_1i(db, &n, "SELECT count(*) FROM contacts WHERE client_id=?1 AND email=?2", "it",
	        client, addr) < 0)
		return -1;
	if (n)
		return 1;
	const char *dom = domain_of(addr);
	if (!*dom || config_is_freemail(g->app->cfg, dom))
		return 0;
	if (db_1i(db, &n, "SELECT count(*) FROM clients WHERE id=?1 AND domain=?2", "it", client,
	        dom) < 0)
		return -1;
	if (!n)
		return 0;
	if (db_x(db, "INSERT INTO contacts(client_id,email,name,created) VALUES(?1,?2,?3,?4)"
	             " ON CONFLICT DO NOTHING",
	        "itti", client, addr, g->m->from_name, now_epoch()) < 0)
		return -1;
	return 1;
}

/* A client's message: by subject tag (sender must be a contact of that
 * project's client), by thread, else a new inquiry. */
static int
route_client(struct ing *g)
{
	struct app *app = g->app;
	const struct mime_msg *m = g->m;

	int64_t tagged;
	if (route_subject_tag(m->subject, &tagged)) {
		int64_t client = 0;
		int rc = db_1i(app->db, &client, "SELECT client_id FROM projects WHERE id=?1", "i",
		    tagged);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			char reason[128];
			snprintf(reason, sizeof(reason), "subject names INK-%lld, which does not exist",
			    (long long)tagged);
			return hold(g, reason);
		}
		/* A contact, or a colleague from the client's own domain (who
		 * becomes a contact), as for a reply in the thread. */
		int ok = thread_sender_ok(g, tagged);
		if (ok < 0)
			return -1;
		if (!ok) {
			char reason[200];
			snprintf(reason, sizeof(reason),
			    "subject names INK-%lld but the sender is not a contact of that "
			    "project's client", (long long)tagged);
			return hold(g, reason);
		}
		return attach(g, tagged, "subject tag");
	}
	/* "INK-7" typed without brackets: only from that project's people;
	 * from anyone else it is just text. */
	if (route_subject_bare_tag(m->subject, &tagged)) {
		int ok = thread_sender_ok(g, tagged); /* 0 for a project that does not exist */
		if (ok < 0)
			return -1;
		if (ok)
			return attach(g, tagged, "project number in the subject");
	}
	int64_t p = project_by_thread(g);
	if (p) {
		/* A Message-ID of the thread travels on every Cc and forward:
		 * like the tag, it counts only from the client's people. */
		int ok = thread_sender_ok(g, p);
		if (ok < 0)
			return -1;
		if (ok)
			return attach(g, p, "reply to a message of the project");
		char reason[200];
		snprintf(reason, sizeof(reason),
		    "reply in the thread of INK-%lld from someone who is not a contact of that "
		    "project's client", (long long)p);
		return hold(g, reason);
	}
	char num[DOC_NUMBER_MAX];
	if ((p = project_by_doc_number(g, 1, num)) < 0)
		return -1;
	if (p) {
		char how[64];
		snprintf(how, sizeof(how), "document number %s", num);
		return attach(g, p, how);
	}
	if ((p = project_by_resend(g)) < 0)
		return -1;
	if (p)
		return attach(g, p, "the same inquiry sent again");
	/* Spam opens no project and gets no acknowledgement (no backscatter);
	 * it stays recorded with the filter's verdict. */
	char why[200];
	if (classify_spam(m, why, sizeof(why))) {
		return ignore(g, CLASS_SPAM, why);
	}
	return new_inquiry(g);
}

/* 1 for an address nobody reads: "noreply@", "no-reply+x@",
 * "donotreply@", "nie-odpowiadaj@", "keine-antwort@"… */
static int
noreply_address(const char *addr)
{
	static const char *const local[] = {"noreply", "no-reply", "no_reply", "donotreply",
	    "do-not-reply", "do_not_reply", "nie-odpowiadaj", "nieodpowiadaj", "keine-antwort",
	    "keineantwort", "bitte-nicht-antworten"};
	const char *at = strrchr(addr, '@');
	if (!at)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(local); i++) {
		size_t n = strlen(local[i]);
		if ((size_t)(at - addr) >= n && strncasecmp(addr, local[i], n) == 0 &&
		    (addr + n == at || addr[n] == '+' || addr[n] == '-' || addr[n] == '.' ||
		        addr[n] == '_'))
			return 1;
	}
	return 0;
}

/* Mail a form or a platform sends for a person: the shop's own website
 * (From the shop's own domain: noreply@, or the system address itself),
 * a lead platform or a marketplace (From a noreply@ address), a group
 * that rewrote the From, each with Reply-To the person who wrote.  That
 * person is the sender: the client, the contact and the address the
 * acknowledgement goes to.  Not for staff, and not for our own mail
 * (X-Inkflow-Loop, our Message-IDs), which classify() recognises as it
 * did.  The raw message keeps both. */
static void
form_sender(struct ing *g)
{
	struct mime_msg *m = g->m;
	const struct config *cfg = g->app->cfg;
	if (!m->from_addr || !m->reply_to_addr || !strchr(m->reply_to_addr, '@') ||
	    m->x_inkflow_loop || !cfg->domain || !*cfg->domain ||
	    !(str_ieq(domain_of(m->from_addr), cfg->domain) || noreply_address(m->from_addr)) ||
	    str_ieq(m->reply_to_addr, m->from_addr) ||
	    str_ieq(domain_of(m->reply_to_addr), cfg->domain) ||
	    config_user_by_email(cfg, m->from_addr))
		return;
	if (m->message_id && str_istarts(m->message_id, "ink-"))
		return;
	log_info("event=form_sender from=%s reply_to=%s", log_q(m->from_addr),
	    log_q(m->reply_to_addr));
	free(m->from_addr);
	m->from_addr = xstrdup(m->reply_to_addr);
	/* A group that rewrote the From of a sender whose domain asks for it
	 * (DMARC) keeps the name: "'Jan Kowalski' via Biuro" (Google Groups),
	 * "Jan Kowalski via Biuro" (Mailman).  A form's own name goes. */
	char *via = m->from_name ? strstr(m->from_name, " via ") : NULL;
	char *name = NULL;
	if (via) {
		const char *s = m->from_name, *e = via;
		if (*s == '\'' && e - s > 2 && e[-1] == '\'') {
			s++;
			e--;
		}
		if (e > s)
			name = xstrndup(s, (size_t)(e - s));
	}
	free(m->from_name);
	m->from_name = name;
}

/* Everything after the duplicate check, inside the transaction. */
static int
process(struct ing *g)
{
	char raw_rel[96];
	snprintf(raw_rel, sizeof(raw_rel), "raw/%.2s/%s.eml", g->raw_sha, g->raw_sha);
	if (store_file(g->app, raw_rel, g->raw, g->len) < 0)
		return -1;
	if (!g->m) {
		if (insert_message(g, raw_rel, "unparsed", "quarantined", g->parse_reason) < 0)
			return -1;
		if (hist_add(g->app->db, 0, g->msg, "system", "quarantined", "message quarantined: %s",
		        g->parse_reason) < 0)
			return -1;
		g->res->status = ING_QUARANTINED;
		str_copy(g->res->reason, sizeof(g->res->reason), g->parse_reason);
		return 0;
	}
	form_sender(g);
	if (insert_message(g, raw_rel, "normal", "processed", NULL) < 0)
		return -1;
	if (store_attachments(g) < 0)
		return -1;
	return route(g);
}

static void
mime_limits_from(const struct cfg_limits *l, struct mime_limits *ml)
{
	ml->max_message = l->max_message;
	ml->max_header = l->max_header;
	ml->max_header_line = l->max_header_line;
	ml->max_parts = l->max_parts;
	ml->max_depth = l->max_depth;
	ml->max_attachment = l->max_attachment;
}

/* Record a message that could not be processed for a reason that will not
 * go away by retrying, so it does not block the queue. */
static int
quarantine_after_failure(struct ing *g, const char *why)
{
	if (db_begin(g->app->db) < 0)
		return -1;
	struct mime_msg *keep = g->m;
	g->m = NULL;
	snprintf(g->parse_reason, sizeof(g->parse_reason), "processing failed: %s", why);
	int r = process(g);
	g->m = keep;
	if (r < 0 || db_commit(g->app->db) < 0) {
		db_rollback(g->app->db);
		return -1;
	}
	return 0;
}

/* ---- large messages -------------------------------------------------- */

/* A mapped message from BIG_MESSAGE bytes on is parsed through a stand-in:
 * long runs of base64 lines (RUN_MIN bytes or more: attachment data, which
 * can hold no header, boundary or blank line) are cut out, libetpan parses
 * what is left, and the attachments those runs belong to are decoded from
 * the mapping straight into files under the data directory, window by
 * window.  Neither the message nor its attachments are ever held whole in
 * memory.  When a run does not lie in the base64 body of an attachment of
 * the top-level message, the message is parsed whole as any other. */
#define BIG_MESSAGE INGEST_MAP_FROM
#define RUN_MIN ((size_t)64 << 10)

struct run {
	size_t off, len; /* raw[off..off+len): whole lines but the last one's end */
	size_t at;       /* where it was cut out of the stand-in */
};

static int
b64_line(const char *p, size_t n)
{
	if (n == 0 || n > 998)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!mime_b64_char((unsigned char)p[i]))
			return 0;
	return 1;
}

/* The stand-in: raw without its long base64 runs; *runs says what was cut
 * where.  NULL when there is nothing worth cutting. */
static char *
cut_runs(const struct ing *g, struct run **runs, size_t *nruns, size_t *skel_len)
{
	const char *raw = g->raw;
	size_t len = g->len, cap = 0, dropped = 0;
	*runs = NULL;
	*nruns = 0;
	size_t start = (size_t)-1, end = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t le = nl ? (size_t)(nl - raw) : len, ce = le;
		if (ce > i && raw[ce - 1] == '\r')
			ce--;
		int q = nl && b64_line(raw + i, ce - i);
		if (q && start == (size_t)-1)
			start = i;
		if (q)
			end = ce;
		if ((!q || !nl || le + 1 >= len) && start != (size_t)-1) {
			if (end - start >= RUN_MIN) {
				if (*nruns == cap) {
					cap = cap ? cap * 2 : 8;
					*runs = xrealloc(*runs, cap * sizeof(**runs));
				}
				(*runs)[(*nruns)++] = (struct run){start, end - start, start - dropped};
				dropped += end - start;
			}
			start = (size_t)-1;
		}
		size_t next = nl ? le + 1 : len;
		if (i / WINDOW != next / WINDOW)
			file_drop(raw, i / WINDOW * WINDOW, next / WINDOW * WINDOW);
		i = next;
	}
	file_drop(raw, 0, len);
	if (!*nruns)
		return NULL;
	char *skel = xmalloc(len - dropped + 1);
	size_t o = 0, from = 0;
	for (size_t r = 0; r < *nruns; r++) {
		memcpy(skel + o, raw + from, (*runs)[r].off - from);
		o += (*runs)[r].off - from;
		from = (*runs)[r].off + (*runs)[r].len;
	}
	memcpy(skel + o, raw + from, len - from);
	o += len - from;
	skel[o] = '\0';
	file_drop(raw, 0, len);
	*skel_len = o;
	return skel;
}

void
ingest_input_release(struct ingest_input *in)
{
	if (in->mapped)
		file_unmap((char *)in->raw, in->len);
	else
		free((char *)in->raw);
	in->raw = NULL;
}

int
ingest_spool_open(struct app *app, const char *sub, const char *tag, char **path)
{
	char rnd[17];
	random_hex(rnd, 8);
	char *dir = path_join(app->cfg->data_dir, sub);
	*path = xasprintf("%s/.%s-%s.tmp-%s", dir, tag, rnd, rnd);
	int fd = mkdir_p(dir, 0750) < 0 ? -1
	                                 : open(*path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	free(dir);
	return fd;
}

/* Decode attachment a, whose base64 body is skel[a->body_off..+body_len)
 * with the runs v[0..n) (those cut out inside it) put back, into a file
 * under the data directory; its hash into sha.  -1 with errno, or with
 * *limit set when the decoded size is over the attachment limit. */
static int
spill_att(struct ing *g, struct mime_att *a, const char *skel, const struct run *v, size_t n,
    char sha[65], int *limit)
{
	char *path;
	int fd = ingest_spool_open(g->app, "att", "decoded", &path);
	if (fd < 0) {
		free(path);
		return -1;
	}
	struct mime_b64 st = {0};
	struct sha256 c;
	sha256_init(&c);
	unsigned char *out = xmalloc(WINDOW / 4 * 3 + 8);
	size_t total = 0, pos = a->body_off, end = a->body_off + a->body_len;
	int bad = 0;
	/* Pieces in order: stand-in text up to each run, the run, the rest. */
	for (size_t k = 0; k <= n && !bad; k++) {
		size_t upto = k < n ? v[k].at : end;
		const char *src[2] = {skel + pos, k < n ? g->raw + v[k].off : NULL};
		size_t srclen[2] = {upto - pos, k < n ? v[k].len : 0};
		for (int s = 0; s < 2 && !bad; s++) {
			for (size_t done = 0; done < srclen[s] && !bad;) {
				size_t w = srclen[s] - done < WINDOW ? srclen[s] - done : WINDOW;
				size_t o = mime_b64_feed(&st, src[s] + done, w, out);
				if (s == 1)
					file_drop(g->raw, v[k].off + done, v[k].off + done + w);
				sha256_update(&c, out, o);
				total += o;
				bad = write_full(fd, out, o) < 0;
				done += w;
			}
		}
		pos = upto;
	}
	size_t o = mime_b64_end(&st, out);
	sha256_update(&c, out, o);
	total += o;
	if (!bad)
		bad = write_full(fd, out, o) < 0;
	free(out);
	int e = errno;
	if (close(fd) < 0 && !bad) {
		bad = 1;
		e = errno;
	}
	*limit = total > g->app->cfg->limits.max_attachment;
	sha256_final(&c, sha);
	if (bad || *limit) {
		unlink(path);
		free(path);
		errno = e;
		return -1;
	}
	free(a->data);
	a->data = NULL;
	a->len = total;
	a->spill = path;
	g->spills = xrealloc(g->spills, (g->nspills + 1) * sizeof(*g->spills));
	g->spills[g->nspills++] = xstrdup(path);
	return 0;
}

/* Parse g->raw into g->m (NULL, with the reason, when it cannot be). */
static void
parse_message(struct ing *g, const struct mime_limits *ml)
{
	struct run *v = NULL;
	size_t nv = 0, skel_len = 0;
	char *skel = g->mapped && g->len >= BIG_MESSAGE ? cut_runs(g, &v, &nv, &skel_len) : NULL;
	if (!skel) {
		if (mime_parse(g->raw, g->len, ml, &g->m, g->parse_reason, sizeof(g->parse_reason)) < 0)
			g->m = NULL;
		return;
	}
	int whole = 0;
	if (mime_parse(skel, skel_len, ml, &g->m, g->parse_reason, sizeof(g->parse_reason)) < 0) {
		g->m = NULL;
		whole = 1; /* the reason must be the real message's */
	}
	/* Each run must lie in the base64 body of one attachment. */
	size_t *owner = xcalloc(nv, sizeof(*owner));
	for (size_t r = 0; r < nv && !whole; r++) {
		owner[r] = (size_t)-1;
		for (size_t i = 0; i < g->m->natts && owner[r] == (size_t)-1; i++) {
			const struct mime_att *a = &g->m->atts[i];
			if (a->base64 && !a->is_message && a->body_off <= v[r].at &&
			    v[r].at <= a->body_off + a->body_len &&
			    !str_istarts(a->content_type, "text/") &&
			    !str_istarts(a->content_type, "message/") && !mime_att_opened(a))
				owner[r] = i;
		}
		whole = owner[r] == (size_t)-1;
	}
	if (!whole) {
		g->att_sha = xcalloc(g->m->natts, sizeof(*g->att_sha));
		for (size_t r = 0; r < nv && !whole;) {
			size_t k = r;
			while (k < nv && owner[k] == owner[r])
				k++;
			int limit = 0;
			struct mime_att *a = &g->m->atts[owner[r]];
			if (spill_att(g, a, skel, v + r, k - r, g->att_sha[owner[r]], &limit) < 0) {
				if (limit) {
					snprintf(g->parse_reason, sizeof(g->parse_reason),
					    "decoded part size exceeds attachment limit %zu",
					    g->app->cfg->limits.max_attachment);
					mime_msg_free(g->m);
					g->m = NULL;
					break;
				}
				whole = 1; /* could not write: decode in memory instead */
			}
			r = k;
		}
		/* Attachments without runs get their hash when staged. */
		for (size_t i = 0; g->m && i < g->m->natts; i++)
			if (!g->m->atts[i].spill)
				g->att_sha[i][0] = '\0';
	}
	if (whole) {
		mime_msg_free(g->m);
		g->m = NULL;
		free(g->att_sha);
		g->att_sha = NULL;
		if (mime_parse(g->raw, g->len, ml, &g->m, g->parse_reason, sizeof(g->parse_reason)) < 0)
			g->m = NULL;
	}
	free(owner);
	free(v);
	free(skel);
}

/* 1 when the message's source key was processed before (res says so), 0
 * when not, -1 on a database error. */
static int
ing_seen(struct ing *g)
{
	if (!g->source_key)
		return 0;
	int64_t id;
	int rc = db_1i(g->app->db, &id, "SELECT id FROM messages WHERE source=?1 AND source_key=?2",
	    "tt", g->source, g->source_key);
	if (rc == 1) {
		g->res->status = ING_DUPLICATE;
		g->res->message = id;
		snprintf(g->res->reason, sizeof(g->res->reason), "already processed as message %lld",
		    (long long)id);
	}
	return rc;
}

/* Parsing and the keys: no database, so a batch can be parsed on another
 * thread while this one runs the previous batch's transactions. */
static void
ing_parse(struct ing *g)
{
	struct mime_limits ml;
	mime_limits_from(&g->app->cfg->limits, &ml);
	/* A parser library that cannot be loaded is the installation's
	 * fault, not the message's: ing_run leaves the message for later
	 * instead of quarantining it. */
	if (lazyetpan_load(g->lib_error, sizeof(g->lib_error)) == 0)
		parse_message(g, &ml);
	compute_keys(g);
}

/* The message's transaction.  Frees the parsed message. */
static int
ing_run(struct ing *g)
{
	struct db *db = g->app->db;
	struct ingest_result *res = g->res;
	const char *source = g->source, *source_key = g->source_key;
	if (g->lib_error[0]) {
		log_warn("event=message_tempfail source=%s error=%s",
		    log_q(source_key ? source_key : source), log_q(g->lib_error));
		mime_msg_free(g->m);
		return -1;
	}
	if (db_begin(db) < 0) {
		log_warn("event=message_tempfail source=%s error=%s",
		    log_q(source_key ? source_key : source), log_q(db_errmsg(db)));
		mime_msg_free(g->m);
		return -1;
	}
	int64_t dup = 0;
	int rc = db_1i(db, &dup, "SELECT id FROM messages WHERE dedupe_key=?1", "t", g->dedupe);
	if (rc == 1) {
		db_rollback(db);
		mime_msg_free(g->m);
		res->status = ING_DUPLICATE;
		res->message = dup;
		snprintf(res->reason, sizeof(res->reason),
		    "same Message-ID and content as message %lld", (long long)dup);
		return 0;
	}
	int r = rc < 0 ? -1 : process(g);
	if (r == 0 && db_commit(db) == 0) {
		res->message = g->msg;
		/* Quarantined and refused mail needs a person: not hidden by -q. */
		int notable = res->status == ING_QUARANTINED || res->status == ING_REFUSED;
		/* What the parser tolerated or could not open (an encrypted
		 * part), for whoever wonders why a text looks as it does. */
		struct sbuf notes = {0};
		for (size_t i = 0; g->m && i < g->m->nnotes; i++)
			sb_printf(&notes, "%s%s", i ? "; " : "", g->m->notes[i]);
		log_msg(notable ? LOG_LVL_WARN : LOG_LVL_INFO,
		    "event=message_done msg=%lld source=%s status=%s project=%lld"
		         " new_project=%d replies=%d reason=%s notes=%s",
		    (long long)g->msg, log_q(source_key ? source_key : source),
		    ingest_status_name(res->status), (long long)res->project, res->new_project,
		    res->replies, log_q(res->reason), log_q(notes.s ? notes.s : ""));
		sb_free(&notes);
		mime_msg_free(g->m);
		return 0;
	}
	/* What failed, read before the rollback can change it. */
	int e = errno, busy = db_last_busy(db);
	int failed_io = db_last_io(db) || e == ENOSPC || e == EIO || e == EDQUOT || e == EROFS;
	char why[256];
	snprintf(why, sizeof(why), "%s", e == ENOSPC ? "disk full" : db_errmsg(db));
	db_rollback(db);
	memset(res, 0, sizeof(*res));
	res->replies = 0;
	if (busy || failed_io) {
		log_warn("event=message_tempfail source=%s error=%s",
		    log_q(source_key ? source_key : source), log_q(why));
		mime_msg_free(g->m);
		return -1;
	}
	/* A deterministic failure: keep the message, quarantined, and go on. */
	log_error("event=message_failed source=%s error=%s", log_q(source_key ? source_key : source),
	    log_q(why));
	r = quarantine_after_failure(g, why);
	res->message = g->msg;
	mime_msg_free(g->m);
	return r;
}

int
ingest_message(struct app *app, const char *source, const char *source_key,
    const char *raw, size_t len, struct ingest_result *res)
{
	struct ing g = {.app = app, .source = source, .source_key = source_key, .raw = raw,
	    .len = len, .res = res};
	memset(res, 0, sizeof(*res));
	int r = ing_seen(&g);
	if (r != 0)
		return r < 0 ? -1 : 0;
	ing_parse(&g);
	return ing_run(&g);
}

/* ---- batches ----------------------------------------------------------- */

/* A file written for a batch: its temporary name until the barrier, and
 * the message (index in the batch) it was written for. */
struct staged {
	char *tmp;
	char *path;
	size_t owner;
};

struct stage {
	struct staged *v;
	size_t n, cap;
	int synced; /* the files' data is durable (stage_sync) */
};

static int
make_parent(const char *path)
{
	char *dir = path_dirname(path);
	int r = mkdir_p(dir, 0750);
	free(dir);
	return r;
}

/* Where rel goes: 1 when nothing is to be written (there already, or
 * staged in this batch with the same content), 0 with *path set (and its
 * directory made when mkdir is set), -1 on error. */
static int
stage_target(struct app *app, const struct stage *sg, const char *rel, size_t len, int mkdir,
    char **path)
{
	char *p = path_join(app->cfg->data_dir, rel);
	int r = present(p, len);
	for (size_t i = 0; i < sg->n && !r; i++)
		r = strcmp(sg->v[i].path, p) == 0;
	if (!r && mkdir)
		r = make_parent(p);
	if (r != 0) {
		free(p);
		return r;
	}
	*path = p;
	return 0;
}

static void
stage_add(struct stage *sg, char *tmp, char *path, size_t owner)
{
	if (sg->n == sg->cap) {
		sg->cap = sg->cap ? sg->cap * 2 : 32;
		sg->v = xrealloc(sg->v, sg->cap * sizeof(*sg->v));
	}
	sg->v[sg->n++] = (struct staged){tmp, path, owner};
}

/* rel's target and a temporary name beside it: 0 with *path and *tmp, 1
 * when rel is there already, -1 on error. */
static int
stage_names(struct app *app, const struct stage *sg, const char *rel, size_t len, int mkdir,
    char **path, char **tmp)
{
	int r = stage_target(app, sg, rel, len, mkdir, path);
	if (r != 0)
		return r;
	char rnd[17];
	random_hex(rnd, 8);
	*tmp = xasprintf("%s.tmp-%s", *path, rnd);
	return 0;
}

/* Write data to a temporary name beside rel, unless rel is there already
 * with that size (content-addressed).  Not synced: the batch's barrier
 * does that for every file at once.  -1 when it could not be written (the
 * message's own transaction then writes it the slow way and reports). */
static int
stage_file(struct app *app, struct stage *sg, size_t owner, const char *rel, const void *data,
    size_t len, int mapped)
{
	char *path, *tmp;
	int r = stage_names(app, sg, rel, len, 0, &path, &tmp);
	if (r != 0)
		return r > 0 ? 0 : -1;
	/* The fan-out directory is mostly there: made only when missing. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 && errno == ENOENT && make_parent(path) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		free(tmp);
		free(path);
		return -1;
	}
	int wr = 0;
	for (size_t done = 0; done < len && wr == 0;) {
		size_t k = len - done < WINDOW ? len - done : WINDOW;
		wr = write_full(fd, (const char *)data + done, k);
		if (mapped)
			file_drop(data, done, done + k);
		done += k;
	}
	if (close(fd) < 0 || wr < 0) {
		unlink(tmp);
		free(tmp);
		free(path);
		return -1;
	}
	stage_add(sg, tmp, path, owner);
	return 0;
}

/* The raw message as a second name of the source's own file (a Maildir
 * message: never changed in place, only renamed or removed), so that its
 * bytes are not written again.  0 when linked or already there, -1 when
 * not possible (another file system, a file of another user, the file
 * renamed meanwhile): then it is copied. */
static int
stage_link(struct app *app, struct stage *sg, size_t owner, const char *rel, const char *src,
    size_t len)
{
	char *path, *tmp;
	int r = stage_names(app, sg, rel, len, 1, &path, &tmp);
	if (r != 0)
		return r > 0 ? 0 : -1;
	struct stat st;
	/* The same size as read: the same file, not one put in its place. */
	if (link(src, tmp) < 0 || stat(tmp, &st) < 0 || (size_t)st.st_size != len) {
		unlink(tmp);
		free(tmp);
		free(path);
		return -1;
	}
	stage_add(sg, tmp, path, owner);
	return 0;
}

/* An attachment already decoded to a file (spill_att): that file becomes
 * rel at the barrier, unless rel is there already. */
static int
stage_decoded(struct app *app, struct stage *sg, size_t owner, const char *rel,
    const struct mime_att *a)
{
	char *path;
	int r = stage_target(app, sg, rel, a->len, 1, &path);
	if (r == 0)
		stage_add(sg, xstrdup(a->spill), path, owner);
	return r < 0 ? -1 : 0;
}

/* The raw message and its attachments, staged; the attachment hashes are
 * kept for the transaction. */
static void
stage_message(struct ing *g, struct stage *sg, size_t owner)
{
	char raw_rel[96];
	snprintf(raw_rel, sizeof(raw_rel), "raw/%.2s/%s.eml", g->raw_sha, g->raw_sha);
	if ((!g->src_path || stage_link(g->app, sg, owner, raw_rel, g->src_path, g->len) < 0) &&
	    stage_file(g->app, sg, owner, raw_rel, g->raw, g->len, g->mapped) < 0)
		return;
	if (!g->m)
		return;
	if (!g->att_sha)
		g->att_sha = xcalloc(g->m->natts ? g->m->natts : 1, sizeof(*g->att_sha));
	for (size_t i = 0; i < g->m->natts; i++) {
		const struct mime_att *a = &g->m->atts[i];
		if (!a->spill)
			sha256_hex(a->data, a->len, g->att_sha[i]);
		char *name = sanitize_filename(a->filename ? a->filename
		                                           : (a->is_message ? "message.eml"
		                                                            : "attachment"));
		char *rel = xasprintf("att/%.2s/%s/%s", g->att_sha[i], g->att_sha[i], name);
		int r = a->spill ? stage_decoded(g->app, sg, owner, rel, a)
		                 : stage_file(g->app, sg, owner, rel, a->data, a->len, 0);
		free(name);
		free(rel);
		if (r < 0)
			return;
	}
}

/* The data of every staged file made durable with one filesystem sync,
 * on the staging thread: the commit half then only renames.  0 when
 * synced (or nothing staged), -1 when not. */
static int
stage_sync(struct app *app, struct stage *sg)
{
	if (sg->n == 0)
		return 0;
	int fd = open(app->cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd >= 0 && syncfs(fd) == 0 ? 0 : -1;
	if (r < 0)
		log_warn("event=sync_failed path=%s error=%s", log_q(app->cfg->data_dir),
		    log_q(strerror(errno)));
	if (fd >= 0)
		close(fd);
	sg->synced = r == 0;
	return r;
}

/* Make every staged file of a wanted message durable under its own name:
 * its data was synced by stage_sync; here the renames and one sync for the
 * directories.  The files of messages not wanted (seen before) and files
 * whose step failed are removed; their messages write them the slow way. */
static void
stage_commit(struct app *app, struct stage *sg, const int *wanted)
{
	size_t n = 0;
	for (size_t i = 0; i < sg->n; i++) {
		if (wanted[sg->v[i].owner])
			sg->v[n++] = sg->v[i];
		else {
			unlink(sg->v[i].tmp);
			free(sg->v[i].tmp);
			free(sg->v[i].path);
		}
	}
	sg->n = n;
	int fd = n && sg->synced ? open(app->cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
	                         : -1;
	int ok = fd >= 0;
	for (size_t i = 0; i < n; i++) {
		if (!ok || rename(sg->v[i].tmp, sg->v[i].path) < 0)
			unlink(sg->v[i].tmp);
	}
	if (ok && syncfs(fd) < 0) {
		/* The renames may not be durable: let the messages write again. */
		log_warn("event=sync_failed path=%s error=%s", log_q(app->cfg->data_dir),
		    log_q(strerror(errno)));
		for (size_t i = 0; i < n; i++)
			unlink(sg->v[i].path);
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < n; i++) {
		free(sg->v[i].tmp);
		free(sg->v[i].path);
	}
	free(sg->v);
	memset(sg, 0, sizeof(*sg));
}

struct ingest_staged {
	struct app *app;
	struct ingest_input *v;
	size_t n;
	struct ing *g;
	struct stage sg;
};

struct ingest_staged *
ingest_stage(struct app *app, const char *source, struct ingest_input *v, size_t n)
{
	struct ingest_staged *b = xcalloc(1, sizeof(*b));
	*b = (struct ingest_staged){.app = app, .v = v, .n = n,
	    .g = xcalloc(n ? n : 1, sizeof(*b->g))};
	for (size_t i = 0; i < n; i++) {
		struct ing *g = &b->g[i];
		memset(&v[i].res, 0, sizeof(v[i].res));
		v[i].read_errno = 0;
		if (v[i].path && !v[i].raw) {
			char *raw;
			size_t len;
			size_t max = app->cfg->limits.max_message;
			if ((v[i].mapped ? file_map(v[i].path, max, &raw, &len)
			                 : file_read(v[i].path, max, &raw, &len)) < 0) {
				v[i].read_errno = errno ? errno : EIO;
				continue;
			}
			v[i].raw = raw;
			v[i].len = len;
		}
		*g = (struct ing){.app = app, .source = source, .source_key = v[i].source_key,
		    .raw = v[i].raw, .len = v[i].len, .res = &v[i].res, .mapped = v[i].mapped,
		    .src_path = v[i].path};
		ing_parse(g);
		/* A twin by content in this batch stages nothing: the earlier
		 * one's files are its files. */
		int twin = 0;
		for (size_t j = 0; j < i && !twin; j++)
			twin = !v[j].read_errno && strcmp(b->g[j].dedupe, g->dedupe) == 0;
		if (!twin)
			stage_message(g, &b->sg, i);
	}
	stage_sync(app, &b->sg);
	return b;
}

/* What a staged batch still holds once its messages are done: their
 * attachment hashes and the decoded attachments not moved into place. */
static void
staged_free(struct ingest_staged *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct ing *g = &b->g[i];
		free(g->att_sha);
		for (size_t k = 0; k < g->nspills; k++) {
			unlink(g->spills[k]); /* still there: not used */
			free(g->spills[k]);
		}
		free(g->spills);
	}
	free(b->g);
	free(b);
}

int
ingest_commit(struct ingest_staged *b)
{
	struct app *app = b->app;
	struct ingest_input *v = b->v;
	size_t n = b->n;
	struct ing *g = b->g;
	/* Seen before, by source key or by content: its staged files would
	 * be orphans, so they are dropped before the barrier.  A temporary
	 * failure (database busy, disk full) ends the batch: what follows
	 * would only wait for the same busy timeout or fail the same way, and
	 * stays in the source for the next pass. */
	int *wanted = xcalloc(n ? n : 1, sizeof(*wanted));
	size_t upto = n; /* messages [upto, n) are left for the next pass */
	/* The look-ups in one read transaction (not one per statement);
	 * each message's own transaction checks for a duplicate again. */
	int reading = db_begin_read(app->db) == 0;
	for (size_t i = 0; i < upto; i++) {
		if (v[i].read_errno) { /* not read: nothing to do, left in the source */
			v[i].rc = -1;
			continue;
		}
		v[i].rc = ing_seen(&g[i]);
		int64_t dup;
		int r = v[i].rc == 0 ? db_1i(app->db, &dup,
		                           "SELECT id FROM messages WHERE dedupe_key=?1", "t",
		                           g[i].dedupe)
		                     : 0;
		if (v[i].rc < 0 || r < 0)
			upto = i;
		wanted[i] = v[i].rc == 0 && r == 0;
	}
	if (reading)
		db_rollback(app->db);
	stage_commit(app, &b->sg, wanted);
	free(wanted);
	for (size_t i = 0; i < n; i++) {
		/* A message not read has rc -1 from the loop above: it ends
		 * below with nothing done. */
		if (i < upto && v[i].rc == 0) {
			v[i].rc = ing_run(&g[i]);
			if (v[i].rc < 0 && i + 1 < upto) {
				log_warn("event=messages_deferred count=%zu reason=%s", upto - i - 1,
				    log_q("an earlier message of the batch failed temporarily"));
				upto = i + 1;
			}
			continue;
		}
		mime_msg_free(g[i].m);
		g[i].m = NULL;
		v[i].rc = i < upto && v[i].rc > 0 ? 0 : -1;
	}
	staged_free(b);
	int failed = 0;
	for (size_t i = 0; i < n; i++)
		failed |= v[i].rc < 0;
	return failed ? -1 : 0;
}

static void
staged_discard(struct ingest_staged *b)
{
	int *wanted = xcalloc(b->n ? b->n : 1, sizeof(*wanted));
	stage_commit(b->app, &b->sg, wanted); /* removes every staged file */
	free(wanted);
	for (size_t i = 0; i < b->n; i++) {
		mime_msg_free(b->g[i].m);
		b->g[i].m = NULL;
	}
	staged_free(b);
}

int
ingest_batch(struct app *app, const char *source, struct ingest_input *v, size_t n)
{
	return ingest_commit(ingest_stage(app, source, v, n));
}

/* The staging half on a thread of its own, with every signal blocked there
 * so the handlers run on the calling thread. */
static void *
stage_thread(void *arg)
{
	struct ingest_job *j = arg;
	j->out = ingest_stage(j->app, j->source, j->v, j->n);
	mime_thread_end();
	return NULL;
}

void
ingest_stage_start(struct ingest_job *j, struct app *app, const char *source,
    struct ingest_input *v, size_t n)
{
	*j = (struct ingest_job){.app = app, .source = source, .v = v, .n = n};
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	j->running = pthread_create(&j->thread, NULL, stage_thread, j) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!j->running) /* no thread to be had: stage here */
		j->out = ingest_stage(app, source, v, n);
}

struct ingest_staged *
ingest_stage_wait(struct ingest_job *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = 0;
	return j->out;
}

void
ingest_stage_cancel(struct ingest_job *j)
{
	staged_discard(ingest_stage_wait(j));
	for (size_t i = 0; i < j->n; i++)
		ingest_input_release(&j->v[i]);
}

int
ingest_oversize(struct app *app, const char *source, const char *source_key, size_t size,
    struct ingest_result *res)
{
	memset(res, 0, sizeof(*res));
	struct ing g = {.app = app, .source = source, .source_key = source_key, .raw = "",
	    .len = 0, .res = res};
	snprintf(g.parse_reason, sizeof(g.parse_reason),
	    "message size %zu exceeds the limit of %zu bytes; left in the source mailbox", size,
	    app->cfg->limits.max_message);
	/* No content to hash: the source key identifies it. */
	struct sha256 c;
	sha256_init(&c);
	sha256_update(&c, "oversize:", 9);
	sha256_update(&c, source, strlen(source) + 1);
	sha256_update(&c, source_key ? source_key : "", source_key ? strlen(source_key) : 0);
	sha256_final(&c, g.dedupe);
	memset(g.raw_sha, '0', 64);
	g.raw_sha[64] = '\0';
	if (db_begin(app->db) < 0)
		return -1;
	int64_t dup;
	int rc = db_1i(app->db, &dup, "SELECT id FROM messages WHERE dedupe_key=?1", "t", g.dedupe);
	if (rc == 1) {
		db_rollback(app->db);
		res->status = ING_DUPLICATE;
		return 0;
	}
	if (rc < 0 || insert_message(&g, NULL, "unparsed", "quarantined", g.parse_reason) < 0 ||
	    db_x(app->db, "UPDATE messages SET size=?2 WHERE id=?1", "ii", g.msg, (int64_t)size) < 0 ||
	    hist_add(app->db, 0, g.msg, "system", "quarantined", "%s", g.parse_reason) < 0 ||
	    db_commit(app->db) < 0) {
		db_rollback(app->db);
		return -1;
	}
	res->status = ING_QUARANTINED;
	res->message = g.msg;
	str_copy(res->reason, sizeof(res->reason), g.parse_reason);
	log_warn("event=message_quarantined msg=%lld source=%s reason=%s", (long long)g.msg,
	    log_q(source_key), log_q(g.parse_reason));
	return 0;
}
