/*
 * Who is asking (authn.c): a Bearer access token, the API's session
 * cookies or the browser session cookie, verified, with the session
 * checked against its mirror. Dispatch calls
 * authenticate() for R_AUTH rows; handlers read the result with auth_of().
 */
#ifndef FA_AUTHN_H
#define FA_AUTHN_H

#include <stddef.h>

#include "crypto.h"
#include "dispatch.h"
#include "request.h"
#include "response.h"
#include "session.h"

enum auth_via {
	VIA_TOKEN,   /* a Bearer access token */
	VIA_COOKIES, /* the API's sid + refresh cookies */
	VIA_WEB,     /* the browser session cookie (Path=/) */
	VIA_PAT,     /* a personal access token (pat.h) */
};
#define R_PAT   R_APP1 /* the route takes a personal access token too */
#define R_ADMIN R_APP2 /* the route is for role admin only */
struct auth {
	char uid[UUID_LEN + 1];     /* user id from a verified token/cookie */
	char sid[UUID_LEN + 1];     /* session id */
	char jti[UUID_LEN + 1];     /* token id ("" for cookies) */
	char email[256];            /* email claim */
	long long iat, exp;         /* token times */
	struct json_object *claims; /* all verified claims, owned */
	int via_cookie;             /* VIA_COOKIES or VIA_WEB */
	enum auth_via via;          /* which credential it was */
	struct session_info sess;   /* the session's mirror entry */
	char scopes[700];           /* VIA_PAT: the token's, comma-joined */
};

/* The identity of an R_AUTH request (never NULL there), else NULL. */
static inline struct auth *
auth_of(struct req *r)
{
	return r->app;
}

int authenticate(struct req *, unsigned route_flags);
int auth_token(struct req *, const char *tok, size_t len, api_err *);
int auth_bearer(struct req *);
int auth_web(struct req *, api_err *);

#endif
