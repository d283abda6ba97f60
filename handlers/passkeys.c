/*
 * Passkeys (API.md, "Second factors and passkeys"): registration with
 * attestation none or packed self-attestation, discoverable sign-in (no
 * username), a passkey as the second factor after a password, listing,
 * renaming, deleting. webauthn.c checks; this file keeps the state:
 * challenges (single use, 5 minutes, stored as SHA-256, each bound to
 * its purpose and to its user or login ticket) and the passkeys with
 * their counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include "audit.h"
#include "authn.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "errors.h"
#include "login_limits.h"
#include "mfa.h"
#include "ratelimit.h"
#include "routes.h"
#include "tokens.h"
#include "users.h"
#include "validate.h"
#include "webauthn.h"

#define CHALLENGE_TTL "300"
#define PASSKEYS_MAX  "20"
#define CRED_B64_MAX  (WA_CRED_MAX * 4 / 3 + 4)

static struct db_stmt q_ch_new = DB_STMT("wa_challenge_new",
    "INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, "
    "ticket_hash, expires_at) VALUES ($1, $2, $3, $4, now() + "
    "make_interval(secs => $5::int))");
static struct db_stmt q_ch_gc = DB_STMT("wa_challenge_gc",
    "DELETE FROM webauthn_challenges WHERE expires_at < now() - "
    "interval '1 hour'");
static struct db_stmt q_ch_take = DB_STMT("wa_challenge_take",
    "UPDATE webauthn_challenges SET used_at = now() WHERE challenge_hash = "
    "$1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() AND "
    "user_id IS NOT DISTINCT FROM $3::uuid AND ticket_hash IS NOT DISTINCT "
    "FROM $4 RETURNING challenge_hash");
static struct db_stmt q_pk_list = DB_STMT("passkey_list",
    "SELECT id, credential_id, name, extract(epoch FROM created_at)::bigint "
    "AS created_at, extract(epoch FROM last_used_at)::bigint AS "
    "last_used_at FROM passkeys WHERE user_id = $1 ORDER BY "
    "passkeys.created_at, passkeys.id");
static struct db_stmt q_pk_add = DB_STMT("passkey_add",
    "INSERT INTO passkeys (id, user_id, credential_id, public_key, alg, "
    "sign_count, backup_eligible, backup_state, name) SELECT $1, $2, $3, "
    "$4, $5, $6, $7, $8, $9 WHERE (SELECT count(*) FROM passkeys WHERE "
    "user_id = $2) < " PASSKEYS_MAX " ON CONFLICT (credential_id) DO "
    "NOTHING RETURNING extract(epoch FROM created_at)::bigint AS created_at");
static struct db_stmt q_pk_by_cred = DB_STMT("passkey_by_credential",
    "SELECT id, user_id, public_key, alg, sign_count FROM passkeys WHERE "
    "credential_id = $1");
static struct db_stmt q_pk_used = DB_STMT("passkey_used",
    "UPDATE passkeys SET sign_count = $2, backup_state = $3, last_used_at = "
    "now() WHERE id = $1 AND (sign_count < $2 OR ($2 = 0 AND sign_count = "
    "0)) RETURNING id");
static struct db_stmt q_pk_del = DB_STMT("passkey_delete",
    "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING id");
static struct db_stmt q_pk_rename = DB_STMT("passkey_rename",
    "UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2 "
    "RETURNING id");

/* Passkeys need a relying party; without one the routes are not there. */
static int
enabled(struct req *r)
{
	if (cfg.webauthn_rp_id[0] != '\0' && cfg.webauthn_origins[0] != '\0')
		return 1;
	resp_error(r, ERR_NOT_FOUND, "Passkeys are not configured");
	return 0;
}

/* The WebAuthn user handle of a user: its id's 16 bytes, base64url. */
static void
user_handle(const char *uid, char out[32])
{
	unsigned char raw[16];
	int i, j = 0, hi, lo;

	for (i = 0; uid[i] && j < 16; i++) {
		if (uid[i] == '-')
			continue;
		hi = hexval(uid[i]);
		lo = hexval(uid[++i]);
		raw[j++] = (unsigned char)(hi << 4 | lo);
	}
	b64url_encode(raw, sizeof(raw), out, 32);
}

/*
 * A new challenge for purpose (its user, or its login ticket's hash),
 * stored hashed, into out (base64url). 0, or -1.
 */
static int
challenge_new(const char *purpose, const char *uid, const char *ticket,
    char out[TOKEN_B64_LEN + 1])
{
	unsigned char raw[TOKEN_BYTES];
	char hash[65];
	const char *p[5] = { hash, purpose, uid, ticket, CHALLENGE_TTL };

	if (crypto_token(out, raw) == -1)
		return -1;
	crypto_wipe(raw, sizeof(raw));
	crypto_sha256_hex(out, strlen(out), hash);
	if (db_run(&q_ch_gc, 0, NULL) == -1 || db_run(&q_ch_new, 5, p) == -1)
		return -1;
	return 0;
}

/* Spend the challenge of hash (autocommit: spent even if the rest
 * fails). 1, 0 (unknown, used, expired, another purpose), or -1. */
static int
challenge_take(const char *hash, const char *purpose, const char *uid,
    const char *ticket)
{
	const char *p[4] = { hash, purpose, uid, ticket };
	PGresult *res;
	int n;

	if ((res = db_exec(&q_ch_take, 4, p)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n == 1;
}

/* A base64url member of credential.response, decoded (malloc'd). */
static unsigned char *
response_bytes(struct json_object *cred, const char *name, size_t *len)
{
	struct json_object *resp, *v;
	const char *s;
	unsigned char *out;
	size_t n;
	long k;

	if (!json_object_object_get_ex(cred, "response", &resp) ||
	    !json_object_object_get_ex(resp, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	n = strlen(s);
	if (n > BODY_MAX_DEFAULT || (out = malloc(n + 1)) == NULL)
		return NULL;
	if ((k = b64url_decode(s, n, out, n + 1)) < 0) {
		free(out);
		return NULL;
	}
	*len = (size_t)k;
	return out;
}

/* The credential object of the body, and its id (base64url, bounded). */
static struct json_object *
credential(struct req *r, const char **id)
{
	struct json_object *c, *v;

	*id = NULL;
	if (r->json == NULL ||
	    !json_object_object_get_ex(r->json, "credential", &c) ||
	    !json_object_is_type(c, json_type_object))
		return NULL;
	if (json_object_object_get_ex(c, "id", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0 &&
	    json_object_get_string_len(v) <= CRED_B64_MAX &&
	    strspn(json_object_get_string(v), B64URL_CHARS) ==
	        (size_t)json_object_get_string_len(v))
		*id = json_object_get_string(v);
	return c;
}

static void
add_params(struct json_object *pk)
{
	static const int algs[] = { -7, -8, -257 };
	struct json_object *a = json_object_new_array(), *p;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		p = json_object_new_object();
		json_object_object_add(p, "type",
		    json_object_new_string("public-key"));
		json_object_object_add(p, "alg", json_object_new_int(algs[i]));
		json_object_array_add(a, p);
	}
	json_object_object_add(pk, "pubKeyCredParams", a);
}

/* [{type, id}] of uid's passkeys (excludeCredentials/allowCredentials). */
static struct json_object *
descriptors(const char *uid)
{
	const char *p[1] = { uid };
	struct json_object *a, *d;
	PGresult *res;
	int i;

	if ((res = db_exec(&q_pk_list, 1, p)) == NULL)
		return NULL;
	a = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		d = json_object_new_object();
		json_object_object_add(d, "type",
		    json_object_new_string("public-key"));
		json_object_object_add(d, "id",
		    json_object_new_string(db_value(res, i, "credential_id")));
		json_object_array_add(a, d);
	}
	PQclear(res);
	return a;
}

static void
answer_options(struct req *r, struct json_object *pk)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "publicKey", pk);
	r->no_store = 1;
	resp_json(r, 200, o);
}

/* POST /auth/passkeys/register/options */
void
handle_passkey_reg_options(struct req *r)
{
	struct auth *a = auth_of(r);
	struct json_object *pk, *rp, *user, *sel, *ex;
	char ch[TOKEN_B64_LEN + 1], handle[32];

	if (!enabled(r))
		return;
	if ((ex = descriptors(a->uid)) == NULL ||
	    challenge_new("register", a->uid, NULL, ch) == -1) {
		json_object_put(ex);
		resp_db_error(r);
		return;
	}
	user_handle(a->uid, handle);
	pk = json_object_new_object();
	rp = json_object_new_object();
	json_object_object_add(rp, "id",
	    json_object_new_string(cfg.webauthn_rp_id));
	json_object_object_add(rp, "name",
	    json_object_new_string(cfg.webauthn_rp_name));
	json_object_object_add(pk, "rp", rp);
	user = json_object_new_object();
	json_object_object_add(user, "id", json_object_new_string(handle));
	json_object_object_add(user, "name",
	    json_object_new_string(a->sess.username));
	json_object_object_add(user, "displayName",
	    json_object_new_string(a->sess.username));
	json_object_object_add(pk, "user", user);
	json_object_object_add(pk, "challenge", json_object_new_string(ch));
	add_params(pk);
	json_object_object_add(pk, "timeout", json_object_new_int(300000));
	json_object_object_add(pk, "attestation",
	    json_object_new_string("none"));
	sel = json_object_new_object();
	json_object_object_add(sel, "residentKey",
	    json_object_new_string("required"));
	json_object_object_add(sel, "requireResidentKey",
	    json_object_new_boolean(1));
	json_object_object_add(sel, "userVerification",
	    json_object_new_string("required"));
	json_object_object_add(pk, "authenticatorSelection", sel);
	json_object_object_add(pk, "excludeCredentials", ex);
	answer_options(r, pk);
}

/* Store a verified registration; 201 with the new passkey. */
static void
store_passkey(struct req *r, const char *cred_b64,
    const struct wa_auth_data *ad)
{
	const char *uid = auth_of(r)->uid, *name = r->arg[PK_NAME];
	char id[UUID_LEN + 1], alg[8], count[16], *der;
	const char *p[9];
	struct json_object *o;
	PGresult *res;

	if (name == NULL || *name == '\0')
		name = "Passkey";
	if (crypto_uuid(id) == -1 || (der = wa_key_der(ad->key)) == NULL) {
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	snprintf(alg, sizeof(alg), "%d", ad->alg);
	snprintf(count, sizeof(count), "%lu", (unsigned long)ad->sign_count);
	p[0] = id, p[1] = uid, p[2] = cred_b64, p[3] = der, p[4] = alg;
	p[5] = count, p[6] = ad->flags & WA_FLAG_BE ? "t" : "f";
	p[7] = ad->flags & WA_FLAG_BS ? "t" : "f", p[8] = name;
	res = db_begin() == -1 ? NULL : db_exec(&q_pk_add, 9, p);
	free(der);
	if (res == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		db_rollback();
		resp_error(r, ERR_INVALID_REQUEST,
		    "This passkey is registered already, or the account has "
		    "20 passkeys");
	} else if (audit_write(r, uid, "passkey_added", "success") == -1 ||
	    mfa_notice(r, MAIL_FACTOR_ADDED, "a passkey") == -1 ||
	    db_commit() == -1) /* the passkey and its audit row, or neither */
		resp_db_error(r);
	else {
		o = json_object_new_object();
		json_object_object_add(o, "passkey_id",
		    json_object_new_string(id));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "created_at",
		    json_object_new_int64(
		        atoll(db_value(res, 0, "created_at"))));
		resp_json(r, 201, o);
	}
	PQclear(res);
}

/* POST /auth/passkeys/register: {credential, name} */
void
handle_passkey_register(struct req *r)
{
	unsigned char *cd = NULL, *att = NULL, *ad;
	char cred[CRED_B64_MAX + 1];
	const char *id, *why = "credential is missing or malformed";
	struct json_object *c;
	struct wa_client cl;
	struct wa_auth_data a = { 0 };
	size_t cdlen = 0, attlen = 0, adlen;
	int rc;

	if (!enabled(r))
		return;
	if ((c = credential(r, &id)) == NULL || id == NULL ||
	    (cd = response_bytes(c, "clientDataJSON", &cdlen)) == NULL ||
	    (att = response_bytes(c, "attestationObject", &attlen)) == NULL ||
	    wa_client_data(cd, cdlen, "webauthn.create", &cl, &why) == -1)
		goto bad;
	if ((rc = challenge_take(cl.challenge_hash, "register", auth_of(r)->uid,
	         NULL)) != 1) {
		why = "the challenge is unknown, used or expired";
		if (rc == -1) {
			resp_db_error(r);
			goto out;
		}
		goto bad;
	}
	if (wa_attestation(att, attlen, &cl, &a, &ad, &adlen, &why) == -1)
		goto bad;
	b64url_encode(a.cred_id, a.cred_len, cred, sizeof(cred));
	if (strcmp(cred, id) != 0) {
		why = "credential.id is not the attested credential";
		goto bad;
	}
	store_passkey(r, cred, &a);
	goto out;
bad:
	(void)audit_write(r, auth_of(r)->uid, "passkey_added", "refused");
	resp_error(r, ERR_INVALID_REQUEST, why);
out:
	wa_auth_data_free(&a);
	free(cd);
	free(att);
}

/* GET /auth/passkeys */
void
handle_passkeys_list(struct req *r)
{
	const char *p[1] = { auth_of(r)->uid };
	struct json_object *o, *a, *k;
	PGresult *res;
	int i;

	if ((res = db_exec(&q_pk_list, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	a = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		k = json_object_new_object();
		json_object_object_add(k, "passkey_id",
		    json_object_new_string(db_value(res, i, "id")));
		json_object_object_add(k, "name",
		    json_object_new_string(db_value(res, i, "name")));
		json_object_object_add(k, "created_at",
		    db_epoch(res, i, "created_at"));
		json_object_object_add(k, "last_used_at",
		    db_epoch(res, i, "last_used_at"));
		json_object_array_add(a, k);
	}
	PQclear(res);
	o = json_object_new_object();
	json_object_object_add(o, "passkeys", a);
	resp_json(r, 200, o);
}

/* DELETE and PATCH /auth/passkeys/{id}: only the caller's own. */
static void
own_passkey(struct req *r, struct db_stmt *q, const char *event)
{
	const char *p[3] = { r->param, auth_of(r)->uid, r->arg[PK_NAME] };
	struct json_object *o;
	PGresult *res;
	int n;

	if (!valid_uuid(r->param)) {
		resp_error(r, ERR_NOT_FOUND, "No such passkey");
		return;
	}
	if (db_begin() == -1 ||
	    (res = db_exec(q, q == &q_pk_rename ? 3 : 2, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		db_rollback();
		resp_error(r, ERR_NOT_FOUND, "No such passkey");
		return;
	}
	if (audit_write(r, auth_of(r)->uid, event, "success") == -1 ||
	    (q == &q_pk_del &&
	        mfa_notice(r, MAIL_FACTOR_REMOVED, "a passkey") == -1) ||
	    db_commit() == -1) {
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	resp_json(r, 200, o);
}

void
handle_passkey_delete(struct req *r)
{
	own_passkey(r, &q_pk_del, "passkey_removed");
}

void
handle_passkey_rename(struct req *r)
{
	if (r->arg[PK_NAME] == NULL || *r->arg[PK_NAME] == '\0') {
		resp_field_error(r, "name", "Field 'name' is required");
		return;
	}
	own_passkey(r, &q_pk_rename, "passkey_renamed");
}

/* POST /auth/passkeys/login/options: {} or {mfa_token}. */
void
handle_passkey_login_options(struct req *r)
{
	const char *t = r->arg[PK_MFA_TOKEN];
	char ch[TOKEN_B64_LEN + 1], uid[UUID_LEN + 1], th[65];
	struct json_object *pk, *allow = NULL;
	long retry;
	int rc = 1;

	if (!enabled(r))
		return;
	if (limit_login_ip(r, &retry)) { /* an address refused for failures */
		resp_rate_limited(r, retry);
		return;
	}
	if (t != NULL && (rc = mfa_ticket_user(t, th, uid)) == 1 &&
	    (allow = descriptors(uid)) == NULL)
		rc = -1;
	if (rc == 0) {
		resp_error(r, ERR_INVALID_TOKEN,
		    "Unknown or expired mfa_token");
		return;
	}
	if (rc == -1 ||
	    challenge_new(t ? "mfa" : "login", t ? uid : NULL, t ? th : NULL,
	        ch) == -1) {
		json_object_put(allow);
		resp_db_error(r);
		return;
	}
	pk = json_object_new_object();
	json_object_object_add(pk, "challenge", json_object_new_string(ch));
	json_object_object_add(pk, "rpId",
	    json_object_new_string(cfg.webauthn_rp_id));
	json_object_object_add(pk, "timeout", json_object_new_int(300000));
	json_object_object_add(pk, "userVerification",
	    json_object_new_string("required"));
	json_object_object_add(pk, "allowCredentials",
	    allow ? allow : json_object_new_array());
	answer_options(r, pk);
}

/* The checks of an assertion that need the passkey's row. */
struct assertion {
	char id[UUID_LEN + 1], uid[UUID_LEN + 1];
	EVP_PKEY *key;
	int alg;
	long long count;
};

/* The passkey of credential id cred: 1, 0 (unknown), -1 (Postgres). */
static int
passkey_of(const char *cred, struct assertion *as)
{
	const char *p[1] = { cred };
	PGresult *res;
	int n;

	if ((res = db_exec(&q_pk_by_cred, 1, p)) == NULL)
		return -1;
	if ((n = PQntuples(res)) == 1) {
		str_copy(as->id, sizeof(as->id), db_value(res, 0, "id"));
		str_copy(as->uid, sizeof(as->uid), db_value(res, 0, "user_id"));
		as->key = wa_key_from_der(db_value(res, 0, "public_key"));
		as->alg = atoi(db_value(res, 0, "alg"));
		as->count = atoll(db_value(res, 0, "sign_count"));
	}
	PQclear(res);
	return n == 1;
}

/*
 * Everything an assertion must pass before its user signs in: the
 * challenge (of this purpose, this user or ticket), client data, the
 * authenticator data, the user handle, the signature, the counter.
 * 0 with the authenticator data in *a, else -1 with *why.
 */
static int
assertion_check(struct req *r, struct json_object *c, struct assertion *as,
    const char *ticket, struct wa_auth_data *a, const char **why)
{
	unsigned char *cd = NULL, *ad = NULL, *sig = NULL, *uh = NULL;
	size_t cdlen = 0, adlen = 0, siglen = 0, uhlen = 0;
	char handle[32], got[32];
	struct wa_client cl;
	int rc = -1;

	*why = "credential is missing or malformed";
	if ((cd = response_bytes(c, "clientDataJSON", &cdlen)) == NULL ||
	    (ad = response_bytes(c, "authenticatorData", &adlen)) == NULL ||
	    (sig = response_bytes(c, "signature", &siglen)) == NULL ||
	    wa_client_data(cd, cdlen, "webauthn.get", &cl, why) == -1)
		goto out;
	if (challenge_take(cl.challenge_hash, ticket ? "mfa" : "login",
	        ticket ? as->uid : NULL, ticket) != 1) {
		*why = "the challenge is unknown, used or expired";
		goto out;
	}
	if (wa_auth_data(ad, adlen, 0, a, why) == -1)
		goto out;
	user_handle(as->uid, handle);
	if ((uh = response_bytes(c, "userHandle", &uhlen)) != NULL && uhlen) {
		b64url_encode(uh, uhlen, got, sizeof(got));
		if (strcmp(got, handle) != 0) {
			*why = "the user handle is not the passkey's user";
			goto out;
		}
	}
	*why = "the signature does not verify";
	if (!wa_verify(as->key, as->alg, ad, adlen, cl.hash, sig, siglen))
		goto out;
	*why = "the signature counter did not increase (a cloned passkey?)";
	if ((a->sign_count != 0 || as->count != 0) &&
	    (long long)a->sign_count <= as->count)
		goto out;
	rc = 0;
out:
	free(cd);
	free(ad);
	free(sig);
	free(uh);
	return rc;
}

/* A verified assertion: counter, ticket, and the session, in one go. */
static void
passkey_sign_in(struct req *r, const struct assertion *as,
    const struct wa_auth_data *a, const char *ticket)
{
	char count[16];
	const char *p[3] = { as->id, count, a->flags & WA_FLAG_BS ? "t" : "f" };
	const char *amr;
	struct user u;
	PGresult *res = NULL, *ures = NULL;
	int ok = 1;

	snprintf(count, sizeof(count), "%lu", (unsigned long)a->sign_count);
	if (db_begin() == -1 || (res = db_exec(&q_pk_used, 3, p)) == NULL ||
	    (ticket != NULL && (ok = mfa_ticket_spend(ticket)) == -1) ||
	    (ures = user_by_id(as->uid)) == NULL) {
		resp_db_error(r);
		goto out;
	}
	if (PQntuples(res) != 1 || (ticket != NULL && !ok) ||
	    user_read(ures, 0, &u) == -1) {
		db_rollback(); /* a concurrent use won the counter or ticket */
		resp_error(r, ERR_INVALID_CREDENTIALS, "Passkey refused");
		goto out;
	}
	if (cfg.require_verified_email && !u.email_verified) {
		db_rollback();
		resp_error(r, ERR_EMAIL_NOT_VERIFIED, NULL);
		goto out;
	}
	/* RFC 8176: a synced passkey is a software key, else hardware */
	if (ticket != NULL)
		amr = a->flags & WA_FLAG_BE ? "pwd swk mfa" : "pwd hwk mfa";
	else
		amr = a->flags & WA_FLAG_BE ? "swk user mfa" : "hwk user mfa";
	limit_mfa_clear(as->uid);
	tokens_sign_in(r, &u, amr, "login");
out:
	PQclear(res);
	PQclear(ures);
}

/* POST /auth/passkeys/login: {credential} (+ mfa_token as second factor) */
void
handle_passkey_login(struct req *r)
{
	const char *t = r->arg[PK_MFA_TOKEN], *id, *why = "unknown passkey";
	char th[65], tuid[UUID_LEN + 1];
	struct assertion as;
	struct wa_auth_data a = { 0 };
	struct json_object *c;
	long retry;
	int rc;

	memset(&as, 0, sizeof(as));
	if (!enabled(r))
		return;
	if (limit_login_ip(r, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	if ((c = credential(r, &id)) == NULL || id == NULL ||
	    (rc = passkey_of(id, &as)) == 0)
		goto refused;
	if (rc == -1 ||
	    (t != NULL && (rc = mfa_ticket_user(t, th, tuid)) == -1)) {
		resp_db_error(r);
		goto out;
	}
	if (t != NULL && (rc == 0 || strcmp(tuid, as.uid) != 0)) {
		resp_error(r, ERR_INVALID_TOKEN,
		    "Unknown or expired mfa_token");
		goto out;
	}
	req_set_who(r, as.uid);
	if (limit_mfa_over(r, as.uid, &retry)) {
		resp_rate_limited(r, retry);
		goto out;
	}
	if (assertion_check(r, c, &as, t ? th : NULL, &a, &why) == -1)
		goto refused;
	passkey_sign_in(r, &as, &a, t ? th : NULL);
	goto out;
refused:
	if (as.uid[0])
		limit_mfa_failed(r, as.uid);
	else
		limit_ip_failed(r);
	(void)audit_write(r, as.uid[0] ? as.uid : NULL, "passkey_login",
	    "refused");
	resp_error(r, ERR_INVALID_CREDENTIALS, why);
out:
	wa_auth_data_free(&a);
	EVP_PKEY_free(as.key);
}
