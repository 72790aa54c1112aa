/*
 * sqlite-ceiling: how many durable SQLite commits per second this disk
 * allows — the ceiling for an ingest that commits once per message.
 *
 * Inserts N rows of ROW_BYTES (default 2048) bytes, one transaction each
 * (BEGIN IMMEDIATE; INSERT; COMMIT), with inkflow's settings: WAL,
 * synchronous=FULL, foreign_keys=ON.  DB must not exist (it is created, with
 * its -wal and -shm beside it, on the disk being measured).
 *
 * With TABLES > 1, each transaction instead inserts one row into each of
 * TABLES tables (ROW_BYTES split among them), keyed by a unique key in
 * random order as message ids and content hashes are: every table and its
 * key index get a dirty page, about 2 * TABLES + 2 WAL frames a commit.
 * This is the ceiling for a transaction of that size, the work of a commit
 * left aside.
 *
 * usage: sqlite-ceiling DB N [ROW_BYTES [TABLES]]
 * prints: sqlite-ceiling: rows=N seconds=S rate=R
 * exit 0; 1 on a usage error or a database failure (reason on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

/* Parse a decimal in [min, max]; 0 ok, -1 otherwise. */
static int
parse_range(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
fail(sqlite3 *h, const char *what)
{
	fprintf(stderr, "sqlite-ceiling: %s: %s\n", what, h ? sqlite3_errmsg(h) : "out of memory");
	sqlite3_close(h);
	return 1;
}

/* splitmix64: the same keys in the same random order on every run. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

#define TABLES_MAX 64

int
main(int argc, char **argv)
{
	long long n, row = 2048, tables = 1;
	if (argc < 3 || argc > 5 || parse_range(argv[2], 1, 100000000, &n) < 0 ||
	    (argc >= 4 && parse_range(argv[3], 1, 1 << 24, &row) < 0) ||
	    (argc == 5 && parse_range(argv[4], 1, TABLES_MAX, &tables) < 0)) {
		fprintf(stderr, "usage: sqlite-ceiling DB N [ROW_BYTES [TABLES]]"
		                "  (N 1..1e8, ROW_BYTES 1..16M, TABLES 1..%d)\n", TABLES_MAX);
		return 1;
	}
	struct stat st;
	if (stat(argv[1], &st) == 0) {
		fprintf(stderr, "sqlite-ceiling: %s exists; give a new path\n", argv[1]);
		return 1;
	}
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(argv[1], &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                                     SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return fail(h, "open");
	if (sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	        NULL, NULL, NULL) != SQLITE_OK)
		return fail(h, "settings");
	sqlite3_stmt *ins[TABLES_MAX] = {NULL}, *begin = NULL, *commit = NULL;
	for (long long t = 0; t < tables; t++) {
		char sql[160];
		snprintf(sql, sizeof(sql), "CREATE TABLE rows%lld(id INTEGER PRIMARY KEY,"
		         " k TEXT NOT NULL UNIQUE, t INTEGER NOT NULL, body TEXT NOT NULL)", t);
		if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
			return fail(h, "schema");
		snprintf(sql, sizeof(sql), "INSERT INTO rows%lld(k,t,body) VALUES(?1,?2,?3)", t);
		if (sqlite3_prepare_v2(h, sql, -1, &ins[t], NULL))
			return fail(h, "prepare");
	}
	if (sqlite3_prepare_v2(h, "BEGIN IMMEDIATE", -1, &begin, NULL) ||
	    sqlite3_prepare_v2(h, "COMMIT", -1, &commit, NULL))
		return fail(h, "prepare");
	long long part = row / tables > 0 ? row / tables : 1;
	char *body = malloc((size_t)part + 1);
	if (!body)
		return fail(NULL, "malloc");
	/* Text that does not compress into nothing: a rolling pattern. */
	for (long long i = 0; i < part; i++)
		body[i] = (char)('a' + (i * 7 + i / 13) % 26);
	body[part] = '\0';
	const char *err = NULL;
	double t0 = now_s();
	for (long long i = 0; i < n && !err; i++) {
		body[i % part] = (char)('A' + i % 26);
		if (sqlite3_step(begin) != SQLITE_DONE || sqlite3_reset(begin)) {
			err = "begin";
			break;
		}
		for (long long t = 0; t < tables && !err; t++) {
			char key[40];
			/* One table: keys in order, as before; several: in random order. */
			if (tables == 1)
				snprintf(key, sizeof(key), "row-%lld", i);
			else
				snprintf(key, sizeof(key), "%016" PRIx64,
				    mix((uint64_t)i * TABLES_MAX + (uint64_t)t));
			sqlite3_bind_text(ins[t], 1, key, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins[t], 2, (sqlite3_int64)time(NULL));
			sqlite3_bind_text(ins[t], 3, body, (int)part, SQLITE_STATIC);
			if (sqlite3_step(ins[t]) != SQLITE_DONE || sqlite3_reset(ins[t]))
				err = "insert";
		}
		if (!err && (sqlite3_step(commit) != SQLITE_DONE || sqlite3_reset(commit)))
			err = "commit";
	}
	free(body);
	if (err)
		return fail(h, err);
	double dt = now_s() - t0;
	printf("sqlite-ceiling: rows=%lld seconds=%.3f rate=%.1f\n", n, dt, (double)n / dt);
	for (long long t = 0; t < tables; t++)
		sqlite3_finalize(ins[t]);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	if (sqlite3_close(h) != SQLITE_OK)
		return fail(h, "close");
	return 0;
}
