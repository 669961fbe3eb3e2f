/*
 * command.c — commands the monitor runs for the engine, which has no
 * daemon to learn things by itself: one once the container has ended (the
 * exit command, as conmon's --exit-command) and one when its health status
 * changes (health.c).
 *
 * Each runs detached, as a fresh process would start: its own session,
 * /dev/null as stdio, none of the monitor's fds, no blocked signals and
 * SIGPIPE at its default. The monitor never waits for one in particular;
 * it reaps whatever child ends, and the exit command outlives it.
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "plan.h"

pid_t cmd_spawn(char *const *argv)
{
	sigset_t none;
	pid_t pid = fork();
	int null;

	if (pid != 0)
		return pid;	/* the monitor, or -1: a missed run, no more */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd < 3; fd++)
		if (null != fd)
			dup2(null, fd);
	proc_close_range(3, ~0u);
	execv(argv[0], argv);
	_exit(127);
}
