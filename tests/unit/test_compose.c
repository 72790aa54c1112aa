/*
 * Unit tests for compose.c: quoted-printable, base64, Message-IDs and whole
 * messages.  The messages are checked by decoding them back with small
 * decoders written here (RFC 2045 QP and base64, RFC 2047 words, RFC 2231
 * parameters), independent of mime.c, so an encoder and a decoder sharing a
 * mistake cannot hide it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose.h"
#include "util.h"

/* --- decoders --------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode quoted-printable with LF line ends, failing the test on anything
 * RFC 2045 forbids: lines over 76, trailing blanks, bytes that must be
 * encoded, malformed "=XX". */
static char *
qp_decode(const char *qp)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	const char *p = qp;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 76)
			fail_msg("QP line of %zu characters: %.*s", n, (int)n, p);
		if (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			fail_msg("QP line ends in a blank: \"%.*s\"", (int)n, p);
		int soft = n && p[n - 1] == '=';
		size_t end = soft ? n - 1 : n;
		for (size_t i = 0; i < end; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '=') {
				if (i + 2 >= end || hexval(p[i + 1]) < 0 || hexval(p[i + 2]) < 0)
					fail_msg("bad QP escape in \"%.*s\"", (int)n, p);
				int h = hexval(p[i + 1]), l = hexval(p[i + 2]);
				if (p[i + 1] >= 'a' || p[i + 2] >= 'a')
					fail_msg("lowercase QP escape in \"%.*s\"", (int)n, p);
				sb_addc(&sb, (char)(h * 16 + l));
				i += 2;
			} else if ((c >= 33 && c <= 126) || c == ' ' || c == '\t') {
				sb_addc(&sb, (char)c);
			} else {
				fail_msg("unencoded byte 0x%02x in QP", c);
			}
		}
		if (!nl)
			break;
		if (!soft)
			sb_addc(&sb, '\n');
		p = nl + 1;
	}
	return sb_steal(&sb);
}

static int
b64val(int c)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *q = c ? strchr(tbl, c) : NULL;
	return q ? (int)(q - tbl) : -1;
}

/* Decode base64, ignoring line breaks; fails on anything else. */
static char *
b64_decode(const char *s, size_t *len)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	unsigned acc = 0;
	int bits = 0, pad = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '\n')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		int v = b64val((unsigned char)*p);
		if (v < 0 || pad)
			fail_msg("bad base64 character 0x%02x", (unsigned char)*p);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_addc(&sb, (char)((acc >> bits) & 0xff));
		}
	}
	*len = sb.len;
	return sb_steal(&sb);
}

/* Decode a header value holding RFC 2047 words (UTF-8, B or Q); blanks
 * between adjacent encoded words are dropped. */
static char *
rfc2047_decode(const char *v)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	const char *p = v;
	int last_was_word = 0;
	while (*p) {
		if (strncmp(p, "=?", 2) == 0) {
			const char *q1 = strchr(p + 2, '?');
			const char *q2 = q1 ? strchr(q1 + 1, '?') : NULL;
			const char *end = q2 ? strstr(q2 + 1, "?=") : NULL;
			if (q1 && q2 && end && q2 == q1 + 2) {
				char charset[32];
				size_t cl = (size_t)(q1 - p - 2);
				assert_true(cl < sizeof(charset));
				memcpy(charset, p + 2, cl);
				charset[cl] = '\0';
				if (!str_ieq(charset, "UTF-8"))
					fail_msg("charset %s in encoded word", charset);
				if (end + 2 - p > 75)
					fail_msg("encoded word of %d characters", (int)(end + 2 - p));
				char *text = xstrndup(q2 + 1, (size_t)(end - q2 - 1));
				if (strpbrk(text, " \t\n\r?"))
					fail_msg("blank or '?' inside an encoded word");
				if (q1[1] == 'B' || q1[1] == 'b') {
					size_t n;
					char *d = b64_decode(text, &n);
					sb_add(&sb, d, n);
					free(d);
				} else if (q1[1] == 'Q' || q1[1] == 'q') {
					for (const char *t = text; *t; t++) {
						if (*t == '_')
							sb_addc(&sb, ' ');
						else if (*t == '=' && hexval(t[1]) >= 0 && hexval(t[2]) >= 0) {
							sb_addc(&sb, (char)(hexval(t[1]) * 16 + hexval(t[2])));
							t += 2;
						} else
							sb_addc(&sb, *t);
					}
				} else
					fail_msg("encoding %c", q1[1]);
				free(text);
				p = end + 2;
				last_was_word = 1;
				continue;
			}
		}
		if (last_was_word && (*p == ' ' || *p == '\t')) {
			/* Blanks only between two encoded words are dropped. */
			const char *n = p;
			while (*n == ' ' || *n == '\t')
				n++;
			if (strncmp(n, "=?", 2) == 0) {
				p = n;
				continue;
			}
		}
		sb_addc(&sb, *p++);
		last_was_word = 0;
	}
	return sb_steal(&sb);
}

/* A display name: a quoted string (unescaped) or a phrase of atoms and
 * encoded words. */
static char *
phrase_decode(const char *v)
{
	if (*v == '"') {
		struct sbuf sb = {0};
		sb_add(&sb, "", 0);
		const char *p = v + 1;
		for (; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			sb_addc(&sb, *p);
		}
		assert_int_equal(*p, '"');
		assert_int_equal(p[1], '\0');
		char *s = sb_steal(&sb);
		/* RFC 2047 does not apply inside quotes; mime.c never does it. */
		assert_null(strstr(s, "=?"));
		return s;
	}
	return rfc2047_decode(v);
}

/* The header section of msg (up to the blank line), lent as a copy. */
static char *
header_section(const char *msg)
{
	const char *e = strstr(msg, "\n\n");
	assert_non_null(e);
	return xstrndup(msg, (size_t)(e - msg + 1));
}

/* Unfolded value of the first field name in a header section; NULL when
 * absent.  Caller frees. */
static char *
hdr_get(const char *msg, const char *name)
{
	char *h = header_section(msg);
	size_t nl = strlen(name);
	char *out = NULL;
	for (char *line = h; *line;) {
		char *e = strchr(line, '\n');
		if (!e)
			break;
		if (str_istarts(line, name) && line[nl] == ':') {
			struct sbuf sb = {0};
			sb_add(&sb, "", 0);
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			sb_add(&sb, v, (size_t)(e - v));
			while (e[1] == ' ' || e[1] == '\t') {
				const char *c = e + 1;
				e = strchr(c, '\n');
				assert_non_null(e);
				sb_add(&sb, c, (size_t)(e - c));
			}
			out = sb_steal(&sb);
			break;
		}
		line = e + 1;
	}
	free(h);
	return out;
}

static size_t
hdr_count(const char *msg, const char *name)
{
	char *h = header_section(msg);
	size_t nl = strlen(name), n = 0;
	for (char *line = h; *line;) {
		if (str_istarts(line, name) && line[nl] == ':')
			n++;
		char *e = strchr(line, '\n');
		if (!e)
			break;
		line = e + 1;
	}
	free(h);
	return n;
}

/* Every header line: no CR, at most 998 characters (RFC 5322; Subject
 * lines at most 78: the encoder folds them), and either a field "Name: ..."
 * with a name from the allow-list or a continuation. */
static void
assert_header_sane(const char *msg)
{
	static const char *const fields[] = {"From", "To", "Cc", "Reply-To", "Subject",
	    "Date", "Message-ID", "In-Reply-To", "References", "Auto-Submitted",
	    "X-Auto-Response-Suppress", "X-Inkflow-Loop", "X-Inkflow-Project",
	    "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	    "Content-Disposition"};
	char *h = header_section(msg);
	assert_null(strchr(h, '\r'));
	int first = 1, in_subject = 0;
	for (char *line = h; *line;) {
		char *e = strchr(line, '\n');
		size_t n = (size_t)(e - line);
		if (line[0] != ' ' && line[0] != '\t')
			in_subject = strncmp(line, "Subject:", 8) == 0;
		if (n > (in_subject ? 78 : 998))
			fail_msg("header line of %zu characters: %.*s", n, (int)n, line);
		if (line[0] == ' ' || line[0] == '\t') {
			assert_false(first);
		} else {
			int known = 0;
			for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
				size_t fl = strlen(fields[i]);
				if (strncmp(line, fields[i], fl) == 0 && line[fl] == ':')
					known = 1;
			}
			if (!known)
				fail_msg("unexpected header line \"%.*s\"", (int)n, line);
		}
		first = 0;
		line = e + 1;
	}
	free(h);
}

/* A parameter of a header value, decoded: RFC 2231 (with or without
 * continuations) preferred, else a plain or quoted value (RFC 2047 words
 * in it decoded).  NULL when absent.  Caller frees. */
static char *
param_get(const char *value, const char *name)
{
	size_t nl = strlen(name);
	struct sbuf ext = {0}, plain = {0};
	int have_ext = 0, have_plain = 0;
	const char *p = strchr(value, ';');
	while (p && *p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		const char *eq = strchr(p, '=');
		if (!eq)
			break;
		char *key = xstrndup(p, (size_t)(eq - p));
		const char *v = eq + 1;
		struct sbuf val = {0};
		sb_add(&val, "", 0);
		if (*v == '"') {
			v++;
			while (*v && *v != '"') {
				if (*v == '\\' && v[1])
					v++;
				sb_addc(&val, *v++);
			}
			assert_int_equal(*v, '"');
			v++;
		} else {
			while (*v && *v != ';' && *v != ' ' && *v != '\t')
				sb_addc(&val, *v++);
		}
		p = strchr(v, ';');
		int is_ext = 0, encoded = 0;
		if (strncmp(key, name, nl) == 0) {
			const char *k = key + nl;
			if (*k == '\0') {
				sb_free(&plain);
				sb_adds(&plain, sb_str(&val));
				have_plain = 1;
			} else if (*k == '*') {
				/* name* | name*N | name*N* */
				is_ext = 1;
				k++;
				if (*k == '\0')
					encoded = 1;
				else {
					while (*k >= '0' && *k <= '9')
						k++;
					encoded = *k == '*';
				}
			}
		}
		if (is_ext) {
			const char *s = sb_str(&val);
			if (encoded && !have_ext) {
				/* charset'lang'value */
				const char *q = strchr(s, '\'');
				assert_non_null(q);
				assert_true(str_istarts(s, "UTF-8'"));
				q = strchr(q + 1, '\'');
				assert_non_null(q);
				s = q + 1;
			}
			for (; *s; s++) {
				if (encoded && *s == '%') {
					assert_true(hexval(s[1]) >= 0 && hexval(s[2]) >= 0);
					sb_addc(&ext, (char)(hexval(s[1]) * 16 + hexval(s[2])));
					s += 2;
				} else {
					sb_addc(&ext, *s);
				}
			}
			have_ext = 1;
		}
		sb_free(&val);
		free(key);
	}
	if (have_ext) {
		sb_free(&plain);
		return sb_steal(&ext);
	}
	if (have_plain) {
		char *r = rfc2047_decode(sb_str(&plain));
		sb_free(&plain);
		return r;
	}
	return NULL;
}

struct part {
	char *head; /* header lines, owned */
	char *body; /* owned */
};

/* Split a multipart body by boundary; the parts in order. */
static struct part *
split_multipart(const char *body, const char *boundary, size_t *n)
{
	char *open = xasprintf("--%s\n", boundary);
	char *delim = xasprintf("\n--%s", boundary);
	struct part *v = NULL;
	*n = 0;
	const char *p = strstr(body, open);
	assert_non_null(p);
	assert_true(p == body || p[-1] == '\n');
	p += strlen(open);
	for (;;) {
		const char *e = strstr(p, delim);
		assert_non_null(e);
		const char *hb = strstr(p, "\n\n");
		assert_non_null(hb);
		assert_true(hb < e);
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[*n].head = xstrndup(p, (size_t)(hb - p + 1));
		v[*n].body = xstrndup(hb + 2, (size_t)(e - hb - 2));
		(*n)++;
		e += strlen(delim);
		if (strncmp(e, "--", 2) == 0) {
			assert_true(e[2] == '\n' || e[2] == '\0');
			break;
		}
		assert_int_equal(*e, '\n');
		p = e + 1;
	}
	free(open);
	free(delim);
	return v;
}

static void
parts_free(struct part *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].head);
		free(v[i].body);
	}
	free(v);
}

/* The value of a field inside a part's header (as hdr_get on "head\n"). */
static char *
part_hdr(const struct part *p, const char *name)
{
	char *m = xasprintf("%s\n", p->head);
	char *v = hdr_get(m, name);
	free(m);
	return v;
}

static char *
boundary_of(const char *content_type)
{
	char *b = param_get(content_type, "boundary");
	assert_non_null(b);
	return b;
}

/* --- compose_qp ------------------------------------------------------- */

static void
assert_qp(const char *in, const char *want)
{
	char *got = compose_qp(in);
	assert_string_equal(got, want);
	free(got);
}

/* Encoding then decoding gives back the text (CR dropped). */
static void
assert_qp_roundtrip(const char *in)
{
	char *qp = compose_qp(in);
	char *back = qp_decode(qp);
	struct sbuf want = {0};
	sb_add(&want, "", 0);
	for (const char *p = in; *p; p++)
		if (*p != '\r')
			sb_addc(&want, *p);
	assert_string_equal(back, sb_str(&want));
	/* No line may start with "." or "From " (mbox, SMTP). */
	for (const char *l = qp; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (*l == '\0')
			break;
		assert_false(l[0] == '.');
		assert_false(strncmp(l, "From ", 5) == 0);
	}
	sb_free(&want);
	free(back);
	free(qp);
}

static void
test_qp_basic(void **state)
{
	(void)state;
	assert_qp("", "");
	assert_qp("abc", "abc");
	assert_qp("a=b", "a=3Db");
	assert_qp("==", "=3D=3D");
	assert_qp("line 1\nline 2\n", "line 1\nline 2\n");
	assert_qp("a\r\nb\r\n", "a\nb\n");
	assert_qp("tab\tinside", "tab\tinside");
	assert_qp("Łódź", "=C5=81=C3=B3d=C5=BA");
	assert_qp("zażółć gęślą jaźń",
	    "za=C5=BC=C3=B3=C5=82=C4=87 g=C4=99=C5=9Bl=C4=85 ja=C5=BA=C5=84");
	assert_qp("Grüße", "Gr=C3=BC=C3=9Fe");
	assert_qp("3×1 m", "3=C3=971 m");
	assert_qp("\x7f\x01", "=7F=01");
	assert_qp("~!\"#$%&'()*+,-./:;<>?@[\\]^_`{|}", "~!\"#$%&'()*+,-./:;<>?@[\\]^_`{|}");
}

static void
test_qp_trailing_blanks(void **state)
{
	(void)state;
	assert_qp("trailing \nx", "trailing=20\nx");
	assert_qp("tab\t\nx", "tab=09\nx");
	assert_qp("two  \n", "two =20\n");
	assert_qp("end ", "end=20");
	assert_qp("end\t", "end=09");
	assert_qp(" ", "=20");
	assert_qp(" \n \n", "=20\n=20\n");
	assert_qp("crlf \r\nx", "crlf=20\nx");
	assert_qp("inner space stays", "inner space stays");
}

static void
test_qp_dot_and_from(void **state)
{
	(void)state;
	assert_qp(".", "=2E");
	assert_qp(".\n", "=2E\n");
	assert_qp("a\n.b\n", "a\n=2Eb\n");
	assert_qp("a.b\n", "a.b\n");
	assert_qp("..", "=2E.");
	assert_qp("From here", "=46rom here");
	assert_qp("a\nFrom x\n", "a\n=46rom x\n");
	assert_qp("Fromage", "Fromage");
	assert_qp("From", "From");
	assert_qp("x From y", "x From y");
}

static void
test_qp_long_lines(void **state)
{
	(void)state;
	char line[301];
	memset(line, 'a', 300);
	line[300] = '\0';
	char *qp = compose_qp(line);
	/* Soft breaks: "=" ends every line but the last, none over 76. */
	assert_int_equal(strncmp(qp + 75, "=\n", 2), 0);
	free(qp);
	assert_qp_roundtrip(line);

	/* Exactly at the limits. */
	for (size_t n = 70; n <= 80; n++) {
		line[n] = '\0';
		assert_qp_roundtrip(line);
		line[n] = 'a';
	}

	/* Polish letters: escapes are never cut by a soft break. */
	struct sbuf sb = {0};
	for (int i = 0; i < 100; i++)
		sb_adds(&sb, "ł");
	sb_adds(&sb, "\n");
	for (int i = 0; i < 60; i++)
		sb_adds(&sb, "Zażółć ");
	assert_qp_roundtrip(sb_str(&sb));
	qp = compose_qp(sb_str(&sb));
	assert_int_equal(strncmp(qp, "=C5=82", 6), 0);
	free(qp);
	sb_free(&sb);

	/* "=" and "." right at a soft break. */
	memset(line, 'a', 300);
	line[300] = '\0';
	line[75] = '.';
	line[76] = '=';
	line[150] = 'F';
	assert_qp_roundtrip(line);
	memcpy(line + 75, "From ", 5);
	assert_qp_roundtrip(line);
}

static void
test_qp_trailing_blank_at_limit(void **state)
{
	(void)state;
	/* A blank that ends a line near column 76 becomes "=20": the line
	 * must still fit. */
	char buf[200];
	for (size_t n = 60; n <= 80; n++) {
		memset(buf, 'a', n);
		strcpy(buf + n, " \nnext\t");
		assert_qp_roundtrip(buf);
		memset(buf, 'a', n);
		strcpy(buf + n, "\t");
		assert_qp_roundtrip(buf);
	}
	/* With escapes before the blank. */
	struct sbuf sb = {0};
	for (int i = 0; i < 24; i++) {
		sb_adds(&sb, "ż");
		char *t = xasprintf("%s \n", sb_str(&sb));
		assert_qp_roundtrip(t);
		free(t);
	}
	sb_free(&sb);
}

static void
test_qp_roundtrip_random(void **state)
{
	(void)state;
	/* Deterministic pseudo-random texts of bytes 1..255 with many blanks,
	 * dots, "From " and line breaks. */
	uint32_t x = 2463534242u;
	char buf[600];
	for (int round = 0; round < 400; round++) {
		size_t n = 1 + round % 597;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			unsigned r = x % 20;
			if (r < 3)
				buf[i] = ' ';
			else if (r == 3)
				buf[i] = '\n';
			else if (r == 4)
				buf[i] = '.';
			else if (r == 5)
				buf[i] = '=';
			else if (r == 6)
				buf[i] = '\t';
			else if (r == 7 && i + 5 < n) {
				memcpy(buf + i, "From ", 5);
				i += 4;
			} else
				buf[i] = (char)(1 + (x >> 8) % 255);
		}
		buf[n] = '\0';
		assert_qp_roundtrip(buf);
	}
}

/* --- compose_base64 --------------------------------------------------- */

static void
assert_b64(const char *in, const char *want)
{
	char *got = compose_base64(in, strlen(in));
	assert_string_equal(got, want);
	free(got);
}

static void
test_base64_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10, each line ended by LF. */
	assert_b64("", "");
	assert_b64("f", "Zg==\n");
	assert_b64("fo", "Zm8=\n");
	assert_b64("foo", "Zm9v\n");
	assert_b64("foob", "Zm9vYg==\n");
	assert_b64("fooba", "Zm9vYmE=\n");
	assert_b64("foobar", "Zm9vYmFy\n");
	assert_b64("Łódź", "xYHDs2TFug==\n");

	char bin[3] = {(char)0xff, (char)0xfe, 0};
	char *got = compose_base64(bin, 3);
	assert_string_equal(got, "//4A\n");
	free(got);
}

static void
test_base64_lines(void **state)
{
	(void)state;
	char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	/* 57 bytes make exactly one full 76-character line. */
	char *b = compose_base64(data, 57);
	assert_int_equal(strlen(b), 77);
	assert_int_equal(b[76], '\n');
	free(b);
	b = compose_base64(data, 58);
	assert_int_equal(strlen(b), 77 + 5);
	assert_int_equal(b[76], '\n');
	assert_string_equal(b + 81, "\n");
	free(b);

	for (size_t n = 0; n <= sizeof(data); n += (n < 200 ? 1 : 97)) {
		b = compose_base64(data, n);
		size_t len = strlen(b);
		/* Every line 76 characters except the last; LF after each. */
		const char *p = b;
		while (*p) {
			const char *nl = strchr(p, '\n');
			assert_non_null(nl);
			size_t ll = (size_t)(nl - p);
			assert_true(ll <= 76 && ll > 0);
			assert_true(ll % 4 == 0);
			if (nl[1])
				assert_int_equal(ll, 76);
			p = nl + 1;
		}
		assert_int_equal(len, n ? (n + 2) / 3 * 4 + ((n + 2) / 3 * 4 + 75) / 76 : 0);
		size_t dl;
		char *d = b64_decode(b, &dl);
		assert_int_equal(dl, n);
		assert_memory_equal(d, data, n);
		free(d);
		free(b);
	}
}

/* --- compose_message_id ----------------------------------------------- */

static void
test_message_id(void **state)
{
	(void)state;
	char *a = compose_message_id("bmt.example", 12);
	char *b = compose_message_id("bmt.example", 12);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, "ink-12-", 7), 0);
	assert_int_equal(strspn(a + 7, "0123456789abcdef"), 24);
	assert_string_equal(a + 31, "@bmt.example");
	free(a);
	free(b);
	/* Mail not tied to a project yet. */
	a = compose_message_id("bmt.example", 0);
	assert_int_equal(strncmp(a, "ink-0-", 6), 0);
	assert_string_equal(a + 30, "@bmt.example");
	free(a);
}

/* --- compose_mail ----------------------------------------------------- */

#define DATE 1795784580 /* Fri, 27 Nov 2026 13:03:00 UTC */

static const char *const refs3[] = {"CAF1234567@mail.gmail.com", "ink-12-aaaaaaaaaaaaaaaaaaaaaaaa@bmt.example",
    "ink-12-bbbbbbbbbbbbbbbbbbbbbbbb@bmt.example"};

static struct mail_out
sample(void)
{
	struct mail_out m;
	memset(&m, 0, sizeof(m));
	m.from_name = "Biuro Obsługi Klienta – BMT Druk";
	m.from_addr = "biuro@bmt.example";
	m.to_name = "Jan Kowalski";
	m.to_addr = "jan@client.example";
	m.subject = "Potwierdzenie przyjęcia zapytania [INK-12]: Baner 3×1 m z oczkami, "
	            "druk jednostronny – Łódź, Żółkiewskiego 7";
	m.in_reply_to = "CAF1234567@mail.gmail.com";
	m.refs = refs3;
	m.nrefs = 3;
	m.text = "Dzień dobry,\n\ndziękujemy za zapytanie.\n.\nFrom now on: INK-12 \n";
	m.html = "<p>Dzień dobry,</p>\n<p>dziękujemy za zapytanie „Baner”.</p>\n";
	m.auto_generated = 1;
	m.loop_id = "biuro@bmt.example";
	m.project = 12;
	return m;
}

static int
setup_tz(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void
test_mail_headers(void **state)
{
	(void)state;
	struct mail_out m = sample();
	const char *mid = "ink-12-0123456789abcdef01234567@bmt.example";
	char *msg = compose_mail(&m, mid, DATE);
	assert_header_sane(msg);
	assert_null(strchr(msg, '\r'));

	char *v = hdr_get(msg, "From");
	assert_non_null(v);
	char *lt = strrchr(v, '<');
	assert_non_null(lt);
	assert_string_equal(lt, "<biuro@bmt.example>");
	assert_true(lt > v && lt[-1] == ' ');
	lt[-1] = '\0';
	assert_non_null(strstr(v, "=?")); /* Polish: encoded */
	char *name = phrase_decode(v);
	assert_string_equal(name, "Biuro Obsługi Klienta – BMT Druk");
	free(name);
	free(v);

	v = hdr_get(msg, "To");
	lt = strrchr(v, '<');
	assert_string_equal(lt, "<jan@client.example>");
	lt[-1] = '\0';
	name = phrase_decode(v);
	assert_string_equal(name, "Jan Kowalski");
	free(name);
	free(v);

	v = hdr_get(msg, "Subject");
	assert_non_null(strstr(v, "=?"));
	char *subj = rfc2047_decode(v);
	assert_string_equal(subj, m.subject);
	free(subj);
	free(v);

	v = hdr_get(msg, "Date");
	assert_string_equal(v, "Fri, 27 Nov 2026 13:03:00 +0000");
	free(v);
	v = hdr_get(msg, "Message-ID");
	assert_string_equal(v, "<ink-12-0123456789abcdef01234567@bmt.example>");
	free(v);
	v = hdr_get(msg, "In-Reply-To");
	assert_string_equal(v, "<CAF1234567@mail.gmail.com>");
	free(v);

	/* References: one id per line, oldest first, folded. */
	assert_non_null(strstr(msg,
	    "\nReferences: <CAF1234567@mail.gmail.com>\n"
	    " <ink-12-aaaaaaaaaaaaaaaaaaaaaaaa@bmt.example>\n"
	    " <ink-12-bbbbbbbbbbbbbbbbbbbbbbbb@bmt.example>\n"));

	v = hdr_get(msg, "Auto-Submitted");
	assert_string_equal(v, "auto-generated");
	free(v);
	v = hdr_get(msg, "X-Inkflow-Loop");
	assert_string_equal(v, "biuro@bmt.example");
	free(v);
	v = hdr_get(msg, "X-Inkflow-Project");
	assert_string_equal(v, "12");
	free(v);
	v = hdr_get(msg, "MIME-Version");
	assert_string_equal(v, "1.0");
	free(v);
	static const char *const once[] = {"From", "To", "Subject", "Date", "Message-ID",
	    "MIME-Version", "Content-Type"};
	for (size_t i = 0; i < ARRAY_LEN(once); i++)
		if (hdr_count(msg, once[i]) != 1)
			fail_msg("%s appears %zu times", once[i], hdr_count(msg, once[i]));
	assert_int_equal(hdr_count(msg, "Cc"), 0);
	assert_int_equal(hdr_count(msg, "Reply-To"), 0);
	free(msg);
}

static void
test_mail_optional_headers(void **state)
{
	(void)state;
	struct mail_out m = sample();
	m.from_name = NULL;
	m.to_name = "";
	m.cc_name = "Kowalski, Jan";
	m.cc_addr = "jan2@client.example";
	m.reply_to = "biuro+t17-abc@bmt.example";
	m.subject = "Plain ASCII subject";
	m.in_reply_to = NULL;
	m.refs = NULL;
	m.nrefs = 0;
	m.auto_generated = 0;
	m.loop_id = NULL;
	m.project = 0;
	char *msg = compose_mail(&m, "x@bmt.example", DATE);
	assert_header_sane(msg);

	char *v = hdr_get(msg, "From");
	assert_string_equal(v, "<biuro@bmt.example>");
	free(v);
	v = hdr_get(msg, "To");
	assert_string_equal(v, "<jan@client.example>");
	free(v);
	v = hdr_get(msg, "Cc");
	char *lt = strrchr(v, '<');
	assert_string_equal(lt, "<jan2@client.example>");
	lt[-1] = '\0';
	char *name = phrase_decode(v);
	assert_string_equal(name, "Kowalski, Jan");
	free(name);
	free(v);
	v = hdr_get(msg, "Reply-To");
	assert_string_equal(v, "<biuro+t17-abc@bmt.example>");
	free(v);
	v = hdr_get(msg, "Subject");
	assert_string_equal(v, "Plain ASCII subject");
	free(v);
	static const char *const absent[] = {"In-Reply-To", "References", "Auto-Submitted",
	    "X-Auto-Response-Suppress", "X-Inkflow-Loop", "X-Inkflow-Project"};
	for (size_t i = 0; i < ARRAY_LEN(absent); i++)
		if (hdr_count(msg, absent[i]))
			fail_msg("%s present", absent[i]);
	free(msg);
}

static void
test_mail_alternative(void **state)
{
	(void)state;
	struct mail_out m = sample();
	char *msg = compose_mail(&m, "x@bmt.example", DATE);
	char *ct = hdr_get(msg, "Content-Type");
	assert_true(str_istarts(ct, "multipart/alternative;"));
	char *b = boundary_of(ct);
	const char *body = strstr(msg, "\n\n") + 2;
	size_t n;
	struct part *p = split_multipart(body, b, &n);
	assert_int_equal(n, 2);

	static const char *const types[] = {"text/plain", "text/html"};
	const char *texts[] = {m.text, m.html};
	for (size_t i = 0; i < 2; i++) {
		char *pct = part_hdr(&p[i], "Content-Type");
		assert_true(str_istarts(pct, types[i]));
		char *cs = param_get(pct, "charset");
		assert_true(str_ieq(cs, "UTF-8"));
		free(cs);
		free(pct);
		char *cte = part_hdr(&p[i], "Content-Transfer-Encoding");
		assert_string_equal(cte, "quoted-printable");
		free(cte);
		char *dec = qp_decode(p[i].body);
		/* The line break before the delimiter belongs to it (RFC 2046);
		 * the text then ends exactly as written. */
		assert_string_equal(dec, texts[i]);
		free(dec);
	}
	parts_free(p, n);
	free(b);
	free(ct);
	free(msg);

	/* Text only: a single text/plain body, no multipart. */
	m.html = NULL;
	msg = compose_mail(&m, "x@bmt.example", DATE);
	ct = hdr_get(msg, "Content-Type");
	assert_true(str_istarts(ct, "text/plain;"));
	free(ct);
	char *cte = hdr_get(msg, "Content-Transfer-Encoding");
	assert_string_equal(cte, "quoted-printable");
	free(cte);
	char *dec = qp_decode(strstr(msg, "\n\n") + 2);
	assert_string_equal(dec, m.text);
	free(dec);
	free(msg);
}

static void
test_mail_attachments(void **state)
{
	(void)state;
	struct mail_out m = sample();
	char pdf[300];
	for (size_t i = 0; i < sizeof(pdf); i++)
		pdf[i] = (char)(i * 31);
	memcpy(pdf, "%PDF-1.4\n", 9);
	const char ics[] = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
	const struct mail_att_out atts[] = {
		{"Oferta INK-12 – Łódź, Żółkiewskiego.pdf", "application/pdf", pdf, sizeof(pdf)},
		{"zadanie.ics", "text/calendar", ics, sizeof(ics) - 1},
	};
	m.atts = atts;
	m.natts = 2;
	char *msg = compose_mail(&m, "x@bmt.example", DATE);
	assert_header_sane(msg);
	assert_null(strchr(msg, '\r'));

	char *ct = hdr_get(msg, "Content-Type");
	assert_true(str_istarts(ct, "multipart/mixed;"));
	char *mixed = boundary_of(ct);
	free(ct);
	size_t n;
	struct part *p = split_multipart(strstr(msg, "\n\n") + 2, mixed, &n);
	assert_int_equal(n, 3);

	/* First the text and HTML alternative. */
	char *act = part_hdr(&p[0], "Content-Type");
	assert_true(str_istarts(act, "multipart/alternative;"));
	char *alt = boundary_of(act);
	assert_string_not_equal(alt, mixed);
	size_t an;
	struct part *ap = split_multipart(p[0].body, alt, &an);
	assert_int_equal(an, 2);
	char *dec = qp_decode(ap[0].body);
	assert_string_equal(dec, m.text);
	free(dec);
	parts_free(ap, an);
	free(alt);
	free(act);

	/* Then each attachment, named and decodable. */
	for (size_t i = 0; i < 2; i++) {
		const struct part *a = &p[1 + i];
		char *pct = part_hdr(a, "Content-Type");
		assert_true(str_istarts(pct, atts[i].content_type));
		char *nm = param_get(pct, "name");
		assert_non_null(nm);
		assert_string_equal(nm, atts[i].filename);
		free(nm);
		free(pct);
		char *cd = part_hdr(a, "Content-Disposition");
		assert_true(str_istarts(cd, "attachment;"));
		char *fn = param_get(cd, "filename");
		assert_non_null(fn);
		assert_string_equal(fn, atts[i].filename);
		free(fn);
		free(cd);
		char *cte = part_hdr(a, "Content-Transfer-Encoding");
		assert_string_equal(cte, "base64");
		free(cte);
		size_t dl;
		char *d = b64_decode(a->body, &dl);
		assert_int_equal(dl, atts[i].len);
		assert_memory_equal(d, atts[i].data, dl);
		free(d);
	}
	parts_free(p, n);
	free(mixed);
	free(msg);
}

static void
test_mail_no_header_injection(void **state)
{
	(void)state;
	const char *evil = "\r\nBcc: x@y";
	char *subject = xasprintf("Zapytanie%s", evil);
	char *subject_pl = xasprintf("Zażółć%s\nX-Evil: 1", evil);
	char *name = xasprintf("Jan%s", evil);
	char *name_pl = xasprintf("Łukasz%s", evil);
	char *addr = xasprintf("jan@client.example%s", evil);
	char *ref = xasprintf("ref@x%s", evil);
	char *fname = xasprintf("Oferta%s.pdf", evil);
	char *fname_pl = xasprintf("Łódź%s.pdf", evil);
	const char *refs[] = {ref, "ok@x"};
	const struct mail_att_out atts[] = {
		{fname, "application/pdf", "x", 1},
		{fname_pl, "application/pdf", "y", 1},
	};
	for (int variant = 0; variant < 2; variant++) {
		struct mail_out m = sample();
		m.subject = variant ? subject_pl : subject;
		m.from_name = variant ? name_pl : name;
		m.to_name = variant ? name : name_pl;
		m.to_addr = addr;
		m.cc_name = name;
		m.cc_addr = addr;
		m.reply_to = addr;
		m.in_reply_to = ref;
		m.refs = refs;
		m.nrefs = 2;
		m.loop_id = addr;
		m.atts = atts;
		m.natts = 2;
		char *msg = compose_mail(&m, "x@bmt.example", DATE);
		assert_null(strchr(msg, '\r'));
		assert_header_sane(msg);
		/* No line anywhere begins a Bcc or X-Evil field. */
		for (const char *l = msg; l; l = strchr(l, '\n')) {
			if (*l == '\n')
				l++;
			assert_false(str_istarts(l, "Bcc:"));
			assert_false(str_istarts(l, "X-Evil:"));
			if (!*l)
				break;
		}
		/* The text survives, on one line. */
		char *v = hdr_get(msg, "Subject");
		char *s = rfc2047_decode(v);
		assert_non_null(strstr(s, "Bcc: x@y"));
		assert_null(strpbrk(s, "\r\n"));
		free(s);
		free(v);
		free(msg);
	}
	free(subject);
	free(subject_pl);
	free(name);
	free(name_pl);
	free(addr);
	free(ref);
	free(fname);
	free(fname_pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qp_basic),
		cmocka_unit_test(test_qp_trailing_blanks),
		cmocka_unit_test(test_qp_dot_and_from),
		cmocka_unit_test(test_qp_long_lines),
		cmocka_unit_test(test_qp_trailing_blank_at_limit),
		cmocka_unit_test(test_qp_roundtrip_random),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_lines),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_mail_headers),
		cmocka_unit_test(test_mail_optional_headers),
		cmocka_unit_test(test_mail_alternative),
		cmocka_unit_test(test_mail_attachments),
		cmocka_unit_test(test_mail_no_header_injection),
	};
	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
