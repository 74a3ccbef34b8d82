/*
 * The ways of running /bin/true that the benchmark compares. Every one
 * gives the command /dev/null as stdin, stdout and stderr, and every run
 * is checked: a run that did not exit 0 is a failure, counted and
 * reported, never a sample.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

extern char **environ;

int bench_spec_new(box_spec **ret)
{
	static const char *const argv[] = {"/bin/true", NULL};
	box_spec *s = NULL;
	int r;

	r = box_spec_new(&s);
	if (r < 0)
		return r;
	/* Spelled out although they are the defaults: the bars are about
	 * full isolation, whatever the defaults become. */
	if ((r = box_spec_set_argv(s, argv)) < 0 ||
	    (r = box_spec_set_profile(s, BOX_PROFILE_DEFAULT)) < 0 ||
	    (r = box_spec_set_net(s, BOX_NET_NONE)) < 0 ||
	    (r = box_spec_set_seccomp(s, BOX_SECCOMP_DEFAULT, NULL, 0)) < 0 ||
	    (r = box_spec_set_memory(s, 256ULL << 20)) < 0 ||
	    (r = box_spec_set_pids(s, 64)) < 0) {
		box_spec_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/*
 * bwrap with the mounts of boxd's default profile as this host needs
 * them: each system directory ro-bound, or recreated as the same symlink
 * on a merged-/usr host; fresh tmpfs on /tmp, /run and /var; proc; a
 * minimal dev; the hostname; every namespace; a new session.
 */
char **bwrap_argv_new(const char *bwrap)
{
	static const char *const sys_dirs[] = {
	    "/usr",   "/bin",   "/sbin",   "/lib",
	    "/lib32", "/lib64", "/libx32", "/etc",
	};
	static const char *const tail[] = {
	    "--tmpfs",       "/tmp",
	    "--tmpfs",       "/run",
	    "--tmpfs",       "/var",
	    "--proc",        "/proc",
	    "--dev",         "/dev",
	    "--hostname",    "boxd",
	    "--unshare-all", "--die-with-parent",
	    "--new-session", "--",
	    "/bin/true",
	};
	size_t cap = 1 + 3 * ELEMENTSOF(sys_dirs) + ELEMENTSOF(tail) + 1, n = 0;
	char **argv = calloc(cap, sizeof(char *));

	if (!argv)
		return NULL;
	argv[n++] = strdup(bwrap);
	for (size_t i = 0; i < ELEMENTSOF(sys_dirs); i++) {
		struct stat st;
		char target[4096];
		ssize_t len;

		if (lstat(sys_dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			len = readlink(sys_dirs[i], target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = 0;
			argv[n++] = strdup("--symlink");
			argv[n++] = strdup(target);
			argv[n++] = strdup(sys_dirs[i]);
		} else if (S_ISDIR(st.st_mode)) {
			argv[n++] = strdup("--ro-bind");
			argv[n++] = strdup(sys_dirs[i]);
			argv[n++] = strdup(sys_dirs[i]);
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(tail); i++)
		argv[n++] = strdup(tail[i]);
	for (size_t i = 0; i < n; i++)
		if (!argv[i])
			return NULL; /* out of memory at startup: give up */
	return argv;
}

/* Count a failure; keep the first one's "what: why" for the report. */
static void fail(struct runner *r, const char *what, const char *why)
{
	if (!r->failures++)
		snprintf(r->errmsg, sizeof(r->errmsg), "%s: %s", what, why);
}

int runner_open(struct runner *r, enum runner_kind kind,
		const struct runner_env *env, const char *sock)
{
	int k;

	*r = (struct runner){.kind = kind, .env = env, .sock = sock};
	if (kind != RUN_BOXD_CONN && kind != RUN_BOXD_CONNECT)
		return 0;
	k = bench_spec_new(&r->spec);
	if (k < 0)
		return k;
	if (kind == RUN_BOXD_CONN) {
		k = box_connect(sock, &r->client);
		if (k < 0) {
			r->spec = box_spec_free(r->spec);
			return k;
		}
	}
	return 0;
}

void runner_close(struct runner *r)
{
	r->client = box_client_free(r->client);
	r->spec = box_spec_free(r->spec);
}

static int spawn_wait(struct runner *r, const char *path, char *const *argv)
{
	posix_spawn_file_actions_t fa;
	int k, status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_adddup2(&fa, r->env->devnull, fd);
	k = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (k != 0) {
		fail(r, path, strerror(k));
		return -k;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fail(r, "waitpid", strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[64];

		snprintf(why, sizeof(why), "wait status 0x%x", status);
		fail(r, path, why);
		return -EIO;
	}
	return 0;
}

/* A finished run that is not "exited 0" is a failure with its reason. */
static int check_run(struct runner *r, box_run *run)
{
	const box_result *res = box_run_result(run);
	const box_error *err = box_run_error(run);

	if (res && box_result_termination(res) == BOX_TERM_EXITED &&
	    box_result_exit_code(res) == 0)
		return 0;
	if (err)
		fail(r, "boxd error", box_error_message(err));
	else if (res)
		fail(r, "boxd run ended",
		     box_termination_name(box_result_termination(res)));
	else
		fail(r, "boxd", "run has no record");
	return -EIO;
}

static int boxd_once(struct runner *r, box_client *c)
{
	int fd = r->env->devnull, k;
	box_run *run = NULL;

	k = box_run_start(c, r->spec, fd, fd, fd, &run);
	if (k < 0) {
		fail(r, "box_run_start", strerror(-k));
		return k;
	}
	k = box_run_wait(run);
	if (k < 0)
		fail(r, "box_run_wait", strerror(-k));
	else
		k = check_run(r, run);
	box_run_free(run);
	return k;
}

int runner_once(struct runner *r)
{
	static char *const true_argv[] = {(char *)"/bin/true", NULL};
	box_client *c = NULL;
	int k;

	switch (r->kind) {
	case RUN_SPAWN:
		return spawn_wait(r, "/bin/true", true_argv);
	case RUN_BWRAP:
		return spawn_wait(r, r->env->bwrap, r->env->bwrap_argv);
	case RUN_BOXCTL: {
		char *const argv[] = {
		    (char *)r->env->boxctl,
		    (char *)"--socket",
		    (char *)r->sock,
		    (char *)"run",
		    (char *)"--memory",
		    (char *)"256M",
		    (char *)"--pids",
		    (char *)"64",
		    (char *)"--",
		    (char *)"/bin/true",
		    NULL,
		};
		return spawn_wait(r, r->env->boxctl, argv);
	}
	case RUN_BOXD_CONN:
		return boxd_once(r, r->client);
	case RUN_BOXD_CONNECT:
		k = box_connect(r->sock, &c);
		if (k < 0) {
			fail(r, "box_connect", strerror(-k));
			return k;
		}
		k = boxd_once(r, c);
		box_client_free(c);
		return k;
	}
	return -EINVAL;
}

int runner_once_phased(struct runner *r, struct run_phases *ret)
{
	struct run_phases ph = {0};
	int fd = r->env->devnull, k, state = BOX_RUN_PENDING;
	box_run *run = NULL;

	if (r->kind != RUN_BOXD_CONN)
		return -EINVAL;
	ph.t_send = now_ns();
	k = box_run_start(r->client, r->spec, fd, fd, fd, &run);
	if (k < 0) {
		fail(r, "box_run_start", strerror(-k));
		return k;
	}
	while (state != BOX_RUN_FINISHED) {
		struct pollfd p = {.fd = box_client_fd(r->client),
				   .events = POLLIN};
		uint64_t t;

		if (poll(&p, 1, 10000) < 0 && errno != EINTR) {
			k = -errno;
			break;
		}
		k = box_run_dispatch(run);
		if (k < 0)
			break;
		t = now_ns();
		/* Several events in one read share a timestamp. */
		if (k >= BOX_RUN_ACCEPTED && !ph.t_accepted)
			ph.t_accepted = t;
		if (k >= BOX_RUN_STARTED && !ph.t_started)
			ph.t_started = t;
		if (k == BOX_RUN_FINISHED)
			ph.t_finished = t;
		state = k;
	}
	if (k >= 0)
		k = check_run(r, run);
	else
		fail(r, "box_run_dispatch", strerror(-k));
	if (k >= 0 && box_run_result(run))
		ph.daemon_wall_ns = box_result_wall_ns(box_run_result(run));
	box_run_free(run);
	if (k >= 0)
		*ret = ph;
	return k;
}
