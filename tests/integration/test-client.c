/*
 * Clients of protocol version 2 against a real boxd: libboxclient with
 * several runs in flight on one connection, pipelined with a status, a
 * dry run and a kill; and the minimal Python client printed in
 * docs/protocol.md, run as it is printed there.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;

static void setup(void)
{
	require_root();
	daemon_start(&d, NULL, NULL);
}

static void teardown(void)
{
	daemon_stop(&d);
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 60);

static box_spec *sh_spec(const char *script)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};

	return spec_argv(argv);
}

Test(client, several_runs_in_flight_on_one_connection)
{
	box_client *c = connect_root(&d);
	box_spec *quick = sh_spec("exit 3"), *slow = sh_spec("sleep 30");
	box_spec *other = sh_spec("exit 5");
	box_run *a, *b, *e;
	box_status *st;
	box_plan *plan;

	cr_assert_eq(box_client_protocol_version(c), 2);
	/* Sent one after the other, nothing waited for. */
	cr_assert_eq(box_run_start(c, quick, -1, -1, -1, &a), 0);
	cr_assert_eq(box_run_start(c, slow, -1, -1, -1, &b), 0);
	cr_assert_eq(box_run_start(c, other, -1, -1, -1, &e), 0);
	cr_assert_eq(box_client_status(c, &st), 0);
	cr_expect_geq(box_status_runs(st), 1);
	box_status_free(st);
	/* A dry run while runs are in flight (version 1 said BUSY). */
	cr_assert_eq(box_run_plan(c, quick, &plan), 0, "%s",
		     box_error_message(box_client_last_error(c)));
	cr_expect_str_eq(box_plan_argv(plan)[0], "/bin/sh");
	box_plan_free(plan);

	cr_assert_eq(box_run_wait(a), 0);
	cr_assert_eq(box_run_wait(e), 0);
	cr_expect_eq(box_run_exit_status(a), 3);
	cr_expect_eq(box_run_exit_status(e), 5);
	/* The slow one runs on: started (its start may be reported after
	 * the others' results on a busy machine), not ended. */
	while (box_run_state(b) < BOX_RUN_STARTED)
		cr_assert(box_run_dispatch(b) >= 0);
	cr_expect_eq(box_run_state(b), BOX_RUN_STARTED);
	cr_assert_eq(box_run_kill(b, SIGTERM), 0);
	cr_assert_eq(box_run_wait(b), 0);
	cr_expect_eq(box_result_termination(box_run_result(b)),
		     BOX_TERM_KILLED);
	cr_expect_eq(box_run_exit_status(b), 128 + SIGTERM);
	cr_expect(box_run_id(a) != box_run_id(b) &&
		  box_run_id(b) != box_run_id(e) &&
		  box_run_id(a) != box_run_id(e));
	box_run_free(a);
	box_run_free(b);
	box_run_free(e);
	box_spec_free(quick);
	box_spec_free(slow);
	box_spec_free(other);
	box_client_free(c);
}

/* The ```python block of docs/protocol.md, written to path. */
static void extract_python_example(const char *path)
{
	const char *root = getenv("BOXD_SOURCE_DIR");
	char doc[512], line[1024];
	bool in_block = false, found = false;
	FILE *in, *out;

	cr_assert_not_null(root, "BOXD_SOURCE_DIR is not set");
	snprintf(doc, sizeof(doc), "%s/docs/protocol.md", root);
	in = fopen(doc, "re");
	cr_assert_not_null(in, "%s", doc);
	out = fopen(path, "we");
	cr_assert_not_null(out);
	while (fgets(line, sizeof(line), in)) {
		if (!in_block && strcmp(line, "```python\n") == 0) {
			cr_assert_not(found, "two python blocks");
			in_block = found = true;
		} else if (in_block && strcmp(line, "```\n") == 0) {
			in_block = false;
		} else if (in_block) {
			fputs(line, out);
		}
	}
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_assert(found, "no python block in %s", doc);
}

Test(client, python_example_of_the_protocol_document_works)
{
	char script[256], cmd[1024], buf[256] = "";
	size_t n;
	FILE *p;
	int status;

	if (system("python3 -c 'import socket, sys; "
		   "sys.exit(0 if hasattr(socket, \"send_fds\") else 1)' "
		   ">/dev/null 2>&1") != 0)
		cr_skip_test("needs python3 3.9 or later (socket.send_fds)");
	snprintf(script, sizeof(script), "%s/example.py", d.dir);
	extract_python_example(script);
	snprintf(cmd, sizeof(cmd),
		 "BOXD_SOCKET=%s python3 %s /bin/sh -c 'echo from the box; "
		 "exit 4'",
		 d.sock, script);
	p = popen(cmd, "re");
	cr_assert_not_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	status = pclose(p);
	cr_expect_str_eq(buf, "from the box\n");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 4,
		  "example.py ended with status %d", status);
	unlink(script);
}
