/*
 * What the engine is asked to build: a plain C description of one run,
 * produced by the request layer from a decoded, policy-checked message.
 * The engine never sees protobuf or libevent types; this file is the
 * boundary. Everything here is owned by the spec and freed by spec_free().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum spec_mount_kind {
	SPEC_MOUNT_RO_BIND = 1,
	SPEC_MOUNT_BIND,
	SPEC_MOUNT_TMPFS,
	SPEC_MOUNT_PROC,
	SPEC_MOUNT_DEV,
	SPEC_MOUNT_SYMLINK,
	SPEC_MOUNT_DIR,
	SPEC_MOUNT_REMOUNT_RO,
	SPEC_MOUNT_DEV_BIND,
	/* Read-deny: an empty, read-only, inaccessible cover over dst (a
	 * sandbox path), or with src over a host path wherever the sandbox
	 * shows it. Applied after every other mount. */
	SPEC_MOUNT_HIDE,
	/* A read-only file at dst holding data (mode), on a tmpfs of the
	 * run's own. */
	SPEC_MOUNT_FILE,
	/* Host src seen at dst through overlayfs, writes in a tmpfs of the
	 * run's own or, with upper, in that host directory of the caller's
	 * (upper/upper and upper/work); src is never modified. */
	SPEC_MOUNT_OVERLAY,
};
#define SPEC_MOUNT_KIND_LAST SPEC_MOUNT_OVERLAY

/* A mount whose source is a daemon-chosen path (a profile's /usr, the
 * host's /dev/null) is opened with the daemon's rights; every other source
 * is opened with the caller's. */
#define SPEC_MOUNT_TRUSTED (1u << 0)
/* Skip the operation if the source does not exist (profiles' /lib32). */
#define SPEC_MOUNT_OPTIONAL (1u << 1)
/* Resolve the source without following any symlink (tenants whose binds
 * are restricted to listed prefixes). */
#define SPEC_MOUNT_NO_SYMLINKS (1u << 2)
/* An OVERLAY that was a read-only bind before write_ephemeral: a source
 * that is not a directory (overlayfs needs one) stays a read-only bind. */
#define SPEC_MOUNT_EPHEMERAL (1u << 3)

/* OVERLAYs with an upper directory in one run, at most (boxd-init
 * stages each one's mount while it is made; init-stage.c). */
#define SPEC_MAX_PERSISTENT_OVERLAYS 8

struct spec_mount {
	enum spec_mount_kind kind;
	uint32_t flags; /* SPEC_MOUNT_* */
	char *src;      /* binds, HIDE: host path; SYMLINK: link target */
	char *dst;      /* absolute path inside the sandbox, normalised */
	uint64_t size;  /* TMPFS: bytes (0: engine default) */
	uint32_t mode;  /* TMPFS, DIR, FILE: permission bits */
	uint8_t *data;  /* FILE: its content (NULL when empty) */
	size_t data_len;
	char *upper; /* OVERLAY: host directory the writes persist in */
};

enum spec_net {
	SPEC_NET_NONE = 0,
	SPEC_NET_LOOPBACK,
	SPEC_NET_HOST,
	SPEC_NET_OUTBOUND, /* own namespace, lo, outbound through pasta */
};

/* Every limit: 0 means "none". */
struct spec_limits {
	uint64_t memory_bytes;
	uint64_t memory_swap_bytes; /* 0: swap off */
	uint32_t cpu_millis;        /* 1500 = 1.5 CPUs */
	uint32_t pids;
	uint64_t timeout_ns;  /* wall time */
	uint64_t cpu_time_ns; /* user + system */
};

enum spec_rlimit_kind {
	SPEC_RLIMIT_NOFILE,
	SPEC_RLIMIT_FSIZE,
	SPEC_RLIMIT_CORE,
	SPEC_RLIMIT_NPROC,
	SPEC_RLIMIT_STACK,
	SPEC_RLIMIT_AS,
	_SPEC_RLIMIT_MAX,
};

struct spec_rlimit {
	bool set;
	uint64_t soft, hard;
};

/*
 * What each spec_rlimit_kind is: the one table of the resources a run may
 * limit (spec-rlimit.c), for the request layer, the plan and boxd-init.
 * The protocol's Rlimit.Resource values carry the same names in capitals;
 * the daemon matches the two by name, so no second table exists.
 */
struct spec_rlimit_info {
	enum spec_rlimit_kind kind;
	int resource;     /* RLIMIT_* for setrlimit() */
	const char *name; /* "nofile", as boxctl --rlimit spells it */
};

/* The entry for kind, or NULL for a value outside the enum. */
const struct spec_rlimit_info *spec_rlimit_info(enum spec_rlimit_kind kind);

/* A compiled seccomp program (classic BPF), shared between specs. */
struct seccomp_prog;

struct run_spec {
	char **argv; /* NULL-terminated, argc >= 1 */
	char **env;  /* NULL-terminated, the complete environment */
	char *cwd;   /* absolute, inside the sandbox */
	char *hostname;
	uid_t uid; /* ids inside the sandbox */
	gid_t gid;
	enum spec_net net;
	bool new_session;
	/* A pseudo-terminal of the sandbox's own devpts as the command's
	 * stdio and controlling terminal; its master goes to the caller
	 * (sandbox_take_tty()). rows/cols: its first size, 0 = unset. */
	bool tty;
	uint16_t tty_rows, tty_cols;
	struct spec_mount *mounts; /* in order; the profile's come first */
	size_t n_mounts;
	struct spec_limits limits;
	struct spec_rlimit rlimits[_SPEC_RLIMIT_MAX];
	struct seccomp_prog *seccomp; /* NULL: no filter */
	/* No execve/execveat after the command's own (init-noexec.c). */
	bool no_exec;
	/* Read-only binds became overlays; the root stays writable. */
	bool write_ephemeral;
	char *tag;
};

/* Who the run is for and which host ids its sandbox ids map to. */
struct run_ids {
	uid_t caller_uid; /* SO_PEERCRED, never from a message */
	gid_t caller_gid;
	pid_t caller_pid;
	uid_t host_uid; /* spec->uid maps to this host uid */
	gid_t host_gid; /* spec->gid maps to this host gid */
	/* The caller's supplementary groups (SO_PEERGROUPS): pid 1 and the
	 * command carry them, so a group the caller is in keeps granting,
	 * and keeps denying, what it does on the host. Empty in private
	 * uid mode. */
	const gid_t *groups;
	size_t n_groups;
};

struct run_spec *spec_new(void);
struct run_spec *spec_free(struct run_spec *s);
