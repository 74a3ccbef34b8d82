/*
 * Daemon side of a sandbox: get a pid 1 (from the pool, or cloned cold by
 * spawn.c), put it in its run's cgroup, write its id maps, hand it the
 * spec and the caller's stdio, then follow what it reports, stop it on
 * request or limit, and assemble the result record. Never blocks on a
 * sandbox: pid 1s still exiting are reaped later (engine_reap).
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "config-build.h"
#include "engine-internal.h"
#include "fdpass.h"
#include "initmsg.h"
#include "log.h"
#include "seccomp.h"

enum sandbox_state {
	SB_SETUP,
	SB_RUNNING,
	SB_DONE,
};

struct sandbox {
	struct engine *e;
	uint64_t run_id;
	pid_t pid;
	int pidfd;
	int ctl;
	struct cgroup_run *cg;
	uint64_t start_ns;
	uint64_t cpu_limit_ns;
	uint32_t cpu_millis;
	enum sandbox_state state;
	enum run_termination forced; /* 0: none */
	bool kill_requested;
	bool have_exit, have_error;
	bool ctl_eof;
	bool pooled;
	bool started_once;
	struct init_report exit_report;
	struct init_report error_report;
	struct sandbox *next_dying;
};

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

static int move_fd_high(int *fd)
{
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, 10);

	if (n < 0)
		return negerrno();
	close(*fd);
	*fd = n;
	return 0;
}

int engine_new(const struct engine_config *cfg, struct engine **ret, char *why,
	       size_t why_len)
{
	struct engine *e;
	struct stat st;
	char buf[4096];

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->init_fd = e->devnull = -1;
	e->cg = cfg->cgroups;
	e->tmpfs_default = cfg->tmpfs_default;
	e->stats.target = cfg->pool_size;
	e->pool_low = cfg->pool_low ? cfg->pool_low : (cfg->pool_size + 1) / 2;
	if (e->pool_low > cfg->pool_size)
		e->pool_low = cfg->pool_size;
	e->last_cap = read_last_cap();

	e->init_fd = open_init_binary(cfg->init_path);
	if (e->init_fd < 0) {
		snprintf(why, why_len, "cannot find boxd-init: %m");
		goto fail;
	}
	/* The daemon execs this in every sandbox: it must not be writable
	 * by anyone but root. */
	if (fstat(e->init_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, why_len,
			 "boxd-init must be a regular file owned by root and "
			 "writable only by root");
		errno = EPERM;
		goto fail;
	}
	e->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (e->devnull < 0) {
		snprintf(why, why_len, "open /dev/null: %m");
		goto fail;
	}
	/* The clone child rearranges fds 0-3; keep ours out of the way. */
	if (move_fd_high(&e->init_fd) < 0 || move_fd_high(&e->devnull) < 0) {
		snprintf(why, why_len, "fcntl: %m");
		goto fail;
	}

	if (mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "mkdir %s: %m", cfg->state_dir);
		goto fail;
	}
	snprintf(buf, sizeof(buf), "%s/root", cfg->state_dir);
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "mkdir %s: %m", buf);
		goto fail;
	}
	e->stage = strdup(buf);
	if (!e->stage) {
		errno = ENOMEM;
		goto fail;
	}
	*ret = e;
	return 0;
fail:;
	int r = negerrno();
	engine_free(e);
	return r;
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
	while (e->pool) {
		struct member *m = e->pool;

		e->pool = m->next;
		member_free(m, true);
	}
	safe_close(e->init_fd);
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

/* ---- between clone3() and execveat(): no allocation, no logging ---- */

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
static int write_id_maps(pid_t pid, const struct run_spec *spec,
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
	snprintf(map, sizeof(map), "%u %u 1\n", spec->uid, ids->host_uid);
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
	snprintf(map, sizeof(map), "%u %u 1\n", spec->gid, ids->host_gid);
	r = write_file_at(dir, "gid_map", map);
	if (r < 0)
		set_step(err, "gid map");
	return r;
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
	fd = memfd_create("boxd-spec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, blob.data, blob.len) != (ssize_t)blob.len ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) <
		0) {
		r = negerrno();
		set_step(err, "spec memfd");
		init_blob_free(&blob);
		return r;
	}
	init_blob_free(&blob);
	return TAKE_FD(fd);
}

/*
 * The take header with the spec memfd and the caller's stdio in one
 * SEQPACKET message: pid 1 gets the header and all four fds, or nothing.
 * pid 1 gets references of its own; the engine's copies stay the engine's.
 */
static int send_take(int ctl, int memfd, size_t size, const int stdio[3])
{
	struct init_take take = {
	    .magic = INIT_MAGIC,
	    .kind = INIT_TAKE,
	    .spec_size = size,
	};
	const int fds[4] = {memfd, stdio[0], stdio[1], stdio[2]};
	struct iovec iov = {.iov_base = &take, .iov_len = sizeof(take)};
	ssize_t n = fdpass_send(ctl, &iov, 1, fds, ELEMENTSOF(fds));

	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(take) ? 0 : -EIO;
}

/* Give pid 1 its cgroup, its id maps and the spec. */
static int sandbox_hand_over(struct engine *e, struct sandbox *sb,
			     const struct run_spec *spec,
			     const struct run_ids *ids, const int stdio[3],
			     bool migrate, struct run_error *err)
{
	_cleanup_close_ int memfd = -1;
	struct stat st;
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
	r = write_id_maps(sb->pid, spec, ids, err);
	if (r < 0)
		return r;
	memfd = spec_to_memfd(e, spec, err);
	if (memfd < 0)
		return memfd;
	if (fstat(memfd, &st) < 0) {
		set_step(err, "spec memfd");
		return negerrno();
	}
	r = send_take(sb->ctl, memfd, (size_t)st.st_size, stdio);
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

static void sandbox_adopt(struct sandbox *sb, struct member *m)
{
	sb->pid = m->pid;
	sb->pidfd = TAKE_FD(m->pidfd);
	sb->ctl = TAKE_FD(m->ctl);
	sb->start_ns = now_ns();
	free(m);
}

/* Drop a pooled member that failed its hand-over (it died meanwhile). */
static void sandbox_drop_member(struct sandbox *sb)
{
	siginfo_t si;
	struct rusage ru;

	sys_pidfd_send_signal(sb->pidfd, SIGKILL);
	sys_waitid_rusage(sb->pidfd, &si, WEXITED, &ru);
	sb->pidfd = safe_close(sb->pidfd);
	sb->ctl = safe_close(sb->ctl);
	sb->pooled = false;
	sb->e->stats.died_idle++;
}

/* Groups beyond the primary one change permission checks. */
static bool needs_groups(const struct run_ids *ids)
{
	for (size_t i = 0; i < ids->n_groups; i++)
		if (ids->groups[i] != ids->host_gid)
			return true;
	return false;
}

int sandbox_start(struct engine *e, uint64_t run_id,
		  const struct run_spec *spec, const struct run_ids *ids,
		  const int stdio[3], struct sandbox **ret,
		  struct run_error *ret_err)
{
	struct run_error err = {0};
	struct member *m = NULL;
	struct sandbox *sb;
	int cgfd = -1, r;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->e = e;
	sb->run_id = run_id;
	sb->pidfd = sb->ctl = -1;
	sb->cpu_limit_ns = spec->limits.cpu_time_ns;
	sb->cpu_millis = spec->limits.cpu_millis;

	if (e->cg && cgroup_manager_mode(e->cg) != CGROUP_MODE_NONE) {
		r = cgroup_run_create(e->cg, ids->caller_uid, run_id,
				      &spec->limits, &sb->cg);
		if (r < 0) {
			set_step(&err, "create cgroup");
			goto fail;
		}
		cgfd = cgroup_run_clone_fd(sb->cg);
	}

	/* A pooled member has every namespace but the host's network, and
	 * no supplementary groups: a caller with groups gets a fresh one. */
	if (spec->net != SPEC_NET_HOST && !needs_groups(ids))
		m = pool_take(e);
	if (m) {
		e->stats.hits++;
		sb->pooled = true;
		sandbox_adopt(sb, m);
		r = sandbox_hand_over(e, sb, spec, ids, stdio, true, &err);
		if (r >= 0)
			goto done;
		/* It died between the liveness check and now: go cold. */
		sandbox_drop_member(sb);
		err = (struct run_error){0};
	} else {
		e->stats.misses++;
	}
	r = member_spawn(e, spec->net != SPEC_NET_HOST, cgfd, ids->groups,
			 ids->n_groups, &m, &err);
	if (r < 0)
		goto fail;
	sandbox_adopt(sb, m);
	r = sandbox_hand_over(e, sb, spec, ids, stdio, cgfd < 0, &err);
	if (r < 0)
		goto fail;
done:
	*ret = sb;
	return 0;

fail:
	err.err = -r;
	*ret_err = err;
	sandbox_free(sb);
	return r;
}

int sandbox_ctl_fd(const struct sandbox *sb)
{
	return sb->ctl;
}
int sandbox_pidfd(const struct sandbox *sb)
{
	return sb->pidfd;
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

bool sandbox_lost_member(const struct sandbox *sb)
{
	return sb->pooled && sb->state == SB_DONE && !sb->have_exit &&
	       !sb->have_error && !sb->forced && !sb->kill_requested &&
	       !sb->started_once;
}

int sandbox_on_ctl(struct sandbox *sb)
{
	struct init_report rep;
	int started = 0;

	if (sb->ctl < 0 || sb->ctl_eof)
		return sb->ctl_eof ? -EPIPE : 0;
	for (;;) {
		ssize_t n = recv(sb->ctl, &rep, sizeof(rep), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			/* pid 1 is gone; the pidfd tells the rest. The fd
			 * stays open until finish: the caller's event loop
			 * still has it registered. */
			sb->ctl_eof = true;
			return started ? started : -EPIPE;
		}
		if (n < 0)
			return started;
		if (n != sizeof(rep) || rep.magic != INIT_MAGIC)
			continue; /* not from our boxd-init: ignore */
		rep.step[sizeof(rep.step) - 1] = 0;
		rep.detail[sizeof(rep.detail) - 1] = 0;
		switch (rep.kind) {
		case INIT_STARTED:
			if (sb->state == SB_SETUP) {
				sb->state = SB_RUNNING;
				sb->started_once = true;
				started = 1;
			}
			break;
		case INIT_FAILED:
			sb->have_error = true;
			sb->error_report = rep;
			break;
		case INIT_EXITED:
			sb->have_exit = true;
			sb->exit_report = rep;
			break;
		default:
			break;
		}
	}
}

int sandbox_kill(struct sandbox *sb, enum run_termination why, int sig)
{
	int r = 0;

	if (sb->state == SB_DONE || sb->pidfd < 0)
		return -ESRCH;
	if (why == RUN_KILLED)
		sb->kill_requested = true;
	if (sig == SIGKILL) {
		if (!sb->forced)
			sb->forced = why;
		/* SIGKILL to a pid namespace's init takes down everything in
		 * it; the cgroup kill also catches anything that is not. */
		if (sys_pidfd_send_signal(sb->pidfd, SIGKILL) < 0)
			r = negerrno();
		if (sb->cg)
			cgroup_run_kill(sb->cg);
		return r;
	}
	/* pid 1 forwards SIGTERM, SIGINT and SIGHUP to the command. */
	if (sys_pidfd_send_signal(sb->pidfd, sig) < 0)
		r = negerrno();
	return r;
}

int sandbox_check_cpu(struct sandbox *sb, uint64_t *ret_next_ns)
{
	uint64_t used = 0, left, millis;
	long ncpu;
	int r;

	if (!sb->cpu_limit_ns || !sb->cg)
		return -EOPNOTSUPP;
	r = cgroup_run_cpu_ns(sb->cg, &used);
	if (r < 0)
		return r;
	if (used >= sb->cpu_limit_ns) {
		sandbox_kill(sb, RUN_CPU_TIMEOUT, SIGKILL);
		return 1;
	}
	/* The soonest the run can reach its limit is when it keeps every
	 * CPU it may use busy: check again then, not sooner. */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	millis = (uint64_t)(ncpu > 0 ? ncpu : 1) * 1000;
	if (sb->cpu_millis && sb->cpu_millis < millis)
		millis = sb->cpu_millis;
	left = sb->cpu_limit_ns - used;
	left = left * 1000 / millis;
	*ret_next_ns = left < 2000000 ? 2000000 : left;
	return 0;
}

static void fill_from_status(struct run_result *res, int status)
{
	if (WIFEXITED(status)) {
		res->termination = RUN_EXITED;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->termination = RUN_SIGNALED;
		res->signal = WTERMSIG(status);
	}
}

bool sandbox_command_done(const struct sandbox *sb)
{
	return sb->have_exit && sb->state != SB_DONE;
}

int sandbox_finish(struct sandbox *sb, struct run_result *res,
		   struct run_error *err)
{
	struct run_result out = {.seccomp_syscall = -1};
	struct rusage ru = {0};
	siginfo_t si = {0};
	bool reaped;

	if (sb->state == SB_DONE)
		return -EALREADY;
	sandbox_on_ctl(sb);
	if (sys_waitid_rusage(sb->pidfd, &si, WEXITED | WNOHANG, &ru) < 0)
		return negerrno();
	reaped = si.si_pid != 0;
	if (!reaped && !sb->have_exit)
		return -EAGAIN;
	if (reaped) {
		/* Whatever pid 1 wrote before dying is still queued. */
		sandbox_on_ctl(sb);
		sb->pidfd = safe_close(sb->pidfd);
	} else {
		/* pid 1 reported the command's end and is on its way out:
		 * answer now, reap it and remove the cgroup afterwards
		 * (sandbox_free), off the caller's path. The command's own
		 * rusage stands in for pid 1's. */
		const struct init_report *rep = &sb->exit_report;

		ru.ru_utime.tv_sec = (time_t)(rep->utime_ns / 1000000000ULL);
		ru.ru_utime.tv_usec =
		    (suseconds_t)(rep->utime_ns % 1000000000ULL / 1000);
		ru.ru_stime.tv_sec = (time_t)(rep->stime_ns / 1000000000ULL);
		ru.ru_stime.tv_usec =
		    (suseconds_t)(rep->stime_ns % 1000000000ULL / 1000);
		ru.ru_maxrss = (long)(rep->maxrss_bytes / 1024);
	}
	sb->state = SB_DONE;
	sb->ctl = safe_close(sb->ctl);

	out.wall_ns = now_ns() - sb->start_ns;
	out.user_ns = (uint64_t)ru.ru_utime.tv_sec * 1000000000ULL +
		      (uint64_t)ru.ru_utime.tv_usec * 1000ULL;
	out.system_ns = (uint64_t)ru.ru_stime.tv_sec * 1000000000ULL +
			(uint64_t)ru.ru_stime.tv_usec * 1000ULL;
	out.peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
	out.peak_memory_bytes = out.peak_rss_bytes;
	out.peak_source = RUN_PEAK_RUSAGE;
	if (sb->cg) {
		uint64_t ru_cpu = out.user_ns + out.system_ns;
		uint64_t ru_user = out.user_ns, ru_sys = out.system_ns;

		cgroup_run_stats(sb->cg, &out);
		/* v1 splits user/system by ticks: a short run reads 0 there
		 * while rusage, scaled by the precise runtime, does not. */
		if (out.user_ns + out.system_ns < ru_cpu) {
			out.user_ns = ru_user;
			out.system_ns = ru_sys;
		}
	}

	if (sb->have_error && !sb->have_exit && !sb->forced) {
		const struct init_report *rep = &sb->error_report;

		*err = (struct run_error){.err = rep->err};
		set_step(err, rep->step);
		snprintf(err->detail, sizeof(err->detail), "%s", rep->detail);
		goto done_error;
	}
	if (!sb->have_exit && !sb->forced && !out.oom_kills &&
	    sb->state != SB_RUNNING && !sb->kill_requested) {
		/* pid 1 died before the command started and said nothing:
		 * a crash of boxd-init, or a kill from outside. */
		*err = (struct run_error){.err = ECHILD};
		set_step(err, "sandbox init");
		snprintf(err->detail, sizeof(err->detail),
			 "sandbox init %s %d before the command started",
			 si.si_code == CLD_EXITED ? "exited with" : "killed by",
			 si.si_status);
		goto done_error;
	}

	if (sb->have_exit) {
		fill_from_status(&out, sb->exit_report.status);
		if (sb->exit_report.seccomp_nr >= 0) {
			out.seccomp_syscall = sb->exit_report.seccomp_nr;
			out.seccomp_arch = sb->exit_report.seccomp_arch;
		}
	} else {
		/* pid 1 itself was killed: by us, or by the OOM killer with
		 * memory.oom.group. */
		out.termination = RUN_SIGNALED;
		out.signal = si.si_code == CLD_EXITED ? 0 : si.si_status;
	}
	if (out.termination != RUN_EXITED) {
		if (sb->forced)
			out.termination = sb->forced;
		else if (out.oom_kills && out.signal == SIGKILL)
			out.termination = RUN_OUT_OF_MEMORY;
		else if (sb->kill_requested)
			out.termination = RUN_KILLED;
	}
	*res = out;
	if (sb->cg && sb->pidfd < 0)
		sb->cg = cgroup_run_free(sb->cg);
	return 0;

done_error:
	if (sb->cg && sb->pidfd < 0)
		sb->cg = cgroup_run_free(sb->cg);
	return 1;
}

struct sandbox *sandbox_free(struct sandbox *sb)
{
	siginfo_t si = {0};
	struct rusage ru;

	if (!sb)
		return NULL;
	sb->ctl = safe_close(sb->ctl);
	if (sb->pidfd >= 0) {
		sys_pidfd_send_signal(sb->pidfd, SIGKILL);
		if (sb->cg)
			cgroup_run_kill(sb->cg);
		if (sys_waitid_rusage(sb->pidfd, &si, WEXITED | WNOHANG, &ru) <
			0 ||
		    si.si_pid == 0) {
			/* Still dying: reap it later, never block here. */
			sb->next_dying = sb->e->dying;
			sb->e->dying = sb;
			return NULL;
		}
	}
	safe_close(sb->pidfd);
	cgroup_run_free(sb->cg);
	free(sb);
	return NULL;
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
