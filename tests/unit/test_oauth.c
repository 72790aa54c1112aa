/*
 * Unit tests for oauth.c: the token command (its first line, failures with
 * their reason, a time limit, output limits), the cache, and the XOAUTH2
 * response.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oauth.h"
#include "util.h"

static void
test_first_line(void **state)
{
	(void)state;
	char err[512] = "";
	char *t = oauth_token("printf 'ya29.a0AfB_byC-x_Y\\nsecond line\\n'", err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(t, "ya29.a0AfB_byC-x_Y");
	free(t);
	/* CRLF, a JWT */
	t = oauth_token("printf 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\\r\\n'", err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(t, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
	free(t);
}

static void
test_failures_say_why(void **state)
{
	(void)state;
	char err[512] = "";
	assert_null(oauth_token("echo 'refresh token expired' >&2; exit 3", err, sizeof(err)));
	assert_string_equal(err, "token command exited with 3: refresh token expired");
	assert_null(oauth_token("/nonexistent/get-token", err, sizeof(err)));
	assert_non_null(strstr(err, "exited with 127"));
	assert_null(oauth_token("echo", err, sizeof(err)));
	assert_non_null(strstr(err, "printed no token"));
	assert_null(oauth_token("echo 'two words'", err, sizeof(err)));
	assert_non_null(strstr(err, "printed no token"));
	assert_null(oauth_token("kill -9 $$", err, sizeof(err)));
	assert_string_equal(err, "token command killed by signal 9");
	assert_null(oauth_token("", err, sizeof(err)));
	/* too much output: refused, and the command is not left blocked */
	assert_null(oauth_token("head -c 100000 /dev/zero | tr '\\0' x", err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
	/* a command that hangs, with a child of its own */
	oauth_set_timeout(1);
	int64_t t0 = mono_ms();
	assert_null(oauth_token("sleep 30 & sleep 30", err, sizeof(err)));
	assert_string_equal(err, "token command timed out after 1 s");
	assert_true(mono_ms() - t0 < 5000);
	/* a helper that leaves a process behind holding its output open */
	t0 = mono_ms();
	char *t = oauth_token("(sleep 30 &) ; echo tok-left-behind", err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(t, "tok-left-behind");
	assert_true(mono_ms() - t0 < 900);
	free(t);
	oauth_set_timeout(0);
}

static void
test_cache_and_forget(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_oauth.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *count = xasprintf("%s/n", dir);
	char *cmd = xasprintf("echo x >> %s; printf 'tok-%%s\\n' $(wc -l < %s)", count, count);
	char err[512];
	char *a = oauth_token(cmd, err, sizeof(err));
	char *b = oauth_token(cmd, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, "tok-1");
	assert_string_equal(b, "tok-1"); /* from the cache: the command ran once */
	oauth_forget(cmd);
	char *c = oauth_token(cmd, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(c, "tok-2");
	free(a);
	free(b);
	free(c);
	oauth_forget(cmd);
	unlink(count);
	rmdir(dir);
	free(count);
	free(cmd);
}

static void
test_xoauth2(void **state)
{
	(void)state;
	size_t n;
	char *s = oauth_xoauth2("biuro@bmt.example", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
	    &n);
	const char want[] = "user=biuro@bmt.example\001auth=Bearer "
	                    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(s, want, n);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_failures_say_why),
		cmocka_unit_test(test_cache_and_forget),
		cmocka_unit_test(test_xoauth2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
