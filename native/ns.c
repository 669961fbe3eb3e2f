/*
 * ns.c — namespaces: what a process sees.
 *
 * A namespace wraps one global resource (mounts, pids, hostname, network,
 * ipc, users, cgroup root, clocks) so that processes inside get their own
 * instance. A process is born into new ones (clone), creates new ones for
 * itself or its future children (unshare), or joins existing ones through
 * their /proc/<pid>/ns/<type> files (setns). The UTS namespace's two names
 * live here too.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

/*
 * Fork-like clone: no new stack, the child continues from here with a copy
 * of the address space, and SIGCHLD tells the parent when it ends.
 *
 * Quirk: a raw clone bypasses glibc's fork bookkeeping, so in the child the
 * thread descriptor still carries the parent's tid. The child must not call
 * anything that uses it (raise, abort, pthread_*); it only makes plain
 * syscalls and ends with _exit or execve.
 */
pid_t ns_clone(uint64_t flags, struct berr *err)
{
	long pid;

	if (flags & CLONE_NEWTIME) {
		/* clone(2) takes the exit signal in its low byte, where
		 * CLONE_NEWTIME (0x80) lives: only clone3 can ask for it. */
		struct berth_clone_args args;

		memset(&args, 0, sizeof args);
		args.flags = flags;
		args.exit_signal = SIGCHLD;
		pid = syscall(SYS_clone3, &args, sizeof args);
	} else {
		pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
	}
	if (pid < 0)
		return make_error(err, errno, "clone with flags %#llx",
				  (unsigned long long)flags);
	return pid;
}

int ns_setns(const char *path, uint64_t nstype, struct berr *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return make_error(err, errno, "open %s", path);
	/* Joining a pid or time namespace changes only the namespace of the
	 * caller's future children: that is why the plan joins those in the
	 * monitor, before clone. */
	if (setns(fd, (int)nstype) < 0)
		return make_error(err, errno, "setns %s (type %#llx)", path,
				  (unsigned long long)nstype);
	return 0;
}

int ns_unshare(uint64_t flags, struct berr *err)
{
	if (unshare((int)flags) < 0)
		return make_error(err, errno, "unshare %#llx",
				  (unsigned long long)flags);
	return 0;
}

int ns_sethostname(const char *name, struct berr *err)
{
	if (sethostname(name, strlen(name)) < 0)
		return make_error(err, errno, "sethostname %s", name);
	return 0;
}

int ns_setdomainname(const char *name, struct berr *err)
{
	if (setdomainname(name, strlen(name)) < 0)
		return make_error(err, errno, "setdomainname %s", name);
	return 0;
}
