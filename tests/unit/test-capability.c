/*
 * daemon/capability.c: which capabilities a host and a tenant give, why
 * not, the tenant's ceilings, and the uses a spec's plan lists.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "capability.h"
#include "cgroup.h"

static const Boxd__V1__Capability *find(const Boxd__V1__HostInfo *h,
					const char *name)
{
	for (size_t i = 0; i < h->n_capabilities; i++)
		if (strcmp(h->capabilities[i]->name, name) == 0)
			return h->capabilities[i];
	return NULL;
}

Test(capability, every_name_has_a_sentence_and_is_listed)
{
	Boxd__V1__HostInfo h = BOXD__V1__HOST_INFO__INIT;
	struct capability_buf b;
	size_t n;
	const struct capability_info *t = capability_table(&n);

	capability_fill(&h,
			&(struct capability_host){
			    .cgroups = true, .can = ~0u, .overlayfs = true},
			&b);
	cr_assert_eq(h.n_capabilities, n);
	cr_assert_leq(n, CAPABILITY_MAX);
	for (size_t i = 0; i < n; i++) {
		cr_expect_str_eq(h.capabilities[i]->name, t[i].name);
		cr_expect_str_eq(capability_describe(t[i].name),
				 t[i].description);
		cr_expect(h.capabilities[i]->has_available &&
			      h.capabilities[i]->available,
			  "%s", t[i].name);
		cr_expect_null(h.capabilities[i]->reason);
		cr_expect(!h.capabilities[i]->has_ceiling);
	}
	cr_expect_null(capability_describe("teleport"));
}

Test(capability, unavailable_ones_say_why)
{
	Boxd__V1__HostInfo h = BOXD__V1__HOST_INFO__INIT;
	struct capability_buf b;
	struct tenant_policy t = {.name = (char *)"users",
				  .max_memory_bytes = 64u << 20,
				  .max_pids = 10};

	capability_fill(&h,
			&(struct capability_host){.cgroups = true,
						  .can = CGROUP_CAN_MEMORY |
							 CGROUP_CAN_PEAK_MEMORY,
						  .overlayfs = false,
						  .tenant = &t},
			&b);
	cr_expect(!find(&h, "net:host")->available);
	cr_expect_str_eq(find(&h, "net:host")->reason,
			 "tenant 'users' may not use the host's network");
	cr_expect(!find(&h, "seccomp:none")->available);
	cr_expect(!find(&h, "seccomp:custom")->available);
	cr_expect(find(&h, "seccomp:default")->available);
	cr_expect(!find(&h, "write:ephemeral")->available);
	cr_expect_str_eq(find(&h, "write:ephemeral")->reason,
			 "the kernel has no overlayfs");
	cr_expect(find(&h, "limit:memory")->available);
	cr_expect(find(&h, "limit:memory")->has_ceiling);
	cr_expect_eq(find(&h, "limit:memory")->ceiling, 64u << 20);
	cr_expect(!find(&h, "limit:pids")->available);
	cr_expect_str_eq(find(&h, "limit:pids")->reason,
			 "no cgroup pids controller delegated to boxd");
	cr_expect_eq(find(&h, "limit:pids")->ceiling, 10);
	cr_expect(!find(&h, "limit:cpus")->available);
	cr_expect(find(&h, "limit:timeout")->available);
	cr_expect(find(&h, "accounting:peak_memory")->available);

	capability_fill(&h, &(struct capability_host){.cgroups = false}, &b);
	cr_expect(!find(&h, "limit:memory")->available);
	cr_expect(strstr(find(&h, "limit:memory")->reason, "--no-cgroups"));
	cr_expect(!find(&h, "accounting:peak_memory")->available);
	cr_expect(find(&h, "limit:timeout")->available);
	cr_expect(find(&h, "net:host")->available);
}

static bool has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

Test(capability, uses_are_exactly_what_the_spec_asks)
{
	struct spec_mount mounts[] = {
	    {.kind = SPEC_MOUNT_RO_BIND,
	     .src = (char *)"/usr",
	     .dst = (char *)"/usr"},
	    {.kind = SPEC_MOUNT_TMPFS, .dst = (char *)"/tmp"},
	};
	struct run_spec s = {.net = SPEC_NET_LOOPBACK,
			     .mounts = mounts,
			     .n_mounts = 2,
			     .no_exec = true,
			     .limits = {.memory_bytes = 64u << 20}};
	const char *names[CAPABILITY_MAX];
	size_t n = capability_uses(&s, BOXD__V1__SECCOMP__MODE__DEFAULT, names);

	cr_expect(has(names, n, "net:loopback"));
	cr_expect(has(names, n, "ns:net"));
	cr_expect(has(names, n, "seccomp:default"));
	cr_expect(has(names, n, "exec:no_exec"));
	cr_expect(has(names, n, "limit:memory"));
	cr_expect(has(names, n, "write:read_only"));
	cr_expect(has(names, n, "write:tmpfs"));
	cr_expect(has(names, n, "limit:tmpfs_size"));
	cr_expect(!has(names, n, "net:none"));
	cr_expect(!has(names, n, "limit:pids"));
	cr_expect(!has(names, n, "write:bind"));
	cr_expect(!has(names, n, "write:ephemeral"));
	cr_expect(!has(names, n, "read:hide"));
	cr_expect(!has(names, n, "tty"));
	/* Every use is a capability name. */
	for (size_t i = 0; i < n; i++)
		cr_expect_not_null(capability_describe(names[i]), "%s",
				   names[i]);

	mounts[1] = (struct spec_mount){.kind = SPEC_MOUNT_BIND,
					.src = (char *)"/srv",
					.dst = (char *)"/srv"};
	s.net = SPEC_NET_HOST;
	s.no_exec = false;
	s.limits.memory_bytes = 0;
	n = capability_uses(&s, BOXD__V1__SECCOMP__MODE__NONE, names);
	cr_expect(has(names, n, "net:host"));
	cr_expect(!has(names, n, "ns:net"));
	cr_expect(has(names, n, "seccomp:none"));
	cr_expect(has(names, n, "write:bind"));
	cr_expect(!has(names, n, "write:read_only"));
	cr_expect(!has(names, n, "limit:memory"));
	cr_expect(!has(names, n, "exec:no_exec"));
}
