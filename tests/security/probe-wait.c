/*
 * The victim: a long run another sandbox attacks. It reports its id maps
 * and pid (so the test can compare private uids and find it on the host),
 * prints READY, and blocks on stdin until EOF. It exits 0 only if nothing
 * killed it on the way, so a normal result record proves it survived.
 * Its marker is in its argv, for attackers scanning /proc for it.
 *
 *   probe-wait [MARKER]
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

static void info_file(const char *key, const char *path)
{
	char buf[256];
	long n = probe_read_file(path, buf, sizeof(buf));
	char *nl;

	if (n < 0) {
		probe_info(key, "(unreadable)");
		return;
	}
	while ((nl = strchr(buf, '\n')) && nl[1])
		*nl = ' ';
	buf[strcspn(buf, "\n")] = 0;
	probe_info(key, "%s", buf);
}

int main(int argc, char **argv)
{
	char buf[256];

	(void)argc;
	(void)argv;
	probe_begin("wait", 1);
	info_file("uid_map", "/proc/self/uid_map");
	info_file("gid_map", "/proc/self/gid_map");
	probe_info("pid", "%d", (int)getpid());
	dprintf(1, "READY\n");
	while (read(0, buf, sizeof(buf)) > 0)
		;
	probe_check("survived", true, "stdin closed, exiting normally");
	return probe_end();
}
