/* The INI line layer under inih (ini-lines.h has the contract). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ini-lines.h"
#include "util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_comment_or_end(const char *s)
{
	return !*s || *s == ';' || *s == '#';
}

static char *refuse(struct ini_lines *l, const char *fmt, ...) _printf_(2, 3);
static char *refuse(struct ini_lines *l, const char *fmt, ...)
{
	char message[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	l->failed = true;
	l->fail(l->userdata, message);
	return NULL;
}

static char *begin_section(struct ini_lines *l, const char *line, char *str)
{
	const char *end = strchr(line, ']'), *rest;

	if (!end)
		return refuse(l, "section header without ']'");
	for (rest = end + 1; is_space(*rest); rest++)
		;
	if (!is_comment_or_end(rest))
		return refuse(l, "unexpected text after the section header");
	if (l->section(l->userdata, line + 1, (size_t)(end - line - 1)) < 0) {
		l->failed = true;
		return NULL;
	}
	return str;
}

char *ini_lines_read(char *str, int num, void *stream)
{
	struct ini_lines *l = stream;
	const char *s;
	ssize_t n;

	if (l->failed)
		return NULL;
	n = getline(&l->buf, &l->buf_cap, l->f);
	if (n < 0)
		return ferror(l->f)
			   ? refuse(l, "read error: %s", strerror(errno))
			   : NULL;
	l->line++;
	l->bytes += (size_t)n;
	if (l->bytes > l->max_bytes)
		return refuse(l, "file larger than %zu bytes", l->max_bytes);
	if (memchr(l->buf, '\0', (size_t)n))
		return refuse(l, "NUL byte");
	/* inih's buffer holds num bytes: the line, its newline and a NUL. */
	if ((size_t)n + 1 > (size_t)num)
		return refuse(l,
			      "line longer than %d characters; split long "
			      "lists over several lines",
			      num - 2);
	memcpy(str, l->buf, (size_t)n + 1);

	s = l->buf;
	if (l->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (s[0] == '[')
		return begin_section(l, s, str);
	if (is_space(s[0])) {
		while (is_space(*s))
			s++;
		/* Indented, inih would read it as a continuation of the
		 * previous value or as a section, depending on context. */
		if (*s == '[')
			return refuse(l, "section headers start at the "
					 "beginning of the line");
		if (l->strict && !is_comment_or_end(s))
			return refuse(l, "indented line: keys and sections "
					 "start at the beginning of the line");
	} else if (l->strict && !is_comment_or_end(s) && !strpbrk(s, "=:")) {
		return refuse(l, "expected 'key = value', '[section]' or a "
				 "comment");
	}
	return str;
}

void ini_lines_done(struct ini_lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->buf_cap = 0;
}
