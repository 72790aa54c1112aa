/*
 * cli: the office's commands for the sales process — task list/do and
 * calc add/show/submit — carried out by the same code as mail replies
 * (command.c), so the history is the same whichever way people work.
 */
#ifndef INKFLOW_CLI_H
#define INKFLOW_CLI_H

struct app;

/* argv[0] is "task" or "calc".  Each returns the exit code. */
int cli_task(struct app *app, int argc, char **argv);
int cli_calc(struct app *app, int argc, char **argv);
/* client show|set: the client record (flags shown in order-check tasks). */
int cli_client(struct app *app, int argc, char **argv);
/* fsck [--repair] [--json]: the database's integrity, files rows name that
 * are missing, files under the data directory no row names and temporary
 * files left by an interrupted write (--repair removes those two). */
int cli_fsck(struct app *app, int argc, char **argv);
/* At start-up of `run`: when the daemon before did not stop cleanly (its
 * state is not "stopped"), remove the temporary files its interrupted
 * writes left under the data directory.  0 / -1. */
int fsck_after_crash(struct app *app);

#endif
