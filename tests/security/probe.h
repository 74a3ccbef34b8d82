/*
 * Shared by the security probes: small static programs that run inside a
 * sandbox, attack one guarantee, and say what happened in lines a test
 * can check without guessing:
 *
 *   PROBE <name> CHECK <check> OK <detail>
 *   PROBE <name> CHECK <check> FAIL <detail>
 *   PROBE <name> INFO <key> <value>
 *   PROBE <name> VERDICT pass|fail <ok>/<total>
 *
 * A probe exits 0 only if every check saw the attack fail in the expected
 * way (and it made at least one check). Nothing here allocates after
 * start-up, so a probe behaves the same in any profile, bare included.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PROBE_BAD_PTR ((void *)-4096L) /* never mapped: EFAULT if used */

/* Name the probe and the fd its lines go to (1 unless told otherwise). */
void probe_begin(const char *name, int out_fd);

/* Record one check; detail is printf-style. Returns ok. */
bool probe_check(const char *check, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An informational line the test may parse (ids, paths, counts). */
void probe_info(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print the verdict; the exit status for main(). */
int probe_end(void);

/* "EPERM", "EFAULT", ... or the number. */
const char *probe_errno_name(int err);

/* Read a small file into buf (NUL-terminated); bytes read or -errno. */
long probe_read_file(const char *path, char *buf, size_t len);

/* The value after "key:" in /proc/self/status, NULL if absent. */
const char *probe_status_field(const char *key, char *buf, size_t len);
