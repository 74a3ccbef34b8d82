/*
 * libboxclient sends a run again after a BUSY that says when to retry
 * (Error.retry_after_ms), and only then: with the same request and the
 * caller's own stdio (kept as duplicates until the daemon accepts the
 * run), under a new request id, a bounded number of times. A BUSY
 * without a delay, retries turned off or spent, and a kill while the run
 * waits all end the run with its BUSY record.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakedaemon.h"

/* What a script saw of the RunRequests it turned away and took. */
struct retry_arg {
	ino_t pipe_ino; /* the caller's stdout */
	int busy;       /* BUSY answers to give before accepting */
	uint32_t after; /* their retry_after_ms (0: none, not retryable) */
	int runs_seen;  /* RunRequests read */
	bool accept;    /* accept the last one (else: BUSY to the end) */
};

/* Every RunRequest must be the same run, with our pipe as stdout. */
static bool same_run(struct fake *f, const struct req *r)
{
	struct retry_arg *a = f->arg;
	const Boxd__V1__RunRequest *run = r->msg->run;
	struct stat st;

	return run->n_argv == 1 && bytes_is(&run->argv[0], "/bin/true") &&
	       fstat(r->fds[1], &st) == 0 && st.st_ino == a->pipe_ino;
}

static void script_retry(struct fake *f)
{
	struct retry_arg *a = f->arg;
	uint64_t last_id = 0;
	struct req r;

	HANDSHAKE();
	for (int i = 0;; i++) {
		EXPECT(&r, RUN, 3);
		a->runs_seen++;
		CHECK(same_run(f, &r));
		/* A new id for each send (the fake checks they are new). */
		CHECK(r.id != last_id);
		last_id = r.id;
		if (i < a->busy || !a->accept) {
			fake_req_clear(&r);
			if (a->after)
				fake_send_busy(f, r.id, "try later", a->after);
			else
				fake_send_error(f, r.id,
						BOXD__V1__ERROR_CODE__BUSY,
						"shutting down", NULL, 0, 0);
			if (i + 1 >= a->busy && !a->accept)
				break;
			continue;
		}
		/* The caller's pipe, through the retried request's fd. */
		CHECK(write(r.fds[1], "ok", 2) == 2);
		fake_req_clear(&r);
		fake_send_accepted(f, r.id, 5);
		fake_send_result(f, r.id, 5, BOXD__V1__TERMINATION__EXITED, 0,
				 0);
		break;
	}
	/* Nothing more is sent for the run: the next request is a status. */
	EXPECT(&r, STATUS, 0);
	fake_req_clear(&r);
	fake_send_status(f, r.id);
}

static void script_process_busy(struct fake *f)
{
	struct retry_arg *a = f->arg;
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	a->runs_seen++;
	fake_req_clear(&r);
	fake_send_busy(f, r.id, "try later", a->after);
	EXPECT(&r, STATUS, 0);
	fake_req_clear(&r);
	fake_send_status(f, r.id);
}

static box_run *start_with_pipe(box_client *c, int p[2], struct retry_arg *a)
{
	box_spec *s = simple_spec();
	struct stat st;
	box_run *run;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_eq(fstat(p[1], &st), 0);
	a->pipe_ino = st.st_ino;
	cr_assert_eq(box_run_start(c, s, -1, p[1], -1, &run), 0);
	box_spec_free(s);
	return run;
}

static void ask_status(box_client *c)
{
	box_status *st;

	cr_assert_eq(box_client_status(c, &st), 0);
	box_status_free(st);
}

Test(client_retry, busy_with_a_delay_is_sent_again_until_accepted,
     .timeout = 120)
{
	struct retry_arg a = {.busy = 3, .after = 5, .accept = true};
	struct fake f;
	box_client *c = fake_connect(&f, script_retry, &a);
	char buf[4] = {0};
	int p[2];
	box_run *run;

	cr_assert_eq(box_client_set_busy_retries(c, BOX_BUSY_RETRIES), 0);
	run = start_with_pipe(c, p, &a);

	/* The caller may close its copy at once: the library has its own. */
	close(p[1]);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	cr_assert_null(box_run_error(run));
	cr_assert_eq(box_run_id(run), 5);
	/* Accepted: the library's duplicates are gone, so EOF follows. */
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "ok");
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 0);
	ask_status(c);
	fake_join(&f);
	cr_assert_eq(a.runs_seen, 4);
	box_run_free(run);
	box_client_free(c);
	close(p[0]);
}

Test(client_retry, busy_without_a_delay_ends_the_run, .timeout = 120)
{
	struct retry_arg a = {.busy = 1, .after = 0};
	struct fake f;
	box_client *c = fake_connect(&f, script_retry, &a);
	int p[2];
	box_run *run;

	cr_assert_eq(box_client_set_busy_retries(c, BOX_BUSY_RETRIES), 0);
	run = start_with_pipe(c, p, &a);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BUSY);
	cr_assert_str_eq(box_error_message(box_run_error(run)),
			 "shutting down");
	cr_assert_eq(box_error_retry_after_ms(box_run_error(run)), -1);
	ask_status(c);
	fake_join(&f);
	cr_assert_eq(a.runs_seen, 1);
	box_run_free(run);
	box_client_free(c);
	close(p[0]);
	close(p[1]);
}

Test(client_retry, spent_retries_end_with_the_last_busy, .timeout = 120)
{
	struct retry_arg a = {.busy = 3, .after = 1};
	struct fake f;
	box_client *c = fake_connect(&f, script_retry, &a);
	int p[2], before;
	box_run *run;
	char *json;

	cr_assert_eq(box_client_set_busy_retries(c, 2), 0);
	before = count_fds();
	run = start_with_pipe(c, p, &a);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BUSY);
	cr_assert_str_eq(box_error_message(box_run_error(run)), "try later");
	cr_assert_eq(box_error_retry_after_ms(box_run_error(run)), 1);
	cr_assert_eq(box_run_exit_status(run), 125);
	/* The record says when to try again, as the error line does. */
	cr_assert_eq(box_run_json(run, &json), 0);
	cr_assert(strstr(json, "\"code\":\"busy\""), "%s", json);
	cr_assert(strstr(json, "\"retry_after_ms\":1}"), "%s", json);
	free(json);
	/* The pipe's two ends are ours; no duplicate is left behind. */
	cr_assert_eq(count_fds(), before + 2);
	ask_status(c);
	fake_join(&f);
	cr_assert_eq(a.runs_seen, 3);
	box_run_free(run);
	box_client_free(c);
	close(p[0]);
	close(p[1]);
}

/* Off by default: nothing kept, nothing sent again. */
Test(client_retry, retries_off_keeps_no_fd_and_sends_once, .timeout = 120)
{
	struct retry_arg a = {.busy = 1, .after = 1};
	struct fake f;
	box_client *c = fake_connect(&f, script_retry, &a);
	int p[2], before;
	box_run *run;

	before = count_fds();
	run = start_with_pipe(c, p, &a);
	/* Counted once the BUSY is readable, before the library reads it:
	 * by then the fake daemon (a thread here) has let go of the copies
	 * it received, and the library, not retrying, kept none. */
	cr_assert_gt(poll_in(c, PATIENCE_MS), 0);
	cr_assert_eq(count_fds(), before + 2);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BUSY);
	ask_status(c);
	fake_join(&f);
	cr_assert_eq(a.runs_seen, 1);
	box_run_free(run);
	box_client_free(c);
	close(p[0]);
	close(p[1]);
}

/*
 * A run waiting out a long delay: the client's timeout says when to
 * dispatch, the duplicates are held meanwhile, and a kill ends the run at
 * once with its BUSY record, letting go of them.
 */
Test(client_retry, a_kill_while_waiting_ends_the_run, .timeout = 120)
{
	struct retry_arg a = {.busy = 1, .after = 60000};
	struct fake f;
	box_client *c = fake_connect(&f, script_retry, &a);
	int p[2], before, t;
	box_run *run;

	cr_assert_eq(box_client_set_busy_retries(c, 1), 0);
	cr_assert_eq(box_client_timeout(c), -1);
	before = count_fds();
	run = start_with_pipe(c, p, &a);
	while (box_client_timeout(c) < 0) {
		cr_assert_gt(poll_in(c, PATIENCE_MS), 0);
		cr_assert_eq(box_client_dispatch(c), 0);
	}
	/* Ours, and the library's three (stdin, stdout, stderr). Counted
	 * once the BUSY is in: the fake daemon is a thread of this process,
	 * and holds the copies it received until it answers. */
	cr_assert_eq(count_fds(), before + 2 + 3);
	t = box_client_timeout(c);
	cr_assert(t > 1000 && t <= 75000, "timeout %d ms", t);
	cr_assert_eq(box_run_state(run), BOX_RUN_PENDING);
	cr_assert_eq(box_run_kill_async(run, 9), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BUSY);
	cr_assert_eq(box_client_timeout(c), -1);
	cr_assert_eq(count_fds(), before + 2);
	ask_status(c);
	fake_join(&f);
	cr_assert_eq(a.runs_seen, 1);
	box_run_free(run);
	box_client_free(c);
	close(p[0]);
	close(p[1]);
}

/* box_process_open(): the caller reads the pipes first; never retried. */
Test(client_retry, process_runs_are_never_retried, .timeout = 120)
{
	struct retry_arg a = {.busy = 1, .after = 1};
	struct fake f;
	box_client *c = fake_connect(&f, script_process_busy, &a);
	box_spec *s = simple_spec();
	box_process *p;
	char buf[8];

	cr_assert_eq(box_client_set_busy_retries(c, BOX_BUSY_RETRIES), 0);
	cr_assert_eq(box_open_process_in(c, s, &p), 0);
	/* EOF comes (nobody holds the write end) before any dispatch. */
	cr_assert_eq(read(box_process_stdout(p), buf, sizeof(buf)), 0);
	cr_assert_eq(box_process_close(p, NULL), 125);
	ask_status(c);
	fake_join(&f);
	cr_assert_eq(a.runs_seen, 1);
	box_spec_free(s);
	box_client_free(c);
}
