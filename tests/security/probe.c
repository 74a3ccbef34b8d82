/*
 * The probes' reporting helpers (probe.h). Output goes straight to an fd
 * with dprintf: no stdio buffer can hold a line back when a probe is
 * killed, and a probe that writes to a terminal leaves nothing behind in
 * a buffer that could be mistaken for injected input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

static const char *probe_name = "probe";
static int probe_fd = 1;
static unsigned n_checks, n_ok;

void probe_begin(const char *name, int out_fd)
{
	probe_name = name;
	probe_fd = out_fd;
}

bool probe_check(const char *check, bool ok, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	n_checks++;
	n_ok += ok;
	dprintf(probe_fd, "PROBE %s CHECK %s %s %s\n", probe_name, check,
		ok ? "OK" : "FAIL", detail);
	return ok;
}

void probe_info(const char *key, const char *fmt, ...)
{
	char value[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	dprintf(probe_fd, "PROBE %s INFO %s %s\n", probe_name, key, value);
}

int probe_end(void)
{
	bool pass = n_checks > 0 && n_ok == n_checks;

	dprintf(probe_fd, "PROBE %s VERDICT %s %u/%u\n", probe_name,
		pass ? "pass" : "fail", n_ok, n_checks);
	return pass ? 0 : 1;
}

const char *probe_errno_name(int err)
{
	static char buf[16];
	const char *name = err ? strerrorname_np(err) : "0";

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

long probe_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done + 1 < len) {
		ssize_t n = read(fd, buf + done, len - 1 - done);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = 0;
	close(fd);
	return (long)done;
}

const char *probe_status_field(const char *key, char *buf, size_t len)
{
	static char status[8192];
	size_t klen = strlen(key);
	const char *line;

	if (probe_read_file("/proc/self/status", status, sizeof(status)) < 0)
		return NULL;
	for (line = status; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			size_t n = strcspn(v, "\n");

			while (n && (*v == ' ' || *v == '\t')) {
				v++;
				n--;
			}
			if (n >= len)
				n = len - 1;
			memcpy(buf, v, n);
			buf[n] = 0;
			return buf;
		}
	}
	return NULL;
}
