#!/bin/sh
# Installs Debian's chromium for the browser test (test/system/browser.test.ts drives it through
# playwright-core, which downloads no browser of its own). Idempotent: does nothing when a usable
# chromium is already there. Needs root (or sudo) and apt; prints why when it cannot install.
set -eu

CHROMIUM=${MIGTRACE_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ] && "$CHROMIUM" --headless --no-sandbox --version >/dev/null 2>&1; then
  echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get on this system; install Chromium yourself and set MIGTRACE_CHROMIUM=/path/to/chromium" >&2
  exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-chromium: not root and no sudo: run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when apt does not know the package yet (saves a network round
# trip on machines that already ran apt-get update).
if ! apt-cache show chromium >/dev/null 2>&1; then
  $SUDO apt-get update
fi
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core

echo "installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM (version unknown)")"
