/*
 * boxctl run --policy FILE against a real boxd: what a policy file sets
 * (limits, environment, mounts) is what the run gets; the command line
 * applies on top of the file (a scalar replaces, a list adds); a caller
 * variable reaches the run only where the file names it; and every error
 * in a file, word for word with its file and line.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;
static char dir[64];

static void make_dir(void)
{
	char sub[128];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/boxd-policy-XXXXXX");
	cr_assert(mkdtemp(dir));
	chmod(dir, 0755);
	/* A directory next to the policy file, bound by a relative path. */
	snprintf(sub, sizeof(sub), "%s/data", dir);
	cr_assert(mkdir(sub, 0755) == 0);
	snprintf(sub, sizeof(sub), "%s/data/f", dir);
	f = fopen(sub, "w");
	cr_assert_not_null(f);
	fputs("from the data dir\n", f);
	fclose(f);
	snprintf(sub, sizeof(sub), "%s/more", dir);
	cr_assert(mkdir(sub, 0755) == 0);
}

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
	make_dir();
}

static void teardown(void)
{
	char cmd[128];

	daemon_stop(&d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

static void setup_errors(void)
{
	make_dir();
	snprintf(d.sock, sizeof(d.sock), "%s/no.sock", dir);
}

static void teardown_errors(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
}

TestSuite(policy, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(policy_errors, .init = setup_errors, .fini = teardown_errors,
	  .timeout = 60);

/* Write text as dir/name; returns the path (static). */
static const char *policy_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* boxctl --socket ... args (a shell-quoted string), stdout and stderr
 * together in *out; returns the exit status. */
static int boxctl(const char *args, char **out)
{
	return boxctl_shell(&d, args, true, out);
}

/* The "limits:" line of a text plan, or "" */
static const char *cgroups(void)
{
	return strcmp(d.cgroup_mode, "none") == 0 ? "" : "cgroups";
}

/* ------------------------------------------------------------ the runs */

Test(policy, the_run_gets_what_the_file_sets)
{
	const char *p =
	    policy_file("run.ini", "# a policy\n"
				   "[run]\n"
				   "lenient = true\n"
				   "[limits]\n"
				   "memory = 64M\n"
				   "pids = 32\n"
				   "rlimit = nofile=100\n"
				   "[env]\n"
				   "set = GREETING hello from the file\n"
				   "[mounts]\n"
				   "ro-bind = data /data\n"
				   "size = 1M\n"
				   "tmpfs = /scratch\n"
				   "file-data = /scratch/note a note\n");
	char args[512], *out;

	snprintf(args, sizeof(args),
		 "run --policy %s --no-tty -- /bin/sh -c 'cat /data/f "
		 "/scratch/note; echo; echo \"$GREETING\"; ulimit -n; "
		 "df -k /scratch | tail -1 | tr -s \" \" | cut -d\" \" -f2'",
		 p);
	cr_expect_eq(boxctl(args, &out), 0, "%s", out);
	cr_expect_str_eq(out, "from the data dir\n"
			      "a note\n"
			      "hello from the file\n"
			      "100\n"
			      "1024\n");
	free(out);

	/* The limits, as boxd would enforce them. */
	snprintf(args, sizeof(args), "run --policy %s --plan -- true", p);
	cr_expect_eq(boxctl(args, &out), 0, "%s", out);
	if (*cgroups())
		cr_expect(strstr(out, "memory 64M") && strstr(out, "pids 32"),
			  "%s", out);
	cr_expect(strstr(out, "nofile 100:100"), "%s", out);
	free(out);
}

Test(policy, the_command_line_applies_on_top)
{
	const char *p = policy_file("top.ini", "[run]\n"
					       "lenient = true\n"
					       "hostname = from-file\n"
					       "net = loopback\n"
					       "[limits]\n"
					       "memory = 64M\n"
					       "[env]\n"
					       "set = WHO file\n"
					       "set = KEPT yes\n"
					       "[mounts]\n"
					       "ro-bind = data /data\n");
	char args[768], *out;

	/* Scalars replace the file's, lists add after it. */
	snprintf(args, sizeof(args),
		 "run --hostname from-cli --memory 128M --policy %s "
		 "--setenv WHO cli --ro-bind %s/more /more --no-tty -- "
		 "/bin/sh -c 'hostname; echo $WHO $KEPT; cat /data/f; "
		 "test -d /more && echo more'",
		 p, dir);
	cr_expect_eq(boxctl(args, &out), 0, "%s", out);
	cr_expect_str_eq(out, "from-cli\n"
			      "cli yes\n"
			      "from the data dir\n"
			      "more\n");
	free(out);

	snprintf(args, sizeof(args),
		 "run --policy %s --net none --memory 128M --plan -- true", p);
	cr_expect_eq(boxctl(args, &out), 0, "%s", out);
	cr_expect(strstr(out, "network:       none"), "%s", out);
	if (*cgroups())
		cr_expect(strstr(out, "memory 128M") &&
			      !strstr(out, "memory 64M"),
			  "%s", out);
	/* The file's mount first, then the option's. */
	cr_expect(strstr(out, " on /data ") && !strstr(out, "/more"), "%s",
		  out);
	free(out);
}

Test(policy, a_caller_variable_only_where_the_file_allows_it)
{
	const char *p = policy_file(
	    "env.ini", "[env]\n"
		       "pass = POLICY_TEST_PASSED POLICY_TEST_NOT_SET\n"
		       "allow = POLICY_TEST_SECRET\n"
		       "set = X ${POLICY_TEST_SECRET}-ok $$HOME\n");
	char args[512], *out;

	setenv("POLICY_TEST_PASSED", "passed", 1);
	setenv("POLICY_TEST_SECRET", "s3cret", 1);
	unsetenv("POLICY_TEST_NOT_SET");
	snprintf(args, sizeof(args),
		 "run --policy %s --no-tty -- /bin/sh -c 'echo \"$X\" "
		 "$POLICY_TEST_PASSED ${POLICY_TEST_NOT_SET-unset}'",
		 p);
	cr_expect_eq(boxctl(args, &out), 0, "%s", out);
	cr_expect_str_eq(out, "s3cret-ok $HOME passed unset\n");
	free(out);

	/* Not allowed: refused before anything starts. */
	p = policy_file("refused.ini", "[env]\n"
				       "allow = POLICY_TEST_PASSED\n"
				       "set = X $POLICY_TEST_SECRET\n");
	snprintf(args, sizeof(args), "run --policy %s --no-tty -- true", p);
	cr_expect_eq(boxctl(args, &out), 125);
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "boxctl: %s:3: set: $POLICY_TEST_SECRET is not "
			 "allowed: add it to 'allow' first\n",
			 p);
		cr_expect_str_eq(out, want);
	}
	free(out);
}

/* ------------------------------------------------------------ the errors */

struct policy_error {
	const char *text;
	const char *want; /* after "boxctl: FILE:" */
};

static const struct policy_error errors[] = {
    {"[limit]\n", "1: unknown section [limit] (run, mounts, env, limits)"},
    {"[limits]\nmemroy = 1M\n", "2: unknown key 'memroy' in [limits]"},
    {"memory = 1M\n", "1: 'memory' outside of any section"},
    {"[limits]\nmemory = 12x\n", "2: memory: invalid size '12x'"},
    {"[limits]\nmemory =\n", "2: memory: empty value"},
    {"[limits]\ncpus = 0\n", "2: cpus: CPU count out of range: '0'"},
    {"[limits]\nrlimit = bogus=1\n",
     "2: rlimit: unknown resource 'bogus' (nofile fsize core nproc stack "
     "as)"},
    {"[limits]\ntimeout = soon\n", "2: timeout: invalid duration 'soon'"},
    {"[run]\nnet = wifi\n",
     "2: net: 'wifi' is not one of none, loopback, host, outbound"},
    {"[run]\nprofile = fat\n", "2: profile: 'fat' is not one of default, "
			       "bare"},
    {"[run]\nno-exec = maybe\n",
     "2: no-exec: expected true or false, got 'maybe'"},
    {"[run]\nno-exec\n", "2: expected 'key = value', '[section]' or a comment"},
    {"[run]\n  net = host\n", "2: indented line: keys and sections start "
			      "at the beginning of the line"},
    {"[run] net = host\n", "1: unexpected text after the section header"},
    {"[run\n", "1: section header without ']'"},
    {"[run]\nwrite = forever\n", "2: write: 'forever' is not ephemeral"},
    {"[mounts]\nro-bind = /usr\n", "2: ro-bind: expected SRC DEST"},
    {"[mounts]\ntmpfs = /a /b\n",
     "2: tmpfs: expected one value (DST), got '/a /b'"},
    {"[mounts]\ntmpfs = rel\n", "2: tmpfs: 'rel' is not an absolute path"},
    {"[mounts]\nhide = /\n", "2: hide: / cannot be hidden"},
    {"[mounts]\nperms = 999\n", "2: perms: invalid octal mode '999'"},
    {"[mounts]\nfile = /x -\n",
     "2: file: '-' (stdin) only on the command line"},
    {"# end\n[mounts]\nsize = 1M\n\n", "3: size: must be followed by "
				       "tmpfs"},
    {"[mounts]\nsize = 1M\ndir = /x\n",
     "2: size: applies to --tmpfs, not --dir"},
    {"[mounts]\nperms = 0\nfile-data = /x y\n",
     "2: perms: a file needs a mode other than 0"},
    {"[env]\nset = X $HOME\n",
     "2: set: $HOME is not allowed: add it to 'allow' first"},
    {"[env]\nset = X a$\n",
     "2: set: '$' must be followed by NAME, {NAME} or '$' (for a '$')"},
    {"[env]\nset = X ${HOME\n",
     "2: set: '$' must be followed by NAME, {NAME} or '$' (for a '$')"},
    {"[env]\nallow = POLICY_TEST_NOT_SET\nset = X $POLICY_TEST_NOT_SET\n",
     "3: set: $POLICY_TEST_NOT_SET is not set in boxctl's environment"},
    {"[env]\nset = 1X y\n", "2: set: invalid variable name '1X'"},
    {"[env]\npass = OK 1BAD\n", "2: pass: invalid variable name '1BAD'"},
    {"[env]\nallow = A-B\n", "2: allow: invalid variable name 'A-B'"},
    {"[env]\nunset = A=B\n", "2: unset: invalid variable name 'A=B'"},
    /* The first error is the one reported. */
    {"[run]\nbogus = 1\n[nope]\n", "2: unknown key 'bogus' in [run]"},
};

Test(policy_errors, each_error_word_for_word)
{
	unsetenv("POLICY_TEST_NOT_SET");
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const char *p = policy_file("bad.ini", errors[i].text);
		char args[512], want[512], *out;
		int status;

		snprintf(args, sizeof(args), "run --policy %s -- true", p);
		status = boxctl(args, &out);
		snprintf(want, sizeof(want), "boxctl: %s:%s\n", p,
			 errors[i].want);
		cr_expect_str_eq(out, want, "for %s", errors[i].text);
		cr_expect_eq(status, 125);
		free(out);
	}
}

Test(policy_errors, a_relative_seccomp_policy_is_the_files_neighbour)
{
	const char *p =
	    policy_file("sec.ini", "[run]\nseccomp = missing.policy\n");
	char args[512], want[512], *out;

	snprintf(args, sizeof(args), "run --policy %s -- true", p);
	cr_expect_eq(boxctl(args, &out), 125);
	snprintf(want, sizeof(want),
		 "boxctl: %s:2: seccomp: %s/missing.policy: No such file or "
		 "directory\n",
		 p, dir);
	cr_expect_str_eq(out, want);
	free(out);
}

Test(policy_errors, the_file_and_the_option)
{
	const char *p = policy_file("ok.ini", "[run]\nnet = none\n");
	char args[512], want[512], *out;

	snprintf(args, sizeof(args), "run --policy %s/none.ini -- true", dir);
	cr_expect_eq(boxctl(args, &out), 125);
	snprintf(want, sizeof(want),
		 "boxctl: --policy: %s/none.ini: No such file or directory\n",
		 dir);
	cr_expect_str_eq(out, want);
	free(out);

	snprintf(args, sizeof(args), "run --policy %s --policy=%s -- true", p,
		 p);
	cr_expect_eq(boxctl(args, &out), 125);
	cr_expect_str_eq(out, "boxctl: --policy: given twice\n");
	free(out);

	/* A --size in the file does not reach a --tmpfs on the line. */
	p = policy_file("size.ini", "[mounts]\nsize = 1M\n");
	snprintf(args, sizeof(args), "run --policy %s --tmpfs /x -- true", p);
	cr_expect_eq(boxctl(args, &out), 125);
	snprintf(want, sizeof(want),
		 "boxctl: %s:2: size: must be followed by tmpfs\n", p);
	cr_expect_str_eq(out, want);
	free(out);
}

/* The installed example is a policy boxd accepts, as it stands. */
Test(policy, the_example_policy_is_accepted)
{
	const char *src = getenv("BOXD_SOURCE_DIR");
	char args[512], *out;

	if (!src) {
		daemon_stop(&d);
		cr_skip_test("BOXD_SOURCE_DIR is not set (run through meson "
			     "test)");
	}
	setenv("HOME", "/home/someone", 1);
	snprintf(args, sizeof(args),
		 "run --policy %s/docs/policy.example.ini --lenient --plan -- "
		 "true",
		 src);
	cr_expect_eq(boxctl(args, &out), 0, "%s", out);
	cr_expect(strstr(out, "BUILD_HOME=/home/someone/build") &&
		      strstr(out, "PRICE=$5") && strstr(out, "/scratch/motd"),
		  "%s", out);
	free(out);
}
