/*
 * boxd-init internals. boxd-init is exec'd by the daemon as pid 1 of each
 * fresh sandbox; it receives the spec, builds the root, starts the command
 * with no privileges left, reaps orphans and reports how the command
 * ended. It is a separate program so that no sandbox ever holds a copy of
 * the daemon's memory or descriptors.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "initmsg.h"

/* The failure being reported: set by init_fail(), sent as INIT_FAILED. */
struct init_failure {
	const char *step;
	char detail[192];
	int err;
};
extern struct init_failure init_failure;

/* Record a failed step; returns -err so callers can "return init_fail()". */
int init_fail(const char *step, const char *detail, int err);

/* init-mounts.c: everything about the sandbox's filesystem. */
int mounts_begin(struct init_spec *s);      /* as root: private propagation */
int mounts_prepare(struct init_spec *s);    /* as the caller, before pivot */
int mounts_enter_root(struct init_spec *s); /* new tmpfs root + pivot_root */
int mounts_apply(struct init_spec *s);      /* the ordered operations */
int mounts_finish(struct init_spec *s);     /* read-only root */
/* Resolve dst inside the root, creating missing directories and the
 * last component (a directory or an empty file per leaf_dir) as the
 * sandbox user, never following a magic link. */
int mounts_open_target(const char *dst, bool leaf_dir, int *ret_fd);
/* Open one mount's source (binds), or make its kernel view (proc, and
 * the host device nodes of a dev), detached, in m->tree and m->extra[];
 * mounts_prepare() does it for every mount of s. */
int mounts_prepare_one(const struct init_spec *s, struct init_mount *m);
/* The attached mount root becomes "/" (pivot_root), the old root is
 * detached, and pid 1's cwd is the new "/". */
int mounts_pivot_into(int root);
/* Attach the detached tree at the directory (or file) target: 0 or
 * -errno. */
int mounts_attach(int tree, int target);
/* A TMPFS mount at m->dst, as the current fs ids (its owner). */
int mounts_apply_tmpfs(const struct init_spec *s, const struct init_mount *m);
/* Cover the parts of the proc mount at proc that expose the host (m: the
 * PROC mount mounts_prepare_one() made). */
int mounts_mask_proc(struct init_mount *m, int proc);
/* A new devpts instance, detached: its fsmount() fd or -errno. */
int mounts_new_devpts(void);
/* A tty run: open its terminal in the devpts instance devpts. */
int mounts_open_tty_master(struct init_spec *s, int devpts);
/* A minimal /dev: these host device nodes, bound, and these symlinks
 * (target, name), plus the directories pts (a devpts) and shm. */
#define INIT_N_DEV_NODES 6
#define INIT_N_DEV_LINKS 5
extern const char *const init_dev_nodes[INIT_N_DEV_NODES];
extern const char *const init_dev_links[INIT_N_DEV_LINKS][2];
/* Attach a bind prepared by mounts_prepare() (m->tree) at m->dst. */
int mounts_bind_prepared(struct init_mount *m);
/* openat2() with O_CLOEXEC added: an fd, or -1 with errno set. */
int mounts_openat2(int dirfd, const char *path, int flags,
		   unsigned long long resolve);
/* A detached copy of the mount at fd (with what is mounted below it if
 * recursive), attr_set applied: its fd, or -errno. */
int mounts_clone_tree(int fd, bool recursive, uint64_t attr_set);
/* Refuse (init_fail(step), -EPERM) an fd on a kernel filesystem (proc, sysfs,
 * cgroup, ...): what the caller named as src would show or change the
 * host kernel's state. */
int mounts_check_kernel_fs(int fd, const char *step, const char *src);
/* A new, detached filesystem of type with opts ("key", "value" pairs,
 * a NULL value for a flag, NULL-terminated; may be NULL) and the mount
 * attributes attr: its fsmount() fd, or -errno. */
int mounts_new_fs(const char *type, const char *const *opts, uint64_t attr);

/* init-stage.c: the staging point, where a tmpfs pid 1 made (an
 * fsmount() fd, which goes on naming it) is attached while files are
 * cloned out of it or overlays write to it; stage_detach() takes it out
 * of the namespace again, stage_done() the staging point itself, before
 * the command exists. */
int stage_attach(int mnt);
int stage_detach(int mnt);
int stage_done(void);

/* init-files.c: a FILE mount, in its place among the others; files_done()
 * detaches and lets go of the tmpfs the files live on once all are made. */
int files_apply(struct init_spec *s, struct init_mount *m);
int files_done(void);

/* init-overlay.c: an OVERLAY mount (m->tree: the lower directory's fd,
 * from mounts_prepare()); overlay_done() detaches and lets go of the
 * upper tmpfs. overlay_prepare_upper(): before pivot_root, as the
 * sandbox user, the host directory m->upper of a persistent overlay
 * whose source is open at src, checked (upper.h) and held in m->extra
 * at these places. */
enum {
	OVERLAY_UPPER_MNT,   /* detached, non-recursive clone of DIR */
	OVERLAY_UPPER_LAYER, /* DIR/upper, reached through that clone */
	OVERLAY_UPPER_WORK,  /* DIR/work, likewise */
};
int overlay_prepare_upper(const struct init_spec *s, struct init_mount *m,
			  int src);
int overlay_apply(struct init_spec *s, struct init_mount *m);
int overlay_done(void);

/* init-hide.c: hidden paths. hide_begin() resolves host paths while the
 * host's tree is visible (and keeps /proc for later); hide_apply() covers
 * every hidden object wherever the finished tree shows it. */
int hide_begin(struct init_spec *s);
int hide_apply(struct init_spec *s);
/* The host's /proc as hide_begin() opened it (also for overlays, which
 * name their layers through it), or -1; closed by hide_apply(). */
int hide_proc_fd(void);

/* init.c: a sandbox's pid 1, from saying READY on INIT_CTL_FD to the
 * command's end. A member of a spawner with a plan builds the plan's
 * tree first (init_plan, set by the spawner; NULL otherwise); a pooled
 * one (the spawner's) also faults in the memory it will need after its
 * take. */
void init_member_main(bool pooled) __attribute__((noreturn));
extern struct init_spec *init_plan;

/* init-prebuilt.c: the default profile's tree, built before the take.
 * prebuilt_skeleton(): in the spawner, (re)make the plan's skeleton
 * directory (SPAWN_SKELETON next to plan->stage). prebuilt_build(): in a
 * member before INIT_READY, build the plan's tree on the staging
 * directory. prebuilt_enter(): after a take with INIT_TAKE_PREBUILT and
 * the caller's ids, add what is the caller's and make the tree the
 * root. */
int prebuilt_skeleton(const struct init_spec *plan);
int prebuilt_build(struct init_spec *plan);
int prebuilt_enter(struct init_spec *s);
/* A take without INIT_TAKE_PREBUILT: let go of the tree (it stays below
 * the root the take builds, and goes with the old root). */
void prebuilt_drop(void);

/* init-spawner.c: the pool's spawner (initmsg.h), named "boxd-spawner";
 * exits when the daemon closes its socket. spawner_arg: its argv[1],
 * blanked in each member so that ps tells them apart. */
void spawner_main(char *spawner_arg) __attribute__((noreturn));

/* init-noexec.c: the command loads the filter and sends its listener
 * on listener_sock; pid 1 answers each notification: 0 let through, 1
 * refused. errfd: pid 1's end of the command's exec pipe, -1 once the
 * command has exec'd. */
int noexec_load(int listener_sock);
bool noexec_is_exec(uint32_t arch, int nr);
int noexec_answer(int listener, pid_t cmd, int errfd);

/* init-setup.c */
/* pid 1's fs ids are the sandbox user's, its fs capabilities dropped
 * (creds_as_user) except while it covers hidden paths or makes overlays
 * (creds_with_fs_caps: capabilities over the user's own files only). */
int creds_as_user(const struct init_spec *s);
int creds_with_fs_caps(void);
/* setup_learn_process(): learn once what the command's process must
 * undo of its inheritance (the capabilities this kernel has, the signals
 * ignored); in the spawner for all its members, else in pid 1.
 * setup_before_take(): in pid 1 before it reports INIT_READY, empty the
 * bounding set that every process of the sandbox inherits. */
void setup_learn_process(void);
int setup_before_take(void);
/* Build the sandbox; prebuilt: on the tree prebuilt_build() made. */
int setup_sandbox(struct init_spec *s, bool prebuilt);
/*
 * In the command's process: drop everything, exec. Never returns;
 * failures go to errfd as a struct init_report. That process may run on
 * pid 1's memory (CLONE_VM | CLONE_VFORK, init.c's start_command()), so
 * this must write no memory but its own stack and errno: no allocation,
 * no store through s, no static state (it reads what
 * setup_learn_process() recorded).
 */
void setup_exec_command(struct init_spec *s, int errfd, int listener_sock)
    __attribute__((noreturn));
