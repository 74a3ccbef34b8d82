/*
 * Connects to the daemon's socket from inside a sandbox (the caller bound
 * its directory in) and sends a protocol Hello. In private uid mode the
 * sandbox runs as a host uid from the private range, which no tenant
 * section names: if the daemon accepted it, it would get the [default]
 * policy, not its tenant's ceilings, and could start runs of its own
 * outside them. The daemon must refuse such a peer at the handshake.
 *
 *   probe-connect SOCKET
 *
 * The Hello is written by hand (Request{hello: Hello{versions: [1]}});
 * the answer's first tag tells HelloReply (field 1) from Error (field 5).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

#define TAG_HELLO_REPLY 0x0a /* field 1, length-delimited */
#define TAG_ERROR 0x2a       /* field 5, length-delimited */

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n <= 0)
			return n < 0 ? -errno : (ssize_t)done;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int main(int argc, char **argv)
{
	static const uint8_t hello[] = {4, 0, 0, 0, 0x0a, 0x02, 0x08, 0x01};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t head[5];
	ssize_t n;
	int fd;

	probe_begin("connect", 1);
	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		probe_check("usage", false, "probe-connect SOCKET");
		return probe_end();
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* Unreachable is as good as refused. */
		probe_check("daemon_refuses", true, "connect %s: %s", argv[1],
			    probe_errno_name(errno));
		return probe_end();
	}
	if (write(fd, hello, sizeof(hello)) != (ssize_t)sizeof(hello)) {
		probe_check("daemon_refuses", true, "write: %s",
			    probe_errno_name(errno));
		return probe_end();
	}
	n = read_full(fd, head, sizeof(head));
	if (n < (ssize_t)sizeof(head)) {
		probe_check("daemon_refuses", true, "connection closed (%zd)",
			    n);
		return probe_end();
	}
	probe_info("answer_tag", "%#x", head[4]);
	probe_check("daemon_refuses", head[4] != TAG_HELLO_REPLY,
		    "the daemon answered the handshake with %s",
		    head[4] == TAG_HELLO_REPLY ? "a HelloReply (accepted)"
		    : head[4] == TAG_ERROR     ? "an Error"
					       : "something else");
	return probe_end();
}
