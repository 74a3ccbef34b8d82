/*
 * Counts per uid: how many connections, admitted sessions, runs and
 * private ids each uid (a tenant's peer uid, or a private uid) holds
 * right now. The server keeps one table and asks it on every accept and
 * every run, so a lookup costs a hash, not a walk over every connection.
 * An entry whose counts are all zero is freed.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

enum uidcount_kind {
	UIDCOUNT_CONNECTIONS, /* accepted, handshake or not */
	UIDCOUNT_SESSIONS,    /* handshake answered */
	UIDCOUNT_RUNS,        /* runs in flight */
	UIDCOUNT_PRIVATE,     /* runs holding this private uid */
	_UIDCOUNT_MAX,
};

struct uidcount;

struct uidcount *uidcount_new(void);
struct uidcount *uidcount_free(struct uidcount *t);

/* Add delta (+1 or -1) to uid's count of kind. -ENOMEM only when a new
 * entry is needed and cannot be had. A count never goes below zero. */
int uidcount_add(struct uidcount *t, uid_t uid, enum uidcount_kind kind,
		 int delta);
unsigned uidcount_get(const struct uidcount *t, uid_t uid,
		      enum uidcount_kind kind);
