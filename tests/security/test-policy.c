/*
 * Tenant policy from the daemon's config, pushed against by the tenant:
 * every ceiling (memory, CPUs, pids, wall and CPU time, tmpfs size,
 * concurrent runs and connections), forbidden binds, the host network and
 * seccomp switches, callers who may not connect at all, bind rules that a
 * symlink inside an allowed tree would dodge, resource limits, and config
 * files that are wrong: refused by --check-config with file:line, and by
 * SIGHUP without loosening the running policy.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec.h"

#define OTHER_UID 4321

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

TestSuite(policy, .init = setup, .fini = teardown, .timeout = 180);

static const char small_conf[] = "[default]\n"
				 "connect = no\n"
				 "\n"
				 "[tenant.small]\n"
				 "uids = 65534\n"
				 "max-memory = 64M\n"
				 "max-cpus = 0.5\n"
				 "max-pids = 32\n"
				 "max-timeout = 5s\n"
				 "max-cpu-time = 2s\n"
				 "bind = /usr/share\n";

/* Run s and expect a refusal before anything started. */
static const box_error *refused(box_client *c, box_spec *s,
				enum box_error_code code,
				const char *const *needles, box_run **ret_run)
{
	char *out, *err;
	box_run *run = sec_run(c, s, &out, &err);

	sec_expect_error(run, code, needles);
	free(out);
	free(err);
	*ret_run = run;
	return box_run_error(run);
}

static void expect_denied(box_client *c, box_spec *s,
			  const char *const *needles)
{
	box_run *run;

	refused(c, s, BOX_ERROR_DENIED, needles, &run);
	box_run_free(run);
	box_spec_free(s);
}

static box_spec *true_spec(void)
{
	const char *argv[] = {"/bin/true", NULL};

	return spec_argv(argv);
}

Test(policy, ceilings_are_refused_and_named)
{
	box_client *c;
	box_spec *s;

	daemon_start(&d, NULL, small_conf);
	c = connect_as(&d, NOBODY, NOBODY);

	s = true_spec();
	box_spec_set_memory(s, 128 << 20);
	expect_denied(c, s,
		      (const char *const[]){"memory", "128M", "'small'",
					    "ceiling 64M", NULL});

	s = true_spec();
	box_spec_set_timeout_ns(s, 10000000000ULL);
	expect_denied(
	    c, s, (const char *const[]){"timeout", "10s", "ceiling 5s", NULL});

	s = true_spec();
	box_spec_set_cpu_time_ns(s, 3000000000ULL);
	expect_denied(
	    c, s, (const char *const[]){"cpu time", "3s", "ceiling 2s", NULL});

	s = true_spec();
	box_spec_tmpfs(s, "/big", 128 << 20, 0755);
	expect_denied(
	    c, s, (const char *const[]){"tmpfs /big", "memory ceiling", NULL});

	s = true_spec();
	box_spec_set_pids(s, 64);
	expect_denied(
	    c, s, (const char *const[]){"pids", "'small'", "ceiling", NULL});

	s = true_spec();
	box_spec_set_cpus(s, 1.0);
	expect_denied(c, s,
		      (const char *const[]){"cpu", "'small'", "ceiling", NULL});

	box_client_free(c);
}

/* The refusal names the ceiling in the config's own terms: a pids count
 * is not a size, CPUs are not bytes. */
Test(policy, ceiling_messages_show_counts_and_cpus_as_such)
{
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_error *e;

	daemon_start(&d, NULL, small_conf);
	c = connect_as(&d, NOBODY, NOBODY);

	s = true_spec();
	box_spec_set_pids(s, 64);
	e = refused(c, s, BOX_ERROR_DENIED,
		    (const char *const[]){"pids", "'small'", "ceiling", NULL},
		    &run);
	cr_expect(e && strstr(box_error_message(e), "ceiling 32") &&
		      !strstr(box_error_message(e), "32B"),
		  "pids ceiling misnamed: %s", e ? box_error_message(e) : "");
	box_run_free(run);
	box_spec_free(s);

	s = true_spec();
	box_spec_set_cpus(s, 1.0);
	e = refused(c, s, BOX_ERROR_DENIED,
		    (const char *const[]){"cpu", "'small'", "ceiling", NULL},
		    &run);
	cr_expect(e && strstr(box_error_message(e), "0.5") &&
		      !strstr(box_error_message(e), "500B"),
		  "CPU ceiling misnamed: %s", e ? box_error_message(e) : "");
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(policy, forbidden_binds_host_network_and_seccomp_are_denied)
{
	const char policy[] = "default allow\n";
	box_client *c;
	box_spec *s;

	daemon_start(&d, NULL, small_conf);
	c = connect_as(&d, NOBODY, NOBODY);

	s = true_spec();
	box_spec_ro_bind(s, "/etc", "/x");
	expect_denied(
	    c, s, (const char *const[]){"'small'", "may not bind /etc", NULL});
	/* Allowed read-only, not writable. */
	s = true_spec();
	box_spec_bind(s, "/usr/share", "/x");
	expect_denied(
	    c, s,
	    (const char *const[]){"may not bind /usr/share", "writable", NULL});
	/* A lexical neighbour of an allowed path. */
	s = true_spec();
	box_spec_ro_bind(s, "/usr/shareX", "/x");
	expect_denied(c, s, (const char *const[]){"may not bind", NULL});

	s = true_spec();
	box_spec_set_net(s, BOX_NET_HOST);
	expect_denied(c, s,
		      (const char *const[]){"'small'", "host network", NULL});
	s = true_spec();
	box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0);
	expect_denied(c, s, (const char *const[]){"'small'", "seccomp", NULL});
	s = true_spec();
	box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy, strlen(policy));
	expect_denied(c, s,
		      (const char *const[]){"'small'", "custom seccomp", NULL});

	/* The status the tenant sees does not offer the host network. */
	{
		const char *const *nets = box_host_nets(box_client_host(c));

		for (; nets && *nets; nets++)
			cr_expect_str_neq(*nets, "host");
	}
	box_client_free(c);
}

static const char busy_conf[] = "[tenant.busy]\n"
				"uids = 65534\n"
				"max-runs = 1\n"
				"max-connections = 2\n";

Test(policy, concurrent_runs_ceiling_is_busy)
{
	box_client *c1, *c2;
	struct sec_bg held;
	box_spec *s;
	box_run *run;
	char *out, *err;

	daemon_start(&d, NULL, busy_conf);
	c1 = connect_as(&d, NOBODY, NOBODY);
	c2 = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-wait", NULL);
	sec_bg_start(&held, c1, s);

	run = NULL;
	refused(c2, s, BOX_ERROR_BUSY,
		(const char *const[]){"'busy'", "1 runs", "ceiling", NULL},
		&run);
	box_run_free(run);

	/* Once the first ends, the second may run. */
	sec_bg_finish(&held, &out, &err);
	free(out);
	free(err);
	box_run_free(held.run);
	run = sec_run(c2, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c1);
	box_client_free(c2);
}

/*
 * The tenant's ceiling on runs is a matter of the moment: its BUSY says
 * when to come back, and a client that retries gets its run once the
 * first has ended, on the same connection with the same stdio.
 */
Test(policy, concurrent_runs_ceiling_busy_is_retried)
{
	box_client *c1, *c2;
	struct sec_bg held;
	box_spec *s;
	box_run *run;
	char *out, *err;

	daemon_start(&d, NULL, busy_conf);
	c1 = connect_as(&d, NOBODY, NOBODY);
	c2 = connect_as(&d, NOBODY, NOBODY);
	s = sec_spec("probe-wait", NULL);
	sec_bg_start(&held, c1, s);

	/* Without retries: BUSY, with the daemon's advice on when. */
	run = NULL;
	refused(c2, s, BOX_ERROR_BUSY,
		(const char *const[]){"'busy'", "ceiling", NULL}, &run);
	cr_expect_gt(box_error_retry_after_ms(box_run_error(run)), 0);
	box_run_free(run);

	/* With them: the run waits (pending, a timeout to dispatch at) ... */
	cr_assert_eq(box_client_set_busy_retries(c2, 100), 0);
	box_spec_free(s);
	s = spec_argv((const char *[]){"/bin/true", NULL});
	cr_assert_eq(box_run_start(c2, s, -1, -1, -1, &run), 0);
	while (box_client_timeout(c2) < 0 &&
	       box_run_state(run) == BOX_RUN_PENDING) {
		struct pollfd p = {.fd = box_client_fd(c2), .events = POLLIN};

		cr_assert_gt(poll(&p, 1, TEST_PATIENCE_MS), 0);
		cr_assert_geq(box_client_dispatch(c2), 0);
	}
	cr_assert_eq(box_run_state(run), BOX_RUN_PENDING,
		     "the second run was not turned away: %s",
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "it ran");
	/* ... and runs once the first has ended. */
	sec_bg_finish(&held, &out, &err);
	free(out);
	free(err);
	box_run_free(held.run);
	cr_assert_eq(box_run_wait(run), 0);
	cr_expect_eq(box_run_exit_status(run), 0, "%s",
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "-");
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c1);
	box_client_free(c2);
}

Test(policy, connections_ceiling_is_busy_at_the_handshake)
{
	box_client *c1, *c2, *c3 = NULL;
	const box_error *e;
	int r;

	daemon_start(&d, NULL, busy_conf);
	c1 = connect_as(&d, NOBODY, NOBODY);
	c2 = connect_as(&d, NOBODY, NOBODY);
	r = sec_connect(&d, NOBODY, NOBODY, NULL, 0, &c3);
	cr_expect_lt(r, 0, "a third connection was accepted");
	e = box_client_last_error(c3);
	cr_assert_not_null(e);
	cr_expect_eq(box_error_code(e), BOX_ERROR_BUSY, "%s: %s",
		     box_error_code_name(box_error_code(e)),
		     box_error_message(e));
	cr_expect(strstr(box_error_message(e), "connections") &&
		      strstr(box_error_message(e), "'busy'"),
		  "%s", box_error_message(e));
	box_client_free(c3);
	/* Another uid is not counted against this one. */
	box_client_free(connect_root(&d));
	box_client_free(c1);
	box_client_free(c2);
}

Test(policy, disallowed_uids_are_refused_at_the_handshake)
{
	static const char conf[] = "[default]\n"
				   "connect = no\n"
				   "\n"
				   "[tenant.closed]\n"
				   "uids = 4321\n"
				   "connect = no\n"
				   "\n"
				   "[tenant.open]\n"
				   "uids = 65534\n";
	const uid_t refused_uids[] = {1000, OTHER_UID};

	daemon_start(&d, NULL, conf);
	for (size_t i = 0; i < 2; i++) {
		box_client *c = NULL;
		const box_error *e;
		char uid[32];
		int r = sec_connect(&d, refused_uids[i], refused_uids[i], NULL,
				    0, &c);

		cr_expect_eq(r, -EACCES, "uid %u: connect returned %d",
			     refused_uids[i], r);
		e = box_client_last_error(c);
		cr_assert_not_null(e);
		cr_expect_eq(box_error_code(e), BOX_ERROR_DENIED, "%s",
			     box_error_message(e));
		snprintf(uid, sizeof(uid), "uid %u", refused_uids[i]);
		cr_expect(strstr(box_error_message(e), uid), "%s",
			  box_error_message(e));
		box_client_free(c);
	}
	box_client_free(connect_as(&d, NOBODY, NOBODY));
}

/*
 * docs/config.md: "The check is on the path as written: boxd opens it
 * without following symbolic links out of the allowed tree." A tenant
 * who can place a symlink inside an allowed tree (any bind-rw tree, or a
 * tree it owns) must not reach a path outside it through that link.
 */
Test(policy, bind_rules_are_not_dodged_through_a_symlink)
{
	char allowed[] = "/tmp/boxd-test-allowed-XXXXXX";
	char outside[] = "/tmp/boxd-test-outside-XXXXXX";
	char conf[512], link[128], marker[128], sub[128];
	const char *cat[] = {"/bin/cat", "/x/marker", NULL};
	box_client *c;
	box_spec *s;
	char *out, *err;
	box_run *run;
	FILE *f;

	sec_track(mkdtemp(allowed));
	sec_track(mkdtemp(outside));
	cr_assert(chmod(allowed, 0755) == 0 && chmod(outside, 0755) == 0);
	snprintf(marker, sizeof(marker), "%s/marker", outside);
	cr_assert_not_null(f = fopen(marker, "we"));
	fputs("outside-the-tree\n", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/link", allowed);
	cr_assert(symlink(outside, link) == 0);
	snprintf(sub, sizeof(sub), "%s/sub", allowed);
	cr_assert(mkdir(sub, 0755) == 0);
	snprintf(conf, sizeof(conf),
		 "[default]\nconnect = no\n\n[tenant.narrow]\nuids = 65534\n"
		 "bind = %s\n",
		 allowed);
	daemon_start(&d, NULL, conf);
	c = connect_as(&d, NOBODY, NOBODY);

	/* Premise: the allowed tree itself binds. */
	s = true_spec();
	box_spec_ro_bind(s, sub, "/x");
	run = sec_run(c, s, &out, &err);
	cr_assert_null(box_run_error(run), "%s",
		       box_error_message(box_run_error(run)));
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	s = spec_argv(cat);
	box_spec_ro_bind(s, link, "/x");
	run = sec_run(c, s, &out, &err);
	cr_expect_not_null(box_run_error(run),
			   "a bind of %s (a symlink out of the allowed tree) "
			   "went ahead and read: %s",
			   link, out);
	cr_expect(!strstr(out, "outside-the-tree"), "read outside: %s", out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* ---- resource limits ---- */

static void daemon_nofile(pid_t pid, unsigned long long *soft,
			  unsigned long long *hard)
{
	char path[64], *limits, *line;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	limits = sec_read_file(path);
	cr_assert_not_null(limits);
	line = strstr(limits, "Max open files");
	cr_assert_not_null(line);
	cr_assert_eq(
	    sscanf(line + strlen("Max open files"), "%llu %llu", soft, hard), 2,
	    "%s", line);
	free(limits);
}

Test(policy, rlimits_default_requested_and_above_the_daemons)
{
	const char *const core0[] = {"core=0:0", NULL};
	const char *const wanted[] = {"nofile=64:128", "fsize=1048576:2097152",
				      "core=0:1048576", NULL};
	unsigned long long soft, hard;
	box_client *c;
	box_spec *s;
	box_run *run;
	char *out, *err;

	daemon_start(&d, NULL, NULL);
	c = connect_as(&d, NOBODY, NOBODY);

	/* No core files by default. */
	s = sec_spec("probe-rlimits", core0);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* What the request asks for, exactly. */
	s = sec_spec("probe-rlimits", wanted);
	box_spec_add_rlimit(s, BOX_RLIMIT_NOFILE, 64, 128);
	box_spec_add_rlimit(s, BOX_RLIMIT_FSIZE, 1 << 20, 2 << 20);
	box_spec_add_rlimit(s, BOX_RLIMIT_CORE, 0, 1 << 20);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);

	/* A hard limit above the daemon's own: refused up front. */
	daemon_nofile(d.pid, &soft, &hard);
	s = true_spec();
	box_spec_add_rlimit(s, BOX_RLIMIT_NOFILE, 64, hard + 1);
	refused(
	    c, s, BOX_ERROR_BAD_REQUEST,
	    (const char *const[]){"hard limit above the daemon's own", NULL},
	    &run);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* ---- configuration files ---- */

/* boxd --check-config --config path: exit status and everything said. */
static int check_config(const char *path, char **ret_text)
{
	const char *bin = getenv("BOXD_BIN");
	int p[2], status;
	pid_t pid;

	cr_assert(bin && *bin, "BOXD_BIN is not set");
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(bin, bin, "--check-config", "--config", path,
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	{
		size_t cap = 4096, len = 0;
		char *buf = malloc(cap);
		ssize_t n;

		while ((n = read(p[0], buf + len, cap - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = 0;
		*ret_text = buf;
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

Test(policy, check_config_rejects_bad_files_with_file_and_line)
{
	static const struct {
		const char *text;
		int line; /* 0: any line */
	} bad[] = {
	    {"[tenant.x]\nuids = 65534\nmax-memory = lots\n", 3},
	    {"[default]\nconnect = maybe\n", 2},
	    {"[tenant.x]\nuids = 65534\nmax-runs = 0\n", 3},
	    {"[daemon]\nno-such-key = 1\n", 2},
	    {"[no-such-section]\n", 1},
	    {"[tenant.x]\nmax-pids = 4\n", 0}, /* matches nobody */
	    {"[tenant.bad name]\nuids = 1\n", 1},
	    {"[private-ids]\nfirst = 0\ncount = 10\n", 0},
	    {"[private-ids]\nfirst = 65530\ncount = 10\n", 0},
	    {"[private-ids]\nfirst = 3000000\ncount = 10\n\n"
	     "[tenant.j]\nuids = 3000005\n",
	     0},
	    {"[tenant.j]\nuids = 65534\nuid-mode = private\n", 0},
	    {"\x01\x02 not an ini file\n", 1},
	};
	char dir[] = "/tmp/boxd-test-conf-XXXXXX", path[128], *text;

	sec_track(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/boxd.conf", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char where[160];
		int rc;

		write_text(path, bad[i].text);
		rc = check_config(path, &text);
		cr_expect_neq(rc, 0, "accepted:\n%s", bad[i].text);
		if (bad[i].line)
			snprintf(where, sizeof(where), "%s:%d:", path,
				 bad[i].line);
		else
			snprintf(where, sizeof(where), "%s:", path);
		cr_expect(strstr(text, where), "'%s' not in: %s\nfor:\n%s",
			  where, text, bad[i].text);
		free(text);
	}
	write_text(path, busy_conf);
	cr_expect_eq(check_config(path, &text), 0, "%s", text);
	free(text);
}

static bool net_host_allowed(void)
{
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = true_spec();
	char *out, *err;
	box_run *run;
	bool allowed;

	box_spec_set_net(s, BOX_NET_HOST);
	run = sec_run(c, s, &out, &err);
	allowed = !box_run_error(run);
	if (!allowed) {
		cr_expect_eq(box_error_code(box_run_error(run)),
			     BOX_ERROR_DENIED, "%s",
			     box_error_message(box_run_error(run)));
	} else {
		cr_expect_eq(box_run_exit_status(run), 0);
	}
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	return allowed;
}

Test(policy, sighup_with_a_bad_file_keeps_the_running_policy)
{
	static const char strict[] = "[tenant.t]\nuids = 65534\n";
	static const char garbage[] = "[tenant.t]\nuids = 65534\n"
				      "net-host = yes\nmax-memory = plenty\n";
	static const char loose[] = "[tenant.t]\nuids = 65534\n"
				    "net-host = yes\n";
	char conf[192], where[224];
	box_client *before;
	char *log;

	daemon_start(&d, NULL, strict);
	snprintf(conf, sizeof(conf), "%s/boxd.conf", d.dir);
	cr_assert(!net_host_allowed(), "net host allowed from the start");
	before = connect_as(&d, NOBODY, NOBODY);

	/* A broken file: the daemon keeps its policy, and says where the
	 * file is wrong. Its bad line would have allowed the host net. */
	write_text(conf, garbage);
	cr_assert(kill(d.pid, SIGHUP) == 0);
	sec_wait_log(&d, "reload:", 1);
	cr_assert(daemon_alive(&d));
	cr_expect(!net_host_allowed(), "a rejected file loosened the policy");
	log = sec_read_file(d.log);
	snprintf(where, sizeof(where), "%s:4:", conf);
	cr_expect(log && strstr(log, where), "the log does not name %s:\n%s",
		  where, log);
	free(log);

	/* A valid file takes effect for new connections. */
	write_text(conf, loose);
	cr_assert(kill(d.pid, SIGHUP) == 0);
	sec_wait_log(&d, "reload:", 2);
	cr_expect(net_host_allowed(), "the valid file was not applied");

	/* A connection keeps the policy it was admitted under. */
	{
		box_spec *s = true_spec();
		box_run *run;

		box_spec_set_net(s, BOX_NET_HOST);
		refused(before, s, BOX_ERROR_DENIED,
			(const char *const[]){"host network", NULL}, &run);
		box_run_free(run);
		box_spec_free(s);
	}
	box_client_free(before);
}
