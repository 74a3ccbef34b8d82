/*
 * Socket families a network namespace does not confine, from inside a
 * sandbox. AF_VSOCK talks to the hypervisor (CID 2) and to other VMs'
 * services whatever network namespace the caller is in; the default
 * filter refuses it, and every family but unix, inet, inet6 and netlink,
 * with EAFNOSUPPORT unless the run has the host's network.
 *
 *   probe-vsock --refused   every such family fails with EAFNOSUPPORT
 *   probe-vsock --served    AF_VSOCK opens, and a connect to the
 *                           hypervisor gets the kernel's answer, not the
 *                           filter's (the run has the host's network)
 */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

static const struct {
	const char *name;
	int family;
	int type;
} families[] = {
    {"vsock", AF_VSOCK, SOCK_STREAM}, {"packet", AF_PACKET, SOCK_DGRAM},
    {"alg", AF_ALG, SOCK_SEQPACKET},  {"key", AF_KEY, SOCK_RAW},
    {"tipc", AF_TIPC, SOCK_RDM},      {"rds", AF_RDS, SOCK_SEQPACKET},
    {"xdp", AF_XDP, SOCK_RAW},        {"bluetooth", AF_BLUETOOTH, SOCK_RAW},
};

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	probe_begin("vsock", 1);
	if (strcmp(mode, "--served") == 0) {
		struct sockaddr_vm vm = {
		    .svm_family = AF_VSOCK,
		    .svm_cid = VMADDR_CID_HOST,
		    .svm_port = 9,
		};
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err = errno;

		probe_check("vsock_opens", fd >= 0, "socket(AF_VSOCK): %s",
			    fd >= 0 ? "ok" : probe_errno_name(err));
		if (fd >= 0) {
			int r = connect(fd, (struct sockaddr *)&vm, sizeof(vm));

			probe_info("vsock_connect_cid2", "%s",
				   r == 0 ? "connected"
					  : probe_errno_name(errno));
			close(fd);
		}
		return probe_end();
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int fd = socket(families[i].family,
				families[i].type | SOCK_CLOEXEC, 0);
		int err = errno;

		probe_check(families[i].name, fd < 0 && err == EAFNOSUPPORT,
			    "socket(%d): %s", families[i].family,
			    fd >= 0 ? "opened" : probe_errno_name(err));
		if (fd >= 0)
			close(fd);
	}
	return probe_end();
}
