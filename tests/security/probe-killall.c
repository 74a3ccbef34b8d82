/*
 * kill(-1, SIGKILL): "every process I may signal". On the host, from a
 * sandbox running as host uid 0, that is the whole machine, the daemon
 * included; from a tenant's uid, every other sandbox of the same uid. In
 * the sandbox's own pid namespace it must reach only the sandbox's own
 * processes (pid 1 exempt). The probe forks a few children to prove the
 * signal did go out, then reports.
 *
 * Safety: before firing, it checks that it really is in a fresh pid
 * namespace (pid 1 is boxd-init, only a handful of processes visible).
 * If not, isolation is already broken: it reports that and does not
 * fire, so a broken build cannot take the test machine down.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define CHILDREN 3

static int count_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] >= '1' && de->d_name[0] <= '9';
	closedir(d);
	return n;
}

int main(void)
{
	char init[64] = "";
	pid_t kids[CHILDREN];
	int procs, killed = 0, r;

	probe_begin("killall", 1);
	probe_read_file("/proc/1/cmdline", init, sizeof(init));
	procs = count_processes();
	if (!probe_check("own_pid_namespace",
			 strcmp(init, "boxd-init") == 0 && procs > 0 &&
			     procs <= 8,
			 "pid 1 is '%s', %d processes visible; not firing "
			 "unless this is a fresh namespace",
			 init, procs))
		return probe_end();

	for (int i = 0; i < CHILDREN; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			for (;;)
				pause();
		}
	}
	r = kill(-1, SIGKILL);
	probe_check("kill_minus_one_sent", r == 0, "kill(-1, SIGKILL): %s",
		    r == 0 ? "ok" : probe_errno_name(errno));
	for (int i = 0; i < CHILDREN; i++) {
		int status;

		if (kids[i] > 0 && waitpid(kids[i], &status, 0) == kids[i] &&
		    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
	}
	/* Our own children died: the signal really went out, and we, the
	 * sender, survived to say so. */
	probe_check("own_children_killed", killed == CHILDREN,
		    "%d of %d children killed", killed, CHILDREN);
	return probe_end();
}
