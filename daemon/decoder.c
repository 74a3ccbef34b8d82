/*
 * See decoder.h. One worker thread, two lists under one mutex: jobs to
 * decode, and jobs decoded and waiting for the loop. The worker wakes the
 * loop through an eventfd; the loop takes every finished job and calls
 * its done(). The worker touches a job's body and req only, so nothing
 * else of the daemon needs a lock.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "decoder.h"
#include "util.h"

struct decoder {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct decode_job *todo, **todo_tail; /* FIFO */
	struct decode_job *done, **done_tail;
	bool stopping;
	int efd;
	struct event *ev;
};

static struct decode_job *take_all(struct decode_job **head,
				   struct decode_job ***tail)
{
	struct decode_job *all = *head;

	*head = NULL;
	*tail = head;
	return all;
}

/* The worker's share of a busy CPU: what it decodes is the big frames,
 * the ones a hostile client sends in a loop, so when the CPUs are
 * contended everything else the daemon does (the loop, hence every other
 * client) comes first. Nice is per thread on Linux. Best effort: at worst
 * the worker keeps the daemon's own priority. */
#define DECODER_NICE 10

static void *worker(void *arg)
{
	struct decoder *d = arg;

	(void)!setpriority(PRIO_PROCESS, (id_t)gettid(), DECODER_NICE);
	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct decode_job *job;
		uint64_t one = 1;

		while (!d->todo && !d->stopping)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->stopping)
			break;
		job = d->todo;
		d->todo = job->next;
		if (!d->todo)
			d->todo_tail = &d->todo;
		pthread_mutex_unlock(&d->lock);

		job->req = boxd__v1__request__unpack(NULL, job->len, job->body);
		job->next = NULL;

		pthread_mutex_lock(&d->lock);
		*d->done_tail = job;
		d->done_tail = &job->next;
		(void)!write(d->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void deliver(struct decode_job *job)
{
	while (job) {
		struct decode_job *next = job->next;

		job->next = NULL;
		job->done(job);
		job = next;
	}
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct decoder *d = arg;
	struct decode_job *jobs;
	uint64_t n;

	(void)what;
	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&d->lock);
	jobs = take_all(&d->done, &d->done_tail);
	pthread_mutex_unlock(&d->lock);
	deliver(jobs);
}

int decoder_new(struct event_base *base, struct decoder **ret)
{
	struct decoder *d = calloc(1, sizeof(*d));
	sigset_t all, old;
	int r;

	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	d->todo_tail = &d->todo;
	d->done_tail = &d->done;
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0) {
		r = negerrno();
		decoder_free(d);
		return r;
	}
	d->ev = event_new(base, d->efd, EV_READ | EV_PERSIST, on_done, d);
	if (!d->ev || event_add(d->ev, NULL) < 0) {
		decoder_free(d);
		return -ENOMEM;
	}
	/* Signals are the loop's (signalfd-style through libevent): the
	 * worker blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&d->thread, NULL, worker, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		decoder_free(d);
		return r;
	}
	d->started = true;
	*ret = d;
	return 0;
}

struct decoder *decoder_free(struct decoder *d)
{
	struct decode_job *left;

	if (!d)
		return NULL;
	if (d->started) {
		pthread_mutex_lock(&d->lock);
		d->stopping = true;
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
	}
	/* Finished first, then those never started: done() with req NULL. */
	deliver(take_all(&d->done, &d->done_tail));
	left = take_all(&d->todo, &d->todo_tail);
	for (struct decode_job *j = left; j; j = j->next)
		j->req = NULL;
	deliver(left);
	if (d->ev)
		event_free(d->ev);
	safe_close(d->efd);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}

void decoder_submit(struct decoder *d, struct decode_job *job)
{
	job->next = NULL;
	job->req = NULL;
	pthread_mutex_lock(&d->lock);
	*d->todo_tail = job;
	d->todo_tail = &job->next;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}
