/*
 * libboxclient's connection (conn.c): the handshake and the version it
 * insists on, the socket path, the frame sender, routing by request id
 * and everything that breaks a connection (protocol errors, errors that
 * name no request, resets and end-of-file, a daemon that breaks the
 * protocol). Every run and request in flight must end, each once.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config-build.h"
#include "fakedaemon.h"

static void script_hello(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	CHECK(r.msg->hello->n_versions == 1 && r.msg->hello->versions[0] == 2);
	CHECK(r.msg->hello->client &&
	      strcmp(r.msg->hello->client, "test-client") == 0);
	/* The frame header is exactly the body length, little-endian. */
	CHECK(r.len == boxd__v1__request__get_packed_size(r.msg));
	CHECK(r.hdr[0] == (r.len & 0xff) && r.hdr[1] == ((r.len >> 8) & 0xff) &&
	      r.hdr[2] == 0 && r.hdr[3] == 0);
	fake_req_clear(&r);
	fake_send_hello_reply(f, r.id, 2);
	/* Nothing else was sent after the Hello. */
	EXPECT(&r, STATUS, 0);
	fake_req_clear(&r);
}

Test(client, handshake_and_host_info, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_hello, NULL);
	const box_host_info *h = box_client_host(c);
	box_status *st = NULL;

	cr_assert_eq(box_client_protocol_version(c), 2);
	cr_assert_str_eq(box_client_daemon_version(c), "9.8.7");
	cr_assert_eq(box_client_uid(c), 1000);
	cr_assert_eq(box_client_gid(c), 100);
	cr_assert_geq(box_client_fd(c), 0);
	cr_assert_null(box_client_last_error(c));
	cr_assert_not_null(h);
	cr_assert_str_eq(box_host_namespaces(h)[0], "user");
	cr_assert_str_eq(box_host_namespaces(h)[3], "net");
	cr_assert_null(box_host_namespaces(h)[4]);
	cr_assert_str_eq(box_host_cgroup_mode(h), "v1");
	cr_assert_str_eq(box_host_cgroup_path(h), "/sys/fs/cgroup/boxd");
	cr_assert_str_eq(box_host_controllers(h)[1], "pids");
	cr_assert_eq(box_host_seccomp(h), 1);
	cr_assert_eq(box_host_landlock(h), 0);
	cr_assert_str_eq(box_host_nets(h)[1], "loopback");
	cr_assert_null(box_host_nets(h)[2]);
	cr_assert_str_eq(box_host_profiles(h)[1], "bare");
	cr_assert(box_host_can_limit(h, "memory"));
	cr_assert_not(box_host_can_limit(h, "swap"));
	/* The fake hangs up instead of answering: a clean error, no hang. */
	cr_assert_eq(box_client_status(c, &st), -ECONNRESET);
	cr_assert_null(st);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	box_client_free(c);
	fake_join(&f);
}

static void script_denied(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__DENIED,
			"uid 1000 may not use this daemon", NULL, 0, 0);
}

Test(client, handshake_denied, .timeout = 120)
{
	struct fake f;
	box_client *c;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake_start(&f, sv[1], script_denied, NULL);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), -EACCES);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_DENIED);
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "uid 1000 may not use this daemon");
	cr_assert_eq(box_client_fd(c), -1);
	cr_assert_null(box_client_daemon_version(c));
	box_client_free(c);
	fake_join(&f);
}

/* A daemon that chooses a version the library did not offer (1). */
static void script_version1(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	fake_req_clear(&r);
	/* Version 1 knows no request ids. */
	fake_send_hello_reply(f, 0, 1);
}

Test(client, handshake_wrong_version, .timeout = 120)
{
	struct fake f;
	box_client *c;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake_start(&f, sv[1], script_version1, NULL);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), -EPROTONOSUPPORT);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_not_null(
	    strstr(box_error_message(box_client_last_error(c)), "version 1"),
	    "%s", box_error_message(box_client_last_error(c)));
	cr_assert_eq(box_client_protocol_version(c), 0);
	box_client_free(c);
	fake_join(&f);
}

/* What a daemon that speaks version 1 only answers a Hello{[2]}. */
static void script_no_common_version(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	fake_req_clear(&r);
	fake_send_error(f, 0, BOXD__V1__ERROR_CODE__PROTOCOL,
			"no common protocol version (the daemon speaks "
			"version 1)",
			NULL, 0, 0);
}

Test(client, handshake_refused_version, .timeout = 120)
{
	struct fake f;
	box_client *c;
	const box_error *e;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake_start(&f, sv[1], script_no_common_version, NULL);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), -EPROTONOSUPPORT);
	e = box_client_last_error(c);
	/* The daemon's record, saying what this library speaks. */
	cr_assert_eq(box_error_code(e), BOX_ERROR_PROTOCOL);
	cr_assert_str_eq(box_error_message(e),
			 "boxd refused the handshake (this library speaks "
			 "protocol version 2 only): no common protocol "
			 "version (the daemon speaks version 1)");
	cr_assert_eq(box_client_fd(c), -1);
	box_client_free(c);
	fake_join(&f);
}

/* Version 2 promises the Hello's id on the HelloReply. */
static void script_hello_reply_without_id(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	fake_req_clear(&r);
	fake_send_hello_reply(f, 0, 2);
}

Test(client, handshake_reply_must_carry_the_hello_id, .timeout = 120)
{
	struct fake f;
	box_client *c;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake_start(&f, sv[1], script_hello_reply_without_id, NULL);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), -EPROTO);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_not_null(
	    strstr(box_error_message(box_client_last_error(c)), "request id"));
	box_client_free(c);
	fake_join(&f);
}

static void script_hello_only(struct fake *f)
{
	HANDSHAKE();
}

/* Env and explicit path choose the socket; "@name" is abstract. */
Test(client, socket_path_and_connect, .timeout = 120)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char name[64];
	struct fake f;
	box_client *c;
	socklen_t salen;
	int lfd;

	unsetenv("BOXD_SOCKET");
	cr_assert_str_eq(box_socket_path(NULL), BOXD_DEFAULT_SOCKET);
	setenv("BOXD_SOCKET", "/tmp/x.sock", 1);
	cr_assert_str_eq(box_socket_path(NULL), "/tmp/x.sock");
	cr_assert_str_eq(box_socket_path("/y.sock"), "/y.sock");
	setenv("BOXD_SOCKET", "", 1);
	cr_assert_str_eq(box_socket_path(NULL), BOXD_DEFAULT_SOCKET);

	snprintf(name, sizeof(name), "@boxd-test-client-%d", (int)getpid());
	memcpy(sa.sun_path, name, strlen(name));
	sa.sun_path[0] = '\0';
	salen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, salen), 0);
	cr_assert_eq(listen(lfd, 4), 0);

	fake_start_at(&f, -1, lfd, script_hello_only, NULL);
	setenv("BOXD_SOCKET", name, 1);
	cr_assert_eq(box_connect(NULL, &c), 0);
	cr_assert_str_eq(box_client_daemon_version(c), "9.8.7");
	cr_assert_eq(box_client_connect(c, NULL), -EISCONN);
	box_client_free(c);
	fake_join(&f);
	close(lfd);

	/* Nothing listens there any more. */
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect(c, NULL), -ECONNREFUSED);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_eq(box_error_errno(box_client_last_error(c)), ECONNREFUSED);
	cr_assert_not_null(
	    strstr(box_error_message(box_client_last_error(c)), name));
	box_client_free(c);
	unsetenv("BOXD_SOCKET");
}

static void script_protocol_error(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 3);
	fake_send_error(
	    f, r.id, BOXD__V1__ERROR_CODE__PROTOCOL,
	    "run request carries 2 file descriptors, expected exactly 3", NULL,
	    0, 0);
}

Test(client, protocol_error_ends_connection, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_protocol_error, NULL);
	box_spec *s = simple_spec();
	box_status *st;
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), -EPROTO);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_PROTOCOL);
	cr_assert_eq(box_run_exit_status(run), 125);
	cr_assert_eq(box_client_dispatch(c), -EPROTO);
	cr_assert_eq(box_client_status(c, &st), -EPROTO);
	box_run_free(run);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -EPROTO);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_vanish(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 3);
	/* and hang up (fake_main shuts the socket down) */
}

Test(client, lost_connection_ends_run_with_client_error, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_vanish, NULL);
	box_spec *s = simple_spec();
	const box_error *e;
	box_run *run;
	char *json;
	json_object *o;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), -ECONNRESET);
	e = box_run_error(run);
	cr_assert_eq(box_error_code(e), BOX_ERROR_CLIENT);
	cr_assert_eq(box_error_errno(e), ECONNRESET);
	cr_assert_eq(box_run_exit_status(run), 125);
	cr_assert_eq(box_run_json(run, &json), 0);
	o = parse_json(json);
	cr_assert_str_eq(json_object_get_string(jget(jget(o, "error"), "code")),
			 "client");
	cr_assert_str_eq(
	    json_object_get_string(jget(jget(o, "error"), "errno_name")),
	    "ECONNRESET");
	json_object_put(o);
	free(json);
	/* Waiting again says the same. */
	cr_assert_eq(box_run_wait(run), -ECONNRESET);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_stepwise(struct fake *f)
{
	struct req r;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Started st = BOXD__V1__STARTED__INIT;
	uint8_t *buf;
	size_t len;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_wait_step(f);
	fake_send_accepted(f, r.id, 21);
	fake_wait_step(f);
	/* Started, split inside its header and again inside its body. */
	st.run_id = 21;
	st.has_pid = 1;
	st.pid = 31337;
	ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
	ev.started = &st;
	ev.has_request_id = 1;
	ev.request_id = r.id;
	len = boxd__v1__event__get_packed_size(&ev);
	buf = malloc(len + 4);
	buf[0] = (uint8_t)len;
	buf[1] = buf[2] = buf[3] = 0;
	boxd__v1__event__pack(&ev, buf + 4);
	fake_send_bytes(f->sock, buf, 2);
	fake_wait_step(f);
	fake_send_bytes(f->sock, buf + 2, 4);
	fake_wait_step(f);
	fake_send_bytes(f->sock, buf + 6, len - 2);
	free(buf);
	fake_wait_step(f);
	fake_send_result(f, r.id, 21, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, nonblocking_dispatch, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_stepwise, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	/* Nothing to read: dispatch returns at once, state unchanged. */
	cr_assert_eq(poll_in(c, 0), 0);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_PENDING);

	fake_step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_ACCEPTED);
	cr_assert_eq(box_run_id(run), 21);

	/* Partial frames are kept, never waited for. */
	fake_step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_ACCEPTED);
	fake_step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_ACCEPTED);
	fake_step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_STARTED);
	cr_assert_eq(box_run_pid(run), 31337);

	fake_step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	/* The fake hangs up right after: the run is finished all the same. */
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_FINISHED);
	cr_assert_not_null(box_run_result(run));
	/* Finished stays finished. */
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_FINISHED);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_hangup_mid_frame(struct fake *f)
{
	uint8_t hdr[4];
	struct req r = {0};

	HANDSHAKE();
	/* Read the start of a big run frame only, refuse it and hang up. */
	CHECK(fake_recv_some(f->sock, hdr, sizeof(hdr), &r) == 4);
	CHECK(r.n_fds == 3);
	/* A frame never read: its Error names no request. */
	fake_send_error(f, 0, BOXD__V1__ERROR_CODE__PROTOCOL,
			"frame larger than the daemon's maximum", NULL, 0, 0);
	fake_req_clear(&r);
}

/* A send cut short by the daemon reports the daemon's reason. */
Test(client, hangup_during_send_keeps_the_daemons_reason, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_hangup_mid_frame, NULL);
	box_spec *s = simple_spec();
	char *big = malloc(3 * MiB);
	box_run *run = NULL;

	memset(big, 'x', 3 * MiB - 1);
	big[3 * MiB - 1] = '\0';
	cr_assert_eq(box_spec_add_arg(s, big), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -EPROTO);
	cr_assert_null(run);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_PROTOCOL);
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "frame larger than the daemon's maximum");
	free(big);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* ------------------------------------------- what fails the connection */

static void script_unnamed_error(struct fake *f)
{
	struct req a, b, k, st;

	HANDSHAKE();
	EXPECT(&a, RUN, 3);
	fake_req_clear(&a);
	EXPECT(&b, RUN, 3);
	fake_req_clear(&b);
	fake_send_accepted(f, a.id, 1);
	/* A kill nobody waits for, then a status the test waits for. */
	EXPECT(&k, KILL, 0);
	CHECK(k.msg->kill->run_id == 1);
	fake_req_clear(&k);
	EXPECT(&st, STATUS, 0);
	fake_req_clear(&st);
	/* The answer to no request: everything in flight ends with it. */
	fake_send_error(f, 0, BOXD__V1__ERROR_CODE__PROTOCOL,
			"frame body is not a Request", NULL, 0, 0);
}

Test(client, error_without_request_id_fails_everything_in_flight,
     .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_unnamed_error, NULL);
	box_spec *s = simple_spec();
	box_run *one, *two, *three;
	box_status *st = NULL;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &one), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &two), 0);
	while (box_run_state(one) == BOX_RUN_PENDING) {
		cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
		cr_assert_eq(box_client_dispatch(c), 0);
	}
	cr_assert_eq(box_run_kill_async(one, SIGTERM), 0);
	cr_assert_eq(box_client_status(c, &st), -EPROTO);
	cr_assert_null(st);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_PROTOCOL);
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "frame body is not a Request");
	/* Both runs, accepted or not, end with the daemon's record. */
	cr_assert_eq(box_run_state(one), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_state(two), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_wait(one), -EPROTO);
	cr_assert_eq(box_run_wait(two), -EPROTO);
	cr_assert_eq(box_error_code(box_run_error(one)), BOX_ERROR_PROTOCOL);
	cr_assert_str_eq(box_error_message(box_run_error(two)),
			 "frame body is not a Request");
	cr_assert_eq(box_run_id(one), 1);
	cr_assert_eq(box_run_id(two), -1);
	cr_assert_eq(box_run_exit_status(two), 125);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &three), -EPROTO);
	box_run_free(one);
	box_run_free(two);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* Whatever its code, an Error that names no request answers none of
 * ours: the daemon closes the connection after it. */
static void script_unnamed_busy(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_error(f, 0, BOXD__V1__ERROR_CODE__BUSY, "busy", NULL, 0, 0);
}

Test(client, unnamed_error_of_any_code_ends_the_connection, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_unnamed_busy, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BUSY);
	cr_assert_eq(box_client_dispatch(c), -EPROTO);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* Wait until the client's next frame is there, without reading it. */
static bool wait_unread(struct fake *f)
{
	struct pollfd p = {.fd = f->sock, .events = POLLIN};

	return poll(&p, 1, PATIENCE_MS) == 1;
}

/*
 * The daemon closes while bytes of ours are still unread: the client
 * reads what it was sent, then gets ECONNRESET where it would otherwise
 * see end-of-file. arg: whether to say why first.
 */
static void script_reset(struct fake *f)
{
	HANDSHAKE();
	CHECK(wait_unread(f));
	if (f->arg)
		fake_send_error(f, 0, BOXD__V1__ERROR_CODE__PROTOCOL,
				"frame larger than the daemon's maximum", NULL,
				0, 0);
	close(f->sock);
	f->sock = -1;
}

Test(client, reset_is_taken_like_end_of_file, .timeout = 120)
{
	struct fake f;
	box_client *c;
	box_spec *s = simple_spec();
	box_run *run;

	/* Said why: the run's record is the daemon's. */
	c = fake_connect(&f, script_reset, (void *)1);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), -EPROTO);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_PROTOCOL);
	cr_assert_str_eq(box_error_message(box_run_error(run)),
			 "frame larger than the daemon's maximum");
	box_run_free(run);
	box_client_free(c);
	fake_join(&f);

	/* Said nothing: the same record as a plain hang-up
	 * (lost_connection_ends_run_with_client_error). */
	c = fake_connect(&f, script_reset, NULL);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), -ECONNRESET);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_CLIENT);
	cr_assert_eq(box_error_errno(box_run_error(run)), ECONNRESET);
	cr_assert_str_eq(box_error_message(box_run_error(run)),
			 "boxd closed the connection");
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_accepted_without_id(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, 0, 4);
}

/* Version 2 routes by id only: an answer without one breaks the link. */
Test(client, event_without_request_id_breaks_the_connection, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_accepted_without_id, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), -EPROTO);
	cr_assert_eq(box_run_id(run), -1);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_CLIENT);
	cr_assert_eq(box_error_errno(box_run_error(run)), EPROTO);
	cr_assert_str_eq(box_error_message(box_run_error(run)),
			 "boxd sent an Accepted without a request id");
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_wrong_kind(struct fake *f)
{
	struct req run, st;

	HANDSHAKE();
	EXPECT(&run, RUN, 3);
	fake_req_clear(&run);
	EXPECT(&st, STATUS, 0);
	fake_req_clear(&st);
	fake_send_accepted(f, run.id, 6);
	/* A KillReply cannot answer a status. */
	fake_send_kill_reply(f, st.id, 6);
}

Test(client, answer_of_the_wrong_kind_breaks_the_connection, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_wrong_kind, NULL);
	box_spec *s = simple_spec();
	box_status *st = NULL;
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_client_status(c, &st), -EPROTO);
	cr_assert_null(st);
	/* Request ids: the Hello's 1, the run's 2, the status's 3. */
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "boxd answered request 3 (a kill, list or status) "
			 "with a KillReply");
	/* The run was accepted, then ended by the broken connection. */
	cr_assert_eq(box_run_id(run), 6);
	cr_assert_eq(box_run_wait(run), -EPROTO);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_CLIENT);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/*
 * An event of a newer protocol: a oneof member this library does not
 * know (field 10), with a request id. It is skipped; the run goes on.
 */
static void script_unknown_event(struct fake *f)
{
	struct req r;
	uint8_t frame[] = {6, 0, 0, 0, 0x52, 0x02, 0x08, 0x01, 0x78, 0x02};

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	CHECK(r.id == 2);
	fake_send_bytes(f->sock, frame, sizeof(frame));
	fake_send_accepted(f, r.id, 8);
	fake_send_result(f, r.id, 8, BOXD__V1__TERMINATION__EXITED, 0, 0);
	/* Stay until the test has looked (a hang-up would be an error). */
	fake_wait_step(f);
}

Test(client, unknown_event_type_is_ignored, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_unknown_event, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	cr_assert_null(box_client_last_error(c), "%s",
		       box_error_message(box_client_last_error(c)));
	fake_step(&f);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* ------------------------------------------------------- the frame sender */

#define BIG_ARG (3 * MiB / 2)

static void script_big_frame(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	/* fake_recv_req() fails unless the fds came with the first byte. */
	EXPECT(&r, RUN, 3);
	CHECK(r.msg->run->n_argv == 2);
	CHECK(r.msg->run->argv[1].len == BIG_ARG);
	for (size_t i = 0; i < BIG_ARG; i++)
		CHECK(r.msg->run->argv[1].data[i] == (uint8_t)('a' + i % 26));
	CHECK(is_devnull(r.fds[0]) && is_devnull(r.fds[1]) &&
	      is_devnull(r.fds[2]));
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 9);
	fake_send_result(f, r.id, 9, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

/*
 * A frame far larger than the socket buffer goes out in many sendmsg()
 * calls (frame_send() waits for room in between): the fds still ride on
 * the first byte only and the body arrives whole.
 */
Test(client, large_frame_goes_out_in_pieces_with_fds_on_the_first,
     .timeout = 60)
{
	struct fake f;
	box_client *c;
	box_spec *s = simple_spec();
	char *big = malloc(BIG_ARG + 1);
	int sv[2], small = 4096;
	box_run *run;

	for (size_t i = 0; i < BIG_ARG; i++)
		big[i] = (char)('a' + i % 26);
	big[BIG_ARG] = '\0';
	cr_assert_eq(box_spec_add_arg(s, big), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	cr_assert_eq(
	    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	fake_start(&f, sv[1], script_big_frame, NULL);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	box_run_free(run);
	free(big);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_after_bad_fd(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	/* The run with a bad fd never reached us; the status is next. */
	EXPECT(&r, STATUS, 0);
	fake_req_clear(&r);
	fake_send_status(f, r.id);
}

/* A bad stdio fd fails that run before its first byte: the connection
 * stays in step and usable. */
Test(client, bad_fd_fails_only_its_run, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_after_bad_fd, NULL);
	box_spec *s = simple_spec();
	box_status *st = NULL;
	box_run *run = NULL;
	/* Not open, and too high for the library's own open() to take. */
	int closed = 1000;

	cr_assert_eq(fcntl(closed, F_GETFD), -1);
	cr_assert_eq(box_run_start(c, s, -1, closed, -1, &run), -EBADF);
	cr_assert_null(run);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_eq(box_error_errno(box_client_last_error(c)), EBADF);
	cr_assert_eq(box_client_status(c, &st), 0);
	cr_assert_eq(box_status_runs(st), 2);
	box_status_free(st);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_gone(struct fake *f)
{
	HANDSHAKE();
	close(f->sock);
	f->sock = -1;
}

/* Sending to a daemon that is gone fails; it never raises SIGPIPE. */
Test(client, send_to_a_closed_daemon_raises_no_sigpipe, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_gone, NULL);
	box_spec *s = simple_spec();
	box_run *run = NULL;

	signal(SIGPIPE, SIG_DFL);
	fake_join(&f);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -ECONNRESET);
	cr_assert_null(run);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	box_client_free(c);
	box_spec_free(s);
}
