/*
 * util: memory, growable strings, hashing, files and small parsers shared by
 * every module.  Allocation failure is fatal (x* family); everything else
 * returns 0 / -1 and describes the failure in a caller's buffer.
 */
#ifndef INKFLOW_UTIL_H
#define INKFLOW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation; abort with a message on out-of-memory.  Never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* p, an array of n elements of size bytes that is only ever appended to,
 * with room for element n: its capacity is implied, doubling whenever n
 * reaches a power of two, so n appends cost linear time. */
void *xgrow(void *p, size_t n, size_t size);
char *xstrdup(const char *s);                /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats into buf; returns -1 if the result did not fit (truncation is an
 * error, the buffer then holds a truncated string). */
int bfmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Growable NUL-terminated byte string.  Zero-initialised is valid/empty. */
struct sbuf {
	char *s;    /* owned; NULL until the first append */
	size_t len;
	size_t cap;
};
void sb_add(struct sbuf *sb, const void *data, size_t len);
void sb_adds(struct sbuf *sb, const char *s);
void sb_addc(struct sbuf *sb, char c);
void sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sbuf *sb, const char *fmt, va_list ap);
/* Returns the string (never NULL, "" when empty) and resets sb; caller frees. */
char *sb_steal(struct sbuf *sb);
void sb_free(struct sbuf *sb);
const char *sb_str(const struct sbuf *sb); /* "" when empty; lent */

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t len);
/* Copy of s with invalid UTF-8 sequences replaced by U+FFFD and NUL bytes
 * dropped; caller frees. */
char *utf8_sanitize(const char *s, size_t len);
/* s (well-formed UTF-8, malloc'd; NULL passes) in Unicode Normalization
 * Form C: a letter and its combining marks as one character where Unicode
 * has one ("e" + U+0328 becomes "ę"), as macOS file names and text copied
 * from PDFs come decomposed.  Takes s; returns it, or a new string in its
 * place.  *changed (may be NULL) is set to 1 when the text changed. */
char *utf8_nfc(char *s, int *changed);
/* Number of code points (for display widths); invalid bytes count as one. */
size_t utf8_len(const char *s);
/* Print s (UTF-8; NULL as "") to stdout as a table cell of width code
 * points: padded with spaces, a longer one cut at a character boundary. */
void utf8_pad(const char *s, size_t width);
/* Lowercase ASCII in place; returns s. */
char *str_lower(char *s);
/* Trim ASCII whitespace both ends in place; returns s (moved start). */
char *str_trim(char *s);
int str_ieq(const char *a, const char *b);          /* ASCII case-insensitive */
int str_istarts(const char *s, const char *prefix); /* ASCII case-insensitive */
/* Copy src into dst[size], cut at a UTF-8 character boundary when it does
 * not fit.  Returns 0, or -1 when it was cut. */
int str_copy(char *dst, size_t size, const char *src);
/* Copy of s with CR, LF, NUL-like control characters replaced by spaces:
 * the form every value takes before it goes into a mail header or log line. */
char *str_oneline(const char *s);

/* SHA-256 of data as 64 lowercase hex characters plus NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);
/* Incremental SHA-256, nettle's.  Its header maps sha256_init, _update
 * and _digest to its nettle_ symbols; here those names are inkflow's. */
#include <nettle/sha2.h>
#undef sha256_init
#undef sha256_update
#undef sha256_digest
struct sha256 { struct sha256_ctx ctx; };
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, char out[65]);
/* n random bytes from the system CSPRNG; aborts when none is available. */
void random_bytes(void *buf, size_t n);
/* 2*n lowercase hex characters of random; out must hold 2*n+1. */
void random_hex(char *out, size_t n);

/* Parse a decimal integer in [min,max]; whole string must be consumed. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* dir + "/" + name (name absolute: copy of name).  Caller frees. */
char *path_join(const char *dir, const char *name);
/* Directory part of path ("." when none).  Caller frees. */
char *path_dirname(const char *path);
/* mkdir -p with mode; 0 when it exists already. */
int mkdir_p(const char *path, mode_t mode);
/* Read a whole file, at most max bytes (larger: -1, errno EFBIG).  The data
 * is NUL-terminated (not counted in *len); caller frees. */
int file_read(const char *path, size_t max, char **data, size_t *len);
/* Map path read-only (private) instead of reading it: for large files, whose
 * pages the caller can hand back after use (file_drop).  Fails with EFBIG
 * beyond max.  Unmap with file_unmap. */
int file_map(const char *path, size_t max, char **data, size_t *len);
void file_unmap(char *data, size_t len);
/* Hand back the pages of a file_map mapping that lie wholly inside
 * data[from..to): they are read from the file again when touched. */
void file_drop(const char *data, size_t from, size_t to);
/* write(2) until all of data[0..len) is written (EINTR retried); -1 with
 * errno on error. */
int write_full(int fd, const void *data, size_t len);
/* Write data to path durably: temp file in the same directory, fsync, rename,
 * fsync of the directory.  Mode applies to the new file. */
int file_write_durable(const char *path, const void *data, size_t len, mode_t mode);
/* fsync a directory by path. */
int dir_fsync(const char *path);

/* A file name safe on every common file system: path separators, control
 * characters and characters Windows refuses become '_', invisible ones
 * that change how a name reads (direction overrides, zero widths) are
 * dropped, leading dots and
 * trailing dots/spaces are dropped, at most 120 bytes (cut at a UTF-8
 * boundary, extension kept).  Never empty: "attachment" when nothing is
 * left.  Caller frees. */
char *sanitize_filename(const char *name);

/* Current time; honours INKFLOW_NOW (epoch seconds) so tests can fix it. */
int64_t now_epoch(void);
/* Milliseconds of CLOCK_MONOTONIC: for deadlines and timeouts. */
int64_t mono_ms(void);
/* RFC 5322 date for t in local time, e.g. "Fri, 27 Nov 2026 14:03:00 +0100". */
void rfc5322_date(int64_t t, char *buf, size_t size);
/* ISO 8601 UTC "2026-11-27T13:03:00Z". */
void iso_time(int64_t t, char *buf, size_t size);

#endif
