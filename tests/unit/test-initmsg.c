/*
 * Tests for daemon/sandbox/initmsg.c: a full spec encoded the way the
 * engine encodes it (init_blob_encode) and read back the way boxd-init
 * reads it (init_blob_parse, the same code), field by field; then every
 * cut of that blob, and blobs malformed one record at a time, are refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "initmsg.h"
#include "util.h"

#define MIB (1024ULL * 1024)

static char *argv_full[] = {(char *)"/usr/bin/make", (char *)"-j2", (char *)"",
			    NULL};
static char *env_full[] = {(char *)"PATH=/usr/bin:/bin", (char *)"LANG=C.UTF-8",
			   (char *)"EMPTY=", NULL};
static struct spec_mount mounts_full[] = {
    {SPEC_MOUNT_RO_BIND, SPEC_MOUNT_TRUSTED | SPEC_MOUNT_OPTIONAL,
     (char *)"/usr", (char *)"/usr", 0, 0},
    {SPEC_MOUNT_BIND, SPEC_MOUNT_NO_SYMLINKS, (char *)"/home/me/src",
     (char *)"/src", 0, 0},
    {SPEC_MOUNT_TMPFS, 0, NULL, (char *)"/tmp", 64 * MIB, 01777},
    {SPEC_MOUNT_PROC, 0, NULL, (char *)"/proc", 0, 0},
    {SPEC_MOUNT_DEV, 0, NULL, (char *)"/dev", 0, 0},
    {SPEC_MOUNT_SYMLINK, 0, (char *)"usr/lib", (char *)"/lib", 0, 0},
    {SPEC_MOUNT_DIR, 0, NULL, (char *)"/home/me", 0, 0700},
    {SPEC_MOUNT_REMOUNT_RO, 0, NULL, (char *)"/src", 0, 0},
    {SPEC_MOUNT_DEV_BIND, 0, (char *)"/dev/fuse", (char *)"/dev/fuse", 0, 0},
    {SPEC_MOUNT_HIDE, 0, NULL, (char *)"/src/.git", 0, 0},
    {SPEC_MOUNT_HIDE, SPEC_MOUNT_TRUSTED, (char *)"/etc/shadow",
     (char *)"/etc/shadow", 0, 0},
    /* Content with a NUL inside and none at the end: carried as bytes. */
    {SPEC_MOUNT_FILE, 0, NULL, (char *)"/etc/motd", 0, 0600,
     (uint8_t *)"hi\0there", 8},
    {SPEC_MOUNT_FILE, 0, NULL, (char *)"/empty", 0, 0, NULL, 0},
    {SPEC_MOUNT_OVERLAY, 0, (char *)"/home/me/src", (char *)"/o", 0, 0, NULL,
     0},
    /* An overlay whose writes persist: upper travels after dst. */
    {SPEC_MOUNT_OVERLAY, SPEC_MOUNT_NO_SYMLINKS, (char *)"/home/me/src",
     (char *)"/p", 0, 0, NULL, 0, (char *)"/home/me/keep"},
};
/* Two instructions' worth of bytes: the blob carries them opaquely. */
static const uint8_t seccomp_full[16] = {1, 2,  3,  4,  5,  6,  7,  8,
					 9, 10, 11, 12, 13, 14, 15, 16};

static struct run_spec full_spec(void)
{
	struct run_spec s = {
	    .argv = argv_full,
	    .env = env_full,
	    .cwd = (char *)"/src",
	    .hostname = (char *)"judge",
	    .uid = 1000,
	    .gid = 100,
	    .net = SPEC_NET_LOOPBACK,
	    .new_session = true,
	    .mounts = mounts_full,
	    .n_mounts = ELEMENTSOF(mounts_full),
	};

	s.rlimits[SPEC_RLIMIT_CORE] = (struct spec_rlimit){true, 0, 0};
	s.rlimits[SPEC_RLIMIT_NOFILE] = (struct spec_rlimit){true, 1024, 4096};
	s.rlimits[SPEC_RLIMIT_AS] =
	    (struct spec_rlimit){true, 1ULL << 30, UINT64_MAX};
	return s;
}

static void encode(const struct run_spec *spec, bool with_seccomp,
		   struct init_blob *b)
{
	*b = (struct init_blob){0};
	cr_assert_eq(init_blob_encode(b, spec, "/run/boxd/stage-7", 32 * MIB,
				      with_seccomp ? seccomp_full : NULL,
				      with_seccomp ? sizeof(seccomp_full) : 0,
				      with_seccomp),
		     0);
}

static int parse(const uint8_t *data, size_t size)
{
	struct init_spec s = {.stdio = {-1, -1, -1}};
	int r = init_blob_parse(data, size, &s);

	init_spec_clear(&s);
	return r;
}

static void expect_str_or_null(const char *got, const char *want,
			       const char *what, size_t i)
{
	if (want)
		cr_assert_str_eq(got, want, "%s %zu", what, i);
	else
		cr_assert_null(got, "%s %zu", what, i);
}

Test(initmsg, a_tty_run_carries_its_flag_and_size)
{
	struct run_spec spec = full_spec();
	struct init_spec s = {.stdio = {-1, -1, -1}, .tty_master = -1};
	struct init_blob b;

	spec.tty = true;
	spec.tty_rows = 33;
	spec.tty_cols = 101;
	encode(&spec, false, &b);
	cr_assert_eq(init_blob_parse(b.data, b.len, &s), 0);
	cr_assert(s.flags & INIT_FLAG_TTY);
	cr_assert_eq(s.tty_rows, 33);
	cr_assert_eq(s.tty_cols, 101);
	/* Parsing opens nothing: the terminal is boxd-init's to make. */
	cr_assert_eq(s.tty_master, -1);
	init_spec_clear(&s);
	init_blob_free(&b);

	spec.tty = false;
	encode(&spec, false, &b);
	s = (struct init_spec){.stdio = {-1, -1, -1}, .tty_master = -1};
	cr_assert_eq(init_blob_parse(b.data, b.len, &s), 0);
	cr_assert_not(s.flags & INIT_FLAG_TTY);
	init_spec_clear(&s);
	init_blob_free(&b);
}

Test(initmsg, a_full_spec_reads_back_as_written)
{
	struct run_spec spec = full_spec();
	struct init_spec s = {.stdio = {-1, -1, -1}};
	struct init_blob b;

	encode(&spec, true, &b);
	cr_assert_eq(init_blob_parse(b.data, b.len, &s), 0);

	for (size_t i = 0; i < ELEMENTSOF(argv_full); i++)
		expect_str_or_null(s.argv[i], argv_full[i], "argv", i);
	for (size_t i = 0; i < ELEMENTSOF(env_full); i++)
		expect_str_or_null(s.env[i], env_full[i], "env", i);
	cr_assert_str_eq(s.cwd, "/src");
	cr_assert_str_eq(s.hostname, "judge");
	cr_assert_str_eq(s.stage, "/run/boxd/stage-7");
	cr_assert_eq(s.uid, 1000);
	cr_assert_eq(s.gid, 100);
	cr_assert_eq(s.flags, INIT_FLAG_NEW_SESSION | INIT_FLAG_NET_LOOPBACK |
				  INIT_FLAG_SECCOMP_LISTENER);
	cr_assert_eq(s.tmpfs_default, 32 * MIB);

	cr_assert_eq(s.n_mounts, ELEMENTSOF(mounts_full));
	for (size_t i = 0; i < s.n_mounts; i++) {
		const struct init_mount *m = &s.mounts[i];
		const struct spec_mount *w = &mounts_full[i];

		cr_assert_eq(m->kind, w->kind, "mount %zu", i);
		cr_assert_eq(m->flags, w->flags, "mount %zu", i);
		cr_assert_eq(m->size, w->size, "mount %zu", i);
		cr_assert_eq(m->mode, w->mode, "mount %zu", i);
		expect_str_or_null(m->src, w->src, "mount src", i);
		cr_assert_str_eq(m->dst, w->dst, "mount %zu", i);
		expect_str_or_null(m->upper, w->upper, "mount upper", i);
		cr_assert_eq(m->data_len, w->data_len, "mount %zu", i);
		if (w->data_len)
			cr_assert(memcmp(m->data, w->data, w->data_len) == 0,
				  "mount %zu", i);
		cr_assert_eq(m->tree, -1, "mount %zu", i);
	}

	for (int k = 0; k < _SPEC_RLIMIT_MAX; k++) {
		cr_assert_eq(s.rlimit_set[k], spec.rlimits[k].set, "rlimit %d",
			     k);
		if (!s.rlimit_set[k])
			continue;
		cr_assert_eq(s.rlimits[k].resource, (uint32_t)k);
		cr_assert_eq(s.rlimits[k].soft, spec.rlimits[k].soft);
		cr_assert_eq(s.rlimits[k].hard, spec.rlimits[k].hard);
	}

	cr_assert_eq(s.seccomp_len, sizeof(seccomp_full));
	cr_assert_eq(memcmp(s.seccomp, seccomp_full, sizeof(seccomp_full)), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(s.stdio[i], -1, "the parser leaves stdio alone");
	init_spec_clear(&s);
	init_blob_free(&b);
}

Test(initmsg, defaults_and_a_spec_without_extras)
{
	static char *argv[] = {(char *)"true", NULL};
	struct run_spec spec = {.argv = argv, .net = SPEC_NET_NONE};
	struct init_spec s = {.stdio = {-1, -1, -1}};
	struct init_blob b;

	encode(&spec, false, &b);
	cr_assert_eq(init_blob_parse(b.data, b.len, &s), 0);
	cr_assert_str_eq(s.argv[0], "true");
	cr_assert_null(s.argv[1]);
	cr_assert_null(s.env[0]);
	cr_assert_str_eq(s.cwd, "/", "no cwd is the root");
	cr_assert_str_eq(s.hostname, "boxd");
	cr_assert_eq(s.flags, 0u);
	cr_assert_eq(s.n_mounts, 0);
	cr_assert_null(s.seccomp);
	for (int k = 0; k < _SPEC_RLIMIT_MAX; k++)
		cr_assert_not(s.rlimit_set[k]);
	init_spec_clear(&s);
	init_blob_free(&b);
}

/* No cut of a blob reads as a smaller spec: the end record is last. */
Test(initmsg, every_truncation_is_refused)
{
	struct run_spec spec = full_spec();
	struct init_blob b;

	encode(&spec, true, &b);
	cr_assert_eq(parse(b.data, b.len), 0);
	for (size_t n = 0; n < b.len; n++)
		cr_assert_eq(parse(b.data, n), -EBADMSG, "cut at %zu of %zu", n,
			     b.len);
	init_blob_free(&b);
}

/* ---- malformed blobs, built record by record ------------------------- */

static void add(struct init_blob *b, uint32_t type, const void *p, size_t n)
{
	cr_assert_eq(init_blob_add(b, type, p, n, NULL, 0, NULL, 0), 0);
}

static void add_str(struct init_blob *b, uint32_t type, const char *s)
{
	add(b, type, s, strlen(s) + 1);
}

enum skip {
	SKIP_NONE = 0,
	SKIP_IDS = 1 << 0,
	SKIP_STAGE = 1 << 1,
	SKIP_CWD = 1 << 2,
	SKIP_HOSTNAME = 1 << 3,
	SKIP_ARG = 1 << 4,
	SKIP_END = 1 << 5,
};

/* The smallest good blob, minus what skip says, with extra records put
 * before the end record. */
static void minimal(struct init_blob *b, unsigned skip,
		    void (*extra)(struct init_blob *b))
{
	struct init_rec_ids ids = {.uid = 1, .gid = 1};

	*b = (struct init_blob){0};
	if (!(skip & SKIP_IDS))
		add(b, REC_IDS, &ids, sizeof(ids));
	if (!(skip & SKIP_STAGE))
		add_str(b, REC_STAGE, "/stage");
	if (!(skip & SKIP_CWD))
		add_str(b, REC_CWD, "/");
	if (!(skip & SKIP_HOSTNAME))
		add_str(b, REC_HOSTNAME, "boxd");
	if (!(skip & SKIP_ARG))
		add_str(b, REC_ARG, "true");
	if (extra)
		extra(b);
	if (!(skip & SKIP_END))
		add(b, REC_END, NULL, 0);
}

static void expect_bad(unsigned skip, void (*extra)(struct init_blob *b),
		       const char *what)
{
	struct init_blob b;

	minimal(&b, skip, extra);
	cr_expect_eq(parse(b.data, b.len), -EBADMSG, "%s", what);
	init_blob_free(&b);
}

static void nothing(struct init_blob *b _unused_) {}
static void second_cwd(struct init_blob *b)
{
	add_str(b, REC_CWD, "/tmp");
}
static void second_ids(struct init_blob *b)
{
	struct init_rec_ids ids = {0};

	add(b, REC_IDS, &ids, sizeof(ids));
}
static void short_ids(struct init_blob *b)
{
	add(b, REC_IDS, "1234", 4);
}
static void unknown_record(struct init_blob *b)
{
	add(b, 99, "x", 1);
}
static void string_without_nul(struct init_blob *b)
{
	add(b, REC_ENV, "A=B", 3);
}
static void string_with_inner_nul(struct init_blob *b)
{
	add(b, REC_ENV, "A=B\0C", 6);
}
static void empty_string(struct init_blob *b)
{
	add(b, REC_ARG, NULL, 0);
}
static void mount_of_kind(struct init_blob *b, uint32_t kind, uint32_t src_len,
			  const char *strings, size_t n)
{
	struct init_rec_mount rm = {.kind = kind, .src_len = src_len};

	cr_assert_eq(
	    init_blob_add(b, REC_MOUNT, &rm, sizeof(rm), strings, n, NULL, 0),
	    0);
}
static void mount_kind_zero(struct init_blob *b)
{
	mount_of_kind(b, 0, 0, "/x", 3);
}
static void mount_kind_unknown(struct init_blob *b)
{
	mount_of_kind(b, SPEC_MOUNT_KIND_LAST + 1, 0, "/x", 3);
}
static void mount_without_dst(struct init_blob *b)
{
	mount_of_kind(b, SPEC_MOUNT_BIND, 3, "/a", 3);
}
static void mount_src_too_long(struct init_blob *b)
{
	mount_of_kind(b, SPEC_MOUNT_BIND, 9, "/a\0/b", 6);
}
static void mount_src_without_nul(struct init_blob *b)
{
	mount_of_kind(b, SPEC_MOUNT_BIND, 2, "/a/b", 5);
}
static void mount_with_upper(struct init_blob *b, uint32_t kind,
			     uint32_t upper_len, const char *strings, size_t n)
{
	struct init_rec_mount rm = {
	    .kind = kind, .src_len = 3, .upper_len = upper_len};

	cr_assert_eq(
	    init_blob_add(b, REC_MOUNT, &rm, sizeof(rm), strings, n, NULL, 0),
	    0);
}
static void mount_upper_on_a_bind(struct init_blob *b)
{
	mount_with_upper(b, SPEC_MOUNT_BIND, 3, "/a\0/x\0/u", 9);
}
static void mount_upper_too_long(struct init_blob *b)
{
	mount_with_upper(b, SPEC_MOUNT_OVERLAY, 7, "/a\0/x\0/u", 9);
}
static void mount_upper_without_nul(struct init_blob *b)
{
	mount_with_upper(b, SPEC_MOUNT_OVERLAY, 2, "/a\0/x\0/u/v", 10);
}
static void mount_upper_eats_dst(struct init_blob *b)
{
	mount_with_upper(b, SPEC_MOUNT_OVERLAY, 3, "/a\0/u", 6);
}
static void mount_short_header(struct init_blob *b)
{
	add(b, REC_MOUNT, "12345678", 8);
}
static void rlimit_out_of_range(struct init_blob *b)
{
	struct init_rec_rlimit rl = {.resource = _SPEC_RLIMIT_MAX};

	add(b, REC_RLIMIT, &rl, sizeof(rl));
}
static void rlimit_twice(struct init_blob *b)
{
	struct init_rec_rlimit rl = {.resource = SPEC_RLIMIT_CORE};

	add(b, REC_RLIMIT, &rl, sizeof(rl));
	add(b, REC_RLIMIT, &rl, sizeof(rl));
}
static void seccomp_partial_instruction(struct init_blob *b)
{
	add(b, REC_SECCOMP, seccomp_full, 12);
}
static void seccomp_twice(struct init_blob *b)
{
	add(b, REC_SECCOMP, seccomp_full, 8);
	add(b, REC_SECCOMP, seccomp_full, 8);
}
static void end_with_payload(struct init_blob *b)
{
	add(b, REC_END, "x", 1);
}
static void record_after_end(struct init_blob *b)
{
	add(b, REC_END, NULL, 0);
	add_str(b, REC_ENV, "LATE=1");
}

Test(initmsg, malformed_blobs_are_refused)
{
	struct init_blob b;

	/* The control: the smallest good blob reads. */
	minimal(&b, SKIP_NONE, nothing);
	cr_assert_eq(parse(b.data, b.len), 0);
	init_blob_free(&b);

	expect_bad(SKIP_IDS, nothing, "no ids");
	expect_bad(SKIP_STAGE, nothing, "no stage");
	expect_bad(SKIP_CWD, nothing, "no cwd");
	expect_bad(SKIP_HOSTNAME, nothing, "no hostname");
	expect_bad(SKIP_ARG, nothing, "no argv");
	expect_bad(SKIP_END, nothing, "no end");
	expect_bad(SKIP_NONE, second_cwd, "cwd twice");
	expect_bad(SKIP_NONE, second_ids, "ids twice");
	expect_bad(SKIP_IDS, short_ids, "short ids");
	expect_bad(SKIP_NONE, unknown_record, "unknown record");
	expect_bad(SKIP_NONE, string_without_nul, "string without NUL");
	expect_bad(SKIP_NONE, string_with_inner_nul, "NUL inside a string");
	expect_bad(SKIP_NONE, empty_string, "empty string record");
	expect_bad(SKIP_NONE, mount_kind_zero, "mount kind 0");
	expect_bad(SKIP_NONE, mount_kind_unknown, "unknown mount kind");
	expect_bad(SKIP_NONE, mount_without_dst, "mount without dst");
	expect_bad(SKIP_NONE, mount_src_too_long, "src_len past the record");
	expect_bad(SKIP_NONE, mount_src_without_nul, "src without NUL");
	expect_bad(SKIP_NONE, mount_short_header, "short mount header");
	expect_bad(SKIP_NONE, mount_upper_on_a_bind, "upper on a bind");
	expect_bad(SKIP_NONE, mount_upper_too_long, "upper_len past dst");
	expect_bad(SKIP_NONE, mount_upper_without_nul, "upper without NUL");
	expect_bad(SKIP_NONE, mount_upper_eats_dst, "upper leaves no dst");
	expect_bad(SKIP_NONE, rlimit_out_of_range, "rlimit resource");
	expect_bad(SKIP_NONE, rlimit_twice, "rlimit twice");
	expect_bad(SKIP_NONE, seccomp_partial_instruction,
		   "seccomp not whole instructions");
	expect_bad(SKIP_NONE, seccomp_twice, "seccomp twice");
	expect_bad(SKIP_NONE, end_with_payload, "end with a payload");
	expect_bad(SKIP_NONE, record_after_end, "a record after the end");
}

/* Record headers that lie about their length. */
Test(initmsg, record_lengths_past_the_blob_are_refused)
{
	struct init_blob b;
	uint32_t hdr[2];

	minimal(&b, SKIP_NONE, nothing);
	memcpy(hdr, b.data, sizeof(hdr));
	hdr[1] = (uint32_t)b.len;
	memcpy(b.data, hdr, sizeof(hdr));
	cr_assert_eq(parse(b.data, b.len), -EBADMSG);
	hdr[1] = UINT32_MAX;
	memcpy(b.data, hdr, sizeof(hdr));
	cr_assert_eq(parse(b.data, b.len), -EBADMSG);
	init_blob_free(&b);
	cr_assert_eq(parse(NULL, 0), -EBADMSG, "an empty blob");
}
