/*
 * ical: iCalendar (RFC 5545/5546) for tasks — a VEVENT at the task's due
 * time with a stable UID per task, METHOD:REQUEST when it is created or
 * changes, METHOD:CANCEL when it is done or reassigned, times in the
 * configured zone with its VTIMEZONE, text escaped and lines folded at 75
 * octets without splitting UTF-8 characters.  Outlook, Thunderbird and
 * Google Calendar show such a part as an entry.
 */
#ifndef INKFLOW_ICAL_H
#define INKFLOW_ICAL_H

#include <stddef.h>
#include <stdint.h>

struct ical_event {
	int64_t task;            /* UID "task-<task>@<domain>" */
	int sequence;            /* increases with every change of the task */
	const char *summary;     /* UTF-8 */
	const char *description; /* UTF-8, may hold newlines */
	int64_t start;           /* epoch seconds (the due time) */
	int64_t duration;        /* seconds, e.g. 1800 */
	const char *organizer_name, *organizer_addr; /* the system address */
	const char *attendee_name, *attendee_addr;   /* the assignee */
	const char *url;         /* optional, e.g. a mailto: action link */
	int cancelled;           /* STATUS:CANCELLED (with METHOD:CANCEL) */
};

/* One VCALENDAR with METHOD (REQUEST, CANCEL or PUBLISH) holding n events,
 * with the VTIMEZONE for tzid ("Europe/Warsaw"; the rules of the EU zones
 * are built in), CRLF line ends.  domain makes the UIDs.  Caller frees. */
char *ical_calendar(const char *method, const char *tzid, const char *domain,
    const struct ical_event *ev, size_t n, int64_t dtstamp);
/* In detail (RFC 5546 3.2): REQUEST and CANCEL hold exactly one event (one
 * UID); REQUEST carries the ATTENDEE, STATUS:CONFIRMED and a VALARM that
 * reminds ICAL_ALARM_MINUTES before the start; CANCEL the ATTENDEE and
 * STATUS:CANCELLED whatever ev->cancelled says; PUBLISH (a feed, n may be 0)
 * has no ATTENDEE — RFC 5546 forbids it there — and names the attendee in
 * CONTACT ("Name <addr>") instead.  The event ends at DTEND = start +
 * duration (ICAL_DEFAULT_DURATION when duration <= 0).  Times are wall
 * clock in tzid ("DTSTART;TZID=Europe/Warsaw:20261127T140000") for the
 * built-in zones (ical_tz_known); any other tzid, or NULL, writes UTC times
 * ("DTSTART:20261127T130000Z") and no VTIMEZONE.  DTSTAMP is always UTC.
 * Names in CN lose DQUOTE and control characters and are quoted when they
 * hold ; : or ,; addresses and the URL are %-encoded where a URI needs it;
 * no value carries a raw CR or LF.  NULL with errno EINVAL when method is
 * not one of the three, domain is not a host name, a REQUEST/CANCEL does not
 * hold exactly one event, a time is outside 1970..9999, a sequence is
 * negative, the organizer address (or, for REQUEST/CANCEL, the attendee
 * address) is missing, or a REQUEST event is marked cancelled. */

/* The instants ical_calendar writes (start, end and stamp): from 1970, the
 * first onset of our VTIMEZONE rules, to 9999-12-31T00:00:00Z, so every
 * wall-clock year has four digits. */
#define ICAL_TIME_MIN INT64_C(0)
#define ICAL_TIME_MAX INT64_C(253402214400)

/* Event length used when ical_event.duration is 0 or negative. */
#define ICAL_DEFAULT_DURATION 1800
/* How long before the start a REQUEST's reminder (VALARM) shows. */
#define ICAL_ALARM_MINUTES 15

/* 1 when tzid is a built-in zone (Europe/Warsaw, Europe/Berlin,
 * Europe/Vienna: CET/CEST, changing at 01:00 UTC on the last Sunday of
 * March and of October), else 0.  The rule is computed, never taken from
 * the process TZ, and applied to every year since 1970 as the VTIMEZONE
 * states it. */
int ical_tz_known(const char *tzid);
/* Offset from UTC in seconds of tzid at instant t: 3600 or 7200 for a
 * built-in zone, 0 for any other (those are written in UTC). */
int ical_tz_offset(const char *tzid, int64_t t);
/* The instant of the wall-clock time year-mon-day hour:min:sec in tzid
 * (UTC for an unknown zone) into *out.  A time that occurs twice (autumn)
 * is the first, a time in the spring gap is read with the offset before it
 * (RFC 5545 3.3.5).  0, or -1 with errno EINVAL for a field out of range
 * (year 1970..9999, a real date, 00:00:00..23:59:59). */
int ical_tz_epoch(const char *tzid, int year, int mon, int day, int hour, int min, int sec,
    int64_t *out);

/* Text escaped per RFC 5545 3.3.11 (backslash, semicolon, comma, newline).
 * Caller frees. */
char *ical_escape(const char *text);
/* Also: CRLF, LF and a lone CR each become "\n"; other control characters
 * but TAB are dropped; invalid UTF-8 becomes U+FFFD; NULL gives "". */

/* What a calendar program's answer to one of our entries says (RFC 5546):
 * the object's METHOD and, from its first VEVENT, the UID and the first
 * ATTENDEE's PARTSTAT and mailto: address (lowercase).  A field that is
 * absent is "", one too long for its buffer is cut. */
struct ical_answer {
	char method[16];
	char uid[160];
	char partstat[32];
	char attendee[160];
};

/* Read data (an iCalendar object, folded lines, CRLF or LF) into *a.
 * Only the first ICAL_ANSWER_SCAN bytes are read, and a content line
 * only up to its first 1000 octets.  0, or -1 when data does not start
 * with BEGIN:VCALENDAR (after blanks and a byte order mark). */
int ical_answer_read(const char *data, size_t len, struct ical_answer *a);
#define ICAL_ANSWER_SCAN ((size_t)256 << 10)

#endif
