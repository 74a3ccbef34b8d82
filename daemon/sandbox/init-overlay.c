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
 * What an overlay cannot do inside a user namespace: copy up a file or
 * directory whose owner is not mapped into it (the host's root-owned
 * files, for a caller whose runs are not root on the host). Writing to
 * such a file, or creating a file in such a directory, fails with
 * EOVERFLOW rather than falling through to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
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

static int new_overlay(int lower, const char *upper, const char *work,
		       bool userxattr)
{
	char l[64], u[96], w[96];
	_cleanup_close_ int fs = -1;
	int r;

	if ((r = fd_path(l, sizeof(l), lower, NULL)) < 0 ||
	    (r = fd_path(u, sizeof(u), upper_fs, upper)) < 0 ||
	    (r = fd_path(w, sizeof(w), upper_fs, work)) < 0)
		return r;
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

int overlay_apply(struct init_spec *s, struct init_mount *m)
{
	char upper[32], work[32];
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
	if (upper_fs < 0 && (r = make_upper_fs(s)) < 0)
		return init_fail("overlay", "tmpfs", r);
	r = make_layers(n_made++, lower, upper, work, sizeof(upper));
	if (r < 0)
		return init_fail("overlay", m->dst, r);
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
	mnt = new_overlay(lower, upper, work, true);
	if (mnt == -EINVAL)
		mnt = new_overlay(lower, upper, work, false);
	r = creds_as_user(s);
	if (r < 0)
		return r;
	if (fchdir(cwd) < 0)
		return init_fail("overlay", "cwd", errno);
	if (mnt < 0)
		return init_fail("overlay", m->dst, mnt);
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
