/*
 * health.c — a container's healthcheck, kept by its monitor: Docker's
 * daemon/health.go without a daemon, and without starting Node at every
 * probe. MONITOR_HEALTHCHECK gives the schedule and where things go; here:
 *
 *   - The wait before each probe is the one Docker's monitor waits
 *     (getInterval), counted from the end of the previous probe (or from
 *     the start): the start interval while the status is still "starting"
 *     inside the start period, the interval otherwise, and never past the
 *     end of the start period. A tick while the container is paused (its
 *     freezer file reads as frozen) probes nothing, as Docker's monitor
 *     stops while a container is paused.
 *   - A probe is a helper of its own: this very binary (the sealed copy,
 *     /proc/self/exe) with the probe's plan on fd 3, the plan `exec` would
 *     run (the container's namespaces, cgroup, user, env and cwd), written
 *     by the runtime once the container's pid was known. Its stdout and
 *     stderr share one pipe, of which the first 4096 bytes are kept; its
 *     report channel is another pipe, read for the probe's pid (`created`)
 *     and for a failure to start it (`exec-failed`, `error`).
 *   - At the timeout the probe's process group (it leads a session: SETSID)
 *     gets SIGKILL, again every 100 ms until its helper has ended.
 *   - Each result counts as Docker's handleProbeResult counts it: a success
 *     makes "healthy" and clears the failing streak; a failure adds to the
 *     streak, unless it started inside the start period while "starting",
 *     and the streak reaching the retries makes "unhealthy".
 *   - After each probe the results file is rewritten (see docs/plan-format.md,
 *     *Health results*): the status, the streak and the last 5 results, raw.
 *     Only when the status changed does the hook run, with the new status as
 *     its last argument: the engine starts Node for changes, not for probes.
 *
 * What a result says in words (the timeout message, what a failed start
 * means) is the engine's business: the file holds facts.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"

#define KEEP 5
#define OUTPUT_MAX 4096
#define KILL_AGAIN_NS 100000000ULL

enum status { STARTING, HEALTHY, UNHEALTHY };
static const char *const STATUS_NAME[] = { "starting", "healthy", "unhealthy" };

struct result {
	long long start_ns, end_ns;	/* CLOCK_REALTIME */
	int exit_code;			/* -1 when it timed out or did not start */
	const char *how;		/* "exited", "timeout", "failed" */
	bool truncated;			/* more than OUTPUT_MAX bytes came */
	size_t len;
	char output[OUTPUT_MAX];	/* for "failed": the helper's report line */
};

static const struct health_conf *hc;
static int timer_fd = -1;
static uint64_t started_ns;		/* CLOCK_MONOTONIC, when the container started */
static enum status status = STARTING;
static uint64_t streak;
static struct result ring[KEEP];
static unsigned long results;		/* how many there were: the next goes to ring[results % KEEP] */

/* The probe running now (helper 0: none). */
static struct {
	pid_t helper, pid;
	int out, report;
	uint64_t start_mono;
	bool timed_out;
	char reports[1024];
	size_t reports_len;
} probe = { .out = -1, .report = -1 };

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void arm(uint64_t ns)
{
	struct itimerspec when = { 0 };

	if (ns == 0)
		ns = 1;		/* 0 would disarm it */
	when.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	when.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	timerfd_settime(timer_fd, 0, &when, NULL);
}

static uint64_t next_wait(void)
{
	uint64_t elapsed = now_ns(CLOCK_MONOTONIC) - started_ns;
	uint64_t wait = status == STARTING ? hc->start_interval : hc->interval;

	if (elapsed >= hc->start_period)
		return hc->interval;
	return wait < hc->start_period - elapsed ? wait : hc->start_period - elapsed;
}

static bool paused(void)
{
	cleanup_close int fd = -1;
	size_t want;
	char buf[32];
	ssize_t n;

	if (!hc->paused_file)
		return false;
	fd = open(hc->paused_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf);
	want = strlen(hc->paused_text);
	return n >= (ssize_t)want && memcmp(buf, hc->paused_text, want) == 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* What the probe's helper has said so far; the first `created` names the probe. */
static void read_reports(void)
{
	ssize_t n;
	const char *created;

	while (probe.report >= 0 && probe.reports_len < sizeof probe.reports - 1 &&
	       (n = read(probe.report, probe.reports + probe.reports_len,
			 sizeof probe.reports - 1 - probe.reports_len)) > 0)
		probe.reports_len += (size_t)n;
	probe.reports[probe.reports_len] = '\0';
	if (!probe.pid && (created = strstr(probe.reports, "created ")) &&
	    (created == probe.reports || created[-1] == '\n'))
		probe.pid = (pid_t)atoi(created + 8);
}

/* The report line that says the probe could not start, or NULL. */
static const char *failure_line(size_t *len)
{
	for (const char *line = probe.reports; *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (!strncmp(line, "exec-failed ", 12) || !strncmp(line, "error ", 6)) {
			*len = n;
			return line;
		}
		line += n + (end != NULL);
	}
	return NULL;
}

/* Read what the probe wrote: its first OUTPUT_MAX bytes are kept. False once there is nothing more now. */
static bool read_output(void)
{
	struct result *r = &ring[results % KEEP];
	char sink[4096];
	ssize_t n;

	if (probe.out < 0)
		return false;
	if (r->len < OUTPUT_MAX)
		n = read(probe.out, r->output + r->len, OUTPUT_MAX - r->len);
	else
		n = read(probe.out, sink, sizeof sink);
	if (n > 0) {
		if (r->len < OUTPUT_MAX)
			r->len += (size_t)n;
		else
			r->truncated = true;
		return true;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		close_fd(&probe.out);
	return false;
}

static void start_probe(void)
{
	static char *const argv[] = { "berth-helper", NULL };
	struct result *r = &ring[results % KEEP];
	cleanup_close int plan = open(hc->plan, O_RDONLY | O_CLOEXEC);
	int out[2] = { -1, -1 }, rep[2] = { -1, -1 };
	pid_t pid;

	*r = (struct result){ .start_ns = (long long)now_ns(CLOCK_REALTIME) };
	probe.start_mono = now_ns(CLOCK_MONOTONIC);
	probe.pid = 0;
	probe.timed_out = false;
	probe.reports_len = 0;
	probe.reports[0] = '\0';
	if (plan < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		int e = errno;

		/* Counted as a probe that could not start, in the helper's words. */
		probe.reports_len = (size_t)snprintf(probe.reports, sizeof probe.reports,
			"error -1 %d MONITOR_HEALTHCHECK cannot start a probe with %s",
			e, hc->plan);
		for (int i = 0; i < 2; i++) {
			close_fd(&out[i]);
			close_fd(&rep[i]);
		}
		probe.helper = -1;
		return;
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		/* Fds 0-4 of the monitor are taken (reserve_low_fds), so these are all above 4. */
		if (dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0 ||
		    dup2(plan, PLAN_FD) < 0 || dup2(rep[1], REPORT_FD) < 0)
			_exit(125);
		proc_close_range(REPORT_FD + 1, ~0u);
		execv("/proc/self/exe", argv);
		_exit(125);
	}
	close(out[1]);
	close(rep[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(rep[0], F_SETFL, O_NONBLOCK);
	probe.out = out[0];
	probe.report = rep[0];
	probe.helper = pid;
	arm(hc->timeout);
}

static void kill_probe(void)
{
	read_reports();
	if (probe.pid > 0) {
		kill(-probe.pid, SIGKILL);
		kill(probe.pid, SIGKILL);
	} else if (probe.helper > 0) {
		kill(probe.helper, SIGKILL);	/* it never got as far as the probe */
	}
}

static int append(char *buf, size_t size, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t size, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + at, size - at, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * The results file, rewritten whole and renamed into place, so a reader
 * sees the old or the new. Not fsync'd: it is rewritten at every probe, a
 * crash loses only the latest results, and the monitor's loop (which also
 * carries the container's output) must not wait on the disk.
 */
static void write_results(void)
{
	static char buf[128 + KEEP * (OUTPUT_MAX + 128)];
	char tmp[4096];
	size_t len;
	int fd;

	len = (size_t)append(buf, sizeof buf, 0, "berth-health 1 %s %llu\n",
			     STATUS_NAME[status], (unsigned long long)streak);
	for (unsigned long i = results > KEEP ? results - KEEP : 0; i < results; i++) {
		const struct result *r = &ring[i % KEEP];

		len += (size_t)append(buf, sizeof buf, len, "%lld %lld %d %s %d %zu\n",
				      r->start_ns, r->end_ns, r->exit_code, r->how,
				      r->truncated, r->len);
		memcpy(buf + len, r->output, r->len);
		len += r->len;
		buf[len++] = '\n';
	}
	if (snprintf(tmp, sizeof tmp, "%s.tmp", hc->results) >= (int)sizeof tmp)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	if (write_all(fd, buf, len) < 0 || close(fd) < 0 || rename(tmp, hc->results) < 0)
		unlink(tmp);
}

static void run_hook(void)
{
	size_t n = 0;

	while (hc->hook[n])
		n++;
	{
		char *argv[n + 2];

		memcpy(argv, hc->hook, n * sizeof *argv);
		argv[n] = (char *)STATUS_NAME[status];
		argv[n + 1] = NULL;
		cmd_spawn(argv);
	}
}

/* The probe's helper has ended with wait status `ws`: count the result. */
static void finish_probe(int ws)
{
	struct result *r = &ring[results % KEEP];
	enum status before = status;
	const char *failed;
	size_t failed_len = 0;

	read_reports();
	for (int reads = 0; reads < 256 && read_output(); reads++)
		;	/* bounded: a process the probe left may keep writing */
	close_fd(&probe.out);
	close_fd(&probe.report);
	probe.helper = 0;
	r->end_ns = (long long)now_ns(CLOCK_REALTIME);
	failed = failure_line(&failed_len);
	if (probe.timed_out) {
		r->how = "timeout";
		r->exit_code = -1;
	} else if (failed || !WIFEXITED(ws)) {
		r->how = "failed";
		r->exit_code = -1;
		r->len = failed_len < OUTPUT_MAX ? failed_len : OUTPUT_MAX;
		if (failed)
			memcpy(r->output, failed, r->len);
		r->truncated = false;
	} else {
		r->how = "exited";
		r->exit_code = WEXITSTATUS(ws);
	}
	results++;

	if (r->exit_code == 0) {
		status = HEALTHY;
		streak = 0;
	} else if (!(status == STARTING && probe.start_mono - started_ns < hc->start_period) &&
		   ++streak >= hc->retries) {
		status = UNHEALTHY;
	}
	write_results();
	if (status != before)
		run_hook();
	arm(next_wait());
}

void health_start(const struct health_conf *conf)
{
	hc = conf;
	started_ns = now_ns(CLOCK_MONOTONIC);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_fd >= 0)
		arm(next_wait());
}

int health_pollfds(struct pollfd *pfd)
{
	int n = 0;

	if (timer_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = timer_fd, .events = POLLIN };
	if (probe.out >= 0)
		pfd[n++] = (struct pollfd){ .fd = probe.out, .events = POLLIN };
	return n;
}

void health_events(const struct pollfd *pfd, int n)
{
	uint64_t ticks;

	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == probe.out) {
			for (int round = 0; round < 16 && read_output(); round++)
				;
			continue;
		}
		if (pfd[i].fd != timer_fd || read(timer_fd, &ticks, sizeof ticks) != sizeof ticks)
			continue;
		if (probe.helper > 0) {		/* its time is up */
			probe.timed_out = true;
			kill_probe();
			arm(KILL_AGAIN_NS);
		} else if (paused()) {
			arm(next_wait());
		} else {
			start_probe();
			if (probe.helper < 0)	/* it could not even start */
				finish_probe(0);
		}
	}
}

bool health_owns(pid_t pid)
{
	return hc && pid == probe.helper;
}

void health_probe_ended(int ws)
{
	finish_probe(ws);
}

void health_stop(void)
{
	if (probe.helper > 0)
		kill_probe();
	probe.helper = 0;
	close_fd(&probe.out);
	close_fd(&probe.report);
	close_fd(&timer_fd);
}
