/*
 * A daemon killed with SIGKILL in the middle of its runs cleans nothing
 * up itself. Its sandboxes must not outlive it (each pid 1 has
 * PDEATHSIG=SIGKILL and also exits on EOF of its control socket), and
 * whatever is left in its cgroups, processes included, must be gone once
 * a new daemon starts on the same cgroup root.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define RUNS 3

static struct daemon d;
static pid_t planted = -1; /* a process the test put in a fake leftover */

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	if (planted > 0) {
		kill(planted, SIGKILL);
		waitpid(planted, NULL, 0);
	}
	daemon_stop(&d);
}

TestSuite(recovery, .init = setup, .fini = teardown, .timeout = 300);

/* cr_skip_test() leaves the test without running its .fini: tear down
 * first, or the daemon outlives the test. */
#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

static bool is_v2(void)
{
	return strcmp(d.cgroup_mode, "v2") == 0;
}

/* The basename of the daemon's cgroup root, as /proc/<pid>/cgroup shows
 * it ("/<name>/tenant-0/run-3"). */
static const char *root_name(void)
{
	const char *slash = strrchr(d.cgroup_root, '/');

	return slash ? slash + 1 : d.cgroup_root;
}

/* Processes in a run or pool cgroup under the daemon's root, by
 * /proc/<pid>/cgroup (zombies included: they still hold the cgroup). */
static int procs_in_runs(void)
{
	char runs[300], pool[300], members[300];
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	snprintf(runs, sizeof(runs), ":/%s/tenant-", root_name());
	snprintf(pool, sizeof(pool), ":/%s/pool", root_name());
	/* Pool members and the runs that took them. */
	snprintf(members, sizeof(members), ":/%s/sandbox-", root_name());
	while ((de = readdir(dir))) {
		char path[300], buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		n += strstr(buf, runs) || strstr(buf, pool) ||
		     strstr(buf, members);
	}
	closedir(dir);
	return n;
}

/* Directories named name_glob under the root (every v1 hierarchy). */
static int cgroup_dirs(const char *name_glob)
{
	char cmd[512], buf[32] = "";
	FILE *p;

	if (is_v2())
		snprintf(cmd, sizeof(cmd),
			 "find %s -mindepth 1 -type d -name '%s' 2>/dev/null "
			 "| wc -l",
			 d.cgroup_root, name_glob);
	else
		snprintf(cmd, sizeof(cmd),
			 "find /sys/fs/cgroup/*/%s -mindepth 1 -type d "
			 "-name '%s' 2>/dev/null | wc -l",
			 d.cgroup_root, name_glob);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = 0;
	pclose(p);
	return atoi(buf);
}

static bool wait_until(bool (*cond)(const char *), const char *arg, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (cond(arg))
			return true;
		usleep(10000);
	}
	return cond(arg);
}

static bool no_procs(const char *marker)
{
	return count_procs(marker) == 0;
}
static bool no_run_procs(const char *unused)
{
	(void)unused;
	return procs_in_runs() == 0;
}
static bool no_run_dirs(const char *unused)
{
	(void)unused;
	/* sandbox-* are the restarted daemon's own pool members again. */
	return cgroup_dirs("run-*") == 0;
}

/*
 * What a daemon that died worse than ours leaves: a run cgroup with a
 * live process in it (a pid 1 that missed both of its death signals, or
 * a process that left the pid namespace's reach). Made by hand in every
 * hierarchy, the process in memory (v1) or the unified one (v2).
 */
static pid_t plant_leftover(const char *marker)
{
	char dir[512], procs[600], pidtxt[32], sleep_arg[64];
	const char *hier[] = {"memory", "cpu", "pids", NULL};
	pid_t pid;
	int fd;

	snprintf(sleep_arg, sizeof(sleep_arg), "%s", marker + strlen("sleep "));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", sleep_arg, (char *)NULL);
		_exit(127);
	}
	for (const char **h = hier; *h; h++) {
		if (is_v2())
			snprintf(dir, sizeof(dir), "%s/tenant-0",
				 d.cgroup_root);
		else
			snprintf(dir, sizeof(dir),
				 "/sys/fs/cgroup/%s/%s/tenant-0", *h,
				 d.cgroup_root);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			continue; /* a v1 controller this host lacks */
		strcat(dir, "/run-999999");
		cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST,
			  "mkdir %s: %s", dir, strerror(errno));
		if (is_v2() || strcmp(*h, "memory") == 0) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
			fd = open(procs, O_WRONLY | O_CLOEXEC);
			cr_assert(fd >= 0, "open %s: %s", procs,
				  strerror(errno));
			snprintf(pidtxt, sizeof(pidtxt), "%d", (int)pid);
			cr_assert(write(fd, pidtxt, strlen(pidtxt)) > 0,
				  "cannot move pid %d into %s: %s", (int)pid,
				  dir, strerror(errno));
			close(fd);
		}
		if (is_v2())
			break;
	}
	return pid;
}

Test(recovery, kill9_then_restart_leaves_no_process_and_no_cgroup)
{
	char marker[64], planted_marker[64], script[256];
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	box_client *c[RUNS];
	box_run *run[RUNS];
	box_spec *s;
	int status = -1, left;
	char *out;

	if (strcmp(d.cgroup_mode, "none") == 0)
		skip_test("no cgroup hierarchy here: nothing to recover");
	snprintf(marker, sizeof(marker), "sleep 7%03d.125",
		 (int)getpid() % 1000);
	snprintf(script, sizeof(script), "(%s &) ; (setsid %s &) ; %s", marker,
		 marker, marker);
	s = spec_argv(argv);
	for (int i = 0; i < RUNS; i++) {
		c[i] = connect_root(&d);
		run[i] = NULL;
		cr_assert(box_run_start(c[i], s, -1, -1, -1, &run[i]) >= 0);
		while (box_run_state(run[i]) < BOX_RUN_STARTED)
			cr_assert(box_run_dispatch(run[i]) >= 0);
	}
	for (int i = 0;
	     i < TEST_PATIENCE_MS / 10 && count_procs(marker) < 3 * RUNS; i++)
		usleep(10000);
	cr_assert_eq(count_procs(marker), 3 * RUNS,
		     "the runs did not all start their sleepers");
	cr_assert_gt(procs_in_runs(), 0);

	daemon_kill9(&d);

	/* The sandboxes go with their daemon, before anyone restarts it. */
	cr_expect(wait_until(no_procs, marker, TEST_PATIENCE_MS),
		  "%d sandbox processes outlived the killed daemon",
		  count_procs(marker));
	cr_expect(wait_until(no_run_procs, NULL, TEST_PATIENCE_MS),
		  "%d processes still in the dead daemon's run and pool "
		  "cgroups",
		  procs_in_runs());
	for (int i = 0; i < RUNS; i++) {
		cr_expect_lt(box_run_wait(run[i]), 0,
			     "run %d finished normally with its daemon dead",
			     i);
		box_run_free(run[i]);
		box_client_free(c[i]);
	}
	left = cgroup_dirs("run-*") + cgroup_dirs("sandbox-*");
	cr_log_info("after kill -9: %d run cgroup directories left", left);

	/* Worse than our daemon's death: a leftover with a live process. */
	snprintf(planted_marker, sizeof(planted_marker), "sleep 7%03d.375",
		 (int)getpid() % 1000);
	planted = plant_leftover(planted_marker);
	for (int i = 0;
	     i < TEST_PATIENCE_MS / 10 && count_procs(planted_marker) == 0; i++)
		usleep(10000);
	cr_assert_eq(count_procs(planted_marker), 1);

	daemon_restart(&d, NULL, NULL);

	/* The restarted daemon swept it all before it took requests. */
	cr_expect(wait_until(no_procs, planted_marker, TEST_PATIENCE_MS),
		  "the process in a leftover run cgroup survived the restart");
	cr_expect(waitpid(planted, &status, 0) == planted &&
		      WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the planted process was not killed (status %#x)", status);
	planted = -1;
	cr_expect(wait_until(no_run_dirs, NULL, TEST_PATIENCE_MS),
		  "%d run cgroups survived the restart", cgroup_dirs("run-*"));
	cr_expect_eq(cgroup_dirs("tenant-*"), 0,
		     "tenant cgroups survived the restart");
	cr_expect_eq(count_procs(marker), 0);

	/* And it serves. */
	out = sh_out(&d, "echo back", &status);
	cr_expect_str_eq(out, "back\n");
	cr_expect_eq(status, 0);
	free(out);
	box_spec_free(s);
	cr_expect(daemon_alive(&d));
}

Test(recovery, restart_after_kill9_with_an_idle_pool_only)
{
	int status = -1;
	char *out;

	if (strcmp(d.cgroup_mode, "none") == 0)
		skip_test("no cgroup hierarchy here: nothing to recover");
	/* The pool fills right after start. */
	for (int i = 0; i < TEST_PATIENCE_MS / 10 && procs_in_runs() < 8; i++)
		usleep(10000);
	cr_assert_gt(procs_in_runs(), 0, "no pool member ever appeared");
	daemon_kill9(&d);
	cr_expect(wait_until(no_run_procs, NULL, TEST_PATIENCE_MS),
		  "%d idle pool members outlived the killed daemon",
		  procs_in_runs());
	daemon_restart(&d, NULL, NULL);
	out = sh_out(&d, "echo back", &status);
	cr_expect_str_eq(out, "back\n");
	cr_expect_eq(status, 0);
	free(out);
	/* The answer comes first, the cgroup goes right after. */
	cr_expect(wait_until(no_run_dirs, NULL, TEST_PATIENCE_MS),
		  "%d run cgroups left after a run on the restarted daemon",
		  cgroup_dirs("run-*"));
}
