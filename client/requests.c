/*
 * Kill, list and status: requests that get exactly one answer each (the
 * reply, or an Error carrying the same request id). The connection finds
 * the request by the id its answer carries, so answers may come in any
 * order and between any run's events. A blocking call waits for its own
 * answer only and routes everything else on the way; an answer nobody
 * waits for is dropped. Never logs; never keeps an answer past its
 * request.
 */
#include <signal.h>

#include "internal.h"

static void request_unlink(box_client *c, struct pending_request *p)
{
	for (struct pending_request **pp = &c->requests; *pp;
	     pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			p->next = NULL;
			return;
		}
	}
}

static struct pending_request *request_free(struct pending_request *p)
{
	if (p) {
		boxd__v1__event__free_unpacked(p->reply, NULL);
		free(p);
	}
	return NULL;
}

/* Mark p answered (ret, reply taken); a discarded one goes at once. */
static void request_complete(box_client *c, struct pending_request *p, int ret,
			     Boxd__V1__Event *reply)
{
	p->done = true;
	p->ret = ret;
	if (p->discard) {
		request_unlink(c, p);
		request_free(p);
		boxd__v1__event__free_unpacked(reply, NULL);
		return;
	}
	p->reply = reply;
}

/* p failed with e (taken; NULL: out of memory): its waiter finds e in
 * last_error. */
static void request_fail(box_client *c, struct pending_request *p,
			 struct box_error *e)
{
	int ret = e ? error_code_to_errno(e->code) : -ENOMEM;

	if (p->discard)
		error_free(e);
	else
		conn_set_last_error(c, e);
	request_complete(c, p, ret, NULL);
}

struct pending_request *request_find(box_client *c, uint64_t request_id)
{
	for (struct pending_request *p = c->requests; p; p = p->next)
		if (!p->done && p->request_id == request_id)
			return p;
	return NULL;
}

/* The reply kind that answers each request kind. */
static Boxd__V1__Event__MsgCase request_reply_kind(enum request_kind kind)
{
	switch (kind) {
	case REQUEST_KILL:
		return BOXD__V1__EVENT__MSG_KILLED;
	case REQUEST_LIST:
		return BOXD__V1__EVENT__MSG_LIST;
	case REQUEST_STATUS:
		return BOXD__V1__EVENT__MSG_STATUS;
	}
	return BOXD__V1__EVENT__MSG__NOT_SET;
}

int request_handle_event(box_client *c, struct pending_request *p,
			 Boxd__V1__Event *ev)
{
	if (ev->msg_case == BOXD__V1__EVENT__MSG_ERROR) {
		request_fail(c, p, error_from_pb(ev->error));
		boxd__v1__event__free_unpacked(ev, NULL);
		return 0;
	}
	if (ev->msg_case != request_reply_kind(p->kind)) {
		boxd__v1__event__free_unpacked(ev, NULL);
		return -EPROTO;
	}
	request_complete(c, p, 0, ev);
	return 0;
}

void request_fail_all(box_client *c, int err)
{
	struct pending_request *p, *next;

	for (p = c->requests; p; p = next) {
		next = p->next;
		/* Answered ones keep their answer for their waiter. */
		if (!p->done)
			request_complete(c, p, err, NULL);
	}
}

void request_drop_all(box_client *c)
{
	struct pending_request *p;

	while ((p = c->requests)) {
		c->requests = p->next;
		request_free(p);
	}
}

static int request_send(box_client *c, enum request_kind kind, bool discard,
			Boxd__V1__Request *req,
			struct pending_request **ret_req)
{
	struct pending_request *p, **tail;
	int r;

	r = conn_check(c);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->kind = kind;
	p->discard = discard;
	/* Nothing is read while a send succeeds: no answer can be missed
	 * between the send and the link. */
	r = conn_send(c, req, NULL, 0, &p->request_id);
	if (r < 0) {
		free(p);
		return r;
	}
	for (tail = &c->requests; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	if (ret_req)
		*ret_req = p;
	return 0;
}

/* Wait for p's answer; takes p. */
static int request_await(box_client *c, struct pending_request *p,
			 Boxd__V1__Event **ret_reply)
{
	int r = 0;

	while (!p->done) {
		r = conn_wait(c);
		if (r < 0 && !p->done)
			break;
	}
	request_unlink(c, p);
	if (p->done)
		r = p->ret;
	if (r >= 0 && ret_reply) {
		*ret_reply = p->reply;
		p->reply = NULL;
	}
	request_free(p);
	return r;
}

int request_send_kill(box_client *c, uint64_t run_id, int signal,
		      struct pending_request **ret_req)
{
	Boxd__V1__KillRequest kill = BOXD__V1__KILL_REQUEST__INIT;
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;

	if (signal <= 0 || signal >= _NSIG)
		return -EINVAL;
	kill.run_id = run_id;
	kill.has_signal = true;
	kill.signal = signal;
	req.msg_case = BOXD__V1__REQUEST__MSG_KILL;
	req.kill = &kill;
	return request_send(c, REQUEST_KILL, !ret_req, &req, ret_req);
}

int box_client_kill(box_client *c, uint64_t run_id, int signal)
{
	struct pending_request *p;
	int r;

	if (!c)
		return -EINVAL;
	r = request_send_kill(c, run_id, signal, &p);
	if (r < 0)
		return r;
	return request_await(c, p, NULL);
}

int box_client_list(box_client *c, box_run_list **ret_list)
{
	Boxd__V1__ListRequest list = BOXD__V1__LIST_REQUEST__INIT;
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Event *reply = NULL;
	struct pending_request *p;
	struct box_run_list *l;
	int r;

	if (!c || !ret_list)
		return -EINVAL;
	req.msg_case = BOXD__V1__REQUEST__MSG_LIST;
	req.list = &list;
	r = request_send(c, REQUEST_LIST, false, &req, &p);
	if (r < 0)
		return r;
	r = request_await(c, p, &reply);
	if (r < 0)
		return r;
	l = run_list_new(reply->list);
	if (!l) {
		boxd__v1__event__free_unpacked(reply, NULL);
		return -ENOMEM;
	}
	reply->list = NULL;
	reply->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
	boxd__v1__event__free_unpacked(reply, NULL);
	*ret_list = l;
	return 0;
}

int box_client_status(box_client *c, box_status **ret_status)
{
	Boxd__V1__StatusRequest status = BOXD__V1__STATUS_REQUEST__INIT;
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Event *reply = NULL;
	struct pending_request *p;
	struct box_status *st;
	int r;

	if (!c || !ret_status)
		return -EINVAL;
	req.msg_case = BOXD__V1__REQUEST__MSG_STATUS;
	req.status = &status;
	r = request_send(c, REQUEST_STATUS, false, &req, &p);
	if (r < 0)
		return r;
	r = request_await(c, p, &reply);
	if (r < 0)
		return r;
	st = status_new(reply->status);
	if (!st) {
		boxd__v1__event__free_unpacked(reply, NULL);
		return -ENOMEM;
	}
	reply->status = NULL;
	reply->msg_case = BOXD__V1__EVENT__MSG__NOT_SET;
	boxd__v1__event__free_unpacked(reply, NULL);
	*ret_status = st;
	return 0;
}
