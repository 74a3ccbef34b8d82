/*
 * boxd-bench-hostile: what hostile clients cost everyone else.
 *
 * One client runs /bin/true through a pooled daemon on one connection
 * (the same runner and spec as boxd-bench's pooled row), in alternating
 * rounds: alone, and while other clients send the worst request the
 * protocol lets them, back to back. That request is the largest RunRequest
 * the wire caps admit (65536 argv entries filling most of a 4 MiB frame),
 * with a NUL byte in argv[0] so that it is refused only after it has been
 * read and decoded in full: every byte of it is work for the daemon, none
 * of it a sandbox. The report gives the victim's latency in both kinds of
 * round and their ratio. Nothing is asserted: it is a measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "box.pb-c.h"
#include "frame.h"
#include "util.h"

#define HOSTILE_ARGS 65536
#define HOSTILE_ARG_LEN 60 /* 65536 x 62 wire bytes: 3.9 MiB */

struct settings {
	const char *boxd;
	unsigned rounds, runs, hostiles, pool_size;
};

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_all(int fd, void *buf, size_t len)
{
	for (size_t at = 0; at < len;) {
		ssize_t n = read(fd, (char *)buf + at, len - at);

		if (n <= 0)
			return -1;
		at += (size_t)n;
	}
	return 0;
}

/* Read one event frame and throw it away. */
static int skip_event(int fd)
{
	uint8_t hdr[FRAME_HEADER_SIZE], buf[4096];
	uint32_t len;

	if (read_all(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
	      (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		if (read_all(fd, buf, n) < 0)
			return -1;
		len -= (uint32_t)n;
	}
	return 0;
}

static int send_hello(int fd)
{
	Boxd__V1__Request req = BOXD__V1__REQUEST__INIT;
	Boxd__V1__Hello hello = BOXD__V1__HELLO__INIT;
	uint32_t version = 2;
	uint8_t buf[64];
	size_t len;

	hello.n_versions = 1;
	hello.versions = &version;
	req.msg_case = BOXD__V1__REQUEST__MSG_HELLO;
	req.hello = &hello;
	len = boxd__v1__request__get_packed_size(&req);
	if (len > sizeof(buf))
		return -1;
	boxd__v1__request__pack(&req, buf);
	return frame_send(fd, buf, (uint32_t)len, NULL, 0, NULL);
}

/*
 * The worst-case RunRequest, encoded by hand (packing 65536 strings with
 * protobuf-c would only cost the hostile client time): Request field 15
 * (request_id, rewritten per send), then field 2 (run) holding argv
 * entries of HOSTILE_ARG_LEN bytes, argv[0] starting with a NUL.
 */
static uint8_t *hostile_body(size_t *ret_len)
{
	size_t entry = 2 + HOSTILE_ARG_LEN, run_len = HOSTILE_ARGS * entry;
	uint8_t *body = malloc(run_len + 16), *p;
	size_t at = 0;

	if (!body)
		return NULL;
	body[at++] = 15 << 3;
	body[at++] = 1;
	body[at++] = 2 << 3 | 2;
	for (size_t v = run_len; v; v >>= 7)
		body[at++] = (uint8_t)(v & 0x7f) | (v >> 7 ? 0x80 : 0);
	p = body + at;
	for (size_t i = 0; i < HOSTILE_ARGS; i++, p += entry) {
		p[0] = 1 << 3 | 2;
		p[1] = HOSTILE_ARG_LEN;
		memset(p + 2, 'x', HOSTILE_ARG_LEN);
	}
	body[at + 2] = 0;
	*ret_len = at + run_len;
	return body;
}

/* A hostile client: the worst request, answered, again, until killed.
 * Its stdio rides along as the run's three fds, as a real one's would. */
static _Noreturn void hostile_main(const char *sock, int ready)
{
	size_t len;
	uint8_t *body = hostile_body(&len);
	int fd = connect_unix(sock), stdio[3], one = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!body || fd < 0 || send_hello(fd) < 0 || skip_event(fd) < 0)
		_exit(1);
	for (int i = 0; i < 3; i++)
		stdio[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (uint8_t id = 1;; id = (uint8_t)(id % 127 + 1)) {
		body[1] = id;
		if (frame_send(fd, body, (uint32_t)len, stdio, 3, NULL) < 0 ||
		    skip_event(fd) < 0)
			_exit(2);
		if (ready >= 0) {
			/* The daemon has answered one: it is under way. */
			(void)!write(ready, &one, 1);
			close(ready);
			ready = -1;
		}
	}
}

static int start_hostiles(const char *sock, pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int p[2];
		char c;

		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		pids[i] = fork();
		if (pids[i] < 0)
			return -errno;
		if (pids[i] == 0) {
			close(p[0]);
			hostile_main(sock, p[1]);
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1) {
			close(p[0]);
			fprintf(stderr, "boxd-bench-hostile: a hostile client "
					"never got an answer\n");
			return -EIO;
		}
		close(p[0]);
	}
	return 0;
}

static void stop_hostiles(pid_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
		pids[i] = 0;
	}
}

static int timed_runs(struct runner *r, unsigned n, struct samples *s)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (runner_once(r) < 0)
			return -1;
		samples_add(s, now_ns() - t0);
	}
	return 0;
}

static void fmt(char *buf, size_t len, double ns)
{
	snprintf(buf, len, "%.3f ms", ns / 1e6);
}

static void print_row(const char *name, struct samples *s)
{
	char med[32], p95[32], p99[32], max[32];

	fmt(med, sizeof(med), samples_pct(s, 50));
	fmt(p95, sizeof(p95), samples_pct(s, 95));
	fmt(p99, sizeof(p99), samples_pct(s, 99));
	fmt(max, sizeof(max), samples_pct(s, 100));
	printf("| %s | %zu | %s | %s | %s | %s |\n", name, s->n, med, p95, p99,
	       max);
}

static void print_report(const struct settings *set, struct samples *quiet,
			 struct samples *loud)
{
	printf("## Another client's runs under hostile clients\n\n");
	printf("Pooled `/bin/true` on one connection; %u rounds of %u runs "
	       "alone, alternating with %u rounds of %u runs while %u "
	       "clients send %d-entry RunRequests (%.1f MiB each, refused "
	       "after decoding) back to back.\n\n",
	       set->rounds, set->runs, set->rounds, set->runs, set->hostiles,
	       HOSTILE_ARGS,
	       HOSTILE_ARGS * (2.0 + HOSTILE_ARG_LEN) / (1024 * 1024));
	printf("| rounds | runs | median | p95 | p99 | max |\n");
	printf("|---|---|---|---|---|---|\n");
	print_row("alone", quiet);
	print_row("with hostile clients", loud);
	printf("\nhostile / alone: median %.2fx, p95 %.2fx, p99 %.2fx\n",
	       samples_pct(loud, 50) / samples_pct(quiet, 50),
	       samples_pct(loud, 95) / samples_pct(quiet, 95),
	       samples_pct(loud, 99) / samples_pct(quiet, 99));
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: boxd-bench-hostile --boxd PATH [--rounds N] [--runs N]\n"
	       "                          [--hostiles N] [--pool N]\n"
	       "  --rounds N    alternating rounds of each kind (default 5)\n"
	       "  --runs N      runs per round (default 100)\n"
	       "  --hostiles N  hostile clients (default 2)\n"
	       "  --pool N      the daemon's pool size (default 8)\n");
}

static int parse(int argc, char **argv, struct settings *set)
{
	static const struct option opts[] = {
	    {"boxd", required_argument, NULL, 'b'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"runs", required_argument, NULL, 'n'},
	    {"hostiles", required_argument, NULL, 'h'},
	    {"pool", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'H'},
	    {0},
	};
	int c;

	*set = (struct settings){
	    .rounds = 5, .runs = 100, .hostiles = 2, .pool_size = 8};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned *to = c == 'r'   ? &set->rounds
			       : c == 'n' ? &set->runs
			       : c == 'h' ? &set->hostiles
			       : c == 'p' ? &set->pool_size
					  : NULL;
		char *end;

		if (c == 'b') {
			set->boxd = optarg;
		} else if (c == 'H') {
			usage(stdout);
			exit(0);
		} else if (to) {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 100000) {
				fprintf(stderr,
					"boxd-bench-hostile: bad "
					"count '%s'\n",
					optarg);
				return -1;
			}
			*to = (unsigned)v;
		} else {
			usage(stderr);
			return -1;
		}
	}
	if (set->hostiles > 16) {
		fprintf(stderr, "boxd-bench-hostile: at most 16 hostiles\n");
		return -1;
	}
	if (!set->boxd || access(set->boxd, X_OK) < 0) {
		fprintf(stderr, "boxd-bench-hostile: give --boxd PATH\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/boxd-bench-XXXXXX";
	struct samples quiet = {0}, loud = {0};
	struct runner_env env = {0};
	struct daemon_paths dp;
	struct settings set;
	struct daemon d = {0};
	pid_t pids[16] = {0};
	struct runner r;
	int rc = 1;

	if (parse(argc, argv, &set) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	env.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (env.devnull < 0 || !mkdtemp(dir) || chmod(dir, 0755) < 0) {
		perror("boxd-bench-hostile");
		return 1;
	}
	dp = (struct daemon_paths){.boxd = set.boxd, .dir = dir};
	if (daemon_start(&dp, "hostile", (int)set.pool_size, &d) < 0) {
		fprintf(stderr,
			"boxd-bench-hostile: cannot start boxd (log "
			"in %s)\n",
			dir);
		goto out;
	}
	if (runner_open(&r, RUN_BOXD_CONN, &env, d.sock) < 0) {
		fprintf(stderr, "boxd-bench-hostile: cannot connect\n");
		goto out;
	}
	for (unsigned round = 0; round < set.rounds; round++) {
		fprintf(stderr, "round %u/%u\n", round + 1, set.rounds);
		daemon_wait_pool_full(&d, 10000);
		if (timed_runs(&r, set.runs, &quiet) < 0)
			goto fail;
		if (start_hostiles(d.sock, pids, set.hostiles) < 0)
			goto fail;
		if (timed_runs(&r, set.runs, &loud) < 0)
			goto fail;
		stop_hostiles(pids, set.hostiles);
	}
	print_report(&set, &quiet, &loud);
	rc = 0;
fail:
	if (rc)
		fprintf(stderr, "boxd-bench-hostile: a run failed: %s\n",
			r.errmsg[0] ? r.errmsg : "(no message)");
	stop_hostiles(pids, set.hostiles);
	runner_close(&r);
out:
	daemon_stop(&d);
	samples_free(&quiet);
	samples_free(&loud);
	/* The daemon removed its socket; its state and log go too. */
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "boxd-bench-hostile: could not remove %s\n",
			dir);
	return rc;
}
