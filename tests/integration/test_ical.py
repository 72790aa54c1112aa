"""Issue 8: calendar entries, read by an independent parser (Debian's
python3-icalendar) and checked on the raw bytes.

Two sources: the sample calendars ical.c writes through the unit-test
program (build/tests/test_ical --emit DIR: a REQUEST, its CANCEL, a PUBLISH
and one with an unknown zone), and `inkflow calendar` on a database the
workflow filled from two inquiries.  Expected local times come from Python's
own tz database (zoneinfo), never from our code."""
import datetime
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import zoneinfo

try:
    from icalendar import Calendar
except ImportError:
    # Debian's package lives in the system Python's dist-packages, which an
    # interpreter from elsewhere (pyenv, a venv) does not search.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from icalendar import Calendar
    except ImportError as e:
        raise ImportError("test_ical needs python3-icalendar (apt-get install "
                          "python3-icalendar)") from e

from inkenv import INKFLOW, Env, make_mail

WARSAW = zoneinfo.ZoneInfo("Europe/Warsaw")
UTC = datetime.timezone.utc
EMIT = os.path.join(os.path.dirname(INKFLOW), "tests", "test_ical")
NOW = 1795784400  # 2026-11-27 13:00:00 UTC, 14:00 in Warsaw

POLISH = "Zatwierdź kalkulację; pilne, dziś"
LONG_DESC = "Żółta łódź; gęś, jaźń — zażółć gęślą jaźń. " * 6 + "\nLinia druga: \\ koniec"


def physical_lines(test, raw):
    """RFC 5545 3.1 on the bytes: CRLF after every line and nowhere else, at
    most 75 octets a line, each line whole UTF-8 on its own (a fold never
    splits a character), continuations start with one space."""
    test.assertTrue(raw.endswith(b"\r\n"), raw[-20:])
    lines = raw[:-2].split(b"\r\n")
    for i, line in enumerate(lines):
        test.assertNotIn(b"\r", line)
        test.assertNotIn(b"\n", line)
        test.assertLessEqual(len(line), 75, line)
        line.decode("utf-8")  # raises on a split sequence
        if line.startswith(b" "):
            test.assertGreater(i, 0)
            test.assertGreater(len(line), 1)
    return lines


def content_lines(raw):
    """The unfolded content lines, as text."""
    return raw.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")[:-1]


def events(cal):
    return [c for c in cal.walk() if c.name == "VEVENT"]


def epoch(dt):
    return int(dt.timestamp())


class Samples(unittest.TestCase):
    """The calendars ical.c writes, as a calendar program reads them."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="inkflow-ical-")
        cls.missing = not os.access(EMIT, os.X_OK)
        if not cls.missing:
            subprocess.run([EMIT, "--emit", cls.dir], check=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.dir, ignore_errors=True)

    def load(self, name):
        if self.missing:
            self.fail("%s is not built (make %s)" % (EMIT, os.path.relpath(EMIT)))
        with open(os.path.join(self.dir, name), "rb") as f:
            raw = f.read()
        physical_lines(self, raw)
        return raw, Calendar.from_ical(raw)

    def check_calendar(self, cal, method):
        self.assertEqual(cal.name, "VCALENDAR")
        self.assertEqual(str(cal["VERSION"]), "2.0")
        self.assertEqual(str(cal["CALSCALE"]), "GREGORIAN")
        self.assertEqual(str(cal["METHOD"]), method)
        self.assertTrue(str(cal["PRODID"]).startswith("-//"))

    def check_vtimezone(self, cal):
        """Our VTIMEZONE gives the offsets of the tz database at and around
        every transition 2026-2037 (icalendar turns it into a tzinfo)."""
        zones = [c for c in cal.walk() if c.name == "VTIMEZONE"]
        self.assertEqual(len(zones), 1)
        self.assertEqual(str(zones[0]["TZID"]), "Europe/Warsaw")
        ours = zones[0].to_tz()
        instants = []
        for year in range(2026, 2038):
            for month in (3, 10):
                last = max(d for d in range(25, 32)
                           if datetime.date(year, month, d).weekday() == 6)
                t = datetime.datetime(year, month, last, 1, 0, tzinfo=UTC)
                instants += [t - datetime.timedelta(seconds=1), t,
                             t + datetime.timedelta(days=40)]
        for t in instants:
            want = t.astimezone(WARSAW).utcoffset()
            got = ours.fromutc(t.replace(tzinfo=ours)).utcoffset()
            self.assertEqual(got, want, t)

    def test_request(self):
        raw, cal = self.load("request.ics")
        self.check_calendar(cal, "REQUEST")
        self.check_vtimezone(cal)
        evs = events(cal)
        self.assertEqual(len(evs), 1)
        ev = evs[0]
        self.assertEqual(str(ev["UID"]), "task-42@bmt.example")
        self.assertEqual(int(ev["SEQUENCE"]), 2)
        self.assertEqual(str(ev["SUMMARY"]), POLISH)
        self.assertEqual(str(ev["DESCRIPTION"]), LONG_DESC)
        self.assertEqual(str(ev["STATUS"]), "CONFIRMED")
        self.assertEqual(str(ev["URL"]),
                         "mailto:biuro+tok@bmt.example?subject=%5BINK-7%5D%20APPROVE")

        start, end = ev["DTSTART"].dt, ev["DTEND"].dt
        self.assertEqual(epoch(start), NOW)
        self.assertEqual(start.replace(tzinfo=None), datetime.datetime(2026, 11, 27, 14, 0))
        self.assertEqual(start.utcoffset(), datetime.timedelta(hours=1))
        self.assertEqual(epoch(end) - epoch(start), 1800)
        self.assertEqual(ev["DTSTAMP"].dt, datetime.datetime(2026, 11, 27, 12, 3, tzinfo=UTC))
        lines = content_lines(raw)
        self.assertIn("DTSTART;TZID=Europe/Warsaw:20261127T140000", lines)
        self.assertIn("DTSTAMP:20261127T120300Z", lines)

        org = ev["ORGANIZER"]
        self.assertEqual(str(org), "mailto:biuro@bmt.example")
        self.assertEqual(org.params["CN"], "BMT Druk; Biuro, Obsługa: Gdańsk")
        self.assertIn('ORGANIZER;CN="BMT Druk; Biuro, Obsługa: Gdańsk":mailto:biuro@bmt.example',
                      lines)
        att = ev["ATTENDEE"]
        self.assertEqual(str(att), "mailto:marek.zielinski@bmt.example")
        self.assertEqual(att.params["CN"], "Marek Zieliński")
        self.assertEqual(att.params["ROLE"], "REQ-PARTICIPANT")
        self.assertEqual(att.params["PARTSTAT"], "NEEDS-ACTION")
        self.assertEqual(att.params["RSVP"], "FALSE")

        alarms = [c for c in ev.walk() if c.name == "VALARM"]
        self.assertEqual(len(alarms), 1)
        self.assertEqual(str(alarms[0]["ACTION"]), "DISPLAY")
        self.assertEqual(alarms[0]["TRIGGER"].dt, -datetime.timedelta(minutes=15))
        self.assertEqual(str(alarms[0]["DESCRIPTION"]), POLISH)

        # The escaped Polish text on the wire, and the long description
        # really folded (over several physical lines).
        self.assertIn("SUMMARY:Zatwierdź kalkulację\\; pilne\\, dziś", lines)
        folded = raw.split(b"\r\nDESCRIPTION:")[1].split(b"\r\nORGANIZER")[0]
        self.assertGreater(folded.count(b"\r\n "), 3)
        self.assertTrue(any(len(l) >= 73 for l in folded.split(b"\r\n")))

    def test_cancel(self):
        raw, cal = self.load("cancel.ics")
        self.check_calendar(cal, "CANCEL")
        evs = events(cal)
        self.assertEqual(len(evs), 1)
        ev = evs[0]
        self.assertEqual(str(ev["UID"]), "task-42@bmt.example")
        self.assertEqual(int(ev["SEQUENCE"]), 3)  # above the REQUEST's 2
        self.assertEqual(str(ev["STATUS"]), "CANCELLED")
        self.assertEqual(str(ev["ATTENDEE"]), "mailto:marek.zielinski@bmt.example")
        self.assertEqual(str(ev["ORGANIZER"]), "mailto:biuro@bmt.example")
        self.assertFalse([c for c in ev.walk() if c.name == "VALARM"])
        self.assertEqual(epoch(ev["DTSTART"].dt), NOW)

    def test_publish(self):
        raw, cal = self.load("publish.ics")
        self.check_calendar(cal, "PUBLISH")
        self.check_vtimezone(cal)
        evs = {str(e["UID"]): e for e in events(cal)}
        self.assertEqual(sorted(evs), ["task-42@bmt.example", "task-43@bmt.example",
                                       "task-44@bmt.example"])
        for ev in evs.values():
            self.assertNotIn("ATTENDEE", ev)  # RFC 5546 3.2.1
            self.assertFalse([c for c in ev.walk() if c.name == "VALARM"])
            self.assertEqual(str(ev["ORGANIZER"]), "mailto:biuro@bmt.example")
        summer = evs["task-43@bmt.example"]
        self.assertEqual(str(summer["SUMMARY"]), "Przygotuj kalkulację")
        self.assertEqual(str(summer["CONTACT"]), "Anna Nowak <anna.nowak@bmt.example>")
        self.assertEqual(summer["DTSTART"].dt.replace(tzinfo=None),
                         datetime.datetime(2026, 7, 15, 12, 0))
        self.assertEqual(summer["DTSTART"].dt.utcoffset(), datetime.timedelta(hours=2))
        self.assertEqual(epoch(summer["DTEND"].dt) - epoch(summer["DTSTART"].dt), 2700)
        spring = evs["task-44@bmt.example"]
        self.assertEqual(epoch(spring["DTSTART"].dt), 1774746000)
        self.assertIn("DTSTART;TZID=Europe/Warsaw:20260329T030000", content_lines(raw))

    def test_unknown_zone(self):
        raw, cal = self.load("utc.ics")
        self.check_calendar(cal, "REQUEST")
        self.assertFalse([c for c in cal.walk() if c.name == "VTIMEZONE"])
        self.assertNotIn(b"TZID", raw)
        ev = events(cal)[0]
        self.assertEqual(ev["DTSTART"].dt, datetime.datetime(2026, 11, 27, 13, 0, tzinfo=UTC))
        self.assertIn("DTSTART:20261127T130000Z", content_lines(raw))


class Command(unittest.TestCase):
    """`inkflow calendar` over the tasks two inquiries leave."""

    def setUp(self):
        self.old_now = os.environ.get("INKFLOW_NOW")
        os.environ["INKFLOW_NOW"] = str(NOW)
        self.env = Env()
        self.env.init()
        self.env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Banery na ogrodzenie",
                               "Prosimy o wycenę 20 banerów 3x1 m."))
        self.env.put(make_mail("Jan <jan@nowyklient.pl>", "Ulotki A5",
                               "Prosimy o wycenę 5000 ulotek."))
        self.env.once()

    def tearDown(self):
        self.env.close()
        if self.old_now is None:
            os.environ.pop("INKFLOW_NOW", None)
        else:
            os.environ["INKFLOW_NOW"] = self.old_now

    def open_tasks(self):
        """{task id: (login, email, name, start epoch)} straight from the
        database: due, or created + 1 day when there is none."""
        rows = self.env.sql(
            "SELECT t.id, u.login, u.email, u.name, COALESCE(t.due, t.created + 86400)"
            " FROM tasks t JOIN users u ON u.id = t.assignee_id WHERE t.status = 'open'")
        return {r[0]: r[1:] for r in rows}

    def write_sql(self, query, *params):
        db = sqlite3.connect(os.path.join(self.env.data, "inkflow.db"))
        try:
            db.execute(query, params)
            db.commit()
        finally:
            db.close()

    def calendar(self, *args):
        raw = self.env.run("calendar", *args).stdout
        physical_lines(self, raw)
        cal = Calendar.from_ical(raw)
        self.assertEqual(str(cal["METHOD"]), "PUBLISH")
        self.assertEqual(str(cal["VERSION"]), "2.0")
        return raw, cal

    def check_events(self, raw, cal, tasks):
        """One VEVENT per task, with its UID, person and start."""
        evs = {str(e["UID"]): e for e in events(cal)}
        self.assertEqual(sorted(evs), sorted("task-%d@bmt.example" % t for t in tasks))
        lines = content_lines(raw)
        for tid, (login, email, name, start) in tasks.items():
            ev = evs["task-%d@bmt.example" % tid]
            self.assertNotIn("ATTENDEE", ev)  # RFC 5546 3.2.1: none in PUBLISH
            self.assertEqual(str(ev["CONTACT"]), "%s <%s>" % (name, email))
            self.assertEqual(str(ev["ORGANIZER"]), "mailto:biuro@bmt.example")
            self.assertEqual(epoch(ev["DTSTART"].dt), start)
            self.assertEqual(epoch(ev["DTEND"].dt), start + 1800)
            local = datetime.datetime.fromtimestamp(start, WARSAW)
            self.assertEqual(ev["DTSTART"].dt.utcoffset(), local.utcoffset())
            self.assertIn("DTSTART;TZID=Europe/Warsaw:" + local.strftime("%Y%m%dT%H%M%S"), lines)
            self.assertEqual(ev["DTSTAMP"].dt, datetime.datetime.fromtimestamp(NOW, UTC))
        return evs

    def test_group_and_personal(self):
        tasks = self.open_tasks()
        self.assertEqual(len(tasks), 2, tasks)
        nowak = {t: v for t, v in tasks.items() if v[0] == "a.nowak"}
        self.assertEqual(len(nowak), 1, tasks)

        raw, cal = self.calendar()
        evs = self.check_events(raw, cal, tasks)
        for tid, (login, email, name, start) in tasks.items():
            # the group calendar says whose task it is in the title
            self.assertTrue(str(evs["task-%d@bmt.example" % tid]["SUMMARY"])
                            .startswith(name + ": [INK-"))
        raw, cal = self.calendar("--user", "a.nowak")
        evs = self.check_events(raw, cal, nowak)
        ev = evs["task-%d@bmt.example" % next(iter(nowak))]
        self.assertEqual(str(ev["SUMMARY"]),
                         "[INK-1] Przygotuj kalkulację – Banery na ogrodzenie")

        # -o writes the same calendar to a file
        out = os.path.join(self.env.dir, "group.ics")
        self.env.run("calendar", "-o", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.env.run("calendar").stdout)

    def test_due_times_and_status(self):
        tasks = self.open_tasks()
        first, second = sorted(tasks)
        # no due time: created + 1 day; a summer due time: CEST
        self.write_sql("UPDATE tasks SET due = NULL WHERE id = ?", first)
        july = int(datetime.datetime(2027, 7, 1, 9, 30, tzinfo=WARSAW).timestamp())
        self.write_sql("UPDATE tasks SET due = ? WHERE id = ?", july, second)
        tasks = self.open_tasks()
        self.assertEqual(tasks[first][3], NOW + 86400)
        raw, cal = self.calendar()
        evs = self.check_events(raw, cal, tasks)
        self.assertIn("DTSTART;TZID=Europe/Warsaw:20270701T093000", content_lines(raw))
        self.assertEqual(evs["task-%d@bmt.example" % second]["DTSTART"].dt.utcoffset(),
                         datetime.timedelta(hours=2))

        # a finished task leaves the calendar
        self.write_sql("UPDATE tasks SET status = 'done', closed = ? WHERE id = ?", NOW, first)
        raw, cal = self.calendar()
        self.check_events(raw, cal, {second: tasks[second]})

    def test_range(self):
        tasks = self.open_tasks()
        first, second = sorted(tasks)
        # first at local midnight starting 2026-12-01, second a day later
        midnight = int(datetime.datetime(2026, 12, 1, tzinfo=WARSAW).timestamp())
        self.write_sql("UPDATE tasks SET due = ? WHERE id = ?", midnight, first)
        self.write_sql("UPDATE tasks SET due = ? WHERE id = ?", midnight + 86400, second)
        tasks = self.open_tasks()
        one = {first: tasks[first]}
        two = {second: tasks[second]}
        for args, want in [
                (("--from", "2026-12-01", "--to", "2026-12-01"), one),
                (("--to", "2026-11-30"), {}),
                (("--from", "2026-12-02"), two),
                (("--from", "2026-12-01", "--to", "2026-12-02"), tasks),
                (("--from", "2026-11-30", "--to", "2026-12-01", "--user", "a.nowak"),
                 {t: v for t, v in one.items() if v[0] == "a.nowak"})]:
            raw, cal = self.calendar(*args)
            self.check_events(raw, cal, want)

    def test_refusals(self):
        for args in [("--user", "nobody"), ("--from", "2026-02-30"), ("--from", "2026-1-01"),
                     ("--to", "2026-12-01x"), ("--from", "2026-12-02", "--to", "2026-12-01"),
                     ("--user",), ("--bogus",), ("--user", "a.nowak", "--user", "m.zak")]:
            p = self.env.run("calendar", *args, check=False)
            self.assertEqual(p.returncode, 1, args)
            self.assertEqual(p.stdout, b"", args)
            self.assertTrue(p.stderr.startswith(b"inkflow: "), (args, p.stderr))


def ics_of(msg):
    """The text/calendar part of a sent task mail, as bytes."""
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)
    return None


def answer_ics(uid, attendee, partstat, method="REPLY"):
    return ("BEGIN:VCALENDAR\r\nMETHOD:%s\r\nPRODID:Microsoft Exchange Server 2010\r\n"
            "VERSION:2.0\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=%s;CN=\"Nowak, Anna\"\r\n"
            " :mailto:%s\r\nORGANIZER:mailto:biuro@bmt.example\r\nUID:%s\r\n"
            "SEQUENCE:0\r\nDTSTAMP:20261127T130000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (method, partstat, attendee, uid)).encode("utf-8")


def outlook_answer(frm, subject, ics, msgid):
    """Outlook's answer to an invitation: an empty text part, HTML and the
    REPLY, all base64, in multipart/alternative."""
    import base64

    def b64(data):
        return base64.encodebytes(data).decode("ascii")
    from email.header import Header
    return ("From: %s\r\nTo: BMT Druk Wielkoformatowy <biuro@bmt.example>\r\n"
            "Subject: %s\r\nDate: Fri, 27 Nov 2026 14:02:00 +0100\r\nMessage-ID: <%s>\r\n"
            "Thread-Topic: x\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=\"_000_X_\"\r\n\r\n"
            "--_000_X_\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
            "--_000_X_\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
            "--_000_X_\r\nContent-Type: text/calendar; charset=\"utf-8\"; method=REPLY\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--_000_X_--\r\n"
            % (frm, Header(subject, "utf-8").encode(), msgid,
               b64("Akceptuję, zrobię to dziś.\r\n".encode("utf-8")),
               b64("<html><body><p>Akceptuję, zrobię to dziś.</p></body></html>".encode()),
               b64(ics))).encode("ascii")


def google_answer(frm, subject, ics, msgid):
    """Google Calendar's: the REPLY inside multipart/alternative and again
    as an invite.ics attachment."""
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"] = frm
    m["To"] = "biuro@bmt.example"
    m["Subject"] = subject
    m["Date"] = "Fri, 27 Nov 2026 14:05:00 +0100"
    m["Message-ID"] = "<%s>" % msgid
    m.set_content("Anna Nowak odrzuciła to zaproszenie.")
    m.add_alternative(ics, maintype="text", subtype="calendar",
                      params={"method": "REPLY", "charset": "UTF-8"})
    m.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return m.as_bytes()


class Answers(unittest.TestCase):
    """What calendar programs send back when someone answers a task's entry:
    automatic mail, never a command or an inquiry; the assignee's answer
    is noted in the project's history."""

    def setUp(self):
        self.env = Env()
        self.env.init()
        self.env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Banery na ogrodzenie",
                               "Prosimy o wycenę 20 banerów 3x1 m."))
        self.env.once()

    def tearDown(self):
        self.env.close()

    def task_entry(self):
        (task, project, email), = self.env.sql(
            "SELECT t.id, t.project_id, u.email FROM tasks t"
            " JOIN users u ON u.id=t.assignee_id WHERE t.status='open'")
        mails = [m for m in self.env.sent_to(email) if ics_of(m)]
        self.assertEqual(len(mails), 1)
        lines = content_lines(ics_of(mails[0]))
        uid = [ln[4:] for ln in lines if ln.startswith("UID:")][0]
        self.assertEqual(uid, "task-%d@bmt.example" % task)
        return task, project, email, uid, str(mails[0]["Subject"])

    def test_answers(self):
        task, project, email, uid, subject = self.task_entry()
        before = len(self.env.sent())
        # Outlook (Polish) accepts, Google Calendar declines; a client
        # pretends to answer with the assignee's UID; a client invites BOK
        # to a meeting (a REQUEST: a person's mail, an inquiry).
        self.env.put(outlook_answer("Anna Nowak <%s>" % email, "Zaakceptowano: " + subject,
                                    answer_ics(uid, email, "ACCEPTED"), "acc@bmt.example"))
        self.env.put(google_answer(email, "Odrzucono: " + subject,
                                   answer_ics(uid, email, "DECLINED"), "dec@bmt.example"))
        self.env.put(google_answer("ola@reklama-baltyk.pl", "Accepted: " + subject,
                                   answer_ics(uid, "ola@reklama-baltyk.pl", "ACCEPTED"),
                                   "spoof@reklama-baltyk.pl"))
        invite = answer_ics("meeting-7@drukarnia-nord.de", "biuro@bmt.example",
                            "NEEDS-ACTION", method="REQUEST")
        self.env.put(google_answer("Jan Nord <jan@drukarnia-nord.de>",
                                   "Einladung: Besprechung Messestand", invite,
                                   "inv@drukarnia-nord.de"))
        self.env.once()

        rows = dict(self.env.sql(
            "SELECT message_id, status || ' ' || coalesce(project_id, 0) || ' ' || reason"
            " FROM messages WHERE message_id IN"
            " ('acc@bmt.example', 'dec@bmt.example', 'spoof@reklama-baltyk.pl',"
            "  'inv@drukarnia-nord.de')"))
        self.assertEqual(rows["acc@bmt.example"],
                         "ignored %d auto-reply (calendar answer (METHOD:REPLY, "
                         "PARTSTAT=ACCEPTED))" % project)
        self.assertTrue(rows["dec@bmt.example"].startswith("ignored %d " % project), rows)
        self.assertTrue(rows["spoof@reklama-baltyk.pl"].startswith("ignored 0 "), rows)
        self.assertTrue(rows["inv@drukarnia-nord.de"].startswith("processed "), rows)

        notes = [r[0] for r in self.env.sql(
            "SELECT text FROM events WHERE project_id=? AND kind='calendar-answer' ORDER BY id",
            project)]
        self.assertEqual(len(notes), 2, notes)
        self.assertIn("accepted the calendar entry of task %d" % task, notes[0])
        self.assertIn("declined the calendar entry of task %d" % task, notes[1])
        # nothing answered to the calendar answers; the invitation is an
        # inquiry and is acknowledged
        new = self.env.sent()[before:]
        self.assertFalse([m for m in new if email in str(m["To"]) or
                          "ola@reklama-baltyk.pl" in str(m["To"])],
                         [(str(m["To"]), str(m["Subject"])) for m in new])
        self.assertTrue([m for m in new if "jan@drukarnia-nord.de" in str(m["To"])])


if __name__ == "__main__":
    unittest.main()
