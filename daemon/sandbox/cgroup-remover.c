/*
 * The rmdir of a finished run's cgroup, on a thread of its own.
 *
 * Removing a cgroup directory usually takes microseconds, but now and then
 * the kernel makes it wait for its cgroup teardown and an RCU grace
 * period: milliseconds (18 ms seen on v1), during which the daemon's loop
 * would read no request and send no result. The remover takes that wait
 * off the loop. It is given a cgroup only once the loop has seen it
 * empty, so all it does is unlinkat(): a directory still busy (a task
 * that left the process list but not yet the cgroup) is retried with
 * backoff for CGROUP_EMPTY_WAIT_NS, then left with a warning, as the
 * reap list would (the daemon's sweep removes it at its next start or
 * stop).
 *
 * What it touches: the manager's root directory fds, which live until
 * cgroup_manager_free() has stopped the thread (remover_stop() removes
 * everything queued first), and its own queue under its mutex. No other
 * manager or run state, no allocation outside the queue, no log but the
 * final warning. Its signals are blocked. The caller's groups, which the
 * daemon takes for the instant of a cold clone, reach it too and change
 * nothing for root's rmdir in cgroupfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"

struct rm_job {
	int dirfds[_CGROUP_V1_MAX]; /* the manager's: never closed here */
	size_t n;
	char rel[64];
	struct rm_job *next;
};

struct cgroup_remover {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rm_job *head, **tail;
	bool stop;
};

/* unlinkat() in every directory; true once none is left. */
static bool rm_once(struct rm_job *j)
{
	size_t left = 0;

	for (size_t i = 0; i < j->n; i++) {
		if (j->dirfds[i] < 0)
			continue;
		if (unlinkat(j->dirfds[i], j->rel, AT_REMOVEDIR) == 0 ||
		    errno == ENOENT)
			j->dirfds[i] = -1;
		else
			left++;
	}
	return left == 0;
}

static void rm_job(struct rm_job *j)
{
	uint64_t deadline = now_ns() + CGROUP_EMPTY_WAIT_NS;
	unsigned round = 0;

	while (!rm_once(j)) {
		if (now_ns() >= deadline) {
			log_warning("cgroup: %s stays busy; left for the sweep",
				    j->rel);
			return;
		}
		cgroup_backoff(&round);
	}
}

static void *remover_main(void *arg)
{
	struct cgroup_remover *rm = arg;

	pthread_mutex_lock(&rm->lock);
	for (;;) {
		struct rm_job *j = rm->head;

		if (!j) {
			if (rm->stop)
				break;
			pthread_cond_wait(&rm->cond, &rm->lock);
			continue;
		}
		rm->head = j->next;
		if (!rm->head)
			rm->tail = &rm->head;
		pthread_mutex_unlock(&rm->lock);
		rm_job(j);
		free(j);
		pthread_mutex_lock(&rm->lock);
	}
	pthread_mutex_unlock(&rm->lock);
	return NULL;
}

int remover_start(struct cgroup_remover **ret)
{
	struct cgroup_remover *rm = calloc(1, sizeof(*rm));
	sigset_t all, old;
	int r;

	if (!rm)
		return -ENOMEM;
	pthread_mutex_init(&rm->lock, NULL);
	pthread_cond_init(&rm->cond, NULL);
	rm->tail = &rm->head;
	/* Signals are the loop's (libevent's signal events). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&rm->thread, NULL, remover_main, rm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		pthread_cond_destroy(&rm->cond);
		pthread_mutex_destroy(&rm->lock);
		free(rm);
		return r;
	}
	*ret = rm;
	return 0;
}

int remover_queue(struct cgroup_remover *rm, const int *dirfds, size_t n,
		  const char *rel)
{
	struct rm_job *j;

	if (!rm || n > _CGROUP_V1_MAX || strlen(rel) >= sizeof(j->rel))
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	memcpy(j->dirfds, dirfds, n * sizeof(int));
	j->n = n;
	strcpy(j->rel, rel);
	pthread_mutex_lock(&rm->lock);
	*rm->tail = j;
	rm->tail = &j->next;
	pthread_cond_signal(&rm->cond);
	pthread_mutex_unlock(&rm->lock);
	return 0;
}

struct cgroup_remover *remover_stop(struct cgroup_remover *rm)
{
	if (!rm)
		return NULL;
	pthread_mutex_lock(&rm->lock);
	rm->stop = true;
	pthread_cond_signal(&rm->cond);
	pthread_mutex_unlock(&rm->lock);
	pthread_join(rm->thread, NULL);
	pthread_cond_destroy(&rm->cond);
	pthread_mutex_destroy(&rm->lock);
	free(rm);
	return NULL;
}
