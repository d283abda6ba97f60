/*
 * FastCGI parameters -> struct req. Strings from envp are borrowed: they
 * live until FCGX_Finish_r, and the request is freed before that.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "json_strict.h"
#include "request.h"
#include "validate.h"

enum method
req_method(const char *m)
{
	static const struct {
		const char *s;
		enum method m;
	} t[] = {
		{ "GET", M_GET },
		{ "POST", M_POST },
		{ "PATCH", M_PATCH },
		{ "DELETE", M_DELETE },
		{ "PUT", M_PUT },
		{ "HEAD", M_HEAD },
		{ "OPTIONS", M_OPTIONS },
	};
	size_t i;

	for (i = 0; m != NULL && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].s) == 0)
			return t[i].m;
	return M_OTHER;
}

const char *
method_name(enum method m)
{
	static const char *const n[] = { "GET", "POST", "PATCH", "DELETE",
		"PUT", "HEAD", "OPTIONS", "OTHER" };

	return n[m];
}

/*
 * Request ids are random, but need not be secret: 16 bytes each from a
 * per-process pool that the CSPRNG refills every 64 ids, instead of one
 * RAND_bytes per request. A child forgets the pool it inherited, so no
 * two workers hand out the same ids.
 */
static unsigned char idpool[64 * 16];
static size_t idused = sizeof(idpool);

static void
forget_idpool(void)
{
	idused = sizeof(idpool);
}

static void
new_reqid(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	static int registered;
	const unsigned char *raw;
	int i;

	if (!registered)
		registered = pthread_atfork(NULL, NULL, forget_idpool) == 0;
	if (idused == sizeof(idpool) || !registered) {
		if (crypto_random(idpool, sizeof(idpool)) == -1)
			memset(idpool, 0, sizeof(idpool));
		idused = 0;
	}
	raw = idpool + idused;
	idused += 16;
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

/*
 * The parameters req_init reads, found in one pass over the environment
 * (one FCGX_GetParam each was a scan of all 30-40 entries, 17 times).
 * As with FCGX_GetParam, the first entry of a name wins.
 */
enum param {
	P_METHOD,
	P_DOCUMENT_URI,
	P_SCRIPT_NAME,
	P_QUERY,
	P_CONTENT_TYPE,
	P_CONTENT_LENGTH,
	P_REMOTE_ADDR,
	P_USER_AGENT,
	P_AUTHORIZATION,
	P_COOKIE,
	P_ORIGIN,
	P_FETCH_SITE,
	P_HOST,
	P_SCHEME,
	P_HTTPS,
	P_SERVER_PORT,
	P_REQUEST_ID,
	P_ACCEPT,
	P_ORIGINAL_URI,
	P_REQUIRE_ROLE, /* the AUTH_* parameters in enum loc_param's order */
	P_REQUIRE_MFA,
	P_MAX_AGE,
	P_REQUIRE_SCOPE,
	P__N
};

#define PARAM(n) \
	{ \
		n, sizeof(n) - 1 \
	}
static const struct {
	const char *name;
	size_t len;
} params[P__N] = {
	[P_METHOD] = PARAM("REQUEST_METHOD"),
	[P_DOCUMENT_URI] = PARAM("DOCUMENT_URI"),
	[P_SCRIPT_NAME] = PARAM("SCRIPT_NAME"),
	[P_QUERY] = PARAM("QUERY_STRING"),
	[P_CONTENT_TYPE] = PARAM("CONTENT_TYPE"),
	[P_CONTENT_LENGTH] = PARAM("CONTENT_LENGTH"),
	[P_REMOTE_ADDR] = PARAM("REMOTE_ADDR"),
	[P_USER_AGENT] = PARAM("HTTP_USER_AGENT"),
	[P_AUTHORIZATION] = PARAM("HTTP_AUTHORIZATION"),
	[P_COOKIE] = PARAM("HTTP_COOKIE"),
	[P_ORIGIN] = PARAM("HTTP_ORIGIN"),
	[P_FETCH_SITE] = PARAM("HTTP_SEC_FETCH_SITE"),
	[P_HOST] = PARAM("HTTP_HOST"),
	[P_SCHEME] = PARAM("REQUEST_SCHEME"),
	[P_HTTPS] = PARAM("HTTPS"),
	[P_SERVER_PORT] = PARAM("SERVER_PORT"),
	[P_REQUEST_ID] = PARAM("HTTP_X_REQUEST_ID"),
	[P_ACCEPT] = PARAM("HTTP_ACCEPT"),
	[P_ORIGINAL_URI] = PARAM("AUTH_ORIGINAL_URI"),
	[P_REQUIRE_ROLE] = PARAM("AUTH_REQUIRE_ROLE"),
	[P_REQUIRE_MFA] = PARAM("AUTH_REQUIRE_MFA"),
	[P_MAX_AGE] = PARAM("AUTH_MAX_AGE"),
	[P_REQUIRE_SCOPE] = PARAM("AUTH_REQUIRE_SCOPE"),
};
#undef PARAM

/*
 * The parameters by name length (no name here is 32 bytes or longer):
 * an entry is compared only with the names of its own length.
 */
static signed char by_len[32], next_of[P__N];

static void
index_params(void)
{
	size_t i;

	memset(by_len, -1, sizeof(by_len));
	for (i = P__N; i-- > 0;) {
		next_of[i] = by_len[params[i].len];
		by_len[params[i].len] = (signed char)i;
	}
}

static void
read_params(char **envp, const char *v[P__N])
{
	static int indexed;
	const char *e, *eq;
	size_t n;
	int i;

	if (!indexed) {
		index_params();
		indexed = 1;
	}
	memset(v, 0, P__N * sizeof(v[0]));
	for (; envp != NULL && *envp != NULL; envp++) {
		e = *envp;
		if ((eq = strchr(e, '=')) == NULL ||
		    (n = (size_t)(eq - e)) >= sizeof(by_len) || n == 0)
			continue;
		for (i = by_len[n]; i >= 0; i = next_of[i])
			if (v[i] == NULL && e[n - 1] == params[i].name[n - 1] &&
			    memcmp(e, params[i].name, n) == 0) {
				v[i] = eq + 1;
				break;
			}
	}
}

/* nginx's $document_uri: decoded and normalised, without query. */
static const char *
api_path(const char *s)
{
	if (s != NULL && strncmp(s, API_PREFIX, sizeof(API_PREFIX) - 1) == 0 &&
	    (s[sizeof(API_PREFIX) - 1] == '/' ||
	        s[sizeof(API_PREFIX) - 1] == '\0'))
		return s + sizeof(API_PREFIX) - 1;
	return ""; /* outside our mount: never a route */
}

static long long
content_length(const char *s)
{
	long long n;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || n < 0)
		return LLONG_MAX; /* refused as too large */
	return n;
}

void
req_init(struct req *r, FCGX_Request *fx, char **envp)
{
	const char *v[P__N], *s;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->fcgx = fx;
	r->route = -1;
	read_params(envp, v);
	r->method_str = v[P_METHOD] ? v[P_METHOD] : "";
	r->method = req_method(v[P_METHOD]);
	r->path =
	    api_path(v[P_DOCUMENT_URI] ? v[P_DOCUMENT_URI] : v[P_SCRIPT_NAME]);
	r->query = v[P_QUERY] ? v[P_QUERY] : "";
	s = v[P_CONTENT_TYPE];
	r->content_type = (s && *s) ? s : NULL;
	r->content_length = content_length(v[P_CONTENT_LENGTH]);
	/*
	 * Both are stored (sessions, audit_log): Postgres refuses bytes
	 * that are not UTF-8, which would abort the request's transaction.
	 */
	s = v[P_REMOTE_ADDR];
	utf8_sanitize(s ? s : "", r->addr_buf, sizeof(r->addr_buf));
	r->remote_addr = r->addr_buf;
	s = v[P_USER_AGENT];
	utf8_sanitize(s ? s : "", r->ua_buf, sizeof(r->ua_buf));
	r->user_agent = r->ua_buf;
	r->authorization = v[P_AUTHORIZATION];
	r->cookie = v[P_COOKIE];
	r->origin = v[P_ORIGIN];
	r->fetch_site = v[P_FETCH_SITE];
	r->host = v[P_HOST];
	if ((s = v[P_SCHEME]) == NULL || *s == '\0')
		s = v[P_HTTPS] != NULL && *v[P_HTTPS] ? "https" : "http";
	r->scheme = s;
	r->server_port = v[P_SERVER_PORT];
	r->accept = v[P_ACCEPT];
	r->original_uri = v[P_ORIGINAL_URI];
	memcpy(r->loc, v + P_REQUIRE_ROLE, sizeof(r->loc));
	s = v[P_REQUEST_ID];
	if (s != NULL && valid_reqid(s))
		memcpy(r->reqid, s, strlen(s) + 1);
	else
		new_reqid(r->reqid);
}

void
req_free(struct req *r)
{
	size_t i;

	if (r->body != NULL) {
		crypto_wipe(r->body, r->body_len);
		free(r->body);
	}
	if (r->json != NULL)
		json_object_put(r->json);
	if (r->app != NULL && r->app_free != NULL)
		r->app_free(r->app);
	for (i = 0; i < r->nhdrs; i++)
		free(r->hdrs[i].line);
	memset(r, 0, sizeof(*r));
}

/* Name the principal of the request in the access log. */
void
req_set_who(struct req *r, const char *who)
{
	str_copy(r->who, sizeof(r->who), who ? who : "");
}

/* Read exactly CONTENT_LENGTH bytes (already checked against max). */
int
req_read_body(struct req *r, size_t max)
{
	size_t want, got = 0;
	int n;

	if (r->content_length <= 0)
		return 0;
	if ((unsigned long long)r->content_length > max)
		return -1;
	want = (size_t)r->content_length;
	if ((r->body = malloc(want + 1)) == NULL)
		return -1;
	while (got < want) {
		n = FCGX_GetStr(r->body + got, (int)(want - got), r->fcgx->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return got == want ? 0 : -1;
}

/*
 * Parse the body as one JSON object: the strict pre-parser first (depth,
 * UTF-8, NUL, duplicate keys), then json-c. 0 ok, -1 malformed or not an
 * object, -2 a duplicate key (named in dupkey).
 */
int
req_parse_json(struct req *r, char *dupkey, size_t dupkeylen)
{
	struct json_tokener *tok;
	struct json_object *o;
	int rc;

	if (r->body == NULL || r->body_len == 0)
		return -1;
	if ((rc = json_strict_check(r->body, r->body_len, JSON_MAX_DEPTH,
	         dupkey, dupkeylen)) != 0)
		return rc;
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1)) == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	r->json = o;
	return 0;
}

/* Is origin (scheme://host[:port], n bytes) in the space-separated list? */
static int
origin_listed(const char *origin, size_t n, const char *list)
{
	const char *p = list;
	size_t k;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		k = strcspn(p, " \t");
		if (k > 0 && k == n && strncasecmp(p, origin, n) == 0)
			return 1;
		p += k;
	}
	return 0;
}

/* Is "scheme://host" (or with ":port") the origin origin, n bytes? */
static int
origin_is(const char *origin, size_t n, const char *scheme, const char *host,
    const char *port)
{
	char own[512];
	int k;

	k = port ?
	    snprintf(own, sizeof(own), "%s://%s:%s", scheme, host, port) :
	    snprintf(own, sizeof(own), "%s://%s", scheme, host);
	return k > 0 && (size_t)k < sizeof(own) && (size_t)k == n &&
	    strncasecmp(own, origin, n) == 0;
}

/*
 * Is origin (n bytes) the service's own (scheme://Host of this request;
 * when nginx passes Host without its port, as Debian's fastcgi_params
 * does with $host, also with the port nginx received it on) or one of
 * AUTH_ALLOWED_ORIGINS?
 */
int
req_origin_ours(const struct req *r, const char *origin, size_t n)
{
	const char *p;

	if (r->host != NULL && *r->host != '\0') {
		if (origin_is(origin, n, r->scheme, r->host, NULL))
			return 1;
		p = strrchr(r->host, ':');
		if (r->server_port != NULL && *r->server_port != '\0' &&
		    (p == NULL || strchr(p, ']') != NULL) &&
		    origin_is(origin, n, r->scheme, r->host, r->server_port))
			return 1;
	}
	return origin_listed(origin, n, cfg.allowed_origins);
}

/*
 * May a cookie-authenticated request that changes state go ahead? Its
 * Origin must be ours (req_origin_ours); without an Origin,
 * Sec-Fetch-Site must be same-origin or none (typed by the user). A
 * request with neither header is not a browser's cross-site request
 * (browsers send Origin on every cross-origin POST), so it is let
 * through.
 */
int
req_same_origin(const struct req *r)
{
	if (r->origin == NULL || *r->origin == '\0') {
		if (r->fetch_site == NULL)
			return 1;
		return strcmp(r->fetch_site, "same-origin") == 0 ||
		    strcmp(r->fetch_site, "none") == 0;
	}
	return req_origin_ours(r, r->origin, strlen(r->origin));
}

/*
 * Find cookie NAME in a Cookie header. Returns 1 and copies the value when
 * found and it fits, 0 when absent, -1 when malformed or too long.
 */
int
req_cookie(const char *h, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), vlen;
	const char *p = h, *v, *e;

	if (h == NULL)
		return 0;
	if (strlen(h) > 8192)
		return -1;
	while (*p) {
		while (*p == ' ' || *p == ';' || *p == '\t')
			p++;
		e = p + strcspn(p, ";");
		if ((size_t)(e - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			v = p + nlen + 1;
			vlen = (size_t)(e - v);
			while (vlen > 0 &&
			    (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen + 1 > outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = e;
	}
	return 0;
}

/*
 * "Bearer <token>": scheme case-insensitive, then one or more spaces, then
 * a token of JWT characters. Returns 0 with tok/len set, -1 otherwise.
 */
int
req_bearer(const char *h, const char **tok, size_t *len)
{
	const char *p;
	size_t n;

	if (h == NULL || strlen(h) > AUTHZ_MAX)
		return -1;
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return -1;
	p = h + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	if (n == 0 || p[n] != '\0')
		return -1;
	*tok = p;
	*len = n;
	return 0;
}

/*
 * Look up NAME in a query string and percent-decode its value into out.
 * Returns 1 found, 0 absent, -1 malformed or too long.
 */
int
req_query(const char *q, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), o;
	const char *p = q, *e;
	int hi, lo;

	if (q == NULL)
		return 0;
	while (*p) {
		e = p + strcspn(p, "&");
		if ((size_t)(e - p) >= nlen && strncmp(p, name, nlen) == 0 &&
		    (p[nlen] == '=' || p + nlen == e)) {
			p += nlen + (p[nlen] == '=');
			for (o = 0; p < e; p++) {
				if (o + 1 >= outlen)
					return -1;
				if (*p == '%') {
					if (e - p < 3)
						return -1;
					if ((hi = hexval(p[1])) < 0 ||
					    (lo = hexval(p[2])) < 0)
						return -1;
					out[o++] = (char)(hi << 4 | lo);
					p += 2;
				} else if (*p == '+')
					out[o++] = ' ';
				else
					out[o++] = *p;
			}
			out[o] = '\0';
			return memchr(out, '\0', o) ? -1 : 1;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}
