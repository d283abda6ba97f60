/* Configuration (config.c): the one table of keys, their defaults and bounds. */
#ifndef FA_CONFIG_H
#define FA_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct config {
	char *database_url;          /* AUTH_DATABASE_URL: libpq conninfo */
	char *redis_url;             /* AUTH_REDIS_URL */
	char *jwt_alg;               /* AUTH_JWT_ALG: HS256 | EdDSA */
	char *jwt_secret_file;       /* AUTH_JWT_SECRET_FILE */
	char *jwt_keys_dir;          /* AUTH_JWT_KEYS_DIR */
	char *issuer;                /* AUTH_ISSUER */
	long access_ttl;             /* AUTH_ACCESS_TTL, seconds */
	long refresh_ttl;            /* AUTH_REFRESH_TTL: idle expiry */
	long session_max_ttl;        /* AUTH_SESSION_MAX_TTL: absolute expiry */
	char *reset_password_url;    /* RESET_PASSWORD_URL */
	char *email_verify_url;      /* EMAIL_VERIFY_URL */
	char *smtp_url;              /* AUTH_SMTP_URL */
	char *mail_from;             /* AUTH_MAIL_FROM */
	long require_captcha;        /* AUTH_REQUIRE_CAPTCHA */
	long require_verified_email; /* AUTH_REQUIRE_VERIFIED_EMAIL */
	long workers;                /* AUTH_WORKERS, 0 = 2 per core */
	char *log_level;             /* AUTH_LOG_LEVEL */
	long dev;                    /* AUTH_DEV */
	long password_cost;          /* AUTH_PASSWORD_COST: yescrypt cost */
	long max_sessions;           /* AUTH_MAX_SESSIONS per user */
	long db_timeout;             /* AUTH_DB_TIMEOUT: connect/statement, s */
	char *sql_dir;               /* AUTH_SQL_DIR: migrations */
	char *common_passwords;      /* AUTH_COMMON_PASSWORDS_FILE */
	long drain_timeout;          /* AUTH_DRAIN_TIMEOUT, seconds */
	long max_requests;        /* AUTH_MAX_REQUESTS per worker, 0 = none */
	char *smtp_password_file; /* AUTH_SMTP_PASSWORD_FILE */
	long mail_retry_base;     /* AUTH_MAIL_RETRY_BASE, seconds */
	long mail_max_attempts;   /* AUTH_MAIL_MAX_ATTEMPTS */
	long reset_ttl;           /* AUTH_RESET_TTL, seconds */
	long verify_ttl;          /* AUTH_VERIFY_TTL, seconds */
	long rl_window;           /* AUTH_RL_WINDOW, seconds */
	long rl_login_account;    /* AUTH_RL_LOGIN_ACCOUNT failures */
	long rl_login_ip;         /* AUTH_RL_LOGIN_IP failures */
	long rl_register_ip;      /* AUTH_RL_REGISTER_IP */
	long rl_register_email;   /* AUTH_RL_REGISTER_EMAIL */
	long rl_reset_email;      /* AUTH_RL_RESET_EMAIL */
	long rl_reset_ip;         /* AUTH_RL_RESET_IP */
	long rl_captcha_ip;       /* AUTH_RL_CAPTCHA_IP */
	char *data_key_file;      /* AUTH_DATA_KEY_FILE: key outside the DB */
	char *allowed_origins;    /* AUTH_ALLOWED_ORIGINS, space-separated */
	char *webauthn_rp_id;     /* AUTH_WEBAUTHN_RP_ID ("": no passkeys) */
	char *webauthn_rp_name;   /* AUTH_WEBAUTHN_RP_NAME */
	char *webauthn_origins;   /* AUTH_WEBAUTHN_ORIGINS, space-separated */
	char *smtp_tls;       /* AUTH_SMTP_TLS: required|opportunistic|none */
	char *hash_socket;    /* AUTH_HASH_SOCKET: the hashing pool's */
	long hash_workers;    /* AUTH_HASH_WORKERS, 0 = 1 per core */
	long hash_nice;       /* AUTH_HASH_NICE: its CPU niceness */
	char *mail_templates; /* AUTH_MAIL_TEMPLATES: the templates' dir */
	char *account_url;    /* AUTH_ACCOUNT_URL: linked from notices */
	long notice_interval; /* AUTH_NOTICE_INTERVAL: per kind, address */
	long rl_email_change; /* AUTH_RL_EMAIL_CHANGE: requests per user */
	long pat_max_ttl;     /* AUTH_PAT_MAX_TTL: longest token life, s */
};

extern struct config cfg;

int cfg_load(struct config *, const char *file, char *err, size_t errlen);
void cfg_free(struct config *);
void cfg_print(const struct config *, FILE *);
int cfg_parse_line(struct config *, const char *line, char *err, size_t errlen);

#endif
