#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The project number at q (at most 12 digits) into *v: the number of
 * digits read. */
static int
tag_number(const char *q, int64_t *v)
{
	int digits = 0;
	*v = 0;
	while (q[digits] >= '0' && q[digits] <= '9' && digits < 12) {
		*v = *v * 10 + (q[digits] - '0');
		digits++;
	}
	return digits;
}

/* Length of the [INK-n] tag at p ('[' at p), 0 if none starts there; *project
 * set when one does. */
static size_t
tag_at(const char *p, int64_t *project)
{
	const char *q = p + 1;
	while (*q == ' ')
		q++;
	if (!str_istarts(q, "INK-") && !str_istarts(q, "INK "))
		return 0;
	q += 4;
	int64_t v;
	int digits = tag_number(q, &v);
	q += digits;
	while (*q == ' ')
		q++;
	if (!digits || *q != ']' || v <= 0)
		return 0;
	*project = v;
	return (size_t)(q + 1 - p);
}

int
route_subject_tag(const char *subject, int64_t *project)
{
	for (const char *p = subject ? subject : ""; (p = strchr(p, '[')) != NULL; p++)
		if (tag_at(p, project))
			return 1;
	return 0;
}

/* A byte that continues a word: ASCII letters and digits, '-', '_', and
 * any byte of a UTF-8 sequence. */
static int
word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-' ||
	       c == '_' || c >= 0x80;
}

int
route_subject_bare_tag(const char *subject, int64_t *project)
{
	const char *s = subject ? subject : "";
	for (const char *p = s; *p; p++) {
		if (!str_istarts(p, "INK-") || (p > s && word_byte((unsigned char)p[-1])))
			continue;
		int64_t v;
		int digits = tag_number(p + 4, &v);
		const char *q = p + 4 + digits;
		/* "INK-7" and "INK-7." yes; "INK-7b", "INK-7-2", "INK-0123456789012" no */
		if (!digits || v <= 0 || word_byte((unsigned char)*q))
			continue;
		*project = v;
		return 1;
	}
	return 0;
}

/* Length of a reply/forward prefix at s (including the colon and following
 * blanks), 0 if none. */
static size_t
prefix_len(const char *s)
{
	static const char *words[] = {"re", "odp", "aw", "wg", "fwd", "fw", "vs",
	    "sv", "antw", "pd", "tr", "rif", "doa", "enc", "rv", "doorst"};
	for (size_t i = 0; i < ARRAY_LEN(words); i++) {
		size_t n = strlen(words[i]);
		if (!str_istarts(s, words[i]))
			continue;
		const char *q = s + n;
		/* "Re[2]:" and "Re(2):" counters */
		if (*q == '[' || *q == '(') {
			char close = *q == '[' ? ']' : ')';
			const char *e = q + 1;
			while (*e >= '0' && *e <= '9')
				e++;
			if (*e == close && e > q + 1)
				q = e + 1;
		}
		while (*q == ' ')
			q++;
		if (*q == ':' || (unsigned char)q[0] == 0xef) {
			/* full-width colon U+FF1A from CJK clients */
			if (*q == ':')
				q++;
			else if ((unsigned char)q[1] == 0xbc && (unsigned char)q[2] == 0x9a)
				q += 3;
			else
				continue;
			while (*q == ' ' || *q == '\t')
				q++;
			return (size_t)(q - s);
		}
	}
	return 0;
}

/* Copy of s without its [INK-n] tags, also those that removing another
 * forms ("[INK-[INK-1]2]" leaves nothing), in one linear pass: open[] holds
 * the positions in out of the '[' that may still start a tag.  A ']' closes
 * the latest one: a tag is cut from out; otherwise that ']' stays for good,
 * so no '[' before it can start a tag any more. */
static char *
strip_tags(const char *s)
{
	size_t n = strlen(s), o = 0, nopen = 0;
	char *out = xmalloc(n + 1);
	size_t *open = xmalloc((n + 1) * sizeof(*open));
	for (const char *p = s; *p; p++) {
		out[o++] = *p;
		if (*p == '[') {
			open[nopen++] = o - 1;
		} else if (*p == ']' && nopen) {
			size_t b = open[--nopen];
			int64_t v;
			out[o] = '\0';
			if (tag_at(out + b, &v) == o - b)
				o = b;
			else
				nopen = 0;
		}
	}
	out[o] = '\0';
	free(open);
	return out;
}

char *
route_clean_subject(const char *subject)
{
	char *s = strip_tags(subject ? subject : "");
	char *t = str_trim(s);
	for (;;) {
		size_t n = prefix_len(t);
		if (n) {
			t = str_trim(t + n);
			continue;
		}
		/* Gateway markers such as "[EXTERNAL]" or "[EXT]" before a prefix. */
		if (*t == '[') {
			char *close = strchr(t, ']');
			if (close && close - t <= 16 && prefix_len(str_trim(close + 1))) {
				t = str_trim(close + 1);
				continue;
			}
		}
		break;
	}
	char *out = xstrdup(t);
	/* Collapse runs of blanks left by the tag removal. */
	char *w = out;
	for (char *r = out; *r; r++) {
		if ((*r == ' ' || *r == '\t') && w > out && w[-1] == ' ')
			continue;
		*w++ = *r == '\t' ? ' ' : *r;
	}
	*w = '\0';
	free(s);
	/* A title, not a whole subject of up to 64 KiB: it goes into every mail
	 * and document of the project. */
	size_t chars = 0;
	for (char *r = out; *r; r++) {
		if (((unsigned char)*r & 0xc0) == 0x80 || ++chars <= ROUTE_TITLE_MAX)
			continue;
		while (r > out && r[-1] == ' ')
			r--;
		*r = '\0';
		char *cut = xasprintf("%s…", out);
		free(out);
		return cut;
	}
	return out;
}

static int
idchar(int c)
{
	return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '"' && c != ',' &&
	       c != ';' && c != '(' && c != ')';
}

size_t
route_find_our_ids(const char *text, const char *domain, char ***ids, size_t *n)
{
	size_t added = 0, dl = strlen(domain);
	if (!text || !dl)
		return 0;
	for (const char *p = text; (p = strchr(p, '@')) != NULL; p++) {
		if (!str_istarts(p + 1, domain) || idchar((unsigned char)p[1 + dl]))
			continue;
		const char *b = p;
		while (b > text && idchar((unsigned char)b[-1]))
			b--;
		if (!str_istarts(b, "ink-"))
			continue;
		char *id = xstrndup(b, (size_t)(p + 1 + dl - b));
		int dup = 0;
		for (size_t i = 0; i < *n; i++)
			if (strcmp((*ids)[i], id) == 0)
				dup = 1;
		if (dup || *n >= 64) {
			free(id);
			continue;
		}
		*ids = xrealloc(*ids, (*n + 1) * sizeof(char *));
		(*ids)[(*n)++] = id;
		added++;
	}
	return added;
}

int
route_subject_forward(const char *subject)
{
	/* Forward prefixes: Fwd/FW (English), WG (German), PD (Polish
	 * Outlook), TR (French), ENC (Portuguese), RV (Spanish), VS
	 * (Danish/Norwegian), Doorst (Dutch). */
	static const char *fwd[] = {"fwd", "fw", "wg", "pd", "tr", "enc", "rv", "vs", "doorst"};
	const char *s = subject ? subject : "";
	for (int k = 0; k < 8; k++) {
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = prefix_len(s);
		if (!n)
			return 0;
		for (size_t i = 0; i < ARRAY_LEN(fwd); i++) {
			size_t w = strlen(fwd[i]);
			if (str_istarts(s, fwd[i]) && !((s[w] | 0x20) >= 'a' && (s[w] | 0x20) <= 'z'))
				return 1;
		}
		s += n;
	}
	return 0;
}
