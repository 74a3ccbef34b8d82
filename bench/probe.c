/*
 * What this machine charges for two things a sandboxed run does more of
 * than a posix_spawn of the same program, measured at the start of each
 * report so that its ratios can be read against them:
 *
 *  - waking a process that sleeps on another CPU: a pooled run goes from
 *    the client to the daemon, to the sandbox's pid 1, to the command and
 *    back, where posix_spawn + waitpid stays on one CPU. On bare metal a
 *    wake-up across CPUs costs a few microseconds; in a virtual machine
 *    whose idle vCPUs halt, it can cost tens.
 *  - the cpuid instruction (x86): glibc runs it dozens of times when a
 *    process starts (CPU features, cache sizes). In a virtual machine
 *    each one may trap to the hypervisor; every command a run execs, the
 *    floor's /bin/true included, and boxctl pay it.
 *
 * Nothing here decides anything: figures only, printed beside the
 * machine's description.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "bench.h"
#include "util.h"

enum { BATCHES = 5, ROUND_TRIPS = 400, CPUIDS = 400 };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* One byte each way over a socketpair, this process on cpu_a and a
 * child on cpu_b; the median of BATCHES batches, in ns per round trip,
 * or -1. */
static double round_trip_ns(int cpu_a, int cpu_b)
{
	double per[BATCHES];
	int sv[2], status, ok = 0;
	char c = 0;
	pid_t child;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	child = fork();
	if (child < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (child == 0) {
		close(sv[0]);
		if (pin(cpu_b) < 0)
			_exit(1);
		while (read(sv[1], &c, 1) == 1)
			if (write(sv[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(sv[1]);
	if (pin(cpu_a) == 0) {
		ok = 1;
		for (int b = 0; ok && b < BATCHES; b++) {
			uint64_t t0 = now_ns();

			for (int i = 0; ok && i < ROUND_TRIPS; i++)
				ok = write(sv[0], &c, 1) == 1 &&
				     read(sv[0], &c, 1) == 1;
			per[b] = (double)(now_ns() - t0) / ROUND_TRIPS;
		}
	}
	close(sv[0]);
	waitpid(child, &status, 0);
	return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0
		   ? median(per, BATCHES)
		   : -1;
}

/* ns per cpuid instruction (leaf 4, as glibc's cache probing uses), or
 * -1 where there is no such instruction. */
static double cpuid_ns(void)
{
#if defined(__x86_64__) || defined(__i386__)
	double per[BATCHES];
	unsigned a, b, c, d;

	for (int k = 0; k < BATCHES; k++) {
		uint64_t t0 = now_ns();

		for (int i = 0; i < CPUIDS; i++) {
			__cpuid_count(4, 0, a, b, c, d);
			__asm__ volatile("" : : "r"(a), "r"(b), "r"(c), "r"(d));
		}
		per[k] = (double)(now_ns() - t0) / CPUIDS;
	}
	return median(per, BATCHES);
#else
	return -1;
#endif
}

void print_probes(void)
{
	cpu_set_t saved;
	int cpus[2], n = 0;
	double one, two, id = cpuid_ns();

	if (id > 0)
		printf("- one cpuid instruction: %.1f µs\n", id / 1000);
	else
		printf("- cpuid: not measured (not an x86 CPU)\n");
	if (sched_getaffinity(0, sizeof(saved), &saved) < 0) {
		printf("- wake-ups: not measured (no CPU affinity)\n");
		return;
	}
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &saved))
			cpus[n++] = i;
	one = n >= 1 ? round_trip_ns(cpus[0], cpus[0]) : -1;
	two = n >= 2 ? round_trip_ns(cpus[0], cpus[1]) : -1;
	(void)sched_setaffinity(0, sizeof(saved), &saved);
	if (one <= 0) {
		printf("- wake-ups: not measured (could not pin a process)\n");
		return;
	}
	printf("- a wake-up round trip between two processes (a byte each "
	       "way over a socketpair): %.1f µs on one CPU, ",
	       one / 1000);
	if (two > 0)
		printf("%.1f µs across two\n", two / 1000);
	else
		printf("not measured across two (%s)\n",
		       n < 2 ? "this process may use one CPU only"
			     : "could not pin a process");
}
