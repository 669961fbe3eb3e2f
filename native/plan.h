/*
 * plan.h — the plan as the helper holds it in memory, and the functions
 * each concern file offers to the dispatcher. docs/plan-format.md is the one
 * definition of the wire format and of what each op does.
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum opcode {
	/* monitor phase: 1-19 */
	OP_MONITOR_EXIT_FILE = 1,
	OP_MONITOR_PID_FILE = 2,
	OP_MONITOR_START_FIFO = 3,
	OP_MONITOR_CONSOLE_SOCKET = 4,
	OP_MONITOR_RELAY_TERMINAL = 5,
	OP_MONITOR_SETNS = 6,
	OP_MONITOR_FORWARD_SIGNALS = 7,
	OP_MONITOR_LOG_FILE = 8,
	OP_MONITOR_OPEN_STDIN = 9,
	OP_MONITOR_ATTACH_SOCKET = 10,
	OP_MONITOR_EXIT_COMMAND = 11,
	/* 12 was MONITOR_PERIODIC_COMMAND: the monitor runs healthchecks itself now */
	OP_MONITOR_HEALTHCHECK = 13,
	OP_MONITOR_HAND_OFF = 14,
	/* clone: 20 */
	OP_CLONE = 20,
	/* parent phase: 21-39 */
	OP_PARENT_WRITE_PROC = 21,
	OP_PARENT_JOIN_CGROUP = 22,
	/* child phase: 40+ */
	OP_SETNS = 40,
	OP_UNSHARE = 41,
	OP_SET_IDS = 42,
	OP_MOUNT = 43,
	OP_MOUNT_IN_ROOT = 44,
	OP_MKNOD_IN_ROOT = 45,
	OP_SYMLINK_IN_ROOT = 46,
	OP_PIVOT_ROOT = 47,
	OP_CHROOT = 48,
	OP_MASK_PATH = 49,
	OP_READONLY_PATH = 50,
	OP_WRITE_FILE = 51,
	OP_SETHOSTNAME = 52,
	OP_SETDOMAINNAME = 53,
	OP_SETRLIMIT = 54,
	OP_TERMINAL = 55,
	OP_SETSID = 56,
	OP_BOUNDING_SET = 57,
	OP_SETGROUPS = 58,
	OP_SETUID_GID = 59,
	OP_CAPSET = 60,
	OP_AMBIENT = 61,
	OP_NO_NEW_PRIVS = 62,
	OP_SECCOMP = 63,
	OP_CHDIR = 64,
	OP_WAIT_START = 65,
	OP_EXEC = 66,
	OP_CLOSE_FROM = 67,
	OP_MAX = 67,
};

enum arg_kind { ARG_INT = 1, ARG_BYTES = 2, ARG_LIST = 3 };

struct arg {
	uint8_t kind;
	uint64_t num;		/* ARG_INT */
	char *bytes;		/* ARG_BYTES: NUL-terminated copy */
	uint32_t len;
	char **list;		/* ARG_LIST: NULL-terminated, as argv */
	uint32_t n;
};

struct op {
	uint32_t code;
	uint32_t nargs;
	struct arg *args;
};

struct plan {
	uint32_t count;
	struct op *ops;
	uint32_t clone_at;	/* index of the CLONE op */
	bool terminal;		/* the plan has a TERMINAL op */
};

/* MONITOR_HEALTHCHECK: the probe, its schedule (ns), and where results go. */
struct health_conf {
	char *plan, *results;		/* the probe's plan; the results file */
	char **hook;			/* run with the new status appended */
	uint64_t interval, timeout, start_period, start_interval, retries;
	char *paused_file, *paused_text;	/* NULL: never paused */
};

/* What the monitor-phase ops ask of the monitor. Paths are owned copies, so
 * they outlive plan_free(). A step index of -1 means "not in the plan". */
struct monitor_conf {
	char *exit_file, *pid_file, *console_socket;
	long exit_file_step, pid_file_step, console_step;
	int fifo, fifo_writer;	/* the start FIFO, -1 without one */
	bool relay, forward;
	bool hand_off;		/* leave at WAIT_START: the child waits on the FIFO */
	bool terminal;		/* the container gets a pty */
	/* The monitor keeps the output (a log file, attach clients): it holds
	 * the pipes of fds 0-2, or the pty master. */
	bool capture, open_stdin, stdin_once;
	char **exit_argv;	/* owned, NULL-terminated */
	bool healthcheck;
	struct health_conf health;
};

/* plan.c: read, validate, dispatch */
const char *op_name(uint32_t code);
int plan_read(int fd, struct plan *plan, struct berr *err);
void plan_free(struct plan *plan);
int plan_run_monitor(const struct plan *plan, struct monitor_conf *conf,
		     struct berr *err);
int plan_run_parent(const struct plan *plan, pid_t child, struct berr *err);
_Noreturn void plan_run_child(const struct plan *plan, int sync);

/* monitor.c: messages between the monitor and the child, one byte each
 * (plus an fd for SYNC_TERMINAL) on a SOCK_SEQPACKET socketpair. */
enum sync_msg {
	SYNC_PARENT_DONE = 'P',	/* monitor -> child: parent ops are done */
	SYNC_GO = 'G',		/* monitor -> child: pass WAIT_START */
	SYNC_TERMINAL = 'T',	/* child -> monitor: here is the pty master */
	SYNC_WAITING = 'W',	/* child -> monitor: waiting at WAIT_START */
	SYNC_ERROR = 'E',	/* child -> monitor: a step failed (reported) */
	SYNC_HAND_OFF = 'H',	/* monitor -> child, twice: the start FIFO's read end, then a write end */
};
int start_fifo_open(const char *path, struct monitor_conf *mc,
		    struct berr *err);
int sync_send(int sock, char msg, int fd);
int sync_recv(int sock, int *fd, int flags);	/* msg, 0 at EOF, -1 */

/* log.c: Docker's json-file log of the container's output */
int log_open(const char *path, struct berr *err);
void log_close(void);
void log_write(int stream, const char *data, size_t len);	/* 1, 2 */
void log_end(int stream);

/* attach.c: the attach socket and its clients */
struct pollfd;
int attach_listen(const char *path, struct berr *err);
void attach_set_stdin(int fd, bool once);	/* -1: none */
void attach_set_terminal(int fd);		/* -1: none */
int attach_pollfds(struct pollfd *pfd);	/* fills at most ATTACH_POLL_MAX */
void attach_events(const struct pollfd *pfd);
void attach_output(int stream, const char *data, size_t len);
void attach_end(const char *exit_line, size_t len);
#define ATTACH_POLL_MAX 18

/* health.c: the healthcheck the monitor runs itself, from `started` on */
void health_start(const struct health_conf *conf);
int health_pollfds(struct pollfd *pfd);		/* fills at most HEALTH_POLL_MAX */
void health_events(const struct pollfd *pfd, int n);
bool health_owns(pid_t pid);		/* pid is the running probe's helper */
void health_probe_ended(int wait_status);
void health_stop(void);			/* the container ended: no more probes */
#define HEALTH_POLL_MAX 2

/* command.c: detached commands for the engine */
pid_t cmd_spawn(char *const *argv);

/* ns.c */
pid_t ns_clone(uint64_t flags, struct berr *err);
int ns_setns(const char *path, uint64_t nstype, struct berr *err);
int ns_unshare(uint64_t flags, struct berr *err);
int ns_sethostname(const char *name, struct berr *err);
int ns_setdomainname(const char *name, struct berr *err);

/* mount.c */
int mnt_mount(const char *source, const char *target, const char *fstype,
	      uint64_t flags, const char *data, struct berr *err);
int mnt_mount_in_root(const char *root, const char *target, const char *source,
		      const char *fstype, uint64_t flags, const char *data,
		      uint64_t create, struct berr *err);
int mnt_mknod_in_root(const char *root, const char *target, uint64_t mode,
		      uint64_t dev, uint64_t uid, uint64_t gid,
		      const char *bind_source, struct berr *err);
int mnt_symlink_in_root(const char *root, const char *linkpath,
			const char *target, struct berr *err);
int mnt_pivot_root(const char *root, struct berr *err);
int mnt_chroot(const char *root, struct berr *err);
int mnt_chdir(const char *path, struct berr *err);
int mnt_mask_path(const char *path, struct berr *err);
int mnt_readonly_path(const char *path, struct berr *err);

/* caps.c: credentials and capabilities */
int caps_set_ids(uint64_t uid, uint64_t gid, struct berr *err);
int caps_setuid_gid(uint64_t uid, uint64_t gid, struct berr *err);
int caps_setgroups(char *const *groups, uint32_t n, struct berr *err);
int caps_bounding_set(uint64_t keep, struct berr *err);
int caps_capset(uint64_t eff, uint64_t perm, uint64_t inh, struct berr *err);
int caps_ambient(uint64_t raise, struct berr *err);
int caps_no_new_privs(struct berr *err);

/* seccomp.c */
int seccomp_load(const void *program, uint32_t len, uint64_t flags,
		 struct berr *err);

/* terminal.c */
int fd_send(int sock, const void *data, size_t len, int fd);
ssize_t fd_recv(int sock, void *data, size_t len, int *fd, int flags);
int term_create(int sync, struct berr *err);
int term_send_console(const char *path, int master, struct berr *err);
bool term_make_raw(int fd);
void term_restore(int fd);
void term_copy_size(int from, int to);
ssize_t term_copy(int from, int to);

/* self.c: run from a sealed copy of the helper, not dumpable; returns
 * only from that copy (else it execs it, or ends with 125) */
void self_protect(char **argv);

/* process.c: the process's own attributes, and exec */
int proc_setrlimit(uint64_t resource, uint64_t soft, uint64_t hard,
		   struct berr *err);
int proc_close_from(uint64_t from, int sync, struct berr *err);
int proc_close_range(unsigned int lo, unsigned int hi);
_Noreturn void proc_exec(const char *file, char *const *argv,
			 char *const *env);

#endif
