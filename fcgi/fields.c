/*
 * The declared body fields of a route, checked once before its handler
 * runs: every "Field 'x' is required", "must be a string" and "too long"
 * of the API comes from here. Two passes, so a field of the wrong type
 * is reported before a missing or invalid one: first each field's type,
 * text and length, then presence and each field's own rule.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "fields.h"
#include "request.h"
#include "response.h"
#include "validate.h"

/* 400 invalid_request naming the field in the message and in "field". */
void
resp_field_error(struct req *r, const char *field, const char *msg)
{
	struct json_object *x = json_object_new_object();

	if (x != NULL)
		json_object_object_add(x, "field",
		    json_object_new_string(field));
	resp_error_extra(r, ERR_INVALID_REQUEST, msg, x);
}

/* "Field 'key' <what>", naming the key the client sent. */
static void
field_error(struct req *r, const char *key, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "Field '%s' %s", key, what);
	resp_field_error(r, key, msg);
}

/* The value under the field's name or its first present alias. */
static struct json_object *
lookup(const struct req *r, const struct field *f, const char **key)
{
	struct json_object *v;
	size_t i;

	*key = f->name;
	for (i = 0; r->json != NULL && *key != NULL; i++) {
		if (json_object_object_get_ex(r->json, *key, &v) &&
		    !json_object_is_type(v, json_type_null))
			return v;
		*key = i < sizeof(f->alias) / sizeof(f->alias[0]) ?
		    f->alias[i] :
		    NULL;
	}
	*key = f->name;
	return NULL;
}

/* Pass 1 for one field: r->arg[i] set, or -1 with the 400 written. */
static int
typed(struct req *r, const struct field *f, size_t i)
{
	struct json_object *v;
	const char *key, *s;
	size_t len;

	r->arg[i] = NULL;
	if ((v = lookup(r, f, &key)) == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		if (f->type == FT_TOKEN) {
			r->arg[i] = "";
			return 0;
		}
		field_error(r, key, "must be a string");
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (f->type == FT_TEXT) {
		if (len != strlen(s) || !utf8_valid(s, len)) {
			field_error(r, key, "is not valid text");
			return -1;
		}
		if (len > f->max) {
			field_error(r, key, "is too long");
			return -1;
		}
	}
	r->arg[i] = s;
	return 0;
}

int
fields_check(struct req *r, const struct field *fs, size_t n)
{
	const struct field *f;
	size_t i;

	if (n > FIELDS_MAX) {
		resp_error(r, ERR_INTERNAL, NULL);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (typed(r, &fs[i], i) == -1)
			return -1;
	for (i = 0; i < n; i++) {
		f = &fs[i];
		if (r->arg[i] != NULL && (f->flags & FF_NONEMPTY) &&
		    *r->arg[i] == '\0')
			r->arg[i] = NULL;
		if (r->arg[i] == NULL && (f->flags & FF_REQUIRED)) {
			if (f->missing != NULL)
				resp_field_error(r, f->name, f->missing);
			else
				field_error(r, f->name, "is required");
			return -1;
		}
		if (r->arg[i] != NULL && f->valid != NULL &&
		    !f->valid(r->arg[i])) {
			resp_field_error(r, f->name, f->why);
			return -1;
		}
	}
	return 0;
}
