/*
 * Sandboxes against each other: a long "victim" run is held open while
 * another sandbox attacks it by every handle it could have (kill(-1),
 * its host pids, /proc, ptrace, pidfds), as the same uid, as another
 * tenant, as root without a seccomp filter and on the host network, and,
 * in private uid mode, as another run of the same tenant. The victim must
 * end normally (exit 0, no signal) and the daemon must live on.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sec.h"

#define OTHER_UID 4321 /* a second tenant */
#define PRIVATE_FIRST 3100000
#define PRIVATE_COUNT 8

static struct daemon d;

static void setup(void)
{
	require_root();
}

static void teardown(void)
{
	daemon_stop(&d);
	sec_cleanup();
}

TestSuite(isolation, .init = setup, .fini = teardown, .timeout = 180);

/* A victim: probe-wait with a marker in its argv. */
static void start_victim(struct sec_bg *bg, box_client *c, const char *marker)
{
	const char *const args[] = {marker, NULL};
	box_spec *s = sec_spec("probe-wait", args);

	sec_bg_start(bg, c, s);
	box_spec_free(s);
}

/* It is still there, then it ends normally when we let it. */
static void expect_victim_survived(struct sec_bg *bg, pid_t cmd)
{
	const box_result *res;
	char *out, *err;

	cr_expect_eq(kill(cmd, 0), 0, "the victim's command %d is gone",
		     (int)cmd);
	cr_expect(box_run_dispatch(bg->run) == BOX_RUN_STARTED,
		  "the victim's run finished early");
	sec_bg_finish(bg, &out, &err);
	res = box_run_result(bg->run);
	cr_assert_not_null(res, "victim: %s",
			   box_run_error(bg->run)
			       ? box_error_message(box_run_error(bg->run))
			       : "no record");
	cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED,
		     "the victim ended by %s (signal %d)",
		     box_termination_name(box_result_termination(res)),
		     box_result_signal(res));
	cr_expect_eq(box_result_exit_code(res), 0, "%s", out);
	cr_expect(strstr(out, "CHECK survived OK"), "%s", out);
	free(out);
	free(err);
	box_run_free(bg->run);
}

Test(isolation, kill_minus_one_spares_other_sandboxes_and_the_daemon)
{
	box_client *vc, *ac;
	struct sec_bg victim;
	box_spec *s;
	pid_t cmd;

	daemon_start(&d, NULL, NULL);
	vc = connect_as(&d, NOBODY, NOBODY);
	start_victim(&victim, vc, "boxd-sec-victim-kill");
	cmd = sec_bg_command_pid(&victim);

	/* The same uid as the victim: on the host, kill(-1) from it would
	 * reach the victim. */
	ac = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-killall", NULL);
	sec_run_expect_pass(ac, s);
	box_client_free(ac);
	/* Host uid 0: on the host, kill(-1) would take everything. */
	ac = connect_root(&d);
	sec_run_expect_pass(ac, s);
	box_spec_free(s);
	box_client_free(ac);

	cr_expect(daemon_alive(&d), "the daemon died");
	expect_victim_survived(&victim, cmd);
	box_client_free(vc);
	cr_expect(daemon_alive(&d), "the daemon died");
}

static void attack_by_pids(box_client *c, struct sec_bg *victim, pid_t cmd,
			   const char *marker, bool no_filter, bool host_net)
{
	char init_pid[16], cmd_pid[16];
	const char *args[] = {init_pid, cmd_pid, NULL};
	box_spec *s;

	snprintf(init_pid, sizeof(init_pid), "%lld",
		 (long long)box_run_pid(victim->run));
	snprintf(cmd_pid, sizeof(cmd_pid), "%d", (int)cmd);
	s = sec_spec("probe-peer", args);
	cr_assert(box_spec_setenv(s, "BOXD_SEC_MARKER", marker) >= 0);
	if (no_filter)
		cr_assert(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0) >=
			  0);
	if (host_net)
		cr_assert(box_spec_set_net(s, BOX_NET_HOST) >= 0);
	sec_run_expect_pass(c, s);
	box_spec_free(s);
}

Test(isolation, another_tenant_cannot_see_signal_or_trace_a_run)
{
	const char *marker = "boxd-sec-victim-peer";
	box_client *vc, *ac;
	struct sec_bg victim;
	pid_t cmd;

	daemon_start(&d, NULL, NULL);
	vc = connect_as(&d, NOBODY, NOBODY);
	start_victim(&victim, vc, marker);
	cmd = sec_bg_command_pid(&victim);

	/* Another tenant, default filter. */
	ac = connect_as(&d, OTHER_UID, OTHER_UID);
	attack_by_pids(ac, &victim, cmd, marker, false, false);
	box_client_free(ac);
	/* The most a tenant can be given: root, no filter, host network. */
	ac = connect_root(&d);
	attack_by_pids(ac, &victim, cmd, marker, true, true);
	box_client_free(ac);

	/* Nor through the daemon: another tenant's run is "not found". */
	ac = connect_as(&d, OTHER_UID, OTHER_UID);
	cr_expect_eq(
	    box_client_kill(ac, (uint64_t)box_run_id(victim.run), SIGKILL),
	    -ESRCH);
	{
		box_run_list *l = NULL;

		cr_assert(box_client_list(ac, &l) >= 0);
		cr_expect_eq(box_run_list_count(l), 0,
			     "another tenant's run is listed");
		box_run_list_free(l);
	}
	box_client_free(ac);

	expect_victim_survived(&victim, cmd);
	box_client_free(vc);
	cr_expect(daemon_alive(&d));
}

/* "inside outside count" from a uid_map line. */
static long outside_uid(const char *map)
{
	long inside = -1, outside = -1, count = -1;

	if (sscanf(map, "%ld %ld %ld", &inside, &outside, &count) != 3)
		return -1;
	return count == 1 ? outside : -1;
}

Test(isolation, private_uid_runs_get_their_own_host_uid)
{
	char conf[256], map_a[128], map_b[128];
	const char *marker = "boxd-sec-victim-private";
	box_client *ca, *cb;
	struct sec_bg a;
	char init_pid[16], cmd_pid[16];
	const char *args[] = {init_pid, cmd_pid, NULL};
	box_spec *s;
	char *out, *err;
	box_run *run;
	long ua, ub;
	pid_t cmd;

	snprintf(conf, sizeof(conf),
		 "[private-ids]\nfirst = %d\ncount = %d\n\n"
		 "[tenant.judge]\nuids = %d\nuid-mode = private\n",
		 PRIVATE_FIRST, PRIVATE_COUNT, NOBODY);
	daemon_start(&d, NULL, conf);

	ca = connect_as(&d, NOBODY, NOBODY);
	start_victim(&a, ca, marker);
	cmd = sec_bg_command_pid(&a);
	cr_assert(sec_info(a.head, "uid_map", map_a, sizeof(map_a)), "%s",
		  a.head);
	ua = outside_uid(map_a);

	/* A second, concurrent run of the same tenant attacks the first. */
	cb = connect_as(&d, NOBODY, NOBODY);
	snprintf(init_pid, sizeof(init_pid), "%lld",
		 (long long)box_run_pid(a.run));
	snprintf(cmd_pid, sizeof(cmd_pid), "%d", (int)cmd);
	s = sec_spec("probe-peer", args);
	cr_assert(box_spec_setenv(s, "BOXD_SEC_MARKER", marker) >= 0);
	run = sec_run(cb, s, &out, &err);
	sec_expect_pass(run, out, err);
	cr_assert(sec_info(out, "uid_map", map_b, sizeof(map_b)), "%s", out);
	ub = outside_uid(map_b);

	cr_expect(ua >= PRIVATE_FIRST && ua < PRIVATE_FIRST + PRIVATE_COUNT,
		  "first run maps to %ld (uid_map '%s')", ua, map_a);
	cr_expect(ub >= PRIVATE_FIRST && ub < PRIVATE_FIRST + PRIVATE_COUNT,
		  "second run maps to %ld (uid_map '%s')", ub, map_b);
	cr_expect_neq(ua, ub, "both runs got host uid %ld", ua);
	/* The host agrees: the first run's command runs as its private
	 * uid, not as the tenant. */
	cr_expect_eq(sec_host_uid(cmd), ua);

	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(cb);
	expect_victim_survived(&a, cmd);
	box_client_free(ca);
}

/*
 * The operator's way out of the root-caller model (a root caller's
 * sandbox is host uid 0 in a user namespace): a section naming uid 0
 * with uid-mode = private runs root's sandboxes as private host uids,
 * so that nothing in them is host root even to the kernel's DAC checks.
 */
Test(isolation, a_root_caller_can_be_given_private_uids)
{
	char conf[256];
	const char *argv[] = {"/bin/cat", "/proc/self/uid_map", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;
	long outside;

	snprintf(conf, sizeof(conf),
		 "[private-ids]\nfirst = %d\ncount = %d\n\n"
		 "[tenant.root]\nuids = 0\nuid-mode = private\n",
		 PRIVATE_FIRST, PRIVATE_COUNT);
	daemon_start(&d, NULL, conf);
	c = connect_root(&d);
	s = spec_argv(argv);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(
	    box_run_result(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "-");
	cr_assert_eq(box_run_exit_status(run), 0, "%s", err);
	outside = outside_uid(out);
	cr_expect(
	    outside >= PRIVATE_FIRST && outside < PRIVATE_FIRST + PRIVATE_COUNT,
	    "root's run maps to host uid %ld (uid_map '%s')", outside, out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/*
 * A private run's host uid is named by no tenant section. If the daemon
 * let it connect (its socket bound into the sandbox, which a tenant
 * without bind rules may ask for), it would be judged by [default]: none
 * of its tenant's ceilings, and runs of its own outside them.
 */
Test(isolation, a_private_run_cannot_reach_the_daemon_as_another_tenant)
{
	char conf[256], sock[160];
	const char *args[] = {sock, NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	snprintf(conf, sizeof(conf),
		 "[private-ids]\nfirst = %d\ncount = %d\n\n"
		 "[tenant.judge]\nuids = %d\nuid-mode = private\n"
		 "max-runs = 1\n",
		 PRIVATE_FIRST, PRIVATE_COUNT, NOBODY);
	daemon_start(&d, NULL, conf);
	snprintf(sock, sizeof(sock), "/d/%s", strrchr(d.sock, '/') + 1);
	c = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-connect", args);
	cr_assert(box_spec_ro_bind(s, d.dir, "/d") >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* The boxctl copied into the probe directory. An instrumented one's
 * LeakSanitizer cannot work inside a sandbox, and its fatal error would
 * replace boxctl's exit status; these tests are about the daemon's answer,
 * so it is turned off there (no effect on an ordinary build). */
#define NESTED_BOXCTL "ASAN_OPTIONS=detect_leaks=0 " SEC_PROBES "/boxctl"

/*
 * A sandbox that can reach the daemon's socket (its directory bound in)
 * gets nothing from it: a connection made from inside a boxd sandbox is
 * refused, for a root caller (whose sandbox is host uid 0 in a user
 * namespace, and would otherwise be root to the daemon) as for anyone.
 * The nested boxctl asks for what only root may: the host's network,
 * no seccomp filter, a bind of a directory the run was not given.
 */
static void nested_boxctl(bool root)
{
	const char *bin = getenv("BOXCTL_BIN");
	char copy[256], script[1024];
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	if (!bin || !*bin)
		cr_skip_test("BOXCTL_BIN is not set (run through meson test)");
	daemon_start(&d, NULL, NULL);
	/* A copy the sandbox's user may execute, in the probe directory. */
	snprintf(copy, sizeof(copy), "%s/boxctl", sec_probe_dir());
	snprintf(script, sizeof(script), "cp %s %s && chmod 0755 %s", bin, copy,
		 copy);
	cr_assert_eq(system(script), 0);
	snprintf(script, sizeof(script),
		 NESTED_BOXCTL
		 " --socket %s run --net host --seccomp "
		 "none --bind / /host -- /bin/true; echo status=$?",
		 d.sock);
	c = root ? connect_root(&d) : connect_as(&d, NOBODY, NOBODY);
	s = spec_argv(argv);
	sec_bind_probes(s);
	cr_assert(box_spec_ro_bind(s, d.dir, d.dir) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(
	    box_run_result(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "-");
	cr_expect(strstr(out, "status=125"), "the nested run went ahead: %s%s",
		  out, err);
	cr_expect(strstr(err, "inside a boxd sandbox"), "%s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	cr_expect(daemon_alive(&d));
}

Test(isolation, a_root_callers_sandbox_cannot_use_the_daemon)
{
	nested_boxctl(true);
}

Test(isolation, a_tenants_sandbox_cannot_use_the_daemon)
{
	nested_boxctl(false);
}

/*
 * With sandbox-peers = confined, a run may start runs of its own, but
 * none that could do more than it: not the host's network, not without
 * the default filter, no bind of a host path it was not given (nor
 * writable where it was given it read-only), no limit above its own.
 * The caller is root, so nothing but the run itself bounds the nested
 * requests.
 */
Test(isolation, a_confined_sandbox_gets_no_more_than_its_run)
{
	const char *bin = getenv("BOXCTL_BIN");
	char copy[256], script[2048];
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	const char *probes = sec_probe_dir();
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;

	if (!bin || !*bin)
		cr_skip_test("BOXCTL_BIN is not set (run through meson test)");
	daemon_start(&d, NULL, "[daemon]\nsandbox-peers = confined\n");
	snprintf(copy, sizeof(copy), "%s/boxctl", probes);
	snprintf(script, sizeof(script), "cp %s %s && chmod 0755 %s", bin, copy,
		 copy);
	cr_assert_eq(system(script), 0);
#define NESTED NESTED_BOXCTL " --socket %s run "
	snprintf(script, sizeof(script),
		 NESTED "-- /bin/true; echo plain=$?\n" NESTED
			"--net host -- /bin/true; echo net=$?\n" NESTED
			"--seccomp none -- /bin/true; echo seccomp=$?\n" NESTED
			"--ro-bind / /host -- /bin/true; echo root=$?\n" NESTED
			"--ro-bind %s /p -- /bin/true; echo own=$?\n" NESTED
			"--bind %s /p -- /bin/true; echo ownrw=$?\n" NESTED
			"--memory 1G -- /bin/true; echo memory=$?\n",
		 d.sock, d.sock, d.sock, d.sock, d.sock, probes, d.sock, probes,
		 d.sock);
#undef NESTED
	c = connect_root(&d);
	s = spec_argv(argv);
	sec_bind_probes(s);
	cr_assert(box_spec_ro_bind(s, d.dir, d.dir) >= 0);
	box_spec_set_memory(s, 256u << 20);
	run = sec_run(c, s, &out, &err);
	cr_assert_not_null(
	    box_run_result(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "-");
	cr_expect(strstr(out, "plain=0"), "a plain nested run failed: %s%s",
		  out, err);
	cr_expect(strstr(out, "own=0"),
		  "a nested bind of the run's own bind failed: %s%s", out, err);
	cr_expect(strstr(out, "net=125"), "host network granted: %s%s", out,
		  err);
	cr_expect(strstr(out, "seccomp=125"), "filter dropped: %s%s", out, err);
	cr_expect(strstr(out, "root=125"), "host / bound: %s%s", out, err);
	cr_expect(strstr(out, "ownrw=125"),
		  "read-only bind made writable: %s%s", out, err);
	cr_expect(strstr(out, "memory=125"), "limit above the run's: %s%s", out,
		  err);
	cr_expect(strstr(err, "inside run"), "%s", err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	cr_expect(daemon_alive(&d));
}
