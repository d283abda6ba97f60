/*
 * Sessions: Postgres is the truth, Redis mirrors it. The mirror key
 * fa:s:<epoch>:<sid> holds the user id while the session is active, or
 * "-" (a tombstone) once it is revoked. A miss falls back to Postgres and
 * re-fills with SET NX, so a refill can never overwrite a tombstone
 * written by a concurrent revocation. The epoch (cache.c) changes when
 * Redis fails over to a replica, which may have missed the last
 * tombstones: the new master's mirror starts empty and refills from
 * Postgres.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "cache.h"
#include "config.h"
#include "datakey.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "session.h"

#define ACTIVE \
	"revoked_at IS NULL AND idle_expires_at > now() " \
	"AND absolute_expires_at > now()"
#define REVOKED \
	" RETURNING id, extract(epoch FROM absolute_expires_at)::bigint AS " \
	"abs_exp"

static struct db_stmt q_insert = DB_STMT("session_insert",
    "INSERT INTO sessions (id, user_id, idle_expires_at, "
    "absolute_expires_at, ip, user_agent) VALUES ($1, $2, "
    "to_timestamp($3), to_timestamp($4), $5, $6)");
static struct db_stmt q_rt_insert = DB_STMT("rt_insert",
    "INSERT INTO refresh_tokens (session_id, token_hash) VALUES ($1, $2)");
static struct db_stmt q_trim = DB_STMT("session_trim",
    "UPDATE sessions SET revoked_at = now(), revoke_reason = 'limit' "
    "WHERE id IN (SELECT id FROM sessions WHERE user_id = $1 AND " ACTIVE
    " ORDER BY created_at DESC, id OFFSET $2)" REVOKED);
static struct db_stmt q_active = DB_STMT("session_active",
    "SELECT s.user_id, u.email, "
    "extract(epoch FROM s.idle_expires_at)::bigint AS idle, "
    "extract(epoch FROM s.absolute_expires_at)::bigint AS abs FROM sessions s "
    "JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND "
    "s.revoked_at IS NULL AND s.idle_expires_at > now() AND "
    "s.absolute_expires_at > now()");
/* Every revocation answers (id, abs_exp) per session it ended. */
static struct db_stmt q_revoke[] = {
	[REVOKE_ONE] = DB_STMT("session_revoke",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE id = $1 AND revoked_at IS NULL" REVOKED),
	[REVOKE_OWN] = DB_STMT("session_revoke_own",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = "
	    "'deleted' WHERE id = $1 AND user_id = $2 AND " ACTIVE REVOKED),
	[REVOKE_USER] = DB_STMT("session_revoke_user",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE user_id = $1 AND " ACTIVE REVOKED),
	[REVOKE_OTHERS] = DB_STMT("session_revoke_others",
	    "UPDATE sessions SET revoked_at = now(), revoke_reason = $2 "
	    "WHERE user_id = $1 AND id <> $3 AND " ACTIVE REVOKED),
};

/* The mirror key of sid on the current Redis data set, whose epoch goes
 * to at; -1 when Redis is unavailable. */
static int
mirror_key(char *key, size_t keylen, char *at, size_t atlen, const char *sid)
{
	size_t a, b;

	if (cache_ready() == -1)
		return -1;
	a = str_copy(at, atlen, cache_epoch());
	b = strlen(sid);
	if (5 + a + 1 + b >= keylen)
		return -1;
	/* "fa:s:<epoch>:<sid>", built by hand: it is made on every check */
	memcpy(key, "fa:s:", 5);
	memcpy(key + 5, at, a);
	key[5 + a] = ':';
	memcpy(key + 5 + a + 1, sid, b + 1);
	return 0;
}

void
session_mirror_set(const char *sid, const char *uid, long long exp)
{
	redisReply *rep;
	char key[128], at[16];

	if (exp <= (long long)time(NULL) ||
	    mirror_key(key, sizeof(key), at, sizeof(at), sid) == -1)
		return;
	/*
	 * One round trip: SET NX never overwrites a tombstone a concurrent
	 * revocation wrote (so a refill from Postgres after a miss cannot
	 * either); an existing entry gets the later expiry (GT never
	 * shortens it).
	 */
	rep = cache_cmd_at(at, "EVAL %s 1 %s %s %lld",
	    "if redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2], 'NX') "
	    "then return 1 end "
	    "redis.call('EXPIREAT', KEYS[1], ARGV[2], 'GT') return 0",
	    key, uid, exp);
	freeReplyObject(rep);
}

/*
 * Write the tombstone of a revoked session. 0 when it is written, or when
 * no mirror can be trusted anyway (Redis unreachable: every reader falls
 * back to Postgres; a new data set: a new epoch starts empty). -1 when
 * Redis is up but the write failed (refused, timed out): the mirror may
 * still say "active", so the revocation must not be reported as done.
 * Callers write tombstones before they COMMIT, and roll back on -1.
 */
int
session_mirror_revoke(const char *sid, long long abs_exp)
{
	redisReply *rep = NULL;
	char key[128], at[16];
	int ok, none;

	if (abs_exp <= (long long)time(NULL))
		abs_exp = (long long)time(NULL) + 60;
	if (mirror_key(key, sizeof(key), at, sizeof(at), sid) == -1)
		return 0;
	rep = cache_cmd_at(at, "SET %s - EXAT %lld", key, abs_exp);
	ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
	none = rep == NULL;
	freeReplyObject(rep);
	if (ok)
		return 0;
	if (none && (cache_ready() == -1 || strcmp(at, cache_epoch()) != 0))
		return 0;
	log_err("redis: tombstone for a revoked session not written");
	return -1;
}

/* Tombstones for the sessions of a revocation's rows. */
static int
mirror_revoke_rows(struct pg_result *res)
{
	int i, rc = 0;

	for (i = 0; res != NULL && i < PQntuples(res); i++)
		if (session_mirror_revoke(db_value(res, i, "id"),
		        atoll(db_value(res, i, "abs_exp"))) == -1)
			rc = -1;
	return rc;
}

/*
 * End a transaction that revoked the sessions of rows (RETURNING id,
 * abs_exp): their tombstones first, then the audit row, then COMMIT.
 * 0, or -1 with the answer written: 503 (rolled back) when a tombstone
 * could not be written, since the mirror would still say "active".
 */
int
session_revoke_commit(struct req *r, struct pg_result *rows, const char *uid,
    const char *event)
{
	if (mirror_revoke_rows(rows) == -1) {
		db_rollback();
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return -1;
	}
	if (audit_write(r, uid, event, "success") == -1 || db_commit() == -1) {
		resp_db_error(r);
		return -1;
	}
	return 0;
}

/*
 * In the caller's transaction: revoke the sessions of scope, for the
 * reason (REVOKE_OWN: always "deleted"). The rows for
 * session_revoke_commit, or NULL when the statement failed.
 */
struct pg_result *
session_revoke(enum revoke_scope scope, const char *key, const char *also,
    const char *reason)
{
	const char *p[3];

	p[0] = key;
	switch (scope) {
	case REVOKE_OWN:
		p[1] = also;
		return db_exec(&q_revoke[scope], 2, p);
	case REVOKE_OTHERS:
		p[1] = reason;
		p[2] = also;
		return db_exec(&q_revoke[scope], 3, p);
	default:
		p[1] = reason;
		return db_exec(&q_revoke[scope], 2, p);
	}
}

/*
 * The user and email of active session sid: 1, 0 when it is not active,
 * -1 when Postgres failed.
 */
int
session_active(const char *sid, char uid[UUID_LEN + 1], char *email,
    size_t emaillen)
{
	const char *p[1] = { sid };
	PGresult *res;
	int n;

	if ((res = db_exec(&q_active, 1, p)) == NULL)
		return -1;
	if ((n = PQntuples(res)) == 1) {
		snprintf(uid, UUID_LEN + 1, "%s", db_value(res, 0, "user_id"));
		snprintf(email, emaillen, "%s", db_value(res, 0, "email"));
	}
	PQclear(res);
	return n == 1;
}

/* Is session sid active and owned by uid? Redis first, then Postgres. */
enum sess_state
session_check(const char *sid, const char *uid)
{
	const char *p[1] = { sid };
	redisReply *rep;
	PGresult *res;
	enum sess_state st;
	long long idle, abs;

	char key[128], at[16];
	const char *get[2] = { "GET", key };

	rep = NULL;
	if (mirror_key(key, sizeof(key), at, sizeof(at), sid) == 0)
		rep = cache_argv_at(at, 2, get);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		st = strlen(uid) == rep->len &&
		        crypto_ct_equal(rep->str, uid, rep->len) ?
		    SESS_ACTIVE :
		    SESS_INACTIVE;
		freeReplyObject(rep);
		return st;
	}
	freeReplyObject(rep);
	if ((res = db_exec(&q_active, 1, p)) == NULL)
		return SESS_UNAVAILABLE;
	if (PQntuples(res) != 1 ||
	    strcmp(db_value(res, 0, "user_id"), uid) != 0) {
		PQclear(res);
		return SESS_INACTIVE;
	}
	idle = atoll(db_value(res, 0, "idle"));
	abs = atoll(db_value(res, 0, "abs"));
	PQclear(res);
	session_mirror_set(sid, uid, idle < abs ? idle : abs);
	return SESS_ACTIVE;
}

/* Set (max_age > 0) or clear (max_age == 0) the session cookies. */
void
session_cookies(struct req *r, const char *sid, const char *refresh,
    long long max_age)
{
	const char *attrs = cfg.dev ?
	    "; Path=/api/v1; HttpOnly; SameSite=Strict" :
	    "; Path=/api/v1; HttpOnly; SameSite=Strict; Secure";

	resp_header(r, "Set-Cookie: sid=%s; Max-Age=%lld%s", max_age ? sid : "",
	    max_age, attrs);
	resp_header(r, "Set-Cookie: refresh=%s; Max-Age=%lld%s",
	    max_age ? refresh : "", max_age, attrs);
}

/*
 * A refresh token's successor: HMAC-SHA256(refresh subkey of the data
 * key, token), base64url. Only the holder of the token and the server
 * can compute it, so a replay within the grace window gets the same
 * successor without any token being stored; the key is not in the
 * database, so a copy of it cannot compute successors either.
 */
int
session_successor(const char *token, char out[TOKEN_B64_LEN + 1])
{
	unsigned char key[32], md[32];
	int rc;

	if (datakey_sub(DK_REFRESH, key) == -1)
		return -1;
	rc = crypto_hmac_sha256(key, sizeof(key), token, strlen(token), md);
	crypto_wipe(key, sizeof(key));
	if (rc == -1)
		return -1;
	b64url_encode(md, sizeof(md), out, TOKEN_B64_LEN + 1);
	crypto_wipe(md, sizeof(md));
	return 0;
}

/*
 * Inside the caller's transaction: create a session and its first refresh
 * token, and revoke the oldest sessions beyond the per-user limit.
 * Fills s (the caller commits, then mirrors and answers).
 */
int
session_create(struct req *r, const char *uid, struct new_session *s)
{
	char idle[24], abs[24], hash[65], lim[24];
	unsigned char raw[TOKEN_BYTES];
	const char *p[6];
	PGresult *res;
	long long now = (long long)time(NULL);

	memset(s, 0, sizeof(*s));
	if (crypto_uuid(s->sid) == -1 || crypto_token(s->refresh, raw) == -1)
		return -1;
	crypto_wipe(raw, sizeof(raw));
	s->abs_exp = now + cfg.session_max_ttl;
	s->idle_exp = now + cfg.refresh_ttl;
	if (s->idle_exp > s->abs_exp)
		s->idle_exp = s->abs_exp;
	snprintf(idle, sizeof(idle), "%lld", s->idle_exp);
	snprintf(abs, sizeof(abs), "%lld", s->abs_exp);
	p[0] = s->sid;
	p[1] = uid;
	p[2] = idle;
	p[3] = abs;
	p[4] = r->remote_addr;
	p[5] = r->user_agent;
	if ((res = db_exec(&q_insert, 6, p)) == NULL)
		return -1;
	PQclear(res);
	crypto_sha256_hex(s->refresh, strlen(s->refresh), hash);
	p[0] = s->sid;
	p[1] = hash;
	if ((res = db_exec(&q_rt_insert, 2, p)) == NULL)
		return -1;
	PQclear(res);
	snprintf(lim, sizeof(lim), "%ld", cfg.max_sessions);
	p[0] = uid;
	p[1] = lim;
	if ((s->trimmed = db_exec(&q_trim, 2, p)) == NULL)
		return -1;
	return 0;
}

void
session_free(struct new_session *s)
{
	PQclear(s->trimmed);
	crypto_wipe(s->refresh, sizeof(s->refresh));
	s->trimmed = NULL;
}
