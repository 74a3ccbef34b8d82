/*
 * --no-exec, attacked from inside by probe-noexec: after the command's
 * own exec, execve of a path, execveat(AT_EMPTY_PATH) of an fd, fexecve
 * of a memfd copy, a #! script, and exec from a forked child and from a
 * second thread must all fail with EPERM. The same probe without
 * --no-exec is the control: every attempt runs. The command's own exec
 * goes through PATH lookup like any run's.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "sec.h"

#define SCRIPT "#!/bin/sh\nexit 0\n"

static struct daemon d;

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(noexec, .init = setup, .fini = teardown, .timeout = 180);

static box_spec *probe_spec(const char *mode)
{
	const char *const args[] = {mode, SEC_PROBES "/probe-noexec",
				    "/opt/script", NULL};
	box_spec *s = sec_spec("probe-noexec", args);

	cr_assert(box_spec_add_file(s, "/opt/script", SCRIPT, strlen(SCRIPT),
				    0755) >= 0);
	return s;
}

Test(noexec, every_later_exec_is_refused)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = probe_spec("refused");

	cr_assert(box_spec_set_no_exec(s, true) >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

/* Root without any filter of the daemon's: no-exec's own filter still
 * holds, 32-bit and x32 numbers included. */
Test(noexec, holds_without_the_default_filter)
{
	box_client *c = connect_root(&d);
	box_spec *s = probe_spec("refused");

	cr_assert(box_spec_set_no_exec(s, true) >= 0);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

Test(noexec, without_it_every_exec_runs)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = probe_spec("allowed");

	sec_run_expect_pass(c, s);
	box_spec_free(s);
	box_client_free(c);
}

/* The command itself is found in PATH and runs; a shell it starts can
 * run its builtins but no program. */
Test(noexec, the_commands_own_exec_goes_through)
{
	const char *const argv[] = {
	    "sh", "-c",
	    "echo own; if /bin/true; then echo RAN; else echo "
	    "refused; fi",
	    NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_set_no_exec(s, true) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(box_run_result(run), "%s", err);
	cr_expect_str_eq(out, "own\nrefused\n", "stderr: %s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* The result counts what was refused: two programs the shell tried to
 * run, each refused once; a run without --no-exec has no count. */
Test(noexec, the_result_counts_refused_execs)
{
	const char *const argv[] = {"sh", "-c",
				    "/bin/true; /bin/false; :", NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = spec_argv(argv);
	char *out, *err, *json = NULL;
	box_run *run;

	cr_assert(box_spec_set_no_exec(s, true) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(box_run_result(run), "%s", err);
	cr_expect_eq(box_result_execs_refused(box_run_result(run)), 2,
		     "execs_refused %lld; stderr: %s",
		     (long long)box_result_execs_refused(box_run_result(run)),
		     err);
	cr_assert(box_result_json(box_run_result(run), &json) >= 0);
	cr_expect(strstr(json, "\"execs_refused\":2"), "%s", json);
	free(json);
	free(out);
	free(err);
	box_run_free(run);

	cr_assert(box_spec_set_no_exec(s, false) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(box_run_result(run), "%s", err);
	cr_expect_eq(box_result_execs_refused(box_run_result(run)), -1);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(noexec, with_a_kill_rule_policy_is_refused)
{
	static const char policy[] = "base default\nkill ptrace\n";
	const char *const argv[] = {"/bin/true", NULL};
	const char *const needles[] = {"no-exec", "kill rules", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_set_no_exec(s, true) >= 0);
	cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy,
				       strlen(policy)) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_UNSUPPORTED, needles);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(noexec, the_plan_says_so)
{
	const char *const argv[] = {"/bin/true", NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = spec_argv(argv);
	box_plan *p = NULL;

	json_object *o, *v;
	size_t last;
	char *json;

	cr_assert(box_spec_set_no_exec(s, true) >= 0);
	cr_assert(box_spec_set_write_ephemeral(s, true) >= 0);
	cr_assert(box_spec_add_file(s, "/opt/f", "12345", 5, 0600) >= 0);
	cr_assert_eq(box_run_plan(c, s, &p), 0);
	cr_expect(box_plan_no_exec(p));
	cr_expect(box_plan_write_ephemeral(p));
	/* The profile's /usr is an overlay now; the file is the last. */
	cr_expect_eq(box_plan_mount_kind(p, 0), BOX_MOUNT_OVERLAY);
	last = box_plan_mount_count(p) - 1;
	cr_expect_eq(box_plan_mount_kind(p, last), BOX_MOUNT_FILE);
	cr_expect_eq(box_plan_mount_data_bytes(p, last), 5);
	cr_expect_eq(box_plan_mount_mode(p, last), 0600);
	cr_assert_eq(box_plan_json(p, &json), 0);
	o = json_tokener_parse(json);
	cr_assert_not_null(o);
	cr_expect(json_object_object_get_ex(o, "no_exec", &v) &&
		  json_object_get_boolean(v));
	cr_expect(json_object_object_get_ex(o, "write_ephemeral", &v) &&
		  json_object_get_boolean(v));
	json_object_put(o);
	free(json);
	box_plan_free(p);
	box_spec_free(s);
	box_client_free(c);
}
