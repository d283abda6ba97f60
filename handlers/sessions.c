/* GET /auth/sessions and DELETE /auth/sessions/{session_id}. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "authn.h"
#include "db.h"
#include "routes.h"
#include "session.h"
#include "validate.h"

static struct db_stmt q_list = DB_STMT("session_list",
    "SELECT id, extract(epoch FROM created_at)::bigint AS created_at, "
    "extract(epoch FROM last_used_at)::bigint AS last_used_at, "
    "extract(epoch FROM LEAST(idle_expires_at, absolute_expires_at))::bigint "
    "AS expires_at, "
    "ip, user_agent FROM sessions WHERE user_id = $1 AND revoked_at IS NULL "
    "AND idle_expires_at > now() AND absolute_expires_at > now() "
    /* sessions.: the timestamp, not the whole seconds of the alias */
    "ORDER BY sessions.created_at DESC, sessions.id LIMIT 10000");
static struct db_stmt q_role =
    DB_STMT("user_role", "SELECT role FROM users WHERE id = $1");

/* Row i of q_list as API.md's session object. */
static struct json_object *
session_json(PGresult *res, int i, const char *current)
{
	struct json_object *s = json_object_new_object();
	const char *id = db_value(res, i, "id");
	static const char *const times[] = { "created_at", "last_used_at",
		"expires_at" };
	size_t t;

	json_object_object_add(s, "session_id", json_object_new_string(id));
	for (t = 0; t < sizeof(times) / sizeof(times[0]); t++)
		json_object_object_add(s, times[t],
		    json_object_new_int64(atoll(db_value(res, i, times[t]))));
	json_object_object_add(s, "ip",
	    json_object_new_string(db_value(res, i, "ip")));
	json_object_object_add(s, "user_agent",
	    json_object_new_string(db_value(res, i, "user_agent")));
	json_object_object_add(s, "current",
	    json_object_new_boolean(strcmp(id, current) == 0));
	return s;
}

/* Is uid an admin? 1, 0, -1 (Postgres failed). */
static int
is_admin(const char *uid)
{
	const char *p[1] = { uid };
	PGresult *res;
	int yes;

	if ((res = db_exec(&q_role, 1, p)) == NULL)
		return -1;
	yes =
	    PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "admin") == 0;
	PQclear(res);
	return yes;
}

void
handle_sessions_list(struct req *r)
{
	struct auth *a = auth_of(r);
	char other[UUID_LEN + 2];
	const char *p[1] = { a->uid };
	struct json_object *o, *arr;
	PGresult *res;
	int i, q;

	if ((q = req_query(r->query, "user_id", other, sizeof(other))) == -1 ||
	    (q == 1 && !valid_uuid(other))) {
		resp_field_error(r, "user_id",
		    "Query parameter 'user_id' must be a UUID");
		return;
	}
	if (q == 1 && strcmp(other, a->uid) != 0) {
		if ((i = is_admin(a->uid)) != 1) {
			if (i == -1)
				resp_db_error(r);
			else
				resp_error(r, ERR_FORBIDDEN,
				    "Only an admin may "
				    "list another user's sessions");
			return;
		}
		p[0] = other;
	}
	if ((res = db_exec(&q_list, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++)
		json_object_array_add(arr, session_json(res, i, a->sid));
	PQclear(res);
	o = json_object_new_object();
	json_object_object_add(o, "sessions", arr);
	resp_json(r, 200, o);
}

void
handle_session_delete(struct req *r)
{
	struct auth *a = auth_of(r);
	struct json_object *o;
	PGresult *res;
	int rc;

	if (!valid_uuid(r->param)) {
		resp_error(r, ERR_NOT_FOUND, "No such session");
		return;
	}
	if (db_begin() == -1 ||
	    (res = session_revoke(REVOKE_OWN, r->param, a->uid, NULL)) ==
	        NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback();
		resp_error(r, ERR_NOT_FOUND, "No such session");
		return;
	}
	/* The tombstone first: a revoke that cannot hold is not reported. */
	rc = session_revoke_commit(r, res, a->uid, "session_revoked");
	PQclear(res);
	if (rc == -1)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	resp_json(r, 200, o);
}
