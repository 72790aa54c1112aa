/*
 * Unit tests for artwork.c.  Every fixture is made at run time: TIFF, PNG
 * and JPEG with their own libraries, PDFs written as text (and rewritten by
 * qpdf with object streams or encryption), then read back.  A mutation loop
 * feeds damaged copies of all of them through artwork_read with stderr
 * captured, so a crash, a hang (alarm) or a library printing is a failure.
 * INKFLOW_FUZZ_SECONDS=N runs that loop for N seconds instead of a fixed
 * number of rounds; INKFLOW_FUZZ_SEED=N changes the mutations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <qpdf/qpdf-c.h>
#include <tiffio.h>

#include "artwork.h"
#include "util.h"

#define MAX (16u * 1024 * 1024)

static char *tmpdir;

/* --- helpers ---------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup_all(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	tmpdir = xasprintf("%s/inkflow-test-artwork-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_all(void **state)
{
	(void)state;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmpdir);
	return 0;
}

static char *
tpath(const char *name)
{
	return path_join(tmpdir, name);
}

static char *
write_bytes(const char *name, const void *data, size_t len)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return p;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	char *d;
	assert_int_equal(file_read(path, MAX, &d, len), 0);
	return (unsigned char *)d;
}

/* Reads path expecting success. */
static struct artwork_info
read_ok(const char *path)
{
	struct artwork_info a;
	char err[256];
	int rc = artwork_read(path, MAX, &a, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %s", path, err);
	return a;
}

/* Reads path expecting failure with a reason containing want. */
static void
read_fails(const char *path, size_t max, const char *want)
{
	struct artwork_info a;
	char err[256] = "untouched";
	assert_int_equal(artwork_read(path, max, &a, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("%s: error \"%s\" does not contain \"%s\"", path, err, want);
	assert_int_equal(a.px_w, 0);
	assert_string_equal(a.format, "");
}

/* --- fixture writers -------------------------------------------------- */

struct tiff_spec {
	const char *mode;     /* "wl" little-endian, "wb" big-endian */
	uint32_t w, h;
	uint16_t photometric, spp, bps;
	float xres, yres;     /* 0: none */
	uint16_t unit;
};

static char *
make_tiff(const char *name, const struct tiff_spec *s)
{
	char *p = tpath(name);
	TIFF *t = TIFFOpen(p, s->mode);
	assert_non_null(t);
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s->w);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, s->h);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, s->spp);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, s->bps);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s->photometric);
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 4);
	if (s->photometric == PHOTOMETRIC_SEPARATED)
		TIFFSetField(t, TIFFTAG_INKSET, INKSET_CMYK);
	if (s->xres > 0) {
		TIFFSetField(t, TIFFTAG_XRESOLUTION, s->xres);
		TIFFSetField(t, TIFFTAG_YRESOLUTION, s->yres);
		TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, s->unit);
	}
	size_t row = (size_t)s->w * s->spp * s->bps / 8;
	unsigned char *line = xcalloc(1, row);
	for (uint32_t y = 0; y < s->h; y++) {
		memset(line, (int)(y * 7), row);
		assert_int_equal(TIFFWriteScanline(t, line, y, 0), 1);
	}
	free(line);
	TIFFClose(t);
	return p;
}

static char *
make_png(const char *name, uint32_t w, uint32_t h, int ctype, int depth, uint32_t ppm)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng failed writing %s", name);
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, depth, ctype, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ctype == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
		png_set_PLTE(png, info, pal, 4);
	}
	if (ppm)
		png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	png_write_info(png, info);
	int ch = png_get_channels(png, info);
	size_t row = ((size_t)w * (size_t)ch * (size_t)depth + 7) / 8;
	unsigned char *line = xcalloc(1, row);
	for (uint32_t y = 0; y < h; y++) {
		memset(line, (int)(y & 3), row);
		png_write_row(png, line);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(line);
	assert_int_equal(fclose(f), 0);
	return p;
}

struct jpeg_spec {
	int w, h, comps;          /* 1 grey, 3 RGB, 4 CMYK */
	int jfif, unit, xd, yd;   /* jfif: write the JFIF APP0 */
	int progressive;
	const unsigned char *exif; /* APP1 payload, or NULL */
	size_t exif_len;
};

static char *
make_jpeg(const char *name, const struct jpeg_spec *s)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = (JDIMENSION)s->w;
	c.image_height = (JDIMENSION)s->h;
	c.input_components = s->comps;
	c.in_color_space = s->comps == 1 ? JCS_GRAYSCALE : s->comps == 3 ? JCS_RGB : JCS_CMYK;
	jpeg_set_defaults(&c);
	c.write_JFIF_header = s->jfif ? TRUE : FALSE;
	c.density_unit = (UINT8)s->unit;
	c.X_density = (UINT16)s->xd;
	c.Y_density = (UINT16)s->yd;
	if (s->progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	if (s->exif)
		jpeg_write_marker(&c, JPEG_APP0 + 1, s->exif, (unsigned)s->exif_len);
	size_t row = (size_t)s->w * (size_t)s->comps;
	unsigned char *line = xcalloc(1, row);
	while (c.next_scanline < c.image_height) {
		memset(line, (int)(c.next_scanline * 5), row);
		JSAMPROW r = line;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(line);
	assert_int_equal(fclose(f), 0);
	return p;
}

/* A PDF written as text: objects numbered from 1 in the order added, a
 * classic xref table with real offsets, Root = object 1. */
struct pdfb {
	struct sbuf sb;
	size_t off[64];
	int n;
};

static void
pdf_begin(struct pdfb *b)
{
	memset(b, 0, sizeof(*b));
	sb_adds(&b->sb, "%PDF-1.6\n%\xe2\xe3\xcf\xd3\n");
}

static void
pdf_obj(struct pdfb *b, const char *body)
{
	assert_true(b->n + 1 < (int)ARRAY_LEN(b->off));
	b->off[++b->n] = b->sb.len;
	sb_printf(&b->sb, "%d 0 obj\n%s\nendobj\n", b->n, body);
}

/* An image XObject dictionary with a 4-byte stream. */
static void
pdf_image(struct pdfb *b, int w, int h, const char *cs, int bpc)
{
	char *s = xasprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d "
	                    "/ColorSpace %s /BitsPerComponent %d /Filter /DCTDecode /Length 4 >>\n"
	                    "stream\nxxxx\nendstream",
	    w, h, cs, bpc);
	pdf_obj(b, s);
	free(s);
}

static char *
pdf_finish(struct pdfb *b, const char *name)
{
	size_t xref = b->sb.len;
	sb_printf(&b->sb, "xref\n0 %d\n0000000000 65535 f \n", b->n + 1);
	for (int i = 1; i <= b->n; i++)
		sb_printf(&b->sb, "%010zu 00000 n \n", b->off[i]);
	sb_printf(&b->sb, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	    b->n + 1, xref);
	char *p = write_bytes(name, b->sb.s, b->sb.len);
	sb_free(&b->sb);
	return p;
}

/* A4 landscape, one page, one 3508×2480 CMYK image. */
static char *
make_pdf_a4(const char *name)
{
	struct pdfb b;
	pdf_begin(&b);
	pdf_obj(&b, "<< /Type /Catalog /Pages 2 0 R >>");
	pdf_obj(&b, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	pdf_obj(&b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 841.89 595.28] "
	            "/Resources << /XObject << /Im1 5 0 R /Im2 6 0 R >> >> /Contents 4 0 R >>");
	const char *content = "q 841.89 0 0 595.28 0 0 cm /Im1 Do Q\n";
	char *obj = xasprintf("<< /Length %zu >>\nstream\n%s\nendstream", strlen(content), content);
	pdf_obj(&b, obj);
	free(obj);
	pdf_image(&b, 3508, 2480, "/DeviceCMYK", 8);
	pdf_image(&b, 100, 80, "/DeviceRGB", 8); /* a small logo */
	return pdf_finish(&b, name);
}

/* Rewrite in with qpdf: object and xref streams, or R6 encryption. */
static char *
qpdf_rewrite(const char *in, const char *name, int encrypt)
{
	char *out = tpath(name);
	qpdf_data q = qpdf_init();
	assert_false(qpdf_read(q, in, NULL) & QPDF_ERRORS);
	assert_false(qpdf_init_write(q, out) & QPDF_ERRORS);
	if (encrypt)
		qpdf_set_r6_encryption_parameters2(q, "secret", "owner", QPDF_TRUE, QPDF_TRUE,
		    QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, qpdf_r3p_full, QPDF_TRUE);
	else
		qpdf_set_object_stream_mode(q, qpdf_o_generate);
	assert_false(qpdf_write(q) & QPDF_ERRORS);
	qpdf_cleanup(&q);
	return out;
}

/* --- JPEG ------------------------------------------------------------- */

static void
test_jpeg_rgb_dpi(void **state)
{
	(void)state;
	struct jpeg_spec s = {60, 40, 3, 1, 1, 300, 300, 0, NULL, 0};
	char *p = make_jpeg("rgb.jpg", &s);
	struct artwork_info a = read_ok(p);
	assert_string_equal(a.format, "JPEG");
	assert_int_equal(a.px_w, 60);
	assert_int_equal(a.px_h, 40);
	assert_int_equal(a.dpi_x, 300);
	assert_int_equal(a.dpi_y, 300);
	assert_int_equal(a.colour, ART_RGB);
	assert_int_equal(a.pages, 1);
	assert_int_equal(a.page_w_um, 5080); /* 60 px / 300 dpi = 0.2 in */
	assert_int_equal(a.page_h_um, 3387); /* 3386.67 */
	free(p);
}

static void
test_jpeg_dots_per_cm(void **state)
{
	(void)state;
	struct jpeg_spec s = {60, 40, 3, 1, 2, 118, 59, 0, NULL, 0};
	char *p = make_jpeg("cm.jpg", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.dpi_x, 300);      /* 118 × 2.54 = 299.72 */
	assert_int_equal(a.dpi_y, 150);      /* 59 × 2.54 = 149.86 */
	assert_int_equal(a.page_w_um, 5085); /* 60 / 118 cm = 5084.7 µm */
	assert_int_equal(a.page_h_um, 6780); /* 40 / 59 cm = 6779.7 µm */
	free(p);
}

static void
test_jpeg_no_density(void **state)
{
	(void)state;
	struct jpeg_spec s = {60, 40, 3, 1, 0, 1, 1, 0, NULL, 0};
	char *p = make_jpeg("nodens.jpg", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.px_w, 60);
	assert_int_equal(a.dpi_x, 0);
	assert_int_equal(a.dpi_y, 0);
	assert_int_equal(a.page_w_um, 0);
	assert_int_equal(a.page_h_um, 0);
	free(p);
	/* No JFIF marker at all. */
	struct jpeg_spec s2 = {60, 40, 3, 0, 0, 0, 0, 0, NULL, 0};
	p = make_jpeg("nojfif.jpg", &s2);
	a = read_ok(p);
	assert_int_equal(a.dpi_x, 0);
	free(p);
}

static void
test_jpeg_cmyk(void **state)
{
	(void)state;
	struct jpeg_spec s = {32, 48, 4, 0, 0, 0, 0, 0, NULL, 0};
	char *p = make_jpeg("cmyk.jpg", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.colour, ART_CMYK);
	assert_int_equal(a.px_w, 32);
	assert_int_equal(a.px_h, 48);
	assert_non_null(strstr(a.detail, "Adobe CMYK"));
	free(p);
}

static void
test_jpeg_grey_progressive(void **state)
{
	(void)state;
	struct jpeg_spec s = {17, 9, 1, 1, 1, 72, 72, 1, NULL, 0};
	char *p = make_jpeg("grey.jpg", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.colour, ART_GREY);
	assert_int_equal(a.dpi_x, 72);
	assert_non_null(strstr(a.detail, "progressive"));
	free(p);
}

static void
test_jpeg_exif_resolution(void **state)
{
	(void)state;
	/* "Exif\0\0", big-endian TIFF header, IFD0 with XResolution 240/1,
	 * YResolution 480/2, ResolutionUnit 2 (inch). */
	static const unsigned char exif[] = {
		'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8,
		0, 3,
		0x01, 0x1a, 0, 5, 0, 0, 0, 1, 0, 0, 0, 50,
		0x01, 0x1b, 0, 5, 0, 0, 0, 1, 0, 0, 0, 58,
		0x01, 0x28, 0, 3, 0, 0, 0, 1, 0, 2, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 240, 0, 0, 0, 1,
		0, 0, 1, 224, 0, 0, 0, 2,
	};
	struct jpeg_spec s = {24, 12, 3, 0, 0, 0, 0, 0, exif, sizeof(exif)};
	char *p = make_jpeg("exif.jpg", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.dpi_x, 240);
	assert_int_equal(a.dpi_y, 240);
	assert_int_equal(a.page_w_um, 2540); /* 24 / 240 in */
	free(p);
}

/* --- PNG -------------------------------------------------------------- */

static void
test_png_rgb_phys(void **state)
{
	(void)state;
	char *p = make_png("rgb.png", 40, 30, PNG_COLOR_TYPE_RGB, 8, 11811);
	struct artwork_info a = read_ok(p);
	assert_string_equal(a.format, "PNG");
	assert_int_equal(a.px_w, 40);
	assert_int_equal(a.px_h, 30);
	assert_int_equal(a.dpi_x, 300); /* 11811 px/m × 0.0254 = 299.999 */
	assert_int_equal(a.dpi_y, 300);
	assert_int_equal(a.colour, ART_RGB);
	assert_int_equal(a.page_w_um, 3387); /* 40 / 11811 m = 3386.67 µm */
	assert_string_equal(a.detail, "");
	free(p);
}

static void
test_png_16bit_and_types(void **state)
{
	(void)state;
	char *p = make_png("rgb16.png", 7, 5, PNG_COLOR_TYPE_RGB_ALPHA, 16, 0);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.colour, ART_RGB);
	assert_int_equal(a.dpi_x, 0);
	assert_int_equal(a.page_w_um, 0);
	assert_non_null(strstr(a.detail, "16 bit"));
	assert_non_null(strstr(a.detail, "alpha"));
	free(p);

	p = make_png("grey16.png", 3, 2, PNG_COLOR_TYPE_GRAY, 16, 3937); /* 100 dpi */
	a = read_ok(p);
	assert_int_equal(a.colour, ART_GREY);
	assert_int_equal(a.dpi_x, 100);
	free(p);

	p = make_png("pal.png", 9, 9, PNG_COLOR_TYPE_PALETTE, 2, 0);
	a = read_ok(p);
	assert_int_equal(a.colour, ART_INDEXED);
	assert_non_null(strstr(a.detail, "2 bit"));
	free(p);
}

/* --- TIFF ------------------------------------------------------------- */

static void
test_tiff_rgb_little_endian(void **state)
{
	(void)state;
	struct tiff_spec s = {"wl", 64, 48, PHOTOMETRIC_RGB, 3, 8, 300, 300, RESUNIT_INCH};
	char *p = make_tiff("rgb.tif", &s);
	struct artwork_info a = read_ok(p);
	assert_string_equal(a.format, "TIFF");
	assert_int_equal(a.px_w, 64);
	assert_int_equal(a.px_h, 48);
	assert_int_equal(a.dpi_x, 300);
	assert_int_equal(a.colour, ART_RGB);
	assert_int_equal(a.page_w_um, 5419); /* 64 / 300 in = 5418.67 µm */
	assert_int_equal(a.page_h_um, 4064);
	assert_null(strstr(a.detail, "big-endian"));
	free(p);
}

static void
test_tiff_cmyk_big_endian_cm(void **state)
{
	(void)state;
	struct tiff_spec s = {"wb", 50, 20, PHOTOMETRIC_SEPARATED, 4, 8, 118.11f, 59.055f,
	    RESUNIT_CENTIMETER};
	char *p = make_tiff("cmyk.tif", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.colour, ART_CMYK);
	assert_int_equal(a.px_w, 50);
	assert_int_equal(a.dpi_x, 300); /* 118.11 px/cm */
	assert_int_equal(a.dpi_y, 150);
	assert_int_equal(a.page_w_um, 4233); /* 50 / 118.11 cm = 4233.3 µm */
	assert_non_null(strstr(a.detail, "big-endian"));
	free(p);
}

static void
test_tiff_grey_16bit_no_res(void **state)
{
	(void)state;
	struct tiff_spec s = {"wl", 10, 10, PHOTOMETRIC_MINISBLACK, 1, 16, 0, 0, 0};
	char *p = make_tiff("grey.tif", &s);
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.colour, ART_GREY);
	assert_int_equal(a.dpi_x, 0);
	assert_int_equal(a.page_w_um, 0);
	assert_non_null(strstr(a.detail, "16 bit"));
	free(p);
}

/* --- PDF -------------------------------------------------------------- */

static void
test_pdf_a4_landscape(void **state)
{
	(void)state;
	char *p = make_pdf_a4("a4.pdf");
	struct artwork_info a = read_ok(p);
	assert_string_equal(a.format, "PDF");
	assert_int_equal(a.pages, 1);
	assert_in_range(a.page_w_um, 297000 - 1, 297000 + 1); /* 297000.25 */
	assert_in_range(a.page_h_um, 210002 - 1, 210002 + 1); /* 210001.78: 595.28 pt
	                                                       * is 210.0018 mm */
	assert_int_equal(a.px_w, 3508);
	assert_int_equal(a.px_h, 2480);
	assert_int_equal(a.colour, ART_CMYK);
	assert_int_equal(a.dpi_x, 0);
	assert_non_null(strstr(a.detail, "MediaBox"));
	assert_non_null(strstr(a.detail, "2 images"));
	/* A4 landscape at 300 dpi is 3508 × 2480: 300 across, 299.96 down. */
	assert_int_equal(artwork_effective_dpi(&a, 297, 210), 299);

	/* The same file with object streams and an xref stream. */
	char *p2 = qpdf_rewrite(p, "a4-objstm.pdf", 0);
	struct artwork_info b = read_ok(p2);
	assert_int_equal(b.page_w_um, a.page_w_um);
	assert_int_equal(b.page_h_um, a.page_h_um);
	assert_int_equal(b.px_w, 3508);
	assert_int_equal(b.colour, ART_CMYK);
	free(p2);

	/* Encrypted with a user password. */
	p2 = qpdf_rewrite(p, "a4-locked.pdf", 1);
	read_fails(p2, MAX, "password-protected");
	free(p2);
	free(p);
}

static void
test_pdf_inherited_trimbox_forms(void **state)
{
	(void)state;
	/* Three pages; MediaBox and Resources inherited from the page tree,
	 * a TrimBox, /Rotate 90, the big image inside a form XObject with an
	 * ICC profile of 4 components. */
	struct pdfb b;
	pdf_begin(&b);
	pdf_obj(&b, "<< /Type /Catalog /Pages 2 0 R >>");
	pdf_obj(&b, "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 "
	            "/MediaBox [0 0 1000 2000] /Rotate 90 /Resources << /XObject << /Fm1 6 0 R >> >> >>");
	pdf_obj(&b, "<< /Type /Page /Parent 2 0 R /TrimBox [8.5 8.5 603.78 850.39] >>");
	pdf_obj(&b, "<< /Type /Page /Parent 2 0 R >>");
	pdf_obj(&b, "<< /Type /Page /Parent 2 0 R >>");
	pdf_obj(&b, "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] "
	            "/Resources << /XObject << /Im1 7 0 R /Fm2 9 0 R >> >> /Length 0 >>\nstream\n\nendstream");
	pdf_image(&b, 4000, 3000, "[/ICCBased 8 0 R]", 16);
	pdf_obj(&b, "<< /N 4 /Length 0 >>\nstream\n\nendstream");
	/* A form that names itself: the walk must not loop. */
	pdf_obj(&b, "<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] "
	            "/Resources << /XObject << /Me 9 0 R /Up 6 0 R >> >> /Length 0 >>\nstream\n\nendstream");
	char *p = pdf_finish(&b, "tree.pdf");
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.pages, 3);
	/* TrimBox 595.28 × 841.89 pt, turned by /Rotate 90. */
	assert_in_range(a.page_w_um, 297000 - 1, 297000 + 1); /* 297000.25 */
	assert_in_range(a.page_h_um, 210002 - 1, 210002 + 1); /* 210001.78: 595.28 pt
	                                                       * is 210.0018 mm */
	assert_int_equal(a.px_w, 4000);
	assert_int_equal(a.px_h, 3000);
	assert_int_equal(a.colour, ART_CMYK);
	assert_non_null(strstr(a.detail, "TrimBox"));
	assert_non_null(strstr(a.detail, "rotated 90"));
	assert_non_null(strstr(a.detail, "ICC profile"));
	assert_non_null(strstr(a.detail, "16 bit"));
	free(p);
}

static void
test_pdf_colour_spaces(void **state)
{
	(void)state;
	static const struct {
		const char *cs;
		enum artwork_colour want;
	} cases[] = {
		{"/DeviceRGB", ART_RGB},
		{"/DeviceGray", ART_GREY},
		{"[/ICCBased 6 0 R]", ART_RGB},                  /* N 3 */
		{"[/Indexed /DeviceRGB 1 <000000FFFFFF>]", ART_INDEXED},
		{"/CS0", ART_CMYK},                              /* named in resources */
		{"[/Separation /Gold /DeviceCMYK 6 0 R]", ART_UNKNOWN},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct pdfb b;
		pdf_begin(&b);
		pdf_obj(&b, "<< /Type /Catalog /Pages 2 0 R >>");
		pdf_obj(&b, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
		pdf_obj(&b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] "
		            "/Resources << /XObject << /I 5 0 R >> /ColorSpace << /CS0 /DeviceCMYK >> >> >>");
		pdf_obj(&b, "<< >>");
		pdf_image(&b, 10, 20, cases[i].cs, 8);
		pdf_obj(&b, "<< /N 3 /Length 0 >>\nstream\n\nendstream");
		char *name = xasprintf("cs%zu.pdf", i);
		char *p = pdf_finish(&b, name);
		struct artwork_info a = read_ok(p);
		if (a.colour != cases[i].want)
			fail_msg("%s: colour %s, want %s", cases[i].cs, artwork_colour_name(a.colour),
			    artwork_colour_name(cases[i].want));
		assert_int_equal(a.page_w_um, 25400); /* 72 pt = 1 in */
		free(p);
		free(name);
	}
}

static void
test_pdf_no_image_and_repair(void **state)
{
	(void)state;
	struct pdfb b;
	pdf_begin(&b);
	pdf_obj(&b, "<< /Type /Catalog /Pages 2 0 R >>");
	pdf_obj(&b, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	pdf_obj(&b, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 2834.646 1417.323] /UserUnit 2 >>");
	/* Break every xref offset: qpdf must rebuild the table. */
	for (int i = 1; i <= b.n; i++)
		b.off[i] += 3;
	char *p = pdf_finish(&b, "vector.pdf");
	struct artwork_info a = read_ok(p);
	assert_int_equal(a.px_w, 0);
	assert_int_equal(a.px_h, 0);
	assert_int_equal(a.colour, ART_UNKNOWN);
	/* 2834.646 pt × UserUnit 2 = 1999999.7 µm, 1417.323 pt × 2 = 1000000.1 µm */
	assert_in_range(a.page_w_um, 2000000 - 1, 2000000 + 1);
	assert_in_range(a.page_h_um, 1000000 - 1, 1000000 + 1);
	assert_non_null(strstr(a.detail, "repaired"));
	assert_int_equal(artwork_effective_dpi(&a, 2000, 1000), 0);
	free(p);

	/* A4 landscape to four decimals lands on whole millimetres. */
	pdf_begin(&b);
	pdf_obj(&b, "<< /Type /Catalog /Pages 2 0 R >>");
	pdf_obj(&b, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	pdf_obj(&b, "<< /Type /Page /Parent 2 0 R /MediaBox [-0.0 +0. 841.8898 595.2756] >>");
	p = pdf_finish(&b, "a4exact.pdf");
	a = read_ok(p);
	assert_in_range(a.page_w_um, 297000 - 1, 297000 + 1);
	assert_in_range(a.page_h_um, 210000 - 1, 210000 + 1);
	free(p);

	pdf_begin(&b);
	pdf_obj(&b, "<< /Type /Catalog /Pages 2 0 R >>");
	pdf_obj(&b, "<< /Type /Pages /Kids [] /Count 0 >>");
	p = pdf_finish(&b, "nopages.pdf");
	read_fails(p, MAX, "no pages");
	free(p);
}

/* --- damaged and foreign files ---------------------------------------- */

static void
truncated(const char *src, const char *name, size_t keep, const char *want)
{
	size_t len;
	unsigned char *d = slurp(src, &len);
	assert_true(keep < len);
	char *p = write_bytes(name, d, keep);
	read_fails(p, MAX, want);
	free(p);
	free(d);
}

static void
test_truncated_files(void **state)
{
	(void)state;
	struct jpeg_spec js = {60, 40, 3, 1, 1, 300, 300, 0, NULL, 0};
	char *jpg = make_jpeg("t.jpg", &js);
	char *png = make_png("t.png", 40, 30, PNG_COLOR_TYPE_RGB, 8, 11811);
	struct tiff_spec ts = {"wl", 64, 48, PHOTOMETRIC_RGB, 3, 8, 300, 300, RESUNIT_INCH};
	char *tif = make_tiff("t.tif", &ts);
	struct tiff_spec tb = {"wb", 64, 48, PHOTOMETRIC_RGB, 3, 8, 300, 300, RESUNIT_INCH};
	char *tifb = make_tiff("tb.tif", &tb);
	char *pdf = make_pdf_a4("t.pdf");
	size_t len;
	free(slurp(jpg, &len));
	truncated(jpg, "t1.jpg", 30, "JPEG: ");           /* inside the headers */
	truncated(jpg, "t2.jpg", len - 2, "truncated");   /* EOI missing */
	truncated(jpg, "t3.jpg", len / 2 + 200, "truncated");
	free(slurp(png, &len));
	truncated(png, "t1.png", 20, "PNG: ");            /* inside IHDR */
	truncated(png, "t2.png", len - 12, "truncated");  /* IEND missing */
	truncated(png, "t3.png", 60, "PNG: ");
	truncated(tif, "t1.tif", 8, "TIFF: ");            /* header only */
	truncated(tif, "t2.tif", 200, "TIFF: ");          /* IFD at the end, lost */
	free(slurp(tifb, &len));
	truncated(tifb, "t3.tif", len - 1, "TIFF: ");
	free(slurp(pdf, &len));
	truncated(pdf, "t1.pdf", len / 2, "truncated");
	truncated(pdf, "t2.pdf", 10, "truncated");
	free(jpg);
	free(png);
	free(tif);
	free(tifb);
	free(pdf);
}

static void
test_tiff_strips_past_end(void **state)
{
	(void)state;
	/* A directory that survives but whose image data is cut: move the IFD
	 * to the front by writing it by hand.  8×2 grey, one strip of 16
	 * bytes claimed at offset 100 in a 70-byte file. */
	static const unsigned char t[] = {
		'I', 'I', 42, 0, 8, 0, 0, 0,
		5, 0,
		0x00, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0,    /* width 8 */
		0x01, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0,    /* length 2 */
		0x06, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,    /* min-is-black */
		0x11, 0x01, 4, 0, 1, 0, 0, 0, 100, 0, 0, 0,  /* strip offset */
		0x17, 0x01, 4, 0, 1, 0, 0, 0, 16, 0, 0, 0,   /* strip bytes */
		0, 0, 0, 0,
	};
	char *p = write_bytes("cut.tif", t, sizeof(t));
	read_fails(p, MAX, "truncated");
	free(p);
}

static void
test_empty_text_and_limits(void **state)
{
	(void)state;
	char *p = write_bytes("empty.pdf", "", 0);
	read_fails(p, MAX, "empty file");
	free(p);

	const char *text = "Dear sir, please find our artwork attached.\n";
	p = write_bytes("letter.jpg", text, strlen(text));
	read_fails(p, MAX, "not a supported image or PDF");
	free(p);

	/* The name does not matter: a PNG called .jpg is a PNG. */
	char *png = make_png("real.png", 5, 5, PNG_COLOR_TYPE_GRAY, 8, 0);
	size_t len;
	unsigned char *d = slurp(png, &len);
	p = write_bytes("fake.jpg", d, len);
	struct artwork_info a = read_ok(p);
	assert_string_equal(a.format, "PNG");
	free(p);

	/* Larger than max_bytes: refused before reading. */
	read_fails(png, len - 1, "file too large");
	struct artwork_info b;
	char err[128];
	assert_int_equal(artwork_read(png, len, &b, err, sizeof(err)), 0);
	free(png);
	free(d);

	read_fails(tmpdir, MAX, "not a regular file");
	p = tpath("missing.png");
	read_fails(p, MAX, "cannot open");
	/* A NULL error buffer is allowed. */
	assert_int_equal(artwork_read(p, MAX, &b, NULL, 0), -1);
	free(p);
}

/* --- effective resolution --------------------------------------------- */

static void
test_effective_dpi(void **state)
{
	(void)state;
	struct artwork_info a = {0};
	a.px_w = 3000;
	a.px_h = 2000;
	assert_int_equal(artwork_effective_dpi(&a, 3000, 2000), 25); /* 300 × 200 cm */
	assert_int_equal(artwork_effective_dpi(&a, 254, 254), 200);  /* 10 in square: 2000 px */
	assert_int_equal(artwork_effective_dpi(&a, 1000, 1000), 50); /* 50.8 down to 50 */
	/* Rotated placement: a landscape image on a portrait print is turned,
	 * 3000 px over 3000 mm and 2000 px over 2000 mm (not 16 dpi). */
	assert_int_equal(artwork_effective_dpi(&a, 2000, 3000), 25);
	a.px_w = 2000;
	a.px_h = 3000;
	assert_int_equal(artwork_effective_dpi(&a, 3000, 2000), 25);
	/* Roll-up banner 85 × 200 cm from a 1000 × 2362 px file. */
	a.px_w = 1000;
	a.px_h = 2362;
	assert_int_equal(artwork_effective_dpi(&a, 850, 2000), 29); /* 29.88 / 29.99 */
	/* Unknown. */
	assert_int_equal(artwork_effective_dpi(&a, 0, 2000), 0);
	assert_int_equal(artwork_effective_dpi(&a, -5, 2000), 0);
	assert_int_equal(artwork_effective_dpi(NULL, 10, 10), 0);
	a.px_w = 0;
	assert_int_equal(artwork_effective_dpi(&a, 850, 2000), 0);
	/* Huge values do not overflow. */
	a.px_w = a.px_h = INT64_C(1) << 31;
	assert_int_equal(artwork_effective_dpi(&a, INT64_MAX / 10, INT64_MAX / 10), 0);
	assert_true(artwork_effective_dpi(&a, 1, 1) > 0);
}

static void
test_colour_names(void **state)
{
	(void)state;
	assert_string_equal(artwork_colour_name(ART_RGB), "RGB");
	assert_string_equal(artwork_colour_name(ART_CMYK), "CMYK");
	assert_string_equal(artwork_colour_name(ART_GREY), "grey");
	assert_string_equal(artwork_colour_name(ART_INDEXED), "indexed");
	assert_string_equal(artwork_colour_name(ART_UNKNOWN), "unknown");
	assert_string_equal(artwork_colour_name((enum artwork_colour)99), "unknown");
}

/* --- mutation fuzz ----------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static size_t
mutate(unsigned char *d, size_t len, size_t cap)
{
	static const unsigned char magic[] = {0x00, 0xff, 0x7f, 0x80, 0xfe, '0', '9', '/', '<', '>', '('};
	int ops = 1 + (int)rnd(8);
	for (int i = 0; i < ops && len > 0; i++) {
		size_t at = rnd((uint32_t)len);
		switch (rnd(7)) {
		case 0: /* flip bits */
			d[at] ^= (unsigned char)(1u << rnd(8));
			break;
		case 1: /* interesting byte */
			d[at] = magic[rnd(sizeof(magic))];
			break;
		case 2: /* truncate */
			len = at;
			break;
		case 3: { /* duplicate a block */
			size_t n = rnd(64) + 1;
			if (at + n > len || len + n > cap)
				break;
			memmove(d + at + n, d + at, len - at);
			len += n;
			break;
		}
		case 4: { /* delete a block */
			size_t n = rnd(64) + 1;
			if (at + n > len)
				break;
			memmove(d + at, d + at + n, len - at - n);
			len -= n;
			break;
		}
		case 5: /* big number into a 32-bit field */
			if (at + 4 <= len)
				memset(d + at, rnd(2) ? 0xff : 0x7f, 4);
			break;
		default: /* digits in text formats */
			d[at] = (unsigned char)('0' + rnd(10));
			break;
		}
	}
	return len;
}

static void
test_fuzz_mutations(void **state)
{
	(void)state;
	struct jpeg_spec j1 = {60, 40, 3, 1, 1, 300, 300, 0, NULL, 0};
	struct jpeg_spec j2 = {20, 30, 4, 0, 0, 0, 0, 1, NULL, 0};
	struct tiff_spec t1 = {"wl", 16, 8, PHOTOMETRIC_RGB, 3, 8, 300, 300, RESUNIT_INCH};
	struct tiff_spec t2 = {"wb", 9, 7, PHOTOMETRIC_SEPARATED, 4, 8, 118.11f, 118.11f,
	    RESUNIT_CENTIMETER};
	char *seeds[8];
	int ns = 0;
	seeds[ns++] = make_jpeg("f1.jpg", &j1);
	seeds[ns++] = make_jpeg("f2.jpg", &j2);
	seeds[ns++] = make_png("f3.png", 12, 9, PNG_COLOR_TYPE_RGB, 8, 11811);
	seeds[ns++] = make_png("f4.png", 5, 5, PNG_COLOR_TYPE_PALETTE, 4, 0);
	seeds[ns++] = make_tiff("f5.tif", &t1);
	seeds[ns++] = make_tiff("f6.tif", &t2);
	seeds[ns++] = make_pdf_a4("f7.pdf");
	seeds[ns++] = qpdf_rewrite(seeds[6], "f8.pdf", 0);

	const char *seed_env = getenv("INKFLOW_FUZZ_SEED");
	if (seed_env && strtoull(seed_env, NULL, 10) != 0)
		rng = strtoull(seed_env, NULL, 10);
	const char *secs = getenv("INKFLOW_FUZZ_SECONDS");
	long seconds = secs ? strtol(secs, NULL, 10) : 0;
	long rounds = seconds > 0 ? LONG_MAX : 1600;
	time_t end = time(NULL) + seconds;
	alarm(seconds > 0 ? (unsigned)seconds + 60 : 120); /* a hang kills the test */

	/* Capture stderr: no library may print. */
	char *errpath = tpath("stderr.txt");
	fflush(stderr);
	int saved = dup(2);
	int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);

	char *path = tpath("fuzz.bin");
	long n = 0, ok = 0;
	for (; n < rounds; n++) {
		if (seconds > 0 && (n & 63) == 0 && time(NULL) >= end)
			break;
		size_t len;
		unsigned char *seed = slurp(seeds[n % ns], &len);
		size_t cap = len + 4096;
		unsigned char *d = xmalloc(cap);
		memcpy(d, seed, len);
		len = mutate(d, len, cap);
		FILE *f = fopen(path, "wb");
		if (len)
			fwrite(d, 1, len, f);
		fclose(f);
		struct artwork_info a;
		char err[256] = "";
		int rc = artwork_read(path, MAX, &a, err, sizeof(err));
		if (rc == 0) {
			ok++;
			if (a.px_w < 0 || a.px_h < 0 || a.page_w_um < 0 || a.page_h_um < 0 ||
			    memchr(a.detail, '\0', sizeof(a.detail)) == NULL)
				rc = -2;
			(void)artwork_effective_dpi(&a, 1000, 500);
		} else if (rc != -1 || err[0] == '\0') {
			rc = -2;
		}
		free(d);
		free(seed);
		if (rc == -2) {
			dup2(saved, 2);
			fail_msg("round %ld: bad result (rc %d, err \"%s\")", n, rc, err);
		}
	}
	alarm(0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	struct stat st;
	assert_int_equal(stat(errpath, &st), 0);
	if (st.st_size != 0) {
		size_t len;
		unsigned char *e = slurp(errpath, &len);
		fail_msg("libraries wrote to stderr: %.300s", (char *)e);
	}
	print_message("fuzz: %ld rounds, %ld read as valid\n", n, ok);
	for (int i = 0; i < ns; i++)
		free(seeds[i]);
	free(path);
	free(errpath);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpeg_rgb_dpi),
		cmocka_unit_test(test_jpeg_dots_per_cm),
		cmocka_unit_test(test_jpeg_no_density),
		cmocka_unit_test(test_jpeg_cmyk),
		cmocka_unit_test(test_jpeg_grey_progressive),
		cmocka_unit_test(test_jpeg_exif_resolution),
		cmocka_unit_test(test_png_rgb_phys),
		cmocka_unit_test(test_png_16bit_and_types),
		cmocka_unit_test(test_tiff_rgb_little_endian),
		cmocka_unit_test(test_tiff_cmyk_big_endian_cm),
		cmocka_unit_test(test_tiff_grey_16bit_no_res),
		cmocka_unit_test(test_pdf_a4_landscape),
		cmocka_unit_test(test_pdf_inherited_trimbox_forms),
		cmocka_unit_test(test_pdf_colour_spaces),
		cmocka_unit_test(test_pdf_no_image_and_repair),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_tiff_strips_past_end),
		cmocka_unit_test(test_empty_text_and_limits),
		cmocka_unit_test(test_effective_dpi),
		cmocka_unit_test(test_colour_names),
		cmocka_unit_test(test_fuzz_mutations),
	};
	return cmocka_run_group_tests_name("artwork", tests, setup_all, teardown_all);
}
