/*
 * rtf: the text of rich-text bodies (see rtf.h).
 *
 * What the reader follows, from Microsoft's RTF 1.9.1 and MS-OXRTFEX:
 *   - text is any byte but { } \ and CR/LF; 8-bit bytes and \'hh are in
 *     the code page of the font in use (\fN with its \fcharsetN or \cpgN
 *     in the font table), else the document's (\ansicpgN, \ansi, \mac);
 *   - \uN is a UTF-16 unit (negative above 32767), followed by \ucN (1)
 *     characters of fallback for older readers, which are skipped;
 *   - a group opening with \* and an unknown word, and the font, colour
 *     and style tables, document info, pictures, headers and footers,
 *     field instructions and the like hold no text of the message;
 *   - \fromhtml1: the message was HTML.  Its text is what stands outside
 *     \htmlrtf ... \htmlrtf0, plus the tags in {\*\htmltag ...}; the RTF
 *     rendering of it inside \htmlrtf is left out.  \fromtext: the same
 *     for plain text, without tags.
 */
#include "rtf.h"

#include "mime.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 32  /* letters of a control word; longer ones are text */
#define FONTS_MAX 256

enum wrap { WRAP_NONE, WRAP_HTML, WRAP_TEXT };

struct gstate {
	unsigned char skip;    /* a destination without message text */
	unsigned char fonttbl; /* inside the font table */
	unsigned char htmlrtf; /* RTF-only rendering of a wrapped message */
	unsigned char htmltag; /* a tag of the wrapped HTML */
	int uc;                /* fallback characters after \uN */
	int cp;                /* code page of 8-bit text */
};

struct font {
	int id, cp;
};

struct rtf {
	const unsigned char *p, *end;
	struct sbuf out;
	struct sbuf pend;   /* 8-bit text waiting for conversion, in pend_cp */
	int pend_cp;
	unsigned hi;        /* a high surrogate waiting for its low half */
	int doc_cp;
	enum wrap wrap;
	int star;           /* the word that follows \* */
	int skip_chars;     /* fallback characters still to skip */
	struct font fonts[FONTS_MAX];
	size_t nfonts;
	int font_def;       /* index of the font being defined, -1 none */
	struct gstate g[RTF_DEPTH_MAX + 1];
	int depth;
};

/* Windows code page of an RTF \fcharset. */
static int
charset_cp(long cs, int doc_cp)
{
	static const struct { int cs, cp; } map[] = {
		{0, 1252}, {2, 1252}, {77, 10000}, {128, 932}, {129, 949}, {130, 1361},
		{134, 936}, {136, 950}, {161, 1253}, {162, 1254}, {163, 1258}, {177, 1255},
		{178, 1256}, {186, 1257}, {204, 1251}, {222, 874}, {238, 1250}, {254, 437},
		{255, 850},
	};
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (map[i].cs == cs)
			return map[i].cp;
	return doc_cp; /* 1: the default charset, and any unknown one */
}

static struct gstate *
st(struct rtf *r)
{
	return &r->g[r->depth];
}

static int
emitting(struct rtf *r)
{
	const struct gstate *s = st(r);
	if (s->skip)
		return 0;
	if (r->wrap == WRAP_NONE)
		return 1;
	return s->htmltag || !s->htmlrtf;
}

static void
flush(struct rtf *r)
{
	if (!r->pend.len)
		return;
	char label[24];
	const char *cs;
	if (r->pend_cp == 65001)
		cs = "utf-8";
	else if (r->pend_cp == 10000)
		cs = "macintosh";
	else if (r->pend_cp == 20127)
		cs = "us-ascii";
	else {
		snprintf(label, sizeof(label), "cp%d", r->pend_cp > 0 ? r->pend_cp : 1252);
		cs = label;
	}
	char *u = mime_to_utf8(cs, r->pend.s, r->pend.len);
	sb_adds(&r->out, u);
	free(u);
	r->pend.len = 0;
}

static void
put_utf8(struct sbuf *sb, unsigned c)
{
	if (c == 0 || (c >= 0xd800 && c < 0xe000) || c > 0x10ffff)
		c = 0xfffd;
	if (c < 0x80) {
		sb_addc(sb, (char)c);
	} else if (c < 0x800) {
		sb_addc(sb, (char)(0xc0 | (c >> 6)));
		sb_addc(sb, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		sb_addc(sb, (char)(0xe0 | (c >> 12)));
		sb_addc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (c & 0x3f)));
	} else {
		sb_addc(sb, (char)(0xf0 | (c >> 18)));
		sb_addc(sb, (char)(0x80 | ((c >> 12) & 0x3f)));
		sb_addc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (c & 0x3f)));
	}
}

/* A byte of text in the group's code page. */
static void
emit_byte(struct rtf *r, unsigned char b)
{
	if (!emitting(r))
		return;
	if (r->hi) {
		put_utf8(&r->out, 0xfffd);
		r->hi = 0;
	}
	if (b < 0x80 && r->pend.len == 0) {
		sb_addc(&r->out, (char)b);
		return;
	}
	if (r->pend.len && r->pend_cp != st(r)->cp)
		flush(r);
	r->pend_cp = st(r)->cp;
	sb_addc(&r->pend, (char)b);
}

static void
emit_unit(struct rtf *r, unsigned u)
{
	if (!emitting(r))
		return;
	flush(r);
	if (u >= 0xd800 && u < 0xdc00) {
		if (r->hi)
			put_utf8(&r->out, 0xfffd);
		r->hi = u;
		return;
	}
	if (u >= 0xdc00 && u < 0xe000 && r->hi) {
		put_utf8(&r->out, 0x10000 + ((r->hi - 0xd800) << 10) + (u - 0xdc00));
		r->hi = 0;
		return;
	}
	if (r->hi)
		put_utf8(&r->out, 0xfffd);
	r->hi = 0;
	put_utf8(&r->out, u);
}

static void
emit_str(struct rtf *r, const char *s)
{
	if (!emitting(r))
		return;
	flush(r);
	if (r->hi)
		put_utf8(&r->out, 0xfffd);
	r->hi = 0;
	sb_adds(&r->out, s);
}

static int
font_cp(const struct rtf *r, long id)
{
	for (size_t i = 0; i < r->nfonts; i++)
		if (r->fonts[i].id == id)
			return r->fonts[i].cp;
	return r->doc_cp;
}

/* Destinations that hold no text of the message, also without \*. */
static int
no_text_destination(const char *w)
{
	static const char *const words[] = {
		"colortbl", "stylesheet", "info", "pict", "header", "headerl", "headerr",
		"headerf", "footer", "footerl", "footerr", "footerf", "footnote", "fldinst",
		"filetbl", "revtbl", "listtable", "listoverridetable", "rsidtbl", "xmlnstbl",
		"generator", "themedata", "colorschememapping", "datastore", "latentstyles",
		"objdata", "objclass", "nonshppict", "pntext", "pntxta", "pntxtb", "template",
		"xe", "tc", "txe", "rxe", "bkmkstart", "bkmkend", "mhtmltag", "private",
		"listtext", "ftnsep", "ftnsepc", "ftncn", "aftnsep", "aftnsepc",
	};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(w, words[i]) == 0)
			return 1;
	return 0;
}

static void
control_word(struct rtf *r, const char *w, int has, long n)
{
	struct gstate *s = st(r);
	int star = r->star;
	r->star = 0;
	if (r->skip_chars > 0 && !(has && strcmp(w, "u") == 0)) {
		r->skip_chars--; /* a word stands as one fallback character */
		return;
	}
	if (strcmp(w, "htmltag") == 0) {
		if (r->wrap == WRAP_HTML)
			s->htmltag = 1;
		else
			s->skip = 1;
		return;
	}
	if (star || no_text_destination(w)) {
		s->skip = 1;
		return;
	}
	if (strcmp(w, "fonttbl") == 0) {
		s->skip = s->fonttbl = 1;
		return;
	}
	if (s->fonttbl) {
		if (strcmp(w, "f") == 0 && has) {
			r->font_def = -1;
			if (r->nfonts < FONTS_MAX) {
				r->fonts[r->nfonts] = (struct font){(int)n, r->doc_cp};
				r->font_def = (int)r->nfonts++;
			}
		} else if (strcmp(w, "fcharset") == 0 && has && r->font_def >= 0)
			r->fonts[r->font_def].cp = charset_cp(n, r->doc_cp);
		else if (strcmp(w, "cpg") == 0 && has && n > 0 && n < 65536 && r->font_def >= 0)
			r->fonts[r->font_def].cp = (int)n;
		return;
	}
	static const struct { const char *w, *s; } sym[] = {
		{"par", "\n"}, {"line", "\n"}, {"sect", "\n"}, {"page", "\n"}, {"row", "\n"},
		{"tab", "\t"}, {"cell", "\t"}, {"emdash", "\xe2\x80\x94"},
		{"endash", "\xe2\x80\x93"}, {"bullet", "\xe2\x80\xa2"},
		{"lquote", "\xe2\x80\x98"}, {"rquote", "\xe2\x80\x99"},
		{"ldblquote", "\xe2\x80\x9c"}, {"rdblquote", "\xe2\x80\x9d"}, {"emspace", " "},
		{"enspace", " "}, {"qmspace", " "},
	};
	for (size_t i = 0; i < ARRAY_LEN(sym); i++)
		if (strcmp(w, sym[i].w) == 0) {
			emit_str(r, sym[i].s);
			return;
		}
	if (strcmp(w, "u") == 0 && has) {
		emit_unit(r, (unsigned)(n < 0 ? n + 65536 : n) & 0xffff);
		r->skip_chars = s->uc;
	} else if (strcmp(w, "uc") == 0 && has && n >= 0 && n <= 16) {
		s->uc = (int)n;
	} else if (strcmp(w, "f") == 0 && has) {
		s->cp = font_cp(r, n);
	} else if (strcmp(w, "ansicpg") == 0 && has && n > 0 && n < 65536) {
		r->doc_cp = s->cp = (int)n;
	} else if (strcmp(w, "ansi") == 0) {
		r->doc_cp = s->cp = 1252;
	} else if (strcmp(w, "mac") == 0) {
		r->doc_cp = s->cp = 10000;
	} else if (strcmp(w, "pc") == 0) {
		r->doc_cp = s->cp = 437;
	} else if (strcmp(w, "pca") == 0) {
		r->doc_cp = s->cp = 850;
	} else if (strcmp(w, "fromhtml") == 0) {
		r->wrap = WRAP_HTML;
	} else if (strcmp(w, "fromtext") == 0) {
		r->wrap = WRAP_TEXT;
	} else if (strcmp(w, "htmlrtf") == 0) {
		s->htmlrtf = !has || n != 0;
	} else if (strcmp(w, "bin") == 0 && has && n > 0) {
		size_t left = (size_t)(r->end - r->p);
		r->p += (size_t)n < left ? (size_t)n : left;
	}
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* After a backslash. */
static void
control(struct rtf *r)
{
	if (r->p >= r->end)
		return;
	unsigned char c = *r->p;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		char w[WORD_MAX + 1];
		size_t k = 0;
		while (r->p < r->end && ((*r->p >= 'a' && *r->p <= 'z') ||
		    (*r->p >= 'A' && *r->p <= 'Z'))) {
			if (k < WORD_MAX)
				w[k++] = (char)*r->p;
			r->p++;
		}
		w[k] = '\0';
		int has = 0, neg = 0;
		long n = 0;
		if (r->p < r->end && *r->p == '-' && r->p + 1 < r->end &&
		    r->p[1] >= '0' && r->p[1] <= '9') {
			neg = 1;
			r->p++;
		}
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
			if (n < 100000000)
				n = n * 10 + (*r->p - '0');
			has = 1;
			r->p++;
		}
		if (neg)
			n = -n;
		if (r->p < r->end && *r->p == ' ')
			r->p++; /* the delimiter is part of the word */
		control_word(r, w, has, n);
		return;
	}
	r->p++;
	if (c == '*') {
		r->star = 1;
		return;
	}
	if (c == '\'') {
		int h = r->p + 1 < r->end ? hexval(r->p[0]) : -1;
		int l = h >= 0 ? hexval(r->p[1]) : -1;
		if (l < 0)
			return;
		r->p += 2;
		if (r->skip_chars > 0) {
			r->skip_chars--;
			return;
		}
		emit_byte(r, (unsigned char)(h * 16 + l));
		return;
	}
	if (r->skip_chars > 0) {
		r->skip_chars--;
		return;
	}
	switch (c) {
	case '\\': case '{': case '}':
		emit_byte(r, c);
		break;
	case '~':
		emit_str(r, " ");
		break;
	case '_':
		emit_str(r, "-");
		break;
	case '\r': case '\n':
		emit_str(r, "\n");
		break;
	default: /* \- optional hyphen, \: index entry, \| formula: nothing */
		break;
	}
}

/* Trailing blanks of lines and blank lines at both ends dropped. */
static char *
tidy(char *s)
{
	size_t o = 0, line = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\n') {
			while (o > line && (s[o - 1] == ' ' || s[o - 1] == '\t'))
				o--;
			if (o == 0)
				continue; /* blank lines at the start */
			s[o++] = '\n';
			line = o;
		} else if (s[i] != '\r') {
			s[o++] = s[i];
		}
	}
	while (o > 0 && (s[o - 1] == '\n' || s[o - 1] == ' ' || s[o - 1] == '\t'))
		o--;
	s[o] = '\0';
	return s;
}

char *
rtf_to_text(const char *data, size_t len, int *html)
{
	if (html)
		*html = 0;
	if (!data || len < 5 || memcmp(data, "{\\rtf", 5) != 0)
		return NULL;
	struct rtf *r = xcalloc(1, sizeof(*r));
	r->p = (const unsigned char *)data;
	r->end = r->p + len;
	r->doc_cp = 1252;
	r->font_def = -1;
	r->g[0] = (struct gstate){.uc = 1, .cp = 1252};
	int opened = 0;
	while (r->p < r->end) {
		unsigned char c = *r->p++;
		if (c == '{') {
			if (r->depth == RTF_DEPTH_MAX)
				break;
			if (opened++) {
				r->g[r->depth + 1] = r->g[r->depth];
				r->depth++;
			}
			r->skip_chars = 0;
		} else if (c == '}') {
			r->star = 0;
			r->skip_chars = 0;
			if (r->depth == 0)
				break; /* the document's own group is closed */
			r->depth--;
		} else if (c == '\\') {
			control(r);
		} else if (c == '\r' || c == '\n') {
			continue;
		} else if (r->skip_chars > 0) {
			r->skip_chars--;
		} else {
			r->star = 0;
			emit_byte(r, c);
		}
	}
	flush(r);
	if (r->hi)
		put_utf8(&r->out, 0xfffd);
	if (html)
		*html = r->wrap == WRAP_HTML;
	char *out = tidy(r->out.s ? sb_steal(&r->out) : xstrdup(""));
	sb_free(&r->pend);
	free(r);
	return out;
}

char *
rtf_plain_text(const char *data, size_t len, int *html)
{
	int wrapped = 0;
	char *t = rtf_to_text(data, len, &wrapped);
	if (t && wrapped) {
		char *h = t;
		t = mime_html_to_text(h, strlen(h));
		free(h);
	}
	if (html)
		*html = wrapped;
	return t;
}

/* ------------------------------------------------------------------ */
/* compressed RTF (MS-OXRTFCP) */

/* What the dictionary holds before the first byte (MS-OXRTFCP 3.1.3.1). */
static const char PREBUF[] =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss "
    "\\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier"
    "{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

#define DICT 4096

static uint32_t
rd_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
rtf_decompress(const unsigned char *in, size_t len, size_t max, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (!in || len < 16)
		return -1;
	uint32_t comp = rd_le32(in), raw = rd_le32(in + 4), type = rd_le32(in + 8);
	/* COMPSIZE counts what follows it; some writers pad the property. */
	if (comp < 12 || comp > len - 4 || raw > max)
		return -1;
	const unsigned char *p = in + 16, *end = in + 4 + comp;
	if (type == 0x414c454du) { /* "MELA": stored */
		if (raw > (size_t)(end - p))
			return -1;
		*out = xstrndup((const char *)p, raw);
		*outlen = raw;
		return 0;
	}
	if (type != 0x75465a4cu) /* "LZFu" */
		return -1;
	unsigned char dict[DICT];
	size_t pre = sizeof(PREBUF) - 1;
	memcpy(dict, PREBUF, pre);
	memset(dict + pre, 0, DICT - pre);
	size_t w = pre;
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	int done = 0;
	while (p < end && !done && sb.len < raw) {
		unsigned ctl = *p++;
		for (int bit = 0; bit < 8 && p < end && sb.len < raw; bit++, ctl >>= 1) {
			if (!(ctl & 1)) {
				dict[w] = *p;
				w = (w + 1) % DICT;
				sb_addc(&sb, (char)*p++);
				continue;
			}
			if (end - p < 2) {
				done = 1;
				break;
			}
			unsigned ref = (unsigned)p[0] << 8 | p[1];
			p += 2;
			size_t off = ref >> 4, n = (ref & 0xf) + 2;
			if (off == w) { /* the end marker */
				done = 1;
				break;
			}
			for (size_t k = 0; k < n && sb.len < raw; k++) {
				unsigned char b = dict[(off + k) % DICT];
				dict[w] = b;
				w = (w + 1) % DICT;
				sb_addc(&sb, (char)b);
			}
		}
	}
	*outlen = sb.len;
	*out = sb_steal(&sb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* text/enriched and text/richtext */

#define TAG_MAX 60 /* RFC 1896: a command is at most 60 characters */

char *
enriched_to_text(const char *s, size_t len, int richtext)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	int param = 0, nofill = 0;
	for (size_t i = 0; i < len;) {
		char c = s[i];
		if (c == '<' && !richtext && i + 1 < len && s[i + 1] == '<') {
			if (!param)
				sb_addc(&sb, '<');
			i += 2;
			continue;
		}
		if (c == '<') {
			size_t j = i + 1;
			while (j < len && s[j] != '>' && s[j] != '<' && j - i <= TAG_MAX + 1)
				j++;
			if (j >= len || s[j] != '>') { /* not a command: text */
				if (!param)
					sb_addc(&sb, '<');
				i++;
				continue;
			}
			char name[TAG_MAX + 2];
			size_t k = 0;
			for (size_t q = i + 1; q < j && k < sizeof(name) - 1; q++)
				name[k++] = (char)((s[q] >= 'A' && s[q] <= 'Z') ? s[q] + 32 : s[q]);
			name[k] = '\0';
			int end = name[0] == '/';
			const char *n = name + end;
			if (strcmp(n, "param") == 0)
				param = !end;
			else if (strcmp(n, "nofill") == 0)
				nofill = end ? (nofill > 0 ? nofill - 1 : 0) : nofill + 1;
			else if (richtext && !end && (strcmp(n, "nl") == 0 || strcmp(n, "np") == 0))
				sb_addc(&sb, '\n');
			else if (richtext && !end && strcmp(n, "lt") == 0)
				sb_addc(&sb, '<');
			i = j + 1;
			continue;
		}
		if (c == '\r' || c == '\n') {
			size_t breaks = 0;
			for (; i < len && (s[i] == '\r' || s[i] == '\n'); i++)
				if (s[i] == '\n' || (i + 1 < len && s[i + 1] != '\n') || i + 1 == len)
					breaks++; /* CRLF, LF or a lone CR: one break */
			if (param)
				continue;
			if (nofill) {
				while (breaks--)
					sb_addc(&sb, '\n');
			} else if (richtext || breaks == 1) {
				sb_addc(&sb, ' ');
			} else {
				while (--breaks)
					sb_addc(&sb, '\n');
			}
			continue;
		}
		if (!param)
			sb_addc(&sb, c);
		i++;
	}
	while (sb.len && (sb.s[sb.len - 1] == ' ' || sb.s[sb.len - 1] == '\n'))
		sb.s[--sb.len] = '\0'; /* the break after the last line */
	return sb_steal(&sb);
}
