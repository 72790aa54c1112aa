/*
 * imap: one IMAP connection with libetpan (the only module that includes
 * libetpan's IMAP API): IMAPS or STARTTLS with the server certificate
 * verified against a CA file and the host name before any credentials are
 * sent, LOGIN or AUTHENTICATE PLAIN, SELECT with UIDVALIDITY, fetching
 * messages above a UID, the disposition after commit, and IDLE.
 *
 * Every function returns IMAP_OK, or IMAP_ERR_* saying how far the failure
 * reaches: the connection (reconnect later), the mailbox (skip it), or the
 * configuration (tell the operator; retrying will not help).
 *
 * After an IMAP_ERR_CONN the connection is dead: every later call on it
 * returns IMAP_ERR_CONN at once; imap_close() it and open a new one.  A
 * response larger than the module's caps (16 MiB, or the fetch limit plus
 * 1 MiB for a message) is IMAP_ERR_CONN too.  err is always one line of
 * printable text (server text is quoted as printable ASCII).  The calls
 * block SIGPIPE while they run; the process need not ignore it.
 */
#ifndef INKFLOW_IMAP_H
#define INKFLOW_IMAP_H

#include <stddef.h>
#include <stdint.h>

enum imap_tls {
	IMAP_TLS_IMAPS,    /* TLS from the first byte (port 993) */
	IMAP_TLS_STARTTLS, /* plain connect, STARTTLS required (port 143) */
	IMAP_TLS_NONE,     /* plaintext: only when the configuration says so */
};

enum imap_dispose {
	IMAP_DISPOSE_SEEN,   /* set \Seen */
	IMAP_DISPOSE_MOVE,   /* MOVE to a folder (COPY + \Deleted + UID EXPUNGE when
	                        the server has no MOVE) */
	IMAP_DISPOSE_DELETE, /* \Deleted + UID EXPUNGE: only when configured */
};

struct imap_conf {
	char *host;
	int port;
	enum imap_tls tls;
	char *user;
	char *password;       /* NULL when token_command is set */
	char *token_command;  /* OAuth 2.0: prints an access token (oauth.h);
	                         NULL: sign in with the password */
	long token_line;      /* line of <source> in the configuration */
	char *ca_file;        /* PEM; NULL: the system's CA store */
	char **mailboxes;     /* e.g. {"INBOX", "Zamowienia"}; at least one
	                         (UTF-8; sent as modified UTF-7) */
	size_t nmailboxes;
	enum imap_dispose dispose;
	char *move_to;        /* folder for IMAP_DISPOSE_MOVE (UTF-8) */
	int poll_interval;    /* seconds between polls when IDLE is unavailable */
	int idle;             /* 1: use IDLE when the server offers it */
	int timeout;          /* seconds for connect and each response; <= 0: 60 */
};

enum imap_status {
	IMAP_OK = 0,
	IMAP_ERR_CONN = -1,    /* network, TLS handshake, server gone: reconnect */
	IMAP_ERR_MAILBOX = -2, /* this mailbox (missing, no rights): skip it */
	IMAP_ERR_CONFIG = -3,  /* bad password, certificate refused, no STARTTLS */
};

struct imap_conn;

/* Connect, secure, verify the certificate (host name and chain), log in.
 * err receives a one-line reason on failure.  LOGIN is used unless the
 * server says LOGINDISABLED or the credentials are not ASCII: then
 * AUTHENTICATE PLAIN (with SASL-IR when offered).  A refused login is
 * IMAP_ERR_CONFIG, unless the server says [UNAVAILABLE] (IMAP_ERR_CONN).
 * The certificate is checked only when tls is not IMAP_TLS_NONE. */
enum imap_status imap_open(const struct imap_conf *c, struct imap_conn **out,
    char *err, size_t errlen);
void imap_close(struct imap_conn *ic);

/* SELECT mailbox; *uidvalidity and *uidnext set (*uidnext 0 when the
 * server did not say).  A server without UIDVALIDITY: IMAP_ERR_MAILBOX. */
enum imap_status imap_select(struct imap_conn *ic, const char *mailbox,
    uint32_t *uidvalidity, uint32_t *uidnext, char *err, size_t errlen);

/* UIDs of the selected mailbox greater than after_uid, ascending, at most
 * max of them (the lowest).  Caller frees *uids (NULL when *n is 0). */
enum imap_status imap_list_new(struct imap_conn *ic, uint32_t after_uid, size_t max,
    uint32_t **uids, size_t *n, char *err, size_t errlen);

/* The whole message with this UID (BODY.PEEK[], so \Seen is not set), at
 * most max_size bytes (larger: *too_big = its size, *raw NULL).  Caller
 * frees *raw (NUL-terminated for convenience; the NUL is not in *len).  A
 * UID no longer in the mailbox: IMAP_ERR_MAILBOX. */
enum imap_status imap_fetch(struct imap_conn *ic, uint32_t uid, size_t max_size,
    char **raw, size_t *len, size_t *too_big, char *err, size_t errlen);

/* Sizes of several messages in one command: sizes[i] is the RFC822.SIZE of
 * uids[i], IMAP_SIZE_GONE when the server no longer has it. */
#define IMAP_SIZE_GONE ((size_t)-1)
#define IMAP_SIZE_UNKNOWN ((size_t)-2)
enum imap_status imap_sizes(struct imap_conn *ic, const uint32_t *uids, size_t n,
    size_t *sizes, char *err, size_t errlen);

/* imap_fetch for a message whose size is known (from imap_sizes): no
 * round trip to ask for it.  size IMAP_SIZE_UNKNOWN: ask, as imap_fetch. */
enum imap_status imap_fetch_sized(struct imap_conn *ic, uint32_t uid, size_t size,
    size_t max_size, char **raw, size_t *len, size_t *too_big, char *err, size_t errlen);

/* Several whole messages in one command (UID FETCH set BODY.PEEK[]), for
 * messages whose sizes are known (imap_sizes) and add up to total bytes:
 * one round trip instead of one per message.  raws[i] and lens[i] as for
 * imap_fetch; raws[i] NULL when the server sent nothing for uids[i] (gone
 * meanwhile) or more than max_size bytes: imap_fetch_sized then tells
 * which. */
enum imap_status imap_fetch_many(struct imap_conn *ic, const uint32_t *uids, size_t n,
    size_t total, size_t max_size, char **raws, size_t *lens, char *err, size_t errlen);

/* A whole message written to fd in partial fetches (BODY.PEEK[]<off.n>)
 * of IMAP_PART bytes, so that at most one part is in memory whatever the
 * message's size; for messages too large to hold (imap_fetch keeps the
 * whole literal and a copy).  *len gets the bytes written; a message that
 * turns out larger than max_size stops the transfer with *too_big = the
 * bytes seen so far (more than max_size).  A failed write stops it too:
 * IMAP_OK with *wr_errno set (a local problem; the connection is fine). */
#define IMAP_PART ((size_t)1 << 20)
enum imap_status imap_fetch_file(struct imap_conn *ic, uint32_t uid, size_t max_size, int fd,
    size_t *len, size_t *too_big, int *wr_errno, char *err, size_t errlen);

/* Apply the configured disposition to uid in the selected mailbox.  MOVE
 * uses UID MOVE when offered, else UID COPY + \Deleted + UID EXPUNGE; a
 * server without UIDPLUS gets COPY + \Deleted only (a plain EXPUNGE would
 * remove other clients' \Deleted messages), and so does DELETE.  A missing
 * move_to folder ([TRYCREATE]) is IMAP_ERR_CONFIG. */
enum imap_status imap_dispose(struct imap_conn *ic, uint32_t uid, char *err, size_t errlen);

/* imap_dispose for several UIDs in one command (UID sets): the server
 * ignores UIDs that are gone. */
enum imap_status imap_dispose_many(struct imap_conn *ic, const uint32_t *uids, size_t n,
    char *err, size_t errlen);

/* 1 when the server offers IDLE, the configuration wants it and the
 * server has not refused it on this connection. */
int imap_has_idle(struct imap_conn *ic);

/* Wait for the selected mailbox to change: IDLE up to timeout seconds (the
 * caller re-issues within the server's 29-minute limit), or return at once
 * when the server has no IDLE.  Also returns early when *stop becomes
 * non-zero (checked about once a second).  IMAP_OK on change or timeout.
 * Any data from the server ends the wait (EXISTS, EXPUNGE, keepalives). */
enum imap_status imap_wait(struct imap_conn *ic, int timeout, volatile int *stop,
    char *err, size_t errlen);

#endif
