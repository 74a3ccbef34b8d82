/*
 * Per-uid counters (uidcount.h): a fixed array of hash buckets with short
 * chains. The number of distinct uids on a host is small; a peer cannot
 * make it grow without bound, because every entry stands for something
 * it holds (a connection, a run), each of which has its own ceiling.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "uidcount.h"

#define BUCKETS 256

struct entry {
	uid_t uid;
	unsigned count[_UIDCOUNT_MAX];
	struct entry *next;
};

struct uidcount {
	struct entry *bucket[BUCKETS];
};

static unsigned bucket_of(uid_t uid)
{
	uint32_t h = (uint32_t)uid * 2654435761u;

	return h >> 24;
}

struct uidcount *uidcount_new(void)
{
	return calloc(1, sizeof(struct uidcount));
}

struct uidcount *uidcount_free(struct uidcount *t)
{
	if (!t)
		return NULL;
	for (unsigned i = 0; i < BUCKETS; i++) {
		while (t->bucket[i]) {
			struct entry *e = t->bucket[i];

			t->bucket[i] = e->next;
			free(e);
		}
	}
	free(t);
	return NULL;
}

static struct entry **find(const struct uidcount *t, uid_t uid)
{
	struct entry *const *pp = &t->bucket[bucket_of(uid)];

	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return (struct entry **)pp;
}

static bool all_zero(const struct entry *e)
{
	for (int k = 0; k < _UIDCOUNT_MAX; k++)
		if (e->count[k])
			return false;
	return true;
}

int uidcount_add(struct uidcount *t, uid_t uid, enum uidcount_kind kind,
		 int delta)
{
	struct entry **pp = find(t, uid), *e = *pp;

	if (!e) {
		if (delta <= 0)
			return 0;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->uid = uid;
		*pp = e;
	}
	if (delta < 0 && e->count[kind] < (unsigned)-delta)
		e->count[kind] = 0;
	else
		e->count[kind] += (unsigned)delta;
	if (all_zero(e)) {
		*pp = e->next;
		free(e);
	}
	return 0;
}

unsigned uidcount_get(const struct uidcount *t, uid_t uid,
		      enum uidcount_kind kind)
{
	struct entry *e = *find(t, uid);

	return e ? e->count[kind] : 0;
}
