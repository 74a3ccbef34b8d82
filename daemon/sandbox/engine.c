/*
 * The engine and the start of a sandbox: get a pid 1 (from the pool, in
 * the cgroup it was given at refill, which gets the run's limits; or
 * cloned cold by spawn.c into a new run cgroup), write its id maps,
 * hand it the sealed spec and the caller's stdio, and set up the one fd
 * the caller watches. supervise.c follows the sandbox from there. Never
 * blocks on a sandbox: pid 1s still exiting are reaped later
 * (engine_reap).
 *
 * Every fd of a sandbox's caller that passes through here is a duplicate
 * the engine owns and closes once the command has it; pid 1 receives
 * exactly the spec memfd and the three stdio fds, on its control socket.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "config-build.h"
#include "engine-internal.h"
#include "fdpass.h"
#include "initmsg.h"
#include "log.h"
#include "seccomp.h"

static int read_last_cap(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return CAP_LAST_CAP;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return CAP_LAST_CAP;
	return atoi(buf);
}

static int open_init_binary(const char *explicit_path)
{
	char self[4096], path[4200];
	ssize_t n;
	int fd;

	if (explicit_path)
		return open(explicit_path, O_PATH | O_CLOEXEC);
	/* Next to the daemon (build tree, or a prefix install). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(path, sizeof(path), "%s/sandbox/boxd-init",
				 self);
			fd = open(path, O_PATH | O_CLOEXEC);
			if (fd >= 0)
				return fd;
			snprintf(path, sizeof(path), "%s/boxd-init", self);
			fd = open(path, O_PATH | O_CLOEXEC);
			if (fd >= 0)
				return fd;
		}
	}
	return open(BOXD_LIBEXECDIR "/boxd-init", O_PATH | O_CLOEXEC);
}

static int plan_to_memfd(const struct engine *e);

static int move_fd_high(int *fd)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, 10);

	if (n < 0)
		return negerrno();
	close(*fd);
	*fd = n;
	return 0;
}

int engine_new(const struct engine_config *cfg, struct engine **ret,
	       struct error_detail *err)
{
	struct engine *e;
	struct stat st;
	char buf[4096];

	e = calloc(1, sizeof(*e));
	if (!e)
		return error_set(err, ERROR_INTERNAL, -ENOMEM, "out of memory");
	e->init_fd = e->devnull = e->pasta_fd = -1;
	e->spawner_fd = e->spawner_pidfd = -1;
	e->await_ep = -1;
	e->cg = cfg->cgroups;
	/* A finished run's rmdir can wait for the kernel for milliseconds:
	 * never on the caller's loop (synchronous if the thread cannot
	 * start). */
	(void)cgroup_manager_remove_in_background(e->cg);
	e->tmpfs_default = cfg->tmpfs_default;
	e->plan = cfg->plan;
	e->n_plan = cfg->plan ? cfg->n_plan : 0;
	/* The one place the watermarks are derived: the low one defaults
	 * to three quarters of the target (rounded up) and never exceeds
	 * it. Refills run off the loop, so starting them early costs a run
	 * little; starting them at half let a burst drain the pool and wait
	 * (bench/README.md: p99 0.58x, median 1.01x against half). */
	e->stats.target = cfg->pool_size;
	e->pool_wait_ns = cfg->pool_wait_ns;
	e->stats.low =
	    cfg->pool_low ? cfg->pool_low : cfg->pool_size - cfg->pool_size / 4;
	if (e->stats.low > cfg->pool_size)
		e->stats.low = cfg->pool_size;
	e->last_cap = read_last_cap();

	e->init_fd = open_init_binary(cfg->init_path);
	if (e->init_fd < 0) {
		error_set(err, ERROR_INTERNAL, errno,
			  "cannot find boxd-init: %m");
		goto fail;
	}
	/* The daemon execs this in every sandbox: it must not be writable
	 * by anyone but root. */
	if (fstat(e->init_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		error_set(err, ERROR_INTERNAL, -EPERM,
			  "boxd-init must be a regular file owned by root and "
			  "writable only by root");
		goto fail;
	}
	e->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (e->devnull < 0) {
		error_set(err, ERROR_INTERNAL, errno, "open /dev/null: %m");
		goto fail;
	}
	/* Without pasta every other kind of run still works. */
	e->pasta_fd =
	    netstack_open(cfg->pasta_path ? cfg->pasta_path : "/usr/bin/pasta",
			  e->pasta_missing, sizeof(e->pasta_missing));
	/* The clone child rearranges fds 0-4; keep ours out of the way. */
	if (move_fd_high(&e->init_fd) < 0 || move_fd_high(&e->devnull) < 0 ||
	    (e->pasta_fd >= 0 && move_fd_high(&e->pasta_fd) < 0)) {
		error_set(err, ERROR_INTERNAL, errno, "fcntl: %m");
		goto fail;
	}

	if (mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST) {
		error_set(err, ERROR_INTERNAL, errno, "mkdir %s: %m",
			  cfg->state_dir);
		goto fail;
	}
	snprintf(buf, sizeof(buf), "%s/root", cfg->state_dir);
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		error_set(err, ERROR_INTERNAL, errno, "mkdir %s: %m", buf);
		goto fail;
	}
	e->stage = strdup(buf);
	if (!e->stage) {
		error_set(err, ERROR_INTERNAL, -ENOMEM, "out of memory");
		goto fail;
	}
	/* Without a spawner the pool still works, cloned on this thread
	 * (and with every root built after the take). */
	if (e->stats.target) {
		int plan = plan_to_memfd(e);

		(void)spawner_start(e, plan);
		safe_close(plan);
	}
	*ret = e;
	return 0;
fail:
	engine_free(e);
	return err ? -err->err : -EIO;
}

struct engine *engine_free(struct engine *e)
{
	if (!e)
		return NULL;
	while (e->dying) {
		struct sandbox *sb = e->dying;
		siginfo_t si;
		struct rusage ru;

		e->dying = sb->next_dying;
		/* Daemon shutdown: wait for pid 1 for real, it was SIGKILLed. */
		sys_waitid_rusage(sb->pidfd, &si, WEXITED, &ru);
		safe_close(sb->pidfd);
		cgroup_run_free(sb->cg);
		free(sb);
	}
	spawner_stop(e);
	safe_close(e->await_ep);
	while (e->pool) {
		struct member *m = e->pool;

		e->pool = m->next;
		member_free(m, true);
	}
	safe_close(e->init_fd);
	safe_close(e->pasta_fd);
	safe_close(e->devnull);
	free(e->stage);
	free(e);
	return NULL;
}

struct cgroup_manager *engine_cgroups(struct engine *e)
{
	return e->cg;
}

uint64_t engine_tmpfs_default(const struct engine *e)
{
	return e->tmpfs_default;
}

const char *engine_outbound_missing(const struct engine *e)
{
	return e->pasta_fd >= 0 ? NULL : e->pasta_missing;
}

void engine_reap(struct engine *e)
{
	struct sandbox **pp = &e->dying;

	while (*pp) {
		struct sandbox *sb = *pp;
		siginfo_t si = {0};
		struct rusage ru;

		if (sys_waitid_rusage(sb->pidfd, &si, WEXITED | WNOHANG, &ru) ==
			0 &&
		    si.si_pid == 0) {
			pp = &sb->next_dying;
			continue;
		}
		*pp = sb->next_dying;
		safe_close(sb->pidfd);
		cgroup_run_free(sb->cg);
		free(sb);
	}
	if (e->cg)
		cgroup_manager_reap(e->cg);
}

/* ---- handing pid 1 its ids and its spec ---- */

static int write_file_at(int dirfd, const char *name, const char *text)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	if (write(fd, text, len) != (ssize_t)len)
		return negerrno();
	return 0;
}

/* Map exactly one uid and one gid: the sandbox's ids to the host ids the
 * run is entitled to. setgroups is denied first, so the sandbox can never
 * drop a group to get past a "deny this group" permission. */
static int write_id_maps(pid_t pid, uid_t uid, gid_t gid,
			 const struct run_ids *ids, struct run_error *err)
{
	_cleanup_close_ int dir = -1;
	char path[64], map[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		set_step(err, "uid map");
		return negerrno();
	}
	snprintf(map, sizeof(map), "%u %u 1\n", uid, ids->host_uid);
	r = write_file_at(dir, "uid_map", map);
	if (r < 0) {
		set_step(err, "uid map");
		return r;
	}
	r = write_file_at(dir, "setgroups", "deny");
	if (r < 0) {
		set_step(err, "setgroups");
		return r;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", gid, ids->host_gid);
	r = write_file_at(dir, "gid_map", map);
	if (r < 0)
		set_step(err, "gid map");
	return r;
}

/* A sealed memfd holding the blob: its fd or -errno. */
static int blob_to_memfd(const struct init_blob *blob)
{
	_cleanup_close_ int fd =
	    memfd_create("boxd-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || write(fd, blob->data, blob->len) != (ssize_t)blob->len ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return negerrno();
	return TAKE_FD(fd);
}

static int spec_to_memfd(const struct engine *e, const struct run_spec *spec,
			 struct run_error *err)
{
	struct init_blob blob = {0};
	const void *insns = NULL;
	size_t insns_len = 0;
	bool listener = false;
	_cleanup_close_ int fd = -1;
	int r;

	if (spec->seccomp) {
		insns = seccomp_prog_insns(spec->seccomp, &insns_len);
		listener = seccomp_prog_needs_listener(spec->seccomp);
	}
	r = init_blob_encode(&blob, spec, e->stage, e->tmpfs_default, insns,
			     insns_len, listener);
	if (r < 0) {
		set_step(err, "encode spec");
		init_blob_free(&blob);
		return r;
	}
	fd = blob_to_memfd(&blob);
	init_blob_free(&blob);
	if (fd < 0)
		set_step(err, "spec memfd");
	return fd < 0 ? fd : TAKE_FD(fd);
}

/*
 * The plan for the spawner: a spec blob with the plan's mounts, the
 * engine's staging directory and tmpfs size, and placeholders where a
 * run has its own (argv, cwd, ids). -1 without a plan or on failure:
 * members then build every root after the take.
 */
static int plan_to_memfd(const struct engine *e)
{
	char *argv[] = {(char *)"-", NULL}, *env[] = {NULL};
	struct run_spec plan = {
	    .argv = argv,
	    .env = env,
	    .mounts = (struct spec_mount *)e->plan,
	    .n_mounts = e->n_plan,
	};
	struct init_blob blob = {0};
	int fd = -1;

	if (!e->n_plan)
		return -1;
	if (init_blob_encode(&blob, &plan, e->stage, e->tmpfs_default, NULL, 0,
			     false) >= 0)
		fd = blob_to_memfd(&blob);
	init_blob_free(&blob);
	if (fd >= 0 && move_fd_high(&fd) < 0)
		fd = safe_close(fd);
	return fd < 0 ? -1 : fd;
}

/*
 * The take header with the spec memfd and the caller's stdio in one
 * SEQPACKET message: pid 1 gets the header and all four fds, or nothing.
 * pid 1 gets references of its own; the engine's copies stay the engine's
 * (a restart sends the same ones again).
 */
/* The take: the spec, the stdio and, for an outbound run, the pipe pid 1
 * waits on until its network is up (net_ready, else -1). */
static int send_take(int ctl, int memfd, const int stdio[3], int net_ready,
		     uint32_t flags)
{
	struct stat st;
	struct init_take take = {
	    .magic = INIT_MAGIC,
	    .kind = INIT_TAKE,
	    .flags = flags,
	};
	const int fds[5] = {memfd, stdio[0], stdio[1], stdio[2], net_ready};
	struct iovec iov = {.iov_base = &take, .iov_len = sizeof(take)};
	ssize_t n;

	if (fstat(memfd, &st) < 0)
		return negerrno();
	take.spec_size = (uint64_t)st.st_size;
	n = fdpass_send(ctl, &iov, 1, fds, net_ready < 0 ? 4 : 5);

	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(take) ? 0 : -EIO;
}

int sandbox_watch(struct sandbox *sb, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	if (epoll_ctl(sb->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return negerrno();
	return 0;
}

void sandbox_unwatch(struct sandbox *sb, int fd)
{
	if (fd >= 0)
		(void)epoll_ctl(sb->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* pid 1 becomes the sandbox's: its pidfd and control socket go into the
 * epoll set, where they stay until pid 1 is reaped or hangs up. */
/* pid 1's pid namespace: what tells a connection made from inside this
 * sandbox (peer.c) from one made anywhere else. */
static uint64_t pidns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static int sandbox_adopt(struct sandbox *sb, struct member *m, bool pooled)
{
	int r;

	sb->pid = m->pid;
	sb->pidns = pidns_of(m->pid);
	sb->pidfd = TAKE_FD(m->pidfd);
	sb->ctl = TAKE_FD(m->ctl);
	sb->pooled = pooled;
	sb->start_ns = now_ns();
	if (m->cg)
		sb->cg = TAKE_PTR(m->cg);
	free(m);
	r = sandbox_watch(sb, sb->pidfd);
	if (r >= 0)
		r = sandbox_watch(sb, sb->ctl);
	return r;
}

/* Kill and reap a pid 1 that never got a caller's command (a pooled one
 * that failed its hand-over): it holds nothing, so waiting is bounded. */
static void sandbox_drop_pid1(struct sandbox *sb)
{
	siginfo_t si;
	struct rusage ru;

	netstack_stop(sb);
	sandbox_unwatch(sb, sb->pidfd);
	sandbox_unwatch(sb, sb->ctl);
	if (sb->pidfd >= 0) {
		sys_pidfd_send_signal(sb->pidfd, SIGKILL);
		sys_waitid_rusage(sb->pidfd, &si, WEXITED, &ru);
	}
	sb->pidfd = safe_close(sb->pidfd);
	sb->ctl = safe_close(sb->ctl);
	sb->pid = 0;
}

/* Give pid 1 its cgroup (unless born in it), its id maps and the spec. */
static int sandbox_hand_over(struct sandbox *sb, bool migrate,
			     struct run_error *err)
{
	_cleanup_close_ int net_ready = -1;
	int r;

	if (sb->cg && migrate) {
		/* A pooled member, or no CLONE_INTO_CGROUP (v1): move pid 1
		 * now. It runs nothing of the caller's until it has the spec,
		 * so this is not racy. */
		r = cgroup_run_attach(sb->cg, sb->pid);
		if (r < 0) {
			set_step(err, "attach cgroup");
			return r;
		}
	}
	r = write_id_maps(sb->pid, sb->uid, sb->gid, &sb->ids, err);
	if (r < 0)
		return r;
	/* pasta starts while pid 1 builds the sandbox: both take a few
	 * milliseconds, and pid 1 waits for the network only at the end. */
	if (sb->outbound && (r = netstack_start(sb, &net_ready, err)) < 0)
		return r;
	r = send_take(sb->ctl, sb->memfd, sb->stdio, net_ready, sb->take_flags);
	if (r < 0) {
		set_step(err, "hand over spec");
		return r;
	}
	if (fcntl(sb->ctl, F_SETFL, O_NONBLOCK) < 0) {
		set_step(err, "control socket");
		return negerrno();
	}
	return 0;
}

/* Clone a pid 1 for this sandbox and hand it everything. */
static int sandbox_start_cold(struct sandbox *sb, struct run_error *err)
{
	struct engine *e = sb->e;
	struct member *m = NULL;
	int cgfd = sb->cg ? cgroup_run_clone_fd(sb->cg) : -1;
	int r;

	sb->take_flags = 0; /* a cold pid 1 builds its own root */
	r = member_spawn(e, sb->new_net, cgfd, sb->ids.groups, sb->ids.n_groups,
			 &m, err);
	if (r < 0)
		return r;
	r = sandbox_adopt(sb, m, false);
	if (r < 0) {
		set_step(err, "watch sandbox");
		return r;
	}
	return sandbox_hand_over(sb, cgfd < 0, err);
}

int sandbox_restart(struct sandbox *sb, struct run_error *err)
{
	sb->restarted = true;
	sb->e->stats.restarts++;
	sandbox_drop_pid1(sb);
	return sandbox_start_cold(sb, err);
}

/* What a sandbox keeps of the request: ids (with its own copy of the
 * groups), a duplicate of each stdio fd and the sealed spec. */
static int sandbox_keep_request(struct sandbox *sb, const struct run_spec *spec,
				const struct run_ids *ids, const int stdio[3],
				struct run_error *err)
{
	sb->uid = spec->uid;
	sb->gid = spec->gid;
	sb->new_net = spec->net != SPEC_NET_HOST;
	sb->outbound = spec->net == SPEC_NET_OUTBOUND;
	sb->tty = spec->tty;
	sb->fs_is_plan = pool_spec_is_plan(sb->e, spec);
	sb->ids = *ids;
	sb->ids.groups = NULL;
	if (ids->n_groups) {
		sb->groups = calloc(ids->n_groups, sizeof(gid_t));
		if (!sb->groups) {
			set_step(err, "copy groups");
			return -ENOMEM;
		}
		memcpy(sb->groups, ids->groups, ids->n_groups * sizeof(gid_t));
		sb->ids.groups = sb->groups;
	}
	/* A tty run has no stdio of the caller's: pid 1 gets /dev/null,
	 * and the command the terminal pid 1 makes in its own devpts. */
	for (int i = 0; i < 3; i++) {
		sb->stdio[i] = fcntl(spec->tty ? sb->e->devnull : stdio[i],
				     F_DUPFD_CLOEXEC, 3);
		if (sb->stdio[i] < 0) {
			set_step(err, "stdio");
			return negerrno();
		}
	}
	sb->memfd = spec_to_memfd(sb->e, spec, err);
	return sb->memfd < 0 ? sb->memfd : 0;
}

/* A cold run's cgroup: tenant-<uid>/run-<id> with its limits. */
static int sandbox_create_cgroup(struct sandbox *sb,
				 const struct run_spec *spec,
				 const struct run_ids *ids,
				 struct run_error *err)
{
	struct engine *e = sb->e;
	int r;

	if (!e->cg || cgroup_manager_mode(e->cg) == CGROUP_MODE_NONE)
		return 0;
	r = cgroup_run_create(e->cg, ids->caller_uid, sb->run_id, &spec->limits,
			      &sb->cg);
	if (r < 0)
		set_step(err, "create cgroup");
	return r;
}

/*
 * A pooled member becomes the run's pid 1: its cgroup, where it has been
 * since its refill, gets the run's limits (no process moves), then it
 * gets its id maps and the spec. On failure the member is unusable and
 * the caller clones cold, which builds a fresh cgroup for the run: a
 * limit the member's cgroup cannot take (v1 refuses a memory limit below
 * what is already charged) still gets its run, or the run's own error.
 * ret_lost: the member itself died, not its limits.
 */
static int sandbox_take_member(struct sandbox *sb, struct member *m,
			       const struct run_spec *spec,
			       const struct run_ids *ids, bool *ret_lost)
{
	struct run_error ignored = {0};
	int r;

	*ret_lost = true;
	sb->take_flags = m->prebuilt && sb->fs_is_plan ? INIT_TAKE_PREBUILT : 0;
	r = sandbox_adopt(sb, m, true);
	if (r < 0)
		return r;
	if (sb->cg) {
		r = cgroup_run_bind(sb->cg, ids->caller_uid, sb->run_id,
				    &spec->limits, sb->pid);
		if (r < 0) {
			*ret_lost = false;
			return r;
		}
	}
	r = sandbox_hand_over(sb, false, &ignored);
	if (r >= 0 && sb->take_flags)
		sb->e->stats.prebuilt++;
	return r;
}

/* The wall-clock limit runs from now and the CPU-time limit is checked
 * when it could be reached: timerfds in the epoll set. */
static int sandbox_arm_limits(struct sandbox *sb, const struct run_spec *spec)
{
	const struct spec_limits *lim = &spec->limits;

	if (lim->timeout_ns) {
		struct itimerspec its = {
		    .it_value.tv_sec =
			(time_t)(lim->timeout_ns / 1000000000ULL),
		    .it_value.tv_nsec = (long)(lim->timeout_ns % 1000000000ULL),
		};

		sb->wall_timer =
		    timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (sb->wall_timer < 0 ||
		    timerfd_settime(sb->wall_timer, 0, &its, NULL) < 0 ||
		    sandbox_watch(sb, sb->wall_timer) < 0)
			return negerrno();
	}
	if (lim->cpu_time_ns && sb->cg) {
		sb->cpu_limit_ns = lim->cpu_time_ns;
		sb->cpu_millis = lim->cpu_millis;
		sb->cpu_timer =
		    timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (sb->cpu_timer < 0 || sandbox_watch(sb, sb->cpu_timer) < 0)
			return negerrno();
		sandbox_check_cpu(sb);
	}
	return 0;
}

int sandbox_start(struct engine *e, uint64_t run_id,
		  const struct run_spec *spec, const struct run_ids *ids,
		  const int stdio[3], struct sandbox **ret,
		  struct run_error *err)
{
	struct run_error step = {0};
	struct member *m = NULL;
	struct sandbox *sb;
	uint64_t room;
	int r;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->e = e;
	sb->run_id = run_id;
	sb->state = SANDBOX_STARTING;
	sb->pidfd = sb->ctl = sb->memfd = sb->tty_master = -1;
	sb->net_pidfd = -1;
	sb->wall_timer = sb->cpu_timer = -1;
	for (int i = 0; i < 3; i++)
		sb->stdio[i] = -1;
	sb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sb->epfd < 0) {
		r = negerrno();
		set_step(&step, "epoll");
		goto fail;
	}
	r = sandbox_keep_request(sb, spec, ids, stdio, &step);
	if (r < 0)
		goto fail;

	if (pool_serves(spec, ids))
		m = pool_take(e);
	/* The run about to start needs pids: idle members must not be
	 * what its forks run out of. */
	room = pool_fit(e);
	/*
	 * Not even room for the command (and pid 1, unless pooled): the
	 * daemon is short of processes, which no request is to blame for.
	 * Say so now, before the run is accepted: once pid 1 exists its
	 * fork would fail the run instead. (pid 1 itself gets in whatever
	 * the budget: a move into a cgroup is not counted against it.)
	 */
	if (room < (m ? 1 : 2)) {
		if (m)
			member_free(m, true);
		r = -EAGAIN;
		set_step(&step, "pids budget");
		goto fail;
	}
	if (m) {
		bool lost;

		e->stats.hits++;
		r = sandbox_take_member(sb, m, spec, ids, &lost);
		if (r >= 0)
			goto done;
		/* It died between the liveness check and now, or its cgroup
		 * would not take the limits: go cold. */
		if (lost)
			e->stats.died_idle++;
		sandbox_drop_pid1(sb);
		sb->cg = cgroup_run_free(sb->cg);
	} else {
		e->stats.misses++;
	}
	r = sandbox_create_cgroup(sb, spec, ids, &step);
	if (r < 0)
		goto fail;
	r = sandbox_start_cold(sb, &step);
	if (r < 0)
		goto fail;
done:
	/* Armed once the run has its cgroup: the CPU-time limit reads it. */
	r = sandbox_arm_limits(sb, spec);
	if (r < 0) {
		set_step(&step, "limit timers");
		goto fail;
	}
	*ret = sb;
	return 0;

fail:
	step.err = -r;
	*err = step;
	sandbox_free(sb);
	return r;
}

int sandbox_take_tty(struct sandbox *sb)
{
	int fd = sb->tty_master;

	sb->tty_master = -1;
	return fd;
}

int sandbox_fd(const struct sandbox *sb)
{
	return sb->epfd;
}
enum sandbox_state sandbox_state(const struct sandbox *sb)
{
	return sb->state;
}
pid_t sandbox_pid(const struct sandbox *sb)
{
	return sb->pid;
}
uint64_t sandbox_run_id(const struct sandbox *sb)
{
	return sb->run_id;
}
uint64_t sandbox_started_ns(const struct sandbox *sb)
{
	return sb->start_ns;
}
int sandbox_has_pid(const struct sandbox *sb, pid_t pid)
{
	return sb->cg ? cgroup_run_has_pid(sb->cg, pid) : -EOPNOTSUPP;
}

uint64_t sandbox_pidns(const struct sandbox *sb)
{
	return sb->pidns;
}
