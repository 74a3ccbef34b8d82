/*
 * Attacks another sandbox (another tenant's, or another run of the same
 * tenant in private uid mode) that the test knows by its host pids:
 *
 *  - look for it in /proc (its argv carries a marker, given to this
 *    probe through $BOXD_SEC_MARKER so our own argv does not match);
 *  - kill(pid, 0) and kill(pid, SIGKILL) by host pid;
 *  - pidfd_open(pid), then ptrace(PTRACE_ATTACH) and process_vm_readv;
 *  - open /proc/PID.
 *
 * Every attempt must fail: ESRCH/ENOENT where the pid namespace hides it,
 * EPERM where the filter refuses first. A host pid that happens to exist
 * in our namespace too must then be one of ours, not the victim.
 *
 *   probe-peer HOSTPID...
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"

static bool cmdline_has(const char *pid, const char *marker)
{
	char path[64], buf[4096];
	long n;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	n = probe_read_file(path, buf, sizeof(buf));
	for (long i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	return n > 0 && strstr(buf, marker);
}

static void scan_proc(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int seen = 0, found = 0;

	if (!d) {
		probe_check("proc_scan", false, "opendir /proc: %s",
			    probe_errno_name(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		seen++;
		if (marker && cmdline_has(de->d_name, marker))
			found++;
	}
	closedir(d);
	probe_info("visible_processes", "%d", seen);
	probe_check("victim_not_in_proc", found == 0,
		    "%d of %d visible processes carry the victim's marker",
		    found, seen);
}

static bool is_ours(pid_t pid, const char *marker)
{
	char name[32], path[64];

	snprintf(name, sizeof(name), "%d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0 &&
	       !(marker && cmdline_has(name, marker));
}

static void attack(pid_t pid, const char *marker)
{
	char path[64];
	char buf[16];
	struct iovec local = {buf, sizeof(buf)}, remote = {(void *)4096, 16};
	bool ours = is_ours(pid, marker);
	long r;
	int pidfd;

	probe_info("target", "%d%s", (int)pid,
		   ours ? " (also a pid of our own namespace)" : "");
	if (ours) {
		/* Same number, different process: nothing of the victim's
		 * is reachable through it. Sending it signals would only
		 * hit ourselves. */
		probe_check("pid_is_not_the_victim", true,
			    "pid %d here is one of ours", (int)pid);
		return;
	}
	r = kill(pid, 0);
	probe_check("kill0", r < 0 && errno == ESRCH, "kill(%d, 0): %s",
		    (int)pid, r < 0 ? probe_errno_name(errno) : "delivered");
	r = kill(pid, SIGKILL);
	probe_check("kill9", r < 0 && errno == ESRCH, "kill(%d, SIGKILL): %s",
		    (int)pid, r < 0 ? probe_errno_name(errno) : "delivered");
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	probe_check("pidfd_open", pidfd < 0 && errno == ESRCH,
		    "pidfd_open(%d): %s", (int)pid,
		    pidfd < 0 ? probe_errno_name(errno) : "opened");
	if (pidfd >= 0) {
		r = syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		probe_check("pidfd_send_signal", r < 0, "pidfd_send_signal: %s",
			    r < 0 ? probe_errno_name(errno) : "delivered");
		close(pidfd);
	}
	r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	probe_check("ptrace_attach",
		    r < 0 && (errno == ESRCH || errno == EPERM),
		    "ptrace(ATTACH, %d): %s", (int)pid,
		    r < 0 ? probe_errno_name(errno) : "attached");
	r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	probe_check("process_vm_readv",
		    r < 0 && (errno == ESRCH || errno == EPERM),
		    "process_vm_readv(%d): %s", (int)pid,
		    r < 0 ? probe_errno_name(errno) : "read");
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	r = access(path, F_OK);
	probe_check("proc_pid_absent", r < 0 && errno == ENOENT, "%s: %s", path,
		    r < 0 ? probe_errno_name(errno) : "exists");
}

int main(int argc, char **argv)
{
	const char *marker = getenv("BOXD_SEC_MARKER");
	char buf[256];

	probe_begin("peer", 1);
	if (probe_read_file("/proc/self/uid_map", buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = 0;
		probe_info("uid_map", "%s", buf);
	}
	scan_proc(marker);
	for (int i = 1; i < argc; i++)
		attack((pid_t)atoi(argv[i]), marker);
	return probe_end();
}
