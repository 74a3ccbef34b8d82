#!/usr/bin/env python3
"""The critical path of sequential pooled boxd runs, from a syscall trace.

Reads `perf trace -i <file>` output (recorded with `perf trace record -a`
while one client ran /bin/true back to back on one connection) and
follows each run across the four processes it touches: the client, the
daemon, the sandbox's pid 1 (boxd-init) and the command. Prints the
median and p90 of each step of the path, in order, and how much of the
daemon's time inside each run went to refilling the pool. Usage:

    perf trace -i trace.data 2>/dev/null |
        bench/latency-timeline.py --daemon-pid PID

The trace itself slows every system call by about a microsecond; the
steps are right relative to each other, not to the microsecond.
"""
import argparse
import collections
import re
import statistics
import sys

LINE = re.compile(
    r"^\s*(?P<ts>[\d.]+|\?)\s+\(\s*(?P<dur>[\d.]+)?\s*(?:ms)?\s*\):\s+"
    r"(?P<comm>.+?)/(?P<tid>\d+)\s+(?P<rest>.*)$")
CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>.*)$")
CONT = re.compile(r"^\.\.\.\s+\[continued\]:\s+(?P<name>\w+)\(\)\)?\s+="
                  r"\s+(?P<ret>.*)$")

MOUNT_CALLS = {"mount", "umount2", "move_mount", "open_tree", "fsopen",
               "fsconfig", "fsmount", "mount_setattr"}
PATH_CALLS = {"openat", "openat2", "mkdirat", "symlinkat", "close",
              "newfstatat", "fchmodat", "readlinkat", "faccessat2",
              "faccessat", "chdir", "fchdir"}


class Ev:
    __slots__ = ("ts", "dur", "comm", "tid", "name", "ret", "args")

    def __init__(self, ts, dur, comm, tid, name, ret, args):
        self.ts, self.dur, self.comm, self.tid = ts, dur, comm, tid
        self.name, self.ret, self.args = name, ret, args

    @property
    def end(self):
        return self.ts + self.dur

    def retval(self):
        try:
            return int(self.ret.split()[0])
        except (ValueError, IndexError):
            return None


def parse(stream):
    evs = []
    for line in stream:
        m = LINE.match(line)
        if not m or m.group("ts") == "?":
            continue
        rest = m.group("rest").strip()
        c = CALL.match(rest) or CONT.match(rest)
        if not c:
            continue
        args = c.groupdict().get("args") or ""
        # exit_group and a successful execve of a new pid have no
        # duration: they never return to the caller.
        evs.append(Ev(float(m.group("ts")), float(m.group("dur") or 0),
                      m.group("comm"), int(m.group("tid")), c.group("name"),
                      c.group("ret"), args))
    evs.sort(key=lambda e: e.ts)
    return evs


def first(evs, pred, start=0):
    for i in range(start, len(evs)):
        if pred(evs[i]):
            return i, evs[i]
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon-pid", type=int, required=True)
    args = ap.parse_args()
    evs = parse(sys.stdin)
    by_tid = collections.defaultdict(list)
    for e in evs:
        by_tid[e.tid].append(e)
    daemon = by_tid[args.daemon_pid]
    clients = [t for t, l in by_tid.items() if l and l[0].comm == "boxd-bench"]
    if not clients:
        sys.exit("no client (boxd-bench) in the trace")
    client = max(clients, key=lambda t: len(by_tid[t]))
    csend = [e for e in by_tid[client] if e.name == "sendmsg"]
    sizes = collections.Counter(e.retval() for e in csend)
    req_size = sizes.most_common(1)[0][0]
    starts = [e for e in csend if e.retval() == req_size]

    steps = collections.defaultdict(list)
    order = []

    def step(name, ms):
        if name not in steps:
            order.append(name)
        steps[name].append(ms)

    # Members are taken newest first: match a take to the member whose
    # wait ended first after it (the take header is 24 bytes).
    take_recvs = sorted((e for e in evs if e.comm == "boxd-init" and
                         e.name == "recvmsg" and e.retval() == 24),
                        key=lambda e: e.end)
    execs = [e for e in evs if e.name == "execve" and e.comm != "boxd-init"]
    spawner = [e for e in evs if e.comm == "boxd-spawner" and
               e.name == "clone3"]
    for n, s in enumerate(starts):
        t_end = starts[n + 1].ts if n + 1 < len(starts) else float("inf")
        win = lambda l: [e for e in l if s.ts <= e.ts < t_end]
        cl = [e for e in win(by_tid[client])
              if e.name == "recvmsg" and (e.retval() or 0) > 4]
        dm = win(daemon)
        if len(cl) < 3 or not dm:
            continue
        t_acc, t_started, t_result = cl[0].end, cl[1].end, cl[2].end
        i, d_req = first(dm, lambda e: e.name == "recvmsg" and
                         (e.retval() or 0) > 4)
        if d_req is None:
            continue
        # The spec memfd is made first, then the member taken and its
        # cgroup given the limits (openat, write, close each); /proc/<pid>
        # is the first openat after that followed by another openat (its
        # uid_map) rather than by a write.
        m_i, d_memfd = first(dm, lambda e: e.name == "memfd_create", i)
        if d_memfd is None:
            continue
        d_proc = None
        for x in range(m_i, len(dm) - 1):
            if dm[x].name == "openat" and dm[x + 1].name == "openat":
                d_proc = dm[x]
                break
        k, d_take = first(dm, lambda e: e.name == "sendmsg", m_i)
        _, d_accv = first(dm, lambda e: e.name == "writev", m_i)
        if None in (d_proc, d_take, d_accv):
            continue
        # The member woken by this take.
        member_rx = None
        for e in take_recvs:
            if e.end >= d_take.ts:
                member_rx = e
                break
        if member_rx is None or member_rx.end > t_end:
            continue
        mem = [e for e in by_tid[member_rx.tid] if e.ts >= member_rx.end]
        _, fork = first(mem, lambda e: e.name in ("clone", "clone3") and
                        (e.retval() or 0) > 0)
        # pid 1's INIT_EXITED: its last send before exit_group.
        _, m_exit = first(mem, lambda e: e.name == "exit_group")
        if fork is None or m_exit is None:
            continue
        reports = [e for e in mem if e.name in ("sendto", "sendmsg") and
                   e.ts < m_exit.ts]
        if not reports:
            continue
        m_report = reports[-1]
        # clone() returns the pid inside the sandbox's pid namespace:
        # the command is the first process to execve after the fork.
        _, c_exec = first(execs, lambda e: e.ts >= fork.ts and
                          e.tid != member_rx.tid)
        if c_exec is None:
            continue
        cmd = by_tid[c_exec.tid]
        _, c_exit = first(cmd, lambda e: e.name == "exit_group")
        # The result: the daemon's first writev after the report.
        _, d_res = first(dm, lambda e: e.name == "writev" and
                         e.ts >= m_report.end)
        if c_exit is None or d_res is None:
            continue

        step("client: request sent -> daemon reads it", d_req.end - s.ts)
        step("daemon: decode, policy, stdio checks", d_memfd.ts -
             d_req.end)
        step("daemon: spec memfd, take member, limits into its cgroup",
             d_proc.ts - d_memfd.ts)
        step("daemon: uid/gid maps, setgroups, sendmsg to pid 1",
             d_take.end - d_proc.ts)
        step("daemon: register events, send accepted", d_accv.end -
             d_take.end)
        step("pid 1: wake-up after the take", member_rx.end - d_take.end)
        setup = [e for e in mem if e.ts < fork.ts]
        mount_ms = sum(e.dur for e in setup if e.name in MOUNT_CALLS)
        pivot_ms = sum(e.dur for e in setup if e.name == "pivot_root")
        path_ms = sum(e.dur for e in setup if e.name in PATH_CALLS)
        other_ms = sum(e.dur for e in setup if e.name not in MOUNT_CALLS
                       and e.name not in PATH_CALLS and
                       e.name != "pivot_root")
        total = fork.ts - member_rx.end
        step("pid 1 setup: mount syscalls (fsopen, fsconfig, move_mount, "
             "...)", mount_ms)
        step("pid 1 setup: pivot_root", pivot_ms)
        step("pid 1 setup: path syscalls (openat2, close, ...)", path_ms)
        step("pid 1 setup: other syscalls", other_ms)
        step("pid 1 setup: user code, page faults, scheduling",
             total - mount_ms - pivot_ms - path_ms - other_ms)
        # The command runs from its first system call, or from pid 1's
        # clone's return if that comes first: a clone with CLONE_VFORK
        # returns only once the command has exec'd.
        c_start = min([fork.end] + [e.ts for e in cmd if e.ts >= fork.ts][:1])
        step("pid 1: fork of the command", c_start - fork.ts)
        pre = [e for e in cmd if e.ts < c_exec.ts]
        sec = sum(e.dur for e in pre if e.name == "seccomp")
        step("command before exec: seccomp load", sec)
        step("command before exec: caps, ids, fds, cwd, rest",
             c_exec.ts - c_start - sec)
        step("command: execve", c_exec.dur)
        step("command: /bin/true runs (loader, libc start, exit)",
             c_exit.ts - c_exec.end)
        step("pid 1: reap, report the exit", m_report.end - c_exit.ts)
        step("daemon: read the report, cgroup stats, send result",
             d_res.end - m_report.end)
        step("client: result delivered", t_result - d_res.end)
        refill = sum(e.dur for e in spawner if s.ts <= e.ts < t_result)
        step("(spawner time in clone3 during this run)", refill)
        step("(whole run as the client saw it)", t_result - s.ts)
        step("(client: accepted at)", t_acc - s.ts)
        step("(client: started at)", t_started - s.ts)

    runs = len(steps.get("(whole run as the client saw it)", []))
    if not runs:
        sys.exit("no complete run found in the trace")
    # The slowest 5% of runs: which steps made them slow (means add up,
    # medians would not).
    whole = steps["(whole run as the client saw it)"]
    cut = sorted(whole)[int(0.95 * (runs - 1))]
    slow = [i for i, w in enumerate(whole) if w >= cut]
    print("%d runs followed\n" % runs)
    print("| step | median ms | p90 ms | mean in the slowest 5% |")
    print("|---|---:|---:|---:|")
    path_sum = slow_sum = 0.0
    for name in order:
        v = sorted(steps[name])
        med = statistics.median(v)
        p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
        tail = statistics.mean(steps[name][i] for i in slow)
        if not name.startswith("("):
            path_sum += med
            slow_sum += tail
        print("| %s | %.3f | %.3f | %.3f |" % (name, med, p90, tail))
    print("| (sums: of the medians; of the slow means) | %.3f | | %.3f |" %
          (path_sum, slow_sum))


if __name__ == "__main__":
    main()
