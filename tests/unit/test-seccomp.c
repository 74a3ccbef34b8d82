/*
 * Tests for daemon/sandbox/seccomp.c. Programs are installed the way the
 * sandbox does it (no_new_privs, then the raw seccomp(2) call) in a forked
 * child, never in the test process. Denied calls are made with arguments
 * that fail harmlessly when unfiltered (bad pointers, bad flags, bad
 * magic), and every probe also runs in an unfiltered child: a probe only
 * proves something if the unfiltered answer differs from the filtered one.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "hostabi.h"
#include "seccomp.h"
#include "util.h"

#define X32_BIT 0x40000000L
#define NR_OPEN_TREE_ATTR 467
/* QCMD() overflows an int for Q_GETINFO. */
#define QUOTA_GETINFO ((long)(((unsigned)Q_GETINFO << SUBCMDSHIFT) | USRQUOTA))

/* ------------------------------------------------------------ harness */

/* Fork; the child installs prog (NULL: nothing) with flags, runs body with
 * the write end of a pipe, exits 0. Returns the wait status; out gets what
 * the child wrote, NUL-terminated. */
static int run_child(const struct seccomp_prog *prog, unsigned flags,
		     void (*body)(int out, int listener), char *out,
		     size_t out_len)
{
	int pfd[2], status;
	size_t got = 0;
	pid_t pid;

	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int listener = -1;

		close(pfd[0]);
		/* No controlling terminal: vhangup probes stay harmless. */
		setsid();
		if (prog) {
			size_t len;
			const void *insns = seccomp_prog_insns(prog, &len);
			struct sock_fprog fp = {
			    .len = (unsigned short)(len /
						    sizeof(struct sock_filter)),
			    .filter = (struct sock_filter *)insns,
			};

			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				_exit(100);
			listener = (int)syscall(
			    SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
			if (listener < 0)
				_exit(101);
		}
		body(pfd[1], listener);
		/* Straight to the kernel: a narrow allow list may not
		 * cover what libc or a sanitizer runtime does at exit. */
		syscall(SYS_exit_group, 0);
		_exit(0);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], out + got, out_len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == out_len - 1)
			break;
	}
	out[got] = '\0';
	close(pfd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!WIFEXITED(status) || WEXITSTATUS(status) < 100,
		  "installing the filter failed (exit %d)",
		  WEXITSTATUS(status));
	return status;
}

/* Child side: report a failed expectation as one line. */
static void report(int out, const char *fmt, ...) _printf_(2, 3);
static void report(int out, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(out, line, (size_t)n);
}

static void check_errno(int out, const char *what, long r, int err, int want)
{
	if (r != -1 || err != want)
		report(out, "%s: got %ld (%s), want -1 (%s)", what, r,
		       r == -1 ? strerrorname_np(err) : "-",
		       strerrorname_np(want));
}

static void check_ok(int out, const char *what, long r, int err)
{
	if (r < 0)
		report(out, "%s: failed with %s", what, strerrorname_np(err));
}

#define EXPECT_ERRNO(out, want, expr)                  \
	do {                                           \
		long r_;                               \
		int e_;                                \
		errno = 0;                             \
		r_ = (long)(expr);                     \
		e_ = errno;                            \
		check_errno(out, #expr, r_, e_, want); \
	} while (0)

#define EXPECT_OK(out, expr)                  \
	do {                                  \
		long r_;                      \
		int e_;                       \
		errno = 0;                    \
		r_ = (long)(expr);            \
		e_ = errno;                   \
		check_ok(out, #expr, r_, e_); \
	} while (0)

static struct seccomp_prog *default_prog(void)
{
	struct seccomp_prog *p = NULL;

	cr_assert_eq(seccomp_default(SECCOMP_NET_OWN, &p), 0);
	cr_assert_not_null(p);
	return p;
}

static struct seccomp_prog *policy(const char *text)
{
	struct seccomp_prog *p = NULL;
	struct error_detail err = {0};
	int r = seccomp_compile_policy(text, strlen(text), SECCOMP_NET_OWN,
				       &err, &p);

	cr_assert_eq(r, 0, "policy rejected: %s (%s)", err.message,
		     strerror(-r));
	return p;
}

/* -------------------------------------------------- the built-in filter */

/* Each denied call with arguments that make it fail without side effects
 * when it is not filtered. The mount family gets bad pointers (EFAULT),
 * the rest bad fds, commands or flags. */
#define BAD ((long)1) /* an unmapped address */
#define DENIED_PROBES(X)                                                      \
	X(add_key, EPERM, SYS_add_key, BAD, BAD, 0L, 0L, 0L)                  \
	X(keyctl, EPERM, SYS_keyctl, 9999L, 0L, 0L, 0L, 0L)                   \
	X(request_key, EPERM, SYS_request_key, BAD, BAD, BAD, 0L)             \
	X(bpf, EPERM, SYS_bpf, 9999L, 0L, 0L)                                 \
	X(perf_event_open, EPERM, SYS_perf_event_open, BAD, 0L, -1L, -1L, 0L) \
	X(userfaultfd, EPERM, SYS_userfaultfd, -1L)                           \
	X(init_module, EPERM, SYS_init_module, BAD, 1L, BAD)                  \
	X(finit_module, EPERM, SYS_finit_module, -1L, BAD, 0L)                \
	X(delete_module, EPERM, SYS_delete_module, BAD, 0L)                   \
	X(kexec_load, EPERM, SYS_kexec_load, 0L, 0L, 0L, -1L)                 \
	X(kexec_file_load, EPERM, SYS_kexec_file_load, -1L, -1L, 0L, 0L, -1L) \
	X(open_by_handle_at, EPERM, SYS_open_by_handle_at, -1L, BAD, 0L)      \
	X(name_to_handle_at, EPERM, SYS_name_to_handle_at, -100L, BAD, BAD,   \
	  BAD, 0L)                                                            \
	X(mount, EPERM, SYS_mount, BAD, BAD, BAD, 0L, 0L)                     \
	X(umount2, EPERM, SYS_umount2, BAD, 0L)                               \
	X(pivot_root, EPERM, SYS_pivot_root, BAD, BAD)                        \
	X(move_mount, EPERM, SYS_move_mount, -1L, BAD, -1L, BAD, 0L)          \
	X(open_tree, EPERM, SYS_open_tree, -1L, BAD, 0L)                      \
	X(open_tree_attr, EPERM, NR_OPEN_TREE_ATTR, -1L, BAD, 0L, BAD, 0L)    \
	X(fsopen, EPERM, SYS_fsopen, BAD, 0L)                                 \
	X(fsconfig, EPERM, SYS_fsconfig, -1L, 0L, 0L, 0L, 0L)                 \
	X(fsmount, EPERM, SYS_fsmount, -1L, 0L, 0L)                           \
	X(fspick, EPERM, SYS_fspick, -1L, BAD, 0L)                            \
	X(mount_setattr, EPERM, SYS_mount_setattr, -1L, BAD, 0L, BAD, 0L)     \
	X(unshare, EPERM, SYS_unshare, 0L)                                    \
	X(setns, EPERM, SYS_setns, -1L, 0L)                                   \
	X(clone3, ENOSYS, SYS_clone3, BAD, 88L)                               \
	X(io_uring_setup, EPERM, SYS_io_uring_setup, 1L, BAD)                 \
	X(io_uring_enter, EPERM, SYS_io_uring_enter, -1L, 0L, 0L, 0L, 0L, 0L) \
	X(io_uring_register, EPERM, SYS_io_uring_register, -1L, 0L, 0L, 0L)   \
	X(ptrace, EPERM, SYS_ptrace, 9999L, 0L, 0L, 0L)                       \
	X(process_vm_readv, EPERM, SYS_process_vm_readv, (long)getpid(), BAD, \
	  1L, BAD, 1L, 0L)                                                    \
	X(process_vm_writev, EPERM, SYS_process_vm_writev, (long)getpid(),    \
	  BAD, 1L, BAD, 1L, 0L)                                               \
	X(process_madvise, EPERM, SYS_process_madvise, -1L, 0L, 0L, 0L, 0L)   \
	X(pidfd_getfd, EPERM, SYS_pidfd_getfd, -1L, 0L, 0L)                   \
	X(kcmp, EPERM, SYS_kcmp, (long)getpid(), (long)getpid(), 9999L, 0L,   \
	  0L)                                                                 \
	X(acct, EPERM, SYS_acct, BAD)                                         \
	X(swapon, EPERM, SYS_swapon, BAD, 0L)                                 \
	X(swapoff, EPERM, SYS_swapoff, BAD)                                   \
	X(reboot, EPERM, SYS_reboot, 0L, 0L, 0L, 0L)                          \
	X(settimeofday, EPERM, SYS_settimeofday, BAD, 0L)                     \
	X(clock_settime, EPERM, SYS_clock_settime, (long)CLOCK_REALTIME, BAD) \
	X(clock_adjtime, EPERM, SYS_clock_adjtime, (long)CLOCK_REALTIME, BAD) \
	X(adjtimex, EPERM, SYS_adjtimex, BAD)                                 \
	X(syslog, EPERM, SYS_syslog, 9999L, 0L, 0L)                           \
	X(lookup_dcookie, EPERM, SYS_lookup_dcookie, 0L, BAD, 0L)             \
	X(quotactl, EPERM, SYS_quotactl, QUOTA_GETINFO, BAD, 0L, BAD)         \
	X(quotactl_fd, EPERM, SYS_quotactl_fd, -1L, 0L, 0L, 0L)               \
	X(nfsservctl, EPERM, SYS_nfsservctl, 0L, 0L, 0L)                      \
	X(vhangup, EPERM, SYS_vhangup)                                        \
	X(uselib, EPERM, SYS_uselib, BAD)                                     \
	X(ustat, EPERM, SYS_ustat, 0L, BAD)                                   \
	X(sysfs, EPERM, SYS_sysfs, 9999L)                                     \
	X(_sysctl, EPERM, SYS__sysctl, BAD)                                   \
	X(ioperm, EPERM, SYS_ioperm, 0x10000L, 1L, 1L)                        \
	X(iopl, EPERM, SYS_iopl, 99L)                                         \
	X(modify_ldt, EPERM, SYS_modify_ldt, 99L, 0L, 0L)                     \
	X(create_module, EPERM, SYS_create_module, BAD, 0L)                   \
	X(personality_rix, EPERM, SYS_personality, (long)READ_IMPLIES_EXEC)   \
	X(clone_newuser, EPERM, SYS_clone, (long)(CLONE_NEWUSER | CLONE_FS),  \
	  0L, 0L, 0L, 0L)

#define DEFINE_PROBE(n, want, ...)           \
	static long probe_##n(void)          \
	{                                    \
		return syscall(__VA_ARGS__); \
	}
DENIED_PROBES(DEFINE_PROBE)

struct probe {
	const char *name;
	long (*call)(void);
	int want;
};

#define PROBE_ENTRY(n, want, ...) {#n, probe_##n, want},
static const struct probe denied_probes[] = {DENIED_PROBES(PROBE_ENTRY)};

struct probe_result {
	long ret;
	int err;
};

static void body_probes(int out, int listener)
{
	(void)listener;
	for (size_t i = 0; i < ELEMENTSOF(denied_probes); i++) {
		struct probe_result res;

		errno = 0;
		res.ret = denied_probes[i].call();
		res.err = errno;
		(void)!write(out, &res, sizeof(res));
	}
}

Test(seccomp_default, denies_each_call)
{
	struct seccomp_prog *p = default_prog();
	char raw[ELEMENTSOF(denied_probes) * sizeof(struct probe_result) + 1];
	struct probe_result plain[ELEMENTSOF(denied_probes)];
	struct probe_result filtered[ELEMENTSOF(denied_probes)];
	int status;

	status = run_child(NULL, 0, body_probes, raw, sizeof(raw));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	memcpy(plain, raw, sizeof(plain));
	status = run_child(p, 0, body_probes, raw, sizeof(raw));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "filtered child died (status %#x)", status);
	memcpy(filtered, raw, sizeof(filtered));

	for (size_t i = 0; i < ELEMENTSOF(denied_probes); i++) {
		const struct probe *pr = &denied_probes[i];

		cr_expect(filtered[i].ret == -1 && filtered[i].err == pr->want,
			  "%s: filtered call returned %ld (%s), want %s",
			  pr->name, filtered[i].ret,
			  strerrorname_np(filtered[i].err),
			  strerrorname_np(pr->want));
		/* The probe must tell a filtered call apart. Where this host
		 * refuses the call itself (a sysctl, a missing capability),
		 * say so; a warning would fail the whole binary (criterion
		 * exits 1 on any). */
		if (plain[i].ret == -1 && plain[i].err == pr->want)
			cr_log_info("%s: unfiltered call also fails with %s "
				    "on this host; the probe proves nothing",
				    pr->name, strerrorname_np(pr->want));
	}
	seccomp_prog_unref(p);
}

static void *thread_main(void *arg)
{
	return arg;
}

static void body_allowed(int out, int listener)
{
	struct utsname u;
	struct timespec ts;
	pthread_t t;
	void *res = NULL;
	char buf[8];
	int fd, status;
	pid_t pid;
	void *m;

	(void)listener;
	EXPECT_OK(out, getpid());
	EXPECT_OK(out, uname(&u));
	EXPECT_OK(out, clock_gettime(CLOCK_REALTIME, &ts));
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	EXPECT_OK(out, fd);
	EXPECT_OK(out, read(fd, buf, sizeof(buf)));
	close(fd);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		report(out, "mmap failed: %s", strerrorname_np(errno));
	else
		munmap(m, 4096);

	/* fork and threads: glibc gets ENOSYS from clone3 and falls back
	 * to the clone the filter can see. */
	pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 7)
		report(out, "fork in the sandbox failed: %s",
		       strerrorname_np(errno));
	if (pthread_create(&t, NULL, thread_main, buf) != 0 ||
	    pthread_join(t, &res) != 0 || res != buf)
		report(out, "pthread_create in the sandbox failed");

	/* The harmless personality values. */
	EXPECT_OK(out, syscall(SYS_personality, 0xffffffffL));
	EXPECT_OK(out, syscall(SYS_personality, (long)PER_LINUX32));
	EXPECT_OK(out, syscall(SYS_personality, (long)PER_LINUX));
	/* Other ioctls and prctls keep working. */
	EXPECT_OK(out, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

Test(seccomp_default, allows_ordinary_calls)
{
	struct seccomp_prog *p = default_prog();
	char out[4096];
	int status = run_child(p, 0, body_allowed, out, sizeof(out));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

static void body_clone(int out, int listener)
{
	static const long ns_flags[] = {
	    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
	};
	char what[96];
	int status;
	long r;

	(void)listener;
	for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++) {
		/* CLONE_SIGHAND without CLONE_VM: the kernel would refuse it
		 * with EINVAL before creating anything, had the filter let
		 * it through. */
		long flags = ns_flags[i] | CLONE_SIGHAND;

		snprintf(what, sizeof(what), "clone(%#lx)", flags);
		errno = 0;
		r = syscall(SYS_clone, flags, 0L, 0L, 0L, 0L);
		check_errno(out, what, r, errno, EPERM);
		/* The kernel reads 32 bits of flags: padding must not hide
		 * the namespace bit. */
		flags |= 1L << 40;
		snprintf(what, sizeof(what), "clone(%#lx)", flags);
		errno = 0;
		r = syscall(SYS_clone, flags, 0L, 0L, 0L, 0L);
		check_errno(out, what, r, errno, EPERM);
	}

	/* A real attempt at a user namespace, as an escape would make it. */
	errno = 0;
	r = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, &status, 0);
	check_errno(out, "clone(CLONE_NEWUSER|SIGCHLD)", r, errno, EPERM);

	/* Plain clone, i.e. fork, still works. */
	r = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
	if (r == 0)
		_exit(3);
	if (r < 0 || waitpid((pid_t)r, &status, 0) != r || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 3)
		report(out, "clone(SIGCHLD) failed: %s",
		       strerrorname_np(errno));

	EXPECT_ERRNO(out, ENOSYS, syscall(SYS_clone3, BAD, 88L));
	EXPECT_ERRNO(out, EPERM, unshare(CLONE_NEWUSER));
}

Test(seccomp_default, clone_namespaces_denied_fork_allowed)
{
	struct seccomp_prog *p = default_prog();
	char out[4096];
	int status = run_child(p, 0, body_clone, out, sizeof(out));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

static void body_tty(int out, int listener)
{
	struct winsize ws;
	int master, slave;
	char c = 'x';

	(void)listener;
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
		report(out, "openpty: %s", strerrorname_np(errno));
		return;
	}
	EXPECT_ERRNO(out, EPERM, ioctl(slave, TIOCSTI, &c));
	EXPECT_ERRNO(out, EPERM, ioctl(master, TIOCSTI, &c));
	/* The kernel takes the request as 32 bits; padding the upper half
	 * must not slip past the filter. */
	EXPECT_ERRNO(out, EPERM,
		     syscall(SYS_ioctl, (long)slave, (long)TIOCSTI | (1L << 32),
			     (long)&c));
	EXPECT_ERRNO(out, EPERM,
		     syscall(SYS_ioctl, (long)slave,
			     (long)TIOCSTI | (long)0xffffffff00000000UL,
			     (long)&c));
	EXPECT_ERRNO(out, EPERM, ioctl(slave, TIOCLINUX, &c));
	EXPECT_ERRNO(out, EPERM,
		     syscall(SYS_ioctl, (long)slave,
			     (long)TIOCLINUX | (1L << 33), (long)&c));
	EXPECT_OK(out, ioctl(slave, TIOCGWINSZ, &ws));
	close(master);
	close(slave);
}

static void body_tty_plain(int out, int listener)
{
	int master, slave;
	char c = 'x';

	(void)listener;
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
		report(out, "openpty: %s", strerrorname_np(errno));
		return;
	}
	/* Whatever the unfiltered answer (0 for root, EIO with
	 * legacy_tiocsti off), it must not look like the filter's. */
	if (ioctl(slave, TIOCSTI, &c) < 0 && errno == EPERM)
		report(out, "unfiltered TIOCSTI fails with EPERM");
	close(master);
	close(slave);
}

Test(seccomp_default, tiocsti_on_a_pty)
{
	struct seccomp_prog *p;
	char out[4096];
	int status, master, slave;

	/* A host (or container) without devpts has no terminal to try. */
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0)
		cr_skip_test("no pseudo-terminal on this host (openpty: %s)",
			     strerror(errno));
	close(master);
	close(slave);
	p = default_prog();
	status = run_child(NULL, 0, body_tty_plain, out, sizeof(out));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (out[0])
		cr_log_info("%s", out);
	status = run_child(p, 0, body_tty, out, sizeof(out));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

static const unsigned long personality_values[] = {
    0,
    8,
    0xffffffff,
    1,
    7,
    9,
    0x40000,
    0x400000,
    0x40008,
    0x0100000,
    0x80000000,
    0xfffffffe,
    0x7fffffff,
    0xfffffff7,
    0xbfffffff,
    0x100000000,
    0x100000008,
    0xffffffffffffffff,
    0x8000000000000000,
};

static bool personality_allowed(unsigned long v)
{
	return v == 0 || v == 8 || v == 0xffffffff;
}

static void body_personality(int out, int listener)
{
	(void)listener;
	for (size_t i = 0; i < ELEMENTSOF(personality_values); i++) {
		unsigned long v = personality_values[i];
		long r;

		errno = 0;
		r = syscall(SYS_personality, v);
		if (personality_allowed(v) && r < 0)
			report(out, "personality(%#lx) denied: %s", v,
			       strerrorname_np(errno));
		else if (!personality_allowed(v) &&
			 !(r == -1 && errno == EPERM))
			report(out, "personality(%#lx) allowed (%ld)", v, r);
		syscall(SYS_personality, 0L);
	}
	/* Every single bit, and every value with one bit cleared. */
	for (unsigned b = 0; b < 32; b++) {
		unsigned long one = 1UL << b, all_but = 0xffffffffUL & ~one;

		errno = 0;
		if (b != 3 &&
		    !(syscall(SYS_personality, one) == -1 && errno == EPERM))
			report(out, "personality(%#lx) allowed", one);
		syscall(SYS_personality, 0L);
		errno = 0;
		if (!(syscall(SYS_personality, all_but) == -1 &&
		      errno == EPERM))
			report(out, "personality(%#lx) allowed", all_but);
		syscall(SYS_personality, 0L);
	}
}

Test(seccomp_default, personality_only_harmless_values)
{
	struct seccomp_prog *p = default_prog();
	char out[8192];
	int status = run_child(p, 0, body_personality, out, sizeof(out));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

/* i386 system calls through int 0x80 from a 64-bit process. */
static long int80(long nr, long a, long b)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b)
			 : "r8", "r9", "r10", "r11", "memory");
	return ret;
}

#define I386_GETPID 20
#define I386_KEYCTL 288
#define X86_64_GETPID 39
#define X86_64_KEYCTL 250

static long foreign_call;
static void body_int80(int out, int listener)
{
	(void)listener;
	report(out, "int 0x80 call %ld returned %ld", foreign_call,
	       int80(foreign_call, 9999, 0));
}

static void body_x32(int out, int listener)
{
	long r;

	(void)listener;
	errno = 0;
	r = syscall(foreign_call | X32_BIT, 9999L, 0L, 0L, 0L);
	report(out, "x32 call %#lx returned %ld (%s)", foreign_call | X32_BIT,
	       r, strerrorname_np(errno));
}

Test(seccomp_default, i386_calls_are_killed)
{
	struct seccomp_prog *p = default_prog();
	char out[512];
	int status;

	/* Without the filter, int 0x80 getpid must work, or this kernel
	 * serves no i386 calls and there is nothing to bypass. */
	if (!hostabi_serves_i386(out, sizeof(out)))
		cr_skip_test("%s", out);

	foreign_call = I386_GETPID;
	status = run_child(p, 0, body_int80, out, sizeof(out));
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "int 0x80 getpid: status %#x, output '%s'", status, out);
	foreign_call = I386_KEYCTL;
	status = run_child(p, 0, body_int80, out, sizeof(out));
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "int 0x80 keyctl: status %#x, output '%s'", status, out);
	seccomp_prog_unref(p);
}

Test(seccomp_default, x32_calls_are_killed)
{
	struct seccomp_prog *p = default_prog();
	char out[512];
	int status;

	/* The filter decides before the kernel looks at whether it serves
	 * x32 calls, so this holds on every x86_64 kernel: it checks the
	 * compiled filter, not a way in (the sandbox-level check in the
	 * security suite skips where the kernel has no x32). */
	foreign_call = X86_64_GETPID;
	status = run_child(p, 0, body_x32, out, sizeof(out));
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "x32 getpid: status %#x, output '%s'", status, out);
	foreign_call = X86_64_KEYCTL;
	status = run_child(p, 0, body_x32, out, sizeof(out));
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "x32 keyctl: status %#x, output '%s'", status, out);
	seccomp_prog_unref(p);
}

/* With its own network namespace a sandbox gets unix, inet, inet6 and
 * netlink sockets, and nothing else: AF_VSOCK would reach the hypervisor
 * and the rest are kernel code no namespace confines. */
static const int other_families[] = {
    0,      AF_AX25, AF_IPX,       AF_APPLETALK, AF_X25,   AF_KEY, AF_PACKET,
    AF_RDS, AF_TIPC, AF_BLUETOOTH, AF_ALG,       AF_VSOCK, AF_XDP, AF_MAX + 5,
};

static void body_families(int out, int listener)
{
	static const int allowed[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
	char what[64];
	long r;

	(void)listener;
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
		int type = allowed[i] == AF_NETLINK ? SOCK_RAW : SOCK_DGRAM;

		snprintf(what, sizeof(what), "socket(%d)", allowed[i]);
		errno = 0;
		r = socket(allowed[i], type | SOCK_CLOEXEC, 0);
		check_ok(out, what, r, errno);
		if (r >= 0)
			close((int)r);
	}
	for (size_t i = 0; i < ELEMENTSOF(other_families); i++) {
		int fds[2];

		snprintf(what, sizeof(what), "socket(%d)", other_families[i]);
		errno = 0;
		r = socket(other_families[i], SOCK_STREAM | SOCK_CLOEXEC, 0);
		check_errno(out, what, r, errno, EAFNOSUPPORT);
		snprintf(what, sizeof(what), "socketpair(%d)",
			 other_families[i]);
		errno = 0;
		r = socketpair(other_families[i], SOCK_STREAM, 0, fds);
		check_errno(out, what, r, errno, EAFNOSUPPORT);
	}
	/* The kernel reads an int: high bits must not sneak a family by. */
	errno = 0;
	r = syscall(SYS_socket, (long)AF_VSOCK | (1L << 40), (long)SOCK_STREAM,
		    0L);
	check_errno(out, "socket(AF_VSOCK | 1 << 40)", r, errno, EAFNOSUPPORT);
}

/* Unfiltered: which of the other families this kernel has at all (its
 * own answer is not EAFNOSUPPORT). */
static void body_served_families(int out, int listener)
{
	(void)listener;
	for (size_t i = 0; i < ELEMENTSOF(other_families); i++) {
		int fd =
		    socket(other_families[i], SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 || errno != EAFNOSUPPORT)
			report(out, "%d ", other_families[i]);
		if (fd >= 0)
			close(fd);
	}
}

Test(seccomp_default, own_network_allows_only_some_socket_families)
{
	struct seccomp_prog *p = default_prog();
	char out[8192];
	int status = run_child(NULL, 0, body_served_families, out, sizeof(out));

	/* The check proves something only for families the kernel would
	 * otherwise serve (AF_VSOCK on a VM, AF_PACKET nearly everywhere). */
	if (!out[0])
		cr_skip_test("this kernel serves none of the families the "
			     "filter refuses: nothing to tell apart");
	status = run_child(p, 0, body_families, out, sizeof(out));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

static void body_host_families(int out, int listener)
{
	int fd;

	(void)listener;
	/* With the host's network the filter stays out of it: whatever
	 * the kernel answers, it is not the filter's EAFNOSUPPORT for a
	 * family the kernel has (AF_PACKET exists everywhere; the
	 * unprivileged caller gets EPERM from the kernel instead). */
	errno = 0;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	else if (errno == EAFNOSUPPORT)
		report(out, "socket(AF_PACKET) got EAFNOSUPPORT");
}

Test(seccomp_default, host_network_leaves_socket_families_alone)
{
	struct seccomp_prog *p = NULL;
	char out[512];
	int status;

	cr_assert_eq(seccomp_default(SECCOMP_NET_HOST, &p), 0);
	status = run_child(p, 0, body_host_families, out, sizeof(out));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

Test(seccomp_default, compiled_once)
{
	struct seccomp_prog *a = default_prog(), *b = default_prog();
	size_t len = 0;
	const void *insns = seccomp_prog_insns(a, &len);

	cr_assert_eq(a, b);
	cr_assert_not_null(insns);
	cr_assert_gt(len, 0);
	cr_assert_eq(len % sizeof(struct sock_filter), 0);
	cr_assert_leq(len / sizeof(struct sock_filter), BPF_MAXINSNS);
	cr_assert_not(seccomp_prog_needs_listener(a));
	seccomp_prog_unref(a);
	seccomp_prog_unref(b);
	seccomp_cache_clear();
	b = default_prog();
	seccomp_prog_unref(b);
}

/* ------------------------------------------------------- policy files */

struct bad_policy {
	const char *text;
	size_t len; /* 0: strlen */
	const char *why;
};

static const struct bad_policy bad_policies[] = {
    {"", 0, "line 1: empty policy"},
    {"# only a comment\n\n", 0, "line 2: empty policy"},
    {"allow read\n", 0, "line 1: a policy starts with"},
    {"default allow\nallow nosuchcall\n", 0,
     "line 2: unknown syscall 'nosuchcall'"},
    {"default allow\n\n# c\nerrno EBOGUS read\n", 0,
     "line 4: bad errno 'EBOGUS'"},
    {"default allow\nerrno read\n", 0, "line 2: bad errno 'read'"},
    {"default allow\nerrno\n", 0, "line 2: 'errno' needs a value"},
    {"default allow\nerrno 0 read\n", 0, "line 2: bad errno '0'"},
    {"default allow\nerrno 4096 read\n", 0, "line 2: bad errno '4096'"},
    {"default frobnicate\n", 0, "line 1: unknown action 'frobnicate'"},
    {"default\n", 0, "line 1: 'default' needs an action"},
    {"default allow\ndefault kill\n", 0,
     "line 2: second 'default' line (first on line 1)"},
    {"default allow\nallow read\nallow read\n", 0,
     "line 3: 'read' already has a rule on line 2"},
    {"default allow\nallow read write\nkill getpid write\n", 0,
     "line 3: 'write' already has a rule on line 2"},
    {"default allow\nkill\n", 0, "line 2: 'kill' names no syscall"},
    {"default allow\nkill # nothing\n", 0, "line 2: 'kill' names no syscall"},
    {"base default\nallow read\ndefault allow\n", 0,
     "line 3: 'default' must come before the rules"},
    {"default allow\nallow read\nbase default\n", 0,
     "line 3: 'base' must come before the rules"},
    {"base something\n", 0, "line 1: only 'base default' exists"},
    {"base default\nbase default\n", 0, "line 2: second 'base' line"},
    {"base default\ndefault errno EPERM\n", 0,
     "line 2: 'base default' needs 'default allow'"},
    {"default kill\nbase default\n", 0,
     "line 2: 'base default' needs 'default allow'"},
    {"default allow\nallow vm86\n", 0,
     "line 2: 'vm86' is not a syscall on this architecture"},
    {"default allow\nallow Read\n", 0, "line 2: bad syscall name 'Read'"},
    {"default allow\nallow 1read\n", 0, "line 2: bad syscall name"},
    {"default allow extra\n", 0, "line 1: unexpected words at the end"},
    {"default allow\r\nallow re\xffid\r\n", 0, "line 2: bad syscall name"},
    {"default allow\nallow read\0\n", 26, "line 2: NUL byte"},
};

Test(seccomp_policy, errors_name_the_line)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_policies); i++) {
		const struct bad_policy *b = &bad_policies[i];
		size_t len = b->len ? b->len : strlen(b->text);
		struct seccomp_prog *p = NULL;
		struct error_detail err = {.message = "unset"};
		int r = seccomp_compile_policy(b->text, len, SECCOMP_NET_OWN,
					       &err, &p);

		cr_expect_eq(r, -EINVAL, "policy %zu: got %d", i, r);
		cr_expect_null(p, "policy %zu compiled", i);
		cr_expect(strncmp(err.message, b->why, strlen(b->why)) == 0,
			  "policy %zu: why '%s', want '%s...'", i, err.message,
			  b->why);
	}
}

Test(seccomp_policy, size_limit)
{
	size_t len = 64 * 1024 + 1;
	char *text = malloc(len);
	struct seccomp_prog *p = NULL;
	struct error_detail err = {0};

	cr_assert_not_null(text);
	memset(text, '#', len);
	cr_assert_eq(
	    seccomp_compile_policy(text, len, SECCOMP_NET_OWN, &err, &p),
	    -E2BIG);
	cr_assert_null(p);
	cr_assert(strstr(err.message, "65536"), "%s", err.message);
	/* At the limit, a long comment is fine. */
	memcpy(text, "default allow\n#", 15);
	cr_assert_eq(
	    seccomp_compile_policy(text, len - 1, SECCOMP_NET_OWN, &err, &p), 0,
	    "%s", err.message);
	seccomp_prog_unref(p);
	free(text);
}

Test(seccomp_policy, valid_forms)
{
	static const char *const good[] = {
	    "default allow\n",
	    "default allow",
	    "# leading comment\n\n  default   allow  # trailing\n",
	    "default errno 38\nallow read write exit_group\n",
	    "default kill\nallow read write sendmsg\n",
	    "base default\n",
	    "default allow\nbase default\n",
	    "base default\nkill ptrace\nallow clone3\n",
	    "default allow\r\nlog getpid\r\nerrno ENOSYS getppid\r\n",
	    "default allow\nallow read # redundant, still fine\n",
	    "default allow\nerrno EPERM read# no space before the comment\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		struct seccomp_prog *p = NULL;
		struct error_detail err = {0};
		int r = seccomp_compile_policy(good[i], strlen(good[i]),
					       SECCOMP_NET_OWN, &err, &p);

		cr_expect_eq(r, 0, "policy %zu: %s", i, err.message);
		seccomp_prog_unref(p);
	}
}

Test(seccomp_policy, identical_texts_share_a_program)
{
	const char *a = "default allow\nerrno EPERM getppid\n";
	const char *b = "default allow\nerrno EACCES getppid\n";
	struct seccomp_prog *p1 = policy(a), *p2 = policy(a), *p3 = policy(b);
	struct seccomp_prog *d = default_prog();

	cr_assert_eq(p1, p2);
	cr_assert_neq(p1, p3);
	cr_assert_neq(p1, d);
	seccomp_prog_unref(p1);
	seccomp_prog_unref(p2);
	seccomp_prog_unref(p3);

	/* The cache is bounded: many distinct texts later, a is compiled
	 * again, and the old program lives on for whoever holds it. */
	p1 = policy(a);
	for (int i = 0; i < 40; i++) {
		char text[64];
		struct seccomp_prog *q;

		snprintf(text, sizeof(text),
			 "default allow\nerrno %d getppid\n", i + 1);
		q = policy(text);
		seccomp_prog_unref(q);
	}
	p2 = policy(a);
	cr_assert_neq(p1, p2);
	seccomp_prog_unref(p1);
	seccomp_prog_unref(p2);
	seccomp_prog_unref(d);
}

static void body_custom(int out, int listener)
{
	(void)listener;
	EXPECT_ERRNO(out, EACCES, syscall(SYS_getppid));
	EXPECT_ERRNO(out, ENOSYS, syscall(SYS_getuid));
	/* The base still applies... */
	EXPECT_ERRNO(out, EPERM, syscall(SYS_keyctl, 9999L, 0L, 0L, 0L, 0L));
	EXPECT_ERRNO(out, EPERM,
		     syscall(SYS_clone, (long)(CLONE_NEWUSER | CLONE_SIGHAND),
			     0L, 0L, 0L, 0L));
	/* ... except where a rule took the call over: ptrace is allowed
	 * (ESRCH: no such tracee), and nothing else changed. */
	EXPECT_ERRNO(out, ESRCH, syscall(SYS_ptrace, 9999L, 0L, 0L, 0L));
	EXPECT_OK(out, getpid());
}

Test(seccomp_policy, base_default_with_overrides)
{
	struct seccomp_prog *p = policy("base default\n"
					"errno EACCES getppid\n"
					"errno ENOSYS getuid\n"
					"allow ptrace\n");
	char out[4096];
	int status = run_child(p, 0, body_custom, out, sizeof(out));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	cr_assert_not(seccomp_prog_needs_listener(p));
	seccomp_prog_unref(p);
}

static void body_allowlist(int out, int listener)
{
	(void)listener;
	/* Only write, exit_group and getpid are allowed. */
	EXPECT_OK(out, syscall(SYS_getpid));
	EXPECT_ERRNO(out, ENOSYS, syscall(SYS_getppid));
	EXPECT_ERRNO(out, ENOSYS, syscall(SYS_keyctl, 9999L, 0L, 0L, 0L, 0L));
}

Test(seccomp_policy, allowlist)
{
	struct seccomp_prog *p = policy("default errno ENOSYS\n"
					"allow write exit_group getpid\n");
	char out[4096];
	int status = run_child(p, 0, body_allowlist, out, sizeof(out));

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
}

static void body_notify(int out, int listener)
{
	struct seccomp_notif req;
	struct pollfd pfd = {.fd = listener, .events = POLLIN};
	const char *name;
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0) {
		syscall(SYS_getppid);
		_exit(0); /* only if the kill rule let it through */
	}
	if (poll(&pfd, 1, 5000) != 1) {
		report(out, "no notification for the kill rule");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return;
	}
	memset(&req, 0, sizeof(req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
		report(out, "NOTIF_RECV: %s", strerrorname_np(errno));
		return;
	}
	name = seccomp_syscall_name(req.data.nr, req.data.arch);
	if ((pid_t)req.pid != pid)
		report(out, "notification from pid %u, want %d", req.pid, pid);
	if (!name || strcmp(name, "getppid") != 0)
		report(out, "notification names '%s', want getppid",
		       name ? name : "(null)");
	/* What the sandbox's pid 1 does: kill the caller. */
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
		report(out, "caller was not killed");
}

Test(seccomp_policy, kill_rule_needs_listener)
{
	struct seccomp_prog *p = policy("default allow\nkill getppid\n");
	struct seccomp_prog *q = policy("default kill\nallow read sendmsg\n");
	struct seccomp_prog *r = policy("default allow\nlog getppid\n");
	char out[4096];
	int status;

	cr_assert(seccomp_prog_needs_listener(p));
	cr_assert(seccomp_prog_needs_listener(q));
	cr_assert_not(seccomp_prog_needs_listener(r));

	status = run_child(p, SECCOMP_FILTER_FLAG_NEW_LISTENER, body_notify,
			   out, sizeof(out));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child died (status %#x)", status);
	cr_assert_str_empty(out, "%s", out);
	seccomp_prog_unref(p);
	seccomp_prog_unref(q);
	seccomp_prog_unref(r);
}

/* boxd-init hands the kill rules' listener over with sendmsg after the
 * filter is loaded: a policy that would answer that sendmsg with a kill
 * (a notification nobody can answer yet) would hang the run, so it is
 * refused when compiled, naming the call and the line. */
Test(seccomp_policy, killing_sendmsg_with_kill_rules_is_refused)
{
	static const char *const bad[] = {
	    "default kill\nallow read write execve\n",
	    "default allow\nkill ptrace sendmsg\n",
	    "base default\nkill ptrace\nkill sendmsg\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct seccomp_prog *p = NULL;
		struct error_detail err = {0};
		int r = seccomp_compile_policy(bad[i], strlen(bad[i]),
					       SECCOMP_NET_OWN, &err, &p);

		cr_expect_eq(r, -EINVAL, "policy %zu compiled", i);
		cr_expect(strstr(err.message, "sendmsg") &&
			      strstr(err.message, "line "),
			  "policy %zu: %s", i, err.message);
		seccomp_prog_unref(p);
	}
}

Test(seccomp_names, resolve)
{
	const char *a = seccomp_syscall_name(39, AUDIT_ARCH_X86_64);

	cr_assert_str_eq(a, "getpid");
	/* Interned: the same pointer every time. */
	cr_assert_eq(seccomp_syscall_name(39, AUDIT_ARCH_X86_64), a);
	cr_assert_str_eq(seccomp_syscall_name(20, AUDIT_ARCH_I386), "getpid");
	cr_assert_str_eq(seccomp_syscall_name(288, AUDIT_ARCH_I386), "keyctl");
	cr_assert_str_eq(
	    seccomp_syscall_name((int)(39 | X32_BIT), AUDIT_ARCH_X86_64),
	    "getpid");
	cr_assert_str_eq(seccomp_syscall_name(435, AUDIT_ARCH_X86_64),
			 "clone3");
	cr_assert_null(seccomp_syscall_name(-1, AUDIT_ARCH_X86_64));
	cr_assert_null(seccomp_syscall_name(99999, AUDIT_ARCH_X86_64));
	cr_assert_null(seccomp_syscall_name(39, 0x1234));
	seccomp_cache_clear();
	cr_assert_str_eq(seccomp_syscall_name(39, AUDIT_ARCH_X86_64), "getpid");
	seccomp_cache_clear();
}

Test(seccomp_prog, refcount)
{
	struct seccomp_prog *p = policy("default allow\nerrno 77 getppid\n");
	size_t len = 0;

	cr_assert_eq(seccomp_prog_ref(p), p);
	cr_assert_null(seccomp_prog_unref(p));
	cr_assert_null(seccomp_prog_unref(p));
	cr_assert_null(seccomp_prog_unref(NULL));
	cr_assert_null(seccomp_prog_ref(NULL));
	/* Programs outlive the cache. */
	p = policy("default allow\nerrno 78 getppid\n");
	seccomp_cache_clear();
	cr_assert_not_null(seccomp_prog_insns(p, &len));
	cr_assert_gt(len, 0);
	seccomp_prog_unref(p);
}
