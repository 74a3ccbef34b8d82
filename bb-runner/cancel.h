/*
 * Cancellation of one call, shared by the gRPC thread that learns of it
 * and the thread that carries the call out.
 */
#pragma once

#include <stdbool.h>

struct cancel;

/* -ENOMEM, or the errno of eventfd(). */
int cancel_new(struct cancel **ret_cancel);
struct cancel *cancel_free(struct cancel *c);

/* Mark the call cancelled (idempotent, any thread): the fd becomes
 * readable and a watched socket is shut down. */
void cancel_fire(struct cancel *c);
bool cancel_fired(struct cancel *c);

/* Readable (POLLIN) once cancel_fire() was called; never read it. */
int cancel_fd(const struct cancel *c);

/*
 * While a blocking library call waits on socket fd (one that offers no
 * way to wait on anything else), let cancel_fire() shut the socket down
 * so that the wait ends. Keeps a duplicate of fd, so the caller may
 * close its own at any time. -ECANCELED if already cancelled, -EBUSY if
 * a socket is already watched, or the errno of dup.
 */
int cancel_watch_socket(struct cancel *c, int fd);
void cancel_unwatch_socket(struct cancel *c);
