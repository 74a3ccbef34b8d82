/*
 * Connections and runs. A session is one client connection: its identity
 * comes from SO_PEERCRED/SO_PEERGROUPS at accept and never from a message.
 * Requests are dispatched from a table that says how many fds each may
 * carry and whether it needs the handshake first; anything else costs the
 * client its connection, never the daemon.
 *
 * Every resource a client controls is bounded: frame size (before any
 * allocation), fds per frame, queued output, runs per connection (one in
 * flight), runs and connections per tenant. Objects reached from event
 * callbacks are freed from a separate "graveyard" event on a later loop
 * turn, never inside the callback that is using them.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box.pb-c.h"
#include "config-build.h"
#include "frame.h"
#include "log.h"
#include "plan.h"
#include "request.h"
#include "seccomp.h"
#include "session.h"

#define PROTOCOL_VERSION 1
#define OUT_MAX (4u << 20)     /* queued output per connection */
#define FRAMES_PER_WAKEUP 16   /* fairness between clients */
#define SHUTDOWN_GRACE_SEC 5
/* A retry can meet another member killed in the same sweep. */
#define RUN_MAX_RETRIES 8

struct cfgref {
	unsigned refs;
	struct config *cfg;
};

struct session;

struct run {
	LIST_ENTRY(run) link;
	LIST_ENTRY(run) dead;
	struct server *srv;
	struct session *sess; /* NULL once the client is gone */
	uint64_t id;
	uid_t uid;
	struct sandbox *sb;
	struct event *ctl_ev, *pid_ev, *timeout_ev, *cpu_ev;
	char *argv0, *tag;
	struct request_out req;
	struct run_ids ids;
	uint64_t start_unix_ns; /* CLOCK_REALTIME of the sandbox's start */
	int stdio[3];   /* held until the command starts, for a retry */
	unsigned retries; /* lost pooled members replaced so far */
	bool finished;
};

struct session {
	LIST_ENTRY(session) link;
	LIST_ENTRY(session) dead;
	struct server *srv;
	int fd;
	struct event *rd_ev, *wr_ev;
	struct evbuffer *out;
	struct frame_reader rd;
	struct ucred cred;
	gid_t *groups;
	size_t n_groups;
	struct cfgref *cfg;
	const struct tenant_policy *tenant;
	bool hello;
	bool closing;
	struct run *run;
};

struct server {
	struct event_base *base;
	struct engine *engine;
	struct cfgref *cfg;
	int listen_fd;
	struct event *listen_ev, *resume_ev, *gc_ev, *grace_ev;
	struct event *refill_ev, *retry_ev, *maint_ev;
	bool refilling;
	LIST_HEAD(, session) sessions;
	LIST_HEAD(, run) runs;
	LIST_HEAD(, session) dead_sessions;
	LIST_HEAD(, run) dead_runs;
	unsigned n_sessions, n_runs;
	uint64_t next_run_id;
	uint64_t start_ns;
	uint32_t private_cursor; /* next private uid to try */
	bool host_landlock;
	bool stopping;
	unsigned pool_low;
};

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

static struct cfgref *cfgref_ref(struct cfgref *c)
{
	c->refs++;
	return c;
}

static struct cfgref *cfgref_unref(struct cfgref *c)
{
	if (c && --c->refs == 0) {
		config_free(c->cfg);
		free(c);
	}
	return NULL;
}

/* ---- sending ---- */

static void session_close(struct session *s);

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

static void session_send(struct session *s, const Boxd__V1__Event *ev)
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

static void send_error(struct session *s, Boxd__V1__ErrorCode code,
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
static void protocol_error(struct session *s, const char *why)
{
	log_info("uid %u pid %d: protocol error: %s", s->cred.uid,
		 s->cred.pid, why);
	send_error(s, BOXD__V1__ERROR_CODE__PROTOCOL, why, NULL, 0, 0);
	session_close(s);
}

/* ---- runs ---- */

static void gc_schedule(struct server *srv)
{
	event_active(srv->gc_ev, EV_TIMEOUT, 0);
}

static void run_bury(struct run *r)
{
	struct server *srv = r->srv;

	if (r->finished)
		return;
	r->finished = true;
	if (r->ctl_ev)
		event_del(r->ctl_ev);
	if (r->pid_ev)
		event_del(r->pid_ev);
	if (r->timeout_ev)
		event_del(r->timeout_ev);
	if (r->cpu_ev)
		event_del(r->cpu_ev);
	LIST_REMOVE(r, link);
	srv->n_runs--;
	if (r->sess && r->sess->run == r)
		r->sess->run = NULL;
	r->sess = NULL;
	LIST_INSERT_HEAD(&srv->dead_runs, r, dead);
	gc_schedule(srv);
	if (srv->stopping && srv->n_runs == 0)
		event_base_loopbreak(srv->base);
}

static void run_release_stdio(struct run *r)
{
	for (int i = 0; i < 3; i++)
		r->stdio[i] = safe_close(r->stdio[i]);
}

static void run_free(struct run *r)
{
	run_release_stdio(r);
	if (r->ctl_ev)
		event_free(r->ctl_ev);
	if (r->pid_ev)
		event_free(r->pid_ev);
	if (r->timeout_ev)
		event_free(r->timeout_ev);
	if (r->cpu_ev)
		event_free(r->cpu_ev);
	sandbox_free(r->sb);
	request_out_clear(&r->req);
	free(r->argv0);
	free(r->tag);
	free(r);
}

static Boxd__V1__Termination termination_to_proto(enum run_termination t)
{
	switch (t) {
	case RUN_EXITED:
		return BOXD__V1__TERMINATION__EXITED;
	case RUN_SIGNALED:
		return BOXD__V1__TERMINATION__SIGNALED;
	case RUN_OUT_OF_MEMORY:
		return BOXD__V1__TERMINATION__OUT_OF_MEMORY;
	case RUN_WALL_TIMEOUT:
		return BOXD__V1__TERMINATION__WALL_TIMEOUT;
	case RUN_CPU_TIMEOUT:
		return BOXD__V1__TERMINATION__CPU_TIMEOUT;
	case RUN_KILLED:
		return BOXD__V1__TERMINATION__KILLED;
	}
	return BOXD__V1__TERMINATION__SIGNALED;
}

/* The wall-clock time of a CLOCK_MONOTONIC instant a moment ago (the
 * engine stamps starts with the monotonic clock). */
static uint64_t realtime_of(uint64_t mono_ns)
{
	struct timespec ts;
	uint64_t now_real, now_mono = now_ns();

	clock_gettime(CLOCK_REALTIME, &ts);
	now_real = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return now_real - (now_mono - mono_ns);
}

static void send_result(struct run *r, const struct run_result *res)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Result out = BOXD__V1__RESULT__INIT;

	out.run_id = r->id;
	out.termination = termination_to_proto(res->termination);
	if (res->termination == RUN_EXITED) {
		out.has_exit_code = true;
		out.exit_code = res->exit_code;
	}
	if (res->signal) {
		out.has_signal = true;
		out.signal = res->signal;
	}
	out.wall_ns = res->wall_ns;
	out.user_ns = res->user_ns;
	out.system_ns = res->system_ns;
	out.peak_rss_bytes = res->peak_rss_bytes;
	if (res->peak_source != RUN_PEAK_NONE) {
		out.has_peak_memory_bytes = true;
		out.peak_memory_bytes = res->peak_memory_bytes;
		out.has_peak_memory_source = true;
		out.peak_memory_source =
			res->peak_source == RUN_PEAK_CGROUP
				? BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_CGROUP
				: BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_RUSAGE;
	}
	if (engine_cgroups(r->srv->engine) &&
	    cgroup_manager_mode(engine_cgroups(r->srv->engine)) !=
		    CGROUP_MODE_NONE) {
		out.has_oom_kills = true;
		out.oom_kills = res->oom_kills;
	}
	if (res->peak_pids) {
		out.has_peak_pids = true;
		out.peak_pids = res->peak_pids;
	}
	if (res->seccomp_syscall >= 0) {
		const char *name = seccomp_syscall_name(res->seccomp_syscall,
							res->seccomp_arch);
		static char buf[32];

		if (!name) {
			snprintf(buf, sizeof(buf), "syscall %d",
				 res->seccomp_syscall);
			name = buf;
		}
		out.seccomp_syscall = (char *)name;
	}
	out.n_caveats = r->req.n_caveats;
	out.caveats = r->req.caveats;
	out.has_start_time_unix_ns = r->start_unix_ns != 0;
	out.start_time_unix_ns = r->start_unix_ns;
	ev.msg_case = BOXD__V1__EVENT__MSG_RESULT;
	ev.result = &out;
	session_send(r->sess, &ev);
}

static void send_run_error(struct run *r, const struct run_error *err)
{
	char msg[512];
	bool exec = strcmp(err->step, "execve") == 0;

	snprintf(msg, sizeof(msg), "%s%s%s: %s", err->step,
		 err->detail[0] ? " " : "", err->detail, strerror(err->err));
	send_error(r->sess,
		   exec ? BOXD__V1__ERROR_CODE__EXEC_FAILED
			: BOXD__V1__ERROR_CODE__SETUP_FAILED,
		   msg, err->step, err->err, r->id);
}

static int run_watch_sandbox(struct run *r);

/*
 * The pooled member this run got died before it started (a kill racing
 * the take). Nothing of the caller's ran: start it again on a fresh
 * sandbox with the same stdio (a few times at most).
 */
static int run_restart(struct run *r)
{
	struct run_error err = {0};
	struct sandbox *sb = NULL;

	r->retries++;
	if (r->stdio[0] < 0 || r->srv->stopping)
		return -ESTALE;
	if (sandbox_start(r->srv->engine, r->id, r->req.spec, &r->ids, r->stdio,
			  &sb, &err) < 0)
		return -EIO;
	log_notice("run %llu: its pooled sandbox died before starting; "
		   "started again", (unsigned long long)r->id);
	event_free(r->ctl_ev);
	event_free(r->pid_ev);
	r->ctl_ev = r->pid_ev = NULL;
	sandbox_free(r->sb);
	r->sb = sb;
	r->start_unix_ns = realtime_of(sandbox_started_ns(sb));
	if (run_watch_sandbox(r) < 0) {
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
		return -ENOMEM;
	}
	return 0;
}

/* The command ended (pid 1 said so) or pid 1 itself exited: answer. */
static void run_end(struct run *r)
{
	struct run_result res;
	struct run_error err = {0};
	int ret;

	/* The ctl fd is closed by finish: unregister both first. */
	event_del(r->ctl_ev);
	event_del(r->pid_ev);
	ret = sandbox_finish(r->sb, &res, &err);
	if (ret == -EAGAIN) {
		event_add(r->ctl_ev, NULL);
		event_add(r->pid_ev, NULL);
		return;
	}
	if (ret == 1 && r->retries < RUN_MAX_RETRIES &&
	    sandbox_lost_member(r->sb) &&
	    run_restart(r) == 0)
		return;
	if (r->sess) {
		if (ret == 0)
			send_result(r, &res);
		else if (ret == 1)
			send_run_error(r, &err);
		else
			send_error(r->sess, BOXD__V1__ERROR_CODE__INTERNAL,
				   "cannot collect the run's status", NULL, 0,
				   r->id);
	}
	if (ret == 0)
		log_debug("run %llu ended: termination %d code %d signal %d",
			  (unsigned long long)r->id, res.termination,
			  res.exit_code, res.signal);
	run_bury(r);
}

static void run_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_end(arg);
}

static void run_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	int ret;

	(void)fd;
	(void)what;
	ret = sandbox_on_ctl(r->sb);
	if (ret == 1)
		run_release_stdio(r);
	if (ret == 1 && r->sess) {
		Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
		Boxd__V1__Started st = BOXD__V1__STARTED__INIT;

		st.run_id = r->id;
		st.has_pid = true;
		st.pid = sandbox_pid(r->sb);
		ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
		ev.started = &st;
		session_send(r->sess, &ev);
	}
	if (sandbox_command_done(r->sb)) {
		run_end(r);
		return;
	}
	if (ret == -EPIPE)
		event_del(r->ctl_ev);
}

static void run_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	sandbox_kill(r->sb, RUN_WALL_TIMEOUT, SIGKILL);
}

static struct timeval ns_to_tv(uint64_t ns)
{
	return (struct timeval){
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000),
	};
}

static void run_cpu_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	uint64_t next = 0;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (sandbox_check_cpu(r->sb, &next) != 0)
		return;
	tv = ns_to_tv(next);
	event_add(r->cpu_ev, &tv);
}

/* ---- the pre-warmed pool: refilled between requests, one member per
 * loop turn, so a burst of runs is never queued behind a refill ---- */

static void pool_kick(struct server *srv)
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
		struct timeval tv = ns_to_tv(retry);

		if (r != -EAGAIN)
			log_warning("pool: cannot start a member (%s); retrying "
				    "in %llu ms", strerror(-r),
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

/* ---- request handlers ---- */

static const char *const namespaces[] = {"user", "mnt", "pid", "net",
					 "ipc", "uts", "cgroup"};
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

static unsigned count_for_uid(struct server *srv, uid_t uid, bool runs)
{
	unsigned n = 0;

	if (runs) {
		struct run *r;

		LIST_FOREACH(r, &srv->runs, link)
			n += r->uid == uid;
	} else {
		struct session *s;

		LIST_FOREACH(s, &srv->sessions, link)
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
		protocol_error(s, "second Hello on one connection");
		return;
	}
	for (size_t i = 0; i < h->n_versions; i++)
		v1 |= h->versions[i] == PROTOCOL_VERSION;
	if (!v1) {
		protocol_error(s, "no common protocol version (the daemon "
				  "speaks version 1)");
		return;
	}
	s->cfg = cfgref_ref(s->srv->cfg);
	s->tenant = config_tenant(cfg, s->cred.uid, s->cred.gid, s->groups,
				  s->n_groups);
	if (!s->tenant || !s->tenant->allow_connect) {
		snprintf(msg, sizeof(msg), "uid %u may not use this daemon",
			 s->cred.uid);
		log_notice("refused uid %u pid %d: not allowed to connect",
			   s->cred.uid, s->cred.pid);
		send_error(s, BOXD__V1__ERROR_CODE__DENIED, msg, NULL, 0, 0);
		session_close(s);
		return;
	}
	if (s->tenant->max_connections &&
	    count_for_uid(s->srv, s->cred.uid, false) >=
		    s->tenant->max_connections) {
		snprintf(msg, sizeof(msg),
			 "tenant '%s' already has %u connections (its "
			 "ceiling)", s->tenant->name,
			 s->tenant->max_connections);
		send_error(s, BOXD__V1__ERROR_CODE__BUSY, msg, NULL, 0, 0);
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

/*
 * A directory (or O_PATH) fd as stdio would let the sandbox fchdir() or
 * openat() straight out of its root. Only things you read and write are
 * accepted.
 */
static int check_stdio(const int fds[3], char *why, size_t len)
{
	static const char *const names[] = {"stdin", "stdout", "stderr"};

	for (int i = 0; i < 3; i++) {
		struct stat st;
		int fl = fcntl(fds[i], F_GETFL);

		if (fl < 0 || fstat(fds[i], &st) < 0) {
			snprintf(why, len, "%s: bad file descriptor", names[i]);
			return -EBADF;
		}
		if (fl & O_PATH) {
			snprintf(why, len, "%s: O_PATH descriptors are refused",
				 names[i]);
			return -EINVAL;
		}
		if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) &&
		    !S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode)) {
			snprintf(why, len,
				 "%s: only pipes, sockets, terminals, character "
				 "devices and regular files are accepted%s",
				 names[i],
				 S_ISDIR(st.st_mode) ? " (got a directory)" : "");
			return -EINVAL;
		}
	}
	return 0;
}

static int run_watch_sandbox(struct run *r)
{
	struct event_base *base = r->srv->base;

	r->ctl_ev = event_new(base, sandbox_ctl_fd(r->sb), EV_READ | EV_PERSIST,
			      run_ctl_cb, r);
	r->pid_ev = event_new(base, sandbox_pidfd(r->sb), EV_READ, run_exit_cb,
			      r);
	if (!r->ctl_ev || !r->pid_ev || event_add(r->ctl_ev, NULL) < 0 ||
	    event_add(r->pid_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static int run_watch(struct run *r, const struct run_spec *spec)
{
	struct event_base *base = r->srv->base;

	if (run_watch_sandbox(r) < 0)
		return -ENOMEM;
	if (spec->limits.timeout_ns) {
		struct timeval tv = ns_to_tv(spec->limits.timeout_ns);

		r->timeout_ev = evtimer_new(base, run_timeout_cb, r);
		if (!r->timeout_ev || evtimer_add(r->timeout_ev, &tv) < 0)
			return -ENOMEM;
	}
	if (spec->limits.cpu_time_ns) {
		uint64_t first = 0;
		struct timeval tv;

		r->cpu_ev = evtimer_new(base, run_cpu_cb, r);
		if (!r->cpu_ev)
			return -ENOMEM;
		if (sandbox_check_cpu(r->sb, &first) == 0) {
			tv = ns_to_tv(first);
			if (evtimer_add(r->cpu_ev, &tv) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int private_id_alloc(struct server *srv, const struct config *cfg,
			    uid_t *ret);

/* A dry run: the request passed every check a run gets; answer with what
 * would be built. No run id, no cgroup, no pool member, no process. */
static void send_plan(struct session *s, const Boxd__V1__RunRequest *req,
		      const struct request_out *out)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Plan *plan = NULL;
	struct plan_ids ids = {
		.host_uid = s->cred.uid,
		.host_gid = s->cred.gid,
		.private_ids = s->tenant->uid_mode == UID_MODE_PRIVATE,
	};

	if (plan_build(req, out, &ids, engine_tmpfs_default(s->srv->engine),
		       &plan) < 0) {
		send_error(s, BOXD__V1__ERROR_CODE__INTERNAL, "out of memory",
			   NULL, 0, 0);
		return;
	}
	ev.msg_case = BOXD__V1__EVENT__MSG_PLAN;
	ev.plan = plan;
	session_send(s, &ev);
	boxd__v1__plan__free_unpacked(plan, NULL);
}

static void handle_run(struct session *s, const Boxd__V1__Request *req,
		       int *fds)
{
	struct server *srv = s->srv;
	struct request_ctx ctx = {
		.cfg = s->cfg->cfg,
		.tenant = s->tenant,
		.cgroups = engine_cgroups(srv->engine),
		.uid = s->cred.uid,
		.gid = s->cred.gid,
	};
	struct request_error rerr;
	struct run_error err = {0};
	struct run_ids ids;
	struct run *r;
	char why[256];
	int ret;

	if (srv->stopping) {
		send_error(s, BOXD__V1__ERROR_CODE__BUSY,
			   "the daemon is shutting down", NULL, 0, 0);
		return;
	}
	if (s->run) {
		send_error(s, BOXD__V1__ERROR_CODE__BUSY,
			   "a run is already in flight on this connection; "
			   "open another connection for parallel runs",
			   NULL, 0, 0);
		return;
	}
	if (check_stdio(fds, why, sizeof(why)) < 0) {
		send_error(s, BOXD__V1__ERROR_CODE__BAD_REQUEST, why, NULL, 0,
			   0);
		return;
	}
	/* A dry run starts nothing, so the concurrent-run ceiling (a
	 * matter of the moment, not of the request) does not apply. */
	if (!req->run->dry_run && s->tenant->max_runs &&
	    count_for_uid(srv, s->cred.uid, true) >= s->tenant->max_runs) {
		snprintf(why, sizeof(why),
			 "tenant '%s' already has %u runs (its ceiling)",
			 s->tenant->name, s->tenant->max_runs);
		send_error(s, BOXD__V1__ERROR_CODE__BUSY, why, NULL, 0, 0);
		return;
	}

	r = calloc(1, sizeof(*r));
	if (!r) {
		send_error(s, BOXD__V1__ERROR_CODE__INTERNAL, "out of memory",
			   NULL, 0, 0);
		return;
	}
	if (request_to_spec(req->run, &ctx, &r->req, &rerr) < 0) {
		send_error(s, rerr.code, rerr.message, NULL, 0, 0);
		free(r);
		return;
	}
	if (req->run->dry_run) {
		send_plan(s, req->run, &r->req);
		request_out_clear(&r->req);
		free(r);
		return;
	}
	r->srv = srv;
	r->sess = s;
	r->id = ++srv->next_run_id;
	for (int i = 0; i < 3; i++)
		r->stdio[i] = -1;
	r->uid = s->cred.uid;
	r->argv0 = strdup(r->req.spec->argv[0]);
	r->tag = r->req.spec->tag ? strdup(r->req.spec->tag) : NULL;

	ids = (struct run_ids){
		.caller_uid = s->cred.uid,
		.caller_gid = s->cred.gid,
		.caller_pid = s->cred.pid,
		.host_uid = s->cred.uid,
		.host_gid = s->cred.gid,
	};
	if (s->tenant->uid_mode == UID_MODE_PRIVATE) {
		uid_t id;

		if (private_id_alloc(srv, s->cfg->cfg, &id) < 0) {
			send_error(s, BOXD__V1__ERROR_CODE__BUSY,
				   "every private uid is in use", NULL, 0, 0);
			request_out_clear(&r->req);
			free(r->argv0);
			free(r->tag);
			free(r);
			return;
		}
		ids.host_uid = id;
		ids.host_gid = (gid_t)id;
	}
	r->ids = ids;
	ret = sandbox_start(srv->engine, r->id, r->req.spec, &ids, fds,
			    &r->sb, &err);
	if (ret < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s%s%s: %s", err.step,
			 err.detail[0] ? " " : "", err.detail,
			 strerror(err.err));
		log_warning("run for uid %u failed to start: %s", s->cred.uid,
			    msg);
		send_error(s, BOXD__V1__ERROR_CODE__SETUP_FAILED, msg,
			   err.step, err.err, 0);
		request_out_clear(&r->req);
		free(r->argv0);
		free(r->tag);
		free(r);
		return;
	}
	r->start_unix_ns = realtime_of(sandbox_started_ns(r->sb));
	/* Hold the caller's stdio until the command starts (a lost pooled
	 * member is retried with it); the frame no longer owns them. */
	for (int i = 0; i < 3; i++) {
		r->stdio[i] = fds[i];
		fds[i] = -1;
	}
	LIST_INSERT_HEAD(&srv->runs, r, link);
	srv->n_runs++;
	s->run = r;
	pool_kick(srv);
	if (run_watch(r, r->req.spec) < 0) {
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
		send_error(s, BOXD__V1__ERROR_CODE__INTERNAL,
			   "cannot watch the run", NULL, 0, r->id);
		run_bury(r);
		return;
	}

	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Accepted acc = BOXD__V1__ACCEPTED__INIT;

	acc.run_id = r->id;
	ev.msg_case = BOXD__V1__EVENT__MSG_ACCEPTED;
	ev.accepted = &acc;
	session_send(s, &ev);
}

/*
 * Private uid mode: every run gets a host uid (and the same gid) of its
 * own from the configured range, so runs, even of one tenant, cannot
 * touch each other's files or processes. Handed out round-robin, so an id
 * is reused as late as possible; never while a run still holds it.
 */
static int private_id_alloc(struct server *srv, const struct config *cfg,
			    uid_t *ret)
{
	uint32_t count = cfg->private_uid_count;

	for (uint32_t i = 0; i < count; i++) {
		uid_t cand = cfg->private_uid_first +
			     (srv->private_cursor + i) % count;
		struct run *r;
		bool used = false;

		LIST_FOREACH(r, &srv->runs, link)
			if (r->ids.host_uid == cand) {
				used = true;
				break;
			}
		if (!used) {
			srv->private_cursor = (srv->private_cursor + i + 1) % count;
			*ret = cand;
			return 0;
		}
	}
	return -EBUSY;
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
		send_error(s, BOXD__V1__ERROR_CODE__BAD_REQUEST,
			   "kill: signal out of range", NULL, 0, k->run_id);
		return;
	}
	LIST_FOREACH(r, &s->srv->runs, link)
		if (r->id == k->run_id && may_see(s, r))
			break;
	/* Another tenant's run looks exactly like no run at all. */
	if (!r) {
		snprintf(msg, sizeof(msg), "no run %llu",
			 (unsigned long long)k->run_id);
		send_error(s, BOXD__V1__ERROR_CODE__NOT_FOUND, msg, NULL, 0,
			   k->run_id);
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
		send_error(s, BOXD__V1__ERROR_CODE__INTERNAL, "out of memory",
			   NULL, 0, 0);
		return;
	}
	LIST_FOREACH(r, &s->srv->runs, link) {
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
	{BOXD__V1__REQUEST__MSG_RUN, "run", 3, true, handle_run},
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
		protocol_error(s, "frame is not a valid boxd.v1.Request");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(handlers); i++)
		if (handlers[i].kind == req->msg_case)
			h = &handlers[i];
	if (!h) {
		protocol_error(s, "unknown or empty request type");
	} else if (s->rd.n_fds != h->n_fds) {
		snprintf(why, sizeof(why),
			 "%s request carries %zu file descriptors, expected "
			 "exactly %zu", h->name, s->rd.n_fds, h->n_fds);
		protocol_error(s, why);
	} else if (h->needs_hello && !s->hello) {
		protocol_error(s, "the first request must be Hello");
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
			protocol_error(s,
				       r == -EMSGSIZE
					       ? "frame larger than the daemon's "
						 "maximum"
				       : r == -EPROTO
					       ? "malformed frame or control data"
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

static void session_close(struct session *s)
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
	gc_schedule(srv);
}

static void session_free(struct session *s)
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

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (!srv->stopping)
		event_add(srv->listen_ev, NULL);
}

static void accept_one(struct server *srv, int fd)
{
	const struct config *cfg = srv->cfg->cfg;
	struct session *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return;
	}
	s->srv = srv;
	s->fd = fd;
	frame_reader_init(&s->rd, cfg->max_frame_bytes ? cfg->max_frame_bytes
						       : FRAME_MAX_DEFAULT);
	s->out = evbuffer_new();
	s->rd_ev = event_new(srv->base, fd, EV_READ | EV_PERSIST,
			     session_read_cb, s);
	s->wr_ev = event_new(srv->base, fd, EV_WRITE, session_write_cb, s);
	LIST_INSERT_HEAD(&srv->sessions, s, link);
	srv->n_sessions++;
	if (!s->out || !s->rd_ev || !s->wr_ev || read_peer(s) < 0) {
		session_close(s);
		return;
	}
	if (cfg->max_connections && srv->n_sessions > cfg->max_connections) {
		send_error(s, BOXD__V1__ERROR_CODE__BUSY,
			   "too many connections", NULL, 0, 0);
		session_close(s);
		return;
	}
	event_add(s->rd_ev, NULL);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			accept_one(srv, fd);
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

unsigned server_runs(const struct server *srv) { return srv->n_runs; }

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warning("%u runs did not end within %d s of shutdown",
		    srv->n_runs, SHUTDOWN_GRACE_SEC);
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
	LIST_FOREACH(r, &srv->runs, link)
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
	if (srv->n_runs == 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	srv->grace_ev = evtimer_new(srv->base, grace_cb, srv);
	if (srv->grace_ev)
		evtimer_add(srv->grace_ev, &tv);
}
