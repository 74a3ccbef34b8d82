/*
 * boxd: options, config, the listening socket, cgroups, the engine, the
 * event loop, sd_notify, and teardown. Everything that decides anything
 * lives in the layers below; this file only wires them together. It may
 * exit on startup errors, never afterwards.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cgroup.h"
#include "config-build.h"
#include "config.h"
#include "engine.h"
#include "hostcheck.h"
#include "log.h"
#include "parse.h"
#include "profile.h"
#include "server.h"

struct options {
	const char *socket_path;
	bool socket_explicit;
	const char *config_path;
	bool config_explicit;
	const char *state_dir;
	const char *init_path;
	const char *pasta_path;
	const char *cgroup_root;
	enum cgroup_mode cgroup_mode;
	unsigned socket_mode;
	bool check_config;
	bool check_environment;
	int pool_size; /* -1: from the config */
	int pool_low;
	int pool_wait_ms;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: boxd [OPTIONS]\n"
	    "\n"
	    "Run commands in sandboxes for clients on a UNIX socket.\n"
	    "\n"
	    "  -s, --socket PATH        listen on PATH (default %s, or the\n"
	    "                           socket systemd passes)\n"
	    "      --socket-mode MODE   permissions of a socket boxd creates\n"
	    "                           (default 0666: tenant policy decides)\n"
	    "  -c, --config PATH        configuration (default %s)\n"
	    "      --check-config       validate the configuration and exit\n"
	    "      --check-environment  report the kernel features boxd uses\n"
	    "                           and exit non-zero if isolation lacks one\n"
	    "      --state-dir DIR      runtime state (default /run/boxd)\n"
	    "      --init PATH          boxd-init binary (default: next to boxd,\n"
	    "                           else %s/boxd-init)\n"
	    "      --pasta PATH         pasta, for --net outbound runs\n"
	    "                           (default /usr/bin/pasta)\n"
	    "      --cgroup-root PATH   delegated cgroup (v2) or name under each\n"
	    "                           v1 controller (default: own cgroup / boxd)\n"
	    "      --cgroup-mode MODE   auto, v2 or v1 (default auto)\n"
	    "      --no-cgroups         run without cgroups; limits are refused\n"
	    "      --pool-size N        pre-warmed sandboxes to keep (0: none;\n"
	    "                           default from the config, else 8)\n"
	    "      --pool-low N         refill when fewer are left (default from\n"
	    "                           the config, else 3/4 of the pool size)\n"
	    "      --pool-wait-ms MS    how long a run waits for a member on its\n"
	    "                           way before starting cold (default from\n"
	    "                           the config, else 4; 0: never waits)\n"
	    "  -v, --verbose            log debug messages\n"
	    "  -h, --help               this text\n"
	    "      --version            print the version\n",
	    BOXD_DEFAULT_SOCKET, BOXD_DEFAULT_CONFIG, BOXD_LIBEXECDIR);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_CHECK_CONFIG = 256,
		OPT_CHECK_ENV,
		OPT_STATE_DIR,
		OPT_INIT,
		OPT_PASTA,
		OPT_CGROUP_ROOT,
		OPT_CGROUP_MODE,
		OPT_NO_CGROUPS,
		OPT_SOCKET_MODE,
		OPT_VERSION,
		OPT_POOL_SIZE,
		OPT_POOL_LOW,
		OPT_POOL_WAIT,
	};
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
	    {"check-environment", no_argument, NULL, OPT_CHECK_ENV},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"init", required_argument, NULL, OPT_INIT},
	    {"pasta", required_argument, NULL, OPT_PASTA},
	    {"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
	    {"cgroup-mode", required_argument, NULL, OPT_CGROUP_MODE},
	    {"no-cgroups", no_argument, NULL, OPT_NO_CGROUPS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"pool-size", required_argument, NULL, OPT_POOL_SIZE},
	    {"pool-low", required_argument, NULL, OPT_POOL_LOW},
	    {"pool-wait-ms", required_argument, NULL, OPT_POOL_WAIT},
	    {0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			o->socket_explicit = true;
			break;
		case OPT_SOCKET_MODE: {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (*end || m > 0777) {
				fprintf(stderr, "boxd: bad --socket-mode %s\n",
					optarg);
				return -EINVAL;
			}
			o->socket_mode = (unsigned)m;
			break;
		}
		case 'c':
			o->config_path = optarg;
			o->config_explicit = true;
			break;
		case OPT_CHECK_CONFIG:
			o->check_config = true;
			break;
		case OPT_CHECK_ENV:
			o->check_environment = true;
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_INIT:
			o->init_path = optarg;
			break;
		case OPT_PASTA:
			o->pasta_path = optarg;
			break;
		case OPT_CGROUP_ROOT:
			o->cgroup_root = optarg;
			break;
		case OPT_CGROUP_MODE:
			if (strcmp(optarg, "auto") == 0)
				o->cgroup_mode = CGROUP_MODE_AUTO;
			else if (strcmp(optarg, "v2") == 0)
				o->cgroup_mode = CGROUP_MODE_V2;
			else if (strcmp(optarg, "v1") == 0)
				o->cgroup_mode = CGROUP_MODE_V1;
			else {
				fprintf(
				    stderr,
				    "boxd: --cgroup-mode: auto, v2 or v1\n");
				return -EINVAL;
			}
			break;
		case OPT_NO_CGROUPS:
			o->cgroup_mode = CGROUP_MODE_NONE;
			break;
		case OPT_POOL_SIZE:
		case OPT_POOL_LOW: {
			uint32_t v;

			if (parse_uint32(optarg, &v) < 0 || v > 1024) {
				fprintf(stderr,
					"boxd: --%s: a number from 0 to "
					"1024\n",
					c == OPT_POOL_SIZE ? "pool-size"
							   : "pool-low");
				return -EINVAL;
			}
			if (c == OPT_POOL_SIZE)
				o->pool_size = (int)v;
			else
				o->pool_low = (int)v;
			break;
		}
		case OPT_POOL_WAIT: {
			uint32_t v;

			if (parse_uint32(optarg, &v) < 0 ||
			    v > POOL_WAIT_MS_MAX) {
				fprintf(stderr,
					"boxd: --pool-wait-ms: a number from 0 "
					"to %u\n",
					POOL_WAIT_MS_MAX);
				return -EINVAL;
			}
			o->pool_wait_ms = (int)v;
			break;
		}
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("boxd %s\n", BOXD_VERSION);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "boxd: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int load_config(const struct options *o, struct config **ret)
{
	struct error_detail err;
	int r;

	if (!o->config_explicit && access(o->config_path, F_OK) < 0)
		return config_new_default(ret);
	r = config_load(o->config_path, &err, ret);
	if (r < 0)
		log_error("%s", err.message);
	return r;
}

/* A socket file left by a daemon that died is replaced; a live one is
 * not stolen. The socket is bound but not yet listening: main() calls
 * listen() once everything that can fail at start-up has succeeded, so
 * that a client (or a test) that can connect finds a daemon that serves,
 * never one about to exit. */
static int listen_on(const char *path, unsigned mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_errno(LOG_ERR, -ENAMETOOLONG, "socket path %s",
				 path);
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return log_errno(LOG_ERR, -errno, "mkdir %s", dir);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		log_error("%s: another daemon is listening there", path);
		return -EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, mode) < 0) {
		int r = -errno;
		close(fd);
		return log_errno(LOG_ERR, r, "bind %s", path);
	}
	return fd;
}

static int get_listen_fd(const struct options *o, bool *ret_created)
{
	int n = sd_listen_fds(1);

	*ret_created = false;
	if (n > 1) {
		log_error("systemd passed %d sockets, expected one", n);
		return -EINVAL;
	}
	if (n == 1 && !o->socket_explicit) {
		int fd = SD_LISTEN_FDS_START;

		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_error(
			    "the socket systemd passed is not a listening "
			    "UNIX stream socket");
			return -EINVAL;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	*ret_created = true;
	return listen_on(o->socket_path, o->socket_mode);
}

/* The daemon must outlive anything a run does: it is never the OOM
 * killer's choice (sandboxes reset this to 0 for themselves). */
static void protect_self(void)
{
	struct rlimit rl;
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "-1000", 5) != 5)
			log_warning("cannot set oom_score_adj: %m");
		close(fd);
	}
	/* One fd per connection, several per run: use what we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct loop_ctx {
	struct server *srv;
	struct engine *engine;
	const struct options *opt;
};

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct loop_ctx *ctx = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	sd_notify(0, "STOPPING=1");
	server_shutdown(ctx->srv);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct loop_ctx *ctx = arg;
	struct config *cfg = NULL;

	(void)sig;
	(void)what;
	sd_notify(0, "RELOADING=1");
	if (load_config(ctx->opt, &cfg) < 0) {
		log_error("reload: new configuration rejected, keeping the old "
			  "one");
	} else {
		server_set_config(ctx->srv, cfg);
		log_info("reload: configuration %s applied",
			 ctx->opt->config_path);
	}
	sd_notify(0, "READY=1");
}

/* WatchdogSec= in the unit: a ping every half interval from the loop
 * itself, so a loop that stops turning (a handler stuck in the kernel, a
 * deadlock) gets the service killed and restarted. */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

static void on_child(evutil_socket_t sig, short what, void *arg)
{
	struct loop_ctx *ctx = arg;

	(void)sig;
	(void)what;
	engine_reap(ctx->engine);
}

int main(int argc, char **argv)
{
	struct options opt = {
	    .config_path = BOXD_DEFAULT_CONFIG,
	    .state_dir = "/run/boxd",
	    .socket_mode = 0666,
	    .pool_size = -1,
	    .pool_low = -1,
	    .pool_wait_ms = -1,
	};
	struct cgroup_config cgcfg = {0};
	struct cgroup_manager *cg = NULL;
	struct engine *engine = NULL;
	struct server *srv = NULL;
	struct event_base *base = NULL;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL,
		     *ev_chld = NULL, *ev_watchdog = NULL;
	struct config *cfg = NULL;
	struct loop_ctx ctx = {.opt = &opt};
	struct hostcheck_features host = {0};
	struct error_detail err;
	bool created = false;
	uint64_t watchdog_usec = 0;
	int lfd = -1, ret = EXIT_FAILURE;

	if (parse_options(argc, argv, &opt) < 0)
		return 2;

	if (load_config(&opt, &cfg) < 0)
		return EXIT_FAILURE;
	if (opt.check_config) {
		printf("%s: ok (%zu tenant sections)\n",
		       opt.config_explicit || access(opt.config_path, F_OK) == 0
			   ? opt.config_path
			   : "built-in defaults",
		       cfg->n_tenants);
		config_free(cfg);
		return EXIT_SUCCESS;
	}
	if (opt.check_environment) {
		int missing = hostcheck_report(stdout, opt.cgroup_root);

		config_free(cfg);
		return missing > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}

	if (geteuid() != 0) {
		log_error("boxd must run as root");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	/* Refuse to start rather than run sandboxes weaker than promised. */
	if (hostcheck_probe(opt.cgroup_root, &host) < 0 ||
	    (host.namespaces & HOSTCHECK_NS_REQUIRED) !=
		HOSTCHECK_NS_REQUIRED ||
	    !host.seccomp || !host.pidfd || !host.mount_api) {
		log_error("this kernel lacks features sandboxes depend on; see "
			  "boxd --check-environment");
		goto out;
	}
	/* Supplementary groups would follow pid 1 of every sandbox into its
	 * permission checks on bind sources: drop them. */
	if (setgroups(0, NULL) < 0) {
		log_error("setgroups: %m");
		goto out;
	}
	protect_self();

	cgcfg.mode = opt.cgroup_mode;
	cgcfg.root = opt.cgroup_root;
	if (cgroup_manager_open(&cgcfg, &err, &cg) < 0) {
		log_error("cgroups: %s", err.message);
		log_error("give a delegated cgroup with --cgroup-root, or run "
			  "with --no-cgroups (limits will then be refused)");
		goto out;
	}
	log_info("cgroups: %s at %s (%s)", cgroup_manager_mode_name(cg),
		 cgroup_manager_path(cg) ? cgroup_manager_path(cg) : "-",
		 cgroup_manager_controllers(cg));

	const struct profile *plan = profile_default();
	struct engine_config ecfg = {
	    .init_path = opt.init_path,
	    .pasta_path = opt.pasta_path,
	    .state_dir = opt.state_dir,
	    .cgroups = cg,
	    .tmpfs_default = cfg->tmpfs_default_bytes ? cfg->tmpfs_default_bytes
						      : 256u << 20,
	    .pool_size =
		opt.pool_size >= 0 ? (unsigned)opt.pool_size : cfg->pool_size,
	    .pool_low =
		opt.pool_low >= 0 ? (unsigned)opt.pool_low : cfg->pool_low,
	    .pool_wait_ns =
		1000000ULL * (opt.pool_wait_ms >= 0 ? (unsigned)opt.pool_wait_ms
						    : cfg->pool_wait_ms),
	    /* Pool members build the default profile's tree before their
	     * take; a run that asks for it gets it built. */
	    .plan = plan ? plan->mounts : NULL,
	    .n_plan = plan ? plan->n : 0,
	};
	if (engine_new(&ecfg, &engine, &err) < 0) {
		log_error("engine: %s", err.message);
		goto out;
	}
	ctx.engine = engine;
	if (engine_outbound_missing(engine))
		log_info("outbound network unavailable: %s",
			 engine_outbound_missing(engine));

	/* --socket, else the config's [daemon] socket, else the default. */
	if (!opt.socket_path) {
		/* A copy: a reload frees the config it came from. */
		static char from_config[108];

		snprintf(from_config, sizeof(from_config), "%s",
			 cfg->socket_path && cfg->socket_path[0]
			     ? cfg->socket_path
			     : BOXD_DEFAULT_SOCKET);
		opt.socket_path = from_config;
	}
	lfd = get_listen_fd(&opt, &created);
	if (lfd < 0)
		goto out;

	base = event_base_new();
	if (!base) {
		log_error("cannot create the event loop");
		goto out;
	}
	struct server_options sopt = {
	    .base = base,
	    .engine = engine,
	    .cfg = cfg,
	    .listen_fd = lfd,
	    .host_landlock = host.landlock,
	    .host_overlayfs = host.overlayfs,
	};
	if (server_new(&sopt, &srv) < 0) {
		log_error("cannot start the server");
		goto out;
	}
	cfg = NULL; /* the server owns it */
	ctx.srv = srv;

	ev_term = evsignal_new(base, SIGTERM, on_stop, &ctx);
	ev_int = evsignal_new(base, SIGINT, on_stop, &ctx);
	ev_hup = evsignal_new(base, SIGHUP, on_hup, &ctx);
	ev_chld = evsignal_new(base, SIGCHLD, on_child, &ctx);
	if (!ev_term || !ev_int || !ev_hup || !ev_chld ||
	    evsignal_add(ev_term, NULL) < 0 || evsignal_add(ev_int, NULL) < 0 ||
	    evsignal_add(ev_hup, NULL) < 0 || evsignal_add(ev_chld, NULL) < 0) {
		log_error("cannot install signal handlers");
		goto out;
	}
	/* 1: WATCHDOG_USEC and WATCHDOG_PID are the daemon's, not its
	 * children's. */
	if (sd_watchdog_enabled(1, &watchdog_usec) > 0 && watchdog_usec) {
		struct timeval tv = {
		    .tv_sec = (time_t)(watchdog_usec / 2 / 1000000),
		    .tv_usec = (suseconds_t)(watchdog_usec / 2 % 1000000),
		};

		ev_watchdog =
		    event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
		if (!ev_watchdog || event_add(ev_watchdog, &tv) < 0) {
			log_error("cannot start the watchdog timer");
			goto out;
		}
	}

	if (created && listen(lfd, 1024) < 0) {
		log_error("listen on %s: %m", opt.socket_path);
		goto out;
	}
	log_info("boxd %s ready on %s", BOXD_VERSION,
		 created ? opt.socket_path : "the socket from systemd");
	sd_notifyf(0, "READY=1\nSTATUS=serving, cgroups %s",
		   cgroup_manager_mode_name(cg));

	event_base_dispatch(base);
	ret = EXIT_SUCCESS;
	sd_notify(0, "STOPPING=1");

out:
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (ev_chld)
		event_free(ev_chld);
	if (ev_watchdog)
		event_free(ev_watchdog);
	server_free(srv);
	engine_free(engine);
	cgroup_manager_free(cg);
	config_free(cfg);
	if (base)
		event_base_free(base);
	if (lfd >= 0) {
		close(lfd);
		if (created)
			unlink(opt.socket_path);
	}
	return ret;
}
