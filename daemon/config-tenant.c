/*
 * Tenant policies: the keys of [default] and [tenant.NAME] sections (ids,
 * ceilings, bind prefixes, uid mode), the checks run once the whole file
 * is read, and the lookups the daemon makes for every connection and
 * request: which policy a peer gets and whether a host path may be bound.
 * Values are read with config-parse.c; nothing here calls into config.c.
 *
 * This file must never accept a value it did not fully understand: a
 * malformed id, a ceiling of 0 (it would read as "nothing" but mean "no
 * ceiling"), a relative path or one with ".." is an error naming the line,
 * and the caller keeps its previous config. A typo must not quietly
 * loosen a tenant's limits. Lookups (config_tenant, tenant_may_bind) run
 * on every request and never allocate.
 */
#include <errno.h>
#include <string.h>

#include "config-internal.h"
#include "util.h"

static const char *const tenant_keys[_T_MAX] = {
    [T_UIDS] = "uids",
    [T_GROUPS] = "groups",
    [T_CONNECT] = "connect",
    [T_MAX_MEMORY] = "max-memory",
    [T_MAX_CPUS] = "max-cpus",
    [T_MAX_PIDS] = "max-pids",
    [T_MAX_TIMEOUT] = "max-timeout",
    [T_MAX_CPU_TIME] = "max-cpu-time",
    [T_MAX_RUNS] = "max-runs",
    [T_MAX_CONNECTIONS] = "max-connections",
    [T_NET_HOST] = "net-host",
    [T_NET_OUTBOUND] = "net-outbound",
    [T_SECCOMP_NONE] = "seccomp-none",
    [T_CUSTOM_SECCOMP] = "custom-seccomp",
    [T_BIND] = "bind",
    [T_BIND_RW] = "bind-rw",
    [T_UID_MODE] = "uid-mode",
    [T_DENY] = "deny",
};

/* --------------------------------------------------------- tenant basics */

void tenant_init(struct tenant_policy *t)
{
	*t = (struct tenant_policy){
	    .allow_connect = true,
	    /* What any local user can do from a shell: connect out. */
	    .allow_net_outbound = true,
	    .uid_mode = UID_MODE_CALLER,
	};
}

void tenant_done(struct tenant_policy *t)
{
	free(t->name);
	free(t->uids);
	free(t->gids);
	for (size_t i = 0; i < t->n_binds; i++)
		free(t->binds[i].prefix);
	free(t->binds);
	for (size_t i = 0; i < t->n_deny; i++)
		free(t->deny[i]);
	free(t->deny);
	*t = (struct tenant_policy){};
}

/* ----------------------------------------------------------------- binds */

static int add_binds(struct config_parser *p, struct tenant_policy *t,
		     const char *key, char *v, bool writable)
{
	char *word;
	bool any = false;

	while ((word = config_next_word(&v))) {
		struct bind_rule *grown;
		char *prefix = NULL;
		int r = config_parse_path(p, key, word, &prefix);

		if (r < 0)
			return r;
		grown = realloc(t->binds, (t->n_binds + 1) * sizeof(*grown));
		if (!grown) {
			free(prefix);
			return config_parse_fail(p, "%s: out of memory", key);
		}
		t->binds = grown;
		t->binds[t->n_binds++] =
		    (struct bind_rule){.prefix = prefix, .writable = writable};
		any = true;
	}
	if (!any)
		return config_parse_fail(p, "%s: empty list", key);
	t->binds_restricted = true;
	return 0;
}

/* ------------------------------------------------------------------ deny */

static int deny_add(struct tenant_policy *t, const char *path)
{
	char **grown = realloc(t->deny, (t->n_deny + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	t->deny = grown;
	t->deny[t->n_deny] = strdup(path);
	if (!t->deny[t->n_deny])
		return -ENOMEM;
	t->n_deny++;
	return 0;
}

static int add_deny(struct config_parser *p, struct tenant_policy *t,
		    const char *key, char *v)
{
	char *word;
	bool any = false;

	while ((word = config_next_word(&v))) {
		_cleanup_free_ char *path = NULL;
		int r = config_parse_path(p, key, word, &path);

		if (r < 0)
			return r;
		/* "/" would hide the whole host: every bind, the profile's
		 * system directories, so nothing could run at all. */
		if (strcmp(path, "/") == 0)
			return config_parse_fail(p, "%s: / cannot be hidden",
						 key);
		if (deny_add(t, path) < 0)
			return config_parse_fail(p, "%s: out of memory", key);
		any = true;
	}
	if (!any)
		return config_parse_fail(p, "%s: empty list", key);
	return 0;
}

/* ------------------------------------------------------------------ keys */

static bool repeatable(enum tenant_key k)
{
	return k == T_UIDS || k == T_GROUPS || k == T_BIND || k == T_BIND_RW ||
	       k == T_DENY;
}

int tenant_key(struct config_parser *p, struct tenant_policy *t,
	       struct tenant_lines *tl, bool is_default, const char *name,
	       char *v)
{
	int k = config_key_index(tenant_keys, _T_MAX, name);

	if (k < 0)
		return config_parse_fail(p, "unknown key '%s' in [%s]", name,
					 p->section);
	if (tl->key[k] && !repeatable((enum tenant_key)k))
		return config_parse_fail(
		    p, "'%s' given twice (first on line %u)", name, tl->key[k]);
	if (!tl->key[k])
		tl->key[k] = p->lines.line;

	switch ((enum tenant_key)k) {
	case T_UIDS:
	case T_GROUPS:
		if (is_default)
			return config_parse_fail(
			    p,
			    "'%s' belongs in a [tenant.NAME] section: "
			    "[default] is for callers no section matches",
			    name);
		if (k == T_UIDS)
			return config_parse_ids(p, name, v, false, &t->uids,
						&t->n_uids);
		return config_parse_ids(p, name, v, true, &t->gids, &t->n_gids);
	case T_CONNECT:
		return config_parse_bool(p, name, v, &t->allow_connect);
	case T_MAX_MEMORY:
		return config_parse_ceiling_size(p, name, v,
						 &t->max_memory_bytes);
	case T_MAX_CPUS:
		return config_parse_ceiling_cpus(p, name, v,
						 &t->max_cpu_millis);
	case T_MAX_PIDS:
		return config_parse_ceiling_u32(p, name, v, &t->max_pids);
	case T_MAX_TIMEOUT:
		return config_parse_ceiling_duration(p, name, v,
						     &t->max_timeout_ns);
	case T_MAX_CPU_TIME:
		return config_parse_ceiling_duration(p, name, v,
						     &t->max_cpu_time_ns);
	case T_MAX_RUNS:
		return config_parse_ceiling_u32(p, name, v, &t->max_runs);
	case T_MAX_CONNECTIONS:
		return config_parse_ceiling_u32(p, name, v,
						&t->max_connections);
	case T_NET_HOST:
		return config_parse_bool(p, name, v, &t->allow_net_host);
	case T_NET_OUTBOUND:
		return config_parse_bool(p, name, v, &t->allow_net_outbound);
	case T_SECCOMP_NONE:
		return config_parse_bool(p, name, v, &t->allow_seccomp_none);
	case T_CUSTOM_SECCOMP:
		return config_parse_bool(p, name, v, &t->allow_custom_seccomp);
	case T_BIND:
		/* "bind = none": no host path at all. */
		if (strcmp(v, "none") == 0) {
			t->binds_restricted = true;
			return 0;
		}
		return add_binds(p, t, name, v, false);
	case T_BIND_RW:
		return add_binds(p, t, name, v, true);
	case T_DENY:
		return add_deny(p, t, name, v);
	case T_UID_MODE:
		if (strcmp(v, "caller") == 0)
			t->uid_mode = UID_MODE_CALLER;
		else if (strcmp(v, "private") == 0)
			t->uid_mode = UID_MODE_PRIVATE;
		else
			return config_parse_fail(
			    p, "uid-mode: '%s' is not caller or private", v);
		return 0;
	case _T_MAX:
		break;
	}
	return config_parse_fail(p, "unknown key '%s'", name);
}

/* ------------------------------------------------------------ validation */

static int copy_binds(struct tenant_policy *t, const struct tenant_policy *d)
{
	t->binds_restricted = d->binds_restricted;
	if (!d->n_binds)
		return 0;
	t->binds = calloc(d->n_binds, sizeof(*t->binds));
	if (!t->binds)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_binds; i++) {
		t->binds[i].prefix = strdup(d->binds[i].prefix);
		if (!t->binds[i].prefix)
			return -ENOMEM;
		t->binds[i].writable = d->binds[i].writable;
		t->n_binds++;
	}
	return 0;
}

/* A tenant section starts from [default], wherever [default] is in the
 * file: a ceiling set for everyone is not lifted by forgetting to repeat
 * it. Each key a section sets replaces the default's (bind and bind-rw
 * together replace the default's bind list). Except connect: a section
 * is a grant to the callers it names, while [default]'s connect is about
 * strangers, so "connect = no" there does not lock out every tenant. */
static int inherit(struct tenant_policy *t, const struct tenant_lines *tl,
		   const struct tenant_policy *d, const struct tenant_lines *dl)
{
#define INHERIT(k, field)                      \
	do {                                   \
		if (!tl->key[k] && dl->key[k]) \
			t->field = d->field;   \
	} while (0)
	INHERIT(T_MAX_MEMORY, max_memory_bytes);
	INHERIT(T_MAX_CPUS, max_cpu_millis);
	INHERIT(T_MAX_PIDS, max_pids);
	INHERIT(T_MAX_TIMEOUT, max_timeout_ns);
	INHERIT(T_MAX_CPU_TIME, max_cpu_time_ns);
	INHERIT(T_MAX_RUNS, max_runs);
	INHERIT(T_MAX_CONNECTIONS, max_connections);
	INHERIT(T_NET_HOST, allow_net_host);
	INHERIT(T_NET_OUTBOUND, allow_net_outbound);
	INHERIT(T_SECCOMP_NONE, allow_seccomp_none);
	INHERIT(T_CUSTOM_SECCOMP, allow_custom_seccomp);
	INHERIT(T_UID_MODE, uid_mode);
#undef INHERIT
	/* deny adds up: a path hidden from everyone stays hidden from a
	 * tenant whose section hides more, or forgets to repeat it. */
	for (size_t i = 0; i < d->n_deny; i++)
		if (deny_add(t, d->deny[i]) < 0)
			return -ENOMEM;
	if (!tl->key[T_BIND] && !tl->key[T_BIND_RW])
		return copy_binds(t, d);
	return 0;
}

int tenant_validate(struct config_parser *p, struct config *c,
		    const struct tenant_lines *lines,
		    const struct tenant_lines *default_lines,
		    bool have_private_range)
{
	if (c->fallback.uid_mode == UID_MODE_PRIVATE && !have_private_range)
		return config_parse_fail_at(p, default_lines->key[T_UID_MODE],
					    "uid-mode = private needs a "
					    "[private-ids] range");
	for (size_t i = 0; i < c->n_tenants; i++) {
		struct tenant_policy *t = &c->tenants[i];
		const struct tenant_lines *tl = &lines[i];

		if (!t->n_uids && !t->n_gids)
			return config_parse_fail_at(
			    p, tl->header,
			    "[tenant.%s] has no uids or groups, so it matches "
			    "nobody",
			    t->name);
		if (t->uid_mode == UID_MODE_PRIVATE && !have_private_range)
			return config_parse_fail_at(p, tl->key[T_UID_MODE],
						    "uid-mode = private needs "
						    "a [private-ids] range");
		if (inherit(t, tl, &c->fallback, default_lines) < 0)
			return config_parse_fail_at(p, tl->header,
						    "out of memory");
	}
	return 0;
}

/* --------------------------------------------------------------- lookups */

static bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

const struct tenant_policy *config_tenant(const struct config *c, uid_t uid,
					  gid_t gid, const gid_t *groups,
					  size_t n_groups)
{
	for (size_t i = 0; i < c->n_tenants; i++) {
		const struct tenant_policy *t = &c->tenants[i];

		if (has_id(t->uids, t->n_uids, uid) ||
		    has_id(t->gids, t->n_gids, gid))
			return t;
		for (size_t j = 0; j < n_groups; j++)
			if (has_id(t->gids, t->n_gids, groups[j]))
				return t;
	}
	if (uid == 0)
		return &c->root;
	return &c->fallback;
}

bool config_private_id(const struct config *c, uint32_t id)
{
	return c->private_uid_count &&
	       id - c->private_uid_first < c->private_uid_count;
}

const struct tenant_policy *config_tenant_for_peer(const struct config *c,
						   uid_t uid, gid_t gid,
						   const gid_t *groups,
						   size_t n_groups)
{
	if (config_private_id(c, uid) || config_private_id(c, gid))
		return NULL;
	return config_tenant(c, uid, gid, groups, n_groups);
}

/* Refuse what a lexical prefix test would get wrong: "/srv/data/../etc"
 * starts with "/srv/data" but is /etc. */
static bool is_normalized(const char *p)
{
	if (p[0] != '/')
		return false;
	if (p[1] == '\0')
		return true;
	for (const char *c = p; *c;) {
		const char *start = ++c;
		size_t n;

		while (*c && *c != '/')
			c++;
		n = (size_t)(c - start);
		if (n == 0 || (n == 1 && start[0] == '.') ||
		    (n == 2 && start[0] == '.' && start[1] == '.'))
			return false;
	}
	return true;
}

/* Whole components only: /srv/data covers /srv/data/x, not /srv/database.
 * The test is lexical: the caller must bind exactly the path it checked,
 * opened without following symlinks, or a link under an allowed prefix
 * would lead out of it. */
static bool under_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 1 && prefix[0] == '/')
		return true;
	return strncmp(path, prefix, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

static uint64_t lower_u64(uint64_t a, uint64_t b)
{
	if (!a || !b)
		return a ? a : b;
	return a < b ? a : b;
}

int tenant_confine(const struct tenant_policy *base,
		   const struct tenant_policy *ceil,
		   const struct bind_rule *binds, size_t n_binds,
		   const char *name, struct tenant_policy *ret)
{
	struct tenant_policy t = *base;

	/* Nothing of base's that the copy would share: only plain values
	 * survive, pointers are made anew or cleared. */
	t.uids = NULL;
	t.n_uids = 0;
	t.gids = NULL;
	t.n_gids = 0;
	t.binds = NULL;
	t.n_binds = 0;
	t.deny = NULL;
	t.n_deny = 0;
	t.name = strdup(name);
	if (!t.name)
		return -ENOMEM;
	/* What the base hides stays hidden from runs started inside. */
	for (size_t i = 0; i < base->n_deny; i++) {
		if (deny_add(&t, base->deny[i]) < 0) {
			tenant_done(&t);
			return -ENOMEM;
		}
	}
	t.max_memory_bytes =
	    lower_u64(base->max_memory_bytes, ceil->max_memory_bytes);
	t.max_cpu_millis =
	    (uint32_t)lower_u64(base->max_cpu_millis, ceil->max_cpu_millis);
	t.max_pids = (uint32_t)lower_u64(base->max_pids, ceil->max_pids);
	t.max_timeout_ns =
	    lower_u64(base->max_timeout_ns, ceil->max_timeout_ns);
	t.max_cpu_time_ns =
	    lower_u64(base->max_cpu_time_ns, ceil->max_cpu_time_ns);
	/* Never wider than a sandbox: no host network, outbound only from
	 * a run that has it, no run without the filter, no policy of its
	 * own (which could allow what the default filter denies). */
	t.allow_net_host = false;
	t.allow_net_outbound =
	    base->allow_net_outbound && ceil->allow_net_outbound;
	t.allow_seccomp_none = false;
	t.allow_custom_seccomp = false;
	t.binds_restricted = true;
	if (n_binds) {
		t.binds = calloc(n_binds, sizeof(*t.binds));
		if (!t.binds) {
			free(t.name);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n_binds; i++) {
			t.binds[i].writable = binds[i].writable;
			t.binds[i].prefix = strdup(binds[i].prefix);
			t.n_binds++;
			if (!t.binds[i].prefix) {
				tenant_done(&t);
				return -ENOMEM;
			}
		}
	}
	*ret = t;
	return 0;
}

void tenant_release(struct tenant_policy *t)
{
	tenant_done(t);
}

bool tenant_may_bind(const struct tenant_policy *t, const char *src,
		     bool writable)
{
	if (!src || !is_normalized(src))
		return false;
	if (!t->binds_restricted)
		return true;
	for (size_t i = 0; i < t->n_binds; i++) {
		if (writable && !t->binds[i].writable)
			continue;
		if (under_prefix(src, t->binds[i].prefix))
			return true;
	}
	return false;
}
