/*
 * pdf-bare: the baseline of the PDF benchmark.  Writes the text of the
 * sample offer (pdf-sample.c) with libharu directly: the same font files
 * as inkflow (DejaVu Sans and Sans Bold, embedded, UTF-8), fixed
 * positions, no template, no database, no configuration.
 *
 *   pdf-bare [-n N] [-l LINES] [-r REGULAR.ttf] [-b BOLD.ttf] [-o FILE.pdf]
 *
 * Prints one line of key=value figures, read by pdf-bench.
 */
#include <hpdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "pdf-sample.c"

static HPDF_STATUS last_error;

static void
on_error(HPDF_STATUS code, HPDF_STATUS detail, void *data)
{
	(void)detail;
	(void)data;
	last_error = code;
}

static double
seconds(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
text(HPDF_Page p, HPDF_Font f, double size, double x, double y, const char *s)
{
	HPDF_Page_SetFontAndSize(p, f, (HPDF_REAL)size);
	HPDF_Page_TextOut(p, (HPDF_REAL)x, (HPDF_REAL)y, s);
}

#define MAX_PAGES 64
static HPDF_Page pages[MAX_PAGES];
static unsigned npages;

static HPDF_Page
page(HPDF_Doc pdf)
{
	HPDF_Page p = HPDF_AddPage(pdf);
	if (npages < MAX_PAGES)
		pages[npages++] = p;
	HPDF_Page_SetSize(p, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
	HPDF_Page_BeginText(p);
	return p;
}

static const char *const heads[] = {"Lp.", "Nazwa", "Wymiar [mm]", "Szt.", "Ilość", "J.m.",
    "Cena netto", "VAT", "Wartość netto"};
static const double colx[] = {45, 75, 230, 300, 330, 370, 400, 470, 500};

/* One offer of nlines lines; returns its size, 0 on a libharu error. */
static size_t
render(const char *regular, const char *bold, size_t nlines, const char *save)
{
	HPDF_Doc pdf = HPDF_New(on_error, NULL);
	if (!pdf)
		return 0;
	HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
	HPDF_UseUTFEncodings(pdf);
	const char *rn = HPDF_LoadTTFontFromFile(pdf, regular, HPDF_TRUE);
	const char *bn = HPDF_LoadTTFontFromFile(pdf, bold, HPDF_TRUE);
	if (!rn || !bn) {
		HPDF_Free(pdf);
		return 0;
	}
	HPDF_Font r = HPDF_GetFont(pdf, rn, "UTF-8"), b = HPDF_GetFont(pdf, bn, "UTF-8");
	npages = 0;
	HPDF_Page p = page(pdf);
	char buf[256], m[48];
	double y = 800;
	text(p, b, 9.5, 350, y, sample_company[0]);
	snprintf(buf, sizeof(buf), "%s, %s", sample_company[1], sample_company[2]);
	text(p, r, 8, 380, y -= 11, buf);
	snprintf(buf, sizeof(buf), "NIP %s", sample_company[3]);
	text(p, r, 8, 420, y -= 10, buf);
	snprintf(buf, sizeof(buf), "tel. %s · %s · %s", sample_company[5], sample_company[6],
	    sample_company[7]);
	text(p, r, 8, 300, y -= 10, buf);
	text(p, b, 20, 45, y -= 40, "OFERTA");
	text(p, b, 11, 45, y -= 16, "nr OF/2026/0042");
	text(p, r, 9, 400, y + 16, "Data wystawienia: 27.11.2026");
	text(p, r, 9, 400, y + 5, "Ważna do: 11.12.2026");
	text(p, r, 9, 400, y - 6, "Projekt: INK-42");
	text(p, r, 7.5, 50, y -= 40, "NABYWCA");
	text(p, b, 10, 50, y -= 12, "Łódzka Agencja Reklamowa „Żółw” Sp. z o.o.");
	text(p, r, 9, 50, y -= 11, "ul. Piotrkowska 120");
	text(p, r, 9, 50, y -= 11, "90-006 Łódź");
	text(p, r, 7.5, 350, y + 34, "OPIEKUN OFERTY");
	text(p, b, 10, 350, y + 22, "Zofia Wiśniewska");
	text(p, r, 9, 350, y + 11, "z.wisniewska@bmt.example");
	text(p, r, 9, 45, y -= 30, "Szanowni Państwo, dziękujemy za zapytanie. Przedstawiamy ofertę "
	    "na wykonanie poniższych prac:");
	y -= 20;
	for (size_t h = 0; h < 9; h++)
		text(p, b, 8.5, colx[h], y, heads[h]);
	int64_t net = 0;
	for (size_t i = 0; i < nlines; i++) {
		struct sample_line l;
		sample_line(i, &l);
		if (y < 90) {
			HPDF_Page_EndText(p);
			p = page(pdf);
			y = 800;
			text(p, r, 8, 45, y, "Oferta nr OF/2026/0042 z dnia 27.11.2026 – ciąg dalszy");
			y -= 20;
			for (size_t h = 0; h < 9; h++)
				text(p, b, 8.5, colx[h], y, heads[h]);
		}
		y -= 14;
		snprintf(buf, sizeof(buf), "%zu", i + 1);
		text(p, r, 8.5, colx[0], y, buf);
		text(p, r, 8.5, colx[1], y, l.name);
		if (l.w_mm) {
			snprintf(buf, sizeof(buf), "%lld × %lld", (long long)l.w_mm, (long long)l.h_mm);
			text(p, r, 8.5, colx[2], y, buf);
		}
		snprintf(buf, sizeof(buf), "%lld", (long long)(l.qty_milli / 1000));
		text(p, r, 8.5, colx[3], y, buf);
		snprintf(buf, sizeof(buf), "%lld", (long long)(l.billed_milli / 1000));
		text(p, r, 8.5, colx[4], y, buf);
		text(p, r, 8.5, colx[5], y, l.w_mm ? "m²" : "szt.");
		sample_money(l.unit_price, m, sizeof(m));
		text(p, r, 8.5, colx[6], y, m);
		text(p, r, 8.5, colx[7], y, "23%");
		sample_money(l.net, m, sizeof(m));
		text(p, r, 8.5, colx[8], y, m);
		if (l.note)
			text(p, r, 7.2, colx[1], y -= 10, l.note);
		net += l.net;
	}
	int64_t vat = (net * 23 + 50) / 100;
	y -= 30;
	if (y < 150) {
		HPDF_Page_EndText(p);
		p = page(pdf);
		y = 780;
	}
	text(p, b, 8, 300, y, "Stawka VAT      Netto      VAT      Brutto");
	sample_money(net, m, sizeof(m));
	snprintf(buf, sizeof(buf), "23%%   %s zł", m);
	text(p, r, 9, 300, y -= 14, buf);
	sample_money(net + vat, m, sizeof(m));
	snprintf(buf, sizeof(buf), "Wartość oferty: %s zł", m);
	text(p, b, 11, 380, y -= 20, buf);
	text(p, r, 8, 300, y -= 12, "słownie: (kwota słownie)");
	text(p, r, 9, 50, y -= 30, "Oferta ważna do 11.12.2026. Ceny podano w PLN.");
	text(p, r, 9, 50, y -= 11, "Termin płatności: 14 dni od daty wystawienia faktury");
	text(p, b, 10, 45, y -= 24, "Aby przyjąć ofertę, odpowiedz na tę wiadomość słowami "
	    "AKCEPTUJĘ OFERTĘ.");
	HPDF_Page_EndText(p);
	/* footers on every page */
	for (unsigned i = 0; i < npages; i++) {
		HPDF_Page fp = pages[i];
		HPDF_Page_BeginText(fp);
		snprintf(buf, sizeof(buf), "%s · %s, %s · NIP %s", sample_company[0], sample_company[1],
		    sample_company[2], sample_company[3]);
		text(fp, r, 7, 45, 40, buf);
		snprintf(buf, sizeof(buf), "Rachunek: %s · %s", sample_company[4], sample_company[6]);
		text(fp, r, 7, 45, 31, buf);
		snprintf(buf, sizeof(buf), "Strona %u", i + 1);
		text(fp, r, 7.5, 520, 40, buf);
		HPDF_Page_EndText(fp);
	}
	last_error = 0;
	size_t size = 0;
	if (HPDF_SaveToStream(pdf) == HPDF_OK) {
		size = HPDF_GetStreamSize(pdf);
		char *out = malloc(size ? size : 1);
		HPDF_UINT32 n = (HPDF_UINT32)size;
		HPDF_STATUS st = out ? HPDF_ReadFromStream(pdf, (HPDF_BYTE *)out, &n) : 1;
		if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || n != size)
			size = 0;
		if (size && save) {
			FILE *f = fopen(save, "wb");
			if (f) {
				fwrite(out, 1, size, f);
				fclose(f);
			}
		}
		free(out);
	}
	HPDF_Free(pdf);
	return size;
}

int
main(int argc, char **argv)
{
	const char *regular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
	const char *bold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
	const char *save = NULL;
	long n = 20, lines = 10;
	int c;
	while ((c = getopt(argc, argv, "n:l:r:b:o:")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'l': lines = strtol(optarg, NULL, 10); break;
		case 'r': regular = optarg; break;
		case 'b': bold = optarg; break;
		case 'o': save = optarg; break;
		default:
			fprintf(stderr, "usage: pdf-bare [-n N] [-l LINES] [-r REGULAR.ttf] "
			    "[-b BOLD.ttf] [-o FILE.pdf]\n");
			return 2;
		}
	}
	if (n < 1 || n > 1000000 || lines < 0 || lines > 1000) {
		fprintf(stderr, "pdf-bare: -n 1..1000000, -l 0..1000\n");
		return 2;
	}
	if (save && !render(regular, bold, (size_t)lines, save)) {
		fprintf(stderr, "pdf-bare: libharu error 0x%04X\n", (unsigned)last_error);
		return 1;
	}
	double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	size_t bytes = 0;
	for (long i = 0; i < n; i++) {
		size_t s = render(regular, bold, (size_t)lines, NULL);
		if (!s) {
			fprintf(stderr, "pdf-bare: libharu error 0x%04X\n", (unsigned)last_error);
			return 1;
		}
		bytes += s;
	}
	double wall = seconds(CLOCK_MONOTONIC) - w0, cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("pdf-bare lines=%ld n=%ld docs_per_s=%.1f ms_per_doc=%.3f cpu_ms_per_doc=%.3f "
	    "bytes_per_doc=%zu peak_rss_kb=%ld\n", lines, n, (double)n / wall, wall * 1000 / (double)n,
	    cpu * 1000 / (double)n, bytes / (size_t)n, ru.ru_maxrss);
	return 0;
}
