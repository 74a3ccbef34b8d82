/*
 * Carrying out one checked action as one boxd run, and the readiness
 * check.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <boxclient.h>

#include "action.h"
#include "cancel.h"
#include "reply.h"

enum execute_mode {
	/* The host's system read-only (boxd's default profile), the input
	 * root bound read-write at workspace_path, the temporary
	 * directory on /tmp. */
	EXECUTE_WORKSPACE,
	/* The input root is the sandbox's /, with /proc, a minimal /dev
	 * and a tmpfs /tmp added. */
	EXECUTE_CHROOT,
};

struct execute_config {
	const char *boxd_socket; /* NULL: libboxclient's default */
	int build_fd;            /* the build directory, O_PATH */
	const char *build_path;  /* its canonical absolute path */
	enum execute_mode mode;
	const char *workspace_path; /* where the input root appears */
	uint64_t memory_bytes;      /* 0: no limit */
	uint32_t cpu_millis;        /* 0: no limit */
	uint32_t pids;              /* 0: no limit */
	enum box_net net;
	bool lenient;
	/* How long to wait for boxd's record after killing a cancelled
	 * run before giving up on it (the connection is then closed, which
	 * makes boxd kill the run too). */
	uint64_t kill_wait_ns;
};

/*
 * Run action a and fill reply: OK with a RunResponse once the command
 * ran (whatever its exit status), or an error status. When cancel fires,
 * the whole run is killed and the reply is CANCELLED.
 */
void execute_run(const struct execute_config *cfg, const struct action *a,
		 struct cancel *cancel, struct reply *reply);

/*
 * CheckReadiness: path (normalised) must exist in the build directory,
 * boxd must answer, and it must be able to enforce the configured
 * limits. OK with an empty message, else FAILED_PRECONDITION or
 * UNAVAILABLE.
 */
void execute_check_readiness(const struct execute_config *cfg, const char *path,
			     struct cancel *cancel, struct reply *reply);

/* "workspace" or "chroot"; -EINVAL for anything else. */
int execute_mode_from_string(const char *s, enum execute_mode *ret_mode);
const char *execute_mode_to_string(enum execute_mode mode);
