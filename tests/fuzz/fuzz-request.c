/*
 * Fuzz target: a frame body as the daemon receives it, looked at on the
 * wire (request_wire_peek: what the daemon learns before it decodes must
 * agree with the decoder), decoded as a Request and, for a RunRequest, turned into a run spec by the request
 * layer, once under an unrestricted tenant and once under a restricted one.
 * Beyond not crashing or leaking: an accepted spec has an argv, absolute
 * normalised mount targets, environment entries of the form NAME=VALUE,
 * and respects the restricted tenant's ceilings and bind rules; a refused
 * one says why.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "box.pb-c.h"
#include "config.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_spec(const struct run_spec *s, const struct tenant_policy *t)
{
	assert(s->argv && s->argv[0] && s->argv[0][0]);
	assert(s->cwd && s->cwd[0] == '/');
	for (char **e = s->env; *e; e++)
		assert(strchr(*e, '=') && **e != '=');
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_mount *m = &s->mounts[i];

		assert(m->dst[0] == '/');
		assert(!strstr(m->dst, "/../") && !strstr(m->dst, "//"));
		if ((m->kind == SPEC_MOUNT_BIND ||
		     m->kind == SPEC_MOUNT_RO_BIND ||
		     m->kind == SPEC_MOUNT_DEV_BIND ||
		     m->kind == SPEC_MOUNT_OVERLAY) &&
		    !(m->flags & SPEC_MOUNT_TRUSTED) && t->binds_restricted)
			assert(
			    tenant_may_bind(t, m->src,
					    m->kind != SPEC_MOUNT_RO_BIND &&
						m->kind != SPEC_MOUNT_OVERLAY));
	}
	if (t->max_memory_bytes)
		assert(s->limits.memory_bytes &&
		       s->limits.memory_bytes <= t->max_memory_bytes);
	if (t->max_pids)
		assert(s->limits.pids && s->limits.pids <= t->max_pids);
	if (!t->allow_net_host)
		assert(s->net != SPEC_NET_HOST);
	if (!t->allow_seccomp_none)
		assert(s->seccomp);
}

static void try_tenant(const Boxd__V1__RunRequest *run,
		       const struct config *cfg, const struct tenant_policy *t)
{
	struct request_ctx ctx = {
	    .cfg = cfg,
	    .tenant = t,
	    .cgroups = NULL,
	    .uid = 1000,
	    .gid = 1000,
	};
	struct request_out out;
	struct error_detail err;

	if (request_to_spec(run, &ctx, &err, &out) == 0) {
		check_spec(out.spec, t);
		request_out_clear(&out);
	} else {
		assert(err.message[0] && err.err > 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *cfg;
	static struct tenant_policy strict;
	static struct bind_rule rules[] = {{(char *)"/srv/data", false},
					   {(char *)"/srv/work", true}};
	struct request_wire wire;
	struct error_detail err;
	Boxd__V1__Request *req;
	int peek;

	if (!cfg) {
		if (config_new_default(&cfg) < 0)
			abort();
		strict = cfg->fallback;
		strict.name = (char *)"strict";
		strict.max_memory_bytes = 64u << 20;
		strict.max_pids = 32;
		strict.allow_net_host = false;
		strict.allow_seccomp_none = false;
		strict.allow_custom_seccomp = true;
		strict.binds_restricted = true;
		strict.binds = rules;
		strict.n_binds = 2;
	}
	peek = request_wire_peek(data, size, &wire, &err);
	if (peek < 0)
		assert(err.message[0]);
	req = boxd__v1__request__unpack(NULL, size, data);
	if (!req)
		return 0;
	/* What the daemon learns before decoding agrees with the decoder. */
	if (peek == 0) {
		if (req->msg_case != BOXD__V1__REQUEST__MSG__NOT_SET)
			assert(wire.kind == (uint32_t)req->msg_case);
		assert(wire.has_request_id == req->has_request_id);
		if (req->has_request_id)
			assert(wire.request_id == req->request_id);
	}
	if (req->msg_case == BOXD__V1__REQUEST__MSG_RUN) {
		try_tenant(req->run, cfg, &cfg->root);
		try_tenant(req->run, cfg, &strict);
	}
	boxd__v1__request__free_unpacked(req, NULL);
	return 0;
}
