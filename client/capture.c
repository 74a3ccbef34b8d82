/*
 * Conveniences over a run: capture (feed stdin from a buffer, collect
 * stdout and stderr into bounded buffers, wait) and popen-style processes
 * whose stdio are pipes the caller holds. Capture multiplexes every pipe
 * and the connection in one poll loop, so a command that fills one pipe
 * while we write another never deadlocks. It must never raise SIGPIPE on
 * the caller (a command may close its stdin early) and never hold on to
 * the sandbox's ends of the pipes once the daemon has them.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/*
 * After the result, output still in the pipes is drained; if the write
 * ends stay open this long without data (a daemon keeping a copy), stop.
 */
#define CAPTURE_DRAIN_MS 5000
#define CAPTURE_CHUNK (64 * 1024)

static int pipe_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return negerrno();
	return 0;
}

/*
 * write() to a pipe whose reader is gone raises SIGPIPE, and MSG_NOSIGNAL
 * is for sockets only: block the signal around the write and take back a
 * SIGPIPE we caused, leaving one that was already pending alone.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/* Keep up to buf->cap bytes; count the rest as truncation. */
static void capture_append(struct capture_buf *buf, const char *data, size_t n)
{
	size_t room = buf->cap - buf->len;
	size_t take = n < room ? n : room;

	if (take < n)
		buf->truncated = true;
	if (take == 0)
		return;
	if (buf->len + take + 1 > buf->alloc) {
		size_t want = buf->alloc ? buf->alloc * 2 : CAPTURE_CHUNK;
		char *p;

		if (want < buf->len + take + 1)
			want = buf->len + take + 1;
		if (want > buf->cap + 1 && buf->cap < SIZE_MAX)
			want = buf->cap + 1;
		p = realloc(buf->data, want);
		if (!p) {
			/* Out of memory: what does not fit is dropped. */
			buf->truncated = true;
			return;
		}
		buf->data = p;
		buf->alloc = want;
	}
	memcpy(buf->data + buf->len, data, take);
	buf->len += take;
	buf->data[buf->len] = '\0';
}

/* Read what fd has into buf; closes fd (sets -1) at EOF or error. */
static void capture_read(int *fd, struct capture_buf *buf)
{
	char chunk[CAPTURE_CHUNK];

	for (;;) {
		ssize_t n = read(*fd, chunk, sizeof(chunk));

		if (n > 0) {
			capture_append(buf, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		*fd = safe_close(*fd);
		return;
	}
}

static uint64_t ms_since(uint64_t start_ns)
{
	return (now_ns() - start_ns) / 1000000;
}

int box_run_capture(box_client *c, const box_spec *spec, const void *stdin_data,
		    size_t stdin_len, size_t max_output, box_run **ret_run)
{
	_cleanup_close_ int in_r = -1, in_w = -1, out_r = -1, out_w = -1,
			    err_r = -1, err_w = -1;
	const char *in_data = stdin_data;
	size_t in_off = 0;
	uint64_t idle_since = 0;
	struct box_run *run;
	int p[2], r;

	if (!c || !spec || !ret_run || (!stdin_data && stdin_len))
		return -EINVAL;
	if (stdin_data) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return negerrno();
		in_r = p[0];
		in_w = p[1];
		r = pipe_nonblock(in_w);
		if (r < 0)
			return r;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return negerrno();
	out_r = p[0];
	out_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return negerrno();
	err_r = p[0];
	err_w = p[1];
	r = pipe_nonblock(out_r);
	if (r >= 0)
		r = pipe_nonblock(err_r);
	if (r < 0)
		return r;

	r = box_run_start(c, spec, in_r, out_w, err_w, &run);
	if (r < 0)
		return r;
	/*
	 * The daemon holds its own copies now; ours would keep the pipes
	 * from ever reaching EOF.
	 */
	in_r = safe_close(in_r);
	out_w = safe_close(out_w);
	err_w = safe_close(err_w);
	run->captured = true;
	run->out.cap = max_output;
	run->err.cap = max_output;
	if (in_w >= 0 && stdin_len == 0)
		in_w = safe_close(in_w);

	for (;;) {
		struct pollfd pfd[4];
		bool finished = box_run_state(run) == BOX_RUN_FINISHED;
		int n, timeout = -1;

		/* Nobody reads stdin after the end. */
		if (finished && in_w >= 0)
			in_w = safe_close(in_w);
		if (finished && out_r < 0 && err_r < 0)
			break;
		if (finished) {
			uint64_t idle;

			if (!idle_since)
				idle_since = now_ns();
			idle = ms_since(idle_since);
			if (idle >= CAPTURE_DRAIN_MS)
				break;
			timeout = (int)(CAPTURE_DRAIN_MS - idle);
		}
		/* A run to send again after a BUSY: dispatch in time. */
		if (!finished && box_client_timeout(c) >= 0 &&
		    (timeout < 0 || box_client_timeout(c) < timeout))
			timeout = box_client_timeout(c);
		pfd[0] = (struct pollfd){.fd = finished ? -1 : box_client_fd(c),
					 .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = out_r, .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = err_r, .events = POLLIN};
		pfd[3] = (struct pollfd){.fd = in_w, .events = POLLOUT};
		n = poll(pfd, ELEMENTSOF(pfd), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = negerrno();
			/* Leave the run to the connection to finish. */
			box_run_free(run);
			return r;
		}
		if (n == 0) {
			if (!finished)
				(void)box_client_dispatch(c);
			continue;
		}
		if (pfd[3].revents) {
			ssize_t w = write_nosigpipe(in_w, in_data + in_off,
						    stdin_len - in_off);

			if (w > 0)
				in_off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				/* EPIPE: the rest is dropped */
				in_w = safe_close(in_w);
			if (in_w >= 0 && in_off == stdin_len)
				in_w = safe_close(in_w);
		}
		if (pfd[1].revents) {
			capture_read(&out_r, &run->out);
			idle_since = 0;
		}
		if (pfd[2].revents) {
			capture_read(&err_r, &run->err);
			idle_since = 0;
		}
		if (pfd[0].revents)
			/* A broken connection ends the run with a record. */
			(void)box_client_dispatch(c);
	}
	/* Empty streams still read as "" rather than NULL. */
	if (!run->out.data)
		run->out.data = calloc(1, 1);
	if (!run->err.data)
		run->err.data = calloc(1, 1);
	*ret_run = run;
	return 0;
}

static const char *capture_get(const struct box_run *run,
			       const struct capture_buf *buf, size_t *ret_len)
{
	if (!run->captured || !buf->data)
		return NULL;
	if (ret_len)
		*ret_len = buf->len;
	return buf->data;
}

const char *box_run_stdout(const box_run *run, size_t *ret_len)
{
	return capture_get(run, &run->out, ret_len);
}

const char *box_run_stderr(const box_run *run, size_t *ret_len)
{
	return capture_get(run, &run->err, ret_len);
}

bool box_run_stdout_truncated(const box_run *run)
{
	return run->out.truncated;
}

bool box_run_stderr_truncated(const box_run *run)
{
	return run->err.truncated;
}

static void close_fds3(int (*fds)[3])
{
	for (int i = 0; i < 3; i++)
		safe_close((*fds)[i]);
}

struct box_process {
	struct box_run *run;
	int fds[3]; /* our ends, -1 where not piped */
};

int box_process_open(box_client *c, const box_spec *spec, unsigned pipes,
		     box_process **ret_process)
{
	_cleanup_(close_fds3) int ours[3] = {-1, -1, -1};
	_cleanup_(close_fds3) int theirs[3] = {-1, -1, -1};
	int child[3];
	struct box_process *proc;
	struct box_run *run;
	int r;

	if (!c || !spec || !ret_process ||
	    (pipes &
	     ~(unsigned)(BOX_PIPE_STDIN | BOX_PIPE_STDOUT | BOX_PIPE_STDERR)))
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		int p[2];

		if (!(pipes & (1u << i))) {
			/* Like popen(): the other streams are the caller's. */
			child[i] = fcntl(i, F_GETFD) >= 0 ? i : -1;
			continue;
		}
		if (pipe2(p, O_CLOEXEC) < 0)
			return negerrno();
		/* stdin: the command reads p[0]; stdout/err: it writes p[1]. */
		ours[i] = i == 0 ? p[1] : p[0];
		theirs[i] = i == 0 ? p[0] : p[1];
		child[i] = theirs[i];
	}
	proc = calloc(1, sizeof(*proc));
	if (!proc)
		return -ENOMEM;
	/* Never retried: the caller reads these pipes before it waits, and
	 * a duplicate kept for a retry would hold their EOF off. */
	if (spec_message(spec)->n_argv == 0) {
		free(proc);
		return -EINVAL;
	}
	r = run_send(c, spec_message(spec), child[0], child[1], child[2], false,
		     &run);
	if (r < 0) {
		free(proc);
		return r;
	}
	proc->run = run;
	for (int i = 0; i < 3; i++)
		proc->fds[i] = TAKE_FD(ours[i]);
	*ret_process = proc;
	return 0;
}

int box_open_process_in(box_client *c, const box_spec *spec,
			box_process **ret_process)
{
	return box_process_open(c, spec, BOX_PIPE_STDOUT, ret_process);
}

int box_open_process_out(box_client *c, const box_spec *spec,
			 box_process **ret_process)
{
	return box_process_open(c, spec, BOX_PIPE_STDIN, ret_process);
}

int box_open_process(box_client *c, const box_spec *spec,
		     box_process **ret_process)
{
	return box_process_open(c, spec, BOX_PIPE_STDIN | BOX_PIPE_STDOUT,
				ret_process);
}

int box_open_process_full(box_client *c, const box_spec *spec,
			  box_process **ret_process)
{
	return box_process_open(
	    c, spec, BOX_PIPE_STDIN | BOX_PIPE_STDOUT | BOX_PIPE_STDERR,
	    ret_process);
}

int box_process_stdin(const box_process *p)
{
	return p->fds[0];
}
int box_process_stdout(const box_process *p)
{
	return p->fds[1];
}
int box_process_stderr(const box_process *p)
{
	return p->fds[2];
}

void box_process_close_stdin(box_process *p)
{
	if (p)
		p->fds[0] = safe_close(p->fds[0]);
}

const box_run *box_process_run(const box_process *p)
{
	return p->run;
}

int box_process_close(box_process *p, box_run **ret_run)
{
	int status;

	if (!p)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		p->fds[i] = safe_close(p->fds[i]);
	/* A broken connection still leaves a record to report. */
	(void)box_run_wait(p->run);
	status = box_run_exit_status(p->run);
	if (ret_run && status >= 0)
		*ret_run = p->run;
	else
		box_run_free(p->run);
	free(p);
	return status;
}
