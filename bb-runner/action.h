/*
 * One Run request of the runner protocol, checked and normalised: what
 * the runner will run, with which environment, where, and where its
 * output goes. Plain C: nothing here knows protobuf or gRPC.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ceilings on what one request may carry (boxd's own, so that a request
 * the runner accepts is never refused by boxd for its size). */
#define ACTION_ARGUMENTS_MAX 65536
#define ACTION_ENVIRONMENT_MAX 65536

struct action_env {
	char *name;
	char *value;
};

struct action {
	/* NULL-terminated; argv[0] is not empty. */
	char **argv;
	size_t argc;

	/* The command's complete environment: names are unique (the last
	 * of duplicate map entries wins, as protobuf maps do), not empty
	 * and without '='. */
	struct action_env *env;
	size_t n_env;
	bool env_has_path;
	bool env_has_tmpdir;

	/* Normalised (path_normalize()). Relative to the input root: */
	char *working_directory; /* "" is the input root */
	/* Relative to the build directory: */
	char *input_root;    /* never "" */
	char *stdout_path;   /* never "", never equal to stderr_path */
	char *stderr_path;   /* never "" */
	char *temporary_dir; /* NULL when the request names none */
};

/*
 * Decode and check a serialized buildbarn.runner.RunRequest. On a bad
 * request returns -EINVAL with a one-line reason in why (for the
 * INVALID_ARGUMENT status); -ENOMEM.
 */
int action_from_bytes(const uint8_t *data, size_t len,
		      struct action **ret_action, char *why, size_t why_len);

struct action *action_free(struct action *a);

/*
 * Decode and check a serialized buildbarn.runner.CheckReadinessRequest:
 * its path, normalised (may be "": the build directory itself). -EINVAL
 * with a reason in why, -ENOMEM.
 */
int action_readiness_path(const uint8_t *data, size_t len, char **ret_path,
			  char *why, size_t why_len);
