"""The README's walkthrough: ./setup.sh demo then tools/walkthrough take
INK-1 of the sample data from inquiry to closed."""
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
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
