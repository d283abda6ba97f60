/*
 * The worker's Redis connection: lazily connected with a timeout; after
 * any error the context is dead, so it is freed and re-made on next use.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "fcgi-auth.h"

static redisContext *rc;

void
cache_close(void)
{
	if (rc != NULL)
		redisFree(rc);
	rc = NULL;
}

/* AUTH_REDIS_URL: redis://[:password@]host[:port][/db] or unix:/path */
static int
cache_connect(void)
{
	struct timeval tv = { 1, 0 };
	char host[256] = "127.0.0.1", pass[256] = "";
	const char *u = cfg.redis_url, *p, *at, *slash;
	long port = 6379, db = 0;
	redisReply *rep;

	cache_close();
	if (strncmp(u, "unix:", 5) == 0) {
		rc = redisConnectUnixWithTimeout(u + 5, tv);
	} else {
		p = u + 8;
		if ((at = strchr(p, '@')) != NULL) {
			const char *colon = memchr(p, ':', (size_t)(at - p));

			if (colon != NULL)
				snprintf(pass, sizeof(pass), "%.*s",
				    (int)(at - colon - 1), colon + 1);
			p = at + 1;
		}
		slash = strchr(p, '/');
		snprintf(host, sizeof(host), "%.*s", (int)(slash ?
		    (size_t)(slash - p) : strlen(p)), p);
		if (host[0] != '[' && strrchr(host, ':') != NULL) {
			port = strtol(strrchr(host, ':') + 1, NULL, 10);
			*strrchr(host, ':') = '\0';
		}
		if (slash != NULL)
			db = strtol(slash + 1, NULL, 10);
		rc = redisConnectWithTimeout(host, (int)port, tv);
	}
	if (rc == NULL || rc->err) {
		metrics_inc(MET_REDIS_CONNECT_FAIL);
		log_warn("redis: connect failed: %s", rc ? rc->errstr :
		    "out of memory");
		cache_close();
		return -1;
	}
	redisSetTimeout(rc, tv);
	if (pass[0]) {
		rep = redisCommand(rc, "AUTH %s", pass);
		crypto_wipe(pass, sizeof(pass));
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			log_err("redis: AUTH failed");
			freeReplyObject(rep);
			cache_close();
			return -1;
		}
		freeReplyObject(rep);
	}
	if (db != 0) {
		rep = redisCommand(rc, "SELECT %ld", db);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			log_err("redis: SELECT %ld failed", db);
			freeReplyObject(rep);
			cache_close();
			return -1;
		}
		freeReplyObject(rep);
	}
	log_info("redis: connected");
	metrics_inc(MET_REDIS_CONNECT);
	return 0;
}

/*
 * Run one command. NULL means Redis is unavailable (the caller falls back
 * or answers 503); an error reply is returned as a reply. A connection
 * that died since the last use is re-made and the command retried once.
 */
redisReply *
cache_cmd(const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (rc == NULL && cache_connect() == -1)
			return NULL;
		va_start(ap, fmt);
		rep = redisvCommand(rc, fmt, ap);
		va_end(ap);
		if (rep != NULL)
			return rep;
		log_warn("redis: %s", rc->errstr);
		cache_close();
	}
	return NULL;
}

int
cache_ok(void)
{
	redisReply *rep;
	int ok;

	rep = cache_cmd("PING");
	ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return ok;
}
