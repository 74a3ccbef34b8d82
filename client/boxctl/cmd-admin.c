/*
 * boxctl ps, kill, status and version: one request each, the answer as
 * a table or text for people or as JSON for tools. They only read what
 * the daemon reports; what a caller may see or kill is the daemon's
 * decision, not boxctl's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxctl.h"
#include "config-build.h"
#include "parse.h"
#include "util.h"

static bool want_json(const char *cmd, int argc, char **argv, int *ret_exit)
{
	bool json = false;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			printf("Usage: boxctl %s [--json]\n", cmd);
			*ret_exit = 0;
			return false;
		} else {
			boxctl_error("%s: unexpected argument '%s'", cmd,
				     argv[i]);
			*ret_exit = BOXCTL_EXIT_USAGE;
			return false;
		}
	}
	*ret_exit = -1;
	return json;
}

static int print_json(int r, char *json)
{
	if (r < 0) {
		boxctl_error("%s", strerror(-r));
		return BOXCTL_EXIT_FAILURE;
	}
	r = boxctl_write_line(STDOUT_FILENO, json);
	free(json);
	if (r < 0) {
		boxctl_error("writing: %s", strerror(-r));
		return BOXCTL_EXIT_FAILURE;
	}
	return 0;
}

static int request_failed(box_client *c, const char *what, int r)
{
	const box_error *e = box_client_last_error(c);
	char buf[1024];

	if (e)
		boxctl_error("%s: %s", what,
			     boxctl_describe_error(e, buf, sizeof(buf)));
	else
		boxctl_error("%s: %s", what, strerror(-r));
	return BOXCTL_EXIT_FAILURE;
}

/* Printable text for a table cell: control characters become '?'. */
static char *cell(const char *s)
{
	char *copy = strdup(s ? s : "-");

	for (char *p = copy; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

int cmd_ps(const struct boxctl *ctl, int argc, char **argv)
{
	_cleanup_(box_client_freep) box_client *c = NULL;
	box_run_list *l = NULL;
	char buf[64];
	int ex, r;
	bool json = want_json("ps", argc, argv, &ex);

	if (ex >= 0)
		return ex;
	if (boxctl_connect(ctl, &c) < 0)
		return BOXCTL_EXIT_FAILURE;
	r = box_client_list(c, &l);
	if (r < 0)
		return request_failed(c, "ps", r);
	if (json) {
		char *text = NULL;

		r = box_run_list_json(l, &text);
		box_run_list_free(l);
		return print_json(r, text);
	}
	printf("%-8s %-6s %-8s %-10s %-16s %s\n", "RUN", "UID", "PID",
	       "ELAPSED", "TAG", "COMMAND");
	for (size_t i = 0; i < box_run_list_count(l); i++) {
		const box_run_info *info = box_run_list_get(l, i);
		_cleanup_free_ char *tag = cell(box_run_info_tag(info));
		_cleanup_free_ char *argv0 = cell(box_run_info_argv0(info));
		char pid[24];

		if (box_run_info_pid(info) >= 0)
			snprintf(pid, sizeof(pid), "%lld",
				 (long long)box_run_info_pid(info));
		else
			snprintf(pid, sizeof(pid), "-");
		printf("%-8llu %-6u %-8s %-10s %-16s %s\n",
		       (unsigned long long)box_run_info_id(info),
		       box_run_info_uid(info), pid,
		       box_run_info_elapsed_ns(info) >= 0
			   ? format_duration(
				 (uint64_t)box_run_info_elapsed_ns(info), buf,
				 sizeof(buf))
			   : "-",
		       tag ? tag : "-", argv0 ? argv0 : "-");
	}
	box_run_list_free(l);
	return fflush(stdout) == 0 ? 0 : BOXCTL_EXIT_FAILURE;
}

/* "TERM", "SIGTERM", "term", "15". */
static int parse_signal(const char *s)
{
	uint32_t n;

	if (parse_uint32(s, &n) >= 0)
		return n > 0 && n < (uint32_t)_NSIG ? (int)n : -EINVAL;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *name = sigabbrev_np(sig);

		if (name && strcasecmp(name, s) == 0)
			return sig;
	}
	return -EINVAL;
}

int cmd_kill(const struct boxctl *ctl, int argc, char **argv)
{
	_cleanup_(box_client_freep) box_client *c = NULL;
	const char *id_arg = NULL;
	unsigned long long id;
	int sig = SIGTERM, r;
	char *end;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0 ||
		    strcmp(argv[i], "--signal") == 0) {
			if (i + 1 >= argc) {
				boxctl_error("kill: %s needs a SIGNAL",
					     argv[i]);
				return BOXCTL_EXIT_USAGE;
			}
			sig = parse_signal(argv[++i]);
			if (sig < 0) {
				boxctl_error("kill: unknown signal '%s'",
					     argv[i]);
				return BOXCTL_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			printf("Usage: boxctl kill RUN_ID [-s SIGNAL]\n"
			       "Send SIGNAL (name or number, default TERM) "
			       "to one of your runs.\n");
			return 0;
		} else if (!id_arg) {
			id_arg = argv[i];
		} else {
			boxctl_error("kill: unexpected argument '%s'", argv[i]);
			return BOXCTL_EXIT_USAGE;
		}
	}
	if (!id_arg) {
		boxctl_error("kill: which RUN_ID? (see boxctl ps)");
		return BOXCTL_EXIT_USAGE;
	}
	errno = 0;
	id = strtoull(id_arg, &end, 10);
	if (errno || *end || !*id_arg || id_arg[0] == '-') {
		boxctl_error("kill: invalid run id '%s'", id_arg);
		return BOXCTL_EXIT_USAGE;
	}
	if (boxctl_connect(ctl, &c) < 0)
		return BOXCTL_EXIT_FAILURE;
	r = box_client_kill(c, id, sig);
	if (r < 0) {
		char what[64];

		snprintf(what, sizeof(what), "kill %llu", id);
		return request_failed(c, what, r);
	}
	return 0;
}

static void print_list(const char *label, const char *const *v)
{
	printf("%-13s", label);
	if (!v || !*v)
		printf(" -");
	for (; v && *v; v++)
		printf(" %s", *v);
	printf("\n");
}

static const char *yes_no(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unknown";
}

static const char *num(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		return "-";
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

static const char *size(int64_t v, char *buf, size_t len)
{
	return v < 0 ? "-" : format_size((uint64_t)v, buf, len);
}

/* A tenant's ceiling in the unit of its limit. */
static const char *ceiling_text(const char *name, int64_t v, char *buf,
				size_t len)
{
	if (strcmp(name, "limit:memory") == 0 ||
	    strcmp(name, "limit:tmpfs_size") == 0)
		return format_size((uint64_t)v, buf, len);
	if (strcmp(name, "limit:timeout") == 0 ||
	    strcmp(name, "limit:cpu_time") == 0)
		return format_duration((uint64_t)v, buf, len);
	if (strcmp(name, "limit:cpus") == 0)
		snprintf(buf, len, "%g CPUs", (double)v / 1000.0);
	else
		snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

/* Each capability with its sentence: "yes" or "no" and why not. */
static void print_capabilities(const box_host_info *h)
{
	size_t n = box_host_capability_count(h);
	char buf[64];

	if (!n) {
		printf("%-13s -\n", "capabilities:");
		return;
	}
	printf("capabilities:\n");
	for (size_t i = 0; i < n; i++) {
		const char *name = box_host_capability_name(h, i);
		const char *why = box_host_capability_reason(h, i);
		int64_t ceiling = box_host_capability_ceiling(h, i);
		bool yes = box_host_capability_available(h, i);

		printf("  %-22s %-3s %s\n", name, yes ? "yes" : "no",
		       box_host_capability_description(h, i));
		if (!yes)
			printf("  %-22s     not here: %s\n", "",
			       why ? why : "not said");
		if (ceiling >= 0)
			printf("  %-22s     tenant ceiling: %s\n", "",
			       ceiling_text(name, ceiling, buf, sizeof(buf)));
	}
}

int cmd_status(const struct boxctl *ctl, int argc, char **argv)
{
	_cleanup_(box_client_freep) box_client *c = NULL;
	box_status *st = NULL;
	const box_host_info *h;
	char a[64], b[64], d[64], e[64], f[64], g[64], p[64], w[64];
	int ex, r;
	bool json = want_json("status", argc, argv, &ex);

	if (ex >= 0)
		return ex;
	if (boxctl_connect(ctl, &c) < 0)
		return BOXCTL_EXIT_FAILURE;
	r = box_client_status(c, &st);
	if (r < 0)
		return request_failed(c, "status", r);
	if (json) {
		char *text = NULL;

		r = box_status_json(st, &text);
		box_status_free(st);
		return print_json(r, text);
	}
	printf("%-13s boxd %s", "daemon:", box_status_daemon_version(st));
	if (box_status_uptime_ns(st) >= 0)
		printf(", up %s",
		       format_duration((uint64_t)box_status_uptime_ns(st), a,
				       sizeof(a)));
	printf(", protocol %u\n", box_client_protocol_version(c));
	h = box_status_host(st);
	if (!h)
		h = box_client_host(c);
	if (h) {
		printf("%-13s %s %s\n", "cgroup:",
		       box_host_cgroup_mode(h) ? box_host_cgroup_mode(h) : "-",
		       box_host_cgroup_path(h) ? box_host_cgroup_path(h) : "");
		print_list("controllers:", box_host_controllers(h));
		print_list("limits:", box_host_limits(h));
		print_list("namespaces:", box_host_namespaces(h));
		printf("%-13s %s\n", "seccomp:", yes_no(box_host_seccomp(h)));
		printf("%-13s %s\n", "landlock:", yes_no(box_host_landlock(h)));
		print_list("networks:", box_host_nets(h));
		print_list("profiles:", box_host_profiles(h));
		print_list("features:", box_host_features(h));
		print_capabilities(h);
	}
	printf("%-13s %s/%s members, %s hits (%s prebuilt), %s misses, "
	       "%s refill failures, member RSS %s, %s runs waiting\n",
	       "pool:", num(box_status_pool_size(st), a, sizeof(a)),
	       num(box_status_pool_target(st), b, sizeof(b)),
	       num(box_status_pool_hits(st), d, sizeof(d)),
	       num(box_status_pool_prebuilt(st), p, sizeof(p)),
	       num(box_status_pool_misses(st), e, sizeof(e)),
	       num(box_status_pool_refill_failures(st), f, sizeof(f)),
	       size(box_status_pool_member_rss_bytes(st), g, sizeof(g)),
	       num(box_status_pool_waiting(st), w, sizeof(w)));
	printf("%-13s %s\n", "runs:", num(box_status_runs(st), a, sizeof(a)));
	printf("%-13s %s\n",
	       "connections:", num(box_status_connections(st), a, sizeof(a)));
	printf("%-13s %s\n", "daemon RSS:",
	       size(box_status_daemon_rss_bytes(st), a, sizeof(a)));
	box_status_free(st);
	return fflush(stdout) == 0 ? 0 : BOXCTL_EXIT_FAILURE;
}

int cmd_version(const struct boxctl *ctl, int argc, char **argv)
{
	_cleanup_(box_client_freep) box_client *c = NULL;

	(void)argv;
	if (argc > 0) {
		boxctl_error("version: takes no arguments");
		return BOXCTL_EXIT_USAGE;
	}
	printf("boxctl %s (libboxclient %s, protocol %u)\n", BOXD_VERSION,
	       box_version(), BOX_PROTOCOL_VERSION);
	fflush(stdout);
	if (boxctl_connect(ctl, &c) < 0)
		return BOXCTL_EXIT_FAILURE;
	printf("boxd %s (protocol %u, socket %s)\n",
	       box_client_daemon_version(c), box_client_protocol_version(c),
	       box_socket_path(ctl->socket));
	return fflush(stdout) == 0 ? 0 : BOXCTL_EXIT_FAILURE;
}
