#!/usr/bin/env python3
"""Where the CPU goes per boxd run, from a system-wide perf profile.

Reads `perf script -F comm,tid,period,ip,sym,dso` output (recorded with
call graphs, cpu-clock) on stdin and prints, for each process group
(client, daemon, sandbox pid 1, the command, kernel threads), the CPU
time per run spent in each activity: which system call (and, for the
expensive ones, which part of it), page faults, user-space code, kernel
work items. Usage:

    perf script -i perf.data -F comm,tid,period,ip,sym,dso |
        bench/cpu-breakdown.py --runs N --daemon-pid PID
"""
import argparse
import collections
import sys

# glibc's start-up probing of the CPU: cpuid instructions, which trap to
# the hypervisor in a virtual machine.
CPUID_SYMS = {
    "intel_check_word", "handle_intel", "update_active",
    "get_common_cache_info", "get_common_indices", "init_cpu_features",
    "get_extended_indices", "dl_init_cacheinfo", "init_cacheinfo",
    "handle_amd", "handle_zhaoxin", "cpu_features_init",
    "_dl_x86_init_cpu_features", "__init_cpu_features",
}

MOUNT_CALLS = {
    "mount", "umount", "umount2", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "mount_setattr", "pivot_root", "open_tree_attr",
}
SOCKET_CALLS = {
    "sendmsg", "recvmsg", "sendto", "recvfrom", "writev", "readv",
    "socketpair", "accept4", "connect", "socket",
}
WAIT_CALLS = {"epoll_wait", "poll", "ppoll", "select", "pselect6"}


def base(sym):
    """Symbol without compiler suffixes (.constprop.0, .isra.0)."""
    return sym.split(".")[0]


# Calls the kernel inlines into do_syscall_64: the first frame below it.
INLINED_CALLS = {
    "ksys_write": "write", "ksys_read": "read", "do_seccomp": "seccomp",
    "do_writev": "writev", "do_readv": "readv", "__sys_sendmsg": "sendmsg",
    "___sys_sendmsg": "sendmsg", "__sys_recvmsg": "recvmsg",
    "___sys_recvmsg": "recvmsg", "__sys_sendto": "sendto",
    "__sys_recvfrom": "recvfrom", "do_sys_openat2": "openat",
    "do_sys_open": "openat", "do_mkdirat": "mkdirat", "do_rmdir": "unlinkat",
    "do_unlinkat": "unlinkat", "do_group_exit": "exit_group",
    "do_exit": "exit", "do_epoll_wait": "epoll_wait",
    "do_sys_poll": "poll", "kernel_clone": "clone", "do_wait": "waitid",
    "kernel_waitid": "waitid", "ksys_unshare": "unshare",
    "path_mount": "mount", "do_mount": "mount", "__do_semtimedop": "semop",
    "do_sys_ftruncate": "ftruncate", "ksys_mmap_pgoff": "mmap",
    "__vm_munmap": "munmap", "do_faccessat": "faccessat",
    "vfs_fstatat": "newfstatat", "do_fcntl": "fcntl",
    "close_fd": "close", "__close_range": "close_range",
    "do_dup2": "dup2", "ksys_dup3": "dup3", "__sys_socketpair": "socketpair",
    "__sys_accept4": "accept4", "__sys_connect": "connect",
    "do_prlimit": "prlimit64", "do_sigaltstack": "sigaltstack",
}


def syscall_of(frames):
    """The system call a kernel sample is in, or None."""
    name = None
    for sym, _ in frames:
        s = base(sym)
        for prefix in ("__x64_sys_", "__do_sys_", "__se_sys_"):
            if s.startswith(prefix):
                name = s[len(prefix):]
    if name:
        return name
    for i, (sym, _) in enumerate(frames):
        if base(sym) in ("x64_sys_call", "do_syscall_64") and i > 0:
            below = base(frames[i - 1][0])
            if below in ("x64_sys_call", "do_syscall_64"):
                continue
            if below in ("exit_to_user_mode_loop",
                         "syscall_exit_to_user_mode"):
                return "(return to user mode)"
            return INLINED_CALLS.get(below, below)
    return None


def has(frames, *names):
    want = set(names)
    return any(base(sym) in want for sym, _ in frames)


def classify(group, frames):
    leaf_sym, leaf_dso = frames[0]
    if "kernel.kallsyms" not in leaf_dso and "[kernel" not in leaf_dso:
        if base(leaf_sym) in CPUID_SYMS:
            return "user: glibc start-up CPU probing (cpuid)"
        if "ld-linux" in leaf_dso:
            return "user: dynamic loader"
        return "user: other code"
    if has(frames, "rcu_exp_wait_wake", "rcu_exp_gp_kthread",
           "rcu_exp_sel_wait_wake", "sync_rcu_exp_select_cpus",
           "wait_rcu_exp_gp", "sync_rcu_exp_select_node_cpus"):
        return "RCU expedited grace periods"
    call = syscall_of(frames)
    if call is None:
        if has(frames, "asm_exc_page_fault", "exc_page_fault"):
            return "page faults"
        if has(frames, "process_one_work"):
            # The work function is the frame called by process_one_work.
            for i, (sym, _) in enumerate(frames):
                if base(sym) == "process_one_work" and i > 0:
                    return "work item: " + base(frames[i - 1][0])
            return "work item"
        if has(frames, "handle_softirqs", "__do_softirq", "run_ksoftirqd"):
            for sym, _ in frames:
                s = base(sym)
                if s in ("rcu_core", "rcu_do_batch", "net_rx_action",
                         "run_timer_softirq", "tasklet_action"):
                    return "softirq: " + s
            return "softirq"
        if has(frames, "pv_native_safe_halt", "default_idle",
               "do_idle", "cpu_startup_entry"):
            return "idle"
        if has(frames, "worker_thread", "kthread_worker_fn",
               "smpboot_thread_fn"):
            return "kernel thread scheduling"
        if has(frames, "asm_sysvec_reschedule_ipi", "asm_common_interrupt",
               "asm_sysvec_apic_timer_interrupt",
               "asm_sysvec_call_function_single"):
            return "interrupts and preemption"
        if has(frames, "ret_from_fork", "ret_from_fork_asm",
               "schedule_tail"):
            return "fork return"
        return "kernel: other"
    if call == "(return to user mode)":
        return "return to user mode (signals, rescheduling)"
    if call in ("clone3", "clone", "fork", "vfork"):
        if has(frames, "copy_net_ns"):
            return "clone3: new network namespace"
        if has(frames, "copy_namespaces", "create_new_namespaces"):
            return "clone3: other new namespaces"
        if has(frames, "dup_mm", "dup_mmap"):
            return "%s: copy address space" % call
        return "%s: other" % call
    if call in ("execve", "execveat"):
        if has(frames, "exit_mmap", "__mmput"):
            return "execve: drop old address space"
        return "execve: load new program"
    if call in ("exit_group", "exit"):
        if has(frames, "namespace_unlock", "put_mnt_ns", "umount_tree",
               "drop_collected_mounts", "cleanup_mnt",
               "deactivate_locked_super", "generic_shutdown_super"):
            return "exit: mount namespace and superblock teardown"
        if has(frames, "exit_mmap", "__mmput"):
            return "exit: address space"
        if has(frames, "exit_task_namespaces", "switch_task_namespaces",
               "free_nsproxy", "put_net", "put_user_ns", "free_pid_ns"):
            return "exit: other namespaces"
        if has(frames, "zap_pid_ns_processes"):
            return "exit: pid namespace reaping"
        return "exit: other"
    if call in MOUNT_CALLS:
        return "mounts: " + call
    if call in ("mkdirat", "mkdir", "unlinkat", "rmdir"):
        if group == "daemon":
            return "cgroup mkdir/rmdir"
        return "mounts: mkdir/unlink of targets"
    if call == "seccomp":
        return "seccomp filter load (cBPF check, eBPF conversion, JIT)"
    if call in SOCKET_CALLS:
        return "socket I/O"
    if call in WAIT_CALLS:
        return "event loop / poll"
    if call in ("write", "pwrite64", "read", "openat", "openat2", "close",
                "newfstatat", "fstat", "fcntl"):
        if has(frames, "map_write", "proc_uid_map_write",
               "proc_gid_map_write", "proc_setgroups_write"):
            return "id maps"
        if has(frames, "cgroup_file_write", "cgroup_file_open",
               "cgroup_seqfile_show", "kernfs_fop_write_iter",
               "kernfs_fop_open", "kernfs_fop_read_iter",
               "kernfs_seq_show", "__cgroup1_procs_write",
               "cgroup1_procs_write"):
            return "cgroup files"
        if has(frames, "__fput", "task_work_run") and \
                has(frames, "namespace_unlock", "umount_tree"):
            return "mounts: close of detached trees"
        if group == "daemon" and call == "openat":
            return "file I/O (openat: cgroup files, /proc/<pid>)"
        return "file I/O (%s)" % call
    return "syscall: " + call


def group_of(comm, tid, daemon_pid):
    if comm == "boxd":
        return "daemon" if tid == daemon_pid else "member pre-exec"
    if comm == "boxd-init":
        return "sandbox pid 1"
    if comm == "boxd-bench":
        return "client"
    if comm == "true":
        return "command"
    if comm.startswith("swapper"):
        return "idle"
    if comm.startswith(("kworker", "rcu", "ksoftirqd", "migration",
                        "kdamond", "cpuhp", "khugepaged", "kswapd",
                        "kthreadd")):
        return "kernel threads"
    return "other: " + comm


def parse(stream):
    """Yield (comm, tid, period, frames) per sample."""
    head, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield head + (frames,)
            head, frames = None, []
            continue
        if not line.startswith(("\t", " ")):
            parts = line.split()
            # comm may contain spaces: tid and period are the last two.
            try:
                period = int(parts[-1])
                tid = int(parts[-2])
            except (ValueError, IndexError):
                continue
            head = (" ".join(parts[:-2]), tid, period)
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        rest = parts[1]
        sym, _, dso = rest.rpartition(" (")
        frames.append((sym.split("+")[0], dso.rstrip(")")))
    if head:
        yield head + (frames,)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--daemon-pid", type=int, default=-1)
    ap.add_argument("--min-ms", type=float, default=0.02)
    args = ap.parse_args()

    cost = collections.Counter()
    per_group = collections.Counter()
    total = 0
    for comm, tid, period, frames in parse(sys.stdin):
        if not frames:
            continue
        g = group_of(comm, tid, args.daemon_pid)
        c = "idle" if g == "idle" else classify(g, frames)
        cost[(g, c)] += period
        per_group[g] += period
        total += period

    # Other processes of a shared machine are not the runs' cost.
    others = sum(ns for g, ns in per_group.items() if g.startswith("other:"))
    busy = total - per_group.get("idle", 0) - others
    ms = lambda ns: ns / 1e6 / args.runs
    print("CPU per run: %.3f ms busy (+ %.3f ms idle; %.3f ms of unrelated "
          "processes not counted), %d runs\n" %
          (ms(busy), ms(per_group.get("idle", 0)), ms(others), args.runs))
    print("| process | activity | CPU ms per run | share of busy |")
    print("|---|---|---:|---:|")
    for g, gns in per_group.most_common():
        if g == "idle" or g.startswith("other:") or ms(gns) < args.min_ms:
            continue
        print("| **%s** | *all* | **%.3f** | **%.1f%%** |" %
              (g, ms(gns), 100.0 * gns / busy))
        rows = [(c, ns) for (gg, c), ns in cost.items() if gg == g]
        rows.sort(key=lambda r: -r[1])
        other = 0
        for c, ns in rows:
            if ms(ns) < args.min_ms:
                other += ns
                continue
            print("| %s | %s | %.3f | %.1f%% |" %
                  (g, c, ms(ns), 100.0 * ns / busy))
        if other:
            print("| %s | (smaller items) | %.3f | %.1f%% |" %
                  (g, ms(other), 100.0 * other / busy))


if __name__ == "__main__":
    main()
