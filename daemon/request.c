/*
 * RunRequest -> run_spec. Every byte here came from a client: lengths are
 * bounded, strings are checked for NUL, paths are normalised and must be
 * absolute, enums are checked against their known values, and each
 * request for a limit or a privilege is held against the tenant's policy
 * and against what the host can enforce. A refusal names what was refused
 * and why; nothing is clamped or dropped silently (lenient mode drops an
 * unenforceable limit only with a caveat in the result).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "profile.h"
#include "request-internal.h"
#include "request.h"
#include "seccomp.h"
#include "util.h"

#define MAX_ARGS 65536
#define MAX_ENV 65536
#define MAX_HOSTNAME 64
#define MAX_TAG 256
#define DEFAULT_PATH \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Boxd__V1__ErrorCode request_error_code(enum error_kind kind)
{
	switch (kind) {
	case ERROR_INVALID:
		return BOXD__V1__ERROR_CODE__BAD_REQUEST;
	case ERROR_DENIED:
		return BOXD__V1__ERROR_CODE__DENIED;
	case ERROR_UNSUPPORTED:
		return BOXD__V1__ERROR_CODE__UNSUPPORTED;
	case ERROR_BUSY:
		return BOXD__V1__ERROR_CODE__BUSY;
	case ERROR_NOT_FOUND:
		return BOXD__V1__ERROR_CODE__NOT_FOUND;
	case ERROR_SETUP:
		return BOXD__V1__ERROR_CODE__SETUP_FAILED;
	case ERROR_EXEC:
		return BOXD__V1__ERROR_CODE__EXEC_FAILED;
	case ERROR_INTERNAL:
		break;
	}
	return BOXD__V1__ERROR_CODE__INTERNAL;
}

/* protobuf-c leaves data NULL for empty bytes; mem*() must not see it. */
static bool has_nul(const ProtobufCBinaryData *b)
{
	return b->len > 0 && memchr(b->data, 0, b->len);
}

/* A C string from bytes that must not contain NUL. */
int request_bytes_to_str(const ProtobufCBinaryData *b, size_t max, char **ret)
{
	char *s;

	if (b->len > max || has_nul(b))
		return -EINVAL;
	s = malloc(b->len + 1);
	if (!s)
		return -ENOMEM;
	if (b->len)
		memcpy(s, b->data, b->len);
	s[b->len] = 0;
	*ret = s;
	return 0;
}

int request_normalize_path(const uint8_t *data, size_t len, char **ret)
{
	char *out, *w;
	size_t i = 0;

	if (len == 0 || len >= MAX_PATH || data[0] != '/' ||
	    memchr(data, 0, len))
		return -EINVAL;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	w = out;
	while (i < len) {
		size_t start, clen;

		while (i < len && data[i] == '/')
			i++;
		start = i;
		while (i < len && data[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0)
			break;
		/* "." and ".." are refused rather than resolved: the path
		 * a caller meant and the path we use must be the same. */
		if ((clen == 1 && data[start] == '.') ||
		    (clen == 2 && data[start] == '.' &&
		     data[start + 1] == '.')) {
			free(out);
			return -EINVAL;
		}
		*w++ = '/';
		memcpy(w, data + start, clen);
		w += clen;
	}
	if (w == out)
		*w++ = '/';
	*w = 0;
	*ret = out;
	return 0;
}

/* ---- pieces of the request ---- */

static int convert_argv(const Boxd__V1__RunRequest *req, struct run_spec *s,
			struct error_detail *err)
{
	if (req->n_argv == 0)
		return BAD(err, "argv is empty: nothing to run");
	if (req->n_argv > MAX_ARGS)
		return BAD(err, "too many arguments (%zu, at most %d)",
			   req->n_argv, MAX_ARGS);
	if (req->argv[0].len == 0)
		return BAD(err, "argv[0] is empty");
	s->argv = calloc(req->n_argv + 1, sizeof(char *));
	if (!s->argv)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_argv; i++)
		if (request_bytes_to_str(&req->argv[i], SIZE_MAX, &s->argv[i]) <
		    0)
			return BAD(err, "argv[%zu] contains a NUL byte", i);
	return 0;
}

static bool env_name_ok(const ProtobufCBinaryData *b)
{
	return b->len > 0 && !memchr(b->data, '=', b->len) &&
	       !memchr(b->data, 0, b->len);
}

static int env_find(char **env, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return (int)i;
	return -1;
}

/* Environment: PATH plus what the request sets, minus what it unsets.
 * Nothing of the daemon's own environment is ever passed on. */
static int convert_env(const Boxd__V1__RunRequest *req, struct run_spec *s,
		       struct error_detail *err)
{
	size_t n = 0, cap = req->n_setenv + 2;
	char **env;

	if (req->n_setenv > MAX_ENV || req->n_unsetenv > MAX_ENV)
		return BAD(err, "too many environment variables");
	env = calloc(cap, sizeof(char *));
	if (!env)
		return -ENOMEM;
	s->env = env;
	env[n] = strdup("PATH=" DEFAULT_PATH);
	if (!env[n++])
		return -ENOMEM;
	for (size_t i = 0; i < req->n_setenv; i++) {
		const Boxd__V1__EnvVar *v = req->setenv[i];
		char *entry;
		int at;

		if (!env_name_ok(&v->name))
			return BAD(err, "setenv: bad variable name (empty, "
					"or contains '=' or NUL)");
		if (has_nul(&v->value))
			return BAD(err, "setenv %.*s: value contains NUL",
				   (int)v->name.len, (char *)v->name.data);
		entry = malloc(v->name.len + v->value.len + 2);
		if (!entry)
			return -ENOMEM;
		memcpy(entry, v->name.data, v->name.len);
		entry[v->name.len] = '=';
		if (v->value.len)
			memcpy(entry + v->name.len + 1, v->value.data,
			       v->value.len);
		entry[v->name.len + 1 + v->value.len] = 0;
		at = env_find(env, n, entry, v->name.len);
		if (at >= 0) {
			free(env[at]);
			env[at] = entry;
		} else {
			env[n++] = entry;
		}
	}
	for (size_t i = 0; i < req->n_unsetenv; i++) {
		const ProtobufCBinaryData *name = &req->unsetenv[i];
		int at;

		if (!env_name_ok(name))
			return BAD(err, "unsetenv: bad variable name");
		at = env_find(env, n, (const char *)name->data, name->len);
		if (at >= 0) {
			free(env[at]);
			env[at] = env[--n];
			env[n] = NULL;
		}
	}
	return 0;
}

static int add_caveat(struct request_out *out, const char *what)
{
	if (out->n_caveats >= REQUEST_MAX_CAVEATS)
		return 0;
	out->caveats[out->n_caveats] = strdup(what);
	if (!out->caveats[out->n_caveats])
		return -ENOMEM;
	out->n_caveats++;
	return 0;
}

enum ceiling_kind {
	CEILING_SIZE,
	CEILING_DURATION,
	CEILING_COUNT,
	CEILING_CPUS, /* millis */
};

static const char *format_ceiling(enum ceiling_kind kind, uint64_t v, char *buf,
				  size_t len)
{
	switch (kind) {
	case CEILING_SIZE:
		return format_size(v, buf, len);
	case CEILING_DURATION:
		return format_duration(v, buf, len);
	case CEILING_CPUS:
		snprintf(buf, len, "%llu.%03llu",
			 (unsigned long long)(v / 1000),
			 (unsigned long long)(v % 1000));
		return buf;
	case CEILING_COUNT:
		break;
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* A tenant ceiling turns an absent limit into that ceiling; a request
 * above it is refused, never clamped. */
static int apply_ceiling64(uint64_t *v, uint64_t ceiling, const char *what,
			   const char *tenant, enum ceiling_kind kind,
			   struct error_detail *err)
{
	char a[32], b[32];

	if (!ceiling)
		return 0;
	if (!*v) {
		*v = ceiling;
		return 0;
	}
	if (*v <= ceiling)
		return 0;
	return DENIED(err, "%s %s exceeds tenant '%s' ceiling %s", what,
		      format_ceiling(kind, *v, a, sizeof(a)), tenant,
		      format_ceiling(kind, ceiling, b, sizeof(b)));
}

static int convert_limits(const Boxd__V1__RunRequest *req,
			  const struct request_ctx *ctx, struct run_spec *s,
			  struct request_out *out, struct error_detail *err)
{
	const Boxd__V1__Limits *l = req->limits;
	const struct tenant_policy *t = ctx->tenant;
	struct spec_limits *lim = &s->limits;
	struct error_detail host;
	char caveat[sizeof(host.message) + 32], a[32], b[32];
	uint64_t v;
	int r;

	if (l) {
		lim->memory_bytes = l->has_memory_bytes ? l->memory_bytes : 0;
		lim->memory_swap_bytes =
		    l->has_memory_swap_bytes ? l->memory_swap_bytes : 0;
		lim->cpu_millis = l->has_cpu_millis ? l->cpu_millis : 0;
		lim->pids = l->has_pids ? l->pids : 0;
		lim->timeout_ns = l->has_timeout_ns ? l->timeout_ns : 0;
		lim->cpu_time_ns = l->has_cpu_time_ns ? l->cpu_time_ns : 0;
		if ((l->has_memory_bytes && !l->memory_bytes) ||
		    (l->has_cpu_millis && !l->cpu_millis) ||
		    (l->has_pids && !l->pids) ||
		    (l->has_timeout_ns && !l->timeout_ns) ||
		    (l->has_cpu_time_ns && !l->cpu_time_ns))
			return BAD(err, "a limit of 0 is not a limit: leave "
					"the field unset for none");
		if (lim->memory_swap_bytes && !lim->memory_bytes)
			return BAD(err, "memory_swap needs a memory limit");
		/* It counts memory and swap together: below the memory
		 * limit it would contradict it. */
		if (lim->memory_swap_bytes &&
		    lim->memory_swap_bytes < lim->memory_bytes)
			return BAD(
			    err,
			    "memory_swap %s is below the memory limit "
			    "%s (it counts memory + swap)",
			    format_size(lim->memory_swap_bytes, a, sizeof(a)),
			    format_size(lim->memory_bytes, b, sizeof(b)));
		if (lim->memory_bytes && lim->memory_bytes < (1u << 20))
			return BAD(err, "memory limit below 1M cannot even "
					"start a sandbox");
	}
	if (t) {
		const char *n = t->name;
		uint64_t cpu = lim->cpu_millis, pids = lim->pids;

		if ((r = apply_ceiling64(&lim->memory_bytes,
					 t->max_memory_bytes, "memory", n,
					 CEILING_SIZE, err)) < 0 ||
		    (r = apply_ceiling64(&cpu, t->max_cpu_millis, "cpus", n,
					 CEILING_CPUS, err)) < 0 ||
		    (r = apply_ceiling64(&pids, t->max_pids, "pids", n,
					 CEILING_COUNT, err)) < 0 ||
		    (r = apply_ceiling64(&lim->timeout_ns, t->max_timeout_ns,
					 "timeout", n, CEILING_DURATION, err)) <
			0 ||
		    (r = apply_ceiling64(&lim->cpu_time_ns, t->max_cpu_time_ns,
					 "cpu time", n, CEILING_DURATION,
					 err)) < 0)
			return r;
		lim->cpu_millis = (uint32_t)cpu;
		lim->pids = (uint32_t)pids;
	}

	/* Wall time is enforced by the daemon itself; everything else
	 * needs the cgroup controllers. */
	v = lim->timeout_ns;
	lim->timeout_ns = 0;
	if (ctx->cgroups)
		r = cgroup_manager_check(ctx->cgroups, lim, &host);
	else if (lim->memory_bytes || lim->cpu_millis || lim->pids ||
		 lim->cpu_time_ns)
		r = error_set(&host, ERROR_UNSUPPORTED, -EOPNOTSUPP,
			      "cgroups are disabled (--no-cgroups)");
	else
		r = 0;
	lim->timeout_ns = v;
	if (r < 0) {
		if (!req->lenient)
			return UNSUPPORTED(
			    err,
			    "cannot enforce the requested limits: %s "
			    "(lenient mode would run without them)",
			    host.message);
		if (t && (t->max_memory_bytes || t->max_cpu_millis ||
			  t->max_pids || t->max_cpu_time_ns))
			return UNSUPPORTED(
			    err,
			    "tenant '%s' has ceilings this host cannot "
			    "enforce: %s",
			    t->name, host.message);
		lim->memory_bytes = lim->memory_swap_bytes = 0;
		lim->cpu_millis = lim->pids = 0;
		lim->cpu_time_ns = 0;
		snprintf(caveat, sizeof(caveat), "limits not enforced: %s",
			 host.message);
		if ((r = add_caveat(out, caveat)) < 0)
			return r;
	}
	return 0;
}

static int convert_seccomp(const Boxd__V1__RunRequest *req,
			   const struct request_ctx *ctx, struct run_spec *s,
			   struct error_detail *err)
{
	const Boxd__V1__Seccomp *sc = req->seccomp;
	const struct tenant_policy *t = ctx->tenant;
	enum seccomp_net net = req->net == BOXD__V1__NET__NET_HOST
				   ? SECCOMP_NET_HOST
				   : SECCOMP_NET_OWN;
	struct error_detail policy;
	int r;

	if (!sc || sc->mode == BOXD__V1__SECCOMP__MODE__DEFAULT) {
		r = seccomp_default(net, &s->seccomp);
		if (r < 0)
			return error_set(err, ERROR_INTERNAL, r,
					 "cannot build the default seccomp "
					 "filter");
		return 0;
	}
	switch ((int)sc->mode) {
	case BOXD__V1__SECCOMP__MODE__NONE:
		if (t && !t->allow_seccomp_none)
			return DENIED(
			    err,
			    "tenant '%s' may not run without a seccomp "
			    "filter",
			    t->name);
		return 0;
	case BOXD__V1__SECCOMP__MODE__CUSTOM:
		if (t && !t->allow_custom_seccomp)
			return DENIED(err,
				      "tenant '%s' may not use custom seccomp "
				      "policies",
				      t->name);
		if (!sc->has_policy)
			return BAD(err, "custom seccomp needs a policy");
		r = seccomp_compile_policy((const char *)sc->policy.data,
					   sc->policy.len, net, &policy,
					   &s->seccomp);
		if (r < 0)
			return BAD(err, "seccomp policy: %s", policy.message);
		return 0;
	default:
		return BAD(err, "unknown seccomp mode %d", (int)sc->mode);
	}
}

/*
 * The spec's resource for a protocol one. The two enums share their names
 * (NOFILE, "nofile"), so the match is by name against spec_rlimit_info(),
 * the one table of resources: -1 for a value the protocol does not know.
 */
static int rlimit_kind(Boxd__V1__Rlimit__Resource resource)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &boxd__v1__rlimit__resource__descriptor, (int)resource);

	for (int k = 0; v && k < _SPEC_RLIMIT_MAX; k++)
		if (strcasecmp(spec_rlimit_info(k)->name, v->name) == 0)
			return k;
	return -1;
}

static int convert_rlimits(const Boxd__V1__RunRequest *req, struct run_spec *s,
			   struct error_detail *err)
{
	struct rlimit daemon_nofile;
	uint64_t nofile_hard = 65536;

	/* Safe defaults: no core dumps (they would land in the sandbox's
	 * cwd, possibly a writable bind of the caller's), and the usual 1024
	 * open files rather than the daemon's own raised limit. */
	s->rlimits[SPEC_RLIMIT_CORE] = (struct spec_rlimit){true, 0, 0};
	if (getrlimit(RLIMIT_NOFILE, &daemon_nofile) == 0 &&
	    daemon_nofile.rlim_max != RLIM_INFINITY &&
	    daemon_nofile.rlim_max < nofile_hard)
		nofile_hard = daemon_nofile.rlim_max;
	s->rlimits[SPEC_RLIMIT_NOFILE] = (struct spec_rlimit){
	    true, nofile_hard < 1024 ? nofile_hard : 1024, nofile_hard};
	for (size_t i = 0; i < req->n_rlimits; i++) {
		const Boxd__V1__Rlimit *rl = req->rlimits[i];
		int k = rlimit_kind(rl->resource);
		struct rlimit mine;

		if (k < 0)
			return BAD(err, "unknown rlimit resource %d",
				   (int)rl->resource);
		if (rl->soft > rl->hard)
			return BAD(err,
				   "rlimit %d: soft limit above hard limit",
				   (int)rl->resource);
		/* Raising a hard limit needs privilege in the host's user
		 * namespace, which sandboxes never have. Say so up front. */
		if (getrlimit(spec_rlimit_info(k)->resource, &mine) == 0 &&
		    mine.rlim_max != RLIM_INFINITY && rl->hard > mine.rlim_max)
			return BAD(err,
				   "rlimit %d: hard limit above the "
				   "daemon's own (%llu)",
				   (int)rl->resource,
				   (unsigned long long)mine.rlim_max);
		s->rlimits[k] = (struct spec_rlimit){true, rl->soft, rl->hard};
	}
	return 0;
}

/*
 * A terminal of the sandbox's own. Its size is a struct winsize's
 * (16-bit fields); a size without tty is a mistake worth saying.
 */
static int convert_tty(const Boxd__V1__RunRequest *req, struct run_spec *s,
		       struct error_detail *err)
{
	if (!req->tty) {
		if (req->has_tty_rows || req->has_tty_cols)
			return BAD(err, "tty_rows and tty_cols need tty");
		return 0;
	}
	if ((req->has_tty_rows && req->tty_rows > UINT16_MAX) ||
	    (req->has_tty_cols && req->tty_cols > UINT16_MAX))
		return BAD(err, "tty_rows and tty_cols must be at most %u",
			   (unsigned)UINT16_MAX);
	s->tty = true;
	s->tty_rows = req->has_tty_rows ? (uint16_t)req->tty_rows : 0;
	s->tty_cols = req->has_tty_cols ? (uint16_t)req->tty_cols : 0;
	/* The command leads the terminal's session. */
	s->new_session = true;
	return 0;
}

int request_to_spec(const Boxd__V1__RunRequest *req,
		    const struct request_ctx *ctx, struct error_detail *err,
		    struct request_out *ret_out)
{
	const struct tenant_policy *t = ctx->tenant;
	struct request_out o = {.die_with_client = true}, *out = &o;
	struct error_detail e = {0};
	struct run_spec *s;
	int r;

	s = spec_new();
	if (!s) {
		r = -ENOMEM;
		goto fail;
	}
	out->spec = s;

	if ((r = convert_argv(req, s, &e)) < 0 ||
	    (r = convert_env(req, s, &e)) < 0 ||
	    (r = request_convert_mounts(req, ctx, s, &e)) < 0 ||
	    (r = convert_limits(req, ctx, s, out, &e)) < 0 ||
	    (r = convert_seccomp(req, ctx, s, &e)) < 0 ||
	    (r = convert_rlimits(req, s, &e)) < 0)
		goto fail;

	if (req->has_cwd) {
		if (request_normalize_path(req->cwd.data, req->cwd.len,
					   &s->cwd) < 0) {
			r = BAD(&e, "cwd must be an absolute path without '.' "
				    "or '..' components");
			goto fail;
		}
	} else if (!(s->cwd = strdup("/"))) {
		r = -ENOMEM;
		goto fail;
	}
	if (req->has_hostname) {
		if (req->hostname.len == 0 ||
		    request_bytes_to_str(&req->hostname, MAX_HOSTNAME,
					 &s->hostname) < 0) {
			r = BAD(&e, "hostname must be 1-%d bytes without NUL",
				MAX_HOSTNAME);
			goto fail;
		}
	} else if (!(s->hostname = strdup("boxd"))) {
		r = -ENOMEM;
		goto fail;
	}
	if (req->has_tag &&
	    request_bytes_to_str(&req->tag, MAX_TAG, &s->tag) < 0) {
		r = BAD(&e, "tag must be at most %d bytes without NUL",
			MAX_TAG);
		goto fail;
	}

	/* Ids inside default to the caller's own, so files written to a
	 * writable bind carry the caller's uid inside and out. */
	s->uid = req->has_uid ? req->uid : ctx->uid;
	s->gid = req->has_gid ? req->gid : ctx->gid;
	if (s->uid == (uid_t)-1 || s->gid == (gid_t)-1) {
		r = BAD(&e, "uid/gid 4294967295 is not a valid id");
		goto fail;
	}

	switch ((int)req->net) {
	case BOXD__V1__NET__NET_NONE:
		s->net = SPEC_NET_NONE;
		break;
	case BOXD__V1__NET__NET_LOOPBACK:
		s->net = SPEC_NET_LOOPBACK;
		break;
	case BOXD__V1__NET__NET_HOST:
		if (t && !t->allow_net_host) {
			r = DENIED(&e,
				   "tenant '%s' may not use the host network",
				   t->name);
			goto fail;
		}
		s->net = SPEC_NET_HOST;
		break;
	case BOXD__V1__NET__NET_OUTBOUND:
		if (t && !t->allow_net_outbound) {
			r = DENIED(&e,
				   "tenant '%s' may not use outbound network",
				   t->name);
			goto fail;
		}
		if (ctx->outbound_missing) {
			r = UNSUPPORTED(&e, "%s", ctx->outbound_missing);
			goto fail;
		}
		s->net = SPEC_NET_OUTBOUND;
		break;
	default:
		r = BAD(&e,
			"unknown network mode %d (known: none, loopback, "
			"host, outbound)",
			(int)req->net);
		goto fail;
	}
	s->new_session = req->new_session;
	out->die_with_client = req->die_with_client;
	if ((r = convert_tty(req, s, &e)) < 0)
		goto fail;
	/* The kernel gives a process's filters one listener, and a policy
	 * with kill rules already holds it. */
	if (req->no_exec && s->seccomp &&
	    seccomp_prog_needs_listener(s->seccomp)) {
		r = UNSUPPORTED(&e, "no-exec cannot be combined with a seccomp "
				    "policy that has kill rules: both need "
				    "the one seccomp listener a process may "
				    "have");
		goto fail;
	}
	s->no_exec = req->no_exec;
	/* pasta lives in the run's cgroup and touches about 30 MiB of
	 * buffers as it starts: below that it is OOM-killed before the
	 * command could run. Say so now rather than fail the run. */
	if (s->net == SPEC_NET_OUTBOUND && s->limits.memory_bytes &&
	    s->limits.memory_bytes < OUTBOUND_MIN_MEMORY) {
		r = BAD(&e,
			"outbound network runs pasta in the run's memory "
			"(about 30 MiB): a memory limit below %lluM cannot "
			"hold it",
			(unsigned long long)(OUTBOUND_MIN_MEMORY >> 20));
		goto fail;
	}
	if (req->write_ephemeral)
		request_make_ephemeral(s);
	*ret_out = o;
	return 0;

fail:
	/* Allocations fail without words of their own, and whatever was
	 * said, running out of memory is the daemon's failure. */
	if (!e.message[0])
		error_set(&e, ERROR_INTERNAL, r, "%s",
			  r == -ENOMEM ? "out of memory" : strerror(-r));
	else if (r == -ENOMEM)
		e.kind = ERROR_INTERNAL;
	if (err)
		*err = e;
	request_out_clear(out);
	return r;
}

void request_out_clear(struct request_out *out)
{
	out->spec = spec_free(out->spec);
	for (size_t i = 0; i < out->n_caveats; i++)
		free(out->caveats[i]);
	out->n_caveats = 0;
}
