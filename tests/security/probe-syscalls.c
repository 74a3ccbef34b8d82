/*
 * Calls every system call family the default seccomp filter denies and
 * checks that each fails with the filter's errno: EPERM, or ENOSYS for
 * clone3 (so glibc falls back to clone, which the filter can inspect).
 *
 * Where the kernel allows, each call gets an argument that would make it
 * fail differently if it reached the kernel (a pointer to unmapped
 * memory: EFAULT; fd -1: EBADF), or one that would make it succeed, so
 * "denied by the filter" is told apart from "refused by the kernel". Calls
 * the kernel refuses for lack of a capability before looking at any
 * argument cannot be told apart this way; they are marked "same".
 *
 * Every call runs in a forked child: an unfiltered unshare() or
 * personality() must not change the conditions of the next check.
 *
 * --control: run without a filter (seccomp none). Instead of expecting
 * the filter's errno, check that each call marked "distinct" gets some
 * other answer, which proves the filtered run's EPERM came from the
 * filter.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define BAD PROBE_BAD_PTR
#define NR_OPEN_TREE_ATTR 467 /* 6.15, newer than these headers */
#define UFFD_USER_MODE_ONLY 1
#define KCMP_VM 1
#define SYSLOG_ACTION_SIZE_BUFFER 10

/* Whether an unfiltered call answers differently from the filter. */
enum distinct {
	SAME,          /* capability check first: also EPERM without a filter */
	DISTINCT,      /* EFAULT, EBADF, ENOTTY, success... */
	BPF_SYSCTL,    /* distinct unless unprivileged bpf is disabled */
	SYSLOG_SYSCTL, /* distinct unless dmesg_restrict is set */
	URING_SYSCTL,  /* distinct unless io_uring_disabled is set (6.6) */
	YAMA_SYSCTL,   /* distinct unless Yama's ptrace_scope is 2 or 3 */
};

struct call {
	const char *name;
	long (*fn)(void);
	int want; /* the filter's errno */
	enum distinct distinct;
};

/* A clone that the kernel would honour: a child that exits at once. */
static long clone_ns(unsigned long extra)
{
	long r = syscall(SYS_clone, CLONE_NEWUSER | extra | SIGCHLD, 0, NULL,
			 NULL, 0);

	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid((pid_t)r, NULL, 0);
		return 0;
	}
	return r;
}

/* The keyring is not namespaced: a sandbox would reach the caller's
 * session and user keyrings. */
static long c_add_key(void)
{
	return syscall(SYS_add_key, BAD, BAD, NULL, 0,
		       KEY_SPEC_PROCESS_KEYRING);
}
static long c_keyctl(void)
{
	return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, BAD);
}
static long c_request_key(void)
{
	return syscall(SYS_request_key, BAD, BAD, NULL, 0);
}
/* eBPF and perf: large unnamespaced kernel surfaces and side channels. */
static long c_bpf(void)
{
	return syscall(SYS_bpf, 0, BAD, 64);
}
static long c_perf_event_open(void)
{
	return syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0);
}
/* userfaultfd turns kernel races into reliable exploits. User-mode-only
 * faults need no privilege, so unfiltered this succeeds. */
static long c_userfaultfd(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}
/* Loading into or replacing the host kernel. */
static long c_init_module(void)
{
	return syscall(SYS_init_module, BAD, 64, "");
}
static long c_finit_module(void)
{
	return syscall(SYS_finit_module, -1, "", 0);
}
static long c_delete_module(void)
{
	return syscall(SYS_delete_module, BAD, 0);
}
static long c_kexec_load(void)
{
	return syscall(SYS_kexec_load, 0, 0, NULL, 0);
}
static long c_kexec_file_load(void)
{
	return syscall(SYS_kexec_file_load, -1, -1, 0, BAD, 0);
}
/* File handles open inodes outside every mount ("shocker"). */
static long c_open_by_handle_at(void)
{
	return syscall(SYS_open_by_handle_at, AT_FDCWD, BAD, O_RDONLY);
}
static long c_name_to_handle_at(void)
{
	return syscall(SYS_name_to_handle_at, AT_FDCWD, BAD, BAD, BAD, 0);
}
/* The mount API: unmounting a mask would uncover what it hides. */
static long c_mount(void)
{
	return syscall(SYS_mount, BAD, BAD, BAD, 0, NULL);
}
static long c_umount2(void)
{
	return syscall(SYS_umount2, BAD, 0);
}
static long c_pivot_root(void)
{
	return syscall(SYS_pivot_root, BAD, BAD);
}
static long c_move_mount(void)
{
	return syscall(SYS_move_mount, -1, BAD, -1, BAD, 0);
}
static long c_open_tree(void)
{
	return syscall(SYS_open_tree, -1, BAD, 0);
}
static long c_open_tree_attr(void)
{
	return syscall(NR_OPEN_TREE_ATTR, -1, BAD, 0, BAD, 32);
}
static long c_fsopen(void)
{
	return syscall(SYS_fsopen, BAD, 0);
}
static long c_fsconfig(void)
{
	return syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0);
}
static long c_fsmount(void)
{
	return syscall(SYS_fsmount, -1, 0, 0);
}
static long c_fspick(void)
{
	return syscall(SYS_fspick, -1, BAD, 0);
}
static long c_mount_setattr(void)
{
	return syscall(SYS_mount_setattr, -1, BAD, 0, BAD, 32);
}
/* Nested namespaces give their creator a full capability set again. */
static long c_unshare(void)
{
	return syscall(SYS_unshare, CLONE_NEWUSER);
}
static long c_setns(void)
{
	return syscall(SYS_setns, -1, 0);
}
static long c_clone_newuser(void)
{
	return clone_ns(0);
}
static long c_clone_newns(void)
{
	return clone_ns(CLONE_NEWNS);
}
static long c_clone_newpid(void)
{
	return clone_ns(CLONE_NEWPID);
}
static long c_clone_newnet(void)
{
	return clone_ns(CLONE_NEWNET);
}
static long c_clone_newipc(void)
{
	return clone_ns(CLONE_NEWIPC);
}
static long c_clone_newuts(void)
{
	return clone_ns(CLONE_NEWUTS);
}
static long c_clone_newcgroup(void)
{
	return clone_ns(CLONE_NEWCGROUP);
}
/* clone3's flags live in memory the filter cannot read. */
static long c_clone3(void)
{
	return syscall(SYS_clone3, BAD, 88);
}
/* io_uring performs I/O the filter never sees. */
static long c_io_uring_setup(void)
{
	return syscall(SYS_io_uring_setup, 1, BAD);
}
static long c_io_uring_enter(void)
{
	return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
}
static long c_io_uring_register(void)
{
	return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
}
/* Reaching into another process's memory or descriptors. */
static long c_ptrace(void)
{
	return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}
static long c_process_vm_readv(void)
{
	return syscall(SYS_process_vm_readv, getpid(), BAD, 1, BAD, 1, 0);
}
static long c_process_vm_writev(void)
{
	return syscall(SYS_process_vm_writev, getpid(), BAD, 1, BAD, 1, 0);
}
static long c_process_madvise(void)
{
	return syscall(SYS_process_madvise, -1, BAD, 1, 0, 0);
}
static long c_pidfd_getfd(void)
{
	return syscall(SYS_pidfd_getfd, -1, 0, 0);
}
static long c_kcmp(void)
{
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0);
}
/* Host-wide switches no namespace covers. */
static long c_acct(void)
{
	return syscall(SYS_acct, BAD);
}
static long c_swapon(void)
{
	return syscall(SYS_swapon, BAD, 0);
}
static long c_swapoff(void)
{
	return syscall(SYS_swapoff, BAD);
}
static long c_reboot(void)
{
	return syscall(SYS_reboot, 0, 0, 0, NULL); /* bad magic */
}
/* The realtime clock is global. */
static long c_settimeofday(void)
{
	return syscall(SYS_settimeofday, BAD, NULL);
}
static long c_clock_settime(void)
{
	return syscall(SYS_clock_settime, CLOCK_REALTIME, BAD);
}
static long c_clock_adjtime(void)
{
	return syscall(SYS_clock_adjtime, CLOCK_REALTIME, BAD);
}
static long c_adjtimex(void)
{
	return syscall(SYS_adjtimex, BAD);
}
/* The kernel log leaks kernel addresses. */
static long c_syslog(void)
{
	return syscall(SYS_syslog, SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
}
/* Execution domains that weaken the program (exec heap, no ASLR). */
static long c_personality(void)
{
	return syscall(SYS_personality, READ_IMPLIES_EXEC);
}
static long c_personality_norandom(void)
{
	return syscall(SYS_personality, ADDR_NO_RANDOMIZE);
}
/* Typing into the caller's terminal (CVE-2017-5226 class); stdin here
 * is not a tty, so an unfiltered call answers ENOTTY. The kernel takes
 * the request as 32 bits: the high-bit variant must be denied too. */
static long c_tiocsti(void)
{
	return syscall(SYS_ioctl, 0, TIOCSTI, BAD);
}
static long c_tiocsti_high(void)
{
	return syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, BAD);
}
static long c_tiocsti_high_all(void)
{
	return syscall(SYS_ioctl, 0, 0xffffffff00000000UL | TIOCSTI, BAD);
}
static long c_tioclinux(void)
{
	return syscall(SYS_ioctl, 0, TIOCLINUX, BAD);
}
/* Obsolete and administrative calls with a record of bugs. */
static long c_quotactl(void)
{
	return syscall(SYS_quotactl, 0, BAD, 0, NULL);
}
static long c_quotactl_fd(void)
{
	return syscall(SYS_quotactl_fd, -1, 0, 0, NULL);
}
static long c_lookup_dcookie(void)
{
	return syscall(SYS_lookup_dcookie, 0, BAD, 16);
}
static long c_vhangup(void)
{
	return syscall(SYS_vhangup);
}
static long c_ustat(void)
{
	return syscall(SYS_ustat, 0, BAD);
}
static long c_sysfs(void)
{
	return syscall(SYS_sysfs, 1, BAD);
}
static long c_sysctl(void)
{
	return syscall(SYS__sysctl, BAD);
}
static long c_ioperm(void)
{
	return syscall(SYS_ioperm, 0, 1, 1);
}
static long c_iopl(void)
{
	return syscall(SYS_iopl, 3);
}
static long c_modify_ldt(void)
{
	return syscall(SYS_modify_ldt, 0, BAD, 16);
}
static long c_uselib(void)
{
	return syscall(SYS_uselib, BAD);
}
static long c_nfsservctl(void)
{
	return syscall(SYS_nfsservctl, 0, NULL, NULL);
}
static long c_create_module(void)
{
	return syscall(SYS_create_module, BAD, 0);
}
static long c_get_kernel_syms(void)
{
	return syscall(SYS_get_kernel_syms, BAD);
}
static long c_query_module(void)
{
	return syscall(SYS_query_module, BAD, 0, NULL, 0, NULL);
}

static const struct call calls[] = {
    {"add_key", c_add_key, EPERM, DISTINCT},
    {"keyctl", c_keyctl, EPERM, DISTINCT},
    {"request_key", c_request_key, EPERM, DISTINCT},
    {"bpf", c_bpf, EPERM, BPF_SYSCTL},
    {"perf_event_open", c_perf_event_open, EPERM, DISTINCT},
    {"userfaultfd", c_userfaultfd, EPERM, DISTINCT},
    {"init_module", c_init_module, EPERM, SAME},
    {"finit_module", c_finit_module, EPERM, SAME},
    {"delete_module", c_delete_module, EPERM, SAME},
    {"kexec_load", c_kexec_load, EPERM, SAME},
    {"kexec_file_load", c_kexec_file_load, EPERM, SAME},
    {"open_by_handle_at", c_open_by_handle_at, EPERM, SAME},
    {"name_to_handle_at", c_name_to_handle_at, EPERM, DISTINCT},
    {"mount", c_mount, EPERM, DISTINCT},
    {"umount2", c_umount2, EPERM, DISTINCT},
    {"pivot_root", c_pivot_root, EPERM, SAME},
    {"move_mount", c_move_mount, EPERM, SAME},
    {"open_tree", c_open_tree, EPERM, DISTINCT},
    {"open_tree_attr", c_open_tree_attr, EPERM, DISTINCT},
    {"fsopen", c_fsopen, EPERM, SAME},
    {"fsconfig", c_fsconfig, EPERM, DISTINCT},
    {"fsmount", c_fsmount, EPERM, SAME},
    {"fspick", c_fspick, EPERM, SAME},
    {"mount_setattr", c_mount_setattr, EPERM, SAME},
    {"unshare", c_unshare, EPERM, DISTINCT},
    {"setns", c_setns, EPERM, DISTINCT},
    {"clone_newuser", c_clone_newuser, EPERM, DISTINCT},
    {"clone_newns", c_clone_newns, EPERM, DISTINCT},
    {"clone_newpid", c_clone_newpid, EPERM, DISTINCT},
    {"clone_newnet", c_clone_newnet, EPERM, DISTINCT},
    {"clone_newipc", c_clone_newipc, EPERM, DISTINCT},
    {"clone_newuts", c_clone_newuts, EPERM, DISTINCT},
    {"clone_newcgroup", c_clone_newcgroup, EPERM, DISTINCT},
    {"clone3", c_clone3, ENOSYS, DISTINCT},
    {"io_uring_setup", c_io_uring_setup, EPERM, URING_SYSCTL},
    {"io_uring_enter", c_io_uring_enter, EPERM, DISTINCT},
    {"io_uring_register", c_io_uring_register, EPERM, DISTINCT},
    {"ptrace", c_ptrace, EPERM, YAMA_SYSCTL},
    {"process_vm_readv", c_process_vm_readv, EPERM, DISTINCT},
    {"process_vm_writev", c_process_vm_writev, EPERM, DISTINCT},
    {"process_madvise", c_process_madvise, EPERM, DISTINCT},
    {"pidfd_getfd", c_pidfd_getfd, EPERM, DISTINCT},
    {"kcmp", c_kcmp, EPERM, DISTINCT},
    {"acct", c_acct, EPERM, SAME},
    {"swapon", c_swapon, EPERM, SAME},
    {"swapoff", c_swapoff, EPERM, SAME},
    {"reboot", c_reboot, EPERM, SAME},
    {"settimeofday", c_settimeofday, EPERM, DISTINCT},
    {"clock_settime", c_clock_settime, EPERM, DISTINCT},
    {"clock_adjtime", c_clock_adjtime, EPERM, DISTINCT},
    {"adjtimex", c_adjtimex, EPERM, DISTINCT},
    {"syslog", c_syslog, EPERM, SYSLOG_SYSCTL},
    {"personality_read_implies_exec", c_personality, EPERM, DISTINCT},
    {"personality_addr_no_randomize", c_personality_norandom, EPERM, DISTINCT},
    {"ioctl_tiocsti", c_tiocsti, EPERM, DISTINCT},
    {"ioctl_tiocsti_high_bit", c_tiocsti_high, EPERM, DISTINCT},
    {"ioctl_tiocsti_high_bits", c_tiocsti_high_all, EPERM, DISTINCT},
    {"ioctl_tioclinux", c_tioclinux, EPERM, DISTINCT},
    {"quotactl", c_quotactl, EPERM, DISTINCT},
    {"quotactl_fd", c_quotactl_fd, EPERM, DISTINCT},
    {"lookup_dcookie", c_lookup_dcookie, EPERM, SAME},
    {"vhangup", c_vhangup, EPERM, SAME},
    {"ustat", c_ustat, EPERM, DISTINCT},
    {"sysfs", c_sysfs, EPERM, DISTINCT},
    {"_sysctl", c_sysctl, EPERM, DISTINCT},
    {"ioperm", c_ioperm, EPERM, SAME},
    {"iopl", c_iopl, EPERM, SAME},
    {"modify_ldt", c_modify_ldt, EPERM, DISTINCT},
    {"uselib", c_uselib, EPERM, SAME},
    {"nfsservctl", c_nfsservctl, EPERM, SAME},
    {"create_module", c_create_module, EPERM, SAME},
    {"get_kernel_syms", c_get_kernel_syms, EPERM, SAME},
    {"query_module", c_query_module, EPERM, SAME},
};

struct outcome {
	long ret;
	int err;
};

/* Run one call in a child; a child killed by a signal reports it. */
static int run_call(const struct call *c, struct outcome *out, int *ret_sig)
{
	int p[2], status;
	pid_t pid;

	*ret_sig = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct outcome o;

		close(p[0]);
		errno = 0;
		o.ret = c->fn();
		o.err = o.ret < 0 ? errno : 0;
		(void)!write(p[1], &o, sizeof(o));
		_exit(0);
	}
	close(p[1]);
	memset(out, 0, sizeof(*out));
	if (read(p[0], out, sizeof(*out)) != (ssize_t)sizeof(*out))
		out->err = -1;
	close(p[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		*ret_sig = WTERMSIG(status);
	return 0;
}

static bool sysctl_is_zero(const char *path)
{
	char buf[32];

	return probe_read_file(path, buf, sizeof(buf)) > 0 && buf[0] == '0';
}

/* A sysctl that is absent (an older kernel, Yama not built in) or 0. */
static bool sysctl_absent_or_below(const char *path, char limit)
{
	char buf[32];

	return probe_read_file(path, buf, sizeof(buf)) <= 0 || buf[0] < limit;
}

static bool is_distinct(enum distinct d)
{
	switch (d) {
	case DISTINCT:
		return true;
	case SAME:
		return false;
	case BPF_SYSCTL:
		return sysctl_is_zero(
		    "/proc/sys/kernel/unprivileged_bpf_disabled");
	case SYSLOG_SYSCTL:
		return sysctl_is_zero("/proc/sys/kernel/dmesg_restrict");
	case URING_SYSCTL:
		/* 1 or 2: io_uring_setup answers EPERM itself. */
		return sysctl_absent_or_below(
		    "/proc/sys/kernel/io_uring_disabled", '1');
	case YAMA_SYSCTL:
		/* 2 (admin only) or 3 (no attach): PTRACE_TRACEME gets
		 * EPERM from Yama. */
		return sysctl_absent_or_below(
		    "/proc/sys/kernel/yama/ptrace_scope", '2');
	}
	return false;
}

int main(int argc, char **argv)
{
	bool control = argc > 1 && strcmp(argv[1], "--control") == 0;

	probe_begin(control ? "syscalls-control" : "syscalls", 1);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call *c = &calls[i];
		struct outcome o;
		int sig, r = run_call(c, &o, &sig);

		if (r < 0) {
			probe_check(c->name, false, "fork: %s",
				    probe_errno_name(-r));
			continue;
		}
		if (sig) {
			/* Neither a filter errno nor a kernel answer. */
			probe_check(c->name, false, "killed by signal %d", sig);
			continue;
		}
		if (!control) {
			probe_check(c->name, o.ret == -1 && o.err == c->want,
				    "ret=%ld errno=%s want=%s", o.ret,
				    probe_errno_name(o.err),
				    probe_errno_name(c->want));
		} else if (is_distinct(c->distinct)) {
			probe_check(c->name, !(o.ret == -1 && o.err == c->want),
				    "unfiltered ret=%ld errno=%s, filter gives "
				    "%s",
				    o.ret, probe_errno_name(o.err),
				    probe_errno_name(c->want));
		} else {
			probe_info(c->name,
				   "unfiltered ret=%ld errno=%s (not "
				   "told apart from the filter)",
				   o.ret, probe_errno_name(o.err));
		}
	}
	/* Not over-blocking: what the filter documents as allowed. */
	if (!control) {
		long p = syscall(SYS_personality, 0xffffffffUL);

		probe_check("personality_query_allowed", p >= 0,
			    "personality(0xffffffff) = %ld errno=%s", p,
			    probe_errno_name(p < 0 ? errno : 0));
	}
	return probe_end();
}
