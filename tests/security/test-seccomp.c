/*
 * The default seccomp filter, attacked from inside real sandboxes: every
 * denied family answers with the filter's errno, other ABIs kill the
 * caller, and TIOCSTI on a terminal handed in as stdio injects nothing.
 * Each attack also runs once without a filter (root may ask for that) to
 * prove the probe can tell "the filter said no" from "the kernel said no"
 * and that the attack is real where nothing filters it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "hostabi.h"
#include "sec.h"

static struct daemon d;

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(seccomp, .init = setup, .fini = teardown, .timeout = 120);

/* cr_skip_test() leaves the test without running its .fini: tear down
 * first, or the daemon outlives the test. */
#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

static void run_probe_pass(box_client *c, const char *probe,
			   const char *const *args, bool no_filter)
{
	box_spec *s = sec_spec(probe, args);
	char *out, *err;
	box_run *run;

	if (no_filter)
		cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >=
			  0);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
}

Test(seccomp, denied_families_get_the_filter_errno)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);

	run_probe_pass(c, "probe-syscalls", NULL, false);
	box_client_free(c);
	/* A root caller's sandbox runs as host uid 0: the same answers. */
	c = connect_root(&d);
	run_probe_pass(c, "probe-syscalls", NULL, false);
	box_client_free(c);
}

Test(seccomp, unfiltered_calls_answer_differently)
{
	const char *const args[] = {"--control", NULL};
	box_client *c = connect_root(&d);

	run_probe_pass(c, "probe-syscalls", args, true);
	box_client_free(c);
}

/*
 * Foreign ABIs: each attack runs only where this kernel serves the ABI
 * (tests/hostabi.h asks it from this unfiltered test process). Where it
 * does not, there is no way in to stop, and the check skips saying so.
 */
static void require_abi(bool i386)
{
	char why[256];

	if (i386 ? !hostabi_serves_i386(why, sizeof(why))
		 : !hostabi_serves_x32(why, sizeof(why)))
		cr_skip_test("%s", why);
}

Test(seccomp, i386_calls_kill_the_caller)
{
	const char *const args[] = {"--abi", "i386", NULL};
	box_client *c;

	require_abi(true);
	c = connect_as(&d, NOBODY, NOBODY);
	run_probe_pass(c, "probe-abi", args, false);
	box_client_free(c);
}

Test(seccomp, x32_calls_kill_the_caller)
{
	const char *const args[] = {"--abi", "x32", NULL};
	box_client *c;

	require_abi(false);
	c = connect_as(&d, NOBODY, NOBODY);
	run_probe_pass(c, "probe-abi", args, false);
	box_client_free(c);
}

Test(seccomp, foreign_abi_call_in_the_command_ends_the_run_with_sigsys)
{
	const char *const args[] = {"--self", NULL};
	const box_result *res;
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	require_abi(true);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-abi", args);
	run = sec_run(c, s, &out, &err);
	res = box_run_result(run);
	cr_assert_not_null(
	    res, "no result: %s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "");
	/* The documented bad-ABI action: the whole process, by SIGSYS. */
	cr_expect_eq(box_result_termination(res), BOX_TERM_SIGNALED,
		     "termination %s\n%s",
		     box_termination_name(box_result_termination(res)), out);
	cr_expect_eq(box_result_signal(res), SIGSYS, "signal %d",
		     box_result_signal(res));
	cr_expect(!strstr(out, "survived"), "%s", out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(seccomp, foreign_abi_is_a_real_way_in_without_the_filter)
{
	const char *const args[] = {"--control", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	require_abi(true);
	c = connect_root(&d);
	s = sec_spec("probe-abi", args);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* ---- TIOCSTI on a terminal passed as stdio ---- */

struct pty {
	int master, slave;
};

static void pty_open(struct pty *p)
{
	struct termios t;

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	/* A host (or container) without devpts has no terminal to hand. */
	if (p->master < 0 && (errno == ENOENT || errno == ENODEV))
		skip_test("no pseudo-terminal on this host (posix_openpt: %s)",
			  strerror(errno));
	cr_assert(p->master >= 0, "posix_openpt: %s", strerror(errno));
	cr_assert(grantpt(p->master) == 0 && unlockpt(p->master) == 0);
	p->slave = open(ptsname(p->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(p->slave >= 0, "open %s: %s", ptsname(p->master),
		  strerror(errno));
	/* Non-canonical so FIONREAD counts every queued input byte; echo
	 * on so an injected byte also shows on the master side. */
	cr_assert(tcgetattr(p->slave, &t) == 0);
	t.c_lflag &= ~(tcflag_t)ICANON;
	t.c_lflag |= ECHO;
	cr_assert(tcsetattr(p->slave, TCSANOW, &t) == 0);
}

/* Whatever the terminal's input queue holds (what a shell would read). */
static int pty_queued_input(struct pty *p, char *buf, size_t len)
{
	int queued = 0, n = 0;

	cr_assert(ioctl(p->slave, FIONREAD, &queued) == 0);
	if (queued > 0)
		n = (int)read(p->slave, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	return queued;
}

/* What reached the master side (echo) before a sentinel we write now:
 * the pty delivers in order, so this waits for nothing but the data. */
static void pty_drain_master(struct pty *p, char *buf, size_t len)
{
	size_t got = 0;

	cr_assert(write(p->slave, "@", 1) == 1);
	for (;;) {
		char c;

		cr_assert(read(p->master, &c, 1) == 1);
		if (c == '@')
			break;
		if (got + 1 < len)
			buf[got++] = c;
	}
	buf[got] = 0;
}

static box_run *run_on_pty(box_client *c, box_spec *s, struct pty *p,
			   char **err)
{
	int perr[2];
	box_run *run = NULL;
	size_t cap = 8192, len = 0;
	ssize_t n;

	cr_assert(pipe2(perr, O_CLOEXEC) == 0);
	cr_assert(box_run_start(c, s, p->slave, p->slave, perr[1], &run) >= 0);
	close(perr[1]);
	*err = malloc(cap);
	while ((n = read(perr[0], *err + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	(*err)[len] = 0;
	close(perr[0]);
	box_run_wait(run);
	return run;
}

Test(seccomp, tiocsti_on_a_pty_injects_nothing)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = sec_spec("probe-tiocsti", NULL);
	char *err, queued[64], echoed[256];
	struct pty p;
	box_run *run;

	pty_open(&p);
	run = run_on_pty(c, s, &p, &err);
	sec_expect_pass(run, "", err);
	cr_expect_eq(pty_queued_input(&p, queued, sizeof(queued)), 0,
		     "bytes waiting in the terminal's input: '%s'", queued);
	pty_drain_master(&p, echoed, sizeof(echoed));
	cr_expect_str_empty(echoed, "the terminal echoed '%s'", echoed);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	close(p.master);
	close(p.slave);
}

Test(seccomp, tiocsti_without_the_filter_does_inject)
{
	const char *const args[] = {"--control", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = sec_spec("probe-tiocsti", args);
	char *err, *knob, queued[64], echoed[256];
	struct pty p;
	box_run *run;

	knob = sec_read_file("/proc/sys/dev/tty/legacy_tiocsti");
	if (knob && knob[0] == '0') {
		free(knob);
		box_spec_free(s);
		box_client_free(c);
		skip_test("legacy_tiocsti is 0: the kernel itself refuses "
			  "TIOCSTI, so there is no injection to show");
	}
	free(knob);
	pty_open(&p);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	run = run_on_pty(c, s, &p, &err);
	sec_expect_pass(run, "", err);
	/* The three variants, the high-bit ones included. */
	cr_expect_eq(pty_queued_input(&p, queued, sizeof(queued)), 3, "%s",
		     err);
	cr_expect_str_eq(queued, "XYZ");
	pty_drain_master(&p, echoed, sizeof(echoed));
	cr_expect(strstr(echoed, "XYZ"), "echo: '%s'", echoed);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	close(p.master);
	close(p.slave);
}

/* ---- TIOCSTI from a --tty run ---- */

/*
 * A tty run, started by a caller that holds a terminal of its own (p)
 * and even offers it as stdio: a tty run must ignore those fds, so the
 * only terminal inside is the one the sandbox made. What the run writes
 * on that terminal comes back through the master the daemon handed over;
 * it is returned in *ret_out.
 */
static box_run *run_tty_beside_pty(box_client *c, box_spec *s, struct pty *p,
				   char **ret_out)
{
	size_t cap = 16384, len = 0;
	char *out = malloc(cap);
	box_run *run = NULL;
	int master = -1;

	cr_assert(out);
	cr_assert(box_spec_set_tty(s, true) >= 0);
	cr_assert(box_run_start(c, s, p->slave, p->slave, p->slave, &run) >= 0);
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = box_client_fd(c), .events = POLLIN},
		    {.fd = master, .events = POLLIN},
		};
		ssize_t n;

		if (box_run_state(run) == BOX_RUN_FINISHED && master < 0)
			break;
		cr_assert(poll(pfd, 2, TEST_PATIENCE_MS) > 0,
			  "the run made no progress");
		if (pfd[0].revents)
			box_run_dispatch(run);
		if (master < 0 && box_run_tty_fd(run) >= 0)
			master = box_run_tty_fd(run);
		if (master >= 0 && pfd[1].revents) {
			n = read(master, out + len, cap - 1 - len);
			if (n > 0)
				len += (size_t)n;
			else
				master = -1; /* EIO: the terminal is gone */
		}
		/* A run that failed before it started has no terminal. */
		if (box_run_state(run) == BOX_RUN_FINISHED &&
		    box_run_tty_fd(run) < 0)
			break;
	}
	out[len] = 0;
	*ret_out = out;
	return run;
}

Test(seccomp, tiocsti_in_a_tty_run_never_reaches_the_callers_terminal)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = sec_spec("probe-tiocsti", NULL);
	char *out, queued[64], echoed[256];
	struct pty p;
	box_run *run;

	pty_open(&p);
	run = run_tty_beside_pty(c, s, &p, &out);
	/* The filter refuses it on the sandbox's own terminal too. */
	sec_expect_pass(run, out, "");
	cr_expect_eq(pty_queued_input(&p, queued, sizeof(queued)), 0,
		     "bytes waiting in the caller's terminal: '%s'", queued);
	pty_drain_master(&p, echoed, sizeof(echoed));
	cr_expect_str_empty(echoed, "the caller's terminal echoed '%s'",
			    echoed);
	free(out);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	close(p.master);
	close(p.slave);
}

Test(seccomp, tiocsti_in_an_unfiltered_tty_run_stays_inside)
{
	const char *const args[] = {"--control", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = sec_spec("probe-tiocsti", args);
	char *out, *knob, queued[64], echoed[256];
	struct pty p;
	box_run *run;

	knob = sec_read_file("/proc/sys/dev/tty/legacy_tiocsti");
	if (knob && knob[0] == '0') {
		free(knob);
		box_spec_free(s);
		box_client_free(c);
		skip_test("legacy_tiocsti is 0: the kernel itself refuses "
			  "TIOCSTI, so there is no injection to show");
	}
	free(knob);
	pty_open(&p);
	/* No filter at all: the injection works, and lands in the only
	 * terminal the sandbox has, its own. The caller's is out of reach
	 * by construction, not by the filter. */
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	run = run_tty_beside_pty(c, s, &p, &out);
	sec_expect_pass(run, out, "");
	/* Each injected byte is echoed by the sandbox's terminal, between
	 * the probe's own lines. */
	cr_expect(strstr(out, "\nXPROBE") && strstr(out, "\nYPROBE") &&
		      strstr(out, "\nZPROBE"),
		  "no echo of X, Y and Z inside: '%s'", out);
	cr_expect_eq(pty_queued_input(&p, queued, sizeof(queued)), 0,
		     "bytes waiting in the caller's terminal: '%s'", queued);
	pty_drain_master(&p, echoed, sizeof(echoed));
	cr_expect_str_empty(echoed, "the caller's terminal echoed '%s'",
			    echoed);
	free(out);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	close(p.master);
	close(p.slave);
}

/*
 * A policy with a kill rule makes pid 1 listen for seccomp notifications:
 * the command sends it the listener fd right after installing the filter.
 * If a setup step fails before that (a cwd that does not exist), or the
 * policy itself stops the hand-over (sendmsg denied), the run must still
 * end with the failed step, not wait for a descriptor that never comes.
 * The wall timeout only bounds the test if it does wait.
 */
static void expect_step_failure(const char *policy, const char *cwd,
				const char *step, int errnum)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	const box_error *e;
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy,
				       strlen(policy)) >= 0);
	if (cwd)
		cr_assert(box_spec_set_cwd(s, cwd) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 30000000000ULL) >= 0);
	run = sec_run(c, s, &out, &err);
	e = box_run_error(run);
	cr_expect_not_null(e, "the run ended by %s instead of failing at %s",
			   box_run_result(run)
			       ? box_termination_name(box_result_termination(
				     box_run_result(run)))
			       : "nothing",
			   step);
	if (e) {
		cr_expect_str_eq(box_error_step(e), step, "%s",
				 box_error_message(e));
		cr_expect_eq(box_error_errno(e), errnum, "%s",
			     box_error_message(e));
	}
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(seccomp, kill_rule_policy_with_a_bad_cwd_reports_the_chdir)
{
	expect_step_failure("base default\nkill ptrace\n", "/nonexistent",
			    "chdir", ENOENT);
}

Test(seccomp, kill_rule_policy_that_blocks_its_listener_reports_seccomp)
{
	expect_step_failure("default allow\nkill ptrace\nerrno EPERM sendmsg\n",
			    NULL, "seccomp", EPERM);
}

/*
 * An allowlist that forbids, in turn, each call the command's setup makes
 * once the filter is loaded (sendmsg to hand over the listener, execve,
 * and write and exit_group on the way out after a failed exec): the run
 * either is refused at once with the call named, or ends at once with the
 * call named; it never waits. The wall timeout only bounds the test.
 */
#define ALLOWLIST_BASE                                                   \
	"default kill\n"                                                 \
	"allow read pread64 mmap mprotect munmap brk arch_prctl access " \
	"openat newfstatat fstat close set_tid_address set_robust_list " \
	"rseq prlimit64 getrandom exit exit_group rt_sigaction "         \
	"rt_sigprocmask sigaltstack futex getpid ioctl lseek"

static box_run *run_allowlist(box_client *c, const char *extra, const char *cmd,
			      char **out, char **err)
{
	const char *argv[] = {cmd, NULL};
	char policy[1024];
	box_spec *s = spec_argv(argv);
	box_run *run;

	snprintf(policy, sizeof(policy), "%s %s\n", ALLOWLIST_BASE, extra);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy,
				       strlen(policy)) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 30000000000ULL) >= 0);
	run = sec_run(c, s, out, err);
	box_spec_free(s);
	return run;
}

static void expect_killed_at(const box_run *run, const char *call)
{
	const box_result *res = box_run_result(run);

	cr_assert_not_null(
	    res, "no result: %s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "-");
	cr_expect_neq(box_result_termination(res), BOX_TERM_WALL_TIMEOUT,
		      "the run hung until its timeout");
	cr_expect_str_eq(box_result_seccomp_syscall(res)
			     ? box_result_seccomp_syscall(res)
			     : "(none)",
			 call);
}

Test(seccomp, allowlist_without_sendmsg_is_refused_naming_it)
{
	box_client *c = connect_root(&d);
	const char *const needles[] = {"sendmsg", NULL};
	char *out, *err;
	box_run *run =
	    run_allowlist(c, "write execve", "/bin/true", &out, &err);

	sec_expect_error(run, BOX_ERROR_BAD_REQUEST, needles);
	free(out);
	free(err);
	box_run_free(run);
	box_client_free(c);
}

Test(seccomp, allowlist_without_execve_ends_at_execve)
{
	box_client *c = connect_root(&d);
	char *out, *err;
	box_run *run =
	    run_allowlist(c, "sendmsg write", "/bin/true", &out, &err);

	expect_killed_at(run, "execve");
	free(out);
	free(err);
	box_run_free(run);
	box_client_free(c);
}

Test(seccomp, allowlist_without_write_ends_at_write_after_a_failed_exec)
{
	box_client *c = connect_root(&d);
	char *out, *err;
	box_run *run =
	    run_allowlist(c, "sendmsg execve", "/nonexistent/cmd", &out, &err);

	expect_killed_at(run, "write");
	free(out);
	free(err);
	box_run_free(run);
	box_client_free(c);
}

Test(seccomp, allowlist_with_every_setup_call_runs)
{
	box_client *c = connect_root(&d);
	char *out, *err;
	box_run *run =
	    run_allowlist(c, "sendmsg execve write", "/bin/true", &out, &err);
	const box_result *res = box_run_result(run);

	cr_assert_not_null(
	    res, "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "-");
	cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED, "%s",
		     box_termination_name(box_result_termination(res)));
	cr_expect_eq(box_result_exit_code(res), 0);
	free(out);
	free(err);
	box_run_free(run);
	box_client_free(c);
}

/* ---- socket families a network namespace does not confine ---- */

static bool host_serves_vsock(void)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void run_vsock_probe(enum box_net net, const char *mode)
{
	const char *const args[] = {mode, NULL};
	box_client *c = connect_root(&d);
	box_spec *s = sec_spec("probe-vsock", args);
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_set_net(s, net) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(seccomp, vsock_and_other_families_are_refused_without_the_host_network)
{
	run_vsock_probe(BOX_NET_NONE, "--refused");
	run_vsock_probe(BOX_NET_LOOPBACK, "--refused");
}

Test(seccomp, vsock_is_the_kernels_business_with_the_host_network)
{
	if (!host_serves_vsock())
		cr_skip_test("this kernel has no AF_VSOCK (socket() fails on "
			     "the host): nothing to tell apart");
	run_vsock_probe(BOX_NET_HOST, "--served");
}

/*
 * The way in for kill rules, end to end: the command hands pid 1 the
 * notification fd over their private pair, pid 1 answers the notification
 * by killing the caller, and the result names the call. uname(1) makes
 * the uname system call whatever else it does.
 */
Test(seccomp, kill_rule_kills_the_caller_and_names_the_call)
{
	static const char policy[] = "default allow\nkill uname\n";
	const char *argv[] = {"/bin/uname", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	const box_result *res;
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy,
				       strlen(policy)) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 30000000000ULL) >= 0);
	run = sec_run(c, s, &out, &err);
	res = box_run_result(run);
	cr_assert_not_null(
	    res, "no result: %s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "");
	cr_expect_eq(box_result_termination(res), BOX_TERM_SIGNALED,
		     "termination %s, stdout '%s'",
		     box_termination_name(box_result_termination(res)), out);
	cr_expect_eq(box_result_signal(res), SIGSYS, "signal %d",
		     box_result_signal(res));
	cr_expect_str_eq(box_result_seccomp_syscall(res) ?: "(none)", "uname");
	cr_expect_str_eq(out, "", "uname printed: the call went through");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}
