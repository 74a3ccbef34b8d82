/*
 * The daemon's configuration file (docs/config.md): its sections, the
 * [daemon] and [private-ids] keys, and the checks that span sections.
 * Reading the file and its values is config-parse.c's; the keys of
 * [default] and [tenant.NAME] sections and the lookups by tenant are in
 * config-tenant.c.
 *
 * This file must never accept a file it did not fully understand: an
 * unknown section or key, a malformed value, or a policy that contradicts
 * itself is an error naming "file:line", and the caller keeps its previous
 * config. A typo must not quietly loosen a tenant's limits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "config-build.h"
#include "config-internal.h"
#include "config.h"
#include "parse.h"
#include "util.h"

#define TENANT_NAME_MAX 32
#define PRIVATE_COUNT_MAX (1u << 20)
#define OVERFLOW_UID 65534 /* "nobody": what unmapped owners appear as */
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

enum daemon_key {
	D_SOCKET,
	D_MAX_FRAME,
	D_MAX_CONNECTIONS,
	D_POOL_SIZE,
	D_POOL_LOW,
	D_POOL_WAIT,
	D_TMPFS_SIZE,
	D_HANDSHAKE_TIMEOUT,
	D_FRAME_TIMEOUT,
	D_MAX_CONNECTIONS_PER_UID,
	D_RESERVED_CONNECTIONS,
	D_ADMIN_GROUP,
	D_MAX_BUFFERED,
	D_MAX_RUNS_PER_CONNECTION,
	D_SANDBOX_PEERS,
	_D_MAX,
};

enum private_key {
	P_FIRST,
	P_COUNT,
	_P_MAX,
};

enum section_kind {
	SECTION_NONE = 0,
	SECTION_DAEMON,
	SECTION_PRIVATE_IDS,
	SECTION_DEFAULT,
	SECTION_TENANT,
};

/* One load, beside the parser's own state. */
struct load {
	struct config *c;
	struct tenant_lines *tenant_lines; /* parallel to c->tenants */
	size_t tenants_cap;
	struct tenant_lines default_lines;
	unsigned daemon_lines[_D_MAX], private_lines[_P_MAX];
	unsigned daemon_header, private_header;
	enum section_kind kind;
	size_t tenant; /* SECTION_TENANT: index */
};

static const char *const daemon_keys[_D_MAX] = {
    [D_SOCKET] = "socket",
    [D_MAX_FRAME] = "max-frame",
    [D_MAX_CONNECTIONS] = "max-connections",
    [D_POOL_SIZE] = "pool-size",
    [D_POOL_LOW] = "pool-low",
    [D_POOL_WAIT] = "pool-wait-ms",
    [D_TMPFS_SIZE] = "tmpfs-size",
    [D_HANDSHAKE_TIMEOUT] = "handshake-timeout",
    [D_FRAME_TIMEOUT] = "frame-timeout",
    [D_MAX_CONNECTIONS_PER_UID] = "max-connections-per-uid",
    [D_RESERVED_CONNECTIONS] = "reserved-connections",
    [D_ADMIN_GROUP] = "admin-group",
    [D_MAX_BUFFERED] = "max-buffered",
    [D_MAX_RUNS_PER_CONNECTION] = "max-runs-per-connection",
    [D_SANDBOX_PEERS] = "sandbox-peers",
};

static const char *const private_keys[_P_MAX] = {
    [P_FIRST] = "first",
    [P_COUNT] = "count",
};

static struct config *config_alloc(void)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->socket_path = strdup(BOXD_DEFAULT_SOCKET);
	c->max_frame_bytes = 4u << 20; /* argv + env may be ~2 MiB */
	c->max_connections = 4096;
	c->pool_size = 8;
	c->pool_low = 0; /* unset: the engine takes 3/4 of pool-size */
	c->pool_wait_ms = 4;
	c->tmpfs_default_bytes = 64ull << 20;
	/* A Hello is one small frame: ten seconds is generous even on a
	 * loaded host, and bounds how long a silent peer holds a slot. */
	c->handshake_timeout_ns = 10ull * 1000000000;
	c->frame_timeout_ns = 30ull * 1000000000;
	/* One uid cannot fill every slot, and root and the admin group
	 * always find one. */
	c->max_connections_per_uid = 512;
	c->reserved_connections = 32;
	c->max_buffered_bytes = 256ull << 20;
	c->max_runs_per_connection = 64;
	c->sandbox_peers = SANDBOX_PEERS_REFUSE;
	tenant_init(&c->fallback);
	c->fallback.name = strdup("default");
	/* root may do anything root could do without boxd, unless a
	 * tenant section names it. */
	tenant_init(&c->root);
	c->root.name = strdup("root");
	c->root.allow_net_host = true;
	c->root.allow_seccomp_none = true;
	c->root.allow_custom_seccomp = true;
	if (!c->socket_path || !c->fallback.name || !c->root.name)
		return config_free(c);
	return c;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	free(c->socket_path);
	free(c->admin_gids);
	for (size_t i = 0; i < c->n_tenants; i++)
		tenant_done(&c->tenants[i]);
	free(c->tenants);
	tenant_done(&c->fallback);
	tenant_done(&c->root);
	free(c);
	return NULL;
}

int config_new_default(struct config **ret)
{
	struct config *c = config_alloc();

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

/* -------------------------------------------------------------- sections */

static int daemon_key(struct config_parser *p, struct load *ld,
		      const char *name, char *v)
{
	struct config *c = ld->c;
	int k = config_key_index(daemon_keys, _D_MAX, name);
	uint64_t size;

	if (k < 0)
		return config_parse_fail(p, "unknown key '%s' in [daemon]",
					 name);
	if (ld->daemon_lines[k])
		return config_parse_fail(p,
					 "'%s' given twice (first on line %u)",
					 name, ld->daemon_lines[k]);
	ld->daemon_lines[k] = p->lines.line;

	switch ((enum daemon_key)k) {
	case D_SOCKET: {
		char *path;

		if (v[0] != '/' || strlen(v) >= SUN_PATH_MAX)
			return config_parse_fail(
			    p,
			    "socket: '%s' is not an absolute path of at most "
			    "%zu bytes",
			    v, SUN_PATH_MAX - 1);
		path = strdup(v);
		if (!path)
			return config_parse_fail(p, "out of memory");
		free(c->socket_path);
		c->socket_path = path;
		return 0;
	}
	case D_MAX_FRAME:
		/* Big enough for ~2 MiB of argv and environment, small
		 * enough that a client cannot make the daemon allocate
		 * much per connection. */
		if (parse_size(v, &size) < 0 || size < (64u << 10) ||
		    size > (256u << 20))
			return config_parse_fail(
			    p, "max-frame: '%s' is not a size from 64K to 256M",
			    v);
		c->max_frame_bytes = (uint32_t)size;
		return 0;
	case D_MAX_CONNECTIONS:
		if (parse_uint32(v, &c->max_connections) < 0 ||
		    c->max_connections < 1 || c->max_connections > (1u << 20))
			return config_parse_fail(
			    p,
			    "max-connections: '%s' is not a number from 1 to "
			    "1048576",
			    v);
		return 0;
	case D_POOL_SIZE:
		if (parse_uint32(v, &c->pool_size) < 0 || c->pool_size > 1024)
			return config_parse_fail(
			    p, "pool-size: '%s' is not a number from 0 to 1024",
			    v);
		return 0;
	case D_POOL_LOW:
		if (parse_uint32(v, &c->pool_low) < 0 || c->pool_low > 1024)
			return config_parse_fail(
			    p, "pool-low: '%s' is not a number from 0 to 1024",
			    v);
		return 0;
	case D_POOL_WAIT:
		if (parse_uint32(v, &c->pool_wait_ms) < 0 ||
		    c->pool_wait_ms > POOL_WAIT_MS_MAX)
			return config_parse_fail(
			    p,
			    "pool-wait-ms: '%s' is not a number from 0 to %u",
			    v, POOL_WAIT_MS_MAX);
		return 0;
	case D_TMPFS_SIZE:
		if (parse_size(v, &size) < 0 || size == 0)
			return config_parse_fail(
			    p, "tmpfs-size: '%s' is not a size above 0", v);
		c->tmpfs_default_bytes = size;
		return 0;
	case D_HANDSHAKE_TIMEOUT:
	case D_FRAME_TIMEOUT: {
		uint64_t ns;

		if (parse_duration(v, &ns) < 0 || ns < 100000000ULL ||
		    ns > 3600ull * 1000000000)
			return config_parse_fail(
			    p, "%s: '%s' is not a duration from 100ms to 1h",
			    name, v);
		if (k == D_HANDSHAKE_TIMEOUT)
			c->handshake_timeout_ns = ns;
		else
			c->frame_timeout_ns = ns;
		return 0;
	}
	case D_MAX_CONNECTIONS_PER_UID:
	case D_RESERVED_CONNECTIONS:
	case D_MAX_RUNS_PER_CONNECTION: {
		uint32_t n;

		if (parse_uint32(v, &n) < 0 || n > (1u << 20) ||
		    (n == 0 && k != D_RESERVED_CONNECTIONS))
			return config_parse_fail(
			    p, "%s: '%s' is not a number from %d to 1048576",
			    name, v, k == D_RESERVED_CONNECTIONS ? 0 : 1);
		if (k == D_MAX_CONNECTIONS_PER_UID)
			c->max_connections_per_uid = n;
		else if (k == D_RESERVED_CONNECTIONS)
			c->reserved_connections = n;
		else
			c->max_runs_per_connection = n;
		return 0;
	}
	case D_ADMIN_GROUP:
		return config_parse_ids(p, name, v, true,
					(uint32_t **)&c->admin_gids,
					&c->n_admin_gids);
	case D_MAX_BUFFERED:
		if (parse_size(v, &size) < 0 || size < (1u << 20))
			return config_parse_fail(
			    p, "max-buffered: '%s' is not a size of 1M or more",
			    v);
		c->max_buffered_bytes = size;
		return 0;
	case D_SANDBOX_PEERS:
		if (strcmp(v, "refuse") == 0)
			c->sandbox_peers = SANDBOX_PEERS_REFUSE;
		else if (strcmp(v, "confined") == 0)
			c->sandbox_peers = SANDBOX_PEERS_CONFINED;
		else
			return config_parse_fail(
			    p,
			    "sandbox-peers: '%s' is neither 'refuse' nor "
			    "'confined'",
			    v);
		return 0;
	case _D_MAX:
		break;
	}
	return config_parse_fail(p, "unknown key '%s' in [daemon]", name);
}

static int private_key(struct config_parser *p, struct load *ld,
		       const char *name, char *v)
{
	int k = config_key_index(private_keys, _P_MAX, name);
	uint32_t n;

	if (k < 0)
		return config_parse_fail(p, "unknown key '%s' in [private-ids]",
					 name);
	if (ld->private_lines[k])
		return config_parse_fail(p,
					 "'%s' given twice (first on line %u)",
					 name, ld->private_lines[k]);
	ld->private_lines[k] = p->lines.line;
	if (parse_uint32(v, &n) < 0)
		return config_parse_fail(p, "%s: '%s' is not a number", name,
					 v);
	if (k == P_FIRST)
		ld->c->private_uid_first = n;
	else
		ld->c->private_uid_count = n;
	return 0;
}

static int on_key(struct config_parser *p, const char *name, char *v,
		  void *userdata)
{
	struct load *ld = userdata;

	switch (ld->kind) {
	case SECTION_DAEMON:
		return daemon_key(p, ld, name, v);
	case SECTION_PRIVATE_IDS:
		return private_key(p, ld, name, v);
	case SECTION_DEFAULT:
		return tenant_key(p, &ld->c->fallback, &ld->default_lines, true,
				  name, v);
	case SECTION_TENANT:
		return tenant_key(p, &ld->c->tenants[ld->tenant],
				  &ld->tenant_lines[ld->tenant], false, name,
				  v);
	case SECTION_NONE:
		break;
	}
	return config_parse_fail(p, "'%s' outside of any section", name);
}

static bool valid_tenant_name(const char *s, size_t n)
{
	if (n == 0 || n > TENANT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int begin_tenant(struct config_parser *p, struct load *ld,
			const char *name)
{
	struct config *c = ld->c;

	for (size_t i = 0; i < c->n_tenants; i++)
		if (strcmp(c->tenants[i].name, name) == 0)
			return config_parse_fail(
			    p, "[tenant.%s] appears twice (first on line %u)",
			    name, ld->tenant_lines[i].header);
	if (c->n_tenants == ld->tenants_cap) {
		size_t cap = ld->tenants_cap ? ld->tenants_cap * 2 : 8;
		struct tenant_policy *t = realloc(c->tenants, cap * sizeof(*t));
		struct tenant_lines *l;

		if (!t)
			return config_parse_fail(p, "out of memory");
		c->tenants = t;
		l = realloc(ld->tenant_lines, cap * sizeof(*l));
		if (!l)
			return config_parse_fail(p, "out of memory");
		ld->tenant_lines = l;
		ld->tenants_cap = cap;
	}
	tenant_init(&c->tenants[c->n_tenants]);
	c->tenants[c->n_tenants].name = strdup(name);
	if (!c->tenants[c->n_tenants].name)
		return config_parse_fail(p, "out of memory");
	ld->tenant_lines[c->n_tenants] =
	    (struct tenant_lines){p->lines.line, {0}};
	ld->tenant = c->n_tenants++;
	ld->kind = SECTION_TENANT;
	return 0;
}

/* Each section at most once; [tenant.NAME] once per name. */
static int begin_once(struct config_parser *p, struct load *ld,
		      unsigned *header, enum section_kind kind)
{
	if (*header)
		return config_parse_fail(
		    p, "[%s] appears twice (first on line %u)", p->section,
		    *header);
	*header = p->lines.line;
	ld->kind = kind;
	return 0;
}

static int on_section(struct config_parser *p, const char *name, void *userdata)
{
	struct load *ld = userdata;

	if (strcmp(name, "daemon") == 0)
		return begin_once(p, ld, &ld->daemon_header, SECTION_DAEMON);
	if (strcmp(name, "private-ids") == 0)
		return begin_once(p, ld, &ld->private_header,
				  SECTION_PRIVATE_IDS);
	if (strcmp(name, "default") == 0)
		return begin_once(p, ld, &ld->default_lines.header,
				  SECTION_DEFAULT);
	if (strncmp(name, "tenant.", 7) == 0) {
		if (!valid_tenant_name(name + 7, strlen(name + 7)))
			return config_parse_fail(
			    p,
			    "bad tenant name '%s' (1 to %d letters, digits, "
			    "'-' or '_')",
			    name + 7, TENANT_NAME_MAX);
		return begin_tenant(p, ld, name + 7);
	}
	return config_parse_fail(p,
				 "unknown section [%s] (daemon, private-ids, "
				 "default or tenant.NAME)",
				 name);
}

/* ------------------------------------------------------------ validation */

static int validate_private_ids(struct config_parser *p, struct load *ld)
{
	struct config *c = ld->c;
	uint64_t last;

	if (!ld->private_lines[P_FIRST] || !ld->private_lines[P_COUNT])
		return config_parse_fail_at(
		    p, ld->private_header,
		    "[private-ids] needs both first and count");
	last = (uint64_t)c->private_uid_first + c->private_uid_count - 1;
	/* A private uid 0 would be host root. */
	if (c->private_uid_first == 0)
		return config_parse_fail_at(
		    p, ld->private_lines[P_FIRST],
		    "first: the range must not include uid 0");
	if (c->private_uid_count == 0 ||
	    c->private_uid_count > PRIVATE_COUNT_MAX)
		return config_parse_fail_at(p, ld->private_lines[P_COUNT],
					    "count: %u is not from 1 to %u",
					    c->private_uid_count,
					    PRIVATE_COUNT_MAX);
	if (last >= UINT32_MAX)
		return config_parse_fail_at(p, ld->private_lines[P_COUNT],
					    "count: the range runs past the "
					    "largest uid");
	/* Files of unmapped owners show up as the overflow uid: a run
	 * owning it could modify them. */
	if (config_private_id(c, OVERFLOW_UID))
		return config_parse_fail_at(
		    p, ld->private_header,
		    "the range includes %u, the overflow uid (nobody)",
		    OVERFLOW_UID);
	/* A private run must not be mistaken for a real tenant when it
	 * touches a writable bind. */
	for (size_t i = 0; i < c->n_tenants; i++)
		for (size_t j = 0; j < c->tenants[i].n_uids; j++)
			if (config_private_id(c, c->tenants[i].uids[j]))
				return config_parse_fail_at(
				    p, ld->private_header,
				    "the range includes uid %u of [tenant.%s]",
				    c->tenants[i].uids[j], c->tenants[i].name);
	return 0;
}

static int validate(struct config_parser *p, void *userdata)
{
	struct load *ld = userdata;
	struct config *c = ld->c;
	int r;

	if (ld->daemon_lines[D_POOL_LOW] && c->pool_low > c->pool_size)
		return config_parse_fail_at(p, ld->daemon_lines[D_POOL_LOW],
					    "pool-low %u is above pool-size %u",
					    c->pool_low, c->pool_size);
	/* Reserved slots are part of max-connections: the rest must be
	 * left to everyone else. Unset, the reserve shrinks with a small
	 * max-connections (an eighth of it at most). */
	if (ld->daemon_lines[D_RESERVED_CONNECTIONS] &&
	    c->reserved_connections >= c->max_connections)
		return config_parse_fail_at(
		    p, ld->daemon_lines[D_RESERVED_CONNECTIONS],
		    "reserved-connections %u leaves nothing of "
		    "max-connections %u for anyone but root and the admin "
		    "group",
		    c->reserved_connections, c->max_connections);
	if (!ld->daemon_lines[D_RESERVED_CONNECTIONS] &&
	    c->reserved_connections > c->max_connections / 8)
		c->reserved_connections = c->max_connections / 8;

	if (ld->private_header && (r = validate_private_ids(p, ld)) < 0)
		return r;
	return tenant_validate(p, c, ld->tenant_lines, &ld->default_lines,
			       ld->private_header != 0);
}

static const struct config_parse_ops config_ops = {
    .section = on_section,
    .key = on_key,
    .end = validate,
};

int config_load(const char *path, struct error_detail *err, struct config **ret)
{
	struct load ld = {0};
	int r;

	ld.c = config_alloc();
	if (!ld.c)
		return error_set(err, ERROR_INTERNAL, -ENOMEM, "out of memory");
	r = config_parse_file(path, &config_ops, &ld, err);
	free(ld.tenant_lines);
	if (r < 0) {
		config_free(ld.c);
		return r;
	}
	*ret = ld.c;
	return 0;
}
