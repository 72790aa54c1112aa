/*
 * Unit tests for util.c: file names, UTF-8, numbers, strings, paths, files
 * and hashing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* --- helpers ---------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/inkflow-test-util-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return -1;
	}
	*state = tmpl;
	return 0;
}

static int
teardown_tmpdir(void **state)
{
	rm_rf(*state);
	free(*state);
	return 0;
}

static void
assert_sanitized(const char *in, const char *want)
{
	char *got = sanitize_filename(in);
	assert_string_equal(got, want);
	free(got);
}

/* --- sanitize_filename ------------------------------------------------ */

static void
test_sanitize_paths(void **state)
{
	(void)state;
	assert_sanitized("../../etc/passwd", "passwd");
	assert_sanitized("/etc/passwd", "passwd");
	assert_sanitized("C:\\x\\y.pdf", "y.pdf");
	assert_sanitized("..\\..\\boot.ini", "boot.ini");
	assert_sanitized("C:y.pdf", "C_y.pdf");
	assert_sanitized("dir/", "attachment");
	assert_sanitized("a/b\\c/Oferta.pdf", "Oferta.pdf");
}

static void
test_sanitize_characters(void **state)
{
	(void)state;
	assert_sanitized("a\x01" "b\tc\x7f" "d.pdf", "a_b_c_d.pdf");
	assert_sanitized("new\nline\r.txt", "new_line_.txt");
	assert_sanitized("a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt");
	assert_sanitized("Zażółć gęślą jaźń.pdf", "Zażółć gęślą jaźń.pdf");
	/* Invalid UTF-8 becomes U+FFFD, the rest stays. */
	assert_sanitized("a\xff" "b.pdf", "a\xef\xbf\xbd" "b.pdf");
	/* Invisible characters that disguise a name go: a right-to-left
	 * override ("faktura<RLO>fdp.exe" reads "fakturaexe.pdf"), isolates,
	 * zero widths, the BOM; C1 controls become '_'. */
	assert_sanitized("faktura\u202Efdp.exe", "fakturafdp.exe");
	assert_sanitized("\u2066a\u2069\u200B\u200Fb\uFEFF.pdf", "ab.pdf");
	assert_sanitized("a\xc2\x85" "b.pdf", "a_b.pdf");
	assert_sanitized("\u202E", "attachment");
	assert_sanitized("\u2013 \u201Eskan\u201D.pdf", "\u2013 \u201Eskan\u201D.pdf");
}

static void
test_sanitize_dots_and_empty(void **state)
{
	(void)state;
	assert_sanitized(".htaccess", "htaccess");
	assert_sanitized("...hidden.txt", "hidden.txt");
	assert_sanitized(" . name.pdf", "name.pdf");
	assert_sanitized("name. . ", "name");
	assert_sanitized("..", "attachment");
	assert_sanitized("...", "attachment");
	assert_sanitized("", "attachment");
	assert_sanitized(" ", "attachment");
	assert_sanitized(NULL, "attachment");
	assert_sanitized("../", "attachment");
}

static void
test_sanitize_long_polish_name(void **state)
{
	(void)state;
	/* About 300 characters (more bytes) of Polish text with ".pdf". */
	struct sbuf sb = {0};
	while (utf8_len(sb_str(&sb)) < 296)
		sb_adds(&sb, "Zażółć gęślą jaźń ");
	sb_adds(&sb, ".pdf");
	char *in = sb_steal(&sb);
	assert_true(utf8_len(in) >= 300);
	char *out = sanitize_filename(in);
	size_t n = strlen(out);
	assert_true(n <= 120);
	assert_true(n >= 110);
	assert_string_equal(out + n - 4, ".pdf");
	assert_true(utf8_valid(out, n));
	/* The stem is a prefix of the original. */
	assert_memory_equal(out, in, n - 4);
	free(out);
	free(in);

	/* "a" then two-byte letters: byte 116 (the plain cut for a 4-byte
	 * extension) is a continuation byte, so the stem is cut at 115. */
	sb_adds(&sb, "a");
	for (int i = 0; i < 150; i++)
		sb_adds(&sb, "ł");
	sb_adds(&sb, ".pdf");
	in = sb_steal(&sb);
	out = sanitize_filename(in);
	assert_int_equal(strlen(out), 119);
	assert_memory_equal(out, in, 115);
	assert_string_equal(out + 115, ".pdf");
	assert_true(utf8_valid(out, strlen(out)));
	free(out);
	free(in);

	/* Exactly 120 bytes is kept whole. */
	char exact[121];
	memset(exact, 'x', 116);
	memcpy(exact + 116, ".pdf", 5);
	out = sanitize_filename(exact);
	assert_string_equal(out, exact);
	free(out);
}

static void
test_sanitize_long_no_extension(void **state)
{
	(void)state;
	/* An extension longer than 16 bytes is not kept: a plain cut. */
	char in[256];
	memset(in, 'a', 200);
	strcpy(in + 200, ".averyveryverylongextension");
	char *out = sanitize_filename(in);
	assert_int_equal(strlen(out), 120);
	assert_null(strchr(out, '.'));
	free(out);

	/* The cut must not leave a trailing blank or dot behind. */
	memset(in, 'a', 119);
	in[119] = ' ';
	strcpy(in + 120, "bbbbbbbbbb");
	out = sanitize_filename(in);
	assert_int_equal(strlen(out), 119);
	assert_int_equal(out[118], 'a');
	free(out);

	memset(in, 'a', 118);
	in[118] = '.';
	in[119] = '.';
	strcpy(in + 120, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	out = sanitize_filename(in);
	assert_int_equal(strlen(out), 118);
	free(out);
}

/* --- UTF-8 ------------------------------------------------------------ */

#define VALID(s) utf8_valid((s), sizeof(s) - 1)

static void
test_utf8_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(VALID("plain ASCII"));
	assert_true(VALID("Zażółć gęślą jaźń ŁÓDŹ"));
	assert_true(VALID("Grüße, Straße"));
	assert_true(VALID("\xc2\x80"));             /* U+0080, smallest 2-byte */
	assert_true(VALID("\xdf\xbf"));             /* U+07FF */
	assert_true(VALID("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
	assert_true(VALID("\xed\x9f\xbf"));         /* U+D7FF, below surrogates */
	assert_true(VALID("\xee\x80\x80"));         /* U+E000, above surrogates */
	assert_true(VALID("\xef\xbf\xbf"));         /* U+FFFF */
	assert_true(VALID("\xf0\x90\x80\x80"));     /* U+10000, smallest 4-byte */
	assert_true(VALID("\xf0\x9f\x98\x80"));     /* U+1F600 emoji */
	assert_true(VALID("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the last */
	assert_true(VALID("a\0b"));                 /* NUL is well-formed */

	/* Overlong forms. */
	assert_false(VALID("\xc0\xaf"));
	assert_false(VALID("\xc1\xbf"));
	assert_false(VALID("\xc0\x80"));
	assert_false(VALID("\xe0\x80\xaf"));
	assert_false(VALID("\xe0\x9f\xbf"));
	assert_false(VALID("\xf0\x80\x80\xaf"));
	assert_false(VALID("\xf0\x8f\xbf\xbf"));
	/* Surrogates. */
	assert_false(VALID("\xed\xa0\x80"));
	assert_false(VALID("\xed\xbf\xbf"));
	assert_false(VALID("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 pair */
	/* Beyond U+10FFFF, bytes never used. */
	assert_false(VALID("\xf4\x90\x80\x80"));
	assert_false(VALID("\xf5\x80\x80\x80"));
	assert_false(VALID("\xf8\x88\x80\x80\x80"));
	assert_false(VALID("\xfe"));
	assert_false(VALID("\xff"));
	/* Truncated and stray bytes. */
	assert_false(VALID("\xc5"));
	assert_false(VALID("a\xc5"));
	assert_false(VALID("\xe2\x82"));
	assert_false(VALID("\xf0\x9f\x98"));
	assert_false(VALID("\x80"));
	assert_false(VALID("\xc5\xc5\x82"));
	assert_false(VALID("\xe2\x28\xa1"));
	/* The length limits the check: a truncated sequence inside len. */
	assert_false(utf8_valid("\xc5\x82", 1));
	assert_true(utf8_valid("ab\xc5\x82", 2));
}

/* NFC: decomposed letters composed, composed text returned as it came */
static void
test_utf8_nfc(void **state)
{
	(void)state;
	int changed = 0;
	/* "Zdjęcie Łódź Größe" as macOS writes it: e + U+0328, o + U+0301,
	 * z + U+0301, o + U+0308 (Ł has no decomposition) */
	char *s = utf8_nfc(xstrdup("Zdje\xcc\xa8" "cie \xc5\x81o\xcc\x81" "dz\xcc\x81 Gro\xcc\x88\xc3\x9f" "e"),
	    &changed);
	assert_string_equal(s, "Zdjęcie Łódź Größe");
	assert_int_equal(changed, 1);
	free(s);

	/* already composed, with dashes, quotes and the euro sign: the same
	 * pointer back, nothing changed */
	changed = 0;
	char *in = xstrdup("„Wycena” – 120 € … Łódź, Größe");
	s = utf8_nfc(in, &changed);
	assert_ptr_equal(s, in);
	assert_int_equal(changed, 0);
	free(s);

	/* singletons NFC replaces: the Ångström and Ohm signs, the en quad */
	s = utf8_nfc(xstrdup("\xe2\x84\xab \xe2\x84\xa6\xe2\x80\x80"), NULL);
	assert_string_equal(s, "\xc3\x85 \xce\xa9\xe2\x80\x82");
	free(s);

	/* a mark with nothing to join stays; NULL passes */
	s = utf8_nfc(xstrdup("\xcc\xa8" "x"), &changed);
	assert_string_equal(s, "\xcc\xa8" "x");
	free(s);
	assert_null(utf8_nfc(NULL, NULL));
}

static void
test_utf8_sanitize(void **state)
{
	(void)state;
	char *s = utf8_sanitize("Łódź", strlen("Łódź"));
	assert_string_equal(s, "Łódź");
	free(s);

	s = utf8_sanitize("a\xff" "b", 3);
	assert_string_equal(s, "a\xef\xbf\xbd" "b");
	free(s);

	s = utf8_sanitize("a\0b", 3);
	assert_string_equal(s, "ab");
	free(s);

	s = utf8_sanitize("\xc0\xaf", 2); /* overlong '/' must not become '/' */
	assert_null(strchr(s, '/'));
	assert_true(utf8_valid(s, strlen(s)));
	assert_non_null(strstr(s, "\xef\xbf\xbd"));
	free(s);

	s = utf8_sanitize("x\xed\xa0\x80y", 5);
	assert_true(utf8_valid(s, strlen(s)));
	assert_int_equal(s[0], 'x');
	assert_int_equal(s[strlen(s) - 1], 'y');
	assert_non_null(strstr(s, "\xef\xbf\xbd"));
	free(s);

	s = utf8_sanitize("z\xc5", 2); /* truncated at the end */
	assert_string_equal(s, "z\xef\xbf\xbd");
	free(s);

	s = utf8_sanitize("", 0);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(utf8_len("Łódź"), 4);
	assert_int_equal(utf8_len(""), 0);
	assert_int_equal(utf8_len("a\xf0\x9f\x98\x80" "b"), 3);
}

/* --- numbers and strings ---------------------------------------------- */

static void
test_parse_int64(void **state)
{
	(void)state;
	int64_t v = -1;
	assert_int_equal(parse_int64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_int64("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_int64("-5", -5, 5, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_int64("11", 0, 10, &v), -1);
	assert_int_equal(parse_int64("-6", -5, 5, &v), -1);
	assert_int_equal(parse_int64("0", 1, 86400, &v), -1);
	assert_int_equal(parse_int64("86400", 1, 86400, &v), 0);
	assert_int_equal(parse_int64("86401", 1, 86400, &v), -1);

	assert_int_equal(parse_int64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_int64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(parse_int64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(parse_int64("99999999999999999999999", INT64_MIN, INT64_MAX, &v), -1);

	/* Garbage, partial numbers and blanks. */
	v = 42;
	assert_int_equal(parse_int64(NULL, 0, 10, &v), -1);
	assert_int_equal(parse_int64("", 0, 10, &v), -1);
	assert_int_equal(parse_int64("a", 0, 10, &v), -1);
	assert_int_equal(parse_int64("5a", 0, 10, &v), -1);
	assert_int_equal(parse_int64("5 ", 0, 10, &v), -1);
	assert_int_equal(parse_int64(" 5", 0, 10, &v), -1);
	assert_int_equal(parse_int64("\t5", 0, 10, &v), -1);
	assert_int_equal(parse_int64("-", 0, 10, &v), -1);
	assert_int_equal(parse_int64("0x5", 0, 10, &v), -1);
	assert_int_equal(parse_int64("1e3", 0, 10000, &v), -1);
	assert_int_equal(parse_int64("5.0", 0, 10, &v), -1);
	assert_int_equal(v, 42); /* untouched on failure */
}

static void
test_str_trim(void **state)
{
	(void)state;
	char a[] = "  \t hello world \r\n ";
	assert_string_equal(str_trim(a), "hello world");
	char b[] = "";
	assert_string_equal(str_trim(b), "");
	char c[] = " \t\r\n\f\v ";
	assert_string_equal(str_trim(c), "");
	char d[] = "x";
	assert_ptr_equal(str_trim(d), d);
	assert_string_equal(d, "x");
	char e[] = "  Łódź  ";
	assert_string_equal(str_trim(e), "Łódź");
	/* Non-ASCII blanks (NBSP) are not ASCII whitespace: kept. */
	char f[] = "\xc2\xa0x\xc2\xa0";
	assert_string_equal(str_trim(f), "\xc2\xa0x\xc2\xa0");
}

static void
test_str_helpers(void **state)
{
	(void)state;
	char s[] = "MiXeD Łódź 123";
	assert_string_equal(str_lower(s), "mixed Łódź 123");
	assert_true(str_ieq("Subject", "SUBJECT"));
	assert_false(str_ieq("Subject", "Subjec"));
	assert_false(str_ieq("a", NULL));
	assert_true(str_ieq(NULL, NULL));
	assert_true(str_istarts("Re: x", "RE:"));
	assert_true(str_istarts("abc", ""));
	assert_false(str_istarts("ab", "abc"));

	char *o = str_oneline("a\r\nBcc: x@y\0ignored");
	assert_string_equal(o, "a  Bcc: x@y");
	free(o);
	o = str_oneline("tab\there\x7f" "del\x1b");
	assert_string_equal(o, "tab here del ");
	free(o);
	o = str_oneline(NULL);
	assert_string_equal(o, "");
	free(o);

	char buf[8];
	assert_int_equal(bfmt(buf, sizeof(buf), "%s", "1234567"), 0);
	assert_string_equal(buf, "1234567");
	assert_int_equal(bfmt(buf, sizeof(buf), "%s", "12345678"), -1);

	struct sbuf sb = {0};
	assert_string_equal(sb_str(&sb), "");
	for (int i = 0; i < 1000; i++)
		sb_printf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 2000);
	sb_addc(&sb, 'x');
	sb_add(&sb, "yz", 2);
	assert_string_equal(sb_str(&sb) + 2000, "xyz");
	char *st = sb_steal(&sb);
	assert_null(sb.s);
	assert_int_equal(sb.len, 0);
	free(st);
	st = sb_steal(&sb);
	assert_string_equal(st, "");
	free(st);
	char *a = xasprintf("%s-%d", "INK", 7);
	assert_string_equal(a, "INK-7");
	free(a);
	assert_null(xstrdup(NULL));
}

/* --- paths and files -------------------------------------------------- */

static void
assert_join(const char *dir, const char *name, const char *want)
{
	char *p = path_join(dir, name);
	assert_string_equal(p, want);
	free(p);
}

static void
assert_dirname(const char *path, const char *want)
{
	char *p = path_dirname(path);
	assert_string_equal(p, want);
	free(p);
}

static void
test_paths(void **state)
{
	(void)state;
	assert_join("/var/lib/inkflow", "db.sqlite", "/var/lib/inkflow/db.sqlite");
	assert_join("/var/lib/inkflow/", "db.sqlite", "/var/lib/inkflow/db.sqlite");
	assert_join("data", "a/b", "data/a/b");
	assert_join("data", "/abs/x", "/abs/x");
	assert_join("", "x", "x");
	assert_join(NULL, "x", "x");
	assert_join("/", "x", "/x");

	assert_dirname("/var/lib/inkflow/db.sqlite", "/var/lib/inkflow");
	assert_dirname("data/x", "data");
	assert_dirname("x", ".");
	assert_dirname("/x", "/");
	assert_dirname("", ".");
}

static void
test_files(void **state)
{
	const char *dir = *state;
	char *deep = xasprintf("%s/a/b/c", dir);
	assert_int_equal(mkdir_p(deep, 0700), 0);
	assert_int_equal(mkdir_p(deep, 0700), 0); /* exists: fine */
	struct stat st;
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	char *path = path_join(deep, "f.txt");
	const char data[] = "Zażółć\0binary\nline";
	assert_int_equal(file_write_durable(path, data, sizeof(data) - 1, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	char *got = NULL;
	size_t len = 0;
	assert_int_equal(file_read(path, 1024, &got, &len), 0);
	assert_int_equal(len, sizeof(data) - 1);
	assert_memory_equal(got, data, len);
	assert_int_equal(got[len], '\0');
	free(got);

	/* Exactly max bytes is fine, one more is EFBIG. */
	got = NULL;
	assert_int_equal(file_read(path, sizeof(data) - 1, &got, &len), 0);
	free(got);
	got = NULL;
	errno = 0;
	assert_int_equal(file_read(path, sizeof(data) - 2, &got, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(got);

	/* Overwriting replaces the content. */
	assert_int_equal(file_write_durable(path, "new", 3, 0644), 0);
	assert_int_equal(file_read(path, 1024, &got, &len), 0);
	assert_string_equal(got, "new");
	assert_int_equal(len, 3);
	free(got);

	/* Empty file. */
	char *empty = path_join(dir, "empty");
	assert_int_equal(file_write_durable(empty, "", 0, 0600), 0);
	assert_int_equal(file_read(empty, 0, &got, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	free(got);

	/* Missing file and missing directory. */
	char *missing = path_join(dir, "nope");
	errno = 0;
	assert_int_equal(file_read(missing, 10, &got, &len), -1);
	assert_int_equal(errno, ENOENT);
	char *nodir = path_join(dir, "nodir/x");
	assert_int_equal(file_write_durable(nodir, "x", 1, 0600), -1);

	/* dir_fsync. */
	assert_int_equal(dir_fsync(dir), 0);
	assert_int_equal(dir_fsync(missing), -1);

	free(nodir);
	free(missing);
	free(empty);
	free(path);
	free(deep);
}

static void
test_no_temp_left(void **state)
{
	const char *dir = *state;
	char *path = path_join(dir, "only");
	for (int i = 0; i < 3; i++)
		assert_int_equal(file_write_durable(path, "abc", 3, 0600), 0);
	/* Exactly one entry in the directory: the file itself. */
	int entries = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	assert_int_equal(entries, 1);
	free(path);
}

/* --- hashing and randomness ------------------------------------------- */

static void
test_sha256(void **state)
{
	(void)state;
	char out[65];
	sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(two, strlen(two), out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	/* Incremental in pieces equals one shot; a million 'a' (FIPS 180-2). */
	struct sha256 c;
	sha256_init(&c);
	char block[1000];
	memset(block, 'a', sizeof(block));
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, block, sizeof(block));
	sha256_final(&c, out);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

	sha256_init(&c);
	sha256_update(&c, "a", 1);
	sha256_update(&c, "", 0);
	sha256_update(&c, "bc", 2);
	sha256_final(&c, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_random_and_time(void **state)
{
	(void)state;
	char a[25], b[25];
	random_hex(a, 12);
	random_hex(b, 12);
	assert_int_equal(strlen(a), 24);
	assert_int_equal(strspn(a, "0123456789abcdef"), 24);
	assert_string_not_equal(a, b);

	setenv("INKFLOW_NOW", "1795784580", 1);
	assert_true(now_epoch() == 1795784580);
	setenv("INKFLOW_NOW", "garbage", 1);
	assert_true(now_epoch() > 1700000000);
	unsetenv("INKFLOW_NOW");

	char buf[64];
	iso_time(1795784580, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T13:03:00Z");
	setenv("TZ", "UTC", 1);
	tzset();
	rfc5322_date(1795784580, buf, sizeof(buf));
	assert_string_equal(buf, "Fri, 27 Nov 2026 13:03:00 +0000");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_paths),
		cmocka_unit_test(test_sanitize_characters),
		cmocka_unit_test(test_sanitize_dots_and_empty),
		cmocka_unit_test(test_sanitize_long_polish_name),
		cmocka_unit_test(test_sanitize_long_no_extension),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_utf8_nfc),
		cmocka_unit_test(test_parse_int64),
		cmocka_unit_test(test_str_trim),
		cmocka_unit_test(test_str_helpers),
		cmocka_unit_test(test_paths),
		cmocka_unit_test_setup_teardown(test_files, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_no_temp_left, setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_random_and_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
