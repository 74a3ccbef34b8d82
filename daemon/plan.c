/*
 * Plans: a dry run's answer. Everything here reads a run_spec the request
 * layer has already checked and copies it into a Plan message; nothing is
 * decided here that the request layer or the engine would decide
 * differently. Where the engine fills in a default (a tmpfs's size or
 * mode), the plan shows the value the engine would use, so what a caller
 * inspects is what would run. It never touches the system.
 */
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>

#include "capability.h"
#include "plan.h"
#include "seccomp.h"

/* Every field of the plan is its own allocation, so that
 * boxd__v1__plan__free_unpacked() can free it whatever state it is in. */

static int bytes_copy(ProtobufCBinaryData *b, protobuf_c_boolean *has,
		      const char *s)
{
	size_t len = strlen(s);

	b->data = malloc(len ? len : 1);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, s, len);
	b->len = len;
	if (has)
		*has = true;
	return 0;
}

static void *array_new(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int plan_env(Boxd__V1__Plan *p, char *const *env)
{
	size_t n = strv_len(env);

	p->env = array_new(n, sizeof(*p->env));
	if (!p->env)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		Boxd__V1__EnvVar *v = malloc(sizeof(*v));
		const char *eq = strchr(env[i], '=');
		size_t nlen = eq ? (size_t)(eq - env[i]) : strlen(env[i]);

		if (!v)
			return -ENOMEM;
		boxd__v1__env_var__init(v);
		p->env[p->n_env++] = v;
		v->name.data = malloc(nlen ? nlen : 1);
		if (!v->name.data ||
		    bytes_copy(&v->value, NULL, eq ? eq + 1 : "") < 0)
			return -ENOMEM;
		memcpy(v->name.data, env[i], nlen);
		v->name.len = nlen;
	}
	return 0;
}

static Boxd__V1__Mount__Kind mount_kind(enum spec_mount_kind k)
{
	switch (k) {
	case SPEC_MOUNT_RO_BIND:
		return BOXD__V1__MOUNT__KIND__RO_BIND;
	case SPEC_MOUNT_BIND:
		return BOXD__V1__MOUNT__KIND__BIND;
	case SPEC_MOUNT_TMPFS:
		return BOXD__V1__MOUNT__KIND__TMPFS;
	case SPEC_MOUNT_PROC:
		return BOXD__V1__MOUNT__KIND__PROC;
	case SPEC_MOUNT_DEV:
		return BOXD__V1__MOUNT__KIND__DEV;
	case SPEC_MOUNT_SYMLINK:
		return BOXD__V1__MOUNT__KIND__SYMLINK;
	case SPEC_MOUNT_DIR:
		return BOXD__V1__MOUNT__KIND__DIR;
	case SPEC_MOUNT_REMOUNT_RO:
		return BOXD__V1__MOUNT__KIND__REMOUNT_RO;
	case SPEC_MOUNT_DEV_BIND:
		return BOXD__V1__MOUNT__KIND__DEV_BIND;
	case SPEC_MOUNT_HIDE:
		return BOXD__V1__MOUNT__KIND__HIDE;
	case SPEC_MOUNT_FILE:
		return BOXD__V1__MOUNT__KIND__FILE;
	case SPEC_MOUNT_OVERLAY:
		return BOXD__V1__MOUNT__KIND__OVERLAY;
	}
	return BOXD__V1__MOUNT__KIND__DIR;
}

static int plan_mounts(Boxd__V1__Plan *p, const struct run_spec *s,
		       size_t n_profile, uint64_t tmpfs_default)
{
	p->mounts = array_new(s->n_mounts, sizeof(*p->mounts));
	if (!p->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_mount *m = &s->mounts[i];
		Boxd__V1__PlanMount *pm = malloc(sizeof(*pm));

		if (!pm)
			return -ENOMEM;
		boxd__v1__plan_mount__init(pm);
		p->mounts[p->n_mounts++] = pm;
		pm->has_kind = true;
		pm->kind = mount_kind(m->kind);
		if (m->src && bytes_copy(&pm->src, &pm->has_src, m->src) < 0)
			return -ENOMEM;
		if (bytes_copy(&pm->dst, &pm->has_dst, m->dst) < 0)
			return -ENOMEM;
		if (m->upper &&
		    bytes_copy(&pm->upper, &pm->has_upper, m->upper) < 0)
			return -ENOMEM;
		/* The engine's defaults (init-mounts.c): a mode of 0 is
		 * 0755, a size of 0 is the daemon's tmpfs default. */
		if (m->kind == SPEC_MOUNT_TMPFS) {
			pm->has_size = true;
			pm->size = m->size ? m->size : tmpfs_default;
		}
		if (m->kind == SPEC_MOUNT_TMPFS || m->kind == SPEC_MOUNT_DIR) {
			pm->has_mode = true;
			pm->mode = m->mode ? m->mode : 0755;
		}
		if (m->kind == SPEC_MOUNT_FILE) {
			pm->has_mode = pm->has_data_bytes = true;
			pm->mode = m->mode ? m->mode : 0644;
			pm->data_bytes = m->data_len;
		}
		pm->has_read_only = true;
		pm->read_only = m->kind == SPEC_MOUNT_RO_BIND ||
				m->kind == SPEC_MOUNT_REMOUNT_RO ||
				m->kind == SPEC_MOUNT_HIDE ||
				m->kind == SPEC_MOUNT_FILE;
		pm->has_from_profile = true;
		/* The tenant's deny list (hides of host paths) is no more
		 * the request's than the profile is. */
		pm->from_profile =
		    i < n_profile || (m->kind == SPEC_MOUNT_HIDE && m->src);
		pm->has_if_exists = true;
		pm->if_exists = (m->flags & SPEC_MOUNT_OPTIONAL) != 0;
	}
	return 0;
}

static int plan_limits(Boxd__V1__Plan *p, const struct spec_limits *l)
{
	Boxd__V1__Limits *out = malloc(sizeof(*out));

	if (!out)
		return -ENOMEM;
	boxd__v1__limits__init(out);
	p->limits = out;
#define PLAN_LIMIT(field, value)               \
	do {                                   \
		out->has_##field = value != 0; \
		out->field = value;            \
	} while (0)
	PLAN_LIMIT(memory_bytes, l->memory_bytes);
	PLAN_LIMIT(memory_swap_bytes, l->memory_swap_bytes);
	PLAN_LIMIT(cpu_millis, l->cpu_millis);
	PLAN_LIMIT(pids, l->pids);
	PLAN_LIMIT(timeout_ns, l->timeout_ns);
	PLAN_LIMIT(cpu_time_ns, l->cpu_time_ns);
#undef PLAN_LIMIT
	return 0;
}

/* The protocol's resource for a spec kind, matched by name against the
 * one table of resources (spec_rlimit_info): see request.c. */
static int rlimit_resource(enum spec_rlimit_kind kind,
			   Boxd__V1__Rlimit__Resource *ret)
{
	char name[16];
	const char *lower = spec_rlimit_info(kind)->name;
	const ProtobufCEnumValue *v;
	size_t i;

	for (i = 0; lower[i] && i + 1 < sizeof(name); i++)
		name[i] = (char)toupper((unsigned char)lower[i]);
	name[i] = '\0';
	v = protobuf_c_enum_descriptor_get_value_by_name(
	    &boxd__v1__rlimit__resource__descriptor, name);
	if (!v)
		return -ENOENT;
	*ret = (Boxd__V1__Rlimit__Resource)v->value;
	return 0;
}

static int plan_rlimits(Boxd__V1__Plan *p, const struct run_spec *s)
{
	p->rlimits = array_new(_SPEC_RLIMIT_MAX, sizeof(*p->rlimits));
	if (!p->rlimits)
		return -ENOMEM;
	for (int i = 0; i < _SPEC_RLIMIT_MAX; i++) {
		Boxd__V1__Rlimit__Resource resource;
		Boxd__V1__Rlimit *rl;
		int r;

		if (!s->rlimits[i].set)
			continue;
		/* Every spec resource is one the protocol has: the request
		 * layer only sets those it could name. */
		r = rlimit_resource(i, &resource);
		if (r < 0)
			return r;
		rl = malloc(sizeof(*rl));
		if (!rl)
			return -ENOMEM;
		boxd__v1__rlimit__init(rl);
		rl->resource = resource;
		rl->soft = s->rlimits[i].soft;
		rl->hard = s->rlimits[i].hard;
		p->rlimits[p->n_rlimits++] = rl;
	}
	return 0;
}

/* The guarantees the run relies on, by their capability names. */
static int plan_uses(Boxd__V1__Plan *p, const struct run_spec *s)
{
	const char *names[CAPABILITY_MAX];
	size_t n = capability_uses(s, p->seccomp, names);

	p->uses = array_new(n, sizeof(*p->uses));
	if (!p->uses)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p->uses[i] = strdup(names[i]);
		if (!p->uses[i])
			return -ENOMEM;
		p->n_uses++;
	}
	return 0;
}

static int plan_fill(Boxd__V1__Plan *p, const Boxd__V1__RunRequest *req,
		     const struct request_out *out, const struct plan_ids *ids,
		     uint64_t tmpfs_default)
{
	const struct run_spec *s = out->spec;
	size_t n = strv_len(s->argv), n_tenant = 0;
	int r;

	p->argv = array_new(n, sizeof(*p->argv));
	if (!p->argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (bytes_copy(&p->argv[i], NULL, s->argv[i]) < 0)
			return -ENOMEM;
		p->n_argv++;
	}
	if ((r = plan_env(p, s->env)) < 0 ||
	    bytes_copy(&p->cwd, &p->has_cwd, s->cwd) < 0 ||
	    bytes_copy(&p->hostname, &p->has_hostname, s->hostname) < 0)
		return r < 0 ? r : -ENOMEM;
	if (s->tag && bytes_copy(&p->tag, &p->has_tag, s->tag) < 0)
		return -ENOMEM;

	p->has_uid = p->has_gid = true;
	p->uid = s->uid;
	p->gid = s->gid;
	p->has_private_ids = true;
	p->private_ids = ids->private_ids;
	if (!ids->private_ids) {
		p->has_host_uid = p->has_host_gid = true;
		p->host_uid = ids->host_uid;
		p->host_gid = ids->host_gid;
	}

	p->has_net = true;
	switch (s->net) {
	case SPEC_NET_NONE:
		p->net = BOXD__V1__NET__NET_NONE;
		break;
	case SPEC_NET_LOOPBACK:
		p->net = BOXD__V1__NET__NET_LOOPBACK;
		break;
	case SPEC_NET_HOST:
		p->net = BOXD__V1__NET__NET_HOST;
		break;
	case SPEC_NET_OUTBOUND:
		p->net = BOXD__V1__NET__NET_OUTBOUND;
		break;
	}
	p->has_profile = true;
	p->profile = req->profile;
	p->has_new_session = p->has_die_with_client = true;
	p->new_session = s->new_session;
	p->die_with_client = out->die_with_client;
	p->has_no_exec = true;
	p->no_exec = s->no_exec;
	p->has_write_ephemeral = true;
	p->write_ephemeral = s->write_ephemeral;
	p->has_tty = true;
	p->tty = s->tty;

	/* The profile's mounts, then the request's, then the tenant's
	 * hides (host paths, the only hides with a source). */
	for (size_t i = 0; i < s->n_mounts; i++)
		n_tenant +=
		    s->mounts[i].kind == SPEC_MOUNT_HIDE && s->mounts[i].src;
	r = plan_mounts(p, s, s->n_mounts - req->n_mounts - n_tenant,
			tmpfs_default);
	if (r < 0)
		return r;
	if ((r = plan_limits(p, &s->limits)) < 0 ||
	    (r = plan_rlimits(p, s)) < 0)
		return r;

	p->has_seccomp = true;
	p->seccomp = req->seccomp ? req->seccomp->mode
				  : BOXD__V1__SECCOMP__MODE__DEFAULT;
	if (s->seccomp) {
		size_t len = 0;

		(void)seccomp_prog_insns(s->seccomp, &len);
		p->has_seccomp_instructions = true;
		p->seccomp_instructions =
		    (uint32_t)(len / sizeof(struct sock_filter));
	}

	if ((r = plan_uses(p, s)) < 0)
		return r;

	p->caveats = array_new(out->n_caveats, sizeof(*p->caveats));
	if (!p->caveats)
		return -ENOMEM;
	for (size_t i = 0; i < out->n_caveats; i++) {
		p->caveats[i] = strdup(out->caveats[i]);
		if (!p->caveats[i])
			return -ENOMEM;
		p->n_caveats++;
	}
	return 0;
}

int plan_build(const Boxd__V1__RunRequest *req, const struct request_out *out,
	       const struct plan_ids *ids, uint64_t tmpfs_default,
	       Boxd__V1__Plan **ret_plan)
{
	Boxd__V1__Plan *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	boxd__v1__plan__init(p);
	r = plan_fill(p, req, out, ids, tmpfs_default);
	if (r < 0) {
		boxd__v1__plan__free_unpacked(p, NULL);
		return r;
	}
	*ret_plan = p;
	return 0;
}
