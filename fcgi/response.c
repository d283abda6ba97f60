/*
 * Responses: the uniform error body, and the one writer that renders
 * status, headers and body in a single write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "request.h"
#include "response.h"

const struct api_error err_invalid_json = { 400, "invalid_json",
	"Request body must be a JSON object" };
const struct api_error err_invalid_request = { 400, "invalid_request",
	"Invalid request" };
const struct api_error err_unsupported_media = { 415, "unsupported_media_type",
	"Content-Type must be application/json" };
const struct api_error err_payload_too_large = { 413, "payload_too_large",
	"Request body too large" };
const struct api_error err_not_found = { 404, "not_found", "Not found" };
const struct api_error err_method_not_allowed = { 405, "method_not_allowed",
	"Method not allowed" };
const struct api_error err_forbidden = { 403, "forbidden", "Forbidden" };
const struct api_error err_rate_limited = { 429, "rate_limited",
	"Too many requests, try again later" };
const struct api_error err_service_unavailable = { 503, "service_unavailable",
	"Service temporarily unavailable" };
const struct api_error err_internal = { 500, "internal_error",
	"Internal error" };

void
resp_header(struct req *r, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (r->nhdrs >= sizeof(r->hdrs) / sizeof(r->hdrs[0]))
		return;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		line = NULL;
	va_end(ap);
	if (line == NULL)
		return;
	/* A header value never carries a line break. */
	if (strpbrk(line, "\r\n") != NULL) {
		free(line);
		return;
	}
	r->hdrs[r->nhdrs++].line = line;
}

/* Add "name: value" as it is, without formatting (the fast path's). */
void
resp_header_kv(struct req *r, const char *name, const char *value)
{
	size_t a = strlen(name), b = strlen(value);
	char *line;

	if (r->nhdrs >= sizeof(r->hdrs) / sizeof(r->hdrs[0]) ||
	    strpbrk(value, "\r\n") != NULL ||
	    (line = malloc(a + b + 3)) == NULL)
		return;
	memcpy(line, name, a);
	line[a] = ':';
	line[a + 1] = ' ';
	memcpy(line + a + 2, value, b + 1);
	r->hdrs[r->nhdrs++].line = line;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static const char *ctype = CONTENT_TYPE_JSON;

#define HEAD_LIT(h, len, lit) buf_put(h, len, sizeof(h), lit, sizeof(lit) - 1)

/*
 * The CGI response straight into libfcgi's output buffer: the fixed
 * head (assembled by hand, as this runs for every request), the extra
 * header lines, the body (none for HEAD).
 */
static void
write_out(struct req *r, const char *body, size_t len)
{
	char head[512];
	const char *why;
	size_t n = 0, i;

	if (r->fcgx == NULL)
		return;
	HEAD_LIT(head, &n, "Status: ");
	buf_num(head, &n, sizeof(head),
	    (unsigned)(r->status > 0 && r->status < 1000 ? r->status : 500), 1);
	HEAD_LIT(head, &n, " ");
	why = reason(r->status);
	buf_put(head, &n, sizeof(head), why, strlen(why));
	HEAD_LIT(head, &n, "\r\nContent-Type: ");
	buf_put(head, &n, sizeof(head), ctype, strlen(ctype));
	HEAD_LIT(head, &n, "\r\nContent-Length: ");
	buf_num(head, &n, sizeof(head), len, 1);
	HEAD_LIT(head, &n, "\r\nX-Request-Id: ");
	buf_put(head, &n, sizeof(head), r->reqid, strlen(r->reqid));
	HEAD_LIT(head, &n, "\r\nX-Content-Type-Options: nosniff\r\n");
	if (r->no_store)
		HEAD_LIT(head, &n,
		    "Cache-Control: no-store\r\nPragma: no-cache\r\n");
	FCGX_PutStr(head, (int)n, r->fcgx->out);
	for (i = 0; i < r->nhdrs; i++) {
		FCGX_PutS(r->hdrs[i].line, r->fcgx->out);
		FCGX_PutStr("\r\n", 2, r->fcgx->out);
	}
	FCGX_PutStr("\r\n", 2, r->fcgx->out);
	if (r->method != M_HEAD && len > 0)
		FCGX_PutStr(body, (int)len, r->fcgx->out);
}

/* A body already rendered: the Prometheus text of /metrics, a constant. */
void
resp_raw(struct req *r, int status, const char *content_type, const char *body,
    size_t len)
{
	if (r->status != 0)
		return;
	r->status = status;
	ctype = content_type;
	write_out(r, body, len);
	ctype = CONTENT_TYPE_JSON;
}

/* Write a JSON response; takes ownership of body. */
void
resp_json(struct req *r, int status, struct json_object *body)
{
	const char *s;
	size_t len;

	if (r->status != 0) {
		json_object_put(body);
		return;
	}
	if (body == NULL) {
		static const char fallback[] =
		    "{\"error\":\"internal_error\","
		    "\"message\":\"Internal error\"}";

		r->status = 500;
		write_out(r, fallback, sizeof(fallback) - 1);
		return;
	}
	r->status = status;
	s = json_object_to_json_string_length(body,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	write_out(r, s, len);
	json_object_put(body);
}

void
resp_error_extra(struct req *r, api_err e, const char *message,
    struct json_object *extra)
{
	struct json_object *o;

	if ((o = json_object_new_object()) == NULL) {
		json_object_put(extra);
		resp_json(r, e->status, NULL);
		return;
	}
	json_object_object_add(o, "error", json_object_new_string(e->code));
	json_object_object_add(o, "message",
	    json_object_new_string(message ? message : e->message));
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
		    json_object_object_add(o, k, json_object_get(v));
		json_object_put(extra);
	}
	if (e->status == 401) {
		/* RFC 6750: name the error when a token was presented. */
		if (strcmp(e->code, "invalid_token") == 0 &&
		    (r->authorization != NULL || r->body_len > 0))
			resp_header(r,
			    "WWW-Authenticate: Bearer error=\"invalid_token\"");
		else
			resp_header(r, "WWW-Authenticate: Bearer");
	}
	resp_json(r, e->status, o);
}

void
resp_error(struct req *r, api_err e, const char *message)
{
	resp_error_extra(r, e, message, NULL);
}
