/*
 * SCM_RIGHTS in one place (fdpass.h). The receive side reads what an
 * untrusted peer chose to send, so it must never: give the kernel more
 * control-buffer room than the caller takes fds (surplus fds would be
 * installed in our table), trust a control message's length or alignment,
 * or return an error while an fd it received is still open. Linked into
 * the static boxd-init as well: no allocation, no stdio, no logging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fdpass.h"
#include "util.h"

/* Aligned for struct cmsghdr, as CMSG_FIRSTHDR expects. */
union fdpass_control {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS)];
};

ssize_t fdpass_send(int sock, const struct iovec *iov, size_t n_iov,
		    const int *fds, size_t n_fds)
{
	union fdpass_control control;
	struct msghdr msg = {
	    .msg_iov = (struct iovec *)iov,
	    .msg_iovlen = n_iov,
	};
	size_t bytes = 0;
	ssize_t n;

	for (size_t i = 0; i < n_iov; i++)
		bytes += iov[i].iov_len;
	if (n_fds > FDPASS_MAX_FDS || (n_fds > 0 && (!fds || bytes == 0)))
		return -EINVAL;
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
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? negerrno() : n;
}

/* Close every fd of every SCM_RIGHTS message in msg: the error path. */
static void close_received(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			/* CMSG_DATA is not necessarily int-aligned. */
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
			safe_close(fd);
		}
	}
}

/*
 * What the control data of a received message amounts to. Every control
 * message is looked at, including after a problem was seen, so that
 * close_received() can find every fd: the kernel installed them already.
 */
static int check_control(struct msghdr *msg, size_t max_fds, size_t *ret_n)
{
	bool foreign = false;
	size_t n_fds = 0, n_rights = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		/*
		 * SCM_CREDENTIALS and the like: who the peer is comes from
		 * SO_PEERCRED, never from a message, so anything but fds is
		 * a malformed message rather than information.
		 */
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			foreign = true;
			continue;
		}
		n_rights++;
		n_fds += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	}
	if (foreign || n_rights > 1 || n_fds > max_fds)
		return -EPROTO;
	if (msg->msg_flags & MSG_CTRUNC) {
		/*
		 * The room was exactly max_fds fds: a full SCM_RIGHTS message
		 * and a truncation mean the peer sent more than that. With
		 * no fd room at all, nothing tells surplus fds from foreign
		 * data: both are plain protocol errors.
		 */
		if (n_rights == 1 && n_fds == max_fds && max_fds > 0)
			return -ETOOMANYREFS;
		return -EPROTO;
	}
	*ret_n = n_fds;
	return 0;
}

/*
 * The kernel also truncates control data when it cannot install the fds
 * because this process's descriptor table is full: that is our shortage,
 * not a malformed message. Tell by asking for one more descriptor.
 */
static bool own_table_full(int sock)
{
	int probe = fcntl(sock, F_DUPFD_CLOEXEC, 0);

	if (probe >= 0) {
		close(probe);
		return false;
	}
	return errno == EMFILE || errno == ENFILE;
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, size_t max_fds,
		    int *ret_fds, size_t *ret_n_fds)
{
	union fdpass_control control;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg;
	size_t n_fds = 0;
	ssize_t n;
	int r;

	if (max_fds > FDPASS_MAX_FDS)
		return -EINVAL;
	do {
		/*
		 * CMSG_LEN, not CMSG_SPACE: the kernel fits fds by
		 * msg_controllen, and CMSG_SPACE's padding could make room
		 * for one more than max_fds. Room for none (max_fds 0) makes
		 * any fd a truncation.
		 */
		msg = (struct msghdr){
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = max_fds ? control.buf : NULL,
		    .msg_controllen =
			max_fds ? CMSG_LEN(sizeof(int) * max_fds) : 0,
		};
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return negerrno();

	r = check_control(&msg, max_fds, &n_fds);
	if (r < 0) {
		/* Probed before closing what did arrive: the kernel installs
		 * fds until the table is full, and closing them would make
		 * room again. */
		bool full =
		    (msg.msg_flags & MSG_CTRUNC) && own_table_full(sock);

		close_received(&msg);
		return full ? -EMFILE : r;
	}
	for (size_t i = 0; i < max_fds; i++)
		ret_fds[i] = -1;
	if (n_fds > 0)
		memcpy(ret_fds, CMSG_DATA(CMSG_FIRSTHDR(&msg)),
		       sizeof(int) * n_fds);
	*ret_n_fds = n_fds;
	return n;
}
