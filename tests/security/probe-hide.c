/*
 * Tries to read hidden files and directories (boxctl --hide, a tenant's
 * deny list). Every file given holds MARKER on the host; every directory
 * given holds at least one entry. The probe reads each the plain way,
 * through /proc/self/root, through /proc/self/fd of an O_PATH descriptor,
 * with openat2() from the parent with every RESOLVE_ flag that changes
 * how mounts are crossed, by file handle, and after trying to lift the
 * cover: chmod, umount, and in a user and mount namespace of its own
 * (where it would hold CAP_SYS_ADMIN) umount again and a non-recursive
 * bind of the parent that would leave the cover behind. A read that
 * yields MARKER, or a directory listing with an entry, fails the check.
 *
 *   probe-hide MARKER PATH...
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static const char *marker;

/* What an open fd shows: -1 nothing, 1 the secret (or an entry). */
static int leaks(int fd)
{
	char buf[4096];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = fdopendir(dup(fd));
		struct dirent *e;
		int found = -1;

		if (!d)
			return -1;
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				found = 1;
		closedir(d);
		return found;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strstr(buf, marker) ? 1 : -1;
}

/* One way in: opened fd (or -errno) -> a check. */
static void check_open(const char *how, const char *path, int fd)
{
	int leak = fd >= 0 ? leaks(fd) : -1;

	probe_check(how, leak < 0, "%s: %s", path,
		    fd < 0     ? probe_errno_name(-fd)
		    : leak > 0 ? "SECRET READ"
			       : "opened, nothing to read");
	if (fd >= 0)
		close(fd);
}

static int sys_openat2(int dirfd, const char *path, int flags,
		       unsigned long long resolve)
{
	struct open_how how = {.flags = (unsigned long long)flags,
			       .resolve = resolve};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

static int plain_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static void try_paths(const char *path)
{
	char buf[4200], dir[4096], base[256];
	int pfd;

	check_open("open", path, plain_open(path));
	snprintf(buf, sizeof(buf), "/proc/self/root%s", path);
	check_open("proc-root", path, plain_open(buf));

	/* An O_PATH fd needs no read permission; reopening it through
	 * /proc/self/fd must not turn it into one that reads. */
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd >= 0) {
		snprintf(buf, sizeof(buf), "/proc/self/fd/%d", pfd);
		check_open("reopen-opath", path, plain_open(buf));
		close(pfd);
	}

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(dir));
	snprintf(dir, sizeof(dir), "%s", path);
	pfd = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		static const unsigned long long how[] = {
		    RESOLVE_BENEATH, RESOLVE_NO_XDEV, RESOLVE_IN_ROOT,
		    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		    RESOLVE_CACHED};

		for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++)
			check_open("openat2", path,
				   sys_openat2(pfd, base, O_RDONLY | O_CLOEXEC,
					       how[i]));
		close(pfd);
	}
}

/* By handle: needs CAP_DAC_READ_SEARCH, which the command lacks. */
static void try_handle(const char *path)
{
	struct {
		struct file_handle fh;
		unsigned char data[128];
	} h = {.fh.handle_bytes = 128};
	int mnt_id, fd;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt_id, 0) < 0)
		return;
	fd = open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY);
	check_open("by-handle", path, fd < 0 ? -errno : fd);
}

/* The cover itself: its mode, its mount. */
static void try_lift(const char *path)
{
	int r = chmod(path, 0644);

	probe_check("chmod", r < 0, "%s: %s", path,
		    r < 0 ? probe_errno_name(errno) : "changed");
	r = umount2(path, MNT_DETACH);
	probe_check("umount", r < 0, "%s: %s", path,
		    r < 0 ? probe_errno_name(errno) : "unmounted");
	if (r == 0)
		check_open("after-umount", path, plain_open(path));
}

/*
 * In a user and mount namespace of its own the command holds every
 * capability over its copy of the mounts, but every one of them is
 * locked to the mounts around it: umount of a cover and a
 * non-recursive bind of the parent (which would leave covers behind)
 * are refused. Run in a child, which says how it went on a pipe.
 */
static void try_in_new_ns(const char *path)
{
	char dir[4096], tmp[] = "/tmp/probe-hide-XXXXXX";
	int p[2], status;
	char msg[256] = "";
	pid_t pid;

	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		char out[256], dst[4300];
		int fd, r;

		close(p[0]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
			snprintf(out, sizeof(out), "OK unshare refused (%s)",
				 probe_errno_name(errno));
			(void)!write(p[1], out, strlen(out));
			_exit(0);
		}
		if (umount2(path, MNT_DETACH) == 0) {
			fd = open(path, O_RDONLY);
			r = fd >= 0 ? leaks(fd) : -1;
			snprintf(out, sizeof(out), "%s umount succeeded%s",
				 r > 0 ? "FAIL" : "OK",
				 r > 0 ? ", SECRET READ" : "");
			(void)!write(p[1], out, strlen(out));
			_exit(0);
		}
		snprintf(dir, sizeof(dir), "%s", path);
		if (!mkdtemp(tmp) ||
		    mount(dirname(dir), tmp, NULL, MS_BIND, NULL) < 0) {
			snprintf(out, sizeof(out),
				 "OK umount and non-recursive bind refused "
				 "(%s)",
				 probe_errno_name(errno));
			(void)!write(p[1], out, strlen(out));
			_exit(0);
		}
		snprintf(dir, sizeof(dir), "%s", path);
		snprintf(dst, sizeof(dst), "%s/%s", tmp, basename(dir));
		fd = open(dst, O_RDONLY);
		r = fd >= 0 ? leaks(fd) : -1;
		snprintf(out, sizeof(out), "%s non-recursive bind made%s",
			 r > 0 ? "FAIL" : "OK", r > 0 ? ", SECRET READ" : "");
		(void)!write(p[1], out, strlen(out));
		_exit(0);
	}
	close(p[1]);
	if (pid > 0) {
		(void)!read(p[0], msg, sizeof(msg) - 1);
		waitpid(pid, &status, 0);
	}
	close(p[0]);
	probe_check("new-namespace", strncmp(msg, "OK", 2) == 0, "%s: %s", path,
		    msg[0] ? msg + (msg[0] == 'O' ? 3 : 5) : "no answer");
}

int main(int argc, char **argv)
{
	probe_begin("hide", 1);
	if (argc < 3) {
		probe_check("usage", false, "probe-hide MARKER PATH...");
		return probe_end();
	}
	marker = argv[1];
	for (int i = 2; i < argc; i++) {
		try_paths(argv[i]);
		try_handle(argv[i]);
		try_lift(argv[i]);
		try_in_new_ns(argv[i]);
	}
	return probe_end();
}
