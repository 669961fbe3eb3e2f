/*
 * error.h — the helper's one error convention, and the few utilities that
 * every file uses.
 *
 * THE CONVENTION (as crun's design-docs/error_handling.md):
 *
 *   Every function that can fail takes `struct berr *err` as its last
 *   argument. On failure it returns a negative number after filling *err
 *   with make_error(err, errno, "what it did to which path", ...). On success
 *   it returns >= 0 and leaves *err alone. Callers never print; they return
 *   the failure upwards unchanged.
 *
 *   The plan dispatcher (plan.c) is the only place that knows which step is
 *   running: it stamps err->step and err->op and calls report_error(), which
 *   writes one line to the report channel (fd 4):
 *
 *       error <step> <errno> <OP_NAME> <message>
 *
 *   <step> is the op's 0-based index in the plan, or -1 when the plan as a
 *   whole is unreadable (op PLAN).
 *
 *   Allocation does not fail: xmalloc() ends the helper with 125 when the
 *   kernel has no memory left, so nobody checks for NULL.
 *
 *   Cleanup is bound to scope: `cleanup_free char *p = ...;` and
 *   `cleanup_close int fd = ...;` release on every return path; hand a value
 *   out by setting the variable to NULL / -1 first.
 */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define PLAN_FD 3
#define REPORT_FD 4

struct berr {
	long step;		/* plan index, -1 for the plan as a whole */
	const char *op;		/* the op's name, as in docs/plan-format.md */
	int errnum;
	char msg[512];		/* names the path (or value) acted on */
};
#define BERR_INIT { .step = -1, .op = "PLAN" }

/* Fill *err; returns -1 so that `return make_error(...)` reads naturally. */
int make_error(struct berr *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line on the report channel; newlines inside become spaces. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_error(const struct berr *err);

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

/* write(2) until done, retrying on EINTR; -1 with errno on failure. */
int write_all(int fd, const void *buf, size_t len);
/* open O_WRONLY (no create) and write `data` in ONE write(2): /proc files
 * such as uid_map and sysctls take their whole value in a single write. */
int write_file(const char *path, const char *data, size_t len, struct berr *err);
/* Write to path.tmp, fsync, rename over path: readers see old or new. */
int write_file_atomic(const char *path, const char *data, size_t len,
		      struct berr *err);

static inline void cleanup_free_fn(void *p)
{
	free(*(void **)p);
}
static inline void cleanup_close_fn(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define cleanup_free __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close __attribute__((cleanup(cleanup_close_fn)))

#endif
