/*
 * boxctl: the command line of boxd. Parses the global options, picks the
 * command and turns its return into the exit status; the commands live
 * in cmd-run.c (its options in run-args.c) and cmd-admin.c. boxctl only
 * talks to the daemon through libboxclient and never touches the sandbox
 * itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxctl.h"
#include "config-build.h"

void boxctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("boxctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *boxctl_describe_error(const box_error *e, char *buf, size_t len)
{
	const char *msg = box_error_message(e);
	const char *step = box_error_step(e);
	int err = box_error_errno(e);
	const char *ename = err > 0 ? strerrorname_np(err) : NULL;
	size_t n;

	if (!*msg)
		msg = err > 0 ? strerror(err)
			      : box_error_code_name(box_error_code(e));
	n = (size_t)snprintf(buf, len, "%s", msg);
	/* The library's own messages already end in strerror(). */
	if (box_error_code(e) == BOX_ERROR_CLIENT)
		return buf;
	if (n < len && (step || err > 0)) {
		char num[16];

		if (!ename) {
			snprintf(num, sizeof(num), "%d", err);
			ename = num;
		}
		if (step && err > 0)
			snprintf(buf + n, len - n, " (step %s, errno %s)", step,
				 ename);
		else if (step)
			snprintf(buf + n, len - n, " (step %s)", step);
		else
			snprintf(buf + n, len - n, " (errno %s)", ename);
	}
	return buf;
}

/*
 * The name of group gid from /etc/group, or its number. Read by hand:
 * boxctl is linked statically, where getgrgid() would need the NSS
 * modules of the very glibc it was built with.
 */
static void group_name(gid_t gid, char *buf, size_t len)
{
	FILE *f = fopen("/etc/group", "re");
	char line[4096];

	snprintf(buf, len, "%u", (unsigned)gid);
	while (f && fgets(line, sizeof(line), f)) {
		char *name = strtok(line, ":"), *id;

		if (!name || !strtok(NULL, ":") || !(id = strtok(NULL, ":")))
			continue;
		if (strtoul(id, NULL, 10) == gid) {
			snprintf(buf, len, "'%s'", name);
			break;
		}
	}
	if (f)
		fclose(f);
}

/*
 * What to do about a socket that would not take us. The library said
 * what failed; this says what a person can do next: start a daemon, or
 * get into the group the socket belongs to (read from the socket itself,
 * so the name is this host's, whatever the configuration chose).
 */
void boxctl_connect_hint(const struct boxctl *ctl, box_client *c, int r)
{
	const box_error *e = box_client_last_error(c);
	const char *path = box_socket_path(ctl->socket);
	struct stat st;
	char group[256];

	/* Only connect() itself: a daemon's refusal (DENIED) says why. */
	if (e && box_error_code(e) != BOX_ERROR_CLIENT)
		return;
	if (r == -ENOENT || r == -ECONNREFUSED) {
		boxctl_error("no daemon is listening there: start one with "
			     "'systemctl start boxd.socket', or as root with "
			     "'boxd --socket %s'",
			     path);
		return;
	}
	if (r != -EACCES || path[0] == '@' || stat(path, &st) < 0)
		return;
	group_name(st.st_gid, group, sizeof(group));
	boxctl_error("%s belongs to group %s: members of that group may "
		     "connect (ask an administrator to add you, then log in "
		     "again)",
		     path, group);
}

int boxctl_client_connect(const struct boxctl *ctl, box_client *c)
{
	char what[512];
	int r;

	/* A socket-activated daemon may take a while to answer its first
	 * connection: say so rather than hang silently. */
	snprintf(what, sizeof(what),
		 "waiting for boxd at %s to answer (it may still be starting)",
		 box_socket_path(ctl->socket));
	progress_arm(what);
	r = box_client_connect(c, ctl->socket);
	progress_disarm();
	return r;
}

int boxctl_connect(const struct boxctl *ctl, box_client **ret_client)
{
	box_client *c;
	char buf[1024];
	int r;

	r = box_client_new(&c);
	if (r < 0) {
		boxctl_error("%s", strerror(-r));
		return r;
	}
	box_client_set_name(c, "boxctl " BOXD_VERSION);
	r = boxctl_client_connect(ctl, c);
	if (r < 0) {
		const box_error *e = box_client_last_error(c);

		if (e)
			boxctl_error(
			    "%s", boxctl_describe_error(e, buf, sizeof(buf)));
		else
			boxctl_error("cannot connect to boxd at %s: %s",
				     box_socket_path(ctl->socket),
				     strerror(-r));
		boxctl_connect_hint(ctl, c, r);
		box_client_free(c);
		return r;
	}
	*ret_client = c;
	return 0;
}

int boxctl_write_line(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off <= len) {
		const char *p = off < len ? text + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: boxctl [--socket PATH] COMMAND [ARGS...]\n"
		"\n"
		"Run commands in boxd sandboxes and manage them.\n"
		"\n"
		"Commands:\n"
		"  run [OPTIONS] [--] CMD [ARGS...]  run CMD in a sandbox "
		"(see boxctl run --help)\n"
		"  ps [--json]                       list your runs\n"
		"  kill RUN_ID [-s SIGNAL]           signal a run (default "
		"SIGTERM)\n"
		"  status [--json]                   what the daemon and host "
		"enforce, pool, load\n"
		"  version                           boxctl and boxd versions\n"
		"  help                              this text\n"
		"\n"
		"Options:\n"
		"  --socket PATH   the daemon's socket (default: $BOXD_SOCKET, "
		"else %s)\n"
		"  -h, --help      this text\n"
		"  --version       same as the version command\n"
		"\n"
		"Exit status of run: the command's; 128+N if it died of "
		"signal N\n"
		"(also when a limit killed it); 125 if boxd or boxctl failed "
		"before\n"
		"the command started; 126 if it is not executable; 127 if not "
		"found.\n"
		"Other commands: 0 on success, 1 on failure, 2 on bad usage.\n",
		box_socket_path(NULL));
}

int main(int argc, char **argv)
{
	struct boxctl ctl = {0};
	static const struct {
		const char *name;
		int (*fn)(const struct boxctl *, int, char **);
	} commands[] = {
	    {"run", cmd_run},         {"ps", cmd_ps},
	    {"kill", cmd_kill},       {"status", cmd_status},
	    {"version", cmd_version},
	};
	int i = 1;

	/* A closed reader of our output must not kill us mid-report. */
	signal(SIGPIPE, SIG_IGN);

	while (i < argc && argv[i][0] == '-') {
		const char *arg = argv[i];

		if (strcmp(arg, "--socket") == 0) {
			if (i + 1 >= argc) {
				boxctl_error("--socket needs a PATH");
				return BOXCTL_EXIT_USAGE;
			}
			ctl.socket = argv[i + 1];
			i += 2;
		} else if (strncmp(arg, "--socket=", 9) == 0) {
			ctl.socket = arg + 9;
			i++;
		} else if (strcmp(arg, "-h") == 0 ||
			   strcmp(arg, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(arg, "--version") == 0) {
			return cmd_version(&ctl, 0, NULL);
		} else {
			boxctl_error("unknown option %s (see boxctl --help)",
				     arg);
			return BOXCTL_EXIT_USAGE;
		}
	}
	if (ctl.socket && !*ctl.socket) {
		boxctl_error("--socket: empty path");
		return BOXCTL_EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return BOXCTL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(&ctl, argc - i - 1, argv + i + 1);
	boxctl_error("unknown command '%s' (see boxctl --help)", argv[i]);
	return BOXCTL_EXIT_USAGE;
}
