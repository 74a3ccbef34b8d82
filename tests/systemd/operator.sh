#!/bin/bash
# boxd as installed and run by systemd, checked the way an operator would:
# socket activation and access, Type=notify, cgroup delegation and per-run
# limits, reload, stop, restart, crash recovery, the watchdog, journal
# priorities, and sandboxes under the hardened unit.
#
#   tests/systemd/operator.sh [LOGDIR]
#
# It runs inside the VM of tests/vm/run --systemd --install BUILDDIR
# --enable boxd.socket (tests/vm/ci.sh does that), never on a real host:
# it adds users, rewrites /etc/boxd/boxd.conf, stops, kills and stalls
# boxd. On failure the guest's journal is written to LOGDIR.
#
# Checks run in order and each leaves boxd running with the base
# configuration for the next. Exit status: 0 if every check passed, 1 if
# one failed, 77 (skip) if this is not a systemd guest.
set -euo pipefail

logdir=${1:-}
prog=tests/systemd/operator.sh

if [ "${BOXD_VM_SYSTEMD:-}" != 1 ] || [ ! -d /run/systemd/system ]; then
	echo "SKIP: $prog needs the systemd guest of tests/vm/run --systemd"
	exit 77
fi

conf=/etc/boxd/boxd.conf
member=boxdt-member     # in the boxd group
private=boxdt-private   # in the boxd group, uid-mode = private
stranger=boxdt-stranger # not in the boxd group
deadline=120            # seconds to wait for any state: generous, emulated CPUs

# --- helpers -----------------------------------------------------------

note() { echo "    $*"; }
fail() {
	echo "    FAILED: $*" >&2
	return 1
}

# wait_for DESCRIPTION CMD...: until CMD succeeds, or fail after $deadline.
# CMD's arguments are expanded once, by the caller: what must be read
# again on every try goes into a function (prop_is, prop_above, ...).
wait_for() {
	local what=$1 end=$((SECONDS + deadline))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "waited ${deadline}s for $what"
		sleep 0.2
	done
}

prop() { systemctl show -P "$1" boxd.service; }
main_pid() { prop MainPID; }
state_is() { [ "$(prop ActiveState)" = "$1" ]; }
prop_is() { [ "$(prop "$1")" = "$2" ]; }
prop_is_not() { [ "$(prop "$1")" != "$2" ]; }
prop_above() { [ "$(prop "$1")" -gt "$2" ]; }
unit_cgroup() { echo "/sys/fs/cgroup$(prop ControlGroup)"; }

as_user() {
	local user=$1
	shift
	setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

# The journal of boxd.service from a cursor on: journal_mark, then
# journal_since "$mark" [journalctl options].
journal_mark() { journalctl --show-cursor -n 0 -q | sed -n 's/^-- cursor: //p'; }
journal_since() {
	local mark=$1
	shift
	journalctl -u boxd.service --no-pager -q --after-cursor="$mark" "$@"
}
journal_has() { journal_since "$1" -o cat | grep -qE -- "$2"; }
# The messages at priority err or worse since a mark. (journalctl 252
# drops entries when --after-cursor, -u and -p are combined: filter here.)
journal_errors() {
	journal_since "$1" -o json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if int(e.get("PRIORITY", 6)) <= 3:
        print(e.get("MESSAGE", ""))
'
}

# A run left going in the background, as user $1, tagged $2, with its
# stdout and stderr in $tmp/$2.out; its boxctl's pid in bg_pid (setpriv
# execs boxctl: a signal to bg_pid reaches boxctl, which forwards it).
run_bg() {
	local user=$1 tag=$2
	shift 2
	setpriv --reuid="$user" --regid="$user" --init-groups -- \
		boxctl run --tag "$tag" "$@" >"$tmp/$tag.out" 2>&1 &
	bg_pid=$!
}

# The run with tag $1 as boxctl ps --json shows it to root: its pid,
# empty if it is not running (yet).
run_pid() {
	boxctl ps --json 2>/dev/null | TAG=$1 python3 -c '
import json, os, sys
for r in json.load(sys.stdin).get("runs", []):
    if r.get("tag") == os.environ["TAG"] and r.get("pid"):
        print(r["pid"])
'
}
running() { [ -n "$(run_pid "$1")" ]; }

# The pid of one of boxd's pre-warmed sandboxes.
# An idle pre-warmed sandbox: the one process (its boxd-init) of a
# sandbox-<n> cgroup.
pool_member() {
	local procs pids
	for procs in "$(unit_cgroup)"/sandbox-*/cgroup.procs; do
		pids=$(cat "$procs" 2>/dev/null) || continue
		[ -n "$pids" ] && [[ "$pids" != *$'\n'* ]] || continue
		echo "$pids"
		return 0
	done
	return 1
}

# The cgroup directory of a process, on the cgroup2 mount.
cgroup_of() { echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"; }

# A field of the JSON result record boxctl --json wrote into file $1.
result_field() {
	FIELD=$2 python3 -c '
import json, os, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{") and "termination" in line:
        v = json.loads(line).get(os.environ["FIELD"])
        print("null" if v is None else v)
        break
' "$1"
}

# The base configuration every check starts from and returns to.
base_config() {
	cat <<EOF
[private-ids]
first = 2147483648
count = 65536

[tenant.private]
uids = $private
uid-mode = private

[tenant.members]
groups = boxd
max-memory = ${1:-1G}
EOF
}

restore_base() {
	base_config >"$conf"
	if ! state_is active; then
		systemctl reset-failed boxd.service 2>/dev/null || true
		systemctl start boxd.service
	else
		systemctl restart boxd.service
	fi
}

# --- the checks ---------------------------------------------------------

check_boot() {
	local running sock
	[ "$(cat /proc/1/comm)" = systemd ] || fail "pid 1 is not systemd"
	# The command starts once multi-user.target is reached; a last job
	# (the journal's flush) may still be finishing.
	running=$(timeout "$deadline" systemctl is-system-running --wait || true)
	if [ "$running" != running ]; then
		systemctl --failed --no-pager >&2 || true
		fail "system is $running, not running"
	fi
	getent group boxd >/dev/null || fail "no boxd group (systemd-sysusers)"
	[ "$(systemctl is-enabled boxd.socket)" = enabled ] ||
		fail "boxd.socket is not enabled"
	systemctl is-active -q boxd.socket || fail "boxd.socket is not listening"
	state_is inactive || fail "boxd.service is $(prop ActiveState) before any client"
	sock=$(stat -c '%a %U %G' /run/boxd/boxd.sock)
	[ "$sock" = "660 root boxd" ] || fail "socket is '$sock', want '660 root boxd'"
	note "booted to multi-user.target; boxd.socket listening, socket $sock"
}

check_socket_activation() {
	local mark out
	mark=$(journal_mark)
	out=$(boxctl run -- /bin/echo activated)
	[ "$out" = activated ] || fail "first run printed '$out'"
	state_is active || fail "boxd.service is $(prop ActiveState) after the first run"
	journal_has "$mark" "ready on the socket from systemd" ||
		fail "boxd did not serve on the socket systemd passed"
	out=$(boxctl status)
	grep -q "v2" <<<"$out" || fail "boxctl status does not report cgroup v2: $out"
	note "the first boxctl run started boxd.service, on systemd's socket"
}

check_access() {
	local out rc=0
	out=$(as_user "$member" boxctl run -- id -u)
	[ "$out" = "$(id -u "$member")" ] || fail "member's run printed '$out'"
	out=$(as_user "$stranger" boxctl run -- /bin/true 2>&1) || rc=$?
	[ "$rc" = 125 ] || fail "a non-member's run ended with $rc, want 125"
	[[ "$out" == *"Permission denied"* ]] ||
		fail "a non-member was told '$out'"
	note "members of boxd run; others: $out"
}

# Type=notify: with the configuration file a FIFO, boxd blocks before it
# is ready; the unit must stay activating (and a client wait) until it is.
check_notify() {
	local client out
	[ "$(prop Type)" = notify ] || fail "Type=$(prop Type)"
	[[ "$(prop StatusText)" == serving* ]] ||
		fail "status text '$(prop StatusText)'"
	systemctl stop boxd.service
	rm -f "$conf"
	mkfifo -m 0600 "$conf"
	systemctl start --no-block boxd.service
	wait_for "boxd to start" prop_is_not MainPID 0
	sleep 2 # boxd sits in open() on the FIFO: nothing may change
	state_is activating || fail "unit is $(prop ActiveState) while boxd is not ready"
	boxctl run -- /bin/echo served >"$tmp/notify.out" 2>&1 &
	client=$!
	base_config >"$conf.new"
	# Opening the FIFO lets boxd go on (and would block if boxd were gone).
	timeout "$deadline" sh -c 'cat "$1" >"$2"' sh "$conf.new" "$conf" ||
		fail "boxd never read its configuration"
	wait_for "the unit to become active" state_is active
	wait "$client" || fail "the waiting client failed: $(cat "$tmp/notify.out")"
	out=$(cat "$tmp/notify.out")
	[ "$out" = served ] || fail "the waiting client got '$out'"
	mv "$conf.new" "$conf"
	note "activating until READY=1, then active; a client that came early was served"
}

check_bad_config() {
	local mark restarts rc=0 line
	mark=$(journal_mark)
	restarts=$(prop NRestarts)
	printf '[tenant.members]\ngroups = boxd\nmax-memory = lots\n' >"$conf"
	systemctl restart boxd.service 2>/dev/null || rc=$?
	[ "$rc" != 0 ] || fail "systemctl restart succeeded with a bad configuration"
	wait_for "the unit to be failed" state_is failed
	# Restart= would have tried again within RestartSec (100 ms): look
	# for a while that it does not.
	sleep 2
	state_is failed || fail "unit is $(prop ActiveState) after failing"
	[ "$(prop Result)" = exit-code ] || fail "Result=$(prop Result)"
	[ "$(prop NRestarts)" = "$restarts" ] ||
		fail "restarted $(($(prop NRestarts) - restarts)) times on a bad configuration"
	wait_for "the reason in the journal" journal_has "$mark" "$conf:3: max-memory"
	line=$(journal_errors "$mark")
	line=$(grep "$conf:3:" <<<"$line") || fail "the reason is not logged as an error"
	systemctl is-active -q boxd.socket || fail "boxd.socket stopped listening"
	note "failed, no restart loop; journal: $line"
	restore_base
	[ "$(boxctl run -- /bin/echo fixed)" = fixed ] || fail "no run after the fix"
}

check_delegation() {
	local cg pid runcg subtree out
	cg=$(unit_cgroup)
	[ "$(prop Delegate)" = yes ] || fail "Delegate=$(prop Delegate)"
	[ ! -s "$cg/cgroup.procs" ] || fail "processes in the unit's own cgroup: $(cat "$cg/cgroup.procs")"
	# supervisor/ holds boxd and its spawner (boxd-init --spawner, a
	# child of boxd); sandboxes are never there.
	local p main
	main=$(main_pid)
	grep -qx "$main" "$cg/supervisor/cgroup.procs" ||
		fail "boxd ($main) is not in supervisor/: $(cat "$cg/supervisor/cgroup.procs")"
	for p in $(cat "$cg/supervisor/cgroup.procs"); do
		[ "$p" = "$main" ] && continue
		[ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$main" ] &&
			[ "$(tr '\0' ' ' <"/proc/$p/cmdline")" = "boxd-init --spawner " ] ||
			fail "supervisor/ holds $p ($(tr '\0' ' ' <"/proc/$p/cmdline")), neither boxd nor its spawner"
	done
	subtree=$(cat "$cg/cgroup.subtree_control")
	for c in cpu memory pids; do
		[[ " $subtree " == *" $c "* ]] || fail "$c not enabled below $cg ($subtree)"
	done
	run_bg "$member" deleg --memory 64M --cpus 0.5 --pids 16 -- sleep 600
	wait_for "the run to start" running deleg
	pid=$(run_pid deleg)
	runcg=$(cgroup_of "$pid")
	# A cold run's tenant-<uid>/run-<id>, or the sandbox-<n> a pool
	# member was born in, which became the run's.
	[[ "$runcg" == "$cg/tenant-$(id -u "$member")/run-"* || "$runcg" == "$cg/sandbox-"* ]] ||
		fail "the run's cgroup is $runcg"
	[ "$(cat "$runcg/memory.max")" = 67108864 ] || fail "memory.max $(cat "$runcg/memory.max")"
	[ "$(cat "$runcg/cpu.max")" = "50000 100000" ] || fail "cpu.max $(cat "$runcg/cpu.max")"
	[ "$(cat "$runcg/pids.max")" = 16 ] || fail "pids.max $(cat "$runcg/pids.max")"
	[ "$(cat "$runcg/memory.oom.group")" = 1 ] || fail "memory.oom.group is off"
	out=$(systemd-cgls --no-pager -u boxd.service)
	for want in supervisor "${runcg##*/}" "sleep 600"; do
		[[ "$out" == *"$want"* ]] || fail "systemd-cgls lacks $want:
$out"
	done
	kill "$bg_pid"
	wait "$bg_pid" 2>/dev/null || true
	wait_for "the run's cgroup to go" test ! -d "$runcg"
	note "boxd in supervisor/ of $(prop ControlGroup), a run in ${runcg#"$cg"/} beside it"
	note "systemd-cgls -u boxd.service:"
	sed 's/^/      /' <<<"$out"
}

check_limits() {
	local f=$tmp/limits.json
	boxctl run --json --memory 32M -- python3 -c 'b = bytearray(200 << 20)' 2>"$f" || true
	[ "$(result_field "$f" termination)" = out_of_memory ] ||
		fail "memory limit: $(cat "$f")"
	[ "$(result_field "$f" oom_kills)" -ge 1 ] || fail "oom_kills: $(cat "$f")"
	boxctl run --json --pids 4 -- sh -c 'for i in 1 2 3 4 5 6; do sleep 1 & done; wait' 2>"$f" || true
	[ "$(result_field "$f" peak_pids)" -le 4 ] || fail "pids limit: $(cat "$f")"
	boxctl run --json --cpu-time 300ms -- sh -c 'while :; do :; done' 2>"$f" || true
	[ "$(result_field "$f" termination)" = cpu_timeout ] || fail "CPU-time limit: $(cat "$f")"
	[ "$(result_field "$f" user_ns)" -gt 0 ] || fail "no user time: $(cat "$f")"
	boxctl run --json --timeout 500ms -- sleep 60 2>"$f" || true
	[ "$(result_field "$f" termination)" = wall_timeout ] || fail "wall timeout: $(cat "$f")"
	boxctl run --json -- sh -c 'echo x >/dev/null' 2>"$f"
	[ "$(result_field "$f" peak_memory_source)" = cgroup ] ||
		fail "peak memory not from the cgroup: $(cat "$f")"
	[ "$(result_field "$f" peak_memory_bytes)" -gt 0 ] || fail "no peak memory: $(cat "$f")"
	note "memory (OOM), pids, CPU-time and wall limits end runs; usage comes from the run's cgroup"
}

check_reload() {
	local mark pid out rc
	pid=$(main_pid)
	# The base configuration caps members at 1G.
	as_user "$member" boxctl run --plan --memory 2G -- /bin/true >/dev/null 2>&1 &&
		fail "member may ask for 2G under a 1G ceiling"
	mark=$(journal_mark)
	base_config 4G >"$conf"
	systemctl reload boxd.service
	wait_for "the reload to be logged" journal_has "$mark" "reload: configuration $conf applied"
	as_user "$member" boxctl run --plan --memory 2G -- /bin/true >/dev/null ||
		fail "the raised ceiling was not applied"
	mark=$(journal_mark)
	printf '[tenant.members]\ngroups = boxd\nmax-memory = 1 GB\n' >"$conf"
	systemctl reload boxd.service
	wait_for "the rejection to be logged" journal_has "$mark" "keeping the old one"
	out=$(journal_errors "$mark")
	out=$(grep "$conf:3:" <<<"$out") ||
		fail "the journal does not say what is wrong with the file"
	rc=0
	as_user "$member" boxctl run --plan --memory 2G -- /bin/true >/dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "the bad file replaced the old configuration"
	as_user "$member" boxctl run --plan --memory 8G -- /bin/true >/dev/null 2>&1 &&
		fail "the old configuration's 4G ceiling is gone"
	[ "$(main_pid)" = "$pid" ] || fail "boxd restarted on reload"
	note "reload applied a raised ceiling; a bad file was refused: $out"
	base_config >"$conf"
	mark=$(journal_mark)
	systemctl reload boxd.service
	wait_for "the reload to be logged" journal_has "$mark" "applied"
}

# What a run leaves behind that an operator could find: processes, the
# unit's cgroups, mounts, the state directory.
nothing_left() {
	local cg=$1
	shift
	for pid in "$@"; do
		[ ! -d "/proc/$pid" ] || fail "sandbox process $pid is still there"
	done
	if [ -d "$cg" ]; then
		fail "the unit's cgroup is still there: $(find "$cg" -mindepth 1 -type d)"
	fi
	if awk '$5 ~ "^/run/boxd"' /proc/self/mountinfo | grep .; then
		fail "mounts left behind"
	fi
	[ ! -e /run/boxd-state ] || fail "/run/boxd-state is still there"
}

check_stop() {
	local cg p1 p2 rc1=0 rc2=0
	cg=$(unit_cgroup)
	run_bg root stop-a -- sleep 600
	local c1=$bg_pid
	run_bg "$member" stop-b -- sleep 600
	local c2=$bg_pid
	wait_for "two runs to start" running stop-a
	wait_for "two runs to start" running stop-b
	p1=$(run_pid stop-a)
	p2=$(run_pid stop-b)
	systemctl stop boxd.service
	[ "$(prop Result)" = success ] || fail "Result=$(prop Result) (not stopped in time?)"
	[ "$(prop ExecMainStatus)" = 0 ] || fail "boxd exited with $(prop ExecMainStatus)"
	wait "$c1" || rc1=$?
	wait "$c2" || rc2=$?
	{ [ "$rc1" != 0 ] && [ "$rc2" != 0 ]; } || fail "clients ended with $rc1 and $rc2"
	nothing_left "$cg" "$p1" "$p2"
	systemctl is-active -q boxd.socket || fail "boxd.socket stopped too"
	note "both runs ended (clients: $(tail -n1 "$tmp/stop-a.out"), status $rc1);"
	note "no process, cgroup, mount or state directory left"
	[ "$(boxctl run -- /bin/echo again)" = again ] || fail "no run after the stop"
}

check_restart() {
	local old client rc=0 out
	old=$(main_pid)
	run_bg "$member" restart -- sleep 600
	client=$bg_pid
	wait_for "the run to start" running restart
	systemctl restart boxd.service
	wait "$client" || rc=$?
	out=$(cat "$tmp/restart.out")
	[ "$rc" != 0 ] || fail "the waiting client ended with status 0"
	[ -n "$out" ] || fail "the waiting client was told nothing"
	[ "$(main_pid)" != "$old" ] || fail "same boxd after restart"
	[ "$(boxctl run -- /bin/echo next)" = next ] || fail "no run after the restart"
	note "the waiting client got status $rc: $out"
}

# An upgrade: a new boxd binary installed over the old one (a new inode,
# as meson install does), the unit files reloaded, the service restarted.
check_upgrade() {
	local exe pid
	exe=$(prop ExecStart | sed -n 's/.*path=\([^ ;]*\).*/\1/p')
	[ -x "$exe" ] || fail "cannot find boxd's binary in ExecStart ($exe)"
	cp -p "$exe" "$exe.new"
	mv "$exe.new" "$exe"
	systemctl daemon-reload
	systemctl restart boxd.service
	pid=$(main_pid)
	[ "$(stat -L -c %i "/proc/$pid/exe")" = "$(stat -c %i "$exe")" ] ||
		fail "boxd $pid does not run the installed $exe"
	[ "$(boxctl run -- /bin/echo upgraded)" = upgraded ] || fail "no run after the upgrade"
	note "boxd $pid runs the new $exe"
}

check_crash() {
	local old restarts cg pid runcg runcg_ino client rc=0
	old=$(main_pid)
	restarts=$(prop NRestarts)
	cg=$(unit_cgroup)
	run_bg root crash -- sleep 600
	client=$bg_pid
	wait_for "the run to start" running crash
	pid=$(run_pid crash)
	runcg=$(cgroup_of "$pid")
	# By identity: the new instance's pool may make a sandbox-<n> of the
	# same name, which is a new directory.
	runcg_ino=$(stat -c %i "$runcg")
	systemctl kill -s KILL boxd.service
	wait "$client" || rc=$?
	[ "$rc" != 0 ] || fail "the crashed instance's client ended with status 0"
	wait_for "a restart" prop_above NRestarts "$restarts"
	wait_for "boxd to be back" state_is active
	[ "$(main_pid)" != "$old" ] || fail "same boxd after the crash"
	[ ! -d "/proc/$pid" ] || fail "the crashed instance's sandbox $pid is alive"
	if [ -d "$runcg" ] && [ "$(stat -c %i "$runcg")" = "$runcg_ino" ]; then
		fail "the crashed instance's cgroup ${runcg#"$cg"/} is still there"
	fi
	if find "$cg" -mindepth 1 -maxdepth 1 -name 'tenant-*' | grep -q .; then
		fail "tenant cgroups of the old instance: $(ls "$cg")"
	fi
	[ "$(boxctl run -- /bin/echo recovered)" = recovered ] || fail "no run after the crash"
	# (systemd removes the old instance's cgroups before the restart;
	# boxd's own sweep of leftovers is for when it is started by hand.)
	note "restarted (NRestarts $(prop NRestarts)); the old run and its cgroup are gone"
	note "the old instance's client got status $rc: $(cat "$tmp/crash.out")"
}

check_watchdog() {
	local old restarts mark t0
	[ "$(prop WatchdogUSec)" != 0 ] || fail "no WatchdogSec= in the unit"
	# The loop pings: the last ping's time moves on.
	t0=$(prop WatchdogTimestampMonotonic)
	wait_for "a watchdog ping" prop_is_not WatchdogTimestampMonotonic "$t0"
	old=$(main_pid)
	restarts=$(prop NRestarts)
	mark=$(journal_mark)
	kill -STOP "$old" # the loop stalls
	wait_for "a restart after the stall" prop_above NRestarts "$restarts"
	wait_for "boxd to be back" state_is active
	[ "$(main_pid)" != "$old" ] || fail "same boxd after the stall"
	journal_has "$mark" "[Ww]atchdog timeout" || fail "the journal does not name the watchdog"
	[ "$(boxctl run -- /bin/echo alive)" = alive ] || fail "no run after the stall"
	note "a stalled loop ($(prop WatchdogUSec) watchdog) was killed and restarted"
}

check_journal() {
	local mark out member_pid
	mark=$(journal_mark)
	# A pre-warmed sandbox that dies before use is a warning in boxd's log.
	wait_for "a pool member" pool_member
	member_pid=$(pool_member)
	kill -KILL "$member_pid"
	wait_for "the warning" journal_has "$mark" "died before use"
	# Had systemd not read boxd's <N> prefixes, every line would be info.
	out=$(journalctl -u boxd.service -p warning -o cat --no-pager)
	[[ "$out" == *"died before use"* ]] || fail "-p warning lacks boxd's warning"
	[[ "$out" == *"boxd.conf:3:"* ]] || fail "-p warning lacks boxd's errors"
	[[ "$out" != *"ready on"* ]] || fail "-p warning shows boxd's info messages"
	journalctl -u boxd.service -p info -o cat | grep -q "ready on" ||
		fail "boxd's info messages are missing"
	if journalctl -u boxd.service -o cat | grep -E '^<[0-9]>'; then
		fail "priority prefixes left in messages"
	fi
	note "-p warning shows boxd's warnings and errors only:"
	sed -n '1,6s/^/      /p' <<<"$out"
}

# systemd's variables stay with boxd: sandboxes start from an environment
# holding only PATH.
check_environment() {
	local out
	out=$(boxctl run -- /usr/bin/env)
	if grep -E '^(NOTIFY_SOCKET|LISTEN_|WATCHDOG_|INVOCATION_ID|JOURNAL_STREAM)' <<<"$out"; then
		fail "systemd's variables reach the sandbox"
	fi
	note "a sandbox's environment: $(tr '\n' ' ' <<<"$out")"
}

# The unit as installed is hardened (docs/operator.md, the unit's
# comments); sandboxes still work under it (check_sandboxes).
max_exposure=4.8
check_hardening() {
	local pid status score
	pid=$(main_pid)
	status=$(cat "/proc/$pid/status")
	grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$status" || fail "boxd may gain privileges"
	grep -q '^Seccomp:[[:space:]]*2' <<<"$status" || fail "boxd has no seccomp filter"
	[ "$(cat "/proc/$pid/oom_score_adj")" = -1000 ] ||
		fail "boxd's oom_score_adj is $(cat "/proc/$pid/oom_score_adj")"
	if journalctl -u boxd.service -o cat | grep "cannot set oom_score_adj"; then
		fail "boxd could not protect itself from the OOM killer"
	fi
	score=$(systemd-analyze security --no-pager boxd.service 2>&1 |
		sed -n 's/.*Overall exposure level for boxd.service: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] || fail "no score from systemd-analyze security"
	awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }' ||
		fail "systemd-analyze security: $score, above $max_exposure"
	note "systemd-analyze security: $score; bounding set: $(prop CapabilityBoundingSet)"
}

# Sandboxes keep every feature under the hardened unit.
check_sandboxes() {
	local home=/home/$member/work out
	install -d -o "$member" -g "$member" -m 0755 "$home"
	out=$(as_user "$member" boxctl run --bind "$home" /work -- sh -c 'echo written >/work/file; id -u')
	[ "$(cat "$home/file")" = written ] || fail "read-write bind under /home"
	[ "$(stat -c %U "$home/file")" = "$member" ] || fail "the file is not the member's"
	mkdir -p /tmp/boxdt && chmod 0777 /tmp/boxdt
	boxctl run --bind /tmp/boxdt /x -- sh -c 'echo tmp >/x/file'
	[ "$(cat /tmp/boxdt/file)" = tmp ] || fail "read-write bind under /tmp"
	# ProtectSystem=full: even root's read-write bind under /usr is refused.
	if out=$(boxctl run --bind /usr/local/share /x -- touch /x/.boxd-probe 2>&1); then
		rm -f /usr/local/share/.boxd-probe
		fail "a sandbox wrote under /usr"
	fi
	[[ "$out" == *EROFS* ]] || fail "read-write bind under /usr: $out"
	note "read-write bind under /usr: $out"
	out=$(boxctl run --hostname judge -- uname -n)
	[ "$out" = judge ] || fail "hostname '$out'"
	out=$(boxctl run -- cat /proc/1/comm)
	[ "$out" != systemd ] || fail "the sandbox's /proc shows the host"
	boxctl run --net loopback -- python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
socket.create_connection(s.getsockname()).close()
socket.socket(socket.AF_INET6).bind(("::1", 0))
' || fail "loopback networking (AF_INET, AF_INET6)"
	boxctl run --net loopback -- ip -o link show lo | grep -q UP || fail "netlink (ip link)"
	out=$(boxctl run --seccomp none -- python3 -c '
import socket
try:
    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    print("allowed")
except OSError as e:
    print(e.errno)
')
	[ "$out" = 97 ] || fail "AF_VSOCK in a sandbox: '$out', want EAFNOSUPPORT (97)"
	out=$(boxctl run -- linux32 uname -m)
	[ "$out" = i686 ] || fail "linux32: '$out'"
	boxctl run --dev-bind /dev/autofs /dev/autofs -- python3 -c '
import os; os.close(os.open("/dev/autofs", os.O_RDONLY))' || fail "--dev-bind of a host device"
	out=$(boxctl run --uid 1000 --gid 1000 -- id -u)
	[ "$out" = 1000 ] || fail "--uid: '$out'"
	out=$(as_user "$private" boxctl run -- /bin/echo private)
	[ "$out" = private ] || fail "uid-mode = private: '$out'"
	out=$(boxctl run --rlimit nofile=64 -- sh -c 'ulimit -n')
	[ "$out" = 64 ] || fail "--rlimit: '$out'"
	# ProtectKernelModules=: the modules are hidden below /usr as boxd sees
	# it, so in sandboxes too (docs/operator.md says so).
	if out=$(boxctl run -- ls /usr/lib/modules 2>&1) && [ -n "$out" ]; then
		fail "/usr/lib/modules is readable in sandboxes: $out"
	fi
	note "binds under /home and /tmp (read-write), hostname, /proc, loopback, netlink,"
	note "linux32, --dev-bind, --uid, private ids, rlimits; AF_VSOCK refused"
	check_outbound
}

# --net outbound under the hardened unit: pasta, started by boxd, joins a
# member's namespaces and carries a connection to a server in a network
# namespace of the suite's (no outside network here). Where the guest has
# no default route, a dummy interface gives pasta one to copy.
check_outbound() {
	local out mark dummy=0
	if ! command -v pasta >/dev/null || ! command -v ip >/dev/null; then
		note "SKIP: --net outbound: pasta or ip is not installed"
		return 0
	fi
	if ! ip -4 route show default | grep -q .; then
		ip link add bxdummy0 type dummy
		ip addr add 198.51.100.2/24 dev bxdummy0
		ip link set bxdummy0 up
		ip route add default via 198.51.100.1
		dummy=1
	fi
	# udev's rule (Debian: 0666) is what makes the tap device usable by
	# pasta, which runs as the caller; a guest without udev lacks it.
	if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
		note "/dev/net/tun was $(stat -c %a /dev/net/tun): given udev's 0666, boxd restarted"
		chmod 0666 /dev/net/tun
		systemctl restart boxd.service
	fi
	ip netns add bxsrv
	ip link add bxh type veth peer name bxs netns bxsrv
	ip addr add 10.231.9.1/30 dev bxh
	ip link set bxh up
	ip -n bxsrv addr add 10.231.9.2/30 dev bxs
	ip -n bxsrv link set bxs up
	ip netns exec bxsrv timeout 60 python3 -c '
import socket
s = socket.socket(); s.bind(("10.231.9.2", 7301)); s.listen()
c, _ = s.accept(); c.sendall(b"hello\n")' &
	sleep 0.5
	mark=$(journal_mark)
	out=$(as_user "$member" boxctl run --net outbound -- python3 -c '
import socket
c = socket.create_connection(("10.231.9.2", 7301), timeout=10)
print(c.recv(16).decode().strip())' 2>&1) || true
	wait || true
	ip netns del bxsrv
	if [ $dummy = 1 ]; then ip link del bxdummy0; fi
	[ "$out" = hello ] || fail "--net outbound under the unit: '$out'; journal: $(journal_since "$mark" -o cat | tail -5)"
	! pgrep -f '^pasta ' >/dev/null || fail "a pasta outlived its run"
	note "--net outbound: a connection out through pasta, as $member"
}

check_documentation() {
	local doc missing=0
	for doc in $(prop Documentation | tr -d '"'); do
		case "$doc" in
		man:*)
			local page=${doc#man:} sec
			sec=${page#*(}
			sec=${sec%)}
			page=${page%%(*}
			if ! command -v man >/dev/null; then
				note "SKIP: $doc: man is not installed"
			elif ! man -w "$sec" "$page" >/dev/null 2>&1; then
				note "SKIP: $doc: not installed by this build"
				missing=$((missing + 1))
			fi
			;;
		file:*)
			[[ "${doc#file:}" == /* ]] || fail "$doc is not an absolute path"
			if [ ! -e "${doc#file:}" ]; then
				note "SKIP: $doc: not installed by this build"
				missing=$((missing + 1))
			fi
			;;
		*) fail "Documentation=$doc is neither man: nor file:" ;;
		esac
	done
	note "Documentation=$(prop Documentation | tr -d '"') ($missing not installed)"
}

# --- main ----------------------------------------------------------------

tmp=$(mktemp -d)
for u in "$member" "$private"; do
	id "$u" >/dev/null 2>&1 || useradd --create-home --groups boxd --shell /bin/sh "$u"
done
id "$stranger" >/dev/null 2>&1 || useradd --no-create-home --shell /bin/sh "$stranger"
mkdir -p /etc/boxd
base_config >"$conf"

checks=(boot socket_activation access notify bad_config delegation limits
	reload environment sandboxes hardening stop restart upgrade crash
	watchdog journal documentation)
passed=0
failed=()
start=$SECONDS
for c in "${checks[@]}"; do
	t=$SECONDS
	echo "--- ${c//_/-}"
	# Not in a condition: errexit would be ignored in the check.
	set +e
	(
		set -e
		"check_$c"
	)
	rc=$?
	set -e
	if [ $rc = 0 ]; then
		echo "--- ${c//_/-}: ok ($((SECONDS - t))s)"
		passed=$((passed + 1))
	else
		echo "--- ${c//_/-}: FAILED ($((SECONDS - t))s)"
		failed+=("$c")
		# Later checks start from a running boxd with the base config.
		base_config >"$conf"
		systemctl reset-failed boxd.service 2>/dev/null || true
		systemctl restart boxd.service 2>/dev/null || true
	fi
done

echo "systemd suite: $passed passed, ${#failed[@]} failed in $((SECONDS - start))s"
if ((${#failed[@]})); then
	echo "failed: ${failed[*]}"
	if [ -n "$logdir" ] && [ -d "$logdir" ]; then
		journalctl -b --no-pager -o short-monotonic >"$logdir/vm-systemd-journal.txt" || true
		echo "the guest's journal: $logdir/vm-systemd-journal.txt"
	else
		journalctl -u boxd.service --no-pager -n 60 || true
	fi
	exit 1
fi
