/* libFuzzer driver: validators and base64url round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi-auth.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char dec[4096], dec2[4096];
	char *s, enc[8192];
	long n, n2;

	if (len > 3000 || (s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	(void)valid_email(s);
	(void)valid_username(s);
	(void)valid_uuid(s);
	(void)valid_https_url(s);
	(void)valid_reqid(s);
	(void)utf8_valid(s, len);
	/* Canonical base64url: decode(encode(x)) == x, encode(decode(t)) == t. */
	b64url_encode(data, len, enc, sizeof(enc));
	n = b64url_decode(enc, strlen(enc), dec, sizeof(dec));
	if (n != (long)len || memcmp(dec, data, len) != 0)
		abort();
	if ((n = b64url_decode(s, len, dec, sizeof(dec))) >= 0) {
		b64url_encode(dec, (size_t)n, enc, sizeof(enc));
		if (strlen(enc) != len || memcmp(enc, s, len) != 0)
			abort();
		n2 = b64url_decode(enc, len, dec2, sizeof(dec2));
		if (n2 != n)
			abort();
	}
	free(s);
	return 0;
}
