/*
 * common/ini-lines.c, the line layer under inih: driven directly, one
 * ini_lines_read() at a time, over files made in memory.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ini-lines.h"

struct seen {
	char sections[8][32];
	int n_sections;
	char failure[200];
	int n_failures;
	int refuse_section; /* index of a section to refuse, -1: none */
};

static int on_section(void *user, const char *name, size_t len)
{
	struct seen *s = user;
	int i = s->n_sections++;

	snprintf(s->sections[i], sizeof(s->sections[i]), "%.*s", (int)len,
		 name);
	return i == s->refuse_section ? -1 : 0;
}

static void on_fail(void *user, const char *message)
{
	struct seen *s = user;

	snprintf(s->failure, sizeof(s->failure), "%s", message);
	s->n_failures++;
}

/* Read text line by line with inih's buffer of num bytes: how many lines
 * came back before the reader stopped. */
static int read_all(const char *text, size_t len, bool strict, int num,
		    struct seen *s, struct ini_lines *l)
{
	char buf[256];
	int n = 0;

	cr_assert_leq(num, (int)sizeof(buf));
	*l = (struct ini_lines){
	    .f = fmemopen((void *)text, len, "r"),
	    .max_bytes = 1024,
	    .strict = strict,
	    .section = on_section,
	    .fail = on_fail,
	    .userdata = s,
	};
	cr_assert_not_null(l->f);
	while (ini_lines_read(buf, num, l))
		n++;
	fclose(l->f);
	ini_lines_done(l);
	return n;
}

static int read_text(const char *text, bool strict, struct seen *s,
		     struct ini_lines *l)
{
	return read_all(text, strlen(text), strict, 200, s, l);
}

Test(ini_lines, reads_lines_and_reports_every_section)
{
	struct seen s = {.refuse_section = -1};
	struct ini_lines l;
	const char *text = "\xEF\xBB\xBF[a]\nk = v\n\n; note\n[empty] # c\n"
			   "[b]\nx = 1\n";

	cr_assert_eq(read_text(text, true, &s, &l), 7);
	cr_assert_eq(s.n_failures, 0, "%s", s.failure);
	cr_assert_eq(s.n_sections, 3);
	cr_assert_str_eq(s.sections[0], "a");
	cr_assert_str_eq(s.sections[1], "empty");
	cr_assert_str_eq(s.sections[2], "b");
	cr_assert_eq(l.line, 7);
	cr_assert_not(l.failed);
}

static void expect_refused(const char *text, size_t len, bool strict,
			   const char *message, unsigned line)
{
	struct seen s = {.refuse_section = -1};
	struct ini_lines l;

	read_all(text, len == SIZE_MAX ? strlen(text) : len, strict, 40, &s,
		 &l);
	cr_assert_eq(s.n_failures, 1, "'%s': %d failures", text, s.n_failures);
	cr_assert(strstr(s.failure, message), "'%s': got '%s', want '%s'", text,
		  s.failure, message);
	cr_assert_eq(l.line, line, "'%s': line %u", text, l.line);
	cr_assert(l.failed);
}

Test(ini_lines, refuses_what_inih_would_misread)
{
	static const char nul[] = "[a]\nk = v\0w\n";

	expect_refused(nul, sizeof(nul) - 1, false, "NUL byte", 2);
	expect_refused("[a]\nk = 0123456789012345678901234567890123456789\n",
		       SIZE_MAX, false, "line longer than 38 characters", 2);
	expect_refused("[a] b\n", SIZE_MAX, false,
		       "unexpected text after the section header", 1);
	expect_refused("[a\n", SIZE_MAX, false, "section header without ']'",
		       1);
	expect_refused("[a]\n  [b]\n", SIZE_MAX, false,
		       "section headers start at the beginning", 2);
}

Test(ini_lines, strict_also_refuses_indents_and_stray_lines)
{
	struct seen s = {.refuse_section = -1};
	struct ini_lines l;

	/* Not strict: inih's business. */
	cr_assert_eq(read_text("[a]\n  k = v\nstray\n", false, &s, &l), 3);
	cr_assert_eq(s.n_failures, 0);
	expect_refused("[a]\n  k = v\n", SIZE_MAX, true, "indented line", 2);
	expect_refused("[a]\nstray\n", SIZE_MAX, true, "expected 'key = value'",
		       2);
	/* Indented comments and blank lines are fine either way. */
	memset(&s, 0, sizeof(s));
	s.refuse_section = -1;
	cr_assert_eq(read_text("[a]\n  ; c\n \t\nk: v\n", true, &s, &l), 4);
	cr_assert_eq(s.n_failures, 0, "%s", s.failure);
}

Test(ini_lines, stops_at_the_size_cap_and_after_a_refusal)
{
	struct seen s = {.refuse_section = 1};
	struct ini_lines l;
	char big[1200];

	memset(big, 'x', sizeof(big));
	for (size_t i = 30; i < sizeof(big); i += 31)
		big[i] = '\n';
	read_all(big, sizeof(big), false, 40, &s, &l);
	cr_assert(strstr(s.failure, "file larger than 1024 bytes"), "%s",
		  s.failure);

	/* The section callback refuses [b]: nothing after it is read. */
	memset(&s, 0, sizeof(s));
	s.refuse_section = 1;
	cr_assert_eq(read_text("[a]\n[b]\n[c]\n", false, &s, &l), 1);
	cr_assert_eq(s.n_sections, 2);
	cr_assert(l.failed);
}
