/*
 * The declared body fields a route reads (fields.c), checked by
 * dispatch before the handler runs.
 */
#ifndef FA_FIELDS_H
#define FA_FIELDS_H

#include <stddef.h>

struct req;

/*
 * A body field, as a route declares it. FT_TEXT: a JSON string of valid
 * UTF-8 without NUL, at most max bytes, that valid() (if set) accepts.
 * FT_TOKEN: a string of any shape, checked by the handler; one of another
 * type reads as "" (an unusable token is an unknown token, never a field
 * error: API.md, second round). FT_BOOL: true or false, read as "1" or
 * "0". FT_INT: an integer 0..max, read as its decimal text. FT_LIST: an
 * array of at most FIELD_LIST_MAX strings, each FT_TEXT of at most max
 * bytes that valid() accepts; read as "" (the handler walks r->json).
 * Absent and null are the same.
 */
enum field_type { FT_TEXT, FT_TOKEN, FT_BOOL, FT_INT, FT_LIST };
#define FIELD_LIST_MAX 32
#define FF_REQUIRED    0x01 /* absent is 400 */
#define FF_NONEMPTY    0x02 /* "" counts as absent */
struct field {
	const char *name;     /* the contract's name; errors use it */
	const char *alias[4]; /* also accepted, first present wins */
	enum field_type type;
	unsigned flags;             /* FF_* */
	size_t max;                 /* FT_TEXT: longest value, bytes */
	int (*valid)(const char *); /* FT_TEXT: its rule, or NULL */
	const char *why;            /* the message when valid() refuses */
	const char *missing;        /* when required and absent; NULL:
					   "Field 'name' is required" */
};
int fields_check(struct req *, const struct field *, size_t n);
void resp_field_error(struct req *, const char *field, const char *msg);

#endif
