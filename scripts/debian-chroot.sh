#!/usr/bin/env bash
# Debian chroots (debootstrap, minbase) in which CI builds and tests
# gtest_watchdog natively on newer Debian suites than the host's.
#
# Usage:
#   scripts/debian-chroot.sh setup SUITE
#       Creates the chroot of SUITE (trixie | sid) under
#       ${GTEST_WATCHDOG_CHROOT_DIR:-/var/tmp/gtest_watchdog-chroots}/SUITE and
#       installs the build dependencies in it. A chroot that setup already
#       completed is reused (only missing packages are installed); one left
#       half made by an interrupted debootstrap is made again.
#   scripts/debian-chroot.sh run SUITE -- COMMAND [ARG...]
#       Runs COMMAND as root inside the chroot, with /proc, /sys, /dev,
#       /dev/pts, /dev/shm and this source tree (at its own absolute path, so
#       build directories inside it, such as build-SUITE, are shared) mounted.
#       The working directory is the current one when it is inside the source
#       tree, else the tree's top. The mounts are made in a private mount
#       namespace and unmounted on exit, failure or Ctrl-C; a run refuses to
#       start while another run of the same chroot holds it or when anything
#       is mounted below the chroot. Exits with COMMAND's status.
#
# Needs root (debootstrap, chroot, mount). The host gets debootstrap
# from apt when it lacks it. Only deb.debian.org is used.
set -euo pipefail

readonly mirror=http://deb.debian.org/debian
readonly suites="trixie sid"
# As scripts/install-deps.sh, less what only the host's CI stages need
# (clang-tidy, libclang-rt-14-dev, llvm-14), plus the googletest sources.
readonly packages=(cmake make g++ pkg-config
                   libgtest-dev libgmock-dev googletest libabsl-dev libdw-dev
                   libspdlog-dev libtomlplusplus-dev libbenchmark-dev
                   nlohmann-json3-dev libseccomp-dev
                   python3 python3-jsonschema jq gdb
                   debian-archive-keyring xz-utils util-linux)  # debian-source.sh
# The suites' own extra packages: sid's clang build.
extra_packages() {
  case $1 in
    sid) echo clang ;;
    *) ;;
  esac
}

self=$(basename "$0")
die() { echo "$self: $*" >&2; exit 2; }
usage() {
  cat >&2 <<EOF
usage: $self setup SUITE
       $self run SUITE -- COMMAND [ARG...]
SUITE: one of: $suites
chroots live in \${GTEST_WATCHDOG_CHROOT_DIR:-/var/tmp/gtest_watchdog-chroots}
EOF
  exit 2
}

src=$(cd "$(dirname "$0")/.." && pwd -P)
root_dir=${GTEST_WATCHDOG_CHROOT_DIR:-/var/tmp/gtest_watchdog-chroots}

check_suite() {  # check_suite SUITE: sets $suite and $dir
  suite=$1
  case " $suites " in
    *" $suite "*) ;;
    *) die "unknown suite '$suite' (expected one of: $suites)" ;;
  esac
  case $root_dir in
    /*) ;;
    *) die "GTEST_WATCHDOG_CHROOT_DIR must be an absolute path, not '$root_dir'" ;;
  esac
  dir=${root_dir%/}/$suite
}

check_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (debootstrap, chroot and mount do)"
}

# What is mounted at or below DIR, as seen from here (one per line).
mounts_below() {
  findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1'
}

refuse_if_mounted() {  # refuse_if_mounted [DIR, default $dir]
  local d=${1:-$dir} m
  m=$(mounts_below "$d")
  if [ -n "$m" ]; then
    echo "$self: refusing: mounts below $d already exist" \
         "(another run, or one killed without cleanup):" >&2
    echo "$m" >&2
    echo "$self: unmount them (umount -R $d/...) once no run uses them" >&2
    exit 2
  fi
}

# One setup or run of a chroot at a time: a lock held until this ends (and
# by what it starts). run's mounts are in a namespace of their own, which
# findmnt here does not show: the lock is what keeps setup from removing or
# changing a chroot that a run uses.
lock() {
  [ -z "${_GTEST_WATCHDOG_CHROOT_LOCKED:-}" ] || return 0  # setup's own run
  mkdir -p "$root_dir"
  exec 9> "$dir.lock"
  flock -n 9 || die "$suite's chroot is in use: another setup or run holds $dir.lock"
  export _GTEST_WATCHDOG_CHROOT_LOCKED=1
}

# Runs the rest in the chroot with a clean environment.
in_chroot() {
  chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive "$@"
}

readonly ready_marker=.gtest_watchdog-chroot-ready

setup() {
  check_root setup
  lock
  refuse_if_mounted
  if ! command -v debootstrap > /dev/null; then
    echo "$self: installing debootstrap on the host"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
  fi
  mkdir -p "$root_dir"

  # debootstrap leaves $dir/debootstrap behind until it has finished.
  if [ -d "$dir" ] && { [ -d "$dir/debootstrap" ] || [ ! -x "$dir/usr/bin/apt-get" ]; }; then
    echo "$self: $dir is an unfinished debootstrap: making it again"
    refuse_if_mounted  # never remove a tree with /dev or the sources inside
    rm -rf --one-file-system "$dir"
  fi
  if [ ! -d "$dir" ]; then
    echo "=== $self: debootstrap $suite into $dir ==="
    local tmp="$dir.new"
    refuse_if_mounted "$tmp"  # debootstrap mounts /proc in it while it runs
    rm -rf --one-file-system "$tmp"
    # The release is checked against the host's debian-archive-keyring.
    debootstrap --variant=minbase "$suite" "$tmp" "$mirror"
    mv "$tmp" "$dir"
  fi

  # apt in the chroot: no recommends; sid's Release file, as the mirror
  # serves it, is past its Valid-Until date.
  {
    echo "// Written by gtest_watchdog's scripts/debian-chroot.sh"
    echo 'APT::Install-Recommends "false";'
    if [ "$suite" = sid ]; then
      echo 'Acquire::Check-Valid-Until "false";'
    fi
  } > "$dir/etc/apt/apt.conf.d/99gtest-watchdog"
  # No daemons started by package scripts inside the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"

  local wanted
  read -r -a wanted <<< "${packages[*]} $(extra_packages "$suite")"
  local missing=() p
  for p in "${wanted[@]}"; do
    # shellcheck disable=SC2016  # a dpkg-query format, not a shell expansion
    [[ $(in_chroot dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *"ok installed" ]] \
      || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "=== $self: installing in $suite: ${missing[*]} ==="
    in_chroot apt-get update -qq
    local unknown=()
    for p in "${missing[@]}"; do
      # Not grep -q: apt-cache would die of SIGPIPE (pipefail).
      [[ $(in_chroot apt-cache policy "$p") == *"Candidate: "[!\(]* ]] || unknown+=("$p")
    done
    if ((${#unknown[@]})); then
      die "$suite has no package named: ${unknown[*]}"
    fi
    # /dev/pts, /proc for the maintainer scripts: through run's mounts.
    _GTEST_WATCHDOG_CHROOT_SETUP=1 "$0" run "$suite" -- apt-get install -y -qq "${missing[@]}"
    in_chroot apt-get clean
  fi
  date -u +%FT%TZ > "$dir/$ready_marker"
  echo "$self: $suite ready in $dir"
}

# Inside the private mount namespace: mount, run, unmount.
mounted=()  # what run_mounted has mounted, in order
run_mounted() {
  cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      umount "${mounted[i]}" || umount -l "${mounted[i]}" || true
    done
    mounted=()
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  bind() {  # bind FROM TO [mount options]
    local from=$1 to=$2; shift 2
    mkdir -p "$to"
    mount "$@" "$from" "$to"
    mounted+=("$to")
  }
  bind proc "$dir/proc" -t proc
  bind /sys "$dir/sys" --bind -o ro
  bind /dev "$dir/dev" --bind
  bind /dev/pts "$dir/dev/pts" --bind
  bind /dev/shm "$dir/dev/shm" --bind
  bind "$src" "$dir$src" --bind

  local cwd
  cwd=$(pwd -P)
  case $cwd/ in
    "$src"/*) ;;
    *) cwd=$src ;;
  esac
  local status=0
  # shellcheck disable=SC2016  # expanded by the sh inside the chroot
  in_chroot sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@" || status=$?
  cleanup
  return "$status"
}

run() {
  check_root run
  [ -f "$dir/$ready_marker" ] || [ -n "${_GTEST_WATCHDOG_CHROOT_SETUP:-}" ] \
    || die "no chroot of $suite in $dir: run '$self setup $suite' first"
  lock
  refuse_if_mounted
  # Mounts in a namespace of their own: nothing leaks to the host's mount
  # table, even when this is killed; the trap in run_mounted unmounts too.
  unshare --mount --propagation private -- "$0" __run_mounted "$suite" "$@"
}

[ $# -ge 1 ] || usage
command=$1; shift
case $command in
  setup)
    [ $# -eq 1 ] || die "setup takes one argument, SUITE (one of: $suites); got $#: $*"
    check_suite "$1"
    setup
    ;;
  run)
    [ $# -ge 1 ] || die "run needs SUITE (one of: $suites), then -- COMMAND"
    check_suite "$1"; shift
    [ "${1:-}" = "--" ] || die "run $suite: expected '--' before the command, got '${1:-}'"
    shift
    [ $# -ge 1 ] || die "run $suite: no command after '--'"
    run "$@"
    ;;
  __run_mounted)  # internal: run's second half, in the new mount namespace
    check_suite "$1"; shift
    run_mounted "$@"
    ;;
  -h|--help|help) usage ;;
  *) die "unknown command '$command' (expected: setup or run)" ;;
esac
