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
 */
#ifndef INKFLOW_CALC_H
#define INKFLOW_CALC_H

#include <stddef.h>
#include <stdint.h>

struct config;

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
 * errors are listed in line order. */
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
};

/* Price the parsed items.  VAT per line from the price list (free lines:
 * the standard 23%), or 0 with reverse_charge set for an EU business client
 * outside Poland with a VAT id.  VAT is computed per rate on the rate's net
 * sum, rounded half up.  Product names in lang ("pl"/"de"). */
void calc_price(const struct config *cfg, const struct calc_parse *p, const char *currency,
    const char *lang, int reverse_charge, struct calc_result *out);
void calc_result_free(struct calc_result *r);

/* Money for people: "1 234,56 zł" (pl, PLN), "1.234,56 €" (de, EUR); the
 * other combinations follow the language's separators with the currency's
 * symbol ("1 234,56 €", "1.234,56 zł").  Negative amounts with a leading
 * minus.  out of at least 40 bytes. */
void calc_money(int64_t minor, const char *currency, const char *lang, char *out, size_t size);
/* Parse a price as written by a person ("1 234,50", "12.5", "12 zł");
 * currency symbols are checked against currency.  0 / -1. */
int calc_parse_money(const char *s, const char *currency, int64_t *out);

#endif
