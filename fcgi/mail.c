/*
 * Mail from handlers: messages are written to the email_outbox table in
 * the caller's transaction (the mailer process delivers them); codes for
 * registration live hashed in Redis.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "fcgi-auth.h"

int
mail_queue(const char *kind, const char *to, const char *subject,
    const char *body)
{
	const char *p[4] = { kind, to, subject, body };
	PGresult *res;

	if ((res = db_exec(Q_OUTBOX_INSERT, 4, p)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* BASE?token=TOKEN (or &token= when BASE has a query already). */
int
mail_link(char *out, size_t outlen, const char *base, const char *token)
{
	int n;

	n = snprintf(out, outlen, "%s%stoken=%s", base,
	    strchr(base, '?') ? "&" : "?", token);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The Redis key of an email's code: a hash, never the address itself. */
void
captcha_key(const char *email, char out[65])
{
	char low[256];
	size_t i;

	for (i = 0; email[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)email[i]);
	low[i] = '\0';
	crypto_sha256_hex(low, i, out);
}

void
captcha_hash(const char *key, const char *code, char out[65])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s:%s", key, code);
	crypto_sha256_hex(buf, strlen(buf), out);
	crypto_wipe(buf, sizeof(buf));
}

#define CAPTCHA_TRIES	5

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
