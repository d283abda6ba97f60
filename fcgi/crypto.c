/*
 * Randomness, hashes, base64url, constant-time compare and wiping.
 * Everything random comes from OpenSSL's CSPRNG.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "log.h"

int
crypto_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -1;
	return 0;
}

/* A fresh 256-bit token: raw bytes and their base64url text. */
int
crypto_token(char out[TOKEN_B64_LEN + 1], unsigned char raw[TOKEN_BYTES])
{
	if (crypto_random(raw, TOKEN_BYTES) == -1)
		return -1;
	b64url_encode(raw, TOKEN_BYTES, out, TOKEN_B64_LEN + 1);
	return 0;
}

/*
 * SHA-256, fetched from the provider once per process: EVP_sha256()
 * makes OpenSSL 3 look the implementation up again on every digest.
 */
static const EVP_MD *
sha256(void)
{
	static EVP_MD *md;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md != NULL ? md : EVP_sha256();
}

void
crypto_sha256(const void *buf, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(buf, len, out, &n, sha256(), NULL) != 1)
		memset(out, 0, 32); /* only on allocation failure */
}

void
crypto_sha256_hex(const void *buf, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	int i;

	crypto_sha256(buf, len, md);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* HMAC, fetched once per process like sha256() above. */
static EVP_MAC *
hmac(void)
{
	static EVP_MAC *mac;

	if (mac == NULL)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

int
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char out[32])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c;
	size_t n = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (hmac() == NULL || (c = EVP_MAC_CTX_new(hmac())) == NULL)
		return -1;
	ok = EVP_MAC_init(c, key, keylen, params) == 1 &&
	    EVP_MAC_update(c, msg, len) == 1 &&
	    EVP_MAC_final(c, out, &n, 32) == 1 && n == 32;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * HOTP (RFC 4226) with HMAC-SHA1, the value TOTP (RFC 6238) uses: the
 * counter's 6-digit code, as text, into out. 0, or -1.
 */
int
crypto_hotp(const unsigned char *key, size_t keylen, unsigned long long counter,
    char out[7])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c;
	unsigned char msg[8], md[20];
	unsigned long v;
	size_t n = 0;
	int i, ok, off;

	for (i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (hmac() == NULL || (c = EVP_MAC_CTX_new(hmac())) == NULL)
		return -1;
	ok = EVP_MAC_init(c, key, keylen, params) == 1 &&
	    EVP_MAC_update(c, msg, sizeof(msg)) == 1 &&
	    EVP_MAC_final(c, md, &n, sizeof(md)) == 1 && n == sizeof(md);
	EVP_MAC_CTX_free(c);
	if (!ok)
		return -1;
	off = md[19] & 0x0f;
	v = ((unsigned long)(md[off] & 0x7f) << 24) |
	    ((unsigned long)md[off + 1] << 16) |
	    ((unsigned long)md[off + 2] << 8) | md[off + 3];
	v %= 1000000;
	for (i = 5; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
	out[6] = '\0';
	crypto_wipe(md, sizeof(md));
	return 0;
}

/* RFC 4648 base32 (A-Z2-7, no padding) of n bytes; out needs 8n/5 + 2. */
size_t
b32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned long buf = 0;
	size_t o = 0, i;
	int bits = 0;

	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5 && o + 1 < outlen) {
			out[o++] = a[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0 && o + 1 < outlen)
		out[o++] = a[(buf << (5 - bits)) & 31];
	if (outlen > 0)
		out[o] = '\0';
	return o;
}

/*
 * A keyed HMAC-SHA256 for a key used on every request (the JWT secret):
 * the key schedule is done once, and each MAC starts from a copy of it.
 */
struct crypto_mac {
	EVP_MAC_CTX *ctx; /* initialised with the key */
};

struct crypto_mac *
crypto_mac_new(const void *key, size_t keylen)
{
	OSSL_PARAM params[2];
	struct crypto_mac *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (hmac() != NULL)
		m->ctx = EVP_MAC_CTX_new(hmac());
	if (m->ctx == NULL || EVP_MAC_init(m->ctx, key, keylen, params) != 1) {
		crypto_mac_free(m);
		return NULL;
	}
	return m;
}

int
crypto_mac(const struct crypto_mac *m, const void *msg, size_t len,
    unsigned char out[32])
{
	EVP_MAC_CTX *c;
	size_t n = 0;
	int ok;

	if (m == NULL || (c = EVP_MAC_CTX_dup(m->ctx)) == NULL)
		return -1;
	ok = EVP_MAC_update(c, msg, len) == 1 &&
	    EVP_MAC_final(c, out, &n, 32) == 1 && n == 32;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -1;
}

void
crypto_mac_free(struct crypto_mac *m)
{
	if (m == NULL)
		return;
	EVP_MAC_CTX_free(m->ctx);
	free(m);
}

int
crypto_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void
crypto_wipe(void *p, size_t len)
{
	if (p != NULL)
		OPENSSL_cleanse(p, len);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encode without padding; returns the length written (out is NUL-ended). */
size_t
b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	uint32_t v;

	if (outlen < (len * 4 + 2) / 3 + 1) {
		if (outlen)
			out[0] = '\0';
		return 0;
	}
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict, canonical base64url: no padding, no '+', '/', whitespace, and
 * the unused low bits of the last symbol must be zero (so each byte string
 * has exactly one encoding). Returns the decoded length or -1.
 */
long
b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	size_t i, o = 0;
	uint32_t v = 0;
	int bits = 0, d;

	if (len % 4 == 1)
		return -1;
	if ((len * 3) / 4 > outlen)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = b64val((unsigned char)in[i])) < 0)
			return -1;
		v = (v << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	if (v != 0)
		return -1;
	return (long)o;
}

/* A random (version 4) UUID in canonical lowercase form. */
int
crypto_uuid(char out[UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	int i, o = 0;

	if (crypto_random(u, sizeof(u)) == -1)
		return -1;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

/*
 * Read a secret file (what `name` configures) into buf, which has room
 * for cap + 1 bytes (one more is read, so a longer file is refused): its
 * bytes less trailing line ends, min..cap of them. The length, or -1
 * with err naming the key (and buf wiped).
 */
long
secret_file_read(const char *name, const char *path, unsigned char *buf,
    size_t cap, size_t min, char *err, size_t errlen)
{
	ssize_t n;
	int fd;

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "%s: not set", name);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s: %s", name, path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, buf, cap + 1); /* one more: too long is refused */
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < (ssize_t)min || (size_t)n > cap) {
		crypto_wipe(buf, cap + 1);
		snprintf(err, errlen, "%s: %s must hold %zu to %zu bytes", name,
		    path, min, cap);
		return -1;
	}
	return (long)n;
}

/*
 * Dev mode: write nbytes of fresh randomness, base64url, to a new file
 * at path, 0600. Never overwrites one: if another process (the server
 * and the mailer start together) made it first, its file is kept. 0, or
 * -1 with err set.
 */
int
secret_file_create(const char *name, const char *path, size_t nbytes, char *err,
    size_t errlen)
{
	unsigned char raw[64];
	char text[96];
	size_t n;
	int fd, ok;

	if (nbytes > sizeof(raw))
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		if (errno == EEXIST) {
			usleep(100000); /* let the winner write it */
			return 0;
		}
		snprintf(err, errlen, "%s: %s: %s", name, path,
		    strerror(errno));
		return -1;
	}
	if (crypto_random(raw, nbytes) == -1) {
		close(fd);
		snprintf(err, errlen, "%s: no randomness", name);
		return -1;
	}
	n = b64url_encode(raw, nbytes, text, sizeof(text) - 1);
	text[n++] = '\n';
	ok = write(fd, text, n) == (ssize_t)n;
	ok = close(fd) == 0 && ok;
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(text, sizeof(text));
	if (!ok) {
		snprintf(err, errlen, "%s: %s: write failed", name, path);
		return -1;
	}
	log_info("dev mode: generated %s in %s", name, path);
	return 0;
}
