/*
 * cgroup v1 backend for hybrid hosts: cpu, cpuacct, memory and pids are
 * separate hierarchies (cpu and cpuacct possibly co-mounted), plus the
 * freezer when there is one. boxd's tree is "<mount>/<root>/" in each,
 * with the same layout as on v2 (cgroup.h), and a process is attached by
 * writing its pid into every hierarchy its cgroup was made in: all but
 * cpu, which a cgroup joins only for a CPU limit (unless co-mounted with
 * cpuacct): each hierarchy costs a mkdir, a cgroup.procs write and an
 * rmdir per run.
 *
 * What v1 cannot do, said once here: no clone-time placement (the engine
 * attaches after clone, at refill for pool members), no group OOM kill (the OOM killer takes single
 * processes and the rest of the run goes on; the result still counts the
 * kill in oom_kills, and ends out_of_memory only when the command itself
 * was the victim), no cgroup.kill (freeze, kill, thaw; or repeated SIGKILL
 * without a freezer).
 *
 * This file must never mkdir or remove anything outside "<mount>/<root>",
 * and never kill a process it has not found in one of boxd's cgroups.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup-internal.h"
#include "log.h"

/* Each hierarchy once: co-mounted controllers are handled by their owner. */
static bool hier_owner(const struct cgroup_manager *m, int i)
{
	return m->v1[i].present && m->v1[i].owner == i;
}

static const char *const hier_names[_CGROUP_V1_MAX] = {
    [CGROUP_V1_CPU] = "cpu",         [CGROUP_V1_CPUACCT] = "cpuacct",
    [CGROUP_V1_MEMORY] = "memory",   [CGROUP_V1_PIDS] = "pids",
    [CGROUP_V1_FREEZER] = "freezer",
};

/* A file only that controller has at the top of its hierarchy; NULL when
 * the top has none (pids, freezer): the directory name has to do. */
static const char *const hier_marker[_CGROUP_V1_MAX] = {
    [CGROUP_V1_CPU] = "cpu.cfs_quota_us",
    [CGROUP_V1_CPUACCT] = "cpuacct.usage",
    [CGROUP_V1_MEMORY] = "memory.limit_in_bytes",
};

/* Opens the hierarchy of controller h under base, as "h" or co-mounted. */
static int open_mount(const char *base, enum cgroup_v1_hier h, char *ret_path,
		      size_t len)
{
	const char *cands[3] = {hier_names[h], NULL, NULL};
	struct statfs sfs;

	if (h == CGROUP_V1_CPU || h == CGROUP_V1_CPUACCT) {
		cands[1] = "cpu,cpuacct";
		cands[2] = "cpuacct,cpu";
	}
	for (size_t i = 0; i < ELEMENTSOF(cands) && cands[i]; i++) {
		_cleanup_close_ int fd = -1;

		snprintf(ret_path, len, "%s/%s", base, cands[i]);
		fd = cgroup_open_dir_at(AT_FDCWD, ret_path);
		if (fd < 0)
			continue;
		if (fstatfs(fd, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
			continue;
		if (hier_marker[h] && !cgroup_has_file_at(fd, hier_marker[h]))
			continue;
		return TAKE_FD(fd);
	}
	return -ENOENT;
}

static int mkdir_p_at(int dfd, const char *rel)
{
	char buf[256], *p;

	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdirat(dfd, buf, 0755) < 0 && errno != EEXIST)
				return negerrno();
			if (c == '\0')
				return 0;
			*p = c;
		}
	}
}

static bool root_name_ok(const char *name)
{
	const char *p = name;

	if (!*name || strlen(name) >= 128 || name[strlen(name) - 1] == '/')
		return false;
	/* Relative, no "." or ".." component: it must stay below the
	 * hierarchy's top. */
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);

		if (l == 0 || (l == 1 && p[0] == '.') ||
		    (l == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = *e ? e + 1 : e;
	}
	return true;
}

struct v1_kill {
	struct cgroup_manager *m;
	int killed;
};

static void kill_node(const struct cgroup_node *n, void *userdata)
{
	struct v1_kill *k = userdata;
	char suffix[512];
	int r;

	cgroup_make_suffix(k->m, n->rel, suffix, sizeof(suffix));
	r = cgroup_kill_procs_at(n->fd, suffix);
	if (r > 0)
		k->killed += r;
}

/* Kill every process at rel and below in the hierarchy at root_fd;
 * returns how many were signalled. */
static int tree_kill(struct cgroup_manager *m, int root_fd, const char *rel)
{
	struct v1_kill k = {.m = m};

	(void)cgroup_tree_walk(root_fd, rel, kill_node, NULL, &k);
	return k.killed;
}

static int rmdir_node(const struct cgroup_node *n, void *userdata _unused_)
{
	if (unlinkat(n->parent_fd, n->name, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT)
		return negerrno();
	return 0;
}

/* rmdir rel and below, depth-first. */
static int tree_rmdir(int root_fd, const char *rel)
{
	return cgroup_tree_walk(root_fd, rel, NULL, rmdir_node, NULL);
}

static bool freeze_at(int fd, const char *state)
{
	uint64_t deadline = now_ns() + 100 * 1000 * 1000ULL;
	unsigned round = 0;
	char buf[32];

	if (cgroup_write_at(fd, "freezer.state", state) < 0)
		return false;
	/* FREEZING until every task has stopped; one stuck in the kernel
	 * keeps it there, and then the kill loop below runs unfrozen. */
	while (cgroup_read_at(fd, "freezer.state", buf, sizeof(buf)) > 0 &&
	       strncmp(buf, state, strlen(state)) != 0) {
		if (now_ns() >= deadline)
			return false;
		cgroup_backoff(&round);
	}
	return true;
}

/* Kill everything at rel (and below) in every hierarchy. */
static int kill_rel(struct cgroup_manager *m, const char *rel)
{
	_cleanup_close_ int ffd = -1;
	bool frozen = false;
	int n = 0;

	if (m->v1[CGROUP_V1_FREEZER].present) {
		ffd = cgroup_open_dir_at(m->v1[CGROUP_V1_FREEZER].root_fd, rel);
		/* A frozen cgroup cannot fork while its list is walked. */
		if (ffd >= 0)
			frozen = freeze_at(ffd, "FROZEN");
	}
	for (int round = 0; round < 64; round++) {
		n = 0;
		for (int i = 0; i < _CGROUP_V1_MAX; i++)
			if (hier_owner(m, i))
				n += tree_kill(m, m->v1[i].root_fd, rel);
		if (n == 0 || frozen)
			break;
	}
	/* v1 frozen tasks only act on the SIGKILL once thawed. */
	if (ffd >= 0)
		(void)cgroup_write_at(ffd, "freezer.state", "THAWED");
	return 0;
}

static bool rel_populated(struct cgroup_manager *m, const char *rel)
{
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		_cleanup_close_ int fd = -1;
		bool empty = true;

		if (!hier_owner(m, i))
			continue;
		fd = cgroup_open_dir_at(m->v1[i].root_fd, rel);
		if (fd >= 0 && cgroup_procs_empty_at(fd, &empty) >= 0 && !empty)
			return true;
	}
	return false;
}

static void remove_leftover(struct cgroup_manager *m, const char *rel)
{
	uint64_t deadline = now_ns() + CGROUP_EMPTY_WAIT_NS;
	unsigned round = 0;
	int r = 0;

	(void)kill_rel(m, rel);
	for (;;) {
		if (rel_populated(m, rel)) {
			if (round % 8 == 7)
				(void)kill_rel(m, rel);
		} else {
			r = 0;
			for (int i = 0; i < _CGROUP_V1_MAX; i++) {
				int k;

				if (!hier_owner(m, i))
					continue;
				k = tree_rmdir(m->v1[i].root_fd, rel);
				if (k < 0 && r == 0)
					r = k;
			}
			/* EBUSY: a task just killed is still on its way
			 * out; see run_try_remove(). */
			if (r != -EBUSY)
				break;
		}
		if (now_ns() >= deadline) {
			log_debug("cgroup: cannot remove leftover %s", rel);
			return;
		}
		cgroup_backoff(&round);
	}
	if (r < 0)
		log_debug("cgroup: cannot remove leftover %s: %s", rel,
			  strerror(-r));
	else
		log_debug("cgroup: swept leftover %s", rel);
}

static void sweep_one(int dfd _unused_, const char *name, void *userdata)
{
	remove_leftover(userdata, name);
}

/* Leftovers of an earlier daemon, in whichever hierarchy they remain. */
static void sweep(struct cgroup_manager *m)
{
	for (int i = 0; i < _CGROUP_V1_MAX; i++)
		if (hier_owner(m, i))
			cgroup_for_each_own_child(m->v1[i].root_fd, sweep_one,
						  m);
}

static void set_capabilities(struct cgroup_manager *m)
{
	struct cgroup_v1_hierarchy *mem = &m->v1[CGROUP_V1_MEMORY];
	size_t len = 0;

	m->can = 0;
	if (mem->present) {
		m->can |= CGROUP_CAN_MEMORY | CGROUP_CAN_PEAK_MEMORY;
		if (cgroup_has_file_at(mem->root_fd,
				       "memory.memsw.limit_in_bytes"))
			m->can |= CGROUP_CAN_SWAP;
		else
			CGROUP_MISSING(m, SWAP) =
			    "cgroup file 'memory.memsw.limit_in_bytes' "
			    "is missing (swap accounting is off)";
	} else {
		CGROUP_MISSING(m, MEMORY) =
		    "cgroup controller 'memory' is not available";
		CGROUP_MISSING(m, SWAP) = CGROUP_MISSING(m, MEMORY);
		CGROUP_MISSING(m, PEAK_MEMORY) = CGROUP_MISSING(m, MEMORY);
	}
	if (m->v1[CGROUP_V1_CPU].present)
		m->can |= CGROUP_CAN_CPUS;
	else
		CGROUP_MISSING(m, CPUS) =
		    "cgroup controller 'cpu' is not available";
	if (m->v1[CGROUP_V1_CPUACCT].present) {
		m->can |= CGROUP_CAN_CPU_TIME;
		m->v1_usage_split =
		    cgroup_has_file_at(m->v1[CGROUP_V1_CPUACCT].root_fd,
				       "cpuacct.usage_user") &&
		    cgroup_has_file_at(m->v1[CGROUP_V1_CPUACCT].root_fd,
				       "cpuacct.usage_sys");
	} else {
		CGROUP_MISSING(m, CPU_TIME) =
		    "cgroup controller 'cpuacct' is not available";
	}
	if (m->v1[CGROUP_V1_PIDS].present) {
		m->can |= CGROUP_CAN_PIDS;
		/* Newer kernels have pids.peak on v1 too. */
		m->has_pids_peak = cgroup_has_file_at(
		    m->v1[CGROUP_V1_PIDS].root_fd, "pids.peak");
		if (m->has_pids_peak)
			m->can |= CGROUP_CAN_PEAK_PIDS;
		else
			CGROUP_MISSING(m, PEAK_PIDS) =
			    "cgroup v1 pids has no peak counter";
	} else {
		CGROUP_MISSING(m, PIDS) =
		    "cgroup controller 'pids' is not available";
		CGROUP_MISSING(m, PEAK_PIDS) = CGROUP_MISSING(m, PIDS);
	}
	if (m->v1[CGROUP_V1_FREEZER].present)
		m->can |= CGROUP_CAN_KILL;
	else
		CGROUP_MISSING(m, KILL) =
		    "no v1 freezer hierarchy: runs are killed by "
		    "repeated SIGKILL";
	CGROUP_MISSING(m, CLONE_INTO) =
	    "cgroup v1 cannot place a process at clone time";

	m->controllers[0] = '\0';
	for (int i = 0; i < _CGROUP_V1_MAX; i++)
		if (m->v1[i].present)
			len += (size_t)snprintf(
			    m->controllers + len, sizeof(m->controllers) - len,
			    "%s%s", len ? " " : "", hier_names[i]);
}

static int v1_open(struct cgroup_manager *m, const struct cgroup_config *cfg,
		   struct error_detail *err)
{
	const char *base = cfg->v1_mount ? cfg->v1_mount : "/sys/fs/cgroup";
	const char *root = cfg->root ? cfg->root : "boxd";
	int mount_fd[_CGROUP_V1_MAX];
	struct stat st[_CGROUP_V1_MAX];
	const char *slash;
	int r = 0;

	/* In auto mode the root may be meant for v2, where it is a path. */
	if (m->probing && cfg->root && cfg->root[0] == '/')
		return error_set(err, ERROR_INVALID, -EINVAL,
				 "cgroup root '%s' is a cgroup2 path; v1 "
				 "takes a name relative to each hierarchy",
				 cfg->root);
	while (*root == '/')
		root++;
	if (!root_name_ok(root))
		return error_set(err, ERROR_INVALID, -EINVAL,
				 "cgroup root '%s' is not a relative name "
				 "below the v1 hierarchies",
				 cfg->root);
	slash = strrchr(root, '/');
	snprintf(m->root_name, sizeof(m->root_name), "%s",
		 slash ? slash + 1 : root);

	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		char path[256];

		m->v1[i].controller = hier_names[i];
		mount_fd[i] = open_mount(base, (enum cgroup_v1_hier)i, path,
					 sizeof(path));
		if (mount_fd[i] < 0 || fstat(mount_fd[i], &st[i]) < 0) {
			mount_fd[i] = safe_close(mount_fd[i]);
			continue;
		}
		if (snprintf(m->v1[i].path, sizeof(m->v1[i].path), "%s/%s",
			     path, root) >= (int)sizeof(m->v1[i].path)) {
			mount_fd[i] = safe_close(mount_fd[i]);
			continue;
		}
		m->v1[i].present = true;
		/* Co-mounted controllers share one hierarchy (one st_dev). */
		for (int j = 0; j < i; j++)
			if (m->v1[j].present && st[j].st_dev == st[i].st_dev) {
				m->v1[i].owner = m->v1[j].owner;
				break;
			}
	}

	if (m->probing) {
		static const enum cgroup_v1_hier need[] = {
		    CGROUP_V1_MEMORY, CGROUP_V1_CPU, CGROUP_V1_PIDS};

		for (size_t k = 0; k < ELEMENTSOF(need); k++) {
			if (!m->v1[need[k]].present) {
				r = error_set(err, ERROR_UNSUPPORTED,
					      -EOPNOTSUPP,
					      "no v1 '%s' hierarchy under %s",
					      hier_names[need[k]], base);
				goto out;
			}
		}
	}
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (!hier_owner(m, i))
			continue;
		if (faccessat(mount_fd[i], "cgroup.procs", W_OK, 0) < 0) {
			r = error_set(err, ERROR_UNSUPPORTED, negerrno(),
				      "v1 hierarchy %s/%s is not writable: %m",
				      base, hier_names[i]);
			goto out;
		}
	}
	if (!m->v1[CGROUP_V1_MEMORY].present && !m->v1[CGROUP_V1_CPU].present &&
	    !m->v1[CGROUP_V1_PIDS].present) {
		r = error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP,
			      "no v1 cpu, memory or pids hierarchy under %s",
			      base);
		goto out;
	}

	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (!hier_owner(m, i))
			continue;
		r = mkdir_p_at(mount_fd[i], root);
		if (r >= 0) {
			m->v1[i].root_fd =
			    cgroup_open_dir_at(mount_fd[i], root);
			r = m->v1[i].root_fd;
		}
		if (r < 0) {
			m->v1[i].root_fd = -1;
			r = error_set(err, ERROR_UNSUPPORTED, r,
				      "cannot create %s: %s", m->v1[i].path,
				      strerror(-r));
			goto out;
		}
	}
	/* Co-mounted entries point at their owner's fds. */
	for (int i = 0; i < _CGROUP_V1_MAX; i++)
		if (m->v1[i].present && m->v1[i].owner != i)
			snprintf(m->v1[i].path, sizeof(m->v1[i].path), "%s",
				 m->v1[m->v1[i].owner].path);

	sweep(m);

	snprintf(m->path, sizeof(m->path), "%s",
		 m->v1[CGROUP_V1_MEMORY].present
		     ? m->v1[CGROUP_V1_MEMORY].path
		     : m->v1[m->v1[CGROUP_V1_CPU].present ? CGROUP_V1_CPU
							  : CGROUP_V1_PIDS]
			   .path);
	set_capabilities(m);
	r = 0;
out:
	for (int i = 0; i < _CGROUP_V1_MAX; i++)
		safe_close(mount_fd[i]);
	return r;
}

static void v1_close(struct cgroup_manager *m)
{
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (!hier_owner(m, i))
			continue;
		if (m->v1[i].root_fd < 0)
			continue;
		cgroup_tidy_root(m->v1[i].root_fd);
		m->v1[i].root_fd = safe_close(m->v1[i].root_fd);
		/* The root is ours on v1 ("<controller>/boxd"): leave
		 * nothing behind when it is empty. */
		(void)cgroup_rmdir_patient(AT_FDCWD, m->v1[i].path);
	}
}

static int v1_run_rmdir(struct cgroup_run *r)
{
	int ret = 0;

	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (!hier_owner(r->m, i))
			continue;
		if (unlinkat(r->m->v1[i].root_fd, r->rel, AT_REMOVEDIR) < 0 &&
		    errno != ENOENT && ret == 0)
			ret = negerrno();
	}
	return ret;
}

static size_t v1_rmdir_dirs(const struct cgroup_run *r, int *fds, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < _CGROUP_V1_MAX && n < max; i++)
		if (hier_owner(r->m, i))
			fds[n++] = r->m->v1[i].root_fd;
	return n;
}

/* Does a cgroup with these limits need hierarchy i? Only cpu can be left
 * out, and only when it is a hierarchy of its own: cpuacct, memory, pids
 * and the freezer serve every run (usage, peaks, kills). */
static bool hier_needed(const struct cgroup_manager *m, int i,
			const struct spec_limits *lim)
{
	if (!hier_owner(m, i))
		return false;
	if (i != CGROUP_V1_CPU || lim->cpu_millis)
		return true;
	return m->v1[CGROUP_V1_CPUACCT].present &&
	       m->v1[CGROUP_V1_CPUACCT].owner == CGROUP_V1_CPU;
}

/* mkdir r->rel in hierarchy i (its tenant-<uid>/ too) and open it. */
static int make_in(struct cgroup_manager *m, struct cgroup_run *r, int i)
{
	char tenant[32];

	if (strncmp(r->rel, "tenant-", 7) == 0) {
		snprintf(tenant, sizeof(tenant), "tenant-%u",
			 (unsigned)r->tenant);
		if (mkdirat(m->v1[i].root_fd, tenant, 0755) < 0 &&
		    errno != EEXIST)
			return negerrno();
	}
	if (mkdirat(m->v1[i].root_fd, r->rel, 0755) < 0)
		return negerrno();
	r->v1_fd[i] = cgroup_open_dir_at(m->v1[i].root_fd, r->rel);
	if (r->v1_fd[i] < 0) {
		int k = r->v1_fd[i];

		r->v1_fd[i] = -1;
		(void)unlinkat(m->v1[i].root_fd, r->rel, AT_REMOVEDIR);
		return k;
	}
	return 0;
}

static int v1_run_create(struct cgroup_manager *m, struct cgroup_run *r,
			 const struct spec_limits *lim)
{
	static const struct spec_limits none = {0};
	int k;

	if (!lim)
		lim = &none;
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (!hier_needed(m, i, lim))
			continue;
		k = make_in(m, r, i);
		if (k < 0)
			goto fail;
	}
	cgroup_v1_keep_files(r);
	k = cgroup_v1_write_limits(m, r, lim);
	if (k < 0)
		goto fail;
	return 0;

fail:
	/* Only what this call made: a directory that existed (EEXIST) is
	 * another run's and stays. */
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (r->v1_fd[i] >= 0)
			(void)unlinkat(m->v1[i].root_fd, r->rel, AT_REMOVEDIR);
		r->v1_fd[i] = safe_close(r->v1_fd[i]);
	}
	return k;
}

static size_t v1_prepare_dirs(const struct cgroup_run *r, int *fds, size_t max)
{
	static const struct spec_limits none = {0};
	const struct cgroup_manager *m = r->m;
	size_t n = 0;

	if (hier_needed(m, CGROUP_V1_MEMORY, &none) && n < max)
		fds[n++] = m->v1[CGROUP_V1_MEMORY].root_fd;
	for (int i = 0; i < _CGROUP_V1_MAX && n < max; i++)
		if (i != CGROUP_V1_MEMORY && hier_needed(m, i, &none))
			fds[n++] = m->v1[i].root_fd;
	return n;
}

static int v1_run_adopt(struct cgroup_run *r)
{
	static const struct spec_limits none = {0};

	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		if (!hier_needed(r->m, i, &none) || r->v1_fd[i] >= 0)
			continue;
		r->v1_fd[i] = cgroup_open_dir_at(r->m->v1[i].root_fd, r->rel);
		if (r->v1_fd[i] < 0) {
			int k = r->v1_fd[i];

			r->v1_fd[i] = -1;
			return k;
		}
	}
	cgroup_v1_keep_files(r);
	return cgroup_v1_write_limits(r->m, r, &none);
}

/* A member's cgroup at the take: the cpu hierarchy only now, and only for
 * a CPU limit; pid 1 runs nothing of the caller's yet, so moving it here
 * is not racy. Then the limits. */
static int v1_run_limit(struct cgroup_run *r, const struct spec_limits *lim,
			pid_t pid)
{
	struct cgroup_manager *m = r->m;
	int k;

	if (hier_needed(m, CGROUP_V1_CPU, lim) && r->v1_fd[CGROUP_V1_CPU] < 0) {
		k = make_in(m, r, CGROUP_V1_CPU);
		if (k < 0)
			return k;
		k = cgroup_writef_at(r->v1_fd[CGROUP_V1_CPU], "cgroup.procs",
				     "%d", (int)pid);
		if (k < 0)
			return k;
	}
	return cgroup_v1_write_limits(m, r, lim);
}

static int attach_fds(struct cgroup_manager *m, const int *fds, pid_t pid)
{
	int k;

	/* memory first, so what the process does next is charged to it. */
	int mem = cgroup_v1_fd_of(m, CGROUP_V1_MEMORY, fds);

	if (mem >= 0) {
		k = cgroup_writef_at(mem, "cgroup.procs", "%d", (int)pid);
		if (k < 0)
			return k;
	}
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		/* Not made for this cgroup (cpu without a CPU limit). */
		if (!hier_owner(m, i) || fds[i] < 0)
			continue;
		if (fds[i] == mem)
			continue;
		k = cgroup_writef_at(fds[i], "cgroup.procs", "%d", (int)pid);
		if (k < 0)
			return k;
	}
	return 0;
}

static int v1_run_attach(struct cgroup_run *r, pid_t pid)
{
	return attach_fds(r->m, r->v1_fd, pid);
}

static int v1_run_kill(struct cgroup_run *r)
{
	return kill_rel(r->m, r->rel);
}

static bool v1_run_populated(struct cgroup_run *r)
{
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		bool empty = true;

		if (!hier_owner(r->m, i))
			continue;
		if (r->v1_fd[i] >= 0 &&
		    cgroup_procs_empty_at(r->v1_fd[i], &empty) >= 0 && !empty)
			return true;
	}
	return false;
}

const struct cgroup_ops cgroup_v1_ops = {
    .name = "v1",
    .open = v1_open,
    .close = v1_close,
    .run_create = v1_run_create,
    .run_limit = v1_run_limit,
    .run_attach = v1_run_attach,
    .run_cpu_ns = cgroup_v1_run_cpu_ns,
    .run_stats = cgroup_v1_run_stats,
    .run_kill = v1_run_kill,
    .rmdir_dirs = v1_rmdir_dirs,
    .prepare_dirs = v1_prepare_dirs,
    .run_adopt = v1_run_adopt,
    .run_rmdir = v1_run_rmdir,
    .run_populated = v1_run_populated,
};
