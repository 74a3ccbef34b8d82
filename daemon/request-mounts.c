/*
 * RunRequest -> run_spec, the mounts (request-mounts.c): every kind a
 * request may ask for, the fields each uses, the tenant's bind rules and
 * deny list, files' sizes, persistent overlays' upper directories, hides
 * last, write_ephemeral's overlays.
 * Shares request.c's rules: bytes from a client, checked before use,
 * and a refusal that says what and why.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "request-internal.h"
#include "request.h"
#include "util.h"

#define MAX_MOUNTS 256

/* The fields of a Mount beyond kind and dst. */
enum {
	MOUNT_USES_SRC = 1u << 0,
	MOUNT_USES_SIZE = 1u << 1,
	MOUNT_USES_MODE = 1u << 2,
	MOUNT_USES_DATA = 1u << 3,
	MOUNT_USES_UPPER = 1u << 4,
};

/*
 * Every kind a request may ask for, and the fields it uses. A field a
 * kind does not use is refused rather than ignored: a caller who sets a
 * tmpfs size on a bind, or a source on a tmpfs, believes it does
 * something, and silence would let that belief stand.
 */
static const struct mount_kind {
	Boxd__V1__Mount__Kind pb;
	enum spec_mount_kind kind;
	const char *name; /* as boxctl spells it */
	unsigned uses;    /* MOUNT_USES_* */
	bool bind;        /* src is a host path, held against the tenant */
	bool writable;
} mount_kinds[] = {
    {BOXD__V1__MOUNT__KIND__RO_BIND, SPEC_MOUNT_RO_BIND, "ro-bind",
     MOUNT_USES_SRC, true, false},
    {BOXD__V1__MOUNT__KIND__BIND, SPEC_MOUNT_BIND, "bind", MOUNT_USES_SRC, true,
     true},
    {BOXD__V1__MOUNT__KIND__DEV_BIND, SPEC_MOUNT_DEV_BIND, "dev-bind",
     MOUNT_USES_SRC, true, true},
    {BOXD__V1__MOUNT__KIND__TMPFS, SPEC_MOUNT_TMPFS, "tmpfs",
     MOUNT_USES_SIZE | MOUNT_USES_MODE, false, false},
    {BOXD__V1__MOUNT__KIND__PROC, SPEC_MOUNT_PROC, "proc", 0, false, false},
    {BOXD__V1__MOUNT__KIND__DEV, SPEC_MOUNT_DEV, "dev", 0, false, false},
    {BOXD__V1__MOUNT__KIND__SYMLINK, SPEC_MOUNT_SYMLINK, "symlink",
     MOUNT_USES_SRC, false, false},
    {BOXD__V1__MOUNT__KIND__DIR, SPEC_MOUNT_DIR, "dir", MOUNT_USES_MODE, false,
     false},
    {BOXD__V1__MOUNT__KIND__REMOUNT_RO, SPEC_MOUNT_REMOUNT_RO, "remount-ro", 0,
     false, false},
    {BOXD__V1__MOUNT__KIND__HIDE, SPEC_MOUNT_HIDE, "hide", 0, false, false},
    {BOXD__V1__MOUNT__KIND__FILE, SPEC_MOUNT_FILE, "file",
     MOUNT_USES_DATA | MOUNT_USES_MODE, false, false},
    /* Read-only as far as the host is concerned: held against the
     * tenant's bind rules like a read-only bind. */
    {BOXD__V1__MOUNT__KIND__OVERLAY, SPEC_MOUNT_OVERLAY, "overlay",
     MOUNT_USES_SRC | MOUNT_USES_UPPER, true, false},
};

static const struct mount_kind *mount_kind_of(Boxd__V1__Mount__Kind pb)
{
	for (size_t i = 0; i < ELEMENTSOF(mount_kinds); i++)
		if (mount_kinds[i].pb == pb)
			return &mount_kinds[i];
	return NULL;
}

/* Each field the kind does not use, if present, is an error. */
static int refuse_unused_fields(const Boxd__V1__Mount *in,
				const struct mount_kind *k, const char *dst,
				struct error_detail *err)
{
	if (in->has_src && !(k->uses & MOUNT_USES_SRC))
		return BAD(err,
			   "%s %s: src applies to the bind kinds and symlink "
			   "only",
			   k->name, dst);
	if (in->has_size && !(k->uses & MOUNT_USES_SIZE))
		return BAD(err, "%s %s: size applies to tmpfs only", k->name,
			   dst);
	if (in->has_mode && !(k->uses & MOUNT_USES_MODE))
		return BAD(err,
			   "%s %s: mode applies to tmpfs, dir and file only",
			   k->name, dst);
	if (in->has_data && !(k->uses & MOUNT_USES_DATA))
		return BAD(err, "%s %s: data applies to file only", k->name,
			   dst);
	if (in->has_upper && !(k->uses & MOUNT_USES_UPPER))
		return BAD(err, "%s %s: upper applies to overlay only", k->name,
			   dst);
	return 0;
}

/* path is dir or below it (both normalised: "/" is above everything). */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (!path[n] || path[n] == '/');
}

/*
 * A persistent overlay's host directory (Mount.upper), as far as its
 * path tells: boxd-init checks the directory itself (upper.h), with the
 * caller's rights, on what the path really resolves to. Refused here:
 *  - a tenant whose runs use private uids: the sandbox user is then no
 *    id of the caller's, and could neither own nor write a directory
 *    the caller owns (nor should a private uid ever own one of the
 *    caller's: the uid goes to another caller later);
 *  - a directory the tenant's bind rules do not allow writable: the
 *    run writes there as surely as through a writable bind;
 *  - one at or below the source, or above it, by their paths: the
 *    source must never change, and copy-up writes into the upper layer
 *    (boxd-init repeats this on the directories, whatever the paths).
 */
static int convert_upper(const Boxd__V1__Mount *in,
			 const struct request_ctx *ctx, struct spec_mount *m,
			 struct error_detail *err)
{
	const struct tenant_policy *t = ctx->tenant;

	if (request_normalize_path(in->upper.data, in->upper.len, &m->upper) <
	    0)
		return BAD(err,
			   "overlay %s: upper must be an absolute path "
			   "without '.' or '..' components",
			   m->dst);
	if (t && t->uid_mode == UID_MODE_PRIVATE)
		return DENIED(err,
			      "overlay %s: tenant '%s' runs with private uids, "
			      "which cannot keep writes in a directory of the "
			      "caller's",
			      m->dst, t->name);
	if (t && t->binds_restricted && !tenant_may_bind(t, m->upper, true))
		return DENIED(
		    err,
		    "overlay %s: tenant '%s' may not bind %s writable "
		    "(the overlay's upper directory)",
		    m->dst, t->name, m->upper);
	if (path_under(m->upper, m->src) || path_under(m->src, m->upper))
		return BAD(err,
			   "overlay %s: upper %s and source %s must not lie "
			   "in one another",
			   m->dst, m->upper, m->src);
	return 0;
}

/*
 * The default profile's /proc and /dev are the sandbox's own kernel views
 * (a proc of its pid namespace with the host's sensitive files masked, a
 * minimal dev): a mount onto or below them would replace or bury part of
 * them, the masks included. Refused, so a mistake is said rather than
 * half-working; --profile bare leaves both to the caller. Device nodes
 * (dev-bind) belong in /dev, and hide and remount-ro only take away.
 */
static bool over_profile_kernel_mount(enum spec_mount_kind kind,
				      const char *dst)
{
	if (kind == SPEC_MOUNT_HIDE || kind == SPEC_MOUNT_REMOUNT_RO)
		return false;
	if (kind == SPEC_MOUNT_DEV_BIND && strcmp(dst, "/dev") != 0)
		return path_under(dst, "/proc");
	return path_under(dst, "/proc") || path_under(dst, "/dev");
}

static int convert_mount(const Boxd__V1__Mount *in, size_t idx, bool bare,
			 const struct request_ctx *ctx, struct spec_mount *m,
			 struct error_detail *err)
{
	const struct mount_kind *k = mount_kind_of(in->kind);
	const struct tenant_policy *t = ctx->tenant;
	int r;

	if (!k)
		return BAD(err, "mount %zu: unknown kind %d", idx,
			   (int)in->kind);
	m->kind = k->kind;
	if (request_normalize_path(in->dst.data, in->dst.len, &m->dst) < 0)
		return BAD(err,
			   "%s: destination must be an absolute path without "
			   "'.' or '..' components (mount %zu)",
			   k->name, idx);
	/* "/" may only be the first mount of a bare profile, and only a
	 * bind: that host directory then is the sandbox's root (a rootfs).
	 * Anywhere else it would bury what came before it. */
	if (strcmp(m->dst, "/") == 0 &&
	    !(idx == 0 && bare &&
	      (k->kind == SPEC_MOUNT_RO_BIND || k->kind == SPEC_MOUNT_BIND)))
		return BAD(err,
			   "%s: only a bind as the first mount of the bare "
			   "profile may target / (a root filesystem)",
			   k->name);
	if (!bare && over_profile_kernel_mount(k->kind, m->dst))
		return BAD(err,
			   "%s %s: the default profile mounts /proc and /dev "
			   "itself; use --profile bare to mount your own",
			   k->name, m->dst);
	r = refuse_unused_fields(in, k, m->dst, err);
	if (r < 0)
		return r;

	if (k->kind == SPEC_MOUNT_SYMLINK &&
	    (!in->has_src || in->src.len == 0 ||
	     request_bytes_to_str(&in->src, MAX_PATH, &m->src) < 0))
		return BAD(err, "symlink %s: needs a target without NUL",
			   m->dst);
	if (k->bind) {
		if (!in->has_src || request_normalize_path(
					in->src.data, in->src.len, &m->src) < 0)
			return BAD(err,
				   "%s %s: source must be an absolute path "
				   "without '.' or '..' components",
				   k->name, m->dst);
		if (t && t->binds_restricted &&
		    !tenant_may_bind(t, m->src, k->writable))
			return DENIED(err,
				      "%s %s: tenant '%s' may not bind %s%s",
				      k->name, m->dst, t->name, m->src,
				      k->writable ? " writable" : "");
		/* The rule matched the path as written: a symlink on the
		 * way must not lead the bind somewhere the rule does not
		 * cover. */
		if (t && t->binds_restricted)
			m->flags |= SPEC_MOUNT_NO_SYMLINKS;
	}
	if (in->has_upper && (r = convert_upper(in, ctx, m, err)) < 0)
		return r;
	if (k->kind == SPEC_MOUNT_FILE && in->has_data && in->data.len) {
		m->data = malloc(in->data.len);
		if (!m->data)
			return -ENOMEM;
		memcpy(m->data, in->data.data, in->data.len);
		m->data_len = in->data.len;
	}
	if (in->has_mode) {
		if (in->mode & ~07777u)
			return BAD(err, "%s %s: bad mode %o", k->name, m->dst,
				   in->mode);
		m->mode = in->mode;
	}
	/* A size of 0 is the daemon's default, as when it is unset. */
	if (in->has_size && in->size) {
		if (t && t->max_memory_bytes && in->size > t->max_memory_bytes)
			return DENIED(err,
				      "tmpfs %s: size exceeds the tenant's "
				      "memory ceiling",
				      m->dst);
		m->size = in->size;
	}
	return 0;
}

/*
 * Hides go after every other mount, in their own order: boxd-init applies
 * them last whatever their place (a mount made after a hide could bury
 * its cover), and the spec, and so the plan, says what will happen.
 */
static void hides_last(struct spec_mount *m, size_t n)
{
	size_t kept = 0, hides = 0;
	struct spec_mount tmp;

	for (size_t i = 0; i < n; i++)
		hides += m[i].kind == SPEC_MOUNT_HIDE;
	/* Stable: rotate each non-hide down past the hides before it. */
	for (size_t i = 0; i < n && hides; i++) {
		if (m[i].kind == SPEC_MOUNT_HIDE)
			continue;
		tmp = m[i];
		memmove(&m[kept + 1], &m[kept], (i - kept) * sizeof(*m));
		m[kept++] = tmp;
	}
}

/*
 * The tenant's deny list: host paths hidden wherever the run would show
 * them (a bind of the path, of any directory above it, the rootfs).
 * Trusted: boxd-init resolves them with its own rights rather than the
 * caller's, so a path the caller cannot open is still looked for.
 */
static int add_tenant_denies(const struct tenant_policy *t, struct run_spec *s)
{
	for (size_t i = 0; t && i < t->n_deny; i++) {
		struct spec_mount *m = &s->mounts[s->n_mounts];

		*m = (struct spec_mount){
		    .kind = SPEC_MOUNT_HIDE,
		    .flags = SPEC_MOUNT_TRUSTED | SPEC_MOUNT_OPTIONAL,
		    .src = strdup(t->deny[i]),
		    .dst = strdup(t->deny[i]),
		};
		s->n_mounts++;
		if (!m->src || !m->dst)
			return -ENOMEM;
	}
	return 0;
}

/*
 * FILE contents live on a tmpfs of the run's, charged to its memory like
 * any tmpfs: all of them together may take no more than a tmpfs without
 * an explicit size would (the daemon's tmpfs-size), nor more than the
 * tenant's memory ceiling.
 */
static int check_files_size(const Boxd__V1__RunRequest *req,
			    const struct request_ctx *ctx,
			    struct error_detail *err)
{
	const struct tenant_policy *t = ctx->tenant;
	uint64_t total = 0, max = 64ull << 20;

	if (ctx->cfg && ctx->cfg->tmpfs_default_bytes)
		max = ctx->cfg->tmpfs_default_bytes;
	/* Before anything is copied: the data of other kinds is refused
	 * later, and counts here all the same. */
	for (size_t i = 0; i < req->n_mounts; i++)
		if (req->mounts[i]->has_data)
			total += req->mounts[i]->data.len;
	if (total > max)
		return BAD(err,
			   "file: %llu bytes of content in all, above the "
			   "daemon's tmpfs-size (%llu bytes)",
			   (unsigned long long)total, (unsigned long long)max);
	if (t && t->max_memory_bytes && total > t->max_memory_bytes)
		return DENIED(err,
			      "file: %llu bytes of content in all, above the "
			      "tenant's memory ceiling",
			      (unsigned long long)total);
	return 0;
}

/* Each persistent overlay stages its directory's mount in boxd-init's
 * small park (init-stage.c) while it is made. */
static int check_persistent_count(const Boxd__V1__RunRequest *req,
				  struct error_detail *err)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_mounts; i++)
		n += req->mounts[i]->has_upper;
	if (n > SPEC_MAX_PERSISTENT_OVERLAYS)
		return BAD(err,
			   "overlay: %zu with an upper directory, at most %d",
			   n, SPEC_MAX_PERSISTENT_OVERLAYS);
	return 0;
}

/*
 * write_ephemeral: every read-only bind (the profile's system
 * directories, the request's) becomes an overlay whose writes go to a
 * tmpfs, and the root stays writable. A bind onto "/" (a rootfs) keeps
 * its mode: overlayfs cannot be the root pid 1 pivots into. Writable
 * binds stay writable: the caller asked for the host to see those
 * writes.
 */
void request_make_ephemeral(struct run_spec *s)
{
	s->write_ephemeral = true;
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct spec_mount *m = &s->mounts[i];

		if (m->kind != SPEC_MOUNT_RO_BIND || strcmp(m->dst, "/") == 0)
			continue;
		m->kind = SPEC_MOUNT_OVERLAY;
		m->flags |= SPEC_MOUNT_EPHEMERAL;
	}
}

int request_convert_mounts(const Boxd__V1__RunRequest *req,
			   const struct request_ctx *ctx, struct run_spec *s,
			   struct error_detail *err)
{
	const struct profile *prof = NULL;
	size_t total;
	int r;

	switch ((int)req->profile) {
	case BOXD__V1__PROFILE__PROFILE_DEFAULT:
		prof = profile_default();
		if (!prof)
			return -ENOMEM;
		break;
	case BOXD__V1__PROFILE__PROFILE_BARE:
		break;
	default:
		return BAD(err, "unknown profile %d (known: default, bare)",
			   (int)req->profile);
	}
	if (req->n_mounts > MAX_MOUNTS)
		return BAD(err, "too many mounts (%zu, at most %d)",
			   req->n_mounts, MAX_MOUNTS);
	r = check_files_size(req, ctx, err);
	if (r < 0)
		return r;
	r = check_persistent_count(req, err);
	if (r < 0)
		return r;
	total = req->n_mounts + (prof ? prof->n : 0) +
		(ctx->tenant ? ctx->tenant->n_deny : 0);
	s->mounts = calloc(total ? total : 1, sizeof(*s->mounts));
	if (!s->mounts)
		return -ENOMEM;
	if (prof && (r = profile_copy(s, prof)) < 0)
		return r;
	for (size_t i = 0; i < req->n_mounts; i++) {
		r = convert_mount(req->mounts[i], i, !prof, ctx,
				  &s->mounts[s->n_mounts], err);
		s->n_mounts++; /* owned by the spec even when half-filled */
		if (r < 0)
			return r;
	}
	hides_last(s->mounts + s->n_mounts - req->n_mounts, req->n_mounts);
	return add_tenant_denies(ctx->tenant, s);
}
