/*
 * What each request does: the Hello (the protocol version, where the
 * peer connects from, its tenant, the host's description), Run, Kill,
 * List and Status, and the table they are dispatched from, which says
 * how many fds each may carry and whether it needs the Hello first.
 * session.c reads and checks the frames and sends what these answer.
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capability.h"
#include "config-build.h"
#include "log.h"
#include "run.h"
#include "server.h"
#include "session-internal.h"

#define PROTOCOL_VERSION_MIN 1
#define PROTOCOL_VERSION_MAX 2

static const char *const namespaces[] = {"user", "mnt", "pid",   "net",
					 "ipc",  "uts", "cgroup"};
/* What a client must not assume of every daemon of its version. */
static const char *const features[] = {"dry_run", "no_exec", "write_ephemeral",
				       "tty"};

/* Room for what fill_host_info() points at; lives as long as the reply. */
struct host_info_buf {
	const char *limits[8], *nets[4], *profiles[2];
	char *controllers[16];
	char ctl_buf[256];
	struct capability_buf caps;
};

static void fill_host_info(struct session *s, Boxd__V1__HostInfo *h,
			   struct host_info_buf *b)
{
	struct cgroup_manager *cg = engine_cgroups(server_engine(s->srv));
	unsigned can = cg ? cgroup_manager_can(cg) : 0;
	size_t nl = 0, nn = 0, nc = 0;

	h->n_namespaces = ELEMENTSOF(namespaces);
	h->namespaces = (char **)namespaces;
	h->cgroup_mode = (char *)(cg ? cgroup_manager_mode_name(cg) : "none");
	if (cg && cgroup_manager_path(cg)) {
		h->has_cgroup_path = true;
		h->cgroup_path.data = (uint8_t *)cgroup_manager_path(cg);
		h->cgroup_path.len = strlen(cgroup_manager_path(cg));
	}
	if (cg) {
		char *save = NULL, *tok;

		snprintf(b->ctl_buf, sizeof(b->ctl_buf), "%s",
			 cgroup_manager_controllers(cg));
		for (tok = strtok_r(b->ctl_buf, " ", &save);
		     tok && nc < ELEMENTSOF(b->controllers);
		     tok = strtok_r(NULL, " ", &save))
			b->controllers[nc++] = tok;
	}
	h->n_controllers = nc;
	h->controllers = b->controllers;
	b->limits[nl++] = "timeout";
	if (can & CGROUP_CAN_MEMORY)
		b->limits[nl++] = "memory";
	if (can & CGROUP_CAN_SWAP)
		b->limits[nl++] = "swap";
	if (can & CGROUP_CAN_CPUS)
		b->limits[nl++] = "cpus";
	if (can & CGROUP_CAN_PIDS)
		b->limits[nl++] = "pids";
	if (can & CGROUP_CAN_CPU_TIME)
		b->limits[nl++] = "cpu_time";
	h->n_limits = nl;
	h->limits = (char **)b->limits;
	h->has_seccomp = true;
	h->seccomp = true;
	h->has_landlock = true;
	h->landlock = server_host_landlock(s->srv);
	b->nets[nn++] = "none";
	b->nets[nn++] = "loopback";
	if (!s->tenant || s->tenant->allow_net_host)
		b->nets[nn++] = "host";
	/* Only where a run could get it: pasta installed, tenant allows. */
	if ((!s->tenant || s->tenant->allow_net_outbound) &&
	    !engine_outbound_missing(server_engine(s->srv)))
		b->nets[nn++] = "outbound";
	h->n_nets = nn;
	h->nets = (char **)b->nets;
	b->profiles[0] = "default";
	b->profiles[1] = "bare";
	h->n_profiles = 2;
	h->profiles = (char **)b->profiles;
	h->n_features = ELEMENTSOF(features);
	h->features = (char **)features;
	capability_fill(
	    h,
	    &(struct capability_host){
		.cgroups =
		    cg && strcmp(cgroup_manager_mode_name(cg), "none") != 0,
		.can = can,
		.overlayfs = server_host_overlayfs(s->srv),
		.outbound_missing =
		    engine_outbound_missing(server_engine(s->srv)),
		.tenant = s->tenant,
	    },
	    &b->caps);
}

static uint32_t pick_version(const Boxd__V1__Hello *h)
{
	uint32_t best = 0;

	for (size_t i = 0; i < h->n_versions; i++)
		if (h->versions[i] >= PROTOCOL_VERSION_MIN &&
		    h->versions[i] <= PROTOCOL_VERSION_MAX &&
		    h->versions[i] > best)
			best = h->versions[i];
	return best;
}

/*
 * Where the connection comes from. A process inside a boxd sandbox must
 * not get more than the run it belongs to: a root caller's sandbox is
 * host uid 0 in a user namespace, and with the daemon's socket bound in
 * it would otherwise ask for anything root may (--seccomp none, the
 * host's network, any bind). Such connections are refused (or, with
 * sandbox-peers = confined, given no more than that run). So is one whose
 * connecting process was gone before it could be placed, or that is in a
 * nested pid namespace no run could be asked about: it might have been a
 * sandbox's.
 */
static void session_refuse_peer(struct session *s, uint64_t rid,
				const char *why)
{
	log_ratelimited(LOG_NOTICE, "refused uid %u pid %d: %s",
			s->peer.cred.uid, s->peer.cred.pid, why);
	session_send_error(s, rid, BOXD__V1__ERROR_CODE__DENIED, why, NULL, 0,
			   0);
	session_close(s);
}

static bool session_may_come_from_here(struct session *s, uint64_t rid,
				       struct run **ret_origin)
{
	const struct peer *p = &s->peer;
	struct run *origin = NULL;
	char msg[160];

	if (p->place_err == -ESRCH) {
		session_refuse_peer(s, rid,
				    "the process that connected had exited "
				    "before boxd could tell where it runs");
		return false;
	}
	if (p->place_err < 0) {
		snprintf(msg, sizeof(msg),
			 "boxd cannot tell whether the process that "
			 "connected runs inside one of its sandboxes (%s)",
			 strerror(-p->place_err));
		session_refuse_peer(s, rid, msg);
		return false;
	}
	if (p->run_id) {
		origin = server_find_run(s->srv, p->run_id);
		if (!origin) {
			session_refuse_peer(s, rid,
					    "the run this connection was made "
					    "from has ended");
			return false;
		}
	}
	*ret_origin = origin;
	if (!origin ||
	    server_config(s->srv)->sandbox_peers == SANDBOX_PEERS_CONFINED)
		return true;
	snprintf(msg, sizeof(msg),
		 "connections from inside a boxd sandbox (run %llu) are "
		 "refused",
		 (unsigned long long)run_id(origin));
	session_refuse_peer(s, rid, msg);
	return false;
}

static void handle_hello(struct session *s, uint64_t rid,
			 const Boxd__V1__Request *req, int *fds)
{
	const Boxd__V1__Hello *h = req->hello;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply reply = BOXD__V1__HELLO_REPLY__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;
	struct host_info_buf buf;
	const struct config *cfg;
	struct run *origin = NULL;
	uint32_t version;
	char msg[256];

	(void)fds;
	if (s->version) {
		session_protocol_error(s, rid,
				       "second Hello on one connection");
		return;
	}
	version = pick_version(h);
	if (!version) {
		session_protocol_error(s, rid,
				       "no common protocol version (the daemon "
				       "speaks versions 1 and 2)");
		return;
	}
	if (!session_may_come_from_here(s, rid, &origin))
		return;
	s->cfg = server_config_ref(s->srv);
	cfg = cfgref_config(s->cfg);
	s->tenant =
	    config_tenant_for_peer(cfg, s->peer.cred.uid, s->peer.cred.gid,
				   s->peer.groups, s->peer.n_groups);
	/* From inside a run (sandbox-peers = confined): no more than it. */
	if (origin && s->tenant && s->tenant->allow_connect) {
		if (run_confine(origin, s->tenant, &s->confined) < 0) {
			session_send_error(s, rid,
					   BOXD__V1__ERROR_CODE__INTERNAL,
					   "out of memory", NULL, 0, 0);
			session_close(s);
			return;
		}
		s->is_confined = true;
		s->tenant = &s->confined;
	}
	if (!s->tenant || !s->tenant->allow_connect) {
		snprintf(msg, sizeof(msg), "uid %u may not use this daemon",
			 s->peer.cred.uid);
		log_ratelimited(LOG_NOTICE,
				"refused uid %u pid %d: not allowed to connect",
				s->peer.cred.uid, s->peer.cred.pid);
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__DENIED, msg,
				   NULL, 0, 0);
		session_close(s);
		return;
	}
	if (s->tenant->max_connections &&
	    server_sessions_of(s->srv, s->peer.cred.uid) >=
		s->tenant->max_connections) {
		snprintf(msg, sizeof(msg),
			 "tenant '%s' already has %u connections (its "
			 "ceiling)",
			 s->tenant->name, s->tenant->max_connections);
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__BUSY, msg,
				   NULL, 0, 0);
		session_close(s);
		return;
	}
	s->version = version;
	server_session_admitted(s->srv, s->peer.cred.uid);
	/* Trusted from here on: the frame size and fds of real requests,
	 * and no handshake deadline (frame deadlines take over). */
	s->rd.max =
	    cfg->max_frame_bytes ? cfg->max_frame_bytes : FRAME_MAX_DEFAULT;
	s->rd.max_fds = FRAME_MAX_FDS;
	/* Root and the admin group are not counted against max-buffered:
	 * however full other peers keep it, they get their requests in. */
	if (server_peer_is_admin(s->srv, &s->peer))
		s->rd.budget = NULL;
	event_del(s->timer_ev);
	fill_host_info(s, &host, &buf);
	reply.version = version;
	reply.daemon_version = (char *)BOXD_VERSION;
	reply.host = &host;
	reply.has_uid = reply.has_gid = true;
	reply.uid = s->peer.cred.uid;
	reply.gid = s->peer.cred.gid;
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &reply;
	session_send(s, rid, &ev);
}

static void handle_run(struct session *s, uint64_t rid,
		       const Boxd__V1__Request *req, int *fds)
{
	struct run_caller caller = {
	    .session = s,
	    .request_id = rid,
	    .cred = s->peer.cred,
	    .groups = s->peer.groups,
	    .n_groups = s->peer.n_groups,
	    .cfg = cfgref_config(s->cfg),
	    .tenant = s->tenant,
	};
	size_t max_runs = s->version >= 2
			      ? cfgref_config(s->cfg)->max_runs_per_connection
			      : 1;
	char msg[160];
	struct run *r;

	if (server_stopping(s->srv)) {
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__BUSY,
				   "the daemon is shutting down", NULL, 0, 0);
		return;
	}
	if (s->n_runs >= max_runs) {
		if (s->version >= 2)
			snprintf(msg, sizeof(msg),
				 "%zu runs are already in flight on this "
				 "connection (its ceiling)",
				 max_runs);
		else
			snprintf(msg, sizeof(msg),
				 "a run is already in flight on this "
				 "connection; open another connection for "
				 "parallel runs");
		session_send_busy(s, rid, msg, RETRY_RUN_ENDS_MS);
		return;
	}
	/* Make room first: a run that started must be tracked. */
	if (session_add_run(s, NULL) < 0) {
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return;
	}
	s->n_runs--;
	r = run_handle(s->srv, &caller, req->run, fds);
	if (r)
		(void)session_add_run(s, r);
}

static void handle_kill(struct session *s, uint64_t rid,
			const Boxd__V1__Request *req, int *fds)
{
	const Boxd__V1__KillRequest *k = req->kill;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__KillReply reply = BOXD__V1__KILL_REPLY__INIT;
	struct run *r;
	char msg[128];

	(void)fds;
	if (k->signal <= 0 || k->signal >= _NSIG) {
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__BAD_REQUEST,
				   "kill: signal out of range", NULL, 0,
				   k->run_id);
		return;
	}
	r = server_find_run(s->srv, k->run_id);
	/* Another tenant's run looks exactly like no run at all. */
	if (!r || !run_visible_to(r, s->peer.cred.uid)) {
		snprintf(msg, sizeof(msg), "no run %llu",
			 (unsigned long long)k->run_id);
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__NOT_FOUND, msg,
				   NULL, 0, k->run_id);
		return;
	}
	run_signal(r, k->signal);
	reply.run_id = k->run_id;
	ev.msg_case = BOXD__V1__EVENT__MSG_KILLED;
	ev.killed = &reply;
	session_send(s, rid, &ev);
}

struct list_ctx {
	uid_t uid;
	uint64_t now;
	Boxd__V1__RunInfo *infos, **ptrs;
	size_t n, cap;
};

static void list_one(struct run *r, void *userdata)
{
	struct list_ctx *l = userdata;

	if (l->n >= l->cap || !run_visible_to(r, l->uid))
		return;
	run_describe(r, &l->infos[l->n], l->now);
	l->ptrs[l->n] = &l->infos[l->n];
	l->n++;
}

static void handle_list(struct session *s, uint64_t rid,
			const Boxd__V1__Request *req, int *fds)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__RunList list = BOXD__V1__RUN_LIST__INIT;
	struct list_ctx l = {
	    .uid = s->peer.cred.uid,
	    .now = now_ns(),
	    .cap = server_runs(s->srv),
	};

	(void)req;
	(void)fds;
	l.infos = calloc(l.cap + 1, sizeof(*l.infos));
	l.ptrs = calloc(l.cap + 1, sizeof(*l.ptrs));
	if (!l.infos || !l.ptrs) {
		free(l.infos);
		free(l.ptrs);
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return;
	}
	server_foreach_run(s->srv, list_one, &l);
	list.n_runs = l.n;
	list.runs = l.ptrs;
	ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
	ev.list = &list;
	session_send(s, rid, &ev);
	free(l.infos);
	free(l.ptrs);
}

static void handle_status(struct session *s, uint64_t rid,
			  const Boxd__V1__Request *req, int *fds)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Status st = BOXD__V1__STATUS__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;
	Boxd__V1__PoolStats pool = BOXD__V1__POOL_STATS__INIT;
	struct engine_pool_stats ps;
	struct host_info_buf buf;

	(void)req;
	(void)fds;
	fill_host_info(s, &host, &buf);
	st.daemon_version = (char *)BOXD_VERSION;
	st.host = &host;
	st.has_runs = st.has_connections = true;
	st.runs = server_runs(s->srv);
	st.connections = server_sessions(s->srv);
	st.has_daemon_rss_bytes = true;
	st.daemon_rss_bytes = proc_rss_bytes(0);
	st.has_uptime_ns = true;
	st.uptime_ns = server_uptime_ns(s->srv);
	engine_pool_stats(server_engine(s->srv), &ps);
	pool.has_size = pool.has_target = pool.has_hits = true;
	pool.has_misses = pool.has_refill_failures = true;
	pool.has_member_rss_bytes = pool.has_prebuilt = true;
	pool.has_waiting = true;
	pool.waiting = (uint32_t)server_pool_waiting(s->srv);
	pool.size = ps.size;
	pool.target = ps.target;
	pool.hits = ps.hits;
	pool.misses = ps.misses;
	pool.refill_failures = ps.refill_failures;
	pool.member_rss_bytes = ps.member_rss_bytes;
	pool.prebuilt = ps.prebuilt;
	st.pool = &pool;
	ev.msg_case = BOXD__V1__EVENT__MSG_STATUS;
	ev.status = &st;
	session_send(s, rid, &ev);
}

/* What each request may carry and need; the table is the whole API. */
static const struct handler {
	Boxd__V1__Request__MsgCase kind;
	const char *name;
	size_t n_fds;
	bool needs_hello;
	void (*fn)(struct session *s, uint64_t rid,
		   const Boxd__V1__Request *req, int *fds);
} handlers[] = {
    {BOXD__V1__REQUEST__MSG_HELLO, "hello", 0, false, handle_hello},
    {BOXD__V1__REQUEST__MSG_RUN, "run", 3, true, handle_run},
    {BOXD__V1__REQUEST__MSG_KILL, "kill", 0, true, handle_kill},
    {BOXD__V1__REQUEST__MSG_LIST, "list", 0, true, handle_list},
    {BOXD__V1__REQUEST__MSG_STATUS, "status", 0, true, handle_status},
};

/* The one exception to the table's count: a tty run's stdio is the
 * terminal the sandbox makes, so it carries none. */
static size_t handler_fds(const struct handler *h, const Boxd__V1__Request *req)
{
	if (req->msg_case == BOXD__V1__REQUEST__MSG_RUN && req->run->tty)
		return 0;
	return h->n_fds;
}

static const struct handler *find_handler(Boxd__V1__Request__MsgCase kind)
{
	for (size_t i = 0; i < ELEMENTSOF(handlers); i++)
		if (handlers[i].kind == kind)
			return &handlers[i];
	return NULL;
}

/* Version 2: every request after the Hello names itself, with an id no
 * request in flight on this connection has. Returns false once it has
 * answered (and maybe closed). */
static bool check_request_id(struct session *s, const Boxd__V1__Request *req,
			     uint64_t rid)
{
	char msg[96];

	if (s->version < 2 || req->msg_case == BOXD__V1__REQUEST__MSG_HELLO)
		return true;
	if (!rid) {
		session_protocol_error(s, 0,
				       "version 2 requests need a request_id");
		return false;
	}
	if (session_find_run(s, rid)) {
		snprintf(msg, sizeof(msg),
			 "request id %llu is already in flight on this "
			 "connection",
			 (unsigned long long)rid);
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__BAD_REQUEST,
				   msg, NULL, 0, 0);
		return false;
	}
	return true;
}

/* Dispatch one decoded request (req may be NULL: not a Request). */
/* req stays the caller's. */
static void handle_request(struct session *s, Boxd__V1__Request *req)
{
	const struct handler *h;
	uint64_t rid;
	char why[128];

	if (!req) {
		session_protocol_error(s, 0,
				       "frame is not a valid boxd.v1.Request");
		return;
	}
	rid = req->has_request_id ? req->request_id : 0;
	h = find_handler(req->msg_case);
	if (!h) {
		session_protocol_error(s, rid, "unknown or empty request type");
	} else if (s->rd.fds_lost) {
		/* The daemon's own shortage: say so, keep the connection. */
		session_send_busy(s, rid,
				  "the daemon has no free file descriptor to "
				  "receive this request's; try again",
				  RETRY_SHORTAGE_MS);
	} else if (s->rd.n_fds != handler_fds(h, req)) {
		snprintf(why, sizeof(why),
			 "wrong number of file descriptors: %s request "
			 "carries %zu, expected exactly %zu",
			 h->name, s->rd.n_fds, handler_fds(h, req));
		session_protocol_error(s, rid, why);
	} else if (h->needs_hello && !s->version) {
		session_protocol_error(s, rid,
				       "the first request must be Hello");
	} else if (check_request_id(s, req, rid)) {
		h->fn(s, rid, req, s->rd.fds);
	}
}

void session_handle_checked(struct session *s, int r,
			    const struct request_wire *info,
			    const struct error_detail *err,
			    Boxd__V1__Request *req)
{
	if (r == -EBADMSG ||
	    (r < 0 && info->kind != BOXD__V1__REQUEST__MSG_RUN))
		session_protocol_error(s, info->request_id, err->message);
	else if (r < 0)
		session_send_error(s, info->request_id,
				   BOXD__V1__ERROR_CODE__BAD_REQUEST,
				   err->message, NULL, 0, 0);
	else
		handle_request(s, req);
}
