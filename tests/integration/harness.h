/*
 * Integration test harness: starts a real boxd on a private socket and
 * state directory (with its own cgroup root), connects to it as any uid,
 * and runs commands through libboxclient. Tests that need what the host
 * lacks skip with the reason printed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "boxclient.h"

struct daemon {
	pid_t pid;
	char dir[64];
	char sock[128];
	char cgroup_mode[8];   /* "v2", "v1", "none" */
	char cgroup_root[256]; /* what --cgroup-root got ("" for none) */
	char log[128];
	/* Set before daemon_start (which clears the rest): start it without
	 * CAP_KILL, as the hardened systemd unit does, so that it cannot
	 * signal other users' processes. */
	bool without_cap_kill;
	/* Also kept by daemon_start: start it with SIGHUP, SIGINT, SIGQUIT,
	 * SIGUSR1 and SIGTSTP ignored, as a shell script's `nohup boxd &`
	 * or a careless service manager would hand it over. */
	bool ignoring_signals;
};

/* How long a test waits for something that must happen (a process to
 * appear or go, a cgroup to be removed, the daemon to start or exit)
 * before it calls it a failure. The machines are shared and a loaded one
 * can be slow: the waits end as soon as the thing happens, so this only
 * bounds a real failure. */
#define TEST_PATIENCE_MS 60000

/* Skips the current test (with the reason) unless root. */
void require_root(void);

/* Start boxd with extra arguments (NULL-terminated, may be NULL) and an
 * optional config text. Aborts the test on failure. */
void daemon_start(struct daemon *d, const char *const *extra,
		  const char *config_text);
void daemon_stop(struct daemon *d);
/* SIGKILL, no cleanup: for crash-recovery tests. */
void daemon_kill9(struct daemon *d);
/* Start boxd again (after daemon_kill9) on the same socket, state
 * directory and cgroup root, as a restart after a crash would. */
void daemon_restart(struct daemon *d, const char *const *extra,
		    const char *config_text);
bool daemon_alive(const struct daemon *d);

/* A socket connected to the daemon by a process with these credentials
 * (groups may be NULL), which stays alive until the test ends: the
 * daemon identifies a peer by the process that connected. */
int socket_as(const struct daemon *d, uid_t uid, gid_t gid, const gid_t *groups,
	      size_t n_groups);

/* Connect as uid/gid (credentials are those at connect time). */
box_client *connect_as(const struct daemon *d, uid_t uid, gid_t gid);
box_client *connect_root(const struct daemon *d);

/* A spec running argv with the default profile. */
box_spec *spec_argv(const char *const *argv);

/* Run spec with stdin from in (NULL: empty) and capture stdout/stderr.
 * Returns the run (freed by caller) and sets out and err (malloc'd, NUL
 * terminated). */
box_run *run_capture(box_client *c, const box_spec *s, const char *in,
		     char **out, char **err);

/* Shell one-liner in the default profile, as root; returns stdout. */
char *sh_out(const struct daemon *d, const char *script, int *ret_status);

/* Count processes whose command line starts with needle. */
int count_procs(const char *needle);

/*
 * Run cgroups under the daemon's root (the memory hierarchy on v1) that
 * hold no process: a cold run's run-<id>, or a sandbox-<n> whose member
 * is gone. A run that ended, by any path, leaves none for long; an idle
 * pool member's sandbox-<n> holds its pid 1, and one being refilled is
 * empty only until its member is cloned into it. -1 without cgroups.
 */
int empty_run_cgroups(const struct daemon *d);

/*
 * "$BOXCTL_BIN --socket <d's socket> ARGS" through the shell (args are
 * shell-quoted; with_stderr adds 2>&1): its stdout in *out (malloc'd),
 * its exit status returned. Without BOXCTL_BIN (not run by meson test)
 * the test is skipped, d stopped first: a skip runs no .fini.
 */
int boxctl_shell(struct daemon *d, const char *args, bool with_stderr,
		 char **out);

/* True if the path exists. */
bool path_exists(const char *path);

/* Directory of test helper programs (probes), from the environment. */
const char *probe_dir(void);

/* First child of parent found in /proc, or -1. */
pid_t child_of(pid_t parent);
/* Up to max children of parent (from /proc), into out; returns how many. */
int children_of(pid_t parent, pid_t *out, int max);
/* Name of the process (/proc/<pid>/comm) into buf; false if it is gone. */
bool proc_comm(pid_t pid, char *buf, size_t len);

/* A world-writable directory (for fresh test directories) whose
 * filesystem can hold an overlay's upper layer: /tmp, unless it is an
 * overlayfs itself (as in the test VM), then /dev/shm; NULL if neither. */
const char *overlay_upper_base(void);

/* True if the host has swap space in use as swap (a line in /proc/swaps
 * beyond its header). A memory limit cannot keep a run from swapping
 * where it has and the cgroup has no swap accounting. */
bool host_has_swap(void);

/* True if an executable name is in one of the directories of the
 * sandbox's PATH on the host (the default profile binds them in). */
bool host_has_program(const char *name);
