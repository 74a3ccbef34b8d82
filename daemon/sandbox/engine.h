/*
 * The engine: turns a run_spec into a running sandbox and tells the layer
 * above when it started and how it ended. It owns no event loop: the
 * caller watches sandbox_ctl_fd() and sandbox_pidfd() and calls back in.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "result.h"
#include "spec.h"

struct engine_config {
	/* boxd-init; NULL: next to the daemon, else libexecdir */
	const char *init_path;
	/* private dir for staging mounts, e.g. /run/boxd */
	const char *state_dir;
	struct cgroup_manager *cgroups; /* NULL: none */
	uint64_t tmpfs_default; /* size of a tmpfs without an explicit size */
	unsigned pool_size;     /* pre-warmed members to keep (0: no pool) */
	unsigned pool_low;      /* refill below this (0: half of pool_size) */
};

struct engine_pool_stats {
	unsigned size;   /* idle members now */
	unsigned target; /* high watermark */
	uint64_t hits;   /* runs that took a member */
	uint64_t misses; /* runs that had to clone cold */
	uint64_t refill_failures;
	uint64_t died_idle;        /* members found dead before use */
	uint64_t member_rss_bytes; /* RSS of one idle member, 0 if none */
};

struct engine;
struct sandbox;

int engine_new(const struct engine_config *cfg, struct engine **ret, char *why,
	       size_t why_len);
struct engine *engine_free(struct engine *e);
struct cgroup_manager *engine_cgroups(struct engine *e);
/* The size of a tmpfs whose spec gives none. */
uint64_t engine_tmpfs_default(const struct engine *e);

/*
 * Start a run: create its cgroup, clone pid 1 into fresh namespaces, map
 * ids, hand it the spec and stdio. Returns once pid 1 has everything; the
 * sandbox then builds itself and execs. On failure before that, ret_err
 * says which step failed. stdio fds are duplicated, not taken.
 */
int sandbox_start(struct engine *e, uint64_t run_id,
		  const struct run_spec *spec, const struct run_ids *ids,
		  const int stdio[3], struct sandbox **ret,
		  struct run_error *ret_err);

/* Readable: call sandbox_on_ctl. */
int sandbox_ctl_fd(const struct sandbox *sb);
/* Readable: pid 1 ended. */
int sandbox_pidfd(const struct sandbox *sb);
pid_t sandbox_pid(const struct sandbox *sb);
uint64_t sandbox_run_id(const struct sandbox *sb);
uint64_t sandbox_started_ns(const struct sandbox *sb);

/* After finish: true if this run got a pooled member that died before it
 * could start (killed while idle, the kill racing the take) without
 * anyone asking for it. The run may then be started again, cold. */
bool sandbox_lost_member(const struct sandbox *sb);

/* Reads what pid 1 reported. Returns 1 the moment the command has been
 * exec'd, 0 otherwise, -EPIPE once pid 1 closed its end (stop watching;
 * failures surface at finish). */
int sandbox_on_ctl(struct sandbox *sb);

/*
 * Stop a run. SIGKILL (and every limit) kills the whole sandbox at once;
 * other signals go to pid 1, which forwards them to the command. why is
 * what the result will say if the command dies of it.
 */
int sandbox_kill(struct sandbox *sb, enum run_termination why, int sig);

/* CPU time limit: 1 if the run was over its limit and has been killed,
 * else 0 with *ret_next_ns = how long until it could be over. */
int sandbox_check_cpu(struct sandbox *sb, uint64_t *ret_next_ns);

/* pid 1 has reported that the command ended: the run can be finished
 * without waiting for pid 1 itself to exit. */
bool sandbox_command_done(const struct sandbox *sb);

/*
 * Once pid 1 exited (sandbox_pidfd() readable) or reported the command's
 * end (sandbox_command_done()): fill res (returns 0) or, if the command
 * never started, err (returns 1). -EAGAIN if neither happened yet. pid 1
 * and the run's cgroup are cleaned up by sandbox_free() / engine_reap(),
 * after the caller has sent its answer.
 */
int sandbox_finish(struct sandbox *sb, struct run_result *res,
		   struct run_error *err);

/* Kills pid 1 if it still runs and releases everything. If it cannot be
 * reaped at once, the engine reaps it later (engine_reap). */
struct sandbox *sandbox_free(struct sandbox *sb);

/* Reap sandboxes freed while still dying; call on SIGCHLD or a timer. */
void engine_reap(struct engine *e);

/*
 * The pre-warmed pool. Members are pid 1s already cloned into fresh user,
 * mount, pid, net, ipc, uts and cgroup namespaces (inside the pool
 * cgroup), waiting for a spec; sandbox_start() takes one when it can and
 * clones cold otherwise. A member serves exactly one run.
 *
 * engine_pool_wants() says whether the pool is below its low watermark
 * (or, once refilling, below its target); engine_pool_refill() spawns one
 * member and returns 1, 0 when full, -EAGAIN while backing off after
 * failures (ret_retry_ns: when to try again), or another -errno.
 * engine_pool_maintain() drops members that died while idle and returns
 * how many it found.
 */
bool engine_pool_wants(const struct engine *e);
int engine_pool_refill(struct engine *e, uint64_t *ret_retry_ns);
unsigned engine_pool_maintain(struct engine *e);
void engine_pool_stats(struct engine *e, struct engine_pool_stats *ret);
unsigned engine_pool_size(const struct engine *e);
