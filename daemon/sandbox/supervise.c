/*
 * Following a sandbox once it has been handed over: what pid 1 reports on
 * its control socket, its exit (pidfd), the wall-clock and CPU-time
 * limits (timerfds), kills, and the result record. All of it sits behind
 * the sandbox's one epoll fd, and sandbox_dispatch() is the only way in:
 * it reads what is there, moves the state machine of engine.h, and never
 * blocks.
 *
 * What pid 1 says is trusted only as far as it goes: it is our boxd-init,
 * but it runs in a namespace the caller's command shares once it started,
 * so a report is read with its size and magic checked, strings are cut at
 * their buffers, and nothing it says can make the daemon wait.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>

#include "engine-internal.h"
#include "fdpass.h"

void sandbox_drop_restart_state(struct sandbox *sb)
{
	for (int i = 0; i < 3; i++)
		sb->stdio[i] = safe_close(sb->stdio[i]);
	sb->memfd = safe_close(sb->memfd);
}

static void close_watched(struct sandbox *sb, int *fd)
{
	sandbox_unwatch(sb, *fd);
	*fd = safe_close(*fd);
}

/*
 * What pid 1 passes on to the caller must be what the caller was
 * promised: the master side of a pseudo-terminal (opened through a
 * ptmx node, whatever devpts it is in: character device 5:2), never a
 * socket, a directory or a file of the sandbox's that a subverted pid 1
 * would like the caller to hold.
 */
static bool is_pty_master(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) == 5 && minor(st.st_rdev) == 2;
}

/* Read every report pid 1 has queued. Returns SANDBOX_EV_STARTED if the
 * command was exec'd just now. At EOF the socket goes: pid 1 is exiting
 * and its pidfd tells the rest. */
static unsigned read_reports(struct sandbox *sb)
{
	struct init_report rep;
	unsigned ev = 0;

	while (sb->ctl >= 0) {
		_cleanup_close_ int fd = -1;
		size_t n_fds = 0;
		/*
		 * At most one fd, and only INIT_STARTED of a tty run keeps
		 * it: any other fd is closed unread. The socket is
		 * non-blocking (sandbox_watch), so this never waits.
		 */
		ssize_t n =
		    fdpass_recv(sb->ctl, &rep, sizeof(rep), 1, &fd, &n_fds);

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == -EPROTO || n == -ETOOMANYREFS || n == -EMFILE)
			continue; /* the report is lost; pid 1's exit is not */
		if (n <= 0) {
			close_watched(sb, &sb->ctl);
			break;
		}
		if (n != sizeof(rep) || rep.magic != INIT_MAGIC)
			continue; /* not from our boxd-init: ignore */
		rep.step[sizeof(rep.step) - 1] = 0;
		rep.detail[sizeof(rep.detail) - 1] = 0;
		switch (rep.kind) {
		case INIT_STARTED:
			if (sb->state == SANDBOX_STARTING) {
				if (sb->tty && sb->tty_master < 0 &&
				    is_pty_master(fd))
					sb->tty_master = TAKE_FD(fd);
				sb->state = SANDBOX_RUNNING;
				sandbox_drop_restart_state(sb);
				ev |= SANDBOX_EV_STARTED;
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
			break; /* INIT_READY of a pooled member, read late */
		}
	}
	return ev;
}

/* True once a timerfd has expired (and re-armed it to quiet). */
static bool timer_fired(int fd)
{
	uint64_t expirations;

	return fd >= 0 && read(fd, &expirations, sizeof(expirations)) ==
			      (ssize_t)sizeof(expirations);
}

/*
 * The CPU-time limit: kill once the run's cgroup has used it up, else
 * look again at the soonest moment it could be: when the run keeps every
 * CPU it may use busy. A failed read must not end enforcement: look again
 * soon.
 */
void sandbox_check_cpu(struct sandbox *sb)
{
	struct itimerspec its = {0};
	uint64_t used = 0, left, millis, next;
	long ncpu;

	if (cgroup_run_cpu_ns(sb->cg, &used) < 0) {
		next = 100000000ULL;
	} else if (used >= sb->cpu_limit_ns) {
		sandbox_kill(sb, RUN_CPU_TIMEOUT, SIGKILL);
		return;
	} else {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		millis = (uint64_t)(ncpu > 0 ? ncpu : 1) * 1000;
		if (sb->cpu_millis && sb->cpu_millis < millis)
			millis = sb->cpu_millis;
		left = (sb->cpu_limit_ns - used) * 1000 / millis;
		next = left < 2000000 ? 2000000 : left;
	}
	its.it_value.tv_sec = (time_t)(next / 1000000000ULL);
	its.it_value.tv_nsec = (long)(next % 1000000000ULL);
	(void)timerfd_settime(sb->cpu_timer, 0, &its, NULL);
}

int sandbox_kill(struct sandbox *sb, enum run_termination why, int sig)
{
	int r = 0;

	if (sb->state == SANDBOX_ENDED || sb->pidfd < 0)
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

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ULL +
	       (uint64_t)tv->tv_usec * 1000ULL;
}

/* Usage: rusage first (pid 1's when reaped, else the command's own as
 * pid 1 reported it), then the cgroup's figures where it has them. */
static void collect_usage(struct sandbox *sb, const struct rusage *ru,
			  bool reaped, struct run_result *out)
{
	const struct init_report *rep = &sb->exit_report;

	out->wall_ns = now_ns() - sb->start_ns;
	if (reaped) {
		out->user_ns = tv_ns(&ru->ru_utime);
		out->system_ns = tv_ns(&ru->ru_stime);
		out->peak_rss_bytes = (uint64_t)ru->ru_maxrss * 1024;
	} else {
		out->user_ns = rep->utime_ns;
		out->system_ns = rep->stime_ns;
		out->peak_rss_bytes = rep->maxrss_bytes;
	}
	out->peak_memory_bytes = out->peak_rss_bytes;
	out->peak_source = RUN_PEAK_RUSAGE;
	if (sb->cg) {
		uint64_t ru_user = out->user_ns, ru_sys = out->system_ns;

		cgroup_run_stats(sb->cg, out);
		/* v1 splits user/system by ticks: a short run reads 0 there
		 * while rusage, scaled by the precise runtime, does not. */
		if (out->user_ns + out->system_ns < ru_user + ru_sys) {
			out->user_ns = ru_user;
			out->system_ns = ru_sys;
		}
	}
}

/* How the run ended, from what pid 1 said, how it died, and what boxd
 * did to it. Fills sb->result, or sb->error when the command never ran. */
static void sandbox_conclude(struct sandbox *sb, const siginfo_t *si,
			     const struct rusage *ru, bool reaped)
{
	struct run_result out = {.seccomp_syscall = -1};

	collect_usage(sb, ru, reaped, &out);
	if (sb->have_error && !sb->have_exit && !sb->forced) {
		const struct init_report *rep = &sb->error_report;

		sb->error = (struct run_error){.err = rep->err};
		set_step(&sb->error, rep->step);
		snprintf(sb->error.detail, sizeof(sb->error.detail), "%s",
			 rep->detail);
		return;
	}
	if (!sb->have_exit && !sb->forced && !out.oom_kills &&
	    sb->state == SANDBOX_STARTING && !sb->kill_requested) {
		/* pid 1 died before the command started and said nothing:
		 * a crash of boxd-init, or a kill from outside. */
		sb->error = (struct run_error){.err = ECHILD};
		set_step(&sb->error, "sandbox init");
		snprintf(sb->error.detail, sizeof(sb->error.detail),
			 "sandbox init %s %d before the command started",
			 si->si_code == CLD_EXITED ? "exited with"
						   : "killed by",
			 si->si_status);
		return;
	}
	if (sb->have_exit) {
		fill_from_status(&out, sb->exit_report.status);
		if (sb->exit_report.seccomp_nr >= 0) {
			out.seccomp_syscall = sb->exit_report.seccomp_nr;
			out.seccomp_arch = sb->exit_report.seccomp_arch;
		}
		out.execs_refused = sb->exit_report.execs_refused;
	} else {
		/* pid 1 itself was killed: by us, or by the OOM killer with
		 * memory.oom.group. */
		out.termination = RUN_SIGNALED;
		out.signal = si->si_code == CLD_EXITED ? 0 : si->si_status;
	}
	if (out.termination != RUN_EXITED) {
		if (sb->forced)
			out.termination = sb->forced;
		else if (out.oom_kills && out.signal == SIGKILL)
			out.termination = RUN_OUT_OF_MEMORY;
		else if (sb->kill_requested)
			out.termination = RUN_KILLED;
	}
	sb->result = out;
	sb->has_result = true;
}

/* ENDED, with sb->result or sb->error filled: nothing in the epoll set
 * may stay readable. pid 1 may still be exiting (the command's end was
 * reported first); sandbox_free() reaps it, off the caller's answer
 * path. */
static unsigned sandbox_set_ended(struct sandbox *sb)
{
	sb->state = SANDBOX_ENDED;
	sandbox_drop_restart_state(sb);
	close_watched(sb, &sb->ctl);
	close_watched(sb, &sb->wall_timer);
	close_watched(sb, &sb->cpu_timer);
	sandbox_unwatch(sb, sb->pidfd);
	netstack_stop(sb);
	return SANDBOX_EV_ENDED;
}

static unsigned sandbox_end(struct sandbox *sb, const siginfo_t *si,
			    const struct rusage *ru, bool reaped)
{
	sandbox_conclude(sb, si, ru, reaped);
	return sandbox_set_ended(sb);
}

/* A pooled pid 1 died before the command started, and nothing explains
 * it but a kill of idle members racing the take: nothing of the caller's
 * ran, so the run may start over on a cold one (once). */
static bool sandbox_lost_member(const struct sandbox *sb)
{
	return sb->state == SANDBOX_STARTING && sb->pooled && !sb->restarted &&
	       !sb->have_exit && !sb->have_error && !sb->forced &&
	       !sb->kill_requested;
}

unsigned sandbox_dispatch(struct sandbox *sb)
{
	struct rusage ru = {0};
	siginfo_t si = {0};
	unsigned ev;

	if (sb->state == SANDBOX_ENDED)
		return 0;
	ev = read_reports(sb);
	netstack_check(sb);
	if (timer_fired(sb->wall_timer))
		sandbox_kill(sb, RUN_WALL_TIMEOUT, SIGKILL);
	if (timer_fired(sb->cpu_timer))
		sandbox_check_cpu(sb);

	/* The command's end, reported: answer now, without waiting for
	 * pid 1 itself to finish exiting. */
	if (sb->have_exit)
		return ev | sandbox_end(sb, &si, &ru, false);

	if (sys_waitid_rusage(sb->pidfd, &si, WEXITED | WNOHANG, &ru) < 0 ||
	    si.si_pid == 0)
		return ev;
	/* pid 1 is gone; whatever it wrote before dying is still queued. */
	ev |= read_reports(sb);
	sandbox_unwatch(sb, sb->pidfd);
	sb->pidfd = safe_close(sb->pidfd);
	if (sandbox_lost_member(sb)) {
		struct run_error err = {0};
		int r = sandbox_restart(sb, &err);

		if (r >= 0)
			return ev;
		err.err = -r;
		sb->error = err;
		return ev | sandbox_set_ended(sb);
	}
	return ev | sandbox_end(sb, &si, &ru, true);
}

const struct run_result *sandbox_result(const struct sandbox *sb)
{
	return sb->state == SANDBOX_ENDED && sb->has_result ? &sb->result
							    : NULL;
}

const struct run_error *sandbox_error(const struct sandbox *sb)
{
	return sb->state == SANDBOX_ENDED && !sb->has_result ? &sb->error
							     : NULL;
}

struct sandbox *sandbox_free(struct sandbox *sb)
{
	siginfo_t si = {0};
	struct rusage ru;

	if (!sb)
		return NULL;
	sandbox_drop_restart_state(sb);
	sb->ctl = safe_close(sb->ctl);
	sb->tty_master = safe_close(sb->tty_master);
	sb->wall_timer = safe_close(sb->wall_timer);
	sb->cpu_timer = safe_close(sb->cpu_timer);
	netstack_stop(sb);
	sb->epfd = safe_close(sb->epfd);
	free(sb->groups);
	sb->groups = NULL;
	if (sb->pidfd >= 0) {
		/*
		 * pid 1's death takes its whole pid namespace (and every
		 * namespace below it) with it; the one process of the run's
		 * cgroup outside it, pasta, is stopped above. Nothing else of
		 * the run can be left, so its cgroup is not killed here: on
		 * v1 that freezes and walks every hierarchy, right after the
		 * result, while the caller's next request waits. Whatever the
		 * cgroup still holds when it is removed, once pid 1 is reaped,
		 * is killed then (cgroup_run_free()).
		 */
		sys_pidfd_send_signal(sb->pidfd, SIGKILL);
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
