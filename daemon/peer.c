/*
 * See peer.h. The pid is pinned by a pidfd before anything is learned
 * about it, and checked alive afterwards: a pid cannot have been reused
 * in between. Where the kernel hands out the connecting process's pidfd
 * itself (SO_PEERPIDFD, Linux 6.5), that is the one; before, the pid from
 * SO_PEERCRED is opened, which leaves the window between connect() and
 * accept in which the connector could exit and its pid be reused (a
 * sandbox bounded by pids.max cannot cycle through the pid space, but the
 * gap is written down in docs/security.md).
 *
 * Nesting is read from the pidfd's fdinfo, the daemon's own file: its
 * NSpid line lists the process's pid in the daemon's pid namespace and in
 * each one below, so more than one entry means "nested". Every sandbox has
 * its own pid namespace and a process cannot leave it (a new one it makes
 * is nested deeper still).
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

/* How many pid namespaces, the daemon's first, the pinned process has a
 * pid in: 1 on the host, more when nested; 0 if it is gone (or lives in
 * a namespace above ours, where it cannot be a sandbox of ours). */
static int pidfd_depth(int pidfd)
{
	char path[64], buf[1024], *line, *tok, *save = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int depth = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	line = strstr(buf, "\nNSpid:");
	if (!line)
		/* A kernel without pid namespaces: everything is flat. */
		return strstr(buf, "\nPid:") ? 1 : -EIO;
	line[strcspn(line + 1, "\n") + 1] = '\0';
	for (tok = strtok_r(line + strlen("\nNSpid:"), " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save))
		depth++;
	/* "NSpid: 0": not in our namespace or below it. */
	if (depth == 1 && atoi(line + strlen("\nNSpid:")) == 0)
		return 0;
	return depth;
}

/* The daemon's own shortage, not anything about the peer. */
static bool shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

int peer_read(int fd, struct peer *ret)
{
	struct peer p = {.pidfd = -1};
	socklen_t len = sizeof(p.cred);
	int r, depth = -ESRCH;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p.cred, &len) < 0)
		return -errno;
	r = read_groups(fd, &p);
	if (r < 0)
		goto fail;
	if (p.cred.pid > 0) {
		p.pidfd = peer_pidfd(fd, p.cred.pid);
		depth = p.pidfd >= 0 ? pidfd_depth(p.pidfd) : -errno;
	}
	if (depth < 0 && shortage(-depth)) {
		r = depth;
		goto fail;
	}
	p.nested = depth > 1;
	/* Best effort: a hardened service may not read another user's
	 * /proc/<pid>; the runs' cgroups place the peer then. */
	if (p.nested) {
		r = read_pidns_chain(p.cred.pid, &p);
		if (r < 0 && shortage(-r))
			goto fail;
		if (r < 0)
			p.n_pidns = 0;
	}
	if (depth < 0 || !peer_alive(&p)) {
		/* Gone: where it lived cannot be told. */
		p.gone = true;
		p.nested = false;
		p.n_pidns = 0;
	}
	*ret = p;
	return 0;
fail:
	peer_done(&p);
	return r;
}

/*
 * Signal 0 only asks whether the process exists. Without CAP_KILL (the
 * hardened unit drops it) the kernel answers EPERM for another user's
 * process: that still means it exists; only ESRCH means it has exited.
 */
bool peer_alive(const struct peer *p)
{
	if (p->pidfd < 0)
		return false;
	return syscall(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0) == 0 ||
	       errno == EPERM;
}

void peer_done(struct peer *p)
{
	p->pidfd = safe_close(p->pidfd);
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
