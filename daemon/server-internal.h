/*
 * What server.c (the books, the graveyard, accepting, shutdown) and
 * server-pool.c (the pool's refills and the runs waiting for a member)
 * share. Nothing else includes this; everyone else sees server.h.
 */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "server.h"

struct cfgref {
	unsigned refs;
	struct config *cfg;
};

/* A growable array of pointers; order is not kept on removal. */
struct ptrset {
	void **v;
	size_t n, cap;
};

struct server {
	struct event_base *base;
	struct engine *engine;
	struct cfgref *cfg;
	int listen_fd;
	struct event *listen_ev, *resume_ev, *gc_ev, *grace_ev;
	struct event *refill_ev, *retry_ev, *maint_ev;
	struct event *spawner_ev; /* the pool's spawner answers, or NULL */
	bool refilling;
	/* Runs waiting for a pool member, oldest first; woken by the
	 * spawner's answers, a member's READY (await_ev) or the soonest
	 * deadline (wait_ev). */
	struct ptrset waiting;
	struct event *wait_ev, *await_ev;
	struct ptrset sessions, runs;           /* alive */
	struct ptrset dead_sessions, dead_runs; /* freed next loop turn */
	struct uidcount *counts;
	struct frame_budget budget; /* request bodies of every session */
	int spare_fd; /* given up to answer a client when fds run out */
	struct decoder *decoder;
	uint64_t next_run_id;
	uint64_t start_ns;
	uint32_t private_cursor; /* next private uid to try */
	bool host_landlock;
	bool host_overlayfs;
	bool stopping;
};

int ptrset_add(struct ptrset *s, void *p);
/* true if p was there. */
bool ptrset_remove(struct ptrset *s, const void *p);

void server_event_freep(struct event **ev);

/* server-pool.c: its events (the spawner's socket watched, the pool's
 * upkeep every second), 0 or -ENOMEM; their end; and at shutdown, the
 * waiting runs answered and the refills stopped. */
int server_pool_init(struct server *srv);
void server_pool_free(struct server *srv);
void server_pool_stop(struct server *srv);
