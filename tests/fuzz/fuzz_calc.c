/*
 * fuzz_calc: calculation lines as reps write them.  The first byte chooses
 * the currency (PLN/EUR), the language (pl/de), reverse charge, and
 * whether calc_price is called with the other currency (the "not from
 * calc_parse_text with the same currency" path); the rest is the text,
 * parsed against the shipped price list (conf/inkflow.xml, loaded once).
 * Every line of the text is also read as a price by calc_parse_money, and
 * the input's last 8 bytes are an int64_t amount for calc_money in every
 * currency and language.
 *
 * Checks: the documented shape of calc_parse (errors in line order, items
 * with qty > 0, sizes within range, at most CALC_MAX_ITEMS) and of
 * calc_result (totals are the sums of the per-rate totals, gross = net +
 * vat, one priced line per item, no lines with an error); calc_money never
 * cut and read back by calc_parse_money to the same amount.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"
#include "config.h"
#include "util.h"

#include "fuzz_common.h"

static struct config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERROR);
	char *path = fz_path(fz_root(), "conf/inkflow.xml");
	struct errlist e = {0};
	if (config_load(path, &cfg, &e) < 0) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "%s\n", e.v[i]);
		fz_die("config_load conf/inkflow.xml");
	}
	errlist_free(&e);
	free(path);
	return 0;
}

/* calc_money never cuts a number, and for PLN and EUR calc_parse_money
 * reads it back to v (0 <= v <= CALC_MAX_AMOUNT). */
static void
money_round_trip(int64_t v, const char *currency, const char *lang)
{
	char buf[40], small[8];
	calc_money(v, currency, lang, buf, sizeof(buf));
	FZ_CHECK(buf[0] != '\0', "calc_money(%" PRId64 ") empty", v);
	calc_money(v, currency, lang, small, sizeof(small));
	FZ_CHECK(small[0] == '\0' || strlen(small) == strlen(buf), "calc_money cut a number");
	if (v < 0 || v > CALC_MAX_AMOUNT ||
	    (strcmp(currency, "PLN") != 0 && strcmp(currency, "EUR") != 0))
		return;
	int64_t back = -1;
	FZ_CHECK(calc_parse_money(buf, currency, &back) == 0, "cannot read back \"%s\"", buf);
	FZ_CHECK(back == v, "\"%s\" read back as %" PRId64 ", not %" PRId64, buf, back, v);
}

static void
check_parse(const struct calc_parse *p)
{
	FZ_CHECK(p->nitems <= CALC_MAX_ITEMS, "%zu items", p->nitems);
	for (size_t i = 0; i < p->nitems; i++) {
		const struct calc_item *it = &p->items[i];
		FZ_CHECK(it->line >= 1 && it->line <= CALC_MAX_LINES, "item line %d", it->line);
		FZ_CHECK((it->sku == NULL) != (it->description == NULL), "sku xor description");
		FZ_CHECK(it->qty_milli > 0 && it->qty_milli <= (int64_t)CALC_MAX_QTY * 1000,
		    "qty %" PRId64, it->qty_milli);
		FZ_CHECK((it->w_mm == 0) == (it->h_mm == 0), "half a size");
		FZ_CHECK(it->w_mm >= 0 && it->w_mm <= CALC_MAX_SIDE_MM && it->h_mm >= 0 &&
		    it->h_mm <= CALC_MAX_SIDE_MM, "size %" PRId64 "x%" PRId64, it->w_mm, it->h_mm);
		FZ_CHECK(it->price >= -1, "price %" PRId64, it->price);
		if (i)
			FZ_CHECK(it->line > p->items[i - 1].line, "items out of order");
	}
	for (size_t i = 0; i < p->nerrors; i++) {
		FZ_CHECK(p->errors[i].message != NULL, "error without message");
		if (i)
			FZ_CHECK(p->errors[i].line >= p->errors[i - 1].line, "errors out of order");
	}
}

static void
check_result(const struct calc_result *r, const struct calc_parse *p, int same)
{
	if (r->error) {
		FZ_CHECK(!same, "calc_price error with its own parse: %s", r->error);
		FZ_CHECK(r->nlines == 0 && r->net == 0 && r->vat == 0 && r->gross == 0,
		    "error with totals");
		return;
	}
	FZ_CHECK(r->nlines == p->nitems, "%zu lines for %zu items", r->nlines, p->nitems);
	int64_t net = 0, vat = 0, gross = 0;
	for (size_t i = 0; i < r->nrates; i++) {
		const struct calc_total *t = &r->by_rate[i];
		FZ_CHECK(t->gross == t->net + t->vat, "rate gross");
		if (i)
			FZ_CHECK(t->vat_bp > r->by_rate[i - 1].vat_bp, "rates not ascending");
		net += t->net;
		vat += t->vat;
		gross += t->gross;
	}
	FZ_CHECK(net == r->net && vat == r->vat && gross == r->gross, "totals");
	int64_t lines = 0;
	for (size_t i = 0; i < r->nlines; i++) {
		FZ_CHECK(r->lines[i].net >= 0, "negative line net");
		FZ_CHECK(r->lines[i].name && r->lines[i].unit, "line name/unit");
		lines += r->lines[i].net;
	}
	FZ_CHECK(lines == r->net, "line nets %" PRId64 " vs net %" PRId64, lines, r->net);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	const char *currency = sel & 1 ? "EUR" : "PLN";
	const char *lang = sel & 2 ? "de" : "pl";
	int reverse = (sel >> 2) & 1;
	int other = (sel >> 3) & 1;
	char *text = fz_str(data + 1, size - 1);

	struct calc_parse p;
	memset(&p, 0, sizeof(p));
	calc_parse_text(cfg, currency, text, &p);
	check_parse(&p);

	struct calc_result r;
	memset(&r, 0, sizeof(r));
	const char *pc = other ? (sel & 1 ? "PLN" : "EUR") : currency;
	calc_price(cfg, &p, pc, lang, reverse, &r);
	check_result(&r, &p, !other);
	if (!r.error) {
		money_round_trip(r.net, pc, lang);
		money_round_trip(r.gross, pc, lang);
		for (size_t i = 0; i < r.nlines; i++)
			money_round_trip(r.lines[i].unit_price, pc, lang);
	}
	calc_result_free(&r);
	calc_parse_free(&p);

	/* Each line as a price written by a person. */
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		int64_t v = -1;
		if (calc_parse_money(line, currency, &v) == 0) {
			FZ_CHECK(v >= 0 && v <= CALC_MAX_AMOUNT, "parsed %" PRId64, v);
			money_round_trip(v, currency, lang);
		}
		(void)calc_parse_money(line, NULL, &v);
	}
	free(text);

	if (size >= 9) {
		uint64_t u = 0;
		for (size_t i = size - 8; i < size; i++)
			u = u << 8 | data[i];
		int64_t v = (int64_t)u;
		money_round_trip(v, "PLN", "pl");
		money_round_trip(v, "EUR", "de");
		money_round_trip(v, "EUR", "pl");
		money_round_trip(v, "PLN", "de");
		money_round_trip(v, "USD", "xx");
	}
	return 0;
}
