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

struct box_run {
	box_client *client; /* NULL once the client is gone */
	enum box_run_state state;
	bool has_id;
	uint64_t id;
	int64_t pid;
	int kill_signal; /* box_run_kill_async() before Accepted, else 0 */
	bool orphaned;   /* freed by the caller while in flight */
	struct box_result *result;
	struct box_error *error;
	bool captured;
	struct capture_buf out;
	struct capture_buf err;
	bool dry_run;         /* box_run_plan(): answered by a Plan */
	Boxd__V1__Plan *plan; /* that answer */
};

enum request_kind {
	REQUEST_KILL,
	REQUEST_LIST,
	REQUEST_STATUS,
};

/*
 * A kill/list/status request waiting for its answer. The daemon answers
 * them in order; the answer is matched on its kind (and run id for
 * kills), so run events may interleave freely.
 */
struct pending_request {
	enum request_kind kind;
	uint64_t run_id; /* REQUEST_KILL */
	bool discard;    /* nobody waits: drop the answer */
	bool done;
	int ret;                /* 0 or -errno once done */
	Boxd__V1__Event *reply; /* the answer, when ret == 0 */
	struct pending_request *next;
};

struct box_client {
	int fd;
	char *name;
	bool handshaking;
	bool connected;
	bool dispatching; /* inside conn_read(): no nested reads */
	int broken;       /* 0, or -errno once the connection is unusable */
	struct frame_reader reader;
	Boxd__V1__HelloReply *hello;
	struct box_host_info *host;
	struct box_run *run; /* the run in flight, or NULL */
	struct pending_request *requests;
	struct box_error *last_error;
};

/* record.c */
struct box_error *error_new(enum box_error_code code, const char *message,
			    const char *step, int errno_value);
struct box_error *error_dup(const struct box_error *e);
struct box_error *error_from_pb(const Boxd__V1__Error *pb);
struct box_error *error_free(struct box_error *e);
int error_code_to_errno(enum box_error_code code);
struct box_result *result_new(Boxd__V1__Result *msg);
struct box_result *result_free(struct box_result *r);

/* conn.c */
int conn_send(box_client *c, const Boxd__V1__Request *req, const int *fds,
	      size_t n_fds);
int conn_wait(box_client *c);
void conn_set_last_error(box_client *c, struct box_error *e);
/* Record a library-side failure (code BOX_ERROR_CLIENT, errno -err). */
void conn_client_error(box_client *c, int err, const char *fmt, ...)
    _printf_(3, 4);

/* requests.c */
void request_unlink(box_client *c, struct pending_request *p);
struct pending_request *request_free(struct pending_request *p);
/* Mark p answered (ret, reply taken); a discarded one is freed. */
void request_complete(box_client *c, struct pending_request *p, int ret,
		      Boxd__V1__Event *reply);
/* The oldest unanswered request of kind (with run_id first if match_id). */
struct pending_request *request_find(box_client *c, enum request_kind kind,
				     bool match_id, uint64_t run_id);
struct pending_request *request_find_oldest(box_client *c);
/* Send a kill; with ret_req NULL nobody waits and the answer is dropped. */
int conn_send_kill(box_client *c, uint64_t run_id, int signal,
		   struct pending_request **ret_req);

/* run.c */
int run_new(box_client *c, struct box_run **ret_run);
void run_on_accepted(struct box_run *run, uint64_t id);
void run_on_started(struct box_run *run, const Boxd__V1__Started *started);
void run_on_result(struct box_run *run, Boxd__V1__Result *msg);
void run_on_error(struct box_run *run, struct box_error *e);
void run_on_plan(struct box_run *run, Boxd__V1__Plan *msg);
void run_detach(struct box_run *run);
/* Send msg with stdio (-1: /dev/null) as a new run in flight on c. */
int run_send(box_client *c, const Boxd__V1__RunRequest *msg, int stdin_fd,
	     int stdout_fd, int stderr_fd, struct box_run **ret_run);
void run_destroy(struct box_run *run);
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
