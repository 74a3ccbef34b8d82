/*
 * Helpers for the security tests (tests/security/test-*.c), on top of the
 * integration harness: probes copied into a private directory and bound
 * into sandboxes, probe verdicts, connections with chosen credentials
 * (supplementary groups included) whose refusal is the expected outcome,
 * long "victim" runs held open while another sandbox attacks them, and
 * waiting for the daemon to log an event.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

#define NOBODY 65534
#define SEC_PROBES "/probes" /* where probes appear inside a sandbox */

/* The host directory holding this test's probe copies (root-owned 0755,
 * created on first use, removed by sec_cleanup()). */
const char *sec_probe_dir(void);
/* Copy probe into it (once) and return the copy's host path. */
const char *sec_probe_copy(const char *probe);
/* Remove every path given to sec_track(), and the probe directory. Call
 * from the suite's fini: it runs even when an assertion ended the test. */
void sec_cleanup(void);
/* Assert path (a fresh mkdtemp() result) is not NULL and have
 * sec_cleanup() remove it with everything in it. */
void sec_track(const char *path);

/* A default-profile spec running /probes/PROBE with args (NULL-terminated,
 * may be NULL), the probe directory bound read-only on /probes. */
box_spec *sec_spec(const char *probe, const char *const *args);
/* Bind the probe directory into any spec (bare profiles too). */
void sec_bind_probes(box_spec *s);

/* run_capture(), then print stdout/stderr/error when the test fails. */
box_run *sec_run(box_client *c, const box_spec *s, char **out, char **err);
/* Assert the probe ran, exited 0 and printed "VERDICT pass". */
void sec_expect_pass(const box_run *run, const char *out, const char *err);
/* sec_run() then sec_expect_pass(), releasing what they made. */
void sec_run_expect_pass(box_client *c, const box_spec *s);
/* Assert the run was refused or failed with code, message holding each
 * needle (NULL-terminated list). */
void sec_expect_error(const box_run *run, enum box_error_code code,
		      const char *const *needles);
/* The value of "PROBE <p> INFO <key> <value>" in text, or false. */
bool sec_info(const char *text, const char *key, char *buf, size_t len);

/* A socket connected to the daemon with these credentials (groups may be
 * NULL): what connect_as() does, minus the handshake and its asserts. */
int sec_socket_as(const struct daemon *d, uid_t uid, gid_t gid,
		  const gid_t *groups, size_t n_groups);
/* sec_socket_as() + box_client_connect_fd(); returns its result and the
 * client in *ret (always set: box_client_last_error() tells a refusal). */
int sec_connect(const struct daemon *d, uid_t uid, gid_t gid,
		const gid_t *groups, size_t n_groups, box_client **ret);

/* A run held open: started, READY read from its stdout, still alive. */
struct sec_bg {
	box_client *c;
	box_run *run;
	int in, out, err; /* our ends of its stdio pipes */
	char head[4096];  /* stdout up to and including READY */
};
void sec_bg_start(struct sec_bg *bg, box_client *c, const box_spec *s);
/* The host pid of its command (the child of the sandbox's pid 1). */
pid_t sec_bg_command_pid(const struct sec_bg *bg);
/* Read more of its stdout into head, until needle shows up. */
void sec_bg_read_until(struct sec_bg *bg, const char *needle);
/* Close its stdin, collect the rest of its output, wait for the record. */
void sec_bg_finish(struct sec_bg *bg, char **out, char **err);

/* First child of parent found in /proc, or -1. */
pid_t sec_child_of(pid_t parent);
/* The host uid a process runs as (real uid, /proc/PID/status), -1 if
 * it cannot be read. */
long sec_host_uid(pid_t pid);
/* Whole file, malloc'd (NULL if unreadable). */
char *sec_read_file(const char *path);
/* Block until the daemon's log holds needle count times. */
void sec_wait_log(const struct daemon *d, const char *needle, int count);
