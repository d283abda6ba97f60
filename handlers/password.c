/*
 * Passwords: yescrypt through libxcrypt. A hash made at another cost is
 * re-hashed at the next successful login; unknown users are checked
 * against a dummy hash so both failures cost the same time. The rules
 * of API.md, and the list of common passwords they refuse.
 */
#include <crypt.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uninorm.h>

#include "config.h"
#include "counters.h"
#include "crypto.h"
#include "password.h"
#include "validate.h"

static struct crypt_data cd; /* ~32 KiB scratch, wiped after use */
static char prefix[64];      /* "$y$<params>$" at current cost */
static char *dummy;          /* hash of a random password */

/*
 * NFKC-normalise a password (NIST SP 800-63B 5.1.1.2), so composed and
 * decomposed forms of the same text are the same password. The result
 * is malloc'd and NUL-terminated; the caller wipes and frees it.
 */
char *
pw_normalize(const char *pw)
{
	uint8_t *n;
	size_t len = 0;
	char *out;

	n = u8_normalize(UNINORM_NFKC, (const uint8_t *)pw, strlen(pw), NULL,
	    &len);
	if (n == NULL || (out = malloc(len + 1)) == NULL) {
		free(n);
		return NULL;
	}
	memcpy(out, n, len);
	out[len] = '\0';
	crypto_wipe(n, len);
	free(n);
	if (strlen(out) != len) { /* an embedded NUL */
		crypto_wipe(out, len);
		free(out);
		return NULL;
	}
	return out;
}

/* Wipe and free a hash (or any secret string) pw_* returned. */
void
pw_hash_free(char *n)
{
	if (n != NULL) {
		crypto_wipe(n, strlen(n));
		free(n);
	}
}

char *
pw_hash(const char *raw)
{
	char *salt, *h, *out = NULL, *pw;

	if ((pw = pw_normalize(raw)) == NULL)
		return NULL;
	if ((salt = crypt_gensalt_ra("$y$", (unsigned long)cfg.password_cost,
	         NULL, 0)) == NULL) {
		pw_hash_free(pw);
		return NULL;
	}
	h = crypt_r(pw, salt, &cd);
	metrics_inc(MET_PW_HASH);
	pw_hash_free(pw);
	if (h != NULL && h[0] != '*')
		out = strdup(h);
	crypto_wipe(&cd, sizeof(cd));
	free(salt);
	return out;
}

int
pw_verify(const char *raw, const char *hash)
{
	size_t hl = strlen(hash);
	char *h, *pw;
	int ok;

	/* An unnormalisable input still costs one hash, then fails. */
	pw = pw_normalize(raw);
	h = crypt_r(pw ? pw : "", hash, &cd);
	metrics_inc(MET_PW_HASH);
	if (pw == NULL)
		h = NULL;
	pw_hash_free(pw);
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
pw_check_rules(const char *raw, const char *username, const char *email,
    const char **why)
{
	char *pw;
	int rc = -1;

	if (strlen(raw) > 256) {
		*why = "Password must be at most 256 bytes";
		return -1;
	}
	if ((pw = pw_normalize(raw)) == NULL) {
		*why = "Password is not valid text";
		return -1;
	}
	if (utf8_chars(pw) < 8)
		*why = "Password must be at least 8 characters";
	else if ((username && strcasecmp(pw, username) == 0) ||
	    (email && strcasecmp(pw, email) == 0))
		*why = "Password must not equal the username or email";
	else if (pw_is_common(pw))
		*why = "Password is too common";
	else
		rc = 0;
	pw_hash_free(pw);
	return rc;
}

/* The common passwords: an open-addressing hash set, loaded once. */
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
