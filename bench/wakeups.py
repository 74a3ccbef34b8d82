#!/usr/bin/env python3
"""Wake-ups per run, from `perf script` output of sched:sched_wakeup and
sched:sched_wakeup_new events recorded system-wide (bench/profile.sh).

A run hands work from process to process: the client, the daemon, the
sandbox's pid 1, the command, and back. Each hand-over wakes a sleeping
process, on the CPU the waker runs on or on another one. Across CPUs the
waker interrupts the other CPU, which, idle, may have to be woken by the
hypervisor first: the benchmark's report measures that cost on this
machine ("a wake-up round trip ... across two").

Counted: wake-ups of the run's own processes (kernel threads, perf and
unrelated processes are left out). "Another CPU" is a wake-up whose
target CPU is not the waker's, or which was done by an idle CPU on
behalf of another (the kernel queues a remote wake-up to the target CPU,
which performs it from its idle loop: the waker then shows as swapper).

Usage: perf script -i FILE | wakeups.py --runs N --label TEXT
"""
import argparse
import collections
import re
import sys

EVENT = re.compile(
    r"^\s*(?P<waker>.+?)\s+(?P<tid>\d+)\s+\[(?P<cpu>\d+)\]\s+[\d.]+:\s+"
    r"sched:(?P<ev>sched_wakeup(?:_new)?):\s+comm=(?P<wakee>.+?)\s+pid=\d+"
    r"\s+prio=\d+\s+target_cpu=(?P<target>\d+)")
RUN_PROCESSES = ("boxd", "boxd-init", "boxd-spawner", "boxd-bench", "true")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--label", required=True)
    args = ap.parse_args()

    same = collections.Counter()
    other = collections.Counter()
    for line in sys.stdin:
        m = EVENT.match(line)
        if not m or m["wakee"] not in RUN_PROCESSES:
            continue
        waker = m["waker"]
        key = (waker if waker != "swapper" else "(idle CPU)", m["wakee"],
               "new process" if m["ev"] == "sched_wakeup_new" else "")
        if waker != "swapper" and m["cpu"] == m["target"]:
            same[key] += 1
        else:
            other[key] += 1

    runs = max(args.runs, 1)
    total_same = sum(same.values()) / runs
    total_other = sum(other.values()) / runs
    print(f"{args.label}: {total_same + total_other:.2f} wake-ups per run, "
          f"{total_same:.2f} on the waker's CPU, "
          f"{total_other:.2f} on another CPU")
    print()
    print("| waker | woken | on the waker's CPU, per run "
          "| on another CPU, per run |")
    print("|---|---|---:|---:|")
    keys = sorted(set(same) | set(other),
                  key=lambda k: -(same[k] + other[k]))
    for k in keys:
        if (same[k] + other[k]) / runs < 0.05:
            continue
        woken = k[1] + (f" ({k[2]})" if k[2] else "")
        print(f"| {k[0]} | {woken} | {same[k] / runs:.2f} "
              f"| {other[k] / runs:.2f} |")


if __name__ == "__main__":
    main()
