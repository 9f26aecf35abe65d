#!/usr/bin/env bash
# Mount (up) or unmount (down) what QEMU needs inside a capture chroot: proc, sysfs, /dev and
# /dev/pts. `migtrace capture --chroot DIR` does this itself around each run (and unmounts only
# what it mounted); this script is for running QEMU in the chroot by hand.
#
#   bash capture/chroot-mounts.sh up   [DIR]     (default DIR: /var/lib/migtrace/trixie)
#   bash capture/chroot-mounts.sh down [DIR]
set -euo pipefail
action=${1:?usage: chroot-mounts.sh up|down [DIR]}
DIR=$(realpath "${2:-/var/lib/migtrace/trixie}")
[ -d "$DIR" ] || { echo "chroot-mounts: $DIR does not exist" >&2; exit 1; }
case "$action" in
  up)
    mountpoint -q "$DIR/proc"    || mount -t proc proc "$DIR/proc"
    mountpoint -q "$DIR/sys"     || mount -t sysfs sysfs "$DIR/sys"
    mountpoint -q "$DIR/dev"     || mount --bind /dev "$DIR/dev"
    mountpoint -q "$DIR/dev/pts" || mount --bind /dev/pts "$DIR/dev/pts"
    ;;
  down)
    # Reverse order; lazily if something still holds a mount.
    for m in dev/pts dev sys proc; do
      if mountpoint -q "$DIR/$m"; then umount "$DIR/$m" 2>/dev/null || umount -l "$DIR/$m"; fi
    done
    ;;
  *) echo "usage: chroot-mounts.sh up|down [DIR]" >&2; exit 2 ;;
esac
