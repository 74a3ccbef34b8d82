/*
 * Listener and sessions: accepts connections on the daemon's socket, reads
 * peer credentials, decodes frames, dispatches requests from a table, runs
 * sandboxes through the engine and streams their events back. The only
 * layer that knows libevent.
 */
#pragma once

#include <event2/event.h>
#include <stdbool.h>

#include "config.h"
#include "engine.h"

struct server;

struct server_options {
	struct event_base *base;
	struct engine *engine;
	struct config *cfg; /* the server takes ownership */
	int listen_fd;      /* bound and listening, non-blocking */
	unsigned pool_low;  /* refill the pool below this many members */
	bool host_landlock; /* for HostInfo: the kernel has Landlock */
};

int server_new(const struct server_options *opt, struct server **ret);
struct server *server_free(struct server *s);

/* Swap in a new config (SIGHUP). Takes ownership; the old one is freed
 * once nothing refers to it. */
void server_set_config(struct server *s, struct config *cfg);
const struct config *server_config(const struct server *s);

/* Stop accepting, kill every run, and break the loop once all are gone
 * (or after a grace period). */
void server_shutdown(struct server *s);

unsigned server_runs(const struct server *s);
