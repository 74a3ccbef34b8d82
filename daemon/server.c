/*
 * The server: the listening socket, the graveyard that frees sessions and
 * runs on a later loop turn, the pre-warmed pool's refill (between
 * requests, one member per loop turn), configuration swaps, and shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "server-internal.h"

/* ---- config references ---- */

static struct cfgref *cfgref_new(struct config *cfg)
{
	struct cfgref *c = calloc(1, sizeof(*c));

	if (c) {
		c->refs = 1;
		c->cfg = cfg;
	}
	return c;
}

struct cfgref *cfgref_ref(struct cfgref *c)
{
	c->refs++;
	return c;
}

struct cfgref *cfgref_unref(struct cfgref *c)
{
	if (c && --c->refs == 0) {
		config_free(c->cfg);
		free(c);
	}
	return NULL;
}

void server_gc(struct server *srv)
{
	event_active(srv->gc_ev, EV_TIMEOUT, 0);
}

/* ---- the pre-warmed pool: refilled between requests, one member per
 * loop turn, so a burst of runs is never queued behind a refill ---- */

void server_pool_kick(struct server *srv)
{
	if (srv->stopping || srv->refilling)
		return;
	/* Hysteresis: start below the low watermark, then fill to target. */
	if (engine_pool_wants(srv->engine) &&
	    engine_pool_size(srv->engine) < srv->pool_low) {
		srv->refilling = true;
		event_active(srv->refill_ev, EV_TIMEOUT, 0);
	}
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
	if (engine_pool_wants(srv->engine) && !srv->refilling) {
		srv->refilling = true;
		event_active(srv->refill_ev, EV_TIMEOUT, 0);
	}
}

static void gc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	while (!LIST_EMPTY(&srv->dead_sessions)) {
		struct session *s = LIST_FIRST(&srv->dead_sessions);

		LIST_REMOVE(s, dead);
		session_free(s);
	}
	while (!LIST_EMPTY(&srv->dead_runs)) {
		struct run *r = LIST_FIRST(&srv->dead_runs);

		LIST_REMOVE(r, dead);
		run_free(r);
	}
	engine_reap(srv->engine);
}

/* ---- accepting ---- */

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (!srv->stopping)
		event_add(srv->listen_ev, NULL);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			session_new(srv, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == ENOBUFS) {
			/* Out of fds: stop accepting briefly instead of
			 * spinning on a socket that stays readable. */
			struct timeval tv = {0, 100000};

			log_warning("accept: %m; pausing");
			event_del(srv->listen_ev);
			evtimer_add(srv->resume_ev, &tv);
		}
		return;
	}
}

/* ---- server ---- */

int server_new(const struct server_options *opt, struct server **ret)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (!srv)
		return -ENOMEM;
	srv->base = opt->base;
	srv->engine = opt->engine;
	srv->listen_fd = opt->listen_fd;
	srv->start_ns = now_ns();
	LIST_INIT(&srv->sessions);
	LIST_INIT(&srv->runs);
	LIST_INIT(&srv->dead_sessions);
	LIST_INIT(&srv->dead_runs);
	srv->cfg = cfgref_new(opt->cfg);
	srv->listen_ev = event_new(srv->base, opt->listen_fd,
				   EV_READ | EV_PERSIST, listen_cb, srv);
	srv->resume_ev = evtimer_new(srv->base, resume_cb, srv);
	srv->gc_ev = event_new(srv->base, -1, 0, gc_cb, srv);
	srv->refill_ev = event_new(srv->base, -1, 0, refill_cb, srv);
	srv->retry_ev = evtimer_new(srv->base, refill_cb, srv);
	srv->maint_ev = event_new(srv->base, -1, EV_PERSIST, maint_cb, srv);
	srv->pool_low = opt->pool_low;
	srv->host_landlock = opt->host_landlock;
	if (!srv->cfg || !srv->listen_ev || !srv->resume_ev || !srv->gc_ev ||
	    !srv->refill_ev || !srv->retry_ev || !srv->maint_ev ||
	    event_add(srv->listen_ev, NULL) < 0 ||
	    event_add(srv->maint_ev, &(struct timeval){1, 0}) < 0) {
		server_free(srv);
		return -ENOMEM;
	}
	/* Fill the pool before the first request needs it. */
	if (engine_pool_wants(srv->engine)) {
		srv->refilling = true;
		event_active(srv->refill_ev, EV_TIMEOUT, 0);
	}
	*ret = srv;
	return 0;
}

struct server *server_free(struct server *srv)
{
	if (!srv)
		return NULL;
	while (!LIST_EMPTY(&srv->sessions))
		session_close(LIST_FIRST(&srv->sessions));
	while (!LIST_EMPTY(&srv->runs))
		run_bury(LIST_FIRST(&srv->runs));
	if (srv->gc_ev)
		gc_cb(-1, 0, srv);
	if (srv->listen_ev)
		event_free(srv->listen_ev);
	if (srv->resume_ev)
		event_free(srv->resume_ev);
	if (srv->gc_ev)
		event_free(srv->gc_ev);
	if (srv->grace_ev)
		event_free(srv->grace_ev);
	if (srv->refill_ev)
		event_free(srv->refill_ev);
	if (srv->retry_ev)
		event_free(srv->retry_ev);
	if (srv->maint_ev)
		event_free(srv->maint_ev);
	cfgref_unref(srv->cfg);
	free(srv);
	return NULL;
}

void server_set_config(struct server *srv, struct config *cfg)
{
	struct cfgref *c = cfgref_new(cfg);

	if (!c) {
		config_free(cfg);
		return;
	}
	/* Sessions keep the policy they were admitted under until they
	 * close; new connections get the new one. */
	cfgref_unref(srv->cfg);
	srv->cfg = c;
}

const struct config *server_config(const struct server *srv)
{
	return srv->cfg->cfg;
}

unsigned server_runs(const struct server *srv)
{
	return srv->n_runs;
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warning("%u runs did not end within %d s of shutdown", srv->n_runs,
		    SHUTDOWN_GRACE_SEC);
	event_base_loopbreak(srv->base);
}

void server_shutdown(struct server *srv)
{
	struct timeval tv = {SHUTDOWN_GRACE_SEC, 0};
	struct run *r;

	if (srv->stopping)
		return;
	srv->stopping = true;
	event_del(srv->listen_ev);
	event_del(srv->resume_ev);
	event_del(srv->retry_ev);
	event_del(srv->maint_ev);
	LIST_FOREACH (r, &srv->runs, link)
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
	if (srv->n_runs == 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	srv->grace_ev = evtimer_new(srv->base, grace_cb, srv);
	if (srv->grace_ev)
		evtimer_add(srv->grace_ev, &tv);
}
