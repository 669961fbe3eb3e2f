/*
 * syscalls.h — kernel constants and structures that the C library lacks or
 * may lack. The helper talks to the kernel directly (syscall(2)) for these,
 * so it builds against any glibc, and it never includes <linux/...> headers,
 * whose definitions clash with glibc's.
 *
 * The numbers of syscalls added after 424 are the same on every
 * architecture, so the fallbacks below are portable.
 */
#ifndef BERTH_SYSCALLS_H
#define BERTH_SYSCALLS_H

#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

/* openat2(2), Linux 5.6: path resolution with scope. */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
struct berth_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif

/* clone3(2), Linux 5.3: the only way to ask for CLONE_NEWTIME at birth. */
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
struct berth_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define BERTH_CLONE_NEW_ALL                                                    \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |          \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

/* close_range(2), Linux 5.9. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* capget/capset, version 3: two 32-bit words per set. */
#define BERTH_CAP_VERSION_3 0x20080522
struct berth_cap_header {
	uint32_t version;
	int pid;
};
struct berth_cap_data {
	uint32_t effective, permitted, inheritable;
};
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

/* seccomp(2): the helper only loads a program compiled in TypeScript. */
#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif
struct berth_sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct berth_sock_fprog {
	unsigned short len;
	struct berth_sock_filter *filter;
};

/* ptys: unlock the slave, open it through the master (Linux 4.13). */
#ifndef TIOCSPTLCK
#define TIOCSPTLCK _IOW('T', 0x31, int)
#endif
#ifndef TIOCGPTN
#define TIOCGPTN _IOR('T', 0x30, unsigned int)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#endif
