/*
 * Dispatch (dispatch.c): the mechanics of a route table the application
 * hands in at start. Shared checks run once, in a fixed order: 404, 405
 * (+Allow), loopback, pool, 413, 415, body, 401 (the application's
 * identify hook), 403 for a cross-site ambient credential, JSON, the
 * declared fields; then the handler runs and may assume they passed.
 */
#ifndef FA_DISPATCH_H
#define FA_DISPATCH_H

#include <stddef.h>

#include "fields.h"
#include "request.h"

typedef void (*handler_fn)(struct req *);
#define R_AUTH   0x01 /* a credential is required (identify) */
#define R_COOKIE 0x02 /* ... and may come as cookies (identify) */
#define R_PARAM \
	0x04 /* one variable segment: "/a/" ends in it, "/a/{}/b" holds it */
#define R_LOOPBACK 0x08 /* only from a loopback address */
#define R_HASH     0x10 /* hashes a password: the hash pool's */
#define R_JSON     0x20 /* the body must be a JSON object */
#define R_APP1     0x40 /* the application's own, handed to identify */
#define R_APP2     0x80 /* ... */
struct route {
	enum method method; /* HTTP method */
	const char *path;   /* below /api/v1; R_PARAM: "/a/" or "/a/{}/b" */
	handler_fn handler; /* the application's function */
	unsigned flags;     /* R_* */
	size_t body_max;    /* 0: no body accepted; else cap in bytes */
	const struct field *fields; /* the body it reads, r->arg[i] */
	size_t nfields;             /* <= FIELDS_MAX */
};

/* What the application hands dispatch, once, before the workers fork. */
struct routes {
	const struct route *rows;
	size_t n;
	/* R_AUTH rows: 0 with r->app/who set, or -1 with the answer written */
	int (*identify)(struct req *, unsigned flags);
};

int dispatch_init(const struct routes *);
void dispatch(struct req *);
const struct route *route_find(const char *path, enum method, int *path_known,
    char *allow, size_t allowlen, char *param, size_t paramlen);

#endif
