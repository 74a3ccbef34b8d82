#!/usr/bin/env bash
# Where a pooled boxd run spends its time, measured with perf on a private
# daemon (default profile, seccomp, net none, memory 256M, pids 64):
#
#  1. the critical path of sequential runs on one connection, step by step
#     across client, daemon, sandbox pid 1 and the command
#     (perf trace record -a, then bench/latency-timeline.py);
#  2. the CPU each run costs, system-wide, with 4 clients on all cores,
#     by process and activity (perf record -a -g, bench/cpu-breakdown.py);
#  3. the same CPU view of plain posix_spawn + waitpid of /bin/true;
#  4. the wake-ups a run causes, on the waker's CPU or another, for both
#     (perf record -e sched:sched_wakeup*, bench/wakeups.py).
#
# Usage: bench/profile.sh [--runs N]   (root; needs perf: linux-perf)
# BOXD_PROFILE_KEEP=FILE also keeps the decoded system-call trace.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000
if [ "${1:-}" = "--runs" ] && [ -n "${2:-}" ]; then
	runs=$2
fi
if [ "$(id -u)" != 0 ]; then
	echo "run as root: the benchmark starts a private boxd" >&2
	exit 1
fi
if ! command -v perf >/dev/null; then
	echo "perf is missing: apt-get install linux-perf" >&2
	exit 1
fi

build=${BENCH_BUILD_DIR:-build-bench}
bench/run.sh --build-only >/dev/null
bin=$build/bench/boxd-bench

dir=$(mktemp -d /tmp/boxd-profile.XXXXXX)
chmod 755 "$dir"
"$build/daemon/boxd" --socket "$dir/boxd.sock" --state-dir "$dir/state" \
	--cgroup-root "boxd-profile-$$" --config /dev/null --pool-size 8 \
	2>"$dir/boxd.log" &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -rf "$dir"
	# What the daemon's cgroup tree left behind (v1: one per controller).
	for _ in 1 2 3; do
		find /sys/fs/cgroup/*/"boxd-profile-$$" -depth -type d \
			-exec rmdir {} + 2>/dev/null || sleep 0.2
	done
}
trap cleanup EXIT
for _ in $(seq 200); do [ -S "$dir/boxd.sock" ] && break; sleep 0.05; done
"$bin" --hammer "$dir/boxd.sock" --runs 200 >/dev/null # warm caches, pool

echo "## Critical path of one pooled run (sequential, $runs runs traced)"
echo
perf trace record -a -o "$dir/trace.data" -- \
	"$bin" --hammer "$dir/boxd.sock" --runs "$runs" 2>/dev/null |
	sed 's/^/while traced: /'
echo
perf trace -i "$dir/trace.data" -o "$dir/trace.txt" 2>/dev/null
bench/latency-timeline.py --daemon-pid "$pid" <"$dir/trace.txt"
# BOXD_PROFILE_KEEP=FILE keeps the decoded trace for a closer look.
if [ -n "${BOXD_PROFILE_KEEP:-}" ]; then
	cp "$dir/trace.txt" "$BOXD_PROFILE_KEEP"
	echo "(the trace, daemon pid $pid: $BOXD_PROFILE_KEEP)"
fi
rm -f "$dir/trace.data" "$dir/trace.txt"

cpu_runs=$((runs * 3))
echo
echo "## CPU per run, boxd with the pool, 4 clients ($cpu_runs runs)"
echo
perf record -a -g -e cpu-clock -o "$dir/cpu.data" -- \
	"$bin" --hammer "$dir/boxd.sock" --runs "$cpu_runs" --concurrency 4 \
	2>/dev/null | sed 's/^/while profiled: /'
echo
perf script -i "$dir/cpu.data" -F comm,tid,period,ip,sym,dso 2>/dev/null |
	bench/cpu-breakdown.py --runs "$cpu_runs" --daemon-pid "$pid"
rm -f "$dir/cpu.data"

echo
echo "## CPU per run, posix_spawn + waitpid of /bin/true, 4 threads"
echo
perf record -a -g -e cpu-clock -o "$dir/floor.data" -- \
	"$bin" --hammer floor --runs "$cpu_runs" --concurrency 4 \
	2>/dev/null | sed 's/^/while profiled: /'
echo
perf script -i "$dir/floor.data" -F comm,tid,period,ip,sym,dso 2>/dev/null |
	bench/cpu-breakdown.py --runs "$cpu_runs"
rm -f "$dir/floor.data"

echo
echo "## Wake-ups per run (sequential, $runs runs each)"
echo
for what in boxd floor; do
	target="$dir/boxd.sock"
	[ "$what" = floor ] && target=floor
	perf record -a -e sched:sched_wakeup -e sched:sched_wakeup_new \
		-o "$dir/wake.data" -- "$bin" --hammer "$target" --runs "$runs" \
		>/dev/null 2>&1
	label="boxd, pooled run"
	[ "$what" = floor ] && label="posix_spawn + waitpid"
	perf script -i "$dir/wake.data" 2>/dev/null |
		bench/wakeups.py --runs "$runs" --label "$label"
	echo
	rm -f "$dir/wake.data"
done
