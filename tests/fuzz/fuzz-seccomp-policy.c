/*
 * libFuzzer target for seccomp policy files: tenant-supplied bytes the
 * daemon compiles. Besides not crashing, the compiler must keep its word:
 * an accepted policy yields a well-formed program that the cache returns
 * again for the same bytes, and a refused one says why (with the line,
 * for syntax errors) and hands out nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp.h"

#define SOCK_FILTER_SIZE 8 /* struct sock_filter */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_prog *p = NULL, *again = NULL;
	struct error_detail err, untouched;
	size_t len = 0;
	int r;

	memset(&err, 'x', sizeof(err));
	untouched = err;
	r = seccomp_compile_policy((const char *)data, size, SECCOMP_NET_OWN,
				   &err, &p);
	if (r < 0) {
		/* A refusal says why, in a string, with the line. */
		if (p || !memchr(err.message, '\0', sizeof(err.message)) ||
		    !err.message[0] || err.err != -r)
			abort();
		if (r == -EINVAL && strncmp(err.message, "line ", 5) != 0 &&
		    strncmp(err.message, "compiling", 9) != 0)
			abort();
		return 0;
	}
	/* Details are written only on failure. */
	if (memcmp(&err, &untouched, sizeof(err)) != 0)
		abort();
	if (!p || !seccomp_prog_insns(p, &len) || len == 0 ||
	    len % SOCK_FILTER_SIZE != 0)
		abort();
	if (seccomp_compile_policy((const char *)data, size, SECCOMP_NET_OWN,
				   &err, &again) != 0 ||
	    again != p)
		abort();
	seccomp_prog_unref(again);
	seccomp_prog_unref(p);
	return 0;
}
