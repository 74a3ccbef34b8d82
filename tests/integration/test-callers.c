/*
 * The sandbox's ids map to the caller's: an unprivileged caller gets a
 * sandbox whose files land on the host as its own uid, and it cannot have
 * a path bound that it could not open itself.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534

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

TestSuite(callers, .init = setup, .fini = teardown, .timeout = 60);

Test(callers, unprivileged_caller_writes_files_as_itself)
{
	char dir[] = "/tmp/boxd-test-nobody-XXXXXX", path[128];
	const char *argv[] = {"/bin/sh", "-c",
			      "id -u; id -g; echo data > /work/made-inside",
			      NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert(chown(dir, NOBODY, NOBODY) == 0);
	c = connect_as(&d, NOBODY, NOBODY);
	cr_expect_eq(box_client_uid(c), NOBODY);
	s = spec_argv(argv);
	box_spec_bind(s, dir, "/work");
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_eq(box_run_exit_status(run), 0, "stderr: %s error: %s", err,
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "");
	cr_expect_str_eq(out, "65534\n65534\n");
	snprintf(path, sizeof(path), "%s/made-inside", dir);
	cr_assert(stat(path, &st) == 0, "file not created on the host");
	cr_expect_eq(st.st_uid, NOBODY);
	cr_expect_eq(st.st_gid, NOBODY);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	unlink(path);
	rmdir(dir);
}

Test(callers, root_caller_maps_to_root)
{
	char *out = sh_out(&d, "id -u; cat /proc/self/uid_map", NULL);
	unsigned inside = 1, outside = 1, count = 0, id = 1;

	cr_assert_eq(sscanf(out, "%u %u %u %u", &id, &inside, &outside, &count),
		     4, "%s", out);
	cr_expect_eq(id, 0);
	cr_expect_eq(inside, 0);
	cr_expect_eq(outside, 0);
	cr_expect_eq(count, 1, "exactly one id is mapped");
	free(out);
}

static void expect_bind_refused(box_client *c, const char *src)
{
	const char *argv[] = {"/bin/ls", "/secret", NULL};
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	box_spec_ro_bind(s, src, "/secret");
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert(box_run_error(run) != NULL, "bind of %s was allowed: %s", src,
		  out);
	cr_expect_eq(box_error_code(box_run_error(run)),
		     BOX_ERROR_SETUP_FAILED);
	cr_expect_str_eq(box_error_step(box_run_error(run)), "bind source");
	cr_expect_eq(box_error_errno(box_run_error(run)), EACCES);
	cr_expect(strstr(box_error_message(box_run_error(run)), src), "%s",
		  box_error_message(box_run_error(run)));
	cr_expect_eq(box_run_exit_status(run), 125);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
}

Test(callers, cannot_bind_what_it_cannot_open)
{
	char dir[] = "/tmp/boxd-test-private-XXXXXX", sub[128];
	box_client *c;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert(chmod(dir, 0700) == 0); /* root's, 0700 */
	snprintf(sub, sizeof(sub), "%s/inner", dir);
	cr_assert(mkdir(sub, 0755) == 0);
	c = connect_as(&d, NOBODY, NOBODY);
	/* The directory itself, and a path through it. */
	expect_bind_refused(c, dir);
	expect_bind_refused(c, sub);
	box_client_free(c);

	/* Root may. */
	c = connect_root(&d);
	{
		const char *argv[] = {"/bin/ls", "/secret", NULL};
		box_spec *s = spec_argv(argv);
		char *out, *err;
		box_run *run;

		box_spec_ro_bind(s, dir, "/secret");
		run = run_capture(c, s, NULL, &out, &err);
		cr_expect_eq(box_run_exit_status(run), 0, "%s", err);
		cr_expect_str_eq(out, "inner\n");
		free(out);
		free(err);
		box_run_free(run);
		box_spec_free(s);
	}
	box_client_free(c);
	rmdir(sub);
	rmdir(dir);
}

Test(callers, writable_bind_needs_write_access)
{
	char dir[] = "/tmp/boxd-test-rdonly-XXXXXX";
	const char *argv[] = {"/bin/true", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert(chmod(dir, 0755) == 0); /* readable, not writable by nobody */
	c = connect_as(&d, NOBODY, NOBODY);
	s = spec_argv(argv);
	box_spec_bind(s, dir, "/w");
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_not_null(box_run_error(run));
	cr_expect_eq(box_error_errno(box_run_error(run)), EACCES);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* Read-only is fine. */
	s = spec_argv(argv);
	box_spec_ro_bind(s, dir, "/w");
	run = run_capture(c, s, NULL, &out, &err);
	cr_expect_eq(box_run_exit_status(run), 0);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	rmdir(dir);
}

Test(callers, binds_never_expose_host_kernel_filesystems)
{
	static const char *const srcs[] = {"/", "/sys", "/proc",
					   "/sys/fs/cgroup", "@link"};
	char link[] = "/tmp/boxd-test-rootlink-XXXXXX";
	box_client *c = connect_as(&d, NOBODY, NOBODY);

	/* A symlink to "/" must not get around the check either. */
	cr_assert_not_null(mkdtemp(link));
	rmdir(link);
	cr_assert(symlink("/", link) == 0);
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		const char *src = srcs[i][0] == '@' ? link : srcs[i];
		const char *argv[] = {"/bin/true", NULL};
		box_spec *s = spec_argv(argv);
		char *out, *err;
		box_run *run;

		box_spec_ro_bind(s, src, "/host");
		run = run_capture(c, s, NULL, &out, &err);
		cr_assert_not_null(box_run_error(run), "bind of %s allowed",
				   src);
		cr_expect_str_eq(box_error_step(box_run_error(run)),
				 "bind source");
		cr_expect_eq(box_error_errno(box_run_error(run)), EPERM);
		cr_expect(strstr(box_error_message(box_run_error(run)),
				 "expose the host"),
			  "%s", box_error_message(box_run_error(run)));
		free(out);
		free(err);
		box_run_free(run);
		box_spec_free(s);
	}
	unlink(link);
	box_client_free(c);
}

/*
 * The hardened unit runs boxd without CAP_KILL. Whether the process that
 * connected still exists is asked with signal 0, which then fails with
 * EPERM for another user's process: that must still count as alive, or
 * every caller but root would be refused as "gone".
 */
Test(callers, a_daemon_without_cap_kill_serves_other_users)
{
	static struct daemon weak = {.without_cap_kill = true};
	const char *argv[] = {"/bin/sh", "-c", "id -u", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	daemon_start(&weak, NULL, NULL);
	c = connect_as(&weak, NOBODY, NOBODY);
	s = spec_argv(argv);
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_eq(box_run_exit_status(run), 0, "stderr: %s error: %s", err,
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "");
	cr_expect_str_eq(out, "65534\n");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	daemon_stop(&weak);
}
