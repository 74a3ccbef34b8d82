/*
 * The private protocol between the daemon and a sandbox's pid 1
 * (boxd-init), over a SOCK_SEQPACKET pair. Both ends are built from this
 * tree, so the format has no compatibility story beyond a magic number.
 *
 *   init -> daemon  INIT_READY    the member is alive and waiting (and,
 *                                 with INIT_READY_PREBUILT, has the
 *                                 default profile's tree built)
 *   daemon -> init  take header   + fds [spec memfd, stdin, stdout, stderr]
 *                                 (INIT_TAKE_PREBUILT: use that tree)
 *   init -> daemon  INIT_STARTED  the command was exec'd (+ fd: the
 *                                 pty master of a tty run, else none)
 *                   INIT_FAILED   a setup step failed (step, errno, detail)
 *                   INIT_EXITED   the command ended (wait status, rusage)
 *
 * The spec travels in a sealed memfd as a list of records, so its size is
 * not bounded by the socket buffer, ended by REC_END so that a blob cut
 * short is refused rather than read as a smaller spec. The daemon writes
 * the uid/gid maps before it sends the take header.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

#define INIT_MAGIC 0x62786431u /* "bxd1" */
#define INIT_CTL_FD 3          /* where boxd-init finds its socket */

enum init_msg_kind {
	INIT_READY = 1,
	INIT_STARTED,
	INIT_FAILED,
	INIT_EXITED,
	INIT_TAKE,
};

/*
 * The spawner: boxd-init started once by the daemon with SPAWNER_ARG,
 * which clones the pool's members so that the daemon's loop never waits
 * on a clone3() with seven new namespaces. It serves one request at a
 * time, in order, on its socket (INIT_CTL_FD, SOCK_SEQPACKET):
 *
 *   daemon -> spawner  struct spawn_request + fds: the member's cgroup,
 *                      one dir fd to clone into (SPAWN_CGROUP_CLONE_INTO)
 *                      or one per v1 hierarchy to attach to, memory first
 *                      (SPAWN_CGROUP_ATTACH)
 *   spawner -> daemon  struct spawn_reply (same seq) + fds [pidfd, the
 *                      daemon's end of the member's control socket], or
 *                      no fds and err/step when the member failed
 *
 * A member is cloned with CLONE_PARENT: it is the daemon's child, as a
 * cold pid 1 is, so the daemon waits for it by pidfd and it dies with the
 * daemon (PR_SET_PDEATHSIG). It is a copy of the spawner, a fresh
 * boxd-init with nothing of the daemon's, and runs boxd-init from there
 * without an execve.
 *
 * The spawner is exec'd with a second fd, SPAWN_PLAN_FD: a sealed memfd
 * holding a spec blob whose mounts are the default profile's (its argv,
 * cwd and ids are placeholders), or nothing. With a plan it makes the
 * skeleton once, a tmpfs on SPAWN_SKELETON next to the plan's staging
 * directory in a mount namespace of its own, and every member it clones
 * builds the plan's tree before it says INIT_READY (init-prebuilt.c).
 */
#define SPAWNER_ARG "--spawner"
#define SPAWN_MAX_FDS 8
#define SPAWN_PLAN_FD (INIT_CTL_FD + 1)
#define SPAWN_SKELETON "skeleton"

enum spawn_cgroup {
	SPAWN_CGROUP_NONE = 0,
	SPAWN_CGROUP_CLONE_INTO, /* fds[0]: clone3(CLONE_INTO_CGROUP) */
	SPAWN_CGROUP_ATTACH,     /* each fd: write the pid to cgroup.procs */
	/* The same, in a cgroup the spawner first makes: mkdir name in each
	 * fd (the daemon's cgroup root, v2; each hierarchy's, memory first,
	 * v1), so that no mkdir ever holds up the daemon's loop. On failure
	 * what was made is removed again. */
	SPAWN_CGROUP_MKDIR_CLONE_INTO,
	SPAWN_CGROUP_MKDIR_ATTACH,
};

struct spawn_request {
	uint32_t magic;
	uint32_t cgroup; /* enum spawn_cgroup */
	uint64_t seq;
	char name[32]; /* SPAWN_CGROUP_MKDIR_*: "sandbox-<n>" */
};

struct spawn_reply {
	uint32_t magic;
	int32_t pid; /* the member, in the daemon's pid namespace */
	uint64_t seq;
	int32_t err; /* 0, or the positive errno of the failed step */
	char step[32];
};

/* INIT_READY: the member built the plan's tree (see the spawner). */
#define INIT_READY_PREBUILT (1u << 0)
/* The take: the spec's filesystem is the plan's; enter the tree built
 * before the take, add only what depends on the caller. Sent only to a
 * member that said INIT_READY_PREBUILT. */
#define INIT_TAKE_PREBUILT (1u << 0)

struct init_take {
	uint32_t magic;
	uint32_t kind; /* INIT_TAKE */
	uint64_t spec_size;
	uint32_t flags; /* INIT_TAKE_* */
	uint32_t pad;
};

struct init_report {
	uint32_t magic;
	uint32_t kind;
	int32_t err;        /* INIT_FAILED: positive errno */
	int32_t status;     /* INIT_EXITED: wait status of the command */
	int32_t cmd_pid;    /* pid of the command inside the sandbox */
	int32_t seccomp_nr; /* -1, or the syscall a kill rule stopped */
	uint32_t seccomp_arch;
	uint32_t execs_refused; /* INIT_EXITED: --no-exec's refusals */
	uint32_t ready_flags;   /* INIT_READY: INIT_READY_* */
	uint32_t pad;
	uint64_t utime_ns, stime_ns, maxrss_bytes;
	char step[32];    /* INIT_FAILED */
	char detail[192]; /* INIT_FAILED: path or value, may be empty */
};

/* Record types in the spec blob. Each record: u32 type, u32 length,
 * payload, zero padding to 8 bytes. Strings include their NUL. IDS, CWD,
 * HOSTNAME and STAGE appear once, ARG at least once, RLIMIT at most once
 * per resource, SECCOMP at most once, END once and last. */
enum init_rec {
	REC_ARG = 1,
	REC_ENV,
	REC_CWD,
	REC_HOSTNAME,
	REC_IDS,     /* struct init_rec_ids */
	REC_MOUNT,   /* struct init_rec_mount + src\0 + dst\0 + upper\0 +
		      * data */
	REC_RLIMIT,  /* struct init_rec_rlimit */
	REC_SECCOMP, /* raw struct sock_filter array */
	REC_STAGE,   /* staging directory for the new root */
	REC_END,     /* empty; the last record */
};

#define INIT_FLAG_NEW_SESSION (1u << 0)
#define INIT_FLAG_NET_LOOPBACK (1u << 1)
#define INIT_FLAG_SECCOMP_LISTENER (1u << 2)
#define INIT_FLAG_NO_EXEC (1u << 3)
#define INIT_FLAG_WRITE_EPHEMERAL (1u << 4)
/* The command's stdio is a pty made in the sandbox's own devpts (the
 * stdio fds of the take message are /dev/null then, and unused); its
 * master rides on INIT_STARTED. */
#define INIT_FLAG_TTY (1u << 5)
/* Outbound network: the take carries a fifth fd, a pipe pasta writes a
 * line to once the sandbox's interface is configured (netstack.c); pid 1
 * waits for it before the command starts, and fails the run at its end
 * without a line. lo is brought up as for NET_LOOPBACK. */
#define INIT_FLAG_NET_OUTBOUND (1u << 6)

struct init_rec_ids {
	uint32_t uid, gid;
	uint32_t flags;              /* INIT_FLAG_* */
	uint16_t tty_rows, tty_cols; /* INIT_FLAG_TTY: first size, 0: unset */
	uint64_t tmpfs_default;      /* bytes for a TMPFS without size */
};

struct init_rec_mount {
	uint32_t kind;  /* enum spec_mount_kind */
	uint32_t flags; /* SPEC_MOUNT_* */
	uint64_t size;
	uint32_t mode;
	uint32_t src_len;   /* including NUL; 0: no source */
	uint32_t data_len;  /* FILE: bytes of content after the strings */
	uint32_t upper_len; /* OVERLAY: including NUL; 0: no upper */
};

struct init_rec_rlimit {
	uint32_t resource; /* enum spec_rlimit_kind */
	uint32_t pad;
	uint64_t soft, hard;
};

/*
 * The spec as boxd-init reads it out of the blob: strings and the seccomp
 * program point into the blob, the arrays are allocated. tree, extra and
 * stdio are boxd-init's to fill once it has parsed the blob.
 */
struct init_mount {
	uint32_t kind;  /* enum spec_mount_kind */
	uint32_t flags; /* SPEC_MOUNT_* */
	uint64_t size;
	uint32_t mode;
	const char *src;
	const char *dst;
	const uint8_t *data; /* FILE: its content, data_len bytes */
	size_t data_len;
	const char *upper; /* OVERLAY: host directory for writes, or NULL */
	int tree;          /* prepared detached mount (binds, proc), or -1 */
	/* DEV: host device nodes; PROC: /dev/null for masks; OVERLAY with
	 * upper: its directory's mount and layers (OVERLAY_UPPER_*, init.h) */
	int extra[8];
};

struct init_spec {
	char **argv;
	char **env;
	const char *cwd, *hostname, *stage;
	uint32_t uid, gid, flags;
	uint16_t tty_rows, tty_cols;
	uint64_t tmpfs_default;
	struct init_mount *mounts;
	size_t n_mounts;
	struct init_rec_rlimit rlimits[_SPEC_RLIMIT_MAX];
	bool rlimit_set[_SPEC_RLIMIT_MAX];
	const void *seccomp;
	size_t seccomp_len;
	int stdio[3];
	int net_ready; /* INIT_FLAG_NET_OUTBOUND: see above; else -1 */
	/* INIT_FLAG_TTY: the master opened in the devpts instance the DEV
	 * mount made (init-mounts.c), -1 until then. */
	int tty_master;
};

/* A growable blob, written by the daemon. */
struct init_blob {
	uint8_t *data;
	size_t len, cap;
};

int init_blob_add(struct init_blob *b, uint32_t type, const void *p1, size_t n1,
		  const void *p2, size_t n2, const void *p3, size_t n3);
void init_blob_free(struct init_blob *b);

/* Encode a whole spec (argv, env, cwd, ...) plus stage dir and extras. */
int init_blob_encode(struct init_blob *b, const struct run_spec *spec,
		     const char *stage, uint64_t tmpfs_default,
		     const void *seccomp, size_t seccomp_len,
		     bool seccomp_listener);

/* Iterate records: returns 1 with the type, payload and length set, 0 at the end,
 * -EBADMSG on a malformed blob. *off starts at 0. */
int init_blob_next(const uint8_t *data, size_t size, size_t *off,
		   uint32_t *ret_type, const uint8_t **ret_payload,
		   uint32_t *ret_len);

/*
 * Read a blob into s (zeroed by the caller, stdio excepted), the way
 * boxd-init does: the blob is the daemon's, but every record is checked
 * as if it were not. Returns 0, -EBADMSG for anything malformed (a blob
 * cut short, an unknown record, a string without its NUL, a record twice
 * that may appear once, one missing, a mount kind or rlimit resource out
 * of range, a seccomp program that is not whole instructions), or
 * -ENOMEM. Whatever the result, init_spec_clear() releases what it
 * allocated.
 */
int init_blob_parse(const uint8_t *data, size_t size, struct init_spec *s);
void init_spec_clear(struct init_spec *s);
