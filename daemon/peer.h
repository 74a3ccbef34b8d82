/*
 * Who is on the other end of a connection, read from the kernel and never
 * from a message: uid, gid and groups (SO_PEERCRED, SO_PEERGROUPS), the
 * connecting process pinned by a pidfd, and whether it lives in a pid
 * namespace below the daemon's, so that a connection made from inside a
 * boxd sandbox can be told from one made on the host.
 *
 * Nothing here needs /proc/<pid> of the peer: a hardened service (systemd's
 * ProtectProc=invisible, no CAP_SYS_PTRACE) cannot read it for another
 * user's process. The nesting comes from the pidfd's own fdinfo (which is
 * the daemon's), and the run a nested peer belongs to from the runs'
 * cgroups (server_locate_peer()). The pid namespace chain is read too,
 * where /proc allows, for runs that have no cgroup.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PEER_PIDNS_MAX 32

struct peer {
	struct ucred cred;
	gid_t *groups;
	size_t n_groups;
	int pidfd; /* the connecting process, -1 if it could not be pinned */
	/* In a pid namespace below the daemon's (a sandbox's, a
	 * container's). */
	bool nested;
	/* Inode numbers of the peer's pid namespace and its ancestors,
	 * innermost first, up to (not including) the daemon's own, if /proc
	 * let the daemon read them (else n_pidns is 0). */
	uint64_t pidns[PEER_PIDNS_MAX];
	size_t n_pidns;
	/* The connecting process was gone before it could be looked at:
	 * where it lived is unknown. */
	bool gone;
	/* Where it connects from, once placed (server_place_peer()): the id
	 * of the run it lives in (0: none, it is the host's), or place_err,
	 * -errno, if that could not be told. */
	uint64_t run_id;
	int place_err;
};

/*
 * Fill ret for the connected socket fd. -errno if the credentials cannot
 * be read, or for want of the daemon's own fds or memory (-EMFILE,
 * -ENFILE, -ENOMEM: nothing the peer did); a peer that is gone before it
 * can be pinned is marked so.
 */
int peer_read(int fd, struct peer *ret);
void peer_done(struct peer *p);

/* Is the connecting process still there? Anything learned about it from
 * its pid (a cgroup's member list) before this returned true was about
 * that process, not a later one with its pid. */
bool peer_alive(const struct peer *p);

/* Is the pid namespace with inode ns the peer's, or one it is nested in?
 * Only meaningful when n_pidns is not 0. */
bool peer_in_pidns(const struct peer *p, uint64_t ns);
