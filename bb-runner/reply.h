/*
 * The answer to one call: a gRPC status code with its message, and for
 * OK the serialized response message.
 */
#pragma once

#include <grpc/status.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct reply {
	grpc_status_code code;
	char message[1024];
	uint8_t *body; /* malloc'd; OK only */
	size_t body_len;
};

/* Set code and a printf-style message (replacing any earlier one). */
void reply_set(struct reply *r, grpc_status_code code, const char *fmt, ...)
    _printf_(3, 4);

/*
 * A request's string for a message or a log line: at most 120 bytes
 * (then "..."), control characters replaced by '?'. Returns buf.
 */
const char *reply_printable(const char *s, char *buf, size_t len);

/* Free the body, back to an empty OK. */
void reply_clear(struct reply *r);
