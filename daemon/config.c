/*
 * The daemon's configuration file (docs/config.md), parsed with libinih:
 * reading it, its sections, the [daemon] and [private-ids] keys, and the
 * checks that span sections. The keys of [default] and [tenant.NAME]
 * sections and the lookups by tenant are in config-tenant.c.
 *
 * This file must never accept a file it did not fully understand: an
 * unknown section or key, a malformed value, a line inih would silently
 * split or truncate, or a policy that contradicts itself is an error naming
 * "file:line", and the caller keeps its previous config. A typo must not
 * quietly loosen a tenant's limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "config-build.h"
#include "config-internal.h"
#include "config.h"
#include "parse.h"
#include "util.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define TENANT_NAME_MAX 32
#define PRIVATE_COUNT_MAX (1u << 20)
#define OVERFLOW_UID 65534 /* "nobody": what unmapped owners appear as */
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

static const char *const daemon_keys[_D_MAX] = {
    [D_SOCKET] = "socket",
    [D_MAX_FRAME] = "max-frame",
    [D_MAX_CONNECTIONS] = "max-connections",
    [D_POOL_SIZE] = "pool-size",
    [D_POOL_LOW] = "pool-low",
    [D_TMPFS_SIZE] = "tmpfs-size",
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
	c->pool_low = 0; /* unset: the engine takes half of pool-size */
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

int config_fail_at(struct load_state *st, unsigned line, const char *fmt, ...)
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

/* ----------------------------------------------------------------- words */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

char *config_next_word(char **s)
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

/* -------------------------------------------------------------- sections */

int config_key_index(const char *const *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] && strcmp(keys[i], name) == 0)
			return (int)i;
	return -1;
}

static int daemon_key(struct load_state *st, const char *name, char *v)
{
	struct config *c = st->c;
	int k = config_key_index(daemon_keys, _D_MAX, name);
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
	int k = config_key_index(private_keys, _P_MAX, name);
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
			config_fail_at(st, st->line, "read error: %s",
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

static bool in_private_range(const struct config *c, uint32_t id)
{
	return c->private_uid_count &&
	       id - c->private_uid_first < c->private_uid_count;
}

static int validate(struct load_state *st)
{
	struct config *c = st->c;

	if (st->daemon_lines[D_POOL_LOW] && c->pool_low > c->pool_size)
		return config_fail_at(st, st->daemon_lines[D_POOL_LOW],
				      "pool-low %u is above pool-size %u",
				      c->pool_low, c->pool_size);

	if (st->private_header) {
		uint64_t last;

		if (!st->private_lines[P_FIRST] || !st->private_lines[P_COUNT])
			return config_fail_at(
			    st, st->private_header,
			    "[private-ids] needs both first and count");
		last =
		    (uint64_t)c->private_uid_first + c->private_uid_count - 1;
		/* A private uid 0 would be host root. */
		if (c->private_uid_first == 0)
			return config_fail_at(
			    st, st->private_lines[P_FIRST],
			    "first: the range must not include uid 0");
		if (c->private_uid_count == 0 ||
		    c->private_uid_count > PRIVATE_COUNT_MAX)
			return config_fail_at(st, st->private_lines[P_COUNT],
					      "count: %u is not from 1 to %u",
					      c->private_uid_count,
					      PRIVATE_COUNT_MAX);
		if (last >= UINT32_MAX)
			return config_fail_at(st, st->private_lines[P_COUNT],
					      "count: the range runs past the "
					      "largest uid");
		/* Files of unmapped owners show up as the overflow uid:
		 * a run owning it could modify them. */
		if (in_private_range(c, OVERFLOW_UID))
			return config_fail_at(
			    st, st->private_header,
			    "the range includes %u, the overflow uid (nobody)",
			    OVERFLOW_UID);
		/* A private run must not be mistaken for a real tenant
		 * when it touches a writable bind. */
		for (size_t i = 0; i < c->n_tenants; i++)
			for (size_t j = 0; j < c->tenants[i].n_uids; j++)
				if (in_private_range(c, c->tenants[i].uids[j]))
					return config_fail_at(
					    st, st->private_header,
					    "the range includes uid %u of "
					    "[tenant.%s]",
					    c->tenants[i].uids[j],
					    c->tenants[i].name);
	}

	return tenant_validate(st);
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
		config_fail_at(
		    &st, (unsigned)r,
		    "expected 'key = value', '[section]' or a comment");
	} else if (r < 0 && !st.err)
		config_fail_at(&st, st.line, "out of memory");
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
