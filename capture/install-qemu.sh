#!/usr/bin/env bash
# Install Debian 12's QEMU (7.2) for `migtrace capture`, unless qemu-system-x86_64 is already
# there. Idempotent and quiet: a second run does nothing and prints one line.
# The package is ~45 MB installed and takes well under a minute (see
# docs/capture.md).
set -euo pipefail

if command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "install-qemu: $(qemu-system-x86_64 --version | head -n1) already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-qemu: need root to apt-get install qemu-system-x86 (run with sudo)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/install-qemu.XXXXXX.log)
fail() { echo "install-qemu: $1 failed; apt output:" >&2; cat "$log" >&2; rm -f "$log"; exit 1; }
# One `apt-get update` per run, only when the package is not installable from the lists we
# already have (a fresh container often has no lists at all).
if ! apt-cache show qemu-system-x86 >/dev/null 2>&1; then
  apt-get update -qq >"$log" 2>&1 || fail "apt-get update"
fi
# No recommends: the GUI, qemu-utils, OVMF and block modules are not needed for -display none
# with a -kernel guest; seabios and ipxe-qemu (firmware) are hard dependencies and come along.
apt-get install -y -qq --no-install-recommends qemu-system-x86 >"$log" 2>&1 || fail "apt-get install qemu-system-x86"
rm -f "$log"
echo "install-qemu: installed $(qemu-system-x86_64 --version | head -n1)"
