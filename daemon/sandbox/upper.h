/*
 * The host directory a persistent overlay keeps its writes in
 * (Mount.upper, boxctl --overlay-persist SRC DST DIR): what it must be
 * before boxd-init lets overlayfs write there, judged on descriptors the
 * sandbox user opened, never on paths.
 *
 * Layout, fixed: DIR/upper is overlayfs's upper layer (the files the
 * runs wrote, whiteouts for what they removed), DIR/work its work
 * directory; both are made on first use, as the sandbox user, so they
 * belong to the caller. A later run with the same DIR sees what the
 * earlier ones left in DIR/upper.
 *
 * Linked into boxd-init (init-overlay.c) and the unit tests only; no
 * function here logs, allocates or changes credentials.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define UPPER_LAYER "upper"
#define UPPER_WORK "work"

/*
 * dir (an O_PATH descriptor, opened without following a last symlink)
 * may hold the writes of an overlay of src (the lower directory's
 * descriptor): it is a directory, not a symlink, owned by owner (the
 * sandbox user, the caller's uid as the sandbox maps it), writable and
 * searchable with the current fs ids, and neither it nor src lies at or
 * below the other. Returns 0, or -errno with why saying what is wrong
 * (at most len bytes, NUL-terminated).
 */
int upper_check_dir(int dir, int src, uid_t owner, char *why, size_t len);

/*
 * dir's layer called name (UPPER_LAYER, UPPER_WORK): made with mode if
 * missing, then opened without following a symlink, and it must be a
 * directory owned by owner on dir's filesystem. ret_fd: an O_PATH
 * descriptor of it. -errno with why on failure.
 */
int upper_open_layer(int dir, const char *name, mode_t mode, uid_t owner,
		     int *ret_fd, char *why, size_t len);
