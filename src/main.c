/*
 * inkflow — email-driven sales workflow for a print shop.
 * Command dispatch and the mail-processing commands (init, check-config,
 * run, deliver); listings live in show.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "calendar.h"
#include "cli.h"
#include "complaint.h"
#include "config.h"
#include "daemon.h"
#include "doc.h"
#include "db.h"
#include "imap.h"
#include "ingest.h"
#include "log.h"
#include "maildir.h"
#include "oauth.h"
#include "outbox.h"
#include "pdf.h"
#include "report.h"
#include "show.h"
#include "smtp.h"
#include "tmpl.h"
#include "util.h"

#define EX_USAGE_ERR 1
#define EX_TEMPFAIL 75

static void
usage(FILE *f)
{
	fputs("usage: inkflow [-c FILE] [-v|-q] COMMAND [ARGS]\n"
	      "\n"
	      "  init                       create or upgrade the database, load users and price list\n"
	      "  check-config               validate the configuration and templates\n"
	      "  run [--once] [--json] [--interval S] [--syslog]\n"
	      "                             the daemon: process incoming mail, send the outbox\n"
	      "                             (--once: what is there, then exit with a summary)\n"
	      "  status [--json]            what the daemon is doing: source, last poll, queue, failures\n"
	      "  outbox list [--status S] [--json] | flush | retry ID\n"
	      "                             outgoing mail (S: queued, sent, failed)\n"
	      "  task list [--user L] [--json]\n"
	      "                             open tasks, everyone's or one person's\n"
	      "  task do TASK ACTION [ARG] [--reason TEXT] [--lines FILE|-] --as LOGIN\n"
	      "                             act on a task as a reply would (approve, reject, ...)\n"
	      "  calc add N [--lines FILE|-] --as LOGIN | calc submit N [--to LOGIN] --as LOGIN\n"
	      "  calc show N [--json]       the calculation of project N\n"
	      "  client show ID|EMAIL|DOMAIN [--json] | client set ID [--docs yes|no]\n"
	      "      [--payment-terms T] [--vat-id V] [--address A] [--owner L] --as LOGIN\n"
	      "  complaint list [--json] | complaint show RK/2026/0001 [--json]\n"
	      "  report pipeline|activity|approvals [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]\n"
	      "  calendar [--user L] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [-o FILE]\n"
	      "                             open tasks as an iCalendar feed (group calendar without --user)\n"
	      "  doc list N [--json] | doc render N KIND [-o FILE]\n"
	      "                             documents (offer, calculation, order, production,\n"
	      "                             delivery, complaint)\n"
	      "  fsck [--repair] [--json]   check the database and the data directory: integrity,\n"
	      "                             missing files, files no row names, temporaries left by\n"
	      "                             an interrupted write (--repair removes those)\n"
	      "  deliver                    MDA mode: one message on stdin (exit 75: try again later)\n"
	      "  project list [--json]      projects\n"
	      "  project show N [--json]    one project with its history, tasks and messages\n"
	      "  mail list [--status S] [--json]\n"
	      "                             inbound messages (S: processed, ignored, quarantined, held)\n"
	      "\n"
	      "  -c FILE   configuration (default $INKFLOW_CONF, else conf/inkflow.xml)\n"
	      "  -v, -q    more or less logging on stderr\n",
	    f);
}

/* ---- run ---------------------------------------------------------------- */

static int
cmd_run(struct app *app, const char *conf, int argc, char **argv)
{
	struct daemon_opts o = {.conf_path = conf, .interval = 10};
	for (int i = 1; i < argc; i++) {
		int64_t v;
		if (strcmp(argv[i], "--once") == 0)
			o.once = 1;
		else if (strcmp(argv[i], "--json") == 0)
			o.json = 1;
		else if (strcmp(argv[i], "--syslog") == 0)
			log_use_syslog(1);
		else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			if (parse_int64(argv[++i], 1, 86400, &v) < 0) {
				fprintf(stderr, "inkflow: --interval must be 1..86400 seconds\n");
				return EX_USAGE_ERR;
			}
			o.interval = (int)v;
		} else {
			fprintf(stderr, "inkflow: run: unknown argument %s\n", argv[i]);
			return EX_USAGE_ERR;
		}
	}
	if (app_open_db(app, APP_WRITE) < 0)
		return EX_USAGE_ERR;
	fsck_after_crash(app); /* logs what it did; the daemon runs anyway */
	return daemon_run(app, &o);
}

/* ---- deliver ---------------------------------------------------------- */

static int
cmd_deliver(struct app *app, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "inkflow: deliver takes no arguments (the message comes on stdin)\n");
		return EX_USAGE_ERR;
	}
	if (app_open_db(app, APP_WRITE) < 0)
		return EX_TEMPFAIL;
	size_t max = app->cfg->limits.max_message;
	struct sbuf sb = {0};
	char buf[65536];
	size_t total = 0;
	int oversize = 0;
	/* From INGEST_MAP_FROM bytes on the message goes to a spool file and
	 * is processed from a mapping, never held whole in memory. */
	int fd = -1;
	char *spool = NULL;
	int rc = EX_TEMPFAIL;
	for (;;) {
		ssize_t r = read(0, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "inkflow: deliver: reading stdin: %s\n", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		total += (size_t)r;
		if (total > max) {
			oversize = 1; /* keep reading so the MTA sees the whole message taken */
			continue;
		}
		if (fd < 0 && sb.len + (size_t)r >= INGEST_MAP_FROM) {
			fd = ingest_spool_open(app, "raw", "deliver", &spool);
			if (fd < 0 || write_full(fd, sb.s, sb.len) < 0) {
				fprintf(stderr, "inkflow: deliver: %s: %s\n", spool, strerror(errno));
				goto out;
			}
			sb_free(&sb);
		}
		if (fd >= 0 ? write_full(fd, buf, (size_t)r) < 0 : (sb_add(&sb, buf, (size_t)r), 0)) {
			fprintf(stderr, "inkflow: deliver: %s: %s\n", spool, strerror(errno));
			goto out;
		}
	}
	if (oversize) {
		/* Nothing else holds an oversize message in MDA mode: refuse it so
		 * the MTA returns it to the sender rather than lose it. */
		fprintf(stderr, "inkflow: deliver: message of %zu bytes exceeds the limit of %zu\n",
		    total, max);
		rc = EX_USAGE_ERR;
		goto out;
	}
	struct ingest_input in = {.len = sb.len};
	if (fd < 0)
		in.raw = sb_steal(&sb);
	else {
		char *map;
		int bad = close(fd) < 0 || file_map(spool, max, &map, &in.len) < 0;
		fd = -1;
		if (bad) {
			fprintf(stderr, "inkflow: deliver: %s: %s\n", spool, strerror(errno));
			goto out;
		}
		unlink(spool); /* the mapping keeps its pages */
		free(spool);
		spool = NULL;
		in.raw = map;
		in.mapped = 1;
	}
	ingest_batch(app, "deliver", &in, 1);
	ingest_input_release(&in);
	if (in.rc < 0) {
		fprintf(stderr, "inkflow: deliver: temporary failure, try again later\n");
		goto out;
	}
	struct outbox_stats os = {0};
	smtp_session_begin();
	outbox_flush(app, &os);
	smtp_session_end();
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (spool)
		unlink(spool); /* a spool not mapped: nothing uses it */
	free(spool);
	sb_free(&sb);
	return rc;
}

/* ---- init / check-config -------------------------------------------- */

static void
report_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

/* Run an OAuth 2.0 token command as a connection would: a wrong command
 * shows here, not at the daemon's first connection.  The token is never
 * printed.  1 when it failed. */
static size_t
check_token(const char *path, const char *element, const char *command, long line)
{
	if (!command)
		return 0;
	char err[512];
	char *tok = oauth_token(command, err, sizeof(err));
	if (!tok) {
		fprintf(stderr, "%s:%ld: <%s> token-command: %s\n", path, line, element, err);
		return 1;
	}
	printf("%s:%ld: <%s> token-command printed an access token (%zu bytes)\n", path, line,
	    element, strlen(tok));
	explicit_bzero(tok, strlen(tok));
	free(tok);
	return 0;
}

static int
cmd_check_config(struct app *app)
{
	size_t problems = tmpl_check_dir(app->cfg->templates_dir, report_line, NULL);
	problems += pdf_check_templates(app->cfg->templates_dir, report_line, NULL);
	const struct config *cfg = app->cfg;
	if (cfg->imap)
		problems += check_token(cfg->path, "source", cfg->imap->token_command,
		    cfg->imap->token_line);
	if (cfg->smtp)
		problems += check_token(cfg->path, "outbox", cfg->smtp->token_command,
		    cfg->smtp->token_line);
	if (problems)
		return EX_USAGE_ERR;
	printf("%s: ok (%zu users, %zu products, %zu assignment rules)\n", app->cfg->path,
	    app->cfg->nusers, app->cfg->nproducts, app->cfg->nrules);
	return 0;
}

static int
cmd_init(struct app *app)
{
	if (tmpl_check_dir(app->cfg->templates_dir, report_line, NULL) +
	        pdf_check_templates(app->cfg->templates_dir, report_line, NULL))
		return EX_USAGE_ERR;
	if (app_open_db(app, APP_INIT) < 0)
		return EX_USAGE_ERR;
	maildir_ensure(app->cfg->source_maildir);
	maildir_ensure(app->cfg->outbox_maildir);
	printf("inkflow: database %s at schema %d; %zu users and %zu products loaded\n",
	    app->cfg->db_path, db_schema_version(), app->cfg->nusers, app->cfg->nproducts);
	return 0;
}

/* ---- listings ---------------------------------------------------------- */

static int
has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return 1;
	return 0;
}

static int
cmd_project(struct app *app, int argc, char **argv)
{
	int json = has_flag(argc, argv, "--json");
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (sub && strcmp(sub, "list") == 0) {
		if (app_open_db(app, APP_READ) < 0)
			return EX_USAGE_ERR;
		return show_project_list(app, json);
	}
	if (sub && strcmp(sub, "show") == 0) {
		const char *arg = NULL;
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--json") != 0)
				arg = argv[i];
		int64_t id;
		if (!arg) {
			fprintf(stderr, "inkflow: project show needs a project number\n");
			return EX_USAGE_ERR;
		}
		if (str_istarts(arg, "INK-"))
			arg += 4;
		if (parse_int64(arg, 1, INT64_MAX, &id) < 0) {
			fprintf(stderr, "inkflow: \"%s\" is not a project number (e.g. 12 or INK-12)\n",
			    arg);
			return EX_USAGE_ERR;
		}
		if (app_open_db(app, APP_READ) < 0)
			return EX_USAGE_ERR;
		return show_project(app, id, json);
	}
	fprintf(stderr, "inkflow: project list|show N [--json]\n");
	return EX_USAGE_ERR;
}

/* "--status S" and "--json" after "X list"; -1 (said on stderr) otherwise. */
static int
list_args(int argc, char **argv, const char *what, const char **status, int *json)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = 1;
		else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
			*status = argv[++i];
		else {
			fprintf(stderr, "inkflow: %s: unknown argument %s\n", what, argv[i]);
			return -1;
		}
	}
	return 0;
}

static int
cmd_mail(struct app *app, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "list") != 0) {
		fprintf(stderr, "inkflow: mail list [--status S] [--json]\n");
		return EX_USAGE_ERR;
	}
	const char *status = NULL;
	int json = 0;
	if (list_args(argc, argv, "mail list", &status, &json) < 0 || app_open_db(app, APP_READ) < 0)
		return EX_USAGE_ERR;
	return show_mail_list(app, status, json);
}

static int
cmd_status(struct app *app, int argc, char **argv)
{
	if (app_open_db(app, APP_READ) < 0)
		return EX_USAGE_ERR;
	return daemon_status(app, has_flag(argc, argv, "--json"));
}

static int
cmd_outbox(struct app *app, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "list") == 0) {
		const char *status = NULL;
		int json = 0;
		if (list_args(argc, argv, "outbox list", &status, &json) < 0 ||
		    app_open_db(app, APP_READ) < 0)
			return EX_USAGE_ERR;
		return show_outbox_list(app, status, json);
	}
	if (strcmp(sub, "flush") == 0) {
		if (app_open_db(app, APP_WRITE) < 0)
			return EX_USAGE_ERR;
		/* Everything queued, deferred ones included, right now. */
		db_x(app->db, "UPDATE outbox SET next_try=0 WHERE status='queued'", "");
		struct outbox_stats st = {0};
		smtp_session_begin();
		int r = outbox_flush(app, &st);
		smtp_session_end();
		printf("outbox: %d sent, %d deferred, %d failed\n", st.sent, st.deferred, st.failed);
		return r < 0 || st.deferred ? EX_USAGE_ERR : 0;
	}
	if (strcmp(sub, "retry") == 0 && argc == 3) {
		int64_t id;
		if (parse_int64(argv[2], 1, INT64_MAX, &id) < 0) {
			fprintf(stderr, "inkflow: outbox retry: \"%s\" is not a mail id\n", argv[2]);
			return EX_USAGE_ERR;
		}
		if (app_open_db(app, APP_WRITE) < 0)
			return EX_USAGE_ERR;
		if (db_x(app->db,
		        "UPDATE outbox SET status='queued', next_try=0 WHERE id=?1 AND status!='sent'",
		        "i", id) < 0)
			return EX_USAGE_ERR;
		if (db_changes(app->db) != 1) {
			fprintf(stderr, "inkflow: outbox retry: no unsent mail %lld\n", (long long)id);
			return EX_USAGE_ERR;
		}
		if (daemon_wake(app))
			printf("outbox: mail %lld queued again; the daemon is sending it now\n",
			    (long long)id);
		else
			printf("outbox: mail %lld queued again; no daemon runs to send it:"
			       " `inkflow outbox flush` sends it now\n", (long long)id);
		return 0;
	}
	fprintf(stderr, "inkflow: outbox list [--status S] [--json] | flush | retry ID\n");
	return EX_USAGE_ERR;
}

int
main(int argc, char **argv)
{
	const char *conf = getenv("INKFLOW_CONF");
	int verbosity = LOG_LVL_INFO;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	int c;
	while ((c = getopt(argc, argv, "+c:vqh")) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'v': verbosity = LOG_LVL_DEBUG; break;
		case 'q': verbosity = LOG_LVL_WARN; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE_ERR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EX_USAGE_ERR;
	}
	if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	log_set_level((enum log_level)verbosity);
	if (!conf)
		conf = "conf/inkflow.xml";
	struct app app = {0};
	const char *cmd = argv[0];
	static const char *known[] = {"init", "check-config", "run", "deliver", "project", "mail",
	    "status", "outbox", "task", "calc", "doc", "client", "complaint", "report",
	    "calendar", "fsck"};
	int ok = 0;
	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		ok |= strcmp(cmd, known[i]) == 0;
	if (!ok) {
		fprintf(stderr, "inkflow: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return EX_USAGE_ERR;
	}
	if (app_load_config(&app, conf) < 0)
		return strcmp(cmd, "deliver") == 0 ? EX_TEMPFAIL : EX_USAGE_ERR;
	int rc;
	if (strcmp(cmd, "init") == 0)
		rc = cmd_init(&app);
	else if (strcmp(cmd, "check-config") == 0)
		rc = cmd_check_config(&app);
	else if (strcmp(cmd, "run") == 0)
		rc = cmd_run(&app, conf, argc, argv);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&app, argc, argv);
	else if (strcmp(cmd, "outbox") == 0)
		rc = cmd_outbox(&app, argc, argv);
	else if (strcmp(cmd, "task") == 0)
		rc = cli_task(&app, argc, argv);
	else if (strcmp(cmd, "calc") == 0)
		rc = cli_calc(&app, argc, argv);
	else if (strcmp(cmd, "doc") == 0)
		rc = doc_cli(&app, argc, argv);
	else if (strcmp(cmd, "client") == 0)
		rc = cli_client(&app, argc, argv);
	else if (strcmp(cmd, "complaint") == 0)
		rc = complaint_cli(&app, argc, argv);
	else if (strcmp(cmd, "report") == 0)
		rc = report_cli(&app, argc, argv);
	else if (strcmp(cmd, "calendar") == 0)
		rc = calendar_cli(&app, argc, argv);
	else if (strcmp(cmd, "deliver") == 0)
		rc = cmd_deliver(&app, argc, argv);
	else if (strcmp(cmd, "fsck") == 0)
		rc = cli_fsck(&app, argc, argv);
	else if (strcmp(cmd, "project") == 0)
		rc = cmd_project(&app, argc, argv);
	else
		rc = cmd_mail(&app, argc, argv);
	app_close(&app);
	smtp_global_cleanup();
	return rc;
}
