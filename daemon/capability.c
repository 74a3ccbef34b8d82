/*
 * Which guarantees this host and this caller's tenant can give
 * (HostInfo.capabilities) and which of them a run relies on (Plan.uses).
 * Everything here reads facts decided elsewhere (the cgroup manager's
 * probe, the tenant's policy, the request layer's spec); it decides
 * nothing and never touches the system. A capability reported available
 * must be one a request can get: the reason for an unavailable one is
 * the same refusal the request layer would give.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "capability.h"
#include "cgroup.h"

static void set_reason(Boxd__V1__Capability *c, char *buf, size_t size,
		       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_reason(Boxd__V1__Capability *c, char *buf, size_t size,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	c->has_available = true;
	c->available = false;
	c->reason = buf;
}

static unsigned limit_needs(const char *limit)
{
	if (strcmp(limit, "memory") == 0)
		return CGROUP_CAN_MEMORY;
	if (strcmp(limit, "swap") == 0)
		return CGROUP_CAN_SWAP;
	if (strcmp(limit, "cpus") == 0)
		return CGROUP_CAN_CPUS;
	if (strcmp(limit, "pids") == 0)
		return CGROUP_CAN_PIDS;
	if (strcmp(limit, "cpu_time") == 0)
		return CGROUP_CAN_CPU_TIME;
	return 0;
}

static const char *limit_controller(unsigned need)
{
	switch (need) {
	case CGROUP_CAN_MEMORY:
	case CGROUP_CAN_SWAP:
	case CGROUP_CAN_PEAK_MEMORY:
		return "memory";
	case CGROUP_CAN_CPUS:
		return "cpu";
	case CGROUP_CAN_PIDS:
		return "pids";
	default:
		return "cpu or cpuacct";
	}
}

static uint64_t limit_ceiling(const struct tenant_policy *t, const char *limit)
{
	if (!t)
		return 0;
	if (strcmp(limit, "memory") == 0 || strcmp(limit, "tmpfs_size") == 0)
		return t->max_memory_bytes;
	if (strcmp(limit, "cpus") == 0)
		return t->max_cpu_millis;
	if (strcmp(limit, "pids") == 0)
		return t->max_pids;
	if (strcmp(limit, "timeout") == 0)
		return t->max_timeout_ns;
	if (strcmp(limit, "cpu_time") == 0)
		return t->max_cpu_time_ns;
	return 0;
}

/* Why name is not available here, written into buf; false if it is. */
static bool unavailable(const char *name, const struct capability_host *h,
			Boxd__V1__Capability *c, char *buf, size_t size)
{
	const struct tenant_policy *t = h->tenant;
	const char *tn = t ? t->name : "";

	if (strcmp(name, "net:host") == 0 && t && !t->allow_net_host) {
		set_reason(c, buf, size,
			   "tenant '%s' may not use the host's network", tn);
		return true;
	}
	if (strcmp(name, "net:outbound") == 0 && t && !t->allow_net_outbound) {
		set_reason(c, buf, size,
			   "tenant '%s' may not use outbound network", tn);
		return true;
	}
	if (strcmp(name, "net:outbound") == 0 && h->outbound_missing) {
		set_reason(c, buf, size, "%s", h->outbound_missing);
		return true;
	}
	if (strcmp(name, "seccomp:none") == 0 && t && !t->allow_seccomp_none) {
		set_reason(c, buf, size,
			   "tenant '%s' may not run without seccomp", tn);
		return true;
	}
	if (strcmp(name, "seccomp:custom") == 0 && t &&
	    !t->allow_custom_seccomp) {
		set_reason(c, buf, size,
			   "tenant '%s' may not give its own seccomp policy",
			   tn);
		return true;
	}
	if ((strcmp(name, "write:ephemeral") == 0 ||
	     strcmp(name, "write:overlay") == 0) &&
	    !h->overlayfs) {
		set_reason(c, buf, size, "%s", "the kernel has no overlayfs");
		return true;
	}
	if (strncmp(name, "limit:", 6) == 0 ||
	    strcmp(name, "accounting:peak_memory") == 0) {
		unsigned need = strcmp(name, "accounting:peak_memory") == 0
				    ? CGROUP_CAN_PEAK_MEMORY
				    : limit_needs(name + 6);

		if (!need)
			return false;
		if (!h->cgroups) {
			set_reason(c, buf, size, "%s",
				   "cgroups are disabled (boxd runs with "
				   "--no-cgroups)");
			return true;
		}
		if (!(h->can & need)) {
			set_reason(c, buf, size,
				   "no cgroup %s controller delegated to boxd",
				   limit_controller(need));
			return true;
		}
	}
	return false;
}

void capability_fill(Boxd__V1__HostInfo *h, const struct capability_host *host,
		     struct capability_buf *b)
{
	size_t n;
	const struct capability_info *table = capability_table(&n);

	if (n > CAPABILITY_MAX)
		n = CAPABILITY_MAX;
	for (size_t i = 0; i < n; i++) {
		Boxd__V1__Capability *c = &b->msgs[i];
		uint64_t ceiling;

		boxd__v1__capability__init(c);
		c->name = (char *)table[i].name;
		c->description = (char *)table[i].description;
		if (!unavailable(table[i].name, host, c, b->reasons[i],
				 sizeof(b->reasons[i]))) {
			c->has_available = true;
			c->available = true;
		}
		if (strncmp(table[i].name, "limit:", 6) == 0 &&
		    (ceiling =
			 limit_ceiling(host->tenant, table[i].name + 6))) {
			c->has_ceiling = true;
			c->ceiling = ceiling;
		}
		b->ptrs[i] = c;
	}
	h->n_capabilities = n;
	h->capabilities = b->ptrs;
}

size_t capability_uses(const struct run_spec *s,
		       Boxd__V1__Seccomp__Mode seccomp, const char **ret_names)
{
	bool writes_bind = false, writes_tmpfs = false, overlay = false;
	bool hide = false, file = false;
	size_t n = 0;

	ret_names[n++] = "ns:user";
	ret_names[n++] = "ns:mnt";
	ret_names[n++] = "ns:pid";
	if (s->net != SPEC_NET_HOST)
		ret_names[n++] = "ns:net";
	ret_names[n++] = "ns:ipc";
	ret_names[n++] = "ns:uts";
	ret_names[n++] = "ns:cgroup";
	ret_names[n++] = s->net == SPEC_NET_NONE       ? "net:none"
			 : s->net == SPEC_NET_LOOPBACK ? "net:loopback"
			 : s->net == SPEC_NET_OUTBOUND ? "net:outbound"
						       : "net:host";
	ret_names[n++] =
	    seccomp == BOXD__V1__SECCOMP__MODE__NONE     ? "seccomp:none"
	    : seccomp == BOXD__V1__SECCOMP__MODE__CUSTOM ? "seccomp:custom"
							 : "seccomp:default";

	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct spec_mount *m = &s->mounts[i];

		switch (m->kind) {
		case SPEC_MOUNT_BIND:
			writes_bind = true;
			break;
		case SPEC_MOUNT_TMPFS:
			writes_tmpfs = true;
			break;
		case SPEC_MOUNT_OVERLAY:
			/* write_ephemeral's own overlays are its use. */
			if (!(m->flags & SPEC_MOUNT_EPHEMERAL))
				overlay = true;
			/* Writes kept in a host directory persist on the
			 * host, as through a writable bind. */
			if (m->upper)
				writes_bind = true;
			break;
		case SPEC_MOUNT_HIDE:
			hide = true;
			break;
		case SPEC_MOUNT_FILE:
			file = true;
			break;
		case SPEC_MOUNT_RO_BIND:
		case SPEC_MOUNT_DEV_BIND: /* a device, not a host file */
		case SPEC_MOUNT_PROC:
		case SPEC_MOUNT_DEV:
		case SPEC_MOUNT_SYMLINK:
		case SPEC_MOUNT_DIR:
		case SPEC_MOUNT_REMOUNT_RO:
			break;
		}
	}
	if (!writes_bind && !s->write_ephemeral)
		ret_names[n++] = "write:read_only";
	if (writes_bind)
		ret_names[n++] = "write:bind";
	if (writes_tmpfs)
		ret_names[n++] = "write:tmpfs";
	if (s->write_ephemeral)
		ret_names[n++] = "write:ephemeral";
	if (overlay)
		ret_names[n++] = "write:overlay";
	if (hide)
		ret_names[n++] = "read:hide";
	if (file)
		ret_names[n++] = "file";
	if (s->no_exec)
		ret_names[n++] = "exec:no_exec";
	if (s->tty)
		ret_names[n++] = "tty";
	if (s->limits.memory_bytes)
		ret_names[n++] = "limit:memory";
	if (s->limits.memory_swap_bytes)
		ret_names[n++] = "limit:swap";
	if (s->limits.cpu_millis)
		ret_names[n++] = "limit:cpus";
	if (s->limits.pids)
		ret_names[n++] = "limit:pids";
	if (s->limits.cpu_time_ns)
		ret_names[n++] = "limit:cpu_time";
	if (s->limits.timeout_ns)
		ret_names[n++] = "limit:timeout";
	if (writes_tmpfs)
		ret_names[n++] = "limit:tmpfs_size";
	return n;
}
