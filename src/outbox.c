#include "outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "maildir.h"
#include "smtp.h"
#include "tmpl.h"
#include "store.h"
#include "util.h"

int64_t
outbox_queue(struct app *app, int64_t project, const char *kind,
    const struct mail_out *m, char **msgid_out)
{
	int64_t now = now_epoch();
	char *msgid = compose_message_id(app->cfg->domain, project);
	char *raw = compose_mail(m, msgid, now);
	char *rcpt = m->cc_addr ? xasprintf("%s,%s", m->to_addr, m->cc_addr)
	                        : xstrdup(m->to_addr);
	int r = db_x(app->db,
	    "INSERT INTO outbox(project_id,message_id,kind,mail_from,rcpt,subject,raw,"
	    "auto,status,created,next_try) VALUES(NULLIF(?1,0),?2,?3,?4,?5,?6,?7,?8,"
	    "'queued',?9,?9)",
	    "ittttttdi", project, msgid, kind, app->cfg->system_address, rcpt,
	    m->subject, raw, m->auto_generated ? 1 : 0, now);
	free(raw);
	int64_t id = r < 0 ? -1 : db_last_id(app->db);
	if (id > 0 && hist_add(app->db, project, 0, "system", "mail-out",
	                  "%s to %s: %s", kind, rcpt, m->subject) < 0)
		id = -1;
	/* Inside the caller's transaction, which may still roll back: debug
	 * only; what was committed shows as replies= of message_done and as
	 * mail_sent. */
	if (id > 0)
		log_debug("event=mail_queued outbox=%lld project=%lld kind=%s rcpt=%s",
		    (long long)id, (long long)project, kind, log_q(rcpt));
	free(rcpt);
	if (id > 0 && msgid_out)
		*msgid_out = msgid;
	else
		free(msgid);
	return id;
}

int
outbox_auto_count(struct app *app, const char *addr)
{
	int64_t n = 0;
	if (db_1i(app->db, &n,
	        "SELECT count(*) FROM outbox WHERE rcpt=?1 AND auto=1 AND created>?2",
	        "ti", addr, now_epoch() - 3600) < 0)
		return -1;
	return (int)n;
}

/* Seconds to wait before attempt n+1 after n failed attempts: 1, 2, 4 …
 * minutes, at most an hour. */
static int64_t
backoff(int64_t attempts)
{
	int64_t d = 60;
	for (int64_t i = 1; i < attempts && d < 3600; i++)
		d *= 2;
	return d > 3600 ? 3600 : d;
}

/* A temporary failure that has lasted this long becomes permanent. */
#define GIVE_UP_AFTER (5 * 86400)

/* Tell the project owner and the admin that mail could not be delivered.
 * Never about a failure notice itself (no loops). */
static int
report_failure(struct app *app, int64_t id, int64_t project, const char *kind,
    const char *rcpt, const char *subject, const char *why)
{
	if (hist_add(app->db, project, 0, "system", "mail-failed",
	        "%s to %s could not be delivered: %s", kind, rcpt, why) < 0)
		return -1;
	if (strcmp(kind, "send-failed") == 0)
		return 0;
	const struct cfg_user *who[2] = {NULL, config_user_by_role(app->cfg, ROLE_ADMIN)};
	int64_t owner = 0;
	if (project && db_1i(app->db, &owner, "SELECT coalesce(owner_id,0) FROM projects WHERE id=?1",
	                   "i", project) < 0)
		return -1;
	if (owner)
		who[0] = store_user_cfg(app, owner);
	char pb[32], ob[32];
	snprintf(pb, sizeof(pb), "%lld", (long long)project);
	snprintf(ob, sizeof(ob), "%lld", (long long)id);
	for (size_t i = 0; i < 2; i++) {
		const struct cfg_user *u = who[i];
		if (!u || (i == 1 && who[0] && strcmp(who[0]->login, u->login) == 0))
			continue;
		struct tmpl_var v[] = {
		    {"project", pb}, {"contact_email", rcpt}, {"message_subject", subject},
		    {"reason", why}, {"assignee_name", u->name},
		    {"company_name", app->cfg->company.name}, {"outbox_id", ob},
		};
		struct tmpl_mail t;
		char err[512];
		if (tmpl_mail_render(app->cfg->templates_dir, u->lang, "send-failed", v,
		        ARRAY_LEN(v), &t, err, sizeof(err)) < 0) {
			log_error("event=template_failed template=send-failed error=%s", log_q(err));
			return -1;
		}
		struct mail_out mo = {
		    .from_name = app->cfg->system_name, .from_addr = app->cfg->system_address,
		    .to_name = u->name, .to_addr = u->email, .subject = t.subject,
		    .text = t.text, .html = t.html, .auto_generated = 1,
		    .loop_id = app->cfg->system_address, .project = project,
		};
		int64_t r = outbox_queue(app, project, "send-failed", &mo, NULL);
		tmpl_mail_free(&t);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Split "a,b" into a NULL-terminated vector; caller frees v[0] and v. */
static char **
split_rcpt(const char *csv, size_t *n)
{
	char *copy = xstrdup(csv);
	size_t cap = 4;
	char **v = xcalloc(cap, sizeof(*v));
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n + 1 >= cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[(*n)++] = tok;
	}
	v[*n] = NULL;
	if (!*n)
		free(copy);
	return v;
}

/* One attempt for one row over SMTP; records the outcome in its own
 * transaction.  Returns 1 sent, 0 failed permanently, -1 temporary failure
 * (stop here: later mail keeps its order behind this one). */
static int
send_smtp_row(struct app *app, int64_t id, int64_t project, int64_t created,
    int64_t attempts, const char *kind, const char *rcpt, const char *subject,
    const char *raw, struct outbox_stats *st)
{
	size_t n;
	char **rcpts = split_rcpt(rcpt, &n);
	char err[512] = "";
	enum smtp_result r = smtp_send(app->cfg->smtp, (const char *const *)rcpts, n, raw, err,
	    sizeof(err));
	if (n)
		free(rcpts[0]);
	free(rcpts);
	int64_t now = now_epoch();
	if (r == SMTP_SENT) {
		if (db_x(app->db,
		        "UPDATE outbox SET status='sent', sent=?2, attempts=attempts+1,"
		        " last_error=NULL WHERE id=?1",
		        "ii", id, now) < 0)
			return -1;
		st->sent++;
		log_info("event=mail_sent outbox=%lld project=%lld transport=smtp rcpt=%s",
		    (long long)id, (long long)project, log_q(rcpt));
		return 1;
	}
	if (r == SMTP_TEMPFAIL && now - created < GIVE_UP_AFTER) {
		db_x(app->db,
		    "UPDATE outbox SET attempts=attempts+1, next_try=?2, last_error=?3 WHERE id=?1",
		    "iit", id, now + backoff(attempts + 1), err);
		st->deferred++;
		log_warn("event=mail_deferred outbox=%lld attempts=%lld retry_in=%lld error=%s",
		    (long long)id, (long long)attempts + 1, (long long)backoff(attempts + 1),
		    log_q(err));
		return -1;
	}
	if (r == SMTP_TEMPFAIL) {
		char *why = xasprintf("gave up after %lld attempts over %d days: %s",
		    (long long)attempts + 1, GIVE_UP_AFTER / 86400, err);
		snprintf(err, sizeof(err), "%s", why);
		free(why);
	}
	log_error("event=mail_failed outbox=%lld project=%lld rcpt=%s error=%s", (long long)id,
	    (long long)project, log_q(rcpt), log_q(err));
	if (db_begin(app->db) < 0)
		return -1;
	if (db_x(app->db,
	        "UPDATE outbox SET status='failed', attempts=attempts+1, last_error=?2 WHERE id=?1",
	        "it", id, err) < 0 ||
	    report_failure(app, id, project, kind, rcpt, subject, err) < 0 ||
	    db_commit(app->db) < 0) {
		db_rollback(app->db);
		return -1;
	}
	st->failed++;
	return 0;
}

/* One sender at a time: `run`, `deliver` (several at once under an MTA)
 * and `outbox flush` all send, and SMTP has no way to refuse a second copy.
 * tries: how many times to try, 100 ms apart.  Returns the lock's
 * descriptor, -2 when another sender keeps it, -1 on error (errno). */
static int
sender_lock(struct app *app, int tries)
{
	/* The data directory itself is the lock: every process that may send
	 * can open it, whichever user an MTA runs `deliver` as. */
	int fd = open(app->cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Wait a little for the sender before us; if it is still busy it
	 * will also send what we queued (its loop runs until the queue is
	 * empty), or the daemon's next pass will. */
	for (int i = 0; i < tries; i++) {
		if (i > 0) {
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
	}
	int e = errno;
	close(fd);
	errno = e;
	return e == EWOULDBLOCK ? -2 : -1;
}

static int flush_locked(struct app *app, struct outbox_stats *st,
    volatile sig_atomic_t *stop);

int
outbox_flush(struct app *app, struct outbox_stats *st)
{
	return outbox_flush_until(app, st, NULL);
}

int
outbox_flush_until(struct app *app, struct outbox_stats *st, volatile sig_atomic_t *stop)
{
	int fd = sender_lock(app, 50);
	if (fd == -2)
		return 0;
	if (fd < 0) {
		log_error("event=outbox_lock_failed error=%s", log_q(strerror(errno)));
		return -1;
	}
	int r = flush_locked(app, st, stop);
	close(fd);
	return r;
}

/* The Maildir transport, in batches: one filesystem sync and one
 * transaction for up to MAILDIR_BATCH messages.  File names come from the
 * row ids, so a crash between delivery and the status update makes no
 * second copy: the next attempt finds the file and only records it. */
#define MAILDIR_BATCH 128

/* A batch of queued mail on its way to the Maildir. */
struct mbatch {
	struct maildir_item items[MAILDIR_BATCH];
	int64_t ids[MAILDIR_BATCH], projects[MAILDIR_BATCH];
	char *names[MAILDIR_BATCH];
	size_t n;
	int waiting; /* the queue's next mail waits for its retry */
};

/* The queue's oldest mail after id `after`, up to a batch.  The number
 * loaded, or -1 when the queue cannot be read. */
static int
mbatch_load(struct app *app, int64_t after, struct mbatch *b)
{
	struct db_stmt *q = db_q(app->db,
	    "SELECT id, created, raw, project_id, next_try"
	    " FROM outbox WHERE status='queued' AND id>?1 ORDER BY id LIMIT ?2",
	    "ii", after, (int64_t)MAILDIR_BATCH);
	b->n = 0;
	b->waiting = 0;
	if (!q)
		return -1;
	int rc;
	int64_t now = now_epoch();
	while (b->n < MAILDIR_BATCH && (rc = db_step(q)) == 1) {
		if (db_int(q, 4) > now) {
			b->waiting = 1; /* the oldest mail waits for its retry: keep the order */
			break;
		}
		size_t n = b->n++;
		b->ids[n] = db_int(q, 0);
		b->projects[n] = db_isnull(q, 3) ? 0 : db_int(q, 3);
		b->names[n] = xasprintf("%lld.inkflow-%010lld.%s", (long long)db_int(q, 1),
		    (long long)b->ids[n], app->instance);
		const char *raw = db_text(q, 2);
		b->items[n] = (struct maildir_item){
		    .unique = b->names[n], .data = xstrdup(raw), .len = strlen(raw)};
	}
	db_done(q);
	return rc < 0 && b->n == 0 ? -1 : (int)b->n;
}

static void
mbatch_free(struct mbatch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free((char *)b->items[i].data);
		free(b->names[i]);
	}
	b->n = 0;
}

/* Mark the delivered head of a batch sent, in one transaction; the first
 * mail not delivered stays queued and is logged.  0, or -1 when a mail
 * was not delivered or the marks could not be written. */
static int
mbatch_record(struct app *app, struct outbox_stats *st, const struct mbatch *b)
{
	size_t ok = 0, n = b->n;
	while (ok < n && b->items[ok].result >= 0)
		ok++;
	int r = 0;
	int64_t now = now_epoch();
	if (ok) {
		if (db_begin(app->db) < 0)
			r = -1;
		for (size_t i = 0; r == 0 && i < ok; i++)
			if (db_x(app->db,
			        "UPDATE outbox SET status='sent', sent=?2, attempts=attempts+1"
			        " WHERE id=?1",
			        "ii", b->ids[i], now) < 0)
				r = -1;
		if (r == 0 && db_commit(app->db) < 0)
			r = -1;
		if (r < 0) {
			db_rollback(app->db);
		} else {
			st->sent += (int)ok;
			for (size_t i = 0; i < ok; i++)
				log_info("event=mail_sent outbox=%lld project=%lld transport=maildir",
				    (long long)b->ids[i], (long long)b->projects[i]);
		}
	}
	if (r == 0 && ok < n) {
		log_error("event=send_failed outbox=%lld error=%s", (long long)b->ids[ok],
		    log_q(strerror(b->items[ok].err)));
		st->deferred++;
		r = -1;
	}
	return r;
}

/* One batch of the queue after id *last.  1 when a full batch went out
 * (more may follow), 0 when the queue is done for now (empty, or its oldest
 * mail waits for a retry), -1 on failure (the rest stays queued). */
static int
maildir_batch(struct app *app, struct outbox_stats *st, int64_t *last)
{
	struct mbatch b;
	int n = mbatch_load(app, *last, &b);
	if (n <= 0)
		return n;
	*last = b.ids[n - 1];
	maildir_deliver_batch(app->cfg->outbox_maildir, b.items, b.n);
	int r = mbatch_record(app, st, &b);
	int more = !b.waiting && b.n == MAILDIR_BATCH;
	mbatch_free(&b);
	return r < 0 ? -1 : more;
}

static int
flush_maildir(struct app *app, struct outbox_stats *st, volatile sig_atomic_t *stop)
{
	int64_t last = 0;
	int r;
	do {
		if (stop && *stop)
			return 0; /* the rest stays queued, in order */
	} while ((r = maildir_batch(app, st, &last)) == 1);
	return r;
}

static int
flush_locked(struct app *app, struct outbox_stats *st, volatile sig_atomic_t *stop)
{
	int smtp = app->cfg->smtp != NULL;
	if (!smtp) {
		if (maildir_ensure(app->cfg->outbox_maildir) < 0) {
			log_error("event=outbox_unusable path=%s error=%s",
			    log_q(app->cfg->outbox_maildir), log_q(strerror(errno)));
			return -1;
		}
		return flush_maildir(app, st, stop);
	}
	int64_t last = 0;
	for (;;) {
		if (stop && *stop)
			return 0; /* the rest stays queued, in order */
		struct db_stmt *q = db_q(app->db,
		    "SELECT id, created, raw, project_id, attempts, kind, rcpt, subject, next_try"
		    " FROM outbox WHERE status='queued' AND id>?1 ORDER BY id LIMIT 1",
		    "i", last);
		if (!q)
			return -1;
		int rc = db_step(q);
		if (rc <= 0) {
			db_done(q);
			return rc;
		}
		int64_t id = db_int(q, 0), created = db_int(q, 1);
		int64_t project = db_isnull(q, 3) ? 0 : db_int(q, 3), attempts = db_int(q, 4);
		char *raw = xstrdup(db_text(q, 2)), *kind = xstrdup(db_text(q, 5));
		char *rcpt = xstrdup(db_text(q, 6)), *subject = xstrdup(db_text(q, 7));
		int64_t next_try = db_int(q, 8);
		db_done(q);
		last = id;
		int r;
		if (next_try > now_epoch()) {
			/* The oldest mail waits for its retry: keep the order. */
			r = -2;
		} else {
			r = send_smtp_row(app, id, project, created, attempts, kind, rcpt, subject, raw,
			    st);
		}
		free(raw);
		free(kind);
		free(rcpt);
		free(subject);
		if (r < 0)
			return r == -2 ? 0 : -1;
	}
}

/* ---- the pump: the Maildir transport during a pass ---------------------- */

/* The calling thread keeps the database: it hands a batch over, the pump
 * thread writes the files (the costly part: a file each, a sync per
 * batch) while the caller goes on, and the caller records the result at
 * its next hand-over.  One batch is in flight at a time. */
struct outbox_pump {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: */
	int job;     /* b handed over, not yet delivered */
	int done;    /* b delivered (or not), to be recorded */
	int skipped; /* b was not delivered: another sender held the lock */
	int stop;
	/* The caller's alone: */
	struct mbatch b;
	int64_t last;  /* the last id handed over */
	int over;      /* no more batches this pass (a failure, another sender) */
	struct outbox_stats st;
};

static void *
pump_main(void *arg)
{
	struct outbox_pump *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->job && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->job)
			break;
		pthread_mutex_unlock(&p->mu);
		/* Whoever holds the sender lock sends this same queue. */
		int fd = sender_lock(p->app, 1);
		int locked = fd >= 0;
		if (locked) {
			maildir_deliver_batch(p->app->cfg->outbox_maildir, p->b.items, p->b.n);
			close(fd);
		}
		pthread_mutex_lock(&p->mu);
		p->skipped = !locked;
		p->job = 0;
		p->done = 1;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The batch the pump finished, recorded in the database.  Called with
 * no batch in flight. */
static void
pump_record(struct outbox_pump *p)
{
	pthread_mutex_lock(&p->mu);
	int done = p->done, skipped = p->skipped;
	p->done = 0;
	pthread_mutex_unlock(&p->mu);
	if (!done)
		return;
	/* A mail not delivered stays queued; the pass's flush tries it again
	 * and reports it, so only what went out is counted here.  Another
	 * sender holding the lock sends the queue in order itself. */
	struct outbox_stats scratch = {0};
	if (skipped || mbatch_record(p->app, &scratch, &p->b) < 0)
		p->over = 1;
	p->st.sent += scratch.sent;
	mbatch_free(&p->b);
}

struct outbox_pump *
outbox_pump_start(struct app *app)
{
	if (app->cfg->smtp || maildir_ensure(app->cfg->outbox_maildir) < 0)
		return NULL;
	struct outbox_pump *p = xcalloc(1, sizeof(*p));
	p->app = app;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* Signals stay with the calling thread, whose handlers set its flags. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&p->thread, NULL, pump_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	return p;
}

void
outbox_pump_feed(struct outbox_pump *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	int busy = p->job;
	pthread_mutex_unlock(&p->mu);
	if (busy)
		return;
	pump_record(p);
	if (p->over || mbatch_load(p->app, p->last, &p->b) <= 0)
		return;
	p->last = p->b.ids[p->b.n - 1];
	pthread_mutex_lock(&p->mu);
	p->job = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
outbox_pump_stop(struct outbox_pump *p, struct outbox_stats *st)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	while (p->job)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	pump_record(p);
	st->sent += p->st.sent;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
