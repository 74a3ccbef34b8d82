/*
 * Shared by request.c and request-mounts.c, nothing else: how a refusal
 * is worded and the one conversion of client bytes both need.
 */
#pragma once

#include <stddef.h>

#include "request.h"

#define MAX_PATH 4096

/* A refusal of the request as malformed or contradictory. */
#define BAD(err, ...) error_set(err, ERROR_INVALID, -EINVAL, __VA_ARGS__)
/* A refusal by the tenant's policy. */
#define DENIED(err, ...) error_set(err, ERROR_DENIED, -EPERM, __VA_ARGS__)
/* A refusal for what this host cannot enforce. */
#define UNSUPPORTED(err, ...) \
	error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP, __VA_ARGS__)

/* A C string from bytes that must not contain NUL (at most max). */
int request_bytes_to_str(const ProtobufCBinaryData *b, size_t max, char **ret);

/* The profile's mounts, the request's (hides last), the tenant's deny
 * list: into s->mounts. */
int request_convert_mounts(const Boxd__V1__RunRequest *req,
			   const struct request_ctx *ctx, struct run_spec *s,
			   struct error_detail *err);

/* write_ephemeral: read-only binds become overlays (s->write_ephemeral). */
void request_make_ephemeral(struct run_spec *s);
