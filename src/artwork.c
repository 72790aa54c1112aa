/*
 * artwork: technical parameters of a client's print file (PDF, TIFF, JPEG,
 * PNG) and the resolution it gives at the ordered size.  The only module
 * that includes jpeglib.h, png.h, tiffio.h and qpdf-c.h.
 *
 * DESIGN
 *
 * The file is read once into memory (a regular file of at most max_bytes;
 * anything bigger is refused before a byte is read) and every library works
 * on that buffer, so none of them opens, maps or seeks the file itself.
 * The type comes from the first bytes; the name is never looked at.
 *
 * Only headers are read, never pixels: libjpeg up to the first scan header
 * (jpeg_read_header), libpng up to the first IDAT (png_read_info), libtiff
 * the first directory, qpdf the objects reachable from the first page's
 * resources (stream data is never decoded).  Every library's complaints are
 * caught: libjpeg's error_exit and libpng's error callback longjmp back
 * here, libtiff gets per-handle handlers (TIFFOpenOptions, no global
 * state), qpdf is told to keep its warnings and errors to itself.  Library
 * messages reach err with control characters replaced.
 *
 * A file cut short is an error, not a smaller picture: headers only reach
 * the start of a file, so each reader also checks that the file has its end
 * (JPEG: an EOI marker after the first scan header; PNG: the chunk chain
 * reaches IEND; TIFF: every strip or tile lies inside the file; PDF: %%EOF
 * in the last 1024 bytes).  Trailing bytes after the end are tolerated.
 *
 * Resolutions are kept as "thousandths of a dot per unit length" (inch,
 * centimetre, metre) exactly as the file stores them, and converted once:
 * dpi rounded half up, physical size px × unit / dots rounded half up.  A
 * resolution that converts outside 1..RES_DPI_MAX dpi counts as none.
 * PDF sizes are read as decimal strings into thousandths of a point, times
 * /UserUnit, then µm = mpt × 25400 / 72000 — no floating point anywhere
 * except libtiff's own float for XResolution.
 *
 * PDF: the page box is the first page's TrimBox when it is a valid
 * rectangle, else its (inherited) MediaBox, turned by /Rotate 90 or 270 so
 * it is the size as displayed.  The image is the largest (by pixel count)
 * image XObject in the first page's resources, looking into form XObjects
 * (depth and count bounded); inline images in the content stream and the
 * placed size of an image are not looked at.
 *
 * Known limit: qpdf 11.3 inflates xref and object streams without a size
 * limit, so a PDF made as a deflate bomb can make this process allocate up
 * to ~1000 × max_bytes.  Keep max_bytes near the attachment limit.
 */
#include "artwork.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>
#include <qpdf/qpdf-c.h>
#include <tiffio.h>

#include "lazyharu.h"
#include "lazylib.h"
#include "sonames.h"
#include "util.h"

/* The readers' libraries are opened when a file of their format first
 * comes (lazylib.h): these lists are every function artwork calls, and
 * the macros after each send the calls through its table. */
#define ART_JPEG_FUNCS(X) \
	X(jpeg_CreateDecompress) X(jpeg_destroy_decompress) X(jpeg_mem_src) \
	X(jpeg_read_header) X(jpeg_save_markers) X(jpeg_std_error)
LAZYLIB_TABLE(art_jpeg, ART_JPEG_FUNCS);
static struct art_jpeg art_jpeg;
static struct lazylib jpeg_lib = {.soname = SONAME_JPEG};
#define jpeg_CreateDecompress (art_jpeg.jpeg_CreateDecompress)
#define jpeg_destroy_decompress (art_jpeg.jpeg_destroy_decompress)
#define jpeg_mem_src (art_jpeg.jpeg_mem_src)
#define jpeg_read_header (art_jpeg.jpeg_read_header)
#define jpeg_save_markers (art_jpeg.jpeg_save_markers)
#define jpeg_std_error (art_jpeg.jpeg_std_error)

#define ART_TIFF_FUNCS(X) \
	X(TIFFClientOpenExt) X(TIFFClose) X(TIFFGetField) X(TIFFGetFieldDefaulted) \
	X(TIFFGetStrileByteCountWithErr) X(TIFFGetStrileOffsetWithErr) \
	X(TIFFIsBigEndian) X(TIFFNumberOfDirectories) X(TIFFNumberOfStrips) \
	X(TIFFOpenOptionsAlloc) X(TIFFOpenOptionsFree) \
	X(TIFFOpenOptionsSetErrorHandlerExtR) X(TIFFOpenOptionsSetMaxSingleMemAlloc) \
	X(TIFFOpenOptionsSetWarningHandlerExtR)
LAZYLIB_TABLE(art_tiff, ART_TIFF_FUNCS);
static struct art_tiff art_tiff;
static struct lazylib tiff_lib = {.soname = SONAME_TIFF};
#define TIFFClientOpenExt (art_tiff.TIFFClientOpenExt)
#define TIFFClose (art_tiff.TIFFClose)
#define TIFFGetField (art_tiff.TIFFGetField)
#define TIFFGetFieldDefaulted (art_tiff.TIFFGetFieldDefaulted)
#define TIFFGetStrileByteCountWithErr (art_tiff.TIFFGetStrileByteCountWithErr)
#define TIFFGetStrileOffsetWithErr (art_tiff.TIFFGetStrileOffsetWithErr)
#define TIFFIsBigEndian (art_tiff.TIFFIsBigEndian)
#define TIFFNumberOfDirectories (art_tiff.TIFFNumberOfDirectories)
#define TIFFNumberOfStrips (art_tiff.TIFFNumberOfStrips)
#define TIFFOpenOptionsAlloc (art_tiff.TIFFOpenOptionsAlloc)
#define TIFFOpenOptionsFree (art_tiff.TIFFOpenOptionsFree)
#define TIFFOpenOptionsSetErrorHandlerExtR (art_tiff.TIFFOpenOptionsSetErrorHandlerExtR)
#define TIFFOpenOptionsSetMaxSingleMemAlloc (art_tiff.TIFFOpenOptionsSetMaxSingleMemAlloc)
#define TIFFOpenOptionsSetWarningHandlerExtR (art_tiff.TIFFOpenOptionsSetWarningHandlerExtR)

#define ART_QPDF_FUNCS(X) \
	X(qpdf_cleanup) X(qpdf_get_error) X(qpdf_get_error_code) \
	X(qpdf_get_error_message_detail) X(qpdf_get_num_pages) X(qpdf_get_page_n) \
	X(qpdf_has_error) X(qpdf_init) X(qpdf_more_warnings) \
	X(qpdf_oh_begin_dict_key_iter) X(qpdf_oh_dict_more_keys) \
	X(qpdf_oh_dict_next_key) X(qpdf_oh_get_array_item) \
	X(qpdf_oh_get_array_n_items) X(qpdf_oh_get_bool_value) X(qpdf_oh_get_dict) \
	X(qpdf_oh_get_int_value) X(qpdf_oh_get_key) X(qpdf_oh_get_name) \
	X(qpdf_oh_get_object_id) X(qpdf_oh_get_real_value) X(qpdf_oh_is_array) \
	X(qpdf_oh_is_bool) X(qpdf_oh_is_dictionary) X(qpdf_oh_is_integer) \
	X(qpdf_oh_is_name) X(qpdf_oh_is_name_and_equals) X(qpdf_oh_is_null) \
	X(qpdf_oh_is_or_has_name) X(qpdf_oh_is_real) X(qpdf_oh_is_stream) \
	X(qpdf_oh_new_null) X(qpdf_read_memory) X(qpdf_set_suppress_warnings) \
	X(qpdf_silence_errors)
LAZYLIB_TABLE(art_qpdf, ART_QPDF_FUNCS);
static struct art_qpdf art_qpdf;
static struct lazylib qpdf_lib = {.soname = SONAME_QPDF};
#define qpdf_cleanup (art_qpdf.qpdf_cleanup)
#define qpdf_get_error (art_qpdf.qpdf_get_error)
#define qpdf_get_error_code (art_qpdf.qpdf_get_error_code)
#define qpdf_get_error_message_detail (art_qpdf.qpdf_get_error_message_detail)
#define qpdf_get_num_pages (art_qpdf.qpdf_get_num_pages)
#define qpdf_get_page_n (art_qpdf.qpdf_get_page_n)
#define qpdf_has_error (art_qpdf.qpdf_has_error)
#define qpdf_init (art_qpdf.qpdf_init)
#define qpdf_more_warnings (art_qpdf.qpdf_more_warnings)
#define qpdf_oh_begin_dict_key_iter (art_qpdf.qpdf_oh_begin_dict_key_iter)
#define qpdf_oh_dict_more_keys (art_qpdf.qpdf_oh_dict_more_keys)
#define qpdf_oh_dict_next_key (art_qpdf.qpdf_oh_dict_next_key)
#define qpdf_oh_get_array_item (art_qpdf.qpdf_oh_get_array_item)
#define qpdf_oh_get_array_n_items (art_qpdf.qpdf_oh_get_array_n_items)
#define qpdf_oh_get_bool_value (art_qpdf.qpdf_oh_get_bool_value)
#define qpdf_oh_get_dict (art_qpdf.qpdf_oh_get_dict)
#define qpdf_oh_get_int_value (art_qpdf.qpdf_oh_get_int_value)
#define qpdf_oh_get_key (art_qpdf.qpdf_oh_get_key)
#define qpdf_oh_get_name (art_qpdf.qpdf_oh_get_name)
#define qpdf_oh_get_object_id (art_qpdf.qpdf_oh_get_object_id)
#define qpdf_oh_get_real_value (art_qpdf.qpdf_oh_get_real_value)
#define qpdf_oh_is_array (art_qpdf.qpdf_oh_is_array)
#define qpdf_oh_is_bool (art_qpdf.qpdf_oh_is_bool)
#define qpdf_oh_is_dictionary (art_qpdf.qpdf_oh_is_dictionary)
#define qpdf_oh_is_integer (art_qpdf.qpdf_oh_is_integer)
#define qpdf_oh_is_name (art_qpdf.qpdf_oh_is_name)
#define qpdf_oh_is_name_and_equals (art_qpdf.qpdf_oh_is_name_and_equals)
#define qpdf_oh_is_null (art_qpdf.qpdf_oh_is_null)
#define qpdf_oh_is_or_has_name (art_qpdf.qpdf_oh_is_or_has_name)
#define qpdf_oh_is_real (art_qpdf.qpdf_oh_is_real)
#define qpdf_oh_is_stream (art_qpdf.qpdf_oh_is_stream)
#define qpdf_oh_new_null (art_qpdf.qpdf_oh_new_null)
#define qpdf_read_memory (art_qpdf.qpdf_read_memory)
#define qpdf_set_suppress_warnings (art_qpdf.qpdf_set_suppress_warnings)
#define qpdf_silence_errors (art_qpdf.qpdf_silence_errors)

#define RES_DPI_MAX 1000000         /* above this a stored resolution is junk */
#define UM_PER_INCH 25400
#define UM_PER_CM 10000
#define UM_PER_M 1000000
#define PDF_HEADER_WINDOW 1024      /* %PDF- may follow junk (Acrobat: 1024) */
#define PDF_EOF_WINDOW 1024         /* %%EOF must be this close to the end */
#define PDF_MAX_PARENTS 64          /* /Parent hops for inherited attributes */
#define PDF_MAX_FORM_DEPTH 8        /* form XObjects inside form XObjects */
#define PDF_MAX_XOBJECTS 2048       /* XObjects examined per file */
#define PDF_MAX_CS_DEPTH 4          /* named colour space -> array -> base */
#define PDF_COORD_MAX 100000000LL   /* |coordinate| in points (35 km) */
#define PDF_USERUNIT_MAX 100000LL   /* /UserUnit (Acrobat allows 75000) */
#define TIFF_MAX_ALLOC (64 * 1024 * 1024)
#define PNG_CHUNK_MAX (8 * 1024 * 1024) /* iCCP, zTXt etc. before IDAT */

/* A stored resolution: milli dots per unit_um micrometres; milli 0 = none. */
struct res {
	uint64_t milli;
	uint64_t unit_um;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* Library messages may quote bytes of the file. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* a / b rounded half up; a, b > 0 and a + b/2 must not overflow. */
static uint64_t
div_round(uint64_t a, uint64_t b)
{
	return (a + b / 2) / b;
}

/* dpi of r rounded half up, 0 when none or out of range. */
static int
res_dpi(struct res r)
{
	if (r.milli == 0 || r.unit_um == 0 || r.milli > UINT64_MAX / UM_PER_INCH)
		return 0;
	uint64_t dpi = div_round(r.milli * UM_PER_INCH, r.unit_um * 1000);
	return dpi >= 1 && dpi <= RES_DPI_MAX ? (int)dpi : 0;
}

/* px printed at resolution r, in µm rounded half up; 0 on overflow. */
static int64_t
res_length_um(int64_t px, struct res r)
{
	uint64_t num;
	if (px <= 0 || r.milli == 0 ||
	    __builtin_mul_overflow((uint64_t)px, r.unit_um, &num) ||
	    __builtin_mul_overflow(num, (uint64_t)1000, &num) || num > UINT64_MAX - r.milli)
		return 0;
	uint64_t um = div_round(num, r.milli);
	return um <= INT64_MAX ? (int64_t)um : 0;
}

/* Resolution and physical size of a raster image; both axes or neither. */
static void
set_res(struct artwork_info *a, struct res x, struct res y)
{
	int dx = res_dpi(x), dy = res_dpi(y);
	if (dx == 0 || dy == 0)
		return;
	int64_t w = res_length_um(a->px_w, x), h = res_length_um(a->px_h, y);
	if (w == 0 || h == 0)
		return;
	a->dpi_x = dx;
	a->dpi_y = dy;
	a->page_w_um = w;
	a->page_h_um = h;
}

/* Append "; word" to a->detail; a word that does not fit whole is left
 * out (detail is informational). */
static void
detail_add(struct artwork_info *a, const char *fmt, ...)
{
	char word[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(word, sizeof(word), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(word))
		return;
	size_t len = strlen(a->detail);
	size_t need = len + (len ? 2 : 0) + (size_t)n + 1;
	if (need > sizeof(a->detail))
		return;
	snprintf(a->detail + len, sizeof(a->detail) - len, "%s%s", len ? "; " : "", word);
}

/* --- JPEG ------------------------------------------------------------- */

struct jpeg_ctx {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	int hit_eof;
	char msg[JMSG_LENGTH_MAX];
};

static void
jpeg_on_error(j_common_ptr c)
{
	struct jpeg_ctx *x = (struct jpeg_ctx *)c->err;
	(*c->err->format_message)(c, x->msg);
	longjmp(x->jb, 1);
}

static void
jpeg_on_message(j_common_ptr c, int level)
{
	struct jpeg_ctx *x = (struct jpeg_ctx *)c->err;
	/* Warnings are dropped; running out of data is remembered, because
	 * libjpeg then invents an end marker and fails for a worse reason. */
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
		x->hit_eof = 1;
}

static void
jpeg_on_output(j_common_ptr c)
{
	(void)c;
}

static uint32_t
rd16(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
rd32(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
	          : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* XResolution, YResolution and ResolutionUnit from IFD0 of an EXIF APP1
 * payload.  0, or -1 when absent or malformed.  Every offset is checked
 * against the payload (at most 65533 bytes). */
static int
exif_res(const unsigned char *d, size_t n, struct res *x, struct res *y)
{
	if (n < 6 + 8 || memcmp(d, "Exif\0\0", 6) != 0)
		return -1;
	const unsigned char *t = d + 6;
	size_t tn = n - 6;
	int be;
	if (memcmp(t, "MM\0*", 4) == 0)
		be = 1;
	else if (memcmp(t, "II*\0", 4) == 0)
		be = 0;
	else
		return -1;
	uint32_t ifd = rd32(t + 4, be);
	if (ifd < 8 || ifd > tn - 2)
		return -1;
	size_t cnt = rd16(t + ifd, be);
	if (cnt * 12 > tn - ifd - 2)
		return -1;
	uint32_t num[2] = {0, 0}, den[2] = {0, 0}, unit = 2; /* TIFF default: inch */
	for (size_t i = 0; i < cnt; i++) {
		const unsigned char *e = t + ifd + 2 + i * 12;
		uint32_t tag = rd16(e, be), type = rd16(e + 2, be), count = rd32(e + 4, be);
		if ((tag == 0x011a || tag == 0x011b) && type == 5 && count == 1) {
			uint32_t off = rd32(e + 8, be);
			if (off > tn - 8)
				continue;
			num[tag - 0x011a] = rd32(t + off, be);
			den[tag - 0x011a] = rd32(t + off + 4, be);
		} else if (tag == 0x0128 && type == 3 && count == 1) {
			unit = rd16(e + 8, be);
		}
	}
	uint64_t unit_um = unit == 2 ? UM_PER_INCH : unit == 3 ? UM_PER_CM : 0;
	if (unit_um == 0 || !num[0] || !den[0] || !num[1] || !den[1])
		return -1;
	x->milli = div_round((uint64_t)num[0] * 1000, den[0]);
	y->milli = div_round((uint64_t)num[1] * 1000, den[1]);
	x->unit_um = y->unit_um = unit_um;
	return 0;
}

static int
has_end_marker(const unsigned char *buf, size_t len, size_t from)
{
	for (size_t i = len; i >= from + 2; i--)
		if (buf[i - 2] == 0xff && buf[i - 1] == 0xd9)
			return 1;
	return 0;
}

static int
read_jpeg(const unsigned char *buf, size_t len, struct artwork_info *a, char *err,
    size_t errlen)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_ctx x;
	memset(&ci, 0, sizeof(ci));
	memset(&x, 0, sizeof(x));
	ci.err = jpeg_std_error(&x.pub);
	x.pub.error_exit = jpeg_on_error;
	x.pub.emit_message = jpeg_on_message;
	x.pub.output_message = jpeg_on_output;
	if (setjmp(x.jb)) {
		jpeg_destroy_decompress(&ci);
		if (x.hit_eof)
			seterr(err, errlen, "JPEG: file is truncated (%s)", x.msg);
		else
			seterr(err, errlen, "JPEG: %s", x.msg);
		return -1;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, buf, (unsigned long)len);
	jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xffff); /* EXIF */
	jpeg_save_markers(&ci, JPEG_APP0 + 2, 0xffff); /* ICC_PROFILE */
	jpeg_read_header(&ci, TRUE);
	if (x.hit_eof) {
		jpeg_destroy_decompress(&ci);
		seterr(err, errlen, "JPEG: file is truncated");
		return -1;
	}
	size_t pos = (size_t)(ci.src->next_input_byte - buf);
	if (pos > len || !has_end_marker(buf, len, pos)) {
		jpeg_destroy_decompress(&ci);
		seterr(err, errlen, "JPEG: file is truncated (no end-of-image marker)");
		return -1;
	}

	a->px_w = ci.image_width;
	a->px_h = ci.image_height;
	switch (ci.jpeg_color_space) {
	case JCS_GRAYSCALE:
		a->colour = ART_GREY;
		break;
	case JCS_RGB:
	case JCS_YCbCr:
		a->colour = ART_RGB;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		a->colour = ART_CMYK;
		break;
	default:
		a->colour = ci.num_components == 4 ? ART_CMYK :
		            ci.num_components == 3 ? ART_RGB :
		            ci.num_components == 1 ? ART_GREY : ART_UNKNOWN;
		break;
	}

	struct res rx = {0, 0}, ry = {0, 0};
	int have = 0;
	if (ci.saw_JFIF_marker && (ci.density_unit == 1 || ci.density_unit == 2) &&
	    ci.X_density && ci.Y_density) {
		rx.milli = (uint64_t)ci.X_density * 1000;
		ry.milli = (uint64_t)ci.Y_density * 1000;
		rx.unit_um = ry.unit_um = ci.density_unit == 1 ? UM_PER_INCH : UM_PER_CM;
		have = 1;
	}
	int icc = 0;
	for (jpeg_saved_marker_ptr m = ci.marker_list; m; m = m->next) {
		if (m->marker == JPEG_APP0 + 1 && !have)
			have = exif_res(m->data, m->data_length, &rx, &ry) == 0;
		else if (m->marker == JPEG_APP0 + 2 && m->data_length >= 12 &&
		    memcmp(m->data, "ICC_PROFILE\0", 12) == 0)
			icc = 1;
	}
	if (have)
		set_res(a, rx, ry);

	if (ci.data_precision != 8)
		detail_add(a, "%d bit", ci.data_precision);
	if (ci.progressive_mode)
		detail_add(a, "progressive");
	if (a->colour == ART_CMYK && ci.saw_Adobe_marker)
		detail_add(a, "Adobe CMYK");
	if (icc)
		detail_add(a, "ICC profile");
	jpeg_destroy_decompress(&ci);
	return 0;
}

/* --- PNG -------------------------------------------------------------- */

struct png_ctx {
	const unsigned char *p;
	size_t len, off;
	char msg[160];
};

static void
png_on_read(png_structp png, png_bytep data, size_t n)
{
	struct png_ctx *x = png_get_io_ptr(png);
	if (n > x->len - x->off)
		png_error(png, "file is truncated");
	memcpy(data, x->p + x->off, n);
	x->off += n;
}

static void
png_on_error(png_structp png, png_const_charp msg)
{
	struct png_ctx *x = png_get_error_ptr(png);
	snprintf(x->msg, sizeof(x->msg), "%s", msg ? msg : "error");
	png_longjmp(png, 1);
}

static void
png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* 1 when the chunk chain from the signature reaches IEND inside the file.
 * Walks lengths only; libpng has checked the chunks it read. */
static int
png_complete(const unsigned char *p, size_t len)
{
	size_t off = 8;
	while (len - off >= 12) {
		uint32_t n = rd32(p + off, 1);
		if (n > 0x7fffffffu)
			return 0;
		if (memcmp(p + off + 4, "IEND", 4) == 0)
			return 1;
		if ((size_t)n + 12 > len - off)
			return 0;
		off += (size_t)n + 12;
	}
	return 0;
}

static int
read_png(const unsigned char *buf, size_t len, struct artwork_info *a, char *err,
    size_t errlen)
{
	struct png_ctx x = {buf, len, 0, ""};
	char lerr[300];
	if (lazypng_load(lerr, sizeof lerr) < 0) {
		seterr(err, errlen, "PNG: %s", lerr);
		return -1;
	}
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &x, png_on_error,
	    png_on_warning);
	if (!png) {
		seterr(err, errlen, "PNG: cannot initialise libpng");
		return -1;
	}
	png_infop info = png_create_info_struct(png);
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		seterr(err, errlen, "PNG: cannot initialise libpng");
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, NULL);
		seterr(err, errlen, "PNG: %s", x.msg);
		return -1;
	}
	png_set_read_fn(png, &x, png_on_read);
	png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
	png_set_chunk_malloc_max(png, PNG_CHUNK_MAX);
	png_read_info(png, info);

	png_uint_32 w, h;
	int depth, ctype, interlace;
	png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
	a->px_w = w;
	a->px_h = h;
	switch (ctype) {
	case PNG_COLOR_TYPE_GRAY:
	case PNG_COLOR_TYPE_GRAY_ALPHA:
		a->colour = ART_GREY;
		break;
	case PNG_COLOR_TYPE_RGB:
	case PNG_COLOR_TYPE_RGB_ALPHA:
		a->colour = ART_RGB;
		break;
	case PNG_COLOR_TYPE_PALETTE:
		a->colour = ART_INDEXED;
		break;
	default:
		a->colour = ART_UNKNOWN;
		break;
	}
	png_uint_32 ppx, ppy;
	int unit;
	if (png_get_pHYs(png, info, &ppx, &ppy, &unit) && unit == PNG_RESOLUTION_METER) {
		struct res rx = {(uint64_t)ppx * 1000, UM_PER_M}, ry = {(uint64_t)ppy * 1000, UM_PER_M};
		set_res(a, rx, ry);
	}
	if (depth != 8)
		detail_add(a, "%d bit", depth);
	if (ctype & PNG_COLOR_MASK_ALPHA)
		detail_add(a, "alpha");
	if (interlace != PNG_INTERLACE_NONE)
		detail_add(a, "interlaced");
	if (png_get_valid(png, info, PNG_INFO_iCCP))
		detail_add(a, "ICC profile");
	png_destroy_read_struct(&png, &info, NULL);

	if (!png_complete(buf, len)) {
		seterr(err, errlen, "PNG: file is truncated (no IEND chunk)");
		return -1;
	}
	return 0;
}

/* --- TIFF ------------------------------------------------------------- */

struct tiff_ctx {
	const unsigned char *p;
	uint64_t len, off;
	char msg[160];
};

static tmsize_t
tiff_on_read(thandle_t h, void *buf, tmsize_t n)
{
	struct tiff_ctx *x = h;
	if (n < 0)
		return -1;
	uint64_t avail = x->off < x->len ? x->len - x->off : 0;
	if ((uint64_t)n > avail)
		n = (tmsize_t)avail;
	if (n > 0)
		memcpy(buf, x->p + x->off, (size_t)n);
	x->off += (uint64_t)n;
	return n;
}

static tmsize_t
tiff_on_write(thandle_t h, void *buf, tmsize_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -1;
}

static toff_t
tiff_on_seek(thandle_t h, toff_t off, int whence)
{
	struct tiff_ctx *x = h;
	uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? x->off : x->len;
	if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
		return (toff_t)-1;
	if (off > UINT64_MAX / 2 || base > UINT64_MAX / 2)
		return (toff_t)-1;
	x->off = base + off;
	return x->off;
}

static int
tiff_on_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t
tiff_on_size(thandle_t h)
{
	return ((struct tiff_ctx *)h)->len;
}

static int
tiff_on_map(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0;
}

static void
tiff_on_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

static int
tiff_on_error(TIFF *tif, void *ud, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)module;
	struct tiff_ctx *x = ud;
	if (!x->msg[0]) /* the first error is the cause */
		vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	return 1; /* handled: libtiff's global handler stays quiet */
}

static int
tiff_on_warning(TIFF *tif, void *ud, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)ud;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static struct res
tiff_res(float v, uint64_t unit_um)
{
	struct res r = {0, unit_um};
	/* NaN fails both comparisons. */
	if (unit_um && v > 0 && v < 1e9f)
		r.milli = (uint64_t)((double)v * 1000.0 + 0.5);
	return r;
}

/* 1 when every strip or tile of the current directory lies in the file. */
static int
tiff_complete(TIFF *tif, uint64_t len)
{
	uint32_t n = TIFFNumberOfStrips(tif);
	for (uint32_t i = 0; i < n; i++) {
		int bad = 0;
		uint64_t off = TIFFGetStrileOffsetWithErr(tif, i, &bad);
		uint64_t cnt = bad ? 0 : TIFFGetStrileByteCountWithErr(tif, i, &bad);
		if (bad || off > len || cnt > len - off)
			return 0;
	}
	return 1;
}

static int
read_tiff(const unsigned char *buf, size_t len, struct artwork_info *a, char *err,
    size_t errlen)
{
	struct tiff_ctx x = {buf, len, 0, ""};
	TIFFOpenOptions *opt = TIFFOpenOptionsAlloc();
	if (!opt) {
		seterr(err, errlen, "TIFF: out of memory");
		return -1;
	}
	TIFFOpenOptionsSetMaxSingleMemAlloc(opt, TIFF_MAX_ALLOC);
	TIFFOpenOptionsSetErrorHandlerExtR(opt, tiff_on_error, &x);
	TIFFOpenOptionsSetWarningHandlerExtR(opt, tiff_on_warning, &x);
	TIFF *tif = TIFFClientOpenExt("artwork", "rm", &x, tiff_on_read, tiff_on_write,
	    tiff_on_seek, tiff_on_close, tiff_on_size, tiff_on_map, tiff_on_unmap, opt);
	TIFFOpenOptionsFree(opt);
	if (!tif) {
		seterr(err, errlen, "TIFF: %s", x.msg[0] ? x.msg : "cannot read the file");
		return -1;
	}

	uint32_t w = 0, h = 0;
	uint16_t photo = 0, spp = 1, bps = 1, runit = RESUNIT_INCH, inkset = INKSET_CMYK;
	uint16_t nextra = 0, *extra = NULL;
	float xr = 0, yr = 0;
	uint32_t icc_len = 0;
	void *icc = NULL;
	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h) || w == 0 || h == 0) {
		TIFFClose(tif);
		seterr(err, errlen, "TIFF: no image size");
		return -1;
	}
	if (!tiff_complete(tif, len)) {
		TIFFClose(tif);
		seterr(err, errlen, "TIFF: file is truncated (image data past the end)");
		return -1;
	}
	a->px_w = w;
	a->px_h = h;
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
	TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &runit);
	TIFFGetFieldDefaulted(tif, TIFFTAG_INKSET, &inkset);
	int colours = nextra < spp ? spp - nextra : 0;
	if (TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo)) {
		switch (photo) {
		case PHOTOMETRIC_MINISBLACK:
		case PHOTOMETRIC_MINISWHITE:
			a->colour = ART_GREY;
			break;
		case PHOTOMETRIC_RGB:
		case PHOTOMETRIC_YCBCR:
			a->colour = ART_RGB;
			break;
		case PHOTOMETRIC_PALETTE:
			a->colour = ART_INDEXED;
			break;
		case PHOTOMETRIC_SEPARATED:
			if (inkset == INKSET_CMYK && colours == 4)
				a->colour = ART_CMYK;
			else
				detail_add(a, "%d inks", colours);
			break;
		case PHOTOMETRIC_CIELAB:
		case PHOTOMETRIC_ICCLAB:
		case PHOTOMETRIC_ITULAB:
			detail_add(a, "Lab");
			break;
		default:
			break;
		}
	}
	if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr) &&
	    TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr)) {
		uint64_t unit = runit == RESUNIT_INCH ? UM_PER_INCH :
		                runit == RESUNIT_CENTIMETER ? UM_PER_CM : 0;
		set_res(a, tiff_res(xr, unit), tiff_res(yr, unit));
	}
	if (bps != 8)
		detail_add(a, "%u bit", (unsigned)bps);
	if (nextra > 0)
		detail_add(a, "alpha");
	if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &icc_len, &icc) && icc_len > 0)
		detail_add(a, "ICC profile");
	if (TIFFIsBigEndian(tif))
		detail_add(a, "big-endian");
	tdir_t dirs = TIFFNumberOfDirectories(tif);
	if (dirs > 1)
		detail_add(a, "%u pages", (unsigned)dirs);
	TIFFClose(tif);
	return 0;
}

/* --- PDF -------------------------------------------------------------- */

/* A PDF real as written ("841.89", "-.5", "+3.") in thousandths, rounded
 * half away from zero.  -1 when not a plain decimal or beyond max units. */
static int
pdf_decimal_milli(const char *s, int64_t max, int64_t *out)
{
	const char *p = s;
	int neg = 0, digits = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	int64_t ip = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		ip = ip * 10 + (*p - '0');
		if (ip > max)
			return -1;
	}
	int64_t frac = 0;
	int nf = 0, up = 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (nf < 3)
				frac = frac * 10 + (*p - '0');
			else if (nf == 3)
				up = *p >= '5';
			if (nf < 4)
				nf++;
		}
	}
	if (*p || digits == 0)
		return -1;
	for (int i = nf < 3 ? nf : 3; i < 3; i++)
		frac *= 10;
	int64_t v = ip * 1000 + frac + up;
	*out = neg ? -v : v;
	return 0;
}

static int
pdf_number_milli(qpdf_data q, qpdf_oh o, int64_t max, int64_t *out)
{
	if (qpdf_oh_is_integer(q, o)) {
		long long v = qpdf_oh_get_int_value(q, o);
		if (v < -max || v > max)
			return -1;
		*out = (int64_t)v * 1000;
		return 0;
	}
	if (qpdf_oh_is_real(q, o)) {
		const char *s = qpdf_oh_get_real_value(q, o);
		return s ? pdf_decimal_milli(s, max, out) : -1;
	}
	return -1;
}

/* A non-null value of key on o, else the null object. */
static qpdf_oh
pdf_key(qpdf_data q, qpdf_oh o, const char *key)
{
	if (!qpdf_oh_is_dictionary(q, o))
		return qpdf_oh_new_null(q);
	return qpdf_oh_get_key(q, o, key);
}

/* An inheritable page attribute: the page's own, else its ancestors'. */
static qpdf_oh
pdf_inherited(qpdf_data q, qpdf_oh page, const char *key)
{
	qpdf_oh n = page;
	for (int i = 0; i < PDF_MAX_PARENTS && qpdf_oh_is_dictionary(q, n); i++) {
		qpdf_oh v = qpdf_oh_get_key(q, n, key);
		if (!qpdf_oh_is_null(q, v))
			return v;
		n = qpdf_oh_get_key(q, n, "/Parent");
	}
	return qpdf_oh_new_null(q);
}

/* Width and height of a rectangle [x1 y1 x2 y2] in thousandths of a
 * point; -1 unless it is four numbers enclosing a non-empty area. */
static int
pdf_box(qpdf_data q, qpdf_oh box, int64_t *w, int64_t *h)
{
	if (!qpdf_oh_is_array(q, box) || qpdf_oh_get_array_n_items(q, box) != 4)
		return -1;
	int64_t v[4];
	for (int i = 0; i < 4; i++)
		if (pdf_number_milli(q, qpdf_oh_get_array_item(q, box, i), PDF_COORD_MAX, &v[i]) < 0)
			return -1;
	*w = v[2] > v[0] ? v[2] - v[0] : v[0] - v[2];
	*h = v[3] > v[1] ? v[3] - v[1] : v[1] - v[3];
	return *w > 0 && *h > 0 ? 0 : -1;
}

/* Thousandths of a point times UserUnit in thousandths, to µm rounded
 * half up: mpt × uu / 1000 × 25400 / 72000 = mpt × uu × 254 / 720000. */
static int64_t
pdf_um(int64_t mpt, int64_t uu_milli)
{
	int64_t n;
	if (__builtin_mul_overflow(mpt, uu_milli, &n) || __builtin_mul_overflow(n, (int64_t)254, &n) ||
	    n > INT64_MAX - 360000)
		return 0;
	return (n + 360000) / 720000;
}

struct pdf_best {
	int64_t px_w, px_h;
	enum artwork_colour colour;
	const char *cs_note;   /* static string or NULL */
	int bits;
	int images;            /* image XObjects seen */
	int visited;           /* XObjects examined (bound) */
	int *ids;              /* object ids already examined (owned) */
};

static enum artwork_colour
pdf_colour(qpdf_data q, qpdf_oh cs, qpdf_oh res, int depth, const char **note)
{
	if (depth > PDF_MAX_CS_DEPTH)
		return ART_UNKNOWN;
	if (qpdf_oh_is_name(q, cs)) {
		if (qpdf_oh_is_name_and_equals(q, cs, "/DeviceRGB"))
			return ART_RGB;
		if (qpdf_oh_is_name_and_equals(q, cs, "/DeviceCMYK"))
			return ART_CMYK;
		if (qpdf_oh_is_name_and_equals(q, cs, "/DeviceGray"))
			return ART_GREY;
		/* Not allowed in an image dictionary, but written by some
		 * producers: a colour space named in the page resources. */
		const char *name = qpdf_oh_get_name(q, cs);
		qpdf_oh named = pdf_key(q, pdf_key(q, res, "/ColorSpace"), name ? name : "");
		return qpdf_oh_is_null(q, named) ? ART_UNKNOWN : pdf_colour(q, named, res, depth + 1, note);
	}
	if (!qpdf_oh_is_array(q, cs) || qpdf_oh_get_array_n_items(q, cs) < 1)
		return ART_UNKNOWN;
	qpdf_oh fam = qpdf_oh_get_array_item(q, cs, 0);
	int n = qpdf_oh_get_array_n_items(q, cs);
	if (n == 1)
		return pdf_colour(q, fam, res, depth + 1, note);
	if (qpdf_oh_is_name_and_equals(q, fam, "/ICCBased")) {
		qpdf_oh s = qpdf_oh_get_array_item(q, cs, 1);
		qpdf_oh comps = qpdf_oh_is_stream(q, s) ? pdf_key(q, qpdf_oh_get_dict(q, s), "/N")
		                                         : qpdf_oh_new_null(q);
		*note = "ICC profile";
		long long k = qpdf_oh_is_integer(q, comps) ? qpdf_oh_get_int_value(q, comps) : 0;
		return k == 4 ? ART_CMYK : k == 3 ? ART_RGB : k == 1 ? ART_GREY : ART_UNKNOWN;
	}
	if (qpdf_oh_is_name_and_equals(q, fam, "/Indexed"))
		return ART_INDEXED;
	if (qpdf_oh_is_name_and_equals(q, fam, "/CalRGB"))
		return ART_RGB;
	if (qpdf_oh_is_name_and_equals(q, fam, "/CalGray"))
		return ART_GREY;
	if (qpdf_oh_is_name_and_equals(q, fam, "/CalCMYK"))
		return ART_CMYK;
	if (qpdf_oh_is_name_and_equals(q, fam, "/Lab"))
		*note = "Lab";
	else if (qpdf_oh_is_name_and_equals(q, fam, "/Separation"))
		*note = "spot colour";
	else if (qpdf_oh_is_name_and_equals(q, fam, "/DeviceN"))
		*note = "DeviceN";
	return ART_UNKNOWN;
}

static void
pdf_image(qpdf_data q, qpdf_oh d, qpdf_oh res, struct pdf_best *b)
{
	b->images++;
	qpdf_oh wo = pdf_key(q, d, "/Width"), ho = pdf_key(q, d, "/Height");
	if (!qpdf_oh_is_integer(q, wo) || !qpdf_oh_is_integer(q, ho))
		return;
	long long w = qpdf_oh_get_int_value(q, wo), h = qpdf_oh_get_int_value(q, ho);
	if (w < 1 || h < 1 || w > INT32_MAX || h > INT32_MAX)
		return;
	if (b->px_w * b->px_h >= (int64_t)w * h)
		return;
	b->px_w = w;
	b->px_h = h;
	b->cs_note = NULL;
	b->bits = 0;
	qpdf_oh bpc = pdf_key(q, d, "/BitsPerComponent");
	if (qpdf_oh_is_integer(q, bpc)) {
		long long v = qpdf_oh_get_int_value(q, bpc);
		b->bits = v >= 1 && v <= 32 ? (int)v : 0;
	}
	qpdf_oh mask = pdf_key(q, d, "/ImageMask");
	if (qpdf_oh_is_bool(q, mask) && qpdf_oh_get_bool_value(q, mask)) {
		b->colour = ART_GREY;
		b->cs_note = "image mask";
		b->bits = 1;
		return;
	}
	b->colour = pdf_colour(q, pdf_key(q, d, "/ColorSpace"), res, 0, &b->cs_note);
	if (b->colour == ART_UNKNOWN && !b->cs_note &&
	    qpdf_oh_is_or_has_name(q, pdf_key(q, d, "/Filter"), "/JPXDecode"))
		b->cs_note = "JPEG 2000";
}

static void
pdf_walk(qpdf_data q, qpdf_oh res, int depth, struct pdf_best *b)
{
	if (depth > PDF_MAX_FORM_DEPTH)
		return;
	qpdf_oh xo = pdf_key(q, res, "/XObject");
	if (!qpdf_oh_is_dictionary(q, xo))
		return;
	/* The C API iterates one dictionary at a time; recursion below would
	 * restart it, so the keys are copied first. */
	size_t n = 0, cap = 16;
	char **keys = xcalloc(cap, sizeof(*keys));
	qpdf_oh_begin_dict_key_iter(q, xo);
	while (qpdf_oh_dict_more_keys(q) && b->visited + (int)n < PDF_MAX_XOBJECTS) {
		const char *k = qpdf_oh_dict_next_key(q);
		if (!k)
			break;
		if (n == cap) {
			cap *= 2;
			keys = xrealloc(keys, cap * sizeof(*keys));
		}
		keys[n++] = xstrdup(k);
	}
	for (size_t i = 0; i < n; i++) {
		if (b->visited >= PDF_MAX_XOBJECTS)
			break;
		qpdf_oh s = qpdf_oh_get_key(q, xo, keys[i]);
		if (!qpdf_oh_is_stream(q, s))
			continue;
		int id = qpdf_oh_get_object_id(q, s), seen = 0;
		for (int j = 0; j < b->visited && id > 0; j++)
			if (b->ids[j] == id)
				seen = 1;
		if (seen)
			continue;
		b->ids[b->visited++] = id;
		qpdf_oh d = qpdf_oh_get_dict(q, s);
		qpdf_oh sub = pdf_key(q, d, "/Subtype");
		if (qpdf_oh_is_name_and_equals(q, sub, "/Image"))
			pdf_image(q, d, res, b);
		else if (qpdf_oh_is_name_and_equals(q, sub, "/Form"))
			pdf_walk(q, pdf_key(q, d, "/Resources"), depth + 1, b);
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static void
pdf_error(qpdf_data q, const char *what, char *err, size_t errlen)
{
	qpdf_error e = qpdf_has_error(q) ? qpdf_get_error(q) : NULL;
	if (e && qpdf_get_error_code(q, e) == qpdf_e_password) {
		seterr(err, errlen, "PDF: password-protected");
		return;
	}
	const char *detail = e ? qpdf_get_error_message_detail(q, e) : NULL;
	seterr(err, errlen, "PDF: %s%s%s", what, detail && *detail ? ": " : "",
	    detail ? detail : "");
}

static int
read_pdf(const unsigned char *buf, size_t len, struct artwork_info *a, char *err,
    size_t errlen)
{
	size_t tail = len < PDF_EOF_WINDOW ? len : PDF_EOF_WINDOW;
	if (!memmem(buf + len - tail, tail, "%%EOF", 5)) {
		seterr(err, errlen, "PDF: file is truncated (no %%%%EOF at the end)");
		return -1;
	}
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	int rc = -1;
	if (qpdf_read_memory(q, "artwork", (const char *)buf, len, "") & QPDF_ERRORS) {
		pdf_error(q, "cannot read", err, errlen);
		goto out;
	}
	int pages = qpdf_get_num_pages(q);
	if (pages < 0 || qpdf_has_error(q)) {
		pdf_error(q, "cannot read the page tree", err, errlen);
		goto out;
	}
	if (pages == 0) {
		seterr(err, errlen, "PDF: no pages");
		goto out;
	}
	a->pages = pages;
	qpdf_oh page = qpdf_get_page_n(q, 0);
	if (!qpdf_oh_is_dictionary(q, page)) {
		pdf_error(q, "first page unreadable", err, errlen);
		goto out;
	}

	int64_t w = 0, h = 0;
	if (pdf_box(q, pdf_key(q, page, "/TrimBox"), &w, &h) == 0)
		detail_add(a, "TrimBox");
	else if (pdf_box(q, pdf_inherited(q, page, "/MediaBox"), &w, &h) == 0)
		detail_add(a, "MediaBox");
	else
		detail_add(a, "no page box");
	int64_t uu = 1000;
	qpdf_oh uuo = pdf_key(q, page, "/UserUnit");
	if (!qpdf_oh_is_null(q, uuo) &&
	    (pdf_number_milli(q, uuo, PDF_USERUNIT_MAX, &uu) < 0 || uu <= 0))
		uu = 1000;
	else if (uu != 1000)
		detail_add(a, "UserUnit");
	a->page_w_um = pdf_um(w, uu);
	a->page_h_um = pdf_um(h, uu);
	if (a->page_w_um == 0 || a->page_h_um == 0)
		a->page_w_um = a->page_h_um = 0;
	qpdf_oh rot = pdf_inherited(q, page, "/Rotate");
	if (qpdf_oh_is_integer(q, rot)) {
		long long r = qpdf_oh_get_int_value(q, rot) % 360;
		if (r < 0)
			r += 360;
		if (r == 90 || r == 270) {
			int64_t t = a->page_w_um;
			a->page_w_um = a->page_h_um;
			a->page_h_um = t;
			detail_add(a, "rotated %lld", r);
		}
	}

	struct pdf_best b = {0};
	b.ids = xcalloc(PDF_MAX_XOBJECTS, sizeof(*b.ids));
	pdf_walk(q, pdf_inherited(q, page, "/Resources"), 0, &b);
	free(b.ids);
	a->px_w = b.px_w;
	a->px_h = b.px_h;
	a->colour = b.colour;
	if (b.images > 1)
		detail_add(a, "%d%s images", b.images, b.visited >= PDF_MAX_XOBJECTS ? "+" : "");
	if (b.bits && b.bits != 8)
		detail_add(a, "%d bit", b.bits);
	if (b.cs_note)
		detail_add(a, "%s", b.cs_note);
	if (qpdf_more_warnings(q))
		detail_add(a, "damaged, repaired on reading");
	rc = 0;
out:
	qpdf_cleanup(&q);
	return rc;
}

/* --- entry points ----------------------------------------------------- */

enum kind { K_NONE, K_JPEG, K_PNG, K_TIFF, K_PDF };

static enum kind
sniff(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return K_JPEG;
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return K_PNG;
	if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0 ||
	    memcmp(p, "II+\0", 4) == 0 || memcmp(p, "MM\0+", 4) == 0))
		return K_TIFF;
	if (memmem(p, n < PDF_HEADER_WINDOW ? n : PDF_HEADER_WINDOW, "%PDF-", 5))
		return K_PDF;
	return K_NONE;
}

/* The whole of a regular file of at most max bytes; caller frees *data. */
static int
slurp(const char *path, size_t max, unsigned char **data, size_t *len, char *err,
    size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		seterr(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		seterr(err, errlen, "file too large (%jd bytes, limit %zu)", (intmax_t)st.st_size, max);
		close(fd);
		return -1;
	}
	/* One byte more than fstat said, to notice a file growing meanwhile. */
	size_t want = (size_t)st.st_size + 1, got = 0;
	unsigned char *buf = xmalloc(want);
	while (got < want) {
		ssize_t r = read(fd, buf + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			seterr(err, errlen, "cannot read: %s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got == want) {
		seterr(err, errlen, "file changed while being read");
		free(buf);
		return -1;
	}
	*data = buf;
	*len = got;
	return 0;
}

#define ART_LOAD(tab, lib) \
	lazylib_load(&(lib), &(tab), tab##_names, ARRAY_LEN(tab##_names), err, errlen)

int
artwork_read(const char *path, size_t max_bytes, struct artwork_info *out, char *err,
    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	unsigned char *buf;
	size_t len;
	if (slurp(path, max_bytes, &buf, &len, err, errlen) < 0)
		return -1;
	if (len == 0) {
		free(buf);
		seterr(err, errlen, "empty file");
		return -1;
	}
	int rc;
	out->pages = 1;
	switch (sniff(buf, len)) {
	case K_JPEG:
		snprintf(out->format, sizeof(out->format), "JPEG");
		rc = ART_LOAD(art_jpeg, jpeg_lib);
		if (rc == 0)
			rc = read_jpeg(buf, len, out, err, errlen);
		break;
	case K_PNG:
		snprintf(out->format, sizeof(out->format), "PNG");
		rc = read_png(buf, len, out, err, errlen);
		break;
	case K_TIFF:
		snprintf(out->format, sizeof(out->format), "TIFF");
		rc = ART_LOAD(art_tiff, tiff_lib);
		if (rc == 0)
			rc = read_tiff(buf, len, out, err, errlen);
		break;
	case K_PDF:
		snprintf(out->format, sizeof(out->format), "PDF");
		out->pages = 0;
		rc = ART_LOAD(art_qpdf, qpdf_lib);
		if (rc == 0)
			rc = read_pdf(buf, len, out, err, errlen);
		break;
	default:
		seterr(err, errlen, "not a supported image or PDF");
		rc = -1;
		break;
	}
	free(buf);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* px printed over mm: px × 25.4 / mm = px × 254 / (mm × 10), rounded down. */
static int64_t
dpi_along(int64_t px, int64_t mm)
{
	return px * 254 / (mm * 10);
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int
artwork_effective_dpi(const struct artwork_info *a, int64_t w_mm, int64_t h_mm)
{
	/* Bounds keep px × 254 and mm × 10 far from overflow. */
	if (!a || a->px_w <= 0 || a->px_h <= 0 || a->px_w > INT64_C(1) << 40 ||
	    a->px_h > INT64_C(1) << 40 || w_mm <= 0 || h_mm <= 0 ||
	    w_mm > INT64_MAX / 10 || h_mm > INT64_MAX / 10)
		return 0;
	/* The image may be placed either way round; the way whose aspect
	 * matches the print never gives fewer dpi than the other, so the
	 * larger of the two is that orientation. */
	int64_t straight = min64(dpi_along(a->px_w, w_mm), dpi_along(a->px_h, h_mm));
	int64_t turned = min64(dpi_along(a->px_w, h_mm), dpi_along(a->px_h, w_mm));
	int64_t dpi = straight > turned ? straight : turned;
	return dpi > INT_MAX ? INT_MAX : (int)dpi;
}

const char *
artwork_colour_name(enum artwork_colour c)
{
	switch (c) {
	case ART_RGB:
		return "RGB";
	case ART_CMYK:
		return "CMYK";
	case ART_GREY:
		return "grey";
	case ART_INDEXED:
		return "indexed";
	case ART_UNKNOWN:
	default:
		return "unknown";
	}
}
