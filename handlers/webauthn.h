/*
 * WebAuthn's relying-party checks (webauthn.c): client data, authenticator
 * data, attestation (none, packed self-attestation), COSE keys as
 * EVP_PKEYs, assertion signatures. No state: passkeys.c stores.
 */
#ifndef FA_WEBAUTHN_H
#define FA_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>

#define WA_CRED_MAX 1023 /* the longest credential id accepted */
#define WA_FLAG_UP  0x01
#define WA_FLAG_UV  0x04
#define WA_FLAG_BE  0x08
#define WA_FLAG_BS  0x10
#define WA_FLAG_AT  0x40
#define WA_FLAG_ED  0x80

struct evp_pkey_st;

/* What authenticator data says (and, at registration, its credential). */
struct wa_auth_data {
	unsigned flags;
	uint32_t sign_count;
	const unsigned char *cred_id; /* AT only: into the data */
	size_t cred_len;
	struct evp_pkey_st *key; /* AT only: the COSE key, owned */
	int alg;                 /* its COSE algorithm */
};

/* What a client data JSON says. */
struct wa_client {
	char challenge_hash[65]; /* SHA-256 hex of its challenge (base64url) */
	unsigned char hash[32];  /* SHA-256 of the JSON itself */
};

int wa_client_data(const unsigned char *json, size_t len, const char *type,
    struct wa_client *out, const char **why);
int wa_auth_data(const unsigned char *d, size_t len, int registration,
    struct wa_auth_data *out, const char **why);
int wa_attestation(const unsigned char *obj, size_t len,
    const struct wa_client *, struct wa_auth_data *out,
    unsigned char **auth_data, size_t *auth_len, const char **why);
int wa_verify(struct evp_pkey_st *, int alg, const unsigned char *auth_data,
    size_t auth_len, const unsigned char client_hash[32],
    const unsigned char *sig, size_t siglen);
char *wa_key_der(struct evp_pkey_st *);
struct evp_pkey_st *wa_key_from_der(const char *b64);
void wa_auth_data_free(struct wa_auth_data *);

#endif
