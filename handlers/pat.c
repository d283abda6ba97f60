/*
 * Personal access tokens: see pat.h. The mirror entry of an active
 * token is "id\tuid\tcreated\texp\tscopes\trole\tusername\temail" until
 * it expires, or "-" (a tombstone) once it is revoked; a refill from
 * Postgres writes with NX, so it never overwrites a tombstone. Its
 * last_used_at is written at most once a minute, after the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "audit.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "errors.h"
#include "pat.h"
#include "routes.h"
#include "session.h"
#include "validate.h"

static const char B62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define PAT_COLS \
	"p.id, p.user_id, extract(epoch FROM p.created_at)::bigint AS " \
	"created, extract(epoch FROM p.expires_at)::bigint AS exp, " \
	"array_to_string(p.scopes, ',') AS scopes, u.role, u.username, " \
	"u.email, p.token_hash"
#define PAT_LIVE \
	"p.revoked_at IS NULL AND p.expires_at > now() AND NOT u.disabled"

static struct db_stmt q_active = DB_STMT("pat_active",
    "SELECT " PAT_COLS " FROM personal_access_tokens p JOIN users u ON "
    "u.id = p.user_id WHERE p.token_hash = $1 AND " PAT_LIVE);
static struct db_stmt q_user_active = DB_STMT("pat_user_active",
    "SELECT " PAT_COLS " FROM personal_access_tokens p JOIN users u ON "
    "u.id = p.user_id WHERE p.user_id = $1 AND " PAT_LIVE);
static struct db_stmt q_used = DB_STMT("pat_used",
    "UPDATE personal_access_tokens SET last_used_at = now() WHERE id = $1");
static struct db_stmt q_revoke_user = DB_STMT("pat_revoke_user",
    "UPDATE personal_access_tokens SET revoked_at = now() WHERE user_id = "
    "$1 AND revoked_at IS NULL AND expires_at > now() RETURNING "
    "token_hash, extract(epoch FROM expires_at)::bigint AS exp");
/* CRC-32 (IEEE 802.3, as zlib's crc32()) of n bytes. */
static unsigned long
crc32_of(const char *s, size_t n)
{
	unsigned long c = 0xffffffffUL;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320UL & (0UL - (c & 1)));
	}
	return c ^ 0xffffffffUL;
}

/* The 6 base62 digits of the CRC-32 of the random part r. */
static void
checksum(const char *r, char out[7])
{
	unsigned long c = crc32_of(r, PAT_RANDOM);
	int i;

	for (i = 5; i >= 0; i--) {
		out[i] = B62[c % 62];
		c /= 62;
	}
	out[6] = '\0';
}

/* Is it shaped like a token: prefix, base62, a right checksum? */
int
pat_shaped(const char *tok, size_t len)
{
	char sum[7];
	size_t i;

	/* tok is len bytes, not a string: nothing reads past them */
	if (len != PAT_LEN || memcmp(tok, PAT_PREFIX, 7) != 0)
		return 0;
	for (i = 7; i < len; i++)
		if (tok[i] == '\0' || strchr(B62, tok[i]) == NULL)
			return 0;
	checksum(tok + 7, sum);
	return memcmp(sum, tok + 7 + PAT_RANDOM, 6) == 0;
}

/* A new token: 40 uniform base62 characters (238 bits), its checksum. */
int
pat_generate(char out[PAT_LEN + 1])
{
	unsigned char b[64];
	size_t n = 0, i;

	memcpy(out, PAT_PREFIX, 7);
	while (n < PAT_RANDOM) {
		if (crypto_random(b, sizeof(b)) == -1)
			return -1;
		for (i = 0; i < sizeof(b) && n < PAT_RANDOM; i++)
			if (b[i] < 248) /* 4 * 62: no modulo bias */
				out[7 + n++] = B62[b[i] % 62];
	}
	checksum(out + 7, out + 7 + PAT_RANDOM);
	crypto_wipe(b, sizeof(b));
	return 0;
}

static int
info_format(const struct pat_info *in, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s\t%s\t%lld\t%lld\t%s\t%s\t%s\t%s",
	    in->id, in->uid, in->created, in->exp, in->scopes, in->role,
	    in->username, in->email);

	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int
info_parse(const char *v, size_t len, struct pat_info *in)
{
	const char *s = v, *end = v + len;
	char c[24], e[24];

	if (str_field(&s, end, in->id, sizeof(in->id), 0) == -1 ||
	    str_field(&s, end, in->uid, sizeof(in->uid), 0) == -1 ||
	    str_field(&s, end, c, sizeof(c), 0) == -1 ||
	    str_field(&s, end, e, sizeof(e), 0) == -1 ||
	    str_field(&s, end, in->scopes, sizeof(in->scopes), 0) == -1 ||
	    str_field(&s, end, in->role, sizeof(in->role), 0) == -1 ||
	    str_field(&s, end, in->username, sizeof(in->username), 0) == -1 ||
	    str_field(&s, end, in->email, sizeof(in->email), 1) == -1)
		return -1;
	in->created = atoll(c);
	in->exp = atoll(e);
	return 0;
}

static void
info_read(PGresult *res, int i, struct pat_info *in)
{
	str_copy(in->id, sizeof(in->id), db_value(res, i, "id"));
	str_copy(in->uid, sizeof(in->uid), db_value(res, i, "user_id"));
	in->created = atoll(db_value(res, i, "created"));
	in->exp = atoll(db_value(res, i, "exp"));
	str_copy(in->scopes, sizeof(in->scopes), db_value(res, i, "scopes"));
	str_copy(in->role, sizeof(in->role), db_value(res, i, "role"));
	str_copy(in->username, sizeof(in->username),
	    db_value(res, i, "username"));
	str_copy(in->email, sizeof(in->email), db_value(res, i, "email"));
}

/* Mirror hash's entry: NX (a refill) or over anything but a tombstone. */
static int
mirror_put(const char *hash, const struct pat_info *in, int refill)
{
	char key[128], at[16], val[1200];
	redisReply *rep;
	int ok;

	if (info_format(in, val, sizeof(val)) == -1 ||
	    mirror_key_of('t', key, sizeof(key), at, sizeof(at), hash) == -1)
		return -1;
	rep = cache_cmd_at(at, "EVAL %s 1 %s %s %lld %d",
	    "if ARGV[3] == '1' then return redis.call('SET', KEYS[1], "
	    "ARGV[1], 'EXAT', ARGV[2], 'NX') end "
	    "if redis.call('GET', KEYS[1]) == '-' then return 0 end "
	    "return redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])",
	    key, val, in->exp, refill);
	ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/*
 * Is tok an active token? 1 with *in filled, 0 when not, -1 when
 * neither Redis nor Postgres can say.
 */
int
pat_check(const char *tok, size_t len, struct pat_info *in)
{
	char hash[65], key[128], at[16];
	const char *get[2] = { "GET", key }, *p[1] = { hash };
	redisReply *rep = NULL;
	PGresult *res;
	int hit = 0, tomb = 0, n;

	if (!pat_shaped(tok, len))
		return 0;
	crypto_sha256_hex(tok, len, hash);
	if (mirror_key_of('t', key, sizeof(key), at, sizeof(at), hash) == 0)
		rep = cache_argv_at(at, 2, get);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		tomb = rep->len == 1 && rep->str[0] == '-';
		hit = tomb || info_parse(rep->str, rep->len, in) == 0;
	}
	freeReplyObject(rep);
	if (hit)
		return !tomb && in->exp > (long long)time(NULL);
	if ((res = db_exec(&q_active, 1, p)) == NULL)
		return -1;
	if ((n = PQntuples(res)) == 1) {
		info_read(res, 0, in);
		(void)mirror_put(hash, in, 1);
	}
	PQclear(res);
	return n == 1;
}

/*
 * After the answer of a request token id authenticated: its last_used_at,
 * at most once a minute per token. The Redis key decides which worker
 * writes; each worker remembers the tokens it asked about in the last
 * minute, so a busy token costs no round trip at all.
 */
void
pat_touch(const char *id)
{
	static struct {
		char id[UUID_LEN + 1];
		time_t at;
	} seen[64];
	const char *p[1] = { id };
	time_t now = time(NULL);
	unsigned h = (unsigned)crc32_of(id, strlen(id)) % 64;
	redisReply *rep;
	int first;

	if (strcmp(seen[h].id, id) == 0 && now - seen[h].at < 60)
		return;
	str_copy(seen[h].id, sizeof(seen[h].id), id);
	seen[h].at = now;
	rep = cache_cmd("SET fa:tu:%s 1 EX 60 NX", id);
	first = rep != NULL && rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	if (first)
		(void)db_run(&q_used, 1, p);
}

/* In the caller's transaction: every live token of uid, revoked. */
struct pg_result *
pat_revoke_user(const char *uid)
{
	const char *p[1] = { uid };

	return db_exec(&q_revoke_user, 1, p);
}

/* Tombstones for the tokens of revoked rows (token_hash, exp): 0, -1. */
int
pat_revoke_rows(struct pg_result *res)
{
	int i, rc = 0;

	for (i = 0; res != NULL && i < PQntuples(res); i++)
		if (mirror_tombstone('t', db_value(res, i, "token_hash"),
		        atoll(db_value(res, i, "exp"))) == -1)
			rc = -1;
	return rc;
}

/* After a COMMIT that changed the user's role or email: the mirror. */
int
pat_mirror_user(const char *uid)
{
	const char *p[1] = { uid };
	struct pat_info in;
	PGresult *res;
	int i, rc = 0;

	if ((res = db_exec(&q_user_active, 1, p)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		info_read(res, i, &in);
		if (mirror_put(db_value(res, i, "token_hash"), &in, 0) == -1)
			rc = -1;
	}
	PQclear(res);
	return rc;
}

/* A scope: 1-64 of a-z 0-9 : . _ - (no comma: the mirror joins them). */
int
valid_scope(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789:._-") == n;
}
