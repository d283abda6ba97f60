/*
 * The worker's Redis connection: lazily connected with a timeout; after
 * any error the context is dead, so it is freed and re-made on next use,
 * at most once a second while Redis stays unreachable (callers fall back
 * to Postgres meanwhile).
 *
 * AUTH_REDIS_URL is one of
 *   redis://[:password@]host[:port][/db]
 *   unix:/path/to/redis.sock
 *   redis-sentinel://[:password@]host[:port][,host[:port]...]/master[/db]
 * With Sentinels, each connect asks them in turn for the current master
 * of that name, and checks with ROLE that it is one; a READONLY reply (the
 * master was demoted) drops the connection so the next use asks again.
 *
 * The epoch names the data set the connection sees: the master's
 * replication id, which a promoted replica (and a restarted master that
 * kept no data) replaces with a new one. Keys a caller must not read
 * across a failover (the session mirror) carry it, so what an old master
 * held and a replica may have missed is never trusted after the switch.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"

#define SENTINELS_MAX 8

struct redis_target {
	int kind; /* 0 redis://, 1 unix:, 2 sentinel */
	char host[SENTINELS_MAX][256];
	int port[SENTINELS_MAX];
	int nhosts;
	char path[256];
	char name[128]; /* the Sentinel master name */
	char pass[256];
	long db;
};

static redisContext *rc;
static char epoch[16] = "0";
static double retry_at;   /* no connect before (monotonic) */
static int next_sentinel; /* the one to ask first */

void
cache_close(void)
{
	if (rc != NULL)
		redisFree(rc);
	rc = NULL;
}

/* host[:port] or [v6]:port into t->host/port[i]. */
static int
parse_host(const char *s, size_t len, int def_port, struct redis_target *t)
{
	int i = t->nhosts;
	const char *colon = NULL, *e = s + len, *p;
	char *end;
	long port = def_port;

	if (len == 0 || i == SENTINELS_MAX)
		return -1;
	if (*s == '[') { /* [::1]:26379 */
		if ((p = memchr(s, ']', len)) == NULL)
			return -1;
		if (p + 1 < e && p[1] == ':')
			colon = p + 1;
		else if (p + 1 != e)
			return -1;
		s++;
		len = (size_t)(p - s);
	} else if ((colon = memchr(s, ':', len)) != NULL) {
		len = (size_t)(colon - s);
	}
	if (colon != NULL) {
		port = strtol(colon + 1, &end, 10);
		if (end != e || colon + 1 == e)
			return -1;
	}
	if (len == 0 || len >= sizeof(t->host[0]) || port < 1 || port > 65535)
		return -1;
	memcpy(t->host[i], s, len);
	t->host[i][len] = '\0';
	t->port[i] = (int)port;
	t->nhosts++;
	return 0;
}

/* Parse AUTH_REDIS_URL; 0, or -1 with a reason in err. */
static int
parse_url(const char *u, struct redis_target *t, char *err, size_t errlen)
{
	const char *p, *at, *slash, *hosts_end, *c, *name;
	char *end;

	memset(t, 0, sizeof(*t));
	if (strncmp(u, "unix:", 5) == 0) {
		t->kind = 1;
		if (u[5] != '/' || strlen(u + 5) >= sizeof(t->path))
			goto bad;
		snprintf(t->path, sizeof(t->path), "%s", u + 5);
		return 0;
	}
	if (strncmp(u, "redis://", 8) == 0) {
		p = u + 8;
	} else if (strncmp(u, "redis-sentinel://", 17) == 0) {
		t->kind = 2;
		p = u + 17;
	} else {
		goto bad;
	}
	if ((at = strrchr(p, '@')) != NULL) { /* the password may hold '@' */
		if (*p != ':' || (size_t)(at - p - 1) >= sizeof(t->pass))
			goto bad;
		memcpy(t->pass, p + 1, (size_t)(at - p - 1));
		t->pass[at - p - 1] = '\0';
		p = at + 1;
	}
	slash = strchr(p, '/');
	hosts_end = slash ? slash : p + strlen(p);
	for (c = p; c < hosts_end; c = c + strcspn(c, ",") + 1) {
		size_t n = strcspn(c, ",");

		if (c + n > hosts_end)
			n = (size_t)(hosts_end - c);
		if (parse_host(c, n, t->kind == 2 ? 26379 : 6379, t) == -1)
			goto bad;
		if (c + n >= hosts_end)
			break;
	}
	if (t->nhosts == 0 || (t->kind == 0 && t->nhosts != 1))
		goto bad;
	if (t->kind == 2) { /* /name[/db] */
		if (slash == NULL)
			goto bad;
		name = slash + 1;
		slash = strchr(name, '/');
		if (slash == name ||
		    (size_t)(slash ? slash - name : (long)strlen(name)) >=
		        sizeof(t->name))
			goto bad;
		snprintf(t->name, sizeof(t->name), "%.*s",
		    (int)(slash ? (size_t)(slash - name) : strlen(name)), name);
		if (t->name[0] == '\0' ||
		    strspn(t->name,
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789-_.") != strlen(t->name))
			goto bad;
	}
	if (slash != NULL && slash[1] != '\0') {
		t->db = strtol(slash + 1, &end, 10);
		if (*end != '\0' || t->db < 0 || t->db > 255)
			goto bad;
	}
	return 0;
bad:
	crypto_wipe(t->pass, sizeof(t->pass));
	snprintf(err, errlen,
	    "AUTH_REDIS_URL: must be "
	    "redis://[:password@]host[:port][/db], unix:/path or "
	    "redis-sentinel://[:password@]host[:port][,host[:port]...]/"
	    "master[/db]");
	return -1;
}

int
cache_check_url(const char *url, char *err, size_t errlen)
{
	struct redis_target t;
	int rv = parse_url(url, &t, err, errlen);

	crypto_wipe(t.pass, sizeof(t.pass));
	return rv;
}

/* Ask the Sentinels, in turn, where the master is. */
static int
sentinel_master(struct redis_target *t, char *host, size_t hostlen, int *port)
{
	struct timeval tv = { 0, 500000 };
	redisContext *s;
	redisReply *rep;
	int i, k, ok;

	for (k = 0; k < t->nhosts; k++) {
		i = (next_sentinel + k) % t->nhosts;
		s = redisConnectWithTimeout(t->host[i], t->port[i], tv);
		if (s == NULL || s->err) {
			log_warn("redis: sentinel %s:%d: %s", t->host[i],
			    t->port[i], s ? s->errstr : "out of memory");
			redisFree(s);
			continue;
		}
		redisSetTimeout(s, tv);
		rep = redisCommand(s, "SENTINEL get-master-addr-by-name %s",
		    t->name);
		ok = rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
		    rep->elements == 2 &&
		    rep->element[0]->type == REDIS_REPLY_STRING &&
		    rep->element[1]->type == REDIS_REPLY_STRING &&
		    rep->element[0]->len < hostlen;
		if (ok) {
			snprintf(host, hostlen, "%s", rep->element[0]->str);
			*port = atoi(rep->element[1]->str);
			ok = *port > 0 && *port < 65536;
		}
		if (!ok)
			log_warn("redis: sentinel %s:%d does not know master "
			         "%s",
			    t->host[i], t->port[i], t->name);
		freeReplyObject(rep);
		redisFree(s);
		if (ok) {
			next_sentinel = i;
			return 0;
		}
	}
	return -1;
}

/* Run a set-up command on the new connection; 0 if it was accepted. */
static int
setup_cmd(const char *what, redisReply *rep)
{
	int ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;

	if (!ok)
		log_err("redis: %s failed%s%s", what, rep ? ": " : "",
		    rep ? rep->str : "");
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/* The connection's data set: the first 12 digits of master_replid. */
static void
read_epoch(void)
{
	redisReply *rep = redisCommand(rc, "INFO replication");
	const char *id;

	if (rep != NULL && rep->type == REDIS_REPLY_STRING &&
	    (id = strstr(rep->str, "master_replid:")) != NULL &&
	    strspn(id + 14, "0123456789abcdef") >= 12)
		snprintf(epoch, sizeof(epoch), "%.12s", id + 14);
	else
		snprintf(epoch, sizeof(epoch), "0"); /* INFO not allowed */
	freeReplyObject(rep);
}

static int
cache_connect(void)
{
	struct timeval tv = { 1, 0 };
	struct redis_target t;
	char err[256], host[256] = "";
	const char *why;
	int port = 0;
	redisReply *rep;

	cache_close();
	if (now_mono() < retry_at)
		return -1;
	retry_at = now_mono() + 1.0;
	if (parse_url(cfg.redis_url, &t, err, sizeof(err)) == -1) {
		log_err("redis: %s", err);
		return -1;
	}
	if (t.kind == 1) {
		rc = redisConnectUnixWithTimeout(t.path, tv);
	} else if (t.kind == 0) {
		rc = redisConnectWithTimeout(t.host[0], t.port[0], tv);
	} else if (sentinel_master(&t, host, sizeof(host), &port) == 0) {
		rc = redisConnectWithTimeout(host, port, tv);
	}
	if (rc == NULL || rc->err) {
		metrics_inc(MET_REDIS_CONNECT_FAIL);
		why = "out of memory";
		if (rc != NULL)
			why = rc->errstr;
		else if (t.kind == 2)
			why = "no sentinel named a master";
		log_warn("redis: connect failed: %s", why);
		goto fail;
	}
	redisSetTimeout(rc, tv);
	if (t.pass[0] &&
	    setup_cmd("AUTH", redisCommand(rc, "AUTH %s", t.pass)) == -1)
		goto fail;
	if (t.db != 0 &&
	    setup_cmd("SELECT", redisCommand(rc, "SELECT %ld", t.db)) == -1)
		goto fail;
	if (t.kind == 2) {
		rep = redisCommand(rc, "ROLE");
		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements < 1 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(rep->element[0]->str, "master") != 0) {
			log_warn("redis: %s:%d is not (yet) a master", host,
			    port);
			freeReplyObject(rep);
			metrics_inc(MET_REDIS_CONNECT_FAIL);
			goto fail;
		}
		freeReplyObject(rep);
	}
	read_epoch();
	crypto_wipe(t.pass, sizeof(t.pass));
	retry_at = 0;
	log_info("redis: connected");
	metrics_inc(MET_REDIS_CONNECT);
	return 0;
fail:
	crypto_wipe(t.pass, sizeof(t.pass));
	cache_close();
	return -1;
}

const char *
cache_epoch(void)
{
	return epoch;
}

/*
 * Run one command, already in the protocol's form (cmd, len bytes).
 * NULL means Redis is unavailable (the caller falls back or answers 503);
 * an error reply is returned as a reply. A connection that died since the
 * last use is re-made and the command retried once. With at != NULL (keys
 * built from cache_epoch() == at) a connection that now sees another data
 * set runs nothing and NULL is returned.
 */
static redisReply *
run_formatted(const char *at, const char *cmd, size_t len)
{
	redisReply *rep;
	void *reply;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (rc == NULL && cache_connect() == -1)
			return NULL;
		if (at != NULL && strcmp(at, epoch) != 0)
			return NULL;
		rep = NULL;
		if (redisAppendFormattedCommand(rc, cmd, len) == REDIS_OK &&
		    redisGetReply(rc, &reply) == REDIS_OK)
			rep = reply;
		if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
		    strncmp(rep->str, "READONLY", 8) == 0) {
			log_warn("redis: the master became a replica");
			freeReplyObject(rep);
		} else if (rep != NULL) {
			return rep;
		} else {
			log_warn("redis: %s", rc->errstr);
		}
		cache_close();
		retry_at = 0; /* one immediate reconnect */
	}
	return NULL;
}

/* One command from a format (cache_cmd(fmt, ...) is cache_cmd_at(NULL, ...)). */
redisReply *
cache_cmd_at(const char *at, const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;
	char *cmd;
	int len;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len < 0)
		return NULL;
	rep = run_formatted(at, cmd, (size_t)len);
	redisFreeCommand(cmd);
	return rep;
}

/*
 * One command from its words, for the per-request lookups: hiredis's
 * printf-style formatting was most of a GET's own cost.
 */
redisReply *
cache_argv_at(const char *at, int argc, const char **argv)
{
	redisReply *rep;
	char *cmd;
	int len;

	if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0)
		return NULL;
	rep = run_formatted(at, cmd, (size_t)len);
	redisFreeCommand(cmd);
	return rep;
}

/* Connect now if need be; 0 when a connection is up. */
int
cache_ready(void)
{
	return rc != NULL || cache_connect() == 0 ? 0 : -1;
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
