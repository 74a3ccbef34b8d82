/*
 * Length-prefixed frames with SCM_RIGHTS on a SOCK_STREAM UNIX socket.
 *
 * The bytes and fds read here come from a peer we do not trust, so the
 * reader must never: allocate before the length has been checked against
 * the limit, read a byte past the end of the current frame (the next
 * frame's fds would be received into this one), accept fds that did not
 * come with the frame's first byte, or return an error while still holding
 * an fd it received. The control messages themselves are fdpass.c's:
 * every fd arrives close-on-exec, so nothing received here can leak into
 * a sandbox by accident.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>

#include "fdpass.h"
#include "frame.h"
#include "util.h"

static void frame_reader_close_fds(struct frame_reader *r)
{
	for (size_t i = 0; i < FRAME_MAX_FDS; i++)
		r->fds[i] = safe_close(r->fds[i]);
	r->n_fds = 0;
}

/* The first allocation for a body, and the least it grows by. */
#define FRAME_BODY_CHUNK (16u << 10)

void frame_reader_init(struct frame_reader *r, uint32_t max)
{
	*r = (struct frame_reader){.max = max, .max_fds = FRAME_MAX_FDS};
	for (size_t i = 0; i < FRAME_MAX_FDS; i++)
		r->fds[i] = -1;
}

void frame_reader_reset(struct frame_reader *r)
{
	uint32_t max = r->max;
	size_t max_fds = r->max_fds;
	struct frame_budget *budget = r->budget;

	frame_reader_close_fds(r);
	free(r->body);
	if (r->charged_to)
		r->charged_to->used -= r->body_cap;
	frame_reader_init(r, max);
	r->max_fds = max_fds;
	r->budget = budget;
}

uint8_t *frame_reader_take_body(struct frame_reader *r)
{
	uint8_t *body = r->body;

	r->body = NULL;
	frame_reader_reset(r);
	return body;
}

/*
 * Drop everything of the broken frame so an error never holds resources;
 * only the reason stays, for the caller's message.
 */
static int frame_reader_fail(struct frame_reader *r, int err,
			     enum frame_fault fault)
{
	frame_reader_reset(r);
	r->fault = fault;
	return err;
}

static bool frame_reader_complete(const struct frame_reader *r)
{
	return r->body && r->body_got == r->body_len;
}

/* The header is whole: check the length, then allocate. */
/*
 * Room for more of the body: double what is there (at least a chunk, at
 * most the announced length), charged to the budget first. What the
 * header announced is only a ceiling, never an allocation.
 */
static int frame_reader_grow(struct frame_reader *r)
{
	struct frame_budget *b = r->body_cap ? r->charged_to : r->budget;
	uint32_t cap = r->body_cap ? r->body_cap : 1;
	uint8_t *body;

	cap = cap < FRAME_BODY_CHUNK ? FRAME_BODY_CHUNK : cap * 2;
	if (cap > r->body_len)
		cap = r->body_len ? r->body_len : 1;
	/* A body within the first chunk is not charged: small requests
	 * (a Hello, a kill) always get through, and their memory is
	 * bounded by the number of connections. */
	if (b && b->max && cap > FRAME_BODY_CHUNK &&
	    b->used + (cap - r->body_cap) > b->max)
		return frame_reader_fail(r, -ENOBUFS, FRAME_FAULT_BUDGET);
	/* The whole body is counted where its first bytes were, even if
	 * the caller changes r->budget in between. */
	if (!r->body_cap)
		r->charged_to = r->budget;
	body = realloc(r->body, cap);
	if (!body)
		return frame_reader_fail(r, -ENOMEM, FRAME_FAULT_NO_MEMORY);
	if (r->charged_to)
		r->charged_to->used += cap - r->body_cap;
	r->body = body;
	r->body_cap = cap;
	return 0;
}

static int frame_reader_start_body(struct frame_reader *r)
{
	uint32_t len = (uint32_t)r->hdr[0] | (uint32_t)r->hdr[1] << 8 |
		       (uint32_t)r->hdr[2] << 16 | (uint32_t)r->hdr[3] << 24;

	/*
	 * Before malloc: a four-byte header must not be able to make us
	 * reserve gigabytes.
	 */
	if (len > r->max)
		return frame_reader_fail(r, -EMSGSIZE, FRAME_FAULT_TOO_LARGE);

	r->body_len = len;
	r->body_got = 0;
	r->body_cap = 0;
	/* Never NULL, so "body set" also means "header done", even for 0. */
	return frame_reader_grow(r);
}

/* fdpass_recv's refusals of control data, as frame errors. */
static int frame_reader_recv_failed(struct frame_reader *r, int err)
{
	switch (err) {
	case -ETOOMANYREFS:
		return frame_reader_fail(r, -EPROTO,
					 r->max_fds ? FRAME_FAULT_TOO_MANY_FDS
						    : FRAME_FAULT_NO_FDS);
	case -EPROTO:
		return frame_reader_fail(r, -EPROTO,
					 r->max_fds ? FRAME_FAULT_CONTROL
						    : FRAME_FAULT_NO_FDS);
	default:
		return frame_reader_fail(r, err, FRAME_FAULT_IO);
	}
}

int frame_read(struct frame_reader *r, int sock)
{
	for (;;) {
		/*
		 * The frame's first byte is read on its own: the kernel hands
		 * a recvmsg the fds of every sendmsg whose bytes it reads, so
		 * a longer read starting here could also collect fds a peer
		 * attached to the header's second byte, and those would pass
		 * for the frame's. Read alone, the first byte brings exactly
		 * the fds sent with it; any that arrive with a later read
		 * were sent with a later byte, which the protocol forbids.
		 */
		bool first = !r->body && r->hdr_got == 0;
		int fds[FRAME_MAX_FDS] = {-1, -1, -1};
		size_t n_fds = 0;
		uint8_t *at;
		size_t want;
		ssize_t n;
		int ret;

		if (frame_reader_complete(r))
			return 1;

		/* Ask for no more than the rest of this frame: fds sent with
		 * the next frame must stay in the socket until its turn. */
		if (first) {
			at = r->hdr;
			want = 1;
		} else if (!r->body) {
			at = r->hdr + r->hdr_got;
			want = FRAME_HEADER_SIZE - r->hdr_got;
		} else {
			if (r->body_got == r->body_cap) {
				ret = frame_reader_grow(r);
				if (ret < 0)
					return ret;
			}
			at = r->body + r->body_got;
			want = r->body_cap - r->body_got;
		}

		n = fdpass_recv(sock, at, want, first ? r->max_fds : 0, fds,
				&n_fds);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n == -EMFILE && first) {
			/* Our own descriptor table is full: the frame's fds
			 * are gone, its first byte was read. Not the peer's
			 * fault; read the rest, let the caller say "busy". */
			r->fds_lost = true;
			n = 1;
		} else if (n < 0) {
			if (!first && (n == -EPROTO || n == -ETOOMANYREFS))
				return frame_reader_fail(r, -EPROTO,
							 FRAME_FAULT_FDS_LATE);
			return frame_reader_recv_failed(r, (int)n);
		}

		if (n_fds > 0 && !first) {
			for (size_t i = 0; i < n_fds; i++)
				safe_close(fds[i]);
			return frame_reader_fail(r, -EPROTO,
						 FRAME_FAULT_FDS_LATE);
		}
		if (first) {
			memcpy(r->fds, fds, sizeof(fds));
			r->n_fds = n_fds;
		}

		if (n == 0) {
			/*
			 * A peer that hangs up between frames is done; one that
			 * hangs up inside a frame sent us a truncated message.
			 */
			if (first && r->n_fds == 0)
				return frame_reader_fail(r, -ECONNRESET,
							 FRAME_FAULT_NONE);
			return frame_reader_fail(r, -EPROTO,
						 FRAME_FAULT_TRUNCATED);
		}

		if (!r->body) {
			r->hdr_got += (size_t)n;
			if (r->hdr_got == FRAME_HEADER_SIZE) {
				ret = frame_reader_start_body(r);
				if (ret < 0)
					return ret;
			}
		} else {
			r->body_got += (uint32_t)n;
		}
	}
}

const char *frame_fault_str(enum frame_fault fault)
{
	switch (fault) {
	case FRAME_FAULT_NONE:
		break;
	case FRAME_FAULT_TOO_LARGE:
		return "frame larger than the maximum";
	case FRAME_FAULT_TRUNCATED:
		return "connection closed inside a frame";
	case FRAME_FAULT_CONTROL:
		return "control data that is not file descriptors, or "
		       "truncated";
	case FRAME_FAULT_TOO_MANY_FDS:
		return "wrong number of file descriptors (more than any "
		       "request carries)";
	case FRAME_FAULT_FDS_LATE:
		return "file descriptors not on the frame's first byte";
	case FRAME_FAULT_NO_MEMORY:
		return "out of memory";
	case FRAME_FAULT_IO:
		return "read error";
	case FRAME_FAULT_NO_FDS:
		return "wrong number of file descriptors before the handshake: "
		       "expected exactly 0";
	case FRAME_FAULT_BUDGET:
		return "the daemon's buffers for incoming requests are full";
	}
	return "malformed frame";
}

void frame_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len)
{
	out[0] = (uint8_t)len;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 24);
}

/*
 * Wait until the socket takes more bytes. Lets frame_send keep its blocking
 * contract on a non-blocking socket (the daemon's sockets all are) without
 * flipping O_NONBLOCK, which is shared with every other holder of the file.
 */
static int frame_wait_writable(int sock)
{
	struct pollfd p = {.fd = sock, .events = POLLOUT};

	for (;;) {
		if (poll(&p, 1, -1) >= 0)
			return 0;
		if (errno != EINTR)
			return negerrno();
	}
}

int frame_send(int sock, const void *body, uint32_t len, const int *fds,
	       size_t n_fds, bool *partial)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	size_t total = FRAME_HEADER_SIZE + (size_t)len;
	size_t sent = 0;

	/* The peer would drop the connection anyway; fail here, clearly. */
	if (n_fds > FRAME_MAX_FDS || (n_fds > 0 && !fds) ||
	    (len > 0 && !body)) {
		if (partial)
			*partial = false;
		return -EINVAL;
	}

	frame_header(hdr, len);

	while (sent < total) {
		struct iovec iov[2];
		size_t n_iov;
		ssize_t n;

		/* Rebuild the iovec from what is left of header + body. */
		if (sent < FRAME_HEADER_SIZE) {
			iov[0].iov_base = hdr + sent;
			iov[0].iov_len = FRAME_HEADER_SIZE - sent;
			iov[1].iov_base = (void *)body;
			iov[1].iov_len = len;
			n_iov = len > 0 ? 2 : 1;
		} else {
			size_t off = sent - FRAME_HEADER_SIZE;

			iov[0].iov_base = (uint8_t *)body + off;
			iov[0].iov_len = len - off;
			n_iov = 1;
		}

		/*
		 * The fds go with the sendmsg that carries the frame's first
		 * byte and with no other: once a byte is out, they went with
		 * it, and the reader refuses fds on any later byte.
		 */
		n = fdpass_send(sock, iov, n_iov, sent == 0 ? fds : NULL,
				sent == 0 ? n_fds : 0);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			n = frame_wait_writable(sock);
		else if (n > 0)
			sent += (size_t)n;
		if (n < 0) {
			if (partial)
				*partial = sent > 0;
			return (int)n;
		}
	}

	return 0;
}
