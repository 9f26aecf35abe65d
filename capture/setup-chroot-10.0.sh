#!/usr/bin/env bash
# Build a Debian 13 (trixie) chroot holding QEMU 10.0, for `migtrace capture --chroot DIR`.
#
#   bash capture/setup-chroot-10.0.sh [DIR]        (default DIR: /var/lib/migtrace/trixie)
#
# What it does (see docs/capture.md and the shared capture notes):
#   1. apt-get install debootstrap on the host if absent;
#   2. debootstrap --variant=minbase trixie DIR <the Debian mirror already in the host's apt
#      sources> (1-2 min);
#   3. inside the chroot, with /proc mounted for the maintainer scripts only:
#      apt-get install qemu-system-x86 (~1 min; the tree ends up ~600 MB).
# Idempotent: if DIR already has qemu-system-x86_64 it only prints the version.
# The capture code mounts proc/sys/dev/dev/pts itself around each run and unmounts them
# afterwards (src/capture/chroot.ts); capture/chroot-mounts.sh does the same by hand.
set -euo pipefail

DIR=${1:-/var/lib/migtrace/trixie}
SUITE=trixie
log() { echo "setup-chroot: $*"; }
die() { echo "setup-chroot: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"

if [ -x "$DIR/usr/bin/qemu-system-x86_64" ]; then
  log "already set up: $(chroot "$DIR" qemu-system-x86_64 --version | head -n1) in $DIR"
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
MIRROR=$(find_mirror | grep -E '/debian/?$' | grep -v -- '-security' | head -n1 || true)
[ -n "$MIRROR" ] || die "no Debian archive found in /etc/apt/sources.list*; pass one in MIRROR=..."
MIRROR=${MIRROR_OVERRIDE:-$MIRROR}

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
  log "debootstrap --variant=minbase $SUITE $DIR $MIRROR"
  mkdir -p "$DIR"
  debootstrap --variant=minbase "$SUITE" "$DIR" "$MIRROR" > "$DIR.debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $DIR.debootstrap.log"
fi

cleanup() { umount "$DIR/proc" 2>/dev/null || true; }
trap cleanup EXIT
mountpoint -q "$DIR/proc" || mount -t proc proc "$DIR/proc"
log "installing qemu-system-x86 inside the chroot"
chroot "$DIR" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq
chroot "$DIR" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends qemu-system-x86 > "$DIR.apt.log" 2>&1 \
  || die "apt-get install qemu-system-x86 in the chroot failed; see $DIR.apt.log"
chroot "$DIR" apt-get clean
mkdir -p "$DIR/mig-work"
log "done: $(chroot "$DIR" qemu-system-x86_64 --version | head -n1) in $DIR"
