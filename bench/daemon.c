/*
 * Private boxd daemons for the benchmark, each on its own socket, state
 * directory and cgroup name inside the benchmark's temporary directory,
 * and the /proc readings of their memory.
 *
 * A daemon is forked with PR_SET_PDEATHSIG, so a benchmark killed halfway
 * still has its daemons stop (SIGTERM: they remove their cgroups). This
 * file never signals a process it did not start.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int daemon_status(const struct daemon *d, box_status **ret)
{
	box_client *c = NULL;
	int r = box_connect(d->sock, &c);

	if (r < 0)
		return r;
	r = box_client_status(c, ret);
	box_client_free(c);
	return r;
}

int daemon_wait_pool_full(const struct daemon *d, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	for (;;) {
		box_status *st = NULL;
		int64_t size = -1, target = 0;

		if (daemon_status(d, &st) >= 0) {
			size = box_status_pool_size(st);
			target = box_status_pool_target(st);
			box_status_free(st);
			if (size >= target)
				return 0;
		}
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static ssize_t read_text(const char *path, char *buf, size_t size);

static bool file_has(const char *path, const char *word)
{
	char buf[512];

	return read_text(path, buf, sizeof(buf)) > 0 && strstr(buf, word);
}

/* A private cgroup the way the integration tests pick one: a fresh
 * subtree of the cgroup2 mount when it has the controllers, else a name
 * under each v1 controller (hybrid hosts like the development VMs). */
static void pick_cgroup_root(const char *name, char *out, size_t len)
{
	if (file_has("/sys/fs/cgroup/cgroup.controllers", "memory")) {
		int fd = open("/sys/fs/cgroup/cgroup.subtree_control",
			      O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			(void)!write(fd, "+cpu +memory +pids", 18);
			close(fd);
		}
		snprintf(out, len, "/sys/fs/cgroup/boxd-bench-%d-%s",
			 (int)getpid(), name);
		mkdir(out, 0755);
		return;
	}
	snprintf(out, len, "boxd-bench-%d-%s", (int)getpid(), name);
}

int daemon_start(const struct daemon_paths *p, const char *name, int pool_size,
		 struct daemon *ret)
{
	struct daemon d = {.pool_size = pool_size};
	char pool[16], state[256];
	uint64_t deadline;
	pid_t pid;

	snprintf(d.sock, sizeof(d.sock), "%s/%s.sock", p->dir, name);
	snprintf(d.log, sizeof(d.log), "%s/%s.log", p->dir, name);
	snprintf(state, sizeof(state), "%s/%s-state", p->dir, name);
	pick_cgroup_root(name, d.cgroup_root, sizeof(d.cgroup_root));
	snprintf(pool, sizeof(pool), "%d", pool_size);

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *const argv[] = {
		    (char *)p->boxd, "--socket", d.sock,
		    "--state-dir",   state,      "--cgroup-root",
		    d.cgroup_root,   "--config", "/dev/null",
		    "--pool-size",   pool,       NULL,
		};
		int fd =
		    open(d.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* The daemon goes when we go, however we go. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd < 0 || null < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(p->boxd, argv);
		_exit(127);
	}
	d.pid = pid;

	/* Up when it answers a status request. */
	deadline = now_ns() + 10000000000ULL;
	for (;;) {
		box_status *st = NULL;
		int status;

		if (daemon_status(&d, &st) >= 0) {
			box_status_free(st);
			break;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr,
				"boxd-bench: %s exited at startup; "
				"see %s\n",
				name, d.log);
			return -ECHILD;
		}
		if (now_ns() > deadline) {
			d.pool_size = 0;
			daemon_stop(&d);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
	if (pool_size > 0 && daemon_wait_pool_full(&d, 10000) < 0) {
		fprintf(stderr, "boxd-bench: %s: pool did not fill\n", name);
		daemon_stop(&d);
		return -ETIMEDOUT;
	}
	*ret = d;
	return 0;
}

static unsigned n_removed;

static int rmdir_entry(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_DP)
		return 0;
	/* A child cgroup just removed keeps its parent busy until the
	 * kernel has taken it offline: retry for a while. */
	for (int i = 0; i < 200; i++) {
		if (rmdir(path) == 0) {
			n_removed++;
			return 0;
		}
		if (errno != EBUSY)
			return 0;
		sleep_ms(10);
	}
	return 0;
}

/* Whatever is left of the daemon's cgroup tree once it has exited. */
static unsigned remove_cgroup_leftovers(const struct daemon *d)
{
	char path[512];
	DIR *top;
	struct dirent *de;

	n_removed = 0;
	if (d->cgroup_root[0] == '/') {
		nftw(d->cgroup_root, rmdir_entry, 16, FTW_DEPTH | FTW_PHYS);
		/* The benchmark made this one itself. */
		return n_removed ? n_removed - 1 : 0;
	}
	top = opendir("/sys/fs/cgroup");
	if (!top)
		return 0;
	while ((de = readdir(top))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", de->d_name,
			 d->cgroup_root);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			nftw(path, rmdir_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(top);
	return n_removed;
}

void daemon_stop(struct daemon *d)
{
	uint64_t deadline;
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	deadline = now_ns() + 10000000000ULL;
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			fprintf(stderr,
				"boxd-bench: daemon %d ignores SIGTERM; "
				"killing it\n",
				(int)d->pid);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		sleep_ms(10);
	}
	d->pid = 0;
	d->cgroups_left = remove_cgroup_leftovers(d);
}

/* "Key:   123 kB" lines of a /proc file. */
static uint64_t kb_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (!p)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	return strtoull(p, NULL, 10);
}

static ssize_t read_text(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1 &&
	       (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	buf[total] = 0;
	return total;
}

int proc_mem_read(pid_t pid, struct proc_mem *ret)
{
	char path[64], buf[8192];
	struct proc_mem m = {0};
	DIR *dir;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	m.rss_kb = kb_field(buf, "\nVmRSS:");
	m.hwm_kb = kb_field(buf, "\nVmHWM:");
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_text(path, buf, sizeof(buf)) > 0)
		m.pss_kb = kb_field(buf, "\nPss:");
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (dir) {
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.')
				m.fds++;
		closedir(dir);
	}
	*ret = m;
	return 0;
}

size_t proc_children(pid_t pid, pid_t *out, size_t max)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	if (!proc)
		return 0;
	while ((de = readdir(proc)) && n < max) {
		char path[300], buf[512], *close_paren;
		int ppid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (read_text(path, buf, sizeof(buf)) <= 0)
			continue;
		/* "pid (comm) state ppid": comm may hold anything. */
		close_paren = strrchr(buf, ')');
		if (!close_paren ||
		    sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
			continue;
		if (ppid == pid)
			out[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(proc);
	return n;
}
