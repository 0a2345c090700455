#!/usr/bin/env bash
# Fuzzes gtest_watchdog's parsers of untrusted text with libFuzzer
# (tests/fuzz, docs/fuzzing.md): configures build-fuzz/ with clang, ASan and
# UBSan, builds the fuzz targets, replays each target's corpus
# (tests/fuzz/corpus/TARGET/) once, then fuzzes each target for SECONDS,
# starting from a copy of that corpus. Fails on any crash, failed property,
# leak, timeout (5 s for one input) or out-of-memory (2 GB), printing the
# input that reproduces it. Nothing is written back to tests/fuzz/corpus.
#
# Needs, besides the packages of scripts/install-deps.sh, clang++ and
# libFuzzer — on Debian 12 the packages clang and libclang-rt-14-dev (and
# llvm-14 for symbolized stacks) — and installs nothing itself.
#
# Usage: scripts/fuzz.sh [--build DIR] [SECONDS_PER_TARGET]   (default 20)
#   --build DIR: use DIR, already configured with -DGTEST_WATCHDOG_FUZZ=ON
#   (CI's clang build), instead of configuring build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: scripts/fuzz.sh [--build DIR] [SECONDS_PER_TARGET]"
build=build-fuzz
configure=1
if [ "${1:-}" = "--build" ]; then
  [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
  build=$2
  configure=0
  shift 2
  if ! grep -q '^GTEST_WATCHDOG_FUZZ:BOOL=ON$' "$build/CMakeCache.txt" 2> /dev/null; then
    echo "scripts/fuzz.sh: --build '$build' is not a build directory configured" \
         "with -DGTEST_WATCHDOG_FUZZ=ON" >&2
    exit 2
  fi
fi
seconds=${1:-20}
if [ $# -gt 1 ] || ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "$usage   (SECONDS_PER_TARGET: a whole number > 0, got '${*}')" >&2
  exit 2
fi
if ! command -v clang++ > /dev/null; then
  echo "scripts/fuzz.sh: clang++ not found; on Debian 12:" \
       "apt-get install clang libclang-rt-14-dev llvm-14" >&2
  exit 2
fi

start=$SECONDS
echo "=== gtest_watchdog: fuzz build ($build: clang++, ASan+UBSan, libFuzzer) ==="
if [ "$configure" -eq 1 ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DGTEST_WATCHDOG_SANITIZE=address,undefined \
    -DGTEST_WATCHDOG_FUZZ=ON -DGTEST_WATCHDOG_EXAMPLES=OFF \
    -DGTEST_WATCHDOG_INSTALL=OFF > /dev/null
fi
cmake --build "$build" -j2 --target gtest_watchdog_fuzzers

# Readable stacks in sanitizer reports, when clang's llvm-symbolizer is there.
symbolizer="$(dirname "$(readlink -f "$(command -v clang++)")")/llvm-symbolizer"
if [ -x "$symbolizer" ]; then export ASAN_SYMBOLIZER_PATH="$symbolizer"; fi
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

targets=()
for source in tests/fuzz/fuzz_*.cc; do
  targets+=("$(basename "$source" .cc)")
done
failed=()

# Prints the reproducer of a failed run and records the failure.
report_failure() {  # report_failure TARGET LOG [ARTIFACT...]
  local target=$1 log=$2
  shift 2
  failed+=("$target")
  echo "--- $target FAILED; the end of $log:"
  tail -n 60 "$log" | sed 's/^/    /'
  for artifact in "$@"; do
    echo "--- reproducer: $artifact"
    echo "    reproduce: $build/tests/fuzz/$target $artifact"
  done
}

# One of libFuzzer's final statistics (-print_final_stats) from a log.
final_stat() { sed -n "s/^stat::$1: *//p" "$work/fuzz.log" | tail -n 1; }

echo "=== replaying the corpus (tests/fuzz/corpus) ==="
for target in "${targets[@]}"; do
  program="$build/tests/fuzz/$target"
  log="$build/fuzz-run/$target/replay.log"
  mkdir -p "$(dirname "$log")"
  if tests/fuzz/replay.sh "$program" "tests/fuzz/corpus/$target" > "$log" 2>&1; then
    echo "$target: $(grep -c '^Running: ' "$log") corpus inputs, all passed"
  else
    # In replay, the failing input is the file named last.
    culprit=$(grep '^Running: ' "$log" | tail -n 1 | sed 's/^Running: //')
    report_failure "$target" "$log" "$culprit"
  fi
done

echo "=== fuzzing each target for $seconds s ==="
for target in "${targets[@]}"; do
  program="$build/tests/fuzz/$target"
  work="$build/fuzz-run/$target"
  rm -rf "$work/corpus" "$work/artifacts"
  mkdir -p "$work/artifacts"
  cp -r "tests/fuzz/corpus/$target" "$work/corpus"
  args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048
        -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  if [ -f "tests/fuzz/dict/$target.dict" ]; then
    args+=(-dict="tests/fuzz/dict/$target.dict")
  fi
  status=0
  "$program" "${args[@]}" "$work/corpus" > "$work/fuzz.log" 2>&1 || status=$?
  artifacts=()
  while IFS= read -r -d '' f; do artifacts+=("$f"); done \
    < <(find "$work/artifacts" -type f -print0 | sort -z)
  if [ "$status" -ne 0 ] || [ ${#artifacts[@]} -gt 0 ]; then
    report_failure "$target" "$work/fuzz.log" "${artifacts[@]}"
    continue
  fi
  # libFuzzer's last status line and final statistics.
  last=$(grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<< "$last")
  seeds=$(find "tests/fuzz/corpus/$target" -type f | wc -l)
  echo "$target: $(final_stat number_of_executed_units) runs," \
       "$(final_stat average_exec_per_sec) exec/s, cov $cov, ft $ft," \
       "corpus $seeds -> $corpus inputs, peak RSS $(final_stat peak_rss_mb) MB"
done

echo "=== $(( SECONDS - start )) s in all ==="
if [ ${#failed[@]} -gt 0 ]; then
  echo "scripts/fuzz.sh: FAILED: ${failed[*]} (logs and inputs in $build/fuzz-run/)" >&2
  exit 1
fi
echo "scripts/fuzz.sh: every target passed"
