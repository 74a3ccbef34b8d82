/*
 * cgroup v2 backend: a delegated subtree of the unified hierarchy. The
 * daemon moves itself into supervisor/ (a cgroup with processes cannot
 * hand controllers to its children), enables cpu, memory and pids below
 * the root, and gives every run its own leaf under tenant-<uid>/ so that
 * memory.oom.group, cgroup.kill and the counters cover exactly that run.
 *
 * This file must never touch a cgroup outside the root it was given, never
 * move any process but the daemon itself into supervisor/ (its spawner
 * is forked there and stays; the members it clones are born in their own
 * cgroups), and never fail
 * half-way through open() in auto mode: everything that can be checked is
 * checked before the daemon is moved, so the v1 backend can still be tried.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include "cgroup-internal.h"
#include "log.h"

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static const char *const v2_controllers[] = {"cpu", "memory", "pids"};

/* Where is the cgroup2 hierarchy mounted whose root contains cgpath?
 * ret_root gets the mount's root inside the hierarchy (usually "/"). */
static int find_cgroup2_mount(const char *mountinfo, const char *cgpath,
			      char ret_mnt[PATH_MAX], char ret_root[PATH_MAX])
{
	_cleanup_(fclosep) FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	f = fopen(mountinfo, "re");
	if (!f)
		return negerrno();
	while (getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64];
		/* Optional fields end at " - ", then the type. */
		const char *sep = strstr(line, " - ");
		size_t rl;

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0)
			continue;
		/* id parent major:minor root mount-point ...; blanks inside
		 * a field are escaped, so %s takes a field whole. */
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		mountinfo_unescape(root);
		mountinfo_unescape(mnt);
		rl = strlen(root);
		/* A mount of a subtree (a container's) holds only the
		 * cgroups below its root. */
		if (strcmp(root, "/") != 0 &&
		    (strncmp(cgpath, root, rl) != 0 ||
		     (cgpath[rl] != '/' && cgpath[rl] != '\0')))
			continue;
		memcpy(ret_mnt, mnt, sizeof(mnt));
		memcpy(ret_root, root, sizeof(root));
		return 0;
	}
	return -ENOENT;
}

/* The caller's own cgroup: the "0::<path>" line of <proc>/cgroup. */
static int own_cgroup(const char *proc_cgroup, char ret[PATH_MAX])
{
	char buf[8192];
	char *line, *save = NULL;
	int r;

	r = cgroup_read_at(AT_FDCWD, proc_cgroup, buf, sizeof(buf));
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3) == 0 &&
		    strlen(line + 3) < PATH_MAX) {
			strcpy(ret, line + 3);
			return 0;
		}
	}
	return -ENOENT;
}

int cgroup_v2_locate(const char *root, const char *proc,
		     struct error_detail *err, char ret_path[PATH_MAX])
{
	char file[PATH_MAX], cg[PATH_MAX], mnt[PATH_MAX], mroot[PATH_MAX];
	char path[PATH_MAX];
	const char *rest;
	char *slash;
	int r;

	if (root) {
		if (root[0] != '/')
			return error_set(err, ERROR_INVALID, -EINVAL,
					 "--cgroup-root '%s' is not an "
					 "absolute path",
					 root);
		if (strlen(root) >= sizeof(path))
			return error_set(err, ERROR_INVALID, -ENAMETOOLONG,
					 "--cgroup-root is too long");
		strcpy(path, root);
		/* "/x/y/" names /x/y: its basename matters for matching. */
		for (size_t l = strlen(path); l > 1 && path[l - 1] == '/'; l--)
			path[l - 1] = '\0';
		strcpy(ret_path, path);
		return 0;
	}

	if (!proc)
		proc = "/proc/self";
	snprintf(file, sizeof(file), "%s/cgroup", proc);
	r = own_cgroup(file, cg);
	if (r < 0)
		return error_set(err, ERROR_UNSUPPORTED, r,
				 "the daemon is in no cgroup2 hierarchy (no "
				 "'0::' line in %s)",
				 file);
	/* Restarted in place (re-exec): we already sit in our supervisor/. */
	slash = strrchr(cg, '/');
	if (slash && strcmp(slash, "/supervisor") == 0)
		*(slash == cg ? slash + 1 : slash) = '\0';
	if (strcmp(cg, "/") == 0)
		return error_set(err, ERROR_UNSUPPORTED, -EPERM,
				 "the daemon runs in the root cgroup; run it "
				 "under systemd with Delegate=yes or pass "
				 "--cgroup-root");
	snprintf(file, sizeof(file), "%s/mountinfo", proc);
	r = find_cgroup2_mount(file, cg, mnt, mroot);
	if (r < 0)
		return error_set(err, ERROR_UNSUPPORTED, r,
				 "no cgroup2 mount holds the daemon's cgroup "
				 "%s",
				 cg);
	rest = cg + (strcmp(mroot, "/") == 0 ? 0 : strlen(mroot));
	if (snprintf(path, sizeof(path), "%s%s",
		     strcmp(mnt, "/") == 0 ? "" : mnt,
		     rest) >= (int)sizeof(path))
		return error_set(err, ERROR_UNSUPPORTED, -ENAMETOOLONG,
				 "cgroup path too long");
	strcpy(ret_path, path);
	return 0;
}

/* First pid in dfd's cgroup.procs that is not the daemon, or 0. */
static pid_t foreign_pid(int dfd)
{
	char buf[4096];
	char *p, *end;

	if (cgroup_read_at(dfd, "cgroup.procs", buf, sizeof(buf)) <= 0)
		return 0;
	for (p = buf; *p;) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0 && pid != getpid())
			return (pid_t)pid;
		p = end;
	}
	return 0;
}

static bool v2_populated_fd(int fd)
{
	uint64_t v;

	/* A cgroup we cannot read is left to rmdir to judge. */
	if (cgroup_read_key_at(fd, "cgroup.events", "populated", &v) < 0)
		return false;
	return v != 0;
}

static int v2_kill_fd(struct cgroup_manager *m, int fd, const char *suffix)
{
	bool frozen = false;
	int r = 0, n;

	/* cgroup.kill takes the whole subtree at once, forks in flight
	 * included: nothing can escape it. */
	if (m->has_kill)
		return cgroup_write_at(fd, "cgroup.kill", "1");
	/* Older kernels: freeze first so nothing forks while the list is
	 * walked; a frozen task still dies of SIGKILL on v2. */
	if (m->has_freeze)
		frozen = cgroup_write_at(fd, "cgroup.freeze", "1") == 0;
	for (int round = 0; round < 64; round++) {
		n = cgroup_kill_procs_at(fd, suffix);
		if (n < 0)
			r = n;
		if (n <= 0)
			break;
	}
	if (frozen)
		(void)cgroup_write_at(fd, "cgroup.freeze", "0");
	return r;
}

static void wait_unpopulated(int fd)
{
	uint64_t deadline = now_ns() + CGROUP_EMPTY_WAIT_NS;
	unsigned round = 0;

	while (v2_populated_fd(fd) && now_ns() < deadline)
		cgroup_backoff(&round);
}

static void kill_node(const struct cgroup_node *n, void *userdata)
{
	struct cgroup_manager *m = userdata;
	char suffix[512];

	cgroup_make_suffix(m, n->rel, suffix, sizeof(suffix));
	(void)v2_kill_fd(m, n->fd, suffix);
}

static int remove_node(const struct cgroup_node *n, void *userdata _unused_)
{
	int r;

	wait_unpopulated(n->fd);
	for (unsigned round = 0;; cgroup_backoff(&round)) {
		r = unlinkat(n->parent_fd, n->name, AT_REMOVEDIR);
		/* Retried briefly: see run_try_remove() in cgroup.c. */
		if (r == 0 || errno != EBUSY || round >= 20)
			break;
	}
	if (r < 0 && errno != ENOENT) {
		r = negerrno();
		log_debug("cgroup: cannot remove leftover %s: %s", n->rel,
			  strerror(-r));
		return r;
	}
	log_debug("cgroup: removed leftover %s", n->rel);
	return 0;
}

/* Kill everything in root/name and below, then remove it depth-first. */
static void remove_tree(int root_fd, const char *name, void *userdata)
{
	(void)cgroup_tree_walk(root_fd, name, kill_node, remove_node, userdata);
}

/* Leftovers of an earlier daemon (crash, kill -9): its runs may still be
 * running. They are killed and removed before anything new is created. */
static void sweep(struct cgroup_manager *m)
{
	cgroup_for_each_own_child(m->root_fd, remove_tree, m);
}

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

static void set_capabilities(struct cgroup_manager *m, int probe_fd)
{
	static const char *const no_memory =
	    "cgroup controller 'memory' is not available";
	size_t len = 0;

	m->can = 0;
	if (m->v2_memory) {
		m->can |= CGROUP_CAN_MEMORY;
		if (cgroup_has_file_at(probe_fd, "memory.swap.max"))
			m->can |= CGROUP_CAN_SWAP;
		else
			CGROUP_MISSING(m, SWAP) =
			    "cgroup file 'memory.swap.max' is "
			    "missing (swap accounting is off)";
		m->has_memory_peak =
		    cgroup_has_file_at(probe_fd, "memory.peak");
		if (m->has_memory_peak)
			m->can |= CGROUP_CAN_PEAK_MEMORY;
		else
			CGROUP_MISSING(m, PEAK_MEMORY) =
			    "cgroup file 'memory.peak' is missing "
			    "(kernel before 5.19)";
	} else {
		CGROUP_MISSING(m, MEMORY) = no_memory;
		CGROUP_MISSING(m, SWAP) = no_memory;
		CGROUP_MISSING(m, PEAK_MEMORY) = no_memory;
	}
	if (m->v2_cpu)
		m->can |= CGROUP_CAN_CPUS;
	else
		CGROUP_MISSING(m, CPUS) =
		    "cgroup controller 'cpu' is not available";
	/* cpu.stat's usage is kept with or without the cpu controller. */
	if (cgroup_has_file_at(probe_fd, "cpu.stat"))
		m->can |= CGROUP_CAN_CPU_TIME;
	else
		CGROUP_MISSING(m, CPU_TIME) =
		    "cgroup file 'cpu.stat' is missing";
	if (m->v2_pids) {
		m->can |= CGROUP_CAN_PIDS;
		m->has_pids_peak = cgroup_has_file_at(probe_fd, "pids.peak");
		if (m->has_pids_peak)
			m->can |= CGROUP_CAN_PEAK_PIDS;
		else
			CGROUP_MISSING(m, PEAK_PIDS) =
			    "cgroup file 'pids.peak' is missing";
	} else {
		CGROUP_MISSING(m, PIDS) =
		    "cgroup controller 'pids' is not available";
		CGROUP_MISSING(m, PEAK_PIDS) = CGROUP_MISSING(m, PIDS);
	}
	m->has_kill = cgroup_has_file_at(probe_fd, "cgroup.kill");
	m->has_freeze = cgroup_has_file_at(probe_fd, "cgroup.freeze");
	if (m->has_kill || m->has_freeze)
		m->can |= CGROUP_CAN_KILL;
	else
		CGROUP_MISSING(m, KILL) = "cgroup files 'cgroup.kill' and "
					  "'cgroup.freeze' are missing";
	if (kernel_at_least(5, 7))
		m->can |= CGROUP_CAN_CLONE_INTO;
	else
		CGROUP_MISSING(m, CLONE_INTO) =
		    "clone3(CLONE_INTO_CGROUP) needs kernel 5.7";

	m->controllers[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(v2_controllers); i++) {
		bool on = (i == 0 && m->v2_cpu) || (i == 1 && m->v2_memory) ||
			  (i == 2 && m->v2_pids);

		if (on)
			len += (size_t)snprintf(
			    m->controllers + len, sizeof(m->controllers) - len,
			    "%s%s", len ? " " : "", v2_controllers[i]);
	}
}

/* "+cpu +memory +pids", as far as available. */
static void enable_list(const struct cgroup_manager *m, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (m->v2_cpu)
		len += (size_t)snprintf(buf + len, size - len, "+cpu ");
	if (m->v2_memory)
		len += (size_t)snprintf(buf + len, size - len, "+memory ");
	if (m->v2_pids)
		len += (size_t)snprintf(buf + len, size - len, "+pids ");
	if (len)
		buf[len - 1] = '\0';
}

static int v2_open(struct cgroup_manager *m, const struct cgroup_config *cfg,
		   struct error_detail *err)
{
	_cleanup_close_ int sup_fd = -1;
	char ctrls[256], enable[64], path[PATH_MAX];
	struct statfs sfs;
	const char *base;
	pid_t other;
	int r;

	r = cgroup_v2_locate(cfg->root, NULL, err, path);
	if (r < 0)
		return r;
	if (strlen(path) >= sizeof(m->path))
		return error_set(err, ERROR_UNSUPPORTED, -ENAMETOOLONG,
				 "cgroup path too long: %s", path);
	strcpy(m->path, path);
	base = strrchr(m->path, '/');
	snprintf(m->root_name, sizeof(m->root_name), "%s",
		 base && base[1] ? base + 1 : "");

	m->root_fd = cgroup_open_dir_at(AT_FDCWD, m->path);
	if (m->root_fd == -ENOENT && cfg->root && !m->probing) {
		/* An explicit root may be created on first use. */
		if (mkdir(m->path, 0755) < 0 && errno != EEXIST)
			return error_set(err, ERROR_UNSUPPORTED, negerrno(),
					 "cannot create %s: %m", m->path);
		m->root_fd = cgroup_open_dir_at(AT_FDCWD, m->path);
	}
	if (m->root_fd < 0) {
		r = m->root_fd;
		m->root_fd = -1;
		return error_set(err, ERROR_UNSUPPORTED, r,
				 "cannot open %s: %s", m->path, strerror(-r));
	}
	if (fstatfs(m->root_fd, &sfs) < 0)
		return error_set(err, ERROR_UNSUPPORTED, negerrno(),
				 "statfs %s: %m", m->path);
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return error_set(err, ERROR_UNSUPPORTED, -ENOTDIR,
				 "%s is not on a cgroup2 filesystem", m->path);
	if (faccessat(m->root_fd, "cgroup.subtree_control", W_OK, 0) < 0 ||
	    faccessat(m->root_fd, "cgroup.procs", W_OK, 0) < 0)
		return error_set(err, ERROR_UNSUPPORTED, -EACCES,
				 "%s is not writable by the daemon (not "
				 "delegated?)",
				 m->path);
	r = cgroup_read_at(m->root_fd, "cgroup.controllers", ctrls,
			   sizeof(ctrls));
	if (r < 0)
		return error_set(err, ERROR_UNSUPPORTED, r,
				 "cannot read %s/cgroup.controllers: %s",
				 m->path, strerror(-r));
	m->v2_cpu = cgroup_word_in(ctrls, "cpu");
	m->v2_memory = cgroup_word_in(ctrls, "memory");
	m->v2_pids = cgroup_word_in(ctrls, "pids");
	if (m->probing && !(m->v2_cpu && m->v2_memory && m->v2_pids))
		return error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP,
				 "%s lacks controllers: it offers '%s', boxd "
				 "needs cpu memory pids",
				 m->path, strtok(ctrls, "\n") ?: "");

	/* Everything that can refuse is checked before the daemon moves. */
	other = foreign_pid(m->root_fd);
	if (other)
		return error_set(err, ERROR_UNSUPPORTED, -EBUSY,
				 "%s holds other processes (pid %d); give "
				 "boxd a cgroup of its own",
				 m->path, (int)other);
	sup_fd = cgroup_open_dir_at(m->root_fd, "supervisor");
	if (sup_fd >= 0 && (other = foreign_pid(sup_fd)))
		return error_set(err, ERROR_UNSUPPORTED, -EBUSY,
				 "pid %d is in %s/supervisor: is another boxd "
				 "running on this cgroup?",
				 (int)other, m->path);

	if (sup_fd < 0) {
		if (mkdirat(m->root_fd, "supervisor", 0755) < 0 &&
		    errno != EEXIST)
			return error_set(err, ERROR_UNSUPPORTED, negerrno(),
					 "cannot create %s/supervisor: %m",
					 m->path);
		sup_fd = cgroup_open_dir_at(m->root_fd, "supervisor");
		if (sup_fd < 0)
			return error_set(err, ERROR_UNSUPPORTED, sup_fd,
					 "cannot open %s/supervisor: %s",
					 m->path, strerror(-sup_fd));
	}
	/* "0" moves the writer's whole thread group. */
	r = cgroup_write_at(sup_fd, "cgroup.procs", "0");
	if (r < 0)
		return error_set(err, ERROR_UNSUPPORTED, r,
				 "cannot move the daemon into %s/supervisor: "
				 "%s",
				 m->path, strerror(-r));

	sweep(m);

	enable_list(m, enable, sizeof(enable));
	if (enable[0]) {
		r = cgroup_write_at(m->root_fd, "cgroup.subtree_control",
				    enable);
		if (r < 0)
			return error_set(err, ERROR_UNSUPPORTED, r,
					 "cannot enable '%s' in "
					 "%s/cgroup.subtree_control: %s",
					 enable, m->path, strerror(-r));
	}

	/* supervisor/ is a child with the controllers on: its files show
	 * what every run cgroup will have. */
	set_capabilities(m, sup_fd);
	return 0;
}

static void v2_close(struct cgroup_manager *m)
{
	if (m->root_fd < 0)
		return;
	/* Tidy what is empty; anything still busy is the next start's
	 * sweep. supervisor/ holds the daemon and stays. */
	cgroup_tidy_root(m->root_fd);
	m->root_fd = safe_close(m->root_fd);
}

/* memory.max, swap, cpu.max, pids.max: what lim sets. */
static int v2_write_limits(struct cgroup_run *r, const struct spec_limits *lim)
{
	struct cgroup_manager *m = r->m;
	int k;

	if (m->v2_memory) {
		if (lim->memory_bytes) {
			k = cgroup_run_writef(r, RUN_FILE_MEM_MAX, r->fd,
					      "memory.max", "%" PRIu64,
					      lim->memory_bytes);
			if (k < 0)
				return k;
		}
		if (m->can & CGROUP_CAN_SWAP) {
			k = cgroup_run_writef(r, RUN_FILE_SWAP_MAX, r->fd,
					      "memory.swap.max", "%" PRIu64,
					      lim->memory_swap_bytes);
			if (k < 0)
				return k;
		}
	}
	if (lim->cpu_millis) {
		/* millis / 1000 CPUs of each 100ms period. */
		k = cgroup_writef_at(r->fd, "cpu.max", "%" PRIu64 " 100000",
				     (uint64_t)lim->cpu_millis * 100);
		if (k < 0)
			return k;
	}
	if (lim->pids) {
		k = cgroup_run_writef(r, RUN_FILE_PIDS_MAX, r->fd, "pids.max",
				      "%" PRIu32, lim->pids);
		if (k < 0)
			return k;
	}
	return 0;
}

/* What the take writes and the end reads (cgroup-internal.h). */
static void keep_files(struct cgroup_run *r)
{
	struct cgroup_manager *m = r->m;

	cgroup_run_keep_file(r, RUN_FILE_CPU, r->fd, "cpu.stat", false);
	if (m->has_memory_peak)
		cgroup_run_keep_file(r, RUN_FILE_MEM_PEAK, r->fd, "memory.peak",
				     false);
	if (m->v2_memory) {
		cgroup_run_keep_file(r, RUN_FILE_MEM_EVENTS, r->fd,
				     "memory.events", false);
		cgroup_run_keep_file(r, RUN_FILE_MEM_MAX, r->fd, "memory.max",
				     true);
	}
	if (m->v2_memory && (m->can & CGROUP_CAN_SWAP))
		cgroup_run_keep_file(r, RUN_FILE_SWAP_MAX, r->fd,
				     "memory.swap.max", true);
	if (m->has_pids_peak)
		cgroup_run_keep_file(r, RUN_FILE_PIDS_PEAK, r->fd, "pids.peak",
				     false);
	if (m->v2_pids)
		cgroup_run_keep_file(r, RUN_FILE_PIDS_MAX, r->fd, "pids.max",
				     true);
}

/* mkdir tenant-<uid>/ with the controllers enabled for its runs. */
static int make_tenant(struct cgroup_manager *m, uid_t uid)
{
	char tenant[32], enable[64];
	int k;

	snprintf(tenant, sizeof(tenant), "tenant-%u", (unsigned)uid);
	if (mkdirat(m->root_fd, tenant, 0755) == 0) {
		_cleanup_close_ int tfd =
		    cgroup_open_dir_at(m->root_fd, tenant);

		enable_list(m, enable, sizeof(enable));
		k = tfd < 0 ? tfd
		    : enable[0]
			? cgroup_write_at(tfd, "cgroup.subtree_control", enable)
			: 0;
		if (k < 0) {
			(void)unlinkat(m->root_fd, tenant, AT_REMOVEDIR);
			return k;
		}
	} else if (errno != EEXIST) {
		return negerrno();
	}
	return 0;
}

static int v2_run_create(struct cgroup_manager *m, struct cgroup_run *r,
			 const struct spec_limits *lim)
{
	static const struct spec_limits none = {0};
	int k;

	if (!lim)
		lim = &none;
	if (strncmp(r->rel, "tenant-", 7) == 0) {
		k = make_tenant(m, r->tenant);
		if (k < 0)
			return k;
	}
	if (mkdirat(m->root_fd, r->rel, 0755) < 0)
		return negerrno();
	r->fd = cgroup_open_dir_at(m->root_fd, r->rel);
	if (r->fd < 0) {
		k = r->fd;
		goto fail;
	}
	keep_files(r);
	/* One OOM kill takes the whole run: a half-killed build is worse
	 * than a failed one. */
	if (m->v2_memory) {
		k = cgroup_write_at(r->fd, "memory.oom.group", "1");
		if (k < 0)
			goto fail;
	}
	k = v2_write_limits(r, lim);
	if (k < 0)
		goto fail;
	return 0;

fail:
	cgroup_run_close(r);
	(void)unlinkat(m->root_fd, r->rel, AT_REMOVEDIR);
	return k;
}

static size_t v2_prepare_dirs(const struct cgroup_run *r, int *fds, size_t max)
{
	if (max < 1)
		return 0;
	fds[0] = r->m->root_fd;
	return 1;
}

/* What v2_run_create() does after its mkdir, for a prepared cgroup. */
static int v2_run_adopt(struct cgroup_run *r)
{
	static const struct spec_limits none = {0};

	if (r->fd < 0)
		r->fd = cgroup_open_dir_at(r->m->root_fd, r->rel);
	if (r->fd < 0) {
		int k = r->fd;

		r->fd = -1;
		return k;
	}
	if (r->m->v2_memory) {
		int k = cgroup_write_at(r->fd, "memory.oom.group", "1");

		if (k < 0)
			return k;
	}
	keep_files(r);
	return v2_write_limits(r, &none);
}

/* Every controller is enabled for the cgroup since its mkdir: the limits
 * are all a take writes. */
static int v2_run_limit(struct cgroup_run *r, const struct spec_limits *lim,
			pid_t pid _unused_)
{
	return v2_write_limits(r, lim);
}

static int v2_run_attach(struct cgroup_run *r, pid_t pid)
{
	return cgroup_writef_at(r->fd, "cgroup.procs", "%d", (int)pid);
}

static int v2_run_cpu_ns(struct cgroup_run *r, uint64_t *ret)
{
	uint64_t usec;
	char text[1024];
	int k = cgroup_run_read(r, RUN_FILE_CPU, r->fd, "cpu.stat", text,
				sizeof(text));

	if (k >= 0)
		k = cgroup_key_value(text, "usage_usec", &usec);
	if (k < 0)
		return k;
	*ret = usec * 1000;
	return 0;
}

static int v2_run_stats(struct cgroup_run *r, struct run_result *res)
{
	struct cgroup_manager *m = r->m;
	uint64_t user, sys, v, group;
	char text[1024];
	int k, ret = 0;

	k = cgroup_run_read(r, RUN_FILE_CPU, r->fd, "cpu.stat", text,
			    sizeof(text));
	if (k >= 0)
		k = cgroup_key_value(text, "user_usec", &user);
	if (k >= 0)
		k = cgroup_key_value(text, "system_usec", &sys);
	if (k >= 0) {
		res->user_ns = user * 1000;
		res->system_ns = sys * 1000;
	} else {
		ret = k;
	}
	/* Without memory.peak there is no honest whole-run peak: the
	 * engine's rusage figure (peak_source) stays as it is. */
	if (m->has_memory_peak &&
	    cgroup_run_read_u64(r, RUN_FILE_MEM_PEAK, r->fd, "memory.peak",
				&v) >= 0) {
		res->peak_memory_bytes = v;
		res->peak_source = RUN_PEAK_CGROUP;
	}
	if (m->v2_memory &&
	    cgroup_run_read(r, RUN_FILE_MEM_EVENTS, r->fd, "memory.events",
			    text, sizeof(text)) >= 0 &&
	    cgroup_key_value(text, "oom_kill", &v) >= 0) {
		if (cgroup_key_value(text, "oom_group_kill", &group) >= 0 &&
		    group > v)
			v = group;
		res->oom_kills = v;
	}
	if (m->has_pids_peak &&
	    cgroup_run_read_u64(r, RUN_FILE_PIDS_PEAK, r->fd, "pids.peak",
				&v) >= 0)
		res->peak_pids = v;
	return ret;
}

static int v2_run_kill(struct cgroup_run *r)
{
	return v2_kill_fd(r->m, r->fd, r->suffix);
}

static int v2_run_rmdir(struct cgroup_run *r)
{
	if (unlinkat(r->m->root_fd, r->rel, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT)
		return negerrno();
	return 0;
}

static size_t v2_rmdir_dirs(const struct cgroup_run *r, int *fds, size_t max)
{
	if (max < 1)
		return 0;
	fds[0] = r->m->root_fd;
	return 1;
}

static bool v2_run_populated(struct cgroup_run *r)
{
	return r->fd >= 0 && v2_populated_fd(r->fd);
}

const struct cgroup_ops cgroup_v2_ops = {
    .name = "v2",
    .open = v2_open,
    .close = v2_close,
    .run_create = v2_run_create,
    .run_limit = v2_run_limit,
    .run_attach = v2_run_attach,
    .run_cpu_ns = v2_run_cpu_ns,
    .run_stats = v2_run_stats,
    .run_kill = v2_run_kill,
    .run_rmdir = v2_run_rmdir,
    .rmdir_dirs = v2_rmdir_dirs,
    .prepare_dirs = v2_prepare_dirs,
    .run_adopt = v2_run_adopt,
    .run_populated = v2_run_populated,
};
