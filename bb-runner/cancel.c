/*
 * A cancellation token: an eventfd that becomes readable, plus an
 * optional socket to shut down, behind one mutex. gRPC reports a
 * cancelled call (the worker's deadline, a client gone, shutdown) on its
 * completion-queue thread, while the call's own thread is blocked in
 * poll() on boxd's socket or in libboxclient's handshake; this is how
 * the one reaches the other.
 *
 * Must never close or shut down an fd it does not own: the watched
 * socket is a private duplicate, so a number the caller closed and the
 * kernel reused can never be hit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cancel.h"
#include "util.h"

struct cancel {
	pthread_mutex_t lock;
	bool fired;
	int event_fd;
	int watched_fd; /* our duplicate, -1 */
};

int cancel_new(struct cancel **ret_cancel)
{
	struct cancel *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->event_fd < 0) {
		int r = negerrno();

		free(c);
		return r;
	}
	c->watched_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	*ret_cancel = c;
	return 0;
}

struct cancel *cancel_free(struct cancel *c)
{
	if (!c)
		return NULL;
	safe_close(c->event_fd);
	safe_close(c->watched_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

void cancel_fire(struct cancel *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&c->lock);
	if (!c->fired) {
		c->fired = true;
		(void)!write(c->event_fd, &one, sizeof(one));
		/* shutdown() acts on the socket, not on the descriptor:
		 * the caller's copy sees end-of-file and its poll() wakes. */
		if (c->watched_fd >= 0)
			shutdown(c->watched_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&c->lock);
}

bool cancel_fired(struct cancel *c)
{
	bool fired;

	pthread_mutex_lock(&c->lock);
	fired = c->fired;
	pthread_mutex_unlock(&c->lock);
	return fired;
}

int cancel_fd(const struct cancel *c)
{
	return c->event_fd;
}

int cancel_watch_socket(struct cancel *c, int fd)
{
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (c->fired)
		r = -ECANCELED;
	else if (c->watched_fd >= 0)
		r = -EBUSY;
	else if ((c->watched_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		r = negerrno();
	pthread_mutex_unlock(&c->lock);
	return r;
}

void cancel_unwatch_socket(struct cancel *c)
{
	pthread_mutex_lock(&c->lock);
	c->watched_fd = safe_close(c->watched_fd);
	pthread_mutex_unlock(&c->lock);
}
