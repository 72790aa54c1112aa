/*
 * Unit tests for smtp.c.
 *
 * Three kinds of test:
 * - refusals that happen before any connection (host, addresses, config);
 * - a scripted fake SMTP server forked on 127.0.0.1 (plaintext only): what
 *   exactly goes over the wire (CRLF, dot-stuffing), how replies are
 *   classified, and that STARTTLS mode never falls back to plaintext;
 * - a real Postfix from tests/lab/maillab, when INKFLOW_LAB_ENV names the
 *   lab's lab.env (users biuro and client, password "secret"); otherwise
 *   those tests are skipped.  tests/with-lab starts a lab, runs
 *   this program and stops the lab.
 * Only 127.0.0.1 is ever contacted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
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

#include "smtp.h"
#include "util.h"

#define LAB_PASSWORD "secret"
#define FROM "oferty@inkflow.test"

/* --- helpers ---------------------------------------------------------- */

/* A conf pointing at 127.0.0.1:port in plaintext (for refusals and the
 * fake server). */
static struct smtp_conf
plain_conf(int port)
{
	struct smtp_conf c = {
		.host = "127.0.0.1",
		.port = port,
		.tls = SMTP_TLS_NONE,
		.envelope_from = FROM,
		.timeout = 5,
	};
	return c;
}

/* A TCP port on 127.0.0.1 that nobody listens on (bound, then released). */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A listening socket on 127.0.0.1:*port. */
static int
listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int
has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

#define assert_has(hay, needle)                                               \
	do {                                                                  \
		if (!has((hay), (needle)))                                    \
			fail_msg("expected \"%s\" in \"%s\"", (needle), (hay)); \
	} while (0)

#define assert_lacks(hay, needle)                                              \
	do {                                                                   \
		if (has((hay), (needle)))                                      \
			fail_msg("did not expect \"%s\" in \"%s\"", (needle), (hay)); \
	} while (0)

/* err must be one line: no CR, LF or other control character. */
static void
assert_one_line(const char *err)
{
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("control character 0x%02x in err \"%s\"",
			    (unsigned char)*p, err);
}

static enum smtp_result
send1(const struct smtp_conf *c, const char *rcpt, const char *raw, char *err,
    size_t errlen)
{
	const char *r[] = { rcpt };
	enum smtp_result res = smtp_send(c, r, 1, raw, err, errlen);
	assert_one_line(err);
	return res;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/inkflow-test-smtp-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- refusals before any connection ----------------------------------- */

static void
test_refuses_bad_host(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"127.0.0.1/evil", "127.0.0.1/", "evil@127.0.0.1", "127.0.0.1 ",
		" 127.0.0.1", "127.0.0.1\r\nRSET", "127.0.0.1\tx", "127.0.0.1:25",
		"127.0.0.1?x", "127.0.0.1#x", "", "a..b", "-a.example", "a-.example",
		"[::1", "::1", "[zz::1]", "[127.0.0.1]", "[::1]/x", "host%2fevil",
		"smtp://127.0.0.1", "\x01host",
	};
	int port = closed_port();
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct smtp_conf c = plain_conf(port);
		c.host = (char *)bad[i];
		err[0] = 'x';
		assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err,
		    sizeof err), SMTP_TEMPFAIL);
		/* refused by the check, not by a failed connection */
		assert_has(err, "invalid host");
	}
	struct smtp_conf c = plain_conf(port);
	c.host = NULL;
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_has(err, "invalid host");
}

static void
test_refuses_bad_addresses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"biuro@bmt.example\r\nRSET", "biuro@bmt.example\nDATA",
		"<biuro@bmt.example>", "biuro@bmt.example>", "bi uro@bmt.example",
		"noat", "@bmt.example", "biuro@", "biuro@bmt..example",
		".biuro@bmt.example", "biu..ro@bmt.example", "biuro@bmt.example.",
		"biuro@-bmt.example", "\"quoted\"@bmt.example", "biuro@bmt_example",
		"a@b@\x01", "b\xc5@bmt.example", "",
	};
	int port = closed_port();
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct smtp_conf c = plain_conf(port);
		/* A bad recipient: PERMFAIL, before connecting (else the closed
		 * port would make it a TEMPFAIL). */
		assert_int_equal(send1(&c, bad[i], "x\n", err, sizeof err),
		    SMTP_PERMFAIL);
		assert_has(err, "invalid recipient");
		/* A bad envelope sender is configuration: TEMPFAIL. */
		c.envelope_from = (char *)bad[i];
		assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err,
		    sizeof err), SMTP_TEMPFAIL);
		assert_has(err, "envelope sender");
	}
	/* Good ones get as far as connecting. */
	static const char *const good[] = {
		"biuro@bmt.example", "biuro+t123@bmt.example", "a.b-c_d@x.y",
		"o'brien@example.ie", "zażółć@example.pl", "x@[192.0.2.1]",
	};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		struct smtp_conf c = plain_conf(port);
		assert_int_equal(send1(&c, good[i], "x\n", err, sizeof err),
		    SMTP_TEMPFAIL);
		assert_has(err, "cannot connect");
	}
}

static void
test_refuses_bad_config(void **state)
{
	(void)state;
	int port = closed_port();
	char err[256];
	const char *r[SMTP_MAX_RCPT + 1] = { 0 };
	struct smtp_conf c;

	c = plain_conf(0);
	assert_int_equal(send1(&c, "a@b.c", "x\n", err, sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "port");
	c = plain_conf(65536);
	assert_int_equal(send1(&c, "a@b.c", "x\n", err, sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "port");

	c = plain_conf(port);
	c.tls = (enum smtp_tls)7;
	assert_int_equal(send1(&c, "a@b.c", "x\n", err, sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "TLS mode");

	c = plain_conf(port);
	c.helo = "inkflow.test/evil";
	assert_int_equal(send1(&c, "a@b.c", "x\n", err, sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "EHLO");

	c = plain_conf(port);
	c.user = "biuro";
	assert_int_equal(send1(&c, "a@b.c", "x\n", err, sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "password");

	c = plain_conf(port);
	c.envelope_from = NULL;
	assert_int_equal(send1(&c, "a@b.c", "x\n", err, sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "envelope sender");

	assert_int_equal(smtp_send(NULL, r, 0, "x", err, sizeof err), SMTP_TEMPFAIL);

	/* The message's own problems: PERMFAIL. */
	c = plain_conf(port);
	assert_int_equal(smtp_send(&c, r, 0, "x\n", err, sizeof err), SMTP_PERMFAIL);
	assert_int_equal(send1(&c, "a@b.c", NULL, err, sizeof err), SMTP_PERMFAIL);
	for (size_t i = 0; i < ARRAY_LEN(r); i++)
		r[i] = "biuro@bmt.example";
	assert_int_equal(smtp_send(&c, r, ARRAY_LEN(r), "x\n", err, sizeof err),
	    SMTP_PERMFAIL);
	assert_has(err, "recipients");
	assert_int_equal(smtp_send(&c, r, SMTP_MAX_RCPT, "x\n", err, sizeof err),
	    SMTP_TEMPFAIL); /* allowed: gets as far as the closed port */
}

static void
test_closed_port(void **state)
{
	(void)state;
	int port = closed_port();
	char err[256];
	struct smtp_conf c = plain_conf(port);

	c.tls = SMTP_TLS_SMTPS;
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_has(err, "cannot connect to 127.0.0.1:");

	/* A tiny buffer: cut, marked, still terminated. */
	char small[16];
	memset(small, 'x', sizeof small);
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", small, sizeof small),
	    SMTP_TEMPFAIL);
	assert_true(strlen(small) == sizeof small - 1);
	assert_string_equal(small + sizeof small - 4, "...");
	/* No buffer at all is allowed too. */
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", small, 0),
	    SMTP_TEMPFAIL);
	const char *r[] = { "biuro@bmt.example" };
	assert_int_equal(smtp_send(&c, r, 1, "x\n", NULL, 0), SMTP_TEMPFAIL);
}

/* A server that accepts but never greets: the response timeout fires. */
static void
test_silent_server_times_out(void **state)
{
	(void)state;
	int port, lfd = listen_any(&port);
	char err[256];
	struct smtp_conf c = plain_conf(port);

	c.timeout = 1;
	time_t t0 = time(NULL);
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_true(time(NULL) - t0 <= 5);
	assert_has(err, "timeout");
	close(lfd);
}

/* --- a scripted fake server ------------------------------------------- */

/* Replies of the fake server; NULL: the default ("250 ok" and such).  Each
 * string is sent as is (multi-line replies include their CRLFs). */
struct fake_script {
	const char *greeting;
	const char *ehlo;
	const char *starttls;
	const char *auth;
	const char *mail;
	const char *rcpt;   /* for every RCPT */
	const char *rcpt2;  /* for the second and later RCPT, if set */
	const char *data;
	const char *dataend;
};

struct fake {
	pid_t pid;
	int port;
	int capfd; /* read end: everything the server received */
};

static void
fake_write(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	while (off < len) {
		ssize_t w = write(fd, s + off, len - off);
		if (w <= 0)
			_exit(3);
		off += (size_t)w;
	}
}

/* Child: serves one connection following sc, copies every byte received to
 * cap.  Ends by _exit. */
static void
fake_serve(int lfd, const struct fake_script *sc, int cap)
{
	char line[4096];
	size_t n = 0;
	int in_data = 0, nrcpt = 0;
	char tail[5] = { 0 };

	alarm(20);
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	fake_write(fd, sc->greeting ? sc->greeting : "220 fake.test ESMTP\r\n");
	if (sc->greeting && sc->greeting[0] != '2')
		_exit(0); /* like a 421: hang up */
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r <= 0)
			_exit(0);
		fake_write(cap, (char[]){ ch, 0 });
		if (in_data) {
			memmove(tail, tail + 1, 4);
			tail[4] = ch;
			if (memcmp(tail, "\r\n.\r\n", 5) == 0) {
				in_data = 0;
				n = 0;
				fake_write(fd, sc->dataend ? sc->dataend :
				    "250 2.0.0 Ok: queued\r\n");
			}
			continue;
		}
		if (n < sizeof line - 1)
			line[n++] = ch;
		if (ch != '\n')
			continue;
		line[n] = '\0';
		n = 0;
		if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0)
			fake_write(fd, sc->ehlo ? sc->ehlo :
			    "250-fake.test\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n");
		else if (strncasecmp(line, "STARTTLS", 8) == 0)
			fake_write(fd, sc->starttls ? sc->starttls : "454 4.7.0 no TLS\r\n");
		else if (strncasecmp(line, "AUTH", 4) == 0)
			fake_write(fd, sc->auth ? sc->auth : "235 2.7.0 ok\r\n");
		else if (strncasecmp(line, "MAIL", 4) == 0)
			fake_write(fd, sc->mail ? sc->mail : "250 2.1.0 Ok\r\n");
		else if (strncasecmp(line, "RCPT", 4) == 0)
			fake_write(fd, nrcpt++ && sc->rcpt2 ? sc->rcpt2 :
			    sc->rcpt ? sc->rcpt : "250 2.1.5 Ok\r\n");
		else if (strncasecmp(line, "DATA", 4) == 0) {
			const char *d = sc->data ? sc->data : "354 go ahead\r\n";
			fake_write(fd, d);
			if (strncmp(d, "354", 3) == 0) {
				in_data = 1;
				/* the CRLF of "DATA" counts: ".\r\n" first ends it */
				memcpy(tail, "xxx\r\n", 5);
			}
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			fake_write(fd, "221 2.0.0 Bye\r\n");
			_exit(0);
		} else
			fake_write(fd, "502 5.5.2 Error: command not recognized\r\n");
	}
}

static struct fake
fake_start(const struct fake_script *sc)
{
	struct fake f;
	int p[2];
	int lfd = listen_any(&f.port);

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	f.pid = fork();
	assert_true(f.pid >= 0);
	if (f.pid == 0) {
		close(p[0]);
		fake_serve(lfd, sc, p[1]);
		_exit(0);
	}
	close(p[1]);
	close(lfd);
	f.capfd = p[0];
	return f;
}

/* Waits for the fake server; returns what it received (caller frees). */
static char *
fake_finish(struct fake *f)
{
	struct sbuf sb = { 0 };
	char buf[4096];
	ssize_t r;
	int st;

	while ((r = read(f->capfd, buf, sizeof buf)) > 0)
		sb_add(&sb, buf, (size_t)r);
	close(f->capfd);
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	return sb_steal(&sb);
}

/* Bare LF, bare CR and CRLF all go out as CRLF, never doubled; lines that
 * start with '.' are stuffed; the message ends in CRLF "." CRLF even without
 * a final newline. */
static void
test_wire_format(void **state)
{
	(void)state;
	static const struct fake_script sc = { 0 };
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256] = "";
	const char *raw =
	    ".first line starts with a dot\n"
	    "Subject: t\n"
	    "\n"
	    "lf\n"
	    "crlf\r\n"
	    "bare cr\r"
	    "after cr\n"
	    ".lead\n"
	    ".\n"
	    "..two\r\n"
	    ".\r\n"
	    "Zażółć gęślą jaźń\n"
	    "\r\n"
	    "end";
	const char *want =
	    "DATA\r\n"
	    "..first line starts with a dot\r\n"
	    "Subject: t\r\n"
	    "\r\n"
	    "lf\r\n"
	    "crlf\r\n"
	    "bare cr\r\n"
	    "after cr\r\n"
	    "..lead\r\n"
	    "..\r\n"
	    "...two\r\n"
	    "..\r\n"
	    "Zażółć gęślą jaźń\r\n"
	    "\r\n"
	    "end\r\n"
	    ".\r\n";

	assert_int_equal(send1(&c, "biuro@bmt.example", raw, err, sizeof err),
	    SMTP_SENT);
	assert_string_equal(err, "");
	char *got = fake_finish(&f);
	assert_has(got, "MAIL FROM:<" FROM ">");
	assert_has(got, "RCPT TO:<biuro@bmt.example>\r\n");
	const char *d = strstr(got, "DATA\r\n");
	assert_non_null(d);
	size_t dl = strlen(want);
	if (strncmp(d, want, dl) != 0)
		fail_msg("wire data differs:\n--- got\n%s\n--- want\n%s", d, want);
	/* SIZE announced = bytes on the wire (before dot-stuffing) */
	const char *sz = strstr(got, "SIZE=");
	assert_non_null(sz);
	size_t wire = strlen(raw) + 9; /* 8 bare LF + 1 bare CR get a partner */
	char want_size[32];
	snprintf(want_size, sizeof want_size, "SIZE=%zu\r\n", wire);
	assert_has(sz, want_size);
	free(got);
}

/* A 5xx to RCPT: PERMFAIL naming the recipient, no DATA sent, and a
 * refused second recipient fails the whole send. */
static void
test_fake_rcpt_refused(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.rcpt2 = "550 5.1.1 <nobody@bmt.example>: Recipient address "
		    "rejected: User unknown\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	const char *r[] = { "biuro@bmt.example", "nobody@bmt.example" };
	char err[256];

	assert_int_equal(smtp_send(&c, r, 2, "Subject: x\n\nx\n", err, sizeof err),
	    SMTP_PERMFAIL);
	assert_string_equal(err, "RCPT TO <nobody@bmt.example>: 550 5.1.1 "
	    "<nobody@bmt.example>: Recipient address rejected: User unknown");
	char *got = fake_finish(&f);
	assert_lacks(got, "DATA");
	free(got);
}

/* 4xx at RCPT: TEMPFAIL. */
static void
test_fake_rcpt_tempfail(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.rcpt = "451 4.3.0 <biuro@bmt.example>: Temporary lookup failure\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256];

	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_has(err, "RCPT TO <biuro@bmt.example>: 451 4.3.0");
	free(fake_finish(&f));
}

/* A multi-line 5xx after the message: PERMFAIL, lines joined in err. */
static void
test_fake_content_rejected(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.dataend = "554-5.7.1 Message rejected\r\n554 5.7.1 as spam\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256];

	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_PERMFAIL);
	assert_string_equal(err, "end of DATA: 554-5.7.1 Message rejected 5.7.1 as spam");
	free(fake_finish(&f));
}

/* 5xx to MAIL FROM (message too big by SIZE): PERMFAIL. */
static void
test_fake_mail_refused(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.mail = "552 5.3.4 Message size exceeds fixed limit\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256];

	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_PERMFAIL);
	assert_string_equal(err, "MAIL FROM <" FROM ">: 552 5.3.4 Message size "
	    "exceeds fixed limit");
	free(fake_finish(&f));
}

/* A 5xx to DATA itself: PERMFAIL. */
static void
test_fake_data_refused(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.data = "554 5.5.1 Error: no valid recipients\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256];

	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_PERMFAIL);
	assert_string_equal(err, "DATA: 554 5.5.1 Error: no valid recipients");
	free(fake_finish(&f));
}

/* 421 / 554 greetings and a 5xx to EHLO are the server's state, not the
 * message's: TEMPFAIL. */
static void
test_fake_session_refused(void **state)
{
	(void)state;
	static const struct fake_script s421 = {
		.greeting = "421 4.3.2 Service shutting down\r\n" };
	static const struct fake_script s554 = {
		.greeting = "554 5.3.2 No SMTP service here\r\n" };
	static const struct fake_script ehlo = {
		.ehlo = "550 5.7.1 Go away\r\n" };
	const struct fake_script *all[] = { &s421, &s554, &ehlo };
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		struct fake f = fake_start(all[i]);
		struct smtp_conf c = plain_conf(f.port);
		assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err,
		    sizeof err), SMTP_TEMPFAIL);
		assert_true(has(err, "421 4.3.2") || has(err, "554 5.3.2") ||
		    has(err, "550 5.7.1"));
		free(fake_finish(&f));
	}
}

/* 530 "authentication required" to MAIL FROM: configuration, TEMPFAIL. */
static void
test_fake_auth_required(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.mail = "530 5.7.0 Authentication required\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256];

	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_has(err, "530 5.7.0");
	assert_has(err, "authentication required");
	free(fake_finish(&f));
}

/* STARTTLS mode against a server without STARTTLS, or refusing it: TEMPFAIL
 * and nothing after EHLO in plaintext (no AUTH, no MAIL). */
static void
test_starttls_never_falls_back(void **state)
{
	(void)state;
	static const struct fake_script none = {
		.ehlo = "250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n" };
	static const struct fake_script refused = {
		.ehlo = "250-fake.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
		.starttls = "454 4.7.0 TLS not available due to local problem\r\n" };
	const struct fake_script *all[] = { &none, &refused };
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(all); i++) {
		struct fake f = fake_start(all[i]);
		struct smtp_conf c = plain_conf(f.port);
		c.tls = SMTP_TLS_STARTTLS;
		c.user = "biuro";
		c.password = "topsecret";
		assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err,
		    sizeof err), SMTP_TEMPFAIL);
		char *got = fake_finish(&f);
		assert_lacks(got, "AUTH");
		assert_lacks(got, "MAIL");
		if (i == 0)
			assert_has(err, "STARTTLS");
		else
			assert_has(err, "454 4.7.0");
		free(got);
	}
}

/* AUTH in plaintext only when tls none is configured; the err of a failed
 * AUTH never carries the credentials. */
static void
test_auth_plaintext_when_configured(void **state)
{
	(void)state;
	static const struct fake_script sc = {
		.ehlo = "250-fake.test\r\n250 AUTH PLAIN\r\n",
		.auth = "535 5.7.8 Error: authentication failed: bad\r\n",
	};
	struct fake f = fake_start(&sc);
	struct smtp_conf c = plain_conf(f.port);
	char err[256];

	c.user = "biuro";
	c.password = "topsecret";
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	char *got = fake_finish(&f);
	assert_has(got, "AUTH PLAIN");
	assert_string_equal(err, "authentication failed: AUTH PLAIN: 535 5.7.8 "
	    "Error: authentication failed: bad");
	/* base64 of "\0biuro\0topsecret" must not leak into err */
	assert_lacks(err, "AGJpdXJv");
	free(got);
}

/* --- the lab ---------------------------------------------------------- */

struct lab {
	char *env_path;
	char *host, *ca, *maildir_biuro, *maildir_client;
	int smtp_port, smtps_port;
};

static struct lab lab;

static char *
env_get(const char *data, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = data; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, nl) == 0 && p[nl] == '=' && p[nl + 1] == '\'') {
			const char *v = p + nl + 2, *e = strchr(v, '\'');
			if (!e)
				return NULL;
			return xstrndup(v, (size_t)(e - v));
		}
	}
	return NULL;
}

static int
env_port(const char *data, const char *name)
{
	char *v = env_get(data, name);
	int64_t n = 0;
	if (!v || parse_int64(v, 1, 65535, &n) < 0) {
		fprintf(stderr, "test_smtp: %s missing or bad in %s\n", name, lab.env_path);
		n = 0;
	}
	free(v);
	return (int)n;
}

static int
lab_setup(void **state)
{
	(void)state;
	const char *path = getenv("INKFLOW_LAB_ENV");
	char *data = NULL;
	size_t len;

	if (smtp_global_init() < 0)
		return -1;
	if (!path || !*path) {
		fprintf(stderr, "test_smtp: INKFLOW_LAB_ENV is not set: the tests "
		    "against a real Postfix are skipped (tests/with-lab "
		    "runs them)\n");
		return 0;
	}
	lab.env_path = xstrdup(path);
	if (file_read(path, 65536, &data, &len) < 0) {
		fprintf(stderr, "test_smtp: cannot read INKFLOW_LAB_ENV=%s: %s\n",
		    path, strerror(errno));
		return -1;
	}
	lab.host = env_get(data, "LAB_HOST");
	lab.ca = env_get(data, "LAB_CA_FILE");
	lab.maildir_biuro = env_get(data, "LAB_MAILDIR_biuro");
	lab.maildir_client = env_get(data, "LAB_MAILDIR_client");
	lab.smtp_port = env_port(data, "LAB_SMTP_PORT");
	lab.smtps_port = env_port(data, "LAB_SMTPS_PORT");
	free(data);
	if (!lab.host || strcmp(lab.host, "127.0.0.1") != 0) {
		fprintf(stderr, "test_smtp: LAB_HOST must be 127.0.0.1\n");
		return -1;
	}
	if (!lab.ca || !lab.maildir_biuro || !lab.maildir_client ||
	    !lab.smtp_port || !lab.smtps_port) {
		fprintf(stderr, "test_smtp: %s lacks LAB_CA_FILE, a port, or the "
		    "users biuro and client (start the lab with: maillab start DIR "
		    "biuro client)\n", path);
		return -1;
	}
	return 0;
}

static int
lab_teardown(void **state)
{
	(void)state;
	free(lab.env_path);
	free(lab.host);
	free(lab.ca);
	free(lab.maildir_biuro);
	free(lab.maildir_client);
	memset(&lab, 0, sizeof lab);
	smtp_global_cleanup();
	return 0;
}

#define NEED_LAB()                                                           \
	do {                                                                 \
		if (!lab.env_path) {                                         \
			skip();                                              \
			return;                                              \
		}                                                            \
	} while (0)

static struct smtp_conf
lab_conf(enum smtp_tls tls)
{
	struct smtp_conf c = {
		.host = lab.host,
		.port = tls == SMTP_TLS_SMTPS ? lab.smtps_port : lab.smtp_port,
		.tls = tls,
		.user = "biuro",
		.password = LAB_PASSWORD,
		.ca_file = lab.ca,
		.helo = "inkflow.test",
		.envelope_from = FROM,
		.timeout = 10,
	};
	return c;
}

/* The message file in maildir (new/ or cur/) holding marker, or NULL. */
static char *
maildir_find(const char *maildir, const char *marker)
{
	static const char *const sub[] = { "new", "cur" };
	for (size_t i = 0; i < ARRAY_LEN(sub); i++) {
		char *dir = path_join(maildir, sub[i]);
		DIR *d = opendir(dir);
		struct dirent *e;
		char *found = NULL;
		while (d && !found && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char *p = path_join(dir, e->d_name), *data = NULL;
			size_t len;
			if (file_read(p, 1 << 20, &data, &len) == 0 && strstr(data, marker))
				found = data;
			else
				free(data);
			free(p);
		}
		if (d)
			closedir(d);
		free(dir);
		if (found)
			return found;
	}
	return NULL;
}

/* Polls for up to 10 s: delivery is asynchronous. */
static char *
maildir_wait(const char *maildir, const char *marker)
{
	for (int i = 0; i < 200; i++) {
		char *m = maildir_find(maildir, marker);
		if (m)
			return m;
		sleep_ms(50);
	}
	fail_msg("no message with %s arrived in %s within 10 s", marker, maildir);
	return NULL;
}

/* A test message with a unique marker; caller frees both. */
static char *
lab_message(const char *to, char marker[40])
{
	char hex[17];
	random_hex(hex, 8);
	snprintf(marker, 40, "X-Test-Marker: %s", hex);
	return xasprintf(
	    "From: Oferty <" FROM ">\n"
	    "To: %s\n"
	    "Subject: [INK-7] Wycena\n"
	    "%s\r\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Dzień dobry,\r\n"
	    "Zażółć gęślą jaźń — ĄĘŁŃÓŚŹŻ.\n"
	    ".kropka na początku\n"
	    ".\n"
	    "..dwie kropki\r\n"
	    "\n"
	    "Pozdrawiam\n", to, marker);
}

/* What Postfix stored: LF line ends, every line as sent, dots unstuffed. */
static void
assert_lab_body(const char *m)
{
	assert_lacks(m, "\r");
	assert_has(m, "Subject: [INK-7] Wycena\n");
	assert_has(m, "\nMIME-Version: 1.0\n");
	assert_has(m, "\n\nDzień dobry,\n"
	    "Zażółć gęślą jaźń — ĄĘŁŃÓŚŹŻ.\n"
	    ".kropka na początku\n"
	    ".\n"
	    "..dwie kropki\n"
	    "\n"
	    "Pozdrawiam\n");
}

static void
test_lab_smtps_auth(void **state)
{
	(void)state;
	NEED_LAB();
	struct smtp_conf c = lab_conf(SMTP_TLS_SMTPS);
	char marker[40], err[256] = "";
	char *raw = lab_message("biuro+t1@bmt.example", marker);

	assert_int_equal(send1(&c, "biuro+t1@bmt.example", raw, err, sizeof err),
	    SMTP_SENT);
	assert_string_equal(err, "");
	char *m = maildir_wait(lab.maildir_biuro, marker);
	assert_lab_body(m);
	assert_has(m, "Delivered-To: biuro+t1@bmt.example\n");
	assert_has(m, "Return-Path: <" FROM ">\n");
	free(m);
	free(raw);
}

static void
test_lab_starttls_auth_two_rcpts(void **state)
{
	(void)state;
	NEED_LAB();
	struct smtp_conf c = lab_conf(SMTP_TLS_STARTTLS);
	char marker[40], err[256] = "";
	char *raw = lab_message("biuro@bmt.example, client@klient.test", marker);
	const char *r[] = { "biuro@bmt.example", "client@klient.test" };

	/* "localhost" is in the certificate too */
	c.host = "localhost";
	assert_int_equal(smtp_send(&c, r, 2, raw, err, sizeof err), SMTP_SENT);
	assert_string_equal(err, "");
	char *m = maildir_wait(lab.maildir_biuro, marker);
	assert_lab_body(m);
	free(m);
	m = maildir_wait(lab.maildir_client, marker);
	assert_lab_body(m);
	assert_has(m, "Delivered-To: client@klient.test\n");
	free(m);
	free(raw);
}

/* tls none on purpose, no AUTH: Postfix takes local mail from 127.0.0.1. */
static void
test_lab_plaintext_configured(void **state)
{
	(void)state;
	NEED_LAB();
	struct smtp_conf c = lab_conf(SMTP_TLS_NONE);
	char marker[40], err[256] = "";
	char *raw = lab_message("client@klient.test", marker);

	c.user = NULL;
	assert_int_equal(send1(&c, "client@klient.test", raw, err, sizeof err),
	    SMTP_SENT);
	char *m = maildir_wait(lab.maildir_client, marker);
	assert_lab_body(m);
	free(m);
	free(raw);
}

static void
test_lab_unknown_recipient(void **state)
{
	(void)state;
	NEED_LAB();
	enum smtp_tls modes[] = { SMTP_TLS_SMTPS, SMTP_TLS_STARTTLS };
	char marker[40], marker2[40], err[256];
	char *raw = lab_message("biuro@bmt.example", marker);
	const char *r[] = { "biuro@bmt.example", "nobody@bmt.example" };

	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		struct smtp_conf c = lab_conf(modes[i]);
		assert_int_equal(smtp_send(&c, r, 2, raw, err, sizeof err),
		    SMTP_PERMFAIL);
		assert_one_line(err);
		assert_has(err, "RCPT TO <nobody@bmt.example>: 550 5.1.1 ");
		assert_has(err, "Recipient address rejected");
	}
	/* Nobody got a partial send: a later message arrives, this one not. */
	struct smtp_conf c = lab_conf(SMTP_TLS_SMTPS);
	char *raw2 = lab_message("biuro@bmt.example", marker2);
	assert_int_equal(send1(&c, "biuro@bmt.example", raw2, err, sizeof err),
	    SMTP_SENT);
	free(maildir_wait(lab.maildir_biuro, marker2));
	assert_null(maildir_find(lab.maildir_biuro, marker));
	free(raw2);
	free(raw);
}

static void
test_lab_wrong_password(void **state)
{
	(void)state;
	NEED_LAB();
	enum smtp_tls modes[] = { SMTP_TLS_SMTPS, SMTP_TLS_STARTTLS };
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		struct smtp_conf c = lab_conf(modes[i]);
		c.password = "not-the-password";
		assert_int_equal(send1(&c, "biuro@bmt.example", "Subject: x\n\nx\n",
		    err, sizeof err), SMTP_TEMPFAIL);
		assert_has(err, "authentication failed");
		assert_has(err, "535");
	}
}

/* Another self-signed certificate as the CA: the lab's is not trusted. */
static void
test_lab_wrong_ca(void **state)
{
	(void)state;
	NEED_LAB();
	enum smtp_tls modes[] = { SMTP_TLS_SMTPS, SMTP_TLS_STARTTLS };
	char *dir = make_tmpdir();
	char *cert = path_join(dir, "other.pem");
	char *cmd = xasprintf("openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
	    "-addext subjectAltName=IP:127.0.0.1 -keyout %s/other.key -out %s "
	    ">/dev/null 2>&1", dir, cert);
	char err[256];

	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		struct smtp_conf c = lab_conf(modes[i]);
		c.ca_file = cert;
		assert_int_equal(send1(&c, "biuro@bmt.example", "Subject: x\n\nx\n",
		    err, sizeof err), SMTP_TEMPFAIL);
		assert_has(err, "certificate verification failed");
	}
	/* The system store does not know the lab's CA either. */
	struct smtp_conf c = lab_conf(SMTP_TLS_SMTPS);
	c.ca_file = NULL;
	assert_int_equal(send1(&c, "biuro@bmt.example", "Subject: x\n\nx\n", err,
	    sizeof err), SMTP_TEMPFAIL);
	assert_has(err, "certificate verification failed");
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(cmd);
	free(cert);
	free(dir);
}

/* TLS against the plain port, STARTTLS against the TLS port: TEMPFAIL. */
static void
test_lab_wrong_tls_mode(void **state)
{
	(void)state;
	NEED_LAB();
	char err[256];
	struct smtp_conf c = lab_conf(SMTP_TLS_SMTPS);

	c.port = lab.smtp_port;
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_has(err, "TLS");
	c = lab_conf(SMTP_TLS_STARTTLS);
	c.port = lab.smtps_port;
	c.timeout = 1;
	assert_int_equal(send1(&c, "biuro@bmt.example", "x\n", err, sizeof err),
	    SMTP_TEMPFAIL);
	assert_has(err, "timeout");
}

/* Postfix's message_size_limit is 50 MB: SIZE makes it refuse at MAIL. */
static void
test_lab_too_big(void **state)
{
	(void)state;
	NEED_LAB();
	size_t len = 51u << 20;
	char *big = xmalloc(len + 1), err[256];
	struct smtp_conf c = lab_conf(SMTP_TLS_SMTPS);

	for (size_t i = 0; i < len; i++)
		big[i] = i % 72 == 71 ? '\n' : 'a';
	big[len] = '\0';
	assert_int_equal(send1(&c, "biuro@bmt.example", big, err, sizeof err),
	    SMTP_PERMFAIL);
	assert_has(err, "552");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_bad_host),
		cmocka_unit_test(test_refuses_bad_addresses),
		cmocka_unit_test(test_refuses_bad_config),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_silent_server_times_out),
		cmocka_unit_test(test_wire_format),
		cmocka_unit_test(test_fake_rcpt_refused),
		cmocka_unit_test(test_fake_rcpt_tempfail),
		cmocka_unit_test(test_fake_content_rejected),
		cmocka_unit_test(test_fake_mail_refused),
		cmocka_unit_test(test_fake_data_refused),
		cmocka_unit_test(test_fake_session_refused),
		cmocka_unit_test(test_fake_auth_required),
		cmocka_unit_test(test_starttls_never_falls_back),
		cmocka_unit_test(test_auth_plaintext_when_configured),
		cmocka_unit_test(test_lab_smtps_auth),
		cmocka_unit_test(test_lab_starttls_auth_two_rcpts),
		cmocka_unit_test(test_lab_plaintext_configured),
		cmocka_unit_test(test_lab_unknown_recipient),
		cmocka_unit_test(test_lab_wrong_password),
		cmocka_unit_test(test_lab_wrong_ca),
		cmocka_unit_test(test_lab_wrong_tls_mode),
		cmocka_unit_test(test_lab_too_big),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, lab_setup, lab_teardown);
}
