#!/usr/bin/env bash
# The demo: builds examples/demo_deadlock (a gtest binary whose second test
# deadlocks, linked with gtest_watchdog_main) and runs it with a 2-second
# limit, so you see the watchdog's report and the abort; GoogleTest's XML
# (the stalled test failed) and the JSON report land in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j2 --target demo_deadlock
echo
args=(--gtest_watchdog_timeout=2s --gtest_output=xml:build/demo/test_detail.xml
      --gtest_watchdog_report=build/demo/stall.json)
mkdir -p build/demo
echo "\$ build/examples/demo_deadlock ${args[*]}"
status=0
build/examples/demo_deadlock "${args[@]}" || status=$?
echo
if [ "$status" -eq 134 ]; then
  echo "(the process ended by SIGABRT, exit status $status, as intended)"
else
  echo "demo: expected the watchdog to abort the deadlocked test, got exit status $status" >&2
  exit 1
fi
