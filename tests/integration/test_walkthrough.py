"""The README's walkthrough: ./setup.sh demo then tools/walkthrough take
INK-1 of the sample data from inquiry to closed."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from inkenv import INKFLOW, TOP


class Walkthrough(unittest.TestCase):
    def test_sample_project_closes(self):
        d = tempfile.mkdtemp(prefix="inkflow-walk-")
        try:
            for sub in ("conf", "templates", "mailboxes", "tools"):
                shutil.copytree(os.path.join(TOP, sub), os.path.join(d, sub))
            env = dict(os.environ, INKFLOW=INKFLOW)
            demo = subprocess.run([os.path.join(d, "tools", "demo")], env=env,
                                  capture_output=True, timeout=120)
            self.assertEqual(demo.returncode, 0, demo.stderr)
            self.assertIn(b"5 new projects", demo.stdout)
            walk = subprocess.run([os.path.join(d, "tools", "walkthrough")], env=env,
                                  capture_output=True, timeout=120)
            self.assertEqual(walk.returncode, 0, walk.stderr.decode()[-2000:])
            out = walk.stdout.decode()
            self.assertIn("state:    closed", out)
            for number in ("OF/2026/0001", "ZA/2026/0001", "ZW/2026/0001", "WZ/2026/0001"):
                self.assertIn(number.replace("2026", out.split("OF/")[1][:4]), out)
            # the management view of the same data
            conf = os.path.join(d, "run", "conf", "inkflow.xml")
            rep = lambda *a: json.loads(subprocess.run([INKFLOW, "-q", "-c", conf, "report"] + list(a)
                                                       + ["--json"], capture_output=True,
                                                       check=True).stdout)
            p = rep("pipeline")
            self.assertEqual((p["projects"], p["offers"], p["won"]), (5, 1, 1))
            anna = [r for r in p["by_owner"] if r["owner"] == "a.nowak"][0]
            self.assertEqual((anna["projects"], anna["won"], anna["value"]), (1, 1, 195560))
            closed = [r for r in p["by_state"] if r["state"] == "closed"][0]
            self.assertEqual(closed["projects"], 1)
            a = [r for r in rep("approvals")["by_approver"] if r["approver"] == "m.zielinski"][0]
            self.assertEqual((a["level"], a["decisions"], a["approved"]), ("supervisor", 1, 1))
            act = {r["user"]: r for r in rep("activity")}
            self.assertEqual((act["a.nowak"]["calculations"], act["a.nowak"]["offers"]), (1, 1))
            text = subprocess.run([INKFLOW, "-q", "-c", conf, "report", "pipeline"],
                                  capture_output=True, check=True).stdout.decode()
            self.assertIn("1 955,60 zł", text)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
