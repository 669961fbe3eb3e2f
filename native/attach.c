/*
 * attach.c — the attach socket: a unix stream socket on which clients see
 * the container's output as it happens and feed its stdin.
 *
 * monitor -> client: Docker's stdcopy frames, [stream, 0, 0, 0, len:u32 BE]
 *   then len bytes; stream 1 stdout, 2 stderr (1 for a terminal), and last
 *   one frame of stream 3 holding the exit line, before the monitor closes
 *   the connection because the container ended.
 * client -> monitor: [type:u8, len:u32 BE] then len bytes; type 0 stdin
 *   bytes, 1 close stdin, 2 resize (rows:u16 BE, cols:u16 BE).
 *
 * Writes to clients block (a slow client slows the container's output, as
 * a slow terminal would); a client that went away is dropped on EPIPE or
 * ECONNRESET and never ends the monitor (SIGPIPE is ignored, MSG_NOSIGNAL).
 * A client that takes nothing for CLIENT_STALL_SECONDS (a stopped `attach`,
 * ctrl-z) is dropped too: it must not hold the container's output, nor its
 * exit status, for ever.
 *
 * Stdin never blocks the monitor: the container may be blocked writing
 * output the monitor must read. Bytes for stdin wait in one small buffer
 * while the container's stdin is full; meanwhile no client is read.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>

#include "plan.h"

#define ATTACH_MAX 16
#define CLIENT_STALL_SECONDS 10

enum { FRAME_STDIN = 0, FRAME_CLOSE_STDIN = 1, FRAME_RESIZE = 2 };

struct client {
	int fd;			/* -1: free slot */
	uint8_t hdr[5];
	uint8_t have;		/* header bytes read */
	uint8_t ctl[4];		/* a control frame's payload */
	uint8_t ctl_len;
	uint32_t left;		/* payload bytes still to come */
	bool sent_stdin;
};

static struct client clients[ATTACH_MAX] = {
	[0 ... ATTACH_MAX - 1] = { .fd = -1 },
};
static int listen_fd = -1;
static char *socket_path;

static int stdin_fd = -1;	/* a pipe's write end, or the pty master */
static int term_fd = -1;	/* the pty master, for resizes */
static bool stdin_once;
static struct winsize want_size;	/* a resize that came before the pty */
static bool size_wanted;

static char pending[8192];	/* stdin bytes the container has yet to take */
static size_t pending_off, pending_len;
static bool close_after_pending;

/* Where the poll slots attach_pollfds() filled point. */
enum slot { SLOT_LISTEN = -1, SLOT_STDIN = -2 };
static int slots[ATTACH_MAX + 2];
static int nslots;

int attach_listen(const char *path, struct berr *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof addr.sun_path)
		return make_error(err, ENAMETOOLONG, "%s (a socket path has at most %zu bytes)",
				  path, sizeof addr.sun_path - 1);
	strcpy(addr.sun_path, path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return make_error(err, errno, "socket for %s", path);
	/* A socket left by a monitor that died would make bind fail. */
	if (unlink(path) < 0 && errno != ENOENT)
		return make_error(err, errno, "unlink %s", path);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return make_error(err, errno, "bind %s", path);
	socket_path = xstrdup(path);
	if (chmod(path, 0600) < 0)
		return make_error(err, errno, "chmod %s", path);
	if (listen(listen_fd, ATTACH_MAX) < 0)
		return make_error(err, errno, "listen on %s", path);
	return 0;
}

void attach_set_stdin(int fd, bool once)
{
	stdin_fd = fd;
	stdin_once = once;
	if (fd < 0)
		pending_off = pending_len = 0;
}

void attach_set_terminal(int fd)
{
	term_fd = fd;
	if (fd >= 0 && size_wanted)
		ioctl(fd, TIOCSWINSZ, &want_size);
}

static void drop(struct client *c);

/* The container's stdin ends: its pipe closes (a terminal stays open: it
 * is also the container's output). */
static void close_stdin(void)
{
	if (stdin_fd < 0 || stdin_fd == term_fd)
		return;
	if (pending_len > pending_off) {
		close_after_pending = true;
		return;
	}
	close(stdin_fd);
	stdin_fd = -1;
}

static void flush_stdin(void)
{
	while (stdin_fd >= 0 && pending_len > pending_off) {
		ssize_t n = write(stdin_fd, pending + pending_off,
				  pending_len - pending_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;		/* POLLOUT says when to go on */
		if (n < 0) {		/* nobody reads it any more */
			pending_off = pending_len = 0;
			break;
		}
		pending_off += n;
	}
	pending_off = pending_len = 0;
	if (close_after_pending) {
		close_after_pending = false;
		close_stdin();
	}
}

static void frame_done(struct client *c)
{
	if (c->hdr[0] == FRAME_CLOSE_STDIN && stdin_once)
		close_stdin();
	if (c->hdr[0] == FRAME_RESIZE && c->ctl_len == 4) {
		want_size = (struct winsize){
			.ws_row = c->ctl[0] << 8 | c->ctl[1],
			.ws_col = c->ctl[2] << 8 | c->ctl[3],
		};
		size_wanted = true;
		if (term_fd >= 0)
			ioctl(term_fd, TIOCSWINSZ, &want_size);
	}
}

static void parse(struct client *c, const uint8_t *p, size_t n)
{
	while (n) {
		uint32_t take;

		if (c->have < sizeof c->hdr) {
			c->hdr[c->have++] = *p++;
			n--;
			if (c->have < sizeof c->hdr)
				continue;
			c->left = (uint32_t)c->hdr[1] << 24 | c->hdr[2] << 16 |
				  c->hdr[3] << 8 | c->hdr[4];
			c->ctl_len = 0;
			if (c->left)
				continue;
		}
		take = c->left < n ? c->left : (uint32_t)n;
		if (c->hdr[0] == FRAME_STDIN && stdin_fd >= 0) {
			/* fits: a client is read only into an empty buffer */
			memcpy(pending + pending_len, p, take);
			pending_len += take;
			c->sent_stdin = true;
		}
		for (uint32_t i = 0; c->hdr[0] != FRAME_STDIN && i < take; i++)
			if (c->ctl_len < sizeof c->ctl)
				c->ctl[c->ctl_len++] = p[i];
		c->left -= take;
		p += take;
		n -= take;
		if (c->left == 0) {
			frame_done(c);
			c->have = 0;
		}
	}
}

/* Read what the client sent, as long as stdin takes it: a wakeup per
 * buffer would make a busy host's scheduler the bottleneck. */
static void client_read(struct client *c)
{
	uint8_t buf[sizeof pending];

	for (int round = 0; round < 32 && c->fd >= 0; round++) {
		size_t room = sizeof pending - pending_len;
		ssize_t n;

		if (room == 0)
			return;	/* stdin is full: read on once it took some */
		n = recv(c->fd, buf, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			drop(c);
			return;
		}
		parse(c, buf, n);
		flush_stdin();
	}
}

static void drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	/* A client that fed stdin and went away has ended it (docker run -i). */
	if (c->sent_stdin && stdin_once)
		close_stdin();
}

static void accept_clients(void)
{
	int fd;

	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		struct timeval stall = { .tv_sec = CLIENT_STALL_SECONDS };
		struct client *c = NULL;

		for (int i = 0; i < ATTACH_MAX && !c; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		if (!c) {
			close(fd);	/* full: refused */
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stall, sizeof stall);
		*c = (struct client){ .fd = fd };
	}
}

int attach_pollfds(struct pollfd *pfd)
{
	int n = 0;

	nslots = 0;
	if (listen_fd >= 0) {
		slots[nslots++] = SLOT_LISTEN;
		pfd[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	}
	if (stdin_fd >= 0 && pending_len > pending_off) {
		slots[nslots++] = SLOT_STDIN;
		pfd[n++] = (struct pollfd){ .fd = stdin_fd, .events = POLLOUT };
		return n;	/* no client is read until stdin took its bytes */
	}
	for (int i = 0; i < ATTACH_MAX; i++)
		if (clients[i].fd >= 0) {
			slots[nslots++] = i;
			pfd[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
		}
	return n;
}

void attach_events(const struct pollfd *pfd)
{
	for (int i = 0; i < nslots; i++) {
		if (!pfd[i].revents)
			continue;
		if (slots[i] == SLOT_LISTEN)
			accept_clients();
		else if (slots[i] == SLOT_STDIN)
			flush_stdin();
		else if (clients[slots[i]].fd >= 0)
			client_read(&clients[slots[i]]);
	}
}

static bool send_frame(int fd, int stream, const char *data, size_t len)
{
	uint8_t hdr[8] = {
		stream, 0, 0, 0, len >> 24, len >> 16, len >> 8, len,
	};
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof hdr },
		{ .iov_base = (void *)data, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	while (msg.msg_iovlen) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov->iov_len) {
			n -= msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= n;
		}
	}
	return true;
}

void attach_output(int stream, const char *data, size_t len)
{
	for (int i = 0; i < ATTACH_MAX; i++)
		if (clients[i].fd >= 0 && !send_frame(clients[i].fd, stream, data, len))
			drop(&clients[i]);
}

/* The container ended: tell each client how (a NULL line: it never
 * started), close them and the socket. */
void attach_end(const char *exit_line, size_t len)
{
	/* The socket goes first: a client told of the end finds it gone. */
	if (socket_path)
		unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
	if (listen_fd >= 0) {
		accept_clients();	/* a client that came at the last moment */
		close(listen_fd);
	}
	listen_fd = -1;
	for (int i = 0; i < ATTACH_MAX; i++)
		if (clients[i].fd >= 0) {
			if (exit_line)
				send_frame(clients[i].fd, 3, exit_line, len);
			close(clients[i].fd);
			clients[i].fd = -1;
		}
}
