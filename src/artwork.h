/*
 * artwork: the technical parameters of a client's print file — PDF, TIFF,
 * JPEG or PNG — read with the formats' own libraries, and the resolution
 * it gives at the size it will be printed.
 */
#ifndef INKFLOW_ARTWORK_H
#define INKFLOW_ARTWORK_H

#include <stddef.h>
#include <stdint.h>

enum artwork_colour { ART_UNKNOWN, ART_RGB, ART_CMYK, ART_GREY, ART_INDEXED };

struct artwork_info {
	char format[8];           /* "PDF", "TIFF", "JPEG", "PNG" */
	int64_t px_w, px_h;       /* pixels (raster formats; for PDF: the largest
	                           * embedded image, 0 when none) */
	int dpi_x, dpi_y;         /* resolution stored in the file, 0 if none */
	enum artwork_colour colour;
	int64_t page_w_um, page_h_um; /* PDF: first page size in micrometres
	                               * (MediaBox/TrimBox); raster: px / dpi, 0 when
	                               * no dpi is stored */
	int pages;                /* PDF pages, 1 for raster */
	char detail[128];         /* e.g. "16 bit", "ICC profile", "JPEG progressive" */
};

/* Read path (whose detected type decides the reader, not the name) into
 * out.  0, or -1 with err ("not a supported image or PDF", the library's
 * reason).  Never crashes on any input; reads at most max_bytes.
 * A regular file larger than max_bytes is refused unread ("file too
 * large"); an empty file, a file cut short (no JPEG EOI, no PNG IEND, TIFF
 * strips past the end, no PDF %%EOF) and a password-protected PDF are
 * errors.  On -1, out is all zero.  err may be NULL. */
int artwork_read(const char *path, size_t max_bytes, struct artwork_info *out, char *err,
    size_t errlen);

/* Effective resolution (dpi, the lower of both axes) when the pixels are
 * printed at w_mm × h_mm; 0 when unknown (no pixels). */
/* dpi = px × 254 / (mm × 10), rounded down.  The image may be placed
 * turned by 90°: the orientation whose aspect matches the print is used,
 * which is the larger of the two results (3000×2000 px on 200×300 cm is
 * 25 dpi, not 16).  For a PDF, px is its largest image assumed to fill the
 * print; 0 also for sizes <= 0. */
int artwork_effective_dpi(const struct artwork_info *a, int64_t w_mm, int64_t h_mm);

const char *artwork_colour_name(enum artwork_colour c); /* "RGB", "CMYK", "grey", ... */

#endif
