/*
 * DESIGN.  One process, one loop.  Each pass reads the source in batches,
 * handing every new message to ingest (one transaction each) and marking it
 * done at the source only after the commit; while a batch is committed, the
 * next is read and parsed on a second thread, which touches neither the
 * database nor the source (ingest_stage_start).  A temporary failure ends
 * the pass.  With the Maildir outbox, a third thread writes the mail each
 * committed batch queued while the next is processed (outbox_pump_feed).
 * Then the pass sends what the outbox still holds; then it waits — in
 * IMAP IDLE when the server has it, else for the poll interval — never
 * longer than the next outbox retry.  Losing the IMAP connection costs a
 * reconnect with backoff, never a message: the position (UIDVALIDITY, last
 * UID) lives in SQLite and every message is also deduplicated by source key
 * and by Message-ID + body.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "caldav.h"
#include "complaint.h"
#include "config.h"
#include "db.h"
#include "digest.h"
#include "imap.h"
#include "ingest.h"
#include "lazyetpan.h"
#include "lazyharu.h"
#include "lazyxml.h"
#include "log.h"
#include "maildir.h"
#include "outbox.h"
#include "remind.h"
#include "smtp.h"
#include "store.h"
#include "util.h"

/* Longest wait in IDLE before re-issuing it (servers drop IDLE at 30 min). */
#define IDLE_MAX (25 * 60)
/* UIDs fetched per mailbox per pass, so one huge mailbox cannot starve the
 * others or the outbox. */
#define FETCH_BATCH 500
/* Reconnect backoff bounds, seconds. */
#define BACKOFF_MIN 1
#define BACKOFF_MAX 300

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
/* Set by every signal we handle: ends an IDLE wait early. */
static volatile sig_atomic_t wake_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	wake_requested = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
	wake_requested = 1;
}

/* SIGUSR1 (daemon_wake): mail was queued or queued again by a command;
 * pass now instead of at the end of the wait.  Cleared as a pass starts,
 * so one that comes during a pass, after its outbox flush, makes another. */
static volatile sig_atomic_t pass_requested;

static void
on_wake(int sig)
{
	(void)sig;
	pass_requested = 1;
	wake_requested = 1;
}

struct run_stats {
	int read, new_projects, routed, ignored, quarantined, held, duplicates, tempfail;
	int commands, refused;
	int replies;
	int64_t first_project, last_project;
	struct outbox_stats out;
};

struct loop {
	struct app *app;
	const struct daemon_opts *o;
	struct imap_conn *imap;
	int64_t next_connect;   /* epoch seconds */
	int backoff;            /* seconds */
	struct run_stats total;
	int64_t processed;      /* messages since start */
	int tempfail;           /* the last pass left messages for later */
	struct outbox_pump *pump; /* the outbox at work during this pass */
	int pump_tried;
};

/* After a batch was committed: the Maildir outbox sends what it queued
 * while the next batch is processed (the first batch of a pass starts the
 * pump). */
static void
pump_kick(struct loop *l)
{
	if (!l->pump_tried) {
		l->pump_tried = 1;
		l->pump = outbox_pump_start(l->app);
	}
	outbox_pump_feed(l->pump);
}

/* ---- status ----------------------------------------------------------- */

static void
status_set(struct app *app, const char *key, const char *value)
{
	db_x(app->db,
	    "INSERT INTO daemon_status(key,value,updated) VALUES(?1,?2,?3)"
	    " ON CONFLICT(key) DO UPDATE SET value=?2, updated=?3",
	    "tti", key, value ? value : "", now_epoch());
}

static void
status_error(struct app *app, const char *what)
{
	status_set(app, "last_error", what);
	char ts[32];
	iso_time(now_epoch(), ts, sizeof(ts));
	status_set(app, "last_error_time", ts);
}

static char *
source_name(const struct config *cfg)
{
	if (cfg->imap)
		return xasprintf("imap%s://%s@%s:%d", cfg->imap->tls == IMAP_TLS_IMAPS ? "s" : "",
		    cfg->imap->user, cfg->imap->host, cfg->imap->port);
	return xasprintf("maildir:%s", cfg->source_maildir);
}

/* ---- one message ----------------------------------------------------- */

static void
count(struct run_stats *s, const struct ingest_result *r)
{
	switch (r->status) {
	case ING_REFUSED: s->refused++; break;
	case ING_PROCESSED:
		if (r->new_project) {
			s->new_projects++;
			if (!s->first_project)
				s->first_project = r->project;
			s->last_project = r->project;
		} else
			s->routed++;
		break;
	case ING_IGNORED: s->ignored++; break;
	case ING_QUARANTINED: s->quarantined++; break;
	case ING_HELD: s->held++; break;
	case ING_DUPLICATE: s->duplicates++; break;
	}
	s->replies += r->replies;
}

/* ---- Maildir source ---------------------------------------------------- */

#define INGEST_BATCH 32
#define INGEST_BATCH_BYTES (16u << 20)
/* At most this many bytes of messages in one IMAP FETCH command: the
 * response is held whole by libetpan while the bodies are copied out. */
#define FETCH_MANY_BYTES ((size_t)4 << 20)

/* A batch read from the Maildir: the inputs and their entries' indexes. */
struct md_batch {
	struct ingest_input in[INGEST_BATCH];
	size_t idx[INGEST_BATCH];
	size_t k;
};

static void
mark_seen(const char *dir, const struct maildir_entry *e)
{
	if (maildir_mark_seen(dir, e) < 0)
		log_warn("event=mark_seen_failed path=%s error=%s", log_q(e->path),
		    log_q(strerror(errno)));
}

/* The next batch from v[*i..n): up to INGEST_BATCH messages or
 * INGEST_BATCH_BYTES.  A message over the size limit is recorded on the
 * way, on its own; b->k is 0 only when v is used up. */
static void
md_read(struct loop *l, struct run_stats *s, const char *source, struct maildir_entry *v,
    size_t n, size_t *i, struct md_batch *b)
{
	struct app *app = l->app;
	const char *dir = app->cfg->source_maildir;
	size_t k = 0, bytes = 0;
	for (; *i < n && k < INGEST_BATCH && bytes < INGEST_BATCH_BYTES; (*i)++) {
		struct maildir_entry *e = &v[*i];
		struct stat st;
		if (stat(e->path, &st) < 0)
			continue; /* moved away meanwhile */
		s->read++;
		if ((size_t)st.st_size > app->cfg->limits.max_message) {
			struct ingest_result r;
			if (ingest_oversize(app, source, e->unique, (size_t)st.st_size, &r) < 0) {
				s->tempfail++;
				continue;
			}
			count(s, &r);
			l->processed++;
			mark_seen(dir, e);
			continue;
		}
		/* Read by ingest_stage, on the staging thread. */
		b->in[k] = (struct ingest_input){.source_key = e->unique, .path = e->path,
		    .mapped = (size_t)st.st_size >= INGEST_MAP_FROM};
		b->idx[k++] = *i;
		bytes += (size_t)st.st_size;
	}
	b->k = k;
}

/* Batches of up to INGEST_BATCH messages or INGEST_BATCH_BYTES: the files
 * of a batch share one filesystem barrier; each message still has its own
 * transaction.  While one batch's transactions run, the next batch is read
 * and parsed on a second thread (ingest_stage_start), so parsing overlaps
 * the commits' waits for the disk. */
static int
poll_maildir(struct loop *l, struct run_stats *s)
{
	struct app *app = l->app;
	const char *dir = app->cfg->source_maildir;
	struct maildir_entry *v;
	size_t n;
	if (maildir_ensure(dir) < 0 || maildir_scan(dir, &v, &n) < 0) {
		char *e = xasprintf("cannot read %s: %s", dir, strerror(errno));
		log_error("event=source_unreadable path=%s error=%s", log_q(dir), log_q(strerror(errno)));
		status_error(app, e);
		free(e);
		return -1;
	}
	char *source = xasprintf("maildir:%s", dir);
	struct md_batch *b = xcalloc(2, sizeof(*b));
	struct ingest_job job;
	size_t i = 0, cur = 0;
	if (!stop_requested)
		md_read(l, s, source, v, n, &i, &b[0]);
	if (b[0].k)
		ingest_stage_start(&job, app, source, b[0].in, b[0].k);
	while (b[cur].k) {
		struct md_batch *this = &b[cur], *next = &b[cur ^ 1];
		next->k = 0;
		if (!stop_requested)
			md_read(l, s, source, v, n, &i, next);
		struct ingest_staged *staged = ingest_stage_wait(&job);
		if (next->k)
			ingest_stage_start(&job, app, source, next->in, next->k);
		ingest_commit(staged);
		pump_kick(l);
		int failed = 0;
		for (size_t j = 0; j < this->k; j++) {
			ingest_input_release(&this->in[j]);
			if (this->in[j].read_errno) {
				/* Not read (gone, unreadable): left where it is. */
				log_warn("event=read_failed path=%s error=%s",
				    log_q(v[this->idx[j]].path), log_q(strerror(this->in[j].read_errno)));
				s->tempfail++;
				continue;
			}
			if (this->in[j].rc < 0) {
				s->tempfail++;
				failed = 1;
				continue;
			}
			count(s, &this->in[j].res);
			l->processed++;
			mark_seen(dir, &v[this->idx[j]]);
		}
		this->k = 0;
		if (failed && next->k) {
			/* Database locked, disk full: the next batch would wait and
			 * fail the same way.  It stays in new/ for the next pass. */
			ingest_stage_cancel(&job);
			s->read -= (int)next->k;
			next->k = 0;
		}
		cur ^= 1;
	}
	free(b);
	free(source);
	maildir_entries_free(v, n);
	return 0;
}

/* ---- IMAP source ------------------------------------------------------- */

/* A message of INGEST_MAP_FROM bytes or more, fetched part by part into a
 * file under the data directory and mapped, as a large Maildir file is:
 * neither the IMAP literal nor a copy of it is ever whole in memory.  The
 * file is unlinked once mapped (the mapping keeps its pages); killed
 * before that, it is a temporary the next start removes.  *local is set
 * when the file could not be written (disk full): a temporary failure of
 * ours, not of the connection. */
static enum imap_status
fetch_spooled(struct loop *l, uint32_t uid, char **raw, size_t *len, size_t *too_big,
    int *local, char *err, size_t errlen)
{
	struct app *app = l->app;
	*raw = NULL;
	*local = 0;
	char *path;
	int fd = ingest_spool_open(app, "raw", "fetch", &path);
	if (fd < 0) {
		log_warn("event=spool_failed path=%s error=%s", log_q(path), log_q(strerror(errno)));
		free(path);
		*local = 1;
		return IMAP_OK;
	}
	int wr = 0;
	enum imap_status st = imap_fetch_file(l->imap, uid, app->cfg->limits.max_message, fd, len,
	    too_big, &wr, err, errlen);
	close(fd);
	if (st == IMAP_OK && !wr && !*too_big &&
	    file_map(path, app->cfg->limits.max_message, raw, len) < 0)
		wr = errno;
	if (wr) {
		log_warn("event=spool_failed path=%s error=%s", log_q(path), log_q(strerror(wr)));
		*local = 1;
	}
	unlink(path);
	free(path);
	return st;
}

static void
imap_drop(struct loop *l, const char *why, enum imap_status st)
{
	imap_close(l->imap);
	l->imap = NULL;
	/* A configuration problem will not go away in a second. */
	int delay = st == IMAP_ERR_CONFIG ? BACKOFF_MAX : l->backoff;
	l->next_connect = now_epoch() + delay;
	l->backoff = l->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : l->backoff * 2;
	log_error("event=imap_down error=%s retry_in=%d", log_q(why), delay);
	status_error(l->app, why);
	status_set(l->app, "source_state", "disconnected");
}

static int
imap_ensure(struct loop *l)
{
	if (l->imap)
		return 0;
	if (now_epoch() < l->next_connect)
		return -1;
	char err[512];
	enum imap_status st = imap_open(l->app->cfg->imap, &l->imap, err, sizeof(err));
	if (st != IMAP_OK) {
		l->imap = NULL;
		imap_drop(l, err, st);
		return -1;
	}
	l->backoff = BACKOFF_MIN;
	log_info("event=imap_connected host=%s idle=%d", log_q(l->app->cfg->imap->host),
	    imap_has_idle(l->imap));
	status_set(l->app, "source_state", "connected");
	return 0;
}

/* The key of a mailbox's position in imap_state. */
static char *
position_key(const struct imap_conf *ic, const char *mailbox)
{
	return xasprintf("%s@%s:%d/%s", ic->user, ic->host, ic->port, mailbox);
}

/* Stored position of one mailbox: 0 when unknown. */
static void
imap_position(struct app *app, const char *key, int64_t *validity, int64_t *last)
{
	*validity = *last = 0;
	struct db_stmt *q = db_q(app->db,
	    "SELECT uidvalidity, last_uid FROM imap_state WHERE mailbox=?1", "t", key);
	if (q && db_step(q) == 1) {
		*validity = db_int(q, 0);
		*last = db_int(q, 1);
	}
	if (q)
		db_done(q);
}

static int
imap_save_position(struct app *app, const char *key, int64_t validity, int64_t last)
{
	return db_x(app->db,
	    "INSERT INTO imap_state(mailbox,uidvalidity,last_uid,updated) VALUES(?1,?2,?3,?4)"
	    " ON CONFLICT(mailbox) DO UPDATE SET uidvalidity=?2, last_uid=?3, updated=?4",
	    "tiii", key, validity, last, now_epoch());
}

/* A batch fetched from an IMAP mailbox: messages to ingest, or one UID to
 * handle on its own (over the size limit, or gone meanwhile). */
enum im_kind { IM_NONE, IM_BATCH, IM_OVERSIZE, IM_GONE };

struct im_batch {
	enum im_kind kind;
	struct ingest_input in[INGEST_BATCH];
	uint32_t buid[INGEST_BATCH];
	char bkey[INGEST_BATCH][32];
	size_t k;
	uint32_t lone_size; /* IM_OVERSIZE: the size the server gave */
	int last;           /* no batch after this one in this pass */
};

/* What one mailbox's pass works with. */
struct im_pass {
	struct loop *l;
	struct run_stats *s;
	const char *mailbox, *key, *source;
	uint32_t validity;
	const uint32_t *uids;
	size_t n, i; /* uids[i] is the next to fetch */
};

/* Message uids[p->i], fetched (raw, len; mapped when map), joins batch b. */
static void
im_add(struct im_pass *p, struct im_batch *b, char *raw, size_t len, int map)
{
	snprintf(b->bkey[b->k], sizeof(b->bkey[b->k]), "%u:%u", p->validity, p->uids[p->i]);
	b->in[b->k] = (struct ingest_input){.source_key = b->bkey[b->k], .raw = raw, .len = len,
	    .mapped = map};
	b->buid[b->k++] = p->uids[p->i++];
	p->s->read++;
}

/* Fetch the next batch into b: up to INGEST_BATCH messages or
 * INGEST_BATCH_BYTES, or one UID to handle alone.  A lost connection is
 * dropped (l->imap is then NULL); what was fetched before it is kept. */
static void
im_fetch(struct im_pass *p, struct im_batch *b)
{
	struct loop *l = p->l;
	struct app *app = l->app;
	char err[512];
	b->kind = IM_NONE;
	b->k = 0;
	b->last = 0;
	size_t bytes = 0;
	/* The sizes of the next messages in one round trip. */
	size_t i0 = p->i, sizes[INGEST_BATCH];
	size_t chunk = p->n - p->i < INGEST_BATCH ? p->n - p->i : INGEST_BATCH;
	enum imap_status st = imap_sizes(l->imap, p->uids + p->i, chunk, sizes, err, sizeof(err));
	if (st == IMAP_ERR_MAILBOX) {
		for (size_t j = 0; j < chunk; j++)
			sizes[j] = IMAP_SIZE_UNKNOWN; /* ask one by one */
	} else if (st != IMAP_OK) {
		imap_drop(l, err, st);
		return;
	}
	while (p->i < p->n && b->k < INGEST_BATCH && bytes < INGEST_BATCH_BYTES) {
		/* The next messages of known, ordinary size in one command;
		 * what that does not bring is asked for alone below. */
		size_t run = 0, run_bytes = 0;
		while (p->i + run - i0 < chunk && b->k + run < INGEST_BATCH &&
		       bytes + run_bytes < INGEST_BATCH_BYTES) {
			size_t z = sizes[p->i + run - i0];
			if (z == IMAP_SIZE_GONE || z == IMAP_SIZE_UNKNOWN || z >= INGEST_MAP_FROM ||
			    z > app->cfg->limits.max_message || run_bytes + z > FETCH_MANY_BYTES)
				break;
			run_bytes += z;
			run++;
		}
		if (run >= 2) {
			char *raws[INGEST_BATCH];
			size_t lens[INGEST_BATCH];
			st = imap_fetch_many(l->imap, p->uids + p->i, run, run_bytes,
			    app->cfg->limits.max_message, raws, lens, err, sizeof(err));
			if (st != IMAP_OK && st != IMAP_ERR_MAILBOX) {
				imap_drop(l, err, st);
				break;
			}
			size_t j = 0;
			for (; st == IMAP_OK && j < run && raws[j]; j++) {
				im_add(p, b, raws[j], lens[j], 0);
				bytes += lens[j];
			}
			for (size_t q = j; q < run; q++)
				free(raws[q]);
			if (j == run)
				continue;
		}
		char *raw = NULL;
		size_t len = 0, too_big = 0;
		size_t size = p->i - i0 < chunk ? sizes[p->i - i0] : IMAP_SIZE_UNKNOWN;
		int map = size != IMAP_SIZE_GONE && size != IMAP_SIZE_UNKNOWN &&
		          size >= INGEST_MAP_FROM && size <= app->cfg->limits.max_message;
		if (size == IMAP_SIZE_GONE)
			st = IMAP_ERR_MAILBOX;
		else if (map) {
			int local = 0;
			st = fetch_spooled(l, p->uids[p->i], &raw, &len, &too_big, &local, err,
			    sizeof(err));
			if (st == IMAP_OK && local) {
				p->s->tempfail++;
				b->last = 1; /* this UID and the rest: next pass */
				break;
			}
		} else
			st = imap_fetch_sized(l->imap, p->uids[p->i], size, app->cfg->limits.max_message,
			    &raw, &len, &too_big, err, sizeof(err));
		if (st != IMAP_OK && st != IMAP_ERR_MAILBOX) {
			imap_drop(l, err, st);
			break;
		}
		if (st == IMAP_ERR_MAILBOX || too_big) {
			if (b->k)
				break; /* it begins the next batch */
			b->kind = st == IMAP_OK ? IM_OVERSIZE : IM_GONE;
			b->lone_size = st == IMAP_OK ? (uint32_t)too_big : 0;
			b->buid[0] = p->uids[p->i++];
			b->k = 1;
			return;
		}
		im_add(p, b, raw, len, map);
		bytes += len;
	}
	if (b->k)
		b->kind = IM_BATCH;
}

/* Ingest batch b (staged: its parsed half) and dispose of what was
 * processed, in order, up to the first temporary failure, in one command;
 * then one position update.  1 when the pass must end here. */
static int
im_commit(struct im_pass *p, struct im_batch *b, struct ingest_staged *staged)
{
	struct loop *l = p->l;
	struct app *app = l->app;
	struct run_stats *s = p->s;
	char err[512];
	if (b->kind == IM_GONE) {
		/* Gone meanwhile (another client expunged it). */
		log_warn("event=imap_vanished mailbox=%s uid=%u", log_q(p->mailbox), b->buid[0]);
		imap_save_position(app, p->key, p->validity, b->buid[0]);
		return b->last;
	}
	if (b->kind == IM_OVERSIZE) {
		s->read++;
		snprintf(b->bkey[0], sizeof(b->bkey[0]), "%u:%u", p->validity, b->buid[0]);
		struct ingest_result r;
		if (ingest_oversize(app, p->source, b->bkey[0], b->lone_size, &r) < 0) {
			s->tempfail++;
			return 1; /* keep the order: retry from this UID next pass */
		}
		b->in[0] = (struct ingest_input){.rc = 0, .res = r};
	} else {
		ingest_commit(staged);
		pump_kick(l);
		for (size_t j = 0; j < b->k; j++)
			ingest_input_release(&b->in[j]);
	}
	size_t ok = 0;
	int failed = 0;
	for (; ok < b->k; ok++) {
		if (b->in[ok].rc < 0) {
			s->tempfail++;
			failed = 1;
			break; /* keep the order: retry from this UID next pass */
		}
		count(s, &b->in[ok].res);
		l->processed++;
	}
	uint32_t done = 0;
	if (ok && l->imap) {
		enum imap_status st = imap_dispose_many(l->imap, b->buid, ok, err, sizeof(err));
		if (st == IMAP_ERR_CONN)
			imap_drop(l, err, st); /* disposed of on the next pass, as duplicates */
		else {
			if (st != IMAP_OK) {
				log_error("event=imap_dispose_failed mailbox=%s uid=%u..%u error=%s",
				    log_q(p->mailbox), b->buid[0], b->buid[ok - 1], log_q(err));
				status_error(app, err);
			}
			done = b->buid[ok - 1];
		}
	}
	if (done)
		imap_save_position(app, p->key, p->validity, done);
	return failed || b->last || !l->imap;
}

/* One mailbox: fetch what is new, ingest, dispose.  Batches as for a
 * Maildir (see poll_maildir): while one batch is committed and disposed
 * of, the next is fetched and then parsed on the second thread.  0 done
 * (or mailbox skipped), -1 connection lost (already dropped). */
static int
imap_mailbox(struct loop *l, const char *mailbox, struct run_stats *s)
{
	struct app *app = l->app;
	const struct imap_conf *ic = app->cfg->imap;
	char err[512];
	uint32_t validity, uidnext;
	enum imap_status st = imap_select(l->imap, mailbox, &validity, &uidnext, err, sizeof(err));
	if (st == IMAP_ERR_MAILBOX) {
		log_error("event=imap_mailbox_skipped mailbox=%s error=%s", log_q(mailbox), log_q(err));
		status_error(app, err);
		return 0;
	}
	if (st != IMAP_OK) {
		imap_drop(l, err, st);
		return -1;
	}
	char *key = position_key(ic, mailbox);
	char *source = xasprintf("imap:%s", key);
	int64_t old_validity, last;
	imap_position(app, key, &old_validity, &last);
	if (old_validity && old_validity != validity) {
		/* The server renumbered the mailbox: start over; Message-ID +
		 * body dedupe keeps what we processed from being processed again. */
		log_warn("event=uidvalidity_changed mailbox=%s old=%lld new=%u", log_q(mailbox),
		    (long long)old_validity, validity);
		last = 0;
	}
	if (!old_validity || old_validity != validity)
		imap_save_position(app, key, validity, last);
	uint32_t *uids = NULL;
	size_t n = 0;
	st = imap_list_new(l->imap, (uint32_t)last, FETCH_BATCH, &uids, &n, err, sizeof(err));
	if (st != IMAP_OK) {
		imap_drop(l, err, st);
		n = 0;
	}
	struct im_pass p = {.l = l, .s = s, .mailbox = mailbox, .key = key, .source = source,
	    .validity = validity, .uids = uids, .n = n};
	struct im_batch *b = xcalloc(2, sizeof(*b));
	struct ingest_job job;
	size_t cur = 0;
	if (l->imap && p.i < n && !stop_requested)
		im_fetch(&p, &b[0]);
	if (b[0].kind == IM_BATCH)
		ingest_stage_start(&job, app, source, b[0].in, b[0].k);
	while (b[cur].kind != IM_NONE) {
		struct im_batch *this = &b[cur], *next = &b[cur ^ 1];
		next->kind = IM_NONE;
		if (!this->last && l->imap && p.i < n && !stop_requested)
			im_fetch(&p, next);
		struct ingest_staged *staged = this->kind == IM_BATCH ? ingest_stage_wait(&job) : NULL;
		if (next->kind == IM_BATCH)
			ingest_stage_start(&job, app, source, next->in, next->k);
		int halt = im_commit(&p, this, staged);
		this->kind = IM_NONE;
		if (halt && next->kind != IM_NONE) {
			/* Fetched after a failure: fetched again on the next pass,
			 * to keep the order. */
			if (next->kind == IM_BATCH) {
				ingest_stage_cancel(&job);
				s->read -= (int)next->k;
			}
			next->kind = IM_NONE;
		}
		cur ^= 1;
	}
	free(b);
	free(uids);
	free(key);
	free(source);
	return l->imap ? 0 : -1;
}

static int
poll_imap(struct loop *l, struct run_stats *s)
{
	if (imap_ensure(l) < 0)
		return -1;
	const struct imap_conf *ic = l->app->cfg->imap;
	for (size_t i = 0; i < ic->nmailboxes && !stop_requested; i++)
		if (imap_mailbox(l, ic->mailboxes[i], s) < 0)
			return -1;
	char ts[32];
	iso_time(now_epoch(), ts, sizeof(ts));
	status_set(l->app, "last_poll", ts);
	return 0;
}

/* ---- waiting ----------------------------------------------------------- */

/* Seconds until the oldest deferred outbox mail is due (or max). */
static int
outbox_due_in(struct app *app, int max)
{
	int64_t next = 0;
	if (db_1i(app->db, &next, "SELECT min(next_try) FROM outbox WHERE status='queued'", "") != 1 ||
	    next == 0)
		return max;
	int64_t d = next - now_epoch();
	return d < 1 ? 1 : d > max ? max : (int)d;
}

/* Whether the selected mailbox (UIDVALIDITY validity) holds mail above the
 * stored position.  Mail that arrived after the last fetch -- while a
 * message was processed or the outbox sent -- is already counted in the
 * SELECT that precedes IDLE, so IDLE would not announce it.  A UID SEARCH,
 * not UIDNEXT: UIDNEXT stays above the last UID we saw when the newest
 * message went away before we fetched it (moved to Junk by a person), and
 * the daemon would poll in a loop.  The search comes after the SELECT, so
 * whatever arrives later is announced during IDLE.  1 yes, 0 no, -1 with
 * *st set when the connection failed. */
static int
imap_pending(struct loop *l, const char *mailbox, uint32_t validity, enum imap_status *st,
    char *err, size_t errlen)
{
	char *key = position_key(l->app->cfg->imap, mailbox);
	int64_t old_validity, last;
	imap_position(l->app, key, &old_validity, &last);
	free(key);
	if (old_validity != validity)
		return 1; /* never fetched, or renumbered: the next pass sorts it out */
	uint32_t *uids = NULL;
	size_t n = 0;
	*st = imap_list_new(l->imap, (uint32_t)last, 1, &uids, &n, err, errlen);
	free(uids);
	if (*st != IMAP_OK)
		return -1;
	return n > 0;
}

/* Wait for new mail, the next outbox retry or a signal.  After a pass that
 * left mail for later (l->tempfail) come back within the poll interval
 * rather than waiting in IDLE for new mail. */
static void
wait_next(struct loop *l)
{
	struct app *app = l->app;
	if (app->cfg->imap) {
		const struct imap_conf *ic = app->cfg->imap;
		int max = ic->nmailboxes > 1 || !l->imap || !imap_has_idle(l->imap) ? ic->poll_interval
		                                                                     : IDLE_MAX;
		if (!l->imap) {
			int64_t d = l->next_connect - now_epoch();
			max = d < 1 ? 1 : d < max ? (int)d : max;
		}
		if (l->tempfail && max > ic->poll_interval)
			max = ic->poll_interval;
		int t = outbox_due_in(app, max);
		if (l->imap && imap_has_idle(l->imap)) {
			char err[512];
			/* A signal from here on ends the IDLE; one that came
			 * before is seen in its flag. */
			wake_requested = 0;
			if (stop_requested || reload_requested || pass_requested)
				return;
			/* IDLE on the first mailbox: the one that gets new mail. */
			uint32_t v, u;
			enum imap_status st = imap_select(l->imap, ic->mailboxes[0], &v, &u, err,
			    sizeof(err));
			/* Mail that arrived while we were busy does not wake IDLE:
			 * when there is some, poll again at once (not after a pass
			 * that left mail for later: no busy loop). */
			if (st == IMAP_OK && !l->tempfail &&
			    imap_pending(l, ic->mailboxes[0], v, &st, err, sizeof(err)) == 1)
				return;
			if (st == IMAP_OK) {
				status_set(app, "state", "idle");
				st = imap_wait(l->imap, t, (volatile int *)&wake_requested, err,
				    sizeof(err));
			}
			if (st != IMAP_OK)
				imap_drop(l, err, st);
			return;
		}
		status_set(app, "state", "waiting");
		for (int i = 0; i < t && !stop_requested && !reload_requested && !pass_requested; i++)
			sleep(1);
		return;
	}
	status_set(app, "state", "waiting");
	int t = outbox_due_in(app, l->o->interval);
	for (int i = 0; i < t && !stop_requested && !reload_requested && !pass_requested; i++)
		sleep(1);
}

/* Before waiting: hand back what the pass used and will not need while
 * idle: SQLite's page cache (the next pass reads its pages again, mostly
 * from the OS cache), libxml2 with the ICU and C++ libraries it brought,
 * libharu with libpng, libetpan with GnuTLS unless an IMAP connection is
 * open (each opened again in a few milliseconds by the next pass that
 * needs it) and the free memory at the top of the heap.  The pass's parse
 * thread has been joined. */
static void
idle_release(struct loop *l)
{
	db_x(l->app->db, "PRAGMA shrink_memory", "");
	lazyxml_unload();
	lazyharu_unload();
	if (!l->imap)
		lazyetpan_unload(); /* an open IMAP connection lives in them */
	malloc_trim(0);
}

/* SIGHUP: load the configuration again; keep the old one when the new one
 * has errors. */
static void
reload(struct loop *l)
{
	reload_requested = 0;
	struct errlist errs = {0};
	struct config *fresh = NULL;
	if (config_load(l->o->conf_path, &fresh, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("event=reload_refused error=%s", log_q(errs.v[i]));
		log_error("event=reload_refused errors=%zu keeping=old", errs.n);
		status_error(l->app, "configuration reload refused: see the log");
		errlist_free(&errs);
		return;
	}
	errlist_free(&errs);
	if (strcmp(fresh->db_path, l->app->cfg->db_path) != 0) {
		log_error("event=reload_refused error=\"the database path cannot change while "
		          "running; restart instead\"");
		config_free(fresh);
		return;
	}
	imap_close(l->imap);
	l->imap = NULL;
	l->next_connect = 0;
	config_free(l->app->cfg);
	l->app->cfg = fresh;
	if (db_begin(l->app->db) == 0) {
		if (store_sync_config(l->app->db, fresh) < 0 || db_commit(l->app->db) < 0)
			db_rollback(l->app->db);
	}
	log_info("event=reloaded conf=%s", log_q(l->o->conf_path));
}

/* ---- summary ----------------------------------------------------------- */

static void
print_summary(const struct app *app, const struct run_stats *s, int json)
{
	char *src = source_name(app->cfg);
	const char *out = app->cfg->smtp ? app->cfg->smtp->host : app->cfg->outbox_maildir;
	if (json) {
		json_t *j = json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
		    "source", src, "read", s->read, "new_projects", s->new_projects, "routed",
		    s->routed, "ignored", s->ignored, "quarantined", s->quarantined, "held",
		    s->held, "duplicates", s->duplicates, "left_for_later", s->tempfail, "queued",
		    s->replies, "sent", s->out.sent, "deferred", s->out.deferred, "failed",
		    s->out.failed);
		char *t = json_dumps(j, JSON_INDENT(2));
		puts(t);
		free(t);
		json_decref(j);
		free(src);
		return;
	}
	printf("inkflow: %d message%s read from %s\n", s->read, s->read == 1 ? "" : "s",
	    app->cfg->imap ? src : app->cfg->source_maildir);
	if (s->new_projects)
		printf("  %d new project%s (INK-%lld … INK-%lld)\n", s->new_projects,
		    s->new_projects == 1 ? "" : "s", (long long)s->first_project,
		    (long long)s->last_project);
	else
		printf("  0 new projects\n");
	printf("  %d added to existing projects, %d ignored (automatic mail),"
	       " %d quarantined, %d held for BOK, %d already processed\n",
	    s->routed, s->ignored, s->quarantined, s->held, s->duplicates);
	if (s->refused)
		printf("  %d command%s refused (no valid task token; see the log)\n", s->refused,
		    s->refused == 1 ? "" : "s");
	if (s->tempfail)
		printf("  %d left for a later run (temporary failure, see the log)\n", s->tempfail);
	printf("  %d mail%s queued, %d sent to %s", s->replies, s->replies == 1 ? "" : "s",
	    s->out.sent, out);
	if (s->out.deferred)
		printf(", %d deferred", s->out.deferred);
	if (s->out.failed)
		printf(", %d failed", s->out.failed);
	printf("\n");
	free(src);
}

/* ---- the loop ----------------------------------------------------------- */

int
daemon_run(struct app *app, const struct daemon_opts *o)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct sigaction hup = {.sa_handler = on_hup};
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, NULL);
	struct sigaction usr = {.sa_handler = on_wake};
	sigemptyset(&usr.sa_mask);
	sigaction(SIGUSR1, &usr, NULL);
	(void)signal(SIGPIPE, SIG_IGN); /* fails only for an invalid signal number */

	struct loop l = {.app = app, .o = o, .backoff = BACKOFF_MIN};
	char *src = source_name(app->cfg);
	log_info("event=start mode=%s source=%s pid=%d", o->once ? "once" : "daemon", log_q(src),
	    (int)getpid());
	char pid[32], ts[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	iso_time(now_epoch(), ts, sizeof(ts));
	/* A pass works with a larger page cache than SQLite's 2 MB (one
	 * message touches pages of a dozen indexes, at a million projects
	 * mostly different ones); idle_release hands it back after the pass. */
	db_x(app->db, "PRAGMA cache_size=-16384", "");
	/* Checkpoints every 4000 WAL pages (16 MB) rather than SQLite's 1000:
	 * a message's transaction writes some 40 pages, many of them the
	 * same ones each time (the ends of the indexes), and a checkpoint
	 * copies each page once, so fewer checkpoints copy about a third
	 * fewer pages, with fewer syncs.  Commits are synced to the WAL as
	 * before; this only moves work that follows them. */
	db_x(app->db, "PRAGMA wal_autocheckpoint=4000", "");
	status_set(app, "pid", pid);
	status_set(app, "started", ts);
	status_set(app, "source", src);
	status_set(app, "state", "running");
	free(src);

	int rc = 0;
	while (!stop_requested) {
		if (reload_requested)
			reload(&l);
		struct run_stats s = {0};
		pass_requested = 0;
		status_set(app, "state", "processing");
		int pr = app->cfg->imap ? poll_imap(&l, &s) : poll_maildir(&l, &s);
		/* --once means everything that is there, not one batch of it;
		 * but what failed temporarily waits for the next run. */
		for (int last = s.read; o->once && app->cfg->imap && pr == 0 && last > 0 &&
		                        !s.tempfail && !stop_requested;) {
			int before = s.read;
			pr = poll_imap(&l, &s);
			last = s.read - before;
		}
		if (!app->cfg->imap && pr == 0) {
			iso_time(now_epoch(), ts, sizeof(ts));
			status_set(app, "last_poll", ts);
		}
		l.tempfail = s.tempfail;
		/* Timers: opinion deadlines of complaint cases, reminders and
		 * escalation of overdue tasks. */
		if (complaint_timers(app) < 0)
			log_error("event=timer_failed timer=complaint");
		if (remind_run(app) < 0)
			log_error("event=timer_failed timer=reminders");
		if (digest_run(app) < 0)
			log_error("event=timer_failed timer=digest");
		outbox_pump_stop(l.pump, &s.out);
		l.pump = NULL;
		l.pump_tried = 0;
		smtp_session_begin();
		outbox_flush_until(app, &s.out, &stop_requested);
		smtp_session_end();
		caldav_flush(app);
		char n[32];
		snprintf(n, sizeof(n), "%lld", (long long)l.processed);
		status_set(app, "processed_since_start", n);
		if (o->once) {
			l.total = s;
			rc = pr < 0 && s.read == 0 ? 1 : 0;
			break;
		}
		idle_release(&l);
		wait_next(&l);
	}
	imap_close(l.imap);
	status_set(app, "state", "stopped");
	if (o->once)
		print_summary(app, &l.total, o->json);
	log_info("event=stop processed=%lld", (long long)l.processed);
	return rc;
}

/* ---- status -------------------------------------------------------------- */

/* Whether pid runs `inkflow ... run`: a pid left in the database by a
 * daemon killed long ago may belong to another program by now, and
 * SIGUSR1 would end most programs. */
static int
is_inkflow_daemon(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	int prog = 0, run = 0;
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		const char *base = strrchr(a, '/');
		base = base ? base + 1 : a;
		prog |= strncmp(base, "inkflow", 7) == 0;
		run |= prog && strcmp(a, "run") == 0;
	}
	return run;
}

int
daemon_wake(struct app *app)
{
	char *pid_s = NULL, *state = NULL;
	db_1s(app->db, &pid_s, "SELECT value FROM daemon_status WHERE key='pid'", "");
	db_1s(app->db, &state, "SELECT value FROM daemon_status WHERE key='state'", "");
	int64_t pid = 0;
	int ok = pid_s && state && strcmp(state, "stopped") != 0 &&
	         parse_int64(pid_s, 2, 1 << 22, &pid) == 0 && pid != getpid() &&
	         is_inkflow_daemon((pid_t)pid) && kill((pid_t)pid, SIGUSR1) == 0;
	free(pid_s);
	free(state);
	if (ok)
		log_debug("event=daemon_woken pid=%lld", (long long)pid);
	return ok;
}

int
daemon_status(struct app *app, int json)
{
	json_t *j = json_object();
	struct db_stmt *q = db_q(app->db, "SELECT key, value FROM daemon_status ORDER BY key", "");
	while (q && db_step(q) == 1)
		json_object_set_new(j, db_text(q, 0), json_string(db_text(q, 1)));
	if (q)
		db_done(q);
	const char *pid_s = json_string_value(json_object_get(j, "pid"));
	const char *state = json_string_value(json_object_get(j, "state"));
	int64_t pid = 0;
	int alive = pid_s && parse_int64(pid_s, 1, 1 << 22, &pid) == 0 && kill((pid_t)pid, 0) == 0 &&
	            state && strcmp(state, "stopped") != 0;
	json_object_set_new(j, "running", json_boolean(alive));

	static const struct {
		const char *key, *sql;
	} counts[] = {
	    {"outbox_queued", "SELECT count(*) FROM outbox WHERE status='queued'"},
	    {"outbox_deferred", "SELECT count(*) FROM outbox WHERE status='queued' AND attempts>0"},
	    {"outbox_failed", "SELECT count(*) FROM outbox WHERE status='failed'"},
	    {"outbox_sent", "SELECT count(*) FROM outbox WHERE status='sent'"},
	    {"messages", "SELECT count(*) FROM messages"},
	    {"quarantined", "SELECT count(*) FROM messages WHERE status='quarantined'"},
	    {"held", "SELECT count(*) FROM messages WHERE status='held'"},
	    {"projects", "SELECT count(*) FROM projects"},
	    {"open_tasks", "SELECT count(*) FROM tasks WHERE status='open'"},
	};
	for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
		int64_t v = 0;
		db_1i(app->db, &v, counts[i].sql, "");
		json_object_set_new(j, counts[i].key, json_integer(v));
	}
	char *oldest = NULL;
	if (db_1s(app->db, &oldest,
	        "SELECT last_error FROM outbox WHERE status='queued' AND last_error IS NOT NULL"
	        " ORDER BY id LIMIT 1", "") == 1 && oldest)
		json_object_set_new(j, "outbox_last_error", json_string(oldest));
	free(oldest);
	if (json) {
		char *t = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		puts(t);
		free(t);
		json_decref(j);
		return 0;
	}
#define S(k) (json_string_value(json_object_get(j, k)) ? json_string_value(json_object_get(j, k)) : "—")
#define I(k) ((long long)json_integer_value(json_object_get(j, k)))
	printf("daemon:      %s", alive ? "running" : "not running");
	if (alive)
		printf(" (pid %s, since %s, %s)", S("pid"), S("started"), S("state"));
	printf("\nsource:      %s", S("source"));
	if (json_object_get(j, "source_state"))
		printf(" (%s)", S("source_state"));
	printf("\nlast poll:   %s\n", S("last_poll"));
	printf("last error:  %s", S("last_error"));
	if (json_object_get(j, "last_error_time"))
		printf(" (%s)", S("last_error_time"));
	printf("\noutbox:      %lld queued (%lld deferred), %lld failed, %lld sent\n",
	    I("outbox_queued"), I("outbox_deferred"), I("outbox_failed"), I("outbox_sent"));
	if (json_object_get(j, "outbox_last_error"))
		printf("             oldest deferred: %s\n", S("outbox_last_error"));
	printf("messages:    %lld (%lld quarantined, %lld held for BOK)\n", I("messages"),
	    I("quarantined"), I("held"));
	printf("projects:    %lld, open tasks: %lld\n", I("projects"), I("open_tasks"));
#undef S
#undef I
	json_decref(j);
	return 0;
}
