/*
 * smtp: hands one composed message to an SMTP server with libcurl (the only
 * module that includes curl): SMTPS or STARTTLS with the certificate
 * verified, AUTH when a user is configured.  Says how far a failure
 * reaches: temporary (retry later) or permanent (give up, tell people).
 */
#ifndef INKFLOW_SMTP_H
#define INKFLOW_SMTP_H

#include <stddef.h>

enum smtp_tls {
	SMTP_TLS_SMTPS,    /* TLS from the first byte (port 465) */
	SMTP_TLS_STARTTLS, /* plain connect, STARTTLS required (port 587/25) */
	SMTP_TLS_NONE,     /* plaintext: only when the configuration says so */
};

struct smtp_conf {
	char *host;          /* name or address; the certificate must match it */
	int port;
	enum smtp_tls tls;
	char *user;          /* NULL: no AUTH */
	char *password;      /* NULL when token_command is set */
	char *token_command; /* OAuth 2.0: prints an access token (oauth.h) */
	long token_line;     /* line of <outbox> in the configuration */
	char *ca_file;       /* PEM bundle; NULL: the system's CA store */
	char *helo;          /* EHLO name, NULL: curl's default */
	char *envelope_from; /* MAIL FROM (a bounce address we read), required */
	int timeout;         /* seconds for connect and for each response */
};

enum smtp_result {
	SMTP_SENT,
	SMTP_TEMPFAIL, /* connect/TLS errors, timeouts, 4xx: try again later */
	SMTP_PERMFAIL, /* 5xx (e.g. a recipient refused): do not retry */
};

/* At most this many recipients per smtp_send (servers commonly refuse more
 * with a 452 that a retry would only repeat): split larger lists. */
#define SMTP_MAX_RCPT 100

/* Send raw (LF or CRLF line ends; converted to CRLF on the wire, dot-
 * stuffing done by curl) to every recipient in rcpts[0..nrcpt).  On failure
 * err holds the server's answer or curl's reason, one line.  A refused
 * recipient makes the whole send fail (nobody receives a partial send).
 * Also: a bare CR goes out as CRLF too.  Checked before connecting: a bad
 * host, port, EHLO name, TLS mode or envelope_from is TEMPFAIL (the
 * configuration is wrong, the mail must stay queued); a recipient that is
 * not a plain local@domain (no quoted local parts, no CR/LF/space/<>), no
 * recipients or more than SMTP_MAX_RCPT is PERMFAIL.  5xx to MAIL FROM,
 * RCPT TO, DATA or the message is PERMFAIL; AUTH failures, certificate
 * failures ("certificate verification failed: ..."), 530 and every other
 * error are TEMPFAIL.  err may be NULL or errlen 0; a long text is cut
 * and ends in "...". */
enum smtp_result smtp_send(const struct smtp_conf *c, const char *const *rcpts,
    size_t nrcpt, const char *raw, char *err, size_t errlen);

/* A run of smtp_send calls that may share one connection per server (an
 * outbox pass); smtp_session_end says QUIT and closes it.  Without a
 * session every smtp_send has a connection of its own. */
void smtp_session_begin(void);
void smtp_session_end(void);

/* libcurl is opened on first use (lazylib.h): smtp_global_init loads it
 * now and logs why it cannot; smtp_global_cleanup at exit undoes
 * curl_global_init if it ran.  Neither is needed before smtp_send. */
int smtp_global_init(void);
void smtp_global_cleanup(void);

#endif
