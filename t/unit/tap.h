/* A tiny TAP producer for the C unit tests run under prove. */
#ifndef TAP_H
#define TAP_H
#include <stdio.h>
static int tap_n, tap_fail;
#define ok(cond, ...) \
	do { \
		tap_n++; \
		if (cond) \
			printf("ok %d - ", tap_n); \
		else { \
			printf("not ok %d - ", tap_n); \
			tap_fail++; \
		} \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} while (0)
/* Table-driven cases: an input and whether it passes; an input and output. */
struct tap_case {
	const char *s;
	int ok;
};
struct tap_pair {
	const char *in, *out;
};
#define done_testing() (printf("1..%d\n", tap_n), tap_fail ? 1 : 0)
#endif
