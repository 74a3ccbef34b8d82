/*
 * Counting this process's open descriptors, for tests that check a
 * receiver leaves none behind. Header-only, no test framework: the caller
 * asserts on the result.
 */
#pragma once

#include <dirent.h>

/* Open fds (the directory's own included), or -1 if /proc is unreadable. */
static inline int fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
