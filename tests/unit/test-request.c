/*
 * Tests for daemon/request.c, the trust boundary: every field of a
 * RunRequest as it lands in the run_spec, and every refusal with its kind
 * and its exact message. Requests are built here field by field, as a
 * client's bytes would decode; two more tenants than the built-in root
 * carry the ceilings and restrictions a policy can set. The error-detail convention
 * is checked on the way: ret_out untouched on a refusal, the detail
 * untouched on success.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "box.pb-c.h"
#include "cgroup.h"
#include "config.h"
#include "request.h"
#include "seccomp.h"
#include "util.h"

#define MIB (1024ULL * 1024)
#define SEC 1000000000ULL
#define DEFAULT_PATH \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static struct config *cfg;
/* strict: every ceiling and restriction. restricted: the restrictions
 * without the ceilings that need cgroups (this test has none), so that
 * its requests can be accepted. */
static struct tenant_policy strict, restricted;
static struct bind_rule strict_binds[] = {{(char *)"/srv/data", false},
					  {(char *)"/srv/work", true}};

static void setup(void)
{
	cr_assert_eq(config_new_default(&cfg), 0);
	strict = cfg->fallback;
	strict.name = (char *)"strict";
	strict.max_memory_bytes = 64 * MIB;
	strict.max_cpu_millis = 2000;
	strict.max_pids = 32;
	strict.max_timeout_ns = 10 * SEC;
	strict.max_cpu_time_ns = 5 * SEC;
	strict.allow_net_host = false;
	strict.allow_seccomp_none = false;
	strict.allow_custom_seccomp = false;
	strict.binds_restricted = true;
	strict.binds = strict_binds;
	strict.n_binds = ELEMENTSOF(strict_binds);
	restricted = strict;
	restricted.name = (char *)"restricted";
	restricted.max_memory_bytes = 0;
	restricted.max_cpu_millis = 0;
	restricted.max_pids = 0;
	restricted.max_cpu_time_ns = 0;
}

static void teardown(void)
{
	cfg = config_free(cfg);
	seccomp_cache_clear();
}

TestSuite(request, .init = setup, .fini = teardown);

/* ---- building requests --------------------------------------------- */

static ProtobufCBinaryData bytes(const char *s)
{
	return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

static ProtobufCBinaryData true_argv[] = {{9, (uint8_t *)"/bin/true"}};

/* A request that is accepted as it is: /bin/true, all defaults. */
static Boxd__V1__RunRequest base_request(void)
{
	Boxd__V1__RunRequest r = BOXD__V1__RUN_REQUEST__INIT;

	r.n_argv = ELEMENTSOF(true_argv);
	r.argv = true_argv;
	return r;
}

static Boxd__V1__Mount mount(Boxd__V1__Mount__Kind kind, const char *src,
			     const char *dst)
{
	Boxd__V1__Mount m = BOXD__V1__MOUNT__INIT;

	m.kind = kind;
	m.dst = bytes(dst);
	if (src) {
		m.has_src = true;
		m.src = bytes(src);
	}
	return m;
}

/* A bare request with the given mounts. */
static Boxd__V1__RunRequest with_mounts(Boxd__V1__Mount **m, size_t n)
{
	Boxd__V1__RunRequest r = base_request();

	r.profile = BOXD__V1__PROFILE__PROFILE_BARE;
	r.n_mounts = n;
	r.mounts = m;
	return r;
}

static struct request_ctx ctx_for(const struct tenant_policy *t)
{
	return (struct request_ctx){
	    .cfg = cfg,
	    .tenant = t,
	    .cgroups = NULL,
	    .uid = 1000,
	    .gid = 1000,
	};
}

/* ---- running them ---------------------------------------------------- */

static void accept_with(const Boxd__V1__RunRequest *req,
			const struct request_ctx *ctx, struct request_out *out)
{
	struct error_detail err, untouched;
	int r;

	memset(&err, 'x', sizeof(err));
	untouched = err;
	r = request_to_spec(req, ctx, &err, out);
	cr_assert_eq(r, 0, "refused: %s", err.message);
	cr_assert_not_null(out->spec);
	cr_assert(memcmp(&err, &untouched, sizeof(err)) == 0,
		  "the error detail was written on success");
}

static const struct run_spec *accept(const Boxd__V1__RunRequest *req,
				     const struct tenant_policy *t,
				     struct request_out *out)
{
	struct request_ctx ctx = ctx_for(t);

	accept_with(req, &ctx, out);
	return out->spec;
}

static void expect_refused_with(const Boxd__V1__RunRequest *req,
				const struct request_ctx *ctx,
				enum error_kind kind, const char *message)
{
	struct request_out out, untouched;
	struct error_detail err = {0};
	int r;

	memset(&out, 'x', sizeof(out));
	untouched = out;
	r = request_to_spec(req, ctx, &err, &out);
	cr_expect_lt(r, 0, "accepted; wanted \"%s\"", message);
	if (r >= 0) {
		request_out_clear(&out);
		return;
	}
	cr_expect_eq(err.kind, kind, "kind %d, want %d for \"%s\"", err.kind,
		     kind, message);
	cr_expect_eq(err.err, -r);
	cr_expect_str_eq(err.message, message);
	cr_expect(memcmp(&out, &untouched, sizeof(out)) == 0,
		  "ret_out written on a refusal (\"%s\")", message);
}

static void expect_refused(const Boxd__V1__RunRequest *req,
			   const struct tenant_policy *t, enum error_kind kind,
			   const char *message)
{
	struct request_ctx ctx = ctx_for(t);

	expect_refused_with(req, &ctx, kind, message);
}

#define expect_bad(req, t, message) \
	expect_refused(req, t, ERROR_INVALID, message)

/* ---- request -> spec ------------------------------------------------- */

Test(request, defaults)
{
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s = accept(&req, &cfg->root, &out);
	struct rlimit nofile;
	uint64_t hard = 65536;

	cr_assert_str_eq(s->argv[0], "/bin/true");
	cr_assert_null(s->argv[1]);
	cr_assert_str_eq(s->env[0], DEFAULT_PATH);
	cr_assert_null(s->env[1], "nothing of the daemon's environment");
	cr_assert_str_eq(s->cwd, "/");
	cr_assert_str_eq(s->hostname, "boxd");
	cr_assert_null(s->tag);
	cr_assert_eq(s->uid, 1000, "the caller's uid inside by default");
	cr_assert_eq(s->gid, 1000);
	cr_assert_eq(s->net, SPEC_NET_NONE);
	cr_assert(s->new_session);
	cr_assert(out.die_with_client);
	cr_assert_not_null(s->seccomp, "the default filter");
	cr_assert_eq(out.n_caveats, 0);
	cr_assert(memcmp(&s->limits, &(struct spec_limits){0},
			 sizeof(s->limits)) == 0);

	/* No core dumps; 1024 open files, the hard limit the daemon's or
	 * 65536, whichever is lower. */
	cr_assert(s->rlimits[SPEC_RLIMIT_CORE].set);
	cr_assert_eq(s->rlimits[SPEC_RLIMIT_CORE].soft, 0);
	cr_assert_eq(s->rlimits[SPEC_RLIMIT_CORE].hard, 0);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	if (nofile.rlim_max != RLIM_INFINITY && nofile.rlim_max < hard)
		hard = nofile.rlim_max;
	cr_assert(s->rlimits[SPEC_RLIMIT_NOFILE].set);
	cr_assert_eq(s->rlimits[SPEC_RLIMIT_NOFILE].soft,
		     hard < 1024 ? hard : 1024);
	cr_assert_eq(s->rlimits[SPEC_RLIMIT_NOFILE].hard, hard);
	for (int k = 0; k < _SPEC_RLIMIT_MAX; k++)
		if (k != SPEC_RLIMIT_CORE && k != SPEC_RLIMIT_NOFILE)
			cr_assert_not(s->rlimits[k].set, "rlimit %d", k);

	/* The default profile's mounts, all of the daemon's choosing. */
	cr_assert_gt(s->n_mounts, 0);
	for (size_t i = 0; i < s->n_mounts; i++)
		if (s->mounts[i].kind == SPEC_MOUNT_RO_BIND)
			cr_assert(s->mounts[i].flags & SPEC_MOUNT_TRUSTED);
	request_out_clear(&out);
}

Test(request, every_scalar_field)
{
	static ProtobufCBinaryData argv[] = {
	    {8, (uint8_t *)"/bin/env"}, {0, NULL}, {3, (uint8_t *)"a b"}};
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	req.n_argv = ELEMENTSOF(argv);
	req.argv = argv;
	req.has_cwd = true;
	req.cwd = bytes("//src//project/");
	req.has_hostname = true;
	req.hostname = bytes("judge");
	req.has_tag = true;
	req.tag = bytes("build #7");
	req.has_uid = req.has_gid = true;
	req.uid = 0;
	req.gid = 4242;
	req.has_net = true;
	req.net = BOXD__V1__NET__NET_LOOPBACK;
	req.has_new_session = true;
	req.new_session = false;
	req.has_die_with_client = true;
	req.die_with_client = false;
	s = accept(&req, &restricted, &out);

	cr_assert_str_eq(s->argv[0], "/bin/env");
	cr_assert_str_eq(s->argv[1], "", "later arguments may be empty");
	cr_assert_str_eq(s->argv[2], "a b");
	cr_assert_null(s->argv[3]);
	cr_assert_str_eq(s->cwd, "/src/project", "normalised");
	cr_assert_str_eq(s->hostname, "judge");
	cr_assert_str_eq(s->tag, "build #7");
	cr_assert_eq(s->uid, 0);
	cr_assert_eq(s->gid, 4242);
	cr_assert_eq(s->net, SPEC_NET_LOOPBACK);
	cr_assert_not(s->new_session);
	cr_assert_not(out.die_with_client);
	request_out_clear(&out);

	req.net = BOXD__V1__NET__NET_HOST;
	s = accept(&req, &cfg->root, &out);
	cr_assert_eq(s->net, SPEC_NET_HOST);
	request_out_clear(&out);
}

Test(request, tty_and_its_size)
{
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	s = accept(&req, &restricted, &out);
	cr_assert_not(s->tty, "off unless asked for");
	request_out_clear(&out);

	req.has_tty = true;
	req.tty = true;
	req.has_new_session = true;
	req.new_session = false;
	s = accept(&req, &restricted, &out);
	cr_assert(s->tty);
	cr_assert_eq(s->tty_rows, 0, "no size: the kernel's 0x0");
	cr_assert_eq(s->tty_cols, 0);
	cr_assert(s->new_session, "the command leads the terminal's session");
	request_out_clear(&out);

	req.has_tty_rows = req.has_tty_cols = true;
	req.tty_rows = 50;
	req.tty_cols = 132;
	s = accept(&req, &restricted, &out);
	cr_assert_eq(s->tty_rows, 50);
	cr_assert_eq(s->tty_cols, 132);
	request_out_clear(&out);

	/* A struct winsize holds 16 bits. */
	req.tty_cols = 65536;
	expect_bad(&req, &restricted,
		   "tty_rows and tty_cols must be at most 65535");
	/* A size without a terminal is a mistake worth saying. */
	req.tty = false;
	req.tty_cols = 80;
	expect_bad(&req, &restricted, "tty_rows and tty_cols need tty");
}

Test(request, environment)
{
	static Boxd__V1__EnvVar set[] = {
	    {PROTOBUF_C_MESSAGE_INIT(&boxd__v1__env_var__descriptor),
	     {4, (uint8_t *)"LANG"},
	     {11, (uint8_t *)"C.UTF-8xxxx"}},
	    {PROTOBUF_C_MESSAGE_INIT(&boxd__v1__env_var__descriptor),
	     {5, (uint8_t *)"EMPTY"},
	     {0, NULL}},
	    {PROTOBUF_C_MESSAGE_INIT(&boxd__v1__env_var__descriptor),
	     {4, (uint8_t *)"LANG"},
	     {7, (uint8_t *)"C.UTF-8"}},
	    {PROTOBUF_C_MESSAGE_INIT(&boxd__v1__env_var__descriptor),
	     {4, (uint8_t *)"GONE"},
	     {1, (uint8_t *)"1"}},
	};
	Boxd__V1__EnvVar *setp[] = {&set[0], &set[1], &set[2], &set[3]};
	ProtobufCBinaryData unset[] = {bytes("GONE"), bytes("NEVER_SET")};
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	req.n_setenv = ELEMENTSOF(setp);
	req.setenv = setp;
	req.n_unsetenv = ELEMENTSOF(unset);
	req.unsetenv = unset;
	s = accept(&req, &restricted, &out);
	/* PATH first, then in order; a later setenv replaces in place. */
	cr_assert_str_eq(s->env[0], DEFAULT_PATH);
	cr_assert_str_eq(s->env[1], "LANG=C.UTF-8");
	cr_assert_str_eq(s->env[2], "EMPTY=");
	cr_assert_null(s->env[3], "GONE was unset");
	request_out_clear(&out);

	/* Even PATH may go. */
	unset[0] = bytes("PATH");
	req.n_setenv = 0;
	req.n_unsetenv = 1;
	s = accept(&req, &restricted, &out);
	cr_assert_null(s->env[0]);
	request_out_clear(&out);
}

Test(request, mounts_of_every_kind)
{
	Boxd__V1__Mount m[] = {
	    mount(BOXD__V1__MOUNT__KIND__RO_BIND, "/srv/data/", "/data//in"),
	    mount(BOXD__V1__MOUNT__KIND__BIND, "//srv/work", "/work"),
	    mount(BOXD__V1__MOUNT__KIND__DEV_BIND, "/srv/work/dev", "/dev2"),
	    mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/tmp"),
	    mount(BOXD__V1__MOUNT__KIND__PROC, NULL, "/proc"),
	    mount(BOXD__V1__MOUNT__KIND__DEV, NULL, "/dev"),
	    mount(BOXD__V1__MOUNT__KIND__SYMLINK, "usr/bin", "/bin"),
	    mount(BOXD__V1__MOUNT__KIND__DIR, NULL, "/home/me"),
	    mount(BOXD__V1__MOUNT__KIND__REMOUNT_RO, NULL, "/work"),
	    mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/run"),
	};
	Boxd__V1__Mount *mp[ELEMENTSOF(m)];
	static const struct {
		enum spec_mount_kind kind;
		const char *src, *dst;
		uint64_t size;
		uint32_t mode;
	} want[] = {
	    {SPEC_MOUNT_RO_BIND, "/srv/data", "/data/in", 0, 0},
	    {SPEC_MOUNT_BIND, "/srv/work", "/work", 0, 0},
	    {SPEC_MOUNT_DEV_BIND, "/srv/work/dev", "/dev2", 0, 0},
	    {SPEC_MOUNT_TMPFS, NULL, "/tmp", 16 * MIB, 01777},
	    {SPEC_MOUNT_PROC, NULL, "/proc", 0, 0},
	    {SPEC_MOUNT_DEV, NULL, "/dev", 0, 0},
	    {SPEC_MOUNT_SYMLINK, "usr/bin", "/bin", 0, 0},
	    {SPEC_MOUNT_DIR, NULL, "/home/me", 0, 0700},
	    {SPEC_MOUNT_REMOUNT_RO, NULL, "/work", 0, 0},
	    {SPEC_MOUNT_TMPFS, NULL, "/run", 0, 0},
	};
	Boxd__V1__RunRequest req;
	struct request_out out;
	const struct run_spec *s;

	m[3].has_size = m[3].has_mode = true;
	m[3].size = 16 * MIB;
	m[3].mode = 01777;
	m[7].has_mode = true;
	m[7].mode = 0700;
	m[9].has_size = true; /* 0: the daemon's default */
	for (size_t i = 0; i < ELEMENTSOF(m); i++)
		mp[i] = &m[i];
	req = with_mounts(mp, ELEMENTSOF(mp));

	/* A tenant with bind rules: its binds resolve without symlinks. */
	s = accept(&req, &restricted, &out);
	cr_assert_eq(s->n_mounts, ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		const struct spec_mount *sm = &s->mounts[i];
		bool bind = want[i].kind == SPEC_MOUNT_RO_BIND ||
			    want[i].kind == SPEC_MOUNT_BIND ||
			    want[i].kind == SPEC_MOUNT_DEV_BIND;

		cr_assert_eq(sm->kind, want[i].kind, "mount %zu", i);
		if (want[i].src)
			cr_assert_str_eq(sm->src, want[i].src, "mount %zu", i);
		else
			cr_assert_null(sm->src, "mount %zu", i);
		cr_assert_str_eq(sm->dst, want[i].dst, "mount %zu", i);
		cr_assert_eq(sm->size, want[i].size, "mount %zu", i);
		cr_assert_eq(sm->mode, want[i].mode, "mount %zu", i);
		cr_assert_eq(sm->flags, bind ? SPEC_MOUNT_NO_SYMLINKS : 0u,
			     "mount %zu: flags %#x", i, sm->flags);
	}
	request_out_clear(&out);

	/* An unrestricted one: no flag, nothing trusted. */
	s = accept(&req, &cfg->root, &out);
	for (size_t i = 0; i < s->n_mounts; i++)
		cr_assert_eq(s->mounts[i].flags, 0u, "mount %zu", i);
	request_out_clear(&out);
}

Test(request, request_mounts_follow_the_profile)
{
	Boxd__V1__Mount m = mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/x");
	Boxd__V1__Mount *mp = &m;
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	req.n_mounts = 1;
	req.mounts = &mp;
	s = accept(&req, &cfg->root, &out);
	cr_assert_gt(s->n_mounts, 1);
	cr_assert_str_eq(s->mounts[s->n_mounts - 1].dst, "/x");
	request_out_clear(&out);
}

/* The default profile's /proc and /dev are its own: nothing is mounted
 * onto or below them but device nodes (in /dev), hides and remount-ro;
 * the bare profile leaves them to the caller. */
Test(request, the_default_profiles_proc_and_dev_are_not_mounted_over)
{
	static const struct {
		Boxd__V1__Mount__Kind kind;
		const char *src, *dst, *why;
	} refused[] = {
	    {BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/proc", "tmpfs /proc"},
	    {BOXD__V1__MOUNT__KIND__BIND, "/srv", "/proc/sys",
	     "bind /proc/sys"},
	    {BOXD__V1__MOUNT__KIND__RO_BIND, "/srv", "/dev", "ro-bind /dev"},
	    {BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/dev/shm", "tmpfs /dev/shm"},
	    {BOXD__V1__MOUNT__KIND__DEV_BIND, "/dev/fuse", "/dev",
	     "dev-bind /dev"},
	    {BOXD__V1__MOUNT__KIND__DEV_BIND, "/dev/fuse", "/proc/x",
	     "dev-bind /proc/x"},
	    {BOXD__V1__MOUNT__KIND__PROC, NULL, "/proc", "proc /proc"},
	};
	static const struct {
		Boxd__V1__Mount__Kind kind;
		const char *src, *dst;
	} allowed[] = {
	    {BOXD__V1__MOUNT__KIND__DEV_BIND, "/dev/fuse", "/dev/fuse"},
	    {BOXD__V1__MOUNT__KIND__HIDE, NULL, "/proc/cpuinfo"},
	    {BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/procfs"},
	    {BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/devices"},
	};
	Boxd__V1__Mount m;
	Boxd__V1__Mount *mp = &m;
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	char want[256];

	req.n_mounts = 1;
	req.mounts = &mp;
	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		m = mount(refused[i].kind, refused[i].src, refused[i].dst);
		req.profile = BOXD__V1__PROFILE__PROFILE_DEFAULT;
		snprintf(want, sizeof(want),
			 "%s: the default profile mounts /proc and /dev "
			 "itself; use --profile bare to mount your own",
			 refused[i].why);
		expect_bad(&req, &cfg->root, want);
		req.profile = BOXD__V1__PROFILE__PROFILE_BARE;
		cr_assert_not_null(accept(&req, &cfg->root, &out),
				   "%s refused in the bare profile",
				   refused[i].why);
		request_out_clear(&out);
	}
	req.profile = BOXD__V1__PROFILE__PROFILE_DEFAULT;
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
		m = mount(allowed[i].kind, allowed[i].src, allowed[i].dst);
		cr_assert_not_null(accept(&req, &cfg->root, &out), "%s refused",
				   allowed[i].dst);
		request_out_clear(&out);
	}
}

Test(request, a_rootfs_bind_may_target_root_first_in_bare)
{
	Boxd__V1__Mount m =
	    mount(BOXD__V1__MOUNT__KIND__RO_BIND, "/srv/root", "/");
	Boxd__V1__Mount *mp = &m;
	Boxd__V1__RunRequest req = with_mounts(&mp, 1);
	struct request_out out;
	const struct run_spec *s = accept(&req, &cfg->root, &out);

	cr_assert_str_eq(s->mounts[0].dst, "/");
	request_out_clear(&out);
}

Test(request, limits_without_cgroups)
{
	Boxd__V1__Limits lim = BOXD__V1__LIMITS__INIT;
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	/* The wall timeout is the daemon's own: no cgroup needed. */
	lim.has_timeout_ns = true;
	lim.timeout_ns = 2500 * 1000 * 1000ULL;
	req.limits = &lim;
	s = accept(&req, &cfg->root, &out);
	cr_assert_eq(s->limits.timeout_ns, 2500 * 1000 * 1000ULL);
	request_out_clear(&out);

	/* Lenient: what cannot be enforced is dropped, with a caveat. */
	lim.has_memory_bytes = lim.has_pids = true;
	lim.memory_bytes = 256 * MIB;
	lim.pids = 64;
	req.has_lenient = true;
	req.lenient = true;
	s = accept(&req, &cfg->root, &out);
	cr_assert_eq(s->limits.memory_bytes, 0);
	cr_assert_eq(s->limits.pids, 0);
	cr_assert_eq(s->limits.timeout_ns, 2500 * 1000 * 1000ULL,
		     "the timeout stays");
	cr_assert_eq(out.n_caveats, 1);
	cr_assert_str_eq(out.caveats[0], "limits not enforced: cgroups are "
					 "disabled (--no-cgroups)");
	request_out_clear(&out);
}

/* The tenant's ceilings fill the limits a request leaves unset. */
Test(request, ceilings_fill_absent_limits)
{
	Boxd__V1__Limits lim = BOXD__V1__LIMITS__INIT;
	Boxd__V1__RunRequest req = base_request();
	struct tenant_policy t = cfg->root;
	struct request_out out;
	const struct run_spec *s;

	t.name = (char *)"timed";
	t.max_timeout_ns = 10 * SEC;
	s = accept(&req, &t, &out);
	cr_assert_eq(s->limits.timeout_ns, 10 * SEC);
	request_out_clear(&out);

	lim.has_timeout_ns = true;
	lim.timeout_ns = 3 * SEC;
	req.limits = &lim;
	s = accept(&req, &t, &out);
	cr_assert_eq(s->limits.timeout_ns, 3 * SEC, "below: kept");
	request_out_clear(&out);
}

/*
 * Limits the host enforces reach the spec as asked: needs a cgroup
 * hierarchy this test may use (root, cgroup v1 here; it opens one of its
 * own and removes it).
 */
Test(request, limits_with_cgroups)
{
	char root[64];
	struct cgroup_config cc = {.mode = CGROUP_MODE_V1, .root = root};
	struct cgroup_manager *m = NULL;
	struct error_detail err = {0};
	Boxd__V1__Limits lim = BOXD__V1__LIMITS__INIT;
	Boxd__V1__RunRequest req = base_request();
	struct request_ctx ctx = ctx_for(&cfg->root);
	unsigned need = CGROUP_CAN_MEMORY | CGROUP_CAN_CPUS | CGROUP_CAN_PIDS |
			CGROUP_CAN_CPU_TIME;
	struct request_out out;
	const struct run_spec *s;
	bool swap;

	snprintf(root, sizeof(root), "boxd-test-req-%d", (int)getpid());
	if (geteuid() != 0 || cgroup_manager_open(&cc, &err, &m) < 0)
		cr_skip_test("no cgroup v1 hierarchy to use: %s",
			     geteuid() ? "not root" : err.message);
	if ((cgroup_manager_can(m) & need) != need) {
		m = cgroup_manager_free(m);
		cr_skip_test("this host's v1 hierarchies lack memory, cpu, "
			     "pids or cpuacct");
	}
	swap = cgroup_manager_can(m) & CGROUP_CAN_SWAP;
	lim.has_memory_bytes = lim.has_cpu_millis = lim.has_pids = true;
	lim.has_timeout_ns = lim.has_cpu_time_ns = true;
	lim.memory_bytes = 256 * MIB;
	lim.cpu_millis = 1500;
	lim.pids = 64;
	lim.timeout_ns = 2 * SEC;
	lim.cpu_time_ns = SEC;
	lim.has_memory_swap_bytes = swap;
	lim.memory_swap_bytes = 512 * MIB;
	req.limits = &lim;
	ctx.cgroups = m;
	accept_with(&req, &ctx, &out);
	s = out.spec;
	cr_expect_eq(s->limits.memory_bytes, 256 * MIB);
	cr_expect_eq(s->limits.memory_swap_bytes, swap ? 512 * MIB : 0);
	cr_expect_eq(s->limits.cpu_millis, 1500);
	cr_expect_eq(s->limits.pids, 64);
	cr_expect_eq(s->limits.timeout_ns, 2 * SEC);
	cr_expect_eq(s->limits.cpu_time_ns, SEC);
	request_out_clear(&out);

	/* What the host lacks is named. */
	lim.cpu_millis = 5;
	expect_refused_with(&req, &ctx, ERROR_UNSUPPORTED,
			    "cannot enforce the requested limits: a CPU limit "
			    "below 0.01 CPUs cannot be enforced (cpu quota "
			    "minimum is 1ms) (lenient mode would run without "
			    "them)");
	cgroup_manager_free(m);
}

Test(request, seccomp_modes)
{
	static const char policy[] = "default allow\nerrno EPERM ptrace\n";
	Boxd__V1__Seccomp sc = BOXD__V1__SECCOMP__INIT;
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	sc.mode = BOXD__V1__SECCOMP__MODE__DEFAULT;
	req.seccomp = &sc;
	s = accept(&req, &restricted, &out);
	cr_assert_not_null(s->seccomp);
	request_out_clear(&out);

	sc.mode = BOXD__V1__SECCOMP__MODE__NONE;
	s = accept(&req, &cfg->root, &out);
	cr_assert_null(s->seccomp);
	request_out_clear(&out);

	sc.mode = BOXD__V1__SECCOMP__MODE__CUSTOM;
	sc.has_policy = true;
	sc.policy = bytes(policy);
	s = accept(&req, &cfg->root, &out);
	cr_assert_not_null(s->seccomp);
	request_out_clear(&out);
}

Test(request, every_rlimit_resource)
{
	static const struct {
		Boxd__V1__Rlimit__Resource pb;
		enum spec_rlimit_kind kind;
	} map[] = {
	    {BOXD__V1__RLIMIT__RESOURCE__NOFILE, SPEC_RLIMIT_NOFILE},
	    {BOXD__V1__RLIMIT__RESOURCE__FSIZE, SPEC_RLIMIT_FSIZE},
	    {BOXD__V1__RLIMIT__RESOURCE__CORE, SPEC_RLIMIT_CORE},
	    {BOXD__V1__RLIMIT__RESOURCE__NPROC, SPEC_RLIMIT_NPROC},
	    {BOXD__V1__RLIMIT__RESOURCE__STACK, SPEC_RLIMIT_STACK},
	    {BOXD__V1__RLIMIT__RESOURCE__AS, SPEC_RLIMIT_AS},
	};
	Boxd__V1__Rlimit rl[ELEMENTSOF(map)];
	Boxd__V1__Rlimit *rlp[ELEMENTSOF(map)];
	Boxd__V1__RunRequest req = base_request();
	struct request_out out;
	const struct run_spec *s;

	for (size_t i = 0; i < ELEMENTSOF(map); i++) {
		boxd__v1__rlimit__init(&rl[i]);
		rl[i].resource = map[i].pb;
		rl[i].soft = 100 + i;
		rl[i].hard = 200 + i;
		rlp[i] = &rl[i];
	}
	req.n_rlimits = ELEMENTSOF(rlp);
	req.rlimits = rlp;
	s = accept(&req, &restricted, &out);
	for (size_t i = 0; i < ELEMENTSOF(map); i++) {
		const struct spec_rlimit *r = &s->rlimits[map[i].kind];

		cr_assert(r->set, "resource %d", map[i].pb);
		cr_assert_eq(r->soft, 100 + i, "resource %d", map[i].pb);
		cr_assert_eq(r->hard, 200 + i, "resource %d", map[i].pb);
	}
	request_out_clear(&out);
}

/* ---- refusals -------------------------------------------------------- */

Test(request, argv_refusals)
{
	static ProtobufCBinaryData empty0[] = {{0, NULL}};
	static ProtobufCBinaryData nul[] = {{9, (uint8_t *)"/bin/true"},
					    {3, (uint8_t *)"a\0b"}};
	Boxd__V1__RunRequest req = base_request();
	ProtobufCBinaryData *many;

	req.n_argv = 0;
	expect_bad(&req, &restricted, "argv is empty: nothing to run");
	req.n_argv = 1;
	req.argv = empty0;
	expect_bad(&req, &restricted, "argv[0] is empty");
	req.n_argv = 2;
	req.argv = nul;
	expect_bad(&req, &restricted, "argv[1] contains a NUL byte");

	many = calloc(65537, sizeof(*many));
	cr_assert_not_null(many);
	for (size_t i = 0; i < 65537; i++)
		many[i] = bytes("x");
	req.n_argv = 65537;
	req.argv = many;
	expect_bad(&req, &restricted,
		   "too many arguments (65537, at most 65536)");
	free(many);
}

static Boxd__V1__EnvVar env_var(ProtobufCBinaryData name,
				ProtobufCBinaryData value)
{
	Boxd__V1__EnvVar v = BOXD__V1__ENV_VAR__INIT;

	v.name = name;
	v.value = value;
	return v;
}

Test(request, environment_refusals)
{
	static const ProtobufCBinaryData bad_names[] = {
	    {0, NULL}, {3, (uint8_t *)"A=B"}, {3, (uint8_t *)"A\0B"}};
	Boxd__V1__RunRequest req = base_request();
	Boxd__V1__EnvVar v, *vp = &v;
	ProtobufCBinaryData name;

	req.n_setenv = 1;
	req.setenv = &vp;
	for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
		v = env_var(bad_names[i], bytes("1"));
		expect_bad(&req, &restricted,
			   "setenv: bad variable name (empty, or contains '=' "
			   "or NUL)");
	}
	v = env_var(bytes("FOO"), (ProtobufCBinaryData){3, (uint8_t *)"a\0b"});
	expect_bad(&req, &restricted, "setenv FOO: value contains NUL");

	req.n_setenv = 0;
	req.n_unsetenv = 1;
	req.unsetenv = &name;
	for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
		name = bad_names[i];
		expect_bad(&req, &restricted, "unsetenv: bad variable name");
	}

	req.n_unsetenv = 65537;
	expect_bad(&req, &restricted, "too many environment variables");
	req.n_unsetenv = 0;
	req.n_setenv = 65537;
	expect_bad(&req, &restricted, "too many environment variables");
}

/*
 * Each kind refuses every field it does not use, with the same words
 * whatever the kind, and takes the ones it does.
 */
Test(request, each_mount_kind_refuses_the_fields_it_does_not_use)
{
	static const struct {
		Boxd__V1__Mount__Kind kind;
		const char *name;
		const char *src; /* what it needs, NULL: none */
		bool src_used, size_used, mode_used;
	} kinds[] = {
	    {BOXD__V1__MOUNT__KIND__RO_BIND, "ro-bind", "/srv/data", true,
	     false, false},
	    {BOXD__V1__MOUNT__KIND__BIND, "bind", "/srv/work", true, false,
	     false},
	    {BOXD__V1__MOUNT__KIND__DEV_BIND, "dev-bind", "/srv/work", true,
	     false, false},
	    {BOXD__V1__MOUNT__KIND__TMPFS, "tmpfs", NULL, false, true, true},
	    {BOXD__V1__MOUNT__KIND__PROC, "proc", NULL, false, false, false},
	    {BOXD__V1__MOUNT__KIND__DEV, "dev", NULL, false, false, false},
	    {BOXD__V1__MOUNT__KIND__SYMLINK, "symlink", "target", true, false,
	     false},
	    {BOXD__V1__MOUNT__KIND__DIR, "dir", NULL, false, false, true},
	    {BOXD__V1__MOUNT__KIND__REMOUNT_RO, "remount-ro", NULL, false,
	     false, false},
	};

	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		Boxd__V1__Mount m = mount(kinds[i].kind, kinds[i].src, "/x");
		Boxd__V1__Mount *mp = &m;
		Boxd__V1__RunRequest req = with_mounts(&mp, 1);
		struct request_out out;
		char want[128];

		accept(&req, &restricted, &out);
		request_out_clear(&out);

		if (!kinds[i].src_used) {
			m.has_src = true;
			m.src = bytes("/srv/data");
			snprintf(want, sizeof(want),
				 "%s /x: src applies to the bind kinds and "
				 "symlink only",
				 kinds[i].name);
			expect_bad(&req, &restricted, want);
			/* Even empty: present is present. */
			m.src = (ProtobufCBinaryData){0, NULL};
			expect_bad(&req, &restricted, want);
			m = mount(kinds[i].kind, kinds[i].src, "/x");
		}

		m.has_size = true;
		m.size = 4 * MIB;
		if (kinds[i].size_used) {
			accept(&req, &restricted, &out);
			cr_assert_eq(out.spec->mounts[0].size, 4 * MIB);
			request_out_clear(&out);
		} else {
			snprintf(want, sizeof(want),
				 "%s /x: size applies to tmpfs only",
				 kinds[i].name);
			expect_bad(&req, &restricted, want);
			m.size = 0;
			expect_bad(&req, &restricted, want);
		}
		m = mount(kinds[i].kind, kinds[i].src, "/x");

		m.has_mode = true;
		m.mode = 0750;
		if (kinds[i].mode_used) {
			accept(&req, &restricted, &out);
			cr_assert_eq(out.spec->mounts[0].mode, 0750);
			request_out_clear(&out);
		} else {
			snprintf(
			    want, sizeof(want),
			    "%s /x: mode applies to tmpfs, dir and file only",
			    kinds[i].name);
			expect_bad(&req, &restricted, want);
		}
	}
}

Test(request, mount_refusals)
{
	Boxd__V1__Mount m = mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/x");
	Boxd__V1__Mount *mp[2] = {&m, &m};
	Boxd__V1__RunRequest req = with_mounts(mp, 1);
	Boxd__V1__Mount **many;

	m.kind = (Boxd__V1__Mount__Kind)99;
	expect_bad(&req, &restricted, "mount 0: unknown kind 99");

	m = mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "x");
	expect_bad(&req, &restricted,
		   "tmpfs: destination must be an absolute path without '.' "
		   "or '..' components (mount 0)");
	m.dst = bytes("/a/../b");
	expect_bad(&req, &restricted,
		   "tmpfs: destination must be an absolute path without '.' "
		   "or '..' components (mount 0)");
	m.dst = bytes("/");
	expect_bad(&req, &restricted,
		   "tmpfs: only a bind as the first mount of the bare profile "
		   "may target / (a root filesystem)");
	/* "/" only first, and only in the bare profile. */
	m = mount(BOXD__V1__MOUNT__KIND__BIND, "/srv/work", "/");
	req.n_mounts = 2;
	expect_bad(&req, &restricted,
		   "bind: only a bind as the first mount of the bare profile "
		   "may target / (a root filesystem)");
	req.n_mounts = 1;
	req.profile = BOXD__V1__PROFILE__PROFILE_DEFAULT;
	expect_bad(&req, &restricted,
		   "bind: only a bind as the first mount of the bare profile "
		   "may target / (a root filesystem)");
	req.profile = BOXD__V1__PROFILE__PROFILE_BARE;

	m = mount(BOXD__V1__MOUNT__KIND__SYMLINK, NULL, "/bin");
	expect_bad(&req, &restricted,
		   "symlink /bin: needs a target without NUL");
	m = mount(BOXD__V1__MOUNT__KIND__SYMLINK, "", "/bin");
	expect_bad(&req, &restricted,
		   "symlink /bin: needs a target without NUL");
	m.src = (ProtobufCBinaryData){3, (uint8_t *)"a\0b"};
	expect_bad(&req, &restricted,
		   "symlink /bin: needs a target without NUL");

	m = mount(BOXD__V1__MOUNT__KIND__RO_BIND, NULL, "/in");
	expect_bad(&req, &restricted,
		   "ro-bind /in: source must be an absolute path without '.' "
		   "or '..' components");
	m = mount(BOXD__V1__MOUNT__KIND__RO_BIND, "srv/data", "/in");
	expect_bad(&req, &restricted,
		   "ro-bind /in: source must be an absolute path without '.' "
		   "or '..' components");
	m = mount(BOXD__V1__MOUNT__KIND__RO_BIND, "/srv/data/../../etc", "/in");
	expect_bad(&req, &restricted,
		   "ro-bind /in: source must be an absolute path without '.' "
		   "or '..' components");

	/* The tenant's bind rules: read-only and read-write prefixes. */
	m = mount(BOXD__V1__MOUNT__KIND__RO_BIND, "/etc", "/in");
	expect_refused(&req, &restricted, ERROR_DENIED,
		       "ro-bind /in: tenant 'restricted' may not bind /etc");
	m = mount(BOXD__V1__MOUNT__KIND__BIND, "/srv/data", "/in");
	expect_refused(&req, &restricted, ERROR_DENIED,
		       "bind /in: tenant 'restricted' may not bind /srv/data "
		       "writable");
	m = mount(BOXD__V1__MOUNT__KIND__DEV_BIND, "/srv/database", "/in");
	expect_refused(&req, &restricted, ERROR_DENIED,
		       "dev-bind /in: tenant 'restricted' may not bind "
		       "/srv/database writable");

	m = mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/x");
	m.has_mode = true;
	m.mode = 010000;
	expect_bad(&req, &restricted, "tmpfs /x: bad mode 10000");
	m = mount(BOXD__V1__MOUNT__KIND__DIR, NULL, "/x");
	m.has_mode = true;
	m.mode = 0170777;
	expect_bad(&req, &restricted, "dir /x: bad mode 170777");
	m = mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/x");
	m.has_size = true;
	m.size = 64 * MIB + 1;
	expect_refused(&req, &strict, ERROR_DENIED,
		       "tmpfs /x: size exceeds the tenant's memory ceiling");

	m = mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/x");
	many = calloc(257, sizeof(*many));
	cr_assert_not_null(many);
	for (size_t i = 0; i < 257; i++)
		many[i] = &m;
	req.n_mounts = 257;
	req.mounts = many;
	expect_bad(&req, &restricted, "too many mounts (257, at most 256)");
	free(many);

	req = base_request();
	req.profile = (Boxd__V1__Profile)9;
	expect_bad(&req, &restricted,
		   "unknown profile 9 (known: default, bare)");
}

Test(request, limit_refusals)
{
	Boxd__V1__Limits lim;
	Boxd__V1__RunRequest req = base_request();
	req.limits = &lim;

	/* A limit of 0, in any field. */
	for (int field = 0; field < 5; field++) {
		boxd__v1__limits__init(&lim);
		switch (field) {
		case 0:
			lim.has_memory_bytes = true;
			break;
		case 1:
			lim.has_cpu_millis = true;
			break;
		case 2:
			lim.has_pids = true;
			break;
		case 3:
			lim.has_timeout_ns = true;
			break;
		case 4:
			lim.has_cpu_time_ns = true;
			break;
		}
		expect_bad(&req, &cfg->root,
			   "a limit of 0 is not a limit: leave the field unset "
			   "for none");
	}

	boxd__v1__limits__init(&lim);
	lim.has_memory_swap_bytes = true;
	lim.memory_swap_bytes = 256 * MIB;
	expect_bad(&req, &cfg->root, "memory_swap needs a memory limit");
	lim.has_memory_bytes = true;
	lim.memory_bytes = 512 * MIB;
	expect_bad(&req, &cfg->root,
		   "memory_swap 256M is below the memory limit 512M (it "
		   "counts memory + swap)");
	lim.has_memory_swap_bytes = false;
	lim.memory_bytes = MIB - 1;
	expect_bad(&req, &cfg->root,
		   "memory limit below 1M cannot even start a sandbox");

	/* Above a ceiling: refused, never clamped. */
	boxd__v1__limits__init(&lim);
	lim.has_memory_bytes = true;
	lim.memory_bytes = 128 * MIB;
	expect_refused(&req, &strict, ERROR_DENIED,
		       "memory 128M exceeds tenant 'strict' ceiling 64M");
	boxd__v1__limits__init(&lim);
	lim.has_cpu_millis = true;
	lim.cpu_millis = 2500;
	expect_refused(&req, &strict, ERROR_DENIED,
		       "cpus 2.500 exceeds tenant 'strict' ceiling 2.000");
	boxd__v1__limits__init(&lim);
	lim.has_pids = true;
	lim.pids = 33;
	expect_refused(&req, &strict, ERROR_DENIED,
		       "pids 33 exceeds tenant 'strict' ceiling 32");
	boxd__v1__limits__init(&lim);
	lim.has_timeout_ns = true;
	lim.timeout_ns = 11 * SEC;
	expect_refused(&req, &strict, ERROR_DENIED,
		       "timeout 11s exceeds tenant 'strict' ceiling 10s");
	boxd__v1__limits__init(&lim);
	lim.has_cpu_time_ns = true;
	lim.cpu_time_ns = 6 * SEC;
	expect_refused(&req, &strict, ERROR_DENIED,
		       "cpu time 6s exceeds tenant 'strict' ceiling 5s");

	/* What the host cannot enforce. */
	boxd__v1__limits__init(&lim);
	lim.has_pids = true;
	lim.pids = 10;
	expect_refused(&req, &cfg->root, ERROR_UNSUPPORTED,
		       "cannot enforce the requested limits: cgroups are "
		       "disabled (--no-cgroups) (lenient mode would run "
		       "without them)");
	/* Lenient, but the tenant's own ceilings would go unenforced. */
	req.has_lenient = true;
	req.lenient = true;
	expect_refused(&req, &strict, ERROR_UNSUPPORTED,
		       "tenant 'strict' has ceilings this host cannot "
		       "enforce: cgroups are disabled (--no-cgroups)");
	/* Its ceilings alone, with nothing asked, are held as well. */
	req.limits = NULL;
	req.lenient = false;
	expect_refused(&req, &strict, ERROR_UNSUPPORTED,
		       "cannot enforce the requested limits: cgroups are "
		       "disabled (--no-cgroups) (lenient mode would run "
		       "without them)");
}

Test(request, seccomp_refusals)
{
	Boxd__V1__Seccomp sc = BOXD__V1__SECCOMP__INIT;
	Boxd__V1__RunRequest req = base_request();

	req.seccomp = &sc;
	sc.mode = BOXD__V1__SECCOMP__MODE__NONE;
	expect_refused(
	    &req, &restricted, ERROR_DENIED,
	    "tenant 'restricted' may not run without a seccomp filter");
	sc.mode = BOXD__V1__SECCOMP__MODE__CUSTOM;
	expect_refused(
	    &req, &restricted, ERROR_DENIED,
	    "tenant 'restricted' may not use custom seccomp policies");
	expect_bad(&req, &cfg->root, "custom seccomp needs a policy");
	sc.has_policy = true;
	sc.policy = bytes("default allow\nallow no_such_call\n");
	expect_bad(&req, &cfg->root,
		   "seccomp policy: line 2: unknown syscall 'no_such_call'");
	sc.mode = (Boxd__V1__Seccomp__Mode)9;
	expect_bad(&req, &cfg->root, "unknown seccomp mode 9");
}

Test(request, rlimit_refusals)
{
	Boxd__V1__Rlimit rl = BOXD__V1__RLIMIT__INIT, *rlp = &rl;
	Boxd__V1__RunRequest req = base_request();
	struct rlimit mine;
	char want[128];

	req.n_rlimits = 1;
	req.rlimits = &rlp;
	rl.resource = (Boxd__V1__Rlimit__Resource)99;
	expect_bad(&req, &restricted, "unknown rlimit resource 99");
	rl.resource = BOXD__V1__RLIMIT__RESOURCE__NOFILE;
	rl.soft = 2;
	rl.hard = 1;
	expect_bad(&req, &restricted, "rlimit 1: soft limit above hard limit");

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &mine), 0);
	if (mine.rlim_max == RLIM_INFINITY)
		return; /* nothing above the daemon's own */
	rl.soft = 1;
	rl.hard = (uint64_t)mine.rlim_max + 1;
	snprintf(want, sizeof(want),
		 "rlimit 1: hard limit above the daemon's own (%llu)",
		 (unsigned long long)mine.rlim_max);
	expect_bad(&req, &restricted, want);
}

Test(request, scalar_refusals)
{
	Boxd__V1__RunRequest req = base_request();
	char long_name[66], long_tag[258];

	req.has_cwd = true;
	req.cwd = bytes("src");
	expect_bad(&req, &restricted,
		   "cwd must be an absolute path without '.' or '..' "
		   "components");
	req.cwd = bytes("/src/./x");
	expect_bad(&req, &restricted,
		   "cwd must be an absolute path without '.' or '..' "
		   "components");
	req.has_cwd = false;

	req.has_hostname = true;
	req.hostname = bytes("");
	expect_bad(&req, &restricted,
		   "hostname must be 1-64 bytes without NUL");
	memset(long_name, 'h', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	req.hostname = bytes(long_name);
	expect_bad(&req, &restricted,
		   "hostname must be 1-64 bytes without NUL");
	req.hostname = (ProtobufCBinaryData){3, (uint8_t *)"a\0b"};
	expect_bad(&req, &restricted,
		   "hostname must be 1-64 bytes without NUL");
	req.has_hostname = false;

	req.has_tag = true;
	memset(long_tag, 't', sizeof(long_tag) - 1);
	long_tag[sizeof(long_tag) - 1] = '\0';
	req.tag = bytes(long_tag);
	expect_bad(&req, &restricted,
		   "tag must be at most 256 bytes without NUL");
	req.tag = (ProtobufCBinaryData){3, (uint8_t *)"a\0b"};
	expect_bad(&req, &restricted,
		   "tag must be at most 256 bytes without NUL");
	req.has_tag = false;

	req.has_uid = true;
	req.uid = UINT32_MAX;
	expect_bad(&req, &restricted, "uid/gid 4294967295 is not a valid id");
	req.has_uid = false;
	req.has_gid = true;
	req.gid = UINT32_MAX;
	expect_bad(&req, &restricted, "uid/gid 4294967295 is not a valid id");
	req.has_gid = false;

	req.has_net = true;
	req.net = BOXD__V1__NET__NET_HOST;
	expect_refused(&req, &restricted, ERROR_DENIED,
		       "tenant 'restricted' may not use the host network");
	req.net = (Boxd__V1__Net)9;
	expect_bad(&req, &restricted,
		   "unknown network mode 9 (known: none, loopback, host, "
		   "outbound)");
}

Test(request, net_outbound)
{
	Boxd__V1__RunRequest req = base_request();
	struct tenant_policy no_outbound = restricted;
	struct request_ctx ctx = ctx_for(&restricted);
	struct request_out out;

	req.has_net = true;
	req.net = BOXD__V1__NET__NET_OUTBOUND;
	accept_with(&req, &ctx, &out);
	cr_assert_eq(out.spec->net, SPEC_NET_OUTBOUND);
	request_out_clear(&out);

	/* The daemon found no pasta: refused with its reason. */
	ctx.outbound_missing = "outbound network needs pasta: gone";
	expect_refused_with(&req, &ctx, ERROR_UNSUPPORTED,
			    "outbound network needs pasta: gone");

	/* The tenant may not, whatever the host has. */
	no_outbound.allow_net_outbound = false;
	ctx = ctx_for(&no_outbound);
	expect_refused_with(&req, &ctx, ERROR_DENIED,
			    "tenant 'restricted' may not use outbound network");
}

/* ---- the pieces ------------------------------------------------------ */

Test(request, normalize_path)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
	    {"/", "/"},
	    {"//", "/"},
	    {"/a//b/", "/a/b"},
	    {"///a", "/a"},
	    {"/a.b/..c", "/a.b/..c"},
	    {"", NULL},
	    {"a/b", NULL},
	    {"/a/./b", NULL},
	    {"/a/..", NULL},
	    {"/..", NULL},
	};
	char long_path[4097];
	char *out;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r = request_normalize_path((const uint8_t *)cases[i].in,
					       strlen(cases[i].in), &out);

		if (!cases[i].out) {
			cr_expect_eq(r, -EINVAL, "'%s'", cases[i].in);
			continue;
		}
		cr_expect_eq(r, 0, "'%s'", cases[i].in);
		if (r == 0) {
			cr_expect_str_eq(out, cases[i].out);
			free(out);
		}
	}
	cr_expect_eq(request_normalize_path((const uint8_t *)"/a\0b", 4, &out),
		     -EINVAL);
	long_path[0] = '/';
	memset(long_path + 1, 'p', sizeof(long_path) - 2);
	long_path[sizeof(long_path) - 1] = '\0';
	cr_expect_eq(
	    request_normalize_path((const uint8_t *)long_path, 4096, &out),
	    -EINVAL, "4096 bytes is too long");
	cr_expect_eq(
	    request_normalize_path((const uint8_t *)long_path, 4095, &out), 0);
	free(out);
}

Test(request, error_kinds_map_to_protocol_codes)
{
	cr_assert_eq(request_error_code(ERROR_INVALID),
		     BOXD__V1__ERROR_CODE__BAD_REQUEST);
	cr_assert_eq(request_error_code(ERROR_DENIED),
		     BOXD__V1__ERROR_CODE__DENIED);
	cr_assert_eq(request_error_code(ERROR_UNSUPPORTED),
		     BOXD__V1__ERROR_CODE__UNSUPPORTED);
	cr_assert_eq(request_error_code(ERROR_BUSY),
		     BOXD__V1__ERROR_CODE__BUSY);
	cr_assert_eq(request_error_code(ERROR_NOT_FOUND),
		     BOXD__V1__ERROR_CODE__NOT_FOUND);
	cr_assert_eq(request_error_code(ERROR_SETUP),
		     BOXD__V1__ERROR_CODE__SETUP_FAILED);
	cr_assert_eq(request_error_code(ERROR_EXEC),
		     BOXD__V1__ERROR_CODE__EXEC_FAILED);
	cr_assert_eq(request_error_code(ERROR_INTERNAL),
		     BOXD__V1__ERROR_CODE__INTERNAL);
}

Test(request, hides_go_last_then_the_tenants_deny_list)
{
	Boxd__V1__Mount m[] = {
	    mount(BOXD__V1__MOUNT__KIND__HIDE, NULL, "/data/secret"),
	    mount(BOXD__V1__MOUNT__KIND__RO_BIND, "/srv/data", "/data"),
	    mount(BOXD__V1__MOUNT__KIND__HIDE, NULL, "/data/more"),
	    mount(BOXD__V1__MOUNT__KIND__TMPFS, NULL, "/tmp"),
	};
	Boxd__V1__Mount *mp[ELEMENTSOF(m)];
	char *deny[] = {(char *)"/srv/data/keys"};
	struct tenant_policy t = cfg->root;
	static const struct {
		enum spec_mount_kind kind;
		const char *src, *dst;
	} want[] = {
	    {SPEC_MOUNT_RO_BIND, "/srv/data", "/data"},
	    {SPEC_MOUNT_TMPFS, NULL, "/tmp"},
	    {SPEC_MOUNT_HIDE, NULL, "/data/secret"},
	    {SPEC_MOUNT_HIDE, NULL, "/data/more"},
	    {SPEC_MOUNT_HIDE, "/srv/data/keys", "/srv/data/keys"},
	};
	Boxd__V1__RunRequest req;
	struct request_out out;
	const struct run_spec *s;

	for (size_t i = 0; i < ELEMENTSOF(m); i++)
		mp[i] = &m[i];
	req = with_mounts(mp, ELEMENTSOF(mp));
	t.deny = deny;
	t.n_deny = 1;
	s = accept(&req, &t, &out);
	cr_assert_eq(s->n_mounts, ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		cr_assert_eq(s->mounts[i].kind, want[i].kind, "mount %zu", i);
		if (want[i].src)
			cr_assert_str_eq(s->mounts[i].src, want[i].src);
		else
			cr_assert_null(s->mounts[i].src, "mount %zu", i);
		cr_assert_str_eq(s->mounts[i].dst, want[i].dst);
	}
	request_out_clear(&out);

	/* A hide takes nothing but dst, and never "/". */
	m[0] = mount(BOXD__V1__MOUNT__KIND__HIDE, "/srv", "/data/secret");
	expect_bad(&req, &cfg->root,
		   "hide /data/secret: src applies to the bind kinds and "
		   "symlink only");
	m[0] = mount(BOXD__V1__MOUNT__KIND__HIDE, NULL, "/");
	expect_bad(&req, &cfg->root,
		   "hide: only a bind as the first mount of the bare profile "
		   "may target / (a root filesystem)");
}

Test(request, file_content_is_copied_and_bounded)
{
	static uint8_t content[] = "a\0b";
	Boxd__V1__Mount m[] = {
	    mount(BOXD__V1__MOUNT__KIND__FILE, NULL, "/etc/conf"),
	};
	Boxd__V1__Mount *mp[] = {&m[0]};
	Boxd__V1__RunRequest req = with_mounts(mp, 1);
	struct request_out out;
	const struct run_spec *s;

	m[0].has_data = true;
	m[0].data = (ProtobufCBinaryData){3, content};
	s = accept(&req, &cfg->root, &out);
	cr_assert_eq(s->mounts[0].kind, SPEC_MOUNT_FILE);
	cr_assert_eq(s->mounts[0].data_len, 3);
	cr_assert(s->mounts[0].data != content);
	cr_assert(memcmp(s->mounts[0].data, "a\0b", 3) == 0);
	request_out_clear(&out);

	/* Data on another kind is refused, not ignored. */
	m[0].kind = BOXD__V1__MOUNT__KIND__DIR;
	expect_bad(&req, &cfg->root,
		   "dir /etc/conf: data applies to file only");
	m[0].kind = BOXD__V1__MOUNT__KIND__FILE;

	/* Above the daemon's tmpfs-size in all. */
	m[0].data.len = (size_t)cfg->tmpfs_default_bytes + 1;
	expect_bad(&req, &cfg->root,
		   "file: 67108865 bytes of content in all, "
		   "above the daemon's tmpfs-size (67108864 "
		   "bytes)");
}

Test(request, overlays_and_write_ephemeral)
{
	Boxd__V1__Mount m[] = {
	    mount(BOXD__V1__MOUNT__KIND__OVERLAY, "/srv/data", "/data"),
	    mount(BOXD__V1__MOUNT__KIND__RO_BIND, "/srv/data/a", "/a"),
	    mount(BOXD__V1__MOUNT__KIND__BIND, "/srv/work", "/work"),
	};
	Boxd__V1__Mount *mp[] = {&m[0], &m[1], &m[2]};
	Boxd__V1__RunRequest req = with_mounts(mp, 3);
	struct request_out out;
	const struct run_spec *s;

	/* An overlay is held against the tenant's rules as a read-only
	 * bind: strict allows /srv/data read-only. */
	s = accept(&req, &cfg->root, &out);
	cr_assert_eq(s->mounts[0].kind, SPEC_MOUNT_OVERLAY);
	cr_assert_eq(s->mounts[1].kind, SPEC_MOUNT_RO_BIND);
	cr_assert_not(s->write_ephemeral);
	request_out_clear(&out);

	/* Ephemeral: read-only binds become overlays, writable ones stay. */
	req.has_write_ephemeral = req.write_ephemeral = true;
	s = accept(&req, &cfg->root, &out);
	cr_assert(s->write_ephemeral);
	cr_assert_eq(s->mounts[1].kind, SPEC_MOUNT_OVERLAY);
	cr_assert(s->mounts[1].flags & SPEC_MOUNT_EPHEMERAL);
	cr_assert_eq(s->mounts[2].kind, SPEC_MOUNT_BIND);
	request_out_clear(&out);
}

/* Mount.upper as far as the request layer can judge it: by its path.
 * What the directory is (owner, symlink, filesystem) is boxd-init's to
 * check (tests/unit/test-upper.c, tests/security/test-overlay.c). */
Test(request, overlay_upper_paths)
{
	Boxd__V1__Mount m =
	    mount(BOXD__V1__MOUNT__KIND__OVERLAY, "/srv/data", "/data");
	Boxd__V1__Mount *mp = &m;
	Boxd__V1__RunRequest req = with_mounts(&mp, 1);
	struct tenant_policy priv = cfg->root;
	struct request_out out;
	const struct run_spec *s;

	m.has_upper = true;
	m.upper = bytes("/srv//keep/");
	s = accept(&req, &cfg->root, &out);
	cr_assert_eq(s->mounts[0].kind, SPEC_MOUNT_OVERLAY);
	cr_assert_str_eq(s->mounts[0].upper, "/srv/keep");
	request_out_clear(&out);
	/* A sibling whose name starts like the source's is not in it. */
	m.upper = bytes("/srv/data2");
	s = accept(&req, &cfg->root, &out);
	cr_assert_str_eq(s->mounts[0].upper, "/srv/data2");
	request_out_clear(&out);

	/* No directory named, or not one the daemon can take as is. */
	m.upper = bytes("");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper must be an absolute path without "
		   "'.' or '..' components");
	m.upper = bytes("keep");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper must be an absolute path without "
		   "'.' or '..' components");
	m.upper = bytes("/srv/data/../keep");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper must be an absolute path without "
		   "'.' or '..' components");

	/* The source must never change: no upper in it, above it, or it. */
	m.upper = bytes("/srv/data/keep");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper /srv/data/keep and source /srv/data "
		   "must not lie in one another");
	m.upper = bytes("/srv/data");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper /srv/data and source /srv/data must "
		   "not lie in one another");
	m.upper = bytes("/srv");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper /srv and source /srv/data must not "
		   "lie in one another");
	m.upper = bytes("/");
	expect_bad(&req, &cfg->root,
		   "overlay /data: upper / and source /srv/data must not lie "
		   "in one another");

	/* Held against the tenant's bind rules as a writable bind. */
	m.upper = bytes("/srv/work/keep");
	s = accept(&req, &restricted, &out);
	cr_assert(s->mounts[0].flags & SPEC_MOUNT_NO_SYMLINKS);
	request_out_clear(&out);
	m.upper = bytes("/srv/elsewhere");
	expect_refused(&req, &restricted, ERROR_DENIED,
		       "overlay /data: tenant 'restricted' may not bind "
		       "/srv/elsewhere writable (the overlay's upper "
		       "directory)");

	/* A private uid owns nothing of the caller's. */
	priv.name = (char *)"priv";
	priv.uid_mode = UID_MODE_PRIVATE;
	m.upper = bytes("/srv/keep");
	expect_refused(&req, &priv, ERROR_DENIED,
		       "overlay /data: tenant 'priv' runs with private uids, "
		       "which cannot keep writes in a directory of the "
		       "caller's");
}

Test(request, upper_belongs_to_overlays_only_and_is_bounded)
{
	static const Boxd__V1__Mount__Kind others[] = {
	    BOXD__V1__MOUNT__KIND__RO_BIND, BOXD__V1__MOUNT__KIND__BIND,
	    BOXD__V1__MOUNT__KIND__TMPFS,   BOXD__V1__MOUNT__KIND__DIR,
	    BOXD__V1__MOUNT__KIND__HIDE,
	};
	Boxd__V1__Mount m[SPEC_MAX_PERSISTENT_OVERLAYS + 1];
	Boxd__V1__Mount *mp[SPEC_MAX_PERSISTENT_OVERLAYS + 1];
	Boxd__V1__RunRequest req;
	struct request_out out;
	char dst[SPEC_MAX_PERSISTENT_OVERLAYS + 1][16];
	char want[128];

	for (size_t i = 0; i < ELEMENTSOF(others); i++) {
		bool src = others[i] == BOXD__V1__MOUNT__KIND__RO_BIND ||
			   others[i] == BOXD__V1__MOUNT__KIND__BIND;
		const char *name =
		    others[i] == BOXD__V1__MOUNT__KIND__RO_BIND ? "ro-bind"
		    : others[i] == BOXD__V1__MOUNT__KIND__BIND  ? "bind"
		    : others[i] == BOXD__V1__MOUNT__KIND__TMPFS ? "tmpfs"
		    : others[i] == BOXD__V1__MOUNT__KIND__DIR   ? "dir"
								: "hide";

		m[0] = mount(others[i], src ? "/srv/data" : NULL, "/x");
		mp[0] = &m[0];
		req = with_mounts(mp, 1);
		accept(&req, &cfg->root, &out);
		request_out_clear(&out);
		m[0].has_upper = true;
		m[0].upper = bytes("/srv/keep");
		snprintf(want, sizeof(want),
			 "%s /x: upper applies to overlay only", name);
		expect_bad(&req, &cfg->root, want);
	}

	/* Each persistent overlay takes a place in boxd-init's park. */
	for (size_t i = 0; i < ELEMENTSOF(m); i++) {
		snprintf(dst[i], sizeof(dst[i]), "/o%zu", i);
		m[i] =
		    mount(BOXD__V1__MOUNT__KIND__OVERLAY, "/srv/data", dst[i]);
		m[i].has_upper = true;
		m[i].upper = bytes("/srv/keep");
		mp[i] = &m[i];
	}
	req = with_mounts(mp, SPEC_MAX_PERSISTENT_OVERLAYS);
	accept(&req, &cfg->root, &out);
	request_out_clear(&out);
	req = with_mounts(mp, SPEC_MAX_PERSISTENT_OVERLAYS + 1);
	snprintf(want, sizeof(want),
		 "overlay: %d with an upper directory, at most %d",
		 SPEC_MAX_PERSISTENT_OVERLAYS + 1,
		 SPEC_MAX_PERSISTENT_OVERLAYS);
	expect_bad(&req, &cfg->root, want);
}
