/*
 * See peer.h. The pid namespace chain is what tells a process inside a
 * boxd sandbox from one on the host: every sandbox has its own pid
 * namespace, and a process cannot leave it (nor hide in a new one: that
 * one is nested, and the chain walks up through it).
 *
 * The peer is pinned by a pidfd before anything is read about it, and
 * checked alive afterwards: the pid cannot have been reused in between.
 * Where the kernel hands out the connecting process's pidfd itself
 * (SO_PEERPIDFD, Linux 6.5), that is the one; before, the pid from
 * SO_PEERCRED is opened, which leaves the window between connect() and
 * accept in which the connector could exit and its pid be reused (a
 * sandbox bounded by pids.max cannot cycle through the pid space, but the
 * gap is written down in docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "peer.h"
#include "util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static int peer_pidfd(int sock, pid_t pid)
{
	socklen_t len = sizeof(int);
	int fd = -1;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 &&
	    fd >= 0)
		return fd;
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int read_groups(int sock, struct peer *p)
{
	gid_t small[64];
	socklen_t len = sizeof(small);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, small, &len) < 0) {
		if (errno != ERANGE)
			return -errno;
		p->groups = malloc(len);
		if (!p->groups)
			return -ENOMEM;
		if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, p->groups,
			       &len) < 0)
			return -errno;
	} else {
		p->groups = malloc(len ? len : 1);
		if (!p->groups)
			return -ENOMEM;
		memcpy(p->groups, small, len);
	}
	p->n_groups = len / sizeof(gid_t);
	return 0;
}

static uint64_t ns_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Walk from the peer's pid namespace up to ours. */
static int read_pidns_chain(pid_t pid, struct peer *p)
{
	_cleanup_close_ int self = -1, ns = -1;
	char path[64];
	uint64_t own;

	self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || ns < 0)
		return -errno;
	own = ns_inode(self);
	while (p->n_pidns < PEER_PIDNS_MAX) {
		uint64_t here = ns_inode(ns);
		int up;

		if (!here || here == own)
			return 0;
		p->pidns[p->n_pidns++] = here;
		up = ioctl(ns, NS_GET_PARENT);
		if (up < 0)
			/* EPERM: the parent is beyond our view, so the peer
			 * was never below us; nothing more to learn. */
			return errno == EPERM ? 0 : -errno;
		close(ns);
		ns = up;
	}
	return 0;
}

int peer_read(int fd, struct peer *ret)
{
	struct peer p = {0};
	socklen_t len = sizeof(p.cred);
	_cleanup_close_ int pidfd = -1;
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p.cred, &len) < 0)
		return -errno;
	r = read_groups(fd, &p);
	if (r < 0) {
		peer_done(&p);
		return r;
	}
	pidfd = p.cred.pid > 0 ? peer_pidfd(fd, p.cred.pid) : -1;
	if (pidfd < 0 || read_pidns_chain(p.cred.pid, &p) < 0 ||
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		/* Gone, or its /proc no longer ours to read: where it
		 * lived cannot be told. */
		p.gone = true;
		p.n_pidns = 0;
	}
	*ret = p;
	return 0;
}

void peer_done(struct peer *p)
{
	free(p->groups);
	p->groups = NULL;
	p->n_groups = 0;
}

bool peer_in_pidns(const struct peer *p, uint64_t ns)
{
	for (size_t i = 0; ns && i < p->n_pidns; i++)
		if (p->pidns[i] == ns)
			return true;
	return false;
}
