/*
 * What boxctl and boxd say when something is in the way, word for word:
 * no daemon behind the socket (how to start one), a socket the caller may
 * not open (which group may), a --bind with one path, more CPUs than the
 * host has, boxd's default configuration path; and the progress line
 * boxctl prints on a terminal, and only there, while it waits for a
 * daemon that does not answer yet.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box.pb-c.h"
#include "frame.h"
#include "harness.h"

#define NOBODY 65534

TestSuite(messages, .timeout = 120);

static const char *bin(const char *var)
{
	const char *b = getenv(var);

	if (!b)
		cr_skip_test("%s is not set (run through meson test)", var);
	return b;
}

/*
 * boxctl where any uid may run it: a copy in d's directory (made
 * world-readable and searchable here). The build tree may sit in a
 * directory only root can enter (a checkout under mktemp -d); boxctl
 * loads nothing from the build tree, so the copy runs alone.
 */
static const char *boxctl_for_anyone(struct daemon *d)
{
	static char path[192];
	const char *b = bin("BOXCTL_BIN");
	char buf[65536];
	int in, out;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/boxctl", d->dir);
	cr_assert(chmod(d->dir, 0755) == 0);
	in = open(b, O_RDONLY | O_CLOEXEC);
	cr_assert(in >= 0, "%s: %s", b, strerror(errno));
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	cr_assert(out >= 0, "%s: %s", path, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	cr_assert_eq(n, 0);
	close(in);
	cr_assert_eq(close(out), 0);
	return path;
}

/* Run argv (as uid unless it is 0) with stdout and stderr in one pipe;
 * returns what it printed (malloc'd) and its exit status. */
static char *output_of(const char *const *argv, uid_t uid, int *ret_status)
{
	size_t cap = 8192, len = 0;
	char *out = malloc(cap);
	int p[2], status;
	pid_t pid;
	ssize_t n;

	cr_assert(out && pipe2(p, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(99);
		if (uid && (setgroups(0, NULL) < 0 || setgid(uid) < 0 ||
			    setuid(uid) < 0))
			_exit(98);
		execv(argv[0], (char **)argv);
		_exit(97);
	}
	close(p[1]);
	while ((n = read(p[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(p[0]);
	cr_assert(waitpid(pid, &status, 0) == pid);
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return out;
}

Test(messages, no_daemon_says_how_to_start_one)
{
	char dir[] = "/tmp/boxd-msg-XXXXXX", sock[64], want[1024];
	const char *argv[] = {bin("BOXCTL_BIN"), "--socket", sock,   "run",
			      "--no-tty",        "--",       "true", NULL};
	int status;
	char *out;

	cr_assert(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/boxd.sock", dir);
	out = output_of(argv, 0, &status);
	snprintf(want, sizeof(want),
		 "boxctl: cannot connect to boxd at %s: No such file or "
		 "directory\n"
		 "boxctl: no daemon is listening there: start one with "
		 "'systemctl start boxd.socket', or as root with 'boxd "
		 "--socket %s'\n",
		 sock, sock);
	cr_expect_str_eq(out, want);
	cr_expect_eq(status, 125);
	free(out);
	rmdir(dir);
}

Test(messages, a_socket_nobody_listens_on_says_the_same)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/boxd-msg-XXXXXX", want[1024];
	const char *argv[] = {bin("BOXCTL_BIN"), "--socket", sa.sun_path, "ps",
			      NULL};
	int fd, status;
	char *out;

	cr_assert(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/boxd.sock", dir);
	/* Bound, never listening: what a crashed daemon leaves behind. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	out = output_of(argv, 0, &status);
	snprintf(want, sizeof(want),
		 "boxctl: cannot connect to boxd at %s: Connection refused\n"
		 "boxctl: no daemon is listening there: start one with "
		 "'systemctl start boxd.socket', or as root with 'boxd "
		 "--socket %s'\n",
		 sa.sun_path, sa.sun_path);
	cr_expect_str_eq(out, want);
	free(out);
	unlink(sa.sun_path);
	rmdir(dir);
}

Test(messages, permission_denied_names_the_sockets_group)
{
	struct daemon d = {0};
	const char *argv[] = {NULL,       "--socket", d.sock, "run",
			      "--no-tty", "--",       "true", NULL};
	struct group *g;
	char want[1024];
	int status;
	char *out;

	require_root();
	daemon_start(&d, NULL, NULL);
	g = getgrgid(0);
	cr_assert(g, "no name for group 0");
	/* A socket for root and its group only, in a directory anyone may
	 * look into, as an operator would set it up. */
	cr_assert(chmod(d.dir, 0755) == 0);
	cr_assert(chown(d.sock, 0, 0) == 0 && chmod(d.sock, 0660) == 0);
	argv[0] = boxctl_for_anyone(&d);
	out = output_of(argv, NOBODY, &status);
	snprintf(want, sizeof(want),
		 "boxctl: cannot connect to boxd at %s: Permission denied\n"
		 "boxctl: %s belongs to group '%s': members of that group may "
		 "connect (ask an administrator to add you, then log in "
		 "again)\n",
		 d.sock, d.sock, g->gr_name);
	cr_expect_str_eq(out, want);
	cr_expect_eq(status, 125);
	free(out);
	daemon_stop(&d);
}

Test(messages, bind_with_one_path)
{
	const char *argv[] = {
	    bin("BOXCTL_BIN"), "run", "--bind", "/tmp", "--", "true", NULL};
	const char *last[] = {bin("BOXCTL_BIN"), "run", "--ro-bind", "/tmp",
			      NULL};
	int status;
	char *out;

	out = output_of(argv, 0, &status);
	cr_expect_str_eq(out, "boxctl: --bind takes SRC DEST\n");
	cr_expect_eq(status, 125);
	free(out);
	out = output_of(last, 0, &status);
	cr_expect_str_eq(out, "boxctl: --ro-bind takes SRC DEST\n");
	free(out);
}

/* A mount onto the default profile's own /proc or /dev: refused by the
 * daemon, naming the way out; the bare profile takes it. */
Test(messages, a_mount_over_the_profiles_dev_names_the_bare_profile)
{
	struct daemon d = {0};
	const char *boxctl = bin("BOXCTL_BIN");
	int status;
	char *out;

	require_root();
	daemon_start(&d, NULL, NULL);
	{
		const char *argv[] = {boxctl, "--socket",  d.sock,
				      "run",  "--tmpfs",   "/dev/shm",
				      "--",   "/bin/true", NULL};
		const char *bare[] = {boxctl,      "--socket",  d.sock,
				      "run",       "--profile", "bare",
				      "--tmpfs",   "/dev/shm",  "--",
				      "/bin/true", NULL};

		out = output_of(argv, 0, &status);
		cr_expect_str_eq(out, "boxctl: tmpfs /dev/shm: the default "
				      "profile mounts /proc and /dev itself; "
				      "use --profile bare to mount your "
				      "own\n");
		cr_expect_eq(status, 125);
		free(out);
		/* Accepted: it fails later, for want of a /bin to run. */
		out = output_of(bare, 0, &status);
		cr_expect(!strstr(out, "profile mounts"), "%s", out);
		free(out);
	}
	daemon_stop(&d);
}

Test(messages, more_cpus_than_the_host_has)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	char cpus[32], want[256];
	const char *argv[] = {
	    bin("BOXCTL_BIN"), "run", "--cpus", cpus, "--", "true", NULL};
	int status;
	char *out;

	cr_assert(n > 0);
	snprintf(cpus, sizeof(cpus), "%ld.5", n);
	out = output_of(argv, 0, &status);
	snprintf(want, sizeof(want),
		 "boxctl: --cpus: %s is more than the %ld CPU%s this host "
		 "has; a run cannot use more than all of them\n",
		 cpus, n, n == 1 ? "" : "s");
	cr_expect_str_eq(out, want);
	cr_expect_eq(status, 125);
	free(out);
}

Test(messages, boxd_help_names_an_absolute_config_path)
{
	const char *argv[] = {bin("BOXD_BIN"), "--help", NULL};
	const char *line;
	int status;
	char *out;

	out = output_of(argv, 0, &status);
	cr_expect_eq(status, 0);
	line = strstr(out, "--config PATH");
	cr_assert(line, "%s", out);
	cr_expect(strncmp(strchr(line, '(') ? strchr(line, '(') : "",
			  "(default /", 10) == 0,
		  "%.80s", line);
	free(out);
}

/* ---- progress ---- */

/* A socket that accepts connections and never answers: a daemon that is
 * still starting behind its socket, as systemd's activation makes it. */
static int silent_daemon(char *path, size_t len, char *dir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	cr_assert(mkdtemp(dir));
	snprintf(path, len, "%s/boxd.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	cr_assert(listen(fd, 4) == 0);
	return fd;
}

/* boxctl with stderr on fd err (and stdout too), on a silent daemon. */
static pid_t boxctl_on(const char *sock, int err)
{
	const char *b = bin("BOXCTL_BIN");
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		if (dup2(err, 1) < 0 || dup2(err, 2) < 0)
			_exit(99);
		execl(b, b, "--socket", sock, "run", "--no-tty", "--", "true",
		      (char *)NULL);
		_exit(98);
	}
	return pid;
}

Test(messages, waiting_on_a_silent_daemon_is_said_on_a_terminal)
{
	char dir[] = "/tmp/boxd-msg-XXXXXX", sock[64], want[256],
	     buf[4096] = "";
	size_t len = 0;
	int lfd, master, slave, conn;
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		cr_skip_test("no pseudo-terminal on this host (posix_openpt: "
			     "%s)",
			     strerror(errno));
	cr_assert(grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(slave >= 0);
	lfd = silent_daemon(sock, sizeof(sock), dir);
	pid = boxctl_on(sock, slave);
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(conn >= 0);
	snprintf(want, sizeof(want),
		 "boxctl: waiting for boxd at %s to answer (it may still be "
		 "starting)\r\n",
		 sock);
	/* Said once boxctl has waited a second; the test waits for it. */
	while (!strstr(buf, want)) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		ssize_t n;

		buf[len] = 0;
		if (strstr(buf, want))
			break;
		cr_assert(poll(&p, 1, TEST_PATIENCE_MS) > 0, "said: '%s'", buf);
		n = read(master, buf + len, sizeof(buf) - 1 - len);
		cr_assert(n > 0);
		len += (size_t)n;
		buf[len] = 0;
	}
	close(conn);
	close(lfd);
	waitpid(pid, NULL, 0);
	close(slave);
	close(master);
	unlink(sock);
	rmdir(dir);
}

Test(messages, waiting_is_not_said_when_stderr_is_not_a_terminal)
{
	char dir[] = "/tmp/boxd-msg-XXXXXX", sock[64], out[4096];
	int lfd, conn, p[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	lfd = silent_daemon(sock, sizeof(sock), dir);
	pid = boxctl_on(sock, p[1]);
	close(p[1]);
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(conn >= 0);
	/* Well past the second after which a terminal is told (a lower
	 * bound: a slower machine only waits longer), then hang up. */
	sleep(2);
	close(conn);
	close(lfd);
	while ((n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	waitpid(pid, NULL, 0);
	cr_expect(!strstr(out, "waiting"), "said on a pipe: '%s'", out);
	cr_expect(strstr(out, "boxd closed the connection"), "%s", out);
	close(p[0]);
	unlink(sock);
	rmdir(dir);
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Read the terminal until needle shows; what was read, into buf. */
static void read_until(int master, char *buf, size_t cap, const char *needle)
{
	size_t len = strlen(buf);

	while (!strstr(buf, needle)) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		ssize_t n;

		cr_assert(poll(&p, 1, TEST_PATIENCE_MS) > 0, "said: '%s'", buf);
		n = read(master, buf + len, cap - 1 - len);
		cr_assert(n > 0, "said: '%s'", buf);
		len += (size_t)n;
		buf[len] = 0;
	}
}

Test(messages, a_busy_daemon_is_said_while_boxctl_retries)
{
	const char *argv[] = {"/bin/sleep", "60", NULL};
	struct daemon d = {0};
	char buf[4096] = "";
	box_client *c;
	box_spec *s;
	box_run *hold;
	int master, slave, status;
	const char *b;
	pid_t pid;

	require_root();
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		cr_skip_test("no pseudo-terminal on this host (posix_openpt: "
			     "%s)",
			     strerror(errno));
	cr_assert(grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(slave >= 0);
	/* Callers other than root may have one run at a time. */
	daemon_start(&d, NULL, "[default]\nmax-runs = 1\n");
	cr_assert(chmod(d.dir, 0755) == 0);
	c = connect_as(&d, NOBODY, NOBODY);
	s = spec_argv(argv);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &hold), 0);
	while (box_run_state(hold) < BOX_RUN_STARTED)
		cr_assert_geq(box_run_dispatch(hold), 0);

	b = boxctl_for_anyone(&d);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (dup2(slave, 1) < 0 || dup2(slave, 2) < 0 ||
		    setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
		    setuid(NOBODY) < 0)
			_exit(99);
		execl(b, b, "--socket", d.sock, "run", "--no-tty", "--", "true",
		      (char *)NULL);
		_exit(98);
	}
	read_until(master, buf, sizeof(buf), "; trying again\r\n");
	cr_expect_str_eq(buf, "boxctl: boxd is busy (tenant 'default' already "
			      "has 1 runs (its ceiling)); trying again\r\n");
	/* The held run ends, and the retried one goes through. */
	cr_assert_eq(box_run_kill(hold, SIGKILL), 0);
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", buf);
	/* Said once, however many times the run was sent again. */
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		size_t len = strlen(buf);
		ssize_t n;

		if (poll(&p, 1, 0) <= 0)
			break;
		n = read(master, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		buf[len + (size_t)n] = 0;
	}
	cr_expect_eq(count_of(buf, "boxd is busy"), 1, "%s", buf);
	box_run_wait(hold);
	box_run_free(hold);
	box_spec_free(s);
	box_client_free(c);
	close(slave);
	close(master);
	daemon_stop(&d);
}

/* ---- a daemon from before interactive runs ---- */

/* Answer one connection's Hello as a daemon without the "tty" feature
 * would, then wait for the client to hang up. In a child process. */
static _Noreturn void old_daemon(int lfd)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply hr = BOXD__V1__HELLO_REPLY__INIT;
	struct frame_reader r;
	Boxd__V1__Request *req;
	uint8_t body[256];
	bool partial;
	size_t len;
	char c;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), ret;

	frame_reader_init(&r, FRAME_MAX_DEFAULT);
	while ((ret = frame_read(&r, fd)) == 0)
		;
	if (ret != 1)
		_exit(1);
	req = boxd__v1__request__unpack(NULL, r.body_len, r.body);
	if (!req)
		_exit(2);
	hr.version = 2;
	hr.daemon_version = (char *)"0.0-before-tty";
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &hr;
	ev.has_request_id = req->has_request_id;
	ev.request_id = req->request_id;
	len = boxd__v1__event__get_packed_size(&ev);
	boxd__v1__event__pack(&ev, body);
	if (frame_send(fd, body, (uint32_t)len, NULL, 0, &partial) < 0)
		_exit(3);
	while (read(fd, &c, 1) > 0)
		;
	_exit(0);
}

Test(messages, tty_asked_of_a_daemon_without_it)
{
	char dir[] = "/tmp/boxd-msg-XXXXXX", sock[64];
	const char *argv[] = {bin("BOXCTL_BIN"), "--socket", sock,   "run",
			      "--tty",           "--",       "true", NULL};
	int lfd, status;
	pid_t pid;
	char *out;

	lfd = silent_daemon(sock, sizeof(sock), dir);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		old_daemon(lfd);
	out = output_of(argv, 0, &status);
	cr_expect_str_eq(out, "boxctl: --tty: this boxd cannot make terminals "
			      "for runs (it does not list the feature "
			      "\"tty\")\n");
	cr_expect_eq(status, 125);
	free(out);
	close(lfd);
	waitpid(pid, &status, 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the fake daemon failed: %d", status);
	unlink(sock);
	rmdir(dir);
}
