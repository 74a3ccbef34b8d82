/*
 * The table of capability names and their sentences. Pure data: nothing
 * here decides whether a host has a capability; the daemon does that
 * where it knows the host and the caller's tenant (daemon/capability.c).
 * A sentence describes the guarantee, not how it is implemented, and
 * must stay true on every host that reports it available.
 */
#include <string.h>

#include "capability-names.h"
#include "util.h"

static const struct capability_info table[] = {
    {"ns:user", "The command runs in a user namespace of its own: its ids "
		"map to one host uid and gid and its privileges reach no "
		"further."},
    {"ns:mnt", "The command sees only the file system the run builds, in a "
	       "mount namespace of its own."},
    {"ns:pid", "The command sees only its own processes, in a pid namespace "
	       "whose pid 1 is the run's init."},
    {"ns:net", "The command has a network namespace of its own unless the "
	       "host's network is asked for."},
    {"ns:ipc", "The command's System V IPC and POSIX message queues are its "
	       "own."},
    {"ns:uts", "The command's hostname is its own."},
    {"ns:cgroup", "The command sees its own cgroup as the root of the "
		  "hierarchy."},
    {"net:none", "The command has no network at all, not even loopback."},
    {"net:loopback", "The command has a private loopback interface and no "
		     "other network."},
    {"net:outbound", "The command has its own network with a private "
		     "loopback and can open TCP and UDP connections out "
		     "through a user-mode network stack; nothing can "
		     "connect in, and the host's loopback services are out "
		     "of reach."},
    {"net:host", "The command shares the host's network: it can reach "
		 "anything the host can."},
    {"seccomp:default", "A seccomp filter refuses system calls a sandbox "
			"has no use for (kernel modules, mounts, "
			"keyrings, tracing other processes...)."},
    {"seccomp:custom", "A seccomp policy given by the caller decides which "
		       "system calls are refused."},
    {"seccomp:none", "No seccomp filter: every system call reaches the "
		     "kernel."},
    {"write:read_only", "Everything bound from the host is read-only; "
			"only the run's own tmpfs mounts are writable."},
    {"write:bind", "Listed host paths are writable: writes there persist "
		   "on the host."},
    {"write:tmpfs", "Listed paths are tmpfs mounts of the run's own: "
		    "writable, and gone when the run ends."},
    {"write:ephemeral", "Every read-only bind becomes a writable overlay "
			"whose writes are discarded when the run ends; the "
			"host is never modified."},
    {"write:overlay", "Listed host directories are writable through an "
		      "overlay whose writes are discarded, or kept in a host "
		      "directory of the caller's; the host copy is never "
		      "modified."},
    {"read:hide", "Listed paths are covered with an empty, inaccessible "
		  "mount: the command cannot read them."},
    {"file", "Files whose content the caller supplies appear read-only in "
	     "the sandbox."},
    {"exec:no_exec", "The command cannot execute another program after it "
		     "starts (fork without exec still works)."},
    {"tty", "The command gets a terminal of the sandbox's own as its "
	    "stdio and controlling terminal."},
    {"limit:memory", "The run's memory is capped; above the cap the "
		     "kernel reclaims or kills inside the run."},
    {"limit:swap", "The run's memory plus swap is capped."},
    {"limit:cpus", "The run's CPU time is throttled to a number of CPUs."},
    {"limit:pids", "The run cannot have more than a number of processes "
		   "and threads at once."},
    {"limit:cpu_time", "The run is killed when its processes together have "
		       "used a given amount of CPU time."},
    {"limit:timeout", "The run is killed when it has been running for a "
		      "given wall-clock time."},
    {"limit:tmpfs_size", "Each tmpfs of the run has a size cap, and all of "
			 "them together stay within the tenant's memory "
			 "ceiling."},
    {"accounting:peak_memory", "The result reports the most memory the run "
			       "used at once."},
};

const struct capability_info *capability_table(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(table);
	return table;
}

const char *capability_describe(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].description;
	return NULL;
}
