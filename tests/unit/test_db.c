/*
 * Unit tests for db.c: open and migrate, binding, the statement cache and
 * transactions, on a temporary database file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "log.h"
#include "util.h"

struct fix {
	char *dir;
	char *path;
	struct db *db;
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A temporary directory and the path of a database in it (not opened). */
static int
setup(void **state)
{
	struct fix *f = xcalloc(1, sizeof(*f));
	const char *base = getenv("TMPDIR");
	f->dir = xasprintf("%s/inkflow-test-db-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	f->path = path_join(f->dir, "inkflow.sqlite");
	*state = f;
	return 0;
}

/* The same, opened and migrated. */
static int
setup_migrated(void **state)
{
	if (setup(state) < 0)
		return -1;
	struct fix *f = *state;
	char err[256];
	if (db_open(f->path, &f->db, err, sizeof(err)) < 0 ||
	    db_migrate(f->db, err, sizeof(err)) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	db_close(f->db);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

static char *
one_s(struct db *db, const char *sql)
{
	char *s = NULL;
	assert_int_equal(db_1s(db, &s, sql, ""), 1);
	return s;
}

static int64_t
one_i(struct db *db, const char *sql)
{
	int64_t v = -999;
	assert_int_equal(db_1i(db, &v, sql, ""), 1);
	return v;
}

/* --- open and migrate ------------------------------------------------- */

static void
test_open_migrate(void **state)
{
	struct fix *f = *state;
	char err[256] = "";
	assert_int_equal(db_open(f->path, &f->db, err, sizeof(err)), 0);
	assert_int_equal(db_user_version(f->db), 0);

	char *mode = one_s(f->db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(one_i(f->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(one_i(f->db, "PRAGMA synchronous"), 2); /* FULL */

	assert_true(db_schema_version() >= 1);
	assert_int_equal(db_migrate(f->db, err, sizeof(err)), 0);
	assert_int_equal(db_user_version(f->db), db_schema_version());

	static const char *const tables[] = {"meta", "users", "products", "clients",
	    "contacts", "projects", "messages", "attachments", "tasks", "events", "outbox"};
	for (size_t i = 0; i < ARRAY_LEN(tables); i++) {
		int64_t n = 0;
		assert_int_equal(db_1i(f->db, &n,
		                     "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
		                     "t", tables[i]),
		    1);
		if (n != 1)
			fail_msg("table %s missing", tables[i]);
	}
	int64_t objects = one_i(f->db, "SELECT count(*) FROM sqlite_master");

	/* A second migration is a no-op. */
	assert_int_equal(db_migrate(f->db, err, sizeof(err)), 0);
	assert_int_equal(db_user_version(f->db), db_schema_version());
	assert_int_equal(one_i(f->db, "SELECT count(*) FROM sqlite_master"), objects);

	/* Reopened: the settings come back, the schema stays. */
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(db_open(f->path, &f->db, err, sizeof(err)), 0);
	assert_int_equal(db_user_version(f->db), db_schema_version());
	assert_int_equal(one_i(f->db, "PRAGMA foreign_keys"), 1);
	mode = one_s(f->db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(db_migrate(f->db, err, sizeof(err)), 0);
	assert_int_equal(one_i(f->db, "SELECT count(*) FROM sqlite_master"), objects);
}

static void
test_refuses_newer(void **state)
{
	struct fix *f = *state;
	char err[256] = "";
	assert_int_equal(db_open(f->path, &f->db, err, sizeof(err)), 0);
	char *pragma = xasprintf("PRAGMA user_version=%d", db_schema_version() + 1);
	assert_int_equal(db_x(f->db, pragma, ""), 0);
	free(pragma);
	assert_int_equal(db_migrate(f->db, err, sizeof(err)), -1);
	char *want = xasprintf("database schema version %d is newer than this inkflow (%d)",
	    db_schema_version() + 1, db_schema_version());
	assert_string_equal(err, want);
	free(want);
	/* Nothing was created, and no transaction is left open. */
	assert_int_equal(one_i(f->db, "SELECT count(*) FROM sqlite_master"), 0);
	assert_int_equal(db_user_version(f->db), db_schema_version() + 1);
	assert_int_equal(db_begin(f->db), 0);
	db_rollback(f->db);
}

static void
test_open_fails(void **state)
{
	struct fix *f = *state;
	char err[256] = "";
	char *bad = path_join(f->dir, "no/such/dir/x.sqlite");
	struct db *db = (struct db *)1;
	assert_int_equal(db_open(bad, &db, err, sizeof(err)), -1);
	assert_true(strncmp(err, bad, strlen(bad)) == 0);
	assert_true(db == (struct db *)1);
	free(bad);

	/* Not a database. */
	char *junk = path_join(f->dir, "junk");
	FILE *fp = fopen(junk, "wb");
	assert_non_null(fp);
	for (int i = 0; i < 100; i++)
		fputs("this is not an SQLite file at all\n", fp);
	fclose(fp);
	err[0] = '\0';
	if (db_open(junk, &db, err, sizeof(err)) == 0) {
		/* SQLite may only notice at first use. */
		assert_int_equal(db_migrate(db, err, sizeof(err)), -1);
		db_close(db);
	}
	assert_true(err[0] != '\0');
	free(junk);
	db_close(NULL);
}

/* --- queries and binding ---------------------------------------------- */

static void
test_bind_types(void **state)
{
	struct fix *f = *state;
	struct db *db = f->db;
	assert_int_equal(db_x(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, i INTEGER, d INTEGER)", ""), 0);
	assert_int_equal(db_x(db, "INSERT INTO t(s, i, d) VALUES(?1, ?2, ?3)", "tid",
	                     "Zażółć 'gęślą' \"jaźń\"; DROP TABLE t; --", (int64_t)INT64_MAX, -7),
	    0);
	assert_int_equal(db_last_id(db), 1);
	assert_int_equal(db_changes(db), 1);
	assert_int_equal(db_x(db, "INSERT INTO t(s, i, d) VALUES(?1, ?2, ?3)", "tid",
	                     NULL, (int64_t)INT64_MIN, 0),
	    0);
	assert_int_equal(db_last_id(db), 2);

	char *s = (char *)1;
	assert_int_equal(db_1s(db, &s, "SELECT s FROM t WHERE id=?1", "i", (int64_t)1), 1);
	assert_string_equal(s, "Zażółć 'gęślą' \"jaźń\"; DROP TABLE t; --");
	free(s);
	s = (char *)1;
	assert_int_equal(db_1s(db, &s, "SELECT s FROM t WHERE id=?1", "i", (int64_t)2), 1);
	assert_null(s); /* SQL NULL */
	s = (char *)1;
	assert_int_equal(db_1s(db, &s, "SELECT s FROM t WHERE id=?1", "i", (int64_t)3), 0);
	assert_true(s == (char *)1); /* no row: untouched */

	int64_t v = 0;
	assert_int_equal(db_1i(db, &v, "SELECT i FROM t WHERE id=?1", "i", (int64_t)1), 1);
	assert_true(v == INT64_MAX);
	assert_int_equal(db_1i(db, &v, "SELECT i FROM t WHERE id=?1", "i", (int64_t)2), 1);
	assert_true(v == INT64_MIN);
	assert_int_equal(db_1i(db, &v, "SELECT d FROM t WHERE id=?1", "d", 1), 1);
	assert_int_equal(v, -7);
	v = 42;
	assert_int_equal(db_1i(db, &v, "SELECT d FROM t WHERE id=?1", "d", 99), 0);
	assert_int_equal(v, 42);

	/* NULL binds NULL: "= NULL" matches nothing, IS matches. */
	assert_int_equal(db_1i(db, &v, "SELECT count(*) FROM t WHERE s = ?1", "t", NULL), 1);
	assert_int_equal(v, 0);
	assert_int_equal(db_1i(db, &v, "SELECT count(*) FROM t WHERE s IS ?1", "t", NULL), 1);
	assert_int_equal(v, 1);

	/* Iterating rows with db_q / db_step / db_text / db_isnull. */
	struct db_stmt *st = db_q(db, "SELECT id, s, i FROM t ORDER BY id", "");
	assert_non_null(st);
	assert_int_equal(db_step(st), 1);
	assert_int_equal(db_int(st, 0), 1);
	assert_false(db_isnull(st, 1));
	assert_string_equal(db_text(st, 1), "Zażółć 'gęślą' \"jaźń\"; DROP TABLE t; --");
	assert_int_equal(db_step(st), 1);
	assert_int_equal(db_int(st, 0), 2);
	assert_true(db_isnull(st, 1));
	assert_null(db_text(st, 1));
	assert_int_equal(db_step(st), 0);
	db_done(st);

	/* UPDATE counts and a statement that fails. */
	assert_int_equal(db_x(db, "UPDATE t SET d=d+1", ""), 0);
	assert_int_equal(db_changes(db), 2);
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(db_x(db, "INSERT INTO t(id) VALUES(?1)", "i", (int64_t)1), -1);
	assert_false(db_last_busy(db));
	assert_non_null(strstr(db_errmsg(db), "UNIQUE"));
	assert_null(db_q(db, "SELECT nosuchcolumn FROM t", ""));
	assert_int_equal(db_1i(db, &v, "SELECT * FROM nosuchtable", ""), -1);
	assert_int_equal(db_1s(db, &s, "SELECT * FROM nosuchtable", ""), -1);
}

static void
test_foreign_keys_enforced(void **state)
{
	struct fix *f = *state;
	struct db *db = f->db;
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(db_x(db, "INSERT INTO contacts(client_id, email, created) VALUES(?1, ?2, ?3)",
	                     "iti", (int64_t)999, "jan@client.example", (int64_t)1),
	    -1);
	assert_int_equal(db_x(db, "INSERT INTO clients(name, lang, currency, created) VALUES(?1, ?2, ?3, ?4)",
	                     "ttti", "Klient", "pl", "PLN", (int64_t)1),
	    0);
	int64_t client = db_last_id(db);
	assert_int_equal(db_x(db, "INSERT INTO contacts(client_id, email, created) VALUES(?1, ?2, ?3)",
	                     "iti", client, "jan@client.example", (int64_t)1),
	    0);
}

static void
test_statement_cache(void **state)
{
	struct fix *f = *state;
	struct db *db = f->db;
	assert_int_equal(db_x(db, "CREATE TABLE c(x INTEGER)", ""), 0);
	const char *ins = "INSERT INTO c(x) VALUES(?1)";
	struct db_stmt *a = db_q(db, ins, "i", (int64_t)1);
	assert_non_null(a);
	assert_int_equal(db_step(a), 0);
	struct db_stmt *b = db_q(db, ins, "i", (int64_t)2);
	assert_ptr_equal(a, b); /* the same prepared statement, reset and rebound */
	assert_int_equal(db_step(b), 0);
	struct db_stmt *c = db_q(db, "SELECT sum(x) FROM c", "");
	assert_ptr_not_equal(a, c);
	assert_int_equal(db_step(c), 1);
	assert_int_equal(db_int(c, 0), 3);
	db_done(c);

	/* A statement left mid-iteration is reset by the next db_q. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(db_x(db, ins, "i", (int64_t)10), 0);
	const char *sel = "SELECT x FROM c ORDER BY rowid";
	struct db_stmt *s1 = db_q(db, sel, "");
	assert_int_equal(db_step(s1), 1);
	assert_int_equal(db_int(s1, 0), 1);
	assert_int_equal(db_step(s1), 1);
	struct db_stmt *s2 = db_q(db, sel, "");
	assert_ptr_equal(s1, s2);
	assert_int_equal(db_step(s2), 1);
	assert_int_equal(db_int(s2, 0), 1);
	db_done(s2);

	/* Bindings do not leak from one use to the next. */
	assert_int_equal(db_x(db, "CREATE TABLE n(v TEXT)", ""), 0);
	assert_int_equal(db_x(db, "INSERT INTO n(v) VALUES(?1)", "t", "first"), 0);
	assert_int_equal(db_x(db, "INSERT INTO n(v) VALUES(?1)", "t", NULL), 0);
	int64_t nulls = 0;
	assert_int_equal(db_1i(db, &nulls, "SELECT count(*) FROM n WHERE v IS NULL", ""), 1);
	assert_int_equal(nulls, 1);

	/* Many distinct statements all stay usable. */
	for (int i = 0; i < 300; i++) {
		char *sql = xasprintf("SELECT %d + ?1", i);
		int64_t v = 0;
		assert_int_equal(db_1i(db, &v, sql, "i", (int64_t)1000), 1);
		assert_int_equal(v, 1000 + i);
		free(sql);
	}
	for (int i = 0; i < 300; i += 37) {
		char *sql = xasprintf("SELECT %d + ?1", i);
		int64_t v = 0;
		assert_int_equal(db_1i(db, &v, sql, "i", (int64_t)1), 1);
		assert_int_equal(v, 1 + i);
		free(sql);
	}
}

static void
test_transactions(void **state)
{
	struct fix *f = *state;
	struct db *db = f->db;
	assert_int_equal(db_x(db, "CREATE TABLE tx(x INTEGER)", ""), 0);

	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_x(db, "INSERT INTO tx(x) VALUES(1)", ""), 0);
	assert_int_equal(one_i(db, "SELECT count(*) FROM tx"), 1);
	db_rollback(db);
	assert_int_equal(one_i(db, "SELECT count(*) FROM tx"), 0);

	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_x(db, "INSERT INTO tx(x) VALUES(2)", ""), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(one_i(db, "SELECT count(*) FROM tx"), 1);

	/* Rollback outside a transaction is harmless; commit is an error. */
	db_rollback(db);
	assert_int_equal(one_i(db, "SELECT count(*) FROM tx"), 1);
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(db_commit(db), -1);
	/* No nested BEGIN. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_begin(db), -1);
	db_rollback(db);

	/* A rolled-back transaction is gone for another connection too, and
	 * a committed one is visible there. */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_x(db, "INSERT INTO tx(x) VALUES(3)", ""), 0);
	db_rollback(db);
	struct db *other;
	char err[256];
	assert_int_equal(db_open(f->path, &other, err, sizeof(err)), 0);
	assert_int_equal(one_i(other, "SELECT count(*) FROM tx"), 1);
	assert_int_equal(one_i(other, "SELECT sum(x) FROM tx"), 2);
	db_close(other);

	/* db_migrate inside our own transaction refuses (BEGIN fails). */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_migrate(db, err, sizeof(err)), -1);
	assert_true(strncmp(err, "begin: ", 7) == 0);
	db_rollback(db);
}

/* Commits of several pages each go through the WAL (whose frames are
 * written by db.c's VFS) and read back right: by a second connection
 * from the WAL, after a checkpoint from the database, and after both are
 * closed and it is opened again. */
#define SUMMARY "substr(t, 1, 40) || length(t)"
static void
test_wal_frames(void **state)
{
	struct fix *f = *state;
	struct db *db = f->db;
	assert_int_equal(db_x(db, "CREATE TABLE w(id INTEGER PRIMARY KEY, t TEXT, h TEXT)", ""), 0);
	assert_int_equal(db_x(db, "CREATE INDEX w_h ON w(h)", ""), 0);
	struct db *other;
	char err[256], *s = NULL;
	assert_int_equal(db_open(f->path, &other, err, sizeof(err)), 0);
	/* The second half without a sync per commit: each commit must be
	 * whole in the WAL when another connection is told of it. */
	for (int i = 0; i < 200; i++) {
		if (i == 100)
			assert_int_equal(db_x(db, "PRAGMA synchronous=OFF", ""), 0);
		assert_int_equal(db_begin(db), 0);
		assert_int_equal(db_x(db, "INSERT INTO w(t) VALUES(hex(randomblob(3000 + ?1)))", "d",
		                     i), 0);
		assert_int_equal(db_x(db, "UPDATE w SET h=" SUMMARY " WHERE id=last_insert_rowid()",
		                     ""), 0);
		assert_int_equal(db_commit(db), 0);
		assert_int_equal(one_i(other, "SELECT count(*) FROM w WHERE h=" SUMMARY), i + 1);
	}
	/* One commit larger than a single write of the gathered frames. */
	assert_int_equal(db_begin(db), 0);
	for (int i = 200; i < 300; i++)
		assert_int_equal(db_x(db, "INSERT INTO w(t,h) VALUES(hex(randomblob(3000 + ?1)), 'x')",
		                     "d", i), 0);
	assert_int_equal(db_x(db, "UPDATE w SET h=" SUMMARY " WHERE h='x'", ""), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(db_x(db, "PRAGMA synchronous=FULL", ""), 0);
	int64_t want = 0;
	for (int i = 0; i < 300; i++)
		want += 2 * (3000 + i);
	assert_int_equal(one_i(other, "SELECT sum(length(t)) FROM w"), want);
	assert_int_equal(one_i(other, "SELECT count(*) FROM w WHERE h=" SUMMARY), 300);
	assert_int_equal(db_1s(other, &s, "PRAGMA integrity_check", ""), 1);
	assert_string_equal(s, "ok");
	free(s);
	assert_int_equal(db_x(db, "PRAGMA wal_checkpoint(TRUNCATE)", ""), 0);
	assert_int_equal(one_i(other, "SELECT count(*) FROM w WHERE h=" SUMMARY), 300);
	db_close(other);
	db_close(db);
	assert_int_equal(db_open(f->path, &f->db, err, sizeof(err)), 0);
	assert_int_equal(one_i(f->db, "SELECT sum(length(t)) FROM w"), want);
	assert_int_equal(db_1s(f->db, &s, "PRAGMA integrity_check", ""), 1);
	assert_string_equal(s, "ok");
	free(s);
}
#undef SUMMARY

/* A transaction larger than the page cache writes some pages to the WAL
 * twice; SQLite then rewrites the checksums of those frames at the commit
 * (a frame header written alone where the frame was just read).  The WAL
 * on disk right after the commit, without a sync and without a close,
 * must hold the whole commit: a copy of the files, opened as after a
 * crash, recovers every row. */
static void
test_wal_checksum_rewrite(void **state)
{
	struct fix *f = *state;
	struct db *db = f->db;
	assert_int_equal(db_x(db, "PRAGMA synchronous=OFF", ""), 0);
	assert_int_equal(db_x(db, "PRAGMA cache_size=8", ""), 0);
	assert_int_equal(db_x(db, "CREATE TABLE r(id INTEGER PRIMARY KEY, t TEXT)", ""), 0);
	assert_int_equal(db_begin(db), 0);
	for (int i = 0; i < 400; i++)
		assert_int_equal(db_x(db, "INSERT INTO r(t) VALUES(hex(randomblob(200)))", ""), 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(db_x(db, "UPDATE r SET t=hex(randomblob(200))", ""), 0);
	assert_int_equal(db_commit(db), 0);
	char *copy = path_join(f->dir, "copy.sqlite");
	static const char *const sfx[] = {"", "-wal"};
	for (int i = 0; i < 2; i++) {
		char *from = xasprintf("%s%s", f->path, sfx[i]), *to = xasprintf("%s%s", copy, sfx[i]);
		char *data;
		size_t len;
		assert_int_equal(file_read(from, (size_t)1 << 30, &data, &len), 0);
		assert_int_equal(file_write_durable(to, data, len, 0600), 0);
		free(data);
		free(from);
		free(to);
	}
	struct db *other;
	char err[256];
	assert_int_equal(db_open(copy, &other, err, sizeof(err)), 0);
	assert_int_equal(one_i(other, "SELECT count(*) FROM r"), 400);
	char *ok = one_s(other, "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
	free(ok);
	db_close(other);
	free(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_types, setup_migrated, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_keys_enforced, setup_migrated, teardown),
		cmocka_unit_test_setup_teardown(test_statement_cache, setup_migrated, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup_migrated, teardown),
		cmocka_unit_test_setup_teardown(test_wal_frames, setup_migrated, teardown),
		cmocka_unit_test_setup_teardown(test_wal_checksum_rewrite, setup_migrated, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
