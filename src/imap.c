/*
 * imap: one IMAP connection through libetpan.
 *
 * DESIGN
 * libetpan does the protocol; this file decides what to trust.
 *
 * Transport.  We open the TCP connection ourselves (timeout, CLOEXEC,
 * keepalive), let libetpan wrap it in a plain or TLS mailstream, and then put
 * a guard driver of our own between libetpan's parser and that stream
 * (guard_*).  The guard counts the bytes of each response against a budget,
 * refuses a literal whose announced size ("{N}") exceeds the budget before
 * libetpan allocates N bytes for it, turns an end of file into an error
 * (libetpan's plaintext driver returns 0 at EOF and its literal reader then
 * spins forever), and remembers why the stream died so the error says so.
 * After STARTTLS libetpan swaps the stream's driver; we wrap the new one.
 *
 * Certificates.  libetpan's GnuTLS stream does not verify anything, so after
 * the handshake and before a single byte of the session is read (IMAPS) or
 * any credential is sent (STARTTLS), tls_verify() takes the peer chain from
 * the stream and verifies it with a GnuTLS trust list (the configured CA
 * file or the system store), for the host name or IP address we dialled and
 * for server authentication.
 *
 * Errors say how far they reach.  A failure of the transport, a response we
 * cannot parse, a tagged BAD or a response over budget marks the connection
 * dead (every later call returns IMAP_ERR_CONN without touching libetpan); a
 * tagged NO is about the mailbox, except at login where it is the
 * configuration unless the server says [UNAVAILABLE].  Server text reaches
 * err only as printable ASCII.
 *
 * SIGPIPE.  Writing to a socket the server closed raises SIGPIPE, which
 * would kill the daemon; libetpan and GnuTLS write without MSG_NOSIGNAL, so
 * every public function blocks SIGPIPE for its duration and swallows one it
 * caused (sigpipe_*), leaving the process's disposition alone.
 */
#include "imap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lazyetpan.h"
#include "log.h"
#include "oauth.h"
#include "util.h"

/* Bytes one response may hold, literals included, for everything but a
 * message body; a UID SEARCH over a million messages is about 11 MB. */
#define IMAP_RESPONSE_MAX ((size_t)16 << 20)
/* Room around a message body in a FETCH response (UID, flags, syntax). */
#define IMAP_FETCH_SLACK ((size_t)1 << 20)
/* Certificates we look at in the server's chain. */
#define IMAP_CHAIN_MAX 16
/* Server text quoted in an error message. */
#define IMAP_TEXT_MAX 200
/* Default timeout when the configuration gives none. */
#define IMAP_TIMEOUT_DEFAULT 60
/* Servers drop an IDLE after 30 minutes (RFC 2177); stay below. */
#define IMAP_IDLE_MAX (28 * 60)

/* State of the literal scanner (guard_scan). */
enum lit_state { LIT_TEXT, LIT_DIGITS, LIT_CR, LIT_LF, LIT_SKIP };

struct imap_conn {
	mailimap *imap;          /* owned */
	char *host;              /* owned */
	int port;
	char *ca_file;           /* owned; NULL: the system store */
	char *move_to;           /* owned; modified UTF-7, NULL when unset */
	char *move_to_name;      /* owned; as configured, for messages */
	enum imap_tls tls;
	enum imap_dispose dispose;
	int idle_wanted;
	int idle_refused;        /* the server said NO/BAD to IDLE once */
	int timeout;             /* seconds */
	int selected;

	/* guard: per-response budget and the transport's fate */
	size_t rx;               /* bytes received for the current command */
	size_t rx_max;
	int dead;
	char why[160];           /* why the transport died, "" when unknown */
	enum lit_state lit;
	uint64_t lit_value;
	uint64_t lit_skip;
	int lit_digits;
};

struct guard {
	mailstream_low *inner;   /* owned: libetpan's socket or TLS stream */
	struct imap_conn *ic;    /* foreign */
};

/* ------------------------------------------------------------ helpers */

/* err = formatted message, one line, control characters replaced. */
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* Copy of untrusted server text as printable ASCII, at most IMAP_TEXT_MAX
 * bytes (a cut is marked with "..."). */
static void
clean_text(const char *s, char *out, size_t size)
{
	size_t n = 0;

	if (s == NULL)
		s = "";
	for (; *s != '\0' && n + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[n] = '\0';
	if (*s != '\0' && n >= 3)
		memcpy(out + n - 3, "...", 3);
}

/* The text of the server's last tagged response, cleaned. */
static const char *
server_text(struct imap_conn *ic, char buf[IMAP_TEXT_MAX + 1])
{
	const char *t = ic->imap != NULL ? ic->imap->imap_response : NULL;

	clean_text(t != NULL && *t != '\0' ? t : "(no text)", buf, IMAP_TEXT_MAX + 1);
	return buf;
}

/* The response code atom of the last response ([UNAVAILABLE] ...), or "". */
static const char *
server_code(struct imap_conn *ic)
{
	struct mailimap_response_info *ri = ic->imap->imap_response_info;

	if (ri == NULL || ri->rsp_atom == NULL)
		return "";
	return ri->rsp_atom;
}

/* 1 when s holds CR, LF or another control character (it would end or
 * break an IMAP command: libetpan sends quoted strings unchecked). */
static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* Writing to a closed socket must not kill the process: block SIGPIPE for
 * the duration of one public call and swallow one we caused. */
struct sigpipe_state {
	sigset_t old;
	int was_pending;
};

static void
sigpipe_block(struct sigpipe_state *st)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &st->old);
	sigemptyset(&pend);
	sigpending(&pend);
	st->was_pending = sigismember(&pend, SIGPIPE);
}

static void
sigpipe_restore(struct sigpipe_state *st)
{
	sigset_t set, pend;

	if (!st->was_pending) {
		sigemptyset(&pend);
		sigpending(&pend);
		if (sigismember(&pend, SIGPIPE)) {
			struct timespec zero = {0, 0};
			sigemptyset(&set);
			sigaddset(&set, SIGPIPE);
			while (sigtimedwait(&set, NULL, &zero) == -1 && errno == EINTR)
				;
		}
	}
	pthread_sigmask(SIG_SETMASK, &st->old, NULL);
}

/* ----------------------------------------------------------- base64 */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; caller frees. */
static char *
base64(const unsigned char *p, size_t n)
{
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = b64_std[(v >> 18) & 63];
		*o++ = b64_std[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64_std[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64_std[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* ---------------------------------------------- modified UTF-7 names */

/* Next code point of valid UTF-8 at *s; advances *s. */
static uint32_t
utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c;
	int n;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if (p[0] < 0xe0)
		c = p[0] & 0x1f, n = 1;
	else if (p[0] < 0xf0)
		c = p[0] & 0x0f, n = 2;
	else
		c = p[0] & 0x07, n = 3;
	for (int i = 1; i <= n; i++)
		c = (c << 6) | (p[i] & 0x3f);
	*s = p + n + 1;
	return c;
}

/* Mailbox name as configured (UTF-8) to IMAP's modified UTF-7 (RFC 3501
 * 5.1.3): printable ASCII stays, "&" becomes "&-", everything else is
 * UTF-16 in base64 with "," for "/" between "&" and "-".  NULL when the name
 * is empty, not UTF-8 or holds control characters.  Caller frees. */
static char *
mutf7_encode(const char *name)
{
	static const char b64_imap[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
	struct sbuf sb = {0};
	const unsigned char *s = (const unsigned char *)name;
	uint32_t bits = 0;
	int nbits = 0, in_b64 = 0;

	if (*name == '\0' || !utf8_valid(name, strlen(name)) || has_ctl(name))
		return NULL;
	while (*s != '\0') {
		uint32_t c = utf8_next(&s);
		if (c >= 0x20 && c < 0x7f) {
			if (in_b64) {
				if (nbits > 0)
					sb_addc(&sb, b64_imap[(bits << (6 - nbits)) & 63]);
				sb_addc(&sb, '-');
				in_b64 = 0;
				nbits = 0;
				bits = 0;
			}
			if (c == '&')
				sb_adds(&sb, "&-");
			else
				sb_addc(&sb, (char)c);
			continue;
		}
		if (!in_b64) {
			sb_addc(&sb, '&');
			in_b64 = 1;
		}
		uint32_t units[2];
		int nu = 0;
		if (c >= 0x10000) {
			c -= 0x10000;
			units[nu++] = 0xd800 | (c >> 10);
			units[nu++] = 0xdc00 | (c & 0x3ff);
		} else {
			units[nu++] = c;
		}
		for (int i = 0; i < nu; i++) {
			bits = (bits << 16) | units[i];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				sb_addc(&sb, b64_imap[(bits >> nbits) & 63]);
			}
			bits &= (1u << nbits) - 1;
		}
	}
	if (in_b64) {
		if (nbits > 0)
			sb_addc(&sb, b64_imap[(bits << (6 - nbits)) & 63]);
		sb_addc(&sb, '-');
	}
	return sb_steal(&sb);
}

/* ------------------------------------------------------------- guard */

/* Why the transport died, for an error message. */
static void
guard_die(struct imap_conn *ic, const char *fmt, ...)
{
	va_list ap;

	ic->dead = 1;
	if (ic->why[0] != '\0')
		return; /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(ic->why, sizeof(ic->why), fmt, ap);
	va_end(ap);
}

/* Watch the received bytes for literal announcements "{N}" (also "~{N}",
 * and without the CRLF libetpan tolerates): one larger than the response
 * budget is refused before libetpan allocates it.  The contents of a proper
 * literal ("{N}" CRLF) are skipped, so a message body that happens to hold
 * "{99999999}" is no announcement.  Returns -1 to refuse. */
static int
guard_scan(struct imap_conn *ic, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		switch (ic->lit) {
		case LIT_SKIP: {
			uint64_t take = n - i;
			if (take > ic->lit_skip)
				take = ic->lit_skip;
			ic->lit_skip -= take;
			i += (size_t)take;
			if (ic->lit_skip == 0)
				ic->lit = LIT_TEXT;
			continue;
		}
		case LIT_TEXT:
			if (c == '{') {
				ic->lit = LIT_DIGITS;
				ic->lit_value = 0;
				ic->lit_digits = 0;
			}
			i++;
			continue;
		case LIT_DIGITS:
			if (c >= '0' && c <= '9') {
				if (ic->lit_value > (UINT64_MAX - 9) / 10)
					ic->lit_value = UINT64_MAX;
				else
					ic->lit_value = ic->lit_value * 10 + (c - '0');
				ic->lit_digits++;
				i++;
				continue;
			}
			if (c == '}' && ic->lit_digits > 0) {
				if (ic->lit_value > ic->rx_max) {
					guard_die(ic, "server announced a literal of %llu bytes (limit %zu)",
					    (unsigned long long)ic->lit_value, ic->rx_max);
					return -1;
				}
				ic->lit = LIT_CR;
				i++;
				continue;
			}
			ic->lit = LIT_TEXT;
			continue; /* look at c again */
		case LIT_CR:
			if (c == '\r') {
				ic->lit = LIT_LF;
				i++;
				continue;
			}
			ic->lit = LIT_TEXT;
			continue;
		case LIT_LF:
			if (c == '\n') {
				i++;
				ic->lit_skip = ic->lit_value;
				ic->lit = ic->lit_skip > 0 ? LIT_SKIP : LIT_TEXT;
				continue;
			}
			ic->lit = LIT_TEXT;
			continue;
		}
	}
	return 0;
}

static ssize_t
guard_read(mailstream_low *s, void *buf, size_t count)
{
	struct guard *g = s->data;
	struct imap_conn *ic = g->ic;
	int64_t t0 = mono_ms();
	ssize_t r;

	if (ic->dead)
		return -1;
	r = mailstream_low_read(g->inner, buf, count);
	if (r == 0) {
		guard_die(ic, "connection closed by the server");
		return -1;
	}
	if (r < 0) {
		if (mono_ms() - t0 >= (int64_t)ic->timeout * 1000 - 100)
			guard_die(ic, "no answer from the server within %d s", ic->timeout);
		else
			guard_die(ic, "connection lost (read failed)");
		return -1;
	}
	if ((size_t)r > ic->rx_max - ic->rx) {
		guard_die(ic, "server response larger than %zu bytes", ic->rx_max);
		return -1;
	}
	ic->rx += (size_t)r;
	if (guard_scan(ic, buf, (size_t)r) < 0)
		return -1;
	return r;
}

static ssize_t
guard_write(mailstream_low *s, const void *buf, size_t count)
{
	struct guard *g = s->data;
	ssize_t r;

	if (g->ic->dead)
		return -1;
	r = mailstream_low_write(g->inner, buf, count);
	if (r < 0)
		guard_die(g->ic, "connection lost (write failed)");
	return r;
}

static int
guard_close(mailstream_low *s)
{
	struct guard *g = s->data;

	return mailstream_low_close(g->inner);
}

static int
guard_get_fd(mailstream_low *s)
{
	struct guard *g = s->data;

	return mailstream_low_get_fd(g->inner);
}

static void
guard_free(mailstream_low *s)
{
	struct guard *g = s->data;

	mailstream_low_free(g->inner);
	free(g);
	free(s);
}

static void
guard_cancel(mailstream_low *s)
{
	struct guard *g = s->data;

	mailstream_low_cancel(g->inner);
}

static struct mailstream_cancel *
guard_get_cancel(mailstream_low *s)
{
	struct guard *g = s->data;

	return mailstream_low_get_cancel(g->inner);
}

static carray *
guard_get_certificate_chain(mailstream_low *s)
{
	struct guard *g = s->data;

	return mailstream_low_get_certificate_chain(g->inner);
}

static mailstream_low_driver guard_driver = {
	.mailstream_read = guard_read,
	.mailstream_write = guard_write,
	.mailstream_close = guard_close,
	.mailstream_get_fd = guard_get_fd,
	.mailstream_free = guard_free,
	.mailstream_cancel = guard_cancel,
	.mailstream_get_cancel = guard_get_cancel,
	.mailstream_get_certificate_chain = guard_get_certificate_chain,
};

/* Put the guard between stream and its current low-level driver. */
static void
guard_wrap(struct imap_conn *ic, mailstream *stream)
{
	mailstream_low *low = mailstream_low_new(NULL, &guard_driver);
	if (low == NULL) {
		fprintf(stderr, "inkflow: out of memory\n");
		abort();
	}
	struct guard *g = xcalloc(1, sizeof(*g));
	g->inner = mailstream_get_low(stream);
	g->ic = ic;
	low->data = g; /* what mailstream_low_new(g, ...) would store; freed by guard_free */
	mailstream_set_low(stream, low);
	ic->lit = LIT_TEXT;
}

/* Start a command: its response may hold max bytes. */
static void
budget(struct imap_conn *ic, size_t max)
{
	ic->rx = 0;
	ic->rx_max = max;
}

/* ------------------------------------------------------------ errors */

/* 1 when a libetpan result means the server answered the command with a
 * tagged NO (the connection is still in step); everything else is the
 * transport, a parse failure or a tagged BAD. */
static int
is_refusal(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_LOGIN:
	case MAILIMAP_ERROR_SELECT:
	case MAILIMAP_ERROR_UID_SEARCH:
	case MAILIMAP_ERROR_UID_FETCH:
	case MAILIMAP_ERROR_UID_STORE:
	case MAILIMAP_ERROR_UID_COPY:
	case MAILIMAP_ERROR_UID_MOVE:
	case MAILIMAP_ERROR_EXPUNGE:
	case MAILIMAP_ERROR_STARTTLS:
	case MAILIMAP_ERROR_CUSTOM_COMMAND:
	case MAILIMAP_ERROR_EXTENSION:
		return 1;
	default:
		return 0;
	}
}

/* The connection is unusable: err = "what: why". */
static enum imap_status
fail_conn(struct imap_conn *ic, int r, char *err, size_t errlen, const char *what)
{
	char text[IMAP_TEXT_MAX + 1];

	ic->dead = 1;
	if (ic->why[0] != '\0')
		set_err(err, errlen, "%s: %s", what, ic->why);
	else if (r == MAILIMAP_ERROR_PROTOCOL && ic->imap->imap_response != NULL)
		set_err(err, errlen, "%s: protocol error (BAD or a wrong tag): %s", what,
		    server_text(ic, text));
	else if (r == MAILIMAP_ERROR_FATAL)
		set_err(err, errlen, "%s: server closed the session: %s", what,
		    server_text(ic, text));
	else if (r == MAILIMAP_ERROR_PARSE && ic->lit == LIT_SKIP && ic->lit_skip > 0)
		/* libetpan saw the end of the stream inside a literal and calls
		 * it a parse error: say what happened. */
		set_err(err, errlen, "%s: connection cut %llu bytes before the end of a literal "
		    "(%llu bytes announced)", what, (unsigned long long)ic->lit_skip,
		    (unsigned long long)ic->lit_value);
	else if (r == MAILIMAP_ERROR_PARSE)
		set_err(err, errlen, "%s: unparsable server response", what);
	else if (r == MAILIMAP_ERROR_MEMORY)
		set_err(err, errlen, "%s: out of memory in libetpan", what);
	else
		set_err(err, errlen, "%s: connection failed (libetpan error %d)", what, r);
	return IMAP_ERR_CONN;
}

/* A command failed: tagged NO gives refusal_status with the server's text,
 * anything else is the connection. */
static enum imap_status
fail_cmd(struct imap_conn *ic, int r, enum imap_status refusal_status,
    char *err, size_t errlen, const char *what)
{
	char text[IMAP_TEXT_MAX + 1];

	if (!is_refusal(r) || ic->dead)
		return fail_conn(ic, r, err, errlen, what);
	set_err(err, errlen, "%s: %s", what, server_text(ic, text));
	return refusal_status;
}

/* Common entry checks of the calls that need a selected mailbox. */
static enum imap_status
check_ready(struct imap_conn *ic, int need_selected, char *err, size_t errlen)
{
	if (ic == NULL) {
		set_err(err, errlen, "no IMAP connection");
		return IMAP_ERR_CONN;
	}
	if (ic->dead) {
		set_err(err, errlen, "IMAP connection is closed%s%s",
		    ic->why[0] != '\0' ? ": " : "", ic->why);
		return IMAP_ERR_CONN;
	}
	if (need_selected && !ic->selected) {
		set_err(err, errlen, "no mailbox selected");
		return IMAP_ERR_MAILBOX;
	}
	return IMAP_OK;
}

/* ------------------------------------------------------------ connect */

/* TCP connection to host:port within timeout seconds; the socket is left
 * blocking (libetpan polls before each read and write). */
static int
tcp_connect(const char *host, int port, int timeout, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char portstr[16];
	int64_t deadline = mono_ms() + (int64_t)timeout * 1000;
	int fd = -1, saved = 0, rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		set_err(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				saved = errno;
				close(fd);
				fd = -1;
				continue;
			}
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int left, pr;
			do {
				left = (int)(deadline - mono_ms());
				pr = left > 0 ? poll(&pfd, 1, left) : 0;
			} while (pr < 0 && errno == EINTR);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (pr == 0)
				soerr = ETIMEDOUT;
			else if (pr < 0)
				soerr = errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr != 0) {
				saved = soerr;
				close(fd);
				fd = -1;
				continue;
			}
		}
		break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		set_err(err, errlen, "cannot connect to %s:%d: %s", host, port,
		    strerror(saved != 0 ? saved : ECONNREFUSED));
		return -1;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return fd;
}

/* 1 and the binary address when host is an IPv4 or IPv6 literal. */
static int
ip_literal(const char *host, unsigned char addr[16], size_t *len)
{
	if (inet_pton(AF_INET, host, addr) == 1) {
		*len = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, host, addr) == 1) {
		*len = 16;
		return 1;
	}
	return 0;
}

/* libetpan calls this before the handshake: send SNI for a DNS name (never
 * for an IP address, RFC 6066). */
static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	struct imap_conn *ic = data;
	unsigned char addr[16];
	size_t alen;

	if (!ip_literal(ic->host, addr, &alen))
		mailstream_ssl_set_server_name(ctx, ic->host);
}

/* Verify the server's certificate chain against the CA file (or the system
 * store), for ic->host and for TLS server use.  IMAP_ERR_CONFIG on
 * failure. */
static enum imap_status
tls_verify(struct imap_conn *ic, mailstream *stream, char *err, size_t errlen)
{
	gnutls_x509_crt_t crt[IMAP_CHAIN_MAX];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vdata[2];
	unsigned char addr[16];
	size_t alen = 0;
	unsigned ncrt = 0, status = 0;
	enum imap_status st = IMAP_ERR_CONFIG;
	carray *chain;
	int r;

	chain = mailstream_get_certificate_chain(stream);
	if (chain == NULL || carray_count(chain) == 0) {
		set_err(err, errlen, "certificate verification failed: the server sent no certificate");
		goto out;
	}
	for (unsigned i = 0; i < carray_count(chain) && ncrt < IMAP_CHAIN_MAX; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = {.data = (unsigned char *)der->str, .size = (unsigned)der->len};
		if (gnutls_x509_crt_init(&crt[ncrt]) < 0)
			goto out_mem;
		if (gnutls_x509_crt_import(crt[ncrt], &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt[ncrt]);
			set_err(err, errlen, "certificate verification failed: "
			    "certificate %u of the server's chain does not parse", i);
			goto out;
		}
		ncrt++;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		goto out_mem;
	if (ic->ca_file != NULL) {
		r = gnutls_x509_trust_list_add_trust_file(tl, ic->ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0) {
			set_err(err, errlen, "certificate verification failed: no CA certificate "
			    "loaded from %s%s%s", ic->ca_file, r < 0 ? ": " : "",
			    r < 0 ? gnutls_strerror(r) : "");
			goto out;
		}
	} else {
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (r <= 0) {
			set_err(err, errlen, "certificate verification failed: no system CA "
			    "certificates%s%s", r < 0 ? ": " : "", r < 0 ? gnutls_strerror(r) : "");
			goto out;
		}
	}
	if (ip_literal(ic->host, addr, &alen)) {
		vdata[0].type = GNUTLS_DT_IP_ADDRESS;
		vdata[0].data = addr;
		vdata[0].size = (unsigned)alen;
	} else {
		vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
		vdata[0].data = (unsigned char *)ic->host;
		vdata[0].size = 0;
	}
	vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	vdata[1].size = 0;
	r = gnutls_x509_trust_list_verify_crt2(tl, crt, ncrt, vdata, 2, 0, &status, NULL);
	if (r < 0) {
		set_err(err, errlen, "certificate verification failed: %s", gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		gnutls_datum_t out = {0};
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
		    &out, 0) == 0) {
			char *t = (char *)out.data;
			size_t tl_len = strlen(t);
			while (tl_len > 0 && t[tl_len - 1] == ' ')
				t[--tl_len] = '\0';
			set_err(err, errlen, "certificate verification failed: %s (host %s)", t,
			    ic->host);
			gnutls_free(out.data);
		} else {
			set_err(err, errlen, "certificate verification failed: status 0x%x (host %s)",
			    status, ic->host);
		}
		goto out;
	}
	st = IMAP_OK;
	goto out;
out_mem:
	set_err(err, errlen, "certificate verification failed: out of memory");
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (unsigned i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	mailstream_certificate_chain_free(chain);
	return st;
}

/* Forget what the server said it can do (before TLS, before login). */
static void
caps_forget(struct imap_conn *ic)
{
	struct mailimap_connection_info *ci = ic->imap->imap_connection_info;

	if (ci != NULL && ci->imap_capability != NULL) {
		mailimap_capability_data_free(ci->imap_capability);
		ci->imap_capability = NULL;
	}
}

static int
caps_known(struct imap_conn *ic)
{
	struct mailimap_connection_info *ci = ic->imap->imap_connection_info;

	return ci != NULL && ci->imap_capability != NULL;
}

/* Send "tag cmd" and read the response up to its tagged line, which
 * libetpan parses and stores (capabilities included).  A libetpan code:
 * MAILIMAP_ERROR_CUSTOM_COMMAND for a tagged NO.  (mailimap_custom_command
 * sends a space after the command, which strict servers reject.) */
static int
simple_command(struct imap_conn *ic, const char *cmd)
{
	mailimap *imap = ic->imap;
	struct mailimap_response *resp;
	int r, code;

	r = mailimap_send_current_tag(imap);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	if (mailstream_write(imap->imap_stream, cmd, strlen(cmd)) < 0 ||
	    mailstream_write(imap->imap_stream, "\r\n", 2) < 0 ||
	    mailstream_flush(imap->imap_stream) < 0 || mailimap_read_line(imap) == NULL)
		return MAILIMAP_ERROR_STREAM;
	r = mailimap_parse_response(imap, &resp);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	code = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type;
	mailimap_response_free(resp);
	return code == MAILIMAP_RESP_COND_STATE_OK ? MAILIMAP_NO_ERROR :
	    MAILIMAP_ERROR_CUSTOM_COMMAND;
}

/* Make sure the capabilities are known: ask with CAPABILITY when the last
 * greeting or response did not carry them.  (Not mailimap_capability(): it
 * dereferences a NULL when the server answers OK without a CAPABILITY.) */
static enum imap_status
caps_fetch(struct imap_conn *ic, char *err, size_t errlen)
{
	int r;

	if (caps_known(ic))
		return IMAP_OK;
	budget(ic, IMAP_RESPONSE_MAX);
	r = simple_command(ic, "CAPABILITY");
	if (r != MAILIMAP_NO_ERROR)
		return fail_cmd(ic, r, IMAP_ERR_CONN, err, errlen, "CAPABILITY failed");
	if (!caps_known(ic)) {
		set_err(err, errlen, "CAPABILITY failed: the server listed no capabilities");
		ic->dead = 1;
		return IMAP_ERR_CONN;
	}
	return IMAP_OK;
}

/* AUTHENTICATE mech with the client's response msg[0..len): in one line
 * with SASL-IR (RFC 4959), else after the server's "+".  PLAIN (RFC 4616)
 * has no challenge after it; XOAUTH2 answers a refused token with a
 * challenge holding the reason (JSON), to which an empty line is the
 * answer before the tagged NO (error_challenge set).  The response goes
 * through mailimap_parse_response, so the capabilities in the tagged OK are
 * kept.  Returns a libetpan code like mailimap_login. */
static int
auth_sasl(struct imap_conn *ic, const char *mech, const unsigned char *msg, size_t len,
    int ir, int error_challenge)
{
	mailimap *imap = ic->imap;
	mailstream *s = imap->imap_stream;
	struct mailimap_response *resp;
	char *b64 = base64(msg, len), *line;
	int r, code;

	mailstream_set_privacy(s, 0);
	r = mailimap_send_current_tag(imap);
	if (r != MAILIMAP_NO_ERROR)
		goto out;
	if (mailstream_write(s, "AUTHENTICATE ", 13) < 0 ||
	    mailstream_write(s, mech, strlen(mech)) < 0 ||
	    (ir && (mailstream_write(s, " ", 1) < 0 ||
	    mailstream_write(s, b64, strlen(b64)) < 0)) ||
	    mailstream_write(s, "\r\n", 2) < 0 || mailstream_flush(s) < 0) {
		r = MAILIMAP_ERROR_STREAM;
		goto out;
	}
	line = mailimap_read_line(imap);
	if (line == NULL) {
		r = MAILIMAP_ERROR_STREAM;
		goto out;
	}
	if (!ir && line[0] == '+') {
		/* the continuation carries no challenge for PLAIN or XOAUTH2 */
		if (mailstream_write(s, b64, strlen(b64)) < 0 ||
		    mailstream_write(s, "\r\n", 2) < 0 || mailstream_flush(s) < 0 ||
		    (line = mailimap_read_line(imap)) == NULL) {
			r = MAILIMAP_ERROR_STREAM;
			goto out;
		}
	}
	if (line[0] == '+') {
		if (!error_challenge) { /* PLAIN has no challenge after the response */
			r = MAILIMAP_ERROR_PARSE;
			goto out;
		}
		if (mailstream_write(s, "\r\n", 2) < 0 || mailstream_flush(s) < 0 ||
		    mailimap_read_line(imap) == NULL) {
			r = MAILIMAP_ERROR_STREAM;
			goto out;
		}
	}
	r = mailimap_parse_response(imap, &resp);
	if (r != MAILIMAP_NO_ERROR)
		goto out;
	code = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type;
	mailimap_response_free(resp);
	if (code == MAILIMAP_RESP_COND_STATE_OK) {
		imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
		r = MAILIMAP_NO_ERROR;
	} else {
		r = MAILIMAP_ERROR_LOGIN;
	}
out:
	mailstream_set_privacy(s, 1);
	explicit_bzero(b64, strlen(b64));
	free(b64);
	return r;
}

/* AUTHENTICATE PLAIN with an empty authorization identity. */
static int
auth_plain(struct imap_conn *ic, const char *user, const char *password, int ir)
{
	size_t ul = strlen(user), pl = strlen(password);
	unsigned char *msg = xmalloc(ul + pl + 2);
	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[ul + 1] = '\0';
	memcpy(msg + ul + 2, password, pl);
	int r = auth_sasl(ic, "PLAIN", msg, ul + pl + 2, ir, 0);
	explicit_bzero(msg, ul + pl + 2);
	free(msg);
	return r;
}

/* Sign in with an OAuth 2.0 access token from the token command (SASL
 * XOAUTH2, as Microsoft 365 and Gmail take it).  A refused token is
 * forgotten, so the next connection asks the command again. */
static enum imap_status
login_oauth2(struct imap_conn *ic, const char *user, const char *command, char *err,
    size_t errlen)
{
	char text[IMAP_TEXT_MAX + 1];
	if (!mailimap_has_authentication(ic->imap, "XOAUTH2")) {
		set_err(err, errlen, "OAuth 2.0 sign-in impossible: the server offers no "
		    "AUTH=XOAUTH2");
		return IMAP_ERR_CONFIG;
	}
	char why[512];
	char *token = oauth_token(command, why, sizeof(why));
	if (!token) {
		/* the identity provider or the helper may be back later */
		set_err(err, errlen, "no access token for %s: %s", user, why);
		return IMAP_ERR_CONN;
	}
	size_t len;
	char *msg = oauth_xoauth2(user, token, &len);
	explicit_bzero(token, strlen(token));
	free(token);
	caps_forget(ic);
	budget(ic, IMAP_RESPONSE_MAX);
	int r = auth_sasl(ic, "XOAUTH2", (const unsigned char *)msg, len,
	    mailimap_has_extension(ic->imap, "SASL-IR"), 1);
	explicit_bzero(msg, len);
	free(msg);
	if (r != MAILIMAP_NO_ERROR) {
		if (!is_refusal(r) || ic->dead)
			return fail_conn(ic, r, err, errlen, "login failed");
		oauth_forget(command);
		set_err(err, errlen, "login as %s failed (AUTHENTICATE XOAUTH2): %s", user,
		    server_text(ic, text));
		return str_ieq(server_code(ic), "UNAVAILABLE") ? IMAP_ERR_CONN : IMAP_ERR_CONFIG;
	}
	log_debug("event=imap_login host=%s user=%s method=xoauth2", log_q(ic->host),
	    log_q(user));
	return caps_fetch(ic, err, errlen);
}

/* Log in: LOGIN, or AUTHENTICATE PLAIN when the server disables LOGIN or
 * the credentials are not ASCII (LOGIN sends quoted strings, which are
 * 7-bit). */
static enum imap_status
login(struct imap_conn *ic, const char *user, const char *password, char *err, size_t errlen)
{
	char text[IMAP_TEXT_MAX + 1];
	int plain_ok = mailimap_has_authentication(ic->imap, "PLAIN");
	int use_plain = mailimap_has_extension(ic->imap, "LOGINDISABLED") ||
	    (plain_ok && (has_8bit(user) || has_8bit(password)));
	int ir = mailimap_has_extension(ic->imap, "SASL-IR");
	int r;

	if (use_plain && !plain_ok) {
		set_err(err, errlen, "login impossible: the server disables LOGIN and offers "
		    "no AUTH=PLAIN");
		return IMAP_ERR_CONFIG;
	}
	caps_forget(ic); /* they may change with the login */
	budget(ic, IMAP_RESPONSE_MAX);
	r = use_plain ? auth_plain(ic, user, password, ir) :
	    mailimap_login(ic->imap, user, password);
	if (r != MAILIMAP_NO_ERROR) {
		if (!is_refusal(r) || ic->dead)
			return fail_conn(ic, r, err, errlen, "login failed");
		set_err(err, errlen, "login as %s failed (%s): %s", user,
		    use_plain ? "AUTHENTICATE PLAIN" : "LOGIN", server_text(ic, text));
		/* RFC 5530: [UNAVAILABLE] is the server's trouble, not ours */
		return str_ieq(server_code(ic), "UNAVAILABLE") ? IMAP_ERR_CONN : IMAP_ERR_CONFIG;
	}
	log_debug("event=imap_login host=%s user=%s method=%s", log_q(ic->host), log_q(user),
	    use_plain ? "plain" : "login");
	return caps_fetch(ic, err, errlen);
}

/* STARTTLS: required, never skipped; the capabilities are asked again over
 * TLS. */
static enum imap_status
starttls(struct imap_conn *ic, char *err, size_t errlen)
{
	char text[IMAP_TEXT_MAX + 1];
	enum imap_status st;
	int r;

	st = caps_fetch(ic, err, errlen);
	if (st != IMAP_OK)
		return st;
	if (!mailimap_has_extension(ic->imap, "STARTTLS")) {
		set_err(err, errlen, "%s:%d does not offer STARTTLS; refusing to continue "
		    "without TLS", ic->host, ic->port);
		return IMAP_ERR_CONFIG;
	}
	caps_forget(ic);
	budget(ic, IMAP_RESPONSE_MAX);
	r = mailimap_socket_starttls_with_callback(ic->imap, tls_setup, ic);
	if (ic->imap->imap_stream->read_buffer_len != 0) {
		/* bytes after the OK would be read as if they came over TLS
		 * (CVE-2020-15953; libetpan also refuses, as STARTTLS error) */
		ic->dead = 1;
		set_err(err, errlen, "STARTTLS: %s:%d sent plaintext data after the STARTTLS "
		    "response (injection attempt?)", ic->host, ic->port);
		return IMAP_ERR_CONN;
	}
	if (r == MAILIMAP_ERROR_STARTTLS) {
		set_err(err, errlen, "STARTTLS refused by %s:%d: %s", ic->host, ic->port,
		    server_text(ic, text));
		return IMAP_ERR_CONFIG;
	}
	if (r != MAILIMAP_NO_ERROR) {
		if (ic->why[0] == '\0')
			guard_die(ic, "TLS handshake failed");
		return fail_conn(ic, r, err, errlen, "STARTTLS failed");
	}
	/* libetpan replaced the stream's driver: guard the TLS one */
	guard_wrap(ic, ic->imap->imap_stream);
	st = tls_verify(ic, ic->imap->imap_stream, err, errlen);
	if (st != IMAP_OK)
		return st;
	return caps_fetch(ic, err, errlen);
}

static const char *
tls_name(enum imap_tls t)
{
	return t == IMAP_TLS_IMAPS ? "imaps" : t == IMAP_TLS_STARTTLS ? "starttls" : "none";
}

static void
conn_free(struct imap_conn *ic)
{
	if (ic == NULL)
		return;
	if (ic->imap != NULL) {
		if (ic->dead && ic->imap->imap_stream != NULL) {
			/* no LOGOUT over a broken stream */
			mailstream_close(ic->imap->imap_stream);
			ic->imap->imap_stream = NULL;
		}
		mailimap_free(ic->imap); /* sends LOGOUT on a live stream */
	}
	free(ic->host);
	free(ic->ca_file);
	free(ic->move_to);
	free(ic->move_to_name);
	free(ic);
}

static enum imap_status
check_conf(const struct imap_conf *c, char *err, size_t errlen)
{
	if (c == NULL || c->host == NULL || c->host[0] == '\0') {
		set_err(err, errlen, "IMAP configuration: no host");
		return IMAP_ERR_CONFIG;
	}
	if (c->port < 1 || c->port > 65535) {
		set_err(err, errlen, "IMAP configuration: port %d out of range 1..65535", c->port);
		return IMAP_ERR_CONFIG;
	}
	if (c->tls != IMAP_TLS_IMAPS && c->tls != IMAP_TLS_STARTTLS && c->tls != IMAP_TLS_NONE) {
		set_err(err, errlen, "IMAP configuration: unknown TLS mode %d", (int)c->tls);
		return IMAP_ERR_CONFIG;
	}
	if (c->user == NULL || c->user[0] == '\0' || (c->password == NULL && !c->token_command)) {
		set_err(err, errlen, "IMAP configuration: user and password (or token command) "
		    "are required");
		return IMAP_ERR_CONFIG;
	}
	if (has_ctl(c->host) || has_ctl(c->user) || (c->password && has_ctl(c->password))) {
		set_err(err, errlen, "IMAP configuration: control characters in host, user "
		    "or password");
		return IMAP_ERR_CONFIG;
	}
	if (c->dispose == IMAP_DISPOSE_MOVE && (c->move_to == NULL || c->move_to[0] == '\0')) {
		set_err(err, errlen, "IMAP configuration: dispose MOVE needs a folder");
		return IMAP_ERR_CONFIG;
	}
	return IMAP_OK;
}

enum imap_status
imap_open(const struct imap_conf *c, struct imap_conn **out, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	struct imap_conn *ic;
	enum imap_status st;
	mailstream *stream;
	int fd, r, preauth;

	if (out != NULL)
		*out = NULL;
	st = check_conf(c, err, errlen);
	if (st != IMAP_OK)
		return st;
	if (out == NULL) {
		set_err(err, errlen, "imap_open: no place for the connection");
		return IMAP_ERR_CONFIG;
	}
	if (lazyetpan_load(err, errlen) < 0)
		return IMAP_ERR_CONFIG;
	ic = xcalloc(1, sizeof(*ic));
	ic->host = xstrdup(c->host);
	ic->port = c->port;
	ic->ca_file = xstrdup(c->ca_file);
	ic->tls = c->tls;
	ic->dispose = c->dispose;
	ic->idle_wanted = c->idle;
	ic->timeout = c->timeout > 0 ? c->timeout : IMAP_TIMEOUT_DEFAULT;
	if (c->move_to != NULL && c->move_to[0] != '\0') {
		ic->move_to = mutf7_encode(c->move_to);
		if (ic->move_to == NULL) {
			set_err(err, errlen, "IMAP configuration: folder name is not valid "
			    "UTF-8 or holds control characters");
			conn_free(ic);
			return IMAP_ERR_CONFIG;
		}
		ic->move_to_name = xstrdup(c->move_to);
	}
	ic->imap = mailimap_new(0, NULL);
	if (ic->imap == NULL) {
		fprintf(stderr, "inkflow: out of memory\n");
		abort();
	}
	mailimap_set_timeout(ic->imap, ic->timeout);
	budget(ic, IMAP_RESPONSE_MAX);

	sigpipe_block(&sp);
	fd = tcp_connect(c->host, c->port, ic->timeout, err, errlen);
	if (fd < 0) {
		st = IMAP_ERR_CONN;
		goto fail;
	}
	if (c->tls == IMAP_TLS_IMAPS)
		stream = mailstream_ssl_open_with_callback_timeout(fd, ic->timeout, tls_setup, ic);
	else
		stream = mailstream_socket_open_timeout(fd, ic->timeout);
	if (stream == NULL) {
		close(fd);
		set_err(err, errlen, "%s with %s:%d failed", c->tls == IMAP_TLS_IMAPS ?
		    "TLS handshake" : "stream setup", c->host, c->port);
		st = IMAP_ERR_CONN;
		goto fail;
	}
	guard_wrap(ic, stream);
	if (c->tls == IMAP_TLS_IMAPS) {
		st = tls_verify(ic, stream, err, errlen);
		if (st != IMAP_OK) {
			mailstream_close(stream);
			goto fail;
		}
	}
	r = mailimap_connect(ic->imap, stream); /* the session owns stream now */
	if (r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION) {
		char text[IMAP_TEXT_MAX + 1];
		ic->dead = 1;
		set_err(err, errlen, "%s:%d refused the session: %s", c->host, c->port,
		    server_text(ic, text));
		st = IMAP_ERR_CONN;
		goto fail;
	}
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		st = fail_conn(ic, r, err, errlen, "no IMAP greeting");
		goto fail;
	}
	preauth = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (c->tls == IMAP_TLS_STARTTLS) {
		if (preauth) {
			/* no STARTTLS in the authenticated state (RFC 3501 6.2.1) */
			set_err(err, errlen, "%s:%d sent PREAUTH on a plaintext connection; "
			    "refusing to continue without TLS", c->host, c->port);
			st = IMAP_ERR_CONFIG;
			goto fail;
		}
		st = starttls(ic, err, errlen);
		if (st != IMAP_OK)
			goto fail;
	}
	if (!preauth) {
		st = caps_fetch(ic, err, errlen);
		if (st == IMAP_OK)
			st = c->token_command ? login_oauth2(ic, c->user, c->token_command, err, errlen)
			                      : login(ic, c->user, c->password, err, errlen);
	} else {
		st = caps_fetch(ic, err, errlen);
	}
	if (st != IMAP_OK)
		goto fail;
	log_debug("event=imap_open host=%s port=%d tls=%s idle=%d move=%d uidplus=%d",
	    log_q(c->host), c->port, tls_name(c->tls), mailimap_has_idle(ic->imap),
	    mailimap_has_extension(ic->imap, "MOVE"), mailimap_has_uidplus(ic->imap));
	sigpipe_restore(&sp);
	*out = ic;
	return IMAP_OK;
fail:
	conn_free(ic);
	sigpipe_restore(&sp);
	return st;
}

void
imap_close(struct imap_conn *ic)
{
	struct sigpipe_state sp;

	if (ic == NULL)
		return;
	sigpipe_block(&sp);
	budget(ic, IMAP_RESPONSE_MAX);
	conn_free(ic);
	sigpipe_restore(&sp);
}

/* ------------------------------------------------------------ mailbox */

enum imap_status
imap_select(struct imap_conn *ic, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *uidnext, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	enum imap_status st;
	char *name, what[128];
	int r;

	st = check_ready(ic, 0, err, errlen);
	if (st != IMAP_OK)
		return st;
	if (mailbox == NULL || (name = mutf7_encode(mailbox)) == NULL) {
		set_err(err, errlen, "mailbox name is empty, not UTF-8 or holds control characters");
		return IMAP_ERR_MAILBOX;
	}
	snprintf(what, sizeof(what), "SELECT %s failed", mailbox);
	ic->selected = 0;
	sigpipe_block(&sp);
	budget(ic, IMAP_RESPONSE_MAX);
	r = mailimap_select(ic->imap, name);
	free(name);
	if (r != MAILIMAP_NO_ERROR) {
		st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		goto out;
	}
	struct mailimap_selection_info *si = ic->imap->imap_selection_info;
	if (si == NULL || si->sel_uidvalidity == 0) {
		/* without UIDVALIDITY no UID can be remembered safely */
		set_err(err, errlen, "SELECT %s: the server sent no UIDVALIDITY", mailbox);
		st = IMAP_ERR_MAILBOX;
		goto out;
	}
	if (uidvalidity != NULL)
		*uidvalidity = si->sel_uidvalidity;
	if (uidnext != NULL)
		*uidnext = si->sel_uidnext;
	ic->selected = 1;
	st = IMAP_OK;
out:
	sigpipe_restore(&sp);
	return st;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

enum imap_status
imap_list_new(struct imap_conn *ic, uint32_t after_uid, size_t max, uint32_t **uids,
    size_t *n, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	struct mailimap_search_key *key;
	enum imap_status st;
	clist *result = NULL;
	uint32_t *v = NULL;
	size_t nv = 0, cap = 0;
	int r;

	*uids = NULL;
	*n = 0;
	st = check_ready(ic, 1, err, errlen);
	if (st != IMAP_OK || after_uid == UINT32_MAX || max == 0)
		return st;
	sigpipe_block(&sp);
	/* UID SEARCH UID n+1:* -- when n+1 is above every UID, "*" is the
	 * highest UID present and the range still matches that one message:
	 * the filter below drops it. */
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(after_uid + 1, 0));
	budget(ic, IMAP_RESPONSE_MAX);
	r = mailimap_uid_search(ic->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, "UID SEARCH failed");
		goto out;
	}
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t *u = clist_content(it);
		if (u == NULL || *u <= after_uid)
			continue;
		if (nv == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[nv++] = *u;
	}
	mailimap_search_result_free(result);
	if (nv > 1) {
		/* the server's order is not promised; duplicates are not ours */
		qsort(v, nv, sizeof(*v), cmp_u32);
		size_t k = 1;
		for (size_t i = 1; i < nv; i++)
			if (v[i] != v[k - 1])
				v[k++] = v[i];
		nv = k;
	}
	if (nv > max)
		nv = max;
	if (nv == 0) {
		free(v);
		v = NULL;
	}
	*uids = v;
	*n = nv;
	st = IMAP_OK;
out:
	sigpipe_restore(&sp);
	return st;
}

/* The static attribute of type t in a FETCH response for uid, or NULL. */
static struct mailimap_msg_att_static *
fetch_att(clist *list, uint32_t uid, int type)
{
	for (clistiter *m = clist_begin(list); m != NULL; m = clist_next(m)) {
		struct mailimap_msg_att *ma = clist_content(m);
		struct mailimap_msg_att_static *found = NULL;
		uint32_t got = 0;
		for (clistiter *a = clist_begin(ma->att_list); a != NULL; a = clist_next(a)) {
			struct mailimap_msg_att_item *item = clist_content(a);
			struct mailimap_msg_att_static *s;
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			s = item->att_data.att_static;
			if (s == NULL)
				continue;
			if (s->att_type == MAILIMAP_MSG_ATT_UID)
				got = s->att_data.att_uid;
			else if (s->att_type == type && found == NULL)
				found = s;
		}
		/* unsolicited FETCH responses for other messages are ignored */
		if (got == uid && found != NULL)
			return found;
	}
	return NULL;
}

static int fetch_set(struct imap_conn *ic, const uint32_t *uids, size_t n,
    struct mailimap_fetch_att *att, clist **result, char *desc, size_t desclen);

/* UID FETCH uid (UID <att>); *result is the list of responses. */
static int
fetch_one(struct imap_conn *ic, uint32_t uid, struct mailimap_fetch_att *att, clist **result)
{
	char desc[16];
	return fetch_set(ic, &uid, 1, att, result, desc, sizeof(desc));
}

/* A UID set of uids[0..n), and its text for messages ("7", "7..42 (12)"). */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n, char *desc, size_t desclen)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	for (size_t i = 0; i < n; i++)
		mailimap_set_add_single(set, uids[i]);
	if (n == 1)
		snprintf(desc, desclen, "%u", uids[0]);
	else
		snprintf(desc, desclen, "%u..%u (%zu)", uids[0], uids[n - 1], n);
	return set;
}

/* UID FETCH uids[0..n) (UID <att>); *result is the list of responses,
 * desc the set as text for messages. */
static int
fetch_set(struct imap_conn *ic, const uint32_t *uids, size_t n, struct mailimap_fetch_att *att,
    clist **result, char *desc, size_t desclen)
{
	struct mailimap_set *set = uid_set(uids, n, desc, desclen);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, att);
	*result = NULL;
	int r = mailimap_uid_fetch(ic->imap, set, ft, result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	return r;
}

/* Before fetching uid: a usable connection with a mailbox selected, and a
 * UID that can exist. */
static enum imap_status
fetch_ready(struct imap_conn *ic, uint32_t uid, char *err, size_t errlen)
{
	enum imap_status st = check_ready(ic, 1, err, errlen);
	if (st == IMAP_OK && uid == 0) {
		set_err(err, errlen, "UID 0 does not exist");
		st = IMAP_ERR_MAILBOX;
	}
	return st;
}

enum imap_status
imap_fetch_sized(struct imap_conn *ic, uint32_t uid, size_t size, size_t max_size, char **raw,
    size_t *len, size_t *too_big, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	struct mailimap_msg_att_static *a;
	enum imap_status st;
	clist *result = NULL;
	char what[64];
	int r;

	*raw = NULL;
	*len = 0;
	*too_big = 0;
	st = fetch_ready(ic, uid, err, errlen);
	if (st != IMAP_OK)
		return st;
	sigpipe_block(&sp);

	if (size != IMAP_SIZE_UNKNOWN) {
		if (size > max_size) {
			*too_big = size;
			goto out;
		}
		goto body;
	}
	/* the size first: a message over the limit is never downloaded */
	snprintf(what, sizeof(what), "UID FETCH %u RFC822.SIZE failed", uid);
	budget(ic, IMAP_RESPONSE_MAX);
	r = fetch_one(ic, uid, mailimap_fetch_att_new_rfc822_size(), &result);
	if (r != MAILIMAP_NO_ERROR) {
		st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		goto out;
	}
	a = fetch_att(result, uid, MAILIMAP_MSG_ATT_RFC822_SIZE);
	if (a == NULL) {
		set_err(err, errlen, "UID %u is no longer in the mailbox", uid);
		st = IMAP_ERR_MAILBOX;
		goto out;
	}
	if (a->att_data.att_rfc822_size > max_size) {
		*too_big = a->att_data.att_rfc822_size;
		st = IMAP_OK;
		goto out;
	}
	mailimap_fetch_list_free(result);
	result = NULL;
body:
	/* the server may still send more than it said: the guard holds the
	 * literal to max_size + slack, the check below to max_size */
	snprintf(what, sizeof(what), "UID FETCH %u BODY.PEEK[] failed", uid);
	budget(ic, max_size > SIZE_MAX - IMAP_FETCH_SLACK ? SIZE_MAX : max_size + IMAP_FETCH_SLACK);
	r = fetch_one(ic, uid, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)),
	    &result);
	if (r != MAILIMAP_NO_ERROR) {
		st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		goto out;
	}
	a = fetch_att(result, uid, MAILIMAP_MSG_ATT_BODY_SECTION);
	if (a == NULL || a->att_data.att_body_section == NULL ||
	    a->att_data.att_body_section->sec_body_part == NULL) {
		set_err(err, errlen, "UID %u is no longer in the mailbox", uid);
		st = IMAP_ERR_MAILBOX;
		goto out;
	}
	struct mailimap_msg_att_body_section *bs = a->att_data.att_body_section;
	if (bs->sec_length > max_size) {
		*too_big = bs->sec_length;
		st = IMAP_OK;
		goto out;
	}
	*raw = xmalloc(bs->sec_length + 1);
	memcpy(*raw, bs->sec_body_part, bs->sec_length);
	(*raw)[bs->sec_length] = '\0';
	*len = bs->sec_length;
	st = IMAP_OK;
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	sigpipe_restore(&sp);
	return st;
}

enum imap_status
imap_fetch_many(struct imap_conn *ic, const uint32_t *uids, size_t n, size_t total,
    size_t max_size, char **raws, size_t *lens, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	enum imap_status st;
	clist *result = NULL;
	char what[96], u[64];

	for (size_t i = 0; i < n; i++) {
		raws[i] = NULL;
		lens[i] = 0;
	}
	st = check_ready(ic, 1, err, errlen);
	if (st != IMAP_OK || n == 0)
		return st;
	sigpipe_block(&sp);
	/* The sizes the server gave, with room for servers whose RFC822.SIZE
	 * is not the exact size of BODY[] (a converted store), and slack. */
	budget(ic, 2 * total + IMAP_FETCH_SLACK);
	int r = fetch_set(ic, uids, n,
	    mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)), &result, u,
	    sizeof(u));
	snprintf(what, sizeof(what), "UID FETCH %s BODY.PEEK[] failed", u);
	if (r != MAILIMAP_NO_ERROR) {
		st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct mailimap_msg_att_static *a =
		    fetch_att(result, uids[i], MAILIMAP_MSG_ATT_BODY_SECTION);
		if (a == NULL || a->att_data.att_body_section == NULL ||
		    a->att_data.att_body_section->sec_body_part == NULL)
			continue; /* gone meanwhile: the caller asks for it alone */
		struct mailimap_msg_att_body_section *bs = a->att_data.att_body_section;
		if (bs->sec_length > max_size)
			continue; /* larger than it said: likewise */
		raws[i] = xmalloc(bs->sec_length + 1);
		memcpy(raws[i], bs->sec_body_part, bs->sec_length);
		raws[i][bs->sec_length] = '\0';
		lens[i] = bs->sec_length;
	}
	st = IMAP_OK;
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	sigpipe_restore(&sp);
	return st;
}

enum imap_status
imap_fetch_file(struct imap_conn *ic, uint32_t uid, size_t max_size, int fd, size_t *len,
    size_t *too_big, int *wr_errno, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	enum imap_status st;
	char what[80];

	*len = 0;
	*too_big = 0;
	*wr_errno = 0;
	st = fetch_ready(ic, uid, err, errlen);
	if (st != IMAP_OK)
		return st;
	sigpipe_block(&sp);
	for (;;) {
		clist *result = NULL;
		snprintf(what, sizeof(what), "UID FETCH %u BODY.PEEK[]<%zu.%zu> failed", uid, *len,
		    IMAP_PART);
		budget(ic, IMAP_PART + IMAP_FETCH_SLACK);
		int r = fetch_one(ic, uid,
		    mailimap_fetch_att_new_body_peek_section_partial(mailimap_section_new(NULL),
		        (uint32_t)*len, (uint32_t)IMAP_PART),
		    &result);
		if (r != MAILIMAP_NO_ERROR) {
			st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
			break;
		}
		struct mailimap_msg_att_static *a = fetch_att(result, uid,
		    MAILIMAP_MSG_ATT_BODY_SECTION);
		if (a == NULL || a->att_data.att_body_section == NULL) {
			mailimap_fetch_list_free(result);
			set_err(err, errlen, "UID %u is no longer in the mailbox", uid);
			st = IMAP_ERR_MAILBOX;
			break;
		}
		struct mailimap_msg_att_body_section *bs = a->att_data.att_body_section;
		size_t k = bs->sec_body_part ? bs->sec_length : 0;
		if (k > IMAP_PART) { /* more than asked for: not a partial answer */
			mailimap_fetch_list_free(result);
			set_err(err, errlen, "UID %u: %zu bytes for a part of %zu", uid, k, IMAP_PART);
			st = IMAP_ERR_CONN;
			break;
		}
		if (*len + k > max_size) {
			mailimap_fetch_list_free(result);
			*too_big = *len + k;
			st = IMAP_OK;
			break;
		}
		if (k && write_full(fd, bs->sec_body_part, k) < 0) {
			*wr_errno = errno;
			mailimap_fetch_list_free(result);
			st = IMAP_OK;
			break;
		}
		mailimap_fetch_list_free(result);
		*len += k;
		if (k < IMAP_PART) { /* the end */
			st = IMAP_OK;
			break;
		}
	}
	sigpipe_restore(&sp);
	return st;
}

enum imap_status
imap_fetch(struct imap_conn *ic, uint32_t uid, size_t max_size, char **raw, size_t *len,
    size_t *too_big, char *err, size_t errlen)
{
	return imap_fetch_sized(ic, uid, IMAP_SIZE_UNKNOWN, max_size, raw, len, too_big, err,
	    errlen);
}

enum imap_status
imap_sizes(struct imap_conn *ic, const uint32_t *uids, size_t n, size_t *sizes, char *err,
    size_t errlen)
{
	struct sigpipe_state sp;
	enum imap_status st;
	clist *result = NULL;
	char what[96], u[64];
	int r;

	for (size_t i = 0; i < n; i++)
		sizes[i] = IMAP_SIZE_GONE;
	st = check_ready(ic, 1, err, errlen);
	if (st != IMAP_OK || n == 0)
		return st;
	sigpipe_block(&sp);
	budget(ic, IMAP_RESPONSE_MAX);
	r = fetch_set(ic, uids, n, mailimap_fetch_att_new_rfc822_size(), &result, u, sizeof(u));
	snprintf(what, sizeof(what), "UID FETCH %s RFC822.SIZE failed", u);
	if (r != MAILIMAP_NO_ERROR) {
		st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct mailimap_msg_att_static *a =
		    fetch_att(result, uids[i], MAILIMAP_MSG_ATT_RFC822_SIZE);
		if (a != NULL)
			sizes[i] = a->att_data.att_rfc822_size;
	}
	st = IMAP_OK;
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	sigpipe_restore(&sp);
	return st;
}

/* UID STORE set +FLAGS.SILENT (flag). */
static int
store_flag(struct imap_conn *ic, const struct mailimap_set *set, struct mailimap_flag *flag)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	int r;

	mailimap_flag_list_add(fl, flag);
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	budget(ic, IMAP_RESPONSE_MAX);
	r = mailimap_uid_store(ic->imap, (struct mailimap_set *)set, sa);
	mailimap_store_att_flags_free(sa);
	return r;
}

/* A refused COPY/MOVE with [TRYCREATE]: the folder is missing, which the
 * operator must fix. */
static enum imap_status
fail_move(struct imap_conn *ic, int r, char *err, size_t errlen, const char *what)
{
	struct mailimap_response_info *ri = ic->imap->imap_response_info;
	char text[IMAP_TEXT_MAX + 1];

	if (is_refusal(r) && !ic->dead && ri != NULL && ri->rsp_trycreate) {
		set_err(err, errlen, "%s: folder %s does not exist: %s", what,
		    ic->move_to_name, server_text(ic, text));
		return IMAP_ERR_CONFIG;
	}
	return fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
}

enum imap_status
imap_dispose_many(struct imap_conn *ic, const uint32_t *uids, size_t n, char *err,
    size_t errlen)
{
	struct sigpipe_state sp;
	struct mailimap_set *set;
	enum imap_status st;
	char what[160], u[64];
	int r;

	st = check_ready(ic, 1, err, errlen);
	if (st != IMAP_OK)
		return st;
	if (n == 0)
		return IMAP_OK;
	for (size_t i = 0; i < n; i++)
		if (uids[i] == 0) {
			set_err(err, errlen, "UID 0 does not exist");
			return IMAP_ERR_MAILBOX;
		}
	set = uid_set(uids, n, u, sizeof(u));
	sigpipe_block(&sp);
	switch (ic->dispose) {
	case IMAP_DISPOSE_SEEN:
		snprintf(what, sizeof(what), "UID STORE %s +FLAGS (\\Seen) failed", u);
		r = store_flag(ic, set, mailimap_flag_new_seen());
		st = r == MAILIMAP_NO_ERROR ? IMAP_OK :
		    fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		break;
	case IMAP_DISPOSE_MOVE:
		if (ic->move_to == NULL) {
			set_err(err, errlen, "dispose MOVE without a folder");
			st = IMAP_ERR_CONFIG;
			break;
		}
		budget(ic, IMAP_RESPONSE_MAX);
		if (mailimap_has_extension(ic->imap, "MOVE")) {
			snprintf(what, sizeof(what), "UID MOVE %s failed", u);
			r = mailimap_uid_move(ic->imap, set, ic->move_to);
		} else {
			snprintf(what, sizeof(what), "UID COPY %s failed", u);
			r = mailimap_uid_copy(ic->imap, set, ic->move_to);
		}
		if (r != MAILIMAP_NO_ERROR) {
			st = fail_move(ic, r, err, errlen, what);
			break;
		}
		if (mailimap_has_extension(ic->imap, "MOVE")) {
			st = IMAP_OK;
			break;
		}
		/* the copy exists: remove the original */
		/* FALLTHROUGH */
	case IMAP_DISPOSE_DELETE:
		snprintf(what, sizeof(what), "UID STORE %s +FLAGS (\\Deleted) failed", u);
		r = store_flag(ic, set, mailimap_flag_new_deleted());
		if (r != MAILIMAP_NO_ERROR) {
			st = fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
			break;
		}
		if (!mailimap_has_uidplus(ic->imap)) {
			/* a plain EXPUNGE would also remove what others marked
			 * \Deleted: leave the message flagged instead */
			log_warn("event=imap_no_uidplus host=%s uid=%s action=flagged_deleted_not_expunged",
			    log_q(ic->host), log_q(u));
			st = IMAP_OK;
			break;
		}
		snprintf(what, sizeof(what), "UID EXPUNGE %s failed", u);
		budget(ic, IMAP_RESPONSE_MAX);
		r = mailimap_uid_expunge(ic->imap, set);
		st = r == MAILIMAP_NO_ERROR ? IMAP_OK :
		    fail_cmd(ic, r, IMAP_ERR_MAILBOX, err, errlen, what);
		break;
	default:
		set_err(err, errlen, "unknown disposition %d", (int)ic->dispose);
		st = IMAP_ERR_CONFIG;
		break;
	}
	mailimap_set_free(set);
	sigpipe_restore(&sp);
	return st;
}

enum imap_status
imap_dispose(struct imap_conn *ic, uint32_t uid, char *err, size_t errlen)
{
	return imap_dispose_many(ic, &uid, 1, err, errlen);
}

/* --------------------------------------------------------------- IDLE */

int
imap_has_idle(struct imap_conn *ic)
{
	return ic != NULL && !ic->dead && ic->idle_wanted && !ic->idle_refused &&
	    mailimap_has_idle(ic->imap);
}

/* After IDLE ... DONE: did the server report anything but status lines?
 * New mail (EXISTS, RECENT), removals (EXPUNGE) and flag changes (FETCH)
 * count; a bare "* OK ..." keepalive does not. */
static int
idle_saw_change(const struct imap_conn *ic)
{
	const struct mailimap_selection_info *si = ic->imap->imap_selection_info;
	const struct mailimap_response_info *ri = ic->imap->imap_response_info;

	if (si != NULL && (si->sel_has_exists || si->sel_has_recent))
		return 1;
	if (ri == NULL)
		return 1; /* libetpan could not record what came: assume a change */
	return (ri->rsp_expunged != NULL && !clist_isempty(ri->rsp_expunged)) ||
	    (ri->rsp_fetch_list != NULL && !clist_isempty(ri->rsp_fetch_list));
}

enum imap_status
imap_wait(struct imap_conn *ic, int timeout, volatile int *stop, char *err, size_t errlen)
{
	struct sigpipe_state sp;
	enum imap_status st;
	int64_t deadline;
	int r, fd;

	st = check_ready(ic, 1, err, errlen);
	if (st != IMAP_OK || !imap_has_idle(ic) || timeout <= 0 || (stop != NULL && *stop))
		return st;
	if (timeout > IMAP_IDLE_MAX)
		timeout = IMAP_IDLE_MAX;
	sigpipe_block(&sp);
	deadline = mono_ms() + (int64_t)timeout * 1000;
	/* A server's keepalive ("* OK Still here", which Dovecot sends at a
	 * per-user moment anywhere in its interval) wakes the poll but changes
	 * nothing: end that IDLE and go on waiting for the rest of the time. */
	for (;;) {
		int changed = 0;

		budget(ic, IMAP_RESPONSE_MAX);
		r = mailimap_idle(ic->imap); /* clears sel_has_exists/_recent */
		if (r != MAILIMAP_NO_ERROR) {
			if (!ic->dead && (r == MAILIMAP_ERROR_PARSE || r == MAILIMAP_ERROR_PROTOCOL) &&
			    ic->imap->imap_response != NULL) {
				/* a tagged NO or BAD: no IDLE here, the caller polls */
				char text[IMAP_TEXT_MAX + 1];
				ic->idle_refused = 1;
				log_warn("event=imap_idle_refused host=%s text=%s", log_q(ic->host),
				    log_q(server_text(ic, text)));
				st = IMAP_OK;
			} else {
				st = fail_conn(ic, r, err, errlen, "IDLE failed");
			}
			goto out;
		}
		fd = mailimap_idle_get_fd(ic->imap);
		for (;;) {
			int64_t left = deadline - mono_ms();
			if (left <= 0 || (stop != NULL && *stop))
				break;
			if (ic->imap->imap_stream->read_buffer_len > 0) {
				changed = 1; /* arrived together with "+ idling" */
				break;
			}
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
			if (pr > 0) {
				changed = 1; /* any data: EXISTS, EXPUNGE, BYE, keepalive */
				break;
			}
			if (pr < 0 && errno != EINTR) {
				guard_die(ic, "poll: %s", strerror(errno));
				st = fail_conn(ic, MAILIMAP_ERROR_STREAM, err, errlen, "IDLE failed");
				goto out;
			}
		}
		budget(ic, IMAP_RESPONSE_MAX);
		r = mailimap_idle_done(ic->imap);
		if (r != MAILIMAP_NO_ERROR) {
			st = fail_conn(ic, r, err, errlen, "IDLE failed");
			goto out;
		}
		if (changed && !idle_saw_change(ic)) {
			log_debug("event=imap_idle_keepalive host=%s", log_q(ic->host));
			if (deadline - mono_ms() > 0 && (stop == NULL || !*stop))
				continue;
			changed = 0;
		}
		log_debug("event=imap_idle host=%s changed=%d exists=%d", log_q(ic->host), changed,
		    (int)ic->imap->imap_selection_info->sel_has_exists);
		st = IMAP_OK;
		break;
	}
out:
	sigpipe_restore(&sp);
	return st;
}
