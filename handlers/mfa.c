/*
 * Second factors: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s, one step
 * either way) with ten single-use recovery codes, and the login step
 * between the password and the session.
 *
 * The secret is sealed under the data key (DK_TOTP, the user id as
 * associated data); recovery codes are kept as HMAC-SHA256 under another
 * subkey, the login's mfa_token as SHA-256. A code is accepted once: the
 * last accepted time step is kept and a code must be of a later one,
 * which one conditional UPDATE decides. Wrong codes are limited like
 * failed logins, per address (the logins' bucket) and per account (a
 * bucket of their own, which the right password does not clear), and a
 * ticket dies after five.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <qrencode.h>

#include "audit.h"
#include "authn.h"
#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "db.h"
#include "errors.h"
#include "login_limits.h"
#include "mfa.h"
#include "outbox.h"
#include "password.h"
#include "ratelimit.h"
#include "routes.h"
#include "session.h"
#include "tokens.h"
#include "users.h"
#include "validate.h"

#define PERIOD       30
#define SECRET_BYTES 20
#define RECOVERY_N   10
#define RECOVERY_LEN 10 /* characters of a code, without its dash */
#define TICKET_TTL   "300"
#define AMR_MFA      "pwd otp mfa"
#define MFA_TOTP     1
#define MFA_PASSKEY  2

static struct db_stmt q_totp_get = DB_STMT("totp_get",
    "SELECT secret_sealed, confirmed_at IS NOT NULL AS active, last_step "
    "FROM mfa_totp WHERE user_id = $1");
static struct db_stmt q_totp_put = DB_STMT("totp_put",
    "INSERT INTO mfa_totp (user_id, secret_sealed) VALUES ($1, $2) "
    "ON CONFLICT (user_id) DO UPDATE SET secret_sealed = "
    "EXCLUDED.secret_sealed, created_at = now(), last_step = 0 "
    "WHERE mfa_totp.confirmed_at IS NULL RETURNING user_id");
static struct db_stmt q_totp_confirm = DB_STMT("totp_confirm",
    "UPDATE mfa_totp SET confirmed_at = now(), last_step = $2 "
    "WHERE user_id = $1 AND confirmed_at IS NULL AND last_step < $2 "
    "RETURNING user_id");
static struct db_stmt q_totp_step = DB_STMT("totp_step",
    "UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND "
    "confirmed_at IS NOT NULL AND last_step < $2 RETURNING user_id");
static struct db_stmt q_totp_del = DB_STMT("totp_del",
    "DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL "
    "RETURNING user_id");
static struct db_stmt q_rc_clear = DB_STMT("recovery_clear",
    "DELETE FROM mfa_recovery_codes WHERE user_id = $1");
static struct db_stmt q_rc_add = DB_STMT("recovery_add",
    "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)");
static struct db_stmt q_rc_use = DB_STMT("recovery_use",
    "UPDATE mfa_recovery_codes SET used_at = now() WHERE user_id = $1 AND "
    "code_hash = $2 AND used_at IS NULL RETURNING user_id");
static struct db_stmt q_ticket_new = DB_STMT("mfa_ticket_new",
    "INSERT INTO mfa_tickets (token_hash, user_id, expires_at) VALUES "
    "($1, $2, now() + make_interval(secs => $3::int))");
static struct db_stmt q_ticket_gc = DB_STMT("mfa_ticket_gc",
    "DELETE FROM mfa_tickets WHERE expires_at < now() - interval '1 hour'");
static struct db_stmt q_ticket_get = DB_STMT("mfa_ticket_get",
    "SELECT user_id FROM mfa_tickets WHERE token_hash = $1 AND used_at IS "
    "NULL AND expires_at > now() AND failures < 5 FOR UPDATE");
static struct db_stmt q_ticket_peek = DB_STMT("mfa_ticket_peek",
    "SELECT user_id FROM mfa_tickets WHERE token_hash = $1 AND used_at IS "
    "NULL AND expires_at > now() AND failures < 5");
static struct db_stmt q_ticket_fail = DB_STMT("mfa_ticket_fail",
    "UPDATE mfa_tickets SET failures = failures + 1 WHERE token_hash = $1");
static struct db_stmt q_ticket_use = DB_STMT("mfa_ticket_use",
    "UPDATE mfa_tickets SET used_at = now() WHERE token_hash = $1 AND "
    "used_at IS NULL RETURNING user_id");

static struct db_stmt q_factors = DB_STMT("mfa_factors",
    "SELECT coalesce((SELECT confirmed_at IS NOT NULL FROM mfa_totp WHERE "
    "user_id = $1), false) AS totp, (SELECT count(*) FROM passkeys WHERE "
    "user_id = $1) AS passkeys");

/*
 * The second factors of user uid (MFA_TOTP, MFA_PASSKEY), 0 for none,
 * -1 when Postgres failed.
 */
static int
factors(const char *uid)
{
	const char *p[1] = { uid };
	PGresult *res;
	int f;

	if ((res = db_exec(&q_factors, 1, p)) == NULL)
		return -1;
	f = (*db_value(res, 0, "totp") == 't' ? MFA_TOTP : 0) |
	    (atoi(db_value(res, 0, "passkeys")) > 0 ? MFA_PASSKEY : 0);
	PQclear(res);
	return f;
}

/*
 * The second factors of user uid, for login: a non-zero set (for
 * mfa_challenge), 0 for none, -1 when Postgres failed.
 */
int
mfa_enabled(const char *uid)
{
	return factors(uid);
}

/* Does user uid have TOTP on? 1, 0, -1. */
int
mfa_totp_on(const char *uid)
{
	int f = factors(uid);

	return f == -1 ? -1 : (f & MFA_TOTP) != 0;
}

/* The ticket of an mfa_token: 1 with its hash and user, 0, or -1. */
int
mfa_ticket_user(const char *t, char hash[65], char *uid)
{
	const char *p[1] = { hash };
	PGresult *res;
	int ok;

	if (strlen(t) != TOKEN_B64_LEN ||
	    strspn(t, B64URL_CHARS) != TOKEN_B64_LEN)
		return 0;
	crypto_sha256_hex(t, strlen(t), hash);
	if ((res = db_exec(&q_ticket_peek, 1, p)) == NULL)
		return -1;
	if ((ok = PQntuples(res) == 1))
		str_copy(uid, UUID_LEN + 1, db_value(res, 0, "user_id"));
	PQclear(res);
	return ok;
}

/* Spend the ticket of hash in the caller's transaction: 1, 0, or -1. */
int
mfa_ticket_spend(const char *hash)
{
	const char *p[1] = { hash };
	PGresult *res;
	int n;

	if ((res = db_exec(&q_ticket_use, 1, p)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n == 1;
}

static struct db_stmt q_status = DB_STMT("mfa_status",
    "SELECT (SELECT confirmed_at IS NOT NULL FROM mfa_totp WHERE user_id = "
    "$1) AS totp, (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = "
    "$1 AND used_at IS NULL) AS codes, (SELECT count(*) FROM passkeys "
    "WHERE user_id = $1) AS passkeys");

/* GET /auth/mfa: the caller's second factors. */
void
handle_mfa_status(struct req *r)
{
	const char *p[1] = { auth_of(r)->uid }, *t;
	struct json_object *o, *m;
	PGresult *res;
	int on;

	if ((res = db_exec(&q_status, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	t = db_value(res, 0, "totp");
	on = *t == 't';
	o = json_object_new_object();
	json_object_object_add(o, "totp", json_object_new_boolean(on));
	json_object_object_add(o, "totp_pending",
	    json_object_new_boolean(*t == 'f'));
	json_object_object_add(o, "recovery_codes_remaining",
	    json_object_new_int(on ? atoi(db_value(res, 0, "codes")) : 0));
	json_object_object_add(o, "passkeys",
	    json_object_new_int(atoi(db_value(res, 0, "passkeys"))));
	m = json_object_new_array();
	if (on) {
		json_object_array_add(m, json_object_new_string("totp"));
		json_object_array_add(m,
		    json_object_new_string("recovery_code"));
	}
	if (atoi(db_value(res, 0, "passkeys")) > 0)
		json_object_array_add(m, json_object_new_string("passkey"));
	json_object_object_add(o, "methods", m);
	PQclear(res);
	resp_json(r, 200, o);
}

/* The secret's bytes from its sealed form (hex inside); 0 or -1. */
static int
secret_open(const char *uid, const char *sealed,
    unsigned char key[SECRET_BYTES])
{
	char *hex;
	int i, hi, lo, rc = -1;

	if ((hex = datakey_open(DK_TOTP, uid, sealed)) == NULL)
		return -1;
	if (strlen(hex) == 2 * SECRET_BYTES) {
		for (i = 0, rc = 0; i < SECRET_BYTES && rc == 0; i++) {
			hi = hexval(hex[2 * i]);
			lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				rc = -1;
			else
				key[i] = (unsigned char)(hi << 4 | lo);
		}
	}
	crypto_wipe(hex, strlen(hex));
	free(hex);
	return rc;
}

/*
 * Is code right for the time step before, at or after now's, and of a
 * step later than last? 1 with that step in *step, else 0.
 */
static int
totp_match(const unsigned char key[SECRET_BYTES], const char *code,
    long long last, long long *step)
{
	long long now = (long long)time(NULL) / PERIOD, t;
	char want[7];
	int hit = 0;

	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return 0;
	for (t = now - 1; t <= now + 1; t++) /* no early exit: same time */
		if (crypto_hotp(key, SECRET_BYTES, (unsigned long long)t,
		        want) == 0 &&
		    crypto_ct_equal(want, code, 6) && t > last && !hit) {
			hit = 1;
			*step = t;
		}
	crypto_wipe(want, sizeof(want));
	return hit;
}

/*
 * Check a TOTP code of uid's secret (confirmed, or waiting for it) inside
 * the caller's transaction, and spend its step with q (q_totp_step or
 * q_totp_confirm). 1 accepted, 0 wrong (or replayed), -1 Postgres.
 */
static int
totp_spend(const char *uid, const char *code, int want_active,
    struct db_stmt *q)
{
	unsigned char key[SECRET_BYTES];
	const char *p[2];
	char stepbuf[24];
	long long step = 0;
	PGresult *res;
	int ok;

	p[0] = uid;
	if ((res = db_exec(&q_totp_get, 1, p)) == NULL)
		return -1;
	ok = PQntuples(res) == 1 &&
	    (*db_value(res, 0, "active") == 't') == want_active &&
	    secret_open(uid, db_value(res, 0, "secret_sealed"), key) == 0 &&
	    totp_match(key, code, atoll(db_value(res, 0, "last_step")), &step);
	PQclear(res);
	crypto_wipe(key, sizeof(key));
	if (!ok)
		return 0;
	snprintf(stepbuf, sizeof(stepbuf), "%lld", step);
	p[1] = stepbuf;
	if ((res = db_exec(q, 2, p)) == NULL)
		return -1;
	ok = PQntuples(res) == 1; /* 0: a concurrent use took the step */
	PQclear(res);
	return ok;
}

/* A recovery code in canonical form (lower case, no dash or space). */
static int
recovery_canon(const char *in, char out[RECOVERY_LEN + 1])
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t n = 0;

	for (; *in; in++) {
		char c =
		    *in >= 'A' && *in <= 'Z' ? (char)(*in - 'A' + 'a') : *in;

		if (c == '-' || c == ' ')
			continue;
		if (n == RECOVERY_LEN || strchr(alpha, c) == NULL || c == '\0')
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == RECOVERY_LEN ? 0 : -1;
}

/* HMAC-SHA256 (recovery subkey) of uid's canonical code, hex. */
static void
recovery_hash(const char *uid, const char *canon, char out[65])
{
	char msg[UUID_LEN + RECOVERY_LEN + 2];

	snprintf(msg, sizeof(msg), "%s:%s", uid, canon);
	datakey_mac_hex(DK_RECOVERY, msg, out);
	crypto_wipe(msg, sizeof(msg));
}

/*
 * In the caller's transaction: ten new recovery codes for uid (the old
 * ones go), as "xxxxx-xxxxx" strings in a JSON array; NULL on failure.
 */
static struct json_object *
recovery_new(const char *uid)
{
	unsigned char raw[RECOVERY_N][7];
	char b32[16], canon[RECOVERY_LEN + 1], shown[RECOVERY_LEN + 2], h[65];
	const char *p[2] = { uid, h };
	struct json_object *codes;
	int i;

	if (db_run(&q_rc_clear, 1, p) == -1 ||
	    crypto_random(raw, sizeof(raw)) == -1 ||
	    (codes = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < RECOVERY_N; i++) {
		b32_encode(raw[i], 7, b32, sizeof(b32)); /* 56 bits, 12 chars */
		for (int j = 0; j < RECOVERY_LEN; j++)
			canon[j] = (char)(b32[j] >= 'A' && b32[j] <= 'Z' ?
			        b32[j] - 'A' + 'a' :
			        b32[j]);
		canon[RECOVERY_LEN] = '\0';
		recovery_hash(uid, canon, h);
		snprintf(shown, sizeof(shown), "%.5s-%.5s", canon, canon + 5);
		if (db_run(&q_rc_add, 2, p) == -1) {
			json_object_put(codes);
			codes = NULL;
			break;
		}
		json_object_array_add(codes, json_object_new_string(shown));
	}
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(canon, sizeof(canon));
	crypto_wipe(shown, sizeof(shown));
	return codes;
}

static void
refused_code(struct req *r, const char *uid, const char *event)
{
	limit_mfa_failed(r, uid);
	(void)audit_write(r, uid, event, "wrong_code");
	resp_error(r, ERR_INVALID_CREDENTIALS, "The code is not correct");
}

/*
 * text as a QR code (libqrencode, error correction M): a small SVG
 * document, one square per dark module, with a four-module quiet zone.
 * The hosted account page shows it as an image. malloc'd, or NULL.
 */
static char *
qr_svg(const char *text)
{
	QRcode *q;
	char *out;
	size_t cap, n;
	int x, y, k, w;

	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) ==
	    NULL)
		return NULL;
	w = q->width;
	cap = 256 + (size_t)w * (size_t)w * 20;
	if ((out = malloc(cap)) == NULL) {
		QRcode_free(q);
		return NULL;
	}
	k = snprintf(out, cap,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\"><rect width=\"100%%\" "
	    "height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    w + 8, w + 8);
	n = k > 0 ? (size_t)k : cap;
	for (y = 0; y < w && n < cap; y++)
		for (x = 0; x < w && n < cap; x++)
			if (q->data[y * w + x] & 1) {
				k = snprintf(out + n, cap - n, "M%d %dh1v1h-1z",
				    x + 4, y + 4);
				n = k > 0 ? n + (size_t)k : cap;
			}
	if (n < cap)
		k = snprintf(out + n, cap - n, "\"/></svg>");
	QRcode_free(q);
	if (n >= cap || k < 0 || n + (size_t)k >= cap) {
		free(out);
		return NULL;
	}
	return out;
}

/* POST /auth/mfa/totp: a new secret, not active until confirmed. */
void
handle_totp_setup(struct req *r)
{
	const char *uid = auth_of(r)->uid;
	unsigned char key[SECRET_BYTES];
	char hex[2 * SECRET_BYTES + 1], b32[40], uri[1024], who[3 * 72 + 1],
	    iss[3 * 128 + 1], *sealed = NULL, *svg;
	const char *p[2] = { uid, NULL };
	struct json_object *o;
	PGresult *res = NULL;
	int i;

	if (reauthenticate(r, r->arg[MFA_PASSWORD], "mfa_totp_setup") == -1)
		return;
	if (crypto_random(key, sizeof(key)) == -1)
		goto fail;
	for (i = 0; i < SECRET_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	if ((p[1] = sealed = datakey_seal(DK_TOTP, uid, hex)) == NULL ||
	    db_begin() == -1 || (res = db_exec(&q_totp_put, 2, p)) == NULL)
		goto fail;
	if (PQntuples(res) != 1) {
		db_rollback();
		resp_error(r, ERR_INVALID_REQUEST,
		    "A second factor is already active: remove it first");
		goto out;
	}
	/* the secret and its audit row, or neither */
	if (audit_write(r, uid, "mfa_totp_setup", "success") == -1 ||
	    db_commit() == -1)
		goto fail;
	b32_encode(key, sizeof(key), b32, sizeof(b32));
	if (url_encode(cfg.issuer, iss, sizeof(iss), "-._~") == -1 ||
	    url_encode(auth_of(r)->sess.username, who, sizeof(who), "-._~") ==
	        -1)
		goto fail;
	i = snprintf(uri, sizeof(uri),
	    "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&"
	    "digits=6&period=30",
	    iss, who, b32, iss);
	if (i < 0 || (size_t)i >= sizeof(uri))
		goto fail;
	o = json_object_new_object();
	json_object_object_add(o, "secret", json_object_new_string(b32));
	json_object_object_add(o, "otpauth_uri", json_object_new_string(uri));
	json_object_object_add(o, "digits", json_object_new_int(6));
	json_object_object_add(o, "period", json_object_new_int(PERIOD));
	json_object_object_add(o, "algorithm", json_object_new_string("SHA1"));
	if ((svg = qr_svg(uri)) != NULL) { /* the page's; the URI says it all */
		json_object_object_add(o, "qr_svg",
		    json_object_new_string(svg));
		crypto_wipe(svg, strlen(svg));
		free(svg);
	}
	r->no_store = 1;
	resp_json(r, 200, o);
	goto out;
fail:
	resp_db_error(r);
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(hex, sizeof(hex));
	crypto_wipe(b32, sizeof(b32));
	crypto_wipe(uri, sizeof(uri));
	free(sealed);
	PQclear(res);
}

/*
 * End a transaction that changed the second factor: the user's other
 * sessions are revoked (tombstones first), the audit row, COMMIT; then
 * answer o (or {"ok":true,...} when o is NULL).
 */
static void
factor_changed(struct req *r, const char *event, enum mail_kind k,
    struct json_object *o)
{
	struct auth *a = auth_of(r);
	PGresult *rev;

	if (mfa_notice(r, k, "an authenticator app (TOTP)") == -1 ||
	    (rev = session_revoke(REVOKE_OTHERS, a->uid, a->sid, event)) ==
	        NULL) {
		json_object_put(o);
		resp_db_error(r);
		return;
	}
	if (session_revoke_commit(r, rev, a->uid, event) == 0) {
		if (o == NULL) {
			o = json_object_new_object();
			json_object_object_add(o, "ok",
			    json_object_new_boolean(1));
		}
		json_object_object_add(o, "revoked",
		    json_object_new_int(PQntuples(rev)));
		r->no_store = 1;
		resp_json(r, 200, o);
	} else
		json_object_put(o);
	PQclear(rev);
}

/*
 * In the caller's transaction: the security notice that a second factor
 * of the signed-in user was added or removed (k).
 */
int
mfa_notice(struct req *r, enum mail_kind k, const char *factor)
{
	struct auth *a = auth_of(r);
	struct mail_vars mv = { { NULL } };

	mv.v[MV_USERNAME] = a->sess.username;
	mv.v[MV_FACTOR] = factor;
	return mail_notice(r, k, a->sess.email, &mv);
}

/*
 * POST /auth/mfa/totp/confirm (a code of the new secret: it becomes the
 * second factor, with ten recovery codes) and POST
 * /auth/mfa/recovery-codes (a code of the active secret: ten new codes).
 */
static void
codes_for_code(struct req *r, int confirm)
{
	const char *uid = auth_of(r)->uid;
	const char *event = confirm ? "mfa_totp_enabled" : "mfa_recovery_new";
	struct json_object *codes, *o;
	long retry;
	int rc;

	if (limit_mfa_over(r, uid, &retry)) {
		(void)audit_write(r, uid, event, "rate_limited");
		resp_rate_limited(r, retry);
		return;
	}
	if (db_begin() == -1 ||
	    (rc = totp_spend(uid, r->arg[MFA_CODE], confirm ? 0 : 1,
	         confirm ? &q_totp_confirm : &q_totp_step)) == -1) {
		resp_db_error(r);
		return;
	}
	if (rc == 0) {
		db_rollback();
		if (confirm && mfa_totp_on(uid) == 1)
			resp_error(r, ERR_INVALID_REQUEST,
			    "The second factor is already active");
		else
			refused_code(r, uid, event);
		return;
	}
	if ((codes = recovery_new(uid)) == NULL) {
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "recovery_codes", codes);
	if (confirm)
		factor_changed(r, event, MAIL_FACTOR_ADDED, o);
	else if (audit_write(r, uid, event, "success") == -1 ||
	    db_commit() == -1) {
		json_object_put(o);
		resp_db_error(r);
	} else {
		r->no_store = 1;
		resp_json(r, 200, o);
	}
}

void
handle_totp_confirm(struct req *r)
{
	codes_for_code(r, 1);
}

void
handle_recovery_codes(struct req *r)
{
	codes_for_code(r, 0);
}

/* DELETE /auth/mfa/totp: the password again; the recovery codes go too. */
void
handle_totp_disable(struct req *r)
{
	const char *p[1] = { auth_of(r)->uid };
	PGresult *res;
	int n;

	if (reauthenticate(r, r->arg[MFA_PASSWORD], "mfa_totp_disabled") == -1)
		return;
	if (db_begin() == -1 || (res = db_exec(&q_totp_del, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		db_rollback();
		resp_error(r, ERR_INVALID_REQUEST,
		    "No second factor is active");
		return;
	}
	if (db_run(&q_rc_clear, 1, p) == -1) {
		resp_db_error(r);
		return;
	}
	factor_changed(r, "mfa_totp_disabled", MAIL_FACTOR_REMOVED, NULL);
}

/*
 * Login of an account with second factors f (mfa_enabled), after its
 * password: in the caller's open transaction, a ticket for it, then 403
 * mfa_required with the ticket (mfa_token) and the methods it has.
 */
void
mfa_challenge(struct req *r, const struct user *u, int f)
{
	char token[TOKEN_B64_LEN + 1], hash[65];
	unsigned char raw[TOKEN_BYTES];
	const char *p[3] = { hash, u->id, TICKET_TTL };
	struct json_object *x, *m;

	if (crypto_token(token, raw) == -1) {
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	crypto_wipe(raw, sizeof(raw));
	crypto_sha256_hex(token, strlen(token), hash);
	if (db_run(&q_ticket_gc, 0, NULL) == -1 ||
	    db_run(&q_ticket_new, 3, p) == -1 ||
	    audit_write(r, u->id, "login", "mfa_required") == -1 ||
	    db_commit() == -1) {
		crypto_wipe(token, sizeof(token));
		resp_db_error(r);
		return;
	}
	x = json_object_new_object();
	json_object_object_add(x, "mfa_token", json_object_new_string(token));
	m = json_object_new_array();
	if (f & MFA_TOTP) {
		json_object_array_add(m, json_object_new_string("totp"));
		json_object_array_add(m,
		    json_object_new_string("recovery_code"));
	}
	if (f & MFA_PASSKEY)
		json_object_array_add(m, json_object_new_string("passkey"));
	json_object_object_add(x, "methods", m);
	crypto_wipe(token, sizeof(token));
	r->no_store = 1;
	req_set_who(r, u->id);
	resp_error_extra(r, ERR_MFA_REQUIRED,
	    "A second factor is required: POST /auth/mfa/verify", x);
}

/*
 * A TOTP code, else a recovery code, of user uid, spent in the caller's
 * transaction: 1 right, 0 wrong, -1 Postgres.
 */
static int
code_spend(const char *uid, const char *totp, const char *recovery)
{
	char canon[RECOVERY_LEN + 1], h[65];
	const char *p[2] = { uid, h };
	PGresult *res;
	int ok;

	if (totp != NULL && *totp &&
	    (ok = totp_spend(uid, totp, 1, &q_totp_step)) != 0)
		return ok;
	if (recovery == NULL || recovery_canon(recovery, canon) == -1)
		return 0;
	recovery_hash(uid, canon, h);
	crypto_wipe(canon, sizeof(canon));
	if ((res = db_exec(&q_rc_use, 2, p)) == NULL)
		return -1;
	ok = PQntuples(res) == 1;
	PQclear(res);
	return ok;
}

/* The second factor of a ticket's user: 1 right, 0 wrong, -1 Postgres. */
static int
second_factor(struct req *r, const char *uid)
{
	const char *code = r->arg[MFA_V_CODE];

	if (code != NULL && *code)
		return code_spend(uid, code, NULL);
	return code_spend(uid, NULL, r->arg[MFA_V_RECOVERY]);
}

/*
 * A code for an action of the signed-in user (account deletion, email
 * change): a TOTP code or a recovery code, spent in the caller's
 * transaction. 1 right, 0 wrong, -1 Postgres; wrong ones count against
 * the same limit as wrong codes at login.
 */
int
mfa_code_ok(struct req *r, const char *uid, const char *code)
{
	long retry;
	int ok;

	if (code == NULL || limit_mfa_over(r, uid, &retry))
		return 0;
	if ((ok = code_spend(uid, code, code)) == 0)
		limit_mfa_failed(r, uid);
	return ok;
}

/* A right second factor: the ticket is spent and the session made. */
static void
verified(struct req *r, const char *uid, const char *hash)
{
	const char *p[1] = { hash };
	struct user u;
	PGresult *res, *ures = NULL;

	if ((res = db_exec(&q_ticket_use, 1, p)) == NULL ||
	    (ures = user_by_id(uid)) == NULL) {
		PQclear(res);
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1 || user_read(ures, 0, &u) == -1) {
		db_rollback();
		resp_error(r, ERR_INVALID_TOKEN, NULL);
	} else {
		limit_mfa_clear(uid);
		tokens_sign_in(r, &u, AMR_MFA, "login");
	}
	PQclear(res);
	PQclear(ures);
}

/* POST /auth/mfa/verify: {mfa_token, code | recovery_code}. */
void
handle_mfa_verify(struct req *r)
{
	const char *t = r->arg[MFA_V_TOKEN] ? r->arg[MFA_V_TOKEN] : "";
	char hash[65], uid[UUID_LEN + 1];
	const char *p[1] = { hash };
	PGresult *res;
	long retry;
	int ok;

	if (strlen(t) != TOKEN_B64_LEN ||
	    strspn(t, B64URL_CHARS) != TOKEN_B64_LEN) {
		resp_error(r, ERR_INVALID_TOKEN,
		    "Unknown or expired mfa_token");
		return;
	}
	if (limit_login_ip(r, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	crypto_sha256_hex(t, strlen(t), hash);
	if (db_begin() == -1 || (res = db_exec(&q_ticket_get, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	ok = PQntuples(res) == 1;
	if (ok)
		str_copy(uid, sizeof(uid), db_value(res, 0, "user_id"));
	PQclear(res);
	if (!ok) {
		db_rollback();
		resp_error(r, ERR_INVALID_TOKEN,
		    "Unknown or expired mfa_token");
		return;
	}
	req_set_who(r, uid);
	if (limit_mfa_over(r, uid, &retry)) {
		db_rollback();
		(void)audit_write(r, uid, "mfa_verify", "rate_limited");
		resp_rate_limited(r, retry);
		return;
	}
	if ((ok = second_factor(r, uid)) == 1)
		verified(r, uid, hash);
	else if (ok == -1)
		resp_db_error(r);
	else if (db_run(&q_ticket_fail, 1, p) == -1 || db_commit() == -1)
		resp_db_error(r);
	else
		refused_code(r, uid, "mfa_verify");
}

static struct db_stmt q_reset_user = DB_STMT("mfa_reset_user",
    "SELECT email, username FROM users WHERE id = $1 FOR UPDATE");
static struct db_stmt q_reset[] = {
	DB_STMT("mfa_reset_totp", "DELETE FROM mfa_totp WHERE user_id = $1"),
	DB_STMT("mfa_reset_codes",
	    "DELETE FROM mfa_recovery_codes WHERE user_id = $1"),
	DB_STMT("mfa_reset_passkeys",
	    "DELETE FROM passkeys WHERE user_id = $1"),
	DB_STMT("mfa_reset_tickets",
	    "DELETE FROM mfa_tickets WHERE user_id = $1"),
};

/*
 * A reset of user uid's second factors (an admin's DELETE
 * /admin/users/{id}/mfa, the operator's fcgi-auth user reset-mfa): TOTP,
 * recovery codes, passkeys and waiting login tickets go, every session
 * of the user ends (tombstones first), the user is told, one audit row
 * naming actor. r NULL: the command line. 0, 1 when there is no such
 * user, -1 on failure (nothing changed).
 */
int
mfa_reset_user(struct req *r, const char *uid, const char *actor)
{
	const char *p[1] = { uid };
	struct mail_vars mv = { { NULL } };
	char email[256], name[72];
	PGresult *res, *rev;
	size_t i;
	int n;

	if (db_begin() == -1 || (res = db_exec(&q_reset_user, 1, p)) == NULL)
		goto fail;
	if ((n = PQntuples(res)) == 1) {
		str_copy(email, sizeof(email), db_value(res, 0, "email"));
		str_copy(name, sizeof(name), db_value(res, 0, "username"));
	}
	PQclear(res);
	if (n != 1) {
		db_rollback();
		return 1;
	}
	mv.v[MV_USERNAME] = name;
	mv.v[MV_FACTOR] = "every second factor, reset by an administrator";
	for (i = 0; i < sizeof(q_reset) / sizeof(q_reset[0]); i++)
		if (db_run(&q_reset[i], 1, p) == -1)
			goto fail;
	if (mail_notice(r, MAIL_FACTOR_REMOVED, email, &mv) == -1 ||
	    (rev = session_revoke(REVOKE_USER, uid, NULL, "mfa_reset")) == NULL)
		goto fail;
	n = session_revoke_commit_by(r, rev, uid, actor, "mfa_reset");
	PQclear(rev);
	return n;
fail:
	db_rollback();
	return -1;
}
