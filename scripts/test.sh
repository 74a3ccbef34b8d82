#!/usr/bin/env bash
# Install what is needed, build, and run every test: unit and integration
# tests on this host (cgroup v1 or v2, whatever it has), the same
# integration and cgroup suites against cgroup v2 in a VM, the security
# suite, an ASan/UBSan build of the unit and protocol tests, and a short
# fuzzing pass over every fuzz target.
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

passed=0
failed=0
failures=()
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

step "unit and integration tests (host)" \
	meson test -C build --print-errorlogs --num-processes 2

if [ $quick = 0 ]; then
	if [ -x tests/vm/ci.sh ]; then
		step "cgroup v2 suites in a VM" tests/vm/ci.sh build
	fi
	step "ASan/UBSan build: unit, integration, security, buildbarn and fuzz suites" tests/asan.sh
fi

echo
if ((failed)); then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
