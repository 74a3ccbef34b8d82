/*
 * Encoding, walking and reading the spec blob the daemon hands to
 * boxd-init. Linked into both; the walker and the reader are written for a
 * blob they did not build (every record is bounds-checked and its payload
 * checked for its type) even though the writer is trusted: a mistake on
 * either side must stop the sandbox, never set it up half-read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "initmsg.h"

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)
#define BLOB_MAX (64u << 20)

static int blob_reserve(struct init_blob *b, size_t more)
{
	size_t want = b->len + more, cap;
	uint8_t *p;

	if (want > BLOB_MAX)
		return -E2BIG;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int init_blob_add(struct init_blob *b, uint32_t type, const void *p1, size_t n1,
		  const void *p2, size_t n2, const void *p3, size_t n3)
{
	size_t body = n1 + n2 + n3, total = 8 + ALIGN8(body);
	uint32_t hdr[2] = {type, (uint32_t)body};
	uint8_t *w;
	int r;

	if (body > BLOB_MAX)
		return -E2BIG;
	r = blob_reserve(b, total);
	if (r < 0)
		return r;
	w = b->data + b->len;
	memcpy(w, hdr, 8);
	w += 8;
	if (n1)
		memcpy(w, p1, n1);
	if (n2)
		memcpy(w + n1, p2, n2);
	if (n3 && p3)
		memcpy(w + n1 + n2, p3, n3);
	else if (n3)
		memset(w + n1 + n2, 0, n3); /* the caller fills it */
	memset(w + body, 0, ALIGN8(body) - body);
	b->len += total;
	return 0;
}

static int add_str(struct init_blob *b, uint32_t type, const char *s)
{
	return init_blob_add(b, type, s, strlen(s) + 1, NULL, 0, NULL, 0);
}

void init_blob_free(struct init_blob *b)
{
	free(b->data);
	*b = (struct init_blob){0};
}

/* A mount record: the fixed part, src\0, dst\0, an overlay's upper\0,
 * then a FILE's data. */
static int add_mount(struct init_blob *b, const struct spec_mount *m)
{
	struct init_rec_mount rm = {
	    .kind = m->kind,
	    .flags = m->flags,
	    .size = m->size,
	    .mode = m->mode,
	    .src_len = m->src ? (uint32_t)strlen(m->src) + 1 : 0,
	    .data_len = (uint32_t)m->data_len,
	    .upper_len = m->upper ? (uint32_t)strlen(m->upper) + 1 : 0,
	};
	size_t dst_len = strlen(m->dst) + 1, start = b->len;
	uint8_t *w;
	int r;

	if (m->data_len > BLOB_MAX)
		return -E2BIG;
	/* dst, upper and data go into the space the third part leaves
	 * zeroed. */
	r = init_blob_add(b, REC_MOUNT, &rm, sizeof(rm), m->src, rm.src_len,
			  NULL, dst_len + rm.upper_len + m->data_len);
	if (r < 0)
		return r;
	w = b->data + start + 8 + sizeof(rm) + rm.src_len;
	memcpy(w, m->dst, dst_len);
	if (rm.upper_len)
		memcpy(w + dst_len, m->upper, rm.upper_len);
	if (m->data_len)
		memcpy(w + dst_len + rm.upper_len, m->data, m->data_len);
	return 0;
}

int init_blob_encode(struct init_blob *b, const struct run_spec *spec,
		     const char *stage, uint64_t tmpfs_default,
		     const void *seccomp, size_t seccomp_len,
		     bool seccomp_listener)
{
	struct init_rec_ids ids = {
	    .uid = spec->uid,
	    .gid = spec->gid,
	    .tmpfs_default = tmpfs_default,
	};
	int r;

	if (spec->new_session)
		ids.flags |= INIT_FLAG_NEW_SESSION;
	if (spec->net == SPEC_NET_LOOPBACK)
		ids.flags |= INIT_FLAG_NET_LOOPBACK;
	if (spec->net == SPEC_NET_OUTBOUND)
		ids.flags |= INIT_FLAG_NET_OUTBOUND;
	if (seccomp_listener)
		ids.flags |= INIT_FLAG_SECCOMP_LISTENER;
	if (spec->no_exec)
		ids.flags |= INIT_FLAG_NO_EXEC;
	if (spec->write_ephemeral)
		ids.flags |= INIT_FLAG_WRITE_EPHEMERAL;
	if (spec->tty) {
		ids.flags |= INIT_FLAG_TTY;
		ids.tty_rows = spec->tty_rows;
		ids.tty_cols = spec->tty_cols;
	}

	r = init_blob_add(b, REC_IDS, &ids, sizeof(ids), NULL, 0, NULL, 0);
	if (r >= 0)
		r = add_str(b, REC_STAGE, stage);
	if (r >= 0)
		r = add_str(b, REC_CWD, spec->cwd ? spec->cwd : "/");
	if (r >= 0)
		r = add_str(b, REC_HOSTNAME,
			    spec->hostname ? spec->hostname : "boxd");
	for (char **a = spec->argv; r >= 0 && a && *a; a++)
		r = add_str(b, REC_ARG, *a);
	for (char **e = spec->env; r >= 0 && e && *e; e++)
		r = add_str(b, REC_ENV, *e);
	for (size_t i = 0; r >= 0 && i < spec->n_mounts; i++)
		r = add_mount(b, &spec->mounts[i]);
	for (int i = 0; r >= 0 && i < _SPEC_RLIMIT_MAX; i++) {
		struct init_rec_rlimit rl = {
		    .resource = (uint32_t)i,
		    .soft = spec->rlimits[i].soft,
		    .hard = spec->rlimits[i].hard,
		};
		if (spec->rlimits[i].set)
			r = init_blob_add(b, REC_RLIMIT, &rl, sizeof(rl), NULL,
					  0, NULL, 0);
	}
	if (r >= 0 && seccomp && seccomp_len)
		r = init_blob_add(b, REC_SECCOMP, seccomp, seccomp_len, NULL, 0,
				  NULL, 0);
	if (r >= 0)
		r = init_blob_add(b, REC_END, NULL, 0, NULL, 0, NULL, 0);
	return r;
}

int init_blob_next(const uint8_t *data, size_t size, size_t *off,
		   uint32_t *ret_type, const uint8_t **ret_payload,
		   uint32_t *ret_len)
{
	uint32_t hdr[2];
	size_t at = *off;

	if (at == size)
		return 0;
	if (at > size || size - at < 8)
		return -EBADMSG;
	memcpy(hdr, data + at, 8);
	if (hdr[1] > size - at - 8 || ALIGN8(hdr[1]) > size - at - 8)
		return -EBADMSG;
	*ret_type = hdr[0];
	*ret_payload = data + at + 8;
	*ret_len = hdr[1];
	*off = at + 8 + ALIGN8(hdr[1]);
	return 1;
}

/* A string record: its NUL last, and none before. */
static const char *rec_str(const uint8_t *p, uint32_t len)
{
	if (len == 0 || p[len - 1] != 0 || strlen((const char *)p) != len - 1)
		return NULL;
	return (const char *)p;
}

/* A record that may appear once, into its slot. */
static int set_once(const char **slot, const uint8_t *p, uint32_t len)
{
	const char *str = rec_str(p, len);

	if (!str || *slot)
		return -EBADMSG;
	*slot = str;
	return 0;
}

static int parse_mount(const uint8_t *p, uint32_t len, struct init_mount *m)
{
	struct init_rec_mount rm;
	const char *rest;
	size_t rest_len;

	if (len < sizeof(rm))
		return -EBADMSG;
	memcpy(&rm, p, sizeof(rm));
	if (rm.kind < SPEC_MOUNT_RO_BIND || rm.kind > SPEC_MOUNT_KIND_LAST)
		return -EBADMSG;
	/* src\0 (if any), then dst\0, then an OVERLAY's upper\0 (if any),
	 * then data_len bytes of a FILE's content, and nothing else. */
	rest = (const char *)p + sizeof(rm);
	rest_len = len - sizeof(rm);
	if (rm.data_len && rm.kind != SPEC_MOUNT_FILE)
		return -EBADMSG;
	if (rm.upper_len && rm.kind != SPEC_MOUNT_OVERLAY)
		return -EBADMSG;
	if (rm.data_len >= rest_len)
		return -EBADMSG;
	rest_len -= rm.data_len;
	if (rm.upper_len >= rest_len ||
	    (rm.upper_len &&
	     !rec_str((const uint8_t *)rest + rest_len - rm.upper_len,
		      rm.upper_len)))
		return -EBADMSG;
	rest_len -= rm.upper_len;
	if (rm.src_len >= rest_len ||
	    (rm.src_len && !rec_str((const uint8_t *)rest, rm.src_len)) ||
	    !rec_str((const uint8_t *)rest + rm.src_len,
		     (uint32_t)(rest_len - rm.src_len)))
		return -EBADMSG;
	*m = (struct init_mount){
	    .kind = rm.kind,
	    .flags = rm.flags,
	    .size = rm.size,
	    .mode = rm.mode,
	    .src = rm.src_len ? rest : NULL,
	    .dst = rest + rm.src_len,
	    .data = (const uint8_t *)rest + rest_len + rm.upper_len,
	    .data_len = rm.data_len,
	    .upper = rm.upper_len ? rest + rest_len : NULL,
	    .tree = -1,
	};
	return 0;
}

static int parse_rlimit(const uint8_t *p, uint32_t len, struct init_spec *s)
{
	struct init_rec_rlimit rl;

	if (len != sizeof(rl))
		return -EBADMSG;
	memcpy(&rl, p, sizeof(rl));
	if (rl.resource >= _SPEC_RLIMIT_MAX || s->rlimit_set[rl.resource])
		return -EBADMSG;
	s->rlimits[rl.resource] = rl;
	s->rlimit_set[rl.resource] = true;
	return 0;
}

/* One record of the second pass. */
static int parse_record(struct init_spec *s, uint32_t type, const uint8_t *p,
			uint32_t len, size_t *n_args, size_t *n_env,
			bool *have_ids)
{
	const char *str;

	switch ((enum init_rec)type) {
	case REC_ARG:
	case REC_ENV:
		str = rec_str(p, len);
		if (!str)
			return -EBADMSG;
		if (type == REC_ARG)
			s->argv[(*n_args)++] = (char *)str;
		else
			s->env[(*n_env)++] = (char *)str;
		return 0;
	case REC_CWD:
		return set_once(&s->cwd, p, len);
	case REC_HOSTNAME:
		return set_once(&s->hostname, p, len);
	case REC_STAGE:
		return set_once(&s->stage, p, len);
	case REC_IDS: {
		struct init_rec_ids ids;

		if (len != sizeof(ids) || *have_ids)
			return -EBADMSG;
		memcpy(&ids, p, sizeof(ids));
		s->uid = ids.uid;
		s->gid = ids.gid;
		s->flags = ids.flags;
		s->tty_rows = ids.tty_rows;
		s->tty_cols = ids.tty_cols;
		s->tmpfs_default = ids.tmpfs_default;
		*have_ids = true;
		return 0;
	}
	case REC_MOUNT:
		return parse_mount(p, len, &s->mounts[s->n_mounts++]);
	case REC_RLIMIT:
		return parse_rlimit(p, len, s);
	case REC_SECCOMP:
		/* Whole struct sock_filter instructions, once. */
		if (s->seccomp || len == 0 || len % 8 != 0)
			return -EBADMSG;
		s->seccomp = p;
		s->seccomp_len = len;
		return 0;
	case REC_END:
		return len == 0 ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

int init_blob_parse(const uint8_t *data, size_t size, struct init_spec *s)
{
	size_t off = 0, n_args = 0, n_env = 0, n_mounts = 0;
	bool ended = false, have_ids = false;
	const uint8_t *p;
	uint32_t type, len;
	int r;

	/* Two passes: count (and find the end, which must be last), then
	 * fill arrays that point into the blob. */
	while ((r = init_blob_next(data, size, &off, &type, &p, &len)) > 0) {
		if (ended)
			return -EBADMSG;
		n_args += type == REC_ARG;
		n_env += type == REC_ENV;
		n_mounts += type == REC_MOUNT;
		ended = type == REC_END;
	}
	if (r < 0 || !ended || n_args == 0)
		return -EBADMSG;
	s->argv = calloc(n_args + 1, sizeof(char *));
	s->env = calloc(n_env + 1, sizeof(char *));
	s->mounts = calloc(n_mounts ? n_mounts : 1, sizeof(*s->mounts));
	if (!s->argv || !s->env || !s->mounts)
		return -ENOMEM;

	n_args = n_env = 0;
	off = 0;
	while ((r = init_blob_next(data, size, &off, &type, &p, &len)) > 0) {
		r = parse_record(s, type, p, len, &n_args, &n_env, &have_ids);
		if (r < 0)
			return r;
	}
	if (r < 0 || !have_ids || !s->stage || !s->cwd || !s->hostname)
		return -EBADMSG;
	return 0;
}

void init_spec_clear(struct init_spec *s)
{
	free(s->argv);
	free(s->env);
	free(s->mounts);
	s->argv = s->env = NULL;
	s->mounts = NULL;
	s->n_mounts = 0;
}
