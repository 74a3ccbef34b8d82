/*
 * The pre-warmed pool: pid 1s already in fresh namespaces, each in the
 * cgroup its run will have, waiting for a spec. A member is handed out only once it
 * has said INIT_READY (boxd-init runs and waits for its take message) and
 * while its pidfd says it lives; it serves exactly one run. Refill is
 * paced by the caller, with hysteresis between the low watermark and the
 * target, and backs off after failures, so a broken host does not turn
 * the daemon into a clone loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "engine-internal.h"
#include "initmsg.h"

int member_poll_ready(struct member *m)
{
	struct init_report rep;

	while (!m->ready) {
		ssize_t n = recv(m->ctl, &rep, sizeof(rep), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n == 0 ? -EPIPE : negerrno();
		/* Only INIT_READY comes before the take; anything else (a
		 * failed exec of boxd-init) makes the member useless. */
		if (n != sizeof(rep) || rep.magic != INIT_MAGIC ||
		    rep.kind != INIT_READY)
			return -EPROTO;
		m->ready = true;
		m->prebuilt = rep.ready_flags & INIT_READY_PREBUILT;
	}
	return 1;
}

static bool same_mount(const struct spec_mount *a, const struct spec_mount *b)
{
	return a->kind == b->kind && a->flags == b->flags &&
	       a->size == b->size && a->mode == b->mode &&
	       str_same(a->src, b->src) && str_same(a->dst, b->dst) &&
	       !a->upper && !b->upper && !a->data_len && !b->data_len;
}

bool pool_spec_is_plan(const struct engine *e, const struct run_spec *spec)
{
	if (!e->n_plan || spec->n_mounts != e->n_plan || spec->write_ephemeral)
		return false;
	for (size_t i = 0; i < e->n_plan; i++)
		if (!same_mount(&spec->mounts[i], &e->plan[i]))
			return false;
	return true;
}

/* A pooled member has every namespace but the host's network, and no
 * supplementary groups (groups beyond the primary one change permission
 * checks): a caller with groups gets a fresh pid 1. */
bool pool_serves(const struct run_spec *spec, const struct run_ids *ids)
{
	if (spec->net == SPEC_NET_HOST)
		return false;
	for (size_t i = 0; i < ids->n_groups; i++)
		if (ids->groups[i] != ids->host_gid)
			return false;
	return true;
}

/* Unlink *pp from the pool; returns it. */
static struct member *pool_unlink(struct engine *e, struct member **pp)
{
	struct member *m = *pp;

	*pp = m->next;
	m->next = NULL;
	e->stats.size--;
	return m;
}

struct member *pool_take(struct engine *e)
{
	struct member **pp = &e->pool;

	while (*pp) {
		struct member *m = *pp;
		int r = member_poll_ready(m);

		if (r > 0 && member_alive(m))
			return pool_unlink(e, pp);
		if (r == 0 && member_alive(m)) {
			/* Still starting: leave it for a later run. */
			pp = &m->next;
			continue;
		}
		e->stats.died_idle++;
		member_free(pool_unlink(e, pp), true);
	}
	return NULL;
}

/* At most this many members still finishing their set-up are waited on
 * at once (the pool's target is rarely larger), plus the spawner. */
#define AWAIT_MAX_FDS 32

/*
 * Fill fds with what to wait on for a member: the control socket of each
 * live member not ready yet, and the spawner's while it owes answers.
 * Returns how many, or -1 when a member is ready now.
 */
static int await_fds(struct engine *e, struct pollfd *fds, int max)
{
	int n = 0;

	for (struct member *m = e->pool; m; m = m->next) {
		int r = member_poll_ready(m);

		if (!member_alive(m))
			continue; /* pool_take() will drop it */
		if (r > 0)
			return -1;
		if (r == 0 && n < max - 1)
			fds[n++] =
			    (struct pollfd){.fd = m->ctl, .events = POLLIN};
	}
	if (e->inflight && e->spawner_fd >= 0)
		fds[n++] =
		    (struct pollfd){.fd = e->spawner_fd, .events = POLLIN};
	return n;
}

int engine_pool_should_wait(struct engine *e, const struct run_spec *spec,
			    const struct run_ids *ids)
{
	struct pollfd fds[AWAIT_MAX_FDS];

	if (!e->pool_wait_ns || !pool_serves(spec, ids))
		return 0;
	/* The usual case, a member known ready, costs no system call here:
	 * pool_take() checks that it lives. */
	for (struct member *m = e->pool; m; m = m->next)
		if (m->ready)
			return 0;
	return await_fds(e, fds, AWAIT_MAX_FDS) > 0;
}

uint64_t engine_pool_wait_ns(const struct engine *e)
{
	return e->pool_wait_ns;
}

int engine_pool_await_fd(struct engine *e)
{
	struct pollfd fds[AWAIT_MAX_FDS];
	int n = await_fds(e, fds, AWAIT_MAX_FDS);

	e->await_ep = safe_close(e->await_ep);
	if (n <= 0)
		return -1;
	e->await_ep = epoll_create1(EPOLL_CLOEXEC);
	if (e->await_ep < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN};

		/* The spawner's socket has its own watch (engine_pool_fd()). */
		if (fds[i].fd == e->spawner_fd)
			continue;
		ev.data.fd = fds[i].fd;
		(void)epoll_ctl(e->await_ep, EPOLL_CTL_ADD, fds[i].fd, &ev);
	}
	return e->await_ep;
}

/*
 * The pool shares the pids budget of the daemon's cgroup subtree (and of
 * its ancestors: a unit's TasksMax) with the runs, and idle members must
 * never be what makes a run's fork fail. A run's forks happen inside its
 * sandbox, where the daemon cannot see them coming; so the pool keeps a
 * generous reserve of pids free for runs at all times, and where the
 * budget is tighter than that it gives its members back and stays empty:
 * on such a host every run starts cold and has the whole budget. Without
 * a pids limit anywhere this costs a few reads of pids.max per refill and
 * run.
 */
static uint64_t pids_reserve(const struct engine *e)
{
	return 4 * (uint64_t)e->stats.target + 16;
}

static uint64_t pids_room(const struct engine *e)
{
	uint64_t room;

	if (!e->cg || cgroup_manager_pids_room(e->cg, &room) < 0)
		return UINT64_MAX;
	return room;
}

/*
 * Drop the oldest members while fewer pids than the reserve are free.
 * Returns the room left for runs (UINT64_MAX: no budget, or unreadable).
 * A dropped member's pid is free only once it is reaped, so after a drop
 * the room is read again rather than counted.
 */
uint64_t pool_fit(struct engine *e)
{
	uint64_t room = pids_room(e);
	bool dropped = false;

	while (e->pool && room < pids_reserve(e)) {
		struct member **pp = &e->pool;

		while ((*pp)->next)
			pp = &(*pp)->next;
		member_free(pool_unlink(e, pp), true);
		e->stats.released++;
		room++;
		dropped = true;
	}
	return dropped ? pids_room(e) : room;
}

bool engine_pool_wants(const struct engine *e)
{
	const struct engine_pool_stats *s = &e->stats;
	unsigned coming = s->size + e->inflight;

	if (coming >= s->target)
		return false;
	return e->refilling || coming < s->low;
}

/* One more member still leaves the whole reserve to the runs: the same
 * line pool_fit() holds, so that a refill never takes back the pids that
 * pool_fit() gave up for runs already under way (their forks come later,
 * inside their sandboxes, where the daemon cannot see them). Members
 * asked of the spawner and not yet answered count as there: one arrives
 * whenever its clone is done. */
static bool pool_has_room(const struct engine *e)
{
	uint64_t room = pids_room(e);

	return room == UINT64_MAX ||
	       room >= pids_reserve(e) + (uint64_t)e->inflight + 1;
}

/* A cgroup of its own for the next member, or NULL without cgroups. */
static int member_cgroup(struct engine *e, struct cgroup_run **ret)
{
	*ret = NULL;
	if (!e->cg || cgroup_manager_mode(e->cg) == CGROUP_MODE_NONE)
		return 0;
	return cgroup_run_prepare(e->cg, ret);
}

/*
 * One member in a cgroup of its own that will be its run's: born in it on
 * v2, attached right after the clone on v1, before it can run anything.
 * The take then writes only limits (cgroup.h). This is the daemon cloning
 * on its own thread, for when there is no spawner.
 */
static int member_spawn_placed(struct engine *e, struct member **ret)
{
	struct run_error err = {0};
	struct cgroup_run *cg = NULL;
	struct member *m = NULL;
	int r, cgfd;

	r = member_cgroup(e, &cg);
	if (r < 0)
		return r;
	cgfd = cg ? cgroup_run_clone_fd(cg) : -1;
	r = member_spawn(e, true, cgfd, NULL, 0, &m, &err);
	if (r < 0) {
		cgroup_run_free(cg);
		return r;
	}
	m->cg = cg;
	if (cg && cgfd < 0) {
		r = cgroup_run_attach(cg, m->pid);
		if (r < 0) {
			member_free(m, true);
			return r;
		}
	}
	*ret = m;
	return 0;
}

static void pool_add(struct engine *e, struct member *m)
{
	m->next = e->pool;
	e->pool = m;
	e->stats.size++;
}

/* After a failed member: 10 ms doubling up to 10 s, so a broken host does
 * not turn the daemon into a clone loop. Returns the delay. */
static uint64_t refill_back_off(struct engine *e, uint64_t now)
{
	uint64_t delay = 10000000ULL
			 << (e->fail_streak < 10 ? e->fail_streak : 10);

	if (delay > 10000000000ULL)
		delay = 10000000000ULL;
	e->stats.refill_failures++;
	e->fail_streak++;
	e->retry_at_ns = now + delay;
	return delay;
}

/* Ask the spawner for a member; the answer comes to engine_pool_fd(). */
static int refill_by_spawner(struct engine *e)
{
	struct cgroup_run *cg = NULL;
	bool reserved = false;
	int r;

	/* Named here, made by the spawner: a mkdir of a cgroup can wait
	 * milliseconds for the kernel, and never on the loop. */
	if (e->cg && cgroup_manager_mode(e->cg) != CGROUP_MODE_NONE) {
		r = cgroup_run_reserve(e->cg, &cg);
		reserved = r >= 0;
		if (r == -EOPNOTSUPP)
			r = cgroup_run_prepare(e->cg, &cg);
		if (r < 0)
			return r;
	}
	r = spawner_request(e, cg, reserved);
	if (r < 0) {
		/* The spawner is gone or stuck: clone here from now on. */
		cgroup_run_free(cg);
		spawner_stop(e);
	}
	return r;
}

int engine_pool_refill(struct engine *e, uint64_t *ret_retry_ns)
{
	struct member *m = NULL;
	uint64_t now = now_ns();
	int r;

	if (!engine_pool_wants(e)) {
		e->refilling = false;
		return 0;
	}
	e->refilling = true;
	if (now < e->retry_at_ns) {
		*ret_retry_ns = e->retry_at_ns - now;
		return -EAGAIN;
	}
	if (!pool_has_room(e)) {
		/* Not a failure: the runs need the pids. Look again later. */
		e->refilling = false;
		return 0;
	}
	if (e->spawner_fd >= 0) {
		r = refill_by_spawner(e);
		if (r >= 0)
			return 1;
	}
	r = member_spawn_placed(e, &m);
	if (r < 0) {
		*ret_retry_ns = refill_back_off(e, now);
		return r;
	}
	e->fail_streak = 0;
	pool_add(e, m);
	if (e->stats.size >= e->stats.target)
		e->refilling = false;
	return 1;
}

int engine_pool_fd(const struct engine *e)
{
	return e->spawner_fd;
}

int engine_pool_dispatch(struct engine *e, uint64_t *ret_retry_ns)
{
	int added = 0;

	while (e->spawner_fd >= 0) {
		struct run_error err = {0};
		struct member *m = NULL;
		bool gone;
		int r = spawner_receive(e, &m, &err, &gone);

		if (r == 0)
			break;
		if (r < 0) {
			*ret_retry_ns = refill_back_off(e, now_ns());
			if (gone)
				return r;
			continue;
		}
		e->fail_streak = 0;
		pool_add(e, m);
		added++;
	}
	if (e->stats.size >= e->stats.target)
		e->refilling = false;
	return added;
}

unsigned engine_pool_maintain(struct engine *e)
{
	struct member **pp = &e->pool;
	unsigned dead = 0;

	while (*pp) {
		struct member *m = *pp;

		if (member_poll_ready(m) >= 0 && member_alive(m)) {
			pp = &m->next;
			continue;
		}
		e->stats.died_idle++;
		dead++;
		member_free(pool_unlink(e, pp), true);
	}
	(void)pool_fit(e);
	/* The quiet moment to top the pool up to its target. */
	if (e->stats.size < e->stats.target)
		e->refilling = true;
	return dead;
}

void engine_pool_stats(struct engine *e, struct engine_pool_stats *ret)
{
	*ret = e->stats;
	ret->member_rss_bytes = e->pool ? proc_rss_bytes(e->pool->pid) : 0;
}
