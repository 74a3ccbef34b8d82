/*
 * A session is one client connection. Its identity (uid, gid, groups)
 * comes from SO_PEERCRED/SO_PEERGROUPS at accept and never from a
 * message. It reads frames, dispatches requests from a table that says
 * what each may carry and whether it needs the handshake first, and sends
 * events back. A client's bad frame costs it its connection, never the
 * daemon.
 *
 * Protocol versions: the Hello picks 1 or 2. In version 2 every request
 * after the Hello carries a request id, unique among the connection's
 * requests in flight, and every event that answers it carries it back;
 * a connection may have several runs in flight. Version 1 has one run at
 * a time and no ids.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "box.pb-c.h"

struct server;
struct session;
struct run;

/* Take an accepted connection and its placed peer (both the session's
 * from here on). NULL if it could not be set up; fd is closed and the
 * peer released then. */
struct peer;
struct session *session_new(struct server *srv, int fd, struct peer *peer);

/* Hang up: stop reading, detach the runs in flight (those started with
 * die_with_client die), and hand the session to the server's graveyard.
 * Safe to call more than once. */
void session_close(struct session *s);
/* Only from the server's graveyard. */
void session_free(struct session *s);

/* Send ev (an event for request_id, 0: none) on the connection; a
 * client that does not read its events is dropped. */
void session_send(struct session *s, uint64_t request_id, Boxd__V1__Event *ev);
/* The same, with fd (taken, closed in every case; -1: none) riding on
 * the frame's first byte: a tty run's Started. */
void session_send_fd(struct session *s, uint64_t request_id,
		     Boxd__V1__Event *ev, int fd);
/* The same, but the frame waits for the session's next send, which
 * writes both at once: only where another event surely follows in the
 * same turn of the loop (a short run's Started, then its Result: one
 * wake-up of the client, not two). */
void session_queue_fd(struct session *s, uint64_t request_id,
		      Boxd__V1__Event *ev, int fd);
void session_send_error(struct session *s, uint64_t request_id,
			Boxd__V1__ErrorCode code, const char *msg,
			const char *step, int err, uint64_t run_id);

/*
 * BUSY that the same request may get past if sent again on this
 * connection, after at least retry_after_ms (docs/protocol.md, "BUSY,
 * and retrying"): a run ending frees a ceiling's slot soon, a shortage of
 * the daemon's own takes longer.
 */
#define RETRY_RUN_ENDS_MS 100
#define RETRY_SHORTAGE_MS 250
void session_send_busy(struct session *s, uint64_t request_id, const char *msg,
		       uint32_t retry_after_ms);

/* Who is on the other end (read at accept). */
struct peer;
const struct peer *session_peer(const struct session *s);

/* A run of this session ended (its last event was sent): it no longer
 * counts as in flight. */
void session_run_ended(struct session *s, struct run *r);

/* Read no request until session_release(): the one being handled has
 * no answer yet (a run waiting for a pool member). */
void session_hold(struct session *s);
void session_release(struct session *s);
