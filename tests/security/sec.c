/*
 * See sec.h. Probes are copied out of the build tree into a root-owned
 * 0755 directory under /tmp: a bind source is opened with the caller's
 * credentials, and a build tree may sit where an unprivileged tenant
 * cannot reach it; the copies also give the setuid test a file whose
 * owner and mode the test controls.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec.h"

static char probe_host_dir[64];
static char *tracked[32];
static size_t n_tracked;

/* What sec_cleanup() removes must go also when a test skips: criterion
 * then runs no .fini, but the worker process still exits. */
static void cleanup_at_exit(void)
{
	static bool registered;

	if (!registered)
		atexit(sec_cleanup);
	registered = true;
}

const char *sec_probe_dir(void)
{
	if (!probe_host_dir[0]) {
		cleanup_at_exit();
		strcpy(probe_host_dir, "/tmp/boxd-test-probes-XXXXXX");
		cr_assert_not_null(mkdtemp(probe_host_dir), "mkdtemp: %s",
				   strerror(errno));
		cr_assert(chmod(probe_host_dir, 0755) == 0);
	}
	return probe_host_dir;
}

const char *sec_probe_copy(const char *probe)
{
	static char dst[128];
	char src[512];
	struct stat st;
	int in, out;

	snprintf(dst, sizeof(dst), "%s/%s", sec_probe_dir(), probe);
	if (access(dst, X_OK) == 0)
		return dst;
	snprintf(src, sizeof(src), "%s/%s", probe_dir(), probe);
	in = open(src, O_RDONLY | O_CLOEXEC);
	cr_assert(in >= 0, "probe %s: %s (is BOXD_PROBE_DIR set?)", src,
		  strerror(errno));
	cr_assert(fstat(in, &st) == 0);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert(out >= 0, "%s: %s", dst, strerror(errno));
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = sendfile(out, in, &off, (size_t)(st.st_size - off));

		cr_assert(n > 0, "copy %s: %s", src, strerror(errno));
	}
	close(in);
	cr_assert(fchmod(out, 0755) == 0);
	close(out);
	return dst;
}

void sec_track(const char *path)
{
	cleanup_at_exit();
	cr_assert_not_null(path, "mkdtemp: %s", strerror(errno));
	cr_assert_lt(n_tracked, sizeof(tracked) / sizeof(tracked[0]));
	cr_assert_not_null(tracked[n_tracked] = strdup(path));
	n_tracked++;
}

static void remove_tree(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	(void)!system(cmd);
}

void sec_cleanup(void)
{
	while (n_tracked > 0) {
		n_tracked--;
		remove_tree(tracked[n_tracked]);
		free(tracked[n_tracked]);
		tracked[n_tracked] = NULL;
	}
	if (probe_host_dir[0])
		remove_tree(probe_host_dir);
	probe_host_dir[0] = 0;
}

void sec_bind_probes(box_spec *s)
{
	cr_assert(box_spec_ro_bind(s, sec_probe_dir(), SEC_PROBES) >= 0);
}

box_spec *sec_spec(const char *probe, const char *const *args)
{
	char path[128];
	box_spec *s = NULL;

	sec_probe_copy(probe);
	snprintf(path, sizeof(path), SEC_PROBES "/%s", probe);
	cr_assert(box_spec_new(&s) >= 0);
	cr_assert(box_spec_add_arg(s, path) >= 0);
	for (; args && *args; args++)
		cr_assert(box_spec_add_arg(s, *args) >= 0);
	sec_bind_probes(s);
	return s;
}

box_run *sec_run(box_client *c, const box_spec *s, char **out, char **err)
{
	return run_capture(c, s, NULL, out, err);
}

static const char *error_text(const box_run *run)
{
	const box_error *e = box_run_error(run);

	return e ? box_error_message(e) : "";
}

void sec_expect_pass(const box_run *run, const char *out, const char *err)
{
	cr_assert_null(box_run_error(run),
		       "the probe did not run: %s\nstdout:\n%s\nstderr:\n%s",
		       error_text(run), out, err);
	cr_expect_eq(box_run_exit_status(run), 0,
		     "probe exit status %d\nstdout:\n%s\nstderr:\n%s",
		     box_run_exit_status(run), out, err);
	cr_expect(strstr(out, " VERDICT pass ") ||
		      strstr(err, " VERDICT pass "),
		  "no passing verdict\nstdout:\n%s\nstderr:\n%s", out, err);
	cr_expect(!strstr(out, " FAIL ") && !strstr(err, " FAIL "),
		  "a check failed\nstdout:\n%s\nstderr:\n%s", out, err);
}

void sec_expect_error(const box_run *run, enum box_error_code code,
		      const char *const *needles)
{
	const box_error *e = box_run_error(run);

	cr_assert_not_null(e,
			   "expected a %s error, the run went ahead "
			   "(exit status %d)",
			   box_error_code_name(code), box_run_exit_status(run));
	cr_expect_eq(box_error_code(e), code, "got %s: %s, want %s",
		     box_error_code_name(box_error_code(e)),
		     box_error_message(e), box_error_code_name(code));
	for (; needles && *needles; needles++)
		cr_expect(strstr(box_error_message(e), *needles),
			  "message '%s' should mention '%s'",
			  box_error_message(e), *needles);
}

bool sec_info(const char *text, const char *key, char *buf, size_t len)
{
	char needle[128];
	const char *p = text;

	snprintf(needle, sizeof(needle), " INFO %s ", key);
	while ((p = strstr(p, needle))) {
		const char *line = p;

		/* It must be on a PROBE line. */
		while (line > text && line[-1] != '\n')
			line--;
		if (strncmp(line, "PROBE ", 6) == 0) {
			size_t n;

			p += strlen(needle);
			n = strcspn(p, "\n");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p, n);
			buf[n] = 0;
			return true;
		}
		p += strlen(needle);
	}
	return false;
}

int sec_socket_as(const struct daemon *d, uid_t uid, gid_t gid,
		  const gid_t *groups, size_t n_groups)
{
	return socket_as(d, uid, gid, groups, n_groups);
}

int sec_connect(const struct daemon *d, uid_t uid, gid_t gid,
		const gid_t *groups, size_t n_groups, box_client **ret)
{
	int fd = sec_socket_as(d, uid, gid, groups, n_groups);

	cr_assert(box_client_new(ret) >= 0);
	return box_client_connect_fd(*ret, fd);
}

void sec_bg_start(struct sec_bg *bg, box_client *c, const box_spec *s)
{
	int pin[2], pout[2], perr[2];
	int r;

	memset(bg, 0, sizeof(*bg));
	bg->c = c;
	cr_assert(pipe2(pin, O_CLOEXEC) == 0 && pipe2(pout, O_CLOEXEC) == 0 &&
		  pipe2(perr, O_CLOEXEC) == 0);
	r = box_run_start(c, s, pin[0], pout[1], perr[1], &bg->run);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	cr_assert(r >= 0, "box_run_start: %s", strerror(-r));
	bg->in = pin[1];
	bg->out = pout[0];
	bg->err = perr[0];
	/* Up to READY: the command runs and has said who it is. */
	sec_bg_read_until(bg, "READY\n");
	/* And the daemon has said it started (its pid is known). */
	while (box_run_state(bg->run) < BOX_RUN_STARTED) {
		struct pollfd p = {.fd = box_client_fd(c), .events = POLLIN};

		poll(&p, 1, -1);
		cr_assert(box_run_dispatch(bg->run) >= 0);
	}
	cr_assert(box_run_state(bg->run) == BOX_RUN_STARTED,
		  "held run finished early: %s", error_text(bg->run));
}

void sec_bg_read_until(struct sec_bg *bg, const char *needle)
{
	size_t len = strlen(bg->head);

	while (!strstr(bg->head, needle)) {
		ssize_t n;

		cr_assert(len + 1 < sizeof(bg->head), "no '%s' in: %s", needle,
			  bg->head);
		n = read(bg->out, bg->head + len, sizeof(bg->head) - 1 - len);
		if (n <= 0) {
			box_run_wait(bg->run);
			cr_assert_fail("the held run ended before '%s': %s\n%s",
				       needle, error_text(bg->run), bg->head);
		}
		len += (size_t)n;
		bg->head[len] = 0;
	}
}

pid_t sec_bg_command_pid(const struct sec_bg *bg)
{
	pid_t init = (pid_t)box_run_pid(bg->run);
	pid_t cmd;

	cr_assert(init > 0, "no pid for the held run");
	cmd = sec_child_of(init);
	cr_assert(cmd > 0, "no command under pid 1 (%d)", (int)init);
	return cmd;
}

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	cr_assert_not_null(buf);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 >= cap) {
			buf = realloc(buf, cap *= 2);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = 0;
	return buf;
}

void sec_bg_finish(struct sec_bg *bg, char **out, char **err)
{
	char *rest;
	size_t len;

	close(bg->in);
	rest = slurp_fd(bg->out);
	len = strlen(bg->head);
	*out = malloc(len + strlen(rest) + 1);
	cr_assert_not_null(*out);
	memcpy(*out, bg->head, len);
	strcpy(*out + len, rest);
	free(rest);
	*err = slurp_fd(bg->err);
	close(bg->out);
	close(bg->err);
	box_run_wait(bg->run);
}

pid_t sec_child_of(pid_t parent)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = -1;

	cr_assert_not_null(d);
	while (found < 0 && (de = readdir(d))) {
		char path[300], buf[512], *p;
		int ppid = 0;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == parent)
			found = atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

char *sec_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;

	if (fd < 0)
		return NULL;
	text = slurp_fd(fd);
	close(fd);
	return text;
}

static int count_in(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

void sec_wait_log(const struct daemon *d, const char *needle, int count)
{
	/* Bounded by the test's own timeout; no deadline of its own. */
	for (;;) {
		char *log = sec_read_file(d->log);
		int n = log ? count_in(log, needle) : 0;

		free(log);
		if (n >= count)
			return;
		cr_assert(daemon_alive(d), "the daemon died waiting for '%s'",
			  needle);
		usleep(10000);
	}
}

void sec_run_expect_pass(box_client *c, const box_spec *s)
{
	char *out, *err;
	box_run *run = sec_run(c, s, &out, &err);

	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
}

long sec_host_uid(pid_t pid)
{
	char path[64], *status, *uid;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = sec_read_file(path);
	cr_assert_not_null(status);
	uid = strstr(status, "\nUid:");
	if (uid)
		v = strtol(uid + 5, NULL, 10);
	free(status);
	return v;
}
