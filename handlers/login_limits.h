/*
 * The limits on guessing a password (login_limits.c). Failed logins count per
 * client address and per account: the user id when the account exists,
 * whichever identifier named it, else the canonical identifier, so an
 * unknown account behaves like a known one. A wrong current password
 * (password change) counts in the same account bucket.
 */
#ifndef FA_LOGIN_LIMITS_H
#define FA_LOGIN_LIMITS_H

struct req;

int limit_login_ip(struct req *, long *retry);
int limit_login_account(const char *key, long *retry);
void limit_account_failed(const char *key);
void limit_login_failed(struct req *, const char *key);
void limit_login_clear(const char *key);
int limit_mfa_over(struct req *, const char *uid, long *retry);
void limit_mfa_failed(struct req *, const char *uid);
void limit_mfa_clear(const char *uid);
void limit_ip_failed(struct req *);
int reauthenticate(struct req *, const char *password, const char *event);

#endif
