#!/bin/sh
# Install Debian's Chromium when it is missing: browser tests and PDF charts need it.
# (Playwright's own browser download cannot work offline, so the distribution's build is used.)
exec sh "$(dirname "$0")/install-deb.sh" chromium chromium
