/* GET /auth/sessions and DELETE /auth/sessions/{session_id}. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

void
handle_sessions_list(struct req *r)
{
	char other[UUID_LEN + 2];
	const char *p[1], *target = r->auth.uid;
	struct json_object *o, *arr, *s;
	PGresult *res;
	int i, q;

	if ((q = req_query(r->query, "user_id", other, sizeof(other))) == -1 ||
	    (q == 1 && !valid_uuid(other))) {
		resp_field_error(r, "user_id", "Query parameter 'user_id' must "
		    "be a UUID");
		return;
	}
	if (q == 1 && strcmp(other, r->auth.uid) != 0) {
		p[0] = r->auth.uid;
		if ((res = db_exec(Q_USER_ROLE, 1, p)) == NULL) {
			resp_db_error(r);
			return;
		}
		i = PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), "admin") == 0;
		PQclear(res);
		if (!i) {
			resp_error(r, ERR_FORBIDDEN, "Only an admin may list "
			    "another user's sessions");
			return;
		}
		target = other;
	}
	p[0] = target;
	if ((res = db_exec(Q_SESSION_LIST, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		s = json_object_new_object();
		json_object_object_add(s, "session_id",
		    json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(s, "created_at",
		    json_object_new_int64(atoll(PQgetvalue(res, i, 1))));
		json_object_object_add(s, "last_used_at",
		    json_object_new_int64(atoll(PQgetvalue(res, i, 2))));
		json_object_object_add(s, "expires_at",
		    json_object_new_int64(atoll(PQgetvalue(res, i, 3))));
		json_object_object_add(s, "ip",
		    json_object_new_string(PQgetvalue(res, i, 4)));
		json_object_object_add(s, "user_agent",
		    json_object_new_string(PQgetvalue(res, i, 5)));
		json_object_object_add(s, "current", json_object_new_boolean(
		    strcmp(PQgetvalue(res, i, 0), r->auth.sid) == 0));
		json_object_array_add(arr, s);
	}
	PQclear(res);
	o = json_object_new_object();
	json_object_object_add(o, "sessions", arr);
	resp_json(r, 200, o);
}

void
handle_session_delete(struct req *r)
{
	const char *p[2] = { r->param, r->auth.uid };
	struct json_object *o;
	PGresult *res;
	int rc;

	if (!valid_uuid(r->param)) {
		resp_error(r, ERR_NOT_FOUND, "No such session");
		return;
	}
	if (db_begin() == -1) {
		resp_db_error(r);
		return;
	}
	if ((res = db_exec(Q_SESSION_REVOKE_OWN, 2, p)) == NULL) {
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
	rc = session_revoke_commit(r, res, r->auth.uid, "session_revoked");
	PQclear(res);
	if (rc == -1)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	resp_json(r, 200, o);
}
