/*
 * Files whose content rides in the request (--file, Mount.FILE): they
 * hold exactly the bytes sent, with the mode asked for, on a tmpfs of the
 * run's own. From inside, the command tries to change one (write,
 * append, truncate, chmod, remove, rename over it, remount), and to
 * reach through one placed inside a writable bind of a host directory to
 * the host file it covers: the host's file must keep its content. A
 * request whose contents exceed the daemon's tmpfs-size is refused with
 * a message that says so.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec.h"

static struct daemon d;
static char host[] = "/tmp/boxd-files-XXXXXX";

static void setup(void)
{
	char path[256];
	FILE *f;

	require_root();
	sec_track(mkdtemp(host));
	cr_assert_eq(chmod(host, 0777), 0);
	snprintf(path, sizeof(path), "%s/target", host);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("host content\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0666), 0);
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(files, .init = setup, .fini = teardown, .timeout = 180);

static box_run *run_sh(box_client *c, box_spec *s, char **out, char **err)
{
	box_run *run = sec_run(c, s, out, err);

	cr_assert_not_null(
	    box_run_result(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : *err);
	return run;
}

static box_spec *sh_spec(const char *script)
{
	const char *const argv[] = {"/bin/sh", "-c", script, NULL};

	return spec_argv(argv);
}

Test(files, content_and_mode_arrive_exactly)
{
	static const char bytes[] = "line one\n\0binary\xff tail";
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err, want[512];

	daemon_start(&d, NULL, NULL);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sh_spec("stat -c '%a %s' /opt/data /opt/run.sh /tmp/empty && "
		    "od -An -c /opt/data | tr -s ' \\n' ' ' && echo && "
		    "/opt/run.sh x");
	cr_assert(box_spec_add_file(s, "/opt/data", bytes, sizeof(bytes) - 1,
				    -1) >= 0);
	cr_assert(box_spec_add_file(s, "/opt/run.sh",
				    "#!/bin/sh\necho ran $1\n", 21, 0755) >= 0);
	cr_assert(box_spec_add_file(s, "/tmp/empty", NULL, 0, 0600) >= 0);
	run = run_sh(c, s, &out, &err);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 0, "%s", err);
	snprintf(want, sizeof(want),
		 "644 %zu\n755 21\n600 0\n"
		 " l i n e o n e \\n \\0 b i n a r y 377 t a i l \n"
		 "ran x\n",
		 sizeof(bytes) - 1);
	cr_expect_str_eq(out, want, "stderr: %s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* Every way a command might change the file, or the host file under
 * it: each must fail, and the host's file keep its content. */
Test(files, a_file_cannot_be_changed_or_written_through_to_the_host)
{
	static const char script[] =
	    "f=/h/target; n=0\n"
	    "try() { if \"$@\" 2>/dev/null; then echo \"CHANGED: $*\"; "
	    "n=$((n+1)); fi; }\n"
	    "try sh -c 'echo x > /h/target'\n"
	    "try sh -c 'echo x >> /h/target'\n"
	    "try truncate -s 0 /h/target\n"
	    "try chmod 0777 /h/target\n"
	    "try rm -f /h/target\n"
	    "try sh -c 'echo y > /h/other && mv -f /h/other /h/target'\n"
	    "try umount /h/target\n"
	    "try mount -o remount,rw /h/target\n"
	    "cat /h/target\n"
	    "exit $n\n";
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err, path[256], *host_now;

	daemon_start(&d, NULL, NULL);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sh_spec(script);
	cr_assert(box_spec_bind(s, host, "/h") >= 0);
	cr_assert(box_spec_add_file(s, "/h/target", "sent\n", 5, 0666) >= 0);
	run = run_sh(c, s, &out, &err);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 0,
		     "changed: %s", out);
	cr_expect_str_eq(out, "sent\n", "stderr: %s", err);
	snprintf(path, sizeof(path), "%s/target", host);
	host_now = sec_read_file(path);
	cr_expect_str_eq(host_now, "host content\n");
	free(host_now);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* pid 1 builds the files, an overlay's upper layer and the hidden
 * paths' covers out of tmpfs it attaches at a staging point stacked on
 * the root (init-stage.c): by the time the command runs, none of it may
 * be left in its mount table. The root is the one mount at "/", and no
 * mount sits on a directory named like a staged one ("/0", "/1", ...),
 * while the file, the overlay and the cover are all in place. */
Test(files, nothing_of_the_staging_point_is_left)
{
	static const char script[] =
	    "cat /opt/data; test -d /o && echo overlay\n"
	    "cat /h/target 2>/dev/null || echo hidden\n"
	    "awk '$5 == \"/\"' /proc/self/mountinfo | wc -l\n"
	    "awk '$5 ~ /^\\/[0-9]+$/' /proc/self/mountinfo\n";
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err;

	daemon_start(&d, NULL, NULL);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sh_spec(script);
	cr_assert(box_spec_add_file(s, "/opt/data", "sent\n", 5, -1) >= 0);
	cr_assert(box_spec_overlay(s, host, "/o") >= 0);
	cr_assert(box_spec_bind(s, host, "/h") >= 0);
	cr_assert(box_spec_hide(s, "/h/target") >= 0);
	run = run_sh(c, s, &out, &err);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 0, "%s", err);
	cr_expect_str_eq(out, "sent\noverlay\nhidden\n1\n", "stderr: %s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(files, contents_above_tmpfs_size_are_refused)
{
	const char *const needles[] = {"file", "tmpfs-size", NULL};
	size_t len = 48 << 10;
	char *big = calloc(1, len);
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err;

	cr_assert_not_null(big);
	daemon_start(&d, NULL, "[daemon]\ntmpfs-size = 64K\n");
	c = connect_as(&d, NOBODY, NOBODY);
	s = sh_spec("true");
	cr_assert(box_spec_add_file(s, "/a", big, len, -1) >= 0);
	cr_assert(box_spec_add_file(s, "/b", big, len, -1) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_BAD_REQUEST, needles);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* One of them fits. */
	s = sh_spec("test $(wc -c < /a) = 49152");
	cr_assert(box_spec_add_file(s, "/a", big, len, -1) >= 0);
	run = run_sh(c, s, &out, &err);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 0, "%s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	free(big);
}
