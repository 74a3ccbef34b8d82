/*
 * --net outbound, attacked (docs/security.md, "Outbound network"). The
 * machine has no outside network, so the test makes its own: a network
 * namespace joined to the host by a veth pair on addresses the test owns
 * (10.231.<n>.0/30), with a TCP greeter and a UDP echo server in it. A
 * sandbox must reach them through pasta; nothing may connect into the
 * sandbox from the server's side or from the host; the host's loopback
 * listeners must see nothing from the sandbox; pasta must run as the
 * caller inside the sandbox's user namespace and go with the run; a
 * daemon without pasta, or a tenant without the right, refuses the mode
 * with the reason.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec.h"

#define PASTA "/usr/bin/pasta"
#define TCP_PORT 7301
#define UDP_PORT 7302
#define IN_PORT 7303
#define HOSTLO_PORT 7304

static struct daemon d;
static char ns_name[32], veth[16], host_addr[32], srv_addr[32];
static pid_t server = -1;

/* ---- the test's own network ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void net_down(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (ns_name[0]) {
		/* The veth pair goes with the namespace. */
		sh("ip netns del %s 2>/dev/null", ns_name);
		ns_name[0] = 0;
	}
}

static void teardown(void)
{
	net_down();
	daemon_stop(&d);
	sec_cleanup();
}

#define skip_test(...)                     \
	do {                               \
		teardown();                \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

/*
 * The test VM (tests/vm, BOXD_VM=1) is thrown away after the run: give it
 * what a Debian host has and it lacks (a default route for pasta to copy,
 * the tun module loaded and its node everyone's, as udev makes it)
 * rather than skip. Never done on a real host.
 */
static void vm_network(void)
{
	const char *vm = getenv("BOXD_VM");

	if (!vm || strcmp(vm, "1") != 0)
		return;
	if (sh("ip -4 route show default | grep -q .") != 0)
		sh("ip link add bxvm0 type dummy 2>/dev/null; "
		   "ip addr add 198.51.100.2/24 dev bxvm0 2>/dev/null; "
		   "ip link set bxvm0 up; "
		   "ip route add default via 198.51.100.1 2>/dev/null");
	sh("modprobe -q tun; chmod 0666 /dev/net/tun 2>/dev/null");
}

/* What the mode needs and this machine may lack: skip, saying which. */
static void require_outbound_host(void)
{
	struct stat st;

	require_root();
	vm_network();
	if (stat(PASTA, &st) < 0)
		skip_test(PASTA " is missing (Debian package passt): "
				"--net outbound cannot be tested");
	if (sh("command -v ip >/dev/null") != 0)
		skip_test("ip (iproute2) is missing: cannot build the test's "
			  "network");
	if (sh("ip -4 route show default | grep -q .") != 0)
		skip_test("the host has no IPv4 default route: pasta has no "
			  "interface to copy for the sandbox");
}

/*
 * A resolver for one name: DNS_NAME has the A record DNS_ADDR; every
 * other question gets an empty NOERROR answer. Enough for getaddrinfo:
 * the question is echoed, EDNS and the rest dropped.
 */
#define DNS_NAME "boxd-test.example"
#define DNS_ADDR "10.231.255.7"

static size_t dns_answer(uint8_t *m, size_t n, size_t cap)
{
	static const uint8_t want[] = "\x09"
				      "boxd-test"
				      "\x07"
				      "example";
	size_t q = 12, end;
	bool a_record;

	if (n < 17 || (m[2] & 0x80))
		return 0;
	while (q < n && m[q])
		q += (size_t)m[q] + 1;
	end = q + 5; /* the root label, type, class */
	if (end > n || end + 16 > cap)
		return 0;
	a_record =
	    q - 12 == sizeof(want) - 1 &&
	    strncasecmp((char *)m + 12, (const char *)want, q - 12) == 0 &&
	    m[q + 1] == 0 && m[q + 2] == 1;
	m[2] = 0x81; /* response, recursion desired */
	m[3] = 0x80; /* recursion available, NOERROR */
	m[6] = m[8] = m[9] = m[10] = m[11] = 0;
	m[7] = a_record;
	if (!a_record)
		return end;
	memcpy(m + end, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
	inet_pton(AF_INET, DNS_ADDR, m + end + 12);
	return end + 16;
}

static void echo_datagram(int fd, bool dns)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	uint8_t buf[512];
	ssize_t n =
	    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	size_t out = n > 0 ? (size_t)n : 0;

	if (dns && out)
		out = dns_answer(buf, out, sizeof(buf));
	if (out)
		sendto(fd, buf, out, 0, (struct sockaddr *)&from, len);
}

static void serve(int tcp, int udp, int dns)
{
	struct pollfd p[3] = {{.fd = tcp, .events = POLLIN},
			      {.fd = udp, .events = POLLIN},
			      {.fd = dns, .events = POLLIN}};

	for (;;) {
		if (poll(p, 3, -1) < 0)
			continue;
		if (p[0].revents) {
			int c = accept(tcp, NULL, NULL);

			if (c >= 0) {
				(void)!write(c, "hello\n", 6);
				close(c);
			}
		}
		if (p[1].revents)
			echo_datagram(udp, false);
		if (p[2].revents)
			echo_datagram(dns, true);
	}
}

static int bound_socket(int type, const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, addr, &a.sin_addr);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Enter the test's namespace (in a child: the test process stays). */
static int enter_ns(void)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

static void net_up(void)
{
	int n = (int)(getpid() % 200) + 20, ready[2];
	char c;

	snprintf(ns_name, sizeof(ns_name), "boxd-test-net%d", (int)getpid());
	snprintf(veth, sizeof(veth), "bxo%d", (int)getpid() % 1000000);
	snprintf(host_addr, sizeof(host_addr), "10.231.%d.1", n);
	snprintf(srv_addr, sizeof(srv_addr), "10.231.%d.2", n);
	cr_assert(sh("ip netns add %s", ns_name) == 0);
	cr_assert(sh("ip link add %sh type veth peer name %ss netns %s", veth,
		     veth, ns_name) == 0);
	cr_assert(sh("ip addr add %s/30 dev %sh && ip link set %sh up",
		     host_addr, veth, veth) == 0);
	cr_assert(sh("ip -n %s addr add %s/30 dev %ss && ip -n %s link set "
		     "%ss up && ip -n %s link set lo up",
		     ns_name, srv_addr, veth, ns_name, veth, ns_name) == 0);

	cr_assert(pipe(ready) == 0);
	server = fork();
	cr_assert(server >= 0);
	if (server == 0) {
		int tcp, udp, dns;

		close(ready[0]);
		if (enter_ns() < 0)
			_exit(1);
		tcp = bound_socket(SOCK_STREAM, srv_addr, TCP_PORT);
		udp = bound_socket(SOCK_DGRAM, srv_addr, UDP_PORT);
		dns = bound_socket(SOCK_DGRAM, srv_addr, 53);
		if (tcp < 0 || udp < 0 || dns < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		close(ready[1]);
		serve(tcp, udp, dns);
	}
	close(ready[1]);
	cr_assert(read(ready[0], &c, 1) == 1,
		  "the test's server did not start");
	close(ready[0]);
}

static void setup(void)
{
	require_outbound_host();
	net_up();
	daemon_start(&d, NULL, NULL);
}

TestSuite(netout, .init = setup, .fini = teardown, .timeout = 240);

static box_spec *netout_spec(const char *const *args)
{
	box_spec *s = sec_spec("probe-netout", args);

	cr_assert(box_spec_set_net(s, BOX_NET_OUTBOUND) >= 0);
	return s;
}

static void expect_probe_passes(box_client *c, const char *const *args)
{
	box_spec *s = netout_spec(args);

	sec_run_expect_pass(c, s);
	box_spec_free(s);
}

Test(netout, connects_out_through_pasta)
{
	char tcp[8], udp[8];
	const char *args[] = {"out", srv_addr, tcp, udp, NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);

	snprintf(tcp, sizeof(tcp), "%d", TCP_PORT);
	snprintf(udp, sizeof(udp), "%d", UDP_PORT);
	expect_probe_passes(c, args);
	box_client_free(c);
}

/* Names resolve through a resolver outside (the test's, named by the
 * run's own /etc/resolv.conf): the query goes out as UDP like any other
 * datagram. */
Test(netout, resolves_names)
{
	const char *const argv[] = {"getent", "ahostsv4", DNS_NAME, NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = spec_argv(argv);
	char conf[64], *out, *err;
	box_run *run;

	snprintf(conf, sizeof(conf), "nameserver %s\n", srv_addr);
	cr_assert(box_spec_set_net(s, BOX_NET_OUTBOUND) >= 0);
	cr_assert(box_spec_add_file(s, "/etc/resolv.conf", conf, strlen(conf),
				    0644) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert(box_run_exit_status(run) == 0, "getent: %s %s", out, err);
	cr_assert(strstr(out, DNS_ADDR), "%s", out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* The control: without outbound the same probe cannot reach the server,
 * so the test above is not passing on a network the sandbox always has. */
Test(netout, loopback_mode_does_not_reach_the_server)
{
	char tcp[8], udp[8];
	const char *args[] = {"out", srv_addr, tcp, udp, NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s = sec_spec("probe-netout", args);
	char *out, *err;
	box_run *run;

	snprintf(tcp, sizeof(tcp), "%d", TCP_PORT);
	snprintf(udp, sizeof(udp), "%d", UDP_PORT);
	cr_assert(box_spec_set_net(s, BOX_NET_LOOPBACK) >= 0);
	run = sec_run(c, s, &out, &err);
	cr_assert(strstr(out, "CHECK tcp_out_connects FAIL"), "%s", out);
	cr_assert(strstr(out, "CHECK own_loopback OK"), "%s", out);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* A listener of the host's, and nothing in its queue afterwards. */
static int host_listener(int family, int port)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert(bind(fd,
		       family == AF_INET ? (struct sockaddr *)&a4
					 : (struct sockaddr *)&a6,
		       family == AF_INET ? sizeof(a4) : sizeof(a6)) == 0,
		  "bind host loopback port %d: %s", port, strerror(errno));
	cr_assert(listen(fd, 8) == 0);
	return fd;
}

static bool nothing_queued(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 0;
}

Test(netout, host_loopback_is_out_of_reach)
{
	char port[8];
	const char *args[] = {"hostlo", port, NULL};
	int l4 = host_listener(AF_INET, HOSTLO_PORT);
	int l6 = host_listener(AF_INET6, HOSTLO_PORT);
	box_client *c = connect_as(&d, NOBODY, NOBODY);

	snprintf(port, sizeof(port), "%d", HOSTLO_PORT);
	expect_probe_passes(c, args);
	cr_assert(nothing_queued(l4), "the host's 127.0.0.1 listener got a "
				      "connection from the sandbox");
	cr_assert(nothing_queued(l6), "the host's ::1 listener got a "
				      "connection from the sandbox");
	close(l4);
	close(l6);
	box_client_free(c);
}

/* connect() from the test's namespace (in_ns) or the host, 3 s at most:
 * true if it connected. */
static bool connects(bool in_ns, const char *addr, int port)
{
	pid_t pid = fork();
	int st;

	cr_assert(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)port)};
		int fd;

		alarm(3);
		if (in_ns && enter_ns() < 0)
			_exit(2);
		inet_pton(AF_INET, addr, &a.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		_exit(fd >= 0 &&
			      connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0
			  ? 0
			  : 1);
	}
	cr_assert(waitpid(pid, &st, 0) == pid);
	cr_assert(!WIFEXITED(st) || WEXITSTATUS(st) != 2,
		  "cannot enter the test's namespace");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* pasta of the held run: a child of the daemon whose argv[0] is pasta. */
static pid_t find_pasta(void)
{
	pid_t kids[64];
	int n = children_of(d.pid, kids, 64);

	for (int i = 0; i < n; i++) {
		char path[64], *cmd;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kids[i]);
		cmd = sec_read_file(path);
		if (cmd && strcmp(cmd, "pasta") == 0) {
			free(cmd);
			return kids[i];
		}
		free(cmd);
	}
	return -1;
}

static unsigned long ns_inode(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	return stat(path, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

Test(netout, nothing_connects_in_and_pasta_is_the_callers)
{
	char port[8];
	const char *args[] = {"listen", port, NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s;
	struct sec_bg bg;
	char *out, *err;
	pid_t pasta, cmd;

	snprintf(port, sizeof(port), "%d", IN_PORT);
	s = netout_spec(args);
	sec_bg_start(&bg, c, s);

	/* The control: the same attempt reaches a real listener. */
	cr_assert(connects(true, srv_addr, TCP_PORT));
	cr_assert(connects(false, srv_addr, TCP_PORT));
	/* From the server's side of the wire, and from the host; again and
	 * again for a few seconds, so that a forwarder that notices bound
	 * ports periodically (pasta's "-t auto") would have had its turn. */
	for (int i = 0; i < 30; i++) {
		cr_assert(!connects(true, host_addr, IN_PORT),
			  "the test's namespace connected into the sandbox");
		cr_assert(!connects(false, "127.0.0.1", IN_PORT),
			  "the host's loopback connected into the sandbox");
		cr_assert(!connects(false, host_addr, IN_PORT),
			  "the host connected into the sandbox");
		usleep(100000);
	}

	/* pasta: the caller's uid, the sandbox's user namespace (so its
	 * capabilities reach no further), not the daemon's. */
	pasta = find_pasta();
	cmd = sec_bg_command_pid(&bg);
	cr_assert(pasta > 0, "no pasta among the daemon's children");
	cr_expect(sec_host_uid(pasta) == NOBODY, "pasta runs as uid %u",
		  (unsigned)sec_host_uid(pasta));
	cr_expect(ns_inode(pasta, "user") == ns_inode(cmd, "user"),
		  "pasta is not in the sandbox's user namespace");
	cr_expect(ns_inode(pasta, "user") != ns_inode(1, "user"),
		  "pasta runs in the host's user namespace");
	cr_expect(ns_inode(pasta, "pid") != ns_inode(cmd, "pid"),
		  "pasta is visible in the sandbox's pid namespace");

	sec_bg_finish(&bg, &out, &err);
	sec_expect_pass(bg.run, out, err);
	/* And it went with the run. */
	for (int i = 0; i < TEST_PATIENCE_MS / 10 && kill(pasta, 0) == 0; i++)
		usleep(10000);
	cr_expect(kill(pasta, 0) < 0, "pasta outlived its run");
	free(out);
	free(err);
	box_run_free(bg.run);
	box_spec_free(s);
	box_client_free(c);
}

/* pasta shares the run's memory: a limit it cannot fit in is refused
 * up front, and the smallest one allowed still carries the traffic. */
Test(netout, memory_floor)
{
	char tcp[8], udp[8];
	const char *args[] = {"out", srv_addr, tcp, udp, NULL};
	const char *const needles[] = {"below 48M cannot hold it", NULL};
	box_client *c = connect_as(&d, NOBODY, NOBODY);
	box_spec *s;
	char *out, *err;
	box_run *run;

	if (strcmp(d.cgroup_mode, "none") == 0)
		skip_test("no cgroups here: no memory limit to test");
	snprintf(tcp, sizeof(tcp), "%d", TCP_PORT);
	snprintf(udp, sizeof(udp), "%d", UDP_PORT);
	s = netout_spec(args);
	cr_assert(box_spec_set_memory(s, (48u << 20) - (1u << 20)) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, BOX_ERROR_BAD_REQUEST, needles);
	free(out);
	free(err);
	box_run_free(run);

	cr_assert(box_spec_set_memory(s, 48u << 20) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_pass(run, out, err);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

/* Runs in a row: each gets its own pasta, and none is left behind. */
Test(netout, each_run_its_own_pasta_none_left)
{
	char tcp[8], udp[8];
	const char *args[] = {"out", srv_addr, tcp, udp, NULL};
	box_client *c = connect_root(&d);

	snprintf(tcp, sizeof(tcp), "%d", TCP_PORT);
	snprintf(udp, sizeof(udp), "%d", UDP_PORT);
	for (int i = 0; i < 5; i++)
		expect_probe_passes(c, args);
	for (int i = 0; i < TEST_PATIENCE_MS / 10 && find_pasta() > 0; i++)
		usleep(10000);
	cr_assert(find_pasta() < 0, "a pasta is left after its run ended");
	box_client_free(c);
}

static void expect_refused(const struct daemon *dd, uid_t uid,
			   enum box_error_code code, const char *needle)
{
	const char *const needles[] = {needle, NULL};
	box_client *c = connect_as(dd, uid, uid);
	box_spec *s = spec_argv((const char *const[]){"/bin/true", NULL});
	char *out, *err;
	box_run *run;

	cr_assert(box_spec_set_net(s, BOX_NET_OUTBOUND) >= 0);
	run = sec_run(c, s, &out, &err);
	sec_expect_error(run, code, needles);
	free(out);
	free(err);
	box_run_free(run);
	box_spec_free(s);
	box_client_free(c);
}

Test(netout, refused_where_pasta_is_missing)
{
	const char *const extra[] = {"--pasta", "/nonexistent/pasta", NULL};
	char *out = NULL, *line;

	daemon_stop(&d);
	daemon_start(&d, extra, NULL);
	expect_refused(&d, 0, BOX_ERROR_UNSUPPORTED, "/nonexistent/pasta");
	/* status lists it only where a run could get it */
	cr_assert(boxctl_shell(&d, "status", false, &out) == 0);
	line = strstr(out, "networks:");
	cr_assert(line, "%s", out);
	*strchrnul(line, '\n') = 0;
	cr_assert(strstr(line, "loopback") && !strstr(line, "outbound"), "%s",
		  line);
	free(out);
	cr_assert(boxctl_shell(&d, "status", false, &out) == 0);
	/* "net:outbound  no  <sentence>", then "not here: <reason>" */
	line = strstr(out, "net:outbound");
	cr_assert(line, "%s", out);
	cr_assert(strncmp(line + 23, "no ", 3) == 0, "%s", line);
	line = strchr(line, '\n');
	cr_assert(line && strstr(line, "not here: "), "%s", out);
	*strchrnul(line + 1, '\n') = 0;
	cr_assert(strstr(line, "/nonexistent/pasta"), "%s", line);
	free(out);
}

Test(netout, refused_by_tenant_policy)
{
	daemon_stop(&d);
	daemon_start(&d, NULL, "[default]\nnet-outbound = no\n");
	expect_refused(&d, NOBODY, BOX_ERROR_DENIED,
		       "may not use outbound network");
}
