/*
 * The data key: a secret kept in a file outside the database
 * (AUTH_DATA_KEY_FILE), from which each use derives its own subkey
 * (HMAC-SHA256(key, label)): the AES-256-GCM key of what waits in the
 * outbox, the refresh-successor HMAC key, the captcha-code HMAC key.
 * A copy of the database alone therefore grants nothing.
 *
 * Sealed text is "fa1." KID "." base64url(nonce[12] || ciphertext ||
 * tag[16]), KID the first 8 hex digits of SHA-256(subkey), so a message
 * sealed under another key is recognised, not mis-decrypted. The caller
 * names associated data (e.g. the recipient) that must match to open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "log.h"

#define KEY_MIN 32 /* bytes of key text at least */
#define KEY_MAX 512

static unsigned char key[KEY_MAX + 1];
static size_t keylen;

int
datakey_loaded(void)
{
	return keylen >= KEY_MIN;
}

/*
 * Load the key named by cfg.data_key_file. Dev mode with no file named
 * uses (and first creates) var/data-key. 0, or -1 with err set.
 */
int
datakey_load(char *err, size_t errlen)
{
	const char *path = cfg.data_key_file;
	long n;

	keylen = 0;
	if (*path == '\0') {
		if (!cfg.dev) {
			snprintf(err, errlen,
			    "AUTH_DATA_KEY_FILE is required "
			    "(a file of at least %d bytes of random text, "
			    "e.g. openssl rand -base64 32)",
			    KEY_MIN);
			return -1;
		}
		path = "var/data-key";
	}
	if (cfg.dev && access(path, F_OK) == -1 && errno == ENOENT &&
	    secret_file_create("AUTH_DATA_KEY_FILE", path, 32, err, errlen) ==
	        -1)
		return -1;
	if ((n = secret_file_read("AUTH_DATA_KEY_FILE", path, key, KEY_MAX,
	         KEY_MIN, err, errlen)) == -1)
		return -1;
	keylen = (size_t)n;
	return 0;
}

void
datakey_free(void)
{
	crypto_wipe(key, sizeof(key));
	keylen = 0;
}

/* The subkey for one use, named by label. */
int
datakey_sub(const char *label, unsigned char out[32])
{
	if (!datakey_loaded())
		return -1;
	return crypto_hmac_sha256(key, keylen, label, strlen(label), out);
}

#define SEAL_PREFIX "fa1."
#define NONCE       12
#define TAG         16

static void
kid_of(const unsigned char sub[32], char kid[9])
{
	char hex[65];

	crypto_sha256_hex(sub, 32, hex);
	memcpy(kid, hex, 8);
	kid[8] = '\0';
}

static int
gcm(int enc, const unsigned char k[32], const unsigned char *iv,
    const char *aad, const unsigned char *in, size_t len, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX *c;
	int n, ok = 0;

	if (len > INT32_MAX / 2 || (c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) !=
	        1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, k, iv, enc) != 1)
		goto out;
	if (EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad,
	        (int)strlen(aad)) != 1)
		goto out;
	if (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + len, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, tag) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* Seal text under the subkey of label; a malloc'd string, or NULL. */
char *
datakey_seal(const char *label, const char *aad, const char *text)
{
	unsigned char sub[32], *raw = NULL;
	size_t len = strlen(text), rawlen = NONCE + len + TAG, cap;
	char kid[9], *out = NULL;

	if (datakey_sub(label, sub) == -1)
		return NULL;
	kid_of(sub, kid);
	cap = sizeof(SEAL_PREFIX) + 9 + (rawlen * 4) / 3 + 4;
	if ((raw = malloc(rawlen)) == NULL || (out = malloc(cap)) == NULL)
		goto fail;
	if (crypto_random(raw, NONCE) == -1 ||
	    gcm(1, sub, raw, aad, (const unsigned char *)text, len, raw + NONCE,
	        raw + NONCE + len) == -1)
		goto fail;
	snprintf(out, cap, SEAL_PREFIX "%s.", kid);
	b64url_encode(raw, rawlen, out + strlen(out), cap - strlen(out));
	crypto_wipe(sub, sizeof(sub));
	free(raw);
	return out;
fail:
	crypto_wipe(sub, sizeof(sub));
	free(raw);
	free(out);
	return NULL;
}

/*
 * Was sealed made by datakey_seal under this process's key (its prefix
 * and key id match)? A message that fails to open although it was is
 * damaged; one that was not needs another key, which is a
 * configuration error to report, not a reason to discard it.
 */
int
datakey_is_ours(const char *label, const char *sealed)
{
	unsigned char sub[32];
	char kid[9];

	if (strncmp(sealed, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0 ||
	    strlen(sealed) < sizeof(SEAL_PREFIX) + 9 ||
	    datakey_sub(label, sub) == -1)
		return 0;
	kid_of(sub, kid);
	crypto_wipe(sub, sizeof(sub));
	return memcmp(sealed + sizeof(SEAL_PREFIX) - 1, kid, 8) == 0;
}

/*
 * Open what datakey_seal made; a malloc'd string, or NULL (not sealed
 * text, another key, or tampered with: GCM's tag refuses it).
 */
char *
datakey_open(const char *label, const char *aad, const char *sealed)
{
	unsigned char sub[32], *raw = NULL;
	char kid[9], *out = NULL;
	size_t slen = strlen(sealed), plen;
	long n;

	if (strncmp(sealed, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0 ||
	    slen < sizeof(SEAL_PREFIX) + 9 || datakey_sub(label, sub) == -1)
		return NULL;
	kid_of(sub, kid);
	sealed += sizeof(SEAL_PREFIX) - 1;
	if (memcmp(sealed, kid, 8) != 0 || sealed[8] != '.')
		goto out;
	sealed += 9;
	if ((raw = malloc(strlen(sealed) + 1)) == NULL)
		goto out;
	n = b64url_decode(sealed, strlen(sealed), raw, strlen(sealed) + 1);
	if (n < NONCE + TAG)
		goto out;
	plen = (size_t)n - NONCE - TAG;
	if ((out = malloc(plen + 1)) == NULL)
		goto out;
	if (gcm(0, sub, raw, aad, raw + NONCE, plen, (unsigned char *)out,
	        raw + NONCE + plen) == -1 ||
	    memchr(out, '\0', plen) != NULL) {
		crypto_wipe(out, plen + 1);
		free(out);
		out = NULL;
		goto out;
	}
	out[plen] = '\0';
out:
	crypto_wipe(sub, sizeof(sub));
	free(raw);
	return out;
}

/*
 * HMAC-SHA256 of msg under the subkey of label, as hex: how short
 * secrets (captcha codes, recovery codes) are kept, so that a copy of
 * the database cannot test guesses offline. Without the key the result
 * is random, and so matches nothing.
 */
void
datakey_mac_hex(const char *label, const char *msg, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char k[32], md[32];
	int i;

	if (datakey_sub(label, k) == -1 ||
	    crypto_hmac_sha256(k, sizeof(k), msg, strlen(msg), md) == -1)
		crypto_random(md, sizeof(md));
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	crypto_wipe(k, sizeof(k));
	crypto_wipe(md, sizeof(md));
}
