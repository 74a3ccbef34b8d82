/*
 * Runs: one request to run a command, from its checks to its result.
 *
 * A run is created only once the request passed every check (request.c
 * turns it into a spec under the tenant's policy); it then owns its
 * sandbox and watches the single fd the engine gives for it. Everything
 * about the sandbox itself (pid 1, a lost pool member, the time limits)
 * is the engine's: a run only turns what the engine says into protocol
 * events for its session, and sends exactly one Result or Error after
 * Accepted. A run whose session is gone answers no one and, unless it was
 * started with die_with_client off, is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "plan.h"
#include "request.h"
#include "run.h"
#include "seccomp.h"
#include "server.h"
#include "session.h"

struct run {
	struct server *srv;
	struct session *session; /* NULL once detached */
	uint64_t request_id;
	uint64_t id;
	uid_t uid;
	bool private_id; /* ids.host_uid is from the private range */
	struct run_ids ids;
	struct request_out req; /* spec, caveats, die_with_client */
	struct sandbox *sb;
	struct event *ev;
	char *argv0, *tag;
	uint64_t start_unix_ns; /* CLOCK_REALTIME of the sandbox's start */
	bool ended;
	/* Waiting for a pool member (run_handle()): the stdio it will
	 * start with, and when the wait ends at the latest. */
	bool waiting;
	int fds[3];
	uint64_t wait_deadline;
};

uint64_t run_id(const struct run *r)
{
	return r->id;
}
uint64_t run_request_id(const struct run *r)
{
	return r->request_id;
}
uid_t run_uid(const struct run *r)
{
	return r->uid;
}
const struct run_spec *run_spec(const struct run *r)
{
	return r->req.spec;
}
const struct run_ids *run_ids(const struct run *r)
{
	return &r->ids;
}
uint64_t run_wait_deadline(const struct run *r)
{
	return r->wait_deadline;
}

int run_has_peer(const struct run *r, const struct peer *p)
{
	int k;

	if (!r->sb)
		return 0;
	k = sandbox_has_pid(r->sb, p->cred.pid);
	if (k >= 0)
		return k;
	if (!p->n_pidns || !sandbox_pidns(r->sb))
		return k;
	return peer_in_pidns(p, sandbox_pidns(r->sb));
}

bool run_visible_to(const struct run *r, uid_t uid)
{
	return uid == 0 || r->uid == uid;
}

void run_free(struct run *r)
{
	if (!r)
		return;
	if (r->ev)
		event_free(r->ev);
	sandbox_free(r->sb);
	for (int i = 0; i < 3; i++)
		safe_close(r->fds[i]);
	if (r->private_id)
		server_private_id_release(r->srv, r->ids.host_uid);
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
	now_real = timespec_ns(&ts);
	return now_real - (now_mono - mono_ns);
}

static void send_result(struct run *r, const struct run_result *res)
{
	struct cgroup_manager *cg = engine_cgroups(server_engine(r->srv));
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Result out = BOXD__V1__RESULT__INIT;
	char unknown[32];

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
	if (cg && cgroup_manager_mode(cg) != CGROUP_MODE_NONE) {
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

		if (!name) {
			snprintf(unknown, sizeof(unknown), "syscall %d",
				 res->seccomp_syscall);
			name = unknown;
		}
		out.seccomp_syscall = (char *)name;
	}
	if (r->req.spec->no_exec) {
		out.has_execs_refused = true;
		out.execs_refused = res->execs_refused;
	}
	out.n_caveats = r->req.n_caveats;
	out.caveats = r->req.caveats;
	out.has_start_time_unix_ns = r->start_unix_ns != 0;
	out.start_time_unix_ns = r->start_unix_ns;
	ev.msg_case = BOXD__V1__EVENT__MSG_RESULT;
	ev.result = &out;
	session_send(r->session, r->request_id, &ev);
}

static void send_run_error(struct run *r, const struct run_error *err)
{
	char msg[512];
	bool exec = strcmp(err->step, "execve") == 0;

	snprintf(msg, sizeof(msg), "%s%s%s: %s", err->step,
		 err->detail[0] ? " " : "", err->detail, strerror(err->err));
	session_send_error(r->session, r->request_id,
			   exec ? BOXD__V1__ERROR_CODE__EXEC_FAILED
				: BOXD__V1__ERROR_CODE__SETUP_FAILED,
			   msg, err->step, err->err, r->id);
}

static void send_started(struct run *r, bool result_follows)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Started st = BOXD__V1__STARTED__INIT;

	st.run_id = r->id;
	st.has_pid = true;
	st.pid = sandbox_pid(r->sb);
	ev.msg_case = BOXD__V1__EVENT__MSG_STARTED;
	ev.started = &st;
	/* A tty run's terminal master goes to the caller with Started and
	 * the daemon keeps no copy: the caller is the only one who can type
	 * into the sandbox's terminal or read it. */
	if (result_follows)
		session_queue_fd(r->session, r->request_id, &ev,
				 sandbox_take_tty(r->sb));
	else
		session_send_fd(r->session, r->request_id, &ev,
				sandbox_take_tty(r->sb));
}

/* The last event went out (or no one is left to hear it): the run leaves
 * the server's books now and is freed on a later loop turn. */
static void run_end(struct run *r)
{
	const struct run_result *res = sandbox_result(r->sb);
	const struct run_error *err = sandbox_error(r->sb);

	r->ended = true;
	event_del(r->ev);
	if (r->session) {
		if (res)
			send_result(r, res);
		else
			send_run_error(r, err);
		session_run_ended(r->session, r);
		r->session = NULL;
	}
	if (res)
		log_debug("run %llu ended: termination %d code %d signal %d",
			  (unsigned long long)r->id, res->termination,
			  res->exit_code, res->signal);
	else
		log_debug("run %llu failed at %s: %s",
			  (unsigned long long)r->id, err->step,
			  strerror(err->err));
	server_run_ended(r->srv, r, r->uid);
}

static void run_sandbox_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	unsigned ev;

	(void)fd;
	(void)what;
	ev = sandbox_dispatch(r->sb);
	/* A short run's start and end come in one read of pid 1's reports:
	 * run_end() sends the Result (or the error), and Started goes out
	 * in the same write. */
	if ((ev & SANDBOX_EV_STARTED) && r->session)
		send_started(r, ev & SANDBOX_EV_ENDED);
	/* Nobody to hand a tty run's terminal to (its client left, the run
	 * outlives it): closing the master hangs the terminal up, as a
	 * closed terminal window would. */
	if (ev & SANDBOX_EV_STARTED)
		safe_close(sandbox_take_tty(r->sb));
	if (ev & SANDBOX_EV_ENDED)
		run_end(r);
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
			snprintf(
			    why, len,
			    "%s: only pipes, sockets, terminals, character "
			    "devices and regular files are accepted%s",
			    names[i],
			    S_ISDIR(st.st_mode) ? " (got a directory)" : "");
			return -EINVAL;
		}
	}
	return 0;
}

/* A dry run: the request passed every check a run gets; answer with what
 * would be built. No run id, no cgroup, no pool member, no process. */
static void send_plan(struct server *srv, const struct run_caller *caller,
		      const Boxd__V1__RunRequest *req,
		      const struct request_out *out)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Plan *plan = NULL;
	struct plan_ids ids = {
	    .host_uid = caller->cred.uid,
	    .host_gid = caller->cred.gid,
	    .private_ids = caller->tenant->uid_mode == UID_MODE_PRIVATE,
	};

	if (plan_build(req, out, &ids, engine_tmpfs_default(server_engine(srv)),
		       &plan) < 0) {
		session_send_error(caller->session, caller->request_id,
				   BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return;
	}
	ev.msg_case = BOXD__V1__EVENT__MSG_PLAN;
	ev.plan = plan;
	session_send(caller->session, caller->request_id, &ev);
	boxd__v1__plan__free_unpacked(plan, NULL);
}

/* The host ids the sandbox's ids map to: the caller's (with their
 * supplementary groups, so a group keeps granting and denying what it
 * does on the host), or a private uid of the tenant's range. */
static int run_pick_ids(struct run *r, const struct run_caller *caller)
{
	r->ids = (struct run_ids){
	    .caller_uid = caller->cred.uid,
	    .caller_gid = caller->cred.gid,
	    .caller_pid = caller->cred.pid,
	    .host_uid = caller->cred.uid,
	    .host_gid = caller->cred.gid,
	};
	if (caller->tenant->uid_mode == UID_MODE_PRIVATE) {
		uid_t id;
		int k = server_private_id_take(
		    r->srv, caller->cfg->private_uid_first,
		    caller->cfg->private_uid_count, &id);

		if (k < 0)
			return k;
		r->private_id = true;
		r->ids.host_uid = id;
		r->ids.host_gid = (gid_t)id;
		return 0;
	}
	/* The engine copies them: the session may close first. */
	r->ids.groups = caller->groups;
	r->ids.n_groups = caller->n_groups;
	return 0;
}

static int run_watch(struct run *r)
{
	r->ev = event_new(server_base(r->srv), sandbox_fd(r->sb),
			  EV_READ | EV_PERSIST, run_sandbox_cb, r);
	if (!r->ev || event_add(r->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static void send_accepted(struct run *r)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Accepted acc = BOXD__V1__ACCEPTED__INIT;

	acc.run_id = r->id;
	ev.msg_case = BOXD__V1__EVENT__MSG_ACCEPTED;
	ev.accepted = &acc;
	session_send(r->session, r->request_id, &ev);
}

/*
 * What the daemon ran out of, if errnum says it did. Everything
 * sandbox_start() does happens on the daemon's side, before the request's
 * mounts or command (those fail later, in the run's own record): its
 * descriptors, memory and processes are the daemon's, and a failure for
 * want of them is no fault of the request's.
 */
static const char *daemon_shortage(int errnum)
{
	switch (errnum) {
	case EAGAIN:
		return "processes";
	case ENOMEM:
		return "memory";
	case EMFILE:
	case ENFILE:
		return "file descriptors";
	default:
		return NULL;
	}
}

static struct run *run_begin(struct run *r, int fds[3]);
static struct run *run_wait(struct run *r, int fds[3]);

struct run *run_handle(struct server *srv, const struct run_caller *caller,
		       const Boxd__V1__RunRequest *req, int fds[3])
{
	const struct tenant_policy *tenant = caller->tenant;
	struct request_ctx ctx = {
	    .cfg = caller->cfg,
	    .tenant = tenant,
	    .cgroups = engine_cgroups(server_engine(srv)),
	    .outbound_missing = engine_outbound_missing(server_engine(srv)),
	    .uid = caller->cred.uid,
	    .gid = caller->cred.gid,
	};
	struct session *s = caller->session;
	uint64_t rid = caller->request_id;
	struct error_detail rerr;
	int no_stdio[3] = {-1, -1, -1};
	struct run *r;
	char why[256];

	/* A tty run carries no stdio (session-requests.c counted none): the
	 * sandbox's terminal is its stdio. */
	if (req->tty)
		fds = no_stdio;
	else if (check_stdio(fds, why, sizeof(why)) < 0) {
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__BAD_REQUEST,
				   why, NULL, 0, 0);
		return NULL;
	}
	/* A dry run starts nothing, so the concurrent-run ceiling (a
	 * matter of the moment, not of the request) does not apply. */
	if (!req->dry_run && tenant->max_runs &&
	    server_runs_of(srv, caller->cred.uid) >= tenant->max_runs) {
		snprintf(why, sizeof(why),
			 "tenant '%s' already has %u runs (its ceiling)",
			 tenant->name, tenant->max_runs);
		session_send_busy(s, rid, why, RETRY_RUN_ENDS_MS);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return NULL;
	}
	r->srv = srv;
	r->fds[0] = r->fds[1] = r->fds[2] = -1;
	if (request_to_spec(req, &ctx, &rerr, &r->req) < 0) {
		session_send_error(s, rid, request_error_code(rerr.kind),
				   rerr.message, NULL, 0, 0);
		run_free(r);
		return NULL;
	}
	if (req->dry_run) {
		send_plan(srv, caller, req, &r->req);
		run_free(r);
		return NULL;
	}
	r->session = s;
	r->request_id = rid;
	r->uid = caller->cred.uid;
	r->argv0 = strdup(r->req.spec->argv[0]);
	r->tag = r->req.spec->tag ? strdup(r->req.spec->tag) : NULL;
	if (run_pick_ids(r, caller) < 0) {
		session_send_busy(s, rid, "every private uid is in use",
				  RETRY_RUN_ENDS_MS);
		run_free(r);
		return NULL;
	}
	r->id = server_next_run_id(srv);
	if (server_pool_should_wait(srv, r->req.spec, &r->ids))
		return run_wait(r, fds);
	return run_begin(r, fds);
}

/*
 * Start r's sandbox with fds as its stdio (the slots it takes are set to
 * -1) and answer Accepted; or answer why not, take r off its session's
 * runs, free it and return NULL.
 */
static struct run *run_begin(struct run *r, int fds[3])
{
	struct server *srv = r->srv;
	struct session *s = r->session;
	uint64_t rid = r->request_id;
	struct run_error err = {0};

	if (sandbox_start(server_engine(srv), r->id, r->req.spec, &r->ids, fds,
			  &r->sb, &err) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s%s%s: %s", err.step,
			 err.detail[0] ? " " : "", err.detail,
			 strerror(err.err));
		log_warning("run for uid %u failed to start: %s", r->uid, msg);
		if (daemon_shortage(err.err)) {
			char busy[600];

			snprintf(busy, sizeof(busy),
				 "the daemon is short of %s (%s); try again",
				 daemon_shortage(err.err), msg);
			session_send_busy(s, rid, busy, RETRY_SHORTAGE_MS);
		} else {
			session_send_error(s, rid,
					   BOXD__V1__ERROR_CODE__SETUP_FAILED,
					   msg, err.step, err.err, 0);
		}
		if (s)
			session_run_ended(s, r);
		run_free(r);
		return NULL;
	}
	/* The engine holds its own duplicates until the command starts. */
	for (int i = 0; i < 3; i++)
		fds[i] = safe_close(fds[i]);
	r->ids.groups = NULL;
	r->start_unix_ns = realtime_of(sandbox_started_ns(r->sb));
	server_run_started(srv, r, r->uid);
	server_pool_kick(srv);
	if (run_watch(r) < 0) {
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
		session_send_error(s, rid, BOXD__V1__ERROR_CODE__INTERNAL,
				   "cannot watch the run", NULL, 0, r->id);
		if (s)
			session_run_ended(s, r);
		r->session = NULL;
		r->ended = true;
		server_run_ended(srv, r, r->uid);
		return NULL;
	}
	send_accepted(r);
	return r;
}

/*
 * Park r until a pool member is ready for it (run_resume()), holding its
 * stdio and its session: the client's next request is read once this one
 * has its answer, as for any other. Without memory to park it, it starts
 * now (cold) instead.
 */
static struct run *run_wait(struct run *r, int fds[3])
{
	r->wait_deadline =
	    now_ns() + engine_pool_wait_ns(server_engine(r->srv));
	if (server_park_run(r->srv, r) < 0)
		return run_begin(r, fds);
	for (int i = 0; i < 3; i++) {
		r->fds[i] = fds[i];
		fds[i] = -1;
	}
	r->waiting = true;
	session_hold(r->session);
	return r;
}

void run_resume(struct run *r)
{
	struct session *s = r->session;

	r->waiting = false;
	if (server_stopping(r->srv)) {
		session_send_error(s, r->request_id, BOXD__V1__ERROR_CODE__BUSY,
				   "the daemon is shutting down", NULL, 0, 0);
		session_run_ended(s, r);
		run_free(r);
	} else {
		(void)run_begin(r, r->fds);
	}
	session_release(s);
}

int run_signal(struct run *r, int sig)
{
	if (r->ended)
		return -ESRCH;
	return sandbox_kill(r->sb, RUN_KILLED, sig);
}

void run_detach(struct run *r)
{
	if (r->waiting) {
		server_unpark_run(r->srv, r);
		run_free(r);
		return;
	}
	r->session = NULL;
	if (r->req.die_with_client && !r->ended)
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
}

int run_confine(const struct run *r, const struct tenant_policy *base,
		struct tenant_policy *ret)
{
	const struct run_spec *spec = r->req.spec;
	const struct spec_limits *lim = &spec->limits;
	struct tenant_policy ceil = {
	    .max_memory_bytes = lim->memory_bytes,
	    .max_cpu_millis = lim->cpu_millis,
	    .max_pids = lim->pids,
	    .max_timeout_ns = lim->timeout_ns,
	    .max_cpu_time_ns = lim->cpu_time_ns,
	    /* A run without a network must not get one by asking boxd. */
	    .allow_net_outbound = spec->net == SPEC_NET_OUTBOUND,
	};
	_cleanup_free_ struct bind_rule *binds = NULL;
	size_t n = 0;
	char name[96];

	binds = calloc(spec->n_mounts ? spec->n_mounts : 1, sizeof(*binds));
	if (!binds)
		return -ENOMEM;
	/* The run's own binds, not its profile's: those are the daemon's
	 * choice and any run gets them anyway. */
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct spec_mount *m = &spec->mounts[i];

		if ((m->flags & SPEC_MOUNT_TRUSTED) || !m->src ||
		    (m->kind != SPEC_MOUNT_RO_BIND &&
		     m->kind != SPEC_MOUNT_BIND &&
		     m->kind != SPEC_MOUNT_DEV_BIND &&
		     m->kind != SPEC_MOUNT_OVERLAY))
			continue;
		binds[n].prefix = m->src;
		binds[n].writable = m->kind != SPEC_MOUNT_RO_BIND &&
				    m->kind != SPEC_MOUNT_OVERLAY;
		n++;
	}
	snprintf(name, sizeof(name), "%s (inside run %llu)", base->name,
		 (unsigned long long)r->id);
	return tenant_confine(base, &ceil, binds, n, name, ret);
}

void run_describe(const struct run *r, Boxd__V1__RunInfo *i, uint64_t now)
{
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
}
