#!/usr/bin/env bash
# Installs what the end-to-end browser test needs (Debian's chromium), only where missing.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium missing: install it with 'apt-get install -y chromium' to run the browser tests" >&2
  exit 0
fi
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || echo "could not install chromium" >&2
