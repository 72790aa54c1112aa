/*
 * smtp: one message to one SMTP server with libcurl's easy interface.
 *
 * DESIGN
 * Everything we hand to curl is checked first against allow-lists: the host
 * (a name, an IPv4 address or a bracketed IPv6 literal) and the EHLO name go
 * into a URL, the addresses into MAIL FROM / RCPT TO lines, so '/', '@',
 * '<', CR, LF and friends must never get through.  The body is streamed by
 * a read callback that turns bare LF (and bare CR) into CRLF; curl does the
 * dot-stuffing and the final "." line.
 *
 * curl's own error text for a refused command is thin ("RCPT failed: 550"),
 * so a debug callback (CURLOPT_VERBOSE) follows the dialogue: it remembers
 * the last command we sent -- reduced to an allow-listed verb and address,
 * so AUTH credentials are never copied -- and the server's last reply to it.
 * After a failure the reply code says how far it reaches:
 *   5xx to MAIL FROM, RCPT TO, DATA or the message  -> PERMFAIL
 *   everything else (4xx, 5xx to EHLO/STARTTLS/AUTH, 530 "authentication
 *   required", connect/DNS/TLS/timeout errors, bad configuration)
 *                                                    -> TEMPFAIL
 * A wrong configuration must never throw mail away: it stays queued until
 * an operator fixes it.
 */
#include "smtp.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lazycurl.h"
#include "log.h"
#include "oauth.h"
#include "sonames.h"
#include "util.h"

/* Between smtp_session_begin and smtp_session_end the connection is kept
 * open between messages: curl reuses one to the same server with the same
 * TLS settings and credentials (MAIL FROM on the open session) and opens a
 * new one when it has gone away.  An idle connection is not reused after
 * SMTP_REUSE_MAX seconds, well inside the server's own idle timeout
 * (Postfix: 300 s).  Outside a session each message has its connection. */
#define SMTP_REUSE_MAX 30L
static CURLSH *smtp_share;
static int smtp_session; /* between smtp_session_begin and _end */

#define SMTP_DEFAULT_TIMEOUT 60   /* seconds, when the configuration has none */
#define SMTP_MAX_TIMEOUT 3600
#define SMTP_MAX_HOST 253         /* RFC 1035 name length */
#define SMTP_MAX_ADDR 254         /* RFC 5321 path (256) minus the brackets */
#define SMTP_CMD_MAX 300          /* remembered command: verb + address */
#define SMTP_REPLY_MAX 512        /* remembered reply, continuation lines joined */

/* What the debug callback saw last: the command and the reply to it. */
struct smtp_dialog {
	char cmd[SMTP_CMD_MAX];     /* e.g. "RCPT TO <a@b>", "" before any */
	char reply[SMTP_REPLY_MAX]; /* e.g. "550 5.1.1 <a@b>: ... unknown" */
	int code;                   /* code of reply, 0 when none yet */
	int complete;               /* reply's last line (code + space) seen */
	int after_data;             /* a 354 came: the next reply is the message's */
	int quitting;               /* QUIT sent: replies no longer matter */
};

/* Body source for the read callback. */
struct smtp_body {
	const char *s;
	size_t len;
	size_t pos;
	int lf_pending; /* a CR went out for a bare LF/CR; the LF is owed */
};

/* ---------------------------------------------------------------- errors */

/* Formats into err[errlen] as one line: control characters become spaces,
 * bytes beyond ASCII stay only if the text is valid UTF-8, and a text too
 * long is cut at a character boundary and ends in "...". */
static void smtp_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
smtp_err(char *err, size_t errlen, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	size_t n, i, o = 0;
	int cut = 0, utf8;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	int r = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (r < 0)
		tmp[0] = '\0';
	n = strlen(tmp);
	if (r >= 0 && (size_t)r >= sizeof tmp)
		cut = 1;
	utf8 = utf8_valid(tmp, n);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)tmp[i];
		if (ch < 0x20 || ch == 0x7f)
			tmp[i] = ' ';
		else if (ch >= 0x80 && !utf8)
			tmp[i] = '?';
	}
	while (n > 0 && tmp[n - 1] == ' ')
		n--;
	if (n >= errlen) {
		n = errlen - 1;
		cut = 1;
	}
	if (cut) {
		/* Room for "..." where possible, then back up to a character
		 * start so no partial UTF-8 sequence is left. */
		if (errlen > 4 && n > errlen - 4)
			n = errlen - 4;
		while (n > 0 && ((unsigned char)tmp[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(err, tmp, n);
	o = n;
	if (cut && errlen > 4) {
		memcpy(err + o, "...", 3);
		o += 3;
	}
	err[o] = '\0';
}

/* ------------------------------------------------------------ validation */

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* A DNS name or IPv4 address: labels of [A-Za-z0-9-], not starting or
 * ending with '-', separated by single dots; an optional final dot. */
static int
smtp_valid_dns(const char *s)
{
	size_t len = strlen(s), lab = 0, i;

	if (len == 0 || len > SMTP_MAX_HOST)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
		} else if (is_alnum((unsigned char)c) || c == '-') {
			if (lab == 0 && c == '-')
				return 0;
			if (++lab > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return s[len - 1] != '-';
}

/* A host for the URL: a DNS name, an IPv4 address, or "[IPv6]". */
static int
smtp_valid_host(const char *s)
{
	size_t len;

	if (!s)
		return 0;
	len = strlen(s);
	if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
		char in[64];
		unsigned char a6[16];
		if (len - 2 >= sizeof in)
			return 0;
		memcpy(in, s + 1, len - 2);
		in[len - 2] = '\0';
		return inet_pton(AF_INET6, in, a6) == 1;
	}
	return smtp_valid_dns(s);
}

/* RFC 5322 atext, plus '.' between atoms; UTF-8 (SMTPUTF8) allowed. */
static int
is_local_char(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c);
}

/* local@domain with a dot-atom local part (no quoted strings: we never
 * send to one) and a DNS (or UTF-8) domain or an address literal.  Nothing
 * that could end the SMTP command early: no CR, LF, space, '<' or '>'. */
static int
smtp_valid_addr(const char *s)
{
	const char *at, *p;
	size_t len;

	if (!s)
		return 0;
	len = strlen(s);
	if (len < 3 || len > SMTP_MAX_ADDR || !utf8_valid(s, len))
		return 0;
	at = strrchr(s, '@');
	if (!at || at == s || at[1] == '\0')
		return 0;
	if (s[0] == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++) {
		if (!is_local_char((unsigned char)*p))
			return 0;
		if (*p == '.' && p[1] == '.')
			return 0;
	}
	p = at + 1;
	if (*p == '[') {
		size_t dl = strlen(p);
		if (p[dl - 1] != ']' || dl < 3)
			return 0;
		for (p++; *p != ']'; p++)
			if (!is_alnum((unsigned char)*p) && *p != '.' && *p != ':')
				return 0;
		return 1;
	}
	if (*p == '.' || *p == '-')
		return 0;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!is_alnum(c) && c != '.' && c != '-' && c < 0x80)
			return 0;
		if (c == '.' && (p[1] == '.' || p[1] == '\0'))
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------- callbacks */

/* Streams the body with every line ending as CRLF: "\r\n" passes, a bare
 * "\n" or "\r" becomes "\r\n".  Bare CR is converted too: receivers treat
 * it inconsistently (one form of SMTP smuggling hides "\r.\r" in a body). */
static size_t
smtp_read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct smtp_body *b = userdata;
	size_t room = size * nitems, n = 0;

	while (n < room) {
		if (b->lf_pending) {
			buf[n++] = '\n';
			b->lf_pending = 0;
			continue;
		}
		if (b->pos >= b->len)
			break;
		char c = b->s[b->pos++];
		if (c == '\r' && (b->pos >= b->len || b->s[b->pos] != '\n')) {
			buf[n++] = '\r';
			b->lf_pending = 1;
		} else if (c == '\n' && (b->pos < 2 || b->s[b->pos - 2] != '\r')) {
			buf[n++] = '\r';
			b->lf_pending = 1;
		} else {
			buf[n++] = c;
		}
	}
	return n;
}

/* Bytes smtp_read_cb will produce for s[0..len): the SIZE we announce. */
static size_t
smtp_wire_len(const char *s, size_t len)
{
	size_t i, n = len;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))
			n++;
		else if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			n++;
	}
	return n;
}

/* 1 if line[0..len) starts with prefix, ASCII case-insensitive (line is
 * curl's buffer: not NUL-terminated). */
static int
starts_n(const char *line, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);
	return len >= pl && strncasecmp(line, prefix, pl) == 0;
}

/* Copies at most dstsize-1 bytes of src[0..n) into dst, NUL-terminated. */
static void
copy_n(char *dst, size_t dstsize, const char *src, size_t n)
{
	if (n >= dstsize)
		n = dstsize - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Records a command line we sent, reduced to a safe label: the verb, the
 * AUTH mechanism, the address of MAIL FROM / RCPT TO.  SASL exchanges
 * (credentials in base64) and the message itself never get copied. */
static void
smtp_note_cmd(struct smtp_dialog *d, const char *line, size_t len)
{
	static const char *const verbs[] = { "EHLO", "HELO", "STARTTLS", "DATA",
		"QUIT", "RSET", "NOOP" };
	size_t i;

	if (starts_n(line, len, "AUTH ")) {
		size_t m = 5;
		while (m < len && line[m] != ' ' && line[m] != '\r' && line[m] != '\n')
			m++;
		copy_n(d->cmd, sizeof d->cmd, line, m);
		goto reset;
	}
	if (starts_n(line, len, "MAIL FROM:") || starts_n(line, len, "RCPT TO:")) {
		size_t v = line[0] == 'M' || line[0] == 'm' ? 9 : 7;
		const char *a = line + v + 1, *end = memchr(a, '>', len - v - 1);
		size_t alen = end ? (size_t)(end - a) + 1 : 0;
		if (alen > 0 && alen < SMTP_MAX_ADDR + 3)
			bfmt(d->cmd, sizeof d->cmd, "%.*s %.*s", (int)v, line,
			    (int)alen, a);
		else
			copy_n(d->cmd, sizeof d->cmd, line, v);
		goto reset;
	}
	for (i = 0; i < ARRAY_LEN(verbs); i++) {
		size_t vl = strlen(verbs[i]);
		if (starts_n(line, len, verbs[i]) &&
		    (len == vl || line[vl] == ' ' || line[vl] == '\r' || line[vl] == '\n')) {
			if (strcmp(verbs[i], "QUIT") == 0) {
				/* Keep what came before: that is the story. */
				d->quitting = 1;
				return;
			}
			copy_n(d->cmd, sizeof d->cmd, verbs[i], vl);
			goto reset;
		}
	}
	/* A SASL continuation: keep the AUTH label, copy nothing. */
	if (str_istarts(d->cmd, "AUTH"))
		return;
	copy_n(d->cmd, sizeof d->cmd, "(command)", 9);
reset:
	d->reply[0] = '\0';
	d->code = 0;
	d->complete = 0;
	d->after_data = 0;
}

/* Adds one reply line ("250-..." or "550 ...") to the current reply. */
static void
smtp_note_reply(struct smtp_dialog *d, const char *line, size_t len)
{
	int code;
	size_t have;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (d->complete) {
		/* A second reply to the same command: after 354 the message's
		 * verdict, after 334 the next step of AUTH. */
		if (d->code == 354) {
			copy_n(d->cmd, sizeof d->cmd, "end of DATA", 11);
			d->after_data = 1;
		}
		d->reply[0] = '\0';
		d->complete = 0;
	}
	have = strlen(d->reply);
	if (have == 0) {
		copy_n(d->reply, sizeof d->reply, line, len);
	} else if (len > 4 && have + 2 < sizeof d->reply) {
		d->reply[have++] = ' ';
		copy_n(d->reply + have, sizeof d->reply - have, line + 4, len - 4);
	}
	d->code = code;
	d->complete = len == 3 || line[3] == ' ';
}

static int
smtp_debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
	struct smtp_dialog *d = userp;
	(void)h;

	if (d->quitting)
		return 0;
	if (type == CURLINFO_HEADER_OUT) {
		smtp_note_cmd(d, data, size);
	} else if (type == CURLINFO_HEADER_IN) {
		/* Normally one line per call; split anyway. */
		while (size > 0) {
			const char *nl = memchr(data, '\n', size);
			size_t l = nl ? (size_t)(nl - data) + 1 : size;
			smtp_note_reply(d, data, l);
			data += l;
			size -= l;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- classify */

enum smtp_stage { STAGE_SESSION, STAGE_AUTH, STAGE_ENVELOPE };

static enum smtp_stage
smtp_stage_of(const struct smtp_dialog *d)
{
	if (str_istarts(d->cmd, "AUTH"))
		return STAGE_AUTH;
	if (str_istarts(d->cmd, "MAIL FROM") || str_istarts(d->cmd, "RCPT TO") ||
	    str_istarts(d->cmd, "DATA") || d->after_data)
		return STAGE_ENVELOPE;
	return STAGE_SESSION;
}

static int
is_cert_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
	    rc == CURLE_SSL_CRL_BADFILE || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

/* Turns a failed transfer into a result and one line of err. */
static enum smtp_result
smtp_classify(const struct smtp_conf *c, CURLcode rc, long resp,
    const struct smtp_dialog *d, const char *cerr, char *err, size_t errlen)
{
	const char *why = cerr[0] ? cerr : curl_easy_strerror(rc);
	const char *what = d->cmd[0] ? d->cmd : "greeting";

	if (is_cert_error(rc)) {
		smtp_err(err, errlen, "certificate verification failed for %s:%d: %s",
		    c->host, c->port, why);
		return SMTP_TEMPFAIL;
	}
	/* A refusal from the server: its reply says what and how far. */
	if (d->complete && d->code >= 400 && (resp == 0 || resp == d->code)) {
		enum smtp_stage st = smtp_stage_of(d);
		if (st == STAGE_AUTH) {
			smtp_err(err, errlen, "authentication failed: %s: %s", what,
			    d->reply);
			return SMTP_TEMPFAIL;
		}
		if (d->code == 530) { /* RFC 4954: authentication required */
			smtp_err(err, errlen, "%s: %s (authentication required: "
			    "configure a user)", what, d->reply);
			return SMTP_TEMPFAIL;
		}
		smtp_err(err, errlen, "%s: %s", what, d->reply);
		return d->code >= 500 && st == STAGE_ENVELOPE ? SMTP_PERMFAIL :
		    SMTP_TEMPFAIL;
	}
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		smtp_err(err, errlen, "authentication failed: %s", why);
		break;
	case CURLE_USE_SSL_FAILED:
		smtp_err(err, errlen, "STARTTLS failed at %s:%d (TLS is required): %s",
		    c->host, c->port, why);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		smtp_err(err, errlen, "cannot resolve %s: %s", c->host, why);
		break;
	case CURLE_COULDNT_CONNECT:
		smtp_err(err, errlen, "cannot connect to %s:%d: %s", c->host,
		    c->port, why);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		smtp_err(err, errlen, "timeout talking to %s:%d after %s: %s",
		    c->host, c->port, what, why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		smtp_err(err, errlen, "TLS handshake with %s:%d failed: %s",
		    c->host, c->port, why);
		break;
	default:
		if (resp >= 400)
			smtp_err(err, errlen, "%s: server said %ld: %s", what, resp, why);
		else
			smtp_err(err, errlen, "%s:%d after %s: %s (curl error %d)",
			    c->host, c->port, what, why, (int)rc);
		break;
	}
	return SMTP_TEMPFAIL;
}

/* ------------------------------------------------------------------ send */

/* Checks the configuration; 0, or -1 with err set (a TEMPFAIL). */
static int
smtp_check_conf(const struct smtp_conf *c, char *err, size_t errlen)
{
	if (!c) {
		smtp_err(err, errlen, "smtp: no configuration");
		return -1;
	}
	if (!smtp_valid_host(c->host)) {
		smtp_err(err, errlen, "smtp: invalid host name (allowed: a DNS name, "
		    "an IPv4 address or [IPv6])");
		return -1;
	}
	if (c->port < 1 || c->port > 65535) {
		smtp_err(err, errlen, "smtp: port %d out of range 1..65535", c->port);
		return -1;
	}
	if (c->tls != SMTP_TLS_SMTPS && c->tls != SMTP_TLS_STARTTLS &&
	    c->tls != SMTP_TLS_NONE) {
		/* Unknown mode: never guess plaintext, and never AUTH in it. */
		smtp_err(err, errlen, "smtp: unknown TLS mode %d", (int)c->tls);
		return -1;
	}
	if (c->helo && !smtp_valid_dns(c->helo)) {
		smtp_err(err, errlen, "smtp: invalid EHLO name (a DNS name is needed)");
		return -1;
	}
	if (c->user && (!c->user[0] || (!c->password && !c->token_command))) {
		smtp_err(err, errlen, "smtp: user set without a password or token command");
		return -1;
	}
	if (!c->envelope_from || !smtp_valid_addr(c->envelope_from)) {
		smtp_err(err, errlen, "smtp: envelope sender missing or not a valid "
		    "address");
		return -1;
	}
	return 0;
}

/* The connection share of a session, made once libcurl is loaded.  No
 * share: every message opens its own connection, as without a session. */
static void
smtp_share_open(void)
{
	if (smtp_share || !smtp_session)
		return;
	/* inkflow sends from one thread: the share needs no lock callbacks. */
	smtp_share = curl_share_init();
	if (smtp_share &&
	    (curl_share_setopt(smtp_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
	        curl_share_setopt(smtp_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
	            CURLSHE_OK)) {
		curl_share_cleanup(smtp_share);
		smtp_share = NULL;
	}
}

#define SETOPT(h, opt, val)                                               \
	do {                                                              \
		if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) {    \
			smtp_err(err, errlen, "smtp: curl option %s refused", \
			    #opt);                                        \
			goto out;                                         \
		}                                                         \
	} while (0)

enum smtp_result
smtp_send(const struct smtp_conf *c, const char *const *rcpts, size_t nrcpt,
    const char *raw, char *err, size_t errlen)
{
	enum smtp_result res = SMTP_TEMPFAIL;
	struct smtp_dialog dialog;
	struct smtp_body body;
	struct curl_slist *rl = NULL;
	char cerr[CURL_ERROR_SIZE];
	char *url = NULL, *token = NULL;
	CURL *h = NULL;
	CURLcode rc;
	long resp = 0, timeout;
	size_t i;

	if (err && errlen)
		err[0] = '\0';
	if (smtp_check_conf(c, err, errlen) < 0)
		return SMTP_TEMPFAIL;
	char lerr[300];
	if (smtp_curl_load(lerr, sizeof lerr) < 0) {
		smtp_err(err, errlen, "smtp: %s", lerr); /* the operator's to fix: mail waits */
		return SMTP_TEMPFAIL;
	}
	smtp_share_open();

	/* What is wrong with this message stays wrong: PERMFAIL. */
	if (!raw || !rcpts || nrcpt == 0) {
		smtp_err(err, errlen, "smtp: no message or no recipients");
		return SMTP_PERMFAIL;
	}
	if (nrcpt > SMTP_MAX_RCPT) {
		smtp_err(err, errlen, "smtp: %zu recipients, at most %d per message",
		    nrcpt, SMTP_MAX_RCPT);
		return SMTP_PERMFAIL;
	}
	for (i = 0; i < nrcpt; i++) {
		if (!smtp_valid_addr(rcpts[i])) {
			smtp_err(err, errlen, "smtp: invalid recipient address #%zu",
			    i + 1);
			return SMTP_PERMFAIL;
		}
		struct curl_slist *more = curl_slist_append(rl, rcpts[i]);
		if (!more) {
			curl_slist_free_all(rl);
			smtp_err(err, errlen, "smtp: out of memory");
			return SMTP_TEMPFAIL;
		}
		rl = more;
	}

	memset(&dialog, 0, sizeof dialog);
	memset(&body, 0, sizeof body);
	body.s = raw;
	body.len = strlen(raw);
	cerr[0] = '\0';
	timeout = c->timeout > 0 ? c->timeout : SMTP_DEFAULT_TIMEOUT;
	if (timeout > SMTP_MAX_TIMEOUT)
		timeout = SMTP_MAX_TIMEOUT;
	url = xasprintf("%s://%s:%d/%s", c->tls == SMTP_TLS_SMTPS ? "smtps" : "smtp",
	    c->host, c->port, c->helo ? c->helo : "");

	h = curl_easy_init();
	if (!h) {
		smtp_err(err, errlen, "smtp: curl_easy_init failed");
		goto out;
	}
	SETOPT(h, CURLOPT_ERRORBUFFER, cerr);
	SETOPT(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	SETOPT(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_PROXY, "");  /* no proxy from the environment */
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, timeout);
	SETOPT(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
	SETOPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(h, CURLOPT_LOW_SPEED_TIME, timeout);

	if (c->tls == SMTP_TLS_STARTTLS)
		SETOPT(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	else if (c->tls == SMTP_TLS_NONE)
		SETOPT(h, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
	if (c->tls != SMTP_TLS_NONE) {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (c->ca_file)
			SETOPT(h, CURLOPT_CAINFO, c->ca_file);
	}
	/* AUTH only inside TLS, or in plaintext when that was configured on
	 * purpose (tls none); STARTTLS uses CURLUSESSL_ALL, so curl gives up
	 * rather than authenticate before the upgrade. */
	if (c->user && c->token_command) {
		/* OAuth 2.0: curl offers the bearer token as OAUTHBEARER or
		 * XOAUTH2, whichever the server lists. */
		char why[512];
		token = oauth_token(c->token_command, why, sizeof(why));
		if (!token) {
			smtp_err(err, errlen, "no access token for %s: %s", c->user, why);
			goto out;
		}
		SETOPT(h, CURLOPT_USERNAME, c->user);
		SETOPT(h, CURLOPT_XOAUTH2_BEARER, token);
	} else if (c->user) {
		SETOPT(h, CURLOPT_USERNAME, c->user);
		SETOPT(h, CURLOPT_PASSWORD, c->password);
	}

	SETOPT(h, CURLOPT_MAIL_FROM, c->envelope_from);
	SETOPT(h, CURLOPT_MAIL_RCPT, rl);
	SETOPT(h, CURLOPT_UPLOAD, 1L);
	SETOPT(h, CURLOPT_READFUNCTION, smtp_read_cb);
	SETOPT(h, CURLOPT_READDATA, &body);
	SETOPT(h, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)smtp_wire_len(body.s, body.len));

	if (smtp_share) {
		SETOPT(h, CURLOPT_SHARE, smtp_share);
		SETOPT(h, CURLOPT_MAXAGE_CONN, SMTP_REUSE_MAX);
	}

	SETOPT(h, CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	SETOPT(h, CURLOPT_DEBUGDATA, &dialog);
	SETOPT(h, CURLOPT_VERBOSE, 1L);

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp);
	if (rc == CURLE_OK) {
		res = SMTP_SENT;
		log_debug("smtp_sent host=%s port=%d rcpts=%zu bytes=%zu",
		    c->host, c->port, nrcpt, body.len);
	} else {
		res = smtp_classify(c, rc, resp, &dialog, cerr, err, errlen);
		if (token && (rc == CURLE_LOGIN_DENIED || smtp_stage_of(&dialog) == STAGE_AUTH))
			oauth_forget(c->token_command); /* refused: ask the command again */
		log_debug("smtp_failed host=%s port=%d result=%s err=%s", c->host,
		    c->port, res == SMTP_PERMFAIL ? "permfail" : "tempfail",
		    log_q(err && errlen ? err : ""));
	}
out:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(rl);
	free(url);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return res;
}

struct lazycurl lazycurl;
static struct lazylib curl_lib = {.soname = SONAME_CURL};
static int curl_ready; /* 0 not tried, 1 curl_global_init done, -1 failed */

int
smtp_curl_load(char *err, size_t errlen)
{
	if (lazylib_load(&curl_lib, &lazycurl, lazycurl_names, ARRAY_LEN(lazycurl_names), err,
	        errlen) < 0)
		return -1;
	if (curl_ready == 0)
		curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : -1;
	if (curl_ready < 0) {
		if (err && errlen)
			snprintf(err, errlen, "curl_global_init failed");
		return -1;
	}
	return 0;
}

int
smtp_global_init(void)
{
	char err[300];
	if (smtp_curl_load(err, sizeof err) < 0) {
		log_error("smtp: %s", err);
		return -1;
	}
	return 0;
}

void
smtp_session_begin(void)
{
	smtp_session = 1; /* the share comes with the first smtp_send */
}

void
smtp_session_end(void)
{
	smtp_session = 0;
	if (smtp_share) {
		curl_share_cleanup(smtp_share); /* closes the kept connection (QUIT) */
		smtp_share = NULL;
	}
}

void
smtp_global_cleanup(void)
{
	smtp_session_end();
	if (curl_ready > 0)
		curl_global_cleanup();
	curl_ready = 0;
}
