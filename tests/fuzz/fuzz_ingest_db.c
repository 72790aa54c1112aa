/*
 * fuzz_ingest_db: the whole of ingest_message against a real database —
 * dedupe, storage of the raw message and attachments, classification,
 * routing to a project by tag, thread or token, commands from staff,
 * acknowledgements and tasks queued from the shipped templates, history.
 *
 * LLVMFuzzerInitialize loads the shipped conf/ with the data directory
 * moved to a private temporary one (as tests/unit/test_ingest.c does),
 * creates the database and ingests three messages so projects INK-1..3
 * exist (a Polish client, a German client, a reply), then keeps a copy of
 * that database.  Every input starts from that copy, so an input's outcome
 * does not depend on the inputs before it and a reproducer replays alone.
 * Files written under the data directory are content-addressed and are
 * cleared every few thousand inputs.
 *
 * Checks: ingest_message returns 0 or -1 (never a temporary failure on a
 * healthy disk: a -1 here is reported) with a status in range and a
 * reason; a message is either a duplicate or got a row.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "ingest.h"
#include "util.h"

#include "fuzz_common.h"

static struct app app;
static char *base;      /* the database with projects 1..3, written per input */
static size_t base_len;
static char *data_dir;
static char *db_wal, *db_shm;
static unsigned long runs;

static const char *const setup_msgs[] = {
	"From: Ola Baltyk <ola@reklama-baltyk.pl>\nTo: biuro@bmt.example\n"
	"Subject: Baner 3x1 m\nMessage-ID: <setup-1@reklama-baltyk.pl>\n"
	"Date: Fri, 27 Nov 2026 10:00:00 +0100\nMIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=UTF-8\n\nProszę o wycenę banera 3 × 1 m.\n",
	"From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <j.mueller@werbung-mueller.de>\n"
	"To: biuro@bmt.example\nSubject: Anfrage Werbebanner\n"
	"Message-ID: <setup-2@werbung-mueller.de>\nDate: Fri, 27 Nov 2026 10:05:00 +0100\n"
	"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
	"Bitte um ein Angebot: 2 Banner 4 x 2 m mit Ösen.\n",
	"From: jan.kowalski@gmail.com\nTo: biuro@bmt.example\nSubject: Roll-up\n"
	"Message-ID: <setup-3@gmail.com>\nDate: Fri, 27 Nov 2026 10:10:00 +0100\n"
	"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n3 roll-upy 85x200.\n",
	"From: ola@reklama-baltyk.pl\nTo: biuro@bmt.example\nSubject: Re: [INK-1] Baner 3x1 m\n"
	"Message-ID: <setup-4@reklama-baltyk.pl>\nIn-Reply-To: <setup-1@reklama-baltyk.pl>\n"
	"Date: Fri, 27 Nov 2026 10:15:00 +0100\nMIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=UTF-8\n\nJeszcze oczka co 50 cm.\n",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
open_db(void)
{
	char err[512];
	if (db_open(app.cfg->db_path, &app.db, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz harness: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERROR);
	setenv("INKFLOW_NOW", "1795780800", 1);
	setenv("TZ", "Europe/Warsaw", 1);
	char *conf = fz_path(fz_root(), "conf/inkflow.xml");
	if (app_load_config(&app, conf) < 0)
		fz_die("app_load_config conf/inkflow.xml");
	free(conf);
	const char *tmp = fz_tmpdir("fuzz-ingest-db");
	struct config *c = app.cfg;
	data_dir = fz_path(tmp, "data");
	free(c->data_dir);
	free(c->db_path);
	free(c->key_path);
	free(c->outbox_maildir);
	c->data_dir = xstrdup(data_dir);
	c->db_path = path_join(data_dir, "inkflow.db");
	c->key_path = path_join(data_dir, "hmac.key");
	c->outbox_maildir = fz_path(tmp, "outbox");
	if (app_open_db(&app, APP_INIT) < 0)
		fz_die("app_open_db");
	for (size_t i = 0; i < ARRAY_LEN(setup_msgs); i++) {
		struct ingest_result r;
		if (ingest_message(&app, "fuzz", NULL, setup_msgs[i], strlen(setup_msgs[i]), &r) < 0)
			fz_die("ingest of a setup message");
	}
	db_close(app.db);
	app.db = NULL;
	db_wal = xasprintf("%s-wal", c->db_path);
	db_shm = xasprintf("%s-shm", c->db_path);
	if (file_read(c->db_path, 64 * 1024 * 1024, &base, &base_len) < 0)
		fz_die(c->db_path);
	fprintf(stderr, "fuzz_ingest_db: base database %zu bytes in %s\n", base_len, data_dir);
	return 0;
}

static void
reset_db(void)
{
	unlink(db_wal);
	unlink(db_shm);
	fz_write(app.cfg->db_path, base, base_len);
	open_db();
}

static void
clear_files(void)
{
	/* Content-addressed files only; the database is reset per input. */
	static const char *const sub[] = {"raw", "att", "doc", "docs"};
	for (size_t i = 0; i < ARRAY_LEN(sub); i++) {
		char *p = fz_path(data_dir, sub[i]);
		nftw(p, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reset_db();
	struct ingest_result r;
	memset(&r, 0, sizeof(r));
	int rc = ingest_message(&app, "fuzz", NULL, (const char *)data, size, &r);
	FZ_CHECK(rc == 0, "ingest_message: temporary failure: %s", r.reason);
	FZ_CHECK(r.status <= ING_REFUSED, "status %d", (int)r.status);
	FZ_CHECK(ingest_status_name(r.status) != NULL, "status name");
	FZ_CHECK(memchr(r.reason, '\0', sizeof(r.reason)) != NULL, "reason not terminated");
	if (r.status != ING_DUPLICATE)
		FZ_CHECK(r.message > 0, "no messages row for status %s",
		    ingest_status_name(r.status));
	db_close(app.db);
	app.db = NULL;
	if (++runs % 4096 == 0)
		clear_files();
	return 0;
}
