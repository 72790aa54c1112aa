/*
 * digest: the managers' daily digest (<digest> in inkflow.xml).  Once a
 * day, from the configured hour in Europe/Warsaw on, each recipient gets a
 * mail with the numbers of `inkflow report pipeline` and `approvals` as
 * text (projects per state, pipeline value per rep, won and conversion,
 * overdue tasks by person, approvals pending) and a PDF with charts
 * (pipeline value per rep, projects per state, new projects and messages
 * per day over the last 30 days).  The mails and the record of the day are
 * one transaction, so a restart never sends a day's digest twice.  Time
 * comes from now_epoch() (INKFLOW_NOW in tests).
 */
#ifndef INKFLOW_DIGEST_H
#define INKFLOW_DIGEST_H

struct app;

/* Days of activity the PDF's line chart covers: the full days before today. */
#define DIGEST_DAYS 30

/* Send today's digest when it is due: the configuration has recipients,
 * the hour in Europe/Warsaw is at least the configured one, and no digest
 * has been recorded for today's date there.  Returns the number of mails
 * queued (0 when nothing was due), or -1 when the digest could not be made
 * or recorded (nothing is queued then; the next call tries again). */
int digest_run(struct app *app);

#endif
