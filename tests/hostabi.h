/*
 * Which foreign system-call ABIs this kernel serves, found out by trying
 * them in a forked child that has no seccomp filter. The tests of the
 * filter need this: a check that a filter stops `int $0x80` only proves
 * something where the kernel would otherwise answer it. A kernel built
 * without IA32 emulation, or booted with it off, raises SIGSEGV on
 * `int $0x80`; a kernel without x32 answers ENOSYS. There the foreign ABI
 * is no way in, with or without a filter, and its checks skip.
 *
 * Never call these in a process that has a filter loaded: the answer
 * would be the filter's, not the kernel's.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTABI_X32_BIT 0x40000000L
#define HOSTABI_I386_GETPID 20

static inline long hostabi_int80(long nr)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/*
 * Run getpid through the ABI in a child. Returns true if the kernel
 * answered with the child's pid; otherwise false with why describing what
 * happened instead.
 */
static inline bool hostabi_try(bool i386, char *why, size_t why_len)
{
	int p[2], status;
	long got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why, why_len, "pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		long r;

		close(p[0]);
		if (i386) {
			r = hostabi_int80(HOSTABI_I386_GETPID);
		} else {
			r = syscall(HOSTABI_X32_BIT | SYS_getpid);
			if (r < 0)
				r = -errno;
		}
		/* Report the answer next to the right one. */
		long pair[2] = {r, (long)getpid()};

		(void)!write(p[1], pair, sizeof(pair));
		_exit(0);
	}
	close(p[1]);
	long pair[2] = {0, -1};
	ssize_t n = read(p[0], pair, sizeof(pair));

	close(p[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		snprintf(why, why_len, "%s getpid killed its caller with %s",
			 i386 ? "int $0x80" : "x32",
			 strsignal(WTERMSIG(status)));
		return false;
	}
	if (n != (ssize_t)sizeof(pair)) {
		snprintf(why, why_len, "the child reported nothing");
		return false;
	}
	got = pair[0];
	if (got != pair[1]) {
		snprintf(why, why_len, "%s getpid returned %ld (%s)",
			 i386 ? "int $0x80" : "x32", got,
			 got < 0 ? strerror((int)-got)
				 : "not the caller's pid");
		return false;
	}
	return true;
}

/* The kernel serves i386 system calls through `int $0x80`. */
static inline bool hostabi_serves_i386(char *why, size_t why_len)
{
	char what[128];

	if (hostabi_try(true, what, sizeof(what)))
		return true;
	snprintf(why, why_len,
		 "this kernel does not serve i386 system calls (%s): "
		 "nothing to bypass the filter with",
		 what);
	return false;
}

/* The kernel serves x32 system calls (numbers with bit 30 set). */
static inline bool hostabi_serves_x32(char *why, size_t why_len)
{
	char what[128];

	if (hostabi_try(false, what, sizeof(what)))
		return true;
	snprintf(why, why_len,
		 "this kernel does not serve x32 system calls (%s): "
		 "nothing to bypass the filter with",
		 what);
	return false;
}
