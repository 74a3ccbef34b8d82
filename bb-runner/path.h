/*
 * Paths of the runner protocol: every path in a request is relative to
 * the build directory (or, for the working directory, to the input root),
 * and none may lead out of it.
 */
#pragma once

#include <stdint.h>

/* Longest path accepted, in bytes, and longest single component. */
#define PATH_LENGTH_MAX 4096
#define PATH_COMPONENT_MAX 255

/*
 * Normalise a relative path textually: empty and "." components are
 * dropped. The result has no leading, trailing or double slashes and no
 * "."; "" names the base directory itself. Errors: -EINVAL absolute path,
 * -EXDEV a ".." component (anywhere: "..", "a/../b"), -ENAMETOOLONG a
 * component over PATH_COMPONENT_MAX or the whole over PATH_LENGTH_MAX,
 * -ENOMEM.
 */
int path_normalize(const char *path, char **ret_normalized);

/*
 * Open a normalised relative path beneath dirfd without leaving it:
 * openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS, O_CLOEXEC added to flags. "" opens dirfd's own
 * directory. Returns the fd or a negative errno (-EXDEV, -ELOOP for a
 * symlink on the way, -ENOENT, ...).
 */
int path_open_beneath(int dirfd, const char *normalized, int flags);

/*
 * Split a non-empty normalised path into its directory part ("" for the
 * base) and last component, both malloc'd. -EISDIR for "", -ENOMEM.
 */
int path_split(const char *normalized, char **ret_dir, char **ret_name);

/* "a" + "/" + "b" without doubling the slash; "" parts are skipped. */
int path_join(const char *a, const char *b, char **ret_joined);
