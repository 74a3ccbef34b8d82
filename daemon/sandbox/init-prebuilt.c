/*
 * The default profile's filesystem, built by a pool member before its
 * take, so that a run with that filesystem only adds what is the
 * caller's.
 *
 * Before the take (prebuilt_build(), pid 1 of an idle member): the
 * system directories bound read-only, proc with its masks, /dev's device
 * nodes and a devpts instance. After it (prebuilt_enter(), with the
 * caller's ids mapped and pid 1's fs ids the sandbox user's): the tmpfs
 * mounts (/tmp, /run, /var and /dev/shm), which the sandbox user owns, a
 * tty run's terminal, and pivot_root into the tree. The plan is the
 * daemon's default profile, handed to the spawner once (initmsg.h); the
 * daemon says INIT_TAKE_PREBUILT only for a spec whose mounts are exactly
 * the plan's.
 *
 * Why a skeleton: until the take the member's user namespace has no id
 * map, and the kernel lets no process whose fs ids are unmapped create a
 * file on a filesystem of that namespace (EOVERFLOW), so a fresh tmpfs
 * root could not get its mount points. The spawner, root on the host,
 * makes them once (prebuilt_skeleton()): a small tmpfs holding exactly
 * the directories, empty files and symlinks the plan mounts on or shows,
 * root-owned and then read-only, attached on <state>/skeleton in a mount
 * namespace of the spawner's own (a slave of the daemon's: the host's
 * mounts still reach it, nothing of it reaches the host, where
 * <state>/skeleton stays an empty directory). Each member, cloned with a
 * copy of that namespace, attaches a read-only clone of it on the
 * staging directory and mounts onto its entries. The sandbox's mount
 * table shows a tmpfs root, as for a built root, and no host path.
 *
 * What differs from a root built after the take, and why it is no weaker:
 *  - "/" and /dev are directories of the skeleton, a read-only mount
 *    owned by host root, which the sandbox shows as the overflow ids
 *    (65534); a built root shows its directories as the sandbox user's.
 *    No process in the sandbox owns them or has a capability over them,
 *    and the mounts are read-only: nothing can be added to "/" or /dev
 *    (a built /dev is a small tmpfs of the user's). /dev/shm is a tmpfs
 *    of its own, mode 1777 and the user's, of the size the built /dev
 *    has.
 *  - The system directories' sources are opened before the ids exist,
 *    with pid 1's host credentials (root outside, no capability there).
 *    They are the plan's, chosen by the daemon and marked trusted; the
 *    caller's rights never decided them after the take either.
 *  - Nothing else of the host is left: pivot_root and the detach of the
 *    old root happen after the take as for a built root, and the command
 *    is forked only after that.
 *
 *  - Every member builds its own tree from its own mounts and serves one
 *    run: nothing of one run is visible to the next. The skeleton is
 *    shared, but read-only and owned by nobody in any sandbox.
 *  - An idle member keeps receiving the host's mounts (its namespace is
 *    a slave), so a run's binds may name one made since the member was
 *    cloned; the tree itself is made private once built, so nothing the
 *    host mounts later appears in a sandbox.
 *
 * A take without INIT_TAKE_PREBUILT (any other filesystem) first detaches
 * the tree (prebuilt_drop(): a bind of a directory above the staging one
 * must not meet it), then builds its root exactly as a member without a
 * plan does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
#include "util.h"

struct init_spec *init_plan;

static int pre_root = -1;   /* the skeleton's clone, on the staging dir */
static int pre_devpts = -1; /* the devpts instance on its /dev/pts */
static const struct init_spec *built; /* the plan the tree is of */

/* <dir of plan->stage>/SPAWN_SKELETON */
static int skeleton_path(const struct init_spec *plan, char *buf, size_t n)
{
	const char *slash = strrchr(plan->stage, '/');
	int len;

	if (!slash || slash == plan->stage)
		return -EINVAL;
	len = snprintf(buf, n, "%.*s/%s", (int)(slash - plan->stage),
		       plan->stage, SPAWN_SKELETON);
	return len > 0 && (size_t)len < n ? 0 : -ENAMETOOLONG;
}

/* ---- the spawner: the skeleton directory ---- */

/* Create the directories leading to dst under root; the parent's fd in
 * *ret_parent and dst's last name in *ret_name. */
static int skeleton_parent(int root, const char *dst, int *ret_parent,
			   const char **ret_name)
{
	_cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
	const char *p = dst;
	char comp[NAME_MAX + 1];

	if (dir < 0)
		return -errno;
	for (;;) {
		const char *end;
		size_t len;
		int next;

		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len == 0 || len > NAME_MAX)
			return -EINVAL;
		if (*end == 0 || end[strspn(end, "/")] == 0) {
			*ret_name = p;
			*ret_parent = TAKE_FD(dir);
			return 0;
		}
		memcpy(comp, p, len);
		comp[len] = 0;
		if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST)
			return -errno;
		next = openat(dir, comp,
			      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		safe_close(dir);
		dir = next;
		p = end;
	}
}

static int make_dir(int parent, const char *name, mode_t mode)
{
	return mkdirat(parent, name, mode) < 0 ? -errno : 0;
}

static int make_file(int parent, const char *name)
{
	int fd =
	    openat(parent, name,
		   O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* /dev's entries: a file per device node, pts and shm, the symlinks. */
static int make_dev(int parent, const char *name)
{
	_cleanup_close_ int dev = -1;
	int r = make_dir(parent, name, 0755);

	if (r < 0)
		return r;
	dev =
	    openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	for (size_t i = 0; r >= 0 && i < INIT_N_DEV_NODES; i++)
		r = make_file(dev, init_dev_nodes[i]);
	if (r >= 0)
		r = make_dir(dev, "pts", 0755);
	if (r >= 0)
		r = make_dir(dev, "shm", 0755);
	for (size_t i = 0; r >= 0 && i < INIT_N_DEV_LINKS; i++)
		if (symlinkat(init_dev_links[i][0], dev, init_dev_links[i][1]) <
		    0)
			r = -errno;
	return r;
}

/* What the plan's mount m needs in the skeleton. A bind must be one of
 * the daemon's own (trusted): a plan is never a caller's. */
static int skeleton_entry(int root, const struct init_mount *m)
{
	_cleanup_close_ int parent = -1;
	const char *name = NULL;
	struct stat st;
	int r = skeleton_parent(root, m->dst, &parent, &name);

	if (r < 0)
		return r;
	switch (m->kind) {
	case SPEC_MOUNT_RO_BIND:
		if (!(m->flags & SPEC_MOUNT_TRUSTED) || !m->src)
			return -EPERM;
		if (stat(m->src, &st) < 0)
			return errno == ENOENT &&
				       (m->flags & SPEC_MOUNT_OPTIONAL)
				   ? 0
				   : -errno;
		return S_ISDIR(st.st_mode) ? make_dir(parent, name, 0755)
					   : make_file(parent, name);
	case SPEC_MOUNT_SYMLINK:
		if (!m->src)
			return -EINVAL;
		return symlinkat(m->src, parent, name) < 0 ? -errno : 0;
	case SPEC_MOUNT_TMPFS:
		return make_dir(parent, name, 0755);
	case SPEC_MOUNT_PROC:
		return make_dir(parent, name, 0555);
	case SPEC_MOUNT_DEV:
		return make_dev(parent, name);
	default:
		return -EINVAL; /* not a plan's */
	}
}

int prebuilt_skeleton(const struct init_spec *plan)
{
	static const char *const opts[] = {"mode",      "0755", "size", "64k",
					   "nr_inodes", "256",  NULL};
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	char path[PATH_MAX];
	_cleanup_close_ int mnt = -1, target = -1;
	int r = skeleton_path(plan, path, sizeof(path));

	if (r < 0)
		return r;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* A mount namespace of the spawner's own, receiving the host's
	 * mounts but sending none: the skeleton is attached in it alone,
	 * and every member is cloned with a copy of it. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	mnt =
	    mounts_new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return mnt;
	umask(022);
	for (size_t i = 0; r >= 0 && i < plan->n_mounts; i++)
		r = skeleton_entry(mnt, &plan->mounts[i]);
	if (r < 0)
		return r;
	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return -errno;
	target = mounts_openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY,
				RESOLVE_NO_SYMLINKS);
	if (target < 0)
		return -errno;
	return mounts_attach(mnt, target);
}

/* ---- a member, before the take ---- */

static int open_in_tree(const char *dst, int flags)
{
	return mounts_openat2(pre_root, dst, O_PATH | flags,
			      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

static int build_dev(const struct init_mount *m)
{
	_cleanup_close_ int dev = open_in_tree(m->dst, O_DIRECTORY);
	_cleanup_close_ int pts = -1;
	int r;

	if (dev < 0)
		return -errno;
	for (size_t i = 0; i < INIT_N_DEV_NODES; i++) {
		_cleanup_close_ int node = openat(
		    dev, init_dev_nodes[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);

		if (node < 0)
			return -errno;
		r = mounts_attach(m->extra[i], node);
		if (r < 0)
			return r;
	}
	pts = openat(dev, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pts < 0)
		return -errno;
	pre_devpts = mounts_new_devpts();
	if (pre_devpts < 0)
		return pre_devpts;
	return mounts_attach(pre_devpts, pts);
}

/* One mount of the plan onto the tree (the tmpfs mounts wait for the
 * take: the sandbox user owns them). */
static int build_one(struct init_spec *plan, struct init_mount *m)
{
	_cleanup_close_ int target = -1;
	int r;

	if (m->kind == SPEC_MOUNT_RO_BIND && !(m->flags & SPEC_MOUNT_TRUSTED))
		return -EPERM;
	r = mounts_prepare_one(plan, m);
	if (r < 0)
		return r;
	switch (m->kind) {
	case SPEC_MOUNT_RO_BIND:
	case SPEC_MOUNT_PROC:
		if (m->tree < 0)
			return 0; /* an optional source that is gone */
		target = open_in_tree(m->dst, 0);
		if (target < 0)
			return -errno;
		r = mounts_attach(m->tree, target);
		if (r < 0 || m->kind != SPEC_MOUNT_PROC)
			return r;
		safe_close(target);
		target = open_in_tree(m->dst, O_DIRECTORY);
		if (target < 0)
			return -errno;
		return mounts_mask_proc(m, target);
	case SPEC_MOUNT_DEV:
		return build_dev(m);
	case SPEC_MOUNT_SYMLINK:
	case SPEC_MOUNT_TMPFS:
		return 0;
	default:
		return -EINVAL;
	}
}

/* Close what preparing left open in the plan's mounts. */
static void release_plan(struct init_spec *plan)
{
	for (size_t i = 0; i < plan->n_mounts; i++) {
		struct init_mount *m = &plan->mounts[i];

		m->tree = safe_close(m->tree);
		for (size_t j = 0; j < ELEMENTSOF(m->extra); j++)
			m->extra[j] = safe_close(m->extra[j]);
	}
}

int prebuilt_build(struct init_spec *plan)
{
	struct mount_attr private = {.propagation = MS_PRIVATE};
	char path[PATH_MAX];
	_cleanup_close_ int skel = -1, stage = -1;
	int r = skeleton_path(plan, path, sizeof(path));

	for (size_t i = 0; i < plan->n_mounts; i++) {
		plan->mounts[i].tree = -1;
		for (size_t j = 0; j < ELEMENTSOF(plan->mounts[i].extra); j++)
			plan->mounts[i].extra[j] = -1;
	}
	/* Nothing mounted here may reach the host; the host's mounts keep
	 * reaching this namespace until the take (a run's binds may name
	 * one made meanwhile). */
	if (r >= 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		r = -errno;
	if (r >= 0) {
		skel = mounts_openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY,
				      RESOLVE_NO_SYMLINKS);
		stage =
		    mounts_openat2(AT_FDCWD, plan->stage, O_PATH | O_DIRECTORY,
				   RESOLVE_NO_SYMLINKS);
		if (skel < 0 || stage < 0)
			r = -errno;
	}
	if (r >= 0) {
		pre_root = mounts_clone_tree(
		    skel, false,
		    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		r = pre_root < 0 ? pre_root : mounts_attach(pre_root, stage);
	}
	for (size_t i = 0; r >= 0 && i < plan->n_mounts; i++)
		r = build_one(plan, &plan->mounts[i]);
	/* ... but not the tree: what the host mounts later never appears
	 * in a sandbox. */
	if (r >= 0 && mount_setattr(pre_root, "", AT_EMPTY_PATH | AT_RECURSIVE,
				    &private, sizeof(private)) < 0)
		r = -errno;
	release_plan(plan);
	if (r < 0) {
		/* A take then builds its own root on top of whatever part
		 * of this tree exists; the failure is not the run's. */
		init_failure = (struct init_failure){0};
		prebuilt_drop();
		return r;
	}
	built = plan;
	return 0;
}

/* ---- a member, after the take ---- */

static void forget(void)
{
	pre_root = safe_close(pre_root);
	pre_devpts = safe_close(pre_devpts);
	built = NULL;
}

void prebuilt_drop(void)
{
	/* Out of this namespace before the take's own build reads the
	 * mount table (a bind of a directory above the staging one would
	 * see the tree's proc). umount2() of "." after fchdir() acts on
	 * this very mount, whatever is stacked elsewhere. */
	if (pre_root >= 0 && fchdir(pre_root) == 0) {
		(void)umount2(".", MNT_DETACH);
		(void)!chdir("/");
	}
	forget();
}

/* The daemon's word is that s's filesystem is the plan's; check it, it
 * costs nothing. */
static bool is_plan(const struct init_spec *s)
{
	if (!built || s->n_mounts != built->n_mounts ||
	    (s->flags & INIT_FLAG_WRITE_EPHEMERAL))
		return false;
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct init_mount *a = &s->mounts[i],
					*b = &built->mounts[i];

		if (a->kind != b->kind || a->flags != b->flags ||
		    a->size != b->size || a->mode != b->mode ||
		    !str_same(a->src, b->src) || !str_same(a->dst, b->dst) ||
		    a->upper || a->data_len)
			return false;
	}
	return s->tmpfs_default == built->tmpfs_default;
}

/* /dev's own part: its shm, and a tty run's terminal. */
static int enter_dev(struct init_spec *s, const struct init_mount *m)
{
	char shm[PATH_MAX];
	struct init_mount fs = {
	    .kind = SPEC_MOUNT_TMPFS,
	    .dst = shm,
	    .mode = 01777,
	    .size = 65536,
	};

	int r;

	snprintf(shm, sizeof(shm), "%s/shm",
		 strcmp(m->dst, "/") == 0 ? "" : m->dst);
	r = mounts_apply_tmpfs(s, &fs);
	return r < 0 ? r : mounts_open_tty_master(s, pre_devpts);
}

int prebuilt_enter(struct init_spec *s)
{
	int r = 0;

	if (!is_plan(s))
		return init_fail(
		    "prebuilt root",
		    "the spec is not the one the tree was built for", EPROTO);
	r = mounts_pivot_into(pre_root); /* as with a built root */
	for (size_t i = 0; r >= 0 && i < s->n_mounts; i++) {
		struct init_mount *m = &s->mounts[i];

		if (m->kind == SPEC_MOUNT_TMPFS)
			r = mounts_apply_tmpfs(s, m);
		else if (m->kind == SPEC_MOUNT_DEV)
			r = enter_dev(s, m);
	}
	forget(); /* the tree is "/" now: nothing to detach */
	if (r >= 0 && (s->flags & INIT_FLAG_TTY) && s->tty_master < 0)
		return init_fail("tty", "the sandbox has no /dev of its own",
				 ENODEV);
	return r;
}
