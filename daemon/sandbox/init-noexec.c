/*
 * No execve after the command's own (RunRequest.no_exec).
 *
 * Seccomp alone cannot tell the command's execve from a later one: both
 * are the same call from the same kind of process. So the command, as
 * its last step before execve, loads a small filter of its own that
 * hands every execve and execveat (in every ABI the kernel accepts from
 * it) to pid 1 as a user notification, and sends pid 1 the listener.
 * pid 1 lets a call continue only while the command has not exec'd yet:
 * the command holds the write end of a close-on-exec pipe until its exec
 * succeeds, and nothing else holds it, so "the pipe has no writer left"
 * is exactly "the command's exec happened". Every later call, from the
 * command, a child, a thread, by path, by fd (execveat AT_EMPTY_PATH,
 * fexecve of a memfd) or through a script's interpreter line, is answered
 * EPERM without running. The decision reads no argument of the call, so
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE's time-of-check caveat does not
 * apply: the only call let through is one the command itself makes
 * before any code of the caller's runs.
 *
 * What it does not stop: code that never calls execve. An interpreter
 * already running (the command, if it is one) reads and runs any script;
 * a program may map executable memory and jump into it, or load a shared
 * library; fork and clone still work, so the command may multiply
 * itself. It closes the door to running another program file, no more.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdpass.h"
#include "init.h"
#include "util.h"

#define X32_BIT 0x40000000u

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "no-exec: add this architecture's AUDIT_ARCH"
#endif

#define LD_ARCH \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LD_NR \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* if (A == k) skip t instructions, else skip f */
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))

/*
 * The filter. On x86_64 three ABIs reach the kernel: native, x32 (the
 * native arch with bit 30 in the number) and i386; each ABI's execve and
 * execveat notify. Any other architecture value is killed: a process
 * whose calls this filter cannot name must not run at all.
 */
static const struct sock_filter noexec_filter[] = {
#if defined(__x86_64__)
    /*  0 */ LD_ARCH,
    /*  1 */ JEQ(AUDIT_ARCH_X86_64, 2, 0), /* -> 4 */
    /*  2 */ JEQ(AUDIT_ARCH_I386, 7, 0),   /* -> 10 */
    /*  3 */ RET(SECCOMP_RET_KILL_PROCESS),
    /*  4 */ LD_NR,
    /*  5 */ JEQ(__NR_execve, 8, 0),   /* -> 14 */
    /*  6 */ JEQ(__NR_execveat, 7, 0), /* -> 14 */
    /*  7 */ JEQ(X32_BIT | 520, 6, 0), /* x32 execve -> 14 */
    /*  8 */ JEQ(X32_BIT | 545, 5, 0), /* x32 execveat -> 14 */
    /*  9 */ RET(SECCOMP_RET_ALLOW),
    /* 10 */ LD_NR,
    /* 11 */ JEQ(11, 2, 0),  /* i386 execve -> 14 */
    /* 12 */ JEQ(358, 1, 0), /* i386 execveat -> 14 */
    /* 13 */ RET(SECCOMP_RET_ALLOW),
    /* 14 */ RET(SECCOMP_RET_USER_NOTIF),
#else
    LD_ARCH,
    JEQ(NATIVE_ARCH, 1, 0),
    RET(SECCOMP_RET_KILL_PROCESS),
    LD_NR,
    JEQ(__NR_execve, 2, 0),
    JEQ(__NR_execveat, 1, 0),
    RET(SECCOMP_RET_ALLOW),
    RET(SECCOMP_RET_USER_NOTIF),
#endif
};

bool noexec_is_exec(uint32_t arch, int nr)
{
	if (arch == NATIVE_ARCH)
		return nr == __NR_execve || nr == __NR_execveat ||
		       (uint32_t)nr == (X32_BIT | 520) ||
		       (uint32_t)nr == (X32_BIT | 545);
#if defined(__x86_64__)
	if (arch == AUDIT_ARCH_I386)
		return nr == 11 || nr == 358;
#endif
	return false;
}

int noexec_load(int listener_sock)
{
	struct sock_fprog prog = {
	    .len = ELEMENTSOF(noexec_filter),
	    .filter = (struct sock_filter *)noexec_filter,
	};
	struct iovec iov;
	char byte = 0;
	ssize_t n;
	int fd;

	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	/* As for a kill rule's listener: pid 1's, never the command's (it
	 * is close-on-exec, and the command's copy goes at its exec). */
	iov = (struct iovec){.iov_base = &byte, .iov_len = 1};
	n = fdpass_send(listener_sock, &iov, 1, &fd, 1);
	if (n != 1)
		return n < 0 ? (int)n : -EIO;
	return 0;
}

/* Has the command exec'd? Its pipe's write end is gone once it has. */
static bool command_execd(int errfd)
{
	struct pollfd p = {.fd = errfd, .events = POLLIN};

	if (errfd < 0)
		return true; /* pid 1 closes its end after the exec */
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLIN));
}

int noexec_answer(int listener, pid_t cmd, int errfd)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	bool allow;

	memset(&req, 0, sizeof(req));
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return 0;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	/* Only the command's own calls before its exec, and only exec
	 * calls (the filter notifies nothing else; checked all the same). */
	allow = !noexec_is_exec(req.data.arch, req.data.nr) ||
		((pid_t)req.pid == cmd && !command_execd(errfd));
	if (allow)
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp.error = -EPERM;
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	return allow ? 0 : 1;
}
