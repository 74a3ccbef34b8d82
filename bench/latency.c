/*
 * boxd-bench: the wall latency, throughput and memory of running
 * /bin/true through boxd, next to a plain posix_spawn (the floor) and to
 * bwrap with equivalent mounts, all measured in one run of this program
 * and printed as a Markdown report (bench/README.md explains it).
 *
 * Latency variants run in rounds, throughput cells in slices (rounds.c),
 * so that drift of a noisy machine (other jobs, CPU frequency, page
 * cache) lands on every variant alike instead of on whichever happened
 * to run last.
 *
 * It starts its own daemons on private sockets in a temporary directory
 * and stops them; it never talks to a system daemon. It measures, it does
 * not judge: the verdict column compares with BLUEPRINT §8 for the
 * reader, and nothing here fails on a timing.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

struct settings {
	unsigned rounds, batch; /* latency: rounds x batch per variant */
	double duration;        /* throughput: seconds per cell */
	unsigned slices;        /* throughput cells alternate this often */
	unsigned growth_runs;   /* memory: runs on a fresh daemon */
	unsigned phase_runs;    /* event timing runs per daemon */
	int pool_size;
	const char *boxd, *boxctl, *bwrap;
	const char *hammer_sock; /* --hammer: load an existing daemon */
	unsigned hammer_runs, hammer_conc;
	bool hammer_connect;
	unsigned hammer_gap_ms; /* pause after each run (0: none) */
	bool hammer_floor;      /* --hammer floor: posix_spawn instead */
	bool memory_only;       /* --memory-only: skip the timings */
	/* --compare-boxd: a second build, measured against --boxd */
	const char *cmp_boxd, *cmp_boxctl, *cmp_label, *label;
};

static const struct settings quick = {
    .rounds = 10,
    .batch = 20,
    .duration = 2,
    .slices = 2,
    .growth_runs = 3000,
    .phase_runs = 200,
    .pool_size = 8,
};
static const struct settings full = {
    .rounds = 25,
    .batch = 40,
    .duration = 10,
    .slices = 5,
    .growth_runs = 20000,
    .phase_runs = 1000,
    .pool_size = 8,
};

volatile sig_atomic_t bench_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

/* ------------------------------------------------------------ memory */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void measure_members(const struct daemon *d, struct memory_report *m)
{
	pid_t kids[256];
	uint64_t rss[256], pss[256];
	size_t n = proc_children(d->pid, kids, ELEMENTSOF(kids)), k = 0;
	box_status *st = NULL;

	for (size_t i = 0; i < n; i++) {
		struct proc_mem pm;

		if (proc_mem_read(kids[i], &pm) < 0)
			continue;
		rss[k] = pm.rss_kb;
		pss[k] = pm.pss_kb;
		k++;
	}
	m->n_members = (unsigned)k;
	if (k) {
		qsort(rss, k, sizeof(*rss), cmp_u64);
		qsort(pss, k, sizeof(*pss), cmp_u64);
		m->member_rss_med_kb = rss[k / 2];
		m->member_rss_max_kb = rss[k - 1];
		m->member_pss_med_kb = pss[k / 2];
	}
	m->member_rss_self_kb = -1;
	if (daemon_status(d, &st) >= 0) {
		int64_t b = box_status_pool_member_rss_bytes(st);

		m->member_rss_self_kb = b >= 0 ? b / 1024 : -1;
		box_status_free(st);
	}
}

/*
 * The daemon at rest after runs: its pool refilled, nothing running, and
 * what ended runs leave to later (closed sessions freed on a later loop
 * turn, cgroups removed by a thread) done: the same number of open fds
 * twice 50 ms apart, for 2 s at most. A reading in the middle of that
 * would count a few fds that are on their way out as growth.
 */
static void measure_point(const struct daemon *d, unsigned runs,
			  struct memory_report *m)
{
	struct growth_point *p = &m->pts[m->n_pts];
	unsigned before;

	daemon_wait_pool_full(d, 5000);
	p->runs = runs;
	if (proc_mem_read(d->pid, &p->mem) < 0)
		return;
	for (int i = 0; i < 40; i++) {
		before = p->mem.fds;
		usleep(50000);
		if (proc_mem_read(d->pid, &p->mem) < 0)
			return;
		if (p->mem.fds == before)
			break;
	}
	if (m->n_pts + 1 < ELEMENTSOF(m->pts))
		m->n_pts++;
}

static void memory_phase(const struct daemon_paths *dp,
			 const struct runner_env *env,
			 const struct settings *set, struct memory_report *m)
{
	struct daemon d;
	unsigned done = 0, next;
	unsigned marks[6];
	size_t n_marks = 0;

	*m = (struct memory_report){0};
	if (daemon_start(dp, "memory", set->pool_size, &d) < 0)
		return;
	/* Let the freshly filled pool settle before reading anything. */
	usleep(200000);
	proc_mem_read(d.pid, &m->idle);
	measure_members(&d, m);
	measure_point(&d, 0, m);

	marks[n_marks++] = set->growth_runs < 1000 ? set->growth_runs : 1000;
	for (unsigned i = 1; i <= 4; i++) {
		unsigned v = set->growth_runs / 4 * i;

		if (v > marks[n_marks - 1])
			marks[n_marks++] = v;
	}
	if (marks[n_marks - 1] < set->growth_runs)
		marks[n_marks++] = set->growth_runs;

	for (size_t i = 0; i < n_marks && !bench_interrupted; i++) {
		/* Four connections, each its share of the runs back to back. */
		struct cell c = {
		    .kind = RUN_BOXD_CONN, .sock = d.sock, .conc = 4};

		next = marks[i];
		while (done < next && !bench_interrupted) {
			struct runner rs[4];
			unsigned todo = next - done;

			for (unsigned k = 0; k < 4; k++)
				if (runner_open(&rs[k], c.kind, env, d.sock) <
				    0)
					goto out;
			/* Round-robin over the connections in one thread:
			 * the count is exact and the daemon still sees four
			 * clients. */
			for (unsigned j = 0; j < todo && !bench_interrupted;
			     j++) {
				runner_once(&rs[j % 4]);
				done++;
			}
			for (unsigned k = 0; k < 4; k++) {
				if (rs[k].failures && !m->failures)
					snprintf(m->errmsg, sizeof(m->errmsg),
						 "%s", rs[k].errmsg);
				m->failures += rs[k].failures;
				runner_close(&rs[k]);
			}
		}
		measure_point(&d, done, m);
		fprintf(stderr, "\rmemory: %u/%u runs", done, set->growth_runs);
	}
	fprintf(stderr, "\n");
	m->ok = true;
out:
	daemon_stop(&d);
	m->cgroups_left = d.cgroups_left;
}
/* ------------------------------------------------------------ phases */

static void phase_runs(const struct daemon *d, const struct runner_env *env,
		       unsigned n, struct phase_report *p)
{
	struct runner r;

	*p = (struct phase_report){0};
	if (runner_open(&r, RUN_BOXD_CONN, env, d->sock) < 0)
		return;
	for (unsigned i = 0; i < n && !bench_interrupted; i++) {
		struct run_phases ph;

		if (runner_once_phased(&r, &ph) < 0)
			continue;
		samples_add(&p->to_accepted, ph.t_accepted - ph.t_send);
		samples_add(&p->to_started, ph.t_started - ph.t_accepted);
		samples_add(&p->to_finished, ph.t_finished - ph.t_started);
		samples_add(&p->total, ph.t_finished - ph.t_send);
		samples_add(&p->daemon_wall, ph.daemon_wall_ns);
	}
	p->failures = r.failures;
	runner_close(&r);
}

/* ------------------------------------------------------------ hammer */

/* Load an existing daemon (for perf and strace, see bench/profile.sh):
 * --runs runs split over --concurrency threads, one connection each. */
struct hammer_thread {
	struct runner r;
	unsigned runs, gap_ms;
	struct samples s;
	int open_err;
};

static void *hammer_main(void *arg)
{
	struct hammer_thread *h = arg;

	for (unsigned j = 0; j < h->runs && !bench_interrupted; j++) {
		uint64_t t = now_ns();

		if (runner_once(&h->r) == 0)
			samples_add(&h->s, now_ns() - t);
		if (h->gap_ms)
			bench_pause_ms(h->gap_ms);
	}
	return NULL;
}

static int hammer(const struct settings *set, const struct runner_env *env)
{
	enum runner_kind kind = set->hammer_floor     ? RUN_SPAWN
				: set->hammer_connect ? RUN_BOXD_CONNECT
						      : RUN_BOXD_CONN;
	unsigned n = set->hammer_conc > 64 ? 64 : set->hammer_conc;
	struct hammer_thread hs[64];
	pthread_t th[64];
	struct samples all = {0};
	unsigned failures = 0;
	uint64_t t0, elapsed;
	char a[32], b[32];

	for (unsigned i = 0; i < n; i++) {
		hs[i] = (struct hammer_thread){
		    .runs = set->hammer_runs / n + (i < set->hammer_runs % n),
		    .gap_ms = set->hammer_gap_ms,
		};
		if (runner_open(&hs[i].r, kind, env,
				set->hammer_floor ? NULL : set->hammer_sock) <
		    0) {
			fprintf(stderr, "boxd-bench: cannot connect to %s\n",
				set->hammer_sock);
			return 1;
		}
	}
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		pthread_create(&th[i], NULL, hammer_main, &hs[i]);
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	elapsed = now_ns() - t0;
	for (unsigned i = 0; i < n; i++) {
		for (size_t j = 0; j < hs[i].s.n; j++)
			samples_add(&all, hs[i].s.ns[j]);
		samples_free(&hs[i].s);
		failures += hs[i].r.failures;
		if (hs[i].r.failures)
			fprintf(stderr, "failure: %s\n", hs[i].r.errmsg);
		runner_close(&hs[i].r);
	}
	fmt_ms(a, sizeof(a), samples_pct(&all, 50));
	fmt_ms(b, sizeof(b), samples_pct(&all, 99));
	printf("%zu runs, %u failures, median %s, p99 %s, %.0f runs/s\n", all.n,
	       failures, a, b, (double)all.n * 1e9 / (double)elapsed);
	samples_free(&all);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------ options */

static void usage(FILE *f)
{
	fputs("Usage: boxd-bench [--quick|--full] [OPTIONS]\n"
	      "       boxd-bench --hammer SOCKET [--runs N] [--concurrency N]"
	      " [--connect-per-run] [--gap-ms MS]\n"
	      "\n"
	      "Time /bin/true through boxd against posix_spawn and bwrap;\n"
	      "print a Markdown report on stdout, progress on stderr.\n"
	      "Must run as root (it starts private boxd daemons).\n"
	      "\n"
	      "  --quick            about a minute (default: --full, a few)\n"
	      "  --full             the committed numbers' settings\n"
	      "  --rounds N         latency rounds\n"
	      "  --batch N          runs of each variant per round\n"
	      "  --duration SEC     throughput seconds per cell\n"
	      "  --growth-runs N    runs on the memory daemon\n"
	      "  --phase-runs N     event-timed runs per daemon\n"
	      "  --memory-only      only the memory phase (e.g. with\n"
	      "                     --growth-runs 100000)\n"
	      "  --pool-size N      pool of the pooled daemons (default 8)\n"
	      "  --boxd PATH        daemon binary (default: ../daemon/boxd\n"
	      "                     next to this program)\n"
	      "  --boxctl PATH      CLI binary (default: ../client/boxctl/)\n"
	      "  --bwrap PATH       bwrap (default /usr/bin/bwrap; '' skips)\n"
	      "  --hammer SOCKET    only load the daemon at SOCKET: --runs\n"
	      "                     runs of /bin/true (default 2000) over\n"
	      "                     --concurrency connections (default 1);\n"
	      "                     SOCKET 'floor': posix_spawn instead\n"
	      "  --gap-ms MS        with --hammer: pause after each run, so\n"
	      "                     that the next starts on a quiet machine\n"
	      "                     (the previous run's teardown and the\n"
	      "                     pool's refill done)\n"
	      "  --compare-boxd PATH    a base build's daemon: run it and\n"
	      "                     --boxd in the same rounds, report ratios\n"
	      "  --compare-boxctl PATH  the base build's boxctl\n"
	      "  --compare-label TEXT   what the base is (e.g. a commit)\n"
	      "  --label TEXT       what --boxd is (default: work tree)\n",
	      f);
}

static char *sibling(const char *rel)
{
	char self[PATH_MAX], *slash, *out;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	if (asprintf(&out, "%s/%s", self, rel) < 0)
		return NULL;
	return out;
}

static unsigned arg_uint(const char *opt, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v == 0 || v > 100000000UL) {
		fprintf(stderr, "boxd-bench: %s: a positive number\n", opt);
		exit(2);
	}
	return (unsigned)v;
}

static void parse_options(int argc, char **argv, struct settings *set)
{
	enum {
		O_QUICK = 256,
		O_FULL,
		O_ROUNDS,
		O_BATCH,
		O_DURATION,
		O_GROWTH,
		O_PHASE,
		O_POOL,
		O_BOXD,
		O_BOXCTL,
		O_BWRAP,
		O_HAMMER,
		O_RUNS,
		O_CONC,
		O_CONNECT,
		O_GAP,
		O_MEMORY_ONLY,
		O_CMP_BOXD,
		O_CMP_BOXCTL,
		O_CMP_LABEL,
		O_LABEL,
	};
	static const struct option longopts[] = {
	    {"quick", no_argument, NULL, O_QUICK},
	    {"full", no_argument, NULL, O_FULL},
	    {"rounds", required_argument, NULL, O_ROUNDS},
	    {"batch", required_argument, NULL, O_BATCH},
	    {"duration", required_argument, NULL, O_DURATION},
	    {"growth-runs", required_argument, NULL, O_GROWTH},
	    {"phase-runs", required_argument, NULL, O_PHASE},
	    {"pool-size", required_argument, NULL, O_POOL},
	    {"boxd", required_argument, NULL, O_BOXD},
	    {"boxctl", required_argument, NULL, O_BOXCTL},
	    {"bwrap", required_argument, NULL, O_BWRAP},
	    {"hammer", required_argument, NULL, O_HAMMER},
	    {"runs", required_argument, NULL, O_RUNS},
	    {"concurrency", required_argument, NULL, O_CONC},
	    {"connect-per-run", no_argument, NULL, O_CONNECT},
	    {"gap-ms", required_argument, NULL, O_GAP},
	    {"memory-only", no_argument, NULL, O_MEMORY_ONLY},
	    {"compare-boxd", required_argument, NULL, O_CMP_BOXD},
	    {"compare-boxctl", required_argument, NULL, O_CMP_BOXCTL},
	    {"compare-label", required_argument, NULL, O_CMP_LABEL},
	    {"label", required_argument, NULL, O_LABEL},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct settings over = {0};
	bool is_quick = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_QUICK:
			is_quick = true;
			break;
		case O_FULL:
			is_quick = false;
			break;
		case O_ROUNDS:
			over.rounds = arg_uint("--rounds", optarg);
			break;
		case O_BATCH:
			over.batch = arg_uint("--batch", optarg);
			break;
		case O_DURATION:
			over.duration = arg_uint("--duration", optarg);
			break;
		case O_GROWTH:
			over.growth_runs = arg_uint("--growth-runs", optarg);
			break;
		case O_PHASE:
			over.phase_runs = arg_uint("--phase-runs", optarg);
			break;
		case O_POOL:
			over.pool_size = (int)arg_uint("--pool-size", optarg);
			break;
		case O_BOXD:
			over.boxd = optarg;
			break;
		case O_BOXCTL:
			over.boxctl = optarg;
			break;
		case O_BWRAP:
			over.bwrap = optarg;
			break;
		case O_HAMMER:
			over.hammer_sock = optarg;
			break;
		case O_RUNS:
			over.hammer_runs = arg_uint("--runs", optarg);
			break;
		case O_CONC:
			over.hammer_conc = arg_uint("--concurrency", optarg);
			break;
		case O_CONNECT:
			over.hammer_connect = true;
			break;
		case O_GAP:
			over.hammer_gap_ms = arg_uint("--gap-ms", optarg);
			break;
		case O_MEMORY_ONLY:
			over.memory_only = true;
			break;
		case O_CMP_BOXD:
			over.cmp_boxd = optarg;
			break;
		case O_CMP_BOXCTL:
			over.cmp_boxctl = optarg;
			break;
		case O_CMP_LABEL:
			over.cmp_label = optarg;
			break;
		case O_LABEL:
			over.label = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	*set = is_quick ? quick : full;
#define OVER(f)                          \
	do {                             \
		if (over.f)              \
			set->f = over.f; \
	} while (0)
	OVER(rounds);
	OVER(batch);
	OVER(duration);
	OVER(growth_runs);
	OVER(phase_runs);
	OVER(pool_size);
	OVER(boxd);
	OVER(boxctl);
	OVER(bwrap);
	OVER(hammer_sock);
	OVER(hammer_connect);
	OVER(hammer_gap_ms);
	OVER(memory_only);
	OVER(cmp_boxd);
	OVER(cmp_boxctl);
	OVER(cmp_label);
	OVER(label);
#undef OVER
	if (set->hammer_sock && strcmp(set->hammer_sock, "floor") == 0)
		set->hammer_floor = true;
	set->hammer_runs = over.hammer_runs ? over.hammer_runs : 2000;
	set->hammer_conc = over.hammer_conc ? over.hammer_conc : 1;
	if (!set->boxd)
		set->boxd = sibling("../daemon/boxd");
	if (!set->boxctl)
		set->boxctl = sibling("../client/boxctl/boxctl");
	if (!set->bwrap)
		set->bwrap = "/usr/bin/bwrap";
	if (!set->bwrap[0] || access(set->bwrap, X_OK) < 0)
		set->bwrap = NULL;
}

/* ------------------------------------------------------------ main */

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct settings set;
	struct daemon_paths dp;
	struct daemon dpool = {0}, dnopool = {0};
	struct runner_env env = {0};
	char dir[] = "/tmp/boxd-bench.XXXXXX";
	struct variant vs[_V_MAX];
	struct cell cs[6];
	size_t nc = 0;
	struct memory_report mem;
	struct phase_report ph_pool, ph_nopool;
	box_status *st = NULL;
	struct sigaction sa = {.sa_handler = on_signal};

	parse_options(argc, argv, &set);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	env.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	env.boxctl = set.boxctl;
	env.bwrap = set.bwrap;
	if (set.bwrap)
		env.bwrap_argv = bwrap_argv_new(set.bwrap);
	if (env.devnull < 0) {
		perror("boxd-bench: /dev/null");
		return 1;
	}
	if (set.hammer_sock)
		return hammer(&set, &env);

	if (geteuid() != 0) {
		fprintf(stderr, "boxd-bench: run as root: it starts private "
				"boxd daemons\n");
		return 1;
	}
	if (!set.boxd || access(set.boxd, X_OK) < 0 || !set.boxctl ||
	    access(set.boxctl, X_OK) < 0) {
		fprintf(stderr, "boxd-bench: boxd or boxctl not found; give "
				"--boxd and --boxctl\n");
		return 1;
	}
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0) {
		perror("boxd-bench: mkdtemp");
		return 1;
	}
	if (set.cmp_boxd) {
		struct compare_settings cs_set = {
		    .rounds = set.rounds,
		    .batch = set.batch,
		    .duration = set.duration,
		    .slices = set.slices,
		    .pool_size = set.pool_size,
		    .dir = dir,
		    .base_boxd = set.cmp_boxd,
		    .base_boxctl = set.cmp_boxctl ? set.cmp_boxctl : set.boxctl,
		    .base_label = set.cmp_label ? set.cmp_label : "base",
		    .work_boxd = set.boxd,
		    .work_boxctl = set.boxctl,
		    .work_label = set.label ? set.label : "work tree",
		};
		int r = compare_main(&cs_set, &env);

		if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
			fprintf(stderr, "boxd-bench: could not remove %s\n",
				dir);
		return r;
	}
	dp = (struct daemon_paths){.boxd = set.boxd, .dir = dir};
	if (daemon_start(&dp, "pool", set.pool_size, &dpool) < 0 ||
	    daemon_start(&dp, "nopool", 0, &dnopool) < 0) {
		fprintf(stderr,
			"boxd-bench: cannot start the daemons (logs "
			"in %s)\n",
			dir);
		daemon_stop(&dpool);
		return 1;
	}

	vs[V_SPAWN] = (struct variant){
	    .name = "posix_spawn + waitpid (floor; = `/bin/true` as a "
		    "process)",
	    .kind = RUN_SPAWN};
	vs[V_BWRAP] = (struct variant){
	    .name = "bwrap --unshare-all, default-profile mounts",
	    .kind = RUN_BWRAP,
	    .skip = !set.bwrap};
	vs[V_POOL_CONN] =
	    (struct variant){.name = "boxd pool on, one connection",
			     .kind = RUN_BOXD_CONN,
			     .sock = dpool.sock};
	vs[V_POOL_CONNECT] =
	    (struct variant){.name = "boxd pool on, connect per run",
			     .kind = RUN_BOXD_CONNECT,
			     .sock = dpool.sock};
	vs[V_NOPOOL_CONN] =
	    (struct variant){.name = "boxd pool off, one connection",
			     .kind = RUN_BOXD_CONN,
			     .sock = dnopool.sock};
	vs[V_NOPOOL_CONNECT] =
	    (struct variant){.name = "boxd pool off, connect per run",
			     .kind = RUN_BOXD_CONNECT,
			     .sock = dnopool.sock};
	vs[V_BOXCTL] = (struct variant){
	    .name = "`boxctl run -- /bin/true` as a process (pool on)",
	    .kind = RUN_BOXCTL,
	    .sock = dpool.sock};
	vs[V_SPAWN_SPACED] =
	    (struct variant){.name = "spaced: posix_spawn + waitpid",
			     .kind = RUN_SPAWN,
			     .gap_ms = SPACED_GAP_MS};
	vs[V_POOL_SPACED] =
	    (struct variant){.name = "spaced: boxd pool on, one connection",
			     .kind = RUN_BOXD_CONN,
			     .sock = dpool.sock,
			     .gap_ms = SPACED_GAP_MS};
	for (size_t i = 0; i < _V_MAX; i++)
		if (!vs[i].skip &&
		    runner_open(&vs[i].r, vs[i].kind, &env, vs[i].sock) < 0) {
			fprintf(stderr, "boxd-bench: cannot set up %s\n",
				vs[i].name);
			vs[i].skip = true;
		}

	print_machine(&dpool, set.bwrap, env.bwrap_argv);
	fflush(stdout);

	if (!set.memory_only)
		bench_latency_rounds(vs, _V_MAX, set.rounds, set.batch);

	/* Throughput: alternate the cells in slices too. */
	for (unsigned conc = 1; conc <= 4 && !set.memory_only; conc += 3) {
		cs[nc++] = (struct cell){
		    .name = "posix_spawn", .kind = RUN_SPAWN, .conc = conc};
		if (set.bwrap)
			cs[nc++] = (struct cell){
			    .name = "bwrap", .kind = RUN_BWRAP, .conc = conc};
		cs[nc++] = (struct cell){.name = "boxd, pool on",
					 .kind = RUN_BOXD_CONN,
					 .sock = dpool.sock,
					 .conc = conc};
	}
	bench_throughput_slices(cs, nc, &env, set.duration, set.slices);

	phase_runs(&dpool, &env, set.memory_only ? 0 : set.phase_runs,
		   &ph_pool);
	phase_runs(&dnopool, &env, set.memory_only ? 0 : set.phase_runs,
		   &ph_nopool);

	if (!set.memory_only && daemon_status(&dpool, &st) >= 0) {
		printf("- pool daemon after the runs: %lld pool hits, %lld "
		       "misses, %lld refill failures\n",
		       (long long)box_status_pool_hits(st),
		       (long long)box_status_pool_misses(st),
		       (long long)box_status_pool_refill_failures(st));
		st = box_status_free(st);
	}
	for (size_t i = 0; i < _V_MAX; i++)
		runner_close(&vs[i].r);
	daemon_stop(&dpool);
	daemon_stop(&dnopool);

	if (!bench_interrupted)
		memory_phase(&dp, &env, &set, &mem);
	else
		mem = (struct memory_report){0};
	printf("- cgroup directories the daemons left behind after SIGTERM "
	       "(removed by the benchmark): pool %u, no pool %u, memory %u\n",
	       dpool.cgroups_left, dnopool.cgroups_left, mem.cgroups_left);

	if (!set.memory_only) {
		print_latency(vs, set.rounds, set.batch);
		print_throughput(cs, nc, set.duration);
		print_phases(&ph_pool, &ph_nopool, set.phase_runs);
	}

	print_memory(&mem);
	print_targets(vs, cs, nc, &mem);
	if (bench_interrupted)
		printf("\n**Interrupted: partial results.**\n");

	for (size_t i = 0; i < _V_MAX; i++)
		samples_free(&vs[i].s);
	for (size_t i = 0; i < nc; i++)
		samples_free(&cs[i].s);
	/* The daemons removed their sockets; state dirs and logs go too. */
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "boxd-bench: could not remove %s\n", dir);
	return 0;
}
