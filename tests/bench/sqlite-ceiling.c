/*
 * sqlite-ceiling: how many durable SQLite commits per second this disk
 * allows — the ceiling for an ingest that commits once per message.
 *
 * Inserts N rows of ROW_BYTES (default 2048) bytes, one transaction each
 * (BEGIN IMMEDIATE; INSERT; COMMIT), with inkflow's settings: WAL,
 * synchronous=FULL, foreign_keys=ON.  DB must not exist (it is created, with
 * its -wal and -shm beside it, on the disk being measured).
 *
 * usage: sqlite-ceiling DB N [ROW_BYTES]
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

int
main(int argc, char **argv)
{
	long long n, row = 2048;
	if (argc < 3 || argc > 4 || parse_range(argv[2], 1, 100000000, &n) < 0 ||
	    (argc == 4 && parse_range(argv[3], 1, 1 << 24, &row) < 0)) {
		fprintf(stderr, "usage: sqlite-ceiling DB N [ROW_BYTES]  (N 1..1e8, ROW_BYTES 1..16M)\n");
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
	if (sqlite3_exec(h,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	        "CREATE TABLE rows(id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE,"
	        " t INTEGER NOT NULL, body TEXT NOT NULL);",
	        NULL, NULL, NULL) != SQLITE_OK)
		return fail(h, "schema");
	sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
	if (sqlite3_prepare_v2(h, "INSERT INTO rows(k,t,body) VALUES(?1,?2,?3)", -1, &ins, NULL) ||
	    sqlite3_prepare_v2(h, "BEGIN IMMEDIATE", -1, &begin, NULL) ||
	    sqlite3_prepare_v2(h, "COMMIT", -1, &commit, NULL))
		return fail(h, "prepare");
	char *body = malloc((size_t)row + 1);
	if (!body)
		return fail(NULL, "malloc");
	/* Text that does not compress into nothing: a rolling pattern. */
	for (long long i = 0; i < row; i++)
		body[i] = (char)('a' + (i * 7 + i / 13) % 26);
	body[row] = '\0';
	double t0 = now_s();
	for (long long i = 0; i < n; i++) {
		char key[40];
		snprintf(key, sizeof(key), "row-%lld", i);
		body[i % row] = (char)('A' + i % 26);
		if (sqlite3_step(begin) != SQLITE_DONE || sqlite3_reset(begin))
			return fail(h, "begin");
		sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(ins, 3, body, (int)row, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_reset(ins))
			return fail(h, "insert");
		if (sqlite3_step(commit) != SQLITE_DONE || sqlite3_reset(commit))
			return fail(h, "commit");
	}
	double dt = now_s() - t0;
	printf("sqlite-ceiling: rows=%lld seconds=%.3f rate=%.1f\n", n, dt, (double)n / dt);
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	free(body);
	if (sqlite3_close(h) != SQLITE_OK)
		return fail(h, "close");
	return 0;
}
