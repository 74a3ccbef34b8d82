/*
 * The gRPC side of the runner, on gRPC's core C API: one completion
 * queue served by the main thread, one outstanding request per
 * registered method plus a catch-all that answers UNIMPLEMENTED, and one
 * detached thread per call that runs the method's handler (a Run blocks
 * for as long as the action runs; gRPC core has no other way to let a
 * call wait on a file descriptor).
 *
 * A call's life: accepted on the main thread, which starts
 * RECV_CLOSE_ON_SERVER at once (it completes when the call ends, and
 * early with cancelled=1 when the client cancels or the deadline passes:
 * that fires the call's cancellation token); the handler thread reads the
 * request, fills a reply and starts the batch that sends it. The call is
 * freed when both batches have completed, whichever thread sees the last
 * one. Two references, one per batch, count that.
 *
 * This file must never block the main thread on anything but the
 * completion queue, never run a handler on it, and never hand a handler
 * a request larger than max_message (gRPC refuses it before we see it).
 * It knows nothing of Buildbarn or boxd.
 */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "util.h"

enum tag_kind {
	TAG_ACCEPT,   /* an acceptor's request completed */
	TAG_CLOSED,   /* a call's RECV_CLOSE_ON_SERVER completed */
	TAG_SENT,     /* a call's reply batch completed */
	TAG_SHUTDOWN, /* grpc_server_shutdown_and_notify() completed */
};

struct tag {
	enum tag_kind kind;
	void *owner;
};

/* One outstanding grpc_server_request_*call(); method NULL: the
 * catch-all for methods nobody registered. */
struct acceptor {
	struct tag tag;
	struct server *server;
	const struct server_method *method;
	void *registered;
	grpc_call *call;
	gpr_timespec deadline;
	grpc_metadata_array metadata;
	grpc_byte_buffer *payload;
	grpc_call_details details;
};

struct call {
	atomic_int refs;
	struct server *server;
	const struct server_method *method; /* NULL: unknown method */
	grpc_call *grpc;
	grpc_byte_buffer *payload;
	struct cancel *cancel;
	int cancelled; /* written by gRPC: RECV_CLOSE_ON_SERVER */
	struct tag closed_tag;
	struct tag sent_tag;
	grpc_byte_buffer *reply_payload; /* alive until TAG_SENT */
};

struct server {
	struct server_config cfg;
	grpc_server *grpc;
	grpc_completion_queue *cq;
	struct acceptor *acceptors; /* n_methods + 1 (catch-all last) */
	size_t n_acceptors;
	struct tag shutdown_tag;
	atomic_bool stopping;
	bool shutdown_done;
	atomic_uint live; /* calls not yet freed */
};

/* ------------------------------------------------------------- calls */

static void call_unref(struct call *c)
{
	struct server *s;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	s = c->server;
	if (c->reply_payload)
		grpc_byte_buffer_destroy(c->reply_payload);
	if (c->payload)
		grpc_byte_buffer_destroy(c->payload);
	grpc_call_unref(c->grpc);
	cancel_free(c->cancel);
	free(c);
	atomic_fetch_sub(&s->live, 1);
}

/*
 * Send reply on call c (any thread, once per call). On a gRPC error the
 * batch's reference is dropped here, since its tag will never come.
 */
static void call_send(struct call *c, const struct reply *reply)
{
	grpc_op ops[3];
	grpc_slice details;
	grpc_call_error e;
	size_t n = 0;

	memset(ops, 0, sizeof(ops));
	ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (reply->code == GRPC_STATUS_OK) {
		grpc_slice body = grpc_slice_from_copied_buffer(
		    (const char *)reply->body, reply->body_len);

		c->reply_payload = grpc_raw_byte_buffer_create(&body, 1);
		grpc_slice_unref(body);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = c->reply_payload;
	}
	/* Copied by start_batch: released right after it. */
	details = grpc_slice_from_copied_string(reply->message);
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = reply->code;
	ops[n++].data.send_status_from_server.status_details = &details;
	e = grpc_call_start_batch(c->grpc, ops, n, &c->sent_tag, NULL);
	grpc_slice_unref(details);
	if (e != GRPC_CALL_OK) {
		log_warning("cannot send a reply: %s",
			    grpc_call_error_to_string(e));
		call_unref(c);
	}
}

static void call_send_status(struct call *c, grpc_status_code code,
			     const char *message)
{
	struct reply reply = {.code = code};

	snprintf(reply.message, sizeof(reply.message), "%s", message);
	call_send(c, &reply);
}

/* The handler thread: read the request, run the handler, send. */
static void *call_thread(void *arg)
{
	struct call *c = arg;
	struct reply reply = {.code = GRPC_STATUS_OK};
	grpc_byte_buffer_reader reader;
	grpc_slice request = grpc_empty_slice();

	if (!c->payload) {
		reply_set(&reply, GRPC_STATUS_INVALID_ARGUMENT,
			  "the call carries no request message");
	} else if (!grpc_byte_buffer_reader_init(&reader, c->payload)) {
		reply_set(&reply, GRPC_STATUS_INVALID_ARGUMENT,
			  "the request message cannot be read");
	} else {
		request = grpc_byte_buffer_reader_readall(&reader);
		grpc_byte_buffer_reader_destroy(&reader);
		c->method->handle(
		    c->server->cfg.userdata, GRPC_SLICE_START_PTR(request),
		    GRPC_SLICE_LENGTH(request), c->cancel, &reply);
	}
	grpc_slice_unref(request);
	call_send(c, &reply);
	reply_clear(&reply);
	return NULL;
}

/* Start a call the main thread just accepted: watch for its end, and
 * hand it to a thread (or answer at once). */
static void call_start(struct server *s, struct acceptor *a)
{
	struct call *c;
	grpc_op op;
	grpc_call_error e;
	pthread_attr_t attr;
	pthread_t thread;
	unsigned live;

	c = calloc(1, sizeof(*c));
	if (!c || cancel_new(&c->cancel) < 0) {
		/* No memory even for the bookkeeping: drop the call; the
		 * client sees it cancelled. */
		log_error("out of memory: call dropped");
		grpc_call_cancel(a->call, NULL);
		grpc_call_unref(a->call);
		if (a->payload)
			grpc_byte_buffer_destroy(a->payload);
		free(c);
		goto out;
	}
	c->server = s;
	c->method = a->method;
	c->grpc = a->call;
	c->payload = a->payload;
	c->closed_tag = (struct tag){TAG_CLOSED, c};
	c->sent_tag = (struct tag){TAG_SENT, c};
	/* One reference for each batch: RECV_CLOSE_ON_SERVER now, the
	 * reply later. */
	atomic_init(&c->refs, 2);
	live = atomic_fetch_add(&s->live, 1) + 1;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	op.data.recv_close_on_server.cancelled = &c->cancelled;
	e = grpc_call_start_batch(c->grpc, &op, 1, &c->closed_tag, NULL);
	if (e != GRPC_CALL_OK) {
		log_warning("cannot watch a call: %s",
			    grpc_call_error_to_string(e));
		call_unref(c);
		call_send_status(c, GRPC_STATUS_INTERNAL,
				 "the runner could not watch the call");
		goto out;
	}

	if (!c->method) {
		call_send_status(c, GRPC_STATUS_UNIMPLEMENTED,
				 "no such method on this runner");
		goto out;
	}
	if (atomic_load(&s->stopping)) {
		call_send_status(c, GRPC_STATUS_UNAVAILABLE,
				 "the runner is shutting down");
		goto out;
	}
	/* Every call holds a thread and a boxd connection: bounded. */
	if (live > s->cfg.max_calls) {
		call_send_status(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
				 "the runner is at its limit of calls at once "
				 "(--max-calls)");
		goto out;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, call_thread, c) != 0) {
		log_warning("cannot start a thread for a call");
		call_send_status(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
				 "the runner cannot start a thread");
	}
	pthread_attr_destroy(&attr);
out:
	a->call = NULL;
	a->payload = NULL;
}

/* --------------------------------------------------------- acceptors */

static void acceptor_arm(struct server *s, struct acceptor *a)
{
	grpc_call_error e;

	if (atomic_load(&s->stopping))
		return;
	grpc_metadata_array_destroy(&a->metadata);
	grpc_metadata_array_init(&a->metadata);
	if (a->method) {
		e = grpc_server_request_registered_call(
		    s->grpc, a->registered, &a->call, &a->deadline,
		    &a->metadata, &a->payload, s->cq, s->cq, &a->tag);
	} else {
		grpc_call_details_destroy(&a->details);
		grpc_call_details_init(&a->details);
		e = grpc_server_request_call(s->grpc, &a->call, &a->details,
					     &a->metadata, s->cq, s->cq,
					     &a->tag);
	}
	if (e != GRPC_CALL_OK && !atomic_load(&s->stopping))
		log_error("cannot wait for calls to %s: %s",
			  a->method ? a->method->path : "other methods",
			  grpc_call_error_to_string(e));
}

static void on_tag(struct server *s, struct tag *t, bool ok)
{
	struct acceptor *a;
	struct call *c;

	switch (t->kind) {
	case TAG_ACCEPT:
		a = t->owner;
		if (ok && a->call)
			call_start(s, a);
		acceptor_arm(s, a);
		break;
	case TAG_CLOSED:
		c = t->owner;
		/* The client cancelled, the deadline passed, the
		 * connection broke, or the server cancels everything:
		 * the handler must stop what it is doing. */
		if (!ok || c->cancelled)
			cancel_fire(c->cancel);
		call_unref(c);
		break;
	case TAG_SENT:
		call_unref(t->owner);
		break;
	case TAG_SHUTDOWN:
		s->shutdown_done = true;
		break;
	}
}

/* ------------------------------------------------------------ server */

int server_new(const struct server_config *cfg, struct server **ret_server)
{
	struct server *s;
	grpc_arg args[] = {
	    {.type = GRPC_ARG_INTEGER,
	     .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
	     .value.integer = (int)cfg->max_message},
	};
	grpc_channel_args channel_args = {ELEMENTSOF(args), args};
	grpc_server_credentials *creds;
	char addr[4200];
	struct stat st;
	mode_t old_umask;
	int port;

	if (strlen(cfg->socket_path) > 107) {
		log_error("socket path %s is too long", cfg->socket_path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	atomic_init(&s->stopping, false);
	atomic_init(&s->live, 0);
	s->shutdown_tag = (struct tag){TAG_SHUTDOWN, s};
	s->n_acceptors = cfg->n_methods + 1;
	s->acceptors = calloc(s->n_acceptors, sizeof(*s->acceptors));
	if (!s->acceptors) {
		free(s);
		return -ENOMEM;
	}

	s->grpc = grpc_server_create(&channel_args, NULL);
	s->cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(s->grpc, s->cq, NULL);
	for (size_t i = 0; i < s->n_acceptors; i++) {
		struct acceptor *a = &s->acceptors[i];

		a->tag = (struct tag){TAG_ACCEPT, a};
		a->server = s;
		grpc_metadata_array_init(&a->metadata);
		grpc_call_details_init(&a->details);
		if (i == cfg->n_methods)
			continue;
		a->method = &cfg->methods[i];
		a->registered = grpc_server_register_method(
		    s->grpc, a->method->path, NULL,
		    GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
		if (!a->registered) {
			log_error("cannot register %s", a->method->path);
			goto fail;
		}
	}

	/* Only a stale socket is replaced, never another kind of file. */
	if (lstat(cfg->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("%s exists and is not a socket",
				  cfg->socket_path);
			goto fail;
		}
		(void)unlink(cfg->socket_path);
	}
	/* Whoever may connect may run commands as this runner's user:
	 * the socket is created with no access for others (umask) and
	 * then given the configured mode, so there is no moment at which
	 * it is more open than asked. */
	snprintf(addr, sizeof(addr), "unix:%s", cfg->socket_path);
	creds = grpc_insecure_server_credentials_create();
	old_umask = umask(0177);
	port = grpc_server_add_http2_port(s->grpc, addr, creds);
	umask(old_umask);
	grpc_server_credentials_release(creds);
	if (port == 0) {
		log_error("cannot listen on %s", cfg->socket_path);
		goto fail;
	}
	grpc_server_start(s->grpc);
	if (chmod(cfg->socket_path, cfg->socket_mode) < 0) {
		log_errno(LOG_ERR, errno, "chmod %s", cfg->socket_path);
		server_stop(s);
		server_run(s);
		server_free(s);
		return -EPERM;
	}
	for (size_t i = 0; i < s->n_acceptors; i++)
		acceptor_arm(s, &s->acceptors[i]);
	*ret_server = s;
	return 0;

fail:
	/* grpc_server_destroy() wants a completed shutdown, started or
	 * not. */
	server_stop(s);
	server_run(s);
	server_free(s);
	return -EINVAL;
}

void server_stop(struct server *s)
{
	if (atomic_exchange(&s->stopping, true))
		return;
	grpc_server_shutdown_and_notify(s->grpc, s->cq, &s->shutdown_tag);
	/* Every call's RECV_CLOSE_ON_SERVER completes as cancelled: the
	 * handlers kill their runs and answer. */
	grpc_server_cancel_all_calls(s->grpc);
}

void server_run(struct server *s)
{
	for (;;) {
		grpc_event ev;
		gpr_timespec until;

		if (atomic_load(&s->stopping)) {
			/* A handler thread may drop the last reference of
			 * its call: look again every 100 ms until every
			 * call is gone. */
			if (s->shutdown_done && atomic_load(&s->live) == 0)
				break;
			until = gpr_time_add(
			    gpr_now(GPR_CLOCK_MONOTONIC),
			    gpr_time_from_millis(100, GPR_TIMESPAN));
		} else {
			until = gpr_inf_future(GPR_CLOCK_MONOTONIC);
		}
		ev = grpc_completion_queue_next(s->cq, until, NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE)
			on_tag(s, ev.tag, ev.success != 0);
	}
}

struct server *server_free(struct server *s)
{
	if (!s)
		return NULL;
	if (s->grpc)
		grpc_server_destroy(s->grpc);
	if (s->cq) {
		grpc_completion_queue_shutdown(s->cq);
		/* Drain: outstanding requests of the acceptors come back
		 * failed; nothing else is left. */
		for (;;) {
			grpc_event ev = grpc_completion_queue_next(
			    s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

			if (ev.type == GRPC_QUEUE_SHUTDOWN)
				break;
		}
		grpc_completion_queue_destroy(s->cq);
	}
	for (size_t i = 0; s->acceptors && i < s->n_acceptors; i++) {
		grpc_metadata_array_destroy(&s->acceptors[i].metadata);
		grpc_call_details_destroy(&s->acceptors[i].details);
	}
	free(s->acceptors);
	free(s);
	return NULL;
}
