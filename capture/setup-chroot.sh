#!/usr/bin/env bash
# Build a Debian chroot holding a newer QEMU than the host's, for `migtrace capture --chroot DIR`.
#
#   bash capture/setup-chroot.sh [--suite SUITE] [--dir DIR]
#
#   --suite trixie            QEMU 10.0 (Debian 13)                default DIR /var/lib/migtrace/trixie
#   --suite trixie-backports  QEMU 11.x (Debian 13 backports)      default DIR /var/lib/migtrace/trixie-backports
#   (any other Debian suite works the same way; SUITE-backports means "SUITE plus its backports")
#
# What it does (docs/capture.md):
#   1. apt-get install debootstrap on the host if absent;
#   2. debootstrap --variant=minbase <base suite> DIR <the Debian mirror already in the host's apt
#      sources> (1-2 min); the base suite is SUITE without "-backports";
#   3. for a -backports suite, a source for it in the chroot's own apt sources (the host's are
#      left alone);
#   4. inside the chroot, with /proc mounted for the maintainer scripts only:
#      apt-get install qemu-system-x86 (from the backports with -t SUITE-backports; ~1 min; the
#      tree ends up ~350-600 MB).
# Idempotent: when DIR already has a qemu-system-x86_64 from SUITE it only prints the version; a
# half-built tree is started again; a trixie chroot asked for trixie-backports is upgraded in place.
# The capture code mounts proc/sys/dev/dev/pts itself around each run and unmounts them
# afterwards (src/capture/chroot.ts); capture/chroot-mounts.sh does the same by hand.
set -euo pipefail

usage() { echo "usage: setup-chroot.sh [--suite SUITE] [--dir DIR]   (SUITE: trixie, trixie-backports, ...)" >&2; exit 2; }
SUITE=trixie
DIR=
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) [ $# -ge 2 ] || usage; SUITE=$2; shift 2 ;;
    --suite=*) SUITE=${1#--suite=}; shift ;;
    --dir) [ $# -ge 2 ] || usage; DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#--dir=}; shift ;;
    -h|--help) usage ;;
    -*) echo "setup-chroot: unknown option $1" >&2; usage ;;
    *) [ -z "$DIR" ] || usage; DIR=$1; shift ;;
  esac
done
[[ "$SUITE" =~ ^[a-z]+(-backports)?$ ]] || { echo "setup-chroot: bad suite '$SUITE'" >&2; usage; }
BASE=${SUITE%-backports}
BACKPORTS=
[ "$BASE" = "$SUITE" ] || BACKPORTS=$SUITE
DIR=${DIR:-/var/lib/migtrace/$SUITE}

log() { echo "setup-chroot: $*"; }
die() { echo "setup-chroot: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"

# The installed QEMU package's version inside DIR, or nothing.
installed_version() {
  [ -x "$DIR/usr/bin/qemu-system-x86_64" ] || return 0
  chroot "$DIR" dpkg-query -W -f '${Version}' qemu-system-x86 2>/dev/null || true
}
# Done when QEMU is there and, for backports, is the backports build (Debian marks them ~bpo).
is_done() {
  local v
  v=$(installed_version)
  [ -n "$v" ] || return 1
  [ -z "$BACKPORTS" ] || [[ "$v" == *bpo* ]]
}

if is_done; then
  log "already set up: $(chroot "$DIR" qemu-system-x86_64 --version | head -n1) (package $(installed_version), $SUITE) in $DIR"
  exit 0
fi

# The Debian archive the host already uses (deb822 *.sources or one-line sources.list), so the
# chroot comes from the same mirror/proxy; security and third-party repositories are skipped.
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
  done
}
MIRROR=${MIRROR_OVERRIDE:-$(find_mirror | grep -E '/debian/?$' | grep -v -- '-security' | head -n1 || true)}
[ -n "$MIRROR" ] || die "no Debian archive found in /etc/apt/sources.list*; pass one in MIRROR_OVERRIDE=..."

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-cache show debootstrap >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

# A half-built tree from an interrupted run: start again, but never delete through a mount.
if [ -e "$DIR" ] && [ ! -x "$DIR/usr/bin/qemu-system-x86_64" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
  if [ -f "$DIR/debootstrap/debootstrap.log" ] || [ ! -x "$DIR/usr/bin/apt-get" ]; then
    if grep -q " $(realpath "$DIR")/" /proc/self/mounts; then
      die "$DIR has mounts under it; unmount them (capture/chroot-mounts.sh down $DIR) first"
    fi
    log "removing incomplete tree $DIR"
    rm -rf --one-file-system "$DIR"
  fi
fi

if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  log "debootstrap --variant=minbase $BASE $DIR $MIRROR"
  mkdir -p "$DIR"
  debootstrap --variant=minbase "$BASE" "$DIR" "$MIRROR" > "$DIR.debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $DIR.debootstrap.log"
fi

# The chroot's own sources gain the backports suite; written whole each time, so a rerun leaves
# one identical file.
TARGET=()
if [ -n "$BACKPORTS" ]; then
  echo "deb $MIRROR $BACKPORTS main" > "$DIR/etc/apt/sources.list.d/migtrace-$BACKPORTS.list"
  TARGET=(-t "$BACKPORTS")
fi

cleanup() { umount "$DIR/proc" 2>/dev/null || true; }
trap cleanup EXIT
mountpoint -q "$DIR/proc" || mount -t proc proc "$DIR/proc"
log "installing qemu-system-x86${BACKPORTS:+ from $BACKPORTS} inside the chroot"
chroot "$DIR" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq > "$DIR.apt.log" 2>&1 \
  || die "apt-get update in the chroot failed; see $DIR.apt.log"
# qemu-system-data (firmware, keymaps) is named too: from backports it must match the binary's
# version, and apt would otherwise keep the base suite's.
chroot "$DIR" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${TARGET[@]}" qemu-system-x86 qemu-system-data >> "$DIR.apt.log" 2>&1 \
  || die "apt-get install qemu-system-x86 in the chroot failed; see $DIR.apt.log"
chroot "$DIR" apt-get clean
mkdir -p "$DIR/mig-work"
is_done || die "qemu-system-x86 $(installed_version) in $DIR is not from $SUITE; see $DIR.apt.log"
log "done: $(chroot "$DIR" qemu-system-x86_64 --version | head -n1) (package $(installed_version), $SUITE) in $DIR"
