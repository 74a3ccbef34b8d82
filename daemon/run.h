/*
 * Runs: one request to run a command, from its checks to its result. A
 * run owns its sandbox and watches the one fd the engine gives it; it
 * sends exactly one Result or Error after Accepted. A run whose client is
 * gone is killed (unless started without die_with_client) and answers no
 * one. Refusals and dry runs create no run at all.
 */
#pragma once

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "box.pb-c.h"
#include "config.h"

struct server;
struct session;
struct run;

/* Who asks, from the session that received the request. */
struct run_caller {
	struct session *session;
	uint64_t request_id; /* 0 in protocol version 1 */
	struct ucred cred;   /* SO_PEERCRED at accept */
	const gid_t *groups; /* SO_PEERGROUPS at accept */
	size_t n_groups;
	const struct config *cfg; /* the session's policy */
	const struct tenant_policy *tenant;
};

/*
 * Handle a RunRequest with its three stdio fds (taken from fds when the
 * run starts or waits: the slots are set to -1). Every answer goes to the
 * caller's session: a refusal, a Plan for a dry run, or Accepted followed
 * later by the run's events. Returns the run now in flight, or NULL if
 * none was started.
 *
 * A run that should wait for a pool member on its way
 * (server_pool_should_wait()) is returned waiting: parked with the
 * server, its session held (session_hold(): no request is read before
 * this one is answered). run_resume() starts it, or answers why not,
 * and releases the session; run_detach() of a waiting run drops it.
 */
struct run *run_handle(struct server *srv, const struct run_caller *caller,
		       const Boxd__V1__RunRequest *req, int fds[3]);
void run_resume(struct run *r);
struct run_spec;
struct run_ids;
/* A waiting run's spec and ids (what the pool is asked about), and when
 * its wait ends at the latest (CLOCK_MONOTONIC ns). */
const struct run_spec *run_spec(const struct run *r);
const struct run_ids *run_ids(const struct run *r);
uint64_t run_wait_deadline(const struct run *r);

uint64_t run_id(const struct run *r);
uint64_t run_request_id(const struct run *r);
uid_t run_uid(const struct run *r);

/* Does the peer live in this run's sandbox? 1 or 0; -errno if that
 * cannot be told (no cgroup, and the peer's pid namespaces unreadable). */
struct peer;
int run_has_peer(const struct run *r, const struct peer *p);

/* May the peer uid see and signal this run? Root sees all; a tenant only
 * its own. */
bool run_visible_to(const struct run *r, uid_t uid);

/* Signal the run (SIGKILL: the whole sandbox). why_killed: a KillRequest
 * or a hang-up rather than a limit. */
int run_signal(struct run *r, int sig);

/* Its session is closing: answer no one from now on, and die with it
 * unless started with die_with_client off. A run still waiting for a
 * pool member is dropped (freed) here: it never started. */
void run_detach(struct run *r);

/* The policy for a connection made from inside this run, under base
 * (the tenant it would get): no more than the run itself may do
 * (tenant_confine()). Release ret with tenant_release(). */
int run_confine(const struct run *r, const struct tenant_policy *base,
		struct tenant_policy *ret);

/* Fill a RunInfo for a list; strings point into the run. */
void run_describe(const struct run *r, Boxd__V1__RunInfo *info,
		  uint64_t now_ns);

/* Only from the server's graveyard. */
void run_free(struct run *r);
