/*
 * boxctl run: bwrap-like options become a spec; the command runs with
 * boxctl's own stdin, stdout and stderr; SIGINT, SIGTERM and SIGHUP sent
 * to boxctl are forwarded to the run; boxctl exits with the command's
 * status. Every failure before the command starts is one line on stderr
 * and exit status 125. boxctl never writes to stdout here: it belongs to
 * the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "boxctl.h"
#include "parse.h"
#include "run-args.h"
#include "util.h"

static void write_json(const struct run_args *a, const box_run *run,
		       const box_error *e)
{
	_cleanup_free_ char *json = NULL;
	int r;

	if (!a->json)
		return;
	r = run ? box_run_json(run, &json) : box_error_json(e, &json);
	if (r >= 0)
		r = boxctl_write_line(a->result_fd, json);
	if (r < 0)
		boxctl_error("writing the result record: %s", strerror(-r));
}

/* One line for the ends a shell user would not guess from the status. */
static void report_result(const box_result *res)
{
	int sig = box_result_signal(res);
	char buf[64];

	switch (box_result_termination(res)) {
	case BOX_TERM_OUT_OF_MEMORY:
		boxctl_error("run %llu killed: out of memory",
			     (unsigned long long)box_result_run_id(res));
		break;
	case BOX_TERM_WALL_TIMEOUT:
		boxctl_error(
		    "run %llu killed: wall-time limit hit after %s",
		    (unsigned long long)box_result_run_id(res),
		    format_duration(box_result_wall_ns(res), buf, sizeof(buf)));
		break;
	case BOX_TERM_CPU_TIMEOUT:
		boxctl_error("run %llu killed: CPU-time limit reached",
			     (unsigned long long)box_result_run_id(res));
		break;
	case BOX_TERM_KILLED:
		boxctl_error("run %llu killed%s%s",
			     (unsigned long long)box_result_run_id(res),
			     sig > 0 ? " by SIG" : "",
			     sig > 0 && sigabbrev_np(sig) ? sigabbrev_np(sig)
							  : "");
		break;
	case BOX_TERM_EXITED:
	case BOX_TERM_SIGNALED:
	default:
		break;
	}
	if (box_result_seccomp_syscall(res))
		boxctl_error("run %llu killed by seccomp on system call %s",
			     (unsigned long long)box_result_run_id(res),
			     box_result_seccomp_syscall(res));
	if (box_result_execs_refused(res) > 0)
		boxctl_error("run %llu: --no-exec refused %lld exec%s",
			     (unsigned long long)box_result_run_id(res),
			     (long long)box_result_execs_refused(res),
			     box_result_execs_refused(res) == 1 ? "" : "s");
	for (const char *const *c = box_result_caveats(res); *c; c++)
		boxctl_error("warning: not enforced: %s", *c);
}

static int fd_or_null(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 ? fd : -1;
}

/* Follow the run to its end, forwarding signals; returns when finished. */
static void follow_run(box_client *c, box_run *run, int sfd, struct progress *p)
{
	while (box_run_state(run) != BOX_RUN_FINISHED) {
		struct pollfd pfd[2] = {
		    {.fd = box_client_fd(c), .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		};

		int n = poll(pfd, sfd >= 0 ? 2 : 1,
			     progress_timeout(p, box_client_timeout(c)));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Cannot wait in poll: wait without signals. */
			(void)box_run_wait(run);
			return;
		}
		if (sfd >= 0 && pfd[1].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				(void)box_run_kill_async(run,
							 (int)si.ssi_signo);
		}
		/* Readable, or a run to send again after a BUSY. */
		if (pfd[0].revents || n == 0)
			(void)box_run_dispatch(run);
		progress_run(p, run);
	}
}

/*
 * --plan: a dry run. The plan goes to stdout (no command owns it here),
 * as text or as JSON; a refusal is one line on stderr, and with --json
 * also the error record on the result fd, as for a run.
 */
static int plan_only(const struct boxctl *ctl, const struct run_args *a,
		     box_client *early)
{
	_cleanup_(box_client_freep) box_client *c = early;
	_cleanup_free_ char *json = NULL;
	box_plan *plan = NULL;
	char buf[1024];
	int r = 0;

	bool connected = c != NULL;

	if (!c) {
		r = box_client_new(&c);
		if (r >= 0) {
			box_client_set_name(c, "boxctl");
			r = boxctl_client_connect(ctl, c);
			connected = r >= 0;
		}
	}
	if (r >= 0)
		r = box_run_plan(c, a->spec, &plan);
	if (r < 0) {
		const box_error *e = c ? box_client_last_error(c) : NULL;

		if (e) {
			boxctl_error(
			    "%s", boxctl_describe_error(e, buf, sizeof(buf)));
			write_json(a, NULL, e);
		} else {
			boxctl_error("%s", strerror(-r));
		}
		if (c && !connected)
			boxctl_connect_hint(ctl, c, r);
		return BOXCTL_EXIT_RUN_FAILED;
	}
	if (a->json) {
		r = box_plan_json(plan, &json);
		if (r >= 0)
			r = boxctl_write_line(STDOUT_FILENO, json);
	} else {
		r = boxctl_print_plan(stdout, plan);
	}
	box_plan_free(plan);
	if (r < 0) {
		boxctl_error("writing the plan: %s", strerror(-r));
		return BOXCTL_EXIT_RUN_FAILED;
	}
	return 0;
}

/*
 * --tty, or the default with a terminal on stdin and stdout: ask for a
 * terminal of the sandbox's own, as large as ours. Returns whether the
 * run has one.
 */
static bool want_tty(struct run_args *a)
{
	unsigned rows, cols;
	int size_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : STDOUT_FILENO;

	/* Unasked, a run that could not make a terminal keeps the caller's
	 * stdio, as it always did; --tty on such a run fails, saying why. */
	a->tty_asked = a->tty == 1;
	if (a->tty < 0)
		a->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
			 (!a->bare || a->has_dev);
	if (!a->tty)
		return false;
	(void)box_spec_set_tty(a->spec, true);
	if (tty_size(size_fd, &rows, &cols) == 0 && rows && cols)
		(void)box_spec_set_tty_size(a->spec, rows, cols);
	return true;
}

/*
 * A daemon older than interactive runs would take a tty request for one
 * with the wrong number of fds: asked for, say so; by default, run the
 * way that daemon knows, with boxctl's own stdio. Returns whether to go
 * on.
 */
static bool daemon_has_tty(box_client *c, struct run_args *a)
{
	if (box_host_has_feature(box_client_host(c), "tty"))
		return true;
	if (a->tty_asked) {
		boxctl_error("--tty: this boxd cannot make terminals for runs "
			     "(it does not list the feature \"tty\")");
		return false;
	}
	a->tty = 0;
	(void)box_spec_set_tty(a->spec, false);
	return true;
}

/* Is --max-isolation among the options (before the command)? */
/* -h or --help among the options: no daemon needed to print usage. */
/* The client for a run or a plan, connected; its errors are told here. */
static int connect_client(const struct boxctl *ctl, box_client **ret)
{
	box_client *c = NULL;
	int r = box_client_new(&c);

	if (r >= 0) {
		box_client_set_name(c, "boxctl");
		r = boxctl_client_connect(ctl, c);
	}
	if (r < 0) {
		const box_error *e = c ? box_client_last_error(c) : NULL;
		char buf[1024];

		if (e)
			boxctl_error(
			    "%s", boxctl_describe_error(e, buf, sizeof(buf)));
		else
			boxctl_error("%s", strerror(-r));
		if (c)
			boxctl_connect_hint(ctl, c, r);
		box_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int cmd_run(const struct boxctl *ctl, int argc, char **argv)
{
	struct run_args a = {
	    .result_fd = STDERR_FILENO, .perms = -1, .tty = -1};
	box_client *c = NULL;
	box_run *run = NULL;
	_cleanup_close_ int sfd = -1;
	char buf[1024];
	struct progress progress;
	bool connected = false;
	sigset_t fwd;
	int r, status;

	r = box_spec_new(&a.spec);
	if (r < 0) {
		boxctl_error("%s", strerror(-r));
		return BOXCTL_EXIT_RUN_FAILED;
	}
	/* --max-isolation needs the host's answer before the options that
	 * follow it apply: connect first. */
	if (wants_max_isolation(argc, argv) && !run_args_ask_help(argc, argv)) {
		if (connect_client(ctl, &c) < 0) {
			box_spec_free(a.spec);
			return BOXCTL_EXIT_RUN_FAILED;
		}
		connected = true;
		a.host = box_client_host(c);
	}
	r = parse_run_args(&a, argc, argv);
	if (r < 0 || a.help) {
		box_client_free(c);
		box_spec_free(a.spec);
		if (a.help) {
			run_usage(stdout);
			return 0;
		}
		return BOXCTL_EXIT_RUN_FAILED;
	}
	want_tty(&a);
	if (a.plan) {
		status = plan_only(ctl, &a, c);
		box_spec_free(a.spec);
		return status;
	}

	if (c) /* connected early, for --max-isolation */
		box_client_set_busy_retries(c, BOX_BUSY_RETRIES);
	r = c ? 0 : box_client_new(&c);
	if (r >= 0 && !connected) {
		box_client_set_name(c, "boxctl");
		/* follow_run() dispatches throughout: safe to retry. */
		box_client_set_busy_retries(c, BOX_BUSY_RETRIES);
		r = boxctl_client_connect(ctl, c);
		connected = r >= 0;
	}
	if (r >= 0 && a.tty && !daemon_has_tty(c, &a)) {
		box_client_free(c);
		box_spec_free(a.spec);
		return BOXCTL_EXIT_RUN_FAILED;
	}
	if (r >= 0) {
		/*
		 * Signals for the run are read from a signalfd, so a Ctrl-C
		 * becomes a kill request rather than boxctl's death (which
		 * would also kill the run, but without a result).
		 */
		sigemptyset(&fwd);
		sigaddset(&fwd, SIGINT);
		sigaddset(&fwd, SIGTERM);
		sigaddset(&fwd, SIGHUP);
		/* A tty run follows our terminal's size. */
		if (a.tty)
			sigaddset(&fwd, SIGWINCH);
		sigprocmask(SIG_BLOCK, &fwd, NULL);
		sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
		r = box_run_start(c, a.spec, fd_or_null(STDIN_FILENO),
				  fd_or_null(STDOUT_FILENO),
				  fd_or_null(STDERR_FILENO), &run);
	}
	if (r < 0) {
		const box_error *e = c ? box_client_last_error(c) : NULL;

		if (e) {
			boxctl_error(
			    "%s", boxctl_describe_error(e, buf, sizeof(buf)));
			write_json(&a, NULL, e);
		} else {
			boxctl_error("%s", strerror(-r));
		}
		if (c && !connected)
			boxctl_connect_hint(ctl, c, r);
		box_client_free(c);
		box_spec_free(a.spec);
		return BOXCTL_EXIT_RUN_FAILED;
	}

	progress_init(&progress);
	if (a.tty) {
		tty_follow_run(c, run, sfd,
			       isatty(STDIN_FILENO) ? STDIN_FILENO
						    : STDOUT_FILENO,
			       &progress);
		tty_restore();
	} else {
		follow_run(c, run, sfd, &progress);
	}
	if (box_run_error(run))
		boxctl_error("%s", boxctl_describe_error(box_run_error(run),
							 buf, sizeof(buf)));
	else
		report_result(box_run_result(run));
	write_json(&a, run, NULL);
	status = box_run_exit_status(run);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(a.spec);
	return status;
}
