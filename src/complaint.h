/*
 * complaint: after-sales cases.  A client's mail on a closed project gives
 * BOK and the owner a review task; COMPLAINT opens a numbered case
 * (RK/2026/0007) with the mail and its photos as evidence; everyone who
 * worked on the order gives an OPINION; the owner's supervisor DECIDEs
 * (accept with reprint, discount or refund, or reject) and the client gets
 * the decision with its PDF.  States and tasks come from workflow.xml.
 */
#ifndef INKFLOW_COMPLAINT_H
#define INKFLOW_COMPLAINT_H

#include <stdint.h>

struct app;
struct cmd_outcome;
struct wf_ctx;

/* COMPLAINT on a review task: open the case.  0 / -1. */
int complaint_open(struct app *app, int64_t project, int64_t message, int64_t user,
    struct cmd_outcome *o, struct wf_ctx *ctx);

/* OPINION text on an opinion task: keep it; the last one moves the case to
 * the decision.  0 / -1. */
int complaint_opinion(struct app *app, int64_t project, int64_t task, int64_t user,
    const char *text, int64_t message, struct cmd_outcome *o, struct wf_ctx *ctx);

/* DECIDE "accept reprint|discount AMOUNT|refund AMOUNT" or "reject", the
 * text for the client in rest.  0 done or refused (in o), -1 error. */
int complaint_decide(struct app *app, int64_t project, int64_t task, int64_t user,
    const char *arg, const char *rest, int64_t message, struct cmd_outcome *o,
    struct wf_ctx *ctx);

/* Opinion tasks past their due time: closed as unanswered, the case moves
 * to the decision.  Run by the daemon's timer.  Returns cases moved, -1. */
int complaint_timers(struct app *app);

/* The open case of a project, 0 when none. */
int64_t complaint_current(struct app *app, int64_t project);

/* `inkflow complaint list|show N [--json]`. */
int complaint_cli(struct app *app, int argc, char **argv);

#endif
