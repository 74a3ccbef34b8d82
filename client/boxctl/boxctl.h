/*
 * boxctl's commands and the few helpers they share. Each command takes
 * the arguments after its name and returns the process exit status.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "boxclient.h"

/* Exit statuses of commands other than run. */
#define BOXCTL_EXIT_FAILURE 1
#define BOXCTL_EXIT_USAGE 2
/* run: boxd or boxctl failed before the command started. */
#define BOXCTL_EXIT_RUN_FAILED 125

struct boxctl {
	const char *socket; /* --socket, or NULL */
};

int cmd_run(const struct boxctl *ctl, int argc, char **argv);
int cmd_ps(const struct boxctl *ctl, int argc, char **argv);
int cmd_kill(const struct boxctl *ctl, int argc, char **argv);
int cmd_status(const struct boxctl *ctl, int argc, char **argv);
int cmd_version(const struct boxctl *ctl, int argc, char **argv);

/* "boxctl: <message>\n" on stderr. */
void boxctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One line for an error record: "<message> (step S, errno ENAME)".
 * Returns buf.
 */
const char *boxctl_describe_error(const box_error *e, char *buf, size_t len);

static inline void box_client_freep(box_client **c)
{
	box_client_free(*c);
}

/* After a failed connect (r): a second line saying what to do, for a
 * socket with no daemon behind it or one the caller may not open. */
void boxctl_connect_hint(const struct boxctl *ctl, box_client *c, int r);

/* box_client_connect() to ctl's socket, saying after a second (at a
 * terminal) that boxctl waits for the daemon to answer. */
int boxctl_client_connect(const struct boxctl *ctl, box_client *c);

/* Connect to the daemon; prints why not on failure. */
int boxctl_connect(const struct boxctl *ctl, box_client **ret_client);

/* Write text and a newline to fd, all of it. */
int boxctl_write_line(int fd, const char *text);

/*
 * tty.c: --tty runs. tty_make_raw() saves fd's modes and makes it raw
 * (restored by tty_restore(), also at exit); tty_size() reads a
 * terminal's size; tty_follow_run() relays between boxctl's stdin and
 * stdout and the run's terminal until the run finishes, forwarding the
 * signals read from sfd (SIGWINCH: size_fd's new size to the run). It
 * makes stdin raw (if a terminal) once the run's terminal is there, so
 * what is said before (progress, errors) reads normally.
 */
int tty_make_raw(int fd);
void tty_restore(void);
int tty_size(int fd, unsigned *ret_rows, unsigned *ret_cols);
struct progress;
void tty_follow_run(box_client *c, box_run *run, int sfd, int size_fd,
		    struct progress *p);

/*
 * progress.c: after a second of waiting on the daemon, one line on
 * stderr saying what for, only if stderr is a terminal.
 * progress_arm()/progress_disarm() bracket a wait inside the library
 * (the handshake): what is said if it lasts. For a run being followed:
 * progress_init() when it is sent, progress_timeout() caps a poll
 * timeout so the second is noticed, progress_run() speaks when due.
 */
struct progress {
	bool on;        /* stderr is a terminal */
	bool done;      /* the run started: nothing more to say */
	bool busy_said; /* retries of a BUSY run need no second story */
	uint64_t since_ns;
	char last[512];
};
void progress_arm(const char *what);
void progress_disarm(void);
void progress_init(struct progress *p);
int progress_timeout(const struct progress *p, int timeout_ms);
void progress_run(struct progress *p, const box_run *run);

/* A dry run's plan as text for people (plan-text.c). */
int boxctl_print_plan(FILE *f, const box_plan *p);
