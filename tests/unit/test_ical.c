/*
 * Unit tests for ical.c: one REQUEST byte for byte, TEXT escaping of Polish
 * text, folding at 75 octets without splitting UTF-8, parameter quoting,
 * CANCEL and PUBLISH per RFC 5546, the EU time-zone rule at every
 * transition (checked hour by hour against the system's tz database) and
 * its independence from the process TZ, the UTC fallback, and refusals.
 *
 * With "--emit DIR" the program instead writes the sample calendars the
 * integration test tests/integration/test_ical.py reads with an independent
 * parser (python3-icalendar): request.ics, cancel.ics, publish.ics, utc.ics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ical.h"
#include "util.h"

/* 2026-11-27 13:00:00 UTC = 14:00 in Warsaw; the stamp is 12:03:00 UTC. */
#define T_NOV INT64_C(1795784400)
#define T_STAMP INT64_C(1795780980)
/* 2026-07-15 10:00:00 UTC = 12:00 CEST. */
#define T_JUL INT64_C(1784109600)

static const char POLISH[] = "Zatwierdź kalkulację; pilne, dziś";
static const char POLISH_ESC[] = "Zatwierdź kalkulację\\; pilne\\, dziś";

static struct ical_event
sample(void)
{
	struct ical_event e = {
		.task = 42,
		.sequence = 0,
		.summary = POLISH,
		.description = "Projekt INK-7\nKlient: Reklama Bałtyk, Gdańsk",
		.start = T_NOV,
		.duration = 1800,
		.organizer_name = "BMT Druk",
		.organizer_addr = "biuro@bmt.example",
		.attendee_name = "Marek Zieliński",
		.attendee_addr = "marek.zielinski@bmt.example",
	};
	return e;
}

/* ---- helpers ------------------------------------------------------------ */

/* The physical-line rules of RFC 5545 3.1 on a whole object: CRLF after
 * every line and nowhere else, at most 75 octets a line, continuations
 * start with one space followed by the first byte of a character, every
 * physical line on its own is well-formed UTF-8. */
static void
assert_wellformed(const char *ics)
{
	size_t len = strlen(ics);
	assert_true(len > 2);
	assert_memory_equal(ics + len - 2, "\r\n", 2);
	const char *p = ics;
	int first = 1;
	while (*p) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		size_t n = (size_t)(e - p);
		assert_true(n <= 75);
		assert_null(memchr(p, '\r', n));
		assert_null(memchr(p, '\n', n));
		assert_true(utf8_valid(p, n));
		if (*p == ' ') {
			assert_false(first);
			assert_true(n >= 2);
			assert_int_not_equal((unsigned char)p[1] & 0xc0, 0x80);
			assert_int_not_equal(p[1], ' ');
		}
		first = 0;
		p = e + 2;
	}
}

/* The content lines: folds undone (CRLF + one space removed). */
static char *
unfold(const char *ics)
{
	struct sbuf sb = {0};
	sb_add(&sb, "", 0);
	for (const char *p = ics; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		sb_addc(&sb, *p);
	}
	return sb_steal(&sb);
}

/* 1 when the unfolded object holds the content line exactly. */
static int
has_line(const char *unfolded, const char *line)
{
	char *needle = xasprintf("\r\n%s\r\n", line);
	int r = strstr(unfolded, needle) != NULL;
	free(needle);
	return r;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The calendar, checked for form, unfolded. */
static char *
make(const char *method, const char *tzid, const struct ical_event *ev, size_t n)
{
	char *ics = ical_calendar(method, tzid, "bmt.example", ev, n, T_STAMP);
	assert_non_null(ics);
	assert_wellformed(ics);
	char *u = unfold(ics);
	free(ics);
	return u;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_request_exact(void **state)
{
	(void)state;
	static const char want[] =
	    "BEGIN:VCALENDAR\r\n"
	    "PRODID:-//inkflow//inkflow//EN\r\n"
	    "VERSION:2.0\r\n"
	    "CALSCALE:GREGORIAN\r\n"
	    "METHOD:REQUEST\r\n"
	    "BEGIN:VTIMEZONE\r\n"
	    "TZID:Europe/Warsaw\r\n"
	    "BEGIN:DAYLIGHT\r\n"
	    "TZOFFSETFROM:+0100\r\n"
	    "TZOFFSETTO:+0200\r\n"
	    "TZNAME:CEST\r\n"
	    "DTSTART:19700329T020000\r\n"
	    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
	    "END:DAYLIGHT\r\n"
	    "BEGIN:STANDARD\r\n"
	    "TZOFFSETFROM:+0200\r\n"
	    "TZOFFSETTO:+0100\r\n"
	    "TZNAME:CET\r\n"
	    "DTSTART:19701025T030000\r\n"
	    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	    "END:STANDARD\r\n"
	    "END:VTIMEZONE\r\n"
	    "BEGIN:VEVENT\r\n"
	    "UID:task-42@bmt.example\r\n"
	    "DTSTAMP:20261127T120300Z\r\n"
	    "SEQUENCE:0\r\n"
	    "DTSTART;TZID=Europe/Warsaw:20261127T140000\r\n"
	    "DTEND;TZID=Europe/Warsaw:20261127T143000\r\n"
	    "SUMMARY:Zatwierdź kalkulację\\; pilne\\, dziś\r\n"
	    "DESCRIPTION:Projekt INK-7\\nKlient: Reklama Bałtyk\\, Gdańsk\r\n"
	    "ORGANIZER;CN=BMT Druk:mailto:biuro@bmt.example\r\n"
	    /* 74 characters and a 2-octet ń: 75 octets, then the fold */
	    "ATTENDEE;CN=Marek Zieliński;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSV\r\n"
	    " P=FALSE:mailto:marek.zielinski@bmt.example\r\n"
	    "STATUS:CONFIRMED\r\n"
	    "BEGIN:VALARM\r\n"
	    "ACTION:DISPLAY\r\n"
	    "TRIGGER:-PT15M\r\n"
	    "DESCRIPTION:Zatwierdź kalkulację\\; pilne\\, dziś\r\n"
	    "END:VALARM\r\n"
	    "END:VEVENT\r\n"
	    "END:VCALENDAR\r\n";
	struct ical_event e = sample();
	char *ics = ical_calendar("REQUEST", "Europe/Warsaw", "bmt.example", &e, 1, T_STAMP);
	assert_non_null(ics);
	assert_string_equal(ics, want);
	assert_wellformed(ics);
	free(ics);
}

static void
test_escape(void **state)
{
	(void)state;
	char *s = ical_escape(POLISH);
	assert_string_equal(s, POLISH_ESC);
	free(s);
	s = ical_escape("a\\b;c,d:e\"f");
	assert_string_equal(s, "a\\\\b\\;c\\,d:e\"f"); /* colon and DQUOTE are TEXT */
	free(s);
	s = ical_escape("jeden\r\ndwa\ntrzy\rcztery\r\n");
	assert_string_equal(s, "jeden\\ndwa\\ntrzy\\ncztery\\n");
	free(s);
	s = ical_escape("tab\tbell\abs\bdel\x7f" "esc\x1b.");
	assert_string_equal(s, "tab\tbellbsdelesc.");
	free(s);
	s = ical_escape("z\xff\xfe!");
	assert_string_equal(s, "z\xef\xbf\xbd\xef\xbf\xbd!"); /* U+FFFD each */
	free(s);
	s = ical_escape(NULL);
	assert_string_equal(s, "");
	free(s);
	s = ical_escape("");
	assert_string_equal(s, "");
	free(s);
}

/* Long Polish text at every alignment: no line over 75 octets, never a cut
 * inside a character, and unfolding gives the escaped text back. */
static void
test_fold(void **state)
{
	(void)state;
	static const char *const unit[] = {"ż", "€", "𝄞", "a", "ąę; ", "Łódź, "};
	for (size_t k = 0; k < ARRAY_LEN(unit); k++)
		for (int pad = 0; pad < 8; pad++) {
			struct sbuf text = {0};
			for (int i = 0; i < pad; i++)
				sb_addc(&text, 'x');
			for (int i = 0; i < 120; i++)
				sb_adds(&text, unit[k]);
			struct ical_event e = sample();
			e.summary = sb_str(&text);
			e.description = sb_str(&text);
			char *u = make("REQUEST", "Europe/Warsaw", &e, 1);
			char *esc = ical_escape(sb_str(&text));
			char *want = xasprintf("SUMMARY:%s", esc);
			assert_true(has_line(u, want));
			free(want);
			want = xasprintf("DESCRIPTION:%s", esc);
			assert_true(has_line(u, want));
			free(want);
			free(esc);
			free(u);
			sb_free(&text);
		}

	/* Exactly 75 octets stays on one line; 76 folds. */
	struct ical_event e = sample();
	char s75[80];
	memset(s75, 'y', sizeof(s75));
	s75[75 - strlen("SUMMARY:")] = '\0';
	e.summary = s75;
	char *ics = ical_calendar("REQUEST", NULL, "bmt.example", &e, 1, T_STAMP);
	char *line = xasprintf("\r\nSUMMARY:%s\r\nDESCRIPTION", s75);
	assert_non_null(strstr(ics, line));
	free(line);
	free(ics);
	memset(s75, 'y', sizeof(s75));
	s75[76 - strlen("SUMMARY:")] = '\0';
	ics = ical_calendar("REQUEST", NULL, "bmt.example", &e, 1, T_STAMP);
	assert_wellformed(ics);
	line = xasprintf("\r\nSUMMARY:%.*s\r\n y\r\nDESCRIPTION", 75 - (int)strlen("SUMMARY:"), s75);
	assert_non_null(strstr(ics, line));
	free(line);
	free(ics);
}

static void
test_params(void **state)
{
	(void)state;
	struct ical_event e = sample();
	e.organizer_name = "Kowalski, Jan \"Szef\"; Dział: IT";
	e.attendee_name = "Anna\r\nNowak";
	char *u = make("REQUEST", "Europe/Warsaw", &e, 1);
	assert_true(has_line(u, "ORGANIZER;CN=\"Kowalski, Jan Szef; Dział: IT\":mailto:biuro@bmt.example"));
	assert_true(has_line(u, "ATTENDEE;CN=AnnaNowak;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
	                        "RSVP=FALSE:mailto:marek.zielinski@bmt.example"));
	free(u);

	/* No name, or nothing left of it: no CN at all.  Odd address bytes are
	 * %-encoded, never passed into the line. */
	e.organizer_name = NULL;
	e.attendee_name = "\"\"";
	e.attendee_addr = "jan kowalski?x=1#@bmt.example\r\nX-EVIL:1";
	e.url = "mailto:biuro+abc@bmt.example?subject=[INK-7] APPROVE\r\nX-EVIL:1";
	u = make("REQUEST", "Europe/Warsaw", &e, 1);
	assert_true(has_line(u, "ORGANIZER:mailto:biuro@bmt.example"));
	assert_true(has_line(u, "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:"
	                        "mailto:jan%20kowalski%3Fx=1%23@bmt.exampleX-EVIL%3A1"));
	assert_true(has_line(u, "URL:mailto:biuro+abc@bmt.example?subject=[INK-7]%20APPROVEX-EVIL:1"));
	assert_null(strstr(u, "\r\nX-EVIL"));
	free(u);
}

static void
test_cancel(void **state)
{
	(void)state;
	struct ical_event e = sample();
	e.sequence = 3;
	char *u = make("CANCEL", "Europe/Warsaw", &e, 1);
	assert_true(has_line(u, "METHOD:CANCEL"));
	assert_true(has_line(u, "UID:task-42@bmt.example"));
	assert_true(has_line(u, "SEQUENCE:3"));
	assert_true(has_line(u, "STATUS:CANCELLED"));
	assert_null(strstr(u, "CONFIRMED"));
	assert_null(strstr(u, "VALARM"));
	assert_int_equal(count(u, "\r\nATTENDEE;"), 1);
	assert_int_equal(count(u, "\r\nORGANIZER;"), 1);
	free(u);
}

static void
test_publish(void **state)
{
	(void)state;
	struct ical_event ev[3] = {sample(), sample(), sample()};
	ev[1].task = 43;
	ev[1].start = T_JUL;
	ev[1].duration = 0; /* the default */
	ev[1].attendee_name = NULL;
	ev[1].description = NULL;
	ev[2].task = 44;
	ev[2].cancelled = 1;
	ev[2].attendee_addr = NULL;
	char *u = make("PUBLISH", "Europe/Warsaw", ev, 3);
	assert_true(has_line(u, "METHOD:PUBLISH"));
	assert_int_equal(count(u, "BEGIN:VEVENT"), 3);
	assert_int_equal(count(u, "BEGIN:VTIMEZONE"), 1);
	assert_null(strstr(u, "ATTENDEE"));
	assert_null(strstr(u, "VALARM"));
	assert_true(has_line(u, "CONTACT:Marek Zieliński <marek.zielinski@bmt.example>"));
	assert_true(has_line(u, "CONTACT:marek.zielinski@bmt.example"));
	assert_int_equal(count(u, "\r\nCONTACT:"), 2);
	assert_true(has_line(u, "UID:task-43@bmt.example"));
	assert_true(has_line(u, "DTSTART;TZID=Europe/Warsaw:20260715T120000"));
	assert_true(has_line(u, "DTEND;TZID=Europe/Warsaw:20260715T123000"));
	assert_int_equal(count(u, "STATUS:CONFIRMED"), 2);
	assert_int_equal(count(u, "STATUS:CANCELLED"), 1);
	assert_int_equal(count(u, "\r\nDESCRIPTION:"), 2);
	free(u);

	/* An empty feed is still a calendar (with its VTIMEZONE). */
	u = make("PUBLISH", "Europe/Warsaw", NULL, 0);
	assert_null(strstr(u, "VEVENT"));
	assert_true(has_line(u, "TZID:Europe/Warsaw"));
	free(u);
}

static void
test_other_zones(void **state)
{
	(void)state;
	struct ical_event e = sample();
	char *u = make("REQUEST", "Europe/Berlin", &e, 1);
	assert_true(has_line(u, "TZID:Europe/Berlin"));
	assert_true(has_line(u, "DTSTART;TZID=Europe/Berlin:20261127T140000"));
	free(u);
	u = make("REQUEST", "Europe/Vienna", &e, 1);
	assert_true(has_line(u, "DTEND;TZID=Europe/Vienna:20261127T143000"));
	free(u);

	/* Unknown (or absent) zone: UTC with Z, no VTIMEZONE. */
	const char *unknown[] = {"America/New_York", "europe/warsaw", "", NULL};
	for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
		u = make("REQUEST", unknown[i], &e, 1);
		assert_null(strstr(u, "VTIMEZONE"));
		assert_null(strstr(u, "TZID"));
		assert_true(has_line(u, "DTSTART:20261127T130000Z"));
		assert_true(has_line(u, "DTEND:20261127T133000Z"));
		assert_true(has_line(u, "DTSTAMP:20261127T120300Z"));
		free(u);
	}
}

static void
test_transitions(void **state)
{
	(void)state;
	static const struct {
		int64_t t;
		int off;
		const char *local;
	} v[] = {
		{INT64_C(1774745999), 3600, "20260329T015959"}, /* last second of CET */
		{INT64_C(1774746000), 7200, "20260329T030000"}, /* 02:00 does not exist */
		{INT64_C(1792889999), 7200, "20261025T025959"}, /* last second of CEST */
		{INT64_C(1792890000), 3600, "20261025T020000"}, /* 02:00-03:00 again */
		{INT64_C(1806195600), 7200, "20270328T030000"},
		{INT64_C(1806195599), 3600, "20270328T015959"},
		{INT64_C(1824944400), 3600, "20271031T020000"},
		{INT64_C(1711846800), 7200, "20240331T030000"}, /* leap year */
		{INT64_C(1729990800), 3600, "20241027T020000"},
		{INT64_C(0), 3600, "19700101T010000"},
		{INT64_C(1798761599), 3600, "20270101T005959"}, /* New Year, UTC+1 */
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		assert_int_equal(ical_tz_offset("Europe/Warsaw", v[i].t), v[i].off);
		assert_int_equal(ical_tz_offset("Europe/Berlin", v[i].t), v[i].off);
		assert_int_equal(ical_tz_offset("Mars/Olympus", v[i].t), 0);
		struct ical_event e = sample();
		e.start = v[i].t;
		char *u = make("REQUEST", "Europe/Warsaw", &e, 1);
		char *want = xasprintf("DTSTART;TZID=Europe/Warsaw:%s", v[i].local);
		assert_true(has_line(u, want));
		free(want);
		free(u);
	}
}

/* Hour by hour from 1996 (when the EU rule began) to 2037, the computed
 * offset equals the system tz database's, and local wall times go back to
 * the same instant.  Skipped when the system has no Europe/Warsaw. */
static void
test_against_tzdata(void **state)
{
	(void)state;
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Warsaw", "rb");
	if (!f)
		skip();
	fclose(f);
	char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	setenv("TZ", "Europe/Warsaw", 1);
	tzset();
	for (int64_t t = INT64_C(820454400); t < INT64_C(2145916800); t += 3600 - 7) {
		time_t tt = (time_t)t;
		struct tm tm;
		assert_non_null(localtime_r(&tt, &tm));
		int off = ical_tz_offset("Europe/Warsaw", t);
		if (off != tm.tm_gmtoff)
			fail_msg("t=%lld ours %d tzdata %ld", (long long)t, off, (long)tm.tm_gmtoff);
		int64_t back;
		assert_int_equal(ical_tz_epoch("Europe/Warsaw", tm.tm_year + 1900, tm.tm_mon + 1,
		                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, &back),
		    0);
		/* The second pass through the autumn hour reads as the first. */
		if (back != t)
			assert_int_equal(back, t - 3600);
	}
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else
		unsetenv("TZ");
	tzset();
}

static void
test_tz_epoch(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(ical_tz_epoch("Europe/Warsaw", 2026, 11, 27, 14, 0, 0, &t), 0);
	assert_int_equal(t, T_NOV);
	assert_int_equal(ical_tz_epoch("Europe/Warsaw", 2026, 7, 15, 12, 0, 0, &t), 0);
	assert_int_equal(t, T_JUL);
	assert_int_equal(ical_tz_epoch("UTC", 2026, 11, 27, 13, 0, 0, &t), 0);
	assert_int_equal(t, T_NOV);
	assert_int_equal(ical_tz_epoch(NULL, 1970, 1, 1, 0, 0, 0, &t), 0);
	assert_int_equal(t, 0);
	/* Spring gap: 02:30 is read as 02:30+01:00 = 01:30 UTC. */
	assert_int_equal(ical_tz_epoch("Europe/Warsaw", 2026, 3, 29, 2, 30, 0, &t), 0);
	assert_int_equal(t, INT64_C(1774747800));
	/* Autumn overlap: 02:30 is the first one, 02:30+02:00 = 00:30 UTC. */
	assert_int_equal(ical_tz_epoch("Europe/Warsaw", 2026, 10, 25, 2, 30, 0, &t), 0);
	assert_int_equal(t, INT64_C(1792888200));
	assert_int_equal(ical_tz_epoch("Europe/Warsaw", 2028, 2, 29, 0, 0, 0, &t), 0);

	static const int bad[][6] = {
		{2027, 2, 29, 0, 0, 0}, {2026, 13, 1, 0, 0, 0}, {2026, 0, 1, 0, 0, 0},
		{2026, 4, 31, 0, 0, 0}, {1969, 12, 31, 0, 0, 0}, {10000, 1, 1, 0, 0, 0},
		{2026, 1, 1, 24, 0, 0}, {2026, 1, 1, 0, 60, 0}, {2026, 1, 1, 0, 0, 60},
		{2026, 1, 0, 0, 0, 0}, {2026, 1, 1, -1, 0, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		errno = 0;
		assert_int_equal(ical_tz_epoch("Europe/Warsaw", bad[i][0], bad[i][1], bad[i][2],
		                     bad[i][3], bad[i][4], bad[i][5], &t),
		    -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_true(ical_tz_known("Europe/Warsaw"));
	assert_false(ical_tz_known("Europe/Warsaw "));
	assert_false(ical_tz_known(NULL));
}

/* The output does not move with the process's TZ. */
static void
test_process_tz(void **state)
{
	(void)state;
	struct ical_event ev[2] = {sample(), sample()};
	ev[1].start = T_JUL;
	char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	setenv("TZ", "UTC", 1);
	tzset();
	char *a = ical_calendar("PUBLISH", "Europe/Warsaw", "bmt.example", ev, 2, T_STAMP);
	setenv("TZ", "America/Los_Angeles", 1);
	tzset();
	char *b = ical_calendar("PUBLISH", "Europe/Warsaw", "bmt.example", ev, 2, T_STAMP);
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	char *c = ical_calendar("PUBLISH", "Europe/Warsaw", "bmt.example", ev, 2, T_STAMP);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else
		unsetenv("TZ");
	tzset();
}

static void
expect_einval(const char *method, const char *domain, const struct ical_event *ev, size_t n,
    int64_t stamp)
{
	errno = 0;
	char *s = ical_calendar(method, "Europe/Warsaw", domain, ev, n, stamp);
	if (s) {
		free(s);
		fail_msg("accepted: method %s n %zu", method ? method : "(null)", n);
	}
	assert_int_equal(errno, EINVAL);
}

static void
test_refusals(void **state)
{
	(void)state;
	struct ical_event e = sample(), two[2] = {sample(), sample()};
	expect_einval("REPLY", "bmt.example", &e, 1, T_STAMP);
	expect_einval("request", "bmt.example", &e, 1, T_STAMP);
	expect_einval(NULL, "bmt.example", &e, 1, T_STAMP);
	expect_einval("REQUEST", "bmt.example", two, 2, T_STAMP);
	expect_einval("CANCEL", "bmt.example", two, 2, T_STAMP);
	expect_einval("REQUEST", "bmt.example", NULL, 0, T_STAMP);
	expect_einval("PUBLISH", "bmt.example", NULL, 1, T_STAMP);
	expect_einval("REQUEST", "bmt.example\r\nX-EVIL:1", &e, 1, T_STAMP);
	expect_einval("REQUEST", "", &e, 1, T_STAMP);
	expect_einval("REQUEST", NULL, &e, 1, T_STAMP);
	expect_einval("REQUEST", "bmt.example", &e, 1, -1);

	e.start = -1;
	expect_einval("PUBLISH", "bmt.example", &e, 1, T_STAMP);
	e.start = INT64_C(253402214400); /* 9999-12-31: the end would be past it */
	expect_einval("PUBLISH", "bmt.example", &e, 1, T_STAMP);
	e.start = T_NOV;
	e.duration = INT64_MAX;
	expect_einval("PUBLISH", "bmt.example", &e, 1, T_STAMP);
	e = sample();
	e.sequence = -1;
	expect_einval("PUBLISH", "bmt.example", &e, 1, T_STAMP);
	e = sample();
	e.organizer_addr = " \r\n";
	expect_einval("PUBLISH", "bmt.example", &e, 1, T_STAMP);
	e = sample();
	e.attendee_addr = NULL;
	expect_einval("REQUEST", "bmt.example", &e, 1, T_STAMP);
	expect_einval("CANCEL", "bmt.example", &e, 1, T_STAMP);
	e = sample();
	e.cancelled = 1;
	expect_einval("REQUEST", "bmt.example", &e, 1, T_STAMP);
	char *s = ical_calendar("CANCEL", "Europe/Warsaw", "bmt.example", &e, 1, T_STAMP);
	assert_non_null(s);
	free(s);
}

/* ---- samples for the independent parser -------------------------------- */

static int
emit_file(const char *dir, const char *name, char *ics)
{
	if (!ics) {
		fprintf(stderr, "test_ical: %s: %s\n", name, strerror(errno));
		return -1;
	}
	char *path = path_join(dir, name);
	int r = file_write_durable(path, ics, strlen(ics), 0644);
	if (r < 0)
		fprintf(stderr, "test_ical: %s: %s\n", path, strerror(errno));
	free(path);
	free(ics);
	return r;
}

/* What test_ical.py expects, in words: request.ics is task 42 (sequence 2,
 * 14:00-14:30 Warsaw on 2026-11-27, the Polish summary, a long Polish
 * description that must fold, a URL, an organizer name that needs quoting
 * and loses its DQUOTEs); cancel.ics the same task cancelled
 * (sequence 3); publish.ics tasks 42 and 43 (43 at 12:00 CEST on 2026-07-15,
 * 45 minutes) and 44 just after the spring change; utc.ics task 42 with an
 * unknown zone.  The stamp is 2026-11-27 12:03:00 UTC. */
static int
emit_samples(const char *dir)
{
	struct sbuf desc = {0};
	for (int i = 0; i < 6; i++)
		sb_adds(&desc, "Żółta łódź; gęś, jaźń — zażółć gęślą jaźń. ");
	sb_adds(&desc, "\nLinia druga: \\ koniec");
	struct ical_event e = sample();
	e.sequence = 2;
	e.description = sb_str(&desc);
	e.url = "mailto:biuro+tok@bmt.example?subject=%5BINK-7%5D%20APPROVE";
	e.organizer_name = "BMT Druk; Biuro, Obsługa: \"Gdańsk\"";
	int r = emit_file(dir, "request.ics",
	    ical_calendar("REQUEST", "Europe/Warsaw", "bmt.example", &e, 1, T_STAMP));
	e.sequence = 3;
	e.cancelled = 1;
	r |= emit_file(dir, "cancel.ics",
	    ical_calendar("CANCEL", "Europe/Warsaw", "bmt.example", &e, 1, T_STAMP));
	struct ical_event ev[3] = {sample(), sample(), sample()};
	ev[1].task = 43;
	ev[1].start = T_JUL;
	ev[1].duration = 2700;
	ev[1].summary = "Przygotuj kalkulację";
	ev[1].attendee_name = "Anna Nowak";
	ev[1].attendee_addr = "anna.nowak@bmt.example";
	ev[2].task = 44;
	ev[2].start = INT64_C(1774746000); /* 2026-03-29 03:00 CEST */
	ev[2].summary = "Po zmianie czasu";
	r |= emit_file(dir, "publish.ics",
	    ical_calendar("PUBLISH", "Europe/Warsaw", "bmt.example", ev, 3, T_STAMP));
	e = sample();
	r |= emit_file(dir, "utc.ics",
	    ical_calendar("REQUEST", "Antarctica/Troll", "bmt.example", &e, 1, T_STAMP));
	sb_free(&desc);
	return r < 0 ? 1 : 0;
}

/* Answers as calendar programs write them: folded lines, quoted
 * parameters holding ':' and ';', LF or CRLF, a byte order mark. */
static void
test_answer_read(void **state)
{
	(void)state;
	struct ical_answer a;
	const char *outlook =
	    "\xEF\xBB\xBF" "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\n"
	    "BEGIN:VTIMEZONE\r\nTZID:Central European Standard Time\r\nEND:VTIMEZONE\r\n"
	    "BEGIN:VEVENT\r\nATTENDEE;PARTSTAT=ACCEPTED;CN=\"Nowak: Anna; BOK\":MAILTO:Anna.Nowak@\r\n"
	    " BMT.example\r\nUID:task-12@bmt.exa\r\n\tmple\r\nBEGIN:VALARM\r\n"
	    "ATTENDEE;PARTSTAT=DECLINED:mailto:x@y.z\r\nEND:VALARM\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:other\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	assert_int_equal(ical_answer_read(outlook, strlen(outlook), &a), 0);
	assert_string_equal(a.method, "REPLY");
	assert_string_equal(a.uid, "task-12@bmt.example");
	assert_string_equal(a.partstat, "ACCEPTED");
	assert_string_equal(a.attendee, "anna.nowak@bmt.example");

	const char *lf = "\n BEGIN:VCALENDAR\nVERSION:2.0\nMETHOD: COUNTER \nBEGIN:VEVENT\n"
	                 "UID:x\nEND:VEVENT\nEND:VCALENDAR\n";
	assert_int_equal(ical_answer_read(lf, strlen(lf), &a), 0);
	assert_string_equal(a.method, "COUNTER");
	assert_string_equal(a.partstat, "");
	assert_string_equal(a.attendee, "");

	/* Cut where the caller's length ends, and nothing past a long line's
	 * buffer is taken for a property. */
	assert_int_equal(ical_answer_read(outlook, 25, &a), 0);
	assert_string_equal(a.method, "");
	char *lng = xasprintf("BEGIN:VCALENDAR\r\nX-LONG:%01500d\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", 0);
	assert_int_equal(ical_answer_read(lng, strlen(lng), &a), 0);
	assert_string_equal(a.method, "REPLY");
	free(lng);

	assert_int_equal(ical_answer_read("Hello", 5, &a), -1);
	assert_int_equal(ical_answer_read("", 0, &a), -1);
	assert_int_equal(ical_answer_read(NULL, 0, &a), -1);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--emit") == 0)
		return emit_samples(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_exact),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_other_zones),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_against_tzdata),
		cmocka_unit_test(test_tz_epoch),
		cmocka_unit_test(test_process_tz),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_answer_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
