/* The password-guessing limits of login_limits.h, over ratelimit.c's counters. */
#include "config.h"
#include "login_limits.h"
#include "ratelimit.h"
#include "request.h"

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
