#!/usr/bin/env bash
# What hostile clients cost another client: pooled /bin/true latency alone
# and while two clients send the worst request the protocol admits, in
# alternating rounds, as a ratio (bench/README.md, "Hostile clients").
#
#   bench/hostile.sh              5 rounds of 100 runs of each kind
#   bench/hostile.sh --help       every option
#
# Runs as root. BENCH_BUILD_DIR overrides the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BENCH_BUILD_DIR:-build-bench}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" daemon/boxd daemon/sandbox/boxd-init \
	bench/boxd-bench-hostile >/dev/null
if [ "$(id -u)" != 0 ]; then
	echo "run as root: the benchmark starts a private boxd" >&2
	exit 1
fi
exec "$build/bench/boxd-bench-hostile" --boxd "$build/daemon/boxd" "$@"
