/*
 * tnef: the files inside a winmail.dat, read by libytnef in a child process.
 *
 * libytnef 2.0 (Debian 12) reads a TNEF stream from memory with
 * TNEFParseMemory.  What this module relies on, read from its source:
 *   - it prints to stdout (printf) on every malformed input, whatever
 *     TNEFStruct.Debug says, and TNEFInitialize leaves Debug unset;
 *   - every attAttachRenddata starts a new Attachment in the list after
 *     starting_attach (itself never used); attAttachTitle, attAttachData
 *     and attAttachment (the MAPI properties) fill the last one;
 *   - Title is NUL-terminated (at most 260 bytes), FileData is not;
 *   - a PT_UNICODE MAPI string is handed over already turned into UTF-8 by
 *     its to_utf8() (NUL-terminated, size still the UTF-16 byte count; a
 *     surrogate pair comes out as two 3-byte sequences, U+07FF as an
 *     overlong one); PT_STRING8 data is a copy of size bytes, NUL included
 *     when the sender wrote one;
 *   - one attribute may not pass attachmentSize MiB (an int the caller
 *     sets; TNEFInitialize sets 50);
 *   - it has a history of out-of-bounds reads and writes on hostile input
 *     (CVE-2017-6298 to -6802, CVE-2017-9058 ...).
 * So the parse runs in a forked child: stdout and stderr on /dev/null,
 * address space and CPU time limited.  The child writes what it found to a
 * pipe and _exits; the parent reads that with size bounds and a deadline
 * and takes the answer only when it is complete and the child exited.
 * The child does no more than parse, copy and write(2): the parent may have
 * other threads, whose locks (iconv's, the logger's) the child must not
 * need, so file names are converted to UTF-8 in the parent as they come.
 *
 * The pipe carries, in the machine's byte order:
 *   'F' u32 codepage, u32 namelen, name, u64 datalen, data   (per file)
 *   'B' u8 kind, u32 codepage, u64 datalen, data             (per body)
 *   'E' u64 skipped, u8 more                                 (once, last)
 * codepage is the TNEF's attOemCodepage for a PT_STRING8 or attAttachTitle
 * name, TNEF_CP_YTNEF_UTF8 for a PT_UNICODE one.  A body is the message's
 * own text in one of its forms: plain ('T', 'U' for libytnef's UTF-8),
 * HTML ('H') or compressed RTF ('R', uncompressed in the parent, which
 * does so within bounds: libytnef's DecompressRTF exits on a bad stream).
 */
#include "tnef.h"

#include "mime.h"
#include "rtf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ytnef.h>

#define TNEF_DEADLINE_MS 8000          /* the whole exchange with the child */
#define TNEF_CPU_SECONDS 5
#define TNEF_AS_HEADROOM ((size_t)256 << 20)
#define TNEF_NAME_MAX 1024             /* bytes of a file name as sent */
#define TNEF_CP_YTNEF_UTF8 0xFFFFFFFFu /* name is libytnef's UTF-8 */

enum { CHILD_OK = 0, CHILD_NOPARSE = 2, CHILD_IO = 3 };

static const unsigned char SIG[4] = {0x78, 0x9f, 0x3e, 0x22};

int
tnef_is_stream(const char *data, size_t len)
{
	return data && len >= 6 && memcmp(data, SIG, sizeof(SIG)) == 0;
}

/* ------------------------------------------------------------------ */
/* the child */

static void
put(int fd, const void *p, size_t n)
{
	if (write_full(fd, p, n) < 0)
		_exit(CHILD_IO);
}

/* The first non-empty of a's names: MAPI long name (UTF-16, then 8-bit),
 * attAttachTitle, MAPI short name. */
static const char *
att_name(Attachment *a, unsigned cp, unsigned *name_cp, size_t *len)
{
	static const struct { ULONG type, id; } pick[] = {
		{PT_UNICODE, PR_ATTACH_LONG_FILENAME}, {PT_STRING8, PR_ATTACH_LONG_FILENAME},
		{0, 0}, /* the title */
		{PT_UNICODE, PR_ATTACH_FILENAME}, {PT_STRING8, PR_ATTACH_FILENAME},
	};
	for (size_t i = 0; i < ARRAY_LEN(pick); i++) {
		const char *s;
		size_t max;
		if (pick[i].type == 0) {
			if (!a->Title.data || a->Title.size <= 0)
				continue;
			s = (const char *)a->Title.data;
			max = (size_t)a->Title.size;
		} else {
			variableLength *v = MAPIFindProperty(&a->MAPI, PROP_TAG(pick[i].type, pick[i].id));
			if (v == MAPI_UNDEFINED || !v || !v->data || v->size <= 0)
				continue;
			s = (const char *)v->data;
			/* to_utf8 wrote at most 3 bytes per UTF-16 unit, then NUL */
			max = pick[i].type == PT_UNICODE ? (size_t)v->size / 2 * 3 + 1 : (size_t)v->size;
		}
		size_t n = strnlen(s, max);
		if (n == 0 || n > TNEF_NAME_MAX)
			continue;
		*name_cp = pick[i].type == PT_UNICODE ? TNEF_CP_YTNEF_UTF8 : cp;
		*len = n;
		return s;
	}
	*name_cp = 0;
	*len = 0;
	return NULL;
}

/* a's file data: attAttachData, else a binary PR_ATTACH_DATA_OBJ (an
 * object there is an embedded Outlook item, not a file). */
static const BYTE *
att_data(Attachment *a, size_t *len)
{
	if (a->FileData.data && a->FileData.size > 0) {
		*len = (size_t)a->FileData.size;
		return a->FileData.data;
	}
	variableLength *v = MAPIFindProperty(&a->MAPI, PROP_TAG(PT_BINARY, PR_ATTACH_DATA_OBJ));
	if (v != MAPI_UNDEFINED && v && v->data && v->size > 0) {
		*len = (size_t)v->size;
		return v->data;
	}
	*len = 0;
	return NULL;
}

/* The message's text in each form the stream holds, each at most max
 * bytes: its plain body (the MAPI property, then the TNEF attribute), its
 * HTML, its compressed RTF. */
static void
child_bodies(int wfd, TNEFStruct *t, uint32_t cp, size_t max)
{
	uint32_t icp = cp; /* what HTML is written in: the Internet code page */
	variableLength *v =
	    MAPIFindProperty(&t->MapiProperties, PROP_TAG(PT_LONG, PR_INTERNET_CPID));
	if (v != MAPI_UNDEFINED && v && v->data && v->size >= 4)
		icp = SwapDWord(v->data, 4);
	static const struct { ULONG tag; char kind; } pick[] = {
		{PROP_TAG(PT_UNICODE, PR_BODY), 'U'}, {PROP_TAG(PT_STRING8, PR_BODY), 'T'},
		{PROP_TAG(PT_BINARY, PR_BODY_HTML), 'H'}, {PROP_TAG(PT_STRING8, PR_BODY_HTML), 'H'},
		{PROP_TAG(PT_BINARY, PR_RTF_COMPRESSED), 'R'},
	};
	for (size_t i = 0; i <= ARRAY_LEN(pick); i++) {
		const BYTE *d;
		size_t n;
		char kind;
		if (i == ARRAY_LEN(pick)) { /* attBody, in the OEM code page */
			d = t->body.data;
			n = t->body.size > 0 ? (size_t)t->body.size : 0;
			kind = 'T';
		} else {
			v = MAPIFindProperty(&t->MapiProperties, pick[i].tag);
			if (v == MAPI_UNDEFINED || !v || !v->data || v->size <= 0)
				continue;
			d = v->data;
			kind = pick[i].kind;
			/* libytnef's UTF-8: at most 3 bytes per UTF-16 unit, NUL */
			n = kind == 'U' ? strnlen((const char *)d, (size_t)v->size / 2 * 3 + 1)
			                : (size_t)v->size;
		}
		if (!d || n == 0 || n > max)
			continue;
		uint32_t bcp = kind == 'H' ? icp : cp;
		uint64_t n64 = n;
		put(wfd, "B", 1);
		put(wfd, &kind, 1);
		put(wfd, &bcp, sizeof(bcp));
		put(wfd, &n64, sizeof(n64));
		put(wfd, d, n);
	}
}

static void
child_limits(size_t vm_now, size_t len)
{
	/* Relative to what the process already maps (the parent's heap,
	 * libraries, thread stacks, a sanitizer's shadow): what the parse
	 * itself may add.  It copies each attribute twice at most. */
	size_t room = len > TNEF_AS_HEADROOM / 4 ? len * 4 : TNEF_AS_HEADROOM;
	struct rlimit as = {vm_now + room, vm_now + room};
	struct rlimit cpu = {TNEF_CPU_SECONDS, TNEF_CPU_SECONDS + 1};
	if (vm_now) /* else the base is unknown: no limit rather than a wrong one */
		(void)setrlimit(RLIMIT_AS, &as);
	(void)setrlimit(RLIMIT_CPU, &cpu);
}

static void __attribute__((noreturn))
child_run(int wfd, const char *data, size_t len, const struct tnef_limits *lim, size_t vm_now)
{
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
		_exit(CHILD_IO);
	child_limits(vm_now, len);

	TNEFStruct t;
	memset(&t, 0, sizeof(t));
	TNEFInitialize(&t);
	t.Debug = 0;
	/* No attribute can be larger than the stream; the product is an int. */
	size_t mib = len / (1024 * 1024) + 1;
	t.attachmentSize = mib < 2047 ? (int)mib : 2047;
	/* TNEFParseMemory does not write to the buffer; its prototype lacks
	 * the const. */
	if (TNEFParseMemory((BYTE *)(uintptr_t)data, (long)len, &t) < 0)
		_exit(CHILD_NOPARSE);

	unsigned cp = 0;
	if (t.CodePage.data && t.CodePage.size >= 4)
		cp = SwapDWord(t.CodePage.data, 4);
	uint64_t skipped = 0;
	uint8_t more = 0;
	size_t nfiles = 0, total = 0;
	for (Attachment *a = t.starting_attach.next; a; a = a->next) {
		size_t dlen;
		const BYTE *d = att_data(a, &dlen);
		if (!d)
			continue;
		if (nfiles == lim->max_files) {
			more = 1;
			break;
		}
		if (dlen > lim->max_file || dlen > lim->max_total - total) {
			skipped++;
			continue;
		}
		unsigned ncp;
		size_t nlen;
		const char *name = att_name(a, cp, &ncp, &nlen);
		uint32_t cp32 = ncp, nlen32 = (uint32_t)nlen;
		uint64_t dlen64 = dlen;
		put(wfd, "F", 1);
		put(wfd, &cp32, sizeof(cp32));
		put(wfd, &nlen32, sizeof(nlen32));
		put(wfd, name, nlen);
		put(wfd, &dlen64, sizeof(dlen64));
		put(wfd, d, dlen);
		nfiles++;
		total += dlen;
	}
	child_bodies(wfd, &t, cp, lim->max_file);
	TNEFFree(&t);
	put(wfd, "E", 1);
	put(wfd, &skipped, sizeof(skipped));
	put(wfd, &more, sizeof(more));
	_exit(CHILD_OK);
}

/* ------------------------------------------------------------------ */
/* the parent */

/* Pages of address space the process maps now (0 when unknown). */
static size_t
vm_size(void)
{
	char *buf;
	size_t n;
	if (file_read("/proc/self/statm", 4096, &buf, &n) < 0)
		return 0;
	char *end;
	errno = 0;
	unsigned long pages = strtoul(buf, &end, 10);
	int bad = errno || end == buf;
	free(buf);
	return bad ? 0 : (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Exactly n bytes from fd before the deadline: 0, or -1 with why. */
static int
rd(int fd, void *buf, size_t n, int64_t deadline, char *why, size_t whylen)
{
	char *p = buf;
	while (n) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			snprintf(why, whylen, "decoder timed out");
			return -1;
		}
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whylen, "poll: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			continue;
		ssize_t got = read(fd, p, n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			snprintf(why, whylen, "decoder answer cut short");
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* libytnef's UTF-8 of UTF-16 made valid in place: a surrogate pair written
 * as two 3-byte sequences becomes one 4-byte sequence, the overlong form of
 * U+07FF its 2-byte one.  Returns the new length. */
static size_t
ytnef_utf8_fix(unsigned char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (i + 6 <= n && s[i] == 0xed && (s[i + 1] & 0xf0) == 0xa0 &&
		    (s[i + 2] & 0xc0) == 0x80 && s[i + 3] == 0xed && (s[i + 4] & 0xf0) == 0xb0 &&
		    (s[i + 5] & 0xc0) == 0x80) {
			unsigned hi = ((s[i + 1] & 0x0fu) << 6) | (s[i + 2] & 0x3fu);
			unsigned lo = ((s[i + 4] & 0x0fu) << 6) | (s[i + 5] & 0x3fu);
			unsigned c = 0x10000 + (hi << 10) + lo;
			s[o++] = (unsigned char)(0xf0 | (c >> 18));
			s[o++] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
			s[o++] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
			s[o++] = (unsigned char)(0x80 | (c & 0x3f));
			i += 6;
		} else if (i + 3 <= n && s[i] == 0xe0 && s[i + 1] == 0x9f && s[i + 2] == 0xbf) {
			s[o++] = 0xdf;
			s[o++] = 0xbf;
			i += 3;
		} else
			s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

/* A file name of n bytes in Windows code page cp (NUL-terminated, changed
 * in place) as UTF-8. */
static char *
name_to_utf8(uint32_t cp, char *name, size_t n)
{
	unsigned char *s = (unsigned char *)name;
	char label[16];
	const char *cs = NULL; /* unknown: mime_to_utf8 guesses */
	if (cp == TNEF_CP_YTNEF_UTF8) {
		n = ytnef_utf8_fix(s, n);
		cs = "utf-8";
	} else if (cp == 65001)
		cs = "utf-8";
	else if (cp == 20127)
		cs = "us-ascii";
	else if (cp == 28591)
		cs = "iso-8859-1";
	else if (cp == 28592)
		cs = "iso-8859-2";
	else if (cp) {
		snprintf(label, sizeof(label), "cp%u", (unsigned)cp);
		cs = label;
	}
	return mime_to_utf8(cs, name, n);
}

/* The message's text in the forms the child sent. */
struct bodies {
	char *plain; /* UTF-8 */
	char *html;  /* UTF-8 */
	char *rtf;   /* compressed, as sent */
	size_t rtf_len;
	size_t n;
};

static void
bodies_free(struct bodies *b)
{
	free(b->plain);
	free(b->html);
	free(b->rtf);
	memset(b, 0, sizeof(*b));
}

static int
blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* One 'B' record (after its tag); takes data[0..n) (NUL-terminated). */
static void
body_take(struct bodies *b, char kind, uint32_t cp, char *data, size_t n)
{
	if (kind == 'R') {
		if (!b->rtf) {
			b->rtf = data;
			b->rtf_len = n;
		} else
			free(data);
		return;
	}
	char *u = name_to_utf8(kind == 'U' ? TNEF_CP_YTNEF_UTF8 : cp, data, n);
	free(data);
	if (kind != 'H') { /* CRLF line ends, as Outlook writes them */
		size_t o = 0;
		for (size_t i = 0; u[i]; i++)
			if (u[i] != '\r' || u[i + 1] != '\n')
				u[o++] = u[i];
		u[o] = '\0';
	}
	char **slot = kind == 'H' ? &b->html : &b->plain;
	if (!*slot && !blank(u))
		*slot = u;
	else
		free(u);
}

/* The text of the message from the best of its forms, or NULL. */
static char *
body_text(struct bodies *b, size_t max, const char **from)
{
	if (b->plain) {
		*from = "plain text";
		char *t = b->plain;
		b->plain = NULL;
		return t;
	}
	if (b->html) {
		char *t = mime_html_to_text(b->html, strlen(b->html));
		*from = "HTML";
		if (!blank(t))
			return t;
		free(t);
	}
	char *rtf;
	size_t len;
	if (!b->rtf || rtf_decompress((const unsigned char *)b->rtf, b->rtf_len, max, &rtf, &len) < 0)
		return NULL;
	int html = 0;
	char *t = rtf_plain_text(rtf, len, &html);
	free(rtf);
	*from = html ? "HTML in RTF" : "RTF";
	if (t && !blank(t))
		return t;
	free(t);
	return NULL;
}

/* Reads the child's answer into out: 0, or -1 with why. */
static int
read_answer(int fd, const struct tnef_limits *lim, int64_t deadline, struct tnef_result *out,
    struct bodies *bodies, char *why, size_t whylen)
{
	size_t total = 0;
	for (;;) {
		char tag;
		if (rd(fd, &tag, 1, deadline, why, whylen) < 0)
			return -1;
		if (tag == 'B') {
			char kind;
			uint32_t cp;
			uint64_t blen;
			if (rd(fd, &kind, 1, deadline, why, whylen) < 0 ||
			    rd(fd, &cp, sizeof(cp), deadline, why, whylen) < 0 ||
			    rd(fd, &blen, sizeof(blen), deadline, why, whylen) < 0)
				return -1;
			if (blen > lim->max_file || ++bodies->n > 8 || !kind || !strchr("TUHR", kind)) {
				snprintf(why, whylen, "malformed decoder answer");
				return -1;
			}
			char *data = xmalloc((size_t)blen + 1);
			if (rd(fd, data, (size_t)blen, deadline, why, whylen) < 0) {
				free(data);
				return -1;
			}
			data[blen] = '\0';
			body_take(bodies, kind, cp, data, (size_t)blen);
			continue;
		}
		if (tag == 'E') {
			uint64_t skipped;
			uint8_t more;
			char extra;
			if (rd(fd, &skipped, sizeof(skipped), deadline, why, whylen) < 0 ||
			    rd(fd, &more, sizeof(more), deadline, why, whylen) < 0)
				return -1;
			if (read(fd, &extra, 1) != 0) {
				snprintf(why, whylen, "malformed decoder answer");
				return -1;
			}
			out->skipped = skipped;
			out->more = more != 0;
			return 0;
		}
		uint32_t cp, nlen;
		uint64_t dlen;
		if (tag != 'F' || out->n >= lim->max_files) {
			snprintf(why, whylen, "malformed decoder answer");
			return -1;
		}
		if (rd(fd, &cp, sizeof(cp), deadline, why, whylen) < 0 ||
		    rd(fd, &nlen, sizeof(nlen), deadline, why, whylen) < 0)
			return -1;
		if (nlen > TNEF_NAME_MAX) {
			snprintf(why, whylen, "malformed decoder answer");
			return -1;
		}
		char name[TNEF_NAME_MAX + 1];
		if (rd(fd, name, nlen, deadline, why, whylen) < 0 ||
		    rd(fd, &dlen, sizeof(dlen), deadline, why, whylen) < 0)
			return -1;
		name[nlen] = '\0';
		if (dlen > lim->max_file || dlen > lim->max_total - total) {
			snprintf(why, whylen, "malformed decoder answer");
			return -1;
		}
		char *data = xmalloc((size_t)dlen + 1);
		if (rd(fd, data, (size_t)dlen, deadline, why, whylen) < 0) {
			free(data);
			return -1;
		}
		data[dlen] = '\0';
		total += (size_t)dlen;
		out->files = xgrow(out->files, out->n, sizeof(*out->files));
		struct tnef_file *f = &out->files[out->n++];
		f->data = data;
		f->len = (size_t)dlen;
		f->name = nlen ? name_to_utf8(cp, name, nlen) : NULL;
		f->content_type = mime_type_guess(f->name, data, f->len);
	}
}

int
tnef_extract(const char *data, size_t len, const struct tnef_limits *lim,
    struct tnef_result *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (why && whylen)
		why[0] = '\0';
	char dummy[8];
	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (!tnef_is_stream(data, len)) {
		snprintf(why, whylen, "not a TNEF stream");
		return -1;
	}
	if (len > LONG_MAX) {
		snprintf(why, whylen, "too large");
		return -1;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	size_t vm = vm_size();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child_run(p[1], data, len, lim, vm);
	}
	close(p[1]);
	int64_t deadline = mono_ms() + TNEF_DEADLINE_MS;
	struct bodies bodies = {0};
	int r = read_answer(p[0], lim, deadline, out, &bodies, why, whylen);
	close(p[0]);
	/* The child exits as soon as its answer is written; one that has
	 * not by the deadline (or whose answer was refused) is killed. */
	int status = 0, reaped = 0;
	if (r < 0)
		(void)kill(pid, SIGKILL);
	while (!reaped) {
		pid_t w = waitpid(pid, &status, r < 0 ? 0 : WNOHANG);
		if (w == pid)
			reaped = 1;
		else if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		} else if (w == 0) {
			if (mono_ms() >= deadline) {
				(void)kill(pid, SIGKILL);
				r = -1;
				snprintf(why, whylen, "decoder did not exit");
				continue;
			}
			struct timespec ts = {0, 2 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	/* A complete answer is taken from a child that exited, whatever its
	 * status: it writes the end record last, after freeing, and under a
	 * memory checker the status is the checker's. */
	if (r == 0 && (!reaped || !WIFEXITED(status))) {
		r = -1;
		snprintf(why, whylen, "decoder exited abnormally");
	}
	if (r < 0 && reaped && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		snprintf(why, whylen, "decoder killed by signal %d", WTERMSIG(status));
	else if (r < 0 && reaped && WIFEXITED(status) && WEXITSTATUS(status) == CHILD_NOPARSE)
		snprintf(why, whylen, "libytnef cannot parse it");
	if (r < 0) {
		bodies_free(&bodies);
		tnef_result_free(out);
		return -1;
	}
	out->body = body_text(&bodies, lim->max_file, &out->body_from);
	bodies_free(&bodies);
	return 0;
}

void
tnef_result_free(struct tnef_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->files[i].name);
		free(r->files[i].data);
	}
	free(r->files);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
