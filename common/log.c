/*
 * stderr logger with "<prio>" prefixes. One write(2) per line so lines from
 * concurrent writers never interleave mid-line.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
	max_level = level;
}
int log_get_max_level(void)
{
	return max_level;
}

static void log_write(int prio, int err, const char *fmt, va_list ap)
    _printf_(3, 0);

static void log_write(int prio, int err, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "<%d>", prio);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	if (err)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
			      strerror(err < 0 ? -err : err));
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > max_level)
		return;
	va_start(ap, fmt);
	log_write(prio, 0, fmt, ap);
	va_end(ap);
}

int log_errno(int prio, int err, const char *fmt, ...)
{
	va_list ap;

	if (prio <= max_level) {
		va_start(ap, fmt);
		log_write(prio, err, fmt, ap);
		va_end(ap);
	}
	return err;
}

void log_msg_ratelimited(struct log_ratelimit *rl, int prio, const char *fmt,
			 ...)
{
	uint64_t now = now_ns();
	va_list ap;

	if (prio > max_level)
		return;
	if (now - rl->window_start >= LOG_RATELIMIT_WINDOW_NS) {
		if (rl->suppressed)
			log_msg(prio, "(%u similar messages left out)",
				rl->suppressed);
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed >= LOG_RATELIMIT_BURST) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	log_write(prio, 0, fmt, ap);
	va_end(ap);
}
