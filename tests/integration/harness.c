/*
 * See harness.h. The daemon runs from the build tree (BOXD_BIN), with a
 * per-daemon cgroup root so test binaries running side by side never see
 * each other's cgroups.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void track_daemon(struct daemon *d);
static void cleanup_dir(struct daemon *d);

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void require_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: boxd is a root daemon");
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

const char *probe_dir(void)
{
	return env_or("BOXD_PROBE_DIR", ".");
}

static bool file_has(const char *path, const char *word)
{
	char buf[512] = "";
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, word) != NULL;
}

/* Whether the whole (small) file holds needle anywhere. */
static bool file_contains(const char *path, const char *needle)
{
	char buf[8192];
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!found && fgets(buf, sizeof(buf), f))
		found = strstr(buf, needle) != NULL;
	fclose(f);
	return found;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Pick the cgroup setup this host allows: a fresh delegated subtree on a
 * cgroup2 mount with the controllers (the VM), a private name under the
 * v1 controllers (hybrid hosts), or none. BOXD_TEST_CGROUP overrides. */
static void pick_cgroups(struct daemon *d)
{
	const char *want = env_or("BOXD_TEST_CGROUP", "auto");
	bool v2 = file_has("/sys/fs/cgroup/cgroup.controllers", "memory");
	bool v1 = path_exists("/sys/fs/cgroup/memory/tasks");
	/* Each daemon of a test owns its root: boxd refuses one that holds
	 * another daemon. The first keeps the plain name tests may rely on. */
	static unsigned started;
	char name[64];

	if (started++)
		snprintf(name, sizeof(name), "boxd-test-%d-%u", (int)getpid(),
			 started);
	else
		snprintf(name, sizeof(name), "boxd-test-%d", (int)getpid());
	if ((strcmp(want, "auto") == 0 || strcmp(want, "v2") == 0) && v2) {
		strcpy(d->cgroup_mode, "v2");
		snprintf(d->cgroup_root, sizeof(d->cgroup_root),
			 "/sys/fs/cgroup/%s", name);
		write_file("/sys/fs/cgroup/cgroup.subtree_control",
			   "+cpu +memory +pids");
		mkdir(d->cgroup_root, 0755);
	} else if ((strcmp(want, "auto") == 0 || strcmp(want, "v1") == 0) &&
		   v1) {
		strcpy(d->cgroup_mode, "v1");
		snprintf(d->cgroup_root, sizeof(d->cgroup_root), "%s", name);
	} else {
		strcpy(d->cgroup_mode, "none");
		d->cgroup_root[0] = 0;
	}
}

/* Does this cgroup directory list no process? */
static bool cgroup_empty(const char *dir)
{
	char path[PATH_MAX + 16], c;
	bool empty;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* removed while we looked */
	empty = read(fd, &c, 1) == 0;
	close(fd);
	return empty;
}

static int count_empty_runs(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh))) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
				     de->d_name) >= sizeof(sub))
			continue;
		if ((strncmp(de->d_name, "run-", 4) == 0 ||
		     strncmp(de->d_name, "sandbox-", 8) == 0) &&
		    cgroup_empty(sub))
			n++;
		n += count_empty_runs(sub);
	}
	closedir(dh);
	return n;
}

int empty_run_cgroups(const struct daemon *d)
{
	char root[PATH_MAX];

	if (strcmp(d->cgroup_mode, "v2") == 0)
		snprintf(root, sizeof(root), "%s", d->cgroup_root);
	else if (strcmp(d->cgroup_mode, "v1") == 0)
		snprintf(root, sizeof(root), "/sys/fs/cgroup/memory/%s",
			 d->cgroup_root);
	else
		return -1;
	return count_empty_runs(root);
}

int boxctl_shell(struct daemon *d, const char *args, bool with_stderr,
		 char **out)
{
	const char *bin = getenv("BOXCTL_BIN");
	char cmd[4096], buf[4096];
	size_t len = 0, n;
	FILE *p;
	int status;

	if (!bin || !*bin) {
		if (d->pid > 0)
			daemon_stop(d);
		cr_skip_test("BOXCTL_BIN is not set (run through meson test)");
	}
	snprintf(cmd, sizeof(cmd), "%s --socket %s %s%s", bin, d->sock, args,
		 with_stderr ? " 2>&1" : "");
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	*out = calloc(1, 1);
	cr_assert_not_null(*out);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		*out = realloc(*out, len + n + 1);
		cr_assert_not_null(*out);
		memcpy(*out + len, buf, n);
		len += n;
		(*out)[len] = '\0';
	}
	status = pclose(p);
	cr_assert(WIFEXITED(status), "boxctl did not exit: %d", status);
	return WEXITSTATUS(status);
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A boxd that exited at startup because the kernel lacks features
 * sandboxes depend on (namespaces, seccomp, pidfd, the mount API) says
 * so in its log. Then the host truly cannot run these tests: the missing
 * features, as boxd --check-environment names them, go into why. */
static bool kernel_lacks_features(const struct daemon *d, char *why, size_t len)
{
	const char *bin = env_or("BOXD_BIN", "boxd");
	char cmd[512], line[512];
	size_t used = 0;
	FILE *p;

	if (!file_contains(d->log, "lacks features sandboxes depend on"))
		return false;
	why[0] = 0;
	snprintf(cmd, sizeof(cmd),
		 "%s --config /dev/null --check-environment 2>&1", bin);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		if (!strstr(line, "[required]"))
			continue;
		line[strcspn(line, "\n")] = 0;
		/* The report aligns its columns; one space is enough here. */
		for (char *r = line, *w = line;; r++) {
			if (!(*r == ' ' && w > line && w[-1] == ' '))
				*w++ = *r;
			if (!*r)
				break;
		}
		used += (size_t)snprintf(
		    why + used, used < len ? len - used : 0, " %s;", line);
		if (used >= len)
			break;
	}
	if (p)
		pclose(p);
	if (!why[0])
		snprintf(why, len, " see %s", d->log);
	return true;
}

/* Exec boxd on d's socket, state directory and cgroup root and wait until
 * it accepts. A restart appends to the log instead of truncating it. */
static void daemon_spawn(struct daemon *d, const char *const *extra,
			 const char *config_text, bool restart)
{
	const char *bin = env_or("BOXD_BIN", "boxd");
	char state[128], conf[128];
	const char *argv[40];
	int n = 0;

	snprintf(state, sizeof(state), "%s/state", d->dir);
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = d->sock;
	argv[n++] = "--state-dir";
	argv[n++] = state;
	if (strcmp(d->cgroup_mode, "none") == 0) {
		argv[n++] = "--no-cgroups";
	} else {
		argv[n++] = "--cgroup-mode";
		argv[n++] = d->cgroup_mode;
		argv[n++] = "--cgroup-root";
		argv[n++] = d->cgroup_root;
	}
	snprintf(conf, sizeof(conf), "%s/boxd.conf", d->dir);
	if (config_text)
		write_file(conf, config_text);
	argv[n++] = "--config";
	argv[n++] = config_text ? conf : "/dev/null";
	argv[n++] = "--verbose";
	for (; extra && *extra && n < 38; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;

	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		int fd = open(d->log,
			      O_WRONLY | O_CREAT | O_CLOEXEC |
				  (restart ? O_APPEND : O_TRUNC),
			      0644);

		/* A test that ends early (a skip runs no teardown) must
		 * not leave its daemon behind. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* Root's capabilities after execve are bounded by this set. */
		if (d->without_cap_kill &&
		    prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0) < 0)
			_exit(126);
		if (d->ignoring_signals) {
			static const int ignored[] = {SIGHUP, SIGINT, SIGQUIT,
						      SIGUSR1, SIGTSTP};

			for (size_t i = 0;
			     i < sizeof(ignored) / sizeof(*ignored); i++)
				signal(ignored[i], SIG_IGN);
		}
		execv(bin, (char **)argv);
		_exit(127);
	}
	/* Ready when the socket accepts; a loaded machine may take a while
	 * to get there, a daemon that gave up is seen at once. */
	for (long long end = mono_ms() + TEST_PATIENCE_MS; mono_ms() < end;) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int status;

		strcpy(sa.sun_path, d->sock);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return;
		}
		close(fd);
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			char cmd[256], why[1024];

			d->pid = 0;
			if (kernel_lacks_features(d, why, sizeof(why))) {
				cleanup_dir(d);
				cr_skip_test("this kernel lacks what every "
					     "sandbox needs (boxd "
					     "--check-environment):%s",
					     why);
			}
			snprintf(cmd, sizeof(cmd), "cat %s >&2", d->log);
			(void)!system(cmd);
			cr_assert_fail("boxd exited at startup (status %d)",
				       status);
		}
		usleep(10000);
	}
	cr_assert_fail("boxd did not start listening on %s", d->sock);
}

void daemon_start(struct daemon *d, const char *const *extra,
		  const char *config_text)
{
	bool without_cap_kill = d->without_cap_kill;
	bool ignoring_signals = d->ignoring_signals;

	memset(d, 0, sizeof(*d));
	d->without_cap_kill = without_cap_kill;
	d->ignoring_signals = ignoring_signals;
	strcpy(d->dir, "/tmp/boxd-test-XXXXXX");
	cr_assert_not_null(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
	chmod(d->dir, 0755);
	snprintf(d->sock, sizeof(d->sock), "%s/boxd.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/boxd.log", d->dir);
	pick_cgroups(d);
	track_daemon(d);
	daemon_spawn(d, extra, config_text, false);
}

void daemon_restart(struct daemon *d, const char *const *extra,
		    const char *config_text)
{
	cr_assert(d->dir[0], "daemon_restart: the daemon was never started");
	cr_assert(!daemon_alive(d), "daemon_restart: boxd is still running");
	d->pid = 0;
	daemon_spawn(d, extra, config_text, true);
}

bool daemon_alive(const struct daemon *d)
{
	return d->pid > 0 && kill(d->pid, 0) == 0 &&
	       waitpid(d->pid, NULL, WNOHANG) == 0;
}

/* Remove one cgroup directory and everything below it, depth first. A
 * daemon killed with SIGKILL leaves its sandboxes' processes behind in
 * there: kill them, then wait for each directory to empty. */
static void remove_cgroup_tree(const char *path, int depth)
{
	char sub[1024], procs[1024];
	struct dirent *de;
	DIR *dir;

	if (depth > 8 || !(dir = opendir(path)))
		return;
	while ((de = readdir(dir))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		remove_cgroup_tree(sub, depth + 1);
	}
	closedir(dir);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	for (int round = 0; round < 500; round++) {
		FILE *f;
		int pid;

		if (rmdir(path) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY && errno != ENOTEMPTY)
			break;
		if ((f = fopen(procs, "re"))) {
			while (fscanf(f, "%d", &pid) == 1)
				kill(pid, SIGKILL);
			fclose(f);
		}
		usleep(10000);
	}
	fprintf(stderr, "harness: cannot remove cgroup %s: %s\n", path,
		strerror(errno));
}

/* The daemon removes what it created; this catches what a daemon killed
 * with SIGKILL (on purpose, or by a timeout) left behind. */
static void cleanup_cgroups(const struct daemon *d)
{
	char path[sizeof(d->cgroup_root) + 300];
	struct dirent *de;
	DIR *dir;

	if (strcmp(d->cgroup_mode, "v2") == 0) {
		remove_cgroup_tree(d->cgroup_root, 0);
		return;
	}
	if (strcmp(d->cgroup_mode, "v1") != 0 ||
	    !(dir = opendir("/sys/fs/cgroup")))
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", de->d_name,
			 d->cgroup_root);
		remove_cgroup_tree(path, 0);
	}
	closedir(dir);
}

static void cleanup_dir(struct daemon *d)
{
	char cmd[512];

	if (!d->dir[0] || getenv("BOXD_TEST_KEEP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->dir);
	(void)!system(cmd);
	cleanup_cgroups(d);
	d->dir[0] = 0;
}

/*
 * Every daemon a test process started, so that nothing outlives the test:
 * criterion runs no .fini after cr_skip_test(), but the worker process
 * still exits, and its exit handlers stop what is left.
 */
static struct daemon *started[8];

static void stop_all_at_exit(void)
{
	for (size_t i = 0; i < (sizeof(started) / sizeof(started[0])); i++)
		if (started[i])
			daemon_stop(started[i]);
}

static void track_daemon(struct daemon *d)
{
	static bool registered;
	size_t free_slot = (sizeof(started) / sizeof(started[0]));

	for (size_t i = 0; i < (sizeof(started) / sizeof(started[0])); i++) {
		if (started[i] == d)
			return;
		if (!started[i] &&
		    free_slot == (sizeof(started) / sizeof(started[0])))
			free_slot = i;
	}
	cr_assert_lt(free_slot, (sizeof(started) / sizeof(started[0])),
		     "more daemons at once than the harness tracks");
	started[free_slot] = d;
	if (!registered)
		atexit(stop_all_at_exit);
	registered = true;
}

/* Stop the daemon if it runs (SIGTERM, then SIGKILL after 10 s) and
 * remove its directory and cgroups, also when the test already stopped or
 * killed it itself. Safe to call more than once. */
void daemon_stop(struct daemon *d)
{
	int status;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 1000; i++) {
			if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
				d->pid = 0;
				break;
			}
			usleep(10000);
		}
		if (d->pid > 0) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			d->pid = 0;
		}
	}
	cleanup_dir(d);
}

void daemon_kill9(struct daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

static int send_one_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char b = 0;
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_one_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char b;
	struct iovec iov = {&b, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	int fd = -1;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) == 1 && CMSG_FIRSTHDR(&m))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

/* Connector processes, kept alive while the test runs: the daemon reads
 * who connected (and from where) from the connecting process, and
 * refuses a connection whose connector is already gone. Each waits for
 * EOF on its end of a socketpair, which comes when the test process
 * exits. */
static int connector_links[64];
static size_t n_connector_links;

int socket_as(const struct daemon *d, uid_t uid, gid_t gid, const gid_t *groups,
	      size_t n_groups)
{
	int sv[2], fd, status;
	pid_t pid;

	cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* The kernel records these credentials at connect(). */
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char b;
		int s;

		/* Only the parent may hold the other end: its exit is the
		 * signal to go. */
		close(sv[0]);
		for (size_t i = 0; i < n_connector_links; i++)
			close(connector_links[i]);
		strcpy(sa.sun_path, d->sock);
		if (setgroups(n_groups, groups) < 0 ||
		    setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(1);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(2);
		if (send_one_fd(sv[1], s) < 0)
			_exit(3);
		/* Hold nothing but the link: an fd of the test's kept open
		 * here (another helper's pipe) would keep that helper
		 * waiting too. */
		if (sv[1] > 3)
			syscall(SYS_close_range, 3, sv[1] - 1, 0);
		syscall(SYS_close_range, sv[1] + 1, ~0U, 0);
		(void)!read(sv[1], &b, 1);
		_exit(0);
	}
	close(sv[1]);
	fd = recv_one_fd(sv[0]);
	if (fd < 0) {
		close(sv[0]);
		waitpid(pid, &status, 0);
		cr_assert_fail("could not connect as uid %u (helper status %d)",
			       uid, status);
	}
	if (n_connector_links < sizeof(connector_links) / sizeof(int))
		connector_links[n_connector_links++] = sv[0];
	else
		close(sv[0]); /* not kept: the daemon may see it gone */
	return fd;
}

box_client *connect_as(const struct daemon *d, uid_t uid, gid_t gid)
{
	box_client *c = NULL;
	int fd = socket_as(d, uid, gid, NULL, 0);
	int r;

	cr_assert(box_client_new(&c) >= 0);
	r = box_client_connect_fd(c, fd);
	cr_assert(r >= 0, "handshake as uid %u failed: %s", uid,
		  box_client_last_error(c)
		      ? box_error_message(box_client_last_error(c))
		      : strerror(-r));
	return c;
}

box_client *connect_root(const struct daemon *d)
{
	box_client *c = NULL;
	int r = box_connect(d->sock, &c);

	cr_assert(r >= 0, "connect %s: %s", d->sock, strerror(-r));
	return c;
}

box_spec *spec_argv(const char *const *argv)
{
	box_spec *s = NULL;

	cr_assert(box_spec_new(&s) >= 0);
	cr_assert(box_spec_set_argv(s, argv) >= 0);
	return s;
}

static char *slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	for (;;) {
		ssize_t n;

		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	return buf;
}

box_run *run_capture(box_client *c, const box_spec *s, const char *in,
		     char **out, char **err)
{
	int pin[2], pout[2], perr[2];
	box_run *run = NULL;
	int r;

	cr_assert(pipe2(pin, O_CLOEXEC) == 0 && pipe2(pout, O_CLOEXEC) == 0 &&
		  pipe2(perr, O_CLOEXEC) == 0);
	r = box_run_start(c, s, pin[0], pout[1], perr[1], &run);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (in)
		(void)!write(pin[1], in, strlen(in));
	close(pin[1]);
	cr_assert(r >= 0 || run, "box_run_start: %s", strerror(-r));
	/* Outputs here are small: read them fully, then wait. */
	*out = slurp(pout[0]);
	*err = slurp(perr[0]);
	close(pout[0]);
	close(perr[0]);
	box_run_wait(run);
	return run;
}

char *sh_out(const struct daemon *d, const char *script, int *ret_status)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	box_client *c = connect_root(d);
	box_spec *s = spec_argv(argv);
	char *out, *err;
	box_run *run = run_capture(c, s, NULL, &out, &err);

	if (ret_status)
		*ret_status = box_run_exit_status(run);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	return out;
}

int count_procs(const char *needle)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char path[300], buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = 0;
		n += strncmp(buf, needle, strlen(needle)) == 0;
	}
	closedir(dir);
	return n;
}

/* The parent pid field of /proc/<pid>/stat, or -1. The command name may
 * hold spaces and parentheses: the fields start after the last ')'. */
static pid_t parent_of(const char *pid)
{
	char path[300], buf[512], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return (pid_t)ppid;
}

int children_of(pid_t parent, pid_t *out, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while (n < max && (de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (parent_of(de->d_name) == parent)
			out[n++] = atoi(de->d_name);
	}
	closedir(dir);
	return n;
}

pid_t child_of(pid_t parent)
{
	pid_t pid;

	return children_of(parent, &pid, 1) == 1 ? pid : -1;
}

bool proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

const char *overlay_upper_base(void)
{
	static const char *const bases[] = {"/tmp", "/dev/shm"};
	struct statfs sfs;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (statfs(bases[i], &sfs) == 0 &&
		    (unsigned long)sfs.f_type != OVERLAYFS_SUPER_MAGIC)
			return bases[i];
	return NULL;
}

bool host_has_swap(void)
{
	char line[512];
	int lines = 0;
	FILE *f = fopen("/proc/swaps", "re");

	/* No /proc/swaps: a kernel built without swap support. */
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	return lines > 1;
}

bool host_has_program(const char *name)
{
	static const char *const dirs[] = {"/usr/local/sbin", "/usr/local/bin",
					   "/usr/sbin",       "/usr/bin",
					   "/sbin",           "/bin"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}
