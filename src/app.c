#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "store.h"
#include "token.h"
#include "util.h"

int
app_load_config(struct app *app, const char *path)
{
	struct errlist errs = {0};
	if (config_load(path, &app->cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		if (!errs.n)
			fprintf(stderr, "inkflow: %s: configuration not loaded\n", path);
		errlist_free(&errs);
		return -1;
	}
	errlist_free(&errs);
	return 0;
}

/* Create the HMAC key file (32 random bytes, mode 0600) when missing, and
 * refuse one that others can read. */
static int
ensure_key(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (st.st_mode & 077) {
			fprintf(stderr, "inkflow: %s: key file is readable by group or others "
			                "(chmod 600 it)\n", path);
			return -1;
		}
		return 0;
	}
	unsigned char key[32];
	random_bytes(key, sizeof(key));
	if (file_write_durable(path, key, sizeof(key), 0600) < 0) {
		fprintf(stderr, "inkflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
app_open_db(struct app *app, enum app_mode mode)
{
	const struct config *cfg = app->cfg;
	if (mkdir_p(cfg->data_dir, 0750) < 0) {
		fprintf(stderr, "inkflow: data directory %s: %s\n", cfg->data_dir, strerror(errno));
		return -1;
	}
	char err[512];
	if (db_open(cfg->db_path, &app->db, err, sizeof(err)) < 0) {
		fprintf(stderr, "inkflow: database %s\n", err);
		return -1;
	}
	if (mode == APP_INIT) {
		/* An upgrade builds indexes over every row: say so before the wait. */
		int v = db_user_version(app->db);
		int upgrade = v > 0 && v < db_schema_version();
		int64_t t0 = now_epoch();
		if (upgrade)
			log_info("event=db_upgrade db=%s from=%d to=%d note=\"indexes are built over "
			         "every row: a large database takes a minute or more\"",
			    log_q(cfg->db_path), v, db_schema_version());
		if (db_migrate(app->db, err, sizeof(err)) < 0) {
			fprintf(stderr, "inkflow: %s: %s\n", cfg->db_path, err);
			return -1;
		}
		if (upgrade)
			log_info("event=db_upgraded db=%s schema=%d seconds=%lld", log_q(cfg->db_path),
			    db_schema_version(), (long long)(now_epoch() - t0));
		if (ensure_key(cfg->key_path) < 0)
			return -1;
	} else {
		int v = db_user_version(app->db);
		if (v != db_schema_version()) {
			fprintf(stderr,
			    v == 0 ? "inkflow: %s: no database yet; run `inkflow init` first\n"
			           : "inkflow: %s: database schema %d, this inkflow needs %d; "
			             "run `inkflow init` to upgrade\n",
			    cfg->db_path, v, db_schema_version());
			return -1;
		}
	}
	if (mode == APP_READ) {
		if (db_1s(app->db, &app->instance, "SELECT value FROM meta WHERE key='instance'",
		        "") < 0)
			goto dberr;
		return 0;
	}
	if (token_load_key(cfg->key_path, app->key, err, sizeof(err)) < 0) {
		fprintf(stderr, "inkflow: %s\n", err);
		return -1;
	}
	app->have_key = 1;
	if (db_begin(app->db) < 0)
		goto dberr;
	char rnd[17];
	random_hex(rnd, 8);
	if (db_x(app->db, "INSERT OR IGNORE INTO meta(key,value) VALUES('instance',?1)", "t",
	        rnd) < 0 ||
	    db_1s(app->db, &app->instance, "SELECT value FROM meta WHERE key='instance'", "") != 1 ||
	    store_sync_config(app->db, cfg) < 0 || db_commit(app->db) < 0) {
		db_rollback(app->db);
		goto dberr;
	}
	return 0;
dberr:
	fprintf(stderr, "inkflow: %s: %s\n", cfg->db_path, db_errmsg(app->db));
	return -1;
}

void
app_close(struct app *app)
{
	db_close(app->db);
	config_free(app->cfg);
	free(app->instance);
	memset(app, 0, sizeof(*app));
}
