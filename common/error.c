/*
 * Filling error details (error.h). Pure formatting: nothing here
 * allocates, logs or decides anything; a detail is only ever written on
 * the failure path of the function that was given it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static int normalize(int err)
{
	if (err > 0)
		return -err;
	return err < 0 ? err : -EIO;
}

static int error_vset(struct error_detail *e, enum error_kind kind, int err,
		      const char *step, const char *fmt, va_list ap)
    _printf_(5, 0);

static int error_vset(struct error_detail *e, enum error_kind kind, int err,
		      const char *step, const char *fmt, va_list ap)
{
	err = normalize(err);
	if (!e)
		return err;
	/* The message first: it may say %m, and errno is still the
	 * caller's here. */
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	e->kind = kind;
	e->err = -err;
	snprintf(e->step, sizeof(e->step), "%s", step ? step : "");
	return err;
}

int error_set(struct error_detail *e, enum error_kind kind, int err,
	      const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_vset(e, kind, err, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int error_set_step(struct error_detail *e, enum error_kind kind, int err,
		   const char *step, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_vset(e, kind, err, step, fmt, ap);
	va_end(ap);
	return r;
}

int error_prefix(struct error_detail *e, const char *fmt, ...)
{
	char prefix[ERROR_MESSAGE_MAX], message[ERROR_MESSAGE_MAX];
	va_list ap;

	if (!e)
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* A message cut short is still worth more than none. */
	if (snprintf(message, sizeof(message), "%s: %s", prefix, e->message) >=
	    0)
		memcpy(e->message, message, sizeof(message));
	return e->err > 0 ? -e->err : -EIO;
}
