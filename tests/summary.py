#!/usr/bin/env python3
"""One line per test suite: how many checks passed, failed and were skipped,
and why they were skipped (grouped by reason), so that a green run that
skipped half of a suite shows it.

usage: tests/summary.py LABEL CRITERION_DIR TESTLOG...

Each TESTLOG is a meson JSON test log (meson-logs/testlog.json, one object
per line; a missing one counts as empty); CRITERION_DIR holds the criterion binaries' --json reports, named
after their meson test. A test with a criterion report is counted check by
check; any other test counts as one check, its skip reason the last line it
printed. Exits 0; the test runs themselves decide success.
"""
import collections
import json
import os
import sys


def criterion_counts(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        report = json.load(f)
    counts = collections.Counter()
    reasons = collections.Counter()
    for suite in report.get("test_suites", []):
        for test in suite.get("tests", []):
            status = test.get("status", "")
            if status == "PASSED":
                counts["passed"] += 1
            elif status == "SKIPPED":
                counts["skipped"] += 1
                msgs = test.get("messages") or ["(no reason given)"]
                reasons[msgs[0].strip()] += 1
            else:
                counts["failed"] += 1
    return counts, reasons


def meson_tests(path):
    """name -> (result, stdout) from meson's JSON log, last entry wins."""
    tests = {}
    if not os.path.exists(path):
        return tests
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            # "boxd:unit / cgroup" -> "cgroup", as the reports are named.
            name = entry["name"].split(" / ")[-1]
            tests[name] = (entry.get("result", ""),
                                    entry.get("stdout") or "")
    return tests


def plain_counts(result, stdout):
    counts = collections.Counter()
    reasons = collections.Counter()
    if result == "OK":
        counts["passed"] += 1
    elif result == "SKIP":
        counts["skipped"] += 1
        lines = [l for l in stdout.splitlines() if l.strip()]
        reasons[lines[-1].strip() if lines else "(no reason given)"] += 1
    else:
        counts["failed"] += 1
    return counts, reasons


def line(label, name, counts, reasons, result=None):
    text = "%d passed" % counts["passed"]
    if counts["failed"]:
        text += ", %d FAILED" % counts["failed"]
    if result and result not in ("OK", "SKIP", "FAIL"):
        text += " (%s)" % result
    if counts["skipped"]:
        text += ", %d skipped: " % counts["skipped"]
        text += "; ".join("%d x %s" % (n, why)
                          for why, n in reasons.most_common())
    return "%-6s %-26s %s" % (label, name, text)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    label, reports = sys.argv[1], sys.argv[2]
    tests = {}
    for testlog in sys.argv[3:]:
        tests.update(meson_tests(testlog))
    names = set(tests)
    if os.path.isdir(reports):
        names |= {f[:-5] for f in os.listdir(reports) if f.endswith(".json")}
    for name in sorted(names):
        report = os.path.join(reports, name + ".json")
        result = tests.get(name, ("", ""))[0]
        if os.path.exists(report):
            try:
                counts, reasons = criterion_counts(report)
            except (OSError, ValueError) as e:
                # Criterion writes a failure's message into its JSON
                # unescaped: a quote in it spoils the report. Meson's
                # verdict still stands.
                counts, reasons = plain_counts(*tests.get(name, ("", "")))
                print(line(label, name, counts, reasons, result) +
                      " (unreadable report: %s)" % e)
                continue
            # A crash before the report was written counts as a failure.
            if result and result not in ("OK", "SKIP") and \
                    not counts["failed"]:
                counts["failed"] += 1
        else:
            counts, reasons = plain_counts(*tests[name])
        print(line(label, name, counts, reasons, result))


if __name__ == "__main__":
    main()
