/*
 * The built-in profiles a RunRequest starts from (profile.c).
 */
#pragma once

#include <stddef.h>

#include "spec.h"

struct profile {
	struct spec_mount *mounts;
	size_t n;
};

/* The default profile's mounts, computed on first use; NULL on ENOMEM. */
const struct profile *profile_default(void);

/* Append copies of p's mounts to s->mounts (which has room for them). */
int profile_copy(struct run_spec *s, const struct profile *p);
