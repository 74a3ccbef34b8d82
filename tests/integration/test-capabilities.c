/*
 * Capabilities in words against a real boxd (docs/seeds.md: isobox's
 * Capability.Describe and Plan.Uses, sandboxlib's
 * maximum_possible_isolation()): status lists every guarantee with its
 * sentence and availability, and why not for one that is not available;
 * a plan lists exactly the guarantees its spec uses; --max-isolation
 * builds a run whose plan shows the tightest settings, and the run works.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define MiB (1024ull * 1024)
#define NOBODY 65534

static struct daemon d;

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
}

TestSuite(capabilities, .init = setup, .fini = teardown, .timeout = 120);

/* boxctl with args (a shell-quoted string); stdout in *out, exit status
 * returned. */
static int boxctl(struct daemon *dm, const char *args, char **out)
{
	return boxctl_shell(dm, args, false, out);
}

static bool strv_has(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

Test(capabilities, host_lists_each_guarantee_with_its_sentence)
{
	box_client *c = connect_root(&d);
	const box_host_info *h = box_client_host(c);
	size_t n = box_host_capability_count(h);
	const char *const want[] = {
	    "ns:user",         "net:none",        "net:loopback", "net:host",
	    "seccomp:default", "write:ephemeral", "exec:no_exec", "read:hide",
	    "limit:timeout",   "limit:memory",    "tty",          NULL,
	};

	cr_assert_gt(n, 20);
	for (const char *const *w = want; *w; w++)
		cr_expect_geq(box_host_capability_find(h, *w), 0, "%s", *w);
	for (size_t i = 0; i < n; i++) {
		const char *name = box_host_capability_name(h, i);
		const char *sentence = box_host_capability_description(h, i);

		cr_assert_not_null(name);
		cr_assert_not_null(sentence);
		cr_expect_gt(strlen(sentence), 20, "%s", name);
		/* One sentence: ends with a full stop. */
		cr_expect_eq(sentence[strlen(sentence) - 1], '.', "%s", name);
		cr_expect_str_eq(sentence, box_capability_describe(name));
		if (!box_host_capability_available(h, i))
			cr_expect_not_null(box_host_capability_reason(h, i),
					   "%s", name);
	}
	/* Root's built-in tenant may do anything the host can. */
	cr_expect(box_host_has_capability(h, "net:host"));
	cr_expect(box_host_has_capability(h, "seccomp:none"));
	cr_expect(box_host_has_capability(h, "limit:timeout"));
	cr_expect_eq(
	    box_host_capability_ceiling(
		h, (size_t)box_host_capability_find(h, "limit:memory")),
	    -1);
	box_client_free(c);
}

Test(capabilities, boxctl_status_prints_them_in_words_and_json)
{
	json_object *o, *host, *caps, *first;
	char *out;

	cr_assert_eq(boxctl(&d, "status", &out), 0, "%s", out);
	cr_expect(strstr(out, "\ncapabilities:\n"), "%s", out);
	cr_expect(strstr(out, "  net:none               yes The command has "
			      "no network at all"),
		  "%s", out);
	cr_expect(strstr(out, "  exec:no_exec           yes "), "%s", out);
	free(out);

	cr_assert_eq(boxctl(&d, "status --json", &out), 0, "%s", out);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(o, "host", &host));
	cr_assert(json_object_object_get_ex(host, "capabilities", &caps));
	cr_assert_gt(json_object_array_length(caps), 20);
	first = json_object_array_get_idx(caps, 0);
	cr_expect_str_eq(
	    json_object_get_string(json_object_object_get(first, "name")),
	    "ns:user");
	cr_expect_not_null(json_object_object_get(first, "description"));
	cr_expect(json_object_get_boolean(
	    json_object_object_get(first, "available")));
	json_object_put(o);
	free(out);
}

Test(capabilities, a_plan_lists_exactly_the_uses_of_its_spec)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_root(&d);
	const box_host_info *h = box_client_host(c);
	box_spec *s = spec_argv(argv);
	box_plan *p = NULL;
	const char *const *u;

	if (!box_host_has_capability(h, "limit:memory")) {
		box_spec_free(s);
		box_client_free(c);
		teardown();
		cr_skip_test("this host cannot enforce a memory limit");
	}
	cr_assert_eq(box_spec_set_net(s, BOX_NET_LOOPBACK), 0);
	cr_assert_eq(box_spec_set_memory(s, 64 * MiB), 0);
	cr_assert_eq(box_spec_set_no_exec(s, true), 0);
	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	u = box_plan_uses(p);
	cr_expect(strv_has(u, "net:loopback"));
	cr_expect(strv_has(u, "limit:memory"));
	cr_expect(strv_has(u, "exec:no_exec"));
	cr_expect(strv_has(u, "seccomp:default"));
	cr_expect(strv_has(u, "write:read_only"));
	cr_expect(!strv_has(u, "net:none"));
	cr_expect(!strv_has(u, "net:host"));
	cr_expect(!strv_has(u, "limit:pids"));
	cr_expect(!strv_has(u, "limit:cpus"));
	cr_expect(!strv_has(u, "limit:timeout"));
	cr_expect(!strv_has(u, "write:ephemeral"));
	cr_expect(!strv_has(u, "write:bind"));
	cr_expect(!strv_has(u, "read:hide"));
	/* Every use is a capability the host lists, by the same name. */
	for (; *u; u++)
		cr_expect_geq(box_host_capability_find(h, *u), 0, "%s", *u);
	box_plan_free(p);
	box_spec_free(s);
	box_client_free(c);
}

Test(capabilities, boxctl_plan_prints_the_uses_in_words)
{
	char *out;

	cr_assert_eq(boxctl(&d,
			    "run --plan --net loopback --no-exec --hide /etc "
			    "--bind /tmp /scratch -- /bin/true",
			    &out),
		     0, "%s", out);
	cr_expect(strstr(out, "uses:          net:loopback: The command has a "
			      "private loopback interface"),
		  "%s", out);
	cr_expect(strstr(out, "uses:          exec:no_exec: "), "%s", out);
	cr_expect(strstr(out, "uses:          read:hide: "), "%s", out);
	cr_expect(strstr(out, "[/etc]\n"), "%s", out);
	cr_expect(strstr(out, "uses:          write:bind: "), "%s", out);
	cr_expect(strstr(out, "[/scratch]\n"), "%s", out);
	cr_expect(!strstr(out, "net:none"), "%s", out);
	cr_expect(!strstr(out, "write:read_only"), "%s", out);
	free(out);

	cr_assert_eq(boxctl(&d, "run --plan --json -- /bin/true", &out), 0,
		     "%s", out);
	cr_expect(strstr(out, "\"uses\":[") || strstr(out, "\"uses\": ["), "%s",
		  out);
	cr_expect(strstr(out, "\"net:none\""), "%s", out);
	free(out);
}

Test(capabilities, max_isolation_is_the_tightest_and_runs)
{
	json_object *o, *v;
	char *out;

	cr_assert_eq(
	    boxctl(&d,
		   "run --plan --json --net host --max-isolation -- /bin/true",
		   &out),
	    0, "%s", out);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "not JSON: %s", out);
	cr_expect_str_eq(
	    json_object_get_string(json_object_object_get(o, "net")), "none");
	cr_expect_str_eq(
	    json_object_get_string(json_object_object_get(o, "seccomp")),
	    "default");
	cr_expect(
	    json_object_get_boolean(json_object_object_get(o, "no_exec")));
	cr_expect(
	    json_object_get_boolean(json_object_object_get(o, "new_session")));
	cr_expect(json_object_get_boolean(
	    json_object_object_get(o, "die_with_client")));
	cr_expect(!json_object_get_boolean(
	    json_object_object_get(o, "write_ephemeral")));
	cr_assert(json_object_object_get_ex(o, "uses", &v));
	cr_expect(strstr(json_object_to_json_string(v), "\"net:none\""));
	cr_expect(strstr(json_object_to_json_string(v), "\"seccomp:default\""));
	cr_expect(strstr(json_object_to_json_string(v), "\"exec:no_exec\""));
	cr_expect(strstr(json_object_to_json_string(v), "\"write:read_only\""));
	json_object_put(o);
	free(out);

	/* Options after it apply on top. */
	cr_assert_eq(boxctl(&d,
			    "run --plan --max-isolation --net loopback -- "
			    "/bin/true",
			    &out),
		     0, "%s", out);
	cr_expect(strstr(out, "uses:          net:loopback: "), "%s", out);
	free(out);

	cr_expect_eq(boxctl(&d, "run --max-isolation -- /bin/true", &out), 0,
		     "%s", out);
	free(out);
	/* /tmp stays writable, /var does not. */
	cr_expect_eq(boxctl(&d,
			    "run --max-isolation -- /bin/sh -c "
			    "'echo x > /tmp/f && ! (echo x > /var/f) "
			    "2>/dev/null' 2>&1",
			    &out),
		     0, "%s", out);
	free(out);
}

/* ------------------------------------- a tenant: ceilings and refusals */

static struct daemon t;

static const char tenant_conf[] = "[default]\n"
				  "max-memory = 128M\n"
				  "max-pids = 32\n";

static void tenant_setup(void)
{
	require_root();
	daemon_start(&t, NULL, tenant_conf);
}

static void tenant_teardown(void)
{
	daemon_stop(&t);
}

TestSuite(capabilities_tenant, .init = tenant_setup, .fini = tenant_teardown,
	  .timeout = 120);

Test(capabilities_tenant, refusals_say_why_and_tightest_keeps_ceilings)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_as(&t, NOBODY, NOBODY);
	const box_host_info *h = box_client_host(c);
	int i = box_host_capability_find(h, "net:host");
	box_spec *s = spec_argv(argv);
	box_plan *p = NULL;

	cr_assert_geq(i, 0);
	cr_expect(!box_host_capability_available(h, (size_t)i));
	cr_expect(strstr(box_host_capability_reason(h, (size_t)i),
			 "may not use the host's network"),
		  "%s", box_host_capability_reason(h, (size_t)i));
	cr_expect(!box_host_has_capability(h, "seccomp:none"));
	if (!box_host_has_capability(h, "limit:memory") ||
	    !box_host_has_capability(h, "limit:pids")) {
		box_spec_free(s);
		box_client_free(c);
		tenant_teardown();
		cr_skip_test("this host cannot enforce memory and pids limits");
	}
	i = box_host_capability_find(h, "limit:memory");
	cr_expect_eq(box_host_capability_ceiling(h, (size_t)i),
		     (int64_t)(128 * MiB));
	cr_assert_eq(box_host_tightest(h, s), 0);
	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	cr_expect_eq(box_plan_memory_bytes(p), (int64_t)(128 * MiB));
	cr_expect_eq(box_plan_pids(p), 32);
	cr_expect_eq(box_plan_net(p), BOX_NET_NONE);
	box_plan_free(p);
	box_spec_free(s);
	box_client_free(c);
}

/* ------------------------------------------- a daemon without cgroups */

static struct daemon nc;

static void nocgroups_setup(void)
{
	require_root();
	/* The harness starts boxd with --no-cgroups for this choice. */
	setenv("BOXD_TEST_CGROUP", "none", 1);
	daemon_start(&nc, NULL, NULL);
	unsetenv("BOXD_TEST_CGROUP");
}

static void nocgroups_teardown(void)
{
	daemon_stop(&nc);
}

TestSuite(capabilities_nocgroups, .init = nocgroups_setup,
	  .fini = nocgroups_teardown, .timeout = 120);

Test(capabilities_nocgroups, limits_are_unavailable_and_say_why)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_root(&nc);
	const box_host_info *h = box_client_host(c);
	int i = box_host_capability_find(h, "limit:memory");
	box_spec *s = spec_argv(argv);
	box_run *run;
	char *out = NULL, *err = NULL;

	cr_assert_geq(i, 0);
	cr_expect(!box_host_capability_available(h, (size_t)i));
	cr_expect(
	    strstr(box_host_capability_reason(h, (size_t)i), "--no-cgroups"),
	    "%s", box_host_capability_reason(h, (size_t)i));
	cr_expect(!box_host_has_capability(h, "limit:pids"));
	cr_expect(!box_host_has_capability(h, "accounting:peak_memory"));
	/* Wall time is the daemon's own. */
	cr_expect(box_host_has_capability(h, "limit:timeout"));

	/* The tightest spec asks for no limit the host cannot enforce: it
	 * runs. */
	cr_assert_eq(box_host_tightest(h, s), 0);
	run = run_capture(c, s, NULL, &out, &err);
	cr_assert_not_null(run);
	cr_expect_null(
	    box_run_error(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "");
	cr_expect_eq(box_run_exit_status(run), 0);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);

	cr_assert_eq(boxctl(&nc, "status", &out), 0, "%s", out);
	cr_expect(strstr(out, "limit:memory           no  "), "%s", out);
	cr_expect(strstr(out, "not here: cgroups are disabled"), "%s", out);
	free(out);
}
