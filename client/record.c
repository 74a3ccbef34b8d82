/*
 * The two records a run ends with: box_result (how it ended, what it
 * used) and box_error (why it did not run), their getters, their names
 * and the shell-style exit status each maps to. Pure data: nothing here
 * touches the connection, and getters never fail.
 */
#include <signal.h>
#include <string.h>

#include "internal.h"

struct box_error *error_new(enum box_error_code code, const char *message,
			    const char *step, int errno_value)
{
	struct box_error *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->code = code;
	e->message = strdup(message ? message : "");
	e->step = step ? strdup(step) : NULL;
	e->errno_value = errno_value > 0 ? errno_value : 0;
	e->retry_after_ms = -1;
	if (!e->message || (step && !e->step))
		return error_free(e);
	return e;
}

struct box_error *error_dup(const struct box_error *e)
{
	struct box_error *copy;

	if (!e)
		return NULL;
	copy = error_new(e->code, e->message, e->step, e->errno_value);
	if (copy) {
		copy->has_run_id = e->has_run_id;
		copy->run_id = e->run_id;
		copy->retry_after_ms = e->retry_after_ms;
	}
	return copy;
}

struct box_error *error_from_pb(const Boxd__V1__Error *pb)
{
	int value = pb->has_errnum ? pb->errnum : 0;
	struct box_error *e;

	/* Tolerate a daemon that sends -errno. */
	if (value < 0 && value > -4096)
		value = -value;
	e = error_new((enum box_error_code)pb->code, pb->message, pb->step,
		      value);
	if (e && pb->has_run_id) {
		e->has_run_id = true;
		e->run_id = pb->run_id;
	}
	if (e && pb->has_retry_after_ms)
		e->retry_after_ms = pb->retry_after_ms;
	return e;
}

struct box_error *error_free(struct box_error *e)
{
	if (e) {
		free(e->message);
		free(e->step);
		free(e);
	}
	return NULL;
}

int error_code_to_errno(enum box_error_code code)
{
	switch (code) {
	case BOX_ERROR_BAD_REQUEST:
		return -EINVAL;
	case BOX_ERROR_PROTOCOL:
		return -EPROTO;
	case BOX_ERROR_DENIED:
		return -EACCES;
	case BOX_ERROR_UNSUPPORTED:
		return -EOPNOTSUPP;
	case BOX_ERROR_EXEC_FAILED:
		return -ENOEXEC;
	case BOX_ERROR_BUSY:
		return -EBUSY;
	case BOX_ERROR_NOT_FOUND:
		return -ESRCH;
	case BOX_ERROR_SETUP_FAILED:
	case BOX_ERROR_INTERNAL:
	case BOX_ERROR_CLIENT:
	default:
		return -EIO;
	}
}

int error_to_errno(const struct box_error *e)
{
	if (e->code == BOX_ERROR_CLIENT && e->errno_value > 0)
		return -e->errno_value;
	return error_code_to_errno(e->code);
}

const char *box_error_code_name(enum box_error_code code)
{
	switch (code) {
	case BOX_ERROR_BAD_REQUEST:
		return "bad_request";
	case BOX_ERROR_PROTOCOL:
		return "protocol";
	case BOX_ERROR_DENIED:
		return "denied";
	case BOX_ERROR_UNSUPPORTED:
		return "unsupported";
	case BOX_ERROR_SETUP_FAILED:
		return "setup_failed";
	case BOX_ERROR_EXEC_FAILED:
		return "exec_failed";
	case BOX_ERROR_BUSY:
		return "busy";
	case BOX_ERROR_INTERNAL:
		return "internal";
	case BOX_ERROR_NOT_FOUND:
		return "not_found";
	case BOX_ERROR_CLIENT:
		return "client";
	default:
		return "unknown";
	}
}

enum box_error_code box_error_code(const box_error *e)
{
	return e->code;
}
const char *box_error_message(const box_error *e)
{
	return e->message;
}
const char *box_error_step(const box_error *e)
{
	return e->step;
}
int box_error_errno(const box_error *e)
{
	return e->errno_value;
}

int64_t box_error_run_id(const box_error *e)
{
	return e->has_run_id ? (int64_t)e->run_id : -1;
}

int64_t box_error_retry_after_ms(const box_error *e)
{
	return e->retry_after_ms;
}

int box_error_exit_status(const box_error *e)
{
	if (e->code == BOX_ERROR_EXEC_FAILED)
		return e->errno_value == ENOENT ? 127 : 126;
	return 125;
}

struct box_result *result_new(Boxd__V1__Result *msg)
{
	struct box_result *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->caveats = strv_view(msg->caveats, msg->n_caveats);
	if (!r->caveats) {
		free(r);
		return NULL;
	}
	r->msg = msg;
	return r;
}

struct box_result *result_free(struct box_result *r)
{
	if (r) {
		boxd__v1__result__free_unpacked(r->msg, NULL);
		free(r->caveats);
		free(r);
	}
	return NULL;
}

const char *box_termination_name(enum box_termination t)
{
	switch (t) {
	case BOX_TERM_EXITED:
		return "exited";
	case BOX_TERM_SIGNALED:
		return "signaled";
	case BOX_TERM_OUT_OF_MEMORY:
		return "out_of_memory";
	case BOX_TERM_WALL_TIMEOUT:
		return "wall_timeout";
	case BOX_TERM_CPU_TIMEOUT:
		return "cpu_timeout";
	case BOX_TERM_KILLED:
		return "killed";
	default:
		return "unknown";
	}
}

uint64_t box_result_run_id(const box_result *r)
{
	return r->msg->run_id;
}

enum box_termination box_result_termination(const box_result *r)
{
	return (enum box_termination)r->msg->termination;
}

int box_result_exit_code(const box_result *r)
{
	return r->msg->has_exit_code ? r->msg->exit_code : -1;
}

int box_result_signal(const box_result *r)
{
	return r->msg->has_signal && r->msg->signal > 0 ? r->msg->signal : -1;
}

uint64_t box_result_wall_ns(const box_result *r)
{
	return r->msg->wall_ns;
}
uint64_t box_result_user_ns(const box_result *r)
{
	return r->msg->user_ns;
}

uint64_t box_result_system_ns(const box_result *r)
{
	return r->msg->system_ns;
}

uint64_t box_result_peak_rss_bytes(const box_result *r)
{
	return r->msg->peak_rss_bytes;
}

static int64_t opt_u64(bool has, uint64_t v)
{
	return has && v <= INT64_MAX ? (int64_t)v : -1;
}

int64_t box_result_peak_memory_bytes(const box_result *r)
{
	return opt_u64(r->msg->has_peak_memory_bytes,
		       r->msg->peak_memory_bytes);
}

enum box_peak_source box_result_peak_memory_source(const box_result *r)
{
	if (!r->msg->has_peak_memory_source)
		return BOX_PEAK_NONE;
	switch ((int)r->msg->peak_memory_source) {
	case BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_RUSAGE:
		return BOX_PEAK_RUSAGE;
	case BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_CGROUP:
		return BOX_PEAK_CGROUP;
	case BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_NONE:
	default:
		return BOX_PEAK_NONE;
	}
}

int64_t box_result_oom_kills(const box_result *r)
{
	return opt_u64(r->msg->has_oom_kills, r->msg->oom_kills);
}

int64_t box_result_peak_pids(const box_result *r)
{
	return opt_u64(r->msg->has_peak_pids, r->msg->peak_pids);
}

const char *box_result_seccomp_syscall(const box_result *r)
{
	return r->msg->seccomp_syscall;
}

int64_t box_result_execs_refused(const box_result *r)
{
	return opt_u64(r->msg->has_execs_refused, r->msg->execs_refused);
}

const char *const *box_result_caveats(const box_result *r)
{
	return r->caveats;
}

int64_t box_result_start_time_unix_ns(const box_result *r)
{
	return opt_u64(r->msg->has_start_time_unix_ns,
		       r->msg->start_time_unix_ns);
}

int box_result_exit_status(const box_result *r)
{
	int sig = box_result_signal(r);

	if (r->msg->termination == BOXD__V1__TERMINATION__EXITED)
		return r->msg->has_exit_code ? r->msg->exit_code & 0xff : 125;
	/* Limits and kills end the run with SIGKILL unless told otherwise. */
	if (sig <= 0 || sig >= 128)
		sig = SIGKILL;
	return 128 + sig;
}
