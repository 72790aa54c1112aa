/*
 * pdf: documents from XML layout templates (templates/<lang>/<kind>.xml),
 * rendered with libharu (the only module that includes hpdf.h) with an
 * embedded TrueType font in UTF-8, so Polish and German text renders and
 * extracts.  The caller supplies the data; numbering, storage and mailing
 * are doc.c's.  Also the management report: charts laid out in code
 * (pdf_report_charts) in the same fonts.
 */
#ifndef INKFLOW_PDF_H
#define INKFLOW_PDF_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* Limits of pdf_render; one more is an error, never a cut document. */
#define PDF_MAX_TEMPLATE (256 * 1024) /* bytes of one layout template */
#define PDF_MAX_LINES    1000         /* lines of one document */
#define PDF_MAX_VARS     64           /* named values of one document */
#define PDF_MAX_VALUE    8192         /* bytes of one string (a name, a value) */
#define PDF_MAX_PAGES    200          /* pages of one document */

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

/* Named values for {{placeholders}} besides the built-in ones.  The names
 * templates may use (an unknown name is an error, in a template at load
 * time and here at render time):
 *   client_name client_address client_tax_id client_email client_phone
 *   client_contact project project_title owner_name owner_email owner_phone
 *   valid_until payment_terms delivery_terms delivery_date due_date
 *   offer_number order_number invoice_number case_number complaint_date
 *   decision artwork notes approved_by
 * A template that names one the document does not give fails to render
 * ("file:line: {{x}}: this document has no value for it"); give "" for a
 * value that is known to be empty.  Values may hold "\n" (line breaks). */
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
 * template errors) otherwise.
 *
 * The layout template language (templates/pl/offer.xml is an example;
 * sizes in millimetres unless said otherwise, colours "#RRGGBB"):
 *   <document size="A4" margin="T R B L" font-size="pt" title="..."
 *             reverse-charge-rate="np.">   one each of, in any order:
 *     <header>   top of page 1        <running> top of pages 2, 3, ...
 *     <body>     the flow             <footer>  bottom of every page
 *   Flow elements (all take if="name" / unless="name": shown only when
 *   the placeholder is / is not empty):
 *     <p size="pt" bold="yes" align="left|center|right" color space-before
 *        space-after>text {{placeholder}} <br/> text</p>
 *     <row gap space-after><box width="40|30%|*" padding border="pt"
 *        border-color fill> p, <logo width height align/>, rule, space
 *        </box>...</row>
 *     <rule thickness="pt" color space-before space-after/>
 *     <space height/>
 *   Body only:
 *     <table font-size header-fill header-color stripe rule-color
 *        space-after><column field="pos|sku|name|qty|size|billed|unit|
 *        list_price|unit_price|discount|net|vat|note|material|finishing"
 *        width="20|*" align title="..." symbol="no" note="below"/>...</table>
 *     <totals width font-size header-fill rate-title net-title vat-title
 *        gross-title total-title space-after/>  (VAT summary per rate)
 *     <signatures height gap space-before space-after><signature
 *        label="..." name="..."/>...</signatures>
 *     <page-break/>
 *   Built-in placeholders: number issued net vat gross amount_words
 *   currency company_name company_address company_city company_country
 *   company_tax_id company_bank_account company_phone company_email
 *   company_www reverse_charge has_logo ("1" or ""), page (footer and
 *   running) and pages (footer); and the value names above.  Unknown
 *   elements, attributes and placeholders are load-time errors. */
int pdf_render(const struct config *cfg, const char *templates_dir, const struct pdf_doc *doc,
    char **out, size_t *len, char *err, size_t errlen);

/* Check every layout template (templates_dir/pl and de, *.xml); each
 * problem reported through report().  Returns the number of problems. */
size_t pdf_check_templates(const char *templates_dir,
    void (*report)(void *ctx, const char *msg), void *ctx);

/* Amount in words: "tysiąc dwieście trzydzieści cztery złote 56/100" (pl),
 * "eintausendzweihundertvierunddreißig Euro 56/100" (de).  Caller frees. */
char *pdf_amount_words(int64_t minor, const char *currency, const char *lang);

/* ---- charts: the management report --------------------------------------- */

/* Limits of pdf_report_charts; one more is an error, never a cut chart. */
#define PDF_CHART_MAX        8    /* charts in one report */
#define PDF_CHART_MAX_BARS   30   /* bars of one bar chart (a page holds 30 rows) */
#define PDF_CHART_MAX_POINTS 400  /* points of one line chart */
#define PDF_CHART_MAX_SERIES 4    /* lines of one line chart */
#define PDF_CHART_MAX_FACTS  6    /* key figures above the charts */
#define PDF_CHART_MAX_VALUE  INT64_C(1000000000000000) /* one value (10^15) */

enum pdf_chart_kind {
	PDF_CHART_HBAR, /* a horizontal bar per label, its value written at its end */
	PDF_CHART_VBAR, /* a column per label, the value above, the label below */
	PDF_CHART_LINE, /* a line per series over n points, labels along the x axis */
};

struct pdf_series {
	const char *name;        /* legend text (line charts); NULL for bars */
	const int64_t *values;   /* n values, each 0..PDF_CHART_MAX_VALUE */
};

struct pdf_chart {
	enum pdf_chart_kind kind;
	const char *title;           /* required */
	const char *note;            /* a line under the title, may be NULL */
	const char *const *labels;   /* n labels: one per bar, or one per point */
	size_t n;                    /* 0 draws the axes and "no data" */
	const struct pdf_series *series; /* bars: exactly 1; line: 1..PDF_CHART_MAX_SERIES */
	size_t nseries;
	const char *currency;        /* "PLN" or "EUR": values are minor units, written
	                              * with calc_money ("12 345,00 zł"); NULL: counts */
};

/* A key figure, shown as a tile above the charts. */
struct pdf_fact {
	const char *label;   /* "Projekty w lejku" */
	const char *value;   /* "12", "123 456,00 zł" */
};

struct pdf_report {
	const char *lang;        /* "pl" or "de": number format, page numbers, "no data" */
	const char *title;       /* required, e.g. "Raport sprzedaży" */
	const char *subtitle;    /* under the title (the date), may be NULL */
	const char *footer;      /* on every page left of the page number, may be NULL */
	const char *author;      /* document information, may be NULL */
	int64_t created;         /* epoch seconds: document information */
	const struct pdf_fact *facts;
	size_t nfacts;
	const struct pdf_chart *charts;
	size_t ncharts;
};

/* Render rep as an A4 portrait PDF: the title and subtitle, the key figures
 * in a row of tiles, then the charts top to bottom in the given order, each
 * drawn with paths and rectangles (axes with rounded ticks, grid lines,
 * labels, a legend for line charts); a chart that does not fit below the
 * previous one starts a new page.  All text is set in the embedded font
 * (UTF-8), so it extracts with pdftotext.  Strings are UTF-8 of at most
 * PDF_MAX_VALUE bytes; control characters become spaces; a label too wide
 * for its place is shortened with "…".  The caller keeps ownership of rep.
 * On success *out is a malloc'd PDF of *len bytes (caller frees) and 0 is
 * returned; -1 with err when rep breaks a limit above or holds invalid
 * UTF-8, a NULL where a value is required, a value out of range, or when
 * libharu fails. */
int pdf_report_charts(const struct pdf_report *rep, char **out, size_t *len, char *err,
    size_t errlen);

#endif
