/*
 * Private to the cgroup manager (cgroup.c, its backends cgroup-v1.c and
 * cgroup-v2.c, and what they share: cgroup-files.c, cgroup-tree.c,
 * cgroup-remover.c): the manager and run structures the backends fill
 * in, and the helpers they share. Nothing outside the cgroup manager
 * includes this header.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "util.h"

/* v1 hierarchies boxd uses. A co-mounted "cpu,cpuacct" is one hierarchy
 * reached under two indexes; only the first index owns the fds. */
enum cgroup_v1_hier {
	CGROUP_V1_CPU,
	CGROUP_V1_CPUACCT,
	CGROUP_V1_MEMORY,
	CGROUP_V1_PIDS,
	CGROUP_V1_FREEZER,
	_CGROUP_V1_MAX,
};

/* Number of CGROUP_CAN_* bits, for the table of reasons. */
#define CGROUP_CAN_BITS 9
/* The reason slot of one CGROUP_CAN_* bit: CGROUP_MISSING(m, SWAP) = "..." */
#define CGROUP_MISSING(m, what) ((m)->missing[__builtin_ctz(CGROUP_CAN_##what)])

/* How long destroy waits for a killed cgroup to empty before giving it to
 * the reap list. */
#define CGROUP_EMPTY_WAIT_NS (1000ULL * 1000 * 1000)

/* Deepest nesting the leftover sweep descends into. A run cgroup has no
 * children of its own; anything deeper than this was not made by boxd. */
#define CGROUP_SWEEP_MAX_DEPTH 8

/*
 * The files of a run's cgroup the daemon reads at the run's end (and
 * during it, for a CPU-time limit) or writes at its take. A pool member's
 * are opened when its cgroup is adopted, off the run's path, so that the
 * run pays one pread(2) or write(2) for each instead of an open, reads to
 * the end and a close; a cold run's are opened at first use. Both stay
 * open until the run's cgroup goes. Which file each slot names is the
 * backend's.
 */
enum cgroup_run_file {
	RUN_FILE_CPU,        /* v2 cpu.stat; v1 cpuacct.usage */
	RUN_FILE_CPU_USER,   /* v1 cpuacct.usage_user, or cpuacct.stat */
	RUN_FILE_CPU_SYS,    /* v1 cpuacct.usage_sys */
	RUN_FILE_MEM_PEAK,   /* v2 memory.peak; v1 memory.max_usage_in_bytes */
	RUN_FILE_MEM_EVENTS, /* v2 memory.events; v1 memory.oom_control */
	RUN_FILE_PIDS_PEAK,  /* pids.peak */
	RUN_FILE_MEM_MAX,    /* v2 memory.max; v1 memory.limit_in_bytes */
	RUN_FILE_SWAP_MAX,   /* v2 memory.swap.max; v1 memsw.limit_in_bytes */
	RUN_FILE_PIDS_MAX,   /* pids.max */
	_RUN_FILE_MAX,
};

struct cgroup_run {
	struct cgroup_manager *m; /* NULL once the manager is gone */
	uid_t tenant;
	uint64_t id;
	char rel[64];     /* "tenant-<uid>/run-<id>" or "sandbox-<n>" */
	char suffix[160]; /* "/<root basename>/<rel>", to recognise members */

	int fd;                    /* v2: the run's directory (clone3, files) */
	int v1_fd[_CGROUP_V1_MAX]; /* v1: the run's directory per hierarchy */
	int file[_RUN_FILE_MAX];   /* open files, -1 where not (yet) open */

	bool removed;        /* rmdir done: nothing left on disk */
	bool on_busy_list;   /* rmdir failed; cgroup_manager_reap() retries */
	bool caller_dropped; /* cgroup_run_free() was called while busy */

	LIST_ENTRY(cgroup_run) live; /* every run not yet freed */
	LIST_ENTRY(cgroup_run) busy; /* runs waiting for a retried rmdir */
};

struct cgroup_v1_hierarchy {
	const char *controller; /* "cpu", "memory", ... */
	bool present;
	int owner;      /* index that owns the fds (co-mounts) */
	int root_fd;    /* "<mount>/<root>" */
	char path[256]; /* "<mount>/<root>", for messages */
};

struct cgroup_manager {
	const struct cgroup_ops *ops;
	enum cgroup_mode mode;
	bool probing; /* auto mode: fail before changing anything */
	unsigned can; /* CGROUP_CAN_* */
	/* Why a capability is missing, by bit number; NULL: not explained. */
	const char *missing[CGROUP_CAN_BITS];
	char path[256];       /* the root directory, for status and messages */
	char root_name[64];   /* basename of the root, for membership checks */
	char controllers[64]; /* "cpu memory pids" */

	/* v2 */
	int root_fd;
	bool v2_memory, v2_cpu, v2_pids;
	bool has_kill;   /* cgroup.kill */
	bool has_freeze; /* cgroup.freeze */
	bool has_memory_peak;
	bool has_pids_peak;

	/* v1 */
	struct cgroup_v1_hierarchy v1[_CGROUP_V1_MAX];
	bool v1_usage_split; /* cpuacct.usage_user/usage_sys exist */

	uint64_t next_sandbox; /* n of the next sandbox-<n> */
	/* rmdir of emptied runs' cgroups off the caller's thread, or NULL
	 * (cgroup_manager_remove_in_background()). */
	struct cgroup_remover *remover;

	LIST_HEAD(, cgroup_run) runs;
	LIST_HEAD(, cgroup_run) busy;
};

/* cgroup-remover.c: a thread that rmdirs rel under each of dirfds (the
 * manager's root fds, which must outlive it), retrying a busy directory
 * for CGROUP_EMPTY_WAIT_NS. remover_stop() removes what is queued, then
 * joins it. */
struct cgroup_remover;
int remover_start(struct cgroup_remover **ret);
int remover_queue(struct cgroup_remover *rm, const int *dirfds, size_t n,
		  const char *rel);
struct cgroup_remover *remover_stop(struct cgroup_remover *rm);

/* rmdir a cgroup at shutdown, waiting (at most ~1 s) for tasks that
 * were just killed, or a child cgroup, to leave it. */
int cgroup_rmdir_patient(int dirfd, const char *name);

/* cgroup-v1-files.c: a run's v1 files. cgroup_v1_fd_of(): the run's
 * directory fd (in fds, indexed like m->v1) of the hierarchy that has
 * controller h, -1 without one. cgroup_v1_write_limits(): what lim sets
 * (not the cpu hierarchy's, which the caller makes first).
 * cgroup_v1_keep_files(): open what the take writes and the end reads.
 * The other two are the backend's run_cpu_ns and run_stats. */
int cgroup_v1_fd_of(const struct cgroup_manager *m, enum cgroup_v1_hier h,
		    const int *fds);
int cgroup_v1_write_limits(struct cgroup_manager *m, struct cgroup_run *r,
			   const struct spec_limits *lim);
void cgroup_v1_keep_files(struct cgroup_run *r);
int cgroup_v1_run_cpu_ns(struct cgroup_run *r, uint64_t *ret);
int cgroup_v1_run_stats(struct cgroup_run *r, struct run_result *res);

extern const struct cgroup_ops cgroup_v2_ops;
extern const struct cgroup_ops cgroup_v1_ops;

/* cgroupfs files relative to a directory fd. Values are written with one
 * write(2), as cgroupfs wants. Reads NUL-terminate and strip nothing. */
int cgroup_write_at(int dfd, const char *file, const char *value);
int cgroup_writef_at(int dfd, const char *file, const char *fmt, ...)
    _printf_(3, 4);
int cgroup_read_at(int dfd, const char *file, char *buf, size_t size);
/* One read(2) of fd, retried on EINTR: bytes, 0 at the end, or -errno. */
ssize_t cgroup_read_fd(int fd, void *buf, size_t len);
/* A file holding one number; "max" reads as UINT64_MAX. */
int cgroup_read_u64_at(int dfd, const char *file, uint64_t *ret);
/* "key value" lines (cpu.stat, memory.events, memory.oom_control). */
int cgroup_read_key_at(int dfd, const char *file, const char *key,
		       uint64_t *ret);
/* The value of key in "key value" lines already read. */
int cgroup_key_value(const char *text, const char *key, uint64_t *ret);
bool cgroup_has_file_at(int dfd, const char *file);

/* A run's file in slot f, name in the directory dfd (the run's own, in
 * the hierarchy that has it): cgroup_run_keep_file() opens it ahead, if
 * it exists (for reading, or for writing with write); the others use it,
 * opening it at first use. Reads come from offset 0 each time, so the
 * same fd reads a counter again. */
void cgroup_run_keep_file(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
			  const char *name, bool write);
int cgroup_run_read(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
		    const char *name, char *buf, size_t size);
int cgroup_run_read_u64(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
			const char *name, uint64_t *ret);
int cgroup_run_writef(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
		      const char *name, const char *fmt, ...) _printf_(5, 6);
/* Close every directory and file the run holds. */
void cgroup_run_close(struct cgroup_run *r);
/* Does the whitespace-separated list contain word? */
bool cgroup_word_in(const char *list, const char *word);
/* Opens a subdirectory O_DIRECTORY|O_CLOEXEC. */
int cgroup_open_dir_at(int dfd, const char *name);

/* Any pid listed in dfd's cgroup.procs? */
int cgroup_procs_empty_at(int dfd, bool *ret_empty);
/* SIGKILLs every pid in dfd's cgroup.procs that /proc/<pid>/cgroup still
 * places in a cgroup whose path ends in suffix (pidfd-checked, so a pid
 * reused by an outside process between the read and the kill is never
 * hit). Never signals the daemon itself. Returns how many were signalled. */
int cgroup_kill_procs_at(int dfd, const char *suffix);

/* One cgroup met by cgroup_tree_walk(). */
struct cgroup_node {
	int parent_fd;    /* the directory that holds it */
	const char *name; /* its name in parent_fd */
	int fd;           /* its own directory */
	const char *rel;  /* its path from where the walk started, for
			     membership suffixes and messages */
	unsigned depth;   /* 0: where the walk started */
};

/*
 * Visit the cgroup rel (a path relative to dfd) and the cgroups below it,
 * at most CGROUP_SWEEP_MAX_DEPTH levels down: pre before a cgroup's
 * children (kills go top-down, so nothing forks into a child already
 * swept), post after them (removal goes bottom-up: a cgroup with children
 * cannot be removed). Either may be NULL. A child that cannot be opened
 * or listed is skipped: walks serve sweeping and killing, which do what
 * they can. Returns post's result for rel itself (0 without post), the
 * error opening rel, or 0 when rel does not exist.
 */
int cgroup_tree_walk(int dfd, const char *rel,
		     void (*pre)(const struct cgroup_node *n, void *userdata),
		     int (*post)(const struct cgroup_node *n, void *userdata),
		     void *userdata);

/* fn for each subdirectory of root_fd that boxd makes at the top of its
 * tree: sandbox-<n>/ and tenant-<uid>/, and pool/, which earlier versions
 * made (never supervisor/, the daemon's own). */
void cgroup_for_each_own_child(int root_fd,
			       void (*fn)(int dfd, const char *name,
					  void *userdata),
			       void *userdata);

/* At shutdown: remove every sandbox-<n>/ and tenant-<uid>/ that is empty (or
 * empties within cgroup_rmdir_patient's wait); the rest is for the next
 * start's sweep. */
void cgroup_tidy_root(int root_fd);

/* Sleeps a little more on each call: the bounded waits' back-off. */
void cgroup_backoff(unsigned *round);

/* "/<root_name>/<rel>" for membership checks. */
void cgroup_make_suffix(const struct cgroup_manager *m, const char *rel,
			char *buf, size_t size);
