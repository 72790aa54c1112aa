#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "calcdb.h"
#include "command.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "reply.h"
#include "store.h"
#include "task.h"
#include "util.h"

#define LINES_MAX (256 * 1024)

/* Value of --name in argv, NULL if absent. */
static const char *
opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

/* The n-th argument that is neither an option nor an option's value. */
static const char *
positional(int argc, char **argv, int n)
{
	static const char *with_value[] = {"--as", "--reason", "--lines", "--user", "--to"};
	for (int i = 1; i < argc; i++) {
		int takes = 0;
		for (size_t k = 0; k < ARRAY_LEN(with_value); k++)
			if (strcmp(argv[i], with_value[k]) == 0)
				takes = 1;
		if (takes) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] == '-')
			continue;
		if (n-- == 0)
			return argv[i];
	}
	return NULL;
}

static char *
read_lines(const char *src)
{
	if (!src)
		return NULL;
	if (strcmp(src, "-") == 0) {
		struct sbuf sb = {0};
		char buf[4096];
		ssize_t r;
		while ((r = read(0, buf, sizeof(buf))) > 0 && sb.len < LINES_MAX)
			sb_add(&sb, buf, (size_t)r);
		return sb_steal(&sb);
	}
	char *data;
	size_t len;
	if (file_read(src, LINES_MAX, &data, &len) < 0) {
		fprintf(stderr, "inkflow: %s: %s\n", src, strerror(errno));
		return NULL;
	}
	return data;
}

/* Run one command in a transaction, queue the answer, send the outbox,
 * print what happened.  Exit code: 0 done, 1 refused or error. */
static int
run(struct app *app, const struct cmd_input *in)
{
	if (db_begin(app->db) < 0) {
		fprintf(stderr, "inkflow: database busy, try again\n");
		return 1;
	}
	struct cmd_outcome o;
	if (cmd_execute(app, in, &o) < 0) {
		db_rollback(app->db);
		fprintf(stderr, "inkflow: the step failed; nothing was changed (see the log)\n");
		return 1;
	}
	if (db_commit(app->db) < 0) {
		db_rollback(app->db);
		cmd_outcome_free(&o);
		fprintf(stderr, "inkflow: commit failed; nothing was changed\n");
		return 1;
	}
	fputs(o.text ? o.text : "", o.done ? stdout : stderr);
	if (o.calc > 0) {
		char *t = NULL, *h = NULL;
		const struct cfg_user *u = store_user_cfg(app, in->user);
		if (calcdb_render(app, o.calc, u ? u->lang : "pl", &t, &h) == 0)
			fputs(t, stdout);
		free(t);
		free(h);
	}
	int rc = o.done ? 0 : 1;
	cmd_outcome_free(&o);
	struct outbox_stats st = {0};
	outbox_flush(app, &st);
	return rc;
}

static int64_t
as_user(struct app *app, int argc, char **argv)
{
	const char *as = opt(argc, argv, "--as");
	if (!as) {
		fprintf(stderr, "inkflow: say who acts: --as LOGIN\n");
		return -1;
	}
	int64_t id = store_user_id(app->db, as);
	if (id < 0)
		fprintf(stderr, "inkflow: no user \"%s\"\n", as);
	return id;
}

int
cli_task(struct app *app, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "list") == 0) {
		if (app_open_db(app, APP_READ) < 0)
			return 1;
		return task_list(app, opt(argc, argv, "--user"), flag(argc, argv, "--json"));
	}
	if (strcmp(sub, "do") == 0) {
		const char *tid = positional(argc - 1, argv + 1, 0);
		const char *action = positional(argc - 1, argv + 1, 1);
		const char *arg = positional(argc - 1, argv + 1, 2);
		int64_t task;
		if (!tid || !action || parse_int64(tid, 1, INT64_MAX, &task) < 0) {
			fprintf(stderr, "inkflow: task do TASK ACTION [ARG] [--reason TEXT] "
			                "[--lines FILE|-] --as LOGIN\n");
			return 1;
		}
		enum reply_cmd cmd = reply_cmd_parse(action);
		if (cmd == CMD_NONE) {
			fprintf(stderr, "inkflow: unknown action \"%s\" (approve, correct, reject, "
			                "submit, assign, note, ...)\n", action);
			return 1;
		}
		if (app_open_db(app, APP_WRITE) < 0)
			return 1;
		int64_t user = as_user(app, argc, argv);
		if (user < 0)
			return 1;
		const char *reason = opt(argc, argv, "--reason");
		char *lines = read_lines(opt(argc, argv, "--lines"));
		if (opt(argc, argv, "--lines") && !lines)
			return 1;
		struct cmd_input in = {.task = task, .user = user, .cmd = cmd,
		    .arg = reason ? reason : arg ? arg : "", .rest = lines ? lines : "",
		    .via = "cli"};
		int rc = run(app, &in);
		free(lines);
		return rc;
	}
	fprintf(stderr, "inkflow: task list [--user LOGIN] [--json] | task do TASK ACTION ... --as LOGIN\n");
	return 1;
}

/* The open calculation task of a project for user: 0 when none. */
static int64_t
calc_task(struct app *app, int64_t project, int64_t user)
{
	int64_t t = 0;
	db_1i(app->db, &t,
	    "SELECT id FROM tasks WHERE project_id=?1 AND assignee_id=?2 AND status='open'"
	    " AND (' ' || actions || ' ') LIKE '% submit %' ORDER BY id DESC LIMIT 1",
	    "ii", project, user);
	return t;
}

static int
parse_project(const char *s, int64_t *out)
{
	if (s && str_istarts(s, "INK-"))
		s += 4;
	if (!s || parse_int64(s, 1, INT64_MAX, out) < 0) {
		fprintf(stderr, "inkflow: \"%s\" is not a project number (e.g. 12 or INK-12)\n",
		    s ? s : "");
		return -1;
	}
	return 0;
}

int
cli_calc(struct app *app, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	int64_t project;
	if (strcmp(sub, "show") == 0) {
		if (parse_project(positional(argc - 1, argv + 1, 0), &project) < 0 ||
		    app_open_db(app, APP_READ) < 0)
			return 1;
		int64_t calc = calcdb_current(app, project);
		if (calc <= 0) {
			fprintf(stderr, "inkflow: INK-%lld has no calculation yet\n", (long long)project);
			return 1;
		}
		struct calc_head h;
		calcdb_head(app, calc, &h);
		if (flag(argc, argv, "--json")) {
			json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:b,s:o}", "project",
			    (json_int_t)project, "version", (json_int_t)h.version, "status", h.status,
			    "currency", h.currency, "net", (json_int_t)h.net, "vat", (json_int_t)h.vat,
			    "gross", (json_int_t)h.gross, "reverse_charge", h.reverse_charge, "lines",
			    json_array());
			struct db_stmt *q = db_q(app->db,
			    "SELECT pos, sku, name, unit, qty_milli, w_mm, h_mm, billed_milli, list_price,"
			    " unit_price, net, vat_bp, note FROM calc_lines WHERE calculation_id=?1"
			    " ORDER BY pos", "i", calc);
			while (q && db_step(q) == 1)
				json_array_append_new(json_object_get(j, "lines"),
				    json_pack("{s:I,s:o,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "pos",
				        (json_int_t)db_int(q, 0),
				        "sku", db_text(q, 1) ? json_string(db_text(q, 1)) : json_null(),
				        "name", db_text(q, 2), "unit", db_text(q, 3), "qty_milli",
				        (json_int_t)db_int(q, 4), "w_mm", (json_int_t)db_int(q, 5), "h_mm",
				        (json_int_t)db_int(q, 6), "billed_milli", (json_int_t)db_int(q, 7),
				        "list_price", (json_int_t)db_int(q, 8), "unit_price",
				        (json_int_t)db_int(q, 9), "net", (json_int_t)db_int(q, 10), "vat_bp",
				        (json_int_t)db_int(q, 11)));
			if (q)
				db_done(q);
			char *s = json_dumps(j, JSON_INDENT(2));
			puts(s);
			free(s);
			json_decref(j);
			return 0;
		}
		char *t, *html;
		if (calcdb_render(app, calc, "pl", &t, &html) < 0)
			return 1;
		printf("INK-%lld, status: %s\n%s", (long long)project, h.status, t);
		free(t);
		free(html);
		return 0;
	}
	if (strcmp(sub, "add") == 0 || strcmp(sub, "submit") == 0) {
		if (parse_project(positional(argc - 1, argv + 1, 0), &project) < 0 ||
		    app_open_db(app, APP_WRITE) < 0)
			return 1;
		int64_t user = as_user(app, argc, argv);
		if (user < 0)
			return 1;
		int64_t task = calc_task(app, project, user);
		if (!task) {
			fprintf(stderr, "inkflow: %s has no open calculation task on INK-%lld\n",
			    opt(argc, argv, "--as"), (long long)project);
			return 1;
		}
		int submit = strcmp(sub, "submit") == 0;
		char *lines = submit ? NULL : read_lines(opt(argc, argv, "--lines") ? opt(argc, argv, "--lines") : "-");
		if (!submit && !lines)
			return 1;
		const char *to = opt(argc, argv, "--to");
		struct cmd_input in = {.task = task, .user = user,
		    .cmd = submit ? CMD_SUBMIT : CMD_NONE, .arg = to ? to : "", .rest = "",
		    .text = lines, .via = "cli"};
		int rc = run(app, &in);
		free(lines);
		return rc;
	}
	fprintf(stderr, "inkflow: calc add N [--lines FILE] --as LOGIN | calc show N [--json] | "
	                "calc submit N [--to LOGIN] --as LOGIN\n");
	return 1;
}

/* Client id from "12", an email of a contact, or a domain. */
static int64_t
find_client(struct app *app, const char *key)
{
	int64_t id = 0;
	if (parse_int64(key, 1, INT64_MAX, &id) == 0)
		return id;
	if (db_1i(app->db, &id, "SELECT client_id FROM contacts WHERE email=lower(?1)", "t", key) == 1)
		return id;
	if (db_1i(app->db, &id, "SELECT id FROM clients WHERE domain=lower(?1) ORDER BY id LIMIT 1",
	        "t", key) == 1)
		return id;
	return 0;
}

int
cli_client(struct app *app, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	const char *key = positional(argc - 1, argv + 1, 0);
	int set = strcmp(sub, "set") == 0;
	if ((!set && strcmp(sub, "show") != 0) || !key) {
		fprintf(stderr, "inkflow: client show ID|EMAIL|DOMAIN [--json] | client set ID "
		                "[--docs yes|no] [--payment-terms TEXT] [--vat-id ID] [--address TEXT] "
		                "[--owner LOGIN] --as LOGIN\n");
		return 1;
	}
	if (app_open_db(app, set ? APP_WRITE : APP_READ) < 0)
		return 1;
	int64_t id = find_client(app, key);
	if (!id) {
		fprintf(stderr, "inkflow: no client \"%s\"\n", key);
		return 1;
	}
	if (set) {
		int64_t user = as_user(app, argc, argv);
		if (user < 0)
			return 1;
		const char *docs = opt(argc, argv, "--docs"), *terms = opt(argc, argv, "--payment-terms");
		const char *vat = opt(argc, argv, "--vat-id"), *addr = opt(argc, argv, "--address");
		const char *owner = opt(argc, argv, "--owner");
		if (docs && strcmp(docs, "yes") != 0 && strcmp(docs, "no") != 0) {
			fprintf(stderr, "inkflow: --docs yes|no\n");
			return 1;
		}
		int64_t oid = 0;
		if (owner && (oid = store_user_id(app->db, owner)) < 0) {
			fprintf(stderr, "inkflow: no user \"%s\"\n", owner);
			return 1;
		}
		if (db_begin(app->db) < 0)
			return 1;
		const struct cfg_user *u = store_user_cfg(app, user);
		if ((docs && db_x(app->db, "UPDATE clients SET docs_on_file=?2 WHERE id=?1", "id", id,
		                 strcmp(docs, "yes") == 0) < 0) ||
		    (terms && db_x(app->db, "UPDATE clients SET payment_terms=?2 WHERE id=?1", "it", id,
		                  terms) < 0) ||
		    (vat && db_x(app->db, "UPDATE clients SET vat_id=upper(?2) WHERE id=?1", "it", id,
		                vat) < 0) ||
		    (addr && db_x(app->db, "UPDATE clients SET address=?2 WHERE id=?1", "it", id, addr) < 0) ||
		    (owner && db_x(app->db, "UPDATE clients SET owner_id=?2 WHERE id=?1", "ii", id, oid) < 0) ||
		    hist_add(app->db, 0, 0, u ? u->login : "?", "client-updated",
		        "client %lld updated%s%s%s%s%s%s%s%s%s%s", (long long)id, docs ? ": documents on file " : "",
		        docs ? docs : "", terms ? "; payment terms " : "", terms ? terms : "",
		        vat ? "; VAT id " : "", vat ? vat : "", addr ? "; address " : "", addr ? addr : "",
		        owner ? "; account manager " : "", owner ? owner : "") < 0 ||
		    db_commit(app->db) < 0) {
			db_rollback(app->db);
			fprintf(stderr, "inkflow: client not updated\n");
			return 1;
		}
	}
	struct db_stmt *q = db_q(app->db,
	    "SELECT c.id, c.name, c.domain, u.login, c.lang, c.currency, c.vat_id, c.docs_on_file,"
	    " c.payment_terms, c.address FROM clients c LEFT JOIN users u ON u.id=c.owner_id"
	    " WHERE c.id=?1", "i", id);
	if (!q || db_step(q) != 1) {
		if (q)
			db_done(q);
		return 1;
	}
	json_t *j = json_pack("{s:I,s:s,s:o,s:o,s:s,s:s,s:o,s:b,s:o,s:o}", "id",
	    (json_int_t)db_int(q, 0), "name", db_text(q, 1), "domain",
	    db_text(q, 2) ? json_string(db_text(q, 2)) : json_null(), "owner",
	    db_text(q, 3) ? json_string(db_text(q, 3)) : json_null(), "lang", db_text(q, 4),
	    "currency", db_text(q, 5), "vat_id", db_text(q, 6) ? json_string(db_text(q, 6)) : json_null(),
	    "docs_on_file", (int)db_int(q, 7), "payment_terms",
	    db_text(q, 8) ? json_string(db_text(q, 8)) : json_null(), "address",
	    db_text(q, 9) ? json_string(db_text(q, 9)) : json_null());
	db_done(q);
	json_t *contacts = json_array();
	q = db_q(app->db, "SELECT email, coalesce(name,'') FROM contacts WHERE client_id=?1 ORDER BY id",
	    "i", id);
	while (q && db_step(q) == 1)
		json_array_append_new(contacts, json_pack("{s:s,s:s}", "email", db_text(q, 0), "name",
		                                    db_text(q, 1)));
	if (q)
		db_done(q);
	json_object_set_new(j, "contacts", contacts);
	if (flag(argc, argv, "--json")) {
		char *t = json_dumps(j, JSON_INDENT(2));
		puts(t);
		free(t);
	} else {
		printf("client %lld: %s\n", (long long)id, json_string_value(json_object_get(j, "name")));
#define JS(k) (json_string_value(json_object_get(j, k)) ? json_string_value(json_object_get(j, k)) : "—")
		printf("  account manager: %s\n  language/currency: %s/%s\n  VAT id: %s\n"
		       "  registration documents on file: %s\n  payment terms: %s\n  address: %s\n",
		    JS("owner"), JS("lang"), JS("currency"), JS("vat_id"),
		    json_is_true(json_object_get(j, "docs_on_file")) ? "yes" : "no", JS("payment_terms"),
		    JS("address"));
#undef JS
		size_t i;
		json_t *c;
		json_array_foreach(contacts, i, c)
			printf("  contact: %s %s\n", json_string_value(json_object_get(c, "name")),
			    json_string_value(json_object_get(c, "email")));
	}
	json_decref(j);
	return 0;
}

/* ---- fsck --------------------------------------------------------------- */

/* What fsck found: files under the data directory against the rows that
 * name them (messages.raw_path, attachments.path, documents.path). */
struct fsck {
	struct app *app;
	char **refs; /* sorted, relative to the data directory */
	size_t nrefs;
	size_t files, temps, orphans, missing, removed, remove_failed;
	int repair, json;
	int temps_only; /* only temporaries, nothing printed (start-up) */
	json_t *list;   /* problems, for --json */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
fsck_referenced(const struct fsck *f, const char *rel)
{
	return f->nrefs && bsearch(&rel, f->refs, f->nrefs, sizeof(*f->refs), cmp_str) != NULL;
}

/* The database, its journals and the key are state, not data files. */
static int
fsck_own_file(const struct config *cfg, const char *path)
{
	size_t n = strlen(cfg->db_path);
	if (strncmp(path, cfg->db_path, n) == 0 &&
	    (path[n] == '\0' || strcmp(path + n, "-wal") == 0 || strcmp(path + n, "-shm") == 0 ||
	        strcmp(path + n, "-journal") == 0))
		return 1;
	return strcmp(path, cfg->key_path) == 0;
}

static void
fsck_problem(struct fsck *f, const char *kind, const char *rel, const char *action)
{
	if (f->temps_only)
		return;
	if (f->json)
		json_array_append_new(f->list, json_pack("{s:s, s:s, s:s}", "problem", kind, "path", rel,
		                                       "action", action));
	else
		printf("%s: %s%s%s\n", kind, rel, *action ? " -- " : "", action);
}

static void
fsck_walk(struct fsck *f, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "inkflow: fsck: %s: %s\n", dir, strerror(errno));
		f->missing++;
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = path_join(dir, e->d_name);
		char *r = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		struct stat st;
		if (lstat(path, &st) < 0) {
			/* gone meanwhile */
		} else if (S_ISDIR(st.st_mode)) {
			fsck_walk(f, path, r);
		} else if (!fsck_own_file(f->app->cfg, path)) {
			f->files++;
			/* A file written by a transaction that never committed (the
			 * process was killed, or the transaction failed): a
			 * half-written temporary, or a whole file no row names. */
			const char *kind = NULL;
			if (strstr(e->d_name, ".tmp-")) {
				kind = "temporary file left over";
				f->temps++;
			} else if (!f->temps_only && !fsck_referenced(f, r)) {
				kind = "file no row refers to";
				f->orphans++;
			}
			if (kind) {
				const char *action = "";
				if (f->repair) {
					if (unlink(path) == 0) {
						f->removed++;
						action = "removed";
						log_info("event=fsck_removed path=%s", log_q(r));
					} else {
						f->remove_failed++;
						action = strerror(errno);
					}
				}
				fsck_problem(f, kind, r, action);
			}
		}
		free(r);
		free(path);
	}
	closedir(d);
}

int
cli_fsck(struct app *app, int argc, char **argv)
{
	struct fsck f = {.app = app, .repair = flag(argc, argv, "--repair"),
	    .json = flag(argc, argv, "--json")};
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--repair") != 0 && strcmp(argv[i], "--json") != 0) {
			fprintf(stderr, "inkflow: fsck [--repair] [--json]\n");
			return 1;
		}
	if (app_open_db(app, APP_READ) < 0)
		return 1;
	/* The write lock: every file under the data directory is written inside
	 * a write transaction, so while we hold it no file is half way between
	 * its write and the commit of the row that names it. */
	if (db_begin(app->db) < 0) {
		fprintf(stderr, "inkflow: fsck: the database is busy: %s\n", db_errmsg(app->db));
		return 1;
	}
	if (f.json)
		f.list = json_array();
	char *integrity = NULL;
	if (db_1s(app->db, &integrity, "PRAGMA integrity_check", "") != 1) {
		free(integrity);
		integrity = xstrdup(db_errmsg(app->db));
	}
	int64_t fk = 0;
	db_1i(app->db, &fk, "SELECT count(*) FROM pragma_foreign_key_check", "");
	size_t cap = 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT raw_path FROM messages WHERE raw_path IS NOT NULL"
	    " UNION SELECT path FROM attachments UNION SELECT path FROM documents", "");
	int rc = q ? 1 : -1;
	while (q && (rc = db_step(q)) > 0) {
		if (f.nrefs == cap) {
			cap = cap ? 2 * cap : 1024;
			f.refs = xrealloc(f.refs, cap * sizeof(*f.refs));
		}
		f.refs[f.nrefs++] = xstrdup(db_text(q, 0));
	}
	if (q)
		db_done(q);
	int result = 1;
	if (rc < 0) {
		fprintf(stderr, "inkflow: fsck: %s\n", db_errmsg(app->db));
		goto out;
	}
	if (f.nrefs) /* f.refs is NULL when no row names a file; qsort wants a pointer */
		qsort(f.refs, f.nrefs, sizeof(*f.refs), cmp_str);
	/* Every file a row names is there. */
	for (size_t i = 0; i < f.nrefs; i++) {
		char *path = path_join(app->cfg->data_dir, f.refs[i]);
		struct stat st;
		if (stat(path, &st) < 0) {
			f.missing++;
			fsck_problem(&f, "missing file", f.refs[i], "");
		}
		free(path);
	}
	fsck_walk(&f, app->cfg->data_dir, "");
	int ok_db = strcmp(integrity, "ok") == 0 && fk == 0;
	int clean = ok_db && f.missing == 0 && f.remove_failed == 0 &&
	    (f.repair || (f.temps == 0 && f.orphans == 0));
	if (f.json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o}",
		    "integrity", integrity, "foreign_key_errors", (json_int_t)fk,
		    "files", (json_int_t)f.files, "referenced", (json_int_t)f.nrefs,
		    "temporary", (json_int_t)f.temps, "orphans", (json_int_t)f.orphans,
		    "missing", (json_int_t)f.missing, "removed", (json_int_t)f.removed,
		    "remove_failed", (json_int_t)f.remove_failed, "clean", clean, "problems", f.list);
		f.list = NULL;
		char *s = json_dumps(o, JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("fsck: database %s%s; %zu files, %zu named by rows; %zu temporary, %zu "
		       "unreferenced, %zu missing%s\n",
		    strcmp(integrity, "ok") == 0 ? "ok" : integrity,
		    fk ? ", foreign key errors" : "", f.files, f.nrefs, f.temps, f.orphans, f.missing,
		    f.repair ? (f.remove_failed ? "; some could not be removed" : "; repaired") : "");
	}
	result = clean ? 0 : 1;
out:
	db_rollback(app->db);
	json_decref(f.list);
	free(integrity);
	for (size_t i = 0; i < f.nrefs; i++)
		free(f.refs[i]);
	free(f.refs);
	return result;
}

int
fsck_after_crash(struct app *app)
{
	char *state = NULL;
	int r = db_1s(app->db, &state, "SELECT value FROM daemon_status WHERE key='state'", "");
	int clean = r != 1 || strcmp(state, "stopped") == 0;
	free(state);
	if (clean)
		return 0;
	/* Under the write lock no write is in flight: every temporary file is
	 * left over from the process that did not stop. */
	if (db_begin(app->db) < 0) {
		log_warn("event=crash_recovery_skipped error=%s", log_q(db_errmsg(app->db)));
		return -1;
	}
	struct fsck f = {.app = app, .repair = 1, .temps_only = 1};
	fsck_walk(&f, app->cfg->data_dir, "");
	db_rollback(app->db);
	log_info("event=crash_recovery temporaries_removed=%zu remove_failed=%zu", f.removed,
	    f.remove_failed);
	return f.remove_failed ? -1 : 0;
}
