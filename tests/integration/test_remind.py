"""Issue 8: reminders and escalation over a simulated week with injected
time (INKFLOW_NOW): the exact mails, none twice across restarts."""
import os
import unittest

from inkenv import Env, make_mail

REP = "anna.nowak@bmt.example"
SUP = "marek.zielinski@bmt.example"
DIR = "ewa.wisniewska@bmt.example"
T0 = 1795000000  # a fixed Monday morning
H = 3600
D = 86400


class Reminders(unittest.TestCase):
    def tearDown(self):
        os.environ.pop("INKFLOW_NOW", None)

    def at(self, env, t, runs=1):
        os.environ["INKFLOW_NOW"] = str(t)
        for _ in range(runs):  # each run is a fresh process: a restart
            env.once()

    def count(self, env, addr, word):
        return len([m for m in env.sent_to(addr) if word in str(m["Subject"])])

    def test_week(self):
        env = Env()
        try:
            os.environ["INKFLOW_NOW"] = str(T0)
            env.init()
            env.put(make_mail("ola@reklama-baltyk.pl", "Baner", "x"))
            self.at(env, T0)                       # task due T0 + 2d
            self.assertEqual(self.count(env, REP, "Przygotuj kalkulację"), 1)
            self.at(env, T0 + 1 * D, runs=2)       # not due yet
            self.assertEqual(self.count(env, REP, "Przypomnienie"), 0)
            self.at(env, T0 + 2 * D + 60, runs=3)  # due: one reminder, not three
            self.assertEqual(self.count(env, REP, "Przypomnienie"), 1)
            self.at(env, T0 + 2 * D + 12 * H)      # within the 24h period
            self.assertEqual(self.count(env, REP, "Przypomnienie"), 1)
            self.at(env, T0 + 3 * D + 120, runs=2)
            self.assertEqual(self.count(env, REP, "Przypomnienie"), 2)
            self.assertEqual(self.count(env, SUP, "Zaległe zadanie"), 0)
            self.at(env, T0 + 4 * D + 180, runs=2)  # 2 days overdue: the supervisor
            self.assertEqual(self.count(env, REP, "Przypomnienie"), 3)
            self.assertEqual(self.count(env, SUP, "Zaległe zadanie"), 1)
            self.at(env, T0 + 6 * D + 240, runs=2)  # 4 days: one level further up
            self.assertEqual(self.count(env, SUP, "Zaległe zadanie"), 1)
            self.assertEqual(self.count(env, DIR, "Zaległe zadanie"), 1)
            # the reminder carries the same working links as the task
            first = [m for m in env.sent_to(REP) if "Przygotuj" in str(m["Subject"])][0]
            rem = [m for m in env.sent_to(REP) if "Przypomnienie" in str(m["Subject"])][0]
            self.assertEqual(rem["Reply-To"], first["Reply-To"])
            # the task is an entry in her calendar; the reminder updates it
            ics = [p for p in first.iter_attachments() if p.get_content_type() == "text/calendar"]
            self.assertEqual(len(ics), 1)
            body = ics[0].get_content()
            self.assertIn("METHOD:REQUEST", body)
            self.assertIn("DTSTART;TZID=Europe/Warsaw:", body)
            self.assertIn("SEQUENCE:0", body)
            rics = [p for p in rem.iter_attachments() if p.get_content_type() == "text/calendar"]
            self.assertIn("SEQUENCE:1", rics[0].get_content())
            # done: no more reminders
            env.run("calc", "add", "1", "--as", "a.nowak", input=b"BAN-440 1 100x100cm\n")
            env.run("calc", "submit", "1", "--as", "a.nowak")
            self.at(env, T0 + 8 * D)
            self.assertEqual(self.count(env, REP, "Przypomnienie: Przygotuj"), 4)
            # done: the calendar entry is cancelled with the same UID
            cancel = [m for m in env.sent_to(REP) if "Zakończone" in str(m["Subject"])]
            self.assertEqual(len(cancel), 1)
            c = [p for p in cancel[0].iter_attachments()][0].get_content()
            self.assertIn("METHOD:CANCEL", c)
            uid = [l for l in body.splitlines() if l.startswith("UID:")][0]
            self.assertIn(uid, c)
            self.at(env, T0 + 9 * D)
            self.assertEqual(self.count(env, REP, "Przypomnienie: Przygotuj"), 4)
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
