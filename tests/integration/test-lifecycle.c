/*
 * Runs end with their client, their daemon, or a kill request, and leave
 * nothing behind: no process, no cgroup.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

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

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 180);

static bool wait_until_gone(const char *needle, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (count_procs(needle) == 0)
			return true;
		usleep(10000);
	}
	return count_procs(needle) == 0;
}

static bool wait_until_present(const char *needle, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (count_procs(needle) > 0)
			return true;
		usleep(10000);
	}
	return false;
}

Test(lifecycle, killing_the_client_kills_the_sandbox)
{
	/* A unique marker so we only count our own processes. */
	char marker[64], script[256];
	pid_t client;
	int status;

	snprintf(marker, sizeof(marker), "sleep 4%d.25", (int)getpid() % 1000);
	snprintf(script, sizeof(script), "(%s &) ; (setsid %s &); %s", marker,
		 marker, marker);
	client = fork();
	cr_assert(client >= 0);
	if (client == 0) {
		const char *argv[] = {"/bin/sh", "-c", script, NULL};
		box_client *c = NULL;
		box_spec *s = NULL;
		box_run *run = NULL;

		if (box_connect(d.sock, &c) < 0 || box_spec_new(&s) < 0 ||
		    box_spec_set_argv(s, argv) < 0 ||
		    box_run_start(c, s, -1, -1, -1, &run) < 0)
			_exit(1);
		box_run_wait(run); /* never returns: we get killed */
		_exit(2);
	}
	cr_assert(wait_until_present(marker, TEST_PATIENCE_MS),
		  "the sandbox never started");
	/* All three, including the double-forked and setsid'd ones. */
	for (int i = 0; i < TEST_PATIENCE_MS / 10 && count_procs(marker) < 3;
	     i++)
		usleep(10000);
	cr_expect_eq(count_procs(marker), 3);
	kill(client, SIGKILL);
	waitpid(client, &status, 0);
	cr_expect(wait_until_gone(marker, TEST_PATIENCE_MS),
		  "%d sandbox processes outlived their client",
		  count_procs(marker));
	/* Its cgroup goes too: none stays empty (a refill's new cgroup is
	 * empty only for the instant before its member is cloned into it,
	 * so the first reading of none is the answer). */
	if (empty_run_cgroups(&d) >= 0) {
		bool none = false;

		for (int i = 0; i < TEST_PATIENCE_MS / 10 && !none; i++) {
			none = empty_run_cgroups(&d) == 0;
			if (!none)
				usleep(10000);
		}
		cr_expect(none, "%d run cgroups left behind",
			  empty_run_cgroups(&d));
	}
	cr_expect(daemon_alive(&d));
}

Test(lifecycle, kill_request_ends_the_run)
{
	const char *argv[] = {"/bin/sleep", "1000", NULL};
	box_client *c = connect_root(&d);
	box_client *k = connect_root(&d);
	box_spec *s = spec_argv(argv);
	box_run *run = NULL;

	cr_assert(box_run_start(c, s, -1, -1, -1, &run) >= 0);
	while (box_run_state(run) < BOX_RUN_STARTED)
		cr_assert(box_run_dispatch(run) >= 0);
	cr_assert(box_client_kill(k, (uint64_t)box_run_id(run), SIGKILL) >= 0);
	box_run_wait(run);
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	cr_expect_eq(box_result_termination(box_run_result(run)),
		     BOX_TERM_KILLED);
	cr_expect_eq(box_run_exit_status(run), 128 + SIGKILL);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(k);
	box_client_free(c);
}

Test(lifecycle, daemon_sigterm_kills_runs_and_exits)
{
	char marker[64];
	const char *argv[] = {"/bin/sh", "-c", marker, NULL};
	box_client *c = connect_root(&d);
	box_spec *s;
	box_run *run = NULL;
	int status;

	snprintf(marker, sizeof(marker), "sleep 5%d.5", (int)getpid() % 1000);
	s = spec_argv(argv);
	cr_assert(box_run_start(c, s, -1, -1, -1, &run) >= 0);
	while (box_run_state(run) < BOX_RUN_STARTED)
		cr_assert(box_run_dispatch(run) >= 0);
	cr_assert(wait_until_present(marker, TEST_PATIENCE_MS));
	kill(d.pid, SIGTERM);
	box_run_wait(run);
	cr_expect_eq(box_result_termination(box_run_result(run)),
		     BOX_TERM_KILLED);
	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		if (waitpid(d.pid, &status, WNOHANG) == d.pid) {
			d.pid = 0;
			break;
		}
		usleep(10000);
	}
	cr_expect_eq(d.pid, 0, "boxd did not exit on SIGTERM");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect(wait_until_gone(marker, TEST_PATIENCE_MS));
	cr_expect(!path_exists(d.sock), "socket left behind");
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/*
 * The default configuration path is absolute: a root boxd started in a
 * directory someone else can write must not load that directory's
 * etc/boxd/boxd.conf. boxd --help shows the path.
 */
Test(lifecycle, the_default_config_path_is_absolute)
{
	const char *bin = getenv("BOXD_BIN");
	char dir[] = "/tmp/boxd-test-cwd-XXXXXX", cmd[512], out[4096] = "";
	FILE *p;
	size_t n;

	cr_assert_not_null(bin, "BOXD_BIN is not set (run through meson)");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p etc/boxd && "
		 "echo 'this is [not a valid' > etc/boxd/boxd.conf && "
		 "%s --help | grep -- '--config PATH'; "
		 "%s --check-config 2>&1; echo status=$?",
		 dir, bin, bin);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	cr_expect(strstr(out, "(default /"), "--help: %s", out);
	cr_expect(!strstr(out, "etc/boxd/boxd.conf:1"),
		  "the working directory's config was read: %s", out);
}
