/*
 * Responses (response.c): the uniform error body, and the one writer
 * that renders status, headers and body in a single write. An error is
 * a struct api_error: its HTTP status, stable code and default message.
 * The runtime's own are below; the application defines its own.
 */
#ifndef FA_RESPONSE_H
#define FA_RESPONSE_H

#include <stddef.h>

struct json_object;
struct req;

struct api_error {
	int status;          /* HTTP status */
	const char *code;    /* stable machine code */
	const char *message; /* default human message */
};
typedef const struct api_error *api_err;

extern const struct api_error err_invalid_json, err_invalid_request,
    err_unsupported_media, err_payload_too_large, err_not_found,
    err_method_not_allowed, err_forbidden, err_rate_limited,
    err_service_unavailable, err_internal;
#define ERR_INVALID_JSON        (&err_invalid_json)        /* 400 */
#define ERR_INVALID_REQUEST     (&err_invalid_request)     /* 400 */
#define ERR_UNSUPPORTED_MEDIA   (&err_unsupported_media)   /* 415 */
#define ERR_PAYLOAD_TOO_LARGE   (&err_payload_too_large)   /* 413 */
#define ERR_NOT_FOUND           (&err_not_found)           /* 404 */
#define ERR_METHOD_NOT_ALLOWED  (&err_method_not_allowed)  /* 405 */
#define ERR_FORBIDDEN           (&err_forbidden)           /* 403 */
#define ERR_RATE_LIMITED        (&err_rate_limited)        /* 429 */
#define ERR_SERVICE_UNAVAILABLE (&err_service_unavailable) /* 503 */
#define ERR_INTERNAL            (&err_internal)            /* 500 */

#define CONTENT_TYPE_JSON "application/json; charset=utf-8"

void resp_header(struct req *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void resp_json(struct req *, int status, struct json_object *body);
void resp_header_kv(struct req *, const char *name, const char *value);
void resp_error(struct req *, api_err, const char *message);
void resp_error_extra(struct req *, api_err, const char *message,
    struct json_object *extra);
void resp_raw(struct req *, int status, const char *content_type,
    const char *body, size_t len);

#endif
