/*
 * Tests for common/fdpass.c over real socket pairs: fds arrive in order,
 * close-on-exec, and with the byte they were sent with; a peer that sends
 * more fds than the receiver takes, or control data that is not fds, gets
 * an error and leaves no fd open in the receiver. These tests must never
 * depend on timing.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fdpass.h"
#include "fds.h"
#include "util.h"

static int count_fds(void)
{
	int n = fds_open();

	cr_assert_geq(n, 0, "/proc/self/fd unreadable");
	return n;
}

static int make_memfd(void)
{
	int fd = memfd_create("test-fdpass", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	return fd;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static ssize_t send_buf(int sock, const void *buf, size_t len, const int *fds,
			size_t n_fds)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	return fdpass_send(sock, &iov, 1, fds, n_fds);
}

static void pair(int type, int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
}

Test(fdpass, bytes_and_fds_arrive_in_order_and_cloexec)
{
	int sv[2], fds[3], got[4];
	size_t n = 99;
	char buf[8] = "";

	pair(SOCK_STREAM, sv);
	for (int i = 0; i < 3; i++)
		fds[i] = make_memfd();
	cr_assert_eq(send_buf(sv[1], "abc", 3, fds, 3), 3);
	cr_assert_eq(fdpass_recv(sv[0], buf, sizeof(buf), 4, got, &n), 3);
	cr_assert_eq(memcmp(buf, "abc", 3), 0);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_neq(got[i], fds[i]);
		cr_assert(same_file(got[i], fds[i]), "fd %d out of order", i);
		cr_assert(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		close(got[i]);
		close(fds[i]);
	}
	cr_assert_eq(got[3], -1, "unused slots are -1");
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, iovecs_are_sent_as_one_message)
{
	struct iovec iov[2] = {{(void *)"head", 4}, {(void *)"body", 4}};
	int sv[2], fd = make_memfd(), got;
	size_t n = 0;
	char buf[16] = "";

	pair(SOCK_SEQPACKET, sv);
	cr_assert_eq(fdpass_send(sv[1], iov, 2, &fd, 1), 8);
	cr_assert_eq(fdpass_recv(sv[0], buf, sizeof(buf), 1, &got, &n), 8);
	cr_assert_eq(memcmp(buf, "headbody", 8), 0);
	cr_assert_eq(n, 1);
	cr_assert(same_file(got, fd));
	close(got);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, no_fds_is_fine_both_ways)
{
	int sv[2], got[2] = {7, 7};
	size_t n = 99;
	char c = 0;

	pair(SOCK_STREAM, sv);
	cr_assert_eq(send_buf(sv[1], "x", 1, NULL, 0), 1);
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 2, got, &n), 1);
	cr_assert_eq(c, 'x');
	cr_assert_eq(n, 0);
	cr_assert_eq(got[0], -1);
	cr_assert_eq(got[1], -1);
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, more_fds_than_taken_is_etoomanyrefs_and_leaks_nothing)
{
	int sv[2], fds[5], got[4] = {7, 7, 7, 7}, before;
	size_t n = 99;
	char c;

	pair(SOCK_STREAM, sv);
	for (int i = 0; i < 5; i++)
		fds[i] = make_memfd();
	cr_assert_eq(send_buf(sv[1], "x", 1, fds, 5), 1);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	before = count_fds();
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 4, got, &n), -ETOOMANYREFS);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	cr_assert_eq(n, 99, "ret_n_fds written on failure");
	cr_assert_eq(got[0], 7, "ret_fds written on failure");
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, fds_to_a_receiver_taking_none_are_refused)
{
	int sv[2], fd = make_memfd(), before;
	size_t n = 99;
	char c;

	pair(SOCK_STREAM, sv);
	cr_assert_eq(send_buf(sv[1], "x", 1, &fd, 1), 1);
	close(fd);
	before = count_fds();
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 0, NULL, &n), -EPROTO);
	cr_assert_eq(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, credentials_are_refused_and_fds_with_them_closed)
{
	int sv[2], fds[2], got[3], one = 1, before;
	size_t n = 99;
	char c;

	pair(SOCK_STREAM, sv);
	cr_assert_eq(
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	cr_assert_eq(send_buf(sv[1], "x", 1, NULL, 0), 1);
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 3, got, &n), -EPROTO);

	fds[0] = make_memfd();
	fds[1] = make_memfd();
	cr_assert_eq(send_buf(sv[1], "y", 1, fds, 2), 1);
	close(fds[0]);
	close(fds[1]);
	before = count_fds();
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 3, got, &n), -EPROTO);
	cr_assert_eq(count_fds(), before, "received fds leaked");
	cr_assert_eq(n, 99);
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, the_kernels_maximum_goes_through)
{
	int sv[2], base = make_memfd(), before;
	int fds[FDPASS_MAX_FDS], got[FDPASS_MAX_FDS];
	size_t n = 0;
	char c;

	pair(SOCK_STREAM, sv);
	for (int i = 0; i < FDPASS_MAX_FDS; i++)
		cr_assert_geq(fds[i] = fcntl(base, F_DUPFD_CLOEXEC, 0), 0);
	cr_assert_eq(send_buf(sv[1], "x", 1, fds, FDPASS_MAX_FDS), 1);
	for (int i = 0; i < FDPASS_MAX_FDS; i++)
		close(fds[i]);
	before = count_fds();
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, FDPASS_MAX_FDS, got, &n), 1);
	cr_assert_eq(n, FDPASS_MAX_FDS);
	cr_assert_eq(count_fds(), before + FDPASS_MAX_FDS);
	for (int i = 0; i < FDPASS_MAX_FDS; i++) {
		cr_assert(same_file(got[i], base));
		close(got[i]);
	}
	close(base);
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, bad_arguments_send_nothing)
{
	int sv[2], fd = make_memfd(), got;
	int many[FDPASS_MAX_FDS + 1] = {0};
	size_t n = 0;
	char c;

	pair(SOCK_STREAM, sv);
	cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(send_buf(sv[1], "x", 1, many, ELEMENTSOF(many)), -EINVAL);
	cr_assert_eq(send_buf(sv[1], "", 0, &fd, 1), -EINVAL,
		     "fds need a byte to ride on");
	cr_assert_eq(send_buf(sv[1], "x", 1, NULL, 1), -EINVAL);
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, FDPASS_MAX_FDS + 1, &got, &n),
		     -EINVAL);
	/* Nothing of the refused sends reached the peer. */
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 1, &got, &n), -EAGAIN);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

Test(fdpass, a_closed_fd_is_ebadf_and_the_peer_gone_is_epipe)
{
	int sv[2], fd = make_memfd(), closed;

	pair(SOCK_STREAM, sv);
	closed = make_memfd();
	close(closed);
	cr_assert_eq(send_buf(sv[1], "x", 1, &closed, 1), -EBADF);
	close(sv[0]);
	/* Default SIGPIPE disposition: without MSG_NOSIGNAL this test dies. */
	signal(SIGPIPE, SIG_DFL);
	cr_assert_eq(send_buf(sv[1], "x", 1, &fd, 1), -EPIPE);
	close(fd);
	close(sv[1]);
}

Test(fdpass, end_of_file_is_zero)
{
	int sv[2], got;
	size_t n = 99;
	char c;

	pair(SOCK_STREAM, sv);
	close(sv[1]);
	cr_assert_eq(fdpass_recv(sv[0], &c, 1, 1, &got, &n), 0);
	cr_assert_eq(n, 0);
	close(sv[0]);
}

/*
 * The receiver's own table full but for one slot: the kernel installs
 * the first fd and truncates the rest. That is the receiver's shortage
 * (-EMFILE), not a malformed message, and the one that arrived is closed.
 * The test runs in its own process: it lowers its fd limit.
 */
Test(fdpass, a_full_table_is_emfile_even_when_some_fds_fit)
{
	int sv[2], fds[3], got[3];
	struct rlimit rl;
	char c;
	int highest = -1;

	pair(SOCK_STREAM, sv);
	for (int i = 0; i < 3; i++)
		fds[i] = make_memfd();
	cr_assert_eq(send_buf(sv[0], "x", 1, fds, 3), 1);
	/* Fill every slot below the limit but one. */
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && fd > highest)
			highest = fd;
	rl.rlim_cur = rl.rlim_max = (rlim_t)highest + 1 + 8;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (;;) {
		int probe = dup(sv[1]);

		if (probe < 0)
			break;
		if (probe == (int)rl.rlim_cur - 1) {
			close(probe);
			break;
		}
	}
	cr_assert_eq(fdpass_recv(sv[1], &c, 1, 3, got, &(size_t){0}), -EMFILE);
	/* Nothing was left behind: exactly one slot is still free. */
	cr_assert_geq(dup(sv[1]), 0);
	cr_assert_lt(dup(sv[1]), 0);
}
