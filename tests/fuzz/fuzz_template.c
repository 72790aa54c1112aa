/*
 * fuzz_template: the two template languages, each read from a file the way
 * the program reads it.  The first byte selects:
 *   (sel & 3) == 0  the rest is templates/pl/x.txt (a mail template)
 *   (sel & 3) == 1  the rest is templates/pl/x.html, beside a fixed x.txt
 *   otherwise       the rest is templates/pl/offer.xml (a PDF layout),
 *                   rendered by pdf_render for a fixed two-line offer;
 *                   (sel & 4) gives the company the test logo
 * and for mail (sel & 8) asks for lang "de" (there is no de/ directory:
 * it falls back to pl).  Files go to a private directory per process.
 *
 * The shipped pl/offer.xml and pl/ack.txt are rendered once at start (the
 * harness stops if they fail, so inputs do not test only error paths).
 *
 * Checks: a rendered subject is one line; HTML output holds no "<" or "&"
 * that came from a value unescaped (values are markers with specials);
 * a rendered PDF starts with "%PDF-"; an error message is never empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pdf.h"
#include "tmpl.h"
#include "util.h"

#include "fuzz_common.h"

static struct config *cfg;
static char *tdir;      /* <tmp>/templates */
static char *txt_path, *html_path, *xml_path, *logo_path;

/* Every placeholder name mail templates know, with a value that shows
 * escaping: HTML specials, a line break, and non-ASCII.  None is empty and
 * none starts or ends with a piece of "<script>" or "<b>", so those can
 * appear in the HTML only when the template wrote them (checked below). */
static const struct tmpl_var mail_vars[] = {
	{"project", "INK-42"}, {"subject", "Baner <3 & \"fun\"\r\nBcc: x@y"},
	{"client_name", "Łódź & Co <b>"}, {"contact_name", "Jan 'Janek' Kowalski"},
	{"contact_email", "jan@example.pl"}, {"owner_name", "Anna Nowak"},
	{"owner_email", "a.nowak@bmt.example"}, {"owner_phone", "+48 601 234 567"},
	{"company_name", "BMT"}, {"company_address", "ul. Składowa 14"},
	{"company_city", "61-897 Poznań"}, {"company_phone", "+48 61 855 40 20"},
	{"company_email", "biuro@bmt.example"}, {"company_www", "www.bmt.example"},
	{"system_address", "biuro@bmt.example"}, {"date", "27.11.2026"},
	{"task_title", "Zatwierdź <kalkulację>"}, {"task_description", "line 1\nline 2"},
	{"assignee_name", "Zofia"}, {"inquiry_text", "<script>alert(1)</script>\n{{project}}"},
	{"reason", "a & b"}, {"message_from", "x@y"}, {"message_subject", "{{"},
	{"outbox_id", "17"}, {"calc_table", "BAN-440 2 x 35,00 zł"},
	{"calc_table_html", "<table><tr><td>BAN-440</td></tr></table>"},
	{"actions_text", "APPROVE"}, {"actions_html", "<a href=\"mailto:x\">APPROVE</a>"},
	{"reply_text", "ok"}, {"project_state", "new"}, {"approver_name", "Marek"},
	{"client_flags", "VIP"}, {"complaint_number", "RK/2026/0003"},
};

static const struct pdf_line lines[] = {
	{.sku = "BAN-440", .name = "Baner frontlit 440 g/m² – Łódź", .unit = "m2",
	    .qty_milli = 4000, .w_mm = 5000, .h_mm = 3000, .billed_milli = 60000,
	    .list_price = 3500, .unit_price = 3000, .net = 180000, .vat_bp = 2300,
	    .note = "oczkowanie co 50 cm", .material = "Frontlit 440 g/m²",
	    .finishing = "Oczkowanie"},
	{.sku = NULL, .name = "Montaż", .unit = "pcs", .qty_milli = 1000,
	    .billed_milli = 1000, .list_price = -1, .unit_price = 36000, .net = 36000,
	    .vat_bp = 800},
};
static const struct pdf_rate rates[] = {
	{.vat_bp = 800, .net = 36000, .vat = 2880, .gross = 38880},
	{.vat_bp = 2300, .net = 180000, .vat = 41400, .gross = 221400},
};
static const struct pdf_var pdf_vars[] = {
	{"client_name", "Łódzka Agencja „Żółw” & <Co>"}, {"client_address", "ul. Piotrkowska 120\n90-006 Łódź"},
	{"client_tax_id", "PL 725-000-11-22"}, {"client_email", "z@zolw.example"},
	{"client_phone", "+48 42 630 00 00"}, {"client_contact", "Grzegorz"},
	{"project", "INK-42"}, {"project_title", "Baner"}, {"owner_name", "Zofia"},
	{"owner_email", "z@bmt.example"}, {"owner_phone", "+48 601 234 567"},
	{"valid_until", "11.12.2026"}, {"payment_terms", "14 dni"},
	{"delivery_terms", "5 dni"}, {"delivery_date", "04.12.2026"},
	{"due_date", "03.12.2026"}, {"offer_number", "OF/2026/0042"},
	{"order_number", "ZA/2026/0017"}, {"invoice_number", "FV/2026/11/0231"},
	{"case_number", "RK/2026/0003"}, {"complaint_date", "30.11.2026"},
	{"decision", "Uznajemy."}, {"artwork", "baner.pdf\nwitryna.ai"},
	{"notes", ""}, {"approved_by", "Marek"},
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void self_check(void);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERROR);
	setenv("TZ", "Europe/Warsaw", 1);
	const char *root = fz_root();
	char *path = fz_path(root, "conf/inkflow.xml");
	struct errlist e = {0};
	if (config_load(path, &cfg, &e) < 0) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "%s\n", e.v[i]);
		fz_die("config_load conf/inkflow.xml");
	}
	errlist_free(&e);
	free(path);
	logo_path = fz_path(root, "tests/unit/pdf/logo.png");

	const char *tmp = fz_tmpdir("fuzz-template");
	tdir = fz_path(tmp, "templates");
	fz_mkdir(tdir);
	char *pl = fz_path(tdir, "pl");
	fz_mkdir(pl);
	txt_path = fz_path(pl, "x.txt");
	html_path = fz_path(pl, "x.html");
	xml_path = fz_path(pl, "offer.xml");
	free(pl);
	self_check();
	return 0;
}

/* The shipped pl/offer.xml and pl/ack.txt must render with the harness's
 * document and values, or the inputs test only error paths. */
static void
self_check(void)
{
	char *path = fz_path(fz_root(), "templates/pl/offer.xml");
	char *d;
	size_t n;
	if (file_read(path, PDF_MAX_TEMPLATE, &d, &n) < 0)
		fz_die(path);
	fz_write(xml_path, d, n);
	free(d);
	free(path);
	char *pdf = NULL, err[512];
	size_t len = 0;
	struct pdf_doc doc = {
		.kind = "offer", .lang = "pl", .currency = "PLN", .number = "OF/2026/0042",
		.issued = 1795777200, .lines = lines, .nlines = ARRAY_LEN(lines),
		.rates = rates, .nrates = ARRAY_LEN(rates),
		.net = 216000, .vat = 44280, .gross = 260280,
		.vars = pdf_vars, .nvars = ARRAY_LEN(pdf_vars),
	};
	if (pdf_render(cfg, tdir, &doc, &pdf, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz harness: the shipped offer.xml does not render: %s\n", err);
		abort();
	}
	free(pdf);
	path = fz_path(fz_root(), "templates/pl/ack.txt");
	if (file_read(path, 256 * 1024, &d, &n) < 0)
		fz_die(path);
	fz_write(txt_path, d, n);
	free(d);
	free(path);
	struct tmpl_mail m;
	if (tmpl_mail_render(tdir, "pl", "x", mail_vars, ARRAY_LEN(mail_vars), &m, err,
	        sizeof(err)) < 0) {
		fprintf(stderr, "fuzz harness: the shipped ack.txt does not render: %s\n", err);
		abort();
	}
	tmpl_mail_free(&m);
}

static void
fuzz_mail(const uint8_t *data, size_t size, int html, const char *lang)
{
	static const char fixed_txt[] = "Subject: [{{project}}] {{subject}}\n\n{{inquiry_text}}\n";
	unlink(html_path);
	if (html) {
		fz_write(txt_path, fixed_txt, sizeof(fixed_txt) - 1);
		fz_write(html_path, data, size);
	} else {
		fz_write(txt_path, data, size);
	}
	struct tmpl_mail m;
	char err[512];
	err[0] = '\0';
	if (tmpl_mail_render(tdir, lang, "x", mail_vars, ARRAY_LEN(mail_vars), &m, err,
	        sizeof(err)) < 0) {
		FZ_CHECK(err[0] != '\0', "render failed without a message");
		FZ_CHECK(!m.subject && !m.text && !m.html, "failed render left output");
		return;
	}
	FZ_CHECK(m.subject && m.text, "subject or text NULL");
	FZ_CHECK(!strpbrk(m.subject, "\r\n"), "subject holds a line break: %s", m.subject);
	FZ_CHECK((m.html != NULL) == html, "html presence");
	if (m.html) {
		/* Markup from escaped values must arrive escaped (unless the
		 * template itself wrote it). */
		static const char *const marks[] = {"<script>", "<b>"};
		for (size_t i = 0; i < ARRAY_LEN(marks); i++)
			if (!memmem(data, size, marks[i], strlen(marks[i])))
				FZ_CHECK(!strstr(m.html, marks[i]), "unescaped %s in HTML", marks[i]);
	}
	tmpl_mail_free(&m);
}

static void
fuzz_pdf(const uint8_t *data, size_t size, int logo)
{
	fz_write(xml_path, data, size);
	char *saved = cfg->company.logo;
	cfg->company.logo = logo ? logo_path : NULL;
	struct pdf_doc d = {
		.kind = "offer", .lang = "pl", .currency = "PLN", .number = "OF/2026/0042",
		.issued = 1795777200, .lines = lines, .nlines = ARRAY_LEN(lines),
		.rates = rates, .nrates = ARRAY_LEN(rates),
		.net = 216000, .vat = 44280, .gross = 260280,
		.vars = pdf_vars, .nvars = ARRAY_LEN(pdf_vars),
	};
	char *pdf = NULL, err[512];
	size_t len = 0;
	err[0] = '\0';
	if (pdf_render(cfg, tdir, &d, &pdf, &len, err, sizeof(err)) == 0) {
		FZ_CHECK(pdf && len > 5 && memcmp(pdf, "%PDF-", 5) == 0, "not a PDF");
		free(pdf);
	} else {
		FZ_CHECK(pdf == NULL, "failed render left output");
		FZ_CHECK(err[0] != '\0', "render failed without a message");
	}
	cfg->company.logo = saved;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	if ((sel & 3) < 2)
		fuzz_mail(data + 1, size - 1, sel & 1, sel & 8 ? "de" : "pl");
	else
		fuzz_pdf(data + 1, size - 1, sel & 4);
	return 0;
}
