/*
 * Outbound network (SPEC_NET_OUTBOUND): a user-mode network stack,
 * pasta from Debian's passt package, one per run, started and reaped by
 * the engine.
 *
 * pasta sits in two places at once: in the host's network namespace,
 * where it opens ordinary sockets on the command's behalf, and on the
 * tap device it creates in the sandbox's own network namespace, where
 * the command's packets arrive. Only connections the command opens are
 * carried: it is given no port to forward into the sandbox (-t none
 * -u none), none from the sandbox's loopback to the host's (-T none
 * -U none), and the gateway address is not mapped to the host
 * (--no-map-gw), so the host's loopback services, the daemon's socket
 * (a path, never an address) and anything listening only on the host's
 * loopback stay out of reach. What is listening on the host's other
 * addresses is reachable as it is from any machine on that network.
 *
 * Privileges. pasta joins the sandbox's user namespace before it runs,
 * as the run's own ids inside (the one mapping there is, to the
 * caller's or the tenant's host uid): its capabilities are those of the
 * sandbox's root over the sandbox's namespaces, enough to join its
 * network namespace and configure the tap device, and nothing over the
 * host. It is not in the sandbox's pid namespace, so no process of the
 * run can see, signal or trace it. It is born in the run's cgroup: what
 * it costs counts against the run's limits and shows in its usage, and
 * it dies with the run. The packets it parses are the command's; pasta
 * confines itself further (its own namespaces and seccomp filter).
 *
 * Readiness: pasta writes its pid file once the sandbox's interface,
 * addresses and routes are in place. The pid file is the write end of a
 * pipe whose read end goes to pid 1, which waits for that line (or the
 * pipe's end, when pasta failed) before it starts the command.
 *
 * As in spawn.c, the code between clone3() and execveat() runs in a copy
 * of the daemon: it allocates nothing and logs nothing; a failure _exits
 * and shows as the pipe's end without a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "log.h"

/* Where pasta finds what it is handed (its argv names them). */
#define NETNS_FD 3
#define READY_FD 4

int netstack_open(const char *path, char *why, size_t why_size)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, why_size,
			 "outbound network needs pasta (Debian package "
			 "passt): %s: %s",
			 path, strerror(errno));
		return -1;
	}
	/* Run with capabilities over every outbound sandbox: like
	 * boxd-init, only root may be able to change it. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, why_size,
			 "outbound network needs pasta, and %s is not a "
			 "regular file owned and writable only by root",
			 path);
		close(fd);
		return -1;
	}
	/* pasta opens the tap device as the run's uid: where the node is
	 * there, it must be everyone's (udev's rule on Debian makes it
	 * 0666). A missing node is the tun module not loaded yet. */
	if (stat("/dev/net/tun", &st) == 0 &&
	    (st.st_mode & (S_IROTH | S_IWOTH)) != (S_IROTH | S_IWOTH)) {
		snprintf(why, why_size,
			 "outbound network needs /dev/net/tun usable by every "
			 "user (pasta runs as the caller); it has mode %04o",
			 (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

/* The sandbox's ids inside, kept through the switch: the capabilities
 * setns() gave over the sandbox's user namespace become ambient, so the
 * exec of pasta (not a root binary there) keeps them. */
static int become_sandbox_user(const struct sandbox *sb, int last_cap)
{
	if (setns(sb->pidfd, CLONE_NEWUSER) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setresgid(sb->gid, sb->gid, sb->gid) < 0 ||
	    setresuid(sb->uid, sb->uid, sb->uid) < 0)
		return -1;
	return caps_to_ambient(last_cap);
}

static _noreturn_ void child_exec_pasta(const struct sandbox *sb, int netns,
					int ready)
{
	const struct engine *e = sb->e;
	char runas[32];
	char *const argv[] = {
	    (char *)"pasta", (char *)"--foreground", (char *)"--quiet",
	    (char *)"--runas", runas, (char *)"--config-net",
	    /* nothing in, nothing from the sandbox's loopback out */
	    (char *)"--tcp-ports", (char *)"none", (char *)"--udp-ports",
	    (char *)"none", (char *)"--tcp-ns", (char *)"none",
	    (char *)"--udp-ns", (char *)"none", (char *)"--no-map-gw",
	    (char *)"--pid", (char *)"/proc/self/fd/4", (char *)"--netns",
	    (char *)"/proc/self/fd/3", (char *)"--netns-only", NULL};
	char *const envp[] = {NULL};

	/* Default dispositions, as every program expects at start (pasta
	 * refuses to run with SIGPIPE ignored, as the daemon has it). */
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	child_unshield();
	snprintf(runas, sizeof(runas), "%u:%u", sb->uid, sb->gid);
	if (become_sandbox_user(sb, e->last_cap) < 0)
		_exit(127);
	/* 0-1 /dev/null, 2 the daemon's stderr (pasta's errors reach its
	 * log), then the namespace and the pipe; nothing else. Both are
	 * moved above the slots first: either may sit in the other's. */
	netns = fcntl(netns, F_DUPFD, 10);
	ready = fcntl(ready, F_DUPFD, 10);
	if (netns < 0 || ready < 0 || dup2(e->devnull, 0) < 0 ||
	    dup2(e->devnull, 1) < 0 || dup2(netns, NETNS_FD) < 0 ||
	    dup2(ready, READY_FD) < 0 ||
	    syscall(SYS_close_range, READY_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) <
		0)
		_exit(127);
	syscall(SYS_execveat, e->pasta_fd, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

/* The sandbox's network namespace, opened through pid 1 (our child, not
 * reaped yet: its pid cannot name anything else). */
static int open_netns(const struct sandbox *sb)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)sb->pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int netstack_start(struct sandbox *sb, int *ret_ready, struct run_error *err)
{
	struct clone_args args = {0};
	int cgfd = sb->cg ? cgroup_run_clone_fd(sb->cg) : -1;
	int pipefd[2], netns, pidfd = -1, r;
	pid_t pid;

	netstack_stop(sb);
	netns = open_netns(sb);
	if (netns < 0) {
		set_step(err, "outbound network: namespace");
		return negerrno();
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = negerrno();
		close(netns);
		set_step(err, "outbound network: pipe");
		return r;
	}
	/* pasta reopens the write end by its /proc/self/fd path, which
	 * checks the pipe's mode like a file's: open it to everyone (the
	 * daemon's unit has no CAP_CHOWN to give it away). Only processes
	 * that may trace pasta or pid 1 can reach it by that path, and all
	 * it carries is the readiness of a run they could kill anyway. */
	if (fchmod(pipefd[1], 0666) < 0) {
		r = negerrno();
		close(netns);
		close(pipefd[0]);
		close(pipefd[1]);
		set_step(err, "outbound network: pipe");
		return r;
	}
	args.flags = CLONE_PIDFD;
	if (cgfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	pid = sys_clone3(&args);
	if (pid == 0)
		child_exec_pasta(sb, netns, pipefd[1]);
	r = pid < 0 ? negerrno() : 0;
	close(netns);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		set_step(err, "outbound network: clone");
		return r;
	}
	sb->net_pid = pid;
	sb->net_pidfd = pidfd;
	/* v1 has no CLONE_INTO_CGROUP: move it now; it has barely begun
	 * and has not read a packet of the run's yet. */
	if (sb->cg && cgfd < 0 && (r = cgroup_run_attach(sb->cg, pid)) < 0) {
		close(pipefd[0]);
		netstack_stop(sb);
		set_step(err, "outbound network: attach cgroup");
		return r;
	}
	(void)sandbox_watch(sb, pidfd);
	*ret_ready = pipefd[0];
	return 0;
}

void netstack_check(struct sandbox *sb)
{
	siginfo_t si = {0};
	struct rusage ru;

	if (sb->net_pidfd < 0 ||
	    sys_waitid_rusage(sb->net_pidfd, &si, WEXITED | WNOHANG, &ru) < 0 ||
	    si.si_pid == 0)
		return;
	/* Killed with the run's cgroup, or its own end: either way the
	 * sandbox has lost its interface; the command sees the network go
	 * unreachable (or, before it started, pid 1 fails the run). */
	if (!sb->forced && !sb->kill_requested)
		log_warning("run %llu: pasta (outbound network) exited "
			    "(code %d, signal %d%s); %s",
			    (unsigned long long)sb->run_id,
			    si.si_code == CLD_EXITED ? si.si_status : 0,
			    si.si_code == CLD_EXITED ? 0 : si.si_status,
			    si.si_code == CLD_KILLED && si.si_status == SIGKILL
				? ": the run's memory limit?"
				: "",
			    sb->state == SANDBOX_RUNNING
				? "the run goes on without network"
				: "the run cannot start");
	sandbox_unwatch(sb, sb->net_pidfd);
	sb->net_pidfd = safe_close(sb->net_pidfd);
	sb->net_pid = 0;
}

void netstack_stop(struct sandbox *sb)
{
	siginfo_t si;
	struct rusage ru;

	if (sb->net_pidfd < 0)
		return;
	sandbox_unwatch(sb, sb->net_pidfd);
	/* SIGKILL'd, it is gone at once (it never waits on anything of the
	 * sandbox's): waiting here is bounded, and leaves the run's cgroup
	 * empty for its removal. */
	sys_pidfd_send_signal(sb->net_pidfd, SIGKILL);
	sys_waitid_rusage(sb->net_pidfd, &si, WEXITED, &ru);
	sb->net_pidfd = safe_close(sb->net_pidfd);
	sb->net_pid = 0;
}
