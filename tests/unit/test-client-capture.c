/*
 * libboxclient's conveniences over a run (capture.c): capture of large
 * outputs without deadlock, stdin closed early without SIGPIPE, and the
 * popen-style process helpers, all leaving no fd behind.
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
#include <unistd.h>

#include "fakedaemon.h"

#define BIG_OUT (2 * MiB + 123)
#define BIG_IN (1536 * 1024)

static char pattern(size_t i, int salt)
{
	return (char)('a' + (i * 7 + (size_t)salt) % 26);
}

static bool write_pattern(int fd, size_t n, int salt)
{
	char buf[8192];
	size_t off = 0;

	while (off < n) {
		size_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i, salt);
		w = write(fd, buf, k);
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

static void script_capture(struct fake *f)
{
	struct req r;
	char buf[65536];
	size_t got = 0;
	bool ok = true;

	HANDSHAKE();
	for (int round = 0; round < 2; round++) {
		got = 0;
		ok = true;
		EXPECT(&r, RUN, 3);
		fake_send_accepted(f, r.id, 30 + (uint64_t)round);
		fake_send_started(f, r.id, 30 + (uint64_t)round, 1);
		/*
		 * Fill stderr before reading any stdin: a client that writes
		 * all of stdin first deadlocks here.
		 */
		CHECK(write_pattern(r.fds[2], BIG_OUT, 2));
		for (;;) {
			ssize_t n = read(r.fds[0], buf, sizeof(buf));

			CHECK(n >= 0);
			if (n == 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				ok &= buf[i] == pattern(got + (size_t)i, 0);
			got += (size_t)n;
		}
		CHECK(write_pattern(r.fds[1], BIG_OUT, 1));
		fake_req_clear(&r); /* closes our copies: EOF for the client */
		fake_send_result(f, r.id, 30 + (uint64_t)round,
				 BOXD__V1__TERMINATION__EXITED,
				 ok && got == BIG_IN ? 0 : 1, 0);
	}
	/* No stdin given: the command reads /dev/null. */
	EXPECT(&r, RUN, 3);
	CHECK(is_devnull(r.fds[0]));
	CHECK(write(r.fds[1], "out", 3) == 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 40);
	fake_send_result(f, r.id, 40, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

static void check_pattern(const char *data, size_t len, int salt)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] != pattern(i, salt))
			cr_assert_fail("byte %zu differs", i);
}

Test(client, capture_large_outputs_without_deadlock, .timeout = 60)
{
	int fds_before = count_fds();
	struct fake f;
	box_client *c = fake_connect(&f, script_capture, NULL);
	box_spec *s = simple_spec();
	char *in = malloc(BIG_IN);
	const char *out, *err;
	size_t out_len, err_len;
	box_run *run;

	for (size_t i = 0; i < BIG_IN; i++)
		in[i] = pattern(i, 0);

	/* Room for everything. */
	cr_assert_eq(box_run_capture(c, s, in, BIG_IN, 4 * MiB, &run), 0);
	cr_assert_not_null(box_run_result(run));
	cr_assert_eq(box_run_exit_status(run), 0, "stdin arrived damaged");
	out = box_run_stdout(run, &out_len);
	err = box_run_stderr(run, &err_len);
	cr_assert_eq(out_len, BIG_OUT);
	cr_assert_eq(err_len, BIG_OUT);
	check_pattern(out, out_len, 1);
	check_pattern(err, err_len, 2);
	cr_assert_eq(out[out_len], '\0');
	cr_assert_not(box_run_stdout_truncated(run));
	cr_assert_not(box_run_stderr_truncated(run));
	box_run_free(run);

	/* A small cap: kept up to it, the rest drained, no deadlock. */
	cr_assert_eq(box_run_capture(c, s, in, BIG_IN, MiB, &run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	out = box_run_stdout(run, &out_len);
	err = box_run_stderr(run, &err_len);
	cr_assert_eq(out_len, MiB);
	cr_assert_eq(err_len, MiB);
	check_pattern(out, out_len, 1);
	check_pattern(err, err_len, 2);
	cr_assert(box_run_stdout_truncated(run));
	cr_assert(box_run_stderr_truncated(run));
	box_run_free(run);

	cr_assert_eq(box_run_capture(c, s, NULL, 0, 16, &run), 0);
	cr_assert_str_eq(box_run_stdout(run, NULL), "out");
	cr_assert_str_eq(box_run_stderr(run, &err_len), "");
	cr_assert_eq(err_len, 0);
	box_run_free(run);

	cr_assert_eq(box_run_capture(c, s, NULL, 5, 16, &run), -EINVAL);
	free(in);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
	/* Every pipe end and /dev/null the library opened is closed. */
	cr_assert_eq(count_fds(), fds_before);
}

static void script_stdin_closed(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	/* The command never reads stdin and exits. */
	close(r.fds[0]);
	r.fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 50);
	fake_send_result(f, r.id, 50, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

/* Writing stdin to a command that is gone must not raise SIGPIPE. */
Test(client, capture_survives_stdin_closed_early, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_stdin_closed, NULL);
	box_spec *s = simple_spec();
	char *in = calloc(1, 4 * MiB);
	box_run *run;

	signal(SIGPIPE, SIG_DFL);
	cr_assert_eq(box_run_capture(c, s, in, 4 * MiB, 1024, &run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	box_run_free(run);
	free(in);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_process(struct fake *f)
{
	struct req r;
	char buf[256];
	size_t got = 0;
	struct stat st;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	for (int i = 0; i < 3; i++)
		CHECK(fstat(r.fds[i], &st) == 0 && S_ISFIFO(st.st_mode));
	fake_send_accepted(f, r.id, 60);
	fake_send_started(f, r.id, 60, 6060);
	for (;;) {
		ssize_t n = read(r.fds[0], buf + got, sizeof(buf) - 1 - got);

		CHECK(n >= 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	for (size_t i = 0; i < got; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	CHECK(write(r.fds[1], buf, got) == (ssize_t)got);
	CHECK(write(r.fds[2], "err", 3) == 3);
	fake_req_clear(&r);
	fake_send_result(f, r.id, 60, BOXD__V1__TERMINATION__EXITED, 4, 0);

	/* open_process_in: only stdout is a pipe. */
	EXPECT(&r, RUN, 3);
	CHECK(fstat(r.fds[1], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(write(r.fds[1], "x", 1) == 1);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 61);
	fake_send_result(f, r.id, 61, BOXD__V1__TERMINATION__SIGNALED, -1,
			 SIGPIPE);
}

static size_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		cr_assert_geq(n, 0);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

Test(client, process_helpers, .timeout = 120)
{
	int fds_before = count_fds();
	struct fake f;
	box_client *c = fake_connect(&f, script_process, NULL);
	box_spec *s = simple_spec();
	box_process *p;
	box_run *run;
	char buf[256];

	cr_assert_eq(box_open_process_full(c, s, &p), 0);
	cr_assert_geq(box_process_stdin(p), 0);
	cr_assert(fcntl(box_process_stdin(p), F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(write(box_process_stdin(p), "hello", 5), 5);
	box_process_close_stdin(p);
	cr_assert_eq(box_process_stdin(p), -1);
	read_all(box_process_stdout(p), buf, sizeof(buf));
	cr_assert_str_eq(buf, "HELLO");
	read_all(box_process_stderr(p), buf, sizeof(buf));
	cr_assert_str_eq(buf, "err");
	cr_assert_eq(box_process_close(p, &run), 4);
	cr_assert_eq(box_run_id(run), 60);
	cr_assert_eq(box_run_pid(run), 6060);
	cr_assert_eq(box_result_exit_code(box_run_result(run)), 4);
	box_run_free(run);

	cr_assert_eq(box_open_process_in(c, s, &p), 0);
	cr_assert_eq(box_process_stdin(p), -1);
	cr_assert_eq(box_process_stderr(p), -1);
	read_all(box_process_stdout(p), buf, sizeof(buf));
	cr_assert_str_eq(buf, "x");
	cr_assert_eq(box_process_close(p, NULL), 128 + SIGPIPE);
	cr_assert_eq(box_process_open(c, s, 8, &p), -EINVAL);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
	cr_assert_eq(count_fds(), fds_before);
}
