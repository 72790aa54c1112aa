/*
 * caldav: PUT and DELETE of task entries in CalDAV collections with
 * libcurl's easy interface, and the queue that carries them out of the
 * workflow's transactions.
 *
 * DESIGN
 * The queue (table caldav_queue) holds one row per operation; a row leaves
 * the queue when its operation is done or given up.  Only the oldest row of
 * each user is ever eligible, which keeps a task's PUT before its DELETE
 * and a later update after an earlier one, while one user's unreachable
 * server holds up nobody else.  Both operations are idempotent, so a crash
 * between the request and the row's removal only repeats the request.
 *
 * What goes to curl comes from the configuration (the collection URL,
 * already allow-listed by config.c) and a number; the body is checked for
 * the task's UID and freed of its METHOD line.  Redirects are not followed
 * and the environment's proxy settings are ignored, so a request goes to
 * the configured host only.  The server's answer is kept to its status line
 * and the start of its text, made one printable line before it reaches an
 * error buffer, the database or the log.
 */
#include "caldav.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "lazycurl.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* ---- errors ---------------------------------------------------------------- */

/* err = the formatted text, one line, cut at a character boundary. */
static void __attribute__((format(printf, 3, 4)))
caldav_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	struct sbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	char *line = str_oneline(sb_str(&sb));
	char *clean = utf8_sanitize(line, strlen(line));
	str_copy(err, errlen, clean);
	free(clean);
	free(line);
	sb_free(&sb);
}

/* ---- the calendar object ---------------------------------------------------- */

static int
starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && str_istarts(s, prefix);
}

/* ics as a calendar object resource: CRLF line ends, every METHOD property
 * (with its folded continuation lines) left out.  -1 with err when ics is
 * too large, is not one VCALENDAR, or has no UID:task-<task>@<domain> —
 * compared after unfolding, since a long domain folds the line. */
static char *
object_body(int64_t task, const char *domain, const char *ics, char *err, size_t errlen)
{
	size_t len = strlen(ics);
	if (len > CALDAV_MAX_OBJECT) {
		caldav_err(err, errlen, "caldav: calendar object of %zu bytes exceeds %d", len,
		    CALDAV_MAX_OBJECT);
		return NULL;
	}
	char *uid = xasprintf("UID:task-%lld@%s", (long long)task, domain ? domain : "");
	struct sbuf out = {0}, logical = {0};
	int skip = 0, uids = 0, begins = 0;
	const char *p = ics;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *next = nl ? nl + 1 : p + n;
		if (n && p[n - 1] == '\r')
			n--;
		int cont = n && (p[0] == ' ' || p[0] == '\t');
		if (!cont) {
			/* A logical line ends: look at it whole. */
			if (strcmp(sb_str(&logical), uid) == 0)
				uids++;
			logical.len = 0;
			if (logical.s)
				logical.s[0] = '\0';
			skip = starts_ci(p, n, "METHOD:") || starts_ci(p, n, "METHOD;");
			if (starts_ci(p, n, "BEGIN:VCALENDAR"))
				begins++;
			sb_add(&logical, p, n);
		} else if (n) {
			sb_add(&logical, p + 1, n - 1);
		}
		if (!skip && n) {
			sb_add(&out, p, n);
			sb_adds(&out, "\r\n");
		}
		p = next;
	}
	if (strcmp(sb_str(&logical), uid) == 0)
		uids++;
	sb_free(&logical);
	if (begins != 1 || !str_istarts(ics, "BEGIN:VCALENDAR") || uids != 1) {
		caldav_err(err, errlen, "caldav: task %lld: not one VCALENDAR with %s", (long long)task,
		    uid);
		sb_free(&out);
		free(uid);
		return NULL;
	}
	free(uid);
	return sb_steal(&out);
}

/* ---- one request ---------------------------------------------------------------- */

struct caldav_reply {
	char status[128];                /* last status line, "HTTP/1.1 403 Forbidden" */
	char text[CALDAV_REPLY_MAX + 1]; /* start of the body of that response */
	size_t len;
};

struct caldav_body {
	const char *s;
	size_t len, pos;
};

static size_t
caldav_header_cb(char *buf, size_t size, size_t n, void *data)
{
	struct caldav_reply *r = data;
	size_t len = size * n;
	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue or a 401 challenge). */
		size_t k = len < sizeof(r->status) - 1 ? len : sizeof(r->status) - 1;
		memcpy(r->status, buf, k);
		while (k && (r->status[k - 1] == '\r' || r->status[k - 1] == '\n'))
			k--;
		r->status[k] = '\0';
		r->len = 0;
		r->text[0] = '\0';
	}
	return len;
}

static size_t
caldav_write_cb(char *buf, size_t size, size_t n, void *data)
{
	struct caldav_reply *r = data;
	size_t len = size * n;
	size_t room = CALDAV_REPLY_MAX - r->len;
	size_t k = len < room ? len : room;
	memcpy(r->text + r->len, buf, k);
	r->len += k;
	r->text[r->len] = '\0';
	return len; /* the rest is read and dropped */
}

static size_t
caldav_read_cb(char *buf, size_t size, size_t n, void *data)
{
	struct caldav_body *b = data;
	size_t room = size * n, left = b->len - b->pos;
	size_t k = left < room ? left : room;
	memcpy(buf, b->s + b->pos, k);
	b->pos += k;
	return k;
}

#define SETOPT(h, opt, val)                                                     \
	do {                                                                    \
		if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) {          \
			caldav_err(err, errlen, "caldav: curl option %s refused", #opt); \
			goto out;                                               \
		}                                                               \
	} while (0)

/* One request: PUT of body (not NULL) or DELETE of task-<task>.ics in u's
 * collection.  *status gets the HTTP status (0 when none came).  0 when a
 * response came (whatever its status; the text is in *reply), -1 with err
 * when none did. */
static int
caldav_request(const struct cfg_user *u, int64_t task, const char *body, long *status,
    struct caldav_reply *reply, char *err, size_t errlen)
{
	*status = 0;
	memset(reply, 0, sizeof(*reply));
	const char *url_base = u ? u->caldav_url : NULL;
	size_t ul = url_base ? strlen(url_base) : 0;
	int tls = url_base && strncmp(url_base, "https://", 8) == 0;
	if (!url_base || (!tls && strncmp(url_base, "http://", 7) != 0) || url_base[ul - 1] != '/') {
		caldav_err(err, errlen, "caldav: user %s has no CalDAV collection URL",
		    u && u->login ? u->login : "?");
		return -1;
	}
	char lerr[300];
	if (smtp_curl_load(lerr, sizeof lerr) < 0) {
		caldav_err(err, errlen, "caldav: %s", lerr);
		return -1;
	}
	char *url = xasprintf("%stask-%lld.ics", url_base, (long long)task);
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	struct caldav_body b = {.s = body, .len = body ? strlen(body) : 0};
	int rc = -1;
	CURL *h = curl_easy_init();
	if (!h) {
		caldav_err(err, errlen, "caldav: curl_easy_init failed");
		goto out;
	}
	SETOPT(h, CURLOPT_ERRORBUFFER, cerr);
	SETOPT(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	SETOPT(h, CURLOPT_PROTOCOLS_STR, tls ? "https" : "http");
#else
	SETOPT(h, CURLOPT_PROTOCOLS, tls ? (long)CURLPROTO_HTTPS : (long)CURLPROTO_HTTP);
#endif
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_PROXY, ""); /* no proxy from the environment */
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, (long)CALDAV_CONNECT_TIMEOUT);
	SETOPT(h, CURLOPT_TIMEOUT, (long)CALDAV_TIMEOUT);
	SETOPT(h, CURLOPT_USERAGENT, "inkflow");
	if (tls) {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (u->caldav_ca)
			SETOPT(h, CURLOPT_CAINFO, u->caldav_ca);
	}
	if (u->caldav_user && u->caldav_password) {
		SETOPT(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SETOPT(h, CURLOPT_USERNAME, u->caldav_user);
		SETOPT(h, CURLOPT_PASSWORD, u->caldav_password);
	}
	SETOPT(h, CURLOPT_HEADERFUNCTION, caldav_header_cb);
	SETOPT(h, CURLOPT_HEADERDATA, reply);
	SETOPT(h, CURLOPT_WRITEFUNCTION, caldav_write_cb);
	SETOPT(h, CURLOPT_WRITEDATA, reply);
	if (body) {
		hdr = curl_slist_append(hdr, "Content-Type: text/calendar; charset=utf-8");
		/* No 100-continue round trip: the object is small. */
		struct curl_slist *more = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
		if (!more) {
			caldav_err(err, errlen, "caldav: out of memory");
			goto out;
		}
		hdr = more;
		SETOPT(h, CURLOPT_HTTPHEADER, hdr);
		SETOPT(h, CURLOPT_UPLOAD, 1L);
		SETOPT(h, CURLOPT_READFUNCTION, caldav_read_cb);
		SETOPT(h, CURLOPT_READDATA, &b);
		SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b.len);
	} else {
		SETOPT(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	}

	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (cc == CURLE_OK) {
		rc = 0;
	} else if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		caldav_err(err, errlen, "caldav: certificate verification failed for %s: %s", url,
		    *cerr ? cerr : curl_easy_strerror(cc));
	} else {
		caldav_err(err, errlen, "caldav: %s %s: %s", body ? "PUT" : "DELETE", url,
		    *cerr ? cerr : curl_easy_strerror(cc));
	}
out:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	free(url);
	return rc;
}

/* err = "PUT <url>: HTTP 403 Forbidden: <the server's text>". */
static void
status_err(const struct cfg_user *u, int64_t task, const char *verb, long status,
    const struct caldav_reply *r, char *err, size_t errlen)
{
	/* "HTTP/1.1 403 Forbidden" → "403 Forbidden"; HTTP/2 has no reason. */
	const char *sl = strchr(r->status, ' ');
	char code[16];
	snprintf(code, sizeof(code), "%ld", status);
	char *text = xstrndup(r->text, r->len);
	const char *t = str_trim(text);
	caldav_err(err, errlen, "caldav: %s %stask-%lld.ics: HTTP %s%s%s", verb, u->caldav_url,
	    (long long)task, sl ? sl + 1 : code, *t ? ": " : "", t);
	free(text);
}

int
caldav_put(const struct cfg_user *u, int64_t task, const char *domain, const char *ics,
    char *err, size_t errlen)
{
	if (!ics) {
		caldav_err(err, errlen, "caldav: task %lld: no calendar object", (long long)task);
		return -1;
	}
	char *body = object_body(task, domain, ics, err, errlen);
	if (!body)
		return -1;
	long status;
	struct caldav_reply r;
	int rc = caldav_request(u, task, body, &status, &r, err, errlen);
	free(body);
	if (rc < 0)
		return -1;
	if (status >= 200 && status < 300)
		return 0;
	status_err(u, task, "PUT", status, &r, err, errlen);
	return -1;
}

int
caldav_delete(const struct cfg_user *u, int64_t task, char *err, size_t errlen)
{
	long status;
	struct caldav_reply r;
	if (caldav_request(u, task, NULL, &status, &r, err, errlen) < 0)
		return -1;
	if ((status >= 200 && status < 300) || status == 404 || status == 410)
		return 0;
	status_err(u, task, "DELETE", status, &r, err, errlen);
	return -1;
}

/* ---- the queue ---------------------------------------------------------------- */

static int
queue_add(struct app *app, int64_t task, const struct cfg_user *u, const char *op,
    const char *ics)
{
	if (!u || !u->caldav_url)
		return 0;
	int64_t now = now_epoch();
	if (db_x(app->db,
	        "INSERT INTO caldav_queue(task_id,user_login,op,ics,attempts,next_try,created)"
	        " VALUES(?1,?2,?3,?4,0,?5,?5)",
	        "ittti", task, u->login, op, ics, now) < 0)
		return -1;
	log_info("event=caldav_queued caldav=%lld task=%lld user=%s op=%s",
	    (long long)db_last_id(app->db), (long long)task, u->login, op);
	return 0;
}

int
caldav_queue_put(struct app *app, int64_t task, const struct cfg_user *u, const char *ics)
{
	if (!ics)
		return -1;
	return queue_add(app, task, u, "put", ics);
}

int
caldav_queue_delete(struct app *app, int64_t task, const struct cfg_user *u)
{
	return queue_add(app, task, u, "delete", NULL);
}

/* Seconds before attempt n+1 after n failed attempts: 1, 2, 4 … minutes,
 * at most an hour. */
static int64_t
backoff(int64_t attempts)
{
	int64_t d = 60;
	for (int64_t i = 1; i < attempts && d < 3600; i++)
		d *= 2;
	return d > 3600 ? 3600 : d;
}

/* Records the outcome of operation id in one transaction: done (err NULL)
 * or dropped (drop) leave the queue, a failure waits for its retry. */
static int
record(struct app *app, int64_t id, int64_t task, int64_t attempts, const char *err,
    const char *why_dropped)
{
	struct db *db = app->db;
	if (db_begin(db) < 0)
		return -1;
	int r;
	if (!err || why_dropped) {
		r = db_x(db, "DELETE FROM caldav_queue WHERE id=?1", "i", id);
		if (r == 0 && why_dropped) {
			int64_t project = 0;
			r = db_1i(db, &project, "SELECT coalesce(project_id,0) FROM tasks WHERE id=?1",
			        "i", task) < 0 ? -1 : 0;
			if (r == 0 && hist_add(db, project, 0, "system", "calendar-failed",
			                  "task %lld: CalDAV update given up: %s", (long long)task,
			                  why_dropped) < 0)
				r = -1;
		}
	} else {
		r = db_x(db,
		    "UPDATE caldav_queue SET attempts=attempts+1, next_try=?2, last_error=?3"
		    " WHERE id=?1",
		    "iit", id, now_epoch() + backoff(attempts + 1), err);
	}
	if (r < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
caldav_flush(struct app *app)
{
	int64_t last = 0;
	for (;;) {
		/* The next operation that is the oldest of its user. */
		struct db_stmt *q = db_q(app->db,
		    "SELECT q.id, q.task_id, q.user_login, q.op, q.ics, q.attempts, q.next_try,"
		    " q.created FROM caldav_queue q WHERE q.id>?1 AND NOT EXISTS(SELECT 1 FROM"
		    " caldav_queue p WHERE p.user_login=q.user_login AND p.id<q.id)"
		    " ORDER BY q.id LIMIT 1",
		    "i", last);
		if (!q)
			return -1;
		int rc = db_step(q);
		if (rc <= 0) {
			db_done(q);
			return rc;
		}
		int64_t id = db_int(q, 0), task = db_int(q, 1), attempts = db_int(q, 5);
		int64_t next_try = db_int(q, 6), created = db_int(q, 7);
		char *login = xstrdup(db_text(q, 2)), *op = xstrdup(db_text(q, 3));
		char *ics = xstrdup(db_text(q, 4));
		db_done(q);
		last = id;
		int64_t now = now_epoch();
		int r = 0;
		if (next_try <= now) {
			const struct cfg_user *u = config_user(app->cfg, login);
			char err[512] = "";
			int put = strcmp(op, "put") == 0;
			if (!u || !u->caldav_url) {
				log_info("event=caldav_dropped caldav=%lld task=%lld user=%s op=%s"
				         " reason=\"no CalDAV calendar configured\"",
				    (long long)id, (long long)task, log_q(login), op);
				r = record(app, id, task, attempts, NULL, NULL);
			} else if ((put ? caldav_put(u, task, app->cfg->domain, ics, err, sizeof(err))
			                : caldav_delete(u, task, err, sizeof(err))) == 0) {
				log_info("event=caldav_done caldav=%lld task=%lld user=%s op=%s",
				    (long long)id, (long long)task, u->login, op);
				r = record(app, id, task, attempts, NULL, NULL);
			} else if (now - created < CALDAV_GIVE_UP) {
				log_warn("event=caldav_deferred caldav=%lld task=%lld user=%s op=%s"
				         " attempts=%lld retry_in=%lld error=%s",
				    (long long)id, (long long)task, u->login, op, (long long)attempts + 1,
				    (long long)backoff(attempts + 1), log_q(err));
				r = record(app, id, task, attempts, err, NULL);
			} else {
				char *why = xasprintf("%s after %lld attempts over %d days: %s",
				    put ? "PUT" : "DELETE", (long long)attempts + 1, CALDAV_GIVE_UP / 86400,
				    err);
				log_error("event=caldav_failed caldav=%lld task=%lld user=%s op=%s error=%s",
				    (long long)id, (long long)task, u->login, op, log_q(why));
				r = record(app, id, task, attempts, err, why);
				free(why);
			}
		}
		free(login);
		free(op);
		free(ics);
		if (r < 0)
			return -1;
	}
}
