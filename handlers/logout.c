/* POST /auth/logout (this session) and /auth/logout-all (every one). */
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "authn.h"
#include "config.h"
#include "db.h"
#include "routes.h"
#include "session.h"
#include "web_cookie.h"

/*
 * Did this request's browser session cookie name one of the sessions
 * just ended (rows of a revocation, or heal)? Then it is cleared.
 */
static int
web_session_ended(struct req *r, PGresult *rows, const char *heal)
{
	char value[WEB_COOKIE_MAX], sid[UUID_LEN + 1];
	int i, ok;

	if (r->cookie == NULL ||
	    req_cookie(r->cookie, web_cookie_name(), value, sizeof(value)) != 1)
		return 0;
	ok = web_cookie_sid(value, sid) == 1;
	crypto_wipe(value, sizeof(value));
	if (!ok)
		return 0;
	if (heal != NULL && strcmp(heal, sid) == 0)
		return 1;
	for (i = 0; i < PQntuples(rows); i++)
		if (strcmp(db_value(rows, i, "id"), sid) == 0)
			return 1;
	return 0;
}

/*
 * End the sessions of scope in one transaction (tombstones before the
 * COMMIT). The number ended, or -1 with the answer written. heal: a
 * session the mirror let in; if none was ended, it was already revoked
 * and its tombstone was missed (a refresh reuse whose write failed), so
 * it is written now.
 */
static int
end_sessions(struct req *r, enum revoke_scope scope, const char *key,
    const char *reason, const char *heal)
{
	struct auth *a = auth_of(r);
	PGresult *res;
	int n;

	if (db_begin() == -1 ||
	    (res = session_revoke(scope, key, NULL, reason)) == NULL) {
		resp_db_error(r);
		return -1;
	}
	n = PQntuples(res);
	if (n == 0 && heal != NULL &&
	    session_mirror_revoke(heal,
	        (long long)time(NULL) + cfg.session_max_ttl) == -1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return -1;
	}
	if (session_revoke_commit(r, res, a->uid, reason) == -1)
		n = -1;
	if (n >= 0 && a->via_cookie)
		session_cookies(r, "", "", 0);
	if (n >= 0 && web_session_ended(r, res, heal))
		(void)web_cookie_set(r, NULL, 0);
	PQclear(res);
	return n;
}

static void
answer(struct req *r, const char *message, int revoked)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "message", json_object_new_string(message));
	if (revoked >= 0)
		json_object_object_add(o, "revoked",
		    json_object_new_int(revoked));
	resp_json(r, 200, o);
}

void
handle_logout(struct req *r)
{
	struct auth *a = auth_of(r);

	if (end_sessions(r, REVOKE_ONE, a->sid, "logout", a->sid) >= 0)
		answer(r, "logout successful", -1);
}

void
handle_logout_all(struct req *r)
{
	struct auth *a = auth_of(r);
	int n;

	if ((n = end_sessions(r, REVOKE_USER, a->uid, "logout_all", NULL)) >= 0)
		answer(r, "all sessions revoked", n);
}
