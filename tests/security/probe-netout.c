/*
 * --net outbound, from inside a sandbox (test-netout.c sets the scene:
 * a server in a network namespace of the test's, reached through the
 * host, and listeners on the host's loopback).
 *
 *   probe-netout out ADDR TCPPORT UDPPORT
 *       a TCP connection to ADDR:TCPPORT reads the server's greeting,
 *       and a UDP datagram to ADDR:UDPPORT comes back echoed: outbound
 *       works; the sandbox's own loopback works too
 *   probe-netout hostlo PORT
 *       the host listens on 127.0.0.1:PORT and [::1]:PORT (TCP); none of
 *       127.0.0.1, ::1, the default gateway, nor the sandbox's address on
 *       its interface reaches it (each attempt is refused, unreachable
 *       or times out; the test also checks the host side saw nothing)
 *   probe-netout listen PORT
 *       listens on 0.0.0.0:PORT (TCP), prints READY, and checks that no
 *       connection arrives while the test tries to connect in from
 *       outside; the test closes stdin when it is done
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

#define WAIT_MS 3000

/* connect() with a deadline: 0, or the errno (ETIMEDOUT for silence). */
static int connect_to(const struct sockaddr *sa, socklen_t len, int *ret_fd)
{
	int fd = socket(sa->sa_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd p = {.events = POLLOUT};
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return errno;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return err;
	}
	p.fd = fd;
	if (poll(&p, 1, WAIT_MS) != 1) {
		close(fd);
		return ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err || !ret_fd) {
		close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

static struct sockaddr_in in4(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, addr, &a.sin_addr);
	return a;
}

static bool read_with_deadline(int fd, char *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, WAIT_MS) != 1)
		return false;
	n = read(fd, buf, len - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

static void check_tcp_out(const char *addr, int port)
{
	struct sockaddr_in a = in4(addr, port);
	char buf[64] = "";
	int fd = -1, err = connect_to((struct sockaddr *)&a, sizeof(a), &fd);

	probe_check("tcp_out_connects", err == 0, "%s:%d: %s", addr, port,
		    err ? probe_errno_name(err) : "connected");
	if (err)
		return;
	probe_check("tcp_out_reads",
		    read_with_deadline(fd, buf, sizeof(buf)) &&
			strncmp(buf, "hello", 5) == 0,
		    "got '%.20s'", buf);
	close(fd);
}

static void check_udp_out(const char *addr, int port)
{
	struct sockaddr_in a = in4(addr, port);
	char buf[64] = "";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	/* The first datagram may race the flow's set-up: try a few. */
	for (int i = 0; i < 5 && fd >= 0 && !ok; i++) {
		if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&a,
			   sizeof(a)) != 4)
			break;
		ok = read_with_deadline(fd, buf, sizeof(buf)) &&
		     strcmp(buf, "ping") == 0;
	}
	probe_check("udp_out_echoes", ok, "%s:%d: '%.20s'", addr, port, buf);
	if (fd >= 0)
		close(fd);
}

/* The sandbox's own loopback: a listener on 127.0.0.1 it can reach. */
static void check_own_loopback(void)
{
	struct sockaddr_in a = in4("127.0.0.1", 0);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fd = -1, err = -1;

	if (l >= 0 && bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    listen(l, 1) == 0 &&
	    getsockname(l, (struct sockaddr *)&a, &len) == 0)
		err = connect_to((struct sockaddr *)&a, sizeof(a), &fd);
	probe_check("own_loopback", err == 0, "%s",
		    err == 0 ? "connected" : probe_errno_name(err));
	if (fd >= 0)
		close(fd);
	if (l >= 0)
		close(l);
}

/* The default gateway and the interface's address, from /proc/net. */
static bool gateway(char *gw, size_t len)
{
	char buf[4096], *line;
	unsigned dest, g;

	if (probe_read_file("/proc/net/route", buf, sizeof(buf)) <= 0)
		return false;
	for (line = strchr(buf, '\n'); line; line = strchr(line + 1, '\n'))
		if (sscanf(line + 1, "%*s %x %x", &dest, &g) == 2 &&
		    dest == 0) {
			struct in_addr a = {.s_addr = g};

			return inet_ntop(AF_INET, &a, gw, (socklen_t)len);
		}
	return false;
}

static bool own_address(char *addr, size_t len)
{
	struct sockaddr_in a = in4("192.0.2.123", 9), me;
	socklen_t mlen = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	/* A connected UDP socket sends nothing: it only picks a route. */
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     getsockname(fd, (struct sockaddr *)&me, &mlen) == 0 &&
	     inet_ntop(AF_INET, &me.sin_addr, addr, (socklen_t)len);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void check_unreachable(const char *what, const char *addr, int port)
{
	struct sockaddr_in a = in4(addr, port);
	int err = connect_to((struct sockaddr *)&a, sizeof(a), NULL);

	probe_check(what, err != 0, "%s:%d: %s", addr, port,
		    err ? probe_errno_name(err) : "CONNECTED");
}

static void check_host_loopback(int port)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	char gw[64], me[64];
	int err;

	check_unreachable("host_lo_v4", "127.0.0.1", port);
	err = connect_to((struct sockaddr *)&a6, sizeof(a6), NULL);
	probe_check("host_lo_v6", err != 0, "[::1]:%d: %s", port,
		    err ? probe_errno_name(err) : "CONNECTED");
	if (probe_check("has_gateway", gateway(gw, sizeof(gw)), "%s", "route"))
		check_unreachable("host_via_gateway", gw, port);
	if (probe_check("has_address", own_address(me, sizeof(me)), "%s",
			"interface"))
		check_unreachable("host_via_own_address", me, port);
}

static void listen_for_inbound(int port)
{
	struct sockaddr_in a = in4("0.0.0.0", port);
	int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pollfd p[2] = {{.fd = l, .events = POLLIN},
			      {.fd = 0, .events = POLLIN}};
	bool accepted = false;
	char c;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!probe_check("listens",
			 l >= 0 &&
			     bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 &&
			     listen(l, 8) == 0,
			 "0.0.0.0:%d", port))
		return;
	printf("READY\n");
	fflush(stdout);
	/* Until the test closes stdin: any connection is a failure. */
	for (;;) {
		if (poll(p, 2, -1) < 0)
			break;
		if (p[0].revents) {
			accepted = true;
			break;
		}
		if (p[1].revents && read(0, &c, 1) <= 0)
			break;
	}
	probe_check("nothing_came_in", !accepted, "%s",
		    accepted ? "a connection arrived" : "none");
	close(l);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	probe_begin("netout", 1);
	if (strcmp(mode, "out") == 0 && argc == 5) {
		check_tcp_out(argv[2], atoi(argv[3]));
		check_udp_out(argv[2], atoi(argv[4]));
		check_own_loopback();
	} else if (strcmp(mode, "hostlo") == 0 && argc == 3) {
		check_host_loopback(atoi(argv[2]));
	} else if (strcmp(mode, "listen") == 0 && argc == 3) {
		listen_for_inbound(atoi(argv[2]));
	} else {
		probe_check("usage", false, "%s", mode);
	}
	return probe_end();
}
