/*
 * What the daemon must not hand a sandbox: its environment (systemd's
 * NOTIFY_SOCKET would let a sandbox send READY=1/STOPPING=1/MAINPID= as
 * the daemon; LISTEN_FDS, WATCHDOG_*, INVOCATION_ID, JOURNAL_STREAM leak
 * service details), its socket and state directory, and the host's
 * cgroup tree (cgroup files, other runs' cgroups, the daemon's own).
 *
 *   probe-env [--allow NAME]... [--gone PATH]... [--not-in-mountinfo STR]
 *
 * The environment may hold PATH and the --allow names only. Each --gone
 * path must not exist (and a socket there must not be reachable).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

static const char *const daemon_vars[] = {
    "NOTIFY_SOCKET",  "LISTEN_FDS",     "LISTEN_PID",
    "LISTEN_FDNAMES", "WATCHDOG_USEC",  "WATCHDOG_PID",
    "INVOCATION_ID",  "JOURNAL_STREAM", "BOXD_SOCKET",
};

static bool allowed(const char *entry, char **allow, int n_allow)
{
	size_t len = strcspn(entry, "=");

	if (len == 4 && strncmp(entry, "PATH", 4) == 0)
		return true;
	for (int i = 0; i < n_allow; i++)
		if (strlen(allow[i]) == len &&
		    strncmp(entry, allow[i], len) == 0)
			return true;
	return false;
}

static void check_environment(char **allow, int n_allow)
{
	int extra = 0;

	for (char **e = environ; *e; e++)
		if (!allowed(*e, allow, n_allow)) {
			probe_check("env_only_requested", false,
				    "unexpected %s", *e);
			extra++;
		}
	if (!extra)
		probe_check("env_only_requested", true,
			    "only PATH and the requested names");
	for (size_t i = 0; i < sizeof(daemon_vars) / sizeof(daemon_vars[0]);
	     i++) {
		char check[64];

		snprintf(check, sizeof(check), "no_%s", daemon_vars[i]);
		probe_check(check, getenv(daemon_vars[i]) == NULL, "%s",
			    getenv(daemon_vars[i]) ? getenv(daemon_vars[i])
						   : "unset");
	}
}

/* pid 1 was exec'd with an empty environment; either way its environ
 * must not be a way to read the daemon's. */
static void check_pid1_environ(void)
{
	char buf[4096];
	long n = probe_read_file("/proc/1/environ", buf, sizeof(buf));

	probe_check("pid1_environ_empty_or_unreadable", n <= 0,
		    "/proc/1/environ: %s",
		    n < 0    ? probe_errno_name((int)-n)
		    : n == 0 ? "empty"
			     : "has content");
}

static void check_gone(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	r = stat(path, &st);
	probe_check("host_path_absent", r < 0 && errno == ENOENT, "stat %s: %s",
		    path, r < 0 ? probe_errno_name(errno) : "exists");
	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	probe_check("host_socket_unreachable", r < 0, "connect %s: %s", path,
		    r < 0 ? probe_errno_name(errno) : "connected");
	close(fd);
}

static void check_cgroups(void)
{
	static char buf[8192];
	const char *line;
	int outside = 0;
	struct stat st;

	if (probe_read_file("/proc/self/cgroup", buf, sizeof(buf)) <= 0) {
		probe_check("cgroup_ns_root", false,
			    "cannot read /proc/self/cgroup");
		return;
	}
	/* hierarchy:controllers:path; in its own cgroup namespace every
	 * path is "/". */
	for (line = buf; *line; line = strchr(line, '\n') + 1) {
		const char *colon = strchr(line, ':');
		const char *path = colon ? strchr(colon + 1, ':') : NULL;
		size_t len = strcspn(line, "\n");

		if (path &&
		    !(path[1] == '/' && (path[2] == '\n' || path[2] == 0))) {
			probe_check("cgroup_ns_root", false, "%.*s", (int)len,
				    line);
			outside++;
		}
		if (!strchr(line, '\n'))
			break;
	}
	if (!outside)
		probe_check("cgroup_ns_root", true,
			    "every hierarchy shows \"/\"");
	probe_check("no_cgroup_tree", stat("/sys/fs/cgroup", &st) < 0,
		    "/sys/fs/cgroup: %s", probe_errno_name(errno));
}

static void check_mountinfo(const char *needle)
{
	static char info[65536];

	if (probe_read_file("/proc/self/mountinfo", info, sizeof(info)) < 0)
		return;
	probe_check(
	    "mountinfo_clean", !strstr(info, needle), "mountinfo %s '%s'",
	    strstr(info, needle) ? "mentions" : "does not mention", needle);
}

int main(int argc, char **argv)
{
	char *allow[32];
	int n_allow = 0;

	probe_begin("env", 1);
	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--allow") == 0 && n_allow < 32)
			allow[n_allow++] = argv[i + 1];
	check_environment(allow, n_allow);
	check_pid1_environ();
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--gone") == 0)
			check_gone(argv[i + 1]);
		else if (strcmp(argv[i], "--not-in-mountinfo") == 0)
			check_mountinfo(argv[i + 1]);
	}
	check_cgroups();
	return probe_end();
}
