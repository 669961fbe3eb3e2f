/*
 * plan.c — read the plan from fd 3, validate it, and dispatch each op to the
 * file that owns its kernel concept. This is the only place that knows step
 * indexes: it stamps them on errors and writes the `error` report line.
 *
 * Validation is complete before anything runs: magic, version, every op's
 * argument count and kinds, phase order, and the few structural rules the
 * helper relies on (one CLONE, one WAIT_START, EXEC last, a terminal has
 * exactly one consumer). No decisions are made here: the plan says it all.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

#define PLAN_MAGIC "BRTHPLAN"
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (64u << 20)

/* Each op's name and signature: i int, s string (no NUL), b bytes, l list. */
static const struct {
	const char *name;
	const char *sig;
} OPS[OP_MAX + 1] = {
	[OP_MONITOR_EXIT_FILE] = { "MONITOR_EXIT_FILE", "s" },
	[OP_MONITOR_PID_FILE] = { "MONITOR_PID_FILE", "s" },
	[OP_MONITOR_START_FIFO] = { "MONITOR_START_FIFO", "s" },
	[OP_MONITOR_CONSOLE_SOCKET] = { "MONITOR_CONSOLE_SOCKET", "s" },
	[OP_MONITOR_RELAY_TERMINAL] = { "MONITOR_RELAY_TERMINAL", "" },
	[OP_MONITOR_SETNS] = { "MONITOR_SETNS", "si" },
	[OP_MONITOR_FORWARD_SIGNALS] = { "MONITOR_FORWARD_SIGNALS", "" },
	[OP_MONITOR_LOG_FILE] = { "MONITOR_LOG_FILE", "s" },
	[OP_MONITOR_OPEN_STDIN] = { "MONITOR_OPEN_STDIN", "i" },
	[OP_MONITOR_ATTACH_SOCKET] = { "MONITOR_ATTACH_SOCKET", "s" },
	[OP_MONITOR_EXIT_COMMAND] = { "MONITOR_EXIT_COMMAND", "l" },
	[OP_MONITOR_HEALTHCHECK] = { "MONITOR_HEALTHCHECK", "ssliiiiiss" },
	[OP_MONITOR_HAND_OFF] = { "MONITOR_HAND_OFF", "" },
	[OP_CLONE] = { "CLONE", "i" },
	[OP_PARENT_WRITE_PROC] = { "PARENT_WRITE_PROC", "ss" },
	[OP_PARENT_JOIN_CGROUP] = { "PARENT_JOIN_CGROUP", "s" },
	[OP_SETNS] = { "SETNS", "si" },
	[OP_UNSHARE] = { "UNSHARE", "i" },
	[OP_SET_IDS] = { "SET_IDS", "ii" },
	[OP_MOUNT] = { "MOUNT", "sssis" },
	[OP_MOUNT_IN_ROOT] = { "MOUNT_IN_ROOT", "ssssisi" },
	[OP_MKNOD_IN_ROOT] = { "MKNOD_IN_ROOT", "ssiiiis" },
	[OP_SYMLINK_IN_ROOT] = { "SYMLINK_IN_ROOT", "sss" },
	[OP_PIVOT_ROOT] = { "PIVOT_ROOT", "s" },
	[OP_CHROOT] = { "CHROOT", "s" },
	[OP_MASK_PATH] = { "MASK_PATH", "s" },
	[OP_READONLY_PATH] = { "READONLY_PATH", "s" },
	[OP_WRITE_FILE] = { "WRITE_FILE", "ss" },
	[OP_SETHOSTNAME] = { "SETHOSTNAME", "s" },
	[OP_SETDOMAINNAME] = { "SETDOMAINNAME", "s" },
	[OP_SETRLIMIT] = { "SETRLIMIT", "iii" },
	[OP_TERMINAL] = { "TERMINAL", "" },
	[OP_SETSID] = { "SETSID", "" },
	[OP_BOUNDING_SET] = { "BOUNDING_SET", "i" },
	[OP_SETGROUPS] = { "SETGROUPS", "l" },
	[OP_SETUID_GID] = { "SETUID_GID", "ii" },
	[OP_CAPSET] = { "CAPSET", "iii" },
	[OP_AMBIENT] = { "AMBIENT", "i" },
	[OP_NO_NEW_PRIVS] = { "NO_NEW_PRIVS", "" },
	[OP_SECCOMP] = { "SECCOMP", "bi" },
	[OP_CHDIR] = { "CHDIR", "s" },
	[OP_WAIT_START] = { "WAIT_START", "" },
	[OP_EXEC] = { "EXEC", "sll" },
	[OP_CLOSE_FROM] = { "CLOSE_FROM", "i" },
};

const char *op_name(uint32_t code)
{
	return code <= OP_MAX && OPS[code].name ? OPS[code].name : "UNKNOWN";
}

enum phase { PHASE_MONITOR, PHASE_CLONE, PHASE_PARENT, PHASE_CHILD };

static enum phase phase_of(uint32_t code)
{
	if (code < OP_CLONE)
		return PHASE_MONITOR;
	if (code == OP_CLONE)
		return PHASE_CLONE;
	return code < OP_SETNS ? PHASE_PARENT : PHASE_CHILD;
}

/* ---- reading ---------------------------------------------------------- */

struct reader {
	const uint8_t *p;
	size_t left;
};

static int take(struct reader *r, void *out, size_t n)
{
	if (r->left < n)
		return -1;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

/* The encoding is little-endian; so is every machine berth runs on, but say
 * it rather than assume it. */
static int take_u32(struct reader *r, uint32_t *v)
{
	uint8_t b[4];

	if (take(r, b, 4) < 0)
		return -1;
	*v = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

static int take_u64(struct reader *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (take_u32(r, &lo) < 0 || take_u32(r, &hi) < 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A length-prefixed byte string, copied with a NUL after it. */
static char *take_bytes(struct reader *r, uint32_t *len)
{
	char *s;

	if (take_u32(r, len) < 0 || r->left < *len)
		return NULL;
	s = xmalloc((size_t)*len + 1);
	take(r, s, *len);
	s[*len] = '\0';
	return s;
}

static int parse_arg(struct reader *r, struct arg *a, char want, struct berr *err)
{
	uint32_t len;

	if (take(r, &a->kind, 1) < 0)
		return make_error(err, EINVAL, "truncated argument");
	if (a->kind == ARG_INT) {
		if (want != 'i')
			return make_error(err, EINVAL, "unexpected int argument");
		if (take_u64(r, &a->num) < 0)
			return make_error(err, EINVAL, "truncated int argument");
	} else if (a->kind == ARG_BYTES) {
		if (want != 's' && want != 'b')
			return make_error(err, EINVAL, "unexpected bytes argument");
		if (!(a->bytes = take_bytes(r, &a->len)))
			return make_error(err, EINVAL, "truncated bytes argument");
		if (want == 's' && strlen(a->bytes) != a->len)
			return make_error(err, EINVAL, "NUL inside a string");
	} else if (a->kind == ARG_LIST) {
		if (want != 'l')
			return make_error(err, EINVAL, "unexpected list argument");
		/* each item takes at least 4 bytes: bound n before allocating */
		if (take_u32(r, &a->n) < 0 || a->n > r->left / 4)
			return make_error(err, EINVAL, "truncated list argument");
		a->list = xcalloc((size_t)a->n + 1, sizeof(char *));
		for (uint32_t i = 0; i < a->n; i++) {
			if (!(a->list[i] = take_bytes(r, &len)))
				return make_error(err, EINVAL, "truncated list item %u", i);
			if (strlen(a->list[i]) != len)
				return make_error(err, EINVAL, "NUL inside list item %u", i);
		}
	} else {
		return make_error(err, EINVAL, "unknown argument kind %u", a->kind);
	}
	return 0;
}

static int parse(struct reader *r, struct plan *plan, struct berr *err)
{
	char magic[8];
	uint32_t version;

	if (take(r, magic, 8) < 0 || memcmp(magic, PLAN_MAGIC, 8) != 0)
		return make_error(err, EINVAL, "not a plan (bad magic)");
	if (take_u32(r, &version) < 0 || version != PLAN_VERSION)
		return make_error(err, EINVAL, "unsupported plan version %u", version);
	/* each op takes at least 8 bytes: bound count before allocating */
	if (take_u32(r, &plan->count) < 0 || plan->count > r->left / 8)
		return make_error(err, EINVAL, "truncated plan");
	plan->ops = xcalloc(plan->count, sizeof(struct op));
	for (uint32_t i = 0; i < plan->count; i++) {
		struct op *o = &plan->ops[i];
		const char *sig;

		err->step = i;
		if (take_u32(r, &o->code) < 0 || take_u32(r, &o->nargs) < 0)
			return make_error(err, EINVAL, "truncated op");
		err->op = op_name(o->code);
		if (o->code > OP_MAX || !OPS[o->code].name)
			return make_error(err, EINVAL, "unknown opcode %u", o->code);
		sig = OPS[o->code].sig;
		if (o->nargs != strlen(sig))
			return make_error(err, EINVAL, "%u arguments, expected %zu",
					  o->nargs, strlen(sig));
		o->args = xcalloc(o->nargs, sizeof(struct arg));
		for (uint32_t j = 0; j < o->nargs; j++)
			if (parse_arg(r, &o->args[j], sig[j], err) < 0)
				return -1;
	}
	err->step = -1;
	err->op = "PLAN";
	if (r->left)
		return make_error(err, EINVAL, "%zu bytes after the last op", r->left);
	return 0;
}

/* The structural rules: phases in order, one CLONE, one WAIT_START, EXEC
 * last, monitor settings at most once, a terminal with one consumer. */
static bool bad_command(const struct arg *argv)
{
	return !argv->n || argv->list[0][0] != '/';
}

static int validate(struct plan *plan, struct berr *err)
{
	int seen[OP_MAX + 1] = { 0 };
	enum phase phase = PHASE_MONITOR;
	int capture, consumers;

	for (uint32_t i = 0; i < plan->count; i++) {
		const struct op *o = &plan->ops[i];
		enum phase ph = phase_of(o->code);
		bool once;

		err->step = i;
		err->op = op_name(o->code);
		if (ph < phase || (ph > PHASE_CLONE && phase == PHASE_MONITOR))
			return make_error(err, EINVAL, "op out of phase order");
		once = (ph <= PHASE_CLONE && o->code != OP_MONITOR_SETNS) ||
		       o->code == OP_WAIT_START || o->code == OP_EXEC ||
		       o->code == OP_TERMINAL;
		if (++seen[o->code] > 1 && once)
			return make_error(err, EINVAL, "op given twice");
		if (o->code == OP_EXEC && i != plan->count - 1)
			return make_error(err, EINVAL, "EXEC must be the last op");
		if (o->code == OP_CLONE) {
			plan->clone_at = i;
			if (o->args[0].num & ~(uint64_t)BERTH_CLONE_NEW_ALL)
				return make_error(err, EINVAL,
						  "flags %#llx are not all CLONE_NEW*",
						  (unsigned long long)o->args[0].num);
		}
		if ((o->code == OP_MONITOR_EXIT_COMMAND && bad_command(&o->args[0])) ||
		    (o->code == OP_MONITOR_HEALTHCHECK && bad_command(&o->args[2])))
			return make_error(err, EINVAL, "a command needs an absolute path first");
		if (o->code == OP_MONITOR_HEALTHCHECK &&
		    (!o->args[3].num || !o->args[4].num || !o->args[6].num || !o->args[7].num))
			return make_error(err, EINVAL, "a zero interval, timeout, start interval or retries");
		/* sock_fprog.len is an unsigned short of 8-byte instructions */
		if (o->code == OP_SECCOMP &&
		    (o->args[0].len % 8 || o->args[0].len / 8 > 0xffff))
			return make_error(err, EINVAL,
					  "program of %u bytes is not whole instructions",
					  o->args[0].len);
		phase = ph;
	}
	err->step = -1;
	err->op = "PLAN";
	if (!seen[OP_CLONE] || !seen[OP_WAIT_START] || !seen[OP_EXEC])
		return make_error(err, EINVAL, "a plan needs CLONE, WAIT_START and EXEC");
	capture = seen[OP_MONITOR_LOG_FILE] || seen[OP_MONITOR_ATTACH_SOCKET];
	consumers = seen[OP_MONITOR_CONSOLE_SOCKET] + seen[OP_MONITOR_RELAY_TERMINAL];
	if (seen[OP_TERMINAL] ? consumers + capture != 1 : consumers != 0)
		return make_error(err, EINVAL, "TERMINAL needs exactly one of "
				  "MONITOR_CONSOLE_SOCKET, MONITOR_RELAY_TERMINAL and "
				  "a kept output (MONITOR_LOG_FILE, MONITOR_ATTACH_SOCKET)");
	if (capture && seen[OP_MONITOR_RELAY_TERMINAL])
		return make_error(err, EINVAL, "MONITOR_RELAY_TERMINAL and a kept "
				  "output exclude each other");
	if (seen[OP_MONITOR_OPEN_STDIN] && !seen[OP_MONITOR_ATTACH_SOCKET])
		return make_error(err, EINVAL, "MONITOR_OPEN_STDIN needs "
				  "MONITOR_ATTACH_SOCKET (its clients feed stdin)");
	if (seen[OP_MONITOR_HAND_OFF] &&
	    (capture || seen[OP_MONITOR_EXIT_FILE] ||
	     seen[OP_MONITOR_RELAY_TERMINAL] || seen[OP_MONITOR_FORWARD_SIGNALS] ||
	     seen[OP_MONITOR_EXIT_COMMAND] || seen[OP_MONITOR_HEALTHCHECK]))
		return make_error(err, EINVAL, "MONITOR_HAND_OFF excludes what "
				  "needs the monitor to stay (exit file, relay, "
				  "forwarded signals, kept output, commands)");
	plan->terminal = seen[OP_TERMINAL];
	return 0;
}

int plan_read(int fd, struct plan *plan, struct berr *err)
{
	cleanup_free uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	struct reader r;

	memset(plan, 0, sizeof *plan);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *bigger;

			cap = cap ? cap * 2 : 16384;
			if (cap > PLAN_MAX_BYTES)
				return make_error(err, EFBIG, "plan larger than %u bytes",
						  PLAN_MAX_BYTES);
			if (!(bigger = realloc(buf, cap)))
				return make_error(err, ENOMEM, "reading the plan");
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {	/* handed a non-blocking fd */
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return make_error(err, errno, "read the plan from fd %d", fd);
		if (n == 0)
			break;
		len += n;
	}
	r.p = buf;
	r.left = len;
	if (parse(&r, plan, err) < 0 || validate(plan, err) < 0)
		return -1;
	return 0;
}

void plan_free(struct plan *plan)
{
	for (uint32_t i = 0; i < plan->count; i++) {
		struct op *o = &plan->ops[i];

		for (uint32_t j = 0; o->args && j < o->nargs; j++) {
			free(o->args[j].bytes);
			for (uint32_t k = 0; o->args[j].list && k < o->args[j].n; k++)
				free(o->args[j].list[k]);
			free(o->args[j].list);
		}
		free(o->args);
	}
	free(plan->ops);
	memset(plan, 0, sizeof *plan);
}

/* ---- dispatch --------------------------------------------------------- */

#define S(i) (o->args[i].bytes)
#define N(i) (o->args[i].num)
/* An empty string where the doc allows absence means NULL. */
#define OPT(i) (o->args[i].len ? o->args[i].bytes : NULL)

static int stamp(int ret, uint32_t step, const struct op *o, struct berr *err)
{
	if (ret < 0) {
		err->step = step;
		err->op = op_name(o->code);
	}
	return ret;
}

/* A list argument as an argv the monitor keeps after plan_free(). */
static char **list_dup(const struct arg *a)
{
	char **argv = xcalloc((size_t)a->n + 1, sizeof(char *));

	for (uint32_t i = 0; i < a->n; i++)
		argv[i] = xstrdup(a->list[i]);
	return argv;
}

int plan_run_monitor(const struct plan *plan, struct monitor_conf *conf,
		     struct berr *err)
{
	conf->terminal = plan->terminal;
	for (uint32_t i = 0; i < plan->clone_at; i++) {
		const struct op *o = &plan->ops[i];
		int ret = 0;

		switch (o->code) {
		case OP_MONITOR_EXIT_FILE:
			conf->exit_file = xstrdup(S(0));
			conf->exit_file_step = i;
			break;
		case OP_MONITOR_PID_FILE:
			conf->pid_file = xstrdup(S(0));
			conf->pid_file_step = i;
			break;
		case OP_MONITOR_CONSOLE_SOCKET:
			conf->console_socket = xstrdup(S(0));
			conf->console_step = i;
			break;
		case OP_MONITOR_RELAY_TERMINAL:
			conf->relay = true;
			break;
		case OP_MONITOR_FORWARD_SIGNALS:
			conf->forward = true;
			break;
		case OP_MONITOR_HAND_OFF:
			conf->hand_off = true;
			break;
		case OP_MONITOR_SETNS:
			ret = ns_setns(S(0), N(1), err);
			break;
		case OP_MONITOR_START_FIFO:
			ret = start_fifo_open(S(0), conf, err);
			break;
		case OP_MONITOR_LOG_FILE:
			conf->capture = true;
			ret = log_open(S(0), err);
			break;
		case OP_MONITOR_ATTACH_SOCKET:
			conf->capture = true;
			ret = attach_listen(S(0), err);
			break;
		case OP_MONITOR_OPEN_STDIN:
			conf->open_stdin = true;
			conf->stdin_once = N(0) != 0;
			break;
		case OP_MONITOR_EXIT_COMMAND:
			conf->exit_argv = list_dup(&o->args[0]);
			break;
		case OP_MONITOR_HEALTHCHECK:
			conf->healthcheck = true;
			conf->health = (struct health_conf){
				.plan = xstrdup(S(0)), .results = xstrdup(S(1)),
				.hook = list_dup(&o->args[2]),
				.interval = N(3), .timeout = N(4), .start_period = N(5),
				.start_interval = N(6), .retries = N(7),
				.paused_file = o->args[8].len ? xstrdup(S(8)) : NULL,
				.paused_text = xstrdup(S(9)),
			};
			break;
		}
		if (stamp(ret, i, o, err) < 0)
			return -1;
	}
	return 0;
}

int plan_run_parent(const struct plan *plan, pid_t child, struct berr *err)
{
	char path[4096], pid[16];

	snprintf(pid, sizeof pid, "%d", child);
	for (uint32_t i = plan->clone_at + 1; i < plan->count; i++) {
		const struct op *o = &plan->ops[i];
		int ret = 0;

		if (phase_of(o->code) != PHASE_PARENT)
			break;
		switch (o->code) {
		case OP_PARENT_WRITE_PROC:
			snprintf(path, sizeof path, "/proc/%d/%s", child, S(0));
			ret = write_file(path, S(1), o->args[1].len, err);
			break;
		case OP_PARENT_JOIN_CGROUP:
			ret = write_file(S(0), pid, strlen(pid), err);
			break;
		}
		if (stamp(ret, i, o, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * Handed off (MONITOR_HAND_OFF): the monitor has gone, and this process,
 * now its caller's subreaper's child, waits for the start byte itself, as
 * runc's init does on its exec FIFO. It holds a write end too, so that a
 * writer that comes and goes without writing does not end the wait (a
 * blocking read of a FIFO with no writer would return 0 at once).
 */
static int wait_fifo(int sync, int reader, struct berr *err)
{
	cleanup_close int rd = reader;
	cleanup_close int wr = -1;
	char byte;
	ssize_t n;

	if (sync_recv(sync, &wr, 0) != SYNC_HAND_OFF || wr < 0)
		return make_error(err, ECONNRESET, "the monitor left without the start FIFO");
	if (fcntl(rd, F_SETFL, 0) < 0)
		return make_error(err, errno, "make the start FIFO blocking");
	do
		n = read(rd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return make_error(err, n < 0 ? errno : EPIPE, "read the start FIFO");
	return 0;
}

static int wait_start(int sync, struct berr *err)
{
	int fd = -1;
	int msg;

	if (sync_send(sync, SYNC_WAITING, -1) < 0)
		return make_error(err, errno, "tell the monitor we wait");
	msg = sync_recv(sync, &fd, 0);
	if (msg == SYNC_HAND_OFF && fd >= 0)
		return wait_fifo(sync, fd, err);
	if (fd >= 0)
		close(fd);
	if (msg != SYNC_GO)
		return make_error(err, ECONNRESET, "the monitor went away");
	return 0;
}

static int run_child_op(const struct op *o, int sync, struct berr *err)
{
	switch (o->code) {
	case OP_SETNS:
		return ns_setns(S(0), N(1), err);
	case OP_UNSHARE:
		return ns_unshare(N(0), err);
	case OP_SET_IDS:
		return caps_set_ids(N(0), N(1), err);
	case OP_MOUNT:
		return mnt_mount(OPT(0), S(1), OPT(2), N(3), OPT(4), err);
	case OP_MOUNT_IN_ROOT:
		return mnt_mount_in_root(S(0), S(1), OPT(2), OPT(3), N(4), OPT(5),
					 N(6), err);
	case OP_MKNOD_IN_ROOT:
		return mnt_mknod_in_root(S(0), S(1), N(2), N(3), N(4), N(5),
					 OPT(6), err);
	case OP_SYMLINK_IN_ROOT:
		return mnt_symlink_in_root(S(0), S(1), S(2), err);
	case OP_PIVOT_ROOT:
		return mnt_pivot_root(S(0), err);
	case OP_CHROOT:
		return mnt_chroot(S(0), err);
	case OP_MASK_PATH:
		return mnt_mask_path(S(0), err);
	case OP_READONLY_PATH:
		return mnt_readonly_path(S(0), err);
	case OP_WRITE_FILE:
		return write_file(S(0), S(1), o->args[1].len, err);
	case OP_SETHOSTNAME:
		return ns_sethostname(S(0), err);
	case OP_SETDOMAINNAME:
		return ns_setdomainname(S(0), err);
	case OP_SETRLIMIT:
		return proc_setrlimit(N(0), N(1), N(2), err);
	case OP_TERMINAL:
		return term_create(sync, err);
	case OP_SETSID:
		return setsid() < 0 ? make_error(err, errno, "setsid") : 0;
	case OP_BOUNDING_SET:
		return caps_bounding_set(N(0), err);
	case OP_SETGROUPS:
		return caps_setgroups(o->args[0].list, o->args[0].n, err);
	case OP_SETUID_GID:
		return caps_setuid_gid(N(0), N(1), err);
	case OP_CAPSET:
		return caps_capset(N(0), N(1), N(2), err);
	case OP_AMBIENT:
		return caps_ambient(N(0), err);
	case OP_NO_NEW_PRIVS:
		return caps_no_new_privs(err);
	case OP_SECCOMP:
		return seccomp_load(S(0), o->args[0].len, N(1), err);
	case OP_CHDIR:
		return mnt_chdir(S(0), err);
	case OP_WAIT_START:
		return wait_start(sync, err);
	case OP_CLOSE_FROM:
		return proc_close_from(N(0), sync, err);
	case OP_EXEC:
		proc_exec(S(0), o->args[1].list, o->args[2].list);
	}
	return make_error(err, EINVAL, "not a child op");
}

/*
 * The container's process, between clone and execve. It waits until the
 * monitor has run the parent ops (the id maps must exist before it acts as
 * root of its user namespace), then runs its ops in plan order. A failure is
 * reported here, on the inherited fd 4, and told to the monitor with
 * SYNC_ERROR so the monitor says nothing more.
 */
_Noreturn void plan_run_child(const struct plan *plan, int sync)
{
	struct berr err = BERR_INIT;
	int fd = -1;
	uint32_t i;

	if (sync_recv(sync, &fd, 0) != SYNC_PARENT_DONE)
		_exit(125);	/* the monitor failed and reported, or died */
	for (i = plan->clone_at + 1; i < plan->count; i++) {
		const struct op *o = &plan->ops[i];

		if (phase_of(o->code) != PHASE_CHILD)
			continue;
		if (stamp(run_child_op(o, sync, &err), i, o, &err) < 0)
			break;
	}
	report_error(&err);
	sync_send(sync, SYNC_ERROR, -1);
	_exit(125);
}
