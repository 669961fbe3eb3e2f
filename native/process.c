/*
 * process.c — the container process's own attributes (resource limits,
 * inherited fds) and the final execve.
 *
 * Resource limits are per process and inherited across fork and execve.
 * Lowering a limit is always allowed; raising a hard limit needs
 * CAP_SYS_RESOURCE in the *initial* user namespace, so inside a new user
 * namespace a hard limit can only go down.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int proc_setrlimit(uint64_t resource, uint64_t soft, uint64_t hard,
		   struct berr *err)
{
	/* The plan's -1 (all ones) is RLIM_INFINITY on every 64-bit ABI. */
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };

	if (prlimit(0, (int)resource, &rl, NULL) < 0)
		return make_error(err, errno, "setrlimit %llu to %lld/%lld",
				  (unsigned long long)resource, (long long)soft,
				  (long long)hard);
	return 0;
}

int proc_close_range(unsigned int lo, unsigned int hi)
{
	struct rlimit rl;

	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
	/* Before Linux 5.9: close one by one up to the fd limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < hi)
		hi = rl.rlim_cur;
	for (unsigned int fd = lo; fd <= hi && fd < (1u << 20); fd++)
		close(fd);
	return 0;
}

/* Close every fd >= from but the report channel and the sync socket; both
 * are close-on-exec, so the container never sees them either. */
int proc_close_from(uint64_t from, int sync, struct berr *err)
{
	unsigned int keep[2] = { REPORT_FD, (unsigned int)sync };
	unsigned int lo = from > ~0u ? ~0u : (unsigned int)from;

	if (keep[0] > keep[1]) {
		keep[0] = (unsigned int)sync;
		keep[1] = REPORT_FD;
	}
	for (int i = 0; i < 2; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo && proc_close_range(lo, keep[i] - 1) < 0)
			return make_error(err, errno, "close fds %u-%u", lo, keep[i] - 1);
		lo = keep[i] + 1;
	}
	if (proc_close_range(lo, ~0u) < 0)
		return make_error(err, errno, "close fds from %u", lo);
	return 0;
}

/* Search `file` in PATH like execvp, but with the container's PATH (from
 * its env, not ours). Returns the errno to report. */
static int exec_search(const char *file, char *const *argv, char *const *env)
{
	const char *path = DEFAULT_PATH;
	bool eacces = false;

	for (char *const *e = env; *e; e++)
		if (!strncmp(*e, "PATH=", 5)) {
			path = *e + 5;
			break;
		}
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		char buf[4096];
		int len = end - p;

		/* an empty PATH entry means the current directory */
		if (snprintf(buf, sizeof buf, "%.*s%s%s", len, p, len ? "/" : "",
			     file) < (int)sizeof buf) {
			execve(buf, argv, env);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return eacces ? EACCES : ENOENT;
}

_Noreturn void proc_exec(const char *file, char *const *argv, char *const *env)
{
	int e;

	if (strchr(file, '/')) {
		execve(file, argv, env);
		e = errno;
	} else {
		e = exec_search(file, argv, env);
	}
	report("exec-failed %d %s", e, file);
	_exit(e == ENOENT ? 127 : 126);
}
