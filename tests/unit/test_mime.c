/*
 * Unit tests for src/mime.c: decoding (RFC 2047, RFC 2231, charsets),
 * body and attachment selection, classification fields, limits and the
 * guards in front of libetpan, tolerated defects (one test each, named in
 * the table atop mime.c), garbage input, the encoders, and the corpus in
 * tests/corpus/ (found through INKFLOW_SRCDIR, default ".").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compose.h"
#include "mime.h"
#include "timing.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* helpers */

/* "\n" -> "\r\n" so test messages can be written as plain literals. */
static char *
crlf(const char *s)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	for (; *s; s++) {
		if (*s == '\n')
			sb_addc(&sb, '\r');
		sb_addc(&sb, *s);
	}
	return sb_steal(&sb);
}

static struct mime_msg *
parse_lim(const char *raw, size_t len, const struct mime_limits *lim)
{
	struct mime_msg *m = NULL;
	char reason[256];
	int r = mime_parse(raw, len, lim, &m, reason, sizeof(reason));
	if (r != 0)
		print_error("unexpected parse failure: %s\n", reason);
	assert_int_equal(r, 0);
	assert_non_null(m);
	return m;
}

/* Parses a "\n" literal sent with CRLF line ends. */
static struct mime_msg *
parse(const char *lf)
{
	char *raw = crlf(lf);
	struct mime_msg *m = parse_lim(raw, strlen(raw), NULL);
	free(raw);
	return m;
}

static void
parse_fails(const char *raw, size_t len, const struct mime_limits *lim,
    const char *want)
{
	struct mime_msg *m = (struct mime_msg *)1;
	char reason[256];
	int r = mime_parse(raw, len, lim, &m, reason, sizeof(reason));
	assert_int_equal(r, -1);
	assert_null(m);
	if (!strstr(reason, want))
		print_error("reason \"%s\" lacks \"%s\"\n", reason, want);
	assert_non_null(strstr(reason, want));
	assert_null(strchr(reason, '\n'));
}

static int
has_note(const struct mime_msg *m, const char *sub)
{
	for (size_t i = 0; i < m->nnotes; i++)
		if (strstr(m->notes[i], sub))
			return 1;
	return 0;
}

static void
want_note(const struct mime_msg *m, const char *sub)
{
	if (!has_note(m, sub)) {
		print_error("no note containing \"%s\"; notes:\n", sub);
		for (size_t i = 0; i < m->nnotes; i++)
			print_error("  %s\n", m->notes[i]);
	}
	assert_true(has_note(m, sub));
}

static const struct mime_att *
att_named(const struct mime_msg *m, const char *name)
{
	for (size_t i = 0; i < m->natts; i++)
		if (m->atts[i].filename && strcmp(m->atts[i].filename, name) == 0)
			return &m->atts[i];
	print_error("no attachment named \"%s\"\n", name);
	return NULL;
}

static void
dec_eq(const char *in, const char *want)
{
	char *s = mime_decode_header(in);
	if (strcmp(s, want) != 0)
		print_error("decode(%s) = \"%s\", want \"%s\"\n", in, s, want);
	assert_string_equal(s, want);
	free(s);
}

static void
conv_eq(const char *cs, const char *in, const char *want)
{
	char *s = mime_to_utf8(cs, in, strlen(in));
	assert_string_equal(s, want);
	free(s);
}

static char *
corpus_path(const char *name)
{
	const char *dir = getenv("INKFLOW_SRCDIR");
	return xasprintf("%s/tests/corpus/%s", dir && *dir ? dir : ".", name);
}

static char *
corpus_load(const char *name, size_t *len)
{
	char *path = corpus_path(name);
	char *data = NULL;
	if (file_read(path, 1 << 20, &data, len) < 0)
		print_error("cannot read %s\n", path);
	free(path);
	assert_non_null(data);
	return data;
}

/* Every string a parse result hands out is valid UTF-8. */
static void
check_utf8(const struct mime_msg *m)
{
	const char *s[] = {m->message_id, m->in_reply_to, m->from_name, m->from_addr,
	    m->sender_addr, m->reply_to_addr, m->to, m->cc, m->subject,
	    m->return_path, m->auto_submitted, m->precedence, m->x_autoreply,
	    m->x_autorespond, m->list_id, m->list_id_next, m->precedence_next,
	    m->list_unsubscribe_next,
	    m->list_unsubscribe, m->x_inkflow_loop, m->x_failed_recipients,
	    m->content_type, m->report_type, m->text};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i])
			assert_true(utf8_valid(s[i], strlen(s[i])));
	assert_non_null(m->subject);
	assert_non_null(m->text);
	assert_non_null(m->content_type);
	for (size_t i = 0; i < m->nrefs; i++)
		assert_true(utf8_valid(m->refs[i], strlen(m->refs[i])));
	for (size_t i = 0; i < m->nrcpt; i++)
		assert_true(utf8_valid(m->rcpt_addrs[i], strlen(m->rcpt_addrs[i])));
	for (size_t i = 0; i < m->natts; i++) {
		const struct mime_att *a = &m->atts[i];
		if (a->filename)
			assert_true(utf8_valid(a->filename, strlen(a->filename)));
		assert_non_null(a->content_type);
		assert_non_null(a->data);
	}
	for (size_t i = 0; i < m->nnotes; i++)
		assert_true(utf8_valid(m->notes[i], strlen(m->notes[i])));
}

/* ------------------------------------------------------------------ */
/* RFC 2047 */

static void
test_rfc2047_b_q(void **state)
{
	(void)state;
	dec_eq("=?UTF-8?B?WmHFvMOzxYLEhyBnxJnFm2zEhSBqYcW6xYQ=?=", "Zażółć gęślą jaźń");
	dec_eq("=?utf-8?b?WmHFvMOzxYLEhyBnxJnFm2zEhSBqYcW6xYQ=?=", "Zażółć gęślą jaźń");
	dec_eq("=?utf-8?q?Za=C5=BC=C3=B3=C5=82=C4=87_g=C4=99=C5=9Bl=C4=85_ja=C5=BA=C5=84?=",
	    "Zażółć gęślą jaźń");
	dec_eq("=?ISO-8859-2?Q?=A3=F3d=BC?=", "Łódź");
	dec_eq("=?windows-1250?B?WmFt83dpZW5pZSCWIGJhbmVy?=", "Zamówienie – baner");
	dec_eq("=?iso-8859-1?q?Gr=F6=DFe_=96_=DCbergabe,_Stra=DFe?=",
	    "Größe – Übergabe, Straße");
	dec_eq("=?utf-8?Q?Anfrage_Werbebanner_3=C3=971_m?=", "Anfrage Werbebanner 3×1 m");
	/* lowercase hex digits in Q, RFC 2231 language suffix */
	dec_eq("=?utf-8*pl?q?=c5=81=c3=b3d=c5=ba?=", "Łódź");
	dec_eq("plain ASCII subject", "plain ASCII subject");
	dec_eq("", "");
}

static void
test_rfc2047_split_char(void **state)
{
	(void)state;
	/* B words cut inside "Ł" and inside "ź" */
	dec_eq("=?utf-8?B?xQ==?= =?utf-8?B?gcOz?= =?utf-8?B?ZMW6?=", "Łódź");
	/* Q words cut inside a character, folded */
	dec_eq("=?UTF-8?Q?=C5?=\r\n =?UTF-8?Q?=81=C3=B3d=C5?=\r\n\t=?UTF-8?Q?=BA?=", "Łódź");
	/* same charset spelt differently still joins */
	dec_eq("=?UTF-8?Q?=C5?= =?utf-8?Q?=81?=", "Ł");
}

static void
test_rfc2047_adjacent_joined(void **state)
{
	(void)state;
	dec_eq("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");
	dec_eq("=?utf-8?q?a?=\r\n   =?utf-8?q?b?=", "ab");
	dec_eq("=?utf-8?q?a_?= =?utf-8?q?b?=", "a b");
	dec_eq("=?utf-8?q?a?= b", "a b");
	dec_eq("a =?utf-8?q?b?= c", "a b c");
	dec_eq("Re: [INK-42] =?UTF-8?Q?Oferta_=E2=80=93_baner?=", "Re: [INK-42] Oferta – baner");
	/* unfolding of plain text */
	dec_eq("Zapytanie ofertowe\r\n na baner", "Zapytanie ofertowe na baner");
}

static void
test_rfc2047_mixed_charsets(void **state)
{
	(void)state;
	dec_eq("=?iso-8859-2?q?=A3=F3d=BC_?= =?utf-8?q?i_Krak=C3=B3w_?= "
	    "=?windows-1250?q?=8Cl=B9sk?=", "Łódź i Kraków Śląsk");
	dec_eq("=?ISO-8859-2?Q?Wycena:_?= =?utf-8?b?xbzDs8WC?=", "Wycena: żół");
}

static void
test_rfc2047_invalid_kept(void **state)
{
	(void)state;
	dec_eq("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	dec_eq("=?utf-8?q?abc", "=?utf-8?q?abc");
	dec_eq("=??q?abc?=", "=??q?abc?=");
	dec_eq("cena =? 5 zł", "cena =? 5 zł");
	/* controls and encoded CR/LF never survive */
	dec_eq("=?utf-8?q?a=0D=0Ab=00c?=", "a  bc");
	/* C1 controls (CSI U+009B, NEL U+0085) neither, other Latin-1 stays */
	dec_eq("=?utf-8?q?a=C2=9B31mb=C2=85c_=C2=A0=C3=B3?=", "a 31mb c \xc2\xa0\xc3\xb3");
	char *s = mime_decode_header("=?utf-8?b?////?=");
	assert_true(utf8_valid(s, strlen(s)));
	free(s);
}

static void
test_defect_ew_in_quotes(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: \"=?iso-8859-2?Q?Pawe=B3_Wi=B6niewski?=\" <P.Wisniewski@Reklama-Baltyk.pl>\n"
	    "To: \"=?utf-8?Q?Biuro_BMT_=E2=80=93_zam=C3=B3wienia?=\" <biuro@bmt.example>\n"
	    "Subject: test\n"
	    "\n"
	    "body\n");
	assert_string_equal(m->from_name, "Paweł Wiśniewski");
	assert_string_equal(m->from_addr, "p.wisniewski@reklama-baltyk.pl");
	assert_string_equal(m->rcpt_addrs[0], "biuro@bmt.example");
	want_note(m, "encoded words inside a quoted display name");
	mime_msg_free(m);
}

static void
test_defect_ew_sloppy(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: Re:=?utf-8?q?Wycena_baner=C3=B3w?= =?utf-8?q?Oferta na baner?=\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "Re:Wycena banerówOferta na baner");
	want_note(m, "encoded words glued to text or holding spaces");
	mime_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* charsets */

static void
test_charset_conversions(void **state)
{
	(void)state;
	conv_eq("utf-8", "Zażółć gęślą jaźń", "Zażółć gęślą jaźń");
	conv_eq("iso-8859-2", "\xa3\xf3" "d\xbc", "Łódź");
	conv_eq("windows-1250", "\xa3\xf3" "d\x9f", "Łódź");
	conv_eq("windows-1250", "\x8cl\xb9sk", "Śląsk");
	/* ISO-8859-1 is read as Windows-1252 */
	conv_eq("ISO-8859-1", "\x80 \x93Gr\xf6\xdf" "e\x94", "€ “Größe”");
	conv_eq("iso-8859-1", "Gr\xf6\xdf" "e \xdc" "bergabe", "Größe Übergabe");
	/* no label: valid UTF-8 stays, anything else is Windows-1250 */
	conv_eq(NULL, "Łódź", "Łódź");
	conv_eq(NULL, "Dzie\xf1 dobry \x84" "baner\x94 \x96 3\xd7" "1 m",
	    "Dzień dobry „baner” – 3×1 m");
	conv_eq(NULL, "Gr\xf6\xdf" "e", "Größe");
	/* NUL bytes are dropped, never passed on */
	char *s = mime_to_utf8("utf-8", "a\0b", 3);
	assert_string_equal(s, "ab");
	free(s);
	s = mime_to_utf8("utf-16le", "a\0b\0", 4);
	assert_string_equal(s, "ab");
	free(s);
	s = mime_to_utf8("koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", 6);
	assert_string_equal(s, "Привет");
	free(s);
}

/* What real mail gets wrong about its charset. */
static void
test_charset_real_world(void **state)
{
	(void)state;
	/* UTF-8 labelled as a single-byte charset (web forms, webmail) */
	conv_eq("iso-8859-2", "Prosz\xc4\x99 o wycen\xc4\x99 wizyt\xc3\xb3wek",
	    "Proszę o wycenę wizytówek");
	conv_eq("windows-1250", "Gr\xc3\xb6\xc3\x9f" "e \xe2\x80\x93 3 m \xe2\x82\xac",
	    "Größe – 3 m €");
	conv_eq("iso-8859-1", "Danke \xf0\x9f\x91\x8d \xc3\xbc", "Danke 👍 ü");
	/* ...but single-byte text that happens to be valid UTF-8 of another
	 * script stays what its label says: "PÓŁKA" is not U+04E3 */
	conv_eq("iso-8859-2", "P\xd3\xa3KA", "PÓŁKA");
	conv_eq("iso-8859-2", "\xa3\xf3" "d\xbc", "Łódź");
	/* unlabelled 8-bit text: ISO-8859-2 when its letters say so, else
	 * Windows-1250 */
	conv_eq(NULL, "Marianna \xa6liwi\xf1ska", "Marianna Śliwińska");
	conv_eq(NULL, "\xb1\xb6\xbc \xa1\xa6\xac", "ąśź ĄŚŹ");
	conv_eq(NULL, "Marianna \x8cliwi\xf1ska", "Marianna Śliwińska");
	conv_eq(NULL, "\xb9\x9c\x9f \x84" "x\x94 \xb1", "ąśź „x” ±");
	/* labels iconv does not know, for what they mean */
	conv_eq("ks_c_5601-1987", "\xc7\xd1\xb1\xb9", "한국");
	conv_eq("iso-8859-8-i", "\xf9\xec\xe5\xed", "שלום");
	conv_eq("x-mac-ce", "\x88", "ą");
	/* Polish Windows-1250 or ISO-8859-2 text labelled Latin-1 (PHP forms,
	 * old programs); Latin-1 text with the same signs stays Latin-1 */
	conv_eq("iso-8859-1", "Dzie\xf1 dobry, prosz\xea o wycen\xea \x96 \xa3\xf3" "d\x9f",
	    "Dzień dobry, proszę o wycenę – Łódź");
	conv_eq("iso-8859-1", "Mo\xbf" "e ma\xb3y baner?", "Może mały baner?");
	conv_eq("windows-1252", "Sz\xb3o du\xbf" "o", "Szło dużo");
	conv_eq("iso-8859-1", "Za\xbf\xf3\xb3\xe6 g\xea\xb6l\xb1 ja\xbc\xf1", "Zażółć gęślą jaźń");
	conv_eq("iso-8859-1", "Gr\xf6\xdf" "e 3 m\xb3, Preis \xb1 5 %, \xbf" "Qu\xe9? 1\xbc Seite, \xa3" "20",
	    "Größe 3 m³, Preis ± 5 %, ¿Qué? 1¼ Seite, £20");
	conv_eq("windows-1252", "c\x9cur, \xe0 l'\xe9t\xe9", "cœur, à l'été");
	/* Icelandic, with a spam in GB2312 quoted under it: letters Polish
	 * does not have (ð þ æ) outweigh the signs beside letters */
	conv_eq("iso-8859-1", "skilabo\xf0. Ef \xfe\xfa telur \xfe" "a\xf0 samr\xe6mast\n"
	    "> \xb2\xce \xbb\xe1 \xb5\xa5 \xc3\xfb \xb3\xc6\xa3\xba",
	    "skilaboð. Ef þú telur það samræmast\n> ²Î »á µ¥ Ãû ³Æ£º");
	conv_eq("unicode-1-1-utf-7", "Za+AXwA8wFCAQc- g+ARkBWw-l+AQU-", "Zażółć gęślą");
	/* a header with unencoded ISO-8859-2 */
	char *h = mime_decode_header("\"Marianna \xa6liwi\xf1ska\" <m@onet.pl>");
	assert_string_equal(h, "\"Marianna Śliwińska\" <m@onet.pl>");
	free(h);
	/* a byte-order mark does not start the text */
	struct mime_msg *m = parse("From: a@b.pl\nSubject: x\nMIME-Version: 1.0\n"
	                           "Content-Type: text/plain; charset=utf-8\n"
	                           "Content-Transfer-Encoding: base64\n\n"
	                           "77u/QVBQUk9WRQo=\n");
	assert_string_equal(m->text, "APPROVE\n");
	mime_msg_free(m);
}

/* A header line that is neither a field nor folded, with the rest of the
 * header after it: folded into the field before, as other readers do. */
static void
test_header_unfolded_line(void **state)
{
	(void)state;
	struct mime_msg *m = parse("Received: from x (HELO y)\n"
	                           "by localhost with SMTP; Mon, 1 Jan 2024 10:00:00 +0100\n"
	                           "From: Jan <jan@firma.pl>\nSubject: Zapytanie\n"
	                           "Content-Type: text/plain; charset=utf-8\n\nTre\xc5\x9b\xc4\x87\n");
	assert_string_equal(m->from_addr, "jan@firma.pl");
	assert_string_equal(m->subject, "Zapytanie");
	assert_string_equal(m->text, "Treść\n");
	mime_msg_free(m);
	/* A body that starts without a blank line stays the body, even with a
	 * line that looks like a field in it. */
	m = parse("From: a@b.pl\nSubject: x\nDzie\xc5\x84 dobry,\nTermin: pi\xc4\x85tek\n");
	assert_string_equal(m->from_addr, "a@b.pl");
	assert_non_null(strstr(m->text, "Dzień dobry,"));
	assert_non_null(strstr(m->text, "Termin: piątek"));
	mime_msg_free(m);
}

static void
test_charset_labels(void **state)
{
	(void)state;
	const char *utf8[] = {"UTF-8", "utf8", "\"utf-8\"", "Utf-8", " UTF-8 ", "'utf-8'", NULL};
	for (int i = 0; utf8[i]; i++)
		conv_eq(utf8[i], "Łódź", "Łódź");
	const char *l2[] = {"ISO-8859-2", "iso8859-2", "ISO_8859-2", "latin2", "L2",
	    "\"iso-8859-2\"", "iso-8859-2:1987", NULL};
	for (int i = 0; l2[i]; i++)
		conv_eq(l2[i], "\xa3\xf3" "d\xbc", "Łódź");
	const char *w[] = {"windows-1250", "WINDOWS-1250", "cp1250", "CP1250", "x-cp1250",
	    "win-1250", "\"Windows-1250\"", NULL};
	for (int i = 0; w[i]; i++)
		conv_eq(w[i], "\xa3\xf3" "d\x9f", "Łódź");
	conv_eq("latin1", "\xe4\xf6\xfc", "äöü");
	conv_eq("us-ascii", "plain", "plain");

	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=\"Windows-1250\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "=A3=F3d=9F\n");
	assert_string_equal(m->text, "Łódź\n");
	assert_int_equal(m->nnotes, 0);
	mime_msg_free(m);
}

static void
test_defect_unknown_charset(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: =?x-mac-polish-bogus?q?Zapytanie?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=x-unknown-encoding\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Dzie\xc5\x84 dobry\n");
	assert_string_equal(m->subject, "Zapytanie");
	assert_string_equal(m->text, "Dzień dobry\n");
	want_note(m, "unknown charset label \"x-unknown-encoding\"");
	mime_msg_free(m);
	char *s = mime_to_utf8("no-such-charset", "\xa3\xf3" "d\x9f", 4);
	assert_string_equal(s, "Łódź");
	free(s);
	/* a label with characters no charset has is never given to iconv */
	s = mime_to_utf8("../../lib/gconv/x", "abc", 3);
	assert_string_equal(s, "abc");
	free(s);
}

static void
test_defect_ascii_with_8bit(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "Prosz\xea o wycen\xea baneru 3\xd7" "1 m\n");
	assert_string_equal(m->text, "Proszę o wycenę baneru 3×1 m\n");
	want_note(m, "us-ascii declared but 8-bit data");
	mime_msg_free(m);
}

static void
test_defect_latin2_cp1250(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=iso-8859-2\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "=84=8Cwi=B9teczna=94 oferta\n");
	assert_string_equal(m->text, "„Świąteczna” oferta\n");
	want_note(m, "iso-8859-2 declared but Windows-1250 bytes");
	mime_msg_free(m);
}

static void
test_defect_bad_utf8(void **state)
{
	(void)state;
	/* no valid multi-byte sequence at all: really Windows-1250 */
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "\xa3\xf3" "d\x9f\n");
	assert_string_equal(m->text, "Łódź\n");
	want_note(m, "invalid UTF-8");
	mime_msg_free(m);
	/* mostly UTF-8 with one stray byte: replacement character */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "\xc5\x81\xc3\xb3" "d\xff\n");
	assert_string_equal(m->text, "Łód\xef\xbf\xbd\n");
	mime_msg_free(m);
}

static void
test_defect_undeclared_8bit_body(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "Dzie\xf1 dobry, prosz\xea o wycen\xea \x84" "baneru\x94 \x96 3\xd7" "1 m\n");
	assert_string_equal(m->text, "Dzień dobry, proszę o wycenę „baneru” – 3×1 m\n");
	want_note(m, "undeclared 8-bit text in a body part");
	mime_msg_free(m);
	/* undeclared UTF-8 stays UTF-8 */
	m = parse("From: a@wp.pl\nSubject: x\n\nGr\xc3\xb6\xc3\x9f" "e\n");
	assert_string_equal(m->text, "Größe\n");
	mime_msg_free(m);
}

static void
test_defect_8bit_headers(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: \xa3ukasz D\xb9" "browski <l.dabrowski@wp.pl>\n"
	    "To: biuro@bmt.example\n"
	    "Subject: Zapytanie \x96 baner \xa3\xf3" "d\x9f\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "Zapytanie – baner Łódź");
	assert_string_equal(m->from_name, "Łukasz Dąbrowski");
	want_note(m, "8-bit header text without encoding in Subject");
	mime_msg_free(m);
	m = parse("From: a@wp.pl\nSubject: Gr\xc3\xb6\xc3\x9f" "e \xe2\x80\x93 \xc5\x81\xc3\xb3" "d\xc5\xba\n\nx\n");
	assert_string_equal(m->subject, "Größe – Łódź");
	mime_msg_free(m);
}

static void
test_defect_utf8_cut(void **state)
{
	(void)state;
	/* raw UTF-8 cut inside its last character (a form that cuts the
	 * subject at a byte count, Yahoo's long attachment names): UTF-8
	 * with a replacement character, not Windows-1250 */
	struct mime_msg *m = parse(
	    "From: Zam\xc3\xb3wienia \xc5\x81\xc3\xb3" "d\xc5 <biuro@firma.example>\n"
	    "Subject: Wycena: naklejki \xc5\x9b" "cienne, \xc5\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "x\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=\"Projekt ok\xc5\x82" "adki \xe2\x80\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b--\n");
	assert_string_equal(m->from_name, "Zamówienia Łód\xef\xbf\xbd");
	assert_string_equal(m->subject, "Wycena: naklejki ścienne, \xef\xbf\xbd");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "Projekt okładki \xef\xbf\xbd\xef\xbf\xbd");
	mime_msg_free(m);
	/* Windows-1250 ending in a letter that is a UTF-8 lead byte stays
	 * Windows-1250 */
	m = parse("From: a@wp.pl\nSubject: Pi\xeaknie dzi\xeakuj\xea, \xa3\xd3\n\nx\n");
	assert_string_equal(m->subject, "Pięknie dziękuję, ŁÓ");
	mime_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* parameters: RFC 2231 and friends */

static void
test_rfc2231_simple(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "tekst\n"
	    "--b\n"
	    "Content-Type: application/pdf;\n"
	    " name*=UTF-8''Projekt_baneru_%C5%81%C3%B3d%C5%BA.pdf\n"
	    "Content-Disposition: attachment;\n"
	    " filename*=UTF-8''Projekt_baneru_%C5%81%C3%B3d%C5%BA.pdf\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b\n"
	    "Content-Type: application/pdf; name*=iso-8859-2'pl'%A3%F3d%BC.pdf\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b\n"
	    "Content-Type: application/pdf\n"
	    "Content-Disposition: attachment; filename*=\"utf-8'pl'Gr%C3%B6%C3%9Fe.pdf\"\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b--\n");
	assert_int_equal(m->natts, 3);
	assert_non_null(att_named(m, "Projekt_baneru_Łódź.pdf"));
	assert_non_null(att_named(m, "Łódź.pdf"));
	assert_non_null(att_named(m, "Größe.pdf"));
	assert_string_equal(m->text, "tekst");
	mime_msg_free(m);
}

static void
test_rfc2231_continuations(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: application/pdf\n"
	    "Content-Disposition: attachment;\n"
	    " filename*0*=UTF-8''Projekt_baneru_%C5;\n"
	    " filename*2*=d%C5%BA.pdf;\n"
	    " filename*1*=%81%C3%B3\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b\n"
	    "Content-Type: application/pdf\n"
	    "Content-Disposition: attachment; filename*0=\"Oferta_\"; filename*1=\"2026.pdf\"\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b\n"
	    "Content-Type: application/pdf\n"
	    "Content-Disposition: attachment; filename*0=\"Luka_\"; filename*2=\"koniec.pdf\"\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b--\n");
	assert_int_equal(m->natts, 3);
	assert_string_equal(m->atts[0].filename, "Projekt_baneru_Łódź.pdf");
	assert_string_equal(m->atts[1].filename, "Oferta_2026.pdf");
	assert_string_equal(m->atts[2].filename, "Luka_koniec.pdf");
	want_note(m, "RFC 2231 continuations with gaps");
	mime_msg_free(m);

	/* the charset on the first encoded segment, not the first one; the
	 * language's quote missing; an apostrophe in a later segment's text */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nx\n"
	    "--b\nContent-Type: image/gif; name*0=\"Projekt \"; name*1*=utf-8''%C5%81%C3%B3d%C5%BA.gif\n\nx\n"
	    "--b\nContent-Type: application/pdf\nContent-Disposition: attachment;"
	    " filename*=utf-8'Oferta_%C5%BC%C3%B3%C5%82ta.pdf\n\nx\n"
	    "--b\nContent-Type: application/pdf; name*0*=utf-8''O; name*1*=%27Brien's.pdf\n\nx\n--b--\n");
	assert_int_equal(m->natts, 3);
	assert_string_equal(m->atts[0].filename, "Projekt Łódź.gif");
	assert_string_equal(m->atts[1].filename, "Oferta_żółta.pdf");
	assert_string_equal(m->atts[2].filename, "O'Brien's.pdf");
	mime_msg_free(m);
}

static void
test_defect_rfc2047_filename(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@gmail.com\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: application/pdf;\n"
	    "\tname=\"=?UTF-8?B?UHJvamVrdCBiYW5lcnUgxYHDs2TFui5wZGY=?=\"\n"
	    "Content-Disposition: attachment;\n"
	    "\tfilename=\"=?UTF-8?B?UHJvamVrdCBiYW5lcnUgxYHDs2TFui5wZGY=?=\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b\n"
	    "Content-Type: image/jpeg; name=\"=?iso-8859-2?Q?skan_=B6rodek.jpg?=\"\n"
	    "Content-Disposition: attachment;\n"
	    "\tfilename=\"=?iso-8859-2?Q?skan_=B6rodek?=\n"
	    " =?iso-8859-2?Q?.jpg?=\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "/9j/4AAQ\n"
	    "--b--\n");
	assert_int_equal(m->natts, 2);
	const struct mime_att *a = att_named(m, "Projekt baneru Łódź.pdf");
	assert_non_null(a);
	assert_int_equal(a->len, 9);
	assert_memory_equal(a->data, "%PDF-1.4\n", 9);
	assert_non_null(att_named(m, "skan środek.jpg"));
	want_note(m, "RFC 2047 encoded words in parameter filename");
	mime_msg_free(m);
}

static void
test_defect_unquoted_param(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=Projekt baneru v2.pdf\n"
	    "Content-Disposition: attachment; filename=Projekt baneru v2.pdf\n"
	    "\n"
	    "%PDF-1.4\n"
	    "--b\n"
	    "Content-Type: image/png\n"
	    "Content-Disposition: attachment; filename=\"logo firmy.png\n"
	    "\n"
	    "png\n"
	    "--b--\n");
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].filename, "Projekt baneru v2.pdf");
	assert_string_equal(m->atts[1].filename, "logo firmy.png");
	want_note(m, "unquoted parameter value with spaces");
	want_note(m, "unterminated quoted parameter value");
	mime_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* body and attachments */

static void
test_body_prefers_plain(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"alt\"\n"
	    "\n"
	    "--alt\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Wersja tekstowa\n"
	    "--alt\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "\n"
	    "<p>Wersja <b>HTML</b></p>\n"
	    "--alt--\n");
	assert_string_equal(m->text, "Wersja tekstowa");
	assert_int_equal(m->text_from_html, 0);
	assert_int_equal(m->natts, 0);
	assert_string_equal(m->content_type, "multipart/alternative");
	mime_msg_free(m);

	/* an empty text/plain alternative loses to the HTML one */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"alt\"\n"
	    "\n"
	    "--alt\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    " \n"
	    "--alt\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "\n"
	    "<p>Tylko HTML</p>\n"
	    "--alt--\n");
	assert_string_equal(m->text, "Tylko HTML");
	assert_int_equal(m->text_from_html, 1);
	mime_msg_free(m);
}

static void
test_body_html_only(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=iso-8859-2\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "<html><head><style>p {color:red}</style><script>alert(1)</script></head>=\n"
	    "<body><p>Dzie=F1 dobry,</p><p>prosz=EA o wycen=EA &ndash; baner&nbsp;3&times;1&nbsp;m.<br>=\n"
	    "Pozdrawiam<br>Jan</p></body></html>\n");
	assert_string_equal(m->text, "Dzień dobry,\n\nproszę o wycenę – baner 3×1 m.\nPozdrawiam\nJan");
	assert_int_equal(m->text_from_html, 1);
	assert_string_equal(m->content_type, "text/html");
	mime_msg_free(m);
}

static void
test_body_multiple_inline_plain(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"Apple-Mail=_1\"\n"
	    "\n"
	    "--Apple-Mail=_1\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Część pierwsza:\n"
	    "--Apple-Mail=_1\n"
	    "Content-Type: image/jpeg; name=foto.jpg\n"
	    "Content-Disposition: inline; filename=foto.jpg\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "/9j/4AAQ\n"
	    "--Apple-Mail=_1\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Część druga.\n"
	    "--Apple-Mail=_1--\n");
	assert_string_equal(m->text, "Część pierwsza:\nCzęść druga.");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "foto.jpg");
	assert_int_equal(m->atts[0].is_inline, 1);
	assert_int_equal(m->atts[0].len, 6);
	mime_msg_free(m);
}

static const char EMBEDDED[] =
    "From: =?UTF-8?Q?Grzegorz_W=C3=B3jcik?= <g.wojcik@gmail.com>\r\n"
    "Subject: =?UTF-8?Q?Zapytanie_=E2=80=93_tablice?=\r\n"
    "Message-ID: <inner@gmail.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"in\"\r\n"
    "\r\n"
    "--in\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Tekst wewnetrzny\r\n"
    "--in\r\n"
    "Content-Type: application/pdf; name=wewnetrzny.pdf\r\n"
    "\r\n"
    "%PDF-1.4\r\n"
    "--in--\r\n";

/* Opaque S/MIME: made with `openssl smime -sign -nodetach` and
 * `openssl smime -encrypt` for this test, with a throwaway self-signed
 * certificate.  The signed content is a multipart/mixed entity: Polish
 * text and a PDF named "projekt ulotki żółty.pdf" (RFC 2231). */
#define P7M_SIGNED_B64 \
	"MIIH4QYJKoZIhvcNAQcCoIIH0jCCB84CAQExDzANBglghkgBZQMEAgEFADCCAeIG\r\n" \
	"CSqGSIb3DQEHAaCCAdMEggHPQ29udGVudC1UeXBlOiBtdWx0aXBhcnQvbWl4ZWQ7\r\n" \
	"IGJvdW5kYXJ5PSJpbjEiDQoNCi0taW4xDQpDb250ZW50LVR5cGU6IHRleHQvcGxh\r\n" \
	"aW47IGNoYXJzZXQ9dXRmLTgNCkNvbnRlbnQtVHJhbnNmZXItRW5jb2Rpbmc6IDhi\r\n" \
	"aXQNCg0KRHppZcWEIGRvYnJ5LA0KcHJvc3rEmSBvIHd5Y2VuxJkgMjAwIHVsb3Rl\r\n" \
	"ayBBNS4NCg0KLS1pbjENCkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vcGRmOyBu\r\n" \
	"YW1lPSJwcm9qZWt0IHVsb3RraS5wZGYiDQpDb250ZW50LURpc3Bvc2l0aW9uOiBh\r\n" \
	"dHRhY2htZW50OyBmaWxlbmFtZSo9dXRmLTgnJ3Byb2pla3QlMjB1bG90a2klMjAl\r\n" \
	"QzUlQkMlQzMlQjMlQzUlODJ0eS5wZGYNCkNvbnRlbnQtVHJhbnNmZXItRW5jb2Rp\r\n" \
	"bmc6IGJhc2U2NA0KDQpKVkJFUmkweExqUUtKY09rdzd6RHRzT2ZDakVnTUNCdllt\r\n" \
	"b0tQRHd2Vkhsd1pTOURZWFJoYkc5blBqNEtaVzVrYjJKcUNnPT0NCi0taW4xLS0N\r\n" \
	"CqCCA2MwggNfMIICR6ADAgECAhQMHnoI3V7/VFl4dsNp5PT6CObX3DANBgkqhkiG\r\n" \
	"9w0BAQsFADA/MRowGAYDVQQDDBFBbm5hIFppZWxpw4XChHNrYTEhMB8GCSqGSIb3\r\n" \
	"DQEJARYSYW5uYUBrdW5kZS5leGFtcGxlMB4XDTI2MTEyODE2MDcwN1oXDTM2MTEy\r\n" \
	"NTE2MDcwN1owPzEaMBgGA1UEAwwRQW5uYSBaaWVsacOFwoRza2ExITAfBgkqhkiG\r\n" \
	"9w0BCQEWEmFubmFAa3VuZGUuZXhhbXBsZTCCASIwDQYJKoZIhvcNAQEBBQADggEP\r\n" \
	"ADCCAQoCggEBAMESgZTbDys6/J/hLG/Ii+rny38XI/paDb0JXpyvngrgOMmInPcq\r\n" \
	"teXizlL544HgbXOAseEWyvFOOhoWtMhSmtFnid+cK8PeL7njVZ9YkCXMuWHclwDS\r\n" \
	"2qBy1CGyo3E+E5OItLmIa9AGj1XydDoHPfPf6GQshmtsTC+hHM17e2Tt56ySg+DC\r\n" \
	"4KrPpLOuLdV+YiKk7pynnMVSYfOiwljgoBw5Y9SzONn/EJ4SHLUTKgTG3waGMGzN\r\n" \
	"3SdTNBxe05DBB42exDPEyWVYAFifVftPyItUI1WUzucORmvyrUU695mJgpjHxghM\r\n" \
	"iXnDGTXX5+XMWZwaDMxrumIbVton1sryzFMCAwEAAaNTMFEwHQYDVR0OBBYEFF+z\r\n" \
	"WkNzE+wPht4IMjP3WzAtqTuWMB8GA1UdIwQYMBaAFF+zWkNzE+wPht4IMjP3WzAt\r\n" \
	"qTuWMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBABl+DAtYjwtZ\r\n" \
	"hIBJbVynazshgpLY7660IPV4L8gIUhMqotgs7OckUihUd71IEgalC4ODBIlbFNhF\r\n" \
	"4HXYcHkvPMFnAxkXFta9J+OZpJCMtxD1vdcJkitDRGrmfoHJ7nAU6Vqo23VQ23yu\r\n" \
	"3GrJP1mLzagoTFEOwHJ3M/DcRbnsxFJ158FfgHl+rrlXKpqa6F1rcOXYRfcU+U9X\r\n" \
	"mFUaLs5q63vT3pOMlBQNnNqjO2QwNcjjBTweTpo6+y35aIBAcnZmtlM0AbSwXqfW\r\n" \
	"QmNbcEFYAurrpqKbkWpX3sCLTSD5wMW0cCJ7m2+Xp3/lwQsYe1W5PmgqKwluIb5f\r\n" \
	"lSInpxJ5xo0xggJpMIICZQIBATBXMD8xGjAYBgNVBAMMEUFubmEgWmllbGnDhcKE\r\n" \
	"c2thMSEwHwYJKoZIhvcNAQkBFhJhbm5hQGt1bmRlLmV4YW1wbGUCFAweegjdXv9U\r\n" \
	"WXh2w2nk9PoI5tfcMA0GCWCGSAFlAwQCAQUAoIHkMBgGCSqGSIb3DQEJAzELBgkq\r\n" \
	"hkiG9w0BBwEwHAYJKoZIhvcNAQkFMQ8XDTI2MTEyODE2MDcwN1owLwYJKoZIhvcN\r\n" \
	"AQkEMSIEIJZQl7yW0riP2oOrxPb30BrX4J7HV2BDwrsFB4318lsrMHkGCSqGSIb3\r\n" \
	"DQEJDzFsMGowCwYJYIZIAWUDBAEqMAsGCWCGSAFlAwQBFjALBglghkgBZQMEAQIw\r\n" \
	"CgYIKoZIhvcNAwcwDgYIKoZIhvcNAwICAgCAMA0GCCqGSIb3DQMCAgFAMAcGBSsO\r\n" \
	"AwIHMA0GCCqGSIb3DQMCAgEoMA0GCSqGSIb3DQEBAQUABIIBACPbHPMj1cm73CaR\r\n" \
	"wFhwtNM86udHt6RRjKZWPCLZD5/iGmOB74zcyPsUmqp0yxyTypXQzTsgmgun5qEx\r\n" \
	"bdP5bMknk7grAXRVtAyf+qkDm+I3B7u1kJttMZRQ+ixM9/VQFRM8zazYAh3QVsEK\r\n" \
	"4n5Dfcn2Prgzt6v5evCKYo9jPcNssQEYa5wc7K32m+3DVZqVmHRpFkMJfF6GGLl1\r\n" \
	"W0Qnkh9VP20rSIqoHYUJo2HgG5ifZ38K7Z72LsptCu+efIGD8xKY1JNPY6v2N2ys\r\n" \
	"5wqGe+LXPc7q0caVIlsMzvLFoWDcsM3ryWT0wAEBZuMtkPv4i2/a9uIMlc2SfSt1\r\n" \
	"J2OWV4c=\r\n"

#define P7M_ENVELOPED_B64 \
	"MIIDhgYJKoZIhvcNAQcDoIIDdzCCA3MCAQAxggFzMIIBbwIBADBXMD8xGjAYBgNV\r\n" \
	"BAMMEUFubmEgWmllbGnDhcKEc2thMSEwHwYJKoZIhvcNAQkBFhJhbm5hQGt1bmRl\r\n" \
	"LmV4YW1wbGUCFAweegjdXv9UWXh2w2nk9PoI5tfcMA0GCSqGSIb3DQEBAQUABIIB\r\n" \
	"AH8/7F2zPBn5ahqTXHfuhn8biiUnt0pf62EXqYkuV7SjxTGYBIVmnR5VLGpGRFO6\r\n" \
	"YJAQ4MxGA3rJ+Q2sWLgoDet27xrsBjBRGZNJOi3PiaPeOhmIaPqBibL4Jjyynk6P\r\n" \
	"Weo53/a4UZm7U5dRkL6CZqVZX8yupjRqbe0l20H4hvvVpffGAxV+bHqBC+tM4G5Y\r\n" \
	"1zi2sHw2d8RpJdwLCPytATuTcaOv31e+0ZfUgbJPdpOsuuSEjTRS9XZxfEF9QRGT\r\n" \
	"fgCW4wZra1GN6L1rJwEZwAuy1IiU879USfY77QVEENcwIa9ziS307udGTFCKYKCx\r\n" \
	"pF7N0DeGkxE5CKn/8zP2Bn0wggH1BgkqhkiG9w0BBwEwFAYIKoZIhvcNAwcECHgC\r\n" \
	"fpMXvsGvgIIB0L3fYD/a1l8cA5bRes2QwmDGmU9bPFvamRXUHCTihZ3lV7D3oyu1\r\n" \
	"gBFa7kWuZtgYqVY3448Q8e+pqxrtWplm4AjIyYPCmqCTTNSaNdWO2GIo0iGkCjlX\r\n" \
	"ofWVWhR5ooHKIpAoXJh4hwpH3+qHWhvnUqpoCHomN7CcuTP1DMnOlcPTiIeqB8Sr\r\n" \
	"U4J8zg1QWNqtDvjc3ABTYl7FlJ2jHJFnKNy6Ka1QBBlSfT+YQgltKmv0EGh7kp41\r\n" \
	"9D7wwM+P9eRd3PuSbJjaywfxRQNn4Om3qkkLC2VWxzOGpDMRJDy3I8HN1z4UmE3V\r\n" \
	"z2h+Kiioasi9PoU621Z+U5QQf2tpVKKrdfDalChGifTUap7VfCDwyg2d+jN8FUkj\r\n" \
	"60+uuZ3YqUMS8/BqDfdMx5gOujTgbX2qgTo/mEbR9uWaXA2DZSV2siXvY7Cqc3aw\r\n" \
	"UCIlOhM0QLDG5k3yBQ/dNkBGAysVw1e/Cq3BTCPueHSZJey4t2wXalPT3r2M/vmP\r\n" \
	"92XsWHqERfO7arqW7SlqsEXPgtH04KUQvZ5NdClMb1oU9s90PXpnuPEpRX491cRs\r\n" \
	"jpWPgAoow3f1XqkykE6EvKVutBSIwpu1t1xEbOglkhyNWHc1DdeA4Eb3\r\n"

static struct mime_msg *
p7m_message(const char *type, const char *b64, size_t b64len)
{
	struct sbuf sb = {0};
	sb_printf(&sb, "From: Anna Zielińska <anna@kunde.example>\r\n"
	    "Subject: Zapytanie: ulotki A5\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
	    "Content-Type: %s; name=\"smime.p7m\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n", type);
	sb_add(&sb, b64, b64len);
	struct mime_msg *m = parse_lim(sb.s, sb.len, NULL);
	sb_free(&sb);
	return m;
}

static void
test_smime_opaque(void **state)
{
	(void)state;
	/* signed: the signed text and attachment take the .p7m's place */
	struct mime_msg *m = p7m_message("application/x-pkcs7-mime; smime-type=signed-data",
	    P7M_SIGNED_B64, strlen(P7M_SIGNED_B64));
	assert_string_equal(m->from_addr, "anna@kunde.example");
	assert_string_equal(m->subject, "Zapytanie: ulotki A5");
	assert_string_equal(m->text, "Dzień dobry,\nproszę o wycenę 200 ulotek A5.\n");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "projekt ulotki żółty.pdf");
	assert_string_equal(m->atts[0].content_type, "application/pdf");
	assert_true(m->atts[0].len > 8);
	assert_memory_equal(m->atts[0].data, "%PDF-1.4", 8);
	assert_int_equal(m->atts[0].body_len, 0);
	assert_true(has_note(m, "opaque S/MIME signed message unpacked"));
	mime_msg_free(m);

	/* encrypted: nothing to read without the key; the .p7m stays */
	m = p7m_message("application/pkcs7-mime; smime-type=enveloped-data", P7M_ENVELOPED_B64,
	    strlen(P7M_ENVELOPED_B64));
	assert_string_equal(m->text, "");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "smime.p7m");
	assert_true(has_note(m, "encrypted S/MIME part smime.p7m"));
	assert_int_equal(m->encrypted, MIME_ENC_SMIME);
	mime_msg_free(m);

	/* cut short: not readable, kept, said so */
	m = p7m_message("application/pkcs7-mime; smime-type=signed-data", P7M_SIGNED_B64,
	    strlen(P7M_SIGNED_B64) / 2);
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].content_type, "application/pkcs7-mime");
	assert_true(has_note(m, "holds no signed content that could be read"));
	mime_msg_free(m);
}

/* Decomposed Unicode (macOS file names, text pasted from a PDF) is
 * composed: subject, sender's name, text and file names */
static void
test_nfd_composed(void **state)
{
	(void)state;
	struct mime_msg *m = parse("From: =?utf-8?Q?Jo=CC=81zef_Wo=CC=81ycicki?= <jw@klient.example>\n"
	    "Subject: =?utf-8?Q?Wydruk_zdje=CC=A8c=CC=81_-_Gro=CC=88=C3=9Fe_A2?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"Apple-Mail=_1\"\n"
	    "\n"
	    "--Apple-Mail=_1\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Prosze=CC=A8 o wycene=CC=A8 wydruku zdje=CC=A8c=CC=81. Dostawa: =C5=81o=CC=81dz=CC=81.\n"
	    "\n"
	    "--Apple-Mail=_1\n"
	    "Content-Type: image/jpeg; name*=utf-8''Zdje%CC%A8cie%20witryny.jpg\n"
	    "Content-Disposition: attachment; filename*=utf-8''Zdje%CC%A8cie%20witryny.jpg\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "/9j/4AAQ\n"
	    "--Apple-Mail=_1--\n");
	assert_string_equal(m->from_name, "Józef Wóycicki");
	assert_string_equal(m->subject, "Wydruk zdjęć - Größe A2");
	assert_non_null(strstr(m->text, "Proszę o wycenę wydruku zdjęć. Dostawa: Łódź."));
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "Zdjęcie witryny.jpg");
	assert_true(has_note(m, "decomposed Unicode (letters and combining marks apart) in the "
	                        "text and names composed (NFC)"));
	mime_msg_free(m);

	/* composed text is left as it came and nothing is noted */
	m = parse("From: =?utf-8?Q?J=C3=B3zef?= <jw@klient.example>\n"
	    "Subject: =?utf-8?Q?=E2=80=9EWycena=E2=80=9D_=E2=80=93_120_=E2=82=AC?=\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Proszę o wycenę.\n");
	assert_string_equal(m->subject, "„Wycena” – 120 €");
	assert_false(has_note(m, "decomposed"));
	mime_msg_free(m);
}

/* Unlabelled 8-bit text (raw header words, a parameter, a body part
 * without charset) is read in the charset the message labels its other
 * text with, not guessed as Polish */
static void
test_unlabelled_in_message_charset(void **state)
{
	(void)state;
	/* the sender's program labels the From name Windows-1252 and sends
	 * the subject raw */
	struct mime_msg *m = parse("From: \"=?Windows-1252?B?Rm9ybWHn428=?=\" <info@formacao.example>\n"
	    "Subject: Forma\xe7\xe3o: Campanha Ver\xe3o\n"
	    "\n"
	    "Ol\xe1, cora\xe7\xe3o\n");
	assert_string_equal(m->from_name, "Formação");
	assert_string_equal(m->subject, "Formação: Campanha Verão");
	assert_string_equal(m->text, "Olá, coração\n");
	want_note(m, "8-bit header text without encoding in Subject, read as windows-1252 "
	             "(the charset the message declares)");
	want_note(m, "undeclared 8-bit text in a body part, read as windows-1252");
	mime_msg_free(m);

	/* the body's label serves the raw subject and a raw file name */
	m = parse("From: a@klient.example\n"
	    "Subject: Caf\xe9 cr\xe8me \xe0 la carte\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Voil\xe0 le fichier.\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=\"D\xe9j\xe0 vu.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b--\n");
	assert_string_equal(m->subject, "Café crème à la carte");
	assert_string_equal(m->atts[0].filename, "Déjà vu.pdf");
	want_note(m, "8-bit parameter value name, read as iso-8859-1");
	mime_msg_free(m);

	/* a Latin-1 label elsewhere does not make raw Polish text Latin-1
	 * ("wycenę" is no "wycenê"), nor does a Polish one change the guess */
	m = parse("From: =?iso-8859-1?Q?J=F3zef_W=F3jcik?= <jw@klient.example>\n"
	    "Subject: Prosz\xea o wycen\xea \xb9\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_name, "Józef Wójcik");
	assert_string_equal(m->subject, "Proszę o wycenę ą");
	want_note(m, "8-bit header text without encoding in Subject, charset guessed");
	mime_msg_free(m);
	m = parse("From: a@klient.example\n"
	    "Subject: Zam\xf3wienie: \xb6ruby i \xb1\n"
	    "Content-Type: text/plain; charset=windows-1250\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "Zamówienie: śruby i ą");
	mime_msg_free(m);

	/* Polish text under a Latin-1 label is still read as Polish; UTF-8
	 * stays UTF-8; with no label anywhere the guess stands */
	m = parse("From: a@klient.example\n"
	    "Subject: Zam\xf3wienie \xb3\xf3\xbfko \x9cwi\xeat\xf3w\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "Zamówienie łóżko świętów");
	mime_msg_free(m);
	/* one UTF-8 sign pasted into Latin-1 text ("¿" is C2 BF after a
	 * letter-like byte): still Latin-1, the Spanish letters kept */
	m = parse("From: a@klient.example\n"
	    "Subject: x\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "\n"
	    "\xc2\xbfQu\xe9 tal? Se\xf1or Garc\xed" "a, caf\xe9\n");
	assert_non_null(strstr(m->text, "Qué tal? Señor García, café"));
	mime_msg_free(m);
	m = parse("From: a@klient.example\n"
	    "Subject: Gr\xc3\xbc\xc3\x9f\x65\n"
	    "Content-Type: text/plain; charset=windows-1252\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "Grüße");
	mime_msg_free(m);
	m = parse("From: a@klient.example\n"
	    "Subject: Prosz\xea o wycen\xea\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "Proszę o wycenę");
	want_note(m, "8-bit header text without encoding in Subject, charset guessed");
	mime_msg_free(m);
}

/* PGP/MIME (RFC 3156) and inline OpenPGP: not readable, parts kept, said so */
static void
test_pgp_encrypted(void **state)
{
	(void)state;
	struct mime_msg *m = parse("From: Jan Kowalski <jan@klient.example>\n"
	    "Subject: Zapytanie\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/encrypted;\n"
	    " protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n"
	    "\n"
	    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
	    "--enc\n"
	    "Content-Type: application/pgp-encrypted\n"
	    "Content-Description: PGP/MIME version identification\n"
	    "\n"
	    "Version: 1\n"
	    "\n"
	    "--enc\n"
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\n"
	    "\n"
	    "-----BEGIN PGP MESSAGE-----\n"
	    "\n"
	    "hF4DAAAAAAAAAAASAQdAZ2FyYmFnZQ==\n"
	    "=abcd\n"
	    "-----END PGP MESSAGE-----\n"
	    "\n"
	    "--enc--\n");
	assert_int_equal(m->encrypted, MIME_ENC_PGP);
	assert_true(has_note(m, "encrypted OpenPGP message (PGP/MIME)"));
	assert_string_equal(m->text, "");
	/* the control part ("Version: 1") is not kept as a file */
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "encrypted.asc");
	mime_msg_free(m);

	/* another protocol: encrypted all the same */
	m = parse("From: a@klient.example\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/encrypted; protocol=\"application/x-pkcs7-mime\";"
	    " boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: application/octet-stream\n"
	    "\n"
	    "xx\n"
	    "--b--\n");
	assert_int_equal(m->encrypted, MIME_ENC_OTHER);
	assert_true(has_note(m, "protocol application/x-pkcs7-mime"));
	mime_msg_free(m);

	/* inline: the armoured block stays the text, the message says why */
	m = parse("From: a@klient.example\n"
	    "Subject: Zapytanie 2\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "-----BEGIN PGP MESSAGE-----\n"
	    "\n"
	    "hF4DAAAAAAAAAAASAQdAZ2FyYmFnZQ==\n"
	    "-----END PGP MESSAGE-----\n");
	assert_int_equal(m->encrypted, MIME_ENC_PGP);
	assert_true(has_note(m, "encrypted OpenPGP text"));
	assert_non_null(strstr(m->text, "BEGIN PGP MESSAGE"));
	mime_msg_free(m);

	/* the words inside a sentence are not an armoured block; a signed
	 * text is not encrypted */
	m = parse("From: a@klient.example\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "Our tool prints -----BEGIN PGP MESSAGE----- lines, see below.\n");
	assert_int_equal(m->encrypted, 0);
	mime_msg_free(m);
	m = parse("From: a@klient.example\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "-----BEGIN PGP SIGNED MESSAGE-----\n"
	    "Hash: SHA256\n"
	    "\n"
	    "APPROVE\n"
	    "-----BEGIN PGP SIGNATURE-----\n"
	    "\n"
	    "iQEzBAEBCAAdFiEE\n"
	    "-----END PGP SIGNATURE-----\n");
	assert_int_equal(m->encrypted, 0);
	assert_string_equal(m->text, "APPROVE\n");
	mime_msg_free(m);
}

static void
test_uuencode(void **state)
{
	(void)state;
	/* Python's binascii.b2a_uu made the two blocks: 200 bytes with "`"
	 * for zero, and a PDF head with spaces, trailing ones trimmed. */
	const char *raw = "From: Jürgen Müller <j.mueller@druck-sued.example>\r\n"
	    "Subject: Anfrage Banner\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "Guten Tag,\r\n"
	    "begin 2027 wollen wir neu planen.\r\n"
	    "\r\n"
	    "begin 644 daten.bin\r\n"
	    "M`PH1&!\\F+30[0DE05UYE;'-Z@8B/EIVDJ[*YP,?.U=SCZO'X_P8-%!LB*3`W\r\n"
	    "M/D5,4UIA:&]V?82+DIF@IZZUO,/*T=C?YNWT^P()$!<>)2PS.D%(3U9=9&MR\r\n"
	    "M>8\"'CI6<HZJQN+_&S=3;XNGP]_X%#!,:(2@O-CU$2U)98&=N=7R#BI&8GZ:M\r\n"
	    "MM+O\"R=#7WN7L\\_H!\"`\\6'20K,CE`1TY57&-J<7A_AHV4FZ*IL+>^Q<S3VN'H\r\n"
	    "4[_;]!`L2&2`G+C4\\0TI16%]F;70`\r\n"
	    "`\r\n"
	    "end\r\n"
	    "und der Plan:\r\n"
	    "begin 0644 Übersicht.pdf\r\n"
	    "M)5!$1BTQ+C0*  $\" P0%!@<(\"0H+# T.#Q 1$A,4%187&!D:&QP='A\\@(2(C\r\n"
	    "0)\"4F)R@I*BLL+2XO,#$R,P\r\n"
	    " \r\n"
	    "end\r\n"
	    "Gruß\r\n"
	    "begin 644 kaputt.bin\r\n"
	    "M)5!$1BTQ+C0*\r\n"
	    "end\r\n";
	struct mime_msg *m = parse_lim(raw, strlen(raw), NULL);
	assert_string_equal(m->text, "Guten Tag,\nbegin 2027 wollen wir neu planen.\n\n"
	                             "und der Plan:\nGruß\nbegin 644 kaputt.bin\n"
	                             "M)5!$1BTQ+C0*\nend\n");
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].filename, "daten.bin");
	assert_string_equal(m->atts[0].content_type, "application/octet-stream");
	assert_int_equal(m->atts[0].len, 200);
	for (size_t i = 0; i < 200; i++)
		assert_int_equal((unsigned char)m->atts[0].data[i], (i * 7 + 3) & 255);
	assert_string_equal(m->atts[1].filename, "Übersicht.pdf");
	assert_string_equal(m->atts[1].content_type, "application/pdf");
	assert_int_equal(m->atts[1].len, 9 + 52);
	assert_memory_equal(m->atts[1].data, "%PDF-1.4\n", 9);
	for (size_t i = 0; i < 52; i++)
		assert_int_equal((unsigned char)m->atts[1].data[9 + i], i);
	assert_true(has_note(m, "uuencoded file in a text part"));
	mime_msg_free(m);

	/* a part whose transfer encoding is the uuencoding (x-uuencode,
	 * old mailers): its file decoded, as for base64 */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nW załączniku zamówienie.\n"
	    "--b\nContent-Type: application/octet-stream; name=\"zam.pdf\"\n"
	    "Content-Transfer-Encoding: X-UUENCODE\n\n"
	    "begin 644 zam.pdf\n4)5!$1BTQ+C0@>F%M;W=I96YI90H\n`\nend\n--b--\n");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].content_type, "application/pdf");
	assert_int_equal(m->atts[0].len, 20);
	assert_memory_equal(m->atts[0].data, "%PDF-1.4 zamowienie\n", 20);
	assert_false(has_note(m, "unknown Content-Transfer-Encoding"));
	mime_msg_free(m);

	/* spaces, each worth zero (b2a_uu without backticks): at the end of
	 * a line, past it, or cut off by a transport after a whole line */
	static const char *const ends[] = {"                ", "                   ", ""};
	for (size_t k = 0; k < 3; k++) {
		char *raw2 = xasprintf("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=b\n\n"
		    "--b\nContent-Type: text/plain\n\nx\n"
		    "--b\nContent-Type: application/pdf; name=\"a.pdf\"\n"
		    "Content-Transfer-Encoding: x-uuencode\n\n"
		    "begin 644 a.pdf\n"
		    "M PH1&!\\F+30[0DE05UYE;'-Z@8B/EIVDJ[*YP,?.U=SCZO'X_P8-%%!LB*3 W\n"
		    "5)5!$1BTQ+C0*%s\n \nend \n--b--\n", ends[k]);
		m = parse(raw2);
		free(raw2);
		assert_int_equal(m->natts, 1);
		assert_int_equal(m->atts[0].len, 45 + 21);
		for (size_t i = 0; i < 45; i++)
			assert_int_equal((unsigned char)m->atts[0].data[i], (i * 7 + 3) & 255);
		assert_memory_equal(m->atts[0].data + 45,
		    "%PDF-1.4\n\0\0\0\0\0\0\0\0\0\0\0\0", 21);
		assert_false(has_note(m, "unknown Content-Transfer-Encoding"));
		mime_msg_free(m);
	}

	/* one that is not uuencoded after all is kept as it came, said so */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nx\n"
	    "--b\nContent-Type: application/octet-stream; name=\"a.bin\"\n"
	    "Content-Transfer-Encoding: x-uue\n\nnot uuencoded\n--b--\n");
	assert_int_equal(m->natts, 1);
	assert_memory_equal(m->atts[0].data, "not uuencoded", 13);
	want_note(m, "unknown Content-Transfer-Encoding \"x-uue\" read as 8bit");
	mime_msg_free(m);
}

static void
test_attachment_types(void **state)
{
	(void)state;
	const char *raw = "From: jan@firma.example\r\n"
	    "Subject: zamowienie\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "Podpisane zamowienie w zalaczniku.\r\n"
	    "--b\r\n"
	    "Content-Type: application/octet-stream; name=\"zamowienie\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "JVBERi0xLjQK\r\n"
	    "--b\r\n"
	    "Content-Type: multipart/appledouble; boundary=\"ad\"\r\n"
	    "\r\n"
	    "--ad\r\n"
	    "Content-Type: application/applefile; name=\"skan.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "AAUWBwACAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
	    "--ad\r\n"
	    "Content-Type: application/pdf; name=\"skan.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "JVBERi0xLjQK\r\n"
	    "--ad--\r\n"
	    "--b\r\n"
	    "Content-Type: application/x-pdf; name=\"umowa.PDF\"\r\n"
	    "\r\n"
	    "nie PDF\r\n"
	    "--b\r\n"
	    "Content-Type: binary/octet-stream; name=\"zdjecie.JPG\"\r\n"
	    "\r\n"
	    "nie JPEG\r\n"
	    "--b\r\n"
	    "Content-Type: application/octet-stream; name=\"cennik.xlsx\"\r\n"
	    "\r\n"
	    "PK\r\n"
	    "--b\r\n"
	    "Content-Type: image/jpg; name=\"foto.jpg\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "/9j/4AAQ\r\n"
	    "--b--\r\n";
	struct mime_msg *m = parse_lim(raw, strlen(raw), NULL);
	assert_int_equal(m->natts, 6);
	/* generic type: the bytes say PDF, whatever the name */
	assert_string_equal(m->atts[0].filename, "zamowienie");
	assert_string_equal(m->atts[0].content_type, "application/pdf");
	/* the AppleDouble resource fork is gone, the file stays */
	assert_string_equal(m->atts[1].filename, "skan.pdf");
	assert_string_equal(m->atts[1].content_type, "application/pdf");
	assert_memory_equal(m->atts[1].data, "%PDF-1.4\n", 9);
	/* an alias is the registered type */
	assert_string_equal(m->atts[2].content_type, "application/pdf");
	/* generic type, no telling bytes: the name */
	assert_string_equal(m->atts[3].content_type, "image/jpeg");
	/* not a document: left generic */
	assert_string_equal(m->atts[4].content_type, "application/octet-stream");
	assert_string_equal(m->atts[5].content_type, "image/jpeg");
	assert_true(has_note(m, "AppleDouble resource fork dropped"));
	assert_true(has_note(m, "generic or unregistered content type"));
	mime_msg_free(m);

	/* a ZIP sent as an inline text/html part (spam with a payload), a PDF
	 * as text/plain: files by their bytes, not text */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain; charset=windows-1251\n\nHi, here is my photo\n"
	    "--b\nContent-Type: text/html; charset=windows-1251\nContent-Transfer-Encoding: base64\n"
	    "Content-Disposition: inline\n\nUEsDBBQAAAAIAHNleHkuc2Ny\n"
	    "--b\nContent-Type: text/plain; name=oferta.pdf\n\n%PDF-1.4\n--b--\n");
	assert_string_equal(m->text, "Hi, here is my photo");
	assert_int_equal(m->natts, 2);
	assert_null(m->atts[0].filename);
	assert_string_equal(m->atts[0].content_type, "application/zip");
	assert_int_equal(m->atts[0].len, 18);
	assert_string_equal(m->atts[1].filename, "oferta.pdf");
	want_note(m, "text/html part holding application/zip data kept as a file");
	mime_msg_free(m);
}

static void
test_shown_by_content_id(void **state)
{
	(void)state;
	const char *raw = "From: jan@firma.example\r\n"
	    "Subject: logo\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"mix\"\r\n"
	    "\r\n"
	    "--mix\r\n"
	    "Content-Type: multipart/related; boundary=\"rel\"\r\n"
	    "\r\n"
	    "--rel\r\n"
	    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	    "\r\n"
	    "--alt\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "Tekst\r\n"
	    "--alt\r\n"
	    "Content-Type: image/gif; name=\"w-alt.gif\"\r\n"
	    "Content-ID: <alt@x>\r\n"
	    "\r\n"
	    "GIF89a\r\n"
	    "--alt--\r\n"
	    "--rel\r\n"
	    "Content-Type: image/png; name=\"image001.png\"\r\n"
	    "Content-ID: <image001.png@01DB>\r\n"
	    "\r\n"
	    "PNG\r\n"
	    "--rel\r\n"
	    "Content-Type: image/png; name=\"bez-id.png\"\r\n"
	    "\r\n"
	    "PNG\r\n"
	    "--rel--\r\n"
	    "--mix\r\n"
	    "Content-Type: image/jpeg; name=\"logo.jpg\"\r\n"
	    "Content-Disposition: inline\r\n"
	    "Content-ID: <logo@x>\r\n"
	    "\r\n"
	    "JPG\r\n"
	    "--mix\r\n"
	    "Content-Type: image/jpeg; name=\"zdjecie.jpg\"\r\n"
	    "Content-Disposition: attachment\r\n"
	    "Content-ID: <zdjecie@x>\r\n"
	    "\r\n"
	    "JPG\r\n"
	    "--mix--\r\n";
	struct mime_msg *m = parse_lim(raw, strlen(raw), NULL);
	assert_int_equal(m->natts, 5);
	/* a part of multipart/related with a Content-ID, not one nested deeper */
	assert_string_equal(m->atts[0].filename, "w-alt.gif");
	assert_int_equal(m->atts[0].shown, 0);
	assert_string_equal(m->atts[1].filename, "image001.png");
	assert_int_equal(m->atts[1].shown, 1);
	assert_int_equal(m->atts[2].shown, 0); /* no Content-ID */
	/* inline with a Content-ID, outside multipart/related */
	assert_int_equal(m->atts[3].shown, 1);
	/* the related context ended with its multipart */
	assert_int_equal(m->atts[4].shown, 0);
	mime_msg_free(m);
}

static void
test_pgp_inline_signed(void **state)
{
	(void)state;
	const char *raw = "From: Jürgen Krause <j.krause@werbetechnik.example>\r\n"
	    "Subject: Re: Angebot\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "-----BEGIN PGP SIGNED MESSAGE-----\r\n"
	    "Hash: SHA256\r\n"
	    "\r\n"
	    "APPROVE\r\n"
	    "- -- \r\n"
	    "Jürgen\r\n"
	    "-----BEGIN PGP SIGNATURE-----\r\n"
	    "\r\n"
	    "iQEzBAEBCAAdFiEE\r\n"
	    "=Xq1r\r\n"
	    "-----END PGP SIGNATURE-----\r\n";
	struct mime_msg *m = parse_lim(raw, strlen(raw), NULL);
	assert_string_equal(m->text, "APPROVE\n-- \nJürgen\n");
	assert_true(has_note(m, "inline PGP signature removed"));
	mime_msg_free(m);

	/* the armour without its end: left as it is */
	const char *cut = "From: a@b.example\r\nSubject: x\r\n\r\n"
	    "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nTekst\r\n";
	m = parse_lim(cut, strlen(cut), NULL);
	assert_string_equal(m->text, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nTekst\n");
	mime_msg_free(m);
}

static void
test_message_rfc822_kept(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	sb_adds(&sb, "From: p.wisniewski@reklama-baltyk.pl\r\n"
	    "Subject: PD: zapytanie\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"out\"\r\n"
	    "\r\n"
	    "--out\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "Przesyłam zapytanie klienta.\r\n"
	    "--out\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Disposition: attachment\r\n"
	    "\r\n");
	sb_adds(&sb, EMBEDDED);
	sb_adds(&sb, "--out--\r\n");
	struct mime_msg *m = parse_lim(sb.s, sb.len, NULL);
	/* the forwarded message's text follows under a forward banner, its
	 * attachment joins the message's */
	assert_string_equal(m->text, "Przesyłam zapytanie klienta.\n\n"
	                             "---------- Forwarded message ----------\n"
	                             "From: Grzegorz Wójcik <g.wojcik@gmail.com>\n"
	                             "Subject: Zapytanie – tablice\n\nTekst wewnetrzny");
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[1].filename, "wewnetrzny.pdf");
	assert_string_equal(m->atts[1].content_type, "application/pdf");
	assert_int_equal(m->atts[1].body_len, 0);
	const struct mime_att *a = &m->atts[0];
	assert_int_equal(a->is_message, 1);
	assert_string_equal(a->content_type, "message/rfc822");
	assert_string_equal(a->filename, "Zapytanie – tablice.eml");
	/* the line end before the next delimiter belongs to the delimiter */
	assert_int_equal(a->len, strlen(EMBEDDED) - 2);
	assert_memory_equal(a->data, EMBEDDED, a->len);
	mime_msg_free(m);

	/* the kept message parses on its own */
	struct mime_msg *in = NULL;
	char reason[128];
	assert_int_equal(mime_parse(EMBEDDED, strlen(EMBEDDED), NULL, &in, reason, sizeof(reason)), 0);
	assert_string_equal(in->message_id, "inner@gmail.com");
	assert_int_equal(in->natts, 1);
	mime_msg_free(in);
	sb_free(&sb);

	/* a Subject with slashes is no path: the whole of it names the file */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"out\"\n"
	    "\n"
	    "--out\n"
	    "Content-Type: message/rfc822\n"
	    "\n"
	    "From: b@wp.pl\n"
	    "Subject: =?UTF-8?Q?Zam=C3=B3wienie_ZAM/12/2026_i_C:\\oferta?=\n"
	    "\n"
	    "hello\n"
	    "--out--\n");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "Zamówienie ZAM-12-2026 i C:-oferta.eml");
	mime_msg_free(m);

	/* without a Subject: "message.eml"; a filename parameter wins */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"out\"\n"
	    "\n"
	    "--out\n"
	    "Content-Type: message/rfc822\n"
	    "\n"
	    "From: b@wp.pl\n"
	    "\n"
	    "hello\n"
	    "--out\n"
	    "Content-Type: message/rfc822; name=\"oryginal.eml\"\n"
	    "\n"
	    "From: c@wp.pl\n"
	    "Subject: ignored\n"
	    "\n"
	    "hello\n"
	    "--out--\n");
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].filename, "message.eml");
	assert_string_equal(m->atts[1].filename, "oryginal.eml");
	/* no text of its own: the forwarded texts are the text */
	assert_string_equal(m->text, "---------- Forwarded message ----------\n"
	                             "From: <b@wp.pl>\n\nhello\n\n"
	                             "---------- Forwarded message ----------\n"
	                             "From: <c@wp.pl>\nSubject: ignored\n\nhello");
	mime_msg_free(m);
}

static void
test_defect_message_base64(void **state)
{
	(void)state;
	/* "Subject: Oferta\r\n\r\nTre\xc5\x9b\xc4\x87\r\n" in base64 */
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "U3ViamVjdDogT2ZlcnRhDQoNClRyZcWbxIcNCg==\n"
	    "--b--\n");
	assert_int_equal(m->natts, 1);
	assert_int_equal(m->atts[0].is_message, 1);
	assert_string_equal(m->atts[0].filename, "Oferta.eml");
	assert_string_equal(m->atts[0].data, "Subject: Oferta\r\n\r\nTreść\r\n");
	want_note(m, "message/rfc822 part with base64 transfer encoding");
	mime_msg_free(m);
}

static void
test_attachment_rules(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Treść\n"
	    "--b\n"
	    "Content-Type: application/pdf\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "Content-Disposition: attachment\n"
	    "\n"
	    "zalacznik tekstowy\n"
	    "--b\n"
	    "Content-Type: text/csv\n"
	    "\n"
	    "a;b\n"
	    "--b\n"
	    "Content-Type: image/PNG\n"
	    "Content-ID: <logo@bmt.example>\n"
	    "Content-Disposition: INLINE\n"
	    "\n"
	    "png\n"
	    "--b\n"
	    "Content-Type: text/plain; name=uwagi.txt\n"
	    "\n"
	    "uwagi\n"
	    "--b--\n");
	assert_string_equal(m->text, "Treść");
	assert_int_equal(m->natts, 5);
	assert_null(m->atts[0].filename);
	assert_string_equal(m->atts[0].content_type, "application/pdf");
	assert_int_equal(m->atts[0].len, 9);
	assert_string_equal(m->atts[1].content_type, "text/plain");
	assert_string_equal(m->atts[1].data, "zalacznik tekstowy");
	assert_string_equal(m->atts[2].content_type, "text/csv");
	assert_string_equal(m->atts[3].content_type, "image/png");
	assert_string_equal(m->atts[3].content_id, "logo@bmt.example");
	assert_int_equal(m->atts[3].is_inline, 1);
	assert_null(m->atts[0].content_id);
	assert_int_equal(m->atts[0].is_inline, 0);
	assert_string_equal(m->atts[4].filename, "uwagi.txt");
	mime_msg_free(m);
}

static void
test_format_flowed(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
	    "\n"
	    "BAN-FL510 2 300x100cm @ 45.00 # oczka co 50 \n"
	    "cm, zgrzewane\n"
	    " From the stuffed line\n"
	    "> cytat ze \n"
	    "> zlamaniem\n"
	    "-- \n"
	    "Podpis\n");
	assert_string_equal(m->text,
	    "BAN-FL510 2 300x100cm @ 45.00 # oczka co 50 cm, zgrzewane\n"
	    "From the stuffed line\n"
	    "> cytat ze zlamaniem\n"
	    "-- \n"
	    "Podpis\n");
	mime_msg_free(m);
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes\n"
	    "\n"
	    "Zaż \n"
	    "ółć\n");
	assert_string_equal(m->text, "Zażółć\n");
	mime_msg_free(m);
}

static void
text_eq(const char *html, const char *want)
{
	char *s = mime_html_to_text(html, strlen(html));
	if (strcmp(s, want) != 0)
		print_error("html_to_text(%s) = \"%s\"\nwant \"%s\"\n", html, s, want);
	assert_string_equal(s, want);
	free(s);
}

static void
test_html_to_text(void **state)
{
	(void)state;
	text_eq("<p>Akapit pierwszy</p><p>Akapit drugi</p>", "Akapit pierwszy\n\nAkapit drugi");
	text_eq("<p class=MsoNormal>Dzień dobry,<o:p></o:p></p>"
	    "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
	    "<p class=MsoNormal>linia 1<o:p></o:p></p>"
	    "<p class=MsoNormal>linia 2<o:p></o:p></p>",
	    "Dzień dobry,\n\nlinia 1\nlinia 2");
	text_eq("a<br>b<br><br>c", "a\nb\n\nc");
	text_eq("<html><head><title>t</title><style>x{}</style></head>"
	    "<body><script>var a = 1;</script>tekst &amp; &lt;znaczniki&gt; &#x142;&#243;d&#378;"
	    "</body></html>", "tekst & <znaczniki> łódź");
	text_eq("<div>Odpowiedź</div><blockquote><div>cytat 1</div><div>cytat 2</div></blockquote>",
	    "Odpowiedź\n> cytat 1\n> cytat 2");
	text_eq("<ul><li>baner</li><li>roll-up</li></ul>", "- baner\n- roll-up");
	text_eq("<table><tr><td>Baner</td><td>3x1 m</td></tr><tr><td>Roll-up</td><td>85x200</td></tr></table>",
	    "Baner 3x1 m\nRoll-up 85x200");
	text_eq("<pre>a  b\n  c</pre>", "a  b\n  c");
	text_eq("   \n  ", "");
	text_eq("", "");
	/* undeclared Windows-1250 input is guessed */
	text_eq("<p>\xa3\xf3" "d\x9f</p>", "Łódź");
	/* broken markup is recovered, never fatal */
	text_eq("<p>niedomknięty <b>tekst <i>i", "niedomknięty tekst i");
	char deep[6000];
	size_t o = 0;
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "<div>");
	snprintf(deep + o, sizeof(deep) - o, "x");
	char *s = mime_html_to_text(deep, strlen(deep));
	assert_true(utf8_valid(s, strlen(s)));
	free(s);
}

static void
test_dsn_bounce(void **state)
{
	(void)state;
	size_t len;
	char *raw = corpus_load("11-dsn-bounce.eml", &len);
	struct mime_msg *m = parse_lim(raw, len, NULL);
	assert_string_equal(m->return_path, "");
	assert_string_equal(m->content_type, "multipart/report");
	assert_string_equal(m->report_type, "delivery-status");
	assert_string_equal(m->auto_submitted, "auto-replied");
	assert_string_equal(m->x_failed_recipients, "nieistniejacy.adres@wp.pl");
	assert_string_equal(m->from_addr, "mailer-daemon@mx.bmt.example");
	assert_string_equal(m->from_name, "Mail Delivery System");
	assert_non_null(strstr(m->text, "could not\nbe delivered"));
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].content_type, "message/delivery-status");
	assert_non_null(strstr(m->atts[0].data, "Status: 5.1.1"));
	const struct mime_att *orig = &m->atts[1];
	assert_int_equal(orig->is_message, 1);
	assert_string_equal(orig->filename, "[INK-1] Potwierdzenie przyjęcia zapytania.eml");
	struct mime_msg *o = parse_lim(orig->data, orig->len, NULL);
	assert_string_equal(o->message_id, "ink-1-1.abc@bmt.example");
	assert_string_equal(o->x_inkflow_loop, "5f0c3a91e2b7");
	mime_msg_free(o);
	mime_msg_free(m);
	free(raw);
}

static void
test_classification_fields(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "Return-Path: <Bounce+X@Example.COM>\n"
	    "Delivered-To: Biuro@BMT.example\n"
	    "Delivered-To: zamowienia@bmt.example\n"
	    "X-Original-To: sprzedaz@bmt.example\n"
	    "From: \"Kowalski, Jan\" <Jan.Kowalski@WP.pl>\n"
	    "Sender: Asystent <asystent@wp.pl>\n"
	    "Reply-To: Jan <jan.prywatny@gmail.com>, druga@wp.pl\n"
	    "To: =?utf-8?q?Biuro_=C5=81=C3=B3d=C5=BA?= <BIURO@bmt.example>,\n"
	    "  t.nowicki@bmt.example\n"
	    "Cc: undisclosed-recipients:;, Ala <ala@wp.pl>\n"
	    "Subject: =?utf-8?q?Zapytanie?=\n"
	    "Date: Tue, 24 Nov 2026 09:14:37 +0100 (CET)\n"
	    "Message-ID: <abc.123@wp.pl>\n"
	    "In-Reply-To: <ink-42-5.7hq2m@bmt.example> (message from Tomasz)\n"
	    "References: <ink-42-1.a8d3k@bmt.example>\n"
	    " <ink-42-5.7hq2m@bmt.example>\n"
	    "\t<c@d>\n"
	    "Auto-Submitted: auto-replied (vacation)\n"
	    "Precedence: bulk\n"
	    "X-Autoreply: yes\n"
	    "X-Autorespond: Urlop\n"
	    "X-Auto-Response-Suppress: DR, OOF, AutoReply\n"
	    "List-Id: Lista <lista.wp.pl>\n"
	    "list-id:  <news.sklep.example>\n"
	    "List-Unsubscribe: <mailto:off@wp.pl>,\n"
	    " <https://wp.pl/off>\n"
	    "X-Inkflow-Loop: 5f0c3a91e2b7\n"
	    "X-Failed-Recipients: x@wp.pl\n"
	    "\n"
	    "body\n");
	assert_string_equal(m->return_path, "bounce+x@example.com");
	assert_string_equal(m->from_addr, "jan.kowalski@wp.pl");
	assert_string_equal(m->from_name, "Kowalski, Jan");
	assert_string_equal(m->sender_addr, "asystent@wp.pl");
	assert_string_equal(m->reply_to_addr, "jan.prywatny@gmail.com");
	assert_string_equal(m->to, "Biuro Łódź <BIURO@bmt.example>, t.nowicki@bmt.example");
	assert_string_equal(m->cc, "undisclosed-recipients:;, Ala <ala@wp.pl>");
	const char *rc[] = {"biuro@bmt.example", "t.nowicki@bmt.example", "ala@wp.pl",
	    "zamowienia@bmt.example", "sprzedaz@bmt.example"};
	assert_int_equal(m->nrcpt, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(m->rcpt_addrs[i], rc[i]);
	assert_string_equal(m->subject, "Zapytanie");
	assert_int_equal((long long)m->date, 1795508077LL);
	assert_string_equal(m->message_id, "abc.123@wp.pl");
	assert_string_equal(m->in_reply_to, "ink-42-5.7hq2m@bmt.example");
	assert_int_equal(m->nrefs, 3);
	assert_string_equal(m->refs[0], "ink-42-1.a8d3k@bmt.example");
	assert_string_equal(m->refs[1], "ink-42-5.7hq2m@bmt.example");
	assert_string_equal(m->refs[2], "c@d");
	assert_string_equal(m->auto_submitted, "auto-replied (vacation)");
	assert_string_equal(m->precedence, "bulk");
	assert_string_equal(m->x_autoreply, "yes");
	assert_string_equal(m->x_autorespond, "Urlop");
	assert_string_equal(m->list_id, "Lista <lista.wp.pl>");
	assert_string_equal(m->list_id_next, "<news.sklep.example>");
	assert_null(m->precedence_next);
	assert_null(m->list_unsubscribe_next);
	assert_string_equal(m->list_unsubscribe, "<mailto:off@wp.pl>, <https://wp.pl/off>");
	assert_string_equal(m->x_inkflow_loop, "5f0c3a91e2b7");
	assert_string_equal(m->x_failed_recipients, "x@wp.pl");
	assert_string_equal(m->content_type, "text/plain");
	assert_null(m->report_type);
	assert_string_equal(m->text, "body\n");
	mime_msg_free(m);

	/* absent fields */
	m = parse("From: a@wp.pl\n\nx\n");
	assert_null(m->message_id);
	assert_null(m->in_reply_to);
	assert_int_equal(m->nrefs, 0);
	assert_null(m->from_name);
	assert_null(m->sender_addr);
	assert_null(m->reply_to_addr);
	assert_null(m->to);
	assert_null(m->cc);
	assert_int_equal(m->nrcpt, 0);
	assert_string_equal(m->subject, "");
	assert_int_equal((long long)m->date, 0);
	assert_null(m->return_path);
	assert_null(m->auto_submitted);
	assert_null(m->list_id);
	mime_msg_free(m);

	/* odd forms */
	m = parse("Return-Path: <>\nFrom: Biuro BMT\nDate: yesterday\nMessage-ID: bare-id@wp.pl\n\nx\n");
	assert_string_equal(m->return_path, "");
	assert_null(m->from_addr);
	assert_string_equal(m->from_name, "Biuro BMT");
	assert_int_equal((long long)m->date, 0);
	assert_string_equal(m->message_id, "bare-id@wp.pl");
	mime_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* tolerated defects */

static void
test_defect_bare_lf(void **state)
{
	(void)state;
	const char *raw =
	    "From: Jan <jan@wp.pl>\n"
	    "Subject: =?utf-8?q?Tablice_z_dibondu?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"xx\"\n"
	    "\n"
	    "--xx\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Prosz=C4=99 o wycen=\n"
	    "=C4=99.\n"
	    "--xx\n"
	    "Content-Type: image/png; name=logo.png\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "iVBO\n"
	    "Rw0K\n"
	    "--xx--\n";
	struct mime_msg *m = parse_lim(raw, strlen(raw), NULL);
	assert_string_equal(m->subject, "Tablice z dibondu");
	assert_string_equal(m->text, "Proszę o wycenę.");
	assert_int_equal(m->natts, 1);
	assert_int_equal(m->atts[0].len, 6);
	assert_memory_equal(m->atts[0].data, "\x89PNG\r\n", 6);
	want_note(m, "bare LF line endings");
	mime_msg_free(m);
}

static void
test_defect_no_mime_version(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "Content-Type: text/plain; charset=iso-8859-2\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "=A3=F3d=BC\n");
	assert_string_equal(m->text, "Łódź\n");
	want_note(m, "missing MIME-Version");
	mime_msg_free(m);
	m = parse("From: a@wp.pl\nSubject: x\n\nplain old mail\n");
	assert_int_equal(m->nnotes, 0);
	mime_msg_free(m);
}

static void
test_defect_missing_final_boundary(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "tekst\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=a.pdf\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n");
	assert_string_equal(m->text, "tekst");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].data, "%PDF-1.4\n");
	want_note(m, "missing final boundary");
	mime_msg_free(m);

	/* cut inside an alternative inside the mixed (a bounce cut short,
	 * a size limit): libetpan alone drops the alternative's one part */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"o\"\n\n"
	    "--o\nContent-Type: multipart/alternative; boundary=\"i\"\n\n"
	    "--i\nContent-Type: text/plain; charset=utf-8\n\n"
	    "Proszę o wycenę 200 teczek.\n\n");
	assert_string_equal(m->text, "Proszę o wycenę 200 teczek.\n");
	want_note(m, "missing final boundary");
	mime_msg_free(m);

	/* cut right after the inner part's header: no header line as text */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/related; boundary=\"o\"\n\n"
	    "--o\nContent-Type: multipart/alternative; boundary=\"i\"\n\n"
	    "--i\nContent-Type: text/html;\n\tcharset=\"utf-8\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n");
	assert_string_equal(m->text, "");
	mime_msg_free(m);
}

static void
test_defect_empty_part(void **state)
{
	(void)state;
	/* a form mailer that ends with "--b" where "--b--" belongs: the
	 * last part is empty, and libetpan alone drops every part */
	struct mime_msg *m = parse(
	    "From: formularz@drukarnia.example\n"
	    "Subject: Zamowienie ulotek\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Ulotki A5, 500 sztuk.\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=ulotka.pdf\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "\n"
	    "--b\n"
	    "\n");
	assert_string_equal(m->text, "Ulotki A5, 500 sztuk.");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "ulotka.pdf");
	assert_string_equal(m->atts[0].data, "%PDF-1.4\n");
	want_note(m, "missing final boundary");
	want_note(m, "empty MIME part");
	mime_msg_free(m);

	/* an empty part between two delimiters (with and without its blank
	 * line) and one before the close: no delimiter in the text */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "--b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Bitte um ein Angebot f\xc3\xbcr Visitenkarten.\n"
	    "--b\n"
	    "--b--\n");
	assert_string_equal(m->text, "Bitte um ein Angebot für Visitenkarten.");
	assert_int_equal(m->natts, 0);
	mime_msg_free(m);

	/* "--b-" for the close (an MMS gateway), after an empty part and
	 * after a footer: every part kept, no delimiter in the text */
	for (int empty = 0; empty < 2; empty++) {
		char *raw = xasprintf("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
		    "--b\nContent-Type: text/plain; charset=utf-8\n\nZdjęcie baneru\n\n"
		    "--b\nContent-Type: text/plain\n\n-- \nsent from an MMS phone\n"
		    "%s--b- \n\n", empty ? "--b\n\n\n" : "");
		m = parse(raw);
		free(raw);
		assert_string_equal(m->text, "Zdjęcie baneru\n-- \nsent from an MMS phone");
		want_note(m, "close delimiter one dash short");
		mime_msg_free(m);
	}

	/* a nested alternative whose last delimiter is not the close: the
	 * HTML text is kept */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/related; boundary=\"r\"\n"
	    "\n"
	    "--r\n"
	    "Content-Type: multipart/alternative; boundary=\"a\"\n"
	    "\n"
	    "--a\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "\n"
	    "<p>Gr\xc3\xbc\xc3\x9f Gott, anbei das Logo.</p>\n"
	    "--a\n"
	    "\n"
	    "--r\n"
	    "Content-Type: image/png\n"
	    "Content-ID: <logo>\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "iVBORw0KGgo=\n"
	    "--r--\n");
	assert_string_equal(m->text, "Grüß Gott, anbei das Logo.");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].content_type, "image/png");
	mime_msg_free(m);

	/* a close delimiter with a part after it: a delimiter, the part is
	 * read and the close is not text */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "tekst\n"
	    "--b--\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=baner.pdf\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b--\n"
	    "epilog\n");
	assert_string_equal(m->text, "tekst");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "baner.pdf");
	want_note(m, "early close delimiter");
	mime_msg_free(m);

	/* nothing but an empty part: no text, no attachment */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "--b--\n");
	assert_string_equal(m->text, "");
	assert_int_equal(m->natts, 0);
	mime_msg_free(m);
}

static void
test_defect_missing_boundary(void **state)
{
	(void)state;
	/* no boundary parameter: the first "--" line of the body */
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed\n"
	    "\n"
	    "--=_NextPart_000_0012\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Zamówienie w załączniku.\n"
	    "--=_NextPart_000_0012\n"
	    "Content-Type: application/pdf; name=\"ZAM.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--=_NextPart_000_0012--\n");
	assert_string_equal(m->text, "Zamówienie w załączniku.");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "ZAM.pdf");
	assert_string_equal(m->atts[0].data, "%PDF-1.4\n");
	want_note(m, "boundary taken from the body");
	mime_msg_free(m);

	/* a Content-Type libetpan cannot read (unquoted name with spaces
	 * before the boundary): our lenient reading has the boundary */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; name=Zam\xc3\xb3wienie nr 5; boundary=\"q\"\n"
	    "\n"
	    "--q\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "tekst\n"
	    "--q\n"
	    "Content-Type: application/pdf; name=a.pdf\n"
	    "\n"
	    "%PDF\n"
	    "--q--\n");
	assert_string_equal(m->text, "tekst");
	assert_int_equal(m->natts, 1);
	mime_msg_free(m);

	/* nothing that looks like a boundary: the body is text */
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative\n"
	    "\n"
	    "Tylko tekst.\n");
	assert_string_equal(m->text, "Tylko tekst.\n");
	want_note(m, "multipart without boundary read as text");
	mime_msg_free(m);
}

static void
test_defect_base64_garbage(void **state)
{
	(void)state;
	/* "Łódź, baner 3×1 m" and "%PDF-1.4\n" with junk, blanks and no
	 * padding */
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "xYHDs2TFuiwg!YmFu\n"
	    "   ZXIg*M8OX\tMSBt\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=a.pdf\n"
	    "Content-Transfer-Encoding: BASE64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b--\n");
	assert_string_equal(m->text, "Łódź, baner 3×1 m");
	assert_string_equal(m->atts[0].data, "%PDF-1.4\n");
	want_note(m, "base64 with invalid characters");
	mime_msg_free(m);
	m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "xYHDs2TFug\n");
	assert_string_equal(m->text, "Łódź");
	want_note(m, "base64 without padding");
	mime_msg_free(m);

	/* a list's footer appended as plain text to a base64 body: text to
	 * the text, nothing to a file (the bytes of a picture stay whole) */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	    "R3LDvMOfZSBhdXMgxYHDs2TFui4K\n\n_______________________________________________\n"
	    "Liste mailing list\nListe@lists.example.de\n"
	    "--b\nContent-Type: image/gif; name=a.gif\nContent-Transfer-Encoding: base64\n\n"
	    "R0lGODdhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=\nCheerio!\n--b--\n");
	assert_string_equal(m->text, "Grüße aus Łódź.\n\n"
	                             "_______________________________________________\n"
	                             "Liste mailing list\nListe@lists.example.de");
	assert_int_equal(m->natts, 1);
	assert_int_equal(m->atts[0].len, 35);
	assert_memory_equal(m->atts[0].data + 33, "\x00;", 2);
	want_note(m, "plain text after the base64 data read as text");
	want_note(m, "plain text after the base64 data dropped");
	assert_false(has_note(m, "base64 with invalid characters"));
	mime_msg_free(m);

	/* blanks inside the last base64 line are base64's, not a footer */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	    "xYHDs2TF\nuiwgMjAg c3p0dWs=\n");
	assert_string_equal(m->text, "Łódź, 20 sztuk");
	assert_false(has_note(m, "plain text after the base64 data"));
	mime_msg_free(m);
}

static void
test_defect_unknown_cte(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: x\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8-bit\n"
	    "\n"
	    "Łódź\n");
	assert_string_equal(m->text, "Łódź\n");
	want_note(m, "unknown Content-Transfer-Encoding \"8-bit\"");
	mime_msg_free(m);
}

static void
test_defect_placeholder_plain(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@firma.de\n"
	    "Subject: Anfrage\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Ihr E-Mail-Programm unterstützt keine HTML-Nachrichten.\n"
	    "--b\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "\n"
	    "<p>Wir brauchen 4 Banner 3&times;1 m.</p>\n"
	    "--b--\n");
	assert_string_equal(m->text, "Wir brauchen 4 Banner 3×1 m.");
	assert_int_equal(m->text_from_html, 1);
	want_note(m, "text/plain alternative only points at the HTML one");
	mime_msg_free(m);
	/* Real text that names HTML stays, as does a lone placeholder. */
	m = parse("From: a@firma.de\nSubject: x\nMIME-Version: 1.0\n"
	          "Content-Type: multipart/alternative; boundary=b\n\n"
	          "--b\nContent-Type: text/plain; charset=utf-8\n\n"
	          "Prosimy o stronę HTML i 4 banery.\n"
	          "--b\nContent-Type: text/html; charset=utf-8\n\n"
	          "<p>Prosimy o <b>stronę HTML</b> i 4 banery.</p>\n--b--\n");
	assert_int_equal(m->text_from_html, 1);
	assert_string_equal(m->text, "Prosimy o stronę HTML i 4 banery.");
	mime_msg_free(m);
	m = parse("From: a@firma.de\nSubject: x\nMIME-Version: 1.0\n"
	          "Content-Type: multipart/alternative; boundary=b\n\n"
	          "--b\nContent-Type: text/plain; charset=utf-8\n\n"
	          "This is an HTML message.\n--b--\n");
	assert_string_equal(m->text, "This is an HTML message.");
	mime_msg_free(m);
}

static void
test_defect_exchange_att_text(void **state)
{
	(void)state;
	/* Apple Mail's text around a photo, as Exchange passes it on. */
	struct mime_msg *m = parse(
	    "From: a@firma.pl\n"
	    "Subject: Witryna\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Tak wygląda witryna:\n"
	    "--b\n"
	    "Content-Type: image/jpeg; name=\"IMG_0042.jpg\"\n"
	    "Content-Disposition: attachment; filename=\"IMG_0042.jpg\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "/9j/4AAQ\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=\"utf-8\"; name=\"ATT00001.txt\"\n"
	    "Content-Disposition: attachment; filename=\"ATT00001.txt\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "UHJvc3rEmSBvIHd5Y2VuxJkgb2tsZWplbmlhLgo=\n"
	    "--b\n"
	    "Content-Type: text/plain; name=\"ATT1.txt\"\n"
	    "Content-Disposition: attachment; filename=\"ATT1.txt\"\n"
	    "\n"
	    "a file\n"
	    "--b--\n");
	assert_non_null(strstr(m->text, "Tak wygląda witryna:"));
	assert_non_null(strstr(m->text, "Proszę o wycenę oklejenia."));
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].filename, "IMG_0042.jpg");
	assert_string_equal(m->atts[1].filename, "ATT1.txt");
	want_note(m, "Exchange's ATT00001.txt read as the text it holds");
	mime_msg_free(m);
}

static void
test_defect_rich_text(void **state)
{
	(void)state;
	/* Lotus Notes / Outlook: the body as text/rtf, nothing beside it */
	struct mime_msg *m = parse(
	    "From: a@firma.pl\n"
	    "Subject: Zapytanie\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/rtf\n"
	    "\n"
	    "{\\rtf1\\ansi\\ansicpg1250{\\fonttbl{\\f0\\fcharset238 Arial;}}\\f0\n"
	    "Prosz\\'ea o wycen\\'ea 300 plakat\\'f3w B1.\\par}\n");
	assert_string_equal(m->text, "Proszę o wycenę 300 plakatów B1.");
	assert_int_equal(m->natts, 0);
	want_note(m, "text read from a text/rtf part");
	mime_msg_free(m);

	/* text/enriched beside text/plain: the plain one is the body */
	m = parse(
	    "From: a@firma.de\n"
	    "Subject: Anfrage\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Bitte um ein Angebot f=FCr 200 Plakate.\n"
	    "--b\n"
	    "Content-Type: text/enriched; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "<bold>Bitte</bold> um ein Angebot f=FCr 200 Plakate.\n"
	    "--b--\n");
	assert_string_equal(m->text, "Bitte um ein Angebot für 200 Plakate.");
	mime_msg_free(m);

	/* text/enriched alone, Latin-1 */
	m = parse(
	    "From: a@firma.de\n"
	    "Subject: Anfrage\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/enriched; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "<bold>Guten Tag,</bold>\n"
	    "\n"
	    "bitte um ein Angebot f=FCr\n"
	    "200 Plakate.\n");
	assert_string_equal(m->text, "Guten Tag,\nbitte um ein Angebot für 200 Plakate.");
	want_note(m, "text read from a text/enriched part");
	mime_msg_free(m);

	/* an RTF file sent as a file stays a file */
	m = parse(
	    "From: a@firma.pl\n"
	    "Subject: Tekst\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Tekst ulotki w załączniku.\n"
	    "--b\n"
	    "Content-Type: text/rtf; name=\"ulotka.rtf\"\n"
	    "Content-Disposition: attachment; filename=\"ulotka.rtf\"\n"
	    "\n"
	    "{\\rtf1 Tekst}\n"
	    "--b\n"
	    "Content-Type: text/rtf\n"
	    "Content-Disposition: attachment\n"
	    "\n"
	    "{\\rtf1 Inny}\n"
	    "--b--\n");
	assert_string_equal(m->text, "Tekst ulotki w załączniku.");
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].filename, "ulotka.rtf");
	mime_msg_free(m);
}

static void
test_defect_no_blank_line(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: a@wp.pl\n"
	    "Subject: Zapytanie\n"
	    "Dzień dobry, proszę o wycenę.\n"
	    "Jan\n");
	assert_string_equal(m->subject, "Zapytanie");
	assert_string_equal(m->from_addr, "a@wp.pl");
	assert_string_equal(m->text, "Dzień dobry, proszę o wycenę.\nJan\n");
	want_note(m, "no blank line between header and body");
	mime_msg_free(m);
}

static void
test_defect_from_line(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From jan@wp.pl Thu Nov 26 10:00:00 2026\n"
	    "From: Jan <jan@wp.pl>\n"
	    "Subject: mbox\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "jan@wp.pl");
	assert_string_equal(m->subject, "mbox");
	want_note(m, "mbox \"From \" line");
	mime_msg_free(m);

	/* a From field with a blank before its colon (RFC 5322's obsolete
	 * syntax) first in the header is the field, not an mbox line */
	m = parse("From : Jan <jan@wp.pl>\n"
	    "Subject : obs\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "jan@wp.pl");
	assert_string_equal(m->subject, "obs");
	assert_false(has_note(m, "mbox"));
	mime_msg_free(m);
}

static void
test_defect_underscore_charset(void **state)
{
	(void)state;
	/* Python's codec names as charset labels (a YouTube notice:
	 * "koi8_r", which the Encoding Standard reads as KOI8-R): read in
	 * that charset, not guessed as Windows-1250 */
	struct mime_msg *m = parse(
	    "From: YouTube Service <noreply@youtube.example>\n"
	    "Subject: =?koi8_r?b?Q29tbWVudDog/tTPIMzV3tvF?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=\"koi8_r\"\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "\xfe\xd4\xcf \xcc\xd5\xde\xdb\xc5?\n");
	assert_string_equal(m->subject, "Comment: Что лучше");
	assert_string_equal(m->text, "Что лучше?\n");
	assert_false(has_note(m, "unknown charset"));
	mime_msg_free(m);

	/* one iconv knows with its underscore stays as it is */
	m = parse("From: a@example.jp\n"
	    "Subject: =?shift_jis?B?g2WDWINn?=\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->subject, "テスト");
	mime_msg_free(m);

	/* Python's Latin-2 names get the Latin-2 repairs: Windows-1250
	 * bytes, UTF-8 text */
	conv_eq("iso8859_2", "Za\xbf\xf3\xb3\xe6 g\xea\x9cl\xb9 ja\x9f\xf1", "Zażółć gęślą jaźń");
	conv_eq("latin_2", "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87", "Zażółć");
	conv_eq("iso8859_1", "Gr\xf6\xdf" "e", "Größe");
}

static void
test_defect_wide_label_utf8(void **state)
{
	(void)state;
	/* a 16- or 32-bit label on UTF-8 text (a German mass mailer's
	 * "iso-10646"): read as UTF-8, not as Chinese or replacement
	 * characters; real UTF-16 stays UTF-16 */
	struct mime_msg *m = parse("From: info@branchenbuch.example\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=\"ISO-10646\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Die Gesch=C3=A4ftsleitung, gem=C3=A4=C3=9F =C2=A7 33\n");
	assert_string_equal(m->text, "Die Geschäftsleitung, gemäß § 33\n");
	want_note(m, "iso-10646 declared but UTF-8 text");
	mime_msg_free(m);
	conv_eq("utf-16", "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87", "Zażółć");
	conv_eq("unicode", "Gr\xc3\xbc\xc3\x9f" "e", "Grüße");
	char *u = mime_to_utf8("utf-16le", "G\0r\0\xfc\0\xdf\0", 8);
	assert_string_equal(u, "Grüß");
	free(u);
}

static void
test_defect_unlabelled_jis(void **state)
{
	(void)state;
	/* Japanese mail with no MIME header at all, the body in
	 * ISO-2022-JP (its escapes are its label): read as Japanese, not
	 * shown with the escape bytes dropped ("$B%W%l%9(B") */
	struct mime_msg *m = parse(
	    "From: =?iso-2022-jp?B?GyRCJVclbCU5GyhC?= <info@press.example>\n"
	    "Subject: Digest\n"
	    "\n"
	    "\x1b$B\"#\x1b(B \x1b$B%W%l%9\x1b(B [2010\x1b$BG/\x1b(B12\x1b$B7n\x1b(B]\n");
	assert_string_equal(m->from_name, "プレス");
	assert_string_equal(m->text, "■ プレス [2010年12月]\n");
	want_note(m, "undeclared ISO-2022-JP text in a text part, read by its escapes");
	mime_msg_free(m);

	/* a stray escape that is no JIS shift stays plain text */
	m = parse("From: a@wp.pl\nSubject: x\n\nA\x1b[1mB\n");
	assert_false(has_note(m, "ISO-2022-JP"));
	mime_msg_free(m);
}

static void
test_defect_name_bare_addr(void **state)
{
	(void)state;
	/* a name before an address without angle brackets (forms writing
	 * "$name $email", a Korean mailer with an encoded name): the name
	 * and the address, never the words glued into the local part
	 * ("jankowalskijan@wp.pl", libetpan's reading) */
	struct mime_msg *m = parse(
	    "From: Jan Kowalski jan@wp.pl\n"
	    "To: =?ks_c_5601-1987?B?wMy8urz2?= biuro@firma.example\n"
	    "Subject: x\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "jan@wp.pl");
	assert_string_equal(m->from_name, "Jan Kowalski");
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->rcpt_addrs[0], "biuro@firma.example");
	want_note(m, "From address list read leniently");
	mime_msg_free(m);

	/* a list of them, as a form's "$name $email" joined with commas */
	m = parse("From: a@wp.pl\n"
	    "To: Jan Kowalski jan@wp.pl, Ola ola@firma.example; biuro@firma.example\n"
	    "Subject: x\n"
	    "\n"
	    "x\n");
	assert_int_equal(m->nrcpt, 3);
	assert_string_equal(m->rcpt_addrs[0], "jan@wp.pl");
	assert_string_equal(m->rcpt_addrs[1], "ola@firma.example");
	assert_string_equal(m->rcpt_addrs[2], "biuro@firma.example");
	want_note(m, "To address list read leniently");
	mime_msg_free(m);

	/* a quoted name before a bare address, a comma inside the quotes */
	m = parse("From: \"Jan K.\" jan@wp.pl\n"
	    "To: \"Nowak, Ola\" ola@wp.pl, biuro@firma.example\n"
	    "Subject: x\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "jan@wp.pl");
	assert_string_equal(m->from_name, "Jan K.");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt_addrs[0], "ola@wp.pl");
	assert_string_equal(m->rcpt_addrs[1], "biuro@firma.example");
	mime_msg_free(m);

	/* blanks around the '@' (obsolete syntax) are still one address */
	m = parse("From: jan @ wp.pl\nSubject: x\n\nx\n");
	assert_string_equal(m->from_addr, "jan@wp.pl");
	assert_null(m->from_name);
	assert_false(has_note(m, "read leniently"));
	mime_msg_free(m);
}

static void
test_defect_named_single_part(void **state)
{
	(void)state;
	/* a message that is one HTML part marked inline with a file name
	 * (a script's mail): its text is the message's text, and the file
	 * is kept as well */
	struct mime_msg *m = parse(
	    "From: Sklep <sklep@firma.example>\n"
	    "Subject: Zamówienie\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "Content-Disposition: inline; filename=zamowienie.html\n"
	    "\n"
	    "<html><body><p>Proszę o wycenę 500 ulotek.</p></body></html>\n");
	assert_non_null(strstr(m->text, "Proszę o wycenę 500 ulotek."));
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "zamowienie.html");
	want_note(m, "read as its text too");
	mime_msg_free(m);

	/* in an encoding MIME does not know (MIME-tools' x-gzip64), a file
	 * only: its text would be the encoding's letters */
	m = parse("From: a@wp.pl\nSubject: x\nContent-Type: text/plain; name=\".signature\"\n"
	    "Content-Disposition: inline; filename=\".signature\"\n"
	    "Content-Transfer-Encoding: x-gzip64\n\nH4sIAJ+A5jIAA0VPTWvDMAy9\n");
	assert_string_equal(m->text, "");
	assert_int_equal(m->natts, 1);
	mime_msg_free(m);

	/* marked as an attachment, it stays a file only */
	m = parse("From: a@wp.pl\nSubject: x\nContent-Type: text/plain\n"
	    "Content-Disposition: attachment; filename=lista.txt\n\nlista\n");
	assert_string_equal(m->text, "");
	assert_int_equal(m->natts, 1);
	mime_msg_free(m);

	/* inside a multipart, a named text part is a file, as before */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nTreść\n"
	    "--b\nContent-Type: text/plain; name=notatka.txt\n"
	    "Content-Disposition: inline; filename=notatka.txt\n\nnotatka\n--b--\n");
	assert_string_equal(m->text, "Treść");
	assert_int_equal(m->natts, 1);
	assert_false(has_note(m, "read as its text too"));
	mime_msg_free(m);

	/* the root of a multipart/related named by its mailer (the HTML
	 * body "inline; filename=body.html" beside its image): the text,
	 * and the file */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/related; boundary=r\n\n"
	    "--r\nContent-Type: text/html; charset=utf-8; name=body.html\n"
	    "Content-Disposition: inline; filename=body.html\n\n"
	    "<p>Proszę o wycenę baneru.</p><img src=\"cid:logo\">\n"
	    "--r\nContent-Type: image/png\nContent-ID: <logo>\n"
	    "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--r--\n");
	assert_non_null(strstr(m->text, "Proszę o wycenę baneru."));
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[0].filename, "body.html");
	want_note(m, "where the text stands read as its text too");
	mime_msg_free(m);

	/* both alternatives named: the plain one is the text */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=a\n\n"
	    "--a\nContent-Type: text/plain; charset=utf-8; name=body.txt\n\nZapytanie o baner\n"
	    "--a\nContent-Type: text/html; charset=utf-8; name=body.html\n\n"
	    "<p>Zapytanie o <b>baner</b></p>\n--a--\n");
	assert_string_equal(m->text, "Zapytanie o baner");
	assert_int_equal(m->natts, 2);
	mime_msg_free(m);

	/* a related part after the root stays a file only */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/related; boundary=r\n\n"
	    "--r\nContent-Type: text/plain\n\nTreść\n"
	    "--r\nContent-Type: text/plain; name=notatka.txt\n\nnotatka\n--r--\n");
	assert_string_equal(m->text, "Treść");
	assert_int_equal(m->natts, 1);
	assert_false(has_note(m, "read as its text too"));
	mime_msg_free(m);

	/* the first part of the message's multipart/mixed, named (Netscape's
	 * "inline; filename=", scripts' name=), before a PDF: the text and
	 * the file; a named text part after it stays a file only */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain; charset=iso-8859-1; name=\"=?iso-8859-1?Q?Anfrage=FC.txt?=\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "Content-Disposition: inline; filename=\"=?iso-8859-1?Q?Anfrage=FC.txt?=\"\n\n"
	    "Gr=FC=DFe, bitte um ein Angebot.\n"
	    "--b\nContent-Type: application/pdf; name=plan.pdf\nContent-Transfer-Encoding: base64\n\n"
	    "JVBERi0=\n"
	    "--b\nContent-Type: text/plain; name=notiz.txt\n\nNotiz\n--b--\n");
	assert_string_equal(m->text, "Grüße, bitte um ein Angebot.");
	assert_int_equal(m->natts, 3);
	assert_string_equal(m->atts[0].filename, "Anfrageü.txt");
	assert_string_equal(m->atts[2].filename, "notiz.txt");
	want_note(m, "part named Anfrageü.txt where the text stands read as its text too");
	assert_false(has_note(m, "named notiz.txt"));
	mime_msg_free(m);

	/* a report's first part, its human-readable text (a McAfee bounce) */
	m = parse("From: MAILER-DAEMON@mx.wp.pl\nSubject: Delivery Status\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
	    "--r\nContent-Type: text/plain; name=\"deliveryproblems.txt\"\n\n"
	    "The following addresses had delivery problems\n"
	    "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.wp.pl\n\n"
	    "Final-Recipient: rfc822; jan@wp.pl\nAction: failed\nStatus: 5.1.1\n--r--\n");
	assert_string_equal(m->text, "The following addresses had delivery problems");
	mime_msg_free(m);
}

static void
test_defect_headerless_part(void **state)
{
	(void)state;
	/* a digest's message after an empty part header: its From and
	 * Subject are the embedded message's, not lost as a part header */
	struct mime_msg *m = parse(
	    "From: lista@firma.example\n"
	    "Subject: Digest\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/digest; boundary=b\n"
	    "\n"
	    "--b\n"
	    "\n"
	    "From: Jan Kowalski <jan@wp.pl>\n"
	    "Subject: Baner 3x1 m\n"
	    "\n"
	    "Proszę o wycenę.\n"
	    "--b--\n");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "Baner 3x1 m.eml");
	assert_non_null(strstr(m->text, "Subject: Baner 3x1 m"));
	assert_non_null(strstr(m->text, "Proszę o wycenę."));
	want_note(m, "MIME part without a header");
	mime_msg_free(m);

	/* in a mixed one, lines that look like header fields are the
	 * part's text (a forwarded header pasted in) */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\nVon: Anna Müller\nBetreff: Messewand\n\nBitte um ein Angebot.\n--b--\n");
	assert_string_equal(m->text, "Von: Anna Müller\nBetreff: Messewand\n\nBitte um ein Angebot.");
	mime_msg_free(m);

	/* the same with no empty line before the next part's delimiter */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\nHinweis: die Datei\nist groß.\n"
	    "--b\nContent-Type: application/pdf; name=a.pdf\n\n%PDF-1.4\n--b--\n");
	assert_string_equal(m->text, "Hinweis: die Datei\nist groß.");
	assert_int_equal(m->natts, 1);
	mime_msg_free(m);

	/* an empty line a mailer put before the part's MIME fields: those
	 * stay the part's header, as before */
	m = parse("From: a@wp.pl\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\nContent-Type: text/html; charset=utf-8\n\n<p>Zapytanie</p>\n--b--\n");
	assert_string_equal(m->text, "Zapytanie");
	assert_false(has_note(m, "MIME part without a header"));
	mime_msg_free(m);
}

static void
test_defect_text_no_subtype(void **state)
{
	(void)state;
	/* "Content-Type: text" with no subtype (bug trackers, list
	 * servers): plain text in its charset, as RFC 2045 and mutt read
	 * it, not an attachment of an unknown type */
	struct mime_msg *m = parse(
	    "From: tracker@firma.example\n"
	    "Subject: Zgłoszenie\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: TEXT; charset=iso-8859-2\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Prosz\xea o wycen\xea.\n");
	assert_string_equal(m->text, "Proszę o wycenę.\n");
	assert_int_equal(m->natts, 0);
	want_note(m, "without a subtype read as text/plain");
	mime_msg_free(m);
}

static void
test_defect_address_list(void **state)
{
	(void)state;
	struct mime_msg *m = parse(
	    "From: Kowalski, Jan <Jan@WP.pl>\n"
	    "To: ala@wp.pl (Ala Nowak), ola@wp.pl\n"
	    "Cc: Jan <jan@x.pl\n"
	    "Reply-To: 'odpowiedz@wp.pl'\n"
	    "Subject: x\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "jan@wp.pl");
	assert_string_equal(m->from_name, "Kowalski, Jan");
	assert_string_equal(m->reply_to_addr, "odpowiedz@wp.pl");
	assert_int_equal(m->nrcpt, 3);
	assert_string_equal(m->rcpt_addrs[0], "ala@wp.pl");
	assert_string_equal(m->rcpt_addrs[1], "ola@wp.pl");
	assert_string_equal(m->rcpt_addrs[2], "jan@x.pl");
	want_note(m, "address list read leniently");
	mime_msg_free(m);

	/* brackets without an address in them (a mail server's bounce): the
	 * name, and no address */
	m = parse("From: \"Mail Delivery System\" <MAILER-DAEMON>\nSubject: x\n\nx\n");
	assert_string_equal(m->from_name, "Mail Delivery System");
	assert_null(m->from_addr);
	mime_msg_free(m);

	/* a '>' with no '<' after the address (a script's From) */
	m = parse("From: zamowienia@drukarnia.example>\nSubject: x\n\nx\n");
	assert_string_equal(m->from_addr, "zamowienia@drukarnia.example");
	mime_msg_free(m);

	/* addresses with blanks and no commas between them (scripts, forms):
	 * each one, never one glued "address" */
	m = parse("From: tim@firma.example concierge@firma.example\n"
	    "To: biuro@bmt.example  zamowienia@bmt.example\n"
	    "Subject: x\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "tim@firma.example");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt_addrs[0], "biuro@bmt.example");
	assert_string_equal(m->rcpt_addrs[1], "zamowienia@bmt.example");
	mime_msg_free(m);

	/* named addresses with blanks and no commas between them: the first
	 * is the sender, its name is not glued to the next one */
	m = parse("From: Jan Kowalski <jan@firma.example> Ola Nowak <ola@firma.example>\n"
	    "To: Biuro <biuro@bmt.example> (BMT) Zamowienia <zamowienia@bmt.example>\n"
	    "Subject: x\n"
	    "\n"
	    "x\n");
	assert_string_equal(m->from_addr, "jan@firma.example");
	assert_string_equal(m->from_name, "Jan Kowalski");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt_addrs[0], "biuro@bmt.example");
	assert_string_equal(m->rcpt_addrs[1], "zamowienia@bmt.example");
	mime_msg_free(m);

	/* comments inside an address (RFC 5322 A.5), and a fold right after
	 * a comment, which libetpan takes for the end of the header: the
	 * header is read unfolded and nothing of it becomes body text */
	m = parse("From: Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>\n"
	    "To: jan@firma.example (Jan Kowalski)\n"
	    " , ola@firma.example\n"
	    "Subject: Zapytanie\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Proszę o wycenę.\n"
	    "--b\n"
	    "Content-Type: application/pdf; name=projekt.pdf\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0xLjQK\n"
	    "--b--\n");
	assert_string_equal(m->from_addr, "pete@silly.test");
	assert_string_equal(m->from_name, "Pete");
	assert_string_equal(m->subject, "Zapytanie");
	assert_string_equal(m->text, "Proszę o wycenę.");
	assert_int_equal(m->natts, 1);
	assert_string_equal(m->atts[0].filename, "projekt.pdf");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt_addrs[1], "ola@firma.example");
	want_note(m, "header that the MIME parser ended at a fold read unfolded");
	mime_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* limits and guards */

static void
test_limit_message_size(void **state)
{
	(void)state;
	struct mime_limits lim = {0};
	lim.max_message = 100;
	char raw[101];
	memset(raw, 'a', sizeof(raw));
	parse_fails(raw, sizeof(raw), &lim, "message size 101 exceeds limit 100");
	struct mime_msg *m = parse_lim("From: a@wp.pl\r\n\r\nx\r\n", 19, &lim);
	mime_msg_free(m);
}

static void
test_limit_header_size(void **state)
{
	(void)state;
	struct mime_limits lim = {0};
	lim.max_header = 200;
	struct sbuf sb = {0};
	sb_adds(&sb, "From: a@wp.pl\r\n");
	for (int i = 0; i < 10; i++)
		sb_printf(&sb, "Received: by relay%d.wp.pl; hop %d\r\n", i, i);
	sb_adds(&sb, "\r\nbody\r\n");
	parse_fails(sb.s, sb.len, &lim, "header size");
	parse_fails(sb.s, sb.len, &lim, "exceeds limit 200");
	lim.max_header = 1000;
	struct mime_msg *m = parse_lim(sb.s, sb.len, &lim);
	mime_msg_free(m);
	sb_free(&sb);
}

static void
test_limit_header_line(void **state)
{
	(void)state;
	struct mime_limits lim = {0};
	lim.max_header_line = 100;
	/* folded lines count as one field */
	const char *raw =
	    "From: a@wp.pl\r\n"
	    "Subject: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
	    " bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n"
	    " cccccccccccccccccccccccccccccccc\r\n"
	    "\r\n"
	    "x\r\n";
	parse_fails(raw, strlen(raw), &lim, "header field length 128 exceeds limit 100 (top-level field Subject)");
	/* part headers too */
	const char *raw2 =
	    "From: a@wp.pl\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: application/pdf; name=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.pdf\"\r\n"
	    "\r\n"
	    "x\r\n"
	    "--b--\r\n";
	parse_fails(raw2, strlen(raw2), &lim, "(part field Content-Type)");
	/* the corpus file: a References field of 2,800 ids */
	size_t len;
	char *big = corpus_load("18-header-line-too-long.eml", &len);
	parse_fails(big, len, NULL, "exceeds limit 65536 (top-level field References)");
	free(big);
}

/* multipart/mixed holding n empty text parts */
static char *
many_parts(size_t n, size_t *len)
{
	struct sbuf sb = {0};
	sb_adds(&sb, "From: a@wp.pl\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (size_t i = 0; i < n; i++)
		sb_adds(&sb, "--b\r\n\r\nx\r\n");
	sb_adds(&sb, "--b--\r\n");
	*len = sb.len;
	return sb_steal(&sb);
}

static void
test_limit_address_list(void **state)
{
	(void)state;
	/* To and Cc each as long as a field may be, thousands of bare
	 * addresses: looking each one up in the field as written is one pass
	 * over it, not one per address */
	struct sbuf list = {0}, raw = {0};
	for (int i = 0; i < 3400; i++)
		sb_printf(&list, "%su%04d@example.com", i ? ", " : "", i);
	sb_printf(&raw, "From: a@wp.pl\r\nTo: %s\r\nCc: %s\r\nSubject: x\r\n\r\nx\r\n",
	    list.s, list.s);
	double t0 = test_now();
	struct mime_msg *m = parse_lim(raw.s, raw.len, NULL);
	double dt = test_now() - t0;
	sb_free(&list);
	sb_free(&raw);
	assert_int_equal(m->nrcpt, 3400);
	mime_msg_free(m);
	if (dt > test_limit(0.25))
		print_error("two lists of 3,400 addresses took %.3f s\n", dt);
	assert_true(dt < test_limit(0.25));
}

static void
test_limit_parts(void **state)
{
	(void)state;
	size_t len;
	char *raw = many_parts(100000, &len);
	double t0 = test_now();
	parse_fails(raw, len, NULL, "part count at least 501 exceeds limit 500");
	double dt = test_now() - t0;
	free(raw);
	if (dt > test_limit(0.5))
		print_error("100,000 parts took %.3f s\n", dt);
	assert_true(dt < test_limit(0.5));

	/* a container and two leaves are three parts */
	struct mime_limits lim = {0};
	lim.max_parts = 3;
	raw = many_parts(2, &len);
	struct mime_msg *m = parse_lim(raw, len, &lim);
	assert_string_equal(m->text, "x\nx");
	mime_msg_free(m);
	lim.max_parts = 2;
	parse_fails(raw, len, &lim, "part count at least 3 exceeds limit 2");
	free(raw);

	/* thousands of "--" lines in text trip the cheap bound only: the
	 * structural scan counts the real parts */
	struct sbuf sb = {0};
	sb_adds(&sb, "From: a@wp.pl\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\n");
	for (int i = 0; i < 3000; i++)
		sb_adds(&sb, "-----\r\n-- \r\n--bx\r\n");
	sb_adds(&sb, "--b\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF\r\n--b--\r\n");
	m = parse_lim(sb.s, sb.len, NULL);
	assert_int_equal(m->natts, 1);
	assert_non_null(strstr(m->text, "-----\n-- \n--bx\n"));
	mime_msg_free(m);
	sb_free(&sb);
}

enum nest { NEST_SAME, NEST_DISTINCT, NEST_RFC822, NEST_DIGEST };

static char *
nested(enum nest kind, size_t n, size_t *len)
{
	struct sbuf sb = {0};
	sb_adds(&sb, "From: a@wp.pl\r\n");
	for (size_t i = 0; i < n; i++) {
		switch (kind) {
		case NEST_SAME:
			sb_adds(&sb, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n");
			break;
		case NEST_DISTINCT:
			sb_printf(&sb, "Content-Type: multipart/mixed; boundary=b%zu\r\n\r\n--b%zu\r\n", i, i);
			break;
		case NEST_RFC822:
			sb_adds(&sb, "Content-Type: message/rfc822\r\n\r\n");
			break;
		case NEST_DIGEST:
			sb_printf(&sb, "Content-Type: multipart/digest; boundary=d%zu\r\n\r\n--d%zu\r\n\r\n", i, i);
			break;
		}
	}
	sb_adds(&sb, "\r\nx\r\n");
	if (kind == NEST_DISTINCT || kind == NEST_DIGEST)
		for (size_t i = n; i-- > 0;)
			sb_printf(&sb, "--%c%zu--\r\n", kind == NEST_DIGEST ? 'd' : 'b', i);
	*len = sb.len;
	return sb_steal(&sb);
}

static void
test_limit_depth(void **state)
{
	(void)state;
	static const struct {
		enum nest kind;
		size_t n;
		const char *want;
	} cases[] = {
		{NEST_SAME, 10000, "markers exceed safety limit"},
		{NEST_RFC822, 10000, "markers exceed safety limit"},
		{NEST_DISTINCT, 1500, "nesting depth at least 21 exceeds limit 20"},
		/* one boundary for all levels: libetpan sees 1500 siblings */
		{NEST_SAME, 1500, "part count at least 501 exceeds limit 500"},
		{NEST_RFC822, 1500, "nesting depth at least 21 exceeds limit 20"},
		{NEST_DIGEST, 600, "nesting depth at least 21 exceeds limit 20"},
		{NEST_DISTINCT, 25, "nesting depth at least 21 exceeds limit 20"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *raw = nested(cases[i].kind, cases[i].n, &len);
		double t0 = test_now();
		parse_fails(raw, len, NULL, cases[i].want);
		double dt = test_now() - t0;
		free(raw);
		if (dt > test_limit(0.5))
			print_error("case %zu took %.3f s\n", i, dt);
		assert_true(dt < test_limit(0.5));
	}
	/* exactly at the limit: mixed > alternative > text is depth 2 */
	const char *raw =
	    "From: a@wp.pl\r\n"
	    "Content-Type: multipart/mixed; boundary=o\r\n"
	    "\r\n"
	    "--o\r\n"
	    "Content-Type: multipart/alternative; boundary=i\r\n"
	    "\r\n"
	    "--i\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "gleboko\r\n"
	    "--i--\r\n"
	    "--o--\r\n";
	struct mime_limits lim = {0};
	lim.max_depth = 2;
	struct mime_msg *m = parse_lim(raw, strlen(raw), &lim);
	assert_string_equal(m->text, "gleboko");
	mime_msg_free(m);
	lim.max_depth = 1;
	parse_fails(raw, strlen(raw), &lim, "nesting depth at least 2 exceeds limit 1");
	/* a configured depth above the ceiling is clamped, not obeyed */
	lim.max_depth = 1000000;
	size_t len;
	char *deep = nested(NEST_DISTINCT, 150, &len);
	parse_fails(deep, len, &lim, "exceeds limit 100");
	free(deep);
}

static void
test_limit_attachment(void **state)
{
	(void)state;
	struct mime_limits lim = {0};
	lim.max_attachment = 10;
	const char *raw =
	    "From: a@wp.pl\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: application/pdf; name=a.pdf\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "JVBERi0xLjQKJVBERi0xLjQK\r\n"
	    "--b--\r\n";
	parse_fails(raw, strlen(raw), &lim, "decoded part size 18 exceeds attachment limit 10");
	lim.max_attachment = 18;
	struct mime_msg *m = parse_lim(raw, strlen(raw), &lim);
	assert_int_equal(m->atts[0].len, 18);
	mime_msg_free(m);
	const char *raw2 =
	    "From: a@wp.pl\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "\r\n"
	    "Subject: embedded message\r\n"
	    "\r\n"
	    "body\r\n"
	    "--b--\r\n";
	lim.max_attachment = 10;
	parse_fails(raw2, strlen(raw2), &lim, "embedded message size 33 exceeds attachment limit 10");
}

static void
test_limit_defaults(void **state)
{
	(void)state;
	struct mime_limits lim;
	mime_limits_default(&lim);
	assert_int_equal(lim.max_message, 50u * 1024 * 1024);
	assert_int_equal(lim.max_header, 256u * 1024);
	assert_int_equal(lim.max_header_line, 64u * 1024);
	assert_int_equal(lim.max_parts, 500);
	assert_int_equal(lim.max_depth, 20);
	assert_int_equal(lim.max_attachment, 40u * 1024 * 1024);
	struct mime_msg *m = parse_lim("From: a@wp.pl\r\n\r\nx", 18, NULL);
	assert_string_equal(m->text, "x");
	mime_msg_free(m);
}

static void
test_guard_bad_boundary(void **state)
{
	(void)state;
	/* libetpan 1.9.4 overflows a heap buffer on this boundary */
	const char *raw =
	    "From: a@b\r\n"
	    "Content-Type: multipart/mixed; boundary=\"\\\"\"\r\n"
	    "\r\n"
	    "--\"\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "x\r\n"
	    "--\"--\r\n";
	parse_fails(raw, strlen(raw), NULL, "boundary parameter starting with a quoted-pair");
	const char *raw2 =
	    "From: a@b\r\n"
	    "Content-Type: multipart/mixed; boundary (comment) =\r\n"
	    "  \"\\\"\"\r\n"
	    "\r\n"
	    "x\r\n";
	parse_fails(raw2, strlen(raw2), NULL, "boundary parameter");
}

static void
test_guard_comment_nesting(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	sb_adds(&sb, "From: a@wp.pl\r\nTo: ");
	for (int i = 0; i < 20000; i++)
		sb_addc(&sb, '(');
	sb_adds(&sb, "\r\n\r\nx\r\n");
	parse_fails(sb.s, sb.len, NULL, "comment nesting 20000 exceeds safety limit 256");
	sb_free(&sb);
	/* inside a part header, spread over folded lines */
	sb_adds(&sb, "From: a@wp.pl\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: text/plain;");
	for (int i = 0; i < 300; i++)
		sb_adds(&sb, "\r\n (a");
	sb_adds(&sb, "\r\n\r\nx\r\n--b--\r\n");
	parse_fails(sb.s, sb.len, NULL, "comment nesting 300");
	sb_free(&sb);
	/* balanced comments and a modest nesting are fine */
	sb_adds(&sb, "From: a@wp.pl (Ala (z (biura)))\r\nTo: ");
	for (int i = 0; i < 200; i++)
		sb_addc(&sb, '(');
	sb_adds(&sb, "\r\n\r\nx\r\n");
	struct mime_msg *m = parse_lim(sb.s, sb.len, NULL);
	assert_string_equal(m->from_addr, "a@wp.pl");
	mime_msg_free(m);
	sb_free(&sb);
}

static void
test_guard_markers(void **state)
{
	(void)state;
	/* Documented false positive: a text that says "multipart" more than
	 * 2000 times is refused rather than risk libetpan's recursion. */
	struct sbuf sb = {0};
	sb_adds(&sb, "From: a@wp.pl\r\n\r\n");
	for (int i = 0; i < 2001; i++)
		sb_adds(&sb, "multipart\r\n");
	parse_fails(sb.s, sb.len, NULL, "2001 multipart/rfc822 markers exceed safety limit 2000");
	sb_free(&sb);
	/* ...but a few hundred in text are read normally */
	sb_adds(&sb, "From: a@wp.pl\r\n\r\n");
	for (int i = 0; i < 300; i++)
		sb_adds(&sb, "multipart/mixed rfc822\r\n");
	struct mime_msg *m = parse_lim(sb.s, sb.len, NULL);
	assert_non_null(strstr(m->text, "multipart/mixed rfc822\n"));
	mime_msg_free(m);
	sb_free(&sb);
}

/* ------------------------------------------------------------------ */
/* garbage */

static uint32_t rng_state = 2463534242u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
parse_any(const char *raw, size_t len)
{
	struct mime_msg *m = NULL;
	char reason[256];
	int r = mime_parse(raw, len, NULL, &m, reason, sizeof(reason));
	assert_true(r == 0 || r == -1);
	if (r == 0) {
		check_utf8(m);
		mime_msg_free(m);
	} else {
		assert_null(m);
		assert_true(reason[0] != '\0');
		assert_true(utf8_valid(reason, strlen(reason)));
	}
}

static void
test_garbage_random(void **state)
{
	(void)state;
	static const char *tokens[] = {
		"\r\n", "\n", "\r\n\r\n", "--b\r\n", "--b--\r\n", "--",
		"Content-Type: multipart/mixed; boundary=b\r\n",
		"Content-Type: multipart/alternative; boundary=\"b\"\r\n",
		"Content-Type: message/rfc822\r\n", "Content-Type: multipart/digest; boundary=b\r\n",
		"Content-Type: text/html; charset=utf-8\r\n", "Content-Type: text/plain; charset=x\r\n",
		"Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: quoted-printable\r\n",
		"Content-Disposition: attachment; filename*0*=utf-8''%C5; filename*1*=%81\r\n",
		"From: a@b\r\n", "Subject: =?utf-8?b?xQ==?= =?iso-8859-2?q?=A3?=\r\n",
		"To: \"x\" <", ">", "(", ")", "\"", "\\", "=?", "?=", "=", "=C5", "<p>", "<br>",
		"boundary=", ";", ": ", " ", "\t", "\xff", "\xc5", "\x81", "\0",
	};
	char buf[4096];
	for (int it = 0; it < 600; it++) {
		size_t n = 0;
		if (it < 200) {
			n = rng() % sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)rng();
		} else {
			size_t want = rng() % 2000;
			while (n < want) {
				const char *t = tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
				size_t tl = t[0] ? strlen(t) : 1;
				if (n + tl > sizeof(buf))
					break;
				memcpy(buf + n, t, tl);
				n += tl;
			}
		}
		parse_any(buf, n);
	}
	/* mutated corpus messages */
	static const char *files[] = {"01-outlook365-related-iso88592.eml",
	    "03-thunderbird-flowed-pdf-rfc2231.eml", "08-forward-message-rfc822.eml",
	    "11-dsn-bounce.eml", "24-mixed-charsets-split-words.eml"};
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *orig = corpus_load(files[f], &len);
		char *mut = xmalloc(len + 1);
		for (int it = 0; it < 40; it++) {
			memcpy(mut, orig, len);
			size_t n = len;
			int edits = 1 + (int)(rng() % 8);
			for (int e = 0; e < edits; e++) {
				size_t at = rng() % n;
				switch (rng() % 4) {
				case 0: mut[at] = (char)rng(); break;
				case 1: mut[at] = "-\r\n=?(\"\\;"[rng() % 9]; break;
				case 2: n = at + 1; break;
				default: memmove(mut + at, mut + at + 1, n - at - 1); n--; break;
				}
				if (n == 0)
					n = 1;
			}
			parse_any(mut, n);
		}
		free(mut);
		free(orig);
	}
}

static void
test_garbage_empty(void **state)
{
	(void)state;
	parse_fails("", 0, NULL, "empty message");
	parse_fails(NULL, 0, NULL, "empty message");
	parse_fails("\r\n\r\n  \r\n", 8, NULL, "empty message");
	const char *fromline = "From jan@wp.pl Thu Nov 26 10:00:00 2026\n";
	parse_fails(fromline, strlen(fromline), NULL, "empty message");
	size_t len;
	char *raw = corpus_load("19-empty.eml", &len);
	parse_fails(raw, len, NULL, "empty message");
	free(raw);
	/* a NULL out pointer is refused, not dereferenced */
	char reason[64];
	assert_int_equal(mime_parse("From: a@b\r\n\r\nx", 14, NULL, NULL, reason, sizeof(reason)), -1);
	/* no reason buffer is fine too */
	struct mime_msg *m = (struct mime_msg *)1;
	assert_int_equal(mime_parse("", 0, NULL, &m, NULL, 0), -1);
	assert_null(m);
	mime_msg_free(NULL);
}

static void
test_garbage_headers_only(void **state)
{
	(void)state;
	struct mime_msg *m = parse_lim("From: a@wp.pl\r\nSubject: tylko nag", 33, NULL);
	assert_string_equal(m->from_addr, "a@wp.pl");
	assert_string_equal(m->subject, "tylko nag");
	assert_string_equal(m->text, "");
	mime_msg_free(m);
	m = parse("From: a@wp.pl\nContent-Type: multipart/mixed; boundary=b\n\n");
	assert_string_equal(m->text, "");
	assert_int_equal(m->natts, 0);
	mime_msg_free(m);
}

static void
test_garbage_binary_no_from(void **state)
{
	(void)state;
	char buf[1024];
	uint32_t s = 7;
	for (size_t i = 0; i < sizeof(buf); i++) {
		s = s * 1103515245u + 12345u;
		buf[i] = (char)((s >> 16) | 0x80);
	}
	struct mime_msg *m = parse_lim(buf, sizeof(buf), NULL);
	assert_null(m->from_addr);
	assert_string_equal(m->subject, "");
	check_utf8(m);
	assert_true(strlen(m->text) > 0);
	mime_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* encoders */

/* Lines of v (after a "Field: " of name_len) are at most 78 columns, every
 * encoded word at most 75 and valid UTF-8 by itself, every CRLF a fold. */
static void
check_folding(const char *v, size_t name_len)
{
	size_t col = name_len;
	for (const char *p = v; *p; p++) {
		if (*p == '\r') {
			assert_int_equal(p[1], '\n');
			assert_true(p[2] == ' ' || p[2] == '\t');
			assert_true(col <= 78);
			col = 0;
			p++;
			continue;
		}
		assert_true(*p != '\n' && *p != '\0');
		col++;
	}
	assert_true(col <= 78);
	for (const char *w = strstr(v, "=?UTF-8?B?"); w; w = strstr(w + 1, "=?UTF-8?B?")) {
		const char *end = strstr(w + 10, "?=");
		assert_non_null(end);
		assert_true((size_t)(end + 2 - w) <= 75);
		char *one = xstrndup(w, (size_t)(end + 2 - w));
		char *d = mime_decode_header(one);
		assert_true(utf8_valid(d, strlen(d)));
		assert_null(strstr(d, "\xef\xbf\xbd"));
		free(d);
		free(one);
	}
}

static void
roundtrip(const char *in, size_t name_len)
{
	char *e = mime_encode_header(in, name_len);
	check_folding(e, name_len);
	char *d = mime_decode_header(e);
	if (strcmp(d, in) != 0)
		print_error("roundtrip:\n in  %s\n enc %s\n out %s\n", in, e, d);
	assert_string_equal(d, in);
	free(d);
	free(e);
}

static void
test_encode_header_ascii(void **state)
{
	(void)state;
	char *e = mime_encode_header("Re: [INK-42] Oferta OF/2026/0042", 9);
	assert_string_equal(e, "Re: [INK-42] Oferta OF/2026/0042");
	free(e);
	/* something a decoder would take for an encoded word is encoded */
	e = mime_encode_header("cena =?utf-8?q?x?= netto", 9);
	assert_null(strstr(e, "=?utf-8?q?x?="));
	free(e);
	roundtrip("cena =?utf-8?q?x?= netto", 9);
	/* long ASCII is folded at spaces, unfolding restores it */
	roundtrip("Re: [INK-42] Zapytanie ofertowe dotyczace banerow reklamowych na ogrodzenie "
	    "hali produkcyjnej oraz roll-upow na targi w Poznaniu", 9);
	roundtrip("", 9);
}

static void
test_encode_header_roundtrip(void **state)
{
	(void)state;
	roundtrip("Zażółć gęślą jaźń", 9);
	roundtrip("Łódź", 9);
	roundtrip("Größe – Übergabe, Straße", 9);
	roundtrip("Re: [INK-42] Oferta OF/2026/0042 – baner 500×200 cm", 9);
	roundtrip("Anfrage Werbebanner 3×1 m", 9);
	roundtrip("Zażółć  gęślą   jaźń z podwójnymi spacjami", 9);
	roundtrip("ŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁŁ", 9);
	roundtrip("😀 emoji 4-byte 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀", 9);
	roundtrip("[INK-1234] Zamówienie ZA/2026/0042: banery frontlit 510 g/m² 500×200 cm, "
	    "oczka co 50 cm, zgrzewane krawędzie; roll-upy 85×200 cm z torbą; naklejki "
	    "podłogowe 50×50 cm z laminatem antypoślizgowym – termin realizacji 10 grudnia, "
	    "dostawa do Łodzi (ul. Włókniarzy 210) i Gdańska", 9);
	/* a long field name leaves little room on the first line */
	roundtrip("Zażółć gęślą jaźń", 70);
	/* the Subject of every corpus message survives a round trip */
	roundtrip("Prośba o wycenę: baner 300x100 cm z oczkami", 9);
}

static void
test_encode_header_crlf(void **state)
{
	(void)state;
	char *e = mime_encode_header("Zażółć\r\ngęślą\njaźń\r", 9);
	check_folding(e, 9);
	char *d = mime_decode_header(e);
	assert_string_equal(d, "Zażółć gęślą jaźń");
	free(d);
	free(e);
	e = mime_encode_header("Bcc: evil@x\r\nSubject: hi", 9);
	check_folding(e, 9);
	assert_null(strstr(e, "\r\nSubject"));
	assert_null(strstr(e, "\r\nBcc"));
	free(e);
	/* invalid UTF-8 in is valid UTF-8 out */
	e = mime_encode_header("a\xff\xc5", 9);
	d = mime_decode_header(e);
	assert_true(utf8_valid(d, strlen(d)));
	free(d);
	free(e);
}

static void
test_encode_phrase(void **state)
{
	(void)state;
	char *e = mime_encode_phrase("Jan Kowalski");
	assert_string_equal(e, "Jan Kowalski");
	free(e);
	e = mime_encode_phrase("Kowalski, Jan");
	assert_string_equal(e, "\"Kowalski, Jan\"");
	free(e);
	e = mime_encode_phrase("Firma \"Bałtyk\"");
	assert_non_null(strstr(e, "=?UTF-8?B?"));
	assert_null(strchr(e, '"'));
	char *d = mime_decode_header(e);
	assert_string_equal(d, "Firma \"Bałtyk\"");
	free(d);
	free(e);
	e = mime_encode_phrase("O'Brien \"Jr\" \\ Co.");
	assert_string_equal(e, "\"O'Brien \\\"Jr\\\" \\\\ Co.\"");
	free(e);
	e = mime_encode_phrase("Paweł Wiśniewski – Kierownik ds. marketingu, Reklama Bałtyk Sp. z o.o.");
	check_folding(e, 10);
	d = mime_decode_header(e);
	assert_string_equal(d, "Paweł Wiśniewski – Kierownik ds. marketingu, Reklama Bałtyk Sp. z o.o.");
	free(d);
	free(e);
	e = mime_encode_phrase("Ewa\r\nBcc: x@y");
	assert_null(strstr(e, "\r\nBcc"));
	free(e);
	e = mime_encode_phrase("");
	assert_string_equal(e, "");
	free(e);
}

/* The encoded parameter, put in a message, decodes to the same name. */
static void
param_roundtrip(const char *param, const char *name)
{
	char *p = mime_encode_param(param, name);
	struct sbuf sb = {0};
	sb_printf(&sb, "From: a@wp.pl\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: application/pdf\r\nContent-Disposition: attachment; %s\r\n\r\n%%PDF\r\n--b--\r\n", p);
	if (strcmp(param, "name") == 0) {
		sb_free(&sb);
		sb_printf(&sb, "From: a@wp.pl\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		    "Content-Type: application/pdf; %s\r\n\r\n%%PDF\r\n--b--\r\n", p);
	}
	struct mime_msg *m = parse_lim(sb.s, sb.len, NULL);
	assert_int_equal(m->natts, 1);
	assert_non_null(m->atts[0].filename);
	if (strcmp(m->atts[0].filename, name) != 0)
		print_error("param %s\n -> %s\n", p, m->atts[0].filename);
	assert_string_equal(m->atts[0].filename, name);
	mime_msg_free(m);
	sb_free(&sb);
	free(p);
}

static void
test_encode_param(void **state)
{
	(void)state;
	char *e = mime_encode_param("filename", "a.pdf");
	assert_string_equal(e, "filename=\"a.pdf\"");
	free(e);
	e = mime_encode_param("filename", "Oferta \"nowa\".pdf");
	assert_string_equal(e, "filename=\"Oferta \\\"nowa\\\".pdf\"");
	free(e);
	e = mime_encode_param("filename", "Oferta Łódź.pdf");
	assert_string_equal(e, "filename*=UTF-8''Oferta%20%C5%81%C3%B3d%C5%BA.pdf");
	free(e);
	e = mime_encode_param("name", "Oferta Łódź.pdf");
	assert_string_equal(e, "name*=UTF-8''Oferta%20%C5%81%C3%B3d%C5%BA.pdf;\r\n"
	    " name=\"=?UTF-8?B?T2ZlcnRhIMWBw7NkxboucGRm?=\"");
	free(e);
	param_roundtrip("filename", "a.pdf");
	param_roundtrip("filename", "Oferta Łódź.pdf");
	param_roundtrip("name", "Oferta Łódź.pdf");
	param_roundtrip("filename", "Größe – Übergabe, Straße.pdf");
	param_roundtrip("filename", "Zamówienie_ZA-2026-0042_baner_frontlit_500×200_cm_"
	    "oczka_co_50_cm_zgrzewane_krawędzie_Łódź_Włókniarzy_210_podpisane.pdf");
	param_roundtrip("name", "Zamówienie_ZA-2026-0042_baner_frontlit_500×200_cm_"
	    "oczka_co_50_cm_zgrzewane_krawędzie_Łódź_Włókniarzy_210_podpisane.pdf");
	/* long values are cut into continuations of short lines */
	e = mime_encode_param("filename", "Zamówienie_ZA-2026-0042_baner_frontlit_500×200_cm_"
	    "oczka_co_50_cm_zgrzewane_krawędzie_Łódź_Włókniarzy_210_podpisane.pdf");
	assert_non_null(strstr(e, "filename*0*=UTF-8''"));
	assert_non_null(strstr(e, "filename*1*="));
	check_folding(e, 1);
	free(e);
	e = mime_encode_param("filename", "a\r\nb.pdf");
	assert_null(strchr(e, '\n'));
	free(e);
}

/* ------------------------------------------------------------------ */
/* the corpus */

struct corpus_case {
	const char *file;
	const char *fail;      /* reason substring when mime_parse must fail */
	const char *from;
	const char *subject;
	const char *text;      /* substring of the body text */
	size_t natts;
	const char *att;       /* one attachment name, or NULL */
	const char *note;      /* one note substring, or NULL */
};

static const struct corpus_case CORPUS[] = {
	{"01-outlook365-related-iso88592.eml", NULL, "p.wisniewski@reklama-baltyk.pl",
	    "Prośba o wycenę: baner 300x100 cm z oczkami",
	    "- wykończenie: zgrzewane krawędzie, oczka co 50 cm\n", 1, "image001.png",
	    "encoded words inside a quoted display name"},
	{"02-gmail-alternative-utf8-base64.eml", NULL, "anna.kowalczyk@gmail.com",
	    "Roll-upy na targi – 3 sztuki 85×200 cm", "• format 85×200 cm", 0, NULL, NULL},
	{"03-thunderbird-flowed-pdf-rfc2231.eml", NULL, "marek.zielinski@drukpol.com.pl",
	    "Projekt baneru na płot – Łódź",
	    "w Łodzi. Wymiar 400×150 cm, siatka mesh 260 g/m², oczka co 50 cm, zakładki zgrzewane.",
	    1, "Projekt_baneru_Łódź.pdf", NULL},
	{"04-applemail-cp1250-image.eml", NULL, "k.nowak@wp.pl", "Oklejenie witryny folią – wycena",
	    "napisem „Kwiaty u Kasi”", 1, "wizualizacja.jpg", NULL},
	{"05-gmx-german-werbebanner.eml", NULL, "j.mueller@gmx.de", "Anfrage Werbebanner 3×1 m",
	    "Ösen alle 50 cm", 0, NULL, NULL},
	{"06-outlook-german-reply-latin1.eml", NULL, "s.krueger@werbung-mueller.de",
	    "AW: [INK-7] Angebot Roll-up 85×200 cm", "Roll-ups „Classic“ 85×200 cm", 0, NULL, NULL},
	{"07-html-only.eml", NULL, "tomek.lewandowski@wp.pl", "Oklejenie busa – wycena",
	    "folią wylewaną z laminatem", 0, NULL, NULL},
	{"08-forward-message-rfc822.eml", NULL, "p.wisniewski@reklama-baltyk.pl",
	    "PD: Zapytanie – tablice PCV 120×80 cm", "zapytanie naszego klienta", 1,
	    "Zapytanie – tablice PCV 120×80 cm.eml", NULL},
	{"09-autoreply-polish.eml", NULL, "anna.kowalczyk@gmail.com",
	    "Automatyczna odpowiedź: [INK-15] Oferta OF/2026/0015 – roll-upy 85×200 cm",
	    "jestem na urlopie", 0, NULL, NULL},
	{"10-exchange-out-of-office.eml", NULL, "s.krueger@werbung-mueller.de",
	    "Automatische Antwort: [INK-7] Auftragsbestätigung AB/2026/0007", "nicht im Büro", 0,
	    NULL, NULL},
	{"11-dsn-bounce.eml", NULL, "mailer-daemon@mx.bmt.example",
	    "Undelivered Mail Returned to Sender", "Recipient address rejected", 2,
	    "[INK-1] Potwierdzenie przyjęcia zapytania.eml", NULL},
	{"12-mailing-list.eml", NULL, "robert@drukpol.com.pl",
	    "[druk-cyfrowy] Re: Paski przy druku na banerze - Mimaki JV300",
	    "Paski zniknęły od razu.", 0, NULL, NULL},
	{"13-newsletter-bulk.eml", NULL, "newsletter@drukpol.com.pl",
	    "Nowości w ofercie: tkaniny flagowe i siatki mesh – rabat 10% do końca listopada",
	    "siatki mesh 260 g/m²", 0, NULL, NULL},
	{"14-bare-lf.eml", NULL, "jan.malinowski@wp.pl", "Tablice z dibondu 60×40 cm",
	    "dwóch tablic z dibondu 3 mm", 1, "logo-podglad.png", "bare LF line endings"},
	{"15-missing-final-boundary.eml", NULL, "anna.kowalczyk@gmail.com",
	    "Naklejki podłogowe 50×50 cm", "antypoślizgowym, 12 sztuk", 1, "szkic-naklejki.pdf",
	    "missing final boundary"},
	{"16-broken-base64.eml", NULL, "k.nowak@wp.pl", "Flagi na maszt – specyfikacja",
	    "3 flag na maszt 100×300 cm", 1, "specyfikacja-flagi.pdf", "base64 with invalid characters"},
	{"17-undeclared-8bit-cp1250.eml", NULL, "l.dabrowski@wp.pl",
	    "Zamówienie – naklejki na auta, 20 kpl.", "Łukasz Dąbrowski\nDąbrowski Usługi Remontowe",
	    0, NULL, "8-bit header text without encoding in Subject"},
	{"18-header-line-too-long.eml", "(top-level field References)", NULL, NULL, NULL, 0, NULL, NULL},
	{"19-empty.eml", "empty message", NULL, NULL, NULL, 0, NULL, NULL},
	{"20-hostile-filenames.eml", NULL, "anna.kowalczyk@gmail.com", "Pliki do zamówienia",
	    "baner 300x100 cm", 3, "../../etc/passwd", NULL},
	{"21-missing-boundary-param.eml", NULL, "biuro@reklama-baltyk.pl",
	    "Zamowienie ZAM/2026/311 - tablice PCV", "tablice PCV 5 mm 120x80 cm, 6 szt.", 1,
	    "ZAM_2026_311.pdf", "boundary taken from the body"},
	{"22-reply-with-tag.eml", NULL, "p.wisniewski@reklama-baltyk.pl",
	    "Odp: [INK-42] Oferta OF/2026/0042 – baner 500×200 cm", "akceptujemy ofertę", 0, NULL, NULL},
	{"23-signed-order-pdf.eml", NULL, "p.wisniewski@reklama-baltyk.pl",
	    "RE: [INK-42] Zamówienie ZA/2026/0042 do podpisu", "podpisane zamówienie", 2,
	    "skan strona 2 środek.jpg", NULL},
	{"24-mixed-charsets-split-words.eml", NULL, "m.wozniak@wp.pl",
	    "Wycena: żółte i zielone naklejki podłogowe 50×50 cm", "20 żółtych i 20 zielonych", 0,
	    NULL, NULL},
	{"25-own-mail-loop.eml", NULL, "biuro@bmt.example", "[INK-3] Zadanie: przygotuj kalkulację",
	    "inkflow-token: t17-3k9xq2m8vd4c6b1n7h5j", 1, NULL, NULL},
	{"26-plain-inquiry-cc.eml", NULL, "ewa.zajac@wp.pl", "Siatka mesh na rusztowanie 12×3 m",
	    "siatki mesh z nadrukiem na rusztowanie: 12 × 3 m", 0, NULL, NULL},
	{"27-thunderbird-pgp-mime-encrypted.eml", NULL, "b.grabczewski@druk-serwis.example",
	    "Zapytanie o oklejenie witryny – poufne", "", 1, "encrypted.asc",
	    "encrypted OpenPGP message (PGP/MIME)"},
	{"28-applemail-macos-decomposed-names.eml", NULL, "m.wrobel@kawiarnia-zegar.example",
	    "Fototapeta do kawiarni – wycena", "„Ściana od strony okien, zdjęcie starówki nocą”", 1,
	    "Wizualizacja ściany – wersja 2.pdf",
	    "decomposed Unicode (letters and combining marks apart) in the text and names"},
};

static void
test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(CORPUS) / sizeof(CORPUS[0]); i++) {
		const struct corpus_case *c = &CORPUS[i];
		size_t len;
		char *raw = corpus_load(c->file, &len);
		print_message("corpus %s\n", c->file);
		if (c->fail) {
			parse_fails(raw, len, NULL, c->fail);
			free(raw);
			continue;
		}
		struct mime_msg *m = parse_lim(raw, len, NULL);
		check_utf8(m);
		assert_string_equal(m->from_addr, c->from);
		assert_string_equal(m->subject, c->subject);
		if (!strstr(m->text, c->text))
			print_error("text lacks \"%s\":\n%s\n", c->text, m->text);
		assert_non_null(strstr(m->text, c->text));
		assert_int_equal(m->natts, c->natts);
		if (c->att)
			assert_non_null(att_named(m, c->att));
		if (c->note)
			want_note(m, c->note);
		assert_non_null(m->message_id);
		assert_true(m->date > 0);
		mime_msg_free(m);
		free(raw);
	}
}

/* Corpus details the other modules rely on. */
static void
test_corpus_classification(void **state)
{
	(void)state;
	size_t len;
	char *raw;
	struct mime_msg *m;

	raw = corpus_load("09-autoreply-polish.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_string_equal(m->auto_submitted, "auto-replied");
	assert_string_equal(m->x_autoreply, "yes");
	assert_string_equal(m->in_reply_to, "ink-15-3.w8r2t@bmt.example");
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("10-exchange-out-of-office.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_string_equal(m->auto_submitted, "auto-generated");
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("12-mailing-list.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_non_null(strstr(m->list_id, "<druk-cyfrowy.lists.drukpol.com.pl>"));
	assert_string_equal(m->precedence, "list");
	assert_string_equal(m->sender_addr, "druk-cyfrowy-bounces@lists.drukpol.com.pl");
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("13-newsletter-bulk.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_string_equal(m->precedence, "bulk");
	assert_non_null(m->list_unsubscribe);
	assert_int_equal(m->text_from_html, 0);
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("07-html-only.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_int_equal(m->text_from_html, 1);
	assert_null(strstr(m->text, "tracking"));
	assert_null(strstr(m->text, "font-family"));
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("22-reply-with-tag.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_string_equal(m->in_reply_to, "ink-42-5.7hq2m@bmt.example");
	assert_int_equal(m->nrefs, 2);
	assert_string_equal(m->rcpt_addrs[0], "biuro+t42-5.7hq2m@bmt.example");
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("25-own-mail-loop.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_string_equal(m->x_inkflow_loop, "5f0c3a91e2b7");
	assert_string_equal(m->message_id, "ink-3-2.zz9k1@bmt.example");
	assert_string_equal(m->atts[0].content_type, "text/calendar");
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("26-plain-inquiry-cc.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_int_equal(m->nrcpt, 3);
	assert_string_equal(m->rcpt_addrs[0], "zamowienia@bmt.example");
	assert_string_equal(m->rcpt_addrs[1], "kierownik.budowy@wp.pl");
	assert_string_equal(m->rcpt_addrs[2], "biuro@bmt.example");
	assert_string_equal(m->from_name, "Ewa Zając");
	mime_msg_free(m);
	free(raw);

	raw = corpus_load("20-hostile-filenames.eml", &len);
	m = parse_lim(raw, len, NULL);
	assert_non_null(att_named(m, "C:\\Users\\ania\\Pulpit\\logo.png"));
	int found300 = 0;
	for (size_t i = 0; i < m->natts; i++)
		if (m->atts[i].filename && strlen(m->atts[i].filename) == 300)
			found300 = 1;
	assert_true(found300);
	mime_msg_free(m);
	free(raw);
}

/* A display name tens of kilobytes long (folded over many lines) is cut
 * to 256 bytes at a character boundary: it would otherwise make the To
 * line of the answer longer than any parser, ours included, accepts. */
static void
test_display_name_shortened(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	sb_adds(&sb, "From: \"");
	for (int i = 0; i < 3000; i++)
		sb_adds(&sb, i % 40 == 39 ? "\n ż" : "Łż");
	sb_adds(&sb, "\" <klient@firma.pl>\nTo: biuro@bmt.example\nSubject: x\n\nbody\n");
	struct mime_msg *m = parse(sb.s);
	assert_string_equal(m->from_addr, "klient@firma.pl");
	size_t n = strlen(m->from_name);
	assert_true(n <= 256 && n > 240);
	assert_string_equal(m->from_name + n - 3, "\xe2\x80\xa6");
	assert_true(utf8_valid(m->from_name, n));
	assert_memory_equal(m->from_name, "Łż", 4);
	mime_msg_free(m);
	sb_free(&sb);
}

/* ------------------------------------------------------------------ */
/* winmail.dat (TNEF) */

/* A TNEF stream written here (no third-party sample): the signature, a
 * key, then attributes, each a level byte, the attribute id, the length,
 * the data and a 16-bit sum of the data bytes. */
#define T_LVL_MSG 1
#define T_LVL_ATT 2
#define T_ATT_VERSION   0x00089006u
#define T_ATT_CODEPAGE  0x00069007u
#define T_ATT_RENDDATA  0x00069002u
#define T_ATT_TITLE     0x00018010u
#define T_ATT_DATA      0x0006800fu
#define T_ATT_MAPI      0x00069005u
#define T_PT_STRING8    0x001eu
#define T_PT_UNICODE    0x001fu
#define T_PR_ATTACH_LONG_FILENAME 0x3707u

static void
le16(struct sbuf *sb, unsigned v)
{
	sb_addc(sb, (char)(v & 0xff));
	sb_addc(sb, (char)((v >> 8) & 0xff));
}

static void
le32(struct sbuf *sb, uint32_t v)
{
	le16(sb, v & 0xffff);
	le16(sb, v >> 16);
}

static void
tnef_attr(struct sbuf *sb, int level, uint32_t id, const void *data, size_t n)
{
	const unsigned char *p = data;
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += p[i];
	sb_addc(sb, (char)level);
	le32(sb, id);
	le32(sb, (uint32_t)n);
	sb_add(sb, data, n);
	le16(sb, sum & 0xffff);
}

static void
tnef_begin(struct sbuf *sb, uint32_t codepage)
{
	le32(sb, 0x223e9f78u);
	le16(sb, 0x1234);
	unsigned char v[4] = {0x00, 0x00, 0x01, 0x00};
	tnef_attr(sb, T_LVL_MSG, T_ATT_VERSION, v, 4);
	struct sbuf cp = {0};
	le32(&cp, codepage);
	le32(&cp, 0);
	tnef_attr(sb, T_LVL_MSG, T_ATT_CODEPAGE, cp.s, cp.len);
	sb_free(&cp);
}

/* utf8 as UTF-16LE with a terminating NUL unit. */
static void
utf16le(struct sbuf *u, const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	while (*s) {
		uint32_t c;
		if (*s < 0x80)
			c = *s++;
		else if (*s < 0xe0) {
			c = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
			s += 2;
		} else if (*s < 0xf0) {
			c = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
			s += 3;
		} else {
			c = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) |
			    ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
			s += 4;
		}
		if (c >= 0x10000) {
			le16(u, 0xd800 + ((c - 0x10000) >> 10));
			le16(u, 0xdc00 + ((c - 0x10000) & 0x3ff));
		} else
			le16(u, c);
	}
	le16(u, 0);
}

/* One attachment: title (8-bit, in the stream's code page) and, when
 * long_utf8 is given, PR_ATTACH_LONG_FILENAME as PT_UNICODE (UTF-16LE
 * written from the UTF-8 here). */
static void
tnef_file(struct sbuf *sb, const char *title, const char *long_utf8, const void *data, size_t n)
{
	struct sbuf r = {0};
	le16(&r, 1);           /* atyp: file */
	le32(&r, 0xffffffffu); /* position */
	le16(&r, 0);
	le16(&r, 0);
	le32(&r, 0);
	tnef_attr(sb, T_LVL_ATT, T_ATT_RENDDATA, r.s, r.len);
	sb_free(&r);
	if (title)
		tnef_attr(sb, T_LVL_ATT, T_ATT_TITLE, title, strlen(title) + 1);
	tnef_attr(sb, T_LVL_ATT, T_ATT_DATA, data, n);
	if (long_utf8) {
		struct sbuf u = {0};
		utf16le(&u, long_utf8);
		struct sbuf mp = {0};
		le32(&mp, 1); /* properties */
		le32(&mp, (T_PR_ATTACH_LONG_FILENAME << 16) | T_PT_UNICODE);
		le32(&mp, 1); /* values */
		le32(&mp, (uint32_t)u.len);
		sb_add(&mp, u.s, u.len);
		while (mp.len % 4)
			sb_addc(&mp, 0);
		tnef_attr(sb, T_LVL_ATT, T_ATT_MAPI, mp.s, mp.len);
		sb_free(&mp);
		sb_free(&u);
	}
}

/* A message-level MAPI property of a variable type (PT_BINARY,
 * PT_STRING8, PT_UNICODE): what carries the body of Outlook's "Rich Text"
 * mail (PR_RTF_COMPRESSED, PR_BODY, PR_HTML). */
#define T_ATT_MSG_MAPI 0x00069003u
#define T_PT_BINARY 0x0102u
#define T_PR_BODY 0x1000u
#define T_PR_RTF_COMPRESSED 0x1009u
#define T_PR_HTML 0x1013u

struct tprop {
	unsigned type, id;
	const void *data;
	size_t n;
};

/* The message's MAPI properties, in one attribute as Outlook writes them. */
static void
tnef_msg_props(struct sbuf *sb, const struct tprop *p, size_t n)
{
	struct sbuf mp = {0};
	le32(&mp, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		le32(&mp, (p[i].id << 16) | p[i].type);
		le32(&mp, 1);
		le32(&mp, (uint32_t)p[i].n);
		sb_add(&mp, p[i].data, p[i].n);
		while (mp.len % 4)
			sb_addc(&mp, 0);
	}
	tnef_attr(sb, T_LVL_MSG, T_ATT_MSG_MAPI, mp.s, mp.len);
	sb_free(&mp);
}

/* RTF in the compressed-RTF container, stored without compression. */
static void
rtf_stored(struct sbuf *c, const char *rtf)
{
	le32(c, (uint32_t)(strlen(rtf) + 12));
	le32(c, (uint32_t)strlen(rtf));
	sb_add(c, "MELA", 4);
	le32(c, 0);
	sb_adds(c, rtf);
}

/* A message that is only data[0..n) as winmail.dat, as Outlook sends
 * "Rich Text" mail when the recipient is marked for it. */
static char *
tnef_only_mail(const char *data, size_t n, size_t *len)
{
	struct sbuf sb = {0};
	sb_adds(&sb, "From: Jan Kowalski <jan@firma.pl>\r\n"
	    "Subject: Zapytanie\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n");
	char *b64 = compose_base64(data, n);
	for (const char *c = b64; *c; c++)
		sb_adds(&sb, *c == '\n' ? "\r\n" : (char[2]){*c, '\0'});
	free(b64);
	*len = sb.len;
	return sb_steal(&sb);
}

/* A message whose second part is data[0..n) as winmail.dat in base64. */
static char *
tnef_mail(const char *type, const char *data, size_t n, size_t *len)
{
	struct sbuf sb = {0};
	sb_printf(&sb, "From: Jan Kowalski <jan@firma.pl>\r\n"
	    "Subject: Zamowienie\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "W załączniku zamówienie.\r\n"
	    "--b\r\n"
	    "Content-Type: %s; name=\"winmail.dat\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
	    "\r\n", type);
	char *b64 = compose_base64(data, n);
	for (const char *c = b64; *c; c++) /* CRLF, as the rest of the message */
		sb_adds(&sb, *c == '\n' ? "\r\n" : (char[2]){*c, '\0'});
	free(b64);
	sb_adds(&sb, "\r\n--b--\r\n");
	*len = sb.len;
	return sb_steal(&sb);
}

static const char T_PDF[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n\0binary\xff tail\n%%EOF\n";
static const char T_JPEG[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";
static const char T_PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

static void
test_tnef_unpack(void **state)
{
	(void)state;
	struct sbuf t = {0};
	tnef_begin(&t, 1250);
	/* Outlook: the 8.3 title and the long name in UTF-16 */
	tnef_file(&t, "ZAMWIE~1.PDF", "Zamówienie żółte.pdf", T_PDF, sizeof(T_PDF) - 1);
	/* an old client: only the title, "Łódź.jpg" in Windows-1250 */
	tnef_file(&t, "\xa3\xf3" "d\x9f.jpg", NULL, T_JPEG, sizeof(T_JPEG) - 1);
	/* a character outside the BMP (a UTF-16 surrogate pair) */
	tnef_file(&t, "LOGO~1.PNG", "logo \xf0\x9f\x98\x80.png", T_PNG, sizeof(T_PNG) - 1);
	size_t len;
	char *raw = tnef_mail("application/ms-tnef", t.s, t.len, &len);
	struct mime_msg *m = parse_lim(raw, len, NULL);
	assert_string_equal(m->text, "W załączniku zamówienie.");
	assert_int_equal(m->natts, 4);
	/* winmail.dat stays, first, as sent */
	assert_string_equal(m->atts[0].filename, "winmail.dat");
	assert_string_equal(m->atts[0].content_type, "application/ms-tnef");
	assert_int_equal(m->atts[0].len, t.len);
	assert_memory_equal(m->atts[0].data, t.s, t.len);

	const struct mime_att *a = att_named(m, "Zamówienie żółte.pdf");
	assert_non_null(a);
	assert_ptr_equal(a, &m->atts[1]);
	assert_string_equal(a->content_type, "application/pdf");
	assert_int_equal(a->len, sizeof(T_PDF) - 1);
	assert_memory_equal(a->data, T_PDF, a->len);
	assert_int_equal(a->data[a->len], '\0');
	assert_int_equal(a->body_off, 0);
	assert_int_equal(a->body_len, 0);
	assert_int_equal(a->base64, 0);
	assert_int_equal(a->is_inline, 0);
	assert_int_equal(a->is_message, 0);
	assert_null(a->content_id);

	a = att_named(m, "Łódź.jpg");
	assert_non_null(a);
	assert_string_equal(a->content_type, "image/jpeg");
	assert_int_equal(a->len, sizeof(T_JPEG) - 1);
	assert_memory_equal(a->data, T_JPEG, a->len);

	a = att_named(m, "logo \xf0\x9f\x98\x80.png");
	assert_non_null(a);
	assert_string_equal(a->content_type, "image/png");
	assert_memory_equal(a->data, T_PNG, a->len);
	assert_int_equal(m->nnotes, 0);
	mime_msg_free(m);
	free(raw);

	/* the other content type, and a part known by its name alone */
	raw = tnef_mail("application/vnd.ms-tnef", t.s, t.len, &len);
	m = parse_lim(raw, len, NULL);
	assert_int_equal(m->natts, 4);
	mime_msg_free(m);
	free(raw);
	raw = tnef_mail("application/octet-stream", t.s, t.len, &len);
	m = parse_lim(raw, len, NULL);
	assert_int_equal(m->natts, 4);
	assert_non_null(att_named(m, "Łódź.jpg"));
	mime_msg_free(m);
	free(raw);
	sb_free(&t);
}

/* Parses raw with stdout sent to a file; asserts nothing was written. */
static struct mime_msg *
parse_quiet(const char *raw, size_t len)
{
	fflush(stdout);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(1);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 1) >= 0);
	struct mime_msg *m = parse_lim(raw, len, NULL);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	assert_int_equal(fseek(tmp, 0, SEEK_END), 0);
	assert_int_equal(ftell(tmp), 0);
	fclose(tmp);
	return m;
}

static void
test_tnef_garbage(void **state)
{
	(void)state;
	struct sbuf t = {0};
	tnef_begin(&t, 1252);
	tnef_file(&t, "ORDER.PDF", "order.pdf", T_PDF, sizeof(T_PDF) - 1);
	tnef_file(&t, "PHOTO.JPG", NULL, T_JPEG, sizeof(T_JPEG) - 1);
	/* cut inside the second file's data, then flipped bytes, then noise
	 * after a good signature, then no signature at all */
	size_t cuts[] = {t.len - 8, t.len};
	for (size_t k = 0; k < 4; k++) {
		struct sbuf bad = {0};
		if (k < 2)
			sb_add(&bad, t.s, cuts[k]);
		if (k == 1)
			bad.s[bad.len - 20] ^= 0x55; /* checksum mismatch */
		if (k == 2) {
			sb_add(&bad, t.s, 6);
			for (unsigned i = 0; i < 4000; i++)
				sb_addc(&bad, (char)(i * 2654435761u >> 13));
		}
		if (k == 3)
			sb_adds(&bad, "this is not TNEF at all");
		size_t len;
		char *raw = tnef_mail("application/ms-tnef", bad.s, bad.len, &len);
		struct mime_msg *m = parse_quiet(raw, len);
		assert_int_equal(m->natts, 1);
		assert_string_equal(m->atts[0].filename, "winmail.dat");
		assert_int_equal(m->atts[0].len, bad.len);
		assert_memory_equal(m->atts[0].data, bad.s, bad.len);
		want_note(m, "winmail.dat (TNEF) not unpacked");
		if (k == 3)
			want_note(m, "not a TNEF stream");
		assert_string_equal(m->text, "W załączniku zamówienie.");
		mime_msg_free(m);
		free(raw);
		sb_free(&bad);
	}
	sb_free(&t);
}

static void
test_tnef_file_cap(void **state)
{
	(void)state;
	struct sbuf t = {0};
	tnef_begin(&t, 1252);
	for (int i = 0; i < 105; i++) {
		char name[32], data[32];
		snprintf(name, sizeof(name), "F%03d.TXT", i);
		snprintf(data, sizeof(data), "file %d", i);
		tnef_file(&t, name, NULL, data, strlen(data));
	}
	size_t len;
	char *raw = tnef_mail("application/ms-tnef", t.s, t.len, &len);
	struct mime_msg *m = parse_lim(raw, len, NULL);
	assert_int_equal(m->natts, 1 + 100);
	assert_string_equal(m->atts[1].filename, "F000.TXT");
	assert_string_equal(m->atts[1].content_type, "text/plain");
	assert_string_equal(m->atts[100].filename, "F099.TXT");
	assert_int_equal(m->atts[100].len, 7);
	assert_memory_equal(m->atts[100].data, "file 99", 7);
	want_note(m, "more than 100 files");
	mime_msg_free(m);
	free(raw);
	sb_free(&t);
}

static void
test_tnef_body(void **state)
{
	(void)state;
	static const char RTF[] =
	    "{\\rtf1\\ansi\\ansicpg1250\\deff0{\\fonttbl{\\f0\\fswiss\\fcharset238 Arial;}}"
	    "\\f0\\fs20 Dzie\\'f1 dobry,\\par\\par prosz\\'ea o wycen\\'ea 500 ulotek A5."
	    "\\par Jan\\par}";
	struct sbuf t = {0};
	size_t len;
	struct mime_msg *m;
	char reason[256];

	/* RTF only, the stream the whole message, a file beside it */
	struct sbuf c = {0};
	rtf_stored(&c, RTF);
	tnef_begin(&t, 1250);
	tnef_msg_props(&t, &(struct tprop){T_PT_BINARY, T_PR_RTF_COMPRESSED, c.s, c.len}, 1);
	sb_free(&c);
	tnef_file(&t, "ULOTKA.PDF", "ulotka.pdf", T_PDF, sizeof(T_PDF) - 1);
	char *raw = tnef_only_mail(t.s, t.len, &len);
	assert_int_equal(mime_parse(raw, len, NULL, &m, reason, sizeof(reason)), 0);
	assert_string_equal(m->text, "Dzień dobry,\n\nproszę o wycenę 500 ulotek A5.\nJan");
	assert_int_equal(m->text_from_html, 0);
	want_note(m, "text read from winmail.dat (RTF)");
	assert_int_equal(m->natts, 2);
	assert_string_equal(m->atts[1].filename, "ulotka.pdf");
	mime_msg_free(m);
	free(raw);

	/* a text part beside it says it all: the RTF is not read into it */
	raw = tnef_mail("application/ms-tnef", t.s, t.len, &len);
	assert_int_equal(mime_parse(raw, len, NULL, &m, reason, sizeof(reason)), 0);
	assert_string_equal(m->text, "W załączniku zamówienie.");
	mime_msg_free(m);
	free(raw);
	sb_free(&t);

	/* the plain body (UTF-16) wins over the RTF */
	struct sbuf u = {0};
	utf16le(&u, "Guten Tag,\r\nwir bitten um ein Angebot für 200 Plakate.\r\n");
	rtf_stored(&c, "{\\rtf1 nicht dieser Text}");
	tnef_begin(&t, 1252);
	struct tprop both[] = {{T_PT_UNICODE, T_PR_BODY, u.s, u.len},
	    {T_PT_BINARY, T_PR_RTF_COMPRESSED, c.s, c.len}};
	tnef_msg_props(&t, both, 2);
	sb_free(&u);
	sb_free(&c);
	raw = tnef_only_mail(t.s, t.len, &len);
	assert_int_equal(mime_parse(raw, len, NULL, &m, reason, sizeof(reason)), 0);
	assert_string_equal(m->text, "Guten Tag,\nwir bitten um ein Angebot für 200 Plakate.\n");
	want_note(m, "text read from winmail.dat (plain text)");
	mime_msg_free(m);
	free(raw);
	sb_free(&t);

	/* HTML Outlook wrapped in RTF */
	rtf_stored(&c, "{\\rtf1\\ansi\\ansicpg1250\\fromhtml1 {\\*\\htmltag19 <html>}"
	    "{\\*\\htmltag50 <body>}\\htmlrtf {\\htmlrtf0 Zatwierdzam"
	    "{\\*\\htmltag116 <br>}\\htmlrtf \\line \\htmlrtf0 Anna Nowak\\htmlrtf }"
	    "\\htmlrtf0 {\\*\\htmltag58 </body>}{\\*\\htmltag27 </html>}}");
	tnef_begin(&t, 1250);
	tnef_msg_props(&t, &(struct tprop){T_PT_BINARY, T_PR_RTF_COMPRESSED, c.s, c.len}, 1);
	sb_free(&c);
	raw = tnef_only_mail(t.s, t.len, &len);
	assert_int_equal(mime_parse(raw, len, NULL, &m, reason, sizeof(reason)), 0);
	assert_string_equal(m->text, "Zatwierdzam\nAnna Nowak");
	assert_int_equal(m->text_from_html, 1);
	want_note(m, "text read from winmail.dat (HTML in RTF)");
	mime_msg_free(m);
	free(raw);
	sb_free(&t);

	/* compressed: MS-OXRTFCP's own example */
	static const unsigned char LZFU[] =
	    "-\0\0\0+\0\0\0LZFu\xf1\xc5\xc7\xa7\x03\0\n\0rcpg125B2\n\xf3 hel\t\0 bw\x05\xb0"
	    "ld}\n\x80\x0f\xa0";
	tnef_begin(&t, 1252);
	tnef_msg_props(&t, &(struct tprop){T_PT_BINARY, T_PR_RTF_COMPRESSED, LZFU, sizeof(LZFU) - 1}, 1);
	raw = tnef_only_mail(t.s, t.len, &len);
	assert_int_equal(mime_parse(raw, len, NULL, &m, reason, sizeof(reason)), 0);
	assert_string_equal(m->text, "hello world");
	mime_msg_free(m);
	free(raw);
	sb_free(&t);

	/* a broken compressed stream: no text, the message still read */
	static const unsigned char BAD[] = "\x30\0\0\0\xff\xff\0\0LZFu\0\0\0\0\xff\xff\xff";
	tnef_begin(&t, 1252);
	tnef_msg_props(&t, &(struct tprop){T_PT_BINARY, T_PR_RTF_COMPRESSED, BAD, sizeof(BAD) - 1}, 1);
	raw = tnef_only_mail(t.s, t.len, &len);
	assert_int_equal(mime_parse(raw, len, NULL, &m, reason, sizeof(reason)), 0);
	assert_string_equal(m->text, "");
	mime_msg_free(m);
	free(raw);
	sb_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2047_b_q),
		cmocka_unit_test(test_rfc2047_split_char),
		cmocka_unit_test(test_rfc2047_adjacent_joined),
		cmocka_unit_test(test_rfc2047_mixed_charsets),
		cmocka_unit_test(test_rfc2047_invalid_kept),
		cmocka_unit_test(test_defect_ew_in_quotes),
		cmocka_unit_test(test_defect_ew_sloppy),
		cmocka_unit_test(test_charset_conversions),
		cmocka_unit_test(test_charset_labels),
		cmocka_unit_test(test_charset_real_world),
		cmocka_unit_test(test_header_unfolded_line),
		cmocka_unit_test(test_defect_unknown_charset),
		cmocka_unit_test(test_defect_ascii_with_8bit),
		cmocka_unit_test(test_defect_latin2_cp1250),
		cmocka_unit_test(test_defect_bad_utf8),
		cmocka_unit_test(test_defect_undeclared_8bit_body),
		cmocka_unit_test(test_defect_8bit_headers),
		cmocka_unit_test(test_defect_utf8_cut),
		cmocka_unit_test(test_rfc2231_simple),
		cmocka_unit_test(test_rfc2231_continuations),
		cmocka_unit_test(test_defect_rfc2047_filename),
		cmocka_unit_test(test_defect_unquoted_param),
		cmocka_unit_test(test_body_prefers_plain),
		cmocka_unit_test(test_body_html_only),
		cmocka_unit_test(test_body_multiple_inline_plain),
		cmocka_unit_test(test_message_rfc822_kept),
		cmocka_unit_test(test_smime_opaque),
		cmocka_unit_test(test_pgp_encrypted),
		cmocka_unit_test(test_nfd_composed),
		cmocka_unit_test(test_unlabelled_in_message_charset),
		cmocka_unit_test(test_uuencode),
		cmocka_unit_test(test_attachment_types),
		cmocka_unit_test(test_shown_by_content_id),
		cmocka_unit_test(test_pgp_inline_signed),
		cmocka_unit_test(test_defect_message_base64),
		cmocka_unit_test(test_tnef_unpack),
		cmocka_unit_test(test_tnef_garbage),
		cmocka_unit_test(test_tnef_file_cap),
		cmocka_unit_test(test_tnef_body),
		cmocka_unit_test(test_attachment_rules),
		cmocka_unit_test(test_format_flowed),
		cmocka_unit_test(test_html_to_text),
		cmocka_unit_test(test_dsn_bounce),
		cmocka_unit_test(test_classification_fields),
		cmocka_unit_test(test_defect_bare_lf),
		cmocka_unit_test(test_defect_no_mime_version),
		cmocka_unit_test(test_defect_missing_final_boundary),
		cmocka_unit_test(test_defect_empty_part),
		cmocka_unit_test(test_defect_missing_boundary),
		cmocka_unit_test(test_defect_base64_garbage),
		cmocka_unit_test(test_defect_unknown_cte),
		cmocka_unit_test(test_defect_placeholder_plain),
		cmocka_unit_test(test_defect_exchange_att_text),
		cmocka_unit_test(test_defect_rich_text),
		cmocka_unit_test(test_defect_no_blank_line),
		cmocka_unit_test(test_defect_from_line),
		cmocka_unit_test(test_defect_address_list),
		cmocka_unit_test(test_defect_name_bare_addr),
		cmocka_unit_test(test_defect_named_single_part),
		cmocka_unit_test(test_defect_headerless_part),
		cmocka_unit_test(test_defect_text_no_subtype),
		cmocka_unit_test(test_defect_underscore_charset),
		cmocka_unit_test(test_defect_wide_label_utf8),
		cmocka_unit_test(test_defect_unlabelled_jis),
		cmocka_unit_test(test_limit_message_size),
		cmocka_unit_test(test_limit_header_size),
		cmocka_unit_test(test_limit_header_line),
		cmocka_unit_test(test_limit_parts),
		cmocka_unit_test(test_limit_address_list),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_attachment),
		cmocka_unit_test(test_limit_defaults),
		cmocka_unit_test(test_guard_bad_boundary),
		cmocka_unit_test(test_guard_comment_nesting),
		cmocka_unit_test(test_guard_markers),
		cmocka_unit_test(test_garbage_random),
		cmocka_unit_test(test_garbage_empty),
		cmocka_unit_test(test_garbage_headers_only),
		cmocka_unit_test(test_garbage_binary_no_from),
		cmocka_unit_test(test_encode_header_ascii),
		cmocka_unit_test(test_encode_header_roundtrip),
		cmocka_unit_test(test_encode_header_crlf),
		cmocka_unit_test(test_encode_phrase),
		cmocka_unit_test(test_encode_param),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_corpus_classification),
		cmocka_unit_test(test_display_name_shortened),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
