/*
 * error.c — errors, the report channel, and small I/O utilities.
 * The convention itself is written down in error.h.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int make_error(struct berr *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->errnum = errnum;
	return -1;
}

/*
 * The report channel is a pipe read by TypeScript. Each line goes out in a
 * single write(2) of less than PIPE_BUF bytes, so lines written by the
 * monitor and by the container's process before exec never interleave.
 * Failures are ignored: when nobody reads any more, there is nobody to tell.
 */
void report(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	(void)write_all(REPORT_FD, line, n);
}

void report_error(const struct berr *err)
{
	report("error %ld %d %s %s", err->step, err->errnum, err->op, err->msg);
}

static void out_of_memory(void)
{
	static const char msg[] = "error -1 12 PLAN out of memory\n";

	(void)write_all(REPORT_FD, msg, sizeof msg - 1);
	_exit(125);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory();
	return p;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int write_file(const char *path, const char *data, size_t len, struct berr *err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return make_error(err, errno, "open %s", path);
	n = write(fd, data, len);
	if (n < 0)
		return make_error(err, errno, "write %s", path);
	if ((size_t)n != len)
		return make_error(err, EIO, "short write to %s", path);
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len,
		      struct berr *err)
{
	char tmp[4096];
	cleanup_close int fd = -1;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return make_error(err, ENAMETOOLONG, "%s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return make_error(err, errno, "create %s", tmp);
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
		return make_error(err, errno, "write %s", tmp);
	if (rename(tmp, path) < 0)
		return make_error(err, errno, "rename %s to %s", tmp, path);
	return 0;
}
