/*
 * cgroup manager: one interface, two backends chosen once at startup
 * (cgroup-v2.c for a delegated unified hierarchy, cgroup-v1.c for hybrid
 * hosts with cpu, cpuacct, memory and pids on v1). The engine calls only
 * these functions; nothing else in the daemon touches cgroupfs.
 *
 * Layout under the delegated root (v2) or under "<controller>/<root>" (v1):
 *   supervisor/            the daemon itself (v2 "no internal processes")
 *                          and its pool spawner, which it forks there;
 *                          never a sandbox
 *   sandbox-<n>/           a pool member's cgroup, made at refill before
 *                          its run is known; the run's once it is taken
 *   tenant-<uid>/run-<id>  a cold run's cgroup, under one per tenant
 *
 * A cgroup is one sandbox's for its whole life: a member is born in (v2)
 * or attached to (v1) its own cgroup at refill, so taking it writes only
 * the run's limits and never moves a process on the request path.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "result.h"
#include "spec.h"

enum cgroup_mode {
	CGROUP_MODE_AUTO = 0, /* v2 if delegated, else v1, else fail */
	CGROUP_MODE_V2,
	CGROUP_MODE_V1,
	CGROUP_MODE_NONE, /* --no-cgroups: every limit request is refused */
};

/* What this host can enforce, as a bit set. */
enum {
	CGROUP_CAN_MEMORY = 1u << 0,
	CGROUP_CAN_SWAP = 1u << 1,
	CGROUP_CAN_CPUS = 1u << 2,
	CGROUP_CAN_PIDS = 1u << 3,
	CGROUP_CAN_CPU_TIME = 1u << 4, /* needs a CPU usage counter */
	CGROUP_CAN_PEAK_MEMORY = 1u << 5,
	CGROUP_CAN_PEAK_PIDS = 1u << 6,
	CGROUP_CAN_KILL = 1u << 7,
	CGROUP_CAN_CLONE_INTO = 1u << 8,
};

struct cgroup_config {
	enum cgroup_mode mode;
	const char *root; /* --cgroup-root; NULL: find it (v2: own cgroup) */
	const char *v1_mount; /* v1 hierarchy base; NULL: /sys/fs/cgroup */
};

struct cgroup_manager;
struct cgroup_run;

/*
 * Where the v2 backend puts boxd's tree, the one answer for the daemon and
 * for `boxd --check-environment`: root (--cgroup-root) as given, without
 * trailing slashes; else the caller's own cgroup (the "0::" line of
 * <proc>/cgroup, a trailing /supervisor taken off: a daemon restarted in
 * place), on the cgroup2 mount whose root holds it (<proc>/mountinfo).
 * proc: NULL for /proc/self (tests pass a directory of their own). Says
 * nothing of whether the place exists or is usable: opening it does that.
 * Errors: ERROR_INVALID for a root that is not an absolute path;
 * ERROR_UNSUPPORTED for no cgroup2 hierarchy, the root cgroup (-EPERM),
 * no mount holding the cgroup.
 */
int cgroup_v2_locate(const char *root, const char *proc,
		     struct error_detail *err, char ret_path[PATH_MAX]);

/* Find and prepare the hierarchy: v2 moves the daemon into supervisor/ and
 * enables controllers; both kill and remove leftovers of an earlier daemon.
 * err says why on failure. */
int cgroup_manager_open(const struct cgroup_config *cfg,
			struct error_detail *err, struct cgroup_manager **ret);
struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m);

enum cgroup_mode cgroup_manager_mode(const struct cgroup_manager *m);
const char *cgroup_manager_mode_name(const struct cgroup_manager *m);
const char *cgroup_manager_path(const struct cgroup_manager *m);
unsigned cgroup_manager_can(const struct cgroup_manager *m);
/* Space-separated list of usable controllers, e.g. "cpu memory pids". */
const char *cgroup_manager_controllers(const struct cgroup_manager *m);

/* Checks that every limit in lim can be enforced. On -EOPNOTSUPP
 * (ERROR_UNSUPPORTED), err names the missing controller or file. */
int cgroup_manager_check(const struct cgroup_manager *m,
			 const struct spec_limits *lim,
			 struct error_detail *err);

/* mkdir tenant-<uid>/run-<id>, write the limits (memory.max, swap,
 * cpu.max, pids.max, memory.oom.group). */
int cgroup_run_create(struct cgroup_manager *m, uid_t tenant, uint64_t run_id,
		      const struct spec_limits *lim, struct cgroup_run **ret);

/*
 * A sandbox's cgroup made ahead of its run, for a pool member at refill:
 * mkdir sandbox-<n>, no limits yet. v1 makes it only in the hierarchies
 * every run uses (memory, cpuacct, pids, freezer; cpu, unless co-mounted
 * with cpuacct, only when cgroup_run_bind() is given a CPU limit). Place
 * the member in it at once: clone3 into cgroup_run_clone_fd(), or (v1)
 * cgroup_run_attach() right after the clone. Until it is bound, nothing
 * limits it: it holds only boxd-init waiting for a spec.
 */
int cgroup_run_prepare(struct cgroup_manager *m, struct cgroup_run **ret);

/*
 * cgroup_run_prepare() in two halves, for a cgroup another process makes
 * (the pool's spawner, so that the daemon's loop never waits on a
 * mkdir): cgroup_run_reserve() names it (sandbox-<n>, nothing made yet);
 * cgroup_run_reserve_dirs() gives the directories to make that name in,
 * memory first (v1: one per hierarchy a prepared cgroup has; v2: one);
 * cgroup_run_adopt() opens what was made there and sets it up. Freeing a
 * reserved run removes whatever was made of it.
 */
int cgroup_run_reserve(struct cgroup_manager *m, struct cgroup_run **ret);
const char *cgroup_run_name(const struct cgroup_run *r);
size_t cgroup_run_reserve_dirs(const struct cgroup_run *r, int *ret_fds,
			       size_t max);
int cgroup_run_adopt(struct cgroup_run *r);

/*
 * The take: a prepared cgroup becomes run_id's, of tenant, and gets the
 * run's limits (checked as cgroup_run_create() does). Its path does not
 * change. pid is the member's pid 1, which has run nothing of the
 * caller's: on v1 a CPU limit makes the cpu hierarchy's directory now and
 * moves pid into it, the only cgroup.procs write a take can make.
 */
int cgroup_run_bind(struct cgroup_run *r, uid_t tenant, uint64_t run_id,
		    const struct spec_limits *lim, pid_t pid);

/* v2: an O_DIRECTORY fd for clone3(CLONE_INTO_CGROUP); -1 when the backend
 * cannot (v1): then call cgroup_run_attach() after the clone. The fd stays
 * owned by the run. */
int cgroup_run_clone_fd(struct cgroup_run *r);

/* The directories whose cgroup.procs a process is written into to join
 * this cgroup, memory first (v1: one per hierarchy it was made in; what
 * cgroup_run_attach() writes). 0 on v2 and without cgroups: there a
 * process is born in it (cgroup_run_clone_fd()). The fds stay the run's. */
size_t cgroup_run_attach_dirs(const struct cgroup_run *r, int *ret_fds,
			      size_t max);

/* Move pid (and so its future children) into the run's cgroup(s). */
int cgroup_run_attach(struct cgroup_run *r, pid_t pid);

/* Total CPU time used so far, nanoseconds. */
int cgroup_run_cpu_ns(struct cgroup_run *r, uint64_t *ret);

/* Fills user_ns, system_ns, peak_memory_bytes + peak_source, oom_kills,
 * peak_pids (those the backend has; others are left alone). */
int cgroup_run_stats(struct cgroup_run *r, struct run_result *res);

/* Kill every process in the run's cgroup (cgroup.kill, or freeze + kill
 * on v1). */
int cgroup_run_kill(struct cgroup_run *r);

/* Is pid (in the daemon's pid namespace) a process of this run's cgroup?
 * 1 or 0; -errno if that cannot be read. */
int cgroup_run_has_pid(const struct cgroup_run *r, pid_t pid);

/* Kill, wait (bounded) until empty, rmdir. -EBUSY if it stays populated;
 * the manager keeps it and retries on the next cgroup_manager_reap().
 * Collect stats before this: the counters go with the directory. */
int cgroup_run_destroy(struct cgroup_run *r);

/* Frees the handle; destroys the cgroup first if still there. */
struct cgroup_run *cgroup_run_free(struct cgroup_run *r);

/* Retry removing cgroups that were still busy. */
void cgroup_manager_reap(struct cgroup_manager *m);

/* From now on a destroyed run's cgroup, once seen empty, is removed by a
 * thread of the manager's (cgroup-remover.c), so the caller never waits
 * for the kernel's teardown; cgroup_manager_free() waits for what is
 * queued. Until then (and if the thread cannot start: -errno) removal is
 * synchronous. */
int cgroup_manager_remove_in_background(struct cgroup_manager *m);

/* How many more processes the daemon's subtree may hold: the smallest
 * pids.max - pids.current of its root and every ancestor (UINT64_MAX if
 * none is limited). -EOPNOTSUPP without a pids controller. */
int cgroup_manager_pids_room(const struct cgroup_manager *m, uint64_t *ret);

/* Backend vtable, one per cgroup-vN.c. */
struct cgroup_ops {
	const char *name;
	int (*open)(struct cgroup_manager *m, const struct cgroup_config *cfg,
		    struct error_detail *err);
	void (*close)(struct cgroup_manager *m);
	/* mkdir r->rel and write lim (NULL: no limits, as prepared). */
	int (*run_create)(struct cgroup_manager *m, struct cgroup_run *r,
			  const struct spec_limits *lim);
	/* Write lim into a cgroup made without limits; pid as in bind. */
	int (*run_limit)(struct cgroup_run *r, const struct spec_limits *lim,
			 pid_t pid);
	int (*run_attach)(struct cgroup_run *r, pid_t pid);
	int (*run_cpu_ns)(struct cgroup_run *r, uint64_t *ret);
	int (*run_stats)(struct cgroup_run *r, struct run_result *res);
	int (*run_kill)(struct cgroup_run *r);
	int (*run_rmdir)(struct cgroup_run *r);
	/* The directories run_rmdir() removes r->rel from: n fds. */
	size_t (*rmdir_dirs)(const struct cgroup_run *r, int *fds, size_t max);
	/* A prepared cgroup someone else made: the directories to make
	 * r->rel in (memory first), and, once made, open and set it up as
	 * run_create(lim NULL) would have. */
	size_t (*prepare_dirs)(const struct cgroup_run *r, int *fds,
			       size_t max);
	int (*run_adopt)(struct cgroup_run *r);
	bool (*run_populated)(struct cgroup_run *r);
};
