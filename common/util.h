/*
 * Small helpers every layer uses: cleanup attributes for function-local
 * resources, ownership hand-off, and close/free that accept "nothing".
 * Nothing here allocates on its own or logs.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* Hand a resource out of a cleanup-guarded variable. */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Close preserving errno; returns -1 so "fd = safe_close(fd)" resets it. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

static inline void closep(int *fd)
{
	safe_close(*fd);
}

static inline uint64_t timespec_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

static inline struct timeval ns_to_timeval(uint64_t ns)
{
	return (struct timeval){
	    .tv_sec = (time_t)(ns / 1000000000ULL),
	    .tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000),
	};
}

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/* In a child of the daemon about to exec something of a run's: no signal
 * blocked, and the daemon's shield from the OOM killer dropped (raising
 * oom_score_adj needs no privilege). Allocates nothing: safe between
 * fork and exec. */
void child_unshield(void);

/* Undo /proc/<pid>/mountinfo's escapes (space, tab, newline and
 * backslash as \ooo), in place. */
void mountinfo_unescape(char *s);

/* Negative errno of the last failed libc call, never 0. */
static inline int negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Resident memory of process pid (0: this one), from /proc/PID/statm;
 * 0 if it cannot be read. */
uint64_t proc_rss_bytes(pid_t pid);

/* Equal strings, or both NULL. */
static inline bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}
