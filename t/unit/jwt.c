/* Unit tests: JWT issue/verify round trip and the strictness rules. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "jwt.h"
#include "tap.h"

static char *
forge(const char *hdr, const char *payload, const char *sig)
{
	char h[512], p[1024], *out = malloc(2048);

	b64url_encode((const unsigned char *)hdr, strlen(hdr), h, sizeof(h));
	b64url_encode((const unsigned char *)payload, strlen(payload), p,
	    sizeof(p));
	snprintf(out, 2048, "%s.%s.%s", h, p, sig);
	return out;
}

static int
check(const char *t, long long now)
{
	struct json_object *c = NULL;
	int rc = jwt_verify(t, strlen(t), now, &c);

	json_object_put(c);
	return rc;
}

int
main(void)
{
	const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
	char err[256], jti[UUID_LEN + 1], *t, *x, tmp[8192];
	const char *uid = "0b8c0f6e-2d3a-4c1b-9e7f-1a2b3c4d5e6f";
	const char *sid = "1b8c0f6e-2d3a-4c1b-9e7f-1a2b3c4d5e6f";
	struct json_object *claims;
	struct jwt_subject who;
	long long now = 1800000000;
	char *dot;

	cfg_load(&cfg, NULL, err, sizeof(err));
	ok(jwt_set_hs_secret(secret, 32) == 0, "secret accepted");
	ok(jwt_set_hs_secret(secret, 16) == -1, "short secret refused");
	who =
	    (struct jwt_subject){ uid, sid, "a@b.co", "pwd otp mfa", now - 60 };
	t = jwt_issue(&who, now, jti);
	ok(t != NULL, "issued");
	ok(jwt_verify(t, strlen(t), now, &claims) == 0, "verifies");
	ok(claims &&
	        strcmp(json_object_get_string(
	                   json_object_object_get(claims, "sid")),
	            sid) == 0,
	    "sid claim");
	ok(claims &&
	        json_object_get_int64(
	            json_object_object_get(claims, "auth_time")) == now - 60,
	    "auth_time claim");
	ok(claims &&
	        json_object_array_length(
	            json_object_object_get(claims, "amr")) == 3 &&
	        strcmp(json_object_get_string(json_object_array_get_idx(
	                   json_object_object_get(claims, "amr"), 2)),
	            "mfa") == 0,
	    "amr claim, an array of its words");
	{
		/* The claims render as json-c renders the payload itself. */
		const int fl =
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
		const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
		unsigned char raw[2048];
		long n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), raw,
		    sizeof(raw) - 1);
		struct json_object *fresh, *again = NULL;

		raw[n > 0 ? n : 0] = '\0';
		fresh = json_tokener_parse((const char *)raw);
		ok(fresh != NULL && claims != NULL &&
		        strcmp(json_object_to_json_string_ext(claims, fl),
		            json_object_to_json_string_ext(fresh, fl)) == 0,
		    "claims render as the payload does");
		ok(jwt_verify(t, strlen(t), now, &again) == 0 && again &&
		        strcmp(json_object_to_json_string_ext(again, fl),
		            json_object_to_json_string_ext(fresh, fl)) == 0,
		    "and the same from the cache");
		json_object_put(fresh);
		json_object_put(again);
	}
	json_object_put(claims);
	ok(check(t, now + 900) == 0, "valid until exp");
	ok(check(t, now + 906) == -1, "expired after exp + leeway");
	ok(check(t, now - 60) == -1, "issued in the future");

	/* Tamper with the payload, keep the signature. */
	snprintf(tmp, sizeof(tmp), "%s", t);
	dot = strchr(tmp, '.') + 5;
	*dot = *dot == 'A' ? 'B' : 'A';
	ok(check(tmp, now) == -1, "tampered payload");
	snprintf(tmp, sizeof(tmp), "%s.", t);
	ok(check(tmp, now) == -1, "four segments");
	snprintf(tmp, sizeof(tmp), "%s=", t);
	ok(check(tmp, now) == -1, "padding");
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(strrchr(t, '.') - t + 1), t);
	ok(check(tmp, now) == -1, "signature stripped");
	snprintf(tmp, sizeof(tmp), " %s", t);
	ok(check(tmp, now) == -1, "whitespace");

	x = forge("{\"alg\":\"none\",\"typ\":\"at+jwt\"}", "{\"exp\":1}", "");
	ok(check(x, now) == -1, "alg none");
	free(x);
	x = forge("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"x\","
	          "\"crit\":[\"exp\"]}",
	    "{}", "AAAA");
	ok(check(x, now) == -1, "crit / unknown kid");
	free(x);
	/* The per-worker caches: a token verified before, changed in its
	 * last signature byte, is not taken for the one that was cached. */
	ok(check(t, now) == 0, "verified again (from the cache)");
	snprintf(tmp, sizeof(tmp), "%s", t);
	tmp[strlen(tmp) - 2] = tmp[strlen(tmp) - 2] == 'A' ? 'B' : 'A';
	ok(check(tmp, now) == -1, "signature changed after a cache hit");
	/* A new key forgets what the old one verified. */
	ok(jwt_set_hs_secret((const unsigned char
	                             *)"another secret of 32 bytes or more",
	       34) == 0,
	    "secret changed");
	ok(check(t, now) == -1, "a token of the old key is refused");
	ok(jwt_set_hs_secret(secret, 32) == 0 && check(t, now) == 0,
	    "and accepted again under its own key");
	memset(tmp, 'A', 5000);
	tmp[5000] = '\0';
	ok(jwt_verify(tmp, 5000, now, &claims) == -1, "overlong token");
	free(t);
	jwt_free();
	cfg_free(&cfg);
	return done_testing();
}
