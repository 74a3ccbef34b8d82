/*
 * Private to config.c (the file, its sections, [daemon] and [private-ids])
 * and config-tenant.c (tenant policies): the state of one load. The rest
 * of the daemon sees struct config through config.h only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "util.h"

enum daemon_key {
	D_SOCKET,
	D_MAX_FRAME,
	D_MAX_CONNECTIONS,
	D_POOL_SIZE,
	D_POOL_LOW,
	D_TMPFS_SIZE,
	_D_MAX,
};

enum private_key {
	P_FIRST,
	P_COUNT,
	_P_MAX,
};

enum tenant_key {
	T_UIDS,
	T_GROUPS,
	T_CONNECT,
	T_MAX_MEMORY,
	T_MAX_CPUS,
	T_MAX_PIDS,
	T_MAX_TIMEOUT,
	T_MAX_CPU_TIME,
	T_MAX_RUNS,
	T_MAX_CONNECTIONS,
	T_NET_HOST,
	T_SECCOMP_NONE,
	T_CUSTOM_SECCOMP,
	T_BIND,
	T_BIND_RW,
	T_UID_MODE,
	_T_MAX,
};

/* Where each key of a tenant section was set (0: not set), for messages
 * and for inheriting the rest from [default]. */
struct tenant_lines {
	unsigned header;
	unsigned key[_T_MAX];
};

enum section_kind {
	SECTION_NONE = 0,
	SECTION_DAEMON,
	SECTION_PRIVATE_IDS,
	SECTION_DEFAULT,
	SECTION_TENANT,
};

struct load_state {
	const char *path;
	FILE *f;
	char *buf;
	size_t buf_cap;
	size_t bytes;
	unsigned line;

	struct config *c;
	struct tenant_lines *tenant_lines; /* parallel to c->tenants */
	size_t tenants_cap;
	struct tenant_lines default_lines;
	unsigned daemon_lines[_D_MAX], private_lines[_P_MAX];
	unsigned daemon_header, private_header;

	enum section_kind kind;
	char section[64]; /* as inih will report it */
	size_t tenant;    /* SECTION_TENANT: index */

	int err;
	unsigned err_line;
	char why[256];
};

/* config.c */

/* Records the first error; returns 0, inih's "handler failed". */
int config_fail_at(struct load_state *st, unsigned line, const char *fmt, ...)
    _printf_(3, 4);

#define fail(st, ...) config_fail_at(st, (st)->line, __VA_ARGS__)

/* Next space-separated word of s (modified in place), or NULL. */
char *config_next_word(char **s);

int config_key_index(const char *const *keys, size_t n, const char *name);

/* config-tenant.c */

void tenant_init(struct tenant_policy *t);
void tenant_done(struct tenant_policy *t);

/* A key of [default] (is_default) or of a [tenant.NAME] section. */
int tenant_key(struct load_state *st, struct tenant_policy *t,
	       struct tenant_lines *tl, bool is_default, const char *name,
	       char *v);

/* After the whole file was read: the tenant sections make sense, and
 * each takes from [default] what it does not set itself. */
int tenant_validate(struct load_state *st);
