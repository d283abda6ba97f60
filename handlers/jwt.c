/*
 * Access tokens: JWT (RFC 7519/9068) with HS256 or EdDSA (Ed25519).
 * Keys are loaded once per process. Verification is strict: pinned
 * algorithm, known kid, canonical base64url, exactly three segments,
 * signature checked before any claim is trusted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config.h"
#include "crypto.h"
#include "jwt.h"
#include "log.h"
#include "validate.h"

#define JWT_MAX  4096 /* longer tokens are refused unparsed */
#define LEEWAY   5    /* seconds of clock skew for exp/nbf */
#define MAX_KEYS 8    /* EdDSA keys for rotation */

enum alg { ALG_HS256, ALG_EDDSA };

struct key {
	char kid[65];   /* key id */
	EVP_PKEY *pkey; /* Ed25519 key (EdDSA) */
	char x[64];     /* base64url public key for JWKS */
};

static enum alg alg;
static unsigned char hs_secret[512];
static size_t hs_len;
static struct key keys[MAX_KEYS];
static size_t nkeys; /* keys[nkeys - 1] signs */
#define SIGCACHE 4096
static unsigned char sigcache[SIGCACHE][32]; /* see verify_sig() */

int
jwt_set_hs_secret(const unsigned char *s, size_t len)
{
	unsigned char md[32];

	if (len < 32 || len > sizeof(hs_secret))
		return -1;
	memcpy(hs_secret, s, len);
	hs_len = len;
	alg = ALG_HS256;
	crypto_sha256(s, len, md);
	b64url_encode(md, 12, keys[0].kid, sizeof(keys[0].kid));
	nkeys = 1;
	return 0;
}

static int
load_secret(const char *path, char *err, size_t errlen)
{
	unsigned char buf[sizeof(hs_secret) + 1];
	long n;

	if ((n = secret_file_read("AUTH_JWT_SECRET_FILE", path, buf,
	         sizeof(hs_secret), 32, err, errlen)) == -1)
		return -1;
	jwt_set_hs_secret(buf, (size_t)n);
	crypto_wipe(buf, sizeof(buf));
	return 0;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.pem in the directory is an Ed25519 private key, kid NAME. */
static int
load_keys(const char *dir, char *err, size_t errlen)
{
	char *names[64], path[4096];
	unsigned char pub[32];
	size_t n = 0, i, len, publen;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int rc = -1;

	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "AUTH_JWT_KEYS_DIR: not set");
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "AUTH_JWT_KEYS_DIR: %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < 64) {
		len = strlen(de->d_name);
		if (len > 4 && len <= 68 &&
		    strcmp(de->d_name + len - 4, ".pem") == 0 &&
		    de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), namecmp);
	if (n == 0) {
		snprintf(err, errlen, "AUTH_JWT_KEYS_DIR: no *.pem keys in %s",
		    dir);
		goto out;
	}
	/* The newest (last by name) MAX_KEYS keys. */
	for (i = n > MAX_KEYS ? n - MAX_KEYS : 0; i < n; i++) {
		struct key *k = &keys[nkeys];

		if (names[i] == NULL)
			goto out;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((f = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "AUTH_JWT_KEYS_DIR: %s: %s", path,
			    strerror(errno));
			goto out;
		}
		k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		publen = sizeof(pub);
		if (k->pkey == NULL ||
		    EVP_PKEY_id(k->pkey) != EVP_PKEY_ED25519 ||
		    EVP_PKEY_get_raw_public_key(k->pkey, pub, &publen) != 1) {
			snprintf(err, errlen,
			    "AUTH_JWT_KEYS_DIR: %s is not an "
			    "Ed25519 private key",
			    path);
			EVP_PKEY_free(k->pkey);
			k->pkey = NULL;
			goto out;
		}
		snprintf(k->kid, sizeof(k->kid), "%.*s",
		    (int)(strlen(names[i]) - 4), names[i]);
		b64url_encode(pub, publen, k->x, sizeof(k->x));
		nkeys++;
	}
	alg = ALG_EDDSA;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

int
jwt_init(char *err, size_t errlen)
{
	jwt_free();
	if (strcmp(cfg.jwt_alg, "EdDSA") == 0)
		return load_keys(cfg.jwt_keys_dir, err, errlen);
	return load_secret(cfg.jwt_secret_file, err, errlen);
}

void
jwt_free(void)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		EVP_PKEY_free(keys[i].pkey);
	memset(keys, 0, sizeof(keys));
	memset(sigcache, 0, sizeof(sigcache));
	nkeys = 0;
	crypto_wipe(hs_secret, sizeof(hs_secret));
	hs_len = 0;
}

static int
sign(const char *in, size_t len, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (alg == ALG_HS256) {
		*siglen = 32;
		return crypto_hmac_sha256(hs_secret, hs_len, in, len, sig);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	*siglen = 64;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, keys[nkeys - 1].pkey) ==
	        1 &&
	    EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)in, len) ==
	        1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

char *
jwt_issue(const char *uid, const char *sid, const char *email, long long now,
    char jti[UUID_LEN + 1])
{
	char hdr[256], *out = NULL, *buf = NULL;
	unsigned char sig[64];
	struct json_object *p;
	const char *ps;
	size_t plen, siglen, n, cap;

	if (nkeys == 0 || crypto_uuid(jti) == -1)
		return NULL;
	snprintf(hdr, sizeof(hdr),
	    "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    alg == ALG_HS256 ? "HS256" : "EdDSA", keys[nkeys - 1].kid);
	if ((p = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(p, "iss", json_object_new_string(cfg.issuer));
	json_object_object_add(p, "sub", json_object_new_string(uid));
	json_object_object_add(p, "uid", json_object_new_string(uid));
	json_object_object_add(p, "sid", json_object_new_string(sid));
	json_object_object_add(p, "jti", json_object_new_string(jti));
	json_object_object_add(p, "token_type",
	    json_object_new_string("access"));
	json_object_object_add(p, "email", json_object_new_string(email));
	json_object_object_add(p, "iat", json_object_new_int64(now));
	json_object_object_add(p, "nbf", json_object_new_int64(now));
	json_object_object_add(p, "exp",
	    json_object_new_int64(now + cfg.access_ttl));
	ps = json_object_to_json_string_length(p,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &plen);
	cap = (strlen(hdr) + plen + 64) * 4 / 3 + 16;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	n = b64url_encode((const unsigned char *)hdr, strlen(hdr), buf, cap);
	buf[n++] = '.';
	n += b64url_encode((const unsigned char *)ps, plen, buf + n, cap - n);
	if (sign(buf, n, sig, &siglen) == -1)
		goto out;
	buf[n++] = '.';
	b64url_encode(sig, siglen, buf + n, cap - n);
	out = buf;
	buf = NULL;
out:
	free(buf);
	json_object_put(p);
	return out;
}

static struct json_object *
parse_segment(const char *s, size_t len)
{
	unsigned char buf[JWT_MAX];
	struct json_tokener *tok;
	struct json_object *o;
	long n;

	if ((n = b64url_decode(s, len, buf, sizeof(buf) - 1)) <= 0)
		return NULL;
	if (memchr(buf, '\0', (size_t)n) != NULL ||
	    !utf8_valid((const char *)buf, (size_t)n))
		return NULL;
	if ((tok = json_tokener_new_ex(8)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)buf, (int)n);
	if (o != NULL &&
	    (json_tokener_get_parse_end(tok) != (size_t)n ||
	        !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *
get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
get_int(struct json_object *o, const char *k, long long *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

/*
 * Ed25519 verification costs ~70 us, and a client presents the same
 * access token many times. Each worker remembers the SHA-256 of tokens
 * whose signature it has verified (direct-mapped, bounded): a hit means
 * this exact token (signing input and signature) was checked before.
 * Claims, expiry and the session are still checked on every request.
 * Workers are replaced on SIGHUP, so a key change starts a fresh cache.
 */

static size_t
sigcache_slot(const unsigned char md[32])
{
	return ((size_t)md[0] | (size_t)md[1] << 8 | (size_t)md[2] << 16) %
	    SIGCACHE;
}

static int
verify_sig(const struct key *k, const char *in, size_t len,
    const unsigned char *sig, size_t siglen)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx;
	int ok;

	if (alg == ALG_HS256) {
		if (siglen != 32 ||
		    crypto_hmac_sha256(hs_secret, hs_len, in, len, md) == -1)
			return -1;
		return crypto_ct_equal(md, sig, 32) ? 0 : -1;
	}
	if (siglen != 64 || (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)in,
	        len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* The key a header names, if it is one of ours for our alg and type. */
static const struct key *
header_key(struct json_object *h)
{
	struct json_object *v;
	const char *s, *kid;
	size_t i;

	if ((s = get_str(h, "alg")) == NULL ||
	    strcmp(s, alg == ALG_HS256 ? "HS256" : "EdDSA") != 0)
		return NULL;
	if ((s = get_str(h, "typ")) == NULL ||
	    (strcmp(s, "at+jwt") != 0 && strcmp(s, "application/at+jwt") != 0))
		return NULL;
	if (json_object_object_get_ex(h, "crit", &v))
		return NULL; /* we understand no extensions */
	if ((kid = get_str(h, "kid")) == NULL)
		return NULL;
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].kid, kid) == 0)
			return &keys[i];
	return NULL;
}

/* The verified payload's claims: times, issuer, type, ids. */
static int
claims_ok(struct json_object *p, long long now)
{
	struct json_object *v;
	long long exp, iat, nbf;
	const char *s;

	if (get_int(p, "exp", &exp) == -1 || now > exp + LEEWAY)
		return 0;
	if (get_int(p, "iat", &iat) == -1 || iat > now + LEEWAY)
		return 0;
	if (json_object_object_get_ex(p, "nbf", &v) &&
	    (get_int(p, "nbf", &nbf) == -1 || nbf > now + LEEWAY))
		return 0;
	if ((s = get_str(p, "iss")) == NULL || strcmp(s, cfg.issuer) != 0)
		return 0;
	if ((s = get_str(p, "token_type")) == NULL || strcmp(s, "access") != 0)
		return 0;
	return valid_uuid(get_str(p, "sub")) && valid_uuid(get_str(p, "sid")) &&
	    valid_uuid(get_str(p, "jti")) &&
	    (get_str(p, "uid") == NULL ||
	        strcmp(get_str(p, "uid"), get_str(p, "sub")) == 0);
}

/*
 * Verify an access token. On success *claims holds the payload (caller
 * owns it) and 0 is returned; any failure is -1 with *claims NULL.
 */
int
jwt_verify(const char *tok, size_t len, long long now,
    struct json_object **claims)
{
	struct json_object *h = NULL, *p = NULL;
	const char *d1, *d2;
	unsigned char sig[128], md[32];
	const struct key *k = NULL;
	size_t slot;
	long siglen;
	int rc = -1;

	*claims = NULL;
	if (tok == NULL || len == 0 || len > JWT_MAX || nkeys == 0)
		return -1;
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
		return -1;
	if (d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len)
		return -1;
	if ((h = parse_segment(tok, (size_t)(d1 - tok))) == NULL ||
	    (k = header_key(h)) == NULL)
		goto out;
	siglen = b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), sig,
	    sizeof(sig));
	if (siglen <= 0)
		goto out;
	if (alg == ALG_EDDSA) {
		crypto_sha256(tok, len, md);
		slot = sigcache_slot(md);
		if (!crypto_ct_equal(sigcache[slot], md, sizeof(md))) {
			if (verify_sig(k, tok, (size_t)(d2 - tok), sig,
			        (size_t)siglen) == -1)
				goto out;
			memcpy(sigcache[slot], md, sizeof(md));
		}
	} else if (verify_sig(k, tok, (size_t)(d2 - tok), sig,
	               (size_t)siglen) == -1)
		goto out;
	/* Only now is the payload trusted. */
	if ((p = parse_segment(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL)
		goto out;
	if (!claims_ok(p, now))
		goto out;
	*claims = p;
	p = NULL;
	rc = 0;
out:
	json_object_put(h);
	json_object_put(p);
	return rc;
}

struct json_object *
jwt_jwks(void)
{
	struct json_object *o, *arr, *k;
	size_t i;

	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; alg == ALG_EDDSA && i < nkeys; i++) {
		k = json_object_new_object();
		json_object_object_add(k, "kty", json_object_new_string("OKP"));
		json_object_object_add(k, "crv",
		    json_object_new_string("Ed25519"));
		json_object_object_add(k, "kid",
		    json_object_new_string(keys[i].kid));
		json_object_object_add(k, "x",
		    json_object_new_string(keys[i].x));
		json_object_object_add(k, "use", json_object_new_string("sig"));
		json_object_object_add(k, "alg",
		    json_object_new_string("EdDSA"));
		json_object_array_add(arr, k);
	}
	json_object_object_add(o, "keys", arr);
	return o;
}
