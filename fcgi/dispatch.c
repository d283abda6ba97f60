/*
 * Dispatch: the mechanics of the application's route table (handed in
 * by dispatch_init; the order of checks is in dispatch.h). R_HASH rows
 * hash a password: when the master runs a hash pool, the fast pool
 * refuses them (nginx routes them to the hash socket), so no flood of
 * them can occupy the workers of token checks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "dispatch.h"
#include "log.h"
#include "metrics.h"
#include "response.h"
#include "worker.h"

static const struct routes *app; /* handed in by dispatch_init */

static int
path_match(const struct route *rt, const char *path, char *param,
    size_t paramlen)
{
	const char *hole, *tail;
	size_t plen, tlen, n;

	if (!(rt->flags & R_PARAM))
		return strcmp(rt->path, path) == 0;
	/* "/a/{}/b": the segment in the hole; "/a/": the last segment */
	hole = strstr(rt->path, "{}");
	plen = hole ? (size_t)(hole - rt->path) : strlen(rt->path);
	tail = hole ? hole + 2 : "";
	tlen = strlen(tail);
	if (strncmp(rt->path, path, plen) != 0)
		return 0;
	path += plen;
	n = strlen(path);
	if (n <= tlen || strcmp(path + n - tlen, tail) != 0)
		return 0;
	n -= tlen;
	if (memchr(path, '/', n) != NULL || n >= paramlen)
		return 0;
	memcpy(param, path, n);
	param[n] = '\0';
	return 1;
}

/* method="GET",route="/a/{id}/b": a row's metrics label. */
static void
route_label(const struct route *rt, char *out, size_t outlen)
{
	const char *hole = strstr(rt->path, "{}");

	if (!(rt->flags & R_PARAM))
		snprintf(out, outlen, "method=\"%s\",route=\"%s\"",
		    method_name(rt->method), rt->path);
	else if (hole == NULL)
		snprintf(out, outlen, "method=\"%s\",route=\"%s{id}\"",
		    method_name(rt->method), rt->path);
	else
		snprintf(out, outlen, "method=\"%s\",route=\"%.*s{id}%s\"",
		    method_name(rt->method), (int)(hole - rt->path), rt->path,
		    hole + 2);
}

/* Add the method of row to the Allow list, once. */
static void
allow_add(char *allow, size_t allowlen, const struct route *row)
{
	const char *m = method_name(row->method);
	size_t n = strlen(allow);

	if (strstr(allow, m) == NULL)
		snprintf(allow + n, allowlen - n, "%s%s", n ? ", " : "", m);
}

/*
 * Find the route for (path, method). Sets *path_known when some route has
 * this path and, when no row has this method, fills allow with the
 * path's methods for the 405 (so a request that is routed builds none).
 */
const struct route *
route_find(const char *path, enum method m, int *path_known, char *allow,
    size_t allowlen, char *param, size_t paramlen)
{
	const struct route *hit = NULL, *row;
	char tmp[UUID_LEN + 8];
	size_t i, n;

	*path_known = 0;
	if (allowlen)
		allow[0] = '\0';
	for (i = 0; i < app->n && hit == NULL; i++) {
		row = &app->rows[i];
		tmp[0] = '\0';
		if (!path_match(row, path, tmp, sizeof(tmp)))
			continue;
		*path_known = 1;
		if (row->method == m || (m == M_HEAD && row->method == M_GET)) {
			hit = row;
			n = strlen(tmp);
			if (paramlen > 0) {
				n = n < paramlen ? n : paramlen - 1;
				memcpy(param, tmp, n);
				param[n] = '\0';
			}
		}
	}
	for (i = 0; hit == NULL && *path_known && allowlen && i < app->n; i++)
		if (path_match(&app->rows[i], path, tmp, sizeof(tmp)))
			allow_add(allow, allowlen, &app->rows[i]);
	return hit;
}

static int
is_json_type(const char *ct)
{
	size_t n = sizeof("application/json") - 1;

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int
is_loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	    strcmp(a, "unix:") == 0;
}

void
dispatch(struct req *r)
{
	const struct route *rt;
	char allow[64], dup[72], msg[128];
	int known, rc;

	rt = route_find(r->path, r->method, &known, allow, sizeof(allow),
	    r->param, sizeof(r->param));
	r->route = rt ? (int)(rt - app->rows) : -1;
	if (rt == NULL && !known) {
		resp_error(r, ERR_NOT_FOUND, NULL);
		return;
	}
	if (rt == NULL) {
		resp_header(r, "Allow: %s", allow);
		resp_error(r, ERR_METHOD_NOT_ALLOWED, NULL);
		return;
	}
	if ((rt->flags & R_LOOPBACK) && !is_loopback(r->remote_addr)) {
		resp_error(r, ERR_NOT_FOUND, NULL);
		return;
	}
	if ((rt->flags & R_HASH) && worker_pool == POOL_FAST &&
	    worker_has_hash_pool) {
		static int said;

		if (!said++)
			log_err("%s reached the fast pool: nginx must send the "
			        "hashing routes to AUTH_HASH_SOCKET (see "
			        "conf/nginx-fcgi-auth.conf)",
			    rt->path);
		resp_header(r, "Retry-After: 1");
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	if (r->content_length > 0 &&
	    (unsigned long long)r->content_length >
	        (rt->body_max ? rt->body_max : BODY_MAX_DEFAULT)) {
		resp_error(r, ERR_PAYLOAD_TOO_LARGE, NULL);
		return;
	}
	if (r->content_length > 0 && !is_json_type(r->content_type)) {
		resp_error(r, ERR_UNSUPPORTED_MEDIA, NULL);
		return;
	}
	if (r->content_length > 0 &&
	    req_read_body(r, rt->body_max ? rt->body_max : BODY_MAX_DEFAULT) ==
	        -1) {
		resp_error(r, ERR_INVALID_REQUEST, "Incomplete request body");
		return;
	}
	if ((rt->flags & R_AUTH) && app->identify(r, rt->flags) == -1)
		return;
	/* Cookies are ambient: one that changes state must be ours. */
	if (r->ambient && r->method != M_GET && r->method != M_HEAD &&
	    !req_same_origin(r)) {
		resp_error(r, ERR_FORBIDDEN, "Cross-site request refused");
		return;
	}
	if (r->body_len > 0 &&
	    (rc = req_parse_json(r, dup, sizeof(dup))) != 0) {
		if (rc == -2) {
			snprintf(msg, sizeof(msg), "Duplicate key '%s'", dup);
			resp_field_error(r, dup, msg);
		} else
			resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if ((rt->flags & R_JSON) && r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (fields_check(r, rt->fields, rt->nfields) == -1)
		return;
	rt->handler(r);
	if (r->status == 0)
		resp_error(r, ERR_INTERNAL, NULL);
}

/*
 * Take the application's table, once, before the workers fork; hand the
 * metrics their per-route labels (method and path of each row, in table
 * order, as r->route numbers them), so metrics never call back here.
 */
int
dispatch_init(const struct routes *table)
{
	static const char **labels;
	static char(*text)[96];
	size_t i;

	if (table->identify == NULL)
		return -1;
	for (i = 0; i < table->n; i++)
		if (table->rows[i].nfields > FIELDS_MAX)
			return -1;
	free(labels);
	free(text);
	labels = calloc(table->n ? table->n : 1, sizeof(*labels));
	text = calloc(table->n ? table->n : 1, sizeof(*text));
	if (labels == NULL || text == NULL)
		return -1;
	for (i = 0; i < table->n; i++) {
		route_label(&table->rows[i], text[i], sizeof(text[i]));
		labels[i] = text[i];
	}
	app = table;
	return metrics_set_routes(labels, table->n);
}
