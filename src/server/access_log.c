/*
 * access_log.c
 *		scim-server's access log: one line per request on standard error.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

/* Tenths of a millisecond since t0. */
static long
tenths_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 10000L + (t1.tv_nsec - t0->tv_nsec) / 100000L;
}

/*
 * The access log: one line per request.  A worker gathers its lines and
 * writes them with one write(2) before it waits for more work, or when
 * they would pass PIPE_BUF, so that writes from different workers stay
 * whole even on a pipe; elsewhere (at shutdown) a line is written at
 * once.  One write per request and formatting the time every time were a
 * tenth of the server's own work on a lookup.  A worker killed outright
 * loses the lines of its last pass.
 */
#define LOG_BUFFER 4096			/* PIPE_BUF on Linux */

static __thread char log_buf[LOG_BUFFER];
static __thread size_t log_len;
static __thread bool log_gathers;	/* a worker's thread: AccessLogFlush() comes */
static __thread time_t log_second = -1;
static __thread char log_when[32];

/* Write out the lines gathered. */
void
AccessLogFlush(void)
{
	size_t		n = log_len;

	log_len = 0;
	if (n > 0 && write(STDERR_FILENO, log_buf, n) < 0)
		return;					/* nowhere left to say so */
}

/*
 * s for the access log, into out (of size n, cut short if need be): bytes
 * outside printable ASCII, the space and the backslash as \xNN, so that a
 * request is always one line of space-separated fields whatever its path
 * holds (a path is logged as sent: a decoded %0A would start a forged
 * line).
 */
void
LogEscape(char *out, size_t n, const char *s)
{
	size_t		o = 0;

	for (; *s && o + 5 < n; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c <= ' ' || c >= 0x7f || c == '\\')
			o += (size_t) snprintf(out + o, n - o, "\\x%02x", c);
		else
			out[o++] = (char) c;
	}
	out[o] = '\0';
}

/*
 * The request's line: its method, path as sent (NULL: "-"), status, time
 * since start and tenant ("" for none).
 */
void
AccessLog(const char *method, const char *raw_path, int status, const struct timespec *start, const char *tenant)
{
	char		line[1024];
	char		logged_path[520];
	char		logged_method[68];
	time_t		now = time(NULL);
	long		tenths = tenths_since(start);
	int			n;

	if (now != log_second)
	{
		struct tm	tm;

		gmtime_r(&now, &tm);
		strftime(log_when, sizeof(log_when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		log_second = now;
	}
	LogEscape(logged_path, sizeof(logged_path), raw_path ? raw_path : "-");
	LogEscape(logged_method, sizeof(logged_method), method);
	n = snprintf(line, sizeof(line), "%s %s %s %d %ld.%ldms %s\n", log_when, logged_method,
				 logged_path, status, tenths / 10, tenths % 10,
				 tenant[0] ? tenant : "-");
	if (n >= (int) sizeof(line))
	{
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (log_len + (size_t) n > sizeof(log_buf))
		AccessLogFlush();
	memcpy(log_buf + log_len, line, (size_t) n);
	log_len += (size_t) n;
	if (!log_gathers)
		AccessLogFlush();
}

/* Gather this thread's lines until AccessLogFlush() (a worker's), or write each at once. */
void
AccessLogGather(bool gather)
{
	log_gathers = gather;
}
