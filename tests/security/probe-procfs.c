/*
 * Reads what a container runtime masks in /proc and tries to write what
 * it makes read-only:
 *
 *  - kcore (host memory), keys/key-users (keyrings of the caller's uid),
 *    timer_list and sched_debug (host task names, pids and kernel
 *    pointers), sysrq-trigger (reboot, crash, OOM kill on one write),
 *    latency_stats: absent, unreadable, or empty (covered by /dev/null);
 *  - acpi, asound, scsi: empty if present;
 *  - sys, irq, bus, fs: on a read-only mount. A sandbox of a root caller
 *    runs as host uid 0, and most /proc/sys files check only that, so
 *    without the read-only mount it could set host sysctls;
 *  - /sys: absent in the default profile (--no-sys).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

static void check_masked_file(const char *name)
{
	char path[64], buf[256], check[64];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s", name);
	snprintf(check, sizeof(check), "masked_%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		probe_check(
		    check, errno == ENOENT || errno == EACCES || errno == EPERM,
		    "open: %s", probe_errno_name(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf));
	fstat(fd, &st);
	close(fd);
	probe_check(check, n <= 0, "read %zd bytes (rdev %u:%u)", n,
		    major(st.st_rdev), minor(st.st_rdev));
}

static void check_masked_dir(const char *name)
{
	char path[64], check[64];
	struct dirent *de;
	int entries = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s", name);
	snprintf(check, sizeof(check), "masked_dir_%s", name);
	d = opendir(path);
	if (!d) {
		probe_check(check, errno == ENOENT || errno == EACCES,
			    "opendir: %s", probe_errno_name(errno));
		return;
	}
	while ((de = readdir(d)))
		entries += de->d_name[0] != '.';
	closedir(d);
	probe_check(check, entries == 0, "%d entries", entries);
}

static void check_readonly(const char *name, const char *writable_file)
{
	char path[64], check[64];
	struct statvfs sv;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s", name);
	snprintf(check, sizeof(check), "readonly_%s", name);
	if (statvfs(path, &sv) < 0) {
		probe_check(check, errno == ENOENT, "statvfs: %s",
			    probe_errno_name(errno));
		return;
	}
	probe_check(check, sv.f_flag & ST_RDONLY, "mount flags %#lx",
		    sv.f_flag);
	if (!writable_file)
		return;
	/* An actual write: EROFS for uid 0 (whose DAC check passes),
	 * EACCES or EROFS for anyone else. */
	snprintf(check, sizeof(check), "write_%s", name);
	fd = open(writable_file, O_WRONLY | O_CLOEXEC);
	probe_check(check, fd < 0 && (errno == EROFS || errno == EACCES),
		    "open %s for writing: %s", writable_file,
		    fd < 0 ? probe_errno_name(errno) : "opened");
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	static const char *const files[] = {
	    "kcore",       "keys",          "key-users",     "timer_list",
	    "sched_debug", "sysrq-trigger", "latency_stats",
	};
	static const char *const dirs[] = {"acpi", "asound", "scsi"};
	bool no_sys = argc > 1 && strcmp(argv[1], "--no-sys") == 0;
	struct stat st;

	probe_begin("procfs", 1);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_masked_file(files[i]);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		check_masked_dir(dirs[i]);
	check_readonly("sys", "/proc/sys/kernel/domainname");
	check_readonly("irq", NULL);
	check_readonly("bus", NULL);
	check_readonly("fs", NULL);
	if (no_sys)
		probe_check("sys_absent",
			    stat("/sys", &st) < 0 && errno == ENOENT,
			    "stat /sys: %s", probe_errno_name(errno));
	return probe_end();
}
