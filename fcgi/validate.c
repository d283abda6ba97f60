/*
 * Text: syntax validators, UTF-8 checks and sanitising, and the
 * canonical form of an identifier (NFKC, case folded).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <uninorm.h>

#include "crypto.h"
#include "validate.h"

int
valid_uuid(const char *s)
{
	int i;

	if (s == NULL || strlen(s) != UUID_LEN)
		return 0;
	for (i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		               (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/*
 * A pragmatic addr-spec check: one '@', a non-empty local part of
 * printable ASCII without spaces or quotes, a domain of dot-separated
 * LDH labels with at least one dot. At most 254 bytes.
 */
int
valid_email(const char *s)
{
	const char *at, *p, *label;
	size_t n = strlen(s);

	if (n < 3 || n > 254)
		return 0;
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	if (at == s || at - s > 64)
		return 0;
	for (p = s; p < at; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"(),:;<>[\\]", *p) != NULL)
			return 0;
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	if (strchr(at + 1, '.') == NULL)
		return 0;
	label = at + 1;
	for (p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || *label == '-' ||
			    p[-1] == '-')
				return 0;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	}
	return 1;
}

int
valid_https_url(const char *s)
{
	size_t n = strlen(s), i;

	if (n > 2048 || n <= 8 || strncmp(s, "https://", 8) != 0)
		return 0;
	if (s[8] == '/' || s[8] == '@' || s[8] == ':')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == '"' || s[i] == '<' ||
		    s[i] == '>' || s[i] == '\\')
			return 0;
	return 1;
}

int
valid_reqid(const char *s)
{
	return valid_name(s, 1, REQID_MAX);
}

/* min..max bytes of A-Z a-z 0-9 - _ . (names, request ids). */
int
valid_name(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
int
utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (i + n >= len)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Copy untrusted bytes (a header value) into out as valid UTF-8: every
 * byte that does not start a valid sequence becomes U+FFFD, control
 * characters become a space, and the copy is cut at a character boundary
 * so it fits outlen (NUL included). Returns the bytes written.
 */
size_t
utf8_sanitize(const char *in, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, n;

	if (outlen == 0)
		return 0;
	while (*s) {
		if (*s < 0x80)
			n = 1;
		else if ((*s & 0xe0) == 0xc0)
			n = 2;
		else if ((*s & 0xf0) == 0xe0)
			n = 3;
		else if ((*s & 0xf8) == 0xf0)
			n = 4;
		else
			n = 0;
		if (n > 1 &&
		    (strnlen((const char *)s, n) < n ||
		        !utf8_valid((const char *)s, n)))
			n = 0;
		if (n == 0) { /* not UTF-8: U+FFFD */
			if (o + 3 >= outlen)
				break;
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			s++;
			continue;
		}
		if (o + n >= outlen)
			break;
		if (n == 1 && (*s < 0x20 || *s == 0x7f))
			out[o] = ' ';
		else
			memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
	return o;
}

/*
 * The canonical form of an identifier (username, email address), which
 * is what limits count against: NFKC, then Unicode case folding
 * (u8_casefold with NFKC does both, and its result is NFKC again), cut
 * to fit out. "Alice@Example.COM", "ALICE@example.com" and their
 * full-width spellings are one bucket. Input that is not UTF-8 (never
 * reached from a checked JSON field) is copied lower-cased ASCII-wise.
 */
void
canon_ident(const char *in, char *out, size_t outlen)
{
	size_t len = 0, i;
	uint8_t *f = NULL;

	if (outlen == 0)
		return;
	if (utf8_valid(in, strlen(in)))
		f = u8_casefold((const uint8_t *)in, strlen(in), NULL,
		    UNINORM_NFKC, NULL, &len);
	if (f == NULL) {
		for (i = 0; in[i] && i + 1 < outlen; i++)
			out[i] = (char)tolower((unsigned char)in[i]);
		out[i] = '\0';
		return;
	}
	if (len >= outlen) { /* cut at a character boundary */
		len = outlen - 1;
		while (len > 0 && (f[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, f, len);
	out[len] = '\0';
	free(f);
}

/* Any C0 control character or DEL? */
int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Copy src into dst of cap bytes, cut to fit and always terminated; the
 * bytes copied. (snprintf("%s") did this on every request, at ten times
 * the cost.)
 */
size_t
str_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (cap == 0)
		return 0;
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/*
 * Append at most max bytes of s at *n in buf (cap bytes), keeping one
 * byte free: how the access line and the response head are built.
 */
void
buf_put(char *buf, size_t *n, size_t cap, const char *s, size_t max)
{
	size_t k = strnlen(s, max);

	if (*n + 1 >= cap)
		return;
	if (k > cap - 1 - *n)
		k = cap - 1 - *n;
	memcpy(buf + *n, s, k);
	*n += k;
}

/* Append the decimal v, zero-padded to at least width digits. */
void
buf_num(char *buf, size_t *n, size_t cap, unsigned long long v, int width)
{
	char d[24];
	int i = (int)sizeof(d);

	d[--i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while ((v > 0 || (int)sizeof(d) - 1 - i < width) && i > 0);
	buf_put(buf, n, cap, d + i, sizeof(d));
}

/* The value of a hex digit, or -1. */
int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-encode s into out (outlen bytes) for a URL: letters, digits
 * and the characters of keep stay; -1 when it does not fit.
 */
int
url_encode(const char *s, char *out, size_t outlen, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	for (; *s; s++) {
		c = (unsigned char)*s;
		if (o + 4 > outlen)
			return -1;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr(keep, c) != NULL)
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/*
 * The next tab-separated field of [*s, end) into out (bounded): the
 * last one runs to end. 0 with *s past it, or -1 when there is none or
 * it does not fit.
 */
int
str_field(const char **s, const char *end, char *out, size_t outlen, int last)
{
	const char *t = last ? end : memchr(*s, '\t', (size_t)(end - *s));
	size_t n;

	if (t == NULL || (n = (size_t)(t - *s)) >= outlen)
		return -1;
	memcpy(out, *s, n);
	out[n] = '\0';
	*s = last ? end : t + 1;
	return 0;
}
