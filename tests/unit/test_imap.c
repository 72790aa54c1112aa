/*
 * Unit tests for imap.c.
 *
 * Two kinds of server:
 * - a real Dovecot from the mail lab (tests/lab/maillab), found through
 *   INKFLOW_LAB_ENV = path of the lab's lab.env; these tests skip when it is
 *   unset (tests/with-lab starts a lab and sets it);
 * - a scripted fake server forked by the test (fake_*) for what Dovecot
 *   will not do: LOGINDISABLED, a missing STARTTLS, lies about sizes,
 *   literal bombs, connections dropped mid-literal, servers without MOVE or
 *   UIDPLUS.  It checks each command the client sends, exactly.
 *
 * Everything connects to 127.0.0.1 only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "util.h"

#define ERRLEN 512

/* LeakSanitizer: libetpan 1.9.4 leaks the parsed greeting when it is a BYE
 * (parse_greeting returns MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION without
 * freeing it; test_fake_greeting_bye meets it).  Suppressed here rather than
 * in a file so that every runner of this binary (make SAN=1 unit,
 * tests/with-lab) gets it without LSAN_OPTIONS. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:mailimap_greeting_new\n";
}

/* ---------------------------------------------------------- utilities */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
assert_one_line(const char *s)
{
	for (; *s != '\0'; s++)
		assert_true((unsigned char)*s >= 0x20 && *s != 0x7f);
}

/* A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	return ntohs(sa.sin_port);
}

/* ------------------------------------------------------- fake server */

struct step {
	const char *expect; /* the command line after the tag, exactly; NULL:
	                       greeting (first step only) */
	const char *reply;  /* "%T" becomes the command's tag */
	size_t fill;        /* then this many 'x' bytes */
	int raw;            /* the line has no tag (a SASL response) */
	int close;          /* close the connection after the reply */
};

#define STEP(e, r) {.expect = (e), .reply = (r)}
#define STEP_FILL(e, r, n) {.expect = (e), .reply = (r), .fill = (n)}
#define STEP_RAW(e, r) {.expect = (e), .reply = (r), .raw = 1}
#define STEP_CLOSE(e, r, n) {.expect = (e), .reply = (r), .fill = (n), .close = 1}
#define END {.expect = NULL, .reply = NULL}

static void
fake_send(int fd, const char *reply, const char *tag, size_t fill)
{
	struct sbuf sb = {0};
	char chunk[65536];

	for (const char *p = reply; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'T') {
			sb_adds(&sb, tag);
			p++;
		} else {
			sb_addc(&sb, *p);
		}
	}
	if (sb.len > 0 && write(fd, sb.s, sb.len) < 0) {
		sb_free(&sb);
		return; /* the client may have hung up: not a test failure */
	}
	sb_free(&sb);
	memset(chunk, 'x', sizeof(chunk));
	while (fill > 0) {
		size_t n = fill < sizeof(chunk) ? fill : sizeof(chunk);
		ssize_t w = write(fd, chunk, n);
		if (w <= 0)
			return;
		fill -= (size_t)w;
	}
}

/* One line from the client without CRLF; -1 at EOF. */
static int
fake_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

static void __attribute__((noreturn))
fake_child(int ls, const struct step *steps)
{
	char line[8192], tag[64] = "*";
	int fd;

	signal(SIGPIPE, SIG_IGN);
	alarm(20);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		_exit(3);
	close(ls);
	for (const struct step *st = steps; st->expect != NULL || st->reply != NULL; st++) {
		if (st->expect != NULL) {
			if (fake_line(fd, line, sizeof(line)) < 0) {
				fprintf(stderr, "fake: EOF, expected '%s'\n", st->expect);
				_exit(2);
			}
			const char *cmd = line;
			if (!st->raw) {
				const char *sp = strchr(line, ' ');
				if (sp == NULL || (size_t)(sp - line) >= sizeof(tag)) {
					fprintf(stderr, "fake: no tag in '%s'\n", line);
					_exit(2);
				}
				memcpy(tag, line, (size_t)(sp - line));
				tag[sp - line] = '\0';
				cmd = sp + 1;
			}
			if (strcmp(cmd, st->expect) != 0) {
				fprintf(stderr, "fake: got '%s', expected '%s'\n", cmd, st->expect);
				_exit(2);
			}
		}
		if (st->reply != NULL)
			fake_send(fd, st->reply, tag, st->fill);
		if (st->close) {
			close(fd);
			_exit(0);
		}
	}
	/* after the script: LOGOUT only, then the end */
	while (fake_line(fd, line, sizeof(line)) == 0) {
		const char *sp = strchr(line, ' ');
		if (sp != NULL && strcmp(sp + 1, "LOGOUT") == 0) {
			*strchr(line, ' ') = '\0';
			fake_send(fd, "* BYE bye\r\n%T OK done\r\n", line, 0);
			continue;
		}
		fprintf(stderr, "fake: unexpected '%s'\n", line);
		_exit(2);
	}
	_exit(0);
}

/* Start a fake server on 127.0.0.1 for one connection; *port is its port. */
static pid_t
fake_start(const struct step *steps, int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fake_child(ls, steps);
	close(ls);
	return pid;
}

/* The fake server's exit status: 0 when every command was as expected. */
static int
fake_wait(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static struct imap_conf
fake_conf(int port)
{
	static char *boxes[] = {"INBOX"};
	struct imap_conf c = {
		.host = "127.0.0.1", .port = port, .tls = IMAP_TLS_NONE,
		.user = "user", .password = "pass", .mailboxes = boxes, .nmailboxes = 1,
		.dispose = IMAP_DISPOSE_SEEN, .idle = 1, .timeout = 10,
	};
	return c;
}

#define GREETING "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n"
/* caps: "" or " EXT1 EXT2" */
#define LOGGED_IN(caps) STEP("LOGIN user pass", "%T OK [CAPABILITY IMAP4rev1" caps "] in\r\n")
#define SELECTED STEP("SELECT INBOX", "* 5 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n" \
	"* OK [UIDNEXT 20] n\r\n%T OK [READ-WRITE] selected\r\n")

/* Open a session to the fake server that has logged in and selected. */
static struct imap_conn *
fake_open_selected(struct imap_conf *c)
{
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";
	uint32_t v = 0, n = 0;

	assert_int_equal(imap_open(c, &ic, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_select(ic, "INBOX", &v, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(v, 7);
	assert_int_equal(n, 20);
	return ic;
}

/* ------------------------------------------------ fake server tests */

static void
test_fake_auth_plain_sasl_ir(void **state)
{
	(void)state;
	/* base64("\0user\0pass") */
	const struct step steps[] = {
		STEP(NULL, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN SASL-IR] hi\r\n"),
		STEP("AUTHENTICATE PLAIN AHVzZXIAcGFzcw==",
		    "%T OK [CAPABILITY IMAP4rev1 IDLE MOVE] logged in\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_has_idle(ic), 1); /* capabilities of the OK */
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_auth_plain_continuation(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN] hi\r\n"),
		STEP("AUTHENTICATE PLAIN", "+ \r\n"),
		STEP_RAW("AHVzZXIAcGFzcw==", "%T OK logged in\r\n"),
		STEP("CAPABILITY", "* CAPABILITY IMAP4rev1 UIDPLUS\r\n%T OK done\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_has_idle(ic), 0);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_auth_plain_refused(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN SASL-IR] hi\r\n"),
		STEP("AUTHENTICATE PLAIN AHVzZXIAcGFzcw==",
		    "%T NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_null(ic);
	assert_non_null(strstr(err, "Authentication failed"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_logindisabled_without_plain(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=GSSAPI] hi\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "AUTH=PLAIN"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_no_starttls(void **state)
{
	(void)state;
	/* nothing but LOGOUT may follow: no LOGIN in the clear */
	const struct step steps[] = {STEP(NULL, GREETING), END};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	c.tls = IMAP_TLS_STARTTLS;
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "STARTTLS"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_starttls_refused(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"),
		STEP("STARTTLS", "%T NO not today\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	c.tls = IMAP_TLS_STARTTLS;
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "not today"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_starttls_injection(void **state)
{
	(void)state;
	/* data after the OK would be read as if it came over TLS */
	const struct step steps[] = {
		STEP(NULL, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"),
		STEP("STARTTLS", "%T OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] evil\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	c.tls = IMAP_TLS_STARTTLS;
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONN);
	assert_non_null(strstr(err, "injection"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_preauth_plaintext(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	c.tls = IMAP_TLS_STARTTLS;
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "PREAUTH"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_login_unavailable(void **state)
{
	(void)state;
	/* [UNAVAILABLE] is the server's trouble: retry later; hostile bytes
	 * in the text never reach err */
	const struct step steps[] = {
		STEP(NULL, GREETING),
		STEP("LOGIN user pass", "%T NO [UNAVAILABLE] Temporary \x1b[31mfailure\x7f\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONN);
	assert_non_null(strstr(err, "Temporary"));
	assert_one_line(err);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_quoted_credentials(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING),
		STEP("LOGIN \"us er\" \"p\\\"a\\\\ss\"", "%T OK [CAPABILITY IMAP4rev1] in\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	c.user = "us er";
	c.password = "p\"a\\ss";
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_OK);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_crlf_in_password(void **state)
{
	(void)state;
	struct imap_conf c = fake_conf(closed_port());
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	/* would end the LOGIN command and inject another one */
	c.password = "x\r\na DELETE INBOX";
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_null(ic);
}

static void
test_fake_greeting_bye(void **state)
{
	(void)state;
	const struct step steps[] = {STEP_CLOSE(NULL, "* BYE Too many connections\r\n", 0), END};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONN);
	assert_non_null(strstr(err, "Too many connections"));
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_search_trap_and_order(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""), SELECTED,
		/* n+1:* with n+1 above every UID matches the last message */
		STEP("UID SEARCH UID 10:*", "* SEARCH 9\r\n%T OK done\r\n"),
		/* unordered, duplicated, and one below the range */
		STEP("UID SEARCH UID 10:*", "* SEARCH 12 3 11 12 10\r\n%T OK done\r\n"),
		STEP("UID SEARCH UID 10:*", "* SEARCH 12 3 11 12 10\r\n%T OK done\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = fake_open_selected(&c);
	char err[ERRLEN] = "";
	uint32_t *u = NULL;
	size_t n = 99;

	assert_int_equal(imap_list_new(ic, 9, 100, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 0);
	assert_null(u);
	assert_int_equal(imap_list_new(ic, 9, 100, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 3);
	assert_int_equal(u[0], 10);
	assert_int_equal(u[1], 11);
	assert_int_equal(u[2], 12);
	free(u);
	assert_int_equal(imap_list_new(ic, 9, 2, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 2);
	assert_int_equal(u[0], 10);
	assert_int_equal(u[1], 11);
	free(u);
	/* nothing can be above the largest UID: no command at all */
	assert_int_equal(imap_list_new(ic, UINT32_MAX, 10, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 0);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_literal_bomb(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""), SELECTED,
		STEP("UID FETCH 4 (UID RFC822.SIZE)", "* 1 FETCH (UID 4 RFC822.SIZE 100)\r\n%T OK done\r\n"),
		STEP_FILL("UID FETCH 4 (UID BODY.PEEK[])", "* 1 FETCH (UID 4 BODY[] {4000000000}\r\n", 4096),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = fake_open_selected(&c);
	char err[ERRLEN] = "", *raw = NULL;
	size_t len = 0, big = 0;
	double t0 = now_s();

	assert_int_equal(imap_fetch(ic, 4, 1000, &raw, &len, &big, err, sizeof(err)),
	    IMAP_ERR_CONN);
	assert_true(now_s() - t0 < 5);
	assert_null(raw);
	assert_non_null(strstr(err, "literal of 4000000000 bytes"));
	/* the connection is dead from now on */
	assert_int_equal(imap_dispose(ic, 4, err, sizeof(err)), IMAP_ERR_CONN);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_size_lie(void **state)
{
	(void)state;
	/* RFC822.SIZE says 10, the body is 2000: reported as too big, and the
	 * session stays usable */
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""), SELECTED,
		STEP("UID FETCH 4 (UID RFC822.SIZE)", "* 1 FETCH (UID 4 RFC822.SIZE 10)\r\n%T OK done\r\n"),
		STEP_FILL("UID FETCH 4 (UID BODY.PEEK[])", "* 1 FETCH (UID 4 BODY[] {2000}\r\n", 2000),
		STEP(NULL, ")\r\n%T OK done\r\n"),
		STEP("UID FETCH 5 (UID RFC822.SIZE)",
		    "* 9 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (UID 5 RFC822.SIZE 3)\r\n%T OK done\r\n"),
		STEP("UID FETCH 5 (UID BODY.PEEK[])", "* 2 FETCH (UID 5 BODY[] {3}\r\nabc)\r\n%T OK done\r\n"),
		STEP("UID FETCH 6 (UID RFC822.SIZE)", "%T OK nothing\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = fake_open_selected(&c);
	char err[ERRLEN] = "", *raw = NULL;
	size_t len = 0, big = 0;

	assert_int_equal(imap_fetch(ic, 4, 1000, &raw, &len, &big, err, sizeof(err)), IMAP_OK);
	assert_null(raw);
	assert_int_equal(big, 2000);
	assert_int_equal(imap_fetch(ic, 5, 1000, &raw, &len, &big, err, sizeof(err)), IMAP_OK);
	assert_int_equal(big, 0);
	assert_int_equal(len, 3);
	assert_memory_equal(raw, "abc", 3);
	free(raw);
	/* a UID that vanished: the mailbox changed under us */
	assert_int_equal(imap_fetch(ic, 6, 1000, &raw, &len, &big, err, sizeof(err)),
	    IMAP_ERR_MAILBOX);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_eof_mid_literal(void **state)
{
	(void)state;
	/* libetpan's plaintext reader spins on EOF inside a literal: the
	 * guard turns it into an error */
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""), SELECTED,
		STEP("UID FETCH 4 (UID RFC822.SIZE)", "* 1 FETCH (UID 4 RFC822.SIZE 100)\r\n%T OK done\r\n"),
		STEP_CLOSE("UID FETCH 4 (UID BODY.PEEK[])", "* 1 FETCH (UID 4 BODY[] {100}\r\n", 10),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = fake_open_selected(&c);
	char err[ERRLEN] = "", *raw = NULL;
	size_t len = 0, big = 0;
	double t0 = now_s();

	alarm(30); /* a hang would otherwise hang the suite */
	assert_int_equal(imap_fetch(ic, 4, 1000, &raw, &len, &big, err, sizeof(err)),
	    IMAP_ERR_CONN);
	alarm(0);
	assert_true(now_s() - t0 < 5);
	assert_non_null(strstr(err, "closed by the server"));
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_endless_line(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""),
		STEP_FILL("SELECT INBOX", "* OK ", (size_t)17 << 20),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";
	uint32_t v, n;

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_select(ic, "INBOX", &v, &n, err, sizeof(err)), IMAP_ERR_CONN);
	assert_non_null(strstr(err, "larger than"));
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_select_no_uidvalidity(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""),
		STEP("SELECT \"R&-D\"", "* 0 EXISTS\r\n%T OK [READ-WRITE] selected\r\n"),
		STEP("SELECT \"&ZeVnLIqe-\"", "%T NO [NONEXISTENT] Unknown mailbox\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";
	uint32_t v, n;

	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_OK);
	/* "&" is sent as "&-" (modified UTF-7) */
	assert_int_equal(imap_select(ic, "R&D", &v, &n, err, sizeof(err)), IMAP_ERR_MAILBOX);
	assert_non_null(strstr(err, "UIDVALIDITY"));
	/* RFC 3501's own example: 日本語 is &ZeVnLIqe- */
	assert_int_equal(imap_select(ic, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", &v, &n, err,
	    sizeof(err)), IMAP_ERR_MAILBOX);
	assert_non_null(strstr(err, "Unknown mailbox"));
	assert_int_equal(imap_list_new(ic, 0, 10, &(uint32_t *){NULL}, &(size_t){0}, err,
	    sizeof(err)), IMAP_ERR_MAILBOX); /* nothing selected */
	assert_int_equal(imap_select(ic, "bad\r\nname", &v, &n, err, sizeof(err)),
	    IMAP_ERR_MAILBOX);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_move_fallback_uidplus(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(" UIDPLUS"), SELECTED,
		STEP("UID COPY 4 \"Zam&APM-wienia\"", "%T OK [COPYUID 7 4 1] copied\r\n"),
		STEP("UID STORE 4 +FLAGS.SILENT (\\Deleted)", "%T OK stored\r\n"),
		STEP("UID EXPUNGE 4", "* 1 EXPUNGE\r\n%T OK expunged\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic;
	char err[ERRLEN] = "";

	c.dispose = IMAP_DISPOSE_MOVE;
	c.move_to = "Zam\xc3\xb3wienia";
	ic = fake_open_selected(&c);
	assert_int_equal(imap_dispose(ic, 4, err, sizeof(err)), IMAP_OK);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_move_fallback_no_uidplus(void **state)
{
	(void)state;
	/* without UID EXPUNGE a plain EXPUNGE would remove others' \Deleted
	 * messages: the original stays, flagged */
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(""), SELECTED,
		STEP("UID COPY 4 Processed", "%T OK copied\r\n"),
		STEP("UID STORE 4 +FLAGS.SILENT (\\Deleted)", "%T OK stored\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic;
	char err[ERRLEN] = "";

	c.dispose = IMAP_DISPOSE_MOVE;
	c.move_to = "Processed";
	ic = fake_open_selected(&c);
	assert_int_equal(imap_dispose(ic, 4, err, sizeof(err)), IMAP_OK);
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_move_trycreate(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(" MOVE UIDPLUS"), SELECTED,
		STEP("UID MOVE 4 Processed", "%T NO [TRYCREATE] Mailbox doesn't exist: Processed\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic;
	char err[ERRLEN] = "";

	c.dispose = IMAP_DISPOSE_MOVE;
	c.move_to = "Processed";
	ic = fake_open_selected(&c);
	assert_int_equal(imap_dispose(ic, 4, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "Processed does not exist"));
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);

	/* a refusal that is not about the folder concerns the mailbox */
	const struct step steps2[] = {
		STEP(NULL, GREETING), LOGGED_IN(" MOVE UIDPLUS"), SELECTED,
		STEP("UID STORE 5 +FLAGS.SILENT (\\Deleted)", "%T NO [CANNOT] read-only\r\n"),
		END,
	};
	pid = fake_start(steps2, &port);
	c = fake_conf(port);
	c.dispose = IMAP_DISPOSE_DELETE;
	ic = fake_open_selected(&c);
	assert_int_equal(imap_dispose(ic, 5, err, sizeof(err)), IMAP_ERR_MAILBOX);
	assert_non_null(strstr(err, "read-only"));
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

static void
test_fake_idle_refused(void **state)
{
	(void)state;
	const struct step steps[] = {
		STEP(NULL, GREETING), LOGGED_IN(" IDLE"), SELECTED,
		STEP("IDLE", "%T NO not now\r\n"),
		END,
	};
	int port;
	pid_t pid = fake_start(steps, &port);
	struct imap_conf c = fake_conf(port);
	struct imap_conn *ic = fake_open_selected(&c);
	char err[ERRLEN] = "";
	double t0 = now_s();

	assert_int_equal(imap_has_idle(ic), 1);
	assert_int_equal(imap_wait(ic, 10, NULL, err, sizeof(err)), IMAP_OK);
	assert_true(now_s() - t0 < 3);
	assert_int_equal(imap_has_idle(ic), 0); /* the caller polls from now on */
	imap_close(ic);
	assert_int_equal(fake_wait(pid), 0);
}

/* ---------------------------------------------------------------- lab */

struct lab {
	char *vars[64]; /* "KEY=value" */
	size_t n;
};

static struct lab lab;

static const char *
lab_get(const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < lab.n; i++)
		if (strncmp(lab.vars[i], key, kl) == 0 && lab.vars[i][kl] == '=')
			return lab.vars[i] + kl + 1;
	return NULL;
}

/* Reads INKFLOW_LAB_ENV (KEY='value' lines); 0 when there is no lab. */
static int
lab_load(void)
{
	const char *path = getenv("INKFLOW_LAB_ENV");
	char line[1024];
	FILE *f;

	if (lab.n > 0)
		return 1;
	if (path == NULL || *path == '\0')
		return 0;
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "test_imap: cannot read INKFLOW_LAB_ENV=%s: %s\n", path,
		    strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL && lab.n < ARRAY_LEN(lab.vars)) {
		char *eq = strstr(line, "='"), *end = strrchr(line, '\'');
		if (line[0] == '#' || eq == NULL || end == NULL || end <= eq + 1)
			continue;
		*end = '\0';
		memmove(eq + 1, eq + 2, strlen(eq + 2) + 1);
		lab.vars[lab.n++] = xstrdup(line);
	}
	fclose(f);
	return lab.n > 0;
}

static int
lab_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < lab.n; i++)
		free(lab.vars[i]);
	lab.n = 0;
	return 0;
}

#define NEED_LAB() do { \
	if (!lab_load()) { \
		print_message("[  SKIP    ] no mail lab: set INKFLOW_LAB_ENV to a lab.env " \
		    "(tests/with-lab does)\n"); \
		skip(); \
	} \
} while (0)

static struct imap_conf
lab_conf(enum imap_tls tls, const char *user)
{
	static char *boxes[] = {"INBOX"};
	struct imap_conf c = {
		.host = (char *)lab_get("LAB_HOST"),
		.port = atoi(lab_get(tls == IMAP_TLS_IMAPS ? "LAB_IMAPS_PORT" : "LAB_IMAP_PORT")),
		.tls = tls, .user = (char *)user, .password = "secret",
		.ca_file = (char *)lab_get("LAB_CA_FILE"),
		.mailboxes = boxes, .nmailboxes = 1, .dispose = IMAP_DISPOSE_SEEN,
		.idle = 1, .timeout = 10,
	};
	return c;
}

static struct imap_conn *
lab_open(const struct imap_conf *c)
{
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";
	enum imap_status st = imap_open(c, &ic, err, sizeof(err));

	if (st != IMAP_OK)
		fail_msg("imap_open: %d %s", st, err);
	return ic;
}

static char *
maildir_of(const char *user, const char *folder)
{
	char *base = xasprintf("%s/%s/Maildir", lab_get("LAB_MAIL_DIR"), user);
	char *p;

	if (folder == NULL)
		return base;
	p = xasprintf("%s/.%s", base, folder);
	free(base);
	return p;
}

/* Owner of the Maildir (the mail user): Dovecot must be able to read and
 * rename what we put there as root. */
static void
chown_like(const char *path, const char *ref)
{
	struct stat st;

	assert_int_equal(stat(ref, &st), 0);
	assert_int_equal(chown(path, st.st_uid, st.st_gid), 0);
}

/* Remove every message file of the folder (Dovecot expunges them). */
static void
maildir_clear(const char *user)
{
	char *md = maildir_of(user, NULL);
	const char *subs[] = {"new", "cur"};

	for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
		char *d = path_join(md, subs[i]);
		DIR *dir = opendir(d);
		struct dirent *e;
		assert_non_null(dir);
		while ((e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char *f = path_join(d, e->d_name);
			unlink(f);
			free(f);
		}
		closedir(dir);
		free(d);
	}
	free(md);
}

/* Create folder (Maildir++ ".name" with cur/new/tmp). */
static void
maildir_mkfolder(const char *user, const char *encoded)
{
	char *md = maildir_of(user, NULL);
	char *f = maildir_of(user, encoded);
	const char *subs[] = {"", "/cur", "/new", "/tmp"};

	for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
		char *d = xasprintf("%s%s", f, subs[i]);
		if (mkdir(d, 0700) < 0)
			assert_int_equal(errno, EEXIST);
		chown_like(d, md);
		free(d);
	}
	free(f);
	free(md);
}

/* Deliver a message the Maildir way (tmp, then rename into new).  Returns
 * the file's base name (caller frees) and its content in *msg. */
static char *
maildir_drop(const char *user, int k, char **msg)
{
	static unsigned seq;
	char *md = maildir_of(user, NULL);
	char *base = xasprintf("%lld.M%uP%d.inkflowtest%d", (long long)time(NULL), ++seq,
	    (int)getpid(), k);
	char *tmp = xasprintf("%s/tmp/%s", md, base), *dst = xasprintf("%s/new/%s", md, base);
	/* CRLF throughout, so that Dovecot's BODY[] is byte for byte the file */
	char *m = xasprintf("From: Klient <klient%d@client.example>\r\n"
	    "To: biuro@bmt.example\r\n"
	    "Subject: Zapytanie %d\r\n"
	    "Message-ID: <%s@client.example>\r\n"
	    "Date: Fri, 27 Nov 2026 14:03:00 +0100\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n"
	    "Dzie\xc5\x84 dobry, prosz\xc4\x99 o wycen\xc4\x99 nr %d.\r\n"
	    "{99999999999}\r\n"
	    ".\r\n", k, k, base, k);
	FILE *f = fopen(tmp, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(m, 1, strlen(m), f), strlen(m));
	assert_int_equal(fclose(f), 0);
	chown_like(tmp, md);
	assert_int_equal(rename(tmp, dst), 0);
	free(tmp);
	free(dst);
	free(md);
	*msg = m;
	return base;
}

/* Name of the file for base in folder/{cur,new}, or NULL; caller frees. */
static char *
maildir_find(const char *user, const char *folder, const char *base)
{
	char *md = maildir_of(user, folder);
	const char *subs[] = {"cur", "new"};
	char *found = NULL;

	for (size_t i = 0; i < ARRAY_LEN(subs) && found == NULL; i++) {
		char *d = path_join(md, subs[i]);
		DIR *dir = opendir(d);
		struct dirent *e;
		if (dir == NULL) {
			free(d);
			continue;
		}
		while ((e = readdir(dir)) != NULL && found == NULL)
			if (strncmp(e->d_name, base, strlen(base)) == 0)
				found = xstrdup(e->d_name);
		closedir(dir);
		free(d);
	}
	free(md);
	return found;
}

/* Maildir info flags of base in INBOX ("" when none), polled up to 3 s
 * until want is among them (want NULL: no waiting).  Caller frees. */
static char *
maildir_flags(const char *user, const char *base, const char *want)
{
	for (int i = 0;; i++) {
		char *name = maildir_find(user, NULL, base);
		char *info = name != NULL ? strstr(name, ":2,") : NULL;
		char *flags = xstrdup(info != NULL ? info + 3 : "");
		free(name);
		if (want == NULL || strstr(flags, want) != NULL || i >= 30)
			return flags;
		free(flags);
		usleep(100 * 1000);
	}
}

/* ---------------------------------------------------------- lab tests */

static void
test_lab_imaps_login(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "biuro");
	struct imap_conn *ic = lab_open(&c);

	assert_int_equal(imap_has_idle(ic), 1);
	imap_close(ic);
}

static void
test_lab_starttls_login(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_STARTTLS, "biuro");
	struct imap_conn *ic = lab_open(&c);
	char err[ERRLEN] = "";
	uint32_t v = 0, n = 0;

	assert_int_equal(imap_select(ic, "INBOX", &v, &n, err, sizeof(err)), IMAP_OK);
	imap_close(ic);
}

static void
test_lab_plaintext_login(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_NONE, "client");
	struct imap_conn *ic = lab_open(&c);

	imap_close(ic);
}

static void
test_lab_wrong_password(void **state)
{
	(void)state;
	NEED_LAB();
	const enum imap_tls modes[] = {IMAP_TLS_IMAPS, IMAP_TLS_STARTTLS};

	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		struct imap_conf c = lab_conf(modes[i], "biuro");
		struct imap_conn *ic = NULL;
		char err[ERRLEN] = "";
		c.password = "wrong";
		assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
		assert_null(ic);
		assert_non_null(strstr(err, "Authentication failed"));
		assert_one_line(err);
	}
}

static void
test_lab_wrong_ca(void **state)
{
	(void)state;
	NEED_LAB();
	char dir[] = "/tmp/test_imap.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *cmd = xasprintf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
	    "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1", dir, dir);
	char *ca = xasprintf("%s/cert.pem", dir);
	const enum imap_tls modes[] = {IMAP_TLS_IMAPS, IMAP_TLS_STARTTLS};

	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		struct imap_conf c = lab_conf(modes[i], "biuro");
		struct imap_conn *ic = NULL;
		char err[ERRLEN] = "";
		c.ca_file = ca;
		assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
		assert_null(ic);
		assert_non_null(strstr(err, "certificate verification failed"));
		assert_one_line(err);
	}
	/* a CA file without certificates */
	{
		struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "biuro");
		struct imap_conn *ic = NULL;
		char err[ERRLEN] = "";
		char *empty = xasprintf("%s/key.pem", dir);
		c.ca_file = empty;
		assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
		assert_non_null(strstr(err, "certificate"));
		free(empty);
	}
	free(cmd);
	cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(ca);
}

static void
test_lab_wrong_host_name(void **state)
{
	(void)state;
	NEED_LAB();
	/* "127.1" reaches 127.0.0.1 (inet_aton form) but is not a name or an
	 * address the certificate holds */
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "biuro");
	struct imap_conn *ic = NULL;
	char err[ERRLEN] = "";

	c.host = "127.1";
	assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONFIG);
	assert_non_null(strstr(err, "certificate verification failed"));
	assert_non_null(strstr(err, "127.1"));
}

static void
test_closed_port(void **state)
{
	(void)state;
	/* needs no lab: a port where nothing listens */
	const enum imap_tls modes[] = {IMAP_TLS_IMAPS, IMAP_TLS_STARTTLS, IMAP_TLS_NONE};

	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		struct imap_conf c = fake_conf(closed_port());
		struct imap_conn *ic = NULL;
		char err[ERRLEN] = "";
		c.tls = modes[i];
		assert_int_equal(imap_open(&c, &ic, err, sizeof(err)), IMAP_ERR_CONN);
		assert_null(ic);
		assert_non_null(strstr(err, "refused"));
	}
}

static void
test_lab_select(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "biuro");
	struct imap_conn *ic = lab_open(&c);
	char err[ERRLEN] = "";
	uint32_t v = 0, n = 0, v2 = 0;

	assert_int_equal(imap_select(ic, "INBOX", &v, &n, err, sizeof(err)), IMAP_OK);
	assert_true(v > 0);
	assert_true(n > 0);
	assert_int_equal(imap_select(ic, "NoSuchFolder", &v2, &n, err, sizeof(err)),
	    IMAP_ERR_MAILBOX);
	assert_non_null(strstr(err, "NoSuchFolder"));
	/* the connection survives a missing folder */
	assert_int_equal(imap_select(ic, "INBOX", &v2, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(v2, v);
	imap_close(ic);
}

static void
test_lab_messages(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "biuro");
	char *base[3], *msg[3], err[ERRLEN] = "";
	uint32_t v, next, *u = NULL, *u2 = NULL;
	size_t n = 0, n2 = 0;
	struct imap_conn *ic;

	maildir_clear("biuro");
	for (int k = 0; k < 3; k++)
		base[k] = maildir_drop("biuro", k, &msg[k]);
	ic = lab_open(&c);
	assert_int_equal(imap_select(ic, "INBOX", &v, &next, err, sizeof(err)), IMAP_OK);

	assert_int_equal(imap_list_new(ic, 0, 100, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 3);
	assert_true(u[0] < u[1] && u[1] < u[2]);
	/* the n:* trap: nothing above the last UID */
	assert_int_equal(imap_list_new(ic, u[2], 100, &u2, &n2, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n2, 0);
	assert_null(u2);
	assert_int_equal(imap_list_new(ic, u[2] + 1000, 100, &u2, &n2, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n2, 0);
	assert_int_equal(imap_list_new(ic, u[0], 100, &u2, &n2, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n2, 2);
	assert_int_equal(u2[0], u[1]);
	free(u2);
	assert_int_equal(imap_list_new(ic, 0, 2, &u2, &n2, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n2, 2);
	assert_int_equal(u2[1], u[1]);
	free(u2);

	/* exact bytes; each file exactly once */
	int which[3], seen[3] = {0};
	for (size_t i = 0; i < 3; i++) {
		char *raw = NULL;
		size_t len = 0, big = 0;
		assert_int_equal(imap_fetch(ic, u[i], 1 << 20, &raw, &len, &big, err, sizeof(err)),
		    IMAP_OK);
		assert_non_null(raw);
		assert_int_equal(big, 0);
		which[i] = -1;
		for (int k = 0; k < 3; k++)
			if (len == strlen(msg[k]) && memcmp(raw, msg[k], len) == 0)
				which[i] = k;
		assert_true(which[i] >= 0);
		assert_int_equal(seen[which[i]]++, 0);
		free(raw);
	}
	/* over the limit: the size, no download */
	{
		char *raw = NULL;
		size_t len = 0, big = 0;
		assert_int_equal(imap_fetch(ic, u[0], 100, &raw, &len, &big, err, sizeof(err)),
		    IMAP_OK);
		assert_null(raw);
		assert_int_equal(len, 0);
		assert_int_equal(big, strlen(msg[which[0]]));
	}
	/* BODY.PEEK[] left \Seen alone; dispose SEEN sets it */
	for (int k = 0; k < 3; k++) {
		char *fl = maildir_flags("biuro", base[k], NULL);
		assert_null(strchr(fl, 'S'));
		free(fl);
	}
	assert_int_equal(imap_dispose(ic, u[1], err, sizeof(err)), IMAP_OK);
	char *fl = maildir_flags("biuro", base[which[1]], "S");
	assert_non_null(strchr(fl, 'S'));
	free(fl);
	fl = maildir_flags("biuro", base[which[0]], NULL);
	assert_null(strchr(fl, 'S'));
	free(fl);

	/* sizes of several in one command; a UID that is not there: GONE */
	{
		uint32_t q[4] = {u[0], u[1], u[2], u[2] + 1000};
		size_t sz[4];
		assert_int_equal(imap_sizes(ic, q, 4, sz, err, sizeof(err)), IMAP_OK);
		for (size_t i = 0; i < 3; i++)
			assert_int_equal(sz[i], strlen(msg[which[i]]));
		assert_int_equal(sz[3], IMAP_SIZE_GONE);
		/* a known size: the same bytes without asking; over the limit:
		 * the size back, no download */
		char *raw = NULL;
		size_t len = 0, big = 0;
		assert_int_equal(imap_fetch_sized(ic, u[2], sz[2], 1 << 20, &raw, &len, &big, err,
		                     sizeof(err)), IMAP_OK);
		assert_int_equal(len, sz[2]);
		assert_memory_equal(raw, msg[which[2]], len);
		free(raw);
		raw = NULL;
		assert_int_equal(imap_fetch_sized(ic, u[2], sz[2], 10, &raw, &len, &big, err,
		                     sizeof(err)), IMAP_OK);
		assert_null(raw);
		assert_int_equal(big, sz[2]);
	}
	/* several bodies in one command; a UID not there and a body over
	 * max_size come back NULL, the others whole */
	{
		uint32_t q[4] = {u[0], u[2] + 1000, u[1], u[2]};
		char *raws[4];
		size_t lens[4];
		assert_int_equal(imap_fetch_many(ic, q, 4, 1 << 16, 1 << 20, raws, lens, err,
		                     sizeof(err)), IMAP_OK);
		assert_null(raws[1]);
		for (size_t i = 0; i < 4; i++) {
			if (i == 1)
				continue;
			int k = which[i == 0 ? 0 : i == 2 ? 1 : 2];
			assert_non_null(raws[i]);
			assert_int_equal(lens[i], strlen(msg[k]));
			assert_memory_equal(raws[i], msg[k], lens[i]);
			free(raws[i]);
		}
		size_t small = strlen(msg[which[0]]) - 1;
		assert_int_equal(imap_fetch_many(ic, u, 1, 1 << 16, small, raws, lens, err,
		                     sizeof(err)), IMAP_OK);
		assert_null(raws[0]);
	}
	/* dispose of several in one command: all \Seen */
	assert_int_equal(imap_dispose_many(ic, u, 3, err, sizeof(err)), IMAP_OK);
	for (int k = 0; k < 3; k++) {
		fl = maildir_flags("biuro", base[k], "S");
		assert_non_null(strchr(fl, 'S'));
		free(fl);
	}
	assert_int_equal(imap_dispose_many(ic, u, 0, err, sizeof(err)), IMAP_OK);

	imap_close(ic);
	free(u);
	for (int k = 0; k < 3; k++) {
		free(base[k]);
		free(msg[k]);
	}
}

/* dispose one fresh message with c; returns its base name */
static void
lab_dispose_one(struct imap_conf *c, const char *folder_enc, enum imap_status want)
{
	char *msg, *base, err[ERRLEN] = "";
	uint32_t v, next, *u = NULL;
	size_t n = 0;
	struct imap_conn *ic;

	maildir_clear("client");
	base = maildir_drop("client", 7, &msg);
	ic = lab_open(c);
	assert_int_equal(imap_select(ic, "INBOX", &v, &next, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_list_new(ic, 0, 10, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 1);
	assert_int_equal(imap_dispose(ic, u[0], err, sizeof(err)), want);
	free(u);
	u = NULL;
	if (want != IMAP_OK) {
		assert_non_null(strstr(err, "does not exist"));
		goto out;
	}
	/* gone from INBOX, for this session and on disk */
	assert_int_equal(imap_list_new(ic, 0, 10, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 0);
	char *f = maildir_find("client", NULL, base);
	assert_null(f);
	if (folder_enc != NULL) {
		/* Dovecot may give the copy a new file name: compare content */
		char *md = maildir_of("client", folder_enc), *d = path_join(md, "new");
		char *d2 = path_join(md, "cur");
		int found = 0;
		const char *dirs[] = {d, d2};
		for (size_t i = 0; i < 2; i++) {
			DIR *dir = opendir(dirs[i]);
			struct dirent *e;
			assert_non_null(dir);
			while ((e = readdir(dir)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				char *p = path_join(dirs[i], e->d_name), *data;
				size_t len;
				assert_int_equal(file_read(p, 1 << 20, &data, &len), 0);
				if (len == strlen(msg) && memcmp(data, msg, len) == 0)
					found++;
				free(data);
				free(p);
			}
			closedir(dir);
		}
		assert_int_equal(found, 1);
		free(d);
		free(d2);
		free(md);
	}
out:
	imap_close(ic);
	free(base);
	free(msg);
}

static void
test_lab_move(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_STARTTLS, "client");

	c.dispose = IMAP_DISPOSE_MOVE;
	c.move_to = "Processed";
	maildir_mkfolder("client", "Processed");
	lab_dispose_one(&c, "Processed", IMAP_OK);
	/* a folder name outside ASCII: modified UTF-7 on the wire and disk */
	c.move_to = "Zam\xc3\xb3wienia";
	maildir_mkfolder("client", "Zam&APM-wienia");
	lab_dispose_one(&c, "Zam&APM-wienia", IMAP_OK);
	c.move_to = "Missing";
	lab_dispose_one(&c, NULL, IMAP_ERR_CONFIG);
}

static void
test_lab_delete(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "client");

	c.dispose = IMAP_DISPOSE_DELETE;
	lab_dispose_one(&c, NULL, IMAP_OK);
}

static volatile int stop_flag;

static void
on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
test_lab_idle(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "client");
	char err[ERRLEN] = "";
	uint32_t v, next, *u = NULL;
	size_t n = 0;
	struct imap_conn *ic = lab_open(&c);
	double t0, el;
	pid_t pid;

	assert_int_equal(imap_select(ic, "INBOX", &v, &next, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_has_idle(ic), 1);

	/* a message arrives after 1 s */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *msg;
		sleep(1);
		free(maildir_drop("client", 9, &msg));
		free(msg);
		_exit(0);
	}
	t0 = now_s();
	stop_flag = 0;
	assert_int_equal(imap_wait(ic, 10, &stop_flag, err, sizeof(err)), IMAP_OK);
	el = now_s() - t0;
	print_message("  idle woke after %.2f s\n", el);
	assert_true(el >= 0.5 && el < 5);
	assert_int_equal(fake_wait(pid), 0);
	assert_int_equal(imap_list_new(ic, next - 1, 10, &u, &n, err, sizeof(err)), IMAP_OK);
	assert_int_equal(n, 1);
	free(u);

	/* nothing happens: back at the timeout */
	t0 = now_s();
	assert_int_equal(imap_wait(ic, 2, &stop_flag, err, sizeof(err)), IMAP_OK);
	el = now_s() - t0;
	assert_true(el >= 1.9 && el < 4);

	/* the stop flag ends a wait within about a second */
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	stop_flag = 0;
	alarm(1);
	t0 = now_s();
	assert_int_equal(imap_wait(ic, 10, &stop_flag, err, sizeof(err)), IMAP_OK);
	el = now_s() - t0;
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	assert_true(el < 3);
	/* a set flag: no wait at all */
	t0 = now_s();
	assert_int_equal(imap_wait(ic, 10, &stop_flag, err, sizeof(err)), IMAP_OK);
	assert_true(now_s() - t0 < 0.5);

	/* the session is still in step after all that */
	assert_int_equal(imap_list_new(ic, 0, 10, &u, &n, err, sizeof(err)), IMAP_OK);
	free(u);
	imap_close(ic);
}

static void
test_lab_no_idle(void **state)
{
	(void)state;
	NEED_LAB();
	struct imap_conf c = lab_conf(IMAP_TLS_IMAPS, "client");
	char err[ERRLEN] = "";
	uint32_t v, next;
	struct imap_conn *ic;
	double t0;

	c.idle = 0;
	ic = lab_open(&c);
	assert_int_equal(imap_select(ic, "INBOX", &v, &next, err, sizeof(err)), IMAP_OK);
	assert_int_equal(imap_has_idle(ic), 0);
	t0 = now_s();
	assert_int_equal(imap_wait(ic, 10, NULL, err, sizeof(err)), IMAP_OK);
	assert_true(now_s() - t0 < 0.5);
	imap_close(ic);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_auth_plain_sasl_ir),
		cmocka_unit_test(test_fake_auth_plain_continuation),
		cmocka_unit_test(test_fake_auth_plain_refused),
		cmocka_unit_test(test_fake_logindisabled_without_plain),
		cmocka_unit_test(test_fake_no_starttls),
		cmocka_unit_test(test_fake_starttls_refused),
		cmocka_unit_test(test_fake_starttls_injection),
		cmocka_unit_test(test_fake_preauth_plaintext),
		cmocka_unit_test(test_fake_login_unavailable),
		cmocka_unit_test(test_fake_quoted_credentials),
		cmocka_unit_test(test_fake_crlf_in_password),
		cmocka_unit_test(test_fake_greeting_bye),
		cmocka_unit_test(test_fake_search_trap_and_order),
		cmocka_unit_test(test_fake_literal_bomb),
		cmocka_unit_test(test_fake_size_lie),
		cmocka_unit_test(test_fake_eof_mid_literal),
		cmocka_unit_test(test_fake_endless_line),
		cmocka_unit_test(test_fake_select_no_uidvalidity),
		cmocka_unit_test(test_fake_move_fallback_uidplus),
		cmocka_unit_test(test_fake_move_fallback_no_uidplus),
		cmocka_unit_test(test_fake_move_trycreate),
		cmocka_unit_test(test_fake_idle_refused),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_lab_imaps_login),
		cmocka_unit_test(test_lab_starttls_login),
		cmocka_unit_test(test_lab_plaintext_login),
		cmocka_unit_test(test_lab_wrong_password),
		cmocka_unit_test(test_lab_wrong_ca),
		cmocka_unit_test(test_lab_wrong_host_name),
		cmocka_unit_test(test_lab_select),
		cmocka_unit_test(test_lab_messages),
		cmocka_unit_test(test_lab_move),
		cmocka_unit_test(test_lab_delete),
		cmocka_unit_test(test_lab_idle),
		cmocka_unit_test(test_lab_no_idle),
	};

	return cmocka_run_group_tests(tests, NULL, lab_teardown);
}
