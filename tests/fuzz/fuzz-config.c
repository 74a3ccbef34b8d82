/*
 * libFuzzer target for the daemon configuration loader. The file is
 * root's, but it is also the tenant policy, so a loader that crashes or
 * half-accepts on odd input is a security bug. The input goes through a
 * memfd and config_load() opens it by path, as it opens the real file.
 * An accepted config is then queried the way sessions and requests do;
 * a refused one must say where and why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1;

static void query(const struct config *c)
{
	static const char *const paths[] = {
	    "/",           "/srv",          "/srv/data",
	    "/srv/data/x", "/srv/database", "/home/ci/work/out",
	    "/etc",        "/srv/../etc",   "//srv",
	    "relative",
	};
	const gid_t groups[] = {0, 4, 27, 1000, 4294967294u};

	for (uid_t uid = 0; uid < 1003; uid += 1001) {
		const struct tenant_policy *t =
		    config_tenant(c, uid, uid, groups, 5);

		if (!t || !t->name)
			abort();
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			bool ro = tenant_may_bind(t, paths[i], false);
			bool rw = tenant_may_bind(t, paths[i], true);

			/* Writable implies readable; malformed paths never. */
			if ((rw && !ro) ||
			    ((paths[i][0] != '/' || strstr(paths[i], "..") ||
			      strstr(paths[i], "//")) &&
			     ro))
				abort();
		}
	}
	if (c->pool_low > c->pool_size || !c->socket_path)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct error_detail err;
	char path[64];
	const char *why = err.message;
	int r;

	if (input_fd < 0) {
		input_fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (input_fd < 0)
			abort();
	}
	if (ftruncate(input_fd, 0) < 0 ||
	    (size && pwrite(input_fd, data, size, 0) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", input_fd);

	r = config_load(path, &err, &c);
	if (r < 0) {
		/* "file:line: why", and nothing handed out. */
		if (c || strncmp(why, path, strlen(path)) != 0 ||
		    why[strlen(path)] != ':')
			abort();
		return 0;
	}
	if (!c)
		abort();
	query(c);
	config_free(c);
	return 0;
}
