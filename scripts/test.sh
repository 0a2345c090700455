#!/usr/bin/env bash
# Builds gtest_watchdog and runs every test: the normal build (-O2 -g, the
# way users build their tests), a shared-library build (BUILD_SHARED_LIBS),
# then AddressSanitizer+UndefinedBehaviorSanitizer (built by Clang, with a
# short fuzzing run) and ThreadSanitizer builds. Warnings are errors in our own targets, and clang-tidy
# (.clang-tidy) checks the library's sources.
# Usage: scripts/test.sh [--quick]   (--quick: the normal build only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

quick=0
[ "${1:-}" = "--quick" ] && quick=1

run() {  # run NAME [cmake args...]; $ctest_args: extra ctest arguments
  local name=$1; shift
  echo "=== gtest_watchdog: $name build ==="
  cmake -S . -B "build-$name" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > /dev/null
  cmake --build "build-$name" -j2
  # shellcheck disable=SC2086  # ctest_args is a list of words
  (cd "build-$name" && ctest -j2 --output-on-failure --timeout 300 ${ctest_args:-})
}

run default -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
if [ "$quick" -eq 0 ]; then
  echo "=== gtest_watchdog: clang-tidy ==="
  scripts/tidy.sh build-default
  # The benchmarks must keep working: a short smoke run, no timing asserted.
  echo "=== gtest_watchdog: benchmark smoke run ==="
  bench/run.sh --quick
  # The unit tests link a static white-box copy in any build: not again.
  ctest_args="-LE unit" run shared -DBUILD_SHARED_LIBS=ON
  # Clang builds this one (GCC the others), with the libFuzzer targets of
  # tests/fuzz: their corpus replays under CTest, then each fuzzes briefly.
  run clang-asan -DCMAKE_CXX_COMPILER=clang++ \
    -DGTEST_WATCHDOG_SANITIZE=address,undefined -DGTEST_WATCHDOG_FUZZ=ON
  echo "=== gtest_watchdog: short fuzzing run ==="
  scripts/fuzz.sh --build build-clang-asan 10
  run tsan -DGTEST_WATCHDOG_SANITIZE=thread
fi
