/*
 * The route table is the spine: the only place a path string appears.
 * Aliases are more rows pointing at the same handler. Shared checks run
 * here once, in a fixed order: 404, 405 (+Allow), pool, 413, 415, 401,
 * 403 for a cross-site cookie request; then the handler runs and may
 * assume they passed. R_HASH rows hash a password: when the master runs
 * a hash pool, the fast pool refuses them (nginx routes them to the hash
 * socket), so no flood of them can occupy the workers of token checks.
 */
#include <string.h>
#include <strings.h>

#include "fcgi-auth.h"

#define B16K	BODY_MAX_DEFAULT
static const struct route routes[] = {
	/* method    path                      handler               flags      body */
	{ M_GET,    "/ping",                   handle_ping,           0,         0 },
	{ M_GET,    "/health",                 handle_health,         0,         0 },
	{ M_POST,   "/auth/captcha",           handle_captcha,        0,         B16K },
	{ M_POST,   "/auth/register",          handle_register,       R_HASH,    B16K },
	{ M_POST,   "/register",               handle_register,       R_HASH,    B16K },
	{ M_POST,   "/auth/login",             handle_login,          R_HASH,    B16K },
	{ M_POST,   "/login",                  handle_login,          R_HASH,    B16K },
	{ M_POST,   "/auth/refresh",           handle_refresh,        0,         B16K },
	{ M_POST,   "/refresh",                handle_refresh,        0,         B16K },
	{ M_POST,   "/auth/refresh-token",     handle_refresh,        0,         B16K },
	{ M_POST,   "/auth/verify",            handle_verify,         0,         B16K },
	{ M_POST,   "/verify",                 handle_verify,         0,         B16K },
	{ M_POST,   "/auth/verify-email",      handle_verify_email,   0,         B16K },
	{ M_GET,    "/verify",                 handle_verify_email,   0,         0 },
	{ M_GET,    "/auth/me",                handle_me,             R_AUTH,    0 },
	{ M_GET,    "/me",                     handle_me,             R_AUTH,    0 },
	{ M_GET,    "/authorized/me",          handle_me,             R_AUTH,    0 },
	{ M_GET,    "/user/info",              handle_user_info,      R_AUTH,    0 },
	{ M_PATCH,  "/user/info",              handle_user_info_patch, R_AUTH,   B16K },
	{ M_POST,   "/auth/password",          handle_password_change, R_AUTH | R_HASH, B16K },
	{ M_POST,   "/auth/logout",            handle_logout,         R_AUTH | R_COOKIE, B16K },
	{ M_POST,   "/logout",                 handle_logout,         R_AUTH | R_COOKIE, B16K },
	{ M_POST,   "/auth/logout-all",        handle_logout_all,     R_AUTH | R_COOKIE, B16K },
	{ M_POST,   "/logout-all",             handle_logout_all,     R_AUTH | R_COOKIE, B16K },
	{ M_POST,   "/auth/revoke-all",        handle_logout_all,     R_AUTH | R_COOKIE, B16K },
	{ M_GET,    "/auth/sessions",          handle_sessions_list,  R_AUTH,    0 },
	{ M_DELETE, "/auth/sessions/",         handle_session_delete, R_AUTH | R_PARAM, 0 },
	{ M_POST,   "/auth/password-reset",    handle_password_reset, 0,         B16K },
	{ M_POST,   "/password-reset",         handle_password_reset, 0,         B16K },
	{ M_POST,   "/auth/password-reset-confirm", handle_password_reset_confirm, R_HASH, B16K },
	{ M_POST,   "/password-reset-confirm", handle_password_reset_confirm, R_HASH, B16K },
	{ M_GET,    "/.well-known/jwks.json",  handle_jwks,           0,         0 },
	{ M_GET,    "/metrics",                handle_metrics,        R_LOOPBACK, 0 },
};
#undef B16K

static int
path_match(const struct route *rt, const char *path, char *param,
    size_t paramlen)
{
	size_t plen;

	if (!(rt->flags & R_PARAM))
		return strcmp(rt->path, path) == 0;
	plen = strlen(rt->path);
	if (strncmp(rt->path, path, plen) != 0)
		return 0;
	path += plen;
	if (*path == '\0' || strchr(path, '/') != NULL ||
	    strlen(path) >= paramlen)
		return 0;
	memcpy(param, path, strlen(path) + 1);
	return 1;
}

/*
 * Find the route for (path, method). Sets *path_known when some route has
 * this path, and fills allow with its methods for a 405.
 */
const struct route *
route_find(const char *path, enum method m, int *path_known, char *allow,
    size_t allowlen, char *param, size_t paramlen)
{
	const struct route *hit = NULL;
	size_t i;
	char tmp[UUID_LEN + 8];

	*path_known = 0;
	if (allowlen)
		allow[0] = '\0';
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		tmp[0] = '\0';
		if (!path_match(&routes[i], path, tmp, sizeof(tmp)))
			continue;
		*path_known = 1;
		if (allowlen && strstr(allow, method_name(routes[i].method)) ==
		    NULL) {
			size_t n = strlen(allow);

			snprintf(allow + n, allowlen - n, "%s%s", n ? ", " : "",
			    method_name(routes[i].method));
		}
		if (routes[i].method == m ||
		    (m == M_HEAD && routes[i].method == M_GET)) {
			if (hit == NULL) {
				hit = &routes[i];
				snprintf(param, paramlen, "%s", tmp);
			}
		}
	}
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
	r->route = rt ? (int)(rt - routes) : -1;
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
			    "conf/nginx-fcgi-auth.conf)", rt->path);
		resp_header(r, "Retry-After: 1");
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	if (r->content_length > 0 &&
	    (unsigned long long)r->content_length > (rt->body_max ? rt->body_max :
	    BODY_MAX_DEFAULT)) {
		resp_error(r, ERR_PAYLOAD_TOO_LARGE, NULL);
		return;
	}
	if (r->content_length > 0 && !is_json_type(r->content_type)) {
		resp_error(r, ERR_UNSUPPORTED_MEDIA, NULL);
		return;
	}
	if (r->content_length > 0 && req_read_body(r, rt->body_max ?
	    rt->body_max : BODY_MAX_DEFAULT) == -1) {
		resp_error(r, ERR_INVALID_REQUEST, "Incomplete request body");
		return;
	}
	if (rt->flags & R_AUTH) {
		if (r->authorization == NULL && (rt->flags & R_COOKIE) &&
		    r->cookie != NULL) {
			if (auth_cookies(r) == -1)
				return;
		} else if (auth_bearer(r) == -1)
			return;
	}
	/* Cookies are ambient: one that changes state must be ours. */
	if (r->auth.via_cookie && r->method != M_GET && r->method != M_HEAD &&
	    !req_same_origin(r)) {
		resp_error(r, ERR_FORBIDDEN, "Cross-site request refused");
		return;
	}
	if (r->body_len > 0 && (rc = req_parse_json(r, dup, sizeof(dup))) != 0) {
		if (rc == -2) {
			snprintf(msg, sizeof(msg), "Duplicate key '%s'", dup);
			resp_field_error(r, dup, msg);
		} else
			resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	rt->handler(r);
	if (r->status == 0)
		resp_error(r, ERR_INTERNAL, NULL);
}

/*
 * Hand the metrics their per-route labels (method and path of each row,
 * in table order, as r->route numbers them) once at start, so metrics
 * never call back into the route table.
 */
int
dispatch_metrics_labels(void)
{
	static char text[sizeof(routes) / sizeof(routes[0])][96];
	static const char *labels[sizeof(routes) / sizeof(routes[0])];
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		snprintf(text[i], sizeof(text[i]), "method=\"%s\",route=\"%s%s\"",
		    method_name(routes[i].method), routes[i].path,
		    routes[i].flags & R_PARAM ? "{id}" : "");
		labels[i] = text[i];
	}
	return metrics_set_routes(labels, i);
}
