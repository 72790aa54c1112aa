#include "remind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "compose.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "task.h"
#include "tmpl.h"
#include "util.h"

/* Tasks looked at per pass. */
#define BATCH 500

static const struct cfg_reminder *
rule_for(const struct config *cfg, const char *kind)
{
	const struct cfg_reminder *def = NULL;
	for (size_t i = 0; i < cfg->nreminders; i++) {
		if (strcmp(cfg->reminders[i].kind, kind) == 0)
			return &cfg->reminders[i];
		if (strcmp(cfg->reminders[i].kind, "*") == 0 && !def)
			def = &cfg->reminders[i];
	}
	return def;
}

/* The supervisor `levels` steps up from login, NULL past the top. */
static const struct cfg_user *
up(const struct config *cfg, const char *login, int64_t levels)
{
	const struct cfg_user *u = config_user(cfg, login);
	for (int64_t i = 0; u && i < levels; i++)
		u = u->supervisor ? config_user(cfg, u->supervisor) : NULL;
	return u;
}

static int
escalate(struct app *app, int64_t task, int64_t project, const struct cfg_user *who,
    const struct cfg_user *boss, const char *title, int64_t due, int64_t level)
{
	char pb[32], when[32];
	snprintf(pb, sizeof(pb), "%lld", (long long)project);
	time_t t = (time_t)due;
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(when, sizeof(when), "%d.%m.%Y %H:%M", &tm))
		snprintf(when, sizeof(when), "?");
	char *subject = NULL;
	if (project)
		db_1s(app->db, &subject, "SELECT title FROM projects WHERE id=?1", "i", project);
	struct tmpl_var v[] = {
	    {"project", pb}, {"subject", subject ? subject : ""}, {"task_title", title},
	    {"owner_name", who->name}, {"assignee_name", boss->name}, {"date", when},
	    {"company_name", app->cfg->company.name},
	};
	struct tmpl_mail m;
	char err[512];
	int r = -1;
	if (tmpl_mail_render(app->cfg->templates_dir, boss->lang, "escalation", v, ARRAY_LEN(v), &m,
	        err, sizeof(err)) < 0) {
		log_error("event=template_failed template=escalation error=%s", log_q(err));
	} else {
		struct mail_out mo = {
		    .from_name = app->cfg->system_name, .from_addr = app->cfg->system_address,
		    .to_name = boss->name, .to_addr = boss->email, .subject = m.subject,
		    .text = m.text, .html = m.html, .auto_generated = 1,
		    .loop_id = app->cfg->system_address, .project = project,
		};
		r = outbox_queue(app, project, "escalation", &mo, NULL) < 0 ||
		        hist_add(app->db, project, 0, "system", "escalated",
		            "task %lld of %s overdue since %s: escalated to %s (level %lld)",
		            (long long)task, who->login, when, boss->login, (long long)level) < 0
		    ? -1 : 0;
		tmpl_mail_free(&m);
	}
	free(subject);
	return r;
}

/*
 * When remind_run must look at an open task again: its next reminder or
 * escalation, at least a minute and at most a day from now (a task no rule
 * covers is looked at daily: the rules may change).  Stored in
 * tasks.remind_next, so that a pass reads only the tasks whose time has come
 * (the partial index tasks_remind) instead of every overdue task, and tasks
 * waiting for their next period never crowd out the others from a batch.
 */
static int64_t
next_check(const struct cfg_reminder *rule, int64_t now, int64_t due, int64_t reminded,
    int64_t escalations)
{
	int64_t next = now + 86400;
	if (rule && rule->every && reminded && reminded + rule->every < next)
		next = reminded + rule->every;
	if (rule && rule->escalate) {
		/* The next level not reached yet (one that could not be
		 * escalated, for want of the user in the configuration, is past). */
		int64_t level = now > due ? (now - due) / rule->escalate : 0;
		if (level < escalations)
			level = escalations;
		if (due + (level + 1) * rule->escalate < next)
			next = due + (level + 1) * rule->escalate;
	}
	return next < now + 60 ? now + 60 : next;
}

/* The reminder rules as one string, to notice when they change. */
static char *
rules_key(const struct config *cfg)
{
	char *k = xstrdup("");
	for (size_t i = 0; i < cfg->nreminders; i++) {
		char *n = xasprintf("%s%s=%lld/%lld;", k, cfg->reminders[i].kind,
		    (long long)cfg->reminders[i].every, (long long)cfg->reminders[i].escalate);
		free(k);
		k = n;
	}
	return k;
}

/* When the rules are not those the stored remind_next times were computed
 * with (a reload, a restart with another configuration), forget the times:
 * every overdue task is looked at again.  With no rules stored yet (a new
 * database, or the first run at schema 11) the times are as the database
 * has them: unset after the migration.  0, or -1. */
static int
rules_check(struct app *app)
{
	char *key = rules_key(app->cfg), *old = NULL;
	int r = db_1s(app->db, &old, "SELECT value FROM meta WHERE key='reminder_rules'", "");
	if (r >= 0 && (r == 0 || !old || strcmp(old, key) != 0)) {
		int changed = r == 1;
		r = db_begin(app->db);
		if (r == 0 &&
		    ((changed && db_x(app->db, "UPDATE tasks SET remind_next=NULL WHERE status='open'"
		                                " AND remind_next IS NOT NULL", "") < 0) ||
		        db_x(app->db, "INSERT INTO meta(key,value) VALUES('reminder_rules',?1)"
		                      " ON CONFLICT(key) DO UPDATE SET value=?1", "t", key) < 0 ||
		        db_commit(app->db) < 0)) {
			db_rollback(app->db);
			r = -1;
		}
	}
	free(old);
	free(key);
	return r < 0 ? -1 : 0;
}

int
remind_run(struct app *app)
{
	int64_t now = now_epoch();
	if (rules_check(app) < 0)
		return -1;
	/* INDEXED BY: without statistics SQLite takes status='open' for the
	 * selective term and reads every open task through tasks_due. */
	struct db_stmt *q = db_q(app->db,
	    "SELECT t.id FROM tasks t INDEXED BY tasks_remind WHERE t.status='open'"
	    " AND coalesce(t.remind_next,t.due)<=?1"
	    " ORDER BY coalesce(t.remind_next,t.due) LIMIT ?2", "ii", now, (int64_t)BATCH);
	int64_t ids[BATCH];
	size_t n = 0;
	while (q && n < BATCH && db_step(q) == 1)
		ids[n++] = db_int(q, 0);
	if (q)
		db_done(q);
	int sent = 0;
	for (size_t i = 0; i < n; i++) {
		if (db_begin(app->db) < 0)
			return -1;
		struct db_stmt *t = db_q(app->db,
		    "SELECT t.kind, t.due, t.reminded, t.escalations, u.login, coalesce(t.project_id,0),"
		    " t.title FROM tasks t JOIN users u ON u.id=t.assignee_id"
		    " WHERE t.id=?1 AND t.status='open'", "i", ids[i]);
		if (!t || db_step(t) != 1) {
			if (t)
				db_done(t);
			db_rollback(app->db);
			continue;
		}
		char *kind = xstrdup(db_text(t, 0)), *login = xstrdup(db_text(t, 4));
		char *title = xstrdup(db_text(t, 6));
		int64_t due = db_int(t, 1), reminded = db_isnull(t, 2) ? 0 : db_int(t, 2);
		int64_t escalations = db_int(t, 3), project = db_int(t, 5);
		db_done(t);
		const struct cfg_reminder *rule = rule_for(app->cfg, kind);
		int mails = 0, r = 0;
		/* An assignee no longer in users.xml (someone who left) cannot be
		 * mailed: that task waits, looked at daily, and must not stop the
		 * pass (it would be first again in every batch). */
		int known = config_user(app->cfg, login) != NULL;
		if (!known)
			log_warn("event=remind_skipped task=%lld user=%s reason=\"not in the configuration\"",
			    (long long)ids[i], log_q(login));
		if (known && rule && rule->every && (!reminded || now - reminded >= rule->every)) {
			reminded = now;
			r = task_remind(app, ids[i], &mails) < 0 ||
			        db_x(app->db, "UPDATE tasks SET reminders=reminders+1, reminded=?2 WHERE id=?1",
			            "ii", ids[i], now) < 0 ||
			        hist_add(app->db, project, 0, "system", "reminded", "task %lld reminded to %s",
			            (long long)ids[i], login) < 0
			    ? -1 : 0;
		}
		if (r == 0 && rule && rule->escalate) {
			int64_t level = (now - due) / rule->escalate;
			const struct cfg_user *who = config_user(app->cfg, login);
			if (level > escalations && who) {
				const struct cfg_user *boss = up(app->cfg, login, level);
				if (boss && escalate(app, ids[i], project, who, boss, title, due, level) < 0)
					r = -1;
				else
					mails += boss ? 1 : 0;
				if (r == 0 && db_x(app->db, "UPDATE tasks SET escalations=?2 WHERE id=?1", "ii",
				                  ids[i], level) < 0)
					r = -1;
				escalations = level;
			}
		}
		if (r == 0 && db_x(app->db, "UPDATE tasks SET remind_next=?2 WHERE id=?1", "ii", ids[i],
		                  next_check(known ? rule : NULL, now, due, reminded, escalations)) < 0)
			r = -1;
		free(kind);
		free(login);
		free(title);
		if (r < 0 || db_commit(app->db) < 0) {
			db_rollback(app->db);
			return -1;
		}
		sent += mails;
	}
	return sent;
}
