/*
 * Error details: what a failed function can say beyond its errno, in one
 * type for every layer. The convention (STYLE.md, "Errors"):
 *
 *  - A fallible function returns >= 0 on success and -errno on failure.
 *  - Its out-parameters are named ret_*, come last, and are written only
 *    on success.
 *  - When it can say more than an errno, it takes a
 *    `struct error_detail *err` (never named ret_*), written only on
 *    failure; NULL when the caller does not want the words.
 *
 * The kind is what the layer that answers a client needs to pick a
 * protocol error code; mapping it is the front end's business (this file,
 * like the engine, knows nothing of protobuf). Details are plain data:
 * copy them, keep them, print message.
 */
#pragma once

#include "util.h"

enum error_kind {
	/* boxd failed: out of memory, an errno nobody expected */
	ERROR_INTERNAL = 0,
	/* malformed or contradictory input: a request, a configuration
	 * file, a seccomp policy */
	ERROR_INVALID,
	/* a policy forbids it to this caller */
	ERROR_DENIED,
	/* this host cannot do or enforce it */
	ERROR_UNSUPPORTED,
	/* a ceiling of the moment: it may work later */
	ERROR_BUSY,
	/* what was named does not exist (for this caller) */
	ERROR_NOT_FOUND,
	/* building a sandbox failed at step */
	ERROR_SETUP,
	/* the command could not be executed */
	ERROR_EXEC,
};

#define ERROR_STEP_MAX 32
#define ERROR_MESSAGE_MAX 512

struct error_detail {
	enum error_kind kind;
	int err;                   /* the errno, positive; never 0 once set */
	char step[ERROR_STEP_MAX]; /* a sandbox setup step, or "" */
	char message[ERROR_MESSAGE_MAX]; /* one line for people */
};

/*
 * Fill e (if not NULL) and return -errno, so that a failure path reads
 * "return error_set(err, ERROR_DENIED, -EPERM, "...", ...)". err is the
 * failure as -errno (a positive errno is taken as its negative, 0 as
 * -EIO); the format may use %m, errno is not touched before it is read.
 */
int error_set(struct error_detail *e, enum error_kind kind, int err,
	      const char *fmt, ...) _printf_(4, 5);

/* The same, for a failed sandbox setup step ("bind", "execve", ...). */
int error_set_step(struct error_detail *e, enum error_kind kind, int err,
		   const char *step, const char *fmt, ...) _printf_(5, 6);

/*
 * Put context in front of an error that is already set: "prefix: message"
 * (a "file:line" for a configuration error, say). Returns -e->err, or
 * -EIO for a NULL e.
 */
int error_prefix(struct error_detail *e, const char *fmt, ...) _printf_(2, 3);
