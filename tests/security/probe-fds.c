/*
 * Looks for a way out of the sandbox's root through what it was given:
 * a descriptor beyond 0/1/2 (a leaked daemon fd: its control socket, a
 * mount tree, the staging directory), a directory or O_PATH stdio fd
 * (fchdir/openat("..") escape), a working directory outside the root
 * (getcwd "(unreachable)"), a ".." above "/", or pid 1's descriptors and
 * root through /proc/1 (pid 1 holds the control socket to the daemon and
 * runs with every capability of the sandbox's user namespace).
 *
 *   probe-fds [--host-root DEV:INO]
 *
 * With --host-root, "/" inside must not be the host's root directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

static void check_open_fds(void)
{
	struct rlimit rl;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int extra = 0, self;
	unsigned long max;

	if (!probe_check("list_fds", d != NULL, "opendir /proc/self/fd: %s",
			 d ? "ok" : probe_errno_name(errno)))
		return;
	self = dirfd(d);
	while ((de = readdir(d))) {
		char link[64], target[PATH_MAX] = "";
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd <= 2 || fd == self)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		probe_check("no_extra_fd", false, "fd %d is open: %s", fd,
			    target);
		extra++;
	}
	closedir(d);
	if (!extra)
		probe_check("no_extra_fd", true,
			    "only 0, 1, 2 in /proc/self/fd");

	/* /proc could lie (or be absent in a bare profile): ask each
	 * number directly too. */
	max = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
	if (max > 65536)
		max = 65536;
	extra = 0;
	for (int fd = 3; fd < (int)max; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			extra++;
	probe_check("no_extra_fd_by_fcntl", extra == 0,
		    "%d fds above 2 answer F_GETFD (scanned up to %lu)", extra,
		    max);
}

static void check_stdio_fd(int fd)
{
	char name[32], path[64];
	struct stat st;
	int r, fl;

	snprintf(name, sizeof(name), "stdio_%d", fd);
	if (fstat(fd, &st) < 0) {
		probe_check(name, false, "fstat: %s", probe_errno_name(errno));
		return;
	}
	fl = fcntl(fd, F_GETFL);
	probe_check(name, !S_ISDIR(st.st_mode) && !(fl & O_PATH),
		    "mode %o flags %#x (no directory, no O_PATH)",
		    st.st_mode & S_IFMT, fl);

	/* A directory fd would let fchdir/openat climb out of the root. */
	r = fchdir(fd) < 0 ? errno : 0;
	snprintf(name, sizeof(name), "fchdir_%d", fd);
	probe_check(name, r == ENOTDIR, "fchdir: %s", probe_errno_name(r));
	r = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(name, sizeof(name), "openat_dotdot_%d", fd);
	probe_check(name, r < 0 && errno == ENOTDIR, "openat(fd, \"..\"): %s",
		    r < 0 ? probe_errno_name(errno) : "opened");
	if (r >= 0)
		close(r);
	/* The same through the magic link. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d/..", fd);
	r = open(path, O_PATH | O_CLOEXEC);
	snprintf(name, sizeof(name), "proc_fd_dotdot_%d", fd);
	probe_check(name, r < 0 && (errno == ENOTDIR || errno == ENOENT),
		    "open %s: %s", path,
		    r < 0 ? probe_errno_name(errno) : "opened");
	if (r >= 0)
		close(r);
}

static void check_cwd_and_root(const char *host_root)
{
	char cwd[PATH_MAX], link[PATH_MAX];
	struct stat root = {0}, up = {0};
	ssize_t n;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(getcwd: %s)",
			 probe_errno_name(errno));
	probe_check("cwd_inside", cwd[0] == '/', "getcwd: %s", cwd);
	n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	probe_check("proc_cwd_inside", n > 0 && strcmp(link, cwd) == 0,
		    "/proc/self/cwd -> %s", link);
	n = readlink("/proc/self/root", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	probe_check("proc_root_is_slash", n == 1 && link[0] == '/',
		    "/proc/self/root -> %s", link);

	/* Climb: ".." of "/" must be "/" itself. */
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(getcwd: %s)",
			 probe_errno_name(errno));
	probe_check("dotdot_stops_at_root", strcmp(cwd, "/") == 0,
		    "after 64 x chdir(\"..\"): %s", cwd);
	if (stat("/", &root) == 0 && stat("/..", &up) == 0)
		probe_check("root_dotdot_is_root",
			    root.st_dev == up.st_dev &&
				root.st_ino == up.st_ino,
			    "/ is %u:%u:%lu, /.. is %u:%u:%lu",
			    major(root.st_dev), minor(root.st_dev),
			    (unsigned long)root.st_ino, major(up.st_dev),
			    minor(up.st_dev), (unsigned long)up.st_ino);
	if (host_root) {
		unsigned long long dev = 0, ino = 0;

		sscanf(host_root, "%llu:%llu", &dev, &ino);
		probe_check("root_is_not_the_hosts",
			    !(root.st_dev == dev && root.st_ino == ino),
			    "/ is %llu:%lu, host / is %s",
			    (unsigned long long)root.st_dev,
			    (unsigned long)root.st_ino, host_root);
	}
}

/* pid 1 holds the daemon's control socket and full namespace caps: its
 * fds, root, environment and memory must be out of reach. Listing the
 * fd numbers may be allowed (the directory belongs to uid 0, which a
 * root caller's sandbox is); opening or reading any of them must not. */
static void check_pid1(void)
{
	static const char *const paths[] = {
	    "/proc/1/fd/3", "/proc/1/root/", "/proc/1/environ",
	    "/proc/1/mem",  "/proc/1/cwd/",
	};
	char link[PATH_MAX];
	struct dirent *de;
	int listed = 0;
	DIR *d;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		int e = errno;

		probe_check("pid1_unreachable",
			    fd < 0 && (e == EACCES || e == EPERM),
			    "open %s: %s", paths[i],
			    fd < 0 ? probe_errno_name(e) : "opened");
		if (fd >= 0)
			close(fd);
	}
	d = opendir("/proc/1/fd");
	probe_info("pid1_fd_dir", "%s",
		   d ? "listable" : probe_errno_name(errno));
	while (d && (de = readdir(d))) {
		char path[300];
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		listed++;
		/* pid 1 may close an fd between readdir and open (ENOENT):
		 * gone is as good as unreachable. */
		snprintf(path, sizeof(path), "/proc/1/fd/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		probe_check("pid1_fd_unopenable",
			    fd < 0 && (errno == EACCES || errno == EPERM ||
				       errno == ENOENT),
			    "open %s: %s", path,
			    fd < 0 ? probe_errno_name(errno) : "opened");
		if (fd >= 0)
			close(fd);
		n = readlink(path, link, sizeof(link) - 1);
		probe_check("pid1_fd_unreadable",
			    n < 0 && (errno == EACCES || errno == EPERM ||
				      errno == ENOENT),
			    "readlink %s: %s", path,
			    n < 0 ? probe_errno_name(errno) : "read");
	}
	if (d)
		closedir(d);
	probe_info("pid1_fds_listed", "%d", listed);
	probe_check("pid1_cwd_unreadable",
		    readlink("/proc/1/cwd", link, sizeof(link)) < 0,
		    "readlink /proc/1/cwd: %s", probe_errno_name(errno));
}

int main(int argc, char **argv)
{
	const char *host_root = NULL;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--host-root") == 0)
			host_root = argv[++i];
	probe_begin("fds", 2);
	check_open_fds();
	for (int fd = 0; fd < 3; fd++)
		check_stdio_fd(fd);
	check_cwd_and_root(host_root);
	check_pid1();
	return probe_end();
}
