/*
 * A strict pre-parser for request bodies: RFC 8259 grammar, a depth
 * limit, valid UTF-8, no NUL (raw or \u0000), no lone surrogates, and
 * no duplicate keys within an object (json-c silently keeps the last,
 * which lets two parsers disagree about what a request said). It only
 * checks; json-c builds the objects afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "json_strict.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#include "validate.h"

struct scan {
	const unsigned char *p, *end; /* cursor and end of input */
	int depth, maxdepth;          /* current and allowed nesting */
	char *dupkey;                 /* set when a duplicate key is found */
	size_t dupkeylen;             /* its buffer size */
};

static void
ws(struct scan *s)
{
	while (s->p < s->end &&
	    (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hex4(const unsigned char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		*v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			*v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			*v |= p[i] - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

static size_t
put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The escape at s->p (a backslash, with at least one byte after it) as
 * a code point in *cp, a surrogate pair joined; -1 for a bad one.
 */
static int
escape(struct scan *s, unsigned *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	unsigned lo;

	if (s->p[1] != 'u') {
		if (s->p[1] == '\0' || (e = strchr(from, s->p[1])) == NULL)
			return -1;
		*cp = (unsigned char)to[e - from];
		s->p += 2;
		return 0;
	}
	if (s->end - s->p < 6 || hex4(s->p + 2, cp) == -1)
		return -1;
	s->p += 6;
	if (*cp == 0)
		return -1; /* \u0000 */
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -1; /* lone low surrogate */
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
		    hex4(s->p + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		s->p += 6;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return 0;
}

/*
 * A string at s->p (the opening quote). When out is not NULL the decoded
 * bytes are written there (it must hold as many bytes as the raw text).
 */
static int
string(struct scan *s, unsigned char *out, size_t *outlen)
{
	const unsigned char *start;
	unsigned cp;
	size_t o = 0, n;

	s->p++;
	for (;;) {
		if (s->p >= s->end)
			return -1;
		if (*s->p == '"') {
			s->p++;
			break;
		}
		if (*s->p < 0x20)
			return -1; /* raw control characters, NUL */
		if (*s->p == '\\') {
			if (s->end - s->p < 2)
				return -1;
			if (escape(s, &cp) == -1)
				return -1;
			if (out != NULL)
				o += put_utf8(out + o, cp);
			continue;
		}
		/* A run of raw bytes up to the next quote or backslash. */
		start = s->p;
		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		    *s->p >= 0x20)
			s->p++;
		n = (size_t)(s->p - start);
		if (!utf8_valid((const char *)start, n))
			return -1;
		if (out != NULL) {
			memcpy(out + o, start, n);
			o += n;
		}
	}
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

static int
number(struct scan *s)
{
	const unsigned char *p = s->p;

	if (p < s->end && *p == '-')
		p++;
	if (p >= s->end)
		return -1;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	else
		return -1;
	if (p < s->end && *p == '.') {
		p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return -1;
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < s->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < s->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= s->end || *p < '0' || *p > '9')
			return -1;
		while (p < s->end && *p >= '0' && *p <= '9')
			p++;
	}
	s->p = p;
	return 0;
}

static int
literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

static int value(struct scan *);

struct key {
	unsigned char *text; /* decoded key */
	size_t len;          /* its length */
};

/* Is k one of the n keys before it? */
static int
seen(const struct key *keys, size_t n, const struct key *k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i].len == k->len &&
		    memcmp(keys[i].text, k->text, k->len) == 0)
			return 1;
	return 0;
}

static int
object(struct scan *s)
{
	struct key *keys = NULL, *nk;
	size_t nkeys = 0, cap = 0, i, rawlen;
	const unsigned char *kstart;
	int rc = -1;

	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		ws(s);
		if (s->p >= s->end || *s->p != '"')
			goto out;
		kstart = s->p;
		if (string(s, NULL, NULL) == -1)
			goto out;
		rawlen = (size_t)(s->p - kstart);
		if (nkeys == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nk = realloc(keys, cap * sizeof(*keys))) == NULL)
				goto out;
			keys = nk;
		}
		if ((keys[nkeys].text = malloc(rawlen)) == NULL)
			goto out;
		s->p = kstart;
		(void)string(s, keys[nkeys].text, &keys[nkeys].len);
		if (seen(keys, nkeys, &keys[nkeys])) {
			if (s->dupkey != NULL)
				snprintf(s->dupkey, s->dupkeylen, "%.*s",
				    (int)MIN(keys[nkeys].len, 64),
				    keys[nkeys].text);
			nkeys++;
			rc = -2;
			goto out;
		}
		nkeys++;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			goto out;
		s->p++;
		if ((rc = value(s)) != 0)
			goto out;
		rc = -1;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			rc = 0;
		}
		goto out;
	}
out:
	for (i = 0; i < nkeys; i++)
		free(keys[i].text);
	free(keys);
	return rc;
}

static int
array(struct scan *s)
{
	int rc;

	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if ((rc = value(s)) != 0)
			return rc;
		ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return -1;
	}
}

static int
value(struct scan *s)
{
	int rc;

	ws(s);
	if (s->p >= s->end)
		return -1;
	switch (*s->p) {
	case '{':
	case '[':
		if (++s->depth > s->maxdepth)
			return -1;
		rc = *s->p == '{' ? object(s) : array(s);
		s->depth--;
		return rc;
	case '"':
		return string(s, NULL, NULL);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return number(s);
	}
}

/*
 * 0: one well-formed JSON value and nothing else but whitespace;
 * -1: malformed; -2: a duplicate key (copied to dupkey).
 */
int
json_strict_check(const char *buf, size_t len, int maxdepth, char *dupkey,
    size_t dupkeylen)
{
	struct scan s;
	int rc;

	s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	s.depth = 0;
	s.maxdepth = maxdepth;
	s.dupkey = dupkey;
	s.dupkeylen = dupkeylen;
	if (dupkey != NULL && dupkeylen > 0)
		dupkey[0] = '\0';
	if ((rc = value(&s)) != 0)
		return rc;
	ws(&s);
	return s.p == s.end ? 0 : -1;
}
