/*
 * A sandbox's walls, attacked from inside: descriptors and directories
 * that could lead out, masked and read-only parts of /proc, host-global
 * knobs (core_pattern, sysrq, cgroup files), setuid binaries and uid 0
 * inside, the daemon's environment, socket and cgroups, and symlink
 * tricks in requests that would make pid 1 touch host paths.
 *
 * The daemon starts with systemd's service variables in its environment,
 * so the environment test has something to leak.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec.h"

#define SECRET_GID 4242 /* a group the tenant is in */

static struct daemon d;

static const char *const service_vars[][2] = {
    {"NOTIFY_SOCKET", "@boxd-security-test-notify"},
    {"LISTEN_FDS", "1"},
    {"LISTEN_FDNAMES", "boxd"},
    {"INVOCATION_ID", "5ec0c0de5ec0c0de5ec0c0de5ec0c0de"},
    {"JOURNAL_STREAM", "8:424242"},
    {"WATCHDOG_USEC", "30000000"},
};

static void setup(void)
{
	require_root();
	/* What systemd would hand the service (harness.c execs boxd with
	 * our environment). */
	for (size_t i = 0; i < sizeof(service_vars) / sizeof(service_vars[0]);
	     i++)
		setenv(service_vars[i][0], service_vars[i][1], 1);
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(confinement, .init = setup, .fini = teardown, .timeout = 180);

/* cr_skip_test() leaves the test without running its .fini: tear down
 * first, or the daemon outlives the test. */
#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

static box_client *connect_caller(bool root)
{
	return root ? connect_root(&d) : connect_as(&d, NOBODY, NOBODY);
}

static char *read_all(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	cr_assert_not_null(buf);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len + 1 >= cap)
			cr_assert_not_null(buf = realloc(buf, cap *= 2));
	}
	buf[len] = 0;
	return buf;
}

/* Run with a chosen stdin; stdout and stderr through pipes. */
static box_run *run_with_stdin(box_client *c, const box_spec *s, int in,
			       char **out, char **err)
{
	int pout[2], perr[2];
	box_run *run = NULL;

	cr_assert(pipe2(pout, O_CLOEXEC) == 0 && pipe2(perr, O_CLOEXEC) == 0);
	cr_assert(box_run_start(c, s, in, pout[1], perr[1], &run) >= 0);
	close(pout[1]);
	close(perr[1]);
	*out = read_all(pout[0]);
	*err = read_all(perr[0]);
	close(pout[0]);
	close(perr[0]);
	box_run_wait(run);
	return run;
}

/* ---- descriptors, cwd, root ---- */

Test(confinement, only_stdio_is_open_and_no_fd_leads_out)
{
	char host_root[64];
	struct stat st;

	cr_assert(stat("/", &st) == 0);
	snprintf(host_root, sizeof(host_root), "%llu:%llu",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	for (int root = 0; root < 2; root++) {
		const char *const args[] = {"--host-root", host_root, NULL};
		box_client *c = connect_caller(root);
		box_spec *s = sec_spec("probe-fds", args);
		int sp[2], pty, file;
		int ins[4];

		/* Each kind of stdin a caller may pass. */
		cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				     sp) == 0);
		pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		cr_assert(pty >= 0 && grantpt(pty) == 0 && unlockpt(pty) == 0);
		file = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		ins[0] = -1; /* /dev/null from the library */
		ins[1] = sp[1];
		ins[2] = open(ptsname(pty), O_RDWR | O_NOCTTY | O_CLOEXEC);
		ins[3] = file;
		for (int i = 0; i < 4; i++) {
			char *out, *err;
			box_run *run = run_with_stdin(c, s, ins[i], &out, &err);

			sec_expect_pass(run, out, err);
			free(out);
			free(err);
			box_run_free(run);
		}
		for (int i = 1; i < 4; i++)
			close(ins[i]);
		close(sp[0]);
		close(pty);
		box_spec_free(s);
		box_client_free(c);
	}
}

/* ---- /proc and /sys ---- */

Test(confinement, proc_is_masked_and_sys_is_absent)
{
	const char *const args[] = {"--no-sys", NULL};

	for (int root = 0; root < 2; root++) {
		box_client *c = connect_caller(root);
		box_spec *s = sec_spec("probe-procfs", args);

		sec_run_expect_pass(c, s);
		box_spec_free(s);
		box_client_free(c);
	}
}

/* ---- host-global knobs ---- */

/* Host-global knobs a root caller's sandbox would pass the DAC checks
 * of. randomize_va_space only takes 0-2, so the probe's payload could
 * not change it even if a write got through. */
static const char *const knobs[] = {
    "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/randomize_va_space",
    "/proc/sys/kernel/modprobe",     "/proc/sys/kernel/sysrq",
    "/proc/sysrq-trigger",
};
#define N_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

Test(confinement, host_sysctls_and_sysrq_cannot_be_written)
{
	char *before[N_KNOBS];
	bool present[N_KNOBS];

	for (size_t i = 0; i < N_KNOBS; i++) {
		present[i] = access(knobs[i], F_OK) == 0;
		/* sysrq-trigger is write-only: its presence is enough. */
		before[i] = present[i] ? sec_read_file(knobs[i]) : NULL;
		if (!present[i])
			cr_log_info("%s does not exist on this host: not tried",
				    knobs[i]);
	}
	if (!present[0]) {
		for (size_t i = 0; i < N_KNOBS; i++)
			free(before[i]);
		skip_test("this kernel has no %s (no sysctl support): no "
			  "host knob to protect",
			  knobs[0]);
	}
	for (int root = 0; root < 2; root++) {
		/* uid 0 passes the DAC checks of these files: only the
		 * read-only mount (and the /dev/null mask) stop it, so
		 * demand EROFS; anyone else is stopped by DAC first. */
		const char *want = root ? "EROFS" : "EACCES|EROFS";
		char a[N_KNOBS][96];
		const char *args[N_KNOBS + 1];
		box_client *c = connect_caller(root);
		size_t n = 0;
		box_spec *s;

		for (size_t i = 0; i < N_KNOBS; i++)
			if (present[i]) {
				snprintf(a[n], sizeof(a[n]), "%s:%s", want,
					 knobs[i]);
				args[n] = a[n];
				n++;
			}
		args[n] = NULL;
		s = sec_spec("probe-hostwrite", args);
		sec_run_expect_pass(c, s);
		box_spec_free(s);
		box_client_free(c);
	}
	for (size_t i = 0; i < N_KNOBS; i++) {
		char *after = present[i] ? sec_read_file(knobs[i]) : NULL;

		cr_expect_str_eq(after ? after : "", before[i] ? before[i] : "",
				 "host %s changed", knobs[i]);
		free(before[i]);
		free(after);
	}
}

/* The host files behind the run's cgroups, and the same paths as the
 * sandbox sees them under /hostcg. */
struct cg_targets {
	int n;
	char host[16][384];
	char inside[16][384];
	char value[16][128];
};

static void add_target(struct cg_targets *t, const char *rel)
{
	char *v;

	if (t->n >= 16)
		return;
	snprintf(t->host[t->n], sizeof(t->host[0]), "/sys/fs/cgroup/%s", rel);
	if (access(t->host[t->n], F_OK) != 0)
		return;
	snprintf(t->inside[t->n], sizeof(t->inside[0]), "/hostcg/%s", rel);
	v = sec_read_file(t->host[t->n]);
	snprintf(t->value[t->n], sizeof(t->value[0]), "%s", v ? v : "");
	free(v);
	t->n++;
}

static void find_targets(pid_t init, struct cg_targets *t)
{
	char path[64], line[512], rel[512];
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)init);
	f = fopen(path, "re");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *cg;

		if (!ctl || !(cg = strchr(ctl + 1, ':')))
			continue;
		*cg++ = 0;
		ctl++;
		cg[strcspn(cg, "\n")] = 0;
		if (strcmp(cg, "/") == 0)
			continue;
		if (!*ctl) { /* cgroup v2 */
			static const char *const files[] = {
			    "memory.max",
			    "pids.max",
			    "cpu.max",
			    "cgroup.procs",
			    "cgroup.subtree_control",
			};
			for (size_t i = 0; i < 5; i++) {
				snprintf(rel, sizeof(rel), "%s/%s", cg + 1,
					 files[i]);
				add_target(t, rel);
			}
		} else if (strcmp(ctl, "memory") == 0) {
			snprintf(rel, sizeof(rel),
				 "memory%s/memory.limit_in_bytes", cg);
			add_target(t, rel);
			snprintf(rel, sizeof(rel), "memory%s/cgroup.procs", cg);
			add_target(t, rel);
			snprintf(rel, sizeof(rel), "memory%s/notify_on_release",
				 cg);
			add_target(t, rel);
			/* The v1 escape of CVE-2022-0492. */
			add_target(t, "memory/release_agent");
		} else if (strcmp(ctl, "pids") == 0) {
			snprintf(rel, sizeof(rel), "pids%s/pids.max", cg);
			add_target(t, rel);
		} else if (strcmp(ctl, "cpu,cpuacct") == 0 ||
			   strcmp(ctl, "cpu") == 0) {
			/* Co-mounted with cpuacct, or on its own. */
			snprintf(rel, sizeof(rel), "%s%s/cpu.cfs_quota_us", ctl,
				 cg);
			add_target(t, rel);
		}
	}
	fclose(f);
}

/* The held write attack on the run's own cgroup files, through a
 * read-only bind of the host's cgroup tree. */
static void attack_cgroup_files(box_client *c, bool root)
{
	const char *const args[] = {"--stdin", NULL};
	box_spec *s = sec_spec("probe-hostwrite", args);
	struct cg_targets t;
	struct sec_bg bg;
	char *out, *err;

	cr_assert(box_spec_ro_bind(s, "/sys/fs/cgroup", "/hostcg") >= 0);
	/* Limits give the files values to compare; only those this host
	 * enforces, or the run would be refused. */
	if (box_host_can_limit(box_client_host(c), "memory"))
		box_spec_set_memory(s, 64 << 20);
	if (box_host_can_limit(box_client_host(c), "pids"))
		box_spec_set_pids(s, 64);
	sec_bg_start(&bg, c, s);
	find_targets((pid_t)box_run_pid(bg.run), &t);
	cr_assert_gt(t.n, 0, "found none of the run's cgroup files");
	for (int i = 0; i < t.n; i++)
		dprintf(bg.in, "%s:%s\n", root ? "EROFS" : "EACCES|EROFS",
			t.inside[i]);
	dprintf(bg.in, "\n");
	sec_bg_read_until(&bg, " VERDICT ");
	/* Read back while the run (and its cgroup) still exists. */
	for (int i = 0; i < t.n; i++) {
		char *now = sec_read_file(t.host[i]);

		cr_expect_str_eq(now ? now : "", t.value[i], "%s changed",
				 t.host[i]);
		free(now);
	}
	sec_bg_finish(&bg, &out, &err);
	sec_expect_pass(bg.run, out, err);
	free(out);
	free(err);
	box_run_free(bg.run);
	box_spec_free(s);
}

/*
 * The host's cgroup files: the daemon's, other tenants', the run's own
 * limits. A sandbox must not write any of them. Binding a cgroup tree
 * (or anything holding one) in is either refused outright, or, where a
 * bind goes ahead, every write through it fails and the host's values
 * stay put.
 */
Test(confinement, cgroup_files_cannot_be_written)
{
	static const char *const sources[] = {"/sys/fs/cgroup", "/sys/fs",
					      "/sys"};

	if (strcmp(d.cgroup_mode, "none") == 0)
		skip_test("no usable cgroup controllers on this host");
	for (int root = 0; root < 2; root++) {
		box_client *c = connect_caller(root);

		for (size_t i = 0; i < 3; i++)
			for (int rw = 0; rw < 2; rw++) {
				box_spec *s = sec_spec("probe-wait", NULL);
				const box_error *e;
				char *out, *err;
				box_run *run;

				if (rw)
					box_spec_bind(s, sources[i], "/hostcg");
				else
					box_spec_ro_bind(s, sources[i],
							 "/hostcg");
				run = sec_run(c, s, &out, &err);
				e = box_run_error(run);
				if (e) {
					/* Refused: as the caller (EACCES) or
					 * as a kernel filesystem (EPERM). */
					cr_expect_str_eq(box_error_step(e),
							 "bind source", "%s",
							 box_error_message(e));
					cr_expect(box_error_errno(e) == EPERM ||
						      box_error_errno(e) ==
							  EACCES,
						  "%s", box_error_message(e));
				} else if (rw) {
					cr_expect_fail("a writable bind of %s "
						       "went ahead (%s)",
						       sources[i],
						       root ? "root"
							    : "tenant");
				} else if (i == 0) {
					cr_log_info("%s: read-only bind "
						    "allowed; attacking the "
						    "files through it",
						    sources[i]);
					attack_cgroup_files(c, root);
				}
				free(out);
				free(err);
				box_run_free(run);
				box_spec_free(s);
			}
		box_client_free(c);
	}
}

/*
 * A bind source that lies on a kernel filesystem, deep enough that no
 * other mount sits below it (a run's own v1 memory cgroup directory, a
 * sysfs leaf directory): refused for what it is, judged by the opened
 * source's filesystem type. Each type is tried where this host has it
 * mounted; the directory is found on the host first.
 */
static const struct {
	const char *type;
	unsigned long magic;
	const char *const candidates[4];
} kernel_fs_sources[] = {
    {"proc", 0x9fa0, {"/proc/sys/kernel", "/proc/self", NULL}},
    {"sysfs", 0x62656572, {"/sys/kernel/mm", "/sys/kernel", NULL}},
    {"cgroup",
     0x27e0eb,
     {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu",
      NULL}},
    {"cgroup2", 0x63677270, {"/sys/fs/cgroup", "/sys/fs/cgroup/unified", NULL}},
    {"debugfs", 0x64626720, {"/sys/kernel/debug", NULL}},
    {"tracefs",
     0x74726163,
     {"/sys/kernel/tracing", "/sys/kernel/debug/tracing", NULL}},
    {"securityfs", 0x73636673, {"/sys/kernel/security", NULL}},
    {"bpf", 0xcafe4a11, {"/sys/fs/bpf", NULL}},
    {"configfs", 0x62656570, {"/sys/kernel/config", NULL}},
    {"pstore", 0x6165676c, {"/sys/fs/pstore", NULL}},
    {"efivarfs", 0xde5e81e4, {"/sys/firmware/efi/efivars", NULL}},
    {"binfmt_misc", 0x42494e4d, {"/proc/sys/fs/binfmt_misc", NULL}},
    {"fusectl", 0x65735543, {"/sys/fs/fuse/connections", NULL}},
    {"mqueue", 0x19800202, {"/dev/mqueue", NULL}},
};

static bool on_fs(const char *p, unsigned long magic)
{
	struct statfs sfs;
	struct stat st;

	return statfs(p, &sfs) == 0 && stat(p, &st) == 0 &&
	       S_ISDIR(st.st_mode) && (unsigned long)sfs.f_type == magic;
}

static const char *kernel_fs_dir(size_t i)
{
	static char own[512];

	/* The daemon's own cgroup directory first: a plain directory of
	 * the cgroup filesystem with no mount below it, like a run's. */
	snprintf(own, sizeof(own), "%s%s",
		 strcmp(d.cgroup_mode, "v1") == 0 ? "/sys/fs/cgroup/memory/"
						  : "",
		 d.cgroup_root);
	if (d.cgroup_root[0] && on_fs(own, kernel_fs_sources[i].magic))
		return own;
	for (size_t j = 0; kernel_fs_sources[i].candidates[j]; j++) {
		const char *p = kernel_fs_sources[i].candidates[j];

		if (on_fs(p, kernel_fs_sources[i].magic))
			return p;
	}
	return NULL;
}

Test(confinement, binds_on_kernel_filesystems_are_refused)
{
	box_client *c = connect_root(&d);
	unsigned tried = 0;

	for (size_t i = 0;
	     i < sizeof(kernel_fs_sources) / sizeof(kernel_fs_sources[0]);
	     i++) {
		const char *src = kernel_fs_dir(i);

		if (!src) {
			cr_log_info("%s: not mounted on this host",
				    kernel_fs_sources[i].type);
			continue;
		}
		for (int rw = 0; rw < 2; rw++) {
			box_spec *s = sec_spec("probe-wait", NULL);
			const box_error *e;
			char *out, *err;
			box_run *run;

			if (rw)
				box_spec_bind(s, src, "/kfs");
			else
				box_spec_ro_bind(s, src, "/kfs");
			run = sec_run(c, s, &out, &err);
			e = box_run_error(run);
			cr_expect_not_null(e, "%s bind of %s (%s) went ahead",
					   rw ? "a writable" : "a read-only",
					   src, kernel_fs_sources[i].type);
			if (e) {
				cr_expect_str_eq(box_error_step(e),
						 "bind source", "%s",
						 box_error_message(e));
				cr_expect_eq(box_error_errno(e), EPERM, "%s",
					     box_error_message(e));
				cr_expect(strstr(box_error_message(e),
						 "kernel filesystem"),
					  "%s", box_error_message(e));
			}
			free(out);
			free(err);
			box_run_free(run);
			box_spec_free(s);
		}
		tried++;
	}
	box_client_free(c);
	cr_assert_gt(tried, 0, "no kernel filesystem found to bind");
}

/* ---- privileges ---- */

Test(confinement, setuid_root_binary_gains_nothing)
{
	char dir[] = "/tmp/boxd-test-suid-XXXXXX", path[128];
	const char *argv[] = {
	    "/suid/probe-privs", "--uid", "65534", "--nosuid", "/suid",
	    "--nosuid",          "/usr",  NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = spec_argv(argv);
	struct stat st;
	char cmd[512];

	sec_track(mkdtemp(dir));
	cr_assert(chmod(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/probe-privs", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", sec_probe_copy("probe-privs"),
		 path);
	cr_assert(system(cmd) == 0);
	cr_assert(chown(path, 0, 0) == 0 && chmod(path, 04755) == 0);
	cr_assert(stat(path, &st) == 0 && (st.st_mode & S_ISUID) &&
		      st.st_uid == 0,
		  "the copy is not setuid root");
	cr_assert(box_spec_ro_bind(s, dir, "/suid") >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

Test(confinement, uid_0_inside_has_no_capabilities)
{
	const char *const args[] = {"--uid", "0", "--nosuid", SEC_PROBES, NULL};

	/* A root caller: uid 0 inside is host uid 0. */
	for (int root = 0; root < 2; root++) {
		box_client *c = connect_caller(root);
		box_spec *s = sec_spec("probe-privs", args);

		/* For nobody: uid 0 inside, mapped to 65534 outside. */
		cr_assert(box_spec_set_uid(s, 0) >= 0);
		cr_assert(box_spec_set_gid(s, 0) >= 0);
		sec_run_expect_pass(c, s);
		box_spec_free(s);
		box_client_free(c);
	}
}

/* ---- the daemon's environment, socket and cgroups ---- */

Test(confinement, environment_is_scrubbed_and_the_daemon_unreachable)
{
	char path[64], state[160], env[65536];
	ssize_t n;
	int fd;

	/* The premise: the daemon itself did get them (its environ is
	 * NUL-separated; make it one string). */
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)d.pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	n = read(fd, env, sizeof(env) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	env[n] = 0;
	for (ssize_t i = 0; i < n; i++)
		if (!env[i])
			env[i] = '\n';
	for (size_t i = 0; i < sizeof(service_vars) / sizeof(service_vars[0]);
	     i++)
		cr_assert(strstr(env, service_vars[i][0]),
			  "the daemon did not get %s", service_vars[i][0]);

	snprintf(state, sizeof(state), "%s/state", d.dir);
	for (int root = 0; root < 2; root++) {
		const char *const args[] = {
		    "--allow", "REQUESTED", "--gone",
		    d.sock,    "--gone",    d.dir,
		    "--gone",  state,       "--not-in-mountinfo",
		    d.dir,     NULL,
		};
		box_client *c = connect_caller(root);
		box_spec *s = sec_spec("probe-env", args);

		cr_assert(box_spec_setenv(s, "REQUESTED", "yes") >= 0);
		sec_run_expect_pass(c, s);
		box_spec_free(s);
		box_client_free(c);
	}
}

/* ---- symlinks in requests ---- */

static bool dir_is_empty(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "[ -z \"$(ls -A %s)\" ]", path);
	return system(cmd) == 0;
}

static bool host_has_mount_at(const char *path)
{
	char *info = sec_read_file("/proc/self/mountinfo");
	char needle[256];
	bool found;

	snprintf(needle, sizeof(needle), " %s ", path);
	found = info && strstr(info, needle);
	free(info);
	return found;
}

Test(confinement, request_symlink_to_a_host_path_stays_inside)
{
	char host[] = "/tmp/boxd-test-target-XXXXXX";
	char src[] = "/tmp/boxd-test-src-XXXXXX";
	const char *argv[] = {"/bin/sh", "-c",
			      "echo x > /evil/tmpfs/file && ls /evil", NULL};
	box_client *c = connect_root(&d);
	box_spec *s;
	char *out, *err;
	box_run *run;

	sec_track(mkdtemp(host));
	sec_track(mkdtemp(src));

	/* /evil -> a host path; then mounts and a directory through it.
	 * Resolved inside the sandbox's root, the path names a directory
	 * in the sandbox's own /tmp (made first, so the operations have
	 * somewhere to go): nothing may appear in the host directory. */
	s = spec_argv(argv);
	cr_assert(box_spec_dir(s, host, 0755) >= 0);
	cr_assert(box_spec_symlink(s, host, "/evil") >= 0);
	cr_assert(box_spec_dir(s, "/evil/made", 0755) >= 0);
	cr_assert(box_spec_tmpfs(s, "/evil/tmpfs", 1 << 20, 0755) >= 0);
	cr_assert(box_spec_ro_bind(s, src, "/evil/bound") >= 0);
	run = sec_run(c, s, &out, &err);
	cr_expect_eq(box_run_exit_status(run), 0, "%s %s", err,
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "");
	cr_expect_str_eq(out, "bound\nmade\ntmpfs\n");
	cr_expect(dir_is_empty(host), "the host directory %s was written",
		  host);
	cr_expect(!host_has_mount_at(host), "something is mounted on %s", host);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* Dangling inside: refused or done inside, never on the host. */
	s = spec_argv(argv);
	cr_assert(box_spec_symlink(s, host, "/evil") >= 0);
	cr_assert(box_spec_dir(s, "/evil/made", 0755) >= 0);
	cr_assert(box_spec_tmpfs(s, "/evil/tmpfs", 1 << 20, 0755) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_expect(dir_is_empty(host), "the host directory %s was written",
		  host);
	cr_expect(!host_has_mount_at(host), "something is mounted on %s", host);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(confinement, request_symlink_through_proc_self_root_is_refused)
{
	char host[] = "/tmp/boxd-test-target-XXXXXX", link[128];
	const char *const errs[] = {"/evil", NULL};
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	sec_track(mkdtemp(host));
	/* A magic link would hand pid 1 whatever root /proc says: the
	 * resolution must refuse it rather than follow. */
	snprintf(link, sizeof(link), "/proc/self/root%s", host);
	cr_assert(box_spec_symlink(s, link, "/evil") >= 0);
	cr_assert(box_spec_dir(s, "/evil/made", 0755) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_SETUP_FAILED, errs);
	cr_expect_eq(box_error_errno(box_run_error(run)), ELOOP, "%s",
		     box_error_message(box_run_error(run)));
	cr_expect(dir_is_empty(host), "the host directory %s was written",
		  host);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(confinement, symlink_planted_by_one_run_stays_inside_the_next)
{
	char work[] = "/tmp/boxd-test-work-XXXXXX";
	char host[] = "/tmp/boxd-test-target-XXXXXX";
	char src[] = "/tmp/boxd-test-src-XXXXXX";
	char script[256], link[160], target[160] = "";
	const char *plant[] = {"/bin/sh", "-c", script, NULL};
	const char *use[] = {"/bin/true", NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s;
	char *out, *err;
	box_run *run;

	/* Both owned by the tenant: a write that reached the host would
	 * succeed, so an empty directory afterwards means something. */
	sec_track(mkdtemp(work));
	sec_track(mkdtemp(host));
	sec_track(mkdtemp(src));
	cr_assert(chown(work, NOBODY, NOBODY) == 0 &&
		  chown(host, NOBODY, NOBODY) == 0 && chmod(host, 0755) == 0 &&
		  chmod(src, 0755) == 0);

	snprintf(script, sizeof(script), "ln -s %s /w/link", host);
	s = spec_argv(plant);
	cr_assert(box_spec_bind(s, work, "/w") >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert_eq(box_run_exit_status(run), 0, "%s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	snprintf(link, sizeof(link), "%s/link", work);
	cr_assert(readlink(link, target, sizeof(target) - 1) > 0 &&
		      strcmp(target, host) == 0,
		  "the planted link is missing");

	/* The next run mounts and creates through the planted link. */
	s = spec_argv(use);
	cr_assert(box_spec_bind(s, work, "/w") >= 0);
	cr_assert(box_spec_dir(s, "/w/link/made", 0755) >= 0);
	cr_assert(box_spec_tmpfs(s, "/w/link/tmpfs", 1 << 20, 0755) >= 0);
	cr_assert(box_spec_ro_bind(s, src, "/w/link/bound") >= 0);
	run = sec_run(c, s, &out, &err);
	/* Refused or done inside: either way, not on the host. */
	cr_expect(dir_is_empty(host), "the host directory %s was written",
		  host);
	cr_expect(!host_has_mount_at(host), "something is mounted on %s", host);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(confinement, bind_source_symlink_into_an_unreadable_directory_is_refused)
{
	char priv[] = "/tmp/boxd-test-priv-XXXXXX";
	char links[] = "/tmp/boxd-test-links-XXXXXX";
	char inner[128], link[128];
	const char *const errs[] = {link, NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = sec_spec("probe-wait", NULL);
	char *out, *err;
	box_run *run;

	sec_track(mkdtemp(priv)); /* root's, 0700 */
	sec_track(mkdtemp(links));
	cr_assert(chmod(links, 0755) == 0);
	snprintf(inner, sizeof(inner), "%s/inner", priv);
	cr_assert(mkdir(inner, 0755) == 0);
	snprintf(link, sizeof(link), "%s/link", links);
	cr_assert(symlink(inner, link) == 0);

	cr_assert(box_spec_ro_bind(s, link, "/x") >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_SETUP_FAILED, errs);
	cr_expect_str_eq(box_error_step(box_run_error(run)), "bind source");
	cr_expect_eq(box_error_errno(box_run_error(run)), EACCES);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(confinement, bind_source_through_a_magic_link_is_refused)
{
	char links[] = "/tmp/boxd-test-links-XXXXXX", link[128];
	const char *sources[] = {"/proc/self/root/etc", link};

	sec_track(mkdtemp(links));
	cr_assert(chmod(links, 0755) == 0);
	snprintf(link, sizeof(link), "%s/via-proc", links);
	cr_assert(symlink("/proc/self/root/etc", link) == 0);
	for (int root = 0; root < 2; root++) {
		box_client *c = connect_caller(root);

		for (size_t i = 0; i < 2; i++) {
			const char *const errs[] = {sources[i], NULL};
			box_spec *s = sec_spec("probe-wait", NULL);
			char *out, *err;
			box_run *run;

			cr_assert(box_spec_ro_bind(s, sources[i], "/x") >= 0);
			run = sec_run(c, s, &out, &err);
			sec_expect_error(run, BOX_ERROR_SETUP_FAILED, errs);
			cr_expect_eq(box_error_errno(box_run_error(run)), ELOOP,
				     "%s",
				     box_error_message(box_run_error(run)));
			free(out);
			free(err);
			box_run_free(run);
			box_spec_free(s);
		}
		box_client_free(c);
	}
}

/* ---- supplementary groups ---- */

/* Can uid NOBODY with groups {SECRET_GID} read path on the host? */
static bool host_can_read(const char *path)
{
	gid_t g = SECRET_GID;
	pid_t pid = fork();
	int status;

	cr_assert(pid >= 0);
	if (pid == 0) {
		if (setgroups(1, &g) < 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(2);
		_exit(open(path, O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 2);
	return WEXITSTATUS(status) == 0;
}

static void write_secret(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	cr_assert(fd >= 0 && write(fd, "group-secret\n", 13) == 13);
	close(fd);
	cr_assert(chown(path, 0, SECRET_GID) == 0 && chmod(path, mode) == 0);
}

/*
 * "Everyone but this group": mode o+r, g-r. A member of the group is
 * denied on the host; a sandbox that carries none of the caller's groups
 * gets the "other" bits instead. engine.c writes setgroups "deny" so the
 * sandbox "can never drop a group", but it never had them.
 */
Test(confinement, negative_group_permissions_still_deny_the_caller)
{
	char dir[] = "/tmp/boxd-test-neg-XXXXXX";
	char open_dir[] = "/tmp/boxd-test-negf-XXXXXX";
	char file[128], file2[128];
	const gid_t groups[] = {SECRET_GID};
	const char *cat_x[] = {"/bin/cat", "/x/secret", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	/* A directory the group may not enter, with a file in it. */
	sec_track(mkdtemp(dir));
	cr_assert(chown(dir, 0, SECRET_GID) == 0 && chmod(dir, 0705) == 0);
	snprintf(file, sizeof(file), "%s/secret", dir);
	write_secret(file, 0604);
	/* An open directory with a file the group may not read. */
	sec_track(mkdtemp(open_dir));
	cr_assert(chmod(open_dir, 0755) == 0);
	snprintf(file2, sizeof(file2), "%s/secret", open_dir);
	write_secret(file2, 0604);
	cr_assert(!host_can_read(file) && !host_can_read(file2),
		  "premise: the caller cannot read either file on the host");

	cr_assert_geq(sec_connect(&d, NOBODY, NOBODY, groups, 1, &c), 0);

	/* 1. The bind source is resolved as the caller: refused. */
	s = spec_argv(cat_x);
	cr_assert(box_spec_ro_bind(s, dir, "/x") >= 0);
	run = sec_run(c, s, &out, &err);
	cr_expect_not_null(box_run_error(run),
			   "a directory the caller's group may not enter was "
			   "bound, and the sandbox read: %s",
			   out);
	cr_expect(!strstr(out, "group-secret"), "leaked: %s", out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* 2. Inside, the file keeps denying the caller. */
	s = spec_argv(cat_x);
	cr_assert(box_spec_ro_bind(s, open_dir, "/x") >= 0);
	run = sec_run(c, s, &out, &err);
	cr_expect(!strstr(out, "group-secret"),
		  "the sandbox read a file the caller's group may not read");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}
