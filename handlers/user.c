/* GET and PATCH /user/info: the caller's own profile. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

enum { U_ID, U_USERNAME, U_EMAIL, U_DISPLAY, U_AVATAR, U_VERIFIED, U_CREATED };

static struct json_object *
user_body(PGresult *res)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "user_id",
	    json_object_new_string(PQgetvalue(res, 0, U_ID)));
	json_object_object_add(o, "username",
	    json_object_new_string(PQgetvalue(res, 0, U_USERNAME)));
	json_object_object_add(o, "email",
	    json_object_new_string(PQgetvalue(res, 0, U_EMAIL)));
	json_object_object_add(o, "display_name",
	    json_object_new_string(PQgetvalue(res, 0, U_DISPLAY)));
	json_object_object_add(o, "avatar_url",
	    json_object_new_string(PQgetvalue(res, 0, U_AVATAR)));
	json_object_object_add(o, "email_verified", json_object_new_boolean(
	    strcmp(PQgetvalue(res, 0, U_VERIFIED), "t") == 0));
	json_object_object_add(o, "created_at",
	    json_object_new_int64(atoll(PQgetvalue(res, 0, U_CREATED))));
	return o;
}

void
handle_user_info(struct req *r)
{
	const char *p[1] = { r->auth.uid };
	PGresult *res;

	if ((res = db_exec(Q_USER_BY_ID, 1, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1)
		resp_error(r, ERR_INVALID_TOKEN, NULL);
	else
		resp_json(r, 200, user_body(res));
	PQclear(res);
}

void
handle_user_info_patch(struct req *r)
{
	const char *dn = NULL, *av = NULL, *p[3];
	PGresult *res;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str(r, "display_name", 256, &dn) == JF_BAD ||
	    json_str(r, "avatar_url", 2048, &av) == JF_BAD)
		return;
	if (dn == NULL && av == NULL) {
		resp_error(r, ERR_INVALID_REQUEST, "Nothing to update: send "
		    "display_name and/or avatar_url");
		return;
	}
	if (dn != NULL && (utf8_chars(dn) > 64 || has_control(dn))) {
		resp_field_error(r, "display_name", "Field 'display_name' must "
		    "be at most 64 characters of text");
		return;
	}
	if (av != NULL && *av != '\0' && !valid_https_url(av)) {
		resp_field_error(r, "avatar_url", "Field 'avatar_url' must be "
		    "an https:// URL of at most 2048 bytes");
		return;
	}
	p[0] = r->auth.uid;
	p[1] = dn;
	p[2] = av;
	if (db_begin() == -1) {
		resp_db_error(r);
		return;
	}
	if ((res = db_exec(Q_USER_UPDATE_PROFILE, 3, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		db_rollback();
		resp_error(r, ERR_INVALID_TOKEN, NULL);
	} else if (db_audit(r, r->auth.uid, "profile_update", "success") ==
	    -1 || db_commit() == -1)
		resp_db_error(r);
	else
		resp_json(r, 200, user_body(res));
	PQclear(res);
}
