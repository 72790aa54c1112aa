"""Issue 8: tasks in the users' own CalDAV calendars — written with PUT when
the task is mailed, removed with DELETE when it closes — against a real
Radicale server that the test starts on 127.0.0.1 (Debian package radicale;
./setup.sh test installs it).  An unreachable server leaves the operation
queued with its error and holds up neither mail nor other users'
calendars; an untrusted certificate is refused."""
import base64
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from inkenv import Env, make_mail

RADICALE = shutil.which("radicale") or "/usr/bin/radicale"
ANNA = "a.nowak"         # owner of reklama-baltyk.pl
PIOTR = "p.kowalczyk"    # owner of agencja-wektor.pl
CLIENT_A = "Ola <ola@reklama-baltyk.pl>"
CLIENT_P = "Jan <jan@agencja-wektor.pl>"
REP_A = "anna.nowak@bmt.example"
REP_P = "piotr.kowalczyk@bmt.example"
PASSWORDS = {ANNA: "t@jne:hasło;1", PIOTR: "inne-hasło-2"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unfold(text):
    """The content lines of an iCalendar text, folded lines joined."""
    return re.sub(r"\r?\n[ \t]", "", text).splitlines()


class Radicale:
    """A Radicale server of the test's own on 127.0.0.1: users in a plain
    htpasswd file, collections in a temporary directory, TLS with a
    self-signed certificate for 127.0.0.1 when tls is set."""

    def __init__(self, users, port=None, tls=False):
        if not os.path.exists(RADICALE):
            raise unittest.SkipTest("radicale is not installed (apt-get install radicale)")
        self.dir = tempfile.mkdtemp(prefix="inkflow-radicale-")
        self.port = port or free_port()
        self.users = users
        self.tls = tls
        self.cert = os.path.join(self.dir, "cert.pem")
        htpasswd = os.path.join(self.dir, "htpasswd")
        with open(htpasswd, "w", encoding="utf-8") as f:
            for u, pw in users.items():
                f.write("%s:%s\n" % (u, pw))
        ssl_conf = ""
        if tls:
            key = os.path.join(self.dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", self.cert, "-days", "2",
                            "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
            ssl_conf = "ssl = True\ncertificate = %s\nkey = %s\n" % (self.cert, key)
        conf = os.path.join(self.dir, "config")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[server]\nhosts = 127.0.0.1:%d\n%s"
                    "[auth]\ntype = htpasswd\nhtpasswd_filename = %s\n"
                    "htpasswd_encryption = plain\ndelay = 0\n"
                    "[rights]\ntype = owner_only\n"
                    "[storage]\nfilesystem_folder = %s\n"
                    "[web]\ntype = none\n"
                    "[logging]\nlevel = info\nmask_passwords = True\n"
                    % (self.port, ssl_conf, htpasswd, os.path.join(self.dir, "collections")))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen([RADICALE, "-C", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("radicale exited %d:\n%s" % (self.proc.returncode,
                                                                  self.log_text()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("radicale did not listen on port %d" % self.port)
                time.sleep(0.1)

    def log_text(self):
        with open(os.path.join(self.dir, "log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % ("https" if self.tls else "http", self.port, path)

    def request(self, method, path, user, body=None, headers=None):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.cert)
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        auth = base64.b64encode(("%s:%s" % (user, self.users[user])).encode()).decode()
        h = {"Authorization": "Basic " + auth}
        h.update(headers or {})
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", errors="replace")
        finally:
            c.close()

    def mkcalendar(self, user, path):
        status, text = self.request("MKCALENDAR", path, user)
        if status != 201:
            raise AssertionError("MKCALENDAR %s: %d %s" % (path, status, text))

    def items(self, user, path):
        """Names of the calendar objects in collection path (PROPFIND)."""
        status, text = self.request("PROPFIND", path, user, body=(
            '<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:">'
            "<prop><getetag/></prop></propfind>"), headers={"Depth": "1"})
        if status != 207:
            raise AssertionError("PROPFIND %s: %d %s" % (path, status, text))
        hrefs = [e.text for e in ET.fromstring(text).iter("{DAV:}href")]
        return sorted(h.rsplit("/", 1)[1] for h in hrefs if h.endswith(".ics"))


def set_caldav(env, login, attrs, password=None):
    """Give login CalDAV attributes in the environment's users.xml; the
    password goes to a file of mode 0600 beside it."""
    users = os.path.join(env.dir, "conf", "users.xml")
    if password is not None:
        pw = os.path.join(env.dir, "conf", "caldav-%s.pw" % login)
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(password + "\n")
        attrs = '%s caldav-user="%s" caldav-password-file="caldav-%s.pw"' % (attrs, login,
                                                                             login)
    with open(users, encoding="utf-8") as f:
        text = f.read()
    new = text.replace('<user login="%s"' % login, '<user login="%s" %s' % (login, attrs), 1)
    assert new != text, login
    with open(users, "w", encoding="utf-8") as f:
        f.write(new)


class CalDAV(unittest.TestCase):
    def setUp(self):
        self.servers = []
        self.env = None
        os.environ.pop("INKFLOW_NOW", None)

    def tearDown(self):
        os.environ.pop("INKFLOW_NOW", None)
        if self.env:
            self.env.close()
        for s in self.servers:
            s.stop()

    def server(self, **kw):
        s = Radicale(dict(PASSWORDS), **kw)
        self.servers.append(s)
        return s

    def tasks(self, login):
        return [t["id"] for t in self.env.json("task", "list", "--user", login)]

    def queue(self):
        return self.env.sql("SELECT user_login, op, task_id, attempts, next_try, last_error,"
                            " created FROM caldav_queue ORDER BY id")

    def check_entry(self, rad, login, path, task):
        status, text = rad.request("GET", "%stask-%d.ics" % (path, task), login)
        self.assertEqual(status, 200, text)
        lines = unfold(text)
        self.assertEqual(lines[0], "BEGIN:VCALENDAR")
        self.assertIn("UID:task-%d@bmt.example" % task, lines)
        self.assertEqual([l for l in lines if l.startswith("BEGIN:VEVENT")], ["BEGIN:VEVENT"])
        # A calendar object resource never carries METHOD (RFC 4791 4.1).
        self.assertFalse([l for l in lines if l.upper().startswith("METHOD")], lines)
        return [l for l in lines if l.startswith("SUMMARY:")][0]

    def test_put_then_delete(self):
        rad = self.server()
        path = "/%s/zadania/" % ANNA
        rad.mkcalendar(ANNA, path)
        self.env = env = Env()
        set_caldav(env, ANNA, 'caldav="%s"' % rad.url(path.rstrip("/")), PASSWORDS[ANNA])
        env.init()
        env.put(make_mail(CLIENT_A, "Banery na ogrodzenie", "Prosimy o wycenę"))
        env.once()
        [task] = self.tasks(ANNA)
        # the task mail went, and the entry is in her calendar
        self.assertTrue([m for m in env.sent_to(REP_A) if "Przygotuj" in str(m["Subject"])])
        self.assertEqual(self.queue(), [])
        summary = self.check_entry(rad, ANNA, path, task)
        self.assertIn("Przygotuj kalkulację", summary)
        self.assertEqual(rad.items(ANNA, path), ["task-%d.ics" % task])

        # The task closes (the calculation is submitted): the DELETE waits in
        # the queue, committed with the change, until the daemon runs.
        env.run("calc", "add", "1", "--as", ANNA, input=b"BAN-440 1 100x100cm\n")
        env.run("calc", "submit", "1", "--as", ANNA)
        self.assertIn((ANNA, "delete", task),
                      [(q[0], q[1], q[2]) for q in self.queue()])
        self.assertEqual(rad.request("GET", "%stask-%d.ics" % (path, task), ANNA)[0], 200)
        env.once()
        self.assertEqual(self.queue(), [])
        self.assertEqual(rad.request("GET", "%stask-%d.ics" % (path, task), ANNA)[0], 404)
        # what is left in her calendar is exactly her open tasks
        self.assertEqual(rad.items(ANNA, path),
                         sorted("task-%d.ics" % t for t in self.tasks(ANNA)))
        # running again does nothing more
        env.once()
        self.assertEqual(self.queue(), [])

    def test_unreachable_server_waits(self):
        port = free_port()  # nothing listens there yet
        rad = self.server()
        ppath = "/%s/zadania/" % PIOTR
        rad.mkcalendar(PIOTR, ppath)
        self.env = env = Env()
        set_caldav(env, ANNA, 'caldav="http://127.0.0.1:%d/%s/zadania/"' % (port, ANNA),
                   PASSWORDS[ANNA])
        set_caldav(env, PIOTR, 'caldav="%s"' % rad.url(ppath), PASSWORDS[PIOTR])
        env.init()
        env.put(make_mail(CLIENT_A, "Banery", "Prosimy o wycenę"))
        env.put(make_mail(CLIENT_P, "Roll-up", "Prosimy o wycenę"))
        env.once()
        [ta] = self.tasks(ANNA)
        [tp] = self.tasks(PIOTR)
        # mail is not held up: both task mails went out
        self.assertTrue([m for m in env.sent_to(REP_A) if "Przygotuj" in str(m["Subject"])])
        self.assertTrue([m for m in env.sent_to(REP_P) if "Przygotuj" in str(m["Subject"])])
        self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE status='queued'"), [(0,)])
        # nor is Piotr's calendar
        self.check_entry(rad, PIOTR, ppath, tp)
        # Anna's PUT waits for its retry, with the reason
        [(login, op, task, attempts, next_try, err, created)] = self.queue()
        self.assertEqual((login, op, task, attempts), (ANNA, "put", ta, 1))
        self.assertRegex(err, r"127\.0\.0\.1.*(refused|[Cc]ouldn't connect|[Ff]ailed to connect)")
        self.assertGreaterEqual(next_try, created + 60)
        status = env.json("status")
        self.assertEqual(status["outbox_queued"], 0)

        # Not before its time: another run leaves it alone, and a new mail
        # and its answers still flow.
        env.put(make_mail(CLIENT_P, "Jeszcze jedno", "Drugie zapytanie"))
        env.once()
        self.assertEqual(self.queue()[0][3], 1)
        self.assertEqual(len(self.tasks(PIOTR)), 2)
        self.assertEqual(self.queue()[1:], [])

        # The server comes up; at the retry time the entry is written.
        self.server(port=port)
        self.servers[-1].mkcalendar(ANNA, "/%s/zadania/" % ANNA)
        os.environ["INKFLOW_NOW"] = str(next_try + 1)
        env.once()
        self.assertEqual(self.queue(), [])
        self.check_entry(self.servers[-1], ANNA, "/%s/zadania/" % ANNA, ta)

    def test_certificate_verified(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        rad = self.server(tls=True)
        apath, ppath = "/%s/zadania/" % ANNA, "/%s/zadania/" % PIOTR
        rad.mkcalendar(ANNA, apath)
        rad.mkcalendar(PIOTR, ppath)
        self.env = env = Env()
        # Anna trusts the server's certificate; Piotr has only the system
        # store, which does not know it.
        set_caldav(env, ANNA, 'caldav="%s" caldav-ca="%s"' % (rad.url(apath), rad.cert),
                   PASSWORDS[ANNA])
        set_caldav(env, PIOTR, 'caldav="%s"' % rad.url(ppath), PASSWORDS[PIOTR])
        env.init()
        env.put(make_mail(CLIENT_A, "Banery", "Prosimy o wycenę"))
        env.put(make_mail(CLIENT_P, "Roll-up", "Prosimy o wycenę"))
        env.once()
        self.check_entry(rad, ANNA, apath, self.tasks(ANNA)[0])
        [(login, op, _, attempts, _, err, _)] = self.queue()
        self.assertEqual((login, op, attempts), (PIOTR, "put", 1))
        self.assertIn("certificate", err)
        self.assertEqual(rad.items(PIOTR, ppath), [])

    def test_refused_by_server(self):
        """A wrong password: the server's answer is kept as the error."""
        rad = self.server()
        path = "/%s/zadania/" % ANNA
        rad.mkcalendar(ANNA, path)
        self.env = env = Env()
        set_caldav(env, ANNA, 'caldav="%s"' % rad.url(path), "not-the-password")
        env.init()
        env.put(make_mail(CLIENT_A, "Banery", "Prosimy o wycenę"))
        env.once()
        [(login, op, _, attempts, _, err, _)] = self.queue()
        self.assertEqual((login, op, attempts), (ANNA, "put", 1))
        self.assertIn("HTTP 401", err)
        self.assertNotIn("not-the-password", err)
        self.assertEqual(rad.items(ANNA, path), [])


if __name__ == "__main__":
    unittest.main()
