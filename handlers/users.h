/*
 * The users table (users.c): its statements that several resources
 * share, the one function that reads a row of it, and the rules for the
 * values a user chooses.
 */
#ifndef FA_USERS_H
#define FA_USERS_H

#include "crypto.h"
#include "db.h"

/* The columns user_read reads, for a statement that returns a user. */
#define USER_COLS \
	"id, username, email, display_name, avatar_url, " \
	"email_verified, extract(epoch FROM created_at)::bigint AS " \
	"created_at, " \
	"role, password_hash, disabled"

struct json_object;
struct pg_result;

struct user { /* borrowed from the result it was read from */
	const char *id;
	const char *username;
	const char *email;
	const char *display_name;
	const char *avatar_url;
	int email_verified;
	long long created_at; /* epoch seconds */
	const char *role;
	const char *password_hash;
	int disabled; /* API.md: login answers 403 account_disabled */
};

struct pg_result *user_by_id(const char *uid);
struct pg_result *user_by_login(const char *canon_ident);
int user_read(struct pg_result *, int row, struct user *);
struct json_object *user_json(const struct user *);
int user_set_hash(const char *uid, const char *hash);
int user_set_verified(const char *uid);

int valid_username(const char *);
int valid_display_name(const char *);
int valid_role(const char *);
int valid_avatar_url(const char *);

#endif
