/*
 * boxctl run's options (run-args.h): each option's table entry, its help
 * and how it changes the spec. A policy file goes through the same
 * table (policy.c reads it, apply_policy_option() applies it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxctl.h"
#include "parse.h"
#include "policy.h"
#include "run-args.h"
#include "util.h"

/* Larger seccomp policies are certainly a mistake (and would not fit). */
#define SECCOMP_POLICY_MAX (1u << 20)

enum run_opt {
	OPT_RO_BIND,
	OPT_BIND,
	OPT_DEV_BIND,
	OPT_TMPFS,
	OPT_SIZE,
	OPT_PERMS,
	OPT_PROC,
	OPT_DEV,
	OPT_SYMLINK,
	OPT_DIR,
	OPT_REMOUNT_RO,
	OPT_HIDE,
	OPT_OVERLAY,
	OPT_OVERLAY_PERSIST,
	OPT_WRITE,
	OPT_FILE,
	OPT_FILE_DATA,
	OPT_SORT_MOUNTS,
	OPT_SETENV,
	OPT_UNSETENV,
	OPT_CHDIR,
	OPT_HOSTNAME,
	OPT_UID,
	OPT_GID,
	OPT_NET,
	OPT_PROFILE,
	OPT_NO_NEW_SESSION,
	OPT_NO_EXEC,
	OPT_MAX_ISOLATION,
	OPT_NO_DIE_WITH_CLIENT,
	OPT_TTY,
	OPT_NO_TTY,
	OPT_MEMORY,
	OPT_MEMORY_SWAP,
	OPT_CPUS,
	OPT_PIDS,
	OPT_TIMEOUT,
	OPT_CPU_TIME,
	OPT_SECCOMP,
	OPT_RLIMIT,
	OPT_LENIENT,
	OPT_TAG,
	OPT_JSON,
	OPT_RESULT_FD,
	OPT_PLAN,
	OPT_POLICY,
	OPT_HELP,
};

struct run_option {
	const char *name;
	enum run_opt id;
	int nargs;
	const char *args;
	const char *help;
};

static const struct run_option run_options[] = {
    {"--ro-bind", OPT_RO_BIND, 2, "SRC DEST",
     "bind host path SRC read-only on DEST"},
    {"--bind", OPT_BIND, 2, "SRC DEST",
     "bind host path SRC read-write on DEST"},
    {"--dev-bind", OPT_DEV_BIND, 2, "SRC DEST",
     "like --bind, device nodes keep working"},
    {"--overlay", OPT_OVERLAY, 2, "SRC DST",
     "host dir SRC on DST, writable, writes discarded"},
    {"--overlay-persist", OPT_OVERLAY_PERSIST, 3, "SRC DST DIR",
     "like --overlay, writes kept in DIR/upper (a dir\n"
     "you own; DIR/work is overlayfs's)"},
    {"--tmpfs", OPT_TMPFS, 1, "DST", "mount a fresh tmpfs on DST"},
    {"--size", OPT_SIZE, 1, "BYTES", "size of the next --tmpfs (e.g. 64M)"},
    {"--perms", OPT_PERMS, 1, "MODE",
     "octal permissions of the next --tmpfs, --dir, --file\n"
     "or --file-data"},
    {"--proc", OPT_PROC, 1, "DST", "mount proc on DST"},
    {"--dev", OPT_DEV, 1, "DST", "mount a minimal /dev on DST"},
    {"--symlink", OPT_SYMLINK, 2, "TARGET DST",
     "create a symlink DST pointing to TARGET"},
    {"--dir", OPT_DIR, 1, "DST", "create the directory DST"},
    {"--hide", OPT_HIDE, 1, "DST",
     "make file or directory DST unreadable, after all other mounts"},
    {"--file", OPT_FILE, 2, "DST SRC",
     "a read-only file DST holding a copy of file SRC (- for stdin)"},
    {"--file-data", OPT_FILE_DATA, 2, "DST STRING",
     "a read-only file DST holding STRING"},
    {"--remount-ro", OPT_REMOUNT_RO, 1, "DST",
     "make the mount at DST read-only"},
    {"--sort-mounts", OPT_SORT_MOUNTS, 0, NULL,
     "apply mounts by destination, parents first"},
    {"--setenv", OPT_SETENV, 2, "VAR VALUE", "set VAR to VALUE"},
    {"--unsetenv", OPT_UNSETENV, 1, "VAR", "remove VAR"},
    {"--chdir", OPT_CHDIR, 1, "DIR", "working directory (default /)"},
    {"--hostname", OPT_HOSTNAME, 1, "NAME", "hostname (default boxd)"},
    {"--uid", OPT_UID, 1, "N", "uid inside the sandbox (default: yours)"},
    {"--gid", OPT_GID, 1, "N", "gid inside the sandbox (default: yours)"},
    {"--net", OPT_NET, 1, "none|loopback|host|outbound",
     "network (default none)"},
    {"--profile", OPT_PROFILE, 1, "default|bare",
     "base filesystem (default: read-only system dirs, tmpfs /tmp)"},
    {"--write", OPT_WRITE, 1, "ephemeral",
     "writes anywhere, all discarded at the end"},
    {"--no-exec", OPT_NO_EXEC, 0, NULL,
     "no execve after the command's own (EPERM)"},
    {"--max-isolation", OPT_MAX_ISOLATION, 0, NULL,
     "the tightest settings this boxd allows you;\n"
     "options after it apply on top"},
    {"--no-new-session", OPT_NO_NEW_SESSION, 0, NULL,
     "do not setsid(): the command may use the terminal"},
    {"--no-die-with-client", OPT_NO_DIE_WITH_CLIENT, 0, NULL,
     "keep the run going if boxctl goes away"},
    {"--tty", OPT_TTY, 0, NULL,
     "give the command a terminal of the sandbox's own\n"
     "(default when stdin and stdout are terminals)"},
    {"--no-tty", OPT_NO_TTY, 0, NULL,
     "never: the command uses boxctl's stdin, stdout, stderr"},
    {"--memory", OPT_MEMORY, 1, "SIZE", "memory limit (e.g. 512M, 2G)"},
    {"--memory-swap", OPT_MEMORY_SWAP, 1, "SIZE",
     "memory + swap limit (default: no swap)"},
    {"--cpus", OPT_CPUS, 1, "N", "CPU limit, may be fractional (1.5)"},
    {"--pids", OPT_PIDS, 1, "N", "most processes at once"},
    {"--timeout", OPT_TIMEOUT, 1, "DURATION",
     "wall-time limit (e.g. 30s, 250ms, 5m)"},
    {"--cpu-time", OPT_CPU_TIME, 1, "DURATION",
     "CPU-time limit, user + system"},
    {"--seccomp", OPT_SECCOMP, 1, "default|none|FILE",
     "seccomp filter; FILE holds a policy (./none for a file so named)"},
    {"--rlimit", OPT_RLIMIT, 1, "NAME=SOFT[:HARD]",
     "nofile fsize core nproc stack as (e.g. as=64M);\n"
     "'unlimited' allowed"},
    {"--lenient", OPT_LENIENT, 0, NULL,
     "run even if the host cannot enforce everything (see caveats)"},
    {"--tag", OPT_TAG, 1, "TEXT", "label shown by boxctl ps"},
    {"--json", OPT_JSON, 0, NULL,
     "write the result record as one JSON object on stderr"},
    {"--result-fd", OPT_RESULT_FD, 1, "N",
     "write the JSON result record to fd N instead"},
    {"--plan", OPT_PLAN, 0, NULL,
     "run nothing: print what boxd would build\n"
     "(text, or JSON with --json); exit 0 if accepted"},
    {"--policy", OPT_POLICY, 1, "FILE",
     "read the run from policy FILE first; the other options\n"
     "apply on top of it, in order (see boxctl(1))"},
    {"--help", OPT_HELP, 0, NULL, "this text"},
};

void run_usage(FILE *f)
{
	fputs("Usage: boxctl [--socket PATH] run [OPTIONS] [--] CMD [ARGS...]\n"
	      "\n"
	      "Run CMD in a fresh sandbox with boxctl's stdin, stdout and "
	      "stderr.\n"
	      "Mount options apply in order, after the profile's mounts.\n"
	      "SIGINT, SIGTERM and SIGHUP sent to boxctl are forwarded to "
	      "the run.\n"
	      "With a terminal on stdin and stdout (or --tty) the command gets "
	      "a terminal\n"
	      "of the sandbox's own; boxctl relays it to yours, raw, and "
	      "restores yours\n"
	      "when the run ends.\n"
	      "\n"
	      "Options:\n",
	      f);
	for (size_t i = 0; i < ELEMENTSOF(run_options); i++) {
		const struct run_option *o = &run_options[i];
		const char *help = o->help, *nl;
		char head[64];

		snprintf(head, sizeof(head), "%s%s%s", o->name,
			 o->args ? " " : "", o->args ? o->args : "");
		if (strlen(head) > 28) {
			fprintf(f, "  %s\n", head);
			head[0] = '\0';
		}
		/* Continuation lines of the help text line up under it. */
		for (; (nl = strchr(help, '\n')); help = nl + 1, head[0] = '\0')
			fprintf(f, "  %-28s  %.*s\n", head, (int)(nl - help),
				help);
		fprintf(f, "  %-28s  %s\n", head, help);
	}
	fputs("\n"
	      "SIZE: bytes with an optional K, M, G or T suffix (1024-based).\n"
	      "DURATION: a number with ns, us, ms, s, m or h (bare: "
	      "seconds).\n"
	      "\n"
	      "Exit status: the command's; 128+N if it died of signal N "
	      "(limits kill\n"
	      "with SIGKILL: 137); 125 if boxd or boxctl failed before the "
	      "command\n"
	      "started; 126 if CMD is not executable; 127 if it was not "
	      "found.\n"
	      "With --plan: 0 if boxd accepts the run as given, 125 (and "
	      "why) if not.\n",
	      f);
}

static int bad(const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(const char *opt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "boxctl: %s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int bad_value(const char *opt, const char *what, const char *value,
		     int r)
{
	if (r == -ERANGE)
		return bad(opt, "%s out of range: '%s'", what, value);
	return bad(opt, "invalid %s '%s'", what, value);
}

static int spec_failed(const char *opt, int r)
{
	return bad(opt, "%s", r == -EINVAL ? "invalid argument" : strerror(-r));
}

static int check_dst(const char *opt, const char *dst)
{
	if (dst[0] != '/')
		return bad(opt, "'%s' is not an absolute path", dst);
	return 0;
}

static int parse_positive_size(const char *opt, const char *s, uint64_t *ret)
{
	int r = parse_size(s, ret);

	if (r < 0)
		return bad_value(opt, "size", s, r);
	if (*ret == 0)
		return bad(opt, "must be more than 0");
	return 0;
}

static int parse_positive_duration(const char *opt, const char *s,
				   uint64_t *ret)
{
	int r = parse_duration(s, ret);

	if (r < 0)
		return bad_value(opt, "duration", s, r);
	if (*ret == 0)
		return bad(opt, "must be more than 0");
	return 0;
}

static int parse_mode(const char *opt, const char *s, int *ret)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "01234567") != strlen(s))
		return bad(opt, "invalid octal mode '%s'", s);
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || v > 07777)
		return bad(opt, "mode out of range: '%s'", s);
	*ret = (int)v;
	return 0;
}

/* More CPUs than the host has would be a limit that never limits:
 * almost certainly a mistake (a core count from another machine). */
static int check_cpus(const char *opt, const char *value, uint32_t millis)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n > 0 && millis > (uint64_t)n * 1000)
		return bad(opt,
			   "%s is more than the %ld CPU%s this host has; a "
			   "run cannot use more than all of them",
			   value, n, n == 1 ? "" : "s");
	return 0;
}

static int parse_rlimit_value(const char *opt, const char *s, uint64_t *ret)
{
	int r;

	if (strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0) {
		*ret = BOX_RLIM_INFINITY;
		return 0;
	}
	r = parse_size(s, ret);
	if (r < 0)
		return bad_value(opt, "rlimit value", s, r);
	return 0;
}

static int parse_rlimit(box_spec *spec, const char *opt, const char *arg)
{
	static const struct {
		const char *name;
		enum box_rlimit_resource res;
	} names[] = {
	    {"nofile", BOX_RLIMIT_NOFILE}, {"fsize", BOX_RLIMIT_FSIZE},
	    {"core", BOX_RLIMIT_CORE},     {"nproc", BOX_RLIMIT_NPROC},
	    {"stack", BOX_RLIMIT_STACK},   {"as", BOX_RLIMIT_AS},
	};
	_cleanup_free_ char *copy = strdup(arg);
	char *eq, *colon;
	uint64_t soft, hard;
	int res = -1, r;

	if (!copy)
		return bad(opt, "%s", strerror(ENOMEM));
	eq = strchr(copy, '=');
	if (!eq)
		return bad(opt, "expected NAME=SOFT[:HARD], got '%s'", arg);
	*eq = '\0';
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcasecmp(copy, names[i].name) == 0)
			res = (int)names[i].res;
	if (res < 0)
		return bad(opt,
			   "unknown resource '%s' (nofile fsize core nproc "
			   "stack as)",
			   copy);
	colon = strchr(eq + 1, ':');
	if (colon)
		*colon = '\0';
	r = parse_rlimit_value(opt, eq + 1, &soft);
	if (r < 0)
		return r;
	hard = soft;
	if (colon) {
		r = parse_rlimit_value(opt, colon + 1, &hard);
		if (r < 0)
			return r;
	}
	if (soft > hard)
		return bad(opt, "soft limit above hard limit in '%s'", arg);
	r = box_spec_add_rlimit(spec, (enum box_rlimit_resource)res, soft,
				hard);
	if (r < 0)
		return spec_failed(opt, r);
	return 0;
}

/* The whole of path ("-": stdin) for --file. The daemon holds the
 * total to its tmpfs-size; this only keeps boxctl's memory bounded. */
#define FILE_CONTENT_MAX (256u << 20)

static int read_content(const char *opt, const char *path, char **ret,
			size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (strcmp(path, "-") == 0) {
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return bad(opt, "stdin: %s", strerror(errno));
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return bad(opt, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *grown;

			if (cap >= FILE_CONTENT_MAX)
				return bad(opt, "%s: larger than %u MiB", path,
					   FILE_CONTENT_MAX >> 20);
			cap = cap ? cap * 2 : 65536;
			grown = realloc(buf, cap);
			if (!grown)
				return bad(opt, "%s", strerror(ENOMEM));
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bad(opt, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static int read_policy(const char *opt, const char *path, char **ret,
		       size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bad(opt, "%s: %s", path, strerror(errno));
	buf = malloc(SECCOMP_POLICY_MAX + 1);
	if (!buf)
		return bad(opt, "%s", strerror(ENOMEM));
	for (;;) {
		ssize_t n = read(fd, buf + len, SECCOMP_POLICY_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bad(opt, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SECCOMP_POLICY_MAX)
			return bad(opt, "%s: larger than %u bytes", path,
				   SECCOMP_POLICY_MAX);
	}
	if (len == 0)
		return bad(opt, "%s: empty policy", path);
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* opt names the option in messages: "--memory", or "FILE:LINE: memory"
 * for one from a policy file. */
static int apply_option(struct run_args *a, const struct run_option *o,
			const char *opt, char **v)
{
	box_spec *s = a->spec;
	uint64_t u64;
	uint32_t u32;
	int r = 0, mode = -1;

	switch (o->id) {
	case OPT_RO_BIND:
	case OPT_BIND:
	case OPT_DEV_BIND:
		r = check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0])
			return bad(opt, "empty source path");
		r = o->id == OPT_RO_BIND ? box_spec_ro_bind(s, v[0], v[1])
		    : o->id == OPT_BIND  ? box_spec_bind(s, v[0], v[1])
					 : box_spec_dev_bind(s, v[0], v[1]);
		break;
	case OPT_TMPFS:
		r = check_dst(opt, v[0]);
		if (r < 0)
			return r;
		r = box_spec_tmpfs(s, v[0], a->has_size ? a->size : 0,
				   a->perms);
		a->has_size = false;
		a->perms = -1;
		break;
	case OPT_DIR:
		r = check_dst(opt, v[0]);
		if (r < 0)
			return r;
		if (a->has_size)
			return bad(a->size_where,
				   "applies to --tmpfs, not --dir");
		r = box_spec_dir(s, v[0], a->perms);
		a->perms = -1;
		break;
	case OPT_SIZE:
		r = parse_positive_size(opt, v[0], &a->size);
		if (r < 0)
			return r;
		a->has_size = true;
		snprintf(a->size_where, sizeof(a->size_where), "%s", opt);
		return 0;
	case OPT_PERMS:
		r = parse_mode(opt, v[0], &mode);
		if (r < 0)
			return r;
		a->perms = mode;
		snprintf(a->perms_where, sizeof(a->perms_where), "%s", opt);
		return 0;
	case OPT_PROC:
	case OPT_DEV:
	case OPT_REMOUNT_RO:
		r = check_dst(opt, v[0]);
		if (r < 0)
			return r;
		r = o->id == OPT_PROC  ? box_spec_proc(s, v[0])
		    : o->id == OPT_DEV ? box_spec_dev(s, v[0])
				       : box_spec_remount_ro(s, v[0]);
		if (o->id == OPT_DEV)
			a->has_dev = true;
		break;
	case OPT_FILE:
	case OPT_FILE_DATA: {
		_cleanup_free_ char *content = NULL;
		const char *data = v[1];
		size_t len = strlen(v[1]);

		r = check_dst(opt, v[0]);
		if (r < 0)
			return r;
		if (a->has_size)
			return bad(a->size_where, "applies to --tmpfs, not %s",
				   opt);
		if (a->perms == 0)
			return bad(a->perms_where,
				   "a file needs a mode other than 0");
		if (o->id == OPT_FILE) {
			r = read_content(opt, v[1], &content, &len);
			if (r < 0)
				return r;
			data = content;
		}
		r = box_spec_add_file(s, v[0], data, len, a->perms);
		a->perms = -1;
		break;
	}
	case OPT_HIDE:
		r = check_dst(opt, v[0]);
		if (r < 0)
			return r;
		if (strcmp(v[0], "/") == 0)
			return bad(opt, "/ cannot be hidden");
		r = box_spec_hide(s, v[0]);
		break;
	case OPT_SYMLINK:
		r = check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0])
			return bad(opt, "empty target");
		r = box_spec_symlink(s, v[0], v[1]);
		break;
	case OPT_SETENV:
		if (!*v[0] || strchr(v[0], '='))
			return bad(opt, "invalid variable name '%s'", v[0]);
		r = box_spec_setenv(s, v[0], v[1]);
		break;
	case OPT_UNSETENV:
		if (!*v[0] || strchr(v[0], '='))
			return bad(opt, "invalid variable name '%s'", v[0]);
		r = box_spec_unsetenv(s, v[0]);
		break;
	case OPT_CHDIR:
		r = check_dst(opt, v[0]);
		if (r < 0)
			return r;
		r = box_spec_set_cwd(s, v[0]);
		break;
	case OPT_HOSTNAME:
		if (!*v[0])
			return bad(opt, "empty hostname");
		r = box_spec_set_hostname(s, v[0]);
		break;
	case OPT_UID:
	case OPT_GID:
		r = parse_uint32(v[0], &u32);
		if (r < 0 || u32 == UINT32_MAX)
			return bad_value(opt, "id", v[0], r);
		r = o->id == OPT_UID ? box_spec_set_uid(s, u32)
				     : box_spec_set_gid(s, u32);
		break;
	case OPT_NET:
		if (strcmp(v[0], "none") == 0)
			r = box_spec_set_net(s, BOX_NET_NONE);
		else if (strcmp(v[0], "loopback") == 0)
			r = box_spec_set_net(s, BOX_NET_LOOPBACK);
		else if (strcmp(v[0], "host") == 0)
			r = box_spec_set_net(s, BOX_NET_HOST);
		else if (strcmp(v[0], "outbound") == 0)
			r = box_spec_set_net(s, BOX_NET_OUTBOUND);
		else
			return bad(opt,
				   "'%s' is not one of none, loopback, host, "
				   "outbound",
				   v[0]);
		break;
	case OPT_PROFILE:
		if (strcmp(v[0], "default") == 0)
			r = box_spec_set_profile(s, BOX_PROFILE_DEFAULT);
		else if (strcmp(v[0], "bare") == 0)
			r = box_spec_set_profile(s, BOX_PROFILE_BARE);
		else
			return bad(opt, "'%s' is not one of default, bare",
				   v[0]);
		a->bare = strcmp(v[0], "bare") == 0;
		break;
	case OPT_NO_NEW_SESSION:
		r = box_spec_set_new_session(s, false);
		break;
	case OPT_NO_EXEC:
		r = box_spec_set_no_exec(s, true);
		break;
	case OPT_MAX_ISOLATION:
		/* Where it stands: it overrides what options before it set
		 * of the same things; options after it apply on top. */
		r = box_host_tightest(a->host, s);
		a->bare = false;
		break;
	case OPT_WRITE:
		if (strcmp(v[0], "ephemeral") != 0)
			return bad(opt, "'%s' is not ephemeral", v[0]);
		r = box_spec_set_write_ephemeral(s, true);
		break;
	case OPT_OVERLAY:
		r = check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0])
			return bad(opt, "empty source path");
		r = box_spec_overlay(s, v[0], v[1]);
		break;
	case OPT_OVERLAY_PERSIST:
		r = check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0] || !*v[2])
			return bad(opt, "empty source or directory path");
		r = box_spec_overlay_persist(s, v[0], v[1], v[2]);
		break;
	case OPT_NO_DIE_WITH_CLIENT:
		r = box_spec_set_die_with_client(s, false);
		break;
	case OPT_TTY:
	case OPT_NO_TTY:
		a->tty = o->id == OPT_TTY;
		return 0;
	case OPT_MEMORY:
	case OPT_MEMORY_SWAP:
		r = parse_positive_size(opt, v[0], &u64);
		if (r < 0)
			return r;
		r = o->id == OPT_MEMORY ? box_spec_set_memory(s, u64)
					: box_spec_set_memory_swap(s, u64);
		break;
	case OPT_CPUS:
		r = parse_cpus(v[0], &u32);
		if (r < 0)
			return bad_value(opt, "CPU count", v[0], r);
		if (u32 == 0)
			return bad(opt, "must be at least 0.001");
		r = check_cpus(opt, v[0], u32);
		if (r < 0)
			return r;
		r = box_spec_set_cpu_millis(s, u32);
		break;
	case OPT_PIDS:
		r = parse_uint32(v[0], &u32);
		if (r < 0)
			return bad_value(opt, "number", v[0], r);
		if (u32 == 0)
			return bad(opt, "must be more than 0");
		r = box_spec_set_pids(s, u32);
		break;
	case OPT_TIMEOUT:
	case OPT_CPU_TIME:
		r = parse_positive_duration(opt, v[0], &u64);
		if (r < 0)
			return r;
		r = o->id == OPT_TIMEOUT ? box_spec_set_timeout_ns(s, u64)
					 : box_spec_set_cpu_time_ns(s, u64);
		break;
	case OPT_SECCOMP:
		if (strcmp(v[0], "default") == 0) {
			r = box_spec_set_seccomp(s, BOX_SECCOMP_DEFAULT, NULL,
						 0);
		} else if (strcmp(v[0], "none") == 0) {
			r = box_spec_set_seccomp(s, BOX_SECCOMP_NONE, NULL, 0);
		} else {
			_cleanup_free_ char *policy = NULL;
			size_t len = 0;

			r = read_policy(opt, v[0], &policy, &len);
			if (r < 0)
				return r;
			r = box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy,
						 len);
		}
		break;
	case OPT_RLIMIT:
		return parse_rlimit(s, opt, v[0]);
	case OPT_LENIENT:
		r = box_spec_set_lenient(s, true);
		break;
	case OPT_TAG:
		r = box_spec_set_tag(s, v[0]);
		break;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_PLAN:
		a->plan = true;
		return 0;
	case OPT_SORT_MOUNTS:
		a->sort_mounts = true;
		return 0;
	case OPT_RESULT_FD:
		r = parse_uint32(v[0], &u32);
		if (r < 0 || u32 > INT32_MAX)
			return bad_value(opt, "fd", v[0], r);
		if (fcntl((int)u32, F_GETFD) < 0)
			return bad(opt, "fd %u: %s", u32, strerror(errno));
		a->result_fd = (int)u32;
		a->json = true;
		return 0;
	case OPT_POLICY:
		/* Read by parse_run_args() before every other option. */
		return 0;
	case OPT_HELP:
		a->help = true;
		return 0;
	}
	if (r < 0)
		return spec_failed(opt, r);
	return 0;
}

static const struct run_option *find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(run_options); i++)
		if (strlen(run_options[i].name) == len &&
		    strncmp(run_options[i].name, name, len) == 0)
			return &run_options[i];
	return NULL;
}

/*
 * Fewer values than o takes: the arguments run out, or one of a pair is
 * "--" or another option ("--bind /src -- cmd", "--bind /src --chdir
 * /x"): a path or value of that spelling is far more likely a forgotten
 * one than meant.
 */
static bool missing_value(const struct run_option *o, char **v, int left)
{
	if (left < o->nargs)
		return true;
	for (int k = 0; o->nargs > 1 && k < o->nargs; k++)
		if (strcmp(v[k], "--") == 0 ||
		    (strncmp(v[k], "--", 2) == 0 &&
		     find_option(v[k], strlen(v[k]))))
			return true;
	return false;
}

/*
 * One option from a policy file (policy.h): applied as the command-line
 * option it stands for, so it is checked the same way.
 */
static int apply_policy_option(void *userdata, const char *where,
			       const char *option, char **values, int nargs)
{
	struct run_args *a = userdata;
	const struct run_option *o = find_option(option, strlen(option));

	if (!o || o->nargs != nargs)
		return bad(where, "internal error: no option %s", option);
	return apply_option(a, o, where, values);
}

static int load_policy(struct run_args *a)
{
	int r = policy_load(a->policy, environ, apply_policy_option, a);

	if (r < 0)
		return r;
	/* A --size or --perms from the file does not reach over to a
	 * --tmpfs on the command line: a file says all it means. */
	if (a->has_size || a->perms >= 0)
		return bad(a->has_size ? a->size_where : a->perms_where,
			   "must be followed by %s",
			   a->has_size ? "tmpfs" : "tmpfs, dir or file");
	return 0;
}

/*
 * The options before the command, twice: first only --policy (the file
 * is applied before every option, wherever --policy stands), then all
 * the others, in order.
 */
static int parse_options(struct run_args *a, int argc, char **argv,
			 bool policy_pass, int *ret_next)
{
	int i = 0, r;

	while (i < argc) {
		const char *arg = argv[i];
		const struct run_option *o;
		const char *eq;
		char *vals[3];

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "-h") == 0) {
			a->help = true;
			return 0;
		}
		/* --name=value for options with one value */
		eq = strchr(arg, '=');
		o = find_option(arg, eq ? (size_t)(eq - arg) : strlen(arg));
		if (!o)
			return bad(arg,
				   "unknown option (see boxctl run --help)");
		if (eq) {
			if (o->nargs != 1)
				return bad(o->name, "takes %s, not '=%s'",
					   o->args ? o->args : "no value",
					   eq + 1);
			vals[0] = (char *)eq + 1;
			i++;
		} else {
			if (missing_value(o, argv + i + 1, argc - i - 1)) {
				boxctl_error("%s takes %s", o->name, o->args);
				return -EINVAL;
			}
			for (int k = 0; k < o->nargs; k++)
				vals[k] = argv[i + 1 + k];
			i += 1 + o->nargs;
		}
		if (policy_pass) {
			if (o->id == OPT_HELP) {
				a->help = true;
				return 0;
			}
			if (o->id != OPT_POLICY)
				continue;
			if (a->policy)
				return bad(o->name, "given twice");
			a->policy = vals[0];
			continue;
		}
		r = apply_option(a, o, o->name, vals);
		if (r < 0)
			return r;
		if (a->help)
			return 0;
	}
	*ret_next = i;
	return 0;
}

int parse_run_args(struct run_args *a, int argc, char **argv)
{
	int i = 0, r;

	r = parse_options(a, argc, argv, true, &i);
	if (r < 0 || a->help)
		return r;
	if (a->policy) {
		r = load_policy(a);
		if (r < 0)
			return r;
	}
	r = parse_options(a, argc, argv, false, &i);
	if (r < 0 || a->help)
		return r;
	if (a->has_size || a->perms >= 0)
		return bad(a->has_size ? "--size" : "--perms",
			   "must be followed by --tmpfs%s",
			   a->has_size ? "" : ", --dir or --file");
	if (i >= argc)
		return bad("run", "no command given (see boxctl run --help)");
	/* After every mount option, wherever --sort-mounts stood. */
	if (a->sort_mounts && (r = box_spec_sort_mounts(a->spec)) < 0)
		return spec_failed("--sort-mounts", r);
	a->cmd = argv + i;
	for (; i < argc; i++) {
		r = box_spec_add_arg(a->spec, argv[i]);
		if (r < 0)
			return spec_failed("run", r);
	}
	return 0;
}

bool run_args_ask_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

bool wants_max_isolation(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--max-isolation") == 0)
			return true;
	}
	return false;
}
