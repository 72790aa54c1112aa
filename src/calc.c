/*
 * calc: calculation lines as reps write them in mail, and their arithmetic.
 *
 * DESIGN.  The text is read one line at a time.  Each line is first checked
 * as bytes (length, UTF-8, no control characters), then copied with every
 * kind of blank (tab, U+00A0, U+202F) turned into ' ', so the parsers below
 * only ever see one whitespace character.  A line is parsed left to right
 * and stops at its first problem: one error per line, naming it.
 *
 * Money and quantities are int64_t in minor units and thousandths.  The
 * one product that could leave int64_t (qty_milli × W × H can reach 10^19)
 * is never formed: muldiv_half_up() splits the multiplier so every
 * intermediate stays in range, and reports overflow instead of wrapping.
 * item_check() is the single place that turns an item into amounts; the
 * parser runs it on every line it accepts (with the list price or the
 * price given), so a text that parsed cleanly cannot fail to price, and
 * calc_price() runs it again so a stale or hand-built item is refused with
 * a message rather than priced wrongly.  Rounding is half up everywhere:
 * all values are non-negative, so that is (x + d/2) / d.
 */
#include "calc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define QUOTE_MAX 40          /* bytes of user text quoted in a message */
#define SKU_MAX 32            /* as in config.h: [A-Z0-9-]{1,32} */
#define SUGGEST_MAX 3         /* closest SKUs named for an unknown one */
#define SUGGEST_LINES 10      /* unknown SKUs that get suggestions: bounds the
                               * edit-distance work to 10 × products */
#define PRICE_WORDS 8         /* words of a price tried when looking for junk
                               * after it ("1 234 567,00 zł" has 4) */
#define FREE_VAT_BP 2300      /* free lines: the standard Polish rate */
#define MILLI 1000

/* ---- small text helpers ------------------------------------------------- */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* Length of the word at s: up to a space or the end. */
static size_t
word_len(const char *s)
{
	size_t n = 0;
	while (s[n] && s[n] != ' ')
		n++;
	return n;
}

/* s[0..n) with trailing spaces dropped: the new n. */
static size_t
rtrim_len(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == ' ')
		n--;
	return n;
}

/* s[0..len) for a message: at most QUOTE_MAX bytes, cut at a UTF-8
 * character boundary, "…" when cut.  Lines are validated before they are
 * quoted, so the text holds no control characters. */
struct quote {
	char s[QUOTE_MAX + sizeof("…")];
};

static const char *
quote(struct quote *q, const char *s, size_t len)
{
	if (len <= QUOTE_MAX) {
		memcpy(q->s, s, len);
		q->s[len] = '\0';
		return q->s;
	}
	size_t n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(q->s, s, n);
	memcpy(q->s + n, "…", sizeof("…"));
	return q->s;
}

static const char *
quotez(struct quote *q, const char *s)
{
	return quote(q, s, strlen(s));
}

/* Copy of s[0..n) with tab, U+00A0 and U+202F as ' '; caller frees. */
static char *
norm_blanks(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t') {
			o[j++] = ' ';
		} else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			o[j++] = ' ';
			i++;
		} else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0xAF) {
			o[j++] = ' ';
			i += 2;
		} else {
			o[j++] = (char)c;
		}
	}
	o[j] = '\0';
	return o;
}

/* ---- exact integer arithmetic ------------------------------------------- */

/* *out = a × b / d rounded half up, for a, b >= 0 and d > 0 even, without
 * forming a × b: with b = q·d + r, a·b/d = a·q + a·r/d, and a·q·d is a
 * multiple of d so only a·r + d/2 needs rounding.  -1 on overflow. */
static int
muldiv_half_up(int64_t a, int64_t b, int64_t d, int64_t *out)
{
	if (a < 0 || b < 0 || d <= 0)
		return -1;
	int64_t q = b / d, r = b % d, hi, lo;
	if (__builtin_mul_overflow(a, q, &hi) || __builtin_mul_overflow(a, r, &lo) ||
	    __builtin_add_overflow(lo, d / 2, &lo) ||
	    __builtin_add_overflow(hi, lo / d, out))
		return -1;
	return 0;
}

/* ---- numbers ------------------------------------------------------------ */

enum num { NUM_OK, NUM_SYNTAX, NUM_DECIMALS, NUM_RANGE };

/* Unsigned decimal s[0..n): digits, optionally "," or "." and 1-3 more
 * digits, as thousandths.  NUM_DECIMALS for 4 or more decimals, NUM_RANGE
 * above max (checked after the syntax, so "1x" is NUM_SYNTAX even when
 * huge). */
static enum num
parse_milli(const char *s, size_t n, int64_t max, int64_t *out)
{
	size_t i = 0, ndec = 0;
	int64_t v = 0, frac = 0;
	int big = 0;

	while (i < n && is_digit(s[i])) {
		if (v > INT64_MAX / 100)
			big = 1;
		else
			v = v * 10 + (s[i] - '0');
		i++;
	}
	if (i == 0)
		return NUM_SYNTAX;
	if (i < n) {
		if (s[i] != ',' && s[i] != '.')
			return NUM_SYNTAX;
		i++;
		if (i == n)
			return NUM_SYNTAX;
		for (; i < n; i++, ndec++) {
			if (!is_digit(s[i]))
				return NUM_SYNTAX;
			if (ndec < 3)
				frac = frac * 10 + (s[i] - '0');
		}
	}
	if (ndec > 3)
		return NUM_DECIMALS;
	for (; ndec < 3; ndec++)
		frac *= 10;
	if (big || v > (max - frac) / MILLI)
		return NUM_RANGE;
	*out = v * MILLI + frac;
	return NUM_OK;
}

/* ---- sizes -------------------------------------------------------------- */

enum sz { SZ_OK, SZ_NOTSIZE, SZ_SYNTAX, SZ_NOUNIT, SZ_ZERO, SZ_FINE, SZ_BIG };

/* Length of a number-like run at s: digits, "," and ".". */
static size_t
numrun(const char *s)
{
	size_t n = 0;
	while (is_digit(s[n]) || s[n] == ',' || s[n] == '.')
		n++;
	return n;
}

/* A length unit at s: millimetres per unit (1, 10, 1000) and its length,
 * or 0 when there is none.  The unit must end the word or be followed by a
 * separator, so "100cmx" is no unit. */
static int
unit_at(const char *s, size_t *len)
{
	static const struct {
		const char *w;
		int mm;
	} units[] = {{"mm", 1}, {"cm", 10}, {"m", 1000}};
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		size_t n = strlen(units[i].w), k;
		for (k = 0; k < n && lower(s[k]) == units[i].w[k]; k++)
			;
		if (k < n)
			continue;
		*len = n;
		return units[i].mm;
	}
	return 0;
}

/* The separator of a size at s ("x", "X", "×"): its length, or 0. */
static size_t
sep_at(const char *s)
{
	if (*s == 'x' || *s == 'X')
		return 1;
	if ((unsigned char)s[0] == 0xC3 && (unsigned char)s[1] == 0x97)
		return 2;
	return 0;
}

/* One side in thousandths of unit to millimetres. */
static enum sz
side_mm(int64_t milli, int unit_mm, int64_t *out)
{
	/* milli / (1000 / unit_mm) mm; a remainder is a fraction of 1 mm. */
	int64_t per = MILLI / unit_mm;
	if (milli % per != 0)
		return SZ_FINE;
	if (milli == 0)
		return SZ_ZERO;
	if (milli / per > CALC_MAX_SIDE_MM)
		return SZ_BIG;
	*out = milli / per;
	return SZ_OK;
}

/* Parse a size "W[unit] x H unit" at s (spaces allowed around the
 * separator and before the unit).  On SZ_OK *end points past the unit.
 * SZ_NOTSIZE when s does not start with a number. */
static enum sz
parse_size(const char *s, int64_t *w, int64_t *h, const char **end)
{
	/* 10^15 thousandths: far above any side, and no overflow in side_mm */
	const int64_t big = 1000000000000000LL;
	int64_t a, b;
	size_t n = numrun(s), ulen = 0;
	enum num ra, rb;
	int ua = 0, ub;

	if (n == 0)
		return SZ_NOTSIZE;
	ra = parse_milli(s, n, big, &a);
	s = skip_ws(s + n);
	if ((ua = unit_at(s, &ulen)) != 0)
		s = skip_ws(s + ulen);
	if ((n = sep_at(s)) == 0)
		return SZ_SYNTAX;
	s = skip_ws(s + n);
	if ((n = numrun(s)) == 0)
		return SZ_SYNTAX;
	rb = parse_milli(s, n, big, &b);
	s = skip_ws(s + n);
	if ((ub = unit_at(s, &ulen)) == 0)
		return *s == '\0' ? SZ_NOUNIT : SZ_SYNTAX;
	s += ulen;
	if (*s != '\0' && *s != ' ')
		return SZ_SYNTAX;
	if (ra == NUM_SYNTAX || rb == NUM_SYNTAX)
		return SZ_SYNTAX;
	if (ra == NUM_DECIMALS || rb == NUM_DECIMALS)
		return SZ_FINE;
	if (ra == NUM_RANGE || rb == NUM_RANGE)
		return SZ_BIG;
	enum sz r = side_mm(a, ua ? ua : ub, w);
	if (r == SZ_OK)
		r = side_mm(b, ub, h);
	if (r != SZ_OK)
		return r;
	*end = s;
	return SZ_OK;
}

/* ---- money -------------------------------------------------------------- */

enum money { M_OK, M_SYNTAX, M_DECIMALS, M_RANGE, M_NEGATIVE, M_CURRENCY };

/* 1 when s[0..n) is exactly a currency word: "zł", "zl", "PLN", "EUR", "€"
 * (letters in any case); *code gets "PLN" or "EUR". */
static int
cur_word(const char *s, size_t n, const char **code)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n == 2 && lower(s[0]) == 'z' && lower(s[1]) == 'l') {
		*code = "PLN";
		return 1;
	}
	if (n != 3)
		return 0;
	if (lower(s[0]) == 'z' && u[1] == 0xC5 && (u[2] == 0x82 || u[2] == 0x81)) {
		*code = "PLN";
		return 1;
	}
	if (u[0] == 0xE2 && u[1] == 0x82 && u[2] == 0xAC) {
		*code = "EUR";
		return 1;
	}
	char w[4] = {lower(s[0]), lower(s[1]), lower(s[2]), '\0'};
	if (strcmp(w, "pln") == 0 || strcmp(w, "eur") == 0) {
		*code = w[0] == 'p' ? "PLN" : "EUR";
		return 1;
	}
	return 0;
}

/* An amount without sign or currency: see calc_parse_money in calc.h.
 * The decimal separator is the last "," or "."; the integer part before it
 * is plain digits or groups of three after a first group of 1-3, separated
 * all alike by ' ' or by the separator that is not the decimal one. */
static enum money
amount_parse(const char *s, size_t n, int64_t *out)
{
	size_t iend = n, nfrac = 0, ngroups = 0, glen = 0, digits = 0;
	int64_t v = 0, frac = 0;
	char dec = 0, sep = 0;

	if (n >= 2 && s[n - 1] == '-' && (s[n - 2] == ',' || s[n - 2] == '.')) {
		dec = s[n - 2]; /* "150,-": whole units */
		iend = n - 2;
	} else {
		size_t d = n;
		while (d > 0 && s[d - 1] != ',' && s[d - 1] != '.')
			d--;
		if (d > 0) {
			dec = s[d - 1];
			iend = d - 1;
			nfrac = n - d;
			if (nfrac == 0)
				return M_SYNTAX;
			for (size_t i = d; i < n; i++)
				if (!is_digit(s[i]))
					return M_SYNTAX;
			for (size_t i = 0; i < 2; i++)
				frac = frac * 10 + (i < nfrac ? s[d + i] - '0' : 0);
		}
	}
	for (size_t i = 0; i < iend; i++) {
		char c = s[i];
		if (is_digit(c)) {
			glen++;
			if (++digits <= 16)
				v = v * 10 + (c - '0');
			continue;
		}
		if ((c != ' ' && c != '.' && c != ',') || c == dec || (sep && c != sep))
			return M_SYNTAX;
		if (glen == 0 || (ngroups == 0 ? glen > 3 : glen != 3))
			return M_SYNTAX;
		sep = c;
		ngroups++;
		glen = 0;
	}
	if (glen == 0 || (ngroups > 0 && glen != 3))
		return M_SYNTAX;
	if (nfrac > 2)
		return M_DECIMALS; /* "1.234" and "12,500" are not guessed */
	if (digits > 16 || v > (CALC_MAX_AMOUNT - frac) / 100)
		return M_RANGE;
	*out = v * 100 + frac;
	return M_OK;
}

/* A price s[0..n) as people write it (blanks already ' '), with an optional
 * currency word before or after; *found is the currency written, if any.
 * M_CURRENCY only for an otherwise valid amount. */
static enum money
money_parse(const char *s, size_t n, const char *currency, int64_t *out, const char **found)
{
	const char *code = NULL, *c2 = NULL;
	int64_t v;

	*found = NULL;
	while (n > 0 && *s == ' ')
		s++, n--;
	n = rtrim_len(s, n);
	for (size_t k = 3; k >= 2; k--)
		if (n > k && cur_word(s + n - k, k, &code)) {
			n = rtrim_len(s, n - k);
			break;
		}
	for (size_t k = 3; k >= 2; k--)
		if (n > k && cur_word(s, k, &c2)) {
			s += k;
			n -= k;
			while (n > 0 && *s == ' ')
				s++, n--;
			break;
		}
	if (code && c2)
		return M_SYNTAX;
	if (c2)
		code = c2;
	if (n > 0 && *s == '-') {
		enum money r = amount_parse(s + 1, n - 1, &v);
		return r == M_SYNTAX ? M_SYNTAX : M_NEGATIVE;
	}
	enum money r = amount_parse(s, n, &v);
	if (r != M_OK)
		return r;
	*found = code;
	if (code && currency && strcmp(code, currency) != 0)
		return M_CURRENCY;
	*out = v;
	return M_OK;
}

int
calc_parse_money(const char *s, const char *currency, int64_t *out)
{
	if (!s || !out)
		return -1;
	size_t n = strlen(s);
	char *t = norm_blanks(s, n);
	const char *found;
	int64_t v;
	enum money r = money_parse(t, strlen(t), currency, &v, &found);
	free(t);
	if (r != M_OK)
		return -1;
	*out = v;
	return 0;
}

void
calc_money(int64_t minor, const char *currency, const char *lang, char *out, size_t size)
{
	int de = lang && strcmp(lang, "de") == 0;
	const char *sym;
	char digits[24], buf[64];
	size_t j = 0;

	if (!out || size == 0)
		return;
	if (currency && strcmp(currency, "PLN") == 0)
		sym = "zł";
	else if (currency && strcmp(currency, "EUR") == 0)
		sym = "€";
	else
		sym = currency && *currency && strlen(currency) <= 8 ? currency : "";

	uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	int nd = snprintf(digits, sizeof(digits), "%" PRIu64, m / 100);
	if (minor < 0)
		buf[j++] = '-';
	for (int i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[j++] = de ? '.' : ' ';
		buf[j++] = digits[i];
	}
	j += (size_t)snprintf(buf + j, sizeof(buf) - j, ",%02u%s%s", (unsigned)(m % 100),
	    *sym ? " " : "", sym);
	if (j >= size)
		j = 0;
	memcpy(out, buf, j);
	out[j] = '\0';
}

/* ---- one item to amounts ------------------------------------------------ */

struct priced {
	const struct cfg_product *prod; /* NULL for a free line */
	int64_t list_price, unit_price, billed, net;
	int vat_bp;
};

static const char *
unit_phrase(enum unit u)
{
	switch (u) {
	case UNIT_M2: return "per m²";
	case UNIT_PCS: return "per piece";
	case UNIT_M: return "per running metre";
	}
	return "per unit";
}

/* The amounts of it priced in currency, or -1 with the reason (without the
 * "line N: " prefix) in err.  Checks everything, so a hand-built item is
 * safe too. */
static int
item_check(const struct config *cfg, const char *currency, const struct calc_item *it,
    struct priced *pr, char *err, size_t esz)
{
	struct quote q;
	int64_t billed = it->qty_milli;

	memset(pr, 0, sizeof(*pr));
	if (it->qty_milli <= 0 || it->qty_milli > (int64_t)CALC_MAX_QTY * MILLI) {
		bfmt(err, esz, "bad quantity");
		return -1;
	}
	if (it->w_mm < 0 || it->w_mm > CALC_MAX_SIDE_MM || it->h_mm < 0 ||
	    it->h_mm > CALC_MAX_SIDE_MM || (it->w_mm == 0) != (it->h_mm == 0)) {
		bfmt(err, esz, "bad size");
		return -1;
	}
	if (it->price < -1 || it->price > CALC_MAX_AMOUNT) {
		bfmt(err, esz, "bad price");
		return -1;
	}
	if (!it->sku) {
		if (!it->description || !*it->description || it->price < 0 || it->w_mm) {
			bfmt(err, esz, "a free line needs a description, a quantity and a price");
			return -1;
		}
		pr->list_price = -1;
		pr->unit_price = it->price;
		pr->vat_bp = FREE_VAT_BP;
	} else {
		const struct cfg_product *p = config_product(cfg, it->sku);
		if (!p) {
			bfmt(err, esz, "unknown SKU %s", quotez(&q, it->sku));
			return -1;
		}
		if (p->unit == UNIT_M2 && it->w_mm == 0) {
			bfmt(err, esz, "%s is priced per m²: give a size, e.g. 300x100cm", p->sku);
			return -1;
		}
		if (p->unit == UNIT_PCS && it->w_mm != 0) {
			bfmt(err, esz, "%s is priced %s: leave out the size", p->sku,
			    unit_phrase(p->unit));
			return -1;
		}
		if (p->unit == UNIT_M && it->w_mm != 0) {
			bfmt(err, esz, "%s is priced %s: give the metres as the quantity, "
			    "without a size", p->sku, unit_phrase(p->unit));
			return -1;
		}
		pr->prod = p;
		pr->list_price = !currency ? -1
		    : strcmp(currency, "PLN") == 0 ? p->price_pln
		    : strcmp(currency, "EUR") == 0 ? p->price_eur : -1;
		pr->unit_price = it->price >= 0 ? it->price : pr->list_price;
		pr->vat_bp = p->vat_bp;
		if (pr->unit_price < 0) {
			bfmt(err, esz, "%s has no list price in %s: give a unit price, "
			    "e.g. @ 12,50", p->sku, currency ? quotez(&q, currency) : "?");
			return -1;
		}
		if (p->unit == UNIT_M2 &&
		    muldiv_half_up(it->qty_milli, it->w_mm * it->h_mm, 1000000, &billed) < 0)
			billed = -1;
	}
	if (billed < 0 || muldiv_half_up(billed, pr->unit_price, MILLI, &pr->net) < 0 ||
	    pr->net > CALC_MAX_LINE_NET) {
		char m[48];
		calc_money(CALC_MAX_LINE_NET, currency, "pl", m, sizeof(m));
		bfmt(err, esz, "amount too large (at most %s per line)", m);
		return -1;
	}
	pr->billed = billed;
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

struct pctx {
	const struct config *cfg;
	const char *currency;
	struct calc_parse *out;
	size_t nitem_lines;     /* item lines seen, valid or not */
	int submit_line;        /* line of the first SUBMIT, 0 if none */
	int submit_flagged;     /* "SUBMIT must be the last line" reported */
	int nsuggest;           /* unknown SKUs given suggestions so far */
};

/* Adds "line N: ..." keeping the list in line order (stable). */
static void perr(struct pctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct pctx *c, int line, const char *fmt, ...)
{
	struct calc_parse *p = c->out;
	struct sbuf sb = {0};
	va_list ap;

	sb_printf(&sb, "line %d: ", line);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	size_t i = p->nerrors;
	while (i > 0 && p->errors[i - 1].line > line)
		i--;
	p->errors = xrealloc(p->errors, (p->nerrors + 1) * sizeof(*p->errors));
	memmove(&p->errors[i + 1], &p->errors[i], (p->nerrors - i) * sizeof(*p->errors));
	p->errors[i].line = line;
	p->errors[i].message = sb_steal(&sb);
	p->nerrors++;
}

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps),
 * ASCII case-insensitive; a and b at most SKU_MAX bytes. */
static size_t
edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	size_t d[SKU_MAX + 1][SKU_MAX + 1];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

/* 1 when s starts with p[0..n), ASCII case-insensitively. */
static int
has_prefix(const char *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != lower(p[i]))
			return 0;
	return 1;
}

/* "unknown SKU X" with the closest SKUs: those within max(2, len/2) edits,
 * and those X begins (X of 3 or more characters: "BAN" names the banners);
 * nearest first, price-list order among equals, at most SUGGEST_MAX. */
static void
unknown_sku(struct pctx *c, int ln, const char *sku, size_t n)
{
	struct quote q;
	size_t best[SUGGEST_MAX], bestd[SUGGEST_MAX], nbest = 0;
	size_t limit = n / 2 > 2 ? n / 2 : 2;

	if (c->nsuggest++ < SUGGEST_LINES && n <= SKU_MAX) {
		for (size_t i = 0; i < c->cfg->nproducts; i++) {
			const char *s = c->cfg->products[i].sku;
			size_t m = strlen(s);
			int prefix = n >= 3 && m > n && has_prefix(s, sku, n);
			if (m > SKU_MAX || (!prefix && (m > n ? m - n : n - m) > limit))
				continue;
			size_t dist = edit_distance(sku, n, s, m);
			if (dist > limit && !prefix)
				continue;
			size_t k = nbest < SUGGEST_MAX ? nbest++ : SUGGEST_MAX;
			if (k == SUGGEST_MAX && dist >= bestd[SUGGEST_MAX - 1])
				continue;
			if (k == SUGGEST_MAX)
				k--;
			while (k > 0 && bestd[k - 1] > dist) {
				best[k] = best[k - 1];
				bestd[k] = bestd[k - 1];
				k--;
			}
			best[k] = i;
			bestd[k] = dist;
		}
	}
	if (nbest == 0) {
		perr(c, ln, "unknown SKU %s", quote(&q, sku, n));
		return;
	}
	struct sbuf sb = {0};
	for (size_t i = 0; i < nbest; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", c->cfg->products[best[i]].sku);
	perr(c, ln, "unknown SKU %s (did you mean %s?)", quote(&q, sku, n), sb_str(&sb));
	sb_free(&sb);
}

/* The quantity word tok[0..n) into *out, or an error and -1.  free_line:
 * a word that is no number means the quantity was left out. */
static int
qty_parse(struct pctx *c, int ln, const char *tok, size_t n, int free_line, int64_t *out)
{
	struct quote q;
	int neg = tok[0] == '-';
	int64_t v = 0;
	enum num r = parse_milli(tok + neg, n - (size_t)neg, (int64_t)CALC_MAX_QTY * MILLI, &v);

	if (r == NUM_SYNTAX) {
		if (free_line)
			perr(c, ln, "missing quantity before @ (* description QTY @ PRICE)");
		else
			perr(c, ln, "bad quantity \"%s\"", quote(&q, tok, n));
		return -1;
	}
	if (neg || (r == NUM_OK && v == 0)) {
		perr(c, ln, "quantity must be greater than 0, not %s", quote(&q, tok, n));
		return -1;
	}
	if (r == NUM_DECIMALS) {
		perr(c, ln, "quantity %s has more than 3 decimals", quote(&q, tok, n));
		return -1;
	}
	if (r == NUM_RANGE) {
		perr(c, ln, "quantity %s is too large (at most %d)", quote(&q, tok, n),
		    CALC_MAX_QTY);
		return -1;
	}
	*out = v;
	return 0;
}

/* The size at s (the rest of the line after the quantity) into it; -1
 * with an error. */
static int
size_parse(struct pctx *c, int ln, const char *s, struct calc_item *it)
{
	struct quote q;
	const char *e = s;
	enum sz r = parse_size(s, &it->w_mm, &it->h_mm, &e);
	size_t n = strlen(s);

	switch (r) {
	case SZ_OK:
		e = skip_ws(e);
		if (*e) {
			perr(c, ln, "unexpected \"%s\" after the size", quotez(&q, e));
			return -1;
		}
		return 0;
	case SZ_NOTSIZE:
		perr(c, ln, "unexpected \"%s\" after the quantity", quote(&q, s, n));
		break;
	case SZ_SYNTAX:
		perr(c, ln, "bad size \"%s\": write it as WxH with mm, cm or m, e.g. 300x100cm",
		    quote(&q, s, n));
		break;
	case SZ_NOUNIT:
		perr(c, ln, "size %s needs a unit: mm, cm or m", quote(&q, s, n));
		break;
	case SZ_ZERO:
		perr(c, ln, "size %s: width and height must be greater than 0", quote(&q, s, n));
		break;
	case SZ_FINE:
		perr(c, ln, "size %s is finer than 1 mm", quote(&q, s, n));
		break;
	case SZ_BIG:
		perr(c, ln, "size %s is too large (at most %d m per side)", quote(&q, s, n),
		    CALC_MAX_SIDE_MM / 1000);
		break;
	}
	it->w_mm = it->h_mm = 0;
	return -1;
}

/* The price after "@" (trimmed) into *out; -1 with an error. */
static int
price_parse(struct pctx *c, int ln, const char *s, int64_t *out)
{
	struct quote q;
	const char *found;
	size_t n = strlen(s);
	enum money r;

	if (n == 0) {
		perr(c, ln, "missing price after @");
		return -1;
	}
	r = money_parse(s, n, c->currency, out, &found);
	if (r == M_SYNTAX) {
		/* a good price followed by something else?  Try the first
		 * PRICE_WORDS words, longest first. */
		size_t cut[PRICE_WORDS], ncut = 0;
		for (size_t k = 0; k < n && ncut < PRICE_WORDS; k++)
			if (s[k] == ' ' && s[k + 1] != ' ')
				cut[ncut++] = k;
		while (ncut-- > 0) {
			int64_t v;
			if (money_parse(s, cut[ncut], c->currency, &v, &found) != M_SYNTAX) {
				perr(c, ln, "unexpected \"%s\" after the price",
				    quotez(&q, skip_ws(s + cut[ncut])));
				return -1;
			}
		}
	}
	switch (r) {
	case M_OK:
		return 0;
	case M_SYNTAX:
		perr(c, ln, "bad price \"%s\"", quote(&q, s, n));
		break;
	case M_DECIMALS:
		perr(c, ln, "bad price \"%s\": at most 2 decimal places", quote(&q, s, n));
		break;
	case M_RANGE:
		perr(c, ln, "price %s is too large", quote(&q, s, n));
		break;
	case M_NEGATIVE:
		perr(c, ln, "price must not be negative, not %s", quote(&q, s, n));
		break;
	case M_CURRENCY:
		perr(c, ln, "price in %s, but the calculation is in %s", found,
		    c->currency ? quotez(&q, c->currency) : "?");
		break;
	}
	return -1;
}

/* Runs item_check on a parsed item and keeps it, or reports why not.
 * Takes ownership of the item's strings. */
static void
item_add(struct pctx *c, struct calc_item *it)
{
	struct priced pr;
	char err[256];
	struct calc_parse *p = c->out;

	if (item_check(c->cfg, c->currency, it, &pr, err, sizeof(err)) < 0) {
		perr(c, it->line, "%s", err);
		free(it->sku);
		free(it->description);
		free(it->note);
		return;
	}
	p->items = xrealloc(p->items, (p->nitems + 1) * sizeof(*p->items));
	p->items[p->nitems++] = *it;
}

/* "SKU QTY [size] [@ price]"; s normalised, trimmed, note cut off. */
static void
parse_sku_line(struct pctx *c, int ln, char *s, char *note)
{
	struct calc_item it = {.line = ln, .price = -1};
	struct quote q;
	char *at = strchr(s, '@'), *ptext = NULL;
	size_t n;
	const char *r;

	if (at) {
		*at = '\0';
		ptext = str_trim(at + 1);
	}
	n = word_len(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7F || s[i] == '"' ||
		    n > SKU_MAX) {
			perr(c, ln, "\"%s\" is not a SKU, a free line (* …) or SUBMIT",
			    quote(&q, s, n));
			goto fail;
		}
	if (n == 0) {
		perr(c, ln, "missing SKU before @");
		goto fail;
	}
	{
		char sku[SKU_MAX + 1];
		memcpy(sku, s, n);
		sku[n] = '\0';
		const struct cfg_product *p = config_product(c->cfg, sku);
		if (!p) {
			unknown_sku(c, ln, s, n);
			goto fail;
		}
		it.sku = xstrdup(p->sku);
	}
	r = skip_ws(s + n);
	if (!*r) {
		perr(c, ln, "missing quantity after %s", it.sku);
		goto fail;
	}
	{
		/* "SKU 300 x 100 cm": a whole size where the quantity belongs (a
		 * quantity and a size, "3 300x100cm", never parse as one size) */
		int64_t w, h;
		const char *e;
		if (parse_size(r, &w, &h, &e) == SZ_OK) {
			perr(c, ln, "missing quantity before the size %s",
			    quote(&q, r, (size_t)(e - r)));
			goto fail;
		}
	}
	n = word_len(r);
	if (qty_parse(c, ln, r, n, 0, &it.qty_milli) < 0)
		goto fail;
	r = skip_ws(r + n);
	if (*r && size_parse(c, ln, r, &it) < 0)
		goto fail;
	if (ptext && price_parse(c, ln, ptext, &it.price) < 0)
		goto fail;
	it.note = note;
	item_add(c, &it);
	return;
fail:
	free(it.sku);
	free(note);
}

/* "* description QTY @ price"; s normalised, trimmed, starting with '*',
 * note cut off. */
static void
parse_free_line(struct pctx *c, int ln, char *s, char *note)
{
	struct calc_item it = {.line = ln, .price = -1};
	char *body = str_trim(s + 1), *at = strrchr(body, '@');

	if (!at) {
		perr(c, ln, "a free line needs a quantity and a price: * description QTY @ PRICE");
		goto fail;
	}
	*at = '\0';
	char *ptext = str_trim(at + 1);
	char *left = str_trim(body);
	size_t len = strlen(left), k = len;
	while (k > 0 && left[k - 1] != ' ')
		k--;
	if (len == 0) {
		perr(c, ln, "a free line needs a description and a quantity: "
		    "* description QTY @ PRICE");
		goto fail;
	}
	if (qty_parse(c, ln, left + k, len - k, 1, &it.qty_milli) < 0)
		goto fail;
	left[rtrim_len(left, k)] = '\0';
	if (!*left) {
		perr(c, ln, "a free line needs a description: * description QTY @ PRICE");
		goto fail;
	}
	if (price_parse(c, ln, ptext, &it.price) < 0)
		goto fail;
	it.description = xstrdup(left);
	it.note = note;
	item_add(c, &it);
	return;
fail:
	free(note);
}

/* SUBMIT, WYŚLIJ, WYSLIJ, EINREICHEN in any case: s[0..n). */
static int
is_submit(const char *s, size_t n)
{
	static const char *const words[] = {"submit", "wy\xc5\x9blij", "wyslij", "einreichen"};
	char w[16];
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (j + 2 >= sizeof(w))
			return 0;
		if ((unsigned char)s[i] == 0xC5 && i + 1 < n &&
		    ((unsigned char)s[i + 1] == 0x9A || (unsigned char)s[i + 1] == 0x9B)) {
			w[j++] = s[i++];
			w[j++] = (char)0x9B; /* Ś -> ś */
		} else {
			w[j++] = lower(s[i]);
		}
	}
	w[j] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(w, words[i]) == 0)
			return 1;
	return 0;
}

static void
parse_submit(struct pctx *c, int ln, const char *s, size_t wlen, int had_note)
{
	struct quote q, q2;
	const char *arg = skip_ws(s + wlen);
	size_t n = word_len(arg);

	c->out->submit = 1;
	if (c->submit_line) {
		perr(c, ln, "more than one SUBMIT (the first is on line %d)", c->submit_line);
		return;
	}
	c->submit_line = ln;
	if (had_note) {
		perr(c, ln, "SUBMIT takes no note");
		return;
	}
	if (n == 0)
		return;
	const char *more = skip_ws(arg + n);
	if (*more) {
		perr(c, ln, "unexpected \"%s\" after SUBMIT %s", quotez(&q, more),
		    quote(&q2, arg, n));
		return;
	}
	char login[64];
	const struct cfg_user *u = NULL;
	if (n < sizeof(login)) {
		memcpy(login, arg, n);
		login[n] = '\0';
		u = config_user(c->cfg, login);
	}
	if (!u) {
		perr(c, ln, "SUBMIT names unknown user %s", quote(&q, arg, n));
		return;
	}
	c->out->submit_to = xstrdup(u->login);
}

/* Cuts the note off s: from the first '#' with a space before it and a
 * space or the end after it.  Returns the note (trimmed, NULL if empty);
 * *had says whether there was a '#' at all. */
static char *
cut_note(char *s, int *had)
{
	*had = 0;
	for (char *p = s + 1; *p; p++)
		if (*p == '#' && p[-1] == ' ' && (p[1] == ' ' || p[1] == '\0')) {
			*p = '\0';
			*had = 1;
			char *n = str_trim(p + 1);
			return *n ? xstrdup(n) : NULL;
		}
	return NULL;
}

/* 1 when s holds only blanks (the text after the last allowed line). */
static int
all_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

/* One line raw[0..len).  Returns -1 when the rest of the text is not to be
 * read (item limit). */
static int
parse_line(struct pctx *c, int ln, const char *raw, size_t len)
{
	while (len > 0 && raw[len - 1] == '\r')
		len--;
	if (len > (size_t)CALC_MAX_LINE_CHARS * 4) {
		perr(c, ln, "line too long (more than %d characters)", CALC_MAX_LINE_CHARS);
		return 0;
	}
	if (!utf8_valid(raw, len)) {
		perr(c, ln, "not valid UTF-8");
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char u = (unsigned char)raw[i];
		if ((u < 0x20 && u != '\t') || u == 0x7F ||
		    (u == 0xC2 && i + 1 < len && (unsigned char)raw[i + 1] < 0xA0)) {
			perr(c, ln, "control character in the line");
			return 0;
		}
	}
	char *buf = norm_blanks(raw, len);
	if (utf8_len(buf) > CALC_MAX_LINE_CHARS) {
		perr(c, ln, "line too long (more than %d characters)", CALC_MAX_LINE_CHARS);
		free(buf);
		return 0;
	}
	char *s = str_trim(buf);
	if (!*s || strncmp(s, "//", 2) == 0) {
		free(buf);
		return 0;
	}
	size_t w = word_len(s);
	int had_note;
	char *note = cut_note(s, &had_note);
	s = str_trim(s);
	if (is_submit(s, w)) {
		free(note);
		parse_submit(c, ln, s, w, had_note);
		free(buf);
		return 0;
	}
	if (c->submit_line && !c->submit_flagged) {
		perr(c, c->submit_line, "SUBMIT must be the last line (line %d follows it)", ln);
		c->submit_flagged = 1;
	}
	if (++c->nitem_lines > CALC_MAX_ITEMS) {
		perr(c, ln, "too many items (at most %d); the rest was not read", CALC_MAX_ITEMS);
		free(note);
		free(buf);
		return -1;
	}
	if (*s == '*')
		parse_free_line(c, ln, s, note);
	else
		parse_sku_line(c, ln, s, note);
	free(buf);
	return 0;
}

void
calc_parse_text(const struct config *cfg, const char *currency, const char *text,
    struct calc_parse *out)
{
	struct pctx c = {.cfg = cfg, .currency = currency, .out = out};
	const char *p = text ? text : "";
	int ln = 0;

	memset(out, 0, sizeof(*out));
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (++ln > CALC_MAX_LINES) {
			if (!all_blank(p))
				perr(&c, ln, "too many lines (at most %d); the rest was not read",
				    CALC_MAX_LINES);
			break;
		}
		if (parse_line(&c, ln, p, len) < 0 || !e)
			break;
		p = e + 1;
	}
}

void
calc_parse_free(struct calc_parse *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nitems; i++) {
		free(p->items[i].sku);
		free(p->items[i].description);
		free(p->items[i].note);
	}
	free(p->items);
	for (size_t i = 0; i < p->nerrors; i++)
		free(p->errors[i].message);
	free(p->errors);
	free(p->submit_to);
	memset(p, 0, sizeof(*p));
}

/* ---- pricing ------------------------------------------------------------ */

void
calc_result_free(struct calc_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nlines; i++) {
		free(r->lines[i].sku);
		free(r->lines[i].name);
		free(r->lines[i].unit);
		free(r->lines[i].note);
	}
	free(r->lines);
	free(r->by_rate);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

/* Fails the whole result: no lines, zero totals, the reason kept. */
static void
price_fail(struct calc_result *out, char *msg)
{
	int rc = out->reverse_charge;
	calc_result_free(out);
	out->reverse_charge = rc;
	out->error = msg;
}

void
calc_price(const struct config *cfg, const struct calc_parse *p, const char *currency,
    const char *lang, int reverse_charge, struct calc_result *out)
{
	int de = lang && strcmp(lang, "de") == 0;

	memset(out, 0, sizeof(*out));
	out->reverse_charge = reverse_charge ? 1 : 0;
	if (!p || p->nitems == 0)
		return;
	out->lines = xcalloc(p->nitems, sizeof(*out->lines));
	out->by_rate = xcalloc(p->nitems, sizeof(*out->by_rate));
	for (size_t i = 0; i < p->nitems; i++) {
		const struct calc_item *it = &p->items[i];
		struct calc_line *l = &out->lines[out->nlines];
		struct priced pr;
		char err[256];

		if (item_check(cfg, currency, it, &pr, err, sizeof(err)) < 0) {
			price_fail(out, xasprintf("line %d: %s", it->line, err));
			return;
		}
		out->nlines++;
		l->sku = pr.prod ? xstrdup(pr.prod->sku) : NULL;
		l->name = xstrdup(!pr.prod ? it->description : de ? pr.prod->name_de
		    : pr.prod->name_pl);
		l->unit = xstrdup(pr.prod ? unit_name(pr.prod->unit) : "pcs");
		l->qty_milli = it->qty_milli;
		l->w_mm = it->w_mm;
		l->h_mm = it->h_mm;
		l->billed_milli = pr.billed;
		l->list_price = pr.prod ? pr.list_price : -1;
		l->unit_price = pr.unit_price;
		l->net = pr.net;
		l->vat_bp = out->reverse_charge ? 0 : pr.vat_bp;
		l->note = xstrdup(it->note);

		/* the line's rate, kept in ascending order */
		size_t k = 0;
		while (k < out->nrates && out->by_rate[k].vat_bp < l->vat_bp)
			k++;
		if (k == out->nrates || out->by_rate[k].vat_bp != l->vat_bp) {
			memmove(&out->by_rate[k + 1], &out->by_rate[k],
			    (out->nrates - k) * sizeof(*out->by_rate));
			memset(&out->by_rate[k], 0, sizeof(*out->by_rate));
			out->by_rate[k].vat_bp = l->vat_bp;
			out->nrates++;
		}
		if (__builtin_add_overflow(out->by_rate[k].net, l->net, &out->by_rate[k].net)) {
			price_fail(out, xstrdup("total too large"));
			return;
		}
	}
	for (size_t k = 0; k < out->nrates; k++) {
		struct calc_total *t = &out->by_rate[k];
		if (muldiv_half_up(t->net, t->vat_bp, 10000, &t->vat) < 0 ||
		    __builtin_add_overflow(t->net, t->vat, &t->gross) ||
		    __builtin_add_overflow(out->net, t->net, &out->net) ||
		    __builtin_add_overflow(out->vat, t->vat, &out->vat) ||
		    __builtin_add_overflow(out->gross, t->gross, &out->gross)) {
			price_fail(out, xstrdup("total too large"));
			return;
		}
	}
}
