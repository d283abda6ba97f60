/* GET and PATCH /user/info: the caller's own profile. */
#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "authn.h"
#include "db.h"
#include "errors.h"
#include "routes.h"
#include "users.h"

static struct db_stmt q_update = DB_STMT("user_update_profile",
    "UPDATE users SET display_name = COALESCE($2, display_name), "
    "avatar_url = COALESCE($3, avatar_url), updated_at = now() "
    "WHERE id = $1 RETURNING " USER_COLS);

/* 200 with the profile of the user in res, or 401 when there is none. */
static void
answer(struct req *r, PGresult *res)
{
	struct user u;

	if (user_read(res, 0, &u) == -1)
		resp_error(r, ERR_INVALID_TOKEN, NULL);
	else
		resp_json(r, 200, user_json(&u));
}

void
handle_user_info(struct req *r)
{
	PGresult *res;

	if ((res = user_by_id(auth_of(r)->uid)) == NULL) {
		resp_db_error(r);
		return;
	}
	answer(r, res);
	PQclear(res);
}

void
handle_user_info_patch(struct req *r)
{
	const char *uid = auth_of(r)->uid;
	const char *p[3] = { uid, r->arg[PROFILE_DISPLAY_NAME],
		r->arg[PROFILE_AVATAR_URL] };
	PGresult *res;

	if (p[1] == NULL && p[2] == NULL) {
		resp_error(r, ERR_INVALID_REQUEST,
		    "Nothing to update: send display_name and/or avatar_url");
		return;
	}
	if (db_begin() == -1 || (res = db_exec(&q_update, 3, p)) == NULL) {
		resp_db_error(r);
		return;
	}
	if (PQntuples(res) != 1)
		db_rollback();
	else if (audit_write(r, uid, "profile_update", "success") == -1 ||
	    db_commit() == -1) {
		resp_db_error(r);
		PQclear(res);
		return;
	}
	answer(r, res);
	PQclear(res);
}
