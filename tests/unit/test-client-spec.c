/*
 * libboxclient's spec builder (spec.c): every setter's field as the
 * daemon receives it, what is refused before anything is sent, and the
 * ordering of mounts by destination.
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

static const char policy_text[] = "deny ptrace\n";

static void script_spec(struct fake *f)
{
	const char *cwd = f->arg;
	char abs[4096];
	struct req r;
	Boxd__V1__RunRequest *rr;
	Boxd__V1__Mount **m;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	rr = r.msg->run;
	CHECK(rr->n_argv == 3);
	CHECK(bytes_is(&rr->argv[0], "/bin/echo"));
	CHECK(bytes_is(&rr->argv[1], "a b"));
	CHECK(bytes_is(&rr->argv[2], ""));
	CHECK(rr->has_profile &&
	      rr->profile == BOXD__V1__PROFILE__PROFILE_BARE);
	CHECK(rr->n_mounts == 11);
	m = rr->mounts;
	snprintf(abs, sizeof(abs), "%s/rel/dir", cwd);
	CHECK(m[0]->kind == BOXD__V1__MOUNT__KIND__RO_BIND &&
	      bytes_is(&m[0]->src, "/usr") && bytes_is(&m[0]->dst, "/usr") &&
	      m[0]->has_src && !m[0]->has_size && !m[0]->has_mode);
	CHECK(m[1]->kind == BOXD__V1__MOUNT__KIND__BIND &&
	      bytes_is(&m[1]->src, abs) && bytes_is(&m[1]->dst, "/work"));
	CHECK(m[2]->kind == BOXD__V1__MOUNT__KIND__DEV_BIND &&
	      bytes_is(&m[2]->src, "/dev/fuse") &&
	      bytes_is(&m[2]->dst, "/dev/fuse"));
	CHECK(m[3]->kind == BOXD__V1__MOUNT__KIND__TMPFS && !m[3]->has_src &&
	      bytes_is(&m[3]->dst, "/tmp") && m[3]->has_size &&
	      m[3]->size == 64 * MiB && m[3]->has_mode && m[3]->mode == 01777);
	CHECK(m[4]->kind == BOXD__V1__MOUNT__KIND__TMPFS && !m[4]->has_size &&
	      !m[4]->has_mode);
	CHECK(m[5]->kind == BOXD__V1__MOUNT__KIND__PROC &&
	      bytes_is(&m[5]->dst, "/proc"));
	CHECK(m[6]->kind == BOXD__V1__MOUNT__KIND__DEV &&
	      bytes_is(&m[6]->dst, "/dev"));
	CHECK(m[7]->kind == BOXD__V1__MOUNT__KIND__SYMLINK &&
	      bytes_is(&m[7]->src, "usr/lib") && bytes_is(&m[7]->dst, "/lib"));
	CHECK(m[8]->kind == BOXD__V1__MOUNT__KIND__DIR &&
	      bytes_is(&m[8]->dst, "/data") && m[8]->has_mode &&
	      m[8]->mode == 0700);
	CHECK(m[9]->kind == BOXD__V1__MOUNT__KIND__REMOUNT_RO &&
	      bytes_is(&m[9]->dst, "/work"));
	/* "./sub/../." is the working directory, spelled plainly. */
	CHECK(m[10]->kind == BOXD__V1__MOUNT__KIND__RO_BIND &&
	      bytes_is(&m[10]->src, cwd) && bytes_is(&m[10]->dst, "/here"));
	CHECK(rr->n_setenv == 2);
	CHECK(bytes_is(&rr->setenv[0]->name, "LANG") &&
	      bytes_is(&rr->setenv[0]->value, "C.UTF-8"));
	CHECK(bytes_is(&rr->setenv[1]->name, "EMPTY") &&
	      bytes_is(&rr->setenv[1]->value, ""));
	CHECK(rr->n_unsetenv == 1 && bytes_is(&rr->unsetenv[0], "TERM"));
	CHECK(rr->has_cwd && bytes_is(&rr->cwd, "/work"));
	CHECK(rr->has_hostname && bytes_is(&rr->hostname, "sandbox"));
	CHECK(rr->has_uid && rr->uid == 0);
	CHECK(rr->has_gid && rr->gid == 4242);
	CHECK(rr->has_net && rr->net == BOXD__V1__NET__NET_LOOPBACK);
	CHECK(rr->has_new_session && !rr->new_session);
	CHECK(rr->has_die_with_client && !rr->die_with_client);
	CHECK(rr->limits);
	CHECK(rr->limits->has_memory_bytes &&
	      rr->limits->memory_bytes == 512 * MiB);
	CHECK(rr->limits->has_memory_swap_bytes &&
	      rr->limits->memory_swap_bytes == 1024 * MiB);
	CHECK(rr->limits->has_cpu_millis && rr->limits->cpu_millis == 1500);
	CHECK(rr->limits->has_pids && rr->limits->pids == 64);
	CHECK(rr->limits->has_timeout_ns &&
	      rr->limits->timeout_ns == 2500000000ULL);
	CHECK(rr->limits->has_cpu_time_ns &&
	      rr->limits->cpu_time_ns == 1000000000ULL);
	CHECK(rr->seccomp &&
	      rr->seccomp->mode == BOXD__V1__SECCOMP__MODE__CUSTOM &&
	      rr->seccomp->has_policy &&
	      bytes_is(&rr->seccomp->policy, policy_text));
	CHECK(rr->n_rlimits == 3);
	CHECK(rr->rlimits[0]->resource == BOXD__V1__RLIMIT__RESOURCE__NOFILE &&
	      rr->rlimits[0]->soft == 100 && rr->rlimits[0]->hard == 200);
	CHECK(rr->rlimits[1]->resource == BOXD__V1__RLIMIT__RESOURCE__CORE &&
	      rr->rlimits[1]->soft == 0 && rr->rlimits[1]->hard == UINT64_MAX);
	CHECK(rr->rlimits[2]->resource == BOXD__V1__RLIMIT__RESOURCE__AS &&
	      rr->rlimits[2]->soft == 64 * MiB &&
	      rr->rlimits[2]->hard == 128 * MiB);
	/* A run is not a dry run unless asked. */
	CHECK(!rr->has_dry_run && !rr->dry_run);
	CHECK(rr->has_lenient && rr->lenient);
	CHECK(rr->has_tag && bytes_is(&rr->tag, "build #7"));
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__UNSUPPORTED,
			"swap limits need cgroup v2", NULL, 0, 0);

	/* A spec with nothing set sends nothing but argv. */
	EXPECT(&r, RUN, 3);
	rr = r.msg->run;
	CHECK(rr->n_argv == 1 && rr->n_mounts == 0 && rr->n_setenv == 0 &&
	      rr->n_unsetenv == 0 && rr->n_rlimits == 0);
	CHECK(!rr->has_profile && !rr->has_cwd && !rr->has_hostname &&
	      !rr->has_uid && !rr->has_gid && !rr->has_net &&
	      !rr->has_new_session && !rr->has_die_with_client &&
	      !rr->has_lenient && !rr->has_tag);
	CHECK(!rr->limits && !rr->seccomp);
	/* ... and the defaults read back are the protocol's. */
	CHECK(rr->new_session && rr->die_with_client &&
	      rr->net == BOXD__V1__NET__NET_NONE);
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__BAD_REQUEST, "no", NULL,
			0, 0);
}

Test(client, spec_fields_encoded_as_set, .timeout = 120)
{
	static const char *const argv[] = {"/bin/echo", "a b", "", NULL};
	char cwd[4096];
	struct fake f;
	box_client *c;
	box_spec *s, *empty = simple_spec();
	box_run *run;

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(box_spec_new(&s), 0);
	cr_assert_eq(box_spec_add_arg(s, "ignored"), 0);
	cr_assert_eq(box_spec_set_argv(s, argv), 0);
	cr_assert_eq(box_spec_set_profile(s, BOX_PROFILE_BARE), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/usr", "/usr"), 0);
	cr_assert_eq(box_spec_bind(s, "rel/dir", "/work"), 0);
	cr_assert_eq(box_spec_dev_bind(s, "/dev/fuse", "/dev/fuse"), 0);
	cr_assert_eq(box_spec_tmpfs(s, "/tmp", 64 * MiB, 01777), 0);
	cr_assert_eq(box_spec_tmpfs(s, "/var", 0, -1), 0);
	cr_assert_eq(box_spec_proc(s, "/proc"), 0);
	cr_assert_eq(box_spec_dev(s, "/dev"), 0);
	cr_assert_eq(box_spec_symlink(s, "usr/lib", "/lib"), 0);
	cr_assert_eq(box_spec_dir(s, "/data", 0700), 0);
	cr_assert_eq(box_spec_remount_ro(s, "/work"), 0);
	cr_assert_eq(
	    box_spec_add_mount(s, BOX_MOUNT_RO_BIND, "./sub/../.", "/here"), 0);
	cr_assert_eq(box_spec_setenv(s, "LANG", "C.UTF-8"), 0);
	cr_assert_eq(box_spec_setenv(s, "EMPTY", ""), 0);
	cr_assert_eq(box_spec_unsetenv(s, "TERM"), 0);
	cr_assert_eq(box_spec_set_cwd(s, "/work"), 0);
	cr_assert_eq(box_spec_set_hostname(s, "sandbox"), 0);
	cr_assert_eq(box_spec_set_uid(s, 0), 0);
	cr_assert_eq(box_spec_set_gid(s, 4242), 0);
	cr_assert_eq(box_spec_set_net(s, BOX_NET_LOOPBACK), 0);
	cr_assert_eq(box_spec_set_new_session(s, false), 0);
	cr_assert_eq(box_spec_set_die_with_client(s, false), 0);
	cr_assert_eq(box_spec_set_memory(s, 512 * MiB), 0);
	cr_assert_eq(box_spec_set_memory_swap(s, 1024 * MiB), 0);
	cr_assert_eq(box_spec_set_cpus(s, 1.5), 0);
	cr_assert_eq(box_spec_set_pids(s, 64), 0);
	cr_assert_eq(box_spec_set_timeout_ns(s, 2500000000ULL), 0);
	cr_assert_eq(box_spec_set_cpu_time_ns(s, 1000000000ULL), 0);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_DEFAULT, NULL, 0), 0);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, policy_text,
					  strlen(policy_text)),
		     0);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_NOFILE, 100, 200), 0);
	cr_assert_eq(
	    box_spec_add_rlimit(s, BOX_RLIMIT_CORE, 0, BOX_RLIM_INFINITY), 0);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_AS, 64 * MiB, 128 * MiB),
		     0);
	cr_assert_eq(box_spec_set_lenient(s, true), 0);
	cr_assert_eq(box_spec_set_tag(s, "build #7"), 0);

	c = fake_connect(&f, script_spec, cwd);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_null(box_run_result(run));
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_UNSUPPORTED);
	cr_assert_eq(box_run_exit_status(run), 125);
	box_run_free(run);
	/* The connection survives a refused run. */
	cr_assert_eq(box_run_start(c, empty, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BAD_REQUEST);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	box_spec_free(empty);
	fake_join(&f);
}

Test(client, spec_rejects_bad_arguments)
{
	static const char *const no_argv[] = {NULL};
	box_spec *s;
	box_client *c;
	box_run *run;

	cr_assert_eq(box_spec_new(&s), 0);
	cr_assert_eq(box_spec_set_argv(s, no_argv), -EINVAL);
	cr_assert_eq(box_spec_tmpfs(s, "relative", 0, -1), -EINVAL);
	cr_assert_eq(box_spec_tmpfs(s, "/t", 0, 010000), -EINVAL);
	cr_assert_eq(box_spec_dir(s, "/t", -2), -EINVAL);
	cr_assert_eq(box_spec_ro_bind(s, "", "/x"), -EINVAL);
	cr_assert_eq(box_spec_add_mount(s, BOX_MOUNT_PROC, "/src", "/proc"),
		     -EINVAL);
	cr_assert_eq(box_spec_add_mount(s, BOX_MOUNT_BIND, NULL, "/x"),
		     -EINVAL);
	cr_assert_eq(box_spec_add_mount(s, (enum box_mount_kind)42, NULL, "/x"),
		     -EINVAL);
	cr_assert_eq(box_spec_overlay_persist(s, "/src", "/o", NULL), -EINVAL);
	cr_assert_eq(box_spec_overlay_persist(s, "/src", "/o", ""), -EINVAL);
	cr_assert_eq(box_spec_overlay_persist(s, "/src", "o", "/k"), -EINVAL);
	cr_assert_eq(box_spec_overlay_persist(s, "", "/o", "/k"), -EINVAL);
	cr_assert_eq(box_spec_setenv(s, "A=B", "c"), -EINVAL);
	cr_assert_eq(box_spec_setenv(s, "", "c"), -EINVAL);
	cr_assert_eq(box_spec_unsetenv(s, "X=1"), -EINVAL);
	cr_assert_eq(box_spec_set_cwd(s, "relative"), -EINVAL);
	cr_assert_eq(box_spec_set_hostname(s, ""), -EINVAL);
	cr_assert_eq(box_spec_set_uid(s, UINT32_MAX), -EINVAL);
	cr_assert_eq(box_spec_set_uid(s, -1), 0);
	cr_assert_eq(box_spec_set_cpus(s, -1.0), -EINVAL);
	cr_assert_eq(box_spec_set_cpus(s, 0.0001), -EINVAL);
	cr_assert_eq(box_spec_set_net(s, (enum box_net)9), -EINVAL);
	cr_assert_eq(box_spec_set_profile(s, (enum box_profile)0), -EINVAL);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_CUSTOM, NULL, 0),
		     -EINVAL);
	cr_assert_eq(box_spec_set_seccomp(s, BOX_SECCOMP_NONE, "x", 1),
		     -EINVAL);
	cr_assert_eq(box_spec_add_rlimit(s, BOX_RLIMIT_STACK, 2, 1), -EINVAL);
	cr_assert_eq(box_spec_add_rlimit(s, (enum box_rlimit_resource)7, 1, 1),
		     -EINVAL);
	cr_assert_eq(box_spec_add_rlimit(s, (enum box_rlimit_resource)0, 1, 1),
		     -EINVAL);
	/* No argv, no run; and no connection needed to say so. */
	cr_assert_eq(box_client_new(&c), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -EINVAL);
	cr_assert_eq(box_spec_add_arg(s, "/bin/true"), 0);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), -ENOTCONN);
	box_client_free(c);
	box_spec_free(s);
	cr_assert_null(box_spec_free(NULL));
	cr_assert_null(box_client_free(NULL));
	cr_assert_null(box_run_free(NULL));
}

/* The destinations, in the order the daemon received them. */
static void script_sorted(struct fake *f)
{
	static const char *const want[][2] = {
	    /* {dst, src}: same destination keeps its order (stable). */
	    {"/", "/srv/root"},  {"/a", "/first"},     {"/a", NULL},
	    {"/a/b", "/second"}, {"/a/b/c", "/third"}, {"/a-b", "/x"},
	    {"/a.b", "/y"},      {"/ab", "/z"},        {"/b", "/last"},
	};
	struct req r;
	Boxd__V1__RunRequest *rr;

	HANDSHAKE();
	EXPECT(&r, RUN, 3);
	rr = r.msg->run;
	CHECK(rr->n_mounts == sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const Boxd__V1__Mount *m = rr->mounts[i];

		if (!bytes_is(&m->dst, want[i][0]) ||
		    (want[i][1]
			 ? !bytes_is(&m->src, want[i][1])
			 : m->kind != BOXD__V1__MOUNT__KIND__REMOUNT_RO)) {
			fake_fail(f, __LINE__, "mount %zu is %.*s, want %s", i,
				  (int)m->dst.len, (char *)m->dst.data,
				  want[i][0]);
			fake_req_clear(&r);
			return;
		}
	}
	fake_req_clear(&r);
	fake_send_error(f, r.id, BOXD__V1__ERROR_CODE__BAD_REQUEST, "enough",
			NULL, 0, 0);
}

Test(client, sort_mounts_orders_by_path_components, .timeout = 120)
{
	struct fake f;
	box_client *c;
	box_spec *s = simple_spec(), *empty = simple_spec();
	box_run *run;

	/* Shuffled; strcmp would put "/a-b" and "/a.b" before "/a/b". */
	cr_assert_eq(box_spec_ro_bind(s, "/last", "/b"), 0);
	cr_assert_eq(box_spec_bind(s, "/third", "/a/b/c"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/x", "/a-b"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/second", "/a/b"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/first", "/a"), 0);
	cr_assert_eq(box_spec_remount_ro(s, "/a"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/z", "/ab"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/y", "/a.b"), 0);
	cr_assert_eq(box_spec_ro_bind(s, "/srv/root", "/"), 0);
	cr_assert_eq(box_spec_sort_mounts(s), 0);
	/* Sorting a sorted spec changes nothing. */
	cr_assert_eq(box_spec_sort_mounts(s), 0);
	cr_assert_eq(box_spec_sort_mounts(empty), 0);
	cr_assert_eq(box_spec_sort_mounts(NULL), -EINVAL);

	c = fake_connect(&f, script_sorted, NULL);
	cr_assert_eq(box_run_start(c, s, -1, -1, -1, &run), 0);
	cr_assert_eq(box_run_wait(run), 0);
	cr_assert_eq(box_error_code(box_run_error(run)), BOX_ERROR_BAD_REQUEST);
	box_run_free(run);
	box_client_free(c);
	box_spec_free(s);
	box_spec_free(empty);
	fake_join(&f);
}
