"""Issue 9: attacks, each refused or neutralised with a log line.

Action tokens (forged, tampered, expired, replayed, someone else's), a
spoofed From, someone else's [INK-n] tag, hostile attachment names, CR/LF
and NUL on their way into outgoing headers, SQL metacharacters everywhere,
XML external entities and entity bombs in configuration and templates, and
messages built to exhaust the parser.  Every test checks what the attack
would have changed (rows, files, outgoing mail, log lines), not only an
exit code."""
import base64
import email
import email.policy
import hashlib
import hmac
import os
import re
import subprocess
import time
import unittest

from inkenv import INKFLOW, Env, body_text, build_kind, make_mail, run_memory

REP = "anna.nowak@bmt.example"
OTHER_REP = "piotr.kowalczyk@bmt.example"
SUP = "marek.zielinski@bmt.example"
BOK = "bok@bmt.example"
CLIENT = "ola@reklama-baltyk.pl"
OUTSIDER = "t.lis@konkurencja-druk.example"

# Under the sanitizers every run is slower and bigger; the bounds below are
# generous for either build and still far below what an attack would cost.
# Under valgrind a run is 20-50 times slower and the RSS measured is
# valgrind's: no RSS bound.
KIND = build_kind()
TIME_LIMIT = {"san": 60, "valgrind": 900}.get(KIND, 20)
RSS_LIMIT_MB = {"san": 1024, "valgrind": float("inf")}.get(KIND, 256)


def run_measured(env, *args, input=None, now=None, timeout=120):
    """Run inkflow (at time now, if given); return (returncode, stdout,
    stderr, seconds)."""
    e = dict(os.environ)
    if now is not None:
        e["INKFLOW_NOW"] = str(now)
    t0 = time.monotonic()
    p = subprocess.Popen([INKFLOW, "-q", "-c", env.conf] + list(args), env=e,
                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("inkflow %s took more than %d s" % (" ".join(args), timeout))
    secs = time.monotonic() - t0
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), secs


def run_rss(env, *args, feed=None, quiet=True, timeout=120):
    """Run inkflow; feed(pipe), if given, writes its stdin from a thread.
    Returns (rc, stdout, stderr, seconds, max RSS in MB), the RSS measured
    by wait4 on that one process."""
    rc, out, err, secs, _, maxrss = run_memory(
        [INKFLOW] + (["-q"] if quiet else []) + ["-c", env.conf] + list(args), feed=feed,
        timeout=timeout)
    return rc, out.decode(errors="replace"), err.decode(errors="replace"), secs, maxrss


def security_lines(stderr):
    return [l for l in stderr.splitlines() if "event=security" in l]


def reply(task_mail, frm, text, to=None, subject=None):
    """A reply as a mail program makes it: to the Reply-To, quoting the task."""
    quoted = "\n".join("> " + l for l in body_text(task_mail).splitlines()[:20])
    body = "%s\n\nW dniu 27.11.2026 o 10:15, BMT Druk pisze:\n%s\n" % (text, quoted)
    return make_mail(frm, subject or "Re: " + str(task_mail["Subject"]), body,
                     to=to or str(task_mail["Reply-To"]).strip("<>"),
                     headers={"In-Reply-To": task_mail["Message-ID"]})


# -- the token format of src/token.c, written again from its description ---
B32 = "abcdefghijklmnopqrstuvwxyz234567"


def b32_num(v, w):
    return "".join(B32[(v >> (5 * (w - 1 - i))) & 31] for i in range(w))


def b32_val(s):
    v = 0
    for c in s:
        v = v << 5 | B32.index(c)
    return v


def token_fields(tok):
    """(task, user, actions, hours) of a v1 token."""
    m = re.fullmatch(r"t(\d+)-([a-z2-7]{33})", tok)
    assert m, tok
    tail = m.group(2)
    return (int(m.group(1)), b32_val(tail[0:5]), b32_val(tail[5:12]), b32_val(tail[12:17]))


def token_make(key, task, user, actions, hours):
    msg = (b"inkflow-token-v1\0" + task.to_bytes(8, "big") + user.to_bytes(8, "big")
           + actions.to_bytes(4, "big") + hours.to_bytes(8, "big"))
    d = hmac.new(key, msg, hashlib.sha256).digest()[:10]
    mac = b32_num(int.from_bytes(d[:5], "big"), 8) + b32_num(int.from_bytes(d[5:], "big"), 8)
    return "t%d-%s%s%s%s" % (task, b32_num(user, 5), b32_num(actions, 7), b32_num(hours, 5), mac)


def with_token(addr, token):
    local, dom = addr.split("@")
    return "%s+%s@%s" % (local, token, dom)


class Tokens(unittest.TestCase):
    """A rep's task mail carries a signed Reply-To; only that works, only for
    her, only while the task is open and the token current."""

    def setUp(self):
        self.env = Env()
        self.env.init()
        self.env.put(make_mail("Ola <%s>" % CLIENT, "Banery", "Prosimy o wycenę"))
        self.env.once()
        self.task = self.last_to(REP, "Przygotuj")
        self.token = str(self.task["Reply-To"]).strip("<>").split("+", 1)[1].split("@")[0]
        with open(os.path.join(self.env.data, "hmac.key"), "rb") as f:
            self.key = f.read()

    def tearDown(self):
        self.env.close()

    def last_to(self, addr, contains):
        ms = [m for m in self.env.sent_to(addr) if contains in str(m["Subject"])]
        self.assertTrue(ms, "no mail to %s with %r" % (addr, contains))
        return ms[-1]

    def once(self, now=None):
        rc, out, err, _ = run_measured(self.env, "run", "--once", now=now)
        self.assertEqual(rc, 0, err)
        return err

    def unchanged(self):
        """Nothing the commands could have done happened."""
        env = self.env
        self.assertEqual(env.sql("SELECT count(*) FROM calculations"), [(0,)])
        self.assertEqual(env.sql("SELECT state FROM projects WHERE id=1"), [("calculation",)])
        self.assertEqual(env.sql("SELECT status FROM tasks WHERE id=1"), [("open",)])
        self.assertEqual(env.sql("SELECT count(*) FROM events WHERE kind IN "
                                 "('note','submitted','approved','calculation')"), [(0,)])

    def refused(self, n):
        rows = self.env.sql("SELECT reason FROM messages WHERE status='refused' ORDER BY id")
        self.assertEqual(len(rows), n, rows)
        return [r[0] for r in rows]

    def send(self, frm, to, text, subject="Re: [INK-1] SUBMIT"):
        self.env.put(make_mail(frm, subject, text, to=to))

    def test_python_token_matches_the_program(self):
        # The forgeries below are only meaningful if this spelling of the
        # format is the program's: with the right key it reproduces the token.
        self.assertEqual(token_make(self.key, *token_fields(self.token)), self.token)

    def test_forged_tokens_refused(self):
        task, user, actions, hours = token_fields(self.token)
        forged = [
            # well-formed, every action bit, signed with a guessed key
            token_make(b"\0" * 32, task, user, 0x7fffffff, hours),
            token_make(b"inkflow" * 4 + b"abcd", task, user, actions, hours),
            # a random MAC in an otherwise genuine token
            self.token[:-16] + "abcdefghijklmnop",
        ]
        for tok in forged:
            self.send(REP, with_token("biuro@bmt.example", tok),
                      "NOTE forged\nBAN-440 1 200x100cm\nSUBMIT")
        # the body fallback, forged
        self.send(REP, "biuro@bmt.example",
                  "SUBMIT\n\ninkflow-token: %s\n" % forged[0])
        # not a token at all, and one far too long
        self.send(REP, "biuro+t1-hello@bmt.example", "SUBMIT")
        self.send(REP, with_token("biuro@bmt.example", "t1-" + "a" * 300), "SUBMIT")
        err = self.once()
        reasons = self.refused(6)
        self.assertEqual(sum("does not verify" in r for r in reasons), 4, reasons)
        self.assertEqual(sum("malformed token" in r for r in reasons), 1, reasons)
        # a 300-character local part is no address the parser keeps: the
        # mail is then a command without a token, refused all the same
        self.assertIn(reasons[5], ("malformed token", "command without a task token"))
        log = security_lines(err)
        self.assertEqual(len(log), 6, err)
        self.assertTrue(all("from=" + REP in l for l in log), log)
        self.unchanged()
        # the rep is told plainly, within the automatic-mail limit
        # (auto-replies-per-hour="5", her task mail counted): no mail storm
        answers = [m for m in self.env.sent_to(REP) if "nie zostało wykonane" in str(m["Subject"])]
        self.assertEqual(len(answers), 4)
        self.assertEqual(len(self.env.sent_to(REP)), 5)
        self.assertNotIn(self.token, "".join(m.raw.decode() for m in answers))

    def test_tampered_tokens_refused(self):
        task, user, actions, hours = token_fields(self.token)
        mac = self.token[-16:]
        tampered = [
            # the genuine MAC on other claims: another task, all actions,
            # another user, a later expiry
            "t%d-%s%s%s%s" % (task + 1, b32_num(user, 5), b32_num(actions, 7),
                              b32_num(hours, 5), mac),
            "t%d-%s%s%s%s" % (task, b32_num(user, 5), b32_num(0x7fffffff, 7),
                              b32_num(hours, 5), mac),
            "t%d-%s%s%s%s" % (task, b32_num(user + 1, 5), b32_num(actions, 7),
                              b32_num(hours, 5), mac),
            "t%d-%s%s%s%s" % (task, b32_num(user, 5), b32_num(actions, 7),
                              b32_num(hours + 24 * 365, 5), mac),
            # one character of the MAC
            self.token[:-1] + ("a" if self.token[-1] != "a" else "b"),
        ]
        for tok in tampered:
            self.send(REP, with_token("biuro@bmt.example", tok), "BAN-440 1 200x100cm\nSUBMIT")
        err = self.once()
        reasons = self.refused(5)
        self.assertTrue(all("does not verify (forged or altered)" in r for r in reasons), reasons)
        self.assertEqual(len(security_lines(err)), 5, err)
        self.unchanged()
        # the genuine token, upper-cased as some MTAs do, still works: the
        # refusals above came from the tampering, not from the path
        self.send(REP, with_token("biuro@bmt.example", self.token.upper()),
                  "BAN-440 1 200x100cm\nSUBMIT")
        self.once()
        self.assertEqual(self.env.sql("SELECT state FROM projects WHERE id=1"), [("offer",)])

    def test_expired_token_refused(self):
        expires = token_fields(self.token)[3] * 3600
        self.assertEqual(self.env.sql("SELECT token_expires <= ?1 FROM tasks WHERE id=1",
                                      expires), [(1,)])
        self.env.put(reply(self.task, REP, "BAN-440 1 200x100cm\nSUBMIT"))
        err = self.once(now=expires)  # the first second it is no longer valid
        self.assertEqual(self.refused(1), ["token expired"])
        log = security_lines(err)
        self.assertEqual(len(log), 1, err)
        self.assertIn('reason="token expired"', log[0])
        self.unchanged()
        self.assertIn("Link wygasł", body_text(self.last_to(REP, "nie zostało wykonane")))
        # one second earlier the same reply acts
        self.env.put(reply(self.task, REP, "BAN-440 1 200x100cm\nSUBMIT"))
        self.once(now=expires - 1)
        self.assertEqual(self.env.sql("SELECT state FROM projects WHERE id=1"), [("offer",)])

    def test_replayed_token_changes_nothing(self):
        env = self.env
        first = reply(self.task, REP, "BAN-440 1 200x100cm\nSUBMIT")  # 78 zł: approved at once
        env.put(first)
        env.once()
        self.assertEqual(env.sql("SELECT state FROM projects WHERE id=1"), [("offer",)])
        before = env.sql("SELECT count(*) FROM events")[0][0]
        calcs = env.sql("SELECT id, version, status FROM calculations")
        sent = len(env.sent())
        # the same mail again (a second delivery), and a new mail with the
        # spent token and other lines
        env.put(first)
        env.put(reply(self.task, REP, "BAN-440 500 300x100cm\nSUBMIT"))
        err = self.once()
        self.assertEqual(env.sql("SELECT calculations.id, version, status FROM calculations"),
                         calcs)
        self.assertEqual(env.sql("SELECT state FROM projects WHERE id=1"), [("offer",)])
        self.assertEqual(env.sql("SELECT status, result FROM tasks WHERE id=1"),
                         [("done", "SUBMIT")])
        # the spent link is answered with who did it; the duplicate is not
        spent = self.last_to(REP, "Już wykonane")
        self.assertIn("SUBMIT", body_text(spent))
        self.assertEqual(len(env.sent()), sent + 1)
        added = env.sql("SELECT kind FROM events WHERE id > ?1", before)
        self.assertNotIn(("submitted",), added)
        self.assertNotIn(("calculation",), added)
        statuses = env.sql("SELECT status FROM messages ORDER BY id")[-1:]
        self.assertEqual(statuses, [("processed",)])
        self.assertEqual(env.sql("SELECT reason FROM messages ORDER BY id DESC LIMIT 1"),
                         [("command on task 1: nothing done",)])
        self.assertEqual(security_lines(err), [])

    def test_someone_elses_token_refused(self):
        env = self.env
        # the supervisor, another rep and the client use Anna's link
        env.put(reply(self.task, SUP, "BAN-440 1 200x100cm\nSUBMIT"))
        env.put(reply(self.task, OTHER_REP, "NOTE mine now"))
        env.put(reply(self.task, CLIENT, "BAN-440 1 200x100cm\nSUBMIT"))
        err = self.once()
        reasons = self.refused(3)
        uid = env.sql("SELECT id FROM users WHERE login='a.nowak'")[0][0]
        for who, r in zip((SUP, OTHER_REP, CLIENT), reasons):
            self.assertEqual(r, "token of user %d for task 1 used by %s" % (uid, who))
        log = security_lines(err)
        self.assertEqual(len(log), 3, err)
        self.assertIn("from=" + CLIENT, log[2])
        self.unchanged()
        self.assertIn("należy do innej osoby", body_text(self.last_to(SUP, "nie zostało")))
        self.assertIn("należy do innej osoby", body_text(self.last_to(OTHER_REP, "nie zostało")))
        # no answer to a non-staff sender: no backscatter to forged addresses
        self.assertEqual(len(env.sent_to(CLIENT)), 1)  # the acknowledgement only

    def test_command_outside_the_tokens_actions_refused(self):
        # Anna's token allows SUBMIT and NOTE; she cannot approve with it
        self.env.put(reply(self.task, REP, "APPROVE"))
        err = self.once()
        self.assertEqual(self.refused(1), ["command outside the token's actions"])
        self.assertEqual(len(security_lines(err)), 1)
        self.unchanged()

    def test_spoofed_from_without_token(self):
        env = self.env
        # staff addresses with a valid-looking command, no token
        self.send(REP, "biuro@bmt.example", "BAN-440 1 200x100cm\nSUBMIT")
        self.send(SUP, "biuro@bmt.example", "APPROVE", subject="[INK-1] APPROVE")
        self.send(BOK, "biuro@bmt.example", "ASSIGN p.kowalczyk", subject="Re: [INK-1] ASSIGN")
        # the display name and Reply-To of staff do not help either
        env.put(make_mail("Anna Nowak <anna.nowak@bmt.example.evil.example>", "Re: [INK-1] SUBMIT",
                          "BAN-440 1 200x100cm\nSUBMIT",
                          headers={"Reply-To": REP, "Sender": REP}))
        err = self.once()
        rows = env.sql("SELECT from_addr, status, reason FROM messages WHERE id > 1 ORDER BY id")
        self.assertEqual(rows[:3], [(a, "refused", "command without a task token")
                                    for a in (REP, SUP, BOK)])
        # the outsider is not staff: a client mail with someone else's tag
        self.assertEqual(rows[3][1], "held")
        self.assertEqual(len(security_lines(err)), 3, err)
        self.unchanged()
        self.assertEqual(env.sql("SELECT owner_id FROM projects WHERE id=1"),
                         env.sql("SELECT id FROM users WHERE login='a.nowak'"))
        self.assertEqual(env.sent_to("evil.example"), [])

    def test_someone_elses_tag_held_not_attached(self):
        env = self.env
        hist = env.sql("SELECT count(*) FROM events WHERE project_id=1")[0][0]
        env.put(make_mail("Tomasz Lis <%s>" % OUTSIDER, "Re: [INK-1] Banery",
                          "Proszę przesłać mi ofertę i dane klienta."))
        # a contact of another client, with a tag of this one
        env.put(make_mail("jan@agencja-wektor.pl", "Oklejenie", "x"))
        env.once()
        env.put(make_mail("jan@agencja-wektor.pl", "AW: [INK-1] Banery", "y"))
        env.once()
        held = env.sql("SELECT from_addr, project_id, reason FROM messages WHERE status='held'"
                       " ORDER BY id")
        self.assertEqual([(h[0], h[1]) for h in held], [(OUTSIDER, None),
                                                        ("jan@agencja-wektor.pl", None)])
        for h in held:
            self.assertIn("not a contact of that project's client", h[2])
        # nothing of it in project 1: no event, no message, no mail to them
        self.assertEqual(env.sql("SELECT count(*) FROM events WHERE project_id=1 AND "
                                 "(text LIKE '%konkurencja%' OR text LIKE '%wektor%')"), [(0,)])
        self.assertEqual(env.sql("SELECT count(*) FROM messages WHERE project_id=1"), [(1,)])
        self.assertEqual(env.sent_to(OUTSIDER), [])
        self.assertEqual(env.sql("SELECT count(*) FROM events WHERE project_id=1")[0][0], hist)
        # BOK gets each to review
        self.assertEqual(env.sql("SELECT count(*) FROM tasks WHERE kind='review-held'"), [(2,)])
        self.assertEqual(len([m for m in env.sent_to(BOK) if m["Reply-To"]]), 2)

    def test_thread_reply_from_outsider_held(self):
        """Routing by In-Reply-To/References checks the sender as the subject
        tag does: a Message-ID of the thread travels on every Cc and forward,
        so an outsider quoting it is held for BOK, and the owner is not told
        "the client answered"; a colleague from the client's own domain
        joins as a new contact."""
        env = self.env
        inquiry = env.sql("SELECT message_id FROM messages WHERE id=1")[0][0]
        ack = env.sent_to(CLIENT)[0]
        env.put(make_mail(OUTSIDER, "Re: Banery", "Proszę o dane klienta.",
                          headers={"In-Reply-To": "<%s>" % inquiry}))
        env.put(make_mail("x@gmail.com", "Re: Banery", "?",
                          headers={"References": ack["Message-ID"]}))
        env.once()
        rows = env.sql("SELECT status, project_id FROM messages WHERE id > 1 ORDER BY id")
        self.assertEqual(rows, [("held", None), ("held", None)])
        self.assertEqual(env.sql("SELECT count(*) FROM tasks WHERE kind='client-replied'"),
                         [(0,)])
        reasons = env.sql("SELECT reason FROM messages WHERE id > 1")
        self.assertTrue(all("not a contact of that project's client" in r for (r,) in reasons),
                        reasons)
        colleague = "marek@" + CLIENT.split("@")[1]
        env.put(make_mail(colleague, "Re: Banery", "Potwierdzam nakład.",
                          headers={"In-Reply-To": "<%s>" % inquiry}))
        env.once()
        self.assertEqual(env.sql("SELECT status, project_id FROM messages ORDER BY id DESC LIMIT 1"),
                         [("processed", 1)])
        self.assertEqual(env.sql("SELECT count(*) FROM contacts WHERE email=?", colleague), [(1,)])

    def test_subject_tag_from_colleague_and_bare_number(self):
        """The [INK-n] tag counts from a colleague at the client's own domain
        (reply-all to the acknowledgement), as a reply in the thread does;
        "INK-n" typed without brackets counts only from the project's
        people, and from anyone else it is just text."""
        env = self.env
        colleague = "magda@" + CLIENT.split("@")[1]
        env.put(make_mail(colleague, "RE: Banery [INK-1]", "Dołączam logo."))
        env.once()
        self.assertEqual(env.sql("SELECT status, project_id FROM messages ORDER BY id DESC LIMIT 1"),
                         [("processed", 1)])
        self.assertEqual(env.sql("SELECT count(*) FROM contacts WHERE email=?", colleague), [(1,)])
        env.put(make_mail(CLIENT, "Pliki do INK-1", "W załączniku pliki."))
        env.once()
        self.assertEqual(env.sql("SELECT status, project_id FROM messages ORDER BY id DESC LIMIT 1"),
                         [("processed", 1)])
        env.put(make_mail(OUTSIDER, "Pliki do INK-1", "Nasze pliki."))
        env.once()
        rows = env.sql("SELECT status, project_id FROM messages ORDER BY id DESC LIMIT 1")
        self.assertEqual(rows[0][0], "processed")
        self.assertNotEqual(rows[0][1], 1)  # a new inquiry of its own, not INK-1
        self.assertEqual(env.sql("SELECT count(*) FROM projects"), [(2,)])


def rfc2231(name):
    """name as an RFC 2231 extended parameter value, every byte kept."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~")
    return "utf-8''" + "".join(chr(b) if chr(b) in safe else "%%%02X" % b
                               for b in name.encode("utf-8"))


def multipart(frm, subject, parts, msgid=None, body="W załączeniu pliki."):
    """parts: (headers, payload bytes) for each attachment, base64-encoded."""
    out = ["From: %s\nTo: biuro@bmt.example\nSubject: %s\n"
           "Date: Fri, 27 Nov 2026 09:15:00 +0100\nMessage-ID: %s\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"=b=\"\n\n"
           "--=b=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
           "%s\n" % (frm, subject, msgid or "<%s@test.example>" % os.urandom(6).hex(), body)]
    for hdrs, data in parts:
        out.append("--=b=\n%s\nContent-Transfer-Encoding: base64\n\n%s\n"
                   % (hdrs, base64.encodebytes(data).decode()))
    out.append("--=b=--\n")
    return "".join(out).encode("utf-8")


def tree(top):
    """Every path under top (files, directories, links), relative."""
    out = set()
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(root, n), top))
    return out


class Files(unittest.TestCase):
    """Attachment names are the sender's to choose; the names on disk are not."""

    def test_hostile_attachment_names(self):
        env = Env()
        try:
            env.init()
            canary = os.path.join(env.dir, "canary")
            os.mkdir(canary)
            hostile = [
                "../../../../canary/up.txt",          # from data/att/xx/<sha>/ to the canary
                "../../../../../../../../../../../../.." + canary + "/deep.txt",
                canary + "/absolute.txt",
                "..\\..\\..\\..\\canary\\backslash.txt",
                "..", ".", "", "/", "./../.",
                "ctl\x01\x07\x1b[31m\x7f\x1b]0;x\x07.pdf",
                "crlf\r\nX-Evil: 1.pdf",
                "nul\x00byte.pdf",
                "x" * 10000 + ".pdf",
                "ż" * 5000 + ".pdf",                   # 10,000 bytes, cut inside UTF-8?
                ".hidden", "-rf", "CON", "a/b/c.pdf",
            ]
            parts = []
            for i, n in enumerate(hostile):
                parts.append(("Content-Type: application/octet-stream\n"
                              "Content-Disposition: attachment; filename*=%s" % rfc2231(n),
                              b"payload %d\n" % i))
            env.put(multipart("Ola <ola@firma-pliki.pl>", "Pliki", parts))
            # the way mail programs write names: quoted, and RFC 2047 in name=
            plain = [
                ("Content-Type: application/pdf; name=\"../../../../canary/q1.pdf\"\n"
                 "Content-Disposition: attachment; filename=\"../../../../canary/q1.pdf\"",
                 b"%PDF-1.4 q1\n"),
                ("Content-Type: application/pdf; name=\"=?utf-8?q?=2E=2E=2F=2E=2E=2F=2E=2E=2F"
                 "=2E=2E=2Fcanary=2Fq2=0D=0A.pdf?=\"", b"%PDF-1.4 q2\n"),
                ("Content-Type: image/png\nContent-Disposition: attachment; filename=%s/q3.png"
                 % canary, b"\x89PNG q3\n"),
            ]
            env.put(multipart("jan@firma-pliki2.pl", "Pliki 2", plain))
            before = tree(env.dir)
            rc, out, err, secs = run_measured(env, "run", "--once")
            self.assertEqual(rc, 0, err)
            self.assertEqual(os.listdir(canary), [])
            # nothing new outside the data directory and the Maildirs
            new = tree(env.dir) - before
            outside = [p for p in new if not p.startswith(("data" + os.sep, "mailboxes" + os.sep))]
            self.assertEqual(outside, [])
            self.assertEqual(env.sql("SELECT status FROM messages ORDER BY id"),
                             [("processed",), ("processed",)])
            rows = env.sql("SELECT message_id, filename, path, sha256, size FROM attachments"
                           " ORDER BY id")
            self.assertEqual(len(rows), len(hostile) + len(plain))
            data = os.path.realpath(env.data)
            payloads = [p[1] for p in parts + plain]
            for (msg, fname, path, sha, size), payload in zip(rows, payloads):
                full = os.path.join(env.data, path)
                self.assertTrue(os.path.realpath(full).startswith(data + os.sep), path)
                self.assertFalse(os.path.islink(full), path)
                with open(full, "rb") as f:
                    self.assertEqual(f.read(), payload)
                self.assertEqual(hashlib.sha256(payload).hexdigest(), sha)
                for name in (fname, os.path.basename(path)):
                    self.assertNotIn(name, ("", ".", ".."))
                    self.assertNotIn("/", name)
                    self.assertNotIn("\\", name)
                    self.assertFalse(any(ord(c) < 0x20 or ord(c) == 0x7f for c in name),
                                     repr(name[:80]))
                    self.assertLessEqual(len(name.encode("utf-8")), 255)
                # the path is ours: the attachment's hash, then the name
                self.assertTrue(path.startswith("att/%s/%s/" % (sha[:2], sha)), path)
            # every stored file name on disk is valid UTF-8 (no cut characters)
            for p in tree(env.data):
                p.encode("utf-8")
        finally:
            env.close()


# The headers inkflow writes; anything else in an outgoing mail came from input.
OUR_HEADERS = {"from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to",
               "references", "auto-submitted", "x-auto-response-suppress", "x-inkflow-loop",
               "x-inkflow-project", "mime-version", "content-type", "content-transfer-encoding"}


class Headers(unittest.TestCase):
    """CR, LF and NUL in what clients write (names, subjects) never start a
    header of their own in the mail inkflow sends."""

    def test_no_header_injection(self):
        env = Env()
        try:
            env.init()
            q = lambda s: "=?utf-8?b?%s?=" % base64.b64encode(s.encode("utf-8")).decode()
            attacks = [
                # (From, Subject) as they stand in the raw message
                ("%s <eve1@firma-a.pl>" % q("Eve\r\nBcc: v1@evil.example\r\nX-Evil: 1"),
                 q("Baner\r\nBcc: v2@evil.example\r\n\r\n--body")),
                ("%s <eve2@firma-b.pl>" % q("Eve\x00\nBcc: v3@evil.example"),
                 q("Plakat\x00\r\nBcc: v4@evil.example\x00")),
                ('"Eve\\" <v5@evil.example>, \\"Y" <eve3@firma-c.pl>',
                 "=?iso-8859-2?q?Siatka=0ABcc=3A_v6=40evil=2Eexample?="),
                ("=?utf-8?q?Eve=0D=0ACc:_v7@evil.example?= <eve4@firma-d.pl>",
                 q("A" * 70 + "\nBcc: v8@evil.example\n" + "B" * 70)),
            ]
            for i, (frm, subj) in enumerate(attacks):
                env.put(("From: %s\nTo: biuro@bmt.example\nSubject: %s\n"
                         "Date: Fri, 27 Nov 2026 09:15:00 +0100\nMessage-ID: <inj%d@test.example>\n"
                         "\nIle kosztuje?\n" % (frm, subj, i)).encode("utf-8"))
            # raw NUL and a bare CR inside a header line
            env.put(b"From: Eve <eve5@firma-e.pl>\nTo: biuro@bmt.example\n"
                    b"Subject: Roll-up\x00\rBcc: v9@evil.example\nMessage-ID: <inj8@test.example>\n"
                    b"\nIle?\n")
            # a NUL inside the From: no address is read past it, so there is
            # no usable sender and the message waits in quarantine
            env.put(b"From: Eve\x00Bcc: v10@evil.example <eve6@firma-e.pl>\nTo: biuro@bmt.example\n"
                    b"Subject: Roll-up\nMessage-ID: <inj9@test.example>\n\nIle?\n")
            env.once()
            self.assertEqual(env.sql("SELECT status, reason FROM messages ORDER BY id"),
                             [("processed", "new inquiry")] * 5
                             + [("quarantined", "no usable From address")])
            sent = env.sent()
            self.assertGreaterEqual(len(sent), 10)  # an ack and a BOK task each
            for m in sent:
                head = m.raw.split(b"\n\n", 1)[0]
                self.assertNotIn(b"\0", head)
                self.assertNotIn(b"\r", head)
                self.assertTrue(all(b < 128 for b in head))
                for line in head.split(b"\n"):
                    if line[:1] in (b" ", b"\t"):
                        continue  # folded continuation
                    name = line.split(b":", 1)[0].decode().lower()
                    self.assertIn(name, OUR_HEADERS, line)
                names = {k.lower() for k in m.keys()}
                self.assertLessEqual(names, OUR_HEADERS)
                self.assertIsNone(m["Bcc"])
                self.assertIsNone(m["Cc"])
                self.assertIsNone(m["X-Evil"])
                self.assertEqual(len(m["To"].addresses), 1, str(m["To"]))
                self.assertNotIn("evil", m["To"].addresses[0].addr_spec)
                subj = str(m["Subject"])
                self.assertFalse(set(subj) & {"\r", "\n", "\0"}, repr(subj))
                # the body parts are still the ones we wrote
                self.assertIn(m.get_content_type(), ("multipart/alternative", "multipart/mixed"))
            # neutralised, not lost: the text is in the subject, on one line
            acks = {m["To"].addresses[0].addr_spec: m for m in sent
                    if not m["To"].addresses[0].addr_spec.endswith("@bmt.example")}
            self.assertEqual(set(acks), {"eve1@firma-a.pl", "eve2@firma-b.pl", "eve3@firma-c.pl",
                                         "eve4@firma-d.pl", "eve5@firma-e.pl"})
            self.assertIn("Bcc: v2@evil.example", str(acks["eve1@firma-a.pl"]["Subject"]))
            self.assertEqual(acks["eve3@firma-c.pl"]["To"].addresses[0].display_name,
                             'Eve" <v5@evil.example>, "Y')
            # and stored without the control characters
            for name, subj in env.sql("SELECT from_name, subject FROM messages"):
                for v in (name or "", subj or ""):
                    self.assertFalse(any(ord(c) < 0x20 for c in v), repr(v))
            self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE rcpt LIKE '%evil%'"),
                             [(0,)])
        finally:
            env.close()


SQL_BITS = "'; DROP TABLE projects; -- \" ) OR 1=1; /* */ % _ \\ `x` ;DELETE FROM messages;"


class Sql(unittest.TestCase):
    """SQL metacharacters are data: stored as written, nothing breaks."""

    def test_sql_metacharacters_stored_verbatim(self):
        env = Env()
        try:
            env.init()
            name = "Robert'); DROP TABLE clients;--"
            addr = "o'brien%_@firma-sql.pl"
            subject = "Baner 1' OR '1'='1 " + SQL_BITS
            body = "Ile? " + SQL_BITS + "\n"
            fname = "x'); DROP TABLE attachments;--%_.pdf"
            env.put(multipart('"%s" <%s>' % (name.replace("'", "'"), addr),
                              subject, [("Content-Type: application/pdf\nContent-Disposition: "
                                         "attachment; filename*=%s" % rfc2231(fname),
                                         b"%PDF-1.4\n")],
                              msgid="<'or'1'='1@firma-sql.pl>", body=body))
            # a tag that is no tag, and a real one followed by SQL
            env.put(make_mail("ola@reklama-baltyk.pl", "[INK-1' OR 1=1 --] wycena", "x"))
            env.once()
            env.put(make_mail("ola@reklama-baltyk.pl", "Re: [INK-2] '; DROP TABLE events;--",
                              "y " + SQL_BITS))
            env.once()
            p = env.sql("SELECT p.title, c.name, k.email, k.name FROM projects p"
                        " JOIN clients c ON c.id=p.client_id JOIN contacts k ON k.id=p.contact_id"
                        " WHERE p.id=1")
            self.assertEqual(p, [(subject, "firma-sql.pl", addr, name)])
            self.assertEqual(env.sql("SELECT subject, body, message_id FROM messages WHERE id=1"),
                             [(subject, body, "'or'1'='1@firma-sql.pl")])
            self.assertEqual(env.sql("SELECT filename FROM attachments"), [(fname,)])
            self.assertEqual(env.sql("SELECT title FROM projects WHERE id=2"),
                             [("[INK-1' OR 1=1 --] wycena",)])
            m3 = env.sql("SELECT status, project_id, subject, body FROM messages WHERE id=3")
            self.assertEqual(m3, [("processed", 2, "Re: [INK-2] '; DROP TABLE events;--",
                                   "y " + SQL_BITS + "\n")])
            # a rep's calculation line note and a NOTE, through her token
            task = [m for m in env.sent_to(REP) if "Przygotuj" in str(m["Subject"])][-1]
            env.put(reply(task, REP, "NOTE " + SQL_BITS))
            env.once()
            env.put(reply(task, REP, "BAN-440 1 200x100cm # " + SQL_BITS))
            env.once()
            self.assertEqual(env.sql("SELECT text FROM events WHERE kind='note'"), [(SQL_BITS,)])
            self.assertEqual(env.sql("SELECT note FROM calc_lines"), [(SQL_BITS,)])
            self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])
            tables = {r[0] for r in env.sql("SELECT name FROM sqlite_master WHERE type='table'")}
            self.assertLessEqual({"projects", "clients", "messages", "events", "attachments",
                                  "calc_lines"}, tables)
            self.assertEqual(env.sql("SELECT count(*) FROM messages"), [(5,)])
            # and what the office reads shows it as written
            show = env.json("project", "show", "1")
            self.assertEqual(show["title"], subject)
            self.assertIn(subject, env.run("project", "list").stdout.decode())
        finally:
            env.close()



CONF_FILES = ["conf/inkflow.xml", "conf/users.xml", "conf/pricelist.xml", "conf/workflow.xml"]
TEMPLATE_FILES = ["templates/pl/offer.xml", "templates/de/order.xml",
                  "templates/pl/calculation.xml"]


def poison(path, doctype, ref):
    """Put doctype after the XML declaration of path and ref (an entity
    reference) as the first content of its root element."""
    with open(path, encoding="utf-8") as f:
        t = f.read()
    decl = t.index("?>") + 2
    t = t[:decl] + "\n" + doctype + t[decl:]
    root = re.compile(r"<[A-Za-z][^>]*>").search(t, decl + len(doctype) + 1)
    # skip comments: the first tag match is the root element's start tag
    pos = root.end()
    if t[pos - 2] == "/":
        raise AssertionError("empty root in " + path)
    t = t[:pos] + ref + t[pos:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(t)


def billion_laughs():
    ents = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    for i in range(1, 10):
        ents.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10))
    return "<!DOCTYPE x [%s]>" % "".join(ents), "&lol9;"


class Xml(unittest.TestCase):
    """Configuration and layout templates refuse DTDs: no external entity is
    read, no entity expanded, in bounded time and memory."""

    @classmethod
    def setUpClass(cls):
        cls.secret_dir = Env()
        cls.secret_value = "SECRET-" + os.urandom(8).hex()
        cls.secret = os.path.join(cls.secret_dir.dir, "secret.txt")
        with open(cls.secret, "w") as f:
            f.write(cls.secret_value + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.secret_dir.close()

    def attacks(self):
        lol, lol_ref = billion_laughs()
        return [
            ("external entity", '<!DOCTYPE x [<!ENTITY s SYSTEM "file://%s">]>' % self.secret,
             "&s;"),
            ("parameter entity",
             '<!DOCTYPE x [<!ENTITY %% p SYSTEM "file://%s"> %%p;]>' % self.secret, ""),
            ("external DTD", '<!DOCTYPE x SYSTEM "file://%s">' % self.secret, ""),
            ("billion laughs", lol, lol_ref),
        ]

    def test_config_and_templates_refuse_doctype(self):
        env = Env()
        try:
            for rel in CONF_FILES + TEMPLATE_FILES:
                path = os.path.join(env.dir, rel)
                with open(path, "rb") as f:
                    good = f.read()
                for what, doctype, ref in self.attacks():
                    with self.subTest(file=rel, attack=what):
                        poison(path, doctype, ref)
                        rc, out, err, secs, rss = run_rss(env, "check-config")
                        self.assertEqual(rc, 1, err)
                        self.assertRegex(err, re.escape(path) + r":\d+: DOCTYPE is not allowed")
                        self.assertNotIn(self.secret_value, out + err)
                        self.assertNotIn("lollol", out + err)
                        self.assertNotIn(": ok", out)
                        self.assertLess(secs, TIME_LIMIT)
                        self.assertLess(rss, RSS_LIMIT_MB)
                    with open(path, "wb") as f:
                        f.write(good)
            # the same files, restored, pass: the refusals were the DOCTYPEs
            rc, out, err, _, _ = run_rss(env, "check-config")
            self.assertEqual(rc, 0, err)
        finally:
            env.close()

    def test_oversized_structures_in_config_bounded(self):
        """Within the 4 MB a file may have: one element with 100,000
        attributes (libxml2 compares them pairwise: minutes), 500,000
        unknown elements (an error each), nesting 100,000 deep."""
        env = Env()
        try:
            users = os.path.join(env.dir, "conf", "users.xml")
            with open(users, "rb") as f:
                good = f.read()
            crowded = "<user " + " ".join("a%d='x'" % i for i in range(100000)) + "/>"
            for what, ins, want in (
                    ("attributes", crowded, r"users\.xml:\d+: an element with more than 64 "
                                            r"attributes \(the file is not read\)"),
                    ("elements", "<bogus/>" * 500000, r"users\.xml: \d+ more errors not listed"),
                    ("depth", "<user>" * 100000 + "</user>" * 100000,
                     r"users\.xml:\d+: XML error: Excessive depth")):
                with self.subTest(what=what):
                    text = good.decode("utf-8")
                    at = re.search(r"<users\b[^>]*>", text).end()
                    with open(users, "w", encoding="utf-8") as f:
                        f.write(text[:at] + ins + text[at:])
                    rc, out, err, secs, rss = run_rss(env, "check-config")
                    self.assertEqual(rc, 1, err[-2000:])
                    self.assertRegex(err, want)
                    self.assertLessEqual(len(err.splitlines()), 202)
                    self.assertLess(secs, TIME_LIMIT)
                    self.assertLess(rss, RSS_LIMIT_MB)
            with open(users, "wb") as f:
                f.write(good)
            self.assertEqual(run_rss(env, "check-config")[0], 0)
        finally:
            env.close()

    def test_daemon_refuses_poisoned_config(self):
        lol, ref = billion_laughs()
        for rel in CONF_FILES:
            with self.subTest(file=rel):
                env = Env()
                try:
                    env.put(make_mail(CLIENT, "Banery", "x"))
                    poison(os.path.join(env.dir, rel), lol, ref)
                    for args in (("init",), ("run", "--once")):
                        rc, out, err, secs, rss = run_rss(env, *args)
                        self.assertNotEqual(rc, 0)
                        self.assertIn(rel.split("/")[1] + ":", err)
                        self.assertIn("DOCTYPE is not allowed", err)
                        self.assertLess(secs, TIME_LIMIT)
                        self.assertLess(rss, RSS_LIMIT_MB)
                    # nothing was read or created
                    self.assertEqual(len(env.inbox_unseen()), 1)
                    self.assertFalse(os.path.exists(os.path.join(env.data, "inkflow.db")))
                finally:
                    env.close()

    def test_template_poisoned_after_start_refused_at_render(self):
        env = Env()
        try:
            env.init()
            env.put(make_mail(CLIENT, "Banery", "x"))
            env.once()
            poison(os.path.join(env.dir, "templates/pl/offer.xml"),
                   '<!DOCTYPE x [<!ENTITY s SYSTEM "file://%s">]>' % self.secret, "&s;")
            env.run("calc", "add", "1", "--as", "a.nowak", input=b"BAN-440 1 200x100cm\n")
            # under the auto-approve limit: the offer PDF is due at once
            p = env.run("calc", "submit", "1", "--as", "a.nowak", check=False)
            self.assertEqual(p.returncode, 1)
            err = p.stderr.decode()
            self.assertIn("event=document_failed", err)
            self.assertIn("offer.xml:2: DOCTYPE is not allowed", err)
            self.assertNotIn(self.secret_value, err + p.stdout.decode())
            # the step was undone: no document, no offer mail, state kept
            self.assertEqual(env.sql("SELECT count(*) FROM documents"), [(0,)])
            self.assertEqual(env.sql("SELECT state FROM projects"), [("calculation",)])
            self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE kind='offer'"), [(0,)])
            for root, _, files in os.walk(env.data):
                for n in files:
                    with open(os.path.join(root, n), "rb") as f:
                        self.assertNotIn(self.secret_value.encode(), f.read())
        finally:
            env.close()



def raw_mail(frm, subject, rest, msgid=None):
    return ("From: %s\nTo: biuro@bmt.example\nSubject: %s\nDate: Fri, 27 Nov 2026 09:15:00 +0100\n"
            "Message-ID: %s\n%s" % (frm, subject, msgid or "<%s@test.example>" % os.urandom(6).hex(),
                                    rest)).encode("utf-8")


def disk_bytes(top):
    """Blocks actually used under top (a sparse file counts what it holds)."""
    n = 0
    for root, _, files in os.walk(top):
        for f in files:
            n += os.lstat(os.path.join(root, f)).st_blocks * 512
    return n


class Limits(unittest.TestCase):
    """Messages built to exhaust the parser are quarantined with the reason,
    in bounded time and memory, and the next message is processed."""

    def setUp(self):
        self.env = Env()
        self.env.init()

    def tearDown(self):
        self.env.close()

    def run_once(self):
        rc, out, err, secs, rss = run_rss(self.env, "run", "--once", quiet=False)
        self.assertEqual(rc, 0, err)
        self.assertLess(secs, TIME_LIMIT)
        self.assertLess(rss, RSS_LIMIT_MB)
        return err

    def after(self):
        """The ordinary inquiry put after the attacks went through."""
        env = self.env
        self.assertEqual(env.inbox_unseen(), [])
        self.assertEqual(env.sql("SELECT status FROM messages WHERE from_addr=?1", "ok@firma-ok.pl"),
                         [("processed",)])
        self.assertEqual(len(env.sent_to("ok@firma-ok.pl")), 1)

    def quarantined(self, err, n):
        rows = self.env.sql("SELECT id, reason FROM messages WHERE status='quarantined' ORDER BY id")
        self.assertEqual(len(rows), n, rows)
        for mid, reason in rows:
            self.assertTrue(reason)
            line = [l for l in err.splitlines() if re.search(r"\bmsg=%d\b" % mid, l)
                    and "quarantined" in l]
            self.assertTrue(line, "no log line for msg=%d in\n%s" % (mid, err))
            self.assertIn(reason, line[0].replace('\\"', '"'))
        return [r[1] for r in rows]

    def test_parts_and_nesting(self):
        env = self.env
        parts = "".join("--p\nContent-Type: text/plain\n\npart %d\n" % i for i in range(100000))
        env.put(raw_mail("parts@firma-a.pl", "100000 parts",
                         "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=p\n\n"
                         + parts + "--p--\n"))
        n = 10000
        nest = "".join("--n%d\nContent-Type: multipart/mixed; boundary=n%d\n\n" % (i, i + 1)
                       for i in range(n))
        env.put(raw_mail("nest@firma-b.pl", "nested 10000",
                         "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=n0\n\n"
                         + nest + "--n%d\nContent-Type: text/plain\n\ndeep\n" % n
                         + "".join("--n%d--\n" % i for i in range(n, -1, -1))))
        env.put(raw_mail("rfc822@firma-c.pl", "rfc822 10000",
                         "MIME-Version: 1.0\n" + "Content-Type: message/rfc822\n\n" * n
                         + "Content-Type: text/plain\n\nx\n"))
        # just over the configured depth (max-depth="20"), under every guard
        nest = "".join("--d%d\nContent-Type: multipart/mixed; boundary=d%d\n\n" % (i, i + 1)
                       for i in range(30))
        env.put(raw_mail("depth@firma-d.pl", "nested 30",
                         "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=d0\n\n"
                         + nest + "--d30\nContent-Type: text/plain\n\ndeep\n--d30--\n"))
        env.put(make_mail("ok@firma-ok.pl", "Baner", "Ile?"))
        err = self.run_once()
        reasons = self.quarantined(err, 4)
        self.assertRegex(reasons[0], r"part count .* exceeds limit 500")
        self.assertIn("MIME structure too complex", reasons[1])
        self.assertIn("MIME structure too complex", reasons[2])
        self.assertRegex(reasons[3], r"(depth|nest)")
        self.after()
        # nothing was made of them: no project, no client, no answer
        self.assertEqual(env.sql("SELECT count(*) FROM projects"), [(1,)])
        for a in ("parts@firma-a.pl", "nest@firma-b.pl", "rfc822@firma-c.pl", "depth@firma-d.pl"):
            self.assertEqual(env.sent_to(a), [])

    def test_two_gigabyte_message_and_header_line(self):
        env = self.env
        # 2 GB: a header line that never ends (a sparse file: no disk used)
        name = env.put(raw_mail("huge@firma-e.pl", "x", "X-Long: "))
        with open(os.path.join(env.inbox, "new", name), "r+b") as f:
            f.truncate(2 * 1024 ** 3 + 1)
        # a 100 KB header line and a 1 MB header, under the message limit
        env.put(raw_mail("line@firma-f.pl", "A" * 100000, "\nbody\n"))
        env.put(raw_mail("head@firma-g.pl", "x", ("X-Filler: " + "B" * 900 + "\n") * 1200
                         + "\nbody\n"))
        # sizes that lie: ignored, the real ones count
        env.put(raw_mail("lies@firma-h.pl", "Rozmiary",
                         "Content-Length: 2147483648\nMIME-Version: 1.0\n"
                         "Content-Type: multipart/mixed; boundary=b\n\n"
                         "--b\nContent-Type: text/plain\nContent-Length: 99999999999999999999\n\n"
                         "Ile?\n--b\nContent-Type: application/pdf; name=a.pdf\n"
                         "Content-Disposition: attachment; filename=a.pdf; size=2147483648\n"
                         "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n"))
        env.put(make_mail("ok@firma-ok.pl", "Baner", "Ile?"))
        data_before = disk_bytes(env.data)
        err = self.run_once()
        reasons = self.quarantined(err, 3)
        self.assertEqual(reasons[0], "message size %d exceeds the limit of 52428800 bytes;"
                         " left in the source mailbox" % (2 * 1024 ** 3 + 1))
        self.assertRegex(reasons[1], r"header field length 100\d+ exceeds limit 65536")
        self.assertRegex(reasons[2], r"header size \d+ exceeds limit 262144")
        lies = env.sql("SELECT status FROM messages WHERE from_addr='lies@firma-h.pl'")
        self.assertEqual(lies, [("processed",)])
        self.assertEqual(env.sql("SELECT filename, size FROM attachments"), [("a.pdf", 9)])
        self.after()
        # the 2 GB were not copied anywhere
        self.assertLess(disk_bytes(env.data) - data_before, 16 * 1024 * 1024)

    def test_deliver_refuses_two_gigabytes_on_stdin(self):
        env = self.env
        head = raw_mail("huge@firma-e.pl", "x", "X-Long: ")
        chunk = b"A" * (1 << 20)

        def feed(pipe):
            pipe.write(head)
            for _ in range(2048):
                pipe.write(chunk)
        rc, out, err, secs, rss = run_rss(env, "deliver", feed=feed)
        # refused for good (the MTA returns it), not "try later" (75), which
        # would have the MTA offer the same 2 GB again and again
        self.assertNotIn(rc, (0, 75))
        self.assertIn("exceeds the limit of 52428800", err)
        self.assertLess(secs, TIME_LIMIT * 2)
        self.assertLess(rss, RSS_LIMIT_MB)
        self.assertEqual(env.sql("SELECT count(*) FROM messages"), [(0,)])
        self.assertLess(disk_bytes(env.data), 16 * 1024 * 1024)
        # and the next message is delivered
        p = env.run("deliver", input=make_mail("ok@firma-ok.pl", "Baner", "Ile?"))
        self.assertEqual(p.returncode, 0)
        self.after()


if __name__ == "__main__":
    unittest.main()
