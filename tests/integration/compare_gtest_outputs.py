#!/usr/bin/env python3
"""Compares the test cases of two GoogleTest XML or JSON output files.

Usage: compare_gtest_outputs.py EXPECTED ACTUAL

Every test case of EXPECTED must be in ACTUAL with the same status, result,
failure texts and properties (times and timestamps may differ, and so may
the order). Prints OK, or the differences and exits 1.
"""

import json
import sys
import xml.etree.ElementTree as ET

# Attributes GoogleTest writes on a test case that are not properties.
XML_ATTRIBUTES = {"name", "file", "line", "status", "result", "time",
                  "timestamp", "classname", "type_param", "value_param"}
JSON_FIELDS = {"name", "file", "line", "status", "result", "time",
               "timestamp", "classname", "type_param", "value_param",
               "failures", "skipped"}


def read(path):
    text = open(path, encoding="utf-8").read()
    cases = {}
    if text.lstrip().startswith("<"):
        for suite in ET.fromstring(text).findall("testsuite"):
            for tc in suite.findall("testcase"):
                props = {p.get("name"): p.get("value")
                         for p in tc.iter("property")}
                for k, v in tc.attrib.items():
                    if k not in XML_ATTRIBUTES:
                        props[k] = v
                cases[suite.get("name") + "." + tc.get("name")] = {
                    "status": tc.get("status"),
                    "result": tc.get("result"),
                    "failures": [f.text or "" for f in tc.findall("failure")],
                    "skipped": [s.text or "" for s in tc.findall("skipped")],
                    "properties": props,
                }
    else:
        for suite in json.loads(text)["testsuites"]:
            for tc in suite["testsuite"]:
                cases[suite["name"] + "." + tc["name"]] = {
                    "status": tc.get("status"),
                    "result": tc.get("result"),
                    "failures": [f["failure"] for f in tc.get("failures", [])],
                    "skipped": [tc["skipped"]] if "skipped" in tc else [],
                    "properties": {k: v for k, v in tc.items()
                                   if k not in JSON_FIELDS},
                }
    return cases


def main():
    expected, actual = read(sys.argv[1]), read(sys.argv[2])
    problems = []
    for name, want in sorted(expected.items()):
        got = actual.get(name)
        if got is None:
            problems.append("%s: missing" % name)
        elif got != want:
            problems.append("%s:\n  expected %r\n  got      %r" %
                            (name, want, got))
    print("%d test cases compared" % len(expected))
    if problems:
        print("\n".join(problems))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
