#include "complaint.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "calc.h"
#include "command.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "workflow.h"

static void
tell(struct cmd_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
tell(struct cmd_outcome *o, const char *fmt, ...)
{
	struct sbuf sb = {0};
	sb_adds(&sb, o->text);
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(o->text);
	o->text = sb_steal(&sb);
}

static const char *
login_of(struct app *app, int64_t user)
{
	const struct cfg_user *u = store_user_cfg(app, user);
	return u ? u->login : "?";
}

int64_t
complaint_current(struct app *app, int64_t project)
{
	int64_t id = 0;
	db_1i(app->db, &id,
	    "SELECT id FROM complaints WHERE project_id=?1 AND status='open' ORDER BY id DESC LIMIT 1",
	    "i", project);
	return id;
}

int
complaint_open(struct app *app, int64_t project, int64_t message, int64_t user,
    struct cmd_outcome *o, struct wf_ctx *ctx)
{
	int64_t open = complaint_current(app, project);
	int64_t evidence = 0;
	db_1i(app->db, &evidence, "SELECT coalesce(message_id,0) FROM tasks WHERE project_id=?1"
	                          " AND kind='complaint-review' ORDER BY id DESC LIMIT 1", "i", project);
	if (open) {
		/* A second complaint while one is open: more evidence for it. */
		char *num = NULL;
		db_1s(app->db, &num, "SELECT number FROM complaints WHERE id=?1", "i", open);
		int r = hist_add(app->db, project, evidence, login_of(app, user), "complaint",
		    "further evidence for complaint %s", num ? num : "?") < 0;
		tell(o, "Dołączono do otwartej reklamacji %s.\n", num ? num : "?");
		free(num);
		return r ? -1 : 0;
	}
	time_t t = (time_t)now_epoch();
	struct tm tm;
	localtime_r(&t, &tm);
	int year = tm.tm_year + 1900;
	int64_t n = 0;
	if (db_x(app->db,
	        "INSERT INTO doc_numbers(kind,year,last) VALUES('complaint',?1,1)"
	        " ON CONFLICT(kind,year) DO UPDATE SET last=last+1", "d", year) < 0 ||
	    db_1i(app->db, &n, "SELECT last FROM doc_numbers WHERE kind='complaint' AND year=?1", "d",
	        year) != 1)
		return -1;
	char number[32];
	snprintf(number, sizeof(number), "RK/%d/%04lld", year, (long long)n);
	if (db_x(app->db,
	        "INSERT INTO complaints(project_id,number,message_id,status,opened)"
	        " VALUES(?1,?2,NULLIF(?3,0),'open',?4)", "itii", project, number, evidence,
	        now_epoch()) < 0 ||
	    hist_add(app->db, project, message, login_of(app, user), "complaint",
	        "complaint %s opened by %s", number, login_of(app, user)) < 0 ||
	    db_x(app->db,
	        "UPDATE tasks SET status='cancelled', closed=?2, result='complaint opened'"
	        " WHERE project_id=?1 AND kind='complaint-review' AND status='open'", "ii", project,
	        now_epoch()) < 0)
		return -1;
	/* The client's words are what everyone gives an opinion on. */
	char *text = NULL;
	db_1s(app->db, &text, "SELECT body FROM messages WHERE id=?1", "i", evidence);
	ctx->reason = text;
	ctx->message = evidence;
	int r = wf_fire(app, project, "complaint", ctx);
	ctx->reason = NULL;
	free(text);
	if (r < 0)
		return -1;
	o->done = 1;
	tell(o, "Otwarto reklamację %s; uczestnicy zamówienia dostali prośbę o opinię.\n", number);
	return 0;
}

/* All opinions, side by side, for the decision task. */
static char *
opinions_text(struct app *app, int64_t complaint)
{
	struct sbuf sb = {0};
	struct db_stmt *q = db_q(app->db,
	    "SELECT u.name, u.role, o.text FROM complaint_opinions o JOIN users u ON u.id=o.user_id"
	    " WHERE o.complaint_id=?1 ORDER BY o.id", "i", complaint);
	while (q && db_step(q) == 1)
		sb_printf(&sb, "--- %s (%s):\n%s\n\n", db_text(q, 0), db_text(q, 1), db_text(q, 2));
	if (q)
		db_done(q);
	struct db_stmt *m = db_q(app->db,
	    "SELECT u.name FROM tasks t JOIN users u ON u.id=t.assignee_id JOIN complaints c"
	    " ON c.project_id=t.project_id WHERE c.id=?1 AND t.kind='complaint-opinion'"
	    " AND t.result='no answer'", "i", complaint);
	while (m && db_step(m) == 1)
		sb_printf(&sb, "--- %s: brak opinii w terminie / keine Stellungnahme\n\n", db_text(m, 0));
	if (m)
		db_done(m);
	return sb_steal(&sb);
}

static int
to_decision(struct app *app, int64_t project, struct wf_ctx *ctx)
{
	int64_t c = complaint_current(app, project);
	char *all = opinions_text(app, c);
	char *num = NULL;
	db_1s(app->db, &num, "SELECT number FROM complaints WHERE id=?1", "i", c);
	char *desc = xasprintf("Reklamacja %s – opinie:\n\n%s"
	                       "Odpowiedz: DECIDE accept reprint | accept discount KWOTA | "
	                       "accept refund KWOTA | reject, a w kolejnych liniach tekst dla klienta.",
	    num ? num : "?", all);
	ctx->reason = desc;
	int r = wf_fire(app, project, "opinions-complete", ctx);
	ctx->reason = NULL;
	free(desc);
	free(all);
	free(num);
	return r < 0 ? -1 : 0;
}

int
complaint_opinion(struct app *app, int64_t project, int64_t task, int64_t user, const char *text,
    int64_t message, struct cmd_outcome *o, struct wf_ctx *ctx)
{
	int64_t c = complaint_current(app, project);
	if (!c) {
		tell(o, "Ta reklamacja jest już rozstrzygnięta; opinia zapisana w historii.\n");
		return hist_add(app->db, project, message, login_of(app, user), "opinion-late",
		           "%s", text) < 0 ? -1 : 0;
	}
	if (!*text) {
		tell(o, "OPINION bez treści; nic nie zapisano.\n");
		return 0;
	}
	if (db_x(app->db,
	        "INSERT INTO complaint_opinions(complaint_id,user_id,text,message_id,created)"
	        " VALUES(?1,?2,?3,NULLIF(?4,0),?5)", "iitii", c, user, text, message, now_epoch()) < 0 ||
	    task_close(app, task, user, "OPINION") < 0 ||
	    hist_add(app->db, project, message, login_of(app, user), "opinion", "%s", text) < 0)
		return -1;
	o->done = 1;
	tell(o, "Opinia zapisana.\n");
	int64_t left = 0;
	db_1i(app->db, &left, "SELECT count(*) FROM tasks WHERE project_id=?1 AND"
	                      " kind='complaint-opinion' AND status='open'", "i", project);
	return left ? 0 : to_decision(app, project, ctx);
}

int
complaint_decide(struct app *app, int64_t project, int64_t task, int64_t user, const char *arg,
    const char *rest, int64_t message, struct cmd_outcome *o, struct wf_ctx *ctx)
{
	int64_t c = complaint_current(app, project);
	if (!c) {
		tell(o, "Nie ma otwartej reklamacji.\n");
		return 0;
	}
	char *a = str_lower(xstrdup(arg));
	const char *outcome = NULL;
	int64_t amount = -1;
	int reprint = 0;
	char cur[4] = "PLN";
	char *pc = NULL;
	if (db_1s(app->db, &pc, "SELECT currency FROM projects WHERE id=?1", "i", project) == 1 && pc)
		snprintf(cur, sizeof(cur), "%s", pc);
	free(pc);
	if (str_istarts(a, "reject") || str_istarts(a, "odrzu") || str_istarts(a, "ablehn"))
		outcome = "reject";
	else if (strstr(a, "reprint") || strstr(a, "dodruk") || strstr(a, "nachdruck")) {
		outcome = "reprint";
		reprint = 1;
	} else if (strstr(a, "discount") || strstr(a, "rabat")) {
		outcome = "discount";
	} else if (strstr(a, "refund") || strstr(a, "zwrot") || strstr(a, "erstattung")) {
		outcome = "refund";
	}
	if (outcome && (strcmp(outcome, "discount") == 0 || strcmp(outcome, "refund") == 0)) {
		const char *num = a + strcspn(a, "0123456789");
		if (!*num || calc_parse_money(num, cur, &amount) < 0) {
			tell(o, "DECIDE %s wymaga kwoty, np. DECIDE accept %s 250,00; nic nie zmieniono.\n",
			    outcome, outcome);
			free(a);
			return 0;
		}
	}
	free(a);
	if (!outcome) {
		tell(o, "DECIDE: accept reprint | accept discount KWOTA | accept refund KWOTA | reject;"
		        " nic nie zmieniono.\n");
		return 0;
	}
	if (!*rest) {
		tell(o, "DECIDE wymaga tekstu dla klienta w kolejnych liniach; nic nie zmieniono.\n");
		return 0;
	}
	if (db_x(app->db,
	        "UPDATE complaints SET status='decided', decided=?2, decided_by=?3, outcome=?4,"
	        " amount=NULLIF(?5,-1), decision_text=?6 WHERE id=?1", "iiitit", c, now_epoch(), user,
	        outcome, amount, rest) < 0 ||
	    task_close(app, task, user, "DECIDE") < 0 ||
	    hist_add(app->db, project, message, login_of(app, user), "decided",
	        "complaint decided by %s: %s%s", login_of(app, user), outcome,
	        amount >= 0 ? " (amount given)" : "") < 0 ||
	    db_x(app->db,
	        "UPDATE tasks SET status='cancelled', closed=?2, result='decided without this opinion'"
	        " WHERE project_id=?1 AND kind='complaint-opinion' AND status='open'", "ii", project,
	        now_epoch()) < 0 ||
	    wf_fire(app, project, "decide", ctx) < 0)
		return -1;
	if (db_x(app->db, "UPDATE complaints SET status='closed' WHERE id=?1", "i", c) < 0)
		return -1;
	if (reprint && wf_fire(app, project, "reprint", ctx) < 0)
		return -1;
	o->done = 1;
	tell(o, "Decyzja zapisana (%s); klient otrzymał odpowiedź z dokumentem.\n", outcome);
	return 0;
}

int
complaint_timers(struct app *app)
{
	struct db_stmt *q = db_q(app->db,
	    "SELECT DISTINCT p.id FROM projects p JOIN tasks t ON t.project_id=p.id"
	    " WHERE p.state='complaint' AND t.kind='complaint-opinion' AND t.status='open'"
	    " AND t.due IS NOT NULL AND t.due<?1", "i", now_epoch());
	int64_t ids[64];
	size_t n = 0;
	while (q && n < 64 && db_step(q) == 1)
		ids[n++] = db_int(q, 0);
	if (q)
		db_done(q);
	int moved = 0;
	for (size_t i = 0; i < n; i++) {
		if (db_begin(app->db) < 0)
			return -1;
		struct wf_ctx ctx = {.actor_name = "system"};
		if (db_x(app->db,
		        "UPDATE tasks SET status='cancelled', closed=?2, result='no answer'"
		        " WHERE project_id=?1 AND kind='complaint-opinion' AND status='open'", "ii", ids[i],
		        now_epoch()) < 0 ||
		    hist_add(app->db, ids[i], 0, "system", "opinion-deadline",
		        "the deadline for opinions passed; the case goes to the decision") < 0 ||
		    to_decision(app, ids[i], &ctx) < 0 || db_commit(app->db) < 0) {
			db_rollback(app->db);
			return -1;
		}
		moved++;
	}
	return moved;
}

int
complaint_cli(struct app *app, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	int json = 0;
	const char *key = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			key = argv[i];
	}
	int show = strcmp(sub, "show") == 0;
	if ((!show && strcmp(sub, "list") != 0) || (show && !key)) {
		fprintf(stderr, "inkflow: complaint list [--json] | complaint show RK/2026/0001|ID [--json]\n");
		return 1;
	}
	if (app_open_db(app, APP_READ) < 0)
		return 1;
	int64_t id = 0;
	if (show && parse_int64(key, 1, INT64_MAX, &id) < 0 &&
	    db_1i(app->db, &id, "SELECT id FROM complaints WHERE number=upper(?1)", "t", key) != 1) {
		fprintf(stderr, "inkflow: no complaint \"%s\"\n", key);
		return 1;
	}
	struct db_stmt *q = db_q(app->db,
	    "SELECT c.id, c.number, c.project_id, c.status, c.opened, c.decided, c.outcome, c.amount,"
	    " c.decision_text, u.login, m.body FROM complaints c LEFT JOIN users u ON u.id=c.decided_by"
	    " LEFT JOIN messages m ON m.id=c.message_id WHERE (?1=0 OR c.id=?1) ORDER BY c.id",
	    "i", id);
	json_t *arr = json_array();
	while (q && db_step(q) == 1) {
		char opened[32], decided[32] = "";
		iso_time(db_int(q, 4), opened, sizeof(opened));
		if (!db_isnull(q, 5))
			iso_time(db_int(q, 5), decided, sizeof(decided));
		json_array_append_new(arr, json_pack("{s:I,s:s,s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}",
		    "id", (json_int_t)db_int(q, 0), "number", db_text(q, 1), "project",
		    (json_int_t)db_int(q, 2), "status", db_text(q, 3), "opened", opened, "decided",
		    *decided ? json_string(decided) : json_null(), "outcome",
		    db_text(q, 6) ? json_string(db_text(q, 6)) : json_null(), "amount",
		    db_isnull(q, 7) ? json_null() : json_integer(db_int(q, 7)), "decision_text",
		    db_text(q, 8) ? json_string(db_text(q, 8)) : json_null(), "decided_by",
		    db_text(q, 9) ? json_string(db_text(q, 9)) : json_null(), "client_text",
		    db_text(q, 10) ? json_string(db_text(q, 10)) : json_null()));
	}
	if (q)
		db_done(q);
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		json_t *ops = json_array();
		struct db_stmt *o = db_q(app->db,
		    "SELECT u.login, o.text FROM complaint_opinions o JOIN users u ON u.id=o.user_id"
		    " WHERE o.complaint_id=?1 ORDER BY o.id", "i",
		    (int64_t)json_integer_value(json_object_get(e, "id")));
		while (o && db_step(o) == 1)
			json_array_append_new(ops, json_pack("{s:s,s:s}", "by", db_text(o, 0), "text",
			                               db_text(o, 1)));
		if (o)
			db_done(o);
		json_object_set_new(e, "opinions", ops);
	}
	if (json) {
		char *s = json_dumps(show ? json_array_get(arr, 0) : arr, JSON_INDENT(2));
		puts(s ? s : "null");
		free(s);
	} else {
		json_array_foreach(arr, i, e) {
			printf("%-14s INK-%-5lld %-8s opened %s%s%s\n",
			    json_string_value(json_object_get(e, "number")),
			    (long long)json_integer_value(json_object_get(e, "project")),
			    json_string_value(json_object_get(e, "status")),
			    json_string_value(json_object_get(e, "opened")),
			    json_object_get(e, "outcome") && json_is_string(json_object_get(e, "outcome")) ? ", outcome " : "",
			    json_is_string(json_object_get(e, "outcome")) ? json_string_value(json_object_get(e, "outcome")) : "");
			if (show) {
				printf("  client wrote:\n%s\n", json_is_string(json_object_get(e, "client_text"))
				                                  ? json_string_value(json_object_get(e, "client_text")) : "");
				size_t k;
				json_t *op;
				json_array_foreach(json_object_get(e, "opinions"), k, op)
					printf("  opinion of %s:\n%s\n", json_string_value(json_object_get(op, "by")),
					    json_string_value(json_object_get(op, "text")));
				if (json_is_string(json_object_get(e, "decision_text")))
					printf("  decision for the client:\n%s\n",
					    json_string_value(json_object_get(e, "decision_text")));
			}
		}
	}
	json_decref(arr);
	return 0;
}
