/*
 * daemon: `inkflow run` — the loop that reads the configured source (a
 * Maildir, or IMAP with IDLE), processes each message, sends the outbox,
 * and waits.  SIGTERM/SIGINT finish the current message and exit 0; SIGHUP
 * reloads the configuration (a bad one is refused and the old one kept).
 * What it is doing is recorded in the database for `inkflow status`.
 */
#ifndef INKFLOW_DAEMON_H
#define INKFLOW_DAEMON_H

struct app;

struct daemon_opts {
	const char *conf_path; /* for SIGHUP reloads */
	int once;              /* process what is there, send, exit */
	int interval;          /* seconds between Maildir polls */
	int json;              /* --once summary as JSON */
};

/* Runs until stopped (or one pass with once).  Returns the exit code. */
int daemon_run(struct app *app, const struct daemon_opts *o);

/* `inkflow status`: prints what the daemon is doing.  Exit code. */
int daemon_status(struct app *app, int json);

/* Ask the running daemon (its pid in the database, checked to be an
 * `inkflow run`) for a pass now, by SIGUSR1: mail queued again by
 * `outbox retry` goes out at once rather than at the end of the daemon's
 * wait (IDLE can last 25 minutes).  1 when a daemon was told, 0 when none runs or it could
 * not be signalled (another user's process). */
int daemon_wake(struct app *app);

#endif
