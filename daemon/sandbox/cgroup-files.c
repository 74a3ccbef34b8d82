/*
 * Reading and writing cgroupfs files, for both backends: one value per
 * write(2), as cgroupfs wants, "max" read as UINT64_MAX, "key value"
 * files, and the small waits around them. Every path here is relative to
 * a directory fd the caller opened in its own tree; nothing here follows
 * an absolute path of its own, decides anything, or logs.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"

int cgroup_open_dir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? negerrno() : fd;
}

/* cgroupfs takes each write(2) as one complete value. */
static int write_value(int fd, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;

	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return negerrno();
	return (size_t)n == len ? 0 : -EIO;
}

static _printf_(3, 0) int format_value(char *buf, size_t size, const char *fmt,
				       va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The whole file from offset 0, NUL-terminated: the same fd reads a
 * counter again. */
static int read_from_start(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	while (len < size - 1) {
		n = pread(fd, buf + len, size - 1 - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negerrno();
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (int)len;
}

int cgroup_write_at(int dfd, const char *file, const char *value)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dfd, file, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negerrno();
	return write_value(fd, value);
}

int cgroup_writef_at(int dfd, const char *file, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = format_value(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return k < 0 ? k : cgroup_write_at(dfd, file, buf);
}

ssize_t cgroup_read_fd(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? negerrno() : n;
}

int cgroup_read_at(int dfd, const char *file, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negerrno();
	return read_from_start(fd, buf, size);
}

static int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

int cgroup_read_u64_at(int dfd, const char *file, uint64_t *ret)
{
	char buf[64];
	int r;

	r = cgroup_read_at(dfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	return parse_u64(buf, ret);
}

int cgroup_key_value(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	const char *p, *next;

	for (p = text; p && *p; p = next) {
		next = strchr(p, '\n');
		if (next)
			next++;
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return parse_u64(p + klen + 1, ret);
	}
	return -ENOENT;
}

int cgroup_read_key_at(int dfd, const char *file, const char *key,
		       uint64_t *ret)
{
	char buf[4096];
	int r;

	r = cgroup_read_at(dfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	return cgroup_key_value(buf, key, ret);
}

static int run_file(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
		    const char *name, bool write)
{
	if (r->file[f] < 0) {
		int fd = openat(dfd, name,
				(write ? O_WRONLY : O_RDONLY) | O_CLOEXEC |
				    O_NOCTTY);

		if (fd < 0)
			return negerrno();
		r->file[f] = fd;
	}
	return r->file[f];
}

void cgroup_run_keep_file(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
			  const char *name, bool write)
{
	if (dfd >= 0)
		(void)run_file(r, f, dfd, name, write);
}

int cgroup_run_read(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
		    const char *name, char *buf, size_t size)
{
	int fd = run_file(r, f, dfd, name, false);

	return fd < 0 ? fd : read_from_start(fd, buf, size);
}

int cgroup_run_read_u64(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
			const char *name, uint64_t *ret)
{
	char buf[64];
	int k = cgroup_run_read(r, f, dfd, name, buf, sizeof(buf));

	return k < 0 ? k : parse_u64(buf, ret);
}

int cgroup_run_writef(struct cgroup_run *r, enum cgroup_run_file f, int dfd,
		      const char *name, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = format_value(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (k < 0)
		return k;
	k = run_file(r, f, dfd, name, true);
	return k < 0 ? k : write_value(k, buf);
}

void cgroup_run_close(struct cgroup_run *r)
{
	r->fd = safe_close(r->fd);
	for (int i = 0; i < _CGROUP_V1_MAX; i++)
		r->v1_fd[i] = safe_close(r->v1_fd[i]);
	for (int i = 0; i < _RUN_FILE_MAX; i++)
		r->file[i] = safe_close(r->file[i]);
}

bool cgroup_has_file_at(int dfd, const char *file)
{
	return faccessat(dfd, file, F_OK, 0) == 0;
}

bool cgroup_word_in(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		bool start = p == list || isspace((unsigned char)p[-1]);
		bool end = p[len] == '\0' || isspace((unsigned char)p[len]);

		if (start && end)
			return true;
		p += len;
	}
	return false;
}

void cgroup_make_suffix(const struct cgroup_manager *m, const char *rel,
			char *buf, size_t size)
{
	snprintf(buf, size, "/%s/%s", m->root_name, rel);
}

void cgroup_backoff(unsigned *round)
{
	/* 100us, 200us, ... capped at 10ms: a killed cgroup usually empties
	 * within the first few rounds. */
	long us = 100L << (*round < 7 ? *round : 7);
	struct timespec ts;

	if (us > 10000)
		us = 10000;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	(*round)++;
}

int cgroup_procs_empty_at(int dfd, bool *ret_empty)
{
	char buf[16];
	int r;

	/* One byte is enough to know: any pid makes it non-empty. */
	r = cgroup_read_at(dfd, "cgroup.procs", buf, sizeof(buf));
	if (r < 0)
		return r;
	*ret_empty = r == 0;
	return 0;
}
