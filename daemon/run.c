/*
 * Runs: one request to run a command, from its checks to its result. A
 * run owns its sandbox and the caller's stdio until the command starts,
 * watches pid 1 (control socket, pidfd), enforces the wall and CPU time
 * limits, and sends exactly one Result or Error. A run whose pooled
 * sandbox was lost before it started is started again; a run whose
 * client is gone is killed (unless asked otherwise) and answers no one.
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
#include "plan.h"
#include "seccomp.h"
#include "server-internal.h"

void run_bury(struct run *r)
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
	server_gc(srv);
	if (srv->stopping && srv->n_runs == 0)
		event_base_loopbreak(srv->base);
}

static void run_release_stdio(struct run *r)
{
	for (int i = 0; i < 3; i++)
		r->stdio[i] = safe_close(r->stdio[i]);
}

void run_free(struct run *r)
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
	free(r->groups);
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
	session_send_error(r->sess,
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
		   "started again",
		   (unsigned long long)r->id);
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
	    sandbox_lost_member(r->sb) && run_restart(r) == 0)
		return;
	if (r->sess) {
		if (ret == 0)
			send_result(r, &res);
		else if (ret == 1)
			send_run_error(r, &err);
		else
			session_send_error(
			    r->sess, BOXD__V1__ERROR_CODE__INTERNAL,
			    "cannot collect the run's status", NULL, 0, r->id);
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

static void run_cpu_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	uint64_t next = 0;
	struct timeval tv;
	int ret;

	(void)fd;
	(void)what;
	ret = sandbox_check_cpu(r->sb, &next);
	if (ret == 1)
		return; /* over the limit: killed */
	if (ret < 0) {
		/* A failed read must not end enforcement: look again soon,
		 * and say so once. */
		if (!r->cpu_warned)
			log_warning("run %llu: cannot read its CPU time (%s); "
				    "retrying",
				    (unsigned long long)r->id, strerror(-ret));
		r->cpu_warned = true;
		next = 100000000ULL;
	}
	tv = ns_to_timeval(next);
	event_add(r->cpu_ev, &tv);
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

static int run_watch_sandbox(struct run *r)
{
	struct event_base *base = r->srv->base;

	r->ctl_ev = event_new(base, sandbox_ctl_fd(r->sb), EV_READ | EV_PERSIST,
			      run_ctl_cb, r);
	r->pid_ev =
	    event_new(base, sandbox_pidfd(r->sb), EV_READ, run_exit_cb, r);
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
		struct timeval tv = ns_to_timeval(spec->limits.timeout_ns);

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
			tv = ns_to_timeval(first);
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
		session_send_error(s, BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return;
	}
	ev.msg_case = BOXD__V1__EVENT__MSG_PLAN;
	ev.plan = plan;
	session_send(s, &ev);
	boxd__v1__plan__free_unpacked(plan, NULL);
}

void run_handle_request(struct session *s, const Boxd__V1__Request *req,
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
	struct error_detail rerr;
	struct run_error err = {0};
	struct run_ids ids;
	struct run *r;
	char why[256];
	int ret;

	if (srv->stopping) {
		session_send_error(s, BOXD__V1__ERROR_CODE__BUSY,
				   "the daemon is shutting down", NULL, 0, 0);
		return;
	}
	if (s->run) {
		session_send_error(
		    s, BOXD__V1__ERROR_CODE__BUSY,
		    "a run is already in flight on this connection; "
		    "open another connection for parallel runs",
		    NULL, 0, 0);
		return;
	}
	if (check_stdio(fds, why, sizeof(why)) < 0) {
		session_send_error(s, BOXD__V1__ERROR_CODE__BAD_REQUEST, why,
				   NULL, 0, 0);
		return;
	}
	/* A dry run starts nothing, so the concurrent-run ceiling (a
	 * matter of the moment, not of the request) does not apply. */
	if (!req->run->dry_run && s->tenant->max_runs &&
	    session_count_for_uid(srv, s->cred.uid, true) >=
		s->tenant->max_runs) {
		snprintf(why, sizeof(why),
			 "tenant '%s' already has %u runs (its ceiling)",
			 s->tenant->name, s->tenant->max_runs);
		session_send_error(s, BOXD__V1__ERROR_CODE__BUSY, why, NULL, 0,
				   0);
		return;
	}

	r = calloc(1, sizeof(*r));
	if (!r) {
		session_send_error(s, BOXD__V1__ERROR_CODE__INTERNAL,
				   "out of memory", NULL, 0, 0);
		return;
	}
	if (request_to_spec(req->run, &ctx, &rerr, &r->req) < 0) {
		session_send_error(s, request_error_code(rerr.kind),
				   rerr.message, NULL, 0, 0);
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
			session_send_error(s, BOXD__V1__ERROR_CODE__BUSY,
					   "every private uid is in use", NULL,
					   0, 0);
			request_out_clear(&r->req);
			free(r->argv0);
			free(r->tag);
			free(r);
			return;
		}
		ids.host_uid = id;
		ids.host_gid = (gid_t)id;
	}
	if (s->tenant->uid_mode != UID_MODE_PRIVATE && s->n_groups) {
		/* The run's own copy: it may outlive its session. */
		r->groups = malloc(s->n_groups * sizeof(gid_t));
		if (r->groups) {
			memcpy(r->groups, s->groups,
			       s->n_groups * sizeof(gid_t));
			ids.groups = r->groups;
			ids.n_groups = s->n_groups;
		}
	}
	r->ids = ids;
	ret = sandbox_start(srv->engine, r->id, r->req.spec, &ids, fds, &r->sb,
			    &err);
	if (ret < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s%s%s: %s", err.step,
			 err.detail[0] ? " " : "", err.detail,
			 strerror(err.err));
		log_warning("run for uid %u failed to start: %s", s->cred.uid,
			    msg);
		session_send_error(s, BOXD__V1__ERROR_CODE__SETUP_FAILED, msg,
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
	server_pool_kick(srv);
	if (run_watch(r, r->req.spec) < 0) {
		sandbox_kill(r->sb, RUN_KILLED, SIGKILL);
		session_send_error(s, BOXD__V1__ERROR_CODE__INTERNAL,
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
		uid_t cand =
		    cfg->private_uid_first + (srv->private_cursor + i) % count;
		struct run *r;
		bool used = false;

		LIST_FOREACH (r, &srv->runs, link)
			if (r->ids.host_uid == cand) {
				used = true;
				break;
			}
		if (!used) {
			srv->private_cursor =
			    (srv->private_cursor + i + 1) % count;
			*ret = cand;
			return 0;
		}
	}
	return -EBUSY;
}
