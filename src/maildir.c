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

int
maildir_deliver(const char *dir, const char *unique, const char *data, size_t len)
{
	struct maildir_item it = {.unique = unique, .data = data, .len = len};
	if (maildir_deliver_batch(dir, &it, 1) < 0) {
		errno = it.err;
		return -1;
	}
	return it.result;
}

static int
cmp_item_ptr(const void *a, const void *b)
{
	const struct maildir_item *x = *(const struct maildir_item *const *)a;
	const struct maildir_item *y = *(const struct maildir_item *const *)b;
	return strcmp(x->unique, y->unique);
}

/* Mark the items whose unique name is already in cur/ (a reader moved an
 * earlier delivery there): one directory read for the whole batch. */
static int
mark_in_cur(const char *dir, struct maildir_item **sorted, size_t n)
{
	char *cur = path_join(dir, "cur");
	DIR *d = opendir(cur);
	free(cur);
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char key[256];
		size_t kl = strcspn(de->d_name, ":");
		if (kl >= sizeof(key))
			continue;
		memcpy(key, de->d_name, kl);
		key[kl] = '\0';
		struct maildir_item probe = {.unique = key}, *pp = &probe;
		struct maildir_item **hit = bsearch(&pp, sorted, n, sizeof(struct maildir_item *),
		    cmp_item_ptr);
		if (hit)
			(*hit)->result = 1;
	}
	closedir(d);
	return 0;
}

static void
item_fail(struct maildir_item *it, int err)
{
	it->result = -1;
	it->err = err;
}

int
maildir_deliver_batch(const char *dir, struct maildir_item *v, size_t n)
{
	if (!n)
		return 0;
	struct maildir_item **sorted = xcalloc(n, sizeof(struct maildir_item *));
	for (size_t i = 0; i < n; i++) {
		v[i].result = 0;
		v[i].err = 0;
		sorted[i] = &v[i];
	}
	qsort(sorted, n, sizeof(struct maildir_item *), cmp_item_ptr);
	int rc = -1, dfd = -1, nfd = -1;
	if (mark_in_cur(dir, sorted, n) < 0)
		goto out;
	/* 1. Every file into tmp/, not yet synced. */
	size_t pending = 0;
	for (size_t i = 0; i < n; i++) {
		struct maildir_item *it = &v[i];
		if (it->result)
			continue;
		char *tmp = xasprintf("%s/tmp/%s", dir, it->unique);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write_full(fd, it->data, it->len) < 0) {
			item_fail(it, errno);
			if (fd >= 0)
				close(fd);
			unlink(tmp);
		} else if (close(fd) < 0) {
			item_fail(it, errno);
			unlink(tmp);
		} else {
			pending++;
		}
		free(tmp);
	}
	/* 2. One sync makes the data of all of them durable before any
	 * becomes visible in new/. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		goto out;
	if (pending && syncfs(dfd) < 0)
		goto out;
	/* 3. Publish: link() never replaces a file of the same name. */
	for (size_t i = 0; i < n; i++) {
		struct maildir_item *it = &v[i];
		if (it->result)
			continue;
		char *tmp = xasprintf("%s/tmp/%s", dir, it->unique);
		char *dst = xasprintf("%s/new/%s", dir, it->unique);
		if (link(tmp, dst) < 0) {
			if (errno == EEXIST)
				it->result = 1;
			else
				item_fail(it, errno);
		}
		unlink(tmp);
		free(tmp);
		free(dst);
	}
	/* 4. One sync of new/ makes every link durable. */
	char *nd = path_join(dir, "new");
	nfd = open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(nd);
	if (nfd < 0 || fsync(nfd) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		int e = errno ? errno : EIO;
		for (size_t i = 0; i < n; i++)
			if (v[i].result == 0)
				item_fail(&v[i], e);
	}
	if (dfd >= 0)
		close(dfd);
	if (nfd >= 0)
		close(nfd);
	free(sorted);
	for (size_t i = 0; i < n; i++)
		if (v[i].result < 0)
			return -1;
	return 0;
}
