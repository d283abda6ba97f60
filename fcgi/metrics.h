/*
 * Prometheus metrics (metrics.c), aggregated across the pool in memory
 * the master shares. The runtime's counters are below; the application
 * hands in the names of its own (numbered from MET__RUNTIME) at start,
 * and the route labels come from dispatch_init.
 */
#ifndef FA_METRICS_H
#define FA_METRICS_H

#include <stddef.h>

enum metric {
	MET_RATE_LIMITED,
	MET_PG_CONNECT,
	MET_PG_CONNECT_FAIL,
	MET_REDIS_CONNECT,
	MET_REDIS_CONNECT_FAIL,
	MET_WORKER_RESTART,
	MET__RUNTIME
};
int metrics_init(void);
int metrics_set_counters(const char *const *names, size_t n);
int metrics_set_routes(const char *const *labels, size_t n);
void metrics_inc(int counter);
void metrics_request(int route, int status, double seconds);
char *metrics_render(size_t *len);

#endif
