/*
 * The sample offer of the PDF benchmark, shared by pdf-bench.c (rendered
 * through pdf.c and the shipped template) and pdf-bare.c (written with
 * libharu directly): the same text either way.  Included by both, plain
 * C and libc only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sample_line {
	const char *sku, *name, *unit, *note;
	int64_t qty_milli, w_mm, h_mm, billed_milli, list_price, unit_price, net;
	int vat_bp;
};

static const char *const sample_company[] = {
	"BMT Druk Wielkoformatowy Sp. z o.o.", "ul. Składowa 14", "61-897 Poznań",
	"PL 779-234-56-74", "PL61 1090 1014 0000 0712 1981 2874", "+48 61 855 40 20",
	"biuro@bmt.example", "www.bmt.example",
};

static const char *const sample_names[10] = {
	"Baner frontlit 440 g/m² – Łódź", "Baner blockout 510 g/m², druk dwustronny",
	"Siatka mesh 270 g/m² na rusztowanie", "Folia monomeryczna z laminatem matowym",
	"Folia OWV one way vision na witrynę", "Plakat 200 g/m² satyna",
	"Tablica PCV 5 mm z nadrukiem UV", "Roll-up 100 × 200 cm z torbą",
	"Montaż na miejscu (Gdańsk, Żabianka)", "Projekt graficzny i przygotowanie plików",
};

/* Line i of the sample: a mix of m² products with sizes and pieces. */
static void
sample_line(size_t i, struct sample_line *l)
{
	size_t k = i % 10;
	int m2 = k < 7;
	l->sku = m2 ? "BAN-440" : NULL;
	l->name = sample_names[k];
	l->unit = m2 ? "m2" : "pcs";
	l->note = k == 0 ? "oczkowanie co 50 cm, zgrzew" : NULL;
	l->qty_milli = (int64_t)(1 + i % 4) * 1000;
	l->w_mm = m2 ? 1000 + (int64_t)(i % 5) * 500 : 0;
	l->h_mm = m2 ? 1000 + (int64_t)(i % 3) * 500 : 0;
	l->billed_milli = m2 ? l->qty_milli * l->w_mm * l->h_mm / 1000000 : l->qty_milli;
	l->list_price = m2 ? 4500 : -1;
	l->unit_price = m2 ? 3900 + (int64_t)k * 100 : 25000 + (int64_t)k * 1000;
	l->net = (l->billed_milli * l->unit_price + 500) / 1000;
	l->vat_bp = 2300;
}

/* "1 234,56" as calc_money writes it for Polish, without the symbol;
 * minor >= 0, out of at least 32 bytes. */
static void __attribute__((unused))
sample_money(int64_t minor, char *out, size_t size)
{
	char d[24];
	unsigned long long u = minor < 0 ? 0 : (unsigned long long)minor;
	int n = snprintf(d, sizeof(d), "%llu", u / 100);
	size_t j = 0;
	for (int i = 0; i < n && j + 5 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[j++] = ' ';
		out[j++] = d[i];
	}
	out[j++] = ',';
	out[j++] = (char)('0' + u % 100 / 10);
	out[j++] = (char)('0' + u % 10);
	out[j] = '\0';
}
