/* See rawproto.h. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frame.h"
#include "rawproto.h"

int raw_connect_to(const struct daemon *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, d->sock);
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

void raw_send(int fd, const Boxd__V1__Request *req, const int *fds,
	      size_t n_fds)
{
	size_t len = boxd__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);

	boxd__v1__request__pack(req, buf);
	cr_assert_eq(frame_send(fd, buf, (uint32_t)len, fds, n_fds, NULL), 0);
	free(buf);
}

void raw_send_id(int fd, Boxd__V1__Request *req, uint64_t request_id,
		 const int *fds, size_t n_fds)
{
	req->has_request_id = request_id != 0;
	req->request_id = request_id;
	raw_send(fd, req, fds, n_fds);
}

void raw_send_hello(int fd, uint32_t version, uint64_t request_id)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;

	hello.n_versions = 1;
	hello.versions = &version;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	raw_send_id(fd, &req, request_id, NULL, 0);
}

Boxd__V1__Event *raw_read_event(int fd)
{
	struct frame_reader r;
	Boxd__V1__Event *ev = NULL;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int ret;

	frame_reader_init(&r, FRAME_MAX_DEFAULT);
	for (;;) {
		cr_assert(poll(&p, 1, TEST_PATIENCE_MS) == 1,
			  "no answer from boxd");
		ret = frame_read(&r, fd);
		if (ret != 0)
			break;
	}
	if (ret == 1)
		ev = boxd__v1__event__unpack(NULL, r.body_len, r.body);
	frame_reader_reset(&r);
	return ev;
}

void raw_send_run(int fd, const char *const *argv, uint64_t request_id)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__RunRequest run = BOXD__V1__RUN_REQUEST__INIT;
	ProtobufCBinaryData args[8];
	int fds[3];
	size_t n = 0;

	for (; argv[n] && n < 8; n++) {
		args[n].data = (uint8_t *)argv[n];
		args[n].len = strlen(argv[n]);
	}
	run.n_argv = n;
	run.argv = args;
	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	req.msg_case = BOXD__V1__REQUEST__MSG_RUN;
	req.run = &run;
	raw_send_id(fd, &req, request_id, fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}
