/*
 * Tries to run another program after its own exec, every way a process
 * can: execve() of a path, execveat() with AT_EMPTY_PATH on an fd of it,
 * fexecve() of a memfd holding a copy of it, execve() of a shell script
 * (its #! line names an interpreter), and execve() from a forked child
 * and from a second thread. The program run is TARGET itself with the
 * argument "ran", which prints a marker and exits 0.
 *
 *   probe-noexec refused TARGET SCRIPT   every attempt must fail (EPERM)
 *   probe-noexec allowed TARGET SCRIPT   every attempt must work (control)
 *   probe-noexec ran                     what the attempts run
 *
 * SCRIPT is a "#!/bin/sh" script (any content): only whether its exec
 * was let through is looked at, through its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static bool want_refused;
static const char *target, *script;
extern char **environ;

/* Each attempt runs in a child: a successful exec replaces it, and its
 * exit status says which way it went (0: the program ran, 100 + errno:
 * the exec failed). */
static void expect(const char *how, pid_t pid)
{
	int status = 0;
	bool ran, refused;

	if (pid < 0) {
		probe_check(how, false, "fork: %s", probe_errno_name(errno));
		return;
	}
	waitpid(pid, &status, 0);
	ran = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	refused = WIFEXITED(status) && WEXITSTATUS(status) == 100 + EPERM;
	if (want_refused)
		probe_check(
		    how, refused, "%s",
		    ran ? "the program RAN"
		    : refused
			? "EPERM"
			: (WIFEXITED(status) && WEXITSTATUS(status) > 100
			       ? probe_errno_name(WEXITSTATUS(status) - 100)
			       : "ended otherwise"));
	else
		probe_check(how, ran, "%s",
			    ran ? "ran" : "did not run (control failed)");
}

static _Noreturn void failed(void)
{
	_exit(100 + (errno > 0 && errno < 100 ? errno : 99));
}

static void do_execve(void)
{
	char *argv[] = {(char *)target, (char *)"ran", NULL};

	execve(target, argv, environ);
	failed();
}

static void do_execveat(void)
{
	char *argv[] = {(char *)target, (char *)"ran", NULL};
	int fd = open(target, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		_exit(99);
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	failed();
}

static void do_memfd(void)
{
	char *argv[] = {(char *)"memfd", (char *)"ran", NULL};
	char buf[65536];
	int in = open(target, O_RDONLY | O_CLOEXEC);
	int fd = memfd_create("copy", 0);
	ssize_t n;

	if (in < 0 || fd < 0)
		_exit(99);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			_exit(99);
	fexecve(fd, argv, environ);
	failed();
}

static void do_script(void)
{
	char *argv[] = {(char *)script, NULL};

	execve(script, argv, environ);
	failed();
}

/* A grandchild of the attempt's child: exec from a forked process. */
static void do_fork(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		do_execve();
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		_exit(98);
	_exit(WEXITSTATUS(status));
}

static void *thread_exec(void *arg)
{
	(void)arg;
	do_execve();
	return NULL;
}

/* execve from a second thread: on success it replaces the whole
 * process; on failure the thread exits the process with the errno. */
static void do_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_exec, NULL) != 0)
		_exit(97);
	pthread_join(t, NULL);
	_exit(96);
}

static pid_t attempt(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0)
		fn();
	return pid;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "ran") == 0)
		return 0;
	probe_begin("noexec", 1);
	if (argc != 4 || (strcmp(argv[1], "refused") != 0 &&
			  strcmp(argv[1], "allowed") != 0)) {
		probe_check("usage", false,
			    "probe-noexec refused|allowed TARGET SCRIPT");
		return probe_end();
	}
	want_refused = strcmp(argv[1], "refused") == 0;
	target = argv[2];
	script = argv[3];
	expect("execve", attempt(do_execve));
	expect("execveat-empty-path", attempt(do_execveat));
	expect("memfd-fexecve", attempt(do_memfd));
	expect("shebang-script", attempt(do_script));
	expect("from-forked-child", attempt(do_fork));
	expect("from-thread", attempt(do_thread));
	return probe_end();
}
