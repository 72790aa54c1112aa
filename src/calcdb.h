/*
 * calcdb: calculations stored per project in versions, and their tables
 * for people (list price beside the price used, VAT per rate, totals).
 */
#ifndef INKFLOW_CALCDB_H
#define INKFLOW_CALCDB_H

#include <stdint.h>

struct app;
struct calc_result;

/* Store r as the project's next calculation version.  Returns its id. */
int64_t calcdb_save(struct app *app, int64_t project, int64_t author, const char *currency,
    const char *source, const struct calc_result *r, const char *status);

/* The latest version's id, 0 when the project has none, -1 on error. */
int64_t calcdb_current(struct app *app, int64_t project);

/* Version, status, currency and totals of one calculation. */
struct calc_head {
	int64_t id, project, version, author, approver;
	int64_t net, vat, gross;
	int reverse_charge;
	char currency[4];
	char status[16];
};
int calcdb_head(struct app *app, int64_t calc, struct calc_head *out);

int calcdb_set_status(struct app *app, int64_t calc, const char *status, int64_t approver);

/* The table in lang as plain text and as HTML.  Caller frees both. */
int calcdb_render(struct app *app, int64_t calc, const char *lang, char **text, char **html);

/* What changed from version a to b, one line per difference (history). */
char *calcdb_diff(struct app *app, int64_t a, int64_t b, const char *lang);

#endif
