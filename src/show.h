/*
 * show: the listing commands — project list/show and mail list — as text
 * for people and as JSON (jansson) for scripts.
 */
#ifndef INKFLOW_SHOW_H
#define INKFLOW_SHOW_H

#include <stdint.h>

struct app;

/* Each prints to stdout and returns an exit code (0 ok, 1 user error). */
int show_project_list(struct app *app, int json);
int show_project(struct app *app, int64_t id, int json);
int show_mail_list(struct app *app, const char *status, int json);
int show_outbox_list(struct app *app, const char *status, int json);

#endif
