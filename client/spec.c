/*
 * The spec builder: collects what a run should be into the RunRequest it
 * will be sent as. It checks what can be checked without the daemon
 * (argument shapes, ranges) and nothing more: policy and what the host
 * can enforce are the daemon's to decide. Never touches the connection;
 * a failed setter leaves the spec as it was.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct box_spec {
	Boxd__V1__RunRequest *msg;
};

const Boxd__V1__RunRequest *spec_message(const box_spec *s)
{
	return s->msg;
}

int box_spec_new(box_spec **ret_spec)
{
	box_spec *s;

	if (!ret_spec)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* Everything in msg is malloc'd so free_unpacked() can free it. */
	s->msg = malloc(sizeof(*s->msg));
	if (!s->msg) {
		free(s);
		return -ENOMEM;
	}
	boxd__v1__run_request__init(s->msg);
	*ret_spec = s;
	return 0;
}

box_spec *box_spec_free(box_spec *s)
{
	if (s) {
		boxd__v1__run_request__free_unpacked(s->msg, NULL);
		free(s);
	}
	return NULL;
}

static int bytes_set(ProtobufCBinaryData *b, const char *str)
{
	char *copy = strdup(str);

	if (!copy)
		return -ENOMEM;
	free(b->data);
	b->data = (uint8_t *)copy;
	b->len = strlen(copy);
	return 0;
}

static void bytes_clear(ProtobufCBinaryData *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* Grow a repeated field's array by one slot of `size` bytes. */
static int array_grow(void *arrayp, size_t n, size_t size)
{
	void **array = arrayp;
	void *p;

	if (n >= SIZE_MAX / size - 1)
		return -ENOMEM;
	p = realloc(*array, (n + 1) * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	return 0;
}

static int bytes_append(ProtobufCBinaryData **array, size_t *n, const char *str)
{
	ProtobufCBinaryData b = {0};
	int r;

	r = array_grow(array, *n, sizeof(**array));
	if (r < 0)
		return r;
	r = bytes_set(&b, str);
	if (r < 0)
		return r;
	(*array)[(*n)++] = b;
	return 0;
}

int box_spec_add_arg(box_spec *s, const char *arg)
{
	if (!s || !arg)
		return -EINVAL;
	return bytes_append(&s->msg->argv, &s->msg->n_argv, arg);
}

int box_spec_set_argv(box_spec *s, const char *const *argv)
{
	ProtobufCBinaryData *array;
	size_t n = 0;

	if (!s || !argv || !argv[0])
		return -EINVAL;
	while (argv[n])
		n++;
	array = calloc(n, sizeof(*array));
	if (!array)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (bytes_set(&array[i], argv[i]) < 0) {
			while (i-- > 0)
				free(array[i].data);
			free(array);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < s->msg->n_argv; i++)
		free(s->msg->argv[i].data);
	free(s->msg->argv);
	s->msg->argv = array;
	s->msg->n_argv = n;
	return 0;
}

int box_spec_set_profile(box_spec *s, enum box_profile profile)
{
	if (!s)
		return -EINVAL;
	switch (profile) {
	case BOX_PROFILE_DEFAULT:
	case BOX_PROFILE_BARE:
		break;
	default:
		return -EINVAL;
	}
	s->msg->has_profile = true;
	s->msg->profile = (Boxd__V1__Profile)profile;
	return 0;
}

static bool kind_has_src(enum box_mount_kind kind)
{
	return kind == BOX_MOUNT_RO_BIND || kind == BOX_MOUNT_BIND ||
	       kind == BOX_MOUNT_DEV_BIND || kind == BOX_MOUNT_SYMLINK ||
	       kind == BOX_MOUNT_OVERLAY;
}

/*
 * "/a//b/./c/../d" -> "/a/b/d", in place. Textual: ".." drops the
 * previous component whatever it is, as a shell's "cd -L" would.
 */
static void path_simplify(char *path)
{
	char *out = path, *in = path;

	while (*in) {
		char *end;
		size_t len;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		end = strchrnul(in, '/');
		len = (size_t)(end - in);
		if (len == 1 && in[0] == '.') {
			/* nothing */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/*
 * The daemon cannot know our working directory, so a relative host path
 * is made absolute here, as the caller would expect ("." included).
 */
static int absolute_path(const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL;
	char *abs;

	if (path[0] == '/') {
		abs = strdup(path);
		if (!abs)
			return -ENOMEM;
	} else {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return negerrno();
		if (asprintf(&abs, "%s/%s", cwd, path) < 0)
			return -ENOMEM;
		path_simplify(abs);
	}
	*ret = abs;
	return 0;
}

static int mount_add(box_spec *s, enum box_mount_kind kind, const char *src,
		     const char *dst, bool has_size, uint64_t size, int mode)
{
	Boxd__V1__Mount *m;
	_cleanup_free_ char *abs = NULL;
	int r;

	if (!s || !dst || dst[0] != '/')
		return -EINVAL;
	if ((kind < BOX_MOUNT_RO_BIND || kind > BOX_MOUNT_DEV_BIND) &&
	    kind != BOX_MOUNT_HIDE && kind != BOX_MOUNT_FILE &&
	    kind != BOX_MOUNT_OVERLAY)
		return -EINVAL;
	if (kind_has_src(kind) != (src != NULL) || (src && !*src))
		return -EINVAL;
	if (mode < -1 || mode > 07777)
		return -EINVAL;
	if (src && kind != BOX_MOUNT_SYMLINK) {
		r = absolute_path(src, &abs);
		if (r < 0)
			return r;
		src = abs;
	}
	r = array_grow(&s->msg->mounts, s->msg->n_mounts,
		       sizeof(*s->msg->mounts));
	if (r < 0)
		return r;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	boxd__v1__mount__init(m);
	m->kind = (Boxd__V1__Mount__Kind)kind;
	if (bytes_set(&m->dst, dst) < 0 ||
	    (src && bytes_set(&m->src, src) < 0)) {
		boxd__v1__mount__free_unpacked(m, NULL);
		return -ENOMEM;
	}
	m->has_src = src != NULL;
	m->has_size = has_size;
	m->size = size;
	if (mode >= 0) {
		m->has_mode = true;
		m->mode = (uint32_t)mode;
	}
	s->msg->mounts[s->msg->n_mounts++] = m;
	return 0;
}

int box_spec_add_mount(box_spec *s, enum box_mount_kind kind, const char *src,
		       const char *dst)
{
	return mount_add(s, kind, src, dst, false, 0, -1);
}

int box_spec_ro_bind(box_spec *s, const char *src, const char *dst)
{
	return mount_add(s, BOX_MOUNT_RO_BIND, src, dst, false, 0, -1);
}

int box_spec_bind(box_spec *s, const char *src, const char *dst)
{
	return mount_add(s, BOX_MOUNT_BIND, src, dst, false, 0, -1);
}

int box_spec_dev_bind(box_spec *s, const char *src, const char *dst)
{
	return mount_add(s, BOX_MOUNT_DEV_BIND, src, dst, false, 0, -1);
}

int box_spec_tmpfs(box_spec *s, const char *dst, uint64_t size_bytes, int mode)
{
	return mount_add(s, BOX_MOUNT_TMPFS, NULL, dst, size_bytes > 0,
			 size_bytes, mode);
}

int box_spec_proc(box_spec *s, const char *dst)
{
	return mount_add(s, BOX_MOUNT_PROC, NULL, dst, false, 0, -1);
}

int box_spec_dev(box_spec *s, const char *dst)
{
	return mount_add(s, BOX_MOUNT_DEV, NULL, dst, false, 0, -1);
}

int box_spec_symlink(box_spec *s, const char *target, const char *dst)
{
	return mount_add(s, BOX_MOUNT_SYMLINK, target, dst, false, 0, -1);
}

int box_spec_dir(box_spec *s, const char *dst, int mode)
{
	return mount_add(s, BOX_MOUNT_DIR, NULL, dst, false, 0, mode);
}

int box_spec_remount_ro(box_spec *s, const char *dst)
{
	return mount_add(s, BOX_MOUNT_REMOUNT_RO, NULL, dst, false, 0, -1);
}

int box_spec_add_file(box_spec *s, const char *dst, const void *data,
		      size_t len, int mode)
{
	Boxd__V1__Mount *m;
	int r;

	if (!s || (len && !data) || mode == 0)
		return -EINVAL;
	if (dst && strcmp(dst, "/") == 0)
		return -EINVAL;
	r = mount_add(s, BOX_MOUNT_FILE, NULL, dst, false, 0, mode);
	if (r < 0)
		return r;
	m = s->msg->mounts[s->msg->n_mounts - 1];
	m->has_data = true;
	if (!len)
		return 0;
	m->data.data = malloc(len);
	if (!m->data.data) {
		boxd__v1__mount__free_unpacked(m, NULL);
		s->msg->n_mounts--;
		return -ENOMEM;
	}
	memcpy(m->data.data, data, len);
	m->data.len = len;
	return 0;
}

int box_spec_overlay(box_spec *s, const char *src, const char *dst)
{
	return mount_add(s, BOX_MOUNT_OVERLAY, src, dst, false, 0, -1);
}

int box_spec_overlay_persist(box_spec *s, const char *src, const char *dst,
			     const char *upper)
{
	_cleanup_free_ char *abs = NULL;
	Boxd__V1__Mount *m;
	int r;

	if (!s || !upper || !*upper)
		return -EINVAL;
	/* Relative to the caller's working directory, like src: the daemon
	 * has none of the caller's to resolve it against. */
	r = absolute_path(upper, &abs);
	if (r < 0)
		return r;
	r = mount_add(s, BOX_MOUNT_OVERLAY, src, dst, false, 0, -1);
	if (r < 0)
		return r;
	m = s->msg->mounts[s->msg->n_mounts - 1];
	if (bytes_set(&m->upper, abs) < 0) {
		boxd__v1__mount__free_unpacked(m, NULL);
		s->msg->n_mounts--;
		return -ENOMEM;
	}
	m->has_upper = true;
	return 0;
}

int box_spec_set_write_ephemeral(box_spec *s, bool on)
{
	if (!s)
		return -EINVAL;
	s->msg->has_write_ephemeral = on;
	s->msg->write_ephemeral = on;
	return 0;
}

int box_spec_hide(box_spec *s, const char *dst)
{
	if (dst && strcmp(dst, "/") == 0)
		return -EINVAL; /* the daemon refuses it too */
	return mount_add(s, BOX_MOUNT_HIDE, NULL, dst, false, 0, -1);
}

/*
 * Component-wise order of two absolute paths: split at '/', compare the
 * components bytewise, a path that runs out first sorts first. So "/a"
 * sorts before "/a/b" (a prefix of it) and "/a/b" before "/a-b" ("a" is
 * a prefix of "a-b"), which plain strcmp gets wrong ('-' < '/').
 * Repeated and trailing slashes do not count.
 */
static int path_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		    size_t blen)
{
	size_t i = 0, j = 0;

	for (;;) {
		size_t ai, bj, an, bn;
		int c;

		while (i < alen && a[i] == '/')
			i++;
		while (j < blen && b[j] == '/')
			j++;
		if (i == alen || j == blen)
			return (i < alen) - (j < blen);
		for (ai = i; i < alen && a[i] != '/'; i++)
			;
		for (bj = j; j < blen && b[j] != '/'; j++)
			;
		an = i - ai;
		bn = j - bj;
		c = memcmp(a + ai, b + bj, an < bn ? an : bn);
		if (c)
			return c;
		if (an != bn)
			return an < bn ? -1 : 1;
	}
}

int box_spec_sort_mounts(box_spec *s)
{
	Boxd__V1__Mount **m;

	if (!s)
		return -EINVAL;
	m = s->msg->mounts;
	/* Insertion sort: stable, and a spec holds few mounts. */
	for (size_t i = 1; i < s->msg->n_mounts; i++) {
		Boxd__V1__Mount *cur = m[i];
		size_t j = i;

		while (j > 0 && path_cmp(m[j - 1]->dst.data, m[j - 1]->dst.len,
					 cur->dst.data, cur->dst.len) > 0) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = cur;
	}
	return 0;
}

static bool env_name_ok(const char *name)
{
	return name && *name && !strchr(name, '=');
}

int box_spec_setenv(box_spec *s, const char *name, const char *value)
{
	Boxd__V1__EnvVar *v;
	int r;

	if (!s || !env_name_ok(name) || !value)
		return -EINVAL;
	r = array_grow(&s->msg->setenv, s->msg->n_setenv,
		       sizeof(*s->msg->setenv));
	if (r < 0)
		return r;
	v = malloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	boxd__v1__env_var__init(v);
	if (bytes_set(&v->name, name) < 0 || bytes_set(&v->value, value) < 0) {
		boxd__v1__env_var__free_unpacked(v, NULL);
		return -ENOMEM;
	}
	s->msg->setenv[s->msg->n_setenv++] = v;
	return 0;
}

int box_spec_unsetenv(box_spec *s, const char *name)
{
	if (!s || !env_name_ok(name))
		return -EINVAL;
	return bytes_append(&s->msg->unsetenv, &s->msg->n_unsetenv, name);
}

static int opt_bytes(protobuf_c_boolean *has, ProtobufCBinaryData *b,
		     const char *str)
{
	int r;

	if (!str) {
		bytes_clear(b);
		*has = false;
		return 0;
	}
	r = bytes_set(b, str);
	if (r < 0)
		return r;
	*has = true;
	return 0;
}

int box_spec_set_cwd(box_spec *s, const char *cwd)
{
	if (!s || (cwd && cwd[0] != '/'))
		return -EINVAL;
	return opt_bytes(&s->msg->has_cwd, &s->msg->cwd, cwd);
}

int box_spec_set_hostname(box_spec *s, const char *hostname)
{
	if (!s || (hostname && !*hostname))
		return -EINVAL;
	return opt_bytes(&s->msg->has_hostname, &s->msg->hostname, hostname);
}

int box_spec_set_tag(box_spec *s, const char *tag)
{
	if (!s)
		return -EINVAL;
	return opt_bytes(&s->msg->has_tag, &s->msg->tag, tag);
}

static int opt_id(protobuf_c_boolean *has, uint32_t *field, int64_t id)
{
	/* (uid_t)-1 means "no change" to the kernel: never a real id. */
	if (id >= UINT32_MAX)
		return -EINVAL;
	*has = id >= 0;
	*field = id >= 0 ? (uint32_t)id : 0;
	return 0;
}

int box_spec_set_uid(box_spec *s, int64_t uid)
{
	if (!s)
		return -EINVAL;
	return opt_id(&s->msg->has_uid, &s->msg->uid, uid);
}

int box_spec_set_gid(box_spec *s, int64_t gid)
{
	if (!s)
		return -EINVAL;
	return opt_id(&s->msg->has_gid, &s->msg->gid, gid);
}

int box_spec_set_net(box_spec *s, enum box_net net)
{
	if (!s)
		return -EINVAL;
	switch (net) {
	case BOX_NET_NONE:
	case BOX_NET_LOOPBACK:
	case BOX_NET_HOST:
	case BOX_NET_OUTBOUND:
		break;
	default:
		return -EINVAL;
	}
	s->msg->has_net = true;
	s->msg->net = (Boxd__V1__Net)net;
	return 0;
}

int box_spec_set_new_session(box_spec *s, bool on)
{
	if (!s)
		return -EINVAL;
	s->msg->has_new_session = true;
	s->msg->new_session = on;
	return 0;
}

int box_spec_set_no_exec(box_spec *s, bool on)
{
	if (!s)
		return -EINVAL;
	s->msg->has_no_exec = on;
	s->msg->no_exec = on;
	return 0;
}

int box_spec_set_tty(box_spec *s, bool on)
{
	if (!s)
		return -EINVAL;
	s->msg->has_tty = true;
	s->msg->tty = on;
	if (!on)
		s->msg->has_tty_rows = s->msg->has_tty_cols = false;
	return 0;
}

int box_spec_set_tty_size(box_spec *s, unsigned rows, unsigned cols)
{
	if (!s || rows > UINT16_MAX || cols > UINT16_MAX)
		return -EINVAL;
	s->msg->has_tty_rows = s->msg->has_tty_cols = true;
	s->msg->tty_rows = rows;
	s->msg->tty_cols = cols;
	return 0;
}

int box_spec_set_die_with_client(box_spec *s, bool on)
{
	if (!s)
		return -EINVAL;
	s->msg->has_die_with_client = true;
	s->msg->die_with_client = on;
	return 0;
}

int box_spec_set_lenient(box_spec *s, bool on)
{
	if (!s)
		return -EINVAL;
	s->msg->has_lenient = true;
	s->msg->lenient = on;
	return 0;
}

static Boxd__V1__Limits *spec_limits(box_spec *s)
{
	if (!s->msg->limits) {
		s->msg->limits = malloc(sizeof(*s->msg->limits));
		if (s->msg->limits)
			boxd__v1__limits__init(s->msg->limits);
	}
	return s->msg->limits;
}

#define LIMIT_SETTER(fn, type, field)       \
	int fn(box_spec *s, type value)     \
	{                                   \
		Boxd__V1__Limits *l;        \
                                            \
		if (!s)                     \
			return -EINVAL;     \
		l = spec_limits(s);         \
		if (!l)                     \
			return -ENOMEM;     \
		l->has_##field = value > 0; \
		l->field = value;           \
		return 0;                   \
	}

LIMIT_SETTER(box_spec_set_memory, uint64_t, memory_bytes)
LIMIT_SETTER(box_spec_set_memory_swap, uint64_t, memory_swap_bytes)
LIMIT_SETTER(box_spec_set_cpu_millis, uint32_t, cpu_millis)
LIMIT_SETTER(box_spec_set_pids, uint32_t, pids)
LIMIT_SETTER(box_spec_set_timeout_ns, uint64_t, timeout_ns)
LIMIT_SETTER(box_spec_set_cpu_time_ns, uint64_t, cpu_time_ns)

int box_spec_set_cpus(box_spec *s, double cpus)
{
	double millis;

	if (!s || !isfinite(cpus) || cpus < 0)
		return -EINVAL;
	millis = round(cpus * 1000.0);
	if (cpus > 0 && millis < 1)
		return -EINVAL;
	if (millis > UINT32_MAX)
		return -ERANGE;
	return box_spec_set_cpu_millis(s, (uint32_t)millis);
}

int box_spec_set_seccomp(box_spec *s, enum box_seccomp_mode mode,
			 const void *policy, size_t policy_len)
{
	Boxd__V1__Seccomp *sc;

	if (!s)
		return -EINVAL;
	switch (mode) {
	case BOX_SECCOMP_DEFAULT:
	case BOX_SECCOMP_NONE:
		if (policy || policy_len)
			return -EINVAL;
		break;
	case BOX_SECCOMP_CUSTOM:
		if (!policy || policy_len == 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	sc = malloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	boxd__v1__seccomp__init(sc);
	sc->mode = (Boxd__V1__Seccomp__Mode)mode;
	if (policy) {
		sc->policy.data = malloc(policy_len);
		if (!sc->policy.data) {
			free(sc);
			return -ENOMEM;
		}
		memcpy(sc->policy.data, policy, policy_len);
		sc->policy.len = policy_len;
		sc->has_policy = true;
	}
	boxd__v1__seccomp__free_unpacked(s->msg->seccomp, NULL);
	s->msg->seccomp = sc;
	return 0;
}

int box_spec_add_rlimit(box_spec *s, enum box_rlimit_resource resource,
			uint64_t soft, uint64_t hard)
{
	Boxd__V1__Rlimit *rl;
	int r;

	if (!s || resource < BOX_RLIMIT_NOFILE || resource > BOX_RLIMIT_AS)
		return -EINVAL;
	if (soft > hard)
		return -EINVAL;
	r = array_grow(&s->msg->rlimits, s->msg->n_rlimits,
		       sizeof(*s->msg->rlimits));
	if (r < 0)
		return r;
	rl = malloc(sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	boxd__v1__rlimit__init(rl);
	rl->resource = (Boxd__V1__Rlimit__Resource)resource;
	rl->soft = soft;
	rl->hard = hard;
	s->msg->rlimits[s->msg->n_rlimits++] = rl;
	return 0;
}
