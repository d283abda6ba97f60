/*
 * fcgi-auth: the one internal header.
 * Every module's public surface is declared here, grouped by prefix.
 */
#ifndef FCGI_AUTH_H
#define FCGI_AUTH_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdarg.h>
#include <time.h>

struct json_object;
struct FCGX_Request;

#define API_PREFIX		"/api/v1"
#define BODY_MAX_DEFAULT	(16 * 1024)	/* API.md: bodies over 16 KiB are 413 */
#define AUTHZ_MAX		(8 * 1024)	/* longer Authorization is refused unparsed */
#define UUID_LEN		36
#define REQID_MAX		64
#define TOKEN_BYTES		32		/* 256-bit opaque tokens */
#define TOKEN_B64_LEN		43		/* base64url of 32 bytes, no padding */
#define UA_MAX			512		/* bytes of User-Agent kept (stored) */
#define ADDR_MAX		64		/* bytes of REMOTE_ADDR kept */

/* ---- errors (response.c maps them to HTTP in one place) ---- */
enum api_err {
	ERR_INVALID_JSON,		/* 400 */
	ERR_INVALID_REQUEST,		/* 400 */
	ERR_UNSUPPORTED_MEDIA,		/* 415 */
	ERR_PAYLOAD_TOO_LARGE,		/* 413 */
	ERR_NOT_FOUND,			/* 404 */
	ERR_METHOD_NOT_ALLOWED,		/* 405 */
	ERR_INVALID_CREDENTIALS,	/* 401 */
	ERR_INVALID_TOKEN,		/* 401, or 400 for email/reset tokens */
	ERR_INVALID_GRANT,		/* 401 */
	ERR_INVALID_LINK_TOKEN,		/* 400 invalid_token: email/reset links */
	ERR_FORBIDDEN,			/* 403 */
	ERR_EMAIL_NOT_VERIFIED,		/* 403 */
	ERR_USERNAME_TAKEN,		/* 409 */
	ERR_EMAIL_TAKEN,		/* 409 */
	ERR_WEAK_PASSWORD,		/* 400 */
	ERR_RATE_LIMITED,		/* 429 */
	ERR_SERVICE_UNAVAILABLE,	/* 503 */
	ERR_INTERNAL,			/* 500 */
	ERR__MAX
};

/* ---- configuration (config.c) ---- */
struct config {
	char	*database_url;		/* AUTH_DATABASE_URL: libpq conninfo */
	char	*redis_url;		/* AUTH_REDIS_URL */
	char	*jwt_alg;		/* AUTH_JWT_ALG: HS256 | EdDSA */
	char	*jwt_secret_file;	/* AUTH_JWT_SECRET_FILE */
	char	*jwt_keys_dir;		/* AUTH_JWT_KEYS_DIR */
	char	*issuer;		/* AUTH_ISSUER */
	long	 access_ttl;		/* AUTH_ACCESS_TTL, seconds */
	long	 refresh_ttl;		/* AUTH_REFRESH_TTL: idle expiry */
	long	 session_max_ttl;	/* AUTH_SESSION_MAX_TTL: absolute expiry */
	char	*reset_password_url;	/* RESET_PASSWORD_URL */
	char	*email_verify_url;	/* EMAIL_VERIFY_URL */
	char	*smtp_url;		/* AUTH_SMTP_URL */
	char	*mail_from;		/* AUTH_MAIL_FROM */
	long	 require_captcha;	/* AUTH_REQUIRE_CAPTCHA */
	long	 require_verified_email; /* AUTH_REQUIRE_VERIFIED_EMAIL */
	long	 workers;		/* AUTH_WORKERS, 0 = 2 per core */
	char	*log_level;		/* AUTH_LOG_LEVEL */
	long	 dev;			/* AUTH_DEV */
	long	 password_cost;		/* AUTH_PASSWORD_COST: yescrypt cost */
	long	 max_sessions;		/* AUTH_MAX_SESSIONS per user */
	long	 db_timeout;		/* AUTH_DB_TIMEOUT: connect/statement, s */
	char	*sql_dir;		/* AUTH_SQL_DIR: migrations */
	char	*common_passwords;	/* AUTH_COMMON_PASSWORDS_FILE */
	long	 drain_timeout;		/* AUTH_DRAIN_TIMEOUT, seconds */
	long	 max_requests;		/* AUTH_MAX_REQUESTS per worker, 0 = none */
	char	*smtp_password_file;	/* AUTH_SMTP_PASSWORD_FILE */
	long	 mail_retry_base;	/* AUTH_MAIL_RETRY_BASE, seconds */
	long	 mail_max_attempts;	/* AUTH_MAIL_MAX_ATTEMPTS */
	long	 reset_ttl;		/* AUTH_RESET_TTL, seconds */
	long	 verify_ttl;		/* AUTH_VERIFY_TTL, seconds */
	long	 rl_window;		/* AUTH_RL_WINDOW, seconds */
	long	 rl_login_account;	/* AUTH_RL_LOGIN_ACCOUNT failures */
	long	 rl_login_ip;		/* AUTH_RL_LOGIN_IP failures */
	long	 rl_register_ip;	/* AUTH_RL_REGISTER_IP */
	long	 rl_register_email;	/* AUTH_RL_REGISTER_EMAIL */
	long	 rl_reset_email;	/* AUTH_RL_RESET_EMAIL */
	long	 rl_reset_ip;		/* AUTH_RL_RESET_IP */
	long	 rl_captcha_ip;		/* AUTH_RL_CAPTCHA_IP */
	char	*data_key_file;		/* AUTH_DATA_KEY_FILE: key outside the DB */
	char	*allowed_origins;	/* AUTH_ALLOWED_ORIGINS, space-separated */
	char	*smtp_tls;		/* AUTH_SMTP_TLS: required|opportunistic|none */
	char	*hash_socket;		/* AUTH_HASH_SOCKET: the hashing pool's */
	long	 hash_workers;		/* AUTH_HASH_WORKERS, 0 = 1 per core */
	long	 hash_nice;		/* AUTH_HASH_NICE: its CPU niceness */
};

extern struct config cfg;

int	 cfg_load(struct config *, const char *file, char *err, size_t errlen);
void	 cfg_free(struct config *);
void	 cfg_print(const struct config *, FILE *);
int	 cfg_parse_line(struct config *, const char *line, char *err, size_t errlen);

/* ---- logging (log.c) ---- */
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
void	 log_set_level(const char *);
void	 log_set_reqid(const char *);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
double	 now_mono(void);
#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
void	 log_request(const char *reqid, const char *method, const char *path,
	    int status, double ms, const char *uid);

/* ---- crypto (crypto.c) ---- */
int	 crypto_random(void *, size_t);
int	 crypto_token(char out[TOKEN_B64_LEN + 1], unsigned char raw[TOKEN_BYTES]);
void	 crypto_sha256(const void *, size_t, unsigned char out[32]);
void	 crypto_sha256_hex(const void *, size_t, char out[65]);
int	 crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
	    size_t len, unsigned char out[32]);
int	 crypto_ct_equal(const void *, const void *, size_t);
size_t	 b64url_encode(const unsigned char *, size_t, char *, size_t);
long	 b64url_decode(const char *, size_t, unsigned char *, size_t);
void	 crypto_wipe(void *, size_t);
int	 crypto_uuid(char out[UUID_LEN + 1]);
long	 secret_file_read(const char *name, const char *path,
	    unsigned char *buf, size_t cap, size_t min, char *err,
	    size_t errlen);
int	 secret_file_create(const char *name, const char *path,
	    size_t nbytes, char *err, size_t errlen);

/* ---- the data key (datakey.c): secrets kept outside the database ---- */
int	 datakey_load(char *err, size_t errlen);
int	 datakey_loaded(void);
void	 datakey_free(void);
int	 datakey_sub(const char *label, unsigned char out[32]);
char	*datakey_seal(const char *label, const char *aad, const char *text);
char	*datakey_open(const char *label, const char *aad, const char *sealed);
int	 datakey_is_ours(const char *label, const char *sealed);
#define DK_OUTBOX	"fcgi-auth outbox aes-256-gcm"
#define DK_REFRESH	"fcgi-auth refresh successor"
#define DK_CAPTCHA	"fcgi-auth captcha code"

/* ---- validation (validate.c) ---- */
int	 valid_uuid(const char *);
int	 valid_username(const char *);
int	 valid_email(const char *);
int	 valid_https_url(const char *);
int	 valid_reqid(const char *);
size_t	 utf8_chars(const char *);
int	 has_control(const char *);
#define CANON_MAX	1024
void	 canon_ident(const char *in, char *out, size_t outlen);
int	 utf8_valid(const char *, size_t);
size_t	 utf8_sanitize(const char *in, char *out, size_t outlen);
int	 pw_load_common(const char *file);
int	 pw_is_common(const char *);
void	 pw_free_common(void);

/* ---- request (request.c) ---- */
enum method { M_GET, M_POST, M_PATCH, M_DELETE, M_PUT, M_HEAD, M_OPTIONS, M_OTHER };

struct auth {
	char	 uid[UUID_LEN + 1];	/* user id from a verified token/cookie */
	char	 sid[UUID_LEN + 1];	/* session id */
	char	 jti[UUID_LEN + 1];	/* token id */
	char	 email[256];		/* email claim */
	long long iat, exp;		/* token times */
	struct json_object *claims;	/* all verified claims, owned */
	int	 via_cookie;		/* authenticated by session cookies */
};

struct hdr {
	char	*line;			/* "Name: value", owned */
};

struct req {
	struct FCGX_Request *fcgx;	/* libfcgi request, borrowed */
	enum method method;		/* parsed REQUEST_METHOD */
	const char *method_str;		/* borrowed until finish */
	const char *path;		/* path below /api/v1, borrowed */
	const char *query;		/* QUERY_STRING, borrowed */
	const char *content_type;	/* CONTENT_TYPE or NULL */
	long long content_length;	/* -1 if absent */
	const char *remote_addr;	/* REMOTE_ADDR, "" if absent */
	const char *user_agent;		/* HTTP_USER_AGENT, "" if absent */
	const char *authorization;	/* HTTP_AUTHORIZATION or NULL */
	const char *cookie;		/* HTTP_COOKIE or NULL */
	const char *origin;		/* HTTP_ORIGIN or NULL */
	const char *fetch_site;		/* HTTP_SEC_FETCH_SITE or NULL */
	const char *host;		/* HTTP_HOST or NULL */
	const char *scheme;		/* REQUEST_SCHEME ("http" if absent) */
	const char *server_port;	/* SERVER_PORT or NULL */
	char	 reqid[REQID_MAX + 1];	/* echoed or generated X-Request-Id */
	char	 ua_buf[UA_MAX + 1];	/* User-Agent as valid, bounded UTF-8 */
	char	 addr_buf[ADDR_MAX + 1]; /* REMOTE_ADDR, likewise */
	char	 param[UUID_LEN + 8];	/* trailing path segment of R_PARAM routes */
	char	*body;			/* NUL-terminated body, owned */
	size_t	 body_len;		/* bytes in body */
	struct json_object *json;	/* parsed body object, owned */
	struct auth auth;		/* filled by dispatch for R_AUTH routes */
	int	 authed;		/* auth holds a verified identity */
	int	 route;			/* index in routes[], -1 if none */
	/* response state */
	int	 status;		/* 0 until a response is written */
	struct hdr hdrs[8];		/* extra response headers */
	size_t	 nhdrs;			/* used entries of hdrs */
	int	 no_store;		/* Cache-Control: no-store */
	struct timespec start;		/* for the access log */
};

void	 req_init(struct req *, struct FCGX_Request *, char **envp);
void	 req_free(struct req *);
const char *req_param(char **envp, const char *name);
int	 req_read_body(struct req *, size_t max);
int	 req_parse_json(struct req *, char *dupkey, size_t dupkeylen);
int	 json_strict_check(const char *, size_t, int maxdepth, char *dupkey,
	    size_t dupkeylen);
#define JSON_MAX_DEPTH	32
int	 req_same_origin(const struct req *);
int	 req_cookie(const char *header, const char *name, char *out, size_t outlen);
int	 req_bearer(const char *header, const char **tok, size_t *len);
int	 req_query(const char *query, const char *name, char *out, size_t outlen);
enum method req_method(const char *);
const char *method_name(enum method);

/* ---- response (response.c) ---- */
void	 resp_header(struct req *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 resp_json(struct req *, int status, struct json_object *body);
void	 resp_error(struct req *, enum api_err, const char *message);
void	 resp_error_extra(struct req *, enum api_err, const char *message,
	    struct json_object *extra);
int	 resp_status(enum api_err);
const char *resp_code(enum api_err);
size_t	 resp_render(struct req *, const char *body, size_t bodylen,
	    char **out);

/* ---- dispatch (dispatch.c) ---- */
typedef void (*handler_fn)(struct req *);
#define R_AUTH		0x01	/* Bearer access token required */
#define R_COOKIE	0x02	/* session cookies accepted instead of Bearer */
#define R_PARAM		0x04	/* path ends in one variable segment */
#define R_LOOPBACK	0x08	/* only from a loopback address */
#define R_HASH		0x10	/* hashes a password: the hash pool's */
struct route {
	enum method method;	/* HTTP method */
	const char *path;	/* below /api/v1; R_PARAM: prefix ending in '/' */
	handler_fn handler;	/* handle_<route> */
	unsigned flags;		/* R_* */
	size_t	 body_max;	/* 0: no body accepted; else cap in bytes */
};
void	 dispatch(struct req *);
int	 dispatch_metrics_labels(void);
const struct route *route_find(const char *path, enum method, int *path_known,
	    char *allow, size_t allowlen, char *param, size_t paramlen);

/* ---- database (db.c) ---- */
struct pg_result;
enum db_stmt {
	Q_USER_INSERT, Q_USER_BY_LOGIN, Q_USER_BY_ID, Q_USER_SET_HASH,
	Q_USER_UPDATE_PROFILE, Q_USER_SET_ROLE, Q_USER_ROLE,
	Q_SESSION_INSERT, Q_SESSION_ACTIVE, Q_SESSION_TRIM, Q_SESSION_REVOKE,
	Q_SESSION_REVOKE_USER, Q_SESSION_REVOKE_OTHERS, Q_SESSION_LIST,
	Q_SESSION_TOUCH, Q_SESSION_REVOKE_OWN,
	Q_RT_INSERT, Q_RT_LOOKUP, Q_REFRESH,
	Q_AUDIT,
	Q_OUTBOX_INSERT, Q_VERIFY_INSERT, Q_VERIFY_CONSUME, Q_USER_SET_VERIFIED,
	Q_USER_BY_EMAIL, Q_RESET_SET, Q_RESET_LOOKUP, Q_RESET_CONSUME,
	Q__MAX
};
int	 db_ok(void);
int	 db_ready(void);
struct pg_result *db_exec(enum db_stmt, int n, const char *const *params);
int	 db_begin(void);
int	 db_commit(void);
void	 db_rollback(void);
void	 db_close(void);
int	 db_down(void);
void	 resp_db_error(struct req *);
const char *db_sqlstate(void);
const char *db_constraint(void);
int	 db_connect_raw(void);
struct pg_conn *db_conn(void);
int	 db_audit(struct req *, const char *uid, const char *event,
	    const char *outcome);

/* ---- cache (cache.c) ---- */
struct redisReply;
int	 cache_ok(void);
struct redisReply *cache_cmd_at(const char *epoch, const char *fmt, ...);
#define cache_cmd(...)	cache_cmd_at(NULL, __VA_ARGS__)
const char *cache_epoch(void);
int	 cache_ready(void);
int	 cache_check_url(const char *url, char *err, size_t errlen);
void	 cache_close(void);

/* ---- sessions (session.c) ---- */
enum sess_state { SESS_ACTIVE, SESS_INACTIVE, SESS_UNAVAILABLE };
struct new_session {
	char	 sid[UUID_LEN + 1];		/* new session id */
	char	 refresh[TOKEN_B64_LEN + 1];	/* its first refresh token */
	long long idle_exp;			/* idle expiry, epoch s */
	long long abs_exp;			/* absolute expiry, epoch s */
	struct pg_result *trimmed;		/* sessions revoked by the limit */
};
enum sess_state session_check(const char *sid, const char *uid);
void	 session_mirror_set(const char *sid, const char *uid, long long exp);
int	 session_mirror_revoke(const char *sid, long long abs_exp);
int	 session_mirror_revoke_rows(struct pg_result *);
int	 session_revoke_commit(struct req *, struct pg_result *rows,
	    const char *uid, const char *event);
int	 session_create(struct req *, const char *uid, struct new_session *);
void	 session_free(struct new_session *);
void	 session_cookies(struct req *, const char *sid, const char *refresh,
	    long long max_age);
int	 session_successor(const char *token, char out[TOKEN_B64_LEN + 1]);
int	 auth_token(struct req *, const char *tok, size_t len, enum api_err *);
int	 auth_bearer(struct req *);
int	 auth_cookies(struct req *);

/* ---- jwt (jwt.c) ---- */
int	 jwt_init(char *err, size_t errlen);
void	 jwt_free(void);
char	*jwt_issue(const char *uid, const char *sid, const char *email,
	    long long now, char jti_out[UUID_LEN + 1]);
int	 jwt_verify(const char *tok, size_t len, long long now,
	    struct json_object **claims);
struct json_object *jwt_jwks(void);
int	 jwt_set_hs_secret(const unsigned char *, size_t);

/* ---- passwords (password.c) ---- */
int	 pw_init(void);
char	*pw_hash(const char *password);
char	*pw_normalize(const char *password);
int	 pw_verify(const char *password, const char *hash);
int	 pw_needs_rehash(const char *hash);
void	 pw_dummy_verify(const char *password);
int	 pw_check_rules(const char *pw, const char *username, const char *email,
	    const char **why);

/* ---- metrics (metrics.c): shared across the pool ---- */
enum metric {
	MET_LOGIN_SUCCESS, MET_LOGIN_FAILURE, MET_LOGIN_LIMITED,
	MET_LOGIN_UNVERIFIED, MET_REFRESH_REUSE, MET_RATE_LIMITED,
	MET_PG_CONNECT, MET_PG_CONNECT_FAIL, MET_REDIS_CONNECT,
	MET_REDIS_CONNECT_FAIL, MET_WORKER_RESTART, MET_PW_HASH,
	MET__MAX
};
int	 metrics_init(void);
void	 metrics_inc(enum metric);
void	 metrics_request(int route, int status, double seconds);
char	*metrics_render(size_t *len);
int	 metrics_set_routes(const char *const *labels, size_t n);
void	 resp_raw(struct req *, int status, const char *content_type,
	    const char *body, size_t len);

/* ---- worker/master (worker.c, main.c) ---- */
enum { POOL_FAST, POOL_HASH };
int	 worker_run(int listen_fd);
extern volatile int worker_stop;
extern int worker_pool;			/* this worker's POOL_* */
extern int worker_has_hash_pool;	/* the master runs a hash pool */
int	 migrate_run(const char *dir);

/* ---- handlers (handlers/[*].c) ---- */
void	 handle_ping(struct req *);
void	 handle_health(struct req *);
void	 handle_register(struct req *);
void	 handle_login(struct req *);
void	 handle_refresh(struct req *);
void	 handle_verify(struct req *);
void	 handle_me(struct req *);
void	 handle_user_info(struct req *);
void	 handle_user_info_patch(struct req *);
void	 handle_password_change(struct req *);
void	 handle_logout(struct req *);
void	 handle_logout_all(struct req *);
void	 handle_sessions_list(struct req *);
void	 handle_session_delete(struct req *);
void	 handle_jwks(struct req *);
void	 handle_metrics(struct req *);
void	 handle_captcha(struct req *);
void	 handle_verify_email(struct req *);
void	 handle_password_reset(struct req *);
void	 handle_password_reset_confirm(struct req *);

/* ---- mail (mail.c): queue a message in the caller's transaction ---- */
int	 mail_queue(const char *kind, const char *to, const char *subject,
	    const char *body);
int	 mail_link(char *out, size_t outlen, const char *base,
	    const char *token);
int	 captcha_check(const char *email, const char *code);
void	 captcha_key(const char *email, char out[65]);
void	 captcha_hash(const char *key, const char *code, char out[65]);

/* ---- rate limits (ratelimit.c) ---- */
int	 rl_init(void);
int	 rl_hit(const char *kind, const char *subject, long limit, long window,
	    long *retry_after);
void	 rl_clear(const char *kind, const char *subject);
int	 rl_over(const char *kind, const char *subject, long limit,
	    long *retry_after);
void	 resp_rate_limited(struct req *, long retry_after);

/* json helpers (validate.c): typed, bounded field access */
enum jf_res { JF_OK, JF_MISSING, JF_BAD };
void	 resp_field_error(struct req *, const char *field, const char *msg);
enum jf_res json_str(struct req *, const char *field, size_t maxlen,
	    const char **out);
enum jf_res json_token(struct req *, const char *field, const char **out);
enum jf_res json_str_any(struct req *, const char *const *names, size_t maxlen,
	    const char **out, const char **which);

#endif
