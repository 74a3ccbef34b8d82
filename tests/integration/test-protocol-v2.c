/*
 * Protocol version 2 on the raw socket: the version a Hello picks, request
 * ids on every request and on every event that answers one, several runs
 * in flight on one connection, pipelined requests answered in order, and
 * the refusals (a request without an id, an id already in flight).
 * Version 1 clients keep their old contract.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "box.pb-c.h"
#include "frame.h"
#include "harness.h"
#include "rawproto.h"

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

TestSuite(protocol_v2, .init = setup, .fini = teardown, .timeout = 60);

static Boxd__V1__Event *next_event(int fd)
{
	Boxd__V1__Event *ev = raw_read_event(fd);

	cr_assert_not_null(ev, "boxd closed the connection");
	return ev;
}

/* Connect and shake hands in version 2 (checked). */
static int connect_v2(void)
{
	int fd = raw_connect_to(&d);
	Boxd__V1__Event *ev;

	raw_send_hello(fd, 2, 1);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_HELLO);
	cr_assert_eq(ev->hello->version, 2);
	boxd__v1__event__free_unpacked(ev, NULL);
	return fd;
}

static void send_simple(int fd, Boxd__V1__Request__MsgCase kind, uint64_t id)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__StatusRequest st = BOXD__V1__STATUS_REQUEST__INIT;
	Boxd__V1__ListRequest ls = BOXD__V1__LIST_REQUEST__INIT;

	req.msg_case = kind;
	if (kind == BOXD__V1__REQUEST__MSG_STATUS)
		req.status = &st;
	else
		req.list = &ls;
	raw_send_id(fd, &req, id, NULL, 0);
}

static void send_kill(int fd, uint64_t run_id, uint64_t id)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__KillRequest k = BOXD__V1__KILL_REQUEST__INIT;

	k.run_id = run_id;
	req.msg_case = BOXD__V1__REQUEST__MSG_KILL;
	req.kill = &k;
	raw_send_id(fd, &req, id, NULL, 0);
}

Test(protocol_v2, the_highest_common_version_is_chosen)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;
	uint32_t versions[] = {1, 2, 7};
	int fd = raw_connect_to(&d);
	Boxd__V1__Event *ev;

	hello.n_versions = 3;
	hello.versions = versions;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	raw_send_id(fd, &req, 42, NULL, 0);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_HELLO);
	cr_expect_eq(ev->hello->version, 2);
	cr_expect(ev->has_request_id && ev->request_id == 42,
		  "the HelloReply carries the Hello's id back");
	boxd__v1__event__free_unpacked(ev, NULL);
	close(fd);
}

Test(protocol_v2, a_request_without_an_id_closes_the_connection)
{
	int fd = connect_v2();
	Boxd__V1__Event *ev;

	send_simple(fd, BOXD__V1__REQUEST__MSG_STATUS, 0);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ERROR);
	cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__PROTOCOL);
	cr_expect(strstr(ev->error->message, "request_id"), "%s",
		  ev->error->message);
	boxd__v1__event__free_unpacked(ev, NULL);
	cr_expect_null(raw_read_event(fd), "the connection must be closed");
	close(fd);
}

Test(protocol_v2, every_answer_carries_its_request_id)
{
	const char *argv[] = {"/bin/true", NULL};
	int fd = connect_v2();
	Boxd__V1__Event *ev;
	bool accepted = false, started = false;

	send_simple(fd, BOXD__V1__REQUEST__MSG_STATUS, 7);
	ev = next_event(fd);
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_STATUS);
	cr_expect(ev->has_request_id && ev->request_id == 7);
	boxd__v1__event__free_unpacked(ev, NULL);

	send_simple(fd, BOXD__V1__REQUEST__MSG_LIST, 8);
	ev = next_event(fd);
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_LIST);
	cr_expect(ev->has_request_id && ev->request_id == 8);
	boxd__v1__event__free_unpacked(ev, NULL);

	send_kill(fd, 999999, 9);
	ev = next_event(fd);
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ERROR);
	cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__NOT_FOUND);
	cr_expect(ev->has_request_id && ev->request_id == 9);
	boxd__v1__event__free_unpacked(ev, NULL);

	raw_send_run(fd, argv, 10);
	for (;;) {
		ev = next_event(fd);
		cr_expect(ev->has_request_id && ev->request_id == 10,
			  "event %d without the run's request id",
			  (int)ev->msg_case);
		if (ev->msg_case == BOXD__V1__EVENT__MSG_ACCEPTED)
			accepted = true;
		if (ev->msg_case == BOXD__V1__EVENT__MSG_STARTED)
			started = true;
		if (ev->msg_case == BOXD__V1__EVENT__MSG_RESULT ||
		    ev->msg_case == BOXD__V1__EVENT__MSG_ERROR)
			break;
		boxd__v1__event__free_unpacked(ev, NULL);
	}
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_RESULT);
	cr_expect(accepted && started);
	boxd__v1__event__free_unpacked(ev, NULL);
	close(fd);
}

/*
 * Three runs and a status pipelined on one connection: every run gets its
 * own Accepted and exactly one Result, and the first answer to each
 * request comes in the order the requests were sent.
 */
Test(protocol_v2, pipelined_runs_share_one_connection)
{
	const char *argv[] = {"/bin/sh", "-c", "sleep 0.3", NULL};
	int fd = connect_v2();
	int first_seen[5] = {0}, results[5] = {0}, order = 0;
	int answered = 0;

	for (uint64_t id = 1; id <= 3; id++)
		raw_send_run(fd, argv, id);
	send_simple(fd, BOXD__V1__REQUEST__MSG_STATUS, 4);
	while (answered < 4) {
		Boxd__V1__Event *ev = next_event(fd);
		uint64_t id = ev->has_request_id ? ev->request_id : 0;

		cr_assert(id >= 1 && id <= 4, "event %d with request id %llu",
			  (int)ev->msg_case, (unsigned long long)id);
		if (!first_seen[id])
			first_seen[id] = ++order;
		if (ev->msg_case == BOXD__V1__EVENT__MSG_ERROR)
			cr_assert_fail("request %llu failed: %s",
				       (unsigned long long)id,
				       ev->error->message);
		if (ev->msg_case == BOXD__V1__EVENT__MSG_RESULT ||
		    ev->msg_case == BOXD__V1__EVENT__MSG_STATUS) {
			results[id]++;
			answered++;
		}
		boxd__v1__event__free_unpacked(ev, NULL);
	}
	for (int id = 1; id <= 4; id++) {
		cr_expect_eq(first_seen[id], id,
			     "request %d first answered as number %d", id,
			     first_seen[id]);
		cr_expect_eq(results[id], 1, "request %d: %d final answers", id,
			     results[id]);
	}
	close(fd);
}

Test(protocol_v2, an_id_in_flight_is_refused_and_the_run_goes_on)
{
	const char *argv[] = {"/bin/sh", "-c", "sleep 0.5", NULL};
	int fd = connect_v2();
	Boxd__V1__Event *ev;
	bool refused = false, result = false;

	raw_send_run(fd, argv, 5);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ACCEPTED);
	boxd__v1__event__free_unpacked(ev, NULL);
	send_simple(fd, BOXD__V1__REQUEST__MSG_STATUS, 5);
	while (!result) {
		ev = next_event(fd);
		cr_expect(ev->has_request_id && ev->request_id == 5);
		if (ev->msg_case == BOXD__V1__EVENT__MSG_ERROR) {
			cr_expect_eq(ev->error->code,
				     BOXD__V1__ERROR_CODE__BAD_REQUEST);
			cr_expect(strstr(ev->error->message, "in flight"), "%s",
				  ev->error->message);
			refused = true;
		}
		result = ev->msg_case == BOXD__V1__EVENT__MSG_RESULT;
		boxd__v1__event__free_unpacked(ev, NULL);
	}
	cr_expect(refused, "a status with the run's id must be refused");
	close(fd);
}

Test(protocol_v2, version_1_keeps_one_run_per_connection_and_no_ids)
{
	const char *argv[] = {"/bin/sh", "-c", "sleep 0.5", NULL};
	int fd = raw_connect_to(&d);
	Boxd__V1__Event *ev;

	raw_send_hello(fd, 1, 0);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_HELLO);
	cr_assert_eq(ev->hello->version, 1);
	cr_expect_not(ev->has_request_id);
	boxd__v1__event__free_unpacked(ev, NULL);

	raw_send_run(fd, argv, 0);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ACCEPTED);
	cr_expect_not(ev->has_request_id);
	boxd__v1__event__free_unpacked(ev, NULL);
	raw_send_run(fd, argv, 0);
	for (;;) {
		ev = next_event(fd);
		if (ev->msg_case == BOXD__V1__EVENT__MSG_ERROR)
			break;
		boxd__v1__event__free_unpacked(ev, NULL);
	}
	cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__BUSY);
	cr_expect(strstr(ev->error->message, "already in flight"), "%s",
		  ev->error->message);
	boxd__v1__event__free_unpacked(ev, NULL);
	close(fd);
}

/* A tty run by hand: RunRequest{tty}, with the given fds. */
static void send_tty_run(int fd, const char *script, uint64_t id,
			 const int *fds, size_t n_fds)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__RunRequest run = BOXD__V1__RUN_REQUEST__INIT;
	ProtobufCBinaryData args[3] = {
	    {7, (uint8_t *)"/bin/sh"},
	    {2, (uint8_t *)"-c"},
	    {strlen(script), (uint8_t *)script},
	};

	run.n_argv = 3;
	run.argv = args;
	run.has_tty = run.tty = true;
	run.has_tty_rows = run.has_tty_cols = true;
	run.tty_rows = 21;
	run.tty_cols = 61;
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	req.run = &run;
	raw_send_id(fd, &req, id, fds, n_fds);
}

Test(protocol_v2, a_tty_run_sends_no_fds_and_its_started_carries_the_master)
{
	int fd = connect_v2(), master = -1;
	struct frame_reader r;
	Boxd__V1__Event *ev;
	char out[256] = "";
	size_t len = 0;

	send_tty_run(fd, "echo SIZE=$(stty size)", 2, NULL, 0);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ACCEPTED);
	boxd__v1__event__free_unpacked(ev, NULL);

	/* Started, read by hand to keep the fd of its first byte. */
	frame_reader_init(&r, FRAME_MAX_DEFAULT);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ret;

		cr_assert(poll(&p, 1, TEST_PATIENCE_MS) == 1);
		ret = frame_read(&r, fd);
		cr_assert_geq(ret, 0);
		if (ret == 1)
			break;
	}
	ev = boxd__v1__event__unpack(NULL, r.body_len, r.body);
	cr_assert_not_null(ev);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_STARTED);
	cr_assert_eq(ev->request_id, 2);
	cr_assert_eq(r.n_fds, 1, "Started carries the master, and only it");
	master = r.fds[0];
	r.fds[0] = -1;
	frame_reader_reset(&r);
	boxd__v1__event__free_unpacked(ev, NULL);
	cr_assert(isatty(master));
	cr_assert(fcntl(master, F_GETFD) & FD_CLOEXEC);

	/* The command writes on its terminal, sized as asked. */
	while (!strstr(out, "\r\n") && len + 1 < sizeof(out)) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		ssize_t n;

		cr_assert(poll(&p, 1, TEST_PATIENCE_MS) == 1);
		n = read(master, out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = 0;
	}
	cr_expect_str_eq(out, "SIZE=21 61\r\n");
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_RESULT);
	cr_expect_eq(ev->result->exit_code, 0);
	boxd__v1__event__free_unpacked(ev, NULL);
	close(master);
	close(fd);
}

Test(protocol_v2, a_tty_run_with_stdio_fds_is_a_protocol_error)
{
	int fd = connect_v2(), fds[3];
	Boxd__V1__Event *ev;

	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	send_tty_run(fd, "true", 2, fds, 3);
	ev = next_event(fd);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ERROR);
	cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__PROTOCOL);
	cr_expect_str_eq(ev->error->message,
			 "wrong number of file descriptors: run request "
			 "carries 3, expected exactly 0");
	boxd__v1__event__free_unpacked(ev, NULL);
	cr_expect_null(raw_read_event(fd), "the connection stays open");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(fd);
}
