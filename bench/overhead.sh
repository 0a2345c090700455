#!/usr/bin/env bash
# Wall time and system calls of 100,000 trivial tests, plain GoogleTest vs
# gtest_watchdog, interleaved runs. Usage: bench/overhead.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v strace > /dev/null || { apt-get install -y -qq strace > /dev/null; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGTEST_WATCHDOG_BENCH=ON > /dev/null
cmake --build build-bench -j2 --target trivial_tests_plain trivial_tests_watchdog
runs=${1:-5}
for i in $(seq "$runs"); do
  for v in plain watchdog; do
    /usr/bin/time -f "$v %e s" "build-bench/bench/trivial_tests_$v" > /dev/null
  done
done 2>&1 | sort | awk '{print} {s[$1]+=$2; n[$1]++} END {for (v in s) printf "mean %s %.3f s\n", v, s[v]/n[v]}'
for v in plain watchdog; do
  printf "system calls, %s: " "$v"
  strace -f -c -o /dev/stdout "build-bench/bench/trivial_tests_$v" 2> /dev/null | awk '/ total$/ {print $4}' | tail -1
done
