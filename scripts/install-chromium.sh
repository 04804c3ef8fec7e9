#!/bin/sh
# Install Debian's Chromium when it is missing: browser tests and PDF charts need it.
# (Playwright's own browser download cannot work offline, so the distribution's build is used.)
set -e
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
echo "Chromium is missing: installing Debian's package 'chromium'..."
if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
else
    echo "Cannot install Chromium without root. Run: apt-get install chromium" >&2
    exit 1
fi
