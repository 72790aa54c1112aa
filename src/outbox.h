/*
 * outbox: the transactional outbox.  Mail is composed and queued in the
 * same transaction as the change that caused it; the sender step later
 * hands each queued mail to the transport (the outbox Maildir on the
 * embedded default) exactly once, in queue order.
 */
#ifndef INKFLOW_OUTBOX_H
#define INKFLOW_OUTBOX_H

#include <signal.h>
#include <stdint.h>

struct app;
struct mail_out;

/* Compose m with a new Message-ID, queue it, and record a history event on
 * project (0: none).  kind names the mail ("ack", "task", ...).  Must run
 * inside the caller's transaction.  Returns the outbox id (and the
 * Message-ID in *msgid_out when not NULL; caller frees) or -1. */
int64_t outbox_queue(struct app *app, int64_t project, const char *kind,
    const struct mail_out *m, char **msgid_out);

/* Automatic mails queued to addr within the last hour. */
int outbox_auto_count(struct app *app, const char *addr);

struct outbox_stats {
	int sent;     /* handed to the transport */
	int deferred; /* temporary failure: retried later with backoff */
	int failed;   /* permanent failure: owner and admin told */
};

/* Send queued mail oldest first (SMTP: one transaction per mail; the
 * Maildir transport: one sync and one transaction per batch), until the queue
 * is empty or the oldest mail must wait (a temporary failure stops the
 * pass, so mail leaves in queue order).  A permanent failure marks the
 * mail failed with the server's answer and queues a notice to the
 * project's owner and the admin.  Only one process sends at a time (a lock
 * on the data directory); another waits up to 5 s, then leaves its mail to
 * the sender that holds the lock or to the daemon's next pass.
 * 0, or -1 when the transport is unusable (the mails stay queued). */
int outbox_flush(struct app *app, struct outbox_stats *st);

/* outbox_flush that also returns, with 0, after the mail in hand once
 * *stop is non-zero (a signal handler's flag; NULL: never), so a daemon
 * told to stop does not first send the whole queue. */
int outbox_flush_until(struct app *app, struct outbox_stats *st, volatile sig_atomic_t *stop);

/* The Maildir transport at work during a pass.  The caller keeps the
 * database and feeds the pump after each committed batch: what the pump
 * delivered last is marked sent, and the mail queued since is handed to
 * its thread, which writes the files (one batch in flight at a time, and
 * only while the sender lock can be had at once) while the caller goes on.
 * outbox_pump_stop waits for the batch in flight, records it and adds the
 * mail sent to *st; the pass's outbox_flush then sends the rest and reports
 * any failure.  start returns NULL (nothing to feed or stop) when the
 * transport is SMTP or no thread could be had. */
struct outbox_pump;
struct outbox_pump *outbox_pump_start(struct app *app);
void outbox_pump_feed(struct outbox_pump *p);
void outbox_pump_stop(struct outbox_pump *p, struct outbox_stats *st);

#endif
