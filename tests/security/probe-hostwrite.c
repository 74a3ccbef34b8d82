/*
 * Tries to write host-global knobs from inside: /proc/sys/kernel/
 * core_pattern (a pipe pattern makes the kernel run a program as host
 * root on the next crash), /proc/sysrq-trigger, and cgroup files bound in
 * from the host (the run's own memory/pids limits, cgroup.procs, v1's
 * release_agent). Each target is "WANT:PATH", where WANT is the errno the
 * attempt must end with (EROFS, EACCES, ENOENT; several joined with '|')
 * or ANY for any failure;
 * a write that "succeeds" into /dev/null (a masked file) counts as
 * failed, since nothing reached the kernel knob.
 *
 *   probe-hostwrite WANT:PATH...
 *   probe-hostwrite --stdin     print READY, read WANT:PATH lines up to an
 *                               empty line, try them, print the verdict,
 *                               then wait for EOF (so the test can read
 *                               the host's values while the run lives)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

static const char *payload_for(const char *path)
{
	if (strstr(path, "core_pattern"))
		return "|/bin/sh -c id>/tmp/boxd-pwned";
	if (strstr(path, "sysrq"))
		return "h"; /* harmless if it ever got through: help text */
	if (strstr(path, "procs") || strstr(path, "tasks"))
		return "1";
	if (strstr(path, "release_agent"))
		return "/tmp/boxd-pwned";
	return "4096";
}

/* Is err one of the '|'-separated names in want (or want ANY)? */
static bool wanted(const char *want, int err)
{
	const char *name = probe_errno_name(err);
	size_t len = strlen(name);

	if (strcmp(want, "ANY") == 0)
		return true;
	for (const char *p = want; p; p = strchr(p, '|')) {
		if (*p == '|')
			p++;
		if (strncmp(p, name, len) == 0 && (p[len] == '|' || !p[len]))
			return true;
	}
	return false;
}

static void attempt(const char *spec)
{
	const char *colon = strchr(spec, ':'), *path, *data;
	char want[64];
	struct stat st;
	int fd, err;
	ssize_t n;

	if (!colon || (size_t)(colon - spec) >= sizeof(want)) {
		probe_check("bad_argument", false, "%s", spec);
		return;
	}
	memcpy(want, spec, (size_t)(colon - spec));
	want[colon - spec] = 0;
	path = colon + 1;
	data = payload_for(path);

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		probe_check(path, wanted(want, err),
			    "open for writing: %s (want %s)",
			    probe_errno_name(err), want);
		return;
	}
	n = write(fd, data, strlen(data));
	err = n < 0 ? errno : 0;
	fstat(fd, &st);
	close(fd);
	if (n < 0) {
		probe_check(path, wanted(want, err),
			    "opened; write: %s (want %s)",
			    probe_errno_name(err), want);
		return;
	}
	/* Written: acceptable only if it was the /dev/null of a mask. */
	probe_check(path,
		    S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
			minor(st.st_rdev) == 3,
		    "WROTE %zd bytes (%s)", n,
		    S_ISCHR(st.st_mode) ? "a character device" : "a real file");
}

int main(int argc, char **argv)
{
	probe_begin("hostwrite", 1);
	if (argc > 1 && strcmp(argv[1], "--stdin") == 0) {
		char line[4096];
		FILE *in = fdopen(0, "r");

		dprintf(1, "READY\n");
		while (in && fgets(line, sizeof(line), in)) {
			line[strcspn(line, "\n")] = 0;
			if (!line[0])
				break;
			attempt(line);
		}
		int rc = probe_end();
		/* Stay alive (and in the cgroup) until the test is done. */
		while (in && fgets(line, sizeof(line), in))
			;
		return rc;
	}
	for (int i = 1; i < argc; i++)
		attempt(argv[i]);
	return probe_end();
}
