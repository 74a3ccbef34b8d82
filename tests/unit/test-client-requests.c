/*
 * libboxclient's kill, list and status requests (requests.c): answers
 * that land between a run's events, a kill's error that names a run
 * without ending it, the list and status records.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakedaemon.h"

static void script_interleave(struct fake *f)
{
	struct req run, st, k;

	HANDSHAKE();
	EXPECT(&run, RUN, 3);
	fake_req_clear(&run);
	EXPECT(&st, STATUS, 0);
	fake_req_clear(&st);
	/* The status answer lands between the run's events. */
	fake_send_accepted(f, run.id, 5);
	fake_send_status(f, st.id);
	fake_wait_step(f);
	fake_send_started(f, run.id, 5, 999);
	/* A kill of another run that does not exist. */
	EXPECT(&k, KILL, 0);
	CHECK(k.msg->kill->run_id == 99 && k.msg->kill->signal == 9);
	fake_req_clear(&k);
	fake_send_error(f, k.id, BOXD__V1__ERROR_CODE__NOT_FOUND, "no run 99",
			NULL, 0, 99);
	/* A kill of the run itself, answered after its result. */
	EXPECT(&k, KILL, 0);
	CHECK(k.msg->kill->run_id == 5 && k.msg->kill->has_signal &&
	      k.msg->kill->signal == SIGTERM);
	fake_req_clear(&k);
	fake_send_result(f, run.id, 5, BOXD__V1__TERMINATION__KILLED, -1,
			 SIGTERM);
	fake_send_kill_reply(f, k.id, 5);
}

Test(client, replies_interleave_with_run_events, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_interleave, NULL);
	box_spec *s = simple_spec();
	const box_host_info *h;
	box_status *st;
	box_run *run;
	char *json;
	json_object *o;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_client_status(c, &st), 0);
	/* Events before the answer were routed to the run. */
	cr_assert_eq(box_run_state(run), BOX_RUN_ACCEPTED);
	cr_assert_eq(box_run_id(run), 5);
	cr_assert_eq(box_status_runs(st), 2);
	cr_assert_eq(box_status_connections(st), 3);
	cr_assert_eq(box_status_daemon_rss_bytes(st), 9 * MiB);
	cr_assert_eq(box_status_uptime_ns(st), 61000000000LL);
	cr_assert_eq(box_status_pool_size(st), 4);
	cr_assert_eq(box_status_pool_target(st), 8);
	cr_assert_eq(box_status_pool_hits(st), 120);
	cr_assert_eq(box_status_pool_misses(st), 3);
	cr_assert_eq(box_status_pool_refill_failures(st), 1);
	cr_assert_eq(box_status_pool_member_rss_bytes(st), 800 * 1024);
	cr_assert_eq(box_status_pool_waiting(st), 2);
	h = box_status_host(st);
	cr_assert_not_null(h);
	cr_assert_str_eq(box_host_limits(h)[1], "memory");
	cr_assert_eq(box_status_json(st, &json), 0);
	o = parse_json(json);
	cr_assert_eq(json_object_get_int(jget(jget(o, "pool"), "hits")), 120);
	cr_assert_eq(json_object_get_int(jget(jget(o, "pool"), "waiting")), 2);
	cr_assert_str_eq(
	    json_object_get_string(jget(jget(o, "host"), "cgroup_mode")), "v1");
	cr_assert_eq(json_object_get_boolean(jget(jget(o, "host"), "landlock")),
		     0);
	json_object_put(o);
	free(json);
	box_status_free(st);

	fake_step(&f);
	cr_assert_eq(box_client_kill(c, 99, SIGKILL), -ESRCH);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_NOT_FOUND);
	/* A NOT_FOUND for another run leaves this one alone. */
	cr_assert_eq(box_run_state(run), BOX_RUN_STARTED);
	cr_assert_eq(box_run_pid(run), 999);

	cr_assert_eq(box_run_kill(run, SIGTERM), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_result_termination(box_run_result(run)),
		     BOX_TERM_KILLED);
	cr_assert_eq(box_run_exit_status(run), 128 + SIGTERM);
	cr_assert_eq(box_run_kill(run, SIGTERM), -ESRCH);
	cr_assert_eq(box_run_kill_async(run, SIGTERM), 0);
	cr_assert_eq(box_run_kill(run, 0), -EINVAL);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_list(struct fake *f)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__RunList l = BOXD__V1__RUN_LIST__INIT;
	Boxd__V1__RunInfo a = BOXD__V1__RUN_INFO__INIT;
	Boxd__V1__RunInfo b = BOXD__V1__RUN_INFO__INIT;
	Boxd__V1__RunInfo *runs[] = {&a, &b};
	struct req r;

	HANDSHAKE();
	EXPECT(&r, LIST, 0);
	fake_req_clear(&r);
	a.run_id = 41;
	a.uid = 1000;
	a.has_pid = 1;
	a.pid = 5555;
	a.has_argv0 = 1;
	a.argv0.data = (uint8_t *)"/usr/bin/make";
	a.argv0.len = 13;
	a.has_tag = 1;
	a.tag.data = (uint8_t *)"ci\xff";
	a.tag.len = 3;
	a.has_elapsed_ns = 1;
	a.elapsed_ns = 2500000000ULL;
	b.run_id = 42;
	b.uid = 0;
	l.n_runs = 2;
	l.runs = runs;
	ev.msg_case = BOXD__V1__EVENT__MSG_LIST;
	ev.list = &l;
	fake_send_event_id(f, r.id, &ev);
}

Test(client, list_runs, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_list, NULL);
	const box_run_info *i;
	box_run_list *l;
	char *json;

	cr_assert_eq(box_client_list(c, &l), 0);
	cr_assert_eq(box_run_list_count(l), 2);
	i = box_run_list_get(l, 0);
	cr_assert_eq(box_run_info_id(i), 41);
	cr_assert_eq(box_run_info_uid(i), 1000);
	cr_assert_eq(box_run_info_pid(i), 5555);
	cr_assert_str_eq(box_run_info_argv0(i), "/usr/bin/make");
	cr_assert_str_eq(box_run_info_tag(i), "ci\xff");
	cr_assert_eq(box_run_info_elapsed_ns(i), 2500000000LL);
	i = box_run_list_get(l, 1);
	cr_assert_eq(box_run_info_id(i), 42);
	cr_assert_eq(box_run_info_pid(i), -1);
	cr_assert_null(box_run_info_argv0(i));
	cr_assert_null(box_run_info_tag(i));
	cr_assert_eq(box_run_info_elapsed_ns(i), -1);
	cr_assert_null(box_run_list_get(l, 2));
	cr_assert_eq(box_run_list_json(l, &json), 0);
	/* Invalid UTF-8 in a tag becomes U+FFFD: the JSON stays valid. */
	cr_assert_str_eq(json, "{\"runs\":[{\"run_id\":41,\"uid\":1000,"
			       "\"pid\":5555,\"argv0\":\"/usr/bin/make\","
			       "\"tag\":\"ci\xef\xbf\xbd\","
			       "\"elapsed_ns\":2500000000},{\"run_id\":42,"
			       "\"uid\":0,\"pid\":null,\"argv0\":null,"
			       "\"tag\":null,\"elapsed_ns\":null}]}");
	free(json);
	box_run_list_free(l);
	box_client_free(c);
	fake_join(&f);
}

/*
 * Two kills of the same run in flight, answered in reverse order: each
 * answer goes to the kill whose request id it carries.
 */
static void script_two_kills(struct fake *f)
{
	struct req run, async, waited;

	HANDSHAKE();
	EXPECT(&run, RUN, 3);
	fake_req_clear(&run);
	fake_send_accepted(f, run.id, 7);
	EXPECT(&async, KILL, 0);
	CHECK(async.msg->kill->run_id == 7 &&
	      async.msg->kill->signal == SIGTERM);
	fake_req_clear(&async);
	EXPECT(&waited, KILL, 0);
	CHECK(waited.msg->kill->run_id == 7 &&
	      waited.msg->kill->signal == SIGKILL);
	fake_req_clear(&waited);
	fake_send_error(f, waited.id, BOXD__V1__ERROR_CODE__NOT_FOUND,
			"run 7 is gone", NULL, 0, 7);
	fake_send_kill_reply(f, async.id, 7);
	fake_send_result(f, run.id, 7, BOXD__V1__TERMINATION__KILLED, -1,
			 SIGTERM);
	/* Stay until the test has looked (a hang-up would be an error). */
	fake_wait_step(f);
}

Test(client, kill_answers_go_by_request_id, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_two_kills, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	while (box_run_state(run) == BOX_RUN_PENDING) {
		cr_assert_eq(poll_in(c, PATIENCE_MS), 1);
		cr_assert_eq(box_client_dispatch(c), 0);
	}
	cr_assert_eq(box_run_kill_async(run, SIGTERM), 0);
	cr_assert_eq(box_client_kill(c, 7, SIGKILL), -ESRCH);
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "run 7 is gone");
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_exit_status(run), 128 + SIGTERM);
	/* The async kill's answer was consumed, not kept as an error. */
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "run 7 is gone");
	fake_step(&f);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}
