/*
 * HostInfo.capabilities and Plan.uses: which of the guarantees named in
 * common/capability-names.c this host and this caller's tenant can give, and
 * which of them a run relies on.
 */
#pragma once

#include <stdbool.h>

#include "box.pb-c.h"
#include "capability-names.h"
#include "config.h"
#include "spec.h"

/* What decides availability: no protobuf here, so it can be tested. */
struct capability_host {
	bool cgroups; /* false: --no-cgroups */
	unsigned can; /* CGROUP_CAN_* */
	bool overlayfs;
	const char *outbound_missing;       /* NULL: pasta is there */
	const struct tenant_policy *tenant; /* NULL: unrestricted */
};

#define CAPABILITY_MAX 40

/* Room for what capability_fill() points at; lives as long as the reply. */
struct capability_buf {
	Boxd__V1__Capability msgs[CAPABILITY_MAX];
	Boxd__V1__Capability *ptrs[CAPABILITY_MAX];
	char reasons[CAPABILITY_MAX][96];
};

void capability_fill(Boxd__V1__HostInfo *h, const struct capability_host *host,
		     struct capability_buf *b);

/*
 * The names of the capabilities spec relies on, in table order, into
 * ret_names (room for CAPABILITY_MAX). seccomp: the request's mode.
 */
size_t capability_uses(const struct run_spec *spec,
		       Boxd__V1__Seccomp__Mode seccomp, const char **ret_names);
