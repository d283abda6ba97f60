/*
 * Known devices: see devices.h. Only keyed hashes of the device keys are
 * stored (known_devices), at most DEVICES_MAX per account, the least
 * recently seen dropped first.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "datakey.h"
#include "db.h"
#include "devices.h"
#include "outbox.h"
#include "request.h"
#include "response.h"
#include "users.h"
#include "validate.h"

#define DEVICES_MAX    100
#define DEVICE_MAX_AGE 34560000 /* 400 days, what browsers keep at most */

/*
 * $2 and $3 (either may be ''): the keys of this device. Answers how
 * many devices the account knew before, and whether this was one; the
 * user's last_login_at is now.
 */
static struct db_stmt q_seen = DB_STMT("device_seen",
    "WITH k AS (SELECT count(*) AS n, coalesce(bool_or(device_hash IN "
    "($2, $3)), false) AS seen FROM known_devices WHERE user_id = $1), "
    "i AS (INSERT INTO known_devices (user_id, device_hash) "
    "SELECT $1, h FROM unnest(ARRAY[$2, $3]::text[]) AS h WHERE h <> '' "
    "ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen = now()), "
    "u AS (UPDATE users SET last_login_at = now() WHERE id = $1) "
    "SELECT n, seen FROM k");
static struct db_stmt q_trim = DB_STMT("device_trim",
    "DELETE FROM known_devices WHERE user_id = $1 AND device_hash IN "
    "(SELECT device_hash FROM known_devices WHERE user_id = $1 "
    "ORDER BY last_seen DESC OFFSET 100)"); /* DEVICES_MAX */

static const char *
cookie_name(void)
{
	return cfg.dev ? "fa_device" : "__Host-fa_device";
}

/* The request's device cookie, when it has a well-formed one: 1, 0. */
static int
cookie_of(struct req *r, char out[TOKEN_B64_LEN + 1])
{
	char v[TOKEN_B64_LEN + 2];

	return req_cookie(r->cookie, cookie_name(), v, sizeof(v)) == 1 &&
	    strlen(v) == TOKEN_B64_LEN &&
	    strspn(v, B64URL_CHARS) == TOKEN_B64_LEN &&
	    str_copy(out, TOKEN_B64_LEN + 1, v) == TOKEN_B64_LEN;
}

/* The address's network: a.b.c.0 (/24) or the first 48 bits (/48). */
static void
addr_prefix(const char *addr, char *out, size_t outlen)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, addr, a) == 1) {
		a[3] = 0;
		if (inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL)
			return;
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		memset(a + 6, 0, 10);
		if (inet_ntop(AF_INET6, a, out, (socklen_t)outlen) != NULL)
			return;
	}
	str_copy(out, outlen, "");
}

/* The keyed hash of a device key ("c:" cookie, "u:" agent|prefix). */
static void
device_hash(const char *kind, const char *a, const char *b, char out[65])
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s%.256s|%.64s", kind, a, b);
	datakey_mac_hex(DK_DEVICE, msg, out);
	crypto_wipe(msg, sizeof(msg));
}

static int
notify(struct req *r, const struct user *u)
{
	struct mail_vars mv = { { NULL } };

	mv.v[MV_USERNAME] = u->username;
	return mail_notice(r, MAIL_NEW_DEVICE, u->email, &mv);
}

/*
 * In the caller's transaction, at a sign-in of u: record the device, and
 * queue the new-device notice when the account knew other devices but
 * not this one. A request without a device cookie is recognised by its
 * agent and address prefix; it gets a new cookie (d->cookie, set after
 * the COMMIT by device_cookie_set), recorded with it, so the browser's
 * next sign-in is known by its cookie. 0, or -1 (Postgres).
 */
int
device_sign_in(struct req *r, const struct user *u, struct device *d)
{
	char have[TOKEN_B64_LEN + 1], h1[65], h2[65], net[INET6_ADDRSTRLEN];
	const char *p[3] = { u->id, h1, h2 };
	unsigned char raw[TOKEN_BYTES];
	PGresult *res;
	long n;
	int seen;

	d->cookie[0] = '\0';
	h2[0] = '\0';
	if (cookie_of(r, have))
		device_hash("c:", have, "", h1);
	else {
		addr_prefix(r->remote_addr, net, sizeof(net));
		device_hash("u:", r->user_agent, net, h1);
		if (crypto_token(d->cookie, raw) == 0)
			device_hash("c:", d->cookie, "", h2);
		crypto_wipe(raw, sizeof(raw));
	}
	if ((res = db_exec(&q_seen, 3, p)) == NULL)
		return -1;
	n = atol(db_value(res, 0, "n"));
	seen = strcmp(db_value(res, 0, "seen"), "t") == 0;
	PQclear(res);
	if (n >= DEVICES_MAX && db_run(&q_trim, 1, p) == -1)
		return -1;
	return n > 0 && !seen ? notify(r, u) : 0;
}

/* After the COMMIT: the new device cookie, when there is one. */
void
device_cookie_set(struct req *r, const struct device *d)
{
	if (d->cookie[0] == '\0')
		return;
	resp_header(r,
	    "Set-Cookie: %s=%s; Max-Age=%d; Path=/; HttpOnly; "
	    "SameSite=Lax%s",
	    cookie_name(), d->cookie, DEVICE_MAX_AGE,
	    cfg.dev ? "" : "; Secure");
}
