/*
 * Handling large request frames off the event loop. Every step of a
 * frame whose time grows with its size and entries is the worker's: the
 * wire peek that checks its caps (request-wire.c), protobuf-c's unpack,
 * and the free of what unpack built. A legal 4 MiB RunRequest holds up
 * to 65536 strings; unpacking and freeing them one malloc at a time took
 * tens of milliseconds, during which the loop would answer no one. Frames
 * above a small size are handed to one worker thread instead; the loop
 * goes on serving every other connection and takes the result back when
 * it is ready.
 *
 * A job's request is built in an arena of a few large blocks owned by
 * the job (the blocks are mapped memory: pages cost only as they are
 * used), so the loop frees it in a handful of calls, not one per string.
 *
 * The worker runs the peek and unpack and nothing else: no daemon state,
 * no file, no log. A job's body belongs to the worker from submit to
 * completion; everything else about it is the loop's.
 *
 * It and the cgroup remover (daemon/sandbox/cgroup-remover.c) are the
 * daemon's only threads besides the loop, and what makes that safe is
 * written down where it matters: the code between clone3() and
 * execveat() (spawn.c) takes no lock and allocates nothing, so a worker
 * holding malloc's lock at the instant of a clone cannot wedge the child;
 * and the caller's groups that the daemon takes for the instant of a
 * clone reach the worker too (setgroups applies to every thread), which
 * opens no file with them.
 */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "box.pb-c.h"
#include "error.h"
#include "request.h"

/* Frames up to this size are handled on the loop: the hand-off would
 * cost more than the work. */
#define DECODER_INLINE_MAX (64u << 10)

struct decoder;
struct decode_arena;

struct decode_job {
	/* Set by the submitter. */
	uint8_t *body;
	size_t len;
	void (*done)(struct decode_job *job); /* on the loop, once */
	void *userdata;
	/* Set by the decoder before done() runs: request_wire_peek()'s
	 * result, info and err; then, if the peek passed, the request, or
	 * NULL if the body is not a Request. req lives in the job's arena:
	 * decode_job_free() frees both, never free_unpacked(). */
	int peek;
	struct request_wire info;
	struct error_detail err;
	Boxd__V1__Request *req;
	/* Private to decoder.c. */
	struct decoder *owner;
	struct decode_arena *arena;
	struct decode_job *next;
};

/* Frees the job, its request and its body (NULL if the caller kept it),
 * on the worker: the unmapping of a large frame's memory (a TLB
 * shoot-down on every CPU the daemon runs on) is not the loop's either. */
void decode_job_dispose(struct decode_job *job);

int decoder_new(struct event_base *base, struct decoder **ret);
/* Stops the worker after the job in progress, then calls done() for every
 * job not yet delivered (those never decoded with peek 0 and req NULL). */
struct decoder *decoder_free(struct decoder *d);

/* Queue job; done() runs on the loop once it is decoded. */
void decoder_submit(struct decoder *d, struct decode_job *job);
