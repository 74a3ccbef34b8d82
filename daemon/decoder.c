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
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
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
	struct decode_job *trash, **trash_tail; /* to free */
	bool stopping;
	int efd;
	struct event *ev;
};

/*
 * The arena a job's request is unpacked into: blocks of at least
 * ARENA_BLOCK bytes, carved in order, freed together. They are mappings
 * of their own, not malloc's: their pages are paid for as they are used
 * and go back to the system when the job is freed, whatever malloc's
 * thresholds. protobuf-c frees through the allocator only what a failed
 * unpack built, which the arena frees with the rest.
 */
#define ARENA_BLOCK (1u << 20)

struct decode_arena {
	struct decode_arena *next; /* older blocks */
	size_t used, size;
	max_align_t data[];
};

static void *arena_alloc(void *userdata, size_t size)
{
	struct decode_arena **head = userdata, *b = *head;
	const size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (!b || b->size - b->used < size) {
		size_t want = size > ARENA_BLOCK ? size : ARENA_BLOCK;

		if (want > SIZE_MAX - sizeof(*b))
			return NULL;
		b = mmap(NULL, sizeof(*b) + want, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		b->next = *head;
		b->used = 0;
		b->size = want;
		*head = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

static void arena_free(void *userdata, void *ptr)
{
	(void)userdata;
	(void)ptr;
}

static void decode_job_free(struct decode_job *job)
{
	free(job->body);
	while (job->arena) {
		struct decode_arena *next = job->arena->next;

		munmap(job->arena, sizeof(*job->arena) + job->arena->size);
		job->arena = next;
	}
	free(job);
}

/* The worker's part of a job: peek, then unpack into the job's arena. */
static void decode(struct decode_job *job)
{
	ProtobufCAllocator a = {
	    .alloc = arena_alloc,
	    .free = arena_free,
	    .allocator_data = &job->arena,
	};

	job->peek =
	    request_wire_peek(job->body, job->len, &job->info, &job->err);
	if (job->peek == 0)
		job->req = boxd__v1__request__unpack(&a, job->len, job->body);
}

static struct decode_job *take_all(struct decode_job **head,
				   struct decode_job ***tail)
{
	struct decode_job *all = *head;

	*head = NULL;
	*tail = head;
	return all;
}

/*
 * The worker's share of a busy CPU: what it decodes is the big frames,
 * the ones a hostile client sends in a loop, so it runs at SCHED_IDLE:
 * any other runnable thread on its CPU (the loop, hence every other
 * client, and the sandboxes) preempts it at once, and it gets what the
 * CPUs have to spare. A nice value is not enough: a niced thread still
 * holds its CPU for a scheduling slice whenever a normal one wakes up.
 * The price is the big frames' own: on a host with no idle CPU a client
 * sending a multi-MiB request waits for one. The policy is per thread on
 * Linux. Best effort: without it the worker is niced, and at worst keeps
 * the daemon's own priority.
 */
static void lower_priority(void)
{
	struct sched_param none = {0};

	if (sched_setscheduler(0, SCHED_IDLE, &none) < 0)
		(void)!setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
}

static void *worker(void *arg)
{
	struct decoder *d = arg;

	lower_priority();
	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct decode_job *job;
		uint64_t one = 1;

		while (!d->todo && !d->trash && !d->stopping)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->stopping)
			break;
		if (d->trash) {
			job = take_all(&d->trash, &d->trash_tail);
			pthread_mutex_unlock(&d->lock);
			while (job) {
				struct decode_job *next = job->next;

				decode_job_free(job);
				job = next;
			}
			pthread_mutex_lock(&d->lock);
			continue;
		}
		job = d->todo;
		d->todo = job->next;
		if (!d->todo)
			d->todo_tail = &d->todo;
		pthread_mutex_unlock(&d->lock);

		decode(job);
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
	d->trash_tail = &d->trash;
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
	for (struct decode_job *j = left; j; j = j->next) {
		j->peek = 0;
		j->req = NULL;
	}
	deliver(left);
	for (struct decode_job *j = take_all(&d->trash, &d->trash_tail), *next;
	     j; j = next) {
		next = j->next;
		decode_job_free(j);
	}
	if (d->ev)
		event_free(d->ev);
	safe_close(d->efd);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}

void decode_job_dispose(struct decode_job *job)
{
	struct decoder *d = job->owner;
	bool now;

	pthread_mutex_lock(&d->lock);
	now = d->stopping || !d->started;
	if (!now) {
		job->next = NULL;
		*d->trash_tail = job;
		d->trash_tail = &job->next;
		pthread_cond_signal(&d->wake);
	}
	pthread_mutex_unlock(&d->lock);
	if (now)
		decode_job_free(job);
}

void decoder_submit(struct decoder *d, struct decode_job *job)
{
	job->next = NULL;
	job->peek = 0;
	job->req = NULL;
	job->owner = d;
	job->arena = NULL;
	pthread_mutex_lock(&d->lock);
	*d->todo_tail = job;
	d->todo_tail = &job->next;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}
