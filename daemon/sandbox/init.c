/*
 * boxd-init: pid 1 of every sandbox.
 *
 * Life: say READY, wait for the daemon's spec and the caller's stdio,
 * build the sandbox (init-setup.c), fork the command, report STARTED or
 * the failed step, then reap every process until the command ends,
 * forwarding SIGTERM/SIGINT/SIGHUP to it, and report its status and
 * rusage. When pid 1 exits the kernel kills everything left in the pid
 * namespace, so the command's orphans never outlive it.
 *
 * A tty run's stdio is a pseudo-terminal made here, in the sandbox's own
 * devpts (init-mounts.c): the command gets its slave side, and the master
 * goes to the daemon with STARTED, for the caller; pid 1 keeps neither.
 *
 * If the daemon goes away (control socket EOF), pid 1 exits at once and
 * takes the sandbox with it. Never logs: it has no stderr worth writing to.
 *
 * Started with SPAWNER_ARG it is the pool's spawner instead
 * (init-spawner.c), whose clones continue here, in init_member_main().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "init.h"
#include "util.h"

struct init_failure init_failure;

int init_fail(const char *step, const char *detail, int err)
{
	if (err < 0)
		err = -err;
	if (!err)
		err = EIO;
	init_failure.step = step;
	init_failure.err = err;
	snprintf(init_failure.detail, sizeof(init_failure.detail), "%s",
		 detail ? detail : "");
	return -err;
}

static void report(uint32_t kind, const struct init_report *extra)
{
	struct init_report rep = {0};

	if (extra)
		rep = *extra;
	rep.magic = INIT_MAGIC;
	rep.kind = kind;
	/* Best effort: a daemon that stopped listening learns nothing. */
	(void)!send(INIT_CTL_FD, &rep, sizeof(rep), MSG_NOSIGNAL);
}

/* INIT_STARTED, with the pty master of a tty run (-1: none). */
static void report_started(pid_t cmd, int tty_master)
{
	struct init_report rep = {
	    .magic = INIT_MAGIC,
	    .kind = INIT_STARTED,
	    .cmd_pid = cmd,
	    .seccomp_nr = -1,
	};
	struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};

	(void)fdpass_send(INIT_CTL_FD, &iov, 1, &tty_master,
			  tty_master >= 0 ? 1 : 0);
}

/*
 * A tty run: the command's 0, 1 and 2 become the pty's slave side
 * (replacing the /dev/null the daemon sent), got from the master with
 * TIOCGPTPEER rather than by a path, so it is the very terminal whose
 * master the caller will hold. O_NOCTTY: pid 1 must not take it as its
 * own controlling terminal; the command does, as a session leader.
 */
static int tty_stdio(struct init_spec *s)
{
	_cleanup_close_ int slave = -1;

	if (!(s->flags & INIT_FLAG_TTY))
		return 0;
	slave =
	    ioctl(s->tty_master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return init_fail("tty", "slave", errno);
	for (int i = 0; i < 3; i++) {
		safe_close(s->stdio[i]);
		s->stdio[i] = fcntl(slave, F_DUPFD_CLOEXEC, 3);
		if (s->stdio[i] < 0)
			return init_fail("tty", "slave", errno);
	}
	return 0;
}

struct command_start {
	struct init_spec *spec;
	int errfd, listener_sock;
};

static int command_main(void *arg)
{
	const struct command_start *c = arg;

	setup_exec_command(c->spec, c->errfd, c->listener_sock);
	return 127; /* not reached: it execs or reports and exits */
}

/* Stack of a command started by borrowing pid 1's memory. */
#define COMMAND_STACK_SIZE (256 * 1024)
/* How much of it, from the top, setup_exec_command() reaches (its
 * frames and two path buffers), and how much heap the spec's parse
 * takes, with room to spare: what warm_up() faults in. */
#define COMMAND_STACK_WARM (12 * 1024)
#define HEAP_WARM (8 * 1024)

/* A pool member's, mapped before its take; NULL: map one per start. */
static void *command_stack;

/*
 * A page pid 1 first touches after the take faults there, on the run's
 * path, and a page fault is not cheap everywhere (tens of microseconds
 * on a virtual machine whose guest page tables the hypervisor shadows).
 * A pool member touches now, while nobody waits, what it would otherwise
 * touch first after its take: the top of the command's stack and the
 * heap that the spec's arrays come from (freed again: the allocator
 * keeps it). Without warm pages nothing breaks; they are only slower.
 */
static void warm_up(void)
{
	void *heap = malloc(HEAP_WARM);

	if (heap) {
		explicit_bzero(heap, HEAP_WARM);
		free(heap);
	}
	command_stack = mmap(NULL, COMMAND_STACK_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (command_stack == MAP_FAILED)
		command_stack = NULL;
	else
		explicit_bzero((char *)command_stack + COMMAND_STACK_SIZE -
				   COMMAND_STACK_WARM,
			       COMMAND_STACK_WARM);
}

/*
 * The command's process; its pid, or -errno. A fork copies pid 1's
 * address space only for the command to drop it at execve a moment
 * later. Unless pid 1 has to answer the command before that execve (a
 * kill rule's or no-exec's filter traps it into pid 1's listener), the
 * child borrows pid 1's memory instead, as posix_spawn does:
 * CLONE_VM | CLONE_VFORK, and pid 1 sleeps until the child has exec'd or
 * exited. This is safe because the child runs only setup_exec_command(),
 * which writes no memory of pid 1's but its own stack (a mapping used for nothing else)
 * and errno; its fds, signal dispositions and mask, credentials and
 * seccomp filter are its own (no CLONE_FILES or CLONE_SIGHAND, no filter
 * sync); and after execve the command has an address space of its own:
 * nothing of the caller's runs in pid 1's memory.
 */
static pid_t start_command(struct init_spec *spec, const int errpipe[2],
			   const int lsock[2])
{
	struct command_start c = {
	    .spec = spec, .errfd = errpipe[1], .listener_sock = lsock[1]};
	void *stack;
	pid_t pid;

	if (lsock[0] < 0) {
		/* A warm stack stays: pid 1 starts one command. */
		stack = command_stack;
		if (!stack)
			stack = mmap(
			    NULL, COMMAND_STACK_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED)
			return -errno;
		pid = clone(command_main, (char *)stack + COMMAND_STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
		pid = pid < 0 ? -errno : pid;
		if (stack != command_stack)
			munmap(stack, COMMAND_STACK_SIZE);
		return pid;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(errpipe[0]);
		close(lsock[0]);
		setup_exec_command(spec, errpipe[1], lsock[1]);
	}
	return pid;
}

static _noreturn_ void report_failure_and_exit(void)
{
	struct init_report rep = {.err = init_failure.err, .seccomp_nr = -1};

	snprintf(rep.step, sizeof(rep.step), "%s",
		 init_failure.step ? init_failure.step : "setup");
	snprintf(rep.detail, sizeof(rep.detail), "%s", init_failure.detail);
	report(INIT_FAILED, &rep);
	_exit(1);
}

/*
 * Receive the take header and its four fds: the spec memfd, then the
 * caller's stdin, stdout and stderr; an outbound run's has a fifth, the
 * pipe its network helper writes to when it is ready (*ret_net_ready,
 * else -1; setup_sandbox() checks it against the spec). The socket is the daemon's end of a
 * pair it made for this pid 1, so the message is the daemon's; it is
 * still checked whole, and a wrong one leaves no fd open: fdpass_recv()
 * closes what came with a refused control message, and a message of the
 * wrong shape has its fds closed here before the failure is reported.
 */
static int receive_take(int *ret_memfd, size_t *ret_size, int stdio[3],
			int *ret_net_ready, uint32_t *ret_flags)
{
	struct init_take take;
	int fds[5];
	size_t n_fds = 0;
	ssize_t n;

	n = fdpass_recv(INIT_CTL_FD, &take, sizeof(take), ELEMENTSOF(fds), fds,
			&n_fds);
	if (n == 0 && n_fds == 0)
		_exit(0); /* the daemon let go of an idle member */
	if (n < 0 && n != -EPROTO && n != -ETOOMANYREFS)
		return init_fail("receive spec", NULL, (int)n);
	if (n != (ssize_t)sizeof(take) || take.magic != INIT_MAGIC ||
	    take.kind != INIT_TAKE || n_fds < 4) {
		for (size_t i = 0; i < n_fds; i++)
			safe_close(fds[i]);
		return init_fail("receive spec", "malformed take message",
				 EBADMSG);
	}
	*ret_memfd = fds[0];
	*ret_size = take.spec_size;
	memcpy(stdio, fds + 1, sizeof(int) * 3);
	*ret_net_ready = n_fds == 5 ? fds[4] : -1;
	*ret_flags = take.flags;
	return 0;
}

static uint64_t tv_ns(const struct timeval *tv);

struct supervise {
	pid_t cmd;
	int listener;
	bool no_exec; /* the listener is no-exec's, not kill rules' */
	uint32_t execs_refused;
	int exec_pipe; /* until the command's exec: its error pipe */
	int seccomp_nr;
	uint32_t seccomp_arch;
	pid_t seccomp_pid;
};

static void on_seccomp_notification(struct supervise *sv);

/*
 * pid 1's end of a SEQPACKET pair shared with the command alone, which
 * sends on it before it runs any code of the caller's: one byte and the
 * notification fd, or nothing (it failed before loading its filter, and
 * says so on the error pipe). Anything else is dropped, its fds closed,
 * and the run goes on without a listener.
 */
static void receive_listener(int listener_sock, int *ret_listener)
{
	size_t n_fds = 0;
	int fd = -1;
	char byte;
	ssize_t n = fdpass_recv(listener_sock, &byte, 1, 1, &fd, &n_fds);

	if (n == 1 && n_fds == 1)
		*ret_listener = fd;
	else if (n >= 0 && n_fds == 1)
		safe_close(fd);
}

/*
 * A command with a listener was forked: until the pipe is readable, its
 * filter is loaded and its kill rules may already fire on its own last
 * steps (execve itself, or the write of a failure report). Those
 * notifications are answered here, or the command would wait on them
 * forever while pid 1 waits on it. 0 once the pipe is readable, or
 * -errno.
 */
static int await_exec_pipe(int errfd, struct supervise *sv)
{
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = errfd, .events = POLLIN},
		    {.fd = sv->listener, .events = POLLIN},
		};

		if (poll(pfd, sv->listener >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return init_fail("start command", NULL, errno);
		}
		if (sv->listener >= 0 && (pfd[1].revents & POLLIN))
			on_seccomp_notification(sv);
		if (pfd[0].revents)
			return 0;
	}
}

/*
 * Learn how the command's start ended: EOF on its CLOEXEC error pipe
 * means it exec'd, a report means a step failed. Returns 1 if the
 * command was exec'd, 0 if a kill rule stopped it first (the caller
 * reaps it and reports the call), -errno if a step failed (init_failure
 * says which).
 *
 * A command without a listener was started on pid 1's memory, and
 * clone() came back only once it had exited or its execve had dropped
 * that memory, which the kernel does after the point where an exec can
 * still fail and return. A failure report is written before the exit,
 * so it is in the pipe by now; if none is (EAGAIN: the pipe is
 * non-blocking, and its write end may close a moment later, with the
 * exec), the exec went through: a fault still to come kills the
 * command, and the reap reports that. So pid 1 reads at once instead of
 * sleeping until the pipe's end closes.
 */
static int wait_exec(int errfd, int listener_sock, struct supervise *sv)
{
	struct init_report rep;
	ssize_t n;
	int r;

	sv->exec_pipe = errfd;
	if (listener_sock >= 0) {
		receive_listener(listener_sock, &sv->listener);
		r = await_exec_pipe(errfd, sv);
		if (r < 0)
			return r;
	}
	sv->exec_pipe = -1;
	do
		n = read(errfd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno == EAGAIN && listener_sock < 0))
		return sv->seccomp_nr >= 0 ? 0 : 1;
	if (n != sizeof(rep))
		return init_fail("start command", NULL, EPROTO);
	rep.step[sizeof(rep.step) - 1] = 0;
	rep.detail[sizeof(rep.detail) - 1] = 0;
	init_failure.err = rep.err;
	init_failure.step = strdup(rep.step);
	memcpy(init_failure.detail, rep.detail, sizeof(init_failure.detail));
	return -rep.err;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ULL +
	       (uint64_t)tv->tv_usec * 1000ULL;
}

/* A filter rule said "kill": record which call, kill the caller. Under
 * no-exec the listener is that filter's instead: init-noexec.c answers. */
static void on_seccomp_notification(struct supervise *sv)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	if (sv->no_exec) {
		sv->execs_refused += (uint32_t)noexec_answer(
		    sv->listener, sv->cmd, sv->exec_pipe);
		return;
	}

	memset(&req, 0, sizeof(req));
	if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return;
	if (sv->seccomp_nr < 0) {
		sv->seccomp_nr = req.data.nr;
		sv->seccomp_arch = req.data.arch;
		sv->seccomp_pid = (pid_t)req.pid;
	}
	kill((pid_t)req.pid, SIGKILL);
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -EPERM;
	ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* Reap everything that ended; 1 once the command itself is gone. */
static int reap(struct supervise *sv)
{
	for (;;) {
		struct rusage ru;
		int status;
		pid_t pid = wait4(-1, &status, WNOHANG, &ru);

		if (pid <= 0)
			return 0;
		if (pid != sv->cmd)
			continue;
		struct init_report rep = {
		    .status = status,
		    .cmd_pid = pid,
		    .seccomp_nr = sv->seccomp_nr,
		    .seccomp_arch = sv->seccomp_arch,
		    .execs_refused = sv->execs_refused,
		    .utime_ns = tv_ns(&ru.ru_utime),
		    .stime_ns = tv_ns(&ru.ru_stime),
		    .maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024,
		};
		/* Killed for a seccomp kill rule: say so the usual way. */
		if (sv->seccomp_nr >= 0 && sv->seccomp_pid == pid &&
		    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			rep.status = SIGSYS;
		report(INIT_EXITED, &rep);
		return 1;
	}
}

static _noreturn_ void supervise(struct supervise *sv, int sigfd)
{
	struct pollfd pfd[3] = {
	    {.fd = INIT_CTL_FD, .events = POLLIN},
	    {.fd = sigfd, .events = POLLIN},
	    {.fd = sv->listener, .events = POLLIN},
	};

	for (;;) {
		if (poll(pfd, sv->listener >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[0].revents) {
			char buf[64];
			ssize_t n =
			    recv(INIT_CTL_FD, buf, sizeof(buf), MSG_DONTWAIT);

			/* The daemon sends nothing more; readable means it
			 * is gone. */
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				_exit(1);
		}
		if (sv->listener >= 0 && pfd[2].revents) {
			if (pfd[2].revents & (POLLHUP | POLLERR))
				pfd[2].fd = -1;
			else
				on_seccomp_notification(sv);
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					continue;
				kill(sv->cmd, (int)si.ssi_signo);
			}
			if (reap(sv))
				_exit(0);
		}
	}
}

_noreturn_ void init_member_main(bool pooled)
{
	struct init_spec spec = {
	    .stdio = {-1, -1, -1}, .net_ready = -1, .tty_master = -1};
	struct supervise sv = {
	    .listener = -1, .seccomp_nr = -1, .exec_pipe = -1};
	struct init_report ready = {0};
	uint32_t take_flags = 0;
	int memfd = -1, sigfd, errpipe[2], lsock[2] = {-1, -1};
	size_t size = 0;
	sigset_t mask;
	void *blob;
	pid_t pid;
	int r;

	/* Die with the daemon even if the socket EOF is missed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setsid();

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		init_fail("signalfd", NULL, errno);
		report_failure_and_exit();
	}

	if (setup_before_take() < 0)
		report_failure_and_exit();
	if (pooled)
		warm_up();
	/* A spawner's member with a plan: build what does not depend on
	 * the caller now, while nobody waits. */
	if (init_plan && prebuilt_build(init_plan) == 0)
		ready.ready_flags |= INIT_READY_PREBUILT;
	report(INIT_READY, &ready);
	if (receive_take(&memfd, &size, spec.stdio, &spec.net_ready,
			 &take_flags) < 0)
		report_failure_and_exit();
	if ((take_flags & INIT_TAKE_PREBUILT) &&
	    !(ready.ready_flags & INIT_READY_PREBUILT)) {
		init_fail("receive spec", "no prebuilt root here", EPROTO);
		report_failure_and_exit();
	}
	/* Mapped with its pages: a fault on the first read would cost what
	 * warm_up() saves. */
	blob = mmap(NULL, size ? size : 1, PROT_READ,
		    MAP_PRIVATE | MAP_POPULATE, memfd, 0);
	if (blob == MAP_FAILED) {
		init_fail("map spec", NULL, errno);
		report_failure_and_exit();
	}
	close(memfd);
	r = init_blob_parse(blob, size, &spec);
	if (r < 0) {
		init_fail("parse spec", NULL, r);
		report_failure_and_exit();
	}

	if (setup_sandbox(&spec, take_flags & INIT_TAKE_PREBUILT) < 0 ||
	    tty_stdio(&spec) < 0)
		report_failure_and_exit();

	/* Non-blocking for wait_exec(); a report fits the empty pipe
	 * whole, so the command's one write never meets EAGAIN. */
	if (pipe2(errpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		init_fail("pipe", NULL, errno);
		report_failure_and_exit();
	}
	sv.no_exec = spec.flags & INIT_FLAG_NO_EXEC;
	if ((spec.flags & (INIT_FLAG_SECCOMP_LISTENER | INIT_FLAG_NO_EXEC)) &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lsock) < 0) {
		init_fail("socketpair", NULL, errno);
		report_failure_and_exit();
	}

	pid = start_command(&spec, errpipe, lsock);
	if (pid < 0) {
		init_fail("fork", NULL, -pid);
		report_failure_and_exit();
	}
	sv.cmd = pid;
	close(errpipe[1]);
	safe_close(lsock[1]);
	/* The command holds the caller's stdio now; pid 1 must not keep a
	 * pipe's write end open past the command's exit. */
	for (int i = 0; i < 3; i++)
		spec.stdio[i] = safe_close(spec.stdio[i]);

	r = wait_exec(errpipe[0], lsock[0], &sv);
	if (r < 0) {
		int status;

		waitpid(pid, &status, 0);
		report_failure_and_exit();
	}
	close(errpipe[0]);
	safe_close(lsock[0]);
	/* r == 0: a kill rule stopped the command before its exec; the reap
	 * below reports how it ended, and the call. */
	if (r > 0)
		report_started(pid, spec.tty_master);
	/* The daemon holds the master now (or the run is over): pid 1
	 * keeps no end of the terminal, so the caller closing its master
	 * hangs the terminal up. */
	spec.tty_master = safe_close(spec.tty_master);

	/* The command may already be gone. */
	if (reap(&sv))
		_exit(0);
	supervise(&sv, sigfd);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], SPAWNER_ARG) == 0)
		spawner_main(argv[1]);
	init_member_main(false);
}
