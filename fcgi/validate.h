/* Text: UTF-8 checks, canonical identifiers, syntax validators (validate.c). */
#ifndef FA_VALIDATE_H
#define FA_VALIDATE_H

#include <stddef.h>

int valid_uuid(const char *);
int valid_email(const char *);
int valid_https_url(const char *);
#define REQID_MAX 64 /* longest X-Request-Id echoed */
int valid_reqid(const char *);
int valid_name(const char *, size_t min, size_t max);
size_t utf8_chars(const char *);
int has_control(const char *);
#define CANON_MAX 1024
void canon_ident(const char *in, char *out, size_t outlen);
int utf8_valid(const char *, size_t);
size_t utf8_sanitize(const char *in, char *out, size_t outlen);
size_t str_copy(char *dst, size_t cap, const char *src);
int
str_field(const char **s, const char *end, char *out, size_t outlen, int last);
#define B64URL_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
int hexval(int c);
int url_encode(const char *s, char *out, size_t outlen, const char *keep);
void buf_put(char *buf, size_t *n, size_t cap, const char *s, size_t max);
void buf_num(char *buf, size_t *n, size_t cap, unsigned long long v, int width);

#endif
