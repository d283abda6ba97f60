/* POST /auth/verify (is this access token good?) and GET /auth/me. */
#include <string.h>

#include <json-c/json.h>

#include "authn.h"
#include "errors.h"
#include "routes.h"

void
handle_verify(struct req *r)
{
	const char *tok = r->arg[VERIFY_TOKEN];
	struct json_object *o, *x;
	api_err err;

	if (auth_token(r, tok, strlen(tok), &err) == -1) {
		if (err != ERR_INVALID_TOKEN) {
			resp_error(r, err, NULL);
			return;
		}
		x = json_object_new_object();
		json_object_object_add(x, "active", json_object_new_boolean(0));
		resp_error_extra(r, ERR_INVALID_TOKEN,
		    "Token is invalid, expired or revoked", x);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "active", json_object_new_boolean(1));
	json_object_object_add(o, "token", json_object_get(auth_of(r)->claims));
	resp_json(r, 200, o);
}

void
handle_me(struct req *r)
{
	struct auth *a = auth_of(r);
	struct json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "uid", json_object_new_string(a->uid));
	json_object_object_add(o, "sid",
	    a->via == VIA_PAT ? NULL : json_object_new_string(a->sid));
	json_object_object_add(o, "jti", json_object_new_string(a->jti));
	json_object_object_add(o, "email", json_object_new_string(a->email));
	json_object_object_add(o, "iat", json_object_new_int64(a->iat));
	json_object_object_add(o, "exp", json_object_new_int64(a->exp));
	json_object_object_add(o, "claims", json_object_get(a->claims));
	resp_json(r, 200, o);
}
