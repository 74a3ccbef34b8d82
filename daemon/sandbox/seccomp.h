/*
 * Seccomp programs: compiled with libseccomp in the daemon, once per
 * distinct policy, exported as classic BPF and handed to the sandbox's
 * pid 1, which installs them raw as the last step before execve.
 * Nothing on the sandbox side links libseccomp.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct seccomp_prog;

/* Whose network the sandbox uses: its own namespace (none, loopback) or
 * the host's. With its own, the built-in rules also refuse the socket
 * families a network namespace does not confine (AF_VSOCK, ...). */
enum seccomp_net {
	SECCOMP_NET_OWN,
	SECCOMP_NET_HOST,
	_SECCOMP_NET_MAX,
};

/* The built-in filter (docs/security.md). Compiled on first use, cached;
 * the caller gets a new reference. */
int seccomp_default(enum seccomp_net net, struct seccomp_prog **ret);

/* Compile a policy file (docs/security.md, "Seccomp policy files") on top
 * of nothing: the file says the default action and each rule ("base
 * default" adds the built-in rules for net). On a syntax error, or a
 * policy boxd could not start a command under (one that kills sendmsg
 * while it has kill rules), returns -EINVAL, err (ERROR_INVALID) saying
 * "line N: why". Identical texts share one compiled program. */
int seccomp_compile_policy(const char *text, size_t len, enum seccomp_net net,
			   struct error_detail *err, struct seccomp_prog **ret);

struct seccomp_prog *seccomp_prog_ref(struct seccomp_prog *p);
struct seccomp_prog *seccomp_prog_unref(struct seccomp_prog *p);

/* The sock_filter array, ready for SECCOMP_SET_MODE_FILTER. */
const void *seccomp_prog_insns(const struct seccomp_prog *p, size_t *ret_len);

/* True if a rule's action is "kill": the program then returns
 * SECCOMP_RET_USER_NOTIF for those calls and must be installed with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER; the sandbox's pid 1 kills the caller
 * and reports which call it was. */
bool seccomp_prog_needs_listener(const struct seccomp_prog *p);

/* Name of syscall nr on arch (AUDIT_ARCH_*), or NULL. */
const char *seccomp_syscall_name(int nr, uint32_t arch);

/* Drop the cache (shutdown, tests). */
void seccomp_cache_clear(void);
