/*
 * boxctl run --plan: a dry run's plan as text for people. One section per
 * aspect of the sandbox, mounts numbered in the order they are applied.
 * Every string came from the daemon and most from the caller's own
 * arguments, but they end up on a terminal: control characters are shown
 * as '?', never written raw.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boxctl.h"
#include "parse.h"
#include "util.h"

/* s with control characters as '?'; "-" for NULL. */
static void put_clean(FILE *f, const char *s)
{
	if (!s) {
		fputc('-', f);
		return;
	}
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* An argument as a shell would need it quoted to mean the same. */
static void put_arg(FILE *f, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			    "WXYZ0123456789-_./=:,+@%") == strlen(s)) {
		put_clean(f, s);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s,
			      f);
	}
	fputc('\'', f);
}

static const char *net_text(enum box_net n)
{
	switch (n) {
	case BOX_NET_NONE:
		return "none (own namespace, no interface up)";
	case BOX_NET_LOOPBACK:
		return "loopback (own namespace, lo up)";
	case BOX_NET_HOST:
		return "host (the host's network)";
	case BOX_NET_OUTBOUND:
		return "outbound (own namespace, lo up, connections out "
		       "through pasta, none in)";
	default:
		return "unknown";
	}
}

static const char *seccomp_text(enum box_seccomp_mode m)
{
	switch (m) {
	case BOX_SECCOMP_DEFAULT:
		return "default filter";
	case BOX_SECCOMP_NONE:
		return "none";
	case BOX_SECCOMP_CUSTOM:
		return "custom policy";
	default:
		return "unknown";
	}
}

static void put_mount(FILE *f, const box_plan *p, size_t i)
{
	enum box_mount_kind kind = box_plan_mount_kind(p, i);
	const char *src = box_plan_mount_src(p, i);
	const char *upper = box_plan_mount_upper(p, i);
	int64_t size = box_plan_mount_size(p, i);
	int mode = box_plan_mount_mode(p, i);
	char buf[32];

	/* Binds read "SRC on DST", symlinks "DST -> TARGET" as ls shows. */
	fprintf(f, "  %2zu  %-10s  ", i + 1, box_mount_kind_name(kind));
	if (src && kind != BOX_MOUNT_SYMLINK) {
		put_clean(f, src);
		fputs(" on ", f);
	}
	put_clean(f, box_plan_mount_dst(p, i));
	if (src && kind == BOX_MOUNT_SYMLINK) {
		fputs(" -> ", f);
		put_clean(f, src);
	}
	if (upper) {
		fputs("  writes kept in ", f);
		put_clean(f, upper);
	} else if (kind == BOX_MOUNT_OVERLAY) {
		fputs("  writes discarded", f);
	}
	if (size >= 0)
		fprintf(f, "  size %s",
			format_size((uint64_t)size, buf, sizeof(buf)));
	if (mode >= 0)
		fprintf(f, "  mode %04o", mode);
	if (box_plan_mount_read_only(p, i))
		fputs("  read-only", f);
	else if (kind == BOX_MOUNT_BIND || kind == BOX_MOUNT_DEV_BIND ||
		 kind == BOX_MOUNT_TMPFS)
		fputs("  writable", f);
	if (box_plan_mount_if_exists(p, i))
		fputs("  if it exists", f);
	fputs(box_plan_mount_from_profile(p, i) ? "  (profile)\n" : "\n", f);
}

static void put_limit(FILE *f, bool *first, const char *name, int64_t v,
		      const char *(*fmt)(uint64_t, char *, size_t))
{
	char buf[32];

	if (v < 0)
		return;
	if (fmt)
		fmt((uint64_t)v, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
	fprintf(f, "%s%s %s", *first ? "" : ", ", name, buf);
	*first = false;
}

static const char *rlim_text(uint64_t v, char *buf, size_t len)
{
	if (v == BOX_RLIM_INFINITY)
		return "unlimited";
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* The mount kind whose destinations say where a use applies. */
static int use_mount_kind(const char *use)
{
	if (strcmp(use, "write:bind") == 0)
		return BOX_MOUNT_BIND;
	if (strcmp(use, "write:tmpfs") == 0)
		return BOX_MOUNT_TMPFS;
	if (strcmp(use, "write:overlay") == 0)
		return BOX_MOUNT_OVERLAY;
	if (strcmp(use, "read:hide") == 0)
		return BOX_MOUNT_HIDE;
	if (strcmp(use, "file") == 0)
		return BOX_MOUNT_FILE;
	return 0;
}

/* Is mount i's destination made read-only by a later remount? */
static bool remounted_ro(const box_plan *p, size_t i)
{
	for (size_t j = i + 1; j < box_plan_mount_count(p); j++)
		if (box_plan_mount_kind(p, j) == BOX_MOUNT_REMOUNT_RO &&
		    strcmp(box_plan_mount_dst(p, j),
			   box_plan_mount_dst(p, i)) == 0)
			return true;
	return false;
}

/* What the run relies on, each with the capability's sentence, and for
 * the writes and hides the paths they apply to. */
static void plan_uses_text(FILE *f, const box_plan *p)
{
	const char *const *v = box_plan_uses(p);

	if (!*v)
		fprintf(f, "%-14s -\n", "uses:");
	for (; *v; v++) {
		const char *sentence = box_capability_describe(*v);
		int kind = use_mount_kind(*v);
		bool any = false;

		fprintf(f, "%-14s ", "uses:");
		put_clean(f, *v);
		fprintf(f, ": %s",
			sentence ? sentence : "(not known to this boxctl)");
		for (size_t i = 0; kind && i < box_plan_mount_count(p); i++) {
			if ((int)box_plan_mount_kind(p, i) != kind ||
			    (*v[0] == 'w' && remounted_ro(p, i)))
				continue;
			fputs(any ? " " : " [", f);
			put_clean(f, box_plan_mount_dst(p, i));
			any = true;
		}
		if (any)
			fputc(']', f);
		fputc('\n', f);
	}
}

int boxctl_print_plan(FILE *f, const box_plan *p)
{
	const char *const *v;
	bool first = true;
	char a[32], b[32];

	fputs("Plan (nothing was started):\n", f);
	fprintf(f, "%-14s", "command:");
	for (v = box_plan_argv(p); *v; v++) {
		fputc(' ', f);
		put_arg(f, *v);
	}
	fprintf(f, "\n%-14s ", "cwd:");
	put_clean(f, box_plan_cwd(p));
	fprintf(f, "\n%-14s ", "hostname:");
	put_clean(f, box_plan_hostname(p));
	if (box_plan_tag(p)) {
		fprintf(f, "\n%-14s ", "tag:");
		put_clean(f, box_plan_tag(p));
	}
	fprintf(f, "\n%-14s uid %lld, gid %lld inside",
		"ids:", (long long)box_plan_uid(p), (long long)box_plan_gid(p));
	if (box_plan_private_ids(p))
		fputs(" -> a private host uid from the daemon's range\n", f);
	else
		fprintf(f, " -> uid %lld, gid %lld on the host\n",
			(long long)box_plan_host_uid(p),
			(long long)box_plan_host_gid(p));
	fprintf(f, "%-14s %s\n", "network:", net_text(box_plan_net(p)));
	fprintf(f, "%-14s %s; %s\n", "session:",
		box_plan_new_session(p) ? "new session (setsid)"
					: "caller's session",
		box_plan_die_with_client(p) ? "killed when the client goes"
					    : "outlives the client");
	if (box_plan_no_exec(p))
		fprintf(f, "%-14s %s\n",
			"exec:", "the command's own only (no-exec)");
	if (box_plan_write_ephemeral(p))
		fprintf(f, "%-14s %s\n", "writes:",
			"anywhere, discarded at the end (ephemeral)");
	fprintf(f, "%-14s %s\n", "terminal:",
		box_plan_tty(p) ? "its own pty, in the sandbox's devpts"
				: "the caller's stdin, stdout, stderr");
	fprintf(f, "%-14s %s\n", "profile:",
		box_plan_profile(p) == BOX_PROFILE_BARE ? "bare" : "default");

	fprintf(f, "mounts, in order (%zu):\n", box_plan_mount_count(p));
	for (size_t i = 0; i < box_plan_mount_count(p); i++)
		put_mount(f, p, i);

	fputs("environment:\n", f);
	for (v = box_plan_env(p); *v; v++) {
		fputs("  ", f);
		put_clean(f, *v);
		fputc('\n', f);
	}

	fprintf(f, "%-14s ", "limits:");
	put_limit(f, &first, "memory", box_plan_memory_bytes(p), format_size);
	put_limit(f, &first, "memory+swap", box_plan_memory_swap_bytes(p),
		  format_size);
	if (box_plan_cpu_millis(p) >= 0) {
		fprintf(f, "%scpus %lld.%03lld", first ? "" : ", ",
			(long long)box_plan_cpu_millis(p) / 1000,
			(long long)box_plan_cpu_millis(p) % 1000);
		first = false;
	}
	put_limit(f, &first, "pids", box_plan_pids(p), NULL);
	put_limit(f, &first, "timeout", box_plan_timeout_ns(p),
		  format_duration);
	put_limit(f, &first, "cpu time", box_plan_cpu_time_ns(p),
		  format_duration);
	fputs(first ? "none\n" : "\n", f);

	fprintf(f, "%-14s ", "rlimits:");
	first = true;
	for (int res = BOX_RLIMIT_NOFILE; res <= BOX_RLIMIT_AS; res++) {
		uint64_t soft, hard;

		if (box_plan_rlimit(p, (enum box_rlimit_resource)res, &soft,
				    &hard) < 0)
			continue;
		fprintf(f, "%s%s %s:%s", first ? "" : ", ",
			box_rlimit_name((enum box_rlimit_resource)res),
			rlim_text(soft, a, sizeof(a)),
			rlim_text(hard, b, sizeof(b)));
		first = false;
	}
	fputs(first ? "inherited\n" : "\n", f);

	fprintf(f, "%-14s %s",
		"seccomp:", seccomp_text(box_plan_seccomp_mode(p)));
	if (box_plan_seccomp_instructions(p) >= 0)
		fprintf(f, " (%lld BPF instructions)",
			(long long)box_plan_seccomp_instructions(p));
	fputc('\n', f);

	plan_uses_text(f, p);

	v = box_plan_caveats(p);
	if (!*v)
		fprintf(f, "%-14s none\n", "caveats:");
	for (; *v; v++) {
		fprintf(f, "%-14s ", "caveat:");
		put_clean(f, *v);
		fputc('\n', f);
	}
	return fflush(f) == 0 ? 0 : -EIO;
}
