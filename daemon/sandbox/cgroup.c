/*
 * The cgroup manager: picks a backend once (v2, v1 or none), keeps the
 * bookkeeping of run handles, and owns the list of runs whose cgroup could
 * not be removed yet. The public functions of cgroup.h live here and
 * dispatch to the backend's ops. What both backends use to kill a
 * cgroup's processes and to walk and sweep their trees is cgroup-tree.c;
 * the cgroupfs file helpers are cgroup-files.c.
 *
 * This file must never log above debug and never exit.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-internal.h"
#include "log.h"

static const char *const can_names[CGROUP_CAN_BITS] = {
    "a memory limit", "a swap limit",     "a CPU limit",
    "a pids limit",   "a CPU time limit", "peak memory",
    "peak pids",      "killing a run",    "spawning into a cgroup",
};

/* The "none" backend: no cgroups at all. Runs still get a handle so the
 * engine needs no special case; every limit was refused by check(). */

static int none_open(struct cgroup_manager *m _unused_,
		     const struct cgroup_config *cfg _unused_,
		     struct error_detail *err _unused_)
{
	return 0;
}

static void none_close(struct cgroup_manager *m _unused_) {}

static int none_run_create(struct cgroup_manager *m _unused_,
			   struct cgroup_run *r _unused_,
			   const struct spec_limits *lim _unused_)
{
	return 0;
}

static int none_run_limit(struct cgroup_run *r _unused_,
			  const struct spec_limits *lim _unused_,
			  pid_t pid _unused_)
{
	return 0;
}

static int none_run_attach(struct cgroup_run *r _unused_, pid_t pid _unused_)
{
	return 0;
}

static int none_run_cpu_ns(struct cgroup_run *r _unused_,
			   uint64_t *ret _unused_)
{
	return -EOPNOTSUPP;
}

static int none_run_stats(struct cgroup_run *r _unused_,
			  struct run_result *res _unused_)
{
	return 0;
}

static int none_run_kill(struct cgroup_run *r _unused_)
{
	return -EOPNOTSUPP;
}
static int none_run_rmdir(struct cgroup_run *r _unused_)
{
	return 0;
}
static bool none_run_populated(struct cgroup_run *r _unused_)
{
	return false;
}

static const struct cgroup_ops cgroup_none_ops = {
    .name = "none",
    .open = none_open,
    .close = none_close,
    .run_create = none_run_create,
    .run_limit = none_run_limit,
    .run_attach = none_run_attach,
    .run_cpu_ns = none_run_cpu_ns,
    .run_stats = none_run_stats,
    .run_kill = none_run_kill,
    .run_rmdir = none_run_rmdir,
    .run_populated = none_run_populated,
};

static struct cgroup_manager *manager_new(enum cgroup_mode mode,
					  const struct cgroup_ops *ops)
{
	struct cgroup_manager *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->ops = ops;
	m->mode = mode;
	m->root_fd = -1;
	for (int i = 0; i < _CGROUP_V1_MAX; i++) {
		m->v1[i].root_fd = -1;
		m->v1[i].owner = i;
	}
	LIST_INIT(&m->runs);
	LIST_INIT(&m->busy);
	return m;
}

static void manager_freep(struct cgroup_manager **m)
{
	if (*m) {
		(*m)->ops->close(*m);
		free(*m);
	}
}

static int open_backend(enum cgroup_mode mode, const struct cgroup_ops *ops,
			const struct cgroup_config *cfg, bool probing,
			struct error_detail *err, struct cgroup_manager **ret)
{
	_cleanup_(manager_freep) struct cgroup_manager *m = NULL;
	int r;

	m = manager_new(mode, ops);
	if (!m)
		return error_set(err, ERROR_INTERNAL, -ENOMEM, "out of memory");
	m->probing = probing;
	r = ops->open(m, cfg, err);
	if (r < 0)
		return r;
	m->probing = false;
	*ret = TAKE_PTR(m);
	return 0;
}

int cgroup_manager_open(const struct cgroup_config *cfg,
			struct error_detail *err, struct cgroup_manager **ret)
{
	struct cgroup_manager *m = NULL;
	struct error_detail err_v2, err_v1;
	int r;

	switch (cfg->mode) {
	case CGROUP_MODE_NONE:
		r = open_backend(CGROUP_MODE_NONE, &cgroup_none_ops, cfg, false,
				 err, &m);
		if (r < 0)
			return r;
		for (int i = 0; i < CGROUP_CAN_BITS; i++)
			m->missing[i] = "cgroups are disabled (--no-cgroups)";
		snprintf(m->path, sizeof(m->path), "-");
		break;
	case CGROUP_MODE_V2:
		r = open_backend(CGROUP_MODE_V2, &cgroup_v2_ops, cfg, false,
				 err, &m);
		if (r < 0)
			return r;
		break;
	case CGROUP_MODE_V1:
		r = open_backend(CGROUP_MODE_V1, &cgroup_v1_ops, cfg, false,
				 err, &m);
		if (r < 0)
			return r;
		break;
	case CGROUP_MODE_AUTO:
	default:
		/* Probing: a backend that cannot serve fails before it moves
		 * the daemon or creates anything, so the next one starts from
		 * a clean slate. */
		r = open_backend(CGROUP_MODE_V2, &cgroup_v2_ops, cfg, true,
				 &err_v2, &m);
		if (r >= 0)
			break;
		log_debug("cgroup: v2 not usable: %s", err_v2.message);
		r = open_backend(CGROUP_MODE_V1, &cgroup_v1_ops, cfg, true,
				 &err_v1, &m);
		if (r >= 0)
			break;
		return error_set(err, err_v1.kind, r,
				 "no usable cgroup hierarchy: v2: %s; v1: %s",
				 err_v2.message, err_v1.message);
	}
	log_debug("cgroup: %s backend at %s, controllers '%s'", m->ops->name,
		  m->path, m->controllers);
	*ret = m;
	return 0;
}

static void run_release(struct cgroup_run *r)
{
	if (r->m) {
		LIST_REMOVE(r, live);
		if (r->on_busy_list)
			LIST_REMOVE(r, busy);
	}
	cgroup_run_close(r);
	free(r);
}

int cgroup_manager_remove_in_background(struct cgroup_manager *m)
{
	if (!m || m->remover || m->mode == CGROUP_MODE_NONE)
		return 0;
	return remover_start(&m->remover);
}

/* rmdir an empty run cgroup: queued for the remover when there is one. */
static int run_rmdir(struct cgroup_run *r)
{
	int fds[_CGROUP_V1_MAX];
	size_t n;

	if (r->m->remover && r->m->ops->rmdir_dirs) {
		n = r->m->ops->rmdir_dirs(r, fds, ELEMENTSOF(fds));
		if (remover_queue(r->m->remover, fds, n, r->rel) == 0)
			return 0;
	}
	return r->m->ops->run_rmdir(r);
}

/* Kill what is left, wait (bounded) for it to go if asked to, and rmdir.
 * An empty process list is not yet an rmdir-able cgroup: a killed task
 * leaves the list as it starts exiting but keeps its cgroup busy a little
 * longer, so EBUSY is retried within the same bound. */
static int run_try_remove(struct cgroup_run *r, bool wait)
{
	const struct cgroup_ops *ops = r->m->ops;
	uint64_t deadline = now_ns() + CGROUP_EMPTY_WAIT_NS;
	unsigned round = 0;
	bool killed = false;
	int k;

	for (;;) {
		if (ops->run_populated(r)) {
			/* Again now and then: without cgroup.kill, a child
			 * forked while the list was walked escaped it. */
			if (!killed || round % 8 == 7) {
				k = ops->run_kill(r);
				if (k < 0 && k != -EOPNOTSUPP)
					log_debug("cgroup: kill %s: %s", r->rel,
						  strerror(-k));
				killed = true;
			}
		} else {
			k = run_rmdir(r);
			if (k >= 0)
				break;
			if (k != -EBUSY)
				return k;
		}
		if (!wait || now_ns() >= deadline) {
			k = ops->run_rmdir(r);
			if (k < 0)
				return k;
			break;
		}
		cgroup_backoff(&round);
	}
	r->removed = true;
	cgroup_run_close(r);
	return 0;
}

static void manager_release_runs(struct cgroup_manager *m)
{
	struct cgroup_run *r;

	while ((r = LIST_FIRST(&m->runs))) {
		if (!r->removed)
			(void)run_try_remove(r, true);
		if (r->on_busy_list && r->caller_dropped) {
			run_release(r);
			continue;
		}
		/* Still held by the caller: orphan it. Its cgroup, if still
		 * there, is swept by the next daemon's startup. */
		LIST_REMOVE(r, live);
		if (r->on_busy_list)
			LIST_REMOVE(r, busy);
		r->on_busy_list = false;
		r->m = NULL;
		cgroup_run_close(r);
	}
}

int cgroup_rmdir_patient(int dirfd, const char *name)
{
	for (int round = 0;; round++) {
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		/* EBUSY: tasks just killed are still leaving; ENOTEMPTY: a
		 * child run cgroup is still being removed. */
		if ((errno != EBUSY && errno != ENOTEMPTY) || round >= 100)
			return negerrno();
		usleep(10000);
	}
}

/* pids.max - pids.current of the cgroup at dfd; UINT64_MAX for "max".
 * -ENOENT where there is no pids.max (a hierarchy's root). */
static int pids_room_at(int dfd, uint64_t *ret)
{
	char buf[32];
	uint64_t max, cur;
	int r = cgroup_read_at(dfd, "pids.max", buf, sizeof(buf));

	if (r < 0)
		return r;
	if (strncmp(buf, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	r = cgroup_read_u64_at(dfd, "pids.max", &max);
	if (r < 0)
		return r;
	r = cgroup_read_u64_at(dfd, "pids.current", &cur);
	if (r < 0)
		return r;
	*ret = max > cur ? max - cur : 0;
	return 0;
}

int cgroup_manager_pids_room(const struct cgroup_manager *m, uint64_t *ret)
{
	uint64_t room = UINT64_MAX;
	int fd, r;

	if (m->mode == CGROUP_MODE_V2 && m->v2_pids)
		fd = m->root_fd;
	else if (m->mode == CGROUP_MODE_V1 && m->v1[CGROUP_V1_PIDS].present)
		fd = m->v1[CGROUP_V1_PIDS].root_fd;
	else
		return -EOPNOTSUPP;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return negerrno();
	/* Up to the hierarchy's root, which has no pids.max: an ancestor's
	 * limit (a unit's TasksMax) binds as much as our own. */
	for (int depth = 0; depth < 32; depth++) {
		uint64_t here;
		int up;

		r = pids_room_at(fd, &here);
		if (r < 0)
			break;
		if (here < room)
			room = here;
		up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
		if (fd < 0)
			break;
	}
	safe_close(fd);
	*ret = room;
	return 0;
}

struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m)
{
	if (!m)
		return NULL;
	cgroup_manager_reap(m);
	manager_release_runs(m);
	m->remover = remover_stop(m->remover);
	m->ops->close(m);
	free(m);
	return NULL;
}

enum cgroup_mode cgroup_manager_mode(const struct cgroup_manager *m)
{
	return m->mode;
}

const char *cgroup_manager_mode_name(const struct cgroup_manager *m)
{
	return m->ops->name;
}

const char *cgroup_manager_path(const struct cgroup_manager *m)
{
	return m->path;
}

unsigned cgroup_manager_can(const struct cgroup_manager *m)
{
	return m->can;
}

const char *cgroup_manager_controllers(const struct cgroup_manager *m)
{
	return m->controllers;
}

static int bit_index(unsigned bit)
{
	return __builtin_ctz(bit);
}

static int refuse(const struct cgroup_manager *m, unsigned bit,
		  struct error_detail *err)
{
	int i = bit_index(bit);

	if (m->missing[i])
		return error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP, "%s",
				 m->missing[i]);
	return error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP,
			 "this host cannot enforce %s", can_names[i]);
}

int cgroup_manager_check(const struct cgroup_manager *m,
			 const struct spec_limits *lim,
			 struct error_detail *err)
{
	const struct {
		bool wanted;
		unsigned bit;
	} needs[] = {
	    {lim && lim->memory_bytes, CGROUP_CAN_MEMORY},
	    {lim && lim->memory_swap_bytes, CGROUP_CAN_SWAP},
	    {lim && lim->cpu_millis, CGROUP_CAN_CPUS},
	    {lim && lim->pids, CGROUP_CAN_PIDS},
	    {lim && lim->cpu_time_ns, CGROUP_CAN_CPU_TIME},
	};

	if (!lim)
		return 0;
	/* The wall-time limit is the engine's timer, not a cgroup's: it
	 * stays available with --no-cgroups. */
	for (size_t i = 0; i < ELEMENTSOF(needs); i++)
		if (needs[i].wanted && !(m->can & needs[i].bit))
			return refuse(m, needs[i].bit, err);
	/* cpu.max and cfs_quota_us reject a quota under 1ms per 100ms. */
	if (lim->cpu_millis && lim->cpu_millis < 10)
		return error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP,
				 "a CPU limit below 0.01 CPUs cannot be "
				 "enforced (cpu quota minimum is 1ms)");
	/* v1 bounds memory+swap together: without a memory bound there is
	 * nothing to add the swap allowance to. */
	if (m->mode == CGROUP_MODE_V1 && lim->memory_swap_bytes &&
	    !lim->memory_bytes)
		return error_set(err, ERROR_UNSUPPORTED, -EOPNOTSUPP,
				 "a swap limit needs a memory limit on "
				 "cgroup v1 (memory.memsw.limit_in_bytes "
				 "bounds memory and swap together)");
	return 0;
}

/* A handle for a cgroup at rel (not made yet). */
static struct cgroup_run *run_new(struct cgroup_manager *m, const char *rel)
{
	struct cgroup_run *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->m = m;
	r->fd = -1;
	for (int i = 0; i < _CGROUP_V1_MAX; i++)
		r->v1_fd[i] = -1;
	for (int i = 0; i < _RUN_FILE_MAX; i++)
		r->file[i] = -1;
	snprintf(r->rel, sizeof(r->rel), "%s", rel);
	cgroup_make_suffix(m, r->rel, r->suffix, sizeof(r->suffix));
	return r;
}

/* mkdir r and write lim (NULL: none); frees r on failure. */
static int run_make(struct cgroup_manager *m, struct cgroup_run *r,
		    const struct spec_limits *lim, struct cgroup_run **ret)
{
	int k = m->ops->run_create(m, r, lim);

	if (k < 0) {
		cgroup_run_close(r);
		log_debug("cgroup: create %s: %s", r->rel, strerror(-k));
		free(r);
		return k;
	}
	LIST_INSERT_HEAD(&m->runs, r, live);
	*ret = r;
	return 0;
}

int cgroup_run_create(struct cgroup_manager *m, uid_t tenant, uint64_t run_id,
		      const struct spec_limits *lim, struct cgroup_run **ret)
{
	struct cgroup_run *r;
	char rel[64];
	int k;

	k = cgroup_manager_check(m, lim, NULL);
	if (k < 0)
		return k;
	snprintf(rel, sizeof(rel), "tenant-%u/run-%" PRIu64, (unsigned)tenant,
		 run_id);
	r = run_new(m, rel);
	if (!r)
		return -ENOMEM;
	r->tenant = tenant;
	r->id = run_id;
	return run_make(m, r, lim, ret);
}

int cgroup_run_prepare(struct cgroup_manager *m, struct cgroup_run **ret)
{
	struct cgroup_run *r;
	char rel[64];

	snprintf(rel, sizeof(rel), "sandbox-%" PRIu64, m->next_sandbox++);
	r = run_new(m, rel);
	if (!r)
		return -ENOMEM;
	return run_make(m, r, NULL, ret);
}

int cgroup_run_reserve(struct cgroup_manager *m, struct cgroup_run **ret)
{
	struct cgroup_run *r;
	char rel[64];

	if (!m->ops->prepare_dirs || !m->ops->run_adopt)
		return -EOPNOTSUPP;
	snprintf(rel, sizeof(rel), "sandbox-%" PRIu64, m->next_sandbox++);
	r = run_new(m, rel);
	if (!r)
		return -ENOMEM;
	/* Listed like any run: freeing it removes what was made. */
	LIST_INSERT_HEAD(&m->runs, r, live);
	*ret = r;
	return 0;
}

const char *cgroup_run_name(const struct cgroup_run *r)
{
	return r->rel;
}

size_t cgroup_run_reserve_dirs(const struct cgroup_run *r, int *ret_fds,
			       size_t max)
{
	if (!r->m || r->removed)
		return 0;
	return r->m->ops->prepare_dirs(r, ret_fds, max);
}

int cgroup_run_adopt(struct cgroup_run *r)
{
	int k;

	if (!r->m)
		return -ENODEV;
	k = r->m->ops->run_adopt(r);
	if (k < 0)
		log_debug("cgroup: adopt %s: %s", r->rel, strerror(-k));
	return k;
}

int cgroup_run_bind(struct cgroup_run *r, uid_t tenant, uint64_t run_id,
		    const struct spec_limits *lim, pid_t pid)
{
	int k;

	if (!r->m)
		return -ENODEV;
	if (r->removed || r->on_busy_list)
		return -ENOENT;
	k = cgroup_manager_check(r->m, lim, NULL);
	if (k < 0)
		return k;
	r->tenant = tenant;
	r->id = run_id;
	k = r->m->ops->run_limit(r, lim, pid);
	if (k < 0)
		log_debug("cgroup: limits for %s: %s", r->rel, strerror(-k));
	return k;
}

int cgroup_run_clone_fd(struct cgroup_run *r)
{
	if (!r->m || r->removed || r->m->mode != CGROUP_MODE_V2)
		return -1;
	return r->fd;
}

size_t cgroup_run_attach_dirs(const struct cgroup_run *r, int *ret_fds,
			      size_t max)
{
	int mem = r->v1_fd[CGROUP_V1_MEMORY];
	size_t n = 0;

	if (!r->m || r->m->mode != CGROUP_MODE_V1 || r->removed)
		return 0;
	/* memory first, so what the process does next is charged to it;
	 * each hierarchy once (a co-mounted one has its fd at the owner's
	 * index only). */
	if (mem >= 0 && n < max)
		ret_fds[n++] = mem;
	for (int i = 0; i < _CGROUP_V1_MAX && n < max; i++)
		if (i != CGROUP_V1_MEMORY && r->v1_fd[i] >= 0)
			ret_fds[n++] = r->v1_fd[i];
	return n;
}

int cgroup_run_attach(struct cgroup_run *r, pid_t pid)
{
	if (!r->m)
		return -ENODEV;
	if (r->removed || r->on_busy_list)
		return -ENOENT;
	return r->m->ops->run_attach(r, pid);
}

int cgroup_run_cpu_ns(struct cgroup_run *r, uint64_t *ret)
{
	if (!r->m)
		return -ENODEV;
	if (r->removed)
		return -ENOENT;
	return r->m->ops->run_cpu_ns(r, ret);
}

int cgroup_run_stats(struct cgroup_run *r, struct run_result *res)
{
	if (!r->m)
		return -ENODEV;
	if (r->removed)
		return -ENOENT;
	return r->m->ops->run_stats(r, res);
}

int cgroup_run_kill(struct cgroup_run *r)
{
	if (!r->m)
		return -ENODEV;
	if (r->removed)
		return 0;
	return r->m->ops->run_kill(r);
}

int cgroup_run_destroy(struct cgroup_run *r)
{
	int k;

	if (!r->m)
		return -ENODEV;
	if (r->removed)
		return 0;
	if (r->on_busy_list)
		return -EBUSY;
	k = run_try_remove(r, true);
	if (k == -EBUSY || k == -ENOTEMPTY) {
		LIST_INSERT_HEAD(&r->m->busy, r, busy);
		r->on_busy_list = true;
		log_debug("cgroup: %s still busy, left for reaping", r->rel);
		return -EBUSY;
	}
	return k;
}

struct cgroup_run *cgroup_run_free(struct cgroup_run *r)
{
	if (!r)
		return NULL;
	if (r->m && !r->removed && !r->on_busy_list)
		(void)cgroup_run_destroy(r);
	if (r->on_busy_list) {
		/* The manager owns it now and frees it once removed. */
		r->caller_dropped = true;
		return NULL;
	}
	run_release(r);
	return NULL;
}

void cgroup_manager_reap(struct cgroup_manager *m)
{
	struct cgroup_run *r, *next;

	for (r = LIST_FIRST(&m->busy); r; r = next) {
		next = LIST_NEXT(r, busy);
		if (run_try_remove(r, false) < 0)
			continue;
		LIST_REMOVE(r, busy);
		r->on_busy_list = false;
		log_debug("cgroup: reaped %s", r->rel);
		if (r->caller_dropped)
			run_release(r);
	}
}
