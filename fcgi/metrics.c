/*
 * Prometheus metrics, aggregated across the pool: the master maps one
 * shared anonymous region before it forks, every worker adds to it with
 * atomic increments, and any worker renders the whole pool's numbers.
 */
#include <sys/mman.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define MAX_ROUTES 64 /* > the rows of routes[]; the last is "unmatched" */

static const int statuses[] = { 200, 201, 400, 401, 403, 404, 405, 409, 413,
	415, 429, 500, 501, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + other */

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBUCKET (sizeof(buckets) / sizeof(buckets[0]))

#define MAX_COUNTERS 32 /* the runtime's and the application's */

static const char *const runtime_names[MET__RUNTIME] = {
	[MET_RATE_LIMITED] = "rate_limited",
	[MET_PG_CONNECT] = "pg_connect",
	[MET_PG_CONNECT_FAIL] = "pg_connect_fail",
	[MET_REDIS_CONNECT] = "redis_connect",
	[MET_REDIS_CONNECT_FAIL] = "redis_connect_fail",
	[MET_WORKER_RESTART] = "worker_restart",
};
struct names {
	const char *const *v;
	size_t n;
};
static struct names app_counters; /* handed in by the application */

struct shm {
	uint64_t req[MAX_ROUTES][NSTATUS]; /* requests by route, status */
	uint64_t lat[MAX_ROUTES][NBUCKET]; /* latencies, not cumulative */
	uint64_t lat_count[MAX_ROUTES];    /* observations */
	uint64_t lat_sum_us[MAX_ROUTES];   /* total latency, microseconds */
	uint64_t counters[MAX_COUNTERS];   /* event counters */
};

static struct shm *shm;
static struct names route_labels; /* handed in by dispatch_init */

/* A list of names the application handed in (not copied). */
static int
hand_in(struct names *to, const char *const *v, size_t n, size_t max)
{
	if (n > max)
		return -1;
	to->v = v;
	to->n = n;
	return 0;
}

static const char *
name_at(const struct names *l, size_t i)
{
	return i < l->n ? l->v[i] : NULL;
}

/* The names of the application's counters, numbered from MET__RUNTIME. */
int
metrics_set_counters(const char *const *names, size_t n)
{
	return hand_in(&app_counters, names, n, MAX_COUNTERS - MET__RUNTIME);
}

/* The label of each route number (metrics_request's route), at start. */
int
metrics_set_routes(const char *const *labels, size_t n)
{
	return hand_in(&route_labels, labels, n, MAX_ROUTES - 1);
}

static const char *
counter_name(size_t i)
{
	if (i < MET__RUNTIME)
		return runtime_names[i];
	return name_at(&app_counters, i - MET__RUNTIME);
}

/* The label of route number i ("unmatched" for the last row), or NULL. */
static const char *
route_label(size_t i)
{
	if (i == MAX_ROUTES - 1)
		return "method=\"\",route=\"unmatched\"";
	return name_at(&route_labels, i);
}

int
metrics_init(void)
{
	void *p;

	p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	shm = p;
	return 0;
}

void
metrics_inc(int m)
{
	if (shm != NULL && m >= 0 && m < MAX_COUNTERS)
		__atomic_fetch_add(&shm->counters[m], 1, __ATOMIC_RELAXED);
}

void
metrics_request(int route, int status, double seconds)
{
	size_t s, b;

	if (shm == NULL)
		return;
	if (route < 0 || route >= MAX_ROUTES - 1)
		route = MAX_ROUTES - 1;
	for (s = 0; s < NSTATUS - 1 && statuses[s] != status; s++)
		;
	__atomic_fetch_add(&shm->req[route][s], 1, __ATOMIC_RELAXED);
	for (b = 0; b < NBUCKET && seconds > buckets[b]; b++)
		;
	if (b < NBUCKET)
		__atomic_fetch_add(&shm->lat[route][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&shm->lat_count[route], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&shm->lat_sum_us[route], (uint64_t)(seconds * 1e6),
	    __ATOMIC_RELAXED);
}

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Append to a growing buffer; returns -1 when out of memory. */
static int
out(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		if ((nb = realloc(*buf, *cap * 2 + (size_t)n)) == NULL)
			return -1;
		*buf = nb;
		*cap = *cap * 2 + (size_t)n;
	}
}

/* The Prometheus text exposition of the whole pool. */
char *
metrics_render(size_t *lenp)
{
	size_t len = 0, cap = 65536, i, s, b;
	uint64_t cum;
	const char *label;
	char *buf;
	int bad = 0;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	buf[0] = '\0';
	if (shm == NULL) {
		*lenp = 0;
		return buf;
	}
	bad |= out(&buf, &len, &cap,
	    "# HELP fcgi_auth_requests_total "
	    "Requests by route and status.\n# TYPE fcgi_auth_requests_total "
	    "counter\n");
	for (i = 0; i < MAX_ROUTES; i++) {
		if ((label = route_label(i)) == NULL)
			continue;
		for (s = 0; s < NSTATUS; s++)
			if (ld(&shm->req[i][s]))
				bad |= out(&buf, &len, &cap,
				    "fcgi_auth_requests_total{%s,status=\"%s%"
				    "d\"} %llu\n",
				    label, s < NSTATUS - 1 ? "" : "other",
				    s < NSTATUS - 1 ? statuses[s] : 0,
				    (unsigned long long)ld(&shm->req[i][s]));
	}
	bad |= out(&buf, &len, &cap,
	    "# HELP fcgi_auth_request_duration_seconds "
	    "Request latency by route.\n# TYPE "
	    "fcgi_auth_request_duration_seconds histogram\n");
	for (i = 0; i < MAX_ROUTES; i++) {
		if ((label = route_label(i)) == NULL || !ld(&shm->lat_count[i]))
			continue;
		for (b = 0, cum = 0; b < NBUCKET; b++) {
			cum += ld(&shm->lat[i][b]);
			bad |= out(&buf, &len, &cap,
			    "fcgi_auth_request_duration_"
			    "seconds_bucket{%s,le=\"%g\"} %llu\n",
			    label, buckets[b], (unsigned long long)cum);
		}
		bad |= out(&buf, &len, &cap,
		    "fcgi_auth_request_duration_seconds_"
		    "bucket{%s,le=\"+Inf\"} %llu\nfcgi_auth_request_duration_"
		    "seconds_sum{%s} %.6f\nfcgi_auth_request_duration_seconds_"
		    "count{%s} %llu\n",
		    label, (unsigned long long)ld(&shm->lat_count[i]), label,
		    (double)ld(&shm->lat_sum_us[i]) / 1e6, label,
		    (unsigned long long)ld(&shm->lat_count[i]));
	}
	for (i = 0; i < MAX_COUNTERS; i++)
		if ((label = counter_name(i)) != NULL)
			bad |= out(&buf, &len, &cap,
			    "# TYPE fcgi_auth_%s_total "
			    "counter\nfcgi_auth_%s_total %llu\n",
			    label, label,
			    (unsigned long long)ld(&shm->counters[i]));
	if (bad) {
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf;
}
