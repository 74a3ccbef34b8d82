#!/usr/bin/env bash
# Load check for BLUEPRINT §8's last bar: 200 sandboxes running at once and
# 1,000 client connections open at once, held without error. Starts a
# private boxd, prints what it saw, stops it. Not a timing test.
#
#   bench/load.sh [RUNS [CONNECTIONS]]      (defaults 200 and 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
conns=${2:-1000}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
build=${BENCH_BUILD_DIR:-build-bench}
BENCH_BUILD_DIR=$build bench/run.sh --build-only

dir=$(mktemp -d /tmp/boxd-load.XXXXXX)
chmod 755 "$dir"
"$build/daemon/boxd" --socket "$dir/s" --state-dir "$dir/state" \
	--cgroup-root "boxd-load-$$" --config /dev/null 2>"$dir/log" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.05; done
boxctl=$build/client/boxctl/boxctl

clients=()
for i in $(seq "$runs"); do
	("$boxctl" --socket "$dir/s" run --memory 64M -- sh -c 'sleep 4; echo ok' \
		>"$dir/out.$i" 2>&1; echo $? >"$dir/rc.$i") &
	clients+=($!)
done
sleep 3
echo "runs at once: $("$boxctl" --socket "$dir/s" status --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"])')"
wait "${clients[@]}"
echo "runs that printed ok: $(cat "$dir"/out.* | grep -c '^ok$') / $runs;" \
	"non-zero exits: $(cat "$dir"/rc.* | grep -vc '^0$' || true)"

python3 - "$dir/s" "$conns" <<'PY'
import socket, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    hello = b'\x08\x01'                              # Hello{versions: [1]}
    req = b'\x0a' + bytes([len(hello)]) + hello      # Request{hello}
    s.sendall(struct.pack('<I', len(req)) + req)
    socks.append(s)
ok = 0
for s in socks:
    s.settimeout(10)
    hdr = s.recv(4, socket.MSG_WAITALL)
    if len(hdr) == 4:
        body = s.recv(struct.unpack('<I', hdr)[0], socket.MSG_WAITALL)
        ok += body[:1] == b'\x0a'                    # Event{hello}
print(f"connections open at once: {n}, handshakes answered: {ok}")
for s in socks:
    s.close()
PY
echo "daemon: $(grep VmRSS /proc/$daemon/status | tr -s ' ')," \
	"warnings/errors logged: $(grep -c '^<[0-3]>' "$dir/log" || true)"
