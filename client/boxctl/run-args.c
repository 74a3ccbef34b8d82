/*
 * boxctl run's options (run-args.h): each option's table entry, its help
 * and how it changes the spec; option.c checks and reads their values. A
 * policy file goes through the same table (policy.c reads it,
 * apply_policy_option() applies it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "boxctl.h"
#include "option.h"
#include "parse.h"
#include "policy.h"
#include "run-args.h"
#include "util.h"

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
		r = option_check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0])
			return option_bad(opt, "empty source path");
		r = o->id == OPT_RO_BIND ? box_spec_ro_bind(s, v[0], v[1])
		    : o->id == OPT_BIND  ? box_spec_bind(s, v[0], v[1])
					 : box_spec_dev_bind(s, v[0], v[1]);
		break;
	case OPT_TMPFS:
		r = option_check_dst(opt, v[0]);
		if (r < 0)
			return r;
		r = box_spec_tmpfs(s, v[0], a->has_size ? a->size : 0,
				   a->perms);
		a->has_size = false;
		a->perms = -1;
		break;
	case OPT_DIR:
		r = option_check_dst(opt, v[0]);
		if (r < 0)
			return r;
		if (a->has_size)
			return option_bad(a->size_where,
					  "applies to --tmpfs, not --dir");
		r = box_spec_dir(s, v[0], a->perms);
		a->perms = -1;
		break;
	case OPT_SIZE:
		r = option_size(opt, v[0], &a->size);
		if (r < 0)
			return r;
		a->has_size = true;
		snprintf(a->size_where, sizeof(a->size_where), "%s", opt);
		return 0;
	case OPT_PERMS:
		r = option_mode(opt, v[0], &mode);
		if (r < 0)
			return r;
		a->perms = mode;
		snprintf(a->perms_where, sizeof(a->perms_where), "%s", opt);
		return 0;
	case OPT_PROC:
	case OPT_DEV:
	case OPT_REMOUNT_RO:
		r = option_check_dst(opt, v[0]);
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

		r = option_check_dst(opt, v[0]);
		if (r < 0)
			return r;
		if (a->has_size)
			return option_bad(a->size_where,
					  "applies to --tmpfs, not %s", opt);
		if (a->perms == 0)
			return option_bad(a->perms_where,
					  "a file needs a mode other than 0");
		if (o->id == OPT_FILE) {
			r = option_read_file(opt, v[1], &content, &len);
			if (r < 0)
				return r;
			data = content;
		}
		r = box_spec_add_file(s, v[0], data, len, a->perms);
		a->perms = -1;
		break;
	}
	case OPT_HIDE:
		r = option_check_dst(opt, v[0]);
		if (r < 0)
			return r;
		if (strcmp(v[0], "/") == 0)
			return option_bad(opt, "/ cannot be hidden");
		r = box_spec_hide(s, v[0]);
		break;
	case OPT_SYMLINK:
		r = option_check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0])
			return option_bad(opt, "empty target");
		r = box_spec_symlink(s, v[0], v[1]);
		break;
	case OPT_SETENV:
		if (!*v[0] || strchr(v[0], '='))
			return option_bad(opt, "invalid variable name '%s'",
					  v[0]);
		r = box_spec_setenv(s, v[0], v[1]);
		break;
	case OPT_UNSETENV:
		if (!*v[0] || strchr(v[0], '='))
			return option_bad(opt, "invalid variable name '%s'",
					  v[0]);
		r = box_spec_unsetenv(s, v[0]);
		break;
	case OPT_CHDIR:
		r = option_check_dst(opt, v[0]);
		if (r < 0)
			return r;
		r = box_spec_set_cwd(s, v[0]);
		break;
	case OPT_HOSTNAME:
		if (!*v[0])
			return option_bad(opt, "empty hostname");
		r = box_spec_set_hostname(s, v[0]);
		break;
	case OPT_UID:
	case OPT_GID:
		r = parse_uint32(v[0], &u32);
		if (r < 0 || u32 == UINT32_MAX)
			return option_bad_value(opt, "id", v[0], r);
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
			return option_bad(
			    opt,
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
			return option_bad(
			    opt, "'%s' is not one of default, bare", v[0]);
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
			return option_bad(opt, "'%s' is not ephemeral", v[0]);
		r = box_spec_set_write_ephemeral(s, true);
		break;
	case OPT_OVERLAY:
		r = option_check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0])
			return option_bad(opt, "empty source path");
		r = box_spec_overlay(s, v[0], v[1]);
		break;
	case OPT_OVERLAY_PERSIST:
		r = option_check_dst(opt, v[1]);
		if (r < 0)
			return r;
		if (!*v[0] || !*v[2])
			return option_bad(opt,
					  "empty source or directory path");
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
		r = option_size(opt, v[0], &u64);
		if (r < 0)
			return r;
		r = o->id == OPT_MEMORY ? box_spec_set_memory(s, u64)
					: box_spec_set_memory_swap(s, u64);
		break;
	case OPT_CPUS:
		r = parse_cpus(v[0], &u32);
		if (r < 0)
			return option_bad_value(opt, "CPU count", v[0], r);
		if (u32 == 0)
			return option_bad(opt, "must be at least 0.001");
		r = option_check_cpus(opt, v[0], u32);
		if (r < 0)
			return r;
		r = box_spec_set_cpu_millis(s, u32);
		break;
	case OPT_PIDS:
		r = parse_uint32(v[0], &u32);
		if (r < 0)
			return option_bad_value(opt, "number", v[0], r);
		if (u32 == 0)
			return option_bad(opt, "must be more than 0");
		r = box_spec_set_pids(s, u32);
		break;
	case OPT_TIMEOUT:
	case OPT_CPU_TIME:
		r = option_duration(opt, v[0], &u64);
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

			r = option_read_policy(opt, v[0], &policy, &len);
			if (r < 0)
				return r;
			r = box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy,
						 len);
		}
		break;
	case OPT_RLIMIT:
		return option_rlimit(s, opt, v[0]);
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
			return option_bad_value(opt, "fd", v[0], r);
		if (fcntl((int)u32, F_GETFD) < 0)
			return option_bad(opt, "fd %u: %s", u32,
					  strerror(errno));
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
		return option_spec_failed(opt, r);
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
		return option_bad(where, "internal error: no option %s",
				  option);
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
		return option_bad(a->has_size ? a->size_where : a->perms_where,
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
			return option_bad(
			    arg, "unknown option (see boxctl run --help)");
		if (eq) {
			if (o->nargs != 1)
				return option_bad(
				    o->name, "takes %s, not '=%s'",
				    o->args ? o->args : "no value", eq + 1);
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
				return option_bad(o->name, "given twice");
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
		return option_bad(a->has_size ? "--size" : "--perms",
				  "must be followed by --tmpfs%s",
				  a->has_size ? "" : ", --dir or --file");
	if (i >= argc)
		return option_bad("run",
				  "no command given (see boxctl run --help)");
	/* After every mount option, wherever --sort-mounts stood. */
	if (a->sort_mounts && (r = box_spec_sort_mounts(a->spec)) < 0)
		return option_spec_failed("--sort-mounts", r);
	a->cmd = argv + i;
	for (; i < argc; i++) {
		r = box_spec_add_arg(a->spec, argv[i]);
		if (r < 0)
			return option_spec_failed("run", r);
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
