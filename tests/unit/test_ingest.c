/*
 * Unit tests for ingest.c: routing decisions against a real database,
 * the subject-tag hijack case above all.  Uses the shipped conf/ with the
 * data directory moved to a temporary one.  Run from the repository root
 * or set INKFLOW_SRCDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "util.h"

static const char *
srcdir(void)
{
	const char *s = getenv("INKFLOW_SRCDIR");
	return s && *s ? s : ".";
}

struct fx {
	struct app app;
	char dir[64];
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/inkflow-ut-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *conf = xasprintf("%s/conf/inkflow.xml", srcdir());
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(app_load_config(&f->app, conf), 0);
	free(conf);
	struct config *c = f->app.cfg;
	free(c->data_dir);
	free(c->db_path);
	free(c->key_path);
	free(c->outbox_maildir);
	c->data_dir = xstrdup(f->dir);
	c->db_path = path_join(f->dir, "inkflow.db");
	c->key_path = path_join(f->dir, "hmac.key");
	c->outbox_maildir = path_join(f->dir, "outbox");
	assert_int_equal(app_open_db(&f->app, APP_INIT), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	app_close(&f->app);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static struct ingest_result
feed(struct fx *f, const char *from, const char *subject, const char *extra, const char *msgid)
{
	char *raw = xasprintf("From: %s\nTo: biuro@bmt.example\nSubject: %s\n"
	                      "Message-ID: <%s>\nDate: Fri, 27 Nov 2026 10:00:00 +0100\n%s"
	                      "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
	                      "Proszę o wycenę banera 3 × 1 m.\n",
	    from, subject, msgid, extra ? extra : "");
	struct ingest_result r;
	assert_int_equal(ingest_message(&f->app, "test", NULL, raw, strlen(raw), &r), 0);
	free(raw);
	return r;
}

static int64_t
count(struct fx *f, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(db_1i(f->app.db, &n, sql, ""), 1);
	return n;
}

static void
test_new_inquiry_and_tag(void **state)
{
	struct fx *f = *state;
	struct ingest_result r = feed(f, "Ola <ola@reklama-baltyk.pl>", "Baner", NULL, "m1@x");
	assert_int_equal(r.status, ING_PROCESSED);
	assert_int_equal(r.new_project, 1);
	assert_int_equal(r.project, 1);
	assert_int_equal(r.replies, 2); /* acknowledgement + owner's task */
	/* The same contact with the tag: routed to the project. */
	r = feed(f, "ola@reklama-baltyk.pl", "RE: AW: [INK-1] Baner", NULL, "m2@x");
	assert_int_equal(r.status, ING_PROCESSED);
	assert_int_equal(r.new_project, 0);
	assert_int_equal(r.project, 1);
	assert_string_equal(r.reason, "subject tag");
	assert_int_equal(count(f, "SELECT count(*) FROM projects"), 1);
}

static void
test_hijack_held(void **state)
{
	struct fx *f = *state;
	feed(f, "ola@reklama-baltyk.pl", "Baner", NULL, "h1@x");
	/* A stranger naming someone else's project is held, not attached. */
	struct ingest_result r = feed(f, "intruz@konkurencja.pl", "Re: [INK-1] adres", NULL, "h2@x");
	assert_int_equal(r.status, ING_HELD);
	assert_int_equal(r.project, 0);
	assert_non_null(strstr(r.reason, "not a contact"));
	/* So is someone at a free-mail domain. */
	r = feed(f, "ola.baltyk@gmail.com", "Re: [INK-1] adres", NULL, "h3@x");
	assert_int_equal(r.status, ING_HELD);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE project_id=1 AND text LIKE"
	                          " '%intruz%'"),
	    0);
	assert_int_equal(count(f, "SELECT count(*) FROM messages WHERE project_id=1"), 1);
	/* BOK has a task for each held message. */
	assert_int_equal(count(f, "SELECT count(*) FROM tasks WHERE kind='review-held'"), 2);
	/* A colleague from the client's own domain (a reply-all to the
	 * acknowledgement) joins the project and becomes a contact. */
	r = feed(f, "szef@reklama-baltyk.pl", "Re: [INK-1] adres", NULL, "h5@x");
	assert_int_equal(r.status, ING_PROCESSED);
	assert_int_equal(r.project, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM contacts WHERE email='szef@reklama-baltyk.pl'"),
	    1);
	/* A tag naming no project at all is held too. */
	r = feed(f, "ola@reklama-baltyk.pl", "[INK-77] ?", NULL, "h4@x");
	assert_int_equal(r.status, ING_HELD);
}

static void
test_thread_routing_and_duplicates(void **state)
{
	struct fx *f = *state;
	feed(f, "jan@gmail.com", "Plakat", NULL, "t1@x");
	char *ack = NULL;
	assert_int_equal(db_1s(f->app.db, &ack, "SELECT message_id FROM outbox WHERE kind='ack'",
	                     ""),
	    1);
	char *hdr = xasprintf("In-Reply-To: <%s>\n", ack);
	struct ingest_result r = feed(f, "jan@gmail.com", "Odp: Plakat", hdr, "t2@x");
	assert_int_equal(r.status, ING_PROCESSED);
	assert_int_equal(r.project, 1);
	assert_int_equal(r.new_project, 0);
	free(hdr);
	free(ack);
	/* Same Message-ID and body again: nothing happens. */
	r = feed(f, "jan@gmail.com", "Odp: Plakat", NULL, "t1@x");
	assert_int_equal(r.status, ING_DUPLICATE);
	assert_int_equal(count(f, "SELECT count(*) FROM messages"), 2);
}

static void
test_automatic_mail_never_answered(void **state)
{
	struct fx *f = *state;
	struct ingest_result r =
	    feed(f, "ola@firma.pl", "Urlop", "Auto-Submitted: auto-replied\n", "a1@x");
	assert_int_equal(r.status, ING_IGNORED);
	r = feed(f, "news@firma.pl", "Promocja", "List-Id: <news.firma.pl>\n", "a2@x");
	assert_int_equal(r.status, ING_IGNORED);
	r = feed(f, "MAILER-DAEMON@mx.firma.pl", "Undelivered", NULL, "a3@x");
	assert_int_equal(r.status, ING_IGNORED);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 0);
	/* A staff command without a token: refused and answered, nothing else. */
	r = feed(f, "anna.nowak@bmt.example", "APPROVE", NULL, "a4@x");
	assert_int_equal(r.status, ING_REFUSED);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE kind='command-reply'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM projects"), 0);
}

static void
test_owner_assignment(void **state)
{
	struct fx *f = *state;
	/* Rule *.de: k.schmidt, German, EUR. */
	feed(f, "a@druck.de", "Anfrage", NULL, "o1@x");
	/* No rule, free-mail: BOK task to assign. */
	feed(f, "b@wp.pl", "Zapytanie", NULL, "o2@x");
	struct db_stmt *q = db_q(f->app.db,
	    "SELECT p.lang, p.currency, coalesce(u.login,'-') FROM projects p"
	    " LEFT JOIN users u ON u.id=p.owner_id ORDER BY p.id", "");
	assert_int_equal(db_step(q), 1);
	assert_string_equal(db_text(q, 0), "de");
	assert_string_equal(db_text(q, 1), "EUR");
	assert_string_equal(db_text(q, 2), "k.schmidt");
	assert_int_equal(db_step(q), 1);
	assert_string_equal(db_text(q, 0), "pl");
	assert_string_equal(db_text(q, 2), "-");
	db_done(q);
	assert_int_equal(count(f, "SELECT count(*) FROM tasks t JOIN users u ON u.id=t.assignee_id"
	                          " WHERE t.kind='assign-rep' AND u.role='bok'"),
	    1);
}

/* Files under the data directory whose path contains part. */
static int
files_under(struct fx *f, const char *part)
{
	char *cmd = xasprintf("find '%s' -type f -path '*%s*' | wc -l", f->dir, part);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	int n = -1;
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	free(cmd);
	return n;
}

/* An inquiry; with a PDF attachment whose base64 body is pdf64 unless
 * that is NULL. */
static char *
inquiry(const char *msgid, const char *text, const char *pdf64)
{
	return xasprintf("From: ola@reklama-baltyk.pl\nTo: biuro@bmt.example\nSubject: Baner\n"
	                 "Message-ID: <%s>\nMIME-Version: 1.0\n"
	                 "Content-Type: multipart/mixed; boundary=b\n\n"
	                 "--b\nContent-Type: text/plain; charset=UTF-8\n\n%s\n"
	                 "%s%s--b--\n",
	    msgid, text,
	    pdf64 ? "--b\nContent-Type: application/pdf; name=\"projekt łódź.pdf\"\n"
	            "Content-Transfer-Encoding: base64\n\n" : "",
	    pdf64 ? pdf64 : "");
}

/* The daemon's order: batch B is parsed and its files written (on a
 * second thread) before batch A is committed.  B holds A's first message
 * again through another relay (another raw file, the same Message-ID and
 * body: a duplicate by content), a redelivery under the same source key
 * (seen before) and a new message: the duplicates' files are dropped, the
 * new one's kept, nothing else left. */
static void
test_overlapping_batches(void **state)
{
	struct fx *f = *state;
	char *a1 = inquiry("b1@x", "Proszę o wycenę banera.", "JVBERi0xLjQKJcOkw7zDtsOfCg==\n");
	char *a2 = inquiry("b2@x", "Zapytanie o roll-up.", NULL);
	char *b3 = inquiry("b3@x", "Naklejki na witrynę.", "JVBERi0xLjUKJcOkw7zDtsOfCg==\n");
	struct ingest_input a[2] = {
		{.source_key = "k1", .raw = a1, .len = strlen(a1)},
		{.source_key = "k2", .raw = a2, .len = strlen(a2)},
	};
	char *relayed = xasprintf("Received: from mx2.bmt.example by biuro\n%s", a1);
	struct ingest_input b[3] = {
		{.source_key = "k1-again", .raw = relayed, .len = strlen(relayed)},
		{.source_key = "k1", .raw = a1, .len = strlen(a1)},
		{.source_key = "k3", .raw = b3, .len = strlen(b3)},
	};
	struct ingest_job ja, jb;
	ingest_stage_start(&ja, &f->app, "test", a, 2);
	struct ingest_staged *sa = ingest_stage_wait(&ja);
	ingest_stage_start(&jb, &f->app, "test", b, 3);
	assert_int_equal(ingest_commit(sa), 0);
	assert_int_equal(ingest_commit(ingest_stage_wait(&jb)), 0);
	assert_int_equal(a[0].res.status, ING_PROCESSED);
	assert_int_equal(a[1].res.status, ING_PROCESSED);
	assert_int_equal(b[0].res.status, ING_DUPLICATE);
	assert_int_equal(b[1].res.status, ING_DUPLICATE);
	assert_string_equal(b[1].res.reason, "already processed as message 1");
	assert_int_equal(b[2].res.status, ING_PROCESSED);
	assert_int_equal(count(f, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM attachments"), 2);
	/* Every raw file and attachment is one of theirs; no temporary is left. */
	assert_int_equal(files_under(f, "/raw/"), 3);
	assert_int_equal(files_under(f, "/att/"), 2);
	assert_int_equal(files_under(f, ".tmp-"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM attachments WHERE filename='projekt łódź.pdf'"),
	    2);
	free(a1);
	free(a2);
	free(b3);
	free(relayed);
}

/* Inputs given as files are read by the staging half; one that cannot
 * be read is left alone (rc -1, read_errno) and the others go on. */
static void
test_batch_from_files(void **state)
{
	struct fx *f = *state;
	char *m1 = inquiry("p1@x", "Proszę o wycenę plakatów.", NULL);
	char *p1 = path_join(f->dir, "in-1");
	char *gone = path_join(f->dir, "in-gone");
	assert_int_equal(file_write_durable(p1, m1, strlen(m1), 0600), 0);
	struct ingest_input v[2] = {
		{.source_key = "f-gone", .path = gone},
		{.source_key = "f-1", .path = p1},
	};
	assert_int_equal(ingest_batch(&f->app, "test", v, 2), -1);
	assert_int_equal(v[0].rc, -1);
	assert_int_equal(v[0].read_errno, ENOENT);
	assert_int_equal(v[1].rc, 0);
	assert_int_equal(v[1].read_errno, 0);
	assert_int_equal(v[1].res.status, ING_PROCESSED);
	assert_int_equal(v[1].len, strlen(m1));
	assert_int_equal(count(f, "SELECT count(*) FROM messages"), 1);
	for (size_t i = 0; i < 2; i++)
		ingest_input_release(&v[i]);
	free(m1);
	free(p1);
	free(gone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_inquiry_and_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hijack_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_routing_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_automatic_mail_never_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_assignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_from_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
