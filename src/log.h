/*
 * log: one line per event, "level=info msg=... key=value ..." on stderr or
 * syslog.  Values are quoted when they hold spaces or quotes; control
 * characters never reach the log.
 */
#ifndef INKFLOW_LOG_H
#define INKFLOW_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
void log_use_syslog(int on);
int log_enabled(enum log_level lvl);

/* fmt holds the event name and key=value pairs; %s arguments that may hold
 * spaces should be passed through log_q(). */
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Quote a value for a key=value log line.  Returns a pointer into one of a
 * few rotating static buffers: use it within one log_msg call only. */
const char *log_q(const char *value);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) \
	do { if (log_enabled(LOG_LVL_INFO)) log_msg(LOG_LVL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) \
	do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
