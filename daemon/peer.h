/*
 * Who is on the other end of a connection, read once at accept from the
 * kernel and never from a message: uid, gid and groups (SO_PEERCRED,
 * SO_PEERGROUPS), and the chain of pid namespaces the connecting process
 * lives in, below the daemon's own, so that a connection made from inside
 * a boxd sandbox can be told from one made on the host.
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
	/* Inode numbers of the peer's pid namespace and its ancestors,
	 * innermost first, up to (not including) the daemon's own. Empty
	 * for a peer in the daemon's pid namespace. */
	uint64_t pidns[PEER_PIDNS_MAX];
	size_t n_pidns;
	/* The connecting process was gone before it could be looked at:
	 * where it lived is unknown. */
	bool gone;
};

/* Fill ret for the connected socket fd. -errno if the credentials cannot
 * be read; a peer whose namespaces cannot be read is marked gone. */
int peer_read(int fd, struct peer *ret);
void peer_done(struct peer *p);

/* Is the pid namespace with inode ns the peer's, or one it is nested in? */
bool peer_in_pidns(const struct peer *p, uint64_t ns);
