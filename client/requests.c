/*
 * Kill, list and status: requests that get one answer each, matched to
 * the answer by kind (and run id for kills) because run events may come
 * in between. A blocking call waits for its own answer only and routes
 * everything else on the way; an answer nobody waits for is dropped.
 * Never logs; never keeps an answer past its request.
 */
#include <signal.h>

#include "internal.h"

void request_unlink(box_client *c, struct pending_request *p)
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

struct pending_request *request_free(struct pending_request *p)
{
	if (p) {
		boxd__v1__event__free_unpacked(p->reply, NULL);
		free(p);
	}
	return NULL;
}

void request_complete(box_client *c, struct pending_request *p, int ret,
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

struct pending_request *request_find(box_client *c, enum request_kind kind,
				     bool match_id, uint64_t run_id)
{
	struct pending_request *p, *any = NULL;

	for (p = c->requests; p; p = p->next) {
		if (p->kind != kind || p->done)
			continue;
		if (!match_id || p->run_id == run_id)
			return p;
		if (!any)
			any = p;
	}
	return any;
}

struct pending_request *request_find_oldest(box_client *c)
{
	struct pending_request *p;

	for (p = c->requests; p; p = p->next)
		if (!p->done)
			return p;
	return NULL;
}

static int request_send(box_client *c, enum request_kind kind, uint64_t run_id,
			bool discard, const Boxd__V1__Request *req,
			struct pending_request **ret_req)
{
	struct pending_request *p, **tail;
	int r;

	if (c->fd < 0 || !c->connected)
		return -ENOTCONN;
	if (c->broken)
		return c->broken;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->kind = kind;
	p->run_id = run_id;
	p->discard = discard;
	r = conn_send(c, req, NULL, 0);
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

int conn_send_kill(box_client *c, uint64_t run_id, int signal,
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
	return request_send(c, REQUEST_KILL, run_id, !ret_req, &req, ret_req);
}

int box_client_kill(box_client *c, uint64_t run_id, int signal)
{
	struct pending_request *p;
	int r;

	if (!c)
		return -EINVAL;
	r = conn_send_kill(c, run_id, signal, &p);
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
	r = request_send(c, REQUEST_LIST, 0, false, &req, &p);
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
	r = request_send(c, REQUEST_STATUS, 0, false, &req, &p);
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
