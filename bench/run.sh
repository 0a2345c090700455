#!/usr/bin/env bash
# Every benchmark of docs/benchmarks.md, on this machine, in one run:
#   bench/run.sh            full run (a few minutes)
#   bench/run.sh --quick    smoke test: tiny sizes, one repetition (CI)
#   bench/run.sh --keep-going   only the keep-going rows (with --quick: tiny)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
missing=()
for p in strace elfutils gdb python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGTEST_WATCHDOG_BENCH=ON > /dev/null
if [[ " $* " == *" --latency-runs "* ]]; then
  cmake --build build-bench -j2 --target blocked_threads
elif [[ " $* " == *" --keep-going "* ]]; then
  cmake --build build-bench -j2 --target trivial_tests_watchdog keep_going_tests
else
  cmake --build build-bench -j2 --target arm_disarm_bench trivial_tests_plain \
    trivial_tests_watchdog trivial_tests_thread_per_test trivial_tests_idle_thread \
    blocked_threads keep_going_tests
fi
exec python3 bench/run.py "$@"
