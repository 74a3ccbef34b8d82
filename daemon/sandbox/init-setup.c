/*
 * The sandbox's setup, as three ordered lists of named steps:
 *
 *   setup_before_take()   in pid 1 before the take (while a pool member
 *                         idles): the bounding set
 *   setup_sandbox()       in pid 1: filesystem, hostname, network
 *   setup_exec_command()  in the command's process (a fork, or a child
 *                         on pid 1's memory until its execve: it writes
 *                         only its stack), session, limits, ids,
 *                         capabilities, no_new_privs, fds, cwd, seccomp,
 *                         execve
 *
 * pid 1 holds every capability of the sandbox's user namespace (none
 * outside it). The command must hold none when it execs: the bounding set
 * is emptied and the securebits locked so that even uid 0 inside cannot
 * regain them, and no_new_privs stops setuid binaries. Seccomp comes last
 * so the filter never has to allow the setup's own calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdpass.h"
#include "init.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int set_effective_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].effective &= (uint32_t)keep;
	data[1].effective &= (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/*
 * From here on pid 1 touches files as the sandbox user, which the daemon
 * mapped to the caller's host ids: a bind source the caller cannot open is
 * refused. The fs capabilities go too, so nothing overrides permission
 * bits on the way (they would only ever apply to the caller's own files).
 */
int creds_as_user(const struct init_spec *s)
{
	const uint64_t fs_caps = (1ULL << CAP_DAC_OVERRIDE) |
				 (1ULL << CAP_DAC_READ_SEARCH) |
				 (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID);
	int r = set_effective_caps(~fs_caps);

	if (r < 0)
		return init_fail("drop fs capabilities", NULL, r);
	setfsgid(s->gid);
	setfsuid(s->uid);
	if ((uid_t)setfsuid((uid_t)-1) != s->uid ||
	    (gid_t)setfsgid((gid_t)-1) != s->gid)
		return init_fail("set fs ids", NULL, EPERM);
	return 0;
}

/*
 * For the covers of hidden paths (and the making of overlays, whose
 * layers overlayfs resolves as pid 1, through its own /proc/self/fd, a
 * directory only the task's owner may search): pid 1 must find every
 * place the
 * command could reach, including through a directory of the sandbox
 * user's that is mode 0000 now but which the command, owning it, could
 * chmod. The capabilities it gets back only override permissions on
 * files whose owner is mapped into the sandbox (the caller's), never on
 * the host's other files; the fs ids stay the sandbox user's.
 */
int creds_with_fs_caps(void)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return init_fail("hide", "capabilities", errno);
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return init_fail("hide", "capabilities", errno);
	return 0;
}

static int set_hostname(const struct init_spec *s)
{
	if (sethostname(s->hostname, strlen(s->hostname)) < 0)
		return init_fail("sethostname", s->hostname, errno);
	return 0;
}

static int bring_up_loopback(const struct init_spec *s)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int fd = -1;

	if (!(s->flags & (INIT_FLAG_NET_LOOPBACK | INIT_FLAG_NET_OUTBOUND)))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return init_fail("loopback", NULL, errno);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return init_fail("loopback", "lo", errno);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return init_fail("loopback", "lo", errno);
	return 0;
}

/*
 * An outbound sandbox's network is pasta's to configure (netstack.c): the
 * command starts once pasta has written its pid file, our end of a pipe,
 * after the interface, addresses and routes are in place. The pipe's end
 * without a line is pasta's failure (its reason is in the daemon's log);
 * silence for NET_READY_MS is a helper that hangs. Either fails the run
 * rather than start a command whose network is not there.
 */
#define NET_READY_MS 10000

static int wait_for_network(struct init_spec *s)
{
	struct pollfd p = {.fd = s->net_ready, .events = POLLIN};
	char line[32];
	ssize_t n;
	int r;

	if (!(s->flags & INIT_FLAG_NET_OUTBOUND)) {
		s->net_ready = safe_close(s->net_ready);
		return 0;
	}
	if (s->net_ready < 0)
		return init_fail("outbound network", "no helper", EPROTO);
	do
		r = poll(&p, 1, NET_READY_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return init_fail("outbound network",
				 "pasta did not configure the network in time",
				 ETIMEDOUT);
	n = r < 0 ? -1 : read(s->net_ready, line, sizeof(line));
	s->net_ready = safe_close(s->net_ready);
	if (n <= 0)
		return init_fail("outbound network",
				 "pasta exited before configuring the network "
				 "(see the daemon's log)",
				 n < 0 ? errno : EHOSTUNREACH);
	return 0;
}

/* A pooled pid 1 was born in the pool's cgroup and moved into its run's
 * since; root the cgroup namespace where it is now, so the sandbox sees
 * "/" as its own cgroup and nothing of the daemon's layout. */
static int reroot_cgroup_ns(void)
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		return init_fail("cgroup namespace", NULL, errno);
	return 0;
}

/* The default profile's tree, built before the take (init-prebuilt.c):
 * only the caller's part is left, as the caller. */
static int setup_prebuilt(struct init_spec *s)
{
	int r;

	if ((r = reroot_cgroup_ns()) < 0 || (r = creds_as_user(s)) < 0 ||
	    (r = prebuilt_enter(s)) < 0 || (r = set_hostname(s)) < 0 ||
	    (r = bring_up_loopback(s)) < 0 || (r = wait_for_network(s)) < 0)
		return r;
	return 0;
}

int setup_sandbox(struct init_spec *s, bool prebuilt)
{
	int r;

	if (prebuilt)
		return setup_prebuilt(s);
	prebuilt_drop();
	if ((r = reroot_cgroup_ns()) < 0 ||
	    (r = mounts_begin(s)) < 0 ||      /* private propagation */
	    (r = hide_begin(s)) < 0 ||        /* find hidden host paths */
	    (r = creds_as_user(s)) < 0 ||     /* caller's rights from here */
	    (r = mounts_prepare(s)) < 0 ||    /* open every source */
	    (r = mounts_enter_root(s)) < 0 || /* tmpfs root, pivot_root */
	    (r = mounts_apply(s)) < 0 ||      /* the ordered operations */
	    (r = creds_with_fs_caps()) < 0 || /* see the user's files whole */
	    (r = hide_apply(s)) < 0 ||        /* cover hidden objects */
	    (r = stage_done()) < 0 ||         /* no staging point left */
	    (r = creds_as_user(s)) < 0 ||     /* and back */
	    (r = mounts_finish(s)) < 0 ||     /* root read-only */
	    (r = set_hostname(s)) < 0 || (r = bring_up_loopback(s)) < 0 ||
	    (r = wait_for_network(s)) < 0)
		return r;
	return 0;
}

/* ---- the command's side: after fork, before execve ---- */

static _noreturn_ void cmd_fail(int errfd, const char *step, const char *detail,
				int err)
{
	struct init_report rep = {
	    .magic = INIT_MAGIC,
	    .kind = INIT_FAILED,
	    .err = err,
	    .seccomp_nr = -1,
	};

	snprintf(rep.step, sizeof(rep.step), "%s", step);
	snprintf(rep.detail, sizeof(rep.detail), "%s", detail ? detail : "");
	(void)!write(errfd, &rep, sizeof(rep));
	_exit(127);
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {{0}};

	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/*
 * What pid 1 knows of its own process before any caller is involved, so
 * that the command's process does not ask the kernel on the run's path:
 * the highest capability this kernel has, and the signals pid 1 inherited
 * as ignored. Learned once by the spawner (its members are copies of its
 * memory and of its signal dispositions) or by a pid 1 started on its
 * own; read-only after that.
 */
static struct {
	bool learned;
	int last_cap;
	sigset_t ignored;
} inherited;

void setup_learn_process(void)
{
	struct sigaction sa;

	if (inherited.learned)
		return;
	inherited.last_cap = -1;
	while (prctl(PR_CAPBSET_READ, inherited.last_cap + 1, 0, 0, 0) >= 0)
		inherited.last_cap++;
	sigemptyset(&inherited.ignored);
	for (int sig = 1; sig < _NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(&inherited.ignored, sig);
	inherited.learned = true;
}

/*
 * The bounding set only limits what an execve grants, and pid 1 execs
 * nothing: emptying it here, before the take, costs pid 1 no capability
 * it uses (its own permitted and effective sets are untouched) and every
 * process of the sandbox inherits the empty set. A fresh user namespace
 * starts with a full one, so this is the member's own step, never the
 * spawner's. pid 1 never changes a signal disposition after this (its
 * signals come through a signalfd), so the ignored set stays true.
 */
int setup_before_take(void)
{
	setup_learn_process();
	for (int cap = 0; cap <= inherited.last_cap; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return init_fail("drop capabilities", "bounding set",
					 errno);
	return 0;
}

/* Lock the securebits: uid 0 in the sandbox gets no capabilities back
 * on execve (the bounding set is already empty: setup_before_take()),
 * and nothing can undo that. */
static int lock_down_capabilities(void)
{
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		      SECBIT_NO_CAP_AMBIENT_RAISE |
		      SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);

	for (char **e = env; *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* execvpe() semantics with the sandbox's own PATH, without allocating:
 * EACCES wins over ENOENT so "found but not executable" is reported. */
static int exec_command(struct init_spec *s)
{
	const char *path, *p;
	char buf[4096];
	int err = ENOENT;

	if (strchr(s->argv[0], '/')) {
		execve(s->argv[0], s->argv, s->env);
		return errno;
	}
	path = env_get(s->env, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);

		if (dlen + strlen(s->argv[0]) + 2 < sizeof(buf)) {
			memcpy(buf, p, dlen);
			if (dlen == 0)
				buf[dlen++] = '.';
			buf[dlen] = '/';
			strcpy(buf + dlen + 1, s->argv[0]);
			execve(buf, s->argv, s->env);
			if (errno == EACCES || errno == ENOEXEC ||
			    errno == EPERM)
				err = errno;
			else if (errno != ENOENT && errno != ENOTDIR &&
				 err == ENOENT)
				err = errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return err;
}

static int load_seccomp(const struct init_spec *s, int listener_sock)
{
	struct sock_fprog prog = {
	    .len =
		(unsigned short)(s->seccomp_len / sizeof(struct sock_filter)),
	    .filter = (struct sock_filter *)s->seccomp,
	};
	unsigned int flags = 0;
	int fd;

	if (!s->seccomp)
		return 0;
	/* The pair is also there for no-exec's filter: the kill rules'
	 * listener only when the daemon said there is one (the daemon
	 * never asks for both, the kernel allows one listener). */
	if (!(s->flags & INIT_FLAG_SECCOMP_LISTENER))
		listener_sock = -1;
	if (listener_sock >= 0)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd < 0)
		return -errno;
	/*
	 * Hand the listener to pid 1; our copy goes at exec (close-on-exec):
	 * the command must never hold the fd that answers its own system
	 * calls. The pair is pid 1's and this process's only, made after
	 * fork.
	 */
	if (listener_sock >= 0) {
		char byte = 0;
		struct iovec iov = {.iov_base = &byte, .iov_len = 1};
		ssize_t n = fdpass_send(listener_sock, &iov, 1, &fd, 1);

		/* sendmsg is the only call between the filter and execve,
		 * besides a failure report. The listener is close-on-exec:
		 * the command never holds it, and no close() is needed. */
		if (n != 1)
			return n < 0 ? (int)n : -EIO;
	}
	return 0;
}

/*
 * An ignored signal stays ignored across execve: whatever the daemon or
 * whoever started it ignored (the daemon ignores SIGPIPE; a script that
 * started it may have ignored SIGINT, SIGQUIT or SIGTSTP) would reach the
 * command, so `yes | head` would see EPIPE instead of dying, and in a tty
 * run ^C, ^\ or ^Z would do nothing (an interactive shell may not undo
 * what it found ignored). Every command starts from the defaults, as a
 * login would: nothing of the daemon's signal state reaches a sandbox.
 * A caught signal needs nothing (execve resets it); the ignored ones are
 * those setup_learn_process() found.
 */
static void reset_signal_dispositions(void)
{
	for (int sig = 1; sig < _NSIG; sig++)
		if (sigismember(&inherited.ignored, sig) == 1)
			(void)signal(sig, SIG_DFL);
}

void setup_exec_command(struct init_spec *s, int errfd, int listener_sock)
{
	char cwd[4096];
	sigset_t none;
	int r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	reset_signal_dispositions();

	/* A tty run's command always leads a session of its own: that is
	 * what lets it take the pty as its controlling terminal below. */
	if ((s->flags & (INIT_FLAG_NEW_SESSION | INIT_FLAG_TTY)) &&
	    setsid() < 0)
		cmd_fail(errfd, "setsid", NULL, errno);

	for (int i = 0; i < _SPEC_RLIMIT_MAX; i++) {
		const struct spec_rlimit_info *info = spec_rlimit_info(i);
		struct rlimit rl = {
		    .rlim_cur = s->rlimits[i].soft,
		    .rlim_max = s->rlimits[i].hard,
		};

		if (s->rlimit_set[i] && setrlimit(info->resource, &rl) < 0)
			cmd_fail(errfd, "setrlimit", info->name, errno);
	}

	r = lock_down_capabilities();
	if (r < 0)
		cmd_fail(errfd, "drop capabilities", NULL, -r);
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		cmd_fail(errfd, "setgid", NULL, errno);
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		cmd_fail(errfd, "setuid", NULL, errno);
	r = drop_capabilities();
	if (r < 0)
		cmd_fail(errfd, "drop capabilities", NULL, -r);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		cmd_fail(errfd, "no_new_privs", NULL, errno);

	/* Exactly the caller's stdio on 0-2; everything else closes at
	 * execve (the error pipe stays usable until then). */
	for (int i = 0; i < 3; i++)
		if (dup2(s->stdio[i], i) < 0)
			cmd_fail(errfd, "stdio", NULL, errno);
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		cmd_fail(errfd, "close fds", NULL, errno);
	/* The pty becomes the session's controlling terminal and the
	 * command's process group its foreground group: ^C, ^Z and ^\
	 * typed by the caller reach whatever runs in the foreground, and
	 * job control works. The caller's own terminal never gets here. */
	if ((s->flags & INIT_FLAG_TTY) && ioctl(0, TIOCSCTTY, 0) < 0)
		cmd_fail(errfd, "controlling terminal", NULL, errno);

	/* As the sandbox user: a cwd it may not enter is refused. The root
	 * was pivoted and the old one detached, so no path leads outside;
	 * getcwd() proves it ("(unreachable)" would mean otherwise). */
	if (chdir(s->cwd) < 0)
		cmd_fail(errfd, "chdir", s->cwd, errno);
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		cmd_fail(errfd, "chdir", s->cwd, EACCES);

	r = load_seccomp(s, listener_sock);
	if (r < 0)
		cmd_fail(errfd, "seccomp", NULL, -r);
	/* Last of all: from here every execve but this one is pid 1's to
	 * refuse. */
	if ((s->flags & INIT_FLAG_NO_EXEC) &&
	    (r = noexec_load(listener_sock)) < 0)
		cmd_fail(errfd, "no-exec filter", NULL, -r);

	r = exec_command(s);
	cmd_fail(errfd, "execve", s->argv[0], r);
}
