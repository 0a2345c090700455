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
#     with add_subdirectory as a shared library (BUILD_SHARED_LIBS).
# A passing test must pass; a test annotated with a 1 s limit must end by
# SIGABRT with the watchdog's report; ctest must run them with the TIMEOUTs
# gtest_watchdog_discover_tests gives (check_ctest.py).
set -euo pipefail
mode=$1 from=$2 work=$3 sanitize=${4:-}
here="$(cd "$(dirname "$0")" && pwd)"
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
