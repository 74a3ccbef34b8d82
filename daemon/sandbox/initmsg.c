/*
 * Encoding and walking the spec blob the daemon hands to boxd-init. Linked
 * into both; the walker is written for a blob it did not build (it is
 * bounds-checked on every record) even though the writer is trusted.
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
	if (n3)
		memcpy(w + n1 + n2, p3, n3);
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
	if (seccomp_listener)
		ids.flags |= INIT_FLAG_SECCOMP_LISTENER;

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
	for (size_t i = 0; r >= 0 && i < spec->n_mounts; i++) {
		const struct spec_mount *m = &spec->mounts[i];
		struct init_rec_mount rm = {
		    .kind = m->kind,
		    .flags = m->flags,
		    .size = m->size,
		    .mode = m->mode,
		    .src_len = m->src ? (uint32_t)strlen(m->src) + 1 : 0,
		};
		r = init_blob_add(b, REC_MOUNT, &rm, sizeof(rm), m->src,
				  rm.src_len, m->dst, strlen(m->dst) + 1);
	}
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
