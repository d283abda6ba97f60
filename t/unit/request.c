/*
 * Unit tests: cookie, Authorization, query and config-line parsing, the
 * cookie-request origin check, and the fallback 500 written whole.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "config.h"
#include "request.h"
#include "response.h"
#include "tap.h"

int
main(void)
{
	char v[64], err[256], longh[9000];
	const char *tok;
	size_t len;
	struct config c;

	ok(req_cookie("sid=abc; refresh=xyz", "sid", v, sizeof(v)) == 1 &&
	        strcmp(v, "abc") == 0,
	    "cookie sid");
	ok(req_cookie("sid=abc; refresh=xyz", "refresh", v, sizeof(v)) == 1 &&
	        strcmp(v, "xyz") == 0,
	    "cookie refresh");
	ok(req_cookie("xsid=abc", "sid", v, sizeof(v)) == 0,
	    "cookie name must match exactly");
	ok(req_cookie("sid=\"q\"", "sid", v, sizeof(v)) == 1 &&
	        strcmp(v, "q") == 0,
	    "quoted cookie value");
	ok(req_cookie("sid=0123456789", "sid", v, 5) == -1,
	    "over-long cookie value refused");
	ok(req_cookie(NULL, "sid", v, sizeof(v)) == 0, "no cookie header");
	memset(longh, 'a', sizeof(longh) - 1);
	longh[sizeof(longh) - 1] = '\0';
	ok(req_cookie(longh, "sid", v, sizeof(v)) == -1,
	    "over-long cookie header refused");

	ok(req_bearer("Bearer abc.def.ghi", &tok, &len) == 0 && len == 11,
	    "bearer");
	ok(req_bearer("bearer abc", &tok, &len) == 0,
	    "scheme is case-insensitive");
	ok(req_bearer("Basic dXNlcjpwYXNz", &tok, &len) == -1, "basic refused");
	ok(req_bearer("Bearer", &tok, &len) == -1, "empty bearer");
	ok(req_bearer("Bearer a b", &tok, &len) == -1, "two tokens");
	ok(req_bearer("Customize abc", &tok, &len) == -1, "other schemes");
	memcpy(longh, "Bearer ", 7);
	ok(req_bearer(longh, &tok, &len) == -1, "over 8 KiB refused");

	ok(req_query("a=1&token=x%2Fy&b=2", "token", v, sizeof(v)) == 1 &&
	        strcmp(v, "x/y") == 0,
	    "query percent-decoding");
	ok(req_query("tokenx=1", "token", v, sizeof(v)) == 0,
	    "query exact name");
	ok(req_query("token=%zz", "token", v, sizeof(v)) == -1, "bad escape");
	ok(req_query("token=%4", "token", v, sizeof(v)) == -1, "short escape");
	ok(req_query("token=%00", "token", v, sizeof(v)) == -1, "NUL refused");

	ok(req_method("PATCH") == M_PATCH && req_method("BREW") == M_OTHER,
	    "methods");

	ok(cfg_load(&c, NULL, err, sizeof(err)) == 0 && c.access_ttl == 900,
	    "defaults load");
	ok(cfg_parse_line(&c, "AUTH_ACCESS_TTL = 60", err, sizeof(err)) == 0 &&
	        c.access_ttl == 60,
	    "config line");
	ok(cfg_parse_line(&c, "AUTH_ACCESS_TTL = 5", err, sizeof(err)) == -1 &&
	        strstr(err, "AUTH_ACCESS_TTL") != NULL,
	    "out of range names key");
	ok(cfg_parse_line(&c, "AUTH_ACCESS_TTL = 9x", err, sizeof(err)) == -1,
	    "junk integer");
	ok(cfg_parse_line(&c, "NOPE = 1", err, sizeof(err)) == -1 &&
	        strstr(err, "NOPE") != NULL,
	    "unknown key named");
	ok(cfg_parse_line(&c, "  # comment", err, sizeof(err)) == 0, "comment");
	ok(cfg_parse_line(&c, "AUTH_DEV = maybe", err, sizeof(err)) == -1,
	    "bad boolean");
	ok(cfg_parse_line(&c, "auth_issuer = \"me\"", err, sizeof(err)) == 0 &&
	        strcmp(c.issuer, "me") == 0,
	    "quoted value, key case-insensitive");
	cfg_free(&c);
	{
		/* Which cookie requests may change state. */
		static const struct {
			const char *origin, *site, *host, *port;
			int ok;
		} o[] = {
			{ NULL, NULL, "auth.test", "443",
			    1 }, /* not a browser */
			{ "https://auth.test", NULL, "auth.test", "443", 1 },
			{ "https://auth.test:8443", NULL, "auth.test", "8443",
			    1 },
			{ "https://AUTH.test", NULL, "auth.test", "443", 1 },
			{ "https://evil.test", NULL, "auth.test", "443", 0 },
			{ "https://auth.test.evil.test", NULL, "auth.test",
			    "443", 0 },
			{ "http://auth.test", NULL, "auth.test", "443", 0 },
			{ "null", NULL, "auth.test", "443", 0 },
			{ "https://app.test", NULL, "auth.test", "443", 1 },
			{ "https://app.test:1", NULL, "auth.test", "443", 0 },
			{ NULL, "same-origin", "auth.test", "443", 1 },
			{ NULL, "none", "auth.test", "443", 1 },
			{ NULL, "same-site", "auth.test", "443", 0 },
			{ NULL, "cross-site", "auth.test", "443", 0 },
		};
		struct req r;
		size_t i;

		memset(&cfg, 0, sizeof(cfg));
		cfg.allowed_origins = "  https://other.test https://app.test ";
		for (i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
			memset(&r, 0, sizeof(r));
			r.origin = o[i].origin;
			r.fetch_site = o[i].site;
			r.host = o[i].host;
			r.server_port = o[i].port;
			r.scheme = "https";
			ok(req_same_origin(&r) == o[i].ok,
			    "origin case %zu (%s / %s)", i,
			    o[i].origin ? o[i].origin : "-",
			    o[i].site ? o[i].site : "-");
		}
	}
	{
		/* The fallback 500 (no memory for a JSON body) is whole. */
		static const char want[] = "{\"error\":\"internal_error\","
		                           "\"message\":\"Internal error\"}";
		unsigned char buf[2048];
		FCGX_Stream out;
		FCGX_Request fx;
		struct req r;
		const char *b;

		memset(&out, 0, sizeof(out));
		memset(&fx, 0, sizeof(fx));
		memset(buf, 0, sizeof(buf));
		out.wrNext = out.rdNext = buf;
		out.stop = buf + sizeof(buf) - 1;
		fx.out = &out;
		memset(&r, 0, sizeof(r));
		r.fcgx = &fx;
		r.method = M_POST;
		resp_json(&r, 200, NULL);
		b = strstr((char *)buf, "\r\n\r\n");
		ok(r.status == 500 && b != NULL && strcmp(b + 4, want) == 0,
		    "the fallback 500 body is written whole");
		ok(strstr((char *)buf, "Content-Length: 53\r\n") != NULL,
		    "... and its Content-Length is its length");
	}
	{
		/* req_init: one pass over the environment. */
		char name32[64];
		char *env[] = {
			"REQUEST_METHOD=POST",
			"DOCUMENT_URI=/api/v1/auth/login",
			"QUERY_STRING=a=b",
			"CONTENT_LENGTH=12x",
			"NOEQUALSSIGN",
			"HTTP_HOST=first.example",
			"HTTP_HOST=second.example",
			"HTTP_ORIGIN=https://o.example",
			"HTTP_X_REQUEST_ID=abc-123",
			"REMOTE_ADDR=192.0.2.1",
			"HTTPS=on",
			name32,
			NULL,
		};
		struct req r;

		/* a 32-byte name that begins like one of ours */
		snprintf(name32, sizeof(name32), "%s=x",
		    "HTTP_AUTHORIZATION_AND_MORE_XXXX");
		req_init(&r, NULL, env);
		ok(r.method == M_POST && strcmp(r.path, "/auth/login") == 0,
		    "method and the path below the mount");
		ok(strcmp(r.query, "a=b") == 0, "query string, = inside kept");
		ok(r.content_length == LLONG_MAX,
		    "a malformed CONTENT_LENGTH reads as too large");
		ok(strcmp(r.host, "first.example") == 0,
		    "the first of two entries with one name wins");
		ok(strcmp(r.origin, "https://o.example") == 0 &&
		        strcmp(r.remote_addr, "192.0.2.1") == 0,
		    "names of the same length told apart");
		ok(strcmp(r.reqid, "abc-123") == 0,
		    "a valid X-Request-Id kept");
		ok(strcmp(r.scheme, "https") == 0,
		    "HTTPS=on without REQUEST_SCHEME");
		ok(r.authorization == NULL && r.cookie == NULL &&
		        r.content_type == NULL,
		    "absent and longer names stay unset");
		req_free(&r);
		env[1] = "DOCUMENT_URI=/api/v10/x";
		req_init(&r, NULL, env);
		ok(strcmp(r.path, "") == 0, "outside the mount: no route path");
		req_free(&r);
		req_init(&r, NULL, NULL);
		ok(strcmp(r.method_str, "") == 0 && r.content_length == -1 &&
		        strlen(r.reqid) == 32,
		    "no environment at all: defaults and a fresh id");
		req_free(&r);
	}
	return done_testing();
}
