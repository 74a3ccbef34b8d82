/*
 * Length-prefixed frames with SCM_RIGHTS on a SOCK_STREAM UNIX socket.
 *
 * The bytes and fds read here come from a peer we do not trust, so the
 * reader must never: allocate before the length has been checked against
 * the limit, read a byte past the end of the current frame (the next
 * frame's fds would be received into this one), or return an error while
 * still holding an fd it received. Every fd is received close-on-exec, so
 * nothing received here can leak into a sandbox by accident.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "frame.h"
#include "util.h"

/*
 * Room for one SCM_RIGHTS message of FRAME_MAX_FDS fds. The buffer is
 * CMSG_SPACE for alignment, but the kernel is told CMSG_LEN: it fits fds by
 * msg_controllen, and CMSG_SPACE's padding would make room for a fourth
 * int. So a peer that sends more fds in one go gets MSG_CTRUNC and the
 * surplus is never installed in our table.
 */
#define FRAME_CMSG_SPACE CMSG_SPACE(sizeof(int) * FRAME_MAX_FDS)
#define FRAME_CMSG_LEN CMSG_LEN(sizeof(int) * FRAME_MAX_FDS)

static void frame_reader_close_fds(struct frame_reader *r)
{
	for (size_t i = 0; i < FRAME_MAX_FDS; i++)
		r->fds[i] = safe_close(r->fds[i]);
	r->n_fds = 0;
}

void frame_reader_init(struct frame_reader *r, uint32_t max)
{
	*r = (struct frame_reader){.max = max};
	for (size_t i = 0; i < FRAME_MAX_FDS; i++)
		r->fds[i] = -1;
}

void frame_reader_reset(struct frame_reader *r)
{
	uint32_t max = r->max;

	frame_reader_close_fds(r);
	free(r->body);
	frame_reader_init(r, max);
}

/* Drop everything of the broken frame so an error never holds resources. */
static int frame_reader_fail(struct frame_reader *r, int err)
{
	frame_reader_reset(r);
	return err;
}

static bool frame_reader_complete(const struct frame_reader *r)
{
	return r->body && r->body_got == r->body_len;
}

/*
 * Take the fds out of every control message. All SCM_RIGHTS fds are walked
 * even after an error has been seen, because the kernel has already
 * installed them in our table and only we can close them.
 */
static int frame_reader_take_cmsgs(struct frame_reader *r, struct msghdr *msg)
{
	int ret = 0;

	if (msg->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		size_t n;
		const uint8_t *data;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			/*
			 * SCM_CREDENTIALS and friends: the tenant comes from
			 * SO_PEERCRED at accept, never from a message, so a
			 * frame carrying anything else is malformed.
			 */
			ret = -EPROTO;
			continue;
		}
		if (c->cmsg_len < CMSG_LEN(0))
			continue;

		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		data = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;

			/* CMSG_DATA is not necessarily int-aligned. */
			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (fd < 0)
				continue;
			if (r->n_fds >= FRAME_MAX_FDS) {
				safe_close(fd);
				ret = -EPROTO;
				continue;
			}
			r->fds[r->n_fds++] = fd;
		}
	}

	return ret;
}

/* The header is whole: check the length, then allocate. */
static int frame_reader_start_body(struct frame_reader *r)
{
	uint32_t len = (uint32_t)r->hdr[0] | (uint32_t)r->hdr[1] << 8 |
		       (uint32_t)r->hdr[2] << 16 | (uint32_t)r->hdr[3] << 24;

	/*
	 * Before malloc: a four-byte header must not be able to make us
	 * reserve gigabytes.
	 */
	if (len > r->max)
		return -EMSGSIZE;

	/* Never NULL, so "body set" also means "header done", even for 0. */
	r->body = malloc(len > 0 ? len : 1);
	if (!r->body)
		return -ENOMEM;
	r->body_len = len;
	r->body_got = 0;
	return 0;
}

int frame_read(struct frame_reader *r, int sock)
{
	/* Aligned for struct cmsghdr, as CMSG_FIRSTHDR expects. */
	union {
		struct cmsghdr align;
		uint8_t buf[FRAME_CMSG_SPACE];
	} control;

	for (;;) {
		struct iovec iov;
		struct msghdr msg = {
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = control.buf,
		    .msg_controllen = FRAME_CMSG_LEN,
		};
		bool in_header = !r->body;
		ssize_t n;
		int ret;

		if (frame_reader_complete(r))
			return 1;

		/* Ask for no more than the rest of this frame, see above. */
		if (in_header) {
			iov.iov_base = r->hdr + r->hdr_got;
			iov.iov_len = FRAME_HEADER_SIZE - r->hdr_got;
		} else {
			iov.iov_base = r->body + r->body_got;
			iov.iov_len = r->body_len - r->body_got;
		}

		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return frame_reader_fail(r, negerrno());
		}

		ret = frame_reader_take_cmsgs(r, &msg);
		if (ret < 0)
			return frame_reader_fail(r, ret);

		if (n == 0) {
			/*
			 * A peer that hangs up between frames is done; one that
			 * hangs up inside a frame sent us a truncated message.
			 */
			if (in_header && r->hdr_got == 0 && r->n_fds == 0)
				return frame_reader_fail(r, -ECONNRESET);
			return frame_reader_fail(r, -EPROTO);
		}

		if (in_header) {
			r->hdr_got += (size_t)n;
			if (r->hdr_got == FRAME_HEADER_SIZE) {
				ret = frame_reader_start_body(r);
				if (ret < 0)
					return frame_reader_fail(r, ret);
			}
		} else {
			r->body_got += (uint32_t)n;
		}
	}
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
	       size_t n_fds)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	union {
		struct cmsghdr align;
		uint8_t buf[FRAME_CMSG_SPACE];
	} control;
	struct iovec iov[2];
	struct msghdr msg = {.msg_iov = iov};
	size_t total = FRAME_HEADER_SIZE + (size_t)len;
	size_t sent = 0;

	/* The peer would drop the connection anyway; fail here, clearly. */
	if (n_fds > FRAME_MAX_FDS || (n_fds > 0 && !fds))
		return -EINVAL;
	if (len > 0 && !body)
		return -EINVAL;

	frame_header(hdr, len);

	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}

	while (sent < total) {
		ssize_t n;

		/* Rebuild the iovec from what is left of header + body. */
		if (sent < FRAME_HEADER_SIZE) {
			iov[0].iov_base = hdr + sent;
			iov[0].iov_len = FRAME_HEADER_SIZE - sent;
			iov[1].iov_base = (void *)body;
			iov[1].iov_len = len;
			msg.msg_iovlen = len > 0 ? 2 : 1;
		} else {
			size_t off = sent - FRAME_HEADER_SIZE;

			iov[0].iov_base = (uint8_t *)body + off;
			iov[0].iov_len = len - off;
			msg.msg_iovlen = 1;
		}

		/* MSG_NOSIGNAL: a vanished peer is an error, not a SIGPIPE. */
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			int r;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return negerrno();
			r = frame_wait_writable(sock);
			if (r < 0)
				return r;
			continue;
		}

		/*
		 * Once any byte is out, the fds went with it (they are
		 * attached to the frame's first byte): never send them twice.
		 */
		if (n > 0) {
			msg.msg_control = NULL;
			msg.msg_controllen = 0;
		}
		sent += (size_t)n;
	}

	return 0;
}
