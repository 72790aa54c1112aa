/*
 * Unit tests for pdf.c.  Run from the repository root, or set
 * INKFLOW_SRCDIR to it: the shipped templates/ are rendered with documents
 * built here, and the results are read back the way a person's tools read
 * them: pdftotext -layout for the text, qpdf --check for the structure,
 * pdfinfo for the page count.  The first page of each document is written
 * as a PNG to tests/out/pdf/ so a person can look at it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "calc.h"
#include "config.h"
#include "pdf.h"
#include "util.h"

#define ISSUED 1795777200 /* 27.11.2026 12:00 in Warsaw */

static const char *srcdir;
static char *tmpl_dir, *out_dir, *logo_png, *logo_jpg;

static struct config cfg = {
	.company = {
		.name = "BMT Druk Wielkoformatowy Sp. z o.o.",
		.address = "ul. Składowa 14",
		.city = "61-897 Poznań",
		.country = "Polska",
		.tax_id = "PL 779-234-56-74",
		.bank_account = "PL61 1090 1014 0000 0712 1981 2874",
		.phone = "+48 61 855 40 20",
		.email = "biuro@bmt.example",
		.www = "www.bmt.example",
	},
};

/* ---- helpers ------------------------------------------------------------- */

/* Output of a shell command, NULL when it could not run or failed. */
static char *
run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	struct sbuf sb = {0};
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		sb_add(&sb, buf, n);
	int st = pclose(p);
	if (st != 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

static char *
write_pdf(const char *name, const char *pdf, size_t len)
{
	char *path = xasprintf("%s/%s.pdf", out_dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pdf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* pdftotext -layout of pages first..last (0: all). */
static char *
pdf_text(const char *path, int first, int last)
{
	char *cmd = first ? xasprintf("pdftotext -q -layout -f %d -l %d '%s' -", first, last, path)
	    : xasprintf("pdftotext -q -layout '%s' -", path);
	char *t = run(cmd);
	free(cmd);
	assert_non_null(t);
	return t;
}

static int
pdf_pages(const char *path)
{
	char *cmd = xasprintf("pdfinfo '%s' 2>/dev/null", path);
	char *t = run(cmd);
	free(cmd);
	assert_non_null(t);
	char *p = strstr(t, "Pages:");
	assert_non_null(p);
	int n = atoi(p + 6);
	free(t);
	return n;
}

static void
qpdf_check(const char *path)
{
	char *cmd = xasprintf("qpdf --check '%s' >/dev/null 2>&1", path);
	int st = system(cmd);
	free(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
png_first_page(const char *path, const char *name)
{
	char *cmd = xasprintf("pdftoppm -q -png -r 80 -f 1 -l 1 -singlefile '%s' '%s/%s'", path,
	    out_dir, name);
	int st = system(cmd);
	free(cmd);
	assert_int_equal(st, 0);
}

/* Fails with the text shown when want is not in text. */
static void
expect(const char *text, const char *want)
{
	if (!strstr(text, want)) {
		fprintf(stderr, "--- text ---\n%s\n--- missing: \"%s\"\n", text, want);
		fail();
	}
}

static size_t
count(const char *text, const char *want)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, want)); p += strlen(want))
		n++;
	return n;
}

/* ---- sample documents ------------------------------------------------- */

static const struct pdf_line pl_lines[] = {
	{.sku = "BAN-440", .name = "Baner frontlit 440 g/m² – Łódź", .unit = "m2",
	    .qty_milli = 4000, .w_mm = 5000, .h_mm = 3000, .billed_milli = 60000,
	    .list_price = 3500, .unit_price = 3000, .net = 180000, .vat_bp = 2300,
	    .note = "oczkowanie co 50 cm, zgrzew", .material = "Frontlit 440 g/m²",
	    .finishing = "Oczkowanie co 50 cm"},
	{.sku = "FOL-MONO", .name = "Folia monomeryczna z laminatem matowym – witryna "
	    "salonu przy ul. Świętego Marcina, docięta po obrysie liter", .unit = "m2",
	    .qty_milli = 3000, .w_mm = 1000, .h_mm = 1000, .billed_milli = 3000,
	    .list_price = 6000, .unit_price = 6000, .net = 18000, .vat_bp = 2300,
	    .material = "Folia Oracal 641", .finishing = "Laminat mat"},
	{.sku = NULL, .name = "Katalog produktów (druk cyfrowy)", .unit = "pcs",
	    .qty_milli = 1000, .billed_milli = 1000, .list_price = -1, .unit_price = 36000,
	    .net = 36000, .vat_bp = 800},
};
static const struct pdf_rate pl_rates[] = {
	{.vat_bp = 800, .net = 36000, .vat = 2880, .gross = 38880},
	{.vat_bp = 2300, .net = 198000, .vat = 45540, .gross = 243540},
};

static const struct pdf_line de_lines[] = {
	{.sku = "BAN-440", .name = "Größe Straße Übergröße", .unit = "m2", .qty_milli = 2000, .w_mm = 4000, .h_mm = 2000, .billed_milli = 16000,
	    .list_price = 5500, .unit_price = 5216, .net = 83456, .vat_bp = 0,
	    .note = "Banner Frontlit 440 g/m², Ösen alle 50 cm", .material = "Frontlit 440 g/m²", .finishing = "Ösen"},
	{.sku = NULL, .name = "Montage vor Ort (Düsseldorf)", .unit = "pcs", .qty_milli = 1000,
	    .billed_milli = 1000, .list_price = -1, .unit_price = 40000, .net = 40000,
	    .vat_bp = 0},
};
static const struct pdf_rate de_rates[] = {
	{.vat_bp = 0, .net = 123456, .vat = 0, .gross = 123456},
};

static const struct pdf_var pl_vars[] = {
	{"client_name", "Łódzka Agencja Reklamowa „Żółw” Sp. z o.o."},
	{"client_address", "ul. Piotrkowska 120\n90-006 Łódź"},
	{"client_tax_id", "PL 725-000-11-22"},
	{"client_email", "zamowienia@zolw.example"},
	{"client_phone", "+48 42 630 00 00"},
	{"client_contact", "Grzegorz Brzęczyszczykiewicz"},
	{"project", "INK-42"},
	{"owner_name", "Zofia Wiśniewska"},
	{"owner_email", "z.wisniewska@bmt.example"},
	{"owner_phone", "+48 601 234 567"},
	{"valid_until", "11.12.2026"},
	{"payment_terms", "14 dni od daty wystawienia faktury"},
	{"delivery_terms", "5 dni roboczych od akceptacji projektu"},
	{"delivery_date", "04.12.2026"},
	{"due_date", "03.12.2026"},
	{"offer_number", "OF/2026/0042"},
	{"order_number", "ZA/2026/0017"},
	{"invoice_number", "FV/2026/11/0231"},
	{"case_number", "RK/2026/0003"},
	{"complaint_date", "30.11.2026"},
	{"decision", "Reklamację uznajemy. Baner zostanie wydrukowany ponownie na nasz koszt "
	    "i dostarczony do 07.12.2026."},
	{"artwork", "baner-lodz-5000x3000.pdf (CMYK, 1:10, 150 dpi)\nwitryna-obrys.ai"},
	{"approved_by", "Marek Kierownik"},
	{"notes", ""},
};

static const struct pdf_var de_vars[] = {
	{"client_name", "Müller & Söhne Werbetechnik GmbH"},
	{"client_address", "Königsallee 27\n40212 Düsseldorf\nDeutschland"},
	{"client_tax_id", "DE 123 456 789"},
	{"client_email", "einkauf@mueller-soehne.example"},
	{"client_phone", "+49 211 555 0100"},
	{"client_contact", "Jürgen Weiß"},
	{"project", "INK-43"},
	{"owner_name", "Anna Kowalska"},
	{"owner_email", "a.kowalska@bmt.example"},
	{"owner_phone", "+48 601 765 432"},
	{"valid_until", "11.12.2026"},
	{"payment_terms", "14 Tage netto"},
	{"delivery_terms", "5 Arbeitstage nach Freigabe"},
	{"delivery_date", "04.12.2026"},
	{"due_date", "03.12.2026"},
	{"offer_number", "OF/2026/0043"},
	{"order_number", "ZA/2026/0018"},
	{"invoice_number", "FV/2026/11/0232"},
	{"case_number", "RK/2026/0004"},
	{"complaint_date", "30.11.2026"},
	{"decision", "Die Reklamation wird anerkannt. Das Banner wird auf unsere Kosten neu "
	    "gedruckt."},
	{"artwork", "banner-duesseldorf.pdf\nmontageplan.pdf"},
	{"approved_by", "Marek Kierownik"},
	{"notes", ""},
};

static const char *const kinds[] = {"offer", "calculation", "order", "production", "delivery",
    "complaint"};
static const char *const prefix[] = {"OF", "KA", "ZA", "ZW", "WZ", "RK"};

static struct pdf_doc
sample(const char *kind, const char *lang)
{
	int de = strcmp(lang, "de") == 0;
	static char number[32];
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i], kind) == 0)
			snprintf(number, sizeof(number), "%s/2026/%04d", prefix[i], de ? 43 : 42);
	struct pdf_doc d = {
		.kind = kind, .lang = lang, .currency = de ? "EUR" : "PLN", .number = number,
		.issued = ISSUED,
		.lines = de ? de_lines : pl_lines,
		.nlines = de ? ARRAY_LEN(de_lines) : ARRAY_LEN(pl_lines),
		.rates = de ? de_rates : pl_rates,
		.nrates = de ? ARRAY_LEN(de_rates) : ARRAY_LEN(pl_rates),
		.net = de ? 123456 : 234000, .vat = de ? 0 : 48420, .gross = de ? 123456 : 282420,
		.reverse_charge = de,
		.vars = de ? de_vars : pl_vars,
		.nvars = de ? ARRAY_LEN(de_vars) : ARRAY_LEN(pl_vars),
	};
	return d;
}

/* ---- setup --------------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	const char *s = getenv("INKFLOW_SRCDIR");
	srcdir = s && *s ? s : ".";
	setenv("TZ", "Europe/Warsaw", 1);
	tzset();
	tmpl_dir = xasprintf("%s/templates", srcdir);
	out_dir = xasprintf("%s/tests/out/pdf", srcdir);
	logo_png = xasprintf("%s/tests/unit/pdf/logo.png", srcdir);
	logo_jpg = xasprintf("%s/tests/unit/pdf/logo.jpg", srcdir);
	cfg.company.logo = logo_png;
	return mkdir_p(out_dir, 0755);
}

static int
teardown(void **state)
{
	(void)state;
	free(tmpl_dir);
	free(out_dir);
	free(logo_png);
	free(logo_jpg);
	return 0;
}

/* ---- amounts in words -------------------------------------------------- */

struct words { int64_t minor; const char *want; };

static void
check_words(const struct words *w, size_t n, const char *currency, const char *lang)
{
	for (size_t i = 0; i < n; i++) {
		char *got = pdf_amount_words(w[i].minor, currency, lang);
		if (strcmp(got, w[i].want) != 0) {
			fprintf(stderr, "%" PRId64 " %s %s: got \"%s\", want \"%s\"\n", w[i].minor,
			    currency, lang, got, w[i].want);
			free(got);
			fail();
		}
		free(got);
	}
}

static void
test_words_pl(void **state)
{
	(void)state;
	static const struct words w[] = {
		{0, "zero złotych 00/100"},
		{1, "zero złotych 01/100"},
		{100, "jeden złoty 00/100"},
		{200, "dwa złote 00/100"},
		{500, "pięć złotych 00/100"},
		{1100, "jedenaście złotych 00/100"},
		{1200, "dwanaście złotych 00/100"},
		{1300, "trzynaście złotych 00/100"},
		{1400, "czternaście złotych 00/100"},
		{1500, "piętnaście złotych 00/100"},
		{1600, "szesnaście złotych 00/100"},
		{1700, "siedemnaście złotych 00/100"},
		{1800, "osiemnaście złotych 00/100"},
		{1900, "dziewiętnaście złotych 00/100"},
		{2100, "dwadzieścia jeden złotych 00/100"},
		{2200, "dwadzieścia dwa złote 00/100"},
		{2500, "dwadzieścia pięć złotych 00/100"},
		{10000, "sto złotych 00/100"},
		{10100, "sto jeden złotych 00/100"},
		{11200, "sto dwanaście złotych 00/100"},
		{10400, "sto cztery złote 00/100"},
		{100000, "tysiąc złotych 00/100"},
		{100100, "tysiąc jeden złotych 00/100"},
		{100200, "tysiąc dwa złote 00/100"},
		{200000, "dwa tysiące złotych 00/100"},
		{500000, "pięć tysięcy złotych 00/100"},
		{1200000, "dwanaście tysięcy złotych 00/100"},
		{2100000, "dwadzieścia jeden tysięcy złotych 00/100"},
		{2200000, "dwadzieścia dwa tysiące złotych 00/100"},
		{10100000, "sto jeden tysięcy złotych 00/100"},
		{100000000, "milion złotych 00/100"},
		{200000000, "dwa miliony złotych 00/100"},
		{500000000, "pięć milionów złotych 00/100"},
		{1400000000, "czternaście milionów złotych 00/100"},
		{2200000000, "dwadzieścia dwa miliony złotych 00/100"},
		{123456, "tysiąc dwieście trzydzieści cztery złote 56/100"},
		{282420, "dwa tysiące osiemset dwadzieścia cztery złote 20/100"},
		{100000100, "milion jeden złotych 00/100"},
		{99999999999, "dziewięćset dziewięćdziesiąt dziewięć milionów dziewięćset "
		    "dziewięćdziesiąt dziewięć tysięcy dziewięćset dziewięćdziesiąt dziewięć "
		    "złotych 99/100"},
		{100000000000, "miliard złotych 00/100"},
		{-150, "minus jeden złoty 50/100"},
		{INT64_MAX, "dziewięćdziesiąt dwa biliardy dwieście trzydzieści trzy biliony "
		    "siedemset dwadzieścia miliardów trzysta sześćdziesiąt osiem milionów "
		    "pięćset czterdzieści siedem tysięcy siedemset pięćdziesiąt osiem złotych "
		    "07/100"},
	};
	check_words(w, ARRAY_LEN(w), "PLN", "pl");
	static const struct words e[] = {
		{100, "jeden euro 00/100"},
		{200, "dwa euro 00/100"},
		{500, "pięć euro 00/100"},
		{2200000, "dwadzieścia dwa tysiące euro 00/100"},
		{123456, "tysiąc dwieście trzydzieści cztery euro 56/100"},
		{500000000, "pięć milionów euro 00/100"},
	};
	check_words(e, ARRAY_LEN(e), "EUR", "pl");
}

static void
test_words_de(void **state)
{
	(void)state;
	static const struct words w[] = {
		{0, "null Euro 00/100"},
		{100, "ein Euro 00/100"},
		{200, "zwei Euro 00/100"},
		{500, "fünf Euro 00/100"},
		{1100, "elf Euro 00/100"},
		{1200, "zwölf Euro 00/100"},
		{1300, "dreizehn Euro 00/100"},
		{1400, "vierzehn Euro 00/100"},
		{1500, "fünfzehn Euro 00/100"},
		{1600, "sechzehn Euro 00/100"},
		{1700, "siebzehn Euro 00/100"},
		{1800, "achtzehn Euro 00/100"},
		{1900, "neunzehn Euro 00/100"},
		{2100, "einundzwanzig Euro 00/100"},
		{2200, "zweiundzwanzig Euro 00/100"},
		{2500, "fünfundzwanzig Euro 00/100"},
		{3000, "dreißig Euro 00/100"},
		{10000, "einhundert Euro 00/100"},
		{10100, "einhunderteins Euro 00/100"},
		{11200, "einhundertzwölf Euro 00/100"},
		{100000, "eintausend Euro 00/100"},
		{100100, "eintausendeins Euro 00/100"},
		{200000, "zweitausend Euro 00/100"},
		{500000, "fünftausend Euro 00/100"},
		{1200000, "zwölftausend Euro 00/100"},
		{2100000, "einundzwanzigtausend Euro 00/100"},
		{2200000, "zweiundzwanzigtausend Euro 00/100"},
		{10100000, "einhunderteintausend Euro 00/100"},
		{123456, "eintausendzweihundertvierunddreißig Euro 56/100"},
		{100000000, "eine Million Euro 00/100"},
		{200000000, "zwei Millionen Euro 00/100"},
		{500000000, "fünf Millionen Euro 00/100"},
		{123456700, "eine Million zweihundertvierunddreißigtausendfünfhundertsiebenundsechzig "
		    "Euro 00/100"},
		{100000100, "eine Million eins Euro 00/100"},
		{99999999999, "neunhundertneunundneunzig Millionen "
		    "neunhundertneunundneunzigtausendneunhundertneunundneunzig Euro 99/100"},
		{100000000000, "eine Milliarde Euro 00/100"},
		{300000000000, "drei Milliarden Euro 00/100"},
		{-150, "minus ein Euro 50/100"},
	};
	check_words(w, ARRAY_LEN(w), "EUR", "de");
	static const struct words z[] = {
		{100, "ein Złoty 00/100"},
		{200, "zwei Złoty 00/100"},
		{282420, "zweitausendachthundertvierundzwanzig Złoty 20/100"},
	};
	check_words(z, ARRAY_LEN(z), "PLN", "de");
}

/* ---- documents ----------------------------------------------------------- */

/* Renders, writes tests/out/pdf/<name>.pdf and its first page as PNG,
 * checks it with qpdf; returns the path. */
static char *
render_ok(const struct pdf_doc *d, const char *name)
{
	char *pdf = NULL, err[512];
	size_t len = 0;
	int rc = pdf_render(&cfg, tmpl_dir, d, &pdf, &len, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", name, err);
	assert_int_equal(rc, 0);
	assert_true(len > 1000);
	assert_memory_equal(pdf, "%PDF-", 5);
	char *path = write_pdf(name, pdf, len);
	free(pdf);
	qpdf_check(path);
	png_first_page(path, name);
	return path;
}

static void
test_documents(void **state)
{
	(void)state;
	static const char *const title_pl[] = {"OFERTA", "KALKULACJA", "ZAMÓWIENIE",
	    "ZLECENIE PRODUKCYJNE", "POTWIERDZENIE DOSTAWY", "DECYZJA W SPRAWIE REKLAMACJI"};
	static const char *const title_de[] = {"ANGEBOT", "KALKULATION", "AUFTRAG",
	    "PRODUKTIONSAUFTRAG", "LIEFERBESTÄTIGUNG", "REKLAMATIONSENTSCHEIDUNG"};
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++)
		for (int de = 0; de < 2; de++) {
			const char *lang = de ? "de" : "pl";
			struct pdf_doc d = sample(kinds[k], lang);
			char name[64];
			snprintf(name, sizeof(name), "%s-%s", kinds[k], lang);
			char *path = render_ok(&d, name);
			char *t = pdf_text(path, 0, 0);
			/* everything shows the number, the client, the company, page numbers */
			expect(t, d.number);
			expect(t, de ? "Müller & Söhne Werbetechnik GmbH" :
			    "Łódzka Agencja Reklamowa „Żółw” Sp. z o.o.");
			expect(t, de ? "40212 Düsseldorf" : "90-006 Łódź");
			expect(t, "BMT Druk Wielkoformatowy Sp. z o.o.");
			expect(t, "61-897 Poznań");
			expect(t, "27.11.2026");
			expect(t, de ? title_de[k] : title_pl[k]);
			expect(t, "1/1");
			expect(t, de ? "Größe Straße Übergröße" : "Baner frontlit 440 g/m² – Łódź");
			int priced = k <= 2;
			if (priced && !de) {
				expect(t, "2 340,00 zł");
				expect(t, "484,20 zł");
				expect(t, "2 824,20 zł");
				expect(t, "23%");
				expect(t, "8%");
				expect(t, "1 980,00 zł"); /* the 23% row of the VAT summary */
				expect(t, "455,40 zł");
				expect(t, "388,80 zł");   /* the 8% row's gross */
			}
			if (priced && de) {
				expect(t, "1.234,56 €");
				expect(t, "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)");
			}
			if (k == 0 || k == 2) {
				expect(t, de ? "eintausendzweihundertvierunddreißig Euro 56/100" :
				    "dwa tysiące osiemset dwadzieścia cztery złote 20/100");
			}
			switch (k) {
			case 0:
				expect(t, de ? "ANGENOMMEN" : "AKCEPTUJĘ OFERTĘ");
				expect(t, "11.12.2026");
				break;
			case 1:
				expect(t, de ? "55,00" : "35,00");  /* list price beside the used one */
				expect(t, de ? "52,16" : "30,00");
				expect(t, de ? "5,2 %" : "14,3%");  /* discount */
				break;
			case 2:
				expect(t, de ? "Auftraggeber" : "Zamawiający");
				expect(t, de ? "Auftragnehmer" : "Wykonawca");
				break;
			case 3:
				expect(t, de ? "banner-duesseldorf.pdf" : "baner-lodz-5000x3000.pdf");
				expect(t, de ? "montageplan.pdf" : "witryna-obrys.ai");
				expect(t, "Frontlit 440 g/m²");
				expect(t, "03.12.2026");
				expect(t, de ? "4000 × 2000" : "5000 × 3000");
				assert_null(strstr(t, de ? "€" : "zł")); /* no prices in production */
				break;
			case 4:
				expect(t, de ? "FV/2026/11/0232" : "FV/2026/11/0231");
				break;
			case 5:
				expect(t, de ? "Die Reklamation wird anerkannt." : "Reklamację uznajemy.");
				expect(t, de ? "RK/2026/0004" : "RK/2026/0003");
				break;
			}
			if (!de && priced)
				assert_null(strstr(t, "Odwrotne obciążenie"));
			free(t);
			free(path);
		}
}

/* Polish, in euros, reverse charge: the note, "np." for the rate. */
static void
test_reverse_charge_pl(void **state)
{
	(void)state;
	struct pdf_doc d = sample("order", "pl");
	d.currency = "EUR";
	d.lines = de_lines;
	d.nlines = ARRAY_LEN(de_lines);
	d.rates = de_rates;
	d.nrates = ARRAY_LEN(de_rates);
	d.net = d.gross = 123456;
	d.vat = 0;
	d.reverse_charge = 1;
	char *path = render_ok(&d, "order-pl-reverse-charge");
	char *t = pdf_text(path, 0, 0);
	expect(t, "Odwrotne obciążenie – art. 28b ustawy o VAT");
	expect(t, "1 234,56 €");
	expect(t, "np.");
	expect(t, "tysiąc dwieście trzydzieści cztery euro 56/100");
	free(t);
	free(path);
}

/* 60 lines: several pages, the header row on each, "n/N" on each. */
static void
test_long_offer(void **state)
{
	(void)state;
	enum { N = 60 };
	struct pdf_line *l = xcalloc(N, sizeof(*l));
	char **names = xcalloc(N, sizeof(*names));
	int64_t net = 0;
	for (int i = 0; i < N; i++) {
		names[i] = xasprintf("Pozycja %02d: baner frontlit 440 g/m² – Łódź%s", i + 1,
		    i % 7 == 3 ? ", z oczkowaniem co 50 cm, zgrzewem na obwodzie i tunelami na "
		    "rurę ⌀ 40 mm po krótszych bokach" : "");
		l[i] = (struct pdf_line){.sku = "BAN-440", .name = names[i], .unit = "m2",
		    .qty_milli = 1000, .w_mm = 2000, .h_mm = 1000, .billed_milli = 2000,
		    .list_price = 3500, .unit_price = 3500, .net = 7000, .vat_bp = 2300};
		net += 7000;
	}
	struct pdf_rate rate = {.vat_bp = 2300, .net = net, .vat = net * 23 / 100,
	    .gross = net + net * 23 / 100};
	struct pdf_doc d = sample("offer", "pl");
	d.lines = l;
	d.nlines = N;
	d.rates = &rate;
	d.nrates = 1;
	d.net = rate.net;
	d.vat = rate.vat;
	d.gross = rate.gross;
	char *path = render_ok(&d, "offer-pl-60");
	int pages = pdf_pages(path);
	assert_true(pages >= 2);
	for (int p = 1; p <= pages; p++) {
		char *t = pdf_text(path, p, p);
		char pn[32];
		snprintf(pn, sizeof(pn), "Strona %d/%d", p, pages);
		expect(t, pn);
		/* the header row; the last page may hold only the totals */
		if (p < pages || strstr(t, "Pozycja 60"))
			assert_int_equal(count(t, "Lp."), 1);
		if (p > 1)
			expect(t, "Oferta nr OF/2026/0042 z dnia 27.11.2026 – ciąg dalszy");
		free(t);
	}
	char *t = pdf_text(path, 0, 0);
	for (int i = 0; i < N; i++) {
		char want[32];
		snprintf(want, sizeof(want), "Pozycja %02d:", i + 1);
		assert_int_equal(count(t, want), 1);
	}
	expect(t, "4 200,00 zł");  /* 60 × 70,00 */
	expect(t, "5 166,00 zł");
	expect(t, "⌀ 40 mm");      /* outside the subset: the full font is used */
	free(t);
	free(path);
	for (int i = 0; i < N; i++)
		free(names[i]);
	free(names);
	free(l);
}

/* The JPEG logo, and no logo at all: the company name stands in. */
static void
test_logos(void **state)
{
	(void)state;
	struct pdf_doc d = sample("offer", "de");
	cfg.company.logo = logo_jpg;
	char *path = render_ok(&d, "offer-de-jpeg-logo");
	free(path);
	cfg.company.logo = NULL;
	path = render_ok(&d, "offer-de-no-logo");
	char *t = pdf_text(path, 1, 1);
	assert_true(count(t, "BMT Druk Wielkoformatowy Sp. z o.o.") >= 3);
	free(t);
	free(path);
	cfg.company.logo = logo_png;
}

/* ---- errors -------------------------------------------------------------- */

static char *
render_err(const char *dir, const struct pdf_doc *d)
{
	char *pdf = NULL, err[512];
	size_t len = 0;
	int rc = pdf_render(&cfg, dir, d, &pdf, &len, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_null(pdf);
	return xstrdup(err);
}

static void
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
collect(void *ctx, const char *msg)
{
	struct sbuf *sb = ctx;
	sb_printf(sb, "%s\n", msg);
}

#define GOOD_HEAD "<?xml version=\"1.0\"?>\n<document>\n<body>\n"
#define TALL "<p>x</p><p>x</p><p>x</p><p>x</p><p>x</p><p>x</p><p>x</p><p>x</p>\n"

static void
test_broken_templates(void **state)
{
	(void)state;
	char dir[] = "/tmp/inkflow-pdf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *pl = xasprintf("%s/pl", dir), *de = xasprintf("%s/de", dir);
	assert_int_equal(mkdir(pl, 0755), 0);
	assert_int_equal(mkdir(de, 0755), 0);
	char *file = xasprintf("%s/offer.xml", pl);
	struct pdf_doc d = sample("offer", "pl");
	static const struct { const char *xml, *want; } cases[] = {
		{GOOD_HEAD "<p>Nr {{number}}</p>\n<p>Dla\n{{clinet_name}}</p>\n</body></document>\n",
		    ":6: unknown placeholder {{clinet_name}}"},
		{GOOD_HEAD "<p>x</p>\n<paragraph>y</paragraph>\n</body></document>\n",
		    ":5: unknown element <paragraph>"},
		{GOOD_HEAD "<p>x</p>\n<p colour=\"#000000\">y</p>\n</body></document>\n",
		    ":5: <p>: unknown attribute \"colour\""},
		{GOOD_HEAD "<p>{{number</p>\n</body></document>\n",
		    ":4: \"{{\" without a closing \"}}\""},
		{GOOD_HEAD "<table><column field=\"price\"/></table>\n</body></document>\n",
		    ":4: <column> field: \"price\" is not"},
		{GOOD_HEAD "<p>{{page}}</p>\n</body></document>\n",
		    ":4: {{page}} is known only in <footer>"},
		{GOOD_HEAD "<p>x</p>\n<p if=\"nothing\">y</p>\n</body></document>\n",
		    ":5: <p> if: unknown placeholder \"nothing\""},
		{GOOD_HEAD "<table><column field=\"name\" width=\"300\"/></table>\n</body></document>\n",
		    ":4: <table> is 300 mm wide"},
		{"<?xml version=\"1.0\"?>\n<!DOCTYPE document [<!ENTITY a \"b\">]>\n"
		    "<document><body><p>&a;</p></body></document>\n", ":2: DOCTYPE is not allowed"},
		{GOOD_HEAD "<p>x</p>\n</document>\n", ":5: XML error"},
		{"<?xml version=\"1.0\"?>\n<document>\n<header/>\n</document>\n",
		    ":2: <document> has no <body>"},
		{GOOD_HEAD "<p>x</p>\n<totals width=\"100\"/>\n</body></document>\n",
		    ":5: <totals>: attribute rate-title is required"},
		{GOOD_HEAD "<p>x</p>\ntext\n</body></document>\n", ":5: <body>: text is not allowed here"},
		/* no header, and a footer taller than the page */
		{"<?xml version=\"1.0\"?>\n<document>\n<footer>\n"
		    TALL TALL TALL TALL TALL TALL TALL TALL TALL TALL
		    "</footer>\n<body><p>x</p></body></document>\n",
		    ":3: <footer> is taller than the page"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		put_file(file, cases[i].xml);
		char *err = render_err(dir, &d);
		char *want = xasprintf("%s%s", file, cases[i].want);
		if (strncmp(err, want, strlen(want)) != 0) {
			fprintf(stderr, "case %zu: got \"%s\", want \"%s...\"\n", i, err, want);
			fail();
		}
		free(want);
		free(err);
	}

	/* larger than the limit */
	struct sbuf big = {0};
	sb_adds(&big, GOOD_HEAD);
	while (big.len <= PDF_MAX_TEMPLATE)
		sb_adds(&big, "<p>0123456789012345678901234567890123456789012345678901234567890</p>\n");
	sb_adds(&big, "</body></document>\n");
	put_file(file, big.s);
	sb_free(&big);
	char *err = render_err(dir, &d);
	expect(err, "offer.xml: larger than the limit of");
	free(err);

	/* a placeholder the document has no value for */
	put_file(file, GOOD_HEAD "<p>Zamówienie {{order_number}}</p>\n</body></document>\n");
	d.nvars = 3;
	err = render_err(dir, &d);
	char *want = xasprintf("%s:4: {{order_number}}: this document has no value for it", file);
	assert_string_equal(err, want);
	free(want);
	free(err);
	d = sample("offer", "pl");

	/* pdf_check_templates: every problem of every file, missing kinds */
	put_file(file, GOOD_HEAD "<p>{{nope}}</p>\n<bogus/>\n</body></document>\n");
	struct sbuf sb = {0};
	size_t n = pdf_check_templates(dir, collect, &sb);
	expect(sb.s, "offer.xml:4: unknown placeholder {{nope}}");
	expect(sb.s, "offer.xml:5: unknown element <bogus>");
	expect(sb.s, "/de/offer.xml: missing");
	assert_int_equal(n, 2 + 5 + 6);   /* 2 errors, 5 kinds missing in pl, 6 in de */
	sb_free(&sb);

	/* the shipped templates are clean */
	n = pdf_check_templates(tmpl_dir, collect, &sb);
	if (n)
		fprintf(stderr, "%s", sb.s);
	assert_int_equal(n, 0);
	sb_free(&sb);

	unlink(file);
	rmdir(pl);
	rmdir(de);
	rmdir(dir);
	free(file);
	free(pl);
	free(de);
}

static void
test_bad_documents(void **state)
{
	(void)state;
	struct pdf_doc d = sample("offer", "pl");
	char *err;

	d.lang = "xx";
	err = render_err(tmpl_dir, &d);
	expect(err, "neither pl nor de");
	free(err);

	d = sample("offer", "pl");
	d.kind = "../offer";
	err = render_err(tmpl_dir, &d);
	expect(err, "is not a template name");
	free(err);

	d = sample("invoice", "pl");
	d.kind = "invoice";
	d.number = "FV/1";
	err = render_err(tmpl_dir, &d);
	expect(err, "invoice.xml: cannot read");
	free(err);

	d = sample("offer", "pl");
	d.currency = "USD";
	err = render_err(tmpl_dir, &d);
	expect(err, "neither PLN nor EUR");
	free(err);

	struct pdf_line bad = pl_lines[0];
	bad.name = "Baner \xC5";
	d = sample("offer", "pl");
	d.lines = &bad;
	d.nlines = 1;
	err = render_err(tmpl_dir, &d);
	expect(err, "line 1: not valid UTF-8");
	free(err);

	struct pdf_var v[] = {{"client_name", "X"}, {"clientname", "Y"}};
	d = sample("offer", "pl");
	d.vars = v;
	d.nvars = 2;
	err = render_err(tmpl_dir, &d);
	expect(err, "value \"clientname\": not a name templates know");
	free(err);

	d = sample("offer", "pl");
	d.nlines = PDF_MAX_LINES + 1;
	err = render_err(tmpl_dir, &d);
	expect(err, "lines: at most");
	free(err);
}

/* A logo libharu cannot read: an error, and no leak on the way out. */
static void
test_bad_logo(void **state)
{
	(void)state;
	char *png = NULL;
	size_t len;
	assert_int_equal(file_read(logo_png, 1 << 20, &png, &len), 0);
	char path[] = "/tmp/inkflow-logo-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, png, 200), 200); /* the header and a piece */
	close(fd);
	free(png);
	struct pdf_doc d = sample("offer", "pl");
	cfg.company.logo = path;
	char *err = render_err(tmpl_dir, &d);
	expect(err, "libharu cannot read it (a damaged PNG)");
	free(err);
	put_file(path, "GIF89a, not a logo we take\n");
	err = render_err(tmpl_dir, &d);
	expect(err, "neither PNG nor JPEG");
	free(err);
	cfg.company.logo = logo_png;
	unlink(path);
}

/* Names with control characters and characters beyond the subset. */
static void
test_odd_text(void **state)
{
	(void)state;
	struct pdf_line l = pl_lines[0];
	l.name = "Баннер для Москвы\tΑθήνα\r\nline two 😀 end";
	struct pdf_doc d = sample("offer", "pl");
	d.lines = &l;
	d.nlines = 1;
	char *path = render_ok(&d, "offer-pl-odd-text");
	char *t = pdf_text(path, 0, 0);
	expect(t, "Баннер для Москвы Αθήνα");
	expect(t, "line two");
	free(t);
	free(path);
}

/* ---- charts (pdf_report_charts) ------------------------------------------- */

static const char *const rep_names[] = {"Anna Nowak", "Piotr Kowalczyk", "Katharina Schmidt",
    "Marek Zieliński", "Łukasz Wójcik"};
static const int64_t rep_values[] = {4567890, 1234500, 987654, 234000, 0};

static const char *const state_names[] = {"zapytanie", "kalkulacja", "akceptacja", "oferta",
    "weryfikacja zamówienia", "wstrzymane", "oczekuje na podpis", "produkcja", "dostawa",
    "zamknięte", "reklamacja", "decyzja reklamacyjna"};
static const int64_t state_counts[] = {7, 4, 2, 9, 1, 0, 1, 3, 2, 14, 1, 0};

static char day_text[30][8];
static const char *day_labels[30];
static int64_t day_projects[30], day_mails[30];

static void
chart_days(void)
{
	for (int i = 0; i < 30; i++) {
		int d = 29 + i, m = 10;
		if (d > 31) {
			d -= 31;
			m = 11;
		}
		snprintf(day_text[i], sizeof(day_text[i]), "%02d.%02d", d, m);
		day_labels[i] = day_text[i];
		day_projects[i] = (i * 7 + 3) % 5 + (i % 7 == 5 || i % 7 == 6 ? 0 : 1);
		day_mails[i] = i % 7 >= 5 ? 1 : 8 + (i * 13) % 11;
	}
}

/* The digest's report: key figures, money per rep, projects per state,
 * 30 days of activity. */
static struct pdf_report
chart_sample(const char *lang, struct pdf_chart *ch, struct pdf_series *se, struct pdf_fact *f)
{
	int de = strcmp(lang, "de") == 0;
	chart_days();
	f[0] = (struct pdf_fact){de ? "Projekte" : "Projekty", "44"};
	f[1] = (struct pdf_fact){de ? "Pipeline-Wert" : "Wartość lejka",
	    de ? "70.240,44 €" : "70 240,44 zł"};
	f[2] = (struct pdf_fact){de ? "Gewonnen" : "Wygrane", "21 / 30 (70%)"};
	f[3] = (struct pdf_fact){de ? "Zur Freigabe" : "Do zatwierdzenia", "2"};
	f[4] = (struct pdf_fact){de ? "Überfällige Aufgaben" : "Zaległe zadania", "5"};
	se[0] = (struct pdf_series){NULL, rep_values};
	se[1] = (struct pdf_series){NULL, state_counts};
	se[2] = (struct pdf_series){de ? "Neue Projekte" : "Nowe projekty", day_projects};
	se[3] = (struct pdf_series){de ? "Nachrichten" : "Wiadomości", day_mails};
	ch[0] = (struct pdf_chart){PDF_CHART_HBAR,
	    de ? "Pipeline-Wert je Vertriebler" : "Wartość lejka wg handlowca",
	    de ? "netto, letzte Kalkulation je Projekt" : "netto, ostatnia kalkulacja projektu",
	    rep_names, ARRAY_LEN(rep_names), &se[0], 1, de ? "EUR" : "PLN"};
	ch[1] = (struct pdf_chart){PDF_CHART_VBAR, de ? "Projekte je Status" : "Projekty wg etapu",
	    NULL, state_names, ARRAY_LEN(state_names), &se[1], 1, NULL};
	ch[2] = (struct pdf_chart){PDF_CHART_LINE, de ? "Aktivität, 30 Tage" : "Aktywność, 30 dni",
	    de ? "pro Tag" : "dziennie", day_labels, 30, &se[2], 2, NULL};
	return (struct pdf_report){
		.lang = lang, .title = de ? "Täglicher Vertriebsbericht" : "Dzienny raport sprzedaży",
		.subtitle = de ? "Freitag, 27. November 2026" : "piątek, 27 listopada 2026",
		.footer = "BMT Druk Wielkoformatowy Sp. z o.o. · inkflow",
		.author = "BMT Druk Wielkoformatowy Sp. z o.o.", .created = ISSUED,
		.facts = f, .nfacts = 5, .charts = ch, .ncharts = 3,
	};
}

static char *
charts_ok(const struct pdf_report *rep, const char *name)
{
	char *pdf = NULL, err[512];
	size_t len = 0;
	int rc = pdf_report_charts(rep, &pdf, &len, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "pdf_report_charts %s: %s\n", name, err);
	assert_int_equal(rc, 0);
	assert_non_null(pdf);
	assert_true(len > 1000);
	assert_memory_equal(pdf, "%PDF-", 5);
	char *path = write_pdf(name, pdf, len);
	free(pdf);
	qpdf_check(path);
	png_first_page(path, name);
	return path;
}

static void
test_charts_pl(void **state)
{
	(void)state;
	struct pdf_chart ch[3];
	struct pdf_series se[4];
	struct pdf_fact f[5];
	struct pdf_report rep = chart_sample("pl", ch, se, f);
	char *path = charts_ok(&rep, "report-pl");
	assert_int_equal(pdf_pages(path), 1);
	char *t = pdf_text(path, 0, 0);
	expect(t, "Dzienny raport sprzedaży");
	expect(t, "piątek, 27 listopada 2026");
	expect(t, "Wartość lejka wg handlowca");
	expect(t, "Projekty wg etapu");
	expect(t, "Aktywność, 30 dni");
	for (size_t i = 0; i < ARRAY_LEN(rep_names); i++) {
		char m[48];
		expect(t, rep_names[i]);
		calc_money(rep_values[i], "PLN", "pl", m, sizeof(m));
		expect(t, m);
	}
	expect(t, "45 678,90 zł");
	expect(t, "50 000 zł");      /* the last tick: a round amount without grosze */
	expect(t, "weryfikacja");    /* a long state name wraps under its column */
	expect(t, "zamówienia");
	expect(t, "Nowe projekty");  /* the legend */
	expect(t, "Wiadomości");
	expect(t, "27.11");          /* the last day is always labelled */
	expect(t, "70 240,44 zł");   /* a key figure */
	expect(t, "Zaległe zadania");
	expect(t, "Strona 1 z 1");
	expect(t, "BMT Druk Wielkoformatowy Sp. z o.o. · inkflow");
	free(t);
	char *cmd = xasprintf("pdfinfo '%s'", path);
	t = run(cmd);
	free(cmd);
	assert_non_null(t);
	expect(t, "Dzienny raport sprzedazy"); /* document information: Latin-1 */
	free(t);
	free(path);
}

/* German, euro, and more reps than fit beside the other charts: the line
 * chart moves to page 2. */
static void
test_charts_de_two_pages(void **state)
{
	(void)state;
	struct pdf_chart ch[3];
	struct pdf_series se[4];
	struct pdf_fact f[5];
	struct pdf_report rep = chart_sample("de", ch, se, f);
	static const char *names[PDF_CHART_MAX_BARS];
	static char nbuf[PDF_CHART_MAX_BARS][32];
	static int64_t vals[PDF_CHART_MAX_BARS];
	for (int i = 0; i < PDF_CHART_MAX_BARS; i++) {
		snprintf(nbuf[i], sizeof(nbuf[i]), "Vertrieb Nr. %02d Jürgen", i + 1);
		names[i] = nbuf[i];
		vals[i] = (int64_t)(PDF_CHART_MAX_BARS - i) * 123456789;
	}
	se[0].values = vals;
	ch[0].labels = names;
	ch[0].n = PDF_CHART_MAX_BARS;
	char *path = charts_ok(&rep, "report-de");
	assert_int_equal(pdf_pages(path), 2);
	char *t = pdf_text(path, 1, 1);
	expect(t, "Täglicher Vertriebsbericht");
	expect(t, "Pipeline-Wert je Vertriebler");
	expect(t, "Vertrieb Nr. 30 Jürgen");
	expect(t, "37.037.036,70 €"); /* 30 × 1 234 567,89 */
	expect(t, "Seite 1 von 2");
	free(t);
	t = pdf_text(path, 2, 2);
	expect(t, "Aktivität, 30 Tage");
	expect(t, "Nachrichten");
	expect(t, "Seite 2 von 2");
	free(t);
	free(path);
}

/* No data yet: the axes and a note, no division by zero; long labels cut
 * with an ellipsis. */
static void
test_charts_empty(void **state)
{
	(void)state;
	struct pdf_chart ch[3];
	struct pdf_series se[4];
	struct pdf_fact f[5];
	struct pdf_report rep = chart_sample("pl", ch, se, f);
	for (int i = 0; i < 3; i++)
		ch[i].n = 0;
	rep.nfacts = 0;
	char *path = charts_ok(&rep, "report-pl-empty");
	char *t = pdf_text(path, 0, 0);
	assert_int_equal(count(t, "brak danych"), 3);
	free(t);
	free(path);

	static const char *const lng[] = {"Bardzo długie imię i nazwisko handlowca, które się "
	    "nie mieści w kolumnie etykiet i zostaje ucięte"};
	static const int64_t one[] = {0};
	rep = chart_sample("pl", ch, se, f);
	ch[0].labels = lng;
	ch[0].n = 1;
	se[0].values = one;
	rep.ncharts = 1;
	path = charts_ok(&rep, "report-pl-long-label");
	t = pdf_text(path, 0, 0);
	expect(t, "Bardzo długie imię");
	expect(t, "…");
	assert_null(strstr(t, "zostaje ucięte"));
	free(t);
	free(path);
}

static void
charts_fail(const struct pdf_report *rep, const char *want)
{
	char *pdf = (char *)1, err[512];
	size_t len = 7;
	assert_int_equal(pdf_report_charts(rep, &pdf, &len, err, sizeof(err)), -1);
	assert_null(pdf);
	assert_int_equal(len, 0);
	expect(err, want);
}

static void
test_charts_bad(void **state)
{
	(void)state;
	struct pdf_chart ch[3];
	struct pdf_series se[4];
	struct pdf_fact f[5];
	struct pdf_report rep;
#define FRESH() (rep = chart_sample("pl", ch, se, f))
	FRESH();
	rep.lang = "en";
	charts_fail(&rep, "neither pl nor de");
	FRESH();
	rep.title = NULL;
	charts_fail(&rep, "no title");
	FRESH();
	rep.subtitle = "zły \xC5 znak";
	charts_fail(&rep, "subtitle: not valid UTF-8");
	FRESH();
	rep.nfacts = PDF_CHART_MAX_FACTS + 1;
	charts_fail(&rep, "at most 6");
	FRESH();
	rep.ncharts = PDF_CHART_MAX + 1;
	charts_fail(&rep, "at most 8");
	FRESH();
	ch[1].n = PDF_CHART_MAX_BARS + 1;
	charts_fail(&rep, "chart 2: 31 bars: at most 30");
	FRESH();
	ch[2].n = PDF_CHART_MAX_POINTS + 1;
	charts_fail(&rep, "chart 3: 401 points: at most 400");
	FRESH();
	ch[0].nseries = 2;
	charts_fail(&rep, "a bar chart has exactly one");
	FRESH();
	ch[2].nseries = 0;
	charts_fail(&rep, "a line chart has 1 to 4");
	FRESH();
	se[3].name = NULL;
	charts_fail(&rep, "series 2 has no name");
	FRESH();
	static const int64_t neg[] = {5, -1, 3, 0, 0};
	se[0].values = neg;
	charts_fail(&rep, "value -1 is outside");
	FRESH();
	static const int64_t big[] = {PDF_CHART_MAX_VALUE + 1, 0, 0, 0, 0};
	se[0].values = big;
	charts_fail(&rep, "is outside 0..");
	FRESH();
	static const char *const nul[] = {"a", NULL, "c", "d", "e"};
	ch[0].labels = nul;
	charts_fail(&rep, "chart 1: label 2 is NULL");
	FRESH();
	ch[0].currency = "USD";
	charts_fail(&rep, "neither PLN nor EUR");
	FRESH();
	ch[1].kind = (enum pdf_chart_kind)7;
	charts_fail(&rep, "chart 2: unknown kind 7");
	charts_fail(NULL, "no report");
#undef FRESH
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_pl),
		cmocka_unit_test(test_words_de),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_reverse_charge_pl),
		cmocka_unit_test(test_long_offer),
		cmocka_unit_test(test_logos),
		cmocka_unit_test(test_broken_templates),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_bad_logo),
		cmocka_unit_test(test_odd_text),
		cmocka_unit_test(test_charts_pl),
		cmocka_unit_test(test_charts_de_two_pages),
		cmocka_unit_test(test_charts_empty),
		cmocka_unit_test(test_charts_bad),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
