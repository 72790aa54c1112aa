/*
 * Helpers shared by the libFuzzer targets in tests/fuzz/: where the
 * repository is (for conf/ and templates/), a private temporary directory
 * per process, and small file and string helpers.  Every helper aborts on a
 * failure of the harness itself, so such a failure is never mistaken for a
 * finding in the code under test (libFuzzer reports an abort like a crash,
 * but its message says "fuzz harness:").
 *
 * Header-only: each target is one .c file that includes this once.
 */
#ifndef INKFLOW_FUZZ_COMMON_H
#define INKFLOW_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define FZ_ROOT_MAX 4096
/* Not every target uses every helper. */
#define FZ_FN static __attribute__((unused))

FZ_FN void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, errno ? strerror(errno) : "failed");
	abort();
}

/* The repository root: $INKFLOW_SRCDIR, else the parent of the directory
 * holding the executable (build-fuzz/fuzz_x -> .), else ".".  It must hold
 * conf/inkflow.xml.  Static storage. */
FZ_FN const char *
fz_root(void)
{
	static char root[FZ_ROOT_MAX];
	if (root[0])
		return root;
	const char *env = getenv("INKFLOW_SRCDIR");
	if (env && *env) {
		snprintf(root, sizeof(root), "%s", env);
	} else {
		char exe[FZ_ROOT_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			for (int up = 0; up < 2; up++) {
				char *slash = strrchr(exe, '/');
				if (slash)
					*slash = '\0';
			}
			snprintf(root, sizeof(root), "%s", exe[0] ? exe : "/");
		} else {
			snprintf(root, sizeof(root), ".");
		}
	}
	char probe[FZ_ROOT_MAX + 32];
	snprintf(probe, sizeof(probe), "%s/conf/inkflow.xml", root);
	if (access(probe, R_OK) < 0) {
		fprintf(stderr, "fuzz harness: no conf/inkflow.xml under %s "
		    "(set INKFLOW_SRCDIR to the repository)\n", root);
		abort();
	}
	return root;
}

static char fz_tmp[FZ_ROOT_MAX];

FZ_FN int
fz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

FZ_FN void
fz_tmp_cleanup(void)
{
	if (fz_tmp[0])
		nftw(fz_tmp, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A private directory for this process under $TMPDIR (or /tmp), removed at
 * exit.  The runner points TMPDIR into build-fuzz/ and removes it after
 * each target, so a killed process leaves nothing behind elsewhere. */
FZ_FN const char *
fz_tmpdir(const char *tag)
{
	if (fz_tmp[0])
		return fz_tmp;
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(fz_tmp, sizeof(fz_tmp), "%s/inkflow-%s-XXXXXX", base, tag);
	if (!mkdtemp(fz_tmp))
		fz_die("mkdtemp");
	atexit(fz_tmp_cleanup);
	return fz_tmp;
}

/* dir/name, in a malloc'd string. */
FZ_FN char *
fz_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		fz_die("malloc");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

FZ_FN void
fz_mkdir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		fz_die(path);
}

/* Replace path with data[0..len) (not durable: a scratch file). */
FZ_FN void
fz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fz_die(path);
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fz_die(path);
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0)
		fz_die(path);
}

/* data[0..len) as a NUL-terminated malloc'd string (an embedded NUL ends
 * it early, as it would for any C string the program passes on). */
FZ_FN char *
fz_str(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		fz_die("malloc");
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* A property of the code under test does not hold: report like a crash. */
#define FZ_CHECK(cond, ...)                                                   \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "fuzz check failed: %s (%s:%d): ",    \
			    #cond, __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

#endif
