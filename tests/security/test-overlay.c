/*
 * Overlays (--overlay) and --write ephemeral: the command writes, the
 * host never changes. From inside, writes go every way that could reach
 * the host directory under the overlay: plain writes, removes, renames
 * and new directories, /proc/self/root, umount of the overlay (to write
 * into what is under it), and as root without a filter a user namespace
 * of the command's own, where it holds CAP_SYS_ADMIN over its copy of
 * the mounts. Afterwards the host tree must be byte for byte what it was.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec.h"

static struct daemon d;
static char host[] = "/tmp/boxd-overlay-XXXXXX";
static char host_file[300], host_new[300], host_sub[300];

static void setup(void)
{
	FILE *f;

	require_root();
	sec_track(mkdtemp(host));
	snprintf(host_file, sizeof(host_file), "%s/file", host);
	snprintf(host_new, sizeof(host_new), "%s/new", host);
	snprintf(host_sub, sizeof(host_sub), "%s/sub", host);
	cr_assert_not_null(f = fopen(host_file, "w"));
	fputs("original\n", f);
	fclose(f);
	cr_assert_eq(mkdir(host_sub, 0755), 0);
	/* The tenant's own tree: ids the sandbox maps, so copy-up works. */
	cr_assert_eq(chown(host, NOBODY, NOBODY), 0);
	cr_assert_eq(chmod(host, 0755), 0);
	cr_assert_eq(chown(host_file, NOBODY, NOBODY), 0);
	cr_assert_eq(chown(host_sub, NOBODY, NOBODY), 0);
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(overlay, .init = setup, .fini = teardown, .timeout = 180);

static void expect_host_untouched(void)
{
	char *now = sec_read_file(host_file);
	struct stat st;

	cr_expect_str_eq(now, "original\n", "the host file changed");
	free(now);
	cr_expect_neq(access(host_new, F_OK), 0, "%s appeared", host_new);
	cr_expect(stat(host_sub, &st) == 0 && S_ISDIR(st.st_mode), "%s is gone",
		  host_sub);
	snprintf(host_new, sizeof(host_new), "%s/sub/x", host);
	cr_expect_neq(access(host_new, F_OK), 0, "%s appeared", host_new);
	snprintf(host_new, sizeof(host_new), "%s/new", host);
}

static void run_script(box_client *c, box_spec *s, const char *want)
{
	char *out, *err;
	box_run *run = sec_run(c, s, &out, &err);

	cr_assert_not_null(
	    box_run_result(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : err);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 0,
		     "out: %s err: %s", out, err);
	if (want)
		cr_expect_str_eq(out, want, "stderr: %s", err);
	free(out);
	free(err);
	box_run_free(run);
}

static box_spec *sh_spec(const char *script)
{
	const char *const argv[] = {"/bin/sh", "-c", script, NULL};

	return spec_argv(argv);
}

Test(overlay, writes_land_in_the_run_and_never_on_the_host)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = sh_spec("set -e; cd /o; echo changed > file; "
			      "echo new > new; mkdir sub/x; rmdir sub/x; "
			      "mkdir sub/x; mv new sub/x/moved; cat file; "
			      "cat sub/x/moved; echo via > "
			      "/proc/self/root/o/file; cat file");

	cr_assert(box_spec_overlay(s, host, "/o") >= 0);
	run_script(c, s, "changed\nnew\nvia\n");
	expect_host_untouched();
	box_spec_free(s);
	box_client_free(c);
}

/* Root without a filter, in a user namespace of its own: the overlay is
 * locked over the read-only bind under it, and that bind is read-only
 * anyway. Every attempt to write must miss the host. */
Test(overlay, no_way_under_the_overlay_reaches_the_host)
{
	static const char script[] =
	    "cd /\n"
	    "umount /o 2>/dev/null && echo umounted\n"
	    "echo a > /o/file\n"
	    "unshare -Um sh -c 'umount -l /o; echo b > /o/file; "
	    "echo c > /o/new; mount -o remount,rw /o; echo d > /o/file' "
	    "2>/dev/null\n"
	    "mkdir -p /tmp/m\n"
	    "unshare -Um sh -c 'mount --bind /o /tmp/m && echo e > "
	    "/tmp/m/file; umount -l /o && echo f > /o/file' 2>/dev/null\n"
	    "true\n";
	box_client *c = connect_root(&d);
	box_spec *s = sh_spec(script);

	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	cr_assert(box_spec_overlay(s, host, "/o") >= 0);
	run_script(c, s, NULL);
	expect_host_untouched();
	box_spec_free(s);
	box_client_free(c);
}

Test(overlay, write_ephemeral_writes_anywhere_and_keeps_nothing)
{
	char script[1024], path[64];
	box_client *c = connect_root(&d);
	box_spec *s;

	/* Root's run: the host's system directories, root's own there. */
	snprintf(path, sizeof(path), "/usr/boxd-ephemeral-%d", (int)getpid());
	snprintf(script, sizeof(script),
		 "set -e; echo x > %s; echo y > /rootfile; "
		 "rm -f /usr/bin/true; test ! -e /usr/bin/true; cat %s",
		 path, path);
	s = sh_spec(script);
	cr_assert(box_spec_set_write_ephemeral(s, true) >= 0);
	run_script(c, s, "x\n");
	cr_expect_neq(access(path, F_OK), 0, "%s appeared on the host", path);
	cr_expect_eq(access("/usr/bin/true", X_OK), 0,
		     "/usr/bin/true is gone from the host");
	box_spec_free(s);
	box_client_free(c);

	/* A tenant's run: its own read-only bind becomes writable. */
	c = connect_as(&d, NOBODY, NOBODY);
	s = sh_spec("set -e; echo z > /ro/file; echo w > /ro/new; "
		    "echo v > /newroot; cat /ro/file /ro/new /newroot");
	cr_assert(box_spec_ro_bind(s, host, "/ro") >= 0);
	cr_assert(box_spec_set_write_ephemeral(s, true) >= 0);
	run_script(c, s, "z\nw\nv\n");
	expect_host_untouched();
	box_spec_free(s);
	box_client_free(c);
}
