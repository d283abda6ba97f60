/*
 * The account's lifecycle (API.md, "Account lifecycle and security
 * mail"): a change of email address, and the account's deletion. Both
 * ask for the password again, and a code when TOTP is on (a passkey-only
 * account has no code to give: its password is asked).
 *
 * POST /auth/email stores the new address beside a link token (hashed)
 * mailed to it, and tells the old address; the change happens when the
 * link is confirmed through POST /auth/verify-email (email_change_confirm),
 * atomically: 409 email_taken if the address was taken meanwhile.
 *
 * POST /user/delete: one transaction ends every session (tombstones
 * before the COMMIT, so no token works a moment longer), drops mail still
 * queued for the address, queues the confirmation, and deletes the user:
 * the profile, credentials, second factors and passkeys go with it (the
 * foreign keys cascade); the audit rows stay, keyed by the old user id.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "authn.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "errors.h"
#include "login_limits.h"
#include "mfa.h"
#include "outbox.h"
#include "pat.h"
#include "ratelimit.h"
#include "routes.h"
#include "session.h"
#include "tokens.h"
#include "users.h"
#include "validate.h"
#include "web_cookie.h"

#define NO_SESSION "00000000-0000-0000-0000-000000000000"

static struct db_stmt q_drop_mail = DB_STMT("outbox_drop_for",
    "DELETE FROM email_outbox WHERE lower(to_addr) = lower($1) AND "
    "sent_at IS NULL AND failed_at IS NULL");
static struct db_stmt q_delete =
    DB_STMT("user_delete", "DELETE FROM users WHERE id = $1 RETURNING email");
static struct db_stmt q_taken = DB_STMT("email_taken_by_other",
    "SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2");
static struct db_stmt q_change_drop = DB_STMT("email_change_drop",
    "DELETE FROM email_changes WHERE user_id = $1");
static struct db_stmt q_change_put = DB_STMT("email_change_put",
    "INSERT INTO email_changes (token_hash, user_id, expires_at, "
    "new_email, session_id) "
    "VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5)");
static struct db_stmt q_change_use = DB_STMT("email_change_use",
    "UPDATE email_changes SET used_at = now() WHERE token_hash = $1 AND "
    "used_at IS NULL AND expires_at > now() "
    "RETURNING user_id, new_email, session_id");
/*
 * The new address, verified by its link; what was waiting for the old
 * one (a reset, a verification, other changes) is void.
 */
static struct db_stmt q_change_apply = DB_STMT("email_change_apply",
    "WITH o AS (SELECT id, email FROM users WHERE id = $1 FOR UPDATE), "
    "v AS (DELETE FROM email_verifications WHERE user_id = $1), "
    "c AS (DELETE FROM email_changes WHERE user_id = $1 AND "
    "used_at IS NULL) "
    "UPDATE users u SET email = $2, email_verified = true, "
    "reset_token = NULL, reset_token_expire = NULL, updated_at = now() "
    "FROM o WHERE u.id = o.id RETURNING o.email AS old_email, u.username");

/*
 * In a transaction left open on success: the code when TOTP is on. 0,
 * or -1 with the answer written.
 */
static int
code_tx(struct req *r, const char *code, const char *event)
{
	const char *uid = auth_of(r)->uid;
	int on, ok;

	if ((on = mfa_totp_on(uid)) == -1 || db_begin() == -1) {
		resp_db_error(r);
		return -1;
	}
	if (on && (ok = mfa_code_ok(r, uid, code)) != 1) {
		db_rollback();
		if (ok == -1)
			resp_db_error(r);
		else {
			(void)audit_write(r, uid, event, "wrong_code");
			resp_error(r, ERR_INVALID_CREDENTIALS,
			    "A current code (or a recovery code) is required");
		}
		return -1;
	}
	return 0;
}

/* The password again, then code_tx. 0, or -1 with the answer written. */
static int
confirm_identity(struct req *r, const char *password, const char *code,
    const char *event)
{
	if (reauthenticate(r, password, event) == -1)
		return -1;
	return code_tx(r, code, event);
}

/* Is the address someone else's? 1, 0, -1 (Postgres). */
static int
taken(const char *email, const char *uid)
{
	const char *p[2] = { email, uid };
	PGresult *res;
	int n;

	if ((res = db_exec(&q_taken, 2, p)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

/* In the caller's transaction: the link to the new address, the notice. */
static int
change_queue(struct req *r, const char *to)
{
	struct auth *a = auth_of(r);
	const char *more[2] = { to, a->sid };
	struct mail_vars mv = { { NULL } };
	char link[4200], hours[24];
	int rc = -1;

	snprintf(hours, sizeof(hours), "%ld", cfg.verify_ttl / 3600);
	mv.v[MV_LINK] = link;
	mv.v[MV_HOURS] = hours;
	mv.v[MV_USERNAME] = a->sess.username;
	mv.v[MV_NEW_EMAIL] = to;
	if (db_run(&q_change_drop, 1, (const char *[]){ a->uid }) == 0 &&
	    link_issue(&q_change_put, a->uid, more, 2, cfg.verify_ttl,
	        cfg.email_verify_url, link, sizeof(link)) == 0 &&
	    mail_send(MAIL_EMAIL_CHANGE, to, &mv) == 0)
		rc = mail_notice(r, MAIL_EMAIL_CHANGE_REQUESTED, a->sess.email,
		    &mv);
	crypto_wipe(link, sizeof(link));
	return rc;
}

void
handle_email_change(struct req *r)
{
	struct auth *a = auth_of(r);
	const char *to = r->arg[EMC_NEW];
	char canon[CANON_MAX + 1];
	struct json_object *o;
	long retry;
	int t;

	canon_ident(to, canon, sizeof(canon));
	if (rl_hit("email-change", a->uid, cfg.rl_email_change, cfg.rl_window,
	        &retry) ||
	    rl_hit("email-change-to", canon, cfg.rl_register_email,
	        cfg.rl_window, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	if (strcasecmp(to, a->sess.email) == 0) {
		resp_field_error(r, "new_email",
		    "Field 'new_email' is the account's address already");
		return;
	}
	if (confirm_identity(r, r->arg[EMC_PASSWORD], r->arg[EMC_CODE],
	        "email_change") == -1)
		return;
	if ((t = taken(to, a->uid)) != 0) {
		db_rollback();
		if (t == 1)
			resp_error(r, ERR_EMAIL_TAKEN, NULL);
		else
			resp_db_error(r);
		return;
	}
	if (change_queue(r, to) == -1 ||
	    audit_write(r, a->uid, "email_change_requested", "success") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message",
	    json_object_new_string("verification sent"));
	resp_json(r, 200, o);
}

/* The confirmed change of row 0 of q_change_use, in its transaction. */
static int
change_apply(struct req *r, PGresult *chg, PGresult **applied)
{
	const char *p[2] = { db_value(chg, 0, "user_id"),
		db_value(chg, 0, "new_email") };

	if ((*applied = db_exec(&q_change_apply, 2, p)) == NULL) {
		if (strcmp(db_sqlstate(), "23505") != 0) {
			resp_db_error(r);
			return -1;
		}
		db_rollback();
		resp_error(r, ERR_EMAIL_TAKEN,
		    "The address was taken by another account meanwhile");
		return -1;
	}
	if (PQntuples(*applied) != 1) {
		PQclear(*applied);
		db_rollback();
		resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		return -1;
	}
	return 0;
}

/*
 * The link of an email change (hash of its token), from the verify
 * handler: 1 with the answer written, 0 when the token is not one (the
 * caller's transaction still open), -1 with the answer written.
 */
int
email_change_confirm(struct req *r, const char *hash)
{
	const char *p[1] = { hash }, *uid, *sid;
	struct mail_vars mv = { { NULL } };
	PGresult *chg, *ap = NULL, *rev = NULL;
	struct json_object *o;
	int rc = -1;

	if ((chg = db_exec(&q_change_use, 1, p)) == NULL) {
		resp_db_error(r);
		return -1;
	}
	if (PQntuples(chg) != 1) {
		PQclear(chg);
		return 0;
	}
	uid = db_value(chg, 0, "user_id");
	sid = PQgetisnull(chg, 0, PQfnumber(chg, "session_id")) ?
	    NO_SESSION :
	    db_value(chg, 0, "session_id");
	mv.v[MV_NEW_EMAIL] = db_value(chg, 0, "new_email");
	if (change_apply(r, chg, &ap) == -1)
		goto out;
	mv.v[MV_USERNAME] = db_value(ap, 0, "username");
	req_set_who(r, uid);
	if ((rev = session_revoke(REVOKE_OTHERS, uid, sid, "email_change")) ==
	        NULL ||
	    mail_notice(r, MAIL_EMAIL_CHANGED, db_value(ap, 0, "old_email"),
	        &mv) == -1) {
		resp_db_error(r);
		goto out;
	}
	if (session_revoke_commit(r, rev, uid, "email_changed") == 0) {
		/* the kept session's and tokens' mirror names the address */
		(void)(session_mirror_user(uid) | pat_mirror_user(uid));
		o = json_object_new_object();
		json_object_object_add(o, "message",
		    json_object_new_string("email verified"));
		json_object_object_add(o, "email",
		    json_object_new_string(mv.v[MV_NEW_EMAIL]));
		resp_json(r, 200, o);
		rc = 1;
	}
out:
	PQclear(rev);
	PQclear(ap);
	PQclear(chg);
	return rc;
}

/* In the caller's transaction: the user's mail, and the user. */
static int
remove_user(struct req *r, const char *uid, const char *email)
{
	struct mail_vars mv = { { NULL } };
	const char *p[1] = { email };
	PGresult *res;
	int n;

	mv.v[MV_USERNAME] = auth_of(r)->sess.username;
	if (db_run(&q_drop_mail, 1, p) == -1 ||
	    mail_notice(r, MAIL_ACCOUNT_DELETED, email, &mv) == -1)
		return -1;
	p[0] = uid;
	if ((res = db_exec(&q_delete, 1, p)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n == 1 ? 0 : -1;
}

/*
 * The deletion's transaction (open): 0 done, -1 failed (both answered),
 * 1 when Postgres rolled it back for a conflict with a refresh racing it
 * (a deadlock: the two lock sessions and tokens in opposite orders) and
 * it is worth running again; nothing is answered then.
 */
static int
delete_tx(struct req *r)
{
	struct auth *a = auth_of(r);
	struct json_object *o;
	PGresult *rev, *pats = NULL;

	/* tokens: tombstones too, before the rows go with the user */
	if ((rev = session_revoke(REVOKE_USER, a->uid, NULL, "deleted")) ==
	        NULL ||
	    (pats = pat_revoke_user(a->uid)) == NULL ||
	    pat_revoke_rows(pats) == -1 ||
	    remove_user(r, a->uid, a->sess.email) == -1) {
		PQclear(rev);
		PQclear(pats);
		if (strncmp(db_sqlstate(), "40", 2) == 0) {
			db_rollback();
			return 1;
		}
		resp_db_error(r);
		return -1;
	}
	PQclear(pats);
	if (session_revoke_commit(r, rev, a->uid, "account_deleted") == 0) {
		if (r->cookie != NULL) {
			session_cookies(r, "", "", 0);
			(void)web_cookie_set(r, NULL, 0);
		}
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		resp_json(r, 200, o);
	}
	PQclear(rev);
	return 0;
}

void
handle_user_delete(struct req *r)
{
	int tries;

	if (reauthenticate(r, r->arg[DEL_PASSWORD], "account_deleted") == -1)
		return;
	/* a refresh that loses a deadlock answers 503; the deletion retries */
	for (tries = 0; tries < 4; tries++) {
		if (code_tx(r, r->arg[DEL_CODE], "account_deleted") == -1 ||
		    delete_tx(r) != 1)
			return;
	}
	resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
}
