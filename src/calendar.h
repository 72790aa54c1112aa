/*
 * calendar: `inkflow calendar` — the open tasks as one iCalendar feed
 * (METHOD:PUBLISH, ical.h), everyone's (the group calendar) or one
 * person's, for a range of days, on stdout or into a file.
 */
#ifndef INKFLOW_CALENDAR_H
#define INKFLOW_CALENDAR_H

struct app;

/* The time zone the calendar is written in. */
#define CALENDAR_TZID "Europe/Warsaw"
/* Length of a task's entry in the calendar. */
#define CALENDAR_TASK_SECONDS 1800

/* inkflow calendar [--user LOGIN] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 * [-o FILE].  argv[0] is "calendar".  One VEVENT per open task at its due
 * time (created + 1 day when it has none), UID "task-<id>@<domain>".
 * --from and --to are days in CALENDAR_TZID, both included.  Without
 * --user the summary starts with the assignee's name.  Opens the database
 * read-only (app_open_db APP_READ).  -o writes the file durably (mode 0644)
 * and prints one line; without it the calendar goes to stdout.  Returns the
 * exit code: 0, or 1 with a message on stderr. */
int calendar_cli(struct app *app, int argc, char **argv);

#endif
