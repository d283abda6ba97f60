/*
 * Administration (API.md "Administration and personal access tokens"):
 * GET /admin/users (search, keyset pages), GET and PATCH
 * /admin/users/{id}, POST /admin/users/{id}/logout-all, DELETE
 * /admin/users/{id}/mfa, for role admin (dispatch refuses others:
 * R_ADMIN); and the same operations for the command line (main.c).
 * Every action writes an audit row naming its actor. The last enabled
 * admin can be neither disabled nor demoted: the admins' rows are locked
 * while that is checked, so two admins demoting each other cannot both
 * win.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "admin.h"
#include "audit.h"
#include "authn.h"
#include "db.h"
#include "errors.h"
#include "mfa.h"
#include "outbox.h"
#include "pat.h"
#include "routes.h"
#include "session.h"
#include "users.h"
#include "validate.h"

#define ADMIN_COLS \
	"u.id, u.username, u.email, u.role, u.email_verified, u.disabled, " \
	"(EXISTS (SELECT 1 FROM mfa_totp t WHERE t.user_id = u.id AND " \
	"t.confirmed_at IS NOT NULL) OR EXISTS (SELECT 1 FROM passkeys k " \
	"WHERE k.user_id = u.id)) AS mfa, " \
	"extract(epoch FROM u.created_at)::bigint AS created_at, " \
	"extract(epoch FROM u.last_login_at)::bigint AS last_login_at, " \
	"lower(u.username) AS cursor"

/* Pages follow lower(username) (users_username_key); q uses trigrams. */
static struct db_stmt q_all = DB_STMT("admin_users_all",
    "SELECT " ADMIN_COLS " FROM users u WHERE lower(u.username) > $1 "
    "ORDER BY lower(u.username) LIMIT $2");
static struct db_stmt q_match = DB_STMT("admin_users_match",
    "SELECT " ADMIN_COLS
    " FROM users u WHERE (lower(u.username) LIKE lower($3) "
    "ESCAPE '\\' OR lower(u.email) LIKE lower($3) ESCAPE '\\') AND "
    "lower(u.username) > $1 ORDER BY lower(u.username) LIMIT $2");
static struct db_stmt q_one = DB_STMT("admin_user",
    "SELECT " ADMIN_COLS ", (SELECT count(*) FROM sessions s WHERE "
    "s.user_id = u.id AND s.revoked_at IS NULL AND s.idle_expires_at > "
    "now() AND s.absolute_expires_at > now()) AS sessions "
    "FROM users u WHERE u.id = $1");
static struct db_stmt q_lock = DB_STMT("admin_lock_user",
    "SELECT role, disabled, email, username FROM users WHERE id = $1 "
    "FOR UPDATE");
static struct db_stmt q_admins = DB_STMT("admin_lock_admins",
    "SELECT id FROM users WHERE role = 'admin' AND NOT disabled "
    "FOR UPDATE");
static struct db_stmt q_apply = DB_STMT("admin_apply",
    "UPDATE users SET role = COALESCE($2, role), disabled = "
    "COALESCE($3::boolean, disabled), email_verified = "
    "COALESCE($4::boolean, email_verified), updated_at = now() "
    "WHERE id = $1");

static struct json_object *
bool_of(PGresult *res, int i, const char *col)
{
	return json_object_new_boolean(*db_value(res, i, col) == 't');
}

/* The admin API's user object, from row i of an ADMIN_COLS result. */
static struct json_object *
user_obj(PGresult *res, int i)
{
	static const char *const text[] = { "id", "username", "email", "role" };
	static const char *const as[] = { "user_id", "username", "email",
		"role" };
	struct json_object *o = json_object_new_object();
	size_t k;

	for (k = 0; k < sizeof(text) / sizeof(text[0]); k++)
		json_object_object_add(o, as[k],
		    json_object_new_string(db_value(res, i, text[k])));
	json_object_object_add(o, "email_verified",
	    bool_of(res, i, "email_verified"));
	json_object_object_add(o, "disabled", bool_of(res, i, "disabled"));
	json_object_object_add(o, "mfa", bool_of(res, i, "mfa"));
	json_object_object_add(o, "created_at", db_epoch(res, i, "created_at"));
	json_object_object_add(o, "last_login_at",
	    db_epoch(res, i, "last_login_at"));
	return o;
}

/* q as a LIKE pattern: %q%, \ % _ escaped (SQL lower-cases it). */
static void
like_pattern(const char *q, char *out, size_t outlen)
{
	size_t o = 0;

	buf_put(out, &o, outlen, "%", 1);
	for (; *q && o + 3 < outlen; q++) {
		if (*q == '\\' || *q == '%' || *q == '_')
			out[o++] = '\\';
		out[o++] = *q;
	}
	buf_put(out, &o, outlen, "%", 1);
	out[o] = '\0';
}

/*
 * Up to limit users after the cursor `after`, matching q (may be ""),
 * into *users; next is the cursor of the next page, or "" at the end.
 * 0, or -1 (Postgres).
 */
int
admin_search(const char *q, const char *after, long limit,
    struct json_object **users, char *next, size_t nextlen)
{
	char lim[24], pat[1100];
	const char *p[3] = { after, lim, pat };
	PGresult *res;
	int i, n;

	snprintf(lim, sizeof(lim), "%ld", limit + 1);
	like_pattern(q, pat, sizeof(pat));
	res = *q ? db_exec(&q_match, 3, p) : db_exec(&q_all, 2, p);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	*users = json_object_new_array();
	for (i = 0; i < n && i < limit; i++)
		json_object_array_add(*users, user_obj(res, i));
	str_copy(next, nextlen,
	    n > limit ? db_value(res, (int)limit - 1, "cursor") : "");
	PQclear(res);
	return 0;
}

/* One user with its active sessions' count; *o NULL when none. 0, -1. */
static int
user_get(const char *uid, struct json_object **o)
{
	const char *p[1] = { uid };
	PGresult *res;

	*o = NULL;
	if ((res = db_exec(&q_one, 1, p)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		*o = user_obj(res, 0);
		json_object_object_add(*o, "sessions",
		    json_object_new_int64(atoll(db_value(res, 0, "sessions"))));
	}
	PQclear(res);
	return 0;
}

struct json_object *
admin_user(const char *uid)
{
	struct json_object *o;

	return user_get(uid, &o) == 0 ? o : NULL;
}

/* Would the change leave no enabled admin? In the open transaction. */
static int
last_admin(PGresult *row, const struct admin_change *c)
{
	PGresult *res;
	int n;

	if (strcmp(db_value(row, 0, "role"), "admin") != 0 ||
	    *db_value(row, 0, "disabled") == 't' ||
	    !((c->role && strcmp(c->role, "admin") != 0) || c->disabled == 1))
		return 0;
	if ((res = db_exec(&q_admins, 0, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n <= 1;
}

/* The audit rows of a change, in its transaction. */
static int
audit_change(struct req *r, const char *uid, const char *actor,
    const struct admin_change *c)
{
	const char *out = r ? "success" : "cli";

	return (c->role &&
	           audit_write_by(r, uid, actor, "admin_set_role", out) ==
	               -1) ||
	        (c->disabled == 0 &&
	            audit_write_by(r, uid, actor, "admin_enable", out) == -1) ||
	        (c->email_verified != -1 &&
	            audit_write_by(r, uid, actor, "admin_email_verified",
	                out) == -1) ?
	    -1 :
	    0;
}

/*
 * Disabling, in the change's transaction: every session and personal
 * access token of the user ends (tombstones before the COMMIT), the
 * user is told, the audit row. 0, -1.
 */
static int
disable(struct req *r, const char *uid, const char *actor, PGresult *row)
{
	struct mail_vars mv = { { NULL } };
	PGresult *rev, *pats;
	int rc = -1;

	mv.v[MV_USERNAME] = db_value(row, 0, "username");
	rev = session_revoke(REVOKE_USER, uid, NULL, "disabled");
	pats = rev ? pat_revoke_user(uid) : NULL;
	if (pats != NULL && session_tombstones(rev) == 0 &&
	    pat_revoke_rows(pats) == 0 &&
	    mail_notice(r, MAIL_ACCOUNT_DISABLED, db_value(row, 0, "email"),
	        &mv) == 0 &&
	    audit_write_by(r, uid, actor, "admin_disable",
	        r ? "success" : "cli") == 0)
		rc = 0;
	PQclear(rev);
	PQclear(pats);
	return rc;
}

/* Apply change c to user uid, for actor (see admin.h). */
enum admin_rc
admin_update(struct req *r, const char *actor, const char *uid,
    const struct admin_change *c)
{
	const char *p[4] = { uid, c->role, NULL, NULL };
	PGresult *row = NULL;
	int last, off;

	p[2] = c->disabled == -1 ? NULL : c->disabled ? "true" : "false";
	p[3] = c->email_verified == -1 ? NULL :
	    c->email_verified          ? "true" :
	                                 "false";
	if (db_begin() == -1 || (row = db_exec(&q_lock, 1, p)) == NULL)
		goto fail;
	if (PQntuples(row) != 1) {
		PQclear(row);
		db_rollback();
		return ADM_NO_USER;
	}
	if ((last = last_admin(row, c)) != 0) {
		PQclear(row);
		db_rollback();
		return last == 1 ? ADM_LAST_ADMIN : ADM_FAILED;
	}
	off = c->disabled == 1 && *db_value(row, 0, "disabled") != 't';
	if (db_run(&q_apply, 4, p) == -1 || audit_change(r, uid, actor, c) ||
	    (off && disable(r, uid, actor, row) == -1) || db_commit() == -1)
		goto fail;
	PQclear(row);
	/* the mirror entries carry the role */
	if (c->role != NULL)
		(void)(session_mirror_user(uid) | pat_mirror_user(uid));
	return ADM_OK;
fail:
	PQclear(row);
	db_rollback();
	return ADM_FAILED;
}

/* Every session of user uid ends; *revoked: how many. */
enum admin_rc
admin_logout_all(struct req *r, const char *actor, const char *uid,
    int *revoked)
{
	const char *p[1] = { uid };
	PGresult *row = NULL, *rev = NULL;
	enum admin_rc rc = ADM_FAILED;

	if (db_begin() == -1 || (row = db_exec(&q_lock, 1, p)) == NULL)
		goto out;
	if (PQntuples(row) != 1) {
		rc = ADM_NO_USER;
		goto out;
	}
	if ((rev = session_revoke(REVOKE_USER, uid, NULL, "admin_logout")) !=
	        NULL &&
	    session_tombstones(rev) == 0 &&
	    audit_write_by(r, uid, actor, "admin_logout_all",
	        r ? "success" : "cli") == 0 &&
	    db_commit() == 0) {
		*revoked = PQntuples(rev);
		rc = ADM_OK;
	}
out:
	if (rc != ADM_OK)
		db_rollback();
	PQclear(row);
	PQclear(rev);
	return rc;
}

/* The user a name (username or email) names: 1 with uid, 0, -1. */
int
admin_uid_of(const char *name, char uid[UUID_LEN + 1])
{
	char canon[CANON_MAX + 1];
	struct user u;
	PGresult *res;
	int n;

	canon_ident(name, canon, sizeof(canon));
	if ((res = user_by_login(canon)) == NULL)
		return -1;
	if ((n = user_read(res, 0, &u) == 0))
		str_copy(uid, UUID_LEN + 1, u.id);
	PQclear(res);
	return n;
}

/* --- the routes ---------------------------------------------------- */

/* GET /admin/users?q=&limit=&after= */
void
handle_admin_users(struct req *r)
{
	char q[330], after[80], lim[12], next[80];
	struct json_object *o, *users;
	long limit = 50;
	int g;

	if ((g = req_query(r->query, "q", q, sizeof(q))) == 0)
		q[0] = '\0';
	if (g == -1 || !utf8_valid(q, strlen(q)) || has_control(q)) {
		resp_error(r, ERR_INVALID_REQUEST,
		    "Query parameter 'q' must be text of at most 320 bytes");
		return;
	}
	if ((g = req_query(r->query, "after", after, sizeof(after))) == 0)
		after[0] = '\0';
	if (g == -1 || !utf8_valid(after, strlen(after))) {
		resp_error(r, ERR_INVALID_REQUEST,
		    "Query parameter 'after' is not a cursor from 'next'");
		return;
	}
	if ((g = req_query(r->query, "limit", lim, sizeof(lim))) != 0 &&
	    (g == -1 || (limit = atol(lim)) < 1 || limit > 100 ||
	        strspn(lim, "0123456789") != strlen(lim))) {
		resp_error(r, ERR_INVALID_REQUEST,
		    "Query parameter 'limit' must be 1 to 100");
		return;
	}
	if (admin_search(q, after, limit, &users, next, sizeof(next)) == -1) {
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "users", users);
	json_object_object_add(o, "next",
	    *next ? json_object_new_string(next) : NULL);
	resp_json(r, 200, o);
}

/* The {user_id} of the path: 1, or 0 with 404 written. */
static int
target(struct req *r)
{
	if (valid_uuid(r->param))
		return 1;
	resp_error(r, ERR_NOT_FOUND, "No such user");
	return 0;
}

/* The user's object as the answer: 200, 404 or 503. */
static void
answer_user(struct req *r, const char *uid)
{
	struct json_object *o;

	if (user_get(uid, &o) == -1)
		resp_db_error(r);
	else if (o == NULL)
		resp_error(r, ERR_NOT_FOUND, "No such user");
	else
		resp_json(r, 200, o);
}

void
handle_admin_user(struct req *r)
{
	if (target(r))
		answer_user(r, r->param);
}

/* An admin_rc that is not ADM_OK, answered. */
static void
refused(struct req *r, enum admin_rc rc)
{
	if (rc == ADM_NO_USER)
		resp_error(r, ERR_NOT_FOUND, "No such user");
	else if (rc == ADM_LAST_ADMIN)
		resp_error(r, ERR_FORBIDDEN,
		    "The last admin can be neither disabled nor demoted");
	else
		resp_db_error(r);
}

void
handle_admin_user_patch(struct req *r)
{
	struct admin_change c = { r->arg[ADM_ROLE], -1, -1 };
	enum admin_rc rc;

	if (!target(r))
		return;
	if (r->arg[ADM_DISABLED] != NULL)
		c.disabled = *r->arg[ADM_DISABLED] == '1';
	if (r->arg[ADM_VERIFIED] != NULL)
		c.email_verified = *r->arg[ADM_VERIFIED] == '1';
	if (c.role == NULL && c.disabled == -1 && c.email_verified == -1) {
		resp_error(r, ERR_INVALID_REQUEST,
		    "Nothing to change: give role, disabled or email_verified");
		return;
	}
	if ((rc = admin_update(r, auth_of(r)->uid, r->param, &c)) != ADM_OK)
		refused(r, rc);
	else
		answer_user(r, r->param);
}

void
handle_admin_logout_all(struct req *r)
{
	struct json_object *o;
	enum admin_rc rc;
	int n = 0;

	if (!target(r))
		return;
	if ((rc = admin_logout_all(r, auth_of(r)->uid, r->param, &n)) !=
	    ADM_OK) {
		refused(r, rc);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "revoked", json_object_new_int(n));
	resp_json(r, 200, o);
}

void
handle_admin_mfa_reset(struct req *r)
{
	struct json_object *o;
	int rc;

	if (!target(r))
		return;
	if ((rc = mfa_reset_user(r, r->param, auth_of(r)->uid)) == 1) {
		resp_error(r, ERR_NOT_FOUND, "No such user");
		return;
	}
	if (rc == -1) {
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	resp_json(r, 200, o);
}
