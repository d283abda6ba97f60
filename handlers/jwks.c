/* GET /.well-known/jwks.json: the public keys that verify access tokens. */
#include <json-c/json.h>

#include "jwt.h"
#include "response.h"
#include "routes.h"

void
handle_jwks(struct req *r)
{
	resp_header(r, "Cache-Control: public, max-age=300");
	resp_json(r, 200, jwt_jwks());
}
