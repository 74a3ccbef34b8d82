/*
 * What the two halves of a session share: session.c, the connection
 * (frames in, events out, the runs in flight, the deadlines), and
 * session-requests.c, what each request does. Nothing else includes
 * this; everyone else sees session.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "box.pb-c.h"
#include "config.h"
#include "error.h"
#include "frame.h"
#include "peer.h"
#include "request.h"
#include "session.h"

struct cfgref;
struct decode_job;
struct event;
struct evbuffer;
struct out_fd;
struct run;

struct session {
	struct server *srv;
	int fd;
	struct event *rd_ev, *wr_ev;
	/* While held (session_hold()): the peer's hang-up, read or not. */
	struct event *hup_ev;
	struct evbuffer *out;
	struct frame_reader rd;
	struct peer peer;
	/* Before the Hello: the handshake's deadline; after: the deadline of
	 * the frame being read, pending only while one is. */
	struct event *timer_ev;
	/* A large frame being decoded off the loop: reading waits for it,
	 * so requests are still handled in order. */
	struct decode_job *job;
	struct cfgref *cfg; /* the policy the Hello was answered under */
	/* From inside a run, with sandbox-peers = confined: the tenant,
	 * narrowed to what that run may do (s->tenant points here). */
	struct tenant_policy confined;
	bool is_confined;
	const struct tenant_policy *tenant;
	uint32_t version; /* 0 until the Hello is answered */
	bool closing;
	bool held;         /* session_hold(): reading waits */
	struct run **runs; /* in flight, in start order */
	size_t n_runs, cap_runs;
	/* fds queued with their frames, oldest first: each goes out on the
	 * sendmsg() of its frame's first byte. Offsets count every byte
	 * ever queued on out; out_sent the ones written. */
	struct out_fd *out_fds, **out_fds_tail;
	uint64_t out_added, out_sent;
};

/* PROTOCOL error for request_id, then hang up: the client broke the
 * protocol, and nothing it sends after that can be trusted to line up. */
void session_protocol_error(struct session *s, uint64_t request_id,
			    const char *why);

/* The run in flight with request id rid, or NULL. */
struct run *session_find_run(const struct session *s, uint64_t rid);
/* Count r among the runs in flight (NULL: only make room for one).
 * -ENOMEM. */
int session_add_run(struct session *s, struct run *r);

/*
 * A frame checked on the wire (request_wire_peek()'s result r, info and
 * err) and, if it passed, decoded into req (NULL: not a Request; it
 * stays the caller's): answer it. A request over a cap is refused
 * without having been decoded.
 */
void session_handle_checked(struct session *s, int r,
			    const struct request_wire *info,
			    const struct error_detail *err,
			    Boxd__V1__Request *req);
