#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (dictionary page, GraphiQL), if it is missing.
# Browser tests drive it with playwright-core (executablePath /usr/bin/chromium); they skip with a
# clear message when no Chromium can be found. Needs root (or sudo) and Debian's package mirror.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  echo "chromium: $(chromium --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "chromium: not installed and not root; browser tests will be skipped" >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: no apt-get on this machine; browser tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  echo "chromium: installed $(chromium --version 2>/dev/null)"
else
  echo "chromium: installation failed; browser tests will be skipped" >&2
fi
exit 0
