/*
 * Limits: each one ends a run the way its result says (out of memory,
 * wall timeout, CPU timeout), holds while the run lasts (pids, CPUs), is
 * measured (peak memory, CPU time), and is refused, never dropped in
 * silence, when the host cannot enforce it. Also here: where the daemon
 * and its runs sit in a v2 hierarchy, and what boxctl shows of all this.
 *
 * The probes (memory hog, fork bomb, CPU spinner, memory toucher) are this
 * very binary: bound read-only at /probe inside the sandbox and started
 * with BOXD_LIMITS_PROBE set, it runs the probe from a constructor, before
 * criterion's main, and never reaches the test runner.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MIB (1024ULL * 1024)
#define SEC 1000000000ULL
#define PROBE_DIR "/probe"

/* ---- probes: run inside the sandbox, never under criterion ---- */

static void probe_say(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void probe_say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(STDOUT_FILENO, buf, (size_t)n);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Allocates and touches memory, 1 MiB at a time, until something stops
 * it. */
static _Noreturn void probe_hog(void)
{
	for (;;) {
		char *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, 0x5a, MIB);
	}
}

/* Touches every page of mib MiB, says so, exits. */
static _Noreturn void probe_touch(unsigned mib)
{
	size_t len = (size_t)mib * MIB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(2);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	probe_say("touched %u\n", mib);
	_exit(0);
}

/* Processes visible in the sandbox's own /proc (its pid namespace). */
static unsigned visible_processes(void)
{
	char buf[4096];
	unsigned n = 0;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long len;

	if (fd < 0)
		return 0;
	/* getdents64 directly: no allocation, and no fork for ls. */
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (name[0] >= '1' && name[0] <= '9')
				n++;
			off += reclen;
		}
	}
	close(fd);
	return n;
}

/*
 * A fork bomb: every process forks for as long as it can, and each new
 * process does the same. Nobody exits. Whenever the original process
 * fails to fork, it reports how many processes were made so far and how
 * many it sees, so the last line stands whenever the wall timeout hits.
 */
static _Noreturn void probe_forks(void)
{
	unsigned *made = mmap(NULL, sizeof(*made), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t leader = getpid();

	if (made == MAP_FAILED)
		_exit(2);
	for (;;) {
		pid_t pid = fork();

		if (pid == 0) {
			__atomic_add_fetch(made, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (pid > 0)
			continue;
		if (getpid() == leader)
			probe_say("made %u visible %u\n",
				  __atomic_load_n(made, __ATOMIC_SEQ_CST),
				  visible_processes());
		/* A failed fork still copies the whole process first: do
		 * not turn the bomb into a CPU hog as well. */
		usleep(20000);
	}
}

static uint64_t ns_of(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * SEC + (uint64_t)tv->tv_usec * 1000;
}

static volatile uint64_t spin_sink;

/* procs processes spin for ms milliseconds of wall time (0: forever);
 * then the first reports the CPU time all of them used. */
static _Noreturn void probe_spin(unsigned ms, unsigned procs)
{
	uint64_t end = mono_ms() + ms;
	struct rusage self, kids;
	bool child = false;

	for (unsigned i = 1; i < procs; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			child = true;
			break;
		}
	}
	while (ms == 0 || mono_ms() < end)
		for (int i = 0; i < 100000; i++)
			spin_sink += (uint64_t)i;
	if (child)
		_exit(0);
	while (wait(NULL) > 0)
		;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	probe_say("cpu_ms %llu\n",
		  (unsigned long long)((ns_of(&self.ru_utime) +
					ns_of(&self.ru_stime) +
					ns_of(&kids.ru_utime) +
					ns_of(&kids.ru_stime)) /
				       1000000));
	_exit(0);
}

__attribute__((constructor)) static void probe_main(void)
{
	const char *what = getenv("BOXD_LIMITS_PROBE");
	unsigned a = 0, b = 0;

	if (!what)
		return;
	if (strcmp(what, "hog") == 0)
		probe_hog();
	if (sscanf(what, "touch:%u", &a) == 1)
		probe_touch(a);
	if (strcmp(what, "forks") == 0)
		probe_forks();
	if (sscanf(what, "spin:%u:%u", &a, &b) == 2)
		probe_spin(a, b);
	probe_say("unknown probe '%s'\n", what);
	_exit(99);
}

/* ---- the test side ---- */

static struct daemon d;
static char nocontrol_parent[256]; /* v2 test: a parent without pids */

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	char cmd[512];

	daemon_stop(&d);
	if (nocontrol_parent[0]) {
		snprintf(cmd, sizeof(cmd),
			 "find %s -depth -type d -exec rmdir {} + 2>/dev/null",
			 nocontrol_parent);
		(void)!system(cmd);
	}
}

/* cr_skip_test() leaves the test without running its .fini: tear down
 * first, or the daemon outlives the test. */
#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 300);
TestSuite(refusal, .fini = teardown, .timeout = 120);
TestSuite(placement, .fini = teardown, .timeout = 180);
TestSuite(boxctl, .init = setup, .fini = teardown, .timeout = 120);

static void require_cgroups(void)
{
	if (strcmp(d.cgroup_mode, "none") == 0)
		skip_test("no usable cgroup hierarchy on this host: limits "
			  "are refused here (see the refusal suite)");
}

static bool is_v2(void)
{
	return strcmp(d.cgroup_mode, "v2") == 0;
}

/* Skips unless the daemon can enforce each limit named (NULL-terminated):
 * a hierarchy may lack a controller (pids, cpuacct), a kernel a file. */
static void require_limits(const char *const *names)
{
	box_client *c = connect_root(&d);
	const char *missing = NULL;

	for (; *names && !missing; names++)
		if (!box_host_can_limit(box_client_host(c), *names))
			missing = *names;
	box_client_free(c);
	if (missing)
		skip_test("this host's %s cgroups cannot enforce the '%s' "
			  "limit (boxctl status lists what they can)",
			  d.cgroup_mode, missing);
}

/* A memory limit ends a run with an OOM kill only if the run cannot swap
 * instead: with swap on the host and no swap accounting in the cgroup,
 * the kernel pages the run out and it goes on. */
static void require_no_swap_escape(void)
{
	box_client *c = connect_root(&d);
	bool can_swap = box_host_can_limit(box_client_host(c), "swap");

	box_client_free(c);
	if (host_has_swap() && !can_swap)
		skip_test("this host has swap and its cgroups no swap "
			  "accounting: a memory limit cannot stop a run "
			  "from swapping");
}

/* The directory of one controller's (v1) or the unified (v2) tree of the
 * daemon's cgroup root. */
static void root_dir(const char *controller, char *buf, size_t len)
{
	if (is_v2())
		snprintf(buf, len, "%s", d.cgroup_root);
	else
		snprintf(buf, len, "/sys/fs/cgroup/%s/%s", controller,
			 d.cgroup_root);
}

/* Does the daemon's cgroups have this file (v2: in supervisor/, which
 * has the controllers every run gets; v1: the controller's root)? */
static bool cgroup_file_exists(const char *controller, const char *file)
{
	char dir[300], path[400];

	root_dir(controller, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s%s/%s", dir,
		 is_v2() ? "/supervisor" : "", file);
	return path_exists(path);
}

/* The directory this binary is in, and its name. */
static void self_exe(char *dir, size_t len, const char **ret_name)
{
	static char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = 0;
	slash = strrchr(exe, '/');
	cr_assert_not_null(slash);
	snprintf(dir, len, "%.*s", (int)(slash - exe), exe);
	*ret_name = slash + 1;
}

/* Where the probe is inside the sandbox. */
static void probe_path(char *buf, size_t len)
{
	char dir[PATH_MAX];
	const char *name;

	self_exe(dir, sizeof(dir), &name);
	snprintf(buf, len, PROBE_DIR "/%s", name);
}

/* A spec that runs this binary as the probe what. */
static box_spec *probe_spec(const char *what)
{
	char dir[PATH_MAX], bin[PATH_MAX + 16];
	const char *name;
	box_spec *s = NULL;

	self_exe(dir, sizeof(dir), &name);
	snprintf(bin, sizeof(bin), PROBE_DIR "/%s", name);
	cr_assert(box_spec_new(&s) >= 0);
	cr_assert(box_spec_add_arg(s, bin) >= 0);
	cr_assert(box_spec_ro_bind(s, dir, PROBE_DIR) >= 0);
	cr_assert(box_spec_setenv(s, "BOXD_LIMITS_PROBE", what) >= 0);
	return s;
}

static box_spec *sh_spec(const char *script)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};

	return spec_argv(argv);
}

/* Runs s to the end with stdout and stderr captured. */
static box_run *run_spec(box_client *c, const box_spec *s)
{
	box_run *run = NULL;
	int r = box_run_capture(c, s, NULL, 0, 64 << 10, &run);

	cr_assert(r >= 0, "box_run_capture: %s", strerror(-r));
	return run;
}

/* The result of a finished run; fails the test on an error record. */
static const box_result *result_of(const box_run *run)
{
	const box_error *e = box_run_error(run);

	cr_assert_null(e, "the run failed: %s", e ? box_error_message(e) : "");
	cr_assert_not_null(box_run_result(run));
	return box_run_result(run);
}

static const char *term_name(const box_result *res)
{
	return box_termination_name(box_result_termination(res));
}

static double cpu_s(const box_result *res)
{
	return (double)(box_result_user_ns(res) + box_result_system_ns(res)) /
	       (double)SEC;
}

static const char *out_of(const box_run *run)
{
	const char *o = box_run_stdout(run, NULL);

	return o ? o : "";
}

static bool wait_until_gone(const char *needle, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (count_procs(needle) == 0)
			return true;
		usleep(10000);
	}
	return count_procs(needle) == 0;
}

static bool wait_no_run_cgroups(int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (empty_run_cgroups(&d) <= 0)
			return true;
		usleep(10000);
	}
	return empty_run_cgroups(&d) <= 0;
}

/* ---- limits that end runs ---- */

Test(limits, memory_bomb_ends_out_of_memory_and_the_daemon_keeps_serving)
{
	box_client *c;
	box_spec *s, *echo;
	box_run *run;
	const box_result *res;
	box_status *st = NULL;

	require_cgroups();
	require_limits((const char *const[]){"memory", NULL});
	require_no_swap_escape();
	c = connect_root(&d);
	s = probe_spec("hog");
	cr_assert(box_spec_set_memory(s, 64 * MIB) >= 0);
	/* Only a safety net: a limit that does not hold fails the test
	 * with WALL_TIMEOUT instead of hanging it. */
	cr_assert(box_spec_set_timeout_ns(s, 60 * SEC) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	cr_log_info("memory bomb: %s, oom_kills %lld, peak %lld bytes (%d)",
		    term_name(res), (long long)box_result_oom_kills(res),
		    (long long)box_result_peak_memory_bytes(res),
		    box_result_peak_memory_source(res));
	cr_expect_eq(box_result_termination(res), BOX_TERM_OUT_OF_MEMORY,
		     "termination %s, expected out_of_memory", term_name(res));
	cr_expect_geq(box_result_oom_kills(res), 1);
	cr_expect_eq(box_run_exit_status(run), 128 + SIGKILL);
	if (box_result_peak_memory_source(res) == BOX_PEAK_CGROUP)
		cr_expect_leq(box_result_peak_memory_bytes(res),
			      (int64_t)(64 * MIB + 8 * MIB),
			      "the run went past its memory limit: %lld bytes",
			      (long long)box_result_peak_memory_bytes(res));
	box_run_free(run);
	box_spec_free(s);

	/* The daemon is fine, and so is the connection. */
	cr_expect(daemon_alive(&d), "the daemon died with the memory bomb");
	echo = sh_spec("echo still here");
	run = run_spec(c, echo);
	res = result_of(run);
	cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED);
	cr_expect_eq(box_result_exit_code(res), 0);
	cr_expect_str_eq(out_of(run), "still here\n");
	cr_expect_eq(box_result_oom_kills(res), 0);
	cr_expect(box_client_status(c, &st) >= 0);
	box_status_free(st);
	box_run_free(run);
	box_spec_free(echo);
	box_client_free(c);
}

/* The last "made N visible M" line the fork bomb wrote. */
static bool last_fork_report(const char *out, unsigned *made, unsigned *visible)
{
	bool found = false;

	for (const char *p = out; p && *p;) {
		unsigned a, b;

		if (sscanf(p, "made %u visible %u", &a, &b) == 2 &&
		    strchr(p, '\n')) {
			*made = a;
			*visible = b;
			found = true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return found;
}

/*
 * The bomb as a shell's child. v2 (memory.oom.group) kills the whole run;
 * v1 has no group kill: the kernel kills the bomb, the shell goes on, and
 * the result still counts the OOM kill (docs/security.md, known gaps).
 */
Test(limits, memory_bomb_under_a_shell_is_counted_on_both_backends)
{
	char probe[PATH_MAX + 16];
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_result *res;

	require_cgroups();
	require_limits((const char *const[]){"memory", NULL});
	require_no_swap_escape();
	s = probe_spec("hog");
	probe_path(probe, sizeof(probe));
	cr_assert(
	    box_spec_set_argv(s, (const char *const[]){"/bin/sh", "-c",
						       "\"$0\"; echo after $?",
						       probe, NULL}) >= 0);
	cr_assert(box_spec_set_memory(s, 64 * MIB) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 60 * SEC) >= 0);
	c = connect_root(&d);
	run = run_spec(c, s);
	res = result_of(run);
	cr_log_info(
	    "memory bomb under sh (%s): %s, stdout '%s', oom_kills %lld",
	    d.cgroup_mode, term_name(res), out_of(run),
	    (long long)box_result_oom_kills(res));
	cr_expect_geq(box_result_oom_kills(res), 1);
	if (is_v2()) {
		cr_expect_eq(
		    box_result_termination(res), BOX_TERM_OUT_OF_MEMORY,
		    "termination %s, expected out_of_memory", term_name(res));
		cr_expect_str_eq(out_of(run), "",
				 "the shell outlived the group OOM kill");
	} else {
		cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED,
			     "termination %s", term_name(res));
		cr_expect_str_eq(out_of(run), "after 137\n");
	}
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	cr_expect(daemon_alive(&d));
}

Test(limits, fork_bomb_stays_under_its_pids_limit_until_the_wall_timeout)
{
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_result *res;
	unsigned made = 0, visible = 0;
	int64_t peak;

	require_cgroups();
	require_limits((const char *const[]){"pids", NULL});
	c = connect_root(&d);
	s = probe_spec("forks");
	cr_assert(box_spec_set_pids(s, 32) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 5 * SEC) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	peak = box_result_peak_pids(res);
	cr_expect_eq(box_result_termination(res), BOX_TERM_WALL_TIMEOUT,
		     "termination %s, expected wall_timeout", term_name(res));
	cr_assert(last_fork_report(out_of(run), &made, &visible),
		  "the bomb never reported (stdout '%s')", out_of(run));
	cr_log_info("fork bomb: %s, made %u, visible %u, peak_pids %lld",
		    term_name(res), made, visible, (long long)peak);
	/* Everything the bomb made, the bomb itself and boxd-init. */
	cr_expect_leq(made + 2, 32, "%u processes in a run limited to 32",
		      made + 2);
	cr_expect_leq(visible, 32, "%u processes visible in the sandbox",
		      visible);
	/* It forked until the limit stopped it, not something else. */
	cr_expect_geq(made + 2, 24, "the bomb only made %u processes", made);
	if (peak >= 0) {
		cr_expect_leq(peak, 32, "peak_pids %lld over pids 32",
			      (long long)peak);
		cr_expect_geq(peak, made + 2);
	} else {
		cr_log_info("no pids.peak on this kernel: peak_pids unknown");
	}
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	cr_expect(daemon_alive(&d));
}

Test(limits, half_a_cpu_gives_about_half_the_cpu_time)
{
	box_client *c;
	box_spec *s;
	double window = 0;

	require_cgroups();
	require_limits((const char *const[]){"cpus", NULL});
	c = connect_root(&d);
	/* Two spinners, so an unthrottled run would use up to 4 s. */
	s = probe_spec("spin:2000:2");
	cr_assert(box_spec_set_cpus(s, 0.5) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 60 * SEC) >= 0);
	/* Upper bounds are the limit's: no load elsewhere can push a run
	 * past them. The lower bound only shows that the run did get CPU;
	 * a machine busy enough to starve it gets more tries, for as long
	 * as the tests wait for anything. */
	for (uint64_t until = mono_ms() + TEST_PATIENCE_MS;
	     mono_ms() < until;) {
		box_run *run = run_spec(c, s);
		const box_result *res = result_of(run);
		double used = cpu_s(res);
		double wall = (double)box_result_wall_ns(res) / SEC;
		unsigned long long ms = 0;

		cr_assert_eq(sscanf(out_of(run), "cpu_ms %llu", &ms), 1,
			     "the spinner did not report (stdout '%s')",
			     out_of(run));
		window = (double)ms / 1000;
		cr_log_info("cpus 0.5: %.3f s CPU in the 2 s spin; the run "
			    "%.3f s CPU in %.3f s wall",
			    window, used, wall);
		cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED,
			     "termination %s", term_name(res));
		cr_expect_eq(box_result_exit_code(res), 0);
		/* Within the 2 s the spinners were timing themselves. */
		cr_assert_leq(window, 1.6,
			      "0.5 CPUs for 2 s of wall time used %.3f s",
			      window);
		/* The whole run, start-up included (slow under emulation):
		 * half its wall time, and a few 100 ms periods of slack. */
		cr_assert_leq(used, 0.5 * wall + 0.3,
			      "0.5 CPUs for %.3f s of wall time used %.3f s",
			      wall, used);
		cr_expect_geq(used + 0.05, window,
			      "the result reports less CPU "
			      "than the spinners measured");
		box_run_free(run);
		if (window >= 0.4)
			break;
		/* Not a warning: criterion exits 1 on any, and a busy
		 * machine is no failure. */
		cr_log_info("only %.3f s of CPU in 2 s: a busy machine? again",
			    window);
	}
	cr_expect_geq(window, 0.4, "a 2 s busy loop got only %.3f s of CPU",
		      window);
	box_spec_free(s);
	box_client_free(c);
}

Test(limits, cpu_time_limit_ends_the_run_with_cpu_timeout)
{
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_result *res;

	require_cgroups();
	require_limits((const char *const[]){"cpu_time", NULL});
	c = connect_root(&d);
	s = probe_spec("spin:0:1");
	cr_assert(box_spec_set_cpu_time_ns(s, SEC / 2) >= 0);
	cr_assert(box_spec_set_timeout_ns(s, 30 * SEC) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	cr_log_info("cpu-time 0.5 s: %s after %.3f s CPU, %.3f s wall",
		    term_name(res), cpu_s(res),
		    (double)box_result_wall_ns(res) / SEC);
	cr_expect_eq(box_result_termination(res), BOX_TERM_CPU_TIMEOUT,
		     "termination %s, expected cpu_timeout", term_name(res));
	cr_expect_geq(cpu_s(res), 0.5, "killed after only %.3f s of CPU",
		      cpu_s(res));
	cr_expect_lt(box_result_wall_ns(res), 30 * SEC);
	cr_expect_eq(box_run_exit_status(run), 128 + SIGKILL);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(limits, wall_timeout_kills_every_process_and_removes_the_cgroup)
{
	char marker[64], script[512];
	box_client *c;
	uint64_t timeout = SEC / 2;
	bool started = false;

	require_cgroups();
	snprintf(marker, sizeof(marker), "sleep 6%03d.75",
		 (int)getpid() % 1000);
	/* Double-forked, setsid'd, plain background and foreground. */
	snprintf(script, sizeof(script),
		 "(%s &) ; (setsid %s &) ; (setsid -f %s) ; %s & "
		 "echo started; %s",
		 marker, marker, marker, marker, marker);
	c = connect_root(&d);
	/* The timeout is half a second; a machine too slow to start the
	 * sleepers by then (a loaded one, or an emulated VM) gets a longer
	 * one, doubled until they start, so that there is something to
	 * kill. */
	while (!started && timeout <= TEST_PATIENCE_MS * 1000000ULL) {
		box_spec *s = sh_spec(script);
		box_run *run;
		const box_result *res;

		cr_assert(box_spec_set_timeout_ns(s, timeout) >= 0);
		run = run_spec(c, s);
		res = result_of(run);
		started = strstr(out_of(run), "started") != NULL;
		cr_log_info("timeout %.1f s: %s, sleepers %s",
			    (double)timeout / SEC, term_name(res),
			    started ? "started" : "not started");
		cr_expect_eq(box_result_termination(res), BOX_TERM_WALL_TIMEOUT,
			     "termination %s, expected wall_timeout",
			     term_name(res));
		cr_expect_eq(box_run_exit_status(run), 128 + SIGKILL);
		box_run_free(run);
		box_spec_free(s);
		cr_expect(wait_until_gone(marker, TEST_PATIENCE_MS),
			  "%d processes of the timed-out run are still there",
			  count_procs(marker));
		cr_expect(wait_no_run_cgroups(TEST_PATIENCE_MS),
			  "%d run cgroups left behind", empty_run_cgroups(&d));
		timeout *= 2;
	}
	cr_expect(started, "the sleepers never started before the timeout");
	box_client_free(c);
	cr_expect(daemon_alive(&d));
}

/* ---- measurements ---- */

Test(limits, peak_memory_of_a_100_mib_toucher_is_at_least_100_mib)
{
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_result *res;

	require_cgroups();
	if (is_v2() && !cgroup_file_exists("memory", "memory.peak"))
		skip_test("no memory.peak on this kernel (before 5.19): "
			  "no whole-run peak from the cgroup");
	c = connect_root(&d);
	s = probe_spec("touch:100");
	cr_assert(box_spec_set_timeout_ns(s, 60 * SEC) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	cr_log_info("touch 100 MiB: peak %lld bytes, source %d, rss %llu",
		    (long long)box_result_peak_memory_bytes(res),
		    box_result_peak_memory_source(res),
		    (unsigned long long)box_result_peak_rss_bytes(res));
	cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED);
	cr_expect_eq(box_result_exit_code(res), 0);
	cr_expect_str_eq(out_of(run), "touched 100\n");
	cr_expect_eq(box_result_peak_memory_source(res), BOX_PEAK_CGROUP);
	cr_expect_geq(box_result_peak_memory_bytes(res), (int64_t)(100 * MIB),
		      "peak memory %lld bytes for 100 MiB touched",
		      (long long)box_result_peak_memory_bytes(res));
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* ---- what the host cannot enforce is refused ---- */

/* Runs /bin/true with one limit set by set() and expects a refusal. */
static void expect_refused(box_client *c, const char *what,
			   int (*set)(box_spec *), const char *must_name)
{
	const char *argv[] = {"/bin/true", NULL};
	box_spec *s = spec_argv(argv);
	box_run *run;
	const box_error *e;

	cr_assert(set(s) >= 0);
	run = run_spec(c, s);
	e = box_run_error(run);
	cr_expect_not_null(e, "%s: the run went ahead without its limit", what);
	if (e) {
		cr_log_info("%s refused: %s", what, box_error_message(e));
		cr_expect_eq(box_error_code(e), BOX_ERROR_UNSUPPORTED,
			     "%s: error code %s", what,
			     box_error_code_name(box_error_code(e)));
		cr_expect(strstr(box_error_message(e), must_name),
			  "%s: the refusal does not name '%s': %s", what,
			  must_name, box_error_message(e));
	}
	box_run_free(run);
	box_spec_free(s);
}

static int set_memory(box_spec *s)
{
	return box_spec_set_memory(s, 64 * MIB);
}
static int set_cpus(box_spec *s)
{
	return box_spec_set_cpus(s, 0.5);
}
static int set_pids(box_spec *s)
{
	return box_spec_set_pids(s, 32);
}
static int set_cpu_time(box_spec *s)
{
	return box_spec_set_cpu_time_ns(s, SEC);
}
static int set_swap(box_spec *s)
{
	int r = box_spec_set_memory(s, 64 * MIB);

	return r < 0 ? r : box_spec_set_memory_swap(s, 64 * MIB);
}

Test(refusal, without_cgroups_limits_are_refused_and_lenient_runs_say_so)
{
	static const char *const args[] = {"--no-cgroups", NULL};
	const char *argv[] = {"/bin/true", NULL};
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_result *res;
	const char *const *caveats;

	require_root();
	daemon_start(&d, args, NULL);
	c = connect_root(&d);
	cr_expect_str_eq(box_host_cgroup_mode(box_client_host(c)), "none");
	cr_expect(!box_host_can_limit(box_client_host(c), "memory"));
	cr_expect(box_host_can_limit(box_client_host(c), "timeout"));
	expect_refused(c, "memory", set_memory, "cgroups");
	expect_refused(c, "cpus", set_cpus, "cgroups");
	expect_refused(c, "pids", set_pids, "cgroups");
	expect_refused(c, "cpu time", set_cpu_time, "cgroups");

	/* Lenient: it runs, and the result says what was not enforced. */
	s = spec_argv(argv);
	cr_assert(set_memory(s) >= 0);
	cr_assert(box_spec_set_lenient(s, true) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED);
	cr_expect_eq(box_result_exit_code(res), 0);
	caveats = box_result_caveats(res);
	cr_expect_not_null(caveats[0], "a lenient run without its memory "
				       "limit lists no caveat");
	if (caveats[0]) {
		cr_log_info("caveat: %s", caveats[0]);
		cr_expect(strstr(caveats[0], "cgroups"),
			  "the caveat does not say why: %s", caveats[0]);
	}
	box_run_free(run);
	box_spec_free(s);

	/* The wall timeout needs no cgroup. */
	s = sh_spec("sleep 100");
	cr_assert(box_spec_set_timeout_ns(s, SEC / 5) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	cr_expect_eq(box_result_termination(res), BOX_TERM_WALL_TIMEOUT);
	cr_expect_null(box_result_caveats(res)[0]);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(refusal, swap_limit_without_swap_accounting_is_refused_by_name)
{
	const char *file;
	box_client *c;

	require_root();
	daemon_start(&d, NULL, NULL);
	require_cgroups();
	file = is_v2() ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
	if (cgroup_file_exists("memory", file))
		skip_test("swap accounting is on here (%s exists): no "
			  "swap limit to refuse",
			  file);
	c = connect_root(&d);
	cr_expect(!box_host_can_limit(box_client_host(c), "swap"));
	expect_refused(c, "memory swap", set_swap, file);
	box_client_free(c);
}

Test(refusal, v2_root_without_the_pids_controller_refuses_pids_by_name)
{
	char root[300], path[400], extra_root[300];
	const char *extra[] = {"--cgroup-root", extra_root, NULL};
	const char *argv[] = {"/bin/true", NULL};
	box_client *c;
	box_spec *s;
	box_run *run;
	const box_result *res;

	require_root();
	if (!path_exists("/sys/fs/cgroup/cgroup.subtree_control"))
		cr_skip_test("cgroup v2 only: a v1 host cannot hide one "
			     "controller from the daemon");
	{
		FILE *f = fopen("/sys/fs/cgroup/cgroup.subtree_control", "re");
		char ctl[256] = "";

		if (f) {
			if (!fgets(ctl, sizeof(ctl), f))
				ctl[0] = 0;
			fclose(f);
		}
		if (!strstr(ctl, "cpu") || !strstr(ctl, "memory"))
			cr_skip_test("the cgroup2 root does not hand cpu and "
				     "memory to its children (subtree_control: "
				     "'%.*s')",
				     (int)strcspn(ctl, "\n"), ctl);
	}
	/* A parent that hands its children cpu and memory, not pids. */
	snprintf(nocontrol_parent, sizeof(nocontrol_parent),
		 "/sys/fs/cgroup/boxd-test-%d-nopids", (int)getpid());
	cr_assert(mkdir(nocontrol_parent, 0755) == 0 || errno == EEXIST,
		  "mkdir %s: %s", nocontrol_parent, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
		 nocontrol_parent);
	{
		FILE *f = fopen(path, "we");

		cr_assert_not_null(f);
		fputs("+cpu +memory", f);
		cr_assert(fclose(f) == 0, "cannot enable cpu and memory in %s",
			  nocontrol_parent);
	}
	snprintf(root, sizeof(root), "%s/boxd", nocontrol_parent);
	snprintf(extra_root, sizeof(extra_root), "%s", root);
	daemon_start(&d, extra, NULL);
	if (!is_v2())
		skip_test("the daemon is not on cgroup v2 here");
	c = connect_root(&d);
	cr_expect(!box_host_can_limit(box_client_host(c), "pids"));
	cr_expect(box_host_can_limit(box_client_host(c), "memory"));
	expect_refused(c, "pids", set_pids, "pids");

	/* What it can enforce still works. */
	s = spec_argv(argv);
	cr_assert(set_memory(s) >= 0);
	run = run_spec(c, s);
	res = result_of(run);
	cr_expect_eq(box_result_termination(res), BOX_TERM_EXITED);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* ---- v2 placement: the daemon in a leaf, runs beside it ---- */

/* "0::<path>" of a process, the path relative to the v2 mount. */
static bool v2_cgroup_of(pid_t pid, char *buf, size_t len)
{
	char path[64], text[1024];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(text, sizeof(text), f)) {
		if (strncmp(text, "0::", 3) == 0) {
			text[strcspn(text, "\n")] = 0;
			snprintf(buf, len, "%s", text + 3);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void start_v2(const char *const *extra)
{
	require_root();
	if (!path_exists("/sys/fs/cgroup/cgroup.subtree_control"))
		cr_skip_test("cgroup v2 only (supervisor leaf, "
			     "CLONE_INTO_CGROUP); this host is v1");
	daemon_start(&d, extra, NULL);
	if (!is_v2())
		skip_test("the daemon is not on cgroup v2 here");
}

Test(placement, daemon_sits_in_a_leaf_and_runs_are_its_siblings)
{
	const char *rel;
	char want[1024], got[1024], marker[64], script[128];
	box_client *c;
	box_spec *s;
	box_run *run = NULL;

	start_v2(NULL);
	rel = d.cgroup_root + strlen("/sys/fs/cgroup");
	cr_assert(v2_cgroup_of(d.pid, got, sizeof(got)));
	snprintf(want, sizeof(want), "%s/supervisor", rel);
	cr_expect_str_eq(got, want, "the daemon is in %s", got);

	snprintf(marker, sizeof(marker), "sleep 6%03d.5", (int)getpid() % 1000);
	snprintf(script, sizeof(script), "%s", marker);
	c = connect_root(&d);
	s = sh_spec(script);
	cr_assert(box_run_start(c, s, -1, -1, -1, &run) >= 0);
	while (box_run_state(run) < BOX_RUN_STARTED)
		cr_assert(box_run_dispatch(run) >= 0);
	cr_assert(box_run_pid(run) > 0);
	cr_assert(v2_cgroup_of((pid_t)box_run_pid(run), got, sizeof(got)));
	/* A cold run's own cgroup, or the one a pool member was born in
	 * (sandbox-<n>), which became its run's. */
	snprintf(want, sizeof(want), "%s/tenant-0/run-%lld", rel,
		 (long long)box_run_id(run));
	{
		char member[1024];

		snprintf(member, sizeof(member), "%s/sandbox-", rel);
		if (strncmp(got, member, strlen(member)) == 0 &&
		    !strchr(got + strlen(member), '/'))
			snprintf(want, sizeof(want), "%s", got);
	}
	cr_expect_str_eq(got, want, "the run's pid 1 is in %s", got);
	/* And the command, pid 1's child, with it. */
	{
		pid_t child = -1;

		for (int i = 0; i < TEST_PATIENCE_MS / 10 && child <= 0; i++) {
			child = child_of((pid_t)box_run_pid(run));
			if (child <= 0)
				usleep(10000);
		}
		cr_assert_gt(child, 0, "the command never showed up");
		cr_assert(v2_cgroup_of(child, got, sizeof(got)));
		cr_expect_str_eq(got, want, "the command is in %s", got);
	}
	cr_assert(box_run_kill(run, SIGKILL) >= 0);
	box_run_wait(run);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* The daemon's pool spawner (its child "boxd-init --spawner"), or -1.
 * Members are its clones but clear the argument before anything else. */
static pid_t spawner_of(pid_t daemon_pid)
{
	static const char want[] = "boxd-init\0--spawner";
	pid_t kids[64];
	int n = children_of(daemon_pid, kids, 64);

	for (int i = 0; i < n; i++) {
		char path[64], buf[64];
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kids[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf));
		close(fd);
		if (len == (ssize_t)sizeof(want) &&
		    memcmp(buf, want, sizeof(want)) == 0)
			return kids[i];
	}
	return -1;
}

/*
 * Reads supervisor/cgroup.procs over and over until stop_fd is readable,
 * and writes to out_fd every pid seen there that is neither the daemon
 * nor its spawner (a helper of the daemon's, which stays beside it; the
 * members it clones are born in their own cgroups), then the number of
 * samples as a negative number.
 */
static _Noreturn void sample_supervisor(pid_t daemon_pid, pid_t spawner_pid,
					int stop_fd, int out_fd)
{
	char path[400], buf[4096];
	long samples = 0;

	snprintf(path, sizeof(path), "%s/supervisor/cgroup.procs",
		 d.cgroup_root);
	for (;;) {
		struct pollfd p = {.fd = stop_fd, .events = POLLIN};
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			char *tok, *save = NULL;

			buf[n] = 0;
			for (tok = strtok_r(buf, "\n", &save); tok;
			     tok = strtok_r(NULL, "\n", &save)) {
				long pid = atol(tok);

				if (pid != daemon_pid && pid != spawner_pid)
					(void)!write(out_fd, &pid, sizeof(pid));
			}
			samples++;
		}
		if (poll(&p, 1, 0) > 0)
			break;
	}
	samples = -samples;
	(void)!write(out_fd, &samples, sizeof(samples));
	_exit(0);
}

static void runs_never_pass_through_the_daemons_cgroup(bool pooled)
{
	int stop[2], out[2];
	long v, samples = 0, foreign = 0, first_foreign = 0;
	pid_t sampler, spawner;
	box_client *c;
	box_spec *s;

	spawner = spawner_of(d.pid);
	if (pooled) {
		for (int i = 0; i < TEST_PATIENCE_MS / 10 && spawner < 0; i++) {
			usleep(10000);
			spawner = spawner_of(d.pid);
		}
		cr_assert_gt(spawner, 0, "a pooled daemon without a spawner");
	}
	cr_assert(pipe2(stop, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
	sampler = fork();
	cr_assert(sampler >= 0);
	if (sampler == 0) {
		close(stop[1]);
		close(out[0]);
		sample_supervisor(d.pid, spawner, stop[0], out[1]);
	}
	close(stop[0]);
	close(out[1]);

	c = connect_root(&d);
	s = sh_spec("exit 0");
	for (int i = 0; i < 24; i++) {
		box_run *run = run_spec(c, s);

		cr_expect_eq(box_run_exit_status(run), 0, "run %d failed", i);
		box_run_free(run);
	}
	box_spec_free(s);
	box_client_free(c);

	close(stop[1]);
	while (read(out[0], &v, sizeof(v)) == sizeof(v)) {
		if (v < 0) {
			samples = -v;
			continue;
		}
		if (!foreign++)
			first_foreign = v;
	}
	close(out[0]);
	waitpid(sampler, NULL, 0);
	cr_log_info("%ld samples of supervisor/cgroup.procs over 24 runs",
		    samples);
	cr_expect_gt(samples, 0, "the sampler never read supervisor/");
	cr_expect_eq(foreign, 0,
		     "%ld times a process other than the daemon sat in its "
		     "cgroup (first: pid %ld)",
		     foreign, first_foreign);
}

Test(placement, cold_spawns_never_pass_through_the_daemons_cgroup)
{
	static const char *const args[] = {"--pool-size", "0", NULL};

	start_v2(args);
	runs_never_pass_through_the_daemons_cgroup(false);
}

Test(placement, pooled_spawns_never_pass_through_the_daemons_cgroup)
{
	static const char *const args[] = {"--pool-size", "4", "--pool-low",
					   "2", NULL};

	start_v2(args);
	runs_never_pass_through_the_daemons_cgroup(true);
}

/* ---- boxctl ---- */

static const char *boxctl_bin(void)
{
	const char *bin = getenv("BOXCTL_BIN");

	if (!bin || !*bin)
		skip_test("BOXCTL_BIN is not set (run through meson test)");
	return bin;
}

/* Runs a shell command line; returns its output (malloc'd) and status. */
static char *command_output(const char *cmd, int *ret_status)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int st;

	cr_assert_not_null(p);
	for (;;) {
		size_t n;

		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		n = fread(buf + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = 0;
	st = pclose(p);
	if (ret_status)
		*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf;
}

/* The raw value of "key" in a flat JSON object: a number, null, true,
 * false, a "string" (quotes kept) or an [array]. */
static bool json_value(const char *json, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *v, *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	v = strstr(json, pat);
	if (!v)
		return false;
	v += strlen(pat);
	while (*v == ' ')
		v++;
	if (*v == '"') {
		end = strchr(v + 1, '"');
		end = end ? end + 1 : v + strlen(v);
	} else if (*v == '[') {
		end = strchr(v, ']');
		end = end ? end + 1 : v + strlen(v);
	} else {
		end = v + strcspn(v, ",}");
	}
	snprintf(buf, len, "%.*s", (int)(end - v), v);
	return true;
}

/* The last line of text that starts with '{'. */
static const char *json_line(const char *text)
{
	const char *line = NULL;

	for (const char *p = text; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (*p == '{')
			line = p;
	}
	return line;
}

static bool is_number(const char *s)
{
	return *s >= '0' && *s <= '9' && s[strspn(s, "0123456789")] == 0;
}

Test(boxctl, run_json_shows_termination_and_usage_fields)
{
	const char *bin = boxctl_bin();
	char cmd[3 * PATH_MAX], v[256], pidsdir[300], pidspeak[400];
	char *text;
	const char *json;
	int status;
	bool has_pids_peak;

	require_cgroups();
	require_limits((const char *const[]){"memory", "pids", NULL});
	root_dir("pids", pidsdir, sizeof(pidsdir));
	snprintf(pidspeak, sizeof(pidspeak), "%s%s/pids.peak", pidsdir,
		 is_v2() ? "/supervisor" : "");
	has_pids_peak = path_exists(pidspeak);

	/* --json writes the result record on stderr; stdout is the
	 * command's. */
	snprintf(cmd, sizeof(cmd),
		 "%s --socket %s run --json --memory 64M --pids 64 -- "
		 "/bin/sh -c 'echo hello' 2>&1 >/dev/null",
		 bin, d.sock);
	text = command_output(cmd, &status);
	cr_log_info("boxctl run --json: %s", text);
	cr_expect_eq(status, 0);
	json = json_line(text);
	cr_assert_not_null(json, "no JSON record in: %s", text);
	cr_assert(json_value(json, "termination", v, sizeof(v)));
	cr_expect_str_eq(v, "\"exited\"");
	cr_assert(json_value(json, "peak_memory_bytes", v, sizeof(v)));
	cr_expect(is_number(v) && strtoull(v, NULL, 10) > 0,
		  "peak_memory_bytes: %s", v);
	cr_assert(json_value(json, "peak_memory_source", v, sizeof(v)));
	if (is_v2() && !cgroup_file_exists("memory", "memory.peak"))
		cr_expect_str_eq(v, "\"rusage\"");
	else
		cr_expect_str_eq(v, "\"cgroup\"");
	cr_assert(json_value(json, "oom_kills", v, sizeof(v)));
	cr_expect_str_eq(v, "0");
	cr_assert(json_value(json, "peak_pids", v, sizeof(v)));
	if (has_pids_peak)
		cr_expect(is_number(v) && strtoull(v, NULL, 10) >= 2 &&
			      strtoull(v, NULL, 10) <= 64,
			  "peak_pids: %s", v);
	else
		cr_expect_str_eq(v, "null");
	free(text);
}

/* A memory bomb, as boxctl users see it. */
Test(boxctl, run_json_shows_an_out_of_memory_end)
{
	const char *bin = boxctl_bin();
	char cmd[3 * PATH_MAX], v[256], dir[PATH_MAX];
	const char *name, *json;
	char *text;
	int status;

	require_cgroups();
	require_limits((const char *const[]){"memory", NULL});
	require_no_swap_escape();
	self_exe(dir, sizeof(dir), &name);
	snprintf(cmd, sizeof(cmd),
		 "%s --socket %s run --json --memory 64M --timeout 60s "
		 "--ro-bind %s " PROBE_DIR
		 " --setenv BOXD_LIMITS_PROBE hog -- " PROBE_DIR
		 "/%s 2>&1 >/dev/null",
		 bin, d.sock, dir, name);
	text = command_output(cmd, &status);
	cr_log_info("boxctl run --json, memory bomb: %s", text);
	cr_expect_eq(status, 128 + SIGKILL);
	json = json_line(text);
	cr_assert_not_null(json, "no JSON record in: %s", text);
	cr_assert(json_value(json, "termination", v, sizeof(v)));
	cr_expect_str_eq(v, "\"out_of_memory\"");
	cr_assert(json_value(json, "oom_kills", v, sizeof(v)));
	cr_expect(is_number(v) && strtoull(v, NULL, 10) >= 1, "oom_kills: %s",
		  v);
	free(text);
}

Test(boxctl, status_shows_cgroup_mode_path_and_limits)
{
	const char *bin = boxctl_bin();
	char cmd[512], v[512], want_path[300], line[600];
	char *text, *p;
	int status;
	bool found_cgroup = false, found_limits = false;

	require_cgroups();
	require_limits(
	    (const char *const[]){"memory", "cpus", "pids", "cpu_time", NULL});
	root_dir("memory", want_path, sizeof(want_path));

	snprintf(cmd, sizeof(cmd), "%s --socket %s status", bin, d.sock);
	text = command_output(cmd, &status);
	cr_log_info("boxctl status:\n%s", text);
	cr_expect_eq(status, 0);
	for (p = text; p && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		if (strncmp(line, "cgroup:", 7) == 0) {
			found_cgroup = true;
			cr_expect(strstr(line, d.cgroup_mode),
				  "cgroup line without the mode: %s", line);
			cr_expect(strstr(line, want_path),
				  "cgroup line without %s: %s", want_path,
				  line);
		}
		if (strncmp(line, "limits:", 7) == 0) {
			found_limits = true;
			for (const char *const *l =
				 (const char *const[]){"memory", "cpus", "pids",
						       "timeout", "cpu_time",
						       NULL};
			     *l; l++)
				cr_expect(strstr(line, *l),
					  "limits line without %s: %s", *l,
					  line);
		}
	}
	cr_expect(found_cgroup, "no cgroup line in boxctl status");
	cr_expect(found_limits, "no limits line in boxctl status");
	free(text);

	snprintf(cmd, sizeof(cmd), "%s --socket %s status --json", bin, d.sock);
	text = command_output(cmd, &status);
	cr_log_info("boxctl status --json: %s", text);
	cr_expect_eq(status, 0);
	cr_assert(json_value(text, "cgroup_mode", v, sizeof(v)),
		  "no cgroup_mode in %s", text);
	cr_expect(strstr(v, d.cgroup_mode), "cgroup_mode %s", v);
	cr_assert(json_value(text, "cgroup_path", v, sizeof(v)));
	cr_expect(strstr(v, want_path), "cgroup_path %s", v);
	cr_assert(json_value(text, "limits", v, sizeof(v)));
	cr_expect(strstr(v, "\"memory\"") && strstr(v, "\"pids\"") &&
		      strstr(v, "\"cpus\"") && strstr(v, "\"cpu_time\""),
		  "limits %s", v);
	free(text);
}
