/*
 * boxd-bb-runner: options, the build directory, signals, sd_notify, and
 * the gRPC server that serves Buildbarn's runner protocol. Each Run call
 * becomes one boxd run (service.c, execute.c).
 *
 * This file only wires things together; it may exit on startup errors,
 * never afterwards. boxd itself stays free of gRPC: this is a separate
 * program, a client of boxd like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grpc/grpc.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config-build.h"
#include "log.h"
#include "parse.h"
#include "path.h"
#include "server.h"
#include "service.h"

#define DEFAULT_WORKSPACE_PATH "/build"
#define DEFAULT_MAX_CALLS 64
/* A request carries argv and environment: Linux takes about 2 MiB of
 * both per execve, boxd 4 MiB per frame. */
#define MAX_MESSAGE (4u << 20)

struct options {
	const char *listen;
	const char *build_directory;
	const char *boxd_socket;
	enum execute_mode mode;
	const char *workspace_path;
	uint64_t memory_bytes;
	uint32_t cpu_millis;
	uint32_t pids;
	enum box_net net;
	bool lenient;
	unsigned socket_mode;
	unsigned max_calls;
	uint64_t kill_wait_ns;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: boxd-bb-runner --listen PATH --build-directory DIR "
	    "[OPTIONS]\n"
	    "\n"
	    "Serve Buildbarn's runner protocol (buildbarn.runner.Runner) "
	    "on a UNIX\n"
	    "socket and run every action in a boxd sandbox.\n"
	    "\n"
	    "  -l, --listen PATH          socket to serve bb_worker on "
	    "(required;\n"
	    "                             unix://PATH is accepted too)\n"
	    "  -b, --build-directory DIR  the build directory shared with "
	    "bb_worker\n"
	    "                             (required)\n"
	    "      --boxd-socket PATH     boxd's socket (default "
	    "$BOXD_SOCKET, else\n"
	    "                             %s)\n"
	    "      --mode MODE            workspace (default): the host's "
	    "system\n"
	    "                             read-only, the input root at "
	    "--workspace-path;\n"
	    "                             chroot: the input root as /\n"
	    "      --workspace-path PATH  where the input root appears in "
	    "workspace\n"
	    "                             mode (default %s)\n"
	    "      --memory SIZE          memory limit of each action "
	    "(e.g. 4G)\n"
	    "      --cpus N               CPU limit of each action "
	    "(e.g. 1.5)\n"
	    "      --pids N               processes and threads of each "
	    "action\n"
	    "      --net MODE             none (default), loopback or "
	    "host\n"
	    "      --lenient              run actions even where boxd "
	    "cannot enforce\n"
	    "                             a limit (noted in the resource "
	    "usage)\n"
	    "      --socket-mode MODE     permissions of the socket "
	    "(default 0660)\n"
	    "      --max-calls N          calls served at once (default "
	    "%d)\n"
	    "      --kill-wait DURATION   after killing a cancelled action, "
	    "how long to\n"
	    "                             wait for boxd to confirm before "
	    "dropping\n"
	    "                             the connection (default 10s)\n"
	    "  -v, --verbose              log every action\n"
	    "  -h, --help                 this text\n"
	    "      --version              print the version\n",
	    box_socket_path(NULL), DEFAULT_WORKSPACE_PATH, DEFAULT_MAX_CALLS);
}

enum {
	OPT_BOXD_SOCKET = 256,
	OPT_MODE,
	OPT_WORKSPACE_PATH,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_PIDS,
	OPT_NET,
	OPT_LENIENT,
	OPT_SOCKET_MODE,
	OPT_MAX_CALLS,
	OPT_KILL_WAIT,
	OPT_VERSION,
};

static _noreturn_ void bad_option(const char *what, const char *value)
{
	fprintf(stderr, "boxd-bb-runner: invalid %s: %s\n", what, value);
	exit(2);
}

/* An absolute sandbox path without "." or "..", not "/", and clear of
 * the places the sandbox's own mounts go (/tmp, /proc, /dev). */
static bool workspace_path_ok(const char *p)
{
	static const char *const reserved[] = {"/tmp", "/proc", "/dev"};
	char *norm = NULL;
	bool ok;

	if (p[0] != '/' || !p[1] || path_normalize(p + 1, &norm) < 0)
		return false;
	ok = strcmp(norm, p + 1) == 0;
	free(norm);
	for (size_t i = 0; ok && i < ELEMENTSOF(reserved); i++) {
		size_t n = strlen(reserved[i]);

		if (strncmp(p, reserved[i], n) == 0 &&
		    (p[n] == 0 || p[n] == '/'))
			ok = false;
	}
	return ok;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"build-directory", required_argument, NULL, 'b'},
	    {"boxd-socket", required_argument, NULL, OPT_BOXD_SOCKET},
	    {"mode", required_argument, NULL, OPT_MODE},
	    {"workspace-path", required_argument, NULL, OPT_WORKSPACE_PATH},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"pids", required_argument, NULL, OPT_PIDS},
	    {"net", required_argument, NULL, OPT_NET},
	    {"lenient", no_argument, NULL, OPT_LENIENT},
	    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
	    {"max-calls", required_argument, NULL, OPT_MAX_CALLS},
	    {"kill-wait", required_argument, NULL, OPT_KILL_WAIT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	uint32_t n;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "l:b:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			/* The worker's spelling of the same socket. */
			if (strncmp(optarg, "unix://", 7) == 0)
				optarg += 7;
			else if (strncmp(optarg, "unix:", 5) == 0)
				optarg += 5;
			if (optarg[0] != '/')
				bad_option("--listen (an absolute path)",
					   optarg);
			o->listen = optarg;
			break;
		case 'b':
			o->build_directory = optarg;
			break;
		case OPT_BOXD_SOCKET:
			o->boxd_socket = optarg;
			break;
		case OPT_MODE:
			if (execute_mode_from_string(optarg, &o->mode) < 0)
				bad_option("--mode (workspace or chroot)",
					   optarg);
			break;
		case OPT_WORKSPACE_PATH:
			if (!workspace_path_ok(optarg))
				bad_option("--workspace-path (absolute, "
					   "normalised, not /, /tmp, /proc "
					   "or /dev)",
					   optarg);
			o->workspace_path = optarg;
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &o->memory_bytes) < 0 ||
			    !o->memory_bytes)
				bad_option("--memory", optarg);
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, &o->cpu_millis) < 0 ||
			    !o->cpu_millis)
				bad_option("--cpus", optarg);
			break;
		case OPT_PIDS:
			if (parse_uint32(optarg, &o->pids) < 0 || !o->pids)
				bad_option("--pids", optarg);
			break;
		case OPT_NET:
			if (strcmp(optarg, "none") == 0)
				o->net = BOX_NET_NONE;
			else if (strcmp(optarg, "loopback") == 0)
				o->net = BOX_NET_LOOPBACK;
			else if (strcmp(optarg, "host") == 0)
				o->net = BOX_NET_HOST;
			else
				bad_option("--net (none, loopback or host)",
					   optarg);
			break;
		case OPT_LENIENT:
			o->lenient = true;
			break;
		case OPT_SOCKET_MODE:
			errno = 0;
			o->socket_mode = (unsigned)strtoul(optarg, &end, 8);
			if (errno || !*optarg || *end || o->socket_mode > 0777)
				bad_option("--socket-mode", optarg);
			break;
		case OPT_MAX_CALLS:
			if (parse_uint32(optarg, &n) < 0 || n == 0 || n > 65536)
				bad_option("--max-calls (1 to 65536)", optarg);
			o->max_calls = n;
			break;
		case OPT_KILL_WAIT:
			if (parse_duration(optarg, &o->kill_wait_ns) < 0 ||
			    !o->kill_wait_ns ||
			    o->kill_wait_ns > 24ULL * 3600 * 1000000000ULL)
				bad_option("--kill-wait (up to 24h)", optarg);
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("boxd-bb-runner %s\n", BOXD_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc || !o->listen || !o->build_directory) {
		usage(stderr);
		exit(2);
	}
}

/* Waits for SIGTERM or SIGINT (blocked in every thread) and stops the
 * server; gRPC's and the handlers' threads never see a signal. */
static void *signal_thread(void *arg)
{
	struct server *s = arg;
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		/* SIGHUP: nothing to reload. */
	}
	log_notice("signal %d: stopping, cancelling the calls in flight", sig);
	(void)sd_notify(0, "STOPPING=1");
	server_stop(s);
	return NULL;
}

/* Once at startup: tell the operator whether boxd answers and can
 * enforce the configured limits (CheckReadiness asks the same). */
static void probe_boxd(const struct service *svc)
{
	struct reply reply = {.code = GRPC_STATUS_OK};
	struct cancel *cancel = NULL;

	if (cancel_new(&cancel) < 0)
		return;
	execute_check_readiness(&svc->exec, "", cancel, &reply);
	if (reply.code != GRPC_STATUS_OK)
		log_warning("not ready yet: %s", reply.message);
	reply_clear(&reply);
	cancel_free(cancel);
}

int main(int argc, char **argv)
{
	struct options o = {
	    .mode = EXECUTE_WORKSPACE,
	    .workspace_path = DEFAULT_WORKSPACE_PATH,
	    .net = BOX_NET_NONE,
	    .socket_mode = 0660,
	    .max_calls = DEFAULT_MAX_CALLS,
	    .kill_wait_ns = 10ULL * 1000000000ULL,
	};
	struct service svc;
	struct server_config scfg;
	struct server *server = NULL;
	char build_path[PATH_MAX];
	pthread_t sig_thread;
	sigset_t set;
	int build_fd, r;

	parse_options(argc, argv, &o);

	/* The canonical path is what boxd gets for binds; the fd is what
	 * every path of a request is resolved beneath. */
	if (!realpath(o.build_directory, build_path)) {
		log_errno(LOG_ERR, errno, "build directory %s",
			  o.build_directory);
		return 1;
	}
	build_fd = open(build_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (build_fd < 0) {
		log_errno(LOG_ERR, errno, "build directory %s", build_path);
		return 1;
	}
	if (faccessat(build_fd, ".", W_OK | X_OK, AT_EACCESS) < 0)
		log_warning("build directory %s is not writable by this "
			    "user: output files cannot be created",
			    build_path);

	/* Before any thread exists, so that every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	svc.exec = (struct execute_config){
	    .boxd_socket = o.boxd_socket,
	    .build_fd = build_fd,
	    .build_path = build_path,
	    .mode = o.mode,
	    .workspace_path = o.workspace_path,
	    .memory_bytes = o.memory_bytes,
	    .cpu_millis = o.cpu_millis,
	    .pids = o.pids,
	    .net = o.net,
	    .lenient = o.lenient,
	    .kill_wait_ns = o.kill_wait_ns,
	};
	scfg = (struct server_config){
	    .socket_path = o.listen,
	    .socket_mode = o.socket_mode,
	    .methods = service_methods,
	    .n_methods = service_n_methods,
	    .userdata = &svc,
	    .max_calls = o.max_calls,
	    .max_message = MAX_MESSAGE,
	};

	grpc_init();
	r = server_new(&scfg, &server);
	if (r < 0) {
		grpc_shutdown();
		return 1;
	}
	r = pthread_create(&sig_thread, NULL, signal_thread, server);
	if (r != 0) {
		log_errno(LOG_ERR, r, "signal thread");
		server_stop(server);
		server_run(server);
		server_free(server);
		grpc_shutdown();
		return 1;
	}
	log_notice("boxd-bb-runner %s: serving %s, build directory %s, %s "
		   "mode, boxd at %s",
		   BOXD_VERSION, o.listen, build_path,
		   execute_mode_to_string(o.mode),
		   box_socket_path(o.boxd_socket));
	probe_boxd(&svc);
	(void)sd_notify(0, "READY=1");

	server_run(server);
	pthread_join(sig_thread, NULL);
	server_free(server);
	grpc_shutdown();
	close(build_fd);
	log_notice("stopped");
	return 0;
}
