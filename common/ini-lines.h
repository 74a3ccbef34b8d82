/*
 * The line layer under inih that boxd's INI files share: boxd.conf
 * (daemon/config-parse.c) and boxctl's policy files (client/boxctl/
 * policy.c). ini_lines_read() is the reader ini_parse_stream() calls for
 * each line. It counts lines for messages, and refuses what inih would
 * read differently from how the file looks:
 *
 *  - a line longer than inih's buffer (inih would split it in two);
 *  - a NUL byte (it would cut the line short);
 *  - text after a section header's ']' other than a comment (inih would
 *    drop it);
 *  - an indented section header (inih could take it for a continuation);
 *  - a file larger than max_bytes.
 *
 * With strict set it also refuses an indented line that is not a
 * comment and a line that is neither "key = value", a section nor a
 * comment (inih would note such a line and read on). Every section
 * header, even one of a section without keys (which inih never reports),
 * goes to the section callback.
 *
 * Invariant: once fail() has been called, or the owner set failed, no
 * further line is read; inih stops at once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ini_lines {
	FILE *f;
	size_t max_bytes;
	bool strict;
	/* "[name]": the name (len bytes, not terminated); < 0 stops. */
	int (*section)(void *userdata, const char *name, size_t len);
	/* A refusal, in words; the owner records it (ini_lines sets
	 * failed itself). */
	void (*fail)(void *userdata, const char *message);
	void *userdata;

	unsigned line; /* the line being read, from 1 */
	bool failed;   /* set by a refusal; the owner may set it too */

	/* Private. */
	char *buf;
	size_t buf_cap, bytes;
};

/* ini_parse_stream()'s reader; stream is a struct ini_lines. */
char *ini_lines_read(char *str, int num, void *stream);
/* Free the line buffer (the owner closes f). */
void ini_lines_done(struct ini_lines *l);
