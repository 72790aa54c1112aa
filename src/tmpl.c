#include "tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TMPL_MAX_BYTES (256 * 1024)
#define VAR_NAME_MAX 48

/* Every placeholder a mail template may use.  Keep in step with the
 * variables the callers pass (ingest.c, notify code). */
static const char *const known_vars[] = {
	"project", "subject", "client_name", "contact_name", "contact_email",
	"owner_name", "owner_email", "owner_phone", "company_name",
	"company_address", "company_city", "company_phone", "company_email",
	"company_www", "system_address", "date", "task_title", "task_description",
	"assignee_name", "inquiry_text", "reason", "message_from", "message_subject",
	"outbox_id", "calc_table", "calc_table_html", "actions_text", "actions_html",
	"reply_text", "project_state", "approver_name", "client_flags", "complaint_number",
	"recipient_name", "digest_projects", "digest_value", "digest_states", "digest_reps",
	"digest_won", "digest_overdue", "digest_pending", "encrypted_note",
	"encrypted_note_html",
};

static int
is_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(known_vars); i++)
		if (strcmp(known_vars[i], name) == 0)
			return 1;
	return 0;
}

static void
add_escaped(struct sbuf *sb, const char *v, int html)
{
	if (!html) {
		sb_adds(sb, v);
		return;
	}
	for (; *v; v++) {
		switch (*v) {
		case '<': sb_adds(sb, "&lt;"); break;
		case '>': sb_adds(sb, "&gt;"); break;
		case '&': sb_adds(sb, "&amp;"); break;
		case '"': sb_adds(sb, "&quot;"); break;
		case '\'': sb_adds(sb, "&#39;"); break;
		case '\n': sb_adds(sb, "<br>\n"); break;
		default: sb_addc(sb, *v);
		}
	}
}

/*
 * Substitute placeholders in src.  vars may be NULL (check mode: only the
 * names are validated).  line0 is the file line of src's first line.
 */
static int
substitute(const char *file, int line0, const char *src, const struct tmpl_var *vars,
    size_t nvars, int html, struct sbuf *out, char *err, size_t errlen)
{
	int line = line0;
	for (const char *p = src; *p;) {
		if (p[0] == '{' && p[1] == '{') {
			const char *close = strstr(p + 2, "}}");
			const char *nl = strchr(p + 2, '\n');
			if (!close || (nl && nl < close)) {
				snprintf(err, errlen, "%s:%d: unclosed \"{{\"", file, line);
				return -1;
			}
			size_t n = (size_t)(close - p - 2);
			char name[VAR_NAME_MAX + 1];
			if (n == 0 || n > VAR_NAME_MAX) {
				snprintf(err, errlen, "%s:%d: bad placeholder", file, line);
				return -1;
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			char *nm = str_trim(name);
			if (!is_known(nm)) {
				snprintf(err, errlen, "%s:%d: unknown placeholder {{%s}}", file, line, nm);
				return -1;
			}
			if (vars) {
				const char *val = NULL;
				for (size_t i = 0; i < nvars; i++)
					if (strcmp(vars[i].name, nm) == 0)
						val = vars[i].value;
				/* Names ending in _html are markup made by the program. */
				size_t nmlen = strlen(nm);
				int raw = nmlen > 5 && strcmp(nm + nmlen - 5, "_html") == 0;
				add_escaped(out, val ? val : "", html && !raw);
			}
			p = close + 2;
			continue;
		}
		/* Text up to the next placeholder, copied as a whole. */
		const char *next = strstr(p, "{{");
		size_t n = next ? (size_t)(next - p) : strlen(p);
		if (!n) /* not reached: p is not at "{{" here */
			n = 1;
		for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + n - q))) != NULL; q++)
			line++;
		sb_add(out, p, n);
		p += n;
	}
	return 0;
}

/*
 * Template files as last read, so that a mail costs a stat() of each of
 * its files instead of reading them: an entry is used while the file is
 * the same one (device, inode) unchanged (size, modification and change
 * times), so an edited or replaced template counts from its next mail.
 */
#define CACHE_FILES 64

struct cached {
	char *path;
	struct stat st;
	char *data;
	size_t len;
};

static struct cached cache[CACHE_FILES];
static size_t cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int
unchanged(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* 1 when path is cached as the file st describes. */
static int
cache_holds(const char *path, const struct stat *st)
{
	int r = 0;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_FILES && cache[i].path && !r; i++)
		r = strcmp(cache[i].path, path) == 0 && unchanged(&cache[i].st, st);
	pthread_mutex_unlock(&cache_lock);
	return r;
}

/* A copy of the cached content of path if st describes the file it was
 * read from; NULL if not cached. */
static char *
cache_get(const char *path, const struct stat *st, size_t *len)
{
	char *copy = NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_FILES && cache[i].path; i++) {
		if (strcmp(cache[i].path, path) != 0)
			continue;
		if (unchanged(&cache[i].st, st)) {
			copy = xmalloc(cache[i].len + 1);
			memcpy(copy, cache[i].data, cache[i].len + 1);
			*len = cache[i].len;
		}
		break;
	}
	pthread_mutex_unlock(&cache_lock);
	return copy;
}

static void
cache_put(const char *path, const struct stat *st, const char *data, size_t len)
{
	pthread_mutex_lock(&cache_lock);
	size_t i = 0;
	while (i < CACHE_FILES && cache[i].path && strcmp(cache[i].path, path) != 0)
		i++;
	if (i == CACHE_FILES) {
		i = cache_next;
		cache_next = (cache_next + 1) % CACHE_FILES;
	}
	struct cached *c = &cache[i];
	free(c->path);
	free(c->data);
	*c = (struct cached){.path = xstrdup(path), .st = *st, .data = xmalloc(len + 1),
	    .len = len};
	memcpy(c->data, data, len);
	c->data[len] = '\0';
	pthread_mutex_unlock(&cache_lock);
}

/* The content of template file path (NUL-terminated, caller frees): from
 * the cache when st (stat of path, NULL: none) says it is unchanged. */
static int
read_template(const char *path, const struct stat *st, char **data, size_t *len)
{
	if (st && (*data = cache_get(path, st, len)) != NULL)
		return 0;
	if (file_read(path, TMPL_MAX_BYTES, data, len) < 0)
		return -1;
	/* Cached only when the file did not change while it was read. */
	struct stat after;
	if (st && stat(path, &after) == 0 && unchanged(st, &after))
		cache_put(path, st, *data, *len);
	return 0;
}

/* Render one file.  subject_out (may be NULL) receives the Subject header;
 * the body goes to body_out.  st: the file's stat, for the cache (NULL:
 * read it). */
static int
render_file(const char *path, const struct stat *st, const struct tmpl_var *vars,
    size_t nvars, int html, char **subject_out, char **body_out, char *err, size_t errlen)
{
	char *data;
	size_t len;
	if (read_template(path, st, &data, &len) < 0) {
		snprintf(err, errlen, "%s: %s", path,
		    errno == EFBIG ? "template larger than 256 KiB" : strerror(errno));
		return -1;
	}
	if (memchr(data, '\0', len) || !utf8_valid(data, len)) {
		snprintf(err, errlen, "%s: not valid UTF-8 text", path);
		free(data);
		return -1;
	}
	/* Header lines up to the first empty line (text templates only; an
	 * HTML template is all body). */
	char *subject = NULL;
	char *p = data;
	int line = 1;
	for (; subject_out;) {
		char *nl = strchr(p, '\n');
		if (!nl) {
			snprintf(err, errlen, "%s:%d: no empty line after the header lines", path, line);
			goto fail;
		}
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '\0') {
			p = nl + 1;
			line++;
			break;
		}
		if (str_istarts(p, "Subject:")) {
			struct sbuf sb = {0};
			if (substitute(path, line, str_trim(p + 8), vars, nvars, 0, &sb, err, errlen) < 0) {
				sb_free(&sb);
				goto fail;
			}
			free(subject);
			subject = sb_steal(&sb);
		} else {
			snprintf(err, errlen, "%s:%d: unknown header line (only Subject: is allowed)",
			    path, line);
			goto fail;
		}
		p = nl + 1;
		line++;
	}
	if (!subject && subject_out) {
		snprintf(err, errlen, "%s:1: missing Subject: line", path);
		goto fail;
	}
	struct sbuf body = {0};
	if (substitute(path, line, p, vars, nvars, html, &body, err, errlen) < 0) {
		sb_free(&body);
		goto fail;
	}
	if (subject_out) {
		*subject_out = str_oneline(subject);
		free(subject);
	} else
		free(subject);
	*body_out = sb_steal(&body);
	free(data);
	return 0;
fail:
	free(subject);
	free(data);
	return -1;
}

/* 1 when path can be read (access(R_OK)), with *st its stat.  A file in
 * the cache was readable when it was read, and a change of its owner or
 * permissions would have changed its ctime. */
static int
readable(const char *path, struct stat *st)
{
	return stat(path, st) == 0 && (cache_holds(path, st) || access(path, R_OK) == 0);
}

int
tmpl_mail_render(const char *dir, const char *lang, const char *name,
    const struct tmpl_var *vars, size_t nvars, struct tmpl_mail *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char *txt = xasprintf("%s/%s/%s.txt", dir, lang, name);
	struct stat st;
	int ok = readable(txt, &st);
	if (!ok && strcmp(lang, "pl") != 0) {
		free(txt);
		return tmpl_mail_render(dir, "pl", name, vars, nvars, out, err, errlen);
	}
	int r = render_file(txt, ok ? &st : NULL, vars, nvars, 0, &out->subject, &out->text, err,
	    errlen);
	free(txt);
	if (r < 0)
		return -1;
	char *html = xasprintf("%s/%s/%s.html", dir, lang, name);
	if (readable(html, &st)) {
		r = render_file(html, &st, vars, nvars, 1, NULL, &out->html, err, errlen);
		if (r < 0) {
			free(html);
			tmpl_mail_free(out);
			return -1;
		}
	}
	free(html);
	return 0;
}

void
tmpl_mail_free(struct tmpl_mail *m)
{
	free(m->subject);
	free(m->text);
	free(m->html);
	memset(m, 0, sizeof(*m));
}

size_t
tmpl_check_dir(const char *dir, void (*report)(void *ctx, const char *msg), void *ctx)
{
	static const char *langs[] = {"pl", "de"};
	size_t problems = 0;
	for (size_t i = 0; i < ARRAY_LEN(langs); i++) {
		char *ld = path_join(dir, langs[i]);
		DIR *d = opendir(ld);
		if (!d) {
			char *msg = xasprintf("%s: %s", ld, strerror(errno));
			report(ctx, msg);
			free(msg);
			free(ld);
			problems++;
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);
			int is_txt = n > 4 && strcmp(de->d_name + n - 4, ".txt") == 0;
			int is_html = n > 5 && strcmp(de->d_name + n - 5, ".html") == 0;
			if (!is_txt && !is_html)
				continue;
			char *path = path_join(ld, de->d_name);
			char err[512], *subject = NULL, *body = NULL;
			if (render_file(path, NULL, NULL, 0, is_html, is_txt ? &subject : NULL, &body,
			        err, sizeof(err)) < 0) {
				report(ctx, err);
				problems++;
			}
			free(subject);
			free(body);
			free(path);
		}
		closedir(d);
		free(ld);
	}
	return problems;
}
