"""Issue 3: inkflow against real mail servers.  One Dovecot + Postfix lab
(tests/lab/maillab) on 127.0.0.1 for the whole module; each test has its own
inkflow installation and its own lab users, and reads what clients and staff
got the way their mail programs would.

Skipped as a whole when not root or when Dovecot/Postfix are not installed.
INKFLOW_SEED fixes the random kill moments of the crash test."""
import base64
import email
import email.policy
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from inkenv import INKFLOW, SLOW, body_text, build_kind, make_mail, run_memory
from labenv import (LabEnv, ModuleLab, ack_duplicates, imap_conf, new_msgid, noter, smtp_conf,
                    wait_progress, wait_until)

LAB = ModuleLab()
setUpModule = LAB.start
tearDownModule = LAB.stop


note = noter("lab")


msgid = new_msgid


def ink_number(subject):
    m = re.search(r"\[INK-(\d+)\]", str(subject))
    return int(m.group(1)) if m else None


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bytes_written(pid):
    """Bytes a process wrote with write(2) and its kin so far (/proc/PID/io
    wchar).  Bytes, not calls: under valgrind every blocking system call
    passes valgrind's thread lock through a pipe, a 1-byte write each."""
    with open("/proc/%d/io" % pid) as f:
        return int(dict(l.split(": ") for l in f.read().splitlines())["wchar"])


def delivered_at(path):
    """Arrival time from a Postfix virtual(8) file name: SECS.V..I..MUSECS.host"""
    name = os.path.basename(path)
    secs = int(name.split(".", 1)[0])
    m = re.search(r"M(\d+)\.", name)
    return secs + (int(m.group(1)) / 1e6 if m else 0)


class LabTest(unittest.TestCase):
    def users(self, *specs):
        """Adds lab users (login or login:password); returns the logins."""
        LAB.adduser(*specs)
        return tuple(s.split(":", 1)[0] for s in specs)

    def lab_env(self, source_user, outbox_user=None, source=None, outbox=None, **kw):
        env = LabEnv(source=source or imap_conf(LAB, source_user),
                     outbox=outbox or smtp_conf(LAB, outbox_user or source_user), **kw)
        self.addCleanup(env.close)
        env.init()
        return env

    def acks(self, user):
        return [m for m in LAB.messages(user) if m["Auto-Submitted"] == "auto-generated"]

    def seen_flags(self, user, password="secret"):
        """{Message-ID: flags} of user's INBOX, read over IMAP."""
        c = LAB.imap(user, password)
        try:
            c.select("INBOX", readonly=True)
            typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            out = {}
            if typ != "OK" or data == [None]:
                return out
            for item in data:
                if isinstance(item, tuple):
                    flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode()
                    mid = item[1].decode().split(":", 1)[1].strip()
                    out[mid] = flags
            return out
        finally:
            c.logout()

    def wait_daemon_idle(self, env, d, timeout=30):
        wait_until(lambda: env.status().get("state") == "idle", timeout,
                   "the daemon to enter IDLE", diag=d.tail)

    def assert_stops_cleanly(self, d):
        t0 = time.monotonic()
        rc = d.stop()
        self.assertEqual(rc, 0, "inkflow run exited %s\n%s" % (rc, d.tail()))
        self.assertLess(time.monotonic() - t0, 10, "SIGTERM took too long")


# ---------------------------------------------------------------------------
# 1. SMTP in -> IDLE -> acknowledgement in the client's mailbox

class IdlePickup(LabTest):
    def test_inquiry_acknowledged_through_idle(self):
        biuro, client = self.users("t1biuro", "t1client")
        env = self.lab_env(biuro)
        d = env.daemon()
        self.wait_daemon_idle(env, d)

        inquiry = msgid()
        raw = make_mail("Jan Testowy <t1client@lab1.example>",
                        "Zapytanie: baner 3×1 m na ogrodzenie",
                        "Dzień dobry,\nproszę o wycenę banera 3×1 m z oczkami co 50 cm.\n"
                        "Pozdrawiam, Jan Testowy\n",
                        to="t1biuro@bmt.example", msgid=inquiry)
        t0 = time.monotonic()
        LAB.smtp_send("t1client@lab1.example", "t1biuro@bmt.example", raw, login=client)
        t_sent = time.monotonic()
        t_inbox = wait_until(lambda: LAB.count(biuro) and time.monotonic(), 30,
                             "the inquiry in biuro's INBOX", interval=0.01)
        t_ack = wait_until(lambda: LAB.count(client) and time.monotonic(), 30,
                           "the acknowledgement in the client's mailbox", interval=0.01,
                           diag=d.tail)
        note("IDLE latency: SMTP submission %.3fs; inquiry in INBOX -> ack in the "
             "client's Maildir %.3fs; SMTP accepted -> ack %.3fs" % (
                 t_sent - t0, t_ack - t_inbox, t_ack - t_sent))
        self.assertLess(t_ack - t_sent, 15, "IDLE pickup too slow")

        # What the client's mail program shows, read over IMAPS.
        c = LAB.imap(client)
        try:
            c.select("INBOX")
            typ, data = c.search(None, "ALL")
            self.assertEqual(len(data[0].split()), 1)
            typ, data = c.fetch(data[0].split()[0], "(RFC822)")
            ack = email.message_from_bytes(data[0][1], policy=email.policy.default)
        finally:
            c.logout()
        subject = str(ack["Subject"])
        self.assertTrue(subject.startswith("Potwierdzenie przyjęcia zapytania [INK-1]"),
                        subject)
        self.assertIn("baner 3×1 m na ogrodzenie", subject)
        self.assertEqual(ack["In-Reply-To"], inquiry)
        self.assertIn(inquiry, str(ack["References"]))
        self.assertEqual(ack["Auto-Submitted"], "auto-generated")
        self.assertEqual(ack["From"].addresses[0].addr_spec, "biuro@bmt.example")
        self.assertEqual(ack["To"].addresses[0].addr_spec, "t1client@lab1.example")
        self.assertEqual(ack["To"].addresses[0].display_name, "Jan Testowy")
        text = body_text(ack)
        self.assertIn("INK-1", text)
        self.assertIn("„Zapytanie: baner 3×1 m na ogrodzenie”", text)
        self.assertIn("Z poważaniem", text)

        # The original: \Seen in biuro's INBOX (after="seen"), still there.
        flags = self.seen_flags(biuro)
        self.assertEqual(list(flags), [inquiry])
        self.assertIn("\\Seen", flags[inquiry])
        mails = env.json("mail", "list")
        self.assertEqual([(m["status"], m["project"]) for m in mails], [("processed", 1)])
        st = env.status()
        self.assertTrue(st["running"])
        wait_until(lambda: env.status()["outbox_sent"] == 2, 10, "ack and BOK task sent")
        self.assertEqual(env.status()["outbox_queued"], 0)
        self.assert_stops_cleanly(d)
        self.assertEqual(env.status()["state"], "stopped")

    def test_after_move(self):
        biuro, client = self.users("t1mbiuro", "t1mclient")
        c = LAB.imap(biuro)
        c.create("Processed")
        c.logout()
        env = self.lab_env(biuro, source=imap_conf(LAB, biuro, after="move",
                                                   move_to="Processed"))
        d = env.daemon()
        self.wait_daemon_idle(env, d)
        inquiry = msgid()
        LAB.smtp_send("t1mclient@lab1.example", "t1mbiuro@bmt.example",
                      make_mail("t1mclient@lab1.example", "Roll-up 85×200", "Ile kosztuje?",
                                to="t1mbiuro@bmt.example", msgid=inquiry))
        wait_until(lambda: LAB.count(client), 30, "the acknowledgement", diag=d.tail)
        wait_until(lambda: LAB.count(biuro) == 0 and LAB.count(biuro, "Processed") == 1, 10,
                   "the inquiry moved to Processed", diag=d.tail)
        moved = LAB.messages(biuro, "Processed")[0]
        self.assertEqual(moved["Message-ID"], inquiry)
        self.assertEqual(self.acks(client)[0]["In-Reply-To"], inquiry)
        self.assertEqual(len(env.json("mail", "list")), 1)
        self.assert_stops_cleanly(d)

    def test_mail_arriving_while_sending_is_not_left_waiting(self):
        """Mail that lands after the fetch, while the outbox is being sent,
        must not wait for the next IDLE timeout (25 minutes)."""
        biuro, client = self.users("t1rbiuro", "t1rclient")
        slow = FakeServer("smtp", delay=3)  # a slow SMTP server: 3 s per mail
        self.addCleanup(slow.close)
        env = self.lab_env(biuro, outbox='<outbox type="smtp" host="127.0.0.1" port="%d" '
                           'tls="none" envelope-from="biuro@bmt.example" timeout="30"/>'
                           % slow.port)
        d = env.daemon()
        self.wait_daemon_idle(env, d)
        LAB.drop(biuro, make_mail("%s@lab1.example" % client, "Pierwsze", "x",
                                  to="%s@bmt.example" % biuro))
        wait_until(lambda: any(l.startswith("DATA") for l in slow.lines), 30,
                   "the daemon sending", diag=d.tail)
        t0 = time.monotonic()
        LAB.drop(biuro, make_mail("%s@lab1.example" % client, "Drugie", "y",
                                  to="%s@bmt.example" % biuro))
        wait_until(lambda: len(env.json("mail", "list")) == 2, 30,
                   "the second message, which came while the daemon was sending",
                   diag=d.tail)
        note("mail that came during an outbox pass processed after %.1fs"
             % (time.monotonic() - t0))
        self.assert_stops_cleanly(d)

    def test_sigterm_while_sending(self):
        """SIGTERM ends the daemon after the mail in hand, not after the
        whole queue; the rest stays queued for the next start."""
        biuro, client = self.users("t1tbiuro", "t1tclient")
        slow = FakeServer("smtp", delay=2)  # 2 s per mail
        self.addCleanup(slow.close)
        env = self.lab_env(biuro, outbox='<outbox type="smtp" host="127.0.0.1" port="%d" '
                           'tls="none" envelope-from="biuro@bmt.example" timeout="30"/>'
                           % slow.port, limits={"auto-replies-per-hour": "100"})
        for i in range(5):
            LAB.drop(biuro, make_mail("%s@lab1.example" % client, "Zapytanie %d" % i, "x",
                                      to="%s@bmt.example" % biuro))
        d = env.daemon()
        wait_until(lambda: any(l.startswith("DATA") for l in slow.lines), 30,
                   "the daemon sending", diag=d.tail)
        t0 = time.monotonic()
        rc = d.stop()
        took = time.monotonic() - t0
        note("SIGTERM while sending 10 mails at 2 s each: exited after %.1fs" % took)
        self.assertEqual(rc, 0, d.tail())
        self.assertLess(took, 8, "SIGTERM waited for the whole queue")
        sent = env.sql("SELECT count(*) FROM outbox WHERE status='sent'")[0][0]
        self.assertEqual(sent, len([l for l in slow.lines if l == "."]))
        self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE status='queued'"),
                         [(10 - sent,)])
        self.assertEqual(env.status()["state"], "stopped")

    def test_newest_message_gone_before_fetch(self):
        """A gap at the top of the mailbox (the newest message moved away,
        e.g. to Junk by a person, before inkflow fetched it): UIDNEXT stays
        above the last UID inkflow saw.  The daemon must still go idle, not
        poll in a loop, and still pick up new mail."""
        biuro, client = self.users("t1gbiuro", "t1gclient")
        c = LAB.imap(biuro)
        c.append("INBOX", None, None, make_mail("spam@junk.example", "Tanie banery!!!", "x",
                                                to="%s@bmt.example" % biuro))
        c.select("INBOX")
        c.store("1:*", "+FLAGS", "\\Deleted")
        c.expunge()
        c.logout()
        env = self.lab_env(biuro)
        d = env.daemon()
        self.wait_daemon_idle(env, d)
        time.sleep(1)
        t0, c0, w0 = time.monotonic(), cpu_seconds(d.pid), bytes_written(d.pid)
        time.sleep(3)
        used, wrote = cpu_seconds(d.pid) - c0, bytes_written(d.pid) - w0
        note("daemon while waiting with a gap above its position: %.2fs CPU, %d bytes "
             "written in %.1fs" % (used, wrote, time.monotonic() - t0))
        # Waiting in IDLE writes nothing (the lab's keepalive every second
        # is answered on the socket, which wchar does not count); a polling
        # loop writes status rows, a 4 KB WAL frame and more each pass.
        self.assertLess(wrote, 4096, "the daemon polls in a loop instead of waiting in IDLE")
        LAB.smtp_send("t1gclient@lab1.example", "%s@bmt.example" % biuro,
                      make_mail("t1gclient@lab1.example", "Baner", "Ile?",
                                to="%s@bmt.example" % biuro), login=client)
        wait_until(lambda: LAB.count(client), 30, "the ack", diag=d.tail)
        self.assertEqual(len(env.json("mail", "list")), 1)
        self.assert_stops_cleanly(d)

    def test_sighup_while_idle(self):
        """SIGHUP reloads at once, also while the daemon waits in IDLE."""
        biuro, client = self.users("t1hbiuro", "t1hclient")
        env = self.lab_env(biuro)
        d = env.daemon()
        self.wait_daemon_idle(env, d)
        env.edit_conf(lambda t: t.replace('poll="5"', 'poll="7"'))
        t0 = time.monotonic()
        os.kill(d.pid, signal.SIGHUP)
        wait_until(lambda: "event=reloaded" in d.log(), 3, "the reload", diag=d.tail,
                   bound=True)
        self.wait_daemon_idle(env, d)
        note("SIGHUP in IDLE: reloaded after %.2fs" % (time.monotonic() - t0))
        # still working after the reload (a new IMAP connection)
        LAB.smtp_send("t1hclient@lab1.example", "t1hbiuro@bmt.example",
                      make_mail("t1hclient@lab1.example", "Po przeładowaniu", "z",
                                to="t1hbiuro@bmt.example"), login=client)
        wait_until(lambda: LAB.count(client), 30, "the ack after the reload", diag=d.tail)
        self.assert_stops_cleanly(d)


# ---------------------------------------------------------------------------
# 2. Dovecot and Postfix go away and come back while the daemon runs

class ServerRestarts(LabTest):
    def test_dovecot_and_postfix_restarts(self):
        biuro, c1, c2 = self.users("t2biuro", "t2c1", "t2c2")
        env = self.lab_env(biuro)
        d = env.daemon()
        self.wait_daemon_idle(env, d)
        sent = {c1: [], c2: []}  # inquiry Message-IDs per client

        def inquiry(client, n, how):
            mid = msgid()
            raw = make_mail("%s@lab2.example" % client, "Zapytanie %d (%s)" % (n, how),
                            "Proszę o wycenę nr %d." % n, to="t2biuro@bmt.example", msgid=mid)
            if how == "smtp":
                LAB.smtp_send("%s@lab2.example" % client, "t2biuro@bmt.example", raw,
                              login=client)
            else:
                LAB.drop(biuro, raw)
            sent[client].append(mid)

        def wait_acks(n1, n2, timeout, what):
            wait_until(lambda: LAB.count(c1) >= n1 and LAB.count(c2) >= n2, timeout, what,
                       diag=lambda: "%s: %d, %s: %d\n%s" % (c1, LAB.count(c1), c2,
                                                           LAB.count(c2), d.tail()))

        # Before: both servers up.
        inquiry(c1, 1, "smtp")
        inquiry(c2, 2, "smtp")
        wait_acks(1, 1, 30, "acks before the restarts")

        # (Both stops below also stop SMTP AUTH: let the outbox empty first, or
        # a mail in flight is deferred and muddles the counts.)
        outbox_empty = lambda: env.status()["outbox_queued"] == 0
        wait_until(outbox_empty, 30, "the outbox to empty", diag=d.tail)

        # Dovecot down; mail keeps arriving in the Maildir (as an MDA would
        # deliver it: Postfix cannot take SMTP without Dovecot's SASL).
        LAB.stop_dovecot()
        inquiry(c1, 3, "maildir")
        inquiry(c2, 4, "maildir")
        wait_until(lambda: env.status().get("source_state") == "disconnected", 30,
                   "the daemon to notice Dovecot is gone", diag=d.tail)
        st = env.status()
        self.assertTrue(st["last_error"], st)
        self.assertTrue(st["running"])
        time.sleep(1.5)  # let at least one reconnect attempt fail
        t_up = time.monotonic()
        LAB.start_dovecot()
        wait_acks(2, 2, 60, "acks for the mail that came while Dovecot was down")
        note("Dovecot restart: reconnected and acknowledged within %.1fs of start-dovecot"
             % (time.monotonic() - t_up))
        inquiry(c1, 5, "smtp")
        inquiry(c2, 6, "smtp")
        wait_acks(3, 3, 30, "acks after the Dovecot restart")

        # Postfix down: mail comes in, acknowledgements wait in the outbox.
        wait_until(outbox_empty, 30, "the outbox to empty", diag=d.tail)
        LAB.stop_postfix()
        t_down = time.monotonic()
        inquiry(c1, 7, "maildir")
        inquiry(c2, 8, "maildir")
        inquiry(c1, 9, "maildir")
        wait_until(lambda: len(env.json("mail", "list")) == 9, 30,
                   "the mail that came while Postfix was down processed", diag=d.tail)
        wait_until(lambda: env.status().get("outbox_deferred", 0) >= 1, 30,
                   "a deferred outbox mail", diag=d.tail)
        queued = env.outbox_list("queued")
        self.assertEqual(len(queued), 6, queued)  # 3 acks + 3 BOK tasks
        first = queued[0]
        self.assertGreaterEqual(first["attempts"], 1)
        self.assertIn("cannot connect to 127.0.0.1:%d" % LAB.smtps_port, first["last_error"])
        self.assertIsNotNone(first["next_try"])
        # Later mail waits behind the first (order): not attempted at all.
        self.assertTrue(all(q["attempts"] == 0 for q in queued[1:]), queued)
        text = env.run("outbox", "list").stdout.decode()
        self.assertIn("last error: cannot connect", text)
        st = env.status()
        self.assertEqual((st["outbox_queued"], st["outbox_deferred"]), (6, 1))
        self.assertIn("cannot connect", st["outbox_last_error"])
        human = env.run("status").stdout.decode()
        self.assertIn("6 queued (1 deferred)", human)
        self.assertIn("oldest deferred: cannot connect", human)

        LAB.start_postfix()
        t_pf = time.monotonic()
        wait_acks(5, 4, 200, "the deferred acks after Postfix came back")
        note("Postfix down %.1fs; deferred acks delivered %.1fs after start-postfix "
             "(outbox retry after 60s backoff)" % (t_pf - t_down, time.monotonic() - t_pf))
        wait_until(LAB.queue_empty, 30, "Postfix's queue to empty")
        wait_until(lambda: env.status()["outbox_queued"] == 0, 30, "the outbox to empty")
        time.sleep(0.5)  # a duplicate would land now

        # Every message processed once, every ack delivered once, in order.
        mails = env.json("mail", "list")
        self.assertEqual(len(mails), 9)
        self.assertEqual({m["status"] for m in mails}, {"processed"})
        self.assertEqual(len(env.json("project", "list")), 9)
        for client in (c1, c2):
            acks = self.acks(client)
            self.assertEqual(sorted(a["In-Reply-To"] for a in acks), sorted(sent[client]),
                             client)
            by_arrival = sorted(acks, key=lambda a: delivered_at(a.path))
            nums = [ink_number(a["Subject"]) for a in by_arrival]
            self.assertEqual(nums, sorted(nums), "acks to %s out of project order" % client)
        flags = self.seen_flags(biuro)
        self.assertEqual(len(flags), 9)
        self.assertTrue(all("\\Seen" in f for f in flags.values()), flags)
        # Postfix received the outbox in queue order, each mail once.
        ids = {o["message_id"]: o["id"] for o in env.outbox_list()}
        got = [m for m in re.findall(r"message-id=<([^>]+)>", LAB.postfix_log()) if m in ids]
        self.assertEqual(len(got), len(ids), "each outbox mail accepted once by Postfix")
        self.assertEqual([ids[m] for m in got], sorted(ids.values()))
        self.assert_stops_cleanly(d)
        log = d.log()
        self.assertIn("event=imap_down", log)
        self.assertIn("event=mail_deferred", log)


# ---------------------------------------------------------------------------
# 3. kill -9 at random moments during a 300-message run

class KillNine(LabTest):
    N = 300
    CLIENTS = 10
    KILLS = 25

    def test_kill9_during_300_messages(self):
        names = ["t3c%d" % i for i in range(self.CLIENTS)]
        self.users("t3biuro", *names)
        env = self.lab_env("t3biuro", limits={"auto-replies-per-hour": "1000"})
        inquiries = {}
        for i in range(self.N):
            client = names[i % self.CLIENTS]
            mid = msgid()
            inquiries[mid] = client
            LAB.drop("t3biuro", make_mail("%s@lab3.example" % client, "Zapytanie nr %03d" % i,
                                          "Proszę o wycenę pozycji %d." % i,
                                          to="t3biuro@bmt.example", msgid=mid))
        seed = int(os.environ.get("INKFLOW_SEED", random.randrange(1 << 30)))
        rnd = random.Random(seed)
        t0 = time.monotonic()
        kills = sending_kills = runs = 0
        progress = []
        sent_at_kills = []
        # KILLS kills, and at least a third of them while the outbox is
        # being sent (on a slow machine ingesting takes most of the run).
        while runs < 3 * self.KILLS and (kills < self.KILLS or
                                          sending_kills < self.KILLS // 3):
            runs += 1
            d = env.daemon()
            time.sleep(rnd.uniform(0.2, 1.6))
            before = progress[-1] if progress else (0, 0)
            killed = d.alive()
            if killed:
                d.kill9()
                kills += 1
            else:
                d.stop()
            st = env.sql("SELECT (SELECT count(*) FROM messages),"
                         " (SELECT count(*) FROM outbox WHERE status='sent')")[0]
            if killed and (st[1] > before[1] or before[0] == self.N):
                sending_kills += 1
            progress.append(st)
            if killed:
                sent_at_kills.append(st[1])
        d = env.daemon()
        diag = lambda: "progress (messages, sent) after each kill: %s\n%s" % (progress, d.tail())
        # (sending is one SMTPS session per mail: ~0.1 s here, ~1 s under
        # ASan on a loaded machine; wait while there is progress)
        wait_progress(lambda: env.sql("SELECT count(*) FROM messages")[0][0], self.N,
                      "messages processed", diag=diag)
        wait_progress(lambda: env.sql("SELECT count(*) FROM outbox WHERE status='sent'")[0][0],
                      2 * self.N, "outbox mail sent (acks and BOK tasks)", diag=diag)
        wait_progress(lambda: sum(LAB.count(n) for n in names), self.N,
                      "acks delivered", diag=diag)
        wait_until(LAB.queue_empty, 60, "Postfix's queue to empty")
        time.sleep(0.5)
        self.assert_stops_cleanly(d)
        note("kill -9 test: seed %d, %d kills (%d while sending), %.1fs; progress "
             "(messages, sent) after each kill: %s" % (seed, kills, sending_kills,
                                                       time.monotonic() - t0, progress))
        self.assertGreaterEqual(kills, self.KILLS // 2)

        self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])
        self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE status!='sent'"), [(0,)])
        self.assertEqual(env.sql("SELECT count(*) FROM messages"), [(self.N,)])
        self.assertEqual(env.sql("SELECT count(DISTINCT message_id) FROM messages"), [(self.N,)])
        self.assertEqual(env.sql("SELECT count(*) FROM projects"), [(self.N,)])
        self.assertEqual(env.sql("SELECT count(*), count(DISTINCT rcpt) FROM outbox"
                                 " WHERE kind='ack'"), [(self.N, self.CLIENTS)])
        # Every acknowledgement delivered once, to the right client.
        got = {}
        for n in names:
            for a in self.acks(n):
                got.setdefault(a["In-Reply-To"], []).append(n)
        dups = {k: v for k, v in got.items() if len(v) > 1}
        if dups:
            why, real = ack_duplicates(env, dups, sent_at_kills)
            note("kill -9 test: %d duplicate acknowledgement(s): %s" % (len(dups), why))
            self.assertEqual(real, [], "acknowledgements sent twice outside the kill window: "
                             + "; ".join(why))
        self.assertEqual(set(got), set(inquiries))
        self.assertTrue(all(set(got[k]) == {inquiries[k]} for k in inquiries))
        # The source mailbox: all seen, none twice.
        flags = self.seen_flags("t3biuro")
        self.assertEqual(len(flags), self.N)
        self.assertTrue(all("\\Seen" in f for f in flags.values()))


# ---------------------------------------------------------------------------
# 4. Wrong password, wrong CA, no STARTTLS: clear errors, nothing sent in
#    the clear, nothing lost

def throwaway_ca(directory):
    cert = os.path.join(directory, "other-ca.pem")
    key = os.path.join(directory, "other-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert


class FakeServer:
    """A plaintext IMAP or SMTP server on 127.0.0.1 without working STARTTLS
    (not offered, or offered and refused), which would happily accept a
    login.  Records every line it receives."""

    def __init__(self, proto, starttls="absent", delay=0):
        self.delay = delay  # seconds before answering the end of DATA
        self.lines = []
        self.connections = 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def handle(self):
                outer.connections += 1
                w = lambda s: self.wfile.write(s.encode())
                try:
                    if proto == "imap":
                        outer._imap(self.rfile, w, starttls)
                    else:
                        outer._smtp(self.rfile, w, starttls)
                except (OSError, socket.timeout):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _imap(self, rfile, w, starttls):
        w("* OK IMAP4rev1 fake server ready\r\n")
        caps = "IMAP4rev1 IDLE UIDPLUS AUTH=PLAIN" + (" STARTTLS" if starttls == "refused" else "")
        for line in rfile:
            line = line.decode(errors="replace").rstrip("\r\n")
            self.lines.append(line)
            parts = line.split(" ", 2)
            if len(parts) < 2:
                continue
            tag, cmd = parts[0], parts[1].upper()
            if cmd == "CAPABILITY":
                w("* CAPABILITY %s\r\n%s OK done\r\n" % (caps, tag))
            elif cmd == "STARTTLS":
                w("%s NO [ALERT] TLS is not available today\r\n" % tag
                  if starttls == "refused" else "%s BAD unknown command\r\n" % tag)
            elif cmd in ("LOGIN", "AUTHENTICATE"):
                w("%s OK logged in\r\n" % tag)
            elif cmd == "LOGOUT":
                w("* BYE\r\n%s OK bye\r\n" % tag)
                return
            else:
                w("%s BAD unknown command\r\n" % tag)

    def _smtp(self, rfile, w, starttls):
        w("220 fake.test ESMTP\r\n")
        data = False
        for line in rfile:
            line = line.decode(errors="replace").rstrip("\r\n")
            self.lines.append(line)
            if data:
                if line == ".":
                    data = False
                    time.sleep(self.delay)
                    w("250 2.0.0 queued\r\n")
                continue
            cmd = line.split(" ", 1)[0].upper()
            if cmd in ("EHLO", "HELO"):
                w("250-fake.test\r\n250-AUTH PLAIN LOGIN\r\n%s250 8BITMIME\r\n"
                  % ("250-STARTTLS\r\n" if starttls == "refused" else ""))
            elif cmd == "STARTTLS":
                w("454 4.7.0 TLS not available due to local problem\r\n")
            elif cmd == "AUTH":
                w("235 2.7.0 Authentication successful\r\n")
            elif cmd in ("MAIL", "RCPT", "RSET", "NOOP"):
                w("250 2.0.0 ok\r\n")
            elif cmd == "DATA":
                data = True
                w("354 go ahead\r\n")
            elif cmd == "QUIT":
                w("221 2.0.0 bye\r\n")
                return
            else:
                w("502 5.5.2 unknown command\r\n")


class SecurityFailures(LabTest):
    def inquiry(self, biuro, client, subject="Zapytanie o siatkę mesh"):
        mid = msgid()
        LAB.drop(biuro, make_mail("%s@lab4.example" % client, subject, "Ile za 10 m2?",
                                  to="%s@bmt.example" % biuro, msgid=mid))
        return mid

    def unseen_in_maildir(self, user):
        return [p for p in LAB.files(user) if "/new/" in p or "S" not in p.split(":2,")[-1]]

    def once(self, env):
        """run --once, the way an operator would try it: (exit code, stderr)."""
        p = env.run("run", "--once", "--json", check=False, timeout=90)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        return p.returncode, p.stderr.decode(errors="replace")

    def test_wrong_imap_password(self):
        biuro, client = self.users("t4pbiuro:right-one", "t4pclient")
        env = self.lab_env(biuro, imap_pw="wrong-one", smtp_pw="right-one")
        self.inquiry(biuro, client)
        rc, err = self.once(env)
        self.assertEqual(rc, 1)
        self.assertIn("event=imap_down", err)
        st = env.status()
        note("wrong IMAP password: %s" % st["last_error"])
        self.assertRegex(st["last_error"], r"(?i)login.*(refused|failed|rejected)|authentication")
        self.assertEqual(st["source_state"], "disconnected")
        self.assertEqual(st["messages"], 0)
        self.assertEqual(len(self.unseen_in_maildir(biuro)), 1)
        self.assertIn("wrong-one", open(os.path.join(env.confdir, "imap.pw")).read())
        self.assertNotIn("wrong-one", err + json.dumps(st), "password leaked into the log")
        # Fixed: the waiting message is processed, nothing was lost.
        env.set_password("imap.pw", "right-one")
        rc, err = self.once(env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(env.json("mail", "list")), 1)
        wait_until(lambda: LAB.count(client), 30, "the ack")
        self.assertEqual(self.unseen_in_maildir(biuro), [])

    def test_wrong_smtp_password(self):
        biuro, client = self.users("t4sbiuro:right-two", "t4sclient")
        env = self.lab_env(biuro, imap_pw="right-two", smtp_pw="wrong-two")
        self.inquiry(biuro, client)
        rc, err = self.once(env)
        queued = env.outbox_list("queued")
        self.assertEqual(len(queued), 2)  # BOK task, ack
        note("wrong SMTP password: %s" % queued[0]["last_error"])
        self.assertRegex(queued[0]["last_error"], r"^authentication failed: AUTH")
        self.assertIn("535", queued[0]["last_error"])
        st = env.status()
        self.assertRegex(st["outbox_last_error"], r"^authentication failed")
        self.assertEqual(st["outbox_deferred"], 1)
        self.assertNotIn("wrong-two", err + json.dumps(st) + json.dumps(queued))
        env.set_password("smtp.pw", "right-two")
        p = env.run("outbox", "flush")
        self.assertIn("2 sent", p.stdout.decode())
        wait_until(lambda: LAB.count(client), 30, "the ack after the password was fixed")
        self.assertEqual(env.outbox_list("queued"), [])

    def test_wrong_ca(self):
        biuro, client = self.users("t4cbiuro", "t4cclient")
        other = throwaway_ca(self.make_tmp())
        env = self.lab_env(biuro, source=imap_conf(LAB, biuro, ca=other),
                           outbox=smtp_conf(LAB, biuro, ca=other))
        self.inquiry(biuro, client)
        rc, err = self.once(env)
        self.assertEqual(rc, 1)
        st = env.status()
        note("wrong CA, IMAP: %s" % st["last_error"])
        self.assertRegex(st["last_error"], r"(?i)certificate")
        self.assertEqual(st["messages"], 0)
        self.assertEqual(len(self.unseen_in_maildir(biuro)), 1)
        # IMAP fixed, SMTP still distrusting the server: mail stays queued.
        env.edit_conf(lambda t: t.replace('ca-file="%s"' % other, 'ca-file="%s"' % LAB.ca, 1))
        rc, err = self.once(env)
        self.assertEqual(rc, 0, err)
        queued = env.outbox_list("queued")
        self.assertEqual(len(queued), 2)
        note("wrong CA, SMTP: %s" % queued[0]["last_error"])
        self.assertRegex(queued[0]["last_error"], r"^certificate verification failed")
        self.assertRegex(env.status()["outbox_last_error"], r"^certificate verification")
        self.assertEqual(LAB.count(client), 0)
        env.edit_conf(lambda t: t.replace('ca-file="%s"' % other, 'ca-file="%s"' % LAB.ca))
        env.run("outbox", "flush")
        wait_until(lambda: LAB.count(client), 30, "the ack after the CA was fixed")

    def make_tmp(self):
        d = tempfile.mkdtemp(prefix="inkflow-ca-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def fake(self, proto, starttls):
        f = FakeServer(proto, starttls)
        self.addCleanup(f.close)
        return f

    def test_imap_server_without_starttls(self):
        biuro, client = self.users("t4ibiuro:never-in-clear", "t4iclient")
        self.inquiry(biuro, client)
        for mode, expect in (("absent", r"does not offer STARTTLS"),
                             ("refused", r"STARTTLS refused")):
            with self.subTest(mode=mode):
                fake = self.fake("imap", mode)
                env = self.lab_env(biuro, source=imap_conf(LAB, biuro, tls="starttls",
                                                           port=fake.port),
                                   imap_pw="never-in-clear", smtp_pw="never-in-clear")
                rc, err = self.once(env)
                self.assertEqual(rc, 1)
                self.assertGreaterEqual(fake.connections, 1)
                self.assertEqual([l for l in fake.lines
                                  if re.match(r"\S+ (LOGIN|AUTHENTICATE)", l, re.I)], [],
                                 "credentials sent without TLS")
                self.assertNotIn("never-in-clear", "\n".join(fake.lines))
                note("IMAP STARTTLS %s: %s" % (mode, env.status()["last_error"]))
                self.assertRegex(env.status()["last_error"], expect)
                self.assertRegex(err, expect)
        # STARTTLS mode pointed at the IMAPS port: the server speaks TLS
        # first, the client waits for a greeting; it times out, never
        # falls back.
        env = self.lab_env(biuro, source=imap_conf(LAB, biuro, tls="starttls",
                                                   port=LAB.imaps_port, timeout=5),
                           imap_pw="never-in-clear")
        rc, err = self.once(env)
        self.assertEqual(rc, 1)
        note("IMAP STARTTLS against the IMAPS port: %s" % env.status()["last_error"])
        self.assertTrue(env.status()["last_error"])
        self.assertEqual(len(self.unseen_in_maildir(biuro)), 1)

    def test_smtp_server_without_starttls(self):
        for mode in ("absent", "refused"):
            with self.subTest(mode=mode):
                biuro, client = self.users("t4t%sbiuro:never-in-clear2" % mode,
                                           "t4t%sclient" % mode)
                self.inquiry(biuro, client)
                fake = self.fake("smtp", mode)
                env = self.lab_env(biuro, outbox=smtp_conf(LAB, biuro, tls="starttls",
                                                           port=fake.port),
                                   imap_pw="never-in-clear2", smtp_pw="never-in-clear2")
                self.once(env)
                queued = env.outbox_list("queued")
                self.assertEqual(len(queued), 2, queued)
                note("SMTP STARTTLS %s: %s" % (mode, queued[0]["last_error"]))
                self.assertRegex(queued[0]["last_error"], r"STARTTLS")
                self.assertRegex(env.status()["outbox_last_error"], r"STARTTLS")
                self.assertGreaterEqual(fake.connections, 1)
                bad = [l for l in fake.lines if re.match(r"(AUTH|MAIL|RCPT|DATA)\b", l, re.I)]
                self.assertEqual(bad, [], "talked past a failed STARTTLS")
                self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE status='sent'"),
                                 [(0,)])
                self.assertEqual(LAB.count(client), 0)


# ---------------------------------------------------------------------------
# 5. A permanent SMTP failure

class Introspection:
    """The identity provider's token introspection endpoint (RFC 7662) that
    the lab's Dovecot asks about a bearer token, on LAB_OAUTH_URL: tokens
    maps a token to its user; every token asked about is kept."""

    def __init__(self, tokens):
        import http.server
        import urllib.parse
        self.tokens, self.asked = tokens, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                token = form.get("token", [""])[0]
                outer.asked.append(token)
                user = outer.tokens.get(token)
                body = json.dumps({"active": "true", "username": user} if user
                                  else {"active": "false"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", int(LAB.env["LAB_OAUTH_PORT"])), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class OAuth2SignIn(LabTest):
    """Microsoft 365 and Gmail take no password for IMAP and SMTP: inkflow
    signs in with an access token that the operator's token command prints
    (SASL XOAUTH2 over IMAP, OAUTHBEARER or XOAUTH2 over SMTP)."""

    def setUp(self):
        self.idp = Introspection({"ya29.good-token-for-biuro": "t6obiuro"})
        self.addCleanup(self.idp.close)

    def oauth_env(self, biuro, command):
        from xml.sax.saxutils import quoteattr
        src = imap_conf(LAB, biuro).replace(' password-file="imap.pw"',
                                            ' auth="oauth2" token-command=%s' % quoteattr(command))
        out = smtp_conf(LAB, biuro).replace(' password-file="smtp.pw"',
                                            ' auth="oauth2" token-command=%s' % quoteattr(command))
        return self.lab_env(biuro, source=src, outbox=out)

    def test_imap_and_smtp_with_a_token(self):
        # The lab user's password is one inkflow never learns.
        biuro, client = self.users("t6obiuro:not-given-to-inkflow", "t6oclient")
        tmp = tempfile.mkdtemp(prefix="inkoauth.")
        self.addCleanup(shutil.rmtree, tmp, True)
        token_file, runs = os.path.join(tmp, "token"), os.path.join(tmp, "runs")
        with open(token_file, "w") as f:
            f.write("ya29.revoked-token\n")
        env = self.oauth_env(biuro, "echo run >> %s; cat %s" % (runs, token_file))
        LAB.drop(biuro, make_mail("%s@lab6.example" % client, "Zapytanie o roll-up",
                                  "Ile za 3 roll-upy 85x200?", to="%s@bmt.example" % biuro,
                                  msgid=msgid()))
        # A token the provider does not know: a clear error, nothing lost,
        # and the token itself is not in the log or the status.
        p = env.run("run", "--once", "--json", check=False, timeout=90)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 1, err)
        st = env.status()
        note("refused token: %s" % st["last_error"])
        self.assertIn("AUTHENTICATE XOAUTH2", st["last_error"])
        self.assertEqual(st["messages"], 0)
        self.assertNotIn("revoked-token", err + json.dumps(st))
        self.assertIn("ya29.revoked-token", self.idp.asked)
        # The provider's helper has a fresh token: the command is asked
        # again (a refused token is not kept), the inquiry is read and the
        # acknowledgement goes out through Postfix with the same token.
        with open(token_file, "w") as f:
            f.write("ya29.good-token-for-biuro\n")
        p = env.run("run", "--once", "--json", check=False, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(len(env.json("mail", "list")), 1)
        wait_until(lambda: LAB.count(client), 30, "the ack sent with the token")
        self.assertEqual(env.outbox_list("queued"), [])
        with open(LAB.env["LAB_DOVECOT_LOG"]) as f:
            self.assertRegex(f.read(), r"Login: user=<%s>, method=XOAUTH2" % biuro)
        self.assertIn("ya29.good-token-for-biuro", self.idp.asked)
        with open(runs) as f:
            self.assertGreaterEqual(len(f.read().split()), 2)

    def test_smtp_token_refused_then_renewed(self):
        biuro, client = self.users("t6sbiuro:pw-six", "t6sclient")
        self.idp.tokens["ya29.smtp-token"] = biuro
        tmp = tempfile.mkdtemp(prefix="inkoauth.")
        self.addCleanup(shutil.rmtree, tmp, True)
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write("ya29.expired\n")
        from xml.sax.saxutils import quoteattr
        out = smtp_conf(LAB, biuro).replace(
            ' password-file="smtp.pw"',
            ' auth="oauth2" token-command=%s' % quoteattr("cat " + token_file))
        env = self.lab_env(biuro, outbox=out, imap_pw="pw-six")
        LAB.drop(biuro, make_mail("%s@lab6.example" % client, "Zapytanie o baner",
                                  "Baner 3x1 m?", to="%s@bmt.example" % biuro, msgid=msgid()))
        p = env.run("run", "--once", "--json", check=False, timeout=90)
        queued = env.outbox_list("queued")
        self.assertEqual(len(queued), 2, p.stderr.decode(errors="replace"))
        note("refused SMTP token: %s" % queued[0]["last_error"])
        self.assertRegex(queued[0]["last_error"], r"^authentication failed")
        self.assertNotIn("ya29.expired", p.stderr.decode(errors="replace") +
                         json.dumps(queued) + json.dumps(env.status()))
        with open(token_file, "w") as f:
            f.write("ya29.smtp-token\n")
        p = env.run("outbox", "flush")
        self.assertIn("2 sent", p.stdout.decode())
        wait_until(lambda: LAB.count(client), 30, "the ack after the token was renewed")

    def test_token_command_failing(self):
        biuro, client = self.users("t6fbiuro", "t6fclient")
        env = self.oauth_env(biuro, "echo 'refresh token expired, sign in again' >&2; exit 2")
        LAB.drop(biuro, make_mail("%s@lab6.example" % client, "Zapytanie", "Cena?",
                                  to="%s@bmt.example" % biuro, msgid=msgid()))
        p = env.run("run", "--once", "--json", check=False, timeout=90)
        self.assertEqual(p.returncode, 1)
        st = env.status()
        self.assertIn("token command exited with 2: refresh token expired, sign in again",
                      st["last_error"])
        self.assertEqual(st["messages"], 0)
        self.assertEqual(self.idp.asked, [])

    def test_configuration_errors(self):
        biuro, = self.users("t6cbiuro")
        env = self.oauth_env(biuro, "cat /dev/null")
        env.edit_conf(lambda t: t.replace('auth="oauth2" token-command="cat /dev/null"',
                                          'auth="oauth2" password-file="imap.pw"', 1))
        p = env.run("check-config", check=False)
        out = (p.stdout + p.stderr).decode()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('auth="oauth2": give token-command, not a password', out)
        self.assertIn('needs token-command="COMMAND"', out)


class PermanentFailure(LabTest):
    def test_unknown_recipient_fails_and_is_reported(self):
        biuro, = self.users("t5biuro")
        env = self.lab_env(biuro)
        ghost = "t5ghost@reklama-baltyk.pl"  # owner: a.nowak (assignment rule)
        LAB.drop(biuro, make_mail("Duch <%s>" % ghost, "Oklejenie witryny", "Ile kosztuje?",
                                  to="t5biuro@bmt.example"))
        env.run("run", "--once")
        failed = env.outbox_list("failed")
        self.assertEqual(len(failed), 1, env.outbox_list())
        f = failed[0]
        self.assertEqual((f["rcpt"], f["kind"]), (ghost, "ack"))
        self.assertRegex(f["last_error"], r"^RCPT TO <%s>: 550 5\.1\.1 " % re.escape(ghost))
        note("SMTP permanent failure: %s" % f["last_error"])
        self.assertIn("User unknown", f["last_error"])
        st = env.status()
        self.assertEqual(st["outbox_failed"], 1)

        def notices(user):
            return [m for m in LAB.messages(user)
                    if ghost in str(m["Subject"]) and "Nie doręczono" in str(m["Subject"])]
        wait_until(lambda: notices("anna.nowak") and notices("it"), 30,
                   "send-failed notices to the owner and the admin")
        n = notices("anna.nowak")
        self.assertEqual(len(n), 1)
        text = body_text(n[0])
        self.assertIn("550 5.1.1", text)
        self.assertIn("inkflow outbox retry %d" % f["id"], text)
        self.assertEqual(ink_number(n[0]["Subject"]), 1)
        kinds = [e["kind"] for e in env.json("project", "show", "1")["history"]]
        self.assertIn("mail-failed", kinds)

        # retry requeues it; once the address exists it is delivered.
        p = env.run("outbox", "retry", str(f["id"]))
        self.assertIn("queued again", p.stdout.decode())
        self.assertEqual([q["id"] for q in env.outbox_list("queued")], [f["id"]])
        self.assertEqual(env.outbox_list("failed"), [])
        self.users("t5ghost")
        p = env.run("outbox", "flush")
        self.assertIn("1 sent", p.stdout.decode())
        wait_until(lambda: LAB.count("t5ghost"), 30, "the retried ack")
        self.assertEqual(len(notices("anna.nowak")), 1)
        p = env.run("outbox", "retry", str(f["id"]), check=False)
        self.assertEqual(p.returncode, 1)  # sent mail cannot be retried


# ---------------------------------------------------------------------------
# 6. Postfix pipe(8) into `inkflow deliver`

PIPE_USER = "nobody"
PIPE_GROUP = "nogroup"


class LargeOverImap(LabTest):
    """A message of 4 MB or more is fetched in parts of 1 MB into a file and
    processed from a mapping, as a large Maildir file is: the attachment is
    stored exactly, the message after it in the same pass too, and the
    process never holds the message whole (its peak RSS stays below the
    attachment's size).  No spool file is left behind."""

    def big_mail(self, to, data):
        b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
        return ("From: Klient <duzy@firma-testowa.pl>\r\nTo: %s\r\n"
                "Subject: Plik do druku\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"=b=\"\r\n\r\n"
                "--=b=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                "Proszę o wycenę banera, plik w załączniku.\r\n"
                "--=b=\r\nContent-Type: application/pdf\r\n"
                "Content-Transfer-Encoding: base64\r\n"
                "Content-Disposition: attachment; filename=\"baner.pdf\"\r\n\r\n"
                "%s--=b=--\r\n" % (to, new_msgid(), b64)).encode()

    def test_large_message_fetched_in_parts(self):
        biuro, = self.users("t7biuro")
        data = os.urandom(20 << 20)
        c = LAB.imap(biuro)
        c.append("INBOX", None, None, self.big_mail("%s@bmt.example" % biuro, data))
        c.append("INBOX", None, None, make_mail("maly@firma-testowa.pl", "Ulotki", "Ile?",
                                                to="%s@bmt.example" % biuro))
        c.logout()
        env = self.lab_env(biuro)
        rc, out, err, _, peak, _ = run_memory(
            [INKFLOW, "-q", "-c", env.conf, "run", "--once", "--json"])
        self.assertEqual(rc, 0, err.decode(errors="replace")[-3000:])
        summary = json.loads(out)
        self.assertEqual((summary["read"], summary["new_projects"], summary["quarantined"]),
                         (2, 2, 0), summary)
        rows = env.sql("SELECT filename, size, sha256, path FROM attachments")
        self.assertEqual(len(rows), 1, rows)
        name, size, sha, path = rows[0]
        with open(os.path.join(env.data, path), "rb") as f:
            stored = f.read()
        self.assertEqual((name, size), ("baner.pdf", len(data)))
        self.assertTrue(stored == data, "the stored attachment differs from the one sent")
        spool = [f for _, _, fs in os.walk(env.data) for f in fs if ".tmp-" in f]
        self.assertEqual(spool, [])
        note("20 MB attachment over IMAPS: peak RSS %.1f MB" % peak)
        if build_kind() == "plain":  # the sanitizers' and valgrind's memory is their own
            self.assertLess(peak, 32, "the message was held in memory")


class ImapBatches(LabTest):
    """Over IMAP, one batch is committed and disposed of while the next is
    fetched and parsed.  Messages over the size limit, taken on their own
    between batches, must still be handled in UID order: every message
    once, each marked seen, the position at the last UID, nothing left in
    the data directory but what the database names."""

    def test_oversize_between_batches_in_order(self):
        biuro, = self.users("t8biuro")
        to = "%s@bmt.example" % biuro
        c = LAB.imap(biuro)
        big = {4, 33, 34, 60}  # in the first batch, across a batch edge, near the end
        n = 70
        for k in range(n):
            body = "Zapytanie nr %d: baner 3 × 1 m, oczko co 50 cm." % k
            if k in big:
                body += "\n" + "Szczegóły zamówienia, pozycja po pozycji. " * 27000
            c.append("INBOX", None, None, make_mail("klient%d@firma-%d.pl" % (k, k),
                                                    "Wycena %d" % k, body, to=to))
        c.logout()
        env = self.lab_env(biuro)
        env.edit_conf(lambda t: t.replace('max-message="50M"', 'max-message="1M"'))
        summary = env.json("run", "--once")
        self.assertEqual((summary["read"], summary["new_projects"], summary["quarantined"],
                          summary["duplicates"]), (n, n - len(big), len(big), 0), summary)
        rows = env.sql("SELECT source_key, status FROM messages ORDER BY id")
        uids = [int(k.split(":")[1]) for k, _ in rows]
        self.assertEqual(uids, list(range(1, n + 1)), "not processed in UID order")
        self.assertEqual([i for i, (_, st) in enumerate(rows) if st == "quarantined"],
                         sorted(big))
        flags = self.seen_flags(biuro)
        self.assertEqual(len(flags), n)
        self.assertTrue(all("\\Seen" in f for f in flags.values()), flags)
        self.assertEqual(env.sql("SELECT last_uid FROM imap_state"), [(n,)])
        tmp = [f for _, _, fs in os.walk(env.data) for f in fs if ".tmp-" in f]
        self.assertEqual(tmp, [])
        raw = sum(len(fs) for _, _, fs in os.walk(os.path.join(env.data, "raw")))
        self.assertEqual(raw, n - len(big), "raw files other than the messages stored")
        again = env.json("run", "--once")
        self.assertEqual(again["read"], 0, again)


    def test_database_locked_rest_waits_in_order(self):
        """The database locked by another program while two batches are
        under way: the first message waits out the busy timeout and fails,
        the rest of its batch is not tried, the batch fetched after it is
        dropped with its files.  Once the lock is gone, every message is
        processed once, in UID order."""
        biuro, = self.users("t8lbiuro")
        to = "%s@bmt.example" % biuro
        n = 45
        c = LAB.imap(biuro)
        c.create("Przychodzace")
        for k in range(n):
            c.append("Przychodzace", None, None,
                     make_mail("klient%d@firma-%d.de" % (k, k), "Anfrage %d" % k,
                               "Bitte um ein Angebot für %d Flyer." % k, to=to))
        env = self.lab_env(biuro)
        d = env.daemon()
        self.wait_daemon_idle(env, d, timeout=120)
        db = sqlite3.connect(os.path.join(env.data, "inkflow.db"), timeout=60,
                             isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            c.select("Przychodzace")
            c.copy("1:*", "INBOX")  # all of them at once: one pass sees them all
            c.logout()
            wait_until(lambda: "event=messages_deferred count=31" in d.log(), 120,
                       "the rest of the first batch deferred", diag=d.tail)
            self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (0,))
        finally:
            db.execute("ROLLBACK")
            db.close()
        t0 = time.monotonic()
        wait_until(lambda: env.sql("SELECT count(*) FROM messages") == [(n,)], 180,
                   "every message processed", diag=d.tail)
        note("database locked during an IMAP pass of %d messages: all processed %.1fs after "
             "the lock was released" % (n, time.monotonic() - t0))
        self.wait_daemon_idle(env, d, timeout=120)
        self.assert_stops_cleanly(d)
        self.assertEqual(env.sql("SELECT count(*) FROM messages WHERE status='processed'"),
                         [(n,)])
        rows = env.sql("SELECT source_key FROM messages ORDER BY id")
        self.assertEqual([int(k.split(":")[1]) for k, in rows], list(range(1, n + 1)))
        self.assertEqual(env.sql("SELECT last_uid FROM imap_state"), [(n,)])
        flags = self.seen_flags(biuro)
        self.assertEqual(len(flags), n)
        self.assertTrue(all("\\Seen" in f for f in flags.values()), flags)
        tmp = [f for _, _, fs in os.walk(env.data) for f in fs if ".tmp-" in f]
        self.assertEqual(tmp, [])
        raw = sum(len(fs) for _, _, fs in os.walk(os.path.join(env.data, "raw")))
        self.assertEqual(raw, n)


class PostfixPipe(LabTest):
    def setUp(self):
        self.main_cf = os.path.join(LAB.postfix_conf, "main.cf")
        self.master_cf = os.path.join(LAB.postfix_conf, "master.cf")
        self.saved = {p: open(p).read() for p in (self.main_cf, self.master_cf)}
        self.addCleanup(self.restore_postfix)

    def restore_postfix(self):
        for p, text in self.saved.items():
            with open(p, "w") as f:
                f.write(text)
        LAB.postfix_reload()

    def as_pipe_user(self, env, *args, check=True, input=None):
        p = subprocess.run([INKFLOW, "-q", "-c", env.conf] + list(args), input=input,
                           capture_output=True, timeout=120 * SLOW, user=PIPE_USER, group=PIPE_GROUP,
                           extra_groups=[], cwd="/")
        if check and p.returncode != 0:
            raise AssertionError("inkflow %s as %s: %d %s" % (args, PIPE_USER, p.returncode,
                                                              p.stderr.decode()))
        return p

    def test_pipe_into_deliver(self):
        deliver, client, relay = self.users("t6deliver", "t6client", "t6relay")
        # The SMTP outbox authenticates as t6relay; the source is unused.
        env = LabEnv(outbox=smtp_conf(LAB, relay), limits={"auto-replies-per-hour": "100"})
        self.addCleanup(env.close)
        env.init()
        os.chmod(env.dir, 0o755)
        subprocess.run(["chown", "-R", "%s:%s" % (PIPE_USER, PIPE_GROUP), env.data,
                        os.path.join(env.confdir, "smtp.pw"), env.outbox, env.inbox],
                       check=True)
        argv = "%s -q -c %s deliver" % (INKFLOW, env.conf)
        line = "inkflow unix - n n - - pipe flags=Rq user=%s argv=%s" % (PIPE_USER, argv)
        transport = os.path.join(LAB.postfix_conf, "transport")
        with open(transport, "w") as f:
            f.write("/^t6deliver(\\+[^@]*)?@/ inkflow:\n")
        with open(self.main_cf, "a") as f:
            f.write("transport_maps = regexp:%s\n"
                    "inkflow_destination_recipient_limit = 1\n" % transport)
        with open(self.master_cf, "a") as f:
            f.write(line + "\n")
        LAB.postfix_reload()
        note("master.cf: " + line)

        # Several inquiries at once: Postfix runs deliveries in parallel.
        mids = []
        for i in range(6):
            mid = msgid()
            mids.append(mid)
            LAB.smtp_send("t6client@lab6.example", "t6deliver@bmt.example",
                          make_mail("Klient Sześć <t6client@lab6.example>", "Tablica %d" % i,
                                    "Proszę o wycenę tablicy %d." % i,
                                    to="t6deliver@bmt.example", msgid=mid))
        projects = lambda: self.as_pipe_user(env, "project", "list", "--json").stdout
        deferred = re.compile(r"to=<t6deliver@bmt\.example>, relay=inkflow, .*"
                              r"status=deferred \(temporary failure.*")

        def six_projects():
            # Six deliveries at once on a slow machine (valgrind) may find
            # the database busy past deliver's wait: exit 75, and Postfix
            # retries in five minutes.  Retried now instead.
            if deferred.search(LAB.postfix_log()):
                LAB.postqueue("-f")
            return len(json.loads(projects())) == 6
        wait_until(six_projects, 60, "6 projects via the pipe",
                   diag=lambda: LAB.postfix_log()[-3000:])
        diag = lambda: "%s\n%s" % (
            self.as_pipe_user(env, "outbox", "list", check=False).stdout.decode(),
            LAB.postfix_log()[-3000:])
        wait_until(lambda: LAB.count(client) >= 6, 60, "6 acks", diag=diag)
        wait_until(LAB.queue_empty, 60, "Postfix's queue to empty")
        time.sleep(0.5)
        acks = self.acks(client)
        self.assertEqual(sorted(a["In-Reply-To"] for a in acks), sorted(mids),
                         "each ack delivered once")
        self.assertEqual(LAB.count(deliver), 0, "nothing went to the Maildir transport")
        self.assertRegex(LAB.postfix_log(), r"to=<t6deliver@bmt\.example>, relay=inkflow, "
                                            r".*status=sent \(delivered via inkflow service\)")

        # Temporary failure: the database locked -> exit 75 -> deferred.
        # (SQLite gives files it creates as root the database file's owner.)
        db = sqlite3.connect(os.path.join(env.data, "inkflow.db"), timeout=0,
                             isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            before = len(deferred.findall(LAB.postfix_log()))
            mid = msgid()
            LAB.smtp_send("t6client@lab6.example", "t6deliver@bmt.example",
                          make_mail("t6client@lab6.example", "Tablica zablokowana", "x",
                                    to="t6deliver@bmt.example", msgid=mid))
            wait_until(lambda: len(deferred.findall(LAB.postfix_log())) > before, 60,
                       "Postfix to defer the delivery", diag=lambda: LAB.postfix_log()[-2000:])
            note("deferred: " + deferred.findall(LAB.postfix_log())[-1])
            self.assertEqual(len(json.loads(projects())), 6)
        finally:
            db.execute("ROLLBACK")
            db.close()
        LAB.postqueue("-f")
        wait_until(lambda: len(json.loads(projects())) == 7, 60,
                   "the deferred message delivered after the flush",
                   diag=lambda: LAB.postfix_log()[-2000:])
        wait_until(lambda: LAB.count(client) >= 7, 60, "the 7th ack")
        mails = json.loads(self.as_pipe_user(env, "mail", "list", "--json").stdout)
        self.assertEqual(len(mails), 7)
        # Everything in the data directory belongs to the pipe user.
        for n in os.listdir(env.data):
            st = os.stat(os.path.join(env.data, n))
            self.assertNotEqual(st.st_uid, 0, n)


if __name__ == "__main__":
    unittest.main()
