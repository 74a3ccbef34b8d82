/*
 * Overlays (Mount.OVERLAY, and every read-only bind of a run with
 * write_ephemeral): a host directory seen through overlayfs, mounted by
 * pid 1 inside the sandbox's user namespace, with its writes landing in
 * a tmpfs of the run's own that goes away with the run.
 *
 * The host directory is the lower layer only: overlayfs never writes to
 * a lower layer, so the host is never modified, whatever the command
 * does. The lower directory is a read-only bind made like any other (its
 * source opened as the sandbox user before pivot_root, init-mounts.c)
 * and attached at the destination first: overlayfs takes a private clone
 * of its lower mount, which must be a mount of this namespace. The
 * overlay then goes on top of it, at the same place, its layers named to
 * overlayfs through pid 1's descriptors ("self/fd/N" of the host's /proc,
 * held from hide_begin()), so no host path is resolved after
 * pivot_root. The bind under the overlay only ever shows the host
 * directory read-only.
 *
 * Every overlay of a run shares one tmpfs for its upper and work
 * directories, sized like a tmpfs without an explicit size and charged to
 * the run's memory: writes past it fail with ENOSPC. overlayfs takes a
 * private clone of the upper mount too, so the tmpfs is attached at pid
 * 1's staging point (init-stage.c) while overlays are made, and detached
 * again once all are: each overlay keeps its own clone, which no path
 * names.
 *
 * A persistent overlay (m->upper: the caller's host directory DIR,
 * upper.h) writes to DIR/upper with DIR/work as its work directory
 * instead. DIR is opened before pivot_root like a bind source, as the
 * sandbox user, and must pass upper.h's checks and the bind sources'
 * kernel-filesystem one; then a non-recursive clone of its mount is
 * taken (nosuid, nodev), and both layers are opened through that clone
 * without following symlinks, so what overlayfs is given is exactly
 * what was checked: it is named the layers by descriptor, not by any
 * path the caller could still change. The clone is staged like the
 * tmpfs while its overlay is made, detached right after.
 *
 * What the upper layer cannot do to the host: overlayfs acts there with
 * the credentials pid 1 had when mounting, the sandbox user's fs ids
 * and capabilities that only cover files of ids the sandbox maps (the
 * caller's), so a file in DIR/upper the caller hard-linked from
 * somewhere else of someone else's stays out of reach. With userxattr
 * the kernel also turns off redirect_dir following and metacopy, so
 * user.overlay.* xattrs the caller plants in DIR/upper between runs can
 * point lookups at nothing outside the lower layer, itself the caller's
 * read-only view of the source.
 *
 * What an overlay cannot do inside a user namespace: copy up a file or
 * directory whose owner is not mapped into it (the host's root-owned
 * files, for a caller whose runs are not root on the host). Writing to
 * such a file, or creating a file in such a directory, fails with
 * EOVERFLOW rather than falling through to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "init.h"
#include "upper.h"
#include "util.h"

static int upper_fs = -1; /* the shared tmpfs, staged */
static unsigned n_made;

static int make_upper_fs(const struct init_spec *s)
{
	char size[32];
	const char *opts[] = {"size", size, "mode", "0755", NULL};

	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)s->tmpfs_default);
	upper_fs =
	    mounts_new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (upper_fs < 0)
		return upper_fs;
	return stage_attach(upper_fs);
}

/* "self/fd/N[/rest]", for overlayfs to resolve from the host's /proc. */
static int fd_path(char *buf, size_t len, int fd, const char *rest)
{
	int n = snprintf(buf, len, "self/fd/%d%s%s", fd, rest ? "/" : "",
			 rest ? rest : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Upper and work directories of overlay n, in the shared tmpfs. The
 * upper directory is the overlay's root: it gets the lower's permission
 * bits (its owner is the sandbox user: pid 1 cannot give a tmpfs file to
 * an id the sandbox does not map). */
static int make_layers(unsigned n, int lower, char *upper, char *work,
		       size_t len)
{
	struct stat st;
	char dir[32];

	snprintf(dir, sizeof(dir), "%u", n);
	if (mkdirat(upper_fs, dir, 0755) < 0)
		return -errno;
	snprintf(upper, len, "%u/upper", n);
	snprintf(work, len, "%u/work", n);
	if (mkdirat(upper_fs, upper, 0755) < 0 ||
	    mkdirat(upper_fs, work, 0755) < 0)
		return -errno;
	if (fstat(lower, &st) < 0 ||
	    fchmodat(upper_fs, upper, st.st_mode & 07777, 0) < 0)
		return -errno;
	return 0;
}

/* The kernel refuses an overlayfs as an upper layer (EINVAL at mount):
 * say why before trying. */
static bool on_overlayfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 &&
	       (unsigned long)sfs.f_type == OVERLAYFS_SUPER_MAGIC;
}

/* The overlay of the layers l, u and w, paths overlayfs resolves from
 * the host's /proc; its fsmount() fd, or -errno. */
static int new_overlay(const char *l, const char *u, const char *w,
		       bool userxattr)
{
	_cleanup_close_ int fs = -1;
	int r;

	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", l, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", u, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", w, 0) < 0 ||
	    (userxattr &&
	     fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	r = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	return r < 0 ? -errno : r;
}

int overlay_prepare_upper(const struct init_spec *s, struct init_mount *m,
			  int src)
{
	char why[96], detail[sizeof(init_failure.detail)];
	_cleanup_close_ int dir = -1, clone = -1;
	struct stat src_st;
	int r;

	/* The path resolves as the caller would resolve it (no magic
	 * links; no symlinks at all under a tenant's bind rules), and its
	 * last component is never followed. */
	dir = mounts_openat2(AT_FDCWD, m->upper, O_PATH | O_NOFOLLOW,
			     (m->flags & SPEC_MOUNT_NO_SYMLINKS)
				 ? RESOLVE_NO_SYMLINKS
				 : RESOLVE_NO_MAGICLINKS);
	if (dir < 0)
		return init_fail("overlay upper", m->upper, errno);
	if (mounts_check_kernel_fs(dir, "overlay upper", m->upper) < 0)
		return -EPERM;
	r = upper_check_dir(dir, src, s->uid, why, sizeof(why));
	if (r >= 0 && on_overlayfs(dir)) {
		snprintf(why, sizeof(why),
			 "on an overlayfs, which cannot hold an overlay's "
			 "upper layer: use a disk or a tmpfs");
		r = -EINVAL;
	}
	if (r >= 0 && fstat(src, &src_st) < 0)
		r = -errno;
	if (r >= 0) {
		clone = mounts_clone_tree(dir, false,
					  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		snprintf(why, sizeof(why), "cannot clone its mount");
		r = clone;
	}
	/* A new upper layer starts with the source's permission bits: it
	 * is the overlay's root directory. */
	if (r >= 0)
		r = upper_open_layer(clone, UPPER_LAYER, src_st.st_mode & 07777,
				     s->uid, &m->extra[OVERLAY_UPPER_LAYER],
				     why, sizeof(why));
	if (r >= 0)
		r = upper_open_layer(clone, UPPER_WORK, 0700, s->uid,
				     &m->extra[OVERLAY_UPPER_WORK], why,
				     sizeof(why));
	if (r < 0) {
		snprintf(detail, sizeof(detail), "%.90s: %s", m->upper, why);
		return init_fail("overlay upper", detail, r);
	}
	m->extra[OVERLAY_UPPER_MNT] = TAKE_FD(clone);
	return 0;
}

/* The tmpfs's layers for the next ephemeral overlay, or the caller's
 * DIR/upper and DIR/work (staged) for a persistent one, as overlayfs
 * will resolve them. */
static int layer_paths(struct init_spec *s, struct init_mount *m, int lower,
		       char *u, char *w, size_t len)
{
	char upper[32], work[32];
	int r;

	if (m->upper) {
		r = stage_attach(m->extra[OVERLAY_UPPER_MNT]);
		if (r < 0)
			return r;
		if ((r = fd_path(u, len, m->extra[OVERLAY_UPPER_LAYER], NULL)) <
			0 ||
		    (r = fd_path(w, len, m->extra[OVERLAY_UPPER_WORK], NULL)) <
			0)
			return r;
		return 0;
	}
	if (upper_fs < 0 && (r = make_upper_fs(s)) < 0)
		return r;
	r = make_layers(n_made++, lower, upper, work, sizeof(upper));
	if (r < 0)
		return r;
	if ((r = fd_path(u, len, upper_fs, upper)) < 0 ||
	    (r = fd_path(w, len, upper_fs, work)) < 0)
		return r;
	return 0;
}

/* A persistent overlay's staged clone goes once the overlay holds its
 * own; so do the descriptors of its layers. */
static int release_upper(struct init_mount *m)
{
	int r = 0;

	if (!m->upper)
		return 0;
	r = stage_detach(m->extra[OVERLAY_UPPER_MNT]);
	for (int i = OVERLAY_UPPER_MNT; i <= OVERLAY_UPPER_WORK; i++)
		m->extra[i] = safe_close(m->extra[i]);
	return r;
}

int overlay_apply(struct init_spec *s, struct init_mount *m)
{
	char l[64], u[96], w[96];
	_cleanup_close_ int lower = -1, mnt = -1, cwd = -1;
	int proc = hide_proc_fd(), r;

	if (m->tree < 0)
		return 0; /* an optional source that is not there */
	r = mounts_bind_prepared(m);
	if (r < 0)
		return r;
	r = mounts_open_target(m->dst, true, &lower);
	if (r < 0)
		return init_fail("overlay", m->dst, r);
	if (proc < 0)
		return init_fail("overlay", "/proc", ENOENT);
	r = fd_path(l, sizeof(l), lower, NULL);
	if (r >= 0)
		r = layer_paths(s, m, lower, u, w, sizeof(u));
	if (r < 0)
		return init_fail("overlay", m->upper ? m->upper : m->dst, r);
	/* overlayfs resolves its layer paths from the caller's working
	 * directory: the host's /proc, reached by descriptor only. */
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || fchdir(proc) < 0)
		return init_fail("overlay", "/proc", errno);
	/* /proc/self/fd is searchable by its task's owner only, and pid 1's
	 * fs ids are the sandbox user's: the capabilities over that user's
	 * files come back for the mount, and go again after it. The
	 * overlay's copy-ups act with them, over the user's files only. */
	r = creds_with_fs_caps();
	if (r < 0)
		return r;
	/* user.* xattrs are what an overlay in a user namespace may use;
	 * a kernel whose tmpfs lacks them gets the trusted.* default. */
	mnt = new_overlay(l, u, w, true);
	if (mnt == -EINVAL)
		mnt = new_overlay(l, u, w, false);
	r = creds_as_user(s);
	if (r < 0)
		return r;
	if (fchdir(cwd) < 0)
		return init_fail("overlay", "cwd", errno);
	if (mnt < 0)
		return init_fail("overlay", m->upper ? m->upper : m->dst, mnt);
	r = release_upper(m);
	if (r < 0)
		return init_fail("overlay", "detach upper", r);
	if (move_mount(mnt, "", lower, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return init_fail("overlay", m->dst, errno);
	return 0;
}

int overlay_done(void)
{
	int r = stage_detach(upper_fs);

	upper_fs = safe_close(upper_fs);
	if (r < 0)
		return init_fail("overlay", "detach tmpfs", r);
	return 0;
}
