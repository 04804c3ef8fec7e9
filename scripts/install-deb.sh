#!/bin/sh
# Install a Debian package when its command is missing: install-deb.sh COMMAND [PACKAGE]
# (PACKAGE defaults to COMMAND). Uses apt-get as root, else through sudo.
set -e
command_name="$1"
package="${2:-$1}"
if [ -z "$command_name" ]; then
    echo "usage: $0 COMMAND [PACKAGE]" >&2
    exit 2
fi
if command -v "$command_name" >/dev/null 2>&1; then
    exit 0
fi
echo "$command_name is missing: installing Debian's package '$package'..."
if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"
elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"
else
    echo "Cannot install $package without root. Run: apt-get install $package" >&2
    exit 1
fi
