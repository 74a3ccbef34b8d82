/*
 * The cgroup manager against the real kernel: cgroups are created, limits
 * read back from cgroupfs, processes attached, made to burn CPU and
 * memory, killed, and the directories checked gone.
 *
 * The v1 suite runs on hybrid hosts (the development machines); the v2
 * suite needs a cgroup2 hierarchy with cpu, memory and pids delegated and
 * runs inside the VM (tests/vm/run). Either skips, saying why, when the
 * host lacks what it needs. Every test uses its own root named after its
 * pid, so tests may run in parallel, and removes it at the end.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "util.h"

#define MIB (1024ULL * 1024)

/* How long a wait for something that must happen (processes to appear,
 * to die) may take before it is a failure. The machines are shared and
 * may be slow; each wait ends as soon as the thing happens. */
#define PATIENCE_MS 30000

static const char *const v1_dirs[] = {"cpu", "cpuacct", "memory", "pids",
				      "freezer"};
/* Where each of v1_dirs is mounted on this host ("" if it is not):
 * /sys/fs/cgroup/<name>, or a co-mounted "cpu,cpuacct". */
static char v1_mounts[ELEMENTSOF(v1_dirs)][64];

/* Set by the fixtures. */
static char root_name[64]; /* v1: name under each hierarchy */
static char v2_root[512];  /* v2: absolute path of the test's root */
static char v2_home[512];  /* v2: where this process came from */
static struct cgroup_manager *mgr;

/* --- small helpers --------------------------------------------------- */

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -errno : 0;
}

static unsigned long long read_ull(const char *path)
{
	char buf[64];

	cr_assert_geq(read_file(path, buf, sizeof(buf)), 0, "read %s", path);
	return strtoull(buf, NULL, 10);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool is_fs(const char *path, long magic)
{
	struct statfs s;

	return statfs(path, &s) == 0 && s.f_type == magic;
}

static int count_procs(const char *dir)
{
	char path[640], buf[8192];
	int n = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			n++;
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static bool pid_cgroup_has(pid_t pid, const char *suffix)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return false;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		size_t l = strlen(line), s = strlen(suffix);

		if (l >= s && strcmp(line + l - s, suffix) == 0)
			return true;
	}
	return false;
}

/* --- what children do (raw syscalls only: clone3 children run without
 * glibc's fork handlers) ------------------------------------------------ */

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return timespec_ns(&ts);
}

static volatile uint64_t burn_sink;

static void burn_cpu_ms(uint64_t ms)
{
	uint64_t end = cpu_now_ns() + ms * 1000000ULL;

	while (cpu_now_ns() < end)
		for (int i = 0; i < 10000; i++)
			burn_sink += (uint64_t)i;
}

static void touch_memory(uint64_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(90);
	for (uint64_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
}

enum job {
	JOB_EXIT,      /* exit 0 */
	JOB_WORK,      /* 300ms CPU, 48 MiB touched */
	JOB_SLEEPERS,  /* five sleeping children, then sleep */
	JOB_HOG,       /* fork a sleeping child, then touch 512 MiB */
	JOB_FORK_TEN,  /* try ten forks; exit with how many worked */
	JOB_SPIN_WALL, /* spin for one second of wall time */
	JOB_SLEEP,     /* sleep */
};

static _noreturn_ void run_job(enum job job)
{
	int ok = 0;

	switch (job) {
	case JOB_EXIT:
		break;
	case JOB_WORK:
		burn_cpu_ms(300);
		touch_memory(48 * MIB);
		break;
	case JOB_SLEEPERS:
		for (int i = 0; i < 5; i++)
			if (fork() == 0)
				for (;;)
					pause();
		for (;;)
			pause();
	case JOB_HOG:
		if (fork() == 0)
			for (;;)
				pause();
		touch_memory(512 * MIB);
		break;
	case JOB_FORK_TEN: {
		pid_t kids[10];

		/* The children live until every fork has been tried, however
		 * slowly that goes: one that exited early would free its
		 * slot and let a later fork through. */
		for (int i = 0; i < 10; i++) {
			pid_t p = fork();

			if (p == 0)
				for (;;)
					pause();
			if (p > 0)
				kids[ok++] = p;
		}
		for (int i = 0; i < ok; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
		_exit(ok);
	}
	case JOB_SPIN_WALL: {
		uint64_t end = now_ns() + 1000000000ULL;
		volatile uint64_t x = 0;

		while (now_ns() < end)
			x++;
		break;
	}
	case JOB_SLEEP:
		for (;;)
			pause();
	}
	_exit(0);
}

/* fork()s a child that waits on a pipe before doing its job, so the
 * parent can attach it first. */
static pid_t spawn_waiting(enum job job, int *ret_go)
{
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char c;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(91);
		run_job(job);
	}
	close(p[0]);
	*ret_go = p[1];
	return pid;
}

static void go(int fd)
{
	cr_assert_eq(write(fd, "g", 1), 1);
	close(fd);
}

static int wait_status(pid_t pid)
{
	int status = 0;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* --- v1 fixture --------------------------------------------------------- */

/* Finds where each v1 controller is mounted. */
static void v1_find_mounts(void)
{
	for (size_t i = 0; i < ELEMENTSOF(v1_dirs); i++) {
		const char *cands[] = {v1_dirs[i], "cpu,cpuacct",
				       "cpuacct,cpu"};
		size_t n = strncmp(v1_dirs[i], "cpu", 3) == 0 ? 3 : 1;

		v1_mounts[i][0] = '\0';
		for (size_t j = 0; j < n && !v1_mounts[i][0]; j++) {
			char path[64];

			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s",
				 cands[j]);
			if (is_fs(path, CGROUP_SUPER_MAGIC))
				memcpy(v1_mounts[i], path, sizeof(path));
		}
	}
}

/* The first of cpu, cpuacct, memory and pids that is not mounted, or
 * NULL when the four are. */
static const char *v1_missing(void)
{
	v1_find_mounts();
	for (size_t i = 0; i < 4; i++)
		if (!v1_mounts[i][0])
			return v1_dirs[i];
	return NULL;
}

static bool v1_available(void)
{
	return v1_missing() == NULL;
}

static void v1_require(void)
{
	const char *missing;
	char path[128];

	if (geteuid() != 0)
		cr_skip_test("needs root: creates cgroups");
	missing = v1_missing();
	if (missing)
		cr_skip_test("no cgroup v1 '%s' hierarchy under /sys/fs/cgroup "
			     "(the v1 backend wants cpu, cpuacct, memory and "
			     "pids; a pure v2 host has none)",
			     missing);
	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", v1_mounts[0]);
	if (!exists(path))
		cr_skip_test("%s is missing: this kernel has no CFS bandwidth "
			     "control (CONFIG_CFS_BANDWIDTH)",
			     path);
}

static void v1_path(char *buf, size_t size, const char *hier, const char *rel)
{
	const char *mnt = NULL;

	for (size_t i = 0; i < ELEMENTSOF(v1_dirs) && !mnt; i++)
		if (strcmp(v1_dirs[i], hier) == 0 && v1_mounts[i][0])
			mnt = v1_mounts[i];
	if (!mnt) {
		/* Not mounted here (the freezer may be absent): a path
		 * that does not exist. */
		snprintf(buf, size, "/sys/fs/cgroup/%s/%s%s%s", hier, root_name,
			 rel ? "/" : "", rel ? rel : "");
		return;
	}
	snprintf(buf, size, "%s/%s%s%s", mnt, root_name, rel ? "/" : "",
		 rel ? rel : "");
}

/* An OOM kill is the end of a run over its memory limit only if the run
 * cannot swap instead: with swap on the host and no swap accounting in
 * the cgroup, the kernel pages the hog out and it goes on. */
static void require_no_swap_escape(void)
{
	FILE *f = fopen("/proc/swaps", "re");
	char line[256];
	int lines = 0;

	while (f && fgets(line, sizeof(line), f))
		lines++;
	if (f)
		fclose(f);
	if (lines > 1 && !(cgroup_manager_can(mgr) & CGROUP_CAN_SWAP))
		cr_skip_test("this host has swap and no swap accounting: a "
			     "memory limit cannot stop the hog from swapping");
}

static void v1_init(void)
{
	snprintf(root_name, sizeof(root_name), "boxd-test-%d", (int)getpid());
	mgr = NULL;
	v1_find_mounts();
}

static void v1_fini(void)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V1, .root = root_name};
	struct cgroup_manager *m = NULL;
	char path[512];
	struct error_detail err = {0};

	if (geteuid() != 0 || !v1_available())
		return;
	mgr = cgroup_manager_free(mgr);
	/* A fresh manager sweeps whatever a failed test left behind. */
	if (cgroup_manager_open(&cfg, &err, &m) >= 0)
		cgroup_manager_free(m);
	for (size_t i = 0; i < ELEMENTSOF(v1_dirs); i++) {
		v1_path(path, sizeof(path), v1_dirs[i], "pool");
		rmdir(path);
		v1_path(path, sizeof(path), v1_dirs[i], NULL);
		rmdir(path);
	}
}

static void v1_open(void)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V1, .root = root_name};
	struct error_detail err = {0};
	int r;

	r = cgroup_manager_open(&cfg, &err, &mgr);
	cr_assert_eq(r, 0, "open v1: %s", err.message);
}

TestSuite(v1, .init = v1_init, .fini = v1_fini, .timeout = 120);

Test(v1, open_layout)
{
	char path[512];
	unsigned can;

	v1_require();
	v1_open();
	cr_assert_eq(cgroup_manager_mode(mgr), CGROUP_MODE_V1);
	cr_assert_str_eq(cgroup_manager_mode_name(mgr), "v1");
	cr_assert(strstr(cgroup_manager_controllers(mgr), "memory"));
	cr_assert(strstr(cgroup_manager_controllers(mgr), "pids"));
	cr_assert(strstr(cgroup_manager_controllers(mgr), "cpu"));
	v1_path(path, sizeof(path), "memory", NULL);
	cr_assert_str_eq(cgroup_manager_path(mgr), path);
	can = cgroup_manager_can(mgr);
	cr_assert(can & CGROUP_CAN_MEMORY);
	cr_assert(can & CGROUP_CAN_CPUS);
	cr_assert(can & CGROUP_CAN_PIDS);
	cr_assert(can & CGROUP_CAN_PEAK_MEMORY);
	cr_assert_not(can & CGROUP_CAN_CLONE_INTO);
	/* Members get cgroups of their own; no shared pool/ any more. */
	for (size_t i = 0; i < 4; i++) {
		v1_path(path, sizeof(path), v1_dirs[i], "pool");
		cr_assert_not(exists(path), "%s made", path);
	}
	mgr = cgroup_manager_free(mgr);
	v1_path(path, sizeof(path), "memory", "pool");
	cr_assert_not(exists(path), "pool/ left behind");
}

Test(v1, limits_are_written)
{
	struct spec_limits lim = {.memory_bytes = 64 * MIB,
				  .memory_swap_bytes = 16 * MIB,
				  .cpu_millis = 1500,
				  .pids = 32};
	struct cgroup_run *run = NULL;
	char path[512];

	v1_require();
	v1_open();
	if (!(cgroup_manager_can(mgr) & CGROUP_CAN_SWAP))
		lim.memory_swap_bytes = 0;
	cr_assert_eq(cgroup_run_create(mgr, 1000, 7, &lim, &run), 0);
	cr_assert_eq(cgroup_run_clone_fd(run), -1);

	v1_path(path, sizeof(path), "memory",
		"tenant-1000/run-7/memory.limit_in_bytes");
	cr_assert_eq(read_ull(path), 64 * MIB);
	if (lim.memory_swap_bytes) {
		v1_path(path, sizeof(path), "memory",
			"tenant-1000/run-7/memory.memsw.limit_in_bytes");
		cr_assert_eq(read_ull(path), 80 * MIB);
	}
	v1_path(path, sizeof(path), "cpu",
		"tenant-1000/run-7/cpu.cfs_quota_us");
	cr_assert_eq(read_ull(path), 150000);
	v1_path(path, sizeof(path), "cpu",
		"tenant-1000/run-7/cpu.cfs_period_us");
	cr_assert_eq(read_ull(path), 100000);
	v1_path(path, sizeof(path), "pids", "tenant-1000/run-7/pids.max");
	cr_assert_eq(read_ull(path), 32);

	cr_assert_eq(cgroup_run_destroy(run), 0);
	for (size_t i = 0; i < 4; i++) {
		v1_path(path, sizeof(path), v1_dirs[i], "tenant-1000/run-7");
		cr_assert_not(exists(path), "%s left behind", path);
	}
	cgroup_run_free(run);
}

/* A pool member's cgroup: made before its run is known, in every
 * hierarchy but a cpu of its own; the take writes the limits and adds cpu
 * (with a move) only for a CPU limit. */
/* Files of this process open below the cgroup directory dir. */
static int files_open_below(const char *dir)
{
	char link[PATH_MAX], path[300];
	size_t len = strlen(dir);
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		struct stat st;
		ssize_t k;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		link[k] = '\0';
		if (strncmp(link, dir, len) == 0 && link[len] == '/')
			n++;
	}
	closedir(d);
	return n;
}

/*
 * A prepared cgroup holds its files open from the start (files_open_below()
 * before the take), so the run pays no open at its end; the same files
 * read again give fresh values: the CPU time before the work and after
 * it, and the stats after it.
 */
static void work_and_read_counters(struct cgroup_run *run, int gofd, pid_t pid)
{
	struct run_result res = {0};
	uint64_t before = 0, after = 0;
	int status;

	cr_assert_eq(cgroup_run_cpu_ns(run, &before), 0);
	cr_assert_lt(before, 250000000ULL, "cpu %llu ns before the work",
		     (unsigned long long)before);
	go(gofd);
	status = wait_status(pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
		  status);
	cr_assert_eq(cgroup_run_cpu_ns(run, &after), 0);
	cr_assert_geq(after, before + 250000000ULL, "cpu %llu ns, then %llu",
		      (unsigned long long)before, (unsigned long long)after);
	cr_assert_eq(cgroup_run_stats(run, &res), 0);
	cr_assert_geq(res.user_ns + res.system_ns, 250000000ULL);
	if (cgroup_manager_can(mgr) & CGROUP_CAN_PEAK_MEMORY)
		cr_assert_geq(res.peak_memory_bytes, 48 * MIB);
}

Test(v1, prepared_cgroup_is_bound_at_the_take)
{
	struct spec_limits lim = {.memory_bytes = 64 * MIB, .pids = 32};
	struct spec_limits cpu_lim = {.cpu_millis = 500};
	struct cgroup_run *run = NULL, *run2 = NULL;
	char path[512], suffix[128];
	bool cpu_alone;
	pid_t pid;
	int gofd, status;

	v1_require();
	v1_open();
	/* cpu co-mounted with cpuacct comes for free; alone it waits. */
	{
		struct stat a, b;

		cr_assert_eq(stat(v1_mounts[0], &a), 0);
		cr_assert_eq(stat(v1_mounts[1], &b), 0);
		cpu_alone = a.st_dev != b.st_dev;
	}
	cr_assert_eq(cgroup_run_prepare(mgr, &run), 0);
	cr_assert_eq(cgroup_run_clone_fd(run), -1);
	v1_path(path, sizeof(path), "memory", "sandbox-0");
	cr_assert_gt(files_open_below(path), 0, "no file of %s kept open",
		     path);
	for (size_t i = 1; i < ELEMENTSOF(v1_dirs); i++) {
		if (!v1_mounts[i][0])
			continue;
		v1_path(path, sizeof(path), v1_dirs[i], "sandbox-0");
		cr_assert(exists(path), "%s missing", path);
	}
	v1_path(path, sizeof(path), "cpu", "sandbox-0");
	cr_assert_eq(exists(path), !cpu_alone, "%s", path);

	pid = spawn_waiting(JOB_WORK, &gofd);
	cr_assert_eq(cgroup_run_attach(run, pid), 0);
	snprintf(suffix, sizeof(suffix), ":/%s/sandbox-0", root_name);
	cr_assert(pid_cgroup_has(pid, suffix), "child not in %s", suffix);
	cr_assert_eq(cgroup_run_bind(run, 1000, 7, &lim, pid), 0);
	v1_path(path, sizeof(path), "memory",
		"sandbox-0/memory.limit_in_bytes");
	cr_assert_eq(read_ull(path), 64 * MIB);
	v1_path(path, sizeof(path), "pids", "sandbox-0/pids.max");
	cr_assert_eq(read_ull(path), 32);
	work_and_read_counters(run, gofd, pid);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);

	/* A CPU limit: the take makes cpu's directory and moves pid 1. */
	cr_assert_eq(cgroup_run_prepare(mgr, &run2), 0);
	pid = spawn_waiting(JOB_WORK, &gofd);
	cr_assert_eq(cgroup_run_attach(run2, pid), 0);
	cr_assert_eq(cgroup_run_bind(run2, 0, 8, &cpu_lim, pid), 0);
	v1_path(path, sizeof(path), "cpu", "sandbox-1/cpu.cfs_quota_us");
	cr_assert_eq(read_ull(path), 50000);
	snprintf(suffix, sizeof(suffix), ":/%s/sandbox-1", root_name);
	cr_assert(pid_cgroup_has(pid, suffix), "child not in %s", suffix);
	go(gofd);
	status = wait_status(pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(cgroup_run_destroy(run2), 0);
	for (size_t i = 0; i < ELEMENTSOF(v1_dirs); i++) {
		v1_path(path, sizeof(path), v1_dirs[i], "sandbox-1");
		cr_assert_not(exists(path), "%s left behind", path);
	}
	cgroup_run_free(run2);
}

Test(v1, attach_and_stats)
{
	struct cgroup_run *run = NULL;
	struct run_result res = {0};
	char suffix[128];
	uint64_t cpu = 0;
	pid_t pid;
	int gofd, status;

	v1_require();
	v1_open();
	cr_assert_eq(cgroup_run_create(mgr, 0, 1, NULL, &run), 0);
	pid = spawn_waiting(JOB_WORK, &gofd);
	cr_assert_eq(cgroup_run_attach(run, pid), 0);
	snprintf(suffix, sizeof(suffix), ":/%s/tenant-0/run-1", root_name);
	cr_assert(pid_cgroup_has(pid, suffix), "child not in %s", suffix);
	go(gofd);
	status = wait_status(pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	cr_assert_eq(cgroup_run_cpu_ns(run, &cpu), 0);
	cr_assert_geq(cpu, 250000000ULL, "cpu %llu ns",
		      (unsigned long long)cpu);
	cr_assert_eq(cgroup_run_stats(run, &res), 0);
	cr_assert_geq(res.user_ns + res.system_ns, 250000000ULL);
	cr_assert_eq(res.peak_source, RUN_PEAK_CGROUP);
	cr_assert_geq(res.peak_memory_bytes, 48 * MIB);
	cr_assert_eq(res.oom_kills, 0);
	if (cgroup_manager_can(mgr) & CGROUP_CAN_PEAK_PIDS)
		cr_assert_geq(res.peak_pids, 1);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);
}

static void kill_test(void)
{
	struct cgroup_run *run = NULL;
	char path[640];
	pid_t pid;
	int gofd, status, n = 0;

	cr_assert_eq(cgroup_run_create(mgr, 5, 2, NULL, &run), 0);
	pid = spawn_waiting(JOB_SLEEPERS, &gofd);
	cr_assert_eq(cgroup_run_attach(run, pid), 0);
	go(gofd);
	if (cgroup_manager_mode(mgr) == CGROUP_MODE_V2)
		snprintf(path, sizeof(path), "%s/tenant-5/run-2", v2_root);
	else
		v1_path(path, sizeof(path), "memory", "tenant-5/run-2");
	for (int i = 0; i < PATIENCE_MS / 10 && (n = count_procs(path)) < 6;
	     i++)
		sleep_ms(10);
	cr_assert_eq(n, 6, "expected 6 processes, saw %d", n);

	cr_assert_eq(cgroup_run_kill(run), 0);
	status = wait_status(pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cr_assert_not(exists(path), "%s left behind", path);
	cgroup_run_free(run);
}

Test(v1, kill_takes_every_process)
{
	v1_require();
	v1_open();
	kill_test();
}

/* group: the whole run dies with the hog (v2 memory.oom.group); else
 * only the hog does (v1) and destroy takes the rest. */
static void oom_test(bool group)
{
	struct spec_limits lim = {.memory_bytes = 32 * MIB};
	struct cgroup_run *run = NULL;
	struct run_result res = {0};
	char path[640];
	pid_t pid;
	int gofd, status, n = -1;

	require_no_swap_escape();
	cr_assert_eq(cgroup_run_create(mgr, 0, 3, &lim, &run), 0);
	if (cgroup_manager_mode(mgr) == CGROUP_MODE_V2)
		snprintf(path, sizeof(path), "%s/tenant-0/run-3", v2_root);
	else
		v1_path(path, sizeof(path), "memory", "tenant-0/run-3");
	pid = spawn_waiting(JOB_HOG, &gofd);
	cr_assert_eq(cgroup_run_attach(run, pid), 0);
	go(gofd);
	status = wait_status(pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "status %#x", status);
	for (int i = 0;
	     i < PATIENCE_MS / 10 && (n = count_procs(path)) != (group ? 0 : 1);
	     i++)
		sleep_ms(10);
	cr_assert_eq(n, group ? 0 : 1, "%d processes left after the OOM kill",
		     n);
	cr_assert_eq(cgroup_run_stats(run, &res), 0);
	cr_assert_geq(res.oom_kills, 1);
	cr_assert_leq(res.peak_memory_bytes, 40 * MIB);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);
}

Test(v1, memory_limit_ooms)
{
	v1_require();
	v1_open();
	oom_test(false);
}

static void pids_test(void)
{
	struct spec_limits lim = {.pids = 4};
	struct cgroup_run *run = NULL;
	pid_t pid;
	int gofd, status;

	cr_assert_eq(cgroup_run_create(mgr, 0, 4, &lim, &run), 0);
	pid = spawn_waiting(JOB_FORK_TEN, &gofd);
	cr_assert_eq(cgroup_run_attach(run, pid), 0);
	go(gofd);
	status = wait_status(pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 3, "%d forks succeeded",
		     WEXITSTATUS(status));
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);
}

Test(v1, pids_limit_holds)
{
	v1_require();
	v1_open();
	pids_test();
}

static void cpu_limit_test(void)
{
	struct spec_limits lim = {.cpu_millis = 100};
	struct cgroup_run *run = NULL;
	uint64_t cpu = 0;
	pid_t pid;
	int gofd;

	cr_assert_eq(cgroup_run_create(mgr, 0, 5, &lim, &run), 0);
	pid = spawn_waiting(JOB_SPIN_WALL, &gofd);
	cr_assert_eq(cgroup_run_attach(run, pid), 0);
	go(gofd);
	wait_status(pid);
	cr_assert_eq(cgroup_run_cpu_ns(run, &cpu), 0);
	/* 0.1 CPUs for one second is about 100ms; unthrottled it is 1s. */
	cr_assert_leq(cpu, 400000000ULL, "used %llu ns",
		      (unsigned long long)cpu);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);
}

Test(v1, cpu_limit_throttles)
{
	v1_require();
	v1_open();
	cpu_limit_test();
}

Test(v1, leftovers_are_swept)
{
	char path[512], value[32];
	pid_t sleeper, pooled;
	int status;

	v1_require();
	/* What a daemon killed with -9 leaves: a run with a live process,
	 * and a pool member in its sandbox-<n>; and the pool/ that earlier
	 * versions made. */
	sleeper = fork();
	if (sleeper == 0)
		run_job(JOB_SLEEP);
	pooled = fork();
	if (pooled == 0)
		run_job(JOB_SLEEP);
	for (size_t i = 0; i < 4; i++) {
		const char *dirs[] = {NULL, "tenant-7", "tenant-7/run-42",
				      "sandbox-3", "pool"};

		for (size_t j = 0; j < ELEMENTSOF(dirs); j++) {
			v1_path(path, sizeof(path), v1_dirs[i], dirs[j]);
			cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST,
				  "mkdir %s", path);
		}
		v1_path(path, sizeof(path), v1_dirs[i],
			"tenant-7/run-42/cgroup.procs");
		snprintf(value, sizeof(value), "%d", (int)sleeper);
		cr_assert_eq(write_file(path, value), 0);
		v1_path(path, sizeof(path), v1_dirs[i],
			"sandbox-3/cgroup.procs");
		snprintf(value, sizeof(value), "%d", (int)pooled);
		cr_assert_eq(write_file(path, value), 0);
	}

	v1_open();
	status = wait_status(sleeper);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	status = wait_status(pooled);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (size_t i = 0; i < 4; i++) {
		const char *gone[] = {"tenant-7", "sandbox-3", "pool"};

		for (size_t j = 0; j < ELEMENTSOF(gone); j++) {
			v1_path(path, sizeof(path), v1_dirs[i], gone[j]);
			cr_assert_not(exists(path), "%s left behind", path);
		}
	}
}

static void busy_test(const char *sub)
{
	struct cgroup_run *run = NULL;

	cr_assert_eq(cgroup_run_create(mgr, 9, 77, NULL, &run), 0);
	/* A child cgroup keeps rmdir failing with EBUSY. */
	cr_assert_eq(mkdir(sub, 0755), 0, "mkdir %s", sub);
	cr_assert_eq(cgroup_run_destroy(run), -EBUSY);
	cr_assert_eq(cgroup_run_destroy(run), -EBUSY);
	cr_assert_null(cgroup_run_free(run));
	cgroup_manager_reap(mgr);
	cr_assert(exists(sub));
	cr_assert_eq(rmdir(sub), 0);
	cgroup_manager_reap(mgr);
	*strrchr((char *)sub, '/') = '\0';
	cr_assert_not(exists(sub), "%s left behind", sub);
}

/*
 * Removal in the background (the daemon's setting): destroy returns at
 * once for an empty run and the remover's thread takes the directory away
 * soon after; a run that still holds processes is killed first, as
 * always; freeing the manager waits for whatever is still queued, so
 * nothing is left once it returns.
 */
static void background_removal_test(const char *path_a, const char *path_b,
				    const char *path_c)
{
	struct cgroup_run *a = NULL, *b = NULL, *c = NULL;
	pid_t pid;
	int gofd, status, n = 0;

	cr_assert_eq(cgroup_manager_remove_in_background(mgr), 0);
	cr_assert_eq(cgroup_run_create(mgr, 7, 1, NULL, &a), 0);
	cr_assert_eq(cgroup_run_create(mgr, 7, 2, NULL, &b), 0);
	cr_assert_eq(cgroup_run_create(mgr, 7, 3, NULL, &c), 0);
	cr_assert(exists(path_a) && exists(path_b) && exists(path_c));

	cr_assert_eq(cgroup_run_destroy(a), 0);
	a = cgroup_run_free(a);
	for (int i = 0; i < PATIENCE_MS / 10 && exists(path_a); i++)
		sleep_ms(10);
	cr_assert_not(exists(path_a), "%s left behind", path_a);

	pid = spawn_waiting(JOB_SLEEPERS, &gofd);
	cr_assert_eq(cgroup_run_attach(b, pid), 0);
	go(gofd);
	for (int i = 0; i < PATIENCE_MS / 10 && (n = count_procs(path_b)) < 6;
	     i++)
		sleep_ms(10);
	cr_assert_eq(n, 6, "expected 6 processes, saw %d", n);
	cr_assert_eq(cgroup_run_destroy(b), 0);
	status = wait_status(pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	b = cgroup_run_free(b);
	for (int i = 0; i < PATIENCE_MS / 10 && exists(path_b); i++)
		sleep_ms(10);
	cr_assert_not(exists(path_b), "%s left behind", path_b);

	cr_assert_eq(cgroup_run_destroy(c), 0);
	c = cgroup_run_free(c);
	mgr = cgroup_manager_free(mgr);
	cr_assert_not(exists(path_c), "%s left behind by the manager", path_c);
}

Test(v1, busy_runs_are_reaped)
{
	char sub[512];

	v1_require();
	v1_open();
	v1_path(sub, sizeof(sub), "memory", "tenant-9/run-77/sub");
	busy_test(sub);
}

Test(v1, removal_in_the_background)
{
	char a[512], b[512], c[512];

	v1_require();
	v1_open();
	v1_path(a, sizeof(a), "memory", "tenant-7/run-1");
	v1_path(b, sizeof(b), "pids", "tenant-7/run-2");
	v1_path(c, sizeof(c), "freezer", "tenant-7/run-3");
	background_removal_test(a, b, c);
}

Test(v1, check_refuses)
{
	struct spec_limits lim = {0};
	struct error_detail err = {0};

	v1_require();
	v1_open();
	cr_assert_eq(cgroup_manager_check(mgr, &lim, &err), 0);
	lim.cpu_millis = 5;
	cr_assert_eq(cgroup_manager_check(mgr, &lim, &err), -EOPNOTSUPP);
	cr_assert(strstr(err.message, "0.01 CPUs"), "%s", err.message);
	lim.cpu_millis = 0;
	lim.memory_swap_bytes = MIB;
	cr_assert_eq(cgroup_manager_check(mgr, &lim, &err), -EOPNOTSUPP);
	if (cgroup_manager_can(mgr) & CGROUP_CAN_SWAP)
		cr_assert(strstr(err.message, "needs a memory limit"), "%s",
			  err.message);
	else
		cr_assert(strstr(err.message, "memory.memsw.limit_in_bytes"),
			  "%s", err.message);
	lim.memory_bytes = 8 * MIB;
	if (cgroup_manager_can(mgr) & CGROUP_CAN_SWAP)
		cr_assert_eq(cgroup_manager_check(mgr, &lim, &err), 0);
	/* run_create refuses what check refuses. */
	lim = (struct spec_limits){.cpu_millis = 1};
	struct cgroup_run *run = NULL;
	cr_assert_eq(cgroup_run_create(mgr, 0, 1, &lim, &run), -EOPNOTSUPP);
	cr_assert_null(run);
}

/* A v1 base holding only some of the real hierarchies: bind mounts in a
 * private mount namespace of this test process, gone when it exits. */
static void scratch_base(char *base, const char *const *have, size_t n)
{
	char path[256];

	cr_assert_not_null(mkdtemp(base));
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("tmpfs", base, "tmpfs", 0, "mode=0755"), 0);
	for (size_t i = 0; i < n; i++) {
		const char *src = "";

		for (size_t j = 0; j < ELEMENTSOF(v1_dirs); j++)
			if (strcmp(v1_dirs[j], have[i]) == 0)
				src = v1_mounts[j];
		snprintf(path, sizeof(path), "%s/%s", base, have[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
		cr_assert_eq(mount(src, path, NULL, MS_BIND, NULL), 0);
	}
}

static void scratch_base_remove(const char *base, const char *const *have,
				size_t n)
{
	char path[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s/pool", base, have[i],
			 root_name);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/%s/%s", base, have[i],
			 root_name);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/%s", base, have[i]);
		umount(path);
	}
	umount(base);
	rmdir(base);
}

Test(v1, missing_controller_is_named)
{
	static const char *const have[] = {"cpu", "cpuacct", "memory"};
	struct spec_limits lim = {.pids = 10};
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V1};
	struct cgroup_manager *m = NULL;
	char base[] = "/tmp/boxd-test-cgbase-XXXXXX";
	struct error_detail err = {0};

	v1_require();
	scratch_base(base, have, ELEMENTSOF(have));
	cfg.v1_mount = base;
	cfg.root = root_name;
	cr_assert_eq(cgroup_manager_open(&cfg, &err, &m), 0, "%s", err.message);
	cr_assert_not(cgroup_manager_can(m) & CGROUP_CAN_PIDS);
	cr_assert_eq(cgroup_manager_check(m, &lim, &err), -EOPNOTSUPP);
	cr_assert_str_eq(err.message,
			 "cgroup controller 'pids' is not available");
	lim = (struct spec_limits){.memory_bytes = 8 * MIB};
	cr_assert_eq(cgroup_manager_check(m, &lim, &err), 0);
	cgroup_manager_free(m);

	/* Auto mode wants all three and says which one is missing. */
	cfg.mode = CGROUP_MODE_AUTO;
	cr_assert_lt(cgroup_manager_open(&cfg, &err, &m), 0);
	cr_assert(strstr(err.message, "no v1 'pids' hierarchy"), "%s",
		  err.message);
	scratch_base_remove(base, have, ELEMENTSOF(have));
}

/* Without a freezer hierarchy, kill falls back to repeated SIGKILL. */
Test(v1, kill_without_freezer)
{
	static const char *const have[] = {"cpu", "cpuacct", "memory", "pids"};
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V1};
	char base[] = "/tmp/boxd-test-cgbase-XXXXXX";
	struct error_detail err = {0};

	v1_require();
	scratch_base(base, have, ELEMENTSOF(have));
	cfg.v1_mount = base;
	cfg.root = root_name;
	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), 0, "%s",
		     err.message);
	cr_assert_not(cgroup_manager_can(mgr) & CGROUP_CAN_KILL);
	cr_assert_not(strstr(cgroup_manager_controllers(mgr), "freezer"));
	kill_test();
	mgr = cgroup_manager_free(mgr);
	scratch_base_remove(base, have, ELEMENTSOF(have));
}

Test(v1, auto_picks_v1_on_hybrid_host)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_AUTO};
	char buf[4096];
	struct error_detail err = {0};

	v1_require();
	if (read_file("/proc/self/cgroup", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "0::/\n"))
		cr_skip_test("this process is not in the cgroup2 root, so v2 "
			     "might be usable here");
	cfg.root = root_name;
	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), 0, "%s",
		     err.message);
	cr_assert_eq(cgroup_manager_mode(mgr), CGROUP_MODE_V1);
}

Test(none, everything_refused)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_NONE};
	struct cgroup_manager *m = NULL;
	struct cgroup_run *run = NULL;
	struct run_result res = {0};
	const struct spec_limits each[] = {
	    {.memory_bytes = MIB}, {.memory_swap_bytes = MIB},
	    {.cpu_millis = 500},   {.pids = 3},
	    {.cpu_time_ns = 1000},
	};
	struct spec_limits wall = {.timeout_ns = 1000000000ULL};
	struct error_detail err = {0};

	cr_assert_eq(cgroup_manager_open(&cfg, &err, &m), 0);
	cr_assert_str_eq(cgroup_manager_mode_name(m), "none");
	cr_assert_eq(cgroup_manager_can(m), 0);
	for (size_t i = 0; i < ELEMENTSOF(each); i++) {
		err.message[0] = '\0';
		cr_assert_eq(cgroup_manager_check(m, &each[i], &err),
			     -EOPNOTSUPP);
		cr_assert_str_eq(err.message,
				 "cgroups are disabled (--no-cgroups)");
	}
	/* Wall time is the engine's timer, not a cgroup's. */
	cr_assert_eq(cgroup_manager_check(m, &wall, &err), 0);
	cr_assert_eq(cgroup_run_create(m, 0, 1, &wall, &run), 0);
	cr_assert_eq(cgroup_run_clone_fd(run), -1);
	cr_assert_eq(cgroup_run_attach(run, getpid()), 0);
	cr_assert_eq(cgroup_run_stats(run, &res), 0);
	cr_assert_eq(res.peak_source, RUN_PEAK_NONE);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);
	cgroup_manager_free(m);
}

/* --- v2 ------------------------------------------------------------------ */

/* The cgroup2 mount point, or false. */
static bool cgroup2_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char mnt[512];

		if (!strstr(line, " - cgroup2 "))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 &&
		    strlen(mnt) < size) {
			memcpy(buf, mnt, strlen(mnt) + 1);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Whether clone3() takes CLONE_INTO_CGROUP here: with an fd that is not a
 * cgroup, a kernel that knows the flag answers EBADF; one that does not,
 * EINVAL (or ENOSYS without clone3 at all, E2BIG when the arguments
 * are larger than it knows). Nothing is cloned either way. */
static bool kernel_has_clone_into_cgroup(void)
{
	struct clone_args args = {
	    .flags = CLONE_INTO_CGROUP,
	    .exit_signal = SIGCHLD,
	    .cgroup = (uint64_t)INT_MAX,
	};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid((pid_t)r, NULL, 0);
		return true;
	}
	return errno == EBADF;
}

static void require_clone_into_cgroup(void)
{
	if (!kernel_has_clone_into_cgroup())
		cr_skip_test("clone3() with CLONE_INTO_CGROUP is not available "
			     "here (kernel before 5.7, or clone3 filtered)");
}

static void v2_require(void)
{
	char mnt[256], path[600], ctl[256] = "";

	if (geteuid() != 0)
		cr_skip_test("needs root: creates cgroups");
	if (!cgroup2_mount(mnt, sizeof(mnt)))
		cr_skip_test("no cgroup2 mount");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mnt);
	if (read_file(path, ctl, sizeof(ctl)) < 0 || !strstr(ctl, "cpu") ||
	    !strstr(ctl, "memory") || !strstr(ctl, "pids"))
		cr_skip_test("cgroup2 at %s does not hand cpu, memory and pids "
			     "to its children (subtree_control: '%.*s'); this "
			     "host is hybrid, run the v2 tests in the VM: "
			     "tests/vm/run -- <test binary>",
			     mnt, (int)strcspn(ctl, "\n"), ctl);
	snprintf(v2_root, sizeof(v2_root), "%s/boxd-test-%d", mnt,
		 (int)getpid());
	if (mkdir(v2_root, 0755) < 0)
		cr_skip_test("cannot create %s: %s", v2_root, strerror(errno));
}

static void v2_init(void)
{
	char buf[512];

	v2_root[0] = '\0';
	v2_home[0] = '\0';
	mgr = NULL;
	if (read_file("/proc/self/cgroup", buf, sizeof(buf)) > 0) {
		char *p = strstr(buf, "0::"), mnt[256];

		if (p && cgroup2_mount(mnt, sizeof(mnt))) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(v2_home, sizeof(v2_home), "%s%s", mnt, p + 3);
		}
	}
}

/* rmdir depth-first. */
static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char sub[1024];

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static void v2_fini(void)
{
	char path[640], value[32];

	mgr = cgroup_manager_free(mgr);
	if (!v2_root[0])
		return;
	/* Step out of the root's supervisor/, then kill what is left. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", v2_home);
	snprintf(value, sizeof(value), "%d", (int)getpid());
	(void)write_file(path, value);
	snprintf(path, sizeof(path), "%s/cgroup.kill", v2_root);
	(void)write_file(path, "1");
	for (int i = 0; i < PATIENCE_MS / 10 && count_procs(v2_root) > 0; i++)
		sleep_ms(10);
	rm_tree(v2_root);
}

static void v2_open(void)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V2, .root = v2_root};
	struct error_detail err = {0};

	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), 0, "open v2: %s",
		     err.message);
}

TestSuite(v2, .init = v2_init, .fini = v2_fini, .timeout = 120);

Test(v2, open_moves_daemon_and_enables_controllers)
{
	char path[640], buf[256], suffix[600];
	unsigned can;

	v2_require();
	v2_open();
	cr_assert_eq(cgroup_manager_mode(mgr), CGROUP_MODE_V2);
	cr_assert_str_eq(cgroup_manager_path(mgr), v2_root);
	cr_assert_str_eq(cgroup_manager_controllers(mgr), "cpu memory pids");
	snprintf(suffix, sizeof(suffix), "%s/supervisor",
		 strrchr(v2_root, '/'));
	cr_assert(pid_cgroup_has(getpid(), suffix), "daemon not in %s", suffix);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", v2_root);
	cr_assert_geq(read_file(path, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "cpu") && strstr(buf, "memory") &&
		      strstr(buf, "pids"),
		  "subtree_control: %s", buf);
	snprintf(path, sizeof(path), "%s/pool", v2_root);
	cr_assert_not(exists(path), "%s made", path);
	can = cgroup_manager_can(mgr);
	cr_assert(can & CGROUP_CAN_MEMORY);
	cr_assert(can & CGROUP_CAN_CPUS);
	cr_assert(can & CGROUP_CAN_PIDS);
	cr_assert(can & CGROUP_CAN_CPU_TIME);
	/* What the kernel has: cgroup.kill (5.14) or cgroup.freeze (5.2),
	 * clone3 with CLONE_INTO_CGROUP (5.7). Where it has them, the
	 * manager must use them; where not, never claim them. */
	snprintf(path, sizeof(path), "%s/cgroup.kill", v2_root);
	if (exists(path) ||
	    (snprintf(path, sizeof(path), "%s/cgroup.freeze", v2_root),
	     exists(path)))
		cr_assert(can & CGROUP_CAN_KILL);
	else
		cr_assert_not(can & CGROUP_CAN_KILL);
	if (kernel_has_clone_into_cgroup())
		cr_assert(can & CGROUP_CAN_CLONE_INTO);
}

Test(v2, limits_are_written)
{
	struct spec_limits lim = {.memory_bytes = 64 * MIB,
				  .memory_swap_bytes = 16 * MIB,
				  .cpu_millis = 1500,
				  .pids = 32};
	struct cgroup_run *run = NULL;
	char path[640], buf[128];

	v2_require();
	v2_open();
	if (!(cgroup_manager_can(mgr) & CGROUP_CAN_SWAP))
		lim.memory_swap_bytes = 0;
	cr_assert_eq(cgroup_run_create(mgr, 1000, 7, &lim, &run), 0);
	cr_assert_geq(cgroup_run_clone_fd(run), 0);

#define RUN_FILE(f)                                                           \
	(snprintf(path, sizeof(path), "%s/tenant-1000/run-7/%s", v2_root, f), \
	 path)
	cr_assert_eq(read_ull(RUN_FILE("memory.max")), 64 * MIB);
	if (lim.memory_swap_bytes)
		cr_assert_eq(read_ull(RUN_FILE("memory.swap.max")), 16 * MIB);
	cr_assert_eq(read_ull(RUN_FILE("memory.oom.group")), 1);
	cr_assert_eq(read_ull(RUN_FILE("pids.max")), 32);
	cr_assert_geq(read_file(RUN_FILE("cpu.max"), buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "150000 100000\n");
#undef RUN_FILE
	snprintf(path, sizeof(path), "%s/tenant-1000/cgroup.subtree_control",
		 v2_root);
	cr_assert_geq(read_file(path, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "memory") && strstr(buf, "pids"), "%s", buf);

	cr_assert_eq(cgroup_run_destroy(run), 0);
	snprintf(path, sizeof(path), "%s/tenant-1000/run-7", v2_root);
	cr_assert_not(exists(path));
	cgroup_run_free(run);
}

static pid_t clone_into(int cgfd, int go_fd)
{
	struct clone_args args = {
	    .flags = CLONE_INTO_CGROUP,
	    .exit_signal = SIGCHLD,
	    .cgroup = (uint64_t)cgfd,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid == 0) {
		char c;

		if (read(go_fd, &c, 1) != 1)
			_exit(91);
		run_job(JOB_WORK);
	}
	return (pid_t)pid;
}

Test(v2, clone_into_cgroup_and_stats)
{
	struct cgroup_run *run = NULL;
	struct run_result res = {0};
	char suffix[600];
	int p[2], status;
	pid_t pid;

	v2_require();
	require_clone_into_cgroup();
	v2_open();
	cr_assert_eq(cgroup_run_create(mgr, 0, 1, NULL, &run), 0);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = clone_into(cgroup_run_clone_fd(run), p[0]);
	cr_assert_gt(pid, 0, "clone3: %s", strerror(errno));
	close(p[0]);
	snprintf(suffix, sizeof(suffix), "%s/tenant-0/run-1",
		 strrchr(v2_root, '/'));
	cr_assert(pid_cgroup_has(pid, suffix), "child not in %s", suffix);
	go(p[1]);
	status = wait_status(pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
		  status);

	cr_assert_eq(cgroup_run_stats(run, &res), 0);
	cr_assert_geq(res.user_ns + res.system_ns, 250000000ULL);
	if (cgroup_manager_can(mgr) & CGROUP_CAN_PEAK_MEMORY) {
		cr_assert_eq(res.peak_source, RUN_PEAK_CGROUP);
		cr_assert_geq(res.peak_memory_bytes, 48 * MIB);
	} else {
		cr_assert_eq(res.peak_source, RUN_PEAK_NONE);
	}
	if (cgroup_manager_can(mgr) & CGROUP_CAN_PEAK_PIDS)
		cr_assert_geq(res.peak_pids, 1);
	cr_assert_eq(res.oom_kills, 0);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	cgroup_run_free(run);
}

Test(v2, removal_in_the_background)
{
	char a[600], b[600], c[600];

	v2_require();
	v2_open();
	snprintf(a, sizeof(a), "%s/tenant-7/run-1", v2_root);
	snprintf(b, sizeof(b), "%s/tenant-7/run-2", v2_root);
	snprintf(c, sizeof(c), "%s/tenant-7/run-3", v2_root);
	background_removal_test(a, b, c);
}

/* A pool member is born in its own cgroup, which becomes its run's: the
 * take writes limits and moves nothing. */
Test(v2, member_born_in_its_run_cgroup)
{
	struct spec_limits lim = {.memory_bytes = 64 * MIB, .pids = 32};
	struct cgroup_run *run = NULL;
	char suffix[600], path[640];
	int p[2];
	pid_t pid;

	v2_require();
	require_clone_into_cgroup();
	v2_open();
	cr_assert_eq(cgroup_run_prepare(mgr, &run), 0);
	snprintf(path, sizeof(path), "%s/sandbox-0", v2_root);
	cr_assert_gt(files_open_below(path), 0, "no file of %s kept open",
		     path);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = clone_into(cgroup_run_clone_fd(run), p[0]);
	cr_assert_gt(pid, 0, "clone3: %s", strerror(errno));
	close(p[0]);
	snprintf(suffix, sizeof(suffix), "%s/sandbox-0", strrchr(v2_root, '/'));
	cr_assert(pid_cgroup_has(pid, suffix), "member not in %s", suffix);
	snprintf(path, sizeof(path), "%s/sandbox-0/memory.oom.group", v2_root);
	cr_assert_eq(read_ull(path), 1);
	cr_assert_eq(cgroup_run_bind(run, 1, 2, &lim, pid), 0);
	snprintf(path, sizeof(path), "%s/sandbox-0/memory.max", v2_root);
	cr_assert_eq(read_ull(path), 64 * MIB);
	snprintf(path, sizeof(path), "%s/sandbox-0/pids.max", v2_root);
	cr_assert_eq(read_ull(path), 32);
	cr_assert(pid_cgroup_has(pid, suffix), "member left %s", suffix);
	work_and_read_counters(run, p[1], pid);
	cr_assert_eq(cgroup_run_destroy(run), 0);
	snprintf(path, sizeof(path), "%s/sandbox-0", v2_root);
	cr_assert_not(exists(path));
	cgroup_run_free(run);
}

Test(v2, kill_takes_every_process)
{
	v2_require();
	v2_open();
	kill_test();
}

Test(v2, memory_limit_ooms_the_group)
{
	v2_require();
	v2_open();
	oom_test(true);
}

Test(v2, pids_limit_holds)
{
	v2_require();
	v2_open();
	pids_test();
}

Test(v2, cpu_limit_throttles)
{
	v2_require();
	v2_open();
	cpu_limit_test();
}

Test(v2, busy_runs_are_reaped)
{
	char sub[640];

	v2_require();
	v2_open();
	snprintf(sub, sizeof(sub), "%s/tenant-9/run-77/sub", v2_root);
	busy_test(sub);
}

Test(v2, leftovers_are_swept)
{
	char path[640], value[32];
	pid_t sleeper, pooled;
	int status;

	v2_require();
	sleeper = fork();
	if (sleeper == 0)
		run_job(JOB_SLEEP);
	pooled = fork();
	if (pooled == 0)
		run_job(JOB_SLEEP);
	snprintf(path, sizeof(path), "%s/tenant-7", v2_root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tenant-7/run-42", v2_root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tenant-7/run-42/cgroup.procs",
		 v2_root);
	snprintf(value, sizeof(value), "%d", (int)sleeper);
	cr_assert_eq(write_file(path, value), 0);
	/* A pool member in its sandbox-<n>, and the pool/ (with an empty
	 * child) that earlier versions made. */
	snprintf(path, sizeof(path), "%s/sandbox-3", v2_root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sandbox-3/cgroup.procs", v2_root);
	snprintf(value, sizeof(value), "%d", (int)pooled);
	cr_assert_eq(write_file(path, value), 0);
	snprintf(path, sizeof(path), "%s/pool", v2_root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/pool/member-1", v2_root);
	cr_assert_eq(mkdir(path, 0755), 0);

	v2_open();
	status = wait_status(sleeper);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	status = wait_status(pooled);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	snprintf(path, sizeof(path), "%s/tenant-7", v2_root);
	cr_assert_not(exists(path), "%s left behind", path);
	snprintf(path, sizeof(path), "%s/sandbox-3", v2_root);
	cr_assert_not(exists(path), "%s left behind", path);
	snprintf(path, sizeof(path), "%s/pool", v2_root);
	cr_assert_not(exists(path), "%s left behind", path);
}

Test(v2, refuses_a_shared_root)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V2};
	char path[640], value[32];
	struct error_detail err = {0};
	pid_t other;
	int status;

	v2_require();
	other = fork();
	if (other == 0)
		run_job(JOB_SLEEP);
	snprintf(path, sizeof(path), "%s/cgroup.procs", v2_root);
	snprintf(value, sizeof(value), "%d", (int)other);
	cr_assert_eq(write_file(path, value), 0);
	cfg.root = v2_root;
	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), -EBUSY);
	cr_assert(strstr(err.message, "holds other processes"), "%s",
		  err.message);
	cr_assert_not(pid_cgroup_has(getpid(), "/supervisor"),
		      "moved although refused");
	kill(other, SIGKILL);
	status = wait_status(other);
	cr_assert(WIFSIGNALED(status));
}

/* No --cgroup-root: the daemon's own cgroup is the root, as under
 * systemd; started again from supervisor/, it finds the same root. */
Test(v2, finds_own_cgroup)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_V2};
	char path[640], value[32], suffix[600];
	struct error_detail err = {0};

	v2_require();
	snprintf(path, sizeof(path), "%s/cgroup.procs", v2_root);
	snprintf(value, sizeof(value), "%d", (int)getpid());
	cr_assert_eq(write_file(path, value), 0);
	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), 0, "%s",
		     err.message);
	cr_assert_str_eq(cgroup_manager_path(mgr), v2_root);
	snprintf(suffix, sizeof(suffix), "%s/supervisor",
		 strrchr(v2_root, '/'));
	cr_assert(pid_cgroup_has(getpid(), suffix), "daemon not in %s", suffix);
	mgr = cgroup_manager_free(mgr);

	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), 0, "%s",
		     err.message);
	cr_assert_str_eq(cgroup_manager_path(mgr), v2_root);
}

Test(v2, auto_uses_v2_when_delegated)
{
	struct cgroup_config cfg = {.mode = CGROUP_MODE_AUTO};
	struct error_detail err = {0};

	v2_require();
	cfg.root = v2_root;
	cr_assert_eq(cgroup_manager_open(&cfg, &err, &mgr), 0, "%s",
		     err.message);
	cr_assert_eq(cgroup_manager_mode(mgr), CGROUP_MODE_V2);
}

/* --- where the v2 tree goes (cgroup_v2_locate) ------------------------ */

/*
 * A private stand-in for /proc/self: its cgroup and mountinfo files, so
 * every shape of host can be played without one. Removed by the caller.
 */
static void fake_proc(char dir[64], const char *cgroup, const char *mountinfo)
{
	char path[128];
	FILE *f;

	snprintf(dir, 64, "/tmp/boxd-test-proc-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgroup", dir);
	cr_assert_not_null(f = fopen(path, "we"));
	fputs(cgroup, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/mountinfo", dir);
	cr_assert_not_null(f = fopen(path, "we"));
	fputs(mountinfo, f);
	fclose(f);
}

static void fake_proc_remove(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/cgroup", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mountinfo", dir);
	unlink(path);
	rmdir(dir);
}

/* A v1 hierarchy, a tmpfs and the usual flags around what matters. */
#define MOUNTINFO_NOISE                                                      \
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc " \
	"proc rw\n"                                                          \
	"31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup "   \
	"cgroup rw,memory\n"

static void expect_place(const char *cgroup, const char *mountinfo,
			 const char *want)
{
	struct error_detail err = {0};
	char dir[64], path[PATH_MAX] = "";
	int r;

	fake_proc(dir, cgroup, mountinfo);
	r = cgroup_v2_locate(NULL, dir, &err, path);
	fake_proc_remove(dir);
	cr_assert_eq(r, 0, "%s", err.message);
	cr_assert_str_eq(path, want);
}

static void expect_no_place(const char *cgroup, const char *mountinfo, int r,
			    const char *why)
{
	struct error_detail err = {0};
	char dir[64], path[PATH_MAX] = "untouched";

	fake_proc(dir, cgroup, mountinfo);
	cr_assert_eq(cgroup_v2_locate(NULL, dir, &err, path), r, "%s",
		     err.message);
	fake_proc_remove(dir);
	cr_assert_eq(err.kind, ERROR_UNSUPPORTED);
	cr_assert(strstr(err.message, why), "%s", err.message);
	cr_assert_str_eq(path, "untouched", "ret_path written on failure");
}

Test(locate, an_explicit_root_is_taken_as_given)
{
	struct error_detail err = {0};
	char path[PATH_MAX] = "", long_root[PATH_MAX + 8];

	cr_assert_eq(cgroup_v2_locate("/sys/fs/cgroup/boxd//", "/nonexistent",
				      &err, path),
		     0);
	cr_assert_str_eq(path, "/sys/fs/cgroup/boxd");
	cr_assert_eq(cgroup_v2_locate("/", NULL, &err, path), 0);
	cr_assert_str_eq(path, "/");

	strcpy(path, "untouched");
	cr_assert_eq(cgroup_v2_locate("boxd", NULL, &err, path), -EINVAL);
	cr_assert_eq(err.kind, ERROR_INVALID);
	cr_assert_str_eq(err.message,
			 "--cgroup-root 'boxd' is not an absolute path");
	cr_assert_str_eq(path, "untouched");

	long_root[0] = '/';
	memset(long_root + 1, 'a', sizeof(long_root) - 2);
	long_root[sizeof(long_root) - 1] = '\0';
	cr_assert_eq(cgroup_v2_locate(long_root, NULL, &err, path),
		     -ENAMETOOLONG);
}

Test(locate, own_cgroup_on_the_unified_mount)
{
	expect_place("0::/system.slice/boxd.service\n",
		     MOUNTINFO_NOISE "30 25 0:26 / /sys/fs/cgroup "
				     "rw,nosuid,nodev shared:4 - cgroup2 "
				     "cgroup2 rw,nsdelegate\n",
		     "/sys/fs/cgroup/system.slice/boxd.service");
}

Test(locate, a_daemon_restarted_in_place_leaves_supervisor)
{
	expect_place("0::/system.slice/boxd.service/supervisor\n",
		     "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		     "/sys/fs/cgroup/system.slice/boxd.service");
}

Test(locate, hybrid_host_with_an_escaped_mount_point)
{
	/* v1 lines first, the v2 hierarchy under "unified", with a blank in
	 * the mount point as mountinfo writes it. */
	expect_place("9:name=systemd:/user.slice\n"
		     "4:memory:/user.slice\n"
		     "0::/user.slice/session-1.scope\n",
		     MOUNTINFO_NOISE "35 25 0:30 / /sys/fs/cgroup/uni\\040fied "
				     "rw,nosuid - cgroup2 cgroup2 rw\n",
		     "/sys/fs/cgroup/uni fied/user.slice/session-1.scope");
}

Test(locate, a_mount_of_a_subtree_holds_only_what_is_below_it)
{
	/* A container's view: the hierarchy's /kubepods/pod1 mounted on
	 * /sys/fs/cgroup. The first cgroup2 line holds another subtree. */
	expect_place("0::/kubepods/pod1/ctr\n",
		     "40 30 0:26 /kubepods/pod2 /mnt/other rw - cgroup2 "
		     "cgroup2 rw\n"
		     "41 30 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 "
		     "cgroup2 rw\n",
		     "/sys/fs/cgroup/ctr");
	/* "/kubepods/pod1" is no prefix of "/kubepods/pod10". */
	expect_no_place("0::/kubepods/pod10/ctr\n",
			"41 30 0:26 /kubepods/pod1 /sys/fs/cgroup rw - "
			"cgroup2 cgroup2 rw\n",
			-ENOENT, "no cgroup2 mount holds");
}

Test(locate, hierarchy_mounted_on_the_root)
{
	expect_place("0::/boxd\n", "50 1 0:26 / / rw - cgroup2 cgroup2 rw\n",
		     "/boxd");
}

Test(locate, what_the_daemon_cannot_use_is_said)
{
	const char *mi = "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 "
			 "rw\n";

	expect_no_place("0::/\n", mi, -EPERM, "runs in the root cgroup");
	expect_no_place("0::/supervisor\n", mi, -EPERM,
			"runs in the root cgroup");
	expect_no_place("4:memory:/x\n", mi, -ENOENT,
			"in no cgroup2 hierarchy");
	expect_no_place("0::/x\n", MOUNTINFO_NOISE, -ENOENT,
			"no cgroup2 mount holds the daemon's cgroup /x");
}

/* The real /proc/self: the same answer the v2 backend starts from. */
Test(locate, this_process)
{
	struct error_detail err = {0}, err2 = {0};
	char a[PATH_MAX] = "", b[PATH_MAX] = "";
	int r = cgroup_v2_locate(NULL, NULL, &err, a);

	cr_assert_eq(cgroup_v2_locate(NULL, "/proc/self", &err2, b), r);
	if (r < 0)
		cr_assert_str_eq(err.message, err2.message);
	else
		cr_assert_str_eq(a, b);
}
