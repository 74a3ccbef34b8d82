/*
 * Daemon configuration and per-tenant policy, loaded from an INI file
 * (/etc/boxd/boxd.conf, libinih). A config is immutable once loaded:
 * SIGHUP builds a new one and swaps the pointer only if it parsed and
 * validated, so a bad file never replaces a good policy.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* How long a run may wait for a pool member on its way (pool-wait-ms):
 * the daemon's loop waits with it, so this stays short. */
#define POOL_WAIT_MS_MAX 1000

enum uid_mode {
	UID_MODE_CALLER = 0, /* sandbox ids map to the caller's uid/gid */
	UID_MODE_PRIVATE,    /* each run gets a unique uid from a range */
};

struct bind_rule {
	char *prefix; /* absolute, normalised, no trailing slash ("/" ok) */
	bool writable;
};

/* Ceilings: 0 means "no ceiling". */
struct tenant_policy {
	char *name; /* section name, for messages */
	uid_t *uids;
	size_t n_uids; /* match by uid ... */
	gid_t *gids;
	size_t n_gids; /* ... or by primary/supplementary group */
	bool allow_connect;
	uint64_t max_memory_bytes;
	uint32_t max_cpu_millis;
	uint32_t max_pids;
	uint64_t max_timeout_ns;
	uint64_t max_cpu_time_ns;
	uint32_t max_runs;        /* concurrent */
	uint32_t max_connections; /* concurrent */
	bool allow_net_host;
	bool allow_net_outbound; /* --net outbound (pasta) */
	bool allow_seccomp_none;
	bool allow_custom_seccomp;
	bool binds_restricted; /* false: any path the caller can open */
	struct bind_rule *binds;
	size_t n_binds;
	/* Host paths no run of this tenant may read, wherever it binds
	 * them: [default]'s and the section's own together. */
	char **deny;
	size_t n_deny;
	enum uid_mode uid_mode;
};

/* What a connection made from inside a boxd sandbox gets. */
enum sandbox_peers {
	SANDBOX_PEERS_REFUSE = 0, /* nothing: refused at the handshake */
	SANDBOX_PEERS_CONFINED,   /* no more than the run it comes from */
};

struct config {
	/* [daemon] */
	char *socket_path;
	uint32_t max_frame_bytes;
	uint32_t max_connections; /* all tenants together */
	uint32_t pool_size;       /* high watermark; 0 disables the pool */
	uint32_t pool_low;        /* refill when below (0: 3/4 of the size) */
	uint32_t pool_wait_ms;    /* for a member on its way (0: never) */
	/* The cost of a connection to the daemon, bounded. */
	uint64_t handshake_timeout_ns; /* accept to answered Hello */
	uint64_t frame_timeout_ns;     /* first to last byte of one frame */
	uint32_t max_connections_per_uid;
	uint32_t reserved_connections; /* of max_connections: root, admins */
	gid_t *admin_gids;             /* [daemon] admin-group */
	size_t n_admin_gids;
	uint64_t max_buffered_bytes; /* request bodies held, all together */
	uint32_t max_runs_per_connection; /* protocol version 2 */
	enum sandbox_peers sandbox_peers;
	uint64_t tmpfs_default_bytes; /* tmpfs without an explicit size */
	uid_t private_uid_first; /* [private-ids] range for UID_MODE_PRIVATE */
	uint32_t private_uid_count;
	/* [tenant.NAME] sections, in file order; the first match wins. */
	struct tenant_policy *tenants;
	size_t n_tenants;
	/* [default]: for callers no section matches. root matches a built-in
	 * unrestricted tenant unless a section names uid 0. */
	struct tenant_policy fallback;
	struct tenant_policy root;
};

/* Built-in defaults: everyone may connect, no ceilings, caller uid mode. */
int config_new_default(struct config **ret);

/* Parse and validate path. On error, returns -errno and err says
 * "file:line: why" (or "file: strerror" when it cannot be read). */
int config_load(const char *path, struct error_detail *err,
		struct config **ret);

struct config *config_free(struct config *c);

/* The policy for a peer: first tenant section matching its uid, its gid or
 * one of its groups; else root's for uid 0; else the fallback. */
const struct tenant_policy *config_tenant(const struct config *c, uid_t uid,
					  gid_t gid, const gid_t *groups,
					  size_t n_groups);

/* Is id in the [private-ids] range (false when there is none)? */
bool config_private_id(const struct config *c, uint32_t id);

/*
 * The policy for a peer that connects, or NULL: none at all for a peer
 * whose uid or gid lies in the private-id range. Such a peer is a
 * private-uid run's process reaching the socket; under config_tenant()
 * it would be a stranger under [default], outside the ceilings of the
 * tenant whose run it is.
 */
const struct tenant_policy *config_tenant_for_peer(const struct config *c,
						   uid_t uid, gid_t gid,
						   const gid_t *groups,
						   size_t n_groups);

/*
 * The policy of a connection made from inside a run: base, with ceil's
 * non-zero ceilings where they are lower, no host network, outbound
 * network only if both base and ceil allow it, no run without the
 * default filter or with a policy of its own, and binds restricted to
 * the given rules (the run's own binds: what it already sees). name is
 * copied. Release ret with tenant_release().
 */
int tenant_confine(const struct tenant_policy *base,
		   const struct tenant_policy *ceil,
		   const struct bind_rule *binds, size_t n_binds,
		   const char *name, struct tenant_policy *ret);
void tenant_release(struct tenant_policy *t);

/* Is a bind of host path src (absolute, normalised) allowed, and writable? */
bool tenant_may_bind(const struct tenant_policy *t, const char *src,
		     bool writable);
