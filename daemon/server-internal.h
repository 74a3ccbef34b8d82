/*
 * Private to the daemon's front end (session.c, run.c, server.c): the
 * server, its sessions (one per connection) and runs, and the calls these
 * files make to one another. libevent and protobuf types stop here.
 */
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "box.pb-c.h"
#include "frame.h"
#include "request.h"
#include "session.h"

#define PROTOCOL_VERSION 1
#define OUT_MAX (4u << 20)   /* queued output per connection */
#define FRAMES_PER_WAKEUP 16 /* fairness between clients */
#define SHUTDOWN_GRACE_SEC 5
/* A retry can meet another member killed in the same sweep. */
#define RUN_MAX_RETRIES 8

struct cfgref {
	unsigned refs;
	struct config *cfg;
};

struct session;

struct run {
	LIST_ENTRY(run) link;
	LIST_ENTRY(run) dead;
	struct server *srv;
	struct session *sess; /* NULL once the client is gone */
	uint64_t id;
	uid_t uid;
	struct sandbox *sb;
	struct event *ctl_ev, *pid_ev, *timeout_ev, *cpu_ev;
	char *argv0, *tag;
	struct request_out req;
	struct run_ids ids;
	gid_t *groups;          /* ids.groups points here */
	uint64_t start_unix_ns; /* CLOCK_REALTIME of the sandbox's start */
	int stdio[3];           /* held until the command starts, for a retry */
	unsigned retries;       /* lost pooled members replaced so far */
	bool cpu_warned;        /* a CPU time read failed once */
	bool finished;
};

struct session {
	LIST_ENTRY(session) link;
	LIST_ENTRY(session) dead;
	struct server *srv;
	int fd;
	struct event *rd_ev, *wr_ev;
	struct evbuffer *out;
	struct frame_reader rd;
	struct ucred cred;
	gid_t *groups;
	size_t n_groups;
	struct cfgref *cfg;
	const struct tenant_policy *tenant;
	bool hello;
	bool closing;
	struct run *run;
};

struct server {
	struct event_base *base;
	struct engine *engine;
	struct cfgref *cfg;
	int listen_fd;
	struct event *listen_ev, *resume_ev, *gc_ev, *grace_ev;
	struct event *refill_ev, *retry_ev, *maint_ev;
	bool refilling;
	LIST_HEAD(, session) sessions;
	LIST_HEAD(, run) runs;
	LIST_HEAD(, session) dead_sessions;
	LIST_HEAD(, run) dead_runs;
	unsigned n_sessions, n_runs;
	uint64_t next_run_id;
	uint64_t start_ns;
	uint32_t private_cursor; /* next private uid to try */
	bool host_landlock;
	bool stopping;
	unsigned pool_low;
};

static inline struct timeval ns_to_timeval(uint64_t ns)
{
	return (struct timeval){
	    .tv_sec = (time_t)(ns / 1000000000ULL),
	    .tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000),
	};
}

/* session.c */
struct session *session_new(struct server *srv, int fd);
void session_send(struct session *s, const Boxd__V1__Event *ev);
void session_send_error(struct session *s, Boxd__V1__ErrorCode code,
			const char *msg, const char *step, int err,
			uint64_t run_id);
void session_close(struct session *s);
void session_free(struct session *s);
unsigned session_count_for_uid(struct server *srv, uid_t uid, bool runs);

/* run.c */
void run_handle_request(struct session *s, const Boxd__V1__Request *req,
			int *fds);
void run_bury(struct run *r);
void run_free(struct run *r);

/* server.c */
void server_gc(struct server *srv);
void server_pool_kick(struct server *srv);
struct cfgref *cfgref_ref(struct cfgref *c);
struct cfgref *cfgref_unref(struct cfgref *c);
