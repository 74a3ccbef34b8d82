/*
 * libFuzzer target for frame_read, the first code that touches a client's
 * bytes. The input is pushed through a real socketpair in chunks (with fds
 * on the first or the second chunk, and SO_PASSCRED, chosen by the first
 * two bytes) and every result is checked against an independent decoding
 * of the same bytes. It must never accept a frame above the limit, hand
 * out the wrong fds, accept fds that did not come with a frame's first
 * byte, or leave a descriptor open after the run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "fdpass.h"
#include "frame.h"
#include "util.h"

#define FUZZ_MAX 64 /* small, so both sides of the limit are reachable */

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * What frame_read must say once the stream is exhausted after the whole
 * frames before off have been taken, fds having been sent with the byte
 * at fd_off (SIZE_MAX: none): decoded here without frame.c.
 */
static int expected_end(const uint8_t *data, size_t size, size_t off,
			size_t fd_off)
{
	/* fds with a byte of this frame that is not its first one. */
	bool late = fd_off > off && fd_off < size;
	uint32_t len;

	if (off == size)
		return -ECONNRESET;
	if (size - off < FRAME_HEADER_SIZE)
		return -EPROTO;
	/* Seen while the header is read, before its length is checked. */
	if (late && fd_off < off + FRAME_HEADER_SIZE)
		return -EPROTO;
	len = le32(data + off);
	if (len > FUZZ_MAX)
		return -EMSGSIZE;
	return -EPROTO; /* the body is cut short, or fds came late */
}

static bool send_chunk(int sock, const uint8_t *buf, size_t len, const int *fds,
		       size_t n_fds, size_t *sent)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	ssize_t n = fdpass_send(sock, &iov, 1, fds, n_fds);

	if (n < 0) {
		/* Full buffer, or the reader already gave up and hung up. */
		CHECK(n == -EAGAIN || n == -EPIPE);
		return false;
	}
	*sent += (size_t)n;
	return n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	struct frame_reader r;
	int sv[2], fds[FRAME_MAX_FDS], before, ret;
	size_t chunk, n_send_fds, sent = 0, off = 0, sends = 0;
	size_t fd_off = SIZE_MAX; /* where the fds went, once they went */
	size_t fd_send;           /* on which successful send they go */
	bool passcred;

	if (size < 2)
		return 0;
	chunk = 1 + (data[0] & 0x3f);
	n_send_fds = data[0] >> 6; /* 0..3 fds ride on the first byte */
	passcred = data[1] & 1;
	fd_send = (data[1] >> 1) & 1;
	data += 2;
	size -= 2;

	if (devnull < 0) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		CHECK(devnull >= 0);
	}
	before = count_fds();

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			 sv) == 0);
	if (passcred) {
		int one = 1;

		CHECK(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one,
				 sizeof(one)) == 0);
	}
	for (size_t i = 0; i < n_send_fds; i++)
		CHECK((fds[i] = fcntl(devnull, F_DUPFD_CLOEXEC, 0)) >= 0);
	if (size == 0)
		CHECK(shutdown(sv[1], SHUT_WR) == 0);

	frame_reader_init(&r, FUZZ_MAX);
	for (;;) {
		if (sent < size) {
			size_t len = size - sent < chunk ? size - sent : chunk;
			bool with_fds = sends == fd_send && n_send_fds > 0;
			size_t at = sent;

			if (send_chunk(sv[1], data + sent, len, fds,
				       with_fds ? n_send_fds : 0, &sent)) {
				if (with_fds)
					fd_off = at;
				sends++;
			}
			if (sent == size)
				CHECK(shutdown(sv[1], SHUT_WR) == 0);
		}

		ret = frame_read(&r, sv[0]);
		if (ret == 0) {
			/* Everything sent and the writer shut: never EAGAIN. */
			CHECK(sent < size);
			continue;
		}
		if (ret < 0)
			break;

		CHECK(ret == 1);
		CHECK(!passcred);
		CHECK(r.body_len <= r.max && r.body_len <= FUZZ_MAX);
		CHECK(size - off >= FRAME_HEADER_SIZE);
		CHECK(r.body_len == le32(data + off));
		CHECK(size - off - FRAME_HEADER_SIZE >= r.body_len);
		CHECK(memcmp(r.body, data + off + FRAME_HEADER_SIZE,
			     r.body_len) == 0);
		/* The fds belong to the frame whose first byte they came
		 * with, and to no other. */
		CHECK(r.n_fds == (off == fd_off ? n_send_fds : 0));
		for (size_t i = 0; i < FRAME_MAX_FDS; i++)
			CHECK((r.fds[i] >= 0) == (i < r.n_fds));
		off += FRAME_HEADER_SIZE + r.body_len;
		frame_reader_reset(&r);
	}

	if (passcred)
		/* Any byte brings credentials; an empty stream may not. */
		CHECK(ret == -EPROTO || (size == 0 && ret == -ECONNRESET));
	else
		CHECK(ret == expected_end(data, size, off, fd_off));
	/* An error leaves nothing behind in the reader. */
	CHECK(!r.body && r.n_fds == 0);
	for (size_t i = 0; i < FRAME_MAX_FDS; i++)
		CHECK(r.fds[i] == -1);

	frame_reader_reset(&r);
	for (size_t i = 0; i < n_send_fds; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
	CHECK(count_fds() == before);
	return 0;
}
