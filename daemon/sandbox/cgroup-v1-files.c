/*
 * cgroup v1: the files of a run's cgroup (cgroup-internal.h, "The files
 * of a run's cgroup"): the limits the take writes, the counters the
 * run's end reads, and which of them a run keeps open from its creation
 * or adoption. The hierarchies themselves, and the making, attaching and
 * removing of cgroups, are cgroup-v1.c's.
 */
#include <inttypes.h>
#include <unistd.h>

#include "cgroup-internal.h"

int cgroup_v1_fd_of(const struct cgroup_manager *m, enum cgroup_v1_hier h,
		    const int *fds)
{
	return m->v1[h].present ? fds[m->v1[h].owner] : -1;
}

int cgroup_v1_write_limits(struct cgroup_manager *m, struct cgroup_run *r,
			   const struct spec_limits *lim)
{
	int mem = cgroup_v1_fd_of(m, CGROUP_V1_MEMORY, r->v1_fd);
	int cpu = cgroup_v1_fd_of(m, CGROUP_V1_CPU, r->v1_fd);
	int pids = cgroup_v1_fd_of(m, CGROUP_V1_PIDS, r->v1_fd);
	int k;

	if (lim->memory_bytes) {
		/* limit first: memsw may never be below it. */
		k = cgroup_run_writef(r, RUN_FILE_MEM_MAX, mem,
				      "memory.limit_in_bytes", "%" PRIu64,
				      lim->memory_bytes);
		if (k < 0)
			return k;
		if (m->can & CGROUP_CAN_SWAP) {
			uint64_t sum =
			    lim->memory_bytes + lim->memory_swap_bytes;

			if (sum < lim->memory_bytes)
				sum = UINT64_MAX;
			k = cgroup_run_writef(r, RUN_FILE_SWAP_MAX, mem,
					      "memory.memsw.limit_in_bytes",
					      "%" PRIu64, sum);
			if (k < 0)
				return k;
		}
	}
	if (lim->cpu_millis) {
		k = cgroup_write_at(cpu, "cpu.cfs_period_us", "100000");
		if (k < 0)
			return k;
		k = cgroup_writef_at(cpu, "cpu.cfs_quota_us", "%" PRIu64,
				     (uint64_t)lim->cpu_millis * 100);
		if (k < 0)
			return k;
	}
	if (lim->pids) {
		k = cgroup_run_writef(r, RUN_FILE_PIDS_MAX, pids, "pids.max",
				      "%" PRIu32, lim->pids);
		if (k < 0)
			return k;
	}
	return 0;
}

void cgroup_v1_keep_files(struct cgroup_run *r)
{
	struct cgroup_manager *m = r->m;
	int acct = cgroup_v1_fd_of(m, CGROUP_V1_CPUACCT, r->v1_fd);
	int mem = cgroup_v1_fd_of(m, CGROUP_V1_MEMORY, r->v1_fd);
	int pids = cgroup_v1_fd_of(m, CGROUP_V1_PIDS, r->v1_fd);

	cgroup_run_keep_file(r, RUN_FILE_CPU, acct, "cpuacct.usage", false);
	if (m->v1_usage_split) {
		cgroup_run_keep_file(r, RUN_FILE_CPU_USER, acct,
				     "cpuacct.usage_user", false);
		cgroup_run_keep_file(r, RUN_FILE_CPU_SYS, acct,
				     "cpuacct.usage_sys", false);
	} else {
		cgroup_run_keep_file(r, RUN_FILE_CPU_USER, acct, "cpuacct.stat",
				     false);
	}
	cgroup_run_keep_file(r, RUN_FILE_MEM_PEAK, mem,
			     "memory.max_usage_in_bytes", false);
	cgroup_run_keep_file(r, RUN_FILE_MEM_EVENTS, mem, "memory.oom_control",
			     false);
	cgroup_run_keep_file(r, RUN_FILE_MEM_MAX, mem, "memory.limit_in_bytes",
			     true);
	if (m->can & CGROUP_CAN_SWAP)
		cgroup_run_keep_file(r, RUN_FILE_SWAP_MAX, mem,
				     "memory.memsw.limit_in_bytes", true);
	if (m->has_pids_peak)
		cgroup_run_keep_file(r, RUN_FILE_PIDS_PEAK, pids, "pids.peak",
				     false);
	cgroup_run_keep_file(r, RUN_FILE_PIDS_MAX, pids, "pids.max", true);
}

int cgroup_v1_run_cpu_ns(struct cgroup_run *r, uint64_t *ret)
{
	int fd = cgroup_v1_fd_of(r->m, CGROUP_V1_CPUACCT, r->v1_fd);

	if (fd < 0)
		return -EOPNOTSUPP;
	return cgroup_run_read_u64(r, RUN_FILE_CPU, fd, "cpuacct.usage", ret);
}

int cgroup_v1_run_stats(struct cgroup_run *r, struct run_result *res)
{
	struct cgroup_manager *m = r->m;
	int acct = cgroup_v1_fd_of(m, CGROUP_V1_CPUACCT, r->v1_fd);
	int mem = cgroup_v1_fd_of(m, CGROUP_V1_MEMORY, r->v1_fd);
	int pids = cgroup_v1_fd_of(m, CGROUP_V1_PIDS, r->v1_fd);
	uint64_t user = 0, sys = 0, v;
	char text[1024];
	int k, ret = 0;

	if (acct >= 0) {
		if (m->v1_usage_split) {
			k = cgroup_run_read_u64(r, RUN_FILE_CPU_USER, acct,
						"cpuacct.usage_user", &user);
			if (k >= 0)
				k = cgroup_run_read_u64(
				    r, RUN_FILE_CPU_SYS, acct,
				    "cpuacct.usage_sys", &sys);
		} else {
			/* cpuacct.stat counts USER_HZ ticks. */
			long hz = sysconf(_SC_CLK_TCK);
			uint64_t tick =
			    1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);

			k = cgroup_run_read(r, RUN_FILE_CPU_USER, acct,
					    "cpuacct.stat", text, sizeof(text));
			if (k >= 0)
				k = cgroup_key_value(text, "user", &user);
			if (k >= 0)
				k = cgroup_key_value(text, "system", &sys);
			user *= tick;
			sys *= tick;
		}
		/* Both splits are sampled at timer ticks and can be off by
		 * a sixth either way; cpuacct.usage is the scheduler's exact
		 * runtime, the figure the CPU-time limit is held against.
		 * Report that total, split in the ticks' proportion. */
		if (k >= 0 && user + sys > 0 &&
		    cgroup_run_read_u64(r, RUN_FILE_CPU, acct, "cpuacct.usage",
					&v) >= 0) {
			uint64_t u = (uint64_t)((double)v * (double)user /
						(double)(user + sys));

			user = u < v ? u : v;
			sys = v - user;
		}
		if (k >= 0) {
			res->user_ns = user;
			res->system_ns = sys;
		} else {
			ret = k;
		}
	}
	if (mem >= 0) {
		if (cgroup_run_read_u64(r, RUN_FILE_MEM_PEAK, mem,
					"memory.max_usage_in_bytes", &v) >= 0) {
			res->peak_memory_bytes = v;
			res->peak_source = RUN_PEAK_CGROUP;
		}
		if (cgroup_run_read(r, RUN_FILE_MEM_EVENTS, mem,
				    "memory.oom_control", text,
				    sizeof(text)) >= 0 &&
		    cgroup_key_value(text, "oom_kill", &v) >= 0)
			res->oom_kills = v;
	}
	if (pids >= 0 && m->has_pids_peak &&
	    cgroup_run_read_u64(r, RUN_FILE_PIDS_PEAK, pids, "pids.peak", &v) >=
		0)
		res->peak_pids = v;
	return ret;
}
