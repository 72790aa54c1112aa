#include "show.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "db.h"
#include "util.h"

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

int
show_project_list(struct app *app, int json)
{
	struct db_stmt *q = db_q(app->db,
	    "SELECT p.id, p.state, p.title, c.name, u.login, p.created, p.lang, p.currency,"
	    " ct.email"
	    " FROM projects p JOIN clients c ON c.id=p.client_id"
	    " LEFT JOIN users u ON u.id=p.owner_id LEFT JOIN contacts ct ON ct.id=p.contact_id"
	    " ORDER BY p.id",
	    "");
	if (!q)
		return 1;
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("%-8s %-12s %-13s %-28s %s\n", "PROJECT", "STATE", "OWNER", "CLIENT", "TITLE");
	int rc;
	while ((rc = db_step(q)) == 1) {
		if (json) {
			char ts[32];
			iso_time(db_int(q, 5), ts, sizeof(ts));
			json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s}",
			    "id", (json_int_t)db_int(q, 0), "state", db_text(q, 1), "title",
			    db_text(q, 2), "client", db_text(q, 3), "owner", jstr(db_text(q, 4)),
			    "contact", jstr(db_text(q, 8)), "created", ts, "lang", db_text(q, 6),
			    "currency", db_text(q, 7)));
		} else {
			char id[32];
			snprintf(id, sizeof(id), "INK-%lld", (long long)db_int(q, 0));
			utf8_pad(id, 8);
			putchar(' ');
			utf8_pad(db_text(q, 1), 12);
			putchar(' ');
			utf8_pad(db_text(q, 4) ? db_text(q, 4) : "—", 13);
			putchar(' ');
			utf8_pad(db_text(q, 3), 28);
			putchar(' ');
			printf("%s\n", db_text(q, 2));
		}
	}
	db_done(q);
	if (json)
		return rc < 0 ? (json_decref(arr), 1) : print_json(arr);
	return rc < 0;
}

static json_t *
attachments_json(struct app *app, int64_t msg)
{
	json_t *arr = json_array();
	struct db_stmt *q = db_q(app->db,
	    "SELECT filename, orig_filename, content_type, size, sha256, path FROM attachments"
	    " WHERE message_id=?1 ORDER BY id",
	    "i", msg);
	if (!q)
		return arr;
	while (db_step(q) == 1)
		json_array_append_new(arr, json_pack("{s:s,s:o,s:s,s:I,s:s,s:s}", "filename",
		    db_text(q, 0), "orig_filename", jstr(db_text(q, 1)), "content_type",
		    db_text(q, 2), "size", (json_int_t)db_int(q, 3), "sha256", db_text(q, 4), "path",
		    db_text(q, 5)));
	db_done(q);
	return arr;
}

/* Messages of a project (project > 0) or with a status, as JSON objects. */
static json_t *
messages_json(struct app *app, int64_t project, const char *status)
{
	json_t *arr = json_array();
	/* One statement per filter: "?1=0 OR project_id=?1" would keep SQLite
	 * from using an index and read every message for one project. */
#define MSG_COLS "SELECT id, from_name, from_addr, subject, class, status, reason, project_id," \
	" message_id, received, size, raw_sha256, source_key FROM messages"
	struct db_stmt *q = project
	    ? db_q(app->db, MSG_COLS " WHERE project_id=?1 AND (?2 IS NULL OR status=?2) ORDER BY id",
	          "it", project, status)
	    : status ? db_q(app->db, MSG_COLS " WHERE status=?1 ORDER BY id", "t", status)
	             : db_q(app->db, MSG_COLS " ORDER BY id", "");
#undef MSG_COLS
	if (!q)
		return arr;
	/* Collect first: attachments_json needs the database too. */
	size_t n = 0, cap = 0;
	json_t **objs = NULL;
	int64_t *ids = NULL;
	while (db_step(q) == 1) {
		char ts[32];
		iso_time(db_int(q, 9), ts, sizeof(ts));
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of json_t pointers */
			objs = xrealloc(objs, cap * sizeof(*objs));
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n] = db_int(q, 0);
		objs[n++] = json_pack("{s:I,s:o,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:s,s:I,s:s,s:o}", "id",
		    (json_int_t)db_int(q, 0), "from_name", jstr(db_text(q, 1)), "from_addr",
		    jstr(db_text(q, 2)), "subject", jstr(db_text(q, 3)), "class", db_text(q, 4),
		    "status", db_text(q, 5), "reason", jstr(db_text(q, 6)), "project",
		    db_isnull(q, 7) ? json_null() : json_integer(db_int(q, 7)), "message_id",
		    jstr(db_text(q, 8)), "received", ts, "size", (json_int_t)db_int(q, 10),
		    "sha256", db_text(q, 11), "source_key", jstr(db_text(q, 12)));
	}
	db_done(q);
	for (size_t i = 0; i < n; i++) {
		json_object_set_new(objs[i], "attachments", attachments_json(app, ids[i]));
		json_array_append_new(arr, objs[i]);
	}
	free(objs);
	free(ids);
	return arr;
}

static void
print_attachments_text(json_t *atts)
{
	size_t i;
	json_t *a;
	json_array_foreach(atts, i, a) {
		printf("      attachment: %s (%s, %lld bytes, sha256 %.16s…)\n",
		    json_string_value(json_object_get(a, "filename")),
		    json_string_value(json_object_get(a, "content_type")),
		    (long long)json_integer_value(json_object_get(a, "size")),
		    json_string_value(json_object_get(a, "sha256")));
	}
}

int
show_project(struct app *app, int64_t id, int json)
{
	struct db_stmt *q = db_q(app->db,
	    "SELECT p.id, p.state, p.title, p.lang, p.currency, p.created, p.updated,"
	    " c.id, c.name, c.domain, ct.email, ct.name, u.login, u.name, u.email"
	    " FROM projects p JOIN clients c ON c.id=p.client_id"
	    " LEFT JOIN contacts ct ON ct.id=p.contact_id LEFT JOIN users u ON u.id=p.owner_id"
	    " WHERE p.id=?1",
	    "i", id);
	if (!q)
		return 1;
	if (db_step(q) != 1) {
		db_done(q);
		fprintf(stderr, "inkflow: no project INK-%lld\n", (long long)id);
		return 1;
	}
	char created[32], updated[32];
	iso_time(db_int(q, 5), created, sizeof(created));
	iso_time(db_int(q, 6), updated, sizeof(updated));
	json_t *p = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_int(q, 0),
	    "state", db_text(q, 1), "title", db_text(q, 2), "lang", db_text(q, 3), "currency",
	    db_text(q, 4), "created", created, "updated", updated);
	json_object_set_new(p, "client", json_pack("{s:I,s:s,s:o}", "id", (json_int_t)db_int(q, 7),
	                                     "name", db_text(q, 8), "domain", jstr(db_text(q, 9))));
	json_object_set_new(p, "contact", json_pack("{s:o,s:o}", "email", jstr(db_text(q, 10)),
	                                      "name", jstr(db_text(q, 11))));
	json_object_set_new(p, "owner", db_text(q, 12)
	        ? json_pack("{s:s,s:s,s:s}", "login", db_text(q, 12), "name", db_text(q, 13),
	              "email", db_text(q, 14))
	        : json_null());
	db_done(q);

	json_t *hist = json_array();
	q = db_q(app->db, "SELECT time, actor, kind, text FROM events WHERE project_id=?1 ORDER BY id",
	    "i", id);
	while (q && db_step(q) == 1) {
		char ts[32];
		iso_time(db_int(q, 0), ts, sizeof(ts));
		json_array_append_new(hist, json_pack("{s:s,s:s,s:s,s:s}", "time", ts, "actor",
		                                db_text(q, 1), "kind", db_text(q, 2), "text",
		                                db_text(q, 3)));
	}
	if (q)
		db_done(q);
	json_t *tasks = json_array();
	q = db_q(app->db,
	    "SELECT t.id, t.kind, t.title, u.login, t.status, t.due FROM tasks t"
	    " JOIN users u ON u.id=t.assignee_id WHERE t.project_id=?1 ORDER BY t.id",
	    "i", id);
	while (q && db_step(q) == 1) {
		char due[32] = "";
		if (!db_isnull(q, 5))
			iso_time(db_int(q, 5), due, sizeof(due));
		json_array_append_new(tasks, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o}", "id",
		                                 (json_int_t)db_int(q, 0), "kind", db_text(q, 1),
		                                 "title", db_text(q, 2), "assignee", db_text(q, 3),
		                                 "status", db_text(q, 4), "due",
		                                 *due ? json_string(due) : json_null()));
	}
	if (q)
		db_done(q);
	json_object_set_new(p, "tasks", tasks);
	json_t *docs = json_array();
	q = db_q(app->db,
	    "SELECT kind, number, path, sha256, size, created FROM documents WHERE project_id=?1"
	    " ORDER BY id", "i", id);
	while (q && db_step(q) == 1) {
		char ts[32];
		iso_time(db_int(q, 5), ts, sizeof(ts));
		json_array_append_new(docs, json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "kind", db_text(q, 0),
		                                "number", db_text(q, 1), "path", db_text(q, 2),
		                                "sha256", db_text(q, 3), "size",
		                                (json_int_t)db_int(q, 4), "created", ts));
	}
	if (q)
		db_done(q);
	json_object_set_new(p, "documents", docs);
	json_object_set_new(p, "messages", messages_json(app, id, NULL));
	json_object_set_new(p, "history", hist);
	if (json)
		return print_json(p);

	json_t *c = json_object_get(p, "client"), *o = json_object_get(p, "owner");
	json_t *ct = json_object_get(p, "contact");
	printf("INK-%lld  %s\n", (long long)id, json_string_value(json_object_get(p, "title")));
	printf("  state:    %s\n", json_string_value(json_object_get(p, "state")));
	printf("  client:   %s (%s, %s)\n", json_string_value(json_object_get(c, "name")),
	    json_string_value(json_object_get(p, "lang")),
	    json_string_value(json_object_get(p, "currency")));
	printf("  contact:  %s%s%s\n",
	    json_string_value(json_object_get(ct, "name")) ? json_string_value(json_object_get(ct, "name")) : "",
	    json_string_value(json_object_get(ct, "name")) ? " " : "",
	    json_string_value(json_object_get(ct, "email")) ? json_string_value(json_object_get(ct, "email")) : "");
	if (json_is_object(o))
		printf("  owner:    %s (%s)\n", json_string_value(json_object_get(o, "name")),
		    json_string_value(json_object_get(o, "login")));
	else
		printf("  owner:    — (waiting for BOK to assign one)\n");
	size_t i;
	json_t *e;
	printf("  tasks:\n");
	json_array_foreach(tasks, i, e)
		printf("    #%lld %-10s %-8s %s\n", (long long)json_integer_value(json_object_get(e, "id")),
		    json_string_value(json_object_get(e, "assignee")),
		    json_string_value(json_object_get(e, "status")),
		    json_string_value(json_object_get(e, "title")));
	printf("  documents:\n");
	json_array_foreach(json_object_get(p, "documents"), i, e)
		printf("    %-14s %-12s %s (sha256 %.16s…)\n", json_string_value(json_object_get(e, "number")),
		    json_string_value(json_object_get(e, "kind")),
		    json_string_value(json_object_get(e, "path")),
		    json_string_value(json_object_get(e, "sha256")));
	printf("  messages:\n");
	json_array_foreach(json_object_get(p, "messages"), i, e) {
		printf("    #%lld %s %s: %s\n", (long long)json_integer_value(json_object_get(e, "id")),
		    json_string_value(json_object_get(e, "received")),
		    json_string_value(json_object_get(e, "from_addr")),
		    json_string_value(json_object_get(e, "subject")));
		print_attachments_text(json_object_get(e, "attachments"));
	}
	printf("  history:\n");
	json_array_foreach(hist, i, e) {
		printf("    %s  %-24s %-16s %s\n", json_string_value(json_object_get(e, "time")),
		    json_string_value(json_object_get(e, "actor")),
		    json_string_value(json_object_get(e, "kind")),
		    json_string_value(json_object_get(e, "text")));
	}
	json_decref(p);
	return 0;
}

int
show_mail_list(struct app *app, const char *status, int json)
{
	static const char *valid[] = {"processed", "ignored", "quarantined", "held", "refused"};
	if (status) {
		int ok = 0;
		for (size_t i = 0; i < ARRAY_LEN(valid); i++)
			ok |= strcmp(status, valid[i]) == 0;
		if (!ok) {
			fprintf(stderr, "inkflow: --status must be processed, ignored, quarantined, "
			                "held or refused, not \"%s\"\n", status);
			return 1;
		}
	}
	json_t *arr = messages_json(app, 0, status);
	if (json)
		return print_json(arr);
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		json_t *proj = json_object_get(e, "project");
		char pr[32] = "—";
		if (json_is_integer(proj))
			snprintf(pr, sizeof(pr), "INK-%lld", (long long)json_integer_value(proj));
		const char *name = json_string_value(json_object_get(e, "from_name"));
		const char *addr = json_string_value(json_object_get(e, "from_addr"));
		printf("#%-5lld %-11s %-10s %-9s %s%s<%s>\n",
		    (long long)json_integer_value(json_object_get(e, "id")),
		    json_string_value(json_object_get(e, "status")),
		    json_string_value(json_object_get(e, "class")), pr, name ? name : "",
		    name ? " " : "", addr ? addr : "?");
		printf("       subject: %s\n",
		    json_string_value(json_object_get(e, "subject")) ? json_string_value(json_object_get(e, "subject")) : "");
		const char *reason = json_string_value(json_object_get(e, "reason"));
		if (reason)
			printf("       reason:  %s\n", reason);
		print_attachments_text(json_object_get(e, "attachments"));
	}
	json_decref(arr);
	return 0;
}

int
show_outbox_list(struct app *app, const char *status, int json)
{
	if (status && strcmp(status, "queued") != 0 && strcmp(status, "sent") != 0 &&
	    strcmp(status, "failed") != 0) {
		fprintf(stderr, "inkflow: --status must be queued, sent or failed, not \"%s\"\n",
		    status);
		return 1;
	}
	struct db_stmt *q = db_q(app->db,
	    "SELECT id, status, kind, rcpt, subject, attempts, created, sent, last_error,"
	    " project_id, message_id, next_try FROM outbox WHERE (?1 IS NULL OR status=?1)"
	    " ORDER BY id",
	    "t", status);
	if (!q)
		return 1;
	json_t *arr = json_array();
	int rc;
	while ((rc = db_step(q)) == 1) {
		char created[32], sent[32] = "", next[32] = "";
		iso_time(db_int(q, 6), created, sizeof(created));
		if (!db_isnull(q, 7))
			iso_time(db_int(q, 7), sent, sizeof(sent));
		if (db_int(q, 11) > 0 && strcmp(db_text(q, 1), "queued") == 0)
			iso_time(db_int(q, 11), next, sizeof(next));
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:s}",
		    "id", (json_int_t)db_int(q, 0), "status", db_text(q, 1), "kind", db_text(q, 2),
		    "rcpt", db_text(q, 3), "subject", db_text(q, 4), "attempts",
		    (json_int_t)db_int(q, 5), "created", created, "sent",
		    *sent ? json_string(sent) : json_null(), "next_try",
		    *next ? json_string(next) : json_null(), "last_error", jstr(db_text(q, 8)),
		    "project", db_isnull(q, 9) ? json_null() : json_integer(db_int(q, 9)),
		    "message_id", db_text(q, 10)));
	}
	db_done(q);
	if (rc < 0) {
		json_decref(arr);
		return 1;
	}
	if (json)
		return print_json(arr);
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		printf("#%-5lld %-7s %-12s %s\n", (long long)json_integer_value(json_object_get(e, "id")),
		    json_string_value(json_object_get(e, "status")),
		    json_string_value(json_object_get(e, "kind")),
		    json_string_value(json_object_get(e, "rcpt")));
		printf("       subject: %s\n", json_string_value(json_object_get(e, "subject")));
		const char *err = json_string_value(json_object_get(e, "last_error"));
		if (err)
			printf("       attempts %lld, last error: %s\n",
			    (long long)json_integer_value(json_object_get(e, "attempts")), err);
	}
	json_decref(arr);
	return 0;
}
