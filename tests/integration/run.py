#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py (unittest) and prints one final
line "N passed, N failed" for CI.  Arguments filter test names: NAME keeps
the tests whose id contains it, --skip=NAME leaves them out."""
import os
import sys
import time
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)


class Result(unittest.TextTestResult):
    passed = 0  # counted here: testsRun minus the rest goes wrong when a
                # whole module is skipped or a test and its cleanup both fail

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self.stream.write("  (%.1fs)\n" % (time.monotonic() - self._t0))


def main():
    loader = unittest.TestLoader()
    suite = loader.discover(here, pattern="test_*.py")
    skip = [a[len("--skip="):] for a in sys.argv[1:] if a.startswith("--skip=")]
    wanted = [a for a in sys.argv[1:] if not a.startswith("--skip=")]
    if wanted or skip:

        def flat(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    yield from flat(t)
                else:
                    yield t
        suite = unittest.TestSuite(t for t in flat(suite)
                                   if (not wanted or any(w in t.id() for w in wanted))
                                   and not any(k in t.id() for k in skip))
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    print("integration: %d passed, %d failed" % (res.passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
