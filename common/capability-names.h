/*
 * The guarantees boxd can give, by name, each with one sentence saying
 * what it means for the command. One table for the daemon (HostInfo's
 * capabilities, a Plan's uses) and the client library (the sentences
 * boxctl prints), so a name means the same thing on both sides.
 */
#pragma once

#include <stddef.h>

struct capability_info {
	const char *name; /* "net:none", "limit:memory", ... */
	const char *description;
};

/* Every capability, in the order HostInfo lists them. */
const struct capability_info *capability_table(size_t *ret_n);

/* The sentence for name, or NULL for a name the table does not know. */
const char *capability_describe(const char *name);
