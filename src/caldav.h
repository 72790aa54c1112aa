/*
 * caldav: tasks in the users' own CalDAV calendars (RFC 4791).  Each task is
 * one calendar object resource, <collection>task-<id>.ics, written with PUT
 * and removed with DELETE, over HTTPS with the certificate verified (plain
 * HTTP only to this machine, as config.c allows).  Users opt in with
 * caldav= in users.xml (struct cfg_user).
 *
 * The network never runs inside a workflow transaction: the workflow queues
 * the operation in the same transaction as the change that causes it
 * (caldav_queue_put / caldav_queue_delete), and the daemon's sender step
 * (caldav_flush) performs it afterwards, in order per user, with retries —
 * as the outbox does for mail.
 */
#ifndef INKFLOW_CALDAV_H
#define INKFLOW_CALDAV_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct cfg_user;

/* Seconds allowed to connect, and for a whole request. */
#define CALDAV_CONNECT_TIMEOUT 15
#define CALDAV_TIMEOUT 60
/* Largest calendar object sent; a larger one is refused before connecting. */
#define CALDAV_MAX_OBJECT (1024 * 1024)
/* Bytes of the server's answer kept for an error message. */
#define CALDAV_REPLY_MAX 300
/* A failing operation is retried after 1, 2, 4 … minutes (at most an hour
 * apart) and given up this long after it was queued. */
#define CALDAV_GIVE_UP (5 * 86400)

/* Write task's calendar entry to u's collection as task-<task>.ics: an
 * HTTP PUT of ics (one VCALENDAR, e.g. from ical_calendar("PUBLISH", ...))
 * with Content-Type text/calendar; charset=utf-8, Basic authentication when
 * u has a CalDAV user.  The METHOD property is removed first (RFC 4791
 * 4.1: a calendar object resource must not hold one), and ics must hold the
 * task's UID "task-<task>@<domain>" — a resource's UID never changes, and
 * the server would refuse another.  0 on a 2xx answer; -1 otherwise with err
 * (one line, cut at a character boundary) holding the HTTP status and the
 * start of the server's text, or curl's reason (connection, certificate,
 * timeout), or what is wrong with the arguments (no CalDAV URL for u, an
 * object over CALDAV_MAX_OBJECT, no such UID).  Never follows a redirect,
 * never uses a proxy from the environment.  Blocks for at most
 * CALDAV_TIMEOUT seconds.  err may be NULL when errlen is 0.  libcurl must
 * have been initialised (main does it with smtp_global_init). */
int caldav_put(const struct cfg_user *u, int64_t task, const char *domain, const char *ics,
    char *err, size_t errlen);

/* Remove task-<task>.ics from u's collection (HTTP DELETE).  0 on a 2xx
 * answer and on 404 or 410 (nothing there: the goal is reached); -1 with err
 * as for caldav_put otherwise. */
int caldav_delete(const struct cfg_user *u, int64_t task, char *err, size_t errlen);

/* Queue a PUT of ics (copied) for task in u's calendar, or a DELETE of
 * task's entry there.  Must run inside the caller's transaction, so the
 * operation exists exactly when the change that caused it does.  A user
 * without caldav= is a no-op.  0 / -1 (database error, logged). */
int caldav_queue_put(struct app *app, int64_t task, const struct cfg_user *u, const char *ics);
int caldav_queue_delete(struct app *app, int64_t task, const struct cfg_user *u);

/* Perform the queued operations whose time has come, oldest first, each
 * outside any transaction and its outcome recorded in one transaction of
 * its own.  A user's operations run in queue order: while the oldest one
 * waits for a retry, the later ones wait too, but other users' calendars go
 * on.  Done operations leave the queue.  A failure stays queued with
 * attempts, next_try and last_error set, until CALDAV_GIVE_UP has passed:
 * then it is dropped, logged and recorded in the project's history.  An
 * operation for a user no longer configured for CalDAV is dropped.  Must be
 * called outside a transaction.  0, or -1 on a database error (what was not
 * recorded is done again next time; PUT and DELETE are idempotent). */
int caldav_flush(struct app *app);

#endif
