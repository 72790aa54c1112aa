/*
 * db: the only module that speaks SQLite.  A thin layer of cached prepared
 * statements with bound parameters, transactions, and the schema with its
 * forward migrations (PRAGMA user_version).
 *
 * Binding uses a type string, one letter per parameter:
 *   'i' int64_t   'd' int   't' const char * (NULL binds NULL)
 * e.g. db_x(db, "UPDATE t SET a=?1 WHERE id=?2", "ti", "x", (int64_t)7).
 */
#ifndef INKFLOW_DB_H
#define INKFLOW_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

/* Open (creating when missing) with WAL, foreign keys, synchronous=FULL and
 * a busy timeout.  Does not migrate.  -1 with err filled on failure. */
int db_open(const char *path, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);

/* Schema version this binary writes, and the version stored in the file. */
int db_schema_version(void);
int db_user_version(struct db *db);
/* Create or upgrade the schema to db_schema_version() in one transaction.
 * Refuses a file newer than this binary. */
int db_migrate(struct db *db, char *err, size_t errlen);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  0 / -1. */
int db_begin(struct db *db);
/* BEGIN (deferred): several reads from one snapshot, with one read lock
 * instead of one per statement; ended by db_rollback.  0 / -1. */
int db_begin_read(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
/* 1 when the last failure was SQLITE_BUSY/LOCKED (a temporary condition). */
int db_last_busy(struct db *db);
/* 1 when the last failure was the disk's (full, I/O error, read-only). */
int db_last_io(struct db *db);
const char *db_errmsg(struct db *db);

/* Prepare (cached by SQL text) and bind.  The returned statement is reset,
 * valid until the next db_q on the same SQL.  NULL on error (logged). */
struct db_stmt *db_q(struct db *db, const char *sql, const char *types, ...);
/* Step: 1 row available, 0 done, -1 error (logged). */
int db_step(struct db_stmt *st);
int64_t db_int(struct db_stmt *st, int col);
const char *db_text(struct db_stmt *st, int col); /* NULL for SQL NULL; lent */
int db_isnull(struct db_stmt *st, int col);
/* Release the statement's read lock early (also done by the next db_q). */
void db_done(struct db_stmt *st);

/* Execute to completion.  0 / -1. */
int db_x(struct db *db, const char *sql, const char *types, ...);
/* First column of the first row as integer: 1 found, 0 no row, -1 error. */
int db_1i(struct db *db, int64_t *out, const char *sql, const char *types, ...);
/* First column of the first row as a new string (NULL when SQL NULL):
 * 1 found, 0 no row, -1 error.  Caller frees *out. */
int db_1s(struct db *db, char **out, const char *sql, const char *types, ...);

int64_t db_last_id(struct db *db);
int db_changes(struct db *db);

#endif
