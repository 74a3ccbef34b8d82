/*
 * The pre-warmed pool: a member serves exactly one run, so nothing passes
 * from one run to the next; a drained pool falls back to cold spawns and
 * refills, while a run that finds a member on its way waits for it
 * (pool-wait-ms); dead members are replaced and never handed out; members come
 * from the spawner holding nothing else; ids are mapped per run; stopping
 * the daemon leaves nothing behind.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534
#define POOL 4

static struct daemon d;

static void setup(void)
{
	static const char *const args[] = {"--pool-size", "4", "--pool-low",
					   "2", NULL};

	require_root();
	daemon_start(&d, args, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
}

TestSuite(pool, .init = setup, .fini = teardown, .timeout = 240);

static void pool_counts(unsigned *size, uint64_t *hits, uint64_t *misses)
{
	box_client *c = connect_root(&d);
	box_status *st = NULL;

	cr_assert(box_client_status(c, &st) >= 0);
	*size = box_status_pool_size(st);
	*hits = box_status_pool_hits(st);
	*misses = box_status_pool_misses(st);
	box_status_free(st);
	box_client_free(c);
}

/* Of the runs that took a member, those that found the default
 * profile's tree built. */
static uint64_t prebuilt_count(void)
{
	box_client *c = connect_root(&d);
	box_status *st = NULL;
	int64_t n;

	cr_assert(box_client_status(c, &st) >= 0);
	n = box_status_pool_prebuilt(st);
	box_status_free(st);
	box_client_free(c);
	cr_assert_geq(n, 0, "the daemon does not report prebuilt runs");
	return (uint64_t)n;
}

static void wait_pool_full(void)
{
	unsigned size = 0;
	uint64_t h, m;

	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		pool_counts(&size, &h, &m);
		if (size == POOL)
			return;
		usleep(10000);
	}
	cr_assert_fail("the pool did not fill (size %u)", size);
}

static char *run_spec_out(box_client *c, box_spec *s, int *status);

static char *run_sh_as(box_client *c, const char *script, int *status)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	box_spec *s = spec_argv(argv);
	char *out = run_spec_out(c, s, status);

	box_spec_free(s);
	return out;
}

/* Run s, return its stdout (or "error: ..." if the run failed). */
static char *run_spec_out(box_client *c, box_spec *s, int *status)
{
	char *out, *err;
	box_run *run = run_capture(c, s, NULL, &out, &err);

	if (status)
		*status = box_run_exit_status(run);
	if (box_run_error(run)) {
		/* Show why in the assertion that compares the output. */
		free(out);
		if (asprintf(&out, "error: %s",
			     box_error_message(box_run_error(run))) < 0)
			out = NULL;
	}
	free(err);
	box_run_free(run);
	return out;
}

Test(pool, nothing_passes_between_runs)
{
	box_client *root, *nobody;
	char *out;
	unsigned size;
	uint64_t hits0, hits1, misses;

	wait_pool_full();
	pool_counts(&size, &hits0, &misses);
	root = connect_root(&d);
	nobody = connect_as(&d, NOBODY, NOBODY);
	/* Leave a file and a process behind (the process is killed with
	 * its sandbox, but if a member were reused it would still be
	 * there). */
	out = run_sh_as(root,
			"echo secret > /tmp/left; (sleep 1000 &) ; "
			"echo $$ > /tmp/pid; ls /tmp",
			NULL);
	cr_expect_str_eq(out, "left\npid\n");
	free(out);
	for (int i = 0; i < 2 * POOL; i++) {
		box_client *c = i % 2 ? nobody : root;

		/* The process list from /proc with shell builtins only,
		 * so that it holds no program of its own (and needs no
		 * procps on the host). */
		out = run_sh_as(c,
				"ls -A /tmp; for f in /proc/[0-9]*/comm; do "
				"read -r n < $f && echo $n; done > /tmp/ps; "
				"sort /tmp/ps | tr '\\n' ' '",
				NULL);
		/* An empty /tmp, and only this run's processes. */
		cr_expect_str_eq(out, "boxd-init sh ", "run %d saw: %s", i,
				 out);
		free(out);
	}
	pool_counts(&size, &hits1, &misses);
	cr_expect_geq(hits1 - hits0, 2 * POOL / 2,
		      "these runs should have come from the pool");
	box_client_free(nobody);
	box_client_free(root);
}

struct burst_arg {
	const struct daemon *d;
	int index;
	int ok;
};

static void *burst_one(void *p)
{
	struct burst_arg *a = p;
	char script[64], expect[32];
	box_client *c = NULL;
	box_spec *s = NULL;
	box_run *run = NULL;
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	int pout[2];
	ssize_t n;
	char buf[64];

	snprintf(script, sizeof(script), "echo run-%d; exit %d", a->index,
		 a->index % 7);
	snprintf(expect, sizeof(expect), "run-%d\n", a->index);
	if (box_connect(a->d->sock, &c) < 0 || box_spec_new(&s) < 0 ||
	    box_spec_set_argv(s, argv) < 0 || pipe2(pout, 0) < 0)
		return NULL;
	if (box_run_start(c, s, -1, pout[1], -1, &run) >= 0) {
		close(pout[1]);
		n = read(pout[0], buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		box_run_wait(run);
		a->ok = strcmp(buf, expect) == 0 &&
			box_run_exit_status(run) == a->index % 7;
	}
	close(pout[0]);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	return NULL;
}

static pid_t spawner_pid(void);

/* With the spawner stopped no member is on its way: a run waits for none
 * (or for pool-wait-ms at most) and starts cold. */
Test(pool, drained_pool_falls_back_to_cold_and_refills)
{
	enum { N = 16 };
	pthread_t t[N];
	struct burst_arg args[N];
	unsigned size;
	uint64_t hits, misses0, misses1;
	pid_t spawner;

	wait_pool_full();
	pool_counts(&size, &hits, &misses0);
	spawner = spawner_pid();
	cr_assert_gt(spawner, 0, "the daemon has no spawner");
	cr_assert_eq(kill(spawner, SIGSTOP), 0);
	for (int i = 0; i < N; i++) {
		args[i] = (struct burst_arg){.d = &d, .index = i};
		cr_assert(pthread_create(&t[i], NULL, burst_one, &args[i]) ==
			  0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	kill(spawner, SIGCONT);
	for (int i = 0; i < N; i++)
		cr_expect(args[i].ok, "run %d gave a wrong result", i);
	pool_counts(&size, &hits, &misses1);
	cr_expect_geq(misses1 - misses0, N - POOL,
		      "16 runs on a pool of 4 with no refill: %llu cold",
		      (unsigned long long)(misses1 - misses0));
	wait_pool_full();
}

/* Is pid the pool's spawner (boxd-init --spawner, named so)? */
static bool is_spawner(pid_t pid)
{
	char comm[32];

	return proc_comm(pid, comm, sizeof(comm)) &&
	       strcmp(comm, "boxd-spawner") == 0;
}

/* The spawner, a child of the daemon; -1 if there is none. */
static pid_t spawner_pid(void)
{
	pid_t kids[64];
	int k = children_of(d.pid, kids, 64);

	for (int i = 0; i < k; i++)
		if (is_spawner(kids[i]))
			return kids[i];
	return -1;
}

/* pids of the pool's idle members: boxd-init processes whose parent is
 * the daemon (members are cloned as the daemon's children, whoever
 * clones them), that are not the spawner and have no children yet. */
static int idle_members_now(pid_t *out, int max)
{
	pid_t kids[64];
	int n = 0, k = children_of(d.pid, kids, 64);

	for (int i = 0; i < k && n < max; i++) {
		char comm[32];

		if (proc_comm(kids[i], comm, sizeof(comm)) &&
		    strcmp(comm, "boxd-init") == 0 && child_of(kids[i]) < 0 &&
		    !is_spawner(kids[i]))
			out[n++] = kids[i];
	}
	return n;
}

/* A member counts once it has exec'd boxd-init: give it a moment. */
static int idle_members(pid_t *out, int max)
{
	int n = 0;

	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		n = idle_members_now(out, max);
		if (n == max)
			break;
		usleep(10000);
	}
	return n;
}

Test(pool, dead_members_are_replaced_and_never_used)
{
	pid_t members[POOL];
	int n;
	char *out;
	box_client *c;

	wait_pool_full();
	n = idle_members(members, POOL);
	cr_assert_eq(n, POOL, "expected %d idle members, found %d", POOL, n);
	for (int i = 0; i < n; i++)
		kill(members[i], SIGKILL);
	/* Right away: the run must not land on a corpse. */
	c = connect_root(&d);
	for (int i = 0; i < 3; i++) {
		int status = -1;

		out = run_sh_as(c, "echo fine", &status);
		cr_expect_str_eq(out, "fine\n");
		cr_expect_eq(status, 0);
		free(out);
	}
	box_client_free(c);
	wait_pool_full();
	n = idle_members(members, POOL);
	cr_expect_eq(n, POOL);
	cr_expect(daemon_alive(&d));
}

/*
 * Does pid hold only what a pool member or the spawner may: /dev/null on
 * 0-2, a socket (to the daemon) on 3, and (members only) boxd-init's own
 * signalfd and the tree it built before its take, mounted on the
 * daemon's staging directory in its own namespace (the root and its
 * devpts)? Says which fd is wrong in why.
 */
static bool holds_only_its_own(pid_t pid, bool member, char *why, size_t len)
{
	char path[64], link[256], stage[256];
	struct dirent *de;
	bool ok = true;
	DIR *dir;

	snprintf(stage, sizeof(stage), "%s/state/root", d.dir);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	cr_assert_not_null(dir, "%s: %s", path, strerror(errno));
	while (ok && (de = readdir(dir))) {
		char fdpath[400];
		ssize_t n;
		long fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atol(de->d_name);
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		if (fd < 3)
			ok = strcmp(link, "/dev/null") == 0;
		else if (fd == 3)
			ok = strncmp(link, "socket:", 7) == 0;
		else
			ok =
			    member &&
			    (strcmp(link, "anon_inode:[signalfd]") == 0 ||
			     (strncmp(link, stage, strlen(stage)) == 0 &&
			      (!link[strlen(stage)] ||
			       strcmp(link + strlen(stage), "/dev/pts") == 0)));
		if (!ok)
			snprintf(why, len, "fd %ld is %s", fd, link);
	}
	closedir(dir);
	return ok;
}

/*
 * Members come from the spawner, not from the daemon's thread: each is
 * still the daemon's child (it dies with the daemon and is reaped by it)
 * and holds nothing but /dev/null on 0-2, its control socket on 3 and its
 * own signalfd.
 * Without the spawner the daemon clones members itself, and runs go on.
 */
Test(pool, members_come_from_the_spawner_holding_nothing_else)
{
	pid_t members[POOL], spawner;
	char why[300] = "";
	box_client *c;
	int n;

	wait_pool_full();
	spawner = spawner_pid();
	cr_assert_gt(spawner, 0, "no spawner among the daemon's children");
	/* The spawner closes its copies of a member's two fds right after
	 * sending them: the pool can read full a moment before. What it
	 * must not do is keep them. */
	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		if (holds_only_its_own(spawner, false, why, sizeof(why)))
			break;
		usleep(10000);
	}
	cr_expect(holds_only_its_own(spawner, false, why, sizeof(why)),
		  "the spawner: %s", why);
	n = idle_members(members, POOL);
	cr_assert_eq(n, POOL);
	for (int i = 0; i < n; i++)
		cr_expect(
		    holds_only_its_own(members[i], true, why, sizeof(why)),
		    "member %d: %s", (int)members[i], why);

	kill(spawner, SIGKILL);
	c = connect_root(&d);
	for (int i = 0; i < 2 * POOL; i++) {
		int status = -1;
		char *out = run_sh_as(c, "echo fine", &status);

		cr_expect_str_eq(out, "fine\n");
		cr_expect_eq(status, 0);
		free(out);
	}
	box_client_free(c);
	wait_pool_full();
	cr_expect_eq(idle_members(members, POOL), POOL);
	cr_expect(daemon_alive(&d));
}

Test(pool, each_pooled_run_maps_its_own_caller)
{
	box_client *root = connect_root(&d);
	box_client *nobody = connect_as(&d, NOBODY, NOBODY);

	wait_pool_full();
	for (int i = 0; i < 4; i++) {
		char *a = run_sh_as(root, "cat /proc/self/uid_map", NULL);
		char *b = run_sh_as(nobody, "cat /proc/self/uid_map", NULL);
		unsigned in, outside, count;

		cr_assert_eq(sscanf(a, "%u %u %u", &in, &outside, &count), 3);
		cr_expect_eq(outside, 0);
		cr_assert_eq(sscanf(b, "%u %u %u", &in, &outside, &count), 3);
		cr_expect_eq(in, NOBODY);
		cr_expect_eq(outside, NOBODY);
		cr_expect_eq(count, 1);
		free(a);
		free(b);
	}
	box_client_free(nobody);
	box_client_free(root);
}

Test(pool, stopping_with_a_full_pool_leaves_nothing)
{
	char cmd[512], buf[64] = "";
	pid_t members[POOL], spawner;
	FILE *p;
	int n, status;

	wait_pool_full();
	n = idle_members(members, POOL);
	cr_assert_eq(n, POOL);
	spawner = spawner_pid();
	kill(d.pid, SIGTERM);
	cr_assert_eq(waitpid(d.pid, &status, 0), d.pid);
	d.pid = 0;
	for (int i = 0; i < n; i++)
		cr_expect(kill(members[i], 0) < 0 && errno == ESRCH,
			  "member %d survived the daemon", members[i]);
	cr_expect(spawner < 0 || (kill(spawner, 0) < 0 && errno == ESRCH),
		  "the spawner %d survived the daemon", (int)spawner);
	/* No cgroup of ours with processes in it, no run cgroups. */
	if (strcmp(d.cgroup_mode, "v1") == 0)
		snprintf(
		    cmd, sizeof(cmd),
		    "cat /dev/null $(find /sys/fs/cgroup/*/%s -name cgroup.procs "
		    "2>/dev/null) 2>/dev/null | wc -l",
		    d.cgroup_root);
	else if (strcmp(d.cgroup_mode, "v2") == 0)
		snprintf(
		    cmd, sizeof(cmd),
		    "cat /dev/null $(find %s -name cgroup.procs) 2>/dev/null | wc -l",
		    d.cgroup_root);
	else
		snprintf(cmd, sizeof(cmd), "echo 0");
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = 0;
	pclose(p);
	cr_expect_eq(atoi(buf), 0, "processes left in boxd's cgroups");
	/* No mount of ours on the host: the staging directory is empty. */
	snprintf(cmd, sizeof(cmd), "grep -c '%s' /proc/self/mountinfo", d.dir);
	p = popen(cmd, "r");
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = 0;
	pclose(p);
	cr_expect_eq(atoi(buf), 0, "mounts left under %s", d.dir);
}

/* The daemon's pids.max file, or "" when it has no pids controller. */
static const char *root_pids_file(char *buf, size_t len)
{
	if (strcmp(d.cgroup_mode, "v1") == 0)
		snprintf(buf, len, "/sys/fs/cgroup/pids/%s/pids.max",
			 d.cgroup_root);
	else if (strcmp(d.cgroup_mode, "v2") == 0)
		snprintf(buf, len, "%s/pids.max", d.cgroup_root);
	else
		buf[0] = 0;
	if (buf[0] && access(buf, W_OK) < 0)
		buf[0] = 0;
	return buf;
}

static unsigned long read_ulong(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0, "%s: %s", path, strerror(errno));
}

/*
 * With a tight pids budget on the daemon's cgroup, idle pool members must
 * not be what the runs' forks run out of: the pool gives its members back
 * and every run gets the whole budget. Three runs at once, four processes
 * each, under a budget that only fits them once the four idle members are
 * gone. The runs use the host's network, so none of them takes a member
 * (which would hand its pid over to the run).
 */
Test(pool, a_full_pool_never_takes_the_pids_a_run_needs)
{
	const char *argv[] = {"/bin/sh", "-c",
			      "sleep 0.5 & sleep 0.5 & wait && echo ok", NULL};
	char max_path[512], cur_path[520], limit[32];
	box_client *c[3];
	box_run *run[3];
	box_spec *s;

	if (!root_pids_file(max_path, sizeof(max_path))[0])
		cr_skip_test("no pids controller for the daemon's cgroup here");
	wait_pool_full();
	snprintf(cur_path, sizeof(cur_path), "%s", max_path);
	strcpy(strrchr(cur_path, '.'), ".current");
	/* Room for 10 more processes now, 14 once the 4 idle members are
	 * gone: the runs need 12 (pid 1, sh and two sleeps each). */
	snprintf(limit, sizeof(limit), "%lu", read_ulong(cur_path) + 10);
	write_text(max_path, limit);

	s = spec_argv(argv);
	cr_assert(box_spec_set_net(s, BOX_NET_HOST) >= 0);
	for (int i = 0; i < 3; i++) {
		c[i] = connect_root(&d);
		cr_assert(box_run_start(c[i], s, -1, -1, -1, &run[i]) >= 0);
	}
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(box_run_wait(run[i]), 0);
		cr_expect_eq(box_run_exit_status(run[i]), 0,
			     "run %d: status %d (%s)", i,
			     box_run_exit_status(run[i]),
			     box_run_error(run[i])
				 ? box_error_message(box_run_error(run[i]))
				 : "a fork failed");
		box_run_free(run[i]);
		box_client_free(c[i]);
	}
	box_spec_free(s);
	write_text(max_path, "max");
	cr_expect(daemon_alive(&d));
}

/* The signal state the command starts with, as grep itself sees it. */
static char *signal_state(void)
{
	box_client *c = connect_root(&d);
	box_spec *s = spec_argv((const char *[]){"/bin/grep", "-E",
						 "^(Sig(Ign|Blk)|CapBnd)",
						 "/proc/self/status", NULL});
	char *out = run_spec_out(c, s, NULL);

	box_spec_free(s);
	box_client_free(c);
	return out;
}

/*
 * Whatever signals the daemon was started with ignored, the command
 * starts with none ignored and none blocked, and with an empty bounding
 * set, whether it ran in a pool member (which learned its inheritance
 * from the spawner, and emptied the set before its take) or in a member
 * made for the run.
 */
Test(pool, what_the_daemon_inherited_never_reaches_the_command)
{
	static const char *const pooled[] = {"--pool-size", "4", NULL};
	static const char *const cold[] = {"--pool-size", "0", NULL};
	const char *want = "SigBlk:\t0000000000000000\n"
			   "SigIgn:\t0000000000000000\n"
			   "CapBnd:\t0000000000000000\n";
	uint64_t hits0, hits1, misses;
	unsigned size;
	char *out;

	daemon_stop(&d);
	d.ignoring_signals = true;
	daemon_start(&d, pooled, NULL);
	wait_pool_full();
	pool_counts(&size, &hits0, &misses);
	out = signal_state();
	pool_counts(&size, &hits1, &misses);
	cr_expect_eq(hits1, hits0 + 1, "the run did not take a pool member");
	cr_expect_str_eq(out, want, "pooled run");
	free(out);

	daemon_stop(&d);
	d.ignoring_signals = true;
	daemon_start(&d, cold, NULL);
	out = signal_state();
	cr_expect_str_eq(out, want, "run without a pool");
	free(out);
}

/*
 * The daemon out of processes (its cgroup's pids budget spent, no pool
 * member to give back): the run is answered BUSY, naming the shortage
 * and when to retry, not SETUP_FAILED; a client that retries gets its
 * run once the budget has room again, on the same connection.
 */
Test(pool, out_of_processes_the_daemon_says_busy)
{
	static const char *const no_pool[] = {"--pool-size", "0", NULL};
	char max_path[512], cur_path[520], limit[32];
	box_client *c;
	box_run *run = NULL;
	box_spec *s;

	daemon_stop(&d);
	daemon_start(&d, no_pool, NULL);
	if (!root_pids_file(max_path, sizeof(max_path))[0])
		cr_skip_test("no pids controller for the daemon's cgroup here");
	snprintf(cur_path, sizeof(cur_path), "%s", max_path);
	strcpy(strrchr(cur_path, '.'), ".current");
	snprintf(limit, sizeof(limit), "%lu", read_ulong(cur_path));
	write_text(max_path, limit);

	c = connect_root(&d);
	s = spec_argv((const char *[]){"/bin/true", NULL});
	cr_assert(box_run_start(c, s, -1, -1, -1, &run) >= 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_not_null(box_run_error(run), "the run started");
	cr_expect_eq(box_error_code(box_run_error(run)), BOX_ERROR_BUSY, "%s",
		     box_error_message(box_run_error(run)));
	cr_expect(strstr(box_error_message(box_run_error(run)), "processes"),
		  "%s", box_error_message(box_run_error(run)));
	cr_expect_gt(box_error_retry_after_ms(box_run_error(run)), 0);
	box_run_free(run);

	/* Retrying: pending while the budget is spent, done once it has
	 * room. */
	cr_assert_eq(box_client_set_busy_retries(c, 100), 0);
	cr_assert(box_run_start(c, s, -1, -1, -1, &run) >= 0);
	while (box_client_timeout(c) < 0 &&
	       box_run_state(run) == BOX_RUN_PENDING) {
		struct pollfd p = {.fd = box_client_fd(c), .events = POLLIN};

		cr_assert_gt(poll(&p, 1, TEST_PATIENCE_MS), 0);
		cr_assert_geq(box_client_dispatch(c), 0);
	}
	cr_assert_eq(box_run_state(run), BOX_RUN_PENDING, "%s",
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "it ran");
	write_text(max_path, "max");
	cr_assert_eq(box_run_wait(run), 0);
	cr_expect_eq(box_run_exit_status(run), 0, "%s",
		     box_run_error(run) ? box_error_message(box_run_error(run))
					: "-");
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	cr_expect(daemon_alive(&d));
}

/* ---- the default profile's tree, built before the take ---- */

/* What a sandbox's filesystem looks like from inside, as a script: the
 * entries of / and /dev, what the sandbox user can write (and owns), and
 * whether the daemon's directory shows anywhere in the mount table. */
static const char probe_fs[] =
    "ls -A / | tr '\\n' ' '; echo; ls -A /dev | tr '\\n' ' '; echo; "
    "for p in / /dev /usr /etc /tmp /run /var /dev/shm /proc/sys; do "
    "  if touch $p/.w 2>/dev/null; then echo \"$p writable $(stat -c %u $p)\"; "
    "  else echo \"$p read-only\"; fi; done; "
    "[ -s /proc/keys ] && echo 'keys visible'; "
    "echo x > /dev/null && head -c 4 /dev/zero | wc -c; "
    "grep -c \"$1\" /proc/self/mountinfo";

static char *probe(box_client *c, bool add_a_mount)
{
	const char *argv[] = {"/bin/sh", "-c", probe_fs, "probe", d.dir, NULL};
	box_spec *s = spec_argv(argv);
	char *out;

	/* Anything beyond the default profile's mounts: a root built after
	 * the take. */
	if (add_a_mount)
		cr_assert(box_spec_tmpfs(s, "/scratch", 1 << 20, 0755) >= 0);
	out = run_spec_out(c, s, NULL);
	box_spec_free(s);
	return out;
}

/*
 * A pooled member builds the default profile's tree while it waits; a run
 * that asks for exactly that filesystem gets it (the prebuilt count says
 * so), any other request gets a root built for it from the same member
 * (a hit, not prebuilt). The sandbox looks the same either way, for root
 * and for an unprivileged caller: the same entries in / and /dev, the same
 * places writable by the sandbox user and owned by it (but /dev itself,
 * read-only in the prebuilt tree), /proc masked, the daemon's directories
 * nowhere in the mount table.
 */
Test(pool, the_prebuilt_tree_serves_default_runs_and_looks_the_same)
{
	for (int who = 0; who < 2; who++) {
		box_client *c =
		    who ? connect_as(&d, NOBODY, NOBODY) : connect_root(&d);
		uint64_t pre0, pre1, pre2, hits0, hits1, misses;
		unsigned size;
		char *fast, *built;
		char *scratch, *dev;

		wait_pool_full();
		pool_counts(&size, &hits0, &misses);
		pre0 = prebuilt_count();
		fast = probe(c, false);
		pre1 = prebuilt_count();
		cr_expect_eq(pre1, pre0 + 1,
			     "a default run did not use the "
			     "prebuilt tree");
		wait_pool_full();
		built = probe(c, true);
		pre2 = prebuilt_count();
		pool_counts(&size, &hits1, &misses);
		cr_expect_eq(pre2, pre1,
			     "a run with a mount of its own got "
			     "the prebuilt tree");
		cr_expect_eq(hits1, hits0 + 2,
			     "both runs should take a member");

		/* The built root has /scratch besides, and its /dev is a
		 * tmpfs of the user's, where the prebuilt /dev is read-only
		 * (its shm is the writable part); nothing else differs. */
		scratch = strstr(built, "scratch ");
		cr_assert_not_null(scratch, "%s", built);
		memmove(scratch, scratch + 8, strlen(scratch + 8) + 1);
		dev = strstr(built, "/dev writable ");
		cr_assert_not_null(dev, "%s", built);
		memmove(dev + 5, "read-only", 9);
		memmove(dev + 14, strchr(dev + 14, '\n'),
			strlen(strchr(dev + 14, '\n')) + 1);
		cr_expect_str_eq(fast, built);
		cr_expect(strstr(fast, "keys visible") == NULL, "%s", fast);
		cr_expect(strstr(fast, "/dev/shm writable") != NULL, "%s",
			  fast);
		cr_expect(strstr(fast, "/tmp writable") != NULL, "%s", fast);
		cr_expect(strstr(fast, "/proc/sys read-only") != NULL, "%s",
			  fast);
		cr_expect(strstr(fast, "/usr read-only") != NULL, "%s", fast);
		cr_expect(strstr(fast, "\n4\n0\n") != NULL,
			  "devices or mount table: %s", fast);
		free(fast);
		free(built);
		box_client_free(c);
	}
}

/*
 * A request with binds of its own takes a member that built the tree: the
 * member lets go of it before it resolves the sources, so binding the
 * directory that holds the daemon's staging directory (here the test's
 * own directory; as root, who may) sees no trace of it: no proc below it
 * to refuse, and an empty staging directory.
 */
Test(pool, a_bind_above_the_staging_directory_sees_no_prebuilt_tree)
{
	box_client *c = connect_root(&d);
	const char *argv[] = {"/bin/sh", "-c", "ls -A /work/state/root | wc -l",
			      NULL};
	box_spec *s = spec_argv(argv);
	uint64_t pre0 = prebuilt_count();
	int status = -1;
	char *out;

	wait_pool_full();
	cr_assert(box_spec_bind(s, d.dir, "/work") >= 0);
	out = run_spec_out(c, s, &status);
	cr_expect_str_eq(out, "0\n");
	cr_expect_eq(status, 0);
	cr_expect_eq(prebuilt_count(), pre0);
	free(out);
	box_spec_free(s);
	box_client_free(c);
}

/*
 * A run that finds the pool empty while a member is on its way waits for
 * it rather than starting cold. A pool of one, refilled after every take,
 * with the longest wait (1 s, from each run's arrival): concurrent runs
 * queue for the members on their way, and none starts cold (with no
 * wait most would). As many runs as the spawner makes members in half
 * that time on this machine (measured first: a few milliseconds here, a
 * few hundred in an emulated VM), from 2 to 8.
 */
static void setup_waiting(void)
{
	static const char *const args[] = {
	    "--pool-size",    "1",    "--pool-low", "1",
	    "--pool-wait-ms", "1000", NULL};

	require_root();
	daemon_start(&d, args, NULL);
}

TestSuite(pool_wait, .init = setup_waiting, .fini = teardown, .timeout = 240);

/* The pool of one full; its size, hits and misses. */
static void pool_of_one_full(unsigned *size, uint64_t *hits, uint64_t *misses)
{
	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		pool_counts(size, hits, misses);
		if (*size == 1)
			return;
		usleep(10000);
	}
	cr_assert_fail("the pool did not fill");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

Test(pool_wait, concurrent_runs_wait_for_the_member_on_its_way)
{
	enum { N_MAX = 8 };
	pthread_t t[N_MAX];
	struct burst_arg args[N_MAX];
	unsigned size = 0;
	uint64_t hits0, misses0, hits1, misses1, t0, refill_ns;
	box_client *c;
	int status = -1, n;
	char *out;

	/* How long one member takes to come, at most: from before a run
	 * (its take starts the refill) to a full pool again. Timed from the
	 * run's end instead, a refill that finished while the run's command
	 * still ran (an emulated VM runs it slowly) would look instant. */
	pool_of_one_full(&size, &hits0, &misses0);
	c = connect_root(&d);
	t0 = mono_ns();
	out = run_sh_as(c, "true", &status);
	cr_assert_eq(status, 0, "%s", out);
	free(out);
	box_client_free(c);
	pool_of_one_full(&size, &hits0, &misses0);
	refill_ns = mono_ns() - t0;
	n = refill_ns ? (int)(500000000ULL / refill_ns) : N_MAX;
	n = n < 2 ? 2 : n > N_MAX ? N_MAX : n;

	for (int i = 0; i < n; i++) {
		args[i] = (struct burst_arg){.d = &d, .index = i};
		cr_assert(pthread_create(&t[i], NULL, burst_one, &args[i]) ==
			  0);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		cr_expect(args[i].ok, "run %d gave a wrong result", i);
	}
	pool_counts(&size, &hits1, &misses1);
	cr_expect_eq(misses1, misses0,
		     "%llu of %d runs started cold (a member took %.1f ms)",
		     (unsigned long long)(misses1 - misses0), n,
		     (double)refill_ns / 1e6);
	cr_expect_eq(hits1 - hits0, (uint64_t)n);
}

/* The pool of one filled, the spawner stopped, and its member taken: no
 * member is ready, and the one asked of the spawner is on its way but
 * will not come while the spawner stays stopped. */
static pid_t drain_with_member_owed(void)
{
	unsigned size = 0;
	uint64_t hits, misses;
	box_client *c;
	pid_t spawner;
	int status = -1;
	char *out;

	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		pool_counts(&size, &hits, &misses);
		if (size == 1)
			break;
		usleep(10000);
	}
	cr_assert_eq(size, 1, "the pool did not fill");
	spawner = spawner_pid();
	cr_assert_gt(spawner, 0, "the daemon has no spawner");
	cr_assert_eq(kill(spawner, SIGSTOP), 0);
	c = connect_root(&d);
	out = run_sh_as(c, "echo took", &status);
	cr_assert_str_eq(out, "took\n");
	free(out);
	box_client_free(c);
	/* The take asked for a refill on the daemon's next loop turn; one
	 * more request answered, and it has been asked of the spawner. */
	pool_counts(&size, &hits, &misses);
	cr_assert_eq(size, 0, "a member came from a stopped spawner");
	return spawner;
}

/* Ask c for the pool's waiting runs until there are n; false if that
 * never happens (each answer came while they waited). */
static bool wait_for_waiting(box_client *c, int64_t n)
{
	for (int i = 0; i < TEST_PATIENCE_MS / 10; i++) {
		box_status *st = NULL;
		int64_t w;

		cr_assert(box_client_status(c, &st) >= 0);
		w = box_status_pool_waiting(st);
		box_status_free(st);
		if (w == n)
			return true;
		usleep(10000);
	}
	return false;
}

/* Start s on a with stdout out_fd (closed here; -1: none) and return
 * the run once b hears from the daemon that it waits for a member. */
static box_run *start_waiting(box_client *a, box_client *b, box_spec *s,
			      int out_fd)
{
	box_run *run = NULL;

	cr_assert(box_run_start(a, s, -1, out_fd, -1, &run) >= 0);
	if (out_fd >= 0)
		close(out_fd);
	cr_assert(wait_for_waiting(b, 1), "no run was waiting for a member");
	return run;
}

/*
 * A run waiting for a member holds up no one else: while it waits (here
 * up to the whole pool-wait-ms of 1 s, the member it waits for being
 * owed by a stopped spawner), another connection's request is answered,
 * and the waiting run is not. Once the spawner goes on, the run takes
 * the member and runs as usual.
 */
Test(pool_wait, a_waiting_run_holds_up_no_other_client)
{
	const char *argv[] = {"/bin/sh", "-c", "echo waited", NULL};
	pid_t spawner = drain_with_member_owed();
	box_client *a = connect_root(&d), *b = connect_root(&d);
	box_spec *s = spec_argv(argv);
	box_run *run = NULL;
	int pout[2];
	char buf[64];
	ssize_t n;

	cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
	/* b is answered while a's run waits (the daemon says it waits). */
	run = start_waiting(a, b, s, pout[1]);
	cr_expect_eq(box_run_dispatch(run), BOX_RUN_PENDING,
		     "a's run was answered while it waited");
	kill(spawner, SIGCONT);
	cr_assert_eq(box_run_wait(run), 0);
	cr_expect_null(box_run_error(run));
	cr_expect_eq(box_run_exit_status(run), 0);
	n = read(pout[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	cr_expect_str_eq(buf, "waited\n");
	close(pout[0]);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(a);
	box_client_free(b);
}

/*
 * A client that hangs up while its run waits for a member leaves nothing
 * behind: the run never starts (its command would have written to the
 * pipe), the daemon lets go of the stdio it was handed (the pipe reads
 * EOF), and the run is not counted.
 */
Test(pool_wait, a_client_that_leaves_while_its_run_waits_leaves_nothing)
{
	const char *argv[] = {"/bin/sh", "-c", "echo ran", NULL};
	pid_t spawner = drain_with_member_owed();
	box_client *a = connect_root(&d), *b = connect_root(&d);
	box_spec *s = spec_argv(argv);
	box_status *st = NULL;
	box_run *run = NULL;
	struct pollfd p;
	int pout[2];
	char buf[64];

	cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
	run = start_waiting(a, b, s, pout[1]);
	box_run_free(run);
	box_client_free(a);
	p = (struct pollfd){.fd = pout[0], .events = POLLIN};
	cr_assert_eq(poll(&p, 1, TEST_PATIENCE_MS), 1,
		     "the daemon still holds the waiting run's stdout");
	cr_expect_eq(read(pout[0], buf, sizeof(buf)), 0,
		     "the run that was waiting when its client left ran");
	close(pout[0]);
	kill(spawner, SIGCONT);
	cr_assert(box_client_status(b, &st) >= 0);
	cr_expect_eq(box_status_runs(st), 0);
	cr_expect_eq(box_status_pool_waiting(st), 0);
	box_status_free(st);
	box_spec_free(s);
	box_client_free(b);
}

/*
 * A waiting run counts against its tenant's max-runs: a second run of
 * the same tenant, sent while the first waits, is refused as over the
 * ceiling rather than let through to start later beside it.
 */
Test(pool_wait, a_waiting_run_counts_against_max_runs)
{
	static const char *const args[] = {
	    "--pool-size",    "1",    "--pool-low", "1",
	    "--pool-wait-ms", "1000", NULL};
	const char *argv[] = {"/bin/sh", "-c", "echo first", NULL};
	box_client *a, *b;
	box_spec *s = spec_argv(argv);
	box_run *first = NULL, *second = NULL;
	const box_error *e;
	pid_t spawner;

	/* Callers other than root may have one run at a time. */
	daemon_stop(&d);
	daemon_start(&d, args, "[default]\nmax-runs = 1\n");
	cr_assert(chmod(d.dir, 0755) == 0);
	spawner = drain_with_member_owed();
	a = connect_as(&d, NOBODY, NOBODY);
	b = connect_as(&d, NOBODY, NOBODY);
	first = start_waiting(a, b, s, -1);
	cr_assert(box_run_start(b, s, -1, -1, -1, &second) >= 0);
	cr_assert_eq(box_run_wait(second), 0);
	e = box_run_error(second);
	cr_assert_not_null(e, "a second run of the tenant was let through");
	cr_expect_eq(box_error_code(e), BOX_ERROR_BUSY, "%s",
		     box_error_message(e));
	cr_expect_eq(box_run_dispatch(first), BOX_RUN_PENDING,
		     "the first run did not wait for the member");
	kill(spawner, SIGCONT);
	cr_assert_eq(box_run_wait(first), 0);
	cr_expect_null(box_run_error(first));
	cr_expect_eq(box_run_exit_status(first), 0);
	box_run_free(first);
	box_run_free(second);
	box_spec_free(s);
	box_client_free(a);
	box_client_free(b);
}

/*
 * A daemon told to stop while a run waits for a member answers that run
 * (BUSY, shutting down) rather than leaving its client without one.
 */
Test(pool_wait, a_run_waiting_when_the_daemon_stops_is_answered)
{
	const char *argv[] = {"/bin/sh", "-c", "echo late", NULL};
	pid_t spawner = drain_with_member_owed();
	box_client *a = connect_root(&d), *b = connect_root(&d);
	box_spec *s = spec_argv(argv);
	box_run *run = NULL;
	const box_error *e;

	run = start_waiting(a, b, s, -1);
	cr_assert_eq(kill(d.pid, SIGTERM), 0);
	cr_assert_eq(box_run_wait(run), 0, "the waiting run got no answer");
	e = box_run_error(run);
	cr_assert_not_null(e, "the run started while the daemon stopped");
	cr_expect_eq(box_error_code(e), BOX_ERROR_BUSY, "%s",
		     box_error_message(e));
	cr_expect(strstr(box_error_message(e), "shutting down") != NULL, "%s",
		  box_error_message(e));
	kill(spawner, SIGCONT);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(a);
	box_client_free(b);
}
