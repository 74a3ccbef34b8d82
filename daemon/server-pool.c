/*
 * The server's side of the pre-warmed pool: refills between requests
 * (one member per loop turn, so a burst of runs is never queued behind a
 * refill), the spawner's answers, the pool's upkeep, and the runs that
 * wait for a member on its way: parked here, oldest first, and handed
 * to run_resume() when a member is ready, none is coming, their
 * deadline passes or the daemon stops. Nothing here blocks the loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run.h"
#include "server-internal.h"
#include "uidcount.h"

/* ---- refills ---- */

static void wake_waiters(struct server *srv);

void server_pool_kick(struct server *srv)
{
	if (srv->stopping || srv->refilling || !engine_pool_wants(srv->engine))
		return;
	srv->refilling = true;
	event_active(srv->refill_ev, EV_TIMEOUT, 0);
}

static void refill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	uint64_t retry = 0;
	int r;

	(void)fd;
	(void)what;
	if (srv->stopping) {
		srv->refilling = false;
		return;
	}
	r = engine_pool_refill(srv->engine, &retry);
	if (r == 1 && engine_pool_wants(srv->engine)) {
		event_active(srv->refill_ev, EV_TIMEOUT, 0);
		return;
	}
	if (r < 0) {
		struct timeval tv = ns_to_timeval(retry);

		if (r != -EAGAIN)
			log_warning(
			    "pool: cannot start a member (%s); retrying "
			    "in %llu ms",
			    strerror(-r),
			    (unsigned long long)(retry / 1000000));
		evtimer_add(srv->retry_ev, &tv);
		return;
	}
	srv->refilling = false;
}

/* After the spawner's answers were read (r and retry from
 * engine_pool_dispatch()). */
static void spawner_answered(struct server *srv, int r, uint64_t retry)
{
	if (engine_pool_fd(srv->engine) < 0 && srv->spawner_ev) {
		/* Gone for good: refills clone on this thread from now on. */
		log_warning("pool: the spawner stopped (%s); cloning members "
			    "in the daemon",
			    strerror(r < 0 ? -r : EPIPE));
		event_free(srv->spawner_ev);
		srv->spawner_ev = NULL;
	}
	if (retry) {
		struct timeval tv = ns_to_timeval(retry);

		log_warning("pool: cannot start a member; retrying in %llu ms",
			    (unsigned long long)(retry / 1000000));
		evtimer_add(srv->retry_ev, &tv);
		srv->refilling = true;
		return;
	}
	server_pool_kick(srv);
}

/* Members the spawner cloned join the pool here. */
static void spawner_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	uint64_t retry = 0;
	int r;

	(void)fd;
	(void)what;
	r = engine_pool_dispatch(srv->engine, &retry);
	spawner_answered(srv, r, retry);
	if (srv->waiting.n)
		wake_waiters(srv);
}

/* ---- runs waiting for a member ---- */

static void wait_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wake_waiters(arg);
}

/* Watch what may end the waits: the soonest deadline, and the members
 * on their way (the spawner's socket has its own watch). */
static void watch_waiters(struct server *srv)
{
	uint64_t soonest = UINT64_MAX, now = now_ns();
	struct timeval tv;
	int fd;

	if (srv->await_ev)
		event_free(srv->await_ev);
	srv->await_ev = NULL;
	if (!srv->waiting.n) {
		event_del(srv->wait_ev);
		return;
	}
	for (size_t i = 0; i < srv->waiting.n; i++) {
		uint64_t d = run_wait_deadline(srv->waiting.v[i]);

		if (d < soonest)
			soonest = d;
	}
	tv = ns_to_timeval(soonest > now ? soonest - now : 0);
	evtimer_add(srv->wait_ev, &tv);
	fd = engine_pool_await_fd(srv->engine);
	if (fd >= 0) {
		srv->await_ev = event_new(srv->base, fd, EV_READ, wait_cb, srv);
		if (srv->await_ev && event_add(srv->await_ev, NULL) < 0) {
			event_free(srv->await_ev);
			srv->await_ev = NULL;
		}
		/* Without the watch the deadline still ends each wait. */
	}
}

/* The i-th waiting run leaves the queue (keeping the others' order)
 * and its tenant's count. */
static void take_waiting(struct server *srv, size_t i)
{
	struct run *r = srv->waiting.v[i];

	memmove(&srv->waiting.v[i], &srv->waiting.v[i + 1],
		(srv->waiting.n - i - 1) * sizeof(*srv->waiting.v));
	srv->waiting.n--;
	(void)uidcount_add(srv->counts, run_uid(r), UIDCOUNT_RUNS, -1);
}

/* A refill this loop turn has not got to yet (a take just asked for
 * one) is a member on its way too: ask for it now, so that the runs that
 * wait see it coming. A back-off stays refill_cb()'s. */
static void refill_now(struct server *srv)
{
	uint64_t later = 0;

	if (srv->refilling && engine_pool_wants(srv->engine))
		(void)engine_pool_refill(srv->engine, &later);
}

/* Every waiting run, oldest first, that has a member now, none coming
 * any more, or no time left, starts (or fails) now. */
static void wake_waiters(struct server *srv)
{
	uint64_t now = now_ns();
	size_t i = 0;

	while (i < srv->waiting.n) {
		struct run *r = srv->waiting.v[i];

		refill_now(srv);
		if (!srv->stopping && now < run_wait_deadline(r) &&
		    engine_pool_should_wait(srv->engine, run_spec(r),
					    run_ids(r)) > 0) {
			i++;
			continue;
		}
		take_waiting(srv, i);
		run_resume(r);
	}
	watch_waiters(srv);
}

bool server_pool_should_wait(struct server *srv, const struct run_spec *spec,
			     const struct run_ids *ids)
{
	if (srv->stopping || engine_pool_fd(srv->engine) < 0)
		return false;
	/* Runs that waited first get the first member: if one is left
	 * waiting, no member is ready, and this run queues behind it. */
	if (srv->waiting.n)
		wake_waiters(srv);
	refill_now(srv);
	return engine_pool_should_wait(srv->engine, spec, ids) > 0;
}

int server_park_run(struct server *srv, struct run *r)
{
	if (ptrset_add(&srv->waiting, r) < 0)
		return -ENOMEM;
	/* It counts against its tenant's runs while it waits. */
	(void)uidcount_add(srv->counts, run_uid(r), UIDCOUNT_RUNS, +1);
	watch_waiters(srv);
	return 0;
}

size_t server_pool_waiting(const struct server *srv)
{
	return srv->waiting.n;
}

void server_unpark_run(struct server *srv, struct run *r)
{
	for (size_t i = 0; i < srv->waiting.n; i++) {
		if (srv->waiting.v[i] != r)
			continue;
		take_waiting(srv, i);
		watch_waiters(srv);
		return;
	}
}

static void maint_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	unsigned dead;

	(void)fd;
	(void)what;
	dead = engine_pool_maintain(srv->engine);
	if (dead)
		log_warning("pool: %u idle member%s died before use; replacing",
			    dead, dead == 1 ? "" : "s");
	server_pool_kick(srv);
}

/* ---- the server's own ---- */

int server_pool_init(struct server *srv)
{
	srv->refill_ev = event_new(srv->base, -1, 0, refill_cb, srv);
	srv->retry_ev = evtimer_new(srv->base, refill_cb, srv);
	srv->maint_ev = event_new(srv->base, -1, EV_PERSIST, maint_cb, srv);
	srv->wait_ev = evtimer_new(srv->base, wait_cb, srv);
	if (!srv->refill_ev || !srv->retry_ev || !srv->maint_ev ||
	    !srv->wait_ev ||
	    event_add(srv->maint_ev, &(struct timeval){1, 0}) < 0)
		return -ENOMEM;
	if (engine_pool_fd(srv->engine) >= 0) {
		srv->spawner_ev =
		    event_new(srv->base, engine_pool_fd(srv->engine),
			      EV_READ | EV_PERSIST, spawner_cb, srv);
		if (!srv->spawner_ev || event_add(srv->spawner_ev, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

void server_pool_free(struct server *srv)
{
	server_event_freep(&srv->refill_ev);
	server_event_freep(&srv->retry_ev);
	server_event_freep(&srv->maint_ev);
	server_event_freep(&srv->spawner_ev);
	server_event_freep(&srv->wait_ev);
	server_event_freep(&srv->await_ev);
	free(srv->waiting.v);
}

void server_pool_stop(struct server *srv)
{
	/* Runs waiting for a member are told the daemon is stopping. */
	wake_waiters(srv);
	event_del(srv->retry_ev);
	event_del(srv->maint_ev);
}
