/*
 * Human sizes and durations, shared by the daemon config and boxctl:
 *   sizes:     "512", "64K", "1.5G", "2T" (1024-based, optional "i"/"B":
 *              "64KiB", "64KB", "64k" all mean 65536)
 *   durations: "250ms", "2.5s", "1m", "1h", "1500us", "10ns"; a bare number
 *              is seconds
 *   cpus:      "1.5" -> 1500 millis
 * All reject empty input, signs, trailing garbage, and overflow (-ERANGE),
 * and return -EINVAL for anything else malformed.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int parse_size(const char *s, uint64_t *ret_bytes);
int parse_duration(const char *s, uint64_t *ret_ns);
int parse_cpus(const char *s, uint32_t *ret_millis);
int parse_uint32(const char *s, uint32_t *ret);

/* Inverse, for messages: "512M", "1.5s". buf gets at most len bytes. */
const char *format_size(uint64_t bytes, char *buf, size_t len);
const char *format_duration(uint64_t ns, char *buf, size_t len);
