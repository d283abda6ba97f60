/*
 * POST /auth/verify-email {token} and GET /verify?token= (seed 001): the
 * link of a new account's address, or of an email change (account.c).
 */
#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "db.h"
#include "errors.h"
#include "routes.h"
#include "tokens.h"
#include "users.h"

static struct db_stmt q_consume = DB_STMT("verify_consume",
    "UPDATE email_verifications SET used_at = now() "
    "WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() "
    "RETURNING user_id");

void
handle_verify_email(struct req *r)
{
	char token[TOKEN_B64_LEN + 2], hash[65];
	const char *p[1] = { hash };
	struct json_object *o;
	PGresult *q;

	if (r->method == M_POST && r->json == NULL &&
	    req_query(r->query, "token", token, sizeof(token)) != 1) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (link_token_hash(r, r->method == M_POST ? r->arg[LINK_TOKEN] : NULL,
	        hash) == -1)
		return;
	if (db_begin() == -1 || (q = db_exec(&q_consume, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(q) != 1) {
		PQclear(q);
		if (email_change_confirm(r, hash) == 0) {
			db_rollback();
			resp_error(r, ERR_INVALID_LINK_TOKEN, NULL);
		}
		return;
	}
	if (user_set_verified(PQgetvalue(q, 0, 0)) == -1 ||
	    audit_write(r, PQgetvalue(q, 0, 0), "email_verify", "success") ==
	        -1 ||
	    db_commit() == -1)
		resp_db_error(r);
	else {
		o = json_object_new_object();
		json_object_object_add(o, "message",
		    json_object_new_string("email verified"));
		resp_json(r, 200, o);
	}
	PQclear(q);
}
