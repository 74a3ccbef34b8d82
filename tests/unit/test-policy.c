/*
 * The policy-file reader (client/boxctl/policy.c) on its own: which
 * option each key becomes and with which values, in file order; paths
 * relative to the file; the caller's environment read only where the
 * file names a variable; and parsing stops at the first error.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

static char dir[64], path[128];
static char calls[8192];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/boxd-policy-unit-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.ini", dir);
	calls[0] = '\0';
	cr_redirect_stderr();
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(policy, .init = setup, .fini = teardown);

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Records "where|option|v0|v1\n"; fails on --fail-here. */
static int record(void *userdata, const char *where, const char *option,
		  char **values, int nargs)
{
	size_t len = strlen(calls);

	(void)userdata;
	snprintf(calls + len, sizeof(calls) - len, "%s|%s", where, option);
	for (int i = 0; i < nargs; i++) {
		len = strlen(calls);
		snprintf(calls + len, sizeof(calls) - len, "|%s", values[i]);
	}
	len = strlen(calls);
	snprintf(calls + len, sizeof(calls) - len, "\n");
	if (strcmp(option, "--hostname") == 0 &&
	    strcmp(values[0], "bad") == 0) {
		fprintf(stderr, "boxctl: %s: bad\n", where);
		return -EINVAL;
	}
	return 0;
}

static char *const no_env[] = {NULL};

/* "FILE:LINE: key" */
static const char *at(unsigned line, const char *key)
{
	static char buf[16][256];
	static int n;

	n = (n + 1) % 16;
	snprintf(buf[n], sizeof(buf[n]), "%s:%u: %s", path, line, key);
	return buf[n];
}

Test(policy, keys_become_options_in_file_order)
{
	char want[4096];

	write_file("; comment\n"
		   "# comment\n"
		   "\n"
		   "[limits]\n"
		   "memory = 64M   # trailing comment\n"
		   "rlimit = nofile=10\n"
		   "[run]\n"
		   "no-exec = true\n"
		   "lenient = false\n"
		   "net = loopback ; also a comment\n"
		   "seccomp = default\n"
		   "tag = a b  c\n"
		   "[mounts]\n"
		   "tmpfs = /t\n"
		   "file-data = /t/f two  words\n"
		   "symlink = target /dst\n"
		   "[env]\n"
		   "unset = PATH\n");
	cr_assert_eq(policy_load(path, no_env, record, NULL), 0);
	snprintf(want, sizeof(want),
		 "%s|--memory|64M\n"
		 "%s|--rlimit|nofile=10\n"
		 "%s|--no-exec\n"
		 "%s|--net|loopback\n"
		 "%s|--seccomp|default\n"
		 "%s|--tag|a b  c\n"
		 "%s|--tmpfs|/t\n"
		 "%s|--file-data|/t/f|two  words\n"
		 "%s|--symlink|target|/dst\n"
		 "%s|--unsetenv|PATH\n",
		 at(5, "memory"), at(6, "rlimit"), at(8, "no-exec"),
		 at(10, "net"), at(11, "seccomp"), at(12, "tag"),
		 at(14, "tmpfs"), at(15, "file-data"), at(16, "symlink"),
		 at(18, "unset"));
	cr_expect_str_eq(calls, want);
}

Test(policy, relative_paths_are_relative_to_the_file)
{
	char want[4096];

	write_file("[run]\n"
		   "seccomp = filter.policy\n"
		   "[mounts]\n"
		   "ro-bind = src /dst\n"
		   "overlay = /abs /o\n"
		   "file = /f ../f\n"
		   "overlay-persist = in /in   keep\n"
		   "overlay-persist = /abs /in /k  # a comment\n");
	cr_assert_eq(policy_load(path, no_env, record, NULL), 0);
	snprintf(want, sizeof(want),
		 "%s|--seccomp|%s/filter.policy\n"
		 "%s|--ro-bind|%s/src|/dst\n"
		 "%s|--overlay|/abs|/o\n"
		 "%s|--file|/f|%s/../f\n"
		 "%s|--overlay-persist|%s/in|/in|%s/keep\n"
		 "%s|--overlay-persist|/abs|/in|/k\n",
		 at(2, "seccomp"), dir, at(4, "ro-bind"), dir, at(5, "overlay"),
		 at(6, "file"), dir, at(7, "overlay-persist"), dir, dir,
		 at(8, "overlay-persist"));
	cr_expect_str_eq(calls, want);
}

Test(policy, overlay_persist_takes_three_values)
{
	write_file("[mounts]\noverlay-persist = /src /dst\n");
	cr_expect_lt(policy_load(path, no_env, record, NULL), 0);
	cr_expect_str_eq(calls, "");
}

Test(policy, the_environment_only_where_named)
{
	char *const env[] = {"A=1", "AB=2", "SECRET=s", "TOKEN=t", NULL};
	char want[4096];

	write_file("[env]\n"
		   "pass = A MISSING\n"
		   "allow = AB TOKEN\n"
		   "set = X $AB-${TOKEN}$$A\n");
	cr_assert_eq(policy_load(path, env, record, NULL), 0);
	snprintf(want, sizeof(want),
		 "%s|--setenv|A|1\n"
		 "%s|--setenv|X|2-t$A\n",
		 at(2, "pass"), at(4, "set"));
	cr_expect_str_eq(calls, want);
}

Test(policy, an_allowed_name_is_not_a_prefix)
{
	char *const env[] = {"A=1", "AB=2", NULL};
	char want[512];

	write_file("[env]\nallow = A\nset = X $AB\n");
	cr_assert_eq(policy_load(path, env, record, NULL), -EINVAL);
	cr_expect_str_eq(calls, "");
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "boxctl: %s:3: set: $AB is not allowed: add it to 'allow' "
		 "first\n",
		 path);
	cr_expect_stderr_eq_str(want);
}

Test(policy, the_first_error_stops_the_file)
{
	char want[512];

	write_file("[run]\nhostname = bad\nhostname = good\n[nope]\n");
	cr_assert_eq(policy_load(path, no_env, record, NULL), -EINVAL);
	snprintf(want, sizeof(want), "%s|--hostname|bad\n", at(2, "hostname"));
	cr_expect_str_eq(calls, want);
	fflush(stderr);
	snprintf(want, sizeof(want), "boxctl: %s: bad\n", at(2, "hostname"));
	cr_expect_stderr_eq_str(want);
}

Test(policy, a_line_too_long_for_inih)
{
	char text[1024] = "[mounts]\nfile-data = /f ";
	char want[512];
	size_t len = strlen(text);

	memset(text + len, 'x', 600);
	strcpy(text + len + 600, "\n");
	write_file(text);
	cr_assert_eq(policy_load(path, no_env, record, NULL), -EINVAL);
	cr_expect_str_eq(calls, "");
	fflush(stderr);
	/* inih's line buffer: INI_MAX_LINE of the library as built. */
	snprintf(want, sizeof(want), "boxctl: %s:2: line longer than ", path);
	{
		char got[512] = "";
		FILE *f = cr_get_redirected_stderr();

		cr_assert(fgets(got, sizeof(got), f));
		cr_expect(strncmp(got, want, strlen(want)) == 0, "%s", got);
	}
}
