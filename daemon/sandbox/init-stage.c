/*
 * The staging point: where pid 1 attaches a tmpfs of its own making
 * (the files' of init-files.c, the overlays' upper one, the covers' of
 * init-hide.c) for as long as it builds the sandbox out of it.
 *
 * Why attach them at all: before Linux 6.15 the kernel refuses to clone
 * anything out of a mount that is not in the caller's mount namespace
 * (open_tree(OPEN_TREE_CLONE) fails with EINVAL), and overlayfs refuses
 * an upper layer on such a mount the same way (it clones the upper
 * mount). A tmpfs fresh from fsmount() sits in a namespace of its own
 * until it is attached, so every file cloned out of one, and every
 * overlay written to one, needs it attached first. Newer kernels allow
 * the detached case; attaching costs nothing there and keeps one code
 * path.
 *
 * Where: one small tmpfs, the park, is stacked on the sandbox's root
 * directory, after pivot_root; each staged tmpfs is attached on a
 * directory of the park. pid 1 only ever reaches them through its
 * descriptors, never by path.
 *
 * Why the command can never see or reach any of it:
 *  - the park exists only while pid 1 builds the tree: stage_done()
 *    detaches it (and whatever is still on it) with MNT_DETACH before
 *    the root is finished and long before the command is forked, so no
 *    line of the command's mount table shows it;
 *  - even while it exists, no path leads to it: a lookup starts at a
 *    process's root (or working directory) without crossing a mount
 *    stacked on that very directory, and pid 1's root and working
 *    directory are the root mount below the park;
 *  - the descriptors naming the staged tmpfs are close-on-exec and
 *    closed by pid 1 once done (files_done(), overlay_done(),
 *    hide_apply()); what stays is only what was cloned out of them
 *    (one file per FILE mount, one empty file per cover), each a mount
 *    whose root is that file: nothing above it can be reached through
 *    it, and an overlay's private clone of its upper layer, which no
 *    path names at all;
 *  - each mount is detached through its own descriptor (stage_detach):
 *    umount2() of "." after fchdir() to the mount's root acts on that
 *    mount exactly, never on the root or on another mount, whatever
 *    else was stacked on "/" meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
#include "util.h"

/* The park's inodes: its root, one directory per staged mount (files,
 * covers, the overlays' tmpfs, each persistent overlay's directory). */
#define PARK_INODES 16
#define PARK_INODES_STR "16"
_Static_assert(1 + 3 + SPEC_MAX_PERSISTENT_OVERLAYS <= PARK_INODES,
	       "the park has too few inodes");

static int park_fd = -1; /* the park, once the first tmpfs is staged */
static unsigned n_staged;

/* The park: a tiny tmpfs of directories only, stacked on "/". */
static int make_park(void)
{
	static const char *const opts[] = {
	    "size", "4k", "nr_inodes", PARK_INODES_STR, "mode", "0700", NULL};
	_cleanup_close_ int mnt = -1, root = -1;

	mnt = mounts_new_fs("tmpfs", opts,
			    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return mnt;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	if (move_mount(mnt, "", root, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	park_fd = TAKE_FD(mnt);
	return 0;
}

int stage_attach(int mnt)
{
	_cleanup_close_ int dir = -1;
	char name[16];
	int r;

	if (park_fd < 0 && (r = make_park()) < 0)
		return r;
	snprintf(name, sizeof(name), "%u", n_staged++);
	if (mkdirat(park_fd, name, 0700) < 0)
		return -errno;
	dir = openat(park_fd, name,
		     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (move_mount(mnt, "", dir, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* umount2() takes a path only: "." from the mount's own root, which the
 * lookup leaves for nothing (nothing is ever stacked on a staged root). */
int stage_detach(int mnt)
{
	_cleanup_close_ int cwd = -1;
	int r = 0;

	if (mnt < 0)
		return 0;
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || fchdir(mnt) < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		r = -errno;
	if (fchdir(cwd) < 0 && r == 0)
		r = -errno;
	return r;
}

int stage_done(void)
{
	int r = stage_detach(park_fd);

	park_fd = safe_close(park_fd);
	if (r < 0)
		return init_fail("detach staging point", NULL, r);
	return 0;
}
