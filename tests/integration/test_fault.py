"""Issue 9: faults while `inkflow run` works against the real mail lab
(tests/lab/maillab: Dovecot + Postfix on 127.0.0.1).  A full disk under the
data directory and under the database (a small tmpfs), the database locked
by another process, Postfix answering 4xx and 5xx to chosen recipients
(maillab refuse), and the IMAP connection cut in the middle of a FETCH
literal (a TCP relay between inkflow and Dovecot that closes both sides
half way through the message).  Each time: a clear error in the log, the
daemon keeps running, and once the fault is gone the message is processed
and acknowledged, once.

Skipped as a whole when not root or without Dovecot/Postfix; the disk-full
tests also when tmpfs cannot be mounted."""
import errno
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from inkenv import make_mail
from labenv import LabEnv, ModuleLab, imap_conf, new_msgid, noter, smtp_conf, wait_until

LAB = ModuleLab()
setUpModule = LAB.start
tearDownModule = LAB.stop


note = noter("fault")


msgid = new_msgid


def refuse(address, answer=None):
    """Postfix answers RCPT TO <address> with answer; None: accept again."""
    LAB._maillab("refuse", LAB.dir, address, *([answer] if answer else []))


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0750" % size, "tmpfs",
                        path], capture_output=True, text=True, timeout=30)
    return p.returncode == 0, p.stderr.strip()


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)


def fill(directory):
    """Writes a file in directory until the file system is full; its path."""
    path = os.path.join(directory, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 512):
            chunk = b"\0" * size
            try:
                while True:
                    os.write(fd, chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return path


class FaultTest(unittest.TestCase):
    def users(self, *names):
        LAB.adduser(*names)
        return names

    def lab_env(self, biuro, source=None, **kw):
        env = LabEnv(source=source or imap_conf(LAB, biuro, poll=5),
                     outbox=smtp_conf(LAB, biuro), **kw)
        self.addCleanup(env.close)
        return env

    def inquiry(self, biuro, client, subject="Zapytanie o baner", body="Ile kosztuje baner?",
                headers=None):
        mid = msgid()
        LAB.drop(biuro, make_mail("%s@fault.example" % client, subject, body,
                                  to="%s@bmt.example" % biuro, msgid=mid, headers=headers))
        return mid

    def acks(self, client):
        return [m["In-Reply-To"] for m in LAB.messages(client)
                if m["Auto-Submitted"] == "auto-generated"]

    def processed(self, env):
        return env.sql("SELECT count(*) FROM messages")[0][0]

    def unseen(self, user):
        return [p for p in LAB.files(user) if "/new/" in p or "S" not in p.split(":2,")[-1]]

    def assert_recovered(self, env, d, biuro, client, mids, what):
        """After the fault: each message processed once, acknowledged once,
        seen in the mailbox; the daemon still the same process."""
        wait_until(lambda: self.processed(env) == len(mids), 60,
                   "the message(s) processed after %s" % what, diag=d.tail)
        wait_until(lambda: len(self.acks(client)) >= len(mids), 60,
                   "the acknowledgement(s) after %s" % what, diag=d.tail)
        wait_until(lambda: env.status()["outbox_queued"] == 0, 60, "the outbox to empty",
                   diag=d.tail)
        time.sleep(0.5)  # a duplicate would land now
        self.assertTrue(d.alive(), "the daemon died during %s\n%s" % (what, d.tail()))
        self.assertEqual(sorted(self.acks(client)), sorted(mids))
        self.assertEqual(env.sql("SELECT count(*), count(DISTINCT message_id) FROM messages"),
                         [(len(mids), len(mids))])
        self.assertEqual(env.sql("SELECT count(*) FROM projects"), [(len(mids),)])
        wait_until(lambda: self.unseen(biuro) == [], 10, "the inquiry marked seen")
        rc = d.stop()
        self.assertEqual(rc, 0, d.tail())
        fsck = json.loads(env.run("fsck", "--json", check=False).stdout)
        self.assertTrue(fsck["clean"], fsck)


# ---------------------------------------------------------------------------
# Disk full

class DiskFull(FaultTest):
    def tmpfs(self, path, size):
        ok, why = mount_tmpfs(path, size)
        if not ok:
            self.skipTest("cannot mount a tmpfs here: %s" % why)
        self.addCleanup(umount, path)

    def test_data_directory_full(self):
        """The raw message and its attachment cannot be written: the
        message stays on the server, unseen, and is taken when there is
        room again."""
        biuro, client = self.users("f1biuro", "f1client")
        env = self.lab_env(biuro)
        self.tmpfs(env.data, "4m")
        env.init()
        d = env.daemon()
        wait_until(lambda: env.status().get("state") == "idle", 30, "idle", diag=d.tail)
        filler = fill(env.data)
        attachment = os.urandom(300 * 1024).hex()  # 600 KB of text
        raw = make_mail("%s@fault.example" % client, "Projekt banera", "W załączniku projekt.",
                        to="%s@bmt.example" % biuro, msgid=msgid())
        from email import message_from_bytes, policy
        m = message_from_bytes(raw, policy=policy.default)
        m.add_attachment(attachment, filename="projekt.txt")
        mid = m["Message-ID"]
        LAB.drop(biuro, m.as_bytes())
        full = re.compile(r"event=store_failed .*No space left on device|"
                          r"database or disk is full")
        wait_until(lambda: len(full.findall(d.log())) >= 2, 30,
                   "two failed attempts logged (a retry)", diag=d.tail)
        note("disk full (data): %s" % full.search(d.log()).group(0))
        self.assertTrue(d.alive(), d.tail())
        self.assertEqual(self.processed(env), 0)
        self.assertEqual(len(self.unseen(biuro)), 1)
        temps = [f for _, _, files in os.walk(env.data) for f in files if ".tmp-" in f]
        self.assertEqual(temps, [], "a failed write left its temporary file")
        os.unlink(filler)
        t0 = time.monotonic()
        self.assert_recovered(env, d, biuro, client, [mid], "the disk filled up")
        note("disk full (data): processed %.1fs after room was made" % (time.monotonic() - t0))

    def test_database_full(self):
        """The database on a file system of its own, full: SQLite's commit
        fails (SQLITE_FULL), the transaction is rolled back whole."""
        biuro, client = self.users("f2biuro", "f2client")
        env = self.lab_env(biuro)
        dbdir = os.path.join(env.dir, "db")
        self.tmpfs(dbdir, "8m")
        env.edit_conf(lambda t: t.replace('<paths data="../data"',
                                          '<paths data="../data" db="../db/inkflow.db"'))
        dbpath = os.path.join(dbdir, "inkflow.db")

        def sql(query, *params):
            db = sqlite3.connect(dbpath)
            try:
                return db.execute(query, params).fetchall()
            finally:
                db.close()
        env.sql = sql
        env.init()
        d = env.daemon()
        wait_until(lambda: env.status().get("state") == "idle", 30, "idle", diag=d.tail)
        filler = fill(dbdir)
        # A text body bigger than the WAL so far: the commit must grow it.
        body = "Proszę o wycenę.\n" + "\n".join("pozycja %06d: baner 3x1 m, oczka co 50 cm" % i
                                                 for i in range(20000))
        mid = self.inquiry(biuro, client, body=body)
        full = re.compile(r"database or disk is full|No space left on device")
        wait_until(lambda: len(full.findall(d.log())) >= 2, 30,
                   "two failed attempts logged (a retry)", diag=d.tail)
        note("disk full (database): %s" % full.search(d.log()).group(0))
        self.assertTrue(d.alive(), d.tail())
        os.unlink(filler)
        self.assertEqual(self.processed(env), 0)
        t0 = time.monotonic()
        self.assert_recovered(env, d, biuro, client, [mid], "the database's disk filled up")
        note("disk full (database): processed %.1fs after room was made" % (
            time.monotonic() - t0))
        self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])


# ---------------------------------------------------------------------------
# The database locked by another process

class DatabaseLocked(FaultTest):
    def test_locked_longer_than_the_busy_timeout(self):
        biuro, client = self.users("f3biuro", "f3client")
        env = self.lab_env(biuro)
        env.init()
        d = env.daemon()
        wait_until(lambda: env.status().get("state") == "idle", 30, "idle", diag=d.tail)
        db = sqlite3.connect(os.path.join(env.data, "inkflow.db"), timeout=60,
                             isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            t0 = time.monotonic()
            mid = self.inquiry(biuro, client)
            # The message's transaction cannot begin (no row, nothing
            # written), or fails after it began: either is logged.
            locked = re.compile(r'event=(?:message_tempfail .*|db_error sql="BEGIN IMMEDIATE" .*)'
                                r'database is locked')
            wait_until(lambda: locked.search(d.log()), 30, "the lock logged", diag=d.tail)
            note("database locked: %s" % locked.search(d.log()).group(0)[:200])
            held = max(0, 12 - (time.monotonic() - t0))
            time.sleep(held)  # more than the 5 s busy timeout, twice
            self.assertTrue(d.alive(), d.tail())
            self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (0,))
            self.assertEqual(len(self.unseen(biuro)), 1)
        finally:
            db.execute("ROLLBACK")
            db.close()
        t0 = time.monotonic()
        self.assert_recovered(env, d, biuro, client, [mid], "the lock")
        note("database locked: processed %.1fs after the lock was released" % (
            time.monotonic() - t0))


# ---------------------------------------------------------------------------
# SMTP 4xx and 5xx from Postfix

class SmtpRefusals(FaultTest):
    def test_4xx_deferred_then_sent_by_the_daemon(self):
        biuro, client = self.users("f4biuro", "f4client")
        addr = "%s@fault.example" % client
        refuse(addr, "450 4.2.0 Mailbox busy, try again later")
        self.addCleanup(refuse, addr)
        env = self.lab_env(biuro)
        env.init()
        d = env.daemon()
        mid = self.inquiry(biuro, client)
        wait_until(lambda: env.status().get("outbox_deferred", 0) >= 1, 30,
                   "the acknowledgement deferred", diag=d.tail)
        q = [o for o in env.outbox_list("queued") if o["kind"] == "ack"][0]
        note("SMTP 4xx: %s" % q["last_error"])
        self.assertRegex(q["last_error"], r"^RCPT TO <%s>: 450 4\.2\.0 " % re.escape(addr))
        self.assertEqual(q["attempts"], 1)
        self.assertIsNotNone(q["next_try"])
        self.assertIn("event=mail_deferred", d.log())
        self.assertEqual(self.acks(client), [])
        self.assertTrue(d.alive(), d.tail())
        refuse(addr)
        t0 = time.monotonic()
        # The daemon's own retry, after the first backoff (60 s).
        wait_until(lambda: self.acks(client), 100, "the ack sent by the daemon's retry",
                   diag=d.tail)
        note("SMTP 4xx: sent by the daemon's retry %.1fs after Postfix accepted again" % (
            time.monotonic() - t0))
        (row,) = [o for o in env.outbox_list() if o["id"] == q["id"]]
        self.assertEqual((row["status"], row["attempts"]), ("sent", 2))
        self.assert_recovered(env, d, biuro, client, [mid], "a 4xx answer")

    def test_5xx_failed_reported_and_queue_goes_on(self):
        biuro, client, other = self.users("f5biuro", "f5client", "f5other")
        addr = "%s@fault.example" % client
        refuse(addr, "550 5.7.1 Not accepting mail from this sender")
        self.addCleanup(refuse, addr)
        env = self.lab_env(biuro)
        env.init()
        d = env.daemon()
        mid = self.inquiry(biuro, client)
        wait_until(lambda: env.outbox_list("failed"), 30, "the acknowledgement failed",
                   diag=d.tail)
        (f,) = env.outbox_list("failed")
        note("SMTP 5xx: %s" % f["last_error"])
        self.assertEqual((f["kind"], f["rcpt"]), ("ack", addr))
        self.assertRegex(f["last_error"], r"^RCPT TO <%s>: 550 5\.7\.1 " % re.escape(addr))
        self.assertIn("event=mail_failed", d.log())
        # Not retried by itself, and the queue behind it is not blocked.
        mid2 = self.inquiry(biuro, other, subject="Drugie zapytanie")
        wait_until(lambda: self.acks(other) == [mid2], 30, "the next client's ack",
                   diag=d.tail)
        self.assertTrue(d.alive(), d.tail())
        self.assertEqual(self.acks(client), [])
        # Fixed by the operator: retry queues it again and wakes the daemon
        # (waiting in IMAP IDLE, up to 25 min), which sends it at once,
        # once.  Postfix may take a moment to reload its access table: a
        # retry refused again fails again, and the operator retries again.
        refuse(addr)
        out = env.run("outbox", "retry", str(f["id"])).stdout.decode()
        self.assertIn("the daemon is sending it now", out)
        t0 = time.monotonic()

        def retried():
            sent = [r["id"] for r in env.outbox_list("sent")]
            if f["id"] in sent:
                return True
            if f["id"] in [r["id"] for r in env.outbox_list("failed")]:
                env.run("outbox", "retry", str(f["id"]))
            return False
        wait_until(retried, 60, "the retried ack to be sent by the woken daemon", interval=0.5,
                   diag=d.tail)
        note("SMTP 5xx: after `outbox retry` the daemon sent the mail in %.1fs" % (
            time.monotonic() - t0))
        wait_until(lambda: self.acks(client) == [mid], 60, "the retried ack", diag=d.tail)
        wait_until(lambda: env.status()["outbox_queued"] == 0, 30, "the outbox to empty")
        time.sleep(0.5)
        self.assertEqual(self.acks(client), [mid])
        self.assertEqual(self.acks(other), [mid2])
        self.assertEqual(d.stop(), 0, d.tail())


# ---------------------------------------------------------------------------
# IMAP connection cut in the middle of a literal

class CuttingRelay:
    """A TCP relay 127.0.0.1:port -> Dovecot's plain IMAP port.  On its
    first `cuts` connections that bring a literal of at least `min_literal`
    bytes from the server, it passes half of that literal and then closes
    both sides; later connections pass everything."""

    LITERAL = re.compile(rb"\{(\d+)\}\r\n")

    def __init__(self, target, cuts=1, min_literal=4096):
        self.target = target
        self.cuts_left = cuts
        self.cut = 0
        self.min_literal = min_literal
        self.connections = 0
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed = True
        self.ls.close()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.connections += 1
            try:
                s = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            except OSError:
                c.close()
                continue
            s.settimeout(None)
            with self.lock:
                cut = self.cuts_left > 0
            threading.Thread(target=self._pipe, args=(c, s, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(s, c, cut), daemon=True).start()

    def _pipe(self, src, dst, cut):
        seen = b""  # server bytes not yet forwarded past a literal's header
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if cut:
                    seen += data
                    m = next((m for m in self.LITERAL.finditer(seen)
                              if int(m.group(1)) >= self.min_literal), None)
                    if m:
                        with self.lock:
                            go = self.cuts_left > 0
                            if go:
                                self.cuts_left -= 1
                                self.cut += 1
                        if go:
                            upto = m.end() + int(m.group(1)) // 2
                            if len(seen) >= upto:
                                dst.sendall(seen[:upto])
                                break
                            dst.sendall(seen)
                            # forward until half the literal has gone, then cut
                            left = upto - len(seen)
                            while left > 0:
                                data = src.recv(min(65536, left))
                                if not data:
                                    break
                                dst.sendall(data)
                                left -= len(data)
                            break
                        cut = False
                    dst.sendall(data)
                    seen = seen[-32:]
                    continue
                dst.sendall(data)
        except OSError:
            pass
        for sck in (src, dst):
            try:
                sck.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sck.close()


class ImapCut(FaultTest):
    def test_connection_cut_mid_literal(self):
        biuro, client = self.users("f6biuro", "f6client")
        relay = CuttingRelay(LAB.imap_port, cuts=2)
        self.addCleanup(relay.close)
        env = self.lab_env(biuro, source=imap_conf(LAB, biuro, tls="none", port=relay.port,
                                                   poll=5))
        env.init()
        body = "Proszę o wycenę banerów:\n" + "\n".join(
            "- baner %d: 3x1 m, oczka co 50 cm" % i for i in range(800))
        mid = self.inquiry(biuro, client, body=body)
        d = env.daemon()
        wait_until(lambda: relay.cut >= 2, 60, "two fetches cut half way", diag=d.tail)
        wait_until(lambda: "event=imap_down" in d.log(), 30, "the cut logged", diag=d.tail)
        line = [l for l in d.log().splitlines() if "event=imap_down" in l][0]
        note("IMAP cut mid-literal: %s" % line)
        self.assertRegex(line, r"UID FETCH \d+ BODY\.PEEK\[\] failed: (connection cut \d+ bytes "
                               r"before the end of a literal|connection closed by the server|"
                               r"connection lost)")
        self.assertTrue(d.alive(), d.tail())
        t0 = time.monotonic()
        self.assert_recovered(env, d, biuro, client, [mid], "the cut connections")
        note("IMAP cut mid-literal: processed %.1fs after the second cut, %d connections" % (
            time.monotonic() - t0, relay.connections))
        self.assertGreaterEqual(relay.connections, 3)


if __name__ == "__main__":
    unittest.main()
