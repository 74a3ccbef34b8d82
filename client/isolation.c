/*
 * The tightest spec a host allows (box_host_tightest()): what a caller
 * who wants "as isolated as this daemon can make it" would otherwise
 * assemble from the host info by hand. It only sets spec fields from the
 * host info already received; it never talks to the daemon, and it never
 * asks for something the host info says is unavailable, so the spec it
 * builds is one the daemon accepts.
 */
#include <errno.h>

#include "internal.h"

#define TIGHT_MEMORY (256ull << 20)
#define TIGHT_CPU_MILLIS 1000u
#define TIGHT_PIDS 128u
#define TIGHT_CPU_TIME_NS (60ull * 1000000000ull)
#define TIGHT_TIMEOUT_NS (600ull * 1000000000ull)

/* want, lowered to the tenant's ceiling for capability name (if any). */
static uint64_t within_ceiling(const box_host_info *h, const char *name,
			       uint64_t want)
{
	int i = box_host_capability_find(h, name);
	int64_t ceiling =
	    i >= 0 ? box_host_capability_ceiling(h, (size_t)i) : -1;

	return ceiling > 0 && (uint64_t)ceiling < want ? (uint64_t)ceiling
						       : want;
}

/* A limit is set only where the host enforces it: asking for one it
 * cannot would get the run refused (or, lenient, run without it). */
static bool enforced(const box_host_info *h, const char *capability,
		     const char *limit)
{
	if (box_host_capability_count(h))
		return box_host_has_capability(h, capability);
	return box_host_can_limit(h, limit);
}

int box_host_tightest(const box_host_info *h, box_spec *s)
{
	int r;

	if (!h || !s)
		return -EINVAL;
	if ((r = box_spec_set_profile(s, BOX_PROFILE_DEFAULT)) < 0 ||
	    (r = box_spec_set_net(s, BOX_NET_NONE)) < 0 ||
	    (r = box_spec_set_seccomp(s, BOX_SECCOMP_DEFAULT, NULL, 0)) < 0 ||
	    (r = box_spec_set_new_session(s, true)) < 0 ||
	    (r = box_spec_set_die_with_client(s, true)) < 0 ||
	    (r = box_spec_set_write_ephemeral(s, false)) < 0 ||
	    (r = box_spec_add_rlimit(s, BOX_RLIMIT_CORE, 0, 0)) < 0)
		return r;
	/* The profile's /tmp stays the one writable place. */
	if ((r = box_spec_remount_ro(s, "/run")) < 0 ||
	    (r = box_spec_remount_ro(s, "/var")) < 0)
		return r;
	if (box_host_has_feature(h, "no_exec") &&
	    (box_host_capability_find(h, "exec:no_exec") < 0 ||
	     box_host_has_capability(h, "exec:no_exec")) &&
	    (r = box_spec_set_no_exec(s, true)) < 0)
		return r;

	if (enforced(h, "limit:memory", "memory") &&
	    (r = box_spec_set_memory(
		 s, within_ceiling(h, "limit:memory", TIGHT_MEMORY))) < 0)
		return r;
	if (enforced(h, "limit:cpus", "cpus") &&
	    (r = box_spec_set_cpu_millis(
		 s, (uint32_t)within_ceiling(h, "limit:cpus",
					     TIGHT_CPU_MILLIS))) < 0)
		return r;
	if (enforced(h, "limit:pids", "pids") &&
	    (r = box_spec_set_pids(
		 s, (uint32_t)within_ceiling(h, "limit:pids", TIGHT_PIDS))) < 0)
		return r;
	if (enforced(h, "limit:cpu_time", "cpu_time") &&
	    (r = box_spec_set_cpu_time_ns(
		 s, within_ceiling(h, "limit:cpu_time", TIGHT_CPU_TIME_NS))) <
		0)
		return r;
	if (enforced(h, "limit:timeout", "timeout") &&
	    (r = box_spec_set_timeout_ns(
		 s, within_ceiling(h, "limit:timeout", TIGHT_TIMEOUT_NS))) < 0)
		return r;
	return 0;
}
