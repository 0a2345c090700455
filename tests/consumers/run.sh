#!/usr/bin/env bash
# Installs this build of gtest_watchdog into a fresh prefix, then configures,
# builds and runs tests/consumers/find_package against it, as a user would:
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
cmake -S "$here/find_package" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${flags[@]}" > /dev/null
cmake --build "$work/build" -j2 > /dev/null
"$work/build/consumer_tests" --gtest_filter=Consumer.Passes
status=0
"$work/build/consumer_tests" --gtest_filter=Consumer.Annotated 2> "$work/stderr" || status=$?
cat "$work/stderr"
if [ "$status" -ne 134 ]; then
  echo "consumer: expected the watchdog's abort (status 134), got $status" >&2
  exit 1
fi
grep -q '^\[ TIMEOUT  \] Consumer.Annotated: test body still running' "$work/stderr"
grep -q '^\[ VERDICT  \] blocked: ' "$work/stderr"
echo "consumer: find_package build passes its test and reports the hang"
