/*
 * The wire protocol by hand, for tests that must say exactly what goes on
 * the socket (bad frames, version 1 and 2 clients, request ids): frames
 * built from box.pb-c.h messages and sent with the common frame sender,
 * events read back one by one.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "box.pb-c.h"
#include "harness.h"

/* A connected socket to d, as root. */
int raw_connect_to(const struct daemon *d);

/* Send req (with request_id set when not 0) and fds, asserting it went. */
void raw_send(int fd, const Boxd__V1__Request *req, const int *fds,
	      size_t n_fds);
void raw_send_id(int fd, Boxd__V1__Request *req, uint64_t request_id,
		 const int *fds, size_t n_fds);

/* Hello offering one version (request_id 0: none). */
void raw_send_hello(int fd, uint32_t version, uint64_t request_id);

/* Next event (wait up to 10 s), or NULL once the daemon hung up. */
Boxd__V1__Event *raw_read_event(int fd);

/* Send a RunRequest for argv (NULL-terminated) with /dev/null as stdio. */
void raw_send_run(int fd, const char *const *argv, uint64_t request_id);
