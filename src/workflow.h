/*
 * workflow: the engine that runs conf/workflow.xml.  A project is in one
 * state; events move it along the first transition whose guard holds,
 * running the transition's actions and the target state's entry actions
 * (tasks, mails, owner assignment).  Runs inside the caller's transaction:
 * a step is all or nothing, and every transition is in the history.
 */
#ifndef INKFLOW_WORKFLOW_H
#define INKFLOW_WORKFLOW_H

#include <stdint.h>

struct app;

struct wf_ctx {
	int64_t actor;          /* users.id of the person acting, 0 = the system */
	const char *actor_name; /* for the history: login, address or "system" */
	int64_t message;        /* messages.id that caused this, 0 for the CLI */
	const char *thread_id;  /* Message-ID to answer the client under, or NULL */
	const char *reason;     /* becomes the description of tasks the step creates */
	int replies;            /* out: mails queued */
	int quiet_client;       /* no template mail to the client (an inquiry
	                         * a staff member forwarded: they are in touch) */
};

/* Enter the workflow's initial state with a new project. 0 / -1. */
int wf_start(struct app *app, int64_t project, struct wf_ctx *ctx);

/* Fire event on project.  1 when a transition was taken, 0 when the
 * current state accepts no such event (nothing changed), -1 on error. */
int wf_fire(struct app *app, int64_t project, const char *event, struct wf_ctx *ctx);

/* The level an amount needs: 0 none (auto-approve), else ROLE_SUPERVISOR,
 * ROLE_SALES_DIRECTOR or ROLE_BOARD.  currency "PLN"/"EUR"; net in minor
 * units. */
int wf_required_level(const struct app *app, int64_t net, const char *currency);

#endif
