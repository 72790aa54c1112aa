/*
 * lazyharu: libharu and libpng, opened when a PDF is made or an image is
 * read and closed again while the daemon is idle (see lazylib.h).
 *
 * Only offers, orders, production orders and the check of a client's
 * print file use them; linked, they and zlib would be loaded and relocated
 * by every command and kept resident by the idle daemon.  Included instead
 * of <hpdf.h> and <png.h> by the modules that call them; each call below
 * goes through the tables lazyharu_load() and lazypng_load() fill.  No document
 * or read struct of theirs outlives the call that made it: lazyharu_unload()
 * may run between any two passes.
 */
#ifndef INKFLOW_LAZYHARU_H
#define INKFLOW_LAZYHARU_H

#include <hpdf.h>
#include <png.h>

#include "lazylib.h"

#define LAZYHARU_FUNCS(X) \
	X(HPDF_AddPage) X(HPDF_Free) X(HPDF_GetFont) X(HPDF_GetStreamSize) \
	X(HPDF_Image_GetHeight) X(HPDF_Image_GetWidth) X(HPDF_LoadJpegImageFromFile) \
	X(HPDF_LoadPngImageFromFile) X(HPDF_LoadTTFontFromFile) X(HPDF_New) \
	X(HPDF_Page_BeginText) X(HPDF_Page_Circle) X(HPDF_Page_DrawImage) \
	X(HPDF_Page_EndText) X(HPDF_Page_Fill) X(HPDF_Page_LineTo) X(HPDF_Page_MoveTo) \
	X(HPDF_Page_Rectangle) X(HPDF_Page_SetDash) X(HPDF_Page_SetFontAndSize) \
	X(HPDF_Page_SetLineCap) X(HPDF_Page_SetLineJoin) X(HPDF_Page_SetLineWidth) \
	X(HPDF_Page_SetRGBFill) X(HPDF_Page_SetRGBStroke) X(HPDF_Page_SetSize) \
	X(HPDF_Page_Stroke) X(HPDF_Page_TextOut) X(HPDF_ReadFromStream) \
	X(HPDF_SaveToStream) X(HPDF_SetCompressionMode) X(HPDF_SetInfoAttr) \
	X(HPDF_SetInfoDateAttr) X(HPDF_UseUTFEncodings)

#define LAZYPNG_FUNCS(X) \
	X(png_create_info_struct) X(png_create_read_struct) X(png_destroy_read_struct) \
	X(png_error) X(png_get_IHDR) X(png_get_error_ptr) X(png_get_io_ptr) \
	X(png_get_pHYs) X(png_get_valid) X(png_longjmp) X(png_read_info) \
	X(png_set_chunk_malloc_max) X(png_set_longjmp_fn) X(png_set_read_fn) \
	X(png_set_user_limits)

LAZYLIB_TABLE(lazyharu, LAZYHARU_FUNCS);
LAZYLIB_TABLE(lazypng, LAZYPNG_FUNCS);
extern struct lazyharu lazyharu;
extern struct lazypng lazypng;

/* Open libharu (with libpng and zlib) or libpng, if not open, under
 * lazylib's lock.  0, or -1 with err naming the library and the reason. */
int lazyharu_load(char *err, size_t errlen);
int lazypng_load(char *err, size_t errlen);

/* Close both if open.  Only while no other thread can be in them: the
 * daemon calls it before it waits. */
void lazyharu_unload(void);

#define HPDF_AddPage (lazyharu.HPDF_AddPage)
#define HPDF_Free (lazyharu.HPDF_Free)
#define HPDF_GetFont (lazyharu.HPDF_GetFont)
#define HPDF_GetStreamSize (lazyharu.HPDF_GetStreamSize)
#define HPDF_Image_GetHeight (lazyharu.HPDF_Image_GetHeight)
#define HPDF_Image_GetWidth (lazyharu.HPDF_Image_GetWidth)
#define HPDF_LoadJpegImageFromFile (lazyharu.HPDF_LoadJpegImageFromFile)
#define HPDF_LoadPngImageFromFile (lazyharu.HPDF_LoadPngImageFromFile)
#define HPDF_LoadTTFontFromFile (lazyharu.HPDF_LoadTTFontFromFile)
#define HPDF_New (lazyharu.HPDF_New)
#define HPDF_Page_BeginText (lazyharu.HPDF_Page_BeginText)
#define HPDF_Page_Circle (lazyharu.HPDF_Page_Circle)
#define HPDF_Page_DrawImage (lazyharu.HPDF_Page_DrawImage)
#define HPDF_Page_EndText (lazyharu.HPDF_Page_EndText)
#define HPDF_Page_Fill (lazyharu.HPDF_Page_Fill)
#define HPDF_Page_LineTo (lazyharu.HPDF_Page_LineTo)
#define HPDF_Page_MoveTo (lazyharu.HPDF_Page_MoveTo)
#define HPDF_Page_Rectangle (lazyharu.HPDF_Page_Rectangle)
#define HPDF_Page_SetDash (lazyharu.HPDF_Page_SetDash)
#define HPDF_Page_SetFontAndSize (lazyharu.HPDF_Page_SetFontAndSize)
#define HPDF_Page_SetLineCap (lazyharu.HPDF_Page_SetLineCap)
#define HPDF_Page_SetLineJoin (lazyharu.HPDF_Page_SetLineJoin)
#define HPDF_Page_SetLineWidth (lazyharu.HPDF_Page_SetLineWidth)
#define HPDF_Page_SetRGBFill (lazyharu.HPDF_Page_SetRGBFill)
#define HPDF_Page_SetRGBStroke (lazyharu.HPDF_Page_SetRGBStroke)
#define HPDF_Page_SetSize (lazyharu.HPDF_Page_SetSize)
#define HPDF_Page_Stroke (lazyharu.HPDF_Page_Stroke)
#define HPDF_Page_TextOut (lazyharu.HPDF_Page_TextOut)
#define HPDF_ReadFromStream (lazyharu.HPDF_ReadFromStream)
#define HPDF_SaveToStream (lazyharu.HPDF_SaveToStream)
#define HPDF_SetCompressionMode (lazyharu.HPDF_SetCompressionMode)
#define HPDF_SetInfoAttr (lazyharu.HPDF_SetInfoAttr)
#define HPDF_SetInfoDateAttr (lazyharu.HPDF_SetInfoDateAttr)
#define HPDF_UseUTFEncodings (lazyharu.HPDF_UseUTFEncodings)

#define png_create_info_struct (lazypng.png_create_info_struct)
#define png_create_read_struct (lazypng.png_create_read_struct)
#define png_destroy_read_struct (lazypng.png_destroy_read_struct)
#define png_error (lazypng.png_error)
#define png_get_IHDR (lazypng.png_get_IHDR)
#define png_get_error_ptr (lazypng.png_get_error_ptr)
#define png_get_io_ptr (lazypng.png_get_io_ptr)
#define png_get_pHYs (lazypng.png_get_pHYs)
#define png_get_valid (lazypng.png_get_valid)
#define png_longjmp (lazypng.png_longjmp)
#define png_read_info (lazypng.png_read_info)
#define png_set_chunk_malloc_max (lazypng.png_set_chunk_malloc_max)
#define png_set_longjmp_fn (lazypng.png_set_longjmp_fn)
#define png_set_read_fn (lazypng.png_set_read_fn)
#define png_set_user_limits (lazypng.png_set_user_limits)

#endif
