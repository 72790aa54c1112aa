#include "db.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define CACHE_SLOTS 512

struct db_stmt {
	sqlite3_stmt *st;
	struct db *db;
	char *sql; /* owned copy, the cache key */
};

struct db {
	sqlite3 *h;
	int last_busy;
	int last_io; /* the last failure was the disk's: full, I/O error, read-only */
	struct db_stmt cache[CACHE_SLOTS];
};

/*
 * The schema, one entry per version.  Migration N takes a database at
 * user_version N-1 to N.  Never edit a released entry: append a new one.
 */
static const char *const migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE users("
	" id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
	" email TEXT NOT NULL, role TEXT NOT NULL,"
	" supervisor_id INTEGER REFERENCES users(id), lang TEXT NOT NULL,"
	" phone TEXT, active INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE products("
	" id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name_pl TEXT NOT NULL,"
	" name_de TEXT NOT NULL, unit TEXT NOT NULL, vat_bp INTEGER NOT NULL,"
	" price_pln INTEGER, price_eur INTEGER, active INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE clients("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL, domain TEXT,"
	" owner_id INTEGER REFERENCES users(id), lang TEXT NOT NULL,"
	" currency TEXT NOT NULL, vat_id TEXT, created INTEGER NOT NULL);"
	"CREATE INDEX clients_domain ON clients(domain);"
	"CREATE TABLE contacts("
	" id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL REFERENCES clients(id),"
	" email TEXT NOT NULL UNIQUE, name TEXT, created INTEGER NOT NULL);"
	"CREATE INDEX contacts_client ON contacts(client_id);"
	"CREATE TABLE projects("
	" id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL REFERENCES clients(id),"
	" contact_id INTEGER REFERENCES contacts(id),"
	" owner_id INTEGER REFERENCES users(id), state TEXT NOT NULL,"
	" title TEXT NOT NULL, lang TEXT NOT NULL, currency TEXT NOT NULL,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE INDEX projects_state ON projects(state);"
	"CREATE INDEX projects_owner ON projects(owner_id);"
	"CREATE INDEX projects_client ON projects(client_id);"
	"CREATE TABLE messages("
	" id INTEGER PRIMARY KEY, source TEXT NOT NULL, source_key TEXT,"
	" dedupe_key TEXT NOT NULL UNIQUE, message_id TEXT,"
	" raw_sha256 TEXT NOT NULL, raw_path TEXT, size INTEGER NOT NULL,"
	" from_name TEXT, from_addr TEXT, subject TEXT, date INTEGER,"
	" received INTEGER NOT NULL, class TEXT NOT NULL, status TEXT NOT NULL,"
	" reason TEXT, project_id INTEGER REFERENCES projects(id), body TEXT);"
	"CREATE UNIQUE INDEX messages_source ON messages(source, source_key)"
	" WHERE source_key IS NOT NULL;"
	"CREATE INDEX messages_msgid ON messages(message_id);"
	"CREATE INDEX messages_project ON messages(project_id);"
	"CREATE INDEX messages_status ON messages(status, id);"
	"CREATE TABLE attachments("
	" id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL REFERENCES messages(id),"
	" filename TEXT NOT NULL, orig_filename TEXT, content_type TEXT NOT NULL,"
	" size INTEGER NOT NULL, sha256 TEXT NOT NULL, path TEXT NOT NULL);"
	"CREATE INDEX attachments_message ON attachments(message_id);"
	"CREATE TABLE tasks("
	" id INTEGER PRIMARY KEY, project_id INTEGER REFERENCES projects(id),"
	" message_id INTEGER REFERENCES messages(id), kind TEXT NOT NULL,"
	" assignee_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL,"
	" description TEXT, actions TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL DEFAULT 'open', created INTEGER NOT NULL,"
	" due INTEGER, closed INTEGER, closed_by INTEGER REFERENCES users(id),"
	" result TEXT);"
	"CREATE INDEX tasks_assignee ON tasks(assignee_id, status);"
	"CREATE INDEX tasks_project ON tasks(project_id);"
	"CREATE TABLE events("
	" id INTEGER PRIMARY KEY, project_id INTEGER REFERENCES projects(id),"
	" message_id INTEGER REFERENCES messages(id), time INTEGER NOT NULL,"
	" actor TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL);"
	"CREATE INDEX events_project ON events(project_id, id);"
	"CREATE TABLE outbox("
	" id INTEGER PRIMARY KEY, project_id INTEGER REFERENCES projects(id),"
	" message_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
	" mail_from TEXT NOT NULL, rcpt TEXT NOT NULL, subject TEXT NOT NULL,"
	" raw TEXT NOT NULL, auto INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
	" created INTEGER NOT NULL, sent INTEGER);"
	"CREATE INDEX outbox_status ON outbox(status, id);"
	"CREATE INDEX outbox_rcpt ON outbox(rcpt, created);",
	/* 2: IMAP positions and what the daemon is doing */
	"CREATE TABLE imap_state("
	" mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE daemon_status("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL);",
	/* 3: calculations and approvals */
	"CREATE TABLE calculations("
	" id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),"
	" version INTEGER NOT NULL, author_id INTEGER REFERENCES users(id),"
	" approver_id INTEGER REFERENCES users(id), currency TEXT NOT NULL,"
	" net INTEGER NOT NULL, vat INTEGER NOT NULL, gross INTEGER NOT NULL,"
	" reverse_charge INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,"
	" source TEXT NOT NULL, created INTEGER NOT NULL, UNIQUE(project_id, version));"
	"CREATE TABLE calc_lines("
	" id INTEGER PRIMARY KEY,"
	" calculation_id INTEGER NOT NULL REFERENCES calculations(id),"
	" pos INTEGER NOT NULL, sku TEXT, name TEXT NOT NULL, unit TEXT NOT NULL,"
	" qty_milli INTEGER NOT NULL, w_mm INTEGER NOT NULL, h_mm INTEGER NOT NULL,"
	" billed_milli INTEGER NOT NULL, list_price INTEGER NOT NULL,"
	" unit_price INTEGER NOT NULL, net INTEGER NOT NULL, vat_bp INTEGER NOT NULL,"
	" note TEXT);"
	"CREATE INDEX calc_lines_calc ON calc_lines(calculation_id, pos);"
	"ALTER TABLE tasks ADD COLUMN token_expires INTEGER;"
	"ALTER TABLE tasks ADD COLUMN calculation_id INTEGER REFERENCES calculations(id);",
	/* 4: documents */
	"CREATE TABLE doc_numbers("
	" kind TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY(kind, year));"
	"CREATE TABLE documents("
	" id INTEGER PRIMARY KEY, project_id INTEGER REFERENCES projects(id),"
	" kind TEXT NOT NULL, number TEXT NOT NULL UNIQUE, lang TEXT NOT NULL,"
	" calculation_id INTEGER REFERENCES calculations(id), path TEXT NOT NULL,"
	" sha256 TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX documents_project ON documents(project_id, kind);",
	/* 5: the order path */
	"ALTER TABLE projects ADD COLUMN invoice TEXT;"
	"ALTER TABLE clients ADD COLUMN docs_on_file INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE clients ADD COLUMN payment_terms TEXT;"
	"ALTER TABLE clients ADD COLUMN address TEXT;",
	/* 6: complaints */
	"CREATE TABLE complaints("
	" id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),"
	" number TEXT NOT NULL UNIQUE, message_id INTEGER REFERENCES messages(id),"
	" status TEXT NOT NULL, opened INTEGER NOT NULL, decided INTEGER,"
	" decided_by INTEGER REFERENCES users(id), outcome TEXT, amount INTEGER,"
	" decision_text TEXT);"
	"CREATE INDEX complaints_project ON complaints(project_id);"
	"CREATE TABLE complaint_opinions("
	" id INTEGER PRIMARY KEY, complaint_id INTEGER NOT NULL REFERENCES complaints(id),"
	" user_id INTEGER NOT NULL REFERENCES users(id), text TEXT NOT NULL,"
	" message_id INTEGER REFERENCES messages(id), created INTEGER NOT NULL);",
	/* 7: reminders and escalation */
	"ALTER TABLE tasks ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tasks ADD COLUMN reminded INTEGER;"
	"ALTER TABLE tasks ADD COLUMN escalations INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX tasks_due ON tasks(status, due);",
	/* 8: calendar entries */
	"ALTER TABLE tasks ADD COLUMN ical_seq INTEGER NOT NULL DEFAULT 0;",
	/* 9: CalDAV operations waiting for the users' calendar servers */
	"CREATE TABLE caldav_queue("
	" id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id),"
	" user_login TEXT NOT NULL, op TEXT NOT NULL CHECK(op IN ('put','delete')),"
	" ics TEXT CHECK(op='delete' OR ics IS NOT NULL),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT, created INTEGER NOT NULL);"
	"CREATE INDEX caldav_queue_user ON caldav_queue(user_login, id);",
	/* 10: the days the managers' digest went out (day in Europe/Warsaw) */
	"CREATE TABLE IF NOT EXISTS digests("
	" day TEXT PRIMARY KEY, sent INTEGER NOT NULL, recipients INTEGER NOT NULL);",
	/* 11: reports at a million projects.  pipeline_totals holds, per state
	 * and owner (0: none), the projects, the nets of their latest
	 * calculations (PLN and EUR apart: the EUR rate is configuration) and
	 * how many have an offer; triggers keep it in step, so the all-time
	 * pipeline reads a few hundred rows instead of every project.
	 * Calculations are never updated or deleted (a change is a new
	 * version), nor are projects or documents deleted.  The indexes serve
	 * the reports and the digest over a period, the overdue tasks per user
	 * (tasks_due covers the assignee now), the complaint timers (open tasks
	 * of one kind) and the reminders: tasks.remind_next is when remind_run
	 * must look at an open task again (NULL: at its due time). */
	"CREATE INDEX projects_created ON projects(created);"
	"CREATE INDEX messages_received ON messages(received);"
	"DROP INDEX tasks_due;"
	"CREATE INDEX tasks_due ON tasks(status, due, assignee_id);"
	"CREATE INDEX tasks_open_kind ON tasks(kind, due) WHERE status='open';"
	"ALTER TABLE tasks ADD COLUMN remind_next INTEGER;"
	"CREATE INDEX tasks_remind ON tasks(coalesce(remind_next, due)) WHERE status='open';"
	"CREATE TABLE pipeline_totals("
	" state TEXT NOT NULL, owner_id INTEGER NOT NULL, projects INTEGER NOT NULL DEFAULT 0,"
	" pln INTEGER NOT NULL DEFAULT 0, eur INTEGER NOT NULL DEFAULT 0,"
	" offers INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(state, owner_id)) WITHOUT ROWID;"
	"INSERT INTO pipeline_totals(state, owner_id, projects, pln, eur, offers)"
	" SELECT state, o, count(*), sum(pln), sum(eur), sum(offer) FROM (SELECT p.state,"
	"  coalesce(p.owner_id,0) o,"
	"  coalesce((SELECT CASE c.currency WHEN 'EUR' THEN 0 ELSE c.net END FROM calculations c"
	"   WHERE c.project_id=p.id ORDER BY c.version DESC LIMIT 1),0) pln,"
	"  coalesce((SELECT CASE c.currency WHEN 'EUR' THEN c.net ELSE 0 END FROM calculations c"
	"   WHERE c.project_id=p.id ORDER BY c.version DESC LIMIT 1),0) eur,"
	"  EXISTS(SELECT 1 FROM documents d WHERE d.project_id=p.id AND d.kind='offer') offer"
	"  FROM projects p) GROUP BY 1, 2;"
	/* A new project has no calculation or document yet (foreign keys). */
	"CREATE TRIGGER pipeline_project_new AFTER INSERT ON projects BEGIN"
	" INSERT INTO pipeline_totals(state, owner_id) VALUES(NEW.state, coalesce(NEW.owner_id,0))"
	"  ON CONFLICT DO NOTHING;"
	" UPDATE pipeline_totals SET projects=projects+1"
	"  WHERE state=NEW.state AND owner_id=coalesce(NEW.owner_id,0);"
	"END;"
	"CREATE TRIGGER pipeline_project_move AFTER UPDATE OF state, owner_id ON projects"
	" WHEN OLD.state IS NOT NEW.state OR OLD.owner_id IS NOT NEW.owner_id BEGIN"
	" INSERT INTO pipeline_totals(state, owner_id) VALUES(NEW.state, coalesce(NEW.owner_id,0))"
	"  ON CONFLICT DO NOTHING;"
	" UPDATE pipeline_totals SET"
	"  projects=projects+s,"
	"  pln=pln+s*coalesce((SELECT CASE c.currency WHEN 'EUR' THEN 0 ELSE c.net END"
	"   FROM calculations c WHERE c.project_id=NEW.id ORDER BY c.version DESC LIMIT 1),0),"
	"  eur=eur+s*coalesce((SELECT CASE c.currency WHEN 'EUR' THEN c.net ELSE 0 END"
	"   FROM calculations c WHERE c.project_id=NEW.id ORDER BY c.version DESC LIMIT 1),0),"
	"  offers=offers+s*EXISTS(SELECT 1 FROM documents d WHERE d.project_id=NEW.id"
	"   AND d.kind='offer')"
	"  FROM (SELECT -1 s, OLD.state st, coalesce(OLD.owner_id,0) o"
	"   UNION ALL SELECT 1, NEW.state, coalesce(NEW.owner_id,0)) m"
	"  WHERE state=m.st AND owner_id=m.o;"
	"END;"
	"CREATE TRIGGER pipeline_calculation AFTER INSERT ON calculations"
	" WHEN NOT EXISTS(SELECT 1 FROM calculations c WHERE c.project_id=NEW.project_id"
	"  AND c.version>NEW.version) BEGIN"
	" UPDATE pipeline_totals SET"
	"  pln=pln+(CASE NEW.currency WHEN 'EUR' THEN 0 ELSE NEW.net END)"
	"   -coalesce((SELECT CASE c.currency WHEN 'EUR' THEN 0 ELSE c.net END FROM calculations c"
	"   WHERE c.project_id=NEW.project_id AND c.id<>NEW.id ORDER BY c.version DESC LIMIT 1),0),"
	"  eur=eur+(CASE NEW.currency WHEN 'EUR' THEN NEW.net ELSE 0 END)"
	"   -coalesce((SELECT CASE c.currency WHEN 'EUR' THEN c.net ELSE 0 END FROM calculations c"
	"   WHERE c.project_id=NEW.project_id AND c.id<>NEW.id ORDER BY c.version DESC LIMIT 1),0)"
	"  WHERE (state, owner_id)=(SELECT state, coalesce(owner_id,0) FROM projects"
	"   WHERE id=NEW.project_id);"
	"END;"
	"CREATE TRIGGER pipeline_offer AFTER INSERT ON documents"
	" WHEN NEW.kind='offer' AND NOT EXISTS(SELECT 1 FROM documents d"
	"  WHERE d.project_id=NEW.project_id AND d.kind='offer' AND d.id<>NEW.id) BEGIN"
	" UPDATE pipeline_totals SET offers=offers+1"
	"  WHERE (state, owner_id)=(SELECT state, coalesce(owner_id,0) FROM projects"
	"   WHERE id=NEW.project_id);"
	"END;",
	/* 12: the activity and approvals reports at a million projects.  Only
	 * the calculation and approval events are indexed (partial indexes:
	 * the mail and task events of every ingested message do not touch
	 * them); a query uses them by repeating the index's kind IN (...) term
	 * (EVENTS_DECISIONS, EVENTS_VERDICTS in report.c).  messages_received
	 * covers the class and project, so counting a period's client mail
	 * reads no message rows. */
	"CREATE INDEX events_decisions ON events(kind, time, actor, project_id)"
	" WHERE kind IN ('calculation','submitted','approved','rejected','corrected');"
	"CREATE INDEX events_verdicts ON events(project_id, id)"
	" WHERE kind IN ('approved','rejected','corrected');"
	"DROP INDEX messages_received;"
	"CREATE INDEX messages_received ON messages(received, class, project_id);",
	/* 13: a message is stored before it is routed, without a project;
	 * indexing that NULL cost every routed message a second index page
	 * (the NULL entry, then the project's).  Only messages with a project
	 * are looked up by it (project_id=?, which implies IS NOT NULL). */
	"DROP INDEX messages_project;"
	"CREATE INDEX messages_project ON messages(project_id) WHERE project_id IS NOT NULL;",
	/* 14: an image the mail's HTML shows by Content-ID (a signature logo)
	 * is kept with the message but is no document: not artwork, not a
	 * signed order (ingest.c att_embedded). */
	"ALTER TABLE attachments ADD COLUMN embedded INTEGER NOT NULL DEFAULT 0;",
};

int
db_schema_version(void)
{
	return (int)ARRAY_LEN(migrations);
}

static void
set_err(char *err, size_t errlen, const char *what, sqlite3 *h)
{
	snprintf(err, errlen, "%s: %s", what, h ? sqlite3_errmsg(h) : "out of memory");
}

/*
 * The WAL writes a frame as two writes, its 24-byte header and then the
 * page, and a commit as all its frames in turn: some 70 system calls for a
 * message's transaction of 35 pages.  The VFS "inkflow" is the default one
 * but for WAL files, where consecutive writes are gathered in a buffer and
 * go out in one call when the commit frame (a header whose database size
 * is not 0) has its page, when the buffer is full, or before any other
 * call on the file (a sync above all).  So the bytes in the file at each
 * sync and the order of syncs are what they were, and a commit is whole in
 * the file before SQLite publishes it to readers, whatever the
 * synchronous setting.  Other files keep the default VFS's methods
 * untouched: its sqlite3_file comes first in ours.
 */
#define FRAME_HDR 24
#define GATHER_MAX 0x1ffff /* the default VFS writes at most this much in one call */

struct walfile {
	const sqlite3_io_methods *real; /* the default VFS's methods */
	unsigned char *buf;             /* writes not yet passed on, from buf_at */
	int len;
	sqlite3_int64 buf_at;
	int commit;                     /* the last header gathered ends a commit */
	sqlite3_int64 read_at;          /* offset of the last read, -1 after a write */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs wal_vfs;

/* Our part of a WAL file: after the default VFS's sqlite3_file. */
static struct walfile *
wf(sqlite3_file *f)
{
	return (struct walfile *)((char *)f + ((base_vfs->szOsFile + 7) & ~7));
}

static int
wf_flush(sqlite3_file *f)
{
	struct walfile *w = wf(f);
	if (!w->len)
		return SQLITE_OK;
	int len = w->len;
	w->len = 0;
	return w->real->xWrite(f, w->buf, len, w->buf_at);
}

/* Append to the gathered writes: 1 when appended, 0 when it does not
 * follow them or does not fit, -1 out of memory. */
static int
wf_gather(struct walfile *w, const void *data, int amt, sqlite3_int64 off)
{
	if (w->len && off != w->buf_at + w->len)
		return 0;
	if (amt > GATHER_MAX - w->len)
		return 0;
	if (!w->buf && !(w->buf = sqlite3_malloc(GATHER_MAX)))
		return -1;
	if (!w->len)
		w->buf_at = off;
	memcpy(w->buf + w->len, data, (size_t)amt);
	w->len += amt;
	return 1;
}

static int
wf_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct walfile *w = wf(f);
	/* A frame header, or the page of the header gathered last.  A header
	 * written where the frame was just read is SQLite rewriting the
	 * checksums of frames already written: no page follows it, so it is
	 * not held. */
	int header = amt == FRAME_HDR && off >= 32 && off != w->read_at;
	w->read_at = -1;
	if (header || (w->len && off == w->buf_at + w->len)) {
		int g = wf_gather(w, buf, amt, off);
		if (g < 0)
			return SQLITE_IOERR_NOMEM;
		if (g == 0) {
			int rc = wf_flush(f);
			if (rc != SQLITE_OK)
				return rc;
			g = wf_gather(w, buf, amt, off);
			if (g < 0)
				return SQLITE_IOERR_NOMEM;
		}
		if (g > 0) {
			if (header) {
				const unsigned char *h = buf;
				w->commit = (h[4] | h[5] | h[6] | h[7]) != 0;
				return SQLITE_OK;
			}
			if (w->commit) {
				/* The commit frame is complete.  The buffer goes back
				 * until the next commit: an idle daemon keeps none. */
				int rc = wf_flush(f);
				sqlite3_free(w->buf);
				w->buf = NULL;
				w->commit = 0;
				return rc;
			}
			if (GATHER_MAX - w->len < FRAME_HDR + amt) /* no other frame fits */
				return wf_flush(f);
			return SQLITE_OK;
		}
	}
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : w->real->xWrite(f, buf, amt, off);
}

static int
wf_close(sqlite3_file *f)
{
	struct walfile *w = wf(f);
	int rc = wf_flush(f);
	int rc2 = w->real->xClose(f);
	sqlite3_free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wf_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	int rc = wf_flush(f);
	wf(f)->read_at = off;
	return rc != SQLITE_OK ? rc : wf(f)->real->xRead(f, buf, amt, off);
}

static int
wf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xTruncate(f, size);
}

static int
wf_sync(sqlite3_file *f, int flags)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xSync(f, flags);
}

static int
wf_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xFileSize(f, size);
}

static int
wf_lock(sqlite3_file *f, int lock)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xLock(f, lock);
}

static int
wf_unlock(sqlite3_file *f, int lock)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xUnlock(f, lock);
}

static int
wf_reserved(sqlite3_file *f, int *out)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xCheckReservedLock(f, out);
}

static int
wf_fcntl(sqlite3_file *f, int op, void *arg)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xFileControl(f, op, arg);
}

static int
wf_sector(sqlite3_file *f)
{
	return wf(f)->real->xSectorSize(f);
}

static int
wf_devchar(sqlite3_file *f)
{
	return wf(f)->real->xDeviceCharacteristics(f);
}

static int
wf_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return wf(f)->real->xShmMap(f, pg, pgsz, extend, pp);
}

static int
wf_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return wf(f)->real->xShmLock(f, off, n, flags);
}

static void
wf_shm_barrier(sqlite3_file *f)
{
	wf(f)->real->xShmBarrier(f);
}

static int
wf_shm_unmap(sqlite3_file *f, int del)
{
	return wf(f)->real->xShmUnmap(f, del);
}

static int
wf_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	int rc = wf_flush(f);
	return rc != SQLITE_OK ? rc : wf(f)->real->xFetch(f, off, amt, pp);
}

static int
wf_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return wf(f)->real->xUnfetch(f, off, p);
}

static const sqlite3_io_methods wal_methods = {
	3, wf_close, wf_read, wf_write, wf_truncate, wf_sync, wf_size, wf_lock, wf_unlock,
	wf_reserved, wf_fcntl, wf_sector, wf_devchar, wf_shm_map, wf_shm_lock, wf_shm_barrier,
	wf_shm_unmap, wf_fetch, wf_unfetch,
};

static int
vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outflags)
{
	(void)vfs;
	int rc = base_vfs->xOpen(base_vfs, name, f, flags, outflags);
	if (rc != SQLITE_OK || !f->pMethods || !(flags & SQLITE_OPEN_WAL) ||
	    f->pMethods->iVersion < 3)
		return rc; /* not a WAL file (or failed): the default VFS's as it is */
	struct walfile *w = wf(f);
	memset(w, 0, sizeof(*w));
	w->read_at = -1;
	w->real = f->pMethods;
	f->pMethods = &wal_methods;
	return rc;
}

/* The rest of the VFS is the default one's, called as itself. */
static int
vfs_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	return base_vfs->xDelete(base_vfs, name, sync);
}

static int
vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int
vfs_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *
vfs_dlopen(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return base_vfs->xDlOpen(base_vfs, name);
}

static void
vfs_dlerror(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	base_vfs->xDlError(base_vfs, n, msg);
}

static void (*vfs_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return base_vfs->xDlSym(base_vfs, h, sym);
}

static void
vfs_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	base_vfs->xDlClose(base_vfs, h);
}

static int
vfs_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int
vfs_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return base_vfs->xSleep(base_vfs, us);
}

static int
vfs_time(sqlite3_vfs *v, double *t)
{
	(void)v;
	return base_vfs->xCurrentTime(base_vfs, t);
}

static int
vfs_lasterr(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, msg) : 0;
}

static int
vfs_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
	(void)v;
	return base_vfs->xCurrentTimeInt64(base_vfs, t);
}

static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;

static void
vfs_register(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs || base_vfs->iVersion < 2 || !base_vfs->xCurrentTimeInt64)
		return;
	wal_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = ((base_vfs->szOsFile + 7) & ~7) + (int)sizeof(struct walfile),
	    .mxPathname = base_vfs->mxPathname,
	    .zName = "inkflow",
	    .xOpen = vfs_open, .xDelete = vfs_delete, .xAccess = vfs_access,
	    .xFullPathname = vfs_fullpath, .xDlOpen = vfs_dlopen, .xDlError = vfs_dlerror,
	    .xDlSym = vfs_dlsym, .xDlClose = vfs_dlclose, .xRandomness = vfs_random,
	    .xSleep = vfs_sleep, .xCurrentTime = vfs_time, .xGetLastError = vfs_lasterr,
	    .xCurrentTimeInt64 = vfs_time64,
	};
	if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK)
		base_vfs = NULL;
}

/* The VFS to open databases with: "inkflow", or the default one. */
static const char *
vfs_name(void)
{
	pthread_once(&vfs_once, vfs_register);
	return base_vfs ? wal_vfs.zName : NULL;
}

int
db_open(const char *path, struct db **out, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(path, &h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs_name());
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	sqlite3_extended_result_codes(h, 1);
	static const char *pragmas =
	    "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON;"
	    "PRAGMA trusted_schema=OFF;";
	char *msg = NULL;
	if (sqlite3_exec(h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot set pragmas");
		sqlite3_free(msg);
		sqlite3_close(h);
		return -1;
	}
	struct db *db = xcalloc(1, sizeof(*db));
	db->h = h;
	*out = db;
	return 0;
}

void
db_close(struct db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		sqlite3_finalize(db->cache[i].st);
		free(db->cache[i].sql);
	}
	sqlite3_close(db->h);
	free(db);
}

int
db_user_version(struct db *db)
{
	int64_t v = 0;
	if (db_1i(db, &v, "PRAGMA user_version", "") < 0)
		return -1;
	return (int)v;
}

int
db_migrate(struct db *db, char *err, size_t errlen)
{
	if (db_begin(db) < 0) {
		set_err(err, errlen, "begin", db->h);
		return -1;
	}
	int v = db_user_version(db);
	if (v < 0) {
		set_err(err, errlen, "reading schema version", db->h);
		goto fail;
	}
	if (v > db_schema_version()) {
		snprintf(err, errlen,
		    "database schema version %d is newer than this inkflow (%d)",
		    v, db_schema_version());
		goto fail;
	}
	for (int i = v; i < db_schema_version(); i++) {
		char *msg = NULL;
		if (sqlite3_exec(db->h, migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "migration to schema %d: %s", i + 1,
			    msg ? msg : "failed");
			sqlite3_free(msg);
			goto fail;
		}
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", i + 1);
		if (sqlite3_exec(db->h, pragma, NULL, NULL, NULL) != SQLITE_OK) {
			set_err(err, errlen, "setting schema version", db->h);
			goto fail;
		}
	}
	if (db_commit(db) < 0) {
		set_err(err, errlen, "commit", db->h);
		goto fail;
	}
	return 0;
fail:
	db_rollback(db);
	return -1;
}

/* Remember what kind of failure the last call had, for the caller's retry
 * decision (after a rollback, errno and sqlite3_errcode are gone). */
static void
note_rc(struct db *db, int rc)
{
	int p = rc & 0xff;
	db->last_busy = p == SQLITE_BUSY || p == SQLITE_LOCKED;
	db->last_io = p == SQLITE_FULL || p == SQLITE_IOERR || p == SQLITE_READONLY ||
	    p == SQLITE_CANTOPEN;
}

static int
exec_simple(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	note_rc(db, rc);
	if (rc != SQLITE_OK) {
		log_error("event=db_error sql=%s error=%s", log_q(sql), log_q(sqlite3_errmsg(db->h)));
		return -1;
	}
	return 0;
}

int
db_begin(struct db *db)
{
	return exec_simple(db, "BEGIN IMMEDIATE");
}

int
db_begin_read(struct db *db)
{
	return exec_simple(db, "BEGIN");
}

int
db_commit(struct db *db)
{
	return exec_simple(db, "COMMIT");
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int
db_last_busy(struct db *db)
{
	return db->last_busy;
}

int
db_last_io(struct db *db)
{
	return db->last_io;
}

const char *
db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

static uint32_t
hash_sql(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct db_stmt *
prepare(struct db *db, const char *sql)
{
	uint32_t h = hash_sql(sql);
	for (size_t probe = 0; probe < CACHE_SLOTS; probe++) {
		struct db_stmt *c = &db->cache[(h + probe) % CACHE_SLOTS];
		if (c->sql && strcmp(c->sql, sql) == 0) {
			sqlite3_reset(c->st);
			sqlite3_clear_bindings(c->st);
			return c;
		}
		if (!c->sql) {
			sqlite3_stmt *st = NULL;
			if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
			        &st, NULL) != SQLITE_OK) {
				log_error("event=db_prepare sql=%s error=%s", log_q(sql),
				    log_q(sqlite3_errmsg(db->h)));
				return NULL;
			}
			c->st = st;
			c->db = db;
			c->sql = xstrdup(sql);
			return c;
		}
	}
	log_error("event=db_prepare error=\"statement cache full\"");
	return NULL;
}

static struct db_stmt *
vq(struct db *db, const char *sql, const char *types, va_list ap)
{
	struct db_stmt *c = prepare(db, sql);
	if (!c)
		return NULL;
	if ((size_t)sqlite3_bind_parameter_count(c->st) != strlen(types)) {
		/* A programming error: the type string must match the SQL. */
		log_error("event=db_bind error=\"%d parameters, %zu types\" sql=%s",
		    sqlite3_bind_parameter_count(c->st), strlen(types), log_q(sql));
		abort();
	}
	int idx = 1;
	for (const char *t = types; *t; t++, idx++) {
		int rc;
		switch (*t) {
		case 'i':
			rc = sqlite3_bind_int64(c->st, idx, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_int(c->st, idx, va_arg(ap, int));
			break;
		case 't': {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(c->st, idx, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(c->st, idx);
			break;
		}
		default:
			log_error("event=db_bind error=\"bad type %c\" sql=%s", *t, log_q(sql));
			abort();
		}
		if (rc != SQLITE_OK) {
			log_error("event=db_bind sql=%s error=%s", log_q(sql),
			    log_q(sqlite3_errmsg(db->h)));
			return NULL;
		}
	}
	return c;
}

struct db_stmt *
db_q(struct db *db, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_stmt *st = vq(db, sql, types, ap);
	va_end(ap);
	return st;
}

int
db_step(struct db_stmt *st)
{
	int rc = sqlite3_step(st->st);
	note_rc(st->db, rc);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	log_error("event=db_error sql=%s error=%s", log_q(st->sql),
	    log_q(sqlite3_errmsg(st->db->h)));
	sqlite3_reset(st->st);
	return -1;
}

int64_t
db_int(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

const char *
db_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->st, col);
}

int
db_isnull(struct db_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

void
db_done(struct db_stmt *st)
{
	sqlite3_reset(st->st);
}

int
db_x(struct db *db, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_stmt *st = vq(db, sql, types, ap);
	va_end(ap);
	if (!st)
		return -1;
	int rc;
	while ((rc = db_step(st)) == 1)
		;
	db_done(st);
	return rc;
}

int
db_1i(struct db *db, int64_t *out, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_stmt *st = vq(db, sql, types, ap);
	va_end(ap);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == 1)
		*out = db_int(st, 0);
	db_done(st);
	return rc;
}

int
db_1s(struct db *db, char **out, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct db_stmt *st = vq(db, sql, types, ap);
	va_end(ap);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == 1)
		*out = xstrdup(db_text(st, 0));
	db_done(st);
	return rc;
}

int64_t
db_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

int
db_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}
