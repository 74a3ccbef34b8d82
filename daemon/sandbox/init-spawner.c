/*
 * The pool's spawner: boxd-init started once by the daemon (SPAWNER_ARG),
 * which clones pool members on request and hands the daemon each
 * member's pidfd and control socket (protocol in initmsg.h). The daemon's
 * loop then never stalls on a clone3() with seven new namespaces, and a
 * member costs no execve and no C library start-up: it is a copy of this
 * small process and runs init_member_main() straight away.
 *
 * What it holds: /dev/null on 0-2, its socket to the daemon on
 * INIT_CTL_FD, and for the length of one request the member's cgroup
 * directories and control socket pair. A member keeps none of these
 * beyond its own end of the control socket: it closes every other fd
 * before it runs anything, so it holds nothing of the daemon's and
 * nothing of other members'. The spawner trusts only its socket, whose
 * peer is the daemon that forked it; every request is still checked
 * whole, and a malformed one ends the spawner (the daemon then clones
 * members itself).
 *
 * Given a plan (the default profile) it also makes the skeleton its
 * members build that profile's tree on (init-prebuilt.c), in a mount
 * namespace of its own, and keeps the plan mapped: each member is a copy
 * and has it in its own memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdpass.h"
#include "init.h"
#include "util.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/*
 * The member, right after clone3(): make its control socket INIT_CTL_FD
 * (that replaces the spawner's own socket in this copy), close every
 * other fd, then become a sandbox's pid 1. It needs no exec: it has only
 * the spawner's memory, which never held anything of the daemon's.
 * (glibc's cached thread id is the spawner's here; nothing below uses
 * it: no threads, no owner-checked locks.)
 */
static _noreturn_ void member_child(int ctl, char *spawner_arg)
{

	/* Look like the pid 1 it is, not like the spawner (ps, tests). */
	memset(spawner_arg, 0, strlen(spawner_arg));
	prctl(PR_SET_NAME, "boxd-init", 0, 0, 0);

	/* The daemon shields itself (and so the spawner) from the OOM
	 * killer; sandboxes must not inherit that. */
	child_unshield();
	if (dup2(ctl, INIT_CTL_FD) < 0)
		_exit(127);
	if (syscall(SYS_close_range, INIT_CTL_FD + 1, ~0U, 0) < 0)
		_exit(127);
	init_member_main(true);
}

static void reply_failure(struct spawn_reply *rep, const char *step, int err)
{
	rep->err = err > 0 ? err : EIO;
	snprintf(rep->step, sizeof(rep->step), "%s", step);
}

/* Write pid into cgroup.procs of each directory: the member's v1 cgroup,
 * in every hierarchy it was made in, memory first. */
static int attach_all(const int *fds, size_t n, pid_t pid)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%d", (int)pid);

	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int f =
		    openat(fds[i], "cgroup.procs", O_WRONLY | O_CLOEXEC);

		if (f < 0 || write(f, text, (size_t)len) != len)
			return -errno;
	}
	return 0;
}

/* A name the daemon may ask us to make: "sandbox-<digits>" and nothing
 * else, so that no request can reach outside the directories it gave. */
static bool valid_name(const char *name, size_t size)
{
	size_t len = strnlen(name, size);

	if (len == size || len <= 8 || strncmp(name, "sandbox-", 8) != 0)
		return false;
	return strspn(name + 8, "0123456789") == len - 8;
}

/* mkdir name in each of parents, and open each new directory into dirs;
 * on failure nothing made is left. */
static int make_cgroup(const int *parents, size_t n, const char *name,
		       int *dirs)
{
	size_t made = 0;
	int r = 0;

	for (; made < n; made++) {
		if (mkdirat(parents[made], name, 0755) < 0) {
			r = -errno;
			break;
		}
		dirs[made] = openat(parents[made], name,
				    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirs[made] < 0) {
			r = -errno;
			(void)unlinkat(parents[made], name, AT_REMOVEDIR);
			break;
		}
	}
	if (r < 0)
		while (made--) {
			close(dirs[made]);
			(void)unlinkat(parents[made], name, AT_REMOVEDIR);
		}
	return r;
}

/* One member, its cgroup in fds as mode says (SPAWN_CGROUP_NONE,
 * _CLONE_INTO or _ATTACH). Fills rep; on success the two fds for the
 * daemon are in ret_fds. */
static void spawn_in(uint32_t mode, const int *fds, size_t n_fds,
		     struct spawn_reply *rep, int ret_fds[2], char *spawner_arg)
{
	struct clone_args args = {
	    .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
		     CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWNET |
		     CLONE_PIDFD | CLONE_PARENT,
	    .exit_signal = 0, /* CLONE_PARENT: the spawner's own, SIGCHLD */
	};
	int sv[2], pidfd = -1;
	long pid;

	if (mode == SPAWN_CGROUP_CLONE_INTO) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)fds[0];
	}
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		reply_failure(rep, "socketpair", errno);
		return;
	}
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		reply_failure(rep, "clone3", errno);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		member_child(sv[1], spawner_arg);
	}
	close(sv[1]);
	if (mode == SPAWN_CGROUP_ATTACH) {
		int r = attach_all(fds, n_fds, (pid_t)pid);

		if (r < 0) {
			/* It has run nothing of anyone's: kill it; the
			 * daemon, its parent, reaps it. */
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			reply_failure(rep, "attach cgroup", -r);
			close(pidfd);
			close(sv[0]);
			return;
		}
	}
	rep->pid = (int32_t)pid;
	ret_fds[0] = pidfd;
	ret_fds[1] = sv[0];
}

/* One member for req, in the cgroup fds name or, for the MKDIR modes,
 * one made here in them. A made cgroup stays even if the member fails:
 * the daemon named it and removes it. */
static void spawn_one(const struct spawn_request *req, const int *fds,
		      size_t n_fds, struct spawn_reply *rep, int ret_fds[2],
		      char *spawner_arg)
{
	int dirs[SPAWN_MAX_FDS];
	int r;

	if (req->cgroup != SPAWN_CGROUP_MKDIR_CLONE_INTO &&
	    req->cgroup != SPAWN_CGROUP_MKDIR_ATTACH) {
		spawn_in(req->cgroup, fds, n_fds, rep, ret_fds, spawner_arg);
		return;
	}
	r = make_cgroup(fds, n_fds, req->name, dirs);
	if (r < 0) {
		reply_failure(rep, "make cgroup", -r);
		return;
	}
	spawn_in(req->cgroup == SPAWN_CGROUP_MKDIR_ATTACH
		     ? SPAWN_CGROUP_ATTACH
		     : SPAWN_CGROUP_CLONE_INTO,
		 dirs, n_fds, rep, ret_fds, spawner_arg);
	for (size_t i = 0; i < n_fds; i++)
		close(dirs[i]);
}

/*
 * The plan on SPAWN_PLAN_FD, if the daemon gave one: parsed once and
 * kept mapped (its strings point into the blob), so that every member,
 * a copy of this process, has it in its own memory. Without a plan, or
 * with one whose skeleton cannot be made, members build their root after
 * the take, as before.
 */
static void load_plan(void)
{
	static struct init_spec plan = {
	    .stdio = {-1, -1, -1}, .net_ready = -1, .tty_master = -1};
	struct stat st;
	void *blob;

	if (fstat(SPAWN_PLAN_FD, &st) < 0)
		return;
	blob = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ,
				     MAP_PRIVATE, SPAWN_PLAN_FD, 0)
			      : MAP_FAILED;
	close(SPAWN_PLAN_FD);
	if (blob == MAP_FAILED)
		return;
	if (init_blob_parse(blob, (size_t)st.st_size, &plan) < 0 ||
	    prebuilt_skeleton(&plan) < 0) {
		init_spec_clear(&plan);
		munmap(blob, (size_t)st.st_size);
		return;
	}
	init_plan = &plan;
}

_noreturn_ void spawner_main(char *spawner_arg)
{
	prctl(PR_SET_NAME, "boxd-spawner", 0, 0, 0);
	setup_learn_process();
	load_plan();
	for (;;) {
		struct spawn_request req;
		struct spawn_reply rep = {.magic = INIT_MAGIC};
		int fds[SPAWN_MAX_FDS], out[2] = {-1, -1};
		size_t n_fds = 0;
		struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};
		ssize_t n;

		n = fdpass_recv(INIT_CTL_FD, &req, sizeof(req), SPAWN_MAX_FDS,
				fds, &n_fds);
		if (n == 0 && n_fds == 0)
			_exit(0); /* the daemon closed its end */
		if (n != (ssize_t)sizeof(req) || req.magic != INIT_MAGIC ||
		    req.cgroup > SPAWN_CGROUP_MKDIR_ATTACH ||
		    (req.cgroup == SPAWN_CGROUP_NONE && n_fds) ||
		    ((req.cgroup == SPAWN_CGROUP_CLONE_INTO ||
		      req.cgroup == SPAWN_CGROUP_MKDIR_CLONE_INTO) &&
		     n_fds != 1) ||
		    ((req.cgroup == SPAWN_CGROUP_ATTACH ||
		      req.cgroup == SPAWN_CGROUP_MKDIR_ATTACH) &&
		     !n_fds) ||
		    (req.cgroup >= SPAWN_CGROUP_MKDIR_CLONE_INTO &&
		     !valid_name(req.name, sizeof(req.name))))
			_exit(1);
		rep.seq = req.seq;
		spawn_one(&req, fds, n_fds, &rep, out, spawner_arg);
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		n = fdpass_send(INIT_CTL_FD, &iov, 1, out, rep.err ? 0 : 2);
		safe_close(out[0]);
		safe_close(out[1]);
		/* The daemon is gone: so is the member, whose control
		 * socket just closed. */
		if (n != (ssize_t)sizeof(rep))
			_exit(1);
	}
}
