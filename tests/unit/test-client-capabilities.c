/*
 * libboxclient's capabilities (info.c, isolation.c): the host's list and
 * its getters, the library's own sentences, and box_host_tightest()'s
 * spec as the daemon receives it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fakedaemon.h"

static void script_hello_only(struct fake *f)
{
	HANDSHAKE();
}

Test(client, host_capabilities_getters, .timeout = 60)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_hello_only, NULL);
	const box_host_info *h = box_client_host(c);
	int i;

	cr_assert_eq(box_host_capability_count(h), 4);
	cr_assert_str_eq(box_host_capability_name(h, 0), "net:none");
	cr_assert_str_eq(box_host_capability_description(h, 0),
			 "The command has no network at all.");
	cr_assert(box_host_capability_available(h, 0));
	cr_assert_null(box_host_capability_reason(h, 0));
	cr_assert_eq(box_host_capability_ceiling(h, 0), -1);

	i = box_host_capability_find(h, "limit:memory");
	cr_assert_eq(i, 1);
	cr_assert_eq(box_host_capability_ceiling(h, 1), 128 * MiB);
	cr_assert(box_host_has_capability(h, "limit:memory"));

	i = box_host_capability_find(h, "limit:pids");
	cr_assert_eq(i, 2);
	cr_assert_not(box_host_capability_available(h, 2));
	cr_assert_str_eq(box_host_capability_reason(h, 2),
			 "no cgroup pids controller delegated to boxd");
	cr_assert_not(box_host_has_capability(h, "limit:pids"));

	/* Unknown names and out-of-range indexes are absent, not crashes. */
	cr_assert_eq(box_host_capability_find(h, "teleport"), -ENOENT);
	cr_assert_not(box_host_has_capability(h, "teleport"));
	cr_assert_null(box_host_capability_name(h, 4));
	cr_assert_null(box_host_capability_description(h, 4));
	cr_assert_not(box_host_capability_available(h, 4));
	cr_assert_eq(box_host_capability_ceiling(h, 4), -1);
	cr_assert_eq(box_host_capability_count(NULL), 0);
	cr_assert_eq(box_host_capability_find(NULL, "net:none"), -ENOENT);
	box_client_free(c);
	fake_join(&f);
}

Test(client, capability_sentences_are_the_librarys_own)
{
	const char *s = box_capability_describe("net:none");

	cr_assert_not_null(s);
	cr_assert(strstr(s, "no network"), "%s", s);
	cr_assert_not_null(box_capability_describe("exec:no_exec"));
	cr_assert_not_null(box_capability_describe("limit:memory"));
	cr_assert_not_null(box_capability_describe("write:ephemeral"));
	cr_assert_null(box_capability_describe("teleport"));
	cr_assert_null(box_capability_describe(NULL));
}

static bool has_remount_ro(const Boxd__V1__RunRequest *run, const char *dst)
{
	for (size_t i = 0; i < run->n_mounts; i++)
		if (run->mounts[i]->kind == BOXD__V1__MOUNT__KIND__REMOUNT_RO &&
		    bytes_is(&run->mounts[i]->dst, dst))
			return true;
	return false;
}

static void script_tightest(struct fake *f)
{
	const Boxd__V1__RunRequest *run;
	struct req r;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	run = r.msg->run;
	CHECK(run->has_net && run->net == BOXD__V1__NET__NET_NONE);
	CHECK(!run->has_profile ||
	      run->profile == BOXD__V1__PROFILE__PROFILE_DEFAULT);
	CHECK(run->seccomp == NULL ||
	      run->seccomp->mode == BOXD__V1__SECCOMP__MODE__DEFAULT);
	CHECK(!run->has_new_session || run->new_session);
	CHECK(!run->has_die_with_client || run->die_with_client);
	/* The fake does not list the feature "no_exec": not asked. */
	CHECK(!run->has_no_exec || !run->no_exec);
	CHECK(has_remount_ro(run, "/run") && has_remount_ro(run, "/var"));
	CHECK(run->limits);
	/* 256M wanted, the tenant's ceiling is 128M. */
	CHECK(run->limits->has_memory_bytes &&
	      run->limits->memory_bytes == 128u << 20);
	/* Not available here: not asked for. */
	CHECK(!run->limits->has_pids);
	CHECK(!run->limits->has_cpu_millis);
	CHECK(run->limits->has_timeout_ns &&
	      run->limits->timeout_ns == 600000000000ull);
	/* Not listed by this host: not asked for. */
	CHECK(run->limits->has_cpu_time_ns == 0);
	/* Set after it: on top. */
	CHECK(bytes_is(&run->hostname, "late"));
	fake_req_clear(&r);
	fake_send_accepted(f, r.id, 7);
	fake_send_result(f, r.id, 7, BOXD__V1__TERMINATION__EXITED, 0, 0);
}

Test(client, tightest_spec_within_host_and_ceilings, .timeout = 60)
{
	struct fake f;
	box_client *c = fake_connect(&f, script_tightest, NULL);
	box_spec *s = simple_spec();
	box_run *run;

	cr_assert_eq(box_host_tightest(NULL, s), -EINVAL);
	cr_assert_eq(box_host_tightest(box_client_host(c), NULL), -EINVAL);
	cr_assert_eq(box_spec_set_net(s, BOX_NET_HOST), 0);
	cr_assert_eq(box_host_tightest(box_client_host(c), s), 0);
	cr_assert_eq(box_spec_set_hostname(s, "late"), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_not_null(
	    box_run_result(run), "%s",
	    box_run_error(run) ? box_error_message(box_run_error(run)) : "");
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
	fake_join(&f);
}
