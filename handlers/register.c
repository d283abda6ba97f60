/* POST /auth/register: a new account, and its verification mail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "captcha.h"
#include "config.h"
#include "db.h"
#include "errors.h"
#include "outbox.h"
#include "password.h"
#include "ratelimit.h"
#include "routes.h"
#include "tokens.h"
#include "users.h"
#include "validate.h"

static struct db_stmt q_insert = DB_STMT("user_insert",
    "INSERT INTO users (username, email, password_hash, display_name) "
    "VALUES ($1, $2, $3, $4) RETURNING id");

/* Seed 004 registers with an email only: derive a free-form username. */
static int
derive_username(const char *email, char out[33])
{
	unsigned char rnd[3];
	size_t n = 0;
	const char *p;

	for (p = email; *p && *p != '@' && n < 24; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		    *p == '-')
			out[n++] = *p;
	if (n == 0)
		out[n++] = 'u';
	if (crypto_random(rnd, sizeof(rnd)) == -1)
		return -1;
	snprintf(out + n, 33 - n, "-%02x%02x%02x", rnd[0], rnd[1], rnd[2]);
	return 0;
}

/* Queue the verification link for a new user (in the caller's tx). */
static int
queue_verification(const char *uid, const char *email)
{
	static struct db_stmt q_verify_insert = DB_STMT("verify_insert",
	    "INSERT INTO email_verifications (token_hash, user_id, expires_at) "
	    "VALUES ($1, $2, now() + make_interval(secs => $3))");
	struct mail_vars mv = { { NULL } };
	char link[4200], hours[24];
	int rc = -1;

	snprintf(hours, sizeof(hours), "%ld", cfg.verify_ttl / 3600);
	mv.v[MV_LINK] = link;
	mv.v[MV_HOURS] = hours;
	if (link_issue(&q_verify_insert, uid, NULL, 0, cfg.verify_ttl,
	        cfg.email_verify_url, link, sizeof(link)) == 0)
		rc = mail_send(MAIL_EMAIL_VERIFY, email, &mv);
	crypto_wipe(link, sizeof(link));
	return rc;
}

/* ?sendEmail=true|false|1|0 (default true): 1, 0, or -1 with the 400. */
static int
send_email(struct req *r)
{
	char v[8];
	int q;

	if ((q = req_query(r->query, "sendEmail", v, sizeof(v))) == 0)
		return 1;
	if (q == 1 && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
		return 1;
	if (q == 1 && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0))
		return 0;
	resp_field_error(r, "sendEmail",
	    "Query parameter 'sendEmail' must be true or false");
	return -1;
}

/*
 * The registration code: 1 when it proves the address (it is then
 * verified at once), 0 when absent or not required and wrong, -1 with the
 * answer written. Checked after the limits, so guessing it is limited.
 */
static int
captcha_proof(struct req *r, const char *email)
{
	const char *code = r->arg[REG_CAPTCHA];
	int rc;

	if (cfg.require_captcha && code == NULL) {
		resp_field_error(r, "captcha",
		    "Field 'captcha' is required: "
		    "request a code with POST /auth/captcha");
		return -1;
	}
	if (code == NULL || (!cfg.require_captcha && strlen(code) != 6))
		return 0;
	if ((rc = captcha_check(email, code)) == -1)
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
	else if (rc == 0 && cfg.require_captcha) {
		resp_field_error(r, "captcha",
		    "Field 'captcha' is wrong or expired");
		rc = -1;
	}
	return rc;
}

/*
 * In one transaction: the user, its verification (or the code's proof),
 * the audit row. Writes the answer: 201, 409, or the database's error.
 */
static void
create(struct req *r, const char *username, const char *hash, int verified,
    int send)
{
	const char *email = r->arg[REG_EMAIL], *dn = r->arg[REG_DISPLAY_NAME];
	const char *p[4] = { username, email, hash, dn ? dn : "" };
	struct json_object *o;
	PGresult *res;
	const char *uid;

	if (db_begin() == -1) {
		resp_db_error(r);
		return;
	}
	if ((res = db_exec(&q_insert, 4, p)) == NULL) {
		if (strcmp(db_sqlstate(), "23505") != 0) {
			resp_db_error(r);
			return;
		}
		db_rollback();
		resp_error(r,
		    strcmp(db_constraint(), "users_email_key") == 0 ?
		        ERR_EMAIL_TAKEN :
		        ERR_USERNAME_TAKEN,
		    NULL);
		return;
	}
	uid = PQgetvalue(res, 0, 0);
	if ((verified && user_set_verified(uid) == -1) ||
	    (!verified && send && queue_verification(uid, email) == -1) ||
	    audit_write(r, uid, "register", "success") == -1 ||
	    db_commit() == -1) {
		PQclear(res);
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("registered"));
	json_object_object_add(o, "user_id", json_object_new_string(uid));
	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "email_verified",
	    json_object_new_boolean(verified));
	resp_json(r, 201, o);
	PQclear(res);
}

void
handle_register(struct req *r)
{
	const char *email = r->arg[REG_EMAIL], *username = r->arg[REG_USERNAME];
	char derived[33], canon[CANON_MAX + 1], *hash;
	const char *why;
	int send, verified;
	long retry;

	if ((send = send_email(r)) == -1)
		return;
	if (username == NULL) {
		if (derive_username(email, derived) == -1) {
			resp_error(r, ERR_INTERNAL, NULL);
			return;
		}
		username = derived;
	}
	if (pw_check_rules(r->arg[REG_PASSWORD], username, email, &why) == -1) {
		resp_error(r, ERR_WEAK_PASSWORD, why);
		return;
	}
	canon_ident(email, canon, sizeof(canon));
	if (rl_hit("register-ip", r->remote_addr, cfg.rl_register_ip,
	        cfg.rl_window, &retry) ||
	    rl_hit("register-email", canon, cfg.rl_register_email,
	        cfg.rl_window, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	if ((verified = captcha_proof(r, email)) == -1)
		return;
	if ((hash = pw_hash(r->arg[REG_PASSWORD])) == NULL) {
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	create(r, username, hash, verified, send);
	pw_hash_free(hash);
}
