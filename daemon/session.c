/*
 * Connections. A session is one client connection: its identity comes
 * from SO_PEERCRED/SO_PEERGROUPS at accept and never from a message.
 * Requests are dispatched from a table that says how many fds each may
 * carry and whether it needs the handshake first; anything else costs the
 * client its connection, never the daemon.
 *
 * The Hello picks the protocol version. Version 2 requests carry ids:
 * every event that answers one carries its id back, a connection may have
 * several runs in flight, and requests may be pipelined; the first answer
 * to a request is always sent before the next request is read. Version 1
 * keeps one run in flight and no ids.
 *
 * Every resource a client controls is bounded: frame size (before any
 * allocation), fds per frame, queued output, runs in flight per
 * connection, connections per tenant. A closed session is freed from the
 * server's graveyard on a later loop turn, never inside the callback that
 * is using it.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capability.h"
#include "config-build.h"
#include "decoder.h"
#include "fdpass.h"
#include "frame.h"
#include "log.h"
#include "peer.h"
#include "request.h"
#include "run.h"
#include "server.h"
#include "session.h"

#define PROTOCOL_VERSION_MIN 1
#define PROTOCOL_VERSION_MAX 2
#define OUT_MAX (4u << 20)   /* queued output per connection */
#define FRAMES_PER_WAKEUP 16 /* fairness between clients */
/* Before the Hello is answered a peer is nobody: one small frame, no
 * fds. A Hello is a few dozen bytes. */
#define PREHELLO_FRAME_MAX 4096

struct session {
	struct server *srv;
	int fd;
	struct event *rd_ev, *wr_ev;
	struct evbuffer *out;
	struct frame_reader rd;
	struct peer peer;
	/* Before the Hello: the handshake's deadline; after: the deadline of
	 * the frame being read, pending only while one is. */
	struct event *timer_ev;
	/* A large frame being decoded off the loop: reading waits for it,
	 * so requests are still handled in order. */
	struct decode_job *job;
	struct cfgref *cfg; /* the policy the Hello was answered under */
	/* From inside a run, with sandbox-peers = confined: the tenant,
	 * narrowed to what that run may do (s->tenant points here). */
	struct tenant_policy confined;
	bool is_confined;
	const struct tenant_policy *tenant;
	uint32_t version; /* 0 until the Hello is answered */
	bool closing;
	struct run **runs; /* in flight, in start order */
	size_t n_runs, cap_runs;
	/* fds queued with their frames, oldest first: each goes out on the
	 * sendmsg() of its frame's first byte. Offsets count every byte
	 * ever queued on out; out_sent the ones written. */
	struct out_fd *out_fds, **out_fds_tail;
	uint64_t out_added, out_sent;
};

struct out_fd {
	uint64_t at; /* offset of its frame's first byte */
	int fd;
	struct out_fd *next;
};

/* ---- sending ---- */

/*
 * One write of queued output: up to the next frame that carries an fd,
 * or that frame's first bytes with its fd attached. The frame reader on
 * the other side takes fds only with a frame's first byte, so an fd
 * never arrives early or with the wrong frame. Returns bytes written,
 * 0 for "try later", -errno when the connection is done.
 */
static ssize_t out_write(struct session *s)
{
	struct out_fd *f = s->out_fds;
	ssize_t n;

	if (f && f->at == s->out_sent) {
		struct evbuffer_iovec v;
		struct iovec iov;

		if (evbuffer_peek(s->out, -1, NULL, &v, 1) < 1)
			return 0;
		iov = (struct iovec){.iov_base = v.iov_base,
				     .iov_len = v.iov_len};
		n = fdpass_send(s->fd, &iov, 1, &f->fd, 1);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n < 0)
			return n;
		evbuffer_drain(s->out, (size_t)n);
		s->out_fds = f->next;
		if (!s->out_fds)
			s->out_fds_tail = &s->out_fds;
		safe_close(f->fd);
		free(f);
	} else {
		n = evbuffer_write_atmost(
		    s->out, s->fd, f ? (ev_ssize_t)(f->at - s->out_sent) : -1);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0
								 : negerrno();
	}
	s->out_sent += (uint64_t)n;
	return n;
}

static void session_flush(struct session *s)
{
	while (evbuffer_get_length(s->out) > 0) {
		ssize_t n = out_write(s);

		if (n < 0) {
			session_close(s);
			return;
		}
		if (n == 0)
			break;
	}
	if (evbuffer_get_length(s->out) > 0)
		event_add(s->wr_ev, NULL);
	else
		event_del(s->wr_ev);
}

void session_send(struct session *s, uint64_t request_id, Boxd__V1__Event *ev)
{
	session_send_fd(s, request_id, ev, -1);
}

void session_send_fd(struct session *s, uint64_t request_id,
		     Boxd__V1__Event *ev, int fd)
{
	_cleanup_close_ int owned = fd;
	uint8_t hdr[FRAME_HEADER_SIZE];
	struct evbuffer_iovec vec;
	size_t len;

	if (!s || s->closing)
		return;
	if (request_id) {
		ev->has_request_id = true;
		ev->request_id = request_id;
	}
	len = boxd__v1__event__get_packed_size(ev);
	/* A client that does not read its events gets dropped rather than
	 * growing our memory without bound. */
	if (evbuffer_get_length(s->out) + len > OUT_MAX) {
		log_warning("uid %u: not reading its events, dropping it",
			    s->peer.cred.uid);
		session_close(s);
		return;
	}
	frame_header(hdr, (uint32_t)len);
	if (owned >= 0) {
		struct out_fd *f = malloc(sizeof(*f));

		if (!f) {
			session_close(s);
			return;
		}
		*f = (struct out_fd){.at = s->out_added, .fd = TAKE_FD(owned)};
		*s->out_fds_tail = f;
		s->out_fds_tail = &f->next;
	}
	if (evbuffer_add(s->out, hdr, sizeof(hdr)) < 0 ||
	    evbuffer_reserve_space(s->out, len, &vec, 1) < 1) {
		session_close(s);
		return;
	}
	boxd__v1__event__pack(ev, vec.iov_base);
	vec.iov_len = len;
	evbuffer_commit_space(s->out, &vec, 1);
	s->out_added += sizeof(hdr) + len;
	session_flush(s);
}

void session_send_error(struct session *s, uint64_t request_id,
			Boxd__V1__ErrorCode code, const char *msg,
			const char *step, int err, uint64_t run_id)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;

	e.code = code;
	e.message = (char *)msg;
	if (step) {
		e.step = (char *)step;
		e.has_errnum = true;
		e.errnum = err;
	}
	if (run_id) {
		e.has_run_id = true;
		e.run_id = run_id;
	}
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	session_send(s, request_id, &ev);
}

void session_send_busy(struct session *s, uint64_t request_id, const char *msg,
		       uint32_t retry_after_ms)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Error e = BOXD__V1__ERROR__INIT;

	e.code = BOXD__V1__ERROR_CODE__BUSY;
	e.message = (char *)msg;
	e.has_retry_after_ms = true;
	e.retry_after_ms = retry_after_ms;
	ev.msg_case = BOXD__V1__EVENT__MSG_ERROR;
	ev.error = &e;
	session_send(s, request_id, &ev);
}

/* A protocol violation: say why if we still can, then hang up. */
static void session_protocol_error(struct session *s, uint64_t request_id,
				   const char *why)
{
	log_info("uid %u pid %d: protocol error: %s", s->peer.cred.uid,
		 s->peer.cred.pid, why);
	session_send_error(s, request_id, BOXD__V1__ERROR_CODE__PROTOCOL, why,
			   NULL, 0, 0);
	session_close(s);
}

const struct peer *session_peer(const struct session *s)
{
	return &s->peer;
}

/* ---- runs in flight ---- */

static struct run *session_find_run(const struct session *s, uint64_t rid)
{
	for (size_t i = 0; i < s->n_runs; i++)
		if (run_request_id(s->runs[i]) == rid)
			return s->runs[i];
	return NULL;
}

static int session_add_run(struct session *s, struct run *r)
{
	if (s->n_runs == s->cap_runs) {
		size_t cap = s->cap_runs ? 2 * s->cap_runs : 4;
		struct run **v = reallocarray(s->runs, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->runs = v;
		s->cap_runs = cap;
	}
	s->runs[s->n_runs++] = r;
	return 0;
}

void session_run_ended(struct session *s, struct run *r)
{
	for (size_t i = 0; i < s->n_runs; i++) {
		if (s->runs[i] != r)
			continue;
		memmove(&s->runs[i], &s->runs[i + 1],
			(s->n_runs - i - 1) * sizeof(*s->runs));
		s->n_runs--;
		return;
	}
}

/* ---- request handlers ---- */

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

static uint64_t self_rss_bytes(void)
{
	char buf[128] = "";
	unsigned long size = 0, rss = 0;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sscanf(buf, "%lu %lu", &size, &rss) != 2)
		return 0;
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
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
	st.daemon_rss_bytes = self_rss_bytes();
	st.has_uptime_ns = true;
	st.uptime_ns = server_uptime_ns(s->srv);
	engine_pool_stats(server_engine(s->srv), &ps);
	pool.has_size = pool.has_target = pool.has_hits = true;
	pool.has_misses = pool.has_refill_failures = true;
	pool.has_member_rss_bytes = pool.has_prebuilt = true;
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

/*
 * A frame checked on the wire (request_wire_peek()'s result r, info and
 * err) and, if it passed, decoded into req: a request over a cap is
 * refused without having been decoded.
 */
static void handle_checked(struct session *s, int r,
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

static void session_decoded(struct decode_job *job);

/*
 * A whole frame is in s->rd. A small one is checked and decoded here; a
 * large one off the loop (decoder.h), and reading pauses until it comes
 * back. Returns false when reading must pause.
 */
static bool handle_frame(struct session *s)
{
	struct request_wire info;
	struct error_detail err;
	Boxd__V1__Request *req = NULL;
	struct decode_job *job;
	int r;

	/* Without memory for a job, a large frame is handled here too:
	 * slower for everyone, but the client gets its answer. */
	job = s->rd.body_len > DECODER_INLINE_MAX ? calloc(1, sizeof(*job))
						  : NULL;
	if (!job) {
		r = request_wire_peek(s->rd.body, s->rd.body_len, &info, &err);
		if (r == 0)
			req = boxd__v1__request__unpack(NULL, s->rd.body_len,
							s->rd.body);
		handle_checked(s, r, &info, &err, req);
		boxd__v1__request__free_unpacked(req, NULL);
		return true;
	}
	job->body = s->rd.body;
	job->len = s->rd.body_len;
	job->done = session_decoded;
	job->userdata = s;
	s->job = job;
	event_del(s->rd_ev);
	decoder_submit(server_decoder(s->srv), job);
	return false;
}

/* Back on the loop with a large frame handled. The session may have
 * closed meanwhile, or been freed (then the job owns the body). */
static void session_decoded(struct decode_job *job)
{
	struct session *s = job->userdata;

	if (!s) {
		decode_job_dispose(job); /* the body is the job's */
		return;
	}
	s->job = NULL;
	/* A closing session's reader keeps its body and frees it. */
	job->body = NULL;
	if (!s->closing) {
		handle_checked(s, job->peek, &job->info, &job->err, job->req);
		job->body = frame_reader_take_body(&s->rd);
		if (!s->closing)
			event_add(s->rd_ev, NULL);
	}
	decode_job_dispose(job);
}

/* A read error, said in words the peer can act on. */
static void session_read_failed(struct session *s, int r)
{
	char why[128];

	if (r == -ENOBUFS) {
		log_ratelimited(LOG_WARNING,
				"uid %u: request buffers full (max-buffered); "
				"dropping its connection",
				s->peer.cred.uid);
		session_send_error(s, 0, BOXD__V1__ERROR_CODE__BUSY,
				   "the daemon's buffers for incoming requests "
				   "are full; try again later",
				   NULL, 0, 0);
		session_close(s);
		return;
	}
	if (r == -EMSGSIZE && !s->version)
		snprintf(why, sizeof(why),
			 "frame larger than the daemon's maximum before the "
			 "Hello (%d bytes)",
			 PREHELLO_FRAME_MAX);
	else if (r == -EMSGSIZE)
		snprintf(why, sizeof(why),
			 "frame larger than the daemon's maximum (%u bytes)",
			 s->rd.max);
	else
		snprintf(why, sizeof(why), "%s",
			 r == -EPROTO ? frame_fault_str(s->rd.fault)
				      : "read error");
	session_protocol_error(s, 0, why);
}

static void session_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	bool partial;

	(void)fd;
	(void)what;
	for (int i = 0; i < FRAMES_PER_WAKEUP && !s->closing; i++) {
		int r = frame_read(&s->rd, s->fd);

		if (r == 0)
			break;
		if (r == -ECONNRESET) {
			session_close(s);
			return;
		}
		if (r < 0) {
			session_read_failed(s, r);
			return;
		}
		if (!handle_frame(s))
			return; /* decoding off the loop; reading waits */
		/* fds the handler did not take and the body go now. */
		frame_reader_reset(&s->rd);
	}
	if (s->closing || !s->version)
		return;
	/* A frame begun must end within frame-timeout: a peer trickling
	 * bytes holds a buffer and a slot. */
	partial = s->rd.hdr_got > 0 || s->rd.body;
	if (partial && !event_pending(s->timer_ev, EV_TIMEOUT, NULL)) {
		struct timeval tv =
		    ns_to_timeval(cfgref_config(s->cfg)->frame_timeout_ns);

		event_add(s->timer_ev, &tv);
	} else if (!partial) {
		event_del(s->timer_ev);
	}
}

/* The handshake's or a frame's deadline passed. */
static void session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->closing)
		return;
	if (!s->version) {
		log_ratelimited(LOG_NOTICE,
				"uid %u pid %d: no Hello in time; closing",
				s->peer.cred.uid, s->peer.cred.pid);
		session_protocol_error(s, 0,
				       "no Hello within handshake-timeout");
		return;
	}
	log_ratelimited(LOG_NOTICE,
			"uid %u pid %d: a frame was not completed in time; "
			"closing",
			s->peer.cred.uid, s->peer.cred.pid);
	session_protocol_error(
	    s, 0, "a frame was not completed within frame-timeout");
}

static void session_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_flush(arg);
}

void session_close(struct session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	event_del(s->rd_ev);
	event_del(s->wr_ev);
	event_del(s->timer_ev);
	for (size_t i = 0; i < s->n_runs; i++)
		run_detach(s->runs[i]);
	s->n_runs = 0;
	server_session_closed(s->srv, s, s->peer.cred.uid, s->version != 0);
}

void session_free(struct session *s)
{
	/* A last error sent just before closing: one more non-blocking try
	 * to get it out. */
	if (s->out && evbuffer_get_length(s->out) > 0)
		(void)out_write(s);
	while (s->out_fds) {
		struct out_fd *f = s->out_fds;

		s->out_fds = f->next;
		safe_close(f->fd);
		free(f);
	}
	if (s->job) {
		/* Still being decoded: the job keeps the body and frees it. */
		s->job->userdata = NULL;
		s->rd.body = NULL;
	}
	if (s->rd_ev)
		event_free(s->rd_ev);
	if (s->wr_ev)
		event_free(s->wr_ev);
	if (s->timer_ev)
		event_free(s->timer_ev);
	if (s->out)
		evbuffer_free(s->out);
	frame_reader_reset(&s->rd);
	safe_close(s->fd);
	cfgref_unref(s->cfg);
	free(s->runs);
	peer_done(&s->peer);
	if (s->is_confined)
		tenant_release(&s->confined);
	free(s);
}

/* ---- accepting ---- */

struct session *session_new(struct server *srv, int fd, struct peer *peer)
{
	const struct config *cfg = server_config(srv);
	struct session *s = calloc(1, sizeof(*s));
	struct timeval handshake;

	if (!s) {
		close(fd);
		peer_done(peer);
		return NULL;
	}
	s->peer = *peer;
	s->srv = srv;
	s->fd = fd;
	/* Until the Hello is answered: a few KiB, no fds, and charged to
	 * the daemon-wide budget like every request body. */
	frame_reader_init(&s->rd, PREHELLO_FRAME_MAX);
	s->rd.max_fds = 0;
	s->rd.budget = server_frame_budget(srv);
	s->out = evbuffer_new();
	s->out_fds_tail = &s->out_fds;
	s->rd_ev = event_new(server_base(srv), fd, EV_READ | EV_PERSIST,
			     session_read_cb, s);
	s->wr_ev =
	    event_new(server_base(srv), fd, EV_WRITE, session_write_cb, s);
	s->timer_ev = evtimer_new(server_base(srv), session_timer_cb, s);
	if (!s->out || !s->rd_ev || !s->wr_ev || !s->timer_ev) {
		s->closing = true;
		session_free(s);
		return NULL;
	}
	handshake = ns_to_timeval(cfg->handshake_timeout_ns);
	event_add(s->rd_ev, NULL);
	event_add(s->timer_ev, &handshake);
	return s;
}
