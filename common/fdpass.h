/*
 * Passing file descriptors over a UNIX socket with SCM_RIGHTS: the one
 * place in the tree that builds or reads a control message. Used by the
 * frame layer (daemon and libboxclient), by the engine to hand pid 1 its
 * spec and stdio, and by boxd-init itself, which links this file
 * statically: so nothing here allocates, logs or touches stdio.
 *
 * The contract both sides rely on:
 *
 *  - fds ride on one SCM_RIGHTS message attached to the first byte of one
 *    sendmsg(). On a stream socket the kernel gives them to the recvmsg()
 *    that reads that byte, and a recvmsg() never hands out the fds of a
 *    later sendmsg() before it has read up to that sendmsg's bytes.
 *  - Every fd is received close-on-exec (MSG_CMSG_CLOEXEC), so nothing
 *    received can leak into a sandbox or a helper by accident.
 *  - The receiver says how many fds it takes at most, and the kernel is
 *    told exactly that much room: surplus fds are never installed in the
 *    receiver's table (the message is truncated instead), so a peer cannot
 *    fill the table with fds we would then have to find and close.
 *  - A receive that fails for any reason leaves no fd behind: everything
 *    the kernel installed for that call is closed before returning.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * The most fds one message may carry: the kernel's own limit (SCM_MAX_FD),
 * beyond which sendmsg() refuses with EINVAL. Sizes the on-stack control
 * buffers (about 1 KiB).
 */
#define FDPASS_MAX_FDS 253

/*
 * One sendmsg() of the n_iov buffers with n_fds fds attached to the first
 * byte, MSG_NOSIGNAL (a vanished peer is -EPIPE, never SIGPIPE), retried on
 * EINTR. On a stream socket the kernel may take fewer bytes than offered:
 * the fds went with the first of them, so the caller must send the rest
 * without fds. The fds stay the caller's: the peer gets new references.
 * Returns the bytes sent, or -errno: -EINVAL for more than FDPASS_MAX_FDS
 * fds, or fds with no byte to ride on; sendmsg's own error otherwise
 * (-EAGAIN on a full non-blocking socket; then nothing was sent).
 */
ssize_t fdpass_send(int sock, const struct iovec *iov, size_t n_iov,
		    const int *fds, size_t n_fds);

/*
 * One recvmsg() of at most len bytes into buf, taking at most max_fds
 * (<= FDPASS_MAX_FDS) fds, retried on EINTR. ret_fds has room for max_fds
 * entries. On success returns the bytes read (0: end of file, or an empty
 * datagram), with the fds received in ret_fds[0 .. *ret_n_fds) and -1 in
 * the rest of ret_fds. Errors:
 *   -ETOOMANYREFS  the peer sent more than max_fds fds
 *   -EPROTO        any other control data: truncated (MSG_CTRUNC), or a
 *                  message that is not SCM_RIGHTS (SCM_CREDENTIALS when
 *                  SO_PASSCRED is on, ...)
 *   -EMFILE        fds were sent but this process has no free descriptor
 *                  to receive them (its own shortage, not the peer's)
 *   -EINVAL        max_fds above FDPASS_MAX_FDS
 *   recvmsg's own error (-EAGAIN on an empty non-blocking socket)
 * On every error no fd received by this call is left open, and ret_fds
 * and ret_n_fds are untouched. Bytes read before a control-data error are
 * consumed all the same: the stream is out of step and should be dropped.
 */
ssize_t fdpass_recv(int sock, void *buf, size_t len, size_t max_fds,
		    int *ret_fds, size_t *ret_n_fds);
