/* The password-guessing limits of login_limits.h, over ratelimit.c's counters. */
#include <libpq-fe.h>

#include "audit.h"
#include "authn.h"
#include "config.h"
#include "errors.h"
#include "login_limits.h"
#include "password.h"
#include "ratelimit.h"
#include "request.h"
#include "users.h"

/* Is the client address over its failed-login limit? */
int
limit_login_ip(struct req *r, long *retry)
{
	return rl_over("login-ip", r->remote_addr, cfg.rl_login_ip, retry);
}

/* Is the account (user id, or canonical identifier) over its limit? */
int
limit_login_account(const char *key, long *retry)
{
	return rl_over("login-account", key, cfg.rl_login_account, retry);
}

/* A wrong current password (password change): one more for the account. */
void
limit_account_failed(const char *key)
{
	long retry;

	(void)rl_hit("login-account", key, cfg.rl_login_account, cfg.rl_window,
	    &retry);
}

/* A failed login: one more failure for the account and the address. */
void
limit_login_failed(struct req *r, const char *key)
{
	long retry;

	limit_account_failed(key);
	(void)rl_hit("login-ip", r->remote_addr, cfg.rl_login_ip, cfg.rl_window,
	    &retry);
}

/* The right password: the account's failures are forgiven. */
void
limit_login_clear(const char *key)
{
	rl_clear("login-account", key);
}

/*
 * Second-factor codes have their own bucket per account, which the right
 * password does not clear (else each login would buy five more guesses);
 * the address's is the logins' one. The right code clears it.
 */
int
limit_mfa_over(struct req *r, const char *uid, long *retry)
{
	return rl_over("login-ip", r->remote_addr, cfg.rl_login_ip, retry) ||
	    rl_over("mfa-account", uid, cfg.rl_login_account, retry);
}

void
limit_mfa_failed(struct req *r, const char *uid)
{
	long retry;

	(void)rl_hit("mfa-account", uid, cfg.rl_login_account, cfg.rl_window,
	    &retry);
	(void)rl_hit("login-ip", r->remote_addr, cfg.rl_login_ip, cfg.rl_window,
	    &retry);
}

void
limit_mfa_clear(const char *uid)
{
	rl_clear("mfa-account", uid);
}

/* A failure with no account to name (an unknown passkey): the address's. */
void
limit_ip_failed(struct req *r)
{
	long retry;

	(void)rl_hit("login-ip", r->remote_addr, cfg.rl_login_ip, cfg.rl_window,
	    &retry);
}

/*
 * The password again, for a change to the account (its second factor,
 * its deletion): as a wrong current password on POST /auth/password, it
 * counts like a failed login of the account. 0 when right; -1 with the
 * answer written.
 */
int
reauthenticate(struct req *r, const char *password, const char *event)
{
	const char *uid = auth_of(r)->uid;
	struct user u;
	PGresult *res;
	long retry;
	int ok;

	if (limit_login_account(uid, &retry)) {
		(void)audit_write(r, uid, event, "rate_limited");
		resp_rate_limited(r, retry);
		return -1;
	}
	if ((res = user_by_id(uid)) == NULL) {
		resp_db_error(r);
		return -1;
	}
	ok = user_read(res, 0, &u) == 0 && pw_verify(password, u.password_hash);
	PQclear(res);
	if (!ok) {
		limit_account_failed(uid);
		(void)audit_write(r, uid, event, "wrong_password");
		resp_error(r, ERR_INVALID_CREDENTIALS, "Password is incorrect");
		return -1;
	}
	limit_login_clear(uid);
	return 0;
}
