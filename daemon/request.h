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
	/* NULL when outbound runs can start, else why not (no pasta). */
	const char *outbound_missing;
	uid_t uid; /* the peer, from SO_PEERCRED */
	gid_t gid;
};

#define REQUEST_MAX_CAVEATS 8
/* The smallest memory limit an outbound run may have: pasta's share. */
#define OUTBOUND_MIN_MEMORY (48ull << 20)

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

/* What request_wire_peek() found on the wire. */
struct request_wire {
	uint32_t kind; /* the Request's oneof member (field number), 0: none */
	bool has_request_id;
	uint64_t request_id;
};

/*
 * Look at a frame body before decoding it (request-wire.c): which request
 * it is, its request id, and whether its cost stays bounded: a request
 * other than Run of at most 4 KiB; a Run with at most as many argv,
 * environment, mount and rlimit entries as request_to_spec() accepts.
 * info is filled as far as the frame was read, also on failure (so an
 * error can name the request id). -EBADMSG for bytes that are not
 * protobuf, -E2BIG or -EMSGSIZE for a request over a cap; err says which.
 * Allocates nothing; one pass over the bytes.
 */
int request_wire_peek(const uint8_t *buf, size_t len, struct request_wire *info,
		      struct error_detail *err);

/* Checks a path: absolute, no "." or ".." components, no NUL, bounded.
 * Writes the normalised form (duplicate slashes and a trailing slash
 * removed) to a new string. */
int request_normalize_path(const uint8_t *data, size_t len, char **ret);
