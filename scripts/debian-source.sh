#!/usr/bin/env bash
# Fetches another Debian release's copy of a dependency for the consumer
# tests (tests/consumers), without touching the host's apt configuration:
# a private sources list, lists and cache under the cache directory, so the
# host's packages are never upgraded and nothing outside Debian's registry
# is contacted.
#
#   debian-source.sh binary SUITE PACKAGE      -> prints the directory the .deb
#                                                 is unpacked in (dpkg-deb -x)
#   debian-source.sh source SUITE SOURCEPKG    -> prints the directory the
#                                                 upstream tarball (.orig) is
#                                                 unpacked in
#
# e.g. `debian-source.sh binary sid googletest` (GoogleTest 1.18's source in
# DIR/usr/src/googletest), `debian-source.sh source trixie abseil`.
# Cache: $GTEST_WATCHDOG_SOURCES (default /var/tmp/gtest_watchdog-sources).
# Idempotent: a second call prints the same directory without a download.
# Needs apt, dpkg-deb, tar, xz-utils, flock and debian-archive-keyring only
# (no dpkg-dev).
set -euo pipefail
usage() { echo "usage: $0 binary|source SUITE PACKAGE" >&2; exit 2; }
[ $# -eq 3 ] || usage
kind=$1 suite=$2 package=$3
case "$kind" in binary|source) ;; *) usage ;; esac
[[ "$suite" =~ ^[a-z-]+$ ]] || { echo "$0: bad suite '$suite'" >&2; exit 2; }
[[ "$package" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || { echo "$0: bad package name '$package'" >&2; exit 2; }
cache=${GTEST_WATCHDOG_SOURCES:-/var/tmp/gtest_watchdog-sources}
out="$cache/$suite/$kind/$package"
mkdir -p "$cache"
# One fetch at a time (ctest -j runs consumers side by side).
exec 9> "$cache/.lock"
flock 9
if [ -f "$out/.complete" ]; then
  cat "$out/.complete"
  exit 0
fi

apt_dir="$cache/$suite/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
list="$apt_dir/sources.list"
cat > "$list.new" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
EOF
mv "$list.new" "$list"
apt_opts=(-o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
          -o Dir::State::Status=/dev/null -o Acquire::Check-Valid-Until=false
          -o APT::Sandbox::User=root -o Debug::NoLocking=1 -qq)
# The lists once per cache (a day's refresh is not needed for a test).
if ! ls "$apt_dir/lists/"*_Sources >/dev/null 2>&1; then
  apt-get "${apt_opts[@]}" update >&2
fi

work="$out.partial"
rm -rf "$work"
mkdir -p "$work"
if [ "$kind" = binary ]; then
  (cd "$work" && apt-get "${apt_opts[@]}" download "$package" >&2)
  deb=$(ls "$work"/*.deb)
  dpkg-deb -x "$deb" "$work/root"
  result="$out/root"
else
  (cd "$work" && apt-get "${apt_opts[@]}" source --download-only "$package" >&2)
  orig=$(ls "$work"/*.orig.tar.* | head -n1)
  mkdir "$work/src"
  tar -xf "$orig" -C "$work/src"
  # The tarball's one top directory.
  top=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d)
  [ "$(wc -l <<< "$top")" -eq 1 ] || { echo "$0: $orig has no single top directory" >&2; exit 1; }
  result="$out/src/$(basename "$top")"
fi
rm -rf "$out"
mv "$work" "$out"
echo "$result" > "$out/.complete"
echo "$result"
