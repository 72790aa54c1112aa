/*
 * app: the context every command works in — the loaded configuration (the
 * only global state, read-only) and the open database.
 */
#ifndef INKFLOW_APP_H
#define INKFLOW_APP_H

#include <stddef.h>

struct config;
struct db;

struct app {
	struct config *cfg; /* owned */
	struct db *db;      /* owned, NULL until app_open_db */
	char *instance;     /* random id of this database, from meta (owned) */
	unsigned char key[32]; /* action-token key, loaded by app_open_db */
	int have_key;
};

/* Load the configuration; problems are printed to stderr as
 * "file:line: message".  0 / -1. */
int app_load_config(struct app *app, const char *path);
enum app_mode {
	APP_READ,  /* listings: open only */
	APP_WRITE, /* run, deliver: also bring users and products up to date */
	APP_INIT,  /* init: also create or upgrade the schema and the HMAC key */
};
/* Create the data directory and open the database.  Except with APP_INIT,
 * refuse a database whose schema is not current (and say to run `inkflow
 * init`).  0 / -1 with a message on stderr. */
int app_open_db(struct app *app, enum app_mode mode);
void app_close(struct app *app);

#endif
