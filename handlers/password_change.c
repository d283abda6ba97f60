/*
 * POST /auth/password: a new password, given the current one. A wrong
 * current password counts like a failed login of the account (the same
 * bucket): a stolen access token does not buy unlimited guesses, and a
 * limited request costs no hash. The user's other sessions end.
 */
#include <stdlib.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "authn.h"
#include "db.h"
#include "errors.h"
#include "login_limits.h"
#include "outbox.h"
#include "password.h"
#include "ratelimit.h"
#include "routes.h"
#include "session.h"
#include "users.h"

/* In one transaction: the hash, the notice, the other sessions' end, audit. */
static void
change(struct req *r, const char *hash)
{
	struct auth *a = auth_of(r);
	struct mail_vars mv = { { NULL } };
	struct json_object *o;
	PGresult *rev;

	mv.v[MV_USERNAME] = a->sess.username;
	if (db_begin() == -1 || user_set_hash(a->uid, hash) == -1 ||
	    mail_notice(r, MAIL_PASSWORD_CHANGED, a->sess.email, &mv) == -1 ||
	    (rev = session_revoke(REVOKE_OTHERS, a->uid, a->sid,
	         "password_change")) == NULL) {
		resp_db_error(r);
		return;
	}
	if (session_revoke_commit(r, rev, a->uid, "password_change") == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "message",
		    json_object_new_string("password changed"));
		json_object_object_add(o, "revoked",
		    json_object_new_int(PQntuples(rev)));
		resp_json(r, 200, o);
	}
	PQclear(rev);
}

void
handle_password_change(struct req *r)
{
	const char *uid = auth_of(r)->uid, *why;
	struct user u;
	PGresult *res;
	char *hash;
	long retry;

	if (limit_login_account(uid, &retry)) {
		(void)audit_write(r, uid, "password_change", "rate_limited");
		resp_rate_limited(r, retry);
		return;
	}
	if ((res = user_by_id(uid)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (user_read(res, 0, &u) == -1 ||
	    !pw_verify(r->arg[PWC_CURRENT], u.password_hash)) {
		limit_account_failed(uid);
		(void)audit_write(r, uid, "password_change", "wrong_password");
		resp_error(r, ERR_INVALID_CREDENTIALS,
		    "Current password is incorrect");
		PQclear(res);
		return;
	}
	limit_login_clear(uid);
	if (pw_check_rules(r->arg[PWC_NEW], u.username, u.email, &why) == -1)
		resp_error(r, ERR_WEAK_PASSWORD, why);
	else if ((hash = pw_hash(r->arg[PWC_NEW])) == NULL)
		resp_error(r, ERR_INTERNAL, NULL);
	else {
		change(r, hash);
		pw_hash_free(hash);
	}
	PQclear(res);
}
