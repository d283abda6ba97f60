/*
 * Passwords: yescrypt through libxcrypt. A hash made at another cost is
 * re-hashed at the next successful login; unknown users are checked
 * against a dummy hash so both failures cost the same time.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi-auth.h"

static struct crypt_data cd;		/* ~32 KiB scratch, wiped after use */
static char prefix[64];			/* "$y$<params>$" at current cost */
static char *dummy;			/* hash of a random password */

char *
pw_hash(const char *pw)
{
	char *salt, *h, *out = NULL;

	if ((salt = crypt_gensalt_ra("$y$", (unsigned long)cfg.password_cost,
	    NULL, 0)) == NULL)
		return NULL;
	h = crypt_r(pw, salt, &cd);
	if (h != NULL && h[0] != '*')
		out = strdup(h);
	crypto_wipe(&cd, sizeof(cd));
	free(salt);
	return out;
}

int
pw_verify(const char *pw, const char *hash)
{
	size_t hl = strlen(hash);
	char *h;
	int ok;

	h = crypt_r(pw, hash, &cd);
	ok = h != NULL && h[0] != '*' && strlen(h) == hl &&
	    crypto_ct_equal(h, hash, hl);
	crypto_wipe(&cd, sizeof(cd));
	return ok;
}

int
pw_needs_rehash(const char *hash)
{
	return strncmp(hash, prefix, strlen(prefix)) != 0;
}

void
pw_dummy_verify(const char *pw)
{
	if (dummy != NULL)
		(void)pw_verify(pw, dummy);
}

int
pw_init(void)
{
	char *salt, *p, rnd[TOKEN_B64_LEN + 1];
	unsigned char raw[TOKEN_BYTES];
	int dollars = 0;

	if ((salt = crypt_gensalt_ra("$y$", (unsigned long)cfg.password_cost,
	    NULL, 0)) == NULL)
		return -1;
	for (p = salt; *p && dollars < 3; p++)
		if (*p == '$')
			dollars++;
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(p - salt), salt);
	free(salt);
	free(dummy);
	if (crypto_token(rnd, raw) == -1)
		return -1;
	dummy = pw_hash(rnd);
	crypto_wipe(rnd, sizeof(rnd));
	return dummy == NULL ? -1 : 0;
}

/* The register rules of API.md (NIST SP 800-63B, no composition rules). */
int
pw_check_rules(const char *pw, const char *username, const char *email,
    const char **why)
{
	if (strlen(pw) > 256) {
		*why = "Password must be at most 256 bytes";
		return -1;
	}
	if (utf8_chars(pw) < 8) {
		*why = "Password must be at least 8 characters";
		return -1;
	}
	if ((username && strcasecmp(pw, username) == 0) ||
	    (email && strcasecmp(pw, email) == 0)) {
		*why = "Password must not equal the username or email";
		return -1;
	}
	if (pw_is_common(pw)) {
		*why = "Password is too common";
		return -1;
	}
	return 0;
}
