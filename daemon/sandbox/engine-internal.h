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
#include "initmsg.h"
#include "util.h"

struct engine {
	int init_fd;             /* O_PATH of boxd-init */
	int pasta_fd;            /* O_PATH of pasta, -1 without (netstack.c) */
	char pasta_missing[160]; /* why there is none */
	int devnull;
	int last_cap;
	char *stage; /* <state_dir>/root: mount point for new roots */
	/* The default profile's mounts (engine_config.plan): a run whose
	 * mounts are exactly these takes a member's prebuilt tree. */
	const struct spec_mount *plan;
	size_t n_plan;
	uint64_t tmpfs_default;
	struct cgroup_manager *cg;
	struct sandbox *dying; /* freed while pid 1 was still exiting */
	struct member *pool;   /* idle members, newest first */
	struct engine_pool_stats stats; /* size, target, low and counters */
	bool refilling; /* between the low watermark and the target */
	/* The pool's spawner (spawner.c): its socket and pidfd, -1 when the
	 * daemon clones members itself; requests sent and not answered,
	 * oldest first. */
	int spawner_fd, spawner_pidfd;
	uint64_t spawn_seq;
	struct spawn_pending *pending;
	unsigned inflight;
	uint64_t pool_wait_ns; /* how long a run may wait for a member */
	int await_ep;          /* engine_pool_await_fd()'s epoll set, or -1 */
	unsigned fail_streak;
	uint64_t retry_at_ns; /* refill backs off after failures */
};

/*
 * One run's sandbox (engine.h has its life and invariants). epfd is the
 * one fd the caller watches; every other fd here is the engine's own and
 * sits in epfd's interest list while it can turn readable.
 */
struct sandbox {
	struct engine *e;
	uint64_t run_id;
	enum sandbox_state state;
	int epfd;

	/* pid 1 now; replaced once if a pooled one is lost (restart). */
	pid_t pid;
	int pidfd;      /* -1 once pid 1 has been reaped */
	int ctl;        /* -1 once pid 1 closed its end */
	uint64_t pidns; /* inode of pid 1's pid namespace, 0 if unknown */
	bool pooled;
	bool restarted;
	bool fs_is_plan;     /* its mounts are the plan's (see engine) */
	uint32_t take_flags; /* INIT_TAKE_*, for the pid 1 it has now */
	uint64_t start_ns;   /* CLOCK_MONOTONIC, when this pid 1 was taken */

	/* What a restart needs, held until the command starts. */
	int memfd; /* the sealed spec */
	int stdio[3];
	uid_t uid, gid;     /* ids inside */
	struct run_ids ids; /* ids.groups points to groups */
	gid_t *groups;
	bool new_net;
	bool outbound;  /* SPEC_NET_OUTBOUND: a pasta per pid 1 */
	bool tty;       /* stdio holds /dev/null; the terminal is pid 1's */
	int tty_master; /* from INIT_STARTED until sandbox_take_tty() */

	/* Its pasta (netstack.c) while it runs, in epfd: pid and pidfd, 0
	 * and -1 without. */
	pid_t net_pid;
	int net_pidfd;

	struct cgroup_run *cg;
	int wall_timer, cpu_timer; /* timerfds, -1 without that limit */
	uint64_t cpu_limit_ns;
	uint32_t cpu_millis;

	enum run_termination forced; /* 0: nothing of boxd's killed it */
	bool kill_requested;         /* a KillRequest, whatever its signal */
	bool have_exit, have_error;
	struct init_report exit_report, error_report;

	bool has_result; /* ENDED: result, else error */
	struct run_result result;
	struct run_error error;
	struct sandbox *next_dying;
};

/* A pid 1 already in fresh namespaces, waiting for a spec. Used once. */
struct member {
	pid_t pid;
	int pidfd;
	int ctl;
	/* Its own cgroup, the run's once taken (cgroup_run_prepare); NULL
	 * without cgroups. */
	struct cgroup_run *cg;
	bool ready; /* boxd-init said INIT_READY: it runs and waits */
	bool
	    prebuilt; /* ... with the plan's tree built (INIT_READY_PREBUILT) */
	uint64_t born_ns;
	struct member *next;
};

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

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

/* A member asked of the spawner: the cgroup made (or, reserved, only
 * named) for it. */
struct spawn_pending {
	uint64_t seq;
	struct cgroup_run *cg;
	bool reserved; /* the spawner makes it; adopted on the answer */
	struct spawn_pending *next;
};

/* spawner.c: start the spawner (boxd-init SPAWNER_ARG; plan: a memfd of
 * the plan's spec blob for it, or -1), or stop it and drop what it was
 * asked for. */
int spawner_start(struct engine *e, int plan);
void spawner_stop(struct engine *e);
/* Ask for one member in cg (owned by the request until its answer);
 * reserved: cg is only named (cgroup_run_reserve()), the spawner makes
 * it and the answer adopts it. */
int spawner_request(struct engine *e, struct cgroup_run *cg, bool reserved);
/* Read one answer: 1 with a member (ready to join the pool), 0 when
 * nothing is waiting, -errno for a member that failed (err says which
 * step; its cgroup is gone) or, with *ret_gone set, a spawner that
 * stopped answering (stopped here). */
int spawner_receive(struct engine *e, struct member **ret,
		    struct run_error *err, bool *ret_gone);

/* spawn.c: in a clone child about to exec: every permitted capability
 * made effective, inheritable and ambient, so that the exec of a binary
 * by a uid that is not root in the namespace keeps them. -1 on failure. */
int caps_to_ambient(int last_cap);
/* spawn.c: clone a pid 1 into fresh namespaces and exec boxd-init in it
 * (born in cgroup cgfd unless -1, with these supplementary groups); free
 * one, killing it if asked. */
int member_spawn(struct engine *e, bool new_net, int cgfd, const gid_t *groups,
		 size_t n_groups, struct member **ret, struct run_error *err);
struct member *member_free(struct member *m, bool kill_it);
bool member_alive(const struct member *m);

/* netstack.c: pasta for an outbound sandbox. netstack_open(): its
 * O_PATH fd, or -1 with why filled. netstack_start(): pid 1 exists and
 * has its id maps; starts pasta (stopping one left from a lost pid 1)
 * and returns the pipe end pid 1 waits on. netstack_check(): reap it if
 * it has exited. netstack_stop(): kill and reap it; idempotent. */
int netstack_open(const char *path, char *why, size_t why_size);
int netstack_start(struct sandbox *sb, int *ret_ready, struct run_error *err);
void netstack_check(struct sandbox *sb);
void netstack_stop(struct sandbox *sb);

/* engine.c: watch fd in the sandbox's epoll set, or stop watching it. */
int sandbox_watch(struct sandbox *sb, int fd);
void sandbox_unwatch(struct sandbox *sb, int fd);
/* engine.c: a fresh cold pid 1 for a run whose pooled one was lost; err
 * says which step failed. */
int sandbox_restart(struct sandbox *sb, struct run_error *err);

/* supervise.c: release what only a restart needed. */
void sandbox_drop_restart_state(struct sandbox *sb);
/* supervise.c: enforce the CPU-time limit now, and re-arm its timer for
 * the soonest moment the run could reach it. */
void sandbox_check_cpu(struct sandbox *sb);

/* pool.c: could a member serve this run? */
bool pool_serves(const struct run_spec *spec, const struct run_ids *ids);
/* pool.c: take a live member that said it is ready, or NULL. */
struct member *pool_take(struct engine *e);
/* pool.c: give idle members back while they hold more pids than are
 * left for runs; the room left in the daemon's pids budget (UINT64_MAX
 * when it has no budget, or it cannot be read). */
uint64_t pool_fit(struct engine *e);
/* Read what a member sent while idle: 1 if it is ready, 0 if not yet,
 * -errno if it failed or is gone. */
int member_poll_ready(struct member *m);
/* Are spec's mounts exactly the plan's, so that a prebuilt tree serves
 * it? */
bool pool_spec_is_plan(const struct engine *e, const struct run_spec *spec);
