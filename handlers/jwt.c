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
	char hdr[256];  /* a header segment found to name this key */
	size_t hdrlen;  /* its length, 0 until one is seen */
};

static enum alg alg;
#define HS_SECRET_MAX 512
static struct json_tokener *parser; /* parse_segment's, reset per use */
static struct crypto_mac *hs_mac;   /* HS256: keyed with the secret */
static struct key keys[MAX_KEYS];
static size_t nkeys; /* keys[nkeys - 1] signs */
#define VCACHE     128
#define VCACHE_TOK 768 /* longer tokens are verified every time */
static struct verified {
	char tok[VCACHE_TOK];       /* the whole token, byte for byte */
	size_t len;                 /* its length */
	struct json_object *claims; /* its payload; NULL: empty slot */
} vcache[VCACHE];                   /* see jwt_verify() */

static void
vcache_clear(void)
{
	size_t i;

	for (i = 0; i < VCACHE; i++) {
		json_object_put(vcache[i].claims);
		vcache[i].claims = NULL;
		crypto_wipe(vcache[i].tok, vcache[i].len);
		vcache[i].len = 0;
	}
}

int
jwt_set_hs_secret(const unsigned char *s, size_t len)
{
	unsigned char md[32];

	if (len < 32 || len > HS_SECRET_MAX)
		return -1;
	vcache_clear();
	crypto_mac_free(hs_mac);
	nkeys = 0;
	if ((hs_mac = crypto_mac_new(s, len)) == NULL)
		return -1;
	alg = ALG_HS256;
	keys[0].hdrlen = 0;
	crypto_sha256(s, len, md);
	b64url_encode(md, 12, keys[0].kid, sizeof(keys[0].kid));
	nkeys = 1;
	return 0;
}

static int
load_secret(const char *path, char *err, size_t errlen)
{
	unsigned char buf[HS_SECRET_MAX + 1];
	long n;

	if ((n = secret_file_read("AUTH_JWT_SECRET_FILE", path, buf,
	         HS_SECRET_MAX, 32, err, errlen)) == -1)
		return -1;
	if (jwt_set_hs_secret(buf, (size_t)n) == -1) {
		snprintf(err, errlen,
		    "AUTH_JWT_SECRET_FILE: cannot key HMAC-SHA256");
		n = -1;
	}
	crypto_wipe(buf, sizeof(buf));
	return n == -1 ? -1 : 0;
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
	vcache_clear();
	nkeys = 0;
	crypto_mac_free(hs_mac);
	hs_mac = NULL;
	if (parser != NULL)
		json_tokener_free(parser);
	parser = NULL;
}

static int
sign(const char *in, size_t len, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (alg == ALG_HS256) {
		*siglen = 32;
		return crypto_mac(hs_mac, in, len, sig);
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
jwt_issue(const struct jwt_subject *who, long long now, char jti[UUID_LEN + 1])
{
	char hdr[256], *out = NULL, *buf = NULL, word[16];
	unsigned char sig[64];
	struct json_object *p, *amr;
	const char *ps, *w;
	size_t plen, siglen, n, cap, k;

	if (nkeys == 0 || crypto_uuid(jti) == -1)
		return NULL;
	snprintf(hdr, sizeof(hdr),
	    "{\"alg\":\"%s\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}",
	    alg == ALG_HS256 ? "HS256" : "EdDSA", keys[nkeys - 1].kid);
	if ((p = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(p, "iss", json_object_new_string(cfg.issuer));
	json_object_object_add(p, "sub", json_object_new_string(who->uid));
	json_object_object_add(p, "uid", json_object_new_string(who->uid));
	json_object_object_add(p, "sid", json_object_new_string(who->sid));
	json_object_object_add(p, "jti", json_object_new_string(jti));
	json_object_object_add(p, "token_type",
	    json_object_new_string("access"));
	json_object_object_add(p, "email", json_object_new_string(who->email));
	json_object_object_add(p, "auth_time",
	    json_object_new_int64(who->auth_time));
	amr = json_object_new_array();
	for (w = who->amr; *w; w += k) {
		w += strspn(w, " ");
		if ((k = strcspn(w, " ")) > 0 && k < sizeof(word)) {
			memcpy(word, w, k);
			word[k] = '\0';
			json_object_array_add(amr,
			    json_object_new_string(word));
		}
	}
	json_object_object_add(p, "amr", amr);
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
	struct json_object *o;
	long n;

	if ((n = b64url_decode(s, len, buf, sizeof(buf) - 1)) <= 0)
		return NULL;
	if (memchr(buf, '\0', (size_t)n) != NULL ||
	    !utf8_valid((const char *)buf, (size_t)n))
		return NULL;
	if (parser == NULL && (parser = json_tokener_new_ex(8)) == NULL)
		return NULL;
	json_tokener_reset(parser);
	json_tokener_set_flags(parser, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(parser, (const char *)buf, (int)n);
	if (o != NULL &&
	    (json_tokener_get_parse_end(parser) != (size_t)n ||
	        !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
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

static int
verify_sig(const struct key *k, const char *in, size_t len,
    const unsigned char *sig, size_t siglen)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx;
	int ok;

	if (alg == ALG_HS256) {
		if (siglen != 32 || crypto_mac(hs_mac, in, len, md) == -1)
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
static struct key *
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
 * The key a header segment names. Our tokens carry one header per key,
 * byte for byte, so the segment that last named a key is remembered and
 * the same bytes are not decoded and parsed again.
 */
static const struct key *
segment_key(const char *seg, size_t len)
{
	struct json_object *h;
	struct key *k;
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (keys[i].hdrlen == len && memcmp(keys[i].hdr, seg, len) == 0)
			return &keys[i];
	if ((h = parse_segment(seg, len)) == NULL)
		return NULL;
	k = header_key(h);
	json_object_put(h);
	if (k != NULL && len <= sizeof(k->hdr)) {
		memcpy(k->hdr, seg, len);
		k->hdrlen = len;
	}
	return k;
}

/* The signature and the payload of a well-formed token; NULL if not. */
static struct json_object *
verify_parse(const char *tok, size_t len)
{
	const char *d1, *d2;
	unsigned char sig[128];
	const struct key *k;
	long siglen;

	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
		return NULL;
	if (d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len)
		return NULL;
	if ((k = segment_key(tok, (size_t)(d1 - tok))) == NULL)
		return NULL;
	siglen = b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), sig,
	    sizeof(sig));
	if (siglen <= 0 ||
	    verify_sig(k, tok, (size_t)(d2 - tok), sig, (size_t)siglen) == -1)
		return NULL;
	/* Only now is the payload trusted. */
	return parse_segment(d1 + 1, (size_t)(d2 - d1 - 1));
}

/*
 * The payload's JSON text, rendered once when the token is verified: the
 * responses that carry the claims (/auth/me, /auth/verify) copy it
 * instead of serialising the object again on every request (json-c's
 * serialiser was a quarter of /auth/me's own instructions). Same flags
 * as resp_json, so the bytes are the ones it would have written.
 */
static void
keep_rendered(struct json_object *p)
{
	const char *txt;
	char *copy;

	txt = json_object_to_json_string_ext(p,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (txt != NULL && (copy = strdup(txt)) != NULL)
		json_object_set_serializer(p,
		    json_object_userdata_to_json_string, copy,
		    json_object_free_userdata);
}

/*
 * A token's cache slot, from the last bytes of its signature segment:
 * uniformly random for a token we signed, and cheap. (A token made to
 * share a slot can only be one its holder got from us, and only evicts.)
 */
static size_t
slot_of(const char *tok, size_t len)
{
	size_t h = 2166136261u, i;

	for (i = len > 16 ? len - 16 : 0; i < len; i++)
		h = (h ^ (unsigned char)tok[i]) * 16777619u;
	return h % VCACHE;
}

/*
 * Verify an access token. On success *claims holds the payload (caller
 * owns a reference) and 0 is returned; any failure is -1, *claims NULL.
 *
 * A client presents the same access token many times, and decoding,
 * verifying and parsing it was most of a token check's own cost (an
 * Ed25519 verification alone is ~70 us). Each worker remembers the
 * bytes and the parsed payload of tokens whose signature it verified
 * (direct-mapped, bounded): a hit, compared in constant time over the
 * whole token, means this exact token was checked before. The claims, the times above all, are checked on every request,
 * and the caller checks the session. Workers are replaced on SIGHUP, so
 * a key change starts a fresh cache.
 */
int
jwt_verify(const char *tok, size_t len, long long now,
    struct json_object **claims)
{
	struct verified *v;
	struct json_object *p;

	*claims = NULL;
	if (tok == NULL || len == 0 || len > JWT_MAX || nkeys == 0)
		return -1;
	v = &vcache[slot_of(tok, len)];
	if (v->claims != NULL && v->len == len &&
	    crypto_ct_equal(v->tok, tok, len))
		p = json_object_get(v->claims);
	else if ((p = verify_parse(tok, len)) != NULL) {
		keep_rendered(p);
		if (len <= sizeof(v->tok)) {
			json_object_put(v->claims);
			memcpy(v->tok, tok, len);
			v->len = len;
			v->claims = json_object_get(p);
		}
	} else
		return -1;
	if (!claims_ok(p, now)) {
		json_object_put(p);
		return -1;
	}
	*claims = p;
	return 0;
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
