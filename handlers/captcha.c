/*
 * POST /auth/captcha: email a 6-digit registration code, valid 10
 * minutes, stored hashed in Redis, 5 wrong tries kill it, and no resend
 * for the same email within 60 seconds.
 */
#include <stdint.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "fcgi-auth.h"

#define CODE_TTL	600
#define RESEND		60

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

void
handle_captcha(struct req *r)
{
	const char *email = NULL, *type = NULL;
	char key[65], hash[65], code[7], body[512];
	struct json_object *o;
	redisReply *rep;
	long retry;

	if (r->json == NULL) {
		resp_error(r, ERR_INVALID_JSON, NULL);
		return;
	}
	if (json_str(r, "email", 320, &email) == JF_BAD ||
	    json_str(r, "type", 32, &type) == JF_BAD)
		return;
	if (email == NULL && json_str(r, "account", 320, &email) == JF_BAD)
		return;
	if (type != NULL && strcmp(type, "email") != 0) {
		resp_field_error(r, "type", "Field 'type' must be \"email\"");
		return;
	}
	if (email == NULL || !valid_email(email)) {
		resp_field_error(r, "email", "Field 'email' must be a valid "
		    "email address");
		return;
	}
	if (rl_hit("captcha-ip", r->remote_addr, cfg.rl_captcha_ip,
	    cfg.rl_window, &retry)) {
		resp_rate_limited(r, retry);
		return;
	}
	captcha_key(email, key);
	rep = cache_cmd("SET fa:ccr:%s 1 EX %d NX", key, RESEND);
	if (rep == NULL) {
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		rep = cache_cmd("TTL fa:ccr:%s", key);
		retry = rep && rep->type == REDIS_REPLY_INTEGER &&
		    rep->integer > 0 ? (long)rep->integer : RESEND;
		freeReplyObject(rep);
		resp_rate_limited(r, retry);
		return;
	}
	freeReplyObject(rep);
	if (six_digits(code) == -1) {
		resp_error(r, ERR_INTERNAL, NULL);
		return;
	}
	captcha_hash(key, code, hash);
	rep = cache_cmd("HSET fa:cc:%s h %s t 0", key, hash);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		freeReplyObject(rep);
		resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	freeReplyObject(rep);
	rep = cache_cmd("EXPIRE fa:cc:%s %d", key, CODE_TTL);
	freeReplyObject(rep);
	snprintf(body, sizeof(body), "Your registration code is %s\n\n"
	    "It is valid for 10 minutes. If you did not ask for it, ignore "
	    "this message.\n", code);
	crypto_wipe(code, sizeof(code));
	if (mail_queue("captcha", email, "Your registration code",
	    body) == -1) {
		crypto_wipe(body, sizeof(body));
		rep = cache_cmd("DEL fa:ccr:%s fa:cc:%s", key, key);
		freeReplyObject(rep);
		resp_db_error(r);
		return;
	}
	crypto_wipe(body, sizeof(body));
	o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string("sent"));
	resp_json(r, 200, o);
}
