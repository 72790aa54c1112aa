#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
maildir_ensure(const char *dir)
{
	static const char *subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
		char *p = path_join(dir, subs[i]);
		int r = mkdir_p(p, 0700);
		free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* 1 if the info part of a cur/ name ("unique:2,FLAGS") contains flag. */
static int
has_flag(const char *name, char flag)
{
	const char *info = strstr(name, ":2,");
	return info && strchr(info + 3, flag) != NULL;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct maildir_entry *x = a, *y = b;
	return strcmp(x->unique, y->unique);
}

static int
scan_sub(const char *dir, const char *sub, int is_new, struct maildir_entry **v,
    size_t *n, size_t *cap)
{
	char *p = path_join(dir, sub);
	DIR *d = opendir(p);
	if (!d) {
		int e = errno;
		free(p);
		errno = e;
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!is_new && has_flag(de->d_name, 'S'))
			continue;
		if (!is_new && has_flag(de->d_name, 'T'))
			continue; /* trashed: the user deleted it */
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		struct maildir_entry *e = &(*v)[(*n)++];
		e->path = path_join(p, de->d_name);
		const char *colon = strchr(de->d_name, ':');
		e->unique = colon ? xstrndup(de->d_name, (size_t)(colon - de->d_name))
		                  : xstrdup(de->d_name);
		e->in_new = is_new;
	}
	closedir(d);
	free(p);
	return 0;
}

int
maildir_scan(const char *dir, struct maildir_entry **out, size_t *n)
{
	struct maildir_entry *v = NULL;
	size_t cnt = 0, cap = 0;
	if (scan_sub(dir, "new", 1, &v, &cnt, &cap) < 0 ||
	    scan_sub(dir, "cur", 0, &v, &cnt, &cap) < 0) {
		int e = errno;
		maildir_entries_free(v, cnt);
		errno = e;
		return -1;
	}
	if (cnt) /* qsort(NULL, 0, ...) is undefined */
		qsort(v, cnt, sizeof(*v), cmp_entry);
	*out = v;
	*n = cnt;
	return 0;
}

void
maildir_entries_free(struct maildir_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].unique);
	}
	free(v);
}

int
maildir_mark_seen(const char *dir, const struct maildir_entry *e)
{
	const char *base = strrchr(e->path, '/');
	base = base ? base + 1 : e->path;
	const char *info = strstr(base, ":2,");
	/* Flags must stay in ASCII order. */
	char flags[32] = "S";
	if (info) {
		char set[128] = {0};
		set['S'] = 1;
		for (const char *f = info + 3; *f; f++)
			if ((unsigned char)*f < 128)
				set[(unsigned char)*f] = 1;
		size_t k = 0;
		for (int c = 'A'; c <= 'z' && k + 1 < sizeof(flags); c++)
			if (set[c])
				flags[k++] = (char)c;
		flags[k] = '\0';
	}
	char *name = xasprintf("cur/%s:2,%s", e->unique, flags);
	char *dst = path_join(dir, name);
	free(name);
	int r = rename(e->path, dst);
	int err = errno;
	free(dst);
	if (r < 0 && err == ENOENT)
		return 0;
	errno = err;
	return r;
}

/* 1 if a message with this unique name exists in new/ or cur/. */
static int
exists_unique(const char *dir, const char *unique)
{
	char *p = xasprintf("%s/new/%s", dir, unique);
	struct stat st;
	int found = stat(p, &st) == 0;
	free(p);
	if (found)
		return 1;
	char *cur = path_join(dir, "cur");
	DIR *d = opendir(cur);
	free(cur);
	if (!d)
		return 0;
	size_t ul = strlen(unique);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, unique, ul) == 0 &&
		    (de->d_name[ul] == '\0' || de->d_name[ul] == ':')) {
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

int
maildir_deliver(const char *dir, const char *unique, const char *data, size_t len)
{
	if (exists_unique(dir, unique))
		return 1;
	char *tmp = xasprintf("%s/tmp/%s", dir, unique);
	char *dst = xasprintf("%s/new/%s", dir, unique);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		off += (size_t)w;
	}
	int sr = fsync(fd), se = errno;
	if (close(fd) < 0 || sr < 0) { /* close even when fsync failed */
		if (sr < 0)
			errno = se;
		goto fail;
	}
	/* link() refuses to replace: a concurrent delivery of the same
	 * unique name cannot produce two copies. */
	if (link(tmp, dst) < 0) {
		if (errno != EEXIST)
			goto fail;
		unlink(tmp);
		free(tmp);
		free(dst);
		return 1;
	}
	unlink(tmp);
	char *nd = path_join(dir, "new");
	int r = dir_fsync(nd);
	free(nd);
	free(tmp);
	free(dst);
	return r < 0 ? -1 : 0;
fail:;
	int e = errno;
	unlink(tmp);
	free(tmp);
	free(dst);
	errno = e;
	return -1;
}
