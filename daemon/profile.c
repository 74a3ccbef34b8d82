/*
 * The built-in profiles. "default" is the host's system directories
 * read-only (a merged-/usr symlink such as /bin -> usr/bin is recreated as
 * the same symlink), fresh tmpfs for /tmp, /run and /var, proc and a
 * minimal dev; "bare" is nothing. Computed once from the host; their
 * sources are daemon-chosen, so they are marked trusted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"
#include "util.h"

#define MAX_PATH 4096

static int profile_add(struct profile *p, enum spec_mount_kind kind,
		       uint32_t flags, const char *src, const char *dst,
		       uint32_t mode)
{
	struct spec_mount *m = realloc(p->mounts, (p->n + 1) * sizeof(*m));

	if (!m)
		return -ENOMEM;
	p->mounts = m;
	m[p->n] = (struct spec_mount){
	    .kind = kind,
	    .flags = flags,
	    .src = src ? strdup(src) : NULL,
	    .dst = strdup(dst),
	    .mode = mode,
	};
	if ((src && !m[p->n].src) || !m[p->n].dst)
		return -ENOMEM;
	p->n++;
	return 0;
}

/*
 * The default profile: the host's system directories read-only (a
 * merged-/usr symlink such as /bin -> usr/bin is recreated as the same
 * symlink), fresh tmpfs for /tmp, /run and /var, proc and a minimal dev.
 */
const struct profile *profile_default(void)
{
	static const char *const sys_dirs[] = {
	    "/usr",   "/bin",   "/sbin",   "/lib",
	    "/lib32", "/lib64", "/libx32", "/etc",
	};
	static struct profile p;
	static bool done;
	int r = 0;

	if (done)
		return &p;
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(sys_dirs); i++) {
		struct stat st;
		char target[MAX_PATH];
		ssize_t n;

		if (lstat(sys_dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			n = readlink(sys_dirs[i], target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = 0;
			r = profile_add(&p, SPEC_MOUNT_SYMLINK, 0, target,
					sys_dirs[i], 0);
		} else if (S_ISDIR(st.st_mode)) {
			r = profile_add(&p, SPEC_MOUNT_RO_BIND,
					SPEC_MOUNT_TRUSTED |
					    SPEC_MOUNT_OPTIONAL,
					sys_dirs[i], sys_dirs[i], 0);
		}
	}
	if (r >= 0)
		r = profile_add(&p, SPEC_MOUNT_TMPFS, 0, NULL, "/tmp", 01777);
	if (r >= 0)
		r = profile_add(&p, SPEC_MOUNT_TMPFS, 0, NULL, "/run", 0755);
	if (r >= 0)
		r = profile_add(&p, SPEC_MOUNT_TMPFS, 0, NULL, "/var", 0755);
	if (r >= 0)
		r = profile_add(&p, SPEC_MOUNT_PROC, 0, NULL, "/proc", 0);
	if (r >= 0)
		r = profile_add(&p, SPEC_MOUNT_DEV, 0, NULL, "/dev", 0);
	if (r < 0)
		return NULL;
	done = true;
	return &p;
}

int profile_copy(struct run_spec *s, const struct profile *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct spec_mount *m = &s->mounts[s->n_mounts];

		*m = p->mounts[i];
		m->src = p->mounts[i].src ? strdup(p->mounts[i].src) : NULL;
		m->dst = strdup(p->mounts[i].dst);
		s->n_mounts++;
		if ((p->mounts[i].src && !m->src) || !m->dst)
			return -ENOMEM;
	}
	return 0;
}
