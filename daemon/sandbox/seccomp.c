/*
 * Seccomp programs for sandboxes. The daemon builds each distinct program
 * once with libseccomp (the built-in filter, or a tenant's policy file),
 * exports it as classic BPF and shares it by reference; the sandbox side
 * only copies the instructions and installs them raw.
 *
 * This file must never install a filter in the daemon, never log above
 * debug and never exit: a bad policy is the client's problem and comes
 * back as -EINVAL with a "line N: why" message.
 *
 * The built-in filter allows by default and denies what namespaces,
 * dropped capabilities and no_new_privs leave reachable: kernel interfaces
 * that are not namespaced, or whose attack surface has a long history of
 * privilege escalations. Each family below says which attack it closes.
 * Only the native architecture is allowed; a call made through another
 * ABI (i386 "int 0x80", x32 numbers) kills the process, because
 * libseccomp's rules are written for native numbers and the same number
 * means a different call in another ABI.
 *
 * Tenants' policy files are parsed by seccomp-policy.c, which describes
 * the format, and compiled here, with or without the built-in rules.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "seccomp-internal.h"
#include "seccomp.h"
#include "util.h"

#define POLICY_MAX_BYTES (64 * 1024)
#define CACHE_SLOTS 16
#define NAMES_MAX 4096
#define X32_SYSCALL_BIT 0x40000000

struct seccomp_prog {
	unsigned n_ref;
	bool needs_listener;
	struct sock_filter *insns;
	size_t n_insns;
	/* Custom programs: the text they were compiled from and the network
	 * mode, as cache key. */
	uint64_t hash;
	enum seccomp_net net;
	char *text;
	size_t text_len;
};

/* ------------------------------------------------------ built-in filter */

enum base_kind {
	BASE_EPERM,         /* denied whatever the arguments */
	BASE_ENOSYS,        /* denied, and libc should fall back */
	BASE_CLONE_NS,      /* clone with any CLONE_NEW* flag */
	BASE_IOCTL_TTY,     /* ioctl TIOCSTI / TIOCLINUX */
	BASE_PERSONALITY,   /* personality other than a few harmless values */
	BASE_SOCKET_FAMILY, /* own network: families beyond unix/inet/netlink */
};

struct base_rule {
	const char *name;
	enum base_kind kind;
	int x86_64_nr; /* for calls newer than libseccomp's table, else 0 */
};

static const struct base_rule base_rules[] = {
    /* The kernel keyring is not isolated by any namespace we create: a
     * sandbox running as the caller's host uid would reach the caller's
     * user and session keyrings (tokens, fs encryption keys) and share
     * its quota. The subsystem also has a history of refcount bugs. */
    {"add_key", BASE_EPERM, 0},
    {"keyctl", BASE_EPERM, 0},
    {"request_key", BASE_EPERM, 0},

    /* eBPF and perf events: large, fast-moving kernel surfaces (verifier
     * bugs, perf race conditions) and side channels on the whole host;
     * neither is namespaced. */
    {"bpf", BASE_EPERM, 0},
    {"perf_event_open", BASE_EPERM, 0},

    /* userfaultfd lets a process stall the kernel in the middle of a
     * copy from user memory, which turns many kernel races into
     * reliable exploits. */
    {"userfaultfd", BASE_EPERM, 0},

    /* Loading code into the host kernel, or replacing it. Capabilities
     * already forbid these; denying them keeps the door shut even if a
     * capability check has a bug. The first three are obsolete. */
    {"create_module", BASE_EPERM, 0},
    {"get_kernel_syms", BASE_EPERM, 0},
    {"query_module", BASE_EPERM, 0},
    {"init_module", BASE_EPERM, 0},
    {"finit_module", BASE_EPERM, 0},
    {"delete_module", BASE_EPERM, 0},
    {"kexec_load", BASE_EPERM, 0},
    {"kexec_file_load", BASE_EPERM, 0},

    /* File handles name an inode without a path: open_by_handle_at on
     * a guessed handle opens files outside every mount and chroot (the
     * "shocker" container escape), name_to_handle_at hands out the
     * handles. */
    {"open_by_handle_at", BASE_EPERM, 0},
    {"name_to_handle_at", BASE_EPERM, 0},

    /* The mount API. The sandbox's masks (over /proc/kcore, /sys, the
     * daemon's socket) are mounts made inside the sandbox's own user
     * namespace, so they are not locked: anything that can unmount or
     * move them would see what they cover. Dropped capabilities stop
     * that today; this makes it two locks. Filesystem mount code is
     * also the usual target once someone holds CAP_SYS_ADMIN in a user
     * namespace. open_tree_attr (6.15) is newer than libseccomp 2.5. */
    {"mount", BASE_EPERM, 0},
    {"umount", BASE_EPERM, 0},
    {"umount2", BASE_EPERM, 0},
    {"pivot_root", BASE_EPERM, 0},
    {"move_mount", BASE_EPERM, 0},
    {"open_tree", BASE_EPERM, 0},
    {"open_tree_attr", BASE_EPERM, 467},
    {"fsopen", BASE_EPERM, 0},
    {"fsconfig", BASE_EPERM, 0},
    {"fsmount", BASE_EPERM, 0},
    {"fspick", BASE_EPERM, 0},
    {"mount_setattr", BASE_EPERM, 0},

    /* Nested namespaces. A new user namespace hands its creator a full
     * capability set again, which reopens every kernel path guarded by
     * ns_capable() (netfilter, filesystem mounts, ...): the source of
     * most local root exploits of recent years. unshare and setns are
     * denied whatever the flags (their flags are only ever a request
     * for more kernel surface); clone is denied only with a CLONE_NEW*
     * flag so that fork and threads keep working. */
    {"unshare", BASE_EPERM, 0},
    {"setns", BASE_EPERM, 0},
    {"clone", BASE_CLONE_NS, 0},
    /* clone3 passes its flags in memory, which seccomp cannot read, so
     * it cannot be filtered like clone. ENOSYS makes glibc fall back to
     * clone, which the rule above can see. */
    {"clone3", BASE_ENOSYS, 0},

    /* io_uring performs opens, reads and connects from kernel workers
     * without any system call, so the filter never sees them, and it
     * has been a steady source of kernel bugs. */
    {"io_uring_setup", BASE_EPERM, 0},
    {"io_uring_enter", BASE_EPERM, 0},
    {"io_uring_register", BASE_EPERM, 0},

    /* Reaching into another process. The sandbox has its own pid
     * namespace, so only its own processes are in reach; denied anyway
     * because ptrace could rewrite a traced call after the filter had
     * checked it (kernels before 4.8), because one step of a build must
     * not read secrets out of another step's memory, and because these
     * paths have had their share of privilege escalations. kcmp leaks
     * kernel object identities; pidfd_getfd steals descriptors. */
    {"ptrace", BASE_EPERM, 0},
    {"process_vm_readv", BASE_EPERM, 0},
    {"process_vm_writev", BASE_EPERM, 0},
    {"process_madvise", BASE_EPERM, 0},
    {"pidfd_getfd", BASE_EPERM, 0},
    {"kcmp", BASE_EPERM, 0},

    /* Host-wide switches no namespace covers: process accounting to a
     * file, swap devices, reboot (inside a pid namespace it kills the
     * sandbox's pid 1 instead, still not the program's business). */
    {"acct", BASE_EPERM, 0},
    {"swapon", BASE_EPERM, 0},
    {"swapoff", BASE_EPERM, 0},
    {"reboot", BASE_EPERM, 0},

    /* The realtime clock is global. adjtimex and clock_adjtime only
     * read when timex.modes is 0, but modes lives in memory the filter
     * cannot see (and could change after a check), so both are denied
     * entirely: reading NTP state (ntp_gettime, adjtimex(2) with
     * modes 0) fails with EPERM inside a sandbox. */
    {"settimeofday", BASE_EPERM, 0},
    {"stime", BASE_EPERM, 0},
    {"clock_settime", BASE_EPERM, 0},
    {"clock_adjtime", BASE_EPERM, 0},
    {"adjtimex", BASE_EPERM, 0},

    /* The kernel log is not namespaced and leaks kernel addresses. */
    {"syslog", BASE_EPERM, 0},

    /* Obsolete or administrative interfaces with no use in a sandbox
     * and a record of bugs: oprofile cookies, disk quotas, the removed
     * NFS server call, terminal hangup, a.out libraries, old stat-like
     * calls leaking device data, binary sysctl, raw I/O ports,
     * 16-bit segments (espfix-class bugs) and vm86 mode. */
    {"lookup_dcookie", BASE_EPERM, 0},
    {"quotactl", BASE_EPERM, 0},
    {"quotactl_fd", BASE_EPERM, 0},
    {"nfsservctl", BASE_EPERM, 0},
    {"vhangup", BASE_EPERM, 0},
    {"uselib", BASE_EPERM, 0},
    {"ustat", BASE_EPERM, 0},
    {"sysfs", BASE_EPERM, 0},
    {"_sysctl", BASE_EPERM, 0},
    {"ioperm", BASE_EPERM, 0},
    {"iopl", BASE_EPERM, 0},
    {"modify_ldt", BASE_EPERM, 0},
    {"vm86", BASE_EPERM, 0},
    {"vm86old", BASE_EPERM, 0},

    /* TIOCSTI pushes bytes into a terminal's input queue: a sandbox
     * handed the caller's terminal as stdio could type commands that
     * the caller's shell runs once the sandbox exits (the bubblewrap
     * CVE-2017-5226 class). TIOCLINUX does the same through the
     * console's selection buffer. */
    {"ioctl", BASE_IOCTL_TTY, 0},

    /* Execution domain flags weaken the sandboxed program itself
     * (READ_IMPLIES_EXEC makes every mapping executable,
     * ADDR_NO_RANDOMIZE turns off ASLR, MMAP_PAGE_ZERO maps page 0
     * for null-pointer exploits). Allowed: PER_LINUX (0), the query
     * 0xffffffff and PER_LINUX32 (8), which only makes uname report a
     * 32-bit machine, as `linux32` builds need; 32-bit code still
     * cannot run, the architecture check kills it. */
    {"personality", BASE_PERSONALITY, 0},

    /* Socket families outside the sandbox's own network namespace's
     * reach (add_socket_family_rules); not applied with the host's
     * network, which is the host's anyway. */
    {"socket", BASE_SOCKET_FAMILY, 0},
    {"socketpair", BASE_SOCKET_FAMILY, 0},
};

#define EPERM_ACTION SCMP_ACT_ERRNO(EPERM)

static int add_clone_rules(scmp_filter_ctx ctx, int nr)
{
	/* x86_64 clone(flags, stack, parent_tid, child_tid, tls): flags is
	 * argument 0. One rule per flag because a rule tests each argument
	 * once; masking one bit ignores the exit signal in the low byte and
	 * any padding in the high half (the kernel only reads the low 32
	 * bits). CLONE_NEWTIME is clone3/unshare-only. */
	static const uint64_t ns_flags[] = {
	    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
	};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++) {
		r = seccomp_rule_add(
		    ctx, EPERM_ACTION, nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_ioctl_rules(scmp_filter_ctx ctx, int nr)
{
	/* The kernel takes the request as an unsigned int, so 0x1_00005412
	 * is TIOCSTI too: compare only the low 32 bits. */
	static const uint64_t requests[] = {TIOCSTI, TIOCLINUX};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(requests); i++) {
		r = seccomp_rule_add(
		    ctx, EPERM_ACTION, nr, 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, requests[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_personality_rules(scmp_filter_ctx ctx, int nr)
{
	/* Deny every value but 0, PER_LINUX32 and 0xffffffff. A rule may
	 * test an argument only once, so "not one of three values" is
	 * spelled as a union of single masked tests:
	 *   - anything above 32 bits (the kernel would truncate it);
	 *   - bit 31 clear and a bit other than bit 3 set: not 0, not 8;
	 *   - bit 31 set and some lower bit clear: not 0xffffffff.
	 * A value escaping all three is 0, 8 or 0xffffffff. Values with
	 * padded high bits are refused even if their low half is harmless:
	 * the safe direction (glibc truncates before the call). */
	const uint64_t bit31 = 1ULL << 31;
	int r;

	_Static_assert(PER_LINUX == 0 && PER_LINUX32 == 8,
		       "personality construction assumes these values");
	r = seccomp_rule_add(ctx, EPERM_ACTION, nr, 1,
			     SCMP_A0(SCMP_CMP_GT, 0xffffffffULL));
	if (r < 0)
		return r;
	for (unsigned b = 0; b < 31; b++) {
		uint64_t bit = 1ULL << b;

		if (b != 3) {
			r = seccomp_rule_add(
			    ctx, EPERM_ACTION, nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, bit | bit31, bit));
			if (r < 0)
				return r;
		}
		r = seccomp_rule_add(
		    ctx, EPERM_ACTION, nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, bit | bit31, bit31));
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Socket families, for sandboxes with their own network namespace: only
 * the families a program needs there (AF_UNIX, AF_INET, AF_INET6 and
 * AF_NETLINK for its own interfaces) are allowed; every other one fails
 * with EAFNOSUPPORT, as on a kernel built without it. Most of the others
 * are not confined by a network namespace at all: AF_VSOCK reaches the
 * hypervisor (CID 2) and other VMs' services, and the rest (AF_PACKET
 * needs capabilities, AF_ALG, AF_KEY, AF_RDS, AF_TIPC, ...) are rarely
 * used kernel code with a record of exploitable bugs.
 *
 * socket(domain, ...) and socketpair(domain, ...): the kernel reads the
 * domain as an int, so only the low 32 bits are compared for the allowed
 * values; a value with any high bit set is denied (the safe direction).
 * One rule tests an argument once, so "not one of four" is a set of
 * single tests: above AF_NETLINK, or equal to one of the gaps below it.
 */
static int add_socket_family_rules(scmp_filter_ctx ctx, int nr)
{
	const uint32_t deny = SCMP_ACT_ERRNO(EAFNOSUPPORT);
	int r;

	_Static_assert(AF_UNIX == 1 && AF_INET == 2 && AF_INET6 == 10 &&
			   AF_NETLINK == 16,
		       "family gaps below assume these values");
	r = seccomp_rule_add(ctx, deny, nr, 1,
			     SCMP_A0(SCMP_CMP_GT, (uint64_t)AF_NETLINK));
	if (r < 0)
		return r;
	for (uint64_t fam = 0; fam < AF_NETLINK; fam++) {
		if (fam == AF_UNIX || fam == AF_INET || fam == AF_INET6)
			continue;
		r = seccomp_rule_add(ctx, deny, nr, 1,
				     SCMP_A0(SCMP_CMP_EQ, fam));
		if (r < 0)
			return r;
	}
	return 0;
}

static int base_rule_nr(const struct base_rule *b)
{
	int nr = seccomp_syscall_resolve_name(b->name);

	if (nr == __NR_SCMP_ERROR && b->x86_64_nr > 0 &&
	    seccomp_arch_native() == SCMP_ARCH_X86_64)
		nr = b->x86_64_nr;
	return nr;
}

/* Add the built-in rules, except for syscalls in skip (nrs a policy gives
 * its own rule); the socket family rules only where the sandbox has its
 * own network namespace. */
static int add_base_rules(scmp_filter_ctx ctx, enum seccomp_net net,
			  const int *skip, size_t n_skip)
{
	int r = 0;

	for (size_t i = 0; i < ELEMENTSOF(base_rules); i++) {
		const struct base_rule *b = &base_rules[i];
		int nr = base_rule_nr(b);
		bool skipped = false;

		/* Unknown to this libseccomp, or (negative pseudo number) not a
		 * call of the native architecture: nothing to deny. */
		if (nr < 0)
			continue;
		for (size_t j = 0; j < n_skip && !skipped; j++)
			skipped = skip[j] == nr;
		if (skipped)
			continue;

		switch (b->kind) {
		case BASE_EPERM:
			r = seccomp_rule_add(ctx, EPERM_ACTION, nr, 0);
			break;
		case BASE_ENOSYS:
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr,
					     0);
			break;
		case BASE_CLONE_NS:
			r = add_clone_rules(ctx, nr);
			break;
		case BASE_IOCTL_TTY:
			r = add_ioctl_rules(ctx, nr);
			break;
		case BASE_PERSONALITY:
			r = add_personality_rules(ctx, nr);
			break;
		case BASE_SOCKET_FAMILY:
			if (net == SECCOMP_NET_OWN)
				r = add_socket_family_rules(ctx, nr);
			break;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------- programs */

static int export_insns(scmp_filter_ctx ctx, struct sock_filter **ret_insns,
			size_t *ret_n)
{
	_cleanup_free_ struct sock_filter *insns = NULL;
	size_t bytes;
	int r;

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
	bytes = BPF_MAXINSNS * sizeof(*insns);
	insns = malloc(bytes);
	if (!insns)
		return -ENOMEM;
	r = seccomp_export_bpf_mem(ctx, insns, &bytes);
	if (r == -ERANGE)
		return -E2BIG;
	if (r < 0)
		return r;
#else
	/* libseccomp before 2.6 exports only to a file descriptor. */
	_cleanup_close_ int fd = memfd_create("boxd-seccomp", MFD_CLOEXEC);
	struct stat st;
	size_t done = 0;

	if (fd < 0)
		return negerrno();
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return negerrno();
	if (st.st_size > (off_t)(BPF_MAXINSNS * sizeof(*insns)))
		return -E2BIG;
	bytes = (size_t)st.st_size;
	insns = malloc(bytes ? bytes : 1);
	if (!insns)
		return -ENOMEM;
	while (done < bytes) {
		ssize_t n =
		    pread(fd, (char *)insns + done, bytes - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? negerrno() : -EIO;
		done += (size_t)n;
	}
#endif
	if (bytes == 0 || bytes % sizeof(*insns) != 0)
		return -EIO;
	*ret_n = bytes / sizeof(*insns);
	*ret_insns = TAKE_PTR(insns);
	return 0;
}

static void scmp_ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/*
 * boxd-init's command process loads the filter, then hands the kill-rule
 * listener to pid 1 with sendmsg(), then execs. A program that answers
 * that sendmsg with a notification would wait for a listener nobody holds
 * yet: the run would hang. Refuse such a policy up front, naming the
 * call. (Any other answer fails the setup at once, reported as the
 * "seccomp" step.)
 */
static int check_setup_calls(const struct seccomp_policy *pol, bool listener,
			     struct error_detail *err)
{
	int nr = seccomp_syscall_resolve_name("sendmsg");
	uint32_t action = pol->default_action;
	unsigned line = pol->default_line;

	if (!listener || nr < 0)
		return 0;
	for (size_t i = 0; i < pol->n_rules; i++)
		if (pol->rules[i].nr == nr) {
			action = pol->rules[i].action;
			line = pol->rules[i].line;
		}
	if (action != SCMP_ACT_NOTIFY)
		return 0;
	return error_set(err, ERROR_INVALID, -EINVAL,
			 "line %u: kills sendmsg, which boxd needs once the "
			 "filter is loaded (to hand over the listener of the "
			 "policy's kill rules); allow sendmsg",
			 line);
}

/* pol NULL: the built-in filter. */
static int compile(const struct seccomp_policy *pol, enum seccomp_net net,
		   struct seccomp_prog **ret)
{
	_cleanup_(scmp_ctx_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_free_ int *skip = NULL;
	struct seccomp_prog *p;
	uint32_t def = pol ? pol->default_action : SCMP_ACT_ALLOW;
	bool listener = def == SCMP_ACT_NOTIFY;
	int r;

	ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	/* Foreign ABIs kill the whole process, not one thread, so that no
	 * half-dead program keeps running. A native program never makes
	 * such calls, and a 32-bit program cannot work in a native
	 * sandbox anyway: SIGSYS tells its user why at once, where ENOSYS
	 * would leave it failing in odd places. libseccomp also routes
	 * x32 numbers (bit 30 set) of an x86_64-only filter here. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	/* A binary tree of syscall numbers: every call of the sandboxed
	 * program runs this filter, so keep it to a few comparisons. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return r;

	if (!pol || pol->base_line) {
		size_t n_skip = pol ? pol->n_rules : 0;

		if (n_skip) {
			skip = calloc(n_skip, sizeof(*skip));
			if (!skip)
				return -ENOMEM;
			for (size_t i = 0; i < n_skip; i++)
				skip[i] = pol->rules[i].nr;
		}
		r = add_base_rules(ctx, net, skip, n_skip);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; pol && i < pol->n_rules; i++) {
		const struct seccomp_policy_rule *rule = &pol->rules[i];

		/* Same as the default: nothing to add (libseccomp refuses it),
		 * but the rule still took the call away from the base. */
		if (rule->action == def)
			continue;
		r = seccomp_rule_add(ctx, rule->action, rule->nr, 0);
		if (r < 0)
			return r;
		if (rule->action == SCMP_ACT_NOTIFY)
			listener = true;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = export_insns(ctx, &p->insns, &p->n_insns);
	if (r < 0) {
		free(p);
		return r;
	}
	p->n_ref = 1;
	p->needs_listener = listener;
	*ret = p;
	return 0;
}

struct seccomp_prog *seccomp_prog_ref(struct seccomp_prog *p)
{
	if (p)
		p->n_ref++;
	return p;
}

struct seccomp_prog *seccomp_prog_unref(struct seccomp_prog *p)
{
	if (!p || --p->n_ref > 0)
		return NULL;
	free(p->insns);
	free(p->text);
	free(p);
	return NULL;
}

/* ret_len is in bytes: n * sizeof(struct sock_filter). */
const void *seccomp_prog_insns(const struct seccomp_prog *p, size_t *ret_len)
{
	*ret_len = p->n_insns * sizeof(*p->insns);
	return p->insns;
}

bool seccomp_prog_needs_listener(const struct seccomp_prog *p)
{
	return p->needs_listener;
}

/* ----------------------------------------------------------------- cache */

/* The built-in program, and the most recently used custom programs, most
 * recent first. Each slot holds a reference. Bounded, so a client sending
 * endless distinct policies costs compile time, never memory. */
static struct seccomp_prog *default_prog[_SECCOMP_NET_MAX];
static struct seccomp_prog *cache[CACHE_SLOTS];

int seccomp_default(enum seccomp_net net, struct seccomp_prog **ret)
{
	int r;

	if (!default_prog[net]) {
		r = compile(NULL, net, &default_prog[net]);
		if (r < 0)
			return r;
		log_debug("seccomp: built-in filter (%s network), %zu "
			  "instructions",
			  net == SECCOMP_NET_OWN ? "own" : "host",
			  default_prog[net]->n_insns);
	}
	*ret = seccomp_prog_ref(default_prog[net]);
	return 0;
}

static uint64_t hash_text(const char *text, size_t len)
{
	/* FNV-1a: only a quick filter before the full comparison. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct seccomp_prog *cache_lookup(const char *text, size_t len,
					 uint64_t hash, enum seccomp_net net)
{
	for (size_t i = 0; i < CACHE_SLOTS && cache[i]; i++) {
		struct seccomp_prog *p = cache[i];

		if (p->hash != hash || p->net != net || p->text_len != len ||
		    memcmp(p->text, text, len) != 0)
			continue;
		memmove(&cache[1], &cache[0], i * sizeof(cache[0]));
		cache[0] = p;
		return p;
	}
	return NULL;
}

static void cache_insert(struct seccomp_prog *p)
{
	seccomp_prog_unref(cache[CACHE_SLOTS - 1]);
	memmove(&cache[1], &cache[0], (CACHE_SLOTS - 1) * sizeof(cache[0]));
	cache[0] = seccomp_prog_ref(p);
}

int seccomp_compile_policy(const char *text, size_t len, enum seccomp_net net,
			   struct error_detail *err, struct seccomp_prog **ret)
{
	struct seccomp_policy pol = {};
	struct seccomp_prog *p;
	uint64_t hash;
	int r;

	if (!text && len)
		return error_set(err, ERROR_INVALID, -EINVAL, "no policy text");
	if (!text)
		text = "";
	if (len > POLICY_MAX_BYTES)
		return error_set(err, ERROR_INVALID, -E2BIG,
				 "policy is %zu bytes, the limit is %d", len,
				 POLICY_MAX_BYTES);

	hash = hash_text(text, len);
	p = cache_lookup(text, len, hash, net);
	if (p) {
		*ret = seccomp_prog_ref(p);
		return 0;
	}

	r = seccomp_policy_parse(text, len, &pol, err);
	if (r < 0)
		goto out;
	r = compile(&pol, net, &p);
	if (r >= 0) {
		r = check_setup_calls(&pol, p->needs_listener, err);
		if (r < 0) {
			seccomp_prog_unref(p);
			goto out;
		}
	}
	if (r < 0) {
		error_set(err, ERROR_INVALID, r, "compiling the filter: %s%s",
			  strerror(-r), r == -E2BIG ? " (too many rules)" : "");
		goto out;
	}
	p->hash = hash;
	p->net = net;
	p->text_len = len;
	p->text = malloc(len ? len : 1);
	if (!p->text) {
		seccomp_prog_unref(p);
		r = error_set(err, ERROR_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	if (len)
		memcpy(p->text, text, len);
	cache_insert(p);
	*ret = p;
	r = 0;
out:
	seccomp_policy_done(&pol);
	return r;
}

/* ---------------------------------------------------------------- names */

/* libseccomp returns a fresh string per lookup; names handed out are kept
 * here until seccomp_cache_clear(). Bounded by the syscall tables. */
struct name_entry {
	uint32_t arch;
	int nr;
	char *name;
};
static struct name_entry *names;
static size_t n_names;

static uint32_t scmp_arch_of(uint32_t audit_arch, int nr)
{
	switch (audit_arch) {
	case AUDIT_ARCH_X86_64:
		/* x32 calls report the x86_64 arch with bit 30 set. */
		return (nr & X32_SYSCALL_BIT) ? SCMP_ARCH_X32
					      : SCMP_ARCH_X86_64;
	case AUDIT_ARCH_I386:
		return SCMP_ARCH_X86;
	case AUDIT_ARCH_AARCH64:
		return SCMP_ARCH_AARCH64;
	case AUDIT_ARCH_ARM:
		return SCMP_ARCH_ARM;
	default:
		return 0;
	}
}

const char *seccomp_syscall_name(int nr, uint32_t arch)
{
	uint32_t scmp_arch = scmp_arch_of(arch, nr);
	struct name_entry *grown;
	char *name;

	if (nr < 0 || scmp_arch == 0)
		return NULL;
	for (size_t i = 0; i < n_names; i++)
		if (names[i].arch == scmp_arch && names[i].nr == nr)
			return names[i].name;
	if (n_names >= NAMES_MAX)
		return NULL;
	name = seccomp_syscall_resolve_num_arch(scmp_arch, nr);
	if (!name)
		return NULL;
	grown = realloc(names, (n_names + 1) * sizeof(*names));
	if (!grown) {
		free(name);
		return NULL;
	}
	names = grown;
	names[n_names++] = (struct name_entry){scmp_arch, nr, name};
	return name;
}

void seccomp_cache_clear(void)
{
	for (size_t i = 0; i < _SECCOMP_NET_MAX; i++)
		default_prog[i] = seccomp_prog_unref(default_prog[i]);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		cache[i] = seccomp_prog_unref(cache[i]);
	for (size_t i = 0; i < n_names; i++)
		free(names[i].name);
	free(names);
	names = NULL;
	n_names = 0;
}
