/*
 * Unit tests for route.c: the [INK-n] subject tag, reply/forward prefixes,
 * and our Message-IDs in bounce text; and doc.c's reading of document
 * numbers that route mail to a project.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "route.h"
#include "util.h"

static int64_t
tag(const char *subject)
{
	int64_t n = -7;
	if (!route_subject_tag(subject, &n))
		return 0;
	assert_true(n > 0);
	return n;
}

static void
test_tag_found(void **state)
{
	(void)state;
	assert_int_equal(tag("[INK-12] Baner"), 12);
	assert_int_equal(tag("Baner 3x1 m [INK-12]"), 12);
	assert_int_equal(tag("Baner [INK-12] 3x1 m"), 12);
	assert_int_equal(tag("[ink-12]"), 12);
	assert_int_equal(tag("[Ink-7]"), 7);
	assert_int_equal(tag("[ INK-12 ]"), 12);
	assert_int_equal(tag("[INK-12  ]"), 12);
	assert_int_equal(tag("[   ink-3]"), 3);
	assert_int_equal(tag("[INK-1]"), 1);
	assert_int_equal(tag("[INK-007]"), 7);
	assert_int_equal(tag("[INK-999999999999]"), 999999999999); /* 12 digits */
	assert_int_equal(tag("Zapytanie[INK-5]bez spacji"), 5);
	assert_int_equal(tag("Potwierdzenie przyjęcia zapytania [INK-42]: Baner 3×1 m"), 42);
}

static void
test_tag_after_prefixes(void **state)
{
	(void)state;
	assert_int_equal(tag("Re: [INK-12] Baner"), 12);
	assert_int_equal(tag("RE: AW: [INK-12] Baner"), 12);
	assert_int_equal(tag("Odp: [INK-12] Baner"), 12);
	assert_int_equal(tag("AW: Eingangsbestätigung [INK-12]: Roll-up"), 12);
	assert_int_equal(tag("WG: [INK-12] Baner"), 12);
	assert_int_equal(tag("Fwd: [INK-12] Baner"), 12);
	assert_int_equal(tag("FW: Re: [INK-12] Baner"), 12);
	assert_int_equal(tag("VS: [INK-12] Baner"), 12);
	assert_int_equal(tag("Re[2]: [INK-12] Baner"), 12);
}

static void
test_tag_not_found(void **state)
{
	(void)state;
	assert_int_equal(tag(NULL), 0);
	assert_int_equal(tag(""), 0);
	assert_int_equal(tag("Baner 3x1 m"), 0);
	assert_int_equal(tag("[INK-]"), 0);
	assert_int_equal(tag("[INK-0]"), 0);
	assert_int_equal(tag("[INK-000]"), 0);
	assert_int_equal(tag("[INK-12a]"), 0);
	assert_int_equal(tag("[INK-a12]"), 0);
	assert_int_equal(tag("[INK-12"), 0);
	assert_int_equal(tag("INK-12"), 0);
	assert_int_equal(tag("INK-12]"), 0);
	assert_int_equal(tag("[INK-1 2]"), 0);
	assert_int_equal(tag("[INK- 12]"), 0);
	assert_int_equal(tag("[INK--12]"), 0);
	assert_int_equal(tag("[INK-+12]"), 0);
	assert_int_equal(tag("[INKA-12]"), 0);
	assert_int_equal(tag("[XINK-12]"), 0);
	assert_int_equal(tag("[IN-12]"), 0);
	assert_int_equal(tag("["), 0);
	assert_int_equal(tag("[INK"), 0);
	assert_int_equal(tag("[INK-"), 0);
	/* 13 and more digits: not a project number. */
	assert_int_equal(tag("[INK-1000000000000]"), 0);
	assert_int_equal(tag("[INK-9999999999999]"), 0);
	assert_int_equal(tag("[INK-99999999999999999999999]"), 0);
}

static void
test_tag_first_valid_wins(void **state)
{
	(void)state;
	assert_int_equal(tag("[INK-0] [INK-12a] [INK-5]"), 5);
	assert_int_equal(tag("[INK-5 [INK-6]"), 6);
	assert_int_equal(tag("[INK-3] [INK-4]"), 3);
	assert_int_equal(tag("[[INK-8]]"), 8);
}

static void
assert_clean(const char *in, const char *want)
{
	char *got = route_clean_subject(in);
	assert_string_equal(got, want);
	free(got);
}

static void
test_clean_subject(void **state)
{
	(void)state;
	assert_clean("RE: AW: Odp: [INK-12] Baner 3×1 m", "Baner 3×1 m");
	assert_clean("Re[2]: x", "x");
	assert_clean("Re(3): x", "x");
	assert_clean("[EXTERNAL] RE: x", "x");
	assert_clean("[EXT] Fwd: x", "x");
	assert_clean("Fwd: FW: Zapytanie", "Zapytanie");
	assert_clean("Zapytanie", "Zapytanie");
	assert_clean("", "");
	assert_clean(NULL, "");
	assert_clean("   ", "");
	assert_clean("Re:", "");
	assert_clean("re: RE: Re:x", "x");
	assert_clean("ODP: odp: Oferta", "Oferta");
	assert_clean("WG: AW: Anfrage Roll-up", "Anfrage Roll-up");
	assert_clean("VS: SV: Antw: PD: Tr: x", "x");
	assert_clean("Re : x", "x");
	assert_clean("Re\xef\xbc\x9a x", "x"); /* full-width colon */
	assert_clean("Re:\tx", "x");
}

static void
test_clean_subject_tag_positions(void **state)
{
	(void)state;
	assert_clean("[INK-12] Baner", "Baner");
	assert_clean("Baner [INK-12]", "Baner");
	assert_clean("Baner [INK-12] 3×1 m", "Baner 3×1 m");
	assert_clean("Re: [ INK-12 ] Baner", "Baner");
	assert_clean("Re: [INK-1] [INK-2] x", "x");
	assert_clean("[INK-12] Re: x", "x");
	/* Not a tag: kept as written. */
	assert_clean("Re: [INK-0] x", "[INK-0] x");
	assert_clean("Re: [INK-12a] x", "[INK-12a] x");
	/* A bracket before the tag is not part of it. */
	assert_clean("Zapytanie [pilne [INK-5] baner", "Zapytanie [pilne baner");
	/* A bracket marker not followed by a prefix is the client's own text. */
	assert_clean("[Pilne] Baner", "[Pilne] Baner");
}

static void
test_clean_subject_not_prefixes(void **state)
{
	(void)state;
	/* Words that merely begin like a prefix stay. */
	assert_clean("Rezerwacja terminu", "Rezerwacja terminu");
	assert_clean("Reklama: baner", "Reklama: baner");
	assert_clean("Awaria drukarki", "Awaria drukarki");
	assert_clean("Fwdx: a", "Fwdx: a");
	assert_clean("Baner Re: x", "Baner Re: x");
	assert_clean("[very long gateway marker] Re: x", "[very long gateway marker] Re: x");
}

static void
free_ids(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static void
test_find_our_ids_dsn(void **state)
{
	(void)state;
	const char *dsn =
	    "This is the mail system at host mx.client.example.\n"
	    "\n"
	    "<jan@client.example>: host mx.client.example said: 550 5.1.1 User unknown\n"
	    "\n"
	    "Reporting-MTA: dns; mx.bmt.example\n"
	    "Original-Recipient: rfc822;jan@client.example\n"
	    "\n"
	    "Message-ID: <ink-3-abc@bmt.example>\n"
	    "In-Reply-To: <CAF12345@mail.gmail.com>\n"
	    "References: <ink-2-ffff@bmt.example.org> <ink-2-eeee@other.example>\n"
	    " <abc-1@bmt.example> <xink-9-z@bmt.example> <ink-3-abc@bmt.example>\n"
	    " <ink-4-def@bmt.examplex> <ink-5-a@sub.bmt.example>\n"
	    "X-Ref: ink-7-bare@BMT.EXAMPLE, (ink-8-paren@bmt.example)\n"
	    "From: BOK <bok@bmt.example>\n";
	char **ids = NULL;
	size_t n = 0;
	assert_int_equal(route_find_our_ids(dsn, "bmt.example", &ids, &n), 3);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], "ink-3-abc@bmt.example");
	assert_string_equal(ids[1], "ink-7-bare@BMT.EXAMPLE");
	assert_string_equal(ids[2], "ink-8-paren@bmt.example");

	/* A second scan adds only what is new. */
	assert_int_equal(route_find_our_ids("<ink-3-abc@bmt.example> <ink-9-q@bmt.example>",
	                     "bmt.example", &ids, &n),
	    1);
	assert_int_equal(n, 4);
	assert_string_equal(ids[3], "ink-9-q@bmt.example");
	free_ids(ids, n);
}

static void
test_find_our_ids_none(void **state)
{
	(void)state;
	char **ids = NULL;
	size_t n = 0;
	assert_int_equal(route_find_our_ids(NULL, "bmt.example", &ids, &n), 0);
	assert_int_equal(route_find_our_ids("", "bmt.example", &ids, &n), 0);
	assert_int_equal(route_find_our_ids("<ink-1-a@bmt.example>", "", &ids, &n), 0);
	assert_int_equal(route_find_our_ids("no ids here @ all @", "bmt.example", &ids, &n), 0);
	assert_int_equal(route_find_our_ids("@bmt.example", "bmt.example", &ids, &n), 0);
	assert_int_equal(route_find_our_ids("<jan@bmt.example> <ink@bmt.example>", "bmt.example",
	                     &ids, &n),
	    0);
	assert_int_equal(n, 0);
	assert_null(ids);
}

static void
test_find_our_ids_cap(void **state)
{
	(void)state;
	struct sbuf sb = {0};
	/* 70 distinct ids, each followed by a duplicate of the first: the
	 * duplicates neither count nor take a slot. */
	for (int i = 1; i <= 70; i++)
		sb_printf(&sb, "References: <ink-%d-x@bmt.example> <ink-1-x@bmt.example>\n", i);
	char **ids = NULL;
	size_t n = 0;
	assert_int_equal(route_find_our_ids(sb_str(&sb), "bmt.example", &ids, &n), 64);
	assert_int_equal(n, 64);
	assert_string_equal(ids[0], "ink-1-x@bmt.example");
	assert_string_equal(ids[63], "ink-64-x@bmt.example");
	/* Full: nothing more is added. */
	assert_int_equal(route_find_our_ids("<ink-99-y@bmt.example>", "bmt.example", &ids, &n), 0);
	assert_int_equal(n, 64);
	free_ids(ids, n);
	sb_free(&sb);
}

static void
test_bare_tag(void **state)
{
	(void)state;
	int64_t n = 0;
	assert_int_equal(route_subject_bare_tag("Pliki do INK-7", &n), 1);
	assert_int_equal(n, 7);
	assert_int_equal(route_subject_bare_tag("ink-12: poprawki.", &n), 1);
	assert_int_equal(n, 12);
	assert_int_equal(route_subject_bare_tag("(INK-3)", &n), 1);
	assert_int_equal(n, 3);
	static const char *const no[] = {"PINK-7 folia", "INK-7b", "INK-7-2", "INK-", "INK-0",
	    "abcINK-5", "INK-1234567890123", "\xc5\xbcINK-4", "Zlecenie 7", ""};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(route_subject_bare_tag(no[i], &n), 0);
	assert_int_equal(route_subject_bare_tag(NULL, &n), 0);
}

static void
test_subject_forward(void **state)
{
	(void)state;
	static const char *yes[] = {"Fwd: Zapytanie", "FW: AW: Angebot", "AW: WG: Angebot",
	    "PD: oferta", "Tr : devis", "RV: presupuesto", "  fwd:x", "Re: Fwd: x",
	    "Doorst: offerte"};
	static const char *no[] = {"Re: Zapytanie", "Trasa: Poznań", "Fwdx: a", "Fw", "",
	    "Zapytanie Fwd: x", "Odp: Re: x"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(route_subject_forward(yes[i]), 1);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(route_subject_forward(no[i]), 0);
	assert_int_equal(route_subject_forward(NULL), 0);
}

static void
test_doc_numbers(void **state)
{
	(void)state;
	char f[4][DOC_NUMBER_MAX];
	assert_int_equal(doc_numbers_find("Zam\xc3\xb3wienie ZA/2026/0042 podpisane", 1000, f, 4), 1);
	assert_string_equal(f[0], "ZA/2026/0042");
	/* As typed and as file names, each kept once, in order. */
	assert_int_equal(doc_numbers_find("oferta of/2026/42, skan ZA-2026-0007 skan.pdf; "
	                                  "ZA_2026_0007.jpg i OF / 2026 / 0042.",
	                     1000, f, 4),
	    2);
	assert_string_equal(f[0], "OF/2026/0042");
	assert_string_equal(f[1], "ZA/2026/0007");
	assert_int_equal(doc_numbers_find("RK/2026/0001 WZ/2027/12 KA/2026/3 ZW/2026/4", 1000, f, 4),
	    4);
	assert_string_equal(f[0], "RK/2026/0001");
	assert_string_equal(f[1], "WZ/2027/0012");
	/* Not numbers: other prefixes, glued to words, years and sizes. */
	static const char *const no[] = {"FOF/2026/0042", "OF/2026/0042b", "OF/26/0042",
	    "OF/1999/0042", "OF/2026/0", "OF/2026/1234567", "OF2026/0042", "OF//2026/1",
	    "za 2026 42", "Banner 300/2026/1", "\xc5\xbcOF/2026/1", "OF/2026/", ""};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(doc_numbers_find(no[i], 1000, f, 4), 0);
	assert_int_equal(doc_numbers_find(NULL, 1000, f, 4), 0);
	/* Bounded: only scan bytes are read, at most max kept. */
	assert_int_equal(doc_numbers_find("xxxxx OF/2026/0042", 10, f, 4), 0);
	assert_int_equal(doc_numbers_find("OF/2026/1 OF/2026/2 OF/2026/3", 1000, f, 2), 2);
	assert_string_equal(f[1], "OF/2026/0002");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_found),
		cmocka_unit_test(test_tag_after_prefixes),
		cmocka_unit_test(test_tag_not_found),
		cmocka_unit_test(test_tag_first_valid_wins),
		cmocka_unit_test(test_bare_tag),
		cmocka_unit_test(test_clean_subject),
		cmocka_unit_test(test_clean_subject_tag_positions),
		cmocka_unit_test(test_clean_subject_not_prefixes),
		cmocka_unit_test(test_find_our_ids_dsn),
		cmocka_unit_test(test_find_our_ids_none),
		cmocka_unit_test(test_find_our_ids_cap),
		cmocka_unit_test(test_subject_forward),
		cmocka_unit_test(test_doc_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
