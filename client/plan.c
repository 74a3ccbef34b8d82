/*
 * Plans: a dry run of a spec. The daemon checks it as it would a run and
 * answers with what it would build; here that answer becomes a box_plan
 * with getters and a JSON rendering. A dry run occupies the connection
 * like a run until its answer arrives, so errors are routed exactly as a
 * run's refusals are. Nothing is asked of a daemon that does not say it
 * knows dry runs: an older one would ignore the flag and run the command.
 */
#include <json-c/json.h>
#include <string.h>

#include "internal.h"

struct box_plan {
	Boxd__V1__Plan *msg;
	char **argv; /* NULL-terminated copies of the bytes fields */
	char **env;
	char *cwd;
	char *hostname;
	char *tag;
	char **mount_src; /* per mount, NULL where none */
	char **mount_dst;
	char **mount_upper; /* per mount, NULL where none */
	const char **caveats;
	const char **uses;
};

static char **bytes_strv(const ProtobufCBinaryData *b, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[i] = bytes_dup(&b[i]);
		if (!v[i]) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

box_plan *box_plan_free(box_plan *p)
{
	if (!p)
		return NULL;
	strv_free(p->argv, p->msg->n_argv);
	strv_free(p->env, p->msg->n_env);
	strv_free(p->mount_src, p->msg->n_mounts);
	strv_free(p->mount_dst, p->msg->n_mounts);
	strv_free(p->mount_upper, p->msg->n_mounts);
	free(p->cwd);
	free(p->hostname);
	free(p->tag);
	free(p->caveats);
	free(p->uses);
	boxd__v1__plan__free_unpacked(p->msg, NULL);
	free(p);
	return NULL;
}

static char *env_entry(const Boxd__V1__EnvVar *v)
{
	char *s = malloc(v->name.len + v->value.len + 2);

	if (!s)
		return NULL;
	if (v->name.len)
		memcpy(s, v->name.data, v->name.len);
	s[v->name.len] = '=';
	if (v->value.len)
		memcpy(s + v->name.len + 1, v->value.data, v->value.len);
	s[v->name.len + 1 + v->value.len] = '\0';
	return s;
}

/* Takes msg, also on failure. */
static int plan_new(Boxd__V1__Plan *msg, box_plan **ret_plan)
{
	box_plan *p = calloc(1, sizeof(*p));
	size_t nm = msg->n_mounts;
	bool ok;

	if (!p) {
		boxd__v1__plan__free_unpacked(msg, NULL);
		return -ENOMEM;
	}
	p->msg = msg;
	p->argv = bytes_strv(msg->argv, msg->n_argv);
	p->env = calloc(msg->n_env + 1, sizeof(*p->env));
	p->mount_src = calloc(nm + 1, sizeof(*p->mount_src));
	p->mount_dst = calloc(nm + 1, sizeof(*p->mount_dst));
	p->mount_upper = calloc(nm + 1, sizeof(*p->mount_upper));
	p->caveats = strv_view(msg->caveats, msg->n_caveats);
	p->uses = strv_view(msg->uses, msg->n_uses);
	p->cwd = msg->has_cwd ? bytes_dup(&msg->cwd) : strdup("/");
	p->hostname =
	    msg->has_hostname ? bytes_dup(&msg->hostname) : strdup("");
	if (msg->has_tag)
		p->tag = bytes_dup(&msg->tag);
	ok = p->argv && p->env && p->mount_src && p->mount_dst &&
	     p->mount_upper && p->caveats && p->uses && p->cwd && p->hostname &&
	     (!msg->has_tag || p->tag);
	for (size_t i = 0; ok && i < msg->n_env; i++)
		ok = (p->env[i] = env_entry(msg->env[i])) != NULL;
	for (size_t i = 0; ok && i < nm; i++) {
		const Boxd__V1__PlanMount *m = msg->mounts[i];

		if (m->has_src)
			ok = (p->mount_src[i] = bytes_dup(&m->src)) != NULL;
		if (ok)
			ok = (p->mount_dst[i] = bytes_dup(&m->dst)) != NULL;
		if (ok && m->has_upper)
			ok = (p->mount_upper[i] = bytes_dup(&m->upper)) != NULL;
	}
	if (!ok) {
		box_plan_free(p);
		return -ENOMEM;
	}
	*ret_plan = p;
	return 0;
}

int box_run_plan(box_client *c, const box_spec *spec, box_plan **ret_plan)
{
	Boxd__V1__RunRequest msg;
	struct box_run *run;
	Boxd__V1__Plan *answer;
	int r;

	if (!c || !spec || !ret_plan || spec_message(spec)->n_argv == 0)
		return -EINVAL;
	r = conn_check(c);
	if (r < 0)
		return r;
	if (!box_host_has_feature(box_client_host(c), "dry_run")) {
		conn_client_error(c, -EOPNOTSUPP,
				  "this boxd does not offer dry runs (plans)");
		return -EOPNOTSUPP;
	}
	/* A shallow copy with the flag set: pack() only reads it. */
	msg = *spec_message(spec);
	msg.has_dry_run = true;
	msg.dry_run = true;
	r = run_send(c, &msg, -1, -1, -1, false, &run);
	if (r < 0)
		return r;
	r = box_run_wait(run);
	if (box_run_state(run) != BOX_RUN_FINISHED) {
		/* Still in flight (poll failed): it stays the connection's
		 * until its answer, then goes. */
		box_run_free(run);
		return r < 0 ? r : -EIO;
	}
	answer = run_take_plan(run);
	if (!answer) {
		/* Refused, or the connection broke: the caller finds the
		 * record where a failed call leaves it. */
		const struct box_error *e = box_run_error(run);

		r = error_to_errno(e);
		conn_set_last_error(c, error_dup(e));
		box_run_free(run);
		return r;
	}
	box_run_free(run);
	return plan_new(answer, ret_plan);
}

const char *const *box_plan_argv(const box_plan *p)
{
	return (const char *const *)p->argv;
}

const char *const *box_plan_env(const box_plan *p)
{
	return (const char *const *)p->env;
}

const char *box_plan_cwd(const box_plan *p)
{
	return p->cwd;
}

const char *box_plan_hostname(const box_plan *p)
{
	return p->hostname;
}

const char *box_plan_tag(const box_plan *p)
{
	return p->tag;
}

static int64_t opt_u32(bool has, uint32_t v)
{
	return has ? (int64_t)v : -1;
}

static int64_t opt_u64(bool has, uint64_t v)
{
	return has && v <= INT64_MAX ? (int64_t)v : -1;
}

int64_t box_plan_uid(const box_plan *p)
{
	return opt_u32(p->msg->has_uid, p->msg->uid);
}

int64_t box_plan_gid(const box_plan *p)
{
	return opt_u32(p->msg->has_gid, p->msg->gid);
}

int64_t box_plan_host_uid(const box_plan *p)
{
	return opt_u32(p->msg->has_host_uid, p->msg->host_uid);
}

int64_t box_plan_host_gid(const box_plan *p)
{
	return opt_u32(p->msg->has_host_gid, p->msg->host_gid);
}

bool box_plan_private_ids(const box_plan *p)
{
	return p->msg->has_private_ids && p->msg->private_ids;
}

enum box_net box_plan_net(const box_plan *p)
{
	return p->msg->has_net ? (enum box_net)p->msg->net : BOX_NET_NONE;
}

enum box_profile box_plan_profile(const box_plan *p)
{
	return p->msg->has_profile ? (enum box_profile)p->msg->profile
				   : BOX_PROFILE_DEFAULT;
}

bool box_plan_new_session(const box_plan *p)
{
	return p->msg->has_new_session ? p->msg->new_session : true;
}

bool box_plan_no_exec(const box_plan *p)
{
	return p->msg->has_no_exec && p->msg->no_exec;
}

bool box_plan_write_ephemeral(const box_plan *p)
{
	return p->msg->has_write_ephemeral && p->msg->write_ephemeral;
}

bool box_plan_tty(const box_plan *p)
{
	return p->msg->has_tty && p->msg->tty;
}

bool box_plan_die_with_client(const box_plan *p)
{
	return p->msg->has_die_with_client ? p->msg->die_with_client : true;
}

size_t box_plan_mount_count(const box_plan *p)
{
	return p->msg->n_mounts;
}

static const Boxd__V1__PlanMount *plan_mount(const box_plan *p, size_t i)
{
	return i < p->msg->n_mounts ? p->msg->mounts[i] : NULL;
}

enum box_mount_kind box_plan_mount_kind(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m && m->has_kind ? (enum box_mount_kind)m->kind : 0;
}

const char *box_plan_mount_src(const box_plan *p, size_t i)
{
	return i < p->msg->n_mounts ? p->mount_src[i] : NULL;
}

const char *box_plan_mount_dst(const box_plan *p, size_t i)
{
	return i < p->msg->n_mounts ? p->mount_dst[i] : NULL;
}

const char *box_plan_mount_upper(const box_plan *p, size_t i)
{
	return i < p->msg->n_mounts ? p->mount_upper[i] : NULL;
}

int64_t box_plan_mount_data_bytes(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m ? opt_u64(m->has_data_bytes, m->data_bytes) : -1;
}

int64_t box_plan_mount_size(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m ? opt_u64(m->has_size, m->size) : -1;
}

int box_plan_mount_mode(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m && m->has_mode ? (int)(m->mode & 07777) : -1;
}

bool box_plan_mount_read_only(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m && m->has_read_only && m->read_only;
}

bool box_plan_mount_from_profile(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m && m->has_from_profile && m->from_profile;
}

bool box_plan_mount_if_exists(const box_plan *p, size_t i)
{
	const Boxd__V1__PlanMount *m = plan_mount(p, i);

	return m && m->has_if_exists && m->if_exists;
}

#define PLAN_LIMIT(fn, field)                                      \
	int64_t fn(const box_plan *p)                              \
	{                                                          \
		const Boxd__V1__Limits *l = p->msg->limits;        \
                                                                   \
		return l ? opt_u64(l->has_##field, l->field) : -1; \
	}

PLAN_LIMIT(box_plan_memory_bytes, memory_bytes)
PLAN_LIMIT(box_plan_memory_swap_bytes, memory_swap_bytes)
PLAN_LIMIT(box_plan_cpu_millis, cpu_millis)
PLAN_LIMIT(box_plan_pids, pids)
PLAN_LIMIT(box_plan_timeout_ns, timeout_ns)
PLAN_LIMIT(box_plan_cpu_time_ns, cpu_time_ns)

int box_plan_rlimit(const box_plan *p, enum box_rlimit_resource resource,
		    uint64_t *ret_soft, uint64_t *ret_hard)
{
	if (!p)
		return -EINVAL;
	for (size_t i = 0; i < p->msg->n_rlimits; i++) {
		const Boxd__V1__Rlimit *rl = p->msg->rlimits[i];

		if ((int)rl->resource != (int)resource)
			continue;
		if (ret_soft)
			*ret_soft = rl->soft;
		if (ret_hard)
			*ret_hard = rl->hard;
		return 0;
	}
	return -ENOENT;
}

enum box_seccomp_mode box_plan_seccomp_mode(const box_plan *p)
{
	return p->msg->has_seccomp ? (enum box_seccomp_mode)p->msg->seccomp
				   : BOX_SECCOMP_DEFAULT;
}

int64_t box_plan_seccomp_instructions(const box_plan *p)
{
	return opt_u32(p->msg->has_seccomp_instructions,
		       p->msg->seccomp_instructions);
}

const char *const *box_plan_caveats(const box_plan *p)
{
	return p->caveats;
}

const char *const *box_plan_uses(const box_plan *p)
{
	return p->uses;
}

const char *box_mount_kind_name(enum box_mount_kind kind)
{
	switch (kind) {
	case BOX_MOUNT_RO_BIND:
		return "ro-bind";
	case BOX_MOUNT_BIND:
		return "bind";
	case BOX_MOUNT_TMPFS:
		return "tmpfs";
	case BOX_MOUNT_PROC:
		return "proc";
	case BOX_MOUNT_DEV:
		return "dev";
	case BOX_MOUNT_SYMLINK:
		return "symlink";
	case BOX_MOUNT_DIR:
		return "dir";
	case BOX_MOUNT_REMOUNT_RO:
		return "remount-ro";
	case BOX_MOUNT_DEV_BIND:
		return "dev-bind";
	case BOX_MOUNT_HIDE:
		return "hide";
	case BOX_MOUNT_FILE:
		return "file";
	case BOX_MOUNT_OVERLAY:
		return "overlay";
	default:
		return "unknown";
	}
}

const char *box_rlimit_name(enum box_rlimit_resource resource)
{
	switch (resource) {
	case BOX_RLIMIT_NOFILE:
		return "nofile";
	case BOX_RLIMIT_FSIZE:
		return "fsize";
	case BOX_RLIMIT_CORE:
		return "core";
	case BOX_RLIMIT_NPROC:
		return "nproc";
	case BOX_RLIMIT_STACK:
		return "stack";
	case BOX_RLIMIT_AS:
		return "as";
	default:
		return "unknown";
	}
}

/* ------------------------------------------------------------------ JSON */

static const char *net_name(enum box_net n)
{
	switch (n) {
	case BOX_NET_NONE:
		return "none";
	case BOX_NET_LOOPBACK:
		return "loopback";
	case BOX_NET_HOST:
		return "host";
	case BOX_NET_OUTBOUND:
		return "outbound";
	default:
		return "unknown";
	}
}

static const char *seccomp_name(enum box_seccomp_mode m)
{
	switch (m) {
	case BOX_SECCOMP_DEFAULT:
		return "default";
	case BOX_SECCOMP_NONE:
		return "none";
	case BOX_SECCOMP_CUSTOM:
		return "custom";
	default:
		return "unknown";
	}
}

static json_object *json_i64_opt(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

static json_object *json_rlim(uint64_t v)
{
	return v == BOX_RLIM_INFINITY ? json_object_new_string("unlimited")
				      : json_object_new_uint64(v);
}

static json_object *plan_mounts_json(const box_plan *p)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < box_plan_mount_count(p); i++) {
		json_object *m = json_object_new_object();

		if (!m) {
			json_object_put(a);
			return NULL;
		}
		json_object_object_add(
		    m, "kind",
		    json_object_new_string(
			box_mount_kind_name(box_plan_mount_kind(p, i))));
		json_object_object_add(m, "src",
				       json_str(box_plan_mount_src(p, i)));
		json_object_object_add(m, "dst",
				       json_str(box_plan_mount_dst(p, i)));
		json_object_object_add(m, "upper",
				       json_str(box_plan_mount_upper(p, i)));
		json_object_object_add(m, "size",
				       json_i64_opt(box_plan_mount_size(p, i)));
		json_object_object_add(m, "mode",
				       json_i64_opt(box_plan_mount_mode(p, i)));
		json_object_object_add(
		    m, "data_bytes",
		    json_i64_opt(box_plan_mount_data_bytes(p, i)));
		json_object_object_add(
		    m, "read_only",
		    json_object_new_boolean(box_plan_mount_read_only(p, i)));
		json_object_object_add(
		    m, "from_profile",
		    json_object_new_boolean(box_plan_mount_from_profile(p, i)));
		json_object_object_add(
		    m, "if_exists",
		    json_object_new_boolean(box_plan_mount_if_exists(p, i)));
		json_object_array_add(a, m);
	}
	return a;
}

int box_plan_json(const box_plan *p, char **ret_json)
{
	json_object *o, *lim, *rl;

	if (!p || !ret_json)
		return -EINVAL;
	o = json_object_new_object();
	lim = json_object_new_object();
	rl = json_object_new_object();
	if (!o || !lim || !rl) {
		json_object_put(o);
		json_object_put(lim);
		json_object_put(rl);
		return -ENOMEM;
	}
	json_object_object_add(o, "argv", json_strv(box_plan_argv(p)));
	json_object_object_add(o, "env", json_strv(box_plan_env(p)));
	json_object_object_add(o, "cwd", json_str(box_plan_cwd(p)));
	json_object_object_add(o, "hostname", json_str(box_plan_hostname(p)));
	json_object_object_add(o, "tag", json_str(box_plan_tag(p)));
	json_object_object_add(o, "uid", json_i64_opt(box_plan_uid(p)));
	json_object_object_add(o, "gid", json_i64_opt(box_plan_gid(p)));
	json_object_object_add(o, "host_uid",
			       json_i64_opt(box_plan_host_uid(p)));
	json_object_object_add(o, "host_gid",
			       json_i64_opt(box_plan_host_gid(p)));
	json_object_object_add(
	    o, "private_ids", json_object_new_boolean(box_plan_private_ids(p)));
	json_object_object_add(
	    o, "net", json_object_new_string(net_name(box_plan_net(p))));
	json_object_object_add(
	    o, "profile",
	    json_object_new_string(
		box_plan_profile(p) == BOX_PROFILE_BARE ? "bare" : "default"));
	json_object_object_add(
	    o, "new_session", json_object_new_boolean(box_plan_new_session(p)));
	json_object_object_add(
	    o, "die_with_client",
	    json_object_new_boolean(box_plan_die_with_client(p)));
	json_object_object_add(o, "no_exec",
			       json_object_new_boolean(box_plan_no_exec(p)));
	json_object_object_add(
	    o, "write_ephemeral",
	    json_object_new_boolean(box_plan_write_ephemeral(p)));
	json_object_object_add(o, "tty",
			       json_object_new_boolean(box_plan_tty(p)));
	json_object_object_add(o, "mounts", plan_mounts_json(p));

	json_object_object_add(lim, "memory_bytes",
			       json_i64_opt(box_plan_memory_bytes(p)));
	json_object_object_add(lim, "memory_swap_bytes",
			       json_i64_opt(box_plan_memory_swap_bytes(p)));
	json_object_object_add(lim, "cpu_millis",
			       json_i64_opt(box_plan_cpu_millis(p)));
	json_object_object_add(lim, "pids", json_i64_opt(box_plan_pids(p)));
	json_object_object_add(lim, "timeout_ns",
			       json_i64_opt(box_plan_timeout_ns(p)));
	json_object_object_add(lim, "cpu_time_ns",
			       json_i64_opt(box_plan_cpu_time_ns(p)));
	json_object_object_add(o, "limits", lim);

	for (int res = BOX_RLIMIT_NOFILE; res <= BOX_RLIMIT_AS; res++) {
		uint64_t soft, hard;
		json_object *v;

		if (box_plan_rlimit(p, (enum box_rlimit_resource)res, &soft,
				    &hard) < 0)
			continue;
		v = json_object_new_object();
		if (!v)
			continue;
		json_object_object_add(v, "soft", json_rlim(soft));
		json_object_object_add(v, "hard", json_rlim(hard));
		json_object_object_add(
		    rl, box_rlimit_name((enum box_rlimit_resource)res), v);
	}
	json_object_object_add(o, "rlimits", rl);
	json_object_object_add(
	    o, "seccomp",
	    json_object_new_string(seccomp_name(box_plan_seccomp_mode(p))));
	json_object_object_add(o, "seccomp_instructions",
			       json_i64_opt(box_plan_seccomp_instructions(p)));
	json_object_object_add(o, "uses", json_strv(box_plan_uses(p)));
	json_object_object_add(o, "caveats", json_strv(box_plan_caveats(p)));
	return json_finish(o, ret_json);
}
