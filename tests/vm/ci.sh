#!/bin/bash
# The cgroup v2 suites, run inside the VM of tests/vm/run, for CI and for
# anyone on a hybrid (cgroup v1) host.
#
#   tests/vm/ci.sh BUILDDIR                 the cgroup unit tests, the
#                                           integration, security and
#                                           buildbarn suites, then boxd
#                                           under systemd
#   tests/vm/ci.sh BUILDDIR --suite NAME    only these (repeatable): cgroup,
#                                           integration, security,
#                                           buildbarn, systemd
#   tests/vm/ci.sh BUILDDIR -- CMD ARGS...  CMD instead, from the repo root
#
# BUILDDIR is a configured and built meson build directory. Exits non-zero
# if any step fails, the VM cannot boot, or a step times out
# (BOXD_VM_TIMEOUT seconds per step, default 1800). The initramfs is cached
# in BUILDDIR/vm; test logs of the guest's meson run land in
# BUILDDIR/meson-logs/vm-testlog.*, the systemd guest's journal (when its
# suite fails) in BUILDDIR/meson-logs/vm-systemd-journal.txt.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

if [ $# -lt 1 ]; then
	sed -n '5,19p' "$0" >&2
	exit 2
fi
builddir=$(cd "$1" && pwd)
shift
suites=()
while [ "${1:-}" = --suite ]; do
	case "${2:-}" in
	cgroup | integration | security | buildbarn | systemd) suites+=("$2") ;;
	*)
		echo "tests/vm/ci.sh: --suite: cgroup, integration, security, buildbarn or systemd" >&2
		exit 2
		;;
	esac
	shift 2
done
[ ${#suites[@]} -gt 0 ] || suites=(cgroup integration security buildbarn systemd)
want() { [[ " ${suites[*]} " == *" $1 "* ]]; }
[ "$(id -u)" = 0 ] || {
	echo "tests/vm/ci.sh: needs root (boots the host kernel, creates cgroups)" >&2
	exit 1
}

mkdir -p "$builddir/vm" "$builddir/meson-logs"
vm=(tests/vm/run --timeout "${BOXD_VM_TIMEOUT:-1800}" --cache "$builddir/vm"
	--share "$builddir/meson-logs")

if [ "${1:-}" = -- ]; then
	shift
	exec "${vm[@]}" -- "$@"
fi

passed=0
failed=0
# step NAME [VM-OPTIONS...] -- CMD ARGS...
step() {
	local name=$1 start rc=0
	shift
	echo "--- vm: $name"
	start=$(date +%s)
	"${vm[@]}" "$@" || rc=$?
	echo "--- vm: $name: $([ $rc = 0 ] && echo ok || echo "FAILED (status $rc)") in $(($(date +%s) - start))s"
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

cgroup_test=$builddir/tests/test-cgroup
if want cgroup; then
	if [ ! -x "$cgroup_test" ]; then
		echo "tests/vm/ci.sh: $cgroup_test is not built" >&2
		exit 1
	fi
	step "cgroup unit tests (v2)" -- "$cgroup_test" \
		--json="$builddir/meson-logs/criterion/cgroup.json"
fi

# The integration and security suites, and the Buildbarn runner's, when
# this build has them: all their programs must be built (the guest cannot
# build them: its tree is read-only).
for suite in integration security buildbarn; do
	want "$suite" || continue
	count=$(meson introspect "$builddir" --tests 2>/dev/null | SUITE=$suite python3 -c '
import json, os, sys
want = os.environ["SUITE"]
tests = [t for t in json.load(sys.stdin)
         if any(s.split(":")[-1] == want for s in t["suite"])]
missing = [t["cmd"][0] for t in tests if not os.path.exists(t["cmd"][0])]
print("missing " + " ".join(missing) if missing else len(tests))
' 2>/dev/null || echo 0)
	case "$count" in
	0) echo "--- vm: no $suite suite in $builddir" ;;
	missing*)
		echo "tests/vm/ci.sh: $suite tests not built: ${count#missing }" >&2
		failed=$((failed + 1))
		;;
	*)
		step "$suite tests (v2)" -- meson test -C "$builddir" --no-rebuild \
			--suite "$suite" --print-errorlogs --num-processes 1 \
			--timeout-multiplier 4 --logbase "vm-testlog-$suite"
		;;
	esac
done

# boxd installed from this build into a guest that boots systemd as pid 1
# (tests/vm/README.md), checked as an operator would
# (tests/systemd/operator.sh).
if want systemd; then
	step "boxd under systemd (v2)" --systemd --install "$builddir" \
		--enable boxd.socket -- tests/systemd/operator.sh "$builddir/meson-logs"
fi

echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
