#include "calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "ical.h"
#include "store.h"
#include "util.h"

#define SECONDS_PER_DAY INT64_C(86400)

static void
usage(void)
{
	fprintf(stderr, "usage: inkflow calendar [--user LOGIN] [--from YYYY-MM-DD] "
	                "[--to YYYY-MM-DD] [-o FILE]\n");
}

/* A strict YYYY-MM-DD: ten characters, a real date in 1970..9999. */
static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
parse_day(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	*y = digits(s, 4);
	*m = digits(s + 5, 2);
	*d = digits(s + 8, 2);
	int64_t t;
	return ical_tz_epoch(NULL, *y, *m, *d, 0, 0, 0, &t); /* validates the date */
}

/* Local midnight starting the day in CALENDAR_TZID (after > 0: the day
 * after it), or INT64_MAX past year 9999. */
static int64_t
day_start(int y, int m, int d, int after)
{
	int64_t t;
	if (after) {
		if (ical_tz_epoch(NULL, y, m, d + 1, 0, 0, 0, &t) == 0)
			d++;
		else if (m < 12)
			m++, d = 1;
		else
			y++, m = 1, d = 1;
	}
	if (ical_tz_epoch(CALENDAR_TZID, y, m, d, 0, 0, 0, &t) < 0)
		return INT64_MAX;
	return t;
}

/* The strings an event borrows, owned here until the calendar is made. */
struct owned {
	char *summary, *description, *name, *addr;
};

int
calendar_cli(struct app *app, int argc, char **argv)
{
	const char *login = NULL, *from = NULL, *to = NULL, *outp = NULL;
	for (int i = 1; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--user") == 0 ? &login
		    : strcmp(argv[i], "--from") == 0             ? &from
		    : strcmp(argv[i], "--to") == 0               ? &to
		    : strcmp(argv[i], "-o") == 0                 ? &outp
		                                                 : NULL;
		if (!slot || i + 1 >= argc || *slot) {
			if (!slot)
				fprintf(stderr, "inkflow: calendar: unknown argument %s\n", argv[i]);
			else
				fprintf(stderr, "inkflow: calendar: %s %s\n", argv[i],
				    *slot ? "given twice" : "needs a value");
			usage();
			return 1;
		}
		*slot = argv[++i];
	}
	int64_t lo = 0, hi = INT64_MAX;
	int y, m, d;
	if (from) {
		if (parse_day(from, &y, &m, &d) < 0) {
			fprintf(stderr, "inkflow: calendar: --from \"%s\" is not a date YYYY-MM-DD\n", from);
			return 1;
		}
		lo = day_start(y, m, d, 0);
	}
	if (to) {
		if (parse_day(to, &y, &m, &d) < 0) {
			fprintf(stderr, "inkflow: calendar: --to \"%s\" is not a date YYYY-MM-DD\n", to);
			return 1;
		}
		hi = day_start(y, m, d, 1);
	}
	if (from && to && lo >= hi) {
		fprintf(stderr, "inkflow: calendar: --from %s is after --to %s\n", from, to);
		return 1;
	}
	if (app_open_db(app, APP_READ) < 0)
		return 1;
	int64_t uid = 0;
	if (login && (uid = store_user_id(app->db, login)) < 0) {
		fprintf(stderr, "inkflow: no user \"%s\"\n", login);
		return 1;
	}

	struct db_stmt *q = db_q(app->db,
	    "SELECT t.id, t.project_id, t.title, t.description, u.name, u.email,"
	    " p.title, c.name, COALESCE(t.due, t.created + ?4)"
	    " FROM tasks t JOIN users u ON u.id = t.assignee_id"
	    " LEFT JOIN projects p ON p.id = t.project_id"
	    " LEFT JOIN clients c ON c.id = p.client_id"
	    " WHERE t.status = 'open' AND (?1 = 0 OR t.assignee_id = ?1)"
	    " AND COALESCE(t.due, t.created + ?4) >= ?2 AND COALESCE(t.due, t.created + ?4) < ?3"
	    " ORDER BY 9, t.id",
	    "iiii", uid, lo, hi, SECONDS_PER_DAY);
	if (!q)
		return 1;
	struct ical_event *ev = NULL;
	struct owned *own = NULL;
	size_t n = 0, cap = 0;
	int rc, step;
	while ((step = db_step(q)) == 1) {
		int64_t start = db_int(q, 8);
		if (start < ICAL_TIME_MIN || start > ICAL_TIME_MAX - CALENDAR_TASK_SECONDS) {
			/* One broken due time must not take the whole feed down. */
			fprintf(stderr, "inkflow: calendar: task #%lld left out: due time %lld out of range\n",
			    (long long)db_int(q, 0), (long long)start);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ev = xrealloc(ev, cap * sizeof(*ev));
			own = xrealloc(own, cap * sizeof(*own));
		}
		const char *title = db_text(q, 2), *desc = db_text(q, 3);
		const char *ptitle = db_text(q, 6), *client = db_text(q, 7);
		struct sbuf s = {0}, ds = {0};
		/* As the task's mail says it: "[INK-7] Przygotuj kalkulację – Banery". */
		if (!login)
			sb_printf(&s, "%s: ", db_text(q, 4));
		if (!db_isnull(q, 1))
			sb_printf(&s, "[INK-%lld] ", (long long)db_int(q, 1));
		sb_adds(&s, title);
		if (ptitle && *ptitle)
			sb_printf(&s, " \xe2\x80\x93 %s", ptitle);
		/* The client first, then what the task says. */
		if (client && *client)
			sb_adds(&ds, client);
		if (desc && *desc)
			sb_printf(&ds, "%s%s", ds.len ? "\n\n" : "", desc);
		own[n] = (struct owned){.summary = sb_steal(&s),
		    .description = ds.len ? sb_steal(&ds) : NULL,
		    .name = xstrdup(db_text(q, 4)),
		    .addr = xstrdup(db_text(q, 5))};
		sb_free(&ds);
		ev[n] = (struct ical_event){
			.task = db_int(q, 0),
			.sequence = 0,
			.summary = own[n].summary,
			.description = own[n].description,
			.start = start,
			.duration = CALENDAR_TASK_SECONDS,
			.organizer_name = app->cfg->system_name,
			.organizer_addr = app->cfg->system_address,
			.attendee_name = own[n].name,
			.attendee_addr = own[n].addr,
		};
		n++;
	}
	db_done(q);
	char *ics = NULL;
	if (step < 0)
		rc = 1;
	else if (!(ics = ical_calendar("PUBLISH", CALENDAR_TZID, app->cfg->domain, ev, n,
	               now_epoch()))) {
		fprintf(stderr, "inkflow: calendar: cannot write the calendar: %s\n", strerror(errno));
		rc = 1;
	} else if (outp) {
		rc = file_write_durable(outp, ics, strlen(ics), 0644) < 0;
		if (rc)
			fprintf(stderr, "inkflow: %s: %s\n", outp, strerror(errno));
		else
			printf("%zu task%s written to %s\n", n, n == 1 ? "" : "s", outp);
	} else {
		size_t len = strlen(ics);
		rc = fwrite(ics, 1, len, stdout) != len || fflush(stdout) != 0;
		if (rc)
			fprintf(stderr, "inkflow: calendar: writing to stdout: %s\n", strerror(errno));
	}
	free(ics);
	for (size_t i = 0; i < n; i++) {
		free(own[i].summary);
		free(own[i].description);
		free(own[i].name);
		free(own[i].addr);
	}
	free(own);
	free(ev);
	return rc;
}
