#!/usr/bin/env bash
# The boxd benchmark: builds what it needs (once) into build-bench/, then
# times /bin/true through boxd against posix_spawn and bwrap and prints a
# Markdown report (bench/README.md explains every figure).
#
#   bench/run.sh            full run, a few minutes (the committed numbers)
#   bench/run.sh --quick    about a minute
#   bench/run.sh --help     every option of the benchmark program
#
# Runs as root: it starts its own boxd daemons on private sockets.
# BENCH_BUILD_DIR overrides the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BENCH_BUILD_DIR:-build-bench}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
# Only the targets the benchmark uses: a broken test elsewhere must not
# stop a measurement.
ninja -C "$build" daemon/boxd daemon/sandbox/boxd-init \
	client/boxctl/boxctl bench/boxd-bench >/dev/null
if [ "${1:-}" = "--build-only" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "run as root: the benchmark starts private boxd daemons" >&2
	exit 1
fi
exec "$build/bench/boxd-bench" \
	--boxd "$build/daemon/boxd" \
	--boxctl "$build/client/boxctl/boxctl" "$@"
