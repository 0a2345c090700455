#!/usr/bin/env bash
# Installs this build of gtest_watchdog into a fresh prefix, then builds and
# runs tests/consumers/find_package against it as users would — with CMake's
# find_package, and with pkg-config and a plain compiler command:
#   run.sh BUILD_DIR WORK_DIR [SANITIZE]
# A passing test must pass; a test annotated with a 1 s limit must end by
# SIGABRT with the watchdog's report.
set -euo pipefail
build=$1 work=$2 sanitize=${3:-}
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work.install.log" 2>&1 ||
  { cat "$work.install.log"; exit 1; }
flags=()
if [ -n "$sanitize" ]; then
  flags=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize -fno-omit-frame-pointer"
         -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
fi

# check BINARY HOW: the passing test passes, the hanging one is reported.
check() {
  "$1" --gtest_filter=Consumer.Passes
  local status=0
  "$1" --gtest_filter=Consumer.Annotated 2> "$work/stderr" || status=$?
  cat "$work/stderr"
  if [ "$status" -ne 134 ]; then
    echo "consumer ($2): expected the watchdog's abort (status 134), got $status" >&2
    exit 1
  fi
  grep -q '^\[ TIMEOUT  \] Consumer.Annotated: test body still running' "$work/stderr"
  grep -q '^\[ VERDICT  \] blocked: ' "$work/stderr"
  echo "consumer ($2): passes its test and reports the hang"
}

# CMake: find_package.
cmake -S "$here/find_package" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${flags[@]}" > /dev/null
cmake --build "$work/build" -j2 > /dev/null
check "$work/build/consumer_tests" find_package

# pkg-config, as a plain Makefile would use it.
pc=$(dirname "$(find "$work/prefix" -name gtest_watchdog.pc)")
cxxflags=(-std=c++17 -g)
[ -n "$sanitize" ] && cxxflags+=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
# shellcheck disable=SC2046  # pkg-config's output is meant to be split
c++ "${cxxflags[@]}" "$here/find_package/consumer_tests.cc" -o "$work/consumer_pc" \
  $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs gtest_watchdog)
check "$work/consumer_pc" pkg-config
