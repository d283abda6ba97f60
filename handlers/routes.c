/*
 * The route table: the only place a path string appears, and what each
 * route reads from its body. Aliases of a path are more rows pointing at
 * the same handler; aliases of a field (the API's user, account, psw)
 * are declared with the field. Dispatch checks all of it before the
 * handler runs (fcgi/dispatch.h, fcgi/fields.h).
 */
#include <stddef.h>

#include "authn.h"
#include "pat.h"
#include "routes.h"
#include "users.h"
#include "validate.h"

#define EMAIL_BAD   "Field 'email' must be a valid email address"
#define DISPLAY_BAD "Field 'display_name' must be at most 64 characters of text"
#define PW          1024 /* longest password accepted (the rules say 256) */

static const struct field captcha[] = {
	[CAPTCHA_TYPE] = { "type", { NULL }, FT_TEXT, 0, 32, valid_captcha_type,
	    "Field 'type' must be \"email\"", NULL },
	[CAPTCHA_EMAIL] = { "email", { "account" }, FT_TEXT, FF_REQUIRED, 320,
	    valid_email, EMAIL_BAD, EMAIL_BAD },
};
static const struct field reg[] = {
	[REG_EMAIL] = { "email", { "account" }, FT_TEXT, FF_REQUIRED, 320,
	    valid_email, "Field 'email' is not a valid email address", NULL },
	[REG_PASSWORD] = { "password", { "psw" }, FT_TEXT, FF_REQUIRED, PW,
	    NULL, NULL, NULL },
	[REG_USERNAME] = { "username", { NULL }, FT_TEXT, 0, 64, valid_username,
	    "Field 'username' must be 3-32 of A-Z a-z 0-9 _ . -", NULL },
	[REG_DISPLAY_NAME] = { "display_name", { NULL }, FT_TEXT, 0, 256,
	    valid_display_name, DISPLAY_BAD, NULL },
	[REG_CAPTCHA] = { "captcha", { NULL }, FT_TEXT, 0, 16, NULL, NULL,
	    NULL },
};
static const struct field login[] = {
	[LOGIN_IDENT] = { "username", { "email", "user", "account" }, FT_TEXT,
	    FF_REQUIRED | FF_NONEMPTY, 320, NULL, NULL,
	    "Field 'username' or 'email' is required" },
	[LOGIN_PASSWORD] = { "password", { "psw" }, FT_TEXT, FF_REQUIRED, PW,
	    NULL, NULL, NULL },
};
static const struct field refresh[] = {
	[REFRESH_TOKEN] = { "refresh_token", { NULL }, FT_TOKEN, 0, 0, NULL,
	    NULL, NULL },
};
static const struct field verify[] = {
	[VERIFY_TOKEN] = { "token", { NULL }, FT_TEXT, FF_REQUIRED,
	    BODY_MAX_DEFAULT, NULL, NULL, NULL },
};
static const struct field link[] = {
	[LINK_TOKEN] = { "token", { NULL }, FT_TOKEN, 0, 0, NULL, NULL, NULL },
};
static const struct field profile[] = {
	[PROFILE_DISPLAY_NAME] = { "display_name", { NULL }, FT_TEXT, 0, 256,
	    valid_display_name, DISPLAY_BAD, NULL },
	[PROFILE_AVATAR_URL] = { "avatar_url", { NULL }, FT_TEXT, 0, 2048,
	    valid_avatar_url,
	    "Field 'avatar_url' must be an https:// URL of at most 2048 bytes",
	    NULL },
};
static const struct field pwchange[] = {
	[PWC_CURRENT] = { "current_password", { NULL }, FT_TEXT, FF_REQUIRED,
	    PW, NULL, NULL, NULL },
	[PWC_NEW] = { "new_password", { NULL }, FT_TEXT, FF_REQUIRED, PW, NULL,
	    NULL, NULL },
};
static const struct field reset[] = {
	[RESET_EMAIL] = { "email", { NULL }, FT_TEXT, FF_REQUIRED, 320,
	    valid_email, EMAIL_BAD, EMAIL_BAD },
	[RESET_USERNAME] = { "username", { NULL }, FT_TEXT, 0, 64, NULL, NULL,
	    NULL },
};
static const struct field confirm[] = {
	[CONFIRM_NEW] = { "new_password", { NULL }, FT_TEXT, FF_REQUIRED, PW,
	    NULL, NULL, NULL },
	[CONFIRM_AGAIN] = { "new_password_confirm", { NULL }, FT_TEXT,
	    FF_REQUIRED, PW, NULL, NULL, NULL },
	[CONFIRM_TOKEN] = { "token", { NULL }, FT_TOKEN, 0, 0, NULL, NULL,
	    NULL },
};

static const struct field reauth[] = {
	[MFA_PASSWORD] = { "password", { NULL }, FT_TEXT, FF_REQUIRED, PW, NULL,
	    NULL, NULL },
};
static const struct field mfacode[] = {
	[MFA_CODE] = { "code", { NULL }, FT_TEXT, FF_REQUIRED | FF_NONEMPTY, 16,
	    NULL, NULL, NULL },
};
static const struct field mfaverify[] = {
	[MFA_V_TOKEN] = { "mfa_token", { NULL }, FT_TOKEN, 0, 0, NULL, NULL,
	    NULL },
	[MFA_V_CODE] = { "code", { NULL }, FT_TEXT, 0, 16, NULL, NULL, NULL },
	[MFA_V_RECOVERY] = { "recovery_code", { NULL }, FT_TEXT, 0, 32, NULL,
	    NULL, NULL },
};

static const struct field passkey[] = {
	[PK_NAME] = { "name", { NULL }, FT_TEXT, 0, 256, valid_display_name,
	    "Field 'name' must be at most 64 characters of text", NULL },
	[PK_MFA_TOKEN] = { "mfa_token", { NULL }, FT_TOKEN, 0, 0, NULL, NULL,
	    NULL },
};

static const struct field deletion[] = {
	[DEL_PASSWORD] = { "password", { NULL }, FT_TEXT, FF_REQUIRED, PW, NULL,
	    NULL, NULL },
	[DEL_CODE] = { "code", { NULL }, FT_TEXT, 0, 32, NULL, NULL, NULL },
};

static const struct field emailchange[] = {
	[EMC_NEW] = { "new_email", { NULL }, FT_TEXT, FF_REQUIRED, 320,
	    valid_email, "Field 'new_email' must be a valid email address",
	    NULL },
	[EMC_PASSWORD] = { "password", { NULL }, FT_TEXT, FF_REQUIRED, PW, NULL,
	    NULL, NULL },
	[EMC_CODE] = { "code", { NULL }, FT_TEXT, 0, 32, NULL, NULL, NULL },
};

static const struct field pat[] = {
	[TOK_NAME] = { "name", { NULL }, FT_TEXT, FF_REQUIRED | FF_NONEMPTY,
	    256, valid_display_name,
	    "Field 'name' must be at most 64 characters of text",
	    "Field 'name' is required: what the token is for" },
	[TOK_EXPIRES] = { "expires_in", { NULL }, FT_INT, 0, 315360000, NULL,
	    NULL, NULL },
	[TOK_SCOPES] = { "scopes", { NULL }, FT_LIST, 0, 64, valid_scope,
	    "Field 'scopes' must list scopes of a-z 0-9 : . _ -", NULL },
};
static const struct field admin_patch[] = {
	[ADM_ROLE] = { "role", { NULL }, FT_TEXT, 0, 16, valid_role,
	    "Field 'role' must be \"user\" or \"admin\"", NULL },
	[ADM_DISABLED] = { "disabled", { NULL }, FT_BOOL, 0, 0, NULL, NULL,
	    NULL },
	[ADM_VERIFIED] = { "email_verified", { NULL }, FT_BOOL, 0, 0, NULL,
	    NULL, NULL },
};

/* clang-format off: the table reads as columns */
#define B16K    BODY_MAX_DEFAULT
#define BODY(f) B16K, f, sizeof(f) / sizeof(f[0])
#define NOBODY  0, NULL, 0
#define ANYBODY B16K, NULL, 0
#define JSON    R_JSON
#define AUTH_C  (R_AUTH | R_COOKIE)
#define ADMIN   (R_AUTH | R_ADMIN)
static const struct route rows[] = {
	/* method    path                      handler                flags           body */
	{ M_GET, "/ping", handle_ping, 0, NOBODY },
	{ M_GET, "/health", handle_health, 0, NOBODY },
	{ M_POST, "/auth/captcha", handle_captcha, JSON, BODY(captcha) },
	{ M_POST, "/auth/register", handle_register, JSON | R_HASH, BODY(reg) },
	{ M_POST, "/register", handle_register, JSON | R_HASH, BODY(reg) },
	{ M_POST, "/auth/login", handle_login, JSON | R_HASH, BODY(login) },
	{ M_POST, "/login", handle_login, JSON | R_HASH, BODY(login) },
	{ M_POST, "/auth/refresh", handle_refresh, 0, BODY(refresh) },
	{ M_POST, "/refresh", handle_refresh, 0, BODY(refresh) },
	{ M_POST, "/auth/refresh-token", handle_refresh, 0, BODY(refresh) },
	{ M_POST, "/auth/verify", handle_verify, JSON, BODY(verify) },
	{ M_POST, "/verify", handle_verify, JSON, BODY(verify) },
	{ M_POST, "/auth/verify-email", handle_verify_email, 0, BODY(link) },
	{ M_GET, "/verify", handle_verify_email, 0, NOBODY },
	{ M_GET, "/auth/me", handle_me, R_AUTH | R_PAT, NOBODY },
	{ M_GET, "/me", handle_me, R_AUTH | R_PAT, NOBODY },
	{ M_GET, "/authorized/me", handle_me, R_AUTH | R_PAT, NOBODY },
	{ M_GET, "/auth/check", handle_check, 0, NOBODY },
	{ M_GET, "/auth/redirect", handle_redirect, 0, NOBODY },
	{ M_GET, "/user/info", handle_user_info, R_AUTH | R_PAT, NOBODY },
	{ M_PATCH, "/user/info", handle_user_info_patch, R_AUTH | JSON,
	    BODY(profile) },
	{ M_POST, "/user/delete", handle_user_delete, R_AUTH | JSON | R_HASH,
	    BODY(deletion) },
	{ M_POST, "/auth/email", handle_email_change, R_AUTH | JSON | R_HASH,
	    BODY(emailchange) },
	{ M_POST, "/auth/password", handle_password_change,
	    R_AUTH | JSON | R_HASH, BODY(pwchange) },
	{ M_POST, "/auth/logout", handle_logout, AUTH_C, ANYBODY },
	{ M_POST, "/logout", handle_logout, AUTH_C, ANYBODY },
	{ M_POST, "/auth/logout-all", handle_logout_all, AUTH_C, ANYBODY },
	{ M_POST, "/logout-all", handle_logout_all, AUTH_C, ANYBODY },
	{ M_POST, "/auth/revoke-all", handle_logout_all, AUTH_C, ANYBODY },
	{ M_GET, "/auth/sessions", handle_sessions_list, R_AUTH, NOBODY },
	{ M_DELETE, "/auth/sessions/", handle_session_delete, R_AUTH | R_PARAM,
	    NOBODY },
	{ M_POST, "/auth/password-reset", handle_password_reset, JSON,
	    BODY(reset) },
	{ M_POST, "/password-reset", handle_password_reset, JSON, BODY(reset) },
	{ M_POST, "/auth/password-reset-confirm", handle_password_reset_confirm,
	    JSON | R_HASH, BODY(confirm) },
	{ M_POST, "/password-reset-confirm", handle_password_reset_confirm,
	    JSON | R_HASH, BODY(confirm) },
	{ M_GET, "/auth/mfa", handle_mfa_status, R_AUTH, NOBODY },
	{ M_POST, "/auth/mfa/totp", handle_totp_setup, R_AUTH | JSON | R_HASH,
	    BODY(reauth) },
	{ M_DELETE, "/auth/mfa/totp", handle_totp_disable,
	    R_AUTH | JSON | R_HASH, BODY(reauth) },
	{ M_POST, "/auth/mfa/totp/confirm", handle_totp_confirm, R_AUTH | JSON,
	    BODY(mfacode) },
	{ M_POST, "/auth/mfa/recovery-codes", handle_recovery_codes,
	    R_AUTH | JSON, BODY(mfacode) },
	{ M_POST, "/auth/mfa/verify", handle_mfa_verify, JSON,
	    BODY(mfaverify) },
	{ M_POST, "/auth/passkeys/register/options", handle_passkey_reg_options,
	    R_AUTH, ANYBODY },
	{ M_POST, "/auth/passkeys/register", handle_passkey_register,
	    R_AUTH | JSON, BODY(passkey) },
	{ M_GET, "/auth/passkeys", handle_passkeys_list, R_AUTH, NOBODY },
	{ M_DELETE, "/auth/passkeys/", handle_passkey_delete, R_AUTH | R_PARAM,
	    NOBODY },
	{ M_PATCH, "/auth/passkeys/", handle_passkey_rename,
	    R_AUTH | R_PARAM | JSON, BODY(passkey) },
	{ M_POST, "/auth/passkeys/login/options", handle_passkey_login_options,
	    0, BODY(passkey) },
	{ M_POST, "/auth/passkeys/login", handle_passkey_login, JSON,
	    BODY(passkey) },
	{ M_POST, "/auth/tokens", handle_token_create, R_AUTH | JSON,
	    BODY(pat) },
	{ M_GET, "/auth/tokens", handle_tokens_list, R_AUTH, NOBODY },
	{ M_DELETE, "/auth/tokens/", handle_token_delete, R_AUTH | R_PARAM,
	    NOBODY },
	{ M_GET, "/admin/users", handle_admin_users, ADMIN, NOBODY },
	{ M_GET, "/admin/users/", handle_admin_user, ADMIN | R_PARAM, NOBODY },
	{ M_PATCH, "/admin/users/", handle_admin_user_patch,
	    ADMIN | R_PARAM | JSON, BODY(admin_patch) },
	{ M_POST, "/admin/users/{}/logout-all", handle_admin_logout_all,
	    ADMIN | R_PARAM, ANYBODY },
	{ M_DELETE, "/admin/users/{}/mfa", handle_admin_mfa_reset,
	    ADMIN | R_PARAM, NOBODY },
	{ M_GET, "/.well-known/jwks.json", handle_jwks, 0, NOBODY },
	{ M_GET, "/metrics", handle_metrics, R_LOOPBACK, NOBODY },
};

/* clang-format on */

const struct routes app_routes = { rows, sizeof(rows) / sizeof(rows[0]),
	authenticate };
