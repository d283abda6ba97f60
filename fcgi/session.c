/*
 * Sessions: Postgres is the truth, Redis mirrors it. The mirror key
 * fa:s:<epoch>:<sid> holds the user id while the session is active, or
 * "-" (a tombstone) once it is revoked. A miss falls back to Postgres and
 * re-fills with SET NX, so a refill can never overwrite a tombstone
 * written by a concurrent revocation. The epoch (cache.c) changes when
 * Redis fails over to a replica, which may have missed the last
 * tombstones: the new master's mirror starts empty and refills from
 * Postgres.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

/* The mirror key of sid on the current Redis data set, whose epoch goes
 * to at; -1 when Redis is unavailable. */
static int
mirror_key(char *key, size_t keylen, char *at, size_t atlen, const char *sid)
{
	int n;

	if (cache_ready() == -1)
		return -1;
	snprintf(at, atlen, "%s", cache_epoch());
	n = snprintf(key, keylen, "fa:s:%s:%s", at, sid);
	return n > 0 && (size_t)n < keylen ? 0 : -1;
}

void
session_mirror_set(const char *sid, const char *uid, long long exp)
{
	redisReply *rep;
	char key[128], at[16];

	if (exp <= (long long)time(NULL) ||
	    mirror_key(key, sizeof(key), at, sizeof(at), sid) == -1)
		return;
	/*
	 * One round trip: SET NX never overwrites a tombstone a concurrent
	 * revocation wrote; an existing entry gets the later expiry (GT
	 * never shortens it).
	 */
	rep = cache_cmd_at(at, "EVAL %s 1 %s %s %lld",
	    "if redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2], 'NX') "
	    "then return 1 end "
	    "redis.call('EXPIREAT', KEYS[1], ARGV[2], 'GT') return 0",
	    key, uid, exp);
	freeReplyObject(rep);
}

static void
mirror_refill(const char *sid, const char *uid, long long exp)
{
	redisReply *rep;
	char key[128], at[16];

	if (exp <= (long long)time(NULL) ||
	    mirror_key(key, sizeof(key), at, sizeof(at), sid) == -1)
		return;
	rep = cache_cmd_at(at, "SET %s %s EXAT %lld NX", key, uid, exp);
	freeReplyObject(rep);
}

/*
 * Write the tombstone of a revoked session. 0 when it is written, or when
 * no mirror can be trusted anyway (Redis unreachable: every reader falls
 * back to Postgres; a new data set: a new epoch starts empty). -1 when
 * Redis is up but the write failed (refused, timed out): the mirror may
 * still say "active", so the revocation must not be reported as done.
 * Callers write tombstones before they COMMIT, and roll back on -1.
 */
int
session_mirror_revoke(const char *sid, long long abs_exp)
{
	redisReply *rep = NULL;
	char key[128], at[16];
	int ok, none;

	if (abs_exp <= (long long)time(NULL))
		abs_exp = (long long)time(NULL) + 60;
	if (mirror_key(key, sizeof(key), at, sizeof(at), sid) == -1)
		return 0;
	rep = cache_cmd_at(at, "SET %s - EXAT %lld", key, abs_exp);
	ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
	none = rep == NULL;
	freeReplyObject(rep);
	if (ok)
		return 0;
	if (none && (cache_ready() == -1 || strcmp(at, cache_epoch()) != 0))
		return 0;
	log_err("redis: tombstone for a revoked session not written");
	return -1;
}

/* Tombstones for the sessions of a RETURNING id, abs_exp result. */
int
session_mirror_revoke_rows(struct pg_result *res)
{
	int i, rc = 0;

	for (i = 0; res != NULL && i < PQntuples(res); i++)
		if (session_mirror_revoke(PQgetvalue(res, i, 0),
		    atoll(PQgetvalue(res, i, 1))) == -1)
			rc = -1;
	return rc;
}

/*
 * End a transaction that revoked the sessions of rows (RETURNING id,
 * abs_exp): their tombstones first, then the audit row, then COMMIT.
 * 0, or -1 with the answer written: 503 (rolled back) when a tombstone
 * could not be written, since the mirror would still say "active".
 */
int
session_revoke_commit(struct req *r, struct pg_result *rows, const char *uid,
    const char *event)
{
	if (session_mirror_revoke_rows(rows) == -1) {
		db_rollback();
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return -1;
	}
	if (db_audit(r, uid, event, "success") == -1 || db_commit() == -1) {
		resp_db_error(r);
		return -1;
	}
	return 0;
}

/* Is session sid active and owned by uid? Redis first, then Postgres. */
enum sess_state
session_check(const char *sid, const char *uid)
{
	const char *p[1] = { sid };
	redisReply *rep;
	PGresult *res;
	enum sess_state st;
	long long idle, abs;

	char key[128], at[16];

	rep = NULL;
	if (mirror_key(key, sizeof(key), at, sizeof(at), sid) == 0)
		rep = cache_cmd_at(at, "GET %s", key);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		st = strlen(uid) == rep->len &&
		    crypto_ct_equal(rep->str, uid, rep->len) ? SESS_ACTIVE :
		    SESS_INACTIVE;
		freeReplyObject(rep);
		return st;
	}
	freeReplyObject(rep);
	if ((res = db_exec(Q_SESSION_ACTIVE, 1, p)) == NULL)
		return SESS_UNAVAILABLE;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), uid) != 0) {
		PQclear(res);
		return SESS_INACTIVE;
	}
	idle = atoll(PQgetvalue(res, 0, 1));
	abs = atoll(PQgetvalue(res, 0, 2));
	PQclear(res);
	mirror_refill(sid, uid, idle < abs ? idle : abs);
	return SESS_ACTIVE;
}

static void
fill_auth(struct req *r, struct json_object *claims)
{
	struct json_object *v;

	snprintf(r->auth.uid, sizeof(r->auth.uid), "%s",
	    json_object_get_string(json_object_object_get(claims, "sub")));
	snprintf(r->auth.sid, sizeof(r->auth.sid), "%s",
	    json_object_get_string(json_object_object_get(claims, "sid")));
	snprintf(r->auth.jti, sizeof(r->auth.jti), "%s",
	    json_object_get_string(json_object_object_get(claims, "jti")));
	if (json_object_object_get_ex(claims, "email", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(r->auth.email, sizeof(r->auth.email), "%s",
		    json_object_get_string(v));
	r->auth.iat = json_object_get_int64(json_object_object_get(claims,
	    "iat"));
	r->auth.exp = json_object_get_int64(json_object_object_get(claims,
	    "exp"));
	r->auth.claims = claims;
	r->authed = 1;
}

/*
 * Verify a token (from a header or a body) and its session. Returns 0 and
 * fills r->auth, or -1 with *err set (ERR_INVALID_TOKEN or 503).
 */
int
auth_token(struct req *r, const char *tok, size_t len, enum api_err *err)
{
	struct json_object *claims;
	const char *sid, *uid;

	if (jwt_verify(tok, len, (long long)time(NULL), &claims) == -1) {
		*err = ERR_INVALID_TOKEN;
		return -1;
	}
	sid = json_object_get_string(json_object_object_get(claims, "sid"));
	uid = json_object_get_string(json_object_object_get(claims, "sub"));
	switch (session_check(sid, uid)) {
	case SESS_ACTIVE:
		fill_auth(r, claims);
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

int
auth_bearer(struct req *r)
{
	enum api_err err;
	const char *tok;
	size_t len;

	if (r->authorization == NULL) {
		resp_error(r, ERR_INVALID_TOKEN, "Missing bearer token");
		return -1;
	}
	if (req_bearer(r->authorization, &tok, &len) == -1) {
		resp_error(r, ERR_INVALID_TOKEN, "Malformed Authorization "
		    "header");
		return -1;
	}
	if (auth_token(r, tok, len, &err) == -1) {
		resp_error(r, err, NULL);
		return -1;
	}
	return 0;
}

/*
 * Session cookies: both sid and refresh must be present, the refresh
 * token must be the session's current one, and the session active.
 */
int
auth_cookies(struct req *r)
{
	char sid[UUID_LEN + 2], rt[TOKEN_B64_LEN + 2], hash[65];
	const char *p[1];
	PGresult *res = NULL;
	int ok = 0;

	if (req_cookie(r->cookie, "sid", sid, sizeof(sid)) != 1 ||
	    req_cookie(r->cookie, "refresh", rt, sizeof(rt)) != 1 ||
	    !valid_uuid(sid) || strlen(rt) != TOKEN_B64_LEN) {
		resp_error(r, ERR_INVALID_TOKEN, "Missing or invalid session "
		    "cookies");
		return -1;
	}
	crypto_sha256_hex(rt, strlen(rt), hash);
	crypto_wipe(rt, sizeof(rt));
	p[0] = hash;
	if ((res = db_exec(Q_RT_LOOKUP, 1, p)) == NULL) {
		resp_error(r, db_down() ? ERR_SERVICE_UNAVAILABLE :
		    ERR_INTERNAL, NULL);
		return -1;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 2), "f") == 0 &&
	    crypto_ct_equal(PQgetvalue(res, 0, 1), sid, UUID_LEN))
		ok = 1;
	PQclear(res);
	res = NULL;
	if (ok) {
		p[0] = sid;
		if ((res = db_exec(Q_SESSION_ACTIVE, 1, p)) == NULL) {
			resp_error(r, db_down() ? ERR_SERVICE_UNAVAILABLE :
			    ERR_INTERNAL, NULL);
			return -1;
		}
		ok = PQntuples(res) == 1;
	}
	if (!ok) {
		PQclear(res);
		resp_error(r, ERR_INVALID_TOKEN, "Missing or invalid session "
		    "cookies");
		return -1;
	}
	snprintf(r->auth.uid, sizeof(r->auth.uid), "%s", PQgetvalue(res, 0, 0));
	snprintf(r->auth.sid, sizeof(r->auth.sid), "%.36s", sid);
	snprintf(r->auth.email, sizeof(r->auth.email), "%s",
	    PQgetvalue(res, 0, 3));
	PQclear(res);
	r->auth.via_cookie = 1;
	r->authed = 1;
	return 0;
}

/* Set (max_age > 0) or clear (max_age == 0) the session cookies. */
void
session_cookies(struct req *r, const char *sid, const char *refresh,
    long long max_age)
{
	const char *attrs = cfg.dev ? "; Path=/api/v1; HttpOnly; "
	    "SameSite=Strict" : "; Path=/api/v1; HttpOnly; SameSite=Strict; "
	    "Secure";

	resp_header(r, "Set-Cookie: sid=%s; Max-Age=%lld%s", max_age ? sid : "",
	    max_age, attrs);
	resp_header(r, "Set-Cookie: refresh=%s; Max-Age=%lld%s",
	    max_age ? refresh : "", max_age, attrs);
}

/*
 * A refresh token's successor: HMAC-SHA256(refresh subkey of the data
 * key, token), base64url. Only the holder of the token and the server
 * can compute it, so a replay within the grace window gets the same
 * successor without any token being stored; the key is not in the
 * database, so a copy of it cannot compute successors either.
 */
int
session_successor(const char *token, char out[TOKEN_B64_LEN + 1])
{
	unsigned char key[32], md[32];
	int rc;

	if (datakey_sub(DK_REFRESH, key) == -1)
		return -1;
	rc = crypto_hmac_sha256(key, sizeof(key), token, strlen(token), md);
	crypto_wipe(key, sizeof(key));
	if (rc == -1)
		return -1;
	b64url_encode(md, sizeof(md), out, TOKEN_B64_LEN + 1);
	crypto_wipe(md, sizeof(md));
	return 0;
}

/*
 * Inside the caller's transaction: create a session and its first refresh
 * token, and revoke the oldest sessions beyond the per-user limit.
 * Fills s (the caller commits, then mirrors and answers).
 */
int
session_create(struct req *r, const char *uid, struct new_session *s)
{
	char idle[24], abs[24], hash[65], lim[24];
	unsigned char raw[TOKEN_BYTES];
	const char *p[6];
	PGresult *res;
	long long now = (long long)time(NULL);

	memset(s, 0, sizeof(*s));
	if (crypto_uuid(s->sid) == -1 || crypto_token(s->refresh, raw) == -1)
		return -1;
	crypto_wipe(raw, sizeof(raw));
	s->abs_exp = now + cfg.session_max_ttl;
	s->idle_exp = now + cfg.refresh_ttl;
	if (s->idle_exp > s->abs_exp)
		s->idle_exp = s->abs_exp;
	snprintf(idle, sizeof(idle), "%lld", s->idle_exp);
	snprintf(abs, sizeof(abs), "%lld", s->abs_exp);
	p[0] = s->sid;
	p[1] = uid;
	p[2] = idle;
	p[3] = abs;
	p[4] = r->remote_addr;
	p[5] = r->user_agent;
	if ((res = db_exec(Q_SESSION_INSERT, 6, p)) == NULL)
		return -1;
	PQclear(res);
	crypto_sha256_hex(s->refresh, strlen(s->refresh), hash);
	p[0] = s->sid;
	p[1] = hash;
	if ((res = db_exec(Q_RT_INSERT, 2, p)) == NULL)
		return -1;
	PQclear(res);
	snprintf(lim, sizeof(lim), "%ld", cfg.max_sessions);
	p[0] = uid;
	p[1] = lim;
	if ((s->trimmed = db_exec(Q_SESSION_TRIM, 2, p)) == NULL)
		return -1;
	return 0;
}

void
session_free(struct new_session *s)
{
	PQclear(s->trimmed);
	crypto_wipe(s->refresh, sizeof(s->refresh));
	s->trimmed = NULL;
}
