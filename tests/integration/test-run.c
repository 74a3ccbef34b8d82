/*
 * End to end: a real boxd on a private socket runs real sandboxes. Covers
 * stdio through passed fds, exit status mapping, the isolation a sandbox
 * must see from inside, fd hygiene, and bad requests that must fail with
 * a clear error while the connection stays usable.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 60);

/* cr_skip_test() leaves the test without running its .fini: tear down
 * first, or the daemon outlives the test. */
#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

/* The interface checks read the sandbox's links with iproute2's ip,
 * which a minimal host may not have installed. */
static void require_ip(void)
{
	if (!host_has_program("ip"))
		skip_test("iproute2's ip is not installed on this host (the "
			  "sandbox gets its programs from the host's /usr)");
}

static box_run *sh(box_client *c, const char *script, char **out, char **err)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	box_spec *s = spec_argv(argv);
	box_run *run = run_capture(c, s, NULL, out, err);

	box_spec_free(s);
	return run;
}

Test(run, stdio_flows_through_the_passed_fds)
{
	const char *argv[] = {
	    "/bin/sh", "-c",
	    "read line; echo \"out:$line\"; echo err >&2; exit 7", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run = run_capture(c, s, "hello\n", &out, &err);

	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	cr_assert_null(box_run_error(run));
	cr_expect_str_eq(out, "out:hello\n");
	cr_expect_str_eq(err, "err\n");
	cr_expect_eq(box_result_termination(box_run_result(run)),
		     BOX_TERM_EXITED);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 7);
	cr_expect_eq(box_run_exit_status(run), 7);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, signal_maps_to_128_plus_n)
{
	box_client *c = connect_root(&d);
	char *out, *err;
	box_run *run = sh(c, "kill -TERM $$", &out, &err);

	cr_assert_eq(box_result_termination(box_run_result(run)),
		     BOX_TERM_SIGNALED);
	cr_expect_eq(box_result_signal(box_run_result(run)), SIGTERM);
	cr_expect_eq(box_run_exit_status(run), 128 + SIGTERM);
	free(out);
	free(err);
	box_run_free(run);
	box_client_free(c);
}

/*
 * The daemon ignores SIGPIPE; an ignored signal survives execve. The
 * command must start from the defaults all the same: nothing ignored,
 * nothing blocked (/proc/self/status of grep itself, run without a
 * shell in between).
 */
Test(run, the_command_starts_with_default_signal_dispositions)
{
	const char *argv[] = {"/bin/grep", "-E", "^Sig(Ign|Blk)",
			      "/proc/self/status", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run = run_capture(c, s, NULL, &out, &err);

	cr_assert_eq(box_run_exit_status(run), 0, "%s", err);
	cr_expect_str_eq(out, "SigBlk:\t0000000000000000\n"
			      "SigIgn:\t0000000000000000\n");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, result_record_has_usage)
{
	box_client *c = connect_root(&d);
	char *out, *err;
	/* Burn a little CPU and touch a few MiB. */
	box_run *run = sh(c,
			  "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
			  "head -c 8000000 /dev/zero | tail -c 1 >/dev/null",
			  &out, &err);
	const box_result *res = box_run_result(run);

	cr_assert_not_null(res);
	cr_expect_gt(box_result_wall_ns(res), 0);
	cr_expect_gt(box_result_user_ns(res) + box_result_system_ns(res), 0);
	cr_expect_gt(box_result_peak_rss_bytes(res), 1 << 20);
	free(out);
	free(err);
	box_run_free(run);
	box_client_free(c);
}

Test(run, pid1_is_the_sandbox_init_and_host_is_invisible)
{
	char *out = sh_out(&d,
			   "cat /proc/1/cmdline | tr '\\0' ' '; echo; "
			   "ls /proc | grep -c '^[0-9]'",
			   NULL);
	char init[64];
	int procs = 0;

	cr_assert_eq(sscanf(out, "%63s %d", init, &procs), 2, "got: %s", out);
	cr_expect_str_eq(init, "boxd-init");
	/* init, sh, ls, grep: a handful, never the host's hundreds. */
	cr_expect_leq(procs, 6, "saw %d processes", procs);
	free(out);
}

Test(run, network_none_has_no_interface_up)
{
	char *out;

	require_ip();
	out = sh_out(&d, "ip -o link show | cut -d' ' -f2,9", NULL);

	/* Only lo exists, and it is down. */
	cr_expect_str_eq(out, "lo: DOWN\n");
	free(out);
}

Test(run, network_loopback_has_lo_up)
{
	const char *argv[] = {"/bin/sh", "-c",
			      "ip -o link show | cut -d' ' -f2,9", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	require_ip();
	c = connect_root(&d);
	s = spec_argv(argv);
	box_spec_set_net(s, BOX_NET_LOOPBACK);
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_eq(box_run_exit_status(run), 0, "%s", err);
	cr_expect_str_eq(out, "lo: UNKNOWN\n");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* lo up: something can listen and connect on 127.0.0.1. */
	const char *probe[] = {"/bin/sh", "-c",
			       "grep -q ' 00000000 ' /proc/net/route; "
			       "cat /proc/net/fib_trie 2>/dev/null | "
			       "grep -c '127.0.0.1'",
			       NULL};
	s = spec_argv(probe);
	box_spec_set_net(s, BOX_NET_LOOPBACK);
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_gt(atoi(out), 0, "127.0.0.1 should be configured: %s", out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, hostname_is_the_requested_one)
{
	const char *argv[] = {"/bin/hostname", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	box_spec_set_hostname(s, "judge-7");
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, "judge-7\n");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, readonly_binds_refuse_writes_tmpfs_is_writable)
{
	char dir[] = "/tmp/boxd-test-ro-XXXXXX";
	char script[512];
	box_client *c = connect_root(&d);
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	box_spec *s;
	char *out, *err;
	box_run *run;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(script, sizeof(script),
		 "touch /data/x 2>/dev/null && echo data-writable; "
		 "touch /usr/x 2>/dev/null && echo usr-writable; "
		 "touch /etc/x 2>/dev/null && echo etc-writable; "
		 "echo ok > /tmp/t && cat /tmp/t; "
		 "mkdir /newdir 2>/dev/null && echo root-writable; true");
	s = spec_argv(argv);
	box_spec_ro_bind(s, dir, "/data");
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, "ok\n", "stdout: %s stderr: %s", out, err);
	cr_expect(access(strcat(strcpy(script, dir), "/x"), F_OK) != 0);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	rmdir(dir);
}

Test(run, environment_holds_only_what_was_asked)
{
	const char *argv[] = {"/usr/bin/env", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	setenv("BOXD_TEST_LEAK", "1", 1);
	box_spec_setenv(s, "FOO", "bar");
	box_spec_setenv(s, "GONE", "x");
	box_spec_unsetenv(s, "GONE");
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
			      "/usr/bin:/sbin:/bin\nFOO=bar\n");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, only_fds_0_1_2_are_open_and_cwd_is_inside)
{
	char *out = sh_out(&d,
			   "ls /proc/self/fd | sort | tr '\\n' ' '; "
			   "readlink /proc/self/cwd",
			   NULL);

	/* 0 1 2, plus 3 for ls's own directory handle. */
	cr_expect_str_eq(out, "0 1 2 3 /\n");
	free(out);
}

Test(run, directory_fd_as_stdio_is_refused)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	box_run *run = NULL;
	int dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int pathfd = open("/dev/null", O_PATH | O_CLOEXEC);
	int r;

	r = box_run_start(c, s, dirfd, -1, -1, &run);
	cr_assert_geq(r, 0);
	box_run_wait(run);
	cr_assert_not_null(box_run_error(run));
	cr_expect_eq(box_error_code(box_run_error(run)), BOX_ERROR_BAD_REQUEST);
	cr_expect(strstr(box_error_message(box_run_error(run)), "directory"),
		  "%s", box_error_message(box_run_error(run)));
	box_run_free(run);
	run = NULL;

	r = box_run_start(c, s, -1, pathfd, -1, &run);
	cr_assert_geq(r, 0);
	box_run_wait(run);
	cr_assert_not_null(box_run_error(run));
	cr_expect(strstr(box_error_message(box_run_error(run)), "O_PATH"));
	box_run_free(run);
	close(dirfd);
	close(pathfd);
	box_spec_free(s);
	box_client_free(c);
}

static void expect_bad(box_client *c, box_spec *s, enum box_error_code code,
		       const char *needle)
{
	char *out, *err;
	box_run *run = run_capture(c, s, NULL, &out, &err);

	cr_assert_not_null(box_run_error(run));
	cr_expect_eq(box_error_code(box_run_error(run)), code, "%s",
		     box_error_message(box_run_error(run)));
	cr_expect(strstr(box_error_message(box_run_error(run)), needle),
		  "message '%s' should mention '%s'",
		  box_error_message(box_run_error(run)), needle);
	free(out);
	free(err);
	box_run_free(run);
}

Test(run, bad_requests_get_errors_and_the_connection_survives)
{
	box_client *c = connect_root(&d);
	const char *ok[] = {"/bin/echo", "still-usable", NULL};
	const char *missing[] = {"/no/such/program", NULL};
	const char *missing_path[] = {"no-such-program-anywhere", NULL};
	box_spec *s;
	char *out, *err;
	box_run *run;

	/* Empty argv: the library refuses before sending (the daemon's
	 * answer to one is checked in test-protocol). */
	cr_assert(box_spec_new(&s) >= 0);
	run = NULL;
	cr_expect_eq(box_run_start(c, s, -1, -1, -1, &run), -EINVAL);
	box_run_free(run);
	box_spec_free(s);

	/* Relative mount target and unknown profile: the library refuses
	 * them up front (the daemon's own refusal is in test-protocol). */
	s = spec_argv(ok);
	cr_expect_eq(box_spec_tmpfs(s, "relative/path", 0, 0), -EINVAL);
	cr_expect_eq(box_spec_set_profile(s, (enum box_profile)42), -EINVAL);
	box_spec_free(s);

	/* A source that does not exist: the daemon names the path. */
	s = spec_argv(ok);
	box_spec_ro_bind(s, "/no/such/source", "/x");
	expect_bad(c, s, BOX_ERROR_SETUP_FAILED, "/no/such/source");
	box_spec_free(s);

	/* Nonexistent program: exec error, shell-style 127. */
	s = spec_argv(missing);
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_not_null(box_run_error(run));
	cr_expect_eq(box_error_code(box_run_error(run)), BOX_ERROR_EXEC_FAILED);
	cr_expect_eq(box_error_errno(box_run_error(run)), ENOENT);
	cr_expect(
	    strstr(box_error_message(box_run_error(run)), "/no/such/program"));
	cr_expect_eq(box_run_exit_status(run), 127);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	s = spec_argv(missing_path);
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_eq(box_run_exit_status(run), 127);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* Not executable: 126. */
	const char *noexec[] = {"/etc/passwd", NULL};
	s = spec_argv(noexec);
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_eq(box_run_exit_status(run), 126);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* And the same connection still runs things. */
	s = spec_argv(ok);
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, "still-usable\n");
	cr_expect_eq(box_run_exit_status(run), 0);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, several_runs_in_sequence_on_one_connection)
{
	box_client *c = connect_root(&d);

	for (int i = 0; i < 5; i++) {
		char script[64], expect[16], *out, *err;
		box_run *run;

		snprintf(script, sizeof(script), "echo %d; exit %d", i, i);
		snprintf(expect, sizeof(expect), "%d\n", i);
		run = sh(c, script, &out, &err);
		cr_expect_str_eq(out, expect);
		cr_expect_eq(box_run_exit_status(run), i);
		free(out);
		free(err);
		box_run_free(run);
	}
	box_client_free(c);
}

Test(run, bare_profile_has_only_what_was_asked)
{
	const char *argv[] = {"/usr/bin/ls", "/", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	box_spec_set_profile(s, BOX_PROFILE_BARE);
	box_spec_ro_bind(s, "/usr", "/usr");
	box_spec_symlink(s, "usr/lib", "/lib");
	box_spec_symlink(s, "usr/lib64", "/lib64");
	box_spec_dir(s, "/work", 0755);
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, "lib\nlib64\nusr\nwork\n", "stderr: %s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(run, mount_operations_apply_in_order)
{
	const char *argv[] = {
	    "/bin/sh", "-c",
	    "cat /data/f; ls /data; readlink /link; "
	    "touch /scratch/x && echo scratch-rw; "
	    "touch /scratch/ro/y 2>/dev/null || echo ro-refused",
	    NULL};
	char dir[] = "/tmp/boxd-test-order-XXXXXX", path[128];
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	f = fopen(path, "w");
	fputs("from-host\n", f);
	fclose(f);
	box_spec_ro_bind(s, dir, "/data");
	box_spec_symlink(s, "/data/f", "/link");
	box_spec_tmpfs(s, "/scratch", 1 << 20, 0755);
	box_spec_dir(s, "/scratch/ro", 0755);
	box_spec_remount_ro(s, "/scratch/ro");
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, "from-host\nf\n/data/f\nscratch-rw\nro-refused\n",
			 "stderr: %s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	unlink(path);
	rmdir(dir);
}

Test(run, a_host_directory_can_be_the_root)
{
	char root[] = "/tmp/boxd-test-rootfs-XXXXXX", path[256];
	const char *argv[] = {"/usr/bin/cat", "/marker", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;
	FILE *f;

	cr_assert_not_null(mkdtemp(root));
	chmod(root, 0755);
	snprintf(path, sizeof(path), "%s/usr", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/lib", root);
	cr_assert(symlink("usr/lib", path) == 0);
	snprintf(path, sizeof(path), "%s/lib64", root);
	cr_assert(symlink("usr/lib64", path) == 0);
	snprintf(path, sizeof(path), "%s/marker", root);
	f = fopen(path, "w");
	fputs("rootfs\n", f);
	fclose(f);

	/* run_sandbox(rootfs_path, ...): the bare profile, the directory as
	 * "/" read-only, the host's /usr inside it. */
	box_spec_set_profile(s, BOX_PROFILE_BARE);
	box_spec_ro_bind(s, root, "/");
	box_spec_ro_bind(s, "/usr", "/usr");
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(
	    out, "rootfs\n", "stderr: %s, error: %s", err,
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* Not under the default profile: it would bury the profile. */
	s = spec_argv(argv);
	box_spec_ro_bind(s, root, "/");
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_not_null(box_run_error(run));
	cr_expect_eq(box_error_code(box_run_error(run)), BOX_ERROR_BAD_REQUEST);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);

	snprintf(path, sizeof(path), "rm -rf %s", root);
	(void)!system(path);
}

Test(run, safe_default_rlimits_and_per_request_ones)
{
	const char *argv[] = {"/bin/sh", "-c",
			      "ulimit -c; ulimit -n; ulimit -Sf", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err, want[64];
	box_run *run;
	struct rlimit nofile, fsize;
	char fsize_text[32] = "unlimited";

	/* Not the daemon's own (raised) open-file limit, and no cores: the
	 * usual 1024 open files, or fewer where the daemon (which has our
	 * limits) may not have more. The file size limit is not one boxd
	 * sets: the sandbox has ours. */
	cr_assert(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
	cr_assert(getrlimit(RLIMIT_FSIZE, &fsize) == 0);
	if (fsize.rlim_cur != RLIM_INFINITY)
		snprintf(fsize_text, sizeof(fsize_text), "%llu",
			 (unsigned long long)fsize.rlim_cur / 512);
	snprintf(want, sizeof(want), "0\n%llu\n%s\n",
		 nofile.rlim_max != RLIM_INFINITY && nofile.rlim_max < 1024
		     ? (unsigned long long)nofile.rlim_max
		     : 1024ULL,
		 fsize_text);
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_str_eq(out, want, "%s", err);
	free(out);
	free(err);
	box_run_free(run);

	cr_assert(box_spec_add_rlimit(s, BOX_RLIMIT_NOFILE, 64, 128) >= 0);
	cr_assert(box_spec_add_rlimit(s, BOX_RLIMIT_FSIZE, 4096, 4096) >= 0);
	run = run_capture(c, s, NULL, &out, &err);
	/* ulimit -f counts 512-byte blocks */
	cr_expect_str_eq(out, "0\n64\n8\n", "%s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}
