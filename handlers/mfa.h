/*
 * Second factors (mfa.c): TOTP (RFC 6238) with recovery codes, and the
 * login step between the password and the session (API.md, "Second
 * factors and passkeys").
 */
#ifndef FA_MFA_H
#define FA_MFA_H

#include "outbox.h"

struct req;
struct user;

int mfa_enabled(const char *uid);
void mfa_challenge(struct req *, const struct user *, int factors);
int mfa_ticket_user(const char *mfa_token, char hash[65], char *uid);
int mfa_ticket_spend(const char *hash);
int mfa_reset_user(struct req *, const char *uid, const char *actor);
int mfa_code_ok(struct req *, const char *uid, const char *code);
int mfa_totp_on(const char *uid);
int mfa_notice(struct req *, enum mail_kind, const char *factor);

#endif
