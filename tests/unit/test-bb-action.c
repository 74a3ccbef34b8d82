/*
 * Tests for bb-runner/action.c: a serialized buildbarn.runner.RunRequest
 * becomes a checked action, or is refused with -EINVAL and a reason, and
 * the out-parameter is only written on success.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "runner.pb-c.h"
#include "util.h"

struct req {
	Buildbarn__Runner__RunRequest msg;
	char *args[8];
	Buildbarn__Runner__RunRequest__EnvironmentVariablesEntry env[8];
	Buildbarn__Runner__RunRequest__EnvironmentVariablesEntry *envp[8];
};

/* A request as the worker sends it. */
static void req_init(struct req *r)
{
	static const Buildbarn__Runner__RunRequest init =
	    BUILDBARN__RUNNER__RUN_REQUEST__INIT;

	memset(r, 0, sizeof(*r));
	r->msg = init;
	r->args[0] = (char *)"cc";
	r->args[1] = (char *)"-c";
	r->msg.arguments = r->args;
	r->msg.n_arguments = 2;
	r->msg.working_directory = (char *)"src";
	r->msg.stdout_path = (char *)"42/stdout";
	r->msg.stderr_path = (char *)"42/stderr";
	r->msg.input_root_directory = (char *)"42/root";
	r->msg.temporary_directory = (char *)"42/tmp";
	r->msg.server_logs_directory = (char *)"42/server_logs";
	r->msg.environment_variables = r->envp;
}

static void req_env(struct req *r, const char *name, const char *value)
{
	static const Buildbarn__Runner__RunRequest__EnvironmentVariablesEntry
	    init =
		BUILDBARN__RUNNER__RUN_REQUEST__ENVIRONMENT_VARIABLES_ENTRY__INIT;
	size_t i = r->msg.n_environment_variables++;

	r->env[i] = init;
	r->env[i].key = (char *)name;
	r->env[i].value = (char *)value;
	r->envp[i] = &r->env[i];
}

static int decode(struct req *r, struct action **ret, char *why)
{
	size_t len = buildbarn__runner__run_request__get_packed_size(&r->msg);
	uint8_t *buf = malloc(len + 1);
	int ret_code;

	buildbarn__runner__run_request__pack(&r->msg, buf);
	ret_code = action_from_bytes(buf, len, ret, why, 256);
	free(buf);
	return ret_code;
}

Test(bb_action, good_request)
{
	struct req r;
	struct action *a = NULL;
	char why[256] = "";

	req_init(&r);
	req_env(&r, "PATH", "/bin");
	req_env(&r, "B", "1");
	req_env(&r, "A", "x");
	req_env(&r, "B", "2");
	r.msg.working_directory = (char *)"./src//sub/";
	cr_assert_eq(decode(&r, &a, why), 0, "%s", why);
	cr_expect_eq(a->argc, 2);
	cr_expect_str_eq(a->argv[0], "cc");
	cr_expect_null(a->argv[2]);
	cr_expect_str_eq(a->working_directory, "src/sub");
	cr_expect_str_eq(a->input_root, "42/root");
	cr_expect_str_eq(a->stdout_path, "42/stdout");
	cr_expect_str_eq(a->temporary_dir, "42/tmp");
	cr_expect(a->env_has_path);
	cr_expect(!a->env_has_tmpdir);
	/* Duplicate keys: the later one wins, each name once. */
	cr_assert_eq(a->n_env, 3);
	for (size_t i = 0; i < a->n_env; i++)
		if (strcmp(a->env[i].name, "B") == 0)
			cr_expect_str_eq(a->env[i].value, "2");
	action_free(a);
}

Test(bb_action, optional_fields)
{
	struct req r;
	struct action *a = NULL;
	char why[256] = "";

	req_init(&r);
	r.args[0] = (char *)"/bin/true";
	r.msg.n_arguments = 1;
	r.msg.working_directory = (char *)"";
	r.msg.temporary_directory = (char *)"";
	req_env(&r, "TMPDIR", "/t");
	cr_assert_eq(decode(&r, &a, why), 0, "%s", why);
	cr_expect_str_eq(a->working_directory, "");
	cr_expect_null(a->temporary_dir);
	cr_expect(a->env_has_tmpdir);
	cr_expect(!a->env_has_path);
	action_free(a);
}

struct bad_case {
	const char *what;
	void (*mutate)(struct req *r);
	const char *why_has;
};

static void no_args(struct req *r)
{
	r->msg.n_arguments = 0;
}
static void empty_arg0(struct req *r)
{
	r->args[0] = (char *)"";
}
static void root_abs(struct req *r)
{
	r->msg.input_root_directory = (char *)"/srv/build/42/root";
}
static void root_climbs(struct req *r)
{
	r->msg.input_root_directory = (char *)"42/../../x";
}
static void root_dotdot(struct req *r)
{
	r->msg.input_root_directory = (char *)"42/../43/root";
}
static void root_is_build(struct req *r)
{
	r->msg.input_root_directory = (char *)".";
}
static void wd_climbs(struct req *r)
{
	r->msg.working_directory = (char *)"src/../..";
}
static void wd_abs(struct req *r)
{
	r->msg.working_directory = (char *)"/src";
}
static void stdout_climbs(struct req *r)
{
	r->msg.stdout_path = (char *)"../stdout";
}
static void stdout_empty(struct req *r)
{
	r->msg.stdout_path = (char *)"";
}
static void same_outputs(struct req *r)
{
	r->msg.stderr_path = (char *)"42/./stdout";
}
static void tmp_climbs(struct req *r)
{
	r->msg.temporary_directory = (char *)"..";
}
static void tmp_is_build(struct req *r)
{
	r->msg.temporary_directory = (char *)".";
}
static void env_eq(struct req *r)
{
	req_env(r, "A=B", "c");
}
static void env_empty(struct req *r)
{
	req_env(r, "", "c");
}
/* arguments[0] "cc" without any PATH. */
static void no_path(struct req *r)
{
	r->msg.n_environment_variables = 0;
}

Test(bb_action, bad_requests)
{
	static const struct bad_case cases[] = {
	    {"no arguments", no_args, "arguments"},
	    {"empty arguments[0]", empty_arg0, "arguments"},
	    {"absolute input root", root_abs, "input_root_directory"},
	    {"input root climbs", root_climbs, "climb out"},
	    {"input root with ..", root_dotdot, ".."},
	    {"input root is the build dir", root_is_build, "itself"},
	    {"working dir climbs", wd_climbs, "working_directory"},
	    {"absolute working dir", wd_abs, "absolute"},
	    {"stdout climbs", stdout_climbs, "stdout_path"},
	    {"empty stdout", stdout_empty, "stdout_path"},
	    {"stdout is stderr", same_outputs, "same file"},
	    {"tmp climbs", tmp_climbs, "temporary_directory"},
	    {"tmp is the build dir", tmp_is_build, "temporary_directory"},
	    {"'=' in a name", env_eq, "'='"},
	    {"empty name", env_empty, "empty"},
	    {"no PATH for a bare name", no_path, "PATH"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct req r;
		struct action *a = (struct action *)0x1;
		char why[256] = "";
		int ret;

		req_init(&r);
		req_env(&r, "PATH", "/bin");
		cases[i].mutate(&r);
		ret = decode(&r, &a, why);
		cr_expect_eq(ret, -EINVAL, "%s: %d", cases[i].what, ret);
		cr_expect_eq(a, (struct action *)0x1, "%s: wrote its output",
			     cases[i].what);
		cr_expect(strstr(why, cases[i].why_has) != NULL,
			  "%s: reason \"%s\" lacks \"%s\"", cases[i].what, why,
			  cases[i].why_has);
	}
}

Test(bb_action, not_a_request)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
	struct action *a = (struct action *)0x1;
	char *path = (char *)"untouched";
	char why[256] = "";

	cr_expect_eq(action_from_bytes(junk, sizeof(junk), &a, why, 256),
		     -EINVAL);
	cr_expect_eq(a, (struct action *)0x1);
	cr_expect_eq(action_readiness_path(junk, sizeof(junk), &path, why, 256),
		     -EINVAL);
	cr_expect_str_eq(path, "untouched");
}

Test(bb_action, readiness_path)
{
	Buildbarn__Runner__CheckReadinessRequest req =
	    BUILDBARN__RUNNER__CHECK_READINESS_REQUEST__INIT;
	uint8_t buf[64];
	size_t len;
	char *path = NULL, why[256] = "";

	req.path = (char *)"42/./root/";
	len = buildbarn__runner__check_readiness_request__pack(&req, buf);
	cr_assert_eq(action_readiness_path(buf, len, &path, why, 256), 0);
	cr_expect_str_eq(path, "42/root");
	free(path);
	req.path = (char *)"../x";
	len = buildbarn__runner__check_readiness_request__pack(&req, buf);
	cr_expect_eq(action_readiness_path(buf, len, &path, why, 256), -EINVAL);
}
