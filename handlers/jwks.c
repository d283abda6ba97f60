/* GET /.well-known/jwks.json: the public keys that verify access tokens. */
#include <json-c/json.h>

#include "fcgi-auth.h"

void
handle_jwks(struct req *r)
{
	resp_header(r, "Cache-Control: public, max-age=300");
	resp_json(r, 200, jwt_jwks());
}
