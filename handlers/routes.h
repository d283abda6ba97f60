/*
 * The application's routes (routes.c): the handlers, and for each route
 * that reads a body the index of each declared field in r->arg[].
 */
#ifndef FA_ROUTES_H
#define FA_ROUTES_H

#include "dispatch.h"

extern const struct routes app_routes;

enum { CAPTCHA_TYPE, CAPTCHA_EMAIL };
enum { REG_EMAIL, REG_PASSWORD, REG_USERNAME, REG_DISPLAY_NAME, REG_CAPTCHA };
enum { LOGIN_IDENT, LOGIN_PASSWORD };
enum { REFRESH_TOKEN };
enum { VERIFY_TOKEN };
enum { LINK_TOKEN }; /* verify-email */
enum { PROFILE_DISPLAY_NAME, PROFILE_AVATAR_URL };
enum { PWC_CURRENT, PWC_NEW };
enum { RESET_EMAIL, RESET_USERNAME };
enum { CONFIRM_NEW, CONFIRM_AGAIN, CONFIRM_TOKEN };
enum { MFA_PASSWORD };                            /* totp setup, removal */
enum { MFA_CODE };                                /* confirm, new codes */
enum { MFA_V_TOKEN, MFA_V_CODE, MFA_V_RECOVERY }; /* mfa/verify */
enum { PK_NAME, PK_MFA_TOKEN };                   /* passkeys */
enum { DEL_PASSWORD, DEL_CODE };                  /* user/delete */
enum { EMC_NEW, EMC_PASSWORD, EMC_CODE };         /* auth/email */
enum { TOK_NAME, TOK_EXPIRES, TOK_SCOPES };       /* auth/tokens */
enum { ADM_ROLE, ADM_DISABLED, ADM_VERIFIED };    /* admin/users/{id} */

int valid_captcha_type(const char *);

void handle_ping(struct req *);
void handle_health(struct req *);
void handle_metrics(struct req *);
void handle_jwks(struct req *);
void handle_captcha(struct req *);
void handle_register(struct req *);
void handle_login(struct req *);
void handle_refresh(struct req *);
void handle_verify(struct req *);
void handle_me(struct req *);
void handle_check(struct req *);
void handle_redirect(struct req *);
void handle_user_info(struct req *);
void handle_user_info_patch(struct req *);
void handle_password_change(struct req *);
void handle_logout(struct req *);
void handle_logout_all(struct req *);
void handle_sessions_list(struct req *);
void handle_session_delete(struct req *);
void handle_verify_email(struct req *);
void handle_email_change(struct req *);
void handle_token_create(struct req *);
void handle_tokens_list(struct req *);
void handle_token_delete(struct req *);
void handle_admin_users(struct req *);
void handle_admin_user(struct req *);
void handle_admin_user_patch(struct req *);
void handle_admin_logout_all(struct req *);
void handle_admin_mfa_reset(struct req *);
int email_change_confirm(struct req *, const char *hash);
void handle_password_reset(struct req *);
void handle_password_reset_confirm(struct req *);
void handle_totp_setup(struct req *);
void handle_totp_confirm(struct req *);
void handle_totp_disable(struct req *);
void handle_recovery_codes(struct req *);
void handle_mfa_verify(struct req *);
void handle_mfa_status(struct req *);
void handle_passkey_reg_options(struct req *);
void handle_passkey_register(struct req *);
void handle_passkeys_list(struct req *);
void handle_passkey_delete(struct req *);
void handle_passkey_rename(struct req *);
void handle_passkey_login_options(struct req *);
void handle_passkey_login(struct req *);
void handle_user_delete(struct req *);

#endif
