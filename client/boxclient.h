/*
 * libboxclient: the C client of boxd, the sandbox daemon.
 *
 * A box_client is one connection to the daemon. On it you build a box_spec
 * (what to run and how to confine it), start a box_run with three stdio
 * file descriptors that the sandboxed command uses directly, and receive
 * one record when the run ends: a box_result (how it ended, what it used)
 * or a box_error (why it could not run). The connection also answers
 * list, kill and status requests, even while runs are in flight.
 *
 * Conventions:
 *  - Functions returning int return >= 0 on success and a negative errno
 *    on failure. Out-parameters named ret_* come last and are written only
 *    on success.
 *  - Getters on an absent optional value return -1 (int64_t/int) or NULL.
 *  - Strings returned by getters belong to the object they came from and
 *    live as long as it does.
 *  - *_free() functions accept NULL and return NULL.
 *  - Every fd the library creates is close-on-exec. The library never
 *    logs, never exits, never raises SIGPIPE and installs no signal
 *    handlers.
 *  - One connection carries any number of runs at once (the daemon
 *    sets a ceiling, max-runs-per-connection: a run beyond it ends with
 *    a BOX_ERROR_BUSY record). Requests are sent without waiting for
 *    earlier ones to be answered; every answer is matched to its request
 *    by an id the library gives each request. A box_client and
 *    everything obtained from it may be used by one thread at a time.
 *  - On request (box_client_set_busy_retries()), the library sends a
 *    run again when the daemon answers it BUSY and says when to retry
 *    (a shortage of the daemon's own, a ceiling on runs at once). It
 *    retries nothing else: other refusals end the run or request.
 *  - Blocking calls retry on EINTR. Callers that must react to signals
 *    while a run is in flight use the non-blocking API (box_client_fd(),
 *    box_run_dispatch()).
 *
 * The wire protocol is documented in docs/protocol.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The only protocol version this library speaks (version 2: request ids,
 * several runs per connection). */
#define BOX_PROTOCOL_VERSION 2

/* Use as soft or hard value of an rlimit: RLIM_INFINITY. */
#define BOX_RLIM_INFINITY UINT64_MAX

typedef struct box_client box_client;
typedef struct box_spec box_spec;
typedef struct box_run box_run;
typedef struct box_result box_result;
typedef struct box_error box_error;
typedef struct box_host_info box_host_info;
typedef struct box_status box_status;
typedef struct box_run_list box_run_list;
typedef struct box_run_info box_run_info;
typedef struct box_process box_process;
typedef struct box_plan box_plan;

enum box_profile {
	BOX_PROFILE_DEFAULT = 1, /* read-only system dirs, tmpfs, proc, dev */
	BOX_PROFILE_BARE = 2,    /* empty root: the spec's mounts are all */
};

enum box_net {
	BOX_NET_NONE = 1,     /* own network namespace, no interface up */
	BOX_NET_LOOPBACK = 2, /* own network namespace, lo up */
	BOX_NET_HOST = 3,     /* the host's network (if policy allows) */
	/* own network namespace with lo, and connections out (not in)
	 * through a user-mode network stack; where the daemon has one */
	BOX_NET_OUTBOUND = 4,
};

enum box_mount_kind {
	BOX_MOUNT_RO_BIND = 1,    /* host src -> dst, read-only */
	BOX_MOUNT_BIND = 2,       /* host src -> dst, read-write */
	BOX_MOUNT_TMPFS = 3,      /* fresh tmpfs on dst */
	BOX_MOUNT_PROC = 4,       /* proc on dst */
	BOX_MOUNT_DEV = 5,        /* minimal /dev on dst */
	BOX_MOUNT_SYMLINK = 6,    /* symlink dst -> src */
	BOX_MOUNT_DIR = 7,        /* directory dst */
	BOX_MOUNT_REMOUNT_RO = 8, /* make the mount at dst read-only */
	BOX_MOUNT_DEV_BIND = 9,   /* like BIND, device nodes usable */
	BOX_MOUNT_OVERLAY = 10,   /* host src on dst, writes discarded */
	BOX_MOUNT_HIDE = 11,      /* dst unreadable (box_spec_hide) */
	BOX_MOUNT_FILE = 12, /* a file of given content (box_spec_add_file) */
};

enum box_seccomp_mode {
	BOX_SECCOMP_DEFAULT = 1, /* the daemon's built-in filter */
	BOX_SECCOMP_NONE = 2,    /* no filter (policy must allow it) */
	BOX_SECCOMP_CUSTOM = 3,  /* a policy text given by the caller */
};

enum box_rlimit_resource {
	BOX_RLIMIT_NOFILE = 1,
	BOX_RLIMIT_FSIZE = 2,
	BOX_RLIMIT_CORE = 3,
	BOX_RLIMIT_NPROC = 4,
	BOX_RLIMIT_STACK = 5,
	BOX_RLIMIT_AS = 6, /* address space (virtual memory) per process */
};

enum box_termination {
	BOX_TERM_EXITED = 1,        /* exit code in box_result_exit_code() */
	BOX_TERM_SIGNALED = 2,      /* signal in box_result_signal() */
	BOX_TERM_OUT_OF_MEMORY = 3, /* killed by the memory limit */
	BOX_TERM_WALL_TIMEOUT = 4,  /* killed by the wall-time limit */
	BOX_TERM_CPU_TIMEOUT = 5,   /* killed by the CPU-time limit */
	BOX_TERM_KILLED = 6,        /* kill request, client gone, shutdown */
};

enum box_peak_source {
	BOX_PEAK_NONE = 0,   /* no peak memory figure */
	BOX_PEAK_RUSAGE = 1, /* max RSS of one process */
	BOX_PEAK_CGROUP = 2, /* the run's cgroup high-water mark */
};

enum box_error_code {
	BOX_ERROR_BAD_REQUEST = 1,  /* malformed or contradictory request */
	BOX_ERROR_PROTOCOL = 2,     /* protocol violation; connection closed */
	BOX_ERROR_DENIED = 3,       /* tenant policy refuses it */
	BOX_ERROR_UNSUPPORTED = 4,  /* the host cannot enforce what was asked */
	BOX_ERROR_SETUP_FAILED = 5, /* building the sandbox failed (step) */
	BOX_ERROR_EXEC_FAILED = 6,  /* execve of the command failed */
	BOX_ERROR_BUSY = 7,         /* a ceiling on concurrent use */
	BOX_ERROR_INTERNAL = 8,     /* daemon bug */
	BOX_ERROR_NOT_FOUND = 9,    /* no such run (or not the caller's) */
	/* Not from the daemon: this library failed (connect, I/O, memory). */
	BOX_ERROR_CLIENT = 100,
};

enum box_run_state {
	BOX_RUN_PENDING = 0,  /* sent, not yet accepted */
	BOX_RUN_ACCEPTED = 1, /* has a run id, sandbox being built */
	BOX_RUN_STARTED = 2,  /* the command has been exec'd */
	BOX_RUN_FINISHED = 3, /* a result or an error record is available */
};

/* Which stdio streams box_process_open() connects to pipes. */
enum box_pipe {
	BOX_PIPE_STDIN = 1 << 0,
	BOX_PIPE_STDOUT = 1 << 1,
	BOX_PIPE_STDERR = 1 << 2,
};

/* The library's version, e.g. "0.1.0". */
const char *box_version(void);

/*
 * The socket path the library connects to when given `path`: `path` itself
 * if not NULL, else $BOXD_SOCKET if set and non-empty, else the built-in
 * default (/run/boxd/boxd.sock unless configured otherwise).
 */
const char *box_socket_path(const char *path);

/* ------------------------------------------------------------ connection */

/* A new, unconnected client. -ENOMEM. */
int box_client_new(box_client **ret_client);

/*
 * Free text sent in the handshake and shown in the daemon's logs
 * ("libboxclient <version>" by default). Call before connecting.
 */
int box_client_set_name(box_client *c, const char *name);

/*
 * Connect to the daemon at box_socket_path(path) and perform the
 * handshake; returns once the daemon has answered. Errors:
 * -ENAMETOOLONG, the errno of socket()/connect() (-ENOENT, -ECONNREFUSED,
 * -EACCES...), -EACCES if the daemon refuses this user, -EPROTONOSUPPORT
 * if it does not speak BOX_PROTOCOL_VERSION (a daemon that speaks only
 * version 1), -EPROTO on a protocol error,
 * -ECONNRESET if it closes the connection. -EISCONN if already connected.
 * box_client_last_error() describes any failure.
 */
int box_client_connect(box_client *c, const char *path);

/*
 * Like box_client_connect() on a socket the caller already connected
 * (SOCK_STREAM, AF_UNIX). The client takes fd in every case, also on
 * failure, and switches it to non-blocking mode.
 */
int box_client_connect_fd(box_client *c, int fd);

/* box_client_new() + box_client_connect(); nothing to free on failure. */
int box_connect(const char *path, box_client **ret_client);

/*
 * Close the connection and free the client. Runs still in flight on it
 * are killed by the daemon unless started with die_with_client off.
 * box_run and box_process objects obtained from the client stay valid for
 * their getters; calls that need the connection fail with -ENOTCONN.
 */
box_client *box_client_free(box_client *c);

/*
 * The last failure on this connection reported by the daemon (an Error
 * that answered a handshake, kill, list, status or plan request, a
 * protocol error, or an Error no request of this connection waits for)
 * or by the library itself (code BOX_ERROR_CLIENT: connect or I/O
 * failures, a run that could not be started, a daemon that broke the
 * protocol). NULL if nothing failed yet.
 * Valid until the next call on c. Errors of runs that started are in
 * box_run_error() instead.
 */
const box_error *box_client_last_error(const box_client *c);

/*
 * The socket, for poll()/epoll (wait for POLLIN, then call
 * box_run_dispatch() or box_client_dispatch()). Never read or write it
 * directly. -1 if not connected.
 */
int box_client_fd(const box_client *c);

/*
 * Process every complete event the socket holds without blocking: run
 * state changes, replies to pending requests. Then send again each run
 * whose retry is due (box_client_set_busy_retries()); like
 * box_run_start(), that may wait while the socket is full. Returns 0, or
 * a negative errno once the connection is broken (-ECONNRESET when the
 * daemon closed it, -EPROTO on a protocol error); every run in flight
 * then finishes with a BOX_ERROR_CLIENT (or BOX_ERROR_PROTOCOL) error
 * record.
 */
int box_client_dispatch(box_client *c);

/*
 * How long, in milliseconds, until box_client_dispatch() has work even if
 * box_client_fd() stays quiet: a run waiting to be sent again. -1 if
 * none, 0 if overdue. A caller with its own poll loop uses it as the
 * timeout (or the upper bound of its own) and dispatches when it expires.
 */
int box_client_timeout(const box_client *c);

/*
 * Send a run again, up to retries times, when the daemon answers it BUSY
 * before accepting it and says that the same request may succeed on this
 * connection later (Error.retry_after_ms: docs/protocol.md, "BUSY, and
 * retrying"): first after the daemon's delay, then after twice the
 * previous wait (at most BOX_BUSY_RETRY_MAX_MS, plus up to a quarter more,
 * so that clients turned away together do not come back together). The
 * run stays BOX_RUN_PENDING meanwhile and ends with the last BUSY record
 * when the retries are spent. A BUSY without a delay (the daemon shutting
 * down, a connection ceiling) is never retried. Killing a run that waits
 * to be sent again ends it with its BUSY record.
 *
 * To send a run again the library keeps duplicates of its three stdio
 * fds until the daemon's Accepted for it has been dispatched. So the
 * caller must keep dispatching while a run is pending (box_run_wait(),
 * box_run_capture(), or a poll loop with box_client_timeout()): one that
 * reads its own pipe to end-of-file before it dispatches would wait
 * forever for an EOF the library's duplicate holds off. That is why it
 * is off (0) by default; box_process_open() runs are never retried.
 * BOX_BUSY_RETRIES is a sensible count (boxctl's). Applies to runs
 * started afterwards.
 */
#define BOX_BUSY_RETRIES 6
#define BOX_BUSY_RETRY_MAX_MS 5000
int box_client_set_busy_retries(box_client *c, unsigned retries);

/* After the handshake: the protocol version chosen (2), or 0. */
uint32_t box_client_protocol_version(const box_client *c);

/* After the handshake: the daemon's version string, or NULL. */
const char *box_client_daemon_version(const box_client *c);

/* After the handshake: what the host can enforce, or NULL. */
const box_host_info *box_client_host(const box_client *c);

/* After the handshake: the uid/gid the daemon sees for this caller, or -1. */
int64_t box_client_uid(const box_client *c);
int64_t box_client_gid(const box_client *c);

/* ------------------------------------------------------------- host info */

/*
 * Lists are NULL-terminated arrays of strings, never NULL themselves
 * (an empty list is { NULL }).
 */

/* Namespaces the daemon creates: "user", "mnt", "pid", "net", ... */
const char *const *box_host_namespaces(const box_host_info *h);
/* "v2", "v1" or "none"; NULL if not reported. */
const char *box_host_cgroup_mode(const box_host_info *h);
/* The daemon's cgroup subtree; NULL if not reported. */
const char *box_host_cgroup_path(const box_host_info *h);
/* Usable cgroup controllers. */
const char *const *box_host_controllers(const box_host_info *h);
/* Enforceable: "memory", "swap", "cpus", "pids", "timeout", "cpu_time". */
const char *const *box_host_limits(const box_host_info *h);
/* 1 if seccomp filters are enforced, 0 if not, -1 if not reported. */
int box_host_seccomp(const box_host_info *h);
/* 1 if Landlock is available, 0 if not, -1 if not reported. */
int box_host_landlock(const box_host_info *h);
/* Network modes this caller may ask for: "none", "loopback", "host",
 * "outbound" (the last two only where allowed and, for outbound, where
 * the daemon's host has pasta). */
const char *const *box_host_nets(const box_host_info *h);
/* Profiles the daemon offers: "default", "bare". */
const char *const *box_host_profiles(const box_host_info *h);
/* True if `name` is in box_host_limits(). */
bool box_host_can_limit(const box_host_info *h, const char *name);
/* Protocol features beyond the first cut of version 1: "dry_run",
 * "tty". */
const char *const *box_host_features(const box_host_info *h);
/* True if `name` is in box_host_features(). */
bool box_host_has_feature(const box_host_info *h, const char *name);

/*
 * Capabilities: the guarantees boxd knows, each named ("net:none",
 * "seccomp:default", "write:ephemeral", "exec:no_exec", "limit:memory",
 * ...; boxctl(1) lists them), with one sentence saying what it means,
 * and whether this host and this caller's tenant can give it. A plan's
 * uses (box_plan_uses()) are given by the same names. Getters take an
 * index below box_host_capability_count(); out of range they return NULL,
 * false or -1. A daemon older than capabilities reports none.
 */
size_t box_host_capability_count(const box_host_info *h);
const char *box_host_capability_name(const box_host_info *h, size_t i);
const char *box_host_capability_description(const box_host_info *h, size_t i);
/* True if the host and the tenant can give it. */
bool box_host_capability_available(const box_host_info *h, size_t i);
/* Why not, for one that is not available (NULL if not said). */
const char *box_host_capability_reason(const box_host_info *h, size_t i);
/* "limit:*": the tenant's ceiling in the unit of the matching box_spec
 * setter (bytes, millis of CPU, count, ns), or -1 for none. */
int64_t box_host_capability_ceiling(const box_host_info *h, size_t i);
/* The index of `name`, or -ENOENT. */
int box_host_capability_find(const box_host_info *h, const char *name);
/* True if `name` is listed and available. */
bool box_host_has_capability(const box_host_info *h, const char *name);
/* The sentence for a capability name as this library knows it, whatever
 * the daemon; NULL for a name it does not know. */
const char *box_capability_describe(const char *name);

/*
 * Fill spec with the strongest isolation this host and this caller's
 * tenant allow (sandboxlib's maximum_possible_isolation()), on top of
 * what it holds (argv, env and the mounts already added are kept): no
 * network, the default profile with the default seccomp filter, /run and
 * /var read-only so that the profile's /tmp is the only writable place
 * (every host path is read-only), no exec after the command's own where
 * the daemon has it, a new session, the run killed with the client, no
 * core dumps, and tight but usable limits where the host enforces them
 * (memory 256 MiB, 1 CPU, 128 pids, 60 s of CPU time, 10 min of wall
 * time), each lowered to the tenant's ceiling. Setters called afterwards
 * loosen or tighten one setting. h is box_client_host() or
 * box_status_host(). Returns 0 or -errno (-EINVAL for a NULL argument,
 * -ENOMEM).
 */
int box_host_tightest(const box_host_info *h, box_spec *spec);

/* ------------------------------------------------------------------ spec */

/*
 * A spec describes one run. Unset fields take the daemon's defaults:
 * profile default, cwd "/", hostname "boxd", the caller's uid/gid inside,
 * net none, new session on, die with client on, no limits beyond the
 * tenant's ceilings, the default seccomp filter, strict (not lenient).
 * Setters return 0, -EINVAL on a bad argument, -ENOMEM.
 * A spec can be reused for any number of runs.
 */
int box_spec_new(box_spec **ret_spec);
box_spec *box_spec_free(box_spec *s);

/* Replace the command line with the NULL-terminated argv (argv[0] needed). */
int box_spec_set_argv(box_spec *s, const char *const *argv);
/* Append one argument. argv[0] is looked up in PATH if it has no '/'. */
int box_spec_add_arg(box_spec *s, const char *arg);

int box_spec_set_profile(box_spec *s, enum box_profile profile);

/*
 * Mounts are applied in the order they are added, after the profile's.
 * Missing parent directories of dst are created. dst is an absolute
 * path inside the sandbox. A relative host src (bind kinds) is taken
 * relative to the caller's working directory, "." and ".." resolved
 * textually; the daemon opens host paths with the caller's credentials.
 * box_spec_add_mount() is the generic form: src only for the bind kinds
 * and SYMLINK (its target), NULL otherwise.
 */
int box_spec_add_mount(box_spec *s, enum box_mount_kind kind, const char *src,
		       const char *dst);
int box_spec_ro_bind(box_spec *s, const char *src, const char *dst);
int box_spec_bind(box_spec *s, const char *src, const char *dst);
int box_spec_dev_bind(box_spec *s, const char *src, const char *dst);
/* size_bytes 0: the daemon's default size; mode -1: the default (0755). */
int box_spec_tmpfs(box_spec *s, const char *dst, uint64_t size_bytes, int mode);
int box_spec_proc(box_spec *s, const char *dst);
int box_spec_dev(box_spec *s, const char *dst);
/* A symlink at dst pointing to target (which may be relative). */
int box_spec_symlink(box_spec *s, const char *target, const char *dst);
/* mode -1: the default (0755). */
int box_spec_dir(box_spec *s, const char *dst, int mode);
int box_spec_remount_ro(box_spec *s, const char *dst);
/*
 * Make dst (a file or a directory) unreadable: an empty, read-only,
 * inaccessible cover over it wherever the sandbox shows it (under a
 * second bind of a directory above it too), applied after every other
 * mount whatever the order of the calls. A dst that does not exist is
 * left alone. Another hard link to a hidden file is not hidden.
 */
int box_spec_hide(box_spec *s, const char *dst);
/*
 * The host directory src seen at dst through an overlay: the command may
 * write there, the writes land in a tmpfs of the run's own (charged to
 * its memory) and are gone at the end; src is never modified. Files and
 * directories owned by ids the sandbox does not map cannot be changed
 * (EOVERFLOW).
 */
int box_spec_overlay(box_spec *s, const char *src, const char *dst);
/*
 * As box_spec_overlay(), but the writes persist in the host directory
 * upper (relative paths are taken from the current directory): they land
 * in upper/upper, with upper/work as overlayfs's work directory, both
 * made on first use and owned by the caller, and a later run given the
 * same upper sees them. src is never modified. The daemon refuses, and
 * the run fails to start for, an upper the caller does not own or may
 * not write, a symlink, one on a kernel filesystem (proc, sysfs, ...),
 * one at or below src or above it, and any upper for a tenant whose runs
 * use private uids. Do not give one upper to two runs at once (overlayfs
 * leaves the result undefined).
 */
int box_spec_overlay_persist(box_spec *s, const char *src, const char *dst,
			     const char *upper);
/*
 * Writes anywhere, all discarded at the end: every read-only bind (the
 * profile's system directories included) becomes an overlay as above
 * and the root stays writable; writable binds still write to the host.
 * Needs a daemon whose HostInfo.features lists "write_ephemeral".
 */
int box_spec_set_write_ephemeral(box_spec *s, bool on);
/*
 * A read-only file at dst holding len bytes of data (copied), with
 * permission bits mode (-1: 0644; 0 is not a mode a file can be given).
 * It lives on a tmpfs of the run's own, charged to its memory; the
 * daemon refuses contents above its tmpfs-size in all. Missing parent
 * directories of dst are created; an existing file at dst is covered.
 */
int box_spec_add_file(box_spec *s, const char *dst, const void *data,
		      size_t len, int mode);

/*
 * Reorder the spec's mounts (not the profile's) by destination, so that a
 * mount on a directory precedes mounts below it: "/a" before "/a/b" before
 * "/a-b". Paths compare component by component, bytewise; mounts with the
 * same destination keep their order (a bind then its remount-ro).
 */
int box_spec_sort_mounts(box_spec *s);

/*
 * Environment: the sandbox starts with PATH only; setenv adds or replaces
 * (name must be non-empty and contain no '='), unsetenv removes.
 */
int box_spec_setenv(box_spec *s, const char *name, const char *value);
int box_spec_unsetenv(box_spec *s, const char *name);

/* NULL unsets (back to the default). */
int box_spec_set_cwd(box_spec *s, const char *cwd);
int box_spec_set_hostname(box_spec *s, const char *hostname);
/* Ids inside the sandbox; a negative value unsets. */
int box_spec_set_uid(box_spec *s, int64_t uid);
int box_spec_set_gid(box_spec *s, int64_t gid);
int box_spec_set_net(box_spec *s, enum box_net net);
/* setsid() before exec: the command cannot reach the caller's terminal. */
int box_spec_set_new_session(box_spec *s, bool on);
/*
 * After the command's own execve, every execve and execveat in the run
 * fails with EPERM (from the command, its children, its threads, by path
 * or by fd). Code that never calls execve is not stopped: an interpreter
 * running a script, a program loading code into its own memory. Needs a
 * daemon whose HostInfo.features lists "no_exec": box_run_start() fails
 * with -EOPNOTSUPP on another, which would ignore the field.
 */
int box_spec_set_no_exec(box_spec *s, bool on);
/* Kill the run when this connection closes. */
int box_spec_set_die_with_client(box_spec *s, bool on);

/* Limits; 0 unsets (no limit beyond the tenant's ceiling). */
int box_spec_set_memory(box_spec *s, uint64_t bytes);
/* Memory + swap, at least the memory limit (the daemon refuses less).
 * Unset: no swap. */
int box_spec_set_memory_swap(box_spec *s, uint64_t bytes);
/* Fractional CPUs, e.g. 1.5; rounded to thousandths. */
int box_spec_set_cpus(box_spec *s, double cpus);
int box_spec_set_cpu_millis(box_spec *s, uint32_t millis);
int box_spec_set_pids(box_spec *s, uint32_t pids);
/* Wall time from start to end of the run. */
int box_spec_set_timeout_ns(box_spec *s, uint64_t ns);
/* User + system CPU time of all the run's processes. */
int box_spec_set_cpu_time_ns(box_spec *s, uint64_t ns);

/*
 * Seccomp: DEFAULT and NONE take no policy (pass NULL, 0); CUSTOM takes
 * the text of a policy file (see docs/security.md).
 */
int box_spec_set_seccomp(box_spec *s, enum box_seccomp_mode mode,
			 const void *policy, size_t policy_len);

/* setrlimit() before exec; BOX_RLIM_INFINITY for unlimited; soft <= hard. */
int box_spec_add_rlimit(box_spec *s, enum box_rlimit_resource resource,
			uint64_t soft, uint64_t hard);

/*
 * Lenient: run even if the host cannot enforce some of what was asked;
 * the result then lists what was not enforced in its caveats.
 */
int box_spec_set_lenient(box_spec *s, bool on);

/* Free text shown by list (ps). NULL unsets. */
int box_spec_set_tag(box_spec *s, const char *tag);

/*
 * An interactive run (daemons whose host info lists the feature "tty"):
 * the sandbox makes a pseudo-terminal in its own devpts instance and
 * gives it to the command as stdin, stdout, stderr and controlling
 * terminal, the command leading its session and foreground process
 * group (job control works, ^C reaches what runs in the foreground).
 * The stdio fds given to box_run_start() are then ignored and never
 * sent: nothing of the caller's terminal reaches the sandbox. Once the
 * run is STARTED, box_run_tty_fd() is the terminal's master side, for
 * the caller to relay bytes through. The spec needs a /dev of the
 * sandbox's own (the default profile has one; box_spec_dev()), or the
 * run fails at its "tty" step. Off by default.
 */
int box_spec_set_tty(box_spec *s, bool on);
/* The terminal's size at start (0: unset, the kernel's 0x0). -EINVAL
 * above 65535. Typically the caller's own terminal's size. */
int box_spec_set_tty_size(box_spec *s, unsigned rows, unsigned cols);

/* ------------------------------------------------------------------- run */

/*
 * Start a run of spec on c. The sandboxed command gets stdin_fd,
 * stdout_fd and stderr_fd as its 0, 1, 2 (the daemon receives
 * duplicates; the caller keeps its own and should close the ones it
 * does not need, or it will not see EOF on its pipes). -1 means
 * /dev/null. Returns as soon as the request is sent, also while other
 * runs are in flight on c.
 * Errors: -EINVAL (no argv), -ENOTCONN, -EMSGSIZE (spec larger than a
 * frame), -EBADF, I/O errors. Errors the daemon reports later (BUSY
 * among them, once retries are spent) end the run with an error record.
 */
int box_run_start(box_client *c, const box_spec *spec, int stdin_fd,
		  int stdout_fd, int stderr_fd, box_run **ret_run);

/*
 * Block until the run is finished. Returns 0 when it finished with a
 * record from the daemon (box_run_result() or box_run_error()), or a
 * negative errno when the connection broke first (the run then holds a
 * BOX_ERROR_CLIENT record, or BOX_ERROR_PROTOCOL: -EPROTO). Events of
 * other runs and replies to other requests are processed on the way.
 */
int box_run_wait(box_run *run);

/*
 * Non-blocking: process what the connection has (box_client_dispatch())
 * and return the run's state (enum box_run_state). A broken connection
 * finishes the run with a BOX_ERROR_CLIENT (or BOX_ERROR_PROTOCOL)
 * record, so this returns BOX_RUN_FINISHED then too; negative errnos
 * are for bad arguments (-EINVAL) and a freed client (-ENOTCONN).
 */
int box_run_dispatch(box_run *run);

enum box_run_state box_run_state(const box_run *run);

/* While a PENDING run waits to be sent again after a BUSY answer
 * (box_client_set_busy_retries()): that answer, whose message says what
 * the daemon is short of. NULL otherwise. Owned by the run. */
const box_error *box_run_busy(const box_run *run);

/* The daemon's run id once accepted, else -1. */
int64_t box_run_id(const box_run *run);
/* The host pid of the sandbox's pid 1 once started, else -1. */
int64_t box_run_pid(const box_run *run);

/* Once FINISHED: exactly one of these is not NULL. */
const box_result *box_run_result(const box_run *run);
const box_error *box_run_error(const box_run *run);

/*
 * Send signal to the run and wait for the daemon's answer. If the run is
 * not accepted yet, first waits until it is. -ESRCH if it already
 * finished (or the daemon does not know it).
 */
int box_run_kill(box_run *run, int signal);

/*
 * Non-blocking kill: sends the request now, or as soon as the run is
 * accepted; the answer is consumed by dispatch. 0 also if the run has
 * already finished (nothing to do).
 */
int box_run_kill_async(box_run *run, int signal);

/*
 * A tty run's terminal master, once STARTED: the library's (closed by
 * box_run_free()), close-on-exec, blocking; the caller reads the
 * command's output from it and writes its input to it, and may poll it
 * (it reports POLLHUP, and reads fail with EIO, once every process in
 * the sandbox has let go of the terminal). -ENOTTY before the run
 * started or for a run without tty; -EINVAL for NULL.
 */
int box_run_tty_fd(const box_run *run);
/*
 * Set the terminal's size (TIOCSWINSZ on the master): the kernel sends
 * SIGWINCH to the foreground process group inside. Call it on SIGWINCH
 * of the caller's own terminal. -ENOTTY without a terminal, -EINVAL
 * above 65535.
 */
int box_run_tty_resize(box_run *run, unsigned rows, unsigned cols);

/* Shell-style status, see box_result_exit_status()/box_error_exit_status(). */
int box_run_exit_status(const box_run *run);

/* The result or error as one JSON object (malloc'd, caller frees). */
int box_run_json(const box_run *run, char **ret_json);

/*
 * Free a run. Freeing one that is not finished does not stop it: it
 * stays in flight on the connection, counting against the daemon's
 * ceiling of runs per connection, until its record arrives (kill it
 * first).
 */
box_run *box_run_free(box_run *run);

/* ---------------------------------------------------------------- result */

uint64_t box_result_run_id(const box_result *r);
enum box_termination box_result_termination(const box_result *r);
/* The exit code (EXITED), else -1. */
int box_result_exit_code(const box_result *r);
/* The signal that ended it (SIGNALED, often KILLED/OOM/timeouts), or -1. */
int box_result_signal(const box_result *r);
/* Nanoseconds from start to end; user and system CPU time of all processes. */
uint64_t box_result_wall_ns(const box_result *r);
uint64_t box_result_user_ns(const box_result *r);
uint64_t box_result_system_ns(const box_result *r);
/* Largest RSS of a single process, bytes. */
uint64_t box_result_peak_rss_bytes(const box_result *r);
/* Peak memory of the whole run in bytes, -1 if unknown; and its source. */
int64_t box_result_peak_memory_bytes(const box_result *r);
enum box_peak_source box_result_peak_memory_source(const box_result *r);
/* OOM kills in the run, -1 if unknown. */
int64_t box_result_oom_kills(const box_result *r);
/* Most processes alive at once, -1 if unknown. */
int64_t box_result_peak_pids(const box_result *r);
/* The system call a seccomp kill fired on, else NULL. */
const char *box_result_seccomp_syscall(const box_result *r);
/* --no-exec runs: how many execve/execveat calls after the command's own
 * were refused; -1 for other runs or a daemon that does not say. */
int64_t box_result_execs_refused(const box_result *r);
/* What lenient mode did not enforce (NULL-terminated, never NULL). */
const char *const *box_result_caveats(const box_result *r);
/* Wall-clock time (CLOCK_REALTIME, ns since the epoch) at which the
 * sandbox started, -1 if the daemon did not say. */
int64_t box_result_start_time_unix_ns(const box_result *r);

/*
 * Shell-style exit status: the exit code for EXITED; 128+N if the run
 * ended by signal N (SIGNALED, and KILLED/OUT_OF_MEMORY/timeouts with a
 * signal; 128+SIGKILL for those without one).
 */
int box_result_exit_status(const box_result *r);

/*
 * {"run_id":N,"termination":"exited|signaled|out_of_memory|wall_timeout|
 *  cpu_timeout|killed","exit_code":N|null,"signal":N|null,"wall_ns":N,
 *  "user_ns":N,"system_ns":N,"peak_rss_bytes":N,"peak_memory_bytes":N|null,
 *  "peak_memory_source":"cgroup|rusage|none","oom_kills":N|null,
 *  "peak_pids":N|null,"seccomp_syscall":"name"|null,
 *  "execs_refused":N|null,"caveats":[...],"start_time_unix_ns":N|null}
 */
int box_result_json(const box_result *r, char **ret_json);

/* "exited", "signaled", "out_of_memory", ...; "unknown" otherwise. */
const char *box_termination_name(enum box_termination t);

/* ----------------------------------------------------------------- error */

enum box_error_code box_error_code(const box_error *e);
/* Human-readable, never NULL (may be empty). */
const char *box_error_message(const box_error *e);
/* The setup step that failed ("mount", "exec", ...), else NULL. */
const char *box_error_step(const box_error *e);
/* The errno of that step (positive), else 0. */
int box_error_errno(const box_error *e);
/* The run it belongs to, else -1. */
int64_t box_error_run_id(const box_error *e);
/* BUSY: the daemon's advice, in milliseconds, on when sending the same
 * request again on this connection may succeed; -1 if it is pointless. */
int64_t box_error_retry_after_ms(const box_error *e);

/*
 * Shell-style exit status of a run that failed: 127 for EXEC_FAILED with
 * ENOENT (not found), 126 for other EXEC_FAILED (not executable), 125 for
 * every other failure before the command started.
 */
int box_error_exit_status(const box_error *e);

/*
 * {"error":{"code":"setup_failed","message":"...","step":"..."|null,
 *  "errno":N|null,"errno_name":"ENOENT"|null,"run_id":N|null}}
 */
int box_error_json(const box_error *e, char **ret_json);

/* "bad_request", "setup_failed", ..., "client"; "unknown" otherwise. */
const char *box_error_code_name(enum box_error_code code);

/* ------------------------------------------------------------------ plan */

/*
 * A dry run: the daemon checks spec exactly as it would for a run (tenant
 * policy, ceilings, what the host can enforce, lenient caveats) and
 * answers with the plan of what it would build, starting nothing. Blocks
 * until the answer. Returns 0 and the plan, or a negative errno: the
 * daemon refused the spec (-EINVAL bad request, -EACCES denied,
 * -EOPNOTSUPP unsupported, -EBUSY...; box_client_last_error() has its
 * record), -EOPNOTSUPP also when the daemon does not offer dry runs
 * (box_host_has_feature(h, "dry_run")), -ENOTCONN, I/O errors. Runs in
 * flight on c go on; their events are processed while waiting.
 */
int box_run_plan(box_client *c, const box_spec *spec, box_plan **ret_plan);
box_plan *box_plan_free(box_plan *p);

/* argv as the command will get it; the complete environment, "NAME=value". */
const char *const *box_plan_argv(const box_plan *p);
const char *const *box_plan_env(const box_plan *p);
const char *box_plan_cwd(const box_plan *p);
const char *box_plan_hostname(const box_plan *p);
/* Free text given with box_spec_set_tag(), else NULL. */
const char *box_plan_tag(const box_plan *p);
/* Ids inside the sandbox, and the host ids they map to (-1: a private id
 * the daemon picks from its range when the run starts). */
int64_t box_plan_uid(const box_plan *p);
int64_t box_plan_gid(const box_plan *p);
int64_t box_plan_host_uid(const box_plan *p);
int64_t box_plan_host_gid(const box_plan *p);
bool box_plan_private_ids(const box_plan *p);
enum box_net box_plan_net(const box_plan *p);
enum box_profile box_plan_profile(const box_plan *p);
bool box_plan_new_session(const box_plan *p);
/* A terminal of the sandbox's own (box_spec_set_tty()). */
bool box_plan_tty(const box_plan *p);
bool box_plan_die_with_client(const box_plan *p);
bool box_plan_no_exec(const box_plan *p);
bool box_plan_write_ephemeral(const box_plan *p);

/*
 * Every mount operation, in the order it is applied: the profile's, then
 * the spec's. Getters take an index below box_plan_mount_count(); out of
 * range they return 0, NULL, -1 or false.
 */
size_t box_plan_mount_count(const box_plan *p);
enum box_mount_kind box_plan_mount_kind(const box_plan *p, size_t i);
/* Bind kinds, OVERLAY: the host path; SYMLINK: the link's target; HIDE
 * from the tenant's deny list: the host path; else NULL. */
const char *box_plan_mount_src(const box_plan *p, size_t i);
const char *box_plan_mount_dst(const box_plan *p, size_t i);
/* OVERLAY whose writes persist: the host directory they go to (its
 * upper/ and work/ inside); else NULL (a tmpfs, discarded). */
const char *box_plan_mount_upper(const box_plan *p, size_t i);
/* TMPFS: its size in bytes (the daemon's default filled in), else -1. */
int64_t box_plan_mount_size(const box_plan *p, size_t i);
/* TMPFS, DIR, FILE: permission bits, else -1. */
int box_plan_mount_mode(const box_plan *p, size_t i);
/* FILE: the size of its content, else -1. */
int64_t box_plan_mount_data_bytes(const box_plan *p, size_t i);
bool box_plan_mount_read_only(const box_plan *p, size_t i);
/* Part of the profile (or of the tenant's deny list) rather than of the
 * spec. */
bool box_plan_mount_from_profile(const box_plan *p, size_t i);
/* Skipped when its host source does not exist (profile directories). */
bool box_plan_mount_if_exists(const box_plan *p, size_t i);

/* Limits after the tenant's ceilings; -1: no limit. */
int64_t box_plan_memory_bytes(const box_plan *p);
int64_t box_plan_memory_swap_bytes(const box_plan *p);
int64_t box_plan_cpu_millis(const box_plan *p);
int64_t box_plan_pids(const box_plan *p);
int64_t box_plan_timeout_ns(const box_plan *p);
int64_t box_plan_cpu_time_ns(const box_plan *p);

/* The rlimit that will be set for resource: 0 and soft/hard (either
 * pointer may be NULL), or -ENOENT if it is left as inherited. */
int box_plan_rlimit(const box_plan *p, enum box_rlimit_resource resource,
		    uint64_t *ret_soft, uint64_t *ret_hard);

enum box_seccomp_mode box_plan_seccomp_mode(const box_plan *p);
/* BPF instructions of the filter, -1 without one. */
int64_t box_plan_seccomp_instructions(const box_plan *p);

/* What lenient mode would not enforce (NULL-terminated, never NULL). */
const char *const *box_plan_caveats(const box_plan *p);
/* The guarantees the run relies on, by capability name (see
 * box_host_capability_count()), in the daemon's order; box_capability_describe()
 * gives each one's sentence. */
const char *const *box_plan_uses(const box_plan *p);

/*
 * The plan as one JSON object (malloc'd, caller frees):
 * {"argv":[...],"env":[...],"cwd":"/","hostname":"boxd","tag":null,
 *  "uid":N,"gid":N,"host_uid":N|null,"host_gid":N|null,
 *  "private_ids":false,"net":"none","profile":"default",
 *  "new_session":true,"die_with_client":true,"no_exec":false,
 *  "write_ephemeral":false,
 *  "mounts":[{"kind":"ro-bind","src":"/usr","dst":"/usr","size":null,
 *             "mode":null,"data_bytes":null,"read_only":true,
 *             "from_profile":true,"if_exists":true},...],
 *  "limits":{"memory_bytes":N|null,"memory_swap_bytes":N|null,
 *            "cpu_millis":N|null,"pids":N|null,"timeout_ns":N|null,
 *            "cpu_time_ns":N|null},
 *  "rlimits":{"core":{"soft":0,"hard":0},...},
 *  "seccomp":"default","seccomp_instructions":N|null,"uses":[...],
 *  "caveats":[...]}
 * Rlimit values of BOX_RLIM_INFINITY are "unlimited".
 */
int box_plan_json(const box_plan *p, char **ret_json);

/* "ro-bind", "bind", "tmpfs", ...; "unknown" otherwise. */
const char *box_mount_kind_name(enum box_mount_kind kind);
/* "nofile", "fsize", "core", "nproc", "stack", "as"; "unknown" otherwise. */
const char *box_rlimit_name(enum box_rlimit_resource resource);

/* --------------------------------------------------------------- capture */

/*
 * Run spec to completion with stdout and stderr captured through pipes:
 * feeds stdin_data (stdin_len bytes; NULL: /dev/null) to the command,
 * keeps at most max_output bytes of each stream (the rest is read and
 * dropped, so the command never blocks on a full pipe) and waits for the
 * run to finish. Returns 0 and the finished run (result or error record,
 * including BOX_ERROR_CLIENT if the connection broke), or a negative
 * errno if the run could not be started (-EINVAL, -ENOMEM, ...).
 * If the command closes its stdin early, the rest of stdin_data is
 * dropped.
 */
int box_run_capture(box_client *c, const box_spec *spec, const void *stdin_data,
		    size_t stdin_len, size_t max_output, box_run **ret_run);

/*
 * A captured stream (NUL-terminated, length in *ret_len if not NULL), or
 * NULL if the run was not made by box_run_capture().
 */
const char *box_run_stdout(const box_run *run, size_t *ret_len);
const char *box_run_stderr(const box_run *run, size_t *ret_len);
/* True if the stream produced more than max_output bytes. */
bool box_run_stdout_truncated(const box_run *run);
bool box_run_stderr_truncated(const box_run *run);

/* --------------------------------------------------------------- process */

/*
 * popen()-style: start spec with the streams named in `pipes`
 * (BOX_PIPE_*) connected to pipes whose other ends the caller reads or
 * writes; streams not piped are the caller's own 0/1/2 (or /dev/null if
 * the caller has that fd closed). The process is a run in flight on the
 * connection until closed.
 */
int box_process_open(box_client *c, const box_spec *spec, unsigned pipes,
		     box_process **ret_process);
/* Read the command's stdout. */
int box_open_process_in(box_client *c, const box_spec *spec,
			box_process **ret_process);
/* Write the command's stdin. */
int box_open_process_out(box_client *c, const box_spec *spec,
			 box_process **ret_process);
/* Both. */
int box_open_process(box_client *c, const box_spec *spec,
		     box_process **ret_process);
/* stdin, stdout and stderr. */
int box_open_process_full(box_client *c, const box_spec *spec,
			  box_process **ret_process);

/*
 * Our ends of the pipes (blocking, close-on-exec), -1 for streams not
 * piped. They belong to the process: do not close them yourself except
 * through box_process_close_stdin().
 */
int box_process_stdin(const box_process *p);
int box_process_stdout(const box_process *p);
int box_process_stderr(const box_process *p);

/* Close our end of the command's stdin, so it reads EOF. */
void box_process_close_stdin(box_process *p);

/* The run behind the process (id, pid, state). */
const box_run *box_process_run(const box_process *p);

/*
 * Close our pipe ends (stdin first), wait for the run to finish and free
 * the process. Returns the run's shell-style exit status (0..255), and
 * the finished run in *ret_run if ret_run is not NULL (the caller frees
 * it). A negative errno if p is NULL, or if waiting itself failed (the
 * run is then freed). Unread output is discarded.
 */
int box_process_close(box_process *p, box_run **ret_run);

/* ---------------------------------------------------- list, kill, status */

/*
 * Kill a run of the caller (root: any run) with signal and wait for the
 * answer. -ESRCH (not found; box_client_last_error() has the daemon's
 * record), -EINVAL for a bad signal, I/O errors.
 */
int box_client_kill(box_client *c, uint64_t run_id, int signal);

/* The caller's runs (root: all runs). */
int box_client_list(box_client *c, box_run_list **ret_list);
size_t box_run_list_count(const box_run_list *l);
/* Entry i (< count), else NULL. */
const box_run_info *box_run_list_get(const box_run_list *l, size_t i);
int box_run_list_json(const box_run_list *l, char **ret_json);
box_run_list *box_run_list_free(box_run_list *l);

uint64_t box_run_info_id(const box_run_info *i);
uint32_t box_run_info_uid(const box_run_info *i);
int64_t box_run_info_pid(const box_run_info *i);
/* NULL if not reported. */
const char *box_run_info_argv0(const box_run_info *i);
const char *box_run_info_tag(const box_run_info *i);
int64_t box_run_info_elapsed_ns(const box_run_info *i);

/* The daemon's status. */
int box_client_status(box_client *c, box_status **ret_status);
const char *box_status_daemon_version(const box_status *st);
/* What the host can enforce; NULL if not reported. */
const box_host_info *box_status_host(const box_status *st);
/* Numbers: -1 if not reported. */
int64_t box_status_runs(const box_status *st);
int64_t box_status_connections(const box_status *st);
int64_t box_status_daemon_rss_bytes(const box_status *st);
int64_t box_status_uptime_ns(const box_status *st);
/* The pre-warmed pool: members now, target size, hits, misses, ... */
int64_t box_status_pool_size(const box_status *st);
int64_t box_status_pool_target(const box_status *st);
int64_t box_status_pool_hits(const box_status *st);
int64_t box_status_pool_misses(const box_status *st);
int64_t box_status_pool_refill_failures(const box_status *st);
/* RSS of one pool member, bytes. */
int64_t box_status_pool_member_rss_bytes(const box_status *st);
/* Of the hits, runs whose default-profile filesystem the member had
 * built before the run asked for it. */
int64_t box_status_pool_prebuilt(const box_status *st);
/* Runs waiting right now for a member on its way (pool-wait-ms). */
int64_t box_status_pool_waiting(const box_status *st);
/* The status as one JSON object; "host" holds the host info, its
 * "capabilities" an array of {"name","description","available","reason",
 * "ceiling"} (null where not reported). */
int box_status_json(const box_status *st, char **ret_json);
box_status *box_status_free(box_status *st);

#ifdef __cplusplus
}
#endif
