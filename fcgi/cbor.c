/*
 * A strict CBOR reader: one item head at a time. Anything outside the
 * subset WebAuthn uses (definite lengths; unsigned and negative
 * integers, byte and text strings, arrays, maps, false, true, null) is
 * refused, as is a length the input does not hold or an integer not in
 * its shortest form (RFC 8949's preferred serialisation, which CTAP2
 * requires of authenticators).
 */
#include <string.h>

#include "cbor.h"

void
cbor_init(struct cbor *c, const unsigned char *p, size_t n)
{
	c->p = p;
	c->end = p + n;
}

/* The argument of a head with additional info ai; -1 if malformed. */
static int
argument(struct cbor *c, unsigned ai, uint64_t *v)
{
	size_t n, i;

	if (ai < 24) {
		*v = ai;
		return 0;
	}
	if (ai > 27)
		return -1; /* reserved, or indefinite length */
	n = (size_t)1 << (ai - 24);
	if ((size_t)(c->end - c->p) < n)
		return -1;
	for (*v = 0, i = 0; i < n; i++)
		*v = (*v << 8) | *c->p++;
	/* shortest form only: a value that fits a smaller head is refused */
	if ((ai == 24 && *v < 24) || (ai == 25 && *v <= 0xff) ||
	    (ai == 26 && *v <= 0xffff) || (ai == 27 && *v <= 0xffffffffu))
		return -1;
	return 0;
}

/*
 * Read the next item's head (and, for a string, the string itself).
 * 0, or -1 on anything malformed or outside the subset.
 */
int
cbor_next(struct cbor *c, struct cbor_item *it)
{
	unsigned ib, mt, ai;

	if (c->p >= c->end)
		return -1;
	ib = *c->p++;
	mt = ib >> 5;
	ai = ib & 31;
	it->ptr = NULL;
	if (mt == 7) {
		switch (ai) {
		case 20:
			it->type = CB_FALSE;
			return 0;
		case 21:
			it->type = CB_TRUE;
			return 0;
		case 22:
			it->type = CB_NULL;
			return 0;
		default:
			return -1; /* floats, undefined, other simple values */
		}
	}
	if (mt == 6 || argument(c, ai, &it->v) == -1)
		return -1; /* tags are not used by WebAuthn */
	it->type = (enum cbor_type)mt;
	if (mt == 2 || mt == 3) {
		if (it->v > (uint64_t)(c->end - c->p))
			return -1;
		it->ptr = c->p;
		c->p += it->v;
	} else if ((mt == 4 || mt == 5) && it->v > (uint64_t)(c->end - c->p))
		return -1; /* each element takes a byte at least */
	return 0;
}

static int
skip_depth(struct cbor *c, const struct cbor_item *it, int depth)
{
	struct cbor_item x;
	uint64_t n, i;

	if (it->type != CB_ARRAY && it->type != CB_MAP)
		return 0;
	if (depth >= CBOR_MAX_DEPTH)
		return -1;
	n = it->type == CB_MAP ? it->v * 2 : it->v;
	for (i = 0; i < n; i++)
		if (cbor_next(c, &x) == -1 ||
		    skip_depth(c, &x, depth + 1) == -1)
			return -1;
	return 0;
}

/* Skip what an array or map item holds (nothing for other items). */
int
cbor_skip(struct cbor *c, const struct cbor_item *it)
{
	return skip_depth(c, it, 0);
}

/* An integer item's value, if it fits int64; 0 or -1. */
int
cbor_int(const struct cbor_item *it, int64_t *v)
{
	if ((it->type != CB_UINT && it->type != CB_NINT) ||
	    it->v > (uint64_t)INT64_MAX)
		return -1;
	*v = it->type == CB_UINT ? (int64_t)it->v : -1 - (int64_t)it->v;
	return 0;
}

/* Is the item the text string s? */
int
cbor_text_is(const struct cbor_item *it, const char *s)
{
	size_t n = strlen(s);

	return it->type == CB_TEXT && it->v == n && memcmp(it->ptr, s, n) == 0;
}
