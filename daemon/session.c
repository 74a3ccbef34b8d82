/*
 * Connections. A session is one client connection: its identity comes
 * from SO_PEERCRED/SO_PEERGROUPS at accept and never from a message.
 * Requests are dispatched from a table that says how many fds each may
 * carry and whether it needs the handshake first; anything else costs the
 * client its connection, never the daemon.
 *
 * Every resource a client controls is bounded: frame size (before any
 * allocation), fds per frame, queued output, connections per tenant.
 * A closed session is freed from the server's graveyard event on a later
 * loop turn, never inside the callback that is using it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-build.h"
#include "frame.h"
#include "log.h"
#include "server-internal.h"

/* ---- sending ---- */

static void session_flush(struct session *s)
{
	while (evbuffer_get_length(s->out) > 0) {
		int n = evbuffer_write(s->out, s->fd);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
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

void session_send(struct session *s, const Boxd__V1__Event *ev)
{
	size_t len = boxd__v1__event__get_packed_size(ev);
	uint8_t hdr[FRAME_HEADER_SIZE];
	struct evbuffer_iovec vec;

	if (s->closing)
		return;
	/* A client that does not read its events gets dropped rather than
	 * growing our memory without bound. */
	if (evbuffer_get_length(s->out) + len > OUT_MAX) {
		log_warning("uid %u: not reading its events, dropping it",
			    s->cred.uid);
		session_close(s);
		return;
	}
	frame_header(hdr, (uint32_t)len);
	if (evbuffer_add(s->out, hdr, sizeof(hdr)) < 0 ||
	    evbuffer_reserve_space(s->out, len, &vec, 1) < 1) {
		session_close(s);
		return;
	}
	boxd__v1__event__pack(ev, vec.iov_base);
	vec.iov_len = len;
	evbuffer_commit_space(s->out, &vec, 1);
	session_flush(s);
}

void session_send_error(struct session *s, Boxd__V1__ErrorCode code,
			const char *msg, const char *step, int err,
			uint64_t run_id)
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
	session_send(s, &ev);
}

/* A protocol violation: say why if we still can, then hang up. */
static void session_protocol_error(struct session *s, const char *why)
{
	log_info("uid %u pid %d: protocol error: %s", s->cred.uid, s->cred.pid,
		 why);
	session_send_error(s, BOXD__V1__ERROR_CODE__PROTOCOL, why, NULL, 0, 0);
	session_close(s);
}

/* ---- request handlers ---- */

static const char *const namespaces[] = {"user", "mnt", "pid",   "net",
					 "ipc",  "uts", "cgroup"};
/* What a client must not assume of every version-1 daemon. */
static const char *const features[] = {"dry_run"};

static void fill_host_info(struct session *s, Boxd__V1__HostInfo *h,
			   const char **limits, const char **nets,
			   const char **profiles)
{
	struct cgroup_manager *cg = engine_cgroups(s->srv->engine);
	size_t nl = 0, nn = 0;
	unsigned can = cg ? cgroup_manager_can(cg) : 0;
	static char *controllers[16];
	static char ctl_buf[256];
	size_t nc = 0;

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

		snprintf(ctl_buf, sizeof(ctl_buf), "%s",
			 cgroup_manager_controllers(cg));
		for (tok = strtok_r(ctl_buf, " ", &save);
		     tok && nc < ELEMENTSOF(controllers);
		     tok = strtok_r(NULL, " ", &save))
			controllers[nc++] = tok;
	}
	h->n_controllers = nc;
	h->controllers = controllers;
	limits[nl++] = "timeout";
	if (can & CGROUP_CAN_MEMORY)
		limits[nl++] = "memory";
	if (can & CGROUP_CAN_SWAP)
		limits[nl++] = "swap";
	if (can & CGROUP_CAN_CPUS)
		limits[nl++] = "cpus";
	if (can & CGROUP_CAN_PIDS)
		limits[nl++] = "pids";
	if (can & CGROUP_CAN_CPU_TIME)
		limits[nl++] = "cpu_time";
	h->n_limits = nl;
	h->limits = (char **)limits;
	h->has_seccomp = true;
	h->seccomp = true;
	h->has_landlock = true;
	h->landlock = s->srv->host_landlock;
	nets[nn++] = "none";
	nets[nn++] = "loopback";
	if (!s->tenant || s->tenant->allow_net_host)
		nets[nn++] = "host";
	h->n_nets = nn;
	h->nets = (char **)nets;
	profiles[0] = "default";
	profiles[1] = "bare";
	h->n_profiles = 2;
	h->profiles = (char **)profiles;
	h->n_features = ELEMENTSOF(features);
	h->features = (char **)features;
}

unsigned session_count_for_uid(struct server *srv, uid_t uid, bool runs)
{
	unsigned n = 0;

	if (runs) {
		struct run *r;

		LIST_FOREACH (r, &srv->runs, link)
			n += r->uid == uid;
	} else {
		struct session *s;

		LIST_FOREACH (s, &srv->sessions, link)
			n += s->cred.uid == uid && s->hello && !s->closing;
	}
	return n;
}

static void handle_hello(struct session *s, const Boxd__V1__Request *req,
			 int *fds)
{
	const Boxd__V1__Hello *h = req->hello;
	const struct config *cfg = s->srv->cfg->cfg;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply reply = BOXD__V1__HELLO_REPLY__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;
	const char *limits[8], *nets[4], *profiles[2];
	bool v1 = false;
	char msg[256];

	(void)fds;
	if (s->hello) {
		session_protocol_error(s, "second Hello on one connection");
		return;
	}
	for (size_t i = 0; i < h->n_versions; i++)
		v1 |= h->versions[i] == PROTOCOL_VERSION;
	if (!v1) {
		session_protocol_error(s,
				       "no common protocol version (the daemon "
				       "speaks version 1)");
		return;
	}
	s->cfg = cfgref_ref(s->srv->cfg);
	s->tenant = config_tenant(cfg, s->cred.uid, s->cred.gid, s->groups,
				  s->n_groups);
	/* A private-uid run that reached the socket would otherwise be a
	 * stranger under [default], outside its own tenant's ceilings. */
	if (cfg->private_uid_count &&
	    ((s->cred.uid >= cfg->private_uid_first &&
	      s->cred.uid - cfg->private_uid_first < cfg->private_uid_count) ||
	     (s->cred.gid >= cfg->private_uid_first &&
	      s->cred.gid - cfg->private_uid_first < cfg->private_uid_count)))
		s->tenant = NULL;
	if (!s->tenant || !s->tenant->allow_connect) {
		snprintf(msg, sizeof(msg), "uid %u may not use this daemon",
			 s->cred.uid);
		log_notice("refused uid %u pid %d: not allowed to connect",
			   s->cred.uid, s->cred.pid);
		session_send_error(s, BOXD__V1__ERROR_CODE__DENIED, msg, NULL,
				   0, 0);
		session_close(s);
		return;
	}
	if (s->tenant->max_connections &&
	    session_count_for_uid(s->srv, s->cred.uid, false) >=
		s->tenant->max_connections) {
		snprintf(msg, sizeof(msg),
			 "tenant '%s' already has %u connections (its "
			 "ceiling)",
			 s->tenant->name, s->tenant->max_connections);
		session_send_error(s, BOXD__V1__ERROR_CODE__BUSY, msg, NULL, 0,
				   0);
		session_close(s);
		return;
	}
	s->hello = true;
	fill_host_info(s, &host, limits, nets, profiles);
	reply.version = PROTOCOL_VERSION;
	reply.daemon_version = (char *)BOXD_VERSION;
	reply.host = &host;
	reply.has_uid = reply.has_gid = true;
	reply.uid = s->cred.uid;
	reply.gid = s->cred.gid;
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &reply;
	session_send(s, &ev);
}

static bool may_see(const struct session *s, const struct run *r)
{
	return s->cred.uid == 0 || r->uid == s->cred.uid;
}

static void handle_kill(struct session *s, const Boxd__V1__Request *req,
			int *fds)
{
	const Boxd__V1__KillRequest *k = req->kill;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__KillReply reply = BOXD__V1__KILL_REPLY__INIT;
	struct run *r;
	char msg[128];

	(void)fds;
	if (k->signal <= 0 || k->signal >= _NSIG) {
		session_send_error(s, BOXD__V1__ERROR_CODE__BAD_REQUEST,
				   "kill: signal out of range", NULL, 0,
				   k->run_id);
		return;
	}
	LIST_FOREACH (r, &s->srv->runs, link)
		if (r->id == k->run_id && may_see(s, r))
			break;
	/* Another tenant's run looks exactly like no run at all. */
	if (!r) {
		snprintf(msg, sizeof(msg), "no run %llu",
			 (unsigned long long)k->run_id);
		session_send_error(s, BOXD__V1__ERROR_CODE__NOT_FOUND, msg,
				   NULL, 0, k->run_id);
		return;
	}
	sandbox_kill(r->sb, RUN_KILLED, k->signal);
	reply.run_id = r->id;
	ev.msg_case = BOXD__V1__EVENT__MSG_KILLED;
	ev.killed = &reply;
	session_send(s, &ev);
}

static void handle_list(struct session *s, const Boxd__V1__Request *req,
			int *fds)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__RunList list = BOXD__V1__RUN_LIST__INIT;
	Boxd__V1__RunInfo *infos, **ptrs;
	uint64_t now = now_ns();
	struct run *r;
	size_t n = 0;

	(void)req;
	(void)fds;
	infos = calloc(s->srv->n_runs + 1, sizeof(*infos));
	ptrs = calloc(s->srv->n_runs + 1, sizeof(*ptrs));
	if (!infos || !ptrs) {
		free(infos);
		free(ptrs);
		session_send_error(s, BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return;
	}
	LIST_FOREACH (r, &s->srv->runs, link) {
		Boxd__V1__RunInfo *i = &infos[n];

		if (!may_see(s, r))
			continue;
		boxd__v1__run_info__init(i);
		i->run_id = r->id;
		i->uid = r->uid;
		i->has_pid = true;
		i->pid = sandbox_pid(r->sb);
		i->has_argv0 = true;
		i->argv0.data = (uint8_t *)r->argv0;
		i->argv0.len = r->argv0 ? strlen(r->argv0) : 0;
		if (r->tag) {
			i->has_tag = true;
			i->tag.data = (uint8_t *)r->tag;
			i->tag.len = strlen(r->tag);
		}
		i->has_elapsed_ns = true;
		i->elapsed_ns = now - sandbox_started_ns(r->sb);
		ptrs[n++] = i;
	}
	list.n_runs = n;
	list.runs = ptrs;
	ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
	ev.list = &list;
	session_send(s, &ev);
	free(infos);
	free(ptrs);
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

static void handle_status(struct session *s, const Boxd__V1__Request *req,
			  int *fds)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Status st = BOXD__V1__STATUS__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;
	Boxd__V1__PoolStats pool = BOXD__V1__POOL_STATS__INIT;
	struct engine_pool_stats ps;
	const char *limits[8], *nets[4], *profiles[2];

	(void)req;
	(void)fds;
	fill_host_info(s, &host, limits, nets, profiles);
	st.daemon_version = (char *)BOXD_VERSION;
	st.host = &host;
	st.has_runs = st.has_connections = true;
	st.runs = s->srv->n_runs;
	st.connections = s->srv->n_sessions;
	st.has_daemon_rss_bytes = true;
	st.daemon_rss_bytes = self_rss_bytes();
	st.has_uptime_ns = true;
	st.uptime_ns = now_ns() - s->srv->start_ns;
	engine_pool_stats(s->srv->engine, &ps);
	pool.has_size = pool.has_target = pool.has_hits = true;
	pool.has_misses = pool.has_refill_failures = true;
	pool.has_member_rss_bytes = true;
	pool.size = ps.size;
	pool.target = ps.target;
	pool.hits = ps.hits;
	pool.misses = ps.misses;
	pool.refill_failures = ps.refill_failures;
	pool.member_rss_bytes = ps.member_rss_bytes;
	st.pool = &pool;
	ev.msg_case = BOXD__V1__EVENT__MSG_STATUS;
	ev.status = &st;
	session_send(s, &ev);
}

/* What each request may carry and need; the table is the whole API. */
static const struct handler {
	Boxd__V1__Request__MsgCase kind;
	const char *name;
	size_t n_fds;
	bool needs_hello;
	void (*fn)(struct session *s, const Boxd__V1__Request *req, int *fds);
} handlers[] = {
    {BOXD__V1__REQUEST__MSG_HELLO, "hello", 0, false, handle_hello},
    {BOXD__V1__REQUEST__MSG_RUN, "run", 3, true, run_handle_request},
    {BOXD__V1__REQUEST__MSG_KILL, "kill", 0, true, handle_kill},
    {BOXD__V1__REQUEST__MSG_LIST, "list", 0, true, handle_list},
    {BOXD__V1__REQUEST__MSG_STATUS, "status", 0, true, handle_status},
};

static void handle_frame(struct session *s)
{
	const struct handler *h = NULL;
	Boxd__V1__Request *req;
	char why[128];

	req = boxd__v1__request__unpack(NULL, s->rd.body_len, s->rd.body);
	if (!req) {
		session_protocol_error(s,
				       "frame is not a valid boxd.v1.Request");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(handlers); i++)
		if (handlers[i].kind == req->msg_case)
			h = &handlers[i];
	if (!h) {
		session_protocol_error(s, "unknown or empty request type");
	} else if (s->rd.n_fds != h->n_fds) {
		snprintf(why, sizeof(why),
			 "%s request carries %zu file descriptors, expected "
			 "exactly %zu",
			 h->name, s->rd.n_fds, h->n_fds);
		session_protocol_error(s, why);
	} else if (h->needs_hello && !s->hello) {
		session_protocol_error(s, "the first request must be Hello");
	} else {
		h->fn(s, req, s->rd.fds);
	}
	boxd__v1__request__free_unpacked(req, NULL);
}

static void session_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < FRAMES_PER_WAKEUP && !s->closing; i++) {
		int r = frame_read(&s->rd, s->fd);

		if (r == 0)
			return;
		if (r == -ECONNRESET) {
			session_close(s);
			return;
		}
		if (r < 0) {
			session_protocol_error(
			    s, r == -EMSGSIZE
				   ? "frame larger than the daemon's "
				     "maximum"
			       : r == -EPROTO ? frame_fault_str(s->rd.fault)
					      : "read error");
			return;
		}
		handle_frame(s);
		/* fds the handler did not take (dup'd by the engine) and
		 * the body go now. */
		frame_reader_reset(&s->rd);
	}
}

static void session_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_flush(arg);
}

void session_close(struct session *s)
{
	struct server *srv = s->srv;

	if (s->closing)
		return;
	s->closing = true;
	event_del(s->rd_ev);
	event_del(s->wr_ev);
	if (s->run) {
		struct run *r = s->run;

		r->sess = NULL;
		s->run = NULL;
		if (r->req.die_with_client)
			sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
	}
	LIST_REMOVE(s, link);
	srv->n_sessions--;
	LIST_INSERT_HEAD(&srv->dead_sessions, s, dead);
	server_gc(srv);
}

void session_free(struct session *s)
{
	/* A last error sent just before closing: one more non-blocking try
	 * to get it out. */
	if (s->out && evbuffer_get_length(s->out) > 0)
		evbuffer_write(s->out, s->fd);
	event_free(s->rd_ev);
	event_free(s->wr_ev);
	evbuffer_free(s->out);
	frame_reader_reset(&s->rd);
	safe_close(s->fd);
	cfgref_unref(s->cfg);
	free(s->groups);
	free(s);
}

/* ---- accepting ---- */

static int read_peer(struct session *s)
{
	socklen_t len = sizeof(s->cred);
	gid_t small[64];

	if (getsockopt(s->fd, SOL_SOCKET, SO_PEERCRED, &s->cred, &len) < 0)
		return -errno;
	len = sizeof(small);
	if (getsockopt(s->fd, SOL_SOCKET, SO_PEERGROUPS, small, &len) < 0) {
		if (errno != ERANGE)
			return -errno;
		s->groups = malloc(len);
		if (!s->groups)
			return -ENOMEM;
		if (getsockopt(s->fd, SOL_SOCKET, SO_PEERGROUPS, s->groups,
			       &len) < 0)
			return -errno;
	} else {
		s->groups = malloc(len ? len : 1);
		if (!s->groups)
			return -ENOMEM;
		memcpy(s->groups, small, len);
	}
	s->n_groups = len / sizeof(gid_t);
	return 0;
}

struct session *session_new(struct server *srv, int fd)
{
	const struct config *cfg = srv->cfg->cfg;
	struct session *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return NULL;
	}
	s->srv = srv;
	s->fd = fd;
	frame_reader_init(&s->rd, cfg->max_frame_bytes ? cfg->max_frame_bytes
						       : FRAME_MAX_DEFAULT);
	s->out = evbuffer_new();
	s->rd_ev =
	    event_new(srv->base, fd, EV_READ | EV_PERSIST, session_read_cb, s);
	s->wr_ev = event_new(srv->base, fd, EV_WRITE, session_write_cb, s);
	LIST_INSERT_HEAD(&srv->sessions, s, link);
	srv->n_sessions++;
	if (!s->out || !s->rd_ev || !s->wr_ev || read_peer(s) < 0) {
		session_close(s);
		return NULL;
	}
	if (cfg->max_connections && srv->n_sessions > cfg->max_connections) {
		session_send_error(s, BOXD__V1__ERROR_CODE__BUSY,
				   "too many connections", NULL, 0, 0);
		session_close(s);
		return NULL;
	}
	event_add(s->rd_ev, NULL);
	return s;
}
