/*
 * The answer to a Run whose command ran: exit code and the two
 * resource-usage messages, serialized.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <boxclient.h>

#define USAGE_POSIX_TYPE_URL \
	"type.googleapis.com/buildbarn.resourceusage.POSIXResourceUsage"
#define USAGE_BOXD_TYPE_URL \
	"type.googleapis.com/boxd.buildbarn.v1.BoxdResourceUsage"

/* The exit status for EXITED, else -1 (the command was killed). */
int64_t usage_exit_code(const box_result *r);

/*
 * The name of signal sig without "SIG" ("KILL", "SEGV"; "RTMIN+3" for
 * real-time signals) into buf; NULL for a value that is no signal.
 */
const char *usage_signal_name(int sig, char *buf, size_t len);

/* A serialized buildbarn.runner.RunResponse for r (malloc'd). -ENOMEM. */
int usage_response(const box_result *r, uint8_t **ret_body, size_t *ret_len);
