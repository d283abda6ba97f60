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

/*
 * The body (it carries links and codes) is stored sealed under the data
 * key, bound to its recipient; only the mailer opens it, and it wipes
 * the body once the message is sent or given up.
 */
int
mail_queue(const char *kind, const char *to, const char *subject,
    const char *body)
{
	const char *p[4] = { kind, to, subject, NULL };
	PGresult *res;
	char *sealed;

	if ((sealed = datakey_seal(DK_OUTBOX, to, body)) == NULL) {
		log_err("mail: cannot seal a message (no data key?)");
		return -1;
	}
	p[3] = sealed;
	res = db_exec(Q_OUTBOX_INSERT, 4, p);
	free(sealed);
	if (res == NULL)
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

/* HMAC-SHA256 under the captcha subkey of the data key, as hex. */
static void
captcha_mac(const char *msg, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char k[32], md[32];
	int i;

	if (datakey_sub(DK_CAPTCHA, k) == -1 || crypto_hmac_sha256(k,
	    sizeof(k), msg, strlen(msg), md) == -1)
		crypto_random(md, sizeof(md));	/* matches nothing */
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	crypto_wipe(k, sizeof(k));
	crypto_wipe(md, sizeof(md));
}

/*
 * The Redis key of an email's code: a keyed hash of the canonical
 * address, never the address itself.
 */
void
captcha_key(const char *email, char out[65])
{
	char canon[CANON_MAX + 1], buf[CANON_MAX + 8];

	canon_ident(email, canon, sizeof(canon));
	snprintf(buf, sizeof(buf), "e:%s", canon);
	captcha_mac(buf, out);
}

/* A code is stored as HMAC(key, email key:code): a Redis copy cannot
 * be brute-forced over the million codes without the data key. */
void
captcha_hash(const char *key, const char *code, char out[65])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "c:%s:%s", key, code);
	captcha_mac(buf, out);
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
