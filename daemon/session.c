/*
 * Connections. A session is one client connection: its identity comes
 * from SO_PEERCRED/SO_PEERGROUPS at accept and never from a message.
 * This file is the connection itself: frames read and checked, events
 * queued and sent (with the fds they carry), the runs in flight, the
 * deadlines. What each request does, and the table that says how many
 * fds it may carry and whether it needs the handshake first, is
 * session-requests.c. A frame that breaks the rules costs the client its
 * connection, never the daemon.
 *
 * The Hello picks the protocol version. Version 2 requests carry ids:
 * every event that answers one carries its id back, a connection may have
 * several runs in flight, and requests may be pipelined; the first answer
 * to a request is always sent before the next request is read. Version 1
 * keeps one run in flight and no ids.
 *
 * Every resource a client controls is bounded: frame size (before any
 * allocation), fds per frame, queued output, runs in flight per
 * connection, connections per tenant. A closed session is freed from the
 * server's graveyard on a later loop turn, never inside the callback that
 * is using it.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decoder.h"
#include "fdpass.h"
#include "frame.h"
#include "log.h"
#include "peer.h"
#include "request.h"
#include "run.h"
#include "server.h"
#include "session-internal.h"

#define OUT_MAX (4u << 20)   /* queued output per connection */
#define FRAMES_PER_WAKEUP 16 /* fairness between clients */
/* Before the Hello is answered a peer is nobody: one small frame, no
 * fds. A Hello is a few dozen bytes. */
#define PREHELLO_FRAME_MAX 4096

struct out_fd {
	uint64_t at; /* offset of its frame's first byte */
	int fd;
	struct out_fd *next;
};

/* ---- sending ---- */

/*
 * One write of queued output: up to the next frame that carries an fd,
 * or that frame's first bytes with its fd attached. The frame reader on
 * the other side takes fds only with a frame's first byte, so an fd
 * never arrives early or with the wrong frame. Returns bytes written,
 * 0 for "try later", -errno when the connection is done.
 */
static ssize_t out_write(struct session *s)
{
	struct out_fd *f = s->out_fds;
	ssize_t n;

	if (f && f->at == s->out_sent) {
		struct evbuffer_iovec v;
		struct iovec iov;

		if (evbuffer_peek(s->out, -1, NULL, &v, 1) < 1)
			return 0;
		iov = (struct iovec){.iov_base = v.iov_base,
				     .iov_len = v.iov_len};
		n = fdpass_send(s->fd, &iov, 1, &f->fd, 1);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n < 0)
			return n;
		evbuffer_drain(s->out, (size_t)n);
		s->out_fds = f->next;
		if (!s->out_fds)
			s->out_fds_tail = &s->out_fds;
		safe_close(f->fd);
		free(f);
	} else {
		n = evbuffer_write_atmost(
		    s->out, s->fd, f ? (ev_ssize_t)(f->at - s->out_sent) : -1);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0
								 : negerrno();
	}
	s->out_sent += (uint64_t)n;
	return n;
}

static void session_flush(struct session *s)
{
	while (evbuffer_get_length(s->out) > 0) {
		ssize_t n = out_write(s);

		if (n < 0) {
			session_close(s);
			return;
		}
		if (n == 0)
			break;
	}
	if (evbuffer_get_length(s->out) > 0)
		event_add(s->wr_ev, NULL);
	else
		event_del(s->wr_ev);
}

void session_send(struct session *s, uint64_t request_id, Boxd__V1__Event *ev)
{
	session_send_fd(s, request_id, ev, -1);
}

void session_send_fd(struct session *s, uint64_t request_id,
		     Boxd__V1__Event *ev, int fd)
{
	session_queue_fd(s, request_id, ev, fd);
	if (s && !s->closing)
		session_flush(s);
}

void session_queue_fd(struct session *s, uint64_t request_id,
		      Boxd__V1__Event *ev, int fd)
{
	_cleanup_close_ int owned = fd;
	uint8_t hdr[FRAME_HEADER_SIZE];
	struct evbuffer_iovec vec;
	size_t len;

	if (!s || s->closing)
		return;
	if (request_id) {
		ev->has_request_id = true;
		ev->request_id = request_id;
	}
	len = boxd__v1__event__get_packed_size(ev);
	/* A client that does not read its events gets dropped rather than
	 * growing our memory without bound. */
	if (evbuffer_get_length(s->out) + len > OUT_MAX) {
		log_warning("uid %u: not reading its events, dropping it",
			    s->peer.cred.uid);
		session_close(s);
		return;
	}
	frame_header(hdr, (uint32_t)len);
	if (owned >= 0) {
		struct out_fd *f = malloc(sizeof(*f));

		if (!f) {
			session_close(s);
			return;
		}
		*f = (struct out_fd){.at = s->out_added, .fd = TAKE_FD(owned)};
		*s->out_fds_tail = f;
		s->out_fds_tail = &f->next;
	}
	if (evbuffer_add(s->out, hdr, sizeof(hdr)) < 0 ||
	    evbuffer_reserve_space(s->out, len, &vec, 1) < 1) {
		session_close(s);
		return;
	}
	boxd__v1__event__pack(ev, vec.iov_base);
	vec.iov_len = len;
	evbuffer_commit_space(s->out, &vec, 1);
	s->out_added += sizeof(hdr) + len;
}

void session_send_error(struct session *s, uint64_t request_id,
			Boxd__V1__ErrorCode code, const char *msg,
			const char *step, int err, uint64_t run_id)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;

	e.code = code;
	e.message = (char *)msg;
	if (step) {
		e.step = (char *)step;
		e.has_errnum = true;
		e.errnum = err;
	}
	if (run_id) {
		e.has_run_id = true;
		e.run_id = run_id;
	}
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	session_send(s, request_id, &ev);
}

void session_send_busy(struct session *s, uint64_t request_id, const char *msg,
		       uint32_t retry_after_ms)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;

	e.code = BOXD__V1__ERROR_CODE__BUSY;
	e.message = (char *)msg;
	e.has_retry_after_ms = true;
	e.retry_after_ms = retry_after_ms;
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	session_send(s, request_id, &ev);
}

/* A protocol violation: say why if we still can, then hang up. */
void session_protocol_error(struct session *s, uint64_t request_id,
			    const char *why)
{
	log_info("uid %u pid %d: protocol error: %s", s->peer.cred.uid,
		 s->peer.cred.pid, why);
	session_send_error(s, request_id, BOXD__V1__ERROR_CODE__PROTOCOL, why,
			   NULL, 0, 0);
	session_close(s);
}

const struct peer *session_peer(const struct session *s)
{
	return &s->peer;
}

/* ---- runs in flight ---- */

struct run *session_find_run(const struct session *s, uint64_t rid)
{
	for (size_t i = 0; i < s->n_runs; i++)
		if (run_request_id(s->runs[i]) == rid)
			return s->runs[i];
	return NULL;
}

int session_add_run(struct session *s, struct run *r)
{
	if (s->n_runs == s->cap_runs) {
		size_t cap = s->cap_runs ? 2 * s->cap_runs : 4;
		struct run **v = reallocarray(s->runs, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->runs = v;
		s->cap_runs = cap;
	}
	s->runs[s->n_runs++] = r;
	return 0;
}

void session_run_ended(struct session *s, struct run *r)
{
	for (size_t i = 0; i < s->n_runs; i++) {
		if (s->runs[i] != r)
			continue;
		memmove(&s->runs[i], &s->runs[i + 1],
			(s->n_runs - i - 1) * sizeof(*s->runs));
		s->n_runs--;
		return;
	}
}

static void session_decoded(struct decode_job *job);

/*
 * A whole frame is in s->rd. A small one is checked and decoded here; a
 * large one off the loop (decoder.h), and reading pauses until it comes
 * back. Returns false when reading must pause.
 */
static bool handle_frame(struct session *s)
{
	struct request_wire info;
	struct error_detail err;
	Boxd__V1__Request *req = NULL;
	struct decode_job *job;
	int r;

	/* Without memory for a job, a large frame is handled here too:
	 * slower for everyone, but the client gets its answer. */
	job = s->rd.body_len > DECODER_INLINE_MAX ? calloc(1, sizeof(*job))
						  : NULL;
	if (!job) {
		r = request_wire_peek(s->rd.body, s->rd.body_len, &info, &err);
		if (r == 0)
			req = boxd__v1__request__unpack(NULL, s->rd.body_len,
							s->rd.body);
		session_handle_checked(s, r, &info, &err, req);
		boxd__v1__request__free_unpacked(req, NULL);
		return true;
	}
	job->body = s->rd.body;
	job->len = s->rd.body_len;
	job->done = session_decoded;
	job->userdata = s;
	s->job = job;
	event_del(s->rd_ev);
	decoder_submit(server_decoder(s->srv), job);
	return false;
}

/* Back on the loop with a large frame handled. The session may have
 * closed meanwhile, or been freed (then the job owns the body). */
static void session_decoded(struct decode_job *job)
{
	struct session *s = job->userdata;

	if (!s) {
		decode_job_dispose(job); /* the body is the job's */
		return;
	}
	s->job = NULL;
	/* A closing session's reader keeps its body and frees it. */
	job->body = NULL;
	if (!s->closing) {
		session_handle_checked(s, job->peek, &job->info, &job->err,
				       job->req);
		job->body = frame_reader_take_body(&s->rd);
		if (!s->closing && !s->held)
			event_add(s->rd_ev, NULL);
	}
	decode_job_dispose(job);
}

/* A read error, said in words the peer can act on. */
static void session_read_failed(struct session *s, int r)
{
	char why[128];

	if (r == -ENOBUFS) {
		log_ratelimited(LOG_WARNING,
				"uid %u: request buffers full (max-buffered); "
				"dropping its connection",
				s->peer.cred.uid);
		session_send_error(s, 0, BOXD__V1__ERROR_CODE__BUSY,
				   "the daemon's buffers for incoming requests "
				   "are full; try again later",
				   NULL, 0, 0);
		session_close(s);
		return;
	}
	if (r == -EMSGSIZE && !s->version)
		snprintf(why, sizeof(why),
			 "frame larger than the daemon's maximum before the "
			 "Hello (%d bytes)",
			 PREHELLO_FRAME_MAX);
	else if (r == -EMSGSIZE)
		snprintf(why, sizeof(why),
			 "frame larger than the daemon's maximum (%u bytes)",
			 s->rd.max);
	else
		snprintf(why, sizeof(why), "%s",
			 r == -EPROTO ? frame_fault_str(s->rd.fault)
				      : "read error");
	session_protocol_error(s, 0, why);
}

static void session_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	bool partial;

	(void)fd;
	(void)what;
	for (int i = 0; i < FRAMES_PER_WAKEUP && !s->closing; i++) {
		int r = frame_read(&s->rd, s->fd);

		if (r == 0)
			break;
		if (r == -ECONNRESET) {
			session_close(s);
			return;
		}
		if (r < 0) {
			session_read_failed(s, r);
			return;
		}
		if (!handle_frame(s))
			return; /* decoding off the loop; reading waits */
		/* fds the handler did not take and the body go now. */
		frame_reader_reset(&s->rd);
		if (s->held)
			return; /* its answer comes later; reading waits */
	}
	if (s->closing || !s->version)
		return;
	/* A frame begun must end within frame-timeout: a peer trickling
	 * bytes holds a buffer and a slot. */
	partial = s->rd.hdr_got > 0 || s->rd.body;
	if (partial && !event_pending(s->timer_ev, EV_TIMEOUT, NULL)) {
		struct timeval tv =
		    ns_to_timeval(cfgref_config(s->cfg)->frame_timeout_ns);

		event_add(s->timer_ev, &tv);
	} else if (!partial) {
		event_del(s->timer_ev);
	}
}

/* The handshake's or a frame's deadline passed. */
static void session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->closing)
		return;
	if (!s->version) {
		log_ratelimited(LOG_NOTICE,
				"uid %u pid %d: no Hello in time; closing",
				s->peer.cred.uid, s->peer.cred.pid);
		session_protocol_error(s, 0,
				       "no Hello within handshake-timeout");
		return;
	}
	log_ratelimited(LOG_NOTICE,
			"uid %u pid %d: a frame was not completed in time; "
			"closing",
			s->peer.cred.uid, s->peer.cred.pid);
	session_protocol_error(
	    s, 0, "a frame was not completed within frame-timeout");
}

static void session_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_flush(arg);
}

/* A held session's peer hung up: nobody is left to answer, and the run
 * it waits for is dropped (run_detach()). */
static void session_hup_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_close(arg);
}

void session_hold(struct session *s)
{
	s->held = true;
	event_del(s->rd_ev);
	/* No frame is half read: the deadline of one does not run. */
	event_del(s->timer_ev);
	/* Requests the peer sends meanwhile wait in the socket; its
	 * hang-up does not. */
	event_add(s->hup_ev, NULL);
}

void session_release(struct session *s)
{
	s->held = false;
	event_del(s->hup_ev);
	if (!s->closing && !s->job)
		event_add(s->rd_ev, NULL);
}

void session_close(struct session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	event_del(s->rd_ev);
	event_del(s->wr_ev);
	event_del(s->timer_ev);
	event_del(s->hup_ev);
	for (size_t i = 0; i < s->n_runs; i++)
		run_detach(s->runs[i]);
	s->n_runs = 0;
	server_session_closed(s->srv, s, s->peer.cred.uid, s->version != 0);
}

void session_free(struct session *s)
{
	/* A last error sent just before closing: one more non-blocking try
	 * to get it out. */
	if (s->out && evbuffer_get_length(s->out) > 0)
		(void)out_write(s);
	while (s->out_fds) {
		struct out_fd *f = s->out_fds;

		s->out_fds = f->next;
		safe_close(f->fd);
		free(f);
	}
	if (s->job) {
		/* Still being decoded: the job keeps the body and frees it. */
		s->job->userdata = NULL;
		s->rd.body = NULL;
	}
	if (s->rd_ev)
		event_free(s->rd_ev);
	if (s->wr_ev)
		event_free(s->wr_ev);
	if (s->timer_ev)
		event_free(s->timer_ev);
	if (s->hup_ev)
		event_free(s->hup_ev);
	if (s->out)
		evbuffer_free(s->out);
	frame_reader_reset(&s->rd);
	safe_close(s->fd);
	cfgref_unref(s->cfg);
	free(s->runs);
	peer_done(&s->peer);
	if (s->is_confined)
		tenant_release(&s->confined);
	free(s);
}

/* ---- accepting ---- */

struct session *session_new(struct server *srv, int fd, struct peer *peer)
{
	const struct config *cfg = server_config(srv);
	struct session *s = calloc(1, sizeof(*s));
	struct timeval handshake;

	if (!s) {
		close(fd);
		peer_done(peer);
		return NULL;
	}
	s->peer = *peer;
	s->srv = srv;
	s->fd = fd;
	/* Until the Hello is answered: a few KiB, no fds, and charged to
	 * the daemon-wide budget like every request body. */
	frame_reader_init(&s->rd, PREHELLO_FRAME_MAX);
	s->rd.max_fds = 0;
	s->rd.budget = server_frame_budget(srv);
	s->out = evbuffer_new();
	s->out_fds_tail = &s->out_fds;
	s->rd_ev = event_new(server_base(srv), fd, EV_READ | EV_PERSIST,
			     session_read_cb, s);
	s->wr_ev =
	    event_new(server_base(srv), fd, EV_WRITE, session_write_cb, s);
	s->timer_ev = evtimer_new(server_base(srv), session_timer_cb, s);
	s->hup_ev =
	    event_new(server_base(srv), fd, EV_CLOSED, session_hup_cb, s);
	if (!s->out || !s->rd_ev || !s->wr_ev || !s->timer_ev || !s->hup_ev) {
		s->closing = true;
		session_free(s);
		return NULL;
	}
	handshake = ns_to_timeval(cfg->handshake_timeout_ns);
	event_add(s->rd_ev, NULL);
	event_add(s->timer_ev, &handshake);
	return s;
}
