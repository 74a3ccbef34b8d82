/*
 * seed-alloc: a probe run inside sandboxes by test-seeds.c. Allocates the
 * number of MiB given as its argument and touches every page, then says
 * whether it could: "allocated N MiB" and status 0, or "cannot allocate
 * N MiB" and status 3. A limit on the address space (RLIMIT_AS) makes the
 * allocation itself fail, before any page is touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	size_t len = (size_t)mib << 20;
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p = malloc(len);

	if (!p) {
		printf("cannot allocate %lu MiB\n", mib);
		return 3;
	}
	for (size_t i = 0; i < len; i += (size_t)page)
		p[i] = 1;
	printf("allocated %lu MiB\n", mib);
	free((void *)p);
	return 0;
}
