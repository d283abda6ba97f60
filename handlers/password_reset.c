/*
 * Password reset by emailed link (seed 001). Tokens are 256-bit random,
 * only their SHA-256 is stored, and they are consumed by one conditional
 * UPDATE, so a token works exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "config.h"
#include "db.h"
#include "errors.h"
#include "outbox.h"
#include "password.h"
#include "ratelimit.h"
#include "routes.h"
#include "session.h"
#include "tokens.h"
#include "users.h"
#include "validate.h"

static struct db_stmt q_by_email = DB_STMT("user_by_email",
    "SELECT " USER_COLS " FROM users WHERE lower(email) = lower($1)");
static struct db_stmt q_set = DB_STMT("reset_set",
    "UPDATE users SET reset_token = $1, reset_token_expire = now() + "
    "make_interval(secs => $3) WHERE id = $2");
static struct db_stmt q_lookup = DB_STMT("reset_lookup",
    "SELECT " USER_COLS " FROM users WHERE reset_token = $1 "
    "AND reset_token_expire > now()");
static struct db_stmt q_consume = DB_STMT("reset_consume",
    "UPDATE users SET reset_token = NULL, reset_token_expire = NULL, "
    "password_hash = $2, email_verified = true, updated_at = now() "
    "WHERE reset_token = $1 AND reset_token_expire > now() RETURNING id");

static const char reset_msg[] =
    "if the account exists, a reset link has been sent";

/*
 * Known and unknown emails must take the same time. The known branch
 * does a little more database work (token, UPDATE, outbox INSERT), so
 * every answer is held until a fixed floor has passed since the request
 * started; both branches finish well inside it.
 */
#define RESET_FLOOR_NS (20 * 1000 * 1000L)

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

/* In the caller's transaction: u's reset token, and the mail with it. */
static int
send_link(const struct user *u)
{
	struct mail_vars mv = { { NULL } };
	char link[4200], minutes[24];
	int rc = -1;

	snprintf(minutes, sizeof(minutes), "%ld", cfg.reset_ttl / 60);
	mv.v[MV_LINK] = link;
	mv.v[MV_MINUTES] = minutes;
	mv.v[MV_USERNAME] = u->username;
	if (link_issue(&q_set, u->id, NULL, 0, cfg.reset_ttl,
	        cfg.reset_password_url, link, sizeof(link)) == 0)
		rc = mail_send(MAIL_PASSWORD_RESET, u->email, &mv);
	crypto_wipe(link, sizeof(link));
	return rc;
}

void
handle_password_reset(struct req *r)
{
	const char *email = r->arg[RESET_EMAIL], *name = r->arg[RESET_USERNAME];
	const char *p[1] = { email };
	char canon[CANON_MAX + 1];
	struct json_object *o;
	struct user u;
	PGresult *res;
	long retry;
	int known, rc;

	/* Per email: the canonical address, however it is spelled. */
	canon_ident(email, canon, sizeof(canon));
	if (rl_hit("reset-ip", r->remote_addr, cfg.rl_reset_ip, cfg.rl_window,
	        &retry) ||
	    rl_hit("reset-email", canon, cfg.rl_reset_email, cfg.rl_window,
	        &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	if ((res = db_exec(&q_by_email, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	known = PQntuples(res) == 1 && user_read(res, 0, &u) == 0 &&
	    (name == NULL || strcasecmp(name, u.username) == 0);
	/* Both branches do one small transaction, so they cost the same. */
	if ((rc = db_begin()) == 0 && known && (rc = send_link(&u)) == 0)
		rc = audit_write(r, u.id, "password_reset_request", "sent");
	else if (rc == 0 && !known)
		rc = audit_write(r, NULL, "password_reset_request",
		    "unknown_account");
	PQclear(res);
	if (rc == -1 || db_commit() == -1) {
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(reset_msg));
	time_floor(r);
	resp_json(r, 200, o);
}

/*
 * In one transaction: consume the token (another request may have used
 * it first), set the hash, end every session of user u, tell u.
 */
static void
reset(struct req *r, const char *token_hash, const char *newhash,
    const struct user *u)
{
	const char *p[2] = { token_hash, newhash };
	struct mail_vars mv = { { NULL } };
	PGresult *q, *rev = NULL;
	struct json_object *o;

	mv.v[MV_USERNAME] = u->username;
	if ((q = link_consume(r, &q_consume, 2, p)) == NULL)
		return;
	if ((rev = session_revoke(REVOKE_USER, PQgetvalue(q, 0, 0), NULL,
	         "password_reset")) == NULL ||
	    mail_notice(r, MAIL_PASSWORD_RESET_DONE, u->email, &mv) == -1)
		resp_db_error(r);
	else if (session_revoke_commit(r, rev, PQgetvalue(q, 0, 0),
	             "password_reset") == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "message",
		    json_object_new_string("password has been reset"));
		resp_json(r, 200, o);
	}
	PQclear(rev);
	PQclear(q);
}

void
handle_password_reset_confirm(struct req *r)
{
	const char *pw = r->arg[CONFIRM_NEW], *why, *p[1];
	char hash[65], *newhash;
	struct user u;
	PGresult *res;

	if (strcmp(pw, r->arg[CONFIRM_AGAIN]) != 0) {
		resp_field_error(r, "new_password_confirm",
		    "The passwords do not match");
		return;
	}
	if (link_token_hash(r, r->arg[CONFIRM_TOKEN], hash) == -1)
		return;
	p[0] = hash;
	if ((res = db_exec(&q_lookup, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (user_read(res, 0, &u) == -1) {
		(void)audit_write(r, NULL, "password_reset", "invalid_token");
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
	} else if (pw_check_rules(pw, u.username, u.email, &why) == -1)
		resp_error(r, ERR_WEAK_PASSWORD, why);
	else if ((newhash = pw_hash(pw)) == NULL)
		resp_error(r, ERR_INTERNAL, NULL);
	else {
		reset(r, hash, newhash, &u);
		pw_hash_free(newhash);
	}
	PQclear(res);
}
