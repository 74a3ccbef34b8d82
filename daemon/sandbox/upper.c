/*
 * Checks on a persistent overlay's host directory (upper.h). boxd-init
 * runs them as the sandbox user, on descriptors it opened with the
 * caller's rights, before any of it is handed to overlayfs; they must
 * never resolve a path of the caller's a second time, and never follow
 * a symlink the caller left in DIR.
 *
 * Why each check, and the attack it stops:
 *  - not a symlink: "DIR -> /etc" would otherwise aim the writes at a
 *    directory the caller named only indirectly; the ownership check
 *    would catch a root-owned target too, but a refusal that says
 *    "symlink" is clearer and holds even for a target the caller owns
 *    through a path it should not use (a tenant's bind rules matched
 *    the link's path, not the target's).
 *  - owned by the caller: overlayfs writes into the upper layer with
 *    pid 1's capabilities over the caller's files; a directory of
 *    someone else's (a shared /tmp, another user's writable tree) must
 *    not fill with files, whiteouts and user.overlay.* xattrs because
 *    it happens to be writable. fstat() alone cannot say so: in the
 *    sandbox's user namespace every unmapped owner reads as the
 *    overflow uid (65534), and a sandbox user of that very number (a
 *    caller who is nobody, or any caller's --uid 65534) would take root's
 *    /tmp for its own. So the kernel is asked too, in the one way that
 *    needs ownership and changes nothing: a chown to the owner it
 *    already has, which only the owner may do (CAP_CHOWN, which pid 1
 *    still holds, only counts for a file whose owner and group the
 *    sandbox maps, that is the caller's own). It touches the ctime.
 *  - writable and searchable by the caller: the same rights the caller
 *    would need to put files there by hand.
 *  - not at or below the source, and the source not at or below it:
 *    the source is the lower layer, which the run must never modify; an
 *    upper layer inside it would be a way to write into it, and a
 *    source inside the upper layer would be rewritten by copy-up.
 *    Judged by walking ".." from each directory's descriptor and
 *    comparing device and inode numbers, so a symlink or a second bind
 *    of the same tree cannot hide the nesting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upper.h"
#include "util.h"

/* Far deeper than any real tree; a bound on the walk all the same. */
#define MAX_DEPTH 4096

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Whether dir is top or lies below it: up through "..", in this mount
 * namespace (".." of a mount's root is its mount point's parent), until
 * the root, whose ".." is itself. Every directory on the way was looked
 * up by the caller to reach dir in the first place, so searching it
 * again needs no right the caller lacks.
 */
static int at_or_below(int dir, const struct stat *top, bool *ret)
{
	_cleanup_close_ int cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
	struct stat st, parent;

	if (cur < 0 || fstat(cur, &st) < 0)
		return -errno;
	for (unsigned depth = 0; depth < MAX_DEPTH; depth++) {
		int up;

		if (same_inode(&st, top)) {
			*ret = true;
			return 0;
		}
		up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up < 0)
			return -errno;
		if (fstat(up, &parent) < 0) {
			int r = -errno;
			close(up);
			return r;
		}
		safe_close(cur);
		cur = up;
		if (same_inode(&parent, &st)) {
			*ret = false; /* the root */
			return 0;
		}
		st = parent;
	}
	return -ELOOP;
}

/* fd (whose fstat() said st) belongs to owner, by the kernel's own
 * ownership test (see above). */
static bool owned_by(int fd, const struct stat *st, uid_t owner)
{
	return st->st_uid == owner &&
	       fchownat(fd, "", owner, (gid_t)-1, AT_EMPTY_PATH) == 0;
}

static int refuse(int err, char *why, size_t len, const char *reason)
{
	snprintf(why, len, "%s", reason);
	return -err;
}

static int check_nesting(int dir, const struct stat *dir_st, int src, char *why,
			 size_t len)
{
	struct stat src_st;
	bool nested = false;
	int r;

	if (fstat(src, &src_st) < 0)
		return refuse(errno, why, len, "cannot stat the source");
	r = at_or_below(dir, &src_st, &nested);
	if (r < 0)
		return refuse(-r, why, len,
			      "cannot tell whether it lies in the source");
	if (nested)
		return refuse(EINVAL, why, len,
			      "it is the overlay's source or inside it (the "
			      "source must never change)");
	r = at_or_below(src, dir_st, &nested);
	if (r < 0)
		return refuse(-r, why, len,
			      "cannot tell whether the source lies in it");
	if (nested)
		return refuse(EINVAL, why, len,
			      "the overlay's source is inside it (copy-up "
			      "would rewrite the source)");
	return 0;
}

int upper_check_dir(int dir, int src, uid_t owner, char *why, size_t len)
{
	struct stat st;

	if (fstat(dir, &st) < 0)
		return refuse(errno, why, len, "cannot stat it");
	if (S_ISLNK(st.st_mode))
		return refuse(ELOOP, why, len,
			      "it is a symlink (name the directory itself)");
	if (!S_ISDIR(st.st_mode))
		return refuse(ENOTDIR, why, len, "not a directory");
	if (!owned_by(dir, &st, owner))
		return refuse(EPERM, why, len, "not owned by the caller");
	/* AT_EACCESS: the fs ids, the sandbox user's, and no capability
	 * (boxd-init dropped its fs capabilities before preparing). */
	if (faccessat(dir, "", W_OK | X_OK, AT_EMPTY_PATH | AT_EACCESS) < 0)
		return refuse(errno, why, len,
			      "the caller may not write and search it");
	return check_nesting(dir, &st, src, why, len);
}

int upper_open_layer(int dir, const char *name, mode_t mode, uid_t owner,
		     int *ret_fd, char *why, size_t len)
{
	_cleanup_close_ int fd = -1;
	struct stat dir_st, st;

	if (fstat(dir, &dir_st) < 0)
		return refuse(errno, why, len, "cannot stat it");
	if (mkdirat(dir, name, mode) == 0) {
		/* Past the umask. Should the name be swapped for a symlink
		 * meanwhile, the chmod acts on what the caller owns only
		 * (no fs capability), and the checks below refuse it. */
		if (fchmodat(dir, name, mode, 0) < 0)
			return refuse(errno, why, len, "cannot set its mode");
	} else if (errno != EEXIST) {
		return refuse(errno, why, len, "cannot make its layer");
	}
	fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return refuse(errno, why, len, "cannot open its layer");
	if (S_ISLNK(st.st_mode))
		return refuse(ELOOP, why, len, "a layer of it is a symlink");
	if (!S_ISDIR(st.st_mode))
		return refuse(ENOTDIR, why, len,
			      "a layer of it is not a directory");
	if (!owned_by(fd, &st, owner))
		return refuse(EPERM, why, len,
			      "a layer of it is not owned by the caller");
	/* overlayfs wants both layers on one filesystem: DIR's, never a
	 * mount stacked on one of them. */
	if (st.st_dev != dir_st.st_dev)
		return refuse(EXDEV, why, len,
			      "a layer of it is on another filesystem");
	*ret_fd = TAKE_FD(fd);
	return 0;
}
