/*
 * Unit tests for rtf.c: the text of RTF bodies (code pages, \u escapes,
 * destinations without text, HTML and plain text wrapped in RTF, hostile
 * nesting) and compressed RTF (MS-OXRTFCP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "rtf.h"
#include "util.h"

static void
want(const char *rtf, const char *text, int html)
{
	int h = -1;
	char *t = rtf_to_text(rtf, strlen(rtf), &h);
	assert_non_null(t);
	assert_string_equal(t, text);
	assert_int_equal(h, html);
	free(t);
}

static void
test_polish_and_german(void **state)
{
	(void)state;
	/* Outlook in Polish: the document's code page */
	want("{\\rtf1\\ansi\\ansicpg1250\\deff0{\\fonttbl{\\f0\\fswiss\\fcharset238 Arial;}}"
	     "{\\colortbl;\\red0\\green0\\blue0;}\\viewkind4\\uc1\\pard\\f0\\fs20 "
	     "Dzie\\'f1 dobry,\\par\\par prosz\\'ea o wycen\\'ea 500 ulotek A5.\\par}",
	    "Dzień dobry,\n\nproszę o wycenę 500 ulotek A5.", 0);
	/* Word: a Western document, Polish text in a Central European font */
	want("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0\\froman\\fcharset0 Times;}"
	     "{\\f1\\fswiss\\fcharset238 Arial CE;}}\\f0 Gr\\'fc\\'dfe aus K\\'f6ln, "
	     "\\f1 \\'b3\\'f3d\\'9f\\f0  \\'e4\\par}",
	    "Grüße aus Köln, łódź ä", 0);
	/* 8-bit bytes written as they are, not escaped */
	want("{\\rtf1\\ansi\\ansicpg1250 \xbf\xf3\xb3w\\par}", "żółw", 0);
	/* a font's \cpg */
	want("{\\rtf1\\ansi{\\fonttbl{\\f2\\cpg1250 Arial;}}\\f2 \\'9c\\par}", "ś", 0);
}

static void
test_unicode_escapes(void **state)
{
	(void)state;
	want("{\\rtf1\\ansi\\uc1 Zam\\u243?wienie \\u321\\'a3\\u380\\'bf \\u-10179?\\u-8704?}",
	    "Zamówienie Łż \xf0\x9f\x98\x80", 0);
	/* two fallback characters, one an escape and one a letter */
	want("{\\rtf1\\ansi\\uc2 \\u8364\\'80E netto}", "€ netto", 0);
	/* \uc0: nothing to skip */
	want("{\\rtf1\\ansi\\uc0 \\u322 a}", "ła", 0);
	/* a lone surrogate */
	want("{\\rtf1\\ansi\\uc0 \\u-10179 x}", "\xef\xbf\xbdx", 0);
}

static void
test_destinations_without_text(void **state)
{
	(void)state;
	want("{\\rtf1\\ansi{\\*\\generator Riched20 10.0.19041}{\\info{\\author Jan}"
	     "{\\title Tajne}}{\\stylesheet{\\s1 heading 1;}}"
	     "{\\*\\unknownthing secret}{\\pict\\pngblip 89504e470d0a}"
	     "{\\header Naglowek\\par}"
	     "Zobacz {\\field{\\*\\fldinst HYPERLINK \"https://bmt.example\"}"
	     "{\\fldrslt nasz\\~cennik}}.\\line Koniec\\tab x\\emdash y\\par}",
	    "Zobacz nasz cennik.\nKoniec\tx—y", 0);
	/* Word's list numbering text is its rendering of a bullet */
	want("{\\rtf1\\ansi {\\listtext\\pard\\plain\\f3 \\'b7\\tab}500 ulotek\\par"
	     "{\\listtext\\pard\\plain\\f3 \\'b7\\tab}200 plakat\\'f3w\\par}",
	    "500 ulotek\n200 plakatów", 0);
	/* \bin data is skipped whatever it holds */
	want("{\\rtf1 a\\bin4 {}\\\\b}", "ab", 0);
	/* escaped braces and backslash, and an optional hyphen */
	want("{\\rtf1 \\{x\\}\\\\ za\\-pytanie\\_1}", "{x}\\ zapytanie-1", 0);
	/* a control word with a number and no delimiter */
	want("{\\rtf1\\fs20Tekst}", "Tekst", 0);
}

static void
test_wrapped_html(void **state)
{
	(void)state;
	const char *rtf =
	    "{\\rtf1\\ansi\\ansicpg1250\\fromhtml1 \\fbidis \\deff0{\\fonttbl"
	    "{\\f0\\fswiss\\fcharset238 Arial;}}"
	    "{\\*\\htmltag19 <html>}{\\*\\htmltag34 <head>}"
	    "{\\*\\htmltag241 <style>p {color:red}</style>}{\\*\\htmltag41 </head>}"
	    "{\\*\\htmltag2 \\par }{\\*\\htmltag50 <body>}\\htmlrtf \\viewkind4\\uc1\\pard\\f0 "
	    "\\htmlrtf0 {\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 Dzie\\'f1 dobry,"
	    "{\\*\\htmltag116 <br>}\\htmlrtf \\line \\htmlrtf0 zatwierdzam"
	    "{\\*\\htmltag72 </p>}\\htmlrtf \\par }\\htmlrtf0 "
	    "{\\*\\mhtmltag84 <img src=\"cid:x\">}"
	    "{\\*\\htmltag58 </body>}{\\*\\htmltag27 </html>}}";
	int h = 0;
	char *t = rtf_to_text(rtf, strlen(rtf), &h);
	assert_non_null(t);
	assert_int_equal(h, 1);
	assert_non_null(strstr(t, "<p>Dzień dobry,<br>zatwierdzam</p>"));
	assert_null(strstr(t, "\\line"));
	assert_null(strstr(t, "cid:x"));
	char *text = mime_html_to_text(t, strlen(t));
	assert_string_equal(text, "Dzień dobry,\nzatwierdzam");
	free(text);
	free(t);

	/* plain text wrapped the same way */
	want("{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
	     "\\htmlrtf {\\htmlrtf0 Sehr geehrte Damen und Herren,\\par\\par "
	     "wir bitten um ein Angebot f\\'fcr 200 Plakate.\\par}\\htmlrtf }",
	    "Sehr geehrte Damen und Herren,\n\nwir bitten um ein Angebot für 200 Plakate.", 0);
}

static void
test_hostile(void **state)
{
	(void)state;
	assert_null(rtf_to_text("hello", 5, NULL));
	assert_null(rtf_to_text("{\\rt", 4, NULL));
	assert_null(rtf_to_text(NULL, 0, NULL));
	/* nesting far beyond RTF_DEPTH_MAX: read up to there */
	struct sbuf sb = {0};
	sb_adds(&sb, "{\\rtf1 start");
	for (int i = 0; i < 100000; i++)
		sb_adds(&sb, "{x");
	char *t = rtf_to_text(sb.s, sb.len, NULL);
	assert_non_null(t);
	assert_true(strncmp(t, "startx", 6) == 0);
	assert_true(strlen(t) <= 6 + RTF_DEPTH_MAX);
	free(t);
	sb_free(&sb);
	/* cut anywhere: never past the end */
	const char *doc = "{\\rtf1\\ansi\\ansicpg1250{\\fonttbl{\\f0\\fcharset238 A;}}"
	                  "\\f0 \\'b3\\u322\\'b3\\bin5 abcde{\\*\\x y}z\\par}";
	for (size_t n = 5; n <= strlen(doc); n++) {
		char *cut = xstrndup(doc, n);
		char *u = rtf_to_text(cut, n, NULL);
		assert_non_null(u);
		assert_true(utf8_valid(u, strlen(u)));
		free(u);
		free(cut);
	}
	/* a long control word and a huge number are read, not trusted */
	const char *odd = "{\\rtf1 \\abcdefghijklmnopqrstuvwxyzabcdefghijklmnop99999999999999 ok"
	                  "\\bin99999999999}";
	t = rtf_to_text(odd, strlen(odd), NULL);
	assert_non_null(t);
	assert_string_equal(t, "ok");
	free(t);
}

static void
test_decompress(void **state)
{
	(void)state;
	/* the example of MS-OXRTFCP */
	static const unsigned char lzfu[] =
	    "-\0\0\0+\0\0\0LZFu\xf1\xc5\xc7\xa7\x03\0\n\0rcpg125B2\n\xf3 hel\t\0 bw\x05\xb0"
	    "ld}\n\x80\x0f\xa0";
	char *out;
	size_t n;
	assert_int_equal(rtf_decompress(lzfu, sizeof(lzfu) - 1, 1 << 20, &out, &n), 0);
	assert_string_equal(out, "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
	assert_int_equal(n, 43);
	free(out);
	/* stored, not compressed */
	static const unsigned char mela[] =
	    ".\0\0\0\"\0\0\0MELA\0\0\0\0{\\rtf1\\ansi\\ansicpg1252\\pard test}";
	assert_int_equal(rtf_decompress(mela, sizeof(mela) - 1, 1 << 20, &out, &n), 0);
	assert_string_equal(out, "{\\rtf1\\ansi\\ansicpg1252\\pard test}");
	free(out);
	/* over the caller's limit, a size beyond the data, an unknown kind */
	assert_int_equal(rtf_decompress(lzfu, sizeof(lzfu) - 1, 42, &out, &n), -1);
	assert_null(out);
	unsigned char bad[sizeof(lzfu)];
	memcpy(bad, lzfu, sizeof(lzfu));
	bad[0] = 0x7f;
	assert_int_equal(rtf_decompress(bad, sizeof(bad) - 1, 1 << 20, &out, &n), -1);
	memcpy(bad, lzfu, sizeof(lzfu));
	memcpy(bad + 8, "ABCD", 4);
	assert_int_equal(rtf_decompress(bad, sizeof(bad) - 1, 1 << 20, &out, &n), -1);
	assert_int_equal(rtf_decompress(lzfu, 10, 1 << 20, &out, &n), -1);
	/* every cut of the stream (its size field mended): no read past it */
	for (size_t k = 16; k < sizeof(lzfu) - 1; k++) {
		unsigned char *c = xmalloc(k);
		memcpy(c, lzfu, k);
		c[0] = (unsigned char)(k - 4);
		assert_int_equal(rtf_decompress(c, k, 1 << 20, &out, &n), 0);
		assert_true(n <= 43);
		assert_memory_equal(out, "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n", n);
		free(out);
		free(c);
	}
}

static void
test_enriched(void **state)
{
	(void)state;
	const char *e = "<bold>Dzie\xc5\x84 dobry,</bold>\r\n\r\nprosz\xc4\x99 o wycen\xc4\x99\r\n"
	                "<italic>500 ulotek</italic> A5 (<<nie A4>).\r\n\r\n\r\n"
	                "<color><param>red</param>Pilne</color>\r\n\r\n"
	                "<nofill>Jan Kowalski\r\ntel. 600 100 200\r\n</nofill>"
	                "<x-unknown>a < b</x-unknown>";
	char *t = enriched_to_text(e, strlen(e), 0);
	assert_string_equal(t, "Dzień dobry,\nproszę o wycenę 500 ulotek A5 (<nie A4>).\n\n"
	                       "Pilne\nJan Kowalski\ntel. 600 100 200\na < b");
	free(t);
	/* LF line ends, as a Unix mailer leaves them */
	t = enriched_to_text("a\nb\n\nc", 7, 0);
	assert_string_equal(t, "a b\nc");
	free(t);
	/* text/richtext: <nl> and <lt>, line ends are blanks */
	const char *r = "Guten Tag,<nl><nl>bitte<lt>ein\r\nAngebot<bold>!</bold>";
	t = enriched_to_text(r, strlen(r), 1);
	assert_string_equal(t, "Guten Tag,\n\nbitte<ein Angebot!");
	free(t);
	/* an unclosed command and a long one are text */
	t = enriched_to_text("x <bold y", 9, 0);
	assert_string_equal(t, "x <bold y");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_polish_and_german),
		cmocka_unit_test(test_unicode_escapes),
		cmocka_unit_test(test_destinations_without_text),
		cmocka_unit_test(test_wrapped_html),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_decompress),
		cmocka_unit_test(test_enriched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
