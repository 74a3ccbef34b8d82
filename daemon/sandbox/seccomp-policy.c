/*
 * The parser of seccomp policy files, a tenant's own filter: text in,
 * struct seccomp_policy out; seccomp.c compiles the result and caches it.
 *
 * The text comes from a client, so this file must never trust it: it reads
 * exactly len bytes, refuses NUL bytes, bounds the number of rules and the
 * length of every name it copies into a message, and reports the first
 * error as -EINVAL with "line N: why". It must never compile or install a
 * filter, never log and never exit.
 *
 * One directive per line:
 *
 *   # comment (also after a directive)
 *   default ACTION          what unlisted calls get
 *   base default            start from the built-in filter instead
 *   ACTION SYSCALL...       a rule for each named call
 *
 * ACTION is allow, log (allow and audit), kill (the sandbox's pid 1
 * kills the caller and the run's result names the call) or errno E
 * (E a name such as EPERM or a number from 1 to 4095). "default" or
 * "base default" comes first (both is fine if the default is allow;
 * "base default" alone means default allow). A rule replaces the
 * built-in handling of its call, so "allow ptrace" after "base default"
 * lets a debugger work. Each call has at most one rule, names are native
 * syscall names, and the text is at most 64 KiB (seccomp_compile_policy
 * checks that before parsing); any error names the line.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "seccomp-internal.h"
#include "util.h"

#define POLICY_MAX_RULES 1024
#define SYSCALL_NAME_MAX 64

static int policy_error(struct error_detail *err, unsigned line,
			const char *fmt, ...) _printf_(3, 4);

static int policy_error(struct error_detail *err, unsigned line,
			const char *fmt, ...)
{
	char message[ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return error_set(err, ERROR_INVALID, -EINVAL, "line %u: %s", line,
			 message);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next whitespace-separated word of a NUL-terminated line, or NULL at the
 * end or at a '#' comment. */
static char *next_word(char **cursor)
{
	char *s = *cursor, *word;

	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#') {
		*cursor = s;
		return NULL;
	}
	word = s;
	while (*s && !is_blank(*s) && *s != '#')
		s++;
	if (*s == '#') {
		/* "allow read# comment": the word ends, the rest is comment;
		 * leaving the cursor on the NUL ends the line. */
		*s = '\0';
		*cursor = s;
		return word;
	}
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return word;
}

static int parse_errno(const char *word, uint32_t *ret)
{
	uint32_t v = 0;

	if (word[0] >= '0' && word[0] <= '9') {
		for (const char *c = word; *c; c++) {
			if (*c < '0' || *c > '9' || v > 4095)
				return -EINVAL;
			v = v * 10 + (uint32_t)(*c - '0');
		}
		/* 1..4095: what userspace reads as an error return. */
		if (v < 1 || v > 4095)
			return -ERANGE;
		*ret = v;
		return 0;
	}
	for (int e = 1; e < 4096; e++) {
		const char *name = strerrorname_np(e);

		if (name && strcmp(name, word) == 0) {
			*ret = (uint32_t)e;
			return 0;
		}
	}
	return -ENOENT;
}

/* Parse an action starting at word; may consume one more word (errno). */
static int parse_action(const char *word, char **cursor, unsigned line,
			uint32_t *ret, struct error_detail *err)
{
	const char *arg;
	uint32_t e;
	int r;

	if (strcmp(word, "allow") == 0)
		*ret = SCMP_ACT_ALLOW;
	else if (strcmp(word, "log") == 0)
		*ret = SCMP_ACT_LOG;
	else if (strcmp(word, "kill") == 0)
		/* The sandbox's pid 1 listens, kills the caller and records
		 * which call it was: a plain SIGSYS would not say. */
		*ret = SCMP_ACT_NOTIFY;
	else if (strcmp(word, "errno") == 0) {
		arg = next_word(cursor);
		if (!arg)
			return policy_error(err, line,
					    "'errno' needs a value, e.g. "
					    "'errno EPERM'");
		r = parse_errno(arg, &e);
		if (r < 0)
			return policy_error(
			    err, line,
			    "bad errno '%.32s' (a name like EPERM or a "
			    "number from 1 to 4095)",
			    arg);
		*ret = SCMP_ACT_ERRNO(e);
	} else
		return policy_error(err, line,
				    "unknown action '%.32s' (allow, log, kill "
				    "or errno NAME)",
				    word);
	return 0;
}

static int parse_syscall(const char *word, unsigned line, int *ret,
			 struct error_detail *err)
{
	size_t len = strlen(word);
	int nr;

	if (len >= SYSCALL_NAME_MAX)
		return policy_error(err, line, "syscall name too long");
	for (size_t i = 0; i < len; i++) {
		char c = word[i];
		bool ok = (c >= 'a' && c <= 'z') || c == '_' ||
			  (i > 0 && c >= '0' && c <= '9');

		if (!ok)
			return policy_error(err, line,
					    "bad syscall name '%.64s'", word);
	}
	nr = seccomp_syscall_resolve_name(word);
	if (nr == __NR_SCMP_ERROR)
		return policy_error(err, line, "unknown syscall '%s'", word);
	if (nr < 0)
		return policy_error(err, line,
				    "'%s' is not a syscall on this "
				    "architecture",
				    word);
	*ret = nr;
	return 0;
}

static int parse_line(struct seccomp_policy *pol, char *s, unsigned line,
		      struct error_detail *err)
{
	char *word = next_word(&s), *arg;
	uint32_t action;
	size_t before;
	int r;

	if (!word)
		return 0;

	if (strcmp(word, "default") == 0) {
		if (pol->default_line)
			return policy_error(err, line,
					    "second 'default' line (first "
					    "on line %u)",
					    pol->default_line);
		if (pol->n_rules)
			return policy_error(err, line,
					    "'default' must come before the "
					    "rules");
		arg = next_word(&s);
		if (!arg)
			return policy_error(err, line,
					    "'default' needs an action");
		r = parse_action(arg, &s, line, &pol->default_action, err);
		if (r < 0)
			return r;
		pol->default_line = line;
	} else if (strcmp(word, "base") == 0) {
		if (pol->base_line)
			return policy_error(err, line,
					    "second 'base' line (first on "
					    "line %u)",
					    pol->base_line);
		if (pol->n_rules)
			return policy_error(err, line,
					    "'base' must come before the "
					    "rules");
		arg = next_word(&s);
		if (!arg || strcmp(arg, "default") != 0)
			return policy_error(err, line,
					    "only 'base default' exists");
		pol->base_line = line;
	} else {
		if (!pol->default_line && !pol->base_line)
			return policy_error(err, line,
					    "a policy starts with 'default "
					    "ACTION' or 'base default'");
		r = parse_action(word, &s, line, &action, err);
		if (r < 0)
			return r;
		before = pol->n_rules;
		while ((arg = next_word(&s))) {
			struct seccomp_policy_rule *rule;
			int nr = -1;

			r = parse_syscall(arg, line, &nr, err);
			if (r < 0)
				return r;
			/* One rule per call: libseccomp would silently keep
			 * one of two conflicting actions. */
			for (size_t i = 0; i < pol->n_rules; i++)
				if (pol->rules[i].nr == nr)
					return policy_error(
					    err, line,
					    "'%s' already has a rule "
					    "on line %u",
					    arg, pol->rules[i].line);
			if (pol->n_rules >= POLICY_MAX_RULES)
				return policy_error(err, line,
						    "more than %d syscall "
						    "rules",
						    POLICY_MAX_RULES);
			rule = &pol->rules[pol->n_rules++];
			rule->nr = nr;
			rule->action = action;
			rule->line = line;
		}
		if (pol->n_rules == before)
			return policy_error(err, line, "'%s' names no syscall",
					    word);
	}
	if (next_word(&s))
		return policy_error(err, line, "unexpected words at the end");
	return 0;
}

int seccomp_policy_parse(const char *text, size_t len,
			 struct seccomp_policy *pol, struct error_detail *err)
{
	_cleanup_free_ char *buf = NULL;
	char *s, *eol;
	unsigned line = 0;
	int r;

	if (memchr(text, '\0', len)) {
		const char *nul = memchr(text, '\0', len);
		unsigned at = 1;

		for (const char *c = text; c < nul; c++)
			at += *c == '\n';
		return policy_error(err, at, "NUL byte");
	}
	buf = malloc(len + 1);
	pol->rules = calloc(POLICY_MAX_RULES, sizeof(*pol->rules));
	if (!buf || !pol->rules)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	pol->default_action = SCMP_ACT_ALLOW;

	for (s = buf; *s; s = eol) {
		eol = strchr(s, '\n');
		if (eol)
			*eol++ = '\0';
		else
			eol = s + strlen(s);
		r = parse_line(pol, s, ++line, err);
		if (r < 0)
			return r;
	}
	if (!pol->default_line && !pol->base_line)
		return policy_error(err, line ? line : 1,
				    "empty policy: it starts with 'default "
				    "ACTION' or 'base default'");
	/* The built-in rules only deny; under any other default they would
	 * be contradictions, not additions. */
	if (pol->base_line && pol->default_action != SCMP_ACT_ALLOW)
		return policy_error(err,
				    pol->base_line > pol->default_line
					? pol->base_line
					: pol->default_line,
				    "'base default' needs 'default allow'");
	return 0;
}

void seccomp_policy_done(struct seccomp_policy *pol)
{
	free(pol->rules);
}
