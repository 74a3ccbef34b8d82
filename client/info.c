/*
 * What the daemon tells about itself and its runs: host capabilities
 * (from the handshake and from status), the status record with its pool
 * figures, and the run list. Read-only views over decoded messages;
 * nothing here talks to the daemon.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "capability-names.h"
#include "internal.h"

const char **strv_view(char **strv, size_t n)
{
	const char **view = calloc(n + 1, sizeof(*view));

	if (!view)
		return NULL;
	for (size_t i = 0; i < n; i++)
		view[i] = strv[i];
	return view;
}

char *bytes_dup(const ProtobufCBinaryData *b)
{
	char *s = malloc(b->len + 1);

	if (!s)
		return NULL;
	if (b->len)
		memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return s;
}

struct box_host_info *host_info_free(struct box_host_info *h)
{
	if (h) {
		free(h->cgroup_path);
		free(h->namespaces);
		free(h->controllers);
		free(h->limits);
		free(h->nets);
		free(h->profiles);
		free(h->features);
		free(h);
	}
	return NULL;
}

struct box_host_info *host_info_new(const Boxd__V1__HostInfo *msg)
{
	struct box_host_info *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->msg = msg;
	h->namespaces = strv_view(msg->namespaces, msg->n_namespaces);
	h->controllers = strv_view(msg->controllers, msg->n_controllers);
	h->limits = strv_view(msg->limits, msg->n_limits);
	h->nets = strv_view(msg->nets, msg->n_nets);
	h->profiles = strv_view(msg->profiles, msg->n_profiles);
	h->features = strv_view(msg->features, msg->n_features);
	if (msg->has_cgroup_path)
		h->cgroup_path = bytes_dup(&msg->cgroup_path);
	if (!h->namespaces || !h->controllers || !h->limits || !h->nets ||
	    !h->profiles || !h->features ||
	    (msg->has_cgroup_path && !h->cgroup_path))
		return host_info_free(h);
	return h;
}

const char *const *box_host_namespaces(const box_host_info *h)
{
	return h->namespaces;
}

const char *box_host_cgroup_mode(const box_host_info *h)
{
	return h->msg->cgroup_mode;
}

const char *box_host_cgroup_path(const box_host_info *h)
{
	return h->cgroup_path;
}

const char *const *box_host_controllers(const box_host_info *h)
{
	return h->controllers;
}

const char *const *box_host_limits(const box_host_info *h)
{
	return h->limits;
}

int box_host_seccomp(const box_host_info *h)
{
	return h->msg->has_seccomp ? !!h->msg->seccomp : -1;
}

int box_host_landlock(const box_host_info *h)
{
	return h->msg->has_landlock ? !!h->msg->landlock : -1;
}

const char *const *box_host_nets(const box_host_info *h)
{
	return h->nets;
}

const char *const *box_host_profiles(const box_host_info *h)
{
	return h->profiles;
}

const char *const *box_host_features(const box_host_info *h)
{
	return h->features;
}

bool box_host_has_feature(const box_host_info *h, const char *name)
{
	if (!h || !name)
		return false;
	for (const char **f = h->features; *f; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

bool box_host_can_limit(const box_host_info *h, const char *name)
{
	if (!h || !name)
		return false;
	for (const char **l = h->limits; *l; l++)
		if (strcmp(*l, name) == 0)
			return true;
	return false;
}

struct box_status *status_new(Boxd__V1__Status *msg)
{
	struct box_status *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (msg->host) {
		st->host = host_info_new(msg->host);
		if (!st->host) {
			free(st);
			return NULL;
		}
	}
	st->msg = msg;
	return st;
}

box_status *box_status_free(box_status *st)
{
	if (st) {
		host_info_free(st->host);
		boxd__v1__status__free_unpacked(st->msg, NULL);
		free(st);
	}
	return NULL;
}

const char *box_status_daemon_version(const box_status *st)
{
	return st->msg->daemon_version;
}

const box_host_info *box_status_host(const box_status *st)
{
	return st->host;
}

static int64_t opt(bool has, uint64_t v)
{
	return has && v <= INT64_MAX ? (int64_t)v : -1;
}

int64_t box_status_runs(const box_status *st)
{
	return opt(st->msg->has_runs, st->msg->runs);
}

int64_t box_status_connections(const box_status *st)
{
	return opt(st->msg->has_connections, st->msg->connections);
}

int64_t box_status_daemon_rss_bytes(const box_status *st)
{
	return opt(st->msg->has_daemon_rss_bytes, st->msg->daemon_rss_bytes);
}

int64_t box_status_uptime_ns(const box_status *st)
{
	return opt(st->msg->has_uptime_ns, st->msg->uptime_ns);
}

#define POOL_GETTER(fn, field)                                 \
	int64_t fn(const box_status *st)                       \
	{                                                      \
		const Boxd__V1__PoolStats *p = st->msg->pool;  \
                                                               \
		return p ? opt(p->has_##field, p->field) : -1; \
	}

POOL_GETTER(box_status_pool_size, size)
POOL_GETTER(box_status_pool_target, target)
POOL_GETTER(box_status_pool_hits, hits)
POOL_GETTER(box_status_pool_misses, misses)
POOL_GETTER(box_status_pool_refill_failures, refill_failures)
POOL_GETTER(box_status_pool_member_rss_bytes, member_rss_bytes)
POOL_GETTER(box_status_pool_prebuilt, prebuilt)
POOL_GETTER(box_status_pool_waiting, waiting)

struct box_run_list *run_list_new(Boxd__V1__RunList *msg)
{
	struct box_run_list *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->msg = msg;
	l->infos = calloc(msg->n_runs ? msg->n_runs : 1, sizeof(*l->infos));
	if (!l->infos) {
		free(l);
		return NULL;
	}
	for (size_t i = 0; i < msg->n_runs; i++) {
		const Boxd__V1__RunInfo *ri = msg->runs[i];
		struct box_run_info *info = &l->infos[i];

		info->msg = ri;
		l->n = i + 1;
		if (ri->has_argv0 && !(info->argv0 = bytes_dup(&ri->argv0)))
			goto fail;
		if (ri->has_tag && !(info->tag = bytes_dup(&ri->tag)))
			goto fail;
	}
	return l;
fail:
	/* The message stays with the caller on failure. */
	l->msg = NULL;
	box_run_list_free(l);
	return NULL;
}

box_run_list *box_run_list_free(box_run_list *l)
{
	if (l) {
		for (size_t i = 0; i < l->n; i++) {
			free(l->infos[i].argv0);
			free(l->infos[i].tag);
		}
		free(l->infos);
		boxd__v1__run_list__free_unpacked(l->msg, NULL);
		free(l);
	}
	return NULL;
}

size_t box_run_list_count(const box_run_list *l)
{
	return l ? l->n : 0;
}

const box_run_info *box_run_list_get(const box_run_list *l, size_t i)
{
	return l && i < l->n ? &l->infos[i] : NULL;
}

uint64_t box_run_info_id(const box_run_info *i)
{
	return i->msg->run_id;
}
uint32_t box_run_info_uid(const box_run_info *i)
{
	return i->msg->uid;
}

int64_t box_run_info_pid(const box_run_info *i)
{
	return i->msg->has_pid ? i->msg->pid : -1;
}

const char *box_run_info_argv0(const box_run_info *i)
{
	return i->argv0;
}
const char *box_run_info_tag(const box_run_info *i)
{
	return i->tag;
}

int64_t box_run_info_elapsed_ns(const box_run_info *i)
{
	return opt(i->msg->has_elapsed_ns, i->msg->elapsed_ns);
}

static const Boxd__V1__Capability *capability_at(const box_host_info *h,
						 size_t i)
{
	return h && i < h->msg->n_capabilities ? h->msg->capabilities[i] : NULL;
}

size_t box_host_capability_count(const box_host_info *h)
{
	return h ? h->msg->n_capabilities : 0;
}

const char *box_host_capability_name(const box_host_info *h, size_t i)
{
	const Boxd__V1__Capability *c = capability_at(h, i);

	return c ? c->name : NULL;
}

const char *box_host_capability_description(const box_host_info *h, size_t i)
{
	const Boxd__V1__Capability *c = capability_at(h, i);

	return c ? c->description : NULL;
}

bool box_host_capability_available(const box_host_info *h, size_t i)
{
	const Boxd__V1__Capability *c = capability_at(h, i);

	return c && c->has_available && c->available;
}

const char *box_host_capability_reason(const box_host_info *h, size_t i)
{
	const Boxd__V1__Capability *c = capability_at(h, i);

	return c ? c->reason : NULL;
}

int64_t box_host_capability_ceiling(const box_host_info *h, size_t i)
{
	const Boxd__V1__Capability *c = capability_at(h, i);

	return c && c->has_ceiling && c->ceiling <= INT64_MAX
		   ? (int64_t)c->ceiling
		   : -1;
}

int box_host_capability_find(const box_host_info *h, const char *name)
{
	if (!h || !name)
		return -ENOENT;
	for (size_t i = 0; i < h->msg->n_capabilities && i < INT_MAX; i++)
		if (strcmp(h->msg->capabilities[i]->name, name) == 0)
			return (int)i;
	return -ENOENT;
}

bool box_host_has_capability(const box_host_info *h, const char *name)
{
	int i = box_host_capability_find(h, name);

	return i >= 0 && box_host_capability_available(h, (size_t)i);
}

const char *box_capability_describe(const char *name)
{
	return capability_describe(name);
}
