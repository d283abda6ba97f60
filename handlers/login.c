/*
 * POST /auth/login: a password for a new session. Failed logins are
 * limited per client address and per account (login_limits.h); while limited
 * even the right password is refused, and no hash is computed, so a
 * refused request costs no CPU (the same for every account).
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "audit.h"
#include "config.h"
#include "counters.h"
#include "db.h"
#include "errors.h"
#include "login_limits.h"
#include "mfa.h"
#include "log.h"
#include "password.h"
#include "ratelimit.h"
#include "routes.h"
#include "session.h"
#include "tokens.h"
#include "users.h"
#include "validate.h"

/* 429 for a login refused by a limit, audited. No hash is computed. */
static void
limited(struct req *r, const char *uid, long retry)
{
	metrics_inc(MET_LOGIN_LIMITED);
	(void)audit_write(r, uid, "login", "rate_limited");
	resp_rate_limited(r, retry);
}

/* 401 for an unknown account or a wrong password, counted and audited. */
static void
refused(struct req *r, const char *uid, const char *key, const char *outcome)
{
	limit_login_failed(r, key);
	metrics_inc(MET_LOGIN_FAILURE);
	if (audit_write(r, uid, "login", outcome) == -1)
		resp_db_error(r);
	else
		resp_error(r, ERR_INVALID_CREDENTIALS, NULL);
}

/* 403: the password was right, but the address is not verified yet. */
static void
unverified(struct req *r, const char *uid)
{
	metrics_inc(MET_LOGIN_UNVERIFIED);
	if (audit_write(r, uid, "login", "email_not_verified") == -1)
		resp_db_error(r);
	else
		resp_error(r, ERR_EMAIL_NOT_VERIFIED, NULL);
}

/* 403: the password was right, but an admin disabled the account. */
static void
disabled(struct req *r, const char *uid)
{
	if (audit_write(r, uid, "login", "account_disabled") == -1)
		resp_db_error(r);
	else
		resp_error(r, ERR_ACCOUNT_DISABLED, NULL);
}

/*
 * The password was right: in one transaction, a better hash if the cost
 * changed, then either the session (no second factor) or the ticket
 * that waits for the second factor (mfa.c).
 */
static void
sign_in(struct req *r, const struct user *u)
{
	char *rehash = NULL;
	int second;

	if (pw_needs_rehash(u->password_hash))
		rehash = pw_hash(r->arg[LOGIN_PASSWORD]);
	if (db_begin() == -1 ||
	    (rehash != NULL && user_set_hash(u->id, rehash) == -1) ||
	    (second = mfa_enabled(u->id)) == -1)
		resp_db_error(r);
	else if (second)
		mfa_challenge(r, u, second);
	else
		tokens_sign_in(r, u, "pwd", "login");
	if (rehash != NULL)
		pw_hash_free(rehash);
}

void
handle_login(struct req *r)
{
	const char *pw = r->arg[LOGIN_PASSWORD], *key;
	char canon[CANON_MAX + 1];
	struct user u;
	PGresult *res;
	long retry;

	if (limit_login_ip(r, &retry)) {
		limited(r, NULL, retry);
		return;
	}
	canon_ident(r->arg[LOGIN_IDENT], canon, sizeof(canon));
	if ((res = user_by_login(canon)) == NULL) {
		resp_db_error(r);
		return;
	}
	key = user_read(res, 0, &u) == 0 ? u.id : canon;
	if (limit_login_account(key, &retry))
		limited(r, u.id, retry);
	else if (u.id == NULL) {
		pw_dummy_verify(pw);
		log_info("login: unknown account");
		refused(r, NULL, key, "unknown_user");
	} else if (!pw_verify(pw, u.password_hash)) {
		log_info("login: wrong password for %s", u.id);
		refused(r, u.id, key, "wrong_password");
	} else {
		limit_login_clear(key);
		if (u.disabled)
			disabled(r, u.id);
		else if (cfg.require_verified_email && !u.email_verified)
			unverified(r, u.id);
		else
			sign_in(r, &u);
	}
	PQclear(res);
}
