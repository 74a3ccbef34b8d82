#!/usr/bin/env bash
# Set up, build, start boxd on a private socket, run one command in a
# real sandbox through boxctl and show its result record, then stop.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "run as root: boxd is a root daemon" >&2
	exit 1
fi
scripts/install-deps.sh
scripts/build.sh >/dev/null

dir=$(mktemp -d /tmp/boxd-demo.XXXXXX)
chmod 755 "$dir"
sock=$dir/boxd.sock
build/daemon/boxd --socket "$sock" --state-dir "$dir/state" \
	--cgroup-root "boxd-demo-$$" --config /dev/null 2>"$dir/boxd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

echo "== boxctl status"
build/client/boxctl/boxctl --socket "$sock" status
echo
echo "== boxctl run --memory 256M --pids 64 --timeout 10s --json -- sh -c '...'"
set +e
build/client/boxctl/boxctl --socket "$sock" run \
	--memory 256M --pids 64 --timeout 10s --hostname demo --json \
	-- /bin/sh -c 'echo "hello from $(hostname): uid $(id -u), pid $$"; echo $(ls /); exit 3'
status=$?
set -e
echo "== exit status: $status (the command's own)"
