/*
 * The server (server.h): the listening socket, the books of sessions and
 * runs with their per-uid counts, the graveyard that frees closed
 * sessions and ended runs on a later loop turn, configuration swaps, and
 * shutdown. The pre-warmed pool's side of it (refills, the spawner's
 * answers, runs waiting for a member) is server-pool.c.
 *
 * Sessions and runs are opaque here: the server holds pointers and calls
 * their public functions, nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decoder.h"
#include "frame.h"
#include "log.h"
#include "peer.h"
#include "run.h"
#include "server-internal.h"
#include "server.h"
#include "session.h"
#include "uidcount.h"

#define SHUTDOWN_GRACE_SEC 5

/* ---- pointer sets ---- */

int ptrset_add(struct ptrset *s, void *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void **v = reallocarray(s->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
	return 0;
}

bool ptrset_remove(struct ptrset *s, const void *p)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i] != p)
			continue;
		s->v[i] = s->v[--s->n];
		return true;
	}
	return false;
}

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

struct cfgref *server_config_ref(struct server *srv)
{
	srv->cfg->refs++;
	return srv->cfg;
}

const struct config *cfgref_config(const struct cfgref *c)
{
	return c->cfg;
}

struct cfgref *cfgref_unref(struct cfgref *c)
{
	if (c && --c->refs == 0) {
		config_free(c->cfg);
		free(c);
	}
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
	srv->budget.max = cfg->max_buffered_bytes;
}

const struct config *server_config(const struct server *srv)
{
	return srv->cfg->cfg;
}

/* ---- accessors ---- */

struct event_base *server_base(struct server *srv)
{
	return srv->base;
}

struct frame_budget *server_frame_budget(struct server *srv)
{
	return &srv->budget;
}

struct decoder *server_decoder(struct server *srv)
{
	return srv->decoder;
}
struct engine *server_engine(struct server *srv)
{
	return srv->engine;
}
bool server_stopping(const struct server *srv)
{
	return srv->stopping;
}
bool server_host_landlock(const struct server *srv)
{
	return srv->host_landlock;
}

bool server_host_overlayfs(const struct server *srv)
{
	return srv->host_overlayfs;
}
unsigned server_runs(const struct server *srv)
{
	return (unsigned)srv->runs.n;
}
unsigned server_sessions(const struct server *srv)
{
	return (unsigned)srv->sessions.n;
}
uint64_t server_uptime_ns(const struct server *srv)
{
	return now_ns() - srv->start_ns;
}

/* ---- the graveyard ---- */

static void gc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	while (srv->dead_sessions.n)
		session_free(srv->dead_sessions.v[--srv->dead_sessions.n]);
	while (srv->dead_runs.n)
		run_free(srv->dead_runs.v[--srv->dead_runs.n]);
	engine_reap(srv->engine);
}

static void server_gc(struct server *srv)
{
	event_active(srv->gc_ev, EV_TIMEOUT, 0);
}

/* A dead object that cannot be queued (no memory) is freed at once: the
 * callback that closed it must then not touch it again, which the
 * callers' paths respect (they return right after closing). */
static void server_bury(struct server *srv, struct ptrset *yard, void *p,
			void (*free_now)(void *))
{
	if (ptrset_add(yard, p) < 0) {
		free_now(p);
		return;
	}
	server_gc(srv);
}

static void session_free_cb(void *p)
{
	session_free(p);
}
static void run_free_cb(void *p)
{
	run_free(p);
}

/* ---- sessions ---- */

void server_session_admitted(struct server *srv, uid_t uid)
{
	(void)uidcount_add(srv->counts, uid, UIDCOUNT_SESSIONS, +1);
}

void server_session_closed(struct server *srv, struct session *sess, uid_t uid,
			   bool admitted)
{
	ptrset_remove(&srv->sessions, sess);
	if (admitted)
		(void)uidcount_add(srv->counts, uid, UIDCOUNT_SESSIONS, -1);
	server_bury(srv, &srv->dead_sessions, sess, session_free_cb);
}

unsigned server_sessions_of(const struct server *srv, uid_t uid)
{
	return uidcount_get(srv->counts, uid, UIDCOUNT_SESSIONS);
}

/* ---- runs ---- */

uint64_t server_next_run_id(struct server *srv)
{
	return ++srv->next_run_id;
}

void server_run_started(struct server *srv, struct run *r, uid_t uid)
{
	if (ptrset_add(&srv->runs, r) < 0) {
		/* Not on the books means not killable by list/kill: refuse
		 * to lose track, kill it instead. */
		run_signal(r, SIGKILL);
		return;
	}
	(void)uidcount_add(srv->counts, uid, UIDCOUNT_RUNS, +1);
}

void server_run_ended(struct server *srv, struct run *r, uid_t uid)
{
	if (ptrset_remove(&srv->runs, r))
		(void)uidcount_add(srv->counts, uid, UIDCOUNT_RUNS, -1);
	server_bury(srv, &srv->dead_runs, r, run_free_cb);
	if (srv->stopping && srv->runs.n == 0)
		event_base_loopbreak(srv->base);
}

unsigned server_runs_of(const struct server *srv, uid_t uid)
{
	return uidcount_get(srv->counts, uid, UIDCOUNT_RUNS);
}

struct run *server_find_run(struct server *srv, uint64_t id)
{
	for (size_t i = 0; i < srv->runs.n; i++)
		if (run_id(srv->runs.v[i]) == id)
			return srv->runs.v[i];
	return NULL;
}

void server_place_peer(struct server *srv, struct peer *p)
{
	struct run *found = NULL;
	int unknown = 0;

	if (p->gone)
		p->place_err = -ESRCH;
	for (size_t i = 0; p->nested && !found && i < srv->runs.n; i++) {
		int k = run_has_peer(srv->runs.v[i], p);

		if (k > 0)
			found = srv->runs.v[i];
		else if (k < 0)
			unknown = k;
	}
	/* The lists were read by pid: they were about the peer only if it
	 * is still the process that pid names. */
	if (p->nested && !peer_alive(p))
		p->place_err = -ESRCH;
	else if (p->nested && !found && unknown)
		p->place_err = unknown;
	else if (found)
		p->run_id = run_id(found);
	p->pidfd = safe_close(p->pidfd);
}

void server_foreach_run(struct server *srv, void (*fn)(struct run *, void *),
			void *userdata)
{
	for (size_t i = 0; i < srv->runs.n; i++)
		fn(srv->runs.v[i], userdata);
}

int server_private_id_take(struct server *srv, uid_t first, uint32_t count,
			   uid_t *ret)
{
	for (uint32_t i = 0; i < count; i++) {
		uid_t cand = first + (srv->private_cursor + i) % count;

		if (uidcount_get(srv->counts, cand, UIDCOUNT_PRIVATE))
			continue;
		if (uidcount_add(srv->counts, cand, UIDCOUNT_PRIVATE, +1) < 0)
			return -ENOMEM;
		srv->private_cursor = (srv->private_cursor + i + 1) % count;
		*ret = cand;
		return 0;
	}
	return -EBUSY;
}

void server_private_id_release(struct server *srv, uid_t id)
{
	(void)uidcount_add(srv->counts, id, UIDCOUNT_PRIVATE, -1);
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

/* Root and members of the admin group keep reserved slots. */
static bool peer_is_admin(const struct config *cfg, const struct peer *p)
{
	if (p->cred.uid == 0)
		return true;
	for (size_t i = 0; i < cfg->n_admin_gids; i++) {
		if (p->cred.gid == cfg->admin_gids[i])
			return true;
		for (size_t j = 0; j < p->n_groups; j++)
			if (p->groups[j] == cfg->admin_gids[i])
				return true;
	}
	return false;
}

bool server_peer_is_admin(struct server *srv, const struct peer *p)
{
	return peer_is_admin(server_config(srv), p);
}

/*
 * Who may take a slot, counted at accept, before any byte is read: a
 * flood of connections by one uid must never lock out another, and root
 * and the admin group must always get in. Everyone but them leaves
 * reserved-connections of max-connections free, and no uid but theirs
 * holds more than max-connections-per-uid.
 */
static const char *admission_refused(struct server *srv, const struct peer *p)
{
	const struct config *cfg = server_config(srv);
	bool admin = peer_is_admin(cfg, p);
	size_t limit = cfg->max_connections;

	if (!admin)
		limit -= cfg->reserved_connections;
	if (srv->sessions.n >= limit)
		return "too many connections";
	if (!admin &&
	    uidcount_get(srv->counts, p->cred.uid, UIDCOUNT_CONNECTIONS) >=
		cfg->max_connections_per_uid)
		return "too many connections from this uid "
		       "(max-connections-per-uid)";
	return NULL;
}

/*
 * Tell a client that the daemon cannot serve it for want of its own
 * resources (a shortage the client may retry later, on a new connection),
 * and close it. Needs no memory and no descriptor.
 */
static void busy_and_close(int fd, const char *why)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;
	uint8_t frame[256];
	size_t len;

	e.code = BOXD__V1__ERROR_CODE__BUSY;
	e.message = (char *)why;
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	len = boxd__v1__event__get_packed_size(&ev);
	if (len + FRAME_HEADER_SIZE <= sizeof(frame)) {
		frame_header(frame, (uint32_t)len);
		boxd__v1__event__pack(&ev, frame + FRAME_HEADER_SIZE);
		(void)!send(fd, frame, len + FRAME_HEADER_SIZE, MSG_NOSIGNAL);
	}
	close(fd);
}

static const char out_of_fds[] =
    "the daemon is out of file descriptors; try again soon";

static void server_accept(struct server *srv, int fd)
{
	struct session *s;
	struct peer peer;
	const char *why;
	int r;

	r = peer_read(fd, &peer);
	if (r == -EMFILE || r == -ENFILE) {
		/* The few fds that placing a peer takes: the spare's. */
		srv->spare_fd = safe_close(srv->spare_fd);
		r = peer_read(fd, &peer);
		srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (r < 0) {
		log_ratelimited(LOG_WARNING, "cannot identify a peer: %s",
				strerror(-r));
		busy_and_close(fd, r == -ENOMEM ? "the daemon is out of memory"
						: out_of_fds);
		return;
	}
	server_place_peer(srv, &peer);
	s = session_new(srv, fd, &peer);
	if (!s)
		return;
	why = admission_refused(srv, &peer);
	if (why || ptrset_add(&srv->sessions, s) < 0) {
		log_ratelimited(LOG_NOTICE, "refused uid %u pid %d: %s",
				peer.cred.uid, peer.cred.pid,
				why ? why : "no memory");
		session_send_error(s, 0, BOXD__V1__ERROR_CODE__BUSY,
				   why ? why : "out of memory", NULL, 0, 0);
		session_close(s);
		return;
	}
	(void)uidcount_add(srv->counts, peer.cred.uid, UIDCOUNT_CONNECTIONS,
			   +1);
}

/*
 * Out of descriptors: the client would wait in the backlog without a
 * word. Let go of the spare descriptor kept for this, take the
 * connection, tell it the daemon is busy (its own shortage, to retry),
 * close it, and take the spare back.
 */
static void refuse_for_want_of_fds(struct server *srv, int lfd)
{
	int fd;

	if (srv->spare_fd < 0)
		return;
	srv->spare_fd = safe_close(srv->spare_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		busy_and_close(fd, out_of_fds);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			server_accept(srv, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == ENOBUFS) {
			/* Out of fds: answer one waiting client, then stop
			 * accepting briefly instead of spinning on a socket
			 * that stays readable. */
			struct timeval tv = {0, 100000};

			log_ratelimited(LOG_WARNING, "accept: %m; pausing");
			refuse_for_want_of_fds(srv, (int)lfd);
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
	srv->host_landlock = opt->host_landlock;
	srv->host_overlayfs = opt->host_overlayfs;
	srv->cfg = cfgref_new(opt->cfg);
	srv->counts = uidcount_new();
	srv->budget.max = opt->cfg->max_buffered_bytes;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (decoder_new(srv->base, &srv->decoder) < 0) {
		server_free(srv);
		return -ENOMEM;
	}
	srv->listen_ev = event_new(srv->base, opt->listen_fd,
				   EV_READ | EV_PERSIST, listen_cb, srv);
	srv->resume_ev = evtimer_new(srv->base, resume_cb, srv);
	srv->gc_ev = event_new(srv->base, -1, 0, gc_cb, srv);
	if (!srv->cfg || !srv->counts || !srv->listen_ev || !srv->resume_ev ||
	    !srv->gc_ev || server_pool_init(srv) < 0 ||
	    event_add(srv->listen_ev, NULL) < 0) {
		server_free(srv);
		return -ENOMEM;
	}
	/* Fill the pool before the first request needs it. */
	server_pool_kick(srv);
	*ret = srv;
	return 0;
}

struct server *server_free(struct server *srv)
{
	if (!srv)
		return NULL;
	while (srv->sessions.n)
		session_close(srv->sessions.v[srv->sessions.n - 1]);
	while (srv->runs.n) {
		struct run *r = srv->runs.v[srv->runs.n - 1];

		server_run_ended(srv, r, run_uid(r));
	}
	gc_cb(-1, 0, srv);
	/* Jobs still being decoded belong to freed sessions now: the
	 * decoder frees them. */
	srv->decoder = decoder_free(srv->decoder);
	server_event_freep(&srv->listen_ev);
	server_event_freep(&srv->resume_ev);
	server_event_freep(&srv->gc_ev);
	server_event_freep(&srv->grace_ev);
	server_pool_free(srv);
	free(srv->sessions.v);
	free(srv->runs.v);
	free(srv->dead_sessions.v);
	free(srv->dead_runs.v);
	uidcount_free(srv->counts);
	safe_close(srv->spare_fd);
	cfgref_unref(srv->cfg);
	free(srv);
	return NULL;
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warning("%zu runs did not end within %d s of shutdown", srv->runs.n,
		    SHUTDOWN_GRACE_SEC);
	event_base_loopbreak(srv->base);
}

static void kill_run(struct run *r, void *userdata)
{
	(void)userdata;
	run_signal(r, SIGKILL);
}

void server_shutdown(struct server *srv)
{
	struct timeval tv = {SHUTDOWN_GRACE_SEC, 0};

	if (srv->stopping)
		return;
	srv->stopping = true;
	server_pool_stop(srv);
	event_del(srv->listen_ev);
	event_del(srv->resume_ev);
	server_foreach_run(srv, kill_run, NULL);
	if (srv->runs.n == 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	srv->grace_ev = evtimer_new(srv->base, grace_cb, srv);
	if (srv->grace_ev)
		evtimer_add(srv->grace_ev, &tv);
}

void server_event_freep(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}
