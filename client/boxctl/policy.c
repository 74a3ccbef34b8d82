/*
 * Policy files for boxctl run (policy.h): libinih splits the lines, this
 * file checks every one of them and turns each key into the command-line
 * option it stands for.
 *
 * A policy file must never read the caller's environment unless it says
 * which variables it reads: "pass" copies named variables, "allow" names
 * the ones a "set" value may expand. Any other "$NAME" is an error, so a
 * file handed around cannot quietly carry a caller's secrets into a run.
 * Nothing is guessed: an unknown section or key, a line inih would
 * misread, a value of the wrong shape is an error naming "file:line".
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini-lines.h"
#include "policy.h"
#include "util.h"

/* More is certainly not a policy file. */
#define POLICY_MAX_BYTES (1024 * 1024)
#define POLICY_VALUE_MAX 4096

enum section { SEC_NONE, SEC_RUN, SEC_MOUNTS, SEC_ENV, SEC_LIMITS };

static const char *const section_names[] = {
    [SEC_RUN] = "run",
    [SEC_MOUNTS] = "mounts",
    [SEC_ENV] = "env",
    [SEC_LIMITS] = "limits",
};

enum key_kind {
	KEY_VALUES,  /* nargs words; of 2, the second is the rest of the line */
	KEY_TEXT,    /* one value: the rest of the line, spaces and all */
	KEY_BOOL,    /* true: the option (no value); false: the default */
	KEY_PATH,    /* one value; relative: to the policy file's directory */
	KEY_SRC_DST, /* SRC DST; a relative SRC: to the file's directory */
	KEY_SRC_DST_DIR, /* SRC DST DIR; relative SRC, DIR: likewise */
	KEY_SETENV,      /* NAME VALUE, $NAME expanded where allowed */
	KEY_PASS,        /* names copied from the caller's environment */
	KEY_ALLOW,       /* names "set" may expand */
};

struct policy_key {
	enum section section;
	const char *name;
	const char *option;
	enum key_kind kind;
	int nargs;
	const char *args; /* for "expected ..." */
};

static const struct policy_key policy_keys[] = {
    {SEC_RUN, "profile", "--profile", KEY_VALUES, 1, "default or bare"},
    {SEC_RUN, "net", "--net", KEY_VALUES, 1,
     "none, loopback, host or outbound"},
    {SEC_RUN, "hostname", "--hostname", KEY_VALUES, 1, "NAME"},
    {SEC_RUN, "chdir", "--chdir", KEY_VALUES, 1, "DIR"},
    {SEC_RUN, "uid", "--uid", KEY_VALUES, 1, "N"},
    {SEC_RUN, "gid", "--gid", KEY_VALUES, 1, "N"},
    {SEC_RUN, "write", "--write", KEY_VALUES, 1, "ephemeral"},
    {SEC_RUN, "seccomp", "--seccomp", KEY_PATH, 1, "default, none or FILE"},
    {SEC_RUN, "tag", "--tag", KEY_TEXT, 1, "TEXT"},
    {SEC_RUN, "no-exec", "--no-exec", KEY_BOOL, 0, NULL},
    {SEC_RUN, "no-new-session", "--no-new-session", KEY_BOOL, 0, NULL},
    {SEC_RUN, "no-die-with-client", "--no-die-with-client", KEY_BOOL, 0, NULL},
    {SEC_RUN, "lenient", "--lenient", KEY_BOOL, 0, NULL},
    {SEC_RUN, "sort-mounts", "--sort-mounts", KEY_BOOL, 0, NULL},
    {SEC_MOUNTS, "ro-bind", "--ro-bind", KEY_SRC_DST, 2, "SRC DEST"},
    {SEC_MOUNTS, "bind", "--bind", KEY_SRC_DST, 2, "SRC DEST"},
    {SEC_MOUNTS, "dev-bind", "--dev-bind", KEY_SRC_DST, 2, "SRC DEST"},
    {SEC_MOUNTS, "overlay", "--overlay", KEY_SRC_DST, 2, "SRC DST"},
    {SEC_MOUNTS, "overlay-persist", "--overlay-persist", KEY_SRC_DST_DIR, 3,
     "SRC DST DIR"},
    {SEC_MOUNTS, "tmpfs", "--tmpfs", KEY_VALUES, 1, "DST"},
    {SEC_MOUNTS, "size", "--size", KEY_VALUES, 1, "BYTES"},
    {SEC_MOUNTS, "perms", "--perms", KEY_VALUES, 1, "MODE"},
    {SEC_MOUNTS, "proc", "--proc", KEY_VALUES, 1, "DST"},
    {SEC_MOUNTS, "dev", "--dev", KEY_VALUES, 1, "DST"},
    {SEC_MOUNTS, "symlink", "--symlink", KEY_VALUES, 2, "TARGET DST"},
    {SEC_MOUNTS, "dir", "--dir", KEY_VALUES, 1, "DST"},
    {SEC_MOUNTS, "hide", "--hide", KEY_VALUES, 1, "DST"},
    {SEC_MOUNTS, "file", "--file", KEY_VALUES, 2, "DST SRC"},
    {SEC_MOUNTS, "file-data", "--file-data", KEY_VALUES, 2, "DST STRING"},
    {SEC_MOUNTS, "remount-ro", "--remount-ro", KEY_VALUES, 1, "DST"},
    {SEC_ENV, "set", "--setenv", KEY_SETENV, 2, "NAME VALUE"},
    {SEC_ENV, "unset", "--unsetenv", KEY_VALUES, 1, "NAME"},
    {SEC_ENV, "pass", "--setenv", KEY_PASS, 1, "NAME..."},
    {SEC_ENV, "allow", NULL, KEY_ALLOW, 1, "NAME..."},
    {SEC_LIMITS, "memory", "--memory", KEY_VALUES, 1, "SIZE"},
    {SEC_LIMITS, "memory-swap", "--memory-swap", KEY_VALUES, 1, "SIZE"},
    {SEC_LIMITS, "cpus", "--cpus", KEY_VALUES, 1, "N"},
    {SEC_LIMITS, "pids", "--pids", KEY_VALUES, 1, "N"},
    {SEC_LIMITS, "timeout", "--timeout", KEY_VALUES, 1, "DURATION"},
    {SEC_LIMITS, "cpu-time", "--cpu-time", KEY_VALUES, 1, "DURATION"},
    {SEC_LIMITS, "rlimit", "--rlimit", KEY_VALUES, 1, "NAME=SOFT[:HARD]"},
};

struct policy {
	const char *path;
	char *dir; /* path's directory, for relative paths */
	char *const *env;
	policy_apply_fn apply;
	void *userdata;
	struct ini_lines lines; /* lines.line: the line being read */
	enum section section;
	int err;
	char **allowed; /* names "set" may expand */
	size_t n_allowed;
};

static int fail(struct policy *p, const char *fmt, ...) _printf_(2, 3);

static int fail(struct policy *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return p->err;
	fprintf(stderr, "boxctl: %s:%u: ", p->path, p->lines.line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	p->err = -EINVAL;
	p->lines.failed = true; /* inih reads no further line */
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static const char *caller_env(const struct policy *p, const char *name,
			      size_t len)
{
	for (char *const *e = p->env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static bool is_allowed(const struct policy *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->n_allowed; i++)
		if (strlen(p->allowed[i]) == len &&
		    strncmp(p->allowed[i], name, len) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------- the lines */

/* A "[name]" header (ini-lines.c checked the line): one of ours. */
static int on_section(void *user, const char *name, size_t n)
{
	struct policy *p = user;

	for (size_t i = 1; i < ELEMENTSOF(section_names); i++)
		if (strlen(section_names[i]) == n &&
		    strncmp(section_names[i], name, n) == 0) {
			p->section = (enum section)i;
			return 0;
		}
	return fail(p, "unknown section [%.*s] (run, mounts, env, limits)",
		    (int)n, name);
}

static void on_line_refused(void *user, const char *message)
{
	fail(user, "%s", message);
}

/* ------------------------------------------------------------ the values */

static int apply(struct policy *p, const struct policy_key *k, char **v,
		 int nargs)
{
	char where[512];

	snprintf(where, sizeof(where), "%s:%u: %s", p->path, p->lines.line,
		 k->name);
	return p->apply(p->userdata, where, k->option, v, nargs);
}

/* A relative path in the file is relative to the file, not to wherever
 * boxctl happens to run. */
static char *relative_to_file(const struct policy *p, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", strcmp(p->dir, "/") == 0 ? "" : p->dir,
		     path) < 0)
		return NULL;
	return out;
}

/* "$NAME", "${NAME}" and "$$" in a set value; NAME must be allowed. */
static int expand(struct policy *p, const char *value, char **ret)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0, cap = strlen(value) + 1;

	out = malloc(cap);
	if (!out)
		return fail(p, "out of memory");
	for (const char *s = value; *s;) {
		const char *name, *val;
		size_t nlen, vlen;
		bool braced;

		if (*s != '$') {
			out[len++] = *s++;
			continue;
		}
		if (s[1] == '$') {
			out[len++] = '$';
			s += 2;
			continue;
		}
		braced = s[1] == '{';
		name = s + 1 + braced;
		for (nlen = 0; valid_name(name, nlen + 1); nlen++)
			;
		if (nlen == 0 || (braced && name[nlen] != '}'))
			return fail(p, "set: '$' must be followed by NAME, "
				       "{NAME} or '$' (for a '$')");
		if (!is_allowed(p, name, nlen))
			return fail(p,
				    "set: $%.*s is not allowed: add it to "
				    "'allow' first",
				    (int)nlen, name);
		val = caller_env(p, name, nlen);
		if (!val)
			return fail(p,
				    "set: $%.*s is not set in boxctl's "
				    "environment",
				    (int)nlen, name);
		vlen = strlen(val);
		cap += vlen;
		{
			char *grown = realloc(out, cap);

			if (!grown)
				return fail(p, "out of memory");
			out = grown;
		}
		memcpy(out + len, val, vlen);
		len += vlen;
		s = name + nlen + braced;
	}
	out[len] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

static int names_key(struct policy *p, const struct policy_key *k, char *value)
{
	for (char *w = strtok(value, " \t"); w; w = strtok(NULL, " \t")) {
		size_t n = strlen(w);

		if (!valid_name(w, n))
			return fail(p, "%s: invalid variable name '%s'",
				    k->name, w);
		if (k->kind == KEY_ALLOW) {
			char **grown = reallocarray(
			    p->allowed, p->n_allowed + 1, sizeof(*grown));

			if (!grown || !(grown[p->n_allowed] = strdup(w))) {
				if (grown)
					p->allowed = grown;
				return fail(p, "out of memory");
			}
			p->allowed = grown;
			p->n_allowed++;
		} else {
			/* Unset in the caller: nothing to pass, as env(1). */
			const char *val = caller_env(p, w, n);
			char *v[2] = {w, (char *)val};

			if (val && apply(p, k, v, 2) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* Three words: SRC DST DIR, the last the rest of the line; SRC and DIR
 * relative to the file's directory, like every host path in it. */
static int src_dst_dir_key(struct policy *p, const struct policy_key *k,
			   char *value)
{
	_cleanup_free_ char *src = NULL, *dir = NULL;
	char *v[3];

	v[0] = value;
	for (int i = 1; i < 3; i++) {
		v[i] = v[i - 1] + strcspn(v[i - 1], " \t");
		if (!*v[i])
			return fail(p, "%s: expected %s", k->name, k->args);
		*v[i]++ = '\0';
		while (is_space(*v[i]))
			v[i]++;
	}
	src = relative_to_file(p, v[0]);
	dir = relative_to_file(p, v[2]);
	if (!src || !dir)
		return fail(p, "out of memory");
	v[0] = src;
	v[2] = dir;
	return apply(p, k, v, 3);
}

static int key_line(struct policy *p, const char *name, char *value)
{
	const struct policy_key *k = NULL;
	_cleanup_free_ char *owned = NULL;
	char *v[2] = {value, NULL};
	char *cut;
	size_t len;

	if (p->section == SEC_NONE)
		return fail(p, "'%s' outside of any section", name);
	for (size_t i = 0; i < ELEMENTSOF(policy_keys); i++)
		if (policy_keys[i].section == p->section &&
		    strcmp(policy_keys[i].name, name) == 0)
			k = &policy_keys[i];
	if (!k)
		return fail(p, "unknown key '%s' in [%s]", name,
			    section_names[p->section]);
	/* inih strips " ; comments"; strip " # comments" too. */
	for (cut = value; (cut = strchr(cut, '#')); cut++)
		if (cut > value && is_space(cut[-1])) {
			*cut = '\0';
			break;
		}
	len = strlen(value);
	while (len > 0 && is_space(value[len - 1]))
		value[--len] = '\0';
	if (len == 0)
		return fail(p, "%s: empty value", name);

	switch (k->kind) {
	case KEY_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
			return apply(p, k, v, 0);
		if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
			return 0;
		return fail(p, "%s: expected true or false, got '%s'", name,
			    value);
	case KEY_PASS:
	case KEY_ALLOW:
		return names_key(p, k, value);
	case KEY_PATH:
		if (strcmp(value, "default") != 0 &&
		    strcmp(value, "none") != 0) {
			owned = relative_to_file(p, value);
			if (!owned)
				return fail(p, "out of memory");
			v[0] = owned;
		}
		return apply(p, k, v, 1);
	case KEY_TEXT:
		return apply(p, k, v, 1);
	case KEY_SRC_DST_DIR:
		return src_dst_dir_key(p, k, value);
	case KEY_VALUES:
	case KEY_SRC_DST:
	case KEY_SETENV:
		break;
	}
	if (k->nargs == 1) {
		if (strpbrk(value, " \t"))
			return fail(p, "%s: expected one value (%s), got '%s'",
				    name, k->args, value);
		return apply(p, k, v, 1);
	}
	/* Two values: the first word, and the rest of the line. */
	v[1] = value + strcspn(value, " \t");
	if (!*v[1])
		return fail(p, "%s: expected %s", name, k->args);
	*v[1]++ = '\0';
	while (is_space(*v[1]))
		v[1]++;
	if (k->kind == KEY_SRC_DST) {
		owned = relative_to_file(p, v[0]);
		if (!owned)
			return fail(p, "out of memory");
		v[0] = owned;
	} else if (k->kind == KEY_SETENV) {
		if (!valid_name(v[0], strlen(v[0])))
			return fail(p, "set: invalid variable name '%s'", v[0]);
		if (expand(p, v[1], &owned) < 0)
			return -EINVAL;
		v[1] = owned;
	} else if (strcmp(k->name, "file") == 0) {
		if (strcmp(v[1], "-") == 0)
			return fail(p, "file: '-' (stdin) only on the "
				       "command line");
		owned = relative_to_file(p, v[1]);
		if (!owned)
			return fail(p, "out of memory");
		v[1] = owned;
	}
	return apply(p, k, v, 2);
}

/* inih's handler: nonzero to go on. */
static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct policy *p = user;
	char v[POLICY_VALUE_MAX];

	(void)section; /* ours, from read_line(), is the one checked */
	if (p->err)
		return 0;
	if (strlen(value) >= sizeof(v))
		return fail(p, "%s: value too long", name), 0;
	strcpy(v, value);
	if (key_line(p, name, v) < 0) {
		/* apply() said why already; remember that it failed. */
		if (!p->err)
			p->err = -EINVAL;
		return 0;
	}
	return 1;
}

int policy_load(const char *path, char *const *env, policy_apply_fn fn,
		void *userdata)
{
	struct policy p = {
	    .path = path,
	    .env = env,
	    .apply = fn,
	    .userdata = userdata,
	};
	const char *slash = strrchr(path, '/');
	int r;

	p.dir = slash
		    ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
		    : strdup(".");
	if (!p.dir) {
		fprintf(stderr, "boxctl: --policy: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	p.lines = (struct ini_lines){
	    .max_bytes = POLICY_MAX_BYTES,
	    .strict = true,
	    .section = on_section,
	    .fail = on_line_refused,
	    .userdata = &p,
	};
	p.lines.f = fopen(path, "re");
	if (!p.lines.f) {
		r = -errno;
		fprintf(stderr, "boxctl: --policy: %s: %s\n", path,
			strerror(-r));
		free(p.dir);
		return r;
	}
	r = ini_parse_stream(ini_lines_read, &p.lines, on_key, &p);
	/* inih's own syntax errors (a line without '=') come back as a
	 * line number. */
	if (r > 0 && !p.err) {
		p.lines.line = (unsigned)r;
		fail(&p, "expected 'key = value', '[section]' or a comment");
	} else if (r < 0 && !p.err) {
		fail(&p, "out of memory");
	}
	fclose(p.lines.f);
	ini_lines_done(&p.lines);
	free(p.dir);
	for (size_t i = 0; i < p.n_allowed; i++)
		free(p.allowed[i]);
	free(p.allowed);
	return p.err;
}
