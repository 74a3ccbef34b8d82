/*
 * An option's value, checked and read, for boxctl run (run-args.c) and
 * policy files alike: each function names the option ("--memory", or
 * "FILE:LINE: memory" from a policy file) in the one line it writes to
 * stderr when it refuses, and returns -EINVAL (or the spec's error) then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "option.h"
#include "parse.h"
#include "util.h"

/* Larger seccomp policies are certainly a mistake (and would not fit). */
#define SECCOMP_POLICY_MAX (1u << 20)

int option_bad(const char *opt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "boxctl: %s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

int option_bad_value(const char *opt, const char *what, const char *value,
		     int r)
{
	if (r == -ERANGE)
		return option_bad(opt, "%s out of range: '%s'", what, value);
	return option_bad(opt, "invalid %s '%s'", what, value);
}

int option_spec_failed(const char *opt, int r)
{
	return option_bad(opt, "%s",
			  r == -EINVAL ? "invalid argument" : strerror(-r));
}

int option_check_dst(const char *opt, const char *dst)
{
	if (dst[0] != '/')
		return option_bad(opt, "'%s' is not an absolute path", dst);
	return 0;
}

/* r: what parsing s as a what into *v gave; refused unless *v is a
 * number above 0. */
static int positive(const char *opt, const char *what, const char *s, int r,
		    const uint64_t *v)
{
	if (r < 0)
		return option_bad_value(opt, what, s, r);
	if (*v == 0)
		return option_bad(opt, "must be more than 0");
	return 0;
}

int option_size(const char *opt, const char *s, uint64_t *ret)
{
	return positive(opt, "size", s, parse_size(s, ret), ret);
}

int option_duration(const char *opt, const char *s, uint64_t *ret)
{
	return positive(opt, "duration", s, parse_duration(s, ret), ret);
}

int option_mode(const char *opt, const char *s, int *ret)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "01234567") != strlen(s))
		return option_bad(opt, "invalid octal mode '%s'", s);
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || v > 07777)
		return option_bad(opt, "mode out of range: '%s'", s);
	*ret = (int)v;
	return 0;
}

/* More CPUs than the host has would be a limit that never limits:
 * almost certainly a mistake (a core count from another machine). */
int option_check_cpus(const char *opt, const char *value, uint32_t millis)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n > 0 && millis > (uint64_t)n * 1000)
		return option_bad(
		    opt,
		    "%s is more than the %ld CPU%s this host has; a "
		    "run cannot use more than all of them",
		    value, n, n == 1 ? "" : "s");
	return 0;
}

static int parse_rlimit_value(const char *opt, const char *s, uint64_t *ret)
{
	int r;

	if (strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0) {
		*ret = BOX_RLIM_INFINITY;
		return 0;
	}
	r = parse_size(s, ret);
	if (r < 0)
		return option_bad_value(opt, "rlimit value", s, r);
	return 0;
}

int option_rlimit(box_spec *spec, const char *opt, const char *arg)
{
	static const struct {
		const char *name;
		enum box_rlimit_resource res;
	} names[] = {
	    {"nofile", BOX_RLIMIT_NOFILE}, {"fsize", BOX_RLIMIT_FSIZE},
	    {"core", BOX_RLIMIT_CORE},     {"nproc", BOX_RLIMIT_NPROC},
	    {"stack", BOX_RLIMIT_STACK},   {"as", BOX_RLIMIT_AS},
	};
	_cleanup_free_ char *copy = strdup(arg);
	char *eq, *colon;
	uint64_t soft, hard;
	int res = -1, r;

	if (!copy)
		return option_bad(opt, "%s", strerror(ENOMEM));
	eq = strchr(copy, '=');
	if (!eq)
		return option_bad(opt, "expected NAME=SOFT[:HARD], got '%s'",
				  arg);
	*eq = '\0';
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcasecmp(copy, names[i].name) == 0)
			res = (int)names[i].res;
	if (res < 0)
		return option_bad(
		    opt,
		    "unknown resource '%s' (nofile fsize core nproc "
		    "stack as)",
		    copy);
	colon = strchr(eq + 1, ':');
	if (colon)
		*colon = '\0';
	r = parse_rlimit_value(opt, eq + 1, &soft);
	if (r < 0)
		return r;
	hard = soft;
	if (colon) {
		r = parse_rlimit_value(opt, colon + 1, &hard);
		if (r < 0)
			return r;
	}
	if (soft > hard)
		return option_bad(opt, "soft limit above hard limit in '%s'",
				  arg);
	r = box_spec_add_rlimit(spec, (enum box_rlimit_resource)res, soft,
				hard);
	if (r < 0)
		return option_spec_failed(opt, r);
	return 0;
}

/* The whole of path ("-": stdin) for --file. The daemon holds the
 * total to its tmpfs-size; this only keeps boxctl's memory bounded. */
#define FILE_CONTENT_MAX (256u << 20)

int option_read_file(const char *opt, const char *path, char **ret,
		     size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (strcmp(path, "-") == 0) {
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return option_bad(opt, "stdin: %s", strerror(errno));
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return option_bad(opt, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *grown;

			if (cap >= FILE_CONTENT_MAX)
				return option_bad(opt, "%s: larger than %u MiB",
						  path, FILE_CONTENT_MAX >> 20);
			cap = cap ? cap * 2 : 65536;
			grown = realloc(buf, cap);
			if (!grown)
				return option_bad(opt, "%s", strerror(ENOMEM));
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return option_bad(opt, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int option_read_policy(const char *opt, const char *path, char **ret,
		       size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return option_bad(opt, "%s: %s", path, strerror(errno));
	buf = malloc(SECCOMP_POLICY_MAX + 1);
	if (!buf)
		return option_bad(opt, "%s", strerror(ENOMEM));
	for (;;) {
		ssize_t n = read(fd, buf + len, SECCOMP_POLICY_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return option_bad(opt, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SECCOMP_POLICY_MAX)
			return option_bad(opt, "%s: larger than %u bytes", path,
					  SECCOMP_POLICY_MAX);
	}
	if (len == 0)
		return option_bad(opt, "%s: empty policy", path);
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}
