/*
 * How the compared variants take turns, for a report and for --compare:
 * latency in rounds (each a batch of every variant, in an order of the
 * round's own), throughput in slices (each cell's clients busy for a
 * share of the duration, the cells one after the other, in an order of
 * the slice's own). Both stop early
 * once bench_interrupted is set.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "util.h"

/* ---- latency ---- */

void bench_pause_ms(unsigned ms)
{
	struct timespec t = {
	    .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&t, &t) < 0 && errno == EINTR && !bench_interrupted)
		;
}

static void run_batch(struct variant *v, unsigned n, bool record)
{
	for (unsigned i = 0; i < n && !bench_interrupted; i++) {
		uint64_t t0 = now_ns();
		int r = runner_once(&v->r);

		if (r == 0 && record)
			samples_add(&v->s, now_ns() - t0);
		if (v->gap_ms)
			bench_pause_ms(v->gap_ms);
	}
}

/* A fixed-seed shuffle of 0..n-1 (xorshift64): the same orders every
 * run, none favoured. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j, t;

		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		j = (size_t)(*state % i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

/*
 * Each round runs every variant once, in an order of its own. A variant
 * feels the one before it (a daemon still refilling its pool after its
 * batch takes CPU from the next batch), so a fixed order would put the
 * same neighbour's cost on the same variant every round: with --compare,
 * always on one of the two daemons.
 */
void bench_latency_rounds(struct variant *vs, size_t nv, unsigned rounds,
			  unsigned batch)
{
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	size_t order[64];

	if (nv > 64)
		nv = 64;
	for (size_t i = 0; i < nv; i++)
		if (!vs[i].skip)
			run_batch(&vs[i], batch / 4 + 1, false);
	for (unsigned round = 0; round < rounds && !bench_interrupted;
	     round++) {
		shuffle(order, nv, &state);
		for (size_t k = 0; k < nv; k++) {
			struct variant *v = &vs[order[k]];

			if (!v->skip)
				run_batch(v, batch, true);
		}
		fprintf(stderr, "\rlatency: round %u/%u", round + 1, rounds);
	}
	fprintf(stderr, "\n");
}
/* ---- throughput ---- */

struct worker {
	struct cell *c;
	const struct runner_env *env;
	pthread_barrier_t *go;
	uint64_t slice_ns;
	uint64_t t_begin, t_end, runs;
	struct samples s;
	struct runner r;
	int open_err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t deadline;

	w->open_err = runner_open(&w->r, w->c->kind, w->env, w->c->sock);
	pthread_barrier_wait(w->go);
	if (w->open_err < 0)
		return NULL;
	w->t_begin = now_ns();
	deadline = w->t_begin + w->slice_ns;
	/* A run started before the deadline counts, however late it ends. */
	while (now_ns() < deadline && !bench_interrupted) {
		uint64_t t0 = now_ns();

		if (runner_once(&w->r) < 0)
			continue;
		samples_add(&w->s, now_ns() - t0);
		w->runs++;
	}
	w->t_end = now_ns();
	runner_close(&w->r);
	return NULL;
}

static void run_cell(struct cell *c, const struct runner_env *env,
		     double seconds)
{
	struct worker ws[64];
	pthread_t th[64];
	pthread_barrier_t go;
	uint64_t begin = UINT64_MAX, end = 0;
	unsigned n = c->conc > 64 ? 64 : c->conc;

	pthread_barrier_init(&go, NULL, n);
	for (unsigned i = 0; i < n; i++) {
		ws[i] = (struct worker){
		    .c = c,
		    .env = env,
		    .go = &go,
		    .slice_ns = (uint64_t)(seconds * 1e9),
		};
		pthread_create(&th[i], NULL, worker_main, &ws[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (ws[i].open_err < 0) {
			c->failures++;
			snprintf(c->errmsg, sizeof(c->errmsg), "open: %s",
				 strerror(-ws[i].open_err));
			continue;
		}
		if (ws[i].t_begin < begin)
			begin = ws[i].t_begin;
		if (ws[i].t_end > end)
			end = ws[i].t_end;
		c->runs += ws[i].runs;
		for (size_t j = 0; j < ws[i].s.n; j++)
			samples_add(&c->s, ws[i].s.ns[j]);
		samples_free(&ws[i].s);
		if (ws[i].r.failures && !c->failures)
			snprintf(c->errmsg, sizeof(c->errmsg), "%s",
				 ws[i].r.errmsg);
		c->failures += ws[i].r.failures;
	}
	if (end > begin)
		c->elapsed_ns += end - begin;
	pthread_barrier_destroy(&go);
}

/* Each slice runs every cell once, in an order of its own, for the same
 * reason as the latency rounds: a fixed order would always put one
 * daemon's cell after the other's, while that one still refills. */
void bench_throughput_slices(struct cell *cs, size_t nc,
			     const struct runner_env *env, double duration,
			     unsigned slices)
{
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	size_t order[64];

	if (nc > 64)
		nc = 64;
	for (unsigned sl = 0; sl < slices && nc && !bench_interrupted; sl++) {
		shuffle(order, nc, &state);
		for (size_t k = 0; k < nc && !bench_interrupted; k++)
			run_cell(&cs[order[k]], env, duration / slices);
		fprintf(stderr, "\rthroughput: slice %u/%u", sl + 1, slices);
	}
	fprintf(stderr, "\n");
}
