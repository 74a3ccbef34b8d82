/*
 * A unary gRPC server on a UNIX socket, on gRPC's core C library: each
 * call is handed to a handler on a thread of its own, with a cancellation
 * token that fires when the client cancels or the deadline passes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cancel.h"
#include "reply.h"

/*
 * Runs on the call's own thread; may block. data is the request message
 * (valid during the call). Fills reply; its body is sent for OK.
 */
typedef void (*server_handler)(void *userdata, const uint8_t *data, size_t len,
			       struct cancel *cancel, struct reply *reply);

struct server_method {
	const char *path; /* "/package.Service/Method" */
	server_handler handle;
};

struct server_config {
	const char *socket_path; /* created; a stale socket is replaced */
	unsigned socket_mode;
	const struct server_method *methods;
	size_t n_methods;
	void *userdata;
	unsigned max_calls; /* calls at once; more are RESOURCE_EXHAUSTED */
	size_t max_message; /* largest request accepted, bytes */
};

struct server;

/* Create the socket and start serving (grpc_init() first). -errno with a
 * reason logged. */
int server_new(const struct server_config *cfg, struct server **ret_server);

/* Serve until server_stop(), then until every call has finished. */
void server_run(struct server *s);

/* Stop accepting and cancel every call in flight. Any thread; once. */
void server_stop(struct server *s);

struct server *server_free(struct server *s);
