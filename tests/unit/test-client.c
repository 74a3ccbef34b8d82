/*
 * Tests for libboxclient against a fake daemon: a thread on the other end
 * of a socketpair (or of a private abstract socket) that reads frames the
 * way boxd does, checks what the library sent (Hello first, the frame
 * format, exactly three fds with a run and none otherwise, /dev/null for
 * unset stdio, every spec field) and plays back events: interleaved
 * replies during a run, errors before and after Accepted, results, lost
 * connections. The fake records its failures and the test asserts them
 * after joining it, since criterion asserts must stay in the test thread.
 * Nothing here depends on timing: steps are handed over through a pipe.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "box.pb-c.h"
#include "boxclient.h"
#include "config-build.h"

#define MAX_FDS 8
#define MiB (1024 * 1024)
/* How long to wait for the fake daemon's next bytes before calling it a
 * failure: it is a thread of this process, but a loaded machine may not
 * run it for a while. */
#define PATIENCE_MS 60000

/* ------------------------------------------------------------ fake daemon */

struct fake;
typedef void (*script_fn)(struct fake *f);

struct fake {
	int sock;      /* the daemon's end */
	int listen_fd; /* or a socket to accept it from (sock -1) */
	int step[2];   /* test -> fake: "go on" */
	pthread_t thread;
	script_fn script;
	void *arg;
	char failure[512];
};

struct req {
	Boxd__V1__Request *msg;
	uint8_t hdr[4];
	uint32_t len;
	int fds[MAX_FDS];
	size_t n_fds;
};

static void fake_fail(struct fake *f, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fake_fail(struct fake *f, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->failure[0])
		return;
	n = snprintf(f->failure, sizeof(f->failure),
		     "fake daemon line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(f->failure + n, sizeof(f->failure) - (size_t)n, fmt, ap);
	va_end(ap);
	/* Also now: the test may fail on its side before joining. */
	fprintf(stderr, "%s\n", f->failure);
}

/* In a script: record the first failure and stop the script. */
#define CHECK(cond)                                          \
	do {                                                 \
		if (!(cond)) {                               \
			fake_fail(f, __LINE__, "%s", #cond); \
			return;                              \
		}                                            \
	} while (0)

static void req_clear(struct req *r)
{
	boxd__v1__request__free_unpacked(r->msg, NULL);
	for (size_t i = 0; i < r->n_fds; i++)
		close(r->fds[i]);
	memset(r, 0, sizeof(*r));
}

/* recvmsg that keeps every fd that comes along. */
static ssize_t recv_some(int sock, void *buf, size_t len, struct req *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	if (mh.msg_flags & MSG_CTRUNC)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(c);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			return -1;
		for (size_t i = 0; i < k && r->n_fds < MAX_FDS; i++)
			r->fds[r->n_fds++] = fds[i];
	}
	return n;
}

/* One request frame; 0, or -1 on EOF or garbage. */
static int recv_req(int sock, struct req *r)
{
	uint8_t *body;
	size_t got = 0;

	memset(r, 0, sizeof(*r));
	while (got < 4) {
		ssize_t n = recv_some(sock, r->hdr + got, 4 - got, r);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	/* Little-endian, by hand, independently of frame.c. */
	r->len = (uint32_t)r->hdr[0] | (uint32_t)r->hdr[1] << 8 |
		 (uint32_t)r->hdr[2] << 16 | (uint32_t)r->hdr[3] << 24;
	if (r->len > 8 * MiB)
		return -1;
	body = malloc(r->len ? r->len : 1);
	for (got = 0; got < r->len;) {
		size_t before = r->n_fds;
		ssize_t n = recv_some(sock, body + got, r->len - got, r);

		if (n <= 0 || r->n_fds != before) {
			/* fds must ride with the frame's first byte only */
			free(body);
			return -1;
		}
		got += (size_t)n;
	}
	r->msg = boxd__v1__request__unpack(NULL, r->len, body);
	free(body);
	return r->msg ? 0 : -1;
}

static void send_bytes(int sock, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void send_event(int sock, const Boxd__V1__Event *ev)
{
	size_t len = boxd__v1__event__get_packed_size(ev);
	uint8_t *buf = malloc(len + 4);

	buf[0] = (uint8_t)len;
	buf[1] = (uint8_t)(len >> 8);
	buf[2] = (uint8_t)(len >> 16);
	buf[3] = (uint8_t)(len >> 24);
	boxd__v1__event__pack(ev, buf + 4);
	send_bytes(sock, buf, len + 4);
	free(buf);
}

static const char *host_namespaces[] = {"user", "mnt", "pid", "net"};
static const char *host_limits[] = {"timeout", "memory", "pids"};
static const char *host_nets[] = {"none", "loopback"};
static const char *host_profiles[] = {"default", "bare"};
static const char *host_controllers[] = {"memory", "pids"};
static const char *host_features[] = {"dry_run"};

static void fill_host(Boxd__V1__HostInfo *h)
{
	h->n_namespaces = 4;
	h->namespaces = (char **)host_namespaces;
	h->cgroup_mode = (char *)"v1";
	h->has_cgroup_path = 1;
	h->cgroup_path.data = (uint8_t *)"/sys/fs/cgroup/boxd";
	h->cgroup_path.len = strlen("/sys/fs/cgroup/boxd");
	h->n_controllers = 2;
	h->controllers = (char **)host_controllers;
	h->n_limits = 3;
	h->limits = (char **)host_limits;
	h->has_seccomp = 1;
	h->seccomp = 1;
	h->has_landlock = 1;
	h->landlock = 0;
	h->n_nets = 2;
	h->nets = (char **)host_nets;
	h->n_profiles = 2;
	h->profiles = (char **)host_profiles;
	h->n_features = 1;
	h->features = (char **)host_features;
}

static void send_hello_reply(int sock, uint32_t version)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply h = BOXD__V1__HELLO_REPLY__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;

	fill_host(&host);
	h.version = version;
	h.daemon_version = (char *)"9.8.7";
	h.host = &host;
	h.has_uid = h.has_gid = 1;
	h.uid = 1000;
	h.gid = 100;
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &h;
	send_event(sock, &ev);
}

static void send_accepted(int sock, uint64_t id)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Accepted a = BOXD__V1__ACCEPTED__INIT;

	a.run_id = id;
	ev.msg_case = BOXD__V1__EVENT__MSG_ACCEPTED;
	ev.accepted = &a;
	send_event(sock, &ev);
}

static void send_started(int sock, uint64_t id, int pid)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Started s = BOXD__V1__STARTED__INIT;

	s.run_id = id;
	s.has_pid = 1;
	s.pid = pid;
	ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
	ev.started = &s;
	send_event(sock, &ev);
}

/* A Result: termination, exit code (-1: none), signal (0: none). */
static void send_result(int sock, uint64_t id, Boxd__V1__Termination t,
			int code, int sig)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Result r = BOXD__V1__RESULT__INIT;

	r.run_id = id;
	r.termination = t;
	if (code >= 0) {
		r.has_exit_code = 1;
		r.exit_code = code;
	}
	if (sig > 0) {
		r.has_signal = 1;
		r.signal = sig;
	}
	r.wall_ns = 1000;
	ev.msg_case = BOXD__V1__EVENT__MSG_RESULT;
	ev.result = &r;
	send_event(sock, &ev);
}

static void send_error(int sock, Boxd__V1__ErrorCode code, const char *msg,
		       const char *step, int err, uint64_t run_id)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;

	e.code = code;
	e.message = (char *)msg;
	e.step = (char *)step;
	if (err) {
		e.has_errnum = 1;
		e.errnum = err;
	}
	if (run_id) {
		e.has_run_id = 1;
		e.run_id = run_id;
	}
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	send_event(sock, &ev);
}

/* In a script: the next request must be of this kind. */
#define EXPECT(r, kind, nfds)                                               \
	do {                                                                \
		CHECK(recv_req(f->sock, (r)) == 0);                         \
		CHECK((r)->msg->msg_case == BOXD__V1__REQUEST__MSG_##kind); \
		CHECK((r)->n_fds == (nfds));                                \
	} while (0)

/* The handshake every script starts with. */
#define HANDSHAKE()                                     \
	do {                                            \
		struct req h_;                          \
                                                        \
		EXPECT(&h_, HELLO, 0);                  \
		CHECK(h_.msg->hello->n_versions == 1);  \
		CHECK(h_.msg->hello->versions[0] == 1); \
		req_clear(&h_);                         \
		send_hello_reply(f->sock, 1);           \
	} while (0)

static void wait_step(struct fake *f)
{
	char c;

	while (read(f->step[0], &c, 1) < 0 && errno == EINTR)
		;
}

static void step(struct fake *f)
{
	cr_assert_eq(write(f->step[1], "x", 1), 1);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	/* A listening socket: serve the first connection. */
	if (f->sock < 0) {
		f->sock = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (f->sock < 0) {
			fake_fail(f, __LINE__, "accept: %s", strerror(errno));
			return NULL;
		}
	}
	f->script(f);
	/* Whatever happened, the client sees the daemon go away. */
	shutdown(f->sock, SHUT_RDWR);
	return NULL;
}

/* Serve sock, or (sock -1) the first connection accepted on listen_fd. */
static void fake_start_at(struct fake *f, int sock, int listen_fd,
			  script_fn script, void *arg)
{
	memset(f->failure, 0, sizeof(f->failure));
	f->sock = sock;
	f->listen_fd = listen_fd;
	f->script = script;
	f->arg = arg;
	cr_assert_eq(pipe2(f->step, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_start(struct fake *f, int sock, script_fn script, void *arg)
{
	fake_start_at(f, sock, -1, script, arg);
}

/* A client connected to a fake daemon running script. */
static box_client *fake_connect(struct fake *f, script_fn script, void *arg)
{
	box_client *c;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake_start(f, sv[1], script, arg);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_set_name(c, "test-client"), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), 0, "handshake failed: %s",
		     box_client_last_error(c)
			 ? box_error_message(box_client_last_error(c))
			 : "?");
	return c;
}

static void fake_join(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->sock);
	close(f->step[0]);
	close(f->step[1]);
	cr_assert_eq(f->failure[0], '\0', "%s", f->failure);
}

static box_spec *simple_spec(void)
{
	box_spec *s;

	cr_assert_eq(box_spec_new(&s), 0);
	cr_assert_eq(box_spec_add_arg(s, "/bin/true"), 0);
	return s;
}

static bool is_devnull(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(1, 3);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static json_object *parse_json(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "not JSON: %s", text);
	return o;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

/* -------------------------------------------------------------- handshake */

static void script_hello(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	CHECK(r.msg->hello->n_versions == 1 && r.msg->hello->versions[0] == 1);
	CHECK(r.msg->hello->client &&
	      strcmp(r.msg->hello->client, "test-client") == 0);
	/* The frame header is exactly the body length, little-endian. */
	CHECK(r.len == boxd__v1__request__get_packed_size(r.msg));
	CHECK(r.hdr[0] == (r.len & 0xff) && r.hdr[1] == ((r.len >> 8) & 0xff) &&
	      r.hdr[2] == 0 && r.hdr[3] == 0);
	req_clear(&r);
	send_hello_reply(f->sock, 1);
	/* Nothing else was sent after the Hello. */
	EXPECT(&r, STATUS, 0);
	req_clear(&r);
}

Test(client, handshake_and_host_info, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_hello, NULL);
	const box_host_info *h = box_client_host(c);
	box_status *st = NULL;

	cr_assert_eq(box_client_protocol_version(c), 1);
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
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__DENIED,
		   "uid 1000 may not use this daemon", NULL, 0, 0);
}

Test(client, handshake_denied, .timeout = 30)
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

static void script_version2(struct fake *f)
{
	struct req r;

	EXPECT(&r, HELLO, 0);
	req_clear(&r);
	send_hello_reply(f->sock, 2);
}

Test(client, handshake_wrong_version, .timeout = 30)
{
	struct fake f;
	box_client *c;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fake_start(&f, sv[1], script_version2, NULL);
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_client_connect_fd(c, sv[0]), -EPROTONOSUPPORT);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	box_client_free(c);
	fake_join(&f);
}

static void script_hello_only(struct fake *f)
{
	HANDSHAKE();
}

/* Env and explicit path choose the socket; "@name" is abstract. */
Test(client, socket_path_and_connect, .timeout = 30)
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

/* -------------------------------------------------------------- fds, spec */

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
	req_clear(&r);
	send_accepted(f->sock, 1);
	send_started(f->sock, 1, 77);
	send_result(f->sock, 1, BOXD__V1__TERMINATION__EXITED, 0, 0);
	/* Requests other than run carry no fds. */
	EXPECT(&r, STATUS, 0);
	req_clear(&r);
	{
		Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
		Boxd__V1__Status st2 = BOXD__V1__STATUS__INIT;

		st2.daemon_version = (char *)"9.8.7";
		ev.msg_case = BOXD__V1__EVENT__MSG_STATUS;
		ev.status = &st2;
		send_event(f->sock, &ev);
	}
	EXPECT(&r, LIST, 0);
	req_clear(&r);
	{
		Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
		Boxd__V1__RunList l = BOXD__V1__RUN_LIST__INIT;

		ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
		ev.list = &l;
		send_event(f->sock, &ev);
	}
}

Test(client, run_passes_three_fds_devnull_for_unset, .timeout = 30)
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

static bool bytes_is(const ProtobufCBinaryData *b, const char *s)
{
	return b->len == strlen(s) &&
	       (b->len == 0 || memcmp(b->data, s, b->len) == 0);
}

static const char policy_text[] = "deny ptrace\n";

static void script_spec(struct fake *f)
{
	const char *cwd = f->arg;
	char abs[4096];
	struct req r;
	Boxd__V1__RunRequest *rr;
	Boxd__V1__Mount **m;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	rr = r.msg->run;
	CHECK(rr->n_argv == 3);
	CHECK(bytes_is(&rr->argv[0], "/bin/echo"));
	CHECK(bytes_is(&rr->argv[1], "a b"));
	CHECK(bytes_is(&rr->argv[2], ""));
	CHECK(rr->has_profile &&
	      rr->profile == BOXD__V1__PROFILE__PROFILE_BARE);
	CHECK(rr->n_mounts == 11);
	m = rr->mounts;
	snprintf(abs, sizeof(abs), "%s/rel/dir", cwd);
	CHECK(m[0]->kind == BOXD__V1__MOUNT__KIND__RO_BIND &&
	      bytes_is(&m[0]->src, "/usr") && bytes_is(&m[0]->dst, "/usr") &&
	      m[0]->has_src && !m[0]->has_size && !m[0]->has_mode);
	CHECK(m[1]->kind == BOXD__V1__MOUNT__KIND__BIND &&
	      bytes_is(&m[1]->src, abs) && bytes_is(&m[1]->dst, "/work"));
	CHECK(m[2]->kind == BOXD__V1__MOUNT__KIND__DEV_BIND &&
	      bytes_is(&m[2]->src, "/dev/fuse") &&
	      bytes_is(&m[2]->dst, "/dev/fuse"));
	CHECK(m[3]->kind == BOXD__V1__MOUNT__KIND__TMPFS && !m[3]->has_src &&
	      bytes_is(&m[3]->dst, "/tmp") && m[3]->has_size &&
	      m[3]->size == 64 * MiB && m[3]->has_mode && m[3]->mode == 01777);
	CHECK(m[4]->kind == BOXD__V1__MOUNT__KIND__TMPFS && !m[4]->has_size &&
	      !m[4]->has_mode);
	CHECK(m[5]->kind == BOXD__V1__MOUNT__KIND__PROC &&
	      bytes_is(&m[5]->dst, "/proc"));
	CHECK(m[6]->kind == BOXD__V1__MOUNT__KIND__DEV &&
	      bytes_is(&m[6]->dst, "/dev"));
	CHECK(m[7]->kind == BOXD__V1__MOUNT__KIND__SYMLINK &&
	      bytes_is(&m[7]->src, "usr/lib") && bytes_is(&m[7]->dst, "/lib"));
	CHECK(m[8]->kind == BOXD__V1__MOUNT__KIND__DIR &&
	      bytes_is(&m[8]->dst, "/data") && m[8]->has_mode &&
	      m[8]->mode == 0700);
	CHECK(m[9]->kind == BOXD__V1__MOUNT__KIND__REMOUNT_RO &&
	      bytes_is(&m[9]->dst, "/work"));
	/* "./sub/../." is the working directory, spelled plainly. */
	CHECK(m[10]->kind == BOXD__V1__MOUNT__KIND__RO_BIND &&
	      bytes_is(&m[10]->src, cwd) && bytes_is(&m[10]->dst, "/here"));
	CHECK(rr->n_setenv == 2);
	CHECK(bytes_is(&rr->setenv[0]->name, "LANG") &&
	      bytes_is(&rr->setenv[0]->value, "C.UTF-8"));
	CHECK(bytes_is(&rr->setenv[1]->name, "EMPTY") &&
	      bytes_is(&rr->setenv[1]->value, ""));
	CHECK(rr->n_unsetenv == 1 && bytes_is(&rr->unsetenv[0], "TERM"));
	CHECK(rr->has_cwd && bytes_is(&rr->cwd, "/work"));
	CHECK(rr->has_hostname && bytes_is(&rr->hostname, "sandbox"));
	CHECK(rr->has_uid && rr->uid == 0);
	CHECK(rr->has_gid && rr->gid == 4242);
	CHECK(rr->has_net && rr->net == BOXD__V1__NET__NET_LOOPBACK);
	CHECK(rr->has_new_session && !rr->new_session);
	CHECK(rr->has_die_with_client && !rr->die_with_client);
	CHECK(rr->limits);
	CHECK(rr->limits->has_memory_bytes &&
	      rr->limits->memory_bytes == 512 * MiB);
	CHECK(rr->limits->has_memory_swap_bytes &&
	      rr->limits->memory_swap_bytes == 1024 * MiB);
	CHECK(rr->limits->has_cpu_millis && rr->limits->cpu_millis == 1500);
	CHECK(rr->limits->has_pids && rr->limits->pids == 64);
	CHECK(rr->limits->has_timeout_ns &&
	      rr->limits->timeout_ns == 2500000000ULL);
	CHECK(rr->limits->has_cpu_time_ns &&
	      rr->limits->cpu_time_ns == 1000000000ULL);
	CHECK(rr->seccomp &&
	      rr->seccomp->mode == BOXD__V1__SECCOMP__MODE__CUSTOM &&
	      rr->seccomp->has_policy &&
	      bytes_is(&rr->seccomp->policy, policy_text));
	CHECK(rr->n_rlimits == 3);
	CHECK(rr->rlimits[0]->resource == BOXD__V1__RLIMIT__RESOURCE__NOFILE &&
	      rr->rlimits[0]->soft == 100 && rr->rlimits[0]->hard == 200);
	CHECK(rr->rlimits[1]->resource == BOXD__V1__RLIMIT__RESOURCE__CORE &&
	      rr->rlimits[1]->soft == 0 && rr->rlimits[1]->hard == UINT64_MAX);
	CHECK(rr->rlimits[2]->resource == BOXD__V1__RLIMIT__RESOURCE__AS &&
	      rr->rlimits[2]->soft == 64 * MiB &&
	      rr->rlimits[2]->hard == 128 * MiB);
	/* A run is not a dry run unless asked. */
	CHECK(!rr->has_dry_run && !rr->dry_run);
	CHECK(rr->has_lenient && rr->lenient);
	CHECK(rr->has_tag && bytes_is(&rr->tag, "build #7"));
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__UNSUPPORTED,
		   "swap limits need cgroup v2", NULL, 0, 0);

	/* A spec with nothing set sends nothing but argv. */
	EXPECT(&r, RUN, 3);
	rr = r.msg->run;
	CHECK(rr->n_argv == 1 && rr->n_mounts == 0 && rr->n_setenv == 0 &&
	      rr->n_unsetenv == 0 && rr->n_rlimits == 0);
	CHECK(!rr->has_profile && !rr->has_cwd && !rr->has_hostname &&
	      !rr->has_uid && !rr->has_gid && !rr->has_net &&
	      !rr->has_new_session && !rr->has_die_with_client &&
	      !rr->has_lenient && !rr->has_tag);
	CHECK(!rr->limits && !rr->seccomp);
	/* ... and the defaults read back are the protocol's. */
	CHECK(rr->new_session && rr->die_with_client &&
	      rr->net == BOXD__V1__NET__NET_NONE);
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__BAD_REQUEST, "no", NULL, 0,
		   0);
}

Test(client, spec_fields_encoded_as_set, .timeout = 30)
{
	static const char *const argv[] = {"/bin/echo", "a b", "", NULL};
	char cwd[4096];
	struct fake f;
	box_client *c;
	box_spec *s, *empty = simple_spec();
	box_run *run;

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(box_spec_new(&s), 0);
	cr_assert_eq(box_spec_add_arg(s, "ignored"), 0);
	cr_assert_eq(box_spec_set_argv(s, argv), 0);
	cr_assert_eq(box_spec_set_profile(s, BOX_PROFILE_BARE), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/usr", "/usr"), 0);
	cr_assert_eq(box_spec_bind(s, "rel/dir", "/work"), 0);
	cr_assert_eq(box_spec_dev_bind(s, "/dev/fuse", "/dev/fuse"), 0);
	cr_assert_eq(box_spec_tmpfs(s, "/tmp", 64 * MiB, 01777), 0);
	cr_assert_eq(box_spec_tmpfs(s, "/var", 0, -1), 0);
	cr_assert_eq(box_spec_proc(s, "/proc"), 0);
	cr_assert_eq(box_spec_dev(s, "/dev"), 0);
	cr_assert_eq(box_spec_symlink(s, "usr/lib", "/lib"), 0);
	cr_assert_eq(box_spec_dir(s, "/data", 0700), 0);
	cr_assert_eq(box_spec_remount_ro(s, "/work"), 0);
	cr_assert_eq(
	    box_spec_add_mount(s, BOX_MOUNT_RO_BIND, "./sub/../.", "/here"), 0);
	cr_assert_eq(box_spec_setenv(s, "LANG", "C.UTF-8"), 0);
	cr_assert_eq(box_spec_setenv(s, "EMPTY", ""), 0);
	cr_assert_eq(box_spec_unsetenv(s, "TERM"), 0);
	cr_assert_eq(box_spec_set_cwd(s, "/work"), 0);
	cr_assert_eq(box_spec_set_hostname(s, "sandbox"), 0);
	cr_assert_eq(box_spec_set_uid(s, 0), 0);
	cr_assert_eq(box_spec_set_gid(s, 4242), 0);
	cr_assert_eq(box_spec_set_net(s, BOX_NET_LOOPBACK), 0);
	cr_assert_eq(box_spec_set_new_session(s, false), 0);
	cr_assert_eq(box_spec_set_die_with_client(s, false), 0);
	cr_assert_eq(box_spec_set_memory(s, 512 * MiB), 0);
	cr_assert_eq(box_spec_set_memory_swap(s, 1024 * MiB), 0);
	cr_assert_eq(box_spec_set_cpus(s, 1.5), 0);
	cr_assert_eq(box_spec_set_pids(s, 64), 0);
	cr_assert_eq(box_spec_set_timeout_ns(s, 2500000000ULL), 0);
	cr_assert_eq(box_spec_set_cpu_time_ns(s, 1000000000ULL), 0);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_DEFAULT, NULL, 0), 0);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy_text,
					  strlen(policy_text)),
		     0);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_NOFILE, 100, 200), 0);
	cr_assert_eq(
	    box_spec_add_rlimit(s, BOX_RLIMIT_CORE, 0, BOX_RLIM_INFINITY), 0);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_AS, 64 * MiB, 128 * MiB),
		     0);
	cr_assert_eq(box_spec_set_lenient(s, true), 0);
	cr_assert_eq(box_spec_set_tag(s, "build #7"), 0);

	c = fake_connect(&f, script_spec, cwd);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_null(box_run_result(run));
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_UNSUPPORTED);
	cr_assert_eq(box_run_exit_status(run), 125);
	box_run_free(run);
	/* The connection survives a refused run. */
	cr_assert_eq(box_run_start(c, empty, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BAD_REQUEST);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	box_spec_free(empty);
	fake_join(&f);
}

Test(client, spec_rejects_bad_arguments)
{
	static const char *const no_argv[] = {NULL};
	box_spec *s;
	box_client *c;
	box_run *run;

	cr_assert_eq(box_spec_new(&s), 0);
	cr_assert_eq(box_spec_set_argv(s, no_argv), -EINVAL);
	cr_assert_eq(box_spec_tmpfs(s, "relative", 0, -1), -EINVAL);
	cr_assert_eq(box_spec_tmpfs(s, "/t", 0, 010000), -EINVAL);
	cr_assert_eq(box_spec_dir(s, "/t", -2), -EINVAL);
	cr_assert_eq(box_spec_ro_bind(s, "", "/x"), -EINVAL);
	cr_assert_eq(box_spec_add_mount(s, BOX_MOUNT_PROC, "/src", "/proc"),
		     -EINVAL);
	cr_assert_eq(box_spec_add_mount(s, BOX_MOUNT_BIND, NULL, "/x"),
		     -EINVAL);
	cr_assert_eq(box_spec_add_mount(s, (enum box_mount_kind)42, NULL, "/x"),
		     -EINVAL);
	cr_assert_eq(box_spec_setenv(s, "A=B", "c"), -EINVAL);
	cr_assert_eq(box_spec_setenv(s, "", "c"), -EINVAL);
	cr_assert_eq(box_spec_unsetenv(s, "X=1"), -EINVAL);
	cr_assert_eq(box_spec_set_cwd(s, "relative"), -EINVAL);
	cr_assert_eq(box_spec_set_hostname(s, ""), -EINVAL);
	cr_assert_eq(box_spec_set_uid(s, UINT32_MAX), -EINVAL);
	cr_assert_eq(box_spec_set_uid(s, -1), 0);
	cr_assert_eq(box_spec_set_cpus(s, -1.0), -EINVAL);
	cr_assert_eq(box_spec_set_cpus(s, 0.0001), -EINVAL);
	cr_assert_eq(box_spec_set_net(s, (enum box_net)9), -EINVAL);
	cr_assert_eq(box_spec_set_profile(s, (enum box_profile)0), -EINVAL);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, NULL, 0),
		     -EINVAL);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, "x", 1),
		     -EINVAL);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_STACK, 2, 1), -EINVAL);
	cr_assert_eq(box_spec_add_rlimit(s, (enum box_rlimit_resource)7, 1, 1),
		     -EINVAL);
	cr_assert_eq(box_spec_add_rlimit(s, (enum box_rlimit_resource)0, 1, 1),
		     -EINVAL);
	/* No argv, no run; and no connection needed to say so. */
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -EINVAL);
	cr_assert_eq(box_spec_add_arg(s, "/bin/true"), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -ENOTCONN);
	box_client_free(c);
	box_spec_free(s);
	cr_assert_null(box_spec_free(NULL));
	cr_assert_null(box_client_free(NULL));
	cr_assert_null(box_run_free(NULL));
}

/* ------------------------------------------------------ results and JSON */

static void script_full_result(struct fake *f)
{
	static const char *caveats[] = {"swap: not enforced (cgroup v1)",
					"cpu_time: polled"};
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Result r = BOXD__V1__RESULT__INIT;
	struct req q;

	HANDSHAKE();
	EXPECT(&q, RUN, 3);
	req_clear(&q);
	send_accepted(f->sock, 7);
	send_started(f->sock, 7, 4242);
	r.run_id = 7;
	r.termination = BOXD__V1__TERMINATION__EXITED;
	r.has_exit_code = 1;
	r.exit_code = 3;
	r.wall_ns = 1500000;
	r.user_ns = 700000;
	r.system_ns = 300000;
	r.peak_rss_bytes = 4 * MiB;
	r.has_peak_memory_bytes = 1;
	r.peak_memory_bytes = 6 * MiB;
	r.has_peak_memory_source = 1;
	r.peak_memory_source = BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_CGROUP;
	r.has_oom_kills = 1;
	r.oom_kills = 0;
	r.has_peak_pids = 1;
	r.peak_pids = 5;
	r.n_caveats = 2;
	r.caveats = (char **)caveats;
	r.has_start_time_unix_ns = 1;
	r.start_time_unix_ns = 1660459098589010919ULL;
	ev.msg_case = BOXD__V1__EVENT__MSG_RESULT;
	ev.result = &r;
	send_event(f->sock, &ev);
}

Test(client, result_getters_and_json, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_full_result, NULL);
	box_spec *s = simple_spec();
	const box_result *r;
	box_run *run;
	char *json;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_PENDING);
	cr_assert_eq(box_run_id(run), -1);
	cr_assert_null(box_run_result(run));
	cr_assert_eq(box_run_exit_status(run), -EBUSY);
	cr_assert_eq(box_run_wait(run), 0);
	r = box_run_result(run);
	cr_assert_not_null(r);
	cr_assert_null(box_run_error(run));
	cr_assert_eq(box_run_id(run), 7);
	cr_assert_eq(box_run_pid(run), 4242);
	cr_assert_eq(box_result_run_id(r), 7);
	cr_assert_eq(box_result_termination(r), BOX_TERM_EXITED);
	cr_assert_eq(box_result_exit_code(r), 3);
	cr_assert_eq(box_result_signal(r), -1);
	cr_assert_eq(box_result_wall_ns(r), 1500000);
	cr_assert_eq(box_result_user_ns(r), 700000);
	cr_assert_eq(box_result_system_ns(r), 300000);
	cr_assert_eq(box_result_peak_rss_bytes(r), 4 * MiB);
	cr_assert_eq(box_result_peak_memory_bytes(r), 6 * MiB);
	cr_assert_eq(box_result_peak_memory_source(r), BOX_PEAK_CGROUP);
	cr_assert_eq(box_result_oom_kills(r), 0);
	cr_assert_eq(box_result_peak_pids(r), 5);
	cr_assert_null(box_result_seccomp_syscall(r));
	cr_assert_str_eq(box_result_caveats(r)[0],
			 "swap: not enforced (cgroup v1)");
	cr_assert_str_eq(box_result_caveats(r)[1], "cpu_time: polled");
	cr_assert_null(box_result_caveats(r)[2]);
	cr_assert_eq(box_result_start_time_unix_ns(r), 1660459098589010919LL);
	cr_assert_eq(box_run_exit_status(run), 3);
	cr_assert_eq(box_result_exit_status(r), 3);

	cr_assert_eq(box_run_json(run, &json), 0);
	cr_assert_str_eq(
	    json, "{\"run_id\":7,\"termination\":\"exited\",\"exit_code\":3,"
		  "\"signal\":null,\"wall_ns\":1500000,\"user_ns\":700000,"
		  "\"system_ns\":300000,\"peak_rss_bytes\":4194304,"
		  "\"peak_memory_bytes\":6291456,"
		  "\"peak_memory_source\":\"cgroup\",\"oom_kills\":0,"
		  "\"peak_pids\":5,\"seccomp_syscall\":null,"
		  "\"caveats\":[\"swap: not enforced (cgroup v1)\","
		  "\"cpu_time: polled\"],"
		  "\"start_time_unix_ns\":1660459098589010919}");
	free(json);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

struct end_case {
	Boxd__V1__Termination term;
	int code, sig;
	int status;
	const char *name;
};

static const struct end_case end_cases[] = {
    {BOXD__V1__TERMINATION__EXITED, 0, 0, 0, "exited"},
    {BOXD__V1__TERMINATION__EXITED, 255, 0, 255, "exited"},
    {BOXD__V1__TERMINATION__SIGNALED, -1, 11, 139, "signaled"},
    {BOXD__V1__TERMINATION__OUT_OF_MEMORY, -1, 9, 137, "out_of_memory"},
    {BOXD__V1__TERMINATION__WALL_TIMEOUT, -1, 0, 137, "wall_timeout"},
    {BOXD__V1__TERMINATION__CPU_TIMEOUT, -1, 9, 137, "cpu_timeout"},
    {BOXD__V1__TERMINATION__KILLED, -1, 15, 143, "killed"},
};

static void script_ends(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	for (size_t i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		EXPECT(&r, RUN, 3);
		req_clear(&r);
		send_accepted(f->sock, 100 + i);
		send_result(f->sock, 100 + i, end_cases[i].term,
			    end_cases[i].code, end_cases[i].sig);
	}
}

Test(client, exit_status_of_each_termination, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_ends, NULL);
	box_spec *s = simple_spec();

	for (size_t i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		const struct end_case *e = &end_cases[i];
		json_object *o;
		box_run *run;
		char *json;

		cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
		cr_assert_eq(box_run_wait(run), 0);
		cr_assert_eq(box_run_exit_status(run), e->status, "case %zu",
			     i);
		cr_assert_str_eq(box_termination_name(box_result_termination(
				     box_run_result(run))),
				 e->name);
		cr_assert_eq(box_run_json(run, &json), 0);
		o = parse_json(json);
		cr_assert_str_eq(json_object_get_string(jget(o, "termination")),
				 e->name);
		if (e->sig > 0)
			cr_assert_eq(json_object_get_int(jget(o, "signal")),
				     e->sig);
		else
			cr_assert_null(jget(o, "signal"));
		if (e->code >= 0)
			cr_assert_eq(json_object_get_int(jget(o, "exit_code")),
				     e->code);
		else
			cr_assert_null(jget(o, "exit_code"));
		cr_assert_null(jget(o, "peak_memory_bytes"));
		cr_assert_str_eq(
		    json_object_get_string(jget(o, "peak_memory_source")),
		    "none");
		cr_assert_eq(json_object_array_length(jget(o, "caveats")), 0);
		json_object_put(o);
		free(json);
		box_run_free(run);
	}
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* ----------------------------------------------------------------- errors */

static void script_errors(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	/* Refused before Accepted: no run id. */
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__DENIED,
		   "net host is not allowed for uid 1000", NULL, 0, 0);
	/* A setup failure after Accepted. */
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 12);
	send_error(f->sock, BOXD__V1__ERROR_CODE__SETUP_FAILED,
		   "mount /data: Permission denied", "mount", EACCES, 12);
	/* A setup failure the daemon reports before accepting. */
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__SETUP_FAILED,
		   "clone: Resource temporarily unavailable", "clone", EAGAIN,
		   0);
	/* exec failures: not found, not executable. */
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 13);
	send_error(f->sock, BOXD__V1__ERROR_CODE__EXEC_FAILED,
		   "execve nope: No such file or directory", "execve", ENOENT,
		   13);
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 14);
	send_error(f->sock, BOXD__V1__ERROR_CODE__EXEC_FAILED,
		   "execve /etc/passwd: Permission denied", "execve", EACCES,
		   14);
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 15);
	send_error(f->sock, BOXD__V1__ERROR_CODE__EXEC_FAILED,
		   "execve /bin/x: Exec format error", "execve", ENOEXEC, 15);
	/* And the connection still runs things. */
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 16);
	send_result(f->sock, 16, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

static box_run *run_to_end(box_client *c, box_spec *s)
{
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	return run;
}

Test(client, error_records_and_exit_status, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_errors, NULL);
	box_spec *s = simple_spec();
	const box_error *e;
	box_run *run;
	char *json;

	run = run_to_end(c, s);
	e = box_run_error(run);
	cr_assert_not_null(e);
	cr_assert_null(box_run_result(run));
	cr_assert_eq(box_error_code(e), BOX_ERROR_DENIED);
	cr_assert_str_eq(box_error_message(e),
			 "net host is not allowed for uid 1000");
	cr_assert_null(box_error_step(e));
	cr_assert_eq(box_error_errno(e), 0);
	cr_assert_eq(box_error_run_id(e), -1);
	cr_assert_eq(box_run_id(run), -1);
	cr_assert_eq(box_run_exit_status(run), 125);
	cr_assert_eq(box_run_json(run, &json), 0);
	cr_assert_str_eq(json, "{\"error\":{\"code\":\"denied\",\"message\":"
			       "\"net host is not allowed for uid 1000\","
			       "\"step\":null,\"errno\":null,"
			       "\"errno_name\":null,\"run_id\":null}}");
	free(json);
	box_run_free(run);

	run = run_to_end(c, s);
	e = box_run_error(run);
	cr_assert_eq(box_error_code(e), BOX_ERROR_SETUP_FAILED);
	cr_assert_str_eq(box_error_step(e), "mount");
	cr_assert_eq(box_error_errno(e), EACCES);
	cr_assert_eq(box_error_run_id(e), 12);
	cr_assert_eq(box_run_exit_status(run), 125);
	cr_assert_eq(box_error_json(e, &json), 0);
	cr_assert_str_eq(json, "{\"error\":{\"code\":\"setup_failed\","
			       "\"message\":\"mount /data: Permission "
			       "denied\",\"step\":\"mount\",\"errno\":13,"
			       "\"errno_name\":\"EACCES\",\"run_id\":12}}");
	free(json);
	box_run_free(run);

	run = run_to_end(c, s);
	e = box_run_error(run);
	cr_assert_eq(box_error_code(e), BOX_ERROR_SETUP_FAILED);
	cr_assert_str_eq(box_error_step(e), "clone");
	cr_assert_eq(box_error_errno(e), EAGAIN);
	cr_assert_eq(box_run_exit_status(run), 125);
	box_run_free(run);

	run = run_to_end(c, s);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_EXEC_FAILED);
	cr_assert_eq(box_run_exit_status(run), 127);
	box_run_free(run);
	run = run_to_end(c, s);
	cr_assert_eq(box_run_exit_status(run), 126);
	box_run_free(run);
	run = run_to_end(c, s);
	cr_assert_eq(box_run_exit_status(run), 126);
	cr_assert_str_eq(
	    box_error_code_name(box_error_code(box_run_error(run))),
	    "exec_failed");
	box_run_free(run);

	run = run_to_end(c, s);
	cr_assert_eq(box_run_exit_status(run), 0);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_protocol_error(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 3);
	send_error(f->sock, BOXD__V1__ERROR_CODE__PROTOCOL,
		   "run request carries 2 file descriptors, expected exactly 3",
		   NULL, 0, 0);
}

Test(client, protocol_error_ends_connection, .timeout = 30)
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
	req_clear(&r);
	send_accepted(f->sock, 3);
	/* and hang up (fake_main shuts the socket down) */
}

Test(client, lost_connection_ends_run_with_client_error, .timeout = 30)
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

/* ---------------------------------------------- interleaving, kill, list */

static void send_status(int sock)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Status st = BOXD__V1__STATUS__INIT;
	Boxd__V1__PoolStats pool = BOXD__V1__POOL_STATS__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;

	fill_host(&host);
	st.daemon_version = (char *)"9.8.7";
	st.host = &host;
	st.has_runs = st.has_connections = 1;
	st.runs = 2;
	st.connections = 3;
	st.has_daemon_rss_bytes = st.has_uptime_ns = 1;
	st.daemon_rss_bytes = 9 * MiB;
	st.uptime_ns = 61000000000ULL;
	pool.has_size = pool.has_target = pool.has_hits = pool.has_misses = 1;
	pool.has_refill_failures = pool.has_member_rss_bytes = 1;
	pool.size = 4;
	pool.target = 8;
	pool.hits = 120;
	pool.misses = 3;
	pool.refill_failures = 1;
	pool.member_rss_bytes = 800 * 1024;
	st.pool = &pool;
	ev.msg_case = BOXD__V1__EVENT__MSG_STATUS;
	ev.status = &st;
	send_event(sock, &ev);
}

static void script_interleave(struct fake *f)
{
	struct req r;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__KillReply kr = BOXD__V1__KILL_REPLY__INIT;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	EXPECT(&r, STATUS, 0);
	req_clear(&r);
	/* The status answer lands between the run's events. */
	send_accepted(f->sock, 5);
	send_status(f->sock);
	wait_step(f);
	send_started(f->sock, 5, 999);
	/* A kill of another run that does not exist. */
	EXPECT(&r, KILL, 0);
	CHECK(r.msg->kill->run_id == 99 && r.msg->kill->signal == 9);
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__NOT_FOUND, "no run 99", NULL,
		   0, 99);
	/* A kill of the run itself, answered after its result. */
	EXPECT(&r, KILL, 0);
	CHECK(r.msg->kill->run_id == 5 && r.msg->kill->has_signal &&
	      r.msg->kill->signal == SIGTERM);
	req_clear(&r);
	send_result(f->sock, 5, BOXD__V1__TERMINATION__KILLED, -1, SIGTERM);
	kr.run_id = 5;
	ev.msg_case = BOXD__V1__EVENT__MSG_KILLED;
	ev.killed = &kr;
	send_event(f->sock, &ev);
}

Test(client, replies_interleave_with_run_events, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_interleave, NULL);
	box_spec *s = simple_spec();
	const box_host_info *h;
	box_status *st;
	box_run *run;
	char *json;
	json_object *o;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_client_status(c, &st), 0);
	/* Events before the answer were routed to the run. */
	cr_assert_eq(box_run_state(run), BOX_RUN_ACCEPTED);
	cr_assert_eq(box_run_id(run), 5);
	cr_assert_eq(box_status_runs(st), 2);
	cr_assert_eq(box_status_connections(st), 3);
	cr_assert_eq(box_status_daemon_rss_bytes(st), 9 * MiB);
	cr_assert_eq(box_status_uptime_ns(st), 61000000000LL);
	cr_assert_eq(box_status_pool_size(st), 4);
	cr_assert_eq(box_status_pool_target(st), 8);
	cr_assert_eq(box_status_pool_hits(st), 120);
	cr_assert_eq(box_status_pool_misses(st), 3);
	cr_assert_eq(box_status_pool_refill_failures(st), 1);
	cr_assert_eq(box_status_pool_member_rss_bytes(st), 800 * 1024);
	h = box_status_host(st);
	cr_assert_not_null(h);
	cr_assert_str_eq(box_host_limits(h)[1], "memory");
	cr_assert_eq(box_status_json(st, &json), 0);
	o = parse_json(json);
	cr_assert_eq(json_object_get_int(jget(jget(o, "pool"), "hits")), 120);
	cr_assert_str_eq(
	    json_object_get_string(jget(jget(o, "host"), "cgroup_mode")), "v1");
	cr_assert_eq(json_object_get_boolean(jget(jget(o, "host"), "landlock")),
		     0);
	json_object_put(o);
	free(json);
	box_status_free(st);

	step(&f);
	cr_assert_eq(box_client_kill(c, 99, SIGKILL), -ESRCH);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_NOT_FOUND);
	/* A NOT_FOUND for another run leaves this one alone. */
	cr_assert_eq(box_run_state(run), BOX_RUN_STARTED);
	cr_assert_eq(box_run_pid(run), 999);

	cr_assert_eq(box_run_kill(run, SIGTERM), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_result_termination(box_run_result(run)),
		     BOX_TERM_KILLED);
	cr_assert_eq(box_run_exit_status(run), 128 + SIGTERM);
	cr_assert_eq(box_run_kill(run, SIGTERM), -ESRCH);
	cr_assert_eq(box_run_kill_async(run, SIGTERM), 0);
	cr_assert_eq(box_run_kill(run, 0), -EINVAL);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_kill_early(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 3);
	/* The kill asked for before Accepted follows it. */
	EXPECT(&r, KILL, 0);
	CHECK(r.msg->kill->run_id == 3 && r.msg->kill->signal == SIGINT);
	req_clear(&r);
	/* A bad-signal answer naming the run must not end it. */
	send_error(f->sock, BOXD__V1__ERROR_CODE__BAD_REQUEST,
		   "kill: signal out of range", NULL, 0, 3);
	send_result(f->sock, 3, BOXD__V1__TERMINATION__KILLED, -1, SIGINT);
}

Test(client, kill_async_before_accepted, .timeout = 30)
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

static void script_list(struct fake *f)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__RunList l = BOXD__V1__RUN_LIST__INIT;
	Boxd__V1__RunInfo a = BOXD__V1__RUN_INFO__INIT;
	Boxd__V1__RunInfo b = BOXD__V1__RUN_INFO__INIT;
	Boxd__V1__RunInfo *runs[] = {&a, &b};
	struct req r;

	HANDSHAKE();
	EXPECT(&r, LIST, 0);
	req_clear(&r);
	a.run_id = 41;
	a.uid = 1000;
	a.has_pid = 1;
	a.pid = 5555;
	a.has_argv0 = 1;
	a.argv0.data = (uint8_t *)"/usr/bin/make";
	a.argv0.len = 13;
	a.has_tag = 1;
	a.tag.data = (uint8_t *)"ci\xff";
	a.tag.len = 3;
	a.has_elapsed_ns = 1;
	a.elapsed_ns = 2500000000ULL;
	b.run_id = 42;
	b.uid = 0;
	l.n_runs = 2;
	l.runs = runs;
	ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
	ev.list = &l;
	send_event(f->sock, &ev);
}

Test(client, list_runs, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_list, NULL);
	const box_run_info *i;
	box_run_list *l;
	char *json;

	cr_assert_eq(box_client_list(c, &l), 0);
	cr_assert_eq(box_run_list_count(l), 2);
	i = box_run_list_get(l, 0);
	cr_assert_eq(box_run_info_id(i), 41);
	cr_assert_eq(box_run_info_uid(i), 1000);
	cr_assert_eq(box_run_info_pid(i), 5555);
	cr_assert_str_eq(box_run_info_argv0(i), "/usr/bin/make");
	cr_assert_str_eq(box_run_info_tag(i), "ci\xff");
	cr_assert_eq(box_run_info_elapsed_ns(i), 2500000000LL);
	i = box_run_list_get(l, 1);
	cr_assert_eq(box_run_info_id(i), 42);
	cr_assert_eq(box_run_info_pid(i), -1);
	cr_assert_null(box_run_info_argv0(i));
	cr_assert_null(box_run_info_tag(i));
	cr_assert_eq(box_run_info_elapsed_ns(i), -1);
	cr_assert_null(box_run_list_get(l, 2));
	cr_assert_eq(box_run_list_json(l, &json), 0);
	/* Invalid UTF-8 in a tag becomes U+FFFD: the JSON stays valid. */
	cr_assert_str_eq(json, "{\"runs\":[{\"run_id\":41,\"uid\":1000,"
			       "\"pid\":5555,\"argv0\":\"/usr/bin/make\","
			       "\"tag\":\"ci\xef\xbf\xbd\","
			       "\"elapsed_ns\":2500000000},{\"run_id\":42,"
			       "\"uid\":0,\"pid\":null,\"argv0\":null,"
			       "\"tag\":null,\"elapsed_ns\":null}]}");
	free(json);
	box_run_list_free(l);
	box_client_free(c);
	fake_join(&f);
}

static void script_busy(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	/* The second start never reaches the daemon. */
	EXPECT(&r, STATUS, 0);
	req_clear(&r);
	send_accepted(f->sock, 8);
	send_status(f->sock);
	wait_step(f);
	send_result(f->sock, 8, BOXD__V1__TERMINATION__EXITED, 0, 0);
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	send_accepted(f->sock, 9);
	send_result(f->sock, 9, BOXD__V1__TERMINATION__EXITED, 1, 0);
}

Test(client, one_run_in_flight_per_connection, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_busy, NULL);
	box_spec *s = simple_spec();
	box_run *run, *second = NULL;
	box_status *st;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &second), -EBUSY);
	cr_assert_null(second);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_eq(box_client_status(c, &st), 0);
	box_status_free(st);
	/* Freed while in flight: the connection finishes it quietly. */
	cr_assert_eq(box_run_state(run), BOX_RUN_ACCEPTED);
	box_run_free(run);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &second), -EBUSY);
	step(&f);
	while (box_run_start(c, s, -1, -1, -1, &second) == -EBUSY) {
		struct pollfd p = {.fd = box_client_fd(c), .events = POLLIN};

		cr_assert_eq(poll(&p, 1, PATIENCE_MS), 1);
		cr_assert_eq(box_client_dispatch(c), 0);
	}
	cr_assert_eq(box_run_wait(second), 0);
	cr_assert_eq(box_run_exit_status(second), 1);
	box_run_free(second);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* ----------------------------------------------------- non-blocking mode */

static void script_stepwise(struct fake *f)
{
	struct req r;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Started st = BOXD__V1__STARTED__INIT;
	uint8_t *buf;
	size_t len;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	req_clear(&r);
	wait_step(f);
	send_accepted(f->sock, 21);
	wait_step(f);
	/* Started, split inside its header and again inside its body. */
	st.run_id = 21;
	st.has_pid = 1;
	st.pid = 31337;
	ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
	ev.started = &st;
	len = boxd__v1__event__get_packed_size(&ev);
	buf = malloc(len + 4);
	buf[0] = (uint8_t)len;
	buf[1] = buf[2] = buf[3] = 0;
	boxd__v1__event__pack(&ev, buf + 4);
	send_bytes(f->sock, buf, 2);
	wait_step(f);
	send_bytes(f->sock, buf + 2, 4);
	wait_step(f);
	send_bytes(f->sock, buf + 6, len - 2);
	free(buf);
	wait_step(f);
	send_result(f->sock, 21, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

static int poll_in(box_client *c, int timeout_ms)
{
	struct pollfd p = {.fd = box_client_fd(c), .events = POLLIN};

	return poll(&p, 1, timeout_ms);
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

	step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_ACCEPTED);
	cr_assert_eq(box_run_id(run), 21);

	/* Partial frames are kept, never waited for. */
	step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_ACCEPTED);
	step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_ACCEPTED);
	step(&f);
	cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
	cr_assert_eq(box_run_dispatch(run), BOX_RUN_STARTED);
	cr_assert_eq(box_run_pid(run), 31337);

	step(&f);
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

/* ------------------------------------------------------ capture, process */

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
		send_accepted(f->sock, 30 + (uint64_t)round);
		send_started(f->sock, 30 + (uint64_t)round, 1);
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
		req_clear(&r); /* closes our copies: EOF for the client */
		send_result(f->sock, 30 + (uint64_t)round,
			    BOXD__V1__TERMINATION__EXITED,
			    ok && got == BIG_IN ? 0 : 1, 0);
	}
	/* No stdin given: the command reads /dev/null. */
	EXPECT(&r, RUN, 3);
	CHECK(is_devnull(r.fds[0]));
	CHECK(write(r.fds[1], "out", 3) == 3);
	req_clear(&r);
	send_accepted(f->sock, 40);
	send_result(f->sock, 40, BOXD__V1__TERMINATION__EXITED, 0, 0);
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
	req_clear(&r);
	send_accepted(f->sock, 50);
	send_result(f->sock, 50, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

/* Writing stdin to a command that is gone must not raise SIGPIPE. */
Test(client, capture_survives_stdin_closed_early, .timeout = 30)
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
	send_accepted(f->sock, 60);
	send_started(f->sock, 60, 6060);
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
	req_clear(&r);
	send_result(f->sock, 60, BOXD__V1__TERMINATION__EXITED, 4, 0);

	/* open_process_in: only stdout is a pipe. */
	EXPECT(&r, RUN, 3);
	CHECK(fstat(r.fds[1], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(write(r.fds[1], "x", 1) == 1);
	req_clear(&r);
	send_accepted(f->sock, 61);
	send_result(f->sock, 61, BOXD__V1__TERMINATION__SIGNALED, -1, SIGPIPE);
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

Test(client, process_helpers, .timeout = 30)
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

/* Names for every code and termination; the exit-status table. */
Test(client, names_and_exit_statuses)
{
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_BAD_REQUEST),
			 "bad_request");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_PROTOCOL), "protocol");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_DENIED), "denied");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_UNSUPPORTED),
			 "unsupported");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_SETUP_FAILED),
			 "setup_failed");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_EXEC_FAILED),
			 "exec_failed");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_BUSY), "busy");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_INTERNAL), "internal");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_NOT_FOUND), "not_found");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_CLIENT), "client");
	cr_assert_str_eq(box_error_code_name((enum box_error_code)77),
			 "unknown");
	cr_assert_str_eq(box_termination_name(BOX_TERM_CPU_TIMEOUT),
			 "cpu_timeout");
	cr_assert_str_eq(box_termination_name((enum box_termination)0),
			 "unknown");
	cr_assert_str_eq(box_version(), BOXD_VERSION);
}

static void script_hangup_mid_frame(struct fake *f)
{
	uint8_t hdr[4];
	struct req r = {0};

	HANDSHAKE();
	/* Read the start of a big run frame only, refuse it and hang up. */
	CHECK(recv_some(f->sock, hdr, sizeof(hdr), &r) == 4);
	CHECK(r.n_fds == 3);
	send_error(f->sock, BOXD__V1__ERROR_CODE__PROTOCOL,
		   "frame larger than the daemon's maximum", NULL, 0, 0);
	req_clear(&r);
}

/* A send cut short by the daemon reports the daemon's reason. */
Test(client, hangup_during_send_keeps_the_daemons_reason, .timeout = 30)
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

/* ------------------------------------------------------------ sorted mounts */

/* The destinations, in the order the daemon received them. */
static void script_sorted(struct fake *f)
{
	static const char *const want[][2] = {
	    /* {dst, src}: same destination keeps its order (stable). */
	    {"/", "/srv/root"},  {"/a", "/first"},     {"/a", NULL},
	    {"/a/b", "/second"}, {"/a/b/c", "/third"}, {"/a-b", "/x"},
	    {"/a.b", "/y"},      {"/ab", "/z"},        {"/b", "/last"},
	};
	struct req r;
	Boxd__V1__RunRequest *rr;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	rr = r.msg->run;
	CHECK(rr->n_mounts == sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const Boxd__V1__Mount *m = rr->mounts[i];

		if (!bytes_is(&m->dst, want[i][0]) ||
		    (want[i][1]
			 ? !bytes_is(&m->src, want[i][1])
			 : m->kind != BOXD__V1__MOUNT__KIND__REMOUNT_RO)) {
			fake_fail(f, __LINE__, "mount %zu is %.*s, want %s", i,
				  (int)m->dst.len, (char *)m->dst.data,
				  want[i][0]);
			req_clear(&r);
			return;
		}
	}
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__BAD_REQUEST, "enough", NULL,
		   0, 0);
}

Test(client, sort_mounts_orders_by_path_components, .timeout = 30)
{
	struct fake f;
	box_client *c;
	box_spec *s = simple_spec(), *empty = simple_spec();
	box_run *run;

	/* Shuffled; strcmp would put "/a-b" and "/a.b" before "/a/b". */
	cr_assert_eq(box_spec_ro_bind(s, "/last", "/b"), 0);
	cr_assert_eq(box_spec_bind(s, "/third", "/a/b/c"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/x", "/a-b"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/second", "/a/b"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/first", "/a"), 0);
	cr_assert_eq(box_spec_remount_ro(s, "/a"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/z", "/ab"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/y", "/a.b"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/srv/root", "/"), 0);
	cr_assert_eq(box_spec_sort_mounts(s), 0);
	/* Sorting a sorted spec changes nothing. */
	cr_assert_eq(box_spec_sort_mounts(s), 0);
	cr_assert_eq(box_spec_sort_mounts(empty), 0);
	cr_assert_eq(box_spec_sort_mounts(NULL), -EINVAL);

	c = fake_connect(&f, script_sorted, NULL);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BAD_REQUEST);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	box_spec_free(empty);
	fake_join(&f);
}

/* ---------------------------------------------------------------- plans */

static void send_plan(int sock)
{
	static Boxd__V1__EnvVar path = BOXD__V1__ENV_VAR__INIT,
				lang = BOXD__V1__ENV_VAR__INIT;
	static Boxd__V1__PlanMount usr = BOXD__V1__PLAN_MOUNT__INIT,
				   tmp = BOXD__V1__PLAN_MOUNT__INIT,
				   lnk = BOXD__V1__PLAN_MOUNT__INIT;
	static Boxd__V1__Rlimit core = BOXD__V1__RLIMIT__INIT,
				as = BOXD__V1__RLIMIT__INIT;
	static const char *caveats[] = {"limits not enforced: no cgroups"};
	Boxd__V1__EnvVar *env[] = {&path, &lang};
	Boxd__V1__PlanMount *mounts[] = {&usr, &lnk, &tmp};
	Boxd__V1__Rlimit *rlimits[] = {&core, &as};
	ProtobufCBinaryData argv[] = {{7, (uint8_t *)"/bin/sh"},
				      {2, (uint8_t *)"-c"},
				      {9, (uint8_t *)"echo 'hi'"}};
	Boxd__V1__Limits lim = BOXD__V1__LIMITS__INIT;
	Boxd__V1__Plan p = BOXD__V1__PLAN__INIT;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;

	path.name = (ProtobufCBinaryData){4, (uint8_t *)"PATH"};
	path.value = (ProtobufCBinaryData){8, (uint8_t *)"/usr/bin"};
	lang.name = (ProtobufCBinaryData){4, (uint8_t *)"LANG"};
	lang.value = (ProtobufCBinaryData){0, NULL};
	usr.has_kind = usr.has_src = usr.has_dst = 1;
	usr.kind = BOXD__V1__MOUNT__KIND__RO_BIND;
	usr.src = usr.dst = (ProtobufCBinaryData){4, (uint8_t *)"/usr"};
	usr.has_read_only = usr.read_only = 1;
	usr.has_from_profile = usr.from_profile = 1;
	usr.has_if_exists = usr.if_exists = 1;
	lnk.has_kind = lnk.has_src = lnk.has_dst = 1;
	lnk.kind = BOXD__V1__MOUNT__KIND__SYMLINK;
	lnk.src = (ProtobufCBinaryData){7, (uint8_t *)"usr/bin"};
	lnk.dst = (ProtobufCBinaryData){4, (uint8_t *)"/bin"};
	tmp.has_kind = tmp.has_dst = 1;
	tmp.kind = BOXD__V1__MOUNT__KIND__TMPFS;
	tmp.dst = (ProtobufCBinaryData){4, (uint8_t *)"/tmp"};
	tmp.has_size = tmp.has_mode = 1;
	tmp.size = 64 * MiB;
	tmp.mode = 01777;
	tmp.has_read_only = 1;
	core.resource = BOXD__V1__RLIMIT__RESOURCE__CORE;
	as.resource = BOXD__V1__RLIMIT__RESOURCE__AS;
	as.soft = 64 * MiB;
	as.hard = UINT64_MAX;
	lim.has_memory_bytes = lim.has_timeout_ns = 1;
	lim.memory_bytes = 256 * MiB;
	lim.timeout_ns = 30000000000ULL;

	p.n_argv = 3;
	p.argv = argv;
	p.n_env = 2;
	p.env = env;
	p.has_cwd = p.has_hostname = p.has_tag = 1;
	p.cwd = (ProtobufCBinaryData){5, (uint8_t *)"/work"};
	p.hostname = (ProtobufCBinaryData){7, (uint8_t *)"sandbox"};
	p.tag = (ProtobufCBinaryData){5, (uint8_t *)"job 1"};
	p.has_uid = p.has_gid = p.has_host_uid = p.has_host_gid = 1;
	p.uid = 0;
	p.gid = 0;
	p.host_uid = 1000;
	p.host_gid = 100;
	p.has_private_ids = 1;
	p.has_net = 1;
	p.net = BOXD__V1__NET__NET_LOOPBACK;
	p.has_profile = 1;
	p.profile = BOXD__V1__PROFILE__PROFILE_DEFAULT;
	p.has_new_session = p.has_die_with_client = 1;
	p.new_session = 1;
	p.die_with_client = 0;
	p.n_mounts = 3;
	p.mounts = mounts;
	p.limits = &lim;
	p.n_rlimits = 2;
	p.rlimits = rlimits;
	p.has_seccomp = p.has_seccomp_instructions = 1;
	p.seccomp = BOXD__V1__SECCOMP__MODE__DEFAULT;
	p.seccomp_instructions = 310;
	p.n_caveats = 1;
	p.caveats = (char **)caveats;
	ev.msg_case = BOXD__V1__EVENT__MSG_PLAN;
	ev.plan = &p;
	send_event(sock, &ev);
}

static void script_plan(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	/* A dry run is a RunRequest with the flag, and its three fds. */
	EXPECT(&r, RUN, 3);
	CHECK(r.msg->run->has_dry_run && r.msg->run->dry_run);
	CHECK(r.msg->run->n_argv == 1);
	for (size_t i = 0; i < 3; i++)
		CHECK(is_devnull(r.fds[i]));
	req_clear(&r);
	/* Unrelated events before the answer are not it. */
	send_accepted(f->sock, 99);
	send_plan(f->sock);
	/* Refused like a run: no Plan, an Error without run id. */
	EXPECT(&r, RUN, 3);
	CHECK(r.msg->run->dry_run);
	req_clear(&r);
	send_error(f->sock, BOXD__V1__ERROR_CODE__DENIED,
		   "tenant 'users' may not use the host network", NULL, 0, 0);
	/* The connection is free for a real run afterwards. */
	EXPECT(&r, RUN, 3);
	CHECK(!r.msg->run->dry_run);
	req_clear(&r);
	send_accepted(f->sock, 5);
	send_result(f->sock, 5, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, plan_round_trip_getters_and_json, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_plan, NULL);
	box_spec *s = simple_spec();
	box_plan *p = NULL;
	box_run *run;
	uint64_t soft = 1, hard = 1;
	json_object *o, *m;
	char *json;

	cr_assert(box_host_has_feature(box_client_host(c), "dry_run"));
	cr_assert_str_eq(box_host_features(box_client_host(c))[0], "dry_run");
	cr_assert_not(box_host_has_feature(box_client_host(c), "teleport"));

	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	cr_assert_not_null(p);
	cr_assert_str_eq(box_plan_argv(p)[0], "/bin/sh");
	cr_assert_str_eq(box_plan_argv(p)[2], "echo 'hi'");
	cr_assert_null(box_plan_argv(p)[3]);
	cr_assert_str_eq(box_plan_env(p)[0], "PATH=/usr/bin");
	cr_assert_str_eq(box_plan_env(p)[1], "LANG=");
	cr_assert_null(box_plan_env(p)[2]);
	cr_assert_str_eq(box_plan_cwd(p), "/work");
	cr_assert_str_eq(box_plan_hostname(p), "sandbox");
	cr_assert_str_eq(box_plan_tag(p), "job 1");
	cr_assert_eq(box_plan_uid(p), 0);
	cr_assert_eq(box_plan_gid(p), 0);
	cr_assert_eq(box_plan_host_uid(p), 1000);
	cr_assert_eq(box_plan_host_gid(p), 100);
	cr_assert_not(box_plan_private_ids(p));
	cr_assert_eq(box_plan_net(p), BOX_NET_LOOPBACK);
	cr_assert_eq(box_plan_profile(p), BOX_PROFILE_DEFAULT);
	cr_assert(box_plan_new_session(p));
	cr_assert_not(box_plan_die_with_client(p));

	cr_assert_eq(box_plan_mount_count(p), 3);
	cr_assert_eq(box_plan_mount_kind(p, 0), BOX_MOUNT_RO_BIND);
	cr_assert_str_eq(box_plan_mount_src(p, 0), "/usr");
	cr_assert_str_eq(box_plan_mount_dst(p, 0), "/usr");
	cr_assert(box_plan_mount_read_only(p, 0));
	cr_assert(box_plan_mount_from_profile(p, 0));
	cr_assert(box_plan_mount_if_exists(p, 0));
	cr_assert_eq(box_plan_mount_size(p, 0), -1);
	cr_assert_eq(box_plan_mount_mode(p, 0), -1);
	cr_assert_eq(box_plan_mount_kind(p, 1), BOX_MOUNT_SYMLINK);
	cr_assert_str_eq(box_plan_mount_src(p, 1), "usr/bin");
	cr_assert_eq(box_plan_mount_kind(p, 2), BOX_MOUNT_TMPFS);
	cr_assert_null(box_plan_mount_src(p, 2));
	cr_assert_eq(box_plan_mount_size(p, 2), 64 * MiB);
	cr_assert_eq(box_plan_mount_mode(p, 2), 01777);
	cr_assert_not(box_plan_mount_read_only(p, 2));
	cr_assert_not(box_plan_mount_from_profile(p, 2));
	/* Out of range is absent, not a crash. */
	cr_assert_null(box_plan_mount_dst(p, 3));
	cr_assert_eq(box_plan_mount_kind(p, 3), 0);

	cr_assert_eq(box_plan_memory_bytes(p), 256 * MiB);
	cr_assert_eq(box_plan_timeout_ns(p), 30000000000LL);
	cr_assert_eq(box_plan_cpu_millis(p), -1);
	cr_assert_eq(box_plan_pids(p), -1);
	cr_assert_eq(box_plan_memory_swap_bytes(p), -1);
	cr_assert_eq(box_plan_cpu_time_ns(p), -1);
	cr_assert_eq(box_plan_rlimit(p, BOX_RLIMIT_CORE, &soft, &hard), 0);
	cr_assert(soft == 0 && hard == 0);
	cr_assert_eq(box_plan_rlimit(p, BOX_RLIMIT_AS, &soft, NULL), 0);
	cr_assert_eq(soft, 64 * MiB);
	cr_assert_eq(box_plan_rlimit(p, BOX_RLIMIT_NOFILE, NULL, NULL),
		     -ENOENT);
	cr_assert_eq(box_plan_seccomp_mode(p), BOX_SECCOMP_DEFAULT);
	cr_assert_eq(box_plan_seccomp_instructions(p), 310);
	cr_assert_str_eq(box_plan_caveats(p)[0],
			 "limits not enforced: no cgroups");
	cr_assert_null(box_plan_caveats(p)[1]);

	cr_assert_eq(box_plan_json(p, &json), 0);
	o = parse_json(json);
	cr_assert_str_eq(json_object_get_string(jget(o, "net")), "loopback");
	cr_assert_str_eq(json_object_get_string(jget(o, "hostname")),
			 "sandbox");
	cr_assert_eq(json_object_get_int64(jget(o, "host_uid")), 1000);
	cr_assert_eq(json_object_array_length(jget(o, "mounts")), 3);
	m = json_object_array_get_idx(jget(o, "mounts"), 1);
	cr_assert_str_eq(json_object_get_string(jget(m, "kind")), "symlink");
	cr_assert_str_eq(json_object_get_string(jget(m, "src")), "usr/bin");
	cr_assert_null(jget(m, "size"));
	m = json_object_array_get_idx(jget(o, "mounts"), 2);
	cr_assert_eq(json_object_get_int64(jget(m, "mode")), 01777);
	cr_assert_eq(
	    json_object_get_int64(jget(jget(o, "limits"), "memory_bytes")),
	    256 * MiB);
	cr_assert_null(jget(jget(o, "limits"), "pids"));
	cr_assert_str_eq(json_object_get_string(
			     jget(jget(jget(o, "rlimits"), "as"), "hard")),
			 "unlimited");
	cr_assert_eq(json_object_get_int64(jget(o, "seccomp_instructions")),
		     310);
	cr_assert_str_eq(json_object_get_string(jget(o, "seccomp")), "default");
	json_object_put(o);
	free(json);
	cr_assert_null(box_plan_free(p));

	/* A refusal is the daemon's error, and the call's errno. */
	p = NULL;
	cr_assert_eq(box_run_plan(c, s, &p), -EACCES);
	cr_assert_null(p);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_DENIED);
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "tenant 'users' may not use the host network");

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	cr_assert_null(box_plan_free(NULL));
	fake_join(&f);
}

/* A daemon that does not list "dry_run" would run the command: never
 * send it a dry run. */
static void script_no_dry_run(struct fake *f)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply h = BOXD__V1__HELLO_REPLY__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;
	struct req r;

	EXPECT(&r, HELLO, 0);
	req_clear(&r);
	fill_host(&host);
	host.n_features = 0;
	h.version = 1;
	h.daemon_version = (char *)"0.0.1";
	h.host = &host;
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &h;
	send_event(f->sock, &ev);
	/* The next request is the status the test sends, not a run. */
	EXPECT(&r, STATUS, 0);
	req_clear(&r);
}

Test(client, plan_refused_locally_without_the_daemon_feature, .timeout = 30)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_no_dry_run, NULL);
	box_spec *s = simple_spec(), *none;
	box_status *st = NULL;
	box_plan *p = NULL;

	cr_assert_not(box_host_has_feature(box_client_host(c), "dry_run"));
	cr_assert_null(box_host_features(box_client_host(c))[0]);
	cr_assert_eq(box_run_plan(c, s, &p), -EOPNOTSUPP);
	cr_assert_null(p);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_eq(box_spec_new(&none), 0);
	cr_assert_eq(box_run_plan(c, none, &p), -EINVAL);
	/* The fake fails unless this status is the next thing it reads;
	 * it hangs up after, so the answer itself does not matter. */
	(void)box_client_status(c, &st);
	box_status_free(st);
	box_client_free(c);
	box_spec_free(s);
	box_spec_free(none);
	fake_join(&f);
}

Test(client, rlimit_and_mount_kind_names)
{
	cr_assert_str_eq(box_rlimit_name(BOX_RLIMIT_AS), "as");
	cr_assert_str_eq(box_rlimit_name(BOX_RLIMIT_NOFILE), "nofile");
	cr_assert_str_eq(box_rlimit_name((enum box_rlimit_resource)0),
			 "unknown");
	cr_assert_str_eq(box_mount_kind_name(BOX_MOUNT_REMOUNT_RO),
			 "remount-ro");
	cr_assert_str_eq(box_mount_kind_name(BOX_MOUNT_DEV_BIND), "dev-bind");
	cr_assert_str_eq(box_mount_kind_name((enum box_mount_kind)0),
			 "unknown");
}
