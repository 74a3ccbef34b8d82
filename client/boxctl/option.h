/*
 * An option's value, checked and read (option.c). opt names the option
 * in messages: "--memory", or "FILE:LINE: memory" for one from a policy
 * file. Every function returns 0, or -EINVAL (the spec's error for
 * option_rlimit()) after one line on stderr saying what is wrong.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "boxclient.h"

/* "boxctl: OPT: message" on stderr; always -EINVAL. */
int option_bad(const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A number that did not parse (r from parse.h): out of range, or
 * invalid, naming what it should have been. */
int option_bad_value(const char *opt, const char *what, const char *value,
		     int r);
/* The spec refused the value (r: its -errno). */
int option_spec_failed(const char *opt, int r);

/* A path in the sandbox: absolute. */
int option_check_dst(const char *opt, const char *dst);
/* A size or a duration (parse.h's forms), more than 0. */
int option_size(const char *opt, const char *s, uint64_t *ret);
int option_duration(const char *opt, const char *s, uint64_t *ret);
/* An octal mode, at most 07777. */
int option_mode(const char *opt, const char *s, int *ret);
/* A CPU count (millis, as parsed from value) no larger than this host. */
int option_check_cpus(const char *opt, const char *value, uint32_t millis);
/* NAME=SOFT[:HARD], added to spec. */
int option_rlimit(box_spec *spec, const char *opt, const char *arg);

/* The whole of path ("-": stdin), for --file; at most 256 MiB. */
int option_read_file(const char *opt, const char *path, char **ret,
		     size_t *ret_len);
/* A seccomp policy file: not empty, at most 1 MiB. */
int option_read_policy(const char *opt, const char *path, char **ret,
		       size_t *ret_len);
