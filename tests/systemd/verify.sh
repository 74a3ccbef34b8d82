#!/bin/sh
# systemd-analyze verify on the units as built, with ExecStart pointing at
# this build's boxd (verify insists the binary exists).
#   tests/systemd/verify.sh BUILDDIR
set -eu
build=$(cd "$1" && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$build/systemd/boxd.socket" "$tmp/boxd.socket"
sed "s|^ExecStart=[^ ]*|ExecStart=$build/daemon/boxd|" \
	"$build/systemd/boxd.service" >"$tmp/boxd.service"
grep -q "^ExecStart=$build/daemon/boxd " "$tmp/boxd.service"
# Every message of verify is a finding: fail on any output. --man=no: the
# man pages are not installed where this runs; the VM suite
# (tests/systemd/operator.sh) checks Documentation= on an installed system.
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	"$tmp/boxd.socket" "$tmp/boxd.service" 2>&1) || {
	echo "$out"
	exit 1
}
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
# The properties the daemon relies on.
for want in "Type=notify" "Delegate=yes"; do
	grep -q "^$want\$" "$tmp/boxd.service" || {
		echo "boxd.service lacks $want"
		exit 1
	}
done
# The hardening stays (docs/operator.md): systemd-analyze security rates the
# unit 4.8 (48 on --threshold's scale); a change that loosens it fails here.
# The VM suite (tests/systemd/operator.sh) checks sandboxes under it.
out=$(systemd-analyze security --offline=true --threshold=48 --no-pager \
	"$tmp/boxd.service" 2>&1) || {
	echo "$out" | grep -E "✗|Overall"
	echo "boxd.service is less hardened than it was (exposure above 4.8)"
	exit 1
}
grep -q "^ListenStream=/run/boxd/boxd.sock$" "$tmp/boxd.socket"
grep -q "^SocketMode=0660$" "$tmp/boxd.socket"
grep -q "^SocketGroup=boxd$" "$tmp/boxd.socket"
echo "systemd units verify cleanly"
