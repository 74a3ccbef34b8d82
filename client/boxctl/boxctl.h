/*
 * boxctl's commands and the few helpers they share. Each command takes
 * the arguments after its name and returns the process exit status.
 */
#pragma once

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

/* Connect to the daemon; prints why not on failure. */
int boxctl_connect(const struct boxctl *ctl, box_client **ret_client);

/* Write text and a newline to fd, all of it. */
int boxctl_write_line(int fd, const char *text);

/*
 * tty.c: --tty runs. tty_make_raw() saves fd's modes and makes it raw
 * (restored by tty_restore(), also at exit); tty_size() reads a
 * terminal's size; tty_follow_run() relays between boxctl's stdin and
 * stdout and the run's terminal until the run finishes, forwarding the
 * signals read from sfd (SIGWINCH: size_fd's new size to the run).
 */
int tty_make_raw(int fd);
void tty_restore(void);
int tty_size(int fd, unsigned *ret_rows, unsigned *ret_cols);
void tty_follow_run(box_client *c, box_run *run, int sfd, int size_fd);

/* A dry run's plan as text for people (plan-text.c). */
int boxctl_print_plan(FILE *f, const box_plan *p);
