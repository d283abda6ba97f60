/* Randomness, hashes, MACs, base64url, secret files (crypto.c). */
#ifndef FA_CRYPTO_H
#define FA_CRYPTO_H

#include <stddef.h>

#define UUID_LEN      36
#define TOKEN_BYTES   32 /* 256-bit opaque tokens */
#define TOKEN_B64_LEN 43 /* base64url of 32 bytes, no padding */

int crypto_random(void *, size_t);
int crypto_token(char out[TOKEN_B64_LEN + 1], unsigned char raw[TOKEN_BYTES]);
void crypto_sha256(const void *, size_t, unsigned char out[32]);
void crypto_sha256_hex(const void *, size_t, char out[65]);
int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char out[32]);
struct crypto_mac;
struct crypto_mac *crypto_mac_new(const void *key, size_t keylen);
int crypto_mac(const struct crypto_mac *, const void *msg, size_t len,
    unsigned char out[32]);
void crypto_mac_free(struct crypto_mac *);
int crypto_ct_equal(const void *, const void *, size_t);
int crypto_hotp(const unsigned char *key, size_t keylen,
    unsigned long long counter, char out[7]);
size_t b32_encode(const unsigned char *, size_t, char *, size_t);
size_t b64url_encode(const unsigned char *, size_t, char *, size_t);
long b64url_decode(const char *, size_t, unsigned char *, size_t);
void crypto_wipe(void *, size_t);
int crypto_uuid(char out[UUID_LEN + 1]);
long secret_file_read(const char *name, const char *path, unsigned char *buf,
    size_t cap, size_t min, char *err, size_t errlen);
int secret_file_create(const char *name, const char *path, size_t nbytes,
    char *err, size_t errlen);

#endif
