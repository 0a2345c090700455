#!/usr/bin/env python3
"""Checks what gtest_watchdog_discover_tests gave CTest in a consumer build.

    check_ctest.py BUILD_DIR EXECUTABLE [--names-only-default]

The consumer's CMakeLists.txt (tests/consumers/find_package) calls
gtest_watchdog_discover_tests with several prefixes and gtest_discover_tests
with "plain:" and "plain-raw:". Expected TIMEOUTs are computed here from the
executable's own --gtest_watchdog_list_timeouts=tsv, run with the same
arguments and environment, independently of the CMake code under test.
"""
import json
import math
import os
import re
import subprocess
import sys

build, exe = sys.argv[1], sys.argv[2]
all_prefixes = len(sys.argv) < 4  # the add_subdirectory consumer has one call
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def ctest_tests(extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build, env=env,
                         check=True, capture_output=True, text=True).stdout
    tests = {}
    for t in json.loads(out)["tests"]:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        tests[t["name"]] = (t.get("command", []), props)
    return tests


def bounds(args=(), extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    out = subprocess.run([exe, "--gtest_watchdog_list_timeouts=tsv", *args],
                         env=env, check=True, capture_output=True,
                         text=True).stdout
    result = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        result[f[0] + "." + f[1]] = float(f[3])
    return result


def gtest_name(command):
    for arg in command:
        if arg.startswith("--gtest_filter="):
            return arg[len("--gtest_filter="):]
    raise AssertionError(f"no --gtest_filter in {command}")


def ours(bound, margin=60):
    return None if bound == 0 else math.ceil(bound) + margin


def with_prefix(tests, prefix):
    """{name without prefix: (command, props)} for one discovery call."""
    known = ("plain:", "plain-raw:", "raw:", "post:", "args:", "env:",
             "margin:", "tight:")
    out = {}
    for name, value in tests.items():
        if prefix:
            if name.startswith(prefix):
                out[name[len(prefix):]] = value
        elif not name.startswith(known):
            out[name] = value
    return out


def check_timeouts(tests, prefix, expect):
    """expect(gtest name) -> the TIMEOUT CTest must show (None: none)."""
    group = with_prefix(tests, prefix)
    check(group, f"no tests with prefix '{prefix}'")
    for name, (command, props) in group.items():
        want = expect(gtest_name(command))
        got = props.get("TIMEOUT")
        check(got == want, f"{prefix}{name}: TIMEOUT {got}, expected {want}")
        # The test is told when CTest would kill it.
        outer = [a for a in command
                 if a.startswith("--gtest_watchdog_outer_timeout=")]
        check(outer == ([f"--gtest_watchdog_outer_timeout={want}s"]
                        if want else []),
              f"{prefix}{name}: {outer} in its command, TIMEOUT {want}")


tests = ctest_tests()
plain = bounds()
default = with_prefix(tests, "")
print(f"{len(tests)} CTest tests; default names: {sorted(default)}")
check_timeouts(tests, "", lambda g: ours(plain[g]))
check("Consumer.Passes" in default and "Consumer.Annotated" in default,
      "Consumer.Passes / Consumer.Annotated missing")
check(ours(plain["Consumer.Annotated"]) < ours(plain["Consumer.Passes"]),
      "the annotated test's TIMEOUT is not the shorter one")
disabled = default.get("Consumer.NotYet", ([], {}))[1]
check(disabled.get("DISABLED") is True,
      f"Consumer.NotYet is not DISABLED: {disabled}")

if all_prefixes:
    # The same names as CMake's own gtest_discover_tests, pretty or raw.
    check(set(default) == set(with_prefix(tests, "plain:")),
          f"names differ from gtest_discover_tests: {sorted(default)} vs "
          f"{sorted(with_prefix(tests, 'plain:'))}")
    check(set(with_prefix(tests, "raw:")) ==
          set(with_prefix(tests, "plain-raw:")),
          "NO_PRETTY_* names differ from gtest_discover_tests")
    for name, (_, props) in with_prefix(tests, "plain:").items():
        check("TIMEOUT" not in props, f"plain:{name} has a TIMEOUT")
    check_timeouts(tests, "raw:", lambda g: ours(plain[g]))
    check_timeouts(tests, "post:", lambda g: ours(plain[g]))
    # EXTRA_ARGS reach the listing (a repeat multiplies the bound); the
    # user's smaller TIMEOUT is raised.
    short = bounds(["--gtest_watchdog_timeout=2s", "--gtest_repeat=2"])
    check(short["Consumer.Passes"] == 2 * bounds(
        ["--gtest_watchdog_timeout=2s"])["Consumer.Passes"],
          "--gtest_repeat=2 does not double the bound")
    check_timeouts(tests, "args:", lambda g: max(10, ours(short[g])))
    # ENVIRONMENT reaches the listing; the user's larger TIMEOUT is kept.
    env3 = bounds(extra_env={"GTEST_WATCHDOG_TIMEOUT": "3s"})
    check_timeouts(tests, "env:", lambda g: max(5000, ours(env3[g])))
    check(ours(env3["Consumer.Passes"]) < 5000, "env: bound not below 5000")
    check_timeouts(tests, "margin:", lambda g: ours(plain[g], 5))
    check(all(n.startswith("Consumer.")
              for n in with_prefix(tests, "margin:")),
          "TEST_FILTER not applied")

    xml = os.path.join(build, "xml", "margin:Consumer.Passes.xml")
    subprocess.run(["ctest", "-R", r"^margin:Consumer\.Passes$"], cwd=build,
                   check=True, capture_output=True)
    check(os.path.exists(xml) and 'name="Passes"' in open(xml).read(),
          f"XML_OUTPUT_DIR: no {xml} with the test")

    # PRE_TEST (the default) lists when ctest runs: ctest's environment
    # counts. POST_BUILD listed at build time and stays as it was.
    env7 = {"GTEST_WATCHDOG_TIMEOUT": "7s"}
    later = ctest_tests(env7)
    seven = bounds(extra_env=env7)
    check_timeouts(later, "", lambda g: ours(seven[g]))
    check_timeouts(later, "post:", lambda g: ours(plain[g]))

if all_prefixes:
    # A ScopedTimeout lifts the test's limit past CTest's TIMEOUT (1 + 3 s):
    # the outer timeout still ends the run with a report before CTest's kill.
    tight = subprocess.run(
        ["ctest", "-R", r"^tight:Consumer\.Stretched$", "--output-on-failure"],
        cwd=build, capture_output=True, text=True)
    tight_out = tight.stdout + tight.stderr
    check(re.search(r"Stretched \.+Subprocess aborted\*\*\*Exception",
                    tight_out) and
          "[ TIMEOUT  ] the whole test run still running" in tight_out and
          "--gtest_watchdog_outer_timeout=4s minus a safety margin" in tight_out,
          "tight:Consumer.Stretched was not reported before CTest's kill:\n" +
          tight_out[-3000:])

# CTest runs the hanging test: the watchdog's report comes out, CTest does
# not kill it first.
run = subprocess.run(
    ["ctest", "-R", r"^Consumer\.(Passes|Annotated)$", "--output-on-failure"],
    cwd=build, capture_output=True, text=True)
out = run.stdout + run.stderr
check(run.returncode != 0, "ctest passed although Consumer.Annotated hangs")
check(re.search(r"Consumer\.Passes \.+ +Passed", out), "Passes did not pass")
check(re.search(r"Consumer\.Annotated \.+Subprocess aborted\*\*\*Exception",
                out), "Annotated did not end by the watchdog's abort")
check("Timeout" not in out.replace("[ TIMEOUT  ]", ""),
      "CTest reported a timeout")
check("[ TIMEOUT  ] Consumer.Annotated: test body still running" in out,
      "no watchdog report in CTest's output")

if failures:
    print(out)
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("ctest: names, TIMEOUTs and the hanging test's report all as expected")
