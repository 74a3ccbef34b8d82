/*
 * Turns the bytes of a Run (or CheckReadiness) request into a checked
 * struct action: the only place where the runner parses what the worker
 * sent. Everything later works on the normalised paths and the
 * de-duplicated environment built here.
 *
 * Must never touch the filesystem or boxd: a request refused here has
 * changed nothing, which is what INVALID_ARGUMENT promises the worker.
 * Must never let a path through that could climb out of its base; the
 * filesystem checks in execute.c rely on that (and repeat it with
 * RESOLVE_BENEATH).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "path.h"
#include "reply.h"
#include "runner.pb-c.h"
#include "util.h"

static void set_why(char *why, size_t why_len, const char *fmt, ...)
    _printf_(3, 4);

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

static int check_path(const char *field, const char *value, const char *base,
		      char **ret, char *why, size_t why_len)
{
	char shown[128];
	int r = path_normalize(value, ret);

	switch (r) {
	case 0:
		return 0;
	case -EINVAL:
		set_why(why, why_len,
			"%s \"%s\" is absolute; it must be relative to the %s",
			field, reply_printable(value, shown, sizeof(shown)),
			base);
		return -EINVAL;
	case -EXDEV:
		set_why(
		    why, why_len,
		    "%s \"%s\" has a \"..\" component: it could climb out of "
		    "the %s",
		    field, reply_printable(value, shown, sizeof(shown)), base);
		return -EINVAL;
	case -ENAMETOOLONG:
		set_why(why, why_len,
			"%s is too long (at most %d bytes, %d per component)",
			field, PATH_LENGTH_MAX, PATH_COMPONENT_MAX);
		return -EINVAL;
	default:
		return r;
	}
}

struct action *action_free(struct action *a)
{
	if (!a)
		return NULL;
	for (size_t i = 0; a->argv && i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	for (size_t i = 0; i < a->n_env; i++) {
		free(a->env[i].name);
		free(a->env[i].value);
	}
	free(a->env);
	free(a->working_directory);
	free(a->input_root);
	free(a->stdout_path);
	free(a->stderr_path);
	free(a->temporary_dir);
	free(a);
	return NULL;
}

static void request_freep(Buildbarn__Runner__RunRequest **req)
{
	if (*req)
		buildbarn__runner__run_request__free_unpacked(*req, NULL);
}

static void action_freep(struct action **a)
{
	action_free(*a);
}

static int copy_arguments(const Buildbarn__Runner__RunRequest *req,
			  struct action *a, char *why, size_t why_len)
{
	if (req->n_arguments == 0 || !req->arguments[0] ||
	    !req->arguments[0][0]) {
		set_why(why, why_len,
			"arguments is empty: the command needs at least "
			"arguments[0]");
		return -EINVAL;
	}
	if (req->n_arguments > ACTION_ARGUMENTS_MAX) {
		set_why(why, why_len, "too many arguments (at most %d)",
			ACTION_ARGUMENTS_MAX);
		return -EINVAL;
	}
	a->argv = calloc(req->n_arguments + 1, sizeof(char *));
	if (!a->argv)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_arguments; i++) {
		a->argv[i] = strdup(req->arguments[i] ? req->arguments[i] : "");
		if (!a->argv[i])
			return -ENOMEM;
		a->argc = i + 1;
	}
	return 0;
}

struct env_entry {
	const char *name;
	const char *value;
	size_t index;
};

static int env_entry_cmp(const void *x, const void *y)
{
	const struct env_entry *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int copy_environment(const Buildbarn__Runner__RunRequest *req,
			    struct action *a, char *why, size_t why_len)
{
	_cleanup_free_ struct env_entry *entries = NULL;
	size_t n = req->n_environment_variables;

	if (n > ACTION_ENVIRONMENT_MAX) {
		set_why(why, why_len,
			"too many environment variables (at most %d)",
			ACTION_ENVIRONMENT_MAX);
		return -EINVAL;
	}
	entries = calloc(n ? n : 1, sizeof(*entries));
	a->env = calloc(n ? n : 1, sizeof(*a->env));
	if (!entries || !a->env)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const Buildbarn__Runner__RunRequest__EnvironmentVariablesEntry
		    *e = req->environment_variables[i];
		const char *name = e && e->key ? e->key : "";
		char shown[128];

		/* execve() would read "A=B" as the variable A; an empty
		 * name is no variable at all. */
		if (!name[0] || strchr(name, '=')) {
			set_why(why, why_len,
				"environment variable name \"%s\" is empty or "
				"contains '='",
				reply_printable(name, shown, sizeof(shown)));
			return -EINVAL;
		}
		entries[i] = (struct env_entry){
		    .name = name,
		    .value = e && e->value ? e->value : "",
		    .index = i,
		};
	}
	/* A map key sent twice: the later entry wins, as when protobuf
	 * parses a map. Sorted by name, then by position, the last of each
	 * run of equal names is the one to keep. */
	qsort(entries, n, sizeof(*entries), env_entry_cmp);
	for (size_t i = 0; i < n; i++) {
		struct action_env *out = &a->env[a->n_env];

		if (i + 1 < n &&
		    strcmp(entries[i].name, entries[i + 1].name) == 0)
			continue;
		out->name = strdup(entries[i].name);
		out->value = strdup(entries[i].value);
		if (!out->name || !out->value) {
			free(out->name);
			free(out->value);
			*out = (struct action_env){0};
			return -ENOMEM;
		}
		a->n_env++;
		if (strcmp(out->name, "PATH") == 0)
			a->env_has_path = true;
		if (strcmp(out->name, "TMPDIR") == 0)
			a->env_has_tmpdir = true;
	}
	return 0;
}

static int copy_paths(const Buildbarn__Runner__RunRequest *req,
		      struct action *a, char *why, size_t why_len)
{
	static const char build[] = "build directory";
	int r;

	r = check_path("input_root_directory", req->input_root_directory, build,
		       &a->input_root, why, why_len);
	if (r < 0)
		return r;
	/* The build directory itself holds every action's files: handing
	 * it to one action as its input root would show it the others. */
	if (!a->input_root[0]) {
		set_why(why, why_len,
			"input_root_directory must name a directory inside the "
			"build directory, not the build directory itself");
		return -EINVAL;
	}
	r = check_path("working_directory", req->working_directory,
		       "input root", &a->working_directory, why, why_len);
	if (r < 0)
		return r;

	r = check_path("stdout_path", req->stdout_path, build, &a->stdout_path,
		       why, why_len);
	if (r < 0)
		return r;
	r = check_path("stderr_path", req->stderr_path, build, &a->stderr_path,
		       why, why_len);
	if (r < 0)
		return r;
	if (!a->stdout_path[0] || !a->stderr_path[0]) {
		set_why(why, why_len,
			"stdout_path and stderr_path must name files in the "
			"build directory");
		return -EINVAL;
	}
	/* Both are created exclusively: the same name twice can never
	 * work, and would otherwise fail after the first was made. */
	if (strcmp(a->stdout_path, a->stderr_path) == 0) {
		set_why(why, why_len,
			"stdout_path and stderr_path name the same file");
		return -EINVAL;
	}

	if (req->temporary_directory && req->temporary_directory[0]) {
		r = check_path("temporary_directory", req->temporary_directory,
			       build, &a->temporary_dir, why, why_len);
		if (r < 0)
			return r;
		if (!a->temporary_dir[0]) {
			set_why(why, why_len,
				"temporary_directory must name a directory "
				"inside the build directory, not the build "
				"directory itself");
			return -EINVAL;
		}
	}
	/* server_logs_directory is for runners that keep logs of their
	 * own; this one has none and ignores it. */
	return 0;
}

int action_from_bytes(const uint8_t *data, size_t len,
		      struct action **ret_action, char *why, size_t why_len)
{
	_cleanup_(request_freep) Buildbarn__Runner__RunRequest *req = NULL;
	_cleanup_(action_freep) struct action *a = NULL;
	int r;

	req = buildbarn__runner__run_request__unpack(NULL, len, data);
	if (!req) {
		set_why(why, why_len,
			"the request is not a buildbarn.runner.RunRequest");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	r = copy_arguments(req, a, why, why_len);
	if (r < 0)
		return r;
	r = copy_environment(req, a, why, why_len);
	if (r < 0)
		return r;
	r = copy_paths(req, a, why, why_len);
	if (r < 0)
		return r;
	/* arguments[0] without a slash is looked up in the request's own
	 * PATH. Without one there is nothing to look it up in: boxd would
	 * fall back to a default search path, which is not what the
	 * action asked for. */
	if (!strchr(a->argv[0], '/') && !a->env_has_path) {
		char shown[128];

		set_why(why, why_len,
			"arguments[0] \"%s\" has no slash and the environment "
			"has no PATH to look it up in",
			reply_printable(a->argv[0], shown, sizeof(shown)));
		return -EINVAL;
	}
	*ret_action = TAKE_PTR(a);
	return 0;
}

int action_readiness_path(const uint8_t *data, size_t len, char **ret_path,
			  char *why, size_t why_len)
{
	Buildbarn__Runner__CheckReadinessRequest *req;
	int r;

	req =
	    buildbarn__runner__check_readiness_request__unpack(NULL, len, data);
	if (!req) {
		set_why(why, why_len,
			"the request is not a "
			"buildbarn.runner.CheckReadinessRequest");
		return -EINVAL;
	}
	r = check_path("path", req->path, "build directory", ret_path, why,
		       why_len);
	buildbarn__runner__check_readiness_request__free_unpacked(req, NULL);
	return r;
}
