/*
 * Hiding paths (read-deny), in pid 1, after every other mount:
 *
 *  1. resolve: each hidden path names an object (a file or directory).
 *              A host path (the tenant's deny list) is resolved while pid
 *              1 still sees the host's tree; a sandbox path once every
 *              other mount is in place. Either way the object is kept as
 *              its filesystem (the mount table's major:minor), its path
 *              from that filesystem's root, and its device and inode.
 *  2. cover:   the sandbox's mount table is walked and the object covered
 *              wherever it shows: at the path it was named by, but also
 *              under a second bind of a directory above it, under the
 *              rootfs, and every mount whose root lies inside a hidden
 *              directory is covered whole (a bind of the hidden
 *              directory's subdirectory or file). A cover is an empty,
 *              read-only, mode 0000 tmpfs on a directory and an empty,
 *              read-only, mode 0000 file on anything else.
 *
 * Why a cover cannot be lifted from inside: the command holds no
 * capability, so it can neither unmount nor bind; in a user namespace of
 * its own (where it would hold them) every mount it inherits is locked
 * to those around it, so unmounting a cover, or a non-recursive bind of
 * a parent that would leave the cover behind, is refused by the kernel.
 * The covers are made read-only, so their mode cannot be changed either.
 *
 * What this does not hide: another hard link to the same file under a
 * name of its own (the walk follows paths, not inodes), and data the
 * command is handed in another way (an fd in its stdio, a file's copy).
 * A path that does not exist, or that pid 1 cannot reach with the
 * sandbox user's rights and its own capabilities over that user's files,
 * has nothing to cover: the command could not reach it either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "util.h"

/* A hidden object, as step 1 found it. */
struct hide_obj {
	bool found;
	bool is_dir;
	/* Seen through an overlay: its device and inode are the overlay's,
	 * so the places it shows are recognised by path and type alone
	 * (which errs on the side of covering more). */
	bool by_path;
	unsigned major, minor; /* the filesystem, as the mount table says */
	dev_t dev;             /* stat's, to recognise it at a candidate */
	ino_t ino;
	char fspath[PATH_MAX]; /* from the filesystem's root */
};

/* One line of /proc/self/mountinfo, the fields the walk needs. */
struct mnt_line {
	uint64_t id, parent;
	bool overlay; /* an overlayfs (init-overlay.c: on top of its lower) */
	unsigned major, minor;
	char root[PATH_MAX];  /* what of its filesystem the mount shows */
	char point[PATH_MAX]; /* where, from pid 1's root */
};

static struct hide_obj *objs;
static int proc_fd = -1;  /* the host's /proc, kept across pivot_root */
static int cover_fs = -1; /* staged tmpfs holding an empty 0000 file */

static int openat2_at(int dirfd, const char *path, int flags,
		      unsigned long long resolve)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .resolve = resolve,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static bool parse_line(const char *line, struct mnt_line *ret)
{
	unsigned long long id, parent;
	const char *sep = strstr(line, " - ");

	if (sscanf(line, "%llu %llu %u:%u %4095s %4095s", &id, &parent,
		   &ret->major, &ret->minor, ret->root, ret->point) != 6)
		return false;
	ret->id = id;
	ret->parent = parent;
	ret->overlay = sep && strncmp(sep + 3, "overlay ", 8) == 0;
	mountinfo_unescape(ret->root);
	mountinfo_unescape(ret->point);
	return true;
}

/* Is path equal to prefix, or below it (whole components)? */
static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return true;
	return strncmp(path, prefix, n) == 0 &&
	       (path[n] == 0 || path[n] == '/');
}

/* a + b, b an absolute path or empty, without doubling the slash. */
static int join(char *buf, size_t len, const char *a, const char *b)
{
	int n;

	if (strcmp(a, "/") == 0 && b[0])
		a = "";
	n = snprintf(buf, len, "%s%s", a, b);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static FILE *open_mountinfo(void)
{
	int fd = openat(proc_fd, "self/mountinfo", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? NULL : fdopen(fd, "re");
}

/* The whole mount table, as pid 1 sees it now (malloc'd). */
static int read_table(struct mnt_line **ret, size_t *ret_n)
{
	struct mnt_line *lines = NULL, *grown;
	char buf[3 * PATH_MAX];
	size_t n = 0;
	FILE *f = open_mountinfo();

	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		grown = realloc(lines, (n + 1) * sizeof(*lines));
		if (!grown) {
			free(lines);
			fclose(f);
			return -ENOMEM;
		}
		lines = grown;
		n += parse_line(buf, &lines[n]);
	}
	fclose(f);
	*ret = lines;
	*ret_n = n;
	return 0;
}

/* The overlay stacked right on top of line l (init-overlay.c mounts one
 * on its lower bind, at the same place), or NULL. */
static const struct mnt_line *overlay_on(const struct mnt_line *lines, size_t n,
					 const struct mnt_line *l)
{
	for (size_t i = 0; i < n; i++)
		if (lines[i].overlay && lines[i].parent == l->id &&
		    strcmp(lines[i].point, l->point) == 0)
			return &lines[i];
	return NULL;
}

/* The object fd names, as its filesystem sees it: through an overlay,
 * as the filesystem of the bind under it (its lower layer) sees it. */
static int describe(int fd, struct hide_obj *o)
{
	struct statx stx;
	struct stat st;
	char self[64], path[PATH_MAX];
	struct mnt_line ml, *lines = NULL;
	bool found = false;
	size_t n_lines = 0;
	ssize_t n;
	int r;

	if (fstat(fd, &st) < 0 ||
	    statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	snprintf(self, sizeof(self), "self/fd/%d", fd);
	n = readlinkat(proc_fd, self, path, sizeof(path) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	path[n] = 0;
	if (path[0] != '/')
		return -ENOENT; /* unreachable from our root */
	r = read_table(&lines, &n_lines);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_lines && !found; i++)
		if (lines[i].id == stx.stx_mnt_id) {
			ml = lines[i];
			found = true;
		}
	for (size_t i = 0; found && ml.overlay && i < n_lines; i++)
		if (lines[i].id == ml.parent &&
		    strcmp(lines[i].point, ml.point) == 0) {
			ml = lines[i];
			o->by_path = true;
			break;
		}
	free(lines);
	if (!found || !under(path, ml.point))
		return -ENOENT;
	o->major = ml.major;
	o->minor = ml.minor;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->is_dir = S_ISDIR(st.st_mode);
	if (join(o->fspath, sizeof(o->fspath), ml.root,
		 path + (strcmp(ml.point, "/") == 0 ? 0 : strlen(ml.point))) <
	    0)
		return -ENAMETOOLONG;
	o->found = true;
	return 0;
}

/* Nothing there for the sandbox to read: no object, no cover. */
static bool nothing_there(int err)
{
	return err == -ENOENT || err == -ENOTDIR || err == -EACCES;
}

int hide_begin(struct init_spec *s)
{
	bool any = false, overlays = false;

	for (size_t i = 0; i < s->n_mounts; i++) {
		any |= s->mounts[i].kind == SPEC_MOUNT_HIDE;
		overlays |= s->mounts[i].kind == SPEC_MOUNT_OVERLAY;
	}
	if (!any && !overlays)
		return 0;
	objs = calloc(s->n_mounts, sizeof(*objs));
	if (!objs)
		return init_fail("hide", NULL, ENOMEM);
	/* Kept past pivot_root: the sandbox need not have a /proc of its
	 * own for pid 1 to read its mount table. Closed once the covers
	 * are in place, and close-on-exec: the command never holds it. */
	proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return init_fail("hide", "/proc", errno);
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct init_mount *m = &s->mounts[i];
		_cleanup_close_ int fd = -1;
		int r;

		if (m->kind != SPEC_MOUNT_HIDE || !m->src)
			continue;
		if (m->src[0] != '/')
			return init_fail("hide", m->src, EINVAL);
		fd =
		    openat2_at(AT_FDCWD, m->src, O_PATH, RESOLVE_NO_MAGICLINKS);
		r = fd < 0 ? -errno : describe(fd, &objs[i]);
		if (r < 0 && !nothing_there(r))
			return init_fail("hide", m->src, r);
	}
	return 0;
}

/* The file covers' source: one tmpfs holding one empty file, mode 0000,
 * attached at the staging point (init-stage.c) for as long as covers
 * are cloned out of it: the kernel clones nothing out of a mount that is
 * not in the namespace. */
static int make_cover_fs(void)
{
	static const char *const opts[] = {"size", "4k",   "nr_inodes", "4",
					   "mode", "0700", NULL};
	_cleanup_close_ int mnt = -1, f = -1;
	int r;

	if (cover_fs >= 0)
		return 0;
	mnt = mounts_new_fs("tmpfs", opts,
			    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return mnt;
	f = openat(mnt, "empty", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
	if (f < 0)
		return -errno;
	r = stage_attach(mnt);
	if (r < 0)
		return r;
	cover_fs = TAKE_FD(mnt);
	return 0;
}

/* A file cover: a read-only clone of the empty file, alone. */
static int new_cover_file(void)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int mnt = -1;
	int r = make_cover_fs();

	if (r < 0)
		return r;
	mnt = open_tree(cover_fs, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mnt < 0)
		return -errno;
	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return -errno;
	return TAKE_FD(mnt);
}

static int cover(int target, bool is_dir)
{
	static const char *const dir_opts[] = {"size", "4k",   "nr_inodes", "2",
					       "mode", "0000", NULL};
	_cleanup_close_ int mnt = -1;

	if (is_dir)
		mnt = mounts_new_fs("tmpfs", dir_opts,
				    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	else
		mnt = new_cover_file();
	if (mnt < 0)
		return mnt;
	if (move_mount(mnt, "", target, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Open a sandbox path exactly: no symlink on the way, none at the end.
 * The paths tried here are built from the mount table, where every
 * component is a real directory; a symlink means something else now
 * sits there. */
static int open_exact(const char *path)
{
	return openat2_at(AT_FDCWD, path, O_PATH | O_NOFOLLOW,
			  RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
			      RESOLVE_NO_MAGICLINKS);
}

/* The object under this mount, if it shows there: cover that path.
 * top: an overlay on the mount, through which the path shows it. */
static int cover_below(const struct hide_obj *o, const struct mnt_line *ml,
		       const struct mnt_line *top, const char *what)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	const char *rest = o->fspath + strlen(ml->root);
	struct stat st;
	int r;

	if (strcmp(ml->root, "/") == 0)
		rest = o->fspath;
	if (join(path, sizeof(path), ml->point, rest) < 0)
		return 0; /* too long to reach by path */
	fd = open_exact(path);
	if (fd < 0 || fstat(fd, &st) < 0)
		return 0; /* buried under another mount, or not reachable */
	if ((o->by_path || top) ? S_ISDIR(st.st_mode) != o->is_dir
				: (st.st_dev != o->dev || st.st_ino != o->ino))
		return 0;
	if (strcmp(path, "/") == 0)
		return init_fail("hide", "the object is the sandbox's root",
				 EPERM);
	r = cover(fd, o->is_dir);
	if (r < 0)
		return init_fail("hide", what, r);
	return 0;
}

/* A mount showing part of a hidden directory: cover it whole, if it is
 * the mount seen at its mount point (a buried one shows nothing). */
static int cover_mount(const struct mnt_line *ml, const struct mnt_line *top,
		       const char *what)
{
	_cleanup_close_ int fd = -1;
	struct statx stx;
	struct stat st;
	int r;

	fd = open_exact(ml->point);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
	    stx.stx_mnt_id != (top ? top->id : ml->id))
		return 0;
	if (strcmp(ml->point, "/") == 0)
		return init_fail("hide", "the sandbox's root lies inside it",
				 EPERM);
	r = cover(fd, S_ISDIR(st.st_mode));
	if (r < 0)
		return init_fail("hide", what, r);
	return 0;
}

/*
 * Every place the object shows, from a snapshot of the mount table taken
 * before any of its covers (they add lines, on other filesystems).
 */
static int cover_everywhere(const struct hide_obj *o, const char *what)
{
	struct mnt_line *lines = NULL;
	size_t n = 0;
	int r = read_table(&lines, &n);

	if (r < 0)
		return init_fail("hide", "mountinfo", r);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct mnt_line *l = &lines[i];
		const struct mnt_line *top = overlay_on(lines, n, l);

		if (l->major != o->major || l->minor != o->minor)
			continue;
		if (under(o->fspath, l->root))
			r = cover_below(o, l, top, what);
		else if (o->is_dir && under(l->root, o->fspath))
			r = cover_mount(l, top, what);
	}
	free(lines);
	return r;
}

int hide_proc_fd(void)
{
	return proc_fd;
}

int hide_apply(struct init_spec *s)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && objs && i < s->n_mounts; i++) {
		const struct init_mount *m = &s->mounts[i];
		_cleanup_close_ int fd = -1;

		if (m->kind != SPEC_MOUNT_HIDE)
			continue;
		if (!m->src) {
			fd =
			    openat2_at(AT_FDCWD, m->dst, O_PATH,
				       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
			r = fd < 0 ? -errno : describe(fd, &objs[i]);
			if (r < 0 && nothing_there(r))
				r = 0;
			if (r < 0)
				return init_fail("hide", m->dst, r);
		}
		if (objs[i].found)
			r = cover_everywhere(&objs[i],
					     m->src ? m->src : m->dst);
	}
	proc_fd = safe_close(proc_fd);
	free(objs);
	objs = NULL;
	/* Every cover is in place: their source goes off the staging point
	 * (each cover is a mount of its own, showing only its file). */
	if (r >= 0 && (r = stage_detach(cover_fs)) < 0)
		r = init_fail("hide", "detach cover tmpfs", r);
	cover_fs = safe_close(cover_fs);
	return r;
}
