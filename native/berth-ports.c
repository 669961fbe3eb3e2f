/*
 * berth-ports: hold a container's published host ports while it runs.
 *
 *   berth-ports PID PROTO:ADDRESS:FIRST-LAST...
 *
 * For each argument it binds (and for TCP listens on) the first free port
 * of FIRST..LAST on ADDRESS (0-0: any port the kernel picks), so that no
 * other program can take a port the firewall sends to the container. It
 * prints one line "PROTO:ADDRESS:PORT" per argument and then "ok", closes
 * its output, and stays until process PID (the container's init) ends,
 * which it learns from a pidfd: the ports are freed with the container even
 * if nobody cleans up after it. Traffic never reaches these sockets: the
 * kernel DNATs it to the container first. No policy here; the engine says
 * which ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int hold(const char *spec, char *chosen, size_t chosen_len)
{
	char proto[8], address[64];
	unsigned first, last;
	if (sscanf(spec, "%7[a-z]:%63[0-9.]:%u-%u", proto, address, &first, &last) != 4 || first > last || last > 65535) {
		fprintf(stderr, "berth-ports: bad port spec %s\n", spec);
		return -1;
	}
	int udp = strcmp(proto, "udp") == 0;
	if (!udp && strcmp(proto, "tcp") != 0) {
		fprintf(stderr, "berth-ports: bad protocol in %s\n", spec);
		return -1;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
		fprintf(stderr, "berth-ports: bad address in %s\n", spec);
		return -1;
	}
	int err = 0;
	for (unsigned port = first; port <= last; port++) {
		int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		sa.sin_port = htons((unsigned short)port);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && (udp || listen(fd, 1) == 0)) {
			socklen_t len = sizeof sa;
			getsockname(fd, (struct sockaddr *)&sa, &len);
			snprintf(chosen, chosen_len, "%s:%s:%u", proto, address, ntohs(sa.sin_port));
			return 0; /* the socket stays open: that is the reservation */
		}
		err = errno;
		close(fd);
	}
	if (first == last)
		fprintf(stderr, "%s %s:%u: %s\n", proto, address, first, strerror(err));
	else
		fprintf(stderr, "%s %s:%u-%u: %s\n", proto, address, first, last, strerror(err));
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: berth-ports PID PROTO:ADDRESS:FIRST-LAST...\n");
		return 2;
	}
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[1]), 0);
	if (pidfd < 0) {
		fprintf(stderr, "berth-ports: process %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	char chosen[96];
	for (int i = 2; i < argc; i++) {
		if (hold(argv[i], chosen, sizeof chosen) < 0)
			return 1;
		printf("%s\n", chosen);
	}
	printf("ok\n");
	fflush(stdout);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	return 0;
}
