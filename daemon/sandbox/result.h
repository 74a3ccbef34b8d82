/*
 * How a run ended and what it used: filled by the engine, turned into a
 * protocol Result by the session layer.
 */
#pragma once

#include <stdint.h>

enum run_termination {
	RUN_EXITED = 1,
	RUN_SIGNALED,
	RUN_OUT_OF_MEMORY,
	RUN_WALL_TIMEOUT,
	RUN_CPU_TIMEOUT,
	RUN_KILLED,
};

enum run_peak_source {
	RUN_PEAK_NONE = 0,
	RUN_PEAK_RUSAGE,
	RUN_PEAK_CGROUP,
};

struct run_result {
	enum run_termination termination;
	int exit_code; /* RUN_EXITED */
	int signal;    /* the signal that ended the command, if any */
	uint64_t wall_ns;
	uint64_t user_ns;
	uint64_t system_ns;
	uint64_t peak_rss_bytes;    /* largest RSS of one process (rusage) */
	uint64_t peak_memory_bytes; /* whole run, see peak_source */
	enum run_peak_source peak_source;
	uint64_t oom_kills;
	uint64_t peak_pids; /* 0: not known */
	int seccomp_syscall; /* -1: none; else the syscall nr that hit a kill rule */
	uint32_t seccomp_arch; /* AUDIT_ARCH_* of that call */
	/* --no-exec: execve/execveat calls refused after the command's own
	 * (0 when none, or when pid 1 died before it could say) */
	uint32_t execs_refused;
};

/* Why a run could not start: the setup step that failed and its errno. */
struct run_error {
	char step[32];    /* e.g. "bind source", "execve", "create cgroup" */
	char detail[192]; /* the path or value involved, may be empty */
	int err;          /* positive errno */
};
