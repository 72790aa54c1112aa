#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static enum log_level level = LOG_LVL_INFO;
static int use_syslog;

void
log_set_level(enum log_level lvl)
{
	level = lvl;
}

void
log_use_syslog(int on)
{
	if (on && !use_syslog)
		openlog("inkflow", LOG_PID, LOG_MAIL);
	use_syslog = on;
}

int
log_enabled(enum log_level lvl)
{
	return lvl <= level;
}

const char *
log_q(const char *v)
{
	/* Per thread: ingest parses a batch on a second thread (ingest.c). */
	static __thread char bufs[8][512];
	static __thread unsigned next;
	char *b = bufs[next++ % 8];
	if (!v)
		return "-";
	int quote = !*v || strpbrk(v, " \"=\t") != NULL;
	size_t o = 0, cap = sizeof(bufs[0]) - 4;
	if (quote)
		b[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)v; *p && o < cap; p++) {
		if (*p == '"' || *p == '\\') {
			b[o++] = '\\';
			b[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f)
			b[o++] = ' ';
		else
			b[o++] = (char)*p;
	}
	if (quote)
		b[o++] = '"';
	b[o] = '\0';
	return b;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	if (lvl > level)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (use_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[lvl], "level=%s %s", names[lvl], line);
		return;
	}
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(ts, sizeof(ts), "?");
	fprintf(stderr, "ts=%s level=%s %s\n", ts, names[lvl], line);
}
