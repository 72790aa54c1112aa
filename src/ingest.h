/*
 * ingest: one inbound message, start to finish, in one SQLite transaction:
 * dedupe, store raw and attachments, decode, classify, route, create or
 * update the project, queue replies, write history.
 *
 * DESIGN.  Files (raw message, attachments) are content-addressed under the
 * data directory and written durably before the commit, so a crash leaves
 * at most a file that the redelivery of the same message reuses.  The
 * source marks the message seen only after the commit; a redelivery is
 * recognised by its source key or by Message-ID + body hash.
 */
#ifndef INKFLOW_INGEST_H
#define INKFLOW_INGEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct app;

enum ingest_status {
	ING_PROCESSED,   /* routed to a project (new or existing) */
	ING_IGNORED,     /* automatic mail: auto-reply, bounce, list, loop, staff */
	ING_QUARANTINED, /* beyond limits or unreadable: kept with a reason */
	ING_HELD,        /* needs a person (BOK): e.g. someone else's [INK-n] tag */
	ING_DUPLICATE,   /* seen before: nothing done */
	ING_REFUSED,     /* a command that did not verify: a security event */
};
const char *ingest_status_name(enum ingest_status s); /* as in messages.status */

struct ingest_result {
	enum ingest_status status;
	int64_t message;      /* messages.id (0 for duplicates) */
	int64_t project;      /* 0 when none */
	int new_project;      /* 1 when this message created the project */
	int replies;          /* mails queued */
	char reason[256];
};

/* Ingest raw[0..len) from source ("maildir:/path", "deliver", ...) with an
 * optional source_key (unique per source; NULL when the source has none).
 * Returns 0 with *res filled when the outcome is final (the source may mark
 * the message done), -1 on a temporary failure (database busy, disk full):
 * nothing was changed and the message should be retried later. */
int ingest_message(struct app *app, const char *source, const char *source_key,
    const char *raw, size_t len, struct ingest_result *res);

/* One message of a batch: source_key, raw and len in; rc (0 done, -1
 * temporary failure: retry later) and res out. */
/* From this size a source that can should hand ingest_batch a file_map
 * mapping rather than a copy (see ingest_input.mapped). */
#define INGEST_MAP_FROM ((size_t)4 << 20)

struct ingest_input {
	const char *source_key;
	const char *raw;
	size_t len;
	int mapped;     /* raw is a file_map mapping: large messages are then
	                   decoded window by window, never held whole */
	const char *path; /* with raw NULL: the message is this file, read
	                     (mapped when mapped is set) by ingest_stage, on
	                     the staging thread, up to the size limit */
	int read_errno; /* out: path could not be read (rc -1, nothing done) */
	int rc;
	struct ingest_result res;
};

/* Hand back an input's message: file_unmap when mapped, else free (raw
 * allocated by the source); raw is NULL afterwards. */
void ingest_input_release(struct ingest_input *in);

/* A new file under the data directory, SUB/.TAG-RANDOM.tmp-RANDOM (mode
 * 0640): a temporary that the next start after a crash (and fsck
 * --repair) removes.  For a large message from a source that has no file
 * of its own (an IMAP literal, stdin: SUB "raw"), to be file_map'ed,
 * unlinked (the mapping keeps its pages) and handed over as mapped; and
 * for an attachment decoded straight to disk.  The open descriptor
 * (read-write), with *path; -1 with errno. */
int ingest_spool_open(struct app *app, const char *sub, const char *tag, char **path);

/* Ingest n messages of one source, each in its own transaction exactly as
 * ingest_message does, but with the files of all of them (raw messages,
 * attachments) made durable by one filesystem barrier before the first
 * transaction instead of two syncs per file.  -1 when any message failed
 * temporarily (see its rc); such a failure (database busy, disk full) ends
 * the batch: the messages after it are not tried and get rc -1 too. */
int ingest_batch(struct app *app, const char *source, struct ingest_input *v, size_t n);

/* ingest_batch in two halves, so that one batch is parsed while the one
 * before it is committed.  ingest_stage parses v[0..n) and writes its
 * files under temporary names; it uses no database and may run on another
 * thread.  ingest_commit, on the thread that owns app->db, drops the files
 * of messages seen before, makes the rest durable and runs one transaction
 * per message; it sets each v[i].rc and res as ingest_batch does and frees
 * the staged batch. */
struct ingest_staged;
struct ingest_staged *ingest_stage(struct app *app, const char *source,
    struct ingest_input *v, size_t n);
int ingest_commit(struct ingest_staged *b);

/* ingest_stage on a thread of its own (on this one when no thread can be
 * started); ingest_stage_wait returns its result.  Meanwhile v, source and
 * app->cfg must not change. */
struct ingest_job {
	struct app *app;
	const char *source;
	struct ingest_input *v;
	size_t n;
	pthread_t thread;
	int running;
	struct ingest_staged *out;
};
void ingest_stage_start(struct ingest_job *j, struct app *app, const char *source,
    struct ingest_input *v, size_t n);
struct ingest_staged *ingest_stage_wait(struct ingest_job *j);
/* The job's batch is not to be committed (the source keeps its messages
 * for the next pass): waits for it, removes its files, frees it and
 * releases its inputs. */
void ingest_stage_cancel(struct ingest_job *j);

/* Record a message too large to read (size bytes) as quarantined without
 * its content; the source keeps the message.  Same return as above. */
int ingest_oversize(struct app *app, const char *source, const char *source_key,
    size_t size, struct ingest_result *res);

#endif
