/*
 * The scripted fake boxd of libboxclient's unit tests (fakedaemon.h).
 * Reads frames by hand, independently of common/frame.c, so a mistake in
 * the shared framing code cannot hide itself from the tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fakedaemon.h"

void fake_fail(struct fake *f, int line, const char *fmt, ...)
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

void fake_req_clear(struct req *r)
{
	uint64_t id = r->id;

	boxd__v1__request__free_unpacked(r->msg, NULL);
	for (size_t i = 0; i < r->n_fds; i++)
		close(r->fds[i]);
	memset(r, 0, sizeof(*r));
	r->id = id;
}

ssize_t fake_recv_some(int sock, void *buf, size_t len, struct req *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FAKE_MAX_FDS)];
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
		for (size_t i = 0; i < k && r->n_fds < FAKE_MAX_FDS; i++)
			r->fds[r->n_fds++] = fds[i];
	}
	return n;
}

/* The request id must be there, not 0, and new on this connection. */
static int fake_check_id(struct fake *f, struct req *r)
{
	if (!r->msg->has_request_id || r->msg->request_id == 0) {
		fake_fail(f, __LINE__, "request (case %d) without request id",
			  (int)r->msg->msg_case);
		return -1;
	}
	for (size_t i = 0; i < f->n_ids; i++) {
		if (f->ids[i] == r->msg->request_id) {
			fake_fail(f, __LINE__, "request id %" PRIu64 " reused",
				  r->msg->request_id);
			return -1;
		}
	}
	if (f->n_ids < FAKE_MAX_IDS)
		f->ids[f->n_ids++] = r->msg->request_id;
	r->id = r->msg->request_id;
	return 0;
}

int fake_recv_req(struct fake *f, struct req *r)
{
	uint8_t *body;
	size_t got = 0;
	bool first = true;

	memset(r, 0, sizeof(*r));
	while (got < 4) {
		size_t before = r->n_fds;
		ssize_t n = fake_recv_some(f->sock, r->hdr + got, 4 - got, r);

		if (n <= 0)
			return -1;
		/* fds must ride with the frame's first byte only */
		if (!first && r->n_fds != before) {
			fake_fail(f, __LINE__, "fds after the first byte");
			return -1;
		}
		first = false;
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
		ssize_t n =
		    fake_recv_some(f->sock, body + got, r->len - got, r);

		if (n <= 0 || r->n_fds != before) {
			if (n > 0)
				fake_fail(f, __LINE__,
					  "fds after the first byte");
			free(body);
			return -1;
		}
		got += (size_t)n;
	}
	r->msg = boxd__v1__request__unpack(NULL, r->len, body);
	free(body);
	if (!r->msg)
		return -1;
	return fake_check_id(f, r);
}

void fake_send_bytes(int sock, const void *buf, size_t len)
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

void fake_send_event(struct fake *f, const Boxd__V1__Event *ev)
{
	size_t len = boxd__v1__event__get_packed_size(ev);
	uint8_t *buf = malloc(len + 4);

	buf[0] = (uint8_t)len;
	buf[1] = (uint8_t)(len >> 8);
	buf[2] = (uint8_t)(len >> 16);
	buf[3] = (uint8_t)(len >> 24);
	boxd__v1__event__pack(ev, buf + 4);
	fake_send_bytes(f->sock, buf, len + 4);
	free(buf);
}

void fake_send_event_id(struct fake *f, uint64_t rid, Boxd__V1__Event *ev)
{
	ev->has_request_id = rid != 0;
	ev->request_id = rid;
	fake_send_event(f, ev);
}

static const char *host_namespaces[] = {"user", "mnt", "pid", "net"};
static const char *host_limits[] = {"timeout", "memory", "pids"};
static const char *host_nets[] = {"none", "loopback"};
static const char *host_profiles[] = {"default", "bare"};
static const char *host_controllers[] = {"memory", "pids"};
static const char *host_features[] = {"dry_run"};

/* A few capabilities: one with a tenant ceiling, one not available. */
static Boxd__V1__Capability cap_none = {
    PROTOBUF_C_MESSAGE_INIT(&boxd__v1__capability__descriptor),
    .name = (char *)"net:none",
    .description = (char *)"The command has no network at all.",
    .has_available = 1,
    .available = 1,
};
static Boxd__V1__Capability cap_memory = {
    PROTOBUF_C_MESSAGE_INIT(&boxd__v1__capability__descriptor),
    .name = (char *)"limit:memory",
    .description = (char *)"The run's memory is capped.",
    .has_available = 1,
    .available = 1,
    .has_ceiling = 1,
    .ceiling = 128u << 20,
};
static Boxd__V1__Capability cap_pids = {
    PROTOBUF_C_MESSAGE_INIT(&boxd__v1__capability__descriptor),
    .name = (char *)"limit:pids",
    .description = (char *)"The number of processes is capped.",
    .has_available = 1,
    .available = 0,
    .reason = (char *)"no cgroup pids controller delegated to boxd",
};
static Boxd__V1__Capability cap_timeout = {
    PROTOBUF_C_MESSAGE_INIT(&boxd__v1__capability__descriptor),
    .name = (char *)"limit:timeout",
    .description = (char *)"The run is killed after a wall-clock time.",
    .has_available = 1,
    .available = 1,
};
static Boxd__V1__Capability *host_capabilities[] = {&cap_none, &cap_memory,
						    &cap_pids, &cap_timeout};

void fake_fill_host(Boxd__V1__HostInfo *h)
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
	h->n_capabilities =
	    sizeof(host_capabilities) / sizeof(host_capabilities[0]);
	h->capabilities = host_capabilities;
}

void fake_send_hello_reply(struct fake *f, uint64_t rid, uint32_t version)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply h = BOXD__V1__HELLO_REPLY__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;

	fake_fill_host(&host);
	h.version = version;
	h.daemon_version = (char *)"9.8.7";
	h.host = &host;
	h.has_uid = h.has_gid = 1;
	h.uid = 1000;
	h.gid = 100;
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &h;
	fake_send_event_id(f, rid, &ev);
}

void fake_send_accepted(struct fake *f, uint64_t rid, uint64_t run_id)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Accepted a = BOXD__V1__ACCEPTED__INIT;

	a.run_id = run_id;
	ev.msg_case = BOXD__V1__EVENT__MSG_ACCEPTED;
	ev.accepted = &a;
	fake_send_event_id(f, rid, &ev);
}

void fake_send_started(struct fake *f, uint64_t rid, uint64_t run_id, int pid)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Started s = BOXD__V1__STARTED__INIT;

	s.run_id = run_id;
	s.has_pid = 1;
	s.pid = pid;
	ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
	ev.started = &s;
	fake_send_event_id(f, rid, &ev);
}

void fake_send_result(struct fake *f, uint64_t rid, uint64_t run_id,
		      Boxd__V1__Termination t, int code, int sig)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Result r = BOXD__V1__RESULT__INIT;

	r.run_id = run_id;
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
	fake_send_event_id(f, rid, &ev);
}

void fake_send_error(struct fake *f, uint64_t rid, Boxd__V1__ErrorCode code,
		     const char *msg, const char *step, int err,
		     uint64_t run_id)
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
	fake_send_event_id(f, rid, &ev);
}

void fake_send_busy(struct fake *f, uint64_t rid, const char *msg,
		    uint32_t retry_after_ms)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;

	e.code = BOXD__V1__ERROR_CODE__BUSY;
	e.message = (char *)msg;
	e.has_retry_after_ms = 1;
	e.retry_after_ms = retry_after_ms;
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	fake_send_event_id(f, rid, &ev);
}

void fake_send_status(struct fake *f, uint64_t rid)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Status st = BOXD__V1__STATUS__INIT;
	Boxd__V1__PoolStats pool = BOXD__V1__POOL_STATS__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;

	fake_fill_host(&host);
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
	pool.has_waiting = 1;
	pool.waiting = 2;
	st.pool = &pool;
	ev.msg_case = BOXD__V1__EVENT__MSG_STATUS;
	ev.status = &st;
	fake_send_event_id(f, rid, &ev);
}

void fake_send_kill_reply(struct fake *f, uint64_t rid, uint64_t run_id)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__KillReply kr = BOXD__V1__KILL_REPLY__INIT;

	kr.run_id = run_id;
	ev.msg_case = BOXD__V1__EVENT__MSG_KILLED;
	ev.killed = &kr;
	fake_send_event_id(f, rid, &ev);
}

void fake_send_empty_list(struct fake *f, uint64_t rid)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__RunList l = BOXD__V1__RUN_LIST__INIT;

	ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
	ev.list = &l;
	fake_send_event_id(f, rid, &ev);
}

void fake_wait_step(struct fake *f)
{
	char c;

	while (read(f->step[0], &c, 1) < 0 && errno == EINTR)
		;
}

void fake_step(struct fake *f)
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
	if (f->sock >= 0)
		shutdown(f->sock, SHUT_RDWR);
	return NULL;
}

void fake_start_at(struct fake *f, int sock, int listen_fd,
		   fake_script_fn script, void *arg)
{
	memset(f, 0, sizeof(*f));
	f->sock = sock;
	f->listen_fd = listen_fd;
	f->script = script;
	f->arg = arg;
	cr_assert_eq(pipe2(f->step, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

void fake_start(struct fake *f, int sock, fake_script_fn script, void *arg)
{
	fake_start_at(f, sock, -1, script, arg);
}

box_client *fake_connect(struct fake *f, fake_script_fn script, void *arg)
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

void fake_join(struct fake *f)
{
	pthread_join(f->thread, NULL);
	if (f->sock >= 0)
		close(f->sock);
	close(f->step[0]);
	close(f->step[1]);
	cr_assert_eq(f->failure[0], '\0', "%s", f->failure);
}

box_spec *simple_spec(void)
{
	box_spec *s;

	cr_assert_eq(box_spec_new(&s), 0);
	cr_assert_eq(box_spec_add_arg(s, "/bin/true"), 0);
	return s;
}

bool is_devnull(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(1, 3);
}

int count_fds(void)
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

json_object *parse_json(const char *text)
{
	json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "not JSON: %s", text);
	return o;
}

json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

bool bytes_is(const ProtobufCBinaryData *b, const char *s)
{
	return b->len == strlen(s) &&
	       (b->len == 0 || memcmp(b->data, s, b->len) == 0);
}

int poll_in(box_client *c, int timeout_ms)
{
	struct pollfd p = {.fd = box_client_fd(c), .events = POLLIN};

	return poll(&p, 1, timeout_ms);
}
