/*
 * libboxclient's connection: connect and handshake, send request frames,
 * read event frames and route each event to the run or to the pending
 * kill/list/status request it answers, so replies may interleave with a
 * run's events. A dispatch call must never block; nothing here may raise
 * SIGPIPE (every send is MSG_NOSIGNAL), log, or exit. Once a frame has
 * been half sent or a bad frame read, the stream is out of step: the
 * connection is marked broken and everything waiting on it fails.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "config-build.h"
#include "internal.h"

#define CLIENT_NAME_DEFAULT "libboxclient " BOXD_VERSION

const char *box_version(void)
{
	return BOXD_VERSION;
}

const char *box_socket_path(const char *path)
{
	const char *env;

	if (path)
		return path;
	/* secure_getenv: a set-uid caller must not be pointed elsewhere. */
	env = secure_getenv("BOXD_SOCKET");
	if (env && *env)
		return env;
	return BOXD_DEFAULT_SOCKET;
}

int box_client_new(box_client **ret_client)
{
	box_client *c;

	if (!ret_client)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	frame_reader_init(&c->reader, FRAME_MAX_DEFAULT);
	*ret_client = c;
	return 0;
}

int box_client_set_name(box_client *c, const char *name)
{
	char *copy;

	if (!c || !name)
		return -EINVAL;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	free(c->name);
	c->name = copy;
	return 0;
}

void conn_set_last_error(box_client *c, struct box_error *e)
{
	error_free(c->last_error);
	c->last_error = e;
}

void conn_client_error(box_client *c, int err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conn_set_last_error(c, error_new(BOX_ERROR_CLIENT, buf, NULL, -err));
}

/*
 * The connection can no longer be used: finish the run in flight and
 * every pending request with err. e (taken; NULL: made from err) says why.
 */
static void conn_fail(box_client *c, int err, struct box_error *e)
{
	struct pending_request *p, *next;

	if (c->broken) {
		error_free(e);
		return;
	}
	c->broken = err;
	if (!e) {
		char buf[256];

		if (err == -ECONNRESET)
			snprintf(buf, sizeof(buf),
				 "boxd closed the connection");
		else if (err == -EMSGSIZE)
			snprintf(buf, sizeof(buf),
				 "boxd sent an oversized frame");
		else if (err == -EPROTO)
			snprintf(buf, sizeof(buf),
				 "boxd sent a malformed frame");
		else
			snprintf(buf, sizeof(buf),
				 "connection to boxd failed: %s",
				 strerror(-err));
		e = error_new(BOX_ERROR_CLIENT, buf, NULL, -err);
	}
	if (c->run)
		run_on_error(c->run, error_dup(e));
	for (p = c->requests; p; p = next) {
		next = p->next;
		/* Answered ones keep their answer for their waiter. */
		if (!p->done)
			request_complete(c, p, err, NULL);
	}
	conn_set_last_error(c, e);
}

static int conn_read(box_client *c);

/*
 * The daemon hung up on us. It may have said why (an Error{PROTOCOL}
 * ahead of the close): take that in first, unless we are already inside
 * a dispatch, whose loop will find it.
 */
static void conn_fail_after_send(box_client *c, int err)
{
	if (!c->dispatching)
		(void)conn_read(c);
	conn_fail(c, err, NULL);
}

int conn_send(box_client *c, const Boxd__V1__Request *req, const int *fds,
	      size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FRAME_MAX_FDS)];
		struct cmsghdr align;
	} control;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len, total, sent = 0;

	if (c->fd < 0)
		return -ENOTCONN;
	if (c->broken)
		return c->broken;
	if (n_fds > FRAME_MAX_FDS)
		return -EINVAL;
	len = boxd__v1__request__get_packed_size(req);
	/* The daemon drops a connection that announces a larger frame. */
	if (len > FRAME_MAX_DEFAULT)
		return -EMSGSIZE;
	total = FRAME_HEADER_SIZE + len;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	frame_header(buf, (uint32_t)len);
	boxd__v1__request__pack(req, buf + FRAME_HEADER_SIZE);

	while (sent < total) {
		struct iovec iov = {.iov_base = buf + sent,
				    .iov_len = total - sent};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		/* The fds ride on the sendmsg with the frame's first byte. */
		if (sent == 0 && n_fds > 0) {
			struct cmsghdr *cm;

			memset(&control, 0, sizeof(control));
			mh.msg_control = control.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			if (r == -EAGAIN || r == -EWOULDBLOCK) {
				struct pollfd pfd = {.fd = c->fd,
						     .events = POLLOUT};

				if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
					r = -errno;
					conn_fail(c, r, NULL);
					return r;
				}
				continue;
			}
			/*
			 * Nothing sent and a reason that is about this
			 * request (a bad fd, memory): the stream is intact.
			 */
			if (sent == 0 &&
			    (r == -EBADF || r == -EINVAL || r == -ENOMEM ||
			     r == -ENOBUFS || r == -ETOOMANYREFS))
				return r;
			conn_fail_after_send(c, r);
			return c->broken;
		}
		sent += (size_t)n;
	}
	return 0;
}

/* p failed with e (taken): the waiter finds e in last_error. */
static void request_fail(box_client *c, struct pending_request *p,
			 struct box_error *e)
{
	int ret = error_code_to_errno(e->code);

	if (p->discard)
		error_free(e);
	else
		conn_set_last_error(c, e);
	request_complete(c, p, ret, NULL);
}

/*
 * Errors carry no request id, so they are matched on what they say:
 *  - PROTOCOL ends the connection;
 *  - NOT_FOUND, and BAD_REQUEST or DENIED naming a run with a kill
 *    pending for it, answer that kill;
 *  - otherwise the run claims errors naming it, and unnamed ones while
 *    it has no id yet (refusals come before Accepted);
 *  - the rest answer the oldest pending request.
 */
static void conn_handle_error(box_client *c, const Boxd__V1__Error *pb)
{
	struct box_error *e = error_from_pb(pb);
	struct pending_request *p;
	struct box_run *run = c->run;

	if (!e) {
		conn_fail(c, -ENOMEM, NULL);
		return;
	}
	if (c->handshaking) {
		conn_fail(c, error_code_to_errno(e->code), e);
		return;
	}
	/* The daemon closes the connection after a PROTOCOL error. */
	if (e->code == BOX_ERROR_PROTOCOL) {
		conn_fail(c, -EPROTO, e);
		return;
	}
	if (e->code == BOX_ERROR_NOT_FOUND ||
	    (e->has_run_id && (e->code == BOX_ERROR_BAD_REQUEST ||
			       e->code == BOX_ERROR_DENIED))) {
		p = request_find(c, REQUEST_KILL, e->has_run_id, e->run_id);
		if (p && (!e->has_run_id || p->run_id == e->run_id ||
			  e->code == BOX_ERROR_NOT_FOUND)) {
			request_fail(c, p, e);
			return;
		}
	}
	if (run && (e->has_run_id ? !run->has_id || run->id == e->run_id
				  : run->state == BOX_RUN_PENDING)) {
		run_on_error(run, e);
		return;
	}
	p = request_find_oldest(c);
	if (p) {
		request_fail(c, p, e);
		return;
	}
	if (run) {
		run_on_error(run, e);
		return;
	}
	/* Nothing asked for it: keep it where the caller can look. */
	conn_set_last_error(c, e);
}

/* Route one event; takes ev. */
static void conn_handle(box_client *c, Boxd__V1__Event *ev)
{
	struct box_run *run = c->run;
	struct pending_request *p;

	/* int: protobuf-c adds a sizing member no switch should name. */
	switch ((int)ev->msg_case) {
	case BOXD__V1__EVENT__MSG_HELLO:
		if (!c->handshaking || c->hello || !ev->hello->daemon_version) {
			conn_fail(c, -EPROTO, NULL);
			break;
		}
		c->hello = ev->hello;
		ev->hello = NULL;
		ev->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
		break;
	case BOXD__V1__EVENT__MSG_ACCEPTED:
		/* A dry run is never accepted: it is answered by a Plan. */
		if (!run || run->dry_run || run->state != BOX_RUN_PENDING)
			break;
		run_on_accepted(run, ev->accepted->run_id);
		if (run->kill_signal) {
			int sig = run->kill_signal;

			run->kill_signal = 0;
			/* Failure breaks the connection, which ends the run. */
			(void)conn_send_kill(c, run->id, sig, NULL);
		}
		break;
	case BOXD__V1__EVENT__MSG_STARTED:
		if (run && (!run->has_id || run->id == ev->started->run_id))
			run_on_started(run, ev->started);
		break;
	case BOXD__V1__EVENT__MSG_RESULT:
		if (run && (!run->has_id || run->id == ev->result->run_id)) {
			run_on_result(run, ev->result);
			ev->result = NULL;
			ev->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
		}
		break;
	case BOXD__V1__EVENT__MSG_PLAN:
		/* Only a dry run in flight asked for one. */
		if (run && run->dry_run && run->state == BOX_RUN_PENDING) {
			run_on_plan(run, ev->plan);
			ev->plan = NULL;
			ev->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
		}
		break;
	case BOXD__V1__EVENT__MSG_ERROR:
		conn_handle_error(c, ev->error);
		break;
	case BOXD__V1__EVENT__MSG_LIST:
		p = request_find(c, REQUEST_LIST, false, 0);
		if (p) {
			request_complete(c, p, 0, ev);
			return;
		}
		break;
	case BOXD__V1__EVENT__MSG_KILLED:
		p = request_find(c, REQUEST_KILL, true, ev->killed->run_id);
		if (p) {
			request_complete(c, p, 0, ev);
			return;
		}
		break;
	case BOXD__V1__EVENT__MSG_STATUS:
		p = request_find(c, REQUEST_STATUS, false, 0);
		if (p) {
			request_complete(c, p, 0, ev);
			return;
		}
		break;
	case BOXD__V1__EVENT__MSG__NOT_SET:
	default:
		/* Unknown events are ignored (a newer daemon). */
		break;
	}
	boxd__v1__event__free_unpacked(ev, NULL);
}

/* Read and route every whole frame the socket holds, without blocking. */
static int conn_read(box_client *c)
{
	int r = 0;

	c->dispatching = true;
	for (;;) {
		Boxd__V1__Event *ev;

		if (c->broken) {
			r = c->broken;
			break;
		}
		r = frame_read(&c->reader, c->fd);
		if (r == 0 || r == -EAGAIN || r == -EWOULDBLOCK) {
			r = 0;
			break;
		}
		if (r == -EINTR)
			continue;
		if (r < 0) {
			conn_fail(c, r, NULL);
			break;
		}
		ev = boxd__v1__event__unpack(NULL, c->reader.body_len,
					     c->reader.body);
		/* Events carry no fds: reset closes any that came along. */
		frame_reader_reset(&c->reader);
		if (!ev) {
			r = -EPROTO;
			conn_fail(c, r, NULL);
			break;
		}
		conn_handle(c, ev);
	}
	c->dispatching = false;
	return r;
}

int conn_wait(box_client *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

	if (c->fd < 0)
		return -ENOTCONN;
	if (c->broken)
		return c->broken;
	if (poll(&pfd, 1, -1) < 0)
		return errno == EINTR ? 0 : negerrno();
	return conn_read(c);
}

int box_client_dispatch(box_client *c)
{
	if (!c)
		return -EINVAL;
	if (c->fd < 0)
		return -ENOTCONN;
	return conn_read(c);
}

/* Back to "not connected", keeping name and last error. */
static void conn_reset(box_client *c)
{
	struct pending_request *p;

	if (c->run)
		run_detach(c->run);
	c->run = NULL;
	while ((p = c->requests)) {
		c->requests = p->next;
		request_free(p);
	}
	frame_reader_reset(&c->reader);
	c->fd = safe_close(c->fd);
	host_info_free(c->host);
	c->host = NULL;
	boxd__v1__hello_reply__free_unpacked(c->hello, NULL);
	c->hello = NULL;
	c->handshaking = false;
	c->connected = false;
	c->broken = 0;
}

int box_client_connect_fd(box_client *c, int fd)
{
	_cleanup_close_ int sock = fd;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	uint32_t versions[] = {BOX_PROTOCOL_VERSION};
	int flags, r;

	if (!c)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	if (c->fd >= 0)
		return -EISCONN;
	conn_set_last_error(c, NULL);

	/*
	 * Non-blocking: dispatch must never wait, and sends wait in poll()
	 * rather than in the kernel.
	 */
	flags = fcntl(sock, F_GETFL);
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(sock, F_SETFD, FD_CLOEXEC) < 0) {
		r = negerrno();
		conn_client_error(c, r, "socket: %s", strerror(-r));
		return r;
	}
	c->fd = TAKE_FD(sock);
	c->handshaking = true;

	hello.n_versions = ELEMENTSOF(versions);
	hello.versions = versions;
	hello.client = c->name ? c->name : (char *)CLIENT_NAME_DEFAULT;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	r = conn_send(c, &req, NULL, 0);
	while (r >= 0 && !c->hello && !c->broken)
		r = conn_wait(c);
	c->handshaking = false;
	/* A version we do not speak is the answer, whatever follows it. */
	if (c->hello && c->hello->version != BOX_PROTOCOL_VERSION) {
		conn_client_error(
		    c, -EPROTONOSUPPORT,
		    "boxd chose protocol version %u; this library "
		    "speaks %u",
		    c->hello->version, BOX_PROTOCOL_VERSION);
		conn_reset(c);
		return -EPROTONOSUPPORT;
	}
	/*
	 * The HelloReply makes the handshake; should the daemon hang up
	 * right after it, the next call says so.
	 */
	if (!c->hello) {
		if (r >= 0)
			r = c->broken ? c->broken : -EPROTO;
		if (!c->last_error)
			conn_client_error(c, r, "handshake with boxd: %s",
					  strerror(-r));
		conn_reset(c);
		return r;
	}
	if (c->hello->host) {
		c->host = host_info_new(c->hello->host);
		if (!c->host) {
			conn_reset(c);
			return -ENOMEM;
		}
	}
	c->connected = true;
	return 0;
}

int box_client_connect(box_client *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	socklen_t salen;
	size_t len;
	const char *p;

	if (!c)
		return -EINVAL;
	if (c->fd >= 0)
		return -EISCONN;
	p = box_socket_path(path);
	len = strlen(p);
	if (len == 0) {
		conn_client_error(c, -EINVAL, "empty socket path");
		return -EINVAL;
	}
	if (len >= sizeof(sa.sun_path)) {
		conn_client_error(c, -ENAMETOOLONG, "socket path too long: %s",
				  p);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, p, len);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	/* "@name" is a socket in the abstract namespace. */
	if (p[0] == '@') {
		sa.sun_path[0] = '\0';
		salen--;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = negerrno();

		conn_client_error(c, r, "socket: %s", strerror(-r));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		int r = negerrno();

		conn_client_error(c, r, "cannot connect to boxd at %s: %s", p,
				  strerror(-r));
		return r;
	}
	return box_client_connect_fd(c, TAKE_FD(fd));
}

int box_connect(const char *path, box_client **ret_client)
{
	box_client *c;
	int r;

	if (!ret_client)
		return -EINVAL;
	r = box_client_new(&c);
	if (r < 0)
		return r;
	r = box_client_connect(c, path);
	if (r < 0) {
		box_client_free(c);
		return r;
	}
	*ret_client = c;
	return 0;
}

box_client *box_client_free(box_client *c)
{
	if (!c)
		return NULL;
	conn_reset(c);
	error_free(c->last_error);
	free(c->name);
	free(c);
	return NULL;
}

const box_error *box_client_last_error(const box_client *c)
{
	return c ? c->last_error : NULL;
}

int box_client_fd(const box_client *c)
{
	return c ? c->fd : -1;
}

uint32_t box_client_protocol_version(const box_client *c)
{
	return c && c->connected ? c->hello->version : 0;
}

const char *box_client_daemon_version(const box_client *c)
{
	return c && c->connected ? c->hello->daemon_version : NULL;
}

const box_host_info *box_client_host(const box_client *c)
{
	return c && c->connected ? c->host : NULL;
}

int64_t box_client_uid(const box_client *c)
{
	return c && c->connected && c->hello->has_uid ? (int64_t)c->hello->uid
						      : -1;
}

int64_t box_client_gid(const box_client *c)
{
	return c && c->connected && c->hello->has_gid ? (int64_t)c->hello->gid
						      : -1;
}
