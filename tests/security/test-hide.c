/*
 * Hidden paths (--hide, a tenant's deny list), attacked from inside by
 * probe-hide: the hidden file and directory must stay unreadable at the
 * path they were hidden by, under a second bind of their parent, under a
 * bind of something inside the hidden directory, through /proc/self/root,
 * openat2() and file handles, and after every attempt to lift the cover
 * (chmod, umount, a user namespace of the command's own).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec.h"

#define MARKER "hidden-5ec2e7-marker"

static struct daemon d;
static char host[] = "/tmp/boxd-hide-XXXXXX";
static char deny_conf[512];

static void write_file(const char *dir, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(MARKER "\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0644), 0);
}

/*
 * host/            0755
 *   secret         MARKER
 *   plain          MARKER (never hidden: the control)
 *   sdir/          0755
 *     sub/         0755
 *       inner      MARKER
 */
static void make_host_tree(void)
{
	char path[256];

	sec_track(mkdtemp(host));
	cr_assert_eq(chmod(host, 0755), 0);
	write_file(host, "secret");
	write_file(host, "plain");
	snprintf(path, sizeof(path), "%s/sdir", host);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sdir/sub", host);
	cr_assert_eq(mkdir(path, 0755), 0);
	write_file(path, "inner");
}

static void setup(void)
{
	require_root();
	make_host_tree();
	snprintf(deny_conf, sizeof(deny_conf),
		 "[default]\ndeny = %s/secret %s/sdir\n", host, host);
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(hide, .init = setup, .fini = teardown, .timeout = 180);

/* The binds every attack uses: the tree twice, and sdir/sub alone. */
static void bind_tree(box_spec *s)
{
	char sub[256];

	snprintf(sub, sizeof(sub), "%s/sdir/sub", host);
	cr_assert(box_spec_ro_bind(s, host, "/h") >= 0);
	cr_assert(box_spec_ro_bind(s, host, "/h2") >= 0);
	cr_assert(box_spec_ro_bind(s, sub, "/sub") >= 0);
}

static const char *const attacked[] = {
    MARKER,        "/h/secret",         "/h2/secret", "/h/sdir",
    "/h/sdir/sub", "/h/sdir/sub/inner", "/h2/sdir",   "/h2/sdir/sub/inner",
    "/sub",        "/sub/inner",        NULL,
};

Test(hide, request_hides_hold_against_every_other_way_in)
{
	box_client *c;
	box_spec *s;

	daemon_start(&d, NULL, NULL);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-hide", attacked);
	/* Hides first: they still apply after the binds below. */
	cr_assert(box_spec_hide(s, "/h/secret") >= 0);
	cr_assert(box_spec_hide(s, "/h/sdir") >= 0);
	bind_tree(s);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

Test(hide, tenant_deny_holds_against_every_other_way_in)
{
	box_client *c;
	box_spec *s;

	daemon_start(&d, NULL, deny_conf);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-hide", attacked);
	bind_tree(s);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

/* The control: what is not hidden reads, so the probe's "nothing read"
 * above is not an artefact of a broken bind. */
Test(hide, what_is_not_hidden_still_reads)
{
	const char *const argv[] = {"/bin/cat", "/h/plain", "/h2/plain", NULL};
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err;

	daemon_start(&d, NULL, deny_conf);
	c = connect_as(&d, NOBODY, NOBODY);
	s = spec_argv(argv);
	bind_tree(s);
	cr_assert(box_spec_hide(s, "/h/does-not-exist") >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(box_run_result(run), "%s", err);
	cr_expect_eq(box_result_exit_code(box_run_result(run)), 0, "%s", err);
	cr_expect_str_eq(out, MARKER "\n" MARKER "\n");
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(hide, hiding_the_root_is_refused)
{
	const char *const argv[] = {"/bin/true", NULL};
	const char *const needles[] = {"hide", NULL};
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err;

	daemon_start(&d, NULL, NULL);
	c = connect_as(&d, NOBODY, NOBODY);
	s = spec_argv(argv);
	cr_assert_eq(box_spec_hide(s, "/"), -EINVAL);
	cr_assert(box_spec_add_mount(s, BOX_MOUNT_HIDE, NULL, "/") >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_BAD_REQUEST, needles);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* Root without a filter may make a user namespace of its own, where it
 * holds every capability over its copy of the mounts: the covers are
 * locked there, so neither umount nor a non-recursive bind of a parent
 * lifts them. */
Test(hide, covers_hold_in_a_user_namespace_of_the_commands_own)
{
	const char *const args[] = {MARKER, "/h/secret", "/h/sdir/sub/inner",
				    NULL};
	box_client *c;
	box_spec *s;

	daemon_start(&d, NULL, NULL);
	c = connect_root(&d);
	s = sec_spec("probe-hide", args);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	bind_tree(s);
	cr_assert(box_spec_hide(s, "/h/secret") >= 0);
	cr_assert(box_spec_hide(s, "/h/sdir") >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

/* An overlay shows the host directory under a device of its own: the
 * tenant's deny list and a request's hide still cover what it shows,
 * and so does --write ephemeral, which makes every read-only bind an
 * overlay. */
Test(hide, overlays_do_not_uncover_what_is_hidden)
{
	const char *const args[] = {
	    MARKER,      "/o/secret", "/o/sdir/sub/inner",
	    "/h2/plain", "/o/plain",  "/sub/inner",
	    NULL};
	const char *const eph_args[] = {
	    MARKER,       "/h/secret",  "/h/sdir/sub/inner",
	    "/h2/secret", "/sub/inner", NULL};
	char sub[256];
	box_client *c;
	box_spec *s;

	snprintf(sub, sizeof(sub), "%s/sdir/sub", host);
	daemon_start(&d, NULL, deny_conf);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-hide", args);
	cr_assert(box_spec_overlay(s, host, "/o") >= 0);
	cr_assert(box_spec_ro_bind(s, host, "/h2") >= 0);
	cr_assert(box_spec_ro_bind(s, sub, "/sub") >= 0);
	/* A request's hide of a path seen through the overlay covers the
	 * same file under the other bind too. */
	cr_assert(box_spec_hide(s, "/o/plain") >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);

	s = sec_spec("probe-hide", eph_args);
	bind_tree(s);
	cr_assert(box_spec_set_write_ephemeral(s, true) >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}
