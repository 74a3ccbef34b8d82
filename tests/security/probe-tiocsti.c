/*
 * Tries to type into the terminal the sandbox was handed as stdin/stdout
 * (the bubblewrap CVE-2017-5226 class): whatever lands in the terminal's
 * input queue is read by the caller's shell once the sandbox is gone.
 *
 * To make an unfiltered TIOCSTI really work, the probe first makes the
 * terminal its controlling tty (it is a session leader without one, so
 * TIOCSCTTY succeeds on a terminal nobody else controls); TIOCSTI then
 * only needs the filter to let it through. Each variant injects a
 * different byte: X plain, Y with bit 32 set in the request, Z with all
 * high 32 bits set (the kernel truncates the request to 32 bits, so a
 * filter comparing 64 bits would miss them). TIOCLINUX (console
 * selection paste) is tried too.
 *
 * Results go to stderr, a pipe: nothing this probe prints can be taken
 * for injected terminal input.
 *
 * --control: run without a filter; every injection must succeed, which
 * proves the filtered run's EPERM is what keeps the bytes out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

#define TIOCL_PASTESEL 3

static long inject(int fd, unsigned long request, char c)
{
	long r = syscall(SYS_ioctl, fd, request, &c);

	return r < 0 ? -errno : r;
}

int main(int argc, char **argv)
{
	bool control = argc > 1 && strcmp(argv[1], "--control") == 0;
	const struct {
		const char *name;
		unsigned long request;
		char c;
	} variants[] = {
	    {"tiocsti", TIOCSTI, 'X'},
	    {"tiocsti_bit32", (1UL << 32) | TIOCSTI, 'Y'},
	    {"tiocsti_high32", 0xffffffff00000000UL | TIOCSTI, 'Z'},
	};
	long r;

	probe_begin(control ? "tiocsti-control" : "tiocsti", 2);
	if (!probe_check("stdin_is_a_terminal", isatty(0) == 1, "isatty(0)=%d",
			 isatty(0)))
		return probe_end();
	r = ioctl(0, TIOCSCTTY, 0) < 0 ? -errno : 0;
	probe_info("tiocsctty", "%s", r ? probe_errno_name((int)-r) : "ok");

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		r = inject(0, variants[i].request, variants[i].c);
		if (control)
			probe_check(variants[i].name, r == 0, "unfiltered: %s",
				    r ? probe_errno_name((int)-r) : "injected");
		else
			probe_check(variants[i].name, r == -EPERM,
				    "result %s, want EPERM",
				    r ? probe_errno_name((int)-r) : "injected");
	}
	if (!control) {
		char sub = TIOCL_PASTESEL;

		r = syscall(SYS_ioctl, 0, TIOCLINUX, &sub);
		r = r < 0 ? -errno : r;
		probe_check("tioclinux", r == -EPERM, "result %s, want EPERM",
			    r ? probe_errno_name((int)-r) : "accepted");
	}
	return probe_end();
}
