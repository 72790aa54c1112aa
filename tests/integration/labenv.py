"""Helpers for tests against the real mail lab (tests/lab/maillab): one
Dovecot + Postfix on 127.0.0.1, an inkflow installation that reads IMAP and
sends SMTP through it, a running `inkflow run`, and the client's side --
sending by SMTP, reading by IMAP or straight from the Maildirs."""
import atexit
import email
import email.policy
import imaplib
import os
import random
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import sys
import time
import unittest

from inkenv import INKFLOW, SLOW, TOP, Env

MAILLAB = os.path.join(TOP, "tests", "lab", "maillab")
MAIL_UID = 8  # the lab's Maildirs belong to Debian's "mail" user

# Everyone in conf/users.xml gets a lab mailbox, so task mail and failure
# notices to staff are accepted (an unknown local part is refused with 550).
STAFF = ["lukasz.wojcik", "ewa.wisniewska", "marek.zielinski", "anna.nowak",
         "piotr.kowalczyk", "katharina.schmidt", "bok", "ksiegowosc", "produkcja", "it",
         "biuro"]


def lab_missing():
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the mail lab needs root (Dovecot and Postfix switch users)"
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin",
                            "/sbin"])
    for prog in ("dovecot", "postfix", "openssl"):
        if not shutil.which(prog, path=path):
            return "%s is not installed (tests/lab/maillab install)" % prog
    return None


def wait_until(cond, timeout, what, interval=0.05, diag=None, bound=False):
    """Poll cond() until it returns a true value (returned) or timeout
    seconds pass (AssertionError naming what, plus diag() if given).
    The timeout is stretched by SLOW for slow builds unless bound says it
    is itself what the test asserts (a latency)."""
    if not bound:
        timeout *= SLOW
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            extra = ""
            if diag:
                try:
                    extra = "\n" + diag()
                except Exception as e:  # diagnostics must not hide the failure
                    extra = "\n(diagnostics failed: %r)" % e
            raise AssertionError("timed out after %gs waiting for %s%s" % (timeout, what, extra))
        time.sleep(interval)


def wait_progress(value, target, what, stall=60, cap=900, interval=0.2, diag=None):
    """Poll value() until it reaches target.  Bounded by progress rather
    than by a guess of the machine's speed: fails when the value has not
    changed for stall seconds, or after cap seconds in all (both
    stretched by SLOW)."""
    stall, cap = stall * SLOW, cap * SLOW
    start = last_change = time.monotonic()
    last = value()
    while last < target:
        time.sleep(interval)
        v = value()
        now = time.monotonic()
        if v != last:
            last, last_change = v, now
        elif now - last_change > stall or now - start > cap:
            extra = ""
            if diag:
                try:
                    extra = "\n" + diag()
                except Exception as e:
                    extra = "\n(diagnostics failed: %r)" % e
            raise AssertionError("%s: stuck at %s of %s for %.0fs (%.0fs in all)%s" % (
                what, last, target, now - last_change, now - start, extra))
    return last


def _ports_free(ports):
    for p in ports:
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


class Lab:
    """One maillab lab in a fresh directory, on ports nobody else uses."""

    def __init__(self):
        self.dir = None
        self.env = {}

    def start(self, users, attempts=5):
        """Starts a lab with users.  Ports: the defaults when free, else a
        random offset below the ephemeral range (other labs -- other
        engineers' tests -- pick +10000, +20000...); a port taken between
        the check and the start means another try on other ports."""
        # Lanes of run.py --jobs start labs at the same moment: each lane
        # first tries ports of its own, so two lanes do not race for one set.
        lane = int(os.environ.get("INKFLOW_TEST_LANE", "0") or 0)
        first = [lane * 1000] if lane <= 2 else []  # lane 0: the default ports
        offsets = first + random.sample(range(3000, 29001, 1000), attempts)
        for n, off in enumerate(offsets):
            ports = [2143 + off, 2993 + off, 2525 + off, 2465 + off]
            if not _ports_free(ports):
                continue
            self.dir = tempfile.mkdtemp(prefix="inklab.", dir="/tmp")
            os.chmod(self.dir, 0o755)
            env = dict(os.environ, LAB_IMAP_PORT=str(ports[0]), LAB_IMAPS_PORT=str(ports[1]),
                       LAB_SMTP_PORT=str(ports[2]), LAB_SMTPS_PORT=str(ports[3]))
            try:
                self._maillab("start", self.dir, *users, env=env)
            except RuntimeError as e:
                self.stop()
                # Taken between the check and the start: maillab's own check,
                # or Dovecot's "Failed to start listeners".
                taken = "already in use" in str(e) or "Failed to start listeners" in str(e)
                if taken and n < len(offsets) - 1:
                    continue
                raise
            self.load()
            return
        raise RuntimeError("no free set of lab ports")

    def load(self):
        self.env = {}
        with open(os.path.join(self.dir, "lab.env")) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.rstrip("\n").split("=", 1)
                    self.env[k] = v.strip("'")
        self.ca = self.env["LAB_CA_FILE"]
        self.imaps_port = int(self.env["LAB_IMAPS_PORT"])
        self.imap_port = int(self.env["LAB_IMAP_PORT"])
        self.smtp_port = int(self.env["LAB_SMTP_PORT"])
        self.smtps_port = int(self.env["LAB_SMTPS_PORT"])
        self.postfix_conf = os.path.join(self.dir, "etc", "postfix")
        self.postfix_logfile = self.env["LAB_POSTFIX_LOG"]

    def _maillab(self, *args, env=None, timeout=120):
        p = subprocess.run([MAILLAB] + list(args), capture_output=True, text=True,
                           env=env, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("maillab %s failed (%d): %s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p.stdout

    def stop(self):
        if self.dir and os.path.isdir(self.dir):
            try:
                self._maillab("stop", self.dir)
            finally:
                shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def adduser(self, *specs):
        self._maillab("adduser", self.dir, *specs)
        self.load()

    def stop_dovecot(self):
        self._maillab("stop-dovecot", self.dir)

    def start_dovecot(self):
        self._maillab("start-dovecot", self.dir)

    def stop_postfix(self):
        self._maillab("stop-postfix", self.dir)

    def start_postfix(self):
        self._maillab("start-postfix", self.dir)

    def postfix(self, *args):
        p = subprocess.run(["postfix", "-c", self.postfix_conf] + list(args),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("postfix %s: %s%s" % (" ".join(args), p.stdout, p.stderr))

    def postfix_reload(self):
        before = self.log_count("reload -- version")
        self.postfix("reload")
        wait_until(lambda: self.log_count("reload -- version") > before, 30,
                   "postfix to log its reload")

    def postqueue(self, *args):
        return subprocess.run(["postqueue", "-c", self.postfix_conf] + list(args),
                              capture_output=True, text=True, timeout=60)

    def queue_empty(self):
        p = self.postqueue("-j")
        return p.returncode == 0 and not p.stdout.strip()

    def postfix_log(self):
        with open(self.postfix_logfile, errors="replace") as f:
            return f.read()

    def log_count(self, needle):
        try:
            return self.postfix_log().count(needle)
        except FileNotFoundError:
            return 0

    # -- mailboxes ---------------------------------------------------------
    def maildir(self, user, folder=None):
        d = os.path.join(self.env["LAB_MAIL_DIR"], user, "Maildir")
        return os.path.join(d, "." + folder) if folder else d

    def files(self, user, folder=None):
        """Paths of every message in the user's mailbox (new/ and cur/)."""
        d = self.maildir(user, folder)
        out = []
        for sub in ("new", "cur"):
            try:
                out += [os.path.join(d, sub, n) for n in sorted(os.listdir(os.path.join(d, sub)))]
            except FileNotFoundError:
                pass
        return out

    def count(self, user, folder=None):
        return len(self.files(user, folder))

    def messages(self, user, folder=None):
        out = []
        for path in self.files(user, folder):
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except FileNotFoundError:  # moved new/ -> cur/ meanwhile
                continue
            m = email.message_from_bytes(raw, policy=email.policy.default)
            m.raw = raw
            m.path = path
            out.append(m)
        return out

    def drop(self, user, raw):
        """Deliver raw straight into user's Maildir new/ the way an MDA does
        (tmp/ then rename), owned by the mail user."""
        if isinstance(raw, str):
            raw = raw.encode()
        d = self.maildir(user)
        name = "%d.M%dP%d.inkflow-test,S=%d" % (time.time(), random.randrange(1 << 30),
                                               os.getpid(), len(raw))
        tmp = os.path.join(d, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(raw)
        os.chown(tmp, MAIL_UID, MAIL_UID)
        os.chmod(tmp, 0o600)
        os.rename(tmp, os.path.join(d, "new", name))
        return name

    def smtp_send(self, frm, to, raw, login=None, password="secret"):
        """Submit raw on the plain SMTP port: STARTTLS with the lab CA and
        AUTH as login (a lab user) when given, else from 127.0.0.1 without
        AUTH (mynetworks)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as s:
            s.starttls(context=ctx)
            if login:
                s.login(login, password)
            s.sendmail(frm, [to] if isinstance(to, str) else to, raw)

    def imap(self, user, password="secret"):
        ctx = ssl.create_default_context(cafile=self.ca)
        c = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ctx, timeout=30)
        c.login(user, password)
        return c


def imap_conf(lab, user, after="seen", move_to=None, idle="yes", poll=5, tls="imaps",
              port=None, ca=None, timeout=10, pwfile="imap.pw"):
    a = ('<source type="imap" host="127.0.0.1" port="%d" tls="%s" user="%s" '
         'password-file="%s" ca-file="%s" mailboxes="INBOX" after="%s" idle="%s" '
         'poll="%d" timeout="%d"' % (
             port or (lab.imaps_port if tls == "imaps" else lab.imap_port), tls, user, pwfile,
             ca or lab.ca, after, idle, poll, timeout))
    if move_to:
        a += ' move-to="%s"' % move_to
    return a + "/>"


def smtp_conf(lab, user, tls="smtps", port=None, ca=None, timeout=10, pwfile="smtp.pw"):
    return ('<outbox type="smtp" host="127.0.0.1" port="%d" tls="%s" user="%s" '
            'password-file="%s" ca-file="%s" envelope-from="biuro@bmt.example" '
            'timeout="%d"/>' % (
                port or (lab.smtps_port if tls == "smtps" else lab.smtp_port), tls, user,
                pwfile, ca or lab.ca, timeout))


MAILDIR_SOURCE = '<source type="maildir" path="../mailboxes/inbox"/>'
MAILDIR_OUTBOX = '<outbox type="maildir" path="../mailboxes/outbox"/>'


class LabEnv(Env):
    """An inkflow installation reading IMAP and sending SMTP through the lab.
    source/outbox: the XML elements (None keeps the Maildir default)."""

    def __init__(self, source=None, outbox=None, imap_pw="secret", smtp_pw="secret",
                 limits=None):
        def edit(t):
            if source:
                assert MAILDIR_SOURCE in t
                t = t.replace(MAILDIR_SOURCE, source)
            if outbox:
                assert MAILDIR_OUTBOX in t
                t = t.replace(MAILDIR_OUTBOX, outbox)
            for k, v in (limits or {}).items():
                t, n = _replace_attr(t, k, v)
                assert n == 1, k
            return t
        super().__init__(conf_edit=edit)
        self.confdir = os.path.dirname(self.conf)
        self.set_password("imap.pw", imap_pw)
        self.set_password("smtp.pw", smtp_pw)
        self.daemons = []

    def set_password(self, name, pw):
        path = os.path.join(self.confdir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pw + "\n")

    def edit_conf(self, fn):
        with open(self.conf, encoding="utf-8") as f:
            t = f.read()
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(fn(t))

    def close(self):
        for d in self.daemons:
            d.stop()
        super().close()

    def daemon(self, *args):
        d = Daemon(self, *args)
        self.daemons.append(d)
        return d

    def status(self):
        return self.json("status")

    def outbox_list(self, status=None):
        return self.json("outbox", "list", *(("--status", status) if status else ()))

    def log(self):
        return "".join(d.log() for d in self.daemons)


def _replace_attr(text, name, value):
    import re
    return re.subn(r'(\s%s=")[^"]*(")' % re.escape(name), r"\g<1>%s\g<2>" % value, text)


_RUNNING = set()  # daemons not yet stopped, killed at exit (an interrupted run)


@atexit.register
def _kill_leftovers():
    for d in list(_RUNNING):
        d.kill9()


class Daemon:
    """`inkflow run` in the background, its log in a file of its own."""

    def __init__(self, env, *args):
        self.env = env
        fd, self.logpath = tempfile.mkstemp(prefix="daemon-", suffix=".log", dir=env.dir)
        self.logf = os.fdopen(fd, "wb")
        self.p = subprocess.Popen([INKFLOW, "-c", env.conf, "run"] + list(args),
                                  stdin=subprocess.DEVNULL, stdout=self.logf,
                                  stderr=subprocess.STDOUT)
        _RUNNING.add(self)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=30):
        """SIGTERM; the exit code (SIGKILL and -9 when it does not stop)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()
        _RUNNING.discard(self)
        return self.p.returncode

    def kill9(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.logf.close()
        _RUNNING.discard(self)

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])


class ModuleLab:
    """A test module's lab: `LAB = ModuleLab()`, `setUpModule = LAB.start`,
    `tearDownModule = LAB.stop`; LAB then stands for the running Lab.
    Started with the staff users and stopped at exit too (also on an
    interrupted run); unittest.SkipTest when the machine has no lab."""

    def __init__(self):
        self._lab = None

    def start(self):
        why = lab_missing()
        if why:
            raise unittest.SkipTest(why)
        lab = Lab()
        atexit.register(lab.stop)
        try:
            lab.start(STAFF)
        except BaseException:
            lab.stop()
            raise
        self._lab = lab

    def stop(self):
        if self._lab:
            self._lab.stop()

    def __getattr__(self, name):
        if self._lab is None:
            raise AttributeError("the module's lab is not running (%s)" % name)
        return getattr(self._lab, name)


def ack_duplicates(env, dups, sent_at_kills):
    """dups: In-Reply-To -> the mailboxes holding an acknowledgement of that
    inquiry, for those found more than once; sent_at_kills: the number of
    outbox rows marked sent after each kill -9.  Tells SMTP's documented
    at-least-once window from a real double send.  The outbox goes out in id
    order, so a run killed between the server's 250 for row R and the commit
    leaves exactly the rows before R sent; each such kill may add one copy
    of R, and R is logged as sent once, by the run that committed it -- or
    not at all when a kill came after that commit and before the log line
    (the commit may run a checkpoint first), leaving R the last row sent.
    Returns (a line per duplicate, the real ones)."""
    logs = env.log()
    why, real = [], []
    for k in dups:
        (oid,) = env.sql("SELECT id FROM outbox WHERE kind='ack' AND raw LIKE ?",
                         "%In-Reply-To: " + k + "%")[0]
        ((before,),) = env.sql("SELECT count(*) FROM outbox WHERE id<?", oid)
        sent = logs.count("event=mail_sent outbox=%d " % oid)
        windows = sum(1 for s in sent_at_kills if s == before)
        unlogged = sum(1 for s in sent_at_kills if s == before + 1)
        why.append("outbox %d: %d copies, logged as sent %d time(s), %d kill(s) with "
                   "it next to send, %d right after it" % (oid, len(dups[k]), sent, windows,
                                                            unlogged))
        if len(dups[k]) > 1 + windows or sent > 1 or (sent == 0 and not unlogged):
            real.append(k)
    return why, real


def noter(tag):
    """note(text): a measurement for the log of the run, on stderr beside
    unittest's output, marked [tag]."""
    def note(text):
        sys.stderr.write("\n    [%s] %s\n" % (tag, text))
        sys.stderr.flush()
    return note


def new_msgid():
    return "<%s@client.test>" % os.urandom(8).hex()
