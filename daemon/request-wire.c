/*
 * A look at a request frame on the wire, before anything decodes it.
 *
 * Decoding a protobuf message costs time and memory in proportion to the
 * number of entries of its repeated fields: a 3 MiB RunRequest with a
 * million one-byte argv entries takes protobuf-c over a second and
 * hundreds of megabytes, all on the daemon's single event loop, before
 * the request layer's caps could refuse it. Counting the entries on the
 * wire costs a pass of varint reads over the frame, with no allocation:
 * a request over a cap is refused here, and the decoder only ever sees
 * requests whose cost is bounded.
 *
 * Never trusts a length: every field is checked against what is left of
 * the buffer, and nothing here allocates or recurses beyond one level.
 */
#include <errno.h>
#include <string.h>

#include "request.h"

/* The wire's own limits, and the entries a request may carry. */
#define WIRE_SMALL_MAX 4096 /* Hello, kill, list, status */
#define WIRE_MAX_ARGS 65536
#define WIRE_MAX_ENV 65536
#define WIRE_MAX_MOUNTS 256
#define WIRE_MAX_RLIMITS 64

enum {
	WIRE_VARINT = 0,
	WIRE_FIXED64 = 1,
	WIRE_BYTES = 2,
	WIRE_FIXED32 = 5,
};

struct wire {
	const uint8_t *p, *end;
};

static int wire_varint(struct wire *w, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (w->p >= w->end)
			return -EBADMSG;
		b = *w->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* One field: its number and wire type, and for WIRE_BYTES the payload
 * (which the cursor steps over). Other types are skipped. */
static int wire_field(struct wire *w, uint32_t *ret_number, int *ret_type,
		      uint64_t *ret_value, struct wire *ret_payload)
{
	uint64_t key, v = 0;
	int r = wire_varint(w, &key);

	if (r < 0)
		return r;
	*ret_payload = (struct wire){0};
	switch ((int)(key & 7)) {
	case WIRE_VARINT:
		r = wire_varint(w, &v);
		if (r < 0)
			return r;
		break;
	case WIRE_FIXED64:
	case WIRE_FIXED32: {
		size_t n = (key & 7) == WIRE_FIXED64 ? 8 : 4;

		if ((size_t)(w->end - w->p) < n)
			return -EBADMSG;
		w->p += n;
		break;
	}
	case WIRE_BYTES:
		r = wire_varint(w, &v);
		if (r < 0)
			return r;
		if (v > (uint64_t)(w->end - w->p))
			return -EBADMSG;
		*ret_payload = (struct wire){w->p, w->p + v};
		w->p += v;
		break;
	default:
		/* Groups (3, 4) and the unused 6, 7: no boxd message has
		 * them, and a decoder would refuse them anyway. */
		return -EBADMSG;
	}
	if ((key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -EBADMSG;
	*ret_number = (uint32_t)(key >> 3);
	*ret_type = (int)(key & 7);
	*ret_value = v;
	return 0;
}

/* RunRequest field numbers whose entries are counted. */
static int check_run(struct wire w, struct error_detail *err)
{
	size_t argv = 0, mounts = 0, setenv = 0, unsetenv = 0, rlimits = 0;

	while (w.p < w.end) {
		struct wire payload;
		uint32_t number;
		uint64_t v;
		int type, r = wire_field(&w, &number, &type, &v, &payload);

		if (r < 0)
			return error_set(err, ERROR_INVALID, r,
					 "run request is not valid protobuf");
		argv += number == 1;
		mounts += number == 3;
		setenv += number == 4;
		unsetenv += number == 5;
		rlimits += number == 15;
	}
	if (argv > WIRE_MAX_ARGS)
		return error_set(err, ERROR_INVALID, -E2BIG,
				 "argv has more than %d entries",
				 WIRE_MAX_ARGS);
	if (setenv > WIRE_MAX_ENV || unsetenv > WIRE_MAX_ENV)
		return error_set(err, ERROR_INVALID, -E2BIG,
				 "setenv or unsetenv has more than %d entries",
				 WIRE_MAX_ENV);
	if (mounts > WIRE_MAX_MOUNTS)
		return error_set(err, ERROR_INVALID, -E2BIG,
				 "more than %d mounts", WIRE_MAX_MOUNTS);
	if (rlimits > WIRE_MAX_RLIMITS)
		return error_set(err, ERROR_INVALID, -E2BIG,
				 "more than %d rlimits", WIRE_MAX_RLIMITS);
	return 0;
}

int request_wire_peek(const uint8_t *buf, size_t len, struct request_wire *info,
		      struct error_detail *err)
{
	struct wire w = {buf, buf + len}, body = {0};

	*info = (struct request_wire){0};
	while (w.p < w.end) {
		struct wire payload;
		uint32_t number;
		uint64_t v;
		int type, r = wire_field(&w, &number, &type, &v, &payload);

		if (r < 0)
			return error_set(
			    err, ERROR_INVALID, r,
			    "frame is not a valid boxd.v1.Request");
		if (number == 15 && type == WIRE_VARINT) {
			info->has_request_id = true;
			info->request_id = v;
		} else if (number >= 1 && number <= 5 && type == WIRE_BYTES) {
			/* A oneof: the last member on the wire wins. */
			info->kind = number;
			body = payload;
		}
	}
	if (!info->kind)
		return 0; /* the decoder says "unknown or empty" */
	if (info->kind != BOXD__V1__REQUEST__MSG_RUN && len > WIRE_SMALL_MAX)
		return error_set(err, ERROR_INVALID, -EMSGSIZE,
				 "a request of this type is at most %d bytes, "
				 "this one %zu",
				 WIRE_SMALL_MAX, len);
	if (info->kind == BOXD__V1__REQUEST__MSG_RUN)
		return check_run(body, err);
	return 0;
}
