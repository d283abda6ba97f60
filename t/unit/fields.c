/*
 * Unit tests: the declared body fields (fields_check) — aliases, types,
 * bounds, presence, validators — against the application's own specs.
 */
#include <string.h>

#include <json-c/json.h>

#include "fields.h"
#include "request.h"
#include "routes.h"
#include "tap.h"
#include "validate.h"

static const struct field spec[] = {
	{ "username", { "email", "user" }, FT_TEXT, FF_REQUIRED | FF_NONEMPTY,
	    8, NULL, NULL, NULL },
	{ "email", { NULL }, FT_TEXT, 0, 64, valid_email,
	    "Field 'email' is not a valid email address", NULL },
	{ "token", { NULL }, FT_TOKEN, 0, 0, NULL, NULL, NULL },
};

/* fields_check of body against spec: 0 or 400 (the status it wrote). */
static int
check(struct req *r, const char *body)
{
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
	snprintf(r->reqid, sizeof(r->reqid), "unit");
	r->json = json_tokener_parse(body);
	if (fields_check(r, spec, sizeof(spec) / sizeof(spec[0])) == 0)
		return 0;
	return r->status;
}

int
main(void)
{
	struct req r;
	size_t i, n;

	memset(&r, 0, sizeof(r));
	ok(check(&r, "{\"username\":\"bob\"}") == 0 &&
	        strcmp(r.arg[0], "bob") == 0 && r.arg[1] == NULL &&
	        r.arg[2] == NULL,
	    "a required field, the others absent");
	ok(check(&r, "{\"user\":\"al\"}") == 0 && strcmp(r.arg[0], "al") == 0,
	    "an alias counts as the field");
	ok(check(&r, "{\"username\":\"a\",\"user\":\"b\"}") == 0 &&
	        strcmp(r.arg[0], "a") == 0,
	    "the name wins over an alias");
	ok(check(&r, "{\"username\":null,\"user\":\"b\"}") == 0 &&
	        strcmp(r.arg[0], "b") == 0,
	    "null is absent: the alias is used");
	ok(check(&r, "{}") == 400, "a required field missing is 400");
	ok(check(&r, "{\"username\":\"\"}") == 400,
	    "FF_NONEMPTY: \"\" is absent");
	ok(check(&r, "{\"username\":12}") == 400, "a number is not text");
	ok(check(&r, "{\"username\":\"123456789\"}") == 400,
	    "one byte over the bound is 400");
	ok(check(&r, "{\"username\":\"12345678\"}") == 0,
	    "the bound itself passes");
	ok(check(&r, "{\"username\":\"a\\u0000b\"}") == 400,
	    "an embedded NUL is not text");
	ok(check(&r, "{\"username\":\"bob\",\"email\":\"nope\"}") == 400,
	    "the validator refuses");
	ok(check(&r, "{\"username\":\"bob\",\"email\":\"a@b.co\"}") == 0 &&
	        strcmp(r.arg[1], "a@b.co") == 0,
	    "the validator accepts");
	ok(check(&r, "{\"username\":\"bob\",\"token\":[1]}") == 0 &&
	        strcmp(r.arg[2], "") == 0,
	    "FT_TOKEN of another type reads as \"\", no error");
	ok(check(&r, "{\"username\":\"bob\",\"token\":\"x y\"}") == 0 &&
	        strcmp(r.arg[2], "x y") == 0,
	    "FT_TOKEN of any shape is passed on");
	ok(check(&r, "{\"username\":5,\"email\":\"nope\"}") == 400,
	    "a wrong type is reported before a wrong value");
	for (i = n = 0; i < app_routes.n; i++)
		n += app_routes.rows[i].nfields <= FIELDS_MAX;
	ok(n == app_routes.n, "every route declares at most FIELDS_MAX fields");
	json_object_put(r.json);
	return done_testing();
}
