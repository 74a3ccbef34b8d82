/*
 * Path handling for the runner: textual normalisation of the relative
 * paths a request carries, and opening them beneath a directory fd with
 * the kernel's guarantee that resolution never leaves it.
 *
 * The worker is the only peer of the runner, but the paths it sends come
 * partly from the remote-execution client (the working directory is the
 * action's own), and the build directory holds every other action's
 * files. So this file must never resolve a path in a way that can reach
 * outside its base: textual checks catch ".." and absolute paths with a
 * clear message, and openat2(RESOLVE_BENEATH) makes the kernel enforce
 * the same for what lies on disk (symlinks and races included).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

int path_normalize(const char *path, char **ret_normalized)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0, in_len;
	const char *p;

	if (!path)
		path = "";
	/* An absolute path would be taken from the host's root, not from
	 * the build directory or the input root. */
	if (path[0] == '/')
		return -EINVAL;
	in_len = strlen(path);
	if (in_len > PATH_LENGTH_MAX)
		return -ENAMETOOLONG;
	out = malloc(in_len + 1);
	if (!out)
		return -ENOMEM;

	for (p = path; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n > PATH_COMPONENT_MAX)
			return -ENAMETOOLONG;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* No ".." at all, not even one that would stay
			 * inside: removing "a/.." textually is not what the
			 * kernel does when "a" is a symlink, and the worker
			 * never sends one. Refused here, before anything is
			 * opened. */
			return -EXDEV;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p = *end ? end + 1 : end;
	}
	out[len] = 0;
	*ret_normalized = TAKE_PTR(out);
	return 0;
}

int path_open_beneath(int dirfd, const char *normalized, int flags)
{
	/* RESOLVE_BENEATH: no "..", absolute symlink or mount crossing
	 * may take resolution above dirfd. RESOLVE_NO_SYMLINKS: the
	 * directories the runner opens are created by the worker, never
	 * symlinks; a symlink there is an action's doing (an output of an
	 * earlier action, a symlink from the input tree) and is refused
	 * rather than followed. RESOLVE_NO_MAGICLINKS is implied by it and
	 * spelled out for /proc-style links. */
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & O_CREAT) ? 0666 : 0,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!normalized || normalized[0] == '/')
		return -EINVAL;
	fd = syscall(SYS_openat2, dirfd, normalized[0] ? normalized : ".", &how,
		     sizeof(how));
	if (fd < 0)
		return negerrno();
	return (int)fd;
}

int path_split(const char *normalized, char **ret_dir, char **ret_name)
{
	_cleanup_free_ char *dir = NULL, *name = NULL;
	const char *slash;

	if (!normalized || !normalized[0])
		return -EISDIR;
	slash = strrchr(normalized, '/');
	if (slash) {
		dir = strndup(normalized, (size_t)(slash - normalized));
		name = strdup(slash + 1);
	} else {
		dir = strdup("");
		name = strdup(normalized);
	}
	if (!dir || !name)
		return -ENOMEM;
	*ret_dir = TAKE_PTR(dir);
	*ret_name = TAKE_PTR(name);
	return 0;
}

int path_join(const char *a, const char *b, char **ret_joined)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
	char *out;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 0 && b[0] == '/') {
		b++;
		lb--;
	}
	out = malloc(la + lb + 2);
	if (!out)
		return -ENOMEM;
	memcpy(out, a ? a : "", la);
	if (la > 0 && lb > 0 && a[la - 1] != '/')
		out[la++] = '/';
	memcpy(out + la, b ? b : "", lb);
	out[la + lb] = 0;
	*ret_joined = out;
	return 0;
}
