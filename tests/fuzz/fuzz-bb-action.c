/*
 * libFuzzer target for bb-runner/action.c, the code of boxd-bb-runner that
 * parses what the worker sends: a RunRequest (and, from the same bytes, a
 * CheckReadinessRequest). Whatever the input, an accepted action must
 * hold only paths that cannot leave their base (relative, no "..", no
 * empty or "." components), a non-empty arguments[0], and unique
 * environment names without '='; a refused one must say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "util.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p, bool may_be_empty)
{
	CHECK(p);
	CHECK(may_be_empty || p[0]);
	CHECK(p[0] != '/');
	for (const char *c = p; *c;) {
		const char *end = strchrnul(c, '/');
		size_t n = (size_t)(end - c);

		CHECK(n > 0);
		CHECK(!(n == 1 && c[0] == '.'));
		CHECK(!(n == 2 && c[0] == '.' && c[1] == '.'));
		c = *end ? end + 1 : end;
		CHECK(!(*end && !*c)); /* no trailing slash */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct action *a = NULL;
	char why[512] = "", *path = NULL;
	int r;

	r = action_from_bytes(data, size, &a, why, sizeof(why));
	if (r == 0) {
		CHECK(a->argc > 0 && a->argv[0][0]);
		CHECK(a->argv[a->argc] == NULL);
		CHECK(strchr(a->argv[0], '/') || a->env_has_path);
		check_path(a->working_directory, true);
		check_path(a->input_root, false);
		check_path(a->stdout_path, false);
		check_path(a->stderr_path, false);
		CHECK(strcmp(a->stdout_path, a->stderr_path) != 0);
		if (a->temporary_dir)
			check_path(a->temporary_dir, false);
		for (size_t i = 0; i < a->n_env; i++) {
			CHECK(a->env[i].name[0]);
			CHECK(!strchr(a->env[i].name, '='));
			for (size_t j = i + 1; j < a->n_env; j++)
				CHECK(strcmp(a->env[i].name, a->env[j].name) !=
				      0);
		}
		action_free(a);
	} else {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(a == NULL);
		CHECK(r == -ENOMEM || why[0]);
	}

	r = action_readiness_path(data, size, &path, why, sizeof(why));
	if (r == 0) {
		check_path(path, true);
		free(path);
	}
	return 0;
}
