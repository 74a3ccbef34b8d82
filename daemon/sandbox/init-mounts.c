/*
 * The sandbox's filesystem, built by pid 1 in its own mount namespace:
 *
 *  1. begin:   make every mount private, so nothing propagates either way;
 *              open the staging directory while still the host's root.
 *  2. prepare: open every bind source AS THE SANDBOX USER (mapped to the
 *              caller) and clone it into a detached mount; create proc
 *              while the host's proc is still visible (the kernel insists).
 *  3. enter:   a fresh tmpfs becomes the root via pivot_root; the old root
 *              is detached at once. From here no path leads to the host:
 *              the only host objects left are the prepared mounts.
 *  4. apply:   the request's operations, in order, each target resolved
 *              inside the new root without following magic links.
 *  5. finish:  the root itself goes read-only.
 *
 * Mount sources are never opened with the daemon's rights: a caller who
 * cannot open a path cannot have it bound. Targets are created with the
 * sandbox user's ids, so nothing root-owned is left in a writable bind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "init.h"
#include "util.h"

static int stage_fd = -1;

/* Host device nodes a minimal /dev gets, bound one by one: a user
 * namespace cannot mknod them. Then its symlinks (target, name). */
const char *const init_dev_nodes[INIT_N_DEV_NODES] = {
    "null", "zero", "full", "random", "urandom", "tty",
};
const char *const init_dev_links[INIT_N_DEV_LINKS][2] = {
    {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
    {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
    {"pts/ptmx", "ptmx"},
};

/* Parts of /proc that expose the host kernel beyond what a sandbox
 * needs: files are covered by /dev/null, directories by an empty
 * read-only tmpfs, and these subtrees are made read-only. */
static const char *const proc_masked_files[] = {
    "kcore",       "keys",          "key-users",     "timer_list",
    "sched_debug", "sysrq-trigger", "latency_stats",
};
static const char *const proc_masked_dirs[] = {"acpi", "asound", "scsi"};
static const char *const proc_readonly[] = {"sys", "irq", "bus", "fs"};

_Static_assert(ELEMENTSOF(init_dev_nodes) <= 8, "extra[] too small");
_Static_assert(ELEMENTSOF(proc_masked_files) <= 8, "extra[] too small");

static int openat2_in(int dirfd, const char *path, int flags,
		      unsigned long long resolve)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .resolve = resolve,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int mounts_openat2(int dirfd, const char *path, int flags,
		   unsigned long long resolve)
{
	return openat2_in(dirfd, path, flags, resolve);
}

int mounts_begin(struct init_spec *s)
{
	/* Nothing we mount may leak to the host, and nothing the host mounts
	 * later should appear in a running sandbox. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return init_fail("make mounts private", NULL, errno);
	stage_fd = open(s->stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (stage_fd < 0)
		return init_fail("open staging dir", s->stage, errno);
	return 0;
}

/* Detached copy of a host mount tree, with its mount flags set. */
int mounts_clone_tree(int fd, bool recursive, uint64_t attr_set)
{
	struct mount_attr attr = {.attr_set = attr_set};
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
	int tree;

	if (recursive)
		flags |= AT_RECURSIVE;
	tree = open_tree(fd, "", flags);
	if (tree < 0)
		return -errno;
	if (attr_set &&
	    mount_setattr(tree, "",
			  AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
			  sizeof(attr)) < 0) {
		int r = -errno;
		close(tree);
		return r;
	}
	return tree;
}

/* Filesystems that show the host kernel's state (every host process,
 * every tenant's cgroups, tracing, firmware) rather than files. */
static const char *const kernel_fs[] = {
    "proc",     "sysfs",       "cgroup",  "cgroup2",  "debugfs",
    "tracefs",  "securityfs",  "bpf",     "configfs", "pstore",
    "efivarfs", "binfmt_misc", "fusectl",
};

static bool is_kernel_fs(const char *type)
{
	for (size_t i = 0; i < ELEMENTSOF(kernel_fs); i++)
		if (strcmp(type, kernel_fs[i]) == 0)
			return true;
	return false;
}

/*
 * A recursive bind takes every mount below its source along: binding "/"
 * or any directory above the host's /proc would show the sandbox every
 * host process, other tenants' included. Refuse a source whose subtree
 * holds a kernel filesystem. Checked on the path the source really
 * resolved to (after symlinks), against this mount namespace's table,
 * which is still the host's view here.
 */
static int check_exposes_kernel(int fd, const char *src)
{
	char self[64], real[PATH_MAX], line[4096];
	size_t rlen;
	ssize_t n;
	FILE *f;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, real, sizeof(real) - 1);
	if (n <= 0)
		return init_fail("bind source", src, n < 0 ? errno : EIO);
	real[n] = 0;
	rlen = strcmp(real, "/") == 0 ? 0 : (size_t)n;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return init_fail("bind source", src, errno);
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], type[64];
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint ... - type ... */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1 || !is_kernel_fs(type))
			continue;
		if (strncmp(mnt, real, rlen) == 0 &&
		    (mnt[rlen] == 0 || mnt[rlen] == '/')) {
			char detail[sizeof(init_failure.detail)];

			fclose(f);
			snprintf(
			    detail, sizeof(detail),
			    "%.60s (it would expose the host's %.12s at %.60s)",
			    src, type, mnt);
			return init_fail("bind source", detail, EPERM);
		}
	}
	fclose(f);
	return 0;
}

/* The same filesystems by their magic numbers (linux/magic.h), plus the
 * ones a mountinfo walk would never flag because nobody mounts them under
 * a bind source's subtree in practice: nsfs (namespace files), the LSMs'
 * filesystems, mqueue (every host IPC namespace's queues), nfsd and
 * rpc_pipefs. */
static const struct {
	unsigned long magic;
	const char *name;
} kernel_fs_magic[] = {
    {0x9fa0, "proc"},           {0x62656572, "sysfs"},
    {0x27e0eb, "cgroup"},       {0x63677270, "cgroup2"},
    {0x64626720, "debugfs"},    {0x74726163, "tracefs"},
    {0x73636673, "securityfs"}, {0xcafe4a11, "bpf"},
    {0x62656570, "configfs"},   {0x6165676c, "pstore"},
    {0xde5e81e4, "efivarfs"},   {0x42494e4d, "binfmt_misc"},
    {0x65735543, "fusectl"},    {0x6e736673, "nsfs"},
    {0xf97cff8c, "selinuxfs"},  {0x43415d53, "smackfs"},
    {0x19800202, "mqueue"},     {0x6e667364, "nfsd"},
    {0x67596969, "rpc_pipefs"},
};

/*
 * A bind whose source lies ON a kernel filesystem (not only above one):
 * a cgroup directory bound writable lets the sandbox move itself out of
 * its run's cgroup and past its limits; a sysfs or proc directory shows
 * host state. Whatever its subtree holds, such a source is refused,
 * judged by the filesystem of the opened source itself (fstatfs), so no
 * path trick can dress it up.
 */
int mounts_check_kernel_fs(int fd, const char *step, const char *src)
{
	char detail[sizeof(init_failure.detail)];
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return init_fail(step, src, errno);
	for (size_t i = 0; i < ELEMENTSOF(kernel_fs_magic); i++) {
		if ((unsigned long)sfs.f_type != kernel_fs_magic[i].magic)
			continue;
		snprintf(detail, sizeof(detail),
			 "%.100s (on %s, a kernel filesystem: it would expose "
			 "the host's kernel state)",
			 src, kernel_fs_magic[i].name);
		return init_fail(step, detail, EPERM);
	}
	return 0;
}

static int prepare_bind(const struct init_spec *s, struct init_mount *m)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	uint64_t attr = MOUNT_ATTR_NOSUID;
	int mode;

	if (!m->src || m->src[0] != '/')
		return init_fail("bind source", m->src, EINVAL);
	/* No magic links: /proc/self/fd/N would hand us an object the
	 * caller never named by path. Ordinary symlinks resolve as the user
	 * would resolve them. */
	fd = openat2_in(AT_FDCWD, m->src, O_PATH,
			(m->flags & SPEC_MOUNT_NO_SYMLINKS)
			    ? RESOLVE_NO_SYMLINKS
			    : RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && errno == ELOOP && (m->flags & SPEC_MOUNT_NO_SYMLINKS))
		return init_fail("bind source",
				 "symlinks are not followed under bind rules",
				 ELOOP);
	if (fd < 0) {
		if (errno == ENOENT && (m->flags & SPEC_MOUNT_OPTIONAL))
			return 0;
		return init_fail("bind source", m->src, errno);
	}
	if (fstat(fd, &st) < 0)
		return init_fail("bind source", m->src, errno);
	/* What the source is decides first: a kernel filesystem is refused
	 * whatever the caller's rights on it. */
	if (!(m->flags & SPEC_MOUNT_TRUSTED) &&
	    mounts_check_kernel_fs(fd, "bind source", m->src) < 0)
		return -EPERM;
	/* Opening with O_PATH only needs search rights on the way; the
	 * caller must also be able to read (and for a writable bind, write)
	 * the thing itself. */
	mode = R_OK | (S_ISDIR(st.st_mode) ? X_OK : 0);
	if (m->kind == SPEC_MOUNT_BIND || m->kind == SPEC_MOUNT_DEV_BIND)
		mode |= W_OK;
	if (!(m->flags & SPEC_MOUNT_TRUSTED) &&
	    faccessat(fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0)
		return init_fail("bind source", m->src, errno);
	if (!(m->flags & SPEC_MOUNT_TRUSTED) &&
	    check_exposes_kernel(fd, m->src) < 0)
		return -EPERM;
	/* An overlay's lower layer is a read-only bind like any other
	 * (init-overlay.c puts the overlay on top of it). A source that is
	 * no directory stays what write_ephemeral made it from. */
	if (m->kind == SPEC_MOUNT_OVERLAY && !S_ISDIR(st.st_mode) &&
	    !(m->flags & SPEC_MOUNT_EPHEMERAL))
		return init_fail("overlay source", m->src, ENOTDIR);
	if (m->kind == SPEC_MOUNT_OVERLAY && !S_ISDIR(st.st_mode))
		m->kind = SPEC_MOUNT_RO_BIND;
	if (m->kind == SPEC_MOUNT_RO_BIND || m->kind == SPEC_MOUNT_OVERLAY)
		attr |= MOUNT_ATTR_RDONLY;
	if (m->kind != SPEC_MOUNT_DEV_BIND)
		attr |= MOUNT_ATTR_NODEV;
	m->tree = mounts_clone_tree(fd, true, attr);
	if (m->tree < 0)
		return init_fail("bind source", m->src, -m->tree);
	/* A persistent overlay's host directory: opened and checked now,
	 * with the same rights, while the host's tree is still here. */
	if (m->kind == SPEC_MOUNT_OVERLAY && m->upper)
		return overlay_prepare_upper(s, m, fd);
	return 0;
}

int mounts_new_fs(const char *type, const char *const *opts, uint64_t attr)
{
	_cleanup_close_ int fs = -1;
	int mnt;

	fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	for (; opts && opts[0]; opts += 2)
		if (fsconfig(fs,
			     opts[1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
			     opts[0], opts[1], 0) < 0)
			return -errno;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attr);
	if (mnt < 0)
		return -errno;
	return mnt;
}

int mounts_new_devpts(void)
{
	static const char *const opts[] = {
	    "newinstance", NULL, "ptmxmode", "0666", "mode", "0620", NULL};

	return mounts_new_fs("devpts", opts,
			     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

static int prepare_dev(struct init_mount *m)
{
	for (size_t i = 0; i < ELEMENTSOF(init_dev_nodes); i++) {
		char path[32];
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "/dev/%s", init_dev_nodes[i]);
		fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return init_fail("dev", path, errno);
		m->extra[i] = mounts_clone_tree(
		    fd, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
		if (m->extra[i] < 0)
			return init_fail("dev", path, -m->extra[i]);
	}
	return 0;
}

static int prepare_proc(struct init_mount *m)
{
	_cleanup_close_ int null = -1;

	/* Must happen before pivot_root: the kernel only lets a user
	 * namespace mount proc while a full proc is visible to it. */
	m->tree = mounts_new_fs("proc", NULL,
				MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				    MOUNT_ATTR_NOEXEC);
	if (m->tree < 0)
		return init_fail("proc", m->dst, -m->tree);
	null = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (null < 0)
		return init_fail("proc", "/dev/null", errno);
	for (size_t i = 0; i < ELEMENTSOF(proc_masked_files); i++) {
		char path[64];

		/* The sandbox's proc has the files the host's has: clone
		 * only what will be used (each copy costs a grace period
		 * when the sandbox's mounts are torn down). */
		snprintf(path, sizeof(path), "/proc/%s", proc_masked_files[i]);
		if (access(path, F_OK) < 0)
			continue;
		m->extra[i] = mounts_clone_tree(
		    null, false, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC);
		if (m->extra[i] < 0)
			return init_fail("proc", "/dev/null", -m->extra[i]);
	}
	return 0;
}

int mounts_prepare_one(const struct init_spec *s, struct init_mount *m)
{
	m->tree = -1;
	for (size_t j = 0; j < ELEMENTSOF(m->extra); j++)
		m->extra[j] = -1;
	switch (m->kind) {
	case SPEC_MOUNT_RO_BIND:
	case SPEC_MOUNT_BIND:
	case SPEC_MOUNT_DEV_BIND:
	case SPEC_MOUNT_OVERLAY:
		return prepare_bind(s, m);
	case SPEC_MOUNT_PROC:
		return prepare_proc(m);
	case SPEC_MOUNT_DEV:
		return prepare_dev(m);
	case SPEC_MOUNT_TMPFS:
	case SPEC_MOUNT_SYMLINK:
	case SPEC_MOUNT_DIR:
	case SPEC_MOUNT_REMOUNT_RO:
	case SPEC_MOUNT_HIDE: /* init-hide.c */
	case SPEC_MOUNT_FILE: /* init-files.c */
		return 0;
	default:
		return init_fail("mount", m->dst, EINVAL);
	}
}

int mounts_prepare(struct init_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		int r = mounts_prepare_one(s, &s->mounts[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* A bind onto "/" as the first operation: that tree is the root. */
static struct init_mount *rootfs_bind(struct init_spec *s)
{
	struct init_mount *m = s->n_mounts ? &s->mounts[0] : NULL;

	if (m && strcmp(m->dst, "/") == 0 &&
	    (m->kind == SPEC_MOUNT_RO_BIND || m->kind == SPEC_MOUNT_BIND))
		return m;
	return NULL;
}

int mounts_enter_root(struct init_spec *s)
{
	static const char *const opts[] = {"mode",      "0755", "size", "1m",
					   "nr_inodes", "4096", NULL};
	struct init_mount *rootfs = rootfs_bind(s);
	_cleanup_close_ int root = -1;

	if (rootfs) {
		/* The caller's root filesystem (seed: run_sandbox's
		 * rootfs_path), already opened with the caller's rights. */
		root = TAKE_FD(rootfs->tree);
		if (root < 0)
			return init_fail("rootfs", rootfs->src, ENOENT);
	} else {
		root = mounts_new_fs("tmpfs", opts,
				     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	}
	if (root < 0)
		return init_fail("root tmpfs", NULL, -root);
	if (move_mount(root, "", stage_fd, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return init_fail("attach root", NULL, errno);
	stage_fd = safe_close(stage_fd);
	return mounts_pivot_into(root);
}

int mounts_pivot_into(int root)
{
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then removes the old root from this namespace
	 * entirely, without needing a directory to park it in. */
	if (fchdir(root) < 0)
		return init_fail("pivot_root", NULL, errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return init_fail("pivot_root", NULL, errno);
	if (umount2(".", MNT_DETACH) < 0)
		return init_fail("detach old root", NULL, errno);
	if (chdir("/") < 0)
		return init_fail("pivot_root", NULL, errno);
	return 0;
}

/*
 * Resolve an absolute sandbox path, creating missing directories (as the
 * sandbox user) when create is set. The last component is created as a
 * directory or an empty file per leaf_dir. Every step stays inside the
 * root and refuses magic links.
 */
static int open_target(const char *dst, bool create, bool leaf_dir,
		       mode_t dir_mode, int *ret_fd)
{
	_cleanup_close_ int dir = -1;
	char comp[256];
	const char *p = dst;

	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while (*p == '/')
		p++;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		bool last;
		int next;

		while (*end == '/')
			end++;
		last = *end == 0;
		if (len >= sizeof(comp))
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = 0;
		next = openat2_in(dir, comp, O_PATH,
				  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (next < 0 && errno == ENOENT && create) {
			if (!last || leaf_dir) {
				if (mkdirat(dir, comp, last ? dir_mode : 0755) <
					0 &&
				    errno != EEXIST)
					return -errno;
			} else {
				int f = openat(dir, comp,
					       O_CREAT | O_EXCL | O_WRONLY |
						   O_CLOEXEC | O_NOFOLLOW,
					       0444);
				if (f < 0 && errno != EEXIST)
					return -errno;
				safe_close(f);
			}
			next =
			    openat2_in(dir, comp, O_PATH,
				       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		}
		if (next < 0)
			return -errno;
		safe_close(dir);
		dir = next;
		p = end;
	}
	*ret_fd = TAKE_FD(dir);
	return 0;
}

int mounts_open_target(const char *dst, bool leaf_dir, int *ret_fd)
{
	return open_target(dst, true, leaf_dir, 0755, ret_fd);
}

/* Split dst into its parent (opened, created if needed) and last name. */
static int open_parent(const char *dst, int *ret_fd, const char **ret_name)
{
	char parent[4096];
	const char *slash = strrchr(dst, '/');
	size_t len;

	if (!slash || !slash[1])
		return -EINVAL;
	len = (size_t)(slash - dst);
	if (len >= sizeof(parent))
		return -ENAMETOOLONG;
	memcpy(parent, dst, len);
	parent[len] = 0;
	*ret_name = slash + 1;
	return open_target(len ? parent : "/", true, true, 0755, ret_fd);
}

int mounts_attach(int tree, int target)
{
	if (move_mount(tree, "", target, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

static int apply_bind(struct init_mount *m)
{
	_cleanup_close_ int target = -1;
	struct stat st;
	int r;

	if (m->tree < 0)
		return 0; /* optional source gone, or the rootfs (now "/") */
	if (fstat(m->tree, &st) < 0)
		return init_fail("bind", m->dst, errno);
	r = open_target(m->dst, true, S_ISDIR(st.st_mode), 0755, &target);
	if (r >= 0)
		r = mounts_attach(m->tree, target);
	if (r < 0)
		return init_fail("bind", m->dst, r);
	m->tree = safe_close(m->tree);
	return 0;
}

int mounts_bind_prepared(struct init_mount *m)
{
	return apply_bind(m);
}

int mounts_apply_tmpfs(const struct init_spec *s, const struct init_mount *m)
{
	char size[32], mode[16];
	const char *opts[] = {"size", size, "mode", mode, NULL};
	_cleanup_close_ int target = -1, fs = -1;
	int r;

	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)(m->size ? m->size : s->tmpfs_default));
	snprintf(mode, sizeof(mode), "%o", m->mode ? m->mode : 0755);
	r = open_target(m->dst, true, true, 0755, &target);
	if (r < 0)
		return init_fail("tmpfs", m->dst, r);
	fs = mounts_new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (fs < 0)
		return init_fail("tmpfs", m->dst, -fs);
	r = mounts_attach(fs, target);
	if (r < 0)
		return init_fail("tmpfs", m->dst, r);
	return 0;
}

int mounts_mask_proc(struct init_mount *m, int proc)
{
	static const char *const ro_opts[] = {"size", "0", "mode", "0555",
					      NULL};

	for (size_t i = 0; i < ELEMENTSOF(proc_masked_files); i++) {
		_cleanup_close_ int t =
		    openat2_in(proc, proc_masked_files[i], O_PATH | O_NOFOLLOW,
			       RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);

		if (t < 0 || m->extra[i] < 0)
			continue; /* not on this kernel */
		if (mounts_attach(m->extra[i], t) < 0)
			return init_fail("mask /proc", proc_masked_files[i],
					 errno);
		m->extra[i] = safe_close(m->extra[i]);
	}
	for (size_t i = 0; i < ELEMENTSOF(proc_masked_dirs); i++) {
		_cleanup_close_ int t =
		    openat2_in(proc, proc_masked_dirs[i], O_PATH | O_DIRECTORY,
			       RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
		_cleanup_close_ int fs = -1;

		if (t < 0)
			continue;
		fs = mounts_new_fs("tmpfs", ro_opts,
				   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
				       MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		if (fs < 0 || mounts_attach(fs, t) < 0)
			return init_fail("mask /proc", proc_masked_dirs[i],
					 fs < 0 ? -fs : errno);
	}
	for (size_t i = 0; i < ELEMENTSOF(proc_readonly); i++) {
		_cleanup_close_ int t =
		    openat2_in(proc, proc_readonly[i], O_PATH | O_DIRECTORY,
			       RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
		_cleanup_close_ int tree = -1;

		if (t < 0)
			continue;
		tree = mounts_clone_tree(t, true,
					 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					     MOUNT_ATTR_NODEV);
		if (tree < 0 || mounts_attach(tree, t) < 0)
			return init_fail("read-only /proc", proc_readonly[i],
					 tree < 0 ? -tree : errno);
	}
	return 0;
}

static int apply_proc(struct init_mount *m)
{
	_cleanup_close_ int target = -1, proc = -1;
	int r;

	r = open_target(m->dst, true, true, 0555, &target);
	if (r >= 0)
		r = mounts_attach(m->tree, target);
	if (r < 0)
		return init_fail("proc", m->dst, r);
	m->tree = safe_close(m->tree);
	proc = openat2_in(AT_FDCWD, m->dst, O_PATH | O_DIRECTORY,
			  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (proc < 0)
		return init_fail("proc", m->dst, errno);
	return mounts_mask_proc(m, proc);
}

/*
 * A tty run's terminal: opened through the mount fd of the devpts
 * instance just made, never by a path. A path could meet a DEV_BIND of
 * the host's /dev/pts laid over it later, or a symlink; the mount fd can
 * only be this sandbox's own instance, so the pty's number, its
 * /dev/pts/N and everything typed into it stay inside the sandbox. The
 * slave is owned by the sandbox user: pid 1's fs ids are the caller's
 * here (creds_as_user() ran before the mounts).
 */
int mounts_open_tty_master(struct init_spec *s, int devpts)
{
	struct winsize ws = {.ws_row = s->tty_rows, .ws_col = s->tty_cols};
	int unlock = 0;

	if (!(s->flags & INIT_FLAG_TTY) || s->tty_master >= 0)
		return 0;
	s->tty_master = openat(devpts, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->tty_master < 0)
		return init_fail("tty", "ptmx", errno);
	/* A new pty is locked until its opener says otherwise (unlockpt). */
	if (ioctl(s->tty_master, TIOCSPTLCK, &unlock) < 0)
		return init_fail("tty", "unlock", errno);
	if ((ws.ws_row || ws.ws_col) &&
	    ioctl(s->tty_master, TIOCSWINSZ, &ws) < 0)
		return init_fail("tty", "window size", errno);
	return 0;
}

static int apply_dev(struct init_spec *s, struct init_mount *m)
{
	static const char *const tmpfs_opts[] = {"mode", "0755", "size", "64k",
						 NULL};
	_cleanup_close_ int target = -1, fs = -1, dev = -1, pts = -1;
	int r;

	r = open_target(m->dst, true, true, 0755, &target);
	if (r < 0)
		return init_fail("dev", m->dst, r);
	fs = mounts_new_fs("tmpfs", tmpfs_opts,
			   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (fs < 0)
		return init_fail("dev", m->dst, -fs);
	if (mounts_attach(fs, target) < 0)
		return init_fail("dev", m->dst, errno);
	dev = openat2_in(AT_FDCWD, m->dst, O_PATH | O_DIRECTORY,
			 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (dev < 0)
		return init_fail("dev", m->dst, errno);

	for (size_t i = 0; i < ELEMENTSOF(init_dev_nodes); i++) {
		_cleanup_close_ int node = -1;
		int f = openat(dev, init_dev_nodes[i],
			       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);

		if (f < 0)
			return init_fail("dev", init_dev_nodes[i], errno);
		close(f);
		node = openat(dev, init_dev_nodes[i], O_PATH | O_CLOEXEC);
		if (node < 0 || mounts_attach(m->extra[i], node) < 0)
			return init_fail("dev", init_dev_nodes[i], errno);
		m->extra[i] = safe_close(m->extra[i]);
	}
	if (mkdirat(dev, "shm", 01777) < 0 || mkdirat(dev, "pts", 0755) < 0)
		return init_fail("dev", m->dst, errno);
	if (fchmodat(dev, "shm", 01777, 0) < 0)
		return init_fail("dev", "shm", errno);
	pts = openat(dev, "pts", O_PATH | O_DIRECTORY | O_CLOEXEC);
	fs = safe_close(fs);
	fs = mounts_new_devpts();
	if (pts < 0 || fs < 0 || mounts_attach(fs, pts) < 0)
		return init_fail("dev", "pts", fs < 0 ? -fs : errno);
	r = mounts_open_tty_master(s, fs);
	if (r < 0)
		return r;
	for (size_t i = 0; i < INIT_N_DEV_LINKS; i++)
		if (symlinkat(init_dev_links[i][0], dev, init_dev_links[i][1]) <
		    0)
			return init_fail("dev", init_dev_links[i][1], errno);
	return 0;
}

static int apply_symlink(const struct init_mount *m)
{
	_cleanup_close_ int parent = -1;
	const char *name;
	char have[4096];
	ssize_t n;
	int r;

	if (!m->src)
		return init_fail("symlink", m->dst, EINVAL);
	r = open_parent(m->dst, &parent, &name);
	if (r < 0)
		return init_fail("symlink", m->dst, r);
	if (symlinkat(m->src, parent, name) == 0)
		return 0;
	/* The same link already there (a profile's /bin) is fine. */
	n = readlinkat(parent, name, have, sizeof(have) - 1);
	if (n >= 0) {
		have[n] = 0;
		if (strcmp(have, m->src) == 0)
			return 0;
	}
	return init_fail("symlink", m->dst, EEXIST);
}

static int apply_dir(const struct init_mount *m)
{
	_cleanup_close_ int target = -1;
	int r =
	    open_target(m->dst, true, true, m->mode ? m->mode : 0755, &target);

	if (r < 0)
		return init_fail("dir", m->dst, r);
	return 0;
}

static int apply_remount_ro(const struct init_mount *m)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int target = -1;
	int r;

	r = open_target(m->dst, false, false, 0, &target);
	if (r < 0)
		return init_fail("remount-ro", m->dst, r);
	if (mount_setattr(target, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0)
		return 0;
	if (errno != EINVAL)
		return init_fail("remount-ro", m->dst, errno);
	/* Not a mount point: bind it onto itself first, so only this path
	 * changes, and nothing mounted below it. */
	_cleanup_close_ int tree = mounts_clone_tree(target, true, 0);
	if (tree < 0)
		return init_fail("remount-ro", m->dst, -tree);
	if (mounts_attach(tree, target) < 0)
		return init_fail("remount-ro", m->dst, errno);
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return init_fail("remount-ro", m->dst, errno);
	return 0;
}

int mounts_apply(struct init_spec *s)
{
	int r;

	for (size_t i = 0; i < s->n_mounts; i++) {
		struct init_mount *m = &s->mounts[i];

		switch (m->kind) {
		case SPEC_MOUNT_RO_BIND:
		case SPEC_MOUNT_BIND:
		case SPEC_MOUNT_DEV_BIND:
			r = apply_bind(m);
			break;
		case SPEC_MOUNT_TMPFS:
			r = mounts_apply_tmpfs(s, m);
			break;
		case SPEC_MOUNT_PROC:
			r = apply_proc(m);
			break;
		case SPEC_MOUNT_DEV:
			r = apply_dev(s, m);
			break;
		case SPEC_MOUNT_SYMLINK:
			r = apply_symlink(m);
			break;
		case SPEC_MOUNT_DIR:
			r = apply_dir(m);
			break;
		case SPEC_MOUNT_REMOUNT_RO:
			r = apply_remount_ro(m);
			break;
		case SPEC_MOUNT_HIDE:
			r = 0; /* last of all: hide_apply() */
			break;
		case SPEC_MOUNT_FILE:
			r = files_apply(s, m);
			break;
		case SPEC_MOUNT_OVERLAY:
			r = overlay_apply(s, m);
			break;
		default:
			r = init_fail("mount", m->dst, EINVAL);
		}
		if (r < 0)
			return r;
	}
	/* A tty run without a devpts of its own gets no terminal at all:
	 * never one of the host's. */
	if ((s->flags & INIT_FLAG_TTY) && s->tty_master < 0)
		return init_fail("tty",
				 "the sandbox has no /dev of its own (--dev "
				 "/dev) to make its terminal in",
				 ENODEV);
	/* Every file and overlay is made: off the staging point. */
	r = files_done();
	return r < 0 ? r : overlay_done();
}

int mounts_finish(struct init_spec *s)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	/* A rootfs bind keeps the mode the request asked for; under
	 * write_ephemeral the root tmpfs stays writable (it is the run's
	 * own, 1 MiB, and goes with it). */
	if (rootfs_bind(s) || (s->flags & INIT_FLAG_WRITE_EPHEMERAL))
		return 0;
	/* Only mount points the request made are writable; "/" is not. */
	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		return init_fail("read-only root", NULL, errno);
	return 0;
}
