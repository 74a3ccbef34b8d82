/*
 * boxd-bench: shared declarations of the benchmark's parts.
 *
 *   latency.c  options, the phases (latency rounds, throughput, memory,
 *              event timing), main
 *   report.c   the Markdown report
 *   runners.c  the ways of running /bin/true that are compared
 *   daemon.c   private boxd daemons, and reading a process's memory
 *   stats.c    sample sets and percentiles
 *   compare.c  --compare: two builds of boxd in the same rounds
 *   probe.c    what this machine charges for a wake-up and a cpuid
 *   rounds.c   how the variants take turns (latency rounds, throughput
 *              slices)
 *
 * The benchmark never decides anything about the daemon's behaviour: it
 * times what a client sees and reads what /proc shows.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "boxclient.h"

/* Set on SIGINT/SIGTERM (latency.c): every loop stops early. */
extern volatile sig_atomic_t bench_interrupted;

/* ---- stats.c ---- */

struct samples {
	uint64_t *ns;
	size_t n, cap;
	uint64_t sum_ns;
};

int samples_add(struct samples *s, uint64_t ns);
void samples_free(struct samples *s);
/* Percentile p in [0, 100] (linear between ranks); 0 when empty. */
double samples_pct(struct samples *s, double p);
double samples_mean(const struct samples *s);

/* ---- daemon.c ---- */

struct daemon {
	pid_t pid;
	char sock[256];
	char log[256];
	char cgroup_root[128]; /* as given to --cgroup-root */
	int pool_size;
	unsigned cgroups_left; /* directories it left behind at exit */
};

struct daemon_paths {
	const char *boxd;
	const char *dir; /* private temporary directory */
};

/* Start boxd on a private socket; returns once it answers and (pool_size
 * > 0) its pool is full. */
int daemon_start(const struct daemon_paths *p, const char *name, int pool_size,
		 struct daemon *ret);
/* SIGTERM, wait (bounded), SIGKILL if needed; then remove the cgroup
 * directories the daemon left behind, counting them in cgroups_left. */
void daemon_stop(struct daemon *d);
/* Wait until the pool holds its target (or timeout_ms passes). */
int daemon_wait_pool_full(const struct daemon *d, int timeout_ms);
/* One status request on a fresh connection. */
int daemon_status(const struct daemon *d, box_status **ret);

struct proc_mem {
	uint64_t rss_kb, hwm_kb, pss_kb;
	unsigned fds;
};

int proc_mem_read(pid_t pid, struct proc_mem *ret);
/* Children of pid (pool members, running sandboxes); up to max. */
size_t proc_children(pid_t pid, pid_t *out, size_t max);

/* ---- runners.c ---- */

enum runner_kind {
	RUN_SPAWN,        /* posix_spawn /bin/true + waitpid */
	RUN_BWRAP,        /* posix_spawn bwrap ... /bin/true */
	RUN_BOXD_CONN,    /* one connection, start + wait per run */
	RUN_BOXD_CONNECT, /* connect + start + wait + close per run */
	RUN_BOXCTL,       /* posix_spawn boxctl run -- /bin/true */
};

struct runner_env {
	const char *boxctl;
	const char *bwrap;
	char *const *bwrap_argv; /* NULL-terminated, built once */
	int devnull;
};

struct runner {
	enum runner_kind kind;
	const struct runner_env *env;
	const char *sock;   /* boxd kinds */
	box_client *client; /* RUN_BOXD_CONN */
	box_spec *spec;
	char errmsg[256]; /* first failure */
	unsigned failures;
};

/* Per-thread state for one kind (a connection for RUN_BOXD_CONN). */
int runner_open(struct runner *r, enum runner_kind kind,
		const struct runner_env *env, const char *sock);
void runner_close(struct runner *r);
/* One run of /bin/true; 0 if it ran and exited 0. */
int runner_once(struct runner *r);

/* Timestamps of one run's events as the client saw them (ns). */
struct run_phases {
	uint64_t t_send, t_accepted, t_started, t_finished;
	uint64_t daemon_wall_ns; /* the result record's wall time */
};

/* RUN_BOXD_CONN only: one run through the non-blocking API. */
int runner_once_phased(struct runner *r, struct run_phases *ret);

/* The spec every boxd run uses: /bin/true, default profile, net none,
 * default seccomp, memory 256M, pids 64. */
int bench_spec_new(box_spec **ret);
/* The bwrap command line equivalent to boxd's default profile. */
char **bwrap_argv_new(const char *bwrap);

/* ---- latency.c: what the phases measured ---- */

/* The pause after each run of the spaced latency rows: long enough for
 * a finished run's teardown and a member's refill on this kind of
 * machine (a few ms of CPU each), short enough to keep the rounds
 * short. */
#define SPACED_GAP_MS 20

/* Sleep ms milliseconds (the spaced rows, --hammer --gap-ms). */
void bench_pause_ms(unsigned ms);

/* One way of running /bin/true in the latency rounds. */
struct variant {
	const char *name;
	enum runner_kind kind;
	const char *sock;
	unsigned gap_ms; /* pause after each run (the spaced rows), or 0 */
	struct runner r;
	struct samples s;
	bool skip;
};

/* The latency variants, in the order of the report. */
enum variant_id {
	V_SPAWN,
	V_BWRAP,
	V_POOL_CONN,
	V_POOL_CONNECT,
	V_NOPOOL_CONN,
	V_NOPOOL_CONNECT,
	V_BOXCTL,
	/* The floor and the pooled run again, each run followed by a
	 * pause: the previous run's teardown and the pool's refill are
	 * over when the next starts (SPACED_GAP_MS). */
	V_SPAWN_SPACED,
	V_POOL_SPACED,
	_V_MAX,
};

/* One throughput row: a way of running at a concurrency. */
struct cell {
	const char *name;
	enum runner_kind kind;
	const char *sock;
	unsigned conc;
	uint64_t runs, elapsed_ns;
	unsigned failures;
	char errmsg[256];
	struct samples s;
};

/* The daemon's memory after a number of runs, read at rest. */
struct growth_point {
	unsigned runs;
	struct proc_mem mem;
};

/* A fresh daemon: idle with its pool full, its members, then runs. */
struct memory_report {
	struct proc_mem idle; /* fresh daemon, pool full, no runs */
	unsigned n_members;
	uint64_t member_rss_med_kb, member_rss_max_kb, member_pss_med_kb;
	int64_t member_rss_self_kb; /* what the daemon's status says */
	struct growth_point pts[8];
	size_t n_pts;
	unsigned failures;
	char errmsg[256];
	unsigned cgroups_left;
	bool ok;
};

/* Event timestamps of runs on one connection (see runner_once_phased). */
struct phase_report {
	struct samples to_accepted, to_started, to_finished, daemon_wall, total;
	unsigned failures;
};

/* ---- rounds.c ---- */

/* Latency rounds over the variants: one warm-up batch each, then rounds
 * of a batch of every variant, each round in an order of its own (a
 * fixed-seed shuffle). */
void bench_latency_rounds(struct variant *vs, size_t nv, unsigned rounds,
			  unsigned batch);
/* Throughput cells, alternated in slices of duration / slices seconds,
 * each slice in a shuffled order. */
void bench_throughput_slices(struct cell *cs, size_t nc,
			     const struct runner_env *env, double duration,
			     unsigned slices);

/* ---- compare.c: one build of boxd against another ---- */

struct compare_settings {
	unsigned rounds, batch;
	double duration;
	unsigned slices;
	int pool_size;
	const char *dir; /* private temporary directory */
	const char *base_boxd, *base_boxctl, *base_label;
	const char *work_boxd, *work_boxctl, *work_label;
};

/* Both daemons in the same alternating rounds; prints the report. */
int compare_main(const struct compare_settings *set,
		 const struct runner_env *env);

/* ---- probe.c ---- */

/* The costs of a cpuid instruction and of a wake-up across CPUs, as
 * lines of the report's machine description. */
void print_probes(void);

/* ---- report.c: the Markdown report ---- */

/* "1.234 ms", or "-" for nothing measured. */
void fmt_ms(char *buf, size_t len, double ns);
double cell_rate(const struct cell *c);
void print_machine(const struct daemon *d, const char *bwrap,
		   char *const *bwrap_argv);
void print_latency(struct variant *vs, unsigned rounds, unsigned batch);
void print_throughput(struct cell *cs, size_t nc, double duration);
void print_phases(struct phase_report *pool, struct phase_report *nopool,
		  unsigned runs);
void print_memory(const struct memory_report *m);
void print_targets(struct variant *vs, struct cell *cs, size_t nc,
		   const struct memory_report *m);
