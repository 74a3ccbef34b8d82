/*
 * The server: the listening socket, every connection (session) and every
 * run, the configuration in force, the pre-warmed pool's refill, and
 * shutdown. It is the one owner of the lists of sessions and runs and of
 * the per-uid counts derived from them; sessions and runs reach each
 * other only through the functions declared here and in session.h and
 * run.h. Objects that event callbacks reach are freed on a later loop
 * turn (server_defer_free), never inside the callback that uses them.
 */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "engine.h"

struct server;
struct session;
struct run;

struct server_options {
	struct event_base *base;
	struct engine *engine;
	struct config *cfg; /* the server takes ownership */
	/* Bound, non-blocking; listening (from systemd) or listened on by
	 * main() once the server is up. */
	int listen_fd;
	bool host_landlock;  /* for HostInfo: the kernel has Landlock */
	bool host_overlayfs; /* for HostInfo: write:ephemeral, write:overlay */
};

int server_new(const struct server_options *opt, struct server **ret);
struct server *server_free(struct server *s);

/* Swap in a new config (SIGHUP). Takes ownership; the old one is freed
 * once no session admitted under it is left. */
void server_set_config(struct server *s, struct config *cfg);
const struct config *server_config(const struct server *s);

/* Stop accepting, kill every run, and break the loop once all are gone
 * (or after a grace period). */
void server_shutdown(struct server *s);
bool server_stopping(const struct server *s);

unsigned server_runs(const struct server *s);
unsigned server_sessions(const struct server *s);
uint64_t server_uptime_ns(const struct server *s);
struct event_base *server_base(struct server *s);
struct engine *server_engine(struct server *s);
bool server_host_landlock(const struct server *s);
bool server_host_overlayfs(const struct server *s);

/* A reference to the config in force: a session keeps the policy it was
 * admitted under until it closes. */
struct cfgref;
struct cfgref *server_config_ref(struct server *s);
const struct config *cfgref_config(const struct cfgref *c);
struct cfgref *cfgref_unref(struct cfgref *c);

/* Sessions: server.c creates them at accept; a closed one is handed
 * back here and freed on a later loop turn. server_session_admitted()
 * counts it for its uid once its Hello was answered; the close takes the
 * count back. */
void server_session_admitted(struct server *s, uid_t uid);
void server_session_closed(struct server *s, struct session *sess, uid_t uid,
			   bool admitted);
unsigned server_sessions_of(const struct server *s, uid_t uid);

/* Runs: registered while they run, so that kill, list, status and the
 * tenants' ceilings see them; an ended run is freed on a later loop
 * turn. */
uint64_t server_next_run_id(struct server *s);
void server_run_started(struct server *s, struct run *r, uid_t uid);
void server_run_ended(struct server *s, struct run *r, uid_t uid);
unsigned server_runs_of(const struct server *s, uid_t uid);
struct run *server_find_run(struct server *s, uint64_t id);
/*
 * Place the peer just read (peer.h): the run whose sandbox it connects
 * from, if any, into p->run_id, or why that cannot be told into
 * p->place_err (-ESRCH: it exited meanwhile). Closes its pidfd.
 */
struct peer;
void server_place_peer(struct server *s, struct peer *p);
void server_foreach_run(struct server *s, void (*fn)(struct run *, void *),
			void *userdata);

/*
 * Private uid mode: every run gets a host uid (and the same gid) of its
 * own from the configured range, so runs, even of one tenant, cannot touch
 * each other's files or processes. Handed out round-robin, so an id is
 * reused as late as possible, and never while a run still holds it.
 * -EBUSY when every id of the range is in use.
 */
int server_private_id_take(struct server *s, uid_t first, uint32_t count,
			   uid_t *ret);
void server_private_id_release(struct server *s, uid_t id);

/* Root, or a member of the admin group: reserved connection slots, and
 * request buffers outside max-buffered. */
bool server_peer_is_admin(struct server *s, const struct peer *p);

/* The budget every connection's request buffers share (max-buffered). */
struct frame_budget *server_frame_budget(struct server *s);
/* Where large request frames are decoded, off the loop. */
struct decoder *server_decoder(struct server *s);

/* The pool may have shrunk: refill it between requests. */
void server_pool_kick(struct server *s);
/*
 * A run is about to start. Should it wait for a pool member on its way
 * (engine_pool_should_wait())? Then server_park_run() keeps it, counted
 * against its tenant's runs, until a member is ready, none is coming,
 * its wait deadline (run_wait_deadline()) passes or the daemon stops,
 * and hands it to run_resume(): oldest first, and never blocking the
 * loop. server_unpark_run(): a waiting run that goes away first (its
 * client left). -ENOMEM from server_park_run(): start it now instead.
 */
bool server_pool_should_wait(struct server *s, const struct run_spec *spec,
			     const struct run_ids *ids);
int server_park_run(struct server *s, struct run *r);
void server_unpark_run(struct server *s, struct run *r);
/* How many runs wait now. */
size_t server_pool_waiting(const struct server *s);
