"""A throwaway inkflow installation for one test: a copy of conf/ and
templates/, empty Maildirs, and helpers to feed mail and read results."""
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INKFLOW = os.environ.get("INKFLOW", os.path.join(TOP, "build", "inkflow"))
CORPUS = os.path.join(TOP, "tests", "corpus")


class Env:
    def __init__(self, conf_edit=None):
        self.dir = tempfile.mkdtemp(prefix="inkflow-test-")
        shutil.copytree(os.path.join(TOP, "conf"), os.path.join(self.dir, "conf"))
        shutil.copytree(os.path.join(TOP, "templates"),
                        os.path.join(self.dir, "templates"))
        self.conf = os.path.join(self.dir, "conf", "inkflow.xml")
        if conf_edit:
            with open(self.conf, encoding="utf-8") as f:
                text = f.read()
            with open(self.conf, "w", encoding="utf-8") as f:
                f.write(conf_edit(text))
        self.inbox = os.path.join(self.dir, "mailboxes", "inbox")
        self.outbox = os.path.join(self.dir, "mailboxes", "outbox")
        self.data = os.path.join(self.dir, "data")
        for box in (self.inbox, self.outbox):
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(box, sub), exist_ok=True)
        self.seq = 0

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- running -------------------------------------------------------
    def run(self, *args, check=True, input=None, timeout=120):
        p = subprocess.run([INKFLOW, "-q", "-c", self.conf] + list(args),
                           input=input, capture_output=True, timeout=timeout * SLOW)
        if check and p.returncode != 0:
            raise AssertionError("inkflow %s exited %d\nstdout: %s\nstderr: %s" % (
                " ".join(args), p.returncode, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace")))
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def init(self):
        return self.run("init")

    def once(self):
        return self.run("run", "--once")

    # -- mail in -------------------------------------------------------
    def put(self, raw, name=None):
        """Deliver raw (bytes or str) into the inbox's new/ like an MDA."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        self.seq += 1
        name = name or "%010d.M%dP1.testhost" % (1700000000 + self.seq, self.seq)
        tmp = os.path.join(self.inbox, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(raw)
        os.rename(tmp, os.path.join(self.inbox, "new", name))
        return name

    def put_corpus(self, fname):
        with open(os.path.join(CORPUS, fname), "rb") as f:
            return self.put(f.read(), name=None)

    def inbox_unseen(self):
        new = os.listdir(os.path.join(self.inbox, "new"))
        cur = [n for n in os.listdir(os.path.join(self.inbox, "cur"))
               if "S" not in n.split(":2,")[-1]]
        return new + cur

    # -- mail out ------------------------------------------------------
    def sent(self):
        """Every mail in the outbox Maildir, parsed, oldest first."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.outbox, sub)
            for n in sorted(os.listdir(d)):
                with open(os.path.join(d, n), "rb") as f:
                    raw = f.read()
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                msg.raw = raw
                out.append(msg)
        return out

    def sent_to(self, addr):
        return [m for m in self.sent() if addr.lower() in str(m["To"]).lower()]

    def sql(self, query, *params):
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data, "inkflow.db"))
        try:
            return db.execute(query, params).fetchall()
        finally:
            db.close()



def build_kind():
    """What INKFLOW is: "valgrind" (the script make valgrind runs it
    through), "san" (built with the sanitizers) or "plain"."""
    try:
        with open(INKFLOW, "rb") as f:
            data = f.read()
    except OSError:
        return "plain"
    if data.startswith(b"#!") and b"valgrind" in data:
        return "valgrind"
    return "san" if b"__asan_init" in data else "plain"


# How many times longer a step may take than with a plain build.  Waits
# for work to be done (not latency bounds) are stretched by this much:
# under valgrind inkflow runs 20-50 times slower, and a slower or busier
# machine than the one the waits were chosen on must not fail the suite.
SLOW = {"valgrind": 4, "san": 2}.get(build_kind(), 1)


def run_memory(argv, feed=None, timeout=900):
    """Run argv; feed(pipe), if given, writes its stdin from a thread.
    Returns (returncode, stdout, stderr, seconds, peak MB, maxrss MB):
    peak is VmHWM read from /proc/PID/status while it runs, the program's
    own; maxrss is wait4's ru_maxrss, which also counts the memory of this
    test process, which spawned it.  A run longer than timeout fails."""
    t0 = time.monotonic()
    peak_kb = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                             stdout=out, stderr=err)
        writer = None
        if feed:
            def write():
                try:
                    feed(p.stdin)
                    p.stdin.close()
                except (BrokenPipeError, ValueError):
                    pass
            writer = threading.Thread(target=write, daemon=True)
            writer.start()
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                p.kill()
                os.wait4(p.pid, 0)
                raise AssertionError("%s took more than %d s" % (" ".join(argv), timeout))
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
                if m:
                    peak_kb = max(peak_kb, int(m.group(1)))
            except OSError:
                pass
            time.sleep(0.005)
        p.returncode = os.waitstatus_to_exitcode(status)
        secs = time.monotonic() - t0
        if writer:
            writer.join(10)
        out.seek(0)
        err.seek(0)
        return (p.returncode, out.read(), err.read(), secs, peak_kb / 1024.0,
                ru.ru_maxrss / 1024.0)


def body_text(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def body_html(msg):
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


def make_mail(frm, subject, body, to="biuro@bmt.example", msgid=None, headers=None,
              date="Fri, 27 Nov 2026 09:15:00 +0100"):
    """A plain UTF-8 message as a real client would send it."""
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date
    m["Message-ID"] = msgid or "<%s@test.example>" % os.urandom(8).hex()
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m.as_bytes()
