/*
 * The WebAuthn Level 2 relying-party steps that do not need storage
 * (sections 7.1 and 7.2): the client data (type, challenge, origin
 * against AUTH_WEBAUTHN_ORIGINS, not cross-origin), the authenticator
 * data (RP ID hash, UP and UV, the counter, the attested credential and
 * its COSE key: ES256 on P-256, EdDSA on Ed25519, RS256 of 2048 bits or
 * more), the attestation statement (none, or packed self-attestation),
 * and signatures over authenticator data || SHA-256(client data).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "cbor.h"
#include "config.h"
#include "crypto.h"
#include "validate.h"
#include "webauthn.h"

#define COSE_ES256 -7
#define COSE_EDDSA -8
#define COSE_RS256 -257

/* Is s (n bytes) one of the space-separated words of list? */
static int
listed(const char *list, const char *s, size_t n)
{
	const char *p = list;
	size_t k;

	while (*p) {
		p += strspn(p, " \t");
		k = strcspn(p, " \t");
		if (k > 0 && k == n && memcmp(p, s, n) == 0)
			return 1;
		p += k;
	}
	return 0;
}

static const char *
str_member(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * The client data JSON of a ceremony of type ("webauthn.create" or
 * "webauthn.get"): 0 with the challenge's hash and the JSON's own hash,
 * or -1 with *why.
 */
int
wa_client_data(const unsigned char *json, size_t len, const char *type,
    struct wa_client *out, const char **why)
{
	struct json_tokener *tok;
	struct json_object *o, *co;
	const char *t, *ch, *origin;
	int rc = -1;

	*why = "clientDataJSON is not a JSON object";
	if (len == 0 || len > 4096 || (tok = json_tokener_new()) == NULL)
		return -1;
	o = json_tokener_parse_ex(tok, (const char *)json, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))
		goto out;
	t = str_member(o, "type");
	ch = str_member(o, "challenge");
	origin = str_member(o, "origin");
	if (t == NULL || strcmp(t, type) != 0)
		*why = "clientDataJSON has the wrong type";
	else if (ch == NULL || strlen(ch) != TOKEN_B64_LEN)
		*why = "clientDataJSON has no challenge of ours";
	else if (origin == NULL ||
	    !listed(cfg.webauthn_origins, origin, strlen(origin)))
		*why = "clientDataJSON names an origin that is not allowed";
	else if (json_object_object_get_ex(o, "crossOrigin", &co) &&
	    json_object_get_boolean(co))
		*why = "a cross-origin ceremony is refused";
	else {
		crypto_sha256_hex(ch, strlen(ch), out->challenge_hash);
		crypto_sha256(json, len, out->hash);
		rc = 0;
	}
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* A COSE key's members this reader knows (RFC 9053). */
struct cose {
	int64_t kty, alg, crv;
	struct cbor_item x, y, n, e; /* -2/-3 (EC2), -2 (OKP); -1/-2 (RSA) */
	int have_crv;
};

static int
cose_member(struct cbor *c, struct cose *k, int64_t label)
{
	struct cbor_item v;

	if (cbor_next(c, &v) == -1)
		return -1;
	switch (label) {
	case 1:
		return cbor_int(&v, &k->kty);
	case 3:
		return cbor_int(&v, &k->alg);
	case -1: /* crv (EC2, OKP) or n (RSA) */
		if (v.type == CB_BYTES) {
			k->n = v;
			return 0;
		}
		k->have_crv = 1;
		return cbor_int(&v, &k->crv);
	case -2:
		if (v.type != CB_BYTES)
			return -1;
		k->x = v; /* x, or RSA's e */
		k->e = v;
		return 0;
	case -3:
		if (v.type != CB_BYTES)
			return -1;
		k->y = v;
		return 0;
	default:
		return cbor_skip(c, &v);
	}
}

/* An EVP_PKEY from parameters (EC's group and point, RSA's n and e). */
static EVP_PKEY *
key_fromdata(const char *type, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY_CTX *chk = NULL;
	EVP_PKEY *key = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	/* a point off the curve, or an RSA key that is not one, is refused */
	if (key != NULL &&
	    ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	        EVP_PKEY_public_check(chk) != 1)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

static EVP_PKEY *
cose_to_pkey(const struct cose *k)
{
	unsigned char pt[65];
	OSSL_PARAM_BLD *b;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *key = NULL;

	if (k->kty == 1 && k->alg == COSE_EDDSA && k->have_crv && k->crv == 6 &&
	    k->x.v == 32)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    k->x.ptr, 32);
	if ((b = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (k->kty == 2 && k->alg == COSE_ES256 && k->have_crv && k->crv == 1 &&
	    k->x.v == 32 && k->y.v == 32) {
		pt[0] = 4; /* uncompressed point */
		memcpy(pt + 1, k->x.ptr, 32);
		memcpy(pt + 33, k->y.ptr, 32);
		if (OSSL_PARAM_BLD_push_utf8_string(b,
		        OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
		    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY,
		        pt, sizeof(pt)) == 1)
			key = key_fromdata("EC", b);
	} else if (k->kty == 3 && k->alg == COSE_RS256 && k->n.ptr != NULL &&
	    k->n.v >= 256 && k->n.v <= 512 && k->e.ptr != NULL && k->e.v <= 8 &&
	    (n = BN_bin2bn(k->n.ptr, (int)k->n.v, NULL)) != NULL &&
	    (e = BN_bin2bn(k->e.ptr, (int)k->e.v, NULL)) != NULL &&
	    BN_num_bits(n) >= 2048 &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) == 1)
		key = key_fromdata("RSA", b);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(b);
	return key;
}

/* A COSE_Key (a CBOR map) at c as an EVP_PKEY and its algorithm. */
static int
cose_key(struct cbor *c, struct wa_auth_data *out)
{
	struct cbor_item m, l;
	struct cose k;
	uint64_t i, seen = 0;
	int64_t label;

	memset(&k, 0, sizeof(k));
	if (cbor_next(c, &m) == -1 || m.type != CB_MAP || m.v > 16)
		return -1;
	for (i = 0; i < m.v; i++) {
		if (cbor_next(c, &l) == -1 || cbor_int(&l, &label) == -1 ||
		    label < -3 || label > 3 || (seen & (1u << (label + 3))))
			return -1; /* only the labels a key of ours has, once */
		seen |= 1u << (label + 3);
		if (cose_member(c, &k, label) == -1)
			return -1;
	}
	if ((out->key = cose_to_pkey(&k)) == NULL)
		return -1;
	out->alg = (int)k.alg;
	return 0;
}

/*
 * Authenticator data: the RP ID hash must be SHA-256(AUTH_WEBAUTHN_RP_ID),
 * UP and UV set; at registration the attested credential data (with its
 * key), otherwise none. 0, or -1 with *why (and no key held).
 */
int
wa_auth_data(const unsigned char *d, size_t len, int registration,
    struct wa_auth_data *out, const char **why)
{
	unsigned char rp[32];
	struct cbor c;
	struct cbor_item ext;
	size_t at = 37;

	memset(out, 0, sizeof(out[0]));
	*why = "authenticatorData is malformed";
	if (len < 37)
		return -1;
	crypto_sha256(cfg.webauthn_rp_id, strlen(cfg.webauthn_rp_id), rp);
	if (!crypto_ct_equal(rp, d, 32)) {
		*why = "authenticatorData is for another relying party";
		return -1;
	}
	out->flags = d[32];
	out->sign_count = (uint32_t)d[33] << 24 | (uint32_t)d[34] << 16 |
	    (uint32_t)d[35] << 8 | d[36];
	if ((out->flags & (WA_FLAG_UP | WA_FLAG_UV)) !=
	    (WA_FLAG_UP | WA_FLAG_UV)) {
		*why = "user presence and verification are required";
		return -1;
	}
	if (!!(out->flags & WA_FLAG_AT) != registration)
		return -1;
	if (registration) {
		if (len < at + 18)
			return -1;
		out->cred_len = (size_t)d[at + 16] << 8 | d[at + 17];
		at += 18;
		if (out->cred_len == 0 || out->cred_len > WA_CRED_MAX ||
		    len - at < out->cred_len)
			return -1;
		out->cred_id = d + at;
		at += out->cred_len;
		cbor_init(&c, d + at, len - at);
		if (cose_key(&c, out) == -1) {
			*why =
			    "the credential's public key is not one we accept";
			return -1;
		}
		at = (size_t)(c.p - d);
	}
	cbor_init(&c, d + at, len - at);
	if (((out->flags & WA_FLAG_ED) &&
	        (cbor_next(&c, &ext) == -1 || ext.type != CB_MAP ||
	            cbor_skip(&c, &ext) == -1)) ||
	    c.p != c.end) { /* nothing else may follow */
		wa_auth_data_free(out);
		return -1;
	}
	return 0;
}

/*
 * Verify sig by key (COSE alg) over authenticator data || client data
 * hash: 1 valid, 0 not.
 */
int
wa_verify(EVP_PKEY *key, int alg, const unsigned char *ad, size_t adlen,
    const unsigned char ch[32], const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *m;
	unsigned char *buf;
	int ok;

	if (key == NULL || (buf = malloc(adlen + 32)) == NULL)
		return 0;
	memcpy(buf, ad, adlen);
	memcpy(buf + adlen, ch, 32);
	ok = (m = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(m, NULL,
	        alg == COSE_EDDSA ? NULL : EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(m, sig, siglen, buf, adlen + 32) == 1;
	EVP_MD_CTX_free(m);
	free(buf);
	return ok;
}

/* The attestation statement: fmt none (empty), or packed without x5c. */
static int
statement(struct cbor *c, const char *fmt, size_t fmtlen,
    const struct wa_auth_data *ad, const unsigned char *authdata, size_t adlen,
    const struct wa_client *cl, const char **why)
{
	struct cbor_item m, k, v, sig = { 0 };
	int64_t alg = 0;
	uint64_t i;
	int have_alg = 0;

	if (cbor_next(c, &m) == -1 || m.type != CB_MAP)
		return -1;
	if (fmtlen == 4 && memcmp(fmt, "none", 4) == 0)
		return m.v == 0 ? 0 : -1;
	*why = "only attestation none and packed self-attestation are accepted";
	if (fmtlen != 6 || memcmp(fmt, "packed", 6) != 0 || m.v != 2)
		return -1;
	for (i = 0; i < m.v; i++) {
		if (cbor_next(c, &k) == -1 || cbor_next(c, &v) == -1)
			return -1;
		if (cbor_text_is(&k, "alg") && cbor_int(&v, &alg) == 0)
			have_alg = 1;
		else if (cbor_text_is(&k, "sig") && v.type == CB_BYTES)
			sig = v;
		else
			return -1; /* x5c, ecdaaKeyId: not self-attestation */
	}
	*why = "the packed self-attestation does not verify";
	if (!have_alg || alg != ad->alg || sig.ptr == NULL ||
	    !wa_verify(ad->key, ad->alg, authdata, adlen, cl->hash, sig.ptr,
	        (size_t)sig.v))
		return -1;
	return 0;
}

/*
 * A registration's attestationObject: {fmt, attStmt, authData}. 0 with
 * the authenticator data (its credential and key) in out, or -1 with
 * *why.
 */
int
wa_attestation(const unsigned char *obj, size_t len, const struct wa_client *cl,
    struct wa_auth_data *out, unsigned char **authdata, size_t *adlen,
    const char **why)
{
	struct cbor c, st = { NULL, NULL };
	struct cbor_item m, k, v, fmt = { 0 }, ad = { 0 };
	uint64_t i;

	*why = "attestationObject is malformed";
	memset(out, 0, sizeof(*out));
	cbor_init(&c, obj, len);
	if (cbor_next(&c, &m) == -1 || m.type != CB_MAP || m.v != 3)
		return -1;
	for (i = 0; i < 3; i++) {
		if (cbor_next(&c, &k) == -1)
			return -1;
		if (cbor_text_is(&k, "attStmt")) {
			st = c; /* read once the key is known */
			if (cbor_next(&c, &v) == -1 || cbor_skip(&c, &v) == -1)
				return -1;
		} else if (cbor_next(&c, &v) == -1)
			return -1;
		else if (cbor_text_is(&k, "fmt") && v.type == CB_TEXT)
			fmt = v;
		else if (cbor_text_is(&k, "authData") && v.type == CB_BYTES)
			ad = v;
		else
			return -1;
	}
	if (c.p != c.end || fmt.ptr == NULL || ad.ptr == NULL || st.p == NULL)
		return -1;
	if (wa_auth_data(ad.ptr, (size_t)ad.v, 1, out, why) == -1)
		return -1;
	if (statement(&st, (const char *)fmt.ptr, (size_t)fmt.v, out, ad.ptr,
	        (size_t)ad.v, cl, why) == -1) {
		wa_auth_data_free(out);
		return -1;
	}
	*authdata = (unsigned char *)ad.ptr;
	*adlen = (size_t)ad.v;
	return 0;
}

/* The key as a DER SubjectPublicKeyInfo, base64url; malloc'd or NULL. */
char *
wa_key_der(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	char *out;
	int n;

	if ((n = i2d_PUBKEY(key, &der)) <= 0)
		return NULL;
	if ((out = malloc((size_t)n * 4 / 3 + 4)) != NULL)
		b64url_encode(der, (size_t)n, out, (size_t)n * 4 / 3 + 4);
	OPENSSL_free(der);
	return out;
}

EVP_PKEY *
wa_key_from_der(const char *b64)
{
	size_t n = strlen(b64);
	unsigned char *der;
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	long len;

	if ((der = malloc(n)) == NULL)
		return NULL;
	if ((len = b64url_decode(b64, n, der, n)) > 0) {
		p = der;
		key = d2i_PUBKEY(NULL, &p, len);
	}
	free(der);
	return key;
}

void
wa_auth_data_free(struct wa_auth_data *a)
{
	EVP_PKEY_free(a->key);
	a->key = NULL;
}
