/*
 * token: signed action tokens.
 *
 * DESIGN
 * Format v1 (at most 48 characters, lowercase):
 *
 *     t<task>-<user:5><actions:7><hours:5><mac:16>
 *
 *   't'      version marker; a later format takes another leading letter
 *   task     decimal, 1..2^40, no leading zero (readable in logs: "t17-")
 *   '-'
 *   then 33 characters of base32 (RFC 4648 alphabet, lowercased), fixed
 *   width, so no separators are needed and every value has exactly one
 *   spelling:
 *   user     25 bits, 1..2^24
 *   actions  35 bits, the uint32 action set (upper bits must be zero)
 *   hours    25 bits, expiry in whole hours since the epoch (>= 1)
 *   mac      80 bits: the first 10 bytes of
 *            HMAC-SHA256(key, "inkflow-token-v1" 0x00 task:be64 user:be64
 *                             actions:be32 hours:be64)
 *
 * The task stays decimal because people read these addresses in their mail
 * clients and in our logs; the tail is fixed width so that the longest
 * token (task 2^40) is exactly TOKEN_MAX: 1 + 13 + 1 + 33 = 48.  Every
 * field has one canonical spelling, so changing any character of a token
 * changes what the MAC covers (TOKEN_BAD_MAC) or makes it unparseable
 * (TOKEN_MALFORMED); nothing is malleable.
 */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TASK_MAX ((int64_t)1 << 40)
#define USER_MAX ((int64_t)1 << 24)
#define HOURS_MAX (((int64_t)1 << 25) - 1)
#define MAC_BYTES 10
#define W_USER 5
#define W_ACTIONS 7
#define W_HOURS 5
#define W_MAC 16 /* 80 bits / 5 */
#define TAIL_LEN (W_USER + W_ACTIONS + W_HOURS + W_MAC)
#define TASK_DIGITS 13 /* 2^40 = 1099511627776 */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static int
b32_val(int c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* v as exactly w base32 digits, most significant first. */
static void
put_num(char *out, uint64_t v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		out[i] = b32[v & 31];
		v >>= 5;
	}
}

/* w base32 digits (already checked to be in the alphabet). */
static uint64_t
get_num(const char *s, int w)
{
	uint64_t v = 0;
	for (int i = 0; i < w; i++)
		v = v << 5 | (uint64_t)b32_val((unsigned char)s[i]);
	return v;
}

static void
be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* The MAC as its 16 base32 characters. */
static void
mac_chars(const unsigned char key[32], int64_t task, int64_t user, uint32_t actions,
    int64_t hours, char out[W_MAC])
{
	static const char dom[] = "inkflow-token-v1"; /* sizeof includes the NUL */
	unsigned char msg[sizeof(dom) + 8 + 8 + 4 + 8];
	unsigned char d[32];
	size_t n = sizeof(dom);

	memcpy(msg, dom, n);
	be(msg + n, (uint64_t)task, 8);
	n += 8;
	be(msg + n, (uint64_t)user, 8);
	n += 8;
	be(msg + n, actions, 4);
	n += 4;
	be(msg + n, (uint64_t)hours, 8);
	n += 8;
	struct hmac_sha256_ctx h;
	hmac_sha256_set_key(&h, 32, key);
	hmac_sha256_update(&h, n, msg);
	hmac_sha256_digest(&h, sizeof(d), d);
	explicit_bzero(&h, sizeof(h));
	/* 10 bytes = two 40-bit groups of 8 characters (RFC 4648 base32). */
	for (int g = 0; g < 2; g++) {
		uint64_t v = 0;
		for (int i = 0; i < 5; i++)
			v = v << 8 | d[g * 5 + i];
		put_num(out + g * 8, v, 8);
	}
	explicit_bzero(d, sizeof(d));
}

int
token_load_key(const char *path, unsigned char key[32], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		bfmt(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Check the file we opened, not the name: no race with a rename. */
	struct stat st;
	if (fstat(fd, &st) < 0) {
		bfmt(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		bfmt(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		bfmt(err, errlen,
		    "%s: key file is accessible by group or others (mode %04o); "
		    "it must be 0600 or stricter (chmod 600 %s)",
		    path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	unsigned char buf[33];
	size_t got = 0;
	while (got < sizeof(buf)) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			bfmt(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != 32) {
		bfmt(err, errlen, "%s: key must be exactly 32 bytes, file has %s%lld",
		    path, got > 32 ? "more than " : "",
		    (long long)(got > 32 ? 32 : got));
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	memcpy(key, buf, 32);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void
token_make(const unsigned char key[32], const struct token_claims *c, char *out)
{
	int64_t hours = c->expires > 0 ? c->expires / 3600 + (c->expires % 3600 != 0) : 0;
	if (c->task < 1 || c->task > TASK_MAX || c->user < 1 || c->user > USER_MAX ||
	    hours < 1 || hours > HOURS_MAX) {
		/* A caller bug (ids come from our own database): never mint a
		 * token that verify would read differently. */
		fprintf(stderr, "inkflow: token_make: claims out of range (task=%lld "
		    "user=%lld expires=%lld)\n", (long long)c->task, (long long)c->user,
		    (long long)c->expires);
		abort();
	}
	int n = snprintf(out, TOKEN_MAX + 1, "t%lld-", (long long)c->task);
	char *p = out + n;
	put_num(p, (uint64_t)c->user, W_USER);
	p += W_USER;
	put_num(p, c->actions, W_ACTIONS);
	p += W_ACTIONS;
	put_num(p, (uint64_t)hours, W_HOURS);
	p += W_HOURS;
	mac_chars(key, c->task, c->user, c->actions, hours, p);
	p[W_MAC] = '\0';
}

enum token_check
token_verify(const unsigned char key[32], const char *tok, int64_t now,
    struct token_claims *out)
{
	char t[TOKEN_MAX + 1] = {0};
	size_t len;

	if (!tok)
		return TOKEN_MALFORMED;
	len = strnlen(tok, TOKEN_MAX + 1);
	if (len > TOKEN_MAX)
		return TOKEN_MALFORMED;
	for (size_t i = 0; i <= len; i++) {
		unsigned char ch = (unsigned char)tok[i];
		t[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}

	if (t[0] != 't')
		return TOKEN_MALFORMED;
	size_t i = 1;
	int64_t task = 0;
	if (t[i] < '1' || t[i] > '9')
		return TOKEN_MALFORMED;
	while (t[i] >= '0' && t[i] <= '9') {
		if (i > TASK_DIGITS)
			return TOKEN_MALFORMED;
		task = task * 10 + (t[i] - '0');
		i++;
	}
	if (task > TASK_MAX || t[i] != '-')
		return TOKEN_MALFORMED;
	i++;
	if (len - i != TAIL_LEN)
		return TOKEN_MALFORMED;
	const char *tail = t + i;
	for (size_t k = 0; k < TAIL_LEN; k++)
		if (b32_val((unsigned char)tail[k]) < 0)
			return TOKEN_MALFORMED;
	uint64_t user = get_num(tail, W_USER);
	uint64_t actions = get_num(tail + W_USER, W_ACTIONS);
	uint64_t hours = get_num(tail + W_USER + W_ACTIONS, W_HOURS);
	if (user < 1 || user > (uint64_t)USER_MAX || actions > UINT32_MAX || hours < 1)
		return TOKEN_MALFORMED;

	char want[W_MAC];
	mac_chars(key, task, (int64_t)user, (uint32_t)actions, (int64_t)hours, want);
	const char *mac = tail + W_USER + W_ACTIONS + W_HOURS;
	if (!memeql_sec(want, mac, W_MAC))
		return TOKEN_BAD_MAC;

	if (out) {
		out->task = task;
		out->user = (int64_t)user;
		out->actions = (uint32_t)actions;
		out->expires = (int64_t)hours * 3600;
	}
	return now >= (int64_t)hours * 3600 ? TOKEN_EXPIRED : TOKEN_OK;
}

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive comparison of a[0..n) with b[0..m). */
static int
mem_ieq(const char *a, size_t n, const char *b, size_t m)
{
	if (n != m)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return 0;
	return 1;
}

char *
token_from_address(const char *addr, const char *system_address)
{
	if (!addr || !system_address)
		return NULL;
	const char *sat = strrchr(system_address, '@');
	const char *at = strrchr(addr, '@');
	if (!sat || !at || sat == system_address)
		return NULL;
	if (!mem_ieq(at + 1, strlen(at + 1), sat + 1, strlen(sat + 1)))
		return NULL;
	const char *plus = memchr(addr, '+', (size_t)(at - addr));
	if (!plus || plus + 1 == at)
		return NULL;
	if (!mem_ieq(addr, (size_t)(plus - addr), system_address,
	    (size_t)(sat - system_address)))
		return NULL;
	return str_lower(xstrndup(plus + 1, (size_t)(at - plus - 1)));
}

char *
token_from_text(const char *text)
{
	static const char key[] = "inkflow-token";
	const char *p = text;

	if (!text)
		return NULL;
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		const char *s = p;
		/* Quoting: "> ", ">>", "> > " in any mix, and indentation. */
		while (s < eol && (*s == ' ' || *s == '\t' || *s == '>'))
			s++;
		if ((size_t)(eol - s) > sizeof(key) - 1 && str_istarts(s, key)) {
			s += sizeof(key) - 1;
			while (s < eol && (*s == ' ' || *s == '\t'))
				s++;
			if (s < eol && *s == ':') {
				s++;
				while (s < eol && (*s == ' ' || *s == '\t'))
					s++;
				const char *e = s;
				while (e < eol && *e != ' ' && *e != '\t' && *e != '\r')
					e++;
				const char *q = e;
				while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
					q++;
				/* The token alone on its line, of a plausible length. */
				if (e > s && q == eol && (size_t)(e - s) <= 4 * TOKEN_MAX)
					return str_lower(xstrndup(s, (size_t)(e - s)));
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}
