/*
 * Saying what boxctl waits for. A run normally starts in milliseconds;
 * when boxctl has waited on the daemon for more than a second (a daemon
 * still starting behind its socket, a BUSY being waited out, a sandbox
 * being built without a pooled one) a person at a terminal deserves to
 * know why nothing happens. One line per new reason, on stderr, only
 * when stderr is a terminal: scripts and logs see exactly what they saw
 * before.
 *
 * The handshake blocks inside libboxclient, so that wait is told by a
 * one-shot timer whose handler only write()s a line prepared in advance.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "boxctl.h"
#include "util.h"

#define PROGRESS_AFTER_NS 1000000000ULL

static char alarm_line[256];
static size_t alarm_len;

static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	(void)!write(STDERR_FILENO, alarm_line, alarm_len);
	errno = saved;
}

void progress_init(struct progress *p)
{
	*p = (struct progress){
	    .on = isatty(STDERR_FILENO) == 1,
	    .since_ns = now_ns(),
	};
}

void progress_arm(const char *what)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {.it_value = {.tv_sec = 1}};

	if (isatty(STDERR_FILENO) != 1)
		return;
	alarm_len = (size_t)snprintf(alarm_line, sizeof(alarm_line),
				     "boxctl: %s\n", what);
	if (alarm_len >= sizeof(alarm_line))
		alarm_len = sizeof(alarm_line) - 1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == 0)
		(void)setitimer(ITIMER_REAL, &it, NULL);
}

void progress_disarm(void)
{
	struct itimerval none = {0};

	(void)setitimer(ITIMER_REAL, &none, NULL);
}

int progress_timeout(const struct progress *p, int timeout_ms)
{
	uint64_t now = now_ns(), due = p->since_ns + PROGRESS_AFTER_NS;
	int left;

	if (!p->on || p->done)
		return timeout_ms;
	left = now >= due ? 0 : (int)((due - now + 999999) / 1000000);
	return timeout_ms < 0 || left < timeout_ms ? left : timeout_ms;
}

void progress_run(struct progress *p, const box_run *run)
{
	const box_error *busy = box_run_busy(run);
	char line[512];

	if (!p->on || p->done || now_ns() < p->since_ns + PROGRESS_AFTER_NS)
		return;
	switch (box_run_state(run)) {
	case BOX_RUN_PENDING:
		if (busy)
			snprintf(line, sizeof(line),
				 "boxd is busy (%s); trying again",
				 box_error_message(busy));
		else if (p->busy_said)
			return; /* a retry in flight: same story */
		else
			snprintf(line, sizeof(line),
				 "waiting for boxd to accept the run");
		break;
	case BOX_RUN_ACCEPTED:
		snprintf(line, sizeof(line),
			 "waiting for boxd to build the sandbox");
		break;
	case BOX_RUN_STARTED:
	case BOX_RUN_FINISHED:
	default:
		/* Running: the command's time, not boxctl's waiting. */
		p->done = true;
		return;
	}
	if (busy)
		p->busy_said = true;
	if (strcmp(line, p->last) != 0) {
		boxctl_error("%s", line);
		snprintf(p->last, sizeof(p->last), "%s", line);
	}
}
