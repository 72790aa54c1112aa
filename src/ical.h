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

/* Text escaped per RFC 5545 3.3.11 (backslash, semicolon, comma, newline).
 * Caller frees. */
char *ical_escape(const char *text);

#endif
