/*
 * Registration codes, and POST /auth/captcha that emails one: 6 digits,
 * valid 10 minutes, stored as a keyed hash in Redis, 5 wrong tries kill
 * it, and no resend for the same email within 60 seconds.
 */
#include <stdint.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include <ctype.h>
#include <stdio.h>

#include "cache.h"
#include "captcha.h"
#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "db.h"
#include "outbox.h"
#include "ratelimit.h"
#include "response.h"
#include "routes.h"
#include "validate.h"

#define CODE_TTL 600
#define RESEND   60

static int
six_digits(char out[7])
{
	uint32_t v;

	/* Rejection sampling: uniform over 000000..999999. */
	do {
		if (crypto_random(&v, sizeof(v)) == -1)
			return -1;
	} while (v >= 4294000000u);
	snprintf(out, 7, "%06u", v % 1000000u);
	return 0;
}

/*
 * The Redis key of an email's code: a keyed hash of the canonical
 * address, never the address itself.
 */
static void
captcha_key(const char *email, char out[65])
{
	char canon[CANON_MAX + 1], buf[CANON_MAX + 8];

	canon_ident(email, canon, sizeof(canon));
	snprintf(buf, sizeof(buf), "e:%s", canon);
	datakey_mac_hex(DK_CAPTCHA, buf, out);
}

/* A code is stored as HMAC(key, email key:code): a Redis copy cannot
 * be brute-forced over the million codes without the data key. */
static void
captcha_hash(const char *key, const char *code, char out[65])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "c:%s:%s", key, code);
	datakey_mac_hex(DK_CAPTCHA, buf, out);
	crypto_wipe(buf, sizeof(buf));
}

#define CAPTCHA_TRIES 5

/*
 * 1: the code is right (and now used up); 0: wrong, missing or expired
 * (a wrong try counts; the fifth kills the code); -1: Redis unavailable.
 */
int
captcha_check(const char *email, const char *code)
{
	char key[65], want[65];
	redisReply *rep;
	int ok = 0, i;

	captcha_key(email, key);
	if ((rep = cache_cmd("HGET fa:cc:%s h", key)) == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 64) {
		freeReplyObject(rep);
		return 0;
	}
	for (i = 0; code[i]; i++)
		if (!isdigit((unsigned char)code[i]))
			break;
	captcha_hash(key, code, want);
	ok = i == 6 && code[6] == '\0' && crypto_ct_equal(rep->str, want, 64);
	freeReplyObject(rep);
	if (ok) {
		/* Only the request whose DEL removed the key wins a race. */
		rep = cache_cmd("DEL fa:cc:%s", key);
		ok = rep != NULL && rep->type == REDIS_REPLY_INTEGER &&
		    rep->integer == 1;
		freeReplyObject(rep);
		return ok;
	}
	rep = cache_cmd("HINCRBY fa:cc:%s t 1", key);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER &&
	    rep->integer >= CAPTCHA_TRIES) {
		freeReplyObject(rep);
		rep = cache_cmd("DEL fa:cc:%s", key);
	}
	freeReplyObject(rep);
	return 0;
}

/*
 * A new code for email: 0 (code filled, its hash stored), 1 when one was
 * sent less than RESEND seconds ago (*retry: how long to wait), -1 when
 * Redis is unavailable.
 */
static int
captcha_issue(const char *email, char key[65], char code[7], long *retry)
{
	char hash[65];
	redisReply *rep;
	int ok;

	captcha_key(email, key);
	if ((rep = cache_cmd("SET fa:ccr:%s 1 EX %d NX", key, RESEND)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		rep = cache_cmd("TTL fa:ccr:%s", key);
		*retry = rep && rep->type == REDIS_REPLY_INTEGER &&
		        rep->integer > 0 ?
		    (long)rep->integer :
		    RESEND;
		freeReplyObject(rep);
		return 1;
	}
	freeReplyObject(rep);
	if (six_digits(code) == -1)
		return -1;
	captcha_hash(key, code, hash);
	rep = cache_cmd("HSET fa:cc:%s h %s t 0", key, hash);
	ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;
	freeReplyObject(rep);
	if (!ok)
		return -1;
	freeReplyObject(cache_cmd("EXPIRE fa:cc:%s %d", key, CODE_TTL));
	return 0;
}

/* The "type" field: only "email" codes exist. */
int
valid_captcha_type(const char *s)
{
	return strcmp(s, "email") == 0;
}

void
handle_captcha(struct req *r)
{
	const char *email = r->arg[CAPTCHA_EMAIL];
	struct mail_vars mv = { { NULL } };
	char key[65], code[7], minutes[8];
	struct json_object *o;
	long retry;
	int rc;

	if (rl_hit("captcha-ip", r->remote_addr, cfg.rl_captcha_ip,
	        cfg.rl_window, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	if ((rc = captcha_issue(email, key, code, &retry)) != 0) {
		if (rc == 1)
			resp_rate_limited(r, retry);
		else
			resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	mv.v[MV_CODE] = code;
	snprintf(minutes, sizeof(minutes), "%d", CODE_TTL / 60);
	mv.v[MV_MINUTES] = minutes;
	rc = mail_send(MAIL_CAPTCHA, email, &mv);
	crypto_wipe(code, sizeof(code));
	if (rc == -1) {
		freeReplyObject(cache_cmd("DEL fa:ccr:%s fa:cc:%s", key, key));
		resp_db_error(r);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("sent"));
	resp_json(r, 200, o);
}
