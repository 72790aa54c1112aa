/*
 * maildir: reading a Maildir as a mail source (new/ and cur/ messages
 * without the S flag) and delivering into one as the embedded outbox.
 */
#ifndef INKFLOW_MAILDIR_H
#define INKFLOW_MAILDIR_H

#include <stddef.h>

struct maildir_entry {
	char *path;    /* full path of the message file (owned) */
	char *unique;  /* unique part of the name, before ":2," (owned) */
	int in_new;    /* 1: in new/, 0: in cur/ */
};

/* Create dir/{tmp,new,cur} when missing. */
int maildir_ensure(const char *dir);

/* Every unseen message: all of new/ and cur/ files without the S flag,
 * sorted by name (which begins with the delivery time in every common MDA).
 * Hidden files are skipped.  Free with maildir_entries_free. */
int maildir_scan(const char *dir, struct maildir_entry **out, size_t *n);
void maildir_entries_free(struct maildir_entry *v, size_t n);

/* Move the message to cur/ and add the S flag, keeping other flags.  A
 * message already gone (someone else moved it) is not an error. */
int maildir_mark_seen(const char *dir, const struct maildir_entry *e);

/* Deliver one message as dir/new/<unique> (maildir_deliver_batch of one).  Idempotent:
 * when a message with that unique name is already in new/ or cur/, returns
 * 1 without writing.  0 delivered, -1 error (errno). */
int maildir_deliver(const char *dir, const char *unique, const char *data, size_t len);

/* One message of a batch delivery; result is set by maildir_deliver_batch:
 * 0 delivered, 1 already in new/ or cur/, -1 failed (err holds errno). */
struct maildir_item {
	const char *unique;
	const char *data;
	size_t len;
	int result;
	int err;
};

/* Deliver n messages with one filesystem sync for all of them instead of
 * two per message: every file is written to tmp/, the filesystem synced
 * once, all are linked into new/ and new/ is synced once.  A message is
 * delivered only when its result is 0 or 1; a crash before that leaves at
 * most a file in tmp/ (cleaned on the next delivery of that name).
 * Returns 0 when every item is 0 or 1, -1 otherwise. */
int maildir_deliver_batch(const char *dir, struct maildir_item *v, size_t n);

#endif
