/*
 * libboxclient's runs (run.c): stdio fds, several runs in flight on one
 * connection, events routed to each by the request id of its RunRequest
 * whatever their order, BUSY for one run only, a kill asked for before
 * the run is accepted, and the daemon's complaint about a request id in
 * use, which must not end the run that has it.
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
#include <sys/stat.h>
#include <unistd.h>

#include "fakedaemon.h"
#include "frame.h"

struct fds_arg {
	ino_t pipe_ino;
};

static void script_fds(struct fake *f)
{
	struct fds_arg *a = f->arg;
	struct req r;
	struct stat st;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	/* Unset slots are /dev/null; the set one is our pipe. */
	CHECK(is_devnull(r.fds[0]));
	CHECK(is_devnull(r.fds[2]));
	CHECK(fstat(r.fds[1], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(st.st_ino == a->pipe_ino);
	CHECK(write(r.fds[1], "hi", 2) == 2);
	/* Received fds are close-on-exec (MSG_CMSG_CLOEXEC). */
	CHECK(fcntl(r.fds[1], F_GETFD) & FD_CLOEXEC);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 1);
	fake_send_started(f, r.id, 1, 77);
	fake_send_result(f, r.id, 1, BOXD__V1__TERMINATION__EXITED, 0, 0);
	/* Requests other than run carry no fds. */
	EXPECT(&r, STATUS, 0);
	fake_req_clear(&r);
	{
		Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
		Boxd__V1__Status st2 = BOXD__V1__STATUS__INIT;

		st2.daemon_version = (char *)"9.8.7";
		ev.msg_case = BOXD__V1__EVENT__MSG_STATUS;
		ev.status = &st2;
		fake_send_event_id(f, r.id, &ev);
	}
	EXPECT(&r, LIST, 0);
	fake_req_clear(&r);
	{
		Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
		Boxd__V1__RunList l = BOXD__V1__RUN_LIST__INIT;

		ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
		ev.list = &l;
		fake_send_event_id(f, r.id, &ev);
	}
}

Test(client, run_passes_three_fds_devnull_for_unset, .timeout = 120)
{
	struct fds_arg a;
	struct fake f;
	struct stat st;
	box_client *c;
	box_spec *s = simple_spec();
	box_run *run;
	box_status *status;
	box_run_list *l;
	char buf[8] = "";
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_eq(fstat(p[1], &st), 0);
	a.pipe_ino = st.st_ino;
	c = fake_connect(&f, script_fds, &a);
	cr_assert_eq(box_run_start(c, s, -1, p[1], -1, &run), 0);
	close(p[1]);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "hi");
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_pid(run), 77);
	cr_assert_eq(box_run_exit_status(run), 0);
	cr_assert_eq(box_client_status(c, &status), 0);
	cr_assert_str_eq(box_status_daemon_version(status), "9.8.7");
	cr_assert_eq(box_status_pool_size(status), -1);
	cr_assert_null(box_status_host(status));
	box_status_free(status);
	cr_assert_eq(box_client_list(c, &l), 0);
	cr_assert_eq(box_run_list_count(l), 0);
	cr_assert_null(box_run_list_get(l, 0));
	box_run_list_free(l);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	close(p[0]);
	fake_join(&f);
}

static void script_kill_early(struct fake *f)
{
	struct req run, kill;

	HANDSHAKE();
	EXPECT(&run, RUN, 3);
	fake_req_clear(&run);
	fake_send_accepted(f, run.id, 3);
	/* The kill asked for before Accepted follows it. */
	EXPECT(&kill, KILL, 0);
	CHECK(kill.msg->kill->run_id == 3 && kill.msg->kill->signal == SIGINT);
	fake_req_clear(&kill);
	/* A bad-signal answer naming the run must not end it: it answers
	 * the kill, whose request id it carries. */
	fake_send_error(f, kill.id, BOXD__V1__ERROR_CODE__BAD_REQUEST,
			"kill: signal out of range", NULL, 0, 3);
	fake_send_result(f, run.id, 3, BOXD__V1__TERMINATION__KILLED, -1,
			 SIGINT);
}

Test(client, kill_async_before_accepted, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_kill_early, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_kill_async(run, SIGINT), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_not_null(box_run_result(run));
	cr_assert_eq(box_run_exit_status(run), 130);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* ------------------------------------------------ several runs in flight */

static void script_busy(struct fake *f)
{
	struct req first, second, st, third;

	HANDSHAKE();
	EXPECT(&first, RUN, 3);
	fake_req_clear(&first);
	/* The second start reaches the daemon, which has no room for it. */
	EXPECT(&second, RUN, 3);
	fake_req_clear(&second);
	EXPECT(&st, STATUS, 0);
	fake_req_clear(&st);
	fake_send_accepted(f, first.id, 8);
	fake_send_error(f, second.id, BOXD__V1__ERROR_CODE__BUSY,
			"this connection already has 1 runs in flight "
			"(max-runs-per-connection)",
			NULL, 0, 0);
	fake_send_status(f, st.id);
	fake_wait_step(f);
	fake_send_result(f, first.id, 8, BOXD__V1__TERMINATION__EXITED, 0, 0);
	EXPECT(&third, RUN, 3);
	fake_req_clear(&third);
	fake_send_accepted(f, third.id, 9);
	fake_send_result(f, third.id, 9, BOXD__V1__TERMINATION__EXITED, 1, 0);
}

/* BUSY ends the run it answers, and only that one. */
Test(client, busy_ends_only_the_run_it_answers, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_busy, NULL);
	box_spec *s = simple_spec();
	box_run *run, *second = NULL;
	box_status *st;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &second), 0);
	cr_assert_eq(box_client_status(c, &st), 0);
	box_status_free(st);
	cr_assert_eq(box_run_state(second), BOX_RUN_FINISHED);
	cr_assert_eq(box_error_code(box_run_error(second)), BOX_ERROR_BUSY);
	cr_assert_str_eq(box_error_message(box_run_error(second)),
			 "this connection already has 1 runs in flight "
			 "(max-runs-per-connection)");
	cr_assert_eq(box_run_id(second), -1);
	cr_assert_eq(box_run_exit_status(second), 125);
	cr_assert_eq(box_run_wait(second), 0);
	box_run_free(second);
	/* Freed while in flight: the connection finishes it quietly. */
	cr_assert_eq(box_run_state(run), BOX_RUN_ACCEPTED);
	box_run_free(run);
	fake_step(&f);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &second), 0);
	cr_assert_eq(box_run_wait(second), 0);
	cr_assert_eq(box_run_exit_status(second), 1);
	box_run_free(second);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

#define N_RUNS 3

/*
 * Three runs in flight: each run's events carry its request id, and
 * come in an order that matches neither the requests nor the run ids.
 * Run ids are chosen apart from request ids, so that routing by the one
 * could not pass for routing by the other.
 */
static void script_three_runs(struct fake *f)
{
	struct req r[N_RUNS];

	HANDSHAKE();
	for (int i = 0; i < N_RUNS; i++) {
		EXPECT(&r[i], RUN, 3);
		fake_req_clear(&r[i]);
	}
	/* Accepted in order (the daemon promises that much) ... */
	for (int i = 0; i < N_RUNS; i++)
		fake_send_accepted(f, r[i].id, 40 + (uint64_t)i);
	/* ... the rest as the runs happen to end. */
	fake_send_started(f, r[2].id, 42, 4200);
	fake_send_started(f, r[0].id, 40, 4000);
	fake_send_result(f, r[2].id, 42, BOXD__V1__TERMINATION__EXITED, 12, 0);
	fake_send_started(f, r[1].id, 41, 4100);
	fake_send_error(f, r[1].id, BOXD__V1__ERROR_CODE__INTERNAL,
			"cannot collect the run", NULL, 0, 41);
	fake_send_result(f, r[0].id, 40, BOXD__V1__TERMINATION__SIGNALED, -1,
			 SIGSEGV);
	/* Stay until the test has looked (a hang-up would be an error). */
	fake_wait_step(f);
}

Test(client, several_runs_in_flight_each_get_their_events, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_three_runs, NULL);
	box_spec *s = simple_spec();
	box_run *runs[N_RUNS];

	for (int i = 0; i < N_RUNS; i++)
		cr_assert_eq(box_run_start(c, s, -1, -1, -1, &runs[i]), 0);
	/* Waiting for the last routes the others' events on the way. */
	cr_assert_eq(box_run_wait(runs[2]), 0);
	cr_assert_geq(box_run_state(runs[0]), BOX_RUN_STARTED);
	cr_assert_geq(box_run_state(runs[1]), BOX_RUN_ACCEPTED);
	for (int i = 0; i < N_RUNS; i++) {
		cr_assert_eq(box_run_wait(runs[i]), 0);
		cr_assert_eq(box_run_id(runs[i]), 40 + i);
		cr_assert_eq(box_run_pid(runs[i]), 4000 + 100 * i);
	}
	cr_assert_eq(box_result_signal(box_run_result(runs[0])), SIGSEGV);
	cr_assert_eq(box_run_exit_status(runs[0]), 128 + SIGSEGV);
	cr_assert_null(box_run_result(runs[1]));
	cr_assert_eq(box_error_code(box_run_error(runs[1])),
		     BOX_ERROR_INTERNAL);
	cr_assert_eq(box_error_run_id(box_run_error(runs[1])), 41);
	cr_assert_eq(box_result_exit_code(box_run_result(runs[2])), 12);
	cr_assert_null(box_client_last_error(c));
	fake_step(&f);
	for (int i = 0; i < N_RUNS; i++)
		box_run_free(runs[i]);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/*
 * Answers in an order the daemon never uses (the second run's before the
 * first's): the library goes by the ids, not by the order.
 */
static void script_out_of_order(struct fake *f)
{
	struct req a, b;

	HANDSHAKE();
	EXPECT(&a, RUN, 3);
	fake_req_clear(&a);
	EXPECT(&b, RUN, 3);
	fake_req_clear(&b);
	fake_send_error(f, b.id, BOXD__V1__ERROR_CODE__DENIED, "not b", NULL, 0,
			0);
	fake_send_accepted(f, a.id, 77);
	fake_send_result(f, a.id, 77, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, routing_by_request_id_not_by_order, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_out_of_order, NULL);
	box_spec *s = simple_spec();
	box_run *a, *b;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &a), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &b), 0);
	cr_assert_eq(box_run_wait(a), 0);
	cr_assert_eq(box_run_wait(b), 0);
	cr_assert_eq(box_run_id(a), 77);
	cr_assert_eq(box_run_exit_status(a), 0);
	cr_assert_eq(box_run_id(b), -1);
	cr_assert_eq(box_error_code(box_run_error(b)), BOX_ERROR_DENIED);
	cr_assert_str_eq(box_error_message(box_run_error(b)), "not b");
	box_run_free(a);
	box_run_free(b);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/*
 * Pipelining: three runs and a status go out before anything comes back
 * (the fake reads all four before it answers), and the status call, which
 * blocks, routes the runs' Accepted on its way to its own answer.
 */
static void script_pipeline(struct fake *f)
{
	struct req r[N_RUNS], st;

	HANDSHAKE();
	for (int i = 0; i < N_RUNS; i++) {
		EXPECT(&r[i], RUN, 3);
		fake_req_clear(&r[i]);
	}
	EXPECT(&st, STATUS, 0);
	fake_req_clear(&st);
	/* The first answer to each request, in the order of the requests. */
	for (int i = 0; i < N_RUNS; i++)
		fake_send_accepted(f, r[i].id, 50 + (uint64_t)i);
	fake_send_status(f, st.id);
	fake_wait_step(f);
	for (int i = N_RUNS - 1; i >= 0; i--)
		fake_send_result(f, r[i].id, 50 + (uint64_t)i,
				 BOXD__V1__TERMINATION__EXITED, i, 0);
}

Test(client, pipelined_runs_and_status, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_pipeline, NULL);
	box_spec *s = simple_spec();
	box_run *runs[N_RUNS];
	box_status *st;

	for (int i = 0; i < N_RUNS; i++)
		cr_assert_eq(box_run_start(c, s, -1, -1, -1, &runs[i]), 0);
	cr_assert_eq(box_client_status(c, &st), 0);
	cr_assert_eq(box_status_pool_hits(st), 120);
	box_status_free(st);
	for (int i = 0; i < N_RUNS; i++) {
		cr_assert_eq(box_run_state(runs[i]), BOX_RUN_ACCEPTED);
		cr_assert_eq(box_run_id(runs[i]), 50 + i);
	}
	fake_step(&f);
	for (int i = 0; i < N_RUNS; i++) {
		cr_assert_eq(box_run_wait(runs[i]), 0);
		cr_assert_eq(box_run_exit_status(runs[i]), i);
		box_run_free(runs[i]);
	}
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/*
 * The daemon's complaint about a request id already in flight carries
 * that id but no run id. It arrives after the run's Accepted (answers go
 * in request order), so it cannot be the run's end, which would name its
 * run id: the run goes on, and the complaint is kept as the client's
 * last error. So is an Error for an id nothing waits for.
 */
static void script_duplicate_id(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 60);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__BAD_REQUEST,
			"request id 2 is already in flight", NULL, 0, 0);
	fake_send_started(f, r.id, 60, 6000);
	fake_wait_step(f);
	fake_send_error(f, 999, BOXD__V1__ERROR_CODE__NOT_FOUND, "no run 12345",
			NULL, 0, 12345);
	fake_send_result(f, r.id, 60, BOXD__V1__TERMINATION__EXITED, 0, 0);
	fake_wait_step(f);
}

Test(client, duplicate_request_id_error_leaves_the_run_alone, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_duplicate_id, NULL);
	box_spec *s = simple_spec();
	const box_error *e;
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	while (box_run_state(run) != BOX_RUN_STARTED) {
		cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
		cr_assert_geq(box_run_dispatch(run), 0);
	}
	e = box_client_last_error(c);
	cr_assert_not_null(e);
	cr_assert_eq(box_error_code(e), BOX_ERROR_BAD_REQUEST);
	cr_assert_str_eq(box_error_message(e),
			 "request id 2 is already in flight");
	fake_step(&f);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_not_null(box_run_result(run));
	cr_assert_eq(box_run_id(run), 60);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_NOT_FOUND);
	fake_step(&f);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_vanish_with_three(struct fake *f)
{
	struct req r[N_RUNS];

	HANDSHAKE();
	for (int i = 0; i < N_RUNS; i++) {
		EXPECT(&r[i], RUN, 3);
		fake_req_clear(&r[i]);
	}
	fake_send_accepted(f, r[0].id, 70);
	fake_send_accepted(f, r[1].id, 71);
	fake_send_started(f, r[1].id, 71, 7100);
	/* and hang up, the third not even accepted */
}

/* Every run in flight gets exactly one record when the link breaks. */
Test(client, lost_connection_ends_every_run_in_flight, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_vanish_with_three, NULL);
	box_spec *s = simple_spec();
	box_run *runs[N_RUNS];

	for (int i = 0; i < N_RUNS; i++)
		cr_assert_eq(box_run_start(c, s, -1, -1, -1, &runs[i]), 0);
	cr_assert_eq(box_run_wait(runs[0]), -ECONNRESET);
	for (int i = 0; i < N_RUNS; i++) {
		const box_error *e = box_run_error(runs[i]);

		cr_assert_eq(box_run_state(runs[i]), BOX_RUN_FINISHED);
		cr_assert_null(box_run_result(runs[i]));
		cr_assert_eq(box_error_code(e), BOX_ERROR_CLIENT);
		cr_assert_eq(box_error_errno(e), ECONNRESET);
		cr_assert_eq(box_run_wait(runs[i]), -ECONNRESET);
	}
	cr_assert_eq(box_run_id(runs[1]), 71);
	cr_assert_eq(box_run_pid(runs[1]), 7100);
	cr_assert_eq(box_run_id(runs[2]), -1);
	for (int i = 0; i < N_RUNS; i++)
		box_run_free(runs[i]);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_hold(struct fake *f)
{
	struct req r[N_RUNS];

	HANDSHAKE();
	for (int i = 0; i < N_RUNS; i++) {
		EXPECT(&r[i], RUN, 3);
		fake_req_clear(&r[i]);
	}
	fake_send_accepted(f, r[0].id, 80);
	fake_wait_step(f);
}

/* Freeing the client ends every run in flight on it, each once. */
Test(client, freeing_the_client_ends_every_run_in_flight, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_hold, NULL);
	box_spec *s = simple_spec();
	box_run *kept, *orphan, *pending;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &kept), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &pending), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &orphan), 0);
	/* Let go of while in flight: the client frees it when it goes. */
	box_run_free(orphan);
	while (box_run_state(kept) == BOX_RUN_PENDING) {
		cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
		cr_assert_eq(box_client_dispatch(c), 0);
	}
	box_client_free(c);
	fake_step(&f);
	cr_assert_eq(box_run_state(kept), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_state(pending), BOX_RUN_FINISHED);
	cr_assert_eq(box_error_code(box_run_error(kept)), BOX_ERROR_CLIENT);
	cr_assert_eq(box_error_errno(box_run_error(pending)), ENOTCONN);
	cr_assert_eq(box_run_wait(kept), -ENOTCONN);
	cr_assert_eq(box_run_dispatch(pending), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_kill_async(kept, SIGTERM), 0);
	box_run_free(kept);
	box_run_free(pending);
	box_spec_free(s);
	fake_join(&f);
}

/* ---- tty runs ---- */

static void script_tty(struct fake *f)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Started st = BOXD__V1__STARTED__INIT;
	uint8_t body[64];
	size_t len;
	bool partial = false;
	int master;
	struct req r;

	HANDSHAKE();
	/* The caller's stdio is never sent: the terminal is the sandbox's. */
	EXPECT(&r, RUN, 0);
	CHECK(r.msg->run->has_tty && r.msg->run->tty);
	CHECK(r.msg->run->has_tty_rows && r.msg->run->tty_rows == 30);
	CHECK(r.msg->run->has_tty_cols && r.msg->run->tty_cols == 100);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 4);
	/* Started with the master side of a terminal on its first byte. */
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(master >= 0);
	st.run_id = 4;
	ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
	ev.started = &st;
	ev.has_request_id = true;
	ev.request_id = r.id;
	len = boxd__v1__event__get_packed_size(&ev);
	CHECK(len <= sizeof(body));
	boxd__v1__event__pack(&ev, body);
	CHECK(frame_send(f->sock, body, (uint32_t)len, &master, 1, &partial) ==
	      0);
	close(master);
	fake_wait_step(f);
	fake_send_result(f, r.id, 4, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, tty_run_sends_no_stdio_and_gets_the_master, .timeout = 120)
{
	struct winsize ws = {0};
	struct fake f;
	box_client *c;
	box_spec *s = simple_spec();
	box_run *run;
	int fd;

	cr_assert_eq(box_spec_set_tty(s, true), 0);
	cr_assert_eq(box_spec_set_tty_size(s, 30, 100), 0);
	cr_assert_eq(box_spec_set_tty_size(s, 65536, 1), -EINVAL);
	c = fake_connect(&f, script_tty, NULL);
	/* Offered stdio is ignored for a tty run. */
	cr_assert_eq(box_run_start(c, s, 0, 1, 2, &run), 0);
	cr_assert_eq(box_run_tty_fd(run), -ENOTTY, "not before Started");
	while (box_run_state(run) < BOX_RUN_STARTED)
		cr_assert_geq(box_run_dispatch(run), 0);
	fd = box_run_tty_fd(run);
	cr_assert_geq(fd, 0);
	cr_assert(isatty(fd));
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(box_run_tty_resize(run, 40, 120), 0);
	cr_assert_eq(ioctl(fd, TIOCGWINSZ, &ws), 0);
	cr_assert_eq(ws.ws_row, 40);
	cr_assert_eq(ws.ws_col, 120);
	fake_step(&f);
	cr_assert_eq(box_run_wait(run), 0);
	/* Still the run's until it is freed. */
	cr_assert_eq(box_run_tty_fd(run), fd);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_plain_started(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 5);
	fake_send_started(f, r.id, 5, 9);
	fake_send_result(f, r.id, 5, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, run_without_tty_has_no_master, .timeout = 120)
{
	struct fake f;
	box_client *c;
	box_spec *s = simple_spec();
	box_run *run;

	c = fake_connect(&f, script_plain_started, NULL);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_tty_fd(run), -ENOTTY);
	cr_assert_eq(box_run_tty_resize(run, 24, 80), -ENOTTY);
	cr_assert_null(box_run_busy(run));
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}
