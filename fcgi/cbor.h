/*
 * A small strict CBOR reader (cbor.c, RFC 8949), for WebAuthn's
 * attestation objects and COSE keys: definite lengths only, no tags, no
 * floats, lengths checked against the input, nesting bounded. It reads
 * in place: byte and text strings point into the input.
 */
#ifndef FA_CBOR_H
#define FA_CBOR_H

#include <stddef.h>
#include <stdint.h>

enum cbor_type {
	CB_UINT,
	CB_NINT, /* value -1 - v */
	CB_BYTES,
	CB_TEXT,
	CB_ARRAY,
	CB_MAP,
	CB_FALSE,
	CB_TRUE,
	CB_NULL,
};

struct cbor {
	const unsigned char *p, *end; /* what is left to read */
};

struct cbor_item {
	enum cbor_type type;
	uint64_t v;               /* uint/nint value; length or count */
	const unsigned char *ptr; /* bytes/text: the string, in the input */
};

#define CBOR_MAX_DEPTH 8

void cbor_init(struct cbor *, const unsigned char *, size_t);
int cbor_next(struct cbor *, struct cbor_item *);
int cbor_skip(struct cbor *, const struct cbor_item *);
int cbor_int(const struct cbor_item *, int64_t *);
int cbor_text_is(const struct cbor_item *, const char *);

#endif
