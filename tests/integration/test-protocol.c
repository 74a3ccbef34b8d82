/*
 * A hostile or broken client on the raw socket: partial frames, oversized
 * frames, wrong fd counts, truncated control data, unknown request types,
 * garbage. Each gets a clear error or a closed connection, and the daemon
 * keeps serving everyone else.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "box.pb-c.h"
#include "frame.h"
#include "harness.h"

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

TestSuite(protocol, .init = setup, .fini = teardown, .timeout = 60);

static int raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, d.sock);
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static void send_request(int fd, const Boxd__V1__Request *req, const int *fds,
			 size_t n_fds)
{
	size_t len = boxd__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);

	boxd__v1__request__pack(req, buf);
	cr_assert_eq(frame_send(fd, buf, (uint32_t)len, fds, n_fds, NULL), 0);
	free(buf);
}

static void send_hello(int fd)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;
	uint32_t v = 1;

	hello.n_versions = 1;
	hello.versions = &v;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	send_request(fd, &req, NULL, 0);
}

/* Next event, or NULL when the daemon closed the connection. */
static Boxd__V1__Event *read_event(int fd)
{
	struct frame_reader r;
	Boxd__V1__Event *ev = NULL;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int ret;

	frame_reader_init(&r, FRAME_MAX_DEFAULT);
	for (;;) {
		cr_assert(poll(&p, 1, 10000) == 1, "no answer from boxd");
		ret = frame_read(&r, fd);
		if (ret != 0)
			break;
	}
	if (ret == 1)
		ev = boxd__v1__event__unpack(NULL, r.body_len, r.body);
	frame_reader_reset(&r);
	return ev;
}

/* The daemon answers with a PROTOCOL error (optional) and hangs up. */
static void expect_protocol_close(int fd, const char *needle)
{
	Boxd__V1__Event *ev = read_event(fd);

	if (ev) {
		cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ERROR);
		cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__PROTOCOL);
		if (needle)
			cr_expect(strstr(ev->error->message, needle), "%s",
				  ev->error->message);
		boxd__v1__event__free_unpacked(ev, NULL);
		ev = read_event(fd);
	}
	cr_expect_null(ev, "connection should be closed");
	close(fd);
}

/* Everyone else is still served. */
static void expect_daemon_serves(void)
{
	int status = -1;
	char *out = sh_out(&d, "echo alive", &status);

	cr_expect_str_eq(out, "alive\n");
	cr_expect_eq(status, 0);
	free(out);
	cr_expect(daemon_alive(&d));
}

Test(protocol, garbage_bytes)
{
	int fd = raw_connect();
	uint8_t junk[64];

	/* Looks like a 16-byte frame of nonsense. */
	memset(junk, 0xff, sizeof(junk));
	junk[0] = 16;
	junk[1] = junk[2] = junk[3] = 0;
	cr_assert(write(fd, junk, 20) == 20);
	expect_protocol_close(fd, "Request");
	expect_daemon_serves();
}

Test(protocol, oversized_frame_is_refused_before_reading_it)
{
	int fd = raw_connect();
	uint8_t hdr[4] = {0xff, 0xff, 0xff, 0x7f};

	cr_assert(write(fd, hdr, 4) == 4);
	expect_protocol_close(fd, "larger");
	expect_daemon_serves();
}

Test(protocol, partial_frame_then_hangup)
{
	int fd = raw_connect();
	uint8_t hdr[6] = {100, 0, 0, 0, 1, 2};

	cr_assert(write(fd, hdr, sizeof(hdr)) == sizeof(hdr));
	close(fd);
	expect_daemon_serves();
}

Test(protocol, partial_frame_then_the_rest_later)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;
	uint32_t v = 1;
	uint8_t buf[64];
	size_t len;
	int fd = raw_connect();
	Boxd__V1__Event *ev;

	hello.n_versions = 1;
	hello.versions = &v;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	len = boxd__v1__request__pack(&req, buf + 4);
	frame_header(buf, (uint32_t)len);
	/* Byte by byte, with pauses: the daemon must assemble it. */
	for (size_t i = 0; i < len + 4; i++) {
		cr_assert(write(fd, buf + i, 1) == 1);
		usleep(2000);
	}
	ev = read_event(fd);
	cr_assert_not_null(ev);
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_HELLO);
	boxd__v1__event__free_unpacked(ev, NULL);
	close(fd);
}

Test(protocol, request_before_hello)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__StatusRequest st = BOXD__V1__STATUS_REQUEST__INIT;
	int fd = raw_connect();

	req.msg_case = BOXD__V1__REQUEST__MSG_STATUS;
	req.status = &st;
	send_request(fd, &req, NULL, 0);
	expect_protocol_close(fd, "Hello");
	expect_daemon_serves();
}

Test(protocol, unknown_request_type)
{
	/* Field 99 of Request: a type this daemon does not know. */
	uint8_t frame[] = {3, 0, 0, 0, 0x9a, 0x06, 0x00};
	int fd = raw_connect();
	Boxd__V1__Event *ev;

	send_hello(fd);
	ev = read_event(fd);
	cr_assert_not_null(ev);
	boxd__v1__event__free_unpacked(ev, NULL);
	cr_assert(write(fd, frame, sizeof(frame)) == sizeof(frame));
	expect_protocol_close(fd, "unknown");
	expect_daemon_serves();
}

static void run_with_fds(int n_fds, const char *needle)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__RunRequest run = BOXD__V1__RUN_REQUEST__INIT;
	ProtobufCBinaryData arg = {.data = (uint8_t *)"/bin/true", .len = 9};
	int fds[FRAME_MAX_FDS];
	int fd = raw_connect();
	Boxd__V1__Event *ev;

	for (int i = 0; i < FRAME_MAX_FDS; i++)
		fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	send_hello(fd);
	ev = read_event(fd);
	boxd__v1__event__free_unpacked(ev, NULL);
	run.n_argv = 1;
	run.argv = &arg;
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	req.run = &run;
	send_request(fd, &req, fds, (size_t)n_fds);
	expect_protocol_close(fd, needle);
	for (int i = 0; i < FRAME_MAX_FDS; i++)
		close(fds[i]);
}

Test(protocol, wrong_fd_counts)
{
	run_with_fds(0, "expected exactly 3");
	run_with_fds(2, "expected exactly 3");
	expect_daemon_serves();

	/* fds on a request that takes none. */
	int fd = raw_connect();
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;
	uint32_t v = 1;

	hello.n_versions = 1;
	hello.versions = &v;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	send_request(fd, &req, &devnull, 1);
	expect_protocol_close(fd, "expected exactly 0");
	close(devnull);
	expect_daemon_serves();
}

Test(protocol, truncated_control_data)
{
	/* More fds than the daemon's control buffer holds: MSG_CTRUNC. */
	int fd = raw_connect();
	int fds[32];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	uint8_t frame[4] = {0, 0, 0, 0};
	struct iovec iov = {.iov_base = frame, .iov_len = sizeof(frame)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	for (int i = 0; i < 32; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	cr_assert(sendmsg(fd, &msg, 0) == sizeof(frame));
	expect_protocol_close(fd, NULL);
	for (int i = 0; i < 32; i++)
		close(fds[i]);
	expect_daemon_serves();
}

Test(protocol, empty_argv_is_a_bad_request_and_connection_survives)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__RunRequest run = BOXD__V1__RUN_REQUEST__INIT;
	int fds[3];
	int fd = raw_connect();
	Boxd__V1__Event *ev;

	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	send_hello(fd);
	ev = read_event(fd);
	boxd__v1__event__free_unpacked(ev, NULL);
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	req.run = &run;
	send_request(fd, &req, fds, 3);
	ev = read_event(fd);
	cr_assert_not_null(ev);
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ERROR);
	cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__BAD_REQUEST);
	cr_expect(strstr(ev->error->message, "argv"), "%s", ev->error->message);
	boxd__v1__event__free_unpacked(ev, NULL);

	/* Same connection: a status request still works. */
	Boxd__V1__StatusRequest st = BOXD__V1__STATUS_REQUEST__INIT;
	Boxd__V1__Request sreq = BOXD__V1__REQUEST__INIT;
	sreq.msg_case = BOXD__V1__REQUEST__MSG_STATUS;
	sreq.status = &st;
	send_request(fd, &sreq, NULL, 0);
	ev = read_event(fd);
	cr_assert_not_null(ev);
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_STATUS);
	boxd__v1__event__free_unpacked(ev, NULL);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(fd);
}

Test(protocol, many_bad_clients_at_once)
{
	int fds[50];

	for (int i = 0; i < 50; i++) {
		uint8_t junk[8] = {4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};

		fds[i] = raw_connect();
		(void)!write(fds[i], junk, (size_t)(i % 8) + 1);
	}
	for (int i = 0; i < 50; i += 2)
		close(fds[i]);
	expect_daemon_serves();
	for (int i = 1; i < 50; i += 2)
		close(fds[i]);
	expect_daemon_serves();
}

/* The daemon's own checks, for clients that skip the library's. */
static Boxd__V1__Event *raw_run(int fd, Boxd__V1__RunRequest *run)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	int fds[3];
	Boxd__V1__Event *ev;

	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	req.run = run;
	send_request(fd, &req, fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	ev = read_event(fd);
	cr_assert_not_null(ev);
	return ev;
}

static void expect_bad_request(Boxd__V1__Event *ev, const char *needle)
{
	cr_assert_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ERROR);
	cr_expect_eq(ev->error->code, BOXD__V1__ERROR_CODE__BAD_REQUEST);
	cr_expect(strstr(ev->error->message, needle), "'%s' lacks '%s'",
		  ev->error->message, needle);
	boxd__v1__event__free_unpacked(ev, NULL);
}

Test(protocol, daemon_refuses_malformed_run_requests)
{
	ProtobufCBinaryData arg = {.data = (uint8_t *)"/bin/true", .len = 9};
	ProtobufCBinaryData nul = {.data = (uint8_t *)"a\0b", .len = 3};
	Boxd__V1__Mount m = BOXD__V1__MOUNT__INIT;
	Boxd__V1__Mount *mp = &m;
	Boxd__V1__RunRequest run = BOXD__V1__RUN_REQUEST__INIT;
	int fd = raw_connect();
	Boxd__V1__Event *ev;

	send_hello(fd);
	ev = read_event(fd);
	boxd__v1__event__free_unpacked(ev, NULL);
	run.n_argv = 1;
	run.argv = &arg;

	/* Relative mount target. */
	m.kind = BOXD__V1__MOUNT__KIND__TMPFS;
	m.dst.data = (uint8_t *)"relative/x";
	m.dst.len = 10;
	run.n_mounts = 1;
	run.mounts = &mp;
	expect_bad_request(raw_run(fd, &run), "absolute");

	/* ".." in a path. */
	m.dst.data = (uint8_t *)"/a/../../etc";
	m.dst.len = 12;
	expect_bad_request(raw_run(fd, &run), "'..'");
	run.n_mounts = 0;

	/* Unknown profile. */
	run.has_profile = true;
	run.profile = (Boxd__V1__Profile)42;
	expect_bad_request(raw_run(fd, &run), "profile");
	run.has_profile = false;

	/* Unknown network mode. */
	run.has_net = true;
	run.net = (Boxd__V1__Net)9;
	expect_bad_request(raw_run(fd, &run), "network");
	run.has_net = false;

	/* NUL inside an argument. */
	run.argv = &nul;
	expect_bad_request(raw_run(fd, &run), "NUL");
	run.argv = &arg;

	/* And the connection still runs a good request. */
	ev = raw_run(fd, &run);
	cr_expect_eq(ev->msg_case, BOXD__V1__EVENT__MSG_ACCEPTED);
	boxd__v1__event__free_unpacked(ev, NULL);
	close(fd);
}
