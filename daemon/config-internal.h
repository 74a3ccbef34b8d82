/*
 * What config.c (the file, its sections, [daemon] and [private-ids]) asks
 * of config-tenant.c (the keys of [default] and [tenant.NAME] sections and
 * their checks). The dependency goes one way: config-tenant.c never calls
 * into config.c, and both read the file through config-parse.h. The rest
 * of the daemon sees struct config through config.h only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config-parse.h"
#include "config.h"

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
	T_NET_OUTBOUND,
	T_SECCOMP_NONE,
	T_CUSTOM_SECCOMP,
	T_BIND,
	T_BIND_RW,
	T_UID_MODE,
	T_DENY,
	_T_MAX,
};

/* Where each key of a tenant section was set (0: not set), for messages
 * and for inheriting the rest from [default]. */
struct tenant_lines {
	unsigned header;
	unsigned key[_T_MAX];
};

void tenant_init(struct tenant_policy *t);
void tenant_done(struct tenant_policy *t);

/* A key of [default] (is_default) or of a [tenant.NAME] section, at the
 * parser's current line. 0, or -EINVAL with the error recorded in p. */
int tenant_key(struct config_parser *p, struct tenant_policy *t,
	       struct tenant_lines *tl, bool is_default, const char *name,
	       char *v);

/*
 * After the whole file was read: the tenant sections of c make sense, and
 * each takes from [default] what it does not set itself. lines is parallel
 * to c->tenants; have_private_range: the file has [private-ids].
 */
int tenant_validate(struct config_parser *p, struct config *c,
		    const struct tenant_lines *lines,
		    const struct tenant_lines *default_lines,
		    bool have_private_range);
