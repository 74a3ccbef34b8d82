/*
 * libboxclient's dry runs (plan.c): the RunRequest it sends, the Plan's
 * getters and JSON, a refusal, and a daemon without the feature.
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

static void send_plan(struct fake *f, uint64_t rid)
{
	static Boxd__V1__EnvVar path = BOXD__V1__ENV_VAR__INIT,
				lang = BOXD__V1__ENV_VAR__INIT;
	static Boxd__V1__PlanMount usr = BOXD__V1__PLAN_MOUNT__INIT,
				   tmp = BOXD__V1__PLAN_MOUNT__INIT,
				   lnk = BOXD__V1__PLAN_MOUNT__INIT;
	static Boxd__V1__Rlimit core = BOXD__V1__RLIMIT__INIT,
				as = BOXD__V1__RLIMIT__INIT;
	static const char *caveats[] = {"limits not enforced: no cgroups"};
	static const char *uses[] = {"net:loopback", "limit:memory",
				     "write:tmpfs"};
	Boxd__V1__EnvVar *env[] = {&path, &lang};
	Boxd__V1__PlanMount *mounts[] = {&usr, &lnk, &tmp};
	Boxd__V1__Rlimit *rlimits[] = {&core, &as};
	ProtobufCBinaryData argv[] = {{7, (uint8_t *)"/bin/sh"},
				      {2, (uint8_t *)"-c"},
				      {9, (uint8_t *)"echo 'hi'"}};
	Boxd__V1__Limits lim = BOXD__V1__LIMITS__INIT;
	Boxd__V1__Plan p = BOXD__V1__PLAN__INIT;
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;

	path.name = (ProtobufCBinaryData){4, (uint8_t *)"PATH"};
	path.value = (ProtobufCBinaryData){8, (uint8_t *)"/usr/bin"};
	lang.name = (ProtobufCBinaryData){4, (uint8_t *)"LANG"};
	lang.value = (ProtobufCBinaryData){0, NULL};
	usr.has_kind = usr.has_src = usr.has_dst = 1;
	usr.kind = BOXD__V1__MOUNT__KIND__RO_BIND;
	usr.src = usr.dst = (ProtobufCBinaryData){4, (uint8_t *)"/usr"};
	usr.has_read_only = usr.read_only = 1;
	usr.has_from_profile = usr.from_profile = 1;
	usr.has_if_exists = usr.if_exists = 1;
	lnk.has_kind = lnk.has_src = lnk.has_dst = 1;
	lnk.kind = BOXD__V1__MOUNT__KIND__SYMLINK;
	lnk.src = (ProtobufCBinaryData){7, (uint8_t *)"usr/bin"};
	lnk.dst = (ProtobufCBinaryData){4, (uint8_t *)"/bin"};
	tmp.has_kind = tmp.has_dst = 1;
	tmp.kind = BOXD__V1__MOUNT__KIND__TMPFS;
	tmp.dst = (ProtobufCBinaryData){4, (uint8_t *)"/tmp"};
	tmp.has_size = tmp.has_mode = 1;
	tmp.size = 64 * MiB;
	tmp.mode = 01777;
	tmp.has_read_only = 1;
	core.resource = BOXD__V1__RLIMIT__RESOURCE__CORE;
	as.resource = BOXD__V1__RLIMIT__RESOURCE__AS;
	as.soft = 64 * MiB;
	as.hard = UINT64_MAX;
	lim.has_memory_bytes = lim.has_timeout_ns = 1;
	lim.memory_bytes = 256 * MiB;
	lim.timeout_ns = 30000000000ULL;

	p.n_argv = 3;
	p.argv = argv;
	p.n_env = 2;
	p.env = env;
	p.has_cwd = p.has_hostname = p.has_tag = 1;
	p.cwd = (ProtobufCBinaryData){5, (uint8_t *)"/work"};
	p.hostname = (ProtobufCBinaryData){7, (uint8_t *)"sandbox"};
	p.tag = (ProtobufCBinaryData){5, (uint8_t *)"job 1"};
	p.has_uid = p.has_gid = p.has_host_uid = p.has_host_gid = 1;
	p.uid = 0;
	p.gid = 0;
	p.host_uid = 1000;
	p.host_gid = 100;
	p.has_private_ids = 1;
	p.has_net = 1;
	p.net = BOXD__V1__NET__NET_LOOPBACK;
	p.has_profile = 1;
	p.profile = BOXD__V1__PROFILE__PROFILE_DEFAULT;
	p.has_new_session = p.has_die_with_client = 1;
	p.new_session = 1;
	p.die_with_client = 0;
	p.has_tty = p.tty = 1;
	p.n_mounts = 3;
	p.mounts = mounts;
	p.limits = &lim;
	p.n_rlimits = 2;
	p.rlimits = rlimits;
	p.has_seccomp = p.has_seccomp_instructions = 1;
	p.seccomp = BOXD__V1__SECCOMP__MODE__DEFAULT;
	p.seccomp_instructions = 310;
	p.n_caveats = 1;
	p.caveats = (char **)caveats;
	p.n_uses = 3;
	p.uses = (char **)uses;
	ev.msg_case = BOXD__V1__EVENT__MSG_PLAN;
	ev.plan = &p;
	fake_send_event_id(f, rid, &ev);
}

static void script_plan(struct fake *f)
{
	struct req r;

	HANDSHAKE();
	/* A dry run is a RunRequest with the flag, and its three fds. */
	EXPECT(&r, RUN, 3);
	CHECK(r.msg->run->has_dry_run && r.msg->run->dry_run);
	CHECK(r.msg->run->n_argv == 1);
	for (size_t i = 0; i < 3; i++)
		CHECK(is_devnull(r.fds[i]));
	fake_req_clear(&r);
	/* An event for a request id not in flight is not the answer. */
	fake_send_accepted(f, r.id + 1000, 99);
	send_plan(f, r.id);
	/* Refused like a run: no Plan, an Error without run id. */
	EXPECT(&r, RUN, 3);
	CHECK(r.msg->run->dry_run);
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__DENIED,
			"tenant 'users' may not use the host network", NULL, 0,
			0);
	/* The connection is free for a real run afterwards. */
	EXPECT(&r, RUN, 3);
	CHECK(!r.msg->run->dry_run);
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 5);
	fake_send_result(f, r.id, 5, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, plan_round_trip_getters_and_json, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_plan, NULL);
	box_spec *s = simple_spec();
	box_plan *p = NULL;
	box_run *run;
	uint64_t soft = 1, hard = 1;
	json_object *o, *m;
	char *json;

	cr_assert(box_host_has_feature(box_client_host(c), "dry_run"));
	cr_assert_str_eq(box_host_features(box_client_host(c))[0], "dry_run");
	cr_assert_not(box_host_has_feature(box_client_host(c), "teleport"));

	cr_assert_eq(box_run_plan(c, s, &p), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	cr_assert_not_null(p);
	cr_assert_str_eq(box_plan_argv(p)[0], "/bin/sh");
	cr_assert_str_eq(box_plan_argv(p)[2], "echo 'hi'");
	cr_assert_null(box_plan_argv(p)[3]);
	cr_assert_str_eq(box_plan_env(p)[0], "PATH=/usr/bin");
	cr_assert_str_eq(box_plan_env(p)[1], "LANG=");
	cr_assert_null(box_plan_env(p)[2]);
	cr_assert_str_eq(box_plan_cwd(p), "/work");
	cr_assert_str_eq(box_plan_hostname(p), "sandbox");
	cr_assert_str_eq(box_plan_tag(p), "job 1");
	cr_assert_eq(box_plan_uid(p), 0);
	cr_assert_eq(box_plan_gid(p), 0);
	cr_assert_eq(box_plan_host_uid(p), 1000);
	cr_assert_eq(box_plan_host_gid(p), 100);
	cr_assert_not(box_plan_private_ids(p));
	cr_assert_eq(box_plan_net(p), BOX_NET_LOOPBACK);
	cr_assert_eq(box_plan_profile(p), BOX_PROFILE_DEFAULT);
	cr_assert(box_plan_new_session(p));
	cr_assert_not(box_plan_die_with_client(p));
	cr_assert(box_plan_tty(p));

	cr_assert_eq(box_plan_mount_count(p), 3);
	cr_assert_eq(box_plan_mount_kind(p, 0), BOX_MOUNT_RO_BIND);
	cr_assert_str_eq(box_plan_mount_src(p, 0), "/usr");
	cr_assert_str_eq(box_plan_mount_dst(p, 0), "/usr");
	cr_assert(box_plan_mount_read_only(p, 0));
	cr_assert(box_plan_mount_from_profile(p, 0));
	cr_assert(box_plan_mount_if_exists(p, 0));
	cr_assert_eq(box_plan_mount_size(p, 0), -1);
	cr_assert_eq(box_plan_mount_mode(p, 0), -1);
	cr_assert_eq(box_plan_mount_kind(p, 1), BOX_MOUNT_SYMLINK);
	cr_assert_str_eq(box_plan_mount_src(p, 1), "usr/bin");
	cr_assert_eq(box_plan_mount_kind(p, 2), BOX_MOUNT_TMPFS);
	cr_assert_null(box_plan_mount_src(p, 2));
	cr_assert_eq(box_plan_mount_size(p, 2), 64 * MiB);
	cr_assert_eq(box_plan_mount_mode(p, 2), 01777);
	cr_assert_not(box_plan_mount_read_only(p, 2));
	cr_assert_not(box_plan_mount_from_profile(p, 2));
	/* Out of range is absent, not a crash. */
	cr_assert_null(box_plan_mount_dst(p, 3));
	cr_assert_eq(box_plan_mount_kind(p, 3), 0);

	cr_assert_eq(box_plan_memory_bytes(p), 256 * MiB);
	cr_assert_eq(box_plan_timeout_ns(p), 30000000000LL);
	cr_assert_eq(box_plan_cpu_millis(p), -1);
	cr_assert_eq(box_plan_pids(p), -1);
	cr_assert_eq(box_plan_memory_swap_bytes(p), -1);
	cr_assert_eq(box_plan_cpu_time_ns(p), -1);
	cr_assert_eq(box_plan_rlimit(p, BOX_RLIMIT_CORE, &soft, &hard), 0);
	cr_assert(soft == 0 && hard == 0);
	cr_assert_eq(box_plan_rlimit(p, BOX_RLIMIT_AS, &soft, NULL), 0);
	cr_assert_eq(soft, 64 * MiB);
	cr_assert_eq(box_plan_rlimit(p, BOX_RLIMIT_NOFILE, NULL, NULL),
		     -ENOENT);
	cr_assert_eq(box_plan_seccomp_mode(p), BOX_SECCOMP_DEFAULT);
	cr_assert_eq(box_plan_seccomp_instructions(p), 310);
	cr_assert_str_eq(box_plan_caveats(p)[0],
			 "limits not enforced: no cgroups");
	cr_assert_null(box_plan_caveats(p)[1]);
	cr_assert_str_eq(box_plan_uses(p)[0], "net:loopback");
	cr_assert_str_eq(box_plan_uses(p)[1], "limit:memory");
	cr_assert_str_eq(box_plan_uses(p)[2], "write:tmpfs");
	cr_assert_null(box_plan_uses(p)[3]);

	cr_assert_eq(box_plan_json(p, &json), 0);
	o = parse_json(json);
	cr_assert_str_eq(json_object_get_string(jget(o, "net")), "loopback");
	cr_assert_str_eq(json_object_get_string(jget(o, "hostname")),
			 "sandbox");
	cr_assert_eq(json_object_get_int64(jget(o, "host_uid")), 1000);
	cr_assert_eq(json_object_array_length(jget(o, "mounts")), 3);
	m = json_object_array_get_idx(jget(o, "mounts"), 1);
	cr_assert_str_eq(json_object_get_string(jget(m, "kind")), "symlink");
	cr_assert_str_eq(json_object_get_string(jget(m, "src")), "usr/bin");
	cr_assert_null(jget(m, "size"));
	m = json_object_array_get_idx(jget(o, "mounts"), 2);
	cr_assert_eq(json_object_get_int64(jget(m, "mode")), 01777);
	cr_assert_eq(
	    json_object_get_int64(jget(jget(o, "limits"), "memory_bytes")),
	    256 * MiB);
	cr_assert_null(jget(jget(o, "limits"), "pids"));
	cr_assert_str_eq(json_object_get_string(
			     jget(jget(jget(o, "rlimits"), "as"), "hard")),
			 "unlimited");
	cr_assert_eq(json_object_get_int64(jget(o, "seccomp_instructions")),
		     310);
	cr_assert_str_eq(json_object_get_string(jget(o, "seccomp")), "default");
	cr_assert_eq(json_object_array_length(jget(o, "uses")), 3);
	cr_assert_str_eq(json_object_get_string(
			     json_object_array_get_idx(jget(o, "uses"), 1)),
			 "limit:memory");
	json_object_put(o);
	free(json);
	cr_assert_null(box_plan_free(p));

	/* A refusal is the daemon's error, and the call's errno. */
	p = NULL;
	cr_assert_eq(box_run_plan(c, s, &p), -EACCES);
	cr_assert_null(p);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_DENIED);
	cr_assert_str_eq(box_error_message(box_client_last_error(c)),
			 "tenant 'users' may not use the host network");

	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_run_exit_status(run), 0);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	cr_assert_null(box_plan_free(NULL));
	fake_join(&f);
}

/* A daemon that does not list "dry_run" would run the command: never
 * send it a dry run. */
static void script_no_dry_run(struct fake *f)
{
	Boxd__V1__Event ev = BOXD__V1__EVENT__INIT;
	Boxd__V1__HelloReply h = BOXD__V1__HELLO_REPLY__INIT;
	Boxd__V1__HostInfo host = BOXD__V1__HOST_INFO__INIT;
	struct req r;

	EXPECT(&r, HELLO, 0);
	fake_req_clear(&r);
	fake_fill_host(&host);
	host.n_features = 0;
	h.version = 2;
	h.daemon_version = (char *)"0.0.1";
	h.host = &host;
	ev.msg_case = BOXD__V1__EVENT__MSG_HELLO;
	ev.hello = &h;
	fake_send_event_id(f, r.id, &ev);
	/* The next request is the status the test sends, not a run. */
	EXPECT(&r, STATUS, 0);
	fake_req_clear(&r);
}

Test(client, plan_refused_locally_without_the_daemon_feature, .timeout = 120)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_no_dry_run, NULL);
	box_spec *s = simple_spec(), *none;
	box_status *st = NULL;
	box_plan *p = NULL;

	cr_assert_not(box_host_has_feature(box_client_host(c), "dry_run"));
	cr_assert_null(box_host_features(box_client_host(c))[0]);
	cr_assert_eq(box_run_plan(c, s, &p), -EOPNOTSUPP);
	cr_assert_null(p);
	cr_assert_eq(box_error_code(box_client_last_error(c)),
		     BOX_ERROR_CLIENT);
	cr_assert_eq(box_spec_new(&none), 0);
	cr_assert_eq(box_run_plan(c, none, &p), -EINVAL);
	/* The fake fails unless this status is the next thing it reads;
	 * it hangs up after, so the answer itself does not matter. */
	(void)box_client_status(c, &st);
	box_status_free(st);
	box_client_free(c);
	box_spec_free(s);
	box_spec_free(none);
	fake_join(&f);
}
