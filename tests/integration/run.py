#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py (unittest) and prints one final
line "N passed, N failed" for CI.  Arguments filter test names: NAME keeps
the tests whose id contains it, --skip=NAME leaves them out.

--jobs=N (or INKFLOW_TEST_JOBS=N) runs the modules in N lanes at once:
most of a test's time is spent waiting for a daemon, a mail server or a
timeout, not computing, so two lanes take about half the time on two
cores.  Each module is one child process (python3 run.py --module=NAME
with the same filters) whose output is printed whole when it ends; the
lanes take modules longest first, from a queue, so they end together.
Every module starts its own mail lab on free ports (INKFLOW_TEST_LANE
gives each lane its own first choice) and works in its own temporary
directories, so modules do not share anything."""
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

# Modules known to take longest (measured, plain build: test_lab 170 s,
# test_fault 120 s, test_torture 60 s and 3 min under ASan, test_ingest
# 75 s), first in the queue; the rest follow in name order.
LONG_FIRST = ["test_lab", "test_fault", "test_torture", "test_ingest", "test_walkthrough",
              "test_attack", "test_approval", "test_order", "test_complaint", "test_remind"]


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


def flat(s):
    for t in s:
        if isinstance(t, unittest.TestSuite):
            yield from flat(t)
        else:
            yield t


def selected(suite, wanted, skip):
    return [t for t in flat(suite)
            if (not wanted or any(w in t.id() for w in wanted))
            and not any(k in t.id() for k in skip)]


def run_lanes(jobs, filters, modules):
    """Each module in a child, jobs at a time; returns (passed, failed)."""
    order = sorted(modules, key=lambda m: (LONG_FIRST.index(m) if m in LONG_FIRST
                                           else len(LONG_FIRST), m))
    todo = queue.Queue()
    for m in order:
        todo.put(m)
    lock = threading.Lock()
    totals = {"passed": 0, "failed": 0}
    t0 = time.monotonic()

    def lane(k):
        env = dict(os.environ, INKFLOW_TEST_LANE=str(k))
        while True:
            try:
                m = todo.get_nowait()
            except queue.Empty:
                return
            t = time.monotonic()
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--module=" + m]
                               + filters, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env)
            out = p.stdout.decode("utf-8", "replace")
            passed = failed = None
            for line in out.splitlines():
                if line.startswith("integration: ") and line.endswith(" failed"):
                    w = line.split()
                    passed, failed = int(w[1]), int(w[3])
            if passed is None:  # the child died before its summary
                passed, failed = 0, 1
                out += "\nrun.py: module %s ended (status %d) without a summary\n" % (
                    m, p.returncode)
            elif p.returncode != 0 and failed == 0:
                failed = 1
            with lock:
                totals["passed"] += passed
                totals["failed"] += failed
                sys.stdout.write("==== %s (%.0f s, at %.0f s)\n%s" % (
                    m, time.monotonic() - t, time.monotonic() - t0, out))
                sys.stdout.flush()

    threads = [threading.Thread(target=lane, args=(k,)) for k in range(jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return totals["passed"], totals["failed"]


def main():
    args = sys.argv[1:]
    jobs = int(os.environ.get("INKFLOW_TEST_JOBS", "1") or 1)
    module = None
    filters = []
    for a in args:
        if a.startswith("--jobs="):
            jobs = int(a[len("--jobs="):])
        elif a.startswith("--module="):
            module = a[len("--module="):]
        else:
            filters.append(a)
    skip = [a[len("--skip="):] for a in filters if a.startswith("--skip=")]
    wanted = [a for a in filters if not a.startswith("--skip=")]
    loader = unittest.TestLoader()
    pattern = (module + ".py") if module else "test_*.py"
    tests = selected(loader.discover(here, pattern=pattern), wanted, skip)
    if jobs > 1 and not module:
        # A module that failed to import is a test named after it.
        modules = sorted({t.id().split(".")[0] if t.id().startswith("test_")
                          else t.id().split(".")[-1] for t in tests})
        if len(modules) > 1:
            passed, failed = run_lanes(jobs, filters, modules)
            print("integration: %d passed, %d failed" % (passed, failed))
            sys.exit(1 if failed else 0)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result)
    res = runner.run(unittest.TestSuite(tests))
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    print("integration: %d passed, %d failed" % (res.passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
