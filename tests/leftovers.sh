#!/usr/bin/env bash
# What the test suites left on this host: every daemon, directory, cgroup
# and mount a test creates carries "boxd-test-" in its name.
#
#   tests/leftovers.sh          list them; exit 1 if there are any
#   tests/leftovers.sh --clean  remove them (kill, unmount, rmdir, rm)
set -uo pipefail

procs() {
	# Test daemons run with --socket /tmp/boxd-test-*/...; their
	# sandboxes sit in boxd-test-* cgroups.
	grep -l 'boxd[-]test-' /proc/[0-9]*/cmdline /proc/[0-9]*/cgroup 2>/dev/null |
		cut -d/ -f3 | sort -un | grep -vx "$$" || true
}
cgroups() {
	ls -d /sys/fs/cgroup/boxd-test-* /sys/fs/cgroup/*/boxd-test-* 2>/dev/null || true
}
mounts() {
	awk '$5 ~ /boxd-test-/ { print $5 }' /proc/self/mountinfo
}
tmpdirs() {
	ls -d /tmp/boxd-test-* 2>/dev/null || true
}

if [ "${1:-}" = --clean ]; then
	for p in $(procs); do kill -9 "$p" 2>/dev/null; done
	mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	for c in $(cgroups); do
		for _ in 1 2 3 4 5; do
			find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null |
				xargs -r kill -9 2>/dev/null
			find "$c" -depth -type d -exec rmdir {} + 2>/dev/null && break
			sleep 0.2
		done
	done
	tmpdirs | xargs -r rm -rf
	exit 0
fi

found=0
report() {
	local what=$1 list=$2
	[ -n "$list" ] || return 0
	found=1
	echo "left behind: $what:"
	echo "$list" | sed 's/^/  /'
}
report processes "$(for p in $(procs); do
	printf '%s %s\n' "$p" "$(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
done)"
report cgroups "$(cgroups)"
report mounts "$(mounts)"
report "temporary directories" "$(tmpdirs)"
exit $found
