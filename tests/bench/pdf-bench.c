/*
 * pdf-bench: documents per second through pdf.c (the shipped offer
 * template, the configuration's company, no database) against pdf-bare, a
 * bare libharu program writing the same text with the same font files.
 *
 *   pdf-bench [-n N] [-B path/to/pdf-bare] [-s srcdir]
 *
 * Renders the sample offer with 10 lines and with 60 lines N times each in
 * this one process and prints documents per second (wall and CPU), bytes
 * per document and peak RSS; then runs pdf-bare with the same N and line
 * counts and prints the ratio (goal: inkflow >= 0.5x the bare program).
 * A third inkflow run holds a character outside the font subset, so pdf.c
 * embeds the full font files exactly as pdf-bare does: that one compares
 * the two programs with the fonts taken out of the picture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "pdf.h"
#include "util.h"

#include "pdf-sample.c"

static double
seconds(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct fig {
	double dps, ms, cpu_ms;
	size_t bytes;
	long rss_kb;
};

struct sample_doc {
	struct pdf_line *lines;
	struct pdf_rate rate;
	struct pdf_doc doc;
};

static const struct pdf_var vars[] = {
	{"client_name", "Łódzka Agencja Reklamowa „Żółw” Sp. z o.o."},
	{"client_address", "ul. Piotrkowska 120\n90-006 Łódź"},
	{"client_tax_id", "PL 725-000-11-22"},
	{"project", "INK-42"},
	{"owner_name", "Zofia Wiśniewska"},
	{"owner_email", "z.wisniewska@bmt.example"},
	{"owner_phone", "+48 601 234 567"},
	{"valid_until", "11.12.2026"},
	{"payment_terms", "14 dni od daty wystawienia faktury"},
	{"delivery_terms", "5 dni roboczych od akceptacji projektu"},
	{"notes", ""},
};
/* The same, with a Cyrillic letter the font subset lacks. */
static struct pdf_var vars_full[ARRAY_LEN(vars)];

static void
sample_doc(size_t n, int full_font, struct sample_doc *s)
{
	s->lines = xcalloc(n, sizeof(*s->lines));
	int64_t net = 0;
	for (size_t i = 0; i < n; i++) {
		struct sample_line l;
		sample_line(i, &l);
		s->lines[i] = (struct pdf_line){.sku = l.sku, .name = l.name, .unit = l.unit,
		    .note = l.note, .qty_milli = l.qty_milli, .w_mm = l.w_mm, .h_mm = l.h_mm,
		    .billed_milli = l.billed_milli, .list_price = l.list_price,
		    .unit_price = l.unit_price, .net = l.net, .vat_bp = l.vat_bp};
		net += l.net;
	}
	int64_t vat = (net * 23 + 50) / 100;
	s->rate = (struct pdf_rate){.vat_bp = 2300, .net = net, .vat = vat, .gross = net + vat};
	s->doc = (struct pdf_doc){.kind = "offer", .lang = "pl", .currency = "PLN",
	    .number = "OF/2026/0042", .issued = 1795777200, .lines = s->lines, .nlines = n,
	    .rates = &s->rate, .nrates = 1, .net = net, .vat = vat, .gross = net + vat,
	    .vars = full_font ? vars_full : vars, .nvars = ARRAY_LEN(vars)};
}

static int
bench(const struct config *cfg, const char *tdir, const struct pdf_doc *d, long n,
    struct fig *f)
{
	char err[512], *pdf;
	size_t len, bytes = 0;
	double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		if (pdf_render(cfg, tdir, d, &pdf, &len, err, sizeof(err)) < 0) {
			fprintf(stderr, "pdf-bench: %s\n", err);
			return -1;
		}
		bytes += len;
		free(pdf);
	}
	double wall = seconds(CLOCK_MONOTONIC) - w0, cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	f->dps = (double)n / wall;
	f->ms = wall * 1000 / (double)n;
	f->cpu_ms = cpu * 1000 / (double)n;
	f->bytes = bytes / (size_t)n;
	f->rss_kb = ru.ru_maxrss;
	return 0;
}

static int
bare(const char *prog, long n, long lines, struct fig *f)
{
	char *cmd = xasprintf("'%s' -n %ld -l %ld", prog, n, lines);
	FILE *p = popen(cmd, "r");
	free(cmd);
	char line[512] = "";
	if (!p || !fgets(line, sizeof(line), p)) {
		if (p)
			pclose(p);
		return -1;
	}
	if (pclose(p) != 0)
		return -1;
	const char *a = strstr(line, "docs_per_s="), *b = strstr(line, "ms_per_doc="),
	    *c = strstr(line, "cpu_ms_per_doc="), *d = strstr(line, "bytes_per_doc="),
	    *e = strstr(line, "peak_rss_kb=");
	if (!a || !b || !c || !d || !e)
		return -1;
	f->dps = strtod(a + 11, NULL);
	f->ms = strtod(b + 11, NULL);
	f->cpu_ms = strtod(c + 15, NULL);
	f->bytes = strtoul(d + 14, NULL, 10);
	f->rss_kb = strtol(e + 12, NULL, 10);
	return 0;
}

static void
row(const char *what, const struct fig *f)
{
	printf("  %-44s %8.1f docs/s  %7.2f ms wall  %7.2f ms CPU  %7zu bytes/doc  "
	    "peak RSS %6ld KiB\n", what, f->dps, f->ms, f->cpu_ms, f->bytes, f->rss_kb);
}

int
main(int argc, char **argv)
{
	long n = 200;
	const char *bare_prog = NULL, *src = getenv("INKFLOW_SRCDIR");
	int c;
	while ((c = getopt(argc, argv, "n:B:s:")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'B': bare_prog = optarg; break;
		case 's': src = optarg; break;
		default:
			fprintf(stderr, "usage: pdf-bench [-n N] [-B pdf-bare] [-s srcdir]\n");
			return 2;
		}
	}
	if (n < 1 || n > 1000000) {
		fprintf(stderr, "pdf-bench: -n 1..1000000\n");
		return 2;
	}
	if (!src || !*src)
		src = ".";
	char *conf = xasprintf("%s/conf/inkflow.xml", src);
	char *tdir = xasprintf("%s/templates", src);
	struct config *cfg = NULL;
	struct errlist e = {0};
	if (config_load(conf, &cfg, &e) < 0) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "pdf-bench: %s\n", e.v[i]);
		return 1;
	}
	errlist_free(&e);
	setenv("TZ", "Europe/Warsaw", 1);
	for (size_t i = 0; i < ARRAY_LEN(vars); i++)
		vars_full[i] = vars[i];
	vars_full[0].value = "Łódzka Agencja Reklamowa „Żółw” Sp. z o.o. (Жółw)";

	struct sample_doc s10, s60, s10f;
	sample_doc(10, 0, &s10);
	sample_doc(60, 0, &s60);
	sample_doc(10, 1, &s10f);

	/* The first render pays for reading and subsetting the fonts, once
	 * per process. */
	struct fig first, f10, f60, f10f, b10, b60;
	if (bench(cfg, tdir, &s10.doc, 1, &first) < 0 || bench(cfg, tdir, &s10.doc, n, &f10) < 0 ||
	    bench(cfg, tdir, &s60.doc, n, &f60) < 0 || bench(cfg, tdir, &s10f.doc, n, &f10f) < 0)
		return 1;

	printf("PDF rendering, %ld documents each (A4, DejaVu Sans + Bold, compressed)\n", n);
	printf("  first document in the process (reads and subsets the fonts): %.1f ms\n", first.ms);
	row("inkflow, offer 10 lines", &f10);
	row("inkflow, offer 60 lines", &f60);
	row("inkflow, offer 10 lines, full font files", &f10f);

	char *self_dir = NULL;
	if (!bare_prog) {
		self_dir = path_dirname(argv[0]);
		bare_prog = self_dir = xasprintf("%s/pdf-bare", self_dir);
	}
	if (bare(bare_prog, n, 10, &b10) < 0 || bare(bare_prog, n, 60, &b60) < 0) {
		fprintf(stderr, "pdf-bench: cannot run %s\n", bare_prog);
		return 1;
	}
	row("bare libharu, same text, 10 lines", &b10);
	row("bare libharu, same text, 60 lines", &b60);
	printf("  ratio inkflow / bare (documents per second, goal >= 0.5):\n");
	printf("    10 lines %.2f   60 lines %.2f   10 lines with the full font files %.2f\n",
	    f10.dps / b10.dps, f60.dps / b60.dps, f10f.dps / b10.dps);
	printf("    by CPU time: 10 lines %.2f   60 lines %.2f   full font files %.2f\n",
	    b10.cpu_ms / f10.cpu_ms, b60.cpu_ms / f60.cpu_ms, b10.cpu_ms / f10f.cpu_ms);
	if (system("command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1")
	    == 0)
		printf("  LibreOffice is installed: time one conversion with tests/bench/pdf-run\n");
	else
		printf("  LibreOffice headless: not installed here, not measured\n");

	free(s10.lines);
	free(s60.lines);
	free(s10f.lines);
	free(self_dir);
	free(conf);
	free(tdir);
	config_free(cfg);
	return 0;
}
