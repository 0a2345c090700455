#!/usr/bin/env bash
# Builds gtest_watchdog and runs its tests.
#
# Usage: scripts/test.sh [--all | --no-chroots | --chroots-only]
#   (no option)    the quick set, the README's test command: the normal build
#                  (-O2 -g, the way users build their tests, GCC) and every
#                  test but the consumer projects (ctest -L consumer), about
#                  10 minutes on two cores
#   --all          everything, as CI runs it (.ci/run), about an hour: the
#                  normal build with the consumer projects, clang-tidy, a
#                  benchmark smoke run, a shared-library build
#                  (BUILD_SHARED_LIBS), AddressSanitizer+UndefinedBehavior-
#                  Sanitizer built by Clang with a short fuzzing run,
#                  ThreadSanitizer; then natively on Debian sid and Debian 13
#                  (the library's own tests; see below) in debootstrap
#                  chroots (scripts/debian-chroot.sh, as root)
#   --no-chroots   --all without the chroots
#   --chroots-only the chroot builds alone
# Warnings are errors in our own targets. The matrix and what it proves:
# docs/linking.md.
set -euo pipefail
cd "$(dirname "$0")/.."

all=0 host=1 chroots=0
if [ "$#" -gt 1 ]; then
  echo "test.sh: one option at most, got: $*" >&2; exit 2
fi
case ${1:-} in
  "" | --quick) ;;
  --all) all=1 chroots=1 ;;
  --no-chroots) all=1 ;;
  --chroots-only) host=0 chroots=1 ;;
  *) echo "test.sh: unknown argument '$1'" \
          "(expected --all, --no-chroots or --chroots-only)" >&2; exit 2 ;;
esac
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
  # The quick set leaves out the consumer projects (several minutes).
  if [ "$all" -eq 1 ]; then
    run default -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
  else
    ctest_args="-LE consumer" run default -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
  fi
fi
if [ "$host" -eq 1 ] && [ "$all" -eq 1 ]; then
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

# Debian sid: every test, the consumer projects too (with sid's GCC 16 and
# Clang 21), but the one that hides the installed GoogleTest (sid's is 1.18
# already: the host's run covers it). Debian 13, for time: every test but the
# consumer projects, packaging and docs checks (the host's and sid's runs
# have them). Measured here (2 cores): sid about 17 min, Debian 13 about 10,
# plus 1 to 2.5 min to make each chroot the first time.
if [ "$chroots" -eq 1 ]; then
  ctest_args="-E ^Consumer\.Parent\.GoogleTestFetchedWithNoneInstalled$" \
    run_in_chroot sid sid
  ctest_args="-E ^(Consumer|Docs)\." run_in_chroot trixie trixie
fi
