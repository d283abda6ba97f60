/*
 * Rate limits: fixed windows counted in Redis with one atomic script
 * (INCR, EXPIRE on the first hit, TTL). When Redis is unavailable the
 * workers of a host fall back to one table in shared memory (mapped by
 * the master before it forks, like the metrics), so a limit holds for
 * the host as a whole rather than failing open or per worker.
 *
 * The fallback table cannot be emptied by colliding keys: a bucket's set
 * is chosen by a keyed hash (a random key made at start, so nobody can
 * aim at a victim's set), each set holds several buckets, and a full set
 * evicts an expired bucket, else the one with the fewest hits, never a
 * bucket that has counted more than the newcomer could.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "request.h"
#include "response.h"
#include "validate.h"

static const char script[] =
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return {n, redis.call('TTL', KEYS[1])}";

#define SETS 1024
#define WAYS 8

struct bucket {
	char key[65]; /* bucket hash, "" when free */
	long count;   /* hits in the window */
	time_t reset; /* window end */
};

struct rl_shm {
	pthread_mutex_t lock;   /* process-shared, robust */
	unsigned char seed[32]; /* set-index key */
	struct bucket b[SETS][WAYS];
};

static struct rl_shm *shm;

/* The master, before it forks. 0, or -1. */
int
rl_init(void)
{
	pthread_mutexattr_t a;
	void *p;

	p = mmap(NULL, sizeof(struct rl_shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	shm = p;
	if (crypto_random(shm->seed, sizeof(shm->seed)) == -1 ||
	    pthread_mutexattr_init(&a) != 0 ||
	    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&shm->lock, &a) != 0)
		return -1;
	pthread_mutexattr_destroy(&a);
	return 0;
}

static int
lock(void)
{
	int rc = pthread_mutex_lock(&shm->lock);

	if (rc == EOWNERDEAD) /* a worker died holding it */
		rc = pthread_mutex_consistent(&shm->lock);
	return rc == 0 ? 0 : -1;
}

static struct bucket *
set_of(const char *hash)
{
	unsigned char md[32];
	size_t i;

	crypto_hmac_sha256(shm->seed, sizeof(shm->seed), hash, 64, md);
	i = ((size_t)md[0] << 8 | md[1]) % SETS;
	return shm->b[i];
}

/*
 * The bucket of hash in the shared table (made if create), or NULL.
 * Called with the lock held.
 */
static struct bucket *
find(const char *hash, int create, long window, time_t now)
{
	struct bucket *set = set_of(hash), *victim = NULL;
	int w;

	for (w = 0; w < WAYS; w++)
		if (strcmp(set[w].key, hash) == 0) {
			if (set[w].reset <= now) {
				set[w].count = 0;
				set[w].reset = now + window;
			}
			return &set[w];
		}
	if (!create)
		return NULL;
	for (w = 0; w < WAYS; w++) {
		if (set[w].key[0] == '\0' || set[w].reset <= now) {
			victim = &set[w];
			break;
		}
		if (victim == NULL || set[w].count < victim->count)
			victim = &set[w];
	}
	memcpy(victim->key, hash, sizeof(victim->key));
	victim->count = 0;
	victim->reset = now + window;
	return victim;
}

/* Count a hit in the shared table; the count, or -1 (no table). */
static long
local_hit(const char *hash, long window, long *ttl)
{
	struct bucket *b;
	time_t now = time(NULL);
	long n;

	if (shm == NULL || lock() == -1)
		return -1;
	b = find(hash, 1, window, now);
	n = ++b->count;
	*ttl = (long)(b->reset - now);
	pthread_mutex_unlock(&shm->lock);
	return n;
}

static long
local_count(const char *hash, long *ttl)
{
	struct bucket *b;
	time_t now = time(NULL);
	long n = 0;

	if (shm == NULL || lock() == -1)
		return 0;
	if ((b = find(hash, 0, 1, now)) != NULL) {
		n = b->count;
		*ttl = (long)(b->reset - now);
	}
	pthread_mutex_unlock(&shm->lock);
	return n;
}

static void
local_clear(const char *hash)
{
	struct bucket *b;

	if (shm == NULL || lock() == -1)
		return;
	if ((b = find(hash, 0, 1, time(NULL))) != NULL) {
		b->key[0] = '\0';
		b->count = 0;
	}
	pthread_mutex_unlock(&shm->lock);
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
	char buf[CANON_MAX + 64], hash[65];
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
	} else if ((n = local_hit(hash, window, &ttl)) == -1)
		n = limit + 1; /* no table either: fail closed */
	freeReplyObject(rep);
	*retry_after = ttl > 0 ? ttl : 1;
	return n > limit;
}

/* Is the bucket already over limit? Counts nothing. */
int
rl_over(const char *kind, const char *subject, long limit, long *retry_after)
{
	char buf[CANON_MAX + 64], hash[65];
	redisReply *rep;
	long n = 0, ttl = 1;

	snprintf(buf, sizeof(buf), "%s|%s", kind, subject);
	crypto_sha256_hex(buf, strlen(buf), hash);
	rep = cache_cmd("EVAL %s 1 fa:rl:%s",
	    "return {tonumber(redis.call("
	    "'GET', KEYS[1]) or '0'), redis.call('TTL', KEYS[1])}",
	    hash);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_INTEGER) {
		n = rep->element[0]->integer;
		if (rep->element[1]->type == REDIS_REPLY_INTEGER)
			ttl = rep->element[1]->integer;
	} else
		n = local_count(hash, &ttl);
	freeReplyObject(rep);
	*retry_after = ttl > 0 ? ttl : 1;
	return n >= limit;
}

/* Forget a bucket (e.g. failed logins after a success). */
void
rl_clear(const char *kind, const char *subject)
{
	char buf[CANON_MAX + 64], hash[65];
	redisReply *rep;

	snprintf(buf, sizeof(buf), "%s|%s", kind, subject);
	crypto_sha256_hex(buf, strlen(buf), hash);
	rep = cache_cmd("DEL fa:rl:%s", hash);
	freeReplyObject(rep);
	local_clear(hash);
}

/* 429 rate_limited with Retry-After. */
void
resp_rate_limited(struct req *r, long retry_after)
{
	metrics_inc(MET_RATE_LIMITED);
	resp_header(r, "Retry-After: %ld", retry_after);
	resp_error(r, ERR_RATE_LIMITED, NULL);
}
