/*
 * Tests for common/error.c: a detail is filled on the failure path with
 * the kind, the positive errno, the step and the words; the return value
 * is always the negative errno, with or without a detail to fill.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "error.h"

Test(error, set_fills_every_field_and_returns_minus_errno)
{
	struct error_detail e;

	memset(&e, 'x', sizeof(e));
	cr_assert_eq(error_set(&e, ERROR_DENIED, -EPERM, "tenant '%s'", "ci"),
		     -EPERM);
	cr_assert_eq(e.kind, ERROR_DENIED);
	cr_assert_eq(e.err, EPERM);
	cr_assert_str_eq(e.step, "");
	cr_assert_str_eq(e.message, "tenant 'ci'");
}

Test(error, errno_sign_and_zero_are_normalised)
{
	struct error_detail e;

	cr_assert_eq(error_set(&e, ERROR_INVALID, EINVAL, "x"), -EINVAL);
	cr_assert_eq(e.err, EINVAL);
	cr_assert_eq(error_set(&e, ERROR_INTERNAL, 0, "x"), -EIO);
	cr_assert_eq(e.err, EIO);
}

Test(error, null_detail_still_returns_the_errno)
{
	cr_assert_eq(error_set(NULL, ERROR_BUSY, -EBUSY, "x"), -EBUSY);
	cr_assert_eq(error_set_step(NULL, ERROR_SETUP, ENOENT, "bind", "x"),
		     -ENOENT);
	cr_assert_eq(error_prefix(NULL, "x"), -EIO);
}

Test(error, step_is_kept_and_cut_to_size)
{
	struct error_detail e;
	char long_step[100];

	cr_assert_eq(error_set_step(&e, ERROR_SETUP, -EACCES, "bind",
				    "bind %s: %s", "/data", strerror(EACCES)),
		     -EACCES);
	cr_assert_eq(e.kind, ERROR_SETUP);
	cr_assert_str_eq(e.step, "bind");
	cr_assert_str_eq(e.message, "bind /data: Permission denied");

	memset(long_step, 's', sizeof(long_step) - 1);
	long_step[sizeof(long_step) - 1] = '\0';
	error_set_step(&e, ERROR_SETUP, -EIO, long_step, "x");
	cr_assert_eq(strlen(e.step), ERROR_STEP_MAX - 1);
}

Test(error, percent_m_reads_the_callers_errno)
{
	struct error_detail e;

	errno = ENOENT;
	error_set(&e, ERROR_INTERNAL, -errno, "open: %m");
	cr_assert_str_eq(e.message, "open: No such file or directory");
}

Test(error, prefix_adds_context_and_keeps_the_rest)
{
	struct error_detail e;

	error_set(&e, ERROR_INVALID, -EINVAL, "unknown key 'x'");
	cr_assert_eq(error_prefix(&e, "%s:%u", "boxd.conf", 3u), -EINVAL);
	cr_assert_str_eq(e.message, "boxd.conf:3: unknown key 'x'");
	cr_assert_eq(e.kind, ERROR_INVALID);
	cr_assert_eq(e.err, EINVAL);
}

Test(error, long_messages_are_cut_not_overrun)
{
	struct error_detail e;
	char big[2 * ERROR_MESSAGE_MAX];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	error_set(&e, ERROR_INVALID, -EINVAL, "%s", big);
	cr_assert_eq(strlen(e.message), ERROR_MESSAGE_MAX - 1);
	error_prefix(&e, "%s", "file");
	cr_assert_eq(strlen(e.message), ERROR_MESSAGE_MAX - 1);
	cr_assert_eq(strncmp(e.message, "file: aaa", 9), 0);
}
