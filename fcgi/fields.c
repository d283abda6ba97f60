/*
 * The declared body fields of a route, checked once before its handler
 * runs: every "Field 'x' is required", "must be a string" and "too long"
 * of the API comes from here. Two passes, so a field of the wrong type
 * is reported before a missing or invalid one: first each field's type,
 * text and length, then presence and each field's own rule.
 */
#include <stdint.h>
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

/* Is v a string of valid text, at most max bytes? 0, or why not. */
static const char *
text_bad(struct json_object *v, size_t max)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);

	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	if (len != strlen(s) || !utf8_valid(s, len))
		return "is not valid text";
	return len > max ? "is too long" : NULL;
}

/* Pass 1 for FT_BOOL, FT_INT, FT_LIST (see fields.h). */
static int
typed_other(struct req *r, const struct field *f, size_t i,
    struct json_object *v, const char *key)
{
	const char *why = NULL;
	size_t k, n;
	int64_t x;

	if (f->type == FT_BOOL) {
		if (!json_object_is_type(v, json_type_boolean))
			why = "must be true or false";
		else
			r->arg[i] = json_object_get_boolean(v) ? "1" : "0";
	} else if (f->type == FT_INT) {
		x = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || x < 0 ||
		    (uint64_t)x > f->max)
			why = "must be a whole number in range";
		else
			r->arg[i] = json_object_get_string(v);
	} else {
		if (!json_object_is_type(v, json_type_array) ||
		    (n = json_object_array_length(v)) > FIELD_LIST_MAX)
			why = "must be a list of at most 32 strings";
		for (k = 0; why == NULL && k < n; k++) {
			struct json_object *e = json_object_array_get_idx(v, k);

			if ((why = text_bad(e, f->max)) == NULL &&
			    f->valid != NULL &&
			    !f->valid(json_object_get_string(e)))
				why = "has an item that is not allowed";
		}
		r->arg[i] = "";
	}
	if (why != NULL) {
		field_error(r, key, why);
		return -1;
	}
	return 0;
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
	if (f->type == FT_BOOL || f->type == FT_INT || f->type == FT_LIST)
		return typed_other(r, f, i, v, key);
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
		    f->type != FT_LIST && !f->valid(r->arg[i])) {
			resp_field_error(r, f->name, f->why);
			return -1;
		}
	}
	return 0;
}
