/*
 * The pool's spawner (boxd-init --spawner) is root on the host and makes
 * cgroup directories where the daemon tells it. Its requests come only
 * from the daemon, but each is checked whole: a name that is not
 * "sandbox-<digits>" ends the spawner before it makes anything, so no
 * request can reach outside the directories it was given. A good name is
 * made in every directory given, and left for the daemon to remove when
 * the member cannot be placed in it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "initmsg.h"

static pid_t start_spawner(int *ret_sock)
{
	const char *init = getenv("BOXD_INIT");
	int sv[2];
	pid_t pid;

	cr_assert_not_null(init, "BOXD_INIT is not set");
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
		     0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(sv[1], INIT_CTL_FD) < 0)
			_exit(126);
		execl(init, "boxd-init", SPAWNER_ARG, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*ret_sock = sv[0];
	return pid;
}

static int send_request(int sock, uint32_t mode, const char *name, int dirfd)
{
	struct spawn_request req = {
	    .magic = INIT_MAGIC, .cgroup = mode, .seq = 1};
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};

	snprintf(req.name, sizeof(req.name), "%s", name);
	return (int)fdpass_send(sock, &iov, 1, &dirfd, 1);
}

static int entries(const char *dir)
{
	char cmd[512];
	int n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* The spawner's exit status, waiting at most 10 s; a spawner still
 * running then is killed and the test fails. */
static int wait_spawner(pid_t pid)
{
	int status = 0;

	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	cr_assert_fail("the spawner went on after the request");
	return status;
}

static void require_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: the spawner clones into new "
			     "namespaces");
}

Test(spawner, a_name_outside_its_directories_ends_it_and_makes_nothing)
{
	static const char *const bad[] = {
	    "../evil",     "sandbox-1/../../evil", "sandbox-",  "evil",
	    "sandbox-12a", "sandbox-1/x",          "/tmp/evil",
	};

	require_root();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char top[] = "/tmp/boxd-test-spawner-XXXXXX", sub[64];
		int sock, dirfd, status;
		pid_t pid;

		cr_assert_not_null(mkdtemp(top));
		snprintf(sub, sizeof(sub), "%s/given", top);
		cr_assert_eq(mkdir(sub, 0755), 0);
		dirfd = open(sub, O_PATH | O_DIRECTORY | O_CLOEXEC);
		cr_assert_geq(dirfd, 0);
		pid = start_spawner(&sock);
		cr_assert_gt(send_request(sock, SPAWN_CGROUP_MKDIR_ATTACH,
					  bad[i], dirfd),
			     0);
		status = wait_spawner(pid);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1,
			  "'%s': status %#x", bad[i], status);
		cr_expect_eq(entries(sub), 0, "'%s' made something", bad[i]);
		cr_expect_eq(entries(top), 1, "'%s' made something above",
			     bad[i]);
		close(dirfd);
		close(sock);
		rmdir(sub);
		rmdir(top);
	}
}

Test(spawner, a_good_name_is_made_and_left_when_the_member_cannot_go_in)
{
	char top[] = "/tmp/boxd-test-spawner-XXXXXX", made[128];
	struct spawn_reply rep;
	int sock, dirfd, status, fds[2];
	size_t n_fds = 0;
	struct stat st;
	ssize_t n;
	pid_t pid;

	require_root();
	cr_assert_not_null(mkdtemp(top));
	dirfd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	pid = start_spawner(&sock);
	cr_assert_gt(
	    send_request(sock, SPAWN_CGROUP_MKDIR_ATTACH, "sandbox-5", dirfd),
	    0);
	n = fdpass_recv(sock, &rep, sizeof(rep), 2, fds, &n_fds);
	cr_assert_eq(n, (ssize_t)sizeof(rep));
	/* Not a cgroup directory: no cgroup.procs to join. */
	cr_expect_neq(rep.err, 0);
	cr_expect_eq(n_fds, 0);
	rep.step[sizeof(rep.step) - 1] = 0;
	cr_expect_str_eq(rep.step, "attach cgroup");
	snprintf(made, sizeof(made), "%s/sandbox-5", top);
	cr_expect(stat(made, &st) == 0 && S_ISDIR(st.st_mode),
		  "%s was not made", made);
	close(sock); /* the spawner ends with its socket */
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* The killed member was the spawner's sibling (CLONE_PARENT): ours
	 * to reap. */
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	rmdir(made);
	close(dirfd);
	rmdir(top);
}
