/*
 * The seed libraries' features (docs/seeds.md) against a real boxd: the
 * result's start time (hakoniwa's record), RLIMIT_AS (hakoniwa's
 * limit_as), plans of dry runs that resolve everything and start nothing
 * (isobox's Plan, its strict mode and caveats), mounts sorted so parents
 * come first (shac's nsjail wrapper), a host directory as the root
 * (sandboxlib's run_sandbox), and the boxctl flags for each.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MiB (1024ull * 1024)
#define NOBODY 65534
#define JUDGE 4242

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

TestSuite(seeds, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static box_run *run_spec(box_client *c, const box_spec *s, char **out)
{
	char *err = NULL;
	box_run *run = run_capture(c, s, NULL, out, &err);

	cr_assert_not_null(run);
	if (box_run_error(run))
		cr_log_info("run error: %s",
			    box_error_message(box_run_error(run)));
	free(err);
	return run;
}

/* boxctl with args (a shell-quoted string); stdout in *out, exit status
 * returned. */
static int boxctl(struct daemon *dm, const char *args, char **out)
{
	return boxctl_shell(dm, args, false, out);
}

/* ---------------------------------------------------- hakoniwa: the record */

Test(seeds, result_says_when_the_sandbox_started)
{
	const char *argv[] = {"/bin/sleep", "0.2", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	uint64_t before = realtime_ns(), after, start;
	char *out, *json;
	box_run *run = run_spec(c, s, &out);
	const box_result *res = box_run_result(run);
	json_object *o;

	after = realtime_ns();
	cr_assert_not_null(res);
	cr_assert_geq(box_result_start_time_unix_ns(res), 0);
	start = (uint64_t)box_result_start_time_unix_ns(res);
	cr_expect_geq(start, before, "start %llu before the request %llu",
		      (unsigned long long)start, (unsigned long long)before);
	cr_expect_leq(start, after);
	/* Start plus wall time is when it ended: before we saw the end. */
	cr_expect_geq(box_result_wall_ns(res), 200000000ull);
	cr_expect_leq(start + box_result_wall_ns(res), after + 1000000ull);
	/* hakoniwa's record, field by field: status, exit code, times, rss. */
	cr_assert_eq(box_run_json(run, &json), 0);
	o = json_tokener_parse(json);
	cr_assert_not_null(o);
	{
		json_object *v;

		cr_assert(
		    json_object_object_get_ex(o, "start_time_unix_ns", &v));
		cr_expect_eq((uint64_t)json_object_get_uint64(v), start);
		cr_assert(json_object_object_get_ex(o, "termination", &v));
		cr_expect_str_eq(json_object_get_string(v), "exited");
		cr_assert(json_object_object_get_ex(o, "exit_code", &v));
		cr_assert(json_object_object_get_ex(o, "wall_ns", &v));
		cr_assert(json_object_object_get_ex(o, "user_ns", &v));
		cr_assert(json_object_object_get_ex(o, "system_ns", &v));
		cr_assert(json_object_object_get_ex(o, "peak_rss_bytes", &v));
	}
	json_object_put(o);
	free(json);
	free(out);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* -------------------------------------------------- hakoniwa: limit_as */

static box_spec *alloc_spec(unsigned mib)
{
	char n[16];
	const char *argv[] = {"/probe/seed-alloc", n, NULL};
	box_spec *s;

	snprintf(n, sizeof(n), "%u", mib);
	s = spec_argv(argv);
	cr_assert_eq(box_spec_ro_bind(s, probe_dir(), "/probe"), 0);
	return s;
}

Test(seeds, rlimit_as_makes_a_large_allocation_fail)
{
	box_client *c = connect_root(&d);
	box_spec *s = alloc_spec(256);
	const char *limits_argv[] = {"/bin/grep", "Max address space",
				     "/proc/self/limits", NULL};
	box_spec *l = spec_argv(limits_argv);
	char *out;
	box_run *run;

	/* Without the limit the probe gets its 256 MiB ... */
	run = run_spec(c, s, &out);
	cr_assert_eq(box_run_exit_status(run), 0, "out: %s", out);
	cr_expect_str_eq(out, "allocated 256 MiB\n");
	free(out);
	box_run_free(run);

	/* ... with an address space of 64 MiB it cannot. */
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_AS, 64 * MiB, 64 * MiB),
		     0);
	run = run_spec(c, s, &out);
	cr_assert_eq(box_run_exit_status(run), 3, "out: %s", out);
	cr_expect_str_eq(out, "cannot allocate 256 MiB\n");
	free(out);
	box_run_free(run);

	/* The kernel's view from inside. */
	cr_assert_eq(box_spec_add_rlimit(l, BOX_RLIMIT_AS, 64 * MiB, 128 * MiB),
		     0);
	run = run_spec(c, l, &out);
	cr_assert_eq(box_run_exit_status(run), 0);
	cr_expect(strstr(out, "67108864") && strstr(out, "134217728"),
		  "limits: %s", out);
	free(out);
	box_run_free(run);
	box_spec_free(l);
	box_spec_free(s);
	box_client_free(c);
}

Test(seeds, boxctl_rlimit_as)
{
	char args[1024], *out;

	snprintf(args, sizeof(args),
		 "run --rlimit as=64M --ro-bind %s /probe -- "
		 "/probe/seed-alloc 256",
		 probe_dir());
	cr_expect_eq(boxctl(&d, args, &out), 3, "out: %s", out);
	cr_expect_str_eq(out, "cannot allocate 256 MiB\n");
	free(out);
	snprintf(args, sizeof(args),
		 "run --rlimit as=1G:unlimited --ro-bind %s /probe -- "
		 "/probe/seed-alloc 256",
		 probe_dir());
	cr_expect_eq(boxctl(&d, args, &out), 0, "out: %s", out);
	free(out);
	cr_expect_eq(boxctl(&d, "run --rlimit as=2M:1M -- /bin/true", &out),
		     125);
	free(out);
}

/* ----------------------------------------------------------- isobox: Plan */

static box_spec *planned_spec(const char *outdir)
{
	const char *argv[] = {"/bin/sh", "-c", "touch /out/ran", NULL};
	box_spec *s = spec_argv(argv);

	cr_assert_eq(box_spec_bind(s, outdir, "/out"), 0);
	cr_assert_eq(box_spec_tmpfs(s, "/scratch", 16 * MiB, 0700), 0);
	cr_assert_eq(box_spec_symlink(s, "/out", "/results"), 0);
	cr_assert_eq(box_spec_setenv(s, "A", "1"), 0);
	cr_assert_eq(box_spec_setenv(s, "B", "2"), 0);
	cr_assert_eq(box_spec_unsetenv(s, "B"), 0);
	cr_assert_eq(box_spec_set_cwd(s, "/out"), 0);
	cr_assert_eq(box_spec_set_hostname(s, "planned"), 0);
	cr_assert_eq(box_spec_set_uid(s, 0), 0);
	cr_assert_eq(box_spec_set_gid(s, 0), 0);
	cr_assert_eq(box_spec_set_net(s, BOX_NET_LOOPBACK), 0);
	cr_assert_eq(box_spec_set_timeout_ns(s, 5000000000ull), 0);
	cr_assert_eq(
	    box_spec_add_rlimit(s, BOX_RLIMIT_AS, 512 * MiB, BOX_RLIM_INFINITY),
	    0);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_NOFILE, 64, 128), 0);
	cr_assert_eq(box_spec_set_tag(s, "plan me"), 0);
	return s;
}

Test(seeds, plan_resolves_everything_and_starts_nothing)
{
	char dir[] = "/tmp/boxd-test-plan-XXXXXX", ran[128];
	box_client *c = connect_root(&d);
	box_spec *s;
	box_plan *p = NULL;
	box_status *st = NULL;
	box_run_list *list = NULL;
	int64_t hits, misses;
	size_t n, first;
	uint64_t soft, hard;
	box_run *run;
	char *out;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(ran, sizeof(ran), "%s/ran", dir);
	s = planned_spec(dir);
	cr_assert_eq(box_client_status(c, &st), 0);
	hits = box_status_pool_hits(st);
	misses = box_status_pool_misses(st);
	box_status_free(st);

	cr_assert(box_host_has_feature(box_client_host(c), "dry_run"));
	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));

	cr_expect_str_eq(box_plan_argv(p)[0], "/bin/sh");
	cr_expect_str_eq(box_plan_argv(p)[2], "touch /out/ran");
	/* The final environment: PATH, then A; B set and unset again. */
	cr_expect_str_eq(box_plan_env(p)[0],
			 "PATH=/usr/local/sbin:/usr/local/"
			 "bin:/usr/sbin:/usr/bin:/sbin:/bin");
	cr_expect_str_eq(box_plan_env(p)[1], "A=1");
	cr_expect_null(box_plan_env(p)[2]);
	cr_expect_str_eq(box_plan_cwd(p), "/out");
	cr_expect_str_eq(box_plan_hostname(p), "planned");
	cr_expect_str_eq(box_plan_tag(p), "plan me");
	cr_expect_eq(box_plan_uid(p), 0);
	cr_expect_eq(box_plan_gid(p), 0);
	cr_expect_eq(box_plan_host_uid(p), 0); /* the caller: root */
	cr_expect_eq(box_plan_host_gid(p), 0);
	cr_expect_not(box_plan_private_ids(p));
	cr_expect_eq(box_plan_net(p), BOX_NET_LOOPBACK);
	cr_expect_eq(box_plan_profile(p), BOX_PROFILE_DEFAULT);
	cr_expect(box_plan_new_session(p));
	cr_expect(box_plan_die_with_client(p));

	/* The profile's mounts first, expanded; then ours, in order. */
	n = box_plan_mount_count(p);
	cr_assert_geq(n, 8);
	first = n - 3;
	for (size_t i = 0; i < first; i++)
		cr_expect(box_plan_mount_from_profile(p, i), "mount %zu", i);
	cr_expect_eq(box_plan_mount_kind(p, 0), BOX_MOUNT_RO_BIND);
	cr_expect_str_eq(box_plan_mount_dst(p, 0), "/usr");
	cr_expect(box_plan_mount_read_only(p, 0));
	for (size_t i = 0; i < first; i++)
		if (strcmp(box_plan_mount_dst(p, i), "/tmp") == 0) {
			cr_expect_eq(box_plan_mount_kind(p, i),
				     BOX_MOUNT_TMPFS);
			cr_expect_eq(box_plan_mount_mode(p, i), 01777);
			cr_expect_gt(box_plan_mount_size(p, i), 0);
		}
	cr_expect_eq(box_plan_mount_kind(p, first), BOX_MOUNT_BIND);
	cr_expect_str_eq(box_plan_mount_src(p, first), dir);
	cr_expect_str_eq(box_plan_mount_dst(p, first), "/out");
	cr_expect_not(box_plan_mount_read_only(p, first));
	cr_expect_not(box_plan_mount_from_profile(p, first));
	cr_expect_eq(box_plan_mount_kind(p, first + 1), BOX_MOUNT_TMPFS);
	cr_expect_eq(box_plan_mount_size(p, first + 1), 16 * MiB);
	cr_expect_eq(box_plan_mount_mode(p, first + 1), 0700);
	cr_expect_eq(box_plan_mount_kind(p, first + 2), BOX_MOUNT_SYMLINK);
	cr_expect_str_eq(box_plan_mount_src(p, first + 2), "/out");
	cr_expect_str_eq(box_plan_mount_dst(p, first + 2), "/results");

	cr_expect_eq(box_plan_timeout_ns(p), 5000000000ll);
	cr_expect_eq(box_plan_rlimit(p, BOX_RLIMIT_CORE, &soft, &hard), 0);
	cr_expect(soft == 0 && hard == 0);
	cr_expect_eq(box_plan_rlimit(p, BOX_RLIMIT_AS, &soft, &hard), 0);
	cr_expect(soft == 512 * MiB && hard == BOX_RLIM_INFINITY);
	cr_expect_eq(box_plan_rlimit(p, BOX_RLIMIT_NOFILE, &soft, &hard), 0);
	cr_expect(soft == 64 && hard == 128);
	cr_expect_eq(box_plan_rlimit(p, BOX_RLIMIT_STACK, NULL, NULL), -ENOENT);
	cr_expect_eq(box_plan_seccomp_mode(p), BOX_SECCOMP_DEFAULT);
	cr_expect_gt(box_plan_seccomp_instructions(p), 10);
	cr_expect_null(box_plan_caveats(p)[0]);
	box_plan_free(p);

	/* Nothing ran, nothing was taken from the pool, nothing is listed. */
	cr_expect_not(path_exists(ran), "the planned command ran");
	cr_assert_eq(box_client_list(c, &list), 0);
	cr_expect_eq(box_run_list_count(list), 0);
	box_run_list_free(list);
	cr_assert_eq(box_client_status(c, &st), 0);
	cr_expect_eq(box_status_runs(st), 0);
	cr_expect_eq(box_status_pool_hits(st), hits);
	cr_expect_eq(box_status_pool_misses(st), misses);
	box_status_free(st);

	/* The same spec, run for real on the same connection, works. */
	run = run_spec(c, s, &out);
	cr_expect_eq(box_run_exit_status(run), 0);
	cr_expect(path_exists(ran));
	free(out);
	box_run_free(run);
	unlink(ran);
	rmdir(dir);
	box_spec_free(s);
	box_client_free(c);
}

/* Whatever a run is refused with, its plan is refused with, word for
 * word: one code path up to the engine. */
Test(seeds, plan_is_refused_exactly_like_the_run)
{
	box_client *c = connect_root(&d);
	const char *argv[] = {"/bin/true", NULL};
	box_spec *bad[3];
	const struct {
		int err;
		enum box_error_code code;
	} want[3] = {
	    {-EINVAL, BOX_ERROR_BAD_REQUEST},
	    {-EINVAL, BOX_ERROR_BAD_REQUEST},
	    {-EINVAL, BOX_ERROR_BAD_REQUEST},
	};

	bad[0] = spec_argv(argv);
	cr_assert_eq(box_spec_set_cwd(bad[0], "/a/../etc"), 0);
	bad[1] = spec_argv(argv);
	cr_assert_eq(box_spec_set_seccomp(bad[1], BOX_SECCOMP_CUSTOM,
					  "no such verb\n", 13),
		     0);
	bad[2] = spec_argv(argv);
	cr_assert_eq(box_spec_tmpfs(bad[2], "/", 0, -1), 0);

	for (size_t i = 0; i < 3; i++) {
		box_plan *p = NULL;
		char *plan_msg;
		box_run *run;

		cr_expect_eq(box_run_plan(c, bad[i], &p), want[i].err,
			     "spec %zu", i);
		cr_assert_null(p);
		cr_assert_not_null(box_client_last_error(c));
		cr_expect_eq(box_error_code(box_client_last_error(c)),
			     want[i].code);
		plan_msg = strdup(box_error_message(box_client_last_error(c)));
		cr_assert_eq(box_run_start(c, bad[i], -1, -1, -1, &run), 0);
		cr_assert_eq(box_run_wait(run), 0);
		cr_assert_not_null(box_run_error(run));
		cr_expect_eq(box_error_code(box_run_error(run)), want[i].code);
		cr_expect_str_eq(box_error_message(box_run_error(run)),
				 plan_msg);
		free(plan_msg);
		box_run_free(run);
		box_spec_free(bad[i]);
	}
	box_client_free(c);
}

/* isobox's strict mode and caveats: on a host without cgroups a memory
 * limit is refused, or with lenient dropped with a caveat; the plan
 * says so before anything runs, in the words the result will use. */
Test(seeds, plan_shows_lenient_caveats_and_strict_refusals)
{
	const char *argv[] = {"/bin/true", NULL};
	static struct daemon bare; /* the harness stops it at exit */
	box_client *c;
	box_spec *s = spec_argv(argv);
	box_plan *p = NULL;
	box_run *run;
	char *out;

	setenv("BOXD_TEST_CGROUP", "none", 1);
	daemon_start(&bare, NULL, NULL);
	unsetenv("BOXD_TEST_CGROUP");
	c = connect_root(&bare);
	cr_assert_not(box_host_can_limit(box_client_host(c), "memory"));
	cr_assert_eq(box_spec_set_memory(s, 64 * MiB), 0);

	cr_expect_eq(box_run_plan(c, s, &p), -EOPNOTSUPP);
	cr_expect_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_UNSUPPORTED);
	cr_expect(strstr(box_error_message(box_client_last_error(c)),
			 "cannot enforce"));

	cr_assert_eq(box_spec_set_lenient(s, true), 0);
	cr_assert_eq(box_run_plan(c, s, &p), 0);
	cr_expect_eq(box_plan_memory_bytes(p), -1);
	cr_assert_not_null(box_plan_caveats(p)[0]);
	run = run_spec(c, s, &out);
	cr_assert_not_null(box_run_result(run));
	cr_expect_str_eq(box_result_caveats(box_run_result(run))[0],
			 box_plan_caveats(p)[0]);
	free(out);
	box_run_free(run);
	box_plan_free(p);
	box_spec_free(s);
	box_client_free(c);
	daemon_stop(&bare);
}

/* --------------------------------------------------- shac: sorted mounts */

Test(seeds, sorted_mounts_put_parents_first)
{
	const char *argv[] = {
	    "/bin/sh", "-c",
	    "test -e /x/etc/passwd && echo seen || echo hidden", NULL};
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out;
	box_run *run;

	/* Given child first, the tmpfs on /x buries /x/etc ... */
	cr_assert_eq(box_spec_ro_bind(s, "/etc", "/x/etc"), 0);
	cr_assert_eq(box_spec_tmpfs(s, "/x", 0, -1), 0);
	run = run_spec(c, s, &out);
	cr_assert_eq(box_run_exit_status(run), 0);
	cr_expect_str_eq(out, "hidden\n");
	free(out);
	box_run_free(run);

	/* ... sorted, the parent is mounted first and the child stays. */
	cr_assert_eq(box_spec_sort_mounts(s), 0);
	run = run_spec(c, s, &out);
	cr_assert_eq(box_run_exit_status(run), 0);
	cr_expect_str_eq(out, "seen\n");
	free(out);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* ------------------------------------------- sandboxlib: run_sandbox() */

/* run_sandbox(rootfs, command, cwd, extra_env, network='isolated'):
 * the bare profile with the root filesystem bound onto "/". */
Test(seeds, rootfs_cwd_extra_env_isolated_network)
{
	static const char *const links[][2] = {
	    {"usr/bin", "bin"}, {"usr/lib", "lib"}, {"usr/lib64", "lib64"}};
	const char *argv[] = {"/bin/sh", "-c",
			      "pwd; echo \"$EXTRA\"; echo \"$PATH\"; "
			      "ls /sys/class/net 2>&1 | wc -l",
			      NULL};
	char root[] = "/tmp/boxd-test-seedroot-XXXXXX", path[256];
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv(argv);
	char *out;
	box_run *run;

	cr_assert_not_null(mkdtemp(root));
	chmod(root, 0755);
	snprintf(path, sizeof(path), "%s/usr", root);
	cr_assert(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/tmp", root);
	cr_assert(mkdir(path, 01777) == 0);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, links[i][1]);
		cr_assert(symlink(links[i][0], path) == 0);
	}

	cr_assert_eq(box_spec_set_profile(s, BOX_PROFILE_BARE), 0);
	cr_assert_eq(box_spec_ro_bind(s, root, "/"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/usr", "/usr"), 0);
	cr_assert_eq(box_spec_set_cwd(s, "/tmp"), 0);
	cr_assert_eq(box_spec_setenv(s, "EXTRA", "from extra_env"), 0);
	cr_assert_eq(box_spec_set_net(s, BOX_NET_NONE), 0);
	run = run_spec(c, s, &out);
	cr_assert_eq(box_run_exit_status(run), 0, "out: %s", out);
	/* BASE_ENVIRONMENT's PATH plus extra_env; nothing of the host's
	 * (no /sys in this root at all). */
	cr_expect_str_eq(out, "/tmp\nfrom extra_env\n"
			      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/"
			      "bin:/sbin:/bin\n1\n");
	free(out);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	(void)!system(path);
}

/* --------------------------------------------------------- boxctl --plan */

Test(seeds, boxctl_plan_text_json_and_refusal)
{
	json_object *o, *v, *m;
	char *out;
	size_t n;

	cr_assert_eq(boxctl(&d,
			    "run --plan --hostname OCaml --setenv K 'v w' "
			    "--rlimit as=64M -- /bin/sh -c 'echo hi'",
			    &out),
		     0, "out: %s", out);
	cr_expect(strstr(out, "Plan (nothing was started)"), "%s", out);
	cr_expect(strstr(out, "command:       /bin/sh -c 'echo hi'"), "%s",
		  out);
	cr_expect(strstr(out, "hostname:      OCaml"), "%s", out);
	cr_expect(strstr(out, "  K=v w\n"), "%s", out);
	cr_expect(strstr(out, "as 67108864:67108864"), "%s", out);
	cr_expect(strstr(out, "(profile)"), "%s", out);
	free(out);

	cr_assert_eq(
	    boxctl(&d,
		   "run --plan --json --sort-mounts "
		   "--ro-bind /usr /a/b --tmpfs /a-b --ro-bind /etc /a "
		   "-- /bin/true",
		   &out),
	    0, "out: %s", out);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "not JSON: %s", out);
	cr_assert(json_object_object_get_ex(o, "mounts", &v));
	n = json_object_array_length(v);
	cr_assert_geq(n, 3);
	m = json_object_array_get_idx(v, n - 3);
	cr_expect_str_eq(
	    json_object_get_string(json_object_object_get(m, "dst")), "/a");
	m = json_object_array_get_idx(v, n - 2);
	cr_expect_str_eq(
	    json_object_get_string(json_object_object_get(m, "dst")), "/a/b");
	m = json_object_array_get_idx(v, n - 1);
	cr_expect_str_eq(
	    json_object_get_string(json_object_object_get(m, "dst")), "/a-b");
	cr_expect(json_object_get_boolean(
		      json_object_object_get(m, "from_profile")) == 0);
	json_object_put(o);
	free(out);

	/* Refused: exit 125, nothing on stdout. */
	cr_expect_eq(
	    boxctl(&d, "run --plan --chdir /a/../b -- /bin/true 2>/dev/null",
		   &out),
	    125);
	cr_expect_str_eq(out, "");
	free(out);
}

/* ------------------------------------------------- plans and tenant policy */

static struct daemon t;

static const char tenant_conf[] = "[private-ids]\n"
				  "first = 2147483648\n"
				  "count = 1024\n"
				  "\n"
				  "[default]\n"
				  "max-memory = 512M\n"
				  "max-pids = 100\n"
				  "max-timeout = 30s\n"
				  "\n"
				  "[tenant.judge]\n"
				  "uids = 4242\n"
				  "uid-mode = private\n";

static void tenant_setup(void)
{
	require_root();
	daemon_start(&t, NULL, tenant_conf);
}

static void tenant_teardown(void)
{
	daemon_stop(&t);
}

TestSuite(seeds_tenant, .init = tenant_setup, .fini = tenant_teardown,
	  .timeout = 120);

Test(seeds_tenant, plan_shows_limits_after_the_tenants_ceilings)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_as(&t, NOBODY, NOBODY);
	const box_host_info *h = box_client_host(c);
	box_spec *s = spec_argv(argv);
	box_plan *p = NULL;

	if (!box_host_can_limit(h, "memory") ||
	    !box_host_can_limit(h, "pids")) {
		box_spec_free(s);
		box_client_free(c);
		/* A skip runs no .fini: stop the daemon first. */
		tenant_teardown();
		cr_skip_test("this host cannot enforce memory and pids limits");
	}
	/* Unset limits become the ceilings ... */
	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	cr_expect_eq(box_plan_memory_bytes(p), 512 * MiB);
	cr_expect_eq(box_plan_pids(p), 100);
	cr_expect_eq(box_plan_timeout_ns(p), 30000000000ll);
	cr_expect_eq(box_plan_host_uid(p), NOBODY);
	cr_expect_eq(box_plan_uid(p), NOBODY);
	box_plan_free(p);
	/* ... a lower one stays, a higher one is refused. */
	cr_assert_eq(box_spec_set_memory(s, 128 * MiB), 0);
	cr_assert_eq(box_run_plan(c, s, &p), 0);
	cr_expect_eq(box_plan_memory_bytes(p), 128 * MiB);
	box_plan_free(p);
	p = NULL;
	cr_assert_eq(box_spec_set_memory(s, 1024 * MiB), 0);
	cr_expect_eq(box_run_plan(c, s, &p), -EACCES);
	cr_expect_null(p);
	cr_expect_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_DENIED);
	box_spec_free(s);
	box_client_free(c);
}

Test(seeds_tenant, plan_of_a_private_uid_tenant_names_no_host_uid)
{
	const char *argv[] = {"/bin/true", NULL};
	box_client *c = connect_as(&t, JUDGE, JUDGE);
	const box_host_info *h = box_client_host(c);
	box_spec *s = spec_argv(argv);
	box_plan *p = NULL;

	/* The judge inherits the default section's ceilings. */
	if (!box_host_can_limit(h, "memory") ||
	    !box_host_can_limit(h, "pids")) {
		box_spec_free(s);
		box_client_free(c);
		/* A skip runs no .fini: stop the daemon first. */
		tenant_teardown();
		cr_skip_test("this host cannot enforce memory and pids limits");
	}
	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	cr_expect(box_plan_private_ids(p));
	cr_expect_eq(box_plan_host_uid(p), -1);
	cr_expect_eq(box_plan_host_gid(p), -1);
	cr_expect_eq(box_plan_uid(p), JUDGE);
	box_plan_free(p);
	box_spec_free(s);
	box_client_free(c);
}

/* -------------------------- hiding, files, overlays, no-exec, via boxctl */

Test(seeds, boxctl_hide_file_overlay_no_exec_and_ephemeral)
{
	char dir[] = "/tmp/boxd-seeds-overlay-XXXXXX", args[1024], path[300];
	char *out;
	int status;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(args, sizeof(args),
		 "run --hide /etc/hostname --file-data /opt/greet hello "
		 "--overlay %s /o -- /bin/sh -c 'cat /etc/hostname 2>/dev/null "
		 "|| echo hidden; cat /opt/greet; echo; echo w > /o/x && "
		 "cat /o/x'",
		 dir);
	status = boxctl(&d, args, &out);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect_str_eq(out, "hidden\nhello\nw\n");
	free(out);
	snprintf(path, sizeof(path), "%s/x", dir);
	cr_expect_neq(access(path, F_OK), 0, "the overlay wrote to the host");
	rmdir(dir);

	status = boxctl(&d,
			"run --no-exec --write ephemeral -- /bin/sh -c 'echo e "
			"> /usr/boxd-seeds-eph && read l < /usr/boxd-seeds-eph "
			"&& echo $l; /bin/true 2>/dev/null || echo refused'",
			&out);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect_str_eq(out, "e\nrefused\n");
	free(out);
	cr_expect_neq(access("/usr/boxd-seeds-eph", F_OK), 0,
		      "an ephemeral write reached the host");

	status =
	    boxctl(&d, "run --file /in - -- /bin/cat /in < /dev/null", &out);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect_str_eq(out, "");
	free(out);
	status = boxctl(&d,
			"run --perms 0700 --file /opt/s /proc/self/exe -- "
			"/bin/sh -c 'stat -c %a /opt/s'",
			&out);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect_str_eq(out, "700\n");
	free(out);
}

/* A small file's whole text (malloc'd), or NULL. */
static char *read_text(const char *path)
{
	char *buf = calloc(1, 4096);
	FILE *f = fopen(path, "re");

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	(void)!fread(buf, 1, 4095, f);
	fclose(f);
	return buf;
}

/* WriteOverlay with persistence: --overlay-persist SRC DST DIR keeps the
 * run's writes in DIR/upper, where the next run over the same DIR finds
 * them (from a policy file too); SRC never changes. */
Test(seeds, boxctl_overlay_persist_keeps_writes_for_the_next_run)
{
	char src[] = "/tmp/boxd-seeds-lower-XXXXXX";
	const char *base = overlay_upper_base();
	char keep[64];
	char args[1024], path[300], *out, *text;
	FILE *f;
	int status;

	cr_assert(base, "no /tmp or /dev/shm that can hold an upper layer");
	snprintf(keep, sizeof(keep), "%s/boxd-seeds-keep-XXXXXX", base);
	cr_assert_not_null(mkdtemp(src));
	cr_assert_not_null(mkdtemp(keep));
	snprintf(path, sizeof(path), "%s/f", src);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("orig\n", f);
	fclose(f);

	snprintf(args, sizeof(args),
		 "run --overlay-persist %s /o %s -- /bin/sh -c 'cat /o/f; "
		 "echo new > /o/f; echo add > /o/added'",
		 src, keep);
	status = boxctl(&d, args, &out);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect_str_eq(out, "orig\n");
	free(out);
	/* The source as it was; the writes in DIR/upper. */
	cr_assert_not_null(text = read_text(path));
	cr_expect_str_eq(text, "orig\n", "the source changed");
	free(text);
	snprintf(path, sizeof(path), "%s/added", src);
	cr_expect_neq(access(path, F_OK), 0, "the overlay wrote to SRC");
	snprintf(path, sizeof(path), "%s/upper/f", keep);
	cr_assert_not_null(text = read_text(path), "no %s", path);
	cr_expect_str_eq(text, "new\n");
	free(text);
	snprintf(path, sizeof(path), "%s/work", keep);
	cr_expect_eq(access(path, F_OK), 0, "no %s", path);

	/* A second run, from a policy file, sees the first one's writes. */
	snprintf(path, sizeof(path), "%s/policy.ini", keep);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "[mounts]\noverlay-persist = %s /o %s\n", src, keep);
	fclose(f);
	snprintf(args, sizeof(args),
		 "run --policy %s -- /bin/sh -c 'cat /o/f /o/added'", path);
	status = boxctl(&d, args, &out);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect_str_eq(out, "new\nadd\n");
	free(out);

	/* The plan says where the writes go. */
	snprintf(args, sizeof(args),
		 "run --plan --overlay-persist %s /o %s -- /bin/true", src,
		 keep);
	status = boxctl(&d, args, &out);
	cr_expect_eq(status, 0, "%s", out);
	snprintf(path, sizeof(path), "%s on /o  writes kept in %s", src, keep);
	cr_expect(strstr(out, path), "plan without '%s':\n%s", path, out);
	free(out);

	snprintf(args, sizeof(args), "rm -rf '%s' '%s'", src, keep);
	cr_expect_eq(system(args), 0);
}
