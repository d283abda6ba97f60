/*
 * One logging module: levelled lines on stderr with the request id.
 * Callers never pass passwords, tokens, codes, cookies or Authorization
 * values; the access log line carries only method, path, status, time
 * and user id.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "validate.h"

static enum log_level level = LOG_INFO;
static char reqid[REQID_MAX + 1];

static const char *const names[] = { "error", "warn", "info", "debug" };

/*
 * The pid on every line, asked of the kernel once per process (glibc
 * does not cache getpid): forgotten in a child at fork.
 */
static pid_t pid;

static void
forget_pid(void)
{
	pid = 0;
}

static int
log_pid(void)
{
	static int registered;

	if (!registered) {
		registered = pthread_atfork(NULL, NULL, forget_pid) == 0;
		if (!registered)
			return (int)getpid();
	}
	if (pid == 0)
		pid = getpid();
	return (int)pid;
}

void
log_set_level(const char *s)
{
	int i;

	for (i = 0; i <= LOG_DEBUG; i++)
		if (s != NULL && strcmp(s, names[i]) == 0)
			level = (enum log_level)i;
}

void
log_set_reqid(const char *id)
{
	if (id == NULL)
		reqid[0] = '\0';
	else
		str_copy(reqid, sizeof(reqid), id);
}

/*
 * "2026-12-01T15:04:05.123Z". The part up to the seconds is formatted
 * once a second (strftime was a tenth of the access line's cost).
 */
static size_t
stamp(char *buf, size_t len)
{
	static char secs[32];
	static time_t at = -1;
	static size_t n;
	struct timespec ts;
	struct tm tm;
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != at) {
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
		at = ts.tv_sec;
	}
	if (len < n + 6)
		return 0;
	memcpy(buf, secs, n);
	ms = ts.tv_nsec / 1000000;
	buf[n] = '.';
	buf[n + 1] = (char)('0' + ms / 100);
	buf[n + 2] = (char)('0' + ms / 10 % 10);
	buf[n + 3] = (char)('0' + ms % 10);
	buf[n + 4] = 'Z';
	return n + 5;
}

/* One write(2) per line keeps lines from different workers whole. */
static void
emit(char *buf, size_t n, size_t cap)
{
	ssize_t w;

	if (n >= cap - 1)
		n = cap - 2;
	/* Neutralise control characters so a line stays one line. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\t')
			buf[i] = '?';
	buf[n++] = '\n';
	while (n > 0 && (w = write(STDERR_FILENO, buf, n)) > 0) {
		buf += w;
		n -= (size_t)w;
	}
}

/* The length after a snprintf that returned k at n, within cap. */
static size_t
grown(size_t n, int k, size_t cap)
{
	if (k > 0)
		n += (size_t)k;
	return n > cap - 1 ? cap - 1 : n;
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	char buf[2048];
	size_t n;
	va_list ap;
	int k;

	if (l > level)
		return;
	n = stamp(buf, sizeof(buf));
	k = snprintf(buf + n, sizeof(buf) - n, " [%s] %d %s ", names[l],
	    log_pid(), reqid[0] ? reqid : "-");
	n = grown(n, k, sizeof(buf));
	va_start(ap, fmt);
	k = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	emit(buf, grown(n, k, sizeof(buf)), sizeof(buf));
}

/*
 * The access line, formatted by hand: it is written for every request,
 * and stdio's printf machinery (the %.3f above all) was most of its cost.
 */
void
log_request(const char *id, const char *method, const char *path, int status,
    double ms, const char *who)
{
	unsigned long long us =
	    ms > 0 ? (unsigned long long)(ms * 1e3 + 0.5) : 0;
	char buf[1024];
	size_t n;

	if (level < LOG_INFO)
		return;
	n = stamp(buf, sizeof(buf));
	buf_put(buf, &n, sizeof(buf), " [access] ", 16);
	buf_num(buf, &n, sizeof(buf), (unsigned long long)log_pid(), 1);
	buf_put(buf, &n, sizeof(buf), " ", 1);
	buf_put(buf, &n, sizeof(buf), id, REQID_MAX);
	buf_put(buf, &n, sizeof(buf), " ", 1);
	buf_put(buf, &n, sizeof(buf), method, 200);
	buf_put(buf, &n, sizeof(buf), " ", 1);
	buf_put(buf, &n, sizeof(buf), path, 200);
	buf_put(buf, &n, sizeof(buf), " ", 1);
	buf_num(buf, &n, sizeof(buf), status > 0 ? (unsigned)status : 0, 1);
	buf_put(buf, &n, sizeof(buf), " ", 1);
	buf_num(buf, &n, sizeof(buf), us / 1000, 1);
	buf_put(buf, &n, sizeof(buf), ".", 1);
	buf_num(buf, &n, sizeof(buf), us % 1000, 3);
	buf_put(buf, &n, sizeof(buf), "ms uid=", 8);
	buf_put(buf, &n, sizeof(buf), who && *who ? who : "-", 64);
	emit(buf, n, sizeof(buf));
}

/* Seconds on the monotonic clock. */
double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
