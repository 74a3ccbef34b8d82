/*
 * Private to the engine (engine.c, spawn.c, pool.c): the engine's state,
 * pre-warmed members, and the raw syscalls glibc does not wrap.
 */
#pragma once

#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "util.h"

struct engine {
	int init_fd; /* O_PATH of boxd-init */
	int devnull;
	int last_cap;
	char *stage; /* <state_dir>/root: mount point for new roots */
	uint64_t tmpfs_default;
	struct cgroup_manager *cg;
	struct sandbox *dying; /* freed while pid 1 was still exiting */
	struct member *pool;   /* idle members, newest first */
	struct engine_pool_stats stats;
	unsigned pool_low;
	unsigned fail_streak;
	uint64_t retry_at_ns; /* refill backs off after failures */
};

/* A pid 1 already in fresh namespaces, waiting for a spec. Used once. */
struct member {
	pid_t pid;
	int pidfd;
	int ctl;
	uint64_t born_ns;
	struct member *next;
};

static inline int sys_clone3(struct clone_args *args)
{
	return (int)syscall(SYS_clone3, args, sizeof(*args));
}

static inline int sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static inline int sys_waitid_rusage(int pidfd, siginfo_t *si, int options,
				    struct rusage *ru)
{
	return (int)syscall(SYS_waitid, P_PIDFD, pidfd, si, options, ru);
}

static inline void set_step(struct run_error *err, const char *step)
{
	snprintf(err->step, sizeof(err->step), "%s", step);
}

/* spawn.c: clone a pid 1 into fresh namespaces and exec boxd-init in it
 * (born in cgroup cgfd unless -1, with these supplementary groups); free
 * one, killing it if asked. */
int member_spawn(struct engine *e, bool new_net, int cgfd, const gid_t *groups,
		 size_t n_groups, struct member **ret, struct run_error *err);
struct member *member_free(struct member *m, bool kill_it);
bool member_alive(const struct member *m);

/* pool.c: take a live member, or NULL. */
struct member *pool_take(struct engine *e);
