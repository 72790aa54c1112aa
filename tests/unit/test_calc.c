/*
 * Unit tests for calc.c.  Run from the repository root, or set
 * INKFLOW_SRCDIR to it: the shipped conf/inkflow.xml (and its price list)
 * is the main fixture; mixed VAT rates and missing list prices use a small
 * struct config built in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"
#include "config.h"
#include "util.h"

static struct config *cfg; /* the shipped configuration */

/* A price list the shipped one cannot give: three VAT rates, a product
 * without a EUR price. */
static struct cfg_product mem_products[] = {
	{.sku = "BOOK", .name_pl = "Katalog", .name_de = "Katalog", .unit = UNIT_PCS,
	    .vat_bp = 800, .price_pln = 5000, .price_eur = -1},
	{.sku = "MAT", .name_pl = "Mata", .name_de = "Matte", .unit = UNIT_M2,
	    .vat_bp = 2300, .price_pln = 1000, .price_eur = 250},
	{.sku = "ZERO", .name_pl = "Zwolniony", .name_de = "Befreit", .unit = UNIT_PCS,
	    .vat_bp = 0, .price_pln = 100, .price_eur = 25},
};
static struct cfg_user mem_users[] = {
	{.login = "boss", .name = "Boss", .email = "boss@x.example", .role = ROLE_BOARD,
	    .lang = "pl"},
};
static struct config mem_cfg = {
	.products = mem_products, .nproducts = ARRAY_LEN(mem_products),
	.users = mem_users, .nusers = ARRAY_LEN(mem_users),
};

static int
setup(void **state)
{
	(void)state;
	const char *s = getenv("INKFLOW_SRCDIR");
	char *path = xasprintf("%s/conf/inkflow.xml", s && *s ? s : ".");
	struct errlist e = {0};
	int rc = config_load(path, &cfg, &e);
	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "config: %s\n", e.v[i]);
	errlist_free(&e);
	free(path);
	return rc;
}

static int
teardown(void **state)
{
	(void)state;
	config_free(cfg);
	return 0;
}

static void
dump(const struct calc_parse *p)
{
	for (size_t i = 0; i < p->nerrors; i++)
		fprintf(stderr, "  error: %s\n", p->errors[i].message);
}

/* Parses text that must give no errors and n items. */
static void
parse_ok(const struct config *c, const char *cur, const char *text, size_t n,
    struct calc_parse *p)
{
	calc_parse_text(c, cur, text, p);
	if (p->nerrors) {
		fprintf(stderr, "unexpected errors for \"%s\":\n", text);
		dump(p);
	}
	assert_int_equal(p->nerrors, 0);
	assert_int_equal(p->nitems, n);
}

/* Parses text; its errors must be exactly want (NULL-terminated). */
static void
check_errors(const struct config *c, const char *cur, const char *text,
    const char *const *want, struct calc_parse *p)
{
	size_t n = 0;
	calc_parse_text(c, cur, text, p);
	while (want[n])
		n++;
	int bad = p->nerrors != n;
	for (size_t i = 0; !bad && i < n; i++)
		bad = strcmp(p->errors[i].message, want[i]) != 0;
	if (bad) {
		fprintf(stderr, "for \"%s\" wanted:\n", text);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  error: %s\n", want[i]);
		fprintf(stderr, "got:\n");
		dump(p);
	}
	assert_false(bad);
	for (size_t i = 0; i < p->nerrors; i++)
		assert_int_equal(p->errors[i].line,
		    (int)strtol(p->errors[i].message + strlen("line "), NULL, 10));
}

struct errcase {
	const char *cur, *text, *msg;
};

/* Each case: one line, one error, no item. */
static void
run_errcases(const struct config *c, const struct errcase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct calc_parse p;
		const char *want[] = {t[i].msg, NULL};
		check_errors(c, t[i].cur, t[i].text, want, &p);
		assert_int_equal(p.nitems, 0);
		calc_parse_free(&p);
	}
}

/* ---- grammar ------------------------------------------------------------ */

static void
test_sku_line(void **state)
{
	(void)state;
	struct calc_parse p;
	parse_ok(cfg, "PLN", "BAN-440 3 300x100cm", 1, &p);
	const struct calc_item *it = &p.items[0];
	assert_int_equal(it->line, 1);
	assert_string_equal(it->sku, "BAN-440");
	assert_null(it->description);
	assert_int_equal(it->qty_milli, 3000);
	assert_int_equal(it->w_mm, 3000);
	assert_int_equal(it->h_mm, 1000);
	assert_int_equal(it->price, -1);
	assert_null(it->note);
	assert_int_equal(p.submit, 0);
	assert_null(p.submit_to);
	calc_parse_free(&p);

	/* SKUs compare case-insensitively; the item carries the list's spelling */
	parse_ok(cfg, "PLN", "rollup-85 2", 1, &p);
	assert_string_equal(p.items[0].sku, "ROLLUP-85");
	assert_int_equal(p.items[0].w_mm, 0);
	assert_int_equal(p.items[0].h_mm, 0);
	calc_parse_free(&p);
}

static void
test_quantities(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t milli;
	} t[] = {
		{"FIN-HEM 12", 12000}, {"FIN-HEM 2,5", 2500}, {"FIN-HEM 2.5", 2500},
		{"FIN-HEM 2,50", 2500}, {"FIN-HEM 0,125", 125}, {"FIN-HEM 0.001", 1},
		{"FIN-HEM 007", 7000}, {"FIN-EYE 1000000", 1000000000},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct calc_parse p;
		parse_ok(cfg, "PLN", t[i].text, 1, &p);
		assert_int_equal(p.items[0].qty_milli, t[i].milli);
		calc_parse_free(&p);
	}
}

static void
test_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *size;
		int64_t w, h;
	} t[] = {
		{"300x100cm", 3000, 1000}, {"300X100cm", 3000, 1000},
		{"300×100cm", 3000, 1000}, {"300 x 100 cm", 3000, 1000},
		{"300 × 100 cm", 3000, 1000}, {"3 x 1 m", 3000, 1000},
		{"3000×1000 mm", 3000, 1000}, {"3000x1000mm", 3000, 1000},
		{"1,5x0,8m", 1500, 800}, {"1.5x0.8m", 1500, 800},
		{"30,5x20cm", 305, 200}, {"0,125x0,001m", 125, 1},
		{"3m x 100cm", 3000, 1000}, {"300x100CM", 3000, 1000},
		{"100x100m", 100000, 100000}, {"1x1mm", 1, 1},
		{"85 x 200cm", 850, 2000},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct calc_parse p;
		char *text = xasprintf("BAN-440 2 %s", t[i].size);
		parse_ok(cfg, "PLN", text, 1, &p);
		if (p.items[0].w_mm != t[i].w || p.items[0].h_mm != t[i].h)
			fprintf(stderr, "size \"%s\": %" PRId64 "x%" PRId64 "\n", t[i].size,
			    p.items[0].w_mm, p.items[0].h_mm);
		assert_int_equal(p.items[0].w_mm, t[i].w);
		assert_int_equal(p.items[0].h_mm, t[i].h);
		assert_int_equal(p.items[0].qty_milli, 2000);
		calc_parse_free(&p);
		free(text);
	}
}

static void
test_prices(void **state)
{
	(void)state;
	static const struct {
		const char *cur, *text;
		int64_t price;
	} t[] = {
		{"PLN", "ROLLUP-85 1 @ 39,50", 3950},
		{"PLN", "ROLLUP-85 1 @39.5", 3950},
		{"PLN", "ROLLUP-85 1@39.5", 3950},
		{"PLN", "ROLLUP-85 1 @ 1 234,50 zł", 123450},
		{"PLN", "ROLLUP-85 1 @ 1234.5", 123450},
		{"PLN", "ROLLUP-85 1 @ 1.234,50", 123450},
		{"PLN", "ROLLUP-85 1 @ 150,-", 15000},
		{"PLN", "ROLLUP-85 1 @ 12 PLN", 1200},
		{"PLN", "ROLLUP-85 1 @ 12zł", 1200},
		{"PLN", "ROLLUP-85 1 @ 12 zl", 1200},
		{"PLN", "ROLLUP-85 1 @ 0", 0},
		{"EUR", "ROLLUP-85 1 @ 12 EUR", 1200},
		{"EUR", "ROLLUP-85 1 @ 9,20 €", 920},
		{"EUR", "ROLLUP-85 1 @ €9,20", 920},
		{"EUR", "BAN-440 2 300x100cm @ 9,5", 950},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct calc_parse p;
		parse_ok(cfg, t[i].cur, t[i].text, 1, &p);
		assert_int_equal(p.items[0].price, t[i].price);
		assert_int_equal(p.items[0].qty_milli, p.items[0].sku[0] == 'R' ? 1000 : 2000);
		calc_parse_free(&p);
	}
}

static void
test_free_lines(void **state)
{
	(void)state;
	static const struct {
		const char *text, *desc, *note;
		int64_t qty, price;
	} t[] = {
		{"* Projekt graficzny logo 2 @ 150", "Projekt graficzny logo", NULL, 2000, 15000},
		{"*Projekt 1 @ 10", "Projekt", NULL, 1000, 1000},
		{"* Projekt graficzny logo 2 @ 150 # wg briefu", "Projekt graficzny logo",
		    "wg briefu", 2000, 15000},
		/* '#' without a space after it is text, not a note */
		{"* Naklejka #1 2 @ 10", "Naklejka #1", NULL, 2000, 1000},
		/* the price starts at the last '@' */
		{"* Pliki od jan@firma.pl 1 @ 0", "Pliki od jan@firma.pl", NULL, 1000, 0},
		/* the quantity is the last word before '@'; a size stays text */
		{"* Tablica 300x100cm, 2 szt. 2,5 @ 1 234,50 zł", "Tablica 300x100cm, 2 szt.",
		    NULL, 2500, 123450},
		{"* Projekt 2024 1 @ 99,99", "Projekt 2024", NULL, 1000, 9999},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct calc_parse p;
		parse_ok(cfg, "PLN", t[i].text, 1, &p);
		const struct calc_item *it = &p.items[0];
		assert_null(it->sku);
		assert_string_equal(it->description, t[i].desc);
		assert_int_equal(it->qty_milli, t[i].qty);
		assert_int_equal(it->price, t[i].price);
		assert_int_equal(it->w_mm, 0);
		if (t[i].note)
			assert_string_equal(it->note, t[i].note);
		else
			assert_null(it->note);
		calc_parse_free(&p);
	}
}

static void
test_notes(void **state)
{
	(void)state;
	struct calc_parse p;
	parse_ok(cfg, "PLN",
	    "ROLLUP-85 2 # dostawa do piątku\n"
	    "BAN-440 1 100x100cm @ 35 # rabat stały  \n"
	    "FIN-EYE 8 #\n"
	    "FIN-HEM 4 # a # b\n",
	    4, &p);
	assert_string_equal(p.items[0].note, "dostawa do piątku");
	assert_null(p.items[0].description);
	assert_int_equal(p.items[1].price, 3500);
	assert_string_equal(p.items[1].note, "rabat stały");
	assert_null(p.items[2].note);
	assert_string_equal(p.items[3].note, "a # b");
	calc_parse_free(&p);
}

static void
test_blank_comment_crlf_nbsp(void **state)
{
	(void)state;
	struct calc_parse p;
	parse_ok(cfg, "PLN",
	    "\n// komentarz: BAN-44 nie istnieje\n   \n"
	    "ROLLUP-85\t2\r\n"
	    "\r\n"
	    "BAN-440 1 300\xc2\xa0x\xc2\xa0" "100cm @ 1\xe2\x80\xaf" "234,50\r\n"
	    "  FIN-EYE   4  ",
	    3, &p);
	assert_int_equal(p.items[0].line, 4);
	assert_int_equal(p.items[0].qty_milli, 2000);
	assert_int_equal(p.items[1].line, 6);
	assert_int_equal(p.items[1].w_mm, 3000);
	assert_int_equal(p.items[1].price, 123450);
	assert_int_equal(p.items[2].line, 7);
	calc_parse_free(&p);

	/* nothing at all */
	parse_ok(cfg, "PLN", "", 0, &p);
	calc_parse_free(&p);
	parse_ok(cfg, "PLN", NULL, 0, &p);
	assert_int_equal(p.submit, 0);
	calc_parse_free(&p);
	calc_parse_free(&p); /* freeing twice is harmless: the struct is zeroed */
	calc_parse_free(NULL);
}

static void
test_submit(void **state)
{
	(void)state;
	static const struct {
		const char *line, *to;
	} t[] = {
		{"SUBMIT", NULL}, {"SUBMIT m.zielinski", "m.zielinski"},
		{"submit M.Zielinski", "m.zielinski"}, {"Submit   e.wisniewska  ", "e.wisniewska"},
		{"WYŚLIJ", NULL}, {"wyślij l.wojcik", "l.wojcik"}, {"Wyslij", NULL},
		{"EINREICHEN m.zielinski", "m.zielinski"},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct calc_parse p;
		char *text = xasprintf("ROLLUP-85 1\n\n%s\n\n// done\n", t[i].line);
		parse_ok(cfg, "PLN", text, 1, &p);
		assert_int_equal(p.submit, 1);
		if (t[i].to)
			assert_string_equal(p.submit_to, t[i].to);
		else
			assert_null(p.submit_to);
		calc_parse_free(&p);
		free(text);
	}
	struct calc_parse p;
	parse_ok(cfg, "PLN", "SUBMIT", 0, &p);
	assert_int_equal(p.submit, 1);
	calc_parse_free(&p);
}

/* ---- errors ------------------------------------------------------------- */

static void
test_errors_sku(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		{"PLN", "BAN-44 2 300x100cm", "line 1: unknown SKU BAN-44 (did you mean BAN-440, BAN-510?)"},
		{"PLN", "rollup-58 1", "line 1: unknown SKU rollup-58 (did you mean ROLLUP-85?)"},
		{"PLN", "BAN 1", "line 1: unknown SKU BAN (did you mean BAN-440, BAN-510, BAN-BLOCK?)"},
		{"PLN", "vin 1", "line 1: unknown SKU vin (did you mean VIN-OWV, VIN-MONO, VIN-POLY?)"},
		{"PLN", "BAN-4400 1", "line 1: unknown SKU BAN-4400 (did you mean BAN-440, BAN-510?)"},
		{"PLN", "BNA-440 1", "line 1: unknown SKU BNA-440 (did you mean BAN-440, BAN-510?)"},
		{"PLN", "FIN 1", "line 1: unknown SKU FIN (did you mean FIN-HEM, FIN-EYE, FIN-LAM?)"},
		{"PLN", "FI 1", "line 1: unknown SKU FI"},
		{"PLN", "XYZZY-123 1", "line 1: unknown SKU XYZZY-123"},
		{"PLN", "Dzień dobry", "line 1: \"Dzień\" is not a SKU, a free line (* …) or SUBMIT"},
		{"PLN", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1",
		    "line 1: \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…\" is not a SKU, "
		    "a free line (* …) or SUBMIT"},
		{"PLN", "@ 12", "line 1: missing SKU before @"},
		{"PLN", "BAN-440", "line 1: missing quantity after BAN-440"},
		{"PLN", "ban-440 @ 39", "line 1: missing quantity after BAN-440"},
		{"PLN", "BAN-440 300x100cm", "line 1: missing quantity before the size 300x100cm"},
		{"PLN", "BAN-440 300 x 100 cm 3", "line 1: missing quantity before the size 300 x 100 cm"},
		{"PLN", "BAN-440 3 # za mało", "line 1: BAN-440 is priced per m²: give a size, e.g. 300x100cm"},
		{"PLN", "ROLLUP-85 1 85x200cm", "line 1: ROLLUP-85 is priced per piece: leave out the size"},
		{"PLN", "FIN-HEM 12 3x1m", "line 1: FIN-HEM is priced per running metre: give the "
		    "metres as the quantity, without a size"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));
}

static void
test_errors_quantity(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		{"PLN", "ROLLUP-85 abc", "line 1: bad quantity \"abc\""},
		{"PLN", "ROLLUP-85 3x", "line 1: bad quantity \"3x\""},
		{"PLN", "ROLLUP-85 2,", "line 1: bad quantity \"2,\""},
		{"PLN", "ROLLUP-85 ,5", "line 1: bad quantity \",5\""},
		{"PLN", "ROLLUP-85 0", "line 1: quantity must be greater than 0, not 0"},
		{"PLN", "ROLLUP-85 0,000", "line 1: quantity must be greater than 0, not 0,000"},
		{"PLN", "ROLLUP-85 -2", "line 1: quantity must be greater than 0, not -2"},
		{"PLN", "FIN-HEM 2,5555", "line 1: quantity 2,5555 has more than 3 decimals"},
		{"PLN", "ROLLUP-85 1000001", "line 1: quantity 1000001 is too large (at most 1000000)"},
		{"PLN", "ROLLUP-85 1000000,001", "line 1: quantity 1000000,001 is too large (at most 1000000)"},
		{"PLN", "ROLLUP-85 99999999999999999999999",
		    "line 1: quantity 99999999999999999999999 is too large (at most 1000000)"},
		{"PLN", "ROLLUP-85 2 szt", "line 1: unexpected \"szt\" after the quantity"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));
}

static void
test_errors_size(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		{"PLN", "BAN-440 1 300x", "line 1: bad size \"300x\": write it as WxH with mm, cm or m, e.g. 300x100cm"},
		{"PLN", "BAN-440 1 300cm", "line 1: bad size \"300cm\": write it as WxH with mm, cm or m, e.g. 300x100cm"},
		{"PLN", "BAN-440 1 300x100km", "line 1: bad size \"300x100km\": write it as WxH with mm, cm or m, e.g. 300x100cm"},
		{"PLN", "BAN-440 1 300*100cm", "line 1: bad size \"300*100cm\": write it as WxH with mm, cm or m, e.g. 300x100cm"},
		{"PLN", "BAN-440 1 3,0,0x1m", "line 1: bad size \"3,0,0x1m\": write it as WxH with mm, cm or m, e.g. 300x100cm"},
		{"PLN", "BAN-440 1 300x100", "line 1: size 300x100 needs a unit: mm, cm or m"},
		{"PLN", "BAN-440 1 0x100cm", "line 1: size 0x100cm: width and height must be greater than 0"},
		{"PLN", "BAN-440 1 3x0,0m", "line 1: size 3x0,0m: width and height must be greater than 0"},
		/* W takes H's unit when it has none: 300 m */
		{"PLN", "BAN-440 1 300x1m", "line 1: size 300x1m is too large (at most 100 m per side)"},
		{"PLN", "BAN-440 1 300,5x100mm", "line 1: size 300,5x100mm is finer than 1 mm"},
		{"PLN", "BAN-440 1 30,05x10cm", "line 1: size 30,05x10cm is finer than 1 mm"},
		{"PLN", "BAN-440 1 1,2345x1m", "line 1: size 1,2345x1m is finer than 1 mm"},
		{"PLN", "BAN-440 1 101x1m", "line 1: size 101x1m is too large (at most 100 m per side)"},
		{"PLN", "BAN-440 1 100,001x1m", "line 1: size 100,001x1m is too large (at most 100 m per side)"},
		{"PLN", "BAN-440 1 1x100001mm", "line 1: size 1x100001mm is too large (at most 100 m per side)"},
		{"PLN", "BAN-440 1 99999999999999999999x1m",
		    "line 1: size 99999999999999999999x1m is too large (at most 100 m per side)"},
		{"PLN", "BAN-440 1 300x100cm foo", "line 1: unexpected \"foo\" after the size"},
		{"PLN", "BAN-440 1 300x100cm 2", "line 1: unexpected \"2\" after the size"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));
}

static void
test_errors_price(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		{"PLN", "ROLLUP-85 2 @ abc", "line 1: bad price \"abc\""},
		{"PLN", "ROLLUP-85 2 @ 12,", "line 1: bad price \"12,\""},
		{"PLN", "ROLLUP-85 2 @ 1 2 3", "line 1: unexpected \"2 3\" after the price"},
		{"PLN", "ROLLUP-85 2 @ 239 netto", "line 1: unexpected \"netto\" after the price"},
		{"PLN", "ROLLUP-85 2 @ 1 234,50 zł brutto", "line 1: unexpected \"brutto\" after the price"},
		{"PLN", "ROLLUP-85 2 @ 12 @ 13", "line 1: unexpected \"@ 13\" after the price"},
		{"PLN", "ROLLUP-85 2 @ 12,555", "line 1: bad price \"12,555\": at most 2 decimal places"},
		{"PLN", "ROLLUP-85 2 @ 1.234", "line 1: bad price \"1.234\": at most 2 decimal places"},
		{"PLN", "ROLLUP-85 2 @ -5", "line 1: price must not be negative, not -5"},
		{"PLN", "ROLLUP-85 2 @ 99999999999999", "line 1: price 99999999999999 is too large"},
		{"PLN", "ROLLUP-85 2 @", "line 1: missing price after @"},
		{"PLN", "ROLLUP-85 2 @   # bez ceny", "line 1: missing price after @"},
		{"PLN", "ROLLUP-85 2 @ 12 EUR", "line 1: price in EUR, but the calculation is in PLN"},
		{"PLN", "ROLLUP-85 2 @ 9,20 €", "line 1: price in EUR, but the calculation is in PLN"},
		{"EUR", "ROLLUP-85 2 @ 9,20 zł", "line 1: price in PLN, but the calculation is in EUR"},
		{"EUR", "ROLLUP-85 2 @ PLN 9", "line 1: price in PLN, but the calculation is in EUR"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));

	/* no list price in the currency: only an explicit price will do */
	static const struct errcase m[] = {
		{"EUR", "BOOK 1", "line 1: BOOK has no list price in EUR: give a unit price, e.g. @ 12,50"},
	};
	run_errcases(&mem_cfg, m, ARRAY_LEN(m));
	struct calc_parse p;
	parse_ok(&mem_cfg, "EUR", "BOOK 1 @ 12", 1, &p);
	assert_int_equal(p.items[0].price, 1200);
	calc_parse_free(&p);
	parse_ok(&mem_cfg, "PLN", "BOOK 1", 1, &p);
	calc_parse_free(&p);
}

static void
test_errors_free_line(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		{"PLN", "* Projekt graficzny 2", "line 1: a free line needs a quantity and a price: * description QTY @ PRICE"},
		{"PLN", "* Projekt graficzny @ 150", "line 1: missing quantity before @ (* description QTY @ PRICE)"},
		{"PLN", "* 2 @ 150", "line 1: a free line needs a description: * description QTY @ PRICE"},
		{"PLN", "* @ 150", "line 1: a free line needs a description and a quantity: * description QTY @ PRICE"},
		{"PLN", "* Projekt 0 @ 150", "line 1: quantity must be greater than 0, not 0"},
		{"PLN", "* Projekt 1,0005 @ 150", "line 1: quantity 1,0005 has more than 3 decimals"},
		{"PLN", "* Projekt 1 @", "line 1: missing price after @"},
		{"PLN", "* Projekt 1 @ 150 EUR", "line 1: price in EUR, but the calculation is in PLN"},
		{"PLN", "* Projekt 1 @ sto", "line 1: bad price \"sto\""},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));
}

static void
test_errors_submit(void **state)
{
	(void)state;
	struct calc_parse p;
	const char *w1[] = {"line 1: SUBMIT must be the last line (line 3 follows it)", NULL};
	check_errors(cfg, "PLN", "SUBMIT\n// ok\nROLLUP-85 1\nFIN-EYE 2", w1, &p);
	assert_int_equal(p.nitems, 2); /* the lines after it are still read */
	assert_int_equal(p.submit, 1);
	calc_parse_free(&p);

	const char *w2[] = {"line 3: more than one SUBMIT (the first is on line 2)", NULL};
	check_errors(cfg, "PLN", "ROLLUP-85 1\nSUBMIT a.nowak\nSUBMIT", w2, &p);
	assert_int_equal(p.submit, 1);
	assert_string_equal(p.submit_to, "a.nowak");
	calc_parse_free(&p);

	const char *w3[] = {
		"line 1: SUBMIT must be the last line (line 2 follows it)",
		"line 2: unknown SKU BAN-44 (did you mean BAN-440, BAN-510?)",
		"line 3: more than one SUBMIT (the first is on line 1)",
		"line 4: missing quantity after ROLLUP-85",
		NULL,
	};
	check_errors(cfg, "PLN", "SUBMIT\nBAN-44 1\nsubmit\nROLLUP-85\nFIN-EYE 1", w3, &p);
	assert_int_equal(p.nitems, 1);
	assert_int_equal(p.items[0].line, 5);
	calc_parse_free(&p);

	static const struct errcase t[] = {
		{"PLN", "SUBMIT nobody", "line 1: SUBMIT names unknown user nobody"},
		{"PLN", "SUBMIT a.nowak extra", "line 1: unexpected \"extra\" after SUBMIT a.nowak"},
		{"PLN", "SUBMIT # pilne", "line 1: SUBMIT takes no note"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));
}

static void
test_errors_bytes(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		{"PLN", "* Projekt \xff 1 @ 1", "line 1: not valid UTF-8"},
		{"PLN", "ROLLUP-85 1\x01", "line 1: control character in the line"},
		{"PLN", "* Projekt \xc2\x85 1 @ 1", "line 1: control character in the line"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));

	/* 1000 characters pass, 1001 do not, counted in characters: 'ą' is
	 * two bytes */
	for (int mb = 0; mb < 2; mb++)
		for (int extra = 0; extra < 2; extra++) {
			struct sbuf sb = {0};
			sb_adds(&sb, "* ");
			for (int i = 0; i < 992 + extra; i++)
				sb_adds(&sb, mb ? "ą" : "a");
			sb_adds(&sb, " 1 @ 1");
			assert_int_equal(utf8_len(sb_str(&sb)), 1000 + extra);
			struct calc_parse p;
			const char *none[] = {NULL};
			const char *lng[] = {"line 1: line too long (more than 1000 characters)", NULL};
			check_errors(cfg, "PLN", sb_str(&sb), extra ? lng : none, &p);
			assert_int_equal(p.nitems, extra ? 0 : 1);
			calc_parse_free(&p);
			sb_free(&sb);
		}
}

static void
test_errors_several_lines(void **state)
{
	(void)state;
	struct calc_parse p;
	const char *want[] = {
		"line 2: unknown SKU BAN-44 (did you mean BAN-440, BAN-510?)",
		"line 3: BAN-440 is priced per m²: give a size, e.g. 300x100cm",
		"line 5: bad price \"abc\"",
		NULL,
	};
	check_errors(cfg, "PLN",
	    "ROLLUP-85 1\nBAN-44 2 300x100cm\nBAN-440 3\n* Projekt 1 @ 100\n"
	    "FIN-EYE 4 @ abc\nSUBMIT m.zielinski\n",
	    want, &p);
	/* the good lines are kept, the bad ones are not */
	assert_int_equal(p.nitems, 2);
	assert_int_equal(p.items[0].line, 1);
	assert_int_equal(p.items[1].line, 4);
	assert_int_equal(p.submit, 1);
	assert_string_equal(p.submit_to, "m.zielinski");
	calc_parse_free(&p);
}

/* ---- limits ------------------------------------------------------------- */

static void
test_item_limit(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	struct calc_parse p;

	sb_adds(&sb, "// two hundred items\n\n");
	for (int i = 0; i < CALC_MAX_ITEMS; i++)
		sb_adds(&sb, i % 2 ? "FIN-EYE 1\n" : "* Projekt 1 @ 1\n");
	sb_adds(&sb, "SUBMIT\n");
	parse_ok(cfg, "PLN", sb_str(&sb), CALC_MAX_ITEMS, &p);
	assert_int_equal(p.submit, 1);
	calc_parse_free(&p);
	sb_free(&sb);

	for (int i = 0; i < CALC_MAX_ITEMS + 1; i++)
		sb_adds(&sb, "FIN-EYE 1\n");
	sb_adds(&sb, "FIN-EYE 1\nBAN-44 1\nSUBMIT\n");
	const char *want[] = {"line 201: too many items (at most 200); the rest was not read", NULL};
	check_errors(cfg, "PLN", sb_str(&sb), want, &p);
	assert_int_equal(p.nitems, CALC_MAX_ITEMS);
	assert_int_equal(p.submit, 0); /* never reached */
	calc_parse_free(&p);
	sb_free(&sb);

	/* lines with errors count as items too: the limit is on what was written */
	for (int i = 0; i < CALC_MAX_ITEMS + 1; i++)
		sb_adds(&sb, i == 0 ? "BAN-440 1\n" : "FIN-EYE 1\n");
	const char *want2[] = {
		"line 1: BAN-440 is priced per m²: give a size, e.g. 300x100cm",
		"line 201: too many items (at most 200); the rest was not read",
		NULL,
	};
	check_errors(cfg, "PLN", sb_str(&sb), want2, &p);
	assert_int_equal(p.nitems, CALC_MAX_ITEMS - 1);
	calc_parse_free(&p);
	sb_free(&sb);
}

static void
test_line_limit(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	struct calc_parse p;

	for (int i = 0; i < CALC_MAX_LINES - 1; i++)
		sb_adds(&sb, "// filler\n");
	sb_adds(&sb, "FIN-EYE 1\n\n  \r\n\t\n"); /* blank lines past the limit are free */
	parse_ok(cfg, "PLN", sb_str(&sb), 1, &p);
	assert_int_equal(p.items[0].line, CALC_MAX_LINES);
	calc_parse_free(&p);

	sb_adds(&sb, "\nFIN-EYE 2\nBAN-44 1\n");
	const char *want[] = {"line 501: too many lines (at most 500); the rest was not read", NULL};
	check_errors(cfg, "PLN", sb_str(&sb), want, &p);
	assert_int_equal(p.nitems, 1);
	calc_parse_free(&p);
	sb_free(&sb);
}

static void
test_overflow(void **state)
{
	(void)state;
	static const struct errcase t[] = {
		/* 10^6 × 100 m × 100 m = 10^10 m² at 39 zł: qty × W × H alone is
		 * 10^19 thousandths·mm², beyond int64_t */
		{"PLN", "BAN-440 1000000 100x100m",
		    "line 1: amount too large (at most 10 000 000 000,00 zł per line)"},
		{"EUR", "BAN-440 1000000 100x100m",
		    "line 1: amount too large (at most 10 000 000 000,00 € per line)"},
		/* 10^6 × 10^13 zł: the product overflows int64_t */
		{"PLN", "ROLLUP-85 1000000 @ 10000000000000",
		    "line 1: amount too large (at most 10 000 000 000,00 zł per line)"},
		{"PLN", "ROLLUP-85 100,001 @ 100 000 000",
		    "line 1: amount too large (at most 10 000 000 000,00 zł per line)"},
	};
	run_errcases(cfg, t, ARRAY_LEN(t));

	/* the largest sizes and quantities still compute exactly */
	struct calc_parse p;
	struct calc_result r;
	parse_ok(cfg, "PLN", "BAN-440 1000000 100x100m @ 0,01\nROLLUP-85 100 @ 100 000 000", 2, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_null(r.error);
	assert_int_equal(r.lines[0].billed_milli, 10000000000000LL); /* 10^10 m² */
	assert_int_equal(r.lines[0].net, 10000000000LL);
	assert_int_equal(r.lines[1].net, CALC_MAX_LINE_NET);
	calc_result_free(&r);
	calc_parse_free(&p);

	/* 200 lines at the per-line maximum: totals stay exact */
	struct sbuf sb = {0};
	for (int i = 0; i < CALC_MAX_ITEMS; i++)
		sb_adds(&sb, "ROLLUP-85 100 @ 100 000 000\n");
	parse_ok(cfg, "PLN", sb_str(&sb), CALC_MAX_ITEMS, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_null(r.error);
	assert_int_equal(r.net, 200 * CALC_MAX_LINE_NET);
	assert_int_equal(r.vat, 46 * CALC_MAX_LINE_NET);
	assert_int_equal(r.gross, 246 * CALC_MAX_LINE_NET);
	char m[40];
	calc_money(r.gross, "PLN", "pl", m, sizeof(m));
	assert_string_equal(m, "2 460 000 000 000,00 zł");
	calc_result_free(&r);
	calc_parse_free(&p);
	sb_free(&sb);
}

/* ---- pricing ------------------------------------------------------------ */

static void
test_price_worked_example(void **state)
{
	(void)state;
	struct calc_parse p;
	struct calc_result r;
	char m[40];

	/* 3 × 3 m × 1 m = 9 m² at 39,00 zł = 351,00 zł; 23% of it 80,73 zł */
	parse_ok(cfg, "PLN", "BAN-440 3 300x100cm # front", 1, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_null(r.error);
	assert_int_equal(r.nlines, 1);
	const struct calc_line *l = &r.lines[0];
	assert_string_equal(l->sku, "BAN-440");
	assert_string_equal(l->name, "Baner frontlit 440 g/m²");
	assert_string_equal(l->unit, "m2");
	assert_int_equal(l->qty_milli, 3000);
	assert_int_equal(l->w_mm, 3000);
	assert_int_equal(l->h_mm, 1000);
	assert_int_equal(l->billed_milli, 9000);
	assert_int_equal(l->list_price, 3900);
	assert_int_equal(l->unit_price, 3900);
	assert_int_equal(l->net, 35100);
	assert_int_equal(l->vat_bp, 2300);
	assert_string_equal(l->note, "front");
	assert_int_equal(r.nrates, 1);
	assert_int_equal(r.by_rate[0].vat_bp, 2300);
	assert_int_equal(r.by_rate[0].net, 35100);
	assert_int_equal(r.by_rate[0].vat, 8073);
	assert_int_equal(r.by_rate[0].gross, 43173);
	assert_int_equal(r.net, 35100);
	assert_int_equal(r.vat, 8073);
	assert_int_equal(r.gross, 43173);
	assert_int_equal(r.reverse_charge, 0);
	calc_money(r.net, "PLN", "pl", m, sizeof(m));
	assert_string_equal(m, "351,00 zł");
	calc_money(r.vat, "PLN", "pl", m, sizeof(m));
	assert_string_equal(m, "80,73 zł");
	calc_money(r.gross, "PLN", "pl", m, sizeof(m));
	assert_string_equal(m, "431,73 zł");
	calc_result_free(&r);
	calc_result_free(&r); /* zeroed: harmless */
	calc_result_free(NULL);
	calc_parse_free(&p);
}

/* net of a one-line text priced in PLN */
static int64_t
net_of(const char *text, int64_t *billed)
{
	struct calc_parse p;
	struct calc_result r;
	parse_ok(cfg, "PLN", text, 1, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_null(r.error);
	int64_t net = r.lines[0].net;
	if (billed)
		*billed = r.lines[0].billed_milli;
	calc_result_free(&r);
	calc_parse_free(&p);
	return net;
}

static void
test_rounding(void **state)
{
	(void)state;
	int64_t b;

	/* billed m², thousandths, half up: 1 × 1 mm × 500 mm = 0,0005 m² */
	net_of("BAN-440 1 1x500mm", &b);
	assert_int_equal(b, 1);
	net_of("BAN-440 1 1x499mm", &b);
	assert_int_equal(b, 0);
	net_of("BAN-440 1 1x1500mm", &b);
	assert_int_equal(b, 2); /* 1,5 → 2 */
	net_of("BAN-440 3 333x333mm", &b);
	assert_int_equal(b, 333); /* 0,332667 m² */
	net_of("BAN-440 2,5 1,5x0,8m", &b);
	assert_int_equal(b, 3000);

	/* net, minor units, half up */
	assert_int_equal(net_of("* A 0,5 @ 0,01", NULL), 1);   /* 0,5 gr */
	assert_int_equal(net_of("* A 0,499 @ 0,01", NULL), 0); /* 0,499 gr */
	assert_int_equal(net_of("* A 1,5 @ 0,01", NULL), 2);   /* 1,5 gr */
	assert_int_equal(net_of("* A 0,001 @ 5", NULL), 1);    /* 0,5 gr */
	assert_int_equal(net_of("* A 0,001 @ 4,99", NULL), 0); /* 0,499 gr */
	assert_int_equal(net_of("FIN-HEM 2,5", NULL), 1125);   /* 2,5 × 4,50 */
	assert_int_equal(net_of("FIN-HEM 0,333", NULL), 150);  /* 149,85 gr */
	/* billed is rounded first, then priced: 0,333 m² × 39 zł */
	assert_int_equal(net_of("BAN-440 3 333x333mm", NULL), 1299); /* 12,987 zł */

	/* VAT half up on the rate's sum ("od sumy"), not per line */
	struct calc_parse p;
	struct calc_result r;
	parse_ok(cfg, "PLN", "* A 1 @ 0,50", 1, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_int_equal(r.vat, 12); /* 11,5 gr */
	calc_result_free(&r);
	calc_parse_free(&p);

	parse_ok(cfg, "PLN", "* A 1 @ 0,50\n* B 1 @ 0,50", 2, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_int_equal(r.net, 100);
	assert_int_equal(r.vat, 23); /* per line it would be 12 + 12 */
	assert_int_equal(r.gross, 123);
	calc_result_free(&r);
	calc_parse_free(&p);

	parse_ok(cfg, "PLN", "* A 1 @ 0,02\n* B 1 @ 0,02\n* C 1 @ 0,02", 3, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_int_equal(r.vat, 1); /* 6 × 0,23 = 1,38; per line 3 × 0 */
	calc_result_free(&r);
	calc_parse_free(&p);
}

static void
test_mixed_rates_and_reverse_charge(void **state)
{
	(void)state;
	struct calc_parse p;
	struct calc_result r;
	const char *text = "MAT 1 2x1m\nBOOK 3\n* Usługa 1 @ 100\nZERO 2\n";

	parse_ok(&mem_cfg, "PLN", text, 4, &p);
	calc_price(&mem_cfg, &p, "PLN", "pl", 0, &r);
	assert_null(r.error);
	assert_int_equal(r.nlines, 4);
	assert_int_equal(r.lines[0].net, 2000);
	assert_int_equal(r.lines[0].vat_bp, 2300);
	assert_int_equal(r.lines[1].net, 15000);
	assert_int_equal(r.lines[1].vat_bp, 800);
	assert_int_equal(r.lines[2].net, 10000);
	assert_int_equal(r.lines[2].vat_bp, 2300);
	assert_int_equal(r.lines[3].net, 200);
	assert_int_equal(r.lines[3].vat_bp, 0);
	assert_int_equal(r.nrates, 3);
	assert_int_equal(r.by_rate[0].vat_bp, 0);
	assert_int_equal(r.by_rate[0].net, 200);
	assert_int_equal(r.by_rate[0].vat, 0);
	assert_int_equal(r.by_rate[0].gross, 200);
	assert_int_equal(r.by_rate[1].vat_bp, 800);
	assert_int_equal(r.by_rate[1].net, 15000);
	assert_int_equal(r.by_rate[1].vat, 1200);
	assert_int_equal(r.by_rate[1].gross, 16200);
	assert_int_equal(r.by_rate[2].vat_bp, 2300);
	assert_int_equal(r.by_rate[2].net, 12000);
	assert_int_equal(r.by_rate[2].vat, 2760);
	assert_int_equal(r.by_rate[2].gross, 14760);
	assert_int_equal(r.net, 27200);
	assert_int_equal(r.vat, 3960);
	assert_int_equal(r.gross, 31160);
	calc_result_free(&r);

	/* reverse charge: every line 0%, one rate, gross = net */
	calc_price(&mem_cfg, &p, "PLN", "de", 1, &r);
	assert_null(r.error);
	assert_int_equal(r.reverse_charge, 1);
	for (size_t i = 0; i < r.nlines; i++)
		assert_int_equal(r.lines[i].vat_bp, 0);
	assert_string_equal(r.lines[0].name, "Matte");
	assert_int_equal(r.nrates, 1);
	assert_int_equal(r.by_rate[0].vat_bp, 0);
	assert_int_equal(r.by_rate[0].net, 27200);
	assert_int_equal(r.by_rate[0].vat, 0);
	assert_int_equal(r.by_rate[0].gross, 27200);
	assert_int_equal(r.net, 27200);
	assert_int_equal(r.vat, 0);
	assert_int_equal(r.gross, 27200);
	calc_result_free(&r);
	calc_parse_free(&p);
}

static void
test_eur_list_and_explicit_prices(void **state)
{
	(void)state;
	struct calc_parse p;
	struct calc_result r;

	parse_ok(cfg, "EUR", "BAN-440 3 300x100cm\nROLLUP-85 2\nBAN-510 1 1x1m @ 9,99 €\n"
	    "* Versand 1 @ 25\n", 4, &p);
	calc_price(cfg, &p, "EUR", "de", 0, &r);
	assert_null(r.error);
	assert_string_equal(r.lines[0].name, "Frontlit-Banner 440 g/m²");
	assert_int_equal(r.lines[0].list_price, 920);
	assert_int_equal(r.lines[0].unit_price, 920);
	assert_int_equal(r.lines[0].net, 8280); /* 9 m² × 9,20 € */
	assert_string_equal(r.lines[1].name, "Roll-up 85×200 cm mit Druck und Tasche");
	assert_string_equal(r.lines[1].unit, "pcs");
	assert_int_equal(r.lines[1].billed_milli, 2000);
	assert_int_equal(r.lines[1].net, 11200);
	/* the explicit price wins; the list price is still shown */
	assert_int_equal(r.lines[2].list_price, 1060);
	assert_int_equal(r.lines[2].unit_price, 999);
	assert_int_equal(r.lines[2].net, 999);
	/* a free line: description as name, pcs, 23%, no list price */
	assert_null(r.lines[3].sku);
	assert_string_equal(r.lines[3].name, "Versand");
	assert_string_equal(r.lines[3].unit, "pcs");
	assert_int_equal(r.lines[3].list_price, -1);
	assert_int_equal(r.lines[3].unit_price, 2500);
	assert_int_equal(r.lines[3].vat_bp, 2300);
	assert_null(r.lines[3].note);
	assert_int_equal(r.net, 22979);
	assert_int_equal(r.vat, 5285); /* 5285,17 */
	assert_int_equal(r.gross, 28264);
	calc_result_free(&r);
	calc_parse_free(&p);

	/* the same in PLN: list prices from the PLN column, names in Polish */
	parse_ok(cfg, "PLN", "BAN-440 3 300x100cm @ 35\nFIN-HEM 8\nFIN-EYE 12", 3, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_int_equal(r.lines[0].list_price, 3900);
	assert_int_equal(r.lines[0].unit_price, 3500);
	assert_int_equal(r.lines[0].net, 31500);
	assert_string_equal(r.lines[1].unit, "m");
	assert_string_equal(r.lines[1].name, "Zgrzewanie krawędzi (za metr bieżący)");
	assert_int_equal(r.lines[1].net, 3600);
	assert_int_equal(r.lines[2].net, 1440);
	assert_int_equal(r.net, 36540);
	assert_int_equal(r.vat, 8404); /* 8404,2 */
	calc_result_free(&r);
	calc_parse_free(&p);
}

static void
test_price_refuses_foreign_items(void **state)
{
	(void)state;
	struct calc_result r;

	/* nothing to price */
	struct calc_parse empty = {0};
	calc_price(cfg, &empty, "PLN", "pl", 0, &r);
	assert_null(r.error);
	assert_int_equal(r.nlines, 0);
	assert_int_equal(r.nrates, 0);
	assert_int_equal(r.gross, 0);
	calc_result_free(&r);

	/* parsed against another price list */
	struct calc_parse p;
	parse_ok(&mem_cfg, "PLN", "* A 1 @ 1\nBOOK 2", 2, &p);
	calc_price(cfg, &p, "PLN", "pl", 0, &r);
	assert_string_equal(r.error, "line 2: unknown SKU BOOK");
	assert_int_equal(r.nlines, 0);
	assert_null(r.lines);
	assert_int_equal(r.net, 0);
	calc_result_free(&r);
	/* or in another currency */
	calc_price(&mem_cfg, &p, "EUR", "pl", 1, &r);
	assert_string_equal(r.error,
	    "line 2: BOOK has no list price in EUR: give a unit price, e.g. @ 12,50");
	assert_int_equal(r.reverse_charge, 1);
	calc_result_free(&r);
	calc_parse_free(&p);

	/* hand-built nonsense */
	struct calc_item it = {.line = 9, .sku = "BAN-440", .qty_milli = 1000, .w_mm = 1000,
	    .h_mm = 0, .price = -1};
	struct calc_parse hand = {.items = &it, .nitems = 1};
	calc_price(cfg, &hand, "PLN", "pl", 0, &r);
	assert_string_equal(r.error, "line 9: bad size");
	calc_result_free(&r);
	it.h_mm = 1000;
	it.qty_milli = 0;
	calc_price(cfg, &hand, "PLN", "pl", 0, &r);
	assert_string_equal(r.error, "line 9: bad quantity");
	calc_result_free(&r);
	it.qty_milli = 1000;
	calc_price(cfg, &hand, "PLN", "pl", 0, &r);
	assert_null(r.error);
	assert_int_equal(r.net, 3900);
	calc_result_free(&r);
}

/* ---- money -------------------------------------------------------------- */

static void
test_money_format(void **state)
{
	(void)state;
	static const struct {
		int64_t v;
		const char *cur, *lang, *want;
	} t[] = {
		{123456, "PLN", "pl", "1 234,56 zł"},
		{123456, "EUR", "de", "1.234,56 €"},
		{123456, "EUR", "pl", "1 234,56 €"},
		{123456, "PLN", "de", "1.234,56 zł"},
		{0, "PLN", "pl", "0,00 zł"},
		{0, "EUR", "de", "0,00 €"},
		{-1250, "PLN", "pl", "-12,50 zł"},
		{-123456, "EUR", "de", "-1.234,56 €"},
		{-5, "PLN", "pl", "-0,05 zł"},
		{5, "PLN", "pl", "0,05 zł"},
		{99999, "PLN", "pl", "999,99 zł"},
		{100000, "PLN", "pl", "1 000,00 zł"},
		{100000000, "EUR", "de", "1.000.000,00 €"},
		{1000000000000000LL, "PLN", "pl", "10 000 000 000 000,00 zł"},
		{1000000000000000LL, "EUR", "de", "10.000.000.000.000,00 €"},
		{INT64_MAX, "PLN", "pl", "92 233 720 368 547 758,07 zł"},
		{INT64_MIN, "PLN", "pl", "-92 233 720 368 547 758,08 zł"},
		{1200, "USD", "pl", "12,00 USD"},
		{1200, "PLN", NULL, "12,00 zł"},
		{1200, "PLN", "en", "12,00 zł"},
	};
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		char out[40];
		calc_money(t[i].v, t[i].cur, t[i].lang, out, sizeof(out));
		assert_string_equal(out, t[i].want);
	}
	/* too small a buffer: nothing rather than a cut number */
	char small[11];
	calc_money(123456, "PLN", "pl", small, sizeof(small));
	assert_string_equal(small, "");
	calc_money(12345, "PLN", "pl", small, sizeof(small)); /* "123,45 zł": 10 bytes */
	assert_string_equal(small, "123,45 zł");
}

static void
test_money_parse(void **state)
{
	(void)state;
	static const struct {
		const char *s, *cur;
		int64_t v;
	} ok[] = {
		{"1 234,50", "PLN", 123450}, {"12.5", "PLN", 1250}, {"12 zł", "PLN", 1200},
		{"12zł", "PLN", 1200}, {"12 ZŁ", "PLN", 1200}, {"12 Zł", "PLN", 1200},
		{"12 zl", "PLN", 1200}, {"12 PLN", "PLN", 1200}, {"PLN 12", "PLN", 1200},
		{"12,00 pln", "PLN", 1200}, {"150,-", "PLN", 15000}, {"150,- zł", "PLN", 15000},
		{"1.234,50", "PLN", 123450}, {"1,234.50", "PLN", 123450},
		{"1\xc2\xa0" "234,50", "PLN", 123450}, {"1\xe2\x80\xaf" "234,50 zł", "PLN", 123450},
		{"1 234 567,89", "PLN", 123456789}, {"1.234.567,00", "PLN", 123456700},
		{"0", "PLN", 0}, {"  7  ", "PLN", 700}, {"\t7,5\t", "PLN", 750},
		{"0,05", "EUR", 5}, {"€ 9,20", "EUR", 920}, {"9,20 €", "EUR", 920},
		{"9,20€", "EUR", 920}, {"12 eur", "EUR", 1200},
		{"12 EUR", NULL, 1200}, {"12 zł", NULL, 1200}, {"12", NULL, 1200},
		{"10000000000000", "PLN", CALC_MAX_AMOUNT},
		{"007,1", "PLN", 710},
	};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		int64_t v = -7;
		if (calc_parse_money(ok[i].s, ok[i].cur, &v) != 0)
			fprintf(stderr, "refused \"%s\"\n", ok[i].s);
		assert_int_equal(calc_parse_money(ok[i].s, ok[i].cur, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	static const struct {
		const char *s, *cur;
	} bad[] = {
		{"", "PLN"}, {"   ", "PLN"}, {"abc", "PLN"}, {"12,555", "PLN"}, {"1.234", "PLN"},
		{"12,500", "PLN"}, {"-5", "PLN"}, {"-5 zł", "PLN"}, {"12 EUR", "PLN"},
		{"12 zł", "EUR"}, {"EUR 12 EUR", "EUR"}, {"12,", "PLN"}, {",5", "PLN"},
		{"12 34", "PLN"}, {"1234 567", "PLN"}, {"1 234.567,00", "PLN"},
		{"1,234,50", "PLN"}, {"1 234 56", "PLN"}, {"10000000000000,01", "PLN"},
		{"99999999999999999999", "PLN"}, {"zł", "PLN"}, {"12 złotych", "PLN"},
		{"12 $", "PLN"}, {"1e3", "PLN"}, {"0x10", "PLN"}, {"+5", "PLN"},
		{"12 zł zł", "PLN"}, {"12\n", "PLN"}, {"12..5", "PLN"}, {"1.234.567", "PLN"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int64_t v = -7;
		if (calc_parse_money(bad[i].s, bad[i].cur, &v) != -1)
			fprintf(stderr, "accepted \"%s\"\n", bad[i].s);
		assert_int_equal(calc_parse_money(bad[i].s, bad[i].cur, &v), -1);
		assert_int_equal(v, -7); /* untouched */
	}
	int64_t v;
	assert_int_equal(calc_parse_money(NULL, "PLN", &v), -1);
	assert_int_equal(calc_parse_money("1", "PLN", NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sku_line),
		cmocka_unit_test(test_quantities),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_prices),
		cmocka_unit_test(test_free_lines),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_blank_comment_crlf_nbsp),
		cmocka_unit_test(test_submit),
		cmocka_unit_test(test_errors_sku),
		cmocka_unit_test(test_errors_quantity),
		cmocka_unit_test(test_errors_size),
		cmocka_unit_test(test_errors_price),
		cmocka_unit_test(test_errors_free_line),
		cmocka_unit_test(test_errors_submit),
		cmocka_unit_test(test_errors_bytes),
		cmocka_unit_test(test_errors_several_lines),
		cmocka_unit_test(test_item_limit),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_price_worked_example),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_mixed_rates_and_reverse_charge),
		cmocka_unit_test(test_eur_list_and_explicit_prices),
		cmocka_unit_test(test_price_refuses_foreign_items),
		cmocka_unit_test(test_money_format),
		cmocka_unit_test(test_money_parse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
