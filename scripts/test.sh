#!/usr/bin/env bash
# Install what is needed, build, and run every test: the source format
# check, unit, integration and Buildbarn runner tests on this host
# (cgroup v1 or v2, whatever it has), the same integration, cgroup and
# Buildbarn suites against cgroup v2 in a VM, the security suite, an
# ASan/UBSan build of the unit, integration, security and Buildbarn
# suites, and a short fuzzing pass over every fuzz target. Ends with one line per suite (passed, failed, skipped and
# why) and fails if any test left a process, cgroup, mount or temporary
# directory behind.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    host tests only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = --quick ] && quick=1

if [ "$(id -u)" != 0 ]; then
	echo "run as root: the integration tests start boxd" >&2
	exit 1
fi
scripts/install-deps.sh
scripts/build.sh >/dev/null

# What an earlier, interrupted run left would be blamed on this one.
if ! tests/leftovers.sh >/dev/null; then
	echo "removing what an earlier test run left behind:"
	tests/leftovers.sh || true
	tests/leftovers.sh --clean
fi

passed=0
failed=0
failures=()
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

step() {
	local name=$1
	shift
	echo
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

# summarize LABEL BUILDDIR TESTLOG...: one line per suite into $summary,
# then forget the criterion reports so the next step starts clean.
summarize() {
	local label=$1 dir=$2 logs=() log
	shift 2
	for log in "$@"; do
		logs+=("$dir/meson-logs/$log")
	done
	tests/summary.py "$label" "$dir/meson-logs/criterion" "${logs[@]}" \
		>>"$summary"
	rm -f "$dir"/meson-logs/criterion/*.json
}

rm -f build/meson-logs/criterion/*.json
step "source format (clang-format)" scripts/format.sh --check
step "unit and integration tests (host)" \
	meson test -C build --print-errorlogs --num-processes 2
summarize host build testlog.json

if [ $quick = 0 ]; then
	if [ -x tests/vm/ci.sh ]; then
		step "cgroup v2 suites in a VM" tests/vm/ci.sh build
		summarize vm build vm-testlog-integration.json \
			vm-testlog-security.json vm-testlog-buildbarn.json
	fi
	step "ASan/UBSan build: unit, integration, security, buildbarn and fuzz suites" tests/asan.sh
	summarize asan build-asan testlog.json
fi

step "nothing left behind (processes, cgroups, mounts, /tmp)" tests/leftovers.sh

echo
echo "=== suites (environment, suite, checks)"
cat "$summary"
echo
if ((failed)); then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
