/*
 * seccomp.c — load a syscall filter.
 *
 * A seccomp filter is a classic-BPF program the kernel runs on every
 * syscall the process (and its descendants) make; its return value allows,
 * fails with an errno, traps or kills. TypeScript compiles the program
 * (src/runtime/seccomp/); the helper only hands the bytes to the kernel.
 *
 * Loading needs either PR_SET_NO_NEW_PRIVS or CAP_SYS_ADMIN; once loaded
 * the filter also applies to the helper's own remaining syscalls before
 * execve, which the program must allow.
 */
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

int seccomp_load(const void *program, uint32_t len, uint64_t flags,
		 struct berr *err)
{
	/* The plan's copy is malloc'd, so aligned for struct sock_filter. */
	struct berth_sock_fprog prog = {
		.len = (unsigned short)(len / 8),
		.filter = (struct berth_sock_filter *)program,
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)flags, &prog) < 0)
		return make_error(err, errno, "load a filter of %u instructions (flags %#llx)",
				  len / 8, (unsigned long long)flags);
	return 0;
}
