/*
 * Logging to stderr with syslog priority prefixes ("<3>..."), which
 * journald turns into priorities. Only the daemon's top layers log above
 * debug; the engine and the client library never do.
 */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "util.h"

void log_set_max_level(int level);
int log_get_max_level(void);

void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);
/* Appends ": strerror(-err)"; returns err so "return log_err(r, ...)" works. */
int log_errno(int prio, int err, const char *fmt, ...) _printf_(3, 4);

/*
 * For events a peer can cause at will (refused connections, timeouts):
 * a burst of LOG_RATELIMIT_BURST lines per LOG_RATELIMIT_WINDOW_NS, then
 * silence, then one line saying how many were left out. One state per
 * call site, so one flood does not hide another kind of event.
 */
#define LOG_RATELIMIT_BURST 5
#define LOG_RATELIMIT_WINDOW_NS (10ULL * 1000000000)
struct log_ratelimit {
	uint64_t window_start;
	unsigned printed;
	unsigned suppressed;
};
void log_msg_ratelimited(struct log_ratelimit *rl, int prio, const char *fmt,
			 ...) _printf_(3, 4);
#define log_ratelimited(prio, ...)                                \
	do {                                                      \
		static struct log_ratelimit log_rl_;              \
		log_msg_ratelimited(&log_rl_, prio, __VA_ARGS__); \
	} while (0)

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
