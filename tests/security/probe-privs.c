/*
 * Checks that the program holds no privilege, also when it was exec'd
 * from a setuid-root file or runs as uid 0 inside: no_new_privs set, all
 * five capability sets empty (bounding set included, so uid 0 cannot
 * regain them on exec), securebits locked with NOROOT, no setuid gain
 * (real, effective, saved and fs uids all equal), a seccomp filter
 * installed, and attempts to take privilege back refused.
 *
 *   probe-privs [--uid N] [--nosuid MOUNTPOINT]... [--no-seccomp]
 *
 * --uid N: the uid every id field must show. --nosuid: that mount point
 * must carry the nosuid flag (in /proc/self/mountinfo).
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

static void check_field(const char *key, const char *want)
{
	char buf[128], check[64];
	const char *v = probe_status_field(key, buf, sizeof(buf));

	snprintf(check, sizeof(check), "status_%s", key);
	probe_check(check, v && strcmp(v, want) == 0, "%s: %s (want %s)", key,
		    v ? v : "(absent)", want);
}

static void check_ids(long want_uid)
{
	char buf[128];
	const char *v = probe_status_field("Uid", buf, sizeof(buf));
	unsigned long r = 1, e = 2, s = 3, f = 4;

	if (!v || sscanf(v, "%lu %lu %lu %lu", &r, &e, &s, &f) != 4) {
		probe_check("uids", false, "Uid: %s", v ? v : "(absent)");
		return;
	}
	probe_check("no_setuid_gain", r == e && e == s && s == f,
		    "Uid: real %lu effective %lu saved %lu fs %lu", r, e, s, f);
	if (want_uid >= 0)
		probe_check("uid", e == (unsigned long)want_uid,
			    "effective uid %lu, want %ld", e, want_uid);
}

static void check_nosuid(const char *mnt)
{
	static char info[65536];
	char check[80];
	const char *line;
	bool found = false, nosuid = false;

	snprintf(check, sizeof(check), "nosuid_%s", mnt);
	if (probe_read_file("/proc/self/mountinfo", info, sizeof(info)) < 0) {
		probe_check(check, false, "cannot read mountinfo");
		return;
	}
	/* id parent major:minor root MOUNTPOINT OPTIONS ...; the last
	 * entry for a mount point is the one on top. */
	for (line = info; *line; line = strchr(line, '\n') + 1) {
		char point[4096], opts[1024];

		if (sscanf(line, "%*s %*s %*s %*s %4095s %1023s", point,
			   opts) == 2 &&
		    strcmp(point, mnt) == 0) {
			found = true;
			nosuid = strstr(opts, "nosuid") != NULL;
		}
		if (!strchr(line, '\n'))
			break;
	}
	probe_check(check, found && nosuid, "%s: %s", mnt,
		    !found   ? "not a mount point"
		    : nosuid ? "nosuid"
			     : "SUID ALLOWED");
}

static void check_no_way_back(void)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {{0}};
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	int r;

	probe_check("securebits_locked",
		    bits >= 0 && (bits & SECBIT_NOROOT) &&
			(bits & SECBIT_NOROOT_LOCKED),
		    "securebits %#x", bits);
	r = prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0);
	probe_check("nnp_cannot_be_cleared", r < 0, "prctl: %s",
		    r < 0 ? probe_errno_name(errno) : "cleared");
	/* Raise CAP_SYS_ADMIN in every set. */
	data[0].effective = data[0].permitted = data[0].inheritable =
	    1u << CAP_SYS_ADMIN;
	r = (int)syscall(SYS_capset, &hdr, data);
	probe_check("capset_refused", r < 0 && errno == EPERM, "capset: %s",
		    r < 0 ? probe_errno_name(errno) : "raised");
	r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0);
	probe_check("ambient_refused", r < 0, "ambient raise: %s",
		    r < 0 ? probe_errno_name(errno) : "raised");
	r = setuid(0);
	if (getuid() != 0)
		probe_check("setuid0_refused", r < 0, "setuid(0): %s",
			    r < 0 ? probe_errno_name(errno) : "became root");
}

int main(int argc, char **argv)
{
	long want_uid = -1;
	bool seccomp = true;

	probe_begin("privs", 1);
	check_field("NoNewPrivs", "1");
	check_field("CapInh", "0000000000000000");
	check_field("CapPrm", "0000000000000000");
	check_field("CapEff", "0000000000000000");
	check_field("CapBnd", "0000000000000000");
	check_field("CapAmb", "0000000000000000");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc)
			want_uid = atol(argv[++i]);
		else if (strcmp(argv[i], "--nosuid") == 0 && i + 1 < argc)
			check_nosuid(argv[++i]);
		else if (strcmp(argv[i], "--no-seccomp") == 0)
			seccomp = false;
	}
	if (seccomp)
		check_field("Seccomp", "2");
	check_ids(want_uid);
	check_no_way_back();
	return probe_end();
}
