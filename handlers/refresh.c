/*
 * POST /auth/refresh: rotate a refresh token (body, or sid + refresh
 * cookies) in one round trip: refresh_rotate() (sql/003) locks the token
 * row, so however many refreshes of one token run at once, at most one
 * successor exists. A valid Bearer token alone extends its session
 * (seed 002).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "authn.h"
#include "config.h"
#include "counters.h"
#include "db.h"
#include "errors.h"
#include "jwt.h"
#include "log.h"
#include "routes.h"
#include "session.h"
#include "tokens.h"
#include "validate.h"

#define GRACE "10" /* seconds a just-rotated token still gets its successor */

static struct db_stmt q_rotate = DB_STMT("refresh",
    "SELECT outcome, session_id, user_id, email, idle_exp, abs_exp "
    "FROM refresh_rotate($1, $2, $3, $4, $5, $6, $7)");
/* A row of refresh_rotate(), read by column name. */
struct rotation {
	const char *outcome; /* ok | reuse | inactive | unknown */
	const char *sid, *uid, *email;
	long long idle, abs;
};

static void
rotation_read(PGresult *res, struct rotation *o)
{
	o->outcome = db_value(res, 0, "outcome");
	o->sid = db_value(res, 0, "session_id");
	o->uid = db_value(res, 0, "user_id");
	o->email = db_value(res, 0, "email");
	o->idle = atoll(db_value(res, 0, "idle_exp"));
	o->abs = atoll(db_value(res, 0, "abs_exp"));
}

/* Seed 002: the session of a valid Bearer token lives on; no rotation. */
static void
refresh_by_bearer(struct req *r)
{
	struct json_object *o;
	struct jwt_subject who;
	struct auth *a;
	long long idle;
	int rc;

	if (auth_bearer(r) == -1)
		return;
	a = auth_of(r);
	if (db_begin() == -1 || (rc = session_touch(a->sid, &idle)) == -1) {
		resp_db_error(r);
		return;
	}
	if (rc == 0) {
		db_rollback();
		resp_error(r, ERR_INVALID_TOKEN, NULL);
		return;
	}
	if (audit_write(r, a->uid, "refresh", "extended") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		return;
	}
	session_mirror_touch(a->sid, idle, idle);
	who = (struct jwt_subject){ a->uid, a->sid, a->email, a->sess.amr,
		a->sess.auth_time };
	o = token_body(r, &who, NULL, 0);
	if (o != NULL)
		json_object_object_add(o, "session_expires_in",
		    json_object_new_int64(idle - (long long)time(NULL)));
	resp_json(r, 200, o);
}

/* A rotated token came back: the session is revoked (it was stolen). */
static void
reused(struct req *r, const struct rotation *o, int from_cookie)
{
	metrics_inc(MET_REFRESH_REUSE);
	if (session_mirror_revoke(o->sid, o->abs) == -1) {
		/* Revoked in Postgres; the mirror must hear it too. */
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	log_warn("refresh: reuse of a rotated token, session %s revoked",
	    o->sid);
	if (from_cookie)
		session_cookies(r, "", "", 0);
	resp_error(r, ERR_INVALID_GRANT,
	    "Refresh token reuse detected; the session has been revoked");
}

/*
 * A rotation that went through: the new tokens, which keep how and when
 * the user signed in (the session's mirror entry, refilled from Postgres
 * on a miss).
 */
static void
rotated(struct req *r, const struct rotation *o, const char *succ)
{
	struct session_info in;
	struct jwt_subject who;

	switch (session_check(o->sid, o->uid, &in)) {
	case SESS_ACTIVE:
		break;
	case SESS_INACTIVE: /* revoked since: the new token is worthless */
		resp_error(r, ERR_INVALID_GRANT, NULL);
		return;
	default:
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	session_mirror_touch(o->sid, o->idle, o->idle);
	session_cookies(r, o->sid, succ, cfg.refresh_ttl);
	req_set_who(r, o->uid);
	who = (struct jwt_subject){ o->uid, o->sid, o->email, in.amr,
		in.auth_time };
	resp_json(r, 200, token_body(r, &who, succ, o->idle));
}

/* token (43 chars) for its successor; csid: the cookie's session, or "". */
static void
rotate(struct req *r, const char *token, const char *csid)
{
	char hash[65], succ[TOKEN_B64_LEN + 1], succ_hash[65], exp[24];
	const char *p[7] = { hash, succ_hash, *csid ? csid : NULL, exp, GRACE,
		r->remote_addr, r->user_agent };
	struct rotation o;
	PGresult *res;

	if (!db_ready() || session_successor(token, succ) == -1) {
		resp_db_error(r);
		return;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	crypto_sha256_hex(succ, strlen(succ), succ_hash);
	snprintf(exp, sizeof(exp), "%lld",
	    (long long)time(NULL) + cfg.refresh_ttl);
	if ((res = db_exec(&q_rotate, 7, p)) == NULL || PQntuples(res) != 1) {
		PQclear(res);
		crypto_wipe(succ, sizeof(succ));
		resp_db_error(r);
		return;
	}
	rotation_read(res, &o);
	if (strcmp(o.outcome, "inactive") == 0) /* heals a missed tombstone */
		(void)session_mirror_revoke(o.sid,
		    (long long)time(NULL) + cfg.session_max_ttl);
	if (strcmp(o.outcome, "reuse") == 0)
		reused(r, &o, *csid != '\0');
	else if (strcmp(o.outcome, "ok") != 0)
		resp_error(r, ERR_INVALID_GRANT, NULL);
	else
		rotated(r, &o, succ);
	crypto_wipe(succ, sizeof(succ));
	PQclear(res);
}

void
handle_refresh(struct req *r)
{
	char token[TOKEN_B64_LEN + 2], csid[UUID_LEN + 2];
	const char *body = r->arg[REFRESH_TOKEN];

	token[0] = csid[0] = '\0';
	if (body != NULL) /* "" when not a string: unknown */
		snprintf(token, sizeof(token), "%s", body);
	else if (r->cookie != NULL &&
	    req_cookie(r->cookie, "refresh", token, sizeof(token)) == 1) {
		if (!req_same_origin(r)) {
			resp_error(r, ERR_FORBIDDEN,
			    "Cross-site request refused");
			goto out;
		}
		if (req_cookie(r->cookie, "sid", csid, sizeof(csid)) != 1 ||
		    !valid_uuid(csid))
			token[0] = '\0';
	} else if (r->authorization != NULL) {
		refresh_by_bearer(r);
		return;
	} else {
		resp_error(r, ERR_INVALID_GRANT, "A refresh token is required");
		return;
	}
	if (strlen(token) != TOKEN_B64_LEN) {
		(void)audit_write(r, NULL, "refresh", "invalid");
		resp_error(r, ERR_INVALID_GRANT, NULL);
	} else
		rotate(r, token, csid);
out:
	crypto_wipe(token, sizeof(token));
}
