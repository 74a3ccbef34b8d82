/*
 * Builds the RunResponse of a command that ran, from boxd's result
 * record: the exit code as the stock runner reports it, a
 * buildbarn.resourceusage.POSIXResourceUsage with what struct rusage
 * would say for the whole action, and boxd's own BoxdResourceUsage with
 * what only a sandbox with its own cgroup can tell (peak memory of every
 * process together, OOM kills, peak pids, why the run ended).
 *
 * Must never report a figure boxd did not give: what is unknown stays
 * unset (POSIX fields) or -1 (boxd's message), never a guess.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boxd_resource_usage.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "resourceusage.pb-c.h"
#include "runner.pb-c.h"
#include "usage.h"
#include "util.h"

int64_t usage_exit_code(const box_result *r)
{
	if (box_result_termination(r) == BOX_TERM_EXITED)
		return box_result_exit_code(r);
	return -1;
}

const char *usage_signal_name(int sig, char *buf, size_t len)
{
	const char *name;

	if (sig <= 0 || sig >= NSIG)
		return NULL;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		/* Real-time signals have no fixed names; glibc's own
		 * numbering is shifted by the two it keeps for itself. */
		if (sig - SIGRTMIN <= SIGRTMAX - sig)
			snprintf(buf, len, "RTMIN+%d", sig - SIGRTMIN);
		else
			snprintf(buf, len, "RTMAX-%d", SIGRTMAX - sig);
		return buf;
	}
	name = sigabbrev_np(sig);
	if (!name)
		return NULL;
	snprintf(buf, len, "%s", name);
	return buf;
}

static void duration_set(Google__Protobuf__Duration *d, uint64_t ns)
{
	d->seconds = (int64_t)(ns / 1000000000ULL);
	d->nanos = (int32_t)(ns % 1000000000ULL);
}

/* Serialize msg into a fresh Any with type_url. */
static int any_pack(const ProtobufCMessage *msg, const char *type_url,
		    Google__Protobuf__Any *any)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	any->type_url = (char *)type_url;
	any->value.data = buf;
	any->value.len = len;
	return 0;
}

static Boxd__Buildbarn__V1__BoxdResourceUsage__Termination
termination_of(enum box_termination t)
{
	switch (t) {
	case BOX_TERM_EXITED:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__EXITED;
	case BOX_TERM_SIGNALED:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__SIGNALED;
	case BOX_TERM_OUT_OF_MEMORY:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__OUT_OF_MEMORY;
	case BOX_TERM_WALL_TIMEOUT:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__WALL_TIMEOUT;
	case BOX_TERM_CPU_TIMEOUT:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__CPU_TIMEOUT;
	case BOX_TERM_KILLED:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__KILLED;
	}
	return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__TERMINATION__TERMINATION_UNSPECIFIED;
}

static Boxd__Buildbarn__V1__BoxdResourceUsage__PeakMemorySource
peak_source_of(enum box_peak_source s)
{
	switch (s) {
	case BOX_PEAK_RUSAGE:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__PEAK_MEMORY_SOURCE__RUSAGE;
	case BOX_PEAK_CGROUP:
		return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__PEAK_MEMORY_SOURCE__CGROUP;
	case BOX_PEAK_NONE:
		break;
	}
	return BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__PEAK_MEMORY_SOURCE__PEAK_MEMORY_SOURCE_UNKNOWN;
}

int usage_response(const box_result *r, uint8_t **ret_body, size_t *ret_len)
{
	Buildbarn__Resourceusage__POSIXResourceUsage posix =
	    BUILDBARN__RESOURCEUSAGE__POSIXRESOURCE_USAGE__INIT;
	Google__Protobuf__Duration user = GOOGLE__PROTOBUF__DURATION__INIT;
	Google__Protobuf__Duration sys = GOOGLE__PROTOBUF__DURATION__INIT;
	Google__Protobuf__Duration wall = GOOGLE__PROTOBUF__DURATION__INIT;
	Boxd__Buildbarn__V1__BoxdResourceUsage boxd =
	    BOXD__BUILDBARN__V1__BOXD_RESOURCE_USAGE__INIT;
	Google__Protobuf__Any any[2] = {GOOGLE__PROTOBUF__ANY__INIT,
					GOOGLE__PROTOBUF__ANY__INIT};
	Google__Protobuf__Any *anys[2] = {&any[0], &any[1]};
	Buildbarn__Runner__RunResponse resp =
	    BUILDBARN__RUNNER__RUN_RESPONSE__INIT;
	const char *const *caveats = box_result_caveats(r);
	char signame[32] = "";
	const char *seccomp = box_result_seccomp_syscall(r);
	uint8_t *body = NULL;
	size_t len, n_caveats = 0;
	int sig = box_result_signal(r);
	int ret = -ENOMEM;

	resp.exit_code = usage_exit_code(r);

	/* user and system time are those of every process of the run
	 * (boxd reads the cgroup's counters where it has them), and the
	 * largest RSS of a single process is what ru_maxrss means. The
	 * other rusage fields are not part of boxd's result record: they
	 * stay unset (0) rather than being made up. */
	duration_set(&user, box_result_user_ns(r));
	duration_set(&sys, box_result_system_ns(r));
	posix.user_time = &user;
	posix.system_time = &sys;
	posix.maximum_resident_set_size = (int64_t)box_result_peak_rss_bytes(r);
	if (resp.exit_code == -1) {
		/* Killed without a signal number on record: boxd's limits
		 * and kills use SIGKILL. */
		if (!usage_signal_name(sig, signame, sizeof(signame)))
			snprintf(signame, sizeof(signame), "KILL");
		posix.termination_signal = signame;
	}

	boxd.run_id = box_result_run_id(r);
	boxd.termination = termination_of(box_result_termination(r));
	boxd.signal = sig > 0 ? sig : 0;
	duration_set(&wall, box_result_wall_ns(r));
	boxd.wall_time = &wall;
	boxd.peak_memory_bytes = box_result_peak_memory_bytes(r);
	boxd.peak_memory_source =
	    peak_source_of(box_result_peak_memory_source(r));
	boxd.oom_kills = box_result_oom_kills(r);
	boxd.peak_pids = box_result_peak_pids(r);
	while (caveats[n_caveats])
		n_caveats++;
	boxd.n_caveats = n_caveats;
	boxd.caveats = (char **)caveats;
	if (seccomp)
		boxd.seccomp_syscall = (char *)seccomp;

	if (any_pack(&posix.base, USAGE_POSIX_TYPE_URL, &any[0]) < 0)
		goto out;
	if (any_pack(&boxd.base, USAGE_BOXD_TYPE_URL, &any[1]) < 0)
		goto out;
	resp.n_resource_usage = 2;
	resp.resource_usage = anys;

	len = buildbarn__runner__run_response__get_packed_size(&resp);
	body = malloc(len ? len : 1);
	if (!body)
		goto out;
	buildbarn__runner__run_response__pack(&resp, body);
	*ret_body = body;
	*ret_len = len;
	ret = 0;
out:
	free(any[0].value.data);
	free(any[1].value.data);
	return ret;
}
