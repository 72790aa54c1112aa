/*
 * command: what a person asks for on a task — by a reply carrying the
 * task's token, or by `inkflow task do` — carried out with the same rules
 * and the same history either way: notes, calculation lines and SUBMIT,
 * APPROVE, CORRECT, REJECT with a reason, ASSIGN, and the later steps.
 * Runs inside the caller's transaction.
 */
#ifndef INKFLOW_COMMAND_H
#define INKFLOW_COMMAND_H

#include <stdint.h>

#include "reply.h"

struct app;

struct cmd_input {
	int64_t task;
	int64_t user;          /* users.id of the person acting */
	enum reply_cmd cmd;    /* CMD_NONE: the text may be calculation lines */
	const char *arg;       /* rest of the command line */
	const char *rest;      /* the lines after it */
	const char *text;      /* the whole new text (for CMD_NONE) */
	int64_t message;       /* messages.id, 0 from the command line */
	const char *via;       /* "mail" or "cli", for the history */
};

struct cmd_outcome {
	int done;          /* 1 carried out, 0 refused (nothing changed but the reply) */
	int64_t project;
	int64_t calc;      /* calculation to show with the answer, 0 none */
	char *title;       /* short subject for the answer (owned) */
	char *text;        /* what to tell the person (owned) */
	int mails;         /* mails queued by the step */
};

/* Carry out in on its task.  Returns 0 with out filled (done or refused
 * with a reason in out->text), -1 on an internal error (out then holds
 * nothing to free). */
int cmd_execute(struct app *app, const struct cmd_input *in, struct cmd_outcome *out);
void cmd_outcome_free(struct cmd_outcome *o);

/* Queue the answer to the person who acted (command-reply template). */
int cmd_answer(struct app *app, int64_t user, const struct cmd_outcome *o);

#endif
