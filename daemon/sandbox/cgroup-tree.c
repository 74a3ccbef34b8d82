/*
 * What the cgroup backends share for a cgroup's processes and its tree:
 * killing every process a cgroup (and nothing else) holds, asking whether
 * a pid is in a run's cgroup, walking a subtree, and sweeping the
 * directories of ours below a root.
 *
 * Never signal a process without first checking, through a pidfd, that
 * it still sits in a cgroup of ours: a pid read from cgroup.procs may
 * have been reused by the time we act on it.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>

#include "cgroup-internal.h"

/* Is pid, per /proc/<pid>/cgroup, in a cgroup whose path ends in suffix? */
static bool pid_in_cgroup(pid_t pid, const char *suffix)
{
	char path[64], buf[4096];
	size_t slen = strlen(suffix);
	char *line, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (cgroup_read_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "hierarchy-id:controllers:path" */
		char *cg = strchr(line, ':');
		size_t len;

		if (!cg || !(cg = strchr(cg + 1, ':')))
			continue;
		cg++;
		len = strlen(cg);
		if (len >= slen && strcmp(cg + len - slen, suffix) == 0)
			return true;
	}
	return false;
}

static int kill_one(pid_t pid, const char *suffix)
{
	_cleanup_close_ int pidfd = -1;

	if (pid <= 1 || pid == getpid())
		return 0;
	/* Pin the process first, then check where it is: if the pid was
	 * reused after cgroup.procs was read, the check sees the new process
	 * and leaves it alone; if the pinned process died since, the signal
	 * below fails harmlessly. */
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		if (errno != ENOSYS)
			return 0;
		/* Pre-5.3 kernel: the check below still narrows the window. */
	}
	if (!pid_in_cgroup(pid, suffix))
		return 0;
	if (pidfd >= 0) {
		if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0)
			return 0;
	} else if (kill(pid, SIGKILL) < 0) {
		return 0;
	}
	return 1;
}

/*
 * Call fn for each pid in dfd's cgroup.procs; the sum of what it returns
 * (>= 0), or -errno if the file cannot be read. Streamed: a fork bomb's
 * cgroup.procs can be far larger than any buffer we would want to
 * allocate.
 */
static int for_each_proc_at(int dfd, int (*fn)(pid_t pid, const void *arg),
			    const void *arg)
{
	_cleanup_close_ int fd = -1;
	char buf[4096];
	uint64_t pid = 0;
	bool in_num = false;
	int sum = 0;
	ssize_t n;

	fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	for (;;) {
		n = cgroup_read_fd(fd, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (isdigit((unsigned char)buf[i])) {
				if (pid < INT32_MAX)
					pid =
					    pid * 10 + (uint64_t)(buf[i] - '0');
				in_num = true;
				continue;
			}
			if (in_num && pid <= INT32_MAX)
				sum += fn((pid_t)pid, arg);
			pid = 0;
			in_num = false;
		}
	}
	if (in_num && pid <= INT32_MAX)
		sum += fn((pid_t)pid, arg);
	return sum;
}

static int kill_listed(pid_t pid, const void *suffix)
{
	return kill_one(pid, suffix);
}

int cgroup_kill_procs_at(int dfd, const char *suffix)
{
	return for_each_proc_at(dfd, kill_listed, suffix);
}

static int is_pid(pid_t pid, const void *wanted)
{
	return pid == *(const pid_t *)wanted;
}

int cgroup_run_has_pid(const struct cgroup_run *r, pid_t pid)
{
	int dfd = r->fd;

	/* v1: every hierarchy holds the same processes; any one will do. */
	for (size_t i = 0; dfd < 0 && i < _CGROUP_V1_MAX; i++)
		dfd = r->v1_fd[i];
	if (dfd < 0)
		return -ENOENT;
	return for_each_proc_at(dfd, is_pid, &pid) > 0;
}

/*
 * Every subdirectory of dfd: what the walks below and the sweeps of the
 * backends go through. fn's negative result stops the listing and is
 * returned; an unreadable directory lists nothing.
 */
static int for_each_subdir(int dfd,
			   int (*fn)(int dfd, const char *name, void *userdata),
			   void *userdata)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	/*
	 * Opened afresh: closedir() closes the fd it was given, and a dup
	 * would share dfd's position, left at the end by an earlier listing.
	 */
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		safe_close(fd);
		return 0;
	}
	while (r >= 0 && (de = readdir(d)))
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			r = fn(dfd, de->d_name, userdata);
	closedir(d);
	return r;
}

struct tree_walk {
	void (*pre)(const struct cgroup_node *n, void *userdata);
	int (*post)(const struct cgroup_node *n, void *userdata);
	void *userdata;
	const char *parent_rel; /* NULL at the start */
	unsigned depth;
};

static int walk_node(int parent_fd, const char *name, void *userdata)
{
	const struct tree_walk *w = userdata;
	_cleanup_close_ int fd = -1;
	char rel[512];
	struct cgroup_node n;
	int r;

	fd = cgroup_open_dir_at(parent_fd, name);
	if (fd < 0)
		return w->depth == 0 && fd != -ENOENT ? fd : 0;
	if (w->parent_rel)
		snprintf(rel, sizeof(rel), "%s/%s", w->parent_rel, name);
	else
		snprintf(rel, sizeof(rel), "%s", name);
	n = (struct cgroup_node){
	    .parent_fd = parent_fd,
	    .name = name,
	    .fd = fd,
	    .rel = rel,
	    .depth = w->depth,
	};
	if (w->pre)
		w->pre(&n, w->userdata);
	if (w->depth < CGROUP_SWEEP_MAX_DEPTH) {
		struct tree_walk below = *w;

		below.parent_rel = rel;
		below.depth++;
		/* Children are best effort: a failure there is the parent's
		 * post step's to notice (a directory still not empty). */
		(void)for_each_subdir(fd, walk_node, &below);
	}
	r = w->post ? w->post(&n, w->userdata) : 0;
	return w->depth == 0 ? r : 0;
}

int cgroup_tree_walk(int dfd, const char *rel,
		     void (*pre)(const struct cgroup_node *n, void *userdata),
		     int (*post)(const struct cgroup_node *n, void *userdata),
		     void *userdata)
{
	struct tree_walk w = {.pre = pre, .post = post, .userdata = userdata};

	return walk_node(dfd, rel, &w);
}

struct own_children {
	void (*fn)(int dfd, const char *name, void *userdata);
	void *userdata;
};

static int own_child(int dfd, const char *name, void *userdata)
{
	const struct own_children *o = userdata;

	if (strncmp(name, "tenant-", 7) == 0 ||
	    strncmp(name, "sandbox-", 8) == 0 || strcmp(name, "pool") == 0)
		o->fn(dfd, name, o->userdata);
	return 0;
}

void cgroup_for_each_own_child(int root_fd,
			       void (*fn)(int dfd, const char *name,
					  void *userdata),
			       void *userdata)
{
	struct own_children o = {.fn = fn, .userdata = userdata};

	(void)for_each_subdir(root_fd, own_child, &o);
}

static void tidy_one(int dfd, const char *name, void *userdata _unused_)
{
	(void)cgroup_rmdir_patient(dfd, name);
}

void cgroup_tidy_root(int root_fd)
{
	cgroup_for_each_own_child(root_fd, tidy_one, NULL);
}
