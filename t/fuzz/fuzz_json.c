/*
 * libFuzzer driver: the body pipeline — strict pre-parser, json-c, and
 * the typed field accessors handlers use. Whatever the pre-parser
 * accepts, json-c must parse to the same top-level type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi-auth.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct req r;
	char dup[72];
	const char *v;
	static const char *const names[] = { "username", "email", "user",
	    "account", NULL };

	if (len > BODY_MAX_DEFAULT)
		return 0;
	memset(&r, 0, sizeof(r));
	snprintf(r.reqid, sizeof(r.reqid), "fuzz");
	if ((r.body = malloc(len + 1)) == NULL)
		return 0;
	memcpy(r.body, data, len);
	r.body[len] = '\0';
	r.body_len = len;
	if (req_parse_json(&r, dup, sizeof(dup)) == 0) {
		if (!json_object_is_type(r.json, json_type_object))
			abort();
		(void)json_str_any(&r, names, 320, &v, NULL);
		r.status = 0;
		(void)json_str(&r, "password", 1024, &v);
		r.status = 0;
		if (json_str(&r, "email", 320, &v) == JF_OK)
			(void)valid_email(v);
	}
	r.fcgx = NULL;
	req_free(&r);
	return 0;
}
