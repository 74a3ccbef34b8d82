/*
 * The daemon's configuration file (docs/config.md): daemon settings, the
 * private uid range and one policy per tenant, parsed with libinih.
 *
 * This file must never accept a file it did not fully understand: an
 * unknown section or key, a malformed value, a line inih would silently
 * split or truncate, or a policy that contradicts itself is an error naming
 * "file:line", and the caller keeps its previous config. A typo must not
 * quietly loosen a tenant's limits. Lookups (config_tenant, tenant_may_bind)
 * run on every request and never allocate.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "config-build.h"
#include "config.h"
#include "parse.h"
#include "util.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define TENANT_NAME_MAX 32
#define PRIVATE_COUNT_MAX (1u << 20)
#define OVERFLOW_UID 65534 /* "nobody": what unmapped owners appear as */
#define NSS_BUF_MAX (1024 * 1024)
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

enum daemon_key {
	D_SOCKET,
	D_MAX_FRAME,
	D_MAX_CONNECTIONS,
	D_POOL_SIZE,
	D_POOL_LOW,
	D_TMPFS_SIZE,
	_D_MAX,
};

static const char *const daemon_keys[_D_MAX] = {
    [D_SOCKET] = "socket",
    [D_MAX_FRAME] = "max-frame",
    [D_MAX_CONNECTIONS] = "max-connections",
    [D_POOL_SIZE] = "pool-size",
    [D_POOL_LOW] = "pool-low",
    [D_TMPFS_SIZE] = "tmpfs-size",
};

enum private_key {
	P_FIRST,
	P_COUNT,
	_P_MAX,
};

static const char *const private_keys[_P_MAX] = {
    [P_FIRST] = "first",
    [P_COUNT] = "count",
};

enum tenant_key {
	T_UIDS,
	T_GROUPS,
	T_CONNECT,
	T_MAX_MEMORY,
	T_MAX_CPUS,
	T_MAX_PIDS,
	T_MAX_TIMEOUT,
	T_MAX_CPU_TIME,
	T_MAX_RUNS,
	T_MAX_CONNECTIONS,
	T_NET_HOST,
	T_SECCOMP_NONE,
	T_CUSTOM_SECCOMP,
	T_BIND,
	T_BIND_RW,
	T_UID_MODE,
	_T_MAX,
};

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

/* Where each key of a tenant section was set (0: not set), for messages
 * and for inheriting the rest from [default]. */
struct tenant_lines {
	unsigned header;
	unsigned key[_T_MAX];
};

enum section_kind {
	SECTION_NONE = 0,
	SECTION_DAEMON,
	SECTION_PRIVATE_IDS,
	SECTION_DEFAULT,
	SECTION_TENANT,
};

struct load_state {
	const char *path;
	FILE *f;
	char *buf;
	size_t buf_cap;
	size_t bytes;
	unsigned line;

	struct config *c;
	struct tenant_lines *tenant_lines; /* parallel to c->tenants */
	size_t tenants_cap;
	struct tenant_lines default_lines;
	unsigned daemon_lines[_D_MAX], private_lines[_P_MAX];
	unsigned daemon_header, private_header;

	enum section_kind kind;
	char section[64]; /* as inih will report it */
	size_t tenant;    /* SECTION_TENANT: index */

	int err;
	unsigned err_line;
	char why[256];
};

/* --------------------------------------------------------- tenant basics */

static void tenant_init(struct tenant_policy *t)
{
	*t = (struct tenant_policy){
	    .allow_connect = true,
	    .uid_mode = UID_MODE_CALLER,
	};
}

static void tenant_done(struct tenant_policy *t)
{
	free(t->name);
	free(t->uids);
	free(t->gids);
	for (size_t i = 0; i < t->n_binds; i++)
		free(t->binds[i].prefix);
	free(t->binds);
	*t = (struct tenant_policy){};
}

static struct config *config_alloc(void)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->socket_path = strdup(BOXD_DEFAULT_SOCKET);
	c->max_frame_bytes = 4u << 20; /* argv + env may be ~2 MiB */
	c->max_connections = 4096;
	c->pool_size = 8;
	c->pool_low = 4;
	c->tmpfs_default_bytes = 64ull << 20;
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

/* ---------------------------------------------------------------- errors */

static int fail_at(struct load_state *st, unsigned line, const char *fmt, ...)
    _printf_(3, 4);

/* Records the first error; returns 0, inih's "handler failed". */
static int fail_at(struct load_state *st, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (st->err)
		return 0;
	st->err = -EINVAL;
	st->err_line = line;
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	va_end(ap);
	return 0;
}

#define fail(st, ...) fail_at(st, (st)->line, __VA_ARGS__)

/* ---------------------------------------------------------------- values */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next space-separated word of s (modified in place), or NULL. */
static char *next_word(char **s)
{
	char *p = *s, *w;

	while (is_space(*p))
		p++;
	if (!*p)
		return NULL;
	w = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	*s = p;
	return w;
}

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

	while ((word = next_word(&v))) {
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

	while ((word = next_word(&v))) {
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

/* -------------------------------------------------------------- sections */

static int key_index(const char *const *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] && strcmp(keys[i], name) == 0)
			return (int)i;
	return -1;
}

static bool repeatable(enum tenant_key k)
{
	return k == T_UIDS || k == T_GROUPS || k == T_BIND || k == T_BIND_RW;
}

static int daemon_key(struct load_state *st, const char *name, char *v)
{
	struct config *c = st->c;
	int k = key_index(daemon_keys, _D_MAX, name);
	uint64_t size;

	if (k < 0)
		return fail(st, "unknown key '%s' in [daemon]", name);
	if (st->daemon_lines[k])
		return fail(st, "'%s' given twice (first on line %u)", name,
			    st->daemon_lines[k]);
	st->daemon_lines[k] = st->line;

	switch ((enum daemon_key)k) {
	case D_SOCKET: {
		char *path;

		if (v[0] != '/' || strlen(v) >= SUN_PATH_MAX)
			return fail(st,
				    "socket: '%s' is not an absolute path of "
				    "at most %zu bytes",
				    v, SUN_PATH_MAX - 1);
		path = strdup(v);
		if (!path)
			return fail(st, "out of memory");
		free(c->socket_path);
		c->socket_path = path;
		return 1;
	}
	case D_MAX_FRAME:
		/* Big enough for ~2 MiB of argv and environment, small
		 * enough that a client cannot make the daemon allocate
		 * much per connection. */
		if (parse_size(v, &size) < 0 || size < (64u << 10) ||
		    size > (256u << 20))
			return fail(st,
				    "max-frame: '%s' is not a size from 64K "
				    "to 256M",
				    v);
		c->max_frame_bytes = (uint32_t)size;
		return 1;
	case D_MAX_CONNECTIONS:
		if (parse_uint32(v, &c->max_connections) < 0 ||
		    c->max_connections < 1 || c->max_connections > (1u << 20))
			return fail(st,
				    "max-connections: '%s' is not a number "
				    "from 1 to 1048576",
				    v);
		return 1;
	case D_POOL_SIZE:
		if (parse_uint32(v, &c->pool_size) < 0 || c->pool_size > 1024)
			return fail(st,
				    "pool-size: '%s' is not a number from 0 "
				    "to 1024",
				    v);
		return 1;
	case D_POOL_LOW:
		if (parse_uint32(v, &c->pool_low) < 0 || c->pool_low > 1024)
			return fail(st,
				    "pool-low: '%s' is not a number from 0 "
				    "to 1024",
				    v);
		return 1;
	case D_TMPFS_SIZE:
		if (parse_size(v, &size) < 0 || size == 0)
			return fail(
			    st, "tmpfs-size: '%s' is not a size above 0", v);
		c->tmpfs_default_bytes = size;
		return 1;
	case _D_MAX:
		break;
	}
	return fail(st, "unknown key '%s' in [daemon]", name);
}

static int private_key(struct load_state *st, const char *name, char *v)
{
	int k = key_index(private_keys, _P_MAX, name);
	uint32_t n;

	if (k < 0)
		return fail(st, "unknown key '%s' in [private-ids]", name);
	if (st->private_lines[k])
		return fail(st, "'%s' given twice (first on line %u)", name,
			    st->private_lines[k]);
	st->private_lines[k] = st->line;
	if (parse_uint32(v, &n) < 0)
		return fail(st, "%s: '%s' is not a number", name, v);
	if (k == P_FIRST)
		st->c->private_uid_first = n;
	else
		st->c->private_uid_count = n;
	return 1;
}

static int tenant_key(struct load_state *st, struct tenant_policy *t,
		      struct tenant_lines *tl, bool is_default,
		      const char *name, char *v)
{
	int k = key_index(tenant_keys, _T_MAX, name);
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

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct load_state *st = user;
	char v[1024];
	char *cut;
	size_t len;

	if (st->err)
		return 0;
	if (st->kind == SECTION_NONE)
		return fail(st, "'%s' outside of any section", name);
	/* The reader and inih must agree on the section. */
	if (strcmp(section, st->section) != 0)
		return fail(st, "section header not understood");
	if (strlen(value) >= sizeof(v))
		return fail(st, "value too long");
	strcpy(v, value);
	/* inih strips " ; comments"; strip " # comments" too. */
	for (cut = v; (cut = strchr(cut, '#')); cut++)
		if (cut > v && is_space(cut[-1])) {
			*cut = '\0';
			break;
		}
	len = strlen(v);
	while (len > 0 && is_space(v[len - 1]))
		v[--len] = '\0';
	if (len == 0)
		return fail(st, "%s: empty value", name);

	switch (st->kind) {
	case SECTION_DAEMON:
		return daemon_key(st, name, v);
	case SECTION_PRIVATE_IDS:
		return private_key(st, name, v);
	case SECTION_DEFAULT:
		return tenant_key(st, &st->c->fallback, &st->default_lines,
				  true, name, v);
	case SECTION_TENANT:
		return tenant_key(st, &st->c->tenants[st->tenant],
				  &st->tenant_lines[st->tenant], false, name,
				  v);
	case SECTION_NONE:
		break;
	}
	return 0;
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

static int begin_tenant(struct load_state *st, const char *name, size_t n)
{
	struct config *c = st->c;

	for (size_t i = 0; i < c->n_tenants; i++)
		if (strlen(c->tenants[i].name) == n &&
		    memcmp(c->tenants[i].name, name, n) == 0)
			return fail(st,
				    "[tenant.%.*s] appears twice (first on "
				    "line %u)",
				    (int)n, name, st->tenant_lines[i].header);
	if (c->n_tenants == st->tenants_cap) {
		size_t cap = st->tenants_cap ? st->tenants_cap * 2 : 8;
		struct tenant_policy *t = realloc(c->tenants, cap * sizeof(*t));
		struct tenant_lines *l;

		if (!t)
			return fail(st, "out of memory");
		c->tenants = t;
		l = realloc(st->tenant_lines, cap * sizeof(*l));
		if (!l)
			return fail(st, "out of memory");
		st->tenant_lines = l;
		st->tenants_cap = cap;
	}
	tenant_init(&c->tenants[c->n_tenants]);
	c->tenants[c->n_tenants].name = strndup(name, n);
	if (!c->tenants[c->n_tenants].name)
		return fail(st, "out of memory");
	st->tenant_lines[c->n_tenants] = (struct tenant_lines){st->line, {0}};
	st->tenant = c->n_tenants++;
	st->kind = SECTION_TENANT;
	return 1;
}

/* A "[...]" line. inih would take everything up to the first ']' as the
 * name and ignore the rest; here the rest may only be a comment. */
static int begin_section(struct load_state *st, const char *line)
{
	const char *end = strchr(line, ']'), *rest;
	size_t n;

	if (!end)
		return fail(st, "section header without ']'");
	for (rest = end + 1; is_space(*rest); rest++)
		;
	if (*rest && *rest != '\n' && *rest != ';' && *rest != '#')
		return fail(st, "unexpected text after the section header");
	n = (size_t)(end - line - 1);
	if (n >= sizeof(st->section))
		return fail(st, "section name too long");
	memcpy(st->section, line + 1, n);
	st->section[n] = '\0';

	if (strcmp(st->section, "daemon") == 0) {
		if (st->daemon_header)
			return fail(st,
				    "[daemon] appears twice (first on "
				    "line %u)",
				    st->daemon_header);
		st->daemon_header = st->line;
		st->kind = SECTION_DAEMON;
	} else if (strcmp(st->section, "private-ids") == 0) {
		if (st->private_header)
			return fail(st,
				    "[private-ids] appears twice (first on "
				    "line %u)",
				    st->private_header);
		st->private_header = st->line;
		st->kind = SECTION_PRIVATE_IDS;
	} else if (strcmp(st->section, "default") == 0) {
		if (st->default_lines.header)
			return fail(st,
				    "[default] appears twice (first on "
				    "line %u)",
				    st->default_lines.header);
		st->default_lines.header = st->line;
		st->kind = SECTION_DEFAULT;
	} else if (strncmp(st->section, "tenant.", 7) == 0) {
		if (!valid_tenant_name(st->section + 7, n - 7))
			return fail(st,
				    "bad tenant name '%s' (1 to %d letters, "
				    "digits, '-' or '_')",
				    st->section + 7, TENANT_NAME_MAX);
		return begin_tenant(st, st->section + 7, n - 7);
	} else
		return fail(st,
			    "unknown section [%s] (daemon, private-ids, "
			    "default or tenant.NAME)",
			    st->section);
	return 1;
}

/* inih's line reader, wrapped: counts lines for messages, refuses what
 * inih would mangle (a line longer than its buffer would be split into
 * two lines, a NUL would cut one short) and sees every section header,
 * even one with no keys, which inih never reports. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	const char *s;
	ssize_t n;

	if (st->err)
		return NULL;
	n = getline(&st->buf, &st->buf_cap, st->f);
	if (n < 0) {
		if (ferror(st->f))
			fail_at(st, st->line, "read error: %s",
				strerror(errno));
		return NULL;
	}
	st->line++;
	st->bytes += (size_t)n;
	if (st->bytes > CONFIG_MAX_BYTES) {
		fail(st, "file larger than %d bytes", CONFIG_MAX_BYTES);
		return NULL;
	}
	if (memchr(st->buf, '\0', (size_t)n)) {
		fail(st, "NUL byte");
		return NULL;
	}
	/* inih's buffer holds num bytes: the line, its newline and a NUL. */
	if ((size_t)n + 1 > (size_t)num) {
		fail(st,
		     "line longer than %d characters; split long lists "
		     "over several lines",
		     num - 2);
		return NULL;
	}
	memcpy(str, st->buf, (size_t)n + 1);

	s = st->buf;
	if (st->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (s[0] == '[') {
		if (!begin_section(st, s))
			return NULL;
	} else {
		while (is_space(*s))
			s++;
		/* Indented, inih would read it as a continuation of the
		 * previous value or as a section, depending on context. */
		if (*s == '[') {
			fail(st, "section headers start at the beginning of "
				 "the line");
			return NULL;
		}
	}
	return str;
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

static bool in_private_range(const struct config *c, uint32_t id)
{
	return c->private_uid_count &&
	       id - c->private_uid_first < c->private_uid_count;
}

static int validate(struct load_state *st)
{
	struct config *c = st->c;
	unsigned mode_line;

	if (st->daemon_lines[D_POOL_LOW] && c->pool_low > c->pool_size)
		return fail_at(st, st->daemon_lines[D_POOL_LOW],
			       "pool-low %u is above pool-size %u", c->pool_low,
			       c->pool_size);
	if (!st->daemon_lines[D_POOL_LOW] && c->pool_low > c->pool_size)
		c->pool_low = c->pool_size / 2;

	if (st->private_header) {
		uint64_t last;

		if (!st->private_lines[P_FIRST] || !st->private_lines[P_COUNT])
			return fail_at(st, st->private_header,
				       "[private-ids] needs both first and "
				       "count");
		last =
		    (uint64_t)c->private_uid_first + c->private_uid_count - 1;
		/* A private uid 0 would be host root. */
		if (c->private_uid_first == 0)
			return fail_at(st, st->private_lines[P_FIRST],
				       "first: the range must not include "
				       "uid 0");
		if (c->private_uid_count == 0 ||
		    c->private_uid_count > PRIVATE_COUNT_MAX)
			return fail_at(st, st->private_lines[P_COUNT],
				       "count: %u is not from 1 to %u",
				       c->private_uid_count, PRIVATE_COUNT_MAX);
		if (last >= UINT32_MAX)
			return fail_at(st, st->private_lines[P_COUNT],
				       "count: the range runs past the "
				       "largest uid");
		/* Files of unmapped owners show up as the overflow uid:
		 * a run owning it could modify them. */
		if (in_private_range(c, OVERFLOW_UID))
			return fail_at(st, st->private_header,
				       "the range includes %u, the overflow "
				       "uid (nobody)",
				       OVERFLOW_UID);
		/* A private run must not be mistaken for a real tenant
		 * when it touches a writable bind. */
		for (size_t i = 0; i < c->n_tenants; i++)
			for (size_t j = 0; j < c->tenants[i].n_uids; j++)
				if (in_private_range(c, c->tenants[i].uids[j]))
					return fail_at(
					    st, st->private_header,
					    "the range includes uid %u of "
					    "[tenant.%s]",
					    c->tenants[i].uids[j],
					    c->tenants[i].name);
	}

	mode_line = st->default_lines.key[T_UID_MODE];
	if (c->fallback.uid_mode == UID_MODE_PRIVATE && !st->private_header)
		return fail_at(st, mode_line,
			       "uid-mode = private needs a [private-ids] "
			       "range");
	for (size_t i = 0; i < c->n_tenants; i++) {
		struct tenant_policy *t = &c->tenants[i];
		const struct tenant_lines *tl = &st->tenant_lines[i];

		if (!t->n_uids && !t->n_gids)
			return fail_at(st, tl->header,
				       "[tenant.%s] has no uids or groups, so "
				       "it matches nobody",
				       t->name);
		if (t->uid_mode == UID_MODE_PRIVATE && !st->private_header)
			return fail_at(st, tl->key[T_UID_MODE],
				       "uid-mode = private needs a "
				       "[private-ids] range");
		if (inherit(t, tl, &c->fallback, &st->default_lines) < 0)
			return fail_at(st, tl->header, "out of memory");
	}
	return 1;
}

int config_load(const char *path, struct config **ret, char *why,
		size_t why_len)
{
	struct load_state st = {.path = path};
	_cleanup_close_ int fd = -1;
	int r;

	if (why && why_len)
		why[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = negerrno();
		if (why && why_len)
			snprintf(why, why_len, "%s: %s", path, strerror(-r));
		return r;
	}
	st.f = fdopen(fd, "re");
	if (!st.f) {
		r = negerrno();
		if (why && why_len)
			snprintf(why, why_len, "%s: %s", path, strerror(-r));
		return r;
	}
	fd = -1; /* owned by st.f now */
	st.c = config_alloc();
	if (!st.c) {
		fclose(st.f);
		return -ENOMEM;
	}

	r = ini_parse_stream(read_line, &st, on_key, &st);
	/* inih's own syntax errors (a line without '=') come back as a
	 * line number; ours were recorded with theirs. The first wins. */
	if (r > 0 && (!st.err || (unsigned)r < st.err_line)) {
		st.err = 0;
		fail_at(&st, (unsigned)r,
			"expected 'key = value', '[section]' or a comment");
	} else if (r < 0 && !st.err)
		fail_at(&st, st.line, "out of memory");
	if (!st.err)
		validate(&st);

	fclose(st.f);
	free(st.buf);
	free(st.tenant_lines);
	if (st.err) {
		if (why && why_len)
			snprintf(why, why_len, "%s:%u: %s", path, st.err_line,
				 st.why);
		config_free(st.c);
		return st.err;
	}
	*ret = st.c;
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
