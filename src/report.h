/*
 * report: the management view — pipeline (projects and value per state and
 * per rep, won and conversion, overdue tasks by person), activity (each
 * rep's mails, calculations, offers, tasks done) and approvals (time to a
 * decision by level and approver), for a period, as text or JSON.
 */
#ifndef INKFLOW_REPORT_H
#define INKFLOW_REPORT_H

#include <stdint.h>

struct app;

/* `inkflow report pipeline|activity|approvals [--from D] [--to D] [--json]`. */
int report_cli(struct app *app, int argc, char **argv);

#endif
