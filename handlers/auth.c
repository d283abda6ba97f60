/*
 * Accounts and tokens: register, login, refresh, verify, me, password
 * change, logout, logout-all.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

static const char *const login_names[] = { "username", "email", "user",
	"account", NULL };
static const char *const password_names[] = { "password", "psw", NULL };

/* The body of a login or refresh answer; refresh may be NULL. */
static struct json_object *
token_body(struct req *r, const char *uid, const char *sid, const char *email,
    const char *refresh, long long refresh_exp)
{
	struct json_object *o;
	char jti[UUID_LEN + 1], *at;
	long long now = (long long)time(NULL);

	if ((at = jwt_issue(uid, sid, email, now, jti)) == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(at));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
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
	json_object_object_add(o, "session_id", json_object_new_string(sid));
	json_object_object_add(o, "user_id", json_object_new_string(uid));
	crypto_wipe(at, strlen(at));
	free(at);
	r->no_store = 1;
	return o;
}

/* Seed 004 registers with an email only: derive a free-form username. */
static int
derive_username(const char *email, char out[33])
{
	unsigned char rnd[3];
	size_t n = 0;
	const char *p;

	for (p = email; *p && *p != '@' && n < 24; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		    *p == '-')
			out[n++] = *p;
	if (n == 0)
		out[n++] = 'u';
	if (crypto_random(rnd, sizeof(rnd)) == -1)
		return -1;
	snprintf(out + n, 33 - n, "-%02x%02x%02x", rnd[0], rnd[1], rnd[2]);
	return 0;
}

/* Queue the verification link for a new user (in the caller's tx). */
static int
queue_verification(const char *uid, const char *email)
{
	char token[TOKEN_B64_LEN + 1], hash[65], ttl[24], link[4200];
	char body[4600];
	unsigned char raw[TOKEN_BYTES];
	const char *p[3];
	PGresult *res;
	int rc = -1;

	if (crypto_token(token, raw) == -1 || mail_link(link, sizeof(link),
	    cfg.email_verify_url, token) == -1)
		goto out;
	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(ttl, sizeof(ttl), "%ld", cfg.verify_ttl);
	p[0] = hash;
	p[1] = uid;
	p[2] = ttl;
	if ((res = db_exec(Q_VERIFY_INSERT, 3, p)) == NULL)
		goto out;
	PQclear(res);
	snprintf(body, sizeof(body), "Welcome! Confirm your email address by "
	    "opening this link (it works once, for %ld hours):\n\n%s\n\n"
	    "If you did not create an account, ignore this message.\n",
	    cfg.verify_ttl / 3600, link);
	rc = mail_queue("email_verify", email, "Confirm your email address",
	    body);
	crypto_wipe(body, sizeof(body));
out:
	crypto_wipe(token, sizeof(token));
	crypto_wipe(link, sizeof(link));
	return rc;
}

void
handle_register(struct req *r)
{
	const char *username = NULL, *email = NULL, *pw = NULL, *dn = NULL;
	const char *captcha = NULL, *why, *p[4];
	char derived[33], send[8], canon[CANON_MAX + 1];
	struct json_object *o;
	PGresult *res = NULL, *v;
	const char *names_email[] = { "email", "account", NULL };
	char *hash = NULL;
	int verified = 0, send_email = 1, q;
	long retry;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if ((q = req_query(r->query, "sendEmail", send, sizeof(send))) == 1) {
		if (strcmp(send, "false") == 0 || strcmp(send, "0") == 0)
			send_email = 0;
		else if (strcmp(send, "true") != 0 && strcmp(send, "1") != 0) {
			resp_field_error(r, "sendEmail", "Query parameter "
			    "'sendEmail' must be true or false");
			return;
		}
	} else if (q == -1) {
		resp_field_error(r, "sendEmail", "Query parameter 'sendEmail' "
		    "must be true or false");
		return;
	}
	if (json_str(r, "username", 64, &username) == JF_BAD ||
	    json_str_any(r, names_email, 320, &email, NULL) == JF_BAD ||
	    json_str_any(r, password_names, 1024, &pw, NULL) == JF_BAD ||
	    json_str(r, "display_name", 256, &dn) == JF_BAD ||
	    json_str(r, "captcha", 16, &captcha) == JF_BAD)
		return;
	if (email == NULL) {
		resp_field_error(r, "email", "Field 'email' is required");
		return;
	}
	if (!valid_email(email)) {
		resp_field_error(r, "email", "Field 'email' is not a valid "
		    "email address");
		return;
	}
	if (pw == NULL) {
		resp_field_error(r, "password", "Field 'password' is required");
		return;
	}
	if (username == NULL) {
		if (derive_username(email, derived) == -1) {
			resp_error(r, ERR_INTERNAL, NULL);
			return;
		}
		username = derived;
	}
	if (!valid_username(username)) {
		resp_field_error(r, "username", "Field 'username' must be 3-32 "
		    "of A-Z a-z 0-9 _ . -");
		return;
	}
	if (dn != NULL && (utf8_chars(dn) > 64 || has_control(dn))) {
		resp_field_error(r, "display_name", "Field 'display_name' must "
		    "be at most 64 characters of text");
		return;
	}
	if (pw_check_rules(pw, username, email, &why) == -1) {
		resp_error(r, ERR_WEAK_PASSWORD, why);
		return;
	}
	canon_ident(email, canon, sizeof(canon));
	if (rl_hit("register-ip", r->remote_addr, cfg.rl_register_ip,
	    cfg.rl_window, &retry) || rl_hit("register-email", canon,
	    cfg.rl_register_email, cfg.rl_window, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	if (cfg.require_captcha && captcha == NULL) {
		resp_field_error(r, "captcha", "Field 'captcha' is required: "
		    "request a code with POST /auth/captcha");
		return;
	}
	if (captcha != NULL && (cfg.require_captcha || strlen(captcha) == 6)) {
		switch (captcha_check(email, captcha)) {
		case 1:
			verified = 1;
			break;
		case -1:
			resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
			return;
		default:
			if (cfg.require_captcha) {
				resp_field_error(r, "captcha", "Field 'captcha' "
				    "is wrong or expired");
				return;
			}
		}
	}
	if ((hash = pw_hash(pw)) == NULL) {
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	p[0] = username;
	p[1] = email;
	p[2] = hash;
	p[3] = dn ? dn : "";
	if (db_begin() == -1) {
		resp_db_error(r);
		goto out;
	}
	if ((res = db_exec(Q_USER_INSERT, 4, p)) == NULL) {
		const char *c = db_constraint();

		if (strcmp(db_sqlstate(), "23505") == 0) {
			db_rollback();
			resp_error(r, strcmp(c, "users_email_key") == 0 ?
			    ERR_EMAIL_TAKEN : ERR_USERNAME_TAKEN, NULL);
		} else
			resp_db_error(r);
		goto out;
	}
	p[0] = PQgetvalue(res, 0, 0);
	if (verified) {
		if ((v = db_exec(Q_USER_SET_VERIFIED, 1, p)) == NULL) {
			resp_db_error(r);
			goto out;
		}
		PQclear(v);
	} else if (send_email && queue_verification(p[0], email) == -1) {
		resp_db_error(r);
		goto out;
	}
	if (db_audit(r, PQgetvalue(res, 0, 0), "register", "success") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("registered"));
	json_object_object_add(o, "user_id",
	    json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "email_verified",
	    json_object_new_boolean(verified));
	resp_json(r, 201, o);
out:
	PQclear(res);
	if (hash != NULL) {
		crypto_wipe(hash, strlen(hash));
		free(hash);
	}
}

/* Columns of USER_COLS. */
enum { U_ID, U_USERNAME, U_EMAIL, U_DISPLAY, U_AVATAR, U_VERIFIED, U_CREATED,
	U_ROLE, U_HASH };

/* 429 for a login refused by a limit, audited. No hash is computed. */
static void
limited(struct req *r, const char *uid, long retry)
{
	metrics_inc(MET_LOGIN_LIMITED);
	(void)db_audit(r, uid, "login", "rate_limited");
	resp_rate_limited(r, retry);
}

static void
login_failed(struct req *r, const char *key)
{
	long retry;

	(void)rl_hit("login-account", key, cfg.rl_login_account,
	    cfg.rl_window, &retry);
	(void)rl_hit("login-ip", r->remote_addr, cfg.rl_login_ip,
	    cfg.rl_window, &retry);
}

void
handle_login(struct req *r)
{
	const char *ident = NULL, *pw = NULL, *p[2];
	struct new_session s = { 0 };
	PGresult *res = NULL;
	char *rehash = NULL, canon[CANON_MAX + 1];
	const char *uid, *key;
	long retry;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str_any(r, login_names, 320, &ident, NULL) == JF_BAD ||
	    json_str_any(r, password_names, 1024, &pw, NULL) == JF_BAD)
		return;
	if (ident == NULL || *ident == '\0') {
		resp_field_error(r, "username", "Field 'username' or 'email' is "
		    "required");
		return;
	}
	if (pw == NULL) {
		resp_field_error(r, "password", "Field 'password' is required");
		return;
	}
	/*
	 * Failed logins are limited per client address and per account:
	 * against the user id when the account exists, whichever identifier
	 * named it, else against the canonical identifier (NFKC, case
	 * folded), so unknown accounts behave identically. While limited
	 * even the right password is refused, and no hash is computed: a
	 * refused request costs no CPU (the same for every account).
	 */
	if (rl_over("login-ip", r->remote_addr, cfg.rl_login_ip, &retry)) {
		limited(r, NULL, retry);
		return;
	}
	canon_ident(ident, canon, sizeof(canon));
	p[0] = canon;
	if ((res = db_exec(Q_USER_BY_LOGIN, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	key = PQntuples(res) == 1 ? PQgetvalue(res, 0, U_ID) : canon;
	if (rl_over("login-account", key, cfg.rl_login_account, &retry)) {
		limited(r, PQntuples(res) == 1 ? key : NULL, retry);
		goto out;
	}
	if (PQntuples(res) != 1) {
		pw_dummy_verify(pw);
		log_info("login: unknown account");
		login_failed(r, key);
		metrics_inc(MET_LOGIN_FAILURE);
		if (db_audit(r, NULL, "login", "unknown_user") == -1) {
			resp_db_error(r);
			goto out;
		}
		resp_error(r, ERR_INVALID_CREDENTIALS, NULL);
		goto out;
	}
	uid = PQgetvalue(res, 0, U_ID);
	if (strlen(pw) > 1024 || !pw_verify(pw, PQgetvalue(res, 0, U_HASH))) {
		log_info("login: wrong password for %s", uid);
		login_failed(r, key);
		metrics_inc(MET_LOGIN_FAILURE);
		if (db_audit(r, uid, "login", "wrong_password") == -1) {
			resp_db_error(r);
			goto out;
		}
		resp_error(r, ERR_INVALID_CREDENTIALS, NULL);
		goto out;
	}
	rl_clear("login-account", key);
	if (cfg.require_verified_email &&
	    strcmp(PQgetvalue(res, 0, U_VERIFIED), "t") != 0) {
		metrics_inc(MET_LOGIN_UNVERIFIED);
		if (db_audit(r, uid, "login", "email_not_verified") == -1) {
			resp_db_error(r);
			goto out;
		}
		resp_error(r, ERR_EMAIL_NOT_VERIFIED, NULL);
		goto out;
	}
	if (pw_needs_rehash(PQgetvalue(res, 0, U_HASH)))
		rehash = pw_hash(pw);
	if (db_begin() == -1) {
		resp_db_error(r);
		goto out;
	}
	if (rehash != NULL) {
		PGresult *u;

		p[0] = uid;
		p[1] = rehash;
		if ((u = db_exec(Q_USER_SET_HASH, 2, p)) == NULL) {
			resp_db_error(r);
			goto out;
		}
		PQclear(u);
	}
	if (session_create(r, uid, &s) == -1) {
		resp_db_error(r);
		goto out;
	}
	/* The sessions the limit revoked: tombstones before COMMIT. */
	if (session_revoke_commit(r, s.trimmed, uid, "login") == -1)
		goto out;
	metrics_inc(MET_LOGIN_SUCCESS);
	session_mirror_set(s.sid, uid, s.idle_exp);
	session_cookies(r, s.sid, s.refresh, cfg.refresh_ttl);
	snprintf(r->auth.uid, sizeof(r->auth.uid), "%s", uid);
	r->authed = 1;
	resp_json(r, 200, token_body(r, uid, s.sid,
	    PQgetvalue(res, 0, U_EMAIL), s.refresh, s.idle_exp));
out:
	session_free(&s);
	PQclear(res);
	if (rehash != NULL) {
		crypto_wipe(rehash, strlen(rehash));
		free(rehash);
	}
}

/* Seed 002: a valid Bearer token alone extends its session. */
static void
refresh_by_bearer(struct req *r)
{
	char exp[24];
	const char *p[2];
	PGresult *res;
	struct json_object *o;
	long long idle;

	if (auth_bearer(r) == -1)
		return;
	snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) +
	    cfg.refresh_ttl);
	p[0] = r->auth.sid;
	p[1] = exp;
	if (db_begin() == -1 || (res = db_exec(Q_SESSION_TOUCH, 2, p)) ==
	    NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_INVALID_TOKEN, NULL);
		return;
	}
	idle = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (db_audit(r, r->auth.uid, "refresh", "extended") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		return;
	}
	session_mirror_set(r->auth.sid, r->auth.uid, idle);
	o = token_body(r, r->auth.uid, r->auth.sid, r->auth.email, NULL, 0);
	if (o != NULL)
		json_object_object_add(o, "session_expires_in",
		    json_object_new_int64(idle - (long long)time(NULL)));
	resp_json(r, 200, o);
}

#define GRACE	"10"	/* seconds a just-rotated token still gets its successor */
enum { RF_OUTCOME, RF_SESSION, RF_USER, RF_EMAIL, RF_IDLE, RF_ABS };

/*
 * Rotate a refresh token (body, or sid + refresh cookies) in one round
 * trip: refresh_rotate() (sql/003) locks the token row, so however many
 * refreshes of one token run at once, at most one successor exists.
 */
void
handle_refresh(struct req *r)
{
	char token[TOKEN_B64_LEN + 2], csid[UUID_LEN + 2], hash[65];
	char succ[TOKEN_B64_LEN + 1], succ_hash[65], exp[24];
	const char *body_tok = NULL, *p[7], *outcome;
	PGresult *res = NULL;
	int from_cookie = 0;
	long long idle;

	token[0] = csid[0] = succ[0] = '\0';
	/* A token of the wrong type, length or alphabet is unknown (401). */
	if (json_token(r, "refresh_token", &body_tok) == JF_BAD)
		body_tok = "";
	if (body_tok != NULL) {
		snprintf(token, sizeof(token), "%s", body_tok);
		if (strlen(body_tok) != TOKEN_B64_LEN)
			token[0] = '\0';
	} else if (r->cookie != NULL &&
	    req_cookie(r->cookie, "refresh", token, sizeof(token)) == 1) {
		from_cookie = 1;
		if (!req_same_origin(r)) {
			resp_error(r, ERR_FORBIDDEN, "Cross-site request "
			    "refused");
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
		db_audit(r, NULL, "refresh", "invalid");
		resp_error(r, ERR_INVALID_GRANT, NULL);
		goto out;
	}
	if (!db_ready()) {	/* connects, and loads the refresh secret */
		resp_db_error(r);
		goto out;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	if (session_successor(token, succ) == -1) {
		resp_error(r, ERR_INTERNAL, NULL);
		goto out;
	}
	crypto_sha256_hex(succ, strlen(succ), succ_hash);
	snprintf(exp, sizeof(exp), "%lld", (long long)time(NULL) +
	    cfg.refresh_ttl);
	p[0] = hash;
	p[1] = succ_hash;
	p[2] = from_cookie ? csid : NULL;
	p[3] = exp;
	p[4] = GRACE;
	p[5] = r->remote_addr;
	p[6] = r->user_agent;
	if ((res = db_exec(Q_REFRESH, 7, p)) == NULL || PQntuples(res) != 1) {
		resp_db_error(r);
		goto out;
	}
	outcome = PQgetvalue(res, 0, RF_OUTCOME);
	if (strcmp(outcome, "inactive") == 0)	/* heals a missed tombstone */
		(void)session_mirror_revoke(PQgetvalue(res, 0, RF_SESSION),
		    (long long)time(NULL) + cfg.session_max_ttl);
	if (strcmp(outcome, "reuse") == 0) {
		metrics_inc(MET_REFRESH_REUSE);
		if (session_mirror_revoke(PQgetvalue(res, 0, RF_SESSION),
		    atoll(PQgetvalue(res, 0, RF_ABS))) == -1) {
			/* Revoked in Postgres; the mirror must hear it too. */
			resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
			goto out;
		}
		log_warn("refresh: reuse of a rotated token, session %s revoked",
		    PQgetvalue(res, 0, RF_SESSION));
		if (from_cookie)
			session_cookies(r, "", "", 0);
		resp_error(r, ERR_INVALID_GRANT, "Refresh token reuse "
		    "detected; the session has been revoked");
		goto out;
	}
	if (strcmp(outcome, "ok") != 0) {
		resp_error(r, ERR_INVALID_GRANT, NULL);
		goto out;
	}
	idle = atoll(PQgetvalue(res, 0, RF_IDLE));
	session_mirror_set(PQgetvalue(res, 0, RF_SESSION),
	    PQgetvalue(res, 0, RF_USER), idle);
	session_cookies(r, PQgetvalue(res, 0, RF_SESSION), succ, cfg.refresh_ttl);
	snprintf(r->auth.uid, sizeof(r->auth.uid), "%s",
	    PQgetvalue(res, 0, RF_USER));
	r->authed = 1;
	resp_json(r, 200, token_body(r, PQgetvalue(res, 0, RF_USER),
	    PQgetvalue(res, 0, RF_SESSION), PQgetvalue(res, 0, RF_EMAIL), succ,
	    idle));
out:
	crypto_wipe(token, sizeof(token));
	crypto_wipe(succ, sizeof(succ));
	PQclear(res);
}

void
handle_verify(struct req *r)
{
	const char *tok = NULL;
	struct json_object *o, *x;
	enum api_err err;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str(r, "token", BODY_MAX_DEFAULT, &tok) == JF_BAD)
		return;
	if (tok == NULL) {
		resp_field_error(r, "token", "Field 'token' is required");
		return;
	}
	if (auth_token(r, tok, strlen(tok), &err) == -1) {
		if (err != ERR_INVALID_TOKEN) {
			resp_error(r, err, NULL);
			return;
		}
		x = json_object_new_object();
		json_object_object_add(x, "active", json_object_new_boolean(0));
		resp_error_extra(r, ERR_INVALID_TOKEN, "Token is invalid, "
		    "expired or revoked", x);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "active", json_object_new_boolean(1));
	json_object_object_add(o, "token", json_object_get(r->auth.claims));
	resp_json(r, 200, o);
}

void
handle_me(struct req *r)
{
	struct json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "uid", json_object_new_string(r->auth.uid));
	json_object_object_add(o, "sid", json_object_new_string(r->auth.sid));
	json_object_object_add(o, "jti", json_object_new_string(r->auth.jti));
	json_object_object_add(o, "email", json_object_new_string(r->auth.email));
	json_object_object_add(o, "iat", json_object_new_int64(r->auth.iat));
	json_object_object_add(o, "exp", json_object_new_int64(r->auth.exp));
	json_object_object_add(o, "claims", json_object_get(r->auth.claims));
	resp_json(r, 200, o);
}

void
handle_password_change(struct req *r)
{
	const char *cur = NULL, *nw = NULL, *why, *p[3];
	PGresult *u = NULL, *rev = NULL, *q;
	struct json_object *o;
	char *hash = NULL;
	long retry;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str(r, "current_password", 1024, &cur) == JF_BAD ||
	    json_str(r, "new_password", 1024, &nw) == JF_BAD)
		return;
	if (cur == NULL || nw == NULL) {
		resp_field_error(r, cur == NULL ? "current_password" :
		    "new_password", cur == NULL ? "Field 'current_password' is "
		    "required" : "Field 'new_password' is required");
		return;
	}
	/*
	 * A wrong current_password counts like a failed login of the
	 * account (the same bucket): a stolen access token does not buy
	 * unlimited guesses, and a limited request costs no hash.
	 */
	if (rl_over("login-account", r->auth.uid, cfg.rl_login_account,
	    &retry)) {
		(void)db_audit(r, r->auth.uid, "password_change",
		    "rate_limited");
		resp_rate_limited(r, retry);
		return;
	}
	p[0] = r->auth.uid;
	if ((u = db_exec(Q_USER_BY_ID, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(u) != 1 || !pw_verify(cur, PQgetvalue(u, 0, U_HASH))) {
		(void)rl_hit("login-account", r->auth.uid,
		    cfg.rl_login_account, cfg.rl_window, &retry);
		(void)db_audit(r, r->auth.uid, "password_change",
		    "wrong_password");
		resp_error(r, ERR_INVALID_CREDENTIALS, "Current password is "
		    "incorrect");
		goto out;
	}
	rl_clear("login-account", r->auth.uid);
	if (pw_check_rules(nw, PQgetvalue(u, 0, U_USERNAME),
	    PQgetvalue(u, 0, U_EMAIL), &why) == -1) {
		resp_error(r, ERR_WEAK_PASSWORD, why);
		goto out;
	}
	if ((hash = pw_hash(nw)) == NULL) {
		resp_error(r, ERR_INTERNAL, NULL);
		goto out;
	}
	if (db_begin() == -1) {
		resp_db_error(r);
		goto out;
	}
	p[0] = r->auth.uid;
	p[1] = hash;
	if ((q = db_exec(Q_USER_SET_HASH, 2, p)) == NULL) {
		resp_db_error(r);
		goto out;
	}
	PQclear(q);
	p[1] = "password_change";
	p[2] = r->auth.sid;
	if ((rev = db_exec(Q_SESSION_REVOKE_OTHERS, 3, p)) == NULL) {
		resp_db_error(r);
		goto out;
	}
	if (session_revoke_commit(r, rev, r->auth.uid, "password_change") ==
	    -1)
		goto out;
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("password changed"));
	json_object_object_add(o, "revoked",
	    json_object_new_int(PQntuples(rev)));
	resp_json(r, 200, o);
out:
	PQclear(u);
	PQclear(rev);
	if (hash != NULL) {
		crypto_wipe(hash, strlen(hash));
		free(hash);
	}
}

void
handle_logout(struct req *r)
{
	const char *p[2] = { r->auth.sid, "logout" };
	struct json_object *o;
	PGresult *res;
	int rc;

	if (db_begin() == -1) {
		resp_db_error(r);
		return;
	}
	if ((res = db_exec(Q_SESSION_REVOKE, 2, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	/*
	 * Already revoked, yet the mirror let the token in: a tombstone was
	 * missed (a refresh reuse whose write failed); write it now.
	 */
	if (PQntuples(res) == 0 && session_mirror_revoke(r->auth.sid,
	    (long long)time(NULL) + cfg.session_max_ttl) == -1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	rc = session_revoke_commit(r, res, r->auth.uid, "logout");
	PQclear(res);
	if (rc == -1)
		return;
	if (r->auth.via_cookie)
		session_cookies(r, "", "", 0);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "message",
	    json_object_new_string("logout successful"));
	resp_json(r, 200, o);
}

void
handle_logout_all(struct req *r)
{
	const char *p[2] = { r->auth.uid, "logout_all" };
	struct json_object *o;
	PGresult *res;
	int n;

	if (db_begin() == -1) {
		resp_db_error(r);
		return;
	}
	if ((res = db_exec(Q_SESSION_REVOKE_USER, 2, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (session_revoke_commit(r, res, r->auth.uid, "logout_all") == -1) {
		PQclear(res);
		return;
	}
	n = PQntuples(res);
	PQclear(res);
	if (r->auth.via_cookie)
		session_cookies(r, "", "", 0);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "message",
	    json_object_new_string("all sessions revoked"));
	json_object_object_add(o, "revoked", json_object_new_int(n));
	resp_json(r, 200, o);
}
