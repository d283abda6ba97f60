/*
 * Validators for the values handlers accept, typed JSON field access, and
 * the common-password set. Handlers only ever see checked, bounded values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <unicase.h>
#include <uninorm.h>

#include "fcgi-auth.h"

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

int
valid_username(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
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
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '"' || s[i] == '<' || s[i] == '>' || s[i] == '\\')
			return 0;
	return 1;
}

int
valid_reqid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > REQID_MAX)
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
		if (n > 1 && (strnlen((const char *)s, n) < n ||
		    !utf8_valid((const char *)s, n)))
			n = 0;
		if (n == 0) {			/* not UTF-8: U+FFFD */
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
	if (len >= outlen) {		/* cut at a character boundary */
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

/* 400 invalid_request naming the field in the message and in "field". */
void
resp_field_error(struct req *r, const char *field, const char *msg)
{
	struct json_object *x = json_object_new_object();

	if (x != NULL)
		json_object_object_add(x, "field", json_object_new_string(field));
	resp_error_extra(r, ERR_INVALID_REQUEST, msg, x);
}

/*
 * A string field of the request body: present, a JSON string, valid
 * UTF-8 without NUL, at most maxlen bytes. On JF_BAD an error response
 * naming the field has been written.
 */
enum jf_res
json_str(struct req *r, const char *field, size_t maxlen, const char **out)
{
	struct json_object *v;
	const char *s;
	char msg[128];
	size_t len;

	*out = NULL;
	if (r->json == NULL || !json_object_object_get_ex(r->json, field, &v) ||
	    json_object_is_type(v, json_type_null))
		return JF_MISSING;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(msg, sizeof(msg), "Field '%s' must be a string", field);
		resp_field_error(r, field, msg);
		return JF_BAD;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len != strlen(s) || !utf8_valid(s, len)) {
		snprintf(msg, sizeof(msg), "Field '%s' is not valid text", field);
		resp_field_error(r, field, msg);
		return JF_BAD;
	}
	if (len > maxlen) {
		snprintf(msg, sizeof(msg), "Field '%s' is too long", field);
		resp_field_error(r, field, msg);
		return JF_BAD;
	}
	*out = s;
	return JF_OK;
}

/*
 * A token field: JF_OK with the string whatever its length (the caller
 * checks the shape), JF_BAD when present but not a string, without any
 * response written: an unusable token is an unknown token, never a
 * field-validation error (API.md, second round).
 */
enum jf_res
json_token(struct req *r, const char *field, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (r->json == NULL || !json_object_object_get_ex(r->json, field, &v) ||
	    json_object_is_type(v, json_type_null))
		return JF_MISSING;
	if (!json_object_is_type(v, json_type_string))
		return JF_BAD;
	*out = json_object_get_string(v);
	return JF_OK;
}

/* The first present of several alias names (e.g. username/user/account). */
enum jf_res
json_str_any(struct req *r, const char *const *names, size_t maxlen,
    const char **out, const char **which)
{
	enum jf_res res;

	for (; *names != NULL; names++) {
		if ((res = json_str(r, *names, maxlen, out)) != JF_MISSING) {
			if (which)
				*which = *names;
			return res;
		}
	}
	return JF_MISSING;
}

/* ---- common passwords: an open-addressing hash set, loaded once ---- */
static char **pwset;
static size_t pwcap;

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 1099511628211ULL;
	}
	return h;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
pw_load_common(const char *file)
{
	char line[512];
	size_t count = 0, i;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		count++;
	rewind(f);
	pwcap = 16;
	while (pwcap < count * 2)
		pwcap <<= 1;
	if ((pwset = calloc(pwcap, sizeof(*pwset))) == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		lower(line);
		i = fnv1a(line) & (pwcap - 1);
		while (pwset[i] != NULL && strcmp(pwset[i], line) != 0)
			i = (i + 1) & (pwcap - 1);
		if (pwset[i] == NULL && (pwset[i] = strdup(line)) == NULL) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* Case-insensitive membership, so "Password1" counts as "password1". */
int
pw_is_common(const char *pw)
{
	char buf[512];
	size_t i;

	if (pwset == NULL || strlen(pw) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", pw);
	lower(buf);
	i = fnv1a(buf) & (pwcap - 1);
	while (pwset[i] != NULL) {
		if (strcmp(pwset[i], buf) == 0) {
			crypto_wipe(buf, sizeof(buf));
			return 1;
		}
		i = (i + 1) & (pwcap - 1);
	}
	crypto_wipe(buf, sizeof(buf));
	return 0;
}

void
pw_free_common(void)
{
	size_t i;

	for (i = 0; pwset != NULL && i < pwcap; i++)
		free(pwset[i]);
	free(pwset);
	pwset = NULL;
	pwcap = 0;
}
