/*
 * libFuzzer driver: the body pipeline — strict pre-parser, json-c, and
 * the declared fields of every route of the table (fields_check). Whatever
 * the pre-parser accepts, json-c must parse to the same top-level type,
 * and a field that passes is a string within its bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fields.h"
#include "json_strict.h"
#include "request.h"
#include "routes.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct req r;
	char dup[72];
	const struct route *rt;
	size_t i, f;

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
		for (i = 0; i < app_routes.n; i++) {
			rt = &app_routes.rows[i];
			r.status = 0;
			if (fields_check(&r, rt->fields, rt->nfields) == -1) {
				if (r.status != 400)
					abort();
				continue;
			}
			for (f = 0; f < rt->nfields; f++)
				if (r.arg[f] != NULL &&
				    rt->fields[f].type == FT_TEXT &&
				    strlen(r.arg[f]) > rt->fields[f].max)
					abort();
		}
	}
	r.fcgx = NULL;
	req_free(&r);
	return 0;
}
