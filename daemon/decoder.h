/*
 * Decoding large request frames off the event loop. protobuf-c decodes a
 * frame in one call whose time grows with its size and entries; a legal
 * 4 MiB RunRequest takes tens to hundreds of milliseconds, during which
 * the loop would answer no one. Frames above a small size are handed to
 * one worker thread instead; the loop goes on serving every other
 * connection and takes the decoded request back when it is ready.
 *
 * The worker runs protobuf-c's unpack and nothing else: no daemon state,
 * no file, no log. A job's body belongs to the worker from submit to
 * completion; everything else about it is the loop's.
 *
 * It is the daemon's only thread besides the loop, and what makes that
 * safe is written down where it matters: the code between clone3() and
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

/* Frames up to this size are decoded on the loop: the hand-off would
 * cost more than the decode. */
#define DECODER_INLINE_MAX (64u << 10)

struct decoder;

struct decode_job {
	/* Set by the submitter. */
	uint8_t *body;
	size_t len;
	void (*done)(struct decode_job *job); /* on the loop, once */
	void *userdata;
	/* Set by the decoder before done() runs: the request, or NULL if
	 * the body is not a Request (the caller frees it). */
	Boxd__V1__Request *req;
	/* Private to decoder.c. */
	struct decode_job *next;
};

int decoder_new(struct event_base *base, struct decoder **ret);
/* Stops the worker after the job in progress, then calls done() for every
 * job not yet delivered (those never decoded with req NULL). */
struct decoder *decoder_free(struct decoder *d);

/* Queue job; done() runs on the loop once it is decoded. */
void decoder_submit(struct decoder *d, struct decode_job *job);
