/*
 * The browser session cookie (web_cookie.c, API.md "forward
 * authentication"): one per session, "<sid>.<mac>", Path=/, HttpOnly,
 * SameSite=Lax, Secure unless dev; checked by recomputing the MAC, so
 * nothing of it is stored, and it lives as long as its session.
 */
#ifndef FA_WEB_COOKIE_H
#define FA_WEB_COOKIE_H

#include "crypto.h"

struct req;

/* The longest value a valid cookie can have, plus room to see more. */
#define WEB_COOKIE_MAX (UUID_LEN + 1 + TOKEN_B64_LEN + 2)

const char *web_cookie_name(void);
int web_cookie_sid(const char *value, char sid[UUID_LEN + 1]);
int web_cookie_set(struct req *, const char *sid, long long max_age);

#endif
