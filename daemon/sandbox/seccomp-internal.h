/*
 * Private to seccomp.c and seccomp-policy.c: a parsed policy file, handed
 * from the parser to the compiler. The rest of the daemon sees seccomp.h
 * only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct seccomp_policy_rule {
	int nr;
	uint32_t action;
	unsigned line;
};

struct seccomp_policy {
	uint32_t default_action;
	unsigned default_line; /* 0: no "default" line */
	unsigned base_line;    /* 0: no "base default" line */
	struct seccomp_policy_rule *rules;
	size_t n_rules;
};

/* Parse len bytes of text into pol (zeroed by the caller). On a syntax
 * error returns -EINVAL, err (ERROR_INVALID) saying "line N: why".
 * Whatever the result, pol is released with seccomp_policy_done(). */
int seccomp_policy_parse(const char *text, size_t len,
			 struct seccomp_policy *pol, struct error_detail *err);

void seccomp_policy_done(struct seccomp_policy *pol);
