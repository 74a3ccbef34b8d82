/*
 * What this host's kernel offers boxd: namespaces, cgroups, seccomp,
 * pidfds, clone3, overlayfs, Landlock, the new mount API. Probed by trying
 * each feature in a way that changes nothing (forked children, invalid
 * arguments that only a missing call answers with ENOSYS). For
 * `boxd --check-environment` and the protocol's HostInfo. Probing forks
 * short-lived children: call it at startup, not from the event loop.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

/* Namespace types that can be created. */
enum {
	HOSTCHECK_NS_USER = 1u << 0,
	HOSTCHECK_NS_MNT = 1u << 1,
	HOSTCHECK_NS_PID = 1u << 2,
	HOSTCHECK_NS_NET = 1u << 3,
	HOSTCHECK_NS_IPC = 1u << 4,
	HOSTCHECK_NS_UTS = 1u << 5,
	HOSTCHECK_NS_CGROUP = 1u << 6,
	HOSTCHECK_NS_TIME = 1u << 7,
};

/* Every namespace a sandbox needs; anything less and no run can start. */
#define HOSTCHECK_NS_REQUIRED                                      \
	(HOSTCHECK_NS_USER | HOSTCHECK_NS_MNT | HOSTCHECK_NS_PID | \
	 HOSTCHECK_NS_NET | HOSTCHECK_NS_IPC | HOSTCHECK_NS_UTS)

/* cgroup controllers usable at the place boxd would use. */
enum {
	HOSTCHECK_CG_CPU = 1u << 0,
	HOSTCHECK_CG_CPUACCT = 1u << 1, /* v1 only; v2 has cpu.stat */
	HOSTCHECK_CG_CPUSET = 1u << 2,
	HOSTCHECK_CG_MEMORY = 1u << 3,
	HOSTCHECK_CG_PIDS = 1u << 4,
	HOSTCHECK_CG_IO = 1u << 5,
};

enum hostcheck_cgroup_mode {
	HOSTCHECK_CGROUP_NONE = 0,
	HOSTCHECK_CGROUP_V1, /* cpu, cpuacct, memory and pids on v1 */
	HOSTCHECK_CGROUP_V2, /* cpu, memory and pids at a v2 place */
};

struct hostcheck_features {
	unsigned namespaces; /* HOSTCHECK_NS_* */
	enum hostcheck_cgroup_mode cgroup_mode;
	char cgroup_path[PATH_MAX]; /* v2: the place probed; v1: "" */
	unsigned controllers;       /* HOSTCHECK_CG_* of that mode */
	bool seccomp;        /* filter mode with SECCOMP_RET_KILL_PROCESS */
	bool seccomp_notify; /* SECCOMP_RET_USER_NOTIF (kill rules) */
	bool pidfd;          /* pidfd_open */
	bool clone3;
	bool clone_into_cgroup; /* kernel has it and cgroup mode is v2 */
	bool overlayfs;
	bool landlock;
	int landlock_abi; /* 0 if none */
	bool mount_api;   /* fsopen, open_tree, move_mount, mount_setattr */
};

/* Probe everything. cgroup_root: --cgroup-root, or NULL to look where the
 * daemon itself is (/proc/self/cgroup). Returns 0: a feature whose probe
 * cannot run (fork failed, /proc unreadable) counts as missing. */
int hostcheck_probe(const char *cgroup_root, struct hostcheck_features *ret);

/* Print one line per feature: name, "ok" or "missing", and why. Returns
 * how many features isolation depends on are missing (the six sandbox
 * namespaces, seccomp, pidfd, the new mount API): 0 means boxd can run. */
int hostcheck_report(FILE *out, const char *cgroup_root);

/* "user", "mnt", ... for one HOSTCHECK_NS_* bit; "cpu", "memory", ... for
 * one HOSTCHECK_CG_* bit. NULL for anything else. */
const char *hostcheck_ns_name(unsigned ns);
const char *hostcheck_controller_name(unsigned controller);
