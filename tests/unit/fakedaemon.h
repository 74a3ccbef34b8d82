/*
 * A scripted fake boxd for libboxclient's unit tests: a thread on the
 * other end of a socketpair (or of a private abstract socket) that reads
 * request frames the way boxd does and plays back events.
 *
 * What it checks of every request it reads (a failed check ends the
 * script and fails the test in fake_join()):
 *  - the frame: a little-endian length, then exactly that body, decoded
 *    independently of common/frame.c;
 *  - fds only on the bytes of the frame's first recvmsg (the control
 *    message must ride with the first byte);
 *  - a request id, non-zero, never used before on the connection (the
 *    daemon needs it unique among requests in flight; the library's
 *    counter promises more, and the fake holds it to that).
 *
 * Events are sent with the request id the script names (0: none), so a
 * script can answer out of order, twice, or with ids nobody asked for.
 * The fake records its failures and the test asserts them after joining
 * it, since criterion asserts must stay in the test thread. Nothing here
 * depends on timing: a test hands steps to the script through a pipe.
 */
#pragma once

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "box.pb-c.h"
#include "boxclient.h"

#define FAKE_MAX_FDS 8
#define FAKE_MAX_IDS 256
#define MiB (1024 * 1024)

struct fake;
typedef void (*fake_script_fn)(struct fake *f);

struct fake {
	int sock;      /* the daemon's end; a script may close it and set -1 */
	int listen_fd; /* or a socket to accept it from (sock -1) */
	int step[2];   /* test -> fake: "go on" */
	pthread_t thread;
	fake_script_fn script;
	void *arg;
	uint64_t ids[FAKE_MAX_IDS]; /* every request id read so far */
	size_t n_ids;
	char failure[512];
};

/* One request frame as read. */
struct req {
	Boxd__V1__Request *msg;
	uint64_t id; /* its request id; fake_req_clear() keeps it */
	uint8_t hdr[4];
	uint32_t len;
	int fds[FAKE_MAX_FDS];
	size_t n_fds;
};

void fake_fail(struct fake *f, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* In a script: record the first failure and stop the script. */
#define CHECK(cond)                                          \
	do {                                                 \
		if (!(cond)) {                               \
			fake_fail(f, __LINE__, "%s", #cond); \
			return;                              \
		}                                            \
	} while (0)

/* Free the message and close the fds; r->id stays for the answer. */
void fake_req_clear(struct req *r);

/* recvmsg that keeps every fd that comes along; < 0 on foreign data. */
ssize_t fake_recv_some(int sock, void *buf, size_t len, struct req *r);

/*
 * Read one request frame and check it (see above). 0, or -1 on EOF,
 * garbage or a failed check (recorded as the fake's failure).
 */
int fake_recv_req(struct fake *f, struct req *r);

void fake_send_bytes(int sock, const void *buf, size_t len);
void fake_send_event(struct fake *f, const Boxd__V1__Event *ev);
/* ev with the request id rid (0: none), as one frame. */
void fake_send_event_id(struct fake *f, uint64_t rid, Boxd__V1__Event *ev);

/* A HostInfo with every field set (features: "dry_run"). */
void fake_fill_host(Boxd__V1__HostInfo *h);

void fake_send_hello_reply(struct fake *f, uint64_t rid, uint32_t version);
void fake_send_accepted(struct fake *f, uint64_t rid, uint64_t run_id);
void fake_send_started(struct fake *f, uint64_t rid, uint64_t run_id, int pid);
/* A Result: termination, exit code (-1: none), signal (0: none). */
void fake_send_result(struct fake *f, uint64_t rid, uint64_t run_id,
		      Boxd__V1__Termination t, int code, int sig);
/* An Error; step NULL, err 0 and run_id 0 mean "not set". */
void fake_send_error(struct fake *f, uint64_t rid, Boxd__V1__ErrorCode code,
		     const char *msg, const char *step, int err,
		     uint64_t run_id);
/* BUSY saying when to retry (retry_after_ms). */
void fake_send_busy(struct fake *f, uint64_t rid, const char *msg,
		    uint32_t retry_after_ms);
/* A Status with every field set (runs 2, connections 3, pool 4/8 ...). */
void fake_send_status(struct fake *f, uint64_t rid);
void fake_send_kill_reply(struct fake *f, uint64_t rid, uint64_t run_id);
void fake_send_empty_list(struct fake *f, uint64_t rid);

/* In a script: the next request must be of this kind, with nfds fds. */
#define EXPECT(r, kind, nfds)                                               \
	do {                                                                \
		CHECK(fake_recv_req(f, (r)) == 0);                          \
		CHECK((r)->msg->msg_case == BOXD__V1__REQUEST__MSG_##kind); \
		CHECK((r)->n_fds == (nfds));                                \
	} while (0)

/* The handshake every script starts with: a Hello offering version 2
 * only, answered with version 2 and the Hello's request id. */
#define HANDSHAKE()                                     \
	do {                                            \
		struct req h_;                          \
                                                        \
		EXPECT(&h_, HELLO, 0);                  \
		CHECK(h_.msg->hello->n_versions == 1);  \
		CHECK(h_.msg->hello->versions[0] == 2); \
		fake_req_clear(&h_);                    \
		fake_send_hello_reply(f, h_.id, 2);     \
	} while (0)

/* In a script: wait for the test's fake_step(). */
void fake_wait_step(struct fake *f);
/* In the test: let the script go on past one fake_wait_step(). */
void fake_step(struct fake *f);

/* Serve sock, or (sock -1) the first connection accepted on listen_fd. */
void fake_start_at(struct fake *f, int sock, int listen_fd,
		   fake_script_fn script, void *arg);
void fake_start(struct fake *f, int sock, fake_script_fn script, void *arg);
/* A client connected to a fake daemon running script. */
box_client *fake_connect(struct fake *f, fake_script_fn script, void *arg);
/* Wait for the script to end and fail the test if it failed. */
void fake_join(struct fake *f);

/* ------------------------------------------------- helpers for the tests */

/* A spec running /bin/true. */
box_spec *simple_spec(void);
bool is_devnull(int fd);
/* Open fds of this process. */
int count_fds(void);
json_object *parse_json(const char *text);
/* o[key], which must exist (it may be null). */
json_object *jget(json_object *o, const char *key);
bool bytes_is(const ProtobufCBinaryData *b, const char *s);
/* poll() the client's socket for input. */
/* How long to wait for the fake daemon's next bytes before calling it a
 * failure: it is a thread of this process, but a loaded machine may not
 * run it for a while. */
#define PATIENCE_MS 60000

int poll_in(box_client *c, int timeout_ms);
