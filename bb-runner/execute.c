/*
 * One action as one boxd run: checks the action's directories in the
 * build directory, creates its stdout and stderr files, asks boxd
 * (through libboxclient, on a connection of its own) to run the command
 * in a sandbox built for the runner's mode, waits for the result while
 * watching for cancellation, and turns the outcome into a reply.
 *
 * What this file must never do:
 *  - open a path of the request except beneath the build directory fd,
 *    through path_open_beneath() (RESOLVE_BENEATH), so that no symlink
 *    or ".." planted by an earlier action leads the runner elsewhere;
 *  - change anything in the build directory for a request it refuses:
 *    every check that can fail on the request's account runs before the
 *    output files are created, and the files it created are removed
 *    again when the command never started;
 *  - return from a cancelled call while boxd may still be starting the
 *    command: a cancelled run is killed and its record awaited (for at
 *    most kill_wait_ns, after which closing the connection makes boxd
 *    kill it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config-build.h"
#include "execute.h"
#include "path.h"
#include "usage.h"
#include "util.h"

int execute_mode_from_string(const char *s, enum execute_mode *ret_mode)
{
	if (strcmp(s, "workspace") == 0)
		*ret_mode = EXECUTE_WORKSPACE;
	else if (strcmp(s, "chroot") == 0)
		*ret_mode = EXECUTE_CHROOT;
	else
		return -EINVAL;
	return 0;
}

const char *execute_mode_to_string(enum execute_mode mode)
{
	return mode == EXECUTE_CHROOT ? "chroot" : "workspace";
}

static void box_client_freep(box_client **c)
{
	box_client_free(*c);
}

static void box_spec_freep(box_spec **s)
{
	box_spec_free(*s);
}

static void box_run_freep(box_run **r)
{
	box_run_free(*r);
}

/* ------------------------------------------------------------- boxd */

/*
 * Connect to boxd and do the handshake. libboxclient's handshake blocks
 * until boxd answers; a boxd that accepted but hangs would hold this
 * thread for good, so the socket is watched by the call's cancellation
 * (a cancelled call shuts it down and the handshake fails at once).
 */
static int boxd_connect(const struct execute_config *cfg, struct cancel *cancel,
			box_client **ret_client)
{
	_cleanup_(box_client_freep) box_client *c = NULL;
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = box_socket_path(cfg->boxd_socket);
	socklen_t sa_len;
	size_t len = strlen(path);
	int r;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len);
	/* "@name": the abstract namespace, as libboxclient reads it. */
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
			     (path[0] == '@' ? 0 : 1));

	/* Non-blocking connect: a full listen queue is EAGAIN (answered
	 * as UNAVAILABLE) rather than a wait. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negerrno();
	if (connect(fd, (struct sockaddr *)&sa, sa_len) < 0)
		return negerrno();
	r = box_client_new(&c);
	if (r < 0)
		return r;
	(void)box_client_set_name(c, "boxd-bb-runner " BOXD_VERSION);
	r = cancel_watch_socket(cancel, fd);
	if (r < 0)
		return r;
	/* box_client_connect_fd() takes fd in every case. */
	r = box_client_connect_fd(c, TAKE_FD(fd));
	cancel_unwatch_socket(cancel);
	if (r < 0)
		return cancel_fired(cancel) ? -ECANCELED : r;
	*ret_client = TAKE_PTR(c);
	return 0;
}

static void reply_connect_error(const struct execute_config *cfg, int r,
				struct reply *reply)
{
	const char *path = box_socket_path(cfg->boxd_socket);

	if (r == -ECANCELED)
		reply_set(reply, GRPC_STATUS_CANCELLED, "cancelled");
	else if (r == -ENOMEM)
		reply_set(reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			  "out of memory");
	else if (r == -EACCES || r == -EPERM)
		/* The socket's permissions or boxd's policy: a setup to
		 * fix, not a moment to wait out. */
		reply_set(reply, GRPC_STATUS_FAILED_PRECONDITION,
			  "boxd at %s refuses this runner's user (uid %d)",
			  path, (int)getuid());
	else if (r == -EPROTONOSUPPORT)
		reply_set(reply, GRPC_STATUS_FAILED_PRECONDITION,
			  "boxd at %s speaks no protocol version of this "
			  "runner's",
			  path);
	else
		reply_set(reply, GRPC_STATUS_UNAVAILABLE,
			  "boxd at %s is not reachable: %s", path,
			  strerror(-r));
}

/* -------------------------------------------------------- out files */

/* The stdout or stderr file of an action. */
struct out_file {
	const char *field; /* "stdout_path", for messages */
	const char *path;  /* normalised, relative to the build directory */
	int dir_fd;        /* its directory, O_PATH, beneath the build dir */
	char *name;
	int fd;
	bool created;
	dev_t dev;
	ino_t ino;
};

static void out_file_done(struct out_file *f)
{
	f->dir_fd = safe_close(f->dir_fd);
	f->fd = safe_close(f->fd);
	free(f->name);
	f->name = NULL;
}

/*
 * Open the file's directory beneath the build directory and make sure
 * the name is free: -errno with a message in reply otherwise. Nothing is
 * created yet.
 */
static int out_file_prepare(int build_fd, struct out_file *f,
			    struct reply *reply)
{
	_cleanup_free_ char *dir = NULL;
	struct stat st;
	int r;

	r = path_split(f->path, &dir, &f->name);
	if (r < 0)
		goto fail;
	r = path_open_beneath(build_fd, dir, O_PATH | O_DIRECTORY);
	if (r < 0)
		goto fail;
	f->dir_fd = r;
	/* The worker never reuses a file name: an existing one (or a
	 * symlink there, which O_EXCL would refuse anyway) means the
	 * request is wrong, and is reported before anything is made. */
	if (fstatat(f->dir_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT,
			  "%s \"%s\" already exists", f->field, f->path);
		return -EEXIST;
	}
	if (errno != ENOENT) {
		r = negerrno();
		goto fail;
	}
	return 0;
fail:
	if (r == -ENOMEM)
		reply_set(reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			  "out of memory");
	else
		reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT, "%s \"%s\": %s",
			  f->field, f->path,
			  r == -ELOOP   ? "a directory on the way is a symlink"
			  : r == -EXDEV ? "leads out of the build directory"
					: strerror(-r));
	return r;
}

/* Create the file, exclusively, as the stock runner does (0666 less the
 * umask), append-only like its log files. */
static int out_file_create(struct out_file *f, struct reply *reply)
{
	struct stat st;

	/* O_EXCL|O_NOFOLLOW: a file or symlink that appeared since the
	 * check is never opened, so nothing of anyone else's is written. */
	f->fd = openat(f->dir_fd, f->name,
		       O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
			   O_NOCTTY | O_CLOEXEC,
		       0666);
	if (f->fd < 0) {
		int r = negerrno();

		reply_set(reply,
			  r == -EEXIST ? GRPC_STATUS_INVALID_ARGUMENT
				       : GRPC_STATUS_INTERNAL,
			  "%s \"%s\": %s", f->field, f->path, strerror(-r));
		return r;
	}
	f->created = true;
	if (fstat(f->fd, &st) == 0) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	return 0;
}

/* Remove a file we created for a command that never started, if the
 * name still refers to it (and so to nothing anyone else made). */
static void out_file_discard(struct out_file *f)
{
	struct stat st;

	if (!f->created || f->dir_fd < 0)
		return;
	if (fstatat(f->dir_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == f->dev && st.st_ino == f->ino)
		(void)unlinkat(f->dir_fd, f->name, 0);
	f->created = false;
}

/* ------------------------------------------------------- directories */

/* Open a directory of the request beneath the build directory, without
 * following symlinks (O_PATH: to look at, never to read). */
static int open_directory(int build_fd, const char *field, const char *path,
			  struct reply *reply)
{
	int fd = path_open_beneath(build_fd, path, O_PATH | O_DIRECTORY);

	if (fd >= 0)
		return fd;
	reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT, "%s \"%s\": %s", field,
		  path,
		  fd == -ELOOP   ? "a symlink on the way, not followed"
		  : fd == -EXDEV ? "leads out of the build directory"
				 : strerror(-fd));
	return fd;
}

/* Chroot mode mounts on these; boxd creates them in the input root when
 * they are missing. */
static const char *const chroot_mount_points[] = {"proc", "dev", "tmp"};

/*
 * A command that never started must leave the input root as it was: the
 * mount points the sandbox's setup created are removed again. rmdir
 * only removes an empty directory, relative to the input root's fd, so
 * nothing the worker put there (a file, a populated tree) can go.
 */
static void remove_created_mount_points(int root_fd, const bool *existed)
{
	for (size_t i = 0; i < ELEMENTSOF(chroot_mount_points); i++)
		if (!existed[i])
			(void)unlinkat(root_fd, chroot_mount_points[i],
				       AT_REMOVEDIR);
}

/* -------------------------------------------------------------- spec */

static int spec_environment(box_spec *s, const struct action *a, bool tmpdir)
{
	int r;

	for (size_t i = 0; i < a->n_env; i++) {
		r = box_spec_setenv(s, a->env[i].name, a->env[i].value);
		if (r < 0)
			return r;
	}
	/* boxd starts every environment with a PATH; the command gets
	 * exactly the request's, so without one there is none. */
	if (!a->env_has_path) {
		r = box_spec_unsetenv(s, "PATH");
		if (r < 0)
			return r;
	}
	if (tmpdir && !a->env_has_tmpdir) {
		r = box_spec_setenv(s, "TMPDIR", "/tmp");
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The sandbox of one action. Host paths handed to boxd are built from
 * the canonical build directory and the normalised, checked relative
 * paths: boxd opens them again with the runner's credentials and
 * without magic links. Between the check and boxd's open only the
 * worker (which owns the build directory and creates these directories)
 * could swap a component, and it is trusted: actions can only write
 * inside their own input root and temporary directory, below the
 * components named here.
 */
static int build_spec(const struct execute_config *cfg, const struct action *a,
		      box_spec **ret_spec)
{
	_cleanup_(box_spec_freep) box_spec *s = NULL;
	_cleanup_free_ char *root = NULL, *tmp = NULL, *cwd = NULL;
	char tag[256];
	int r;

	r = box_spec_new(&s);
	if (r < 0)
		return r;
	r = box_spec_set_argv(s, (const char *const *)a->argv);
	if (r < 0)
		return r;
	r = path_join(cfg->build_path, a->input_root, &root);
	if (r < 0)
		return r;

	switch (cfg->mode) {
	case EXECUTE_WORKSPACE:
		/* The default profile: the host's system read-only, fresh
		 * tmpfs on /tmp, /run, /var, proc, a minimal /dev. The
		 * input root read-write, so outputs land where the worker
		 * collects them; the worker's temporary directory on /tmp
		 * (it empties it after the action). */
		r = box_spec_bind(s, root, cfg->workspace_path);
		if (r < 0)
			return r;
		if (a->temporary_dir) {
			r = path_join(cfg->build_path, a->temporary_dir, &tmp);
			if (r < 0)
				return r;
			r = box_spec_bind(s, tmp, "/tmp");
			if (r < 0)
				return r;
		}
		r = path_join(cfg->workspace_path, a->working_directory, &cwd);
		if (r < 0)
			return r;
		r = spec_environment(s, a, true);
		break;
	case EXECUTE_CHROOT:
		/* An empty root replaced by the input root (a bind onto /
		 * as the first mount is the sandbox's root), then what a
		 * chroot lacks. Mount points missing from the input root
		 * are created in it, as the runner's user. */
		r = box_spec_set_profile(s, BOX_PROFILE_BARE);
		if (r >= 0)
			r = box_spec_bind(s, root, "/");
		if (r >= 0)
			r = box_spec_proc(s, "/proc");
		if (r >= 0)
			r = box_spec_dev(s, "/dev");
		if (r >= 0)
			r = box_spec_tmpfs(s, "/tmp", 0, 01777);
		if (r < 0)
			return r;
		r = path_join("/", a->working_directory, &cwd);
		if (r < 0)
			return r;
		r = spec_environment(s, a, false);
		break;
	}
	if (r < 0)
		return r;
	r = box_spec_set_cwd(s, cwd);
	if (r < 0)
		return r;

	if (cfg->memory_bytes &&
	    (r = box_spec_set_memory(s, cfg->memory_bytes)) < 0)
		return r;
	if (cfg->cpu_millis &&
	    (r = box_spec_set_cpu_millis(s, cfg->cpu_millis)) < 0)
		return r;
	if (cfg->pids && (r = box_spec_set_pids(s, cfg->pids)) < 0)
		return r;
	r = box_spec_set_net(s, cfg->net);
	if (r < 0)
		return r;
	r = box_spec_set_lenient(s, cfg->lenient);
	if (r < 0)
		return r;
	/* For boxctl ps: which action this is. */
	snprintf(tag, sizeof(tag), "buildbarn %.200s", a->input_root);
	(void)box_spec_set_tag(s, tag);
	*ret_spec = TAKE_PTR(s);
	return 0;
}

/* -------------------------------------------------------------- wait */

/*
 * Wait for the run's record. A cancelled call (deadline, client gone,
 * shutdown) kills the run with SIGKILL: boxd then kills the sandbox's
 * pid 1, which takes down every process in its pid namespace, and its
 * cgroup, so daemonised grandchildren die too. Returns 1 if it gave up
 * waiting after a kill, 0 when the record is there, -errno.
 */
static int wait_run(const struct execute_config *cfg, box_client *c,
		    box_run *run, struct cancel *cancel)
{
	struct pollfd pfd[2] = {
	    {.fd = box_client_fd(c), .events = POLLIN},
	    {.fd = cancel_fd(cancel), .events = POLLIN},
	};
	uint64_t give_up = 0;

	for (;;) {
		int timeout = -1, n, st;

		st = box_run_dispatch(run);
		if (st < 0)
			return st;
		if (st == BOX_RUN_FINISHED)
			return 0;
		if (give_up) {
			uint64_t now = now_ns();

			if (now >= give_up)
				return 1;
			timeout = (int)((give_up - now) / 1000000ULL) + 1;
		}
		n = poll(pfd, 2, timeout);
		if (n < 0 && errno != EINTR)
			return negerrno();
		if (n > 0 && (pfd[1].revents & POLLIN)) {
			int r = box_run_kill_async(run, SIGKILL);

			/* Stop watching the token (it stays readable). */
			pfd[1].fd = -1;
			give_up = now_ns() + cfg->kill_wait_ns;
			if (r < 0)
				return r;
		}
	}
}

static void reply_box_error(const box_error *e, const struct action *a,
			    struct reply *reply)
{
	const char *step = box_error_step(e);
	const char *msg = box_error_message(e);

	switch (box_error_code(e)) {
	case BOX_ERROR_EXEC_FAILED:
		reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT,
			  "Failed to start process: %s", msg);
		return;
	case BOX_ERROR_SETUP_FAILED:
		/* The working directory is checked where it is used: by
		 * the sandbox's chdir, inside the sandbox. */
		if (step && strcmp(step, "chdir") == 0) {
			reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT,
				  "working_directory \"%s\": %s",
				  a->working_directory,
				  strerror(box_error_errno(e)));
			return;
		}
		reply_set(reply, GRPC_STATUS_INTERNAL,
			  "boxd could not build the sandbox: %s", msg);
		return;
	case BOX_ERROR_BAD_REQUEST:
		reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT,
			  "boxd refused the run: %s", msg);
		return;
	case BOX_ERROR_DENIED:
	case BOX_ERROR_UNSUPPORTED:
		reply_set(reply, GRPC_STATUS_FAILED_PRECONDITION,
			  "boxd refused the run: %s", msg);
		return;
	case BOX_ERROR_BUSY:
	case BOX_ERROR_PROTOCOL:
	case BOX_ERROR_CLIENT:
		reply_set(reply, GRPC_STATUS_UNAVAILABLE, "boxd: %s", msg);
		return;
	case BOX_ERROR_INTERNAL:
	case BOX_ERROR_NOT_FOUND:
		break;
	}
	reply_set(reply, GRPC_STATUS_INTERNAL, "boxd: %s", msg);
}

/* ---------------------------------------------------------------- run */

void execute_run(const struct execute_config *cfg, const struct action *a,
		 struct cancel *cancel, struct reply *reply)
{
	_cleanup_(box_client_freep) box_client *c = NULL;
	_cleanup_(box_spec_freep) box_spec *spec = NULL;
	_cleanup_(box_run_freep) box_run *run = NULL;
	struct out_file out[2] = {
	    {.field = "stdout_path",
	     .path = a->stdout_path,
	     .dir_fd = -1,
	     .fd = -1},
	    {.field = "stderr_path",
	     .path = a->stderr_path,
	     .dir_fd = -1,
	     .fd = -1},
	};
	_cleanup_close_ int root_fd = -1, tmp_fd = -1;
	bool existed[ELEMENTSOF(chroot_mount_points)];
	const box_result *result;
	bool started = false;
	struct stat st;
	int r;

	/* 1. Everything the request names must be there: checked before
	 * anything is created, so a bad request changes nothing. */
	root_fd = open_directory(cfg->build_fd, "input_root_directory",
				 a->input_root, reply);
	if (root_fd < 0)
		goto done;
	if (cfg->mode == EXECUTE_WORKSPACE && a->temporary_dir) {
		tmp_fd = open_directory(cfg->build_fd, "temporary_directory",
					a->temporary_dir, reply);
		if (tmp_fd < 0)
			goto done;
	}
	for (size_t i = 0; i < ELEMENTSOF(chroot_mount_points); i++)
		existed[i] = cfg->mode != EXECUTE_CHROOT ||
			     fstatat(root_fd, chroot_mount_points[i], &st,
				     AT_SYMLINK_NOFOLLOW) == 0;
	for (size_t i = 0; i < ELEMENTSOF(out); i++)
		if (out_file_prepare(cfg->build_fd, &out[i], reply) < 0)
			goto done;
	r = build_spec(cfg, a, &spec);
	if (r < 0) {
		reply_set(reply,
			  r == -ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED
				       : GRPC_STATUS_INVALID_ARGUMENT,
			  "the request cannot be expressed as a boxd run: %s",
			  strerror(-r));
		goto done;
	}

	/* 2. boxd must answer before any file is made: an unreachable boxd
	 * (UNAVAILABLE, the worker retries elsewhere) changes nothing. */
	r = boxd_connect(cfg, cancel, &c);
	if (r < 0) {
		reply_connect_error(cfg, r, reply);
		goto done;
	}

	/* 3. The output files, then the run. The sandbox writes straight
	 * into them through the fds; ours are closed once sent. */
	for (size_t i = 0; i < ELEMENTSOF(out); i++)
		if (out_file_create(&out[i], reply) < 0)
			goto discard;
	r = box_run_start(c, spec, -1, out[0].fd, out[1].fd, &run);
	out[0].fd = safe_close(out[0].fd);
	out[1].fd = safe_close(out[1].fd);
	if (r == -EMSGSIZE) {
		reply_set(reply, GRPC_STATUS_INVALID_ARGUMENT,
			  "arguments and environment are too large for one "
			  "boxd request");
		goto discard;
	}
	if (r < 0) {
		reply_set(reply, GRPC_STATUS_UNAVAILABLE,
			  "could not send the run to boxd: %s", strerror(-r));
		goto discard;
	}

	r = wait_run(cfg, c, run, cancel);
	started = box_run_pid(run) >= 0;
	if (cancel_fired(cancel)) {
		reply_set(reply, GRPC_STATUS_CANCELLED,
			  "cancelled: the action was killed");
		if (started)
			goto done;
		goto discard;
	}
	if (r < 0) {
		reply_set(reply, GRPC_STATUS_UNAVAILABLE,
			  "lost boxd while waiting for the run: %s",
			  strerror(-r));
		if (started)
			goto done;
		goto discard;
	}

	result = box_run_result(run);
	if (!result) {
		reply_box_error(box_run_error(run), a, reply);
		/* An error record means the command never ran, unless the
		 * connection broke after it had started. */
		if (started)
			goto done;
		goto discard;
	}
	r = usage_response(result, &reply->body, &reply->body_len);
	if (r < 0)
		reply_set(reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			  "out of memory");
	else
		reply_set(reply, GRPC_STATUS_OK, "%s", "");
	goto done;

discard:
	for (size_t i = 0; i < ELEMENTSOF(out); i++)
		out_file_discard(&out[i]);
	remove_created_mount_points(root_fd, existed);
done:
	for (size_t i = 0; i < ELEMENTSOF(out); i++)
		out_file_done(&out[i]);
}

/* --------------------------------------------------------- readiness */

static const char *missing_limit(const struct execute_config *cfg,
				 const box_host_info *h)
{
	if (cfg->memory_bytes && !box_host_can_limit(h, "memory"))
		return "--memory";
	if (cfg->cpu_millis && !box_host_can_limit(h, "cpus"))
		return "--cpus";
	if (cfg->pids && !box_host_can_limit(h, "pids"))
		return "--pids";
	return NULL;
}

static bool host_offers_net(const box_host_info *h, enum box_net net)
{
	static const char *const names[] = {
	    [BOX_NET_NONE] = "none",
	    [BOX_NET_LOOPBACK] = "loopback",
	    [BOX_NET_HOST] = "host",
	};

	for (const char *const *n = box_host_nets(h); *n; n++)
		if ((size_t)net < ELEMENTSOF(names) && names[net] &&
		    strcmp(*n, names[net]) == 0)
			return true;
	return false;
}

void execute_check_readiness(const struct execute_config *cfg, const char *path,
			     struct cancel *cancel, struct reply *reply)
{
	_cleanup_(box_client_freep) box_client *c = NULL;
	const box_host_info *h;
	const char *missing;
	int fd, r;

	/* The worker creates path in the build directory it shares with
	 * the runner: not seeing it means the two disagree on what that
	 * directory is (a different mount, a different host). */
	fd = path_open_beneath(cfg->build_fd, path, O_PATH);
	if (fd < 0) {
		reply_set(reply, GRPC_STATUS_FAILED_PRECONDITION,
			  "path \"%s\" in build directory %s: %s", path,
			  cfg->build_path, strerror(-fd));
		return;
	}
	close(fd);

	r = boxd_connect(cfg, cancel, &c);
	if (r < 0) {
		reply_connect_error(cfg, r, reply);
		return;
	}
	h = box_client_host(c);
	if (!h) {
		reply_set(reply, GRPC_STATUS_UNAVAILABLE,
			  "boxd did not say what this host can enforce");
		return;
	}
	/* Nothing silently degrades: a limit the runner was configured
	 * with but boxd cannot enforce here would fail every action. */
	missing = cfg->lenient ? NULL : missing_limit(cfg, h);
	if (missing) {
		reply_set(reply, GRPC_STATUS_FAILED_PRECONDITION,
			  "boxd cannot enforce %s on this host (cgroup mode "
			  "%s); start the runner without it or with --lenient",
			  missing,
			  box_host_cgroup_mode(h) ? box_host_cgroup_mode(h)
						  : "unknown");
		return;
	}
	if (!host_offers_net(h, cfg->net)) {
		reply_set(reply, GRPC_STATUS_FAILED_PRECONDITION,
			  "boxd's policy does not give this runner's user the "
			  "configured network mode");
		return;
	}
	reply_set(reply, GRPC_STATUS_OK, "%s", "");
}
