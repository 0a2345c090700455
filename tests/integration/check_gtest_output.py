#!/usr/bin/env python3
"""Checks a GoogleTest XML or JSON output file against expectations.

Usage: check_gtest_output.py FILE SPEC...

Each SPEC is SUITE.TEST=WHAT; the NonTestSuiteFailure suite GoogleTest adds
for failures outside any test has the test name "" ("NonTestSuiteFailure."),
and so has a suite's own failure from GoogleTest 1.16 on ("Phase.").
WHAT is one of
  passed | failed | skipped | notrun   the test's state (every test case in
                                      the file needs exactly one of these)
  failed:TEXT      failed, TEXT in the failure (in XML: in its message
                   attribute and in its text)
  detail:TEXT      TEXT in the failure's text
  nosummary:TEXT   XML only: TEXT not in the failure's message attribute
  verdict:TEXT     the line right after the watchdog's headline, in the
                   failure's summary (XML: its message attribute; JSON: its
                   text before "Stack trace:"), is "[ VERDICT  ] ..." and
                   holds TEXT; in XML the failure's text has that line too
  time>=SECONDS    the test's time is at least SECONDS

The file must parse, and the failure counts of the suites and of the whole
file must agree with the test cases. Prints the test cases and their states;
exits 1 with the reasons (and the file) if anything does not hold.
"""

import json
import sys
import xml.etree.ElementTree as ET


class Case:
    def __init__(self, name, state, time, summaries, details):
        self.name = name
        self.state = state
        self.time = time
        self.summaries = summaries  # XML message attributes; JSON: None
        self.details = details


def state_of(status, result, failed):
    if status.lower() == "notrun":
        return "notrun"
    if failed:
        return "failed"
    if result.lower() == "skipped":
        return "skipped"
    return "passed"


def counted_failures(suite_name, cases):
    """The failed test cases GoogleTest counts in a suite's "failures".

    From 1.16 on, a suite's own failure (SetUpTestSuite, TearDownTestSuite)
    is a test case named "" of that suite, which GoogleTest does not count
    (its issue 4911); the NonTestSuiteFailure suite counts its case.
    """
    return sum(c.state == "failed" and
               (suite_name == "NonTestSuiteFailure" or
                not c.name.endswith("."))
               for c in cases)


def read_xml(text, errors):
    root = ET.fromstring(text)
    cases = []
    counted = 0
    for suite in root.findall("testsuite"):
        suite_cases = []
        for tc in suite.findall("testcase"):
            failures = tc.findall("failure")
            suite_cases.append(
                Case(
                    suite.get("name") + "." + tc.get("name"),
                    state_of(tc.get("status"), tc.get("result"), failures),
                    float(tc.get("time")),
                    [f.get("message") or "" for f in failures],
                    [f.text or "" for f in failures],
                ))
        failed = counted_failures(suite.get("name"), suite_cases)
        if int(suite.get("failures")) != failed:
            errors.append("suite %s says failures=%s, has %d" %
                          (suite.get("name"), suite.get("failures"), failed))
        if suite.get("name") != "NonTestSuiteFailure":
            counted += failed
        cases += suite_cases
    if int(root.get("failures")) != counted:
        errors.append("file says failures=%s, tests have %d" %
                      (root.get("failures"), counted))
    return cases


def read_json(text, errors):
    root = json.loads(text)
    cases = []
    counted = 0
    for suite in root["testsuites"]:
        suite_cases = []
        for tc in suite["testsuite"]:
            details = [f["failure"] for f in tc.get("failures", [])]
            suite_cases.append(
                Case(
                    suite["name"] + "." + tc["name"],
                    state_of(tc["status"], tc["result"], details),
                    float(tc["time"].rstrip("s")),
                    None,
                    details,
                ))
        failed = counted_failures(suite["name"], suite_cases)
        if suite["failures"] != failed:
            errors.append("suite %s says failures=%d, has %d" %
                          (suite["name"], suite["failures"], failed))
        if suite["name"] != "NonTestSuiteFailure":
            counted += failed
        cases += suite_cases
    if root["failures"] != counted:
        errors.append("file says failures=%d, tests have %d" %
                      (root["failures"], counted))
    return cases


# How the watchdog's headline starts: the report helper's failure message,
# or the stall path's own lines when the helper failed.
HEADLINES = ("gtest_watchdog: ", "[ TIMEOUT  ] ", "[ CRASH    ] ",
             "[ SIGNAL   ] ")
VERDICT = "[ VERDICT  ] "


def verdict_line(summary):
    """The "[ VERDICT  ]" line right after the headline, or why there is none.

    Returns (line, None) or (None, reason).
    """
    lines = summary.split("\n")
    for i, line in enumerate(lines):
        if not line.startswith(VERDICT):
            continue
        if i == 0 or not lines[i - 1].startswith(HEADLINES):
            return None, "the verdict does not follow the headline"
        return line, None
    return None, "no verdict line before the stack trace"


def gtest_json_text(text):
    """Undoes GoogleTest's JSON escaping of UTF-8, byte by byte.

    Up to its fix (google/googletest issue 5081), GoogleTest's JSON writer
    compares each byte as a signed char and writes every byte of a
    multi-byte character as its own \\u00XX: the decoded text is Latin-1
    mojibake of the UTF-8 bytes. Text with no such characters is returned
    as it is.
    """
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def summaries_of(c):
    if c.summaries is not None:
        return c.summaries
    return [gtest_json_text(d).split("\nStack trace:\n")[0]
            for d in c.details]


def check(cases, specs, errors):
    by_name = {}
    for c in cases:
        if c.name in by_name:
            errors.append("%s appears twice" % c.name)
        by_name[c.name] = c
    stated = set()
    for spec in specs:
        name, _, what = spec.partition("=")
        c = by_name.get(name)
        if c is None:
            errors.append("%s: not in the file" % name)
            continue
        kind, _, arg = what.partition(":")
        if kind in ("passed", "failed", "skipped", "notrun"):
            stated.add(name)
            if c.state != kind:
                errors.append("%s: %s, expected %s" % (name, c.state, kind))
            summaries = c.details if c.summaries is None else c.summaries
            if arg and not (any(arg in s for s in summaries) and
                            any(arg in d for d in c.details)):
                errors.append("%s: failure without %r" % (name, arg))
        elif kind == "detail":
            if not any(arg in d for d in c.details):
                errors.append("%s: failure text without %r" % (name, arg))
        elif kind == "nosummary":
            if c.summaries is not None and any(arg in s
                                               for s in c.summaries):
                errors.append("%s: %r in the failure's message attribute" %
                              (name, arg))
        elif kind == "verdict":
            if not c.details:
                errors.append("%s: no failure" % name)
            for summary in summaries_of(c):
                line, why = verdict_line(summary)
                if line is None:
                    errors.append("%s: %s in %r" % (name, why, summary))
                elif arg not in line:
                    errors.append("%s: verdict %r without %r" %
                                  (name, line, arg))
                elif c.summaries is not None and not any(
                        line in d for d in c.details):
                    errors.append("%s: verdict %r not in the failure's text" %
                                  (name, line))
        elif what.startswith("time>="):
            if c.time < float(what[len("time>="):]):
                errors.append("%s: time %.3f, expected %s" %
                              (name, c.time, what))
        else:
            errors.append("bad spec %r" % spec)
    for c in cases:
        if c.name not in stated:
            errors.append("%s (%s): not expected" % (c.name, c.state))


def main(argv):
    path, specs = argv[1], argv[2:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    errors = []
    try:
        if text.lstrip().startswith("<"):
            cases = read_xml(text, errors)
        else:
            cases = read_json(text, errors)
    except (ET.ParseError, ValueError, KeyError, TypeError) as e:
        print("%s does not parse: %s\n%s" % (path, e, text))
        return 1
    check(cases, specs, errors)
    for c in cases:
        print("%-40s %-8s %.3f s" % (c.name, c.state, c.time))
    if errors:
        print("\n".join(["FAILED:"] + errors + ["", text]))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
