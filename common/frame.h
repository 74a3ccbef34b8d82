/*
 * Framing on a SOCK_STREAM UNIX socket: a 4-byte little-endian length, then
 * that many bytes of one protobuf message. File descriptors ride on the
 * sendmsg that carries the frame's first byte, and nowhere else. The
 * reader never reads past the end of the current frame and reads each
 * frame's first byte on its own, so the fds it hands out are exactly the
 * ones sent with that frame. Used by both the daemon and libboxclient;
 * knows nothing of protobuf or libevent. fd passing itself is fdpass.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HEADER_SIZE 4
#define FRAME_MAX_DEFAULT (4u << 20)
#define FRAME_MAX_FDS 3 /* the most any message carries */

/* Why frame_read() failed, where the errno alone cannot say. */
enum frame_fault {
	FRAME_FAULT_NONE = 0,
	FRAME_FAULT_TOO_LARGE, /* -EMSGSIZE: length above the maximum */
	FRAME_FAULT_TRUNCATED, /* -EPROTO: end of file inside a frame */
	FRAME_FAULT_CONTROL,   /* -EPROTO: truncated or foreign control data */
	FRAME_FAULT_TOO_MANY_FDS, /* -EPROTO: more than FRAME_MAX_FDS fds */
	FRAME_FAULT_FDS_LATE,     /* -EPROTO: fds on a byte after the first */
	FRAME_FAULT_NO_MEMORY,    /* -ENOMEM */
	FRAME_FAULT_IO,           /* recvmsg's own error */
	FRAME_FAULT_NO_FDS,       /* -EPROTO: fds where none are accepted */
	FRAME_FAULT_BUDGET,       /* -ENOBUFS: the shared budget is spent */
};

/*
 * Bytes of frame bodies held by every reader that shares this budget (the
 * daemon's connections), against a ceiling: a body grows past its first
 * 16 KiB only while the budget has room. Single-threaded: readers charge
 * and release it from one thread.
 */
struct frame_budget {
	size_t used;
	size_t max;
};

struct frame_reader {
	uint32_t max;   /* largest body accepted */
	size_t max_fds; /* fds a frame may bring (<= FRAME_MAX_FDS) */
	struct frame_budget *budget;     /* NULL: none */
	struct frame_budget *charged_to; /* where body_cap was counted */
	uint8_t hdr[FRAME_HEADER_SIZE];
	size_t hdr_got;
	uint8_t *body;
	uint32_t body_len;
	uint32_t body_got;
	uint32_t body_cap; /* allocated, grown as bytes arrive */
	int fds[FRAME_MAX_FDS];
	size_t n_fds;
	/* The frame's fds were sent but could not be received: this process
	 * had no free descriptor (its own shortage, not the peer's fault).
	 * The frame is read to its end all the same. */
	bool fds_lost;
	enum frame_fault fault; /* after an error, until the next read */
};

/* A reader for bodies of at most max bytes, taking up to FRAME_MAX_FDS
 * fds per frame and no budget; set r->max_fds and r->budget after. */
void frame_reader_init(struct frame_reader *r, uint32_t max);

/* Free the body and close fds nobody took; ready for the next frame. */
void frame_reader_reset(struct frame_reader *r);
/* The whole frame's body, now the caller's to free(); the reader is reset
 * as by frame_reader_reset(). */
uint8_t *frame_reader_take_body(struct frame_reader *r);

/*
 * Read as much of the current frame as the socket has (use a non-blocking
 * socket; on a blocking one this blocks until the frame is whole).
 * Returns 1 when r->body/r->body_len/r->fds hold a whole frame (take fds
 * by setting them to -1, then frame_reader_reset(); until then it keeps
 * returning 1 without reading), 0 when more bytes are needed, -ECONNRESET
 * on EOF between frames, and on errors:
 *   -EMSGSIZE  length above max (checked before allocating)
 *   -EPROTO    EOF inside a frame; control data that is truncated
 *              (MSG_CTRUNC) or not SCM_RIGHTS; more than FRAME_MAX_FDS
 *              fds; fds that arrive with any byte but the frame's first
 *   -ENOBUFS   the body would grow past r->budget
 *   -ENOMEM, or recvmsg's own error
 * The body is allocated as its bytes arrive, never from the announced
 * length alone: a peer that announces 4 MiB and sends 10 bytes costs
 * about 10 bytes (plus a 16 KiB start). fds beyond r->max_fds are a
 * protocol error (FRAME_FAULT_NO_FDS when r->max_fds is 0), except when
 * this process's own descriptor table is full: then r->fds_lost is set
 * and the frame still completes.
 * r->fault then names the reason (frame_fault_str() says it in words), so
 * the caller can tell "wrong number of file descriptors" from "file
 * descriptors not on the frame's first byte".
 *
 * fds belong to the frame whose first byte they came with: the reader
 * reads that byte alone, so no fd sent with a later byte (of this frame
 * or of the next) can arrive with it. Every error (and -ECONNRESET) leaves
 * the reader reset but for r->fault: the body freed and every fd received
 * for the frame closed. After an error the connection must be dropped.
 */
int frame_read(struct frame_reader *r, int sock);

/* A reason in words, for an error message: "file descriptors not on the
 * frame's first byte". */
const char *frame_fault_str(enum frame_fault fault);

/* Write the little-endian length header for a body of len bytes. */
void frame_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len);

/*
 * Send one frame, its n_fds fds riding on the sendmsg that carries the
 * frame's first byte, with blocking semantics: partial writes and EINTR
 * are carried on, MSG_NOSIGNAL, and on a non-blocking socket EAGAIN makes
 * it poll() for POLLOUT, so a slow peer stalls the caller (the daemon must
 * only use it where that is acceptable). The caller's fds stay its own.
 *
 * Returns 0 once the whole frame is out, or -errno:
 *   -EINVAL    more than FRAME_MAX_FDS fds, fds NULL with n_fds > 0, or
 *              body NULL with len > 0 (checked before anything is sent)
 *   sendmsg's or poll's error: -EPIPE or -ECONNRESET when the peer is
 *              gone, -EBADF for a bad fd among fds, -ENOBUFS, ...
 *
 * partial (may be NULL) is written only on failure, like an error detail:
 * true when some bytes of this frame went out before the error, so the
 * peer holds a frame cut short and the stream is out of step (the
 * connection must be dropped); false when nothing of this frame was sent
 * and the stream is as it was before the call (a request-specific error
 * such as -EBADF leaves the connection usable).
 */
int frame_send(int sock, const void *body, uint32_t len, const int *fds,
	       size_t n_fds, bool *partial);
