/*
 * Private to libboxclient: the layouts behind the opaque public types and
 * the calls the library's files make to one another. Nothing here is
 * exported (the version script exports box_* only).
 */
#pragma once

#include "box.pb-c.h"
#include "boxclient.h"
#include "frame.h"
#include "util.h"

struct box_error {
	enum box_error_code code;
	char *message; /* never NULL */
	char *step;
	int errno_value; /* positive, 0 if none */
	bool has_run_id;
	uint64_t run_id;
	int64_t retry_after_ms; /* -1: unset */
};

struct box_result {
	Boxd__V1__Result *msg;
	const char **caveats; /* NULL-terminated view of msg->caveats */
};

struct box_host_info {
	const Boxd__V1__HostInfo *msg; /* owned by whoever holds this */
	char *cgroup_path;
	const char **namespaces;
	const char **controllers;
	const char **limits;
	const char **nets;
	const char **profiles;
	const char **features;
};

struct box_status {
	Boxd__V1__Status *msg;
	struct box_host_info *host;
};

struct box_run_info {
	const Boxd__V1__RunInfo *msg;
	char *argv0;
	char *tag;
};

struct box_run_list {
	Boxd__V1__RunList *msg;
	struct box_run_info *infos;
	size_t n;
};

struct capture_buf {
	char *data;
	size_t len;   /* bytes kept */
	size_t alloc; /* bytes allocated, room for a final NUL */
	size_t cap;   /* most bytes kept */
	bool truncated;
};

/*
 * What it takes to send a run again after a BUSY the daemon says may pass
 * (owned by run.c): the request and duplicates of the caller's stdio.
 */
struct run_retry {
	Boxd__V1__RunRequest *msg; /* a copy (unpacked from the packed) */
	int fds[3];
	unsigned sent_again;    /* retries so far */
	uint64_t due_ns;        /* monotonic; 0 while the request is out */
	struct box_error *busy; /* the BUSY being waited out */
};

/*
 * One run this client started (or a dry run). Owned by run.c; other files
 * read the fields marked "read" and touch nothing else. A run is "in
 * flight" from its send until its record: it is then on its client's
 * list and the connection routes every event carrying its request id
 * here.
 */
struct box_run {
	box_client *client;       /* read; NULL once the client is gone */
	uint64_t request_id;      /* of its RunRequest */
	struct box_run *next;     /* on client->runs while in flight */
	enum box_run_state state; /* read */
	bool has_id;
	uint64_t id;
	int64_t pid;
	int kill_signal; /* box_run_kill_async() before Accepted, else 0 */
	bool orphaned;   /* freed by the caller while in flight */
	bool dry_run;    /* box_run_plan(): answered by a Plan */
	bool tty;        /* a terminal of the sandbox's own was asked for */
	int tty_fd;      /* its master, from Started; -1 before and else */
	struct box_result *result;
	struct box_error *error;
	Boxd__V1__Plan *plan;    /* a dry run's answer, until taken */
	struct run_retry *retry; /* until accepted, if BUSY may be retried */
	/* capture.c's, for box_run_capture() */
	bool captured;
	struct capture_buf out;
	struct capture_buf err;
};

enum request_kind {
	REQUEST_KILL,
	REQUEST_LIST,
	REQUEST_STATUS,
};

/*
 * A kill, list or status request waiting for its one answer (owned by
 * requests.c). Found by its request id, so answers may come in any order
 * and between any run's events.
 */
struct pending_request {
	uint64_t request_id;
	enum request_kind kind;
	bool discard; /* nobody waits: drop the answer */
	bool done;
	int ret;                /* 0 or -errno once done */
	Boxd__V1__Event *reply; /* the answer, when ret == 0 */
	struct pending_request *next;
};

/*
 * The connection. conn.c owns every field but two lists: runs (run.c)
 * and requests (requests.c); each file changes only its own.
 */
struct box_client {
	int fd;
	char *name;
	bool handshaking;
	bool connected;
	bool dispatching; /* inside conn_read(): no nested reads */
	int broken;       /* 0, or -errno once the connection is unusable */
	uint64_t last_request_id; /* the ids handed out are 1, 2, 3, ... */
	uint64_t hello_request_id;
	struct frame_reader reader;
	/* The fd that came with the event being routed (-1: none): only a
	 * tty run's Started may take it; conn.c closes it otherwise. */
	int event_fd;
	Boxd__V1__HelloReply *hello;
	struct box_host_info *host;
	struct box_run *runs;             /* in flight, oldest first */
	struct pending_request *requests; /* unanswered, oldest first */
	unsigned busy_retries;            /* for runs started from now on */
	struct box_error *last_error;
};

/* record.c */
struct box_error *error_new(enum box_error_code code, const char *message,
			    const char *step, int errno_value);
struct box_error *error_dup(const struct box_error *e);
struct box_error *error_from_pb(const Boxd__V1__Error *pb);
struct box_error *error_free(struct box_error *e);
/* The negative errno a call returns for a failure of this code. */
int error_code_to_errno(enum box_error_code code);
/* The same for a record: a BOX_ERROR_CLIENT one keeps its own errno. */
int error_to_errno(const struct box_error *e);
struct box_result *result_new(Boxd__V1__Result *msg);
struct box_result *result_free(struct box_result *r);

/* conn.c */
/* 0 if requests may be sent on c; -ENOTCONN, or why it broke. */
int conn_check(const box_client *c);
/*
 * Give req the next request id of c and send it with fds (they ride on
 * the frame's first byte). On success *ret_request_id is the id, and
 * nothing has been read: the caller links its waiter before any answer
 * can be routed. A failure that left part of the frame sent breaks the
 * connection (everything in flight fails); one before the first byte
 * (a bad fd, -EMSGSIZE) fails this request only.
 */
int conn_send(box_client *c, Boxd__V1__Request *req, const int *fds,
	      size_t n_fds, uint64_t *ret_request_id);
/* Block until the socket has something, then read and route it. */
int conn_wait(box_client *c);
void conn_set_last_error(box_client *c, struct box_error *e);
/* Record a library-side failure (code BOX_ERROR_CLIENT, errno -err). */
void conn_client_error(box_client *c, int err, const char *fmt, ...)
    _printf_(3, 4);

/* requests.c: kill, list, status (c->requests) */
/* The unanswered request with this id, or NULL. */
struct pending_request *request_find(box_client *c, uint64_t request_id);
/*
 * ev (taken) carries p's request id: its reply or an Error. -EPROTO if
 * it is neither (the connection then fails).
 */
int request_handle_event(box_client *c, struct pending_request *p,
			 Boxd__V1__Event *ev);
/* The connection broke: every unanswered request fails with err. */
void request_fail_all(box_client *c, int err);
/* The connection is closed: forget every request. */
void request_drop_all(box_client *c);
/* Send a kill; with ret_req NULL nobody waits and the answer is dropped. */
int request_send_kill(box_client *c, uint64_t run_id, int signal,
		      struct pending_request **ret_req);

/* run.c: runs in flight (c->runs) */
/* Send msg with stdio (-1: /dev/null) as a new run in flight on c; with
 * may_retry, sent again after a BUSY that says when, as c is set to. */
int run_send(box_client *c, const Boxd__V1__RunRequest *msg, int stdin_fd,
	     int stdout_fd, int stderr_fd, bool may_retry,
	     struct box_run **ret_run);
/* The run in flight whose RunRequest had this id, or NULL. */
struct box_run *run_find(box_client *c, uint64_t request_id);
/*
 * ev (taken) carries run's request id. -EPROTO if it cannot be about a
 * run (a reply to another kind of request, an Accepted for a dry run, a
 * Result naming another run id): the connection then fails.
 */
int run_handle_event(struct box_run *run, Boxd__V1__Event *ev);
/* The connection broke: every run in flight ends with a copy of e. */
void run_fail_all(box_client *c, const struct box_error *e);
/* The connection is closed: every run in flight ends with a client
 * record and forgets c. */
void run_detach_all(box_client *c);
/* Send again every run whose retry is due. */
void run_send_due(box_client *c);
/* When the next retry is due (monotonic ns), 0 if none waits. */
uint64_t run_next_due_ns(const box_client *c);
/* A finished dry run's answer (NULL if it was refused); the caller owns
 * it. */
Boxd__V1__Plan *run_take_plan(struct box_run *run);
void run_destroy(struct box_run *run);

/* spec.c */
const Boxd__V1__RunRequest *spec_message(const box_spec *s);

/* info.c */
struct box_host_info *host_info_new(const Boxd__V1__HostInfo *msg);
struct box_host_info *host_info_free(struct box_host_info *h);
struct box_status *status_new(Boxd__V1__Status *msg);
struct box_run_list *run_list_new(Boxd__V1__RunList *msg);
const char **strv_view(char **strv, size_t n);
char *bytes_dup(const ProtobufCBinaryData *b);

/* json.c */
struct json_object;
struct json_object *host_info_to_json(const struct box_host_info *h);
/* A JSON string (invalid UTF-8 replaced by U+FFFD), null for NULL. */
struct json_object *json_str(const char *s);
/* An array of strings from a NULL-terminated list. */
struct json_object *json_strv(const char *const *v);
/* Hand out obj as a malloc'd string and drop it; -ENOMEM if obj is NULL. */
int json_finish(struct json_object *obj, char **ret_json);
