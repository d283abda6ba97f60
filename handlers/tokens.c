/* Tokens handed out: the login/refresh answer, and mailed link tokens. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "config.h"
#include "counters.h"
#include "crypto.h"
#include "db.h"
#include "devices.h"
#include "errors.h"
#include "jwt.h"
#include "metrics.h"
#include "outbox.h"
#include "request.h"
#include "session.h"
#include "tokens.h"
#include "users.h"

/* The body of a login or refresh answer; refresh may be NULL. */
struct json_object *
token_body(struct req *r, const struct jwt_subject *who, const char *refresh,
    long long refresh_exp)
{
	struct json_object *o;
	char jti[UUID_LEN + 1], *at;
	long long now = (long long)time(NULL);

	if ((at = jwt_issue(who, now, jti)) == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(at));
	json_object_object_add(o, "token_type",
	    json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in",
	    json_object_new_int64(cfg.access_ttl));
	json_object_object_add(o, "access_token_expires_in",
	    json_object_new_int64(cfg.access_ttl));
	if (refresh != NULL) {
		json_object_object_add(o, "refresh_token",
		    json_object_new_string(refresh));
		json_object_object_add(o, "refresh_expires_in",
		    json_object_new_int64(refresh_exp - now));
		json_object_object_add(o, "refresh_token_expires_in",
		    json_object_new_int64(refresh_exp - now));
	}
	json_object_object_add(o, "session_id",
	    json_object_new_string(who->sid));
	json_object_object_add(o, "user_id", json_object_new_string(who->uid));
	crypto_wipe(at, strlen(at));
	free(at);
	r->no_store = 1;
	return o;
}

/*
 * In the caller's open transaction: a session for u, signed in by amr
 * (the sessions the per-user limit ends, the device and its notice, the
 * audit row of event), the COMMIT; then the mirror, the cookies and the
 * login answer.
 */
void
tokens_sign_in(struct req *r, const struct user *u, const char *amr,
    const char *event)
{
	struct new_session s;
	struct jwt_subject who;
	struct device d;

	if (u->disabled) { /* a passkey, or a ticket from before */
		db_rollback();
		resp_error(r, ERR_ACCOUNT_DISABLED, NULL);
		return;
	}
	if (session_create(r, u->id, amr, &s) == -1 ||
	    device_sign_in(r, u, &d) == -1)
		resp_db_error(r);
	else if (session_revoke_commit(r, s.trimmed, u->id, event) == 0) {
		metrics_inc(MET_LOGIN_SUCCESS);
		device_cookie_set(r, &d);
		session_start(r, &s, u, amr);
		req_set_who(r, u->id);
		who = (struct jwt_subject){ u->id, s.sid, u->email, amr,
			s.auth_time };
		resp_json(r, 200, token_body(r, &who, s.refresh, s.idle_exp));
	}
	session_free(&s);
}

/*
 * A new single-use link for id: BASE?token=TOKEN into link (for the
 * mail), and, in the caller's transaction, q run with ($1 the token's
 * SHA-256 hex, $2 id, $3 ttl seconds, then $4.. the nmore values of
 * more) to store it; the token itself is not kept. 0, or -1.
 */
int
link_issue(struct db_stmt *q, const char *id, const char *const *more,
    int nmore, long ttl, const char *base, char *link, size_t linklen)
{
	char token[TOKEN_B64_LEN + 1], hash[65], secs[24];
	const char *p[6] = { hash, id, secs, NULL, NULL, NULL };
	unsigned char raw[TOKEN_BYTES];
	int i, rc = -1;

	if (nmore < 0 || nmore > 3)
		return -1;
	for (i = 0; i < nmore; i++)
		p[3 + i] = more[i];
	if (crypto_token(token, raw) == 0 &&
	    mail_link(link, linklen, base, token) == 0) {
		crypto_sha256_hex(token, strlen(token), hash);
		snprintf(secs, sizeof(secs), "%ld", ttl);
		rc = db_run(q, 3 + nmore, p);
	}
	crypto_wipe(token, sizeof(token));
	crypto_wipe(raw, sizeof(raw));
	return rc;
}

/*
 * Begin a transaction and consume a link's token with q (an UPDATE of the
 * unused, unexpired row, RETURNING it). Its row, or NULL with the answer
 * written: 400 invalid_token (rolled back) when no row matched, as when
 * another request used the token first.
 */
struct pg_result *
link_consume(struct req *r, struct db_stmt *q, int n, const char *const *p)
{
	PGresult *res;

	if (db_begin() == -1 || (res = db_exec(q, n, p)) == NULL) {
		resp_db_error(r);
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		return NULL;
	}
	return res;
}

/*
 * The SHA-256 (hex) of a link's token, from ?token= or else the body's
 * token field, into hash; 0, or -1 with 400 invalid_token written
 * (missing, or of the wrong type, length or alphabet: 43 base64url).
 */
int
link_token_hash(struct req *r, const char *body_token, char hash[65])
{
	char token[TOKEN_B64_LEN + 2];
	int q;

	if ((q = req_query(r->query, "token", token, sizeof(token))) == 0 &&
	    body_token != NULL)
		q = snprintf(token, sizeof(token), "%s", body_token) > 0;
	if (q != 1 || strlen(token) != TOKEN_B64_LEN) {
		crypto_wipe(token, sizeof(token));
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		return -1;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	crypto_wipe(token, sizeof(token));
	return 0;
}
