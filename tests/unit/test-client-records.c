/*
 * libboxclient's records (record.c, json.c): the result and error that
 * end a run, their getters, JSON renderings, names and the shell-style
 * exit status each maps to. The records come from the fake daemon, as
 * they would from boxd.
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

#include "config-build.h"
#include "fakedaemon.h"

static void script_full_result(struct fake *f)
{
	static const char *caveats[] = {"swap: not enforced (cgroup v1)",
					"cpu_time: polled"};
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__Result r = BOXD__V1__RESULT__INIT;
	struct req q;

	HANDSHAKE();
	EXPECT(&q, RUN, 3);
	fake_req_clear(&q);
	fake_send_accepted(f, q.id, 7);
	fake_send_started(f, q.id, 7, 4242);
	r.run_id = 7;
	r.termination = BOXD__V1__TERMINATION__EXITED;
	r.has_exit_code = 1;
	r.exit_code = 3;
	r.wall_ns = 1500000;
	r.user_ns = 700000;
	r.system_ns = 300000;
	r.peak_rss_bytes = 4 * MiB;
	r.has_peak_memory_bytes = 1;
	r.peak_memory_bytes = 6 * MiB;
	r.has_peak_memory_source = 1;
	r.peak_memory_source = BOXD__V1__PEAK_MEMORY_SOURCE__PEAK_CGROUP;
	r.has_oom_kills = 1;
	r.oom_kills = 0;
	r.has_peak_pids = 1;
	r.peak_pids = 5;
	r.n_caveats = 2;
	r.caveats = (char **)caveats;
	r.has_start_time_unix_ns = 1;
	r.start_time_unix_ns = 1660459098589010919ULL;
	ev.msg_case = BOXD__V1__EVENT__MSG_RESULT;
	ev.result = &r;
	fake_send_event_id(f, q.id, &ev);
}

Test(client, result_getters_and_json, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_full_result, NULL);
	box_spec *s = simple_spec();
	const box_result *r;
	box_run *run;
	char *json;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_PENDING);
	cr_assert_eq(box_run_id(run), -1);
	cr_assert_null(box_run_result(run));
	cr_assert_eq(box_run_exit_status(run), -EBUSY);
	cr_assert_eq(box_run_wait(run), 0);
	r = box_run_result(run);
	cr_assert_not_null(r);
	cr_assert_null(box_run_error(run));
	cr_assert_eq(box_run_id(run), 7);
	cr_assert_eq(box_run_pid(run), 4242);
	cr_assert_eq(box_result_run_id(r), 7);
	cr_assert_eq(box_result_termination(r), BOX_TERM_EXITED);
	cr_assert_eq(box_result_exit_code(r), 3);
	cr_assert_eq(box_result_signal(r), -1);
	cr_assert_eq(box_result_wall_ns(r), 1500000);
	cr_assert_eq(box_result_user_ns(r), 700000);
	cr_assert_eq(box_result_system_ns(r), 300000);
	cr_assert_eq(box_result_peak_rss_bytes(r), 4 * MiB);
	cr_assert_eq(box_result_peak_memory_bytes(r), 6 * MiB);
	cr_assert_eq(box_result_peak_memory_source(r), BOX_PEAK_CGROUP);
	cr_assert_eq(box_result_oom_kills(r), 0);
	cr_assert_eq(box_result_peak_pids(r), 5);
	cr_assert_null(box_result_seccomp_syscall(r));
	cr_assert_eq(box_result_execs_refused(r), -1,
		     "a run without --no-exec");
	cr_assert_str_eq(box_result_caveats(r)[0],
			 "swap: not enforced (cgroup v1)");
	cr_assert_str_eq(box_result_caveats(r)[1], "cpu_time: polled");
	cr_assert_null(box_result_caveats(r)[2]);
	cr_assert_eq(box_result_start_time_unix_ns(r), 1660459098589010919LL);
	cr_assert_eq(box_run_exit_status(run), 3);
	cr_assert_eq(box_result_exit_status(r), 3);

	cr_assert_eq(box_run_json(run, &json), 0);
	cr_assert_str_eq(
	    json,
	    "{\"run_id\":7,\"termination\":\"exited\",\"exit_code\":3,"
	    "\"signal\":null,\"wall_ns\":1500000,\"user_ns\":700000,"
	    "\"system_ns\":300000,\"peak_rss_bytes\":4194304,"
	    "\"peak_memory_bytes\":6291456,"
	    "\"peak_memory_source\":\"cgroup\",\"oom_kills\":0,"
	    "\"peak_pids\":5,\"seccomp_syscall\":null,\"execs_refused\":null,"
	    "\"caveats\":[\"swap: not enforced (cgroup v1)\","
	    "\"cpu_time: polled\"],"
	    "\"start_time_unix_ns\":1660459098589010919}");
	free(json);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

struct end_case {
	Boxd__V1__Termination term;
	int code, sig;
	int status;
	const char *name;
};

static const struct end_case end_cases[] = {
    {BOXD__V1__TERMINATION__EXITED, 0, 0, 0, "exited"},
    {BOXD__V1__TERMINATION__EXITED, 255, 0, 255, "exited"},
    {BOXD__V1__TERMINATION__SIGNALED, -1, 11, 139, "signaled"},
    {BOXD__V1__TERMINATION__OUT_OF_MEMORY, -1, 9, 137, "out_of_memory"},
    {BOXD__V1__TERMINATION__WALL_TIMEOUT, -1, 0, 137, "wall_timeout"},
    {BOXD__V1__TERMINATION__CPU_TIMEOUT, -1, 9, 137, "cpu_timeout"},
    {BOXD__V1__TERMINATION__KILLED, -1, 15, 143, "killed"},
};

static void script_ends(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	for (size_t i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		EXPECT(&r, RUN, 3);
		fake_req_clear(&r);
		fake_send_accepted(f, r.id, 100 + i);
		fake_send_result(f, r.id, 100 + i, end_cases[i].term,
				 end_cases[i].code, end_cases[i].sig);
	}
}

Test(client, exit_status_of_each_termination, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_ends, NULL);
	box_spec *s = simple_spec();

	for (size_t i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		const struct end_case *e = &end_cases[i];
		json_object *o;
		box_run *run;
		char *json;

		cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
		cr_assert_eq(box_run_wait(run), 0);
		cr_assert_eq(box_run_exit_status(run), e->status, "case %zu",
			     i);
		cr_assert_str_eq(box_termination_name(box_result_termination(
				     box_run_result(run))),
				 e->name);
		cr_assert_eq(box_run_json(run, &json), 0);
		o = parse_json(json);
		cr_assert_str_eq(json_object_get_string(jget(o, "termination")),
				 e->name);
		if (e->sig > 0)
			cr_assert_eq(json_object_get_int(jget(o, "signal")),
				     e->sig);
		else
			cr_assert_null(jget(o, "signal"));
		if (e->code >= 0)
			cr_assert_eq(json_object_get_int(jget(o, "exit_code")),
				     e->code);
		else
			cr_assert_null(jget(o, "exit_code"));
		cr_assert_null(jget(o, "peak_memory_bytes"));
		cr_assert_str_eq(
		    json_object_get_string(jget(o, "peak_memory_source")),
		    "none");
		cr_assert_eq(json_object_array_length(jget(o, "caveats")), 0);
		json_object_put(o);
		free(json);
		box_run_free(run);
	}
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

static void script_errors(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	/* Refused before Accepted: no run id. */
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__DENIED,
			"net host is not allowed for uid 1000", NULL, 0, 0);
	/* A setup failure after Accepted. */
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 12);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__SETUP_FAILED,
			"mount /data: Permission denied", "mount", EACCES, 12);
	/* A setup failure the daemon reports before accepting. */
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__SETUP_FAILED,
			"clone: Resource temporarily unavailable", "clone",
			EAGAIN, 0);
	/* exec failures: not found, not executable. */
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 13);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__EXEC_FAILED,
			"execve nope: No such file or directory", "execve",
			ENOENT, 13);
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 14);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__EXEC_FAILED,
			"execve /etc/passwd: Permission denied", "execve",
			EACCES, 14);
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 15);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__EXEC_FAILED,
			"execve /bin/x: Exec format error", "execve", ENOEXEC,
			15);
	/* And the connection still runs things. */
	EXPECT(&r, RUN, 3);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 16);
	fake_send_result(f, r.id, 16, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

static box_run *run_to_end(box_client *c, box_spec *s)
{
	box_run *run;

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_state(run), BOX_RUN_FINISHED);
	return run;
}

Test(client, error_records_and_exit_status, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_errors, NULL);
	box_spec *s = simple_spec();
	const box_error *e;
	box_run *run;
	char *json;

	run = run_to_end(c, s);
	e = box_run_error(run);
	cr_assert_not_null(e);
	cr_assert_null(box_run_result(run));
	cr_assert_eq(box_error_code(e), BOX_ERROR_DENIED);
	cr_assert_str_eq(box_error_message(e),
			 "net host is not allowed for uid 1000");
	cr_assert_null(box_error_step(e));
	cr_assert_eq(box_error_errno(e), 0);
	cr_assert_eq(box_error_run_id(e), -1);
	cr_assert_eq(box_run_id(run), -1);
	cr_assert_eq(box_run_exit_status(run), 125);
	cr_assert_eq(box_run_json(run, &json), 0);
	cr_assert_str_eq(json, "{\"error\":{\"code\":\"denied\",\"message\":"
			       "\"net host is not allowed for uid 1000\","
			       "\"step\":null,\"errno\":null,"
			       "\"errno_name\":null,\"run_id\":null,"
			       "\"retry_after_ms\":null}}");
	free(json);
	box_run_free(run);

	run = run_to_end(c, s);
	e = box_run_error(run);
	cr_assert_eq(box_error_code(e), BOX_ERROR_SETUP_FAILED);
	cr_assert_str_eq(box_error_step(e), "mount");
	cr_assert_eq(box_error_errno(e), EACCES);
	cr_assert_eq(box_error_run_id(e), 12);
	cr_assert_eq(box_run_exit_status(run), 125);
	cr_assert_eq(box_error_json(e, &json), 0);
	cr_assert_str_eq(json, "{\"error\":{\"code\":\"setup_failed\","
			       "\"message\":\"mount /data: Permission "
			       "denied\",\"step\":\"mount\",\"errno\":13,"
			       "\"errno_name\":\"EACCES\",\"run_id\":12,"
			       "\"retry_after_ms\":null}}");
	free(json);
	box_run_free(run);

	run = run_to_end(c, s);
	e = box_run_error(run);
	cr_assert_eq(box_error_code(e), BOX_ERROR_SETUP_FAILED);
	cr_assert_str_eq(box_error_step(e), "clone");
	cr_assert_eq(box_error_errno(e), EAGAIN);
	cr_assert_eq(box_run_exit_status(run), 125);
	box_run_free(run);

	run = run_to_end(c, s);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_EXEC_FAILED);
	cr_assert_eq(box_run_exit_status(run), 127);
	box_run_free(run);
	run = run_to_end(c, s);
	cr_assert_eq(box_run_exit_status(run), 126);
	box_run_free(run);
	run = run_to_end(c, s);
	cr_assert_eq(box_run_exit_status(run), 126);
	cr_assert_str_eq(
	    box_error_code_name(box_error_code(box_run_error(run))),
	    "exec_failed");
	box_run_free(run);

	run = run_to_end(c, s);
	cr_assert_eq(box_run_exit_status(run), 0);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	fake_join(&f);
}

/* Names for every code and termination; the exit-status table. */
Test(client, names_and_exit_statuses)
{
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_BAD_REQUEST),
			 "bad_request");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_PROTOCOL), "protocol");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_DENIED), "denied");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_UNSUPPORTED),
			 "unsupported");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_SETUP_FAILED),
			 "setup_failed");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_EXEC_FAILED),
			 "exec_failed");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_BUSY), "busy");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_INTERNAL), "internal");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_NOT_FOUND), "not_found");
	cr_assert_str_eq(box_error_code_name(BOX_ERROR_CLIENT), "client");
	cr_assert_str_eq(box_error_code_name((enum box_error_code)77),
			 "unknown");
	cr_assert_str_eq(box_termination_name(BOX_TERM_CPU_TIMEOUT),
			 "cpu_timeout");
	cr_assert_str_eq(box_termination_name((enum box_termination)0),
			 "unknown");
	cr_assert_str_eq(box_version(), BOXD_VERSION);
}

Test(client, rlimit_and_mount_kind_names)
{
	cr_assert_str_eq(box_rlimit_name(BOX_RLIMIT_AS), "as");
	cr_assert_str_eq(box_rlimit_name(BOX_RLIMIT_NOFILE), "nofile");
	cr_assert_str_eq(box_rlimit_name((enum box_rlimit_resource)0),
			 "unknown");
	cr_assert_str_eq(box_mount_kind_name(BOX_MOUNT_REMOUNT_RO),
			 "remount-ro");
	cr_assert_str_eq(box_mount_kind_name(BOX_MOUNT_DEV_BIND), "dev-bind");
	cr_assert_str_eq(box_mount_kind_name((enum box_mount_kind)0),
			 "unknown");
}
