/*
 * monitor.c — main(): create the container's process, then stay behind as
 * its monitor.
 *
 *   1. Read and validate the plan (fd 3); run the monitor-phase ops.
 *   2. Clone the child into its new namespaces. Run the parent ops for it
 *      (id maps, cgroup), then let it go on (SYNC_PARENT_DONE).
 *   3. The child runs its ops (plan.c). At WAIT_START it says SYNC_WAITING:
 *      the monitor writes the pid file, reports `created <pid>`, and lets
 *      it pass (SYNC_GO, report `started`) at once, or when a byte arrives
 *      on the start FIFO.
 *   4. Once started, the monitor frees the plan and its stdio, and waits:
 *      it forwards signals, relays the terminal, reaps children.
 *   5. When the process ends: the exit file, `exited N` or `signaled N`,
 *      and the helper exits with the container's status (N, or 128+N).
 *
 * With a kept output (MONITOR_LOG_FILE, MONITOR_ATTACH_SOCKET) the monitor
 * holds the container's stdio pipes or pty master: output goes to log.c and
 * attach.c, stdin comes from attach clients; the engine hears of the end
 * through the exit command (command.c). With a healthcheck the monitor
 * probes the container itself (health.c) and calls the engine only when
 * the health status changes.
 *
 * One poll() loop watches a signalfd (SIGCHLD, forwarded signals,
 * SIGWINCH), the sync socket, the start FIFO, the relay fds, the kept
 * output, the healthcheck's timer and probe, and the attach socket with its
 * clients. The signals
 * are blocked before clone, so none is lost between clone and the loop; the
 * child restores the old mask at once, as execve would keep it.
 *
 * The sync socket is SOCK_SEQPACKET and close-on-exec: each message is one
 * byte (plus an fd for the terminal), and the monitor reads EOF once the
 * child has exec'd or died.
 */
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"

static const int FORWARDED[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT,
};

static struct plan plan;
static struct monitor_conf conf = {
	.exit_file_step = -1, .pid_file_step = -1, .console_step = -1,
	.fifo = -1, .fifo_writer = -1,
};
static pid_t child;		/* the container's process; 0 once reaped */
static int sync_fd = -1, sig_fd = -1, master = -1;
/* Kept output: the read ends of stdout and stderr, or the pty master as
 * stdout. */
static int out_fd[2] = { -1, -1 };
static bool created, started, failed, raw, stdin_open = true;

int sync_send(int sock, char msg, int fd)
{
	return fd_send(sock, &msg, 1, fd);
}

int sync_recv(int sock, int *fd, int flags)
{
	char msg;
	ssize_t n = fd_recv(sock, &msg, 1, fd, flags);

	if (n < 0)
		return -1;
	return n == 0 ? 0 : (unsigned char)msg;
}

/*
 * The start FIFO is made here if missing (Node has no mkfifo).
 *
 * Quirk: once a writer has come and gone, poll() reports POLLHUP on a
 * FIFO's read end for ever, and the monitor would spin. Holding a write end
 * of its own keeps the FIFO "connected": reads then just say EAGAIN until
 * the start byte arrives.
 */
int start_fifo_open(const char *path, struct monitor_conf *mc,
		    struct berr *err)
{
	struct stat st;

	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		return make_error(err, errno, "mkfifo %s", path);
	mc->fifo = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (mc->fifo < 0)
		return make_error(err, errno, "open %s", path);
	if (fstat(mc->fifo, &st) < 0 || !S_ISFIFO(st.st_mode))
		return make_error(err, EINVAL, "%s is not a FIFO", path);
	mc->fifo_writer = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (mc->fifo_writer < 0)
		return make_error(err, errno, "open %s for writing", path);
	return 0;
}

/* A monitor-side step failed: report it, leave no process behind, 125. */
static _Noreturn void fail(struct berr *err, long step, const char *op)
{
	if (step >= 0) {
		err->step = step;
		err->op = op;
	}
	report_error(err);
	if (child > 0) {
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (raw)
		term_restore(0);
	attach_end(NULL, 0);
	_exit(125);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Let the child pass WAIT_START, then shed everything the wait needs no
 * more, so the monitor's resident memory is a few pages. */
static void start(void)
{
	int null;

	/* Report first: once it has the go, the child may report too. */
	report("started");
	started = true;
	sync_send(sync_fd, SYNC_GO, -1);	/* failure: SIGCHLD follows */
	close_fd(&conf.fifo);
	close_fd(&conf.fifo_writer);
	plan_free(&plan);
	malloc_trim(0);
	/* Do not hold the container's stdio open (a reader waiting for EOF
	 * would wait for the monitor too), unless relaying through it. */
	if (!conf.relay && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		close(null);
	}
	if (conf.healthcheck)
		health_start(&conf.health);
}

/*
 * MONITOR_HAND_OFF: give the child the start FIFO (or the go) and leave, so that the
 * container's process is reparented to the caller's subreaper (a
 * containerd shim, conmon), which reaps it and sees its exit, as runc's
 * contract has it. The caller's stdio is the child's already.
 */
static _Noreturn void hand_off(void)
{
	/* Without a start FIFO (an exec) the process goes on at once. */
	if (conf.fifo < 0) {
		report("created %d", child);
		report("started");
		sync_send(sync_fd, SYNC_GO, -1);
		_exit(0);
	}
	if (sync_send(sync_fd, SYNC_HAND_OFF, conf.fifo) < 0 ||
	    sync_send(sync_fd, SYNC_HAND_OFF, conf.fifo_writer) < 0) {
		struct berr err = BERR_INIT;

		make_error(&err, errno, "hand the start FIFO to the container's process");
		fail(&err, -1, NULL);
	}
	report("created %d", child);
	_exit(0);
}

static void on_waiting(void)
{
	struct berr err = BERR_INIT;
	char pid[16];
	int n = snprintf(pid, sizeof pid, "%d", child);

	if (conf.pid_file && write_file_atomic(conf.pid_file, pid, n, &err) < 0)
		fail(&err, conf.pid_file_step, op_name(OP_MONITOR_PID_FILE));
	if (conf.hand_off)
		hand_off();
	report("created %d", child);
	created = true;
	if (conf.fifo < 0)
		start();
}

static void on_terminal(int fd)
{
	struct berr err = BERR_INIT;

	if (fd < 0)
		return;
	if (conf.console_socket) {
		int ret = term_send_console(conf.console_socket, fd, &err);

		close(fd);
		if (ret < 0)
			fail(&err, conf.console_step, op_name(OP_MONITOR_CONSOLE_SOCKET));
	} else if (conf.capture) {
		fcntl(fd, F_SETFL, O_NONBLOCK);
		out_fd[0] = fd;
		attach_set_terminal(fd);
		if (conf.open_stdin)
			attach_set_stdin(fd, conf.stdin_once);
	} else {
		master = fd;
		raw = term_make_raw(0);
		term_copy_size(0, master);
	}
}

/* Read what one output fd has now, into the log and to the clients: false
 * when there was nothing (EAGAIN) or it ended. */
static bool on_output(int i)
{
	char buf[8192];
	ssize_t n;

	do
		n = read(out_fd[i], buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		log_write(i + 1, buf, n);
		attach_output(i + 1, buf, n);
		return true;
	}
	if (n < 0 && errno == EAGAIN)
		return false;
	/* The end (a pty master reads EIO once the slave is closed). */
	if (conf.terminal) {
		attach_set_terminal(-1);
		attach_set_stdin(-1, false);
	}
	close_fd(&out_fd[i]);
	log_end(i + 1);
	return false;
}

/*
 * The kept output's pipes, made before clone so the child is born with
 * them as fds 0-2 (the monitor's own 0-2 go to /dev/null right after).
 * stdin is /dev/null, or a pipe whose non-blocking write end the attach
 * clients feed.
 */
static int capture_stdio(struct berr *err)
{
	int out[2], errp[2], in[2] = { -1, -1 };
	cleanup_close int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0)
		return make_error(err, errno, "open /dev/null");
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (conf.open_stdin && pipe2(in, O_CLOEXEC) < 0))
		return make_error(err, errno, "pipes for the container's stdio");
	if (dup2(in[0] >= 0 ? in[0] : null, 0) < 0 || dup2(out[1], 1) < 0 ||
	    dup2(errp[1], 2) < 0)
		return make_error(err, errno, "dup the container's stdio");
	close(out[1]);
	close(errp[1]);
	if (in[0] >= 0)
		close(in[0]);
	out_fd[0] = out[0];
	out_fd[1] = errp[0];
	fcntl(out_fd[0], F_SETFL, O_NONBLOCK);
	fcntl(out_fd[1], F_SETFL, O_NONBLOCK);
	if (in[1] >= 0) {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		attach_set_stdin(in[1], conf.stdin_once);
	}
	return 0;
}

static void on_sync(int flags)
{
	int fd = -1;
	int msg = sync_recv(sync_fd, &fd, flags);

	if (msg <= 0) {		/* EOF: the child exec'd or died */
		close_fd(&sync_fd);
		return;
	}
	if (msg == SYNC_TERMINAL)
		on_terminal(fd);
	else if (msg == SYNC_WAITING)
		on_waiting();
	else if (msg == SYNC_ERROR)
		failed = true;	/* the child reported the error itself */
}

static void on_fifo(void)
{
	char byte;

	if (read(conf.fifo, &byte, 1) == 1)
		start();
}

/* Forward what arrived, then reap: returns true once the container's
 * process is gone, with its wait status in *status. */
static bool on_signals(int *status)
{
	struct signalfd_siginfo si;
	bool done = false, probed = false;
	pid_t pid;
	int st, probe_status = 0;

	while (read(sig_fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_signo == SIGWINCH && master >= 0)
			term_copy_size(0, master);
		if (conf.forward && child > 0)
			kill(child, (int)si.ssi_signo);
	}
	/* Reap every child, not only ours: a subreaper inherits orphans. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == child) {
			*status = st;
			child = 0;
			done = true;
		}
		if (health_owns(pid)) {
			probe_status = st;
			probed = true;
		}
	}
	/* A probe that ended with the container says nothing of its health. */
	if (probed && !done)
		health_probe_ended(probe_status);
	return done;
}

static int exit_line(int status, char *line, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return snprintf(line, size, "%s %d %lld\n",
			WIFEXITED(status) ? "exited" : "signaled",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			(long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* What the pipes or the pty still hold, read without waiting: a grandchild
 * may keep a pipe open (and writing) for ever, so the drain is bounded. */
static void drain_output(void)
{
	for (int i = 0; i < 2; i++) {
		for (int reads = 0; out_fd[i] >= 0 && reads < 256; reads++)
			if (!on_output(i))
				break;
		log_end(i + 1);
	}
}

static int finish(int status)
{
	struct berr err = BERR_INIT;
	char line[96];
	int n;

	/* Whatever the child said before it died is still queued. */
	while (sync_fd >= 0)
		on_sync(MSG_DONTWAIT);
	if (master >= 0) {
		fcntl(master, F_SETFL, O_NONBLOCK);
		while (term_copy(master, 1) > 0)
			;
	}
	if (raw)
		term_restore(0);
	drain_output();
	log_close();
	n = exit_line(status, line, sizeof line);
	if (created && conf.exit_file &&
	    write_file_atomic(conf.exit_file, line, n, &err) < 0)
		fail(&err, conf.exit_file_step, op_name(OP_MONITOR_EXIT_FILE));
	attach_end(created ? line : NULL, n);
	health_stop();
	if (created && conf.exit_argv)
		cmd_spawn(conf.exit_argv);
	if (failed)
		return 125;	/* after `error`, nothing more is reported */
	if (WIFEXITED(status)) {
		report("exited %d", WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	report("signaled %d", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

static int monitor_loop(void)
{
	struct berr err = BERR_INIT;
	int status = 0;

	for (;;) {
		struct pollfd pfd[7 + HEALTH_POLL_MAX + ATTACH_POLL_MAX] = { { .fd = sig_fd, .events = POLLIN } };
		int n = 1, i_sync = -1, i_fifo = -1, i_master = -1, i_in = -1;
		int i_out[2] = { -1, -1 }, i_health, n_health, i_attach;

		if (sync_fd >= 0) {
			i_sync = n;
			pfd[n++] = (struct pollfd){ .fd = sync_fd, .events = POLLIN };
		}
		if (created && !started && conf.fifo >= 0) {
			i_fifo = n;
			pfd[n++] = (struct pollfd){ .fd = conf.fifo, .events = POLLIN };
		}
		if (started && master >= 0) {
			i_master = n;
			pfd[n++] = (struct pollfd){ .fd = master, .events = POLLIN };
			if (stdin_open) {
				i_in = n;
				pfd[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
			}
		}
		for (int i = 0; i < 2; i++)
			if (out_fd[i] >= 0) {
				i_out[i] = n;
				pfd[n++] = (struct pollfd){ .fd = out_fd[i], .events = POLLIN };
			}
		i_health = n;
		n_health = started && child > 0 ? health_pollfds(pfd + n) : 0;
		n += n_health;
		i_attach = n;
		n += attach_pollfds(pfd + n);
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			make_error(&err, errno, "poll");
			fail(&err, -1, NULL);
		}
		if (i_sync >= 0 && pfd[i_sync].revents)
			on_sync(0);
		if (i_fifo >= 0 && pfd[i_fifo].revents)
			on_fifo();
		if (i_in >= 0 && pfd[i_in].revents && term_copy(0, master) == 0)
			stdin_open = false;
		if (i_master >= 0 && master >= 0 && pfd[i_master].revents &&
		    term_copy(master, 1) == 0)
			close_fd(&master);
		/* What is there now, not one buffer a wakeup (bounded, for
		 * fairness between the streams and the clients). */
		for (int i = 0; i < 2; i++)
			for (int round = 0; round < 16 && i_out[i] >= 0 &&
			     pfd[i_out[i]].revents && out_fd[i] >= 0; round++)
				if (!on_output(i))
					break;
		health_events(pfd + i_health, n_health);
		attach_events(pfd + i_attach);
		if (pfd[0].revents && on_signals(&status))
			return finish(status);
	}
}

/*
 * Fds 0-4 have fixed meanings. Whichever of them the caller left closed is
 * filled with /dev/null, so that no fd opened later (the sync socket, the
 * signalfd) lands on one: the terminal's dup2 onto 0-2 would clobber it, and
 * report lines meant for fd 4 would go into it. Fds 3 (the plan, now read)
 * and 4 (reports) are close-on-exec: the container never inherits them.
 */
static void reserve_low_fds(void)
{
	for (int fd = 0; fd <= REPORT_FD; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(125);
		if (fd >= PLAN_FD)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

int main(int argc, char **argv)
{
	struct berr err = BERR_INIT;
	sigset_t mask, old_mask;
	void (*old_pipe)(int);
	int sv[2];
	long clone_at;

	(void)argc;
	/* Before anything else: from here on, what a container can reach of
	 * this process is a sealed copy that is not dumpable (self.c). */
	self_protect(argv);
	/* A report reader that went away makes writes fail with EPIPE
	 * rather than kill the monitor. */
	old_pipe = signal(SIGPIPE, SIG_IGN);
	if (plan_read(PLAN_FD, &plan, &err) < 0) {
		report_error(&err);
		return 125;
	}
	close(PLAN_FD);
	reserve_low_fds();
	if (plan_run_monitor(&plan, &conf, &err) < 0)
		fail(&err, -1, NULL);

	clone_at = plan.clone_at;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (conf.relay)
		sigaddset(&mask, SIGWINCH);
	for (size_t i = 0; conf.forward && i < sizeof FORWARDED / sizeof *FORWARDED; i++)
		sigaddset(&mask, FORWARDED[i]);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		make_error(&err, errno, "signalfd or socketpair for the child");
		fail(&err, clone_at, "CLONE");
	}
	if (conf.capture && !conf.terminal && capture_stdio(&err) < 0)
		fail(&err, clone_at, "CLONE");

	child = ns_clone(plan.ops[clone_at].args[0].num, &err);
	if (child < 0) {
		child = 0;
		fail(&err, clone_at, "CLONE");
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		signal(SIGPIPE, old_pipe);
		close(sig_fd);
		close(sv[0]);
		close_fd(&conf.fifo);
		close_fd(&conf.fifo_writer);
		plan_run_child(&plan, sv[1]);
	}
	close(sv[1]);
	sync_fd = sv[0];
	if (conf.capture) {	/* the caller's stdio is not the container's */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		for (int fd = 0; fd < 3 && null >= 0; fd++)
			dup2(null, fd);
		if (null >= 0)
			close(null);
	}
	if (plan_run_parent(&plan, child, &err) < 0)
		fail(&err, -1, NULL);
	sync_send(sync_fd, SYNC_PARENT_DONE, -1);	/* failure: SIGCHLD follows */
	return monitor_loop();
}
