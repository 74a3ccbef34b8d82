/*
 * libboxclient's connection: connect and handshake, send request frames,
 * read event frames and route each event by its request id to the run or
 * to the pending kill/list/status request it answers, so any number of
 * requests may be in flight and their answers may interleave.
 *
 * Routing never guesses. An event names the request it answers; the run
 * or request with that id decides what the event means to it (run.c,
 * requests.c). The connection itself only handles what concerns all of
 * them: the handshake, an Error{PROTOCOL} or an Error that names no
 * request (the daemon closes the connection after either), and events
 * that break the protocol (no id, or a kind that cannot answer the
 * request named), which fail the connection as the daemon's fault.
 *
 * A dispatch call must never block; nothing here may raise SIGPIPE (the
 * sender is frame_send(), MSG_NOSIGNAL), log, or exit. Once a frame has
 * been half sent or a bad frame read, the stream is out of step: the
 * connection is marked broken and everything in flight on it fails.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
	c->event_fd = -1;
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

int conn_check(const box_client *c)
{
	if (c->fd < 0 || !c->connected)
		return -ENOTCONN;
	return c->broken;
}

/*
 * The connection can no longer be used: every run in flight and every
 * pending request fails. e (taken; NULL: made from err) says why and
 * becomes each run's record.
 */
static void conn_fail(box_client *c, int err, struct box_error *e)
{
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
	run_fail_all(c, e);
	request_fail_all(c, err);
	conn_set_last_error(c, e);
}

/* The daemon broke the protocol: our record says how; -EPROTO for all. */
static void conn_fail_protocol(box_client *c, const char *fmt, ...)
    _printf_(2, 3);

static void conn_fail_protocol(box_client *c, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conn_fail(c, -EPROTO, error_new(BOX_ERROR_CLIENT, buf, NULL, EPROTO));
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

int conn_send(box_client *c, Boxd__V1__Request *req, const int *fds,
	      size_t n_fds, uint64_t *ret_request_id)
{
	_cleanup_free_ uint8_t *body = NULL;
	bool partial = false;
	uint64_t id;
	size_t len;
	int r;

	if (c->fd < 0)
		return -ENOTCONN;
	if (c->broken)
		return c->broken;
	if (n_fds > FRAME_MAX_FDS)
		return -EINVAL;

	/*
	 * A counter never hands out 0 or an id still in flight: it would
	 * take 2^64 requests on one connection to wrap.
	 */
	id = ++c->last_request_id;
	req->has_request_id = true;
	req->request_id = id;

	len = boxd__v1__request__get_packed_size(req);
	/* The daemon drops a connection that announces a larger frame. */
	if (len > FRAME_MAX_DEFAULT)
		return -EMSGSIZE;
	body = malloc(len > 0 ? len : 1);
	if (!body)
		return -ENOMEM;
	boxd__v1__request__pack(req, body);

	/*
	 * frame_send() waits in poll() while the socket is full, so a send
	 * may block (never inside dispatch but for a deferred kill, a frame
	 * of a few bytes). It says whether part of the frame went out: that
	 * decides between "this request failed" (the stream is intact) and
	 * "the stream is out of step" (the connection is done).
	 */
	r = frame_send(c->fd, body, (uint32_t)len, fds, n_fds, &partial);
	if (r < 0) {
		/* Nothing went out and the peer is still there: only this
		 * request failed (a bad fd among its stdio, ...). */
		if (!partial && r != -EPIPE && r != -ECONNRESET &&
		    r != -ENOTCONN)
			return r;
		conn_fail_after_send(c, r);
		return c->broken;
	}
	if (ret_request_id)
		*ret_request_id = id;
	return 0;
}

static const char *event_name(Boxd__V1__Event__MsgCase kind)
{
	/* int: protobuf-c adds a sizing member no switch should name. */
	switch ((int)kind) {
	case BOXD__V1__EVENT__MSG_HELLO:
		return "a HelloReply";
	case BOXD__V1__EVENT__MSG_ACCEPTED:
		return "an Accepted";
	case BOXD__V1__EVENT__MSG_STARTED:
		return "a Started";
	case BOXD__V1__EVENT__MSG_RESULT:
		return "a Result";
	case BOXD__V1__EVENT__MSG_ERROR:
		return "an Error";
	case BOXD__V1__EVENT__MSG_LIST:
		return "a RunList";
	case BOXD__V1__EVENT__MSG_KILLED:
		return "a KillReply";
	case BOXD__V1__EVENT__MSG_STATUS:
		return "a Status";
	case BOXD__V1__EVENT__MSG_PLAN:
		return "a Plan";
	default:
		return "an event";
	}
}

/*
 * The answer to our Hello (takes ev). The version is checked first: a
 * daemon that chose another version may not speak of request ids at all.
 */
static void conn_handle_handshake(box_client *c, Boxd__V1__Event *ev)
{
	struct box_error *e;
	char buf[512];

	switch ((int)ev->msg_case) {
	case BOXD__V1__EVENT__MSG_HELLO:
		if (!ev->hello->daemon_version) {
			conn_fail_protocol(c, "boxd's HelloReply has no "
					      "daemon version");
			break;
		}
		if (ev->hello->version == BOX_PROTOCOL_VERSION &&
		    (!ev->has_request_id ||
		     ev->request_id != c->hello_request_id)) {
			conn_fail_protocol(c,
					   "boxd's HelloReply does not carry "
					   "the Hello's request id");
			break;
		}
		/* box_client_connect_fd() judges the version. */
		c->hello = ev->hello;
		ev->hello = NULL;
		ev->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
		break;
	case BOXD__V1__EVENT__MSG_ERROR:
		/*
		 * Refused, and the daemon closes the connection. Our only
		 * request is a well-formed Hello offering one version, so a
		 * PROTOCOL error means that version is not the daemon's.
		 */
		if (ev->error->code != BOXD__V1__ERROR_CODE__PROTOCOL) {
			e = error_from_pb(ev->error);
			conn_fail(c, e ? error_code_to_errno(e->code) : -ENOMEM,
				  e);
			break;
		}
		snprintf(buf, sizeof(buf),
			 "boxd refused the handshake (this library speaks "
			 "protocol version %u only): %s",
			 BOX_PROTOCOL_VERSION, ev->error->message);
		e = error_new(BOX_ERROR_PROTOCOL, buf, NULL, 0);
		conn_fail(c, e ? -EPROTONOSUPPORT : -ENOMEM, e);
		break;
	case BOXD__V1__EVENT__MSG__NOT_SET:
		/* An event of a newer protocol: not ours to judge. */
		break;
	default:
		conn_fail_protocol(c, "boxd sent %s before its HelloReply",
				   event_name(ev->msg_case));
		break;
	}
	boxd__v1__event__free_unpacked(ev, NULL);
}

/*
 * An Error the daemon closes the connection after: PROTOCOL, whatever
 * request it names, and any Error that names no request (one for a frame
 * that could not be read or decoded). It ends everything in flight.
 */
static bool conn_error_closes(const Boxd__V1__Event *ev)
{
	return ev->msg_case == BOXD__V1__EVENT__MSG_ERROR &&
	       (ev->error->code == BOXD__V1__ERROR_CODE__PROTOCOL ||
		!ev->has_request_id);
}

/* Route one event to whoever its request id names; takes ev. */
static void conn_handle(box_client *c, Boxd__V1__Event *ev)
{
	Boxd__V1__Event__MsgCase kind = ev->msg_case;
	struct pending_request *p;
	struct box_run *run;
	uint64_t id = ev->request_id;
	int r;

	if (c->handshaking) {
		conn_handle_handshake(c, ev);
		return;
	}
	if (kind == BOXD__V1__EVENT__MSG__NOT_SET) {
		/* An event of a newer protocol: ignored. */
		boxd__v1__event__free_unpacked(ev, NULL);
		return;
	}
	if (conn_error_closes(ev)) {
		struct box_error *e = error_from_pb(ev->error);

		conn_fail(c, e ? -EPROTO : -ENOMEM, e);
		boxd__v1__event__free_unpacked(ev, NULL);
		return;
	}
	if (!ev->has_request_id) {
		boxd__v1__event__free_unpacked(ev, NULL);
		conn_fail_protocol(c, "boxd sent %s without a request id",
				   event_name(kind));
		return;
	}

	run = run_find(c, id);
	p = run ? NULL : request_find(c, id);
	if (run)
		r = run_handle_event(run, ev);
	else if (p)
		r = request_handle_event(c, p, ev);
	else {
		/*
		 * No request of ours waits for this id: an answer to a
		 * request already answered. An Error stays where the caller
		 * can look; anything else is dropped.
		 */
		if (kind == BOXD__V1__EVENT__MSG_ERROR)
			conn_set_last_error(c, error_from_pb(ev->error));
		boxd__v1__event__free_unpacked(ev, NULL);
		return;
	}
	if (r < 0)
		conn_fail_protocol(
		    c, "boxd answered request %" PRIu64 " (%s) with %s", id,
		    run ? "a run" : "a kill, list or status", event_name(kind));
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
		/*
		 * -ECONNRESET: end-of-file between frames, or the reset a
		 * daemon's close causes while it had bytes of ours unread;
		 * either way the daemon is gone, and alike for us.
		 */
		if (r < 0) {
			conn_fail(c, r, NULL);
			break;
		}
		ev = boxd__v1__event__unpack(NULL, c->reader.body_len,
					     c->reader.body);
		/* One fd may come with an event: a tty run's Started takes
		 * it (run.c); every other fd closes here, unused. */
		if (ev && ev->msg_case == BOXD__V1__EVENT__MSG_STARTED &&
		    c->reader.n_fds == 1) {
			c->event_fd = c->reader.fds[0];
			c->reader.fds[0] = -1;
		}
		frame_reader_reset(&c->reader);
		if (!ev) {
			r = -EPROTO;
			conn_fail(c, r, NULL);
			break;
		}
		conn_handle(c, ev);
		c->event_fd = safe_close(c->event_fd);
	}
	c->dispatching = false;
	return r;
}

int conn_wait(box_client *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int n;

	if (c->fd < 0)
		return -ENOTCONN;
	if (c->broken)
		return c->broken;
	n = poll(&pfd, 1, box_client_timeout(c));
	if (n < 0)
		return errno == EINTR ? 0 : negerrno();
	return box_client_dispatch(c);
}

int box_client_dispatch(box_client *c)
{
	int r;

	if (!c)
		return -EINVAL;
	if (c->fd < 0)
		return -ENOTCONN;
	r = conn_read(c);
	if (r < 0)
		return r;
	run_send_due(c);
	return conn_check(c);
}

int box_client_timeout(const box_client *c)
{
	uint64_t next, now;

	if (!c)
		return -1;
	next = run_next_due_ns(c);
	if (!next)
		return -1;
	now = now_ns();
	if (next <= now)
		return 0;
	/* Rounded up: waking a little late beats spinning early. */
	next = (next - now + 999999) / 1000000;
	return next > INT_MAX ? INT_MAX : (int)next;
}

int box_client_set_busy_retries(box_client *c, unsigned retries)
{
	if (!c)
		return -EINVAL;
	c->busy_retries = retries;
	return 0;
}

/* Back to "not connected", keeping name and last error. */
static void conn_reset(box_client *c)
{
	run_detach_all(c);
	request_drop_all(c);
	frame_reader_reset(&c->reader);
	c->fd = safe_close(c->fd);
	host_info_free(c->host);
	c->host = NULL;
	boxd__v1__hello_reply__free_unpacked(c->hello, NULL);
	c->hello = NULL;
	c->handshaking = false;
	c->connected = false;
	c->broken = 0;
	c->last_request_id = 0;
	c->hello_request_id = 0;
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
	/* The Hello carries a request id too, so every request has one. */
	r = conn_send(c, &req, NULL, 0, &c->hello_request_id);
	while (r >= 0 && !c->hello && !c->broken)
		r = conn_wait(c);
	c->handshaking = false;
	/* A version we do not speak is the answer, whatever follows it. */
	if (c->hello && c->hello->version != BOX_PROTOCOL_VERSION) {
		conn_client_error(
		    c, -EPROTONOSUPPORT,
		    "boxd chose protocol version %u; this library "
		    "speaks version %u only",
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
