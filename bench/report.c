/*
 * The Markdown report: tables of what the phases measured, and the
 * comparison with the bars of BLUEPRINT §8. Formatting only; every
 * figure comes from latency.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

void fmt_ms(char *buf, size_t len, double ns)
{
	if (ns <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f ms", ns / 1e6);
}

static void fmt_ratio(char *buf, size_t len, double a, double b)
{
	if (a <= 0 || b <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx", a / b);
}

static void fmt_kb(char *buf, size_t len, uint64_t kb)
{
	if (kb >= 10240)
		snprintf(buf, len, "%.1f MiB", (double)kb / 1024.0);
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)kb);
}

static const char *yes_no(bool ok)
{
	return ok ? "**met**" : "**not met**";
}

/* ------------------------------------------------------------ machine */

void print_machine(const struct daemon *d, const char *bwrap,
		   char *const *bwrap_argv)
{
	char model[256] = "unknown", line[512], debian[64] = "?", date[64];
	struct utsname u;
	box_status *st = NULL;
	const char *cgmode = "?";
	FILE *f;
	time_t now = time(NULL);

	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *p = strchr(line, ':');

			if (p) {
				snprintf(model, sizeof(model), "%s", p + 2);
				model[strcspn(model, "\n")] = 0;
			}
			break;
		}
	if (f)
		fclose(f);
	f = fopen("/etc/debian_version", "re");
	if (f && fgets(debian, sizeof(debian), f))
		debian[strcspn(debian, "\n")] = 0;
	if (f)
		fclose(f);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	if (daemon_status(d, &st) >= 0 && box_status_host(st))
		cgmode = box_host_cgroup_mode(box_status_host(st));

	printf("# boxd benchmark, %s\n\n", date);
	printf("- CPU: %s, %ld online cores, %.1f GiB memory\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN),
	       (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) /
		   (1024.0 * 1024 * 1024));
	printf("- kernel %s, Debian %s\n", u.release, debian);
	printf("- cgroups: boxd uses %s%s\n", cgmode ? cgmode : "none",
	       access("/sys/fs/cgroup/unified", F_OK) == 0
		   ? " (hybrid host: v1 controllers, cgroup2 at "
		     "/sys/fs/cgroup/unified)"
		   : "");
	if (st && box_status_host(st)) {
		const box_host_info *h = box_status_host(st);
		const char *const *ns = box_host_namespaces(h);

		printf("- sandbox: namespaces");
		for (size_t i = 0; ns[i]; i++)
			printf(" %s", ns[i]);
		printf("; seccomp %s; default profile, net none, memory 256M, "
		       "pids 64\n",
		       box_host_seccomp(h) == 1 ? "on" : "OFF");
	}
	printf("- bwrap: %s\n", bwrap ? bwrap
				      : "not found (bwrap rows "
					"skipped)");
	if (bwrap && bwrap_argv) {
		printf("- bwrap command: `");
		for (size_t i = 0; bwrap_argv[i]; i++)
			printf("%s%s", i ? " " : "", bwrap_argv[i]);
		printf("`\n");
	}
	print_probes();
	box_status_free(st);
}

double cell_rate(const struct cell *c)
{
	return c->elapsed_ns ? (double)c->runs * 1e9 / (double)c->elapsed_ns
			     : 0;
}

static void print_phase_row(const char *what, struct samples *pool,
			    struct samples *nopool)
{
	char a[32], b[32], c[32], d[32];

	fmt_ms(a, sizeof(a), samples_pct(pool, 50));
	fmt_ms(b, sizeof(b), samples_pct(pool, 99));
	fmt_ms(c, sizeof(c), samples_pct(nopool, 50));
	fmt_ms(d, sizeof(d), samples_pct(nopool, 99));
	printf("| %s | %s | %s | %s | %s |\n", what, a, b, c, d);
}

void print_phases(struct phase_report *pool, struct phase_report *nopool,
		  unsigned runs)
{
	printf("\n## Where a run's time goes, as the client sees it "
	       "(%u runs per daemon, one connection)\n\n",
	       runs);
	printf("| segment | pool on, median | p99 | pool off, median | p99 "
	       "|\n|---|---:|---:|---:|---:|\n");
	print_phase_row("request sent -> accepted (daemon: policy, cgroup, "
			"take or clone, id maps, spec hand-over)",
			&pool->to_accepted, &nopool->to_accepted);
	print_phase_row("accepted -> started (boxd-init: mounts, fork, "
			"exec of the command)",
			&pool->to_started, &nopool->to_started);
	print_phase_row("started -> result (command runs and exits; reap, "
			"cgroup stats and removal, result)",
			&pool->to_finished, &nopool->to_finished);
	print_phase_row("whole run", &pool->total, &nopool->total);
	print_phase_row("the result's own wall_ns (daemon: take to exit)",
			&pool->daemon_wall, &nopool->daemon_wall);
	if (pool->failures || nopool->failures)
		printf("\nfailed runs: %u with the pool, %u without\n",
		       pool->failures, nopool->failures);
}

void print_latency(struct variant *vs, unsigned rounds, unsigned batch)
{
	double floor = samples_pct(&vs[V_SPAWN].s, 50);
	double bwrap = samples_pct(&vs[V_BWRAP].s, 50);
	double spaced_floor = samples_pct(&vs[V_SPAWN_SPACED].s, 50);

	printf("\n## Latency of one `/bin/true` (sequential, %u rounds x %u "
	       "runs per variant)\n\n",
	       rounds, batch);
	printf("The spaced rows pause %u ms after each run, so that the "
	       "previous run's teardown and the pool's refill are over when "
	       "the next starts; their / floor is against the spaced "
	       "floor.\n\n",
	       SPACED_GAP_MS);
	printf("| variant | runs | median | p99 | runs/s | / floor | "
	       "/ bwrap |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < _V_MAX; i++) {
		struct variant *v = &vs[i];
		char med[32], p99[32], rf[32], rb[32];
		double m = samples_pct(&v->s, 50);
		bool spaced = i == V_SPAWN_SPACED || i == V_POOL_SPACED;
		bool is_boxd = i >= V_POOL_CONN && !spaced;
		bool is_floor = i == V_SPAWN || i == V_SPAWN_SPACED;

		if (v->skip) {
			printf("| %s | skipped | | | | | |\n", v->name);
			continue;
		}
		fmt_ms(med, sizeof(med), m);
		fmt_ms(p99, sizeof(p99), samples_pct(&v->s, 99));
		fmt_ratio(rf, sizeof(rf), m, spaced ? spaced_floor : floor);
		fmt_ratio(rb, sizeof(rb), m, bwrap);
		printf(
		    "| %s | %zu | %s | %s | %.0f | %s | %s |\n", v->name,
		    v->s.n, med, p99, v->s.n ? 1e9 / samples_mean(&v->s) : 0.0,
		    is_floor ? "1.00x" : rf, is_boxd || i == V_SPAWN ? rb : "");
	}
	for (size_t i = 0; i < _V_MAX; i++)
		if (vs[i].r.failures)
			printf("\n%s: %u failed runs (first: %s)\n", vs[i].name,
			       vs[i].r.failures, vs[i].r.errmsg);
}

void print_throughput(struct cell *cs, size_t nc, double duration)
{
	printf("\n## Throughput (back-to-back runs for %.0f s per row, "
	       "alternated with the other rows)\n\n",
	       duration);
	printf("| variant | clients | runs | runs/s | median | p99 | "
	       "/ spawn | / bwrap |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < nc; i++) {
		struct cell *c = &cs[i];
		const struct cell *spawn = NULL, *bwrap = NULL;
		char med[32], p99[32], rs[32], rb[32];

		for (size_t j = 0; j < nc; j++) {
			if (cs[j].conc != c->conc)
				continue;
			if (cs[j].kind == RUN_SPAWN)
				spawn = &cs[j];
			if (cs[j].kind == RUN_BWRAP)
				bwrap = &cs[j];
		}
		fmt_ms(med, sizeof(med), samples_pct(&c->s, 50));
		fmt_ms(p99, sizeof(p99), samples_pct(&c->s, 99));
		fmt_ratio(rs, sizeof(rs), cell_rate(c),
			  spawn ? cell_rate(spawn) : 0);
		fmt_ratio(rb, sizeof(rb), cell_rate(c),
			  bwrap ? cell_rate(bwrap) : 0);
		printf("| %s | %u | %llu | %.0f | %s | %s | %s | %s |\n",
		       c->name, c->conc, (unsigned long long)c->runs,
		       cell_rate(c), med, p99, rs, rb);
	}
	for (size_t i = 0; i < nc; i++)
		if (cs[i].failures)
			printf("\n%s x%u: %u failed runs (first: %s)\n",
			       cs[i].name, cs[i].conc, cs[i].failures,
			       cs[i].errmsg);
}

void print_memory(const struct memory_report *m)
{
	char a[32], b[32], c[32], d[32];

	printf("\n## Memory (a fresh daemon, pool of 8)\n\n");
	if (!m->ok && !m->n_pts) {
		printf("not measured: the daemon did not start\n");
		return;
	}
	fmt_kb(a, sizeof(a), m->idle.rss_kb);
	fmt_kb(b, sizeof(b), m->idle.pss_kb);
	printf("| measure | value |\n|---|---:|\n");
	printf("| daemon VmRSS, idle, pool full | %s |\n", a);
	printf("| daemon Pss, idle, pool full | %s |\n", b);
	fmt_kb(a, sizeof(a), m->member_rss_med_kb);
	fmt_kb(b, sizeof(b), m->member_rss_max_kb);
	fmt_kb(c, sizeof(c), m->member_pss_med_kb);
	if (m->member_rss_self_kb >= 0)
		fmt_kb(d, sizeof(d), (uint64_t)m->member_rss_self_kb);
	else
		snprintf(d, sizeof(d), "-");
	printf("| pool members found | %u |\n", m->n_members);
	printf("| pool member VmRSS, median / max | %s / %s |\n", a, b);
	printf("| pool member Pss, median | %s |\n", c);
	printf("| pool member RSS, daemon's own status | %s |\n", d);

	printf("\nDaemon after N runs (4 connections, round-robin; read "
	       "once the pool has refilled):\n\n");
	printf("| runs | VmRSS | VmHWM | Pss | open fds |\n"
	       "|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < m->n_pts; i++) {
		const struct proc_mem *pm = &m->pts[i].mem;

		fmt_kb(a, sizeof(a), pm->rss_kb);
		fmt_kb(b, sizeof(b), pm->hwm_kb);
		fmt_kb(c, sizeof(c), pm->pss_kb);
		printf("| %u | %s | %s | %s | %u |\n", m->pts[i].runs, a, b, c,
		       pm->fds);
	}
	if (m->failures)
		printf("\n%u failed runs (first: %s)\n", m->failures,
		       m->errmsg);
}

/* The rows of BLUEPRINT §8 this program measures. */
void print_targets(struct variant *vs, struct cell *cs, size_t nc,
		   const struct memory_report *m)
{
	double floor = samples_pct(&vs[V_SPAWN].s, 50);
	double bwrap = samples_pct(&vs[V_BWRAP].s, 50);
	double pool = samples_pct(&vs[V_POOL_CONN].s, 50);
	double boxctl = samples_pct(&vs[V_BOXCTL].s, 50);
	double spaced_floor = samples_pct(&vs[V_SPAWN_SPACED].s, 50);
	double spaced_pool = samples_pct(&vs[V_POOL_SPACED].s, 50);
	const struct cell *sp4 = NULL, *bx4 = NULL;
	char buf[128];

	for (size_t i = 0; i < nc; i++) {
		if (cs[i].conc != 4)
			continue;
		if (cs[i].kind == RUN_SPAWN)
			sp4 = &cs[i];
		if (cs[i].kind == RUN_BOXD_CONN)
			bx4 = &cs[i];
	}
	printf("\n## Against the bars (BLUEPRINT §8)\n\n");
	printf("| bar | target | measured | verdict |\n|---|---|---|---|\n");
	if (floor > 0 && pool > 0)
		printf("| libboxclient run, median / posix_spawn median | "
		       "<= 1.5x | %.2fx | %s |\n",
		       pool / floor, yes_no(pool / floor <= 1.5));
	if (spaced_floor > 0 && spaced_pool > 0)
		printf("| (not a bar) the same, runs %u ms apart | | %.2fx | "
		       "what is left once the machine is idle between runs |\n",
		       SPACED_GAP_MS, spaced_pool / spaced_floor);
	if (bwrap > 0 && pool > 0)
		printf("| bwrap median / libboxclient run median | >= 4x | "
		       "%.2fx | %s |\n",
		       bwrap / pool, yes_no(bwrap / pool >= 4));
	if (sp4 && bx4 && cell_rate(sp4) > 0)
		printf("| boxd runs/s / posix_spawn runs/s, 4 clients | "
		       ">= 0.8x | %.2fx | %s |\n",
		       cell_rate(bx4) / cell_rate(sp4),
		       yes_no(cell_rate(bx4) / cell_rate(sp4) >= 0.8));
	if (floor > 0 && boxctl > 0)
		printf("| `boxctl run -- /bin/true` / `/bin/true`, as "
		       "processes | <= 2x | %.2fx | %s |\n",
		       boxctl / floor, yes_no(boxctl / floor <= 2));
	if (m->n_pts) {
		fmt_kb(buf, sizeof(buf), m->idle.rss_kb);
		printf("| daemon RSS, idle, pool full | < 16 MiB | %s | %s |\n",
		       buf, yes_no(m->idle.rss_kb < 16 * 1024));
		fmt_kb(buf, sizeof(buf), m->member_rss_max_kb);
		printf("| RSS per pooled sandbox (max) | < 1 MiB | %s | %s |\n",
		       buf,
		       yes_no(m->n_members && m->member_rss_max_kb < 1024));
	}
	if (m->n_pts >= 3) {
		const struct growth_point *a = &m->pts[1],
					  *z = &m->pts[m->n_pts - 1];
		long d = (long)z->mem.rss_kb - (long)a->mem.rss_kb;
		/* The fd count at rest moves by one (a refill's socket in
		 * flight): growth is ending above both early readings. */
		unsigned fd0 = m->pts[0].mem.fds > a->mem.fds
				   ? m->pts[0].mem.fds
				   : a->mem.fds;

		snprintf(buf, sizeof(buf),
			 "RSS %+ld KiB from %u to %u runs; open fds %u idle, "
			 "%u at %u runs, %u at the end",
			 d, a->runs, z->runs, m->pts[0].mem.fds, a->mem.fds,
			 a->runs, z->mem.fds);
		/* A page or two of allocator slack is not growth. */
		printf("| daemon memory bounded over runs | no growth | %s | "
		       "%s |\n",
		       buf,
		       d <= 64 && z->mem.fds <= fd0
			   ? "**met** (over this many runs)"
			   : "**not met**");
	}
}
