/*
 * Resource limits inside: the daemon's defaults (RLIMIT_CORE 0, so a
 * crash never writes a core file into a writable bind of the caller's)
 * and the ones a request set, and that the program cannot raise a hard
 * limit back (that needs CAP_SYS_RESOURCE in the host's namespace).
 *
 *   probe-rlimits [NAME=SOFT:HARD]...   NAME: nofile fsize core nproc
 *                                       stack; a value may be "inf"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "probe.h"

static const struct {
	const char *name;
	int res;
} limits[] = {
    {"nofile", RLIMIT_NOFILE}, {"fsize", RLIMIT_FSIZE}, {"core", RLIMIT_CORE},
    {"nproc", RLIMIT_NPROC},   {"stack", RLIMIT_STACK},
};

static rlim_t parse_value(const char *s)
{
	return strncmp(s, "inf", 3) == 0 ? RLIM_INFINITY
					 : (rlim_t)strtoull(s, NULL, 10);
}

static int resource_of(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strlen(limits[i].name) == len &&
		    strncmp(limits[i].name, name, len) == 0)
			return limits[i].res;
	return -1;
}

static void check_want(const char *arg)
{
	size_t len = strcspn(arg, "=");
	const char *v = arg + len;
	int res = resource_of(arg, len);
	struct rlimit rl;
	rlim_t soft, hard;
	char *colon;

	if (res < 0 || !*v || !(colon = strchr(v + 1, ':'))) {
		probe_check("bad_argument", false, "%s", arg);
		return;
	}
	soft = parse_value(v + 1);
	hard = parse_value(colon + 1);
	getrlimit(res, &rl);
	probe_check(arg, rl.rlim_cur == soft && rl.rlim_max == hard,
		    "soft %llu hard %llu", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int r;

	probe_begin("rlimits", 1);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		getrlimit(limits[i].res, &rl);
		probe_info(limits[i].name, "%llu %llu",
			   (unsigned long long)rl.rlim_cur,
			   (unsigned long long)rl.rlim_max);
	}
	for (int i = 1; i < argc; i++)
		check_want(argv[i]);

	/* Raising a hard limit needs privilege the sandbox never has. */
	getrlimit(RLIMIT_CORE, &rl);
	if (rl.rlim_max != RLIM_INFINITY) {
		rl.rlim_max = RLIM_INFINITY;
		r = setrlimit(RLIMIT_CORE, &rl);
		probe_check("core_hard_not_raised", r < 0 && errno == EPERM,
			    "setrlimit(CORE, hard infinity): %s",
			    r < 0 ? probe_errno_name(errno) : "raised");
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY) {
		rl.rlim_max++;
		r = setrlimit(RLIMIT_NOFILE, &rl);
		probe_check("nofile_hard_not_raised", r < 0 && errno == EPERM,
			    "setrlimit(NOFILE, hard + 1): %s",
			    r < 0 ? probe_errno_name(errno) : "raised");
	}
	return probe_end();
}
