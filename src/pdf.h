/*
 * pdf: documents from XML layout templates (templates/<lang>/<kind>.xml),
 * rendered with libharu (the only module that includes hpdf.h) with an
 * embedded TrueType font in UTF-8, so Polish and German text renders and
 * extracts.  The caller supplies the data; numbering, storage and mailing
 * are doc.c's.
 */
#ifndef INKFLOW_PDF_H
#define INKFLOW_PDF_H

#include <stddef.h>
#include <stdint.h>

struct config;

struct pdf_line {
	const char *sku;         /* NULL for free lines */
	const char *name;        /* product name in the document's language */
	const char *unit;        /* "m2", "pcs", "m" */
	int64_t qty_milli;
	int64_t w_mm, h_mm;      /* 0 when no size */
	int64_t billed_milli;    /* billed quantity in thousandths of the unit */
	int64_t list_price;      /* per unit, minor units; -1 none */
	int64_t unit_price;      /* per unit, minor units */
	int64_t net;             /* minor units */
	int vat_bp;              /* basis points */
	const char *note;        /* may be NULL */
	/* Production parameters (production order; NULL when not known). */
	const char *material, *finishing;
};

struct pdf_rate {
	int vat_bp;
	int64_t net, vat, gross;
};

/* Named values for {{placeholders}} besides the built-in ones. */
struct pdf_var {
	const char *name;
	const char *value;
};

struct pdf_doc {
	const char *kind;       /* template name: "offer", "calculation", "order",
	                         * "production", "delivery", "complaint" */
	const char *lang;       /* "pl" or "de" */
	const char *currency;   /* "PLN" or "EUR" */
	const char *number;     /* "OF/2026/0042" */
	int64_t issued;         /* epoch seconds */
	const struct pdf_line *lines;
	size_t nlines;
	const struct pdf_rate *rates; /* VAT summary, ascending by rate */
	size_t nrates;
	int64_t net, vat, gross;
	int reverse_charge;
	const struct pdf_var *vars;   /* client_name, client_address, project, ... */
	size_t nvars;
};

/* Render doc with templates_dir/<lang>/<kind>.xml.  On success *out is a
 * malloc'd PDF of *len bytes.  -1 with err ("file:line: message" for
 * template errors) otherwise. */
int pdf_render(const struct config *cfg, const char *templates_dir, const struct pdf_doc *doc,
    char **out, size_t *len, char *err, size_t errlen);

/* Check every layout template (templates_dir/pl and de, *.xml); each
 * problem reported through report().  Returns the number of problems. */
size_t pdf_check_templates(const char *templates_dir,
    void (*report)(void *ctx, const char *msg), void *ctx);

/* Amount in words: "tysiąc dwieście trzydzieści cztery złote 56/100" (pl),
 * "eintausendzweihundertvierunddreißig Euro 56/100" (de).  Caller frees. */
char *pdf_amount_words(int64_t minor, const char *currency, const char *lang);

#endif
