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
		snprintf(reqid, sizeof(reqid), "%s", id);
}

static size_t
stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return n;
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

void
log_request(const char *id, const char *method, const char *path, int status,
    double ms, const char *who)
{
	char buf[1024];
	size_t n;
	int k;

	if (level < LOG_INFO)
		return;
	n = stamp(buf, sizeof(buf));
	k = snprintf(buf + n, sizeof(buf) - n,
	    " [access] %d %s %s %.200s %d %.3fms uid=%s", log_pid(), id, method,
	    path, status, ms, who && *who ? who : "-");
	emit(buf, grown(n, k, sizeof(buf)), sizeof(buf));
}

/* Seconds on the monotonic clock. */
double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
