#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test
# gtest_watchdog. Every dependency is a Debian package; nothing else is
# downloaded. Safe to run again: installs only what is missing.
set -euo pipefail

packages=(cmake make g++ pkg-config
          libgtest-dev libgmock-dev libabsl-dev libdw-dev
          libspdlog-dev libtomlplusplus-dev libbenchmark-dev
          nlohmann-json3-dev  # the JSON report (--gtest_watchdog_report)
          libseccomp-dev  # system call names in the report
          python3 python3-jsonschema  # tests: XML, JSON and schema checks
          jq  # docs: the jq examples in docs/report-json.md are run
          clang-tidy  # scripts/tidy.sh
          clang libclang-rt-14-dev llvm-14  # the Clang build, libFuzzer
          gdb  # gdb: the debugger stand-down test
          # scripts/debian-source.sh (consumer tests: newer GoogleTest,
          # Abseil, spdlog sources from Debian's registry)
          debian-archive-keyring xz-utils util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "gtest_watchdog: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
