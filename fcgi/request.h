/*
 * A request (request.c): the FastCGI parameters it came with, bounded
 * and sanitised once, its body and parsed JSON, the checked body fields,
 * and the state of its response.
 */
#ifndef FA_REQUEST_H
#define FA_REQUEST_H

#include <stddef.h>
#include <time.h>

#include "crypto.h"
#include "validate.h"

struct json_object;
struct FCGX_Request;

#define API_PREFIX       "/api/v1"
#define BODY_MAX_DEFAULT (16 * 1024) /* API.md: bodies over 16 KiB are 413 */
#define AUTHZ_MAX        (8 * 1024) /* longer Authorization is refused unparsed */
#define UA_MAX           512        /* bytes of User-Agent kept (stored) */
#define ADDR_MAX         64         /* bytes of REMOTE_ADDR kept */
#define FIELDS_MAX       8          /* declared body fields of a route */

enum method {
	M_GET,
	M_POST,
	M_PATCH,
	M_DELETE,
	M_PUT,
	M_HEAD,
	M_OPTIONS,
	M_OTHER
};

/*
 * The parameters a location of the nginx site sets for forward
 * authentication (API.md: fastcgi_param AUTH_REQUIRE_ROLE ...).
 */
enum loc_param {
	LOC_REQUIRE_ROLE,
	LOC_REQUIRE_MFA,
	LOC_MAX_AGE,
	LOC_REQUIRE_SCOPE,
	LOC__N
};

struct hdr {
	char *line; /* "Name: value", owned */
};

struct req {
	struct FCGX_Request *fcgx;   /* libfcgi request, borrowed */
	enum method method;          /* parsed REQUEST_METHOD */
	const char *method_str;      /* borrowed until finish */
	const char *path;            /* path below /api/v1, borrowed */
	const char *query;           /* QUERY_STRING, borrowed */
	const char *content_type;    /* CONTENT_TYPE or NULL */
	long long content_length;    /* -1 if absent */
	const char *remote_addr;     /* REMOTE_ADDR, "" if absent */
	const char *user_agent;      /* HTTP_USER_AGENT, "" if absent */
	const char *authorization;   /* HTTP_AUTHORIZATION or NULL */
	const char *cookie;          /* HTTP_COOKIE or NULL */
	const char *origin;          /* HTTP_ORIGIN or NULL */
	const char *fetch_site;      /* HTTP_SEC_FETCH_SITE or NULL */
	const char *host;            /* HTTP_HOST or NULL */
	const char *scheme;          /* REQUEST_SCHEME ("http" if absent) */
	const char *server_port;     /* SERVER_PORT or NULL */
	const char *accept;          /* HTTP_ACCEPT or NULL */
	const char *original_uri;    /* AUTH_ORIGINAL_URI (forward auth) */
	const char *loc[LOC__N];     /* AUTH_REQUIRE_* / AUTH_MAX_AGE or NULL */
	char reqid[REQID_MAX + 1];   /* echoed or generated X-Request-Id */
	char ua_buf[UA_MAX + 1];     /* User-Agent as valid, bounded UTF-8 */
	char addr_buf[ADDR_MAX + 1]; /* REMOTE_ADDR, likewise */
	char param[UUID_LEN + 8]; /* trailing path segment of R_PARAM routes */
	char *body;               /* NUL-terminated body, owned */
	size_t body_len;          /* bytes in body */
	struct json_object *json; /* parsed body object, owned */
	const char
	    *arg[FIELDS_MAX]; /* the route's checked fields, NULL if absent */
	int route;            /* index in the route table, -1 if none */
	/* who is asking: set by the application's identify hook */
	void *app;                /* its per-request state, owned */
	void (*app_free)(void *); /* releases app at req_free */
	char who[UUID_LEN + 1];   /* the principal, for the access log */
	int ambient; /* credential came with the browser (cookie) */
	/* work for after the response is sent (the worker calls it) */
	void (*after)(struct req *);
	/* response state */
	int status;            /* 0 until a response is written */
	struct hdr hdrs[16];   /* extra response headers */
	size_t nhdrs;          /* used entries of hdrs */
	int no_store;          /* Cache-Control: no-store */
	struct timespec start; /* for the access log */
};

void req_init(struct req *, struct FCGX_Request *, char **envp);
void req_free(struct req *);
int req_read_body(struct req *, size_t max);
int req_parse_json(struct req *, char *dupkey, size_t dupkeylen);
int req_same_origin(const struct req *);
int req_origin_ours(const struct req *, const char *origin, size_t len);
int req_cookie(const char *header, const char *name, char *out, size_t outlen);
int req_bearer(const char *header, const char **tok, size_t *len);
int req_query(const char *query, const char *name, char *out, size_t outlen);
void req_set_who(struct req *, const char *who);
enum method req_method(const char *);
const char *method_name(enum method);

#endif
