/*
 * The daemon's side of the pool's spawner (the process is boxd-init,
 * init-spawner.c; the protocol is in initmsg.h). Refills ask it for
 * members and return at once; its answers arrive on engine_pool_fd() and
 * join the pool in engine_pool_dispatch(). The daemon's loop never waits
 * on a clone3().
 *
 * The spawner is forked once and execs boxd-init at once, so it holds
 * nothing of the daemon's but its socket; it dies with the daemon
 * (PR_SET_PDEATHSIG) and with its socket. If it dies or answers nonsense
 * it is stopped for good and the daemon clones members itself (spawn.c),
 * which is slower but the same sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "engine-internal.h"
#include "fdpass.h"
#include "initmsg.h"

/* The forked child: socket on INIT_CTL_FD, the plan (if any) on
 * SPAWN_PLAN_FD, /dev/null on 0-2, nothing else; exec boxd-init as the
 * spawner. plan is one of the engine's fds, above both. */
static _noreturn_ void spawner_child(const struct engine *e, int sock, int plan,
				     pid_t daemon)
{
	char *const argv[] = {(char *)"boxd-init", (char *)SPAWNER_ARG, NULL};
	char *const envp[] = {NULL};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != daemon)
		_exit(127);
	if (dup2(e->devnull, 0) < 0 || dup2(e->devnull, 1) < 0 ||
	    dup2(e->devnull, 2) < 0)
		_exit(127);
	if (sock == INIT_CTL_FD) {
		if (fcntl(sock, F_SETFD, 0) < 0)
			_exit(127);
	} else if (dup2(sock, INIT_CTL_FD) < 0) {
		_exit(127);
	}
	if (plan >= 0 && dup2(plan, SPAWN_PLAN_FD) < 0)
		_exit(127);
	/* init_fd must survive until the exec: mark, do not close. */
	if (syscall(SYS_close_range,
		    (plan >= 0 ? SPAWN_PLAN_FD : INIT_CTL_FD) + 1, ~0U,
		    1U << 2 /* CLOSE_RANGE_CLOEXEC */) < 0)
		_exit(127);
	syscall(SYS_execveat, e->init_fd, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

int spawner_start(struct engine *e, int plan)
{
	struct clone_args args = {
	    .flags = CLONE_PIDFD,
	    .exit_signal = SIGCHLD,
	};
	pid_t daemon = getpid();
	int sv[2], pidfd = -1;
	long pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return negerrno();
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		int r = negerrno();

		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		spawner_child(e, sv[1], plan, daemon);
	}
	close(sv[1]);
	/* Answers are read as they come, from the loop. */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		int r = negerrno();

		sys_pidfd_send_signal(pidfd, SIGKILL);
		(void)sys_waitid_rusage(pidfd, &(siginfo_t){0}, WEXITED,
					&(struct rusage){0});
		close(pidfd);
		close(sv[0]);
		return r;
	}
	e->spawner_fd = sv[0];
	e->spawner_pidfd = pidfd;
	return 0;
}

void spawner_stop(struct engine *e)
{
	siginfo_t si;
	struct rusage ru;

	if (e->spawner_pidfd >= 0) {
		/* It holds nothing worth finishing: a member it was cloning
		 * loses its control socket with it and exits. */
		sys_pidfd_send_signal(e->spawner_pidfd, SIGKILL);
		(void)sys_waitid_rusage(e->spawner_pidfd, &si, WEXITED, &ru);
	}
	e->spawner_pidfd = safe_close(e->spawner_pidfd);
	e->spawner_fd = safe_close(e->spawner_fd);
	while (e->pending) {
		struct spawn_pending *p = e->pending;

		e->pending = p->next;
		cgroup_run_free(p->cg);
		free(p);
	}
	e->inflight = 0;
}

int spawner_request(struct engine *e, struct cgroup_run *cg, bool reserved)
{
	struct spawn_request req = {.magic = INIT_MAGIC};
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct spawn_pending *p, **tail;
	int fds[SPAWN_MAX_FDS];
	size_t n_fds = 0;
	ssize_t n;

	if (cg && reserved) {
		/* The spawner makes it: the loop never waits on a mkdir. */
		n_fds = cgroup_run_reserve_dirs(cg, fds, SPAWN_MAX_FDS);
		req.cgroup =
		    cgroup_manager_mode(engine_cgroups(e)) == CGROUP_MODE_V2
			? SPAWN_CGROUP_MKDIR_CLONE_INTO
			: SPAWN_CGROUP_MKDIR_ATTACH;
		snprintf(req.name, sizeof(req.name), "%s", cgroup_run_name(cg));
		if (!n_fds)
			return -ENOENT;
	} else if (cg) {
		int cgfd = cgroup_run_clone_fd(cg);

		if (cgfd >= 0) {
			req.cgroup = SPAWN_CGROUP_CLONE_INTO;
			fds[n_fds++] = cgfd;
		} else {
			n_fds = cgroup_run_attach_dirs(cg, fds, SPAWN_MAX_FDS);
			req.cgroup =
			    n_fds ? SPAWN_CGROUP_ATTACH : SPAWN_CGROUP_NONE;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	req.seq = p->seq = ++e->spawn_seq;
	n = fdpass_send(e->spawner_fd, &iov, 1, fds, n_fds);
	if (n != (ssize_t)sizeof(req)) {
		free(p);
		return n < 0 ? (int)n : -EIO;
	}
	p->cg = cg;
	p->reserved = cg && reserved;
	for (tail = &e->pending; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	e->inflight++;
	return 0;
}

int spawner_receive(struct engine *e, struct member **ret,
		    struct run_error *err, bool *ret_gone)
{
	struct spawn_reply rep;
	struct spawn_pending *p = e->pending;
	struct member *m;
	int fds[2] = {-1, -1};
	size_t n_fds = 0;
	ssize_t n;
	int k;

	*ret_gone = false;
	n = fdpass_recv(e->spawner_fd, &rep, sizeof(rep), 2, fds, &n_fds);
	if (n == -EAGAIN)
		return 0;
	if (n == -EMFILE)
		goto gone; /* an answer lost: out of step from here */
	/* Exactly the answer to the oldest request: a member with both
	 * fds, or a failure with none. Anything else: stop listening. */
	if (n != (ssize_t)sizeof(rep) || rep.magic != INIT_MAGIC || !p ||
	    rep.seq != p->seq ||
	    (rep.err == 0 && (n_fds != 2 || rep.pid <= 0)) ||
	    (rep.err != 0 && n_fds != 0)) {
		for (size_t i = 0; i < n_fds; i++)
			safe_close(fds[i]);
		goto gone;
	}
	e->pending = p->next;
	e->inflight--;
	if (rep.err) {
		rep.step[sizeof(rep.step) - 1] = 0;
		set_step(err, rep.step);
		cgroup_run_free(p->cg);
		free(p);
		return -(rep.err > 0 ? rep.err : EIO);
	}
	m = calloc(1, sizeof(*m));
	k = !m ? -ENOMEM : p->reserved ? cgroup_run_adopt(p->cg) : 0;
	if (k < 0) {
		set_step(err, m ? "adopt cgroup" : "member");
		free(m);
		/* Dropping the fds lets go of the member: its control
		 * socket closes and it exits; its pidfd is the only way to
		 * reap it, so kill and reap it now (bounded: it runs
		 * nothing). */
		sys_pidfd_send_signal(fds[0], SIGKILL);
		(void)sys_waitid_rusage(fds[0], &(siginfo_t){0}, WEXITED,
					&(struct rusage){0});
		safe_close(fds[0]);
		safe_close(fds[1]);
		cgroup_run_free(p->cg);
		free(p);
		return k;
	}
	m->pid = rep.pid;
	m->pidfd = fds[0];
	m->ctl = fds[1];
	m->cg = p->cg;
	m->born_ns = now_ns();
	free(p);
	*ret = m;
	return 1;
gone:
	set_step(err, "spawner");
	spawner_stop(e);
	*ret_gone = true;
	return n < 0 ? (int)n : -EPROTO;
}
