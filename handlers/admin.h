/*
 * Administration (admin.c): what the admin API (role admin) and the
 * operator's command line (fcgi-auth user ...) both do, with the same
 * rules and audit rows: the actor is the admin's user id, or "cli".
 */
#ifndef FA_ADMIN_H
#define FA_ADMIN_H

#include "crypto.h"

struct json_object;
struct pg_result;
struct req;

/* What a change asks for: NULL / -1 for "leave it". */
struct admin_change {
	const char *role;
	int disabled;
	int email_verified;
};
enum admin_rc {
	ADM_OK = 0,
	ADM_NO_USER = 1,
	ADM_LAST_ADMIN = 2,
	ADM_FAILED = -1
};

int admin_search(const char *q, const char *after, long limit,
    struct json_object **users, char *next, size_t nextlen);
struct json_object *admin_user(const char *uid);
enum admin_rc admin_update(struct req *, const char *actor, const char *uid,
    const struct admin_change *);
enum admin_rc admin_logout_all(struct req *, const char *actor, const char *uid,
    int *revoked);
int admin_uid_of(const char *name, char uid[UUID_LEN + 1]);

#endif
