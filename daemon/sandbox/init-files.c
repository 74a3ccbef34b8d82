/*
 * Files whose content came in the request (Mount.FILE), made by pid 1 in
 * the sandbox's mount namespace, in their place among the other mounts.
 *
 * Every such file lives on one tmpfs of the run's own, never on a
 * filesystem of the host's: the content is written there and the file
 * alone is bound on its destination, read-only. So a destination inside
 * a writable bind of a host directory gets a mount over it, and the
 * host's directory holds at most the empty mount point a bind would
 * leave too. The tmpfs is sized to the contents (page by page), its
 * pages are charged to the run's memory cgroup (pid 1 writes them), and
 * the daemon has already held the total to its tmpfs-size.
 *
 * The tmpfs itself is attached only at pid 1's staging point
 * (init-stage.c: the kernel clones nothing out of a mount that is not
 * in the namespace), never where the command can reach it: each file is
 * cloned out of it (open_tree) onto its destination, the tmpfs is
 * detached again once all are made, and its last reference goes with
 * the files' mounts at the end of the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
#include "util.h"

#define PAGE 4096u

static int files_fs = -1; /* the staged tmpfs, once the first is made */
static unsigned files_made;

/* The tmpfs every FILE of the spec fits on, exactly. */
static int make_files_fs(const struct init_spec *s)
{
	char size[32], inodes[32];
	const char *opts[] = {"size", size,   "nr_inodes", inodes,
			      "mode", "0700", NULL};
	uint64_t bytes = PAGE;
	unsigned n = 1;

	for (size_t i = 0; i < s->n_mounts; i++) {
		if (s->mounts[i].kind != SPEC_MOUNT_FILE)
			continue;
		bytes += (s->mounts[i].data_len + PAGE - 1) / PAGE * PAGE;
		n++;
	}
	snprintf(size, sizeof(size), "%llu", (unsigned long long)bytes);
	snprintf(inodes, sizeof(inodes), "%u", n + 1);
	/* No nosuid-less or dev-ful file can come out of it; exec stays,
	 * for scripts the caller sends along. */
	files_fs =
	    mounts_new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (files_fs < 0)
		return files_fs;
	return stage_attach(files_fs);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the content to a fresh file of the tmpfs; its detached clone,
 * read-only, to *ret_tree. */
static int make_file(const struct init_mount *m, int *ret_tree)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	_cleanup_close_ int f = -1, tree = -1;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "%u", files_made++);
	f = openat(files_fs, name,
		   O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0)
		return -errno;
	r = write_all(f, m->data, m->data_len);
	if (r < 0)
		return r;
	/* fchmod, not the open's mode: the umask must not change it. */
	if (fchmod(f, m->mode ? m->mode : 0644) < 0)
		return -errno;
	tree = open_tree(files_fs, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -errno;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return -errno;
	*ret_tree = TAKE_FD(tree);
	return 0;
}

int files_apply(struct init_spec *s, struct init_mount *m)
{
	_cleanup_close_ int tree = -1, target = -1;
	int r;

	if (files_fs < 0) {
		r = make_files_fs(s);
		if (r < 0)
			return init_fail("file", "tmpfs", r);
	}
	r = make_file(m, &tree);
	if (r < 0)
		return init_fail("file", m->dst, r);
	r = mounts_open_target(m->dst, false, &target);
	if (r < 0)
		return init_fail("file", m->dst, r);
	if (move_mount(tree, "", target, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return init_fail("file", m->dst, errno);
	return 0;
}

int files_done(void)
{
	int r = stage_detach(files_fs);

	files_fs = safe_close(files_fs);
	if (r < 0)
		return init_fail("file", "detach tmpfs", r);
	return 0;
}
