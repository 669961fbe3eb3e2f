/*
 * terminal.c — pseudo-terminals, and passing fds between processes.
 *
 * A pty is a pair: the master, held by whoever plays the keyboard and
 * screen, and the slave, which the program sees as its terminal. Opening
 * /dev/ptmx creates a pair in that devpts instance; the slave starts locked
 * and is unlocked with TIOCSPTLCK. The container opens its pty inside its
 * own devpts (after pivot_root), makes the slave its controlling terminal
 * and stdio, and hands the master out over a unix socket (SCM_RIGHTS): to
 * the monitor, which either forwards it to a console socket (as runc's
 * --console-socket) or relays its own stdin/stdout through it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

int fd_send(int sock, const void *data, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof u);
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Receive one message; *fd gets a passed fd (close-on-exec) or -1. */
ssize_t fd_recv(int sock, void *data, size_t len, int *fd, int flags)
{
	struct iovec iov = { .iov_base = data, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof u.buf,
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	for (c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

/* In the container: new session, new pty, slave as terminal and stdio. */
int term_create(int sync, struct berr *err)
{
	cleanup_close int master = -1;
	cleanup_close int slave = -1;
	int unlock = 0;

	if (setsid() < 0)
		return make_error(err, errno, "setsid");
	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return make_error(err, errno, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return make_error(err, errno, "unlock the pty of /dev/ptmx");
	/* TIOCGPTPEER opens the slave through the master, so it cannot be
	 * confused with another devpts's /dev/pts/N; older kernels (before
	 * 4.13) lack it, and there the slave is opened by its name. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0 && (errno == EINVAL || errno == ENOTTY)) {
		unsigned int n;
		char path[32];

		if (ioctl(master, TIOCGPTN, &n) < 0)
			return make_error(err, errno, "TIOCGPTN on /dev/ptmx");
		snprintf(path, sizeof path, "/dev/pts/%u", n);
		slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	}
	if (slave < 0)
		return make_error(err, errno, "open the slave of /dev/ptmx");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return make_error(err, errno, "make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return make_error(err, errno, "dup the pty to fd %d", fd);
	if (sync_send(sync, SYNC_TERMINAL, master) < 0)
		return make_error(err, errno, "send the pty master to the monitor");
	return 0;
}

/* In the monitor: pass the master on to a console socket, as runc does. */
int term_send_console(const char *path, int master, struct berr *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static const char name[] = "/dev/ptmx";

	if (sock < 0)
		return make_error(err, errno, "socket for %s", path);
	if (strlen(path) >= sizeof addr.sun_path)
		return make_error(err, ENAMETOOLONG, "%s", path);
	strcpy(addr.sun_path, path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
		return make_error(err, errno, "connect to %s", path);
	if (fd_send(sock, name, sizeof name - 1, master) < 0)
		return make_error(err, errno, "send the pty master to %s", path);
	return 0;
}

static struct termios saved_termios;

/* Raw mode on the user's terminal while relaying: every key goes to the
 * container as typed, and the container's own pty does the echo. */
bool term_make_raw(int fd)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, &saved_termios) < 0)
		return false;
	raw = saved_termios;
	cfmakeraw(&raw);
	return tcsetattr(fd, TCSANOW, &raw) == 0;
}

void term_restore(int fd)
{
	tcsetattr(fd, TCSANOW, &saved_termios);
}

/* The container's window follows the user's; the kernel then sends
 * SIGWINCH to the pty's foreground process group itself. */
void term_copy_size(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Copy what is readable now: the bytes copied, -1 when nothing is (on a
 * non-blocking fd), 0 at the end. A master reads EIO once every slave fd
 * is closed: that is its end of input. */
ssize_t term_copy(int from, int to)
{
	char buf[4096];
	ssize_t n;

	do
		n = read(from, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -1;
	if (n <= 0)
		return 0;
	if (write_all(to, buf, n) < 0)
		return 0;
	return n;
}
