/*
 * Plans: the answer to a dry run. A plan is the run_spec the request
 * layer produced, turned back into a protocol message so a caller can see
 * exactly what boxd would build (mounts after the profile, environment,
 * ids, limits after ceilings, rlimits, seccomp, caveats) without anything
 * being started.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "box.pb-c.h"
#include "request.h"

struct plan_ids {
	uid_t host_uid; /* what the sandbox's uid maps to */
	gid_t host_gid;
	bool private_ids; /* a private uid is picked at start: host ids unknown
			   */
};

/*
 * Build the Plan for req, already converted into out by request_to_spec().
 * tmpfs_default: the size a tmpfs without one gets. The plan is malloc'd
 * piece by piece; free it with boxd__v1__plan__free_unpacked(p, NULL).
 */
int plan_build(const Boxd__V1__RunRequest *req, const struct request_out *out,
	       const struct plan_ids *ids, uint64_t tmpfs_default,
	       Boxd__V1__Plan **ret_plan);
