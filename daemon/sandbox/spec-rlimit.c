/*
 * The resources a run may limit with setrlimit(), in one table (spec.h).
 * Linked into the daemon and into the static boxd-init, which reads it
 * between fork and execve: constant data only, no allocation.
 */
#include <stddef.h>
#include <sys/resource.h>

#include "spec.h"

static const struct spec_rlimit_info rlimits[_SPEC_RLIMIT_MAX] = {
    [SPEC_RLIMIT_NOFILE] = {SPEC_RLIMIT_NOFILE, RLIMIT_NOFILE, "nofile"},
    [SPEC_RLIMIT_FSIZE] = {SPEC_RLIMIT_FSIZE, RLIMIT_FSIZE, "fsize"},
    [SPEC_RLIMIT_CORE] = {SPEC_RLIMIT_CORE, RLIMIT_CORE, "core"},
    [SPEC_RLIMIT_NPROC] = {SPEC_RLIMIT_NPROC, RLIMIT_NPROC, "nproc"},
    [SPEC_RLIMIT_STACK] = {SPEC_RLIMIT_STACK, RLIMIT_STACK, "stack"},
    [SPEC_RLIMIT_AS] = {SPEC_RLIMIT_AS, RLIMIT_AS, "as"},
};

const struct spec_rlimit_info *spec_rlimit_info(enum spec_rlimit_kind kind)
{
	if ((unsigned)kind >= _SPEC_RLIMIT_MAX)
		return NULL;
	return &rlimits[kind];
}
