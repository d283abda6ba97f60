/*
 * libFuzzer driver: validators, base64url round trips, the header
 * sanitizer (its output is always valid UTF-8 within the bound), the
 * canonical identifier, and opening sealed text (never crashes, and
 * nothing but what was sealed opens).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "users.h"
#include "validate.h"

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
	{
		char out[600], canon[CANON_MAX + 1], *o;
		size_t k;
		static int keyed;

		k = utf8_sanitize(s, out, 1 + len % sizeof(out));
		if (k != strlen(out) || k > len * 3 || !utf8_valid(out, k))
			abort();
		canon_ident(s, canon, sizeof(canon));
		if (utf8_valid(s, len) && !utf8_valid(canon, strlen(canon)))
			abort();
		if (!keyed) {
			static char path[] = "/tmp/fuzz-data-key.XXXXXX";
			int fd = mkstemp(path);

			if (fd == -1 ||
			    write(fd, "fuzzing-key-0123456789-abcdefghijklmnop",
			        39) != 39)
				abort();
			close(fd);
			cfg.data_key_file = path;
			if (datakey_load(out, sizeof(out)) == -1)
				abort();
			unlink(path);
			keyed = 1;
		}
		if ((o = datakey_open(DK_OUTBOX, "to@x.test", s)) != NULL)
			abort(); /* forged sealed text opened */
		if ((o = datakey_seal(DK_OUTBOX, s, s)) != NULL) {
			char *back = datakey_open(DK_OUTBOX, s, o);

			if (back == NULL || strcmp(back, s) != 0)
				abort();
			free(back);
			free(o);
		}
	}
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
