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

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
