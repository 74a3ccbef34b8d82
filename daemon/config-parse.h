/*
 * The layer below both configuration files (config.c: the file, [daemon],
 * [private-ids]; config-tenant.c: tenant policies): reading an INI file
 * with libinih, line by line, and the value parsers every section shares
 * (booleans, ceilings in sizes, durations and counts, user and group ids,
 * lists, paths). It knows no section or key by name; the files above hand
 * it callbacks. The dependency goes one way: config.c uses config-tenant.c,
 * both use this file, and this file uses neither.
 *
 * Errors are recorded, not returned through every layer: the first one
 * recorded (with its line) is the one config_parse_file() reports as
 * "path:line: why", and parsing stops there. Every function that records
 * one returns -EINVAL, so a callback's failure path reads
 * "return config_parse_fail(p, ...)".
 */
#pragma once

#include "ini-lines.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "util.h"

struct config_parser {
	const char *path;
	struct ini_lines lines; /* lines.line: the line being read, from 1 */
	char section[64];       /* the current section's name, "" before any */

	/* Private to config-parse.c. */
	const struct config_parse_ops *ops;
	void *userdata;
	bool in_section;
	int err;
	unsigned err_line;
	char why[256];
};

struct config_parse_ops {
	/* A "[name]" header, also of a section without keys: 0, or refuse
	 * it with config_parse_fail(). */
	int (*section)(struct config_parser *p, const char *name,
		       void *userdata);
	/* "name = value" in the current section. The value is trimmed of
	 * blanks and of a " # comment", never empty, and the callback's to
	 * modify (config_next_word()). */
	int (*key)(struct config_parser *p, const char *name, char *value,
		   void *userdata);
	/* After the last line, if nothing failed: checks that span
	 * sections, failing at the line they name (config_parse_fail_at). */
	int (*end)(struct config_parser *p, void *userdata);
};

/*
 * Read the file at path and call ops for every section and key, then
 * ops->end. Refuses what inih would silently mangle: a line longer than
 * its buffer, a NUL byte, an indented section header, a file above 1 MiB,
 * text after a header, a key outside any section. Returns 0, or -errno
 * with err (ERROR_INVALID) saying "path:line: why", or "path: strerror"
 * when the file cannot be read at all.
 */
int config_parse_file(const char *path, const struct config_parse_ops *ops,
		      void *userdata, struct error_detail *err);

/* Record an error at the current line, or at line; the first one wins.
 * Return -EINVAL. */
int config_parse_fail(struct config_parser *p, const char *fmt, ...)
    _printf_(2, 3);
int config_parse_fail_at(struct config_parser *p, unsigned line,
			 const char *fmt, ...) _printf_(3, 4);

/* Next blank-separated word of *s (modified in place), or NULL. */
char *config_next_word(char **s);

/* Index of name in keys[0..n) (NULL entries never match), or -1. */
int config_key_index(const char *const *keys, size_t n, const char *name);

/*
 * Value parsers. key names the value in messages ("max-pids: '0x' is not
 * a number"); each returns 0 with *ret set, or records an error and
 * returns -EINVAL with *ret untouched.
 */

/* yes/true or no/false. */
int config_parse_bool(struct config_parser *p, const char *key, const char *v,
		      bool *ret);

/*
 * Ceilings: a positive value, or "unlimited" (0). A literal 0 would read
 * as "nothing allowed" but mean "no ceiling", so it is refused.
 */
bool config_is_unlimited(const char *v);
int config_parse_ceiling_u32(struct config_parser *p, const char *key,
			     const char *v, uint32_t *ret);
int config_parse_ceiling_size(struct config_parser *p, const char *key,
			      const char *v, uint64_t *ret);
int config_parse_ceiling_duration(struct config_parser *p, const char *key,
				  const char *v, uint64_t *ret);
/* CPUs as a ceiling: "1.5" -> 1500 millis, "unlimited" -> 0. */
int config_parse_ceiling_cpus(struct config_parser *p, const char *key,
			      const char *v, uint32_t *ret);

/*
 * A list of user (group: false) or group ids, numbers or names looked up
 * now through NSS (a name created later takes effect on the next reload),
 * appended to *ids. (uid_t)-1 is never an entry: to the kernel it means
 * "no id". An empty list is an error.
 */
int config_parse_ids(struct config_parser *p, const char *key, char *v,
		     bool group, uint32_t **ids, size_t *n_ids);

/*
 * An absolute path, lexically normalised: no empty, "." or trailing
 * components. ".." is refused rather than folded: "/srv/data/../etc"
 * would otherwise read as a prefix of /srv/data in a quick glance, and
 * folding it disagrees with the kernel when a component is a symlink.
 * *ret is a new string.
 */
int config_parse_path(struct config_parser *p, const char *key, const char *v,
		      char **ret);
