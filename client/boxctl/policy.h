/*
 * boxctl run --policy FILE: an INI file describing a run, read line by
 * line into the same options the command line has. This module knows the
 * file's sections and keys; run-args.c applies each option as it would
 * one given on the command line, so a value is checked the same way
 * wherever it comes from.
 */
#pragma once

#include <stddef.h>

/*
 * One option from the file: name as on the command line ("--memory"),
 * nargs values, and where ("FILE:LINE: key", for messages). Returns 0 or
 * -errno, having said why on stderr.
 */
typedef int (*policy_apply_fn)(void *userdata, const char *where,
			       const char *option, char **values, int nargs);

/*
 * Read path, calling apply for each option in file order. Every error is one
 * line on stderr naming "path:line" and what is wrong; returns 0 or
 * -errno. env is the caller's
 * environment, read only where the file allows it (pass, allow).
 */
int policy_load(const char *path, char *const *env, policy_apply_fn apply,
		void *userdata);
