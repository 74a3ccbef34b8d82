#!/bin/sh
# systemd-analyze verify on boxd-bb-runner's unit as built (with boxd's
# units beside it, which it refers to), ExecStart pointing at this build.
#   tests/systemd/verify-bb-runner.sh SRCDIR BUILDDIR
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
tmp=$(mktemp -d /tmp/boxd-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$build/systemd/boxd.socket" "$tmp/boxd.socket"
sed "s|^ExecStart=[^ ]*|ExecStart=$build/daemon/boxd|" \
	"$build/systemd/boxd.service" >"$tmp/boxd.service"
sed "s|^ExecStart=[^ ]*|ExecStart=$build/bb-runner/boxd-bb-runner|" \
	"$build/systemd/boxd-bb-runner.service" >"$tmp/boxd-bb-runner.service"
grep -q "^ExecStart=$build/bb-runner/boxd-bb-runner " \
	"$tmp/boxd-bb-runner.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp/boxd.socket" \
	"$tmp/boxd.service" "$tmp/boxd-bb-runner.service" 2>&1) || {
	echo "$out"
	exit 1
}
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
# What the runner relies on: notify readiness, its own user in group boxd,
# and no mount namespace of its own (it must see the paths boxd binds).
for want in "Type=notify" "User=bb-runner" "SupplementaryGroups=boxd"; do
	grep -q "^$want\$" "$tmp/boxd-bb-runner.service" || {
		echo "boxd-bb-runner.service lacks $want"
		exit 1
	}
done
for unwanted in PrivateTmp ProtectSystem ProtectHome PrivateMounts \
	ReadOnlyPaths InaccessiblePaths TemporaryFileSystem BindPaths; do
	if grep -q "^$unwanted=" "$tmp/boxd-bb-runner.service"; then
		echo "boxd-bb-runner.service sets $unwanted="
		exit 1
	fi
done
grep -q "^m bb-runner boxd$" "$src/systemd/boxd-bb-runner.sysusers"
echo "boxd-bb-runner.service verifies cleanly"
