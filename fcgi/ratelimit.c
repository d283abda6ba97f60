/*
 * Rate limits: fixed windows counted in Redis with one atomic script
 * (INCR, EXPIRE on the first hit, TTL). When Redis is unavailable each
 * worker falls back to its own in-memory counters, so limits hold
 * (per worker, i.e. up to AUTH_WORKERS times looser) rather than
 * failing open or locking everyone out.
 */
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "fcgi-auth.h"

static const char script[] =
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return {n, redis.call('TTL', KEYS[1])}";

#define LOCAL_SLOTS	4096

static struct {
	char	 key[65];	/* bucket hash */
	long	 count;		/* hits in the window */
	time_t	 reset;		/* window end */
} local[LOCAL_SLOTS];

static long
local_hit(const char *hash, long window, long *ttl)
{
	size_t i = 0, k;
	time_t now = time(NULL);

	for (k = 0; k < 8; k++)
		i = i * 16 + (size_t)(hash[k] <= '9' ? hash[k] - '0' :
		    hash[k] - 'a' + 10);
	i %= LOCAL_SLOTS;
	if (strcmp(local[i].key, hash) != 0 || local[i].reset <= now) {
		memcpy(local[i].key, hash, sizeof(local[i].key));
		local[i].count = 0;
		local[i].reset = now + window;
	}
	*ttl = (long)(local[i].reset - now);
	return ++local[i].count;
}

/*
 * Count one hit in bucket (kind, subject) and say whether it is over
 * limit per window seconds. The subject (an email, an address) is
 * hashed so no personal data is a Redis key. *retry_after is set when
 * limited.
 */
int
rl_hit(const char *kind, const char *subject, long limit, long window,
    long *retry_after)
{
	char buf[512], hash[65];
	redisReply *rep;
	long n, ttl = window;

	snprintf(buf, sizeof(buf), "%s|%s", kind, subject);
	crypto_sha256_hex(buf, strlen(buf), hash);
	rep = cache_cmd("EVAL %s 1 fa:rl:%s %ld", script, hash, window);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_INTEGER) {
		n = rep->element[0]->integer;
		if (rep->element[1]->type == REDIS_REPLY_INTEGER &&
		    rep->element[1]->integer > 0)
			ttl = rep->element[1]->integer;
	} else
		n = local_hit(hash, window, &ttl);
	freeReplyObject(rep);
	*retry_after = ttl > 0 ? ttl : 1;
	return n > limit;
}

/* Is the bucket already over limit? Counts nothing. */
int
rl_over(const char *kind, const char *subject, long limit, long *retry_after)
{
	char buf[512], hash[65];
	redisReply *rep;
	long n = 0, ttl = 1;
	size_t i;

	snprintf(buf, sizeof(buf), "%s|%s", kind, subject);
	crypto_sha256_hex(buf, strlen(buf), hash);
	rep = cache_cmd("EVAL %s 1 fa:rl:%s", "return {tonumber(redis.call("
	    "'GET', KEYS[1]) or '0'), redis.call('TTL', KEYS[1])}", hash);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_INTEGER) {
		n = rep->element[0]->integer;
		if (rep->element[1]->type == REDIS_REPLY_INTEGER)
			ttl = rep->element[1]->integer;
	} else {
		for (i = 0; i < LOCAL_SLOTS; i++)
			if (strcmp(local[i].key, hash) == 0 &&
			    local[i].reset > time(NULL)) {
				n = local[i].count;
				ttl = (long)(local[i].reset - time(NULL));
			}
	}
	freeReplyObject(rep);
	*retry_after = ttl > 0 ? ttl : 1;
	return n >= limit;
}

/* Forget a bucket (e.g. failed logins after a success). */
void
rl_clear(const char *kind, const char *subject)
{
	char buf[512], hash[65];
	redisReply *rep;
	size_t i;

	snprintf(buf, sizeof(buf), "%s|%s", kind, subject);
	crypto_sha256_hex(buf, strlen(buf), hash);
	rep = cache_cmd("DEL fa:rl:%s", hash);
	freeReplyObject(rep);
	for (i = 0; i < LOCAL_SLOTS; i++)
		if (strcmp(local[i].key, hash) == 0)
			local[i].key[0] = '\0';
}

/* 429 rate_limited with Retry-After. */
void
resp_rate_limited(struct req *r, long retry_after)
{
	metrics_inc(MET_RATE_LIMITED);
	resp_header(r, "Retry-After: %ld", retry_after);
	resp_error(r, ERR_RATE_LIMITED, NULL);
}
