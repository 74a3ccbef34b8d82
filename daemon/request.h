/*
 * Request layer: the only place a decoded RunRequest is read. It checks
 * every field, applies the tenant's policy and the host's abilities, and
 * produces a plain run_spec for the engine. Nothing here touches the
 * system beyond reading host paths for the built-in profiles.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "box.pb-c.h"
#include "cgroup.h"
#include "config.h"
#include "error.h"
#include "spec.h"

struct request_ctx {
	const struct config *cfg;
	const struct tenant_policy *tenant;
	const struct cgroup_manager *cgroups; /* NULL: none */
	uid_t uid;                            /* the peer, from SO_PEERCRED */
	gid_t gid;
};

#define REQUEST_MAX_CAVEATS 8

struct request_out {
	struct run_spec *spec;
	bool die_with_client;
	char *caveats
	    [REQUEST_MAX_CAVEATS]; /* lenient mode: what is not enforced */
	size_t n_caveats;
};

/*
 * 0 and *ret_out filled (the caller clears it with request_out_clear()),
 * or -errno with err saying why: a refusal of the request (ERROR_INVALID,
 * ERROR_DENIED, ERROR_UNSUPPORTED) or the daemon's own failure
 * (ERROR_INTERNAL), always with a message. err may be NULL.
 */
int request_to_spec(const Boxd__V1__RunRequest *req,
		    const struct request_ctx *ctx, struct error_detail *err,
		    struct request_out *ret_out);

/* The protocol's code for an error of this kind (the front end's map:
 * the layers below it know no protobuf). */
Boxd__V1__ErrorCode request_error_code(enum error_kind kind);

void request_out_clear(struct request_out *out);

/* Checks a path: absolute, no "." or ".." components, no NUL, bounded.
 * Writes the normalised form (duplicate slashes and a trailing slash
 * removed) to a new string. */
int request_normalize_path(const uint8_t *data, size_t len, char **ret);
