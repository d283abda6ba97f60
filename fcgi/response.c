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

/* Render the CGI response (headers + body); returns its length. */
static const char *ctype = "application/json; charset=utf-8";

size_t
resp_render(struct req *r, const char *body, size_t bodylen, char **out)
{
	size_t cap = 512 + bodylen, n = 0, i;
	const char *nostore;
	char *buf;
	int k;

	for (i = 0; i < r->nhdrs; i++)
		cap += strlen(r->hdrs[i].line) + 2;
	if ((buf = malloc(cap)) == NULL) {
		*out = NULL;
		return 0;
	}
	nostore = "";
	if (r->no_store)
		nostore = "Cache-Control: no-store\r\nPragma: no-cache\r\n";
	k = snprintf(buf, cap,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n%s",
	    r->status, reason(r->status), ctype, bodylen, r->reqid, nostore);
	n = (size_t)k;
	for (i = 0; i < r->nhdrs; i++) {
		k = snprintf(buf + n, cap - n, "%s\r\n", r->hdrs[i].line);
		n += (size_t)k;
	}
	memcpy(buf + n, "\r\n", 2);
	n += 2;
	memcpy(buf + n, body, bodylen);
	n += bodylen;
	*out = buf;
	return n;
}

static void
write_out(struct req *r, const char *body, size_t len)
{
	char *buf;
	size_t n;

	n = resp_render(r, body, len, &buf);
	if (buf == NULL)
		return;
	if (r->fcgx != NULL && r->method != M_HEAD)
		FCGX_PutStr(buf, (int)n, r->fcgx->out);
	else if (r->fcgx != NULL)
		FCGX_PutStr(buf, (int)(n - len), r->fcgx->out);
	free(buf);
}

/* A non-JSON body (the Prometheus text of /metrics). */
void
resp_raw(struct req *r, int status, const char *content_type, const char *body,
    size_t len)
{
	if (r->status != 0)
		return;
	r->status = status;
	ctype = content_type;
	write_out(r, body, len);
	ctype = "application/json; charset=utf-8";
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
