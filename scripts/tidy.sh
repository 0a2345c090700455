#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over gtest_watchdog's library sources, with the
# compile commands of a configured build (CMAKE_EXPORT_COMPILE_COMMANDS=ON):
#   scripts/tidy.sh [BUILD_DIR, default build-default]
# Any finding fails (WarningsAsErrors). Tests and examples are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-default}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: no $build/compile_commands.json; configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON" >&2
  exit 2
fi
# Every library source, whatever its folder: the files under this tree's
# gtest_watchdog/ (the path made a literal regular expression).
src=$(printf '%s' "$PWD" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
# GCC's default is C++17, so CMake writes no -std flag; clang-tidy's is C++14.
run-clang-tidy -p "$build" -j 2 -quiet -extra-arg=-std=c++17 \
  "^$src/gtest_watchdog/.*\\.cc\$" \
  > "$build/tidy.log" 2>&1 || { grep -E "error:|warning:" -A3 "$build/tidy.log" | head -100; exit 1; }
echo "tidy: $(grep -c '^clang-tidy' "$build/tidy.log" || true) files clean"
