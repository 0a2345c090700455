#!/usr/bin/env bash
# Builds gtest_watchdog and runs every test: the normal build (-O2 -g, the
# way users build their tests), a shared-library build (BUILD_SHARED_LIBS),
# then AddressSanitizer+UndefinedBehaviorSanitizer (built by Clang, with a
# short fuzzing run) and ThreadSanitizer builds. Warnings are errors in our own targets, and clang-tidy
# (.clang-tidy) checks the library's sources. Last, the normal build and its
# tests natively on Debian 13 (trixie) and Debian sid, in debootstrap chroots
# (scripts/debian-chroot.sh): newer GCC, Clang, GoogleTest, Abseil, glibc.
# Usage: scripts/test.sh [--quick | --no-chroots | --chroots-only]
#   --quick: the normal build only; --no-chroots: all but the chroot builds;
#   --chroots-only: only the chroot builds
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 host=1 chroots=1
for arg in "$@"; do
  case $arg in
    --quick) quick=1 chroots=0 ;;
    --no-chroots) chroots=0 ;;
    --chroots-only) host=0 ;;
    *) echo "test.sh: unknown argument '$arg'" \
            "(expected --quick, --no-chroots or --chroots-only)" >&2; exit 2 ;;
  esac
done
if [ "$#" -gt 1 ]; then
  echo "test.sh: one option at most, got: $*" >&2; exit 2
fi
scripts/install-deps.sh

run() {  # run NAME [cmake args...]; $ctest_args: extra ctest arguments
  local name=$1; shift
  echo "=== gtest_watchdog: $name build ==="
  cmake -S . -B "build-$name" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > /dev/null
  cmake --build "build-$name" -j2
  # shellcheck disable=SC2086  # ctest_args is a list of words
  (cd "build-$name" && ctest -j2 --output-on-failure --timeout 300 ${ctest_args:-})
}

if [ "$host" -eq 1 ]; then
  run default -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
fi
if [ "$host" -eq 1 ] && [ "$quick" -eq 0 ]; then
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

# run_in_chroot SUITE NAME [cmake args...]: the build NAME (build-NAME in this
# tree, which the chroot mounts) and its tests inside the chroot of SUITE;
# $ctest_args: extra ctest arguments.
run_in_chroot() {
  local suite=$1 name=$2; shift 2
  echo "=== gtest_watchdog: $name build ($suite chroot) ==="
  mkdir -p "build-$name"
  scripts/debian-chroot.sh setup "$suite" > "build-$name/chroot-setup.log" 2>&1 \
    || { tail -n 30 "build-$name/chroot-setup.log"; exit 1; }
  scripts/debian-chroot.sh run "$suite" -- \
    cmake -S . -B "build-$name" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > /dev/null
  scripts/debian-chroot.sh run "$suite" -- cmake --build "build-$name" -j2
  # The chroot's command starts in the same directory (inside this tree).
  # shellcheck disable=SC2086  # ctest_args is a list of words
  (cd "build-$name" && ../scripts/debian-chroot.sh run "$suite" -- \
     ctest -j2 --output-on-failure --timeout 300 ${ctest_args:-})
}

# The full suite on both: here (2 cores) about 15 min for sid and 10 for
# trixie, plus 1 to 2.5 min to make each chroot the first time; with the host
# builds above, about 55 min in all.
if [ "$chroots" -eq 1 ]; then
  run_in_chroot sid sid
  run_in_chroot trixie trixie
fi
