/* Allocation and teardown of run specs. */
#include <stdlib.h>

#include "seccomp.h"
#include "spec.h"

struct run_spec *spec_new(void)
{
	struct run_spec *s = calloc(1, sizeof(*s));

	if (s)
		s->new_session = true;
	return s;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

struct run_spec *spec_free(struct run_spec *s)
{
	if (!s)
		return NULL;
	strv_free(s->argv);
	strv_free(s->env);
	free(s->cwd);
	free(s->hostname);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].src);
		free(s->mounts[i].dst);
		free(s->mounts[i].data);
		free(s->mounts[i].upper);
	}
	free(s->mounts);
	seccomp_prog_unref(s->seccomp);
	free(s->tag);
	free(s);
	return NULL;
}
