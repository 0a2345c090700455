#!/usr/bin/env bash
# Builds and runs a user's project against gtest_watchdog as users would:
#   run.sh install BUILD_DIR WORK_DIR [SANITIZE]
#     installs this build into a fresh prefix, then builds
#     tests/consumers/find_package with CMake's find_package, and with
#     pkg-config and a plain compiler command; and with find_package on the
#     build tree;
#   run.sh deb BUILD_DIR WORK_DIR
#     makes the Debian package (cpack -G DEB), checks its files and
#     dependencies, unpacks it and builds tests/consumers/find_package
#     against what it holds;
#   run.sh subdir SOURCE_DIR WORK_DIR
#     builds tests/consumers/add_subdirectory, which adds the source tree
#     with add_subdirectory as a shared library (BUILD_SHARED_LIBS);
#   run.sh parent SOURCE_DIR WORK_DIR VARIANT
#     builds tests/consumers/parent, a project that supplies dependencies of
#     its own (GoogleTest 1.18 by FetchContent, Abseil/{fmt}/spdlog by
#     add_subdirectory, from Debian's newer releases through
#     scripts/debian-source.sh) or builds with other flags, a standard or a
#     compiler, and checks that the program uses only the project's copies.
#     VARIANT: googletest-alone, two-googletests, no-exceptions,
#     no-exceptions-googletest, cxx23, abseil-spdlog, old-googletest (see
#     below).
# A passing test must pass; a test annotated with a 1 s limit must end by
# SIGABRT with the watchdog's report; ctest must run them with the TIMEOUTs
# gtest_watchdog_discover_tests gives (check_ctest.py).
set -euo pipefail
mode=$1 from=$2 work=$3 sanitize=${4:-}
[ "$mode" != parent ] || sanitize=""  # its 4th argument is the variant
here="$(cd "$(dirname "$0")" && pwd)"
if [ "$mode" = parent ] && [ "${4:-}" = googletest-alone ] && [ -z "${GTEST_WATCHDOG_HIDDEN:-}" ]; then
  # The installed GoogleTest hidden from this run only, in a mount
  # namespace of its own: a stray find_package(GTest), #include of its
  # headers or link of its libraries then fails. (The sources are fetched
  # first, outside, where the cache directory is the real one.)
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh parent googletest-alone: skipped, hiding the installed GoogleTest needs root" >&2
    exit 77
  fi
  "$here/../../scripts/debian-source.sh" binary sid googletest > /dev/null
  # Our mounts must not reach the rest of the system: private. Inside
  # scripts/debian-chroot.sh's chroot "/" is no mount point, which unshare
  # cannot make private, and that namespace is private already: unchanged.
  propagation=private
  mountpoint -q / || propagation=unchanged
  exec unshare --mount --propagation "$propagation" env GTEST_WATCHDOG_HIDDEN=1 "$0" "$@"
fi
rm -rf "$work"
mkdir -p "$work"
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

quiet() {  # quiet LOG COMMAND...: the output only if the command fails
  "${@:2}" > "$1" 2>&1 || { cat "$1"; exit 1; }
}

if [ "$mode" = subdir ]; then
  quiet "$work/configure.log" cmake -S "$here/add_subdirectory" -B "$work/build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGTEST_WATCHDOG_SOURCE_DIR="$from" "${flags[@]}"
  quiet "$work/build.log" cmake --build "$work/build" -j2
  exe="$work/build/consumer_tests"
  check "$exe" add_subdirectory
  # A shared library with a versioned SONAME, exporting only the public API.
  so=$(ldd "$exe" | awk '/libgtest_watchdog/ {print $3}')
  [ -n "$so" ] || { echo "consumer_tests does not use libgtest_watchdog.so" >&2; exit 1; }
  dynamic=$(readelf -d "$so")
  grep -q 'SONAME.*\[libgtest_watchdog\.so\.0\.1\]' <<< "$dynamic" ||
    { echo "$dynamic" >&2; echo "no SONAME libgtest_watchdog.so.0.1" >&2; exit 1; }
  # Instantiations of the standard library's templates are exported by
  # libstdc++'s own visibility; everything else must be ours and public.
  symbols=$(nm -D --defined-only "$so" | c++filt)
  grep -q 'gtest_watchdog::InitGoogleTest' <<< "$symbols" ||
    { echo "nm found no gtest_watchdog::InitGoogleTest in $so" >&2; exit 1; }
  exported=$(awk '{$1=$2=""; print}' <<< "$symbols" |
             grep -Ev '^ *((typeinfo( name)?|vtable|VTT) for )?(void )?(std|__gnu_cxx)::' || true)
  unexpected=$(echo "$exported" | grep -v '^ *gtest_watchdog::' || true)
  if [ -n "$unexpected" ]; then
    echo "libgtest_watchdog.so exports more than the public API:" >&2
    echo "$unexpected" >&2
    exit 1
  fi
  echo "add_subdirectory: shared $(basename "$so") exports only:"
  echo "$exported" | sed 's/^ */    /'
  python3 "$here/check_ctest.py" "$work/build" "$exe" --one-call
  exit 0
fi

# check_xml BINARY: --gtest_output=xml:FILE gives a whole, well-formed
# file with the hung test failed.
check_xml() {
  local xml="$work/output.xml" status=0
  rm -f "$xml"
  "$1" --gtest_filter=Consumer.Annotated --gtest_output="xml:$xml" 2> "$work/stderr-xml" || status=$?
  if [ "$status" -ne 134 ]; then
    cat "$work/stderr-xml"
    echo "consumer (--gtest_output=xml): expected status 134, got $status" >&2
    exit 1
  fi
  python3 - "$xml" <<'PY' || { cat "$work/stderr-xml"; exit 1; }
import sys, xml.etree.ElementTree as ET
path = sys.argv[1]
try:
    root = ET.parse(path).getroot()
except (OSError, ET.ParseError) as e:
    sys.exit(f"consumer: {path}: not a whole, well-formed XML file: {e}")
cases = [c for c in root.iter("testcase")
         if c.get("classname") == "Consumer" and c.get("name") == "Annotated"]
if len(cases) != 1 or cases[0].find("failure") is None:
    sys.exit(f"consumer: {path}: no failed Consumer.Annotated")
if "test body still running" not in cases[0].find("failure").get("message", ""):
    sys.exit(f"consumer: {path}: the failure is not the watchdog's")
print(f"consumer: {path}: well-formed, Consumer.Annotated failed by the watchdog")
PY
}

if [ "$mode" = parent ]; then
  variant=$4
  from="$(cd "$from" && pwd)"  # CMake takes a relative one from tests/consumers/parent
  src() { "$here/../../scripts/debian-source.sh" "$@"; }
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGTEST_WATCHDOG_SOURCE_DIR="$from"
        -DCONSUMER_ADD=add_subdirectory)
  googletest=""
  case "$variant" in
    googletest-alone)  # GoogleTest 1.18 by FetchContent, none installed
      googletest="$(src binary sid googletest)/usr/src/googletest"
      args+=(-DCONSUMER_ADD=FetchContent) ;;
    two-googletests)  # Debian's 1.12 installed, the project's 1.18; clang, C++20
      googletest="$(src binary sid googletest)/usr/src/googletest"
      args+=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_STANDARD=20) ;;
    no-exceptions)  # the installed GoogleTest
      args+=(-DCMAKE_CXX_FLAGS="-fno-exceptions -fno-rtti") ;;
    no-exceptions-googletest)  # with GoogleTest 1.18 built with those flags too
      googletest="$(src binary sid googletest)/usr/src/googletest"
      args+=(-DCMAKE_CXX_FLAGS="-fno-exceptions -fno-rtti") ;;
    cxx23)
      args+=(-DCMAKE_CXX_STANDARD=23) ;;
    abseil-spdlog)  # Abseil, {fmt} and spdlog of Debian 13, beside Debian 12's
      args+=(-DCONSUMER_ABSEIL_DIR="$(src source trixie abseil)"
             -DCONSUMER_FMT_DIR="$(src source trixie fmtlib)"
             -DCONSUMER_SPDLOG_DIR="$(src source trixie spdlog)") ;;
    old-googletest)  # Debian 11's GoogleTest 1.10: refused, clearly
      googletest="$(src binary bullseye googletest)/usr/src/googletest"
      # Its CMakeLists asks for CMake 2.8, which CMake 4 no longer accepts
      # unless told (older CMake ignores the variable).
      args+=(-DCONSUMER_GOOGLETEST_DIR="$googletest"
             -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
      refused() {  # refused WHAT MESSAGE [cmake args]
        local status=0
        cmake -S "$here/parent" -B "$work/build-$1" "${args[@]}" "${@:3}" \
          > "$work/configure-$1.log" 2>&1 || status=$?
        # (CMake wraps its messages' lines.)
        if [ "$status" -eq 0 ] ||
           ! tr -s ' \n' '  ' < "$work/configure-$1.log" | grep -qF "$2"; then
          cat "$work/configure-$1.log"
          echo "consumer ($variant, $1): GoogleTest 1.10 not refused with '$2'" >&2
          exit 1
        fi
        grep -A2 "CMake Error" "$work/configure-$1.log"
      }
      refused no-alias "needs GoogleTest 1.12 or later: your project defines a 'gtest' target"
      refused alias "the GTest::gtest target your project defines is GoogleTest 1.10.0" \
        -DCONSUMER_GTEST_ALIAS=ON
      echo "consumer ($variant): GoogleTest 1.10 refused at configure time"
      exit 0 ;;
    *) echo "run.sh parent: unknown variant '$variant'" >&2; exit 2 ;;
  esac
  [ -z "$googletest" ] || args+=(-DCONSUMER_GOOGLETEST_DIR="$googletest")
  if [ -n "${GTEST_WATCHDOG_HIDDEN:-}" ]; then
    mkdir -p "$work/empty"
    for d in /usr/include/gtest /usr/include/gmock /usr/lib/x86_64-linux-gnu/cmake/GTest \
             /usr/src/googletest; do
      [ ! -d "$d" ] || mount --bind "$work/empty" "$d"
    done
    for f in /usr/lib/x86_64-linux-gnu/lib{gtest,gmock}{,_main}.{a,so} \
             /usr/lib/x86_64-linux-gnu/pkgconfig/{gtest,gmock}{,_main}.pc; do
      [ ! -e "$f" ] || mount --bind /dev/null "$f"
    done
    if echo '#include <gtest/gtest.h>' | "${CXX:-c++}" -x c++ -fsyntax-only - 2>/dev/null; then
      echo "run.sh parent: the installed GoogleTest is still visible" >&2
      exit 1
    fi
    echo "consumer ($variant): the installed GoogleTest is hidden"
  fi
  start=$SECONDS
  quiet "$work/configure.log" cmake -S "$here/parent" -B "$work/build" "${args[@]}"
  configured=$SECONDS
  quiet "$work/build.log" cmake --build "$work/build" -j2 --target consumer_tests
  built=$SECONDS
  exe="$work/build/consumer_tests"
  check "$exe" "$variant"
  check_xml "$exe"
  # The headers our library's objects were really compiled with
  # (the compiler's dependency files).
  ours=$(find "$work/build" -path '*/gtest_watchdog*.dir/*' -name '*.o.d')
  [ -n "$ours" ] || { echo "no dependency files of gtest_watchdog's objects" >&2; exit 1; }
  used() {  # used PATTERN: fails if none of our objects' headers match
    grep -qE "$1" $ours || { echo "consumer ($variant): no object of gtest_watchdog used $1" >&2; exit 1; }
  }
  unused() {  # unused PATTERN: fails if one of our objects' headers matches
    local hits
    hits=$(grep -lE "$1" $ours || true)
    [ -z "$hits" ] || { echo "consumer ($variant): $1 used by $hits" >&2; exit 1; }
  }
  link=$(cat "$work/build/CMakeFiles/consumer_tests.dir/link.txt")
  if [ -n "$googletest" ]; then
    # Only the project's GoogleTest: its headers, its libraries.
    used "(^| )$googletest/googletest/include/gtest/gtest\.h"
    unused "/usr/include/gtest/"
    grep -q -- "-I$googletest/googletest/include\|-isystem $googletest/googletest/include" \
      "$work/build/compile_commands.json" ||
      { echo "compile_commands.json: no $googletest include directory" >&2; exit 1; }
    if grep -E '/usr/lib/[^ ]*lib(gtest|gmock)|-lgtest|-lgmock' <<< "$link"; then
      echo "consumer ($variant): links an installed GoogleTest" >&2; exit 1
    fi
    # 1.18's behaviour (1.12 has no such flag): a filter that selects
    # nothing fails the run.
    status=0
    "$exe" --gtest_filter=No.Such --gtest_fail_if_no_test_selected > "$work/none.log" 2>&1 || status=$?
    if [ "$status" -ne 1 ] || ! grep -q 'fail_if_no_test_selected=false' "$work/none.log"; then
      cat "$work/none.log"
      echo "consumer ($variant): not GoogleTest 1.18's behaviour (status $status)" >&2; exit 1
    fi
    echo "consumer ($variant): only the project's GoogleTest ($googletest)"
  fi
  if [ "$variant" = abseil-spdlog ]; then
    unused "(^| )/usr/include/(absl|spdlog|fmt)/"
    used "third_party/.*/absl/strings/str_cat\.h|abseil-[0-9.]+/absl/strings/str_cat\.h"
    used "spdlog-[0-9.]+/include/spdlog/spdlog\.h"
    libs=$(ldd "$exe")
    if grep -E 'lib(absl_|spdlog|fmt)' <<< "$libs"; then
      echo "consumer ($variant): loads an installed Abseil, spdlog or fmt" >&2; exit 1
    fi
    if grep -E '/usr/lib/[^ ]*lib(absl_|spdlog|fmt)' <<< "$link"; then
      echo "consumer ($variant): links an installed Abseil, spdlog or fmt" >&2; exit 1
    fi
    echo "consumer ($variant): only the project's Abseil, fmt and spdlog"
  fi
  case "$variant" in no-exceptions*)
    grep -q -- '-fno-exceptions -fno-rtti' "$work/build/compile_commands.json" ;;
  esac
  echo "consumer ($variant): configure $((configured - start)) s, build $((built - configured)) s," \
       "checks $((SECONDS - built)) s"
  exit 0
fi

if [ "$mode" = deb ]; then
  quiet "$work/cpack.log" cpack -G DEB -B "$work/pkg" --config "$from/CPackConfig.cmake"
  deb=$(ls "$work"/pkg/*.deb)
  info=$(dpkg-deb -I "$deb")  # (grep -q in a pipe would SIGPIPE dpkg-deb)
  grep -q '^ Package: libgtest-watchdog-dev$' <<< "$info"
  grep -q '^ Depends: .*libgtest-dev.*libdw-dev.*libseccomp-dev' <<< "$info"
  files=$(dpkg-deb -c "$deb" | awk '{print $6}')
  lib=./usr/lib/libgtest_watchdog.a
  if [ -e "$from/gtest_watchdog/libgtest_watchdog.so" ]; then
    lib=./usr/lib/libgtest_watchdog.so.0.1.0
  fi
  for f in ./usr/include/gtest_watchdog/gtest_watchdog.h "$lib" \
           ./usr/lib/libgtest_watchdog_main.a ./usr/lib/pkgconfig/gtest_watchdog.pc \
           ./usr/lib/cmake/gtest_watchdog/gtest_watchdog-config.cmake \
           ./usr/lib/cmake/gtest_watchdog/GtestWatchdogDiscoverTests.cmake; do
    grep -qx "$f" <<< "$files" || { echo "$(basename "$deb") lacks $f" >&2; exit 1; }
  done
  echo "$(basename "$deb"): package, dependencies and files as expected"
  dpkg-deb -x "$deb" "$work/root"
  prefix="$work/root/usr"
else
  prefix="$work/prefix"
  quiet "$work/install.log" cmake --install "$from" --prefix "$prefix"
fi

# CMake: find_package.
quiet "$work/configure.log" cmake -S "$here/find_package" -B "$work/build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$prefix" "${flags[@]}"
quiet "$work/build.log" cmake --build "$work/build" -j2
check "$work/build/consumer_tests" find_package
python3 "$here/check_ctest.py" "$work/build" "$work/build/consumer_tests"

if [ "$mode" = install ]; then
  # find_package on the build tree itself (its export), no install.
  quiet "$work/tree-configure.log" cmake -S "$here/find_package" -B "$work/tree" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -Dgtest_watchdog_DIR="$from" "${flags[@]}"
  quiet "$work/tree-build.log" cmake --build "$work/tree" -j2
  check "$work/tree/consumer_tests" build-tree
fi

# pkg-config, as a plain Makefile would use it.
pc=$(dirname "$(find "$prefix" -name gtest_watchdog.pc)")
[ -f "$pc/gtest_watchdog.pc" ] || { echo "no gtest_watchdog.pc under $prefix" >&2; exit 1; }
cxxflags=(-std=c++17 -g)
[ -n "$sanitize" ] && cxxflags+=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
# shellcheck disable=SC2046  # pkg-config's output is meant to be split
# (An rpath for a shared build installed outside the loader's search path.)
"${CXX:-c++}" "${cxxflags[@]}" "$here/find_package/consumer_tests.cc" -o "$work/consumer_pc" \
  $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs gtest_watchdog) \
  -Wl,-rpath,"$(PKG_CONFIG_PATH="$pc" pkg-config --variable=libdir gtest_watchdog)"
check "$work/consumer_pc" pkg-config
