/*
 * Tests for common/frame.c: framing and fd passing over a real socketpair,
 * with the reader non-blocking as the daemon uses it. The error cases play
 * a hostile peer (huge lengths, too many fds, foreign control messages,
 * hang-ups inside a frame) and check both the error and that no received
 * fd is left open. These tests must never depend on timing.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "fdpass.h"
#include "fds.h"
#include "frame.h"
#include "util.h"

/* The kernel refuses more than this many fds in one SCM_RIGHTS message. */
#define SCM_MAX_FD 253

static int count_fds(void)
{
	int n = fds_open();

	cr_assert_geq(n, 0, "/proc/self/fd unreadable");
	return n;
}

/* sv[0] is the non-blocking reader, sv[1] the blocking writer. */
static void make_pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static int make_memfd(void)
{
	int fd = memfd_create("test-frame", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	return fd;
}

/* Bytes and any number of fds in one sendmsg, bypassing frame_send. */
static void send_raw(int sock, const void *buf, size_t len, const int *fds,
		     size_t n_fds)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	cr_assert_leq(n_fds, SCM_MAX_FD);
	cr_assert_eq(fdpass_send(sock, &iov, 1, fds, n_fds), (ssize_t)len);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	/* No asserts: also used in a forked child. */
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool is_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	cr_assert_geq(flags, 0);
	return flags & FD_CLOEXEC;
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

Test(frame, header_is_little_endian)
{
	uint8_t h[FRAME_HEADER_SIZE];

	frame_header(h, 0x01020304);
	cr_assert_eq(h[0], 0x04);
	cr_assert_eq(h[1], 0x03);
	cr_assert_eq(h[2], 0x02);
	cr_assert_eq(h[3], 0x01);
}

Test(frame, whole_frame_without_fds)
{
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "hello", 5, NULL, 0, NULL), 0);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 5);
	cr_assert_eq(memcmp(r.body, "hello", 5), 0);
	cr_assert_eq(r.n_fds, 0);
	for (size_t i = 0; i < FRAME_MAX_FDS; i++)
		cr_assert_eq(r.fds[i], -1);

	/* Nothing more queued. */
	frame_reader_reset(&r);
	cr_assert_eq(frame_read(&r, sv[0]), 0);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, whole_frame_with_three_fds)
{
	struct frame_reader r;
	int sv[2], p[2], fds[3];
	char c = 0;

	make_pair(sv);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	fds[0] = p[1];
	fds[1] = make_memfd();
	fds[2] = make_memfd();
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "abc", 3, fds, 3, NULL), 0);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 3);
	cr_assert_eq(memcmp(r.body, "abc", 3), 0);
	cr_assert_eq(r.n_fds, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_geq(r.fds[i], 0);
		cr_assert_neq(r.fds[i], fds[i], "a new descriptor, not ours");
		cr_assert(same_file(r.fds[i], fds[i]), "fd %zu out of order",
			  i);
		cr_assert(is_cloexec(r.fds[i]), "fd %zu lacks FD_CLOEXEC", i);
	}

	/* The received pipe end works. */
	cr_assert_eq(write(r.fds[0], "x", 1), 1);
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_assert_eq(c, 'x');

	frame_reader_reset(&r);
	close(p[0]);
	for (size_t i = 0; i < 3; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, zero_length_body)
{
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], NULL, 0, NULL, 0, NULL), 0);
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 0);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, nothing_to_read_returns_zero)
{
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_read(&r, sv[0]), 0);
	cr_assert_eq(frame_read(&r, sv[0]), 0);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, whole_frame_is_kept_until_reset)
{
	struct frame_reader r;
	uint8_t *body;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "one", 3, NULL, 0, NULL), 0);
	cr_assert_eq(frame_send(sv[1], "two", 3, NULL, 0, NULL), 0);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	body = r.body;
	/* Without a reset, the second frame must stay in the socket. */
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body, body);
	cr_assert_eq(memcmp(r.body, "one", 3), 0);

	frame_reader_reset(&r);
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(memcmp(r.body, "two", 3), 0);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, partial_frame_byte_by_byte)
{
	const char body[] = "partial body";
	uint8_t wire[FRAME_HEADER_SIZE + sizeof(body)];
	struct frame_reader r;
	int sv[2], fd;

	make_pair(sv);
	fd = make_memfd();
	frame_header(wire, sizeof(body));
	memcpy(wire + FRAME_HEADER_SIZE, body, sizeof(body));
	frame_reader_init(&r, 64);

	for (size_t i = 0; i < sizeof(wire); i++) {
		/* The fd rides on the first byte, as frame_send does it. */
		send_raw(sv[1], wire + i, 1, &fd, i == 0 ? 1 : 0);
		if (i + 1 < sizeof(wire)) {
			cr_assert_eq(frame_read(&r, sv[0]), 0, "byte %zu", i);
			/* No new bytes: still 0, progress kept. */
			cr_assert_eq(frame_read(&r, sv[0]), 0, "byte %zu", i);
		}
	}
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, sizeof(body));
	cr_assert_eq(memcmp(r.body, body, sizeof(body)), 0);
	cr_assert_eq(r.n_fds, 1);
	cr_assert(same_file(r.fds[0], fd));

	frame_reader_reset(&r);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, back_to_back_frames_keep_their_own_fds)
{
	struct frame_reader r;
	int sv[2], a, b[2];

	make_pair(sv);
	a = make_memfd();
	b[0] = make_memfd();
	b[1] = make_memfd();
	frame_reader_init(&r, 64);

	/* All three frames are queued before the reader looks at any. */
	cr_assert_eq(frame_send(sv[1], "A", 1, &a, 1, NULL), 0);
	cr_assert_eq(frame_send(sv[1], "BB", 2, b, 2, NULL), 0);
	cr_assert_eq(frame_send(sv[1], "CCC", 3, NULL, 0, NULL), 0);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 1);
	cr_assert_eq(r.n_fds, 1);
	cr_assert(same_file(r.fds[0], a));
	frame_reader_reset(&r);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 2);
	cr_assert_eq(memcmp(r.body, "BB", 2), 0);
	cr_assert_eq(r.n_fds, 2);
	cr_assert(same_file(r.fds[0], b[0]));
	cr_assert(same_file(r.fds[1], b[1]));
	frame_reader_reset(&r);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 3);
	cr_assert_eq(r.n_fds, 0);
	frame_reader_reset(&r);

	close(a);
	close(b[0]);
	close(b[1]);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, length_equal_to_max_is_accepted)
{
	uint8_t body[16] = {0};
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, sizeof(body));
	cr_assert_eq(frame_send(sv[1], body, sizeof(body), NULL, 0, NULL), 0);
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, sizeof(body));
	frame_reader_reset(&r);

	cr_assert_eq(frame_send(sv[1], body, sizeof(body), NULL, 0, NULL), 0);
	r.max = sizeof(body) - 1;
	cr_assert_eq(frame_read(&r, sv[0]), -EMSGSIZE);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Cap the address space a little above what the process uses now, so that
 * a reader that allocated the claimed length before checking it would get
 * -ENOMEM (or crash) instead of -EMSGSIZE. With overcommit, a 4 GiB malloc
 * would otherwise succeed and hide the bug.
 */
static void cap_address_space(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	struct rlimit rl;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_gt(kb, 0);
	rl.rlim_cur = rl.rlim_max = (kb << 10) + (512ULL << 20);
	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
}

Test(frame, oversized_length_is_refused_before_allocating)
{
	const uint8_t hdr[FRAME_HEADER_SIZE] = {0xff, 0xff, 0xff, 0xff};
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	cap_address_space();
	frame_reader_init(&r, 16);
	send_raw(sv[1], hdr, sizeof(hdr), NULL, 0);

	cr_assert_eq(frame_read(&r, sv[0]), -EMSGSIZE);
	cr_assert_null(r.body);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, garbage_parsing_as_huge_length)
{
	/* Someone speaking HTTP to the socket: "GET " is 0x20544547. */
	const char junk[] = "GET / HTTP/1.1\r\nHost: boxd\r\n\r\n";
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	cap_address_space();
	frame_reader_init(&r, FRAME_MAX_DEFAULT);
	send_raw(sv[1], junk, sizeof(junk) - 1, NULL, 0);
	cr_assert_eq(frame_read(&r, sv[0]), -EMSGSIZE);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

/* Open n dups of one memfd, send them, and close our copies. */
static void send_with_fds(int sock, const void *buf, size_t len, size_t n)
{
	int fds[SCM_MAX_FD];
	int base = make_memfd();

	cr_assert_leq(n, SCM_MAX_FD);
	for (size_t i = 0; i < n; i++) {
		fds[i] = fcntl(base, F_DUPFD_CLOEXEC, 0);
		cr_assert_geq(fds[i], 0);
	}
	send_raw(sock, buf, len, fds, n);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	close(base);
}

Test(frame, too_many_fds_over_one_frame)
{
	uint8_t wire[FRAME_HEADER_SIZE + 4] = {0};
	struct frame_reader r;
	int sv[2], before;

	make_pair(sv);
	frame_header(wire, 4);
	frame_reader_init(&r, 64);
	before = count_fds();

	/*
	 * Two fds on the first byte, two more on the rest of the same frame:
	 * each message fits the control buffer, only the total is too many.
	 */
	send_with_fds(sv[1], wire, 1, 2);
	send_with_fds(sv[1], wire + 1, sizeof(wire) - 1, 2);
	cr_assert_eq(count_fds(), before);

	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, four_fds_in_one_message)
{
	uint8_t wire[FRAME_HEADER_SIZE + 1] = {0};
	struct frame_reader r;
	int sv[2], before;

	make_pair(sv);
	frame_header(wire, 1);
	frame_reader_init(&r, 64);
	before = count_fds();

	send_with_fds(sv[1], wire, sizeof(wire), FRAME_MAX_FDS + 1);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

/* This test holds SCM_MAX_FD descriptors at once on top of its own: ask
 * for enough, up to the hard limit, and skip where even that is less. */
static void require_fds(rlim_t want)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
				  ? want
				  : rl.rlim_max;
		cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		cr_skip_test("the open-file limit (hard %llu) is below the "
			     "%llu descriptors this test holds at once",
			     (unsigned long long)rl.rlim_max,
			     (unsigned long long)want);
}

Test(frame, truncated_control_data)
{
	uint8_t wire[FRAME_HEADER_SIZE + 1] = {0};
	struct frame_reader r;
	int sv[2], before;

	require_fds(SCM_MAX_FD + 64);
	make_pair(sv);
	frame_header(wire, 1);
	frame_reader_init(&r, 64);
	before = count_fds();

	/* Far more than any sane control buffer holds: MSG_CTRUNC. */
	send_with_fds(sv[1], wire, sizeof(wire), SCM_MAX_FD);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, credentials_control_message_is_refused)
{
	struct frame_reader r;
	int sv[2], one = 1;

	make_pair(sv);
	cr_assert_eq(
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "creds", 5, NULL, 0, NULL), 0);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, credentials_with_fds_leaks_nothing)
{
	struct frame_reader r;
	int sv[2], one = 1, before;
	uint8_t wire[FRAME_HEADER_SIZE + 1] = {0};

	make_pair(sv);
	cr_assert_eq(
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	frame_header(wire, 1);
	frame_reader_init(&r, 64);
	before = count_fds();
	send_with_fds(sv[1], wire, sizeof(wire), 1);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, fds_on_the_second_header_byte_are_refused)
{
	uint8_t wire[FRAME_HEADER_SIZE + 2] = {0};
	struct frame_reader r;
	int sv[2], before;

	make_pair(sv);
	frame_header(wire, 2);
	frame_reader_init(&r, 64);
	before = count_fds();

	/*
	 * The first byte alone and without fds, the rest with one: a reader
	 * that read the whole header in one go would take the fd for the
	 * frame's.
	 */
	send_raw(sv[1], wire, 1, NULL, 0);
	send_with_fds(sv[1], wire + 1, sizeof(wire) - 1, 1);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(r.fault, FRAME_FAULT_FDS_LATE);
	cr_assert_str_eq(frame_fault_str(r.fault),
			 "file descriptors not on the frame's first byte");
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	cr_assert_eq(r.fault, FRAME_FAULT_NONE, "reset keeps the reason");
	close(sv[0]);
	close(sv[1]);
}

Test(frame, fds_on_a_body_byte_are_refused)
{
	uint8_t wire[FRAME_HEADER_SIZE + 4] = {0};
	struct frame_reader r;
	int sv[2], before;

	make_pair(sv);
	frame_header(wire, 4);
	frame_reader_init(&r, 64);
	before = count_fds();

	send_raw(sv[1], wire, FRAME_HEADER_SIZE + 2, NULL, 0);
	send_with_fds(sv[1], wire + FRAME_HEADER_SIZE + 2, 2, 2);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(r.fault, FRAME_FAULT_FDS_LATE);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * fds sent with the last byte of one frame and the first bytes of the
 * next are the first frame's late fds, not the second frame's: they came
 * with a byte that is not a first byte.
 */
Test(frame, fds_sent_before_a_frame_starts_are_refused)
{
	uint8_t wire[2 * (FRAME_HEADER_SIZE + 1)] = {0};
	struct frame_reader r;
	int sv[2], before;

	make_pair(sv);
	frame_header(wire, 1);
	frame_header(wire + FRAME_HEADER_SIZE + 1, 1);
	frame_reader_init(&r, 64);
	before = count_fds();

	send_raw(sv[1], wire, FRAME_HEADER_SIZE, NULL, 0);
	send_with_fds(sv[1], wire + FRAME_HEADER_SIZE,
		      sizeof(wire) - FRAME_HEADER_SIZE, 3);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(r.fault, FRAME_FAULT_FDS_LATE);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, each_fault_is_named)
{
	uint8_t wire[FRAME_HEADER_SIZE + 1] = {0};
	struct frame_reader r;
	int sv[2], one = 1;

	/* Too many fds on the first byte: the count, not the place. */
	make_pair(sv);
	frame_header(wire, 1);
	frame_reader_init(&r, 64);
	send_with_fds(sv[1], wire, sizeof(wire), FRAME_MAX_FDS + 1);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(r.fault, FRAME_FAULT_TOO_MANY_FDS);
	cr_assert(strstr(frame_fault_str(r.fault),
			 "wrong number of file descriptors"));
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);

	make_pair(sv);
	cr_assert_eq(
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	cr_assert_eq(frame_send(sv[1], "x", 1, NULL, 0, NULL), 0);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(r.fault, FRAME_FAULT_CONTROL);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);

	make_pair(sv);
	send_raw(sv[1], wire, 2, NULL, 0);
	close(sv[1]);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(r.fault, FRAME_FAULT_TRUNCATED);
	close(sv[0]);

	make_pair(sv);
	frame_header(wire, 65);
	send_raw(sv[1], wire, FRAME_HEADER_SIZE, NULL, 0);
	cr_assert_eq(frame_read(&r, sv[0]), -EMSGSIZE);
	cr_assert_eq(r.fault, FRAME_FAULT_TOO_LARGE);
	frame_reader_reset(&r);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, eof_mid_header)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_header(hdr, 8);
	frame_reader_init(&r, 64);
	send_raw(sv[1], hdr, 2, NULL, 0);
	cr_assert_eq(frame_read(&r, sv[0]), 0);
	close(sv[1]);
	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	frame_reader_reset(&r);
	close(sv[0]);
}

Test(frame, eof_mid_body_closes_fds)
{
	uint8_t wire[FRAME_HEADER_SIZE + 5] = {0};
	struct frame_reader r;
	int sv[2], before;

	make_pair(sv);
	frame_header(wire, 10); /* claims 10, only 5 follow */
	frame_reader_init(&r, 64);
	before = count_fds();
	send_with_fds(sv[1], wire, sizeof(wire), 2);
	close(sv[1]);

	cr_assert_eq(frame_read(&r, sv[0]), -EPROTO);
	cr_assert_eq(count_fds(), before - 1, "received fds leaked");
	frame_reader_reset(&r);
	close(sv[0]);
}

Test(frame, eof_between_frames)
{
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "last", 4, NULL, 0, NULL), 0);
	close(sv[1]);

	cr_assert_eq(frame_read(&r, sv[0]), 1);
	frame_reader_reset(&r);
	cr_assert_eq(frame_read(&r, sv[0]), -ECONNRESET);
	frame_reader_reset(&r);
	close(sv[0]);
}

Test(frame, eof_before_anything)
{
	struct frame_reader r;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	close(sv[1]);
	cr_assert_eq(frame_read(&r, sv[0]), -ECONNRESET);
	close(sv[0]);
}

Test(frame, reset_closes_only_fds_not_taken)
{
	struct frame_reader r;
	int sv[2], fds[2], taken, left;

	make_pair(sv);
	fds[0] = make_memfd();
	fds[1] = make_memfd();
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "x", 1, fds, 2, NULL), 0);
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.n_fds, 2);

	taken = TAKE_FD(r.fds[0]);
	left = r.fds[1];
	frame_reader_reset(&r);

	cr_assert(is_open(taken), "reset closed an fd that was taken");
	cr_assert_not(is_open(left), "reset left an fd open");
	cr_assert_null(r.body);
	cr_assert_eq(r.n_fds, 0);
	cr_assert_eq(r.fds[0], -1);
	cr_assert_eq(r.fds[1], -1);

	close(taken);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, send_refuses_too_many_fds)
{
	int fds[FRAME_MAX_FDS + 1] = {0, 1, 2, 0};
	int sv[2];

	make_pair(sv);
	cr_assert_eq(frame_send(sv[1], "x", 1, fds, ELEMENTSOF(fds), NULL),
		     -EINVAL);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, send_to_closed_peer_is_epipe_not_sigpipe)
{
	int sv[2];

	make_pair(sv);
	/* Default disposition: without MSG_NOSIGNAL this test dies. */
	signal(SIGPIPE, SIG_DFL);
	close(sv[0]);
	cr_assert_eq(frame_send(sv[1], "x", 1, NULL, 0, NULL), -EPIPE);
	close(sv[1]);
}

/*
 * A large frame on a non-blocking sender with a tiny buffer: frame_send
 * must wait for the peer instead of returning -EAGAIN, and the fds must
 * arrive once, with the first frame only.
 */
Test(frame, send_large_frame_on_nonblocking_socket)
{
	const uint32_t len = 3u << 20;
	_cleanup_free_ uint8_t *body = malloc(len);
	int sv[2], fds[2], sndbuf = 4096, status;
	pid_t pid;

	cr_assert_not_null(body);
	for (uint32_t i = 0; i < len; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
	    0);
	cr_assert_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	fds[0] = make_memfd();
	fds[1] = make_memfd();

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Blocking reader: frame_read returns only whole frames. */
		struct frame_reader r;
		int ok = 1;

		close(sv[1]);
		frame_reader_init(&r, len);
		ok &= frame_read(&r, sv[0]) == 1;
		ok &= ok && r.body_len == len && memcmp(r.body, body, len) == 0;
		ok &= ok && r.n_fds == 2 && same_file(r.fds[0], fds[0]) &&
		      same_file(r.fds[1], fds[1]);
		frame_reader_reset(&r);
		ok &= ok && frame_read(&r, sv[0]) == 1;
		ok &= ok && r.body_len == 4 && r.n_fds == 0;
		frame_reader_reset(&r);
		/* _exit skips cleanup; free so leak checkers stay quiet. */
		free(TAKE_PTR(body));
		_exit(ok ? 0 : 1);
	}

	close(sv[0]);
	cr_assert_eq(frame_send(sv[1], body, len, fds, 2, NULL), 0);
	cr_assert_eq(frame_send(sv[1], "tail", 4, NULL, 0, NULL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "reader saw a bad frame (status %d)", status);
	close(fds[0]);
	close(fds[1]);
	close(sv[1]);
}

/* ---- the sender's contract: partial frames, EAGAIN, fds ---- */

/* A non-blocking sender whose socket buffer is as small as it gets. */
static void make_small_pair(int sv[2])
{
	int sndbuf = 4096;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
	    0);
	cr_assert_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
}

static uint8_t *pattern(uint32_t len)
{
	uint8_t *body = malloc(len);

	cr_assert_not_null(body);
	for (uint32_t i = 0; i < len; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	return body;
}

/*
 * In a child: read len bytes raw, the first one alone, and say whether
 * exactly the fds like[0 .. n_like) came with that first byte and none
 * with any later one. Returns the child's exit status: 0 if so.
 */
static int read_raw_checking_fds(int sock, size_t len, const int *like,
				 size_t n_like, const uint8_t *head)
{
	uint8_t buf[65536];
	int fds[FRAME_MAX_FDS];
	size_t got = 0, n_fds;
	ssize_t n;

	while (got < len) {
		size_t want = got == 0 ? 1 : len - got;

		if (want > sizeof(buf))
			want = sizeof(buf);
		n = fdpass_recv(sock, buf, want, FRAME_MAX_FDS, fds, &n_fds);
		if (n <= 0)
			return 2;
		if (got == 0) {
			if (n_fds != n_like || buf[0] != head[0])
				return 3;
			for (size_t i = 0; i < n_fds; i++)
				if (!same_file(fds[i], like[i]))
					return 4;
		} else if (n_fds != 0) {
			return 5; /* fds with a later byte */
		}
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		got += (size_t)n;
	}
	return 0;
}

Test(frame, send_partial_writes_carry_fds_on_the_first_byte_only)
{
	const uint32_t len = 1u << 20;
	_cleanup_free_ uint8_t *body = pattern(len);
	uint8_t hdr[FRAME_HEADER_SIZE];
	int sv[2], fds[3], status;
	bool partial = true;
	pid_t pid;

	make_small_pair(sv);
	for (int i = 0; i < 3; i++)
		fds[i] = make_memfd();
	frame_header(hdr, len);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int ret;

		close(sv[1]);
		ret = read_raw_checking_fds(sv[0], FRAME_HEADER_SIZE + len, fds,
					    3, hdr);
		free(TAKE_PTR(body));
		_exit(ret);
	}
	close(sv[0]);
	/* 1 MiB through a 4 KiB buffer: hundreds of partial sendmsgs. */
	cr_assert_eq(frame_send(sv[1], body, len, fds, 3, &partial), 0);
	cr_assert(partial, "partial written on success");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "reader saw fds off the first byte (status %d)", status);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(sv[1]);
}

/* Is pid blocked in poll() right now (/proc/PID/syscall)? */
static bool blocked_in_poll(pid_t pid)
{
	char path[64], buf[128];
	long nr;
	FILE *f;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%ld", &nr) == 1)
		yes = nr == SYS_poll || nr == SYS_ppoll;
	fclose(f);
	return yes;
}

/*
 * EAGAIN on a full non-blocking socket is waited out, not returned: the
 * reader drains the socket only once the sender is seen waiting in poll(),
 * so the sender met EAGAIN for certain, without any timing.
 */
Test(frame, send_waits_out_eagain, .timeout = 30)
{
	uint8_t fill[512] = {0}, got[sizeof(fill)];
	int sv[2], fd = make_memfd(), status;
	size_t filled = 0;
	pid_t parent = getpid(), pid;

	make_small_pair(sv);
	for (;;) {
		ssize_t n = send(sv[1], fill, sizeof(fill), MSG_DONTWAIT);

		if (n < 0) {
			cr_assert_eq(errno, EAGAIN);
			break;
		}
		filled += (size_t)n;
	}
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct frame_reader r;
		int ok = 1;

		close(sv[1]);
		/* Until the sender waits; or it is gone, having failed. */
		while (!blocked_in_poll(parent))
			if (getppid() != parent)
				_exit(3);
			else
				sched_yield();
		for (size_t left = filled; left > 0;) {
			ssize_t n =
			    read(sv[0], got,
				 left < sizeof(got) ? left : sizeof(got));

			if (n <= 0)
				_exit(2);
			left -= (size_t)n;
		}
		frame_reader_init(&r, 64);
		ok &= frame_read(&r, sv[0]) == 1;
		ok &= ok && r.body_len == 5 && memcmp(r.body, "after", 5) == 0;
		ok &= ok && r.n_fds == 1 && same_file(r.fds[0], fd);
		frame_reader_reset(&r);
		_exit(ok ? 0 : 1);
	}
	close(sv[0]);
	cr_assert_eq(frame_send(sv[1], "after", 5, &fd, 1, NULL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "reader saw a bad frame (status %d)", status);
	close(fd);
	close(sv[1]);
}

/* The peer reads part of a frame and goes: the frame was cut short. */
Test(frame, send_to_a_peer_that_vanishes_mid_frame_is_partial)
{
	const uint32_t len = 1u << 20;
	_cleanup_free_ uint8_t *body = pattern(len);
	bool partial = false;
	int sv[2], status, r;
	pid_t pid;

	make_small_pair(sv);
	signal(SIGPIPE, SIG_DFL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		uint8_t buf[100];
		size_t got = 0;

		close(sv[1]);
		while (got < sizeof(buf)) {
			ssize_t n = read(sv[0], buf, sizeof(buf) - got);

			if (n <= 0)
				_exit(2);
			got += (size_t)n;
		}
		free(TAKE_PTR(body));
		_exit(0); /* closes its end with the rest unread */
	}
	close(sv[0]);
	r = frame_send(sv[1], body, len, NULL, 0, &partial);
	cr_assert(r == -EPIPE || r == -ECONNRESET, "got %d", r);
	cr_assert(partial, "the peer read bytes of this frame");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[1]);
}

Test(frame, send_to_a_peer_gone_before_is_not_partial)
{
	bool partial = true;
	int sv[2];

	make_pair(sv);
	signal(SIGPIPE, SIG_DFL);
	close(sv[0]);
	cr_assert_eq(frame_send(sv[1], "x", 1, NULL, 0, &partial), -EPIPE);
	cr_assert_not(partial, "nothing of the frame went out");
	close(sv[1]);
}

/* A bad fd fails the first sendmsg: nothing went out, the stream is
 * intact and the next frame arrives whole. */
Test(frame, send_with_a_bad_fd_leaves_the_stream_intact)
{
	struct frame_reader r;
	bool partial = true;
	int sv[2], fds[2];

	make_pair(sv);
	fds[0] = make_memfd();
	fds[1] = make_memfd();
	close(fds[1]);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], "bad", 3, fds, 2, &partial), -EBADF);
	cr_assert_not(partial);
	cr_assert_eq(frame_read(&r, sv[0]), 0, "bytes of a failed send");

	cr_assert_eq(frame_send(sv[1], "good", 4, fds, 1, &partial), 0);
	cr_assert_eq(frame_read(&r, sv[0]), 1);
	cr_assert_eq(r.body_len, 4);
	cr_assert_eq(memcmp(r.body, "good", 4), 0);
	cr_assert_eq(r.n_fds, 1);
	frame_reader_reset(&r);
	close(fds[0]);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, send_refusals_send_nothing)
{
	struct frame_reader r;
	bool partial = true;
	int sv[2];

	make_pair(sv);
	frame_reader_init(&r, 64);
	cr_assert_eq(frame_send(sv[1], NULL, 3, NULL, 0, &partial), -EINVAL);
	cr_assert_not(partial);
	partial = true;
	cr_assert_eq(frame_send(sv[1], "x", 1, NULL, 2, &partial), -EINVAL);
	cr_assert_not(partial);
	cr_assert_eq(frame_read(&r, sv[0]), 0);
	close(sv[0]);
	close(sv[1]);
}
