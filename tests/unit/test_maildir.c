/*
 * Unit tests for maildir.c: creating, scanning, marking seen and
 * idempotent delivery.
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
#include <unistd.h>

#include "maildir.h"
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

/* *state: a fresh Maildir path "<tmp>/Maildir" (not yet created). */
static int
setup(void **state)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/inkflow-test-maildir-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

static char *
md_path(const char *top)
{
	return path_join(top, "Maildir");
}

static void
put(const char *md, const char *rel, const char *content)
{
	char *p = path_join(md, rel);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static int
exists(const char *md, const char *rel)
{
	char *p = path_join(md, rel);
	struct stat st;
	int r = stat(p, &st) == 0;
	free(p);
	return r;
}

static size_t
count_files(const char *md, const char *sub)
{
	char *p = path_join(md, sub);
	DIR *d = opendir(p);
	free(p);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *
slurp(const char *md, const char *rel)
{
	char *p = path_join(md, rel), *data = NULL;
	size_t len;
	assert_int_equal(file_read(p, 1 << 20, &data, &len), 0);
	free(p);
	return data;
}

/* --- tests ------------------------------------------------------------ */

static void
test_ensure(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	assert_true(exists(md, "tmp"));
	assert_true(exists(md, "new"));
	assert_true(exists(md, "cur"));
	struct stat st;
	char *p = path_join(md, "new");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(p);
	/* Again: nothing changes, no error. */
	put(md, "new/1.a", "x");
	assert_int_equal(maildir_ensure(md), 0);
	assert_true(exists(md, "new/1.a"));
	/* Missing subdirectories are recreated. */
	p = path_join(md, "tmp");
	assert_int_equal(rmdir(p), 0);
	free(p);
	assert_int_equal(maildir_ensure(md), 0);
	assert_true(exists(md, "tmp"));
	/* A file in the way is an error. */
	char *blocked = path_join(*state, "blocked");
	put(*state, "blocked", "");
	assert_int_equal(maildir_ensure(blocked), -1);
	free(blocked);
	free(md);
}

static void
test_scan(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	put(md, "new/1700000003.M3P1.host", "three");
	put(md, "new/1700000001.M1P1.host", "one");
	put(md, "cur/1700000002.M2P1.host:2,", "two, no flags");
	put(md, "cur/1700000004.M4P1.host:2,F", "four, flagged");
	put(md, "cur/1700000005.M5P1.host:2,S", "seen");
	put(md, "cur/1700000006.M6P1.host:2,FRS", "seen among others");
	put(md, "cur/1700000007.M7P1.host:2,T", "trashed");
	put(md, "cur/1700000008.M8P1.host:2,ST", "seen and trashed");
	put(md, "cur/1700000009.M9P1.host", "cur without info");
	put(md, "new/.hidden", "hidden");
	put(md, "cur/.1700000000.hidden:2,", "hidden");
	put(md, "tmp/1700000000.in-progress", "tmp is never read");

	struct maildir_entry *v = NULL;
	size_t n = 99;
	assert_int_equal(maildir_scan(md, &v, &n), 0);
	assert_int_equal(n, 5);
	static const char *const want[] = {"1700000001.M1P1.host", "1700000002.M2P1.host",
	    "1700000003.M3P1.host", "1700000004.M4P1.host", "1700000009.M9P1.host"};
	static const int want_new[] = {1, 0, 1, 0, 0};
	static const char *const want_rel[] = {"new/1700000001.M1P1.host",
	    "cur/1700000002.M2P1.host:2,", "new/1700000003.M3P1.host",
	    "cur/1700000004.M4P1.host:2,F", "cur/1700000009.M9P1.host"};
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].unique, want[i]);
		assert_int_equal(v[i].in_new, want_new[i]);
		char *p = path_join(md, want_rel[i]);
		assert_string_equal(v[i].path, p);
		free(p);
	}
	maildir_entries_free(v, n);

	/* Empty Maildir. */
	char *md2 = path_join(*state, "Empty");
	assert_int_equal(maildir_ensure(md2), 0);
	v = (struct maildir_entry *)1;
	assert_int_equal(maildir_scan(md2, &v, &n), 0);
	assert_int_equal(n, 0);
	maildir_entries_free(v, n);
	free(md2);

	/* Not a Maildir. */
	char *md3 = path_join(*state, "missing");
	errno = 0;
	assert_int_equal(maildir_scan(md3, &v, &n), -1);
	assert_int_equal(errno, ENOENT);
	free(md3);
	free(md);
}

static void
test_scan_many_sorted(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	/* More entries than the first allocation, written in reverse. */
	for (int i = 199; i >= 0; i--) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/17000%05d.x", i % 2 ? "new" : "cur", i);
		put(md, rel, "m");
	}
	struct maildir_entry *v;
	size_t n;
	assert_int_equal(maildir_scan(md, &v, &n), 0);
	assert_int_equal(n, 200);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(v[i - 1].unique, v[i].unique) < 0);
	maildir_entries_free(v, n);
	free(md);
}

static struct maildir_entry
find(struct maildir_entry *v, size_t n, const char *unique)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].unique, unique) == 0)
			return v[i];
	fail_msg("no entry %s", unique);
	struct maildir_entry none = {0};
	return none;
}

static void
test_mark_seen(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	put(md, "new/1.a", "new message");
	put(md, "new/2.b:2,F", "new message with info");
	put(md, "cur/3.c:2,", "empty flags");
	put(md, "cur/4.d:2,RF", "flags out of order");
	put(md, "cur/5.e:2,Pa", "keyword flag");
	put(md, "cur/6.f", "no info");

	struct maildir_entry *v;
	size_t n;
	assert_int_equal(maildir_scan(md, &v, &n), 0);
	assert_int_equal(n, 6);
	struct maildir_entry e;
	e = find(v, n, "1.a");
	assert_int_equal(maildir_mark_seen(md, &e), 0);
	e = find(v, n, "2.b");
	assert_int_equal(maildir_mark_seen(md, &e), 0);
	e = find(v, n, "3.c");
	assert_int_equal(maildir_mark_seen(md, &e), 0);
	e = find(v, n, "4.d");
	assert_int_equal(maildir_mark_seen(md, &e), 0);
	e = find(v, n, "5.e");
	assert_int_equal(maildir_mark_seen(md, &e), 0);
	e = find(v, n, "6.f");
	assert_int_equal(maildir_mark_seen(md, &e), 0);

	assert_int_equal(count_files(md, "new"), 0);
	assert_int_equal(count_files(md, "cur"), 6);
	assert_true(exists(md, "cur/1.a:2,S"));
	assert_true(exists(md, "cur/2.b:2,FS"));
	assert_true(exists(md, "cur/3.c:2,S"));
	assert_true(exists(md, "cur/4.d:2,FRS"));
	assert_true(exists(md, "cur/5.e:2,PSa"));
	assert_true(exists(md, "cur/6.f:2,S"));
	char *data = slurp(md, "cur/1.a:2,S");
	assert_string_equal(data, "new message");
	free(data);

	/* Already moved (by us or by another client): not an error. */
	e = find(v, n, "1.a");
	assert_int_equal(maildir_mark_seen(md, &e), 0);
	assert_int_equal(count_files(md, "cur"), 6);
	maildir_entries_free(v, n);

	/* Nothing unseen is left. */
	assert_int_equal(maildir_scan(md, &v, &n), 0);
	assert_int_equal(n, 0);
	maildir_entries_free(v, n);
	free(md);
}

static void
test_deliver(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	const char msg[] = "From: a@b\nSubject: x\n\nbody\n";
	assert_int_equal(maildir_deliver(md, "1700000000.ink-1-abc", msg, strlen(msg)), 0);
	assert_int_equal(count_files(md, "new"), 1);
	assert_int_equal(count_files(md, "tmp"), 0);
	char *data = slurp(md, "new/1700000000.ink-1-abc");
	assert_string_equal(data, msg);
	free(data);

	/* The same unique name twice: 1, the file once, content unchanged. */
	assert_int_equal(maildir_deliver(md, "1700000000.ink-1-abc", "other", 5), 1);
	assert_int_equal(count_files(md, "new"), 1);
	assert_int_equal(count_files(md, "tmp"), 0);
	data = slurp(md, "new/1700000000.ink-1-abc");
	assert_string_equal(data, msg);
	free(data);

	/* Already read by the user and moved to cur/ with flags: still 1. */
	struct maildir_entry *v;
	size_t n;
	assert_int_equal(maildir_scan(md, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(maildir_mark_seen(md, &v[0]), 0);
	maildir_entries_free(v, n);
	char *p = path_join(md, "cur/1700000000.ink-1-abc:2,S");
	char *q = path_join(md, "cur/1700000000.ink-1-abc:2,FRS");
	assert_int_equal(rename(p, q), 0);
	free(p);
	free(q);
	assert_int_equal(maildir_deliver(md, "1700000000.ink-1-abc", msg, strlen(msg)), 1);
	assert_int_equal(count_files(md, "new"), 0);
	assert_int_equal(count_files(md, "cur"), 1);

	/* In cur/ without an info part: still 1. */
	put(md, "cur/1700000001.ink-2-def", "x");
	assert_int_equal(maildir_deliver(md, "1700000001.ink-2-def", msg, strlen(msg)), 1);
	assert_int_equal(count_files(md, "new"), 0);

	/* A name that only begins like an existing one is another message. */
	assert_int_equal(maildir_deliver(md, "1700000000.ink-1-ab", msg, strlen(msg)), 0);
	assert_int_equal(maildir_deliver(md, "1700000000.ink-1-abcd", msg, strlen(msg)), 0);
	assert_int_equal(count_files(md, "new"), 2);

	/* Empty message. */
	assert_int_equal(maildir_deliver(md, "empty", "", 0), 0);
	data = slurp(md, "new/empty");
	assert_string_equal(data, "");
	free(data);

	/* Delivered messages are found by a scan. */
	assert_int_equal(maildir_scan(md, &v, &n), 0);
	assert_int_equal(n, 4);
	maildir_entries_free(v, n);

	/* Not a Maildir: -1 with errno, nothing left behind. */
	char *bad = path_join(*state, "nomaildir");
	errno = 0;
	assert_int_equal(maildir_deliver(bad, "x", "y", 1), -1);
	assert_int_equal(errno, ENOENT);
	free(bad);
	free(md);
}

static void
test_deliver_batch(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	/* One delivered before and read (cur/), one before and unread
	 * (new/), a leftover tmp/ file of a killed delivery, two new ones. */
	put(md, "cur/1.ink-2.x:2,S", "old two");
	put(md, "new/1.ink-3.x", "old three");
	put(md, "tmp/1.ink-4.x", "half");
	struct maildir_item v[] = {
	    {.unique = "1.ink-1.x", .data = "one", .len = 3},
	    {.unique = "1.ink-2.x", .data = "two", .len = 3},
	    {.unique = "1.ink-3.x", .data = "three", .len = 5},
	    {.unique = "1.ink-4.x", .data = "four", .len = 4},
	    {.unique = "1.ink-5.x", .data = "", .len = 0},
	};
	assert_int_equal(maildir_deliver_batch(md, v, ARRAY_LEN(v)), 0);
	int want[] = {0, 1, 1, 0, 0};
	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		assert_int_equal(v[i].result, want[i]);
	assert_int_equal(count_files(md, "tmp"), 0);
	assert_int_equal(count_files(md, "new"), 4);
	assert_int_equal(count_files(md, "cur"), 1);
	char *data = slurp(md, "new/1.ink-1.x");
	assert_string_equal(data, "one");
	free(data);
	data = slurp(md, "new/1.ink-3.x"); /* never overwritten */
	assert_string_equal(data, "old three");
	free(data);
	data = slurp(md, "new/1.ink-4.x"); /* the leftover replaced */
	assert_string_equal(data, "four");
	free(data);
	data = slurp(md, "new/1.ink-5.x");
	assert_string_equal(data, "");
	free(data);
	assert_int_equal(maildir_deliver_batch(md, v, 0), 0);

	/* Not a Maildir: every item fails with errno, nothing left behind. */
	char *bad = path_join(*state, "nomaildir");
	struct maildir_item w[] = {{.unique = "a", .data = "y", .len = 1},
	    {.unique = "b", .data = "z", .len = 1}};
	assert_int_equal(maildir_deliver_batch(bad, w, ARRAY_LEN(w)), -1);
	assert_int_equal(w[0].result, -1);
	assert_int_equal(w[1].result, -1);
	assert_int_equal(w[0].err, ENOENT);
	free(bad);
	free(md);
}

static void
test_deliver_large(void **state)
{
	char *md = md_path(*state);
	assert_int_equal(maildir_ensure(md), 0);
	size_t len = 3 * 1024 * 1024 + 17;
	char *big = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(maildir_deliver(md, "big", big, len), 0);
	char *p = path_join(md, "new/big"), *data = NULL;
	size_t got;
	assert_int_equal(file_read(p, len, &data, &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(data, big, len);
	free(data);
	free(p);
	free(big);
	free(md);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ensure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_many_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_large, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
