#!/usr/bin/env bash
# The boxd benchmark: builds what it needs (once) into build-bench/, then
# times /bin/true through boxd against posix_spawn and bwrap and prints a
# Markdown report (bench/README.md explains every figure).
#
#   bench/run.sh                  full run, a few minutes (the committed numbers)
#   bench/run.sh --quick          about a minute
#   bench/run.sh --compare REV    REV's boxd against the work tree's, in the
#                                 same alternating rounds (ratios work / base)
#   bench/run.sh --help           every option of the benchmark program
#
# Runs as root: it starts its own boxd daemons on private sockets.
# BENCH_BUILD_DIR overrides the build directory. --compare builds REV from
# `git archive` into build-bench-rev/<commit>/ (source and build dir, kept
# for the next comparison with the same commit).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(daemon/boxd daemon/sandbox/boxd-init client/boxctl/boxctl)

build=${BENCH_BUILD_DIR:-build-bench}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
# Only the targets the benchmark uses: a broken test elsewhere must not
# stop a measurement.
ninja -C "$build" "${targets[@]}" bench/boxd-bench >/dev/null

compare=()
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--compare)
		[ $# -ge 2 ] || { echo "--compare needs a revision" >&2; exit 2; }
		rev=$(git rev-parse --verify --quiet "$2^{commit}") ||
			{ echo "--compare: no commit $2" >&2; exit 2; }
		base="build-bench-rev/$rev"
		if [ ! -f "$base/build/build.ninja" ]; then
			rm -rf "$base"
			mkdir -p "$base/src"
			git archive "$rev" | tar -x -C "$base/src"
			meson setup "$base/build" "$base/src" \
				--buildtype=debugoptimized >/dev/null
		fi
		echo "building $2 ($rev) in $base/build" >&2
		ninja -C "$base/build" "${targets[@]}" >/dev/null
		label="$(git log -1 --format='%h %s' "$rev" | cut -c1-60)"
		work="$(git rev-parse --short HEAD)"
		git diff --quiet HEAD -- || work="$work + uncommitted changes"
		compare=(--compare-boxd "$base/build/daemon/boxd"
			--compare-boxctl "$base/build/client/boxctl/boxctl"
			--compare-label "$label" --label "$work")
		shift 2
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done
if [ "${args[0]:-}" = "--build-only" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "run as root: the benchmark starts private boxd daemons" >&2
	exit 1
fi
exec "$build/bench/boxd-bench" \
	--boxd "$build/daemon/boxd" \
	--boxctl "$build/client/boxctl/boxctl" "${compare[@]}" "${args[@]}"
