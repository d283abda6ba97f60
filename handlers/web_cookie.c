/*
 * The browser session cookie (web_cookie.h): what sign-in through the
 * hosted pages leaves in the browser for the whole site.
 */
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "datakey.h"
#include "request.h"
#include "response.h"
#include "validate.h"
#include "web_cookie.h"

/*
 * The browser session cookie (API.md, forward authentication): one per
 * session, "<sid>.<mac>" where mac = base64url(HMAC-SHA256(the web
 * subkey of the data key, sid)). Nothing of it is stored: it is checked
 * by recomputing the MAC, and it lives exactly as long as its session,
 * whose mirror entry every check reads.
 */
static struct crypto_mac *web_mac;

static int
web_mac_of(const char *sid, char out[TOKEN_B64_LEN + 1])
{
	unsigned char key[32], md[32];

	if (web_mac == NULL) {
		if (datakey_sub(DK_WEB, key) == -1)
			return -1;
		web_mac = crypto_mac_new(key, sizeof(key));
		crypto_wipe(key, sizeof(key));
		if (web_mac == NULL)
			return -1;
	}
	if (crypto_mac(web_mac, sid, strlen(sid), md) == -1)
		return -1;
	b64url_encode(md, sizeof(md), out, TOKEN_B64_LEN + 1);
	crypto_wipe(md, sizeof(md));
	return 0;
}

const char *
web_cookie_name(void)
{
	/* __Host-: only over https, for this host, Path=/ (RFC 6265bis) */
	return cfg.dev ? "fa_session" : "__Host-fa_session";
}

/*
 * The session id a browser session cookie value names, to sid: 1 when
 * its MAC is right, 0 when not, -1 when the key is unavailable.
 */
int
web_cookie_sid(const char *value, char sid[UUID_LEN + 1])
{
	char mac[TOKEN_B64_LEN + 1];
	int ok;

	if (strlen(value) != UUID_LEN + 1 + TOKEN_B64_LEN ||
	    value[UUID_LEN] != '.')
		return 0;
	memcpy(sid, value, UUID_LEN);
	sid[UUID_LEN] = '\0';
	if (!valid_uuid(sid))
		return 0;
	if (web_mac_of(sid, mac) == -1)
		return -1;
	ok = crypto_ct_equal(mac, value + UUID_LEN + 1, TOKEN_B64_LEN);
	crypto_wipe(mac, sizeof(mac));
	return ok;
}

/* Set (max_age > 0) or clear (max_age == 0) the browser session cookie. */
int
web_cookie_set(struct req *r, const char *sid, long long max_age)
{
	char mac[TOKEN_B64_LEN + 1];

	if (max_age == 0) {
		resp_header(r,
		    "Set-Cookie: %s=; Max-Age=0; Path=/; HttpOnly; "
		    "SameSite=Lax%s",
		    web_cookie_name(), cfg.dev ? "" : "; Secure");
		return 0;
	}
	if (web_mac_of(sid, mac) == -1)
		return -1;
	resp_header(r,
	    "Set-Cookie: %s=%s.%s; Max-Age=%lld; Path=/; "
	    "HttpOnly; SameSite=Lax%s",
	    web_cookie_name(), sid, mac, max_age, cfg.dev ? "" : "; Secure");
	crypto_wipe(mac, sizeof(mac));
	return 0;
}
