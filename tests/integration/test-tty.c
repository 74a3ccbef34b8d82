/*
 * Interactive runs: boxctl run --tty started on a terminal of the test's
 * own (a pty pair: the test types on the master side as a person would,
 * boxctl has the slave as stdin, stdout, stderr and controlling
 * terminal). Checks that the sandbox's terminal is its own, that job
 * control and ^C work inside, that a resize reaches the command, and that
 * the caller's terminal modes come back after the run, also when a
 * signal ends it or the daemon is killed in the middle of it.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
}

TestSuite(tty, .init = setup, .fini = teardown, .timeout = 120);

/* cr_skip_test() leaves the test without running its .fini: tear down
 * first, or the daemon outlives the test. */
#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

/* boxctl on a terminal of the test's: master is ours, slave its. */
struct outer {
	int master;
	int slave; /* our own handle on boxctl's terminal, for tcgetattr */
	pid_t pid;
	char out[65536];
	size_t len;
};

static void outer_start(struct outer *o, const char *const *run_args)
{
	const char *bin = getenv("BOXCTL_BIN");
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	const char *argv[32];
	int n = 0;

	if (!bin)
		skip_test("BOXCTL_BIN is not set (run through meson test)");
	memset(o, 0, sizeof(*o));
	o->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (o->master < 0 && (errno == ENOENT || errno == ENODEV))
		skip_test("no pseudo-terminal on this host (posix_openpt: "
			  "%s)",
			  strerror(errno));
	cr_assert(o->master >= 0, "posix_openpt: %s", strerror(errno));
	cr_assert(grantpt(o->master) == 0 && unlockpt(o->master) == 0);
	cr_assert(ioctl(o->master, TIOCSWINSZ, &ws) == 0);
	o->slave = open(ptsname(o->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(o->slave >= 0);

	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = d.sock;
	argv[n++] = "run";
	for (; run_args && *run_args && n < 31; run_args++)
		argv[n++] = *run_args;
	argv[n] = NULL;

	o->pid = fork();
	cr_assert(o->pid >= 0);
	if (o->pid == 0) {
		int t;

		/* A session of its own whose controlling terminal is the
		 * slave: boxctl is where a shell would have put it. */
		setsid();
		t = open(ptsname(o->master), O_RDWR);
		if (t < 0 || dup2(t, 0) < 0 || dup2(t, 1) < 0 || dup2(t, 2) < 0)
			_exit(99);
		execv(bin, (char **)argv);
		_exit(98);
	}
}

/* Read what the terminal shows until needle appears in it (true) or
 * boxctl's terminal has nothing more to say (false). */
static bool outer_expect(struct outer *o, const char *needle)
{
	for (;;) {
		struct pollfd p = {.fd = o->master, .events = POLLIN};
		ssize_t n;

		o->out[o->len] = 0;
		if (strstr(o->out, needle))
			return true;
		if (poll(&p, 1, TEST_PATIENCE_MS) <= 0)
			return false;
		n = read(o->master, o->out + o->len,
			 sizeof(o->out) - 1 - o->len);
		if (n <= 0)
			return false;
		o->len += (size_t)n;
	}
}

static void outer_type(struct outer *o, const char *text)
{
	cr_assert_eq(write(o->master, text, strlen(text)),
		     (ssize_t)strlen(text));
}

/* Written on the slave after boxctl has exited; see outer_wait(). */
#define OUTER_END "<end of boxctl's output>"

/* Wait for boxctl, keeping its output flowing; its exit status. */
static int outer_wait(struct outer *o)
{
	int status = 0;

	for (int waited = 0;; waited += 50) {
		struct pollfd p = {.fd = o->master, .events = POLLIN};
		pid_t w = waitpid(o->pid, &status, WNOHANG);

		if (w == o->pid)
			break;
		cr_assert(waited < TEST_PATIENCE_MS, "boxctl did not exit: %s",
			  o->out);
		if (poll(&p, 1, 50) > 0) {
			ssize_t n = read(o->master, o->out + o->len,
					 o->len + 1 < sizeof(o->out)
					     ? sizeof(o->out) - 1 - o->len
					     : 0);

			if (n > 0)
				o->len += (size_t)n;
		}
	}
	/* The rest it wrote before exiting may still be on its way: a pty
	 * hands data to the other side from a kernel worker, so an empty
	 * master right after the exit proves nothing. A mark written on our
	 * own handle of the slave queues behind it; once the mark is read,
	 * so is everything before it. */
	cr_assert_eq(write(o->slave, OUTER_END, strlen(OUTER_END)),
		     (ssize_t)strlen(OUTER_END));
	cr_assert(outer_expect(o, OUTER_END), "the end mark never came: %s",
		  o->out);
	o->len = (size_t)(strstr(o->out, OUTER_END) - o->out);
	o->out[o->len] = 0;
	cr_assert(WIFEXITED(status), "boxctl died of signal %d",
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

static void outer_close(struct outer *o)
{
	close(o->master);
	close(o->slave);
}

static bool same_modes(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
	       a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
	       memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) == 0;
}

Test(tty, the_command_gets_a_terminal_of_the_sandboxs_own)
{
	const char *const args[] = {
	    "--", "/bin/sh", "-c",
	    "echo TTY=$(tty); echo PTS=$(ls /dev/pts | tr '\\n' ' '); "
	    "test -t 0 && test -t 1 && test -t 2 && echo ALL-TERMINALS; "
	    "echo DEV=$(stat -L -c %d /proc/self/fd/0)=",
	    NULL};
	struct outer o;
	struct stat st;
	char dev[64];

	outer_start(&o, args);
	cr_assert_eq(outer_wait(&o), 0, "%s", o.out);
	/* Another devpts instance than the caller's terminal lives on. */
	cr_assert(fstat(o.slave, &st) == 0);
	snprintf(dev, sizeof(dev), "DEV=%llu=", (unsigned long long)st.st_dev);
	cr_expect(strstr(o.out, "DEV="), "%s", o.out);
	cr_expect(!strstr(o.out, dev), "the caller's devpts (%s): %s", dev,
		  o.out);
	/* A pty, the first of a devpts instance holding nothing else: the
	 * caller's terminal and every other of the host are not there. */
	cr_expect(strstr(o.out, "TTY=/dev/pts/0"), "%s", o.out);
	cr_expect(strstr(o.out, "PTS=0 ptmx\r"), "%s", o.out);
	cr_expect(strstr(o.out, "ALL-TERMINALS"), "%s", o.out);
	outer_close(&o);
}

/* A command that is gone before the caller has even seen it start: its
 * Started and its result reach boxctl together, and what it wrote must
 * still be shown. Several runs, since how the two arrive is timing. */
Test(tty, a_short_runs_output_is_all_shown)
{
	for (int i = 0; i < 8; i++) {
		char word[32];
		const char *const args[] = {"--", "/bin/echo", word, NULL};
		struct outer o;

		snprintf(word, sizeof(word), "SHORT-%d-RUN", i);
		outer_start(&o, args);
		cr_assert_eq(outer_wait(&o), 0, "%s", o.out);
		cr_expect(strstr(o.out, word), "run %d showed: '%s'", i, o.out);
		outer_close(&o);
	}
}

Test(tty, no_tty_keeps_the_callers_stdio)
{
	const char *const args[] = {
	    "--no-tty",
	    "--",
	    "/bin/sh",
	    "-c",
	    "test -t 0 && echo INHERITED; ls /dev/pts | wc -l",
	    NULL};
	struct outer o;

	outer_start(&o, args);
	cr_assert_eq(outer_wait(&o), 0, "%s", o.out);
	/* As before --tty existed: the caller's terminal itself. */
	cr_expect(strstr(o.out, "INHERITED"), "%s", o.out);
	outer_close(&o);
}

Test(tty, bash_has_job_control)
{
	const char *const args[] = {"--setenv",    "PS1",  "PROMPT> ",
				    "--",          "bash", "--norc",
				    "--noprofile", "-i",   NULL};
	struct outer o;

	if (!host_has_program("bash"))
		skip_test("bash is not installed");
	outer_start(&o, args);
	cr_assert(outer_expect(&o, "PROMPT> "), "no prompt: %s", o.out);
	/* Markers are computed, so the echo of what is typed cannot pass
	 * for them. */
	outer_type(&o, "case $- in *m*) echo MONITOR-$((6*7));; esac\r");
	cr_assert(outer_expect(&o, "MONITOR-42"), "%s", o.out);
	outer_type(&o, "sleep 100 &\r");
	outer_type(&o, "jobs; echo JOBS-$((6*7))\r");
	cr_assert(outer_expect(&o, "JOBS-42"), "%s", o.out);
	cr_expect(strstr(o.out, "Running"), "%s", o.out);
	outer_type(&o, "kill %1; exit 7\r");
	cr_expect_eq(outer_wait(&o), 7, "%s", o.out);
	cr_expect(!strstr(o.out, "no job control"), "%s", o.out);
	cr_expect(!strstr(o.out, "cannot set terminal process group"), "%s",
		  o.out);
	outer_close(&o);
}

Test(tty, ctrl_c_interrupts_the_foreground_grandchild)
{
	const char *const args[] = {"--", "/bin/sh", "-c",
				    "/bin/sh -c 'echo READY; exec sleep 30'",
				    NULL};
	struct outer o;

	outer_start(&o, args);
	cr_assert(outer_expect(&o, "READY"), "%s", o.out);
	/* ^C typed on the caller's (raw) terminal: the sandbox's line
	 * discipline makes it SIGINT for its foreground group. */
	outer_type(&o, "\x03");
	cr_expect_eq(outer_wait(&o), 130, "%s", o.out);
	outer_close(&o);
}

Test(tty, a_resize_reaches_the_command)
{
	const char *const args[] = {
	    "--", "/bin/sh", "-c",
	    "echo SIZE1=$(stty size); echo READY; read x; "
	    "echo SIZE2=$(stty size)",
	    NULL};
	struct winsize ws = {.ws_row = 33, .ws_col = 101};
	struct outer o;

	outer_start(&o, args);
	cr_assert(outer_expect(&o, "READY"), "%s", o.out);
	cr_expect(strstr(o.out, "SIZE1=24 80"), "%s", o.out);
	/* The kernel sends boxctl SIGWINCH, in order before the newline
	 * typed after it. */
	cr_assert(ioctl(o.master, TIOCSWINSZ, &ws) == 0);
	outer_type(&o, "\r");
	cr_assert_eq(outer_wait(&o), 0, "%s", o.out);
	cr_expect(strstr(o.out, "SIZE2=33 101"), "%s", o.out);
	outer_close(&o);
}

Test(tty, the_callers_modes_come_back_after_the_run)
{
	const char *const args[] = {"--", "/bin/sh", "-c",
				    "echo READY; read x; exit 3", NULL};
	struct termios before, during, after;
	struct outer o;

	outer_start(&o, args);
	cr_assert(tcgetattr(o.slave, &before) == 0);
	cr_assert(outer_expect(&o, "READY"), "%s", o.out);
	/* Raw while the run lasts: no echo, no line editing of ours. */
	cr_assert(tcgetattr(o.slave, &during) == 0);
	cr_expect(!(during.c_lflag & (ECHO | ICANON | ISIG)));
	outer_type(&o, "\r");
	cr_expect_eq(outer_wait(&o), 3, "%s", o.out);
	cr_assert(tcgetattr(o.slave, &after) == 0);
	cr_expect(same_modes(&before, &after),
		  "lflag %#x -> %#x, iflag %#x -> %#x", before.c_lflag,
		  after.c_lflag, before.c_iflag, after.c_iflag);
	outer_close(&o);
}

Test(tty, the_callers_modes_come_back_when_the_daemon_dies)
{
	const char *const args[] = {"--", "/bin/sh", "-c",
				    "echo READY; sleep 60", NULL};
	struct termios before, during, after;
	struct outer o;

	outer_start(&o, args);
	cr_assert(tcgetattr(o.slave, &before) == 0);
	cr_assert(outer_expect(&o, "READY"), "%s", o.out);
	cr_assert(tcgetattr(o.slave, &during) == 0);
	cr_expect(!same_modes(&before, &during), "boxctl never went raw");
	daemon_kill9(&d);
	/* The connection's end finishes the run: 125, modes restored. */
	cr_expect_eq(outer_wait(&o), 125, "%s", o.out);
	cr_assert(tcgetattr(o.slave, &after) == 0);
	cr_expect(same_modes(&before, &after),
		  "lflag %#x -> %#x, iflag %#x -> %#x", before.c_lflag,
		  after.c_lflag, before.c_iflag, after.c_iflag);
	outer_close(&o);
}

Test(tty, the_callers_modes_come_back_after_a_forwarded_signal)
{
	const char *const args[] = {"--", "/bin/sh", "-c",
				    "echo READY; sleep 60", NULL};
	struct termios before, after;
	struct outer o;

	outer_start(&o, args);
	cr_assert(tcgetattr(o.slave, &before) == 0);
	cr_assert(outer_expect(&o, "READY"), "%s", o.out);
	/* SIGTERM to boxctl goes to the run, which ends of it. */
	cr_assert(kill(o.pid, SIGTERM) == 0);
	cr_expect_eq(outer_wait(&o), 128 + SIGTERM, "%s", o.out);
	cr_assert(tcgetattr(o.slave, &after) == 0);
	cr_expect(same_modes(&before, &after),
		  "lflag %#x -> %#x, iflag %#x -> %#x", before.c_lflag,
		  after.c_lflag, before.c_iflag, after.c_iflag);
	outer_close(&o);
}

Test(tty, ctrl_backslash_quits_the_foreground_group)
{
	const char *const args[] = {"--", "/bin/sh", "-c",
				    "/bin/sh -c 'echo READY; exec sleep 30'",
				    NULL};
	struct outer o;

	outer_start(&o, args);
	cr_assert(outer_expect(&o, "READY"), "%s", o.out);
	outer_type(&o, "\x1c");
	cr_expect_eq(outer_wait(&o), 128 + SIGQUIT, "%s", o.out);
	outer_close(&o);
}

Test(tty, ctrl_z_stops_a_job_and_fg_resumes_it)
{
	const char *const args[] = {"--setenv",    "PS1",  "PROMPT> ",
				    "--",          "bash", "--norc",
				    "--noprofile", "-i",   NULL};
	struct outer o;

	if (!host_has_program("bash"))
		skip_test("bash is not installed");
	outer_start(&o, args);
	cr_assert(outer_expect(&o, "PROMPT> "), "no prompt: %s", o.out);
	/* Said by the job itself, so it is in the foreground by then. */
	outer_type(&o, "sh -c 'echo FG-$((6*7)); read x; "
		       "echo RESUMED-$((6*7))-$x'\r");
	cr_assert(outer_expect(&o, "FG-42"), "%s", o.out);
	/* The foreground job stops; bash takes the terminal back. */
	outer_type(&o, "\x1a");
	cr_assert(outer_expect(&o, "Stopped"), "%s", o.out);
	outer_type(&o, "jobs -s; echo STOPPED-$((6*7))\r");
	cr_assert(outer_expect(&o, "STOPPED-42"), "%s", o.out);
	/* fg gives it the terminal back: it reads what is typed once bash
	 * has said which job it resumes (typed earlier, bash's own line
	 * editor would take it as the next command). */
	outer_type(&o, "fg\r");
	cr_assert(outer_expect(&o, "fg\r\nsh -c 'echo FG"), "%s", o.out);
	outer_type(&o, "hello\r");
	cr_assert(outer_expect(&o, "RESUMED-42-hello"), "%s", o.out);
	outer_type(&o, "exit 5\r");
	cr_expect_eq(outer_wait(&o), 5, "%s", o.out);
	outer_close(&o);
}
