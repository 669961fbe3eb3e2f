/*
 * log.c — the container's output as Docker's json-file log: one JSON object
 * per line,
 *
 *     {"log":"hello\n","stream":"stdout","time":"2026-12-01T06:46:57.123456789Z"}
 *
 * A line is cut at "\n" and keeps it. A line that grows to 16 KiB without
 * one is written in 16 KiB pieces without "\n", as Docker's copier does (its
 * readers join such partial entries); so is what is left of a stream when
 * it ends. The time is when the entry is written, UTC, with nanoseconds.
 *
 * Escaping is Go's encoding/json, as Docker's writer has it: `"` and `\`,
 * \n \r \t, other control bytes and `<` `>` `&` as \u00XX, U+2028 and
 * U+2029 as \u2028 and \u2029, and each byte that does not belong to a
 * valid UTF-8 sequence as \ufffd (so the file is always valid JSON in UTF-8,
 * byte for byte what Docker's writer makes of the same output).
 *
 * Memory: one line buffer per stream in static storage, whose pages become
 * resident only as far as lines grow, and a small stack buffer per entry.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "plan.h"

#define LOG_LINE_MAX 16384

static int log_fd = -1;
static struct {
	char buf[LOG_LINE_MAX];
	size_t len;
} line[2];			/* stdout, stderr */

int log_open(const char *path, struct berr *err)
{
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (log_fd < 0)
		return make_error(err, errno, "open %s", path);
	return 0;
}

void log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

struct out {
	char buf[4096];
	size_t n;
};

/* A write that fails (disk full) loses that entry, never the container. */
static void out_flush(struct out *o)
{
	if (o->n)
		(void)write_all(log_fd, o->buf, o->n);
	o->n = 0;
}

static void out_put(struct out *o, const char *s, size_t len)
{
	while (len) {
		size_t room = sizeof o->buf - o->n;
		size_t take = len < room ? len : room;

		memcpy(o->buf + o->n, s, take);
		o->n += take;
		s += take;
		len -= take;
		if (o->n == sizeof o->buf)
			out_flush(o);
	}
}

/*
 * The length of the valid UTF-8 sequence at s (at most len bytes), with its
 * code point in *cp; 0 if the byte there starts none (Go's utf8.DecodeRune:
 * no overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_sequence(const unsigned char *s, size_t len, unsigned int *cp)
{
	size_t n;
	unsigned int min;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len < n)
		return 0;
	*cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static void out_escaped(struct out *o, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		char esc[6] = { '\\', 0 };
		size_t n = 2;

		if (c >= 0x80) {
			unsigned int cp = 0;
			size_t seq = utf8_sequence(s + i, len - i, &cp);

			if (seq && cp != 0x2028 && cp != 0x2029) {
				i += seq - 1;
				continue;
			}
			out_put(o, (const char *)s + start, i - start);
			out_put(o, seq ? (cp == 0x2028 ? "\\u2028" : "\\u2029") : "\\ufffd", 6);
			i += seq ? seq - 1 : 0;
			start = i + 1;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&')
			continue;
		out_put(o, (const char *)s + start, i - start);
		start = i + 1;
		if (c == '"' || c == '\\')
			esc[1] = c;
		else if (c == '\n')
			esc[1] = 'n';
		else if (c == '\r')
			esc[1] = 'r';
		else if (c == '\t')
			esc[1] = 't';
		else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		out_put(o, esc, n);
	}
	out_put(o, (const char *)s + start, len - start);
}

/*
 * RFC 3339 in UTC, by hand: gmtime_r and strftime would link glibc's
 * time zone and locale code into the helper (160 kB of text). The civil
 * date from a day count is Howard Hinnant's days_from_civil, reversed.
 */
static int rfc3339(const struct timespec *ts, char *buf, size_t size)
{
	long long days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
	long long era, doe, yoe, doy, mp, y, m, d;

	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	return snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ",
			y, m, d, secs / 3600, secs / 60 % 60, secs % 60, ts->tv_nsec);
}

/* One entry into the buffer; what one read brought is written together. */
static void entry(struct out *o, int stream, const char *data, size_t len)
{
	struct timespec ts;
	char stamp[64];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = rfc3339(&ts, stamp, sizeof stamp);
	out_put(o, "{\"log\":\"", 8);
	out_escaped(o, (const unsigned char *)data, len);
	out_put(o, stream == 1 ? "\",\"stream\":\"stdout\",\"time\":\""
				: "\",\"stream\":\"stderr\",\"time\":\"",
		28);
	out_put(o, stamp, n);
	out_put(o, "\"}\n", 3);
}

/* Output of stream 1 (stdout) or 2 (stderr), as it was read. */
void log_write(int stream, const char *data, size_t len)
{
	typeof(line[0]) *l = &line[stream - 1];
	struct out o = { .n = 0 };

	if (log_fd < 0)
		return;
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) + 1 : len;

		if (take > LOG_LINE_MAX - l->len)
			take = LOG_LINE_MAX - l->len;
		if (l->len == 0 && (take == LOG_LINE_MAX || data[take - 1] == '\n')) {
			entry(&o, stream, data, take);	/* whole: no copy */
		} else {
			memcpy(l->buf + l->len, data, take);
			l->len += take;
			if (l->len == LOG_LINE_MAX || l->buf[l->len - 1] == '\n') {
				entry(&o, stream, l->buf, l->len);
				l->len = 0;
			}
		}
		data += take;
		len -= take;
	}
	out_flush(&o);
}

/* The stream ended: what is left of its last line is an entry of its own. */
void log_end(int stream)
{
	typeof(line[0]) *l = &line[stream - 1];
	struct out o = { .n = 0 };

	if (log_fd >= 0 && l->len) {
		entry(&o, stream, l->buf, l->len);
		out_flush(&o);
	}
	l->len = 0;
}
