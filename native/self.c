/*
 * self.c — keep the helper itself out of a container's reach.
 *
 * Every process the helper clones into a container runs this binary until
 * its execve, inside the container's pid namespace, and with the container's
 * uid and capabilities once CAPSET has run. A process of the container can
 * open /proc/PID/exe of it, or run it (an entry point `#!/proc/self/exe`
 * makes the kernel execute the helper as the container's own program). Were
 * that the host's file, an fd kept until no process executes the inode any
 * more (after an upgrade of the helper, ETXTBSY no longer protects it) could
 * be reopened for writing, and the next `run` would execute the container's
 * code as host root: CVE-2019-5736. So, as runc does:
 *
 *   1. The helper runs from a sealed copy of itself. At the very start,
 *      main() copies /proc/self/exe into a memfd, seals it against writing,
 *      growing, shrinking and further sealing, and executes the copy with
 *      the same argv and environment. The plan (fd 3, not read yet) and the
 *      report channel (fd 4) are not close-on-exec and cross the exec. The
 *      copy has no name on the host; what a container can open is this
 *      memfd, which nobody can write.
 *   2. It is not dumpable, from then until the container's execve (which
 *      makes the new program dumpable again): /proc/PID/{exe,fd,cwd,root,
 *      environ,mem} of the monitor and of the child are closed to anyone
 *      without CAP_SYS_PTRACE in the host's user namespace. This also hides
 *      the host's cwd and root, which the child holds until it enters the
 *      container's mount namespace.
 *
 * Whether the helper already runs from the sealed copy is read from the
 * running file itself (F_GET_SEALS on /proc/self/exe), as runc's
 * cloned_binary.c did, never from anything a caller could set: a process
 * that says it is sealed without being so is not believed.
 *
 * Cost (docs/architecture.md, "The helper out of a container's reach"): a
 * copy of the binary (about 800 kB) and one more execve per helper, and the
 * copy stays in memory for as long as that helper (a container's monitor)
 * lives.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"

#define SELF_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* memfd_create(2): since Linux 6.3 a memfd that is to be executed says so
 * (without it, vm.memfd_noexec may refuse); older kernels refuse the flag. */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

static bool running_sealed(void)
{
	cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals;

	if (exe < 0)
		return false;
	seals = fcntl(exe, F_GET_SEALS);
	return seals >= 0 && (seals & SELF_SEALS) == SELF_SEALS;
}

/* A sealed memfd holding the bytes of /proc/self/exe. */
static int sealed_copy(struct berr *err)
{
	cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cleanup_close int copy = -1;
	struct stat st;
	int fd;

	if (exe < 0 || fstat(exe, &st) < 0)
		return make_error(err, errno, "open /proc/self/exe");
	copy = memfd_create("berth-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (copy < 0 && errno == EINVAL)
		copy = memfd_create("berth-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (copy < 0)
		return make_error(err, errno, "memfd_create for a copy of the helper");
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = sendfile(copy, exe, NULL, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return make_error(err, n < 0 ? errno : EIO,
					  "copy /proc/self/exe into a memfd");
		left -= n;
	}
	if (fcntl(copy, F_ADD_SEALS, SELF_SEALS) < 0)
		return make_error(err, errno, "seal the helper's copy");
	fd = copy;
	copy = -1;
	return fd;
}

void self_protect(char **argv)
{
	struct berr err = BERR_INIT;

	err.op = "SELF";
	if (!running_sealed()) {
		int copy = sealed_copy(&err);

		if (copy >= 0) {
			fexecve(copy, argv, environ);
			make_error(&err, errno, "exec the sealed copy of the helper");
		}
		report_error(&err);
		_exit(125);
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		make_error(&err, errno, "make the helper not dumpable");
		report_error(&err);
		_exit(125);
	}
	/* An exec through an fd names the process after the fd's number:
	 * the engine finds its monitors by name. */
	prctl(PR_SET_NAME, "berth-helper", 0, 0, 0);
}
