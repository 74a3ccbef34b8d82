#!/usr/bin/env bash
# A clang build with AddressSanitizer and UndefinedBehaviorSanitizer (leak
# checking included), plus every libFuzzer target: runs the unit,
# integration, security and Buildbarn runner suites against the
# instrumented daemon, library and runner, and a short pass of each
# fuzzer. boxd-init stays uninstrumented (it is linked statically and runs
# inside sandboxes).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-asan}
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang-14 meson setup "$dir" --buildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true >/dev/null
fi
if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
	grep -E "error|FAILED" "$dir/ninja.log" | head -40
	exit 1
fi
# LeakSanitizer stops the process's threads with ptrace at exit; Yama's
# ptrace_scope 3 forbids that to everyone, 2 to all but root, and then
# every instrumented program would die in the leak check.
leaks=1
scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)
if [ "$scope" = 3 ] || { [ "$scope" = 2 ] && [ "$(id -u)" != 0 ]; }; then
	echo "asan.sh: kernel.yama.ptrace_scope is $scope: LeakSanitizer cannot" \
		"run here, leak checking is off (address and UB checks stay on)"
	leaks=0
fi
export ASAN_OPTIONS=detect_leaks=$leaks:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
meson test -C "$dir" --print-errorlogs --num-processes 2 \
	--suite unit --suite integration --suite security --suite fuzz \
	--suite buildbarn
