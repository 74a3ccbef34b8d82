/*
 * The engine: turns a run_spec into a running sandbox, follows it, and
 * says when its command started and how the run ended. It owns no event
 * loop and knows no protocol.
 *
 * Each sandbox shows its caller one file descriptor, sandbox_fd(), valid
 * from sandbox_start() to sandbox_free(): when it turns readable, call
 * sandbox_dispatch(). Everything behind it belongs to the engine: pid 1's
 * control socket and pidfd, the wall-clock and CPU-time limits, and the
 * replacement of a pooled pid 1 that was lost before the command started.
 * The caller never sees, watches or closes any of those.
 *
 * A sandbox's life (sandbox_state()):
 *
 *   STARTING ---- command exec'd ----> RUNNING ---- command ended ----+
 *      |  ^                                |        or killed         |
 *      |  +-- pooled pid 1 lost before     +--------------------------+--> ENDED
 *      |      the command started: a fresh pid 1, same spec and stdio |
 *      +-- setup failed, pid 1 died, killed --------------------------+
 *
 * Invariants:
 *  - sandbox_dispatch() never blocks and may be called when nothing
 *    happened; it reports SANDBOX_EV_STARTED at most once and
 *    SANDBOX_EV_ENDED exactly once, after which sandbox_fd() stays quiet.
 *  - An ended sandbox has exactly one of sandbox_result() (the command
 *    ran, or was killed while it was being built) and sandbox_error()
 *    (a setup step or the exec failed).
 *  - The engine holds duplicates of the caller's stdio until the command
 *    starts or the sandbox ends, never longer, and hands pid 1 nothing
 *    else of the daemon's.
 *  - A pooled pid 1 that dies before the command starts, while nothing
 *    of the caller's has run in it (no STARTED, no report, no kill from
 *    boxd: a kill of idle members racing the take), is replaced once by a
 *    cold clone. A cold pid 1 that dies is never replaced: that is the
 *    run's end.
 *  - Nothing here blocks on a sandbox: a pid 1 still exiting at
 *    sandbox_free() is reaped later by engine_reap().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "result.h"
#include "spec.h"

struct engine_config {
	/* boxd-init; NULL: next to the daemon, else libexecdir */
	const char *init_path;
	/* pasta, for outbound runs; NULL: /usr/bin/pasta */
	const char *pasta_path;
	/* private dir for staging mounts, e.g. /run/boxd */
	const char *state_dir;
	struct cgroup_manager *cgroups; /* NULL: none */
	uint64_t tmpfs_default; /* size of a tmpfs without an explicit size */
	unsigned pool_size;     /* pre-warmed members to keep (0: no pool) */
	unsigned pool_low;      /* refill below this (0: 3/4 of pool_size) */
	uint64_t pool_wait_ns;  /* a run's wait for a member (0: none) */
	/* The default profile's mounts, which pool members build before
	 * their take (init-prebuilt.c); NULL: none. Must outlive the
	 * engine. */
	const struct spec_mount *plan;
	size_t n_plan;
};

struct engine_pool_stats {
	unsigned size;     /* idle members now */
	unsigned target;   /* high watermark */
	unsigned low;      /* refill starts below this */
	uint64_t hits;     /* runs that took a member */
	uint64_t prebuilt; /* ... and its tree built before the take */
	uint64_t misses;   /* runs that had to clone cold */
	uint64_t restarts; /* lost members replaced for their run */
	uint64_t refill_failures;
	uint64_t died_idle;        /* members found dead before use */
	uint64_t released;         /* members let go to leave pids to runs */
	uint64_t member_rss_bytes; /* RSS of one idle member, 0 if none */
};

struct engine;
struct sandbox;

/* A new engine; on failure -errno with err (may be NULL) saying what
 * (boxd-init missing or writable by others, the state directory). *ret is
 * written only on success. */
int engine_new(const struct engine_config *cfg, struct engine **ret,
	       struct error_detail *err);
struct engine *engine_free(struct engine *e);
struct cgroup_manager *engine_cgroups(struct engine *e);
/* The size of a tmpfs whose spec gives none. */
uint64_t engine_tmpfs_default(const struct engine *e);
/* NULL when outbound runs (SPEC_NET_OUTBOUND) can start here, else why
 * not (pasta is missing or unsafe to run). */
const char *engine_outbound_missing(const struct engine *e);

/*
 * Start a run: create its cgroup, take a pooled pid 1 or clone one into
 * fresh namespaces, map its ids, hand it the spec and stdio. Returns once
 * pid 1 has everything; the sandbox then builds itself and execs. stdio
 * and ids->groups are copied, not taken (a tty run's stdio is ignored:
 * pass -1s). On failure err says which step.
 */
int sandbox_start(struct engine *e, uint64_t run_id,
		  const struct run_spec *spec, const struct run_ids *ids,
		  const int stdio[3], struct sandbox **ret,
		  struct run_error *err);

/*
 * A tty run (spec->tty), once SANDBOX_EV_STARTED: the master side of the
 * terminal pid 1 made in the sandbox's own devpts, the caller's to keep
 * (close-on-exec); -1 before, after it was taken, or for other runs.
 * The engine keeps no copy: when the caller closes it, the terminal
 * hangs up and the command's foreground group gets SIGHUP.
 */
int sandbox_take_tty(struct sandbox *sb);

/* Readable: call sandbox_dispatch(). One fd for the sandbox's life. */
int sandbox_fd(const struct sandbox *sb);

enum sandbox_state {
	SANDBOX_STARTING, /* pid 1 is building the sandbox */
	SANDBOX_RUNNING,  /* the command has been exec'd */
	SANDBOX_ENDED,    /* sandbox_result() or sandbox_error() is ready */
};

/* What sandbox_dispatch() saw happen, as bits. */
enum {
	SANDBOX_EV_STARTED = 1u << 0, /* STARTING -> RUNNING */
	SANDBOX_EV_ENDED = 1u << 1,   /* -> ENDED */
};

unsigned sandbox_dispatch(struct sandbox *sb);
enum sandbox_state sandbox_state(const struct sandbox *sb);

pid_t sandbox_pid(const struct sandbox *sb);
uint64_t sandbox_run_id(const struct sandbox *sb);
/* CLOCK_MONOTONIC of the start of the sandbox that runs the command. */
uint64_t sandbox_started_ns(const struct sandbox *sb);
/* Inode of the sandbox's pid namespace (0 if unknown): every process of
 * the run lives in it or in one nested inside it. */
uint64_t sandbox_pidns(const struct sandbox *sb);
/* Is pid (in the daemon's pid namespace) one of the run's processes, per
 * its cgroup? 1 or 0; -errno if the sandbox has no cgroup to tell. */
int sandbox_has_pid(const struct sandbox *sb, pid_t pid);

/*
 * Stop a run. SIGKILL (and every limit) kills the whole sandbox at once;
 * other signals go to pid 1, which forwards them to the command. why is
 * what the result will say if the command dies of it. -ESRCH once ended.
 */
int sandbox_kill(struct sandbox *sb, enum run_termination why, int sig);

/* Once ENDED: exactly one of these is not NULL. */
const struct run_result *sandbox_result(const struct sandbox *sb);
const struct run_error *sandbox_error(const struct sandbox *sb);

/* Kills pid 1 if it still runs and releases everything; the cgroup goes
 * once pid 1 has been reaped (here, or later by engine_reap()). */
struct sandbox *sandbox_free(struct sandbox *sb);

/* Reap sandboxes freed while still dying; call on SIGCHLD or a timer. */
void engine_reap(struct engine *e);

/*
 * The pre-warmed pool. Members are pid 1s already cloned into fresh user,
 * mount, pid, net, ipc, uts and cgroup namespaces (inside the pool
 * cgroup), waiting for a spec; sandbox_start() takes one that has said it
 * is ready, and clones cold otherwise. A member serves exactly one run.
 *
 * engine_pool_wants() says whether the pool should grow now: below its
 * low watermark, or below its target while a refill is under way
 * (hysteresis). engine_pool_refill() spawns one member and returns 1, 0
 * when nothing is wanted, -EAGAIN while backing off after failures
 * (ret_retry_ns: when to try again), or another -errno.
 * engine_pool_maintain(), called about once a second, drops members
 * that died while idle (returning how many it found) and starts a
 * refill up to the target if the pool is below it: runs in a burst only
 * make the pool refill below its low watermark, a quiet second tops it
 * up.
 */
bool engine_pool_wants(const struct engine *e);
int engine_pool_refill(struct engine *e, uint64_t *ret_retry_ns);
/*
 * Members are cloned by a spawner process (forked once at engine_new()
 * when there is a pool), off the caller's thread: engine_pool_refill()
 * then only asks for one (1: asked), and the member joins the pool when
 * its answer arrives. engine_pool_fd() turns readable then: call
 * engine_pool_dispatch(), which returns how many members joined, or
 * -errno when the spawner is gone, after which engine_pool_fd() is -1
 * for good and engine_pool_refill() clones on the caller's thread. A
 * member that failed sets ret_retry_ns (back-off, as for
 * engine_pool_refill()). -1: no spawner.
 */
int engine_pool_fd(const struct engine *e);
int engine_pool_dispatch(struct engine *e, uint64_t *ret_retry_ns);
/*
 * A run that would take a member finds none ready, but one is on its way:
 * a member in the pool still building its tree, or one asked of the
 * spawner. Waiting for it costs the run less than the cold clone it gets
 * otherwise (made on the daemon's thread, its cgroup made there too, its
 * root built after the take), and meanwhile costs no CPU the spawner
 * could use. Nothing here blocks: the caller parks the run and looks
 * again when something changes.
 *
 * engine_pool_should_wait(): 1 when a run of spec and ids should wait (no
 * member ready, one on its way, waiting allowed), 0 when it should start
 * now: a member is ready (the next sandbox_start() for the same spec and
 * ids takes it), none is coming, or the pool cannot serve it.
 * engine_pool_wait_ns(): how long a run may wait at most (pool-wait-ms).
 * engine_pool_await_fd(): an fd (the engine's, valid until the next call
 * or engine_free()) that turns readable when a member on its way says it
 * is ready; the spawner's answers come on engine_pool_fd(). -1 when
 * there is nothing to wait on. Each call replaces the previous fd.
 */
int engine_pool_should_wait(struct engine *e, const struct run_spec *spec,
			    const struct run_ids *ids);
uint64_t engine_pool_wait_ns(const struct engine *e);
int engine_pool_await_fd(struct engine *e);
unsigned engine_pool_maintain(struct engine *e);
void engine_pool_stats(struct engine *e, struct engine_pool_stats *ret);
