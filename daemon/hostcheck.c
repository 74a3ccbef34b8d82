/*
 * Host feature probes for `boxd --check-environment` and HostInfo. Each
 * probe asks the kernel directly and in a way that cannot change anything:
 * namespaces are created in a forked child that exits at once, calls that
 * might be missing get arguments only a present call rejects (NULL
 * pointers, an fd known to be closed), so ENOSYS means "missing" and any
 * other answer means "present".
 *
 * This file must never leave a child behind, never write to cgroupfs or
 * any other host state, and never report a feature present because a
 * probe was inconclusive.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "hostcheck.h"
#include "util.h"

#define WHY_MAX 320

struct probe_ctx {
	const char *cgroup_root;
	struct hostcheck_features *f;
	char why[WHY_MAX];
};

static void set_why(struct probe_ctx *c, const char *fmt, ...) _printf_(2, 3);

/* The reason printed after ok/missing; long paths may truncate it. */
static void set_why(struct probe_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static const struct {
	unsigned bit;
	int flag;
	const char *name;
	const char *flag_name;
} namespaces[] = {
    {HOSTCHECK_NS_USER, CLONE_NEWUSER, "user", "CLONE_NEWUSER"},
    {HOSTCHECK_NS_MNT, CLONE_NEWNS, "mnt", "CLONE_NEWNS"},
    {HOSTCHECK_NS_PID, CLONE_NEWPID, "pid", "CLONE_NEWPID"},
    {HOSTCHECK_NS_NET, CLONE_NEWNET, "net", "CLONE_NEWNET"},
    {HOSTCHECK_NS_IPC, CLONE_NEWIPC, "ipc", "CLONE_NEWIPC"},
    {HOSTCHECK_NS_UTS, CLONE_NEWUTS, "uts", "CLONE_NEWUTS"},
    {HOSTCHECK_NS_CGROUP, CLONE_NEWCGROUP, "cgroup", "CLONE_NEWCGROUP"},
    {HOSTCHECK_NS_TIME, CLONE_NEWTIME, "time", "CLONE_NEWTIME"},
};

static const struct {
	unsigned bit;
	const char *name;
} controllers[] = {
    {HOSTCHECK_CG_CPU, "cpu"},       {HOSTCHECK_CG_CPUACCT, "cpuacct"},
    {HOSTCHECK_CG_CPUSET, "cpuset"}, {HOSTCHECK_CG_MEMORY, "memory"},
    {HOSTCHECK_CG_PIDS, "pids"},     {HOSTCHECK_CG_IO, "io"},
};

const char *hostcheck_ns_name(unsigned ns)
{
	for (size_t i = 0; i < ELEMENTSOF(namespaces); i++)
		if (namespaces[i].bit == ns)
			return namespaces[i].name;
	return NULL;
}

const char *hostcheck_controller_name(unsigned controller)
{
	for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
		if (controllers[i].bit == controller)
			return controllers[i].name;
	return NULL;
}

static unsigned controller_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
		if (strlen(controllers[i].name) == len &&
		    memcmp(controllers[i].name, name, len) == 0)
			return controllers[i].bit;
	return 0;
}

/* "cpu memory pids" into buf. */
static const char *controller_list(unsigned mask, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
		if (mask & controllers[i].bit) {
			int n = snprintf(buf + o, len - o, "%s%s", o ? " " : "",
					 controllers[i].name);

			if (n < 0 || (size_t)n >= len - o)
				break;
			o += (size_t)n;
		}
	if (!o)
		snprintf(buf, len, "none");
	return buf;
}

/* A small /proc or /sys file, without its trailing newline. */
static int read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return negerrno();
	n = read(fd, buf, len - 1);
	if (n < 0)
		return negerrno();
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

/* --------------------------------------------------------- namespaces */

/* unshare(flag) in a child that exits at once; 0 or -errno. */
static int try_unshare(int flag)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return negerrno();
	if (pid == 0)
		_exit(unshare(flag) < 0
			  ? (errno > 0 && errno < 256 ? errno : 255)
			  : 0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return negerrno();
	if (!WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

static bool probe_namespace(struct probe_ctx *c, size_t i)
{
	char path[96], value[32], extra[96] = "";
	int r = try_unshare(namespaces[i].flag);

	/* The sysctls that turn namespace creation off, for the reason. */
	snprintf(path, sizeof(path), "/proc/sys/user/max_%s_namespaces",
		 namespaces[i].name);
	if (read_small(path, value, sizeof(value)) == 0)
		snprintf(extra, sizeof(extra), "max_%s_namespaces=%s",
			 namespaces[i].name, value);
	if (namespaces[i].bit == HOSTCHECK_NS_USER &&
	    read_small("/proc/sys/kernel/unprivileged_userns_clone", value,
		       sizeof(value)) == 0) {
		size_t n = strlen(extra);

		snprintf(extra + n, sizeof(extra) - n,
			 "%sunprivileged_userns_clone=%s (boxd runs as root)",
			 n ? ", " : "", value);
	}
	if (r == 0) {
		c->f->namespaces |= namespaces[i].bit;
		set_why(c, "%s", extra);
		return true;
	}
	set_why(c, "unshare(%s): %s%s%s", namespaces[i].flag_name, strerror(-r),
		extra[0] ? "; " : "", extra);
	return false;
}

/* ------------------------------------------------------------- cgroups */

/*
 * Where the daemon's v2 backend would put its tree: cgroup_v2_locate(),
 * the very function the backend calls, so this report and the daemon
 * cannot disagree about the place. Then whether that place is a cgroup2
 * directory at all; note says why not.
 */
static bool v2_place(const char *root, char place[PATH_MAX], char *note,
		     size_t note_len)
{
	struct error_detail err;
	struct statfs sfs;

	if (cgroup_v2_locate(root, NULL, &err, place) < 0) {
		snprintf(note, note_len, "v2: %s; ", err.message);
		return false;
	}
	if (statfs(place, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(note, note_len, "%s is not a cgroup2 directory; ",
			 place);
		return false;
	}
	return true;
}

/* The controllers a v2 place offers: as a mask, and as the kernel lists
 * them (raw, for messages: it may name controllers boxd does not use). */
static unsigned v2_controllers(const char *place, char *raw, size_t raw_len)
{
	char path[PATH_MAX + 32];
	unsigned mask = 0;
	const char *s;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", place);
	if (read_small(path, raw, raw_len) < 0) {
		snprintf(raw, raw_len, "unreadable");
		return 0;
	}
	for (s = raw; *s;) {
		size_t n = strcspn(s, " ");

		mask |= controller_bit(s, n);
		s += n;
		s += strspn(s, " ");
	}
	if (!raw[0])
		snprintf(raw, raw_len, "none");
	return mask;
}

/* Controllers mounted on a v1 hierarchy (hierarchy id > 0, enabled). */
static unsigned v1_controllers(void)
{
	FILE *f = fopen("/proc/cgroups", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned mask = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		char name[32];
		unsigned hierarchy, count, enabled;

		if (line[0] == '#' || sscanf(line, "%31s %u %u %u", name,
					     &hierarchy, &count, &enabled) != 4)
			continue;
		if (hierarchy > 0 && enabled)
			mask |= controller_bit(name, strlen(name));
	}
	fclose(f);
	return mask;
}

static bool probe_cgroup(struct probe_ctx *c)
{
	const unsigned need_v2 =
	    HOSTCHECK_CG_CPU | HOSTCHECK_CG_MEMORY | HOSTCHECK_CG_PIDS;
	const unsigned need_v1 = need_v2 | HOSTCHECK_CG_CPUACCT;
	char place[PATH_MAX] = "", note[PATH_MAX + 64] = "", a[96], raw[256];
	bool have_v2;
	unsigned on_v2 = 0, on_v1;

	have_v2 = v2_place(c->cgroup_root, place, note, sizeof(note));
	if (have_v2)
		on_v2 = v2_controllers(place, raw, sizeof(raw));
	on_v1 = v1_controllers();

	if (have_v2 && (on_v2 & need_v2) == need_v2) {
		c->f->cgroup_mode = HOSTCHECK_CGROUP_V2;
		c->f->controllers = on_v2;
		snprintf(c->f->cgroup_path, sizeof(c->f->cgroup_path), "%s",
			 place);
		set_why(c, "%sv2 at %s: %s", note, place, raw);
		return true;
	}
	if ((on_v1 & need_v1) == need_v1) {
		c->f->cgroup_mode = HOSTCHECK_CGROUP_V1;
		c->f->controllers = on_v1;
		if (have_v2)
			set_why(c, "%sv1: %s (v2 at %s has only: %s)", note,
				controller_list(on_v1, a, sizeof(a)), place,
				raw);
		else
			set_why(c, "%sv1: %s", note,
				controller_list(on_v1, a, sizeof(a)));
		return true;
	}
	set_why(c,
		"%sneither v2 with cpu, memory and pids (%s%s%s) nor v1 with "
		"cpu, cpuacct, memory and pids (v1 has: %s); limits cannot "
		"be enforced",
		note, have_v2 ? place : "no usable cgroup2 place",
		have_v2 ? " has: " : "", have_v2 ? raw : "",
		controller_list(on_v1, a, sizeof(a)));
	return false;
}

/* ------------------------------------------------------------- seccomp */

static int seccomp_action_avail(uint32_t action)
{
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		return negerrno();
	return 0;
}

static bool probe_seccomp(struct probe_ctx *c)
{
	char status[4096], *mode = NULL;
	int r;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		set_why(c, "kernel built without CONFIG_SECCOMP");
		return false;
	}
	/* The default filter kills foreign-ABI calls per process. */
	r = seccomp_action_avail(SECCOMP_RET_KILL_PROCESS);
	if (r < 0) {
		set_why(c, "no filter mode with SECCOMP_RET_KILL_PROCESS (%s)",
			strerror(-r));
		return false;
	}
	c->f->seccomp = true;
	if (read_small("/proc/self/status", status, sizeof(status)) == 0 &&
	    (mode = strstr(status, "\nSeccomp:")))
		mode += strlen("\nSeccomp:");
	set_why(c, "filter mode; the daemon itself runs in mode %.1s",
		mode ? mode + strspn(mode, " \t") : "?");
	return true;
}

static bool probe_seccomp_notify(struct probe_ctx *c)
{
	int r = seccomp_action_avail(SECCOMP_RET_USER_NOTIF);

	if (r < 0) {
		set_why(c,
			"no SECCOMP_RET_USER_NOTIF (%s): policies with kill "
			"rules are refused",
			strerror(-r));
		return false;
	}
	c->f->seccomp_notify = true;
	set_why(c, "kill rules report the call");
	return true;
}

/* ------------------------------------------------- processes and mounts */

static bool probe_pidfd(struct probe_ctx *c)
{
	long fd = syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0) {
		set_why(c, "pidfd_open: %s", strerror(errno));
		return false;
	}
	close((int)fd);
	c->f->pidfd = true;
	set_why(c, "pidfd_open");
	return true;
}

static bool probe_clone3(struct probe_ctx *c)
{
	/* Size 0 is below every version of struct clone_args: a kernel
	 * with clone3 says EINVAL before doing anything. */
	if (syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS) {
		set_why(c, "clone3: %s", strerror(ENOSYS));
		return false;
	}
	c->f->clone3 = true;
	c->why[0] = '\0';
	return true;
}

static bool probe_clone_into_cgroup(struct probe_ctx *c)
{
	struct clone_args args = {
	    .flags = CLONE_INTO_CGROUP,
	    .exit_signal = SIGCHLD,
	};
	int fd, status;
	long r;

	if (!c->f->clone3) {
		set_why(c, "needs clone3");
		return false;
	}
	/* An fd number just closed: a kernel that knows the flag fails
	 * with EBADF looking it up, one that does not says EINVAL. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_why(c, "/dev/null: %s", strerror(errno));
		return false;
	}
	close(fd);
	args.cgroup = (uint64_t)fd;
	r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0)
		_exit(0); /* cannot happen; never let a probe child run on */
	if (r > 0)
		waitpid((pid_t)r, &status, 0);
	if (r >= 0 || errno != EBADF) {
		set_why(c, "the kernel does not know CLONE_INTO_CGROUP (%s)",
			r >= 0 ? "probe created a process" : strerror(errno));
		return false;
	}
	if (c->f->cgroup_mode != HOSTCHECK_CGROUP_V2) {
		set_why(c, "the kernel has it, but it needs the v2 hierarchy: "
			   "runs join their cgroup after the clone");
		return false;
	}
	c->f->clone_into_cgroup = true;
	c->why[0] = '\0';
	return true;
}

static bool probe_overlayfs(struct probe_ctx *c)
{
	FILE *f = fopen("/proc/filesystems", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f) {
		set_why(c, "/proc/filesystems: %s", strerror(errno));
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "nodev\toverlay") == 0 ||
		    strcmp(line, "\toverlay") == 0) {
			c->f->overlayfs = true;
			break;
		}
	}
	fclose(f);
	set_why(c, "%s",
		c->f->overlayfs ? ""
				: "not in /proc/filesystems (module "
				  "not loaded? try modprobe overlay)");
	return c->f->overlayfs;
}

static bool probe_landlock(struct probe_ctx *c)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0) {
		set_why(c, "%s",
			errno == EOPNOTSUPP
			    ? "built in but disabled (add landlock to the "
			      "lsm= boot parameter)"
			: errno == ENOSYS ? "not built into this kernel"
					  : strerror(errno));
		return false;
	}
	c->f->landlock = true;
	c->f->landlock_abi = (int)abi;
	set_why(c, "ABI %ld", abi);
	return true;
}

static bool probe_mount_api(struct probe_ctx *c)
{
	/* NULL paths and a zero attr size: a present call refuses them
	 * (EFAULT, EINVAL, EBADF) without touching any mount. */
	static const struct {
		const char *name;
		long nr;
		long a[5];
	} calls[] = {
	    {"fsopen", SYS_fsopen, {0, 0}},
	    {"open_tree", SYS_open_tree, {-1, 0, 0}},
	    {"move_mount", SYS_move_mount, {-1, 0, -1, 0, 0}},
	    {"mount_setattr", SYS_mount_setattr, {-1, 0, 0, 0, 0}},
	};

	for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
		const long *a = calls[i].a;

		if (syscall(calls[i].nr, a[0], a[1], a[2], a[3], a[4]) < 0 &&
		    errno == ENOSYS) {
			set_why(c, "%s: %s", calls[i].name, strerror(ENOSYS));
			return false;
		}
	}
	c->f->mount_api = true;
	set_why(c, "fsopen, open_tree, move_mount, mount_setattr");
	return true;
}

/* --------------------------------------------------------------- table */

enum check_kind {
	CHECK_NAMESPACE,
	CHECK_OTHER,
};

struct check {
	const char *name;
	bool required;
	size_t ns;                          /* CHECK_NAMESPACE */
	bool (*probe)(struct probe_ctx *c); /* CHECK_OTHER */
	enum check_kind kind;
};

static const struct check checks[] = {
    {"user-ns", true, 0, NULL, CHECK_NAMESPACE},
    {"mnt-ns", true, 1, NULL, CHECK_NAMESPACE},
    {"pid-ns", true, 2, NULL, CHECK_NAMESPACE},
    {"net-ns", true, 3, NULL, CHECK_NAMESPACE},
    {"ipc-ns", true, 4, NULL, CHECK_NAMESPACE},
    {"uts-ns", true, 5, NULL, CHECK_NAMESPACE},
    {"cgroup-ns", false, 6, NULL, CHECK_NAMESPACE},
    {"time-ns", false, 7, NULL, CHECK_NAMESPACE},
    /* Limits are refused per run when the hierarchy lacks them. */
    {"cgroup", false, 0, probe_cgroup, CHECK_OTHER},
    {"seccomp", true, 0, probe_seccomp, CHECK_OTHER},
    {"seccomp-notify", false, 0, probe_seccomp_notify, CHECK_OTHER},
    {"pidfd", true, 0, probe_pidfd, CHECK_OTHER},
    {"clone3", false, 0, probe_clone3, CHECK_OTHER},
    /* After cgroup and clone3: it depends on both. */
    {"clone-into-cgroup", false, 0, probe_clone_into_cgroup, CHECK_OTHER},
    {"overlayfs", false, 0, probe_overlayfs, CHECK_OTHER},
    {"landlock", false, 0, probe_landlock, CHECK_OTHER},
    {"mount-api", true, 0, probe_mount_api, CHECK_OTHER},
};

static int run_checks(const char *cgroup_root, struct hostcheck_features *f,
		      FILE *out)
{
	struct probe_ctx c = {.cgroup_root = cgroup_root, .f = f};
	int missing = 0;

	*f = (struct hostcheck_features){};
	for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
		const struct check *chk = &checks[i];
		bool ok;

		c.why[0] = '\0';
		ok = chk->kind == CHECK_NAMESPACE ? probe_namespace(&c, chk->ns)
						  : chk->probe(&c);
		if (!ok && chk->required)
			missing++;
		if (out)
			fprintf(out, "%-18s %-8s %s%s\n", chk->name,
				ok ? "ok" : "missing",
				!ok && chk->required ? "[required] " : "",
				c.why);
	}
	return missing;
}

int hostcheck_probe(const char *cgroup_root, struct hostcheck_features *ret)
{
	run_checks(cgroup_root, ret, NULL);
	return 0;
}

int hostcheck_report(FILE *out, const char *cgroup_root)
{
	struct hostcheck_features f;
	int missing = run_checks(cgroup_root, &f, out);

	if (missing)
		fprintf(out,
			"%d feature%s isolation depends on %s missing: boxd "
			"cannot run sandboxes on this host\n",
			missing, missing == 1 ? "" : "s",
			missing == 1 ? "is" : "are");
	else
		fprintf(out, "every feature isolation depends on is present\n");
	fflush(out);
	return missing;
}
