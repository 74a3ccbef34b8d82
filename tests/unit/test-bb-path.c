/*
 * Tests for bb-runner/path.c: textual normalisation of the runner
 * protocol's relative paths (nothing absolute, no ".."), and
 * opening beneath a directory fd, where the kernel refuses what climbs out
 * on disk (symlinks, "..").
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "util.h"

struct norm_case {
	const char *in;
	const char *out; /* NULL: refused with err */
	int err;
};

Test(bb_path, normalize)
{
	static const struct norm_case cases[] = {
	    {"", "", 0},
	    {".", "", 0},
	    {"./", "", 0},
	    {"a", "a", 0},
	    {"a/b/c", "a/b/c", 0},
	    {"a//b///c/", "a/b/c", 0},
	    {"./a/./b/.", "a/b", 0},
	    {"...", "...", 0},
	    {"..a/b..", "..a/b..", 0},
	    {"/", NULL, -EINVAL},
	    {"/etc", NULL, -EINVAL},
	    {"//a", NULL, -EINVAL},
	    {"..", NULL, -EXDEV},
	    {"../a", NULL, -EXDEV},
	    {"a/../..", NULL, -EXDEV},
	    {"a/../../b", NULL, -EXDEV},
	    {"./..", NULL, -EXDEV},
	    /* Even a ".." that would stay inside. */
	    {"a/../b", NULL, -EXDEV},
	    {"a/b/../../c", NULL, -EXDEV},
	    {"a/..", NULL, -EXDEV},
	    {"a/b/..", NULL, -EXDEV},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *out = (char *)"untouched";
		int r = path_normalize(cases[i].in, &out);

		if (cases[i].out) {
			cr_expect_eq(r, 0, "\"%s\": %d", cases[i].in, r);
			cr_expect_str_eq(out, cases[i].out, "\"%s\"",
					 cases[i].in);
			free(out);
		} else {
			cr_expect_eq(r, cases[i].err, "\"%s\": %d, want %d",
				     cases[i].in, r, cases[i].err);
			cr_expect_str_eq(out, "untouched",
					 "\"%s\" wrote its output",
					 cases[i].in);
		}
	}
}

Test(bb_path, normalize_lengths)
{
	char comp[PATH_COMPONENT_MAX + 2], *out = NULL;
	char *longp = malloc(PATH_LENGTH_MAX + 2);

	memset(comp, 'x', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = 0;
	cr_expect_eq(path_normalize(comp, &out), -ENAMETOOLONG);
	comp[PATH_COMPONENT_MAX] = 0;
	cr_assert_eq(path_normalize(comp, &out), 0);
	free(out);

	memset(longp, 'a', PATH_LENGTH_MAX + 1);
	for (size_t i = 100; i < PATH_LENGTH_MAX; i += 100)
		longp[i] = '/';
	longp[PATH_LENGTH_MAX + 1] = 0;
	cr_expect_eq(path_normalize(longp, &out), -ENAMETOOLONG);
	free(longp);
}

Test(bb_path, split_and_join)
{
	char *dir = NULL, *name = NULL, *j = NULL;

	cr_assert_eq(path_split("a/b/stdout", &dir, &name), 0);
	cr_expect_str_eq(dir, "a/b");
	cr_expect_str_eq(name, "stdout");
	free(dir);
	free(name);
	cr_assert_eq(path_split("stdout", &dir, &name), 0);
	cr_expect_str_eq(dir, "");
	cr_expect_str_eq(name, "stdout");
	free(dir);
	free(name);
	cr_expect_eq(path_split("", &dir, &name), -EISDIR);

	cr_assert_eq(path_join("/build", "src/x", &j), 0);
	cr_expect_str_eq(j, "/build/src/x");
	free(j);
	cr_assert_eq(path_join("/build", "", &j), 0);
	cr_expect_str_eq(j, "/build");
	free(j);
	cr_assert_eq(path_join("/", "src", &j), 0);
	cr_expect_str_eq(j, "/src");
	free(j);
	cr_assert_eq(path_join("/", "", &j), 0);
	cr_expect_str_eq(j, "/");
	free(j);
}

static char tmpdir[64];

static void make_tree(void)
{
	char p[128];

	strcpy(tmpdir, "/tmp/boxd-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(p, sizeof(p), "%s/base", tmpdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/base/dir", tmpdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/outside", tmpdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	/* An absolute symlink out, a relative one out, one that stays. */
	snprintf(p, sizeof(p), "%s/base/abs", tmpdir);
	cr_assert_eq(symlink("/etc", p), 0);
	snprintf(p, sizeof(p), "%s/base/rel", tmpdir);
	cr_assert_eq(symlink("../outside", p), 0);
	snprintf(p, sizeof(p), "%s/base/inside", tmpdir);
	cr_assert_eq(symlink("dir", p), 0);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)!system(cmd);
}

Test(bb_path, open_beneath, .init = make_tree, .fini = remove_tree)
{
	char p[128];
	int base, fd;

	snprintf(p, sizeof(p), "%s/base", tmpdir);
	base = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(base, 0);

	fd = path_open_beneath(base, "", O_PATH | O_DIRECTORY);
	cr_expect_geq(fd, 0);
	safe_close(fd);
	fd = path_open_beneath(base, "dir", O_PATH | O_DIRECTORY);
	cr_expect_geq(fd, 0);
	safe_close(fd);

	/* Refused however the way out is spelled. */
	cr_expect_lt(path_open_beneath(base, "abs", O_PATH), 0);
	cr_expect_lt(path_open_beneath(base, "rel", O_PATH), 0);
	cr_expect_lt(path_open_beneath(base, "rel/x", O_PATH), 0);
	cr_expect_eq(path_open_beneath(base, "..", O_PATH), -EXDEV);
	cr_expect_eq(path_open_beneath(base, "/etc", O_PATH), -EINVAL);
	/* Even a symlink that stays inside is not followed. */
	cr_expect_eq(path_open_beneath(base, "inside", O_PATH | O_DIRECTORY),
		     -ELOOP);
	cr_expect_eq(path_open_beneath(base, "missing", O_PATH), -ENOENT);
	close(base);
}
