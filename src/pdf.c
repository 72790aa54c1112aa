/*
 * pdf: documents from XML layout templates, rendered with libharu.
 *
 * DESIGN
 * Three stages.  (1) A template file is parsed with libxml2 (network off,
 * no entity substitution, DOCTYPE refused, size capped) into a small tree of
 * our own nodes; every element, attribute and {{placeholder}} is checked
 * against allow-lists there, so a mistake is a "file:line: message" at load
 * time and rendering never meets an unknown name.  (2) Layout walks the tree
 * top to bottom with a cursor and appends drawing operations (text, lines,
 * rectangles, the logo) to a display list.  Text is measured with the
 * font's own advance widths, parsed here and rounded exactly as libharu
 * writes them into the PDF, so right-aligned amounts end where they should.
 * A block that does not fit below the cursor is discarded and laid out
 * again on a new page; a table does that row by row and repeats its header
 * row.  Footers are laid out last, once the page count is known.  (3) The
 * display list is played into a libharu document.
 *
 * Fonts.  libharu 2.3.0 cannot share a font between documents, and for each
 * document it parses the whole TrueType file, looks up all 65536 BMP code
 * points and writes widths for every glyph: with DejaVu Sans (6000 glyphs)
 * about 20 ms and 90 KB per font per document.  So once per process each
 * font file is cut down here to the glyphs of Latin-1, Latin Extended-A and
 * the punctuation and signs business documents use (about 400 glyphs), and
 * the subset is handed to libharu through a memfd (/proc/self/fd/N), since
 * 2.3.0 loads fonts only from a path.  A document holding a character the
 * subset lacks (Cyrillic, Greek, ...) is rendered with the full font files:
 * slower, never wrong.
 *
 * Charts (pdf_report_charts, at the end of this file) skip stage 1: the
 * report is laid out in code into the same display list, with two more
 * operations (polylines and dots), and played by the same emit().
 *
 * Only this file includes hpdf.h.
 */
#include "pdf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "calc.h"
#include "config.h"
#include "lazyharu.h"
#include "lazyxml.h"
#include "log.h"
#include "util.h"

/* The font files, in one place.  faces[FONT_REGULAR] and faces[FONT_BOLD]. */
#define PDF_FONT_REGULAR "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define PDF_FONT_BOLD    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

#define PDF_MAX_FONT_FILE (32 * 1024 * 1024)
#define PDF_MAX_LOGO      (8 * 1024 * 1024)
#define PDF_MAX_NODES     2000      /* elements in one template */

/* ---- fonts: metrics, and a subset made once per process ----------------- */

#define FACE_NONE 0xFFFFu       /* adv[] entry: the font has no glyph */
#define TTF_MAX_TABLES 64

struct face {
	const char *path;       /* the full font file */
	int loaded;             /* face_load ran (ok or not) */
	char err[200];          /* why it is unusable; "" when usable */
	uint16_t *adv;          /* 65536 advance widths in 1/1000 em, FACE_NONE for none */
	uint16_t missing;       /* width of glyph 0 */
	uint8_t sub[65536 / 8]; /* code points the subset has */
	int fd;                 /* memfd holding the subset, -1 without one */
	char sub_path[40];      /* "/proc/self/fd/N", "" without a subset */
	size_t full_size, sub_size;
};

struct ttf {
	const uint8_t *d;
	size_t n;
	struct { char tag[5]; uint32_t off, len; } t[TTF_MAX_TABLES];
	unsigned nt;
	unsigned upem, nglyphs, nhm, loca_long;
	uint32_t glyf, glyf_len, loca, loca_len, hmtx, hmtx_len;
};

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put16(struct sbuf *b, unsigned v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	sb_add(b, x, 2);
}

static void
put32(struct sbuf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	sb_add(b, x, 4);
}

static void
set16(struct sbuf *b, size_t at, unsigned v)
{
	b->s[at] = (char)(v >> 8);
	b->s[at + 1] = (char)v;
}

static void
set32(struct sbuf *b, size_t at, uint32_t v)
{
	b->s[at] = (char)(v >> 24);
	b->s[at + 1] = (char)(v >> 16);
	b->s[at + 2] = (char)(v >> 8);
	b->s[at + 3] = (char)v;
}

/* Table tag's record, NULL when the font has none. */
static const uint8_t *
ttf_table(const struct ttf *f, const char *tag, uint32_t *len)
{
	for (unsigned i = 0; i < f->nt; i++)
		if (memcmp(f->t[i].tag, tag, 4) == 0) {
			*len = f->t[i].len;
			return f->d + f->t[i].off;
		}
	*len = 0;
	return NULL;
}

/* Table directory and the numbers everything else needs; every offset
 * checked against the file size.  0 / -1 with why. */
static int
ttf_open(struct ttf *f, const uint8_t *d, size_t n, const char **why)
{
	memset(f, 0, sizeof(*f));
	f->d = d;
	f->n = n;
	*why = "not a TrueType font";
	if (n < 12 || (be32(d) != 0x00010000 && be32(d) != 0x74727565))
		return -1;
	unsigned nt = be16(d + 4);
	if (nt > TTF_MAX_TABLES || 12 + (size_t)nt * 16 > n)
		return -1;
	for (unsigned i = 0; i < nt; i++) {
		const uint8_t *r = d + 12 + 16 * i;
		uint32_t off = be32(r + 8), len = be32(r + 12);
		if (off > n || len > n - off)
			return -1;
		memcpy(f->t[i].tag, r, 4);
		f->t[i].off = off;
		f->t[i].len = len;
	}
	f->nt = nt;
	uint32_t len;
	const uint8_t *head = ttf_table(f, "head", &len);
	if (!head || len < 54)
		return -1;
	f->upem = be16(head + 18);
	f->loca_long = be16(head + 50) == 1;
	const uint8_t *maxp = ttf_table(f, "maxp", &len);
	if (!maxp || len < 6)
		return -1;
	f->nglyphs = be16(maxp + 4);
	const uint8_t *hhea = ttf_table(f, "hhea", &len);
	if (!hhea || len < 36)
		return -1;
	f->nhm = be16(hhea + 34);
	const uint8_t *p;
	if (!(p = ttf_table(f, "hmtx", &f->hmtx_len)))
		return -1;
	f->hmtx = (uint32_t)(p - d);
	if (!(p = ttf_table(f, "loca", &f->loca_len)))
		return -1;
	f->loca = (uint32_t)(p - d);
	if (!(p = ttf_table(f, "glyf", &f->glyf_len)))
		return -1;
	f->glyf = (uint32_t)(p - d);
	if (f->upem < 16 || f->upem > 16384 || f->nglyphs == 0 || f->nhm == 0 ||
	    f->nhm > f->nglyphs || f->hmtx_len < 4u * f->nhm + 2u * (f->nglyphs - f->nhm) ||
	    f->loca_len < (f->loca_long ? 4u : 2u) * (f->nglyphs + 1u))
		return -1;
	return 0;
}

static unsigned
ttf_advance(const struct ttf *f, unsigned gid, unsigned *lsb)
{
	const uint8_t *h = f->d + f->hmtx;
	unsigned last = f->nhm - 1;
	if (gid < f->nhm) {
		*lsb = be16(h + 4 * gid + 2);
		return be16(h + 4 * gid);
	}
	*lsb = be16(h + 4 * f->nhm + 2 * (gid - f->nhm));
	return be16(h + 4 * last);
}

/* The glyph's bytes in glyf, or -1 when loca points outside it. */
static int
ttf_glyph(const struct ttf *f, unsigned gid, uint32_t *off, uint32_t *len)
{
	const uint8_t *l = f->d + f->loca;
	uint32_t a, b;
	if (f->loca_long) {
		a = be32(l + 4 * gid);
		b = be32(l + 4 * gid + 4);
	} else {
		a = 2u * be16(l + 2 * gid);
		b = 2u * be16(l + 2 * gid + 2);
	}
	if (a > b || b > f->glyf_len)
		return -1;
	*off = f->glyf + a;
	*len = b - a;
	return 0;
}

/* Unicode BMP to glyph from the (3,1) or (0,3) format-4 cmap.  gid[] gets
 * 65536 entries (0: none).  0 / -1. */
static int
ttf_cmap(const struct ttf *f, uint16_t *gid)
{
	uint32_t len;
	const uint8_t *c = ttf_table(f, "cmap", &len);
	memset(gid, 0, 65536 * sizeof(*gid));
	if (!c || len < 4)
		return -1;
	unsigned n = be16(c + 2);
	const uint8_t *sub = NULL;
	uint32_t sublen = 0;
	for (unsigned i = 0; i < n && 4 + 8 * (size_t)i + 8 <= len; i++) {
		const uint8_t *r = c + 4 + 8 * i;
		unsigned pid = be16(r), eid = be16(r + 2);
		uint32_t off = be32(r + 4);
		if (off > len - 4 || be16(c + off) != 4)
			continue;
		if ((pid == 3 && eid == 1) || (pid == 0 && !sub)) {
			sub = c + off;
			sublen = len - off;
		}
	}
	if (!sub || sublen < 14)
		return -1;
	unsigned l4 = be16(sub + 2);
	if (l4 < sublen)
		sublen = l4;
	unsigned segx2 = be16(sub + 6), seg = segx2 / 2;
	if (16 + 4 * (size_t)segx2 > sublen)
		return -1;
	const uint8_t *end = sub + 14, *start = end + segx2 + 2, *delta = start + segx2,
	    *ro = delta + segx2;
	for (unsigned i = 0; i < seg; i++) {
		unsigned s = be16(start + 2 * i), e = be16(end + 2 * i);
		unsigned dl = be16(delta + 2 * i), r = be16(ro + 2 * i);
		for (unsigned cp = s; cp <= e && cp < 0xFFFF; cp++) {
			unsigned g;
			if (r == 0) {
				g = (cp + dl) & 0xFFFF;
			} else {
				size_t at = (size_t)(ro + 2 * i - sub) + r + 2 * (size_t)(cp - s);
				if (at + 2 > sublen)
					continue;
				g = be16(sub + at);
				if (g)
					g = (g + dl) & 0xFFFF;
			}
			gid[cp] = (uint16_t)(g < f->nglyphs ? g : 0);
		}
	}
	return 0;
}

/* What the subset keeps: Latin-1, Latin Extended-A and the punctuation and
 * signs business documents use.  Anything else makes a document use the
 * full font files. */
static const struct { unsigned lo, hi; } subset_ranges[] = {
	{0x20, 0x7E}, {0xA0, 0x17F}, {0x218, 0x21B}, {0x2C6, 0x2C7}, {0x2D8, 0x2DD},
	{0x2010, 0x2027}, {0x2030, 0x2030}, {0x2032, 0x2033}, {0x2039, 0x203A},
	{0x20AC, 0x20AC}, {0x2116, 0x2116}, {0x2122, 0x2122}, {0x2190, 0x2193},
	{0x2212, 0x2212}, {0x2248, 0x2248}, {0x2260, 0x2260}, {0x2264, 0x2265},
	{0x25A0, 0x25A1}, {0x2610, 0x2612}, {0x2713, 0x2714}, {0xFFFD, 0xFFFD},
};

static uint32_t
ttf_checksum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i += 4) {
		uint8_t w[4] = {0, 0, 0, 0};
		memcpy(w, p + i, n - i < 4 ? n - i : 4);
		s += be32(w);
	}
	return s;
}

/* Glyph old's composite components, each passed to fn; -1 when the glyph
 * data is broken. */
static int
ttf_components(const struct ttf *f, unsigned old, void (*fn)(void *, uint8_t *), void *ctx,
    uint8_t *copy)
{
	uint32_t off, len;
	if (ttf_glyph(f, old, &off, &len) < 0)
		return -1;
	if (len < 10 || (int16_t)be16(f->d + off) >= 0)
		return 0;
	const uint8_t *g = copy ? copy : f->d + off;
	size_t p = 10;
	unsigned flags;
	do {
		if (p + 4 > len)
			return -1;
		flags = be16(g + p);
		fn(ctx, (uint8_t *)(uintptr_t)(g + p + 2));
		p += 4 + ((flags & 0x0001) ? 4 : 2);
		if (flags & 0x0008)
			p += 2;
		else if (flags & 0x0040)
			p += 4;
		else if (flags & 0x0080)
			p += 8;
	} while (flags & 0x0020);
	return p <= len ? 0 : -1;
}

struct keep {
	const struct ttf *f;
	unsigned *map;   /* old glyph -> new + 1; 0: not kept */
	unsigned *old;   /* new -> old */
	unsigned n;
	int bad;
};

static unsigned
keep_glyph(struct keep *k, unsigned old)
{
	if (old >= k->f->nglyphs) {
		k->bad = 1;
		return 0;
	}
	if (!k->map[old]) {
		k->old[k->n] = old;
		k->map[old] = ++k->n;
	}
	return k->map[old] - 1;
}

static void
keep_component(void *ctx, uint8_t *at)
{
	keep_glyph(ctx, be16(at));
}

static void
renumber_component(void *ctx, uint8_t *at)
{
	struct keep *k = ctx;
	unsigned old = be16(at);
	unsigned nw = old < k->f->nglyphs && k->map[old] ? k->map[old] - 1 : 0;
	at[0] = (uint8_t)(nw >> 8);
	at[1] = (uint8_t)nw;
}

/* The table "name" with only records 0-6 (copyright to PostScript name):
 * libharu needs 1, 2 and 6; the long licence text stays out. */
static void
subset_name(const uint8_t *nm, uint32_t len, struct sbuf *o)
{
	unsigned cnt = len >= 6 ? be16(nm + 2) : 0, so = len >= 6 ? be16(nm + 4) : 0;
	unsigned keep = 0;
	for (unsigned i = 0; i < cnt && 6 + 12 * (size_t)i + 12 <= len; i++) {
		const uint8_t *r = nm + 6 + 12 * i;
		if (be16(r + 6) <= 6 && (size_t)so + be16(r + 10) + be16(r + 8) <= len)
			keep++;
	}
	put16(o, 0);
	put16(o, keep);
	put16(o, 6 + 12 * keep);
	size_t strings = 0;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < cnt && 6 + 12 * (size_t)i + 12 <= len; i++) {
			const uint8_t *r = nm + 6 + 12 * i;
			unsigned l = be16(r + 8), at = be16(r + 10);
			if (be16(r + 6) > 6 || (size_t)so + at + l > len)
				continue;
			if (pass == 0) {
				sb_add(o, r, 8);
				put16(o, l);
				put16(o, (unsigned)strings);
				strings += l;
			} else {
				sb_add(o, nm + so + at, l);
			}
		}
}

/* The subset font in out.  cover gets the code points it maps.  0 / -1. */
static int
ttf_subset(const struct ttf *f, const uint16_t *gid, uint8_t *cover, struct sbuf *out)
{
	struct keep k = {.f = f, .map = xcalloc(f->nglyphs, sizeof(unsigned)),
	    .old = xcalloc(f->nglyphs, sizeof(unsigned))};
	struct cm { unsigned cp, g; } *cm = xcalloc(65536, sizeof(*cm));
	size_t ncm = 0;
	struct sbuf tab[13] = {{0}};
	int rc = -1;

	keep_glyph(&k, 0);
	for (size_t r = 0; r < ARRAY_LEN(subset_ranges); r++)
		for (unsigned cp = subset_ranges[r].lo; cp <= subset_ranges[r].hi; cp++) {
			if (!gid[cp])
				continue;
			cm[ncm].cp = cp;
			cm[ncm++].g = keep_glyph(&k, gid[cp]);
			cover[cp >> 3] |= (uint8_t)(1u << (cp & 7));
		}
	for (unsigned i = 0; i < k.n && !k.bad; i++)
		if (ttf_components(f, k.old[i], keep_component, &k, NULL) < 0)
			k.bad = 1;
	if (k.bad)
		goto out;

	/* OS/2 cmap cvt fpgm glyf head hhea hmtx loca maxp name post prep:
	 * the tables libharu reads, in tag order. */
	static const char *const tags[13] = {"OS/2", "cmap", "cvt ", "fpgm", "glyf", "head",
	    "hhea", "hmtx", "loca", "maxp", "name", "post", "prep"};
	enum { T_OS2, T_CMAP, T_CVT, T_FPGM, T_GLYF, T_HEAD, T_HHEA, T_HMTX, T_LOCA, T_MAXP,
	    T_NAME, T_POST, T_PREP };
	uint32_t len;
	const uint8_t *src;
	for (int t = 0; t < 13; t++) {
		src = ttf_table(f, tags[t], &len);
		if (!src && t != T_CVT && t != T_FPGM && t != T_PREP)
			goto out;
		switch (t) {
		case T_OS2: case T_CVT: case T_FPGM: case T_PREP:
			if (src)
				sb_add(&tab[t], src, len);
			break;
		case T_HEAD: case T_HHEA: case T_MAXP:
			sb_add(&tab[t], src, len);
			break;
		case T_POST:
			if (len < 32)
				goto out;
			put32(&tab[t], 0x00030000);
			sb_add(&tab[t], src + 4, 12);
			for (int i = 0; i < 4; i++)
				put32(&tab[t], 0);
			break;
		case T_NAME:
			subset_name(src, len, &tab[t]);
			break;
		default:
			break;
		}
	}
	set32(&tab[T_HEAD], 8, 0);
	set16(&tab[T_HEAD], 50, 1);
	set16(&tab[T_HHEA], 34, k.n);
	set16(&tab[T_MAXP], 4, k.n);

	for (unsigned i = 0; i < k.n; i++) {
		uint32_t off, gl;
		unsigned lsb, adv = ttf_advance(f, k.old[i], &lsb);
		put16(&tab[T_HMTX], adv);
		put16(&tab[T_HMTX], lsb);
		put32(&tab[T_LOCA], (uint32_t)tab[T_GLYF].len);
		if (ttf_glyph(f, k.old[i], &off, &gl) < 0)
			goto out;
		size_t at = tab[T_GLYF].len;
		sb_add(&tab[T_GLYF], f->d + off, gl);
		if (ttf_components(f, k.old[i], renumber_component, &k,
		    (uint8_t *)tab[T_GLYF].s + at) < 0)
			goto out;
		while (tab[T_GLYF].len % 4)
			sb_addc(&tab[T_GLYF], 0);
	}
	put32(&tab[T_LOCA], (uint32_t)tab[T_GLYF].len);

	/* cmap: one (3,1) format 4 subtable.  libharu looks up every BMP code
	 * point once per document, scanning the segments in order, so there
	 * are few: code points closer than CMAP_GAP share a segment and map
	 * through the glyph array. */
	enum { CMAP_GAP = 0x300 };
	size_t (*seg)[2] = xcalloc(ncm + 2, sizeof(*seg)); /* first, last index in cm */
	size_t nseg = 0;
	for (size_t i = 0; i < ncm; i++) {
		if (nseg && cm[i].cp - cm[seg[nseg - 1][1]].cp < CMAP_GAP)
			seg[nseg - 1][1] = i;
		else
			seg[nseg][0] = seg[nseg][1] = i, nseg++;
	}
	size_t narr = 0;
	for (size_t i = 0; i < nseg; i++)
		narr += cm[seg[i][1]].cp - cm[seg[i][0]].cp + 1;
	size_t segs = nseg + 1; /* and the final 0xFFFF */
	struct sbuf *c = &tab[T_CMAP];
	put16(c, 0);
	put16(c, 1);
	put16(c, 3);
	put16(c, 1);
	put32(c, 12);
	unsigned es = 0;
	while ((2u << es) <= segs)
		es++;
	if (16 + 8 * segs + 2 * narr > 0xFFFF) {
		free(seg);
		goto out;
	}
	put16(c, 4);
	put16(c, (unsigned)(16 + 8 * segs + 2 * narr));
	put16(c, 0);
	put16(c, (unsigned)(2 * segs));
	put16(c, 2u << es);
	put16(c, es);
	put16(c, (unsigned)(2 * segs) - (2u << es));
	for (size_t i = 0; i < nseg; i++)
		put16(c, cm[seg[i][1]].cp);
	put16(c, 0xFFFF);
	put16(c, 0);
	for (size_t i = 0; i < nseg; i++)
		put16(c, cm[seg[i][0]].cp);
	put16(c, 0xFFFF);
	for (size_t i = 0; i < segs; i++)
		put16(c, i == nseg ? 1 : 0);
	size_t before = 0;
	for (size_t i = 0; i < nseg; i++) {
		put16(c, (unsigned)(2 * (segs - i) + 2 * before));
		before += cm[seg[i][1]].cp - cm[seg[i][0]].cp + 1;
	}
	put16(c, 0);
	for (size_t i = 0; i < nseg; i++) {
		size_t j = seg[i][0];
		for (unsigned cp = cm[seg[i][0]].cp; cp <= cm[seg[i][1]].cp; cp++)
			put16(c, j <= seg[i][1] && cm[j].cp == cp ? cm[j++].g : 0);
	}
	free(seg);

	/* The file: directory, then the tables 4-byte aligned. */
	unsigned nt = 0;
	for (int t = 0; t < 13; t++)
		nt += tab[t].len > 0;
	es = 0;
	while ((2u << es) <= nt)
		es++;
	put32(out, 0x00010000);
	put16(out, nt);
	put16(out, 16u << es);
	put16(out, es);
	put16(out, nt * 16 - (16u << es));
	size_t dir = out->len, head_at = 0;
	uint32_t at = 12 + 16 * nt;
	for (int t = 0; t < 13; t++) {
		if (!tab[t].len)
			continue;
		sb_add(out, tags[t], 4);
		put32(out, ttf_checksum((const uint8_t *)tab[t].s, tab[t].len));
		put32(out, at);
		put32(out, (uint32_t)tab[t].len);
		at += (uint32_t)(tab[t].len + 3) / 4 * 4;
	}
	(void)dir;
	for (int t = 0; t < 13; t++) {
		if (!tab[t].len)
			continue;
		if (t == T_HEAD)
			head_at = out->len;
		sb_add(out, tab[t].s, tab[t].len);
		while (out->len % 4)
			sb_addc(out, 0);
	}
	set32(out, head_at + 8, 0xB1B0AFBAu - ttf_checksum((const uint8_t *)out->s, out->len));
	rc = 0;
out:
	for (int t = 0; t < 13; t++)
		sb_free(&tab[t]);
	free(cm);
	free(k.map);
	free(k.old);
	return rc;
}

/* Reads the font file, its widths, and makes the subset.  Sets fc->err
 * when the font cannot be used at all; a font that only cannot be subset
 * is used whole. */
static void
face_load(struct face *fc)
{
	char *data = NULL;
	size_t n = 0;
	struct ttf f;
	const char *why;
	uint16_t *gid = NULL;

	fc->loaded = 1;
	fc->fd = -1;
	if (file_read(fc->path, PDF_MAX_FONT_FILE, &data, &n) < 0) {
		bfmt(fc->err, sizeof(fc->err), "font %s: %s", fc->path,
		    errno == EFBIG ? "too large" : strerror(errno));
		return;
	}
	fc->full_size = n;
	if (ttf_open(&f, (const uint8_t *)data, n, &why) < 0) {
		bfmt(fc->err, sizeof(fc->err), "font %s: %s", fc->path, why);
		goto out;
	}
	gid = xmalloc(65536 * sizeof(*gid));
	if (ttf_cmap(&f, gid) < 0) {
		bfmt(fc->err, sizeof(fc->err), "font %s: no Unicode character map", fc->path);
		goto out;
	}
	fc->adv = xmalloc(65536 * sizeof(*fc->adv));
	unsigned lsb;
	for (unsigned cp = 0; cp < 65536; cp++)
		fc->adv[cp] = gid[cp] ? (uint16_t)(ttf_advance(&f, gid[cp], &lsb) * 1000u / f.upem)
		    : FACE_NONE;
	fc->missing = (uint16_t)(ttf_advance(&f, 0, &lsb) * 1000u / f.upem);

	struct sbuf sub = {0};
	if (ttf_subset(&f, gid, fc->sub, &sub) == 0) {
		int fd = memfd_create("inkflow-font", MFD_CLOEXEC);
		if (fd >= 0 && write(fd, sub.s, sub.len) == (ssize_t)sub.len &&
		    bfmt(fc->sub_path, sizeof(fc->sub_path), "/proc/self/fd/%d", fd) == 0 &&
		    access(fc->sub_path, R_OK) == 0) {
			fc->fd = fd;
			fc->sub_size = sub.len;
		} else {
			log_warn("pdf_font_subset status=unused path=%s why=%s", log_q(fc->path),
			    log_q(strerror(errno)));
			fc->sub_path[0] = '\0';
			memset(fc->sub, 0, sizeof(fc->sub));
			if (fd >= 0)
				close(fd);
		}
	} else {
		memset(fc->sub, 0, sizeof(fc->sub));
	}
	sb_free(&sub);
out:
	free(gid);
	free(data);
}

/* ---- placeholders ------------------------------------------------------- */

enum ph {
	PH_NUMBER, PH_ISSUED, PH_NET, PH_VAT, PH_GROSS, PH_AMOUNT_WORDS, PH_CURRENCY,
	PH_COMPANY_NAME, PH_COMPANY_ADDRESS, PH_COMPANY_CITY, PH_COMPANY_COUNTRY,
	PH_COMPANY_TAX_ID, PH_COMPANY_BANK_ACCOUNT, PH_COMPANY_PHONE, PH_COMPANY_EMAIL,
	PH_COMPANY_WWW, PH_REVERSE_CHARGE, PH_HAS_LOGO, PH_PAGE, PH_PAGES,
	PH__BUILTIN
};

static const char *const builtin_names[PH__BUILTIN] = {
	"number", "issued", "net", "vat", "gross", "amount_words", "currency",
	"company_name", "company_address", "company_city", "company_country",
	"company_tax_id", "company_bank_account", "company_phone", "company_email",
	"company_www", "reverse_charge", "has_logo", "page", "pages",
};

/* The names struct pdf_doc's vars may carry (listed in pdf.h). */
static const char *const var_names[] = {
	"client_name", "client_address", "client_tax_id", "client_email", "client_phone",
	"client_contact", "project", "project_title", "owner_name", "owner_email",
	"owner_phone", "valid_until", "payment_terms", "delivery_terms", "delivery_date",
	"due_date", "offer_number", "order_number", "invoice_number", "case_number",
	"complaint_date", "decision", "artwork", "notes", "approved_by",
};

#define PH__COUNT (PH__BUILTIN + (int)ARRAY_LEN(var_names))

static int
ph_lookup(const char *name, size_t len)
{
	for (int i = 0; i < PH__BUILTIN; i++)
		if (strlen(builtin_names[i]) == len && memcmp(builtin_names[i], name, len) == 0)
			return i;
	for (size_t i = 0; i < ARRAY_LEN(var_names); i++)
		if (strlen(var_names[i]) == len && memcmp(var_names[i], name, len) == 0)
			return PH__BUILTIN + (int)i;
	return -1;
}

static const char *
ph_name(int ph)
{
	return ph < PH__BUILTIN ? builtin_names[ph] : var_names[ph - PH__BUILTIN];
}

/* ---- the template tree -------------------------------------------------- */

enum el {
	E_DOCUMENT, E_HEADER, E_RUNNING, E_BODY, E_FOOTER, E_P, E_BR, E_ROW, E_BOX, E_LOGO,
	E_RULE, E_SPACE, E_PAGE_BREAK, E_TABLE, E_COLUMN, E_TOTALS, E_SIGNATURES,
	E_SIGNATURE, E__COUNT
};

static const char *const el_names[E__COUNT] = {
	"document", "header", "running", "body", "footer", "p", "br", "row", "box", "logo",
	"rule", "space", "page-break", "table", "column", "totals", "signatures",
	"signature",
};

/* Attributes each element takes (NULL-terminated); "if" and "unless" are
 * added for the flow elements. */
static const char *const el_attrs[E__COUNT][12] = {
	[E_DOCUMENT] = {"size", "margin", "font-size", "title", "reverse-charge-rate", NULL},
	[E_P] = {"size", "bold", "align", "color", "space-before", "space-after", NULL},
	[E_ROW] = {"gap", "space-after", NULL},
	[E_BOX] = {"width", "padding", "border", "border-color", "fill", NULL},
	[E_LOGO] = {"width", "height", "align", NULL},
	[E_RULE] = {"thickness", "color", "space-before", "space-after", NULL},
	[E_SPACE] = {"height", NULL},
	[E_TABLE] = {"font-size", "header-fill", "header-color", "stripe", "rule-color",
	    "space-after", NULL},
	[E_COLUMN] = {"field", "width", "align", "title", "symbol", "note", NULL},
	[E_TOTALS] = {"width", "font-size", "header-fill", "rate-title", "net-title",
	    "vat-title", "gross-title", "total-title", "space-after", NULL},
	[E_SIGNATURES] = {"height", "gap", "space-before", "space-after", NULL},
	[E_SIGNATURE] = {"label", "name", NULL},
};

/* Table fields (<column field=...>). */
enum field {
	F_POS, F_SKU, F_NAME, F_QTY, F_SIZE, F_BILLED, F_UNIT, F_LIST_PRICE, F_UNIT_PRICE,
	F_DISCOUNT, F_NET, F_VAT, F_NOTE, F_MATERIAL, F_FINISHING, F__COUNT
};

static const char *const field_names[F__COUNT + 1] = {
	"pos", "sku", "name", "qty", "size", "billed", "unit", "list_price", "unit_price",
	"discount", "net", "vat", "note", "material", "finishing", NULL,
};

enum align { AL_LEFT, AL_CENTER, AL_RIGHT };
enum wkind { W_NONE, W_MM, W_PCT, W_STAR };

/* A text with placeholders: literal pieces (ph < 0) and placeholders. */
struct seg {
	int ph;
	int line;     /* of the placeholder, for messages */
	char *lit;    /* owned; NULL for a placeholder */
};
struct text {
	struct seg *v;
	size_t n;
};

#define NO_COLOR UINT32_MAX

struct node {
	enum el el;
	int line;
	struct node *kid;   /* owned array */
	size_t nkid;
	int cond, uncond;   /* placeholders of if= and unless=; -1 none */
	/* Sizes in points. */
	double size;        /* p, table, totals: font size; 0 = inherit */
	int bold;
	enum align align;
	int has_align;
	uint32_t color, fill, border_color, header_fill, header_color, stripe, rule_color;
	double before, after, pad, border, gap, thick, height, width;
	enum wkind wkind;
	enum field field;
	int symbol, note_below;
	struct text text;   /* p, column title, signature label */
	struct text name;   /* signature name */
	struct text titles[5]; /* totals: rate, net, vat, gross, total */
};

struct tmpl {
	char *file;
	double mt, mr, mb, ml, font_size;
	struct text title, rc_rate;
	int has_rc_rate;
	struct node root;
	const struct node *header, *running, *body, *footer;
};

static double
mm(double v)
{
	return v * 72.0 / 25.4;
}

#define PAGE_W 595.276
#define PAGE_H 841.89

static void
text_free(struct text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].lit);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static void
node_free(struct node *n)
{
	for (size_t i = 0; i < n->nkid; i++)
		node_free(&n->kid[i]);
	free(n->kid);
	text_free(&n->text);
	text_free(&n->name);
	for (int i = 0; i < 5; i++)
		text_free(&n->titles[i]);
}

static void
tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	node_free(&t->root);
	text_free(&t->title);
	text_free(&t->rc_rate);
	free(t->file);
	free(t);
}

/* ---- loading a template ------------------------------------------------- */

struct loader {
	const char *file;
	struct errlist *errs;
	size_t nodes;
	int where;          /* E_HEADER ... E_FOOTER: the section being read */
	int refused;        /* the DOCTYPE hook stopped the parser */
};

static void lerr(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lerr(struct loader *ld, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errlist_add(ld->errs, ld->file, line, "%s", msg);
}

#if LIBXML_VERSION >= 21200
static void
xml_error(void *data, const xmlError *e)
#else
static void
xml_error(void *data, xmlErrorPtr e)
#endif
{
	struct loader *ld = data;
	if (!e || !e->message || ld->refused)
		return;
	char *m = xstrdup(e->message);
	lerr(ld, e->line, "XML %s: %s", e->level == XML_ERR_WARNING ? "warning" : "error",
	    str_trim(m));
	free(m);
}

/* SAX internalSubset: called at a DOCTYPE before its internal subset, the
 * only place entities can be declared, is read. */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	(void)name;
	(void)ext_id;
	(void)sys_id;
	xmlParserCtxtPtr p = ctx;
	struct loader *ld = p->_private;
	lerr(ld, p->input ? p->input->line : 0,
	    "DOCTYPE is not allowed in layout templates (no DTDs, no entity declarations)");
	ld->refused = 1;
	xmlStopParser(p);
}

static int
xline(xmlNode *n)
{
	long l = xmlGetLineNo(n);
	return l > INT_MAX ? INT_MAX : (int)l;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends literal text to t, joining it to a literal before it. */
static void
text_lit(struct text *t, const char *s, size_t len)
{
	if (!len)
		return;
	if (t->n && t->v[t->n - 1].ph < 0) {
		struct seg *g = &t->v[t->n - 1];
		size_t old = strlen(g->lit);
		g->lit = xrealloc(g->lit, old + len + 1);
		memcpy(g->lit + old, s, len);
		g->lit[old + len] = '\0';
		return;
	}
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = (struct seg){.ph = -1, .lit = xstrndup(s, len)};
}

static void
text_ph(struct text *t, int ph, int line)
{
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = (struct seg){.ph = ph, .line = line};
}

/* Compiles s (from line `line`) into t: literal text and {{name}}
 * placeholders, every name checked.  collapse: runs of XML white space
 * become one space (element text); otherwise kept (attributes). */
static void
text_compile(struct loader *ld, const char *s, int line, int collapse, struct text *t)
{
	const char *p = s;
	while (*p) {
		const char *o = strstr(p, "{{");
		const char *lit_end = o ? o : p + strlen(p);
		/* the literal part */
		for (const char *q = p; q < lit_end; q++) {
			if (*q == '\n')
				line++;
			if (collapse && is_space(*q)) {
				if (!(t->n && t->v[t->n - 1].ph < 0 && *t->v[t->n - 1].lit &&
				    t->v[t->n - 1].lit[strlen(t->v[t->n - 1].lit) - 1] == ' '))
					text_lit(t, " ", 1);
				continue;
			}
			text_lit(t, q, 1);
		}
		if (!o)
			break;
		const char *c = strstr(o + 2, "}}");
		if (!c) {
			lerr(ld, line, "\"{{\" without a closing \"}}\"");
			return;
		}
		const char *a = o + 2, *b = c;
		while (a < b && is_space(*a))
			a++;
		while (b > a && is_space(b[-1]))
			b--;
		int ph = -1;
		int ok = b > a;
		for (const char *q = a; q < b; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
				ok = 0;
		if (ok)
			ph = ph_lookup(a, (size_t)(b - a));
		if (ph < 0) {
			lerr(ld, line, "unknown placeholder {{%.*s}}", (int)(c - o - 2) > 60 ? 60 :
			    (int)(c - o - 2), o + 2);
		} else if ((ph == PH_PAGES && ld->where != E_FOOTER) ||
		    (ph == PH_PAGE && ld->where != E_FOOTER && ld->where != E_RUNNING)) {
			lerr(ld, line, "{{%s}} is known only in <footer>%s", ph_name(ph),
			    ph == PH_PAGE ? " and <running>" : "");
		} else {
			text_ph(t, ph, line);
		}
		for (const char *q = o; q < c; q++)
			if (*q == '\n')
				line++;
		p = c + 2;
	}
}

/* Trims the spaces a collapsed text has at its ends and around line
 * breaks ('\n' literals from <br/>). */
static void
text_trim(struct text *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct seg *g = &t->v[i];
		if (g->ph >= 0)
			continue;
		char *s = g->lit, *w = s;
		for (char *r = s; *r; r++) {
			if (*r == ' ') {
				int at_start = (w == s && i == 0) || (w > s && w[-1] == '\n');
				int at_end = r[1] == '\0' ? i + 1 == t->n : r[1] == '\n';
				if (at_start || at_end)
					continue;
			}
			*w++ = *r;
		}
		*w = '\0';
	}
}

/* Attribute name's value, NULL when absent; caller frees. */
static char *
attr_get(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	char *s = xstrdup((const char *)v);
	xmlFree(v);
	return s;
}

/* A number in [lo,hi] ("12", "12.5"): 1 and *out set, 0 when absent, -1
 * (with a message) when it is something else. */
static int
attr_num(struct loader *ld, xmlNode *n, const char *name, double lo, double hi, double *out)
{
	char *v = attr_get(n, name);
	if (!v)
		return 0;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	int ok = end != v && *end == '\0' && errno == 0 && isfinite(d) && d >= lo && d <= hi &&
	    (*v >= '0' && *v <= '9');
	if (!ok)
		lerr(ld, xline(n), "<%s> %s: \"%.40s\" is not a number from %g to %g",
		    (const char *)n->name, name, v, lo, hi);
	else
		*out = d;
	free(v);
	return ok ? 1 : -1;
}

static void
attr_color(struct loader *ld, xmlNode *n, const char *name, uint32_t *out)
{
	char *v = attr_get(n, name);
	if (!v)
		return;
	int ok = v[0] == '#' && strlen(v) == 7;
	for (int i = 1; ok && i < 7; i++)
		ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
		    (v[i] >= 'A' && v[i] <= 'F');
	if (ok)
		*out = (uint32_t)strtoul(v + 1, NULL, 16);
	else
		lerr(ld, xline(n), "<%s> %s: \"%.40s\" is not a colour like #1F3A5F",
		    (const char *)n->name, name, v);
	free(v);
}

/* One of words (NULL-terminated): its index, or def when absent. */
static int
attr_word(struct loader *ld, xmlNode *n, const char *name, const char *const *words, int def)
{
	char *v = attr_get(n, name);
	if (!v)
		return def;
	for (int i = 0; words[i]; i++)
		if (strcmp(v, words[i]) == 0) {
			free(v);
			return i;
		}
	struct sbuf sb = {0};
	for (int i = 0; words[i]; i++)
		sb_printf(&sb, "%s\"%s\"", i ? (words[i + 1] ? ", " : " or ") : "", words[i]);
	lerr(ld, xline(n), "<%s> %s: \"%.40s\" is not %s", (const char *)n->name, name, v,
	    sb_str(&sb));
	sb_free(&sb);
	free(v);
	return def;
}

static const char *const yes_no[] = {"no", "yes", NULL};
static const char *const aligns[] = {"left", "center", "right", NULL};

/* width="40" (mm), "30%" or "*". */
static void
attr_width(struct loader *ld, xmlNode *n, int star, struct node *o)
{
	char *v = attr_get(n, "width");
	if (!v)
		return;
	size_t l = strlen(v);
	char *end;
	double d;
	if (star && strcmp(v, "*") == 0) {
		o->wkind = W_STAR;
	} else if (l > 1 && v[l - 1] == '%' && (d = strtod(v, &end), end == v + l - 1) &&
	    d > 0 && d <= 100 && *v >= '0' && *v <= '9') {
		o->wkind = W_PCT;
		o->width = d;
	} else if ((d = strtod(v, &end), *end == '\0') && end != v && d > 0 && d <= 300 &&
	    *v >= '0' && *v <= '9') {
		o->wkind = W_MM;
		o->width = mm(d);
	} else {
		lerr(ld, xline(n), "<%s> width: \"%.40s\" is not millimetres (\"40\"), a "
		    "percentage (\"30%%\")%s", (const char *)n->name, v, star ? " or \"*\"" : "");
	}
	free(v);
}

static void
attr_text(struct loader *ld, xmlNode *n, const char *name, struct text *t, int required)
{
	char *v = attr_get(n, name);
	if (!v) {
		if (required)
			lerr(ld, xline(n), "<%s>: attribute %s is required", (const char *)n->name,
			    name);
		return;
	}
	text_compile(ld, v, xline(n), 0, t);
	free(v);
}

static void
check_attrs(struct loader *ld, xmlNode *n, enum el el, int flow)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *an = (const char *)a->name;
		int ok = flow && (strcmp(an, "if") == 0 || strcmp(an, "unless") == 0);
		for (int i = 0; !ok && el_attrs[el][i]; i++)
			ok = strcmp(an, el_attrs[el][i]) == 0;
		if (!ok || a->ns)
			lerr(ld, xline(n), "<%s>: unknown attribute \"%s\"", el_names[el], an);
	}
}

static void
attr_cond(struct loader *ld, xmlNode *n, const char *name, int *out)
{
	char *v = attr_get(n, name);
	*out = -1;
	if (!v)
		return;
	int ph = ph_lookup(v, strlen(v));
	if (ph < 0 || ph == PH_PAGE || ph == PH_PAGES)
		lerr(ld, xline(n), "<%s> %s: unknown placeholder \"%.40s\"", (const char *)n->name,
		    name, v);
	else
		*out = ph;
	free(v);
}

static enum el
el_lookup(const xmlNode *n)
{
	for (int i = 0; i < E__COUNT; i++)
		if (strcmp((const char *)n->name, el_names[i]) == 0)
			return (enum el)i;
	return E__COUNT;
}

/* Which children each element takes. */
static int
child_ok(enum el parent, enum el kid, int where)
{
	switch (parent) {
	case E_DOCUMENT:
		return kid == E_HEADER || kid == E_RUNNING || kid == E_BODY || kid == E_FOOTER;
	case E_HEADER: case E_RUNNING: case E_FOOTER: case E_BODY:
		if (kid == E_P || kid == E_ROW || kid == E_RULE || kid == E_SPACE)
			return 1;
		return where == E_BODY && (kid == E_TABLE || kid == E_TOTALS ||
		    kid == E_SIGNATURES || kid == E_PAGE_BREAK);
	case E_ROW:
		return kid == E_BOX;
	case E_BOX:
		return kid == E_P || kid == E_LOGO || kid == E_RULE || kid == E_SPACE;
	case E_P:
		return kid == E_BR;
	case E_TABLE:
		return kid == E_COLUMN;
	case E_SIGNATURES:
		return kid == E_SIGNATURE;
	default:
		return 0;
	}
}

static void read_node(struct loader *ld, xmlNode *x, enum el el, struct node *o);

/* The element children of x, each checked against parent. */
static void
read_kids(struct loader *ld, xmlNode *x, enum el parent, struct node *o)
{
	size_t cap = 0;
	for (xmlNode *c = x->children; c; c = c->next) {
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			continue;
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const char *s = (const char *)c->content;
			int line = c->prev ? xline(c->prev) : xline(x); /* see read_p */
			for (; s && *s && is_space(*s); s++)
				line += *s == '\n';
			if (s && *s)
				lerr(ld, line, "<%s>: text is not allowed here (put it in a <p>)",
				    el_names[parent]);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE) {
			lerr(ld, xline(c), "<%s>: unexpected content", el_names[parent]);
			continue;
		}
		enum el el = el_lookup(c);
		if (el == E__COUNT || c->ns) {
			lerr(ld, xline(c), "unknown element <%s>", (const char *)c->name);
			continue;
		}
		if (!child_ok(parent, el, ld->where)) {
			lerr(ld, xline(c), "<%s> is not allowed in <%s>", el_names[el],
			    el_names[parent]);
			continue;
		}
		if (++ld->nodes > PDF_MAX_NODES) {
			if (ld->nodes == PDF_MAX_NODES + 1)
				lerr(ld, xline(c), "more than %d elements", PDF_MAX_NODES);
			continue;
		}
		if (o->nkid == cap) {
			cap = cap ? 2 * cap : 8;
			o->kid = xrealloc(o->kid, cap * sizeof(*o->kid));
		}
		struct node *k = &o->kid[o->nkid++];
		memset(k, 0, sizeof(*k));
		read_node(ld, c, el, k);
	}
}

static void
read_p(struct loader *ld, xmlNode *x, struct node *o)
{
	for (xmlNode *c = x->children; c; c = c->next) {
		/* libxml2 numbers a text node by a line it had reached while
		 * reading it; the text starts where the node before it (or the
		 * start tag of <p>) ends, and those are numbered by their end. */
		int line = c->prev ? xline(c->prev) : xline(x);
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			text_compile(ld, (const char *)c->content, line, 1, &o->text);
		else if (c->type == XML_ELEMENT_NODE && el_lookup(c) == E_BR) {
			check_attrs(ld, c, E_BR, 0);
			if (c->children)
				lerr(ld, xline(c), "<br> must be empty");
			text_lit(&o->text, "\n", 1);
		} else if (c->type == XML_ELEMENT_NODE && el_lookup(c) != E__COUNT) {
			lerr(ld, xline(c), "<%s> is not allowed in <p>", (const char *)c->name);
		}
	}
	text_trim(&o->text);
}

static void
read_node(struct loader *ld, xmlNode *x, enum el el, struct node *o)
{
	static const char *const note_words[] = {"column", "below", NULL};
	int flow = el == E_P || el == E_ROW || el == E_RULE || el == E_SPACE ||
	    el == E_TABLE || el == E_TOTALS || el == E_SIGNATURES || el == E_PAGE_BREAK;
	o->el = el;
	o->line = xline(x);
	o->cond = o->uncond = -1;
	o->color = o->fill = o->border_color = o->header_fill = o->header_color = NO_COLOR;
	o->stripe = o->rule_color = NO_COLOR;
	check_attrs(ld, x, el, flow);
	if (flow) {
		attr_cond(ld, x, "if", &o->cond);
		attr_cond(ld, x, "unless", &o->uncond);
	}
	double v;
	switch (el) {
	case E_HEADER: case E_RUNNING: case E_BODY: case E_FOOTER: {
		int saved = ld->where;
		ld->where = el;
		read_kids(ld, x, el, o);
		ld->where = saved;
		return;
	}
	case E_P:
		if (attr_num(ld, x, "size", 5, 40, &o->size) < 0)
			o->size = 0;
		o->bold = attr_word(ld, x, "bold", yes_no, 0);
		o->has_align = xmlHasProp(x, (const xmlChar *)"align") != NULL;
		o->align = (enum align)attr_word(ld, x, "align", aligns, AL_LEFT);
		attr_color(ld, x, "color", &o->color);
		if (attr_num(ld, x, "space-before", 0, 100, &v) > 0)
			o->before = mm(v);
		if (attr_num(ld, x, "space-after", 0, 100, &v) > 0)
			o->after = mm(v);
		read_p(ld, x, o);
		return;
	case E_ROW:
		o->gap = mm(4);
		if (attr_num(ld, x, "gap", 0, 100, &v) > 0)
			o->gap = mm(v);
		if (attr_num(ld, x, "space-after", 0, 100, &v) > 0)
			o->after = mm(v);
		read_kids(ld, x, el, o);
		if (o->nkid == 0 || o->nkid > 6)
			lerr(ld, xline(x), "<row> holds 1 to 6 <box> elements, not %zu", o->nkid);
		return;
	case E_BOX:
		attr_width(ld, x, 1, o);
		if (o->wkind == W_NONE)
			o->wkind = W_STAR;
		if (attr_num(ld, x, "padding", 0, 50, &v) > 0)
			o->pad = mm(v);
		if (attr_num(ld, x, "border", 0, 5, &v) > 0)
			o->border = v;
		attr_color(ld, x, "border-color", &o->border_color);
		attr_color(ld, x, "fill", &o->fill);
		read_kids(ld, x, el, o);
		return;
	case E_LOGO:
		o->width = mm(40);
		o->height = mm(15);
		if (attr_num(ld, x, "width", 1, 200, &v) > 0)
			o->width = mm(v);
		if (attr_num(ld, x, "height", 1, 200, &v) > 0)
			o->height = mm(v);
		o->align = (enum align)attr_word(ld, x, "align", aligns, AL_LEFT);
		break;
	case E_RULE:
		o->thick = 0.5;
		if (attr_num(ld, x, "thickness", 0.1, 5, &v) > 0)
			o->thick = v;
		attr_color(ld, x, "color", &o->color);
		if (attr_num(ld, x, "space-before", 0, 100, &v) > 0)
			o->before = mm(v);
		if (attr_num(ld, x, "space-after", 0, 100, &v) > 0)
			o->after = mm(v);
		break;
	case E_SPACE:
		o->height = mm(4);
		if (attr_num(ld, x, "height", 0, 200, &v) > 0)
			o->height = mm(v);
		break;
	case E_TABLE:
		if (attr_num(ld, x, "font-size", 5, 20, &o->size) < 0)
			o->size = 0;
		attr_color(ld, x, "header-fill", &o->header_fill);
		attr_color(ld, x, "header-color", &o->header_color);
		attr_color(ld, x, "stripe", &o->stripe);
		attr_color(ld, x, "rule-color", &o->rule_color);
		if (attr_num(ld, x, "space-after", 0, 100, &v) > 0)
			o->after = mm(v);
		read_kids(ld, x, el, o);
		if (o->nkid == 0 || o->nkid > 16)
			lerr(ld, xline(x), "<table> holds 1 to 16 <column> elements, not %zu", o->nkid);
		return;
	case E_COLUMN: {
		char *f = attr_get(x, "field");
		if (!f)
			lerr(ld, xline(x), "<column>: attribute field is required");
		free(f);
		o->field = (enum field)attr_word(ld, x, "field", field_names, F_NAME);
		attr_width(ld, x, 1, o);
		if (o->wkind == W_NONE || o->wkind == W_PCT) {
			if (o->wkind == W_PCT)
				lerr(ld, xline(x), "<column> width: millimetres or \"*\"");
			o->wkind = W_STAR;
		}
		int amount = o->field == F_QTY || o->field == F_BILLED ||
		    o->field == F_LIST_PRICE || o->field == F_UNIT_PRICE || o->field == F_NET ||
		    o->field == F_VAT || o->field == F_POS || o->field == F_DISCOUNT;
		o->align = (enum align)attr_word(ld, x, "align", aligns, amount ? AL_RIGHT : AL_LEFT);
		attr_text(ld, x, "title", &o->text, 0);
		o->symbol = attr_word(ld, x, "symbol", yes_no, 1);
		o->note_below = attr_word(ld, x, "note", note_words, 0);
		if (o->note_below && o->field != F_NAME)
			lerr(ld, xline(x), "<column> note=\"below\" is for the name column");
		break;
	}
	case E_TOTALS: {
		static const char *const tn[5] = {"rate-title", "net-title", "vat-title",
		    "gross-title", "total-title"};
		o->wkind = W_MM;
		o->width = mm(110);
		attr_width(ld, x, 0, o);
		if (attr_num(ld, x, "font-size", 5, 20, &o->size) < 0)
			o->size = 0;
		attr_color(ld, x, "header-fill", &o->header_fill);
		for (int i = 0; i < 5; i++)
			attr_text(ld, x, tn[i], &o->titles[i], 1);
		if (attr_num(ld, x, "space-after", 0, 100, &v) > 0)
			o->after = mm(v);
		break;
	}
	case E_SIGNATURES:
		o->height = mm(18);
		o->gap = mm(20);
		if (attr_num(ld, x, "height", 0, 100, &v) > 0)
			o->height = mm(v);
		if (attr_num(ld, x, "gap", 0, 100, &v) > 0)
			o->gap = mm(v);
		if (attr_num(ld, x, "space-before", 0, 100, &v) > 0)
			o->before = mm(v);
		if (attr_num(ld, x, "space-after", 0, 100, &v) > 0)
			o->after = mm(v);
		read_kids(ld, x, el, o);
		if (o->nkid == 0 || o->nkid > 4)
			lerr(ld, xline(x), "<signatures> holds 1 to 4 <signature> elements, not %zu",
			    o->nkid);
		return;
	case E_SIGNATURE:
		attr_text(ld, x, "label", &o->text, 1);
		attr_text(ld, x, "name", &o->name, 0);
		break;
	default:
		break;
	}
	/* Leaf elements. */
	read_kids(ld, x, el, o);
}

/* Widths of the boxes of rows and the columns of tables must fit the page. */
static void
check_widths(struct loader *ld, const struct node *n, double avail)
{
	for (size_t i = 0; i < n->nkid; i++) {
		const struct node *k = &n->kid[i];
		double fixed = 0;
		if (k->el == E_ROW || k->el == E_TABLE) {
			for (size_t j = 0; j < k->nkid; j++) {
				const struct node *b = &k->kid[j];
				fixed += b->wkind == W_MM ? b->width :
				    b->wkind == W_PCT ? avail * b->width / 100 : 0;
				if (k->el == E_ROW && j)
					fixed += k->gap;
			}
			if (fixed > avail + 0.5)
				lerr(ld, k->line, "<%s> is %.0f mm wide, the page has %.0f mm between "
				    "its margins", el_names[k->el], fixed * 25.4 / 72, avail * 25.4 / 72);
		}
		if (k->el == E_TOTALS && k->width > avail + 0.5)
			lerr(ld, k->line, "<totals> is %.0f mm wide, the page has %.0f mm between "
			    "its margins", k->width * 25.4 / 72, avail * 25.4 / 72);
	}
}

static void
read_document(struct loader *ld, xmlNode *x, struct tmpl *t)
{
	static const char *const sizes[] = {"A4", NULL};
	struct node *o = &t->root;
	o->el = E_DOCUMENT;
	o->line = xline(x);
	check_attrs(ld, x, E_DOCUMENT, 0);
	attr_word(ld, x, "size", sizes, 0);
	t->mt = t->mr = t->mb = t->ml = mm(15);
	char *m = attr_get(x, "margin");
	if (m) {
		double v[4];
		int n = 0;
		char *p = m, *end;
		while (n < 5) {
			while (*p == ' ')
				p++;
			if (!*p)
				break;
			if (n == 4 || !(*p >= '0' && *p <= '9'))
				goto bad;
			v[n++] = strtod(p, &end);
			if (end == p || v[n - 1] > 80 || (*end && *end != ' '))
				goto bad;
			p = end;
		}
		if (n == 1)
			v[1] = v[2] = v[3] = v[0];
		else if (n == 2)
			v[2] = v[0], v[3] = v[1];
		else if (n != 4)
			goto bad;
		t->mt = mm(v[0]);
		t->mr = mm(v[1]);
		t->mb = mm(v[2]);
		t->ml = mm(v[3]);
		goto done;
bad:
		lerr(ld, xline(x), "<document> margin: \"%.40s\" is not 1, 2 or 4 sizes in "
		    "millimetres up to 80 (\"15 15 20 15\")", m);
done:
		free(m);
	}
	t->font_size = 9;
	attr_num(ld, x, "font-size", 5, 20, &t->font_size);
	attr_text(ld, x, "title", &t->title, 0);
	t->has_rc_rate = xmlHasProp(x, (const xmlChar *)"reverse-charge-rate") != NULL;
	attr_text(ld, x, "reverse-charge-rate", &t->rc_rate, 0);

	read_kids(ld, x, E_DOCUMENT, o);
	for (size_t i = 0; i < o->nkid; i++) {
		const struct node **slot = o->kid[i].el == E_HEADER ? &t->header :
		    o->kid[i].el == E_RUNNING ? &t->running : o->kid[i].el == E_BODY ? &t->body :
		    &t->footer;
		if (*slot)
			lerr(ld, o->kid[i].line, "a second <%s>", el_names[o->kid[i].el]);
		*slot = &o->kid[i];
	}
	if (!t->body)
		lerr(ld, xline(x), "<document> has no <body>");
	double avail = PAGE_W - t->ml - t->mr;
	if (avail < mm(50) || PAGE_H - t->mt - t->mb < mm(80))
		lerr(ld, xline(x), "<document> margin leaves too little of the page");
	for (size_t i = 0; i < o->nkid; i++)
		check_widths(ld, &o->kid[i], avail);
}

/* Reads and checks the template at path.  NULL with every problem added to
 * errs ("path:line: message") when it cannot be used. */
static struct tmpl *
tmpl_load(const char *path, struct errlist *errs)
{
	struct loader ld = {.file = path, .errs = errs};
	size_t nerr = errs->n;
	struct stat st;
	char *data = NULL;
	size_t len;

	if (stat(path, &st) < 0) {
		lerr(&ld, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		lerr(&ld, 0, "cannot read: not a regular file");
		return NULL;
	}
	if ((uint64_t)st.st_size > PDF_MAX_TEMPLATE ||
	    file_read(path, PDF_MAX_TEMPLATE, &data, &len) < 0) {
		if ((uint64_t)st.st_size > PDF_MAX_TEMPLATE || errno == EFBIG)
			lerr(&ld, 0, "larger than the limit of %d bytes", PDF_MAX_TEMPLATE);
		else
			lerr(&ld, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	char xerr[300];
	if (lazyxml_load(xerr, sizeof xerr) < 0) {
		free(data);
		lerr(&ld, 0, "%s", xerr);
		return NULL;
	}
	xmlParserCtxtPtr p = xmlNewParserCtxt();
	if (!p) {
		free(data);
		lerr(&ld, 0, "cannot create an XML parser");
		return NULL;
	}
	p->_private = &ld;
	p->sax->internalSubset = refuse_doctype;
	xmlSetStructuredErrorFunc(&ld, xml_error);
	/* No XML_PARSE_NOENT (entity substitution), no DTD loading, no HUGE. */
	xmlDoc *doc = xmlCtxtReadMemory(p, data, (int)len, path, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
	xmlSetStructuredErrorFunc(NULL, NULL); /* nobody else uses this libxml2 */
	xmlFreeParserCtxt(p);
	free(data);

	struct tmpl *t = xcalloc(1, sizeof(*t));
	t->file = xstrdup(path);
	xmlNode *root = doc && !ld.refused ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		if (errs->n == nerr)
			lerr(&ld, 0, "not a well-formed XML document");
	} else if (strcmp((const char *)root->name, "document") != 0 || root->ns) {
		lerr(&ld, xline(root), "the root element is <%s>, not <document>",
		    (const char *)root->name);
	} else {
		read_document(&ld, root, t);
	}
	if (doc)
		xmlFreeDoc(doc);
	if (errs->n != nerr) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}

/* ---- formatting ---------------------------------------------------------- */

static unsigned
utf8_next(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	unsigned c = s[0];
	if (c < 0x80) {
		*p += 1;
		return c;
	}
	if (c < 0xE0 && s[1]) {
		*p += 2;
		return (c & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (c < 0xF0 && s[1] && s[2]) {
		*p += 3;
		return (c & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	if (s[1] && s[2] && s[3]) {
		*p += 4;
		return (c & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12 |
		    (unsigned)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
	}
	*p += 1;
	return 0xFFFD;
}

/* A copy of s (valid UTF-8) fit for the page: CR dropped, tabs and other
 * control characters made spaces, '\n' kept, characters beyond the BMP
 * (libharu 2.3.0 encodes only the BMP) made U+FFFD. */
static char *
clean(const char *s)
{
	struct sbuf sb = {0};
	sb_adds(&sb, "");
	for (const char *p = s; *p;) {
		const char *q = p;
		unsigned c = utf8_next(&p);
		if (c == '\r')
			continue;
		if (c == '\n')
			sb_addc(&sb, '\n');
		else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0))
			sb_addc(&sb, ' ');
		else if (c >= 0x10000)
			sb_adds(&sb, "\xEF\xBF\xBD");
		else
			sb_add(&sb, q, (size_t)(p - q));
	}
	return sb_steal(&sb);
}

/* Thousandths: "12", "2,5", "1 000,125" (pl) / "1.000,125" (de). */
static void
fmt_milli(int64_t v, const char *lang, char *out, size_t size)
{
	int de = strcmp(lang, "de") == 0;
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char digits[24], buf[48];
	int nd = snprintf(digits, sizeof(digits), "%" PRIu64, m / 1000);
	size_t j = 0;
	if (v < 0)
		buf[j++] = '-';
	for (int i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[j++] = de ? '.' : ' ';
		buf[j++] = digits[i];
	}
	unsigned frac = (unsigned)(m % 1000);
	if (frac) {
		char f[8];
		snprintf(f, sizeof(f), "%03u", frac);
		for (int k = 2; k > 0 && f[k] == '0'; k--)
			f[k] = '\0';
		buf[j++] = ',';
		for (char *q = f; *q; q++)
			buf[j++] = *q;
	}
	buf[j] = '\0';
	bfmt(out, size, "%s", buf);
}

/* Basis points as a rate: "23%", "8,5%" (pl), "19 %" (de). */
static void
fmt_rate(int64_t bp, const char *lang, char *out, size_t size)
{
	char n[40];
	fmt_milli(bp * 10, lang, n, sizeof(n));
	bfmt(out, size, "%s%s%%", n, strcmp(lang, "de") == 0 ? " " : "");
}

static const char *
fmt_unit(const char *unit, const char *lang)
{
	int de = strcmp(lang, "de") == 0;
	if (!unit)
		return "";
	if (strcmp(unit, "m2") == 0)
		return "m²";
	if (strcmp(unit, "pcs") == 0)
		return de ? "Stk." : "szt.";
	if (strcmp(unit, "m") == 0)
		return de ? "lfm" : "mb";
	return unit;
}

/* ---- amounts in words ---------------------------------------------------- */

static const char *const pl_ones[] = {"", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć",
    "siedem", "osiem", "dziewięć", "dziesięć", "jedenaście", "dwanaście", "trzynaście",
    "czternaście", "piętnaście", "szesnaście", "siedemnaście", "osiemnaście",
    "dziewiętnaście"};
static const char *const pl_tens[] = {"", "", "dwadzieścia", "trzydzieści", "czterdzieści",
    "pięćdziesiąt", "sześćdziesiąt", "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"};
static const char *const pl_hundreds[] = {"", "sto", "dwieście", "trzysta", "czterysta",
    "pięćset", "sześćset", "siedemset", "osiemset", "dziewięćset"};
/* 10^3 .. 10^18: singular, 2-4 form, genitive plural. */
static const char *const pl_scale[6][3] = {
	{"tysiąc", "tysiące", "tysięcy"}, {"milion", "miliony", "milionów"},
	{"miliard", "miliardy", "miliardów"}, {"bilion", "biliony", "bilionów"},
	{"biliard", "biliardy", "biliardów"}, {"trylion", "tryliony", "trylionów"},
};

/* Polish noun form after the number n: 0 "jeden złoty", 1 "dwa złote"
 * (ending 2-4, not 12-14), 2 "pięć złotych" (all the rest, 0 too). */
static int
pl_form(uint64_t n)
{
	if (n == 1)
		return 0;
	if (n % 10 >= 2 && n % 10 <= 4 && !(n % 100 >= 12 && n % 100 <= 14))
		return 1;
	return 2;
}

static void
words_add(struct sbuf *sb, const char *w)
{
	if (!*w)
		return;
	if (sb->len)
		sb_addc(sb, ' ');
	sb_adds(sb, w);
}

static void
pl_group(struct sbuf *sb, unsigned g)
{
	words_add(sb, pl_hundreds[g / 100]);
	g %= 100;
	if (g >= 20) {
		words_add(sb, pl_tens[g / 10]);
		g %= 10;
	}
	words_add(sb, pl_ones[g]);
}

static void
pl_number(struct sbuf *sb, uint64_t n)
{
	if (n == 0) {
		words_add(sb, "zero");
		return;
	}
	uint64_t scale = 1000000000000000000ULL;
	for (int s = 6; s >= 0; s--, scale /= 1000) {
		unsigned g = (unsigned)(n / scale % 1000);
		if (!g)
			continue;
		if (s == 0) {
			pl_group(sb, g);
		} else if (g == 1) {
			words_add(sb, pl_scale[s - 1][0]);
		} else {
			pl_group(sb, g);
			words_add(sb, pl_scale[s - 1][pl_form(g)]);
		}
	}
}

static const char *const de_ones[] = {"", "ein", "zwei", "drei", "vier", "fünf", "sechs",
    "sieben", "acht", "neun", "zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn",
    "sechzehn", "siebzehn", "achtzehn", "neunzehn"};
static const char *const de_tens[] = {"", "", "zwanzig", "dreißig", "vierzig", "fünfzig",
    "sechzig", "siebzig", "achtzig", "neunzig"};
static const char *const de_scale[6][2] = {
	{"Million", "Millionen"}, {"Milliarde", "Milliarden"}, {"Billion", "Billionen"},
	{"Billiarde", "Billiarden"}, {"Trillion", "Trillionen"}, {"Trilliarde", "Trilliarden"},
};

/* 1..999 as one word.  end: the group ends the number word, where a final
 * 1 is "eins" ("einhunderteins"); before "tausend" it is "ein". */
static void
de_group(struct sbuf *sb, unsigned g, int end)
{
	if (g >= 100) {
		sb_adds(sb, de_ones[g / 100]);
		sb_adds(sb, "hundert");
		g %= 100;
	}
	if (g == 1) {
		sb_adds(sb, end ? "eins" : "ein");
	} else if (g < 20) {
		sb_adds(sb, de_ones[g]);
	} else {
		if (g % 10) {
			sb_adds(sb, de_ones[g % 10]);
			sb_adds(sb, "und");
		}
		sb_adds(sb, de_tens[g / 10]);
	}
}

static void
de_number(struct sbuf *sb, uint64_t n)
{
	if (n == 0) {
		sb_adds(sb, "null");
		return;
	}
	if (n == 1) {           /* before the currency: "ein Euro" */
		sb_adds(sb, "ein");
		return;
	}
	uint64_t scale = 1000000000000000000ULL;
	for (int s = 6; s >= 2; s--, scale /= 1000) {
		unsigned g = (unsigned)(n / scale % 1000);
		if (!g)
			continue;
		if (sb->len)
			sb_addc(sb, ' ');
		if (g == 1) {
			sb_adds(sb, "eine");
		} else {
			de_group(sb, g, 0);
			if (g % 100 == 1)
				sb_addc(sb, 'e'); /* "einhunderteine Millionen" */
		}
		sb_addc(sb, ' ');
		sb_adds(sb, de_scale[s - 2][g != 1]);
	}
	unsigned th = (unsigned)(n / 1000 % 1000), rest = (unsigned)(n % 1000);
	if (th || rest) {
		if (sb->len)
			sb_addc(sb, ' ');
		if (th) {
			de_group(sb, th, 0);
			sb_adds(sb, "tausend");
		}
		if (rest)
			de_group(sb, rest, 1);
	}
}

char *
pdf_amount_words(int64_t minor, const char *currency, const char *lang)
{
	int de = lang && strcmp(lang, "de") == 0;
	uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	uint64_t units = m / 100;
	struct sbuf num = {0}, sb = {0};
	if (de)
		de_number(&num, units);
	else
		pl_number(&num, units);
	sb_printf(&sb, "%s%s", minor < 0 ? "minus " : "", num.s);
	sb_free(&num);
	const char *cur;
	if (currency && strcmp(currency, "PLN") == 0) {
		static const char *const zl[3] = {"złoty", "złote", "złotych"};
		cur = de ? "Złoty" : zl[pl_form(units)];
	} else if (currency && strcmp(currency, "EUR") == 0) {
		cur = de ? "Euro" : "euro";
	} else {
		cur = currency && *currency ? currency : "";
	}
	if (*cur) {
		sb_addc(&sb, ' ');
		sb_adds(&sb, cur);
	}
	sb_printf(&sb, " %02u/100", (unsigned)(m % 100));
	return sb_steal(&sb);
}

/* ---- fonts ----------------------------------------------------------------- */

enum { FONT_REGULAR, FONT_BOLD };

static struct face faces[2] = {
	{.path = PDF_FONT_REGULAR},
	{.path = PDF_FONT_BOLD},
};
static pthread_once_t faces_once = PTHREAD_ONCE_INIT;

static void
faces_init(void)
{
	face_load(&faces[FONT_REGULAR]);
	face_load(&faces[FONT_BOLD]);
}

/* ---- layout ---------------------------------------------------------------- */

enum opk { OP_NONE, OP_TEXT, OP_LINE, OP_FILL, OP_STROKE, OP_IMAGE, OP_POLY, OP_DOT };

/* One drawing operation.  Coordinates in points from the page's lower
 * left corner. */
struct op {
	enum opk k;
	int page;
	int bold;
	int dash;
	uint32_t color;
	double x, y, w, h;  /* text: baseline start; line: (x,y) to (w,h);
	                     * rectangles, image: lower left corner and size */
	double size;        /* text: font size; line, stroke, poly: line width */
	size_t str;         /* text: offset in strs */
	size_t pts, npts;   /* poly: npts points (x, y) from pts[2 * pts]; dot: a
	                     * filled circle at (x, y) of radius w */
};

struct rctx {
	const struct config *cfg;
	const struct pdf_doc *doc;
	const struct tmpl *t;
	const char *val[PH__COUNT];   /* NULL: the document has none */
	char *own[PH__COUNT];
	char *err;
	size_t errlen;
	int failed;
	double left, right, top, bottom;
	int page;           /* 0-based */
	double y;           /* the cursor: top of what comes next */
	int fresh;          /* nothing of the body on this page yet */
	struct op *ops;
	size_t nops, capops;
	struct sbuf strs;
	int need_full, bold_used;
	HPDF_Doc pdf;
	HPDF_Image logo;
	int logo_state;     /* 0 not tried, 1 loaded, -1 failed */
	HPDF_STATUS herr, hdetail;
	/* Charts (no template: t is NULL). */
	double *pts;        /* the points of OP_POLY, x and y */
	size_t npts, cappts;
	const char *title;  /* document information title when t is NULL */
};

#define LEADING 1.25    /* line height / font size */
#define GRAY 0x6B7280u
#define TEXT_COLOR 0x1F2328u

static void rerr(struct rctx *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rerr(struct rctx *r, int line, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = 1;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->t && line > 0)
		bfmt(r->err, r->errlen, "%s:%d: %s", r->t->file, line, msg);
	else
		bfmt(r->err, r->errlen, "%s", msg);
}

static struct op *
op_add(struct rctx *r, enum opk k)
{
	if (r->nops == r->capops) {
		r->capops = r->capops ? 2 * r->capops : 256;
		r->ops = xrealloc(r->ops, r->capops * sizeof(*r->ops));
	}
	struct op *o = &r->ops[r->nops++];
	memset(o, 0, sizeof(*o));
	o->k = k;
	o->page = r->page;
	return o;
}

static void
put_line(struct rctx *r, double x1, double y1, double x2, double y2, double lw,
    uint32_t color, int dash)
{
	struct op *o = op_add(r, OP_LINE);
	o->x = x1;
	o->y = y1;
	o->w = x2;
	o->h = y2;
	o->size = lw;
	o->color = color;
	o->dash = dash;
}

/* Advance width of cp in 1/1000 em, as libharu writes it.  Notes whether
 * the subset font lacks a glyph the full font has. */
static int64_t
cp_width(struct rctx *r, int bold, unsigned cp)
{
	const struct face *f = &faces[bold];
	if (cp >= 0x10000)
		cp = 0xFFFD;
	unsigned a = f->adv[cp];
	if (a == FACE_NONE)
		return f->missing;
	if (!(f->sub[cp >> 3] & (1u << (cp & 7))))
		r->need_full = 1;
	return a;
}

static double
text_width(struct rctx *r, const char *s, size_t len, int bold, double size)
{
	int64_t w = 0;
	for (const char *p = s; p < s + len;)
		w += cp_width(r, bold, utf8_next(&p));
	return (double)w * size / 1000.0;
}

struct tl {
	size_t off, len;
	double w;   /* points */
};

struct lines {
	struct tl *v;
	size_t n, cap;
};

static void
lines_add(struct rctx *r, struct lines *l, const char *s, size_t a, size_t b, int bold,
    double size)
{
	while (b > a && s[b - 1] == ' ')
		b--;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct tl){a, b - a, text_width(r, s + a, b - a, bold, size)};
}

/* Breaks s into lines at most maxw points wide: at '\n', at spaces, after
 * hyphens and slashes, and inside a word longer than a line.  "" gives no
 * line at all. */
static void
wrap(struct rctx *r, const char *s, int bold, double size, double maxw, struct lines *l)
{
	l->n = 0;
	if (!*s)
		return;
	int64_t lim = (int64_t)floor(maxw * 1000.0 / size);
	size_t len = strlen(s), i = 0;
	for (;;) {
		size_t start = i, j = i, brk = SIZE_MAX, next = 0;
		int64_t w = 0;
		for (;;) {
			if (j >= len || s[j] == '\n') {
				lines_add(r, l, s, start, j, bold, size);
				if (j >= len)
					return;
				i = j + 1;
				break;
			}
			const char *p = s + j;
			unsigned cp = utf8_next(&p);
			int64_t cw = cp_width(r, bold, cp);
			if (cp == ' ') {
				brk = j;
				next = j + 1;
			} else if (w + cw > lim && j > start) {
				if (brk != SIZE_MAX) {
					lines_add(r, l, s, start, brk, bold, size);
					i = next;
				} else {
					lines_add(r, l, s, start, j, bold, size);
					i = j;
				}
				while (i < len && s[i] == ' ')
					i++;
				if (i >= len)
					return;
				break;
			}
			w += cw;
			j = (size_t)(p - s);
			if ((cp == '-' || cp == '/') && j < len && s[j] != ' ' && j - start > 1) {
				brk = j;
				next = j;
			}
		}
	}
}

static void
put_text(struct rctx *r, double x, double baseline, const char *s, size_t len, int bold,
    double size, uint32_t color)
{
	if (!len)
		return;
	struct op *o = op_add(r, OP_TEXT);
	o->x = x;
	o->y = baseline;
	o->bold = bold;
	o->size = size;
	o->color = color;
	o->str = r->strs.len;
	sb_add(&r->strs, s, len);
	sb_addc(&r->strs, '\0');
	r->bold_used |= bold;
}

/* One wrapped line at the cursor, aligned in [x, x+w]; the cursor moves
 * down a line. */
static void
put_tl(struct rctx *r, const char *s, const struct tl *t, double x, double w, enum align al,
    int bold, double size, uint32_t color)
{
	double lx = al == AL_RIGHT ? x + w - t->w : al == AL_CENTER ? x + (w - t->w) / 2 : x;
	put_text(r, lx, r->y - 0.97 * size, s + t->off, t->len, bold, size, color);
	r->y -= size * LEADING;
}

static int
expand(struct rctx *r, const struct text *t, struct sbuf *sb)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct seg *g = &t->v[i];
		if (g->ph < 0) {
			sb_adds(sb, g->lit);
		} else if (!r->val[g->ph]) {
			rerr(r, g->line, "{{%s}}: this document has no value for it",
			    ph_name(g->ph));
			return -1;
		} else {
			sb_adds(sb, r->val[g->ph]);
		}
	}
	sb_adds(sb, "");
	return 0;
}

static int
cond_ok(const struct rctx *r, const struct node *n)
{
	if (n->cond >= 0 && !(r->val[n->cond] && *r->val[n->cond]))
		return 0;
	if (n->uncond >= 0 && r->val[n->uncond] && *r->val[n->uncond])
		return 0;
	return 1;
}

static void new_page(struct rctx *r);

/* A paragraph at the cursor in [x, x+w].  breakable: lines that do not
 * fit move to a new page. */
static int
layout_p(struct rctx *r, const struct node *n, double x, double w, int breakable)
{
	struct sbuf sb = {0};
	struct lines l = {0};
	double size = n->size ? n->size : r->t->font_size;
	if (expand(r, &n->text, &sb) < 0) {
		sb_free(&sb);
		return -1;
	}
	wrap(r, sb.s, n->bold, size, w, &l);
	if (!r->fresh || !breakable)
		r->y -= n->before;
	for (size_t i = 0; i < l.n; i++) {
		if (breakable && !r->fresh && r->y - size * LEADING < r->bottom)
			new_page(r);
		put_tl(r, sb.s, &l.v[i], x, w, n->align, n->bold, size,
		    n->color != NO_COLOR ? n->color : TEXT_COLOR);
		if (breakable)
			r->fresh = 0;
	}
	r->y -= n->after;
	free(l.v);
	sb_free(&sb);
	return r->failed ? -1 : 0;
}

/* libharu 2.3.0's libpng error handler returns instead of jumping out,
 * so libpng aborts the process on a damaged PNG.  A PNG is therefore first
 * loaded in a child process; the verdict is kept for the file as it is
 * (device, inode, size, time), so that costs one fork per logo change.
 * 0 when the PNG loads, -1 otherwise. */
static int
png_ok(const char *path, const struct stat *st)
{
	static struct { dev_t dev; ino_t ino; off_t size; struct timespec mtime; int ok; }
	    seen = {.ok = -2};
	if (seen.ok != -2 && seen.dev == st->st_dev && seen.ino == st->st_ino &&
	    seen.size == st->st_size && seen.mtime.tv_sec == st->st_mtim.tv_sec &&
	    seen.mtime.tv_nsec == st->st_mtim.tv_nsec)
		return seen.ok;
	if (lazyharu_load(NULL, 0) < 0)
		return -1;
	(void)fflush(NULL); /* best effort: nothing buffered is written twice */
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		HPDF_Doc pdf = HPDF_New(NULL, NULL);
		int ok = pdf && HPDF_LoadPngImageFromFile(pdf, path);
		if (pdf)
			HPDF_Free(pdf);
		_exit(ok ? 0 : 1);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	seen.dev = st->st_dev;
	seen.ino = st->st_ino;
	seen.size = st->st_size;
	seen.mtime = st->st_mtim;
	seen.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
	return seen.ok;
}

static int
logo_load(struct rctx *r)
{
	if (r->logo_state)
		return r->logo_state > 0 ? 0 : -1;
	r->logo_state = -1;
	const char *path = r->cfg->company.logo;
	unsigned char magic[8] = {0};
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		rerr(r, 0, "logo %s: %s", path, strerror(errno));
		if (f)
			(void)fclose(f); /* read-only: nothing to lose */
		return -1;
	}
	size_t got = fread(magic, 1, sizeof(magic), f);
	(void)fclose(f);
	if (st.st_size > PDF_MAX_LOGO) {
		rerr(r, 0, "logo %s: larger than %d bytes", path, PDF_MAX_LOGO);
		return -1;
	}
	if (got == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
		if (png_ok(path, &st) < 0) {
			rerr(r, 0, "logo %s: libharu cannot read it (a damaged PNG)", path);
			return -1;
		}
		r->logo = HPDF_LoadPngImageFromFile(r->pdf, path);
	}
	else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
		r->logo = HPDF_LoadJpegImageFromFile(r->pdf, path);
	else {
		rerr(r, 0, "logo %s: neither PNG nor JPEG", path);
		return -1;
	}
	if (!r->logo) {
		rerr(r, 0, "logo %s: libharu cannot read it (error 0x%04X)", path,
		    (unsigned)r->herr);
		return -1;
	}
	r->logo_state = 1;
	return 0;
}

static int
layout_logo(struct rctx *r, const struct node *n, double x, double w)
{
	if (!r->cfg->company.logo)
		return 0;
	if (logo_load(r) < 0)
		return -1;
	double iw = HPDF_Image_GetWidth(r->logo), ih = HPDF_Image_GetHeight(r->logo);
	if (iw <= 0 || ih <= 0)
		return 0;
	double bw = n->width < w ? n->width : w, bh = n->height;
	double s = bw / iw < bh / ih ? bw / iw : bh / ih;
	double dw = iw * s, dh = ih * s;
	double lx = n->align == AL_RIGHT ? x + w - dw : n->align == AL_CENTER ? x + (w - dw) / 2 : x;
	struct op *o = op_add(r, OP_IMAGE);
	o->x = lx;
	o->y = r->y - dh;
	o->w = dw;
	o->h = dh;
	r->y -= dh;
	return 0;
}

static void
layout_rule(struct rctx *r, const struct node *n, double x, double w)
{
	r->y -= n->before;
	put_line(r, x, r->y - n->thick / 2, x + w, r->y - n->thick / 2, n->thick,
	    n->color != NO_COLOR ? n->color : 0xC9D1DBu, 0);
	r->y -= n->thick + n->after;
}

/* The fill and border of a box or table row are known only after its
 * content; they are drawn first, so their operations are reserved. */
static size_t
reserve(struct rctx *r)
{
	op_add(r, OP_NONE);
	return r->nops - 1;
}

static void
set_rect(struct rctx *r, size_t at, enum opk k, double x, double y, double w, double h,
    uint32_t color, double lw)
{
	struct op *o = &r->ops[at];
	o->k = k;
	o->x = x;
	o->y = y;
	o->w = w;
	o->h = h;
	o->color = color;
	o->size = lw;
}

static int
layout_row(struct rctx *r, const struct node *row, double x, double w)
{
	double fixed = 0, bx = x, y0 = r->y, hmax = 0;
	size_t stars = 0;
	for (size_t i = 0; i < row->nkid; i++) {
		const struct node *b = &row->kid[i];
		fixed += b->wkind == W_MM ? b->width : b->wkind == W_PCT ? w * b->width / 100 : 0;
		stars += b->wkind == W_STAR;
	}
	fixed += row->gap * (double)(row->nkid - 1);
	double star = stars ? (w - fixed) / (double)stars : 0;
	size_t *res = xcalloc(row->nkid, 2 * sizeof(size_t));
	for (size_t i = 0; i < row->nkid; i++) {
		const struct node *b = &row->kid[i];
		double bw = b->wkind == W_MM ? b->width : b->wkind == W_PCT ? w * b->width / 100 : star;
		res[2 * i] = reserve(r);
		res[2 * i + 1] = reserve(r);
		r->y = y0 - b->pad;
		for (size_t j = 0; j < b->nkid && !r->failed; j++) {
			const struct node *k = &b->kid[j];
			double ix = bx + b->pad, iw = bw - 2 * b->pad;
			if (!cond_ok(r, k))
				continue;
			switch (k->el) {
			case E_P: layout_p(r, k, ix, iw, 0); break;
			case E_LOGO: layout_logo(r, k, ix, iw); break;
			case E_RULE: layout_rule(r, k, ix, iw); break;
			case E_SPACE: r->y -= k->height; break;
			default: break;
			}
		}
		double h = y0 - r->y + b->pad;
		if (h > hmax)
			hmax = h;
		bx += bw + row->gap;
	}
	bx = x;
	for (size_t i = 0; i < row->nkid; i++) {
		const struct node *b = &row->kid[i];
		double bw = b->wkind == W_MM ? b->width : b->wkind == W_PCT ? w * b->width / 100 : star;
		if (b->fill != NO_COLOR)
			set_rect(r, res[2 * i], OP_FILL, bx, y0 - hmax, bw, hmax, b->fill, 0);
		if (b->border > 0)
			set_rect(r, res[2 * i + 1], OP_STROKE, bx, y0 - hmax, bw, hmax,
			    b->border_color != NO_COLOR ? b->border_color : 0xC9D1DBu, b->border);
		bx += bw + row->gap;
	}
	free(res);
	r->y = y0 - hmax - row->after;
	return r->failed ? -1 : 0;
}

/* ---- tables ------------------------------------------------------------ */

struct cell {
	char *s;            /* owned */
	char *sub;          /* owned; a second, smaller text below (the note) */
	enum align al;
};

#define CELL_PX 4.0     /* points of padding left and right in a cell */
#define CELL_PY 3.0     /* and above and below */

/* A row of cells at the cursor; returns its height.  The cursor moves
 * below it. */
static void
cells_row(struct rctx *r, const struct cell *c, const double *cx, const double *cw, size_t n,
    int bold, double size, uint32_t color, uint32_t fill, uint32_t rule, double rule_w)
{
	size_t res = reserve(r);
	double y0 = r->y, hmax = 0;
	struct lines l = {0};
	for (size_t i = 0; i < n; i++) {
		r->y = y0 - CELL_PY;
		wrap(r, c[i].s, bold, size, cw[i] - 2 * CELL_PX, &l);
		for (size_t j = 0; j < l.n; j++)
			put_tl(r, c[i].s, &l.v[j], cx[i] + CELL_PX, cw[i] - 2 * CELL_PX, c[i].al, bold,
			    size, color);
		if (c[i].sub && *c[i].sub) {
			double ss = size * 0.85;
			wrap(r, c[i].sub, 0, ss, cw[i] - 2 * CELL_PX, &l);
			for (size_t j = 0; j < l.n; j++)
				put_tl(r, c[i].sub, &l.v[j], cx[i] + CELL_PX, cw[i] - 2 * CELL_PX,
				    c[i].al, 0, ss, GRAY);
		}
		double h = y0 - r->y + CELL_PY;
		if (h > hmax)
			hmax = h;
	}
	if (hmax < size * LEADING + 2 * CELL_PY)
		hmax = size * LEADING + 2 * CELL_PY;
	double x0 = cx[0], x1 = cx[n - 1] + cw[n - 1];
	if (fill != NO_COLOR)
		set_rect(r, res, OP_FILL, x0, y0 - hmax, x1 - x0, hmax, fill, 0);
	if (rule != NO_COLOR)
		put_line(r, x0, y0 - hmax, x1, y0 - hmax, rule_w, rule, 0);
	r->y = y0 - hmax;
	free(l.v);
}

static void
cells_free(struct cell *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].s);
		free(c[i].sub);
		c[i].s = c[i].sub = NULL;
	}
}

static char *
money(const struct rctx *r, int64_t v, int symbol)
{
	char b[64];
	calc_money(v, r->doc->currency, r->doc->lang, b, sizeof(b));
	if (!symbol) {
		char *sp = strrchr(b, ' ');
		if (sp && !(sp[1] >= '0' && sp[1] <= '9'))
			*sp = '\0';
	}
	return xstrdup(b);
}

static char *
opt(const char *s)
{
	return clean(s ? s : "");
}

/* The text of field f of line i. */
static void
cell_text(struct rctx *r, const struct node *col, size_t i, struct cell *c)
{
	const struct pdf_line *ln = &r->doc->lines[i];
	const char *lang = r->doc->lang;
	char b[96];
	c->al = col->align;
	switch (col->field) {
	case F_POS:
		c->s = xasprintf("%zu", i + 1);
		break;
	case F_SKU: c->s = opt(ln->sku); break;
	case F_NAME:
		c->s = opt(ln->name);
		if (col->note_below && ln->note)
			c->sub = clean(ln->note);
		break;
	case F_QTY:
		fmt_milli(ln->qty_milli, lang, b, sizeof(b));
		c->s = xstrdup(b);
		break;
	case F_SIZE:
		if (ln->w_mm > 0 && ln->h_mm > 0)
			c->s = xasprintf("%" PRId64 " × %" PRId64, ln->w_mm, ln->h_mm);
		else
			c->s = xstrdup("");
		break;
	case F_BILLED:
		fmt_milli(ln->billed_milli, lang, b, sizeof(b));
		c->s = xstrdup(b);
		break;
	case F_UNIT: c->s = xstrdup(fmt_unit(ln->unit, lang)); break;
	case F_LIST_PRICE:
		c->s = ln->list_price < 0 ? xstrdup("–") : money(r, ln->list_price, col->symbol);
		break;
	case F_UNIT_PRICE: c->s = money(r, ln->unit_price, col->symbol); break;
	case F_DISCOUNT:
		if (ln->list_price <= 0 || ln->list_price > CALC_MAX_AMOUNT ||
		    ln->unit_price < 0 || ln->unit_price > CALC_MAX_AMOUNT) {
			c->s = xstrdup("–");
		} else {
			/* (list - used) / list in tenths of a percent, half away from 0 */
			int64_t d = (ln->list_price - ln->unit_price) * 1000;
			int64_t q = (d + (d >= 0 ? ln->list_price / 2 : -ln->list_price / 2)) /
			    ln->list_price;
			fmt_rate(q * 10, lang, b, sizeof(b));
			c->s = xstrdup(b);
		}
		break;
	case F_NET: c->s = money(r, ln->net, col->symbol); break;
	case F_VAT:
		if (r->doc->reverse_charge && r->t->has_rc_rate) {
			struct sbuf sb = {0};
			expand(r, &r->t->rc_rate, &sb);
			c->s = sb_steal(&sb);
		} else {
			fmt_rate(ln->vat_bp, lang, b, sizeof(b));
			c->s = xstrdup(b);
		}
		break;
	case F_NOTE: c->s = opt(ln->note); break;
	case F_MATERIAL: c->s = opt(ln->material); break;
	case F_FINISHING: c->s = opt(ln->finishing); break;
	default: c->s = xstrdup(""); break;
	}
}

/* Column positions of table t within [left, right]: fixed widths as
 * given, "*" columns share what is left. */
static void
table_columns(const struct rctx *r, const struct node *t, double *cx, double *cw)
{
	double fixed = 0, w = r->right - r->left;
	size_t stars = 0;
	for (size_t i = 0; i < t->nkid; i++) {
		if (t->kid[i].wkind == W_MM)
			fixed += t->kid[i].width;
		else
			stars++;
	}
	double star = stars ? (w - fixed) / (double)stars : 0, x = r->left;
	for (size_t i = 0; i < t->nkid; i++) {
		cx[i] = x;
		cw[i] = t->kid[i].wkind == W_MM ? t->kid[i].width : star;
		x += cw[i];
	}
}

static void
table_header(struct rctx *r, const struct node *t, const struct cell *head, const double *cx,
    const double *cw, double size)
{
	cells_row(r, head, cx, cw, t->nkid, 1, size,
	    t->header_color != NO_COLOR ? t->header_color : TEXT_COLOR,
	    t->header_fill != NO_COLOR ? t->header_fill : 0xE8EDF3u,
	    t->rule_color != NO_COLOR ? t->rule_color : 0x9AA5B1u, 0.8);
}

static void
table_line(struct rctx *r, const struct node *t, size_t i, struct cell *c, const double *cx,
    const double *cw, double size)
{
	for (size_t k = 0; k < t->nkid; k++)
		cell_text(r, &t->kid[k], i, &c[k]);
	cells_row(r, c, cx, cw, t->nkid, 0, size, TEXT_COLOR,
	    i % 2 && t->stripe != NO_COLOR ? t->stripe : NO_COLOR,
	    t->rule_color != NO_COLOR ? t->rule_color : 0xD5DBE3u, 0.4);
	cells_free(c, t->nkid);
}

/* The lines as a table: a row that does not fit goes to a new page,
 * where the header row is repeated above it. */
static int
layout_table(struct rctx *r, const struct node *t)
{
	size_t n = t->nkid;
	double size = t->size ? t->size : r->t->font_size;
	double *cx = xcalloc(n, sizeof(double)), *cw = xcalloc(n, sizeof(double));
	struct cell *head = xcalloc(n, sizeof(*head)), *c = xcalloc(n, sizeof(*c));
	table_columns(r, t, cx, cw);
	for (size_t k = 0; k < n && !r->failed; k++) {
		struct sbuf sb = {0};
		expand(r, &t->kid[k].text, &sb);
		head[k].s = sb_steal(&sb);
		head[k].al = t->kid[k].align;
	}
	size_t nl = r->doc->nlines;
	for (size_t i = 0; (i < nl || i == 0) && !r->failed; i++) {
		size_t mark = r->nops;
		double y = r->y;
		int fresh = r->fresh;
		if (i == 0)
			table_header(r, t, head, cx, cw, size);
		if (nl)
			table_line(r, t, i, c, cx, cw, size);
		if (r->y < r->bottom) {
			if (fresh) {
				rerr(r, t->line, "line %zu of the table is taller than a page", i + 1);
				break;
			}
			r->nops = mark;
			r->y = y;
			new_page(r);
			table_header(r, t, head, cx, cw, size);
			if (nl)
				table_line(r, t, i, c, cx, cw, size);
			if (r->y < r->bottom) {
				rerr(r, t->line, "line %zu of the table is taller than a page", i + 1);
				break;
			}
		}
		r->fresh = 0;
	}
	r->y -= t->after;
	cells_free(head, n);
	free(head);
	free(c);
	free(cx);
	free(cw);
	return r->failed ? -1 : 0;
}

/* VAT summary: a row per rate and the total, at the right margin. */
static int
layout_totals(struct rctx *r, const struct node *t)
{
	double size = t->size ? t->size : r->t->font_size;
	double w = t->wkind == W_PCT ? (r->right - r->left) * t->width / 100 : t->width;
	double cx[4], cw[4] = {w * 0.22, w * 0.26, w * 0.26, w * 0.26};
	cx[0] = r->right - w;
	for (int i = 1; i < 4; i++)
		cx[i] = cx[i - 1] + cw[i - 1];
	struct cell c[4] = {{0}};
	for (int i = 0; i < 4; i++) {
		struct sbuf sb = {0};
		expand(r, &t->titles[i], &sb);
		c[i].s = sb_steal(&sb);
		c[i].al = i ? AL_RIGHT : AL_LEFT;
	}
	uint32_t fill = t->header_fill != NO_COLOR ? t->header_fill : 0xE8EDF3u;
	cells_row(r, c, cx, cw, 4, 1, size * 0.9, TEXT_COLOR, fill, 0x9AA5B1u, 0.8);
	cells_free(c, 4);
	const struct pdf_doc *d = r->doc;
	for (size_t k = 0; k < d->nrates && !r->failed; k++) {
		char b[40];
		if (d->reverse_charge && r->t->has_rc_rate) {
			struct sbuf sb = {0};
			expand(r, &r->t->rc_rate, &sb);
			c[0].s = sb_steal(&sb);
		} else {
			fmt_rate(d->rates[k].vat_bp, d->lang, b, sizeof(b));
			c[0].s = xstrdup(b);
		}
		c[1].s = money(r, d->rates[k].net, 1);
		c[2].s = money(r, d->rates[k].vat, 1);
		c[3].s = money(r, d->rates[k].gross, 1);
		cells_row(r, c, cx, cw, 4, 0, size, TEXT_COLOR, NO_COLOR, 0xD5DBE3u, 0.4);
		cells_free(c, 4);
	}
	struct sbuf sb = {0};
	expand(r, &t->titles[4], &sb);
	c[0].s = sb_steal(&sb);
	c[1].s = money(r, d->net, 1);
	c[2].s = money(r, d->vat, 1);
	c[3].s = money(r, d->gross, 1);
	cells_row(r, c, cx, cw, 4, 1, size, TEXT_COLOR, NO_COLOR, 0x1F2328u, 0.8);
	cells_free(c, 4);
	r->y -= t->after;
	return r->failed ? -1 : 0;
}

/* Signature blocks side by side: room to sign, a dotted line, the label
 * and the name under it. */
static int
layout_signatures(struct rctx *r, const struct node *s)
{
	size_t n = s->nkid;
	double w = r->right - r->left;
	double bw = (w - s->gap * (double)(n - 1)) / (double)n;
	if (bw > mm(75))
		bw = mm(75);
	double gap = n > 1 ? (w - bw * (double)n) / (double)(n - 1) : 0;
	double y0 = r->y - s->before - s->height, ymin = y0;
	double size = r->t->font_size - 1;
	struct lines l = {0};
	for (size_t i = 0; i < n && !r->failed; i++) {
		const struct node *k = &s->kid[i];
		double x = n == 1 ? r->right - bw : r->left + (bw + gap) * (double)i;
		put_line(r, x, y0, x + bw, y0, 0.6, 0x6B7280u, 1);
		r->y = y0 - 2;
		struct sbuf a = {0}, b = {0};
		if (expand(r, &k->text, &a) == 0 && expand(r, &k->name, &b) == 0) {
			wrap(r, a.s, 0, size, bw, &l);
			for (size_t j = 0; j < l.n; j++)
				put_tl(r, a.s, &l.v[j], x, bw, AL_CENTER, 0, size, GRAY);
			wrap(r, b.s, 0, size, bw, &l);
			for (size_t j = 0; j < l.n; j++)
				put_tl(r, b.s, &l.v[j], x, bw, AL_CENTER, 0, size, TEXT_COLOR);
		}
		sb_free(&a);
		sb_free(&b);
		if (r->y < ymin)
			ymin = r->y;
	}
	free(l.v);
	r->y = ymin - s->after;
	return r->failed ? -1 : 0;
}

/* ---- flow ---------------------------------------------------------------- */

static int layout_fixed(struct rctx *r, const struct node *sec);

static void
new_page(struct rctx *r)
{
	if (r->page + 1 >= PDF_MAX_PAGES) {
		rerr(r, 0, "the document would have more than %d pages", PDF_MAX_PAGES);
		r->y = r->top;
		return;
	}
	r->page++;
	r->y = r->top;
	if (r->t->running) {
		layout_fixed(r, r->t->running);
		r->y -= mm(2);
	}
	r->fresh = 1;
}

/* Header, running head, footer: everything where it falls, no page
 * breaks. */
static int
layout_fixed(struct rctx *r, const struct node *sec)
{
	double w = r->right - r->left;
	for (size_t i = 0; i < sec->nkid && !r->failed; i++) {
		const struct node *k = &sec->kid[i];
		if (!cond_ok(r, k))
			continue;
		switch (k->el) {
		case E_P: layout_p(r, k, r->left, w, 0); break;
		case E_ROW: layout_row(r, k, r->left, w); break;
		case E_RULE: layout_rule(r, k, r->left, w); break;
		case E_SPACE: r->y -= k->height; break;
		default: break;
		}
	}
	return r->failed ? -1 : 0;
}

/* A block that must not be split: laid out at the cursor, and laid out
 * again on a new page when it ran past the bottom. */
static int
layout_block(struct rctx *r, const struct node *k)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t mark = r->nops;
		double y = r->y;
		double w = r->right - r->left;
		switch (k->el) {
		case E_ROW: layout_row(r, k, r->left, w); break;
		case E_RULE: layout_rule(r, k, r->left, w); break;
		case E_TOTALS: layout_totals(r, k); break;
		case E_SIGNATURES: layout_signatures(r, k); break;
		default: break;
		}
		if (r->failed)
			return -1;
		if (r->y - 0.01 >= r->bottom || r->fresh)
			break;
		r->nops = mark;
		r->y = y;
		new_page(r);
	}
	if (r->y < r->bottom - 0.01) {
		rerr(r, k->line, "<%s> is taller than a page", el_names[k->el]);
		return -1;
	}
	r->fresh = 0;
	return 0;
}

static int
layout_body(struct rctx *r, const struct node *sec)
{
	for (size_t i = 0; i < sec->nkid && !r->failed; i++) {
		const struct node *k = &sec->kid[i];
		if (!cond_ok(r, k))
			continue;
		switch (k->el) {
		case E_P:
			layout_p(r, k, r->left, r->right - r->left, 1);
			break;
		case E_SPACE:
			if (!r->fresh) {
				r->y -= k->height;
				if (r->y < r->bottom)
					new_page(r);
			}
			break;
		case E_PAGE_BREAK:
			if (!r->fresh)
				new_page(r);
			break;
		case E_TABLE:
			layout_table(r, k);
			break;
		default:
			layout_block(r, k);
			break;
		}
	}
	return r->failed ? -1 : 0;
}

/* ---- values -------------------------------------------------------------- */

/* A string of the document: at most PDF_MAX_VALUE bytes of UTF-8. */
static int
check_str(struct rctx *r, const char *what, const char *s)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, PDF_MAX_VALUE + 1);
	if (n > PDF_MAX_VALUE) {
		rerr(r, 0, "%s: longer than %d bytes", what, PDF_MAX_VALUE);
		return -1;
	}
	if (!utf8_valid(s, n)) {
		rerr(r, 0, "%s: not valid UTF-8", what);
		return -1;
	}
	return 0;
}

static void
set_val(struct rctx *r, int ph, const char *s)
{
	if (check_str(r, ph_name(ph), s) < 0)
		return;
	free(r->own[ph]);
	r->own[ph] = clean(s ? s : "");
	r->val[ph] = r->own[ph];
}

static int
doc_values(struct rctx *r)
{
	const struct pdf_doc *d = r->doc;
	const struct cfg_company *co = &r->cfg->company;
	char b[64];

	set_val(r, PH_NUMBER, d->number);
	time_t t = (time_t)d->issued;
	struct tm tm;
	if (!localtime_r(&t, &tm)) {
		rerr(r, 0, "issued: %" PRId64 " is not a date", d->issued);
		return -1;
	}
	bfmt(b, sizeof(b), "%02d.%02d.%04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
	set_val(r, PH_ISSUED, b);
	calc_money(d->net, d->currency, d->lang, b, sizeof(b));
	set_val(r, PH_NET, b);
	calc_money(d->vat, d->currency, d->lang, b, sizeof(b));
	set_val(r, PH_VAT, b);
	calc_money(d->gross, d->currency, d->lang, b, sizeof(b));
	set_val(r, PH_GROSS, b);
	char *w = pdf_amount_words(d->gross, d->currency, d->lang);
	set_val(r, PH_AMOUNT_WORDS, w);
	free(w);
	set_val(r, PH_CURRENCY, d->currency);
	set_val(r, PH_COMPANY_NAME, co->name);
	set_val(r, PH_COMPANY_ADDRESS, co->address);
	set_val(r, PH_COMPANY_CITY, co->city);
	set_val(r, PH_COMPANY_COUNTRY, co->country);
	set_val(r, PH_COMPANY_TAX_ID, co->tax_id);
	set_val(r, PH_COMPANY_BANK_ACCOUNT, co->bank_account);
	set_val(r, PH_COMPANY_PHONE, co->phone);
	set_val(r, PH_COMPANY_EMAIL, co->email);
	set_val(r, PH_COMPANY_WWW, co->www);
	set_val(r, PH_REVERSE_CHARGE, d->reverse_charge ? "1" : "");
	set_val(r, PH_HAS_LOGO, co->logo ? "1" : "");
	for (size_t i = 0; i < d->nvars && !r->failed; i++) {
		const char *name = d->vars[i].name ? d->vars[i].name : "";
		int ph = ph_lookup(name, strlen(name));
		if (ph < PH__BUILTIN) {
			rerr(r, 0, "value \"%.40s\": not a name templates know (see pdf.h)", name);
			return -1;
		}
		if (r->val[ph]) {
			rerr(r, 0, "value \"%s\" given twice", name);
			return -1;
		}
		if (!d->vars[i].value) {
			rerr(r, 0, "value \"%s\" is NULL", name);
			return -1;
		}
		set_val(r, ph, d->vars[i].value);
	}
	for (size_t i = 0; i < d->nlines && !r->failed; i++) {
		const struct pdf_line *l = &d->lines[i];
		const char *s[] = {l->sku, l->name, l->unit, l->note, l->material, l->finishing};
		for (size_t k = 0; k < ARRAY_LEN(s); k++) {
			char what[32];
			bfmt(what, sizeof(what), "line %zu", i + 1);
			if (check_str(r, what, s[k]) < 0)
				return -1;
		}
	}
	return r->failed ? -1 : 0;
}

static int
doc_check(struct rctx *r)
{
	const struct pdf_doc *d = r->doc;
	if (!d->kind || !*d->kind || strlen(d->kind) > 32 ||
	    strspn(d->kind, "abcdefghijklmnopqrstuvwxyz-") != strlen(d->kind)) {
		rerr(r, 0, "document kind \"%.40s\" is not a template name", d->kind ? d->kind : "");
		return -1;
	}
	if (!d->lang || (strcmp(d->lang, "pl") != 0 && strcmp(d->lang, "de") != 0)) {
		rerr(r, 0, "language \"%.8s\" is neither pl nor de", d->lang ? d->lang : "");
		return -1;
	}
	if (!d->currency || (strcmp(d->currency, "PLN") != 0 && strcmp(d->currency, "EUR") != 0)) {
		rerr(r, 0, "currency \"%.8s\" is neither PLN nor EUR",
		    d->currency ? d->currency : "");
		return -1;
	}
	if (!d->number || !*d->number) {
		rerr(r, 0, "the document has no number");
		return -1;
	}
	if (d->nlines > PDF_MAX_LINES || (d->nlines && !d->lines)) {
		rerr(r, 0, "%zu lines: at most %d", d->nlines, PDF_MAX_LINES);
		return -1;
	}
	if (d->nvars > PDF_MAX_VARS || (d->nvars && !d->vars)) {
		rerr(r, 0, "%zu values: at most %d", d->nvars, PDF_MAX_VARS);
		return -1;
	}
	if (d->nrates > 16 || (d->nrates && !d->rates)) {
		rerr(r, 0, "%zu VAT rates: at most 16", d->nrates);
		return -1;
	}
	return 0;
}

/* ---- libharu --------------------------------------------------------------- */

static void
hpdf_error(HPDF_STATUS code, HPDF_STATUS detail, void *data)
{
	struct rctx *r = data;
	if (!r->herr) {
		r->herr = code;
		r->hdetail = detail;
	}
}

/* Document information strings are PDFDocEncoding, which is Latin-1 for
 * letters: Polish letters lose their marks, anything else becomes '?'. */
static char *
info_text(const char *s)
{
	static const struct { unsigned cp; char c; } fold[] = {
		{0x104, 'A'}, {0x105, 'a'}, {0x106, 'C'}, {0x107, 'c'}, {0x118, 'E'}, {0x119, 'e'},
		{0x141, 'L'}, {0x142, 'l'}, {0x143, 'N'}, {0x144, 'n'}, {0x15A, 'S'}, {0x15B, 's'},
		{0x179, 'Z'}, {0x17A, 'z'}, {0x17B, 'Z'}, {0x17C, 'z'}, {0x2013, '-'},
		{0x2014, '-'}, {0x201E, '"'}, {0x201D, '"'}, {0x201C, '"'},
	};
	struct sbuf sb = {0};
	sb_adds(&sb, "");
	for (const char *p = s; *p && sb.len < 200;) {
		unsigned c = utf8_next(&p);
		char ch = '?';
		if ((c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c <= 0xFF))
			ch = (char)c;
		for (size_t i = 0; i < ARRAY_LEN(fold); i++)
			if (fold[i].cp == c)
				ch = fold[i].c;
		if (c == '\n')
			ch = ' ';
		sb_addc(&sb, ch);
	}
	return sb_steal(&sb);
}

struct pstate {
	int in_text, bold, dash;
	double size, lw;
	uint32_t fill, stroke;
};

static void
set_fill(HPDF_Page pg, struct pstate *st, uint32_t c)
{
	if (st->fill == c)
		return;
	HPDF_Page_SetRGBFill(pg, (HPDF_REAL)((c >> 16) & 0xFF) / 255,
	    (HPDF_REAL)((c >> 8) & 0xFF) / 255, (HPDF_REAL)(c & 0xFF) / 255);
	st->fill = c;
}

static void
set_stroke(HPDF_Page pg, struct pstate *st, uint32_t c, double lw, int dash)
{
	if (st->stroke != c) {
		HPDF_Page_SetRGBStroke(pg, (HPDF_REAL)((c >> 16) & 0xFF) / 255,
		    (HPDF_REAL)((c >> 8) & 0xFF) / 255, (HPDF_REAL)(c & 0xFF) / 255);
		st->stroke = c;
	}
	if (st->lw != lw) {
		HPDF_Page_SetLineWidth(pg, (HPDF_REAL)lw);
		st->lw = lw;
	}
	if (st->dash != dash) {
		static const HPDF_UINT16 dots[] = {1, 2};
		HPDF_Page_SetDash(pg, dash ? dots : NULL, dash ? 2 : 0, 0);
		st->dash = dash;
	}
}

/* Open libharu and start r's document: compressed, UTF-8 text.  0, or -1
 * with the reason in r's errors. */
static int
doc_new(struct rctx *r)
{
	char herr[300];
	if (lazyharu_load(herr, sizeof herr) < 0) {
		rerr(r, 0, "%s", herr);
		return -1;
	}
	r->pdf = HPDF_New(hpdf_error, r);
	if (!r->pdf) {
		rerr(r, 0, "libharu: cannot create a document");
		return -1;
	}
	HPDF_SetCompressionMode(r->pdf, HPDF_COMP_ALL);
	HPDF_UseUTFEncodings(r->pdf);
	return 0;
}

/* Plays the display list into r->pdf and saves it to *out. */
static int
emit(struct rctx *r, char **out, size_t *outlen)
{
	int npages = r->page + 1;
	HPDF_Font font[2] = {NULL, NULL};
	for (int f = 0; f < 2; f++) {
		if (f == FONT_BOLD && !r->bold_used)
			continue;
		const char *path = r->need_full || !faces[f].sub_path[0] ? faces[f].path :
		    faces[f].sub_path;
		const char *name = HPDF_LoadTTFontFromFile(r->pdf, path, HPDF_TRUE);
		font[f] = name ? HPDF_GetFont(r->pdf, name, "UTF-8") : NULL;
		if (!font[f]) {
			rerr(r, 0, "font %s: libharu cannot use it (error 0x%04X)", faces[f].path,
			    (unsigned)r->herr);
			return -1;
		}
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): HPDF_Page is a pointer type */
	HPDF_Page *pg = xcalloc((size_t)npages, sizeof(*pg));
	struct pstate *st = xcalloc((size_t)npages, sizeof(*st));
	for (int i = 0; i < npages; i++) {
		pg[i] = HPDF_AddPage(r->pdf);
		if (pg[i])
			HPDF_Page_SetSize(pg[i], HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
		st[i] = (struct pstate){.bold = -1, .size = -1, .lw = -1, .fill = NO_COLOR - 1,
		    .stroke = NO_COLOR - 1, .dash = 0};
		st[i].fill = 0;   /* PDF defaults: black fill and stroke, width 1 */
		st[i].stroke = 0;
		st[i].lw = 1;
	}
	for (size_t i = 0; i < r->nops && !r->herr; i++) {
		const struct op *o = &r->ops[i];
		if (o->k == OP_NONE || o->page >= npages)
			continue;
		HPDF_Page p = pg[o->page];
		struct pstate *s = &st[o->page];
		if (o->k != OP_TEXT && s->in_text) {
			HPDF_Page_EndText(p);
			s->in_text = 0;
		}
		switch (o->k) {
		case OP_TEXT:
			if (!s->in_text) {
				HPDF_Page_BeginText(p);
				s->in_text = 1;
			}
			if (s->bold != o->bold || s->size != o->size) {
				HPDF_Page_SetFontAndSize(p, font[o->bold], (HPDF_REAL)o->size);
				s->bold = o->bold;
				s->size = o->size;
			}
			set_fill(p, s, o->color);
			HPDF_Page_TextOut(p, (HPDF_REAL)o->x, (HPDF_REAL)o->y, r->strs.s + o->str);
			break;
		case OP_LINE:
			set_stroke(p, s, o->color, o->size, o->dash);
			HPDF_Page_MoveTo(p, (HPDF_REAL)o->x, (HPDF_REAL)o->y);
			HPDF_Page_LineTo(p, (HPDF_REAL)o->w, (HPDF_REAL)o->h);
			HPDF_Page_Stroke(p);
			break;
		case OP_FILL:
			set_fill(p, s, o->color);
			HPDF_Page_Rectangle(p, (HPDF_REAL)o->x, (HPDF_REAL)o->y, (HPDF_REAL)o->w,
			    (HPDF_REAL)o->h);
			HPDF_Page_Fill(p);
			break;
		case OP_STROKE:
			set_stroke(p, s, o->color, o->size, 0);
			HPDF_Page_Rectangle(p, (HPDF_REAL)o->x, (HPDF_REAL)o->y, (HPDF_REAL)o->w,
			    (HPDF_REAL)o->h);
			HPDF_Page_Stroke(p);
			break;
		case OP_IMAGE:
			HPDF_Page_DrawImage(p, r->logo, (HPDF_REAL)o->x, (HPDF_REAL)o->y,
			    (HPDF_REAL)o->w, (HPDF_REAL)o->h);
			break;
		case OP_POLY:
			set_stroke(p, s, o->color, o->size, 0);
			HPDF_Page_SetLineJoin(p, HPDF_ROUND_JOIN);
			HPDF_Page_SetLineCap(p, HPDF_ROUND_END);
			for (size_t k = 0; k < o->npts; k++) {
				HPDF_REAL px = (HPDF_REAL)r->pts[2 * (o->pts + k)];
				HPDF_REAL py = (HPDF_REAL)r->pts[2 * (o->pts + k) + 1];
				if (k == 0)
					HPDF_Page_MoveTo(p, px, py);
				else
					HPDF_Page_LineTo(p, px, py);
			}
			HPDF_Page_Stroke(p);
			break;
		case OP_DOT:
			set_fill(p, s, o->color);
			HPDF_Page_Circle(p, (HPDF_REAL)o->x, (HPDF_REAL)o->y, (HPDF_REAL)o->w);
			HPDF_Page_Fill(p);
			break;
		default:
			break;
		}
	}
	for (int i = 0; i < npages; i++)
		if (st[i].in_text)
			HPDF_Page_EndText(pg[i]);
	free(pg);
	free(st);

	struct sbuf sb = {0};
	if (r->t)
		expand(r, &r->t->title, &sb);
	else
		sb_adds(&sb, r->title ? r->title : "");
	char *title = info_text(sb_str(&sb));
	sb_free(&sb);
	if (*title)
		HPDF_SetInfoAttr(r->pdf, HPDF_INFO_TITLE, title);
	free(title);
	char *author = info_text(r->val[PH_COMPANY_NAME]);
	HPDF_SetInfoAttr(r->pdf, HPDF_INFO_AUTHOR, author);
	free(author);
	HPDF_SetInfoAttr(r->pdf, HPDF_INFO_CREATOR, "inkflow");
	time_t t = (time_t)r->doc->issued;
	struct tm tm;
	if (gmtime_r(&t, &tm)) {
		HPDF_Date dt = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, 'Z', 0, 0};
		HPDF_SetInfoDateAttr(r->pdf, HPDF_INFO_CREATION_DATE, dt);
	}
	if (r->herr || r->failed) {
		rerr(r, 0, "libharu error 0x%04X (detail %u)", (unsigned)r->herr,
		    (unsigned)r->hdetail);
		return -1;
	}
	if (HPDF_SaveToStream(r->pdf) != HPDF_OK) {
		rerr(r, 0, "libharu cannot write the PDF (error 0x%04X)", (unsigned)r->herr);
		return -1;
	}
	HPDF_UINT32 size = HPDF_GetStreamSize(r->pdf), got = 0;
	char *buf = xmalloc(size ? size : 1);
	while (got < size) {
		HPDF_UINT32 n = size - got;
		HPDF_STATUS s = HPDF_ReadFromStream(r->pdf, (HPDF_BYTE *)buf + got, &n);
		got += n;
		if ((s != HPDF_OK && s != HPDF_STREAM_EOF) || n == 0)
			break;
	}
	if (got != size) {
		free(buf);
		rerr(r, 0, "libharu: the PDF came out short");
		return -1;
	}
	*out = buf;
	*outlen = size;
	return 0;
}

/* ---- the API --------------------------------------------------------------- */

static char *
template_path(const char *dir, const char *lang, const char *kind)
{
	return xasprintf("%s/%s/%s.xml", dir, lang, kind);
}

int
pdf_render(const struct config *cfg, const char *templates_dir, const struct pdf_doc *doc,
    char **out, size_t *len, char *err, size_t errlen)
{
	struct rctx r = {.cfg = cfg, .doc = doc, .err = err, .errlen = errlen};
	int rc = -1;
	char *path = NULL;

	if (errlen)
		err[0] = '\0';
	*out = NULL;
	*len = 0;
	if (!cfg || !templates_dir || !doc) {
		rerr(&r, 0, "pdf_render: no configuration, template directory or document");
		return -1;
	}
	if (doc_check(&r) < 0)
		return -1;
	pthread_once(&faces_once, faces_init);
	for (int f = 0; f < 2; f++)
		if (faces[f].err[0]) {
			rerr(&r, 0, "%s", faces[f].err);
			return -1;
		}

	path = template_path(templates_dir, doc->lang, doc->kind);
	struct errlist e = {0};
	struct tmpl *t = tmpl_load(path, &e);
	if (!t) {
		if (e.n > 1)
			bfmt(err, errlen, "%s (and %zu more)", e.v[0], e.n - 1);
		else
			bfmt(err, errlen, "%s", e.n ? e.v[0] : "cannot load the template");
		errlist_free(&e);
		free(path);
		return -1;
	}
	r.t = t;
	if (doc_values(&r) < 0)
		goto out;

	if (doc_new(&r) < 0)
		goto out;

	r.left = t->ml;
	r.right = PAGE_W - t->mr;
	r.top = PAGE_H - t->mt;
	/* The footer's height, measured with the widest page numbers. */
	double fh = 0;
	if (t->footer) {
		r.val[PH_PAGE] = r.val[PH_PAGES] = "888";
		r.y = 0;
		layout_fixed(&r, t->footer);
		fh = -r.y;
		r.nops = 0;
		r.strs.len = 0;
	}
	r.bottom = t->mb + (fh > 0 ? fh + mm(4) : 0);
	r.page = 0;
	r.y = r.top;
	if (t->header)
		layout_fixed(&r, t->header);
	if (r.y < r.bottom && !r.failed) {
		/* without a header, only the footer can have used up the page */
		if (t->header)
			rerr(&r, t->header->line, "<header> is taller than the page");
		else
			rerr(&r, t->footer ? t->footer->line : 0, "<footer> is taller than the page");
	}
	r.fresh = 1;
	if (!r.failed)
		layout_body(&r, t->body);
	if (r.failed)
		goto out;
	if (t->footer) {
		char pn[16], pt[16];
		bfmt(pt, sizeof(pt), "%d", r.page + 1);
		r.val[PH_PAGES] = pt;
		r.val[PH_PAGE] = pn;
		int last = r.page;
		for (int p = 0; p <= last && !r.failed; p++) {
			bfmt(pn, sizeof(pn), "%d", p + 1);
			r.page = p;
			r.y = t->mb + fh;
			layout_fixed(&r, t->footer);
		}
		r.page = last;
		r.val[PH_PAGE] = r.val[PH_PAGES] = NULL;
	}
	if (r.failed)
		goto out;
	rc = emit(&r, out, len);
out:
	if (r.pdf)
		HPDF_Free(r.pdf);
	for (int i = 0; i < PH__COUNT; i++)
		free(r.own[i]);
	free(r.ops);
	sb_free(&r.strs);
	tmpl_free(t);
	free(path);
	if (rc == 0)
		log_debug("pdf_render kind=%s lang=%s pages=%d bytes=%zu subset=%s", doc->kind,
		    doc->lang, r.page + 1, *len, r.need_full ? "no" : "yes");
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
pdf_check_templates(const char *templates_dir,
    void (*report)(void *ctx, const char *msg), void *ctx)
{
	static const char *const langs[] = {"pl", "de"};
	static const char *const kinds[] = {"offer", "calculation", "order", "production",
	    "delivery", "complaint"};
	size_t problems = 0;
	for (size_t l = 0; l < ARRAY_LEN(langs); l++) {
		char *dir = xasprintf("%s/%s", templates_dir, langs[l]);
		DIR *d = opendir(dir);
		char **names = NULL;
		size_t n = 0;
		if (!d) {
			char *m = xasprintf("%s: cannot read: %s", dir, strerror(errno));
			report(ctx, m);
			free(m);
			free(dir);
			problems++;
			continue;
		}
		for (struct dirent *de; (de = readdir(d));) {
			size_t nl = strlen(de->d_name);
			if (nl > 4 && strcmp(de->d_name + nl - 4, ".xml") == 0 && de->d_name[0] != '.') {
				names = xrealloc(names, (n + 1) * sizeof(*names));
				names[n++] = xstrdup(de->d_name);
			}
		}
		closedir(d);
		if (n)
			qsort(names, n, sizeof(*names), cmp_str);
		for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
			char *want = xasprintf("%s.xml", kinds[k]);
			int found = 0;
			for (size_t i = 0; i < n; i++)
				found |= strcmp(names[i], want) == 0;
			if (!found) {
				char *m = xasprintf("%s/%s: missing (the %s document)", dir, want,
				    kinds[k]);
				report(ctx, m);
				free(m);
				problems++;
			}
			free(want);
		}
		for (size_t i = 0; i < n; i++) {
			char *path = xasprintf("%s/%s", dir, names[i]);
			struct errlist e = {0};
			struct tmpl *t = tmpl_load(path, &e);
			for (size_t j = 0; j < e.n; j++)
				report(ctx, e.v[j]);
			problems += e.n;
			errlist_free(&e);
			tmpl_free(t);
			free(path);
			free(names[i]);
		}
		free(names);
		free(dir);
	}
	return problems;
}

/* ---- charts ---------------------------------------------------------------- */

/* The management report is laid out in code, not from a template: a title,
 * a row of key figures and charts, each chart laid out at the cursor and
 * laid out again on a new page when it ran past the bottom (as
 * layout_block does), then played by emit like any document. */

#define CH_MARGIN mm(15)
#define CH_GRID   0xE3E7ECu
#define CH_AXIS   0x8A94A3u
#define CH_TILE   0xF2F5F9u
#define CH_ACCENT 0x1F3A5Fu
#define CH_ROW    20.0    /* hbar: points per bar, up to 10 bars; 14 for 30 */
#define CH_PLOT_V 125.0   /* vbar: height of the plot */
#define CH_PLOT_L 140.0   /* line: height of the plot */

/* Bars by kind, lines by series. */
static const uint32_t ch_palette[PDF_CHART_MAX_SERIES] = {
	0x2F6DB5u, 0xE07A2Eu, 0x2A9D8Fu, 0x8E5EA2u,
};

/* One line of text fit for the page: clean() with line breaks as spaces.
 * Caller frees. */
static char *
ch_line(const char *s)
{
	char *c = clean(s ? s : "");
	for (char *p = c; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return c;
}

/* s as one line of at most maxw points, cut with "…" when wider.  Caller
 * frees. */
static char *
ch_fit(struct rctx *r, const char *s, int bold, double size, double maxw)
{
	char *c = ch_line(s);
	size_t n = strlen(c);
	if (text_width(r, c, n, bold, size) <= maxw)
		return c;
	static const char ell[] = "\xE2\x80\xA6";
	double ew = text_width(r, ell, 3, bold, size);
	while (n > 0) {
		do
			n--;
		while (n > 0 && ((unsigned char)c[n] & 0xC0) == 0x80);
		if (text_width(r, c, n, bold, size) + ew <= maxw)
			break;
	}
	while (n > 0 && c[n - 1] == ' ')
		n--;
	struct sbuf sb = {0};
	sb_add(&sb, c, n);
	sb_adds(&sb, ell);
	free(c);
	return sb_steal(&sb);
}

/* s as one line with its baseline at y, aligned on x.  Returns its width. */
static double
ch_put(struct rctx *r, double x, double y, const char *s, int bold, double size, uint32_t color,
    enum align al)
{
	char *c = ch_line(s);
	size_t n = strlen(c);
	double w = text_width(r, c, n, bold, size);
	put_text(r, al == AL_RIGHT ? x - w : al == AL_CENTER ? x - w / 2 : x, y, c, n, bold, size,
	    color);
	free(c);
	return w;
}

static double
ch_width(struct rctx *r, const char *s, int bold, double size)
{
	char *c = ch_line(s);
	double w = text_width(r, c, strlen(c), bold, size);
	free(c);
	return w;
}

static void
ch_rect(struct rctx *r, double x, double y, double w, double h, uint32_t color)
{
	if (w <= 0 || h <= 0)
		return;
	struct op *o = op_add(r, OP_FILL);
	o->x = x;
	o->y = y;
	o->w = w;
	o->h = h;
	o->color = color;
}

static void
ch_dot(struct rctx *r, double x, double y, double radius, uint32_t color)
{
	struct op *o = op_add(r, OP_DOT);
	o->x = x;
	o->y = y;
	o->w = radius;
	o->color = color;
}

/* A polyline through n points xy[0..2n). */
static void
ch_poly(struct rctx *r, const double *xy, size_t n, double lw, uint32_t color)
{
	if (n < 2)
		return;
	if (r->npts + n > r->cappts) {
		while (r->npts + n > r->cappts)
			r->cappts = r->cappts ? 2 * r->cappts : 256;
		r->pts = xrealloc(r->pts, 2 * r->cappts * sizeof(*r->pts));
	}
	struct op *o = op_add(r, OP_POLY);
	o->pts = r->npts;
	o->npts = n;
	o->size = lw;
	o->color = color;
	memcpy(r->pts + 2 * r->npts, xy, 2 * n * sizeof(*xy));
	r->npts += n;
}

/* A value for people: a count "1 234" (pl) / "1.234" (de), or money with
 * calc_money. */
static void
ch_value(const struct pdf_report *rep, const struct pdf_chart *c, int64_t v, char *out,
    size_t size)
{
	if (c->currency)
		calc_money(v, c->currency, rep->lang, out, size);
	else
		fmt_milli(v * 1000, rep->lang, out, size);
}

/* The value axis: 0 to max in n steps of a round size (1, 2 or 5 times a
 * power of ten; whole units of money), at most `most` steps. */
struct ch_axis {
	int64_t max, step;
	int n;
};

static void
ch_axis(int64_t vmax, int money, int most, struct ch_axis *a)
{
	int64_t unit = money ? 100 : 1;
	int64_t u = (vmax + unit - 1) / unit;
	if (u < 1)
		u = 1;
	int64_t want = (u + most - 1) / most, step = 1;
	for (int64_t p = 1;; p *= 10) {
		if (p >= want) {
			step = p;
			break;
		}
		if (2 * p >= want) {
			step = 2 * p;
			break;
		}
		if (5 * p >= want) {
			step = 5 * p;
			break;
		}
	}
	a->n = (int)((u + step - 1) / step);
	a->step = step * unit;
	a->max = a->n * a->step;
}

/* A tick of the value axis: whole units ("20 000 zł", "1.500"). */
static void
ch_tick(const struct pdf_report *rep, const struct pdf_chart *c, int64_t v, char *out,
    size_t size)
{
	ch_value(rep, c, v, out, size);
	char *dec = c->currency ? strstr(out, ",00") : NULL;
	if (dec)
		memmove(dec, dec + 3, strlen(dec + 3) + 1);
}

static int64_t
ch_max(const struct pdf_chart *c)
{
	int64_t m = 0;
	for (size_t s = 0; s < c->nseries; s++)
		for (size_t i = 0; i < c->n; i++)
			if (c->series[s].values[i] > m)
				m = c->series[s].values[i];
	return m;
}

static const char *
ch_no_data(const struct pdf_report *rep)
{
	return strcmp(rep->lang, "de") == 0 ? "keine Daten" : "brak danych";
}

/* The chart's title, its note, and for a line chart the legend at the
 * right of the title. */
static void
ch_title(struct rctx *r, const struct pdf_chart *c, double x, double w)
{
	double y = r->y, legend = 0;
	if (c->kind == PDF_CHART_LINE) {
		for (size_t s = 0; s < c->nseries; s++)
			legend += 18 + ch_width(r, c->series[s].name, 0, 8) + (s ? 12 : 0);
		double lx = x + w - legend;
		for (size_t s = 0; s < c->nseries; s++) {
			if (s)
				lx += 12;
			uint32_t col = ch_palette[s % PDF_CHART_MAX_SERIES];
			double seg[4] = {lx, y - 7.5, lx + 14, y - 7.5};
			ch_poly(r, seg, 2, 1.8, col);
			ch_dot(r, lx + 7, y - 7.5, 2.2, col);
			lx += 18;
			lx += ch_put(r, lx, y - 10.3, c->series[s].name, 0, 8, TEXT_COLOR, AL_LEFT);
		}
	}
	double tw = w - (legend > 0 ? legend + 16 : 0);
	char *t = ch_fit(r, c->title, 1, 11.5, tw > 60 ? tw : 60);
	put_text(r, x, y - 11, t, strlen(t), 1, 11.5, TEXT_COLOR);
	free(t);
	y -= 16;
	if (c->note && *c->note) {
		t = ch_fit(r, c->note, 0, 8, w);
		put_text(r, x, y - 8.5, t, strlen(t), 0, 8, GRAY);
		free(t);
		y -= 12;
	}
	r->y = y - 8;
}

/* Widest tick label of the value axis. */
static double
ch_tick_width(struct rctx *r, const struct pdf_report *rep, const struct pdf_chart *c,
    const struct ch_axis *ax, double size)
{
	double m = 0;
	char b[64];
	for (int k = 0; k <= ax->n; k++) {
		ch_tick(rep, c, ax->step * k, b, sizeof(b));
		double w = text_width(r, b, strlen(b), 0, size);
		if (w > m)
			m = w;
	}
	return m;
}

/* Horizontal grid lines and their tick labels left of px, for plots with
 * the value axis upwards from base. */
static void
ch_hgrid(struct rctx *r, const struct pdf_report *rep, const struct pdf_chart *c,
    const struct ch_axis *ax, double px, double pw, double base, double ph)
{
	char b[64];
	for (int k = 0; k <= ax->n; k++) {
		double gy = base + ph * k / ax->n;
		if (k)
			put_line(r, px, gy, px + pw, gy, 0.5, CH_GRID, 0);
		ch_tick(rep, c, ax->step * k, b, sizeof(b));
		ch_put(r, px - 5, gy - 2.5, b, 0, 7, GRAY, AL_RIGHT);
	}
}

static void
ch_hbar(struct rctx *r, const struct pdf_report *rep, const struct pdf_chart *c, double x,
    double w)
{
	const int64_t *v = c->series[0].values;
	struct ch_axis ax;
	ch_axis(ch_max(c), c->currency != NULL, 5, &ax);
	char b[64];
	double lw = 0, vw = 0;
	for (size_t i = 0; i < c->n; i++) {
		double t = ch_width(r, c->labels[i], 0, 8.5);
		if (t > lw)
			lw = t;
		ch_value(rep, c, v[i], b, sizeof(b));
		t = text_width(r, b, strlen(b), 1, 8);
		if (t > vw)
			vw = t;
	}
	lw = fmin(lw + 10, w * 0.32);
	if (lw < 40)
		lw = 40;
	/* the last tick label is centred on the end of the axis */
	ch_tick(rep, c, ax.max, b, sizeof(b));
	double half = text_width(r, b, strlen(b), 0, 7) / 2;
	vw = fmax(vw + 8, half);
	double px = x + lw, pw = w - lw - vw;
	double row = c->n <= 10 ? CH_ROW : c->n <= 20 ? 17 : 14, bar = row * 0.6;
	double top = r->y, bottom = top - row * (double)(c->n ? c->n : 1);

	for (int k = 0; k <= ax.n; k++) {
		double gx = px + pw * k / ax.n;
		if (k)
			put_line(r, gx, top, gx, bottom, 0.5, CH_GRID, 0);
		ch_tick(rep, c, ax.step * k, b, sizeof(b));
		ch_put(r, gx, bottom - 10, b, 0, 7, GRAY, AL_CENTER);
	}
	uint32_t col = ch_palette[0];
	for (size_t i = 0; i < c->n; i++) {
		double cy = top - row * (double)i - row / 2;
		double bw = pw * (double)v[i] / (double)ax.max;
		if (v[i] > 0 && bw < 1.5)
			bw = 1.5;
		ch_rect(r, px, cy - bar / 2, bw, bar, col);
		char *l = ch_fit(r, c->labels[i], 0, 8.5, lw - 10);
		ch_put(r, px - 7, cy - 3, l, 0, 8.5, TEXT_COLOR, AL_RIGHT);
		free(l);
		ch_value(rep, c, v[i], b, sizeof(b));
		ch_put(r, px + bw + 4, cy - 2.8, b, 1, 8, TEXT_COLOR, AL_LEFT);
	}
	if (!c->n)
		ch_put(r, px + pw / 2, top - row / 2 - 3, ch_no_data(rep), 0, 8.5, GRAY, AL_CENTER);
	put_line(r, px, top + 2, px, bottom, 0.8, CH_AXIS, 0);
	r->y = bottom - 16;
}

static void
ch_vbar(struct rctx *r, const struct pdf_report *rep, const struct pdf_chart *c, double x,
    double w)
{
	const int64_t *v = c->series[0].values;
	struct ch_axis ax;
	ch_axis(ch_max(c), c->currency != NULL, 5, &ax);
	char b[64];
	double px = x + ch_tick_width(r, rep, c, &ax, 7) + 8, pw = x + w - px;
	double top = r->y - 12, base = top - CH_PLOT_V;
	ch_hgrid(r, rep, c, &ax, px, pw, base, CH_PLOT_V);
	double slot = pw / (double)(c->n ? c->n : 1);
	double bw = fmin(slot * 0.62, 46);
	uint32_t col = ch_palette[2];
	/* Labels wrap at spaces under their column; the size goes down from
	 * 7 pt to 5.5 until every word fits its column. */
	double ls_size = 7;
	for (size_t i = 0; i < c->n; i++) {
		char *l = ch_line(c->labels[i]);
		for (char *save = NULL, *wd = strtok_r(l, " ", &save); wd;
		     wd = strtok_r(NULL, " ", &save))
			while (ls_size > 5.5 && text_width(r, wd, strlen(wd), 0, ls_size) > slot - 3)
				ls_size -= 0.25;
		free(l);
	}
	struct lines ls = {0};
	for (size_t i = 0; i < c->n; i++) {
		double cx = px + slot * ((double)i + 0.5);
		double bh = CH_PLOT_V * (double)v[i] / (double)ax.max;
		ch_rect(r, cx - bw / 2, base, bw, bh, col);
		ch_value(rep, c, v[i], b, sizeof(b));
		ch_put(r, cx, base + bh + 3, b, 1, 8, TEXT_COLOR, AL_CENTER);
		/* the label under its column, up to three lines */
		char *l = ch_line(c->labels[i]);
		wrap(r, l, 0, ls_size, slot - 3, &ls);
		for (size_t k = 0; k < ls.n && k < 3; k++) {
			char *part;
			if (k == 2 && ls.n > 3)
				part = ch_fit(r, l + ls.v[k].off, 0, ls_size, slot - 3);
			else
				part = xstrndup(l + ls.v[k].off, ls.v[k].len);
			ch_put(r, cx, base - 10 - 8.5 * (double)k, part, 0, ls_size, TEXT_COLOR,
			    AL_CENTER);
			free(part);
		}
		free(l);
	}
	free(ls.v);
	if (!c->n)
		ch_put(r, px + pw / 2, base + CH_PLOT_V / 2, ch_no_data(rep), 0, 8.5, GRAY, AL_CENTER);
	put_line(r, px, base, px + pw, base, 0.8, CH_AXIS, 0);
	r->y = base - 10 - 3 * 8.5 - 4;
}

static void
ch_linechart(struct rctx *r, const struct pdf_report *rep, const struct pdf_chart *c, double x,
    double w)
{
	struct ch_axis ax;
	ch_axis(ch_max(c), c->currency != NULL, 5, &ax);
	double px = x + ch_tick_width(r, rep, c, &ax, 7) + 8, pw = x + w - px;
	double top = r->y - 4, base = top - CH_PLOT_L;
	ch_hgrid(r, rep, c, &ax, px, pw, base, CH_PLOT_L);
	double inset = 6, span = pw - 2 * inset;
	size_t n = c->n;
	double step = n > 1 ? span / (double)(n - 1) : 0;
	/* x labels: every k-th point, counted back from the last */
	double lw = 0;
	for (size_t i = 0; i < n; i++) {
		double t = ch_width(r, c->labels[i], 0, 7);
		if (t > lw)
			lw = t;
	}
	size_t every = 1;
	if (n > 1)
		while (every < n && step * (double)every < lw + 8)
			every++;
	for (size_t i = 0; i < n; i++) {
		double cx = n > 1 ? px + inset + step * (double)i : px + pw / 2;
		if ((n - 1 - i) % every)
			continue;
		put_line(r, cx, base, cx, base - 3, 0.8, CH_AXIS, 0);
		ch_put(r, cx, base - 11, c->labels[i], 0, 7, GRAY, AL_CENTER);
	}
	put_line(r, px, base, px + pw, base, 0.8, CH_AXIS, 0);
	/* The first series on top; each one behind is drawn wider, so where
	 * lines coincide the one behind shows as an edge. */
	double *xy = xcalloc(2 * (n ? n : 1), sizeof(*xy));
	for (size_t s = c->nseries; s-- > 0;) {
		uint32_t col = ch_palette[s % PDF_CHART_MAX_SERIES];
		for (size_t i = 0; i < n; i++) {
			xy[2 * i] = n > 1 ? px + inset + step * (double)i : px + pw / 2;
			xy[2 * i + 1] = base + CH_PLOT_L * (double)c->series[s].values[i] /
			    (double)ax.max;
		}
		ch_poly(r, xy, n, 1.6 + 1.4 * (double)s, col);
		if (n <= 62)
			for (size_t i = 0; i < n; i++)
				ch_dot(r, xy[2 * i], xy[2 * i + 1], (n > 1 ? 2.0 : 3.0) + 0.9 * (double)s,
				    col);
	}
	free(xy);
	if (!n)
		ch_put(r, px + pw / 2, base + CH_PLOT_L / 2, ch_no_data(rep), 0, 8.5, GRAY, AL_CENTER);
	r->y = base - 20;
}

/* The key figures: a row of tiles, the value large, the label under it. */
static void
ch_facts(struct rctx *r, const struct pdf_report *rep, double x, double w)
{
	if (!rep->nfacts)
		return;
	double gap = 8, th = 46, y = r->y;
	double tw = (w - gap * (double)(rep->nfacts - 1)) / (double)rep->nfacts;
	struct lines ls = {0};
	for (size_t i = 0; i < rep->nfacts; i++) {
		double tx = x + (tw + gap) * (double)i;
		ch_rect(r, tx, y - th, tw, th, CH_TILE);
		ch_rect(r, tx, y - th, 2.5, th, CH_ACCENT);
		/* the value in the largest size that fits, from 13 pt down to 8 */
		double vs = 13;
		while (vs > 8 && ch_width(r, rep->facts[i].value, 1, vs) > tw - 16)
			vs -= 0.5;
		char *v = ch_fit(r, rep->facts[i].value, 1, vs, tw - 16);
		put_text(r, tx + 9, y - 19, v, strlen(v), 1, vs, TEXT_COLOR);
		free(v);
		char *l = ch_line(rep->facts[i].label);
		wrap(r, l, 0, 7.5, tw - 16, &ls);
		for (size_t k = 0; k < ls.n && k < 2; k++) {
			char *part = k == 1 && ls.n > 2 ? ch_fit(r, l + ls.v[k].off, 0, 7.5, tw - 16)
			    : xstrndup(l + ls.v[k].off, ls.v[k].len);
			put_text(r, tx + 9, y - 30 - 9 * (double)k, part, strlen(part), 0, 7.5, GRAY);
			free(part);
		}
		free(l);
	}
	free(ls.v);
	r->y = y - th - 18;
}

static int
ch_break(struct rctx *r)
{
	if (r->page + 1 >= PDF_MAX_PAGES) {
		rerr(r, 0, "the report would have more than %d pages", PDF_MAX_PAGES);
		return -1;
	}
	r->page++;
	r->y = r->top;
	return 0;
}

static void
ch_footers(struct rctx *r, const struct pdf_report *rep)
{
	int last = r->page, de = strcmp(rep->lang, "de") == 0;
	double w = r->right - r->left, y = CH_MARGIN;
	for (int p = 0; p <= last; p++) {
		char pn[48];
		bfmt(pn, sizeof(pn), de ? "Seite %d von %d" : "Strona %d z %d", p + 1, last + 1);
		r->page = p;
		put_line(r, r->left, y + 10, r->right, y + 10, 0.5, CH_GRID, 0);
		double pw = ch_put(r, r->right, y, pn, 0, 7.5, GRAY, AL_RIGHT);
		if (rep->footer && *rep->footer) {
			char *f = ch_fit(r, rep->footer, 0, 7.5, w - pw - 20);
			put_text(r, r->left, y, f, strlen(f), 0, 7.5, GRAY);
			free(f);
		}
	}
	r->page = last;
}

static int
ch_check(struct rctx *r, const struct pdf_report *rep)
{
	if (!rep->lang || (strcmp(rep->lang, "pl") != 0 && strcmp(rep->lang, "de") != 0)) {
		rerr(r, 0, "language \"%.8s\" is neither pl nor de", rep->lang ? rep->lang : "");
		return -1;
	}
	if (!rep->title || !*rep->title) {
		rerr(r, 0, "the report has no title");
		return -1;
	}
	if (check_str(r, "title", rep->title) < 0 || check_str(r, "subtitle", rep->subtitle) < 0 ||
	    check_str(r, "footer", rep->footer) < 0 || check_str(r, "author", rep->author) < 0)
		return -1;
	if (rep->nfacts > PDF_CHART_MAX_FACTS || (rep->nfacts && !rep->facts)) {
		rerr(r, 0, "%zu key figures: at most %d", rep->nfacts, PDF_CHART_MAX_FACTS);
		return -1;
	}
	for (size_t i = 0; i < rep->nfacts; i++) {
		if (!rep->facts[i].label || !rep->facts[i].value) {
			rerr(r, 0, "key figure %zu: no label or value", i + 1);
			return -1;
		}
		if (check_str(r, "key figure", rep->facts[i].label) < 0 ||
		    check_str(r, "key figure", rep->facts[i].value) < 0)
			return -1;
	}
	if (rep->ncharts > PDF_CHART_MAX || (rep->ncharts && !rep->charts)) {
		rerr(r, 0, "%zu charts: at most %d", rep->ncharts, PDF_CHART_MAX);
		return -1;
	}
	for (size_t i = 0; i < rep->ncharts; i++) {
		const struct pdf_chart *c = &rep->charts[i];
		char what[48];
		bfmt(what, sizeof(what), "chart %zu", i + 1);
		if (c->kind != PDF_CHART_HBAR && c->kind != PDF_CHART_VBAR &&
		    c->kind != PDF_CHART_LINE) {
			rerr(r, 0, "%s: unknown kind %d", what, (int)c->kind);
			return -1;
		}
		if (!c->title || !*c->title) {
			rerr(r, 0, "%s: no title", what);
			return -1;
		}
		if (check_str(r, what, c->title) < 0 || check_str(r, what, c->note) < 0)
			return -1;
		size_t most = c->kind == PDF_CHART_LINE ? PDF_CHART_MAX_POINTS : PDF_CHART_MAX_BARS;
		if (c->n > most || (c->n && !c->labels)) {
			rerr(r, 0, "%s: %zu %s: at most %zu", what, c->n,
			    c->kind == PDF_CHART_LINE ? "points" : "bars", most);
			return -1;
		}
		size_t smax = c->kind == PDF_CHART_LINE ? PDF_CHART_MAX_SERIES : 1;
		if (c->nseries < 1 || c->nseries > smax || !c->series) {
			rerr(r, 0, "%s: %zu series: %s", what, c->nseries,
			    smax == 1 ? "a bar chart has exactly one" : "a line chart has 1 to 4");
			return -1;
		}
		if (c->currency && strcmp(c->currency, "PLN") != 0 && strcmp(c->currency, "EUR") != 0) {
			rerr(r, 0, "%s: currency \"%.8s\" is neither PLN nor EUR", what, c->currency);
			return -1;
		}
		for (size_t k = 0; k < c->n; k++)
			if (!c->labels[k] || check_str(r, what, c->labels[k]) < 0) {
				if (!r->failed)
					rerr(r, 0, "%s: label %zu is NULL", what, k + 1);
				return -1;
			}
		for (size_t s = 0; s < c->nseries; s++) {
			const struct pdf_series *se = &c->series[s];
			if (c->kind == PDF_CHART_LINE && (!se->name || !*se->name)) {
				rerr(r, 0, "%s: series %zu has no name for the legend", what, s + 1);
				return -1;
			}
			if (check_str(r, what, se->name) < 0)
				return -1;
			if (c->n && !se->values) {
				rerr(r, 0, "%s: series %zu has no values", what, s + 1);
				return -1;
			}
			for (size_t k = 0; k < c->n; k++)
				if (se->values[k] < 0 || se->values[k] > PDF_CHART_MAX_VALUE) {
					rerr(r, 0, "%s: value %" PRId64 " is outside 0..%" PRId64, what,
					    se->values[k], (int64_t)PDF_CHART_MAX_VALUE);
					return -1;
				}
		}
	}
	return 0;
}

int
pdf_report_charts(const struct pdf_report *rep, char **out, size_t *len, char *err,
    size_t errlen)
{
	struct rctx r = {.err = err, .errlen = errlen};
	int rc = -1;

	if (errlen)
		err[0] = '\0';
	*out = NULL;
	*len = 0;
	if (!rep) {
		rerr(&r, 0, "pdf_report_charts: no report");
		return -1;
	}
	if (ch_check(&r, rep) < 0)
		return -1;
	pthread_once(&faces_once, faces_init);
	for (int f = 0; f < 2; f++)
		if (faces[f].err[0]) {
			rerr(&r, 0, "%s", faces[f].err);
			return -1;
		}
	/* emit() takes the creation date from a document and the author from
	 * the company name. */
	struct pdf_doc info = {.issued = rep->created};
	r.doc = &info;
	r.val[PH_COMPANY_NAME] = rep->author ? rep->author : "";
	r.title = rep->title;

	r.left = CH_MARGIN;
	r.right = PAGE_W - CH_MARGIN;
	r.top = PAGE_H - CH_MARGIN;
	r.bottom = CH_MARGIN + 22;
	double w = r.right - r.left;

	/* the head of page 1 */
	r.y = r.top;
	char *t = ch_fit(&r, rep->title, 1, 18, w);
	put_text(&r, r.left, r.y - 17, t, strlen(t), 1, 18, CH_ACCENT);
	free(t);
	r.y -= 24;
	if (rep->subtitle && *rep->subtitle) {
		t = ch_fit(&r, rep->subtitle, 0, 10, w);
		put_text(&r, r.left, r.y - 10, t, strlen(t), 0, 10, GRAY);
		free(t);
		r.y -= 16;
	}
	put_line(&r, r.left, r.y - 4, r.right, r.y - 4, 1.5, CH_ACCENT, 0);
	r.y -= 18;
	ch_facts(&r, rep, r.left, w);

	int fresh = 0;
	for (size_t i = 0; i < rep->ncharts && !r.failed; i++) {
		const struct pdf_chart *c = &rep->charts[i];
		for (int attempt = 0; attempt < 2; attempt++) {
			size_t mark = r.nops, smark = r.strs.len, pmark = r.npts;
			double y = r.y;
			ch_title(&r, c, r.left, w);
			switch (c->kind) {
			case PDF_CHART_HBAR: ch_hbar(&r, rep, c, r.left, w); break;
			case PDF_CHART_VBAR: ch_vbar(&r, rep, c, r.left, w); break;
			case PDF_CHART_LINE: ch_linechart(&r, rep, c, r.left, w); break;
			}
			if (r.y >= r.bottom - 0.01 || fresh)
				break;
			r.nops = mark;
			r.strs.len = smark;
			r.npts = pmark;
			r.y = y;
			if (ch_break(&r) < 0)
				break;
			fresh = 1;
		}
		if (!r.failed && r.y < r.bottom - 0.01) {
			rerr(&r, 0, "chart %zu is taller than a page", i + 1);
			break;
		}
		fresh = 0;
		r.y -= 14;
	}
	if (r.failed)
		goto out;
	ch_footers(&r, rep);

	if (doc_new(&r) < 0)
		goto out;
	rc = emit(&r, out, len);
out:
	if (r.pdf)
		HPDF_Free(r.pdf);
	free(r.ops);
	free(r.pts);
	sb_free(&r.strs);
	if (rc == 0)
		log_debug("pdf_report_charts lang=%s charts=%zu pages=%d bytes=%zu subset=%s",
		    rep->lang, rep->ncharts, r.page + 1, *len, r.need_full ? "no" : "yes");
	return rc;
}
