/*
 * Sessions (session.c): Postgres is the truth, Redis mirrors it. A
 * session is created in the caller's transaction; revocations write the
 * mirror's tombstones before the COMMIT that makes them true.
 */
#ifndef FA_SESSION_H
#define FA_SESSION_H

#include "crypto.h"

struct pg_result;
struct req;

enum sess_state { SESS_ACTIVE, SESS_INACTIVE, SESS_UNAVAILABLE };
/* What the mirror knows of an active session (session.c's header). */
struct session_info {
	char uid[UUID_LEN + 1]; /* its user */
	char role[16];          /* the user's role */
	char username[72];      /* the user's username */
	char email[256];        /* the user's email */
	char amr[32];           /* how the user signed in ("pwd") */
	long long auth_time;    /* when, epoch s */
	long long idle;         /* min(idle, absolute expiry) as last written */
	long long abs;          /* absolute expiry, epoch s */
};
struct new_session {
	char sid[UUID_LEN + 1];          /* new session id */
	char refresh[TOKEN_B64_LEN + 1]; /* its first refresh token */
	long long idle_exp;              /* idle expiry, epoch s */
	long long abs_exp;               /* absolute expiry, epoch s */
	long long auth_time;             /* when the user signed in */
	struct pg_result *trimmed;       /* sessions revoked by the limit */
};
/* Which sessions a revocation ends (session_revoke). */
enum revoke_scope {
	REVOKE_ONE,    /* key: the session id */
	REVOKE_OWN,    /* key: session id, also: its user (DELETE) */
	REVOKE_USER,   /* key: the user id: every session */
	REVOKE_OTHERS, /* key: user id, also: the session to keep */
};

enum sess_state
session_check(const char *sid, const char *uid, struct session_info *);
void
session_mirror_set(const char *sid, const struct session_info *, long long exp);
void session_mirror_touch(const char *sid, long long idle, long long exp);
int session_touch(const char *sid, long long *idle);
int session_mirror_user(const char *uid);
int session_mirror_revoke(const char *sid, long long abs_exp);
int mirror_key_of(char kind, char *key, size_t keylen, char *at, size_t atlen,
    const char *id);
int mirror_tombstone(char kind, const char *id, long long exp);
int session_tombstones(struct pg_result *rows);
struct pg_result *session_revoke(enum revoke_scope, const char *key,
    const char *also, const char *reason);
int session_revoke_commit_by(struct req *, struct pg_result *rows,
    const char *uid, const char *actor, const char *event);
int session_revoke_commit(struct req *, struct pg_result *rows, const char *uid,
    const char *event);
int session_create(struct req *, const char *uid, const char *amr,
    struct new_session *);
struct user;
void session_start(struct req *, const struct new_session *,
    const struct user *, const char *amr);
void session_free(struct new_session *);
void session_cookies(struct req *, const char *sid, const char *refresh,
    long long max_age);
int session_successor(const char *token, char out[TOKEN_B64_LEN + 1]);

#endif
