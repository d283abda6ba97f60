/*
 * Password reset by emailed link (seed 001), and email verification.
 * Tokens are 256-bit random, only their SHA-256 is stored, and they are
 * consumed by one conditional UPDATE, so a token works exactly once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

static const char reset_msg[] =
    "if the account exists, a reset link has been sent";

/*
 * Known and unknown emails must take the same time. The known branch
 * does a little more database work (token, UPDATE, outbox INSERT), so
 * every answer is held until a fixed floor has passed since the request
 * started; both branches finish well inside it.
 */
#define RESET_FLOOR_NS	(20 * 1000 * 1000L)

static void
time_floor(const struct req *r)
{
	struct timespec now, d;
	long elapsed;

	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (now.tv_sec - r->start.tv_sec) * 1000000000L +
	    (now.tv_nsec - r->start.tv_nsec);
	if (elapsed >= RESET_FLOOR_NS)
		return;
	d.tv_sec = 0;
	d.tv_nsec = RESET_FLOOR_NS - elapsed;
	while (nanosleep(&d, &d) == -1)
		;
}

void
handle_password_reset(struct req *r)
{
	const char *email = NULL, *username = NULL, *p[3];
	char token[TOKEN_B64_LEN + 1], hash[65], ttl[24], link[4200];
	char body[4600], canon[CANON_MAX + 1];
	unsigned char raw[TOKEN_BYTES];
	struct json_object *o;
	PGresult *u = NULL, *q;
	long retry;
	int known;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str(r, "email", 320, &email) == JF_BAD ||
	    json_str(r, "username", 64, &username) == JF_BAD)
		return;
	if (email == NULL || !valid_email(email)) {
		resp_field_error(r, "email", "Field 'email' must be a valid "
		    "email address");
		return;
	}
	/* Per email: the canonical address, however it is spelled. */
	canon_ident(email, canon, sizeof(canon));
	if (rl_hit("reset-ip", r->remote_addr, cfg.rl_reset_ip, cfg.rl_window,
	    &retry) || rl_hit("reset-email", canon, cfg.rl_reset_email,
	    cfg.rl_window, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	p[0] = email;
	if ((u = db_exec(Q_USER_BY_EMAIL, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	known = PQntuples(u) == 1 && (username == NULL ||
	    strcasecmp(username, PQgetvalue(u, 0, 1)) == 0);
	/* Both branches do one small transaction, so they cost the same. */
	if (db_begin() == -1) {
		resp_db_error(r);
		goto out;
	}
	if (known) {
		if (crypto_token(token, raw) == -1 || mail_link(link,
		    sizeof(link), cfg.reset_password_url, token) == -1) {
			resp_error(r, ERR_INTERNAL, NULL);
			goto out;
		}
		crypto_sha256_hex(token, strlen(token), hash);
		snprintf(ttl, sizeof(ttl), "%ld", cfg.reset_ttl);
		p[0] = PQgetvalue(u, 0, 0);
		p[1] = hash;
		p[2] = ttl;
		if ((q = db_exec(Q_RESET_SET, 3, p)) == NULL) {
			resp_db_error(r);
			goto out;
		}
		PQclear(q);
		snprintf(body, sizeof(body), "Someone (hopefully you) asked to "
		    "reset the password of the account %s.\n\nSet a new "
		    "password here (the link works once, for %ld minutes):\n\n"
		    "%s\n\nIf you did not ask for this, ignore this message; "
		    "your password is unchanged.\n", PQgetvalue(u, 0, 1),
		    cfg.reset_ttl / 60, link);
		if (mail_queue("password_reset", PQgetvalue(u, 0, 2),
		    "Reset your password", body) == -1) {
			resp_db_error(r);
			goto out;
		}
		if (db_audit(r, PQgetvalue(u, 0, 0), "password_reset_request",
		    "sent") == -1) {
			resp_db_error(r);
			goto out;
		}
	} else if (db_audit(r, NULL, "password_reset_request",
	    "unknown_account") == -1) {
		resp_db_error(r);
		goto out;
	}
	if (db_commit() == -1) {
		resp_db_error(r);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(reset_msg));
	time_floor(r);
	resp_json(r, 200, o);
out:
	crypto_wipe(token, sizeof(token));
	crypto_wipe(link, sizeof(link));
	crypto_wipe(body, sizeof(body));
	PQclear(u);
}

/* The token of a link: ?token= or the body's "token"; 43 base64url chars. */
static int
link_token(struct req *r, char out[TOKEN_B64_LEN + 2])
{
	const char *t = NULL;
	int q;

	if ((q = req_query(r->query, "token", out, TOKEN_B64_LEN + 2)) == 1)
		return strlen(out) == TOKEN_B64_LEN ? 0 : -1;
	if (q == -1)
		return -1;
	if (json_token(r, "token", &t) == JF_BAD || t == NULL ||
	    strlen(t) != TOKEN_B64_LEN)
		return -1;
	memcpy(out, t, TOKEN_B64_LEN + 1);
	return 0;
}

/*
 * The SHA-256 (hex) of a link's token into hash; 0, or -1 with 400
 * invalid_token written (missing, wrong type, length or alphabet).
 */
static int
link_token_hash(struct req *r, char hash[65])
{
	char token[TOKEN_B64_LEN + 2];

	if (link_token(r, token) == -1) {
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		return -1;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	crypto_wipe(token, sizeof(token));
	return 0;
}

void
handle_password_reset_confirm(struct req *r)
{
	const char *pw = NULL, *pw2 = NULL, *why, *p[3];
	char hash[65];
	PGresult *u = NULL, *q = NULL, *rev = NULL;
	struct json_object *o;
	char *newhash = NULL;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str(r, "new_password", 1024, &pw) == JF_BAD ||
	    json_str(r, "new_password_confirm", 1024, &pw2) == JF_BAD)
		return;
	if (pw == NULL || pw2 == NULL) {
		resp_field_error(r, pw == NULL ? "new_password" :
		    "new_password_confirm", pw == NULL ? "Field 'new_password' "
		    "is required" : "Field 'new_password_confirm' is required");
		return;
	}
	if (strcmp(pw, pw2) != 0) {
		resp_field_error(r, "new_password_confirm", "The passwords do "
		    "not match");
		return;
	}
	if (link_token_hash(r, hash) == -1)
		return;
	p[0] = hash;
	if ((u = db_exec(Q_RESET_LOOKUP, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(u) != 1) {
		db_audit(r, NULL, "password_reset", "invalid_token");
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		goto out;
	}
	if (pw_check_rules(pw, PQgetvalue(u, 0, 1), PQgetvalue(u, 0, 2),
	    &why) == -1) {
		resp_error(r, ERR_WEAK_PASSWORD, why);
		goto out;
	}
	if ((newhash = pw_hash(pw)) == NULL) {
		resp_error(r, ERR_INTERNAL, NULL);
		goto out;
	}
	if (db_begin() == -1) {
		resp_db_error(r);
		goto out;
	}
	p[0] = hash;
	p[1] = newhash;
	if ((q = db_exec(Q_RESET_CONSUME, 2, p)) == NULL) {
		resp_db_error(r);
		goto out;
	}
	if (PQntuples(q) != 1) {
		/* Another request used the token first. */
		db_rollback();
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		goto out;
	}
	p[0] = PQgetvalue(q, 0, 0);
	p[1] = "password_reset";
	if ((rev = db_exec(Q_SESSION_REVOKE_USER, 2, p)) == NULL) {
		resp_db_error(r);
		goto out;
	}
	if (session_revoke_commit(r, rev, PQgetvalue(q, 0, 0),
	    "password_reset") == -1)
		goto out;
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("password has been reset"));
	resp_json(r, 200, o);
out:
	PQclear(u);
	PQclear(q);
	PQclear(rev);
	if (newhash != NULL) {
		crypto_wipe(newhash, strlen(newhash));
		free(newhash);
	}
}

/* POST /auth/verify-email {token} and GET /verify?token= (seed 001). */
void
handle_verify_email(struct req *r)
{
	char token[TOKEN_B64_LEN + 2], hash[65];
	const char *p[1];
	PGresult *q = NULL, *v;
	struct json_object *o;

	if (r->method == M_POST && r->json == NULL &&
	    req_query(r->query, "token", token, sizeof(token)) != 1) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (link_token_hash(r, hash) == -1)
		return;
	if (db_begin() == -1) {
		resp_db_error(r);
		return;
	}
	p[0] = hash;
	if ((q = db_exec(Q_VERIFY_CONSUME, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(q) != 1) {
		db_rollback();
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		goto out;
	}
	p[0] = PQgetvalue(q, 0, 0);
	if ((v = db_exec(Q_USER_SET_VERIFIED, 1, p)) == NULL) {
		resp_db_error(r);
		goto out;
	}
	PQclear(v);
	if (db_audit(r, PQgetvalue(q, 0, 0), "email_verify", "success") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("email verified"));
	resp_json(r, 200, o);
out:
	PQclear(q);
}
