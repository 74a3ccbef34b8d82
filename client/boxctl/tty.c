/*
 * boxctl run --tty: relay between the caller's terminal and the terminal
 * the sandbox made for the run. The sandbox's terminal lives in its own
 * devpts; boxctl holds its master (received from boxd with Started) and
 * is the only way into it. The caller's terminal is never handed to the
 * sandbox, so nothing inside can push input into it (TIOCSTI), change its
 * modes or read from it behind boxctl's back.
 *
 * The caller's terminal goes raw for the run, so that every key
 * (^C, ^Z, ^\ included) reaches the sandbox's terminal, whose own line
 * discipline turns them into signals for its foreground process group.
 * It must come back exactly as it was on every way out: the run's end, a
 * failure, a signal boxctl forwards, the daemon going away mid-run
 * (the connection's end finishes the run). tty_restore() is idempotent
 * and also runs at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "boxctl.h"
#include "util.h"

/* How long the drain after the run's end waits for output still in the
 * terminal (its buffer flushes asynchronously); not a test threshold. */
#define DRAIN_WAIT_MS 200

static struct termios saved;
static int saved_fd = -1;

void tty_restore(void)
{
	if (saved_fd < 0)
		return;
	/* TCSADRAIN: what the run wrote is shown before the modes go back. */
	(void)tcsetattr(saved_fd, TCSADRAIN, &saved);
	saved_fd = -1;
}

int tty_make_raw(int fd)
{
	struct termios raw;
	static bool registered;

	if (tcgetattr(fd, &saved) < 0)
		return negerrno();
	raw = saved;
	cfmakeraw(&raw);
	/* Output post-processing stays the sandbox terminal's business:
	 * its own ONLCR already turned \n into \r\n. */
	if (!registered && atexit(tty_restore) == 0)
		registered = true;
	saved_fd = fd;
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0) {
		saved_fd = -1;
		return negerrno();
	}
	return 0;
}

int tty_size(int fd, unsigned *ret_rows, unsigned *ret_cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return negerrno();
	*ret_rows = ws.ws_row;
	*ret_cols = ws.ws_col;
	return 0;
}

/* All of buf to a blocking fd (the caller's terminal or stdout). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negerrno();
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Master to stdout: > 0 bytes moved, 0 nothing now, < 0 the terminal is
 * gone (EIO once no process holds its slave side) or stdout is. */
static ssize_t pump_out(int master, int out)
{
	char buf[16384];
	ssize_t n = read(master, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -EIO;
	if (write_all(out, buf, (size_t)n) < 0)
		return -EPIPE;
	return n;
}

/* What the command wrote before it ended and boxctl has not shown yet. */
static void drain(int master, int out)
{
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};

		if (poll(&p, 1, DRAIN_WAIT_MS) <= 0)
			return;
		if (pump_out(master, out) < 0)
			return;
	}
}

struct relay {
	int in, out, master;
	bool in_open, master_open;
	char buf[4096]; /* caller's input the sandbox has not taken yet */
	size_t len;
};

/* Take the run's terminal once Started has brought it: true the first
 * time. */
static bool relay_attach(struct relay *r, box_run *run)
{
	if (r->master >= 0 || box_run_tty_fd(run) < 0)
		return false;
	r->master = box_run_tty_fd(run);
	r->master_open = true;
	(void)fcntl(r->master, F_SETFL, fcntl(r->master, F_GETFL) | O_NONBLOCK);
	return true;
}

static void on_input(struct relay *r)
{
	ssize_t n = read(r->in, r->buf, sizeof(r->buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Input ended (a pipe on stdin with --tty): the sandbox's
		 * terminal reads that as an end of file, ^D. */
		r->in_open = false;
		r->buf[0] = 0x04;
		r->len = 1;
		return;
	}
	r->len = (size_t)n;
}

/* Caller's input to the master, without ever blocking on a sandbox that
 * does not read: output keeps flowing meanwhile. */
static void push_input(struct relay *r)
{
	ssize_t n = write(r->master, r->buf, r->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		r->len = 0;
		return;
	}
	memmove(r->buf, r->buf + n, r->len - (size_t)n);
	r->len -= (size_t)n;
}

static void on_signals(int sfd, box_run *run, int size_fd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		unsigned rows, cols;

		if (si.ssi_signo == SIGWINCH) {
			if (tty_size(size_fd, &rows, &cols) == 0)
				(void)box_run_tty_resize(run, rows, cols);
			continue;
		}
		(void)box_run_kill_async(run, (int)si.ssi_signo);
	}
}

void tty_follow_run(box_client *c, box_run *run, int sfd, int size_fd,
		    struct progress *p)
{
	struct relay r = {
	    .in = STDIN_FILENO,
	    .out = STDOUT_FILENO,
	    .master = -1,
	    .in_open = true,
	};

	while (box_run_state(run) != BOX_RUN_FINISHED) {
		struct pollfd pfd[4] = {
		    {.fd = box_client_fd(c), .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = -1},
		    {.fd = -1},
		};
		unsigned rows, cols;
		int n;

		if (relay_attach(&r, run)) {
			/* Raw from here to the end of the run; a caller
			 * whose stdin is not a terminal (--tty with a
			 * pipe) has nothing to set. */
			if (isatty(r.in))
				(void)tty_make_raw(r.in);
			/* A resize while the sandbox was being built found
			 * no terminal to follow it yet. */
			if (tty_size(size_fd, &rows, &cols) == 0 && rows &&
			    cols)
				(void)box_run_tty_resize(run, rows, cols);
		}
		if (r.master_open) {
			pfd[2].fd = r.master;
			pfd[2].events = POLLIN | (r.len ? POLLOUT : 0);
			if (r.in_open && !r.len) {
				pfd[3].fd = r.in;
				pfd[3].events = POLLIN;
			}
		}
		n = poll(pfd, 4, progress_timeout(p, box_client_timeout(c)));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			(void)box_run_wait(run);
			break;
		}
		if (pfd[1].revents)
			on_signals(sfd, run, size_fd);
		if (pfd[3].revents)
			on_input(&r);
		if (pfd[2].revents & POLLOUT)
			push_input(&r);
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR) &&
		    pump_out(r.master, r.out) < 0)
			r.master_open = false;
		if (pfd[0].revents || n == 0)
			(void)box_run_dispatch(run);
		progress_run(p, run);
	}
	/* A short run's Started and result can come in one read: the
	 * loop above then never saw the terminal, which still holds all
	 * the command wrote. */
	(void)relay_attach(&r, run);
	if (r.master_open)
		drain(r.master, r.out);
}
