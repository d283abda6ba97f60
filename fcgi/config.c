/*
 * Configuration: one table of keys with type, bounds and default.
 * A file of "KEY = value" lines is read first, then the environment
 * overrides it. A bad value stops start-up naming the key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "log.h"
#include "validate.h"

struct config cfg;

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

struct cfg_key {
	const char *name;   /* file key and environment variable */
	enum cfg_type type; /* value type */
	size_t off;         /* offset in struct config */
	long min, max;      /* bounds for CFG_INT */
	const char *def;    /* default, as text */
	int secret;         /* mask in --check-config */
};

#define O(f) offsetof(struct config, f)
static const struct cfg_key keys[] = {
	{ "AUTH_DATABASE_URL", CFG_STR, O(database_url), 0, 0,
	    "dbname=fcgi_auth", 1 },
	{ "AUTH_REDIS_URL", CFG_STR, O(redis_url), 0, 0,
	    "redis://127.0.0.1:6379/0", 1 },
	{ "AUTH_JWT_ALG", CFG_STR, O(jwt_alg), 0, 0, "HS256", 0 },
	{ "AUTH_JWT_SECRET_FILE", CFG_STR, O(jwt_secret_file), 0, 0, "", 0 },
	{ "AUTH_JWT_KEYS_DIR", CFG_STR, O(jwt_keys_dir), 0, 0, "", 0 },
	{ "AUTH_ISSUER", CFG_STR, O(issuer), 0, 0, "fcgi-auth", 0 },
	{ "AUTH_ACCESS_TTL", CFG_INT, O(access_ttl), 30, 86400, "900", 0 },
	{ "AUTH_REFRESH_TTL", CFG_INT, O(refresh_ttl), 60, 31536000, "1209600",
	    0 },
	{ "AUTH_SESSION_MAX_TTL", CFG_INT, O(session_max_ttl), 60, 63072000,
	    "2592000", 0 },
	{ "RESET_PASSWORD_URL", CFG_STR, O(reset_password_url), 0, 0,
	    "http://127.0.0.1:8080/api/v1/password-reset-confirm", 0 },
	{ "EMAIL_VERIFY_URL", CFG_STR, O(email_verify_url), 0, 0,
	    "http://127.0.0.1:8080/api/v1/verify", 0 },
	{ "AUTH_SMTP_URL", CFG_STR, O(smtp_url), 0, 0, "smtp://127.0.0.1:25",
	    1 },
	{ "AUTH_MAIL_FROM", CFG_STR, O(mail_from), 0, 0,
	    "fcgi-auth <no-reply@localhost>", 0 },
	{ "AUTH_REQUIRE_CAPTCHA", CFG_BOOL, O(require_captcha), 0, 1, "0", 0 },
	{ "AUTH_REQUIRE_VERIFIED_EMAIL", CFG_BOOL, O(require_verified_email), 0,
	    1, "0", 0 },
	{ "AUTH_WORKERS", CFG_INT, O(workers), 0, 256, "0", 0 },
	{ "AUTH_LOG_LEVEL", CFG_STR, O(log_level), 0, 0, "info", 0 },
	{ "AUTH_DEV", CFG_BOOL, O(dev), 0, 1, "0", 0 },
	{ "AUTH_PASSWORD_COST", CFG_INT, O(password_cost), 1, 11, "5", 0 },
	{ "AUTH_MAX_SESSIONS", CFG_INT, O(max_sessions), 1, 10000, "100", 0 },
	{ "AUTH_DB_TIMEOUT", CFG_INT, O(db_timeout), 1, 60, "2", 0 },
	{ "AUTH_SQL_DIR", CFG_STR, O(sql_dir), 0, 0, PKGDATADIR "/sql", 0 },
	{ "AUTH_COMMON_PASSWORDS_FILE", CFG_STR, O(common_passwords), 0, 0,
	    PKGDATADIR "/common-passwords.txt", 0 },
	{ "AUTH_DRAIN_TIMEOUT", CFG_INT, O(drain_timeout), 1, 600, "10", 0 },
	{ "AUTH_MAX_REQUESTS", CFG_INT, O(max_requests), 0, 1000000000, "0",
	    0 },
	{ "AUTH_SMTP_PASSWORD_FILE", CFG_STR, O(smtp_password_file), 0, 0, "",
	    0 },
	{ "AUTH_MAIL_RETRY_BASE", CFG_INT, O(mail_retry_base), 1, 3600, "5",
	    0 },
	{ "AUTH_MAIL_MAX_ATTEMPTS", CFG_INT, O(mail_max_attempts), 1, 100, "8",
	    0 },
	{ "AUTH_RESET_TTL", CFG_INT, O(reset_ttl), 60, 86400, "1800", 0 },
	{ "AUTH_VERIFY_TTL", CFG_INT, O(verify_ttl), 60, 604800, "86400", 0 },
	{ "AUTH_RL_WINDOW", CFG_INT, O(rl_window), 1, 86400, "900", 0 },
	{ "AUTH_RL_LOGIN_ACCOUNT", CFG_INT, O(rl_login_account), 1, 1000000,
	    "5", 0 },
	{ "AUTH_RL_LOGIN_IP", CFG_INT, O(rl_login_ip), 1, 1000000, "50", 0 },
	{ "AUTH_RL_REGISTER_IP", CFG_INT, O(rl_register_ip), 1, 1000000, "20",
	    0 },
	{ "AUTH_RL_REGISTER_EMAIL", CFG_INT, O(rl_register_email), 1, 1000000,
	    "5", 0 },
	{ "AUTH_RL_RESET_EMAIL", CFG_INT, O(rl_reset_email), 1, 1000000, "5",
	    0 },
	{ "AUTH_RL_RESET_IP", CFG_INT, O(rl_reset_ip), 1, 1000000, "20", 0 },
	{ "AUTH_RL_CAPTCHA_IP", CFG_INT, O(rl_captcha_ip), 1, 1000000, "20",
	    0 },
	{ "AUTH_DATA_KEY_FILE", CFG_STR, O(data_key_file), 0, 0, "", 0 },
	{ "AUTH_ALLOWED_ORIGINS", CFG_STR, O(allowed_origins), 0, 0, "", 0 },
	{ "AUTH_WEBAUTHN_RP_ID", CFG_STR, O(webauthn_rp_id), 0, 0, "", 0 },
	{ "AUTH_WEBAUTHN_RP_NAME", CFG_STR, O(webauthn_rp_name), 0, 0,
	    "fcgi-auth", 0 },
	{ "AUTH_WEBAUTHN_ORIGINS", CFG_STR, O(webauthn_origins), 0, 0, "", 0 },
	{ "AUTH_SMTP_TLS", CFG_STR, O(smtp_tls), 0, 0, "", 0 },
	{ "AUTH_HASH_SOCKET", CFG_STR, O(hash_socket), 0, 0, "", 0 },
	{ "AUTH_HASH_WORKERS", CFG_INT, O(hash_workers), 0, 256, "0", 0 },
	{ "AUTH_HASH_NICE", CFG_INT, O(hash_nice), 0, 19, "10", 0 },
	{ "AUTH_MAIL_TEMPLATES", CFG_STR, O(mail_templates), 0, 0,
	    PKGDATADIR "/templates", 0 },
	{ "AUTH_ACCOUNT_URL", CFG_STR, O(account_url), 0, 0,
	    "http://127.0.0.1:8080/auth/account", 0 },
	{ "AUTH_NOTICE_INTERVAL", CFG_INT, O(notice_interval), 1, 86400, "300",
	    0 },
	{ "AUTH_RL_EMAIL_CHANGE", CFG_INT, O(rl_email_change), 1, 1000000, "5",
	    0 },
	{ "AUTH_PAT_MAX_TTL", CFG_INT, O(pat_max_ttl), 60, 315360000,
	    "31536000", 0 },
};
#undef O

static const struct cfg_key *
key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == len &&
		    strncasecmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static int
set_value(struct config *c, const struct cfg_key *k, const char *v, char *err,
    size_t errlen)
{
	char *end, **sp;
	long n;

	switch (k->type) {
	case CFG_STR:
		if (strlen(v) > 4096) {
			snprintf(err, errlen, "%s: value too long", k->name);
			return -1;
		}
		sp = (char **)((char *)c + k->off);
		free(*sp);
		if ((*sp = strdup(v)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", k->name);
			return -1;
		}
		return 0;
	case CFG_BOOL:
		if (!strcasecmp(v, "1") || !strcasecmp(v, "true") ||
		    !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
			n = 1;
		else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") ||
		    !strcasecmp(v, "no") || !strcasecmp(v, "off") || *v == '\0')
			n = 0;
		else {
			snprintf(err, errlen,
			    "%s: expected a boolean, got '%.64s'", k->name, v);
			return -1;
		}
		*(long *)((char *)c + k->off) = n;
		return 0;
	case CFG_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end != '\0' || n < k->min ||
		    n > k->max) {
			snprintf(err, errlen,
			    "%s: expected an integer in %ld..%ld, got '%.64s'",
			    k->name, k->min, k->max, v);
			return -1;
		}
		*(long *)((char *)c + k->off) = n;
		return 0;
	}
	return -1;
}

/* Parse one "KEY = value" line; blank lines and '#' comments are skipped. */
int
cfg_parse_line(struct config *c, const char *line, char *err, size_t errlen)
{
	const char *p = line, *kend, *v;
	const struct cfg_key *k;
	char val[4097];
	size_t vlen;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	kend = p;
	while (*kend && !isspace((unsigned char)*kend) && *kend != '=')
		kend++;
	if ((k = key_find(p, kend - p)) == NULL) {
		snprintf(err, errlen, "unknown key '%.*s'",
		    (int)(kend - p > 64 ? 64 : kend - p), p);
		return -1;
	}
	v = kend;
	while (isspace((unsigned char)*v))
		v++;
	if (*v != '=') {
		snprintf(err, errlen, "%s: expected '='", k->name);
		return -1;
	}
	v++;
	while (isspace((unsigned char)*v))
		v++;
	vlen = strlen(v);
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
	}
	if (vlen >= sizeof(val)) {
		snprintf(err, errlen, "%s: value too long", k->name);
		return -1;
	}
	memcpy(val, v, vlen);
	val[vlen] = '\0';
	return set_value(c, k, val, err, errlen);
}

/* Does the SMTP URL name this host (localhost, 127.x, ::1)? */
static int
smtp_loopback(const char *url)
{
	const char *h = strstr(url, "://"), *at;
	size_t n, i;

	if (h == NULL)
		return 0;
	h += 3;
	n = strcspn(h, "/?#");
	if ((at = memchr(h, '@', n)) != NULL) { /* user[:pass]@host */
		while ((at = memchr(h, '@', n)) != NULL) {
			n -= (size_t)(at + 1 - h);
			h = at + 1;
		}
	}
	if (n >= 5 && strncmp(h, "[::1]", 5) == 0)
		return n == 5 || h[5] == ':';
	n = strcspn(h, ":/?#");
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return 1;
	if (n < 7 || strncmp(h, "127.", 4) != 0)
		return 0;
	for (i = 0; i < n; i++) /* a dotted quad, not 127.x.example */
		if (!isdigit((unsigned char)h[i]) && h[i] != '.')
			return 0;
	return 1;
}

static int
check(struct config *c, char *err, size_t errlen)
{
	if (strcmp(c->jwt_alg, "HS256") && strcmp(c->jwt_alg, "EdDSA")) {
		snprintf(err, errlen, "AUTH_JWT_ALG: must be HS256 or EdDSA");
		return -1;
	}
	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warn") &&
	    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug")) {
		snprintf(err, errlen,
		    "AUTH_LOG_LEVEL: must be error, warn, info or debug");
		return -1;
	}
	if (cache_check_url(c->redis_url, err, errlen) == -1)
		return -1;
	if (c->session_max_ttl < c->refresh_ttl) {
		snprintf(err, errlen,
		    "AUTH_SESSION_MAX_TTL: must be at least AUTH_REFRESH_TTL");
		return -1;
	}
	if (*c->issuer == '\0') {
		snprintf(err, errlen, "AUTH_ISSUER: must not be empty");
		return -1;
	}
	if (*c->smtp_tls == '\0') {
		/* Unset: TLS is required, except towards this very host. */
		free(c->smtp_tls);
		c->smtp_tls = strdup(
		    smtp_loopback(c->smtp_url) ? "opportunistic" : "required");
		if (c->smtp_tls == NULL) {
			snprintf(err, errlen, "AUTH_SMTP_TLS: out of memory");
			return -1;
		}
	}
	if (strcmp(c->smtp_tls, "required") &&
	    strcmp(c->smtp_tls, "opportunistic") &&
	    strcmp(c->smtp_tls, "none")) {
		snprintf(err, errlen,
		    "AUTH_SMTP_TLS: must be required, opportunistic or none");
		return -1;
	}
	return 0;
}

int
cfg_load(struct config *c, const char *file, char *err, size_t errlen)
{
	char line[8192], sub[512];
	const char *env;
	size_t i, lineno = 0;
	FILE *f;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (set_value(c, &keys[i], keys[i].def, err, errlen) == -1)
			return -1;
	if (file != NULL) {
		if ((f = fopen(file, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
			return -1;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			lineno++;
			line[strcspn(line, "\r\n")] = '\0';
			if (cfg_parse_line(c, line, sub, sizeof(sub)) == -1) {
				snprintf(err, errlen, "%s:%zu: %s", file,
				    lineno, sub);
				fclose(f);
				return -1;
			}
		}
		fclose(f);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((env = getenv(keys[i].name)) != NULL &&
		    set_value(c, &keys[i], env, err, errlen) == -1)
			return -1;
	return check(c, err, errlen);
}

void
cfg_free(struct config *c)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].type == CFG_STR) {
			free(*(char **)((char *)c + keys[i].off));
			*(char **)((char *)c + keys[i].off) = NULL;
		}
}

/* Print the effective configuration; secrets in URLs are masked. */
void
cfg_print(const struct config *c, FILE *out)
{
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].type != CFG_STR) {
			fprintf(out, "%s = %ld\n", keys[i].name,
			    *(const long *)((const char *)c + keys[i].off));
			continue;
		}
		s = *(char *const *)((const char *)c + keys[i].off);
		if (keys[i].secret &&
		    (strstr(s, "password") || strchr(s, '@') ||
		        strstr(s, "://:")))
			fprintf(out, "%s = ********\n", keys[i].name);
		else
			fprintf(out, "%s = %s\n", keys[i].name, s);
	}
}
