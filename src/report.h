/*
 * report: the management view — pipeline (projects and value per state and
 * per rep, won and conversion, overdue tasks by person), activity (each
 * rep's mails, calculations, offers, tasks done) and approvals (time to a
 * decision by level and approver), for a period, as text or JSON.
 */
#ifndef INKFLOW_REPORT_H
#define INKFLOW_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct app;

/* `inkflow report pipeline|activity|approvals [--from D] [--to D] [--json]`. */
int report_cli(struct app *app, int argc, char **argv);

struct json_t;

/* The objects `inkflow report ... --json` prints, for [from, to) in epoch
 * seconds (projects by their creation, activity and approvals by when they
 * happened; overdue tasks and pending approvals as of now_epoch()).  The
 * database must be open.  New references: the caller frees them with
 * json_decref. */
struct json_t *report_pipeline(struct app *app, int64_t from, int64_t to);
struct json_t *report_activity(struct app *app, int64_t from, int64_t to);
struct json_t *report_approvals(struct app *app, int64_t from, int64_t to);
/* Calculations waiting for an approver: the "pending" of report_approvals
 * without the decisions' statistics (which read every submission). */
int64_t report_pending_approvals(struct app *app);

/* Activity per day: for day i (0 <= i < ndays) the projects created and the
 * messages received of class "normal" (mail from clients and staff, not
 * auto-replies, bounces or lists) in [bounds[i], bounds[i + 1]).  bounds
 * holds ndays + 1 ascending instants; projects and messages ndays counts.
 * 0, or -1 when a query fails. */
int report_daily(struct app *app, const int64_t *bounds, size_t ndays, int64_t *projects,
    int64_t *messages);

#endif
