/*
 * The INI layer under the configuration files (config-parse.h): libinih
 * reads, this file checks every line before inih sees it and every value
 * before a section's code stores it.
 *
 * This file must never accept a line or a value it did not fully
 * understand: a line inih would split, cut or misread, a malformed number,
 * an id that is not one, a relative path or one with ".." is an error
 * naming "file:line", and the caller keeps its previous config. A typo
 * must not quietly loosen a tenant's limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>

#include "config-parse.h"
#include "ini-lines.h"
#include "parse.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define NSS_BUF_MAX (1024 * 1024)

/* ---------------------------------------------------------------- errors */

static int config_parse_vfail_at(struct config_parser *p, unsigned line,
				 const char *fmt, va_list ap) _printf_(3, 0);

static int config_parse_vfail_at(struct config_parser *p, unsigned line,
				 const char *fmt, va_list ap)
{
	if (p->err)
		return -EINVAL;
	p->err = -EINVAL;
	p->err_line = line;
	p->lines.failed = true; /* inih reads no further line */
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	return -EINVAL;
}

int config_parse_fail_at(struct config_parser *p, unsigned line,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_parse_vfail_at(p, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int config_parse_fail(struct config_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_parse_vfail_at(p, p->lines.line, fmt, ap);
	va_end(ap);
	return -EINVAL;
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

int config_key_index(const char *const *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] && strcmp(keys[i], name) == 0)
			return (int)i;
	return -1;
}

/* ----------------------------------------------------------------- lines */

/* A "[name]" header (ini-lines.c checked the line): remembered for the
 * keys that follow, and handed to the file's code. */
static int on_section(void *user, const char *name, size_t n)
{
	struct config_parser *p = user;

	if (n >= sizeof(p->section))
		return config_parse_fail(p, "section name too long");
	memcpy(p->section, name, n);
	p->section[n] = '\0';
	p->in_section = true;
	return p->ops->section(p, p->section, p->userdata);
}

static void on_line_refused(void *user, const char *message)
{
	config_parse_fail(user, "%s", message);
}

/* A "name = value" line as inih split it: checked and trimmed, then
 * handed to the section's code. */
static int key_line(struct config_parser *p, const char *section,
		    const char *name, const char *value)
{
	char v[1024];
	char *cut;
	size_t len;

	if (!p->in_section)
		return config_parse_fail(p, "'%s' outside of any section",
					 name);
	/* The reader and inih must agree on the section. */
	if (strcmp(section, p->section) != 0)
		return config_parse_fail(p, "section header not understood");
	if (strlen(value) >= sizeof(v))
		return config_parse_fail(p, "value too long");
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
		return config_parse_fail(p, "%s: empty value", name);
	return p->ops->key(p, name, v, p->userdata);
}

/* inih's handler: nonzero to go on. */
static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct config_parser *p = user;

	return !p->err && key_line(p, section, name, value) >= 0;
}

int config_parse_file(const char *path, const struct config_parse_ops *ops,
		      void *userdata, struct error_detail *err)
{
	struct config_parser p = {
	    .path = path,
	    .ops = ops,
	    .userdata = userdata,
	};
	_cleanup_close_ int fd = -1;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = negerrno();
		return error_set(err, ERROR_INTERNAL, r, "%s: %s", path,
				 strerror(-r));
	}
	p.lines = (struct ini_lines){
	    .max_bytes = CONFIG_MAX_BYTES,
	    .section = on_section,
	    .fail = on_line_refused,
	    .userdata = &p,
	};
	p.lines.f = fdopen(fd, "re");
	if (!p.lines.f) {
		r = negerrno();
		return error_set(err, ERROR_INTERNAL, r, "%s: %s", path,
				 strerror(-r));
	}
	fd = -1; /* owned by p.lines.f now */

	r = ini_parse_stream(ini_lines_read, &p.lines, on_key, &p);
	/* inih's own syntax errors (a line without '=') come back as a
	 * line number; ours were recorded with theirs. The first wins. */
	if (r > 0 && (!p.err || (unsigned)r < p.err_line)) {
		p.err = 0;
		config_parse_fail_at(
		    &p, (unsigned)r,
		    "expected 'key = value', '[section]' or a comment");
	} else if (r < 0 && !p.err) {
		config_parse_fail(&p, "out of memory");
	}
	if (!p.err && ops->end)
		ops->end(&p, userdata);

	fclose(p.lines.f);
	ini_lines_done(&p.lines);
	if (p.err)
		return error_set(err, ERROR_INVALID, p.err, "%s:%u: %s", path,
				 p.err_line, p.why);
	return 0;
}

/* ---------------------------------------------------------------- values */

int config_parse_bool(struct config_parser *p, const char *key, const char *v,
		      bool *ret)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		*ret = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		*ret = false;
	else
		return config_parse_fail(p, "%s: '%s' is not yes or no", key,
					 v);
	return 0;
}

bool config_is_unlimited(const char *v)
{
	return strcmp(v, "unlimited") == 0;
}

/* parse_uint32 with the signature of parse_size and parse_duration. */
static int parse_count(const char *v, uint64_t *ret)
{
	uint32_t n;
	int r = parse_uint32(v, &n);

	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

/* "unlimited" (0), or a positive value that parse understands; what
 * names the form in the message ("a number"). */
static int parse_ceiling(struct config_parser *p, const char *key,
			 const char *v, int (*parse)(const char *, uint64_t *),
			 const char *what, uint64_t *ret)
{
	uint64_t n;

	if (config_is_unlimited(v)) {
		*ret = 0;
		return 0;
	}
	if (parse(v, &n) < 0)
		return config_parse_fail(p, "%s: '%s' is not %s", key, v, what);
	if (n == 0)
		return config_parse_fail(
		    p, "%s: 0 would mean no ceiling; write 'unlimited'", key);
	*ret = n;
	return 0;
}

int config_parse_ceiling_u32(struct config_parser *p, const char *key,
			     const char *v, uint32_t *ret)
{
	uint64_t n = 0;
	int r = parse_ceiling(p, key, v, parse_count, "a number", &n);

	if (r < 0)
		return r;
	*ret = (uint32_t)n;
	return 0;
}

int config_parse_ceiling_size(struct config_parser *p, const char *key,
			      const char *v, uint64_t *ret)
{
	return parse_ceiling(p, key, v, parse_size, "a size (e.g. 512M, 2G)",
			     ret);
}

int config_parse_ceiling_duration(struct config_parser *p, const char *key,
				  const char *v, uint64_t *ret)
{
	return parse_ceiling(p, key, v, parse_duration,
			     "a duration (e.g. 90s, 10m)", ret);
}

int config_parse_ceiling_cpus(struct config_parser *p, const char *key,
			      const char *v, uint32_t *ret)
{
	uint32_t millis;
	int r;

	if (config_is_unlimited(v)) {
		*ret = 0;
		return 0;
	}
	/* parse_cpus refuses 0 CPUs as out of range. */
	r = parse_cpus(v, &millis);
	if (r == -ERANGE)
		return config_parse_fail(p,
					 "%s: '%s' is out of range; write "
					 "'unlimited' for no ceiling",
					 key, v);
	if (r < 0)
		return config_parse_fail(
		    p, "%s: '%s' is not a CPU count (e.g. 1.5)", key, v);
	*ret = millis;
	return 0;
}

/* One id: a number, or a name looked up now. */
static int parse_id(struct config_parser *p, const char *key, const char *v,
		    bool group, uint32_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 1024;
	uint32_t n;
	int r;

	if (v[0] >= '0' && v[0] <= '9') {
		if (parse_uint32(v, &n) < 0 || n == UINT32_MAX)
			return config_parse_fail(
			    p, "%s: '%s' is not a valid id", key, v);
		*ret = n;
		return 0;
	}
	for (;;) {
		struct group gr, *grp = NULL;
		struct passwd pw, *pwp = NULL;
		char *grown = realloc(buf, len);

		if (!grown)
			return config_parse_fail(p, "%s: out of memory", key);
		buf = grown;
		if (group) {
			r = getgrnam_r(v, &gr, buf, len, &grp);
			if (r == 0 && grp) {
				*ret = grp->gr_gid;
				return 0;
			}
		} else {
			r = getpwnam_r(v, &pw, buf, len, &pwp);
			if (r == 0 && pwp) {
				*ret = pwp->pw_uid;
				return 0;
			}
		}
		if (r != ERANGE || len >= NSS_BUF_MAX)
			break;
		len *= 2;
	}
	if (r != 0 && r != ENOENT && r != ESRCH)
		return config_parse_fail(p, "%s: looking up '%s': %s", key, v,
					 strerror(r));
	return config_parse_fail(p, "%s: unknown %s '%s'", key,
				 group ? "group" : "user", v);
}

int config_parse_ids(struct config_parser *p, const char *key, char *v,
		     bool group, uint32_t **ids, size_t *n_ids)
{
	char *word;
	size_t before = *n_ids;

	while ((word = config_next_word(&v))) {
		uint32_t id = 0, *grown;
		int r = parse_id(p, key, word, group, &id);

		if (r < 0)
			return r;
		grown = realloc(*ids, (*n_ids + 1) * sizeof(**ids));
		if (!grown)
			return config_parse_fail(p, "%s: out of memory", key);
		*ids = grown;
		(*ids)[(*n_ids)++] = id;
	}
	if (*n_ids == before)
		return config_parse_fail(p, "%s: empty list", key);
	return 0;
}

int config_parse_path(struct config_parser *p, const char *key, const char *v,
		      char **ret)
{
	size_t len = strlen(v), o = 0;
	_cleanup_free_ char *out = NULL;
	const char *s = v;

	if (v[0] != '/')
		return config_parse_fail(p, "%s: '%s' is not an absolute path",
					 key, v);
	if (len >= PATH_MAX)
		return config_parse_fail(p, "%s: path too long", key);
	out = malloc(len + 2);
	if (!out)
		return config_parse_fail(p, "%s: out of memory", key);
	while (*s) {
		const char *c;
		size_t n;

		while (*s == '/')
			s++;
		c = s;
		while (*s && *s != '/')
			s++;
		n = (size_t)(s - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return config_parse_fail(p, "%s: '..' in '%s'", key, v);
		out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}
