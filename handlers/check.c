/*
 * GET /auth/check: the answer to nginx's auth_request subrequest (API.md,
 * forward authentication), and GET /auth/redirect, which tells the
 * hosted sign-in page where its `rd` may lead. The check is on the fast
 * path: a Bearer access token or the browser session cookie, the
 * session's mirror entry (no Postgres when Redis has it), the location's
 * policy, and the identity headers nginx hands the protected upstream.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "authn.h"
#include "check.h"
#include "config.h"
#include "errors.h"
#include "log.h"
#include "routes.h"
#include "session.h"
#include "validate.h"

#define SIGN_IN     "/auth/sign-in"
#define RD_FALLBACK "/auth/account"
#define RD_MAX      2048

/* Is word (n bytes) one of the words of list (space or comma separated)? */
static int
word_in(const char *list, const char *word, size_t n)
{
	const char *p = list;
	size_t k;

	while (*p) {
		p += strspn(p, " ,");
		k = strcspn(p, " ,");
		if (k > 0 && k == n && memcmp(p, word, n) == 0)
			return 1;
		p += k;
	}
	return 0;
}

/*
 * The credential of a check: a Bearer token, else the browser session
 * cookie. 0 with auth_of(r) filled; -1 with *err (and *sent: whether a
 * credential came at all).
 */
static int
credential(struct req *r, api_err *err, int *sent)
{
	const char *tok;
	size_t len;
	int rc;

	*sent = 1;
	*err = ERR_INVALID_TOKEN;
	if (r->authorization != NULL) {
		if (req_bearer(r->authorization, &tok, &len) == -1)
			return -1;
		/* an access token, or a personal access token (pat.h) */
		return auth_token(r, tok, len, err);
	}
	if ((rc = auth_web(r, err)) == 1) {
		*sent = 0;
		return -1;
	}
	return rc;
}

/* Does the request come from a browser (not an API client)? */
static int
browser(const struct req *r)
{
	return r->authorization == NULL &&
	    (r->accept == NULL ||
	        strstr(r->accept, "application/json") == NULL);
}

/*
 * For a browser: where to sign in, with the URL it asked for as rd (the
 * protect snippet turns it into a 302, or a link on the 403 page).
 */
static void
sign_in_header(struct req *r, const char *extra)
{
	char rd[3 * RD_MAX + 1];
	const char *uri = r->original_uri;

	if (uri == NULL || uri[0] != '/' || strlen(uri) > RD_MAX ||
	    url_encode(uri, rd, sizeof(rd), "-._~/") == -1)
		str_copy(rd, sizeof(rd), "/");
	resp_header(r, "X-Auth-Request-Redirect: " SIGN_IN "?rd=%s%s", rd,
	    extra);
}

/* Not signed in: 401 (a browser is also told where to sign in). */
static void
unauthorized(struct req *r, api_err err, int sent)
{
	if (browser(r) && err == ERR_INVALID_TOKEN)
		sign_in_header(r, "");
	resp_error(r, err,
	    sent ? "Invalid or expired credential" : "Sign-in required");
}

/*
 * The location's policy (AUTH_REQUIRE_ROLE, AUTH_REQUIRE_MFA,
 * AUTH_MAX_AGE, AUTH_REQUIRE_SCOPE). NULL when it lets a in, else why
 * not; *bad is set when a parameter itself is malformed (a deployment
 * error, which fails closed).
 */
static const char *
refusal(const struct req *r, const struct auth *a, int *bad)
{
	const char *role = r->loc[LOC_REQUIRE_ROLE], *mfa;
	const char *age = r->loc[LOC_MAX_AGE], *scope, *p;
	char *end;
	size_t n;
	long long max;

	*bad = 0;
	if (role != NULL && role[strspn(role, " ,")] != '\0' &&
	    !word_in(role, a->sess.role, strlen(a->sess.role)))
		return "This location requires another role";
	mfa = r->loc[LOC_REQUIRE_MFA];
	if (mfa != NULL && strcmp(mfa, "1") == 0) {
		if (!word_in(a->sess.amr, "mfa", 3))
			return "This location requires a second factor";
	} else if (mfa != NULL && *mfa != '\0' && strcmp(mfa, "0") != 0) {
		*bad = 1;
		return "AUTH_REQUIRE_MFA";
	}
	if (age != NULL && *age != '\0') {
		max = strtoll(age, &end, 10);
		if (*end != '\0' || max < 0 ||
		    !(age[0] >= '0' && age[0] <= '9')) {
			*bad = 1;
			return "AUTH_MAX_AGE";
		}
		if ((long long)time(NULL) - a->sess.auth_time > max)
			return "This location requires a recent sign-in";
	}
	/*
	 * AUTH_REQUIRE_SCOPE restricts personal access tokens, which must
	 * carry every scope it lists; a session of the user carries
	 * everything the user may do.
	 */
	if (a->via == VIA_PAT && (scope = r->loc[LOC_REQUIRE_SCOPE]) != NULL)
		for (p = scope; *(p += strspn(p, " ,")) != '\0'; p += n) {
			n = strcspn(p, " ,");
			if (!word_in(a->scopes, p, n))
				return "This location requires a scope the "
				       "token "
				       "does not have";
		}
	return NULL;
}

/*
 * A browser session's idle expiry slides: once the mirror's idle expiry
 * is a step behind, the session is touched after the answer is sent (so
 * at most one Postgres write per step per session, never on the check's
 * own time), and the mirror learns the new expiry.
 */
static void
slide(struct req *r)
{
	long long idle;

	if (session_touch(auth_of(r)->sid, &idle) == 1)
		session_mirror_touch(auth_of(r)->sid, idle, idle);
}

static void
maybe_slide(struct req *r, const struct auth *a)
{
	long long step =
	    cfg.refresh_ttl / 10 < 3600 ? cfg.refresh_ttl / 10 : 3600;

	if (a->via == VIA_WEB && a->sess.idle < a->sess.abs &&
	    a->sess.idle < (long long)time(NULL) + cfg.refresh_ttl - step)
		r->after = slide;
}

/* 200: the identity, as headers for nginx and as a small JSON body. */
static void
identity(struct req *r, const struct auth *a)
{
	const struct session_info *s = &a->sess;
	const char *body[] = { "{\"user\":\"", s->username, "\",\"email\":\"",
		s->email, "\",\"user_id\":\"", a->uid, "\",\"role\":\"",
		s->role, "\",\"session_id\":\"", a->sid, "\"}\n" };
	char buf[640];
	size_t i, n = 0;

	resp_header_kv(r, "X-Auth-Request-User", s->username);
	resp_header_kv(r, "X-Auth-Request-Email", s->email);
	resp_header_kv(r, "X-Auth-Request-User-Id", a->uid);
	resp_header_kv(r, "X-Auth-Request-Session-Id", a->sid);
	resp_header_kv(r, "X-Auth-Request-Role", s->role);
	resp_header_kv(r, "Remote-User", s->username);
	resp_header_kv(r, "Remote-Email", s->email);
	resp_header_kv(r, "Remote-Groups", s->role);
	/* every value is validated text without quotes or backslashes, and
	 * the longest of each fits buf */
	for (i = 0; i < sizeof(body) / sizeof(body[0]); i++)
		buf_put(buf, &n, sizeof(buf), body[i], sizeof(buf));
	resp_raw(r, 200, CONTENT_TYPE_JSON, buf, n);
}

void
handle_check(struct req *r)
{
	const char *why;
	struct auth *a;
	api_err err;
	int sent, bad;

	if (credential(r, &err, &sent) == -1) {
		unauthorized(r, err, sent);
		return;
	}
	a = auth_of(r);
	if ((why = refusal(r, a, &bad)) != NULL) {
		if (bad) {
			log_err("check: the location's %s is not valid", why);
			resp_error(r, ERR_INTERNAL, NULL);
		} else {
			if (browser(r)) {
				/* a fresh sign-in, not the one refused */
				sign_in_header(r, "&prompt=login");
				resp_header(r, "X-Auth-Request-User: %s",
				    a->sess.username);
			}
			resp_error(r, ERR_FORBIDDEN, why);
		}
		return;
	}
	maybe_slide(r, a);
	identity(r, a);
}

/*
 * Where may the sign-in page send the browser? The site itself (a path,
 * or an absolute URL of its own origin) or an origin of
 * AUTH_ALLOWED_ORIGINS; anything else, or anything odd, the account page.
 */
int
redirect_allowed(const struct req *r, const char *u)
{
	size_t n = strlen(u), i, a, end;

	if (n == 0 || n > RD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 ||
		    (unsigned char)u[i] >= 0x7f || u[i] == '\\')
			return 0;
	if (u[0] == '/')
		return u[1] != '/';
	if (strncasecmp(u, "https://", 8) == 0)
		a = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		a = 7;
	else
		return 0;
	end = a + strcspn(u + a, "/?#");
	if (end == a || memchr(u + a, '@', end - a) != NULL)
		return 0;
	return req_origin_ours(r, u, end);
}

void
handle_redirect(struct req *r)
{
	char rd[RD_MAX + 2];
	struct json_object *o;

	if (req_query(r->query, "rd", rd, sizeof(rd)) != 1 ||
	    !redirect_allowed(r, rd))
		str_copy(rd, sizeof(rd), RD_FALLBACK);
	o = json_object_new_object();
	json_object_object_add(o, "redirect_to", json_object_new_string(rd));
	resp_json(r, 200, o);
}
