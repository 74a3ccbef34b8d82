/*
 * Sample sets: wall times in nanoseconds, percentiles by sorting. Sorting
 * reorders the samples; nothing depends on their order afterwards.
 */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

int samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *v = realloc(s->ns, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->ns = v;
		s->cap = cap;
	}
	s->ns[s->n++] = ns;
	s->sum_ns += ns;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->ns);
	*s = (struct samples){0};
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double samples_pct(struct samples *s, double p)
{
	double rank, frac;
	size_t lo;

	if (!s->n)
		return 0;
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	rank = p / 100.0 * (double)(s->n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= s->n)
		return (double)s->ns[s->n - 1];
	frac = rank - (double)lo;
	return (double)s->ns[lo] +
	       frac * ((double)s->ns[lo + 1] - (double)s->ns[lo]);
}

double samples_mean(const struct samples *s)
{
	return s->n ? (double)s->sum_ns / (double)s->n : 0;
}
