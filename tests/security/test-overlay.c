/*
 * Overlays (--overlay) and --write ephemeral: the command writes, the
 * host never changes. From inside, writes go every way that could reach
 * the host directory under the overlay: plain writes, removes, renames
 * and new directories, /proc/self/root, umount of the overlay (to write
 * into what is under it), and as root without a filter a user namespace
 * of the command's own, where it holds CAP_SYS_ADMIN over its copy of
 * the mounts. Afterwards the host tree must be byte for byte what it was.
 *
 * Persistent overlays (--overlay-persist, Mount.upper) write to a host
 * directory DIR of the caller's on purpose: the same attacks must still
 * miss the source, and no choice of DIR may make a run write where its
 * caller could not put a file of its own: a symlink to root's directory,
 * another user's, a shared world-writable one (whose owner reads as the
 * sandbox user's own uid when that uid is 65534), /proc or /sys, the
 * source itself reached through another path.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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

/* ------------------------------------------------ persistent overlays */

#define OTHER 4242 /* a host uid nothing uses: "another user" */

/* A fresh directory for a test to give as DIR (or to point DIR at),
 * owned by owner, removed with the suite. */
static void keep_dir(char *path, size_t len, uid_t owner, mode_t mode)
{
	const char *base = overlay_upper_base();

	cr_assert(base, "no /tmp or /dev/shm that can hold an upper layer");
	snprintf(path, len, "%s/boxd-overlay-keep-XXXXXX", base);
	sec_track(mkdtemp(path));
	cr_assert_eq(chown(path, owner, owner), 0);
	cr_assert_eq(chmod(path, mode), 0);
}

/* A symlink owned by owner (the caller's own link) at a fresh path. */
static void keep_link(char *path, size_t len, const char *target, uid_t owner)
{
	char dir[64];

	keep_dir(dir, sizeof(dir), owner, 0755);
	snprintf(path, len, "%s/link", dir);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(lchown(path, owner, owner), 0);
}

static bool has_entry(const char *dir, const char *name)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* The run of uid's client (sandbox uid: its own, or sandbox_uid >= 0)
 * with DIR as the upper of an overlay of the host tree must fail to
 * start, at boxd-init's check, saying why; DIR must stay as it was. */
static void expect_persist_refused(uid_t uid, int64_t sandbox_uid,
				   const char *dir, const char *left_alone,
				   const char *why)
{
	const char *const needles[] = {why, NULL};
	box_client *c = connect_as(&d, uid, uid);
	box_spec *s = sh_spec("echo ran");
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_overlay_persist(s, host, "/o", dir) >= 0);
	if (sandbox_uid >= 0)
		cr_assert(box_spec_set_uid(s, sandbox_uid) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_SETUP_FAILED, needles);
	cr_expect_str_eq(box_error_step(box_run_error(run)), "overlay upper");
	cr_expect(!strstr(out, "ran"), "the command ran");
	if (left_alone) {
		cr_expect(!has_entry(left_alone, "upper") &&
			      !has_entry(left_alone, "work"),
			  "layers were made in %s", left_alone);
	}
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(overlay, persistent_writes_land_in_dir_and_never_on_the_source)
{
	char keep[64], kept[300];
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = sh_spec("set -e; cd /o; echo changed > file; "
			      "echo new > new; mkdir sub/x; rmdir sub/x; "
			      "mkdir sub/x; mv new sub/x/moved; cat file; "
			      "cat sub/x/moved; echo via > "
			      "/proc/self/root/o/file; cat file");
	char *now;

	keep_dir(keep, sizeof(keep), NOBODY, 0700);
	cr_assert(box_spec_overlay_persist(s, host, "/o", keep) >= 0);
	run_script(c, s, "changed\nnew\nvia\n");
	expect_host_untouched();
	/* What the run wrote is in DIR/upper, the caller's. */
	snprintf(kept, sizeof(kept), "%s/upper/file", keep);
	now = sec_read_file(kept);
	cr_expect_str_eq(now, "via\n", "%s", kept);
	free(now);
	snprintf(kept, sizeof(kept), "%s/upper/sub/x/moved", keep);
	now = sec_read_file(kept);
	cr_expect_str_eq(now, "new\n", "%s", kept);
	free(now);
	box_spec_free(s);

	/* The next run over the same DIR starts where this one ended. */
	s = sh_spec("cat /o/file /o/sub/x/moved; test ! -e /o/new");
	cr_assert(box_spec_overlay_persist(s, host, "/o", keep) >= 0);
	run_script(c, s, "via\nnew\n");
	expect_host_untouched();
	box_spec_free(s);
	box_client_free(c);
}

/* Root without a filter, in a user namespace of its own, tries to get
 * under the persistent overlay: the source stays as it was. */
Test(overlay, no_way_under_a_persistent_overlay_reaches_the_source)
{
	static const char script[] =
	    "cd /\n"
	    "umount /o 2>/dev/null && echo umounted\n"
	    "echo a > /o/file\n"
	    "unshare -Um sh -c 'umount -l /o; echo b > /o/file; "
	    "echo c > /o/new; mount -o remount,rw /o; echo d > /o/file' "
	    "2>/dev/null\n"
	    "true\n";
	char keep[64];
	box_client *c = connect_root(&d);
	box_spec *s = sh_spec(script);

	keep_dir(keep, sizeof(keep), 0, 0700);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	cr_assert(box_spec_overlay_persist(s, host, "/o", keep) >= 0);
	run_script(c, s, NULL);
	expect_host_untouched();
	box_spec_free(s);
	box_client_free(c);
}

Test(overlay, dir_may_not_be_a_symlink_even_to_a_writable_dir)
{
	char target[64], link[128];

	/* root's, world-writable: the ownership check would stop it too,
	 * but a link is refused before anything is looked at. */
	keep_dir(target, sizeof(target), 0, 01777);
	keep_link(link, sizeof(link), target, NOBODY);
	expect_persist_refused(NOBODY, -1, link, target, "symlink");
	/* Not even to a directory of the caller's own. */
	keep_dir(target, sizeof(target), NOBODY, 0700);
	keep_link(link, sizeof(link), target, NOBODY);
	expect_persist_refused(NOBODY, -1, link, target, "symlink");
}

Test(overlay, dir_must_be_the_callers_own)
{
	char dir[64];

	/* Another user's, writable by everyone. */
	keep_dir(dir, sizeof(dir), OTHER, 0777);
	expect_persist_refused(NOBODY, -1, dir, dir, "not owned by the caller");
	/* root's shared /tmp-like directory, for nobody: uid 65534 is also
	 * what every unmapped owner reads as inside the sandbox. */
	keep_dir(dir, sizeof(dir), 0, 01777);
	expect_persist_refused(NOBODY, -1, dir, dir, "not owned by the caller");
	/* ... and for another caller whose sandbox uid is 65534. */
	expect_persist_refused(OTHER, NOBODY, dir, dir,
			       "not owned by the caller");
	/* The caller's own, but not writable by it. */
	keep_dir(dir, sizeof(dir), NOBODY, 0500);
	expect_persist_refused(NOBODY, -1, dir, dir,
			       "may not write and search it");
}

Test(overlay, dir_may_not_be_on_a_kernel_filesystem)
{
	/* proc's and sysfs' directories of the caller's own processes
	 * (/proc/self is the pid 1 looking) are the caller's by owner. */
	expect_persist_refused(NOBODY, -1, "/proc/self", NULL,
			       "kernel filesystem");
	expect_persist_refused(NOBODY, -1, "/proc", NULL, "kernel filesystem");
	if (access("/sys/kernel", F_OK) == 0)
		expect_persist_refused(NOBODY, -1, "/sys/kernel", NULL,
				       "kernel filesystem");
	else
		cr_log_warn("no /sys/kernel: the sysfs case is not tried");
}

/* The source reached through a second name: the path says nothing,
 * boxd-init's walk up the directories does. */
Test(overlay, dir_inside_the_source_by_another_path_is_refused)
{
	char link[128], dir[300];

	keep_link(link, sizeof(link), host, NOBODY);
	snprintf(dir, sizeof(dir), "%s/sub", link);
	expect_persist_refused(NOBODY, -1, dir, host_sub, "source");
	cr_expect(!has_entry(host, "upper") && !has_entry(host, "work"));
}

/* A DIR on an overlayfs (as the test VM's /tmp is) cannot be an upper
 * layer: refused before the mount, saying why, not the kernel's bare
 * EINVAL. The test makes its own overlayfs to put DIR on. */
Test(overlay, dir_on_an_overlayfs_is_refused_with_the_reason)
{
	char base[64], opts[512], lower[100], upper[100], work[100], mnt[100];
	char dir[160];

	keep_dir(base, sizeof(base), 0, 0755);
	snprintf(lower, sizeof(lower), "%s/lower", base);
	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(work, sizeof(work), "%s/work", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	cr_assert(mkdir(lower, 0755) == 0 && mkdir(upper, 0755) == 0 &&
		  mkdir(work, 0755) == 0 && mkdir(mnt, 0755) == 0);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 lower, upper, work);
	if (mount("overlay", mnt, "overlay", 0, opts) < 0)
		cr_skip_test("cannot mount an overlayfs here: %s",
			     strerror(errno));
	snprintf(dir, sizeof(dir), "%s/keep", mnt);
	if (mkdir(dir, 0700) < 0 || chown(dir, NOBODY, NOBODY) < 0) {
		umount2(mnt, MNT_DETACH);
		cr_assert_fail("cannot make %s: %s", dir, strerror(errno));
	}
	/* Pooled members were cloned before this mount: where the host's
	 * mounts do not propagate (the test VM's are private), only pid 1s
	 * cloned from now on see it. */
	daemon_stop(&d);
	daemon_start(&d, NULL, NULL);
	expect_persist_refused(NOBODY, -1, dir, dir, "on an overlayfs");
	cr_assert(umount2(mnt, MNT_DETACH) == 0);
}
