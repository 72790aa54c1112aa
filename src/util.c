#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uninorm.h>

static void
oom(void)
{
	fputs("inkflow: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *
xgrow(void *p, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0)
		return p; /* between powers of two: there is room */
	if (n > SIZE_MAX / 2 / size)
		oom();
	return xrealloc(p, (n ? n * 2 : 1) * size);
}

char *
xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		oom();
	return d;
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
xasprintf(const char *fmt, ...)
{
	struct sbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_steal(&sb);
}

int
bfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

static void
sb_grow(struct sbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			oom();
		cap *= 2;
	}
	sb->s = xrealloc(sb->s, cap);
	sb->cap = cap;
}

void
sb_add(struct sbuf *sb, const void *data, size_t len)
{
	sb_grow(sb, len);
	if (len)
		memcpy(sb->s + sb->len, data, len);
	sb->len += len;
	sb->s[sb->len] = '\0';
}

void
sb_adds(struct sbuf *sb, const char *s)
{
	if (s)
		sb_add(sb, s, strlen(s));
}

void
sb_addc(struct sbuf *sb, char c)
{
	if (sb->len + 2 > sb->cap) {
		sb_add(sb, &c, 1);
		return;
	}
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
}

void
sb_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
{
	/* Formatted straight into the free room; a second time only when
	 * it did not fit. */
	sb_grow(sb, 63);
	size_t room = sb->cap - sb->len;
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(sb->s + sb->len, room, fmt, cp);
	va_end(cp);
	if (n < 0) {
		sb->s[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		sb_grow(sb, (size_t)n);
		vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	}
	sb->len += (size_t)n;
}

void
sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *
sb_steal(struct sbuf *sb)
{
	char *s = sb->s ? sb->s : xstrdup("");
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sb_free(struct sbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

const char *
sb_str(const struct sbuf *sb)
{
	return sb->s ? sb->s : "";
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else
		return 0;
	if (avail < n)
		return 0;
	unsigned cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

char *
utf8_sanitize(const char *s, size_t len)
{
	struct sbuf sb = {0};
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	sb_add(&sb, "", 0);
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (!n) {
			sb_adds(&sb, "\xef\xbf\xbd");
			i++;
		} else {
			if (!(n == 1 && p[i] == 0))
				sb_add(&sb, p + i, n);
			i += n;
		}
	}
	return sb_steal(&sb);
}

/* 1 when s may hold a character NFC changes or composes.  Below U+0300
 * nothing does; general punctuation (U+2002-U+203F: dashes, quotes,
 * ellipsis) and currency signs (U+20A0-U+20BF: euro) neither.  Polish and
 * German text in NFC thus passes without a look-up. */
static int
nfc_maybe(const unsigned char *p)
{
	for (; *p; p++) {
		if (*p < 0xcc)
			continue;
		if (p[0] == 0xe2 && p[2] && ((p[1] == 0x80 && p[2] >= 0x82) || p[1] == 0x82)) {
			p += 2;
			continue;
		}
		return 1;
	}
	return 0;
}

char *
utf8_nfc(char *s, int *changed)
{
	if (!s || !nfc_maybe((const unsigned char *)s))
		return s;
	size_t len = strlen(s), n = 0;
	uint8_t *r = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, &n);
	if (!r) {
		if (errno == ENOMEM)
			oom();
		return s; /* not well-formed: left as it is */
	}
	if (n == len && memcmp(r, s, n) == 0) {
		free(r);
		return s;
	}
	char *out = xrealloc(r, n + 1);
	out[n] = '\0';
	free(s);
	if (changed)
		*changed = 1;
	return out;
}

size_t
utf8_len(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	return n;
}

void
utf8_pad(const char *s, size_t width)
{
	s = s ? s : "";
	size_t n = 0;
	const char *p = s;
	while (*p && n < width) {
		const char *q = p + 1;
		while ((*q & 0xc0) == 0x80)
			q++;
		(void)fwrite(p, 1, (size_t)(q - p), stdout); /* a table cell on the terminal */
		p = q;
		n++;
	}
	for (; n < width; n++)
		putchar(' ');
}

char *
str_lower(char *s)
{
	for (char *p = s; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *
str_trim(char *s)
{
	while (*s && is_space((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && is_space((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int
lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

int
str_ieq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	while (*a && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == *b;
}

int
str_istarts(const char *s, const char *prefix)
{
	while (*prefix) {
		if (lc((unsigned char)*s) != lc((unsigned char)*prefix))
			return 0;
		s++;
		prefix++;
	}
	return 1;
}

int
str_copy(char *dst, size_t size, const char *src)
{
	if (!size)
		return -1;
	size_t n = strlen(src ? src : "");
	int cut = n >= size;
	if (cut) {
		n = size - 1;
		while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return cut ? -1 : 0;
}

char *
str_oneline(const char *s)
{
	char *d = xstrdup(s ? s : "");
	for (unsigned char *p = (unsigned char *)d; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return d;
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
	struct sha256 c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

void
sha256_init(struct sha256 *c)
{
	nettle_sha256_init(&c->ctx);
}

void
sha256_update(struct sha256 *c, const void *data, size_t len)
{
	nettle_sha256_update(&c->ctx, len, data);
}

void
sha256_final(struct sha256 *c, char out[65])
{
	unsigned char d[SHA256_DIGEST_SIZE];
	nettle_sha256_digest(&c->ctx, sizeof(d), d);
	hex(d, sizeof(d), out);
}

void
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fputs("inkflow: no system randomness\n", stderr);
			abort();
		}
		p += r;
		n -= (size_t)r;
	}
}

void
random_hex(char *out, size_t n)
{
	unsigned char b[64];
	if (n > sizeof(b))
		n = sizeof(b);
	random_bytes(b, n);
	hex(b, n, out);
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	/* strtoll would skip leading blanks; the whole string must be the number. */
	if (!s || !*s || is_space((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

char *
path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || !dir || !*dir)
		return xstrdup(name);
	size_t n = strlen(dir);
	return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

char *
path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
mkdir_p(const char *path, mode_t mode)
{
	/* Mostly the parents exist: one call for the usual case. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = mkdir(p, mode);
	free(p);
	return (r < 0 && errno != EEXIST) ? -1 : 0;
}

int
file_read(const char *path, size_t max, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Read into a buffer of the file's size (and one byte more, to see
	 * the end); a file that grows meanwhile grows the buffer. */
	struct stat st;
	size_t hint = fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= max
	                  ? (size_t)st.st_size : 0;
	struct sbuf sb = {.s = xmalloc(hint + 2), .cap = hint + 2};
	for (;;) {
		if (sb.cap - sb.len < 2)
			sb_grow(&sb, 65536);
		size_t room = sb.cap - sb.len - 1;
		if (max - sb.len < room - 1)
			room = max - sb.len + 1;
		ssize_t r = read(fd, sb.s + sb.len, room);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			sb_free(&sb);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		if (sb.len + (size_t)r > max) {
			close(fd);
			sb_free(&sb);
			errno = EFBIG;
			return -1;
		}
		sb.len += (size_t)r;
	}
	close(fd);
	sb.s[sb.len] = '\0';
	*len = sb.len;
	*data = sb_steal(&sb);
	return 0;
}

int
file_map(const char *path, size_t max, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if ((uint64_t)st.st_size > max || st.st_size == 0) {
		close(fd);
		errno = st.st_size ? EFBIG : EINVAL;
		return -1;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return -1;
	}
	*data = p;
	*len = (size_t)st.st_size;
	return 0;
}

void
file_unmap(char *data, size_t len)
{
	if (data)
		munmap(data, len);
}

void
file_drop(const char *data, size_t from, size_t to)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)data + from + pg - 1) / pg * pg;
	uintptr_t b = ((uintptr_t)data + to) / pg * pg;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

int
dir_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int
write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
file_write_durable(const char *path, const void *data, size_t len, mode_t mode)
{
	char rnd[17];
	random_hex(rnd, 8);
	char *tmp = xasprintf("%s.tmp-%s", path, rnd);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	if (write_full(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	char *dir = path_dirname(path);
	int r = dir_fsync(dir);
	free(dir);
	return r;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = e;
	return -1;
}

char *
sanitize_filename(const char *name)
{
	char *clean = utf8_sanitize(name ? name : "", name ? strlen(name) : 0);
	/* Keep only the last path component (Windows or Unix separators). */
	char *base = clean;
	for (char *p = clean; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	struct sbuf sb = {0};
	for (unsigned char *p = (unsigned char *)base; *p; p++) {
		unsigned char c = *p;
		/* Invisible characters that change how a name reads: zero
		 * widths, direction marks, embeddings and overrides
		 * ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf"), isolates,
		 * the BOM.  Dropped. */
		if (c == 0xe2 && p[1] == 0x80 &&
		    ((p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae))) {
			p += 2;
			continue;
		}
		if (c == 0xe2 && p[1] == 0x81 &&
		    ((p[2] >= 0xa0 && p[2] <= 0xa4) || (p[2] >= 0xa6 && p[2] <= 0xa9))) {
			p += 2;
			continue;
		}
		if (c == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
			p += 2;
			continue;
		}
		if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1 controls */
			sb_addc(&sb, '_');
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f || strchr("<>:\"|?*", c))
			sb_addc(&sb, '_');
		else
			sb_addc(&sb, (char)c);
	}
	free(clean);
	char *s = sb_steal(&sb);
	char *start = s;
	while (*start == '.' || *start == ' ')
		start++;
	size_t n = strlen(start);
	while (n && (start[n - 1] == '.' || start[n - 1] == ' '))
		start[--n] = '\0';
	if (n > 120) {
		/* Keep the extension (up to 16 bytes) and cut the stem at a
		 * character boundary. */
		const char *dot = strrchr(start, '.');
		size_t extlen = (dot && strlen(dot) <= 16) ? strlen(dot) : 0;
		size_t stem = 120 - extlen;
		while (stem && ((unsigned char)start[stem] & 0xc0) == 0x80)
			stem--;
		memmove(start + stem, start + n - extlen, extlen + 1);
		n = stem + extlen;
		/* A cut without extension may end in a dot or blank again. */
		while (n && (start[n - 1] == '.' || start[n - 1] == ' '))
			start[--n] = '\0';
	}
	char *out = n ? xstrdup(start) : xstrdup("attachment");
	free(s);
	return out;
}

int64_t
now_epoch(void)
{
	const char *e = getenv("INKFLOW_NOW");
	int64_t v;
	if (e && parse_int64(e, 0, INT64_MAX / 2, &v) == 0)
		return v;
	return (int64_t)time(NULL);
}

int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rfc5322_date(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) ||
	    strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(buf, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}

void
iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "1970-01-01T00:00:00Z");
}
