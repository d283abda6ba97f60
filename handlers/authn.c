/*
 * Who is asking: a Bearer access token (verified, and its session checked
 * against the mirror), the API's session cookies (sid + the session's
 * current refresh token), or the browser session cookie (session.c). The
 * identity lives in a struct auth the request owns.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "authn.h"
#include "db.h"
#include "dispatch.h"
#include "errors.h"
#include "jwt.h"
#include "pat.h"
#include "session.h"
#include "web_cookie.h"
#include "validate.h"

static struct db_stmt q_rt_lookup = DB_STMT("rt_lookup",
    "SELECT session_id, rotated_at IS NOT NULL AS rotated "
    "FROM refresh_tokens WHERE token_hash = $1");

static void
auth_release(void *p)
{
	struct auth *a = p;

	json_object_put(a->claims);
	free(a);
}

/* The request's struct auth, made on first use. */
static struct auth *
auth_new(struct req *r)
{
	if (r->app == NULL && (r->app = calloc(1, sizeof(struct auth))) != NULL)
		r->app_free = auth_release;
	return r->app;
}

static const char *
claim(struct json_object *claims, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(claims, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static void
fill_auth(struct req *r, struct auth *a, struct json_object *claims)
{
	str_copy(a->uid, sizeof(a->uid), claim(claims, "sub"));
	str_copy(a->sid, sizeof(a->sid), claim(claims, "sid"));
	str_copy(a->jti, sizeof(a->jti), claim(claims, "jti"));
	str_copy(a->email, sizeof(a->email), claim(claims, "email"));
	a->iat = json_object_get_int64(json_object_object_get(claims, "iat"));
	a->exp = json_object_get_int64(json_object_object_get(claims, "exp"));
	json_object_put(a->claims);
	a->claims = claims;
	req_set_who(r, a->uid);
}

/* The claims /auth/me and /auth/verify show of a personal access token. */
static struct json_object *
pat_claims(const struct pat_info *in)
{
	struct json_object *o = json_object_new_object(), *sc;
	const char *p = in->scopes;
	size_t k;

	json_object_object_add(o, "token_type", json_object_new_string("pat"));
	json_object_object_add(o, "sub", json_object_new_string(in->uid));
	json_object_object_add(o, "uid", json_object_new_string(in->uid));
	json_object_object_add(o, "jti", json_object_new_string(in->id));
	json_object_object_add(o, "token_id", json_object_new_string(in->id));
	json_object_object_add(o, "email", json_object_new_string(in->email));
	json_object_object_add(o, "iat", json_object_new_int64(in->created));
	json_object_object_add(o, "exp", json_object_new_int64(in->exp));
	sc = json_object_new_array();
	while (*p) {
		k = strcspn(p, ",");
		json_object_array_add(sc,
		    json_object_new_string_len(p, (int)k));
		p += k + (p[k] == ',');
	}
	json_object_object_add(o, "scopes", sc);
	return o;
}

/* After the answer: the token's last use (pat.c). */
static void
pat_used(struct req *r)
{
	pat_touch(auth_of(r)->jti);
}

/* A personal access token: 0 with auth_of(r) filled, or -1 with *err. */
static int
auth_pat(struct req *r, const char *tok, size_t len, api_err *err)
{
	struct pat_info in;
	struct auth *a;
	int rc;

	if ((rc = pat_check(tok, len, &in)) != 1) {
		*err = rc == 0 ? ERR_INVALID_TOKEN : ERR_SERVICE_UNAVAILABLE;
		return -1;
	}
	if ((a = auth_new(r)) == NULL) {
		*err = ERR_INTERNAL;
		return -1;
	}
	fill_auth(r, a, pat_claims(&in));
	a->sid[0] = '\0';
	str_copy(a->scopes, sizeof(a->scopes), in.scopes);
	str_copy(a->sess.uid, sizeof(a->sess.uid), in.uid);
	str_copy(a->sess.role, sizeof(a->sess.role), in.role);
	str_copy(a->sess.username, sizeof(a->sess.username), in.username);
	str_copy(a->sess.email, sizeof(a->sess.email), in.email);
	str_copy(a->sess.amr, sizeof(a->sess.amr), "pat");
	a->sess.auth_time = in.created;
	a->sess.idle = a->sess.abs = in.exp;
	a->via = VIA_PAT;
	if (r->after == NULL)
		r->after = pat_used;
	return 0;
}

/*
 * Verify a token (from a header or a body) and its session: an access
 * token, or a personal access token. Returns 0 and fills auth_of(r), or
 * -1 with *err set (ERR_INVALID_TOKEN or 503).
 */
int
auth_token(struct req *r, const char *tok, size_t len, api_err *err)
{
	struct json_object *claims;
	struct auth *a;

	if (len > 7 && memcmp(tok, PAT_PREFIX, 7) == 0)
		return auth_pat(r, tok, len, err);
	if (jwt_verify(tok, len, (long long)time(NULL), &claims) == -1) {
		*err = ERR_INVALID_TOKEN;
		return -1;
	}
	if ((a = auth_new(r)) == NULL) {
		json_object_put(claims);
		*err = ERR_INTERNAL;
		return -1;
	}
	switch (session_check(claim(claims, "sid"), claim(claims, "sub"),
	    &a->sess)) {
	case SESS_ACTIVE:
		fill_auth(r, a, claims);
		a->via = VIA_TOKEN;
		return 0;
	case SESS_INACTIVE:
		*err = ERR_INVALID_TOKEN;
		break;
	case SESS_UNAVAILABLE:
		*err = ERR_SERVICE_UNAVAILABLE;
		break;
	}
	json_object_put(claims);
	return -1;
}

/* A Bearer credential; a personal access token only where pat_ok. */
static int
bearer(struct req *r, int pat_ok)
{
	api_err err;
	const char *tok;
	size_t len;

	if (r->authorization == NULL) {
		resp_error(r, ERR_INVALID_TOKEN, "Missing bearer token");
		return -1;
	}
	if (req_bearer(r->authorization, &tok, &len) == -1) {
		resp_error(r, ERR_INVALID_TOKEN,
		    "Malformed Authorization header");
		return -1;
	}
	if (!pat_ok && len > 7 && memcmp(tok, PAT_PREFIX, 7) == 0) {
		resp_error(r, ERR_INVALID_TOKEN,
		    "A personal access token is not accepted here: "
		    "use an access token");
		return -1;
	}
	if (auth_token(r, tok, len, &err) == -1) {
		resp_error(r, err, NULL);
		return -1;
	}
	return 0;
}

int
auth_bearer(struct req *r)
{
	return bearer(r, 0);
}

/* Is rt the current refresh token of session sid? 1, 0, or -1. */
static int
current_refresh(const char *sid, const char *rt)
{
	char hash[65];
	const char *p[1] = { hash };
	PGresult *res;
	int ok;

	crypto_sha256_hex(rt, strlen(rt), hash);
	if ((res = db_exec(&q_rt_lookup, 1, p)) == NULL)
		return -1;
	ok = PQntuples(res) == 1 &&
	    strcmp(db_value(res, 0, "rotated"), "f") == 0 &&
	    crypto_ct_equal(db_value(res, 0, "session_id"), sid, UUID_LEN);
	PQclear(res);
	return ok;
}

/* The identity of a cookie-authenticated request, from its session. */
static int
cookie_auth(struct req *r, const char *sid, enum auth_via via, api_err *err)
{
	struct auth *a;

	if ((a = auth_new(r)) == NULL) {
		*err = ERR_INTERNAL;
		return -1;
	}
	switch (session_check(sid, NULL, &a->sess)) {
	case SESS_ACTIVE:
		break;
	case SESS_INACTIVE:
		*err = ERR_INVALID_TOKEN;
		return -1;
	default:
		*err = ERR_SERVICE_UNAVAILABLE;
		return -1;
	}
	str_copy(a->sid, sizeof(a->sid), sid);
	str_copy(a->uid, sizeof(a->uid), a->sess.uid);
	str_copy(a->email, sizeof(a->email), a->sess.email);
	a->via = via;
	a->via_cookie = r->ambient = 1;
	req_set_who(r, a->uid);
	return 0;
}

/*
 * The browser session cookie: 0 with auth_of(r) filled, 1 when the
 * request has none, -1 with *err set when it is not valid.
 */
int
auth_web(struct req *r, api_err *err)
{
	char value[WEB_COOKIE_MAX], sid[UUID_LEN + 1];
	int ok;

	if (r->cookie == NULL ||
	    (ok = req_cookie(r->cookie, web_cookie_name(), value,
	         sizeof(value))) == 0)
		return 1;
	ok = ok == 1 ? web_cookie_sid(value, sid) : 0;
	crypto_wipe(value, sizeof(value));
	if (ok == 1)
		return cookie_auth(r, sid, VIA_WEB, err);
	*err = ok == 0 ? ERR_INVALID_TOKEN : ERR_INTERNAL;
	return -1;
}

/*
 * The API's session cookies: both sid and refresh must be present, the
 * refresh token must be the session's current one, and the session
 * active. Without them, the browser session cookie will do.
 */
static int
auth_cookies(struct req *r)
{
	char sid[UUID_LEN + 2], rt[TOKEN_B64_LEN + 2];
	api_err err = ERR_INVALID_TOKEN;
	int ok, has;

	has = req_cookie(r->cookie, "sid", sid, sizeof(sid)) != 0;
	ok = has && req_cookie(r->cookie, "refresh", rt, sizeof(rt)) == 1 &&
	    req_cookie(r->cookie, "sid", sid, sizeof(sid)) == 1 &&
	    valid_uuid(sid) && strlen(rt) == TOKEN_B64_LEN;
	if (ok)
		ok = current_refresh(sid, rt);
	crypto_wipe(rt, sizeof(rt));
	if (ok == 1 && cookie_auth(r, sid, VIA_COOKIES, &err) == 0)
		return 0;
	if (ok == -1) {
		resp_db_error(r);
		return -1;
	}
	if (ok == 0 && !has && (ok = auth_web(r, &err)) == 0)
		return 0;
	if (err == ERR_INVALID_TOKEN)
		resp_error(r, ERR_INVALID_TOKEN,
		    "Missing or invalid session cookies");
	else
		resp_error(r, err, NULL);
	return -1;
}

/* Dispatch's hook for R_AUTH rows: cookies where the row allows them. */
int
authenticate(struct req *r, unsigned flags)
{
	struct auth *a;
	int rc;

	if (r->authorization == NULL && (flags & R_COOKIE) && r->cookie != NULL)
		rc = auth_cookies(r);
	else
		rc = bearer(r, (flags & R_PAT) != 0);
	if (rc == 0 && (flags & R_ADMIN) &&
	    strcmp((a = auth_of(r))->sess.role, "admin") != 0) {
		resp_error(r, ERR_FORBIDDEN, "This is for administrators");
		return -1;
	}
	return rc;
}
