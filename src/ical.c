/*
 * ical: iCalendar objects (RFC 5545) for the scheduling methods of iTIP
 * (RFC 5546) that inkflow sends: REQUEST, CANCEL and PUBLISH.
 *
 * DESIGN.  Each content line is assembled unfolded in a scratch buffer —
 * name, parameters, value, each cleaned for its value type (TEXT escaped,
 * parameter values stripped of DQUOTE and quoted when needed, URIs
 * %-encoded) — and only then folded into the output, so folding never has
 * to know about escapes and always cuts between whole UTF-8 characters.
 * Every input string is first made well-formed UTF-8 (utf8_sanitize), which
 * is what lets the folder treat 10xxxxxx bytes as "inside a character".
 *
 * Time zones: the EU zones change at 01:00 UTC on the last Sunday of March
 * (to UTC+2) and of October (back to UTC+1).  The rule is computed here from
 * epoch seconds with proleptic Gregorian arithmetic, never through the
 * process TZ, and it is the same rule the VTIMEZONE we write states, so a
 * client that honours our VTIMEZONE and one that uses its own tz database
 * read the same instant (for dates since 1996, when the EU rule began).
 */
#include "ical.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, CRLF excluded. */
#define LINE_MAX_OCTETS 75
#define DAY INT64_C(86400)
#define ICAL_PRODID "-//inkflow//inkflow//EN"

/* The built-in zones: all follow the EU rule between CET and CEST. */
static const char *const eu_zones[] = {"Europe/Warsaw", "Europe/Berlin", "Europe/Vienna"};
#define EU_STD 3600
#define EU_DST 7200

int
ical_tz_known(const char *tzid)
{
	if (!tzid)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(eu_zones); i++)
		if (strcmp(tzid, eu_zones[i]) == 0)
			return 1;
	return 0;
}

/* ---- calendar arithmetic ------------------------------------------------ */

/* Days since 1970-01-01 of y-m-d in the proleptic Gregorian calendar.  The
 * year is counted from March so that the leap day ends it; eras are the
 * 400-year cycles of 146097 days. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                          /* [0, 399] */
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Day number of the last Sunday of month m in year y. */
static int64_t
last_sunday(int64_t y, int m)
{
	int64_t last = days_from_civil(y, m, month_days(y, m));
	int64_t wday = ((last + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
	return last - wday;
}

int
ical_tz_offset(const char *tzid, int64_t t)
{
	if (!ical_tz_known(tzid))
		return 0;
	int64_t y;
	int m, d;
	civil_from_days(floor_div(t, DAY), &y, &m, &d);
	/* Around New Year no zone is on summer time, so the UTC year is the
	 * year whose rule applies. */
	int64_t on = last_sunday(y, 3) * DAY + 3600;   /* 01:00 UTC */
	int64_t off = last_sunday(y, 10) * DAY + 3600; /* 01:00 UTC */
	return t >= on && t < off ? EU_DST : EU_STD;
}

int
ical_tz_epoch(const char *tzid, int year, int mon, int day, int hour, int min, int sec,
    int64_t *out)
{
	if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1 ||
	    day > month_days(year, mon) || hour < 0 || hour > 23 || min < 0 || min > 59 ||
	    sec < 0 || sec > 59) {
		errno = EINVAL;
		return -1;
	}
	int64_t local = days_from_civil(year, mon, day) * DAY + hour * 3600 + min * 60 + sec;
	if (!ical_tz_known(tzid)) {
		*out = local;
		return 0;
	}
	/* RFC 5545 3.3.5: a wall time that occurs twice means the first (the
	 * summer-time one); one that does not occur (in the spring gap) is read
	 * with the offset before the gap (standard time). */
	int64_t summer = local - EU_DST;
	*out = ical_tz_offset(tzid, summer) == EU_DST ? summer : local - EU_STD;
	return 0;
}

/* "YYYYMMDDTHHMMSS" of the wall clock t + offset. */
static void
fmt_time(char buf[32], int64_t t, int offset)
{
	int64_t local = t + offset, y;
	int m, d;
	civil_from_days(floor_div(local, DAY), &y, &m, &d);
	int64_t s = local - floor_div(local, DAY) * DAY;
	snprintf(buf, 32, "%04d%02d%02dT%02d%02d%02d", (int)y, m, d, (int)(s / 3600),
	    (int)(s / 60 % 60), (int)(s % 60));
}

/* ---- value cleaning ----------------------------------------------------- */

/* Escape clean (well-formed UTF-8, no NUL) into sb as a TEXT value. */
static void
add_text(struct sbuf *sb, const char *clean)
{
	for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
		switch (*p) {
		case '\\': sb_adds(sb, "\\\\"); break;
		case ';': sb_adds(sb, "\\;"); break;
		case ',': sb_adds(sb, "\\,"); break;
		case '\r':
			if (p[1] == '\n')
				p++;
			/* FALLTHROUGH */
		case '\n': sb_adds(sb, "\\n"); break;
		default:
			/* TSAFE-CHAR excludes controls other than HTAB. */
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				break;
			sb_addc(sb, (char)*p);
		}
	}
}

char *
ical_escape(const char *text)
{
	struct sbuf sb = {0};
	char *clean = utf8_sanitize(text ? text : "", text ? strlen(text) : 0);
	sb_add(&sb, "", 0);
	add_text(&sb, clean);
	free(clean);
	return sb_steal(&sb);
}

static void
add_escaped(struct sbuf *sb, const char *text)
{
	char *e = ical_escape(text);
	sb_adds(sb, e);
	free(e);
}

/* ";NAME=value" for a parameter value (RFC 5545 3.1 param-value): DQUOTE
 * and controls cannot be represented and are dropped, tabs become spaces,
 * and the value is quoted when it holds ; : or ,.  Nothing when empty. */
static void
add_param(struct sbuf *sb, const char *name, const char *value)
{
	if (!value)
		return;
	char *clean = utf8_sanitize(value, strlen(value));
	struct sbuf v = {0};
	int quote = 0;
	for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
		if (*p == '"' || (*p < 0x20 && *p != '\t') || *p == 0x7f)
			continue;
		quote |= *p == ';' || *p == ':' || *p == ',';
		sb_addc(&v, *p == '\t' ? ' ' : (char)*p);
	}
	free(clean);
	char *s = v.len ? str_trim(v.s) : NULL;
	if (s && *s)
		sb_printf(sb, ";%s=%s%s%s", name, quote ? "\"" : "", s, quote ? "\"" : "");
	sb_free(&v);
}

/* A URI value: controls dropped, and bytes a URI cannot hold (space,
 * non-ASCII, "<>\^`{|}) %-encoded; keep is the set of further ASCII
 * punctuation left as it is (NULL: all the rest). */
static void
add_uri(struct sbuf *sb, const char *uri, const char *keep)
{
	static const char hexd[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++) {
		int c = *p;
		if (c < 0x20 || c == 0x7f)
			continue;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!plain && c > 0x20 && c < 0x7f && !strchr("\"<>\\^`{|}", c))
			plain = keep ? strchr(keep, c) != NULL : 1;
		if (plain)
			sb_addc(sb, (char)c);
		else
			sb_printf(sb, "%%%c%c", hexd[c >> 4], hexd[c & 15]);
	}
}

/* The address part of a mailto: URI (RFC 6068): atext and the dot and @
 * stay, everything else — ?, #, %, quotes, spaces — is %-encoded. */
static void
add_mailto(struct sbuf *sb, const char *addr)
{
	sb_adds(sb, "mailto:");
	add_uri(sb, addr, "!$&'*+-=_~.@");
}

/* 1 when addr holds something an address could be made of. */
static int
addr_ok(const char *addr)
{
	if (!addr)
		return 0;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		if (*p > 0x20 && *p != 0x7f)
			return 1;
	return 0;
}

/* Host names only: letters, digits, dots and hyphens. */
static int
domain_ok(const char *d)
{
	size_t n = d ? strlen(d) : 0;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z') ||
		        (d[i] >= '0' && d[i] <= '9') || d[i] == '.' || d[i] == '-'))
			return 0;
	return 1;
}

/* ---- content lines ------------------------------------------------------ */

/* Append one content line to out, folded (RFC 5545 3.1): at most 75 octets
 * a physical line, each continuation starting with one space that counts
 * toward its 75, cuts only before the first byte of a UTF-8 character.
 * A cut that would put a text's own space first on a continuation line is
 * moved one character earlier: RFC 5545 unfolding keeps that space, but
 * unfolders that trim leading blanks are common and would glue words. */
static void
emit(struct sbuf *out, const char *line, size_t len)
{
	size_t col = 0, bare = 0; /* bare: col of an empty physical line */
	for (size_t i = 0; i < len;) {
		size_t n = 1;
		while (i + n < len && ((unsigned char)line[i + n] & 0xc0) == 0x80)
			n++;
		int blank_next = i + n < len && (line[i + n] == ' ' || line[i + n] == '\t') &&
		    line[i] != ' ' && line[i] != '\t';
		if (col + n > LINE_MAX_OCTETS ||
		    (blank_next && col + n == LINE_MAX_OCTETS && col > bare)) {
			bare = 1;
			sb_add(out, "\r\n ", 3);
			col = 1;
		}
		sb_add(out, line + i, n);
		col += n;
		i += n;
	}
	sb_add(out, "\r\n", 2);
}

/* Emit the content line held in *l and clear it for the next. */
static void
flush_line(struct sbuf *out, struct sbuf *l)
{
	emit(out, sb_str(l), l->len);
	l->len = 0;
	if (l->s)
		l->s[0] = '\0';
}

static void
line(struct sbuf *out, const char *text)
{
	emit(out, text, strlen(text));
}

static void
add_vtimezone(struct sbuf *out, const char *tzid)
{
	/* The onsets are the first ones of the rule in 1970 (Sunday 29 March
	 * and Sunday 25 October), at local wall time as RFC 5545 3.6.5 wants. */
	struct sbuf l = {0};
	line(out, "BEGIN:VTIMEZONE");
	sb_printf(&l, "TZID:%s", tzid);
	flush_line(out, &l);
	line(out, "BEGIN:DAYLIGHT");
	line(out, "TZOFFSETFROM:+0100");
	line(out, "TZOFFSETTO:+0200");
	line(out, "TZNAME:CEST");
	line(out, "DTSTART:19700329T020000");
	line(out, "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU");
	line(out, "END:DAYLIGHT");
	line(out, "BEGIN:STANDARD");
	line(out, "TZOFFSETFROM:+0200");
	line(out, "TZOFFSETTO:+0100");
	line(out, "TZNAME:CET");
	line(out, "DTSTART:19701025T030000");
	line(out, "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU");
	line(out, "END:STANDARD");
	line(out, "END:VTIMEZONE");
	sb_free(&l);
}

/* "NAME;TZID=zone:local" or "NAME:utcZ". */
static void
add_time(struct sbuf *out, const char *name, const char *tzid, int64_t t)
{
	char buf[32];
	struct sbuf l = {0};
	if (ical_tz_known(tzid)) {
		fmt_time(buf, t, ical_tz_offset(tzid, t));
		sb_printf(&l, "%s;TZID=%s:%s", name, tzid, buf);
	} else {
		fmt_time(buf, t, 0);
		sb_printf(&l, "%s:%sZ", name, buf);
	}
	flush_line(out, &l);
	sb_free(&l);
}

enum method { M_REQUEST, M_CANCEL, M_PUBLISH };

static void
add_event(struct sbuf *out, enum method m, const char *tzid, const char *domain,
    const struct ical_event *ev, int64_t dtstamp)
{
	struct sbuf l = {0};
	char buf[32];
	int64_t dur = ev->duration > 0 ? ev->duration : ICAL_DEFAULT_DURATION;

	line(out, "BEGIN:VEVENT");
	sb_printf(&l, "UID:task-%lld@%s", (long long)ev->task, domain);
	flush_line(out, &l);
	fmt_time(buf, dtstamp, 0);
	sb_printf(&l, "DTSTAMP:%sZ", buf);
	flush_line(out, &l);
	sb_printf(&l, "SEQUENCE:%d", ev->sequence);
	flush_line(out, &l);
	add_time(out, "DTSTART", tzid, ev->start);
	add_time(out, "DTEND", tzid, ev->start + dur);
	sb_adds(&l, "SUMMARY:");
	add_escaped(&l, ev->summary);
	flush_line(out, &l);
	if (ev->description) {
		sb_adds(&l, "DESCRIPTION:");
		add_escaped(&l, ev->description);
		flush_line(out, &l);
	}
	sb_adds(&l, "ORGANIZER");
	add_param(&l, "CN", ev->organizer_name);
	sb_addc(&l, ':');
	add_mailto(&l, ev->organizer_addr);
	flush_line(out, &l);
	if (m != M_PUBLISH) {
		sb_adds(&l, "ATTENDEE");
		add_param(&l, "CN", ev->attendee_name);
		sb_adds(&l, ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:");
		add_mailto(&l, ev->attendee_addr);
		flush_line(out, &l);
	} else if (addr_ok(ev->attendee_addr)) {
		/* RFC 5546 3.2.1: a PUBLISH carries no ATTENDEE; the person the
		 * task waits for is named as its contact instead. */
		struct sbuf c = {0};
		if (ev->attendee_name && *ev->attendee_name)
			sb_printf(&c, "%s <%s>", ev->attendee_name, ev->attendee_addr);
		else
			sb_adds(&c, ev->attendee_addr);
		sb_adds(&l, "CONTACT:");
		add_escaped(&l, sb_str(&c));
		flush_line(out, &l);
		sb_free(&c);
	}
	if (ev->url && addr_ok(ev->url)) {
		sb_adds(&l, "URL:");
		add_uri(&l, ev->url, NULL);
		flush_line(out, &l);
	}
	line(out, m == M_CANCEL || ev->cancelled ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
	if (m == M_REQUEST) {
		line(out, "BEGIN:VALARM");
		line(out, "ACTION:DISPLAY");
		sb_printf(&l, "TRIGGER:-PT%dM", ICAL_ALARM_MINUTES);
		flush_line(out, &l);
		sb_adds(&l, "DESCRIPTION:");
		if (ev->summary && *ev->summary)
			add_escaped(&l, ev->summary);
		else
			sb_printf(&l, "task %lld", (long long)ev->task);
		flush_line(out, &l);
		line(out, "END:VALARM");
	}
	line(out, "END:VEVENT");
	sb_free(&l);
}

/* 0 when ev can be written under method m, else -1. */
static int
event_ok(enum method m, const struct ical_event *ev)
{
	int64_t dur = ev->duration > 0 ? ev->duration : ICAL_DEFAULT_DURATION;
	if (ev->start < ICAL_TIME_MIN || ev->start > ICAL_TIME_MAX ||
	    dur > ICAL_TIME_MAX - ev->start)
		return -1;
	if (ev->sequence < 0 || !addr_ok(ev->organizer_addr))
		return -1;
	if (m != M_PUBLISH && !addr_ok(ev->attendee_addr))
		return -1;
	/* A REQUEST states a live event; taking one back is a CANCEL. */
	if (m == M_REQUEST && ev->cancelled)
		return -1;
	return 0;
}

char *
ical_calendar(const char *method, const char *tzid, const char *domain,
    const struct ical_event *ev, size_t n, int64_t dtstamp)
{
	enum method m;
	if (method && strcmp(method, "REQUEST") == 0)
		m = M_REQUEST;
	else if (method && strcmp(method, "CANCEL") == 0)
		m = M_CANCEL;
	else if (method && strcmp(method, "PUBLISH") == 0)
		m = M_PUBLISH;
	else
		goto invalid;
	/* RFC 5546 3.2.2: one REQUEST (and so one CANCEL) speaks of one UID;
	 * several VEVENTs there would be instances of a recurring event. */
	if ((m != M_PUBLISH && n != 1) || (n > 0 && !ev) || !domain_ok(domain) ||
	    dtstamp < ICAL_TIME_MIN || dtstamp > ICAL_TIME_MAX)
		goto invalid;
	for (size_t i = 0; i < n; i++)
		if (event_ok(m, &ev[i]) < 0)
			goto invalid;

	struct sbuf out = {0}, l = {0};
	line(&out, "BEGIN:VCALENDAR");
	line(&out, "PRODID:" ICAL_PRODID);
	line(&out, "VERSION:2.0");
	line(&out, "CALSCALE:GREGORIAN");
	sb_printf(&l, "METHOD:%s", method);
	flush_line(&out, &l);
	sb_free(&l);
	if (ical_tz_known(tzid))
		add_vtimezone(&out, tzid);
	for (size_t i = 0; i < n; i++)
		add_event(&out, m, tzid, domain, &ev[i], dtstamp);
	line(&out, "END:VCALENDAR");
	return sb_steal(&out);

invalid:
	errno = EINVAL;
	return NULL;
}

/* ---- reading an answer ------------------------------------------------- */

/* The next content line of [*p, end) unfolded into buf (cut at its size);
 * 0 at the end. */
static int
next_line(const char **p, const char *end, char *buf, size_t size)
{
	const char *s = *p;
	size_t n = 0;
	if (s >= end)
		return 0;
	while (s < end) {
		char ch = *s++;
		if (ch == '\r' || ch == '\n') {
			if (ch == '\r' && s < end && *s == '\n')
				s++;
			if (s < end && (*s == ' ' || *s == '\t')) {
				s++; /* a fold: the line goes on */
				continue;
			}
			break;
		}
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	*p = s;
	return 1;
}

/* The property name of line (before ';' or ':') equals name. */
static int
prop_is(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(line, name, n) == 0 && (line[n] == ';' || line[n] == ':');
}

/* The value of a content line: after the first ':' outside a quoted
 * parameter value. */
static const char *
prop_value(const char *line)
{
	int quoted = 0;
	for (const char *s = line; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == ':' && !quoted)
			return s + 1;
	}
	return "";
}

/* The value of parameter name of a content line into out ("" if none). */
static void
prop_param(const char *line, const char *name, char *out, size_t size)
{
	const char *colon = prop_value(line);
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *s = strchr(line, ';'); s && s < colon; s = strchr(s + 1, ';')) {
		if (strncasecmp(s + 1, name, n) != 0 || s[1 + n] != '=')
			continue;
		const char *v = s + 2 + n;
		size_t k = 0;
		if (*v == '"')
			v++;
		while (*v && *v != '"' && *v != ';' && *v != ':' && k + 1 < size)
			out[k++] = *v++;
		out[k] = '\0';
		return;
	}
}

static void
copy_trim(char *out, size_t size, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	str_copy(out, size, v);
	size_t n = strlen(out);
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
}

int
ical_answer_read(const char *data, size_t len, struct ical_answer *a)
{
	memset(a, 0, sizeof(*a));
	if (!data)
		return -1;
	const char *p = data, *end = data + (len < ICAL_ANSWER_SCAN ? len : ICAL_ANSWER_SCAN);
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	char line[1001] = "";
	if (!next_line(&p, end, line, sizeof(line)) || strcasecmp(line, "BEGIN:VCALENDAR") != 0)
		return -1;
	int depth = 0, in_event = 0, events = 0;
	while (next_line(&p, end, line, sizeof(line))) {
		if (prop_is(line, "BEGIN")) {
			depth++;
			if (depth == 1 && strcasecmp(prop_value(line), "VEVENT") == 0)
				in_event = ++events == 1;
		} else if (prop_is(line, "END")) {
			if (depth == 0)
				break; /* END:VCALENDAR */
			if (--depth == 0)
				in_event = 0;
		} else if (depth == 0 && prop_is(line, "METHOD")) {
			copy_trim(a->method, sizeof(a->method), prop_value(line));
		} else if (in_event && depth == 1 && prop_is(line, "UID") && !a->uid[0]) {
			copy_trim(a->uid, sizeof(a->uid), prop_value(line));
		} else if (in_event && depth == 1 && prop_is(line, "ATTENDEE") && !a->attendee[0]) {
			const char *v = prop_value(line);
			if (strncasecmp(v, "mailto:", 7) == 0)
				v += 7;
			copy_trim(a->attendee, sizeof(a->attendee), v);
			for (char *c = a->attendee; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			prop_param(line, "PARTSTAT", a->partstat, sizeof(a->partstat));
		}
	}
	return 0;
}
