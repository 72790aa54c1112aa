/*
 * remind: the timers of overdue tasks.  When a task is due its assignee is
 * reminded (the task mail again, same links while they are valid, else
 * fresh ones), then every `every` period; after `escalate-after` overdue
 * the assignee's supervisor is told, and one level further up per further
 * period.  Each mail and its record are one transaction, so a restart
 * never sends one twice.  Time comes from now_epoch() (INKFLOW_NOW in
 * tests).
 */
#ifndef INKFLOW_REMIND_H
#define INKFLOW_REMIND_H

struct app;

/* Send what is due now.  Returns the number of mails queued, or -1. */
int remind_run(struct app *app);

#endif
