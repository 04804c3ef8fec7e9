#!/bin/sh
# Install the OpenID Connect provider that the single sign-on tests start on loopback
# (panva's oidc-provider, pinned in tests/oidc/package-lock.json). Needs node (20 or later) and npm.
set -eu
cd "$(dirname "$0")/../tests/oidc"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed: the single sign-on tests will be skipped (apt-get install nodejs npm)." >&2
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
