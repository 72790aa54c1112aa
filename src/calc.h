/*
 * calc: calculation lines as reps write them in mail, and their
 * arithmetic.  All money is integer minor units (grosze, cents); no
 * floating point anywhere.
 *
 * Grammar, one item per line:
 *   SKU QTY [WxH(mm|cm|m)] [@ UNIT_PRICE] [# note]
 *   * free description QTY @ UNIT_PRICE [# note]
 *   SUBMIT [approver-login]          (last line; optional)
 * Quantities and prices accept "12,5" and "12.5"; prices "1 234,50",
 * "1234.5", with an optional "zł", "PLN", "EUR" or "€" that must match the
 * calculation currency.  Sizes "300x100cm", "3 x 1 m", "3000×1000 mm".
 * Blank lines and lines starting with "//" are ignored.
 *
 * Details the grammar above leaves open (calc.c decides them):
 *  - Whitespace is spaces, tabs, U+00A0 and U+202F (mail clients put
 *    no-break spaces into typed text); CRLF line ends are accepted.
 *  - A note starts at the first "#" with whitespace before and after it
 *    (or at the end of the line), so "* Naklejka #1 2 @ 10" has no note.
 *  - A free line's price starts at its last "@", so its description may
 *    hold "@"; its quantity is the last word before that "@".
 *  - Sizes: W[unit] x H unit, separator "x", "X" or "×" with optional
 *    spaces; at most 3 decimals, a whole number of millimetres, each side
 *    above 0 and at most CALC_MAX_SIDE_MM.
 *  - Quantities: at most 3 decimals, above 0, at most CALC_MAX_QTY.
 *  - An unknown SKU names up to 3 SKUs within max(2, length/2) edits
 *    (adjacent swaps count one), or that it begins when 3 or more
 *    characters long ("BAN" -> BAN-440, BAN-510, BAN-BLOCK); nearest first.
 *  - SUBMIT is also accepted as WYŚLIJ, WYSLIJ, EINREICHEN (any case, as in
 *    reply.h); its login must be a user in cfg.  SUBMIT takes no note.
 */
#ifndef INKFLOW_CALC_H
#define INKFLOW_CALC_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* Limits of calc_parse_text; one more is an error naming the line. */
#define CALC_MAX_ITEMS      200      /* item lines (SKU and free lines) */
#define CALC_MAX_LINES      500      /* lines of text; blank lines after them are ignored */
#define CALC_MAX_LINE_CHARS 1000     /* characters (code points) per line */
#define CALC_MAX_QTY        1000000  /* largest quantity, whole units */
#define CALC_MAX_SIDE_MM    100000   /* largest width or height: 100 m */
/* Largest net amount of one line, in minor units (10 000 000 000,00); with
 * CALC_MAX_ITEMS it keeps every total far inside int64_t. */
#define CALC_MAX_LINE_NET   1000000000000LL
/* Largest amount calc_parse_money accepts, in minor units (10^15). */
#define CALC_MAX_AMOUNT     1000000000000000LL

struct calc_item {
	int line;           /* line number in the text, 1-based */
	char *sku;          /* NULL for a free line */
	char *description;  /* free line text, or NULL for an SKU line */
	int64_t qty_milli;  /* quantity in thousandths (2,5 -> 2500); > 0 */
	int64_t w_mm, h_mm; /* 0 when no size given */
	int64_t price;      /* unit price in minor units; -1 = list price */
	char *note;         /* NULL if none */
};

struct calc_error {
	int line;
	char *message;      /* "line 3: unknown SKU BAN-44 (did you mean BAN-440, BAN-510?)" */
};

struct calc_parse {
	struct calc_item *items;
	size_t nitems;
	struct calc_error *errors;
	size_t nerrors;
	int submit;         /* a SUBMIT line was present */
	char *submit_to;    /* login after SUBMIT, NULL if none */
};

/* Parse text.  SKUs are checked against cfg's price list (closest SKUs
 * suggested for unknown ones, by edit distance), per-m² products require a
 * size, pcs/m products refuse one, a SKU without a list price in currency
 * requires an explicit price.  currency is "PLN" or "EUR".  Limits: at most
 * 200 items, 500 lines, 1000 characters per line.  Always fills out;
 * errors are listed in line order.
 *
 * items holds only the lines without errors, so a text with errors still
 * shows what was understood.  Each line yields at most one error (its
 * first problem), except that a SUBMIT line may also be flagged for what
 * follows it.  Beyond CALC_MAX_ITEMS or CALC_MAX_LINES one error names the
 * line where the limit was passed and the rest of the text is not read.
 * A line whose amounts would exceed CALC_MAX_LINE_NET (at its list price
 * or the price given) is an error, so calc_price cannot overflow.  Error
 * messages quote at most 40 bytes of what was written.  Free with
 * calc_parse_free (a zeroed struct is valid to free; NULL is a no-op). */
void calc_parse_text(const struct config *cfg, const char *currency, const char *text,
    struct calc_parse *out);
void calc_parse_free(struct calc_parse *p);

/* One priced line. */
struct calc_line {
	char *sku;            /* NULL for free lines */
	char *name;           /* product name in lang, or the free description */
	char *unit;           /* "m2", "pcs", "m" (free lines: "pcs") */
	int64_t qty_milli;
	int64_t w_mm, h_mm;
	int64_t billed_milli; /* billed quantity in thousandths of the unit:
	                       * m²: qty × W × H; others: qty */
	int64_t list_price;   /* per unit, minor units; -1 for free lines */
	int64_t unit_price;   /* used per unit */
	int64_t net;          /* billed × unit price, rounded half up to 1 minor unit */
	int vat_bp;           /* basis points; 0 under reverse charge */
	char *note;
};

struct calc_total {
	int vat_bp;
	int64_t net, vat, gross;
};

struct calc_result {
	struct calc_line *lines;
	size_t nlines;
	struct calc_total *by_rate; /* per VAT rate, ascending */
	size_t nrates;
	int64_t net, vat, gross;    /* sums of the per-rate totals */
	int reverse_charge;
	char *error;  /* NULL, or why nothing was priced ("line 3: unknown
	               * SKU X"): set only when p did not come from
	               * calc_parse_text with the same cfg and currency; then
	               * there are no lines and all totals are 0 */
};

/* Price the parsed items.  VAT per line from the price list (free lines:
 * the standard 23%), or 0 with reverse_charge set for an EU business client
 * outside Poland with a VAT id.  VAT is computed per rate on the rate's net
 * sum, rounded half up.  Product names in lang ("pl"/"de"; anything else
 * is "pl").  Rounding, all half up on exact integers: billed_milli for m²
 * is qty_milli × W × H / 10^6, net is billed_milli × unit_price / 1000,
 * VAT is net sum × vat_bp / 10000.  Always fills out; check out->error.
 * Free with calc_result_free (NULL is a no-op). */
void calc_price(const struct config *cfg, const struct calc_parse *p, const char *currency,
    const char *lang, int reverse_charge, struct calc_result *out);
void calc_result_free(struct calc_result *r);

/* Money for people: "1 234,56 zł" (pl, PLN), "1.234,56 €" (de, EUR); the
 * other combinations follow the language's separators with the currency's
 * symbol ("1 234,56 €", "1.234,56 zł").  Negative amounts with a leading
 * minus.  out of at least 40 bytes.  The group separator (pl) and the
 * space before the symbol are plain ASCII spaces, not U+00A0, so the text
 * survives every mail client and PDF font unchanged.  Any currency other
 * than PLN and EUR is written by its code ("12,00 USD"); any lang other
 * than "de" formats as "pl".  Every int64_t fits in 40 bytes; when size is
 * smaller than needed out becomes "" (never a cut number). */
void calc_money(int64_t minor, const char *currency, const char *lang, char *out, size_t size);
/* Parse a price as written by a person ("1 234,50", "12.5", "12 zł");
 * currency symbols are checked against currency.  0 / -1.
 * Accepted: digits with at most 2 decimals after "," or "."; thousands
 * grouped by spaces (also U+00A0, U+202F) or by the other one of "." and ","
 * ("1.234,50", "1,234.50"); "150,-" for whole units; a currency "zł",
 * "zl", "PLN", "EUR" or "€" (letters in any case) before or after the
 * number.  Refused: negative amounts, 3 or more decimals ("1.234" is not
 * guessed), more than CALC_MAX_AMOUNT, a currency other than currency
 * (currency NULL: any of them).  *out is set only on success. */
int calc_parse_money(const char *s, const char *currency, int64_t *out);

#endif
