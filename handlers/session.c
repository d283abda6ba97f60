/*
 * Sessions: Postgres is the truth, Redis mirrors it. The mirror key
 * fa:m:<epoch>:<sid> holds, while the session is active, what a check
 * needs without Postgres (session_info: the idle expiry as last written
 * and the absolute one, how and when the user signed in, the user's id, role, username and
 * email, tab-separated), or "-" (a tombstone) once it is revoked. A miss
 * falls back to Postgres and re-fills with SET NX, so a refill can never
 * overwrite a tombstone written by a concurrent revocation. The epoch
 * (cache.c) changes when Redis fails over to a replica, which may have
 * missed the last tombstones: the new master's mirror starts empty and
 * refills from Postgres.
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
#include "users.h"
#include "web_cookie.h"

#define ACTIVE \
	"revoked_at IS NULL AND idle_expires_at > now() " \
	"AND absolute_expires_at > now()"
#define REVOKED \
	" RETURNING id, extract(epoch FROM absolute_expires_at)::bigint AS " \
	"abs_exp"

static struct db_stmt q_insert = DB_STMT("session_insert",
    "INSERT INTO sessions (id, user_id, idle_expires_at, "
    "absolute_expires_at, ip, user_agent, amr, auth_time) VALUES ($1, $2, "
    "to_timestamp($3), to_timestamp($4), $5, $6, $8, to_timestamp($7))");
static struct db_stmt q_rt_insert = DB_STMT("rt_insert",
    "INSERT INTO refresh_tokens (session_id, token_hash) VALUES ($1, $2)");
static struct db_stmt q_trim = DB_STMT("session_trim",
    "UPDATE sessions SET revoked_at = now(), revoke_reason = 'limit' "
    "WHERE id IN (SELECT id FROM sessions WHERE user_id = $1 AND " ACTIVE
    " ORDER BY created_at DESC, id OFFSET $2)" REVOKED);
static struct db_stmt q_active = DB_STMT("session_active",
    "SELECT s.user_id, u.email, u.username, u.role, s.amr, "
    "extract(epoch FROM s.auth_time)::bigint AS auth_time, "
    "extract(epoch FROM s.idle_expires_at)::bigint AS idle, "
    "extract(epoch FROM s.absolute_expires_at)::bigint AS abs FROM sessions s "
    "JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND "
    "s.revoked_at IS NULL AND s.idle_expires_at > now() AND "
    "s.absolute_expires_at > now()");
static struct db_stmt q_touch = DB_STMT("session_touch",
    "UPDATE sessions SET last_used_at = now(), idle_expires_at = "
    "LEAST(to_timestamp($2), absolute_expires_at) WHERE id = $1 AND "
    "revoked_at IS NULL AND idle_expires_at > now() AND "
    "absolute_expires_at > now() RETURNING "
    "extract(epoch FROM idle_expires_at)::bigint AS idle");
static struct db_stmt q_user_active = DB_STMT("session_user_active",
    "SELECT s.id, s.user_id, u.email, u.username, u.role, s.amr, "
    "extract(epoch FROM s.auth_time)::bigint AS auth_time, "
    "extract(epoch FROM s.idle_expires_at)::bigint AS idle, "
    "extract(epoch FROM s.absolute_expires_at)::bigint AS abs FROM sessions s "
    "JOIN users u ON u.id = s.user_id WHERE s.user_id = $1 AND "
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

/*
 * The mirror key of id on the current Redis data set, whose epoch goes
 * to at: "fa:<kind>:<epoch>:<id>" (kind "m" a session, "t" a personal
 * access token's hash); -1 when Redis is unavailable.
 */
int
mirror_key_of(char kind, char *key, size_t keylen, char *at, size_t atlen,
    const char *id)
{
	size_t a, b;

	if (cache_ready() == -1)
		return -1;
	a = str_copy(at, atlen, cache_epoch());
	b = strlen(id);
	if (5 + a + 1 + b >= keylen)
		return -1;
	/* built by hand: it is made on every check */
	memcpy(key, "fa:m:", 5);
	key[3] = kind;
	memcpy(key + 5, at, a);
	key[5 + a] = ':';
	memcpy(key + 5 + a + 1, id, b + 1);
	return 0;
}

static int
mirror_key(char *key, size_t keylen, char *at, size_t atlen, const char *sid)
{
	return mirror_key_of('m', key, keylen, at, atlen, sid);
}

/* The mirror's value for an active session (the header comment). */
static int
info_format(const struct session_info *in, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%lld\t%lld\t%lld\t%s\t%s\t%s\t%s\t%s",
	    in->idle, in->abs, in->auth_time, in->amr, in->uid, in->role,
	    in->username, in->email);

	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Parse a mirror value; -1 when it is not one (then Postgres decides). */
static int
info_parse(const char *v, size_t len, struct session_info *in)
{
	const char *s = v, *end = v + len;
	char idle[24], abs[24], at[24];

	if (str_field(&s, end, idle, sizeof(idle), 0) == -1 ||
	    str_field(&s, end, abs, sizeof(abs), 0) == -1 ||
	    str_field(&s, end, at, sizeof(at), 0) == -1 ||
	    str_field(&s, end, in->amr, sizeof(in->amr), 0) == -1 ||
	    str_field(&s, end, in->uid, sizeof(in->uid), 0) == -1 ||
	    str_field(&s, end, in->role, sizeof(in->role), 0) == -1 ||
	    str_field(&s, end, in->username, sizeof(in->username), 0) == -1 ||
	    str_field(&s, end, in->email, sizeof(in->email), 1) == -1)
		return -1;
	in->idle = atoll(idle);
	in->abs = atoll(abs);
	in->auth_time = atoll(at);
	return 0;
}

void
session_mirror_set(const char *sid, const struct session_info *in,
    long long exp)
{
	redisReply *rep;
	char key[128], at[16], val[512];

	if (exp <= (long long)time(NULL) || info_format(in, val, sizeof(val)) ||
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
	    key, val, exp);
	freeReplyObject(rep);
}

/*
 * A session's idle expiry moved (refresh, a browser's sliding expiry):
 * the mirror's entry gets the new idle value and the later expiry,
 * unless it is a tombstone or missing (the next check refills it).
 */
void
session_mirror_touch(const char *sid, long long idle, long long exp)
{
	redisReply *rep;
	char key[128], at[16];

	if (mirror_key(key, sizeof(key), at, sizeof(at), sid) == -1)
		return;
	rep = cache_cmd_at(at, "EVAL %s 1 %s %lld %lld",
	    "local v = redis.call('GET', KEYS[1]) "
	    "if not v or v == '-' then return 0 end "
	    "local rest = string.match(v, '^%d+(\t.*)$') "
	    "if not rest then return 0 end "
	    "redis.call('SET', KEYS[1], ARGV[1] .. rest, 'KEEPTTL') "
	    "redis.call('EXPIREAT', KEYS[1], ARGV[2], 'GT') return 1",
	    key, idle, exp);
	freeReplyObject(rep);
}

/*
 * Write the tombstone of a revoked session (kind 'm') or personal access
 * token ('t', by its hash) until exp. 0 when it is written, or when
 * no mirror can be trusted anyway (Redis unreachable: every reader falls
 * back to Postgres; a new data set: a new epoch starts empty). -1 when
 * Redis is up but the write failed (refused, timed out): the mirror may
 * still say "active", so the revocation must not be reported as done.
 * Callers write tombstones before they COMMIT, and roll back on -1.
 */
int
mirror_tombstone(char kind, const char *id, long long exp)
{
	redisReply *rep = NULL;
	char key[128], at[16];
	int ok, none;

	if (exp <= (long long)time(NULL))
		exp = (long long)time(NULL) + 60;
	if (mirror_key_of(kind, key, sizeof(key), at, sizeof(at), id) == -1)
		return 0;
	rep = cache_cmd_at(at, "SET %s - EXAT %lld", key, exp);
	ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
	none = rep == NULL;
	freeReplyObject(rep);
	if (ok)
		return 0;
	if (none && (cache_ready() == -1 || strcmp(at, cache_epoch()) != 0))
		return 0;
	log_err("redis: tombstone for a revoked credential not written");
	return -1;
}

int
session_mirror_revoke(const char *sid, long long abs_exp)
{
	return mirror_tombstone('m', sid, abs_exp);
}

/* Tombstones for the sessions of a revocation's rows. */
int
session_tombstones(struct pg_result *res)
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
 * could not be written, since the mirror would still say "active". r is
 * NULL for the command line (nothing to answer; the audit row says cli).
 */
int
session_revoke_commit(struct req *r, struct pg_result *rows, const char *uid,
    const char *event)
{
	return session_revoke_commit_by(r, rows, uid, r ? NULL : "cli", event);
}

/* session_revoke_commit, the audit row naming actor (admin.c). */
int
session_revoke_commit_by(struct req *r, struct pg_result *rows, const char *uid,
    const char *actor, const char *event)
{
	if (session_tombstones(rows) == -1) {
		db_rollback();
		if (r != NULL)
			resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return -1;
	}
	if (audit_write_by(r, uid, actor, event, r ? "success" : "cli") == -1 ||
	    db_commit() == -1) {
		if (r != NULL)
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

/* A session_info from row i of q_active or q_user_active. */
static void
info_read(PGresult *res, int i, struct session_info *in)
{
	long long idle = atoll(db_value(res, i, "idle"));
	long long abs = atoll(db_value(res, i, "abs"));

	str_copy(in->uid, sizeof(in->uid), db_value(res, i, "user_id"));
	str_copy(in->email, sizeof(in->email), db_value(res, i, "email"));
	str_copy(in->username, sizeof(in->username),
	    db_value(res, i, "username"));
	str_copy(in->role, sizeof(in->role), db_value(res, i, "role"));
	str_copy(in->amr, sizeof(in->amr), db_value(res, i, "amr"));
	in->auth_time = atoll(db_value(res, i, "auth_time"));
	in->abs = abs;
	in->idle = idle < abs ? idle : abs;
}

/*
 * After a COMMIT that changed what the mirror holds of user uid's
 * sessions (the role): every active session's entry is rewritten from
 * Postgres, a tombstone excepted. A refill that read Postgres before
 * the COMMIT writes with NX, so it cannot overwrite these. 0, or -1 when
 * Postgres or a Redis write failed (the entries may be stale).
 */
int
session_mirror_user(const char *uid)
{
	const char *p[1] = { uid };
	struct session_info in;
	redisReply *rep;
	PGresult *res;
	char key[128], at[16], val[512];
	int i, rc = 0;

	if ((res = db_exec(&q_user_active, 1, p)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		info_read(res, i, &in);
		if (info_format(&in, val, sizeof(val)) == -1)
			rc = -1;
		else if (mirror_key(key, sizeof(key), at, sizeof(at),
		             db_value(res, i, "id")) == 0) {
			rep = cache_cmd_at(at, "EVAL %s 1 %s %s %lld",
			    "if redis.call('GET', KEYS[1]) == '-' then "
			    "return 0 end redis.call('SET', KEYS[1], ARGV[1], "
			    "'EXAT', ARGV[2]) return 1",
			    key, val, in.idle);
			if (rep == NULL || rep->type != REDIS_REPLY_INTEGER)
				rc = -1;
			freeReplyObject(rep);
		}
	}
	PQclear(res);
	return rc;
}

/*
 * Extend active session sid's idle expiry by the refresh lifetime (never
 * past its absolute expiry): 1 with the new one in *idle, 0 when it is
 * not active, -1 when Postgres failed.
 */
int
session_touch(const char *sid, long long *idle)
{
	char exp[24];
	const char *p[2] = { sid, exp };
	PGresult *res;
	int n;

	snprintf(exp, sizeof(exp), "%lld",
	    (long long)time(NULL) + cfg.refresh_ttl);
	if ((res = db_exec(&q_touch, 2, p)) == NULL)
		return -1;
	if ((n = PQntuples(res)) == 1)
		*idle = atoll(db_value(res, 0, "idle"));
	PQclear(res);
	return n == 1;
}

/*
 * Is session sid active (and, when uid is not NULL, owned by uid)?
 * Redis first, then Postgres, which re-fills the mirror. The session's
 * details go to *in when it is active.
 */
enum sess_state
session_check(const char *sid, const char *uid, struct session_info *in)
{
	const char *p[1] = { sid };
	struct session_info tmp;
	redisReply *rep;
	PGresult *res;
	char key[128], at[16];
	const char *get[2] = { "GET", key };
	int hit = 0, tomb = 0;

	if (in == NULL)
		in = &tmp;
	rep = NULL;
	if (mirror_key(key, sizeof(key), at, sizeof(at), sid) == 0)
		rep = cache_argv_at(at, 2, get);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		tomb = rep->len == 1 && rep->str[0] == '-';
		hit = tomb || info_parse(rep->str, rep->len, in) == 0;
	}
	freeReplyObject(rep);
	if (tomb)
		return SESS_INACTIVE;
	if (hit)
		return uid == NULL ||
		        (strlen(uid) == strlen(in->uid) &&
		            crypto_ct_equal(in->uid, uid, strlen(uid))) ?
		    SESS_ACTIVE :
		    SESS_INACTIVE;
	if ((res = db_exec(&q_active, 1, p)) == NULL)
		return SESS_UNAVAILABLE;
	if (PQntuples(res) != 1 ||
	    (uid != NULL && strcmp(db_value(res, 0, "user_id"), uid) != 0)) {
		PQclear(res);
		return SESS_INACTIVE;
	}
	info_read(res, 0, in);
	PQclear(res);
	session_mirror_set(sid, in, in->idle);
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
session_create(struct req *r, const char *uid, const char *amr,
    struct new_session *s)
{
	char idle[24], abs[24], hash[65], lim[24], at[24];
	unsigned char raw[TOKEN_BYTES];
	const char *p[8];
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
	snprintf(at, sizeof(at), "%lld", now);
	s->auth_time = now;
	p[0] = s->sid;
	p[1] = uid;
	p[2] = idle;
	p[3] = abs;
	p[4] = r->remote_addr;
	p[5] = r->user_agent;
	p[6] = at;
	p[7] = amr;
	if ((res = db_exec(&q_insert, 8, p)) == NULL)
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

/*
 * After the COMMIT that made session s of user u, signed in by amr: its
 * mirror entry, and
 * the cookies (the API's, and the browser session's for the whole site).
 */
void
session_start(struct req *r, const struct new_session *s, const struct user *u,
    const char *amr)
{
	struct session_info in;

	memset(&in, 0, sizeof(in));
	str_copy(in.uid, sizeof(in.uid), u->id);
	str_copy(in.role, sizeof(in.role), u->role);
	str_copy(in.username, sizeof(in.username), u->username);
	str_copy(in.email, sizeof(in.email), u->email);
	str_copy(in.amr, sizeof(in.amr), amr);
	in.auth_time = s->auth_time;
	in.idle = s->idle_exp;
	in.abs = s->abs_exp;
	session_mirror_set(s->sid, &in, s->idle_exp);
	session_cookies(r, s->sid, s->refresh, cfg.refresh_ttl);
	if (web_cookie_set(r, s->sid, s->abs_exp - s->auth_time) == -1)
		log_err("session: the browser session cookie was not set");
}

void
session_free(struct new_session *s)
{
	PQclear(s->trimmed);
	crypto_wipe(s->refresh, sizeof(s->refresh));
	s->trimmed = NULL;
}
