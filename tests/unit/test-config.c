/*
 * Tests for the configuration (config.c, config-parse.c, config-tenant.c):
 * good files and their values, every kind of bad file with the exact
 * "file:line: why" it must produce, inheritance from [default], the order
 * tenants are matched in, which peers get no tenant, and tenant_may_bind's
 * edge cases. Config texts go through a memfd, so the tests touch no
 * files on disk.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "config-internal.h"
#include "config.h"
#include "util.h"

static int load(const char *text, size_t len, struct config **ret, char *why,
		size_t why_len, char *path, size_t path_len)
{
	int fd = memfd_create("boxd.conf", MFD_CLOEXEC);
	struct error_detail err;
	int r;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	snprintf(path, path_len, "/proc/self/fd/%d", fd);
	r = config_load(path, &err, ret);
	close(fd);
	if (r < 0)
		snprintf(why, why_len, "%s", err.message);
	return r;
}

static struct config *load_ok(const char *text)
{
	struct config *c = NULL;
	char why[512] = "", path[64];
	int r =
	    load(text, strlen(text), &c, why, sizeof(why), path, sizeof(path));

	cr_assert_eq(r, 0, "config rejected: %s", why);
	cr_assert_not_null(c);
	return c;
}

struct bad_config {
	const char *text;
	unsigned line;
	const char *why; /* the start of the message after "file:line: " */
};

static void expect_bad(const struct bad_config *b, size_t len)
{
	struct config *c = NULL;
	char why[512] = "", path[64], want[512];
	int r = load(b->text, len, &c, why, sizeof(why), path, sizeof(path));

	snprintf(want, sizeof(want), "%s:%u: %s", path, b->line, b->why);
	cr_expect_eq(r, -EINVAL, "'%s': got %d, want -EINVAL (%s)", b->text, r,
		     why);
	cr_expect_null(c);
	cr_expect(strncmp(why, want, strlen(want)) == 0,
		  "config:\n%s\ngot:  %s\nwant: %s...", b->text, why, want);
	config_free(c);
}

/* ----------------------------------------------------------- good files */

Test(config, defaults)
{
	struct config *c = NULL;

	cr_assert_eq(config_new_default(&c), 0);
	cr_assert_str_eq(c->socket_path, "/run/boxd/boxd.sock");
	cr_assert_eq(c->max_frame_bytes, 4u << 20);
	cr_assert_gt(c->max_connections, 1000);
	cr_assert_leq(c->pool_low, c->pool_size);
	cr_assert_eq(c->pool_wait_ms, 4);
	cr_assert_gt(c->tmpfs_default_bytes, 0);
	cr_assert_eq(c->n_tenants, 0);
	cr_assert(c->fallback.allow_connect);
	cr_assert_not(c->fallback.allow_net_host);
	cr_assert(c->fallback.allow_net_outbound);
	cr_assert_not(c->fallback.allow_seccomp_none);
	cr_assert_not(c->fallback.binds_restricted);
	cr_assert_eq(c->fallback.max_memory_bytes, 0);
	cr_assert_eq(c->fallback.uid_mode, UID_MODE_CALLER);
	cr_assert(c->root.allow_net_host && c->root.allow_seccomp_none &&
		  c->root.allow_custom_seccomp);
	cr_assert_eq(config_tenant(c, 1000, 1000, NULL, 0), &c->fallback);
	cr_assert_eq(config_tenant(c, 0, 0, NULL, 0), &c->root);
	config_free(c);
	cr_assert_null(config_free(NULL));
}

Test(config, empty_file_is_the_defaults)
{
	struct config *c = load_ok("");

	cr_assert_eq(c->n_tenants, 0);
	cr_assert(c->fallback.allow_connect);
	config_free(c);
	c = load_ok("# nothing but comments\n; and more\n\n");
	cr_assert_eq(c->n_tenants, 0);
	config_free(c);
}

/* Skips unless this host knows the user and group names a test puts in
 * its config (they are looked up when the file loads). */
static void require_names(const char *const *users, const char *const *groups)
{
	for (; users && *users; users++)
		if (!getpwnam(*users))
			cr_skip_test("this host has no user '%s'", *users);
	for (; groups && *groups; groups++)
		if (!getgrnam(*groups))
			cr_skip_test("this host has no group '%s'", *groups);
}

Test(config, every_key)
{
	struct config *c;
	const struct tenant_policy *t;
	gid_t adm;

	require_names((const char *const[]){"root", NULL},
		      (const char *const[]){"adm", NULL});
	adm = getgrnam("adm")->gr_gid;
	c = load_ok("\xEF\xBB\xBF# boxd test config\n"
		    "[daemon]\n"
		    "socket = /run/test/boxd.sock\n"
		    "max-frame = 8M\n"
		    "max-connections = 100\n"
		    "pool-size = 6\n"
		    "pool-low = 2\n"
		    "pool-wait-ms = 0\n"
		    "tmpfs-size = 1G\n"
		    "\n"
		    "[private-ids]\n"
		    "first = 200000\n"
		    "count = 65536\n"
		    "\n"
		    "[tenant.ci]\n"
		    "uids = 1000 1001 ; inline comment\n"
		    "uids = 1002\n"
		    "groups = adm 27 # another comment\n"
		    "connect = yes\n"
		    "max-memory = 2G\n"
		    "max-cpus = 1.5\n"
		    "max-pids = 512\n"
		    "max-timeout = 10m\n"
		    "max-cpu-time = 90s\n"
		    "max-runs = 4\n"
		    "max-connections = 16\n"
		    "net-host = no\n"
		    "net-outbound = no\n"
		    "seccomp-none = false\n"
		    "custom-seccomp = true\n"
		    "bind = /srv/data //opt///tools/\n"
		    "bind = /usr/share/./doc\n"
		    "bind-rw = /home/ci/work\n"
		    "uid-mode = private\n"
		    "\n"
		    "[tenant.root-only]\n"
		    "uids = root\n"
		    "net-host = yes\n");
	cr_assert_str_eq(c->socket_path, "/run/test/boxd.sock");
	cr_assert_eq(c->max_frame_bytes, 8u << 20);
	cr_assert_eq(c->max_connections, 100);
	cr_assert_eq(c->pool_size, 6);
	cr_assert_eq(c->pool_low, 2);
	cr_assert_eq(c->pool_wait_ms, 0);
	cr_assert_eq(c->tmpfs_default_bytes, 1ull << 30);
	cr_assert_eq(c->private_uid_first, 200000);
	cr_assert_eq(c->private_uid_count, 65536);
	cr_assert_eq(c->n_tenants, 2);

	t = &c->tenants[0];
	cr_assert_str_eq(t->name, "ci");
	cr_assert_eq(t->n_uids, 3);
	cr_assert_eq(t->uids[0], 1000);
	cr_assert_eq(t->uids[1], 1001);
	cr_assert_eq(t->uids[2], 1002);
	cr_assert_eq(t->n_gids, 2);
	cr_assert_eq(t->gids[0], adm); /* 4 on Debian */
	cr_assert_eq(t->gids[1], 27);
	cr_assert(t->allow_connect);
	cr_assert_eq(t->max_memory_bytes, 2ull << 30);
	cr_assert_eq(t->max_cpu_millis, 1500);
	cr_assert_eq(t->max_pids, 512);
	cr_assert_eq(t->max_timeout_ns, 600ull * 1000000000);
	cr_assert_eq(t->max_cpu_time_ns, 90ull * 1000000000);
	cr_assert_eq(t->max_runs, 4);
	cr_assert_eq(t->max_connections, 16);
	cr_assert_not(t->allow_net_host);
	cr_assert_not(t->allow_net_outbound);
	cr_assert_not(t->allow_seccomp_none);
	cr_assert(t->allow_custom_seccomp);
	cr_assert(t->binds_restricted);
	cr_assert_eq(t->n_binds, 4);
	cr_assert_str_eq(t->binds[0].prefix, "/srv/data");
	cr_assert_str_eq(t->binds[1].prefix, "/opt/tools");
	cr_assert_str_eq(t->binds[2].prefix, "/usr/share/doc");
	cr_assert_str_eq(t->binds[3].prefix, "/home/ci/work");
	cr_assert_not(t->binds[0].writable);
	cr_assert(t->binds[3].writable);
	cr_assert_eq(t->uid_mode, UID_MODE_PRIVATE);

	t = &c->tenants[1];
	cr_assert_str_eq(t->name, "root-only");
	cr_assert_eq(t->n_uids, 1);
	cr_assert_eq(t->uids[0], 0);
	config_free(c);
}

Test(config, continuation_lines_extend_lists)
{
	struct config *c = load_ok("[tenant.a]\n"
				   "uids = 1000\n"
				   "bind = /srv/a\n"
				   "       /srv/b\n");

	cr_assert_eq(c->tenants[0].n_binds, 2);
	cr_assert_str_eq(c->tenants[0].binds[1].prefix, "/srv/b");
	config_free(c);
}

Test(config, deny_adds_up_from_default)
{
	struct config *c = load_ok("[tenant.a]\n"
				   "uids = 1000\n"
				   "deny = /home/a/.ssh\n"
				   "deny = /srv/keys\n"
				   "[tenant.b]\n"
				   "uids = 1001\n"
				   "[default]\n"
				   "deny = /etc/shadow\n");
	const struct tenant_policy *a = &c->tenants[0], *b = &c->tenants[1];

	cr_assert_eq(a->n_deny, 3);
	cr_assert_str_eq(a->deny[0], "/home/a/.ssh");
	cr_assert_str_eq(a->deny[1], "/srv/keys");
	cr_assert_str_eq(a->deny[2], "/etc/shadow");
	cr_assert_eq(b->n_deny, 1);
	cr_assert_str_eq(b->deny[0], "/etc/shadow");
	cr_assert_eq(c->fallback.n_deny, 1);
	cr_assert_eq(c->root.n_deny, 0);
	config_free(c);
}

Test(config, unlimited_and_bind_none)
{
	struct config *c = load_ok("[default]\n"
				   "max-memory = 1G\n"
				   "[tenant.a]\n"
				   "uids = 1000\n"
				   "max-memory = unlimited\n"
				   "max-cpus = unlimited\n"
				   "max-timeout = unlimited\n"
				   "max-pids = unlimited\n"
				   "bind = none\n");
	const struct tenant_policy *t = &c->tenants[0];

	cr_assert_eq(t->max_memory_bytes, 0);
	cr_assert_eq(t->max_cpu_millis, 0);
	cr_assert(t->binds_restricted);
	cr_assert_eq(t->n_binds, 0);
	cr_assert_not(tenant_may_bind(t, "/srv", false));
	config_free(c);
}

Test(config, tenants_inherit_from_default)
{
	/* [default] after the tenant still applies to it. */
	struct config *c = load_ok("[tenant.a]\n"
				   "uids = 1000\n"
				   "max-pids = 50\n"
				   "[tenant.b]\n"
				   "uids = 1001\n"
				   "bind-rw = /tmp/b\n"
				   "[default]\n"
				   "connect = no\n"
				   "max-memory = 1G\n"
				   "max-pids = 100\n"
				   "net-host = yes\n"
				   "bind = /srv\n");
	const struct tenant_policy *a = &c->tenants[0], *b = &c->tenants[1];

	cr_assert_not(c->fallback.allow_connect);
	cr_assert_eq(a->max_memory_bytes, 1ull << 30);
	cr_assert_eq(a->max_pids, 50);
	cr_assert(a->allow_net_host);
	/* connect is a grant to the section's callers, not inherited. */
	cr_assert(a->allow_connect);
	/* The default's bind list, copied... */
	cr_assert(a->binds_restricted);
	cr_assert_eq(a->n_binds, 1);
	cr_assert_str_eq(a->binds[0].prefix, "/srv");
	/* ... unless the section has its own. */
	cr_assert_eq(b->n_binds, 1);
	cr_assert_str_eq(b->binds[0].prefix, "/tmp/b");
	cr_assert_not(tenant_may_bind(b, "/srv/x", false));
	config_free(c);
}

Test(config, pool_low_follows_a_small_pool)
{
	struct config *c = load_ok("[daemon]\npool-size = 2\n");

	cr_assert_eq(c->pool_size, 2);
	cr_assert_leq(c->pool_low, 2);
	config_free(c);
	c = load_ok("[daemon]\npool-size = 0\n");
	cr_assert_eq(c->pool_low, 0);
	config_free(c);
}

/* ------------------------------------------------------------ bad files */

static const struct bad_config bad_configs[] = {
    {"[bogus]\n", 1, "unknown section [bogus]"},
    {"[default]\ndeny = /\n", 2, "deny: / cannot be hidden"},
    {"[default]\ndeny = etc\n", 2, "deny"},
    {"[daemon]\n[Daemon]\n", 2, "unknown section [Daemon]"},
    {"[daemon]\nsockets = /x\n", 2, "unknown key 'sockets' in [daemon]"},
    {"[private-ids]\nstart = 5\n", 2, "unknown key 'start' in [private-ids]"},
    {"[default]\nmax-mem = 1G\n", 2, "unknown key 'max-mem' in [default]"},
    {"[tenant.a]\nuids = 1\nmaxpids = 3\n", 3,
     "unknown key 'maxpids' in [tenant.a]"},
    {"socket = /x\n", 1, "'socket' outside of any section"},
    {"[daemon]\nsocket\n", 2, "expected 'key = value'"},
    {"[daemon]\n\n[default]\nmax-memory = lots\n", 4,
     "max-memory: 'lots' is not a size"},
    {"[default]\nmax-memory = -1G\n", 2, "max-memory: '-1G' is not a size"},
    {"[default]\nmax-memory = 0\n", 2,
     "max-memory: 0 would mean no ceiling; write 'unlimited'"},
    {"[default]\nmax-cpus = 0\n", 2,
     "max-cpus: '0' is out of range; write 'unlimited'"},
    {"[default]\nmax-cpus = two\n", 2, "max-cpus: 'two' is not a CPU count"},
    {"[default]\nmax-timeout = 10 minutes\n", 2,
     "max-timeout: '10 minutes' is not a duration"},
    {"[default]\nmax-cpu-time = 0s\n", 2, "max-cpu-time: 0 would mean"},
    {"[default]\nmax-pids = 1e6\n", 2, "max-pids: '1e6' is not a number"},
    {"[default]\nmax-runs = 0\n", 2, "max-runs: 0 would mean"},
    {"[default]\nconnect = maybe\n", 2, "connect: 'maybe' is not yes or no"},
    {"[default]\nconnect =\n", 2, "connect: empty value"},
    {"[default]\nnet-host = yes # comment\nnet-host = no\n", 3,
     "'net-host' given twice (first on line 2)"},
    {"[default]\nuid-mode = random\n", 2,
     "uid-mode: 'random' is not caller or private"},
    {"[default]\nuids = 1000\n", 2, "'uids' belongs in a [tenant.NAME]"},
    {"[default]\ngroups = adm\n", 2, "'groups' belongs in a [tenant.NAME]"},
    {"[tenant.a]\nuids = 1000\nbind = srv/data\n", 3,
     "bind: 'srv/data' is not an absolute path"},
    {"[tenant.a]\nuids = 1000\nbind-rw = /srv/../etc\n", 3,
     "bind-rw: '..' in '/srv/../etc'"},
    {"[tenant.a]\nuids = 1000\ngroups = no-such-group-here\n", 3,
     "groups: unknown group 'no-such-group-here'"},
    {"[tenant.a]\nuids = no-such-user-here\n", 2,
     "uids: unknown user 'no-such-user-here'"},
    {"[tenant.a]\nuids = 4294967295\n", 2,
     "uids: '4294967295' is not a valid id"},
    {"[tenant.a]\nuids = 99999999999\n", 2,
     "uids: '99999999999' is not a valid id"},
    {"[tenant.a]\nconnect = yes\n", 1,
     "[tenant.a] has no uids or groups, so it matches nobody"},
    {"[tenant.a]\n[tenant.b]\nuids = 1\n", 1,
     "[tenant.a] has no uids or groups"},
    {"[tenant.a]\nuids = 1\n[tenant.a]\nuids = 2\n", 3,
     "[tenant.a] appears twice (first on line 1)"},
    {"[daemon]\n[daemon]\n", 2, "[daemon] appears twice (first on line 1)"},
    {"[default]\n\n[default]\n", 3, "[default] appears twice"},
    {"[tenant.]\n", 1, "bad tenant name ''"},
    {"[tenant.a b]\n", 1, "bad tenant name 'a b'"},
    {"[tenant.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", 1, "bad tenant name"},
    {"[daemon] junk\n", 1, "unexpected text after the section header"},
    {"[daemon\n", 1, "section header without ']'"},
    {"[daemon]\npool-size = 1\n  [default]\n", 3,
     "section headers start at the beginning of the line"},
    {"[tenant.a]\nuids = 1000\nuid-mode = private\n", 3,
     "uid-mode = private needs a [private-ids] range"},
    {"[default]\nuid-mode = private\n", 2,
     "uid-mode = private needs a [private-ids] range"},
    {"[private-ids]\nfirst = 0\ncount = 1000\n", 2,
     "first: the range must not include uid 0"},
    {"[private-ids]\nfirst = 100000\ncount = 0\n", 3,
     "count: 0 is not from 1 to 1048576"},
    {"[private-ids]\nfirst = 100000\ncount = 4000000000\n", 3,
     "count: 4000000000 is not from 1 to 1048576"},
    {"[private-ids]\nfirst = 4294967000\ncount = 1000\n", 3,
     "count: the range runs past the largest uid"},
    {"[private-ids]\nfirst = 60000\ncount = 10000\n", 1,
     "the range includes 65534, the overflow uid"},
    {"[private-ids]\nfirst = 100000\n", 1,
     "[private-ids] needs both first and count"},
    {"[tenant.a]\nuids = 100500\n[private-ids]\nfirst = 100000\ncount = "
     "1000\n",
     3, "the range includes uid 100500 of [tenant.a]"},
    {"[daemon]\npool-size = 4\npool-low = 5\n", 3,
     "pool-low 5 is above pool-size 4"},
    {"[daemon]\npool-size = 5000\n", 2, "pool-size: '5000' is not a number"},
    {"[daemon]\npool-wait-ms = 1001\n", 2,
     "pool-wait-ms: '1001' is not a number from 0 to 1000"},
    {"[daemon]\npool-wait-ms = 2ms\n", 2, "pool-wait-ms: '2ms' is not"},
    {"[daemon]\nmax-frame = 1K\n", 2,
     "max-frame: '1K' is not a size from 64K to 256M"},
    {"[daemon]\nmax-frame = 1G\n", 2, "max-frame: '1G' is not a size"},
    {"[daemon]\nmax-connections = 0\n", 2, "max-connections: '0' is not"},
    {"[daemon]\ntmpfs-size = 0\n", 2, "tmpfs-size: '0' is not a size"},
    {"[daemon]\nsocket = run/boxd.sock\n", 2,
     "socket: 'run/boxd.sock' is not an absolute path"},
};

Test(config, bad_files_name_the_line)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_configs); i++)
		expect_bad(&bad_configs[i], strlen(bad_configs[i].text));
}

Test(config, long_lines_and_nul_bytes)
{
	static const char nul_text[] =
	    "[tenant.a]\nuids = 1\nbind = /srv/data\0/x\n";
	char text[600];
	struct bad_config b = {text, 3, "line longer than"};
	size_t n;

	/* inih would split this line in two and read the tail as a key. */
	n = (size_t)snprintf(text, sizeof(text),
			     "[tenant.a]\nuids = 1\nbind = ");
	memset(text + n, 'x', 300);
	text[n] = '/';
	text[n + 300] = '\n';
	text[n + 301] = '\0';
	expect_bad(&b, strlen(text));

	/* A NUL would cut the value short: "/srv/data" would pass. */
	b = (struct bad_config){nul_text, 3, "NUL byte"};
	expect_bad(&b, sizeof(nul_text) - 1);

	/* A socket path that would not fit a sockaddr_un. */
	n = (size_t)snprintf(text, sizeof(text), "[daemon]\nsocket = /");
	memset(text + n, 'a', 120);
	strcpy(text + n + 120, "\n");
	b = (struct bad_config){text, 2, "socket: '/aaa"};
	expect_bad(&b, strlen(text));
}

Test(config, missing_file)
{
	struct config *c = NULL;
	struct error_detail err = {0};
	char want[256];

	cr_assert_eq(config_load("/nonexistent/boxd.conf", &err, &c), -ENOENT);
	cr_assert_null(c);
	/* The system's wording: the test runner sets the locale from the
	 * environment, so it need not be English. */
	snprintf(want, sizeof(want), "/nonexistent/boxd.conf: %s",
		 strerror(ENOENT));
	cr_assert_str_eq(err.message, want);
}

/* ------------------------------------------------------------- matching */

Test(config, first_matching_section_wins)
{
	struct config *c = load_ok("[tenant.by-uid]\n"
				   "uids = 1000\n"
				   "[tenant.by-group]\n"
				   "groups = 500 600\n"
				   "[tenant.also-1000]\n"
				   "uids = 1000 2000\n");
	const gid_t supp[] = {10, 600};
	const struct tenant_policy *t;

	t = config_tenant(c, 1000, 500, NULL, 0);
	cr_assert_str_eq(t->name, "by-uid");
	/* The primary gid matches the second section. */
	t = config_tenant(c, 1500, 500, NULL, 0);
	cr_assert_str_eq(t->name, "by-group");
	/* So does a supplementary group. */
	t = config_tenant(c, 1500, 1500, supp, ELEMENTSOF(supp));
	cr_assert_str_eq(t->name, "by-group");
	/* The first section wins even when a later one names the uid. */
	t = config_tenant(c, 2000, 600, NULL, 0);
	cr_assert_str_eq(t->name, "by-group");
	t = config_tenant(c, 2000, 2000, NULL, 0);
	cr_assert_str_eq(t->name, "also-1000");
	/* Nobody matches: [default]; root: the built-in root tenant. */
	cr_assert_eq(config_tenant(c, 3000, 3000, supp, 1), &c->fallback);
	cr_assert_eq(config_tenant(c, 0, 0, NULL, 0), &c->root);
	config_free(c);
}

/*
 * A peer in the private-id range is a private-uid run's process that
 * reached the socket: it gets no tenant at all, whatever its groups, so
 * it can neither act as a stranger under [default] nor as the tenant
 * whose run it is.
 */
Test(config, private_id_peers_get_no_tenant)
{
	struct config *c = load_ok("[private-ids]\n"
				   "first = 100000\n"
				   "count = 1000\n"
				   "[tenant.ci]\n"
				   "uids = 1000\n"
				   "groups = 100500\n");
	const gid_t supp[] = {100500};

	cr_assert_eq(config_tenant_for_peer(c, 1000, 1000, NULL, 0),
		     &c->tenants[0]);
	cr_assert_null(config_tenant_for_peer(c, 100500, 1000, NULL, 0));
	cr_assert_null(config_tenant_for_peer(c, 1000, 100500, NULL, 0),
		       "a private gid");
	/* The range's edges. */
	cr_assert_null(config_tenant_for_peer(c, 100000, 100000, NULL, 0));
	cr_assert_null(config_tenant_for_peer(c, 100999, 100999, NULL, 0));
	cr_assert_eq(config_tenant_for_peer(c, 99999, 99999, NULL, 0),
		     &c->fallback);
	cr_assert_eq(config_tenant_for_peer(c, 101000, 101000, NULL, 0),
		     &c->fallback);
	/* Outside the range: config_tenant's answer, groups included. */
	cr_assert_eq(config_tenant_for_peer(c, 2000, 2000, supp, 1),
		     &c->tenants[0]);
	cr_assert_eq(config_tenant_for_peer(c, 0, 0, NULL, 0), &c->root);
	cr_assert(config_private_id(c, 100000));
	cr_assert_not(config_private_id(c, 101000));
	config_free(c);

	/* Without a range, nobody is private. */
	c = load_ok("[tenant.ci]\nuids = 1000\n");
	cr_assert_eq(config_tenant_for_peer(c, 100500, 100500, NULL, 0),
		     &c->fallback);
	cr_assert_not(config_private_id(c, 100500));
	config_free(c);
}

Test(config, a_section_can_claim_root)
{
	struct config *c = load_ok("[tenant.admins]\n"
				   "uids = 0\n"
				   "max-pids = 10\n");

	cr_assert_eq(config_tenant(c, 0, 0, NULL, 0), &c->tenants[0]);
	config_free(c);
}

/* ---------------------------------------------------------------- binds */

Test(config, may_bind_whole_components)
{
	struct config *c = load_ok("[tenant.a]\n"
				   "uids = 1000\n"
				   "bind = /srv/data\n"
				   "bind-rw = /home/ci/work\n"
				   "[tenant.root]\n"
				   "uids = 1001\n"
				   "bind = /\n"
				   "[tenant.free]\n"
				   "uids = 1002\n");
	const struct tenant_policy *t = &c->tenants[0];
	const struct tenant_policy *slash = &c->tenants[1];
	const struct tenant_policy *free_ = &c->tenants[2];

	cr_assert(tenant_may_bind(t, "/srv/data", false));
	cr_assert(tenant_may_bind(t, "/srv/data/x", false));
	cr_assert(tenant_may_bind(t, "/srv/data/x/y", false));
	cr_assert_not(tenant_may_bind(t, "/srv/database", false));
	cr_assert_not(tenant_may_bind(t, "/srv/dat", false));
	cr_assert_not(tenant_may_bind(t, "/srv", false));
	cr_assert_not(tenant_may_bind(t, "/", false));
	/* Read-only prefixes never grant writes... */
	cr_assert_not(tenant_may_bind(t, "/srv/data", true));
	cr_assert_not(tenant_may_bind(t, "/srv/data/x", true));
	/* ... writable ones grant both. */
	cr_assert(tenant_may_bind(t, "/home/ci/work", true));
	cr_assert(tenant_may_bind(t, "/home/ci/work/out", true));
	cr_assert(tenant_may_bind(t, "/home/ci/work/out", false));
	cr_assert_not(tenant_may_bind(t, "/home/ci/workspace", true));
	cr_assert_not(tenant_may_bind(t, "/home/ci", true));
	/* Paths that are not normalised are refused outright: a lexical
	 * prefix test would take them for something they are not. */
	cr_assert_not(tenant_may_bind(t, "/srv/data/../../etc", false));
	cr_assert_not(tenant_may_bind(t, "/srv/data/./x", false));
	cr_assert_not(tenant_may_bind(t, "/srv/data//x", false));
	cr_assert_not(tenant_may_bind(t, "/srv/data/", false));
	cr_assert_not(tenant_may_bind(t, "srv/data", false));
	cr_assert_not(tenant_may_bind(t, "", false));
	cr_assert_not(tenant_may_bind(t, NULL, false));
	cr_assert_not(tenant_may_bind(free_, "/srv/..", false));

	/* "/" allows everything read-only. */
	cr_assert(tenant_may_bind(slash, "/", false));
	cr_assert(tenant_may_bind(slash, "/etc", false));
	cr_assert_not(tenant_may_bind(slash, "/etc", true));
	/* No bind keys: whatever the caller itself can open. */
	cr_assert_not(free_->binds_restricted);
	cr_assert(tenant_may_bind(free_, "/anything", true));
	cr_assert(tenant_may_bind(&c->root, "/", true));
	config_free(c);
}

/* ----------------------------------------------------------------- docs */

/* The documented examples must load. They name users and groups this host
 * may not have; swap in ones every Debian system has. */
static char *read_doc(const char *name)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir_len = slash ? (int)(slash - __FILE__) : 1;
	const char *dir = slash ? __FILE__ : ".";
	char path[PATH_MAX + 600], exe[PATH_MAX] = "";
	FILE *f;
	char *buf;
	long len;
	ssize_t n;

	/* __FILE__ is relative to the build root under meson: try from the
	 * working directory, then from the build root (the parent of the
	 * directory the test binary is in). */
	snprintf(path, sizeof(path), "%.*s/../../docs/%s", dir_len, dir, name);
	f = fopen(path, "re");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (!f && n > 0 && dir[0] != '/') {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(path, sizeof(path), "%s/../%.*s/../../docs/%s", exe,
			 dir_len, dir, name);
		f = fopen(path, "re");
	}
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static char *substitute(const char *text)
{
	static const char *const swaps[][2] = {
	    {"alice", "root"},
	    {"ci-runners", "adm"},
	    {"builders", "adm"},
	    {"judge", "daemon"},
	};
	size_t len = strlen(text), o = 0;
	char *out = calloc(1, len * 2 + 1);

	cr_assert_not_null(out);
	for (const char *s = text; *s;) {
		bool swapped = false;

		for (size_t i = 0; i < ELEMENTSOF(swaps) && !swapped; i++) {
			size_t n = strlen(swaps[i][0]);

			if (strncmp(s, swaps[i][0], n) == 0) {
				o +=
				    (size_t)sprintf(out + o, "%s", swaps[i][1]);
				s += n;
				swapped = true;
			}
		}
		if (!swapped)
			out[o++] = *s++;
	}
	return out;
}

Test(config, documented_examples_load)
{
	char *example = read_doc("boxd.conf.example");
	char *md = read_doc("config.md");
	const char *s;
	int blocks = 0;

	if (!example || !md)
		cr_skip_test("docs/ not found next to the test sources");
	/* The names substitute() puts in. */
	require_names((const char *const[]){"root", "daemon", NULL},
		      (const char *const[]){"adm", NULL});

	{
		char *text = substitute(example);
		struct config *c = load_ok(text);

		cr_assert_eq(c->n_tenants, 2);
		cr_assert_not(c->fallback.allow_connect);
		cr_assert(c->tenants[0].allow_connect);
		config_free(c);
		free(text);
	}

	/* Every ```ini block from "## Examples" on. */
	s = strstr(md, "\n## Examples");
	cr_assert_not_null(s);
	while ((s = strstr(s, "```ini\n"))) {
		const char *end = strstr(s + 7, "```");
		char *block, *text;
		struct config *c;

		cr_assert_not_null(end);
		block = strndup(s + 7, (size_t)(end - s - 7));
		text = substitute(block);
		c = load_ok(text);
		config_free(c);
		free(text);
		free(block);
		blocks++;
		s = end + 3;
	}
	cr_assert_geq(blocks, 2);
	free(example);
	free(md);
}

/* A connection from inside a run gets outbound network only if its
 * tenant allows it and the run it comes from has it. */
Test(config, confined_outbound_follows_the_run)
{
	struct tenant_policy base, ceil = {0}, t;

	tenant_init(&base);
	base.name = (char *)"base";
	cr_assert(base.allow_net_outbound, "allowed by default");
	cr_assert_eq(tenant_confine(&base, &ceil, NULL, 0, "in", &t), 0);
	cr_assert_not(t.allow_net_outbound, "the run had no network");
	tenant_release(&t);
	ceil.allow_net_outbound = true;
	cr_assert_eq(tenant_confine(&base, &ceil, NULL, 0, "in", &t), 0);
	cr_assert(t.allow_net_outbound);
	tenant_release(&t);
	base.allow_net_outbound = false;
	cr_assert_eq(tenant_confine(&base, &ceil, NULL, 0, "in", &t), 0);
	cr_assert_not(t.allow_net_outbound, "the tenant may not");
	tenant_release(&t);
}
