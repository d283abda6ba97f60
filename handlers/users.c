/*
 * The users table: the statements several resources share, one reader
 * of its rows (columns by name, not by position), and the rules for what
 * a user may choose as a username, display name or avatar.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "db.h"
#include "users.h"
#include "validate.h"

static struct db_stmt q_by_id =
    DB_STMT("user_by_id", "SELECT " USER_COLS " FROM users WHERE id = $1");
static struct db_stmt q_by_login = DB_STMT("user_by_login",
    "SELECT " USER_COLS " FROM users "
    "WHERE lower(username) = lower($1) OR lower(email) = lower($1) LIMIT 1");
static struct db_stmt q_set_hash = DB_STMT("user_set_hash",
    "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1");
static struct db_stmt q_set_verified = DB_STMT("user_set_verified",
    "UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1");

struct pg_result *
user_by_id(const char *uid)
{
	const char *p[1] = { uid };

	return db_exec(&q_by_id, 1, p);
}

/* By username or email, whichever matches (canon_ident'd by the caller). */
struct pg_result *
user_by_login(const char *ident)
{
	const char *p[1] = { ident };

	return db_exec(&q_by_login, 1, p);
}

/*
 * Row `row` of a result with the users table's columns (USER_COLS, or a
 * subset: a column the query did not select reads as ""). 0, or -1
 * when there is no such row.
 */
int
user_read(PGresult *res, int row, struct user *u)
{
	memset(u, 0, sizeof(*u));
	if (res == NULL || row < 0 || row >= PQntuples(res))
		return -1;
	u->id = db_value(res, row, "id");
	u->username = db_value(res, row, "username");
	u->email = db_value(res, row, "email");
	u->display_name = db_value(res, row, "display_name");
	u->avatar_url = db_value(res, row, "avatar_url");
	u->role = db_value(res, row, "role");
	u->password_hash = db_value(res, row, "password_hash");
	u->email_verified = *db_value(res, row, "email_verified") == 't';
	u->disabled = *db_value(res, row, "disabled") == 't';
	u->created_at = atoll(db_value(res, row, "created_at"));
	return 0;
}

/* The profile of API.md (GET /user/info): never the hash or the role. */
struct json_object *
user_json(const struct user *u)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "user_id", json_object_new_string(u->id));
	json_object_object_add(o, "username",
	    json_object_new_string(u->username));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "display_name",
	    json_object_new_string(u->display_name));
	json_object_object_add(o, "avatar_url",
	    json_object_new_string(u->avatar_url));
	json_object_object_add(o, "email_verified",
	    json_object_new_boolean(u->email_verified));
	json_object_object_add(o, "created_at",
	    json_object_new_int64(u->created_at));
	return o;
}

int
user_set_hash(const char *uid, const char *hash)
{
	const char *p[2] = { uid, hash };

	return db_run(&q_set_hash, 2, p);
}

int
user_set_verified(const char *uid)
{
	const char *p[1] = { uid };

	return db_run(&q_set_verified, 1, p);
}

int
valid_username(const char *s)
{
	return valid_name(s, 3, 32);
}

/* At most 64 characters of text (no control characters). */
int
valid_display_name(const char *s)
{
	return utf8_chars(s) <= 64 && !has_control(s);
}

/* "" (remove it) or an https:// URL. */
int
valid_avatar_url(const char *s)
{
	return *s == '\0' || valid_https_url(s);
}

/* A role: "user" or "admin". */
int
valid_role(const char *s)
{
	return strcmp(s, "user") == 0 || strcmp(s, "admin") == 0;
}
