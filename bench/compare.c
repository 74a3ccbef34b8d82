/*
 * boxd-bench --compare: one build of boxd against another in the same
 * run. Both daemons (the base, built from another revision, and the work
 * tree's) start side by side with the same pool, and every measurement
 * alternates between them in the same rounds as the floor and bwrap, so
 * a change's effect is a ratio read off one run rather than the
 * difference of two runs on a noisy machine.
 *
 * It measures; it never judges a change and never fails on a timing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

/* The latency variants of a comparison, in the order of the report. */
enum {
	C_SPAWN,
	C_BWRAP,
	C_POOL_BASE,
	C_POOL_WORK,
	C_CONNECT_BASE,
	C_CONNECT_WORK,
	C_BOXCTL_BASE,
	C_BOXCTL_WORK,
	_C_MAX,
};

static void ratio(char *buf, size_t len, double a, double b)
{
	if (a <= 0 || b <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx", a / b);
}

/* One table row: the measure for base and work, then work / base. */
static void row_ms(const char *what, struct samples *base, struct samples *work,
		   double p)
{
	char a[32], b[32], r[32];
	double x = samples_pct(base, p), y = samples_pct(work, p);

	fmt_ms(a, sizeof(a), x);
	fmt_ms(b, sizeof(b), y);
	ratio(r, sizeof(r), y, x);
	printf("| %s | %s | %s | %s |\n", what, a, b, r);
}

static void print_compare_latency(struct variant *vs, const char *base,
				  const char *work, unsigned rounds,
				  unsigned batch)
{
	double floor = samples_pct(&vs[C_SPAWN].s, 50);
	double bwrap = samples_pct(&vs[C_BWRAP].s, 50);
	static const struct {
		const char *what;
		int b, w;
		double p;
	} rows[] = {
	    {"pooled run, one connection, median", C_POOL_BASE, C_POOL_WORK,
	     50},
	    {"pooled run, one connection, p99", C_POOL_BASE, C_POOL_WORK, 99},
	    {"pooled run, connect per run, median", C_CONNECT_BASE,
	     C_CONNECT_WORK, 50},
	    {"`boxctl run -- /bin/true`, median", C_BOXCTL_BASE, C_BOXCTL_WORK,
	     50},
	    {"`boxctl run -- /bin/true`, p99", C_BOXCTL_BASE, C_BOXCTL_WORK,
	     99},
	};

	printf("\n## Latency, base `%s` against work `%s` (%u rounds x %u "
	       "runs per variant, alternated)\n\n",
	       base, work, rounds, batch);
	printf("| measure | base | work | work / base |\n"
	       "|---|---:|---:|---:|\n");
	for (size_t i = 0; i < ELEMENTSOF(rows); i++)
		row_ms(rows[i].what, &vs[rows[i].b].s, &vs[rows[i].w].s,
		       rows[i].p);

	printf("\n| variant | runs | median | p99 | / floor | bwrap / it |\n"
	       "|---|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < _C_MAX; i++) {
		struct variant *v = &vs[i];
		char med[32], p99[32], rf[32], rb[32];
		double m = samples_pct(&v->s, 50);

		if (v->skip) {
			printf("| %s | skipped | | | | |\n", v->name);
			continue;
		}
		fmt_ms(med, sizeof(med), m);
		fmt_ms(p99, sizeof(p99), samples_pct(&v->s, 99));
		ratio(rf, sizeof(rf), m, floor);
		ratio(rb, sizeof(rb), bwrap, m);
		printf("| %s | %zu | %s | %s | %s | %s |\n", v->name, v->s.n,
		       med, p99, rf, i >= C_POOL_BASE ? rb : "");
	}
	for (size_t i = 0; i < _C_MAX; i++)
		if (vs[i].r.failures)
			printf("\n%s: %u failed runs (first: %s)\n", vs[i].name,
			       vs[i].r.failures, vs[i].r.errmsg);
}

static void print_compare_memory(const char *label, const struct daemon *d)
{
	pid_t kids[64];
	size_t n = proc_children(d->pid, kids, ELEMENTSOF(kids));
	uint64_t max_rss = 0;
	struct proc_mem pm;

	for (size_t i = 0; i < n; i++)
		if (proc_mem_read(kids[i], &pm) >= 0 && pm.rss_kb > max_rss)
			max_rss = pm.rss_kb;
	if (proc_mem_read(d->pid, &pm) < 0)
		return;
	printf("| %s | %llu KiB | %llu KiB | %zu | %llu KiB |\n", label,
	       (unsigned long long)pm.rss_kb, (unsigned long long)pm.pss_kb, n,
	       (unsigned long long)max_rss);
}

int compare_main(const struct compare_settings *set,
		 const struct runner_env *env)
{
	struct runner_env env_base = *env, env_work = *env;
	struct daemon_paths dp_base = {.boxd = set->base_boxd, .dir = set->dir};
	struct daemon_paths dp_work = {.boxd = set->work_boxd, .dir = set->dir};
	struct daemon dbase = {0}, dwork = {0};
	struct variant vs[_C_MAX];
	struct cell cs[4];
	size_t nc = 0;

	env_base.boxctl = set->base_boxctl;
	env_work.boxctl = set->work_boxctl;
	if (daemon_start(&dp_base, "base", set->pool_size, &dbase) < 0 ||
	    daemon_start(&dp_work, "work", set->pool_size, &dwork) < 0) {
		fprintf(stderr,
			"boxd-bench: cannot start the daemons (logs "
			"in %s)\n",
			set->dir);
		daemon_stop(&dbase);
		return 1;
	}
	vs[C_SPAWN] = (struct variant){.name = "posix_spawn + waitpid (floor)",
				       .kind = RUN_SPAWN};
	vs[C_BWRAP] = (struct variant){.name = "bwrap --unshare-all",
				       .kind = RUN_BWRAP,
				       .skip = !env->bwrap};
	vs[C_POOL_BASE] = (struct variant){.name = "base: pool, one connection",
					   .kind = RUN_BOXD_CONN,
					   .sock = dbase.sock};
	vs[C_POOL_WORK] = (struct variant){.name = "work: pool, one connection",
					   .kind = RUN_BOXD_CONN,
					   .sock = dwork.sock};
	vs[C_CONNECT_BASE] =
	    (struct variant){.name = "base: pool, connect per run",
			     .kind = RUN_BOXD_CONNECT,
			     .sock = dbase.sock};
	vs[C_CONNECT_WORK] =
	    (struct variant){.name = "work: pool, connect per run",
			     .kind = RUN_BOXD_CONNECT,
			     .sock = dwork.sock};
	vs[C_BOXCTL_BASE] = (struct variant){.name = "base: `boxctl run`",
					     .kind = RUN_BOXCTL,
					     .sock = dbase.sock};
	vs[C_BOXCTL_WORK] = (struct variant){.name = "work: `boxctl run`",
					     .kind = RUN_BOXCTL,
					     .sock = dwork.sock};
	for (size_t i = 0; i < _C_MAX; i++) {
		const struct runner_env *e = env;

		if (i == C_BOXCTL_BASE)
			e = &env_base;
		else if (i == C_BOXCTL_WORK)
			e = &env_work;
		if (!vs[i].skip &&
		    runner_open(&vs[i].r, vs[i].kind, e, vs[i].sock) < 0) {
			fprintf(stderr, "boxd-bench: cannot set up %s\n",
				vs[i].name);
			vs[i].skip = true;
		}
	}
	print_machine(&dwork, env->bwrap, env->bwrap_argv);
	printf("- base: `%s` (%s)\n- work: `%s` (%s)\n", set->base_label,
	       set->base_boxd, set->work_label, set->work_boxd);
	fflush(stdout);

	bench_latency_rounds(vs, _C_MAX, set->rounds, set->batch);

	cs[nc++] =
	    (struct cell){.name = "posix_spawn", .kind = RUN_SPAWN, .conc = 4};
	if (env->bwrap)
		cs[nc++] = (struct cell){
		    .name = "bwrap", .kind = RUN_BWRAP, .conc = 4};
	cs[nc++] = (struct cell){.name = "base: boxd, pool on",
				 .kind = RUN_BOXD_CONN,
				 .sock = dbase.sock,
				 .conc = 4};
	cs[nc++] = (struct cell){.name = "work: boxd, pool on",
				 .kind = RUN_BOXD_CONN,
				 .sock = dwork.sock,
				 .conc = 4};
	bench_throughput_slices(cs, nc, env, set->duration, set->slices);

	print_compare_latency(vs, set->base_label, set->work_label, set->rounds,
			      set->batch);
	print_throughput(cs, nc, set->duration);
	{
		char r[32];
		double b = cell_rate(&cs[nc - 2]), w = cell_rate(&cs[nc - 1]);

		ratio(r, sizeof(r), w, b);
		printf("\nwork / base runs/s with 4 clients: %s\n", r);
	}
	/* Memory at rest, once both pools have refilled. */
	daemon_wait_pool_full(&dbase, 5000);
	daemon_wait_pool_full(&dwork, 5000);
	printf("\n## Memory at rest after the runs (pool of %d)\n\n",
	       set->pool_size);
	printf("| daemon | VmRSS | Pss | children | largest child VmRSS |\n"
	       "|---|---:|---:|---:|---:|\n");
	print_compare_memory("base", &dbase);
	print_compare_memory("work", &dwork);

	for (size_t i = 0; i < _C_MAX; i++) {
		runner_close(&vs[i].r);
		samples_free(&vs[i].s);
	}
	for (size_t i = 0; i < nc; i++)
		samples_free(&cs[i].s);
	daemon_stop(&dbase);
	daemon_stop(&dwork);
	printf("\n- cgroup directories left behind after SIGTERM: base %u, "
	       "work %u\n",
	       dbase.cgroups_left, dwork.cgroups_left);
	return 0;
}
