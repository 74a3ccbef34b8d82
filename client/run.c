/*
 * Runs: starting one with its three stdio fds, following its events
 * (accepted, started, then one result or error), waiting for it blocking
 * or by dispatch, killing it. Any number of runs may be in flight on one
 * connection; each is found by the request id of its RunRequest, which
 * every event about it carries.
 *
 * A run always ends with exactly one record, made up here with code
 * BOX_ERROR_CLIENT when the connection breaks first, so callers have one
 * place to look. A run the daemon turns away BUSY, saying when to come
 * back, waits here (still pending, still in flight under its last request
 * id) and is sent again with a new one; only for that are duplicates of
 * the caller's fds kept, and only until the daemon accepts the run.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* The record of last resort, when there is no memory for a real one. */
static struct box_error run_error_oom = {
    .code = BOX_ERROR_CLIENT,
    .message = (char *)"out of memory",
    .errno_value = ENOMEM,
    .retry_after_ms = -1,
};

static void run_set_error(struct box_run *run, struct box_error *e)
{
	run->error = e ? e : &run_error_oom;
}

static int run_new(box_client *c, struct box_run **ret_run)
{
	struct box_run *run = calloc(1, sizeof(*run));

	if (!run)
		return -ENOMEM;
	run->client = c;
	run->state = BOX_RUN_PENDING;
	run->pid = -1;
	run->tty_fd = -1;
	*ret_run = run;
	return 0;
}

static struct run_retry *retry_free(struct run_retry *rt)
{
	if (!rt)
		return NULL;
	boxd__v1__run_request__free_unpacked(rt->msg, NULL);
	for (size_t i = 0; i < ELEMENTSOF(rt->fds); i++)
		safe_close(rt->fds[i]);
	error_free(rt->busy);
	free(rt);
	return NULL;
}

/* A copy of msg and of the fds, or NULL: the run is then not retried. */
static struct run_retry *retry_new(const Boxd__V1__RunRequest *msg,
				   const int fds[3])
{
	struct run_retry *rt = calloc(1, sizeof(*rt));
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = boxd__v1__run_request__get_packed_size(msg);

	if (!rt)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(rt->fds); i++)
		rt->fds[i] = -1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return retry_free(rt);
	boxd__v1__run_request__pack(msg, buf);
	rt->msg = boxd__v1__run_request__unpack(NULL, len, buf);
	if (!rt->msg)
		return retry_free(rt);
	for (size_t i = 0; i < ELEMENTSOF(rt->fds); i++) {
		rt->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (rt->fds[i] < 0)
			return retry_free(rt);
	}
	return rt;
}

/*
 * The wait before retry number n (0: the first): the daemon's delay,
 * doubled each time up to a cap the daemon's own delay may exceed, plus
 * up to a quarter more, from the clock's low bits: clients turned away
 * together spread out.
 */
static uint64_t retry_delay_ns(uint32_t after_ms, unsigned n)
{
	uint64_t ms = after_ms ? after_ms : 1;

	for (unsigned i = 0; i < n && ms < BOX_BUSY_RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > BOX_BUSY_RETRY_MAX_MS)
		ms = after_ms > BOX_BUSY_RETRY_MAX_MS ? after_ms
						      : BOX_BUSY_RETRY_MAX_MS;
	ms += now_ns() % (ms / 4 + 1);
	return ms * 1000000;
}

void run_destroy(struct box_run *run)
{
	retry_free(run->retry);
	safe_close(run->tty_fd);
	boxd__v1__plan__free_unpacked(run->plan, NULL);
	result_free(run->result);
	if (run->error != &run_error_oom)
		error_free(run->error);
	free(run->out.data);
	free(run->err.data);
	free(run);
}

/* In flight: on the client's list, where events find it (oldest first). */
static void run_link(box_client *c, struct box_run *run)
{
	struct box_run **tail;

	for (tail = &c->runs; *tail; tail = &(*tail)->next)
		;
	run->next = NULL;
	*tail = run;
}

static void run_unlink(box_client *c, struct box_run *run)
{
	for (struct box_run **pp = &c->runs; *pp; pp = &(*pp)->next) {
		if (*pp == run) {
			*pp = run->next;
			run->next = NULL;
			return;
		}
	}
}

struct box_run *run_find(box_client *c, uint64_t request_id)
{
	for (struct box_run *run = c->runs; run; run = run->next)
		if (run->request_id == request_id)
			return run;
	return NULL;
}

/*
 * The run's record is in: it leaves the connection's runs in flight (its
 * request id is free again) and, if the caller let go of it, goes.
 */
static void run_finish(struct box_run *run)
{
	run->retry = retry_free(run->retry);
	run->state = BOX_RUN_FINISHED;
	run->kill_signal = 0;
	if (run->client)
		run_unlink(run->client, run);
	if (run->orphaned)
		run_destroy(run);
}

static void run_on_accepted(struct box_run *run, uint64_t id)
{
	run->has_id = true;
	run->id = id;
	run->state = BOX_RUN_ACCEPTED;
	/* The daemon has its own duplicates now. */
	run->retry = retry_free(run->retry);
	if (run->kill_signal) {
		int sig = run->kill_signal;

		run->kill_signal = 0;
		/* Failure breaks the connection, which ends the run. */
		(void)request_send_kill(run->client, run->id, sig, NULL);
	}
}

static void run_on_started(struct box_run *run,
			   const Boxd__V1__Started *started)
{
	if (!run->has_id) {
		run->has_id = true;
		run->id = started->run_id;
	}
	if (started->has_pid)
		run->pid = started->pid;
	/* The terminal's master rides on a tty run's Started (fdpass.h:
	 * received close-on-exec). A daemon that sent none leaves -1. */
	if (run->tty && run->tty_fd < 0 && run->client)
		run->tty_fd = TAKE_FD(run->client->event_fd);
	run->state = BOX_RUN_STARTED;
}

/* Takes msg. */
static void run_on_result(struct box_run *run, Boxd__V1__Result *msg)
{
	run->result = result_new(msg);
	if (!run->result) {
		boxd__v1__result__free_unpacked(msg, NULL);
		run_set_error(run, NULL);
	}
	if (!run->has_id && run->result) {
		run->has_id = true;
		run->id = msg->run_id;
	}
	run_finish(run);
}

/* Takes msg. */
static void run_on_plan(struct box_run *run, Boxd__V1__Plan *msg)
{
	run->plan = msg;
	run_finish(run);
}

/* The run's record is e (taken; NULL: out of memory). */
static void run_on_error(struct box_run *run, struct box_error *e)
{
	run_set_error(run, e);
	if (e && e->has_run_id && !run->has_id) {
		run->has_id = true;
		run->id = e->run_id;
	}
	run_finish(run);
}

/*
 * An Error carrying the run's request id. Before Accepted it is the
 * answer to the RunRequest: a refusal, or a sandbox that could not even
 * be created. After Accepted the run ends only with a Result or an Error
 * naming its run id; an Error without it is about the request id itself
 * (the daemon saying the id is already in use, which this library never
 * does) and leaves the run alone.
 */
static void run_on_daemon_error(struct box_run *run, const Boxd__V1__Error *pb)
{
	struct run_retry *rt = run->retry;

	if (run->state != BOX_RUN_PENDING &&
	    !(pb->has_run_id && pb->run_id == run->id)) {
		conn_set_last_error(run->client, error_from_pb(pb));
		return;
	}
	/* A run killed before it was accepted is not sent again. */
	if (rt && !run->kill_signal && pb->code == BOXD__V1__ERROR_CODE__BUSY &&
	    pb->has_retry_after_ms &&
	    rt->sent_again < run->client->busy_retries) {
		struct box_error *e = error_from_pb(pb);

		if (e) {
			error_free(rt->busy);
			rt->busy = e;
			rt->due_ns =
			    now_ns() +
			    retry_delay_ns(pb->retry_after_ms, rt->sent_again);
			return;
		}
	}
	run_on_error(run, error_from_pb(pb));
}

static bool run_waits_to_retry(const struct box_run *run)
{
	return run->retry && run->retry->due_ns;
}

/* Stop waiting: the run ends with the BUSY it was waiting out. */
static void run_give_up(struct box_run *run)
{
	struct box_error *e = run->retry->busy;

	run->retry->busy = NULL;
	run_on_error(run, e);
}

/* Send run's request again, under a new request id. */
static void run_send_again(box_client *c, struct box_run *run)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	struct run_retry *rt = run->retry;
	int r;

	rt->due_ns = 0;
	rt->sent_again++;
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	req.run = rt->msg;
	r = conn_send(c, &req, rt->fds, run->tty ? 0 : ELEMENTSOF(rt->fds),
		      &run->request_id);
	/* A broken connection has ended every run in flight, this one too. */
	if (r < 0 && run->state != BOX_RUN_FINISHED)
		run_give_up(run);
}

void run_send_due(box_client *c)
{
	struct box_run *run;

	/* A send may end any run (the connection breaking): look again
	 * from the start after each. */
again:
	for (run = c->runs; run; run = run->next) {
		if (run_waits_to_retry(run) && run->retry->due_ns <= now_ns() &&
		    conn_check(c) == 0) {
			run_send_again(c, run);
			goto again;
		}
	}
}

uint64_t run_next_due_ns(const box_client *c)
{
	uint64_t next = 0;

	for (const struct box_run *run = c->runs; run; run = run->next)
		if (run_waits_to_retry(run) &&
		    (!next || run->retry->due_ns < next))
			next = run->retry->due_ns;
	return next;
}

/* A Started, Result or Error naming a run id must name this run's. */
static bool run_id_fits(const struct box_run *run, uint64_t id)
{
	return !run->has_id || run->id == id;
}

int run_handle_event(struct box_run *run, Boxd__V1__Event *ev)
{
	int r = 0;

	/* int: protobuf-c adds a sizing member no switch should name. */
	switch ((int)ev->msg_case) {
	case BOXD__V1__EVENT__MSG_ACCEPTED:
		/* A dry run is never accepted: it is answered by a Plan. */
		if (run->dry_run || run->state != BOX_RUN_PENDING) {
			r = -EPROTO;
			break;
		}
		run_on_accepted(run, ev->accepted->run_id);
		break;
	case BOXD__V1__EVENT__MSG_STARTED:
		if (run->dry_run || !run_id_fits(run, ev->started->run_id)) {
			r = -EPROTO;
			break;
		}
		run_on_started(run, ev->started);
		break;
	case BOXD__V1__EVENT__MSG_RESULT:
		if (run->dry_run || !run_id_fits(run, ev->result->run_id)) {
			r = -EPROTO;
			break;
		}
		run_on_result(run, ev->result);
		ev->result = NULL;
		ev->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
		break;
	case BOXD__V1__EVENT__MSG_PLAN:
		if (!run->dry_run) {
			r = -EPROTO;
			break;
		}
		run_on_plan(run, ev->plan);
		ev->plan = NULL;
		ev->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
		break;
	case BOXD__V1__EVENT__MSG_ERROR:
		run_on_daemon_error(run, ev->error);
		break;
	default:
		/* A RunList, a KillReply, ...: not an answer to a run. */
		r = -EPROTO;
		break;
	}
	boxd__v1__event__free_unpacked(ev, NULL);
	return r;
}

void run_fail_all(box_client *c, const struct box_error *e)
{
	struct box_run *run, *next;

	/* run_finish() unlinks (and may free) each run: walk a step ahead. */
	for (run = c->runs; run; run = next) {
		next = run->next;
		run_on_error(run, error_dup(e));
	}
}

void run_detach_all(box_client *c)
{
	struct box_run *run;

	while ((run = c->runs)) {
		c->runs = run->next;
		run->next = NULL;
		run->client = NULL;
		run->retry = retry_free(run->retry);
		run_set_error(run, error_new(BOX_ERROR_CLIENT,
					     "the connection was closed before "
					     "the run finished",
					     NULL, ENOTCONN));
		run->state = BOX_RUN_FINISHED;
		run->kill_signal = 0;
		if (run->orphaned)
			run_destroy(run);
	}
}

Boxd__V1__Plan *run_take_plan(struct box_run *run)
{
	Boxd__V1__Plan *plan = run->plan;

	run->plan = NULL;
	return plan;
}

int run_send(box_client *c, const Boxd__V1__RunRequest *msg, int stdin_fd,
	     int stdout_fd, int stderr_fd, bool may_retry,
	     struct box_run **ret_run)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	_cleanup_close_ int devnull = -1;
	int fds[3] = {stdin_fd, stdout_fd, stderr_fd};
	struct box_run *run;
	int r;

	r = conn_check(c);
	if (r < 0)
		return r;
	/* A daemon without the feature would ignore the field and let the
	 * command exec anything: refuse rather than run unconfined. */
	if (msg->no_exec &&
	    !box_host_has_feature(box_client_host(c), "no_exec")) {
		conn_client_error(c, -EOPNOTSUPP,
				  "this boxd cannot refuse later execs "
				  "(no_exec)");
		return -EOPNOTSUPP;
	}
	if (msg->write_ephemeral &&
	    !box_host_has_feature(box_client_host(c), "write_ephemeral")) {
		conn_client_error(c, -EOPNOTSUPP,
				  "this boxd cannot discard writes "
				  "(write_ephemeral)");
		return -EOPNOTSUPP;
	}

	/* The daemon wants exactly three fds: fill unset slots. */
	for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
		if (fds[i] >= 0)
			continue;
		if (devnull < 0) {
			devnull =
			    open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
			if (devnull < 0) {
				r = negerrno();
				goto fail;
			}
		}
		fds[i] = devnull;
	}

	r = run_new(c, &run);
	if (r < 0)
		goto fail;
	run->dry_run = msg->has_dry_run && msg->dry_run;
	/* A tty run sends no stdio: its terminal is the sandbox's. */
	run->tty = msg->has_tty && msg->tty;
	/* Without memory or fds to spare, the run is simply not retried. */
	if (may_retry && c->busy_retries && !run->dry_run)
		run->retry = retry_new(msg, fds);
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	/* pack() only reads it. */
	req.run = (Boxd__V1__RunRequest *)msg;
	/* Nothing is read while a send succeeds: the run is linked before
	 * any event about it can be routed. */
	r = conn_send(c, &req, fds, run->tty ? 0 : ELEMENTSOF(fds),
		      &run->request_id);
	if (r < 0) {
		run_destroy(run);
		goto fail;
	}
	run_link(c, run);
	*ret_run = run;
	return 0;
fail:
	/* A broken connection has already said why. */
	if (conn_check(c) == 0)
		conn_client_error(c, r, "cannot start the run: %s",
				  strerror(-r));
	return r;
}

int box_run_start(box_client *c, const box_spec *spec, int stdin_fd,
		  int stdout_fd, int stderr_fd, box_run **ret_run)
{
	if (!c || !spec || !ret_run || spec_message(spec)->n_argv == 0)
		return -EINVAL;
	return run_send(c, spec_message(spec), stdin_fd, stdout_fd, stderr_fd,
			true, ret_run);
}

/* The errno that goes with a record made because the connection broke. */
static int run_broken_errno(const struct box_run *run)
{
	if (!run->error)
		return 0;
	if (run->error->code == BOX_ERROR_PROTOCOL)
		return -EPROTO;
	if (run->error->code == BOX_ERROR_CLIENT)
		return run->error->errno_value > 0 ? -run->error->errno_value
						   : -EIO;
	return 0;
}

int box_run_wait(box_run *run)
{
	if (!run)
		return -EINVAL;
	while (run->state != BOX_RUN_FINISHED) {
		int r = run->client ? conn_wait(run->client) : -ENOTCONN;

		if (r < 0 && run->state != BOX_RUN_FINISHED)
			return r;
	}
	return run_broken_errno(run);
}

int box_run_dispatch(box_run *run)
{
	int r;

	if (!run)
		return -EINVAL;
	if (run->state == BOX_RUN_FINISHED)
		return run->state;
	if (!run->client)
		return -ENOTCONN;
	r = box_client_dispatch(run->client);
	/* A run with its record is done, whatever became of the link. */
	if (r < 0 && run->state != BOX_RUN_FINISHED)
		return r;
	return run->state;
}

enum box_run_state box_run_state(const box_run *run)
{
	return run->state;
}

int64_t box_run_id(const box_run *run)
{
	return run->has_id ? (int64_t)run->id : -1;
}

int64_t box_run_pid(const box_run *run)
{
	return run->pid;
}

const box_result *box_run_result(const box_run *run)
{
	return run->state == BOX_RUN_FINISHED ? run->result : NULL;
}

const box_error *box_run_error(const box_run *run)
{
	return run->state == BOX_RUN_FINISHED ? run->error : NULL;
}

int box_run_kill(box_run *run, int signal)
{
	if (!run || signal <= 0 || signal >= _NSIG)
		return -EINVAL;
	if (run_waits_to_retry(run))
		run_give_up(run);
	/* Without an id there is nothing to name in the request: wait. */
	while (run->state == BOX_RUN_PENDING) {
		int r = run->client ? conn_wait(run->client) : -ENOTCONN;

		if (r < 0)
			return r;
	}
	if (run->state == BOX_RUN_FINISHED)
		return -ESRCH;
	return box_client_kill(run->client, run->id, signal);
}

int box_run_kill_async(box_run *run, int signal)
{
	if (!run || signal <= 0 || signal >= _NSIG)
		return -EINVAL;
	if (run->state == BOX_RUN_FINISHED)
		return 0;
	if (!run->client)
		return -ENOTCONN;
	if (run_waits_to_retry(run)) {
		run_give_up(run);
		return 0;
	}
	if (!run->has_id) {
		/* Sent by dispatch when Accepted arrives. */
		run->kill_signal = signal;
		return 0;
	}
	return request_send_kill(run->client, run->id, signal, NULL);
}

int box_run_exit_status(const box_run *run)
{
	if (!run)
		return -EINVAL;
	if (run->state != BOX_RUN_FINISHED)
		return -EBUSY;
	if (run->result)
		return box_result_exit_status(run->result);
	return box_error_exit_status(run->error);
}

int box_run_json(const box_run *run, char **ret_json)
{
	if (!run || !ret_json)
		return -EINVAL;
	if (run->state != BOX_RUN_FINISHED)
		return -EBUSY;
	if (run->result)
		return box_result_json(run->result, ret_json);
	return box_error_json(run->error, ret_json);
}

const box_error *box_run_busy(const box_run *run)
{
	return run && run_waits_to_retry(run) ? run->retry->busy : NULL;
}

int box_run_tty_fd(const box_run *run)
{
	if (!run)
		return -EINVAL;
	return run->tty_fd >= 0 ? run->tty_fd : -ENOTTY;
}

int box_run_tty_resize(box_run *run, unsigned rows, unsigned cols)
{
	struct winsize ws = {.ws_row = (unsigned short)rows,
			     .ws_col = (unsigned short)cols};

	if (!run || rows > USHRT_MAX || cols > USHRT_MAX)
		return -EINVAL;
	if (run->tty_fd < 0)
		return -ENOTTY;
	/* The kernel sends SIGWINCH to the terminal's foreground group
	 * inside when the size changes. */
	if (ioctl(run->tty_fd, TIOCSWINSZ, &ws) < 0)
		return negerrno();
	return 0;
}

box_run *box_run_free(box_run *run)
{
	if (!run)
		return NULL;
	if (run->state != BOX_RUN_FINISHED && run->client) {
		/* Its events still come: free it when its record does. */
		run->orphaned = true;
		return NULL;
	}
	run_destroy(run);
	return NULL;
}
