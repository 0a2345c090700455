#!/usr/bin/env bash
# Replays a fuzz target's corpus once, as a regression test: every file is
# run through the target, which must end each in a value or a clear error
# (no crash, failed property, leak or timeout). Nothing is written to the
# corpus. CTest runs it as Fuzz.<target>.Corpus; it also runs by hand:
#
#   tests/fuzz/replay.sh build-fuzz/tests/fuzz/fuzz_duration tests/fuzz/corpus/fuzz_duration
#
# Usage: replay.sh FUZZ_PROGRAM CORPUS_DIR [libFuzzer flags...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 FUZZ_PROGRAM CORPUS_DIR [libFuzzer flags...]" >&2
  exit 2
fi
program=$1
corpus=$2
shift 2
files=()
while IFS= read -r -d '' f; do files+=("$f"); done \
  < <(find "$corpus" -type f -print0 | sort -z)
if [ ${#files[@]} -eq 0 ]; then
  echo "$0: no corpus files in $corpus" >&2
  exit 1
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "replaying ${#files[@]} inputs of $corpus through $(basename "$program")"
# Files, not the directory: libFuzzer then runs each once and writes nothing.
# A failure is reported after the last "Running: FILE" line, which names the
# input to reproduce it with: FUZZ_PROGRAM FILE.
exec "$program" -runs=0 -timeout=5 -rss_limit_mb=2048 "$@" "${files[@]}"
