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

/* A body, the status fields_check should write (0: passes), and then
 * the value field `arg` should read as (NULL: absent). */
static const struct {
	const char *body;
	int status, arg;
	const char *want, *what;
} cases[] = {
	{ "{\"username\":\"bob\"}", 0, 0, "bob", "a required field" },
	{ "{\"username\":\"bob\"}", 0, 1, NULL, "an optional field absent" },
	{ "{\"user\":\"al\"}", 0, 0, "al", "an alias counts as the field" },
	{ "{\"username\":\"a\",\"user\":\"b\"}", 0, 0, "a",
	    "the name wins over an alias" },
	{ "{\"username\":null,\"user\":\"b\"}", 0, 0, "b",
	    "null is absent: the alias is used" },
	{ "{}", 400, 0, NULL, "a required field missing is 400" },
	{ "{\"username\":\"\"}", 400, 0, NULL, "FF_NONEMPTY: \"\" is absent" },
	{ "{\"username\":12}", 400, 0, NULL, "a number is not text" },
	{ "{\"username\":\"123456789\"}", 400, 0, NULL,
	    "one byte over the bound is 400" },
	{ "{\"username\":\"12345678\"}", 0, 0, "12345678",
	    "the bound itself passes" },
	{ "{\"username\":\"a\\u0000b\"}", 400, 0, NULL,
	    "an embedded NUL is not text" },
	{ "{\"username\":\"bob\",\"email\":\"nope\"}", 400, 0, NULL,
	    "the validator refuses" },
	{ "{\"username\":\"bob\",\"email\":\"a@b.co\"}", 0, 1, "a@b.co",
	    "the validator accepts" },
	{ "{\"username\":\"bob\",\"token\":[1]}", 0, 2, "",
	    "FT_TOKEN of another type reads as \"\", no error" },
	{ "{\"username\":\"bob\",\"token\":\"x y\"}", 0, 2, "x y",
	    "FT_TOKEN of any shape is passed on" },
	{ "{\"username\":5,\"email\":\"nope\"}", 400, 0, NULL,
	    "a wrong type is reported before a wrong value" },
};

int
main(void)
{
	struct req r;
	const char *v;
	size_t i, n;
	int st;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = check(&r, cases[i].body);
		v = st == 0 ? r.arg[cases[i].arg] : NULL;
		ok(st == cases[i].status &&
		        (cases[i].want == NULL ?
		                v == NULL :
		                v != NULL && strcmp(v, cases[i].want) == 0),
		    "%s", cases[i].what);
	}
	for (i = n = 0; i < app_routes.n; i++)
		n += app_routes.rows[i].nfields <= FIELDS_MAX;
	ok(n == app_routes.n, "every route declares at most FIELDS_MAX fields");
	json_object_put(r.json);
	return done_testing();
}
