/*
 * Unit tests for token.c: the token format (against vectors computed
 * independently with Python's hmac), verification of every kind of
 * damage, expiry, key files, and finding tokens in addresses and bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "token.h"
#include "util.h"

static unsigned char key[32];
static unsigned char key2[32];

/* 2026-11-27 13:03:00 UTC, not on a whole hour. */
#define T0 INT64_C(1795784580)
#define T0_UP INT64_C(1795784400 + 3600) /* rounded up: 14:00 */

static int
setup_keys(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++) {
		key[i] = (unsigned char)i;
		key2[i] = (unsigned char)i;
	}
	key2[31] ^= 1;
	return 0;
}

static void
claims(struct token_claims *c, int64_t task, int64_t user, uint32_t actions,
    int64_t expires)
{
	c->task = task;
	c->user = user;
	c->actions = actions;
	c->expires = expires;
}

static void
assert_claims(const struct token_claims *c, int64_t task, int64_t user,
    uint32_t actions, int64_t expires)
{
	assert_true(c->task == task);
	assert_true(c->user == user);
	assert_true(c->actions == actions);
	assert_true(c->expires == expires);
}

/* --- format -------------------------------------------------------------- */

static void
test_known_vectors(void **state)
{
	(void)state;
	struct token_claims c;
	char tok[TOKEN_MAX + 1];

	claims(&c, 17, 3, 5, T0);
	token_make(key, &c, tok);
	assert_string_equal(tok, "t17-aaaadaaaaaafapheowybzt3h7c6ivw62p");

	claims(&c, 1234567, 42, 0xb, T0);
	token_make(key, &c, tok);
	assert_string_equal(tok, "t1234567-aaabkaaaaaalapheo7heotxcpeb7ck236");

	/* The largest claims make the longest token: exactly TOKEN_MAX. */
	claims(&c, INT64_C(1) << 40, INT64_C(1) << 24, UINT32_MAX,
	    ((INT64_C(1) << 25) - 1) * 3600);
	token_make(key, &c, tok);
	assert_string_equal(tok, "t1099511627776-qaaaad77777777777a2dtmqnkhduj5cnz");
	assert_int_equal(strlen(tok), TOKEN_MAX);
	/* ... and fits a 64-character local part with "biuro+". */
	assert_true(strlen("biuro+") + strlen(tok) <= 64);
}

static void
test_round_trip(void **state)
{
	(void)state;
	static const struct {
		int64_t task, user;
		uint32_t actions;
	} cases[] = {
		{1, 1, 0}, {17, 3, 5}, {999999, 65535, 0x80000001u},
		{INT64_C(1) << 40, INT64_C(1) << 24, UINT32_MAX},
		{(INT64_C(1) << 40) - 1, (INT64_C(1) << 24) - 1, 0x7fffffffu},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct token_claims c, got;
		char tok[TOKEN_MAX + 1];
		claims(&c, cases[i].task, cases[i].user, cases[i].actions, T0);
		token_make(key, &c, tok);
		assert_true(strlen(tok) <= TOKEN_MAX);
		assert_int_equal(strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789-"),
		    strlen(tok));
		memset(&got, 0, sizeof(got));
		assert_int_equal(token_verify(key, tok, T0, &got), TOKEN_OK);
		/* The claims come back exactly (the caller checks task and
		 * user against the task it is looking at), expiry rounded up. */
		assert_claims(&got, cases[i].task, cases[i].user, cases[i].actions, T0_UP);
	}
}

static void
test_expiry_rounding(void **state)
{
	(void)state;
	struct token_claims c, got;
	char tok[TOKEN_MAX + 1];

	/* Already on the hour: unchanged. */
	claims(&c, 5, 6, 7, T0_UP);
	token_make(key, &c, tok);
	assert_int_equal(token_verify(key, tok, T0, &got), TOKEN_OK);
	assert_true(got.expires == T0_UP);
	/* One second past the hour: the next hour. */
	claims(&c, 5, 6, 7, T0_UP + 1);
	token_make(key, &c, tok);
	assert_int_equal(token_verify(key, tok, T0, &got), TOKEN_OK);
	assert_true(got.expires == T0_UP + 3600);
}

static void
test_expired(void **state)
{
	(void)state;
	struct token_claims c, got;
	char tok[TOKEN_MAX + 1];

	claims(&c, 17, 3, 5, T0_UP);
	token_make(key, &c, tok);
	assert_int_equal(token_verify(key, tok, T0_UP - 1, NULL), TOKEN_OK);
	memset(&got, 0, sizeof(got));
	assert_int_equal(token_verify(key, tok, T0_UP, &got), TOKEN_EXPIRED);
	assert_claims(&got, 17, 3, 5, T0_UP); /* filled: the MAC verified */
	assert_int_equal(token_verify(key, tok, T0_UP + 1, NULL), TOKEN_EXPIRED);
	assert_int_equal(token_verify(key, tok, INT64_MAX, NULL), TOKEN_EXPIRED);
	/* Expired and forged is forged. */
	assert_int_equal(token_verify(key2, tok, T0_UP + 1, NULL), TOKEN_BAD_MAC);
}

static void
test_wrong_key(void **state)
{
	(void)state;
	struct token_claims c, got;
	char tok[TOKEN_MAX + 1];

	claims(&c, 17, 3, 5, T0 + 86400);
	token_make(key, &c, tok);
	claims(&got, -1, -1, 0xdead, -1);
	assert_int_equal(token_verify(key2, tok, T0, &got), TOKEN_BAD_MAC);
	assert_claims(&got, -1, -1, 0xdead, -1); /* untouched */
}

static void
test_uppercase(void **state)
{
	(void)state;
	struct token_claims c, got;
	char tok[TOKEN_MAX + 1];

	claims(&c, 4711, 12, 3, T0 + 86400);
	token_make(key, &c, tok);
	for (char *p = tok; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(token_verify(key, tok, T0, &got), TOKEN_OK);
	assert_true(got.task == 4711 && got.user == 12 && got.actions == 3);
}

/* Every single-character change, deletion and insertion is caught. */
static void
test_tampered(void **state)
{
	(void)state;
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-+=_ ";
	struct token_claims c, got;
	char tok[TOKEN_MAX + 1], t[TOKEN_MAX + 2];
	int checked = 0;

	claims(&c, 1234567, 42, 0xb, T0 + 86400);
	token_make(key, &c, tok);
	size_t n = strlen(tok);
	for (size_t i = 0; i < n; i++) {
		for (const char *a = alpha; *a; a++) {
			if (*a == tok[i])
				continue;
			memcpy(t, tok, n + 1);
			t[i] = *a;
			claims(&got, -1, -1, 0, -1);
			enum token_check r = token_verify(key, t, T0, &got);
			assert_true(r == TOKEN_MALFORMED || r == TOKEN_BAD_MAC);
			assert_true(got.task == -1); /* not filled */
			checked++;
		}
		/* Deleted. */
		memcpy(t, tok, i);
		memcpy(t + i, tok + i + 1, n - i);
		enum token_check r = token_verify(key, t, T0, NULL);
		assert_true(r == TOKEN_MALFORMED || r == TOKEN_BAD_MAC);
		/* Inserted. */
		memcpy(t, tok, i);
		t[i] = 'a';
		memcpy(t + i + 1, tok + i, n - i + 1);
		assert_true(token_verify(key, t, T0, NULL) != TOKEN_OK);
	}
	assert_true(checked > 1000);
	/* A changed field with a MAC that parses is BAD_MAC, not MALFORMED. */
	memcpy(t, tok, n + 1);
	t[1] = t[1] == '9' ? '8' : '9'; /* task digit */
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_BAD_MAC);
	memcpy(t, tok, n + 1);
	t[n - 1] = t[n - 1] == 'a' ? 'b' : 'a'; /* last MAC character */
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_BAD_MAC);
}

static void
test_malformed(void **state)
{
	(void)state;
	struct token_claims c;
	char tok[TOKEN_MAX + 1], t[256];

	claims(&c, 17, 3, 5, T0 + 86400);
	token_make(key, &c, tok); /* t17-<33> */
	assert_int_equal(token_verify(key, tok, T0, NULL), TOKEN_OK);

	assert_int_equal(token_verify(key, NULL, T0, NULL), TOKEN_MALFORMED);
	assert_int_equal(token_verify(key, "", T0, NULL), TOKEN_MALFORMED);
	assert_int_equal(token_verify(key, "t", T0, NULL), TOKEN_MALFORMED);
	assert_int_equal(token_verify(key, "t17-", T0, NULL), TOKEN_MALFORMED);
	assert_int_equal(token_verify(key, "hello", T0, NULL), TOKEN_MALFORMED);

	/* Trailing junk, leading and trailing blanks, padding. */
	snprintf(t, sizeof(t), "%sa", tok);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "%s=", tok);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), " %s", tok);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "%s\n", tok);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);

	/* Overlong: TOKEN_MAX + 1 and far more. */
	memset(t, 'a', TOKEN_MAX + 1);
	t[0] = 't';
	t[1] = '1';
	t[2] = '-';
	t[TOKEN_MAX + 1] = '\0';
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	char *big = xmalloc(100001);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	assert_int_equal(token_verify(key, big, T0, NULL), TOKEN_MALFORMED);
	free(big);

	/* Leading zero in the task, task zero, task above 2^40. */
	snprintf(t, sizeof(t), "t017-%s", tok + 4);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "t0-%s", tok + 4);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "t1099511627777-%s", tok + 4);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "t-%s", tok + 4);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	/* Unknown version letter. */
	snprintf(t, sizeof(t), "u%s", tok + 1);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);

	/* Out-of-range fields that no token_make produces: user 0, user
	 * above 2^24, actions above 32 bits, expiry hour 0. */
	snprintf(t, sizeof(t), "t17-aaaaa%s", tok + 4 + 5);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "t17-qaaab%s", tok + 4 + 5);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	snprintf(t, sizeof(t), "t17-aaaadeaaaaaa%s", tok + 4 + 12);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	memcpy(t, tok, sizeof(tok));
	memcpy(t + 4 + 12, "aaaaa", 5);
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);

	/* Wrong alphabet in the base32 part: 0, 1, 8, 9 are not base32. */
	memcpy(t, tok, sizeof(tok));
	t[20] = '1';
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	t[20] = '8';
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
	t[20] = '\xc3';
	assert_int_equal(token_verify(key, t, T0, NULL), TOKEN_MALFORMED);
}

/* --- addresses and bodies --------------------------------------------- */

static void
assert_addr(const char *addr, const char *want)
{
	char *got = token_from_address(addr, "biuro@bmt.example");
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_from_address(void **state)
{
	(void)state;
	assert_addr("biuro+t17-abc@bmt.example", "t17-abc");
	assert_addr("Biuro+T17-ABC@BMT.example", "t17-abc");
	assert_addr("BIURO+t17-abc@bmt.EXAMPLE", "t17-abc");
	/* After the first '+'; what it is, verify decides. */
	assert_addr("biuro+a+b@bmt.example", "a+b");
	/* Other local parts. */
	assert_addr("sklep+t17-abc@bmt.example", NULL);
	assert_addr("biuro2+t17-abc@bmt.example", NULL);
	assert_addr("biur+t17-abc@bmt.example", NULL);
	assert_addr("xbiuro+t17-abc@bmt.example", NULL);
	/* No plus, or nothing after it. */
	assert_addr("biuro@bmt.example", NULL);
	assert_addr("biuro+@bmt.example", NULL);
	/* Other domains. */
	assert_addr("biuro+t17-abc@evil.example", NULL);
	assert_addr("biuro+t17-abc@bmt.example.evil.example", NULL);
	assert_addr("biuro+t17-abc@sub.bmt.example", NULL);
	assert_addr("biuro+t17-abc@", NULL);
	/* Only bare addresses: display names and brackets are not parsed. */
	assert_addr("Biuro <biuro+t17-abc@bmt.example>", NULL);
	assert_addr("<biuro+t17-abc@bmt.example>", NULL);
	assert_addr("\"biuro+t17-abc\"@bmt.example", NULL);
	/* Garbage. */
	assert_addr("", NULL);
	assert_addr("biuro+t17-abc", NULL);
	assert_addr("@bmt.example", NULL);
	assert_null(token_from_address(NULL, "biuro@bmt.example"));
	assert_null(token_from_address("biuro+x@bmt.example", NULL));
	assert_null(token_from_address("+x@bmt.example", "@bmt.example"));
}

static void
assert_text(const char *text, const char *want)
{
	char *got = token_from_text(text);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_from_text(void **state)
{
	(void)state;
	assert_text("APPROVE\n\ninkflow-token: t17-abc\n", "t17-abc");
	assert_text("inkflow-token: t17-abc", "t17-abc");
	assert_text("APPROVE\r\n\r\ninkflow-token: t17-abc\r\n", "t17-abc");
	/* Any case, surrounding spaces, tabs. */
	assert_text("x\n  INKFLOW-TOKEN:   T17-ABC   \r\ny", "t17-abc");
	assert_text("Inkflow-Token :\tt17-abc\t", "t17-abc");
	/* Quoted by the reply. */
	assert_text("APPROVE\r\n\r\n> inkflow-token: t17-abc\r\n> \r\n", "t17-abc");
	assert_text("> > inkflow-token: t17-abc", "t17-abc");
	assert_text(">>inkflow-token: t17-abc\n", "t17-abc");
	/* First match wins. */
	assert_text("inkflow-token: t17-first\ninkflow-token: t18-second\n", "t17-first");
	/* Not a token line. */
	assert_text("", NULL);
	assert_text("APPROVE\n", NULL);
	assert_text("inkflow-token:\n", NULL);
	assert_text("inkflow-token:   \r\n", NULL);
	assert_text("inkflow-token t17-abc\n", NULL);
	assert_text("my inkflow-token: t17-abc\n", NULL);
	assert_text("xinkflow-token: t17-abc\n", NULL);
	assert_text("inkflow-tokens: t17-abc\n", NULL);
	assert_text("inkflow-token: t17-abc and more\n", NULL);
	/* A bad line does not hide a later good one. */
	assert_text("inkflow-token: a b\ninkflow-token: t17-abc\n", "t17-abc");
	assert_null(token_from_text(NULL));
}

/* --- key files ---------------------------------------------------------- */

static int
setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/inkflow-test-token-XXXXXX", base && *base ? base : "/tmp");
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
	char *dir = *state;
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
	return 0;
}

static char *
write_key(const char *dir, const char *name, size_t len, mode_t mode)
{
	char *path = path_join(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	unsigned char b[64];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(0xa0 + i);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
test_load_key(void **state)
{
	const char *dir = *state;
	unsigned char k[32];
	char err[512];

	char *p = write_key(dir, "ok", 32, 0600);
	memset(k, 0, sizeof(k));
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(k[i], 0xa0 + i);
	free(p);

	p = write_key(dir, "ro", 32, 0400);
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), 0);
	free(p);

	static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0660, 0666, 0610};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		p = write_key(dir, "open", 32, bad[i]);
		err[0] = '\0';
		assert_int_equal(token_load_key(p, k, err, sizeof(err)), -1);
		assert_non_null(strstr(err, p));
		char m[8];
		snprintf(m, sizeof(m), "%04o", (unsigned)bad[i]);
		assert_non_null(strstr(err, m));
		free(p);
	}

	p = write_key(dir, "short", 31, 0600);
	err[0] = '\0';
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, "32 bytes"));
	assert_non_null(strstr(err, "31"));
	free(p);

	p = write_key(dir, "long", 33, 0600);
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, p));
	free(p);

	p = write_key(dir, "empty", 0, 0600);
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), -1);
	free(p);

	p = path_join(dir, "missing");
	err[0] = '\0';
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, p));
	free(p);

	/* A directory is not a key, whatever its mode. */
	p = path_join(dir, "adir");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, p));
	free(p);

	/* A loaded key works. */
	p = write_key(dir, "ok2", 32, 0600);
	assert_int_equal(token_load_key(p, k, err, sizeof(err)), 0);
	struct token_claims c, got;
	char tok[TOKEN_MAX + 1];
	claims(&c, 9, 9, 9, T0 + 3600);
	token_make(k, &c, tok);
	assert_int_equal(token_verify(k, tok, T0, &got), TOKEN_OK);
	assert_int_equal(token_verify(key, tok, T0, &got), TOKEN_BAD_MAC);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_expiry_rounding),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_uppercase),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_from_address),
		cmocka_unit_test(test_from_text),
		cmocka_unit_test_setup_teardown(test_load_key, setup_tmpdir, teardown_tmpdir),
	};
	return cmocka_run_group_tests(tests, setup_keys, NULL);
}
