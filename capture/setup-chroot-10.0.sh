#!/usr/bin/env bash
# QEMU 10.0 (Debian 13 trixie) in a chroot: kept for existing scripts and CI jobs; the same as
#   bash capture/setup-chroot.sh --suite trixie --dir DIR
#
#   bash capture/setup-chroot-10.0.sh [DIR]        (default DIR: /var/lib/migtrace/trixie)
set -euo pipefail
exec bash "$(dirname "$0")/setup-chroot.sh" --suite trixie --dir "${1:-/var/lib/migtrace/trixie}"
