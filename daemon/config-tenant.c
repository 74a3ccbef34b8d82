/*
 * Tenant policies: the keys of [default] and [tenant.NAME] sections (ids,
 * ceilings, bind prefixes, uid mode), the checks run once the whole file
 * is read, and the lookups the daemon makes for every request: which
 * policy a peer gets and whether a host path may be bound.
 *
 * This file must never accept a value it did not fully understand: a
 * malformed id, a ceiling of 0 (it would read as "nothing" but mean "no
 * ceiling"), a relative path or one with ".." is an error naming the line,
 * and the caller keeps its previous config. A typo must not quietly
 * loosen a tenant's limits. Lookups (config_tenant, tenant_may_bind) run
 * on every request and never allocate.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>

#include "config-internal.h"
#include "parse.h"
#include "util.h"

#define NSS_BUF_MAX (1024 * 1024)

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
    [T_SECCOMP_NONE] = "seccomp-none",
    [T_CUSTOM_SECCOMP] = "custom-seccomp",
    [T_BIND] = "bind",
    [T_BIND_RW] = "bind-rw",
    [T_UID_MODE] = "uid-mode",
};

/* --------------------------------------------------------- tenant basics */

void tenant_init(struct tenant_policy *t)
{
	*t = (struct tenant_policy){
	    .allow_connect = true,
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
	*t = (struct tenant_policy){};
}

/* ---------------------------------------------------------------- values */

static int parse_bool(struct load_state *st, const char *key, const char *v,
		      bool *ret)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		*ret = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		*ret = false;
	else
		return fail(st, "%s: '%s' is not yes or no", key, v);
	return 1;
}

/* A ceiling: a positive value or "unlimited" (0). A literal 0 would read
 * as "nothing allowed" but mean "no ceiling", so it is refused. */
static bool is_unlimited(const char *v)
{
	return strcmp(v, "unlimited") == 0;
}

static int zero_ceiling(struct load_state *st, const char *key)
{
	return fail(st, "%s: 0 would mean no ceiling; write 'unlimited'", key);
}

static int parse_ceiling_u32(struct load_state *st, const char *key,
			     const char *v, uint32_t *ret)
{
	uint32_t n;

	if (is_unlimited(v)) {
		*ret = 0;
		return 1;
	}
	if (parse_uint32(v, &n) < 0)
		return fail(st, "%s: '%s' is not a number", key, v);
	if (n == 0)
		return zero_ceiling(st, key);
	*ret = n;
	return 1;
}

static int parse_ceiling_size(struct load_state *st, const char *key,
			      const char *v, uint64_t *ret)
{
	uint64_t n;

	if (is_unlimited(v)) {
		*ret = 0;
		return 1;
	}
	if (parse_size(v, &n) < 0)
		return fail(st, "%s: '%s' is not a size (e.g. 512M, 2G)", key,
			    v);
	if (n == 0)
		return zero_ceiling(st, key);
	*ret = n;
	return 1;
}

static int parse_ceiling_duration(struct load_state *st, const char *key,
				  const char *v, uint64_t *ret)
{
	uint64_t n;

	if (is_unlimited(v)) {
		*ret = 0;
		return 1;
	}
	if (parse_duration(v, &n) < 0)
		return fail(st, "%s: '%s' is not a duration (e.g. 90s, 10m)",
			    key, v);
	if (n == 0)
		return zero_ceiling(st, key);
	*ret = n;
	return 1;
}

/* A user or group id: a number, or a name looked up now (a group created
 * later takes effect on the next reload). (uid_t)-1 means "no id" to
 * the kernel and is never a valid entry. */
static int parse_id(struct load_state *st, const char *key, const char *v,
		    bool group, uint32_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 1024;
	uint32_t n;
	int r;

	if (v[0] >= '0' && v[0] <= '9') {
		if (parse_uint32(v, &n) < 0 || n == UINT32_MAX)
			return fail(st, "%s: '%s' is not a valid id", key, v);
		*ret = n;
		return 1;
	}
	for (;;) {
		struct group gr, *grp = NULL;
		struct passwd pw, *pwp = NULL;
		char *grown = realloc(buf, len);

		if (!grown)
			return fail(st, "%s: out of memory", key);
		buf = grown;
		if (group) {
			r = getgrnam_r(v, &gr, buf, len, &grp);
			if (r == 0 && grp) {
				*ret = grp->gr_gid;
				return 1;
			}
		} else {
			r = getpwnam_r(v, &pw, buf, len, &pwp);
			if (r == 0 && pwp) {
				*ret = pwp->pw_uid;
				return 1;
			}
		}
		if (r != ERANGE || len >= NSS_BUF_MAX)
			break;
		len *= 2;
	}
	if (r != 0 && r != ENOENT && r != ESRCH)
		return fail(st, "%s: looking up '%s': %s", key, v, strerror(r));
	return fail(st, "%s: unknown %s '%s'", key, group ? "group" : "user",
		    v);
}

static int add_ids(struct load_state *st, const char *key, char *v, bool group,
		   uint32_t **ids, size_t *n_ids)
{
	char *word;
	size_t before = *n_ids;

	while ((word = config_next_word(&v))) {
		uint32_t id = 0, *grown;

		if (!parse_id(st, key, word, group, &id))
			return 0;
		grown = realloc(*ids, (*n_ids + 1) * sizeof(**ids));
		if (!grown)
			return fail(st, "%s: out of memory", key);
		*ids = grown;
		(*ids)[(*n_ids)++] = id;
	}
	if (*n_ids == before)
		return fail(st, "%s: empty list", key);
	return 1;
}

/* Lexically normalised absolute path: no empty, "." or trailing
 * components. ".." is refused rather than folded: "/srv/data/../etc" would
 * otherwise read as a prefix of /srv/data in a quick glance, and folding
 * it disagrees with the kernel when a component is a symlink. */
static int normalize_path(struct load_state *st, const char *key, const char *v,
			  char **ret)
{
	size_t len = strlen(v), o = 0;
	_cleanup_free_ char *out = NULL;
	const char *p = v;

	if (v[0] != '/')
		return fail(st, "%s: '%s' is not an absolute path", key, v);
	if (len >= PATH_MAX)
		return fail(st, "%s: path too long", key);
	out = malloc(len + 2);
	if (!out)
		return fail(st, "%s: out of memory", key);
	while (*p) {
		const char *c;
		size_t n;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return fail(st, "%s: '..' in '%s'", key, v);
		out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	return 1;
}

static int add_binds(struct load_state *st, struct tenant_policy *t,
		     const char *key, char *v, bool writable)
{
	char *word;
	bool any = false;

	while ((word = config_next_word(&v))) {
		struct bind_rule *grown;
		char *prefix = NULL;

		if (!normalize_path(st, key, word, &prefix))
			return 0;
		grown = realloc(t->binds, (t->n_binds + 1) * sizeof(*grown));
		if (!grown) {
			free(prefix);
			return fail(st, "%s: out of memory", key);
		}
		t->binds = grown;
		t->binds[t->n_binds++] =
		    (struct bind_rule){.prefix = prefix, .writable = writable};
		any = true;
	}
	if (!any)
		return fail(st, "%s: empty list", key);
	t->binds_restricted = true;
	return 1;
}

/* ------------------------------------------------------------------ keys */

static bool repeatable(enum tenant_key k)
{
	return k == T_UIDS || k == T_GROUPS || k == T_BIND || k == T_BIND_RW;
}

int tenant_key(struct load_state *st, struct tenant_policy *t,
	       struct tenant_lines *tl, bool is_default, const char *name,
	       char *v)
{
	int k = config_key_index(tenant_keys, _T_MAX, name);
	int r;

	if (k < 0)
		return fail(st, "unknown key '%s' in [%s]", name, st->section);
	if (tl->key[k] && !repeatable((enum tenant_key)k))
		return fail(st, "'%s' given twice (first on line %u)", name,
			    tl->key[k]);
	if (!tl->key[k])
		tl->key[k] = st->line;

	switch ((enum tenant_key)k) {
	case T_UIDS:
	case T_GROUPS:
		if (is_default)
			return fail(st,
				    "'%s' belongs in a [tenant.NAME] section: "
				    "[default] is for callers no section "
				    "matches",
				    name);
		if (k == T_UIDS)
			return add_ids(st, name, v, false, &t->uids,
				       &t->n_uids);
		return add_ids(st, name, v, true, &t->gids, &t->n_gids);
	case T_CONNECT:
		return parse_bool(st, name, v, &t->allow_connect);
	case T_MAX_MEMORY:
		return parse_ceiling_size(st, name, v, &t->max_memory_bytes);
	case T_MAX_CPUS:
		if (is_unlimited(v)) {
			t->max_cpu_millis = 0;
			return 1;
		}
		/* parse_cpus refuses 0 CPUs as out of range. */
		r = parse_cpus(v, &t->max_cpu_millis);
		if (r == -ERANGE)
			return fail(st,
				    "%s: '%s' is out of range; write "
				    "'unlimited' for no ceiling",
				    name, v);
		if (r < 0)
			return fail(st,
				    "%s: '%s' is not a CPU count (e.g. 1.5)",
				    name, v);
		return 1;
	case T_MAX_PIDS:
		return parse_ceiling_u32(st, name, v, &t->max_pids);
	case T_MAX_TIMEOUT:
		return parse_ceiling_duration(st, name, v, &t->max_timeout_ns);
	case T_MAX_CPU_TIME:
		return parse_ceiling_duration(st, name, v, &t->max_cpu_time_ns);
	case T_MAX_RUNS:
		return parse_ceiling_u32(st, name, v, &t->max_runs);
	case T_MAX_CONNECTIONS:
		return parse_ceiling_u32(st, name, v, &t->max_connections);
	case T_NET_HOST:
		return parse_bool(st, name, v, &t->allow_net_host);
	case T_SECCOMP_NONE:
		return parse_bool(st, name, v, &t->allow_seccomp_none);
	case T_CUSTOM_SECCOMP:
		return parse_bool(st, name, v, &t->allow_custom_seccomp);
	case T_BIND:
		/* "bind = none": no host path at all. */
		if (strcmp(v, "none") == 0) {
			t->binds_restricted = true;
			return 1;
		}
		return add_binds(st, t, name, v, false);
	case T_BIND_RW:
		return add_binds(st, t, name, v, true);
	case T_UID_MODE:
		if (strcmp(v, "caller") == 0)
			t->uid_mode = UID_MODE_CALLER;
		else if (strcmp(v, "private") == 0)
			t->uid_mode = UID_MODE_PRIVATE;
		else
			return fail(
			    st, "uid-mode: '%s' is not caller or private", v);
		return 1;
	case _T_MAX:
		break;
	}
	return fail(st, "unknown key '%s'", name);
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
	INHERIT(T_SECCOMP_NONE, allow_seccomp_none);
	INHERIT(T_CUSTOM_SECCOMP, allow_custom_seccomp);
	INHERIT(T_UID_MODE, uid_mode);
#undef INHERIT
	if (!tl->key[T_BIND] && !tl->key[T_BIND_RW])
		return copy_binds(t, d);
	return 0;
}

int tenant_validate(struct load_state *st)
{
	struct config *c = st->c;
	unsigned mode_line;

	mode_line = st->default_lines.key[T_UID_MODE];
	if (c->fallback.uid_mode == UID_MODE_PRIVATE && !st->private_header)
		return config_fail_at(st, mode_line,
				      "uid-mode = private needs a "
				      "[private-ids] range");
	for (size_t i = 0; i < c->n_tenants; i++) {
		struct tenant_policy *t = &c->tenants[i];
		const struct tenant_lines *tl = &st->tenant_lines[i];

		if (!t->n_uids && !t->n_gids)
			return config_fail_at(st, tl->header,
					      "[tenant.%s] has no uids or "
					      "groups, so it matches nobody",
					      t->name);
		if (t->uid_mode == UID_MODE_PRIVATE && !st->private_header)
			return config_fail_at(st, tl->key[T_UID_MODE],
					      "uid-mode = private needs a "
					      "[private-ids] range");
		if (inherit(t, tl, &c->fallback, &st->default_lines) < 0)
			return config_fail_at(st, tl->header, "out of memory");
	}
	return 1;
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

/*
 * The tenant a connecting peer belongs to. A peer whose uid or gid lies in
 * the private-uid range is a sandbox of a private-uid run that reached the
 * socket: it belongs to no tenant (it would otherwise be a stranger under
 * [default], outside its own tenant's ceilings) and is refused.
 */
const struct tenant_policy *config_tenant_for_peer(const struct config *c,
						   uid_t uid, gid_t gid,
						   const gid_t *groups,
						   size_t n_groups)
{
	if (c->private_uid_count &&
	    (uid - c->private_uid_first < c->private_uid_count ||
	     gid - c->private_uid_first < c->private_uid_count))
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
