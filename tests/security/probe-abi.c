/*
 * Tries denied calls through the other x86 ABIs: the i386 "int $0x80"
 * entry and x32 numbers (bit 30 set). The filter's rules are written for
 * x86_64 numbers, and the same number means another call in another ABI
 * (i386 310 is unshare, x86_64 310 is process_vm_readv): a filter that
 * let foreign ABIs through would be bypassed wholesale. The filter's
 * answer is SECCOMP_RET_KILL_PROCESS (seccomp.c, SCMP_FLTATR_ACT_BADARCH),
 * so each attempt runs in a forked child whose death by SIGSYS is the
 * expected outcome.
 *
 *   probe-abi --abi ABI  each attempt of ABI (i386 or x32) in a child;
 *                        expect SIGSYS. The test asks only for the ABIs
 *                        the kernel serves (tests/hostabi.h): a call the
 *                        kernel would refuse anyway proves nothing.
 *   probe-abi --control  without a filter: show the i386 path is real
 *                        (i386 unshare(CLONE_NEWUSER) succeeds)
 *   probe-abi --self     the probe itself calls i386 unshare; the run
 *                        must end with SIGSYS (never prints "survived")
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define X32_BIT 0x40000000L

/* i386 numbers */
#define I386_MOUNT 21
#define I386_GETPID 20
#define I386_KEYCTL 288
#define I386_UNSHARE 310

static long int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

struct attempt {
	const char *name;
	bool i386;
	long nr;
	long a, b, c;
};

static const struct attempt attempts[] = {
    {"i386_getpid", true, I386_GETPID, 0, 0, 0},
    {"i386_unshare_newuser", true, I386_UNSHARE, CLONE_NEWUSER, 0, 0},
    {"i386_keyctl", true, I386_KEYCTL, 1, 0, 0},
    {"i386_mount", true, I386_MOUNT, 0, 0, 0},
    {"x32_getpid", false, X32_BIT | SYS_getpid, 0, 0, 0},
    {"x32_unshare_newuser", false, X32_BIT | SYS_unshare, CLONE_NEWUSER, 0, 0},
    {"x32_keyctl", false, X32_BIT | SYS_keyctl, 1, 0, 0},
};

static long attempt_call(const struct attempt *a)
{
	if (a->i386)
		return int80(a->nr, a->a, a->b, a->c);
	return syscall(a->nr, a->a, a->b, a->c);
}

/* ret: raw return (negative errno for int80), sig: what killed it. */
static void run_attempt(const struct attempt *a, long *ret, int *sig)
{
	int p[2], status;
	pid_t pid;

	*ret = 0;
	*sig = 0;
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		*sig = -1;
		return;
	}
	if (pid == 0) {
		long r;

		close(p[0]);
		errno = 0;
		r = attempt_call(a);
		if (!a->i386 && r < 0)
			r = -errno;
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], ret, sizeof(*ret)) != (ssize_t)sizeof(*ret))
		*ret = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		*sig = WTERMSIG(status);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "--self") == 0) {
		long r;

		probe_begin("abi-self", 1);
		r = int80(I386_UNSHARE, CLONE_NEWUSER, 0, 0);
		/* Reaching this line is the failure. */
		probe_check("i386_unshare_in_main_process", false,
			    "survived, int $0x80 returned %ld", r);
		return probe_end();
	}
	if (strcmp(mode, "--control") == 0) {
		probe_begin("abi-control", 1);
		for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]);
		     i++) {
			const struct attempt *a = &attempts[i];
			long r;
			int sig;

			run_attempt(a, &r, &sig);
			probe_info(a->name, "unfiltered ret=%ld signal=%d", r,
				   sig);
			/* The proof that the i386 entry is a real way in
			 * when nothing filters it. */
			if (strcmp(a->name, "i386_unshare_newuser") == 0)
				probe_check(a->name, sig == 0 && r == 0,
					    "unfiltered i386 unshare ret=%ld "
					    "signal=%d",
					    r, sig);
		}
		return probe_end();
	}

	if (strcmp(mode, "--abi") != 0 || argc < 3 ||
	    (strcmp(argv[2], "i386") != 0 && strcmp(argv[2], "x32") != 0)) {
		dprintf(2, "usage: probe-abi --abi i386|x32 | --self | "
			   "--control\n");
		return 2;
	}
	bool want_i386 = strcmp(argv[2], "i386") == 0;

	probe_begin("abi", 1);
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		const struct attempt *a = &attempts[i];
		long r;
		int sig;

		if (a->i386 != want_i386)
			continue;
		run_attempt(a, &r, &sig);
		probe_check(a->name, sig == SIGSYS,
			    "child ended by signal %d (want %d, SIGSYS), "
			    "call returned %ld",
			    sig, SIGSYS, r);
	}
	return probe_end();
}
