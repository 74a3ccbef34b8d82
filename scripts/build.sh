#!/usr/bin/env bash
# Configure (once) and build boxd into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
	# The config where the docs say it is: /etc/boxd/boxd.conf.
	meson setup build --buildtype=debugoptimized --sysconfdir=/etc >/dev/null
fi
ninja -C build
