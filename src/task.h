/*
 * task: a person's task on a project and the mail that asks for it.  The
 * mail says what is asked and why, gives the project facts and the current
 * calculation, and carries one mailto: link per allowed action; its
 * Reply-To is the system address plus a signed token (token.h), which is
 * what lets a reply act.
 */
#ifndef INKFLOW_TASK_H
#define INKFLOW_TASK_H

#include <stdint.h>

struct app;

/* How long a task's action links stay valid. */
#define TASK_TOKEN_DAYS 30

/* Create an open task for user and queue its mail.  actions is the bit
 * set (1 << CMD_x) of allowed reply commands; due epoch seconds or 0.
 * attach (may be NULL) lists what travels with the mail, space-separated:
 * "document:KIND" (the project's latest document of that kind), "artwork"
 * (every PDF or image the client sent in the project), "message" (the
 * attachments of message).  Files over TASK_ATTACH_MAX go as paths in the
 * text instead.  Records the history.  Returns the task id, or -1.  *mails
 * is increased by the mails queued. */
int64_t task_open(struct app *app, int64_t project, int64_t message, const char *kind,
    int64_t user, const char *title, const char *description, uint32_t actions, int64_t due,
    const char *attach, int *mails);

/* Mail an open task again as a reminder (same links).  1 sent, 0 the task
 * is no longer open, -1 error.  Inside the caller's transaction. */
int task_remind(struct app *app, int64_t task, int *mails);

/* Largest file attached to a task mail; larger ones are listed by path. */
#define TASK_ATTACH_MAX (15 * 1024 * 1024)

/* Close an open task with what was done (status 'done', or 'cancelled'
 * when by is 0).  0 / -1. */
int task_close(struct app *app, int64_t task, int64_t by, const char *result);

/* Send the assignee a METHOD:CANCEL for a task that was closed or
 * cancelled (task_close does it itself).  0 / -1. */
int task_uncalendar(struct app *app, int64_t task);

/* Print or emit the task list (all open tasks, or one user's). */
int task_list(struct app *app, const char *login, int json);

#endif
