#include "report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "calc.h"
#include "config.h"
#include "db.h"
#include "util.h"

/* States that mean the client ordered. */
#define WON_STATES "('order-checks','on-hold','awaiting-signature','production','delivery'," \
	"'closed','complaint','complaint-decision')"

/* The net of a project's latest calculation in PLN and in EUR (one of
 * them 0), as SQL expressions over projects p. */
#define LATEST_SQL(pln, eur) "coalesce((SELECT CASE c.currency WHEN 'EUR' THEN " eur " ELSE " pln \
	" END FROM calculations c WHERE c.project_id=p.id ORDER BY c.version DESC LIMIT 1),0)"

/*
 * The projects a pipeline report counts, as a table p(state, owner_id,
 * projects, pln, eur, offers) for the queries below: for the whole history
 * the running totals of pipeline_totals (a few hundred rows however many
 * projects there are), for a period one row per project created in it.
 * Values are summed per currency and EUR converted once per line of the
 * report (?3: the rate), so both give the same figures.
 */
#define ALL_TIME_CTE "WITH p AS (SELECT state, owner_id, projects, pln, eur, offers" \
	" FROM pipeline_totals)"
#define PERIOD_CTE "WITH p AS (SELECT p.state, coalesce(p.owner_id,0) owner_id, 1 projects," \
	" " LATEST_SQL("c.net", "0") " pln, " LATEST_SQL("0", "c.net") " eur," \
	" EXISTS(SELECT 1 FROM documents d WHERE d.project_id=p.id AND d.kind='offer') offers" \
	" FROM projects p WHERE p.created>=?1 AND p.created<?2)"
#define PLN(pln, eur) "(" pln "+(" eur "*?3+5000)/10000)"
#define WON "(p.state IN " WON_STATES ")"

/* "2026-11-01" → epoch at local midnight; -1 when not a date. */
static int64_t
parse_day(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	if (!end || *end)
		return -1;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static void
money(int64_t grosze, char *buf, size_t size)
{
	calc_money(grosze, "PLN", "pl", buf, size);
}

static json_t *
pipeline(struct app *app, int64_t from, int64_t to)
{
	json_t *j = json_object();
	int64_t rate = app->cfg->approval.eur_rate;
	json_t *states = json_array();
	int all_time = from <= 0 && to >= INT64_MAX / 2;
	const char *cte = all_time ? ALL_TIME_CTE : PERIOD_CTE;
	char *sql = xasprintf("%s SELECT p.state, sum(p.projects), " PLN("sum(p.pln)", "sum(p.eur)")
	                      " FROM p GROUP BY p.state HAVING sum(p.projects)>0"
	                      " ORDER BY 2 DESC, 1", cte);
	struct db_stmt *q = db_q(app->db, sql, "iii", from, to, rate);
	free(sql);
	while (q && db_step(q) == 1)
		json_array_append_new(states, json_pack("{s:s,s:I,s:I}", "state", db_text(q, 0),
		                                  "projects", (json_int_t)db_int(q, 1), "value",
		                                  (json_int_t)db_int(q, 2)));
	if (q)
		db_done(q);
	json_object_set_new(j, "by_state", states);
	json_t *reps = json_array();
	sql = xasprintf("%s SELECT coalesce(u.login,'-'), sum(p.projects),"
	                " " PLN("sum(p.pln)", "sum(p.eur)") ", sum(p.projects*" WON "),"
	                " " PLN("sum(p.pln*" WON ")", "sum(p.eur*" WON ")") ", sum(p.offers)"
	                " FROM p LEFT JOIN users u ON u.id=p.owner_id GROUP BY 1"
	                " HAVING sum(p.projects)>0 ORDER BY 3 DESC, 1", cte);
	q = db_q(app->db, sql, "iii", from, to, rate);
	free(sql);
	int64_t all = 0, won = 0, offered = 0;
	while (q && db_step(q) == 1) {
		int64_t n = db_int(q, 1), w = db_int(q, 3), o = db_int(q, 5);
		all += n;
		won += w;
		offered += o;
		json_array_append_new(reps, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f}", "owner",
		    db_text(q, 0), "projects", (json_int_t)n, "value", (json_int_t)db_int(q, 2), "won",
		    (json_int_t)w, "won_value", (json_int_t)db_int(q, 4), "offers", (json_int_t)o,
		    "conversion", o ? (double)w / (double)o : 0.0));
	}
	if (q)
		db_done(q);
	json_object_set_new(j, "by_owner", reps);
	json_object_set_new(j, "projects", json_integer(all));
	json_object_set_new(j, "won", json_integer(won));
	json_object_set_new(j, "offers", json_integer(offered));
	json_object_set_new(j, "conversion", json_real(offered ? (double)won / (double)offered : 0));
	json_t *over = json_array();
	q = db_q(app->db,
	    "SELECT u.login, count(*), min(t.due) FROM tasks t JOIN users u ON u.id=t.assignee_id"
	    " WHERE t.status='open' AND t.due IS NOT NULL AND t.due<?1 GROUP BY u.login"
	    " ORDER BY 2 DESC", "i", now_epoch());
	while (q && db_step(q) == 1) {
		char ts[32];
		iso_time(db_int(q, 2), ts, sizeof(ts));
		json_array_append_new(over, json_pack("{s:s,s:I,s:s}", "user", db_text(q, 0), "overdue",
		                                (json_int_t)db_int(q, 1), "oldest_due", ts));
	}
	if (q)
		db_done(q);
	json_object_set_new(j, "overdue_tasks", over);
	json_object_set_new(j, "complaints", json_pack("{s:I}", "opened", (json_int_t)0));
	int64_t nc = 0;
	db_1i(app->db, &nc, "SELECT count(*) FROM complaints WHERE opened>=?1 AND opened<?2", "ii",
	    from, to);
	json_object_set_new(json_object_get(j, "complaints"), "opened", json_integer(nc));
	return j;
}

/* The terms that let a query use the partial indexes of schema 12 (SQLite
 * takes a partial index only when the query repeats its WHERE term). */
#define EVENTS_DECISIONS "e.kind IN ('calculation','submitted','approved','rejected','corrected')"
#define EVENTS_VERDICTS "e.kind IN ('approved','rejected','corrected')"

/* Per active user, over the period: each count grouped once over the
 * period's rows (not once per user over all of them). */
static json_t *
activity(struct app *app, int64_t from, int64_t to)
{
	json_t *arr = json_array();
	struct db_stmt *q = db_q(app->db,
	    "WITH cm AS (SELECT p.owner_id o, count(*) n FROM messages m"
	    "  JOIN projects p ON p.id=m.project_id"
	    "  WHERE m.received>=?1 AND m.received<?2 AND m.class='normal' GROUP BY p.owner_id),"
	    " ca AS (SELECT e.actor a, count(*) n FROM events e WHERE " EVENTS_DECISIONS
	    "  AND e.kind='calculation' AND e.time>=?1 AND e.time<?2 GROUP BY e.actor),"
	    " od AS (SELECT p.owner_id o, count(*) n FROM documents d"
	    "  JOIN projects p ON p.id=d.project_id"
	    "  WHERE d.kind='offer' AND d.created>=?1 AND d.created<?2 GROUP BY p.owner_id),"
	    " td AS (SELECT t.closed_by o, count(*) n FROM tasks t"
	    "  WHERE t.closed>=?1 AND t.closed<?2 GROUP BY t.closed_by),"
	    " np AS (SELECT p.owner_id o, count(*) n FROM projects p"
	    "  WHERE p.created>=?1 AND p.created<?2 GROUP BY p.owner_id)"
	    " SELECT u.login, u.name, coalesce(cm.n,0), coalesce(ca.n,0), coalesce(od.n,0),"
	    " coalesce(td.n,0), coalesce(np.n,0) FROM users u"
	    " LEFT JOIN cm ON cm.o=u.id LEFT JOIN ca ON ca.a=u.login LEFT JOIN od ON od.o=u.id"
	    " LEFT JOIN td ON td.o=u.id LEFT JOIN np ON np.o=u.id"
	    " WHERE u.active=1 ORDER BY u.role, u.login", "ii", from, to);
	while (q && db_step(q) == 1)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "user",
		    db_text(q, 0), "name", db_text(q, 1), "client_mails", (json_int_t)db_int(q, 2),
		    "calculations", (json_int_t)db_int(q, 3), "offers", (json_int_t)db_int(q, 4),
		    "tasks_done", (json_int_t)db_int(q, 5), "new_projects", (json_int_t)db_int(q, 6)));
	if (q)
		db_done(q);
	return arr;
}

static json_t *
approvals(struct app *app, int64_t from, int64_t to)
{
	json_t *arr = json_array();
	/* Each submission and the first decision on that project after it. */
	struct db_stmt *q = db_q(app->db,
	    "WITH s AS (SELECT e.id, e.project_id, e.time FROM events e WHERE " EVENTS_DECISIONS
	    "  AND e.kind='submitted' AND e.text NOT LIKE '%automatically%'"
	    "  AND e.time>=?1 AND e.time<?2),"
	    " d AS (SELECT s.id sid, (SELECT e.id FROM events e WHERE e.project_id=s.project_id"
	    "  AND e.id>s.id AND " EVENTS_VERDICTS " ORDER BY e.id LIMIT 1) did, s.time st FROM s)"
	    " SELECT u.role, e.actor, count(*), avg(e.time-d.st), max(e.time-d.st),"
	    " sum(e.kind='approved'), sum(e.kind='rejected'), sum(e.kind='corrected')"
	    " FROM d JOIN events e ON e.id=d.did JOIN users u ON u.login=e.actor"
	    " GROUP BY u.role, e.actor ORDER BY u.role, e.actor", "ii", from, to);
	while (q && db_step(q) == 1)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:f,s:f,s:I,s:I,s:I}", "level",
		    db_text(q, 0), "approver", db_text(q, 1), "decisions", (json_int_t)db_int(q, 2),
		    "avg_hours", (double)db_int(q, 3) / 3600.0, "max_hours", (double)db_int(q, 4) / 3600.0,
		    "approved", (json_int_t)db_int(q, 5), "rejected", (json_int_t)db_int(q, 6),
		    "corrected", (json_int_t)db_int(q, 7)));
	if (q)
		db_done(q);
	json_t *j = json_pack("{s:o,s:I}", "by_approver", arr, "pending",
	    (json_int_t)report_pending_approvals(app));
	return j;
}

int64_t
report_pending_approvals(struct app *app)
{
	int64_t pending = 0;
	db_1i(app->db, &pending, "SELECT count(*) FROM calculations WHERE status='submitted'", "");
	return pending;
}

json_t *
report_pipeline(struct app *app, int64_t from, int64_t to)
{
	return pipeline(app, from, to);
}

json_t *
report_activity(struct app *app, int64_t from, int64_t to)
{
	return activity(app, from, to);
}

json_t *
report_approvals(struct app *app, int64_t from, int64_t to)
{
	return approvals(app, from, to);
}

/* Each instant the query yields counted into the day holding it; one pass
 * over the table for all the days. */
static int
per_day(struct db_stmt *q, const int64_t *bounds, size_t ndays, int64_t *count)
{
	memset(count, 0, ndays * sizeof(*count));
	if (!q)
		return -1;
	int rc;
	while ((rc = db_step(q)) == 1) {
		int64_t t = db_int(q, 0);
		size_t lo = 0, hi = ndays; /* the last day whose start is <= t */
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (bounds[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		if (t >= bounds[lo] && t < bounds[lo + 1])
			count[lo]++;
	}
	db_done(q);
	return rc < 0 ? -1 : 0;
}

int
report_daily(struct app *app, const int64_t *bounds, size_t ndays, int64_t *projects,
    int64_t *messages)
{
	if (!ndays)
		return 0;
	int64_t from = bounds[0], to = bounds[ndays];
	if (per_day(db_q(app->db, "SELECT created FROM projects WHERE created>=?1 AND created<?2",
	                "ii", from, to), bounds, ndays, projects) < 0)
		return -1;
	return per_day(db_q(app->db, "SELECT received FROM messages WHERE class='normal'"
	                   " AND received>=?1 AND received<?2", "ii", from, to),
	    bounds, ndays, messages);
}

static void
print_pipeline(json_t *j)
{
	char m[48];
	size_t i;
	json_t *e;
	printf("Projects per state\n");
	json_array_foreach(json_object_get(j, "by_state"), i, e) {
		money(json_integer_value(json_object_get(e, "value")), m, sizeof(m));
		printf("  %-20s %5lld   %18s\n", json_string_value(json_object_get(e, "state")),
		    (long long)json_integer_value(json_object_get(e, "projects")), m);
	}
	printf("\nPer rep                projects  value               won  offers  conversion\n");
	json_array_foreach(json_object_get(j, "by_owner"), i, e) {
		money(json_integer_value(json_object_get(e, "value")), m, sizeof(m));
		printf("  %-20s %5lld   %18s %5lld %6lld %10.0f%%\n",
		    json_string_value(json_object_get(e, "owner")),
		    (long long)json_integer_value(json_object_get(e, "projects")), m,
		    (long long)json_integer_value(json_object_get(e, "won")),
		    (long long)json_integer_value(json_object_get(e, "offers")),
		    100 * json_real_value(json_object_get(e, "conversion")));
	}
	printf("\n  all: %lld projects, %lld with an offer, %lld won (%.0f%%); complaints opened: %lld\n",
	    (long long)json_integer_value(json_object_get(j, "projects")),
	    (long long)json_integer_value(json_object_get(j, "offers")),
	    (long long)json_integer_value(json_object_get(j, "won")),
	    100 * json_real_value(json_object_get(j, "conversion")),
	    (long long)json_integer_value(json_object_get(json_object_get(j, "complaints"), "opened")));
	printf("\nOverdue tasks\n");
	json_array_foreach(json_object_get(j, "overdue_tasks"), i, e)
		printf("  %-20s %5lld  (oldest due %s)\n", json_string_value(json_object_get(e, "user")),
		    (long long)json_integer_value(json_object_get(e, "overdue")),
		    json_string_value(json_object_get(e, "oldest_due")));
}

int
report_cli(struct app *app, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int json = 0;
	int64_t from = 0, to = INT64_MAX / 2;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if ((strcmp(argv[i], "--from") == 0 || strcmp(argv[i], "--to") == 0) && i + 1 < argc) {
			int64_t t = parse_day(argv[i + 1]);
			if (t < 0) {
				fprintf(stderr, "inkflow: %s: \"%s\" is not a date (YYYY-MM-DD)\n", argv[i],
				    argv[i + 1]);
				return 1;
			}
			if (argv[i][2] == 'f')
				from = t;
			else
				to = t + 86400; /* --to includes that day */
			i++;
		} else {
			fprintf(stderr, "inkflow: report: unknown argument %s\n", argv[i]);
			return 1;
		}
	}
	json_t *(*fn)(struct app *, int64_t, int64_t) =
	    strcmp(what, "pipeline") == 0 ? pipeline
	    : strcmp(what, "activity") == 0 ? activity
	    : strcmp(what, "approvals") == 0 ? approvals : NULL;
	if (!fn) {
		fprintf(stderr, "inkflow: report pipeline|activity|approvals [--from YYYY-MM-DD] "
		                "[--to YYYY-MM-DD] [--json]\n");
		return 1;
	}
	if (app_open_db(app, APP_READ) < 0)
		return 1;
	json_t *j = fn(app, from, to);
	if (json) {
		char *s = json_dumps(j, JSON_INDENT(2));
		puts(s);
		free(s);
	} else if (fn == pipeline) {
		print_pipeline(j);
	} else if (fn == activity) {
		size_t i;
		json_t *e;
		printf("%-15s %-26s %8s %8s %8s %8s %8s\n", "USER", "NAME", "PROJECTS", "MAILS", "CALCS",
		    "OFFERS", "TASKS");
		json_array_foreach(j, i, e) {
			utf8_pad(json_string_value(json_object_get(e, "user")), 15);
			putchar(' ');
			utf8_pad(json_string_value(json_object_get(e, "name")), 26);
			printf(" %8lld %8lld %8lld %8lld %8lld\n",
			    (long long)json_integer_value(json_object_get(e, "new_projects")),
			    (long long)json_integer_value(json_object_get(e, "client_mails")),
			    (long long)json_integer_value(json_object_get(e, "calculations")),
			    (long long)json_integer_value(json_object_get(e, "offers")),
			    (long long)json_integer_value(json_object_get(e, "tasks_done")));
		}
	} else {
		size_t i;
		json_t *e;
		printf("%-16s %-15s %9s %9s %9s %8s %8s %9s\n", "LEVEL", "APPROVER", "DECISIONS",
		    "AVG h", "MAX h", "APPROVED", "REJECTED", "CORRECTED");
		json_array_foreach(json_object_get(j, "by_approver"), i, e)
			printf("%-16s %-15s %9lld %9.1f %9.1f %8lld %8lld %9lld\n",
			    json_string_value(json_object_get(e, "level")),
			    json_string_value(json_object_get(e, "approver")),
			    (long long)json_integer_value(json_object_get(e, "decisions")),
			    json_real_value(json_object_get(e, "avg_hours")),
			    json_real_value(json_object_get(e, "max_hours")),
			    (long long)json_integer_value(json_object_get(e, "approved")),
			    (long long)json_integer_value(json_object_get(e, "rejected")),
			    (long long)json_integer_value(json_object_get(e, "corrected")));
		printf("pending approval: %lld\n",
		    (long long)json_integer_value(json_object_get(j, "pending")));
	}
	json_decref(j);
	return 0;
}
