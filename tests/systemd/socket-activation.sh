#!/bin/sh
# boxd started the way boxd.socket starts it: the listening socket is
# passed in (LISTEN_FDS), boxd must serve on it and not create its own.
#   tests/systemd/socket-activation.sh BUILDDIR
set -eu
build=$(cd "$1" && pwd)
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "SKIP: systemd-socket-activate is not installed"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: boxd needs root"
	exit 77
fi
# A kernel without what every sandbox needs: boxd refuses to start.
if ! missing=$("$build/daemon/boxd" --config /dev/null --check-environment 2>&1); then
	echo "SKIP: this kernel lacks what boxd needs:"
	echo "$missing" | grep -F "[required]" || true
	exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# --socket is not given: boxd must take the passed fd.
systemd-socket-activate -l "$tmp/boxd.sock" \
	"$build/daemon/boxd" --state-dir "$tmp/state" --no-cgroups \
	--config /dev/null --pool-size 1 2>"$tmp/log" &
pid=$!
# The socket is there once systemd-socket-activate listens; a loaded
# machine may take a while to get that far (the test's own timeout bounds
# the wait).
while [ ! -S "$tmp/boxd.sock" ]; do
	kill -0 "$pid" 2>/dev/null || {
		echo "systemd-socket-activate exited before listening:"
		cat "$tmp/log"
		exit 1
	}
	sleep 0.05
done
out=$("$build/client/boxctl/boxctl" --socket "$tmp/boxd.sock" run -- /bin/echo activated)
[ "$out" = activated ] || {
	echo "unexpected output: $out"
	cat "$tmp/log"
	exit 1
}
grep -q "ready on the socket from systemd" "$tmp/log" || {
	echo "boxd did not use the passed socket:"
	cat "$tmp/log"
	exit 1
}
echo "socket activation works"
