/*
 * upper.c: the checks on a persistent overlay's host directory. Each
 * case runs in a child that has become an unprivileged uid, as boxd-init
 * is when it runs them (its fs ids the caller's, no capability over
 * anyone else's files), on a tree made here as root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "upper.h"

#define CALLER 4242 /* an id nothing on the host uses */

static char base[] = "/tmp/boxd-test-upper-XXXXXX";

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (to make files of another uid's)");
	cr_assert_not_null(mkdtemp(base));
	cr_assert_eq(chmod(base, 0755), 0);
}

static void teardown(void)
{
	char cmd[128];

	if (geteuid() != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(upper, .init = setup, .fini = teardown);

/* base/name as a directory of owner's with mode. */
static void make_dir(const char *name, uid_t owner, mode_t mode)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", base, name);
	cr_assert_eq(mkdir(p, mode), 0, "mkdir %s: %m", p);
	cr_assert_eq(chown(p, owner, owner), 0);
	cr_assert_eq(chmod(p, mode), 0);
}

static void make_link(const char *name, const char *target)
{
	char p[256], t[256];

	snprintf(p, sizeof(p), "%s/%s", base, name);
	snprintf(t, sizeof(t), "%s/%s", base, target);
	cr_assert_eq(symlink(t, p), 0);
	cr_assert_eq(lchown(p, CALLER, CALLER), 0);
}

struct outcome {
	int r;
	char why[128];
};

/* In a child of uid CALLER: open base/dir as boxd-init does (O_PATH, its
 * last component not followed) and base/src, then check, or (layer set)
 * open that layer of dir. */
static struct outcome check(const char *dir, const char *src, const char *layer,
			    mode_t mode)
{
	struct outcome o = {0};
	int pipefd[2], status;
	pid_t pid;

	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char p[256];
		int d, s = -1, fd = -1;

		close(pipefd[0]);
		if (setgroups(0, NULL) < 0 ||
		    setresgid(CALLER, CALLER, CALLER) ||
		    setresuid(CALLER, CALLER, CALLER))
			_exit(2);
		snprintf(p, sizeof(p), "%s/%s", base, dir);
		d = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (src) {
			snprintf(p, sizeof(p), "%s/%s", base, src);
			s = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		if (d < 0 || (src && s < 0)) {
			o.r = -errno;
			snprintf(o.why, sizeof(o.why), "open: %m");
		} else if (layer) {
			o.r = upper_open_layer(d, layer, mode, CALLER, &fd,
					       o.why, sizeof(o.why));
		} else {
			o.r =
			    upper_check_dir(d, s, CALLER, o.why, sizeof(o.why));
		}
		if (write(pipefd[1], &o, sizeof(o)) != sizeof(o))
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], &o, sizeof(o)), (ssize_t)sizeof(o));
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return o;
}

static void expect_refused(struct outcome o, int err, const char *why)
{
	cr_expect_eq(o.r, -err, "got %d (%s), want -%d", o.r, o.why, err);
	cr_expect_str_eq(o.why, why);
}

Test(upper, a_directory_of_the_callers_beside_the_source_is_taken)
{
	struct outcome o;

	make_dir("src", CALLER, 0755);
	make_dir("keep", CALLER, 0700);
	o = check("keep", "src", NULL, 0);
	cr_expect_eq(o.r, 0, "%s", o.why);
}

Test(upper, what_is_not_the_callers_own_directory_is_refused)
{
	char p[256];
	int fd;

	make_dir("src", CALLER, 0755);
	/* Writable by everyone, owned by root: a shared /tmp. */
	make_dir("shared", 0, 01777);
	expect_refused(check("shared", "src", NULL, 0), EPERM,
		       "not owned by the caller");
	/* A link of the caller's to a directory of root's, or of its own. */
	make_link("to-shared", "shared");
	expect_refused(check("to-shared", "src", NULL, 0), ELOOP,
		       "it is a symlink (name the directory itself)");
	make_dir("keep", CALLER, 0700);
	make_link("to-keep", "keep");
	expect_refused(check("to-keep", "src", NULL, 0), ELOOP,
		       "it is a symlink (name the directory itself)");
	/* Its own, but not writable. */
	make_dir("locked", CALLER, 0500);
	expect_refused(check("locked", "src", NULL, 0), EACCES,
		       "the caller may not write and search it");
	/* Not a directory. */
	snprintf(p, sizeof(p), "%s/file", base);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(chown(p, CALLER, CALLER), 0);
	expect_refused(check("file", "src", NULL, 0), ENOTDIR,
		       "not a directory");
}

Test(upper, nesting_with_the_source_is_refused_whatever_the_path)
{
	make_dir("src", CALLER, 0755);
	make_dir("src/in", CALLER, 0755);
	make_dir("src/in/deeper", CALLER, 0755);
	expect_refused(check("src", "src", NULL, 0), EINVAL,
		       "it is the overlay's source or inside it (the source "
		       "must never change)");
	expect_refused(check("src/in/deeper", "src", NULL, 0), EINVAL,
		       "it is the overlay's source or inside it (the source "
		       "must never change)");
	/* Through a symlink on the way: the path does not say "src". */
	make_link("alias", "src");
	expect_refused(check("alias/in", "src", NULL, 0), EINVAL,
		       "it is the overlay's source or inside it (the source "
		       "must never change)");
	/* The source inside the directory. */
	make_dir("outer", CALLER, 0755);
	make_dir("outer/lower", CALLER, 0755);
	expect_refused(check("outer", "outer/lower", NULL, 0), EINVAL,
		       "the overlay's source is inside it (copy-up would "
		       "rewrite the source)");
}

Test(upper, layers_are_made_as_the_caller_and_checked)
{
	char p[256];
	struct stat st;
	struct outcome o;

	make_dir("keep", CALLER, 0755);
	o = check("keep", NULL, UPPER_LAYER, 0751);
	cr_expect_eq(o.r, 0, "%s", o.why);
	snprintf(p, sizeof(p), "%s/keep/upper", base);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_uid, CALLER);
	cr_expect_eq(st.st_mode & 07777, 0751, "mode %o past the umask",
		     st.st_mode & 07777);
	/* Again: the existing layer is taken as it is. */
	o = check("keep", NULL, UPPER_LAYER, 0700);
	cr_expect_eq(o.r, 0, "%s", o.why);
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0751);

	/* A layer the caller swapped for a link, to anywhere. */
	make_dir("elsewhere", CALLER, 0755);
	make_link("keep/work", "elsewhere");
	expect_refused(check("keep", NULL, UPPER_WORK, 0700), ELOOP,
		       "a layer of it is a symlink");
	/* A layer of someone else's in the caller's directory. */
	make_dir("keep2", CALLER, 0755);
	make_dir("keep2/work", 0, 0777);
	expect_refused(check("keep2", NULL, UPPER_WORK, 0700), EPERM,
		       "a layer of it is not owned by the caller");
}
