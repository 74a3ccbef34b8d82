/*
 * The pre-warmed pool: pid 1s already in fresh namespaces (inside the
 * pool cgroup), waiting for a spec. A member serves exactly one run and is
 * never handed out dead. Refill is paced by the caller (between requests)
 * and backs off after failures, so a broken host does not turn the
 * daemon into a clone loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "engine-internal.h"

struct member *pool_take(struct engine *e)
{
	while (e->pool) {
		struct member *m = e->pool;

		e->pool = m->next;
		e->stats.size--;
		m->next = NULL;
		if (member_alive(m))
			return m;
		e->stats.died_idle++;
		member_free(m, true);
	}
	return NULL;
}

bool engine_pool_wants(const struct engine *e)
{
	return e->stats.target && e->stats.size < e->stats.target;
}

int engine_pool_refill(struct engine *e, uint64_t *ret_retry_ns)
{
	struct run_error err = {0};
	struct member *m;
	uint64_t now = now_ns();
	int r, cgfd = -1;

	if (!engine_pool_wants(e))
		return 0;
	if (now < e->retry_at_ns) {
		*ret_retry_ns = e->retry_at_ns - now;
		return -EAGAIN;
	}
	if (e->cg)
		cgfd = cgroup_manager_pool_fd(e->cg);
	r = member_spawn(e, true, cgfd, NULL, 0, &m, &err);
	if (r >= 0 && cgfd < 0 && e->cg &&
	    cgroup_manager_mode(e->cg) != CGROUP_MODE_NONE) {
		r = cgroup_manager_pool_attach(e->cg, m->pid);
		if (r < 0)
			m = member_free(m, true);
	}
	if (r < 0) {
		/* Back off: 10 ms doubling up to 10 s, so a broken host does
		 * not turn the daemon into a clone loop. */
		uint64_t delay = 10000000ULL
				 << (e->fail_streak < 10 ? e->fail_streak : 10);

		if (delay > 10000000000ULL)
			delay = 10000000000ULL;
		e->stats.refill_failures++;
		e->fail_streak++;
		e->retry_at_ns = now + delay;
		*ret_retry_ns = delay;
		return r;
	}
	e->fail_streak = 0;
	m->next = e->pool;
	e->pool = m;
	e->stats.size++;
	return 1;
}

unsigned engine_pool_maintain(struct engine *e)
{
	struct member **pp = &e->pool;
	unsigned dead = 0;

	while (*pp) {
		struct member *m = *pp;

		if (member_alive(m)) {
			pp = &m->next;
			continue;
		}
		*pp = m->next;
		e->stats.size--;
		e->stats.died_idle++;
		dead++;
		member_free(m, true);
	}
	return dead;
}

static uint64_t pid_rss_bytes(pid_t pid)
{
	char path[64], buf[128] = "";
	unsigned long size, rss;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sscanf(buf, "%lu %lu", &size, &rss) != 2)
		return 0;
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

unsigned engine_pool_size(const struct engine *e)
{
	return e->stats.size;
}

void engine_pool_stats(struct engine *e, struct engine_pool_stats *ret)
{
	*ret = e->stats;
	ret->member_rss_bytes = e->pool ? pid_rss_bytes(e->pool->pid) : 0;
}
