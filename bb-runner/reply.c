/*
 * Filling in a struct reply. Messages go to the worker, which shows them
 * to the person whose build failed: they say what was wrong with the
 * request or the host in one line, and must never carry more of a
 * request's bytes than action.c lets through.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

void reply_set(struct reply *r, grpc_status_code code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	/* Control characters from a request's strings would forge lines
	 * in logs that show the message. */
	for (char *p = r->message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

const char *reply_printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (!len)
		return "";
	for (; s && *s && i + 4 < len && i < 120; s++)
		buf[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	if (s && *s && i + 3 < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = 0;
	return buf;
}

void reply_clear(struct reply *r)
{
	free(r->body);
	*r = (struct reply){.code = GRPC_STATUS_OK};
}
