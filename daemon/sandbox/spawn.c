/*
 * Cloning a sandbox's pid 1: clone3() into fresh user, mount, pid, ipc,
 * uts, cgroup (and usually net) namespaces, straight into a cgroup when
 * the kernel allows, then execveat() of boxd-init.
 *
 * The code between clone3() and execveat() runs in a copy of the daemon:
 * it allocates nothing, logs nothing and touches no shared state; on
 * failure it reports {step, errno} on the control socket and _exits. It
 * must never exec anything but boxd-init, and never with an fd of the
 * daemon's beyond the control socket and /dev/null on 0-2.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "engine-internal.h"
#include "initmsg.h"

static _noreturn_ void child_fail(int ctl, const char *step)
{
	struct init_report rep = {
	    .magic = INIT_MAGIC,
	    .kind = INIT_FAILED,
	    .err = errno,
	    .seccomp_nr = -1,
	};

	memcpy(rep.step, step, strnlen(step, sizeof(rep.step) - 1));
	(void)!send(ctl, &rep, sizeof(rep), MSG_NOSIGNAL);
	_exit(127);
}

int caps_to_ambient(int last_cap)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[0].effective = data[0].inheritable = data[0].permitted;
	data[1].effective = data[1].inheritable = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	for (int cap = 0; cap <= last_cap; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return -1;
	return 0;
}

static _noreturn_ void child_exec_init(const struct engine *e, int ctl)
{
	char *const argv[] = {(char *)"boxd-init", NULL};
	char *const envp[] = {NULL};

	/* The daemon shields itself from the OOM killer; its sandboxes
	 * must not inherit that. */
	child_unshield();

	/* We hold every capability of the new user namespace (and none
	 * outside it), but execve of a binary by a uid that is not root in
	 * that namespace would drop them. Carry them over as ambient caps so
	 * boxd-init can build the sandbox; it drops them all before the
	 * command runs. */
	if (caps_to_ambient(e->last_cap) < 0)
		child_fail(ctl, "ambient caps");

	/* fds: /dev/null on 0-2, the control socket on 3, nothing else. */
	if (dup2(e->devnull, 0) < 0 || dup2(e->devnull, 1) < 0 ||
	    dup2(e->devnull, 2) < 0)
		child_fail(ctl, "stdio");
	if (ctl == INIT_CTL_FD) {
		if (fcntl(ctl, F_SETFD, 0) < 0)
			child_fail(ctl, "control socket");
	} else if (dup2(ctl, INIT_CTL_FD) < 0) {
		child_fail(ctl, "control socket");
	}
	ctl = INIT_CTL_FD;
	/* Everything else closes at execveat; init_fd must survive until
	 * then, so mark rather than close. */
	if (syscall(SYS_close_range, INIT_CTL_FD + 1, ~0U,
		    CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(ctl, "close_range");

	syscall(SYS_execveat, e->init_fd, "", argv, envp, AT_EMPTY_PATH);
	child_fail(ctl, "exec boxd-init");
}

struct member *member_free(struct member *m, bool kill_it)
{
	if (!m)
		return NULL;
	if (kill_it && m->pidfd >= 0) {
		siginfo_t si;
		struct rusage ru;

		sys_pidfd_send_signal(m->pidfd, SIGKILL);
		/* A member never ran anything of a caller's: it dies at
		 * once, so waiting here is bounded. */
		sys_waitid_rusage(m->pidfd, &si, WEXITED, &ru);
	}
	safe_close(m->pidfd);
	safe_close(m->ctl);
	/* Reaped above when killed: its cgroup is empty and goes now (or
	 * from the manager's reap list). */
	cgroup_run_free(m->cg);
	free(m);
	return NULL;
}

/* Clone a pid 1 into fresh namespaces and exec boxd-init in it. cgfd: a
 * cgroup to be born in (CLONE_INTO_CGROUP), or -1. */
int member_spawn(struct engine *e, bool new_net, int cgfd, const gid_t *groups,
		 size_t n_groups, struct member **ret, struct run_error *err)
{
	struct clone_args args = {0};
	struct member *m;
	int sv[2], pidfd = -1, r;
	pid_t pid;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->pidfd = m->ctl = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = negerrno();
		set_step(err, "socketpair");
		free(m);
		return r;
	}
	args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
		     CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PIDFD;
	if (new_net)
		args.flags |= CLONE_NEWNET;
	if (cgfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;

	/* Supplementary groups are inherited through clone and cannot be
	 * set inside the new user namespace (setgroups is denied there):
	 * give them to the daemon for the instant of the clone. Its only
	 * other thread decodes request bytes (decoder.h) and opens nothing
	 * while it holds them. */
	if (n_groups && setgroups(n_groups, groups) < 0) {
		r = negerrno();
		set_step(err, "setgroups");
		close(sv[0]);
		close(sv[1]);
		free(m);
		return r;
	}
	pid = sys_clone3(&args);
	if (n_groups && pid != 0 && setgroups(0, NULL) < 0)
		abort(); /* the daemon must not keep a caller's groups */
	if (pid < 0) {
		r = negerrno();
		set_step(err, "clone3");
		close(sv[0]);
		close(sv[1]);
		free(m);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		child_exec_init(e, sv[1]);
	}
	close(sv[1]);
	m->pid = pid;
	m->pidfd = pidfd;
	m->ctl = sv[0];
	m->born_ns = now_ns();
	*ret = m;
	return 0;
}

bool member_alive(const struct member *m)
{
	struct pollfd p = {.fd = m->pidfd, .events = POLLIN};

	/* A pidfd turns readable when its process exits. */
	return poll(&p, 1, 0) == 0;
}
