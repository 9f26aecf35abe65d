#!/usr/bin/env bash
# The two Debian 13 chroots the system tests run QEMU from (test/system/*: capture with --chroot,
# `migtrace events` against each version's trace-events): QEMU 10.0 in /var/lib/migtrace/trixie,
# QEMU 11.1 (trixie-backports) in /var/lib/migtrace/trixie-11. The second starts as a copy of the
# first and is upgraded in place, so the pair costs one debootstrap (about 40 s here with a warm
# mirror). Idempotent (capture/setup-chroot.sh only prints the version when QEMU is there). Root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=/var/lib/migtrace
bash capture/setup-chroot.sh --suite trixie --dir "$ROOT/trixie"
if [ ! -x "$ROOT/trixie-11/usr/bin/qemu-system-x86_64" ] && [ ! -e "$ROOT/trixie-11" ]; then
  cp -a "$ROOT/trixie" "$ROOT/trixie-11"
fi
bash capture/setup-chroot.sh --suite trixie-backports --dir "$ROOT/trixie-11"
