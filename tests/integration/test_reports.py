"""The activity and approvals reports against their definitions.

`inkflow report activity` and `report approvals` count per user with
grouped queries over a period's rows and schema 12's partial indexes, so
that they stay fast at a million projects.  Here their figures are checked
against the plain per-user definitions, written out in SQL below, over a
history made by the benchmark's generator (tests/bench/gen-bigdb: years of
projects in every state, calculations, approvals, rejections, corrections,
offers, closed tasks), for the whole history and for periods."""
import json
import os
import subprocess
import time
import unittest

from inkenv import Env

GEN_BIGDB = os.environ.get("GEN_BIGDB", "")
if GEN_BIGDB and not os.access(GEN_BIGDB, os.X_OK):
    raise SystemExit("test_reports: GEN_BIGDB=%s is not an executable" % GEN_BIGDB)
ALL_TO = (1 << 63) // 2 - 1  # the report's "no --to": INT64_MAX / 2

# One row per active user, as the report orders them.
ACTIVITY = """
SELECT u.login, u.name,
 (SELECT count(*) FROM messages m JOIN projects p ON p.id=m.project_id
  WHERE p.owner_id=u.id AND m.class='normal' AND m.received>=?1 AND m.received<?2),
 (SELECT count(*) FROM events e WHERE e.actor=u.login AND e.kind='calculation'
  AND e.time>=?1 AND e.time<?2),
 (SELECT count(*) FROM documents d JOIN projects p ON p.id=d.project_id
  WHERE p.owner_id=u.id AND d.kind='offer' AND d.created>=?1 AND d.created<?2),
 (SELECT count(*) FROM tasks t WHERE t.closed_by=u.id AND t.closed>=?1 AND t.closed<?2),
 (SELECT count(*) FROM projects p WHERE p.owner_id=u.id AND p.created>=?1 AND p.created<?2)
FROM users u WHERE u.active=1 ORDER BY u.role, u.login"""

# Each submission in the period and the first decision on its project after it.
APPROVALS = """
WITH s AS (SELECT e.id, e.project_id, e.time FROM events e WHERE e.kind='submitted'
  AND e.text NOT LIKE '%automatically%' AND e.time>=?1 AND e.time<?2),
 d AS (SELECT s.id sid, (SELECT min(e.id) FROM events e WHERE e.project_id=s.project_id
  AND e.id>s.id AND e.kind IN ('approved','rejected','corrected')) did, s.time st FROM s)
SELECT u.role, e.actor, count(*), avg(e.time-d.st), max(e.time-d.st),
 sum(e.kind='approved'), sum(e.kind='rejected'), sum(e.kind='corrected')
FROM d JOIN events e ON e.id=d.did JOIN users u ON u.login=e.actor
GROUP BY u.role, e.actor ORDER BY u.role, e.actor"""


def day_start(day):
    """Local midnight of YYYY-MM-DD, as the report's --from takes it."""
    return int(time.mktime(time.strptime(day, "%Y-%m-%d")))


@unittest.skipUnless(GEN_BIGDB, "GEN_BIGDB (tests/bench/gen-bigdb) not set; make integration sets it")
class ReportsAgainstDefinitions(unittest.TestCase):
    PROJECTS = 2500

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.env.init()
        cls.now = int(time.time())
        p = subprocess.run([GEN_BIGDB, "-p", str(cls.PROJECTS), "-s", "12", "-t", str(cls.now),
                            os.path.join(cls.env.data, "inkflow.db")],
                           capture_output=True, timeout=300)
        if p.returncode != 0:
            cls.env.close()
            raise AssertionError("gen-bigdb exited %d:\n%s" % (
                p.returncode, p.stderr.decode(errors="replace")[-3000:]))

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def periods(self):
        """(label, --from/--to arguments, bounds): the whole history, the
        last 30 days, a year three years ago, a day with nothing."""
        def day(t):
            return time.strftime("%Y-%m-%d", time.localtime(t))
        out = [("all time", [], (0, ALL_TO))]
        for label, a, b in (("last 30 days", self.now - 30 * 86400, self.now),
                            ("a year, three years ago", self.now - 4 * 365 * 86400,
                             self.now - 3 * 365 * 86400),
                            ("one day in the future", self.now + 400 * 86400,
                             self.now + 400 * 86400)):
            f, t = day(a), day(b)
            out.append((label, ["--from", f, "--to", t], (day_start(f), day_start(t) + 86400)))
        return out

    def test_activity(self):
        nonzero = set()
        for label, args, (lo, hi) in self.periods():
            with self.subTest(period=label):
                got = self.env.json("report", "activity", *args)
                want = self.env.sql(ACTIVITY, lo, hi)
                self.assertEqual(
                    [(r["user"], r["name"], r["client_mails"], r["calculations"], r["offers"],
                      r["tasks_done"], r["new_projects"]) for r in got],
                    [tuple(r) for r in want])
                for r in want:
                    nonzero |= {i for i in range(2, 7) if r[i]}
        # every column was checked on something, not only on zeros
        self.assertEqual(nonzero, {2, 3, 4, 5, 6})

    def test_approvals(self):
        seen = 0
        for label, args, (lo, hi) in self.periods():
            with self.subTest(period=label):
                got = self.env.json("report", "approvals", *args)
                want = self.env.sql(APPROVALS, lo, hi)
                self.assertEqual(len(got["by_approver"]), len(want))
                for g, w in zip(got["by_approver"], want):
                    self.assertEqual((g["level"], g["approver"], g["decisions"], g["approved"],
                                      g["rejected"], g["corrected"]),
                                     (w[0], w[1], w[2], w[5], w[6], w[7]))
                    # the report keeps whole seconds of the average
                    self.assertAlmostEqual(g["avg_hours"], int(w[3]) / 3600.0, places=9)
                    self.assertAlmostEqual(g["max_hours"], w[4] / 3600.0, places=9)
                    seen += w[2]
                (pending,), = self.env.sql(
                    "SELECT count(*) FROM calculations WHERE status='submitted'")
                self.assertEqual(got["pending"], pending)
        self.assertGreater(seen, self.PROJECTS // 2)

    def test_text_columns_line_up_with_polish_and_german_names(self):
        out = self.env.run("report", "activity").stdout.decode("utf-8")
        lines = out.splitlines()
        self.assertTrue(any(c in out for c in "ąęłńóśźżĄĘŁŃÓŚŹŻäöüßÄÖÜ"), out[:500])
        # numbers right-aligned after a name column of fixed width: every
        # row as long as the header, in characters (not bytes)
        self.assertEqual({len(line) for line in lines}, {len(lines[0])}, out[:2000])


if __name__ == "__main__":
    unittest.main()
